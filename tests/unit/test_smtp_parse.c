/* SPDX-License-Identifier: ISC */
/*
 * test_smtp_parse.c - the SMTP command parsers (smtp_parse.c): verbs,
 * paths and ESMTP parameters of MAIL and RCPT, limits, SMTPUTF8, xtext,
 * HELO/EHLO arguments, AUTH and its SASL PLAIN and LOGIN payloads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "smtp_parse.h"
#include "test.h"
#include "sasl.h"
#include "banned.h"

#define ALL	(SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 | \
		    SMTP_EXT_DSN | SMTP_EXT_AUTH)

static struct smtp_mail	m;
static struct smtp_rcpt	rc;

static enum smtp_perr
mail(const char *args)
{
	return smtp_parse_mail(args, ALL, &m);
}

static enum smtp_perr
rcpt(const char *args)
{
	return smtp_parse_rcpt(args, ALL, false, &rc);
}

/* A string of n copies of c into buf (sized by the caller, n < size). */
static char *
fill(char *buf, size_t size, char c, size_t n)
{
	if (n >= size)
		n = size - 1;
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* "FROM:<addr>" or "TO:<addr>" plus tail into buf. */
static const char *
path(char *buf, size_t size, const char *cmd, const char *addr,
    const char *tail)
{
	int	n;

	n = snprintf(buf, size, "%s<%s>%s", cmd, addr, tail);
	test_assert(n > 0 && (size_t)n < size);
	return buf;
}

/* base64 of len bytes of bin into out. */
static const char *
b64(char *out, size_t outlen, const void *bin, size_t len)
{
	return sodium_bin2base64(out, outlen, bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
}

static void
test_verbs(void)
{
	static const struct {
		const char	*line;
		enum smtp_verb	 verb;
	} v[] = {
		{ "HELO x", SMTP_V_HELO }, { "EHLO x", SMTP_V_EHLO },
		{ "MAIL x", SMTP_V_MAIL }, { "RCPT x", SMTP_V_RCPT },
		{ "DATA x", SMTP_V_DATA }, { "BDAT x", SMTP_V_BDAT },
		{ "RSET x", SMTP_V_RSET }, { "NOOP x", SMTP_V_NOOP },
		{ "QUIT x", SMTP_V_QUIT }, { "HELP x", SMTP_V_HELP },
		{ "VRFY x", SMTP_V_VRFY }, { "EXPN x", SMTP_V_EXPN },
		{ "STARTTLS x", SMTP_V_STARTTLS }, { "AUTH x", SMTP_V_AUTH },
		{ "XSPTEST x", SMTP_V_XSPTEST }, { "ehlo x", SMTP_V_EHLO },
		{ "StartTls x", SMTP_V_STARTTLS }
	};
	const char	*args;
	size_t		 i;

	test_begin("verbs: every one, any case, args after one space");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		args = NULL;
		test_assert(smtp_parse_verb(v[i].line, &args) == v[i].verb);
		test_assert(args != NULL && strcmp(args, "x") == 0);
	}
	test_assert(smtp_parse_verb("QUIT", &args) == SMTP_V_QUIT);
	test_assert_streq(args, "");
	test_assert(smtp_parse_verb("MAIL  FROM:<>", &args) == SMTP_V_MAIL);
	test_assert_streq(args, " FROM:<>");	/* the MAIL parser refuses */
	test_assert(smtp_parse_verb("DATA ", &args) == SMTP_V_DATA);
	test_assert_streq(args, "");
	test_end();

	test_begin("verbs: unknown ones");
	test_assert(smtp_parse_verb("", &args) == SMTP_V_UNKNOWN);
	test_assert_streq(args, "");
	test_assert(smtp_parse_verb("MAILX FROM:<>", &args) ==
	    SMTP_V_UNKNOWN);
	test_assert_streq(args, "");
	test_assert(smtp_parse_verb("MAIL\tFROM:<>", &args) ==
	    SMTP_V_UNKNOWN);
	test_assert(smtp_parse_verb("MAI", &args) == SMTP_V_UNKNOWN);
	test_assert(smtp_parse_verb(" MAIL", &args) == SMTP_V_UNKNOWN);
	test_assert(smtp_parse_verb("STARTTLS\r", &args) == SMTP_V_UNKNOWN);
	test_assert(smtp_parse_verb("LHLO x", &args) == SMTP_V_UNKNOWN);
	test_end();
}

static void
test_mail_good(void)
{
	test_begin("MAIL: a path and every parameter");
	test_assert(mail("FROM:<a@example.com>") == SMTP_P_OK);
	test_assert_streq(m.addr, "a@example.com");
	test_assert(!m.utf8 && !m.has_size && m.body == SMTP_BODY_NONE &&
	    !m.smtputf8 && m.ret == SMTP_RET_NONE && !m.has_auth);
	test_assert_streq(m.envid, "");
	test_assert(mail("from:<Some.One+tag@Mail.Example.COM> SIZE=1000 "
	    "BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2B123+20x "
	    "AUTH=a+2Bb@example.com") == SMTP_P_OK);
	test_assert_streq(m.addr, "Some.One+tag@Mail.Example.COM");
	test_assert(m.has_size && m.size == 1000);
	test_assert(m.body == SMTP_BODY_8BITMIME && m.smtputf8);
	test_assert(m.ret == SMTP_RET_HDRS);
	test_assert_streq(m.envid, "QQ+123 x");
	test_assert(m.has_auth);
	test_assert_streq(m.auth, "a+b@example.com");
	test_assert(mail("FROM:<a@b> body=7bit ret=full size=0 auth=<>") ==
	    SMTP_P_OK);
	test_assert(m.body == SMTP_BODY_7BIT && m.ret == SMTP_RET_FULL);
	test_assert(m.has_size && m.size == 0);
	test_assert(m.has_auth);
	test_assert_streq(m.auth, "");
	test_assert(mail("FROM:<a@b> AUTH=+3C+3E") == SMTP_P_OK);
	test_assert(m.has_auth && m.auth[0] == '\0');
	test_assert(mail("FROM:<a@b> SIZE=18446744073709551615") ==
	    SMTP_P_OK);
	test_assert(m.size == UINT64_MAX);
	test_assert(mail("FROM:<a@b> SIZE=00000000000000000042") ==
	    SMTP_P_OK);
	test_assert(m.size == 42);
	test_assert(mail("FROM:<!#$%&'*+-/=?^_`{|}~@x.example>") ==
	    SMTP_P_OK);
	test_end();
}

static void
test_mail_null(void)
{
	test_begin("MAIL: the null reverse-path");
	test_assert(mail("FROM:<>") == SMTP_P_OK);
	test_assert_streq(m.addr, "");
	test_assert(mail("FROM:<> SIZE=12 BODY=8BITMIME") == SMTP_P_OK);
	test_assert_streq(m.addr, "");
	test_assert(m.size == 12);
	test_assert(mail("FROM:<> SMTPUTF8") == SMTP_P_OK);
	test_assert(mail("FROM:< >") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<<>>") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<>>") == SMTP_P_SYNTAX);
	test_assert(rcpt("TO:<>") == SMTP_P_ADDRESS);
	test_end();
}

static void
test_mail_syntax(void)
{
	test_begin("MAIL/RCPT: no space before the path, one between params");
	test_assert(mail("FROM: <a@b>") == SMTP_P_SYNTAX);
	test_assert(rcpt("TO: <a@b>") == SMTP_P_SYNTAX);
	test_assert(mail("FROM :<a@b>") == SMTP_P_SYNTAX);
	test_assert(mail(" FROM:<a@b>") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:a@b") == SMTP_P_SYNTAX);
	test_assert(mail("FROM<a@b>") == SMTP_P_SYNTAX);
	test_assert(mail("TO:<a@b>") == SMTP_P_SYNTAX);
	test_assert(rcpt("FROM:<a@b>") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> ") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b>  SIZE=1") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> SIZE=1 ") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> SIZE=1  BODY=7BIT") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b>SIZE=1") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b>\tSIZE=1") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> -SIZE=1") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> SI_ZE=1") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> SIZE=1=2") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> =1") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> ENVID=a\tb") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b> ENVID=a\x7f") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b>\r") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<a@b\r>") == SMTP_P_ADDRESS);
	test_assert(m.addr[0] == '\0');		/* zeroed on errors */
	test_end();
}

static void
test_params(void)
{
	test_begin("parameters: repeated, unknown, not offered");
	test_assert(mail("FROM:<a@b> SIZE=1 SIZE=2") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> SIZE=1 size=1") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> SMTPUTF8 SMTPUTF8") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> BODY=7BIT BODY=7BIT") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> FOO=bar") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> X-FOO") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> SIZ=1") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> SIZEX=1") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> NOTIFY=NEVER") == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> ORCPT=rfc822;a@b") == SMTP_P_PARAM);
	test_assert(rcpt("TO:<a@b> SIZE=1") == SMTP_P_PARAM);
	test_assert(rcpt("TO:<a@b> SMTPUTF8") == SMTP_P_PARAM);
	test_assert(rcpt("TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER") ==
	    SMTP_P_PARAM);
	test_assert(rcpt("TO:<a@b> ORCPT=rfc822;a ORCPT=rfc822;a") ==
	    SMTP_P_PARAM);
	test_assert(smtp_parse_mail("FROM:<a@b> SIZE=1", 0, &m) ==
	    SMTP_P_PARAM);
	test_assert(smtp_parse_mail("FROM:<a@b> SIZE=1", ALL &
	    ~SMTP_EXT_SIZE, &m) == SMTP_P_PARAM);
	test_assert(smtp_parse_mail("FROM:<a@b> BODY=8BITMIME", ALL &
	    ~SMTP_EXT_8BITMIME, &m) == SMTP_P_PARAM);
	test_assert(smtp_parse_mail("FROM:<a@b> SMTPUTF8", ALL &
	    ~SMTP_EXT_SMTPUTF8, &m) == SMTP_P_PARAM);
	test_assert(smtp_parse_mail("FROM:<a@b> RET=FULL", ALL &
	    ~SMTP_EXT_DSN, &m) == SMTP_P_PARAM);
	test_assert(smtp_parse_mail("FROM:<a@b> ENVID=x", ALL &
	    ~SMTP_EXT_DSN, &m) == SMTP_P_PARAM);
	test_assert(smtp_parse_mail("FROM:<a@b> AUTH=<>", ALL &
	    ~SMTP_EXT_AUTH, &m) == SMTP_P_PARAM);
	test_assert(smtp_parse_rcpt("TO:<a@b> NOTIFY=NEVER", ALL &
	    ~SMTP_EXT_DSN, true, &rc) == SMTP_P_PARAM);
	test_assert(smtp_parse_mail("FROM:<a@b> SIZE=1", SMTP_EXT_SIZE,
	    &m) == SMTP_P_OK);
	test_end();

	test_begin("parameters: bad values");
	test_assert(mail("FROM:<a@b> SIZE") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> SIZE=") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> SIZE=-1") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> SIZE=1k") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> SIZE=+1") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> SIZE=99999999999999999999999") ==
	    SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> SIZE=18446744073709551616") ==
	    SMTP_P_PARAM_VALUE);			/* 2^64, 20 digits */
	test_assert(mail("FROM:<a@b> SIZE=000000000000000000001") ==
	    SMTP_P_PARAM_VALUE);			/* 21 digits */
	test_assert(mail("FROM:<a@b> BODY=BINARYMIME") ==
	    SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> BODY") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> BODY=8BIT") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> SMTPUTF8=yes") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> RET=ALL") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> RET") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID=") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID=\xc3\xa9") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> AUTH=") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> AUTH=nobody") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> AUTH=<a@b>") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> AUTH=a+0D@b") == SMTP_P_PARAM_VALUE);
	test_end();
}

static void
test_rcpt_good(void)
{
	test_begin("RCPT: a path, NOTIFY and ORCPT");
	test_assert(rcpt("TO:<x@example.com>") == SMTP_P_OK);
	test_assert_streq(rc.addr, "x@example.com");
	test_assert(!rc.utf8 && !rc.postmaster && rc.notify == 0);
	test_assert_streq(rc.orcpt, "");
	test_assert(rcpt("to:<x@example.com> NOTIFY=SUCCESS,FAILURE,DELAY "
	    "ORCPT=rfc822;x+2Bdsn@example.com") == SMTP_P_OK);
	test_assert(rc.notify == (SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE |
	    SMTP_NOTIFY_DELAY));
	test_assert_streq(rc.orcpt, "rfc822;x+dsn@example.com");
	test_assert(rcpt("TO:<x@y> notify=never orcpt=utf-8;a+40b") ==
	    SMTP_P_OK);
	test_assert(rc.notify == SMTP_NOTIFY_NEVER);
	test_assert_streq(rc.orcpt, "utf-8;a@b");
	test_assert(rcpt("TO:<x@y> NOTIFY=delay") == SMTP_P_OK);
	test_assert(rc.notify == SMTP_NOTIFY_DELAY);
	test_end();

	test_begin("RCPT: bad NOTIFY and ORCPT");
	test_assert(rcpt("TO:<x@y> NOTIFY=NEVER,SUCCESS") ==
	    SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> NOTIFY=FAILURE,NEVER") ==
	    SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> NOTIFY=") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> NOTIFY") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> NOTIFY=SUCCESS,") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> NOTIFY=,SUCCESS") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> NOTIFY=SUCCESS,,DELAY") ==
	    SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> NOTIFY=ALWAYS") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> ORCPT") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> ORCPT=a@b") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> ORCPT=;a@b") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> ORCPT=rfc822;") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> ORCPT=rfc822") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> ORCPT=rf(c;a") == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> ORCPT=rfc822;a+0Ab") ==
	    SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<x@y> ORCPT=rfc822;a;b") == SMTP_P_OK);
	test_assert_streq(rc.orcpt, "rfc822;a;b");	/* ";" is an xchar */
	test_end();
}

static void
test_postmaster(void)
{
	test_begin("RCPT: <Postmaster> without a domain");
	test_assert(rcpt("TO:<Postmaster>") == SMTP_P_OK);
	test_assert(rc.postmaster);
	test_assert_streq(rc.addr, "postmaster");
	test_assert(rcpt("TO:<pOSTMASTER> NOTIFY=NEVER") == SMTP_P_OK);
	test_assert(rc.postmaster && rc.notify == SMTP_NOTIFY_NEVER);
	test_assert(rcpt("TO:<Postmaster@example.com>") == SMTP_P_OK);
	test_assert(!rc.postmaster);
	test_assert_streq(rc.addr, "Postmaster@example.com");
	test_assert(rcpt("TO:<@a.example:Postmaster>") == SMTP_P_ADDRESS);
	test_assert(rcpt("TO:<\"Postmaster\">") == SMTP_P_ADDRESS);
	test_assert(rcpt("TO:<Postmaster >") == SMTP_P_ADDRESS);
	test_assert(rcpt("TO:<Postmasters>") == SMTP_P_ADDRESS);
	test_assert(rcpt("TO:<abuse>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<Postmaster>") == SMTP_P_ADDRESS);
	test_end();
}

static void
test_source_route(void)
{
	char	buf[400], dom[64];

	test_begin("source routes: checked, then dropped");
	test_assert(mail("FROM:<@a.example,@b.example:x@y.example>") ==
	    SMTP_P_OK);
	test_assert_streq(m.addr, "x@y.example");
	test_assert(rcpt("TO:<@relay.example:x@y.example>") == SMTP_P_OK);
	test_assert_streq(rc.addr, "x@y.example");
	test_assert(mail("FROM:<@a.example:>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@a.example>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@:x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@a,b:x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@a,:x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@a,@:x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@a x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@-a:x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@[192.0.2.1]:x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@a:@b:x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@a:b:x@y>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@a.example:x@y> SMTPUTF8") == SMTP_P_OK);
	test_assert(mail("FROM:<@\xc3\xa9.example:x@y>") == SMTP_P_UTF8);
	test_assert(mail("FROM:<@\xc3\xa9.example:x@y> SMTPUTF8") ==
	    SMTP_P_OK);
	test_assert(!m.utf8);		/* the address itself is ASCII */
	/* RFC 5321 4.5.3.1.3: the route counts towards the 256 */
	fill(dom, sizeof(dom), 'r', 63);
	snprintf(buf, sizeof(buf), "FROM:<@%s,@%s,@%s,@%s:x@y>", dom, dom,
	    dom, dom);
	test_assert(mail(buf) == SMTP_P_TOOLONG);
	snprintf(buf, sizeof(buf), "FROM:<@%s,@%s,@%s,@%.50s:x@y>", dom, dom,
	    dom, dom);
	test_assert(mail(buf) == SMTP_P_OK);	/* 252 */
	test_end();
}

static void
test_quoted(void)
{
	char	buf[128];

	test_begin("quoted local parts and quoted-pairs");
	test_assert(mail("FROM:<\"a b\"@example.com>") == SMTP_P_OK);
	test_assert_streq(m.addr, "\"a b\"@example.com");
	test_assert(mail("FROM:<\"a\\\"b\"@example.com>") == SMTP_P_OK);
	test_assert_streq(m.addr, "\"a\\\"b\"@example.com");
	test_assert(mail("FROM:<\"a\\\\b\"@example.com>") == SMTP_P_OK);
	test_assert(mail("FROM:<\"a>b@c\"@example.com>") == SMTP_P_OK);
	test_assert_streq(m.addr, "\"a>b@c\"@example.com");
	test_assert(mail("FROM:<\"\\ \"@example.com>") == SMTP_P_OK);
	test_assert(mail("FROM:<\"\"@example.com>") == SMTP_P_OK);
	test_assert(rcpt("TO:<\"a.b..c.\"@example.com>") == SMTP_P_OK);
	test_assert(mail("FROM:<\"a\tb\"@example.com>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\"a\\\tb\"@example.com>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\"a\x7f\"@example.com>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\"a\\\x7f\"@example.com>") ==
	    SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\"a\"b@example.com>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a\"b\"@example.com>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\"a\"\"b\"@example.com>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\"ab@example.com>") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<\"ab\\>") == SMTP_P_SYNTAX);
	test_assert(mail("FROM:<\"ab\">") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\"\xc3\xa9\"@x> SMTPUTF8") == SMTP_P_OK);
	test_assert(mail("FROM:<\"\xc3\xa9\"@x>") == SMTP_P_UTF8);
	test_end();

	test_begin("dot-strings");
	test_assert(mail("FROM:<a.b.c@x>") == SMTP_P_OK);
	test_assert(mail("FROM:<.a@x>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a.@x>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a..b@x>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a b@x>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a(b)@x>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a@b@x>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<@x>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a@>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a>") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a\\b@x>") == SMTP_P_ADDRESS);
	test_assert(mail(path(buf, sizeof(buf), "FROM:", "a\x01@x", "")) ==
	    SMTP_P_ADDRESS);
	test_end();
}

static void
test_literals(void)
{
	static const char *good[] = {
		"x@[192.0.2.1]", "x@[0.0.0.0]", "x@[255.255.255.255]",
		"x@[IPv6:2001:db8::1]", "x@[ipv6:::1]", "x@[IPV6:::]",
		"x@[IPv6:::ffff:192.0.2.1]",
		"x@[IPv6:2001:DB8:0:0:0:0:0:1]",
		"x@[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]",
		NULL
	};
	static const char *bad[] = {
		"x@[256.1.1.1]", "x@[1.2.3]", "x@[1.2.3.4.5]", "x@[01.2.3.4]",
		"x@[1.2.3.4 ]", "x@[ 1.2.3.4]", "x@[1.2.3.-4]", "x@[]",
		"x@[1.2.3.4", "x@1.2.3.4]", "x@[1.2.3.4]x", "x@[1.2.3.4].x",
		"x@[IPv6:]", "x@[IPv6:2001:db8::g]", "x@[IPv6:1::2::3]",
		"x@[IPv6:1.2.3.4]", "x@[2001:db8::1]", "x@[IPv6 ::1]",
		"x@[IPv6::::1]", "x@[IPv6:fe80::1%eth0]", "x@[tag:stuff]",
		"x@[IPv4:1.2.3.4]", "x@[x.example]",
		"x@[IPv6:0000:0000:0000:0000:0000:0000:0000:0000:0]",
		"x@[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555]",
		NULL
	};
	char	buf[128];
	size_t	i;

	test_begin("address literals: IPv4 and IPv6");
	for (i = 0; good[i] != NULL; i++) {
		test_assert(smtp_valid_mailbox(good[i], strlen(good[i]),
		    false) == 0);
		test_assert(rcpt(path(buf, sizeof(buf), "TO:", good[i], "")) ==
		    SMTP_P_OK);
		test_assert_streq(rc.addr, good[i]);
	}
	for (i = 0; bad[i] != NULL; i++) {
		test_assert(smtp_valid_mailbox(bad[i], strlen(bad[i]),
		    true) == -1);
		test_assert(rcpt(path(buf, sizeof(buf), "TO:", bad[i], "")) ==
		    SMTP_P_ADDRESS);
	}
	test_end();
}

static void
test_limits(void)
{
	char	local[80], l63[64], l64[65], addr[300], buf[400];

	fill(l63, sizeof(l63), 'd', 63);
	fill(l64, sizeof(l64), 'd', 64);

	test_begin("limits: local part 64, label 63");
	snprintf(addr, sizeof(addr), "%s@x.example",
	    fill(local, sizeof(local), 'l', 64));
	test_assert(smtp_valid_mailbox(addr, strlen(addr), false) == 0);
	test_assert(mail(path(buf, sizeof(buf), "FROM:", addr, "")) ==
	    SMTP_P_OK);
	test_assert_streq(m.addr, addr);
	snprintf(addr, sizeof(addr), "%s@x.example",
	    fill(local, sizeof(local), 'l', 65));
	test_assert(smtp_valid_mailbox(addr, strlen(addr), false) == -1);
	test_assert(mail(path(buf, sizeof(buf), "FROM:", addr, "")) ==
	    SMTP_P_TOOLONG);
	/* quotes count: 62 + 2 = 64 fits, 63 + 2 does not */
	snprintf(addr, sizeof(addr), "\"%s\"@x",
	    fill(local, sizeof(local), ' ', 62));
	test_assert(rcpt(path(buf, sizeof(buf), "TO:", addr, "")) ==
	    SMTP_P_OK);
	snprintf(addr, sizeof(addr), "\"%s\"@x",
	    fill(local, sizeof(local), ' ', 63));
	test_assert(rcpt(path(buf, sizeof(buf), "TO:", addr, "")) ==
	    SMTP_P_TOOLONG);
	snprintf(addr, sizeof(addr), "a@%s.example", l63);
	test_assert(rcpt(path(buf, sizeof(buf), "TO:", addr, "")) ==
	    SMTP_P_OK);
	snprintf(addr, sizeof(addr), "a@%s.example", l64);
	test_assert(rcpt(path(buf, sizeof(buf), "TO:", addr, "")) ==
	    SMTP_P_TOOLONG);
	test_assert(smtp_valid_mailbox(addr, strlen(addr), false) == -1);
	test_end();

	test_begin("limits: a 254-octet address in a 256-octet path");
	/* 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 */
	snprintf(addr, sizeof(addr), "%s@%s.%s.%.61s",
	    fill(local, sizeof(local), 'l', 64), l63, l63, l63);
	test_assert(strlen(addr) == SMTP_ADDR_MAX);
	test_assert(smtp_valid_mailbox(addr, strlen(addr), false) == 0);
	test_assert(mail(path(buf, sizeof(buf), "FROM:", addr,
	    " SIZE=1")) == SMTP_P_OK);
	test_assert_streq(m.addr, addr);
	test_assert(rcpt(path(buf, sizeof(buf), "TO:", addr, "")) ==
	    SMTP_P_OK);
	test_assert_streq(rc.addr, addr);
	snprintf(addr, sizeof(addr), "%s@%s.%s.%.62s",
	    fill(local, sizeof(local), 'l', 64), l63, l63, l63);
	test_assert(strlen(addr) == SMTP_ADDR_MAX + 1);
	test_assert(smtp_valid_mailbox(addr, strlen(addr), false) == -1);
	test_assert(mail(path(buf, sizeof(buf), "FROM:", addr, "")) ==
	    SMTP_P_TOOLONG);
	test_assert(rcpt(path(buf, sizeof(buf), "TO:", addr, "")) ==
	    SMTP_P_TOOLONG);
	test_assert(rc.addr[0] == '\0');
	test_end();

	test_begin("limits: a 255-octet domain");
	/* 63 + 1 + 63 + 1 + 63 + 1 + 63 = 255 */
	snprintf(addr, sizeof(addr), "%s.%s.%s.%s", l63, l63, l63, l63);
	test_assert(strlen(addr) == SMTP_DOMAIN_MAX);
	test_assert(smtp_valid_helo(addr) == 0);
	snprintf(addr, sizeof(addr), "%s.%s.%s.%s.x", l63, l63, l63, l63);
	test_assert(smtp_valid_helo(addr) == -1);
	snprintf(addr, sizeof(addr), "%s.%s.%s.%sd", l63, l63, l63, l63);
	test_assert(smtp_valid_helo(addr) == -1);
	/* a mailbox can hold at most 252 of them */
	snprintf(addr, sizeof(addr), "a@%s.%s.%s.%.60s", l63, l63, l63, l63);
	test_assert(smtp_valid_mailbox(addr, strlen(addr), false) == 0);
	snprintf(addr, sizeof(addr), "a@%s.%s.%s.%s", l63, l63, l63, l63);
	test_assert(smtp_valid_mailbox(addr, strlen(addr), false) == -1);
	test_end();
}

static void
test_utf8(void)
{
	const char	*u = "FROM:<j\xc3\xb6rg@m\xc3\xbcller.example>";

	test_begin("UTF-8 addresses need SMTPUTF8 (RFC 6531)");
	test_assert(mail(u) == SMTP_P_UTF8);
	test_assert(mail("FROM:<j\xc3\xb6rg@m\xc3\xbcller.example> "
	    "SMTPUTF8") == SMTP_P_OK);
	test_assert(m.utf8 && m.smtputf8);
	test_assert_streq(m.addr, "j\xc3\xb6rg@m\xc3\xbcller.example");
	test_assert(smtp_parse_mail("FROM:<j\xc3\xb6rg@x> SMTPUTF8",
	    ALL & ~SMTP_EXT_SMTPUTF8, &m) == SMTP_P_PARAM);
	test_assert(mail("FROM:<a@b> SMTPUTF8") == SMTP_P_OK);
	test_assert(!m.utf8 && m.smtputf8);
	test_assert(mail("FROM:<\xe2\x82\xac\xf0\x9f\x98\x80@x> SMTPUTF8") ==
	    SMTP_P_OK);
	test_assert(smtp_parse_rcpt("TO:<\xe5\x8f\xb8@x.example>", ALL,
	    true, &rc) == SMTP_P_OK);
	test_assert(rc.utf8);
	test_assert(smtp_parse_rcpt("TO:<\xe5\x8f\xb8@x.example>", ALL,
	    false, &rc) == SMTP_P_UTF8);
	test_assert(smtp_parse_rcpt("TO:<a@x.example>", ALL, true, &rc) ==
	    SMTP_P_OK);
	test_assert(!rc.utf8);
	test_assert(smtp_valid_mailbox("j\xc3\xb6rg@x", 7, true) == 0);
	test_assert(smtp_valid_mailbox("j\xc3\xb6rg@x", 7, false) == -1);
	test_end();

	test_begin("invalid UTF-8 is refused even with SMTPUTF8");
	test_assert(mail("FROM:<\xc3\x28@x> SMTPUTF8") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\xc3@x> SMTPUTF8") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\xc0\xaf@x> SMTPUTF8") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\xe0\x80\xaf@x> SMTPUTF8") ==
	    SMTP_P_ADDRESS);				/* overlong */
	test_assert(mail("FROM:<\xed\xa0\x80@x> SMTPUTF8") ==
	    SMTP_P_ADDRESS);				/* surrogate */
	test_assert(mail("FROM:<\xf4\x90\x80\x80@x> SMTPUTF8") ==
	    SMTP_P_ADDRESS);				/* > U+10FFFF */
	test_assert(mail("FROM:<\xf8\x88\x80\x80\x80@x> SMTPUTF8") ==
	    SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\xc2\x85@x> SMTPUTF8") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a@\xc2\x9b.x> SMTPUTF8") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\xff@x> SMTPUTF8") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a@\xc3\xa9-.x> SMTPUTF8") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a@x\xc3\xa9..x> SMTPUTF8") ==
	    SMTP_P_ADDRESS);
	test_assert(mail("FROM:<\"\xc3\"@x> SMTPUTF8") == SMTP_P_ADDRESS);
	test_assert(mail("FROM:<a@[\xc3\xa9]> SMTPUTF8") == SMTP_P_ADDRESS);
	test_end();
}

static void
test_xtext(void)
{
	char	out[16], big[SMTP_ENVID_MAX + 8], buf[400];

#define XT(s)	smtp_xtext_decode((s), strlen(s), out, sizeof(out))
	test_begin("xtext (RFC 3461 4)");
	test_assert(XT("") == 0 && out[0] == '\0');
	test_assert(XT("abc") == 0);
	test_assert_streq(out, "abc");
	test_assert(XT("a+2Bb+3Dc+20d") == 0);
	test_assert_streq(out, "a+b=c d");
	test_assert(XT("+7E+21") == 0);
	test_assert_streq(out, "~!");
	test_assert(XT("<>;!~") == 0);
	test_assert(XT("a+0Db") == -1);
	test_assert(out[0] == '\0');
	test_assert(XT("a+0Ab") == -1);
	test_assert(XT("a+00b") == -1);
	test_assert(XT("+09") == -1);
	test_assert(XT("+7F") == -1);
	test_assert(XT("+80") == -1);
	test_assert(XT("+C3+A9") == -1);
	test_assert(XT("+2b") == -1);		/* lower-case hex */
	test_assert(XT("+4") == -1);		/* truncated */
	test_assert(XT("+") == -1);
	test_assert(XT("a+G1") == -1);
	test_assert(XT("a=b") == -1);
	test_assert(XT("a b") == -1);
	test_assert(XT("a\rb") == -1);
	test_assert(XT("\xc3\xa9") == -1);
	test_assert(XT("123456789012345") == 0);	/* 15 fit */
	test_assert(XT("1234567890123456") == -1);
	test_assert(XT("12345678901234+41") == 0);
	test_assert(XT("123456789012345+41") == -1);
	test_assert(smtp_xtext_decode("abc", 3, out, 0) == -1);
	test_assert(smtp_xtext_decode("a\0b", 3, out, sizeof(out)) == -1);
	test_assert(smtp_xtext_decode("+41XYZ", 3, out, sizeof(out)) == 0);
	test_assert_streq(out, "A");
#undef XT
	test_end();

	test_begin("xtext in ENVID, ORCPT and AUTH");
	test_assert(mail("FROM:<a@b> ENVID=a+0Db") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID=a+0Ab") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID=a+00b") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID=a+0db") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID=a+4") == SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID=a+4 SIZE=1") ==
	    SMTP_P_PARAM_VALUE);
	test_assert(mail("FROM:<a@b> ENVID=+41+42") == SMTP_P_OK);
	test_assert_streq(m.envid, "AB");
	snprintf(buf, sizeof(buf), "FROM:<a@b> ENVID=%s",
	    fill(big, sizeof(big), 'e', SMTP_ENVID_MAX));
	test_assert(mail(buf) == SMTP_P_OK);
	test_assert(strlen(m.envid) == SMTP_ENVID_MAX);
	snprintf(buf, sizeof(buf), "FROM:<a@b> ENVID=%s",
	    fill(big, sizeof(big), 'e', SMTP_ENVID_MAX + 1));
	test_assert(mail(buf) == SMTP_P_PARAM_VALUE);
	test_assert(rcpt("TO:<a@b> ORCPT=rfc822;a+0D+0Ab") ==
	    SMTP_P_PARAM_VALUE);
	test_assert(rc.orcpt[0] == '\0');
	test_assert(rcpt("TO:<a@b> ORCPT=rfc822;a+4") == SMTP_P_PARAM_VALUE);
	test_end();
}

static void
test_orcpt_length(void)
{
	char	buf[1200], val[SMTP_ORCPT_MAX + 8];

	test_begin("ORCPT: at most SMTP_ORCPT_MAX decoded");
	/* "rfc822;" and 493 = 500 */
	snprintf(buf, sizeof(buf), "TO:<a@b> ORCPT=rfc822;%s",
	    fill(val, sizeof(val), 'o', SMTP_ORCPT_MAX - 7));
	test_assert(rcpt(buf) == SMTP_P_OK);
	test_assert(strlen(rc.orcpt) == SMTP_ORCPT_MAX);
	snprintf(buf, sizeof(buf), "TO:<a@b> ORCPT=rfc822;%s",
	    fill(val, sizeof(val), 'o', SMTP_ORCPT_MAX - 6));
	test_assert(rcpt(buf) == SMTP_P_PARAM_VALUE);
	snprintf(buf, sizeof(buf), "TO:<a@b> ORCPT=%s;x",
	    fill(val, sizeof(val), 't', SMTP_ORCPT_MAX));
	test_assert(rcpt(buf) == SMTP_P_PARAM_VALUE);
	test_end();
}

static void
test_helo(void)
{
	char	bad[8];
	int	c;

	test_begin("HELO/EHLO arguments");
	test_assert(smtp_valid_helo("mail.example.com") == 0);
	test_assert(smtp_valid_helo("localhost") == 0);
	test_assert(smtp_valid_helo("MX-1.Example.COM") == 0);
	test_assert(smtp_valid_helo("xn--mller-kva.example") == 0);
	test_assert(smtp_valid_helo("1.2.3.4") == 0);	/* a Domain, too */
	test_assert(smtp_valid_helo("[192.0.2.1]") == 0);
	test_assert(smtp_valid_helo("[IPv6:2001:db8::25]") == 0);
	test_assert(smtp_valid_helo("") == -1);
	test_assert(smtp_valid_helo(" mail.example.com") == -1);
	test_assert(smtp_valid_helo("mail.example.com junk") == -1);
	test_assert(smtp_valid_helo("mail.example.com ") == -1);
	test_assert(smtp_valid_helo("[192.0.2.1] junk") == -1);
	test_assert(smtp_valid_helo("[192.0.2.1]junk") == -1);
	test_assert(smtp_valid_helo("[300.0.2.1]") == -1);
	test_assert(smtp_valid_helo("[IPv6:::1") == -1);
	test_assert(smtp_valid_helo("mail.example.com.") == -1);
	test_assert(smtp_valid_helo(".example.com") == -1);
	test_assert(smtp_valid_helo("mail..example.com") == -1);
	test_assert(smtp_valid_helo("-mail.example.com") == -1);
	test_assert(smtp_valid_helo("mail-.example.com") == -1);
	test_assert(smtp_valid_helo("ma_il.example.com") == -1);
	test_assert(smtp_valid_helo("user@example.com") == -1);
	test_assert(smtp_valid_helo("m\xc3\xbcller.example") == -1);
	test_assert(smtp_valid_helo("mail.example.com\r") == -1);
	test_assert(smtp_valid_helo("mail.example.com\n") == -1);
	test_assert(smtp_valid_helo("mail\x7f.example") == -1);
	for (c = 1; c < 0x20; c++) {
		snprintf(bad, sizeof(bad), "a%cb", c);
		test_assert(smtp_valid_helo(bad) == -1);
	}
	test_end();
}

static void
test_auth(void)
{
	char		 mech[21];
	const char	*ir;

	test_begin("AUTH: the mechanism and the initial response");
	test_assert(smtp_parse_auth("PLAIN", mech, &ir) == 0);
	test_assert_streq(mech, "PLAIN");
	test_assert(ir == NULL);
	test_assert(smtp_parse_auth("plain AGEAYg==", mech, &ir) == 0);
	test_assert_streq(mech, "PLAIN");
	test_assert(ir != NULL && strcmp(ir, "AGEAYg==") == 0);
	test_assert(smtp_parse_auth("Login =", mech, &ir) == 0);
	test_assert_streq(mech, "LOGIN");
	test_assert_streq(ir, "=");
	test_assert(smtp_parse_auth("SCRAM-SHA-256 biws", mech, &ir) == 0);
	test_assert_streq(mech, "SCRAM-SHA-256");
	test_assert(smtp_parse_auth("ABCDEFGHIJ_LMNOPQRST", mech, &ir) == 0);
	test_assert(smtp_parse_auth("ABCDEFGHIJKLMNOPQRSTU", mech, &ir) ==
	    -1);				/* 21 */
	test_assert(mech[0] == '\0' && ir == NULL);
	test_assert(smtp_parse_auth("", mech, &ir) == -1);
	test_assert(smtp_parse_auth(" PLAIN", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN ", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN  AGEAYg==", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN AGEAYg== ", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN AGEAYg== x", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN AGEAY", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN AGE=AYg=", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN ====", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN ==", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN AG.A", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PL@IN", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PLAIN\tx", mech, &ir) == -1);
	test_assert(smtp_parse_auth("PL\xc3\x84IN", mech, &ir) == -1);
	test_end();
}

static int
plain(const void *msg, size_t len, char *cid, size_t cidlen,
    unsigned char *pw, size_t pwlen, size_t *pl)
{
	char	enc[2048];

	return sasl_plain_decode(b64(enc, sizeof(enc), msg, len), cid, cidlen,
	    pw, pwlen, pl);
}

#define PLAIN(s) plain((s), sizeof(s) - 1, cid, sizeof(cid), pw, \
	    sizeof(pw), &pl)

static void
test_sasl_plain(void)
{
	char		 cid[32], big[SASL_PLAIN_MAX + 16];
	unsigned char	 pw[16];
	size_t		 pl;

	test_begin("SASL PLAIN (RFC 4616)");
	test_assert(PLAIN("\0user\0s3cret") == 0);
	test_assert_streq(cid, "user");
	test_assert(pl == 6 && memcmp(pw, "s3cret", 7) == 0);
	test_assert(sasl_plain_decode("AHVzZXIAczNjcmV0", cid, sizeof(cid), pw,
	    sizeof(pw), &pl) == 0);
	test_assert_streq(cid, "user");
	test_assert(PLAIN("user\0user\0pw") == 0);	/* authzid equal */
	test_assert_streq(cid, "user");
	test_assert(pl == 2);
	test_assert(PLAIN("u@example.com\0u@example.com\0p w\r\n") == 0);
	test_assert(pl == 5);				/* anything but NUL */
	test_assert(PLAIN("\0j\xc3\xb6rg\0p") == 0);
	test_assert_streq(cid, "j\xc3\xb6rg");
	test_end();

	test_begin("SASL PLAIN: refusals");
	test_assert(PLAIN("admin\0user\0pw") == -1);	/* someone else */
	test_assert(cid[0] == '\0' && pw[0] == '\0' && pl == 0);
	test_assert(PLAIN("User\0user\0pw") == -1);
	test_assert(PLAIN("userx\0user\0pw") == -1);
	test_assert(PLAIN("userpw") == -1);		/* no NUL */
	test_assert(PLAIN("user\0pw") == -1);		/* one NUL */
	test_assert(PLAIN("\0user\0pw\0") == -1);	/* three */
	test_assert(PLAIN("\0user\0p\0w") == -1);
	test_assert(PLAIN("\0\0pw") == -1);		/* empty authcid */
	test_assert(PLAIN("\0user\0") == -1);		/* empty passwd */
	test_assert(PLAIN("\0\0") == -1);
	test_assert(PLAIN("\0us\ter\0pw") == -1);	/* control */
	test_assert(PLAIN("\0us\x7f\0pw") == -1);
	test_assert(PLAIN("\0\xc3\0pw") == -1);		/* bad UTF-8 */
	test_assert(PLAIN("\0us\xc2\x85r\0pw") == -1);	/* C1 control */
	test_assert(PLAIN("\0user\0" "123456789012345") == 0);	/* 15 */
	test_assert(PLAIN("\0user\x00" "1234567890123456") == -1);
	test_assert(PLAIN("\0" "1234567890123456789012345678901\0p") == 0);
	test_assert(PLAIN("\0" "12345678901234567890123456789012\0p") == -1);
	test_assert(sasl_plain_decode("=", cid, sizeof(cid), pw, sizeof(pw),
	    &pl) == -1);				/* "=": empty */
	test_assert(sasl_plain_decode("", cid, sizeof(cid), pw, sizeof(pw),
	    &pl) == -1);
	test_assert(sasl_plain_decode("AHVzZXIAczNjcmV0=", cid, sizeof(cid), pw,
	    sizeof(pw), &pl) == -1);			/* bad base64 */
	test_assert(sasl_plain_decode("AHVzZXIAczNjcmV", cid, sizeof(cid), pw,
	    sizeof(pw), &pl) == -1);
	test_assert(sasl_plain_decode("AHVzZXIAczNj cmV0", cid, sizeof(cid),
	    pw, sizeof(pw), &pl) == -1);
	test_assert(sasl_plain_decode("!!!!", cid, sizeof(cid), pw, sizeof(pw),
	    &pl) == -1);
	test_assert(sasl_plain_decode("AGEAYh==", cid, sizeof(cid), pw,
	    sizeof(pw), &pl) == -1);			/* trailing bits */
	test_assert(sasl_plain_decode("AGEAYg", cid, sizeof(cid), pw,
	    sizeof(pw), &pl) == -1);			/* no padding */
	test_assert(sasl_plain_decode("AGEAYg==", cid, sizeof(cid), pw,
	    sizeof(pw), &pl) == 0);
	test_assert(sasl_plain_decode("AGEAYg==", cid, 0, pw, sizeof(pw),
	    &pl) == -1);
	test_assert(sasl_plain_decode("AGEAYg==", cid, sizeof(cid), pw, 0,
	    &pl) == -1);
	test_assert(sasl_plain_decode("AGEAYg==", cid, sizeof(cid), pw, 1,
	    &pl) == -1);
	memset(big, 'x', sizeof(big));
	big[0] = '\0';
	big[2] = '\0';
	test_assert(plain(big, SASL_PLAIN_MAX + 1, cid, sizeof(cid), pw,
	    sizeof(pw), &pl) == -1);			/* over the limit */
	test_end();
}

static void
test_b64_line(void)
{
	unsigned char	out[8];
	size_t		len;

	test_begin("LOGIN steps: base64 lines and \"*\"");
	test_assert(sasl_b64_line("*", out, sizeof(out), &len) == 1);
	test_assert(sasl_b64_line("dXNlcg==", out, sizeof(out), &len) == 0);
	test_assert(len == 4 && memcmp(out, "user", 5) == 0);
	test_assert(sasl_b64_line("", out, sizeof(out), &len) == 0);
	test_assert(len == 0 && out[0] == '\0');
	test_assert(sasl_b64_line("=", out, sizeof(out), &len) == 0);
	test_assert(len == 0 && out[0] == '\0');
	test_assert(sasl_b64_line("MTIzNDU2Nw==", out, sizeof(out), &len) ==
	    0);					/* 7 fit */
	test_assert(len == 7);
	test_assert(sasl_b64_line("MTIzNDU2Nzg=", out, sizeof(out), &len) ==
	    -1);				/* 8 do not */
	test_assert(len == 0);
	test_assert(sasl_b64_line("AA==", out, sizeof(out), &len) == -1);
	test_assert(sasl_b64_line("YQBi", out, sizeof(out), &len) == -1);
	test_assert(sasl_b64_line("**", out, sizeof(out), &len) == -1);
	test_assert(sasl_b64_line("* ", out, sizeof(out), &len) == -1);
	test_assert(sasl_b64_line("dXNlcg", out, sizeof(out), &len) == -1);
	test_assert(sasl_b64_line("dXNlcg==dXNl", out, sizeof(out), &len) ==
	    -1);
	test_assert(sasl_b64_line("dXN lcg==", out, sizeof(out), &len) ==
	    -1);
	test_assert(sasl_b64_line("dXNlcg==", out, 0, &len) == -1);
	test_assert(sasl_b64_line("DQo=", out, sizeof(out), &len) == 0);
	test_assert(len == 2);			/* CR LF: the caller checks */
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_verbs, test_mail_good, test_mail_null, test_mail_syntax,
		test_params, test_rcpt_good, test_postmaster,
		test_source_route, test_quoted, test_literals, test_limits,
		test_utf8, test_xtext, test_orcpt_length, test_helo, test_auth,
		test_sasl_plain, test_b64_line, NULL
	};

	return test_run(tests);
}
