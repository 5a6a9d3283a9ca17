/* SPDX-License-Identifier: ISC */
/*
 * test_spam.c - the filter's rspamd client (filter_spam.c): spam_parse
 * on replies of a real rspamd 3.4 (tests/unit/data/spam, captured with
 * tests/lib/sealpost_test.py's Rspamd and a dnsmasq with SPF, DKIM and
 * DMARC records, a 1024-bit key of rspamadm dkim_keygen signing through
 * rspamd's own dkim_signing) and on malformed and hostile ones;
 * spam_headers' exact output, folding, sanitizing and buffer edges;
 * spam_client_new's URL checks; spam_check against a fake rspamd forked here (the request's
 * headers and body, keep-alive, refused connections, timeouts, HTTP
 * errors, long and malformed replies) and against a real one when
 * SEALPOST_TEST_RSPAMD_URL names it.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "memfd.h"
#include "filter_spam.h"
#include "test.h"
#include "banned.h"

static struct spam_result	res;
static char			err[512];

static char *
load(const char *name, size_t *len)
{
	char	 path[1024];
	FILE	*fp;
	char	*buf;

	snprintf(path, sizeof(path), "%s/%s", SPAM_DATA, name);
	if ((fp = fopen(path, "rb")) == NULL || (buf = malloc(65536)) == NULL) {
		printf("Bail out! %s: cannot read\n", path);
		exit(1);
	}
	*len = fread(buf, 1, 65536, fp);
	fclose(fp);
	return buf;
}

static int
parse_file(const char *name)
{
	size_t	 len;
	char	*buf = load(name, &len);
	int	 rv;

	rv = spam_parse(buf, len, &res, err, sizeof(err));
	free(buf);
	return rv;
}

static int
parse(const char *s)
{
	err[0] = '\0';
	return spam_parse(s, strlen(s), &res, err, sizeof(err));
}

static bool
res_zero(void)
{
	static const struct spam_result	zero;

	return memcmp(&res, &zero, sizeof(res)) == 0;
}

/* --- spam_parse on real replies -------------------------------------- */

static const struct {
	const char	*file;
	int64_t		 score, required;
	enum spam_action action;
	bool		 skipped;
	enum spam_auth	 spf, dkim, dmarc;
	const char	*symbols;
} real[] = {
	{ "ham.json", 470, 1500, SPAM_GREYLIST, false,
	    SPAM_AUTH_NONE, SPAM_AUTH_NONE, SPAM_AUTH_NONE,
	    "HFILTER_FROMHOST_NORES_A_OR_MX,AUTH_NA,DATE_IN_PAST,"
	    "HFILTER_HELO_IP_A,HFILTER_HELO_NORES_A_OR_MX,MIME_GOOD" },
	{ "gtube.json", 1500, 1500, SPAM_REJECT, true,
	    SPAM_AUTH_NONE_SEEN, SPAM_AUTH_NONE_SEEN, SPAM_AUTH_NONE_SEEN,
	    "" },
	{ "dkim_permfail.json", 470, 1500, SPAM_GREYLIST, false,
	    SPAM_AUTH_NONE, SPAM_AUTH_PERMERROR, SPAM_AUTH_NONE,
	    "HFILTER_FROMHOST_NORES_A_OR_MX,AUTH_NA_OR_FAIL,DATE_IN_PAST,"
	    "HFILTER_HELO_IP_A,HFILTER_HELO_NORES_A_OR_MX,MIME_GOOD" },
	{ "auth.json", 90, 1500, SPAM_NO_ACTION, false,
	    SPAM_AUTH_NONE_SEEN, SPAM_AUTH_NONE_SEEN, SPAM_AUTH_NONE_SEEN,
	    "DATE_IN_PAST,MIME_GOOD" },
	{ "spammy.json", 2045, 1500, SPAM_REJECT, false,
	    SPAM_AUTH_NONE, SPAM_AUTH_NONE, SPAM_AUTH_NONE,
	    "HFILTER_HELO_5,R_UNDISC_RCPT,HFILTER_HOSTNAME_UNKNOWN,"
	    "MISSING_MID,SUBJ_ALL_CAPS,HFILTER_FROMHOST_NORES_A_OR_MX,"
	    "SUBJ_EXCESS_BASE64,AUTH_NA,HTTP_TO_IP,MISSING_DATE,"
	    "SUBJECT_HAS_CURRENCY,FORGED_RECIPIENTS,MIME_HTML_ONLY" },
	{ "noenv.json", 340, 1500, SPAM_NO_ACTION, false,
	    SPAM_AUTH_NONE_SEEN, SPAM_AUTH_NONE, SPAM_AUTH_NONE,
	    "HFILTER_HOSTNAME_UNKNOWN,DATE_IN_PAST,MIME_GOOD" },
	{ "pass.json", 0, 1500, SPAM_NO_ACTION, false,
	    SPAM_AUTH_PASS, SPAM_AUTH_PASS, SPAM_AUTH_PASS,
	    "DATE_IN_PAST,DMARC_POLICY_ALLOW,R_DKIM_ALLOW,R_SPF_ALLOW,"
	    "MIME_GOOD" },
	{ "spf_fail.json", 870, 1500, SPAM_ADD_HEADER, false,
	    SPAM_AUTH_FAIL, SPAM_AUTH_NONE, SPAM_AUTH_FAIL,
	    "VIOLATED_DIRECT_SPF,DMARC_POLICY_REJECT,DATE_IN_PAST,"
	    "HFILTER_HELO_IP_A,R_SPF_FAIL,HFILTER_HELO_NORES_A_OR_MX,"
	    "MIME_GOOD" },
	{ "softfail.json", 740, 1500, SPAM_ADD_HEADER, false,
	    SPAM_AUTH_SOFTFAIL, SPAM_AUTH_NONE, SPAM_AUTH_FAIL,
	    "VIOLATED_DIRECT_SPF,DMARC_POLICY_QUARANTINE,"
	    "HFILTER_FROMHOST_NORES_A_OR_MX,DATE_IN_PAST,MIME_GOOD" },
	{ "dkim_reject.json", 840, 1500, SPAM_ADD_HEADER, false,
	    SPAM_AUTH_FAIL, SPAM_AUTH_FAIL, SPAM_AUTH_FAIL,
	    "VIOLATED_DIRECT_SPF,DMARC_POLICY_REJECT,DATE_IN_PAST,"
	    "R_DKIM_REJECT,R_SPF_FAIL,MIME_GOOD" },
	/* 8-bit junk in From, Subject, Message-ID: rspamd sends '?'s */
	{ "bad_utf8_msg.json", 1290, 1500, SPAM_ADD_HEADER, false,
	    SPAM_AUTH_NONE, SPAM_AUTH_NONE, SPAM_AUTH_NONE,
	    "HFILTER_HOSTNAME_UNKNOWN,R_MIXED_CHARSET,INVALID_MSGID,"
	    "HFILTER_FROMHOST_NORES_A_OR_MX,AUTH_NA,DATE_IN_PAST,"
	    "FROM_NEEDS_ENCODING,SUBJECT_NEEDS_ENCODING,RDNS_NONE,"
	    "R_MISSING_CHARSET,MIME_GOOD,ONCE_RECEIVED" },
};

static void
test_parse_real(void)
{
	size_t	i;

	test_begin("spam_parse: replies of a real rspamd 3.4");
	for (i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		test_assert(parse_file(real[i].file) == 0);
		test_assert(res.score == real[i].score);
		test_assert(res.required == real[i].required);
		test_assert(res.action == real[i].action);
		test_assert(res.skipped == real[i].skipped);
		test_assert(res.spf == real[i].spf);
		test_assert(res.dkim == real[i].dkim);
		test_assert(res.dmarc == real[i].dmarc);
		test_assert_streq(res.symbols, real[i].symbols);
	}
	test_end();
}

/* --- spam_parse on malformed and hostile replies ---------------------- */

#define OKHEAD	"\"score\":1.5,\"required_score\":15,\"action\":\"no action\""

static void
test_parse_malformed(void)
{
	static const char *const bad[] = {
		"", " ", "null", "[]", "\"x\"", "7", "{", "{}",
		"{\"required_score\":15,\"action\":\"reject\"}",
		"{\"score\":1,\"action\":\"reject\"}",
		"{\"score\":1,\"required_score\":15}",
		"{\"score\":\"1\",\"required_score\":15,\"action\":\"reject\"}",
		"{\"score\":true,\"required_score\":15,\"action\":\"reject\"}",
		"{\"score\":null,\"required_score\":15,\"action\":\"reject\"}",
		"{\"score\":[1],\"required_score\":15,\"action\":\"reject\"}",
		"{\"score\":1,\"required_score\":{},\"action\":\"reject\"}",
		"{\"score\":1,\"required_score\":15,\"action\":5}",
		"{\"score\":1,\"required_score\":15,\"action\":null}",
		"{" OKHEAD ",\"is_skipped\":\"yes\"}",
		"{" OKHEAD ",\"is_skipped\":1}",
		"{" OKHEAD ",\"symbols\":[]}",
		"{" OKHEAD ",\"symbols\":\"A\"}",
		"{" OKHEAD ",\"symbols\":{\"A\":1}}",
		"{" OKHEAD ",\"symbols\":{\"A\":{\"score\":\"1\"}}}",
		"{" OKHEAD ",\"symbols\":{\"A\":{\"score\":null}}}",
		"{" OKHEAD ",\"symbols\":{\"A\":{\"score\":1},\"B\":[]}}",
		/* JSON that is not */
		"{" OKHEAD "} x", "{" OKHEAD "}{}", "{" OKHEAD ",}",
		"{\"score\":NaN,\"required_score\":15,\"action\":\"reject\"}",
		"{\"score\":Infinity,\"required_score\":15,\"action\":\"x\"}",
		"{\"score\":-Infinity,\"required_score\":15,\"action\":\"x\"}",
		"{\"score\":1e400,\"required_score\":15,\"action\":\"x\"}",
		"{\"score\":99999999999999999999,\"required_score\":15,"
		    "\"action\":\"x\"}",
		"{\"score\":0x10,\"required_score\":15,\"action\":\"x\"}",
		"{\"score\":.5,\"required_score\":15,\"action\":\"x\"}",
		"{'score':1,'required_score':15,'action':'x'}",
		"{\"score\":1,\"required_score\":15,\"action\":\"x\",}",
		/* SECURITY: a second score another reader would take */
		"{\"score\":1,\"score\":99,\"required_score\":15,"
		    "\"action\":\"x\"}",
		"{" OKHEAD ",\"symbols\":{\"A\":{\"score\":1},"
		    "\"A\":{\"score\":2}}}",
		/* a NUL in a key: jansson never takes those */
		"{" OKHEAD ",\"symbols\":{\"A\\u0000B\":{\"score\":1}}}",
		"{\"score\":1,\"required_score\":15,\"action\":\"x\\ud800\"}",
	};
	size_t	i;

	test_begin("spam_parse: missing fields, wrong types, not JSON");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&res, 0xa5, sizeof(res));
		test_assert(parse(bad[i]) == -1);
		test_assert(err[0] != '\0');
		test_assert(res_zero());
	}
	/* a raw NUL, and a reply too long to look at */
	test_assert(spam_parse("{\0}", 3, &res, err, sizeof(err)) == -1);
	test_assert(spam_parse("{}", SPAM_REPLY_MAX + 1, &res, err,
	    sizeof(err)) == -1);
	test_assert(strstr(err, "longer than") != NULL);
	test_assert(parse("{\"score\":1,\"required_score\":15}") == -1);
	test_assert_streq(err, "no \"action\" string in the reply");
	test_assert(parse("{" OKHEAD ",\"symbols\":{\"A\":7}}") == -1);
	test_assert_streq(err, "a symbol is not an object");
	test_end();
}

static void
test_parse_numbers(void)
{
	test_begin("spam_parse: integer, negative, huge scores; rounding");
	test_assert(parse("{\"score\":7,\"required_score\":15,"
	    "\"action\":\"add header\"}") == 0);
	test_assert(res.score == 700 && res.required == 1500);
	test_assert(res.action == SPAM_ADD_HEADER && !res.skipped);
	test_assert(res.spf == SPAM_AUTH_NONE_SEEN && res.symbols[0] == '\0');
	test_assert(parse("{\"score\":1e300,\"required_score\":-1e300,"
	    "\"action\":\"reject\"}") == 0);
	test_assert(res.score == SPAM_SCORE_CLAMP &&
	    res.required == -SPAM_SCORE_CLAMP);
	test_assert(parse("{\"score\":1000.004,\"required_score\":"
	    "999.994,\"action\":\"reject\"}") == 0);
	test_assert(res.score == 100000 && res.required == 99999);
	test_assert(parse("{\"score\":-0.125,\"required_score\":0.125,"
	    "\"action\":\"reject\"}") == 0);
	test_assert(res.score == -13 && res.required == 13);
	test_assert(parse("{\"score\":-0.0,\"required_score\":4.699999,"
	    "\"action\":\"reject\"}") == 0);
	test_assert(res.score == 0 && res.required == 470);
	test_assert(parse("{\"score\":9223372036854775807,\"required_score\":"
	    "-9223372036854775808,\"action\":\"reject\"}") == 0);
	test_assert(res.score == SPAM_SCORE_CLAMP &&
	    res.required == -SPAM_SCORE_CLAMP);
	test_assert(parse("{\"score\":1e-300,\"required_score\":-1e-320,"
	    "\"action\":\"reject\"}") == 0);
	test_assert(res.score == 0 && res.required == 0);
	test_end();
}

static void
test_parse_actions(void)
{
	static const struct {
		const char		*json;
		enum spam_action	 a;
	} t[] = {
		{ "no action", SPAM_NO_ACTION },
		{ "greylist", SPAM_GREYLIST },
		{ "add header", SPAM_ADD_HEADER },
		{ "rewrite subject", SPAM_REWRITE_SUBJECT },
		{ "soft reject", SPAM_SOFT_REJECT },
		{ "reject", SPAM_REJECT },
		{ "discard", SPAM_UNKNOWN },
		{ "REJECT", SPAM_UNKNOWN },
		{ "reject ", SPAM_UNKNOWN },
		{ "", SPAM_UNKNOWN },
		{ "reject\\u0000x", SPAM_UNKNOWN },
		{ "no\\r\\naction", SPAM_UNKNOWN },
	};
	char	buf[256];
	size_t	i;

	test_begin("spam_parse: actions, exactly");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"score\":1,\"required_score\":2,"
		    "\"action\":\"%s\",\"is_skipped\":true}", t[i].json);
		test_assert(parse(buf) == 0);
		test_assert(res.action == t[i].a);
		test_assert(res.skipped);
	}
	test_assert_streq(spam_action_name(SPAM_REWRITE_SUBJECT),
	    "rewrite subject");
	test_assert_streq(spam_action_name(SPAM_UNKNOWN), "unknown");
	test_assert_streq(spam_action_name((enum spam_action)99), "unknown");
	test_end();
}

static void
test_parse_symbols(void)
{
	test_begin("spam_parse: symbol names, order, auth conflicts");
	/* CR LF, spaces, lower case, 8-bit: only [A-Z0-9_] is kept */
	test_assert(parse("{" OKHEAD ",\"symbols\":{"
	    "\"BAD\\r\\nX-Evil: 1\":{\"score\":5},"
	    "\"a b c\":{\"score\":9},"
	    "\"\\u00e9\\u00e8\":{\"score\":9},"
	    "\"NO_SCORE\":{\"name\":\"NO_SCORE\"},"
	    "\"ZERO\":{\"score\":0},"
	    "\"NEG\":{\"score\":-6.5},"
	    "\"TIE_B\":{\"score\":1},\"TIE_A\":{\"score\":-1},"
	    "\"Mixed_Case9\":{\"score\":0.01}}}") == 0);
	test_assert_streq(res.symbols, "NEG,BADXE1,TIE_A,TIE_B,M_C9");
	/* every kind, the worse result winning whatever the order */
	test_assert(parse("{" OKHEAD ",\"symbols\":{"
	    "\"R_SPF_ALLOW\":{\"score\":-0.2},\"R_SPF_FAIL\":{\"score\":1},"
	    "\"R_DKIM_NA\":{\"score\":0},\"R_DKIM_ALLOW\":{\"score\":0},"
	    "\"DMARC_DNSFAIL\":{},\"DMARC_POLICY_ALLOW\":{}}}") == 0);
	test_assert(res.spf == SPAM_AUTH_FAIL);
	test_assert(res.dkim == SPAM_AUTH_NONE);
	test_assert(res.dmarc == SPAM_AUTH_TEMPERROR);
	test_assert(parse("{" OKHEAD ",\"symbols\":{"
	    "\"R_SPF_FAIL\":{},\"R_SPF_ALLOW\":{},"
	    "\"R_DKIM_TEMPFAIL\":{},\"R_DKIM_PERMFAIL\":{},"
	    "\"DMARC_BAD_POLICY\":{},\"DMARC_POLICY_SOFTFAIL\":{}}}") == 0);
	test_assert(res.spf == SPAM_AUTH_FAIL);
	test_assert(res.dkim == SPAM_AUTH_PERMERROR);
	test_assert(res.dmarc == SPAM_AUTH_FAIL);
	test_assert(parse("{" OKHEAD ",\"symbols\":{"
	    "\"R_SPF_NEUTRAL\":{},\"R_SPF_NA\":{},\"R_SPF_DNSFAIL\":{},"
	    "\"r_spf_fail\":{},\"R_SPF_FAIL \":{}}}") == 0);
	test_assert(res.spf == SPAM_AUTH_TEMPERROR);
	test_assert(res.dkim == SPAM_AUTH_NONE_SEEN);
	test_assert(parse("{" OKHEAD ",\"symbols\":{\"R_SPF_PERMFAIL\":{},"
	    "\"R_SPF_SOFTFAIL\":{}}}") == 0);
	test_assert(res.spf == SPAM_AUTH_PERMERROR);
	test_assert(parse("{" OKHEAD ",\"symbols\":{}}") == 0);
	test_assert(res.symbols[0] == '\0');
	test_end();
}

/*
 * A reply with n symbols named AAAA, AAAB, ... (base 26); every 100th
 * has a score, (i / 100) % 97 + 0.5, the others an empty object: 100k
 * of them in less than SPAM_REPLY_MAX bytes.
 */
static char *
many_symbols(size_t n, size_t *len)
{
	size_t	 cap = SPAM_REPLY_MAX, off, i;
	char	*b = malloc(cap);
	int	 k;

	if (b == NULL)
		exit(1);
	off = (size_t)snprintf(b, cap, "{" OKHEAD ",\"symbols\":{");
	for (i = 0; i < n; i++) {
		k = snprintf(b + off, cap - off, "%s\"%c%c%c%c\":{", i ? "," :
		    "", (int)('A' + i / 17576 % 26), (int)('A' + i / 676 % 26),
		    (int)('A' + i / 26 % 26), (int)('A' + i % 26));
		off += (size_t)k;
		if (i % 100 == 0)
			off += (size_t)snprintf(b + off, cap - off,
			    "\"score\":%zu.5", i / 100 % 97);
		off += (size_t)snprintf(b + off, cap - off, "}");
		if (off > cap - 64)
			exit(1);
	}
	off += (size_t)snprintf(b + off, cap - off, "}}");
	*len = off;
	return b;
}

static void
test_parse_limits(void)
{
	char	*b, *p;
	size_t	 len, i, n;
	clock_t	 t0;

	test_begin("spam_parse: 100k symbols, the list's cut, nesting, size");
	b = many_symbols(100000, &len);
	test_assert(len < SPAM_REPLY_MAX);
	t0 = clock();
	test_assert(spam_parse(b, len, &res, err, sizeof(err)) == 0);
	test_assert((clock() - t0) / CLOCKS_PER_SEC < 10);
	free(b);
	/* 96.5 for AOFG, BCOI, ... (i = 9600, 19300, ...) */
	test_assert(strncmp(res.symbols, "AOFG,BCOI,BQXK,CFGM,", 20) == 0);
	/* 102 whole names of 4 (509 bytes); a 103rd does not fit */
	test_assert(strlen(res.symbols) == 509);
	/* names that exactly fill the buffer, and one byte more */
	b = malloc(SPAM_REPLY_MAX);
	for (i = 0; i < 2; i++) {
		size_t	off;

		off = (size_t)snprintf(b, SPAM_REPLY_MAX, "{" OKHEAD
		    ",\"symbols\":{\"%s\":{\"score\":1}", i == 0 ?
		    "LAST_OF_ALL_SIXTEEN_X" : "LAST_OF_ALL_SIXTEEN_XY");
		for (n = 0; n < 70; n++)
			off += (size_t)snprintf(b + off, SPAM_REPLY_MAX - off,
			    ",\"S%05zu\":{\"score\":2}", n);
		off += (size_t)snprintf(b + off, SPAM_REPLY_MAX - off, "}}");
		test_assert(spam_parse(b, off, &res, err, sizeof(err)) == 0);
		/* 70 * 7 - 1 = 489; 489 + 1 + 21 = 511 fits, 512 not */
		p = strrchr(res.symbols, ',');
		if (i == 0) {
			test_assert(strlen(res.symbols) == 511);
			test_assert(p != NULL &&
			    strcmp(p, ",LAST_OF_ALL_SIXTEEN_X") == 0);
		} else {
			test_assert(strlen(res.symbols) == 489);
			test_assert(p != NULL && strcmp(p, ",S00069") == 0);
		}
	}
	/* deep nesting in a member we ignore: 2000 levels ok, 3000 not */
	for (i = 0; i < 2; i++) {
		size_t	depth = i == 0 ? 2000 : 3000, off;

		off = (size_t)snprintf(b, SPAM_REPLY_MAX, "{" OKHEAD ",\"x\":");
		memset(b + off, '[', depth);
		memset(b + off + depth, ']', depth);
		off += 2 * depth;
		b[off++] = '}';
		test_assert(spam_parse(b, off, &res, err, sizeof(err)) ==
		    (i == 0 ? 0 : -1));
	}
	/* exactly SPAM_REPLY_MAX bytes (padded with spaces): taken */
	len = (size_t)snprintf(b, SPAM_REPLY_MAX, "{" OKHEAD "}");
	memset(b + len, ' ', SPAM_REPLY_MAX - len);
	test_assert(spam_parse(b, SPAM_REPLY_MAX, &res, err, sizeof(err)) ==
	    0);
	test_assert(res.score == 150);
	free(b);
	test_assert(parse("{}") == -1 && strstr(err, "score") != NULL);
	test_end();
}

static void
test_parse_utf8(void)
{
	static const char *const ok[] = {
		"{" OKHEAD ",\"message-id\":\"\xff\xfe@x\"}",
		"{" OKHEAD ",\"message-id\":\"\xc0\xaf overlong\"}",
		"{" OKHEAD ",\"message-id\":\"\xed\xa0\x80 surrogate\"}",
		"{" OKHEAD ",\"message-id\":\"\xf4\x90\x80\x80 past\"}",
		"{" OKHEAD ",\"message-id\":\"cut \xe2\x82\"}",
		"{" OKHEAD ",\"message-id\":\"\\u0000 NUL\"}",
		"{" OKHEAD ",\"subject\":\"\xc3\xa9t\xc3\xa9 "
		    "\xf0\x9f\x93\xa7\"}",
	};
	size_t	i;

	test_begin("spam_parse: invalid UTF-8 inside strings is no failure");
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		test_assert(parse(ok[i]) == 0);
		test_assert(res.score == 150 && res.action == SPAM_NO_ACTION);
	}
	/* in a key: the bad byte is dropped with the rest of [^A-Z0-9_] */
	test_assert(parse("{" OKHEAD ",\"symbols\":{\"BAD\xffNAME\":"
	    "{\"score\":1}}}") == 0);
	test_assert_streq(res.symbols, "BADNAME");
	/* outside a string it is still not JSON */
	test_assert(parse("{" OKHEAD ",\xff}") == -1);
	/* the error names no raw byte of the reply */
	test_assert(parse("{\"score\":\x01\x80\xff}") == -1);
	for (i = 0; err[i] != '\0'; i++)
		test_assert(err[i] >= 0x20 && err[i] < 0x7f);
	test_end();
}

/* --- spam_headers ------------------------------------------------------ */

static char	out[4096];

/* Printable ASCII, TAB, CR LF pairs; lines within max; ends in CR LF. */
static bool
well_formed(const char *s, size_t max)
{
	size_t	col = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\r') {
			if (s[1] != '\n')
				return false;
			s++;
			col = 0;
			continue;
		}
		if (*s != '\t' && (*s < 0x20 || *s > 0x7e))
			return false;
		if (++col > max)
			return false;
	}
	return col == 0;
}

static void
test_headers_exact(void)
{
	int	n;

	test_begin("spam_headers: exact lines of a real reply");
	test_assert(parse_file("spf_fail.json") == 0);
	n = spam_headers(&res, SPAM_HDR_SCORE | SPAM_HDR_STATUS |
	    SPAM_HDR_AUTH, true, "mx.example.test", "example.org", out,
	    sizeof(out));
	test_assert_streq(out,
	    "X-Spam-Score: 8.70\r\n"
	    "X-Spam-Status: Yes, score=8.70 required=15.00 "
	    "tests=VIOLATED_DIRECT_SPF,\r\n"
	    "\tDMARC_POLICY_REJECT,DATE_IN_PAST,HFILTER_HELO_IP_A,R_SPF_FAIL,"
	    "\r\n"
	    "\tHFILTER_HELO_NORES_A_OR_MX,MIME_GOOD\r\n"
	    "Authentication-Results: mx.example.test; spf=fail "
	    "smtp.mailfrom=example.org;\r\n"
	    "\tdkim=none; dmarc=fail\r\n");
	test_assert(n == (int)strlen(out));
	test_assert(well_formed(out, 78));
	/* one at a time, untagged, a pass */
	test_assert(parse_file("pass.json") == 0);
	n = spam_headers(&res, SPAM_HDR_SCORE, false, "h", "d", out,
	    sizeof(out));
	test_assert_streq(out, "X-Spam-Score: 0.00\r\n");
	test_assert(n == 20);
	spam_headers(&res, SPAM_HDR_AUTH, false, "mx.example.test",
	    "example.org", out, sizeof(out));
	test_assert_streq(out, "Authentication-Results: mx.example.test; "
	    "spf=pass smtp.mailfrom=example.org;\r\n"
	    "\tdkim=pass; dmarc=pass\r\n");
	/* GTUBE: nothing scored, nothing seen */
	test_assert(parse_file("gtube.json") == 0);
	spam_headers(&res, SPAM_HDR_STATUS | SPAM_HDR_AUTH, false, "mx",
	    "", out, sizeof(out));
	test_assert_streq(out, "X-Spam-Status: No, score=15.00 required=15.00 "
	    "tests=none\r\n"
	    "Authentication-Results: mx; spf=none; dkim=none; dmarc=none\r\n");
	test_assert(spam_headers(&res, 0, true, "mx", "d", out,
	    sizeof(out)) == 0 && out[0] == '\0');
	test_end();
}

static void
test_headers_scores(void)
{
	static const struct {
		int64_t		 v;
		const char	*s;
	} t[] = {
		{ 750, "7.50" }, { -120, "-1.20" }, { -5, "-0.05" },
		{ 5, "0.05" }, { 0, "0.00" }, { -100, "-1.00" },
		{ 100000, "1000.00" }, { 100001, "1000.00" },
		{ -100000, "-1000.00" }, { INT64_MIN, "-1000.00" },
		{ INT64_MAX, "1000.00" }, { 99999, "999.99" },
	};
	char	want[160];
	size_t	i;

	test_begin("spam_headers: signed scores with two decimals, clamped");
	memset(&res, 0, sizeof(res));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		res.score = t[i].v;
		res.required = t[i].v;
		test_assert(spam_headers(&res, SPAM_HDR_SCORE | SPAM_HDR_STATUS,
		    true, NULL, NULL, out, sizeof(out)) > 0);
		snprintf(want, sizeof(want), "X-Spam-Score: %s\r\n"
		    "X-Spam-Status: Yes, score=%s required=%s tests=none\r\n",
		    t[i].s, t[i].s, t[i].s);
		test_assert_streq(out, want);
	}
	test_end();
}

/* out without its folds ("\r\n\t" in the middle) */
static void
unfold(char *s)
{
	char	*w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\r' && s[1] == '\n' && s[2] == '\t') {
			s += 2;
			continue;
		}
		*w++ = *s;
	}
	*w = '\0';
}

static void
test_headers_fold(void)
{
	char	want[1024];
	size_t	i, off;

	test_begin("spam_headers: folding before 78 columns, long names");
	/* 40 names of 10: every line within 78, unfolding restores */
	memset(&res, 0, sizeof(res));
	off = 0;
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(res.symbols + off,
		    sizeof(res.symbols) - off, "%sSYMBOL_%03zu", i ? "," : "",
		    i);
	test_assert(spam_headers(&res, SPAM_HDR_STATUS, false, NULL, NULL,
	    out, sizeof(out)) > 0);
	test_assert(well_formed(out, 78));
	test_assert(strstr(out, "\r\n\tSYMBOL_") != NULL);
	snprintf(want, sizeof(want), "X-Spam-Status: No, score=0.00 "
	    "required=0.00 tests=%s\r\n", res.symbols);
	unfold(out);
	test_assert_streq(out, want);
	/* one name filling symbols, not terminated: a long line < 998 */
	memset(res.symbols, 'A', sizeof(res.symbols));
	test_assert(spam_headers(&res, SPAM_HDR_STATUS, true, NULL, NULL,
	    out, sizeof(out)) == 51 + 512 + 2);
	test_assert(well_formed(out, 998));
	/* a long host name: the results fold */
	memset(want, 'h', SPAM_HOSTNAME_MAX);
	want[SPAM_HOSTNAME_MAX] = '\0';
	res.spf = SPAM_AUTH_TEMPERROR;
	res.dkim = SPAM_AUTH_NEUTRAL;
	res.dmarc = (enum spam_auth)42;
	test_assert(spam_headers(&res, SPAM_HDR_AUTH, true, want,
	    "example.org", out, sizeof(out)) > 0);
	test_assert(well_formed(out, 998));
	test_assert(strstr(out, want) != NULL);
	test_assert(strstr(out, ";\r\n\tspf=temperror "
	    "smtp.mailfrom=example.org; dkim=neutral; dmarc=none\r\n") !=
	    NULL);
	test_end();
}

static void
test_headers_sanitize(void)
{
	char	 big[400];

	test_begin("spam_headers: hostile host names, domains and symbols");
	memset(&res, 0, sizeof(res));
	spam_headers(&res, SPAM_HDR_AUTH, false, "evil\r\nBcc: x@other",
	    "ex ample.org", out, sizeof(out));
	test_assert_streq(out, "Authentication-Results: unknown; spf=none "
	    "smtp.mailfrom=unknown; dkim=none;\r\n\tdmarc=none\r\n");
	spam_headers(&res, SPAM_HDR_AUTH, false, NULL, NULL, out,
	    sizeof(out));
	test_assert_streq(out, "Authentication-Results: unknown; spf=none; "
	    "dkim=none; dmarc=none\r\n");
	spam_headers(&res, SPAM_HDR_AUTH, false, "", "\xc3\xa9.example",
	    out, sizeof(out));
	test_assert_streq(out, "Authentication-Results: unknown; spf=none "
	    "smtp.mailfrom=unknown; dkim=none;\r\n\tdmarc=none\r\n");
	spam_headers(&res, SPAM_HDR_AUTH, false, "Mx-1.Example.TEST",
	    "a;b", out, sizeof(out));
	test_assert_streq(out, "Authentication-Results: Mx-1.Example.TEST; "
	    "spf=none smtp.mailfrom=unknown;\r\n\tdkim=none; dmarc=none\r\n");
	memset(big, 'a', sizeof(big));
	big[SPAM_HOSTNAME_MAX + 1] = '\0';	/* one too long */
	spam_headers(&res, SPAM_HDR_AUTH, false, big, big, out, sizeof(out));
	test_assert(strstr(out, "aaa") == NULL);
	test_assert(strstr(out, "Authentication-Results: unknown;") == out);
	/* symbols from any struct: only [A-Z0-9_], empty names skipped */
	strlcpy(res.symbols, "a\r\nB,C D,,\x80" "E,\t,X-Evil: 1,", sizeof(
	    res.symbols));
	spam_headers(&res, SPAM_HDR_STATUS, true, NULL, NULL, out,
	    sizeof(out));
	test_assert_streq(out, "X-Spam-Status: Yes, score=0.00 required=0.00 "
	    "tests=B,CD,E,XE1\r\n");
	strlcpy(res.symbols, ",,,", sizeof(res.symbols));
	spam_headers(&res, SPAM_HDR_STATUS, true, NULL, NULL, out,
	    sizeof(out));
	test_assert(strstr(out, "tests=none\r\n") != NULL);
	test_end();
}

static void
test_headers_small(void)
{
	char	 full[2048], *buf;
	int	 n, k;
	size_t	 len;

	test_begin("spam_headers: every buffer size up to the exact one");
	test_assert(parse_file("spammy.json") == 0);
	n = spam_headers(&res, SPAM_HDR_SCORE | SPAM_HDR_STATUS |
	    SPAM_HDR_AUTH, true, "mx.example.test", "lottery.example", full,
	    sizeof(full));
	test_assert(n > 200 && well_formed(full, 78));
	for (len = 0; len <= (size_t)n + 1; len++) {
		buf = malloc(len > 0 ? len : 1);	/* ASan: exact size */
		k = spam_headers(&res, SPAM_HDR_SCORE | SPAM_HDR_STATUS |
		    SPAM_HDR_AUTH, true, "mx.example.test", "lottery.example",
		    len > 0 ? buf : NULL, len);
		if (len <= (size_t)n)
			test_assert(k == -1);
		else {
			test_assert(k == n);
			test_assert_streq(buf, full);
		}
		free(buf);
	}
	test_end();
}

/* --- spam_client_new: the URL ------------------------------------------ */

static void
test_url(void)
{
	static const char *const good[] = {
		"http://127.0.0.1:11333", "http://127.0.0.1:11333/",
		"HTTP://10.0.0.1", "http://[::1]:11333", "http://[::1]",
		"http://[2001:db8::1]:1/", "http://127.0.0.1:65535",
		"http://[::ffff:127.0.0.1]:80",
	};
	static const char *const bad[] = {
		"", "127.0.0.1:11333", "https://127.0.0.1:11333",
		"http://localhost:11333", "http://rspamd.example:11333",
		"http://127.1:11333", "http://127.0.0.01:11333",
		"http://127.0.0.1.:11333", "http://127.0.0.256:1",
		"http://127.0.0.1:0", "http://127.0.0.1:65536",
		"http://127.0.0.1:011333", "http://127.0.0.1:",
		"http://127.0.0.1:+1", "http://127.0.0.1:-1",
		"http://127.0.0.1: 1", "http://127.0.0.1:1 ",
		"http://127.0.0.1:11333/checkv2", "http://127.0.0.1:1//",
		"http://127.0.0.1:1?x", "http://127.0.0.1:1#x",
		"http://user@127.0.0.1:1", "http://[::1%lo]:1",
		"http://[::1", "http://::1:1", "http://[127.0.0.1]:1",
		"http://[::1]x", "http://[::1]:1x", "http://", "http:///",
		"http://0x7f000001:1", "http://2130706433:1",
		"file:///etc/passwd", "http://127.0.0.1:1\r\nX: y",
		"http://[]:1",
	};
	struct spam_client	*c;
	char			 longurl[300];
	size_t			 i;

	test_begin("spam_client_new: numeric http URLs only");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		c = spam_client_new(good[i], err, sizeof(err));
		test_assert(c != NULL);
		spam_client_free(c);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		test_assert(spam_client_new(bad[i], err, sizeof(err)) == NULL);
		test_assert(err[0] != '\0');
	}
	test_assert(spam_client_new(NULL, err, sizeof(err)) == NULL);
	snprintf(longurl, sizeof(longurl), "http://127.0.0.1:1/%0200d", 0);
	test_assert(spam_client_new(longurl, err, sizeof(err)) == NULL);
	spam_client_free(NULL);
	test_end();
}

/* --- spam_check against a fake rspamd ---------------------------------- */

enum fake_mode {
	FAKE_OK,		/* 200, a reply, keep-alive */
	FAKE_CLOSE,		/* 200, then close the connection */
	FAKE_500,
	FAKE_BIG,		/* announces 2 MiB */
	FAKE_BIG_CHUNKED,	/* sends 2 MiB without announcing it */
	FAKE_JUNK,		/* 200, not JSON */
	FAKE_SILENT		/* reads the request, never answers */
};

static const char fake_reply[] = "{\"is_skipped\":false,\"score\":7.5,"
    "\"required_score\":15.0,\"action\":\"add header\",\"symbols\":{"
    "\"R_SPF_ALLOW\":{\"name\":\"R_SPF_ALLOW\",\"score\":-0.2},"
    "\"FAKE\":{\"name\":\"FAKE\",\"score\":7.7}},\"messages\":{}}";

static int
write_all(int fd, const void *p, size_t n)
{
	const char	*s = p;
	ssize_t		 k;

	while (n > 0) {
		if ((k = write(fd, s, n)) <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * One request from fd, copied to rec: 1, 0 at the end of the
 * connection, -1 on error.
 */
static int
fake_request(int fd, int rec)
{
	static char	 buf[1 << 20];
	size_t		 have = 0, need, clen = 0;
	char		*end, *cl;
	ssize_t		 k;

	for (;;) {
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (have == sizeof(buf) - 1)
			return -1;
		if ((k = read(fd, buf + have, sizeof(buf) - 1 - have)) <= 0)
			return have == 0 ? 0 : -1;
		have += (size_t)k;
	}
	if ((cl = strcasestr(buf, "\r\nContent-Length: ")) != NULL &&
	    cl < end)
		clen = strtoul(cl + 18, NULL, 10);
	need = (size_t)(end + 4 - buf) + clen;
	(void)write_all(rec, buf, have < need ? have : need);
	while (have < need) {
		char	tmp[65536];
		size_t	want = need - have < sizeof(tmp) ? need - have :
			    sizeof(tmp);

		if ((k = read(fd, tmp, want)) <= 0)
			return -1;
		(void)write_all(rec, tmp, (size_t)k);
		have += (size_t)k;
	}
	return 1;
}

static void
fake_answer(int fd, enum fake_mode mode)
{
	char	hdr[256], chunk[65536 + 16];
	size_t	i;
	int	n;

	switch (mode) {
	case FAKE_OK:
	case FAKE_CLOSE:
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %zu\r\n%s\r\n", sizeof(fake_reply) - 1,
		    mode == FAKE_CLOSE ? "Connection: close\r\n" : "");
		(void)write_all(fd, hdr, (size_t)n);
		(void)write_all(fd, fake_reply, sizeof(fake_reply) - 1);
		break;
	case FAKE_500:
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 500 Internal Server "
		    "Error\r\nContent-Length: 30\r\n\r\n"
		    "{\"error\":\"bad\\r\\nthing\\u00e9\"}");
		(void)write_all(fd, hdr, (size_t)n);
		break;
	case FAKE_BIG:
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %d\r\n\r\n{", 2 * SPAM_REPLY_MAX);
		(void)write_all(fd, hdr, (size_t)n);
		break;
	case FAKE_BIG_CHUNKED:
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n");
		(void)write_all(fd, hdr, (size_t)n);
		n = snprintf(chunk, sizeof(chunk), "10000\r\n");
		memset(chunk + n, ' ', 65536);
		memcpy(chunk + n + 65536, "\r\n", 2);
		for (i = 0; i < 32; i++)
			if (write_all(fd, chunk, (size_t)n + 65536 + 2) == -1)
				break;
		break;
	case FAKE_JUNK:
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 9\r\n\r\n{\"score\":");
		(void)write_all(fd, hdr, (size_t)n);
		break;
	case FAKE_SILENT:
		sleep(10);
		break;
	}
}

struct fake {
	pid_t	pid;
	int	rec;		/* memfd: every request received */
	char	url[64];
};

/*
 * Fork a server on 127.0.0.1 that answers nreq requests as mode says,
 * then exits with the number of connections it accepted.
 */
static void
fake_start(struct fake *f, enum fake_mode mode, int nreq)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof(sin);
	int			lfd, fd = -1, served = 0, accepted = 0, r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 8) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1 ||
	    (f->rec = memfd_new("fake")) == -1) {
		printf("Bail out! fake rspamd: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u",
	    ntohs(sin.sin_port));
	fflush(stdout);
	if ((f->pid = fork()) == -1) {
		printf("Bail out! fork\n");
		exit(1);
	}
	if (f->pid > 0) {
		close(lfd);
		return;
	}
	while (served < nreq) {
		if (fd == -1) {
			if ((fd = accept(lfd, NULL, NULL)) == -1)
				_exit(100);
			accepted++;
		}
		if ((r = fake_request(fd, f->rec)) <= 0) {
			close(fd);
			fd = -1;
			if (r == -1)
				_exit(101);
			continue;
		}
		fake_answer(fd, mode);
		served++;
		if (mode != FAKE_OK) {
			close(fd);
			fd = -1;
		}
	}
	_exit(accepted);
}

/* The server's exit status: connections accepted. */
static int
fake_stop(struct fake *f, bool kill_it)
{
	int	status;

	if (kill_it)
		kill(f->pid, SIGTERM);
	if (waitpid(f->pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What the server received, NUL-terminated (the caller frees it). */
static char *
fake_received(struct fake *f, size_t *len)
{
	off_t	 end = lseek(f->rec, 0, SEEK_END);
	char	*b = malloc((size_t)end + 1);

	*len = (size_t)end;
	if (b == NULL || pread(f->rec, b, (size_t)end, 0) != end)
		exit(1);
	b[end] = '\0';
	close(f->rec);
	return b;
}

static char	*msg;
static size_t	 msglen;
static int	 msgfd = -1;

static void
make_message(void)
{
	size_t	i, off;

	msglen = 300 * 1024 + 7;
	if ((msg = malloc(msglen)) == NULL)
		exit(1);
	off = (size_t)snprintf(msg, msglen, "From: a@example.org\r\n"
	    "Subject: test\r\n\r\n");
	for (i = off; i < msglen; i++)
		msg[i] = (i % 78 == 77) ? '\n' : (char)('a' + i % 26);
	if ((msgfd = memfd_sealed_from("msg", msg, msglen)) == -1)
		exit(1);
}

static const char *const rcpts[] = { "bob@example.test",
	"carol@example.test" };

static struct spam_req
request(void)
{
	struct spam_req	q;

	memset(&q, 0, sizeof(q));
	q.ip = "192.0.2.10";
	q.helo = "mail.example.org";
	q.from = "alice@example.org";
	q.user = NULL;
	q.queue_id = "0123456789abcdef";
	q.hostname = "mail.example.org";
	q.rcpts = rcpts;
	q.nrcpts = 2;
	q.fd = msgfd;
	q.size = msglen;
	q.timeout_ms = 5000;
	return q;
}

static void
test_check_request(void)
{
	struct spam_client	*c;
	struct spam_req		 q = request();
	struct fake		 f;
	char			*got, *body, *h;
	size_t			 len;

	test_begin("spam_check: the request's headers and body, the reply");
	fake_start(&f, FAKE_OK, 2);
	test_assert((c = spam_client_new(f.url, err, sizeof(err))) != NULL);
	test_assert(spam_check(c, &q, &res, err, sizeof(err)) == 0);
	test_assert(res.score == 750 && res.action == SPAM_ADD_HEADER);
	test_assert(res.spf == SPAM_AUTH_PASS);
	test_assert_streq(res.symbols, "FAKE,R_SPF_ALLOW");
	/* hostile values are left out; the null sender is <> */
	q.helo = "evil\r\nX-Injected: 1";
	q.from = "";
	q.user = "alice@example.org";
	q.hostname = "tab\there";
	q.queue_id = "";
	q.ip = "192.0.2.10\x7f";
	q.nrcpts = 1;
	test_assert(spam_check(c, &q, &res, err, sizeof(err)) == 0);
	spam_client_free(c);
	/* both on one connection: the handle keeps it */
	test_assert(fake_stop(&f, false) == 1);
	got = fake_received(&f, &len);
	/* the first request */
	h = got;
	test_assert(strncmp(h, "POST /checkv2 HTTP/1.1\r\n", 24) == 0);
	body = strstr(h, "\r\n\r\n");
	test_assert(body != NULL);
	body[2] = '\0';		/* the headers, each ending in CR LF */
	body += 4;
	test_assert(strstr(h, "\r\nIP: 192.0.2.10\r\n") != NULL);
	test_assert(strstr(h, "\r\nHelo: mail.example.org\r\n") != NULL);
	test_assert(strstr(h, "\r\nFrom: alice@example.org\r\n") != NULL);
	test_assert(strstr(h, "\r\nRcpt: bob@example.test\r\n") != NULL);
	test_assert(strstr(h, "\r\nRcpt: carol@example.test\r\n") != NULL);
	test_assert(strstr(h, "\r\nQueue-Id: 0123456789abcdef\r\n") != NULL);
	test_assert(strstr(h, "\r\nHostname: mail.example.org\r\n") != NULL);
	test_assert(strstr(h, "\r\nUser:") == NULL);
	test_assert(strcasestr(h, "\r\nExpect:") == NULL);
	test_assert(strcasestr(h, "\r\nContent-Type:") == NULL);
	test_assert(strcasestr(h, "\r\nContent-Length: 307207\r\n") != NULL);
	test_assert(memcmp(body, msg, msglen) == 0);
	/* the second */
	h = body + msglen;
	test_assert(strncmp(h, "POST /checkv2 HTTP/1.1\r\n", 24) == 0);
	body = strstr(h, "\r\n\r\n");
	test_assert(body != NULL);
	body[2] = '\0';		/* the headers, each ending in CR LF */
	body += 4;
	test_assert(strstr(h, "\r\nFrom: <>\r\n") != NULL);
	test_assert(strstr(h, "\r\nUser: alice@example.org\r\n") != NULL);
	test_assert(strstr(h, "\r\nRcpt: bob@example.test\r\n") != NULL);
	test_assert(strstr(h, "carol") == NULL);
	test_assert(strstr(h, "Helo") == NULL);
	test_assert(strstr(h, "Injected") == NULL);
	test_assert(strstr(h, "Hostname") == NULL);
	test_assert(strstr(h, "Queue-Id") == NULL);
	test_assert(strstr(h, "\r\nIP:") == NULL);
	test_assert(memcmp(body, msg, msglen) == 0);
	test_assert(body + msglen == got + len);
	free(got);
	test_end();
}

static void
test_check_reconnect(void)
{
	struct spam_client	*c;
	struct spam_req		 q = request();
	struct fake		 f;
	size_t			 len;
	int			 i;

	test_begin("spam_check: a server that closes: a new connection each");
	fake_start(&f, FAKE_CLOSE, 3);
	test_assert((c = spam_client_new(f.url, err, sizeof(err))) != NULL);
	for (i = 0; i < 3; i++) {
		test_assert(spam_check(c, &q, &res, err, sizeof(err)) == 0);
		test_assert(res.score == 750);
	}
	spam_client_free(c);
	test_assert(fake_stop(&f, false) == 3);
	free(fake_received(&f, &len));
	test_assert(len > 3 * msglen);
	test_end();
}

static void
test_check_errors(void)
{
	static const struct {
		enum fake_mode	 mode;
		const char	*says;
	} t[] = {
		{ FAKE_500, "HTTP status 500: bad??thing??" },
		{ FAKE_BIG, "reply longer than 1048576 bytes" },
		{ FAKE_BIG_CHUNKED, "reply longer than 1048576 bytes" },
		{ FAKE_JUNK, "malformed reply: malformed JSON" },
		{ FAKE_SILENT, "timeout (no reply within 300 ms)" },
	};
	struct spam_client	*c;
	struct spam_req		 q = request();
	struct fake		 f;
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	char			 url[64];
	size_t			 i, len;
	int			 s, shortfd;

	test_begin("spam_check: refused, timeout, HTTP errors, bad replies");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fake_start(&f, t[i].mode, 1);
		c = spam_client_new(f.url, err, sizeof(err));
		test_assert(c != NULL);
		q.timeout_ms = t[i].mode == FAKE_SILENT ? 300 : 5000;
		memset(&res, 0xa5, sizeof(res));
		err[0] = '\0';
		test_assert(spam_check(c, &q, &res, err, sizeof(err)) == -1);
		test_assert(strstr(err, t[i].says) != NULL);
		if (strstr(err, t[i].says) == NULL)
			printf("# %s\n", err);
		test_assert(res_zero());
		spam_client_free(c);
		fake_stop(&f, t[i].mode == FAKE_SILENT);
		free(fake_received(&f, &len));
	}
	/* a port nobody listens on */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	test_assert(bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert(getsockname(s, (struct sockaddr *)&sin, &slen) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sin.sin_port));
	close(s);
	c = spam_client_new(url, err, sizeof(err));
	test_assert(c != NULL);
	q.timeout_ms = 5000;
	test_assert(spam_check(c, &q, &res, err, sizeof(err)) == -1);
	test_assert(strstr(err, "connection refused") != NULL);
	/* a message shorter than its size; bad requests */
	shortfd = memfd_sealed_from("short", "abc", 3);
	q.fd = shortfd;
	q.size = 10;
	fake_start(&f, FAKE_OK, 1);
	spam_client_free(c);
	c = spam_client_new(f.url, err, sizeof(err));
	test_assert(spam_check(c, &q, &res, err, sizeof(err)) == -1);
	test_assert(strstr(err, "message shorter than its size") != NULL);
	fake_stop(&f, true);
	free(fake_received(&f, &len));
	close(shortfd);
	q = request();
	q.timeout_ms = 0;
	test_assert(spam_check(c, &q, &res, err, sizeof(err)) == -1);
	q = request();
	q.fd = -1;
	test_assert(spam_check(c, &q, &res, err, sizeof(err)) == -1);
	spam_client_free(c);
	test_end();
}

/* --- a real rspamd, when there is one ------------------------------------ */

static void
test_check_rspamd(void)
{
	static const char ham[] = "From: Alice <alice@example.org>\r\n"
	    "To: Bob <bob@example.test>\r\nSubject: lunch tomorrow\r\n"
	    "Date: Thu, 01 Jan 2026 12:00:00 +0000\r\n"
	    "Message-ID: <123@example.org>\r\n\r\nHi Bob,\r\n\r\nlunch?\r\n";
	static const char gtube[] = "From: a@example.org\r\nSubject: x\r\n\r\n"
	    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL"
	    "*C.34X\r\n";
	const char		*url = getenv("SEALPOST_TEST_RSPAMD_URL");
	struct spam_client	*c;
	struct spam_req		 q;
	int			 i;

	if (url == NULL || url[0] == '\0') {
		test_skip("spam_check: a real rspamd",
		    "SEALPOST_TEST_RSPAMD_URL not set");
		return;
	}
	test_begin("spam_check: a real rspamd (SEALPOST_TEST_RSPAMD_URL)");
	c = spam_client_new(url, err, sizeof(err));
	test_assert(c != NULL);
	if (c == NULL) {
		test_end();
		return;
	}
	q = request();
	for (i = 0; i < 3; i++) {
		q.fd = memfd_sealed_from("m", i == 1 ? gtube : ham,
		    i == 1 ? sizeof(gtube) - 1 : sizeof(ham) - 1);
		q.size = i == 1 ? sizeof(gtube) - 1 : sizeof(ham) - 1;
		q.from = i == 2 ? "" : "alice@example.org";
		q.timeout_ms = 20000;
		test_assert(spam_check(c, &q, &res, err, sizeof(err)) == 0);
		if (i == 1) {
			test_assert(res.action == SPAM_REJECT);
			test_assert(res.skipped);
		} else {
			test_assert(res.action != SPAM_UNKNOWN && !res.skipped);
			test_assert(res.required == 1500);
			test_assert(res.dkim == SPAM_AUTH_NONE);
		}
		close(q.fd);
	}
	/* the whole 300 KiB message */
	q = request();
	test_assert(spam_check(c, &q, &res, err, sizeof(err)) == 0);
	spam_client_free(c);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_parse_real, test_parse_malformed, test_parse_numbers,
		test_parse_actions, test_parse_symbols, test_parse_limits,
		test_parse_utf8, test_headers_exact, test_headers_scores,
		test_headers_fold, test_headers_sanitize, test_headers_small,
		test_url, test_check_request, test_check_reconnect,
		test_check_errors, test_check_rspamd, NULL
	};

	if (spam_global_init() == -1) {
		printf("Bail out! spam_global_init\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	make_message();
	return test_run(tests);
}
