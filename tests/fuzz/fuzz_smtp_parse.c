/* SPDX-License-Identifier: ISC */
/*
 * fuzz_smtp_parse.c - libFuzzer target for every function of
 * smtp_parse.c.  The input, NUL-terminated, is fed to each parser as a
 * whole line, and as the arguments of the verb it starts with; MAIL and
 * RCPT run under every combination of offered extensions.  Any input
 * gives a result or an error; on success every value is NUL-terminated,
 * fits its buffer, holds no control character (a password no NUL), and
 * agrees with the parameters and extensions that allowed it.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_parse.h"
#include "log.h"
#include "sasl.h"
#include "banned.h"

#define EXT_ALL	(SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 | \
		    SMTP_EXT_DSN | SMTP_EXT_AUTH)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* s (len bytes) holds no byte below 0x20 and no DEL; 8-bit only if ok. */
static bool
fz_clean(const char *s, size_t len, bool eight_ok)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !eight_ok))
			return false;
	}
	return true;
}

static bool
fz_has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static void
fz_mail_check(const char *args, unsigned int exts, const struct smtp_mail *m)
{
	struct smtp_mail	again;
	char			line[SMTP_ADDR_MAX + 32];
	size_t			alen = strnlen(m->addr, sizeof(m->addr));
	int			n;

	SP_ASSERT(alen <= SMTP_ADDR_MAX);
	SP_ASSERT(strnlen(m->envid, sizeof(m->envid)) <= SMTP_ENVID_MAX);
	SP_ASSERT(strnlen(m->auth, sizeof(m->auth)) <= SMTP_ADDR_MAX);
	SP_ASSERT(fz_clean(m->addr, alen, m->smtputf8));
	SP_ASSERT(fz_clean(m->envid, strlen(m->envid), false));
	SP_ASSERT(fz_clean(m->auth, strlen(m->auth), false));
	SP_ASSERT(m->utf8 == fz_has_8bit(m->addr));
	SP_ASSERT(!m->utf8 || m->smtputf8);
	SP_ASSERT(m->has_size || m->size == 0);
	SP_ASSERT(!m->has_size || (exts & SMTP_EXT_SIZE));
	SP_ASSERT(m->body == SMTP_BODY_NONE || (exts & SMTP_EXT_8BITMIME));
	SP_ASSERT(!m->smtputf8 || (exts & SMTP_EXT_SMTPUTF8));
	SP_ASSERT((m->ret == SMTP_RET_NONE && m->envid[0] == '\0') ||
	    (exts & SMTP_EXT_DSN));
	SP_ASSERT(!m->has_auth || (exts & SMTP_EXT_AUTH));
	SP_ASSERT(m->has_auth || m->auth[0] == '\0');
	SP_ASSERT(alen == 0 ||
	    smtp_valid_mailbox(m->addr, alen, m->smtputf8) == 0);
	SP_ASSERT(m->auth[0] == '\0' ||
	    smtp_valid_mailbox(m->auth, strlen(m->auth), false) == 0);
	/* the address, alone in a path, parses to itself */
	n = snprintf(line, sizeof(line), "FROM:<%s>%s", m->addr,
	    m->utf8 ? " SMTPUTF8" : "");
	SP_ASSERT(n > 0 && (size_t)n < sizeof(line));
	SP_ASSERT(smtp_parse_mail(line, EXT_ALL, &again) == SMTP_P_OK);
	SP_ASSERT(strcmp(again.addr, m->addr) == 0);
	/* more extensions offered never change a success */
	SP_ASSERT(smtp_parse_mail(args, EXT_ALL, &again) == SMTP_P_OK);
	SP_ASSERT(strcmp(again.addr, m->addr) == 0 &&
	    again.utf8 == m->utf8 && again.size == m->size &&
	    again.has_size == m->has_size && again.body == m->body &&
	    again.smtputf8 == m->smtputf8 && again.ret == m->ret &&
	    strcmp(again.envid, m->envid) == 0 &&
	    again.has_auth == m->has_auth && strcmp(again.auth, m->auth) == 0);
}

static void
fz_rcpt_check(const char *args, unsigned int exts, bool smtputf8,
    const struct smtp_rcpt *r)
{
	struct smtp_rcpt	again;
	size_t			alen = strnlen(r->addr, sizeof(r->addr));
	size_t			olen = strnlen(r->orcpt, sizeof(r->orcpt));

	SP_ASSERT(alen > 0 && alen <= SMTP_ADDR_MAX);
	SP_ASSERT(olen <= SMTP_ORCPT_MAX);
	SP_ASSERT(fz_clean(r->addr, alen, smtputf8));
	SP_ASSERT(fz_clean(r->orcpt, olen, false));
	SP_ASSERT(r->utf8 == fz_has_8bit(r->addr));
	SP_ASSERT(olen == 0 || strchr(r->orcpt, ';') != NULL);
	SP_ASSERT((r->notify == 0 && olen == 0) || (exts & SMTP_EXT_DSN));
	SP_ASSERT((r->notify & ~(unsigned int)(SMTP_NOTIFY_NEVER |
	    SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE |
	    SMTP_NOTIFY_DELAY)) == 0);
	SP_ASSERT(!(r->notify & SMTP_NOTIFY_NEVER) ||
	    r->notify == SMTP_NOTIFY_NEVER);
	if (r->postmaster)
		SP_ASSERT(strcmp(r->addr, "postmaster") == 0);
	else
		SP_ASSERT(smtp_valid_mailbox(r->addr, alen, smtputf8) == 0);
	SP_ASSERT(smtp_parse_rcpt(args, EXT_ALL, true, &again) == SMTP_P_OK);
	SP_ASSERT(strcmp(again.addr, r->addr) == 0 &&
	    again.postmaster == r->postmaster && again.notify == r->notify &&
	    strcmp(again.orcpt, r->orcpt) == 0);
}

static void
fz_mail_rcpt(const char *args)
{
	struct smtp_mail	m;
	struct smtp_rcpt	r;
	unsigned int		exts;
	enum smtp_perr		e;
	int			u;

	for (exts = 0; exts <= EXT_ALL; exts++) {
		e = smtp_parse_mail(args, exts, &m);
		SP_ASSERT(e <= SMTP_P_TOOLONG);
		if (e == SMTP_P_OK)
			fz_mail_check(args, exts, &m);
		else
			SP_ASSERT(m.addr[0] == '\0' && !m.has_size);
		for (u = 0; u <= 1; u++) {
			e = smtp_parse_rcpt(args, exts, u, &r);
			SP_ASSERT(e <= SMTP_P_TOOLONG);
			if (e == SMTP_P_OK)
				fz_rcpt_check(args, exts, u, &r);
			else
				SP_ASSERT(r.addr[0] == '\0' && r.notify == 0);
		}
	}
}

static void
fz_auth(const char *args)
{
	static const char	 unset[] = "unset";
	char			 mech[21];
	const char		*ir = unset;
	size_t			 i;

	if (smtp_parse_auth(args, mech, &ir) == -1) {
		SP_ASSERT(mech[0] == '\0' && ir == NULL);
		return;
	}
	SP_ASSERT(strlen(mech) >= 1 && strlen(mech) <= 20);
	for (i = 0; mech[i] != '\0'; i++)
		SP_ASSERT((mech[i] >= 'A' && mech[i] <= 'Z') ||
		    (mech[i] >= '0' && mech[i] <= '9') || mech[i] == '-' ||
		    mech[i] == '_');
	SP_ASSERT(ir == NULL || (ir > args && ir <= args + strlen(args) &&
	    *ir != '\0' && strchr(ir, ' ') == NULL));
}

static void
fz_sasl(const char *b64)
{
	char		cid[64], big_cid[SASL_PLAIN_MAX];
	unsigned char	pw[16], big_pw[SASL_PLAIN_MAX], out[32];
	size_t		plen, len;
	int		r;

	if (sasl_plain_decode(b64, cid, sizeof(cid), pw, sizeof(pw),
	    &plen) == 0) {
		SP_ASSERT(strlen(cid) > 0 && strlen(cid) < sizeof(cid));
		SP_ASSERT(fz_clean(cid, strlen(cid), true));
		SP_ASSERT(plen > 0 && plen < sizeof(pw) && pw[plen] == '\0' &&
		    memchr(pw, '\0', plen) == NULL);
	} else
		SP_ASSERT(cid[0] == '\0' && pw[0] == '\0' && plen == 0);
	if (sasl_plain_decode(b64, big_cid, sizeof(big_cid), big_pw,
	    sizeof(big_pw), &plen) == 0) {
		SP_ASSERT(strlen(big_cid) > 0);
		SP_ASSERT(fz_clean(big_cid, strlen(big_cid), true));
		SP_ASSERT(plen > 0 && big_pw[plen] == '\0' &&
		    memchr(big_pw, '\0', plen) == NULL);
	}
	r = sasl_b64_line(b64, out, sizeof(out), &len);
	SP_ASSERT(r >= -1 && r <= 1);
	SP_ASSERT(r == 1 ? strcmp(b64, "*") == 0 : strcmp(b64, "*") != 0);
	if (r == 0)
		SP_ASSERT(len < sizeof(out) && out[len] == '\0' &&
		    memchr(out, '\0', len) == NULL);
	else
		SP_ASSERT(len == 0);
}

static void
fz_xtext(const uint8_t *data, size_t size)
{
	static const size_t	 sizes[] = { 1, 2, 8, SMTP_ENVID_MAX + 1,
	    SMTP_ORCPT_MAX + 1 };
	char			 out[SMTP_ORCPT_MAX + 1];
	size_t			 i, len;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(out, 'X', sizeof(out));
		if (smtp_xtext_decode((const char *)data, size, out,
		    sizes[i]) == -1) {
			SP_ASSERT(out[0] == '\0');
			continue;
		}
		len = strnlen(out, sizes[i]);
		SP_ASSERT(len < sizes[i] && len <= size);
		SP_ASSERT(fz_clean(out, len, false));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*args;
	char		*line;
	enum smtp_verb	 v;
	size_t		 len;
	int		 u;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	len = strlen(line);

	v = smtp_parse_verb(line, &args);
	SP_ASSERT(v <= SMTP_V_XSPTEST);
	SP_ASSERT(args >= line && args <= line + len);
	if (v == SMTP_V_UNKNOWN)
		SP_ASSERT(*args == '\0');
	else
		SP_ASSERT(args == line + len || args[-1] == ' ');

	fz_mail_rcpt(line);
	if (v == SMTP_V_MAIL || v == SMTP_V_RCPT)
		fz_mail_rcpt(args);

	if (smtp_valid_helo(line) == 0)
		SP_ASSERT(len > 0 && len <= SMTP_DOMAIN_MAX &&
		    fz_clean(line, len, false) && strchr(line, ' ') == NULL);
	if (v == SMTP_V_EHLO || v == SMTP_V_HELO)
		(void)smtp_valid_helo(args);

	/* the raw bytes, NULs included: a NUL is never part of a mailbox */
	for (u = 0; u <= 1; u++)
		if (smtp_valid_mailbox((const char *)data, size, u) == 0) {
			SP_ASSERT(size <= SMTP_ADDR_MAX && size == len);
			SP_ASSERT(fz_clean(line, len, u));
			SP_ASSERT(memchr(data, '@', size) != NULL);
			SP_ASSERT(smtp_valid_mailbox(line, len, true) == 0);
		}

	fz_xtext(data, size);
	fz_auth(line);
	fz_sasl(line);
	if (v == SMTP_V_AUTH) {
		fz_auth(args);
		if ((args = strchr(args, ' ')) != NULL)
			fz_sasl(args + 1);
	}
	free(line);
	return 0;
}
