/* SPDX-License-Identifier: ISC */
/*
 * fuzz_spam_parse.c - libFuzzer target for the rspamd reply parser and
 * the header lines made from its result (filter_spam.c).  The input is
 * a /checkv2 reply, copied to a buffer of exactly its size so that ASan
 * sees a read past it.  Invariants, checked here without the parser's
 * help:
 *  - failure: *r is all zero and the error is one printable line;
 *  - success: scores within +-SPAM_SCORE_CLAMP, every enum in range,
 *    symbols NUL-terminated within its array, only [A-Z0-9_] names
 *    separated by single commas; the same input parses the same way
 *    twice;
 *  - spam_headers on every success, with our host name and with one
 *    taken from the input (sanitized or "unknown"): printable ASCII, TAB
 *    and CR LF pairs only, lines within 998 bytes, every continuation
 *    line starting with TAB, the score lines printing the clamped score,
 *    the tests= list unfolded equal to the symbols; one byte less of
 *    buffer is -1.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "filter_spam.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_OUT_MAX	8192

static const char fuzz_namechars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";

static void
check_printable(const char *s)
{
	for (; *s != '\0'; s++)
		SP_ASSERT(*s >= 0x20 && *s <= 0x7e);
}

static void
check_result(const struct spam_result *r)
{
	size_t	i, n;

	SP_ASSERT(r->score >= -SPAM_SCORE_CLAMP &&
	    r->score <= SPAM_SCORE_CLAMP);
	SP_ASSERT(r->required >= -SPAM_SCORE_CLAMP &&
	    r->required <= SPAM_SCORE_CLAMP);
	SP_ASSERT(r->action >= SPAM_NO_ACTION && r->action <= SPAM_UNKNOWN);
	SP_ASSERT(r->spf >= SPAM_AUTH_NONE_SEEN &&
	    r->spf <= SPAM_AUTH_PERMERROR);
	SP_ASSERT(r->dkim >= SPAM_AUTH_NONE_SEEN &&
	    r->dkim <= SPAM_AUTH_PERMERROR);
	SP_ASSERT(r->dmarc >= SPAM_AUTH_NONE_SEEN &&
	    r->dmarc <= SPAM_AUTH_PERMERROR);
	n = strnlen(r->symbols, sizeof(r->symbols));
	SP_ASSERT(n < sizeof(r->symbols));
	for (i = 0; i < n; i++) {
		char	c = r->symbols[i];

		if (c == ',') {
			SP_ASSERT(i > 0 && i + 1 < n &&
			    r->symbols[i + 1] != ',');
			continue;
		}
		SP_ASSERT((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_');
	}
}

/* The text of a score as spam_headers writes it. */
static void
score_text(int64_t v, char *buf, size_t len)
{
	int64_t	a = v < 0 ? -v : v;

	snprintf(buf, len, "%s%lld.%02lld", v < 0 ? "-" : "",
	    (long long)(a / 100), (long long)(a % 100));
}

static void
check_headers(const struct spam_result *r, const char *host,
    const char *dom, bool tag)
{
	static char	 out[FUZZ_OUT_MAX], un[FUZZ_OUT_MAX];
	char		 want[64], *p, *e;
	const char	*s;
	size_t		 col = 0, n, i;
	int		 len;

	len = spam_headers(r, SPAM_HDR_SCORE | SPAM_HDR_STATUS |
	    SPAM_HDR_AUTH, tag, host, dom, out, sizeof(out));
	SP_ASSERT(len > 0 && (size_t)len == strlen(out));
	for (s = out; *s != '\0'; s++) {
		if (*s == '\r') {
			SP_ASSERT(s[1] == '\n');
			SP_ASSERT(s[2] == '\0' || s[2] == '\t' ||
			    s[2] == 'X' || s[2] == 'A');
			s++;
			col = 0;
			continue;
		}
		SP_ASSERT(*s == '\t' || (*s >= 0x20 && *s <= 0x7e));
		SP_ASSERT(++col <= 998);
	}
	SP_ASSERT(col == 0);
	/* one byte short: refused */
	SP_ASSERT(spam_headers(r, SPAM_HDR_SCORE | SPAM_HDR_STATUS |
	    SPAM_HDR_AUTH, tag, host, dom, out, (size_t)len) == -1);
	len = spam_headers(r, SPAM_HDR_SCORE | SPAM_HDR_STATUS |
	    SPAM_HDR_AUTH, tag, host, dom, out, sizeof(out));

	/* the score, twice */
	score_text(r->score, want, sizeof(want));
	SP_ASSERT(strncmp(out, "X-Spam-Score: ", 14) == 0);
	SP_ASSERT(strncmp(out + 14, want, strlen(want)) == 0);
	SP_ASSERT(strncmp(out + 14 + strlen(want), "\r\nX-Spam-Status: ",
	    17) == 0);

	/* the status line unfolded: tests= is the symbols, or none */
	for (i = 0, n = 0; out[i] != '\0'; i++) {
		if (out[i] == '\r' && out[i + 1] == '\n' &&
		    out[i + 2] == '\t') {
			i += 2;		/* and the loop's i++: the TAB */
			continue;
		}
		un[n++] = out[i];
	}
	un[n] = '\0';
	SP_ASSERT((p = strstr(un, "X-Spam-Status: ")) != NULL);
	SP_ASSERT(strncmp(p + 15, tag ? "Yes, " : "No, ", tag ? 5 : 4) == 0);
	SP_ASSERT((p = strstr(p, " tests=")) != NULL);
	p += 7;
	SP_ASSERT((e = strstr(p, "\r\n")) != NULL);
	*e = '\0';
	SP_ASSERT(strcmp(p, r->symbols[0] != '\0' ? r->symbols : "none") ==
	    0);
	SP_ASSERT(strstr(e + 2, "Authentication-Results: ") == e + 2);
	SP_ASSERT(strstr(e + 2, spam_auth_word(r->dmarc)) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spam_result	 r, again;
	static const struct spam_result zero;
	char			 err[256], host[300], *buf;
	size_t			 n, i;
	int			 rv;

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	err[0] = '\0';
	rv = spam_parse(buf, size, &r, err, sizeof(err));
	SP_ASSERT(rv == 0 || rv == -1);
	if (rv == -1) {
		SP_ASSERT(memcmp(&r, &zero, sizeof(r)) == 0);
		SP_ASSERT(err[0] != '\0');
		check_printable(err);
		free(buf);
		return 0;
	}
	check_result(&r);
	SP_ASSERT(spam_parse(buf, size, &again, err, sizeof(err)) == 0);
	SP_ASSERT(memcmp(&r, &again, sizeof(r)) == 0);
	check_headers(&r, "mx.example.test", "example.org", true);
	/*
	 * A host name and a domain made from the input (any length up to
	 * 299, mostly name characters, 8-bit bytes kept): each is used
	 * as it is or becomes "unknown".
	 */
	n = size > 0 ? (size + data[0]) % sizeof(host) : 0;
	for (i = 0; i < n; i++)
		host[i] = data[i % size] & 0x80 ? (char)data[i % size] :
		    fuzz_namechars[data[i % size] % 64];
	host[n] = '\0';
	check_headers(&r, host, host + n / 2, false);
	check_headers(&r, NULL, "", size % 2 == 0);
	free(buf);
	return 0;
}
