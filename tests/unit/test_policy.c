/* SPDX-License-Identifier: ISC */
/*
 * test_policy.c - the policy language (src/policy, docs/sealpost.policy.5):
 * every error class with its exact message and position, every setting
 * and matcher, the limits exactly at and one over, precedence by
 * specificity and by position (the man page's worked example), glob
 * matching (case, stars at the ends, several stars, <>, a 50 KB address
 * against *a*a*a*a within its step bound), policy groups, the NULL
 * recipient, explain's text, loading a folder, and the example files in
 * policy/.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"
#include "test.h"
#include "banned.h"

static char	err[POLICY_ERR_MAX];

/* Load text as t.policy. */
static struct policy *
L(const char *text)
{
	return policy_load_buf("t.policy", text, strlen(text), err,
	    sizeof(err));
}

/* The error text loads with, or "(loaded)". */
static const char *
E(const char *text)
{
	struct policy	*p;

	if ((p = L(text)) != NULL) {
		policy_free(p);
		return "(loaded)";
	}
	return err;
}

/* The same with an explicit length (NUL bytes). */
static const char *
EN(const char *text, size_t len)
{
	struct policy	*p;

	if ((p = policy_load_buf("t.policy", text, len, err,
	    sizeof(err))) != NULL) {
		policy_free(p);
		return "(loaded)";
	}
	return err;
}

/* Text loads (and the error is printed when not). */
static bool
loads(const char *text)
{
	struct policy	*p;

	if ((p = L(text)) == NULL) {
		printf("# unexpected error: %s\n", err);
		return false;
	}
	policy_free(p);
	return true;
}

static void
eval(const struct policy *p, enum sp_listener_kind l, bool auth,
    const char *sender, const char *rcpt, struct policy_result *r)
{
	struct policy_ctx	c;

	c.listener = l;
	c.authenticated = auth;
	c.sender = sender;
	c.recipient = rcpt;
	policy_eval(p, &c, r);
}

static const char *
group(const struct policy *p, const struct policy_result *r)
{
	static char	buf[256];

	(void)policy_group_name(p, &r->group, buf, sizeof(buf));
	return buf;
}

/* Every matching rule that set something, in the order applied. */
static const char *
matched(const struct policy *p, const struct policy_result *r)
{
	static char	buf[256];

	(void)policy_group_name(p, &r->matched, buf, sizeof(buf));
	return buf;
}

static const char *
explain(const struct policy *p, const struct policy_result *r)
{
	static char	buf[4096];

	(void)policy_explain(p, r, buf, sizeof(buf));
	return buf;
}

/* A rule around a setting line, for the settings' tests. */
static const char *
in_rule(const char *setting)
{
	static char	buf[8192];

	(void)snprintf(buf, sizeof(buf), "rule r {\n\tlistener smtp\n\t%s\n}\n",
	    setting);
	return buf;
}

static const char *
in_defaults(const char *setting)
{
	static char	buf[8192];

	(void)snprintf(buf, sizeof(buf), "defaults {\n\t%s\n}\n", setting);
	return buf;
}

/* --- loading and the lexical level ------------------------------------- */

static void
test_empty(void)
{
	struct policy		*p;
	struct policy_result	 r;
	struct policy_values	 b;
	struct policy_stats	 st;
	int			 s;

	test_begin("an empty or comment-only file: the built-in defaults");
	test_assert((p = L("")) != NULL);
	policy_stats(p, &st);
	test_assert(st.files == 1 && st.rules == 0 && !st.defaults);
	eval(p, SP_LISTEN_SMTP, false, "a@b.example", "c@d.example", &r);
	policy_builtin(&b);
	test_assert(memcmp(&r.v, &b, sizeof(b)) == 0);
	for (s = 0; s < POLICY_SETTING_MAX; s++)
		test_assert(r.src[s] == POLICY_SRC_BUILTIN);
	test_assert(r.ngroup == 0);
	test_assert_streq(group(p, &r), "default");
	policy_free(p);
	test_assert(loads("# nothing\n\n   \t# still nothing\n"));
	test_assert(loads("\n"));
	test_assert(loads("# no newline at the end"));
	test_end();

	test_begin("the built-in defaults");
	test_assert(b.max_size == 0);
	test_assert(b.pgp == POLICY_PGP_OPPORTUNISTIC);
	test_assert(b.tls == POLICY_TLS_OPPORTUNISTIC);
	test_assert(!b.sign && !b.protect_subject);
	test_assert(b.antivirus == POLICY_AV_REJECT);
	test_assert(b.spam_reject == 1500 && b.spam_junk == 600 &&
	    b.spam_tag == 500);
	test_assert(b.scanner_failure == POLICY_SCANFAIL_TEMPFAIL);
	test_assert(b.scanner_timeout == 30);
	test_assert(b.headers == (POLICY_HDR_SPAM_SCORE |
	    POLICY_HDR_SPAM_STATUS | POLICY_HDR_AUTH_RESULTS));
	test_end();
}

static void
test_bytes(void)
{
	char	buf[8192];

	test_begin("NUL, control bytes, DEL, a lone CR");
	test_assert_streq(EN("rule a\0 {\n", 10),
	    "t.policy:1:7: NUL byte (not allowed in a policy file)");
	test_assert_streq(E("# fine\nrule \x01x {\n"),
	    "t.policy:2:6: control byte \\x01 (not allowed in a policy file)");
	test_assert_streq(E("\x7f"),
	    "t.policy:1:1: control byte \\x7f (not allowed in a policy file)");
	test_assert_streq(E("# a\rb\n"),
	    "t.policy:1:4: control byte \\x0d (not allowed in a policy file)");
	test_assert_streq(E("# cr at the end without lf\r"),
	    "t.policy:1:27: control byte \\x0d (not allowed in a policy "
	    "file)");
	test_assert_streq(E("\x1b[31m"),
	    "t.policy:1:1: control byte \\x1b (not allowed in a policy file)");
	test_assert_streq(E("# a form feed\f\n"),
	    "t.policy:1:14: control byte \\x0c (not allowed in a policy "
	    "file)");
	test_end();

	test_begin("CRLF line ends and tabs are accepted");
	test_assert(loads("rule a {\r\n\tlistener smtp\r\n\tsign yes\r\n"
	    "}\r\n"));
	test_assert(loads("rule\ta\t{\t\n listener\tsmtp \n\tsign\tyes\t\n}"));
	test_end();

	test_begin("invalid UTF-8 and C1 controls");
	test_assert_streq(E("rule \"\xc0\x80\" {\n"),
	    "t.policy:1:7: invalid UTF-8");
	test_assert_streq(E("rule \"\xed\xa0\x80\" {\n"),	/* surrogate */
	    "t.policy:1:7: invalid UTF-8");
	test_assert_streq(E("rule \"\xf4\x90\x80\x80\" {\n"),	/* > 10FFFF */
	    "t.policy:1:7: invalid UTF-8");
	test_assert_streq(E("rule \"\xe0\x9f\xbf\" {\n"),	/* overlong */
	    "t.policy:1:7: invalid UTF-8");
	test_assert_streq(E("rule \"a\xc3\" {\n"),		/* cut */
	    "t.policy:1:8: invalid UTF-8");
	test_assert_streq(E("rule \"\xc3\xa9\xe2\x82\" {\n"),
	    "t.policy:1:9: invalid UTF-8");
	test_assert_streq(E("\xf5\x80\x80\x80"),
	    "t.policy:1:1: invalid UTF-8");
	test_assert_streq(E("\xff"), "t.policy:1:1: invalid UTF-8");
	test_assert_streq(E("\x80"), "t.policy:1:1: invalid UTF-8");
	test_assert_streq(E("rule \"\xc2\x85\" {\n"),
	    "t.policy:1:7: control character U+0085 (not allowed in a policy "
	    "file)");
	test_assert_streq(E("rule \"\xc2\x9b" "31m\" {\n"),
	    "t.policy:1:7: control character U+009B (not allowed in a policy "
	    "file)");
	test_end();

	test_begin("UTF-8 only in patterns and quoted names");
	test_assert(loads("rule \"Recht \xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x9c\" "
	    "{\n\trecipient @b\xc3\xbc" "cher.example j\xc3\xb6rg@*\n"
	    "\tsign yes\n}\n"));
	test_assert(loads("# \xc3\xa9t\xc3\xa9: comments may be UTF-8\n"));
	test_assert_streq(E("# \xc3\n"), "t.policy:1:3: invalid UTF-8");
	test_assert_streq(E("r\xc3\xa8gle x {\n"),
	    "t.policy:1:1: unknown keyword \"r\\xc3\\xa8gle\" (expected "
	    "\"rule\" or \"defaults\")");
	test_assert_streq(E("rule caf\xc3\xa9 {\n"),
	    "t.policy:1:6: rule name \"caf\\xc3\\xa9\" is not ASCII (write it "
	    "in double quotes to use UTF-8)");
	test_assert_streq(E(in_rule("pgp r\xc3\xa9quired")),
	    "t.policy:3:6: unknown value \"r\\xc3\\xa9quired\" for \"pgp\" "
	    "(expected opportunistic, required or never)");
	test_end();

	test_begin("the line limit: 4096 bytes at, 4097 over");
	memset(buf, ' ', 4096);
	buf[0] = '#';
	buf[4096] = '\0';
	test_assert(loads(buf));
	memcpy(buf + 4096, "\r\n", 3);		/* CRLF is not counted */
	test_assert(loads(buf));
	buf[4096] = ' ';
	buf[4097] = '\0';
	test_assert_streq(E(buf),
	    "t.policy:1:4097: line longer than 4096 bytes");
	test_end();
}

static void
test_file_size(void)
{
	char	*buf;
	size_t	 n = POLICY_FILE_MAX + 1, i;

	test_begin("the file limit: 1 MiB at, one byte over");
	buf = malloc(n);
	test_assert(buf != NULL);
	if (buf == NULL) {
		test_end();
		return;
	}
	/* lines of 99 spaces and LF: the limit falls on line 10486 */
	for (i = 0; i < n; i++)
		buf[i] = i % 100 == 99 ? '\n' : ' ';
	test_assert_streq(EN(buf, n - 1), "(loaded)");
	test_assert_streq(EN(buf, n),
	    "t.policy:10486:77: file larger than 1048576 bytes");
	free(buf);
	test_end();
}

static void
test_names(void)
{
	char	buf[256], name[80];

	test_begin("rule names: words, quoted, 1-64 bytes, unique");
	test_assert(loads("rule \"with spaces, commas # and braces {}\" {\n"
	    "\tlistener smtp\n}\n"));
	test_assert(loads("rule a.b-c_d/e@f {\n\tlistener smtp\n}\n"));
	test_assert_streq(E("rule \"\" {\n"), "t.policy:1:6: empty rule name");
	test_assert_streq(E("rule \"a\tb\" {\n"),
	    "t.policy:1:6: tab in a quoted rule name");
	test_assert_streq(E("rule \"abc {\n"),
	    "t.policy:1:6: unterminated quoted name (expected a closing '\"' "
	    "on the same line)");
	memset(name, 'n', 64);
	name[64] = '\0';
	(void)snprintf(buf, sizeof(buf), "rule %s {\n\tlistener smtp\n}\n",
	    name);
	test_assert(loads(buf));
	(void)snprintf(buf, sizeof(buf), "rule \"%s\" {\n\tlistener smtp\n}\n",
	    name);
	test_assert(loads(buf));
	(void)snprintf(buf, sizeof(buf), "rule %sn {\n", name);
	test_assert_streq(E(buf),
	    "t.policy:1:6: rule name longer than 64 bytes");
	(void)snprintf(buf, sizeof(buf), "rule \"%sn\" {\n", name);
	test_assert_streq(E(buf),
	    "t.policy:1:6: rule name longer than 64 bytes");
	test_assert_streq(E("rule a {\n listener smtp\n}\n"
	    "rule b {\n listener smtp\n}\nrule a {\n"),
	    "t.policy:7:6: duplicate rule name \"a\" (first at t.policy:1)");
	test_assert_streq(E("rule a {\n listener smtp\n}\n"
	    "rule \"a\" {\n"),
	    "t.policy:4:6: duplicate rule name \"a\" (first at t.policy:1)");
	test_assert(loads("rule a {\n listener smtp\n}\n"
	    "rule A {\n listener smtp\n}\n"));		/* case-sensitive */
	test_end();
}

/* --- structure --------------------------------------------------------- */

static void
test_structure(void)
{
	test_begin("top level: rule and defaults only");
	test_assert_streq(E("rules x {\n"),
	    "t.policy:1:1: unknown keyword \"rules\" (expected \"rule\" or "
	    "\"defaults\")");
	test_assert_streq(E("  Rule x {\n"),
	    "t.policy:1:3: unknown keyword \"Rule\" (expected \"rule\" or "
	    "\"defaults\")");
	test_assert_streq(E("pgp required\n"),
	    "t.policy:1:1: \"pgp\" outside a block (expected \"defaults {\" or "
	    "a rule first)");
	test_assert_streq(E("sender a@b\n"),
	    "t.policy:1:1: \"sender\" outside a block (expected \"rule\" NAME "
	    "\"{\" first)");
	test_assert_streq(E("}\n"),
	    "t.policy:1:1: unexpected \"}\" (no block is open)");
	test_assert_streq(E("{\n"),
	    "t.policy:1:1: unexpected \"{\" (expected \"rule\" or "
	    "\"defaults\")");
	test_assert_streq(E("\"rule\" x {\n"),
	    "t.policy:1:1: unexpected quoted string (expected \"rule\" or "
	    "\"defaults\")");
	test_end();

	test_begin("block headers");
	test_assert_streq(E("rule\n"),
	    "t.policy:1:5: expected a rule name after \"rule\"");
	test_assert_streq(E("rule {\n"),
	    "t.policy:1:6: expected a rule name after \"rule\"");
	test_assert_streq(E("rule x\n"),
	    "t.policy:1:7: expected \"{\" after rule name \"x\"");
	test_assert_streq(E("rule x y {\n"),
	    "t.policy:1:8: unexpected \"y\" after rule name \"x\" (expected "
	    "\"{\")");
	test_assert_streq(E("rule x { listener smtp\n"),
	    "t.policy:1:10: unexpected \"listener\" after \"{\" (a block "
	    "header line ends with \"{\")");
	test_assert_streq(E("rule x { }\n"),
	    "t.policy:1:10: unexpected \"}\" after \"{\" (a block header line "
	    "ends with \"{\")");
	test_assert(loads("rule x{ # comment\n listener smtp\n} # comment\n"));
	test_assert_streq(E("defaults\n"),
	    "t.policy:1:9: expected \"{\" after \"defaults\"");
	test_assert_streq(E("defaults x {\n"),
	    "t.policy:1:10: unexpected \"x\" after \"defaults\" (expected "
	    "\"{\")");
	test_assert_streq(E("defaults { sign yes\n"),
	    "t.policy:1:12: unexpected \"sign\" after \"{\" (a block header "
	    "line ends with \"{\")");
	test_assert_streq(E("defaults {\n}\ndefaults {\n"),
	    "t.policy:3:1: \"defaults\" given twice (first at t.policy:1)");
	test_end();

	test_begin("inside blocks");
	test_assert_streq(E("rule x {\n listener smtp\n} sign yes\n"),
	    "t.policy:3:3: unexpected \"sign\" after \"}\" (expected the end "
	    "of the line)");
	test_assert_streq(E("rule x {\n listener smtp\n}}\n"),
	    "t.policy:3:2: unexpected \"}\" after \"}\" (expected the end of "
	    "the line)");
	test_assert_streq(E("rule x {\n listener smtp\n rule y {\n"),
	    "t.policy:3:2: \"rule\" inside rule \"x\" (expected \"}\" first)");
	test_assert_streq(E("rule x {\n defaults {\n"),
	    "t.policy:2:2: \"defaults\" inside rule \"x\" (expected \"}\" "
	    "first)");
	test_assert_streq(E("defaults {\n rule y {\n"),
	    "t.policy:2:2: \"rule\" inside \"defaults\" (expected \"}\" "
	    "first)");
	test_assert_streq(E("rule x {\n {\n"),
	    "t.policy:2:2: unexpected \"{\" in rule \"x\" (\"{\" only ends a "
	    "block header line)");
	test_assert_streq(E("rule x {\n \"sign\" yes\n"),
	    "t.policy:2:2: unexpected quoted string in rule \"x\" (expected a "
	    "setting or a matcher)");
	test_assert_streq(E("defaults {\n \"sign\" yes\n"),
	    "t.policy:2:2: unexpected quoted string in \"defaults\" (expected "
	    "a setting)");
	test_assert_streq(E("rule x {\n listener smtp\n sign yes }\n"),
	    "t.policy:3:11: unexpected \"}\" after \"sign yes\" (expected the "
	    "end of the line)");
	test_end();

	test_begin("unknown settings");
	test_assert_streq(E("rule \"x\" {\n\tlistener smtp\n\tspamm reject "
	    "above 5\n}\n"),
	    "t.policy:3:2: unknown setting \"spamm\" (expected one of: "
	    "max-size, pgp, tls, sign, protect-subject, encrypt-to-sender, "
	    "wkd, antivirus, spam, "
	    "scanner-failure, scanner-timeout, headers, autocrypt; or a matcher: sender, "
	    "recipient, listener or authenticated)");
	test_assert_streq(E("defaults {\n    spamm\n"),
	    "t.policy:2:5: unknown setting \"spamm\" (expected one of: "
	    "max-size, pgp, tls, sign, protect-subject, encrypt-to-sender, "
	    "wkd, antivirus, spam, "
	    "scanner-failure, scanner-timeout, headers, autocrypt)");
	test_assert_streq(E(in_rule("PGP required")),
	    "t.policy:3:2: unknown setting \"PGP\" (expected one of: "
	    "max-size, pgp, tls, sign, protect-subject, encrypt-to-sender, "
	    "wkd, antivirus, spam, "
	    "scanner-failure, scanner-timeout, headers, autocrypt; or a matcher: sender, "
	    "recipient, listener or authenticated)");
	test_end();

	test_begin("end of file inside a block");
	test_assert_streq(E("rule \"x\" {\n\tlistener smtp\n"),
	    "t.policy:3:1: unexpected end of file: \"}\" expected for rule "
	    "\"x\" opened at line 1");
	test_assert_streq(E("# one\nrule y {\n\tlistener smtp"),
	    "t.policy:3:15: unexpected end of file: \"}\" expected for rule "
	    "\"y\" opened at line 2");
	test_assert_streq(E("defaults {\n"),
	    "t.policy:2:1: unexpected end of file: \"}\" expected for "
	    "\"defaults\" opened at line 1");
	test_end();

	test_begin("a rule needs a matcher; settings are optional");
	test_assert_streq(E("\n  rule \"x\" {\n\tsign yes\n}\n"),
	    "t.policy:2:3: rule \"x\" has no matcher (expected sender, "
	    "recipient, listener or authenticated)");
	test_assert(loads("rule x {\n listener smtp\n}\n"));
	test_assert(loads("defaults {\n}\n"));
	test_end();
}

static void
test_rule_limit(void)
{
	char	*buf;
	size_t	 i, off = 0, cap = 64 * 1024;

	test_begin("the rule limit: 1000 at, 1001 over");
	buf = malloc(cap);
	test_assert(buf != NULL);
	if (buf == NULL) {
		test_end();
		return;
	}
	for (i = 0; i < 1000; i++)
		off += (size_t)snprintf(buf + off, cap - off,
		    "rule r%zu {\nlistener smtp\n}\n", i);
	test_assert_streq(EN(buf, off), "(loaded)");
	off += (size_t)snprintf(buf + off, cap - off,
	    "  rule last {\nlistener smtp\n}\n");
	test_assert_streq(EN(buf, off),
	    "t.policy:3001:3: more than 1000 rules");
	free(buf);
	test_end();
}

/* --- matchers ---------------------------------------------------------- */

static void
test_matcher_errors(void)
{
	char	buf[8192], pat[400];
	size_t	i, off;

	test_begin("matchers: only in rules, once each");
	test_assert_streq(E("defaults {\n recipient a@b\n"),
	    "t.policy:2:2: \"recipient\" is a matcher: only a rule has "
	    "matchers, not \"defaults\"");
	test_assert_streq(E("rule \"x\" {\n recipient a@b\n recipient c@d\n"),
	    "t.policy:3:2: \"recipient\" given twice in rule \"x\" (list the "
	    "patterns on one line)");
	test_assert_streq(E("rule x {\n sender a@b\n\tsender c@d\n"),
	    "t.policy:3:2: \"sender\" given twice in rule \"x\" (list the "
	    "patterns on one line)");
	test_assert_streq(E("rule x {\n listener smtp\n listener submission\n"),
	    "t.policy:3:2: \"listener\" given twice in rule \"x\" (list the "
	    "listeners on one line)");
	test_assert_streq(E("rule x {\n authenticated yes\n"
	    " authenticated no\n"),
	    "t.policy:3:2: \"authenticated\" given twice in rule \"x\" (first "
	    "at line 2)");
	test_end();

	test_begin("matcher values");
	test_assert_streq(E("rule x {\n sender\n"),
	    "t.policy:2:8: expected at least one pattern after \"sender\"");
	test_assert_streq(E("rule x {\n recipient # none\n"),
	    "t.policy:2:12: expected at least one pattern after \"recipient\"");
	test_assert_streq(E("rule x {\n listener\n"),
	    "t.policy:2:10: expected a listener after \"listener\" (smtp, "
	    "submission or submissions)");
	test_assert_streq(E("rule x {\n listener smtp imap\n"),
	    "t.policy:2:16: unknown listener \"imap\" (expected smtp, "
	    "submission or submissions)");
	test_assert_streq(E("rule x {\n listener smtp SMTP\n"),
	    "t.policy:2:16: unknown listener \"SMTP\" (expected smtp, "
	    "submission or submissions)");
	test_assert_streq(E("rule x {\n listener smtp submission smtp\n"),
	    "t.policy:2:27: listener \"smtp\" listed twice");
	test_assert_streq(E("rule x {\n authenticated\n"),
	    "t.policy:2:15: expected a value after \"authenticated\" (yes or "
	    "no)");
	test_assert_streq(E("rule x {\n authenticated true\n"),
	    "t.policy:2:16: unknown value \"true\" for \"authenticated\" "
	    "(expected yes or no)");
	test_assert_streq(E("rule x {\n authenticated yes no\n"),
	    "t.policy:2:20: unexpected \"no\" after \"authenticated yes\" "
	    "(expected the end of the line)");
	test_assert_streq(E("rule x {\n sender \"a@b\"\n"),
	    "t.policy:2:9: unexpected quoted string after \"sender\" (only a "
	    "rule name may be quoted)");
	test_assert_streq(E("rule x {\n sender a@b {\n"),
	    "t.policy:2:13: unexpected \"{\" after \"sender\" (\"{\" only ends "
	    "a block header line)");
	test_assert_streq(E("rule x {\n listener smtp }\n"),
	    "t.policy:2:16: unexpected \"}\" after \"listener\" (\"}\" stands "
	    "on its own line)");
	test_end();

	test_begin("patterns: their syntax");
	test_assert_streq(E("rule x {\n recipient example.org\n"),
	    "t.policy:2:12: pattern \"example.org\" has no \"@\" (expected "
	    "user@domain, @domain or a glob such as *@*.example.org)");
	test_assert_streq(E("rule x {\n recipient *\n"),
	    "t.policy:2:12: pattern \"*\" has no \"@\" (expected user@domain, "
	    "@domain or a glob such as *@*.example.org)");
	test_assert_streq(E("rule x {\n recipient a@b@c\n"),
	    "t.policy:2:12: more than one \"@\" in pattern \"a@b@c\"");
	test_assert_streq(E("rule x {\n recipient user@\n"),
	    "t.policy:2:12: pattern \"user@\" has no domain after \"@\"");
	test_assert_streq(E("rule x {\n recipient @\n"),
	    "t.policy:2:12: pattern \"@\" has no domain after \"@\"");
	test_assert_streq(E("rule x {\n recipient <>\n"),
	    "t.policy:2:12: \"<>\" (the null sender) is only a sender pattern");
	test_assert_streq(E("rule x {\n sender <a@b>\n"),
	    "t.policy:2:9: \"<\" or \">\" in pattern \"<a@b>\" (write "
	    "addresses without angle brackets; \"<>\" alone is the null "
	    "sender)");
	test_assert_streq(E("rule x {\n sender *@*.*.*.*.example\n"),
	    "t.policy:2:9: more than 4 \"*\" in pattern \"*@*.*.*.*.example\"");
	test_assert(loads("rule x {\n sender *@*.*.*.x\n}\n"));
	test_assert(loads("rule x {\n sender @*.*.*.*.example\n}\n"));
	test_assert_streq(E("rule x {\n recipient a@b c@d A@B\n"),
	    "t.policy:2:20: pattern \"A@B\" listed twice");
	test_assert_streq(E("rule x {\n recipient @b *@B\n"),
	    "t.policy:2:15: pattern \"*@B\" listed twice");
	test_assert(loads("rule x {\n sender <> a@b\n}\n"));
	test_end();

	test_begin("patterns: 320 bytes at, 321 over; 100 on a line, 101 over");
	pat[0] = 'a';
	pat[1] = '@';
	memset(pat + 2, 'd', 318);
	pat[320] = '\0';
	(void)snprintf(buf, sizeof(buf), "rule x {\n sender %s\n}\n", pat);
	test_assert(loads(buf));
	(void)snprintf(buf, sizeof(buf), "rule x {\n sender %sd\n}\n", pat);
	test_assert_streq(E(buf),
	    "t.policy:2:9: pattern longer than 320 bytes");
	off = (size_t)snprintf(buf, sizeof(buf), "rule x {\n recipient");
	for (i = 0; i < 100; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    " u%zu@d", i);
	(void)snprintf(buf + off, sizeof(buf) - off, "\n}\n");
	test_assert(loads(buf));
	(void)snprintf(buf + off, sizeof(buf) - off, " u100@d\n}\n");
	test_assert_streq(E(buf),
	    "t.policy:2:602: more than 100 patterns on one line");
	test_end();

	test_begin("patterns: 2000 in the policy at, 2001 over");
	{
		char	*big = malloc(400000), *q;
		size_t	 n = 0, r;

		test_assert(big != NULL);
		if (big == NULL) {
			test_end();
			return;
		}
		for (r = 0; r < 20; r++) {
			n += (size_t)snprintf(big + n, 400000 - n,
			    "rule r%zu {\n recipient", r);
			for (i = 0; i < 100; i++)
				n += (size_t)snprintf(big + n, 400000 - n,
				    " u%zu@d%zu", i, r);
			n += (size_t)snprintf(big + n, 400000 - n,
			    "\n sign yes\n}\n");
		}
		test_assert(loads(big));
		q = big + n;
		(void)snprintf(q, 400000 - n, "rule last {\n sender a@b\n}\n");
		test_assert_streq(E(big),
		    "t.policy:82:9: more than 2000 patterns in the policy");
		free(big);
	}
	test_end();
}

/* --- settings ---------------------------------------------------------- */

static void
test_setting_errors(void)
{
	test_begin("each setting once per block");
	test_assert_streq(E("rule \"x\" {\n listener smtp\n pgp never\n"
	    " pgp never\n"),
	    "t.policy:4:2: \"pgp\" given twice in rule \"x\" (first at line "
	    "3)");
	test_assert_streq(E("defaults {\n spam junk above 3\n spam tag above 2"
	    "\n spam junk never\n"),
	    "t.policy:4:2: \"spam junk\" given twice in \"defaults\" (first at "
	    "line 2)");
	test_assert(loads("defaults {\n spam reject above 9\n spam junk above 3"
	    "\n spam tag above 2\n}\n"));
	test_end();

	test_begin("choices: missing, unknown, extra");
	test_assert_streq(E(in_defaults("sign maybe")),
	    "t.policy:2:7: unknown value \"maybe\" for \"sign\" (expected yes "
	    "or no)");
	test_assert(loads(in_defaults("max-size 10M")));
	test_assert_streq(E(in_rule("pgp")),
	    "t.policy:3:5: expected a value after \"pgp\" (opportunistic, "
	    "required or never)");
	test_assert_streq(E(in_rule("pgp always")),
	    "t.policy:3:6: unknown value \"always\" for \"pgp\" (expected "
	    "opportunistic, required or never)");
	test_assert_streq(E(in_rule("pgp required never")),
	    "t.policy:3:15: unexpected \"never\" after \"pgp required\" "
	    "(expected the end of the line)");
	test_assert_streq(E(in_rule("tls never")),
	    "t.policy:3:6: unknown value \"never\" for \"tls\" (expected "
	    "opportunistic or required)");
	test_assert_streq(E(in_rule("sign 1")),
	    "t.policy:3:7: unknown value \"1\" for \"sign\" (expected yes or "
	    "no)");
	test_assert_streq(E(in_rule("protect-subject Yes")),
	    "t.policy:3:18: unknown value \"Yes\" for \"protect-subject\" "
	    "(expected yes or no)");
	test_assert_streq(E(in_rule("antivirus accept")),
	    "t.policy:3:12: unknown value \"accept\" for \"antivirus\" "
	    "(expected reject or quarantine)");
	test_assert_streq(E(in_rule("scanner-failure reject")),
	    "t.policy:3:18: unknown value \"reject\" for \"scanner-failure\" "
	    "(expected tempfail or accept)");
	test_assert_streq(E(in_rule("sign \"yes\"")),
	    "t.policy:3:7: unexpected quoted string after \"sign\" (only a "
	    "rule name may be quoted)");
	test_assert_streq(E(in_rule("sign yes # fine\n\tsign no")),
	    "t.policy:4:2: \"sign\" given twice in rule \"r\" (first at line "
	    "3)");
	test_end();

	test_begin("max-size: syntax and range 1K..4G");
	test_assert_streq(E(in_rule("max-size")),
	    "t.policy:3:10: expected a value after \"max-size\" (a size such "
	    "as 10M)");
	test_assert_streq(E(in_rule("max-size 10m")),
	    "t.policy:3:11: bad size \"10m\" for \"max-size\" (expected digits "
	    "with an optional K, M or G suffix, such as 10M)");
	test_assert_streq(E(in_rule("max-size 10MB")),
	    "t.policy:3:11: bad size \"10MB\" for \"max-size\" (expected "
	    "digits with an optional K, M or G suffix, such as 10M)");
	test_assert_streq(E(in_rule("max-size M")),
	    "t.policy:3:11: bad size \"M\" for \"max-size\" (expected digits "
	    "with an optional K, M or G suffix, such as 10M)");
	test_assert_streq(E(in_rule("max-size -1K")),
	    "t.policy:3:11: bad size \"-1K\" for \"max-size\" (expected digits "
	    "with an optional K, M or G suffix, such as 10M)");
	test_assert_streq(E(in_rule("max-size 1.5M")),
	    "t.policy:3:11: bad size \"1.5M\" for \"max-size\" (expected "
	    "digits with an optional K, M or G suffix, such as 10M)");
	test_assert_streq(E(in_rule("max-size 1023")),
	    "t.policy:3:11: max-size \"1023\" out of range (expected 1K to "
	    "4G)");
	test_assert_streq(E(in_rule("max-size 0K")),
	    "t.policy:3:11: max-size \"0K\" out of range (expected 1K to 4G)");
	test_assert_streq(E(in_rule("max-size 4097M")),
	    "t.policy:3:11: max-size \"4097M\" out of range (expected 1K to "
	    "4G)");
	test_assert_streq(E(in_rule("max-size 5G")),
	    "t.policy:3:11: max-size \"5G\" out of range (expected 1K to 4G)");
	test_assert_streq(E(in_rule("max-size 4294967297")),
	    "t.policy:3:11: max-size \"4294967297\" out of range (expected 1K "
	    "to 4G)");
	test_assert_streq(E(in_rule("max-size 99999999999999999999999G")),
	    "t.policy:3:11: max-size \"99999999999999999999999G\" out of range "
	    "(expected 1K to 4G)");
	test_assert_streq(E(in_rule("max-size 10M 20M")),
	    "t.policy:3:15: unexpected \"20M\" after \"max-size 10M\" "
	    "(expected the end of the line)");
	test_end();

	test_begin("scanner-timeout: syntax and range 1s..10m");
	test_assert_streq(E(in_rule("scanner-timeout 30")),
	    "t.policy:3:18: bad duration \"30\" for \"scanner-timeout\" "
	    "(expected digits followed by s or m, such as 30s)");
	test_assert_streq(E(in_rule("scanner-timeout s")),
	    "t.policy:3:18: bad duration \"s\" for \"scanner-timeout\" "
	    "(expected digits followed by s or m, such as 30s)");
	test_assert_streq(E(in_rule("scanner-timeout 1h")),
	    "t.policy:3:18: bad duration \"1h\" for \"scanner-timeout\" "
	    "(expected digits followed by s or m, such as 30s)");
	test_assert_streq(E(in_rule("scanner-timeout 30S")),
	    "t.policy:3:18: bad duration \"30S\" for \"scanner-timeout\" "
	    "(expected digits followed by s or m, such as 30s)");
	test_assert_streq(E(in_rule("scanner-timeout 0s")),
	    "t.policy:3:18: scanner-timeout \"0s\" out of range (expected 1s "
	    "to 10m)");
	test_assert_streq(E(in_rule("scanner-timeout 601s")),
	    "t.policy:3:18: scanner-timeout \"601s\" out of range (expected 1s "
	    "to 10m)");
	test_assert_streq(E(in_rule("scanner-timeout 11m")),
	    "t.policy:3:18: scanner-timeout \"11m\" out of range (expected 1s "
	    "to 10m)");
	test_assert_streq(E(in_rule("scanner-timeout 99999999999999999999m")),
	    "t.policy:3:18: scanner-timeout \"99999999999999999999m\" out of "
	    "range (expected 1s to 10m)");
	test_assert_streq(E(in_rule("scanner-timeout")),
	    "t.policy:3:17: expected a value after \"scanner-timeout\" (a "
	    "duration such as 30s)");
	test_end();

	test_begin("spam: actions, above/never, scores");
	test_assert_streq(E(in_rule("spam")),
	    "t.policy:3:6: expected reject, junk or tag after \"spam\"");
	test_assert_streq(E(in_rule("spam delete above 5")),
	    "t.policy:3:7: unknown spam action \"delete\" (expected reject, "
	    "junk or tag)");
	test_assert_streq(E(in_rule("spam reject")),
	    "t.policy:3:13: expected \"above\" or \"never\" after \"spam "
	    "reject\"");
	test_assert_streq(E(in_rule("spam reject 5")),
	    "t.policy:3:14: unexpected \"5\" after \"spam reject\" (expected "
	    "\"above\" or \"never\")");
	test_assert_streq(E(in_rule("spam junk above")),
	    "t.policy:3:17: expected a score after \"spam junk above\"");
	test_assert_streq(E(in_rule("spam tag never 5")),
	    "t.policy:3:17: unexpected \"5\" after \"spam tag never\" "
	    "(expected the end of the line)");
	test_assert_streq(E(in_rule("spam tag above 5 6")),
	    "t.policy:3:19: unexpected \"6\" after \"spam tag above 5\" "
	    "(expected the end of the line)");
	test_assert_streq(E(in_rule("spam tag above 1.234")),
	    "t.policy:3:17: bad score \"1.234\" (expected a number with at "
	    "most 2 decimals, such as 6 or -2.5)");
	test_assert_streq(E(in_rule("spam tag above 5.")),
	    "t.policy:3:17: bad score \"5.\" (expected a number with at most 2 "
	    "decimals, such as 6 or -2.5)");
	test_assert_streq(E(in_rule("spam tag above .5")),
	    "t.policy:3:17: bad score \".5\" (expected a number with at most 2 "
	    "decimals, such as 6 or -2.5)");
	test_assert_streq(E(in_rule("spam tag above -")),
	    "t.policy:3:17: bad score \"-\" (expected a number with at most 2 "
	    "decimals, such as 6 or -2.5)");
	test_assert_streq(E(in_rule("spam tag above 5,5")),
	    "t.policy:3:17: bad score \"5,5\" (expected a number with at most "
	    "2 decimals, such as 6 or -2.5)");
	test_assert_streq(E(in_rule("spam tag above 1e3")),
	    "t.policy:3:17: bad score \"1e3\" (expected a number with at most "
	    "2 decimals, such as 6 or -2.5)");
	test_assert_streq(E(in_rule("spam tag above 1000.01")),
	    "t.policy:3:17: score \"1000.01\" out of range (expected -1000 to "
	    "1000)");
	test_assert_streq(E(in_rule("spam tag above -1000.5")),
	    "t.policy:3:17: score \"-1000.5\" out of range (expected -1000 to "
	    "1000)");
	test_assert_streq(E(in_rule("spam tag above 99999999999999999999")),
	    "t.policy:3:17: score \"99999999999999999999\" out of range "
	    "(expected -1000 to 1000)");
	test_end();

	test_begin("headers: names, none alone, once each");
	test_assert_streq(E(in_rule("headers")),
	    "t.policy:3:9: expected a header name or \"none\" after "
	    "\"headers\" (spam-score, spam-status, authentication-results)");
	test_assert_streq(E(in_rule("headers x-spam")),
	    "t.policy:3:10: unknown header \"x-spam\" (expected spam-score, "
	    "spam-status, authentication-results or none)");
	test_assert_streq(E(in_rule("headers none spam-score")),
	    "t.policy:3:15: \"none\" must be the only value of \"headers\"");
	test_assert_streq(E(in_rule("headers spam-score none")),
	    "t.policy:3:21: \"none\" must be the only value of \"headers\"");
	test_assert_streq(E(in_rule("headers none none")),
	    "t.policy:3:15: \"none\" must be the only value of \"headers\"");
	test_assert_streq(E(in_rule("headers spam-status spam-status")),
	    "t.policy:3:22: header \"spam-status\" listed twice");
	test_end();
}

/* Load a rule setting one value, evaluate, check value and explain. */
static void
check_setting(const char *line, enum policy_setting s, const char *shown)
{
	struct policy		*p;
	struct policy_result	 r;
	char			 want[256];

	if ((p = L(in_rule(line))) == NULL) {
		test_assert_streq(err, "(loaded)");
		return;
	}
	eval(p, SP_LISTEN_SMTP, false, "a@b", "c@d", &r);
	test_assert(r.src[s] == 0);
	(void)snprintf(want, sizeof(want), "\n%s %s (rule \"r\", t.policy:3)\n",
	    policy_setting_name(s), shown);
	if (strstr(explain(p, &r), want) == NULL)
		printf("# %s: not in\n%s", want, explain(p, &r));
	test_assert(strstr(explain(p, &r), want) != NULL);
	policy_free(p);
}

static struct policy_values
values_of(const char *line)
{
	struct policy		*p;
	struct policy_result	 r;

	memset(&r, 0, sizeof(r));
	if ((p = L(in_rule(line))) == NULL)
		printf("# %s\n", err);
	else {
		eval(p, SP_LISTEN_SMTP, false, "a@b", "c@d", &r);
		policy_free(p);
	}
	return r.v;
}

static void
test_settings(void)
{
	test_begin("every setting and value, and how explain writes it");
	check_setting("max-size 1K", POLICY_MAX_SIZE, "1K");
	check_setting("max-size 1024", POLICY_MAX_SIZE, "1K");
	check_setting("max-size 1025", POLICY_MAX_SIZE, "1025");
	check_setting("max-size 2048K", POLICY_MAX_SIZE, "2M");
	check_setting("max-size 4G", POLICY_MAX_SIZE, "4G");
	check_setting("max-size 4294967296", POLICY_MAX_SIZE, "4G");
	check_setting("max-size 0010M", POLICY_MAX_SIZE, "10M");
	test_assert(values_of("max-size 25M").max_size == 25ULL << 20);
	test_assert(values_of("max-size 4G").max_size == 4ULL << 30);
	test_assert(values_of("max-size 1025").max_size == 1025);
	check_setting("pgp opportunistic", POLICY_PGP, "opportunistic");
	check_setting("pgp required", POLICY_PGP, "required");
	check_setting("pgp never", POLICY_PGP, "never");
	test_assert(values_of("pgp never").pgp == POLICY_PGP_NEVER);
	test_assert(values_of("pgp required").pgp == POLICY_PGP_REQUIRED);
	check_setting("tls required", POLICY_TLS, "required");
	check_setting("tls opportunistic", POLICY_TLS, "opportunistic");
	test_assert(values_of("tls required").tls == POLICY_TLS_REQUIRED);
	check_setting("sign yes", POLICY_SIGN, "yes");
	check_setting("sign no", POLICY_SIGN, "no");
	test_assert(values_of("sign yes").sign);
	check_setting("protect-subject yes", POLICY_PROTECT_SUBJECT, "yes");
	test_assert(values_of("protect-subject yes").protect_subject);
	check_setting("antivirus quarantine", POLICY_ANTIVIRUS, "quarantine");
	check_setting("antivirus reject", POLICY_ANTIVIRUS, "reject");
	test_assert(values_of("antivirus quarantine").antivirus ==
	    POLICY_AV_QUARANTINE);
	check_setting("spam reject above 10", POLICY_SPAM_REJECT, "above 10");
	check_setting("spam reject never", POLICY_SPAM_REJECT, "never");
	check_setting("spam junk above -2.5", POLICY_SPAM_JUNK, "above -2.5");
	check_setting("spam junk above +3.05", POLICY_SPAM_JUNK, "above 3.05");
	check_setting("spam tag above 0.10", POLICY_SPAM_TAG, "above 0.1");
	check_setting("spam tag above -0", POLICY_SPAM_TAG, "above 0");
	check_setting("spam tag above 1000", POLICY_SPAM_TAG, "above 1000");
	check_setting("spam tag above -1000.00", POLICY_SPAM_TAG,
	    "above -1000");
	check_setting("spam tag above -0.05", POLICY_SPAM_TAG, "above -0.05");
	test_assert(values_of("spam reject above 10").spam_reject == 1000);
	test_assert(values_of("spam reject never").spam_reject ==
	    POLICY_SCORE_NEVER);
	test_assert(values_of("spam junk above -2.5").spam_junk == -250);
	test_assert(values_of("spam tag above 7.25").spam_tag == 725);
	test_assert(values_of("spam tag above 1000").spam_tag == 100000);
	test_assert(values_of("spam tag above -1000").spam_tag == -100000);
	check_setting("scanner-failure accept", POLICY_SCANNER_FAILURE,
	    "accept");
	check_setting("scanner-failure tempfail", POLICY_SCANNER_FAILURE,
	    "tempfail");
	test_assert(values_of("scanner-failure accept").scanner_failure ==
	    POLICY_SCANFAIL_ACCEPT);
	check_setting("scanner-timeout 1s", POLICY_SCANNER_TIMEOUT, "1s");
	check_setting("scanner-timeout 10m", POLICY_SCANNER_TIMEOUT, "10m");
	check_setting("scanner-timeout 120s", POLICY_SCANNER_TIMEOUT, "2m");
	check_setting("scanner-timeout 90s", POLICY_SCANNER_TIMEOUT, "90s");
	check_setting("scanner-timeout 600s", POLICY_SCANNER_TIMEOUT, "10m");
	test_assert(values_of("scanner-timeout 10m").scanner_timeout == 600);
	test_assert(values_of("scanner-timeout 1s").scanner_timeout == 1);
	check_setting("headers none", POLICY_HEADERS, "none");
	check_setting("headers authentication-results spam-score",
	    POLICY_HEADERS, "spam-score authentication-results");
	check_setting("headers spam-status", POLICY_HEADERS, "spam-status");
	check_setting("headers spam-status authentication-results",
	    POLICY_HEADERS, "spam-status authentication-results");
	test_assert(values_of("headers none").headers == 0);
	test_assert(values_of("headers spam-status").headers ==
	    POLICY_HDR_SPAM_STATUS);
	test_end();

	test_begin("the spam action for a score (strictly above)");
	{
		struct policy_values	v;

		policy_builtin(&v);
		test_assert(policy_spam_action(&v, 500) == POLICY_ACTION_NONE);
		test_assert(policy_spam_action(&v, 501) == POLICY_ACTION_TAG);
		test_assert(policy_spam_action(&v, 600) == POLICY_ACTION_TAG);
		test_assert(policy_spam_action(&v, 601) == POLICY_ACTION_JUNK);
		test_assert(policy_spam_action(&v, 1501) ==
		    POLICY_ACTION_REJECT);
		test_assert(policy_spam_action(&v, INT64_MIN) ==
		    POLICY_ACTION_NONE);
		v.spam_reject = POLICY_SCORE_NEVER;
		test_assert(policy_spam_action(&v, INT64_MAX) ==
		    POLICY_ACTION_JUNK);
		v.spam_junk = POLICY_SCORE_NEVER;
		v.spam_tag = POLICY_SCORE_NEVER;
		test_assert(policy_spam_action(&v, INT64_MAX) ==
		    POLICY_ACTION_NONE);
		/* thresholds out of order: reject is looked at first */
		policy_builtin(&v);
		v.spam_tag = 2000;
		test_assert(policy_spam_action(&v, 2500) ==
		    POLICY_ACTION_REJECT);
	}
	test_end();
}

/* --- matching and evaluation -------------------------------------------- */

static bool
G(const char *pat, const char *s)
{
	return policy_glob_match(pat, strlen(pat), s, strlen(s), NULL);
}

static void
test_glob(void)
{
	char		*big;
	size_t		 n = 50 * 1024, steps = 0;
	clock_t		 t0;
	double		 ms;

	test_begin("glob: exact, case, stars at the ends and inside");
	test_assert(G("user@example.org", "user@example.org"));
	test_assert(G("user@example.org", "USER@Example.ORG"));
	test_assert(G("USER@EXAMPLE.ORG", "user@example.org"));
	test_assert(!G("user@example.org", "user@example.org."));
	test_assert(!G("user@example.org", "user@example.or"));
	test_assert(!G("user@example.org", ""));
	test_assert(G("*@example.org", "a@example.org"));
	test_assert(G("*@example.org", "@example.org"));	/* empty run */
	test_assert(!G("*@example.org", "a@sub.example.org"));
	test_assert(!G("*@example.org", "a@example.org.evil"));
	test_assert(G("*@*.example.org", "a@sub.example.org"));
	test_assert(G("*@*.example.org", "a@x.y.example.org"));
	test_assert(!G("*@*.example.org", "a@example.org"));
	test_assert(G("postmaster@*", "postmaster@anything.example"));
	test_assert(G("postmaster@*", "POSTMASTER@"));
	test_assert(!G("postmaster@*", "postmaster"));
	test_assert(G("*", ""));
	test_assert(G("*", "anything"));
	test_assert(G("**", "x"));
	test_assert(G("a*b*c", "abc"));
	test_assert(G("a*b*c", "aXbYc"));
	test_assert(G("a*b*c", "abbbcbc"));
	test_assert(!G("a*b*c", "abcb"));
	test_assert(G("*a*a*a*a", "aaaa"));
	test_assert(!G("*a*a*a*a", "aaa"));
	test_assert(G("*ab", "aaab"));
	test_assert(G("*aab", "aaab"));
	test_assert(!G("*aab", "aabb"));
	test_assert(G("?@x", "?@x"));		/* only * is special */
	test_assert(!G("?@x", "a@x"));
	test_assert(G("[a]@x", "[A]@x"));
	test_assert(!G("[a]@x", "a@x"));
	test_assert(G("\\*@x", "\\abc@x"));	/* no escapes */
	/* only ASCII letters are folded: o-umlaut is not O-umlaut */
	test_assert(G("j\xc3\xb6rg@*", "J\xc3\xb6RG@x"));
	test_assert(!G("j\xc3\xb6rg@*", "J\xc3\x96RG@x"));
	test_assert(policy_glob_match("a\0b", 3, "a\0b", 3, NULL));
	test_assert(!policy_glob_match("a\0b", 3, "a\0c", 3, NULL));
	test_assert(!G("ab", "a"));
	test_assert(policy_glob_match("a*", 2, "a\0b", 3, NULL));
	test_end();

	test_begin("glob: a 50 KB address against *a*a*a*a is bounded");
	big = malloc(n + 1);
	test_assert(big != NULL);
	if (big == NULL) {
		test_end();
		return;
	}
	memset(big, 'a', n);
	big[n - 1] = 'b';
	big[n] = '\0';
	t0 = clock();
	test_assert(!policy_glob_match("*a*a*a*ac", 9, big, n, &steps));
	test_assert(steps <= (n + 2) * (9 + 1));
	steps = 0;
	test_assert(policy_glob_match("*a*a*a*a", 8, big, n - 1, &steps));
	test_assert(steps <= (n + 1) * (8 + 1));
	steps = 0;
	test_assert(!policy_glob_match("*a*a*a*a@x", 10, big, n, &steps));
	test_assert(steps <= (n + 2) * (10 + 1));
	/* the worst case for one backtrack point: a long literal tail */
	memset(big, 'a', n);
	steps = 0;
	test_assert(!policy_glob_match("*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 32,
	    big, n, &steps));
	test_assert(steps <= (n + 2) * (32 + 1));
	test_assert(steps > n * 20);	/* it is quadratic-ish, but bounded */
	ms = (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC;
	printf("# glob: %zu steps for the last match, %.1f ms in all\n", steps,
	    ms);
	test_assert(ms < 100.0);
	free(big);
	test_end();
}

static void
test_matchers(void)
{
	struct policy		*p;
	struct policy_result	 r;

	test_begin("sender and recipient patterns, <> and the null sender");
	p = L("rule null {\n sender <>\n sign yes\n}\n"
	    "rule dom {\n recipient @example.org\n pgp never\n}\n"
	    "rule glob {\n recipient *@*.example.org\n tls required\n}\n"
	    "rule pm {\n recipient postmaster@*\n antivirus quarantine\n}\n"
	    "rule any {\n sender *@*\n protect-subject yes\n}\n");
	test_assert(p != NULL);
	if (p == NULL) {
		test_end();
		return;
	}
	eval(p, SP_LISTEN_SMTP, false, "", "x@example.org", &r);
	test_assert(r.v.sign && r.v.pgp == POLICY_PGP_NEVER);
	test_assert(!r.v.protect_subject);	/* *@* is not the null sender */
	test_assert(r.v.tls == POLICY_TLS_OPPORTUNISTIC);
	eval(p, SP_LISTEN_SMTP, false, NULL, "x@example.org", &r);
	test_assert(r.v.sign);			/* NULL is taken as "" */
	eval(p, SP_LISTEN_SMTP, false, "a@b", "X@EXAMPLE.ORG", &r);
	test_assert(!r.v.sign && r.v.pgp == POLICY_PGP_NEVER &&
	    r.v.protect_subject);
	eval(p, SP_LISTEN_SMTP, false, "a@b", "x@mx.example.org", &r);
	test_assert(r.v.pgp == POLICY_PGP_OPPORTUNISTIC &&
	    r.v.tls == POLICY_TLS_REQUIRED);
	eval(p, SP_LISTEN_SMTP, false, "a@b", "postmaster@mx.example.org",
	    &r);
	test_assert(r.v.tls == POLICY_TLS_REQUIRED &&
	    r.v.antivirus == POLICY_AV_QUARANTINE);
	eval(p, SP_LISTEN_SMTP, false, "<>", "x@other.example", &r);
	test_assert(!r.v.sign);		/* the string "<>" is not null */
	policy_free(p);
	p = L("rule exact {\n recipient ab@example.org\n sign yes\n}\n");
	test_assert(p != NULL);
	if (p == NULL) {
		test_end();
		return;
	}
	eval(p, SP_LISTEN_SMTP, false, "", "AB@EXAMPLE.ORG", &r);
	test_assert(r.v.sign);
	eval(p, SP_LISTEN_SMTP, false, "", "ab@example.orh", &r);
	test_assert(!r.v.sign);
	eval(p, SP_LISTEN_SMTP, false, "", "ab@example.or", &r);
	test_assert(!r.v.sign);
	eval(p, SP_LISTEN_SMTP, false, "", "", &r);
	test_assert(!r.v.sign);
	policy_free(p);
	test_end();

	test_begin("listener and authenticated");
	p = L("rule mx {\n listener smtp\n sign yes\n}\n"
	    "rule sub {\n listener submission submissions\n pgp never\n}\n"
	    "rule auth {\n authenticated yes\n tls required\n}\n"
	    "rule anon {\n authenticated no\n protect-subject yes\n}\n");
	test_assert(p != NULL);
	if (p == NULL) {
		test_end();
		return;
	}
	eval(p, SP_LISTEN_SMTP, false, "a@b", "c@d", &r);
	test_assert(r.v.sign && r.v.pgp == POLICY_PGP_OPPORTUNISTIC &&
	    r.v.tls == POLICY_TLS_OPPORTUNISTIC && r.v.protect_subject);
	eval(p, SP_LISTEN_SUBMISSION, true, "a@b", "c@d", &r);
	test_assert(!r.v.sign && r.v.pgp == POLICY_PGP_NEVER &&
	    r.v.tls == POLICY_TLS_REQUIRED && !r.v.protect_subject);
	eval(p, SP_LISTEN_SUBMISSIONS, true, "a@b", "c@d", &r);
	test_assert(r.v.pgp == POLICY_PGP_NEVER);
	/* only the SMTP kinds can match a listener matcher */
	eval(p, SP_LISTEN_IMAPS, false, "a@b", "c@d", &r);
	test_assert(!r.v.sign && r.v.pgp == POLICY_PGP_OPPORTUNISTIC &&
	    r.v.protect_subject);
	eval(p, SP_LISTEN_KIND_MAX, false, "a@b", "c@d", &r);
	test_assert(!r.v.sign && r.v.pgp == POLICY_PGP_OPPORTUNISTIC);
	policy_free(p);
	test_end();

	test_begin("lines are AND, values on a line are OR");
	p = L("rule both {\n sender @a.example @b.example\n"
	    " recipient boss@c.example\n listener smtp\n sign yes\n}\n");
	test_assert(p != NULL);
	if (p == NULL) {
		test_end();
		return;
	}
	eval(p, SP_LISTEN_SMTP, false, "x@b.example", "boss@c.example", &r);
	test_assert(r.v.sign);
	eval(p, SP_LISTEN_SMTP, false, "x@c.example", "boss@c.example", &r);
	test_assert(!r.v.sign);
	eval(p, SP_LISTEN_SMTP, false, "x@a.example", "other@c.example", &r);
	test_assert(!r.v.sign);
	eval(p, SP_LISTEN_SUBMISSION, false, "x@a.example", "boss@c.example",
	    &r);
	test_assert(!r.v.sign);
	policy_free(p);
	test_end();
}

/* The man page's worked example (sealpost.policy.5, PRECEDENCE). */
static const char precedence_example[] =
	"defaults {\n"				/* 1 */
	"\tspam junk above 8\n"			/* 2 */
	"\tmax-size 20M\n"			/* 3 */
	"}\n"					/* 4 */
	"rule big-mail {\n"			/* 5 */
	"\trecipient @example.org\n"		/* 6: specificity 2 */
	"\tmax-size 50M\n"			/* 7 */
	"\tspam junk above 7\n"			/* 8 */
	"}\n"					/* 9 */
	"rule legal {\n"			/* 10 */
	"\trecipient @legal.example.org\n"	/* 11: specificity 2 */
	"\tmax-size 10M\n"			/* 12 */
	"\tpgp required\n"			/* 13 */
	"}\n"					/* 14 */
	"rule mx {\n"				/* 15 */
	"\tlistener smtp\n"			/* 16: specificity 1 */
	"\tmax-size 30M\n"			/* 17 */
	"\tspam junk above 4\n"			/* 18 */
	"\tspam reject above 12\n"		/* 19 */
	"}\n"					/* 20 */
	"rule boss {\n"				/* 21 */
	"\trecipient boss@legal.example.org\n"	/* 22: specificity 3 */
	"\tlistener smtp\n"			/* 23: + 1 */
	"\tpgp never\n"				/* 24 */
	"}\n"					/* 25 */
	"rule legal-too {\n"			/* 26 */
	"\trecipient *@legal.example.org\n"	/* 27: specificity 2 */
	"\tspam tag above 2\n"			/* 28 */
	"}\n";					/* 29 */

static void
test_precedence(void)
{
	struct policy		*p;
	struct policy_result	 r;

	test_begin("precedence: specificity, then position (worked example)");
	p = L(precedence_example);
	test_assert(p != NULL);
	if (p == NULL) {
		printf("# %s\n", err);
		test_end();
		return;
	}
	/* a@legal.example.org on the MX: mx (1), legal (2), legal-too (2) */
	eval(p, SP_LISTEN_SMTP, false, "x@y", "a@legal.example.org", &r);
	test_assert(r.v.max_size == 10ULL << 20 && r.src[POLICY_MAX_SIZE] == 1);
	test_assert(r.v.spam_junk == 400 && r.src[POLICY_SPAM_JUNK] == 2);
	test_assert(r.v.spam_reject == 1200 && r.src[POLICY_SPAM_REJECT] == 2);
	test_assert(r.v.spam_tag == 200 && r.src[POLICY_SPAM_TAG] == 4);
	test_assert(r.v.pgp == POLICY_PGP_REQUIRED && r.src[POLICY_PGP] == 1);
	test_assert(r.src[POLICY_SIGN] == POLICY_SRC_BUILTIN);
	test_assert_streq(matched(p, &r), "mx,legal,legal-too");
	test_assert_streq(explain(p, &r),
	    "group mx,legal,legal-too\n"
	    "rules mx,legal,legal-too\n"
	    "max-size 10M (rule \"legal\", t.policy:12)\n"
	    "pgp required (rule \"legal\", t.policy:13)\n"
	    "tls opportunistic (built-in)\n"
	    "sign no (built-in)\n"
	    "protect-subject no (built-in)\n"
	    "encrypt-to-sender no (built-in)\n"
	    "wkd no (built-in)\n"
	    "antivirus reject (built-in)\n"
	    "spam reject above 12 (rule \"mx\", t.policy:19)\n"
	    "spam junk above 4 (rule \"mx\", t.policy:18)\n"
	    "spam tag above 2 (rule \"legal-too\", t.policy:28)\n"
	    "scanner-failure tempfail (built-in)\n"
	    "scanner-timeout 30s (built-in)\n"
	    "headers spam-score spam-status authentication-results "
	    "(built-in)\n"
	    "autocrypt no (built-in)\n");

	/* boss@: boss (3 + 1) beats legal's pgp although legal is earlier */
	eval(p, SP_LISTEN_SMTP, false, "x@y", "Boss@Legal.Example.Org", &r);
	test_assert(r.v.pgp == POLICY_PGP_NEVER && r.src[POLICY_PGP] == 3);
	test_assert(r.v.max_size == 10ULL << 20);
	test_assert_streq(matched(p, &r), "mx,legal,legal-too,boss");

	/* the same on submission: no mx, no boss */
	eval(p, SP_LISTEN_SUBMISSION, true, "x@y", "boss@legal.example.org",
	    &r);
	test_assert(r.v.pgp == POLICY_PGP_REQUIRED);
	test_assert(r.v.spam_junk == 800 && r.src[POLICY_SPAM_JUNK] ==
	    POLICY_SRC_DEFAULTS);
	test_assert(r.v.spam_reject == 1500 && r.src[POLICY_SPAM_REJECT] ==
	    POLICY_SRC_BUILTIN);
	test_assert_streq(matched(p, &r), "legal,legal-too");

	/* someone@example.org on the MX: mx (1) then big-mail (2) */
	eval(p, SP_LISTEN_SMTP, false, "x@y", "someone@example.org", &r);
	test_assert(r.v.max_size == 50ULL << 20 && r.src[POLICY_MAX_SIZE] == 0);
	test_assert(r.v.spam_junk == 700 && r.src[POLICY_SPAM_JUNK] == 0);
	test_assert(r.v.spam_reject == 1200);
	test_assert_streq(matched(p, &r), "mx,big-mail");

	/* nobody@elsewhere on submission: the defaults block */
	eval(p, SP_LISTEN_SUBMISSION, true, "x@y", "nobody@elsewhere", &r);
	test_assert(r.v.max_size == 20ULL << 20 && r.src[POLICY_MAX_SIZE] ==
	    POLICY_SRC_DEFAULTS);
	test_assert_streq(group(p, &r), "default");
	test_assert(r.ngroup == 0);
	test_assert(strstr(explain(p, &r), "\nmax-size 20M (defaults, "
	    "t.policy:3)\n") != NULL);
	policy_free(p);
	test_end();

	test_begin("precedence: equal specificity, the later rule wins");
	p = L("rule a {\n recipient @x.example\n sign yes\n}\n"
	    "rule b {\n recipient *@x.example\n sign no\n}\n"
	    "rule c {\n listener smtp\n sign yes\n}\n");
	test_assert(p != NULL);
	if (p != NULL) {
		eval(p, SP_LISTEN_SMTP, false, "s@t", "r@x.example", &r);
		/* c is less specific (1): applied first, overridden */
		test_assert(!r.v.sign && r.src[POLICY_SIGN] == 1);
		test_assert_streq(matched(p, &r), "c,a,b");
	}
	policy_free(p);
	p = L("rule b {\n recipient *@x.example\n sign no\n}\n"
	    "rule a {\n recipient @x.example\n sign yes\n}\n");
	test_assert(p != NULL);
	if (p != NULL) {
		eval(p, SP_LISTEN_SMTP, false, "s@t", "r@x.example", &r);
		test_assert(r.v.sign && r.src[POLICY_SIGN] == 1);
	}
	policy_free(p);
	test_end();

	test_begin("specificity: exact 3, domains 2, globs 1, sums");
	/* each later rule is less specific, so the earliest wins */
	p = L("rule exact {\n recipient r@x.example <>\n sign yes\n}\n"
	    "rule mixed {\n recipient r@x.example @x.example\n sign no\n"
	    " pgp never\n}\n"
	    "rule glob {\n recipient r@x.example *x.example\n sign no\n"
	    " pgp required\n tls required\n}\n");
	test_assert(p == NULL);		/* <> is a sender pattern */
	p = L("rule exact {\n sender s@t <>\n sign yes\n}\n"
	    "rule mixed {\n sender s@t @t\n sign no\n pgp never\n}\n"
	    "rule glob {\n sender s@t *s@t\n sign no\n pgp required\n"
	    " tls required\n}\n"
	    "rule two {\n listener smtp\n authenticated no\n"
	    " pgp opportunistic\n}\n");
	test_assert(p != NULL);
	if (p != NULL) {
		eval(p, SP_LISTEN_SMTP, false, "s@t", "r@x", &r);
		test_assert(r.v.sign && r.src[POLICY_SIGN] == 0);
		/* two (1 + 1) ties with mixed (2) and is later: it wins */
		test_assert(r.v.pgp == POLICY_PGP_OPPORTUNISTIC &&
		    r.src[POLICY_PGP] == 3);
		test_assert(r.v.tls == POLICY_TLS_REQUIRED);
		test_assert_streq(matched(p, &r), "glob,mixed,two,exact");
	}
	policy_free(p);
	test_end();
}

static void
test_groups(void)
{
	struct policy		*p;
	struct policy_result	 a, b, c, d;
	char			 small[8];

	test_begin("groups: same rules, same group; NULL recipient");
	p = L("rule legal {\n recipient @legal.example\n pgp required\n"
	    " antivirus quarantine\n}\n"
	    "rule \"big, mail\" {\n recipient @big.example big@legal.example\n"
	    " max-size 50M\n}\n"
	    "rule quiet {\n recipient @quiet.example\n}\n"
	    "rule from-partner {\n sender @partner.example\n sign yes\n}\n");
	test_assert(p != NULL);
	if (p == NULL) {
		test_end();
		return;
	}
	eval(p, SP_LISTEN_SMTP, false, "x@y", "a@legal.example", &a);
	eval(p, SP_LISTEN_SMTP, false, "x@y", "b@LEGAL.example", &b);
	test_assert(policy_group_eq(&a.group, &b.group));
	test_assert_streq(group(p, &a), "legal");
	eval(p, SP_LISTEN_SMTP, false, "x@y", "big@legal.example", &c);
	test_assert(!policy_group_eq(&a.group, &c.group));
	test_assert_streq(group(p, &c), "legal,big, mail");
	test_assert(c.ngroup == 2);
	/* a matching rule that sets nothing is in no group */
	eval(p, SP_LISTEN_SMTP, false, "x@y", "q@quiet.example", &c);
	eval(p, SP_LISTEN_SMTP, false, "x@y", "z@elsewhere", &d);
	test_assert(policy_group_eq(&c.group, &d.group));
	test_assert_streq(group(p, &c), "default");
	test_assert(c.ngroup == 0);
	/* NULL recipient: the sender's policy; recipient rules never match */
	eval(p, SP_LISTEN_SUBMISSION, true, "me@partner.example", NULL, &d);
	test_assert(d.v.sign && d.v.pgp == POLICY_PGP_OPPORTUNISTIC);
	/* sign (like pgp, tls, protect-subject) is per recipient: no group */
	test_assert_streq(group(p, &d), "default");
	eval(p, SP_LISTEN_SUBMISSION, true, "me@legal.example", NULL, &d);
	test_assert_streq(group(p, &d), "default");
	/* the name's length comes back even when cut */
	test_assert(policy_group_name(p, &a.group, small, sizeof(small)) ==
	    5);
	test_assert(policy_group_name(p, &b.group, small, 3) == 5 &&
	    strcmp(small, "le") == 0);
	test_assert(policy_group_name(p, &c.group, small, 0) == 7);
	test_assert(policy_explain(p, &a, small, sizeof(small)) > 100 &&
	    strcmp(small, "group l") == 0);
	test_assert_streq(policy_source_name(p, 0), "legal");
	test_assert_streq(policy_source_name(p, POLICY_SRC_DEFAULTS),
	    "defaults");
	test_assert_streq(policy_source_name(p, POLICY_SRC_BUILTIN),
	    "built-in");
	policy_free(p);
	test_end();
}

/* --- several files and folders ------------------------------------------ */

static void
test_files(void)
{
	struct policy_file	 f[3];
	struct policy		*p;
	struct policy_stats	 st;
	struct policy_result	 r;

	test_begin("several files: one set, errors name the file");
	f[0].name = "10-base.policy";
	f[0].data = "defaults {\n sign yes\n}\nrule a {\n listener smtp\n"
	    " pgp never\n}\n";
	f[0].len = strlen(f[0].data);
	f[1].name = "20-more.policy";
	f[1].data = "rule b {\n listener smtp\n pgp required\n}\n";
	f[1].len = strlen(f[1].data);
	p = policy_load_files(f, 2, err, sizeof(err));
	test_assert(p != NULL);
	if (p != NULL) {
		policy_stats(p, &st);
		test_assert(st.files == 2 && st.rules == 2 && st.defaults);
		eval(p, SP_LISTEN_SMTP, false, "a@b", "c@d", &r);
		test_assert(r.v.pgp == POLICY_PGP_REQUIRED && r.v.sign);
		test_assert(strstr(explain(p, &r), "\npgp required (rule "
		    "\"b\", 20-more.policy:3)\n") != NULL);
		test_assert(strstr(explain(p, &r), "\nsign yes (defaults, "
		    "10-base.policy:2)\n") != NULL);
	}
	policy_free(p);
	f[2].name = "30-dup.policy";
	f[2].data = "\nrule a {\n";
	f[2].len = strlen(f[2].data);
	test_assert(policy_load_files(f, 3, err, sizeof(err)) == NULL);
	test_assert_streq(err, "30-dup.policy:2:6: duplicate rule name \"a\" "
	    "(first at 10-base.policy:4)");
	f[2].data = "defaults {\n}\n";
	f[2].len = strlen(f[2].data);
	test_assert(policy_load_files(f, 3, err, sizeof(err)) == NULL);
	test_assert_streq(err, "30-dup.policy:1:1: \"defaults\" given twice "
	    "(first at 10-base.policy:1)");
	/* a block ends in its own file */
	f[1].data = "rule b {\n listener smtp\n";
	f[1].len = strlen(f[1].data);
	f[2].data = "}\n";
	f[2].len = 2;
	test_assert(policy_load_files(f, 3, err, sizeof(err)) == NULL);
	test_assert_streq(err, "20-more.policy:3:1: unexpected end of file: "
	    "\"}\" expected for rule \"b\" opened at line 1");
	test_assert((p = policy_load_files(NULL, 0, err, sizeof(err))) !=
	    NULL);
	policy_free(p);
	test_end();

	test_begin("buffers: 64 files at, 65 over; a file without a name");
	{
		struct policy_file	many[65];
		char			names[65][16];
		int			i;

		for (i = 0; i < 65; i++) {
			(void)snprintf(names[i], sizeof(names[i]),
			    "f%02d.policy", i);
			many[i].name = names[i];
			many[i].data = "";
			many[i].len = 0;
		}
		p = policy_load_files(many, 64, err, sizeof(err));
		test_assert(p != NULL);
		policy_free(p);
		test_assert(policy_load_files(many, 65, err, sizeof(err)) ==
		    NULL);
		test_assert_streq(err, "f64.policy: more than 64 policy files");
	}
	test_assert(policy_load_buf(NULL, "}", 1, err, sizeof(err)) == NULL);
	test_assert_streq(err, "(unnamed):1:1: unexpected \"}\" (no block is "
	    "open)");
	test_end();

	test_begin("file names escaped in errors; errors cut at errlen");
	test_assert(policy_load_buf("bad\x1b[2J\\name.policy", "x", 1, err,
	    sizeof(err)) == NULL);
	test_assert_streq(err, "bad\\x1b[2J\\\\name.policy:1:1: unknown "
	    "keyword \"x\" (expected \"rule\" or \"defaults\")");
	test_assert(policy_load_buf("t.policy", "x", 1, err, 12) == NULL);
	test_assert_streq(err, "t.policy:1:");
	test_assert(policy_load_buf("t.policy", "x", 1, NULL, 0) == NULL);
	test_end();
}

/* Write a file into dir. */
static void
put_file(const char *dir, const char *name, const char *text)
{
	char	path[512];
	FILE	*fp;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL)
		return;
	(void)fputs(text, fp);
	(void)fclose(fp);
}

static void
rm_dir(const char *dir)
{
	char	cmd[600];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static void
test_dir(void)
{
	char			 dir[] = "/tmp/test_policy.XXXXXX", path[600];
	char			 name[64];
	struct policy		*p;
	struct policy_stats	 st;
	struct policy_result	 r;
	int			 i;

	test_begin("a folder: *.policy in byte order, nothing else");
	if (mkdtemp(dir) == NULL) {
		test_assert(0);
		test_end();
		return;
	}
	p = policy_load_dir(dir, err, sizeof(err));
	test_assert(p != NULL);			/* empty: built-in */
	if (p != NULL) {
		policy_stats(p, &st);
		test_assert(st.files == 0 && st.rules == 0);
	}
	policy_free(p);
	put_file(dir, "b.policy", "rule b {\n listener smtp\n sign no\n}\n");
	put_file(dir, "B.policy", "rule B {\n listener smtp\n sign yes\n"
	    " pgp never\n}\n");
	put_file(dir, "a.policy", "rule a {\n listener smtp\n sign yes\n"
	    " pgp required\n}\n");
	put_file(dir, ".hidden.policy", "junk");
	put_file(dir, ".policy", "junk");
	put_file(dir, "c.policy~", "junk");
	put_file(dir, "c.policy.bak", "junk");
	put_file(dir, "README", "junk");
	p = policy_load_dir(dir, err, sizeof(err));
	test_assert(p != NULL);
	if (p != NULL) {
		policy_stats(p, &st);
		test_assert(st.files == 3 && st.rules == 3);
		/* order: B.policy, a.policy, b.policy (bytes: 'B' < 'a') */
		eval(p, SP_LISTEN_SMTP, false, "x@y", "z@w", &r);
		test_assert(!r.v.sign && r.v.pgp == POLICY_PGP_REQUIRED);
		test_assert_streq(matched(p, &r), "B,a,b");
	} else
		printf("# %s\n", err);
	policy_free(p);
	put_file(dir, "d.policy", "rule d {\n");
	test_assert(policy_load_dir(dir, err, sizeof(err)) == NULL);
	test_assert_streq(err, "d.policy:2:1: unexpected end of file: \"}\" "
	    "expected for rule \"d\" opened at line 1");
	(void)snprintf(path, sizeof(path), "%s/d.policy", dir);
	(void)unlink(path);
	test_assert(mkfifo(path, 0600) == 0);
	test_assert(policy_load_dir(dir, err, sizeof(err)) == NULL);
	test_assert_streq(err, "d.policy: not a regular file");
	(void)unlink(path);
	test_assert(mkdir(path, 0700) == 0);
	test_assert(policy_load_dir(dir, err, sizeof(err)) == NULL);
	test_assert_streq(err, "d.policy: not a regular file");
	(void)rmdir(path);
	test_end();

	test_begin("a folder: 64 files at, 65 over; missing folder");
	for (i = 3; i < 64; i++) {
		(void)snprintf(name, sizeof(name), "n%02d.policy", i);
		put_file(dir, name, "# empty\n");
	}
	p = policy_load_dir(dir, err, sizeof(err));
	test_assert(p != NULL);
	if (p != NULL) {
		policy_stats(p, &st);
		test_assert(st.files == 64);
	}
	policy_free(p);
	put_file(dir, "n64.policy", "");
	test_assert(policy_load_dir(dir, err, sizeof(err)) == NULL);
	(void)snprintf(path, sizeof(path), "%s: more than 64 policy files",
	    dir);
	test_assert_streq(err, path);
	rm_dir(dir);
	test_assert(policy_load_dir(dir, err, sizeof(err)) == NULL);
	(void)snprintf(path, sizeof(path), "%s: No such file or directory",
	    dir);
	test_assert_streq(err, path);
	test_end();
}

/* --- the example files --------------------------------------------------- */

/* Read policy/NAME into f (the caller frees f->data). */
static bool
read_example(const char *name, struct policy_file *f)
{
	char	path[512], *buf;
	FILE	*fp;
	size_t	 n;

	(void)snprintf(path, sizeof(path), "%s/%s", POLICY_EXAMPLES, name);
	if ((fp = fopen(path, "r")) == NULL || (buf = malloc(65536)) == NULL) {
		printf("# %s: %s\n", path, strerror(errno));
		if (fp != NULL)
			(void)fclose(fp);
		return false;
	}
	n = fread(buf, 1, 65536, fp);
	(void)fclose(fp);
	f->name = name;
	f->data = buf;
	f->len = n;
	return true;
}

static void
test_examples(void)
{
	struct policy_file	 f[3];
	struct policy		*p;
	struct policy_result	 r, r2;
	struct policy_values	 b;
	int			 s;

	test_begin("policy/default.policy: exactly the built-in defaults");
	if (!read_example("default.policy", &f[0]) ||
	    !read_example("strict.policy", &f[1]) ||
	    !read_example("legal.policy", &f[2])) {
		test_assert(0);
		test_end();
		return;
	}
	p = policy_load_files(f, 1, err, sizeof(err));
	test_assert(p != NULL);
	if (p != NULL) {
		policy_builtin(&b);
		eval(p, SP_LISTEN_SMTP, false, "a@b", "c@d", &r);
		test_assert(memcmp(&r.v, &b, sizeof(b)) == 0);
		for (s = 0; s < POLICY_SETTING_MAX; s++)
			test_assert(r.src[s] == (s == POLICY_MAX_SIZE ?
			    POLICY_SRC_BUILTIN : POLICY_SRC_DEFAULTS));
		test_assert(strstr(explain(p, &r), "\nmax-size unset "
		    "(built-in)\n") != NULL);
	}
	policy_free(p);
	test_end();

	test_begin("policy/strict.policy: MX quarantine, outbound thresholds");
	p = policy_load_files(&f[1], 1, err, sizeof(err));
	test_assert(p != NULL);
	if (p != NULL) {
		eval(p, SP_LISTEN_SMTP, false, "a@b", "c@d", &r);
		test_assert(r.v.antivirus == POLICY_AV_QUARANTINE);
		test_assert(r.v.scanner_failure == POLICY_SCANFAIL_TEMPFAIL);
		test_assert(r.v.spam_reject == 1000 && r.v.spam_junk == 500);
		test_assert_streq(group(p, &r), "mx-quarantine");
		eval(p, SP_LISTEN_SUBMISSION, true, "me@example.org", NULL,
		    &r);
		test_assert(r.v.antivirus == POLICY_AV_REJECT);
		test_assert(r.v.spam_reject == 600 &&
		    r.v.spam_junk == POLICY_SCORE_NEVER &&
		    r.v.spam_tag == 200);
		test_assert(r.v.max_size == 25ULL << 20);
		test_assert_streq(group(p, &r), "outbound");
		/* not logged in (refused later anyway): not "outbound" */
		eval(p, SP_LISTEN_SUBMISSIONS, false, "me@example.org", NULL,
		    &r);
		test_assert(r.v.spam_reject == 1000);
	}
	policy_free(p);
	test_end();

	test_begin("policy/legal.policy with default.policy and strict.policy");
	p = policy_load_files(&f[2], 1, err, sizeof(err));
	test_assert(p != NULL);
	policy_free(p);
	{
		struct policy_file	two[2] = { f[0], f[2] };

		p = policy_load_files(two, 2, err, sizeof(err));
	}
	test_assert(p != NULL);
	if (p != NULL) {
		eval(p, SP_LISTEN_SMTP, false, "a@outside.example",
		    "counsel@legal.example.org", &r);
		test_assert(r.v.pgp == POLICY_PGP_REQUIRED &&
		    r.v.tls == POLICY_TLS_REQUIRED && r.v.sign &&
		    r.v.protect_subject && r.v.max_size == 10ULL << 20);
		test_assert_streq(group(p, &r), "legal-inbound");
		eval(p, SP_LISTEN_SMTP, false, "a@outside.example",
		    "sales@example.org", &r2);
		test_assert(!policy_group_eq(&r.group, &r2.group));
		test_assert(r2.v.pgp == POLICY_PGP_OPPORTUNISTIC);
		/* its own outgoing mail, logged in: the sender's policy */
		eval(p, SP_LISTEN_SUBMISSION, true, "counsel@legal.example.org",
		    NULL, &r);
		test_assert(r.v.pgp == POLICY_PGP_REQUIRED &&
		    r.v.max_size == 10ULL << 20);
		test_assert_streq(group(p, &r), "legal-outbound");
		/* a forged sender on the MX gets nothing from it */
		eval(p, SP_LISTEN_SMTP, false, "counsel@legal.example.org",
		    "sales@example.org", &r);
		test_assert(r.v.pgp == POLICY_PGP_OPPORTUNISTIC);
		test_assert_streq(group(p, &r), "default");
	}
	policy_free(p);
	{
		struct policy_file	two[2] = { f[2], f[1] };

		p = policy_load_files(two, 2, err, sizeof(err));
	}
	test_assert(p != NULL);
	if (p != NULL) {
		eval(p, SP_LISTEN_SMTP, false, "a@outside.example",
		    "counsel@legal.example.org", &r);
		test_assert(r.v.pgp == POLICY_PGP_REQUIRED &&
		    r.v.antivirus == POLICY_AV_QUARANTINE &&
		    r.v.spam_reject == 1000);
		test_assert_streq(group(p, &r), "mx-quarantine,legal-inbound");
	}
	policy_free(p);
	test_end();

	test_begin("the policy/ folder as shipped: two defaults blocks");
	test_assert(policy_load_dir(POLICY_EXAMPLES, err, sizeof(err)) ==
	    NULL);
	test_assert(strncmp(err, "strict.policy:", 14) == 0 &&
	    strstr(err, ": \"defaults\" given twice (first at "
	    "default.policy:") != NULL);
	test_end();
	for (s = 0; s < 3; s++)
		free((void *)(uintptr_t)f[s].data);
}

static void
test_max_timeout(void)
{
	struct policy	*p;

	test_begin("policy_max_timeout: the longest scanner-timeout");
	p = L("");
	test_assert(p != NULL && policy_max_timeout(p) == 30);
	policy_free(p);
	p = L("defaults {\n scanner-timeout 10s\n}\n");
	test_assert(p != NULL && policy_max_timeout(p) == 10);
	policy_free(p);
	p = L("defaults {\n scanner-timeout 10s\n}\n"
	    "rule x {\n recipient a@b\n scanner-timeout 2m\n}\n"
	    "rule y {\n recipient c@d\n scanner-timeout 5s\n}\n");
	test_assert(p != NULL && policy_max_timeout(p) == 120);
	policy_free(p);
	test_end();
}

int
main(void)
{
	static void	(*tests[])(void) = {
		test_empty, test_bytes, test_file_size, test_names,
		test_structure, test_rule_limit, test_matcher_errors,
		test_setting_errors, test_settings, test_glob, test_matchers,
		test_precedence, test_groups, test_files, test_dir,
		test_examples, test_max_timeout, NULL
	};

	return test_run(tests);
}
