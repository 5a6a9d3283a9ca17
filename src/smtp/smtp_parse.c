/* SPDX-License-Identifier: ISC */
/*
 * smtp_parse.c - pure parsers for SMTP command lines: the verb, MAIL and
 * RCPT paths with their ESMTP parameters, HELO/EHLO arguments, xtext,
 * and the AUTH command's SASL PLAIN and LOGIN payloads.
 *
 * Process:  smtp (before and after AUTH: every byte is hostile).
 * Trust:    the caller bounds the line (SMTP_LINE_MAX) and refuses NUL,
 *           bare CR and bare LF; these functions still take nothing for
 *           granted: every byte is checked against the grammar and every
 *           copy against the destination's size.  Output holds no NUL,
 *           CR, LF or other control character (a SASL password may hold
 *           anything but NUL).  Nothing is repaired: what does not parse
 *           is refused.
 * Limits:   SMTP_PATH_MAX, SMTP_ADDR_MAX, SMTP_LOCAL_MAX, SMTP_DOMAIN_MAX,
 *           SMTP_LABEL_MAX, SMTP_ENVID_MAX, SMTP_ORCPT_MAX, SMTP_SASL_MAX.
 * See also: smtp_parse.h (the contracts), tests/unit/test_smtp_parse.c,
 *           tests/fuzz/fuzz_smtp_parse.c.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "smtp_parse.h"
#include "banned.h"

#define SMTP_LABEL_MAX		63	/* RFC 1035 2.3.4, an LDH label */
#define SMTP_MECH_MAX		20	/* RFC 4422 3.1: sasl-mech */
#define SMTP_SIZE_DIGITS	20	/* RFC 1870 3: size-value */

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} smtp_verbs[] = {
	{ "HELO", SMTP_V_HELO }, { "EHLO", SMTP_V_EHLO },
	{ "MAIL", SMTP_V_MAIL }, { "RCPT", SMTP_V_RCPT },
	{ "DATA", SMTP_V_DATA }, { "BDAT", SMTP_V_BDAT },
	{ "RSET", SMTP_V_RSET }, { "NOOP", SMTP_V_NOOP },
	{ "QUIT", SMTP_V_QUIT }, { "HELP", SMTP_V_HELP },
	{ "VRFY", SMTP_V_VRFY }, { "EXPN", SMTP_V_EXPN },
	{ "STARTTLS", SMTP_V_STARTTLS }, { "AUTH", SMTP_V_AUTH },
	{ "XSPTEST", SMTP_V_XSPTEST }
};

static bool
smtp_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
smtp_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
smtp_alnum(unsigned char c)
{
	return smtp_alpha(c) || smtp_digit(c);
}

/* RFC 5322 3.2.3 atext (RFC 5321 4.1.2 Atom). */
static bool
smtp_atext(unsigned char c)
{
	return smtp_alnum(c) ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* s[0..len) is word, ignoring ASCII case. */
static bool
smtp_word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/*
 * The length of the UTF-8 sequence of one non-ASCII character at s, at
 * most len bytes (RFC 3629 4: no overlong forms, no surrogates, nothing
 * above U+10FFFF), or 0 when there is none.  SECURITY: the C1 controls
 * U+0080..U+009F are refused like the C0 ones.
 */
static size_t
smtp_utf8_len(const unsigned char *s, size_t len)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (len == 0)
		return 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (len < n)
		return 0;
	switch (s[0]) {
	case 0xe0:
		lo = 0xa0;	/* overlong */
		break;
	case 0xed:
		hi = 0x9f;	/* surrogates */
		break;
	case 0xf0:
		lo = 0x90;	/* overlong */
		break;
	case 0xf4:
		hi = 0x8f;	/* above U+10FFFF */
		break;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	if (s[0] == 0xc2 && s[1] <= 0x9f)
		return 0;	/* C1 control */
	return n;
}

static bool
smtp_has_8bit(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/*
 * An address literal "[1.2.3.4]" or "[IPv6:...]" (RFC 5321 4.1.3).
 * General-address-literal (a tag other than IPv6) is refused: none is
 * standardized.  inet_pton is strict: IPv4 takes exactly four decimal
 * parts without leading zeros.
 */
static int
smtp_addr_literal(const char *s, size_t len)
{
	char		 buf[INET6_ADDRSTRLEN];
	unsigned char	 a[sizeof(struct in6_addr)];
	int		 af = AF_INET;
	size_t		 i;
	unsigned char	 c;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return -1;
	s++;
	len -= 2;
	if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		af = AF_INET6;
		s += 5;
		len -= 5;
	}
	if (len >= sizeof(buf))
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (smtp_digit(c) || c == '.')
			continue;
		if (af == AF_INET6 && (c == ':' || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			continue;
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, a) == 1 ? 0 : -1;
}

/*
 * RFC 5321 4.1.2 Domain: sub-domains of letters, digits and inner
 * hyphens, each at most SMTP_LABEL_MAX; with utf8_ok also U-labels (RFC
 * 6531 3.3), checked only for UTF-8 and the same ASCII rules.  With
 * literal_ok an address literal instead.
 */
static enum smtp_perr
smtp_domain(const char *s, size_t len, bool utf8_ok, bool literal_ok)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, start, n;
	bool			 ascii;

	if (len == 0)
		return SMTP_P_ADDRESS;
	if (s[0] == '[') {
		if (literal_ok && smtp_addr_literal(s, len) == 0)
			return SMTP_P_OK;
		return SMTP_P_ADDRESS;
	}
	if (len > SMTP_DOMAIN_MAX)
		return SMTP_P_TOOLONG;
	for (;;) {
		start = i;
		ascii = true;
		while (i < len && u[i] != '.') {
			if (u[i] >= 0x80) {
				if (!utf8_ok ||
				    (n = smtp_utf8_len(u + i, len - i)) == 0)
					return SMTP_P_ADDRESS;
				ascii = false;
				i += n;
			} else if (smtp_alnum(u[i]) || u[i] == '-')
				i++;
			else
				return SMTP_P_ADDRESS;
		}
		/* an empty label also catches a leading or trailing dot */
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return SMTP_P_ADDRESS;
		/* a U-label's limit is its A-label's: not known here */
		if (ascii && i - start > SMTP_LABEL_MAX)
			return SMTP_P_TOOLONG;
		if (i == len)
			return SMTP_P_OK;
		i++;			/* the dot */
	}
}

/*
 * RFC 5321 4.1.2 Mailbox (RFC 6531 3.3 with utf8_ok).  Lengths are
 * octets as sent: a quoted local part counts its quotes and backslashes.
 */
static enum smtp_perr
smtp_mailbox(const char *s, size_t len, bool utf8_ok)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, n, start;

	if (len > SMTP_ADDR_MAX)
		return SMTP_P_TOOLONG;
	if (len > 0 && u[0] == '"') {
		/* Quoted-string: qtextSMTP and quoted-pairSMTP */
		for (i = 1; ; ) {
			if (i >= len)
				return SMTP_P_ADDRESS;
			if (u[i] == '"') {
				i++;
				break;
			}
			if (u[i] == '\\') {
				if (i + 1 >= len || u[i + 1] < 0x20 ||
				    u[i + 1] > 0x7e)
					return SMTP_P_ADDRESS;
				i += 2;
			} else if (u[i] >= 0x80) {
				if (!utf8_ok ||
				    (n = smtp_utf8_len(u + i, len - i)) == 0)
					return SMTP_P_ADDRESS;
				i += n;
			} else if (u[i] >= 0x20 && u[i] <= 0x7e)
				i++;
			else
				return SMTP_P_ADDRESS;	/* controls */
		}
	} else {
		/* Dot-string: Atom *("." Atom) */
		for (;;) {
			start = i;
			while (i < len) {
				if (smtp_atext(u[i]))
					i++;
				else if (u[i] >= 0x80 && utf8_ok &&
				    (n = smtp_utf8_len(u + i, len - i)) != 0)
					i += n;
				else
					break;
			}
			if (i == start)
				return SMTP_P_ADDRESS;
			if (i < len && u[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i > SMTP_LOCAL_MAX)
		return SMTP_P_TOOLONG;
	if (i >= len || u[i] != '@')
		return SMTP_P_ADDRESS;
	i++;
	return smtp_domain(s + i, len - i, utf8_ok, true);
}

int
smtp_valid_mailbox(const char *s, size_t len, bool utf8_ok)
{
	return smtp_mailbox(s, len, utf8_ok) == SMTP_P_OK ? 0 : -1;
}

int
smtp_valid_helo(const char *s)
{
	size_t	len;

	/* RFC 5321 4.1.1.1; EHLO comes before SMTPUTF8: ASCII only */
	if ((len = strnlen(s, SMTP_DOMAIN_MAX + 1)) > SMTP_DOMAIN_MAX)
		return -1;
	return smtp_domain(s, len, false, true) == SMTP_P_OK ? 0 : -1;
}

enum smtp_verb
smtp_parse_verb(const char *line, const char **args_r)
{
	size_t	len, i;

	for (len = 0; line[len] != '\0' && line[len] != ' '; len++)
		;
	for (i = 0; i < sizeof(smtp_verbs) / sizeof(smtp_verbs[0]); i++) {
		if (!smtp_word_is(line, len, smtp_verbs[i].name))
			continue;
		*args_r = line[len] == ' ' ? line + len + 1 : line + len;
		return smtp_verbs[i].verb;
	}
	*args_r = line + len + strlen(line + len);
	return SMTP_V_UNKNOWN;
}

/* A path (RFC 5321 4.1.2), split by smtp_path_split(). */
struct smtp_path {
	const char	*mbx;		/* the Mailbox, not yet checked */
	size_t		 mbxlen;	/* 0: "<>" */
	bool		 route;		/* it had a source route */
	bool		 route8;	/* with an 8-bit byte */
};

/*
 * The path at *pp: "<" [A-d-l ":"] Mailbox ">" or "<>".  The mailbox is
 * checked later: that needs SMTPUTF8 from the parameters.  Source routes
 * are checked (U-labels allowed; the caller refuses them without
 * SMTPUTF8) and dropped (RFC 5321 4.1.2, appendix C).  *pp moves past the
 * ">".
 */
static enum smtp_perr
smtp_path_split(const char **pp, struct smtp_path *path)
{
	const char	*p = *pp, *end, *c, *d;
	bool		 quoted = false;
	enum smtp_perr	 r;

	memset(path, 0, sizeof(*path));
	if (*p != '<')
		return SMTP_P_SYNTAX;
	for (end = p + 1; ; end++) {
		if (*end == '\0')
			return SMTP_P_SYNTAX;	/* no ">" */
		if (quoted && *end == '\\') {
			if (*++end == '\0')
				return SMTP_P_SYNTAX;
		} else if (*end == '"')
			quoted = !quoted;
		else if (!quoted && *end == '>')
			break;
	}
	/* RFC 5321 4.5.3.1.3: 256 octets, with the punctuation */
	if ((size_t)(end - p) + 1 > SMTP_PATH_MAX)
		return SMTP_P_TOOLONG;
	c = p + 1;
	if (*c == '@') {
		/* A-d-l: At-domain *( "," At-domain ) ":" */
		path->route = true;
		for (;;) {
			c++;		/* the "@" */
			for (d = c; d < end && *d != ',' && *d != ':'; d++)
				;
			if (d == end)
				return SMTP_P_ADDRESS;
			r = smtp_domain(c, (size_t)(d - c), true, false);
			if (r != SMTP_P_OK)
				return r;
			if (smtp_has_8bit(c, (size_t)(d - c)))
				path->route8 = true;
			c = d + 1;
			if (*d == ':')
				break;
			if (c == end || *c != '@')
				return SMTP_P_ADDRESS;
		}
		if (c == end)
			return SMTP_P_ADDRESS;	/* a route, then nothing */
	}
	path->mbx = c;
	path->mbxlen = (size_t)(end - c);
	*pp = end + 1;
	return SMTP_P_OK;
}

/*
 * One esmtp-param (RFC 5321 4.1.2) at *pp: the keyword, and the value or
 * NULL.  Keyword syntax and value characters are checked here (8-bit
 * bytes are left to the value checks, which all refuse them); *pp moves
 * to the end of the line, or past exactly one space before the next one.
 */
static enum smtp_perr
smtp_param_next(const char **pp, const char **kw_r, size_t *kwlen_r,
    const char **val_r, size_t *vallen_r)
{
	const char	*p = *pp;
	unsigned char	 c;

	*kw_r = p;
	if (!smtp_alnum((unsigned char)*p))
		return SMTP_P_SYNTAX;
	while (smtp_alnum((unsigned char)*p) || *p == '-')
		p++;
	*kwlen_r = (size_t)(p - *kw_r);
	*val_r = NULL;
	*vallen_r = 0;
	if (*p == '=') {
		*val_r = ++p;
		/* esmtp-value: %d33-60 / %d62-126, RFC 6531: UTF-8 */
		for (; (c = (unsigned char)*p) != '\0' && c != ' '; p++)
			if (c < 33 || c == '=' || c == 127)
				return SMTP_P_SYNTAX;
		*vallen_r = (size_t)(p - *val_r);
	}
	if (*p == ' ') {
		p++;
		if (*p == '\0' || *p == ' ')
			return SMTP_P_SYNTAX;	/* trailing or double space */
	} else if (*p != '\0')
		return SMTP_P_SYNTAX;
	*pp = p;
	return SMTP_P_OK;
}

static enum smtp_perr
mail_size(const char *v, size_t len, struct smtp_mail *m)
{
	uint64_t	n = 0;
	size_t		i;

	/* RFC 1870 3: size-value = 1*20DIGIT */
	if (v == NULL || len == 0 || len > SMTP_SIZE_DIGITS)
		return SMTP_P_PARAM_VALUE;
	for (i = 0; i < len; i++) {
		if (!smtp_digit((unsigned char)v[i]))
			return SMTP_P_PARAM_VALUE;
		if (n > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return SMTP_P_PARAM_VALUE;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	m->size = n;
	m->has_size = true;
	return SMTP_P_OK;
}

static enum smtp_perr
mail_body(const char *v, size_t len, struct smtp_mail *m)
{
	if (v != NULL && smtp_word_is(v, len, "7BIT"))
		m->body = SMTP_BODY_7BIT;
	else if (v != NULL && smtp_word_is(v, len, "8BITMIME"))
		m->body = SMTP_BODY_8BITMIME;
	else
		return SMTP_P_PARAM_VALUE;
	return SMTP_P_OK;
}

static enum smtp_perr
mail_smtputf8(const char *v, size_t len, struct smtp_mail *m)
{
	(void)len;
	if (v != NULL)
		return SMTP_P_PARAM_VALUE;	/* RFC 6531 3.4: no value */
	m->smtputf8 = true;
	return SMTP_P_OK;
}

static enum smtp_perr
mail_ret(const char *v, size_t len, struct smtp_mail *m)
{
	if (v != NULL && smtp_word_is(v, len, "FULL"))
		m->ret = SMTP_RET_FULL;
	else if (v != NULL && smtp_word_is(v, len, "HDRS"))
		m->ret = SMTP_RET_HDRS;
	else
		return SMTP_P_PARAM_VALUE;
	return SMTP_P_OK;
}

static enum smtp_perr
mail_envid(const char *v, size_t len, struct smtp_mail *m)
{
	/* RFC 3461 4.4: xtext, printable US-ASCII once decoded */
	if (v == NULL || len == 0 ||
	    smtp_xtext_decode(v, len, m->envid, sizeof(m->envid)) == -1)
		return SMTP_P_PARAM_VALUE;
	return SMTP_P_OK;
}

static enum smtp_perr
mail_auth(const char *v, size_t len, struct smtp_mail *m)
{
	size_t	alen;

	/* RFC 4954 5: AUTH=xtext of an addr-spec, or AUTH=<> */
	if (v == NULL || len == 0 ||
	    smtp_xtext_decode(v, len, m->auth, sizeof(m->auth)) == -1)
		return SMTP_P_PARAM_VALUE;
	alen = strlen(m->auth);
	if (alen == 2 && memcmp(m->auth, "<>", 2) == 0)
		m->auth[0] = '\0';
	else if (smtp_mailbox(m->auth, alen, false) != SMTP_P_OK)
		return SMTP_P_PARAM_VALUE;
	m->has_auth = true;
	return SMTP_P_OK;
}

static const struct {
	const char	*kw;
	unsigned int	 ext;
	enum smtp_perr	(*fn)(const char *, size_t, struct smtp_mail *);
} mail_params[] = {
	{ "SIZE", SMTP_EXT_SIZE, mail_size },
	{ "BODY", SMTP_EXT_8BITMIME, mail_body },
	{ "SMTPUTF8", SMTP_EXT_SMTPUTF8, mail_smtputf8 },
	{ "RET", SMTP_EXT_DSN, mail_ret },
	{ "ENVID", SMTP_EXT_DSN, mail_envid },
	{ "AUTH", SMTP_EXT_AUTH, mail_auth }
};

static enum smtp_perr
rcpt_notify(const char *v, size_t len, struct smtp_rcpt *r)
{
	unsigned int	 bits = 0;
	const char	*end, *comma;
	size_t		 n;

	/* RFC 3461 4.1: "NEVER", or a list of SUCCESS, FAILURE, DELAY */
	if (v == NULL)
		return SMTP_P_PARAM_VALUE;
	for (end = v + len; ; v = comma + 1) {
		for (comma = v; comma < end && *comma != ','; comma++)
			;
		n = (size_t)(comma - v);
		if (smtp_word_is(v, n, "NEVER"))
			bits |= SMTP_NOTIFY_NEVER;
		else if (smtp_word_is(v, n, "SUCCESS"))
			bits |= SMTP_NOTIFY_SUCCESS;
		else if (smtp_word_is(v, n, "FAILURE"))
			bits |= SMTP_NOTIFY_FAILURE;
		else if (smtp_word_is(v, n, "DELAY"))
			bits |= SMTP_NOTIFY_DELAY;
		else
			return SMTP_P_PARAM_VALUE;	/* also empty */
		if (comma == end)
			break;
	}
	if ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER)
		return SMTP_P_PARAM_VALUE;
	r->notify = bits;
	return SMTP_P_OK;
}

static enum smtp_perr
rcpt_orcpt(const char *v, size_t len, struct smtp_rcpt *r)
{
	size_t	t;

	/* RFC 3461 4.2: addr-type ";" xtext, addr-type an atom */
	if (v == NULL)
		return SMTP_P_PARAM_VALUE;
	for (t = 0; t < len && v[t] != ';'; t++)
		if (!smtp_atext((unsigned char)v[t]) || v[t] == '=')
			return SMTP_P_PARAM_VALUE;
	if (t == 0 || t == len || t + 1 == len)
		return SMTP_P_PARAM_VALUE;	/* no type, ";" or address */
	if (t + 1 >= sizeof(r->orcpt))
		return SMTP_P_PARAM_VALUE;
	memcpy(r->orcpt, v, t + 1);
	if (smtp_xtext_decode(v + t + 1, len - t - 1, r->orcpt + t + 1,
	    sizeof(r->orcpt) - t - 1) == -1) {
		r->orcpt[0] = '\0';
		return SMTP_P_PARAM_VALUE;
	}
	return SMTP_P_OK;
}

static const struct {
	const char	*kw;
	unsigned int	 ext;
	enum smtp_perr	(*fn)(const char *, size_t, struct smtp_rcpt *);
} rcpt_params[] = {
	{ "NOTIFY", SMTP_EXT_DSN, rcpt_notify },
	{ "ORCPT", SMTP_EXT_DSN, rcpt_orcpt }
};

/* The checks of a path's mailbox, once SMTPUTF8 is known. */
static enum smtp_perr
smtp_path_addr(const struct smtp_path *path, bool utf8_ok, char *addr,
    size_t addrlen, bool *utf8_r)
{
	enum smtp_perr	r;

	*utf8_r = smtp_has_8bit(path->mbx, path->mbxlen);
	if ((*utf8_r || path->route8) && !utf8_ok)
		return SMTP_P_UTF8;		/* RFC 6531 3.6: 553 5.6.7 */
	if ((r = smtp_mailbox(path->mbx, path->mbxlen, utf8_ok)) !=
	    SMTP_P_OK)
		return r;
	if (path->mbxlen >= addrlen)
		return SMTP_P_TOOLONG;		/* not reached: <= 254 */
	memcpy(addr, path->mbx, path->mbxlen);
	addr[path->mbxlen] = '\0';
	return SMTP_P_OK;
}

/*
 * After the path: nothing, or one space and parameters (RFC 5321 4.1.2:
 * exactly one SP before and between them, none after).
 */
static enum smtp_perr
smtp_path_end(const char **pp)
{
	if (**pp == '\0')
		return SMTP_P_OK;
	if (**pp != ' ' || (*pp)[1] == '\0')
		return SMTP_P_SYNTAX;
	(*pp)++;
	return SMTP_P_OK;
}

static enum smtp_perr
smtp_parse_mail1(const char *args, unsigned int exts, struct smtp_mail *m)
{
	struct smtp_path path;
	const char	*p, *kw, *val;
	size_t		 kwlen, vallen, i;
	unsigned int	 seen = 0;
	enum smtp_perr	 r;

	/* RFC 5321 4.1.1.2, 3.3: no space before the path */
	if (strncasecmp(args, "FROM:", 5) != 0)
		return SMTP_P_SYNTAX;
	p = args + 5;
	if ((r = smtp_path_split(&p, &path)) != SMTP_P_OK ||
	    (r = smtp_path_end(&p)) != SMTP_P_OK)
		return r;
	while (*p != '\0') {
		if ((r = smtp_param_next(&p, &kw, &kwlen, &val, &vallen)) !=
		    SMTP_P_OK)
			return r;
		for (i = 0; i < sizeof(mail_params) / sizeof(mail_params[0]);
		    i++)
			if (smtp_word_is(kw, kwlen, mail_params[i].kw))
				break;
		if (i == sizeof(mail_params) / sizeof(mail_params[0]) ||
		    (exts & mail_params[i].ext) == 0 || (seen & (1U << i)))
			return SMTP_P_PARAM;
		seen |= 1U << i;
		if ((r = mail_params[i].fn(val, vallen, m)) != SMTP_P_OK)
			return r;
	}
	if (path.mbxlen == 0) {
		m->addr[0] = '\0';		/* the null reverse-path */
		return SMTP_P_OK;
	}
	return smtp_path_addr(&path, m->smtputf8, m->addr, sizeof(m->addr),
	    &m->utf8);
}

enum smtp_perr
smtp_parse_mail(const char *args, unsigned int exts, struct smtp_mail *m)
{
	enum smtp_perr	r;

	memset(m, 0, sizeof(*m));
	if ((r = smtp_parse_mail1(args, exts, m)) != SMTP_P_OK)
		memset(m, 0, sizeof(*m));
	return r;
}

static enum smtp_perr
smtp_parse_rcpt1(const char *args, unsigned int exts, bool smtputf8,
    struct smtp_rcpt *rc)
{
	struct smtp_path path;
	const char	*p, *kw, *val;
	size_t		 kwlen, vallen, i;
	unsigned int	 seen = 0;
	enum smtp_perr	 r;

	/* RFC 5321 4.1.1.3, 3.3: no space before the path */
	if (strncasecmp(args, "TO:", 3) != 0)
		return SMTP_P_SYNTAX;
	p = args + 3;
	if ((r = smtp_path_split(&p, &path)) != SMTP_P_OK ||
	    (r = smtp_path_end(&p)) != SMTP_P_OK)
		return r;
	while (*p != '\0') {
		if ((r = smtp_param_next(&p, &kw, &kwlen, &val, &vallen)) !=
		    SMTP_P_OK)
			return r;
		for (i = 0; i < sizeof(rcpt_params) / sizeof(rcpt_params[0]);
		    i++)
			if (smtp_word_is(kw, kwlen, rcpt_params[i].kw))
				break;
		if (i == sizeof(rcpt_params) / sizeof(rcpt_params[0]) ||
		    (exts & rcpt_params[i].ext) == 0 || (seen & (1U << i)))
			return SMTP_P_PARAM;
		seen |= 1U << i;
		if ((r = rcpt_params[i].fn(val, vallen, rc)) != SMTP_P_OK)
			return r;
	}
	if (path.mbxlen == 0)
		return SMTP_P_ADDRESS;		/* <> is only a reverse-path */
	/* RFC 5321 4.5.1: "<Postmaster>", any case, no domain, no route */
	if (!path.route && smtp_word_is(path.mbx, path.mbxlen,
	    "Postmaster")) {
		rc->postmaster = true;
		memcpy(rc->addr, "postmaster", sizeof("postmaster"));
		return SMTP_P_OK;
	}
	return smtp_path_addr(&path, smtputf8, rc->addr, sizeof(rc->addr),
	    &rc->utf8);
}

enum smtp_perr
smtp_parse_rcpt(const char *args, unsigned int exts, bool smtputf8,
    struct smtp_rcpt *rc)
{
	enum smtp_perr	r;

	memset(rc, 0, sizeof(*rc));
	if ((r = smtp_parse_rcpt1(args, exts, smtputf8, rc)) != SMTP_P_OK)
		memset(rc, 0, sizeof(*rc));
	return r;
}

static int
smtp_hexval(unsigned char c)
{
	/* RFC 3461 4: upper-case hex digits only */
	if (smtp_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
smtp_xtext_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t		i, o = 0;
	unsigned char	c;
	int		hi, lo;

	if (outlen == 0)
		return -1;
	for (i = 0; i < len; ) {
		c = (unsigned char)in[i];
		if (c == '+') {
			if (len - i < 3)
				goto bad;		/* "+4" at the end */
			hi = smtp_hexval((unsigned char)in[i + 1]);
			lo = smtp_hexval((unsigned char)in[i + 2]);
			if (hi == -1 || lo == -1)
				goto bad;
			c = (unsigned char)(hi << 4 | lo);
			/* SECURITY: no CR, LF, NUL, controls or 8-bit */
			if (c < 0x20 || c > 0x7e)
				goto bad;
			i += 3;
		} else {
			/* xchar: "!" to "~" except "+" and "=" */
			if (c < 0x21 || c > 0x7e || c == '=')
				goto bad;
			i++;
		}
		if (o >= outlen - 1)
			goto bad;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
bad:
	memset(out, 0, outlen);
	return -1;
}

/* base64 of RFC 4648 4 with padding, or "=" (RFC 4954 4: empty). */
static bool
smtp_b64_syntax(const char *s)
{
	size_t		len = strlen(s), i;
	unsigned char	c;

	if (len == 1 && s[0] == '=')
		return true;
	if (len == 0 || len % 4 != 0)
		return false;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (smtp_alnum(c) || c == '+' || c == '/')
			continue;
		/* padding: only the last one or two characters */
		if (c == '=' && (i == len - 1 ||
		    (i == len - 2 && s[len - 1] == '=')))
			continue;
		return false;
	}
	return true;
}

int
smtp_parse_auth(const char *args, char mech[21], const char **initial_r)
{
	size_t		i;
	unsigned char	c;

	*initial_r = NULL;
	mech[0] = '\0';
	/* RFC 4422 3.1: 1*20 of upper-case letters, digits, "-", "_" */
	for (i = 0; args[i] != '\0' && args[i] != ' '; i++) {
		c = (unsigned char)args[i];
		if (i >= SMTP_MECH_MAX ||
		    !(smtp_alnum(c) || c == '-' || c == '_'))
			goto bad;
		mech[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	if (i == 0)
		goto bad;
	mech[i] = '\0';
	if (args[i] == '\0')
		return 0;
	if (!smtp_b64_syntax(args + i + 1))
		goto bad;
	*initial_r = args + i + 1;
	return 0;
bad:
	mech[0] = '\0';
	return -1;
}

