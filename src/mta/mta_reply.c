/* SPDX-License-Identifier: ISC */
/*
 * mta_reply.c - a remote server's reply, line by line (mta_reply.h).
 *
 * Process:  mta (the outbound client), and the tests.
 * Trust:    every byte is the remote's, which may be anyone on the
 *           Internet or a server that wants to crash us (CVE-2020-8794):
 *           lengths are checked before anything is copied, the count of
 *           lines is bounded, nothing from the reply is kept unchecked.
 * Limits:   MTA_REPLY_LINE_MAX, MTA_REPLY_LINES_MAX, MTA_REPLY_TEXT_MAX.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mta_reply.h"
#include "banned.h"

#define LINE_KEPT	128	/* bytes of a line kept for EHLO, with NUL */

void
mta_reply_init(struct mta_reply *r)
{
	memset(r, 0, sizeof(*r));
}

static int
digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 5321 4.2: 2yz..5yz, y in 0..5, z any digit. */
static int
reply_code(const char *p)
{
	if (p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' ||
	    !digit(p[2]))
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/*
 * An enhanced status code "C.SSS.DDD" (RFC 3463: class one digit, then
 * 1-3 and 1-3 digits) of class cls at p (n bytes), followed by a space
 * or the end: its length, or 0.
 */
static size_t
status_code(const char *p, size_t n, int cls)
{
	size_t	i = 0, part, digits;

	if (n < 5 || p[0] != '0' + cls || p[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; i < n && digit(p[i]) && digits < 3; i++)
			digits++;
		if (digits == 0)
			return 0;
		if (part == 0) {
			if (i >= n || p[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && p[i] != ' ')
		return 0;
	return i;
}

/* Append n bytes of text, printable ASCII only, within the limit. */
static void
text_add(struct mta_reply *r, const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n && r->textlen < MTA_REPLY_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)p[i];

		r->text[r->textlen++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	r->text[r->textlen] = '\0';
}

int
mta_reply_line(struct mta_reply *r, const char *line, size_t len,
    const char **why)
{
	const char	*t;
	size_t		 tlen, keep, s;
	int		 code, last;

	*why = NULL;
	if (r->done) {
		*why = "a line after the end of the reply";
		return MTA_REPLY_BAD;
	}
	if (len + 2 > MTA_REPLY_LINE_MAX) {
		*why = "a reply line longer than 512 octets";
		return MTA_REPLY_BAD;
	}
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) !=
	    NULL || memchr(line, '\n', len) != NULL) {
		*why = "a NUL, CR or LF inside a reply line";
		return MTA_REPLY_BAD;
	}
	if (len < 3 || (code = reply_code(line)) == -1) {
		*why = "a reply line without a valid reply code";
		return MTA_REPLY_BAD;
	}
	if (len > 3 && line[3] != ' ' && line[3] != '-') {
		*why = "a reply code not followed by a space or a hyphen";
		return MTA_REPLY_BAD;
	}
	if (r->nlines > 0 && code != r->code) {
		*why = "a multi-line reply whose codes differ";
		return MTA_REPLY_BAD;
	}
	if (r->nlines >= MTA_REPLY_LINES_MAX) {
		*why = "a reply of more than 100 lines";
		return MTA_REPLY_BAD;
	}
	r->code = code;
	last = len == 3 || line[3] == ' ';
	t = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;

	/* the line as it came, cut, for EHLO's keywords */
	keep = tlen < LINE_KEPT - 1 ? tlen : LINE_KEPT - 1;
	if (r->lineslen + keep + 1 <= sizeof(r->lines)) {
		memcpy(r->lines + r->lineslen, t, keep);
		r->lineslen += keep;
		r->lines[r->lineslen++] = '\0';
	}
	/* the status code: on the first line; dropped from every line */
	s = status_code(t, tlen, code / 100);
	if (r->nlines == 0 && s > 0 && s <= MTA_REPLY_STATUS_MAX) {
		memcpy(r->status, t, s);
		r->status[s] = '\0';
	}
	if (s > 0) {
		t += s;
		tlen -= s;
		while (tlen > 0 && *t == ' ') {
			t++;
			tlen--;
		}
	}
	if (r->nlines > 0 && r->textlen > 0)
		text_add(r, " / ", 3);
	text_add(r, t, tlen);
	r->nlines++;
	if (last) {
		r->done = 1;
		return MTA_REPLY_DONE;
	}
	return MTA_REPLY_MORE;
}

/* Is the keyword at p (n bytes, up to a space or the end) kw? */
static int
keyword_is(const char *p, size_t n, const char *kw)
{
	size_t	k = strlen(kw);

	return n == k && strncasecmp(p, kw, k) == 0;
}

void
mta_reply_ehlo(const struct mta_reply *r, struct mta_ehlo *e)
{
	const char	*p = r->lines, *end = r->lines + r->lineslen, *sp;
	size_t		 n, kwlen;
	unsigned int	 i;
	uint64_t	 v;

	memset(e, 0, sizeof(*e));
	/* the first line is the greeting's echo: the domain, not a keyword */
	for (i = 0; p < end; i++) {
		n = strlen(p);
		if (i == 0) {
			p += n + 1;
			continue;
		}
		sp = memchr(p, ' ', n);
		kwlen = sp != NULL ? (size_t)(sp - p) : n;
		if (keyword_is(p, kwlen, "STARTTLS"))
			e->exts |= MTA_EXT_STARTTLS;
		else if (keyword_is(p, kwlen, "8BITMIME"))
			e->exts |= MTA_EXT_8BITMIME;
		else if (keyword_is(p, kwlen, "SMTPUTF8"))
			e->exts |= MTA_EXT_SMTPUTF8;
		else if (keyword_is(p, kwlen, "PIPELINING"))
			e->exts |= MTA_EXT_PIPELINING;
		else if (keyword_is(p, kwlen, "CHUNKING"))
			e->exts |= MTA_EXT_CHUNKING;
		else if (keyword_is(p, kwlen, "DSN"))
			e->exts |= MTA_EXT_DSN;
		else if (keyword_is(p, kwlen, "ENHANCEDSTATUSCODES"))
			e->exts |= MTA_EXT_ENHANCED;
		else if (keyword_is(p, kwlen, "SIZE")) {
			e->exts |= MTA_EXT_SIZE;
			/* RFC 1870: an optional decimal limit, 0: none */
			v = 0;
			if (sp != NULL) {
				const char *q = sp + 1, *qe = p + n;

				for (; q < qe && digit(*q) &&
				    v <= (UINT64_MAX - 9) / 10; q++)
					v = v * 10 + (uint64_t)(*q - '0');
				if (q != qe)
					v = 0;	/* not a number: no limit known */
			}
			e->size = v;
		} else if (keyword_is(p, kwlen, "AUTH")) {
			const char *q = sp, *qe = p + n, *w;

			e->exts |= MTA_EXT_AUTH;
			while (q != NULL && q < qe) {
				while (q < qe && *q == ' ')
					q++;
				w = q;
				while (q < qe && *q != ' ')
					q++;
				if (keyword_is(w, (size_t)(q - w), "PLAIN"))
					e->auth_plain = 1;
			}
		}
		p += n + 1;
	}
}
