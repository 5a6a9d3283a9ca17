/* SPDX-License-Identifier: ISC */
/*
 * test_conf.c - the sealpost.conf parser: what it accepts, what it refuses
 * and that every error names file:line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "test.h"
#include "banned.h"

#define BASE \
	"hostname mail.example.test\n" \
	"domain example.test\n" \
	"data-dir /srv/sp/data\n" \
	"run-dir /srv/sp/run\n"

static char	err[1024];

static struct sp_conf *
parse(const char *text)
{
	err[0] = '\0';
	return conf_parse(text, strlen(text), "t.conf", "/etc/sp", err,
	    sizeof(err));
}

/* The configuration must fail, with this exact message. */
static void
expect_error(const char *text, const char *msg)
{
	struct sp_conf	*c = parse(text);

	test_assert(c == NULL);
	test_assert_streq(err, msg);
	conf_free(c);
}

static void
test_conf_minimal(void)
{
	struct sp_conf	*c = parse(BASE "listen smtp 127.0.0.1:2525\n");

	test_begin("a minimal configuration and its defaults");
	test_assert(c != NULL);
	if (c == NULL) {
		printf("# %s\n", err);
		test_end();
		return;
	}
	test_assert_streq(c->hostname, "mail.example.test");
	test_assert(c->ndomains == 1);
	test_assert_streq(c->data_dir, "/srv/sp/data");
	test_assert(c->log_level == LOG_INFO);
	test_assert(c->max_sessions == 256);
	test_assert(c->nlisteners == 1);
	test_assert(c->listeners[0].kind == SP_LISTEN_SMTP);
	test_assert(c->listeners[0].port == 2525);
	test_assert(c->listeners[0].addr.ss_family == AF_INET);
	test_assert(c->tls_cert == NULL);
	test_assert(c->libexec_dir != NULL);
	conf_free(c);
	test_end();
}

static void
test_conf_unknown_key(void)
{
	test_begin("an unknown key is an error naming file:line");
	expect_error(BASE "# comment\n\nlisten smtp 127.0.0.1:25\n"
	    "lisen imap 127.0.0.1:143\n",
	    "t.conf:8: unknown key \"lisen\"");
	expect_error("hostname a.test\nfoo bar\n",
	    "t.conf:2: unknown key \"foo\"");
	test_end();
}

static void
test_conf_missing(void)
{
	test_begin("missing required keys are named");
	expect_error("domain a.test\n", "t.conf: hostname is missing");
	expect_error("hostname a.test\n",
	    "t.conf: no domain: give at least one \"domain NAME\"");
	expect_error(BASE, "t.conf: no listener: give at least one "
	    "\"listen KIND ADDRESS:PORT\"");
	expect_error(BASE "listen imaps 127.0.0.1:993\n",
	    "t.conf: a TLS listener needs tls-certificate and tls-key");
	expect_error(BASE "listen smtp 127.0.0.1:25\ntls-key k.pem\n",
	    "t.conf: tls-certificate and tls-key go together");
	expect_error("", "t.conf: hostname is missing");
	test_end();
}

static void
test_conf_values(void)
{
	test_begin("bad values are refused with a reason");
	expect_error(BASE "listen smtp 127.0.0.1:0\n",
	    "t.conf:5: listen: port \"0\" is too small (1-65535)");
	expect_error(BASE "listen smtp 127.0.0.1:65536\n",
	    "t.conf:5: listen: port \"65536\" is too large (1-65535)");
	expect_error(BASE "listen smtp 127.0.0.1:2x\n",
	    "t.conf:5: listen: port \"2x\" is invalid (1-65535)");
	expect_error(BASE "listen smtp localhost:25\n",
	    "t.conf:5: listen: \"localhost\" is not a numeric IPv4 address "
	    "(host names are not resolved)");
	expect_error(BASE "listen smtp ::1:25\n",
	    "t.conf:5: listen: \"::1\" is not a numeric IPv6 address");
	expect_error(BASE "listen smtpx 127.0.0.1:25\n",
	    "t.conf:5: listen: unknown kind \"smtpx\" (smtp, submission, "
	    "submissions, imap, imaps, pop3, pop3s)");
	expect_error(BASE "listen smtp 127.0.0.1:25 extra\n",
	    "t.conf:5: listen takes 2 values, found 3");
	expect_error(BASE "listen smtp 127.0.0.1:25\nlisten imap 127.0.0.1:25\n",
	    "t.conf:6: listen: 127.0.0.1 port 25 already used at line 5");
	expect_error(BASE "log-level loud\n", "t.conf:5: log-level: \"loud\" "
	    "is not one of error, warning, info, debug");
	expect_error(BASE "max-sessions 0\n",
	    "t.conf:5: max-sessions: \"0\" is too small (1-65535)");
	expect_error(BASE "max-sessions -1\n",
	    "t.conf:5: max-sessions: \"-1\" is too small (1-65535)");
	expect_error(BASE "max-sessions 99999999999999999999\n",
	    "t.conf:5: max-sessions: \"99999999999999999999\" is too large "
	    "(1-65535)");
	expect_error("hostname -bad.test\n",
	    "t.conf:1: hostname: \"-bad.test\" is not a valid host name");
	expect_error("hostname a..b\n",
	    "t.conf:1: hostname: \"a..b\" is not a valid host name");
	expect_error("hostname a.test\nhostname b.test\n",
	    "t.conf:2: hostname given twice");
	expect_error("domain A.test\ndomain a.TEST\n",
	    "t.conf:2: domain a.TEST given twice");
	expect_error("data-dir /a\ndata-dir /b\n",
	    "t.conf:2: data-dir given twice");
	expect_error("data-dir\n", "t.conf:1: data-dir takes 1 value, found 0");
	test_end();
}

/* BASE, a listener on line 5, then extra (from line 6). */
static struct sp_conf *
parse_extra(const char *extra)
{
	char	text[2048];
	int	n;

	n = snprintf(text, sizeof(text), "%slisten smtp 127.0.0.1:25\n%s\n",
	    BASE, extra);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		snprintf(err, sizeof(err), "test text too long");
		return NULL;
	}
	return parse(text);
}

/* "KEY VALUE" must fail on line 6 with "t.conf:6: KEY: msg". */
static void
expect_extra_error(const char *extra, const char *msg)
{
	struct sp_conf	*c = parse_extra(extra);
	char		 want[1024];

	snprintf(want, sizeof(want), "t.conf:6: %s", msg);
	test_assert(c == NULL);
	test_assert_streq(err, want);
	conf_free(c);
}

/* queue-lifetime V must give want seconds. */
static void
expect_lifetime(const char *v, unsigned int want)
{
	struct sp_conf	*c;
	char		 line[128];

	snprintf(line, sizeof(line), "queue-lifetime %s", v);
	c = parse_extra(line);
	test_assert(c != NULL);
	if (c == NULL) {
		printf("# %s: %s\n", line, err);
		return;
	}
	if (c->queue_lifetime != want)
		printf("# %s: %u, not %u\n", line, c->queue_lifetime, want);
	test_assert(c->queue_lifetime == want);
	conf_free(c);
}

static void
test_conf_outbound_defaults(void)
{
	struct sp_conf	*c = parse(BASE "listen smtp 127.0.0.1:25\n");

	test_begin("outbound delivery keys: defaults");
	test_assert(c != NULL);
	if (c == NULL) {
		printf("# %s\n", err);
		test_end();
		return;
	}
	test_assert(c->outbound_port == 25);
	test_assert(c->dns_resolver == NULL);
	test_assert(c->queue_first_retry == 300);
	test_assert(c->queue_retry_interval == 900);
	test_assert(c->queue_lifetime == 5 * 86400);
	test_assert(c->queue_delay_warning == 4 * 3600);
	test_assert(c->outbound_concurrency == 5);
	test_assert(c->outbound_rate == 0);
	test_assert(c->outbound_timeout == 300);
	test_assert(c->max_hops == 100);
	conf_free(c);

	c = parse_extra("outbound-port 2525\ndns-resolver 127.0.0.1@5353\n"
	    "queue-first-retry 1\nqueue-retry-interval 2m\n"
	    "queue-lifetime 1h\nqueue-delay-warning 0s\n"
	    "outbound-concurrency 100\noutbound-rate 100000\n"
	    "outbound-timeout 1h\nmax-hops 1000");
	test_assert(c != NULL);
	if (c != NULL) {
		test_assert(c->outbound_port == 2525);
		test_assert_streq(c->dns_resolver, "127.0.0.1@5353");
		test_assert(c->queue_first_retry == 1);
		test_assert(c->queue_retry_interval == 120);
		test_assert(c->queue_lifetime == 3600);
		test_assert(c->queue_delay_warning == 0);
		test_assert(c->outbound_concurrency == 100);
		test_assert(c->outbound_rate == 100000);
		test_assert(c->outbound_timeout == 3600);
		test_assert(c->max_hops == 1000);
	} else
		printf("# %s\n", err);
	conf_free(c);
	test_end();
}

static void
test_conf_durations(void)
{
	struct sp_conf	*c;

	test_begin("DURATION: units, limits, junk and overflow");
	expect_lifetime("90", 90);
	expect_lifetime("1", 1);
	expect_lifetime("30s", 30);
	expect_lifetime("15m", 900);
	expect_lifetime("4h", 14400);
	expect_lifetime("5d", 432000);
	expect_lifetime("007m", 420);
	expect_lifetime("00000000000000000000000000001d", 86400);
	/* 365 days, in every unit */
	expect_lifetime("365d", 31536000);
	expect_lifetime("8760h", 31536000);
	expect_lifetime("525600m", 31536000);
	expect_lifetime("31536000s", 31536000);
	expect_lifetime("31536000", 31536000);

	expect_extra_error("queue-lifetime 366d",
	    "queue-lifetime: \"366d\" is too long (at most 365d)");
	expect_extra_error("queue-lifetime 8761h",
	    "queue-lifetime: \"8761h\" is too long (at most 365d)");
	expect_extra_error("queue-lifetime 525601m",
	    "queue-lifetime: \"525601m\" is too long (at most 365d)");
	expect_extra_error("queue-lifetime 31536001",
	    "queue-lifetime: \"31536001\" is too long (at most 365d)");
	/* past 32 bits, alone or once multiplied */
	expect_extra_error("queue-lifetime 4294967296",
	    "queue-lifetime: \"4294967296\" is too long (at most 365d)");
	expect_extra_error("queue-lifetime 49711d",
	    "queue-lifetime: \"49711d\" is too long (at most 365d)");
	expect_extra_error("queue-lifetime 71582789m",
	    "queue-lifetime: \"71582789m\" is too long (at most 365d)");
	expect_extra_error("queue-lifetime 18446744073709551617",
	    "queue-lifetime: \"18446744073709551617\" is too long (at most "
	    "365d)");
	expect_extra_error("queue-lifetime 99999999999999999999999999999d",
	    "queue-lifetime: \"99999999999999999999999999999d\" is too long "
	    "(at most 365d)");

	expect_extra_error("queue-lifetime 0",
	    "queue-lifetime: \"0\" is too short (at least 1s)");
	expect_extra_error("queue-lifetime 0d",
	    "queue-lifetime: \"0d\" is too short (at least 1s)");
	expect_extra_error("queue-first-retry 0s",
	    "queue-first-retry: \"0s\" is too short (at least 1s)");
	expect_extra_error("queue-retry-interval 0m",
	    "queue-retry-interval: \"0m\" is too short (at least 1s)");
	expect_extra_error("outbound-timeout 0",
	    "outbound-timeout: \"0\" is too short (at least 1s)");
	expect_extra_error("outbound-timeout 3601",
	    "outbound-timeout: \"3601\" is too long (at most 1h)");
	expect_extra_error("outbound-timeout 61m",
	    "outbound-timeout: \"61m\" is too long (at most 1h)");
	c = parse_extra("outbound-timeout 60m");
	test_assert(c != NULL && c->outbound_timeout == 3600);
	conf_free(c);

	/* not a duration at all */
	expect_extra_error("queue-lifetime \"\"", "queue-lifetime: \"\" is "
	    "not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime -1", "queue-lifetime: \"-1\" is "
	    "not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime +1", "queue-lifetime: \"+1\" is "
	    "not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime \" 1\"", "queue-lifetime: \" 1\" "
	    "is not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime \"1 \"", "queue-lifetime: \"1 \" "
	    "is not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime d", "queue-lifetime: \"d\" is "
	    "not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime 5x", "queue-lifetime: \"5x\" is "
	    "not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime 5D", "queue-lifetime: \"5D\" is "
	    "not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime 5ms", "queue-lifetime: \"5ms\" is "
	    "not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime 1h30m", "queue-lifetime: \"1h30m\" "
	    "is not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime 1.5h", "queue-lifetime: \"1.5h\" "
	    "is not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime 0x10", "queue-lifetime: \"0x10\" "
	    "is not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime 1e3", "queue-lifetime: \"1e3\" "
	    "is not a duration (such as 90, 30s, 15m, 4h or 5d)");
	expect_extra_error("queue-lifetime off", "queue-lifetime: \"off\" "
	    "is not a duration (such as 90, 30s, 15m, 4h or 5d)");

	/* queue-delay-warning alone may be off */
	c = parse_extra("queue-delay-warning off");
	test_assert(c != NULL && c->queue_delay_warning == 0);
	conf_free(c);
	c = parse_extra("queue-delay-warning 0");
	test_assert(c != NULL && c->queue_delay_warning == 0);
	conf_free(c);
	c = parse_extra("queue-delay-warning 1d");
	test_assert(c != NULL && c->queue_delay_warning == 86400);
	conf_free(c);
	expect_extra_error("queue-delay-warning OFF", "queue-delay-warning: "
	    "\"OFF\" is not a duration (such as 90, 30s, 15m, 4h or 5d, or "
	    "off)");
	expect_extra_error("queue-delay-warning 400d", "queue-delay-warning: "
	    "\"400d\" is too long (at most 365d)");

	expect_error(BASE "queue-lifetime 1d\nqueue-lifetime 1d\n",
	    "t.conf:6: queue-lifetime given twice");
	expect_error(BASE "queue-delay-warning off\nqueue-delay-warning 4h\n",
	    "t.conf:6: queue-delay-warning given twice");
	test_end();
}

static void
test_conf_outbound_numbers(void)
{
	test_begin("outbound numbers: ranges and overflow");
	expect_extra_error("outbound-port 0",
	    "outbound-port: \"0\" is too small (1-65535)");
	expect_extra_error("outbound-port 65536",
	    "outbound-port: \"65536\" is too large (1-65535)");
	expect_extra_error("outbound-port 4294967321",	/* 25 mod 2^32 */
	    "outbound-port: \"4294967321\" is too large (1-65535)");
	expect_extra_error("outbound-port smtp",
	    "outbound-port: \"smtp\" is invalid (1-65535)");
	expect_extra_error("outbound-concurrency 0",
	    "outbound-concurrency: \"0\" is too small (1-100)");
	expect_extra_error("outbound-concurrency 101",
	    "outbound-concurrency: \"101\" is too large (1-100)");
	expect_extra_error("outbound-rate -1",
	    "outbound-rate: \"-1\" is too small (0-100000 per minute)");
	expect_extra_error("outbound-rate 100001",
	    "outbound-rate: \"100001\" is too large (0-100000 per minute)");
	expect_extra_error("outbound-rate 99999999999999999999",
	    "outbound-rate: \"99999999999999999999\" is too large (0-100000 "
	    "per minute)");
	expect_extra_error("max-hops 0",
	    "max-hops: \"0\" is too small (1-1000)");
	expect_extra_error("max-hops 1001",
	    "max-hops: \"1001\" is too large (1-1000)");
	expect_extra_error("max-hops", "max-hops takes 1 value, found 0");
	expect_extra_error("outbound-timeout 5 m",
	    "outbound-timeout takes 1 value, found 2");
	expect_error(BASE "max-hops 20\nmax-hops 30\n",
	    "t.conf:6: max-hops given twice");
	expect_error(BASE "outbound-port 25\noutbound-port 25\n",
	    "t.conf:6: outbound-port given twice");
	test_end();
}

/* dns-resolver V must be stored as want (NULL: the system's). */
static void
expect_resolver(const char *v, const char *want)
{
	struct sp_conf	*c;
	char		 line[128];

	snprintf(line, sizeof(line), "dns-resolver %s", v);
	c = parse_extra(line);
	test_assert(c != NULL);
	if (c == NULL) {
		printf("# %s: %s\n", line, err);
		return;
	}
	if (want == NULL)
		test_assert(c->dns_resolver == NULL);
	else
		test_assert_streq(c->dns_resolver, want);
	conf_free(c);
}

static void
test_conf_resolver(void)
{
	test_begin("dns-resolver: numeric ADDRESS[@PORT], normalized");
	expect_resolver("system", NULL);
	expect_resolver("127.0.0.1", "127.0.0.1@53");
	expect_resolver("127.0.0.1@5353", "127.0.0.1@5353");
	expect_resolver("::1", "::1@53");
	expect_resolver("0:0:0:0:0:0:0:1@853", "::1@853");
	expect_resolver("2001:DB8::53@65535", "2001:db8::53@65535");
	expect_resolver("::ffff:192.0.2.1", "::ffff:192.0.2.1@53");
	expect_extra_error("dns-resolver localhost", "dns-resolver: "
	    "\"localhost\" is not a numeric IPv4 or IPv6 address (host names "
	    "are not resolved)");
	expect_extra_error("dns-resolver 1.2.3", "dns-resolver: \"1.2.3\" is "
	    "not a numeric IPv4 or IPv6 address (host names are not "
	    "resolved)");
	expect_extra_error("dns-resolver fe80::1%eth0", "dns-resolver: "
	    "\"fe80::1%eth0\" is not a numeric IPv4 or IPv6 address (host "
	    "names are not resolved)");
	expect_extra_error("dns-resolver [::1]@53", "dns-resolver: "
	    "\"[::1]@53\": write an IPv6 address without brackets (::1@53)");
	expect_extra_error("dns-resolver 127.0.0.1@", "dns-resolver: port "
	    "\"\" is invalid (1-65535)");
	expect_extra_error("dns-resolver 127.0.0.1@0", "dns-resolver: port "
	    "\"0\" is too small (1-65535)");
	expect_extra_error("dns-resolver 127.0.0.1@65536", "dns-resolver: port "
	    "\"65536\" is too large (1-65535)");
	expect_extra_error("dns-resolver 127.0.0.1@53@54", "dns-resolver: port "
	    "\"53@54\" is invalid (1-65535)");
	expect_extra_error("dns-resolver 127.0.0.1:53", "dns-resolver: "
	    "\"127.0.0.1:53\" is not a numeric IPv4 or IPv6 address (host "
	    "names are not resolved)");
	expect_extra_error("dns-resolver @53", "dns-resolver: \"@53\" is not "
	    "ADDRESS, ADDRESS@PORT or system");
	expect_extra_error("dns-resolver \"\"", "dns-resolver: \"\" is not "
	    "ADDRESS, ADDRESS@PORT or system");
	expect_error(BASE "dns-resolver system\ndns-resolver 127.0.0.1\n",
	    "t.conf:6: dns-resolver given twice");
	test_end();
}

static void
test_conf_lexical(void)
{
	struct sp_conf	*c;

	test_begin("quotes, escapes, comments, CRLF and relative paths");
	c = parse("hostname mail.example.test # trailing comment\r\n"
	    "domain EXAMPLE.test\r\n"
	    "data-dir \"/srv/my data\"\n"
	    "run-dir \"run \\\"x\\\" \\\\ y\"\n"
	    "libexec-dir bin#comment\n"
	    "\t listen\tsmtp\t[::1]:25\n");
	test_assert(c != NULL);
	if (c != NULL) {
		test_assert_streq(c->domains[0], "example.test");
		test_assert_streq(c->data_dir, "/srv/my data");
		test_assert_streq(c->run_dir, "/etc/sp/run \"x\" \\ y");
		test_assert_streq(c->libexec_dir, "/etc/sp/bin");
		test_assert(c->listeners[0].addr.ss_family == AF_INET6);
		test_assert_streq(c->listeners[0].host, "::1");
	} else
		printf("# %s\n", err);
	conf_free(c);
	expect_error("hostname \"a.test\n",
	    "t.conf:1: unterminated quoted string");
	expect_error("hostname \"a\\n\"\n", "t.conf:1: bad escape in quoted "
	    "string (only \\\" and \\\\ are allowed)");
	expect_error("hostname \"a\"b\n",
	    "t.conf:1: text right after a closing quote");
	expect_error("hostname a\"b\"\n",
	    "t.conf:1: quote in the middle of a word");
	expect_error("hostname a.test\x01\n",
	    "t.conf:1: control character 0x01");
	expect_error("a b c d e f g h i\n", "t.conf:1: too many words on one "
	    "line");
	test_end();
}

static void
test_conf_nul(void)
{
	const char	 text[] = "hostname a.test\ndomain a\0.test\n";
	struct sp_conf	*c;

	test_begin("a NUL byte is refused, not a string end");
	c = conf_parse(text, sizeof(text) - 1, "t.conf", "/", err,
	    sizeof(err));
	test_assert(c == NULL);
	test_assert_streq(err, "t.conf:2: control character 0x00");
	test_end();
}

static void
test_conf_long_line(void)
{
	char	*text = malloc(SP_CONF_LINE_MAX + 100);

	test_begin("a line over SP_CONF_LINE_MAX is refused");
	memset(text, 'a', SP_CONF_LINE_MAX + 1);
	memcpy(text + SP_CONF_LINE_MAX + 1, "\n", 2);
	expect_error(text, "t.conf:1: line longer than 4096 bytes");
	free(text);
	test_end();
}

static void
test_conf_print_roundtrip(void)
{
	struct sp_conf	*c, *c2;
	char		*out1 = NULL, *out2 = NULL;
	size_t		 l1 = 0, l2 = 0;
	FILE		*fp;

	test_begin("conf_print output parses back to the same configuration");
	c = parse(BASE "domain Other.test\nlog-level debug\nmax-sessions 9\n"
	    "tls-certificate \"c e.pem\"\ntls-key k.pem\n"
	    "outbound-port 2525\ndns-resolver 0::1\nqueue-lifetime 2d\n"
	    "queue-delay-warning off\nqueue-first-retry 90s\n"
	    "listen imaps *:993\nlisten pop3 [::]:110\n");
	test_assert(c != NULL);
	if (c == NULL) {
		test_end();
		return;
	}
	fp = open_memstream(&out1, &l1);
	conf_print(fp, c);
	fclose(fp);
	c2 = conf_parse(out1, l1, "p.conf", "/", err, sizeof(err));
	test_assert(c2 != NULL);
	if (c2 != NULL) {
		fp = open_memstream(&out2, &l2);
		conf_print(fp, c2);
		fclose(fp);
		test_assert_streq(out1, out2);
		test_assert(strstr(out1, "tls-certificate \"/etc/sp/c e.pem\"")
		    != NULL);
		test_assert(strstr(out1, "listen imaps 0.0.0.0:993") != NULL);
		test_assert(strstr(out1, "listen pop3 [::]:110") != NULL);
		test_assert(strstr(out1, "log-level debug") != NULL);
		test_assert(strstr(out1, "outbound-port 2525\n") != NULL);
		test_assert(strstr(out1, "dns-resolver ::1@53\n") != NULL);
		test_assert(strstr(out1, "queue-lifetime 172800\n") != NULL);
		test_assert(strstr(out1, "queue-delay-warning off\n") != NULL);
		test_assert(strstr(out1, "queue-first-retry 90\n") != NULL);
		test_assert(strstr(out1, "queue-retry-interval 900\n") != NULL);
	}
	free(out1);
	free(out2);
	conf_free(c);
	conf_free(c2);
	test_end();
}

static void
test_conf_hostname_rules(void)
{
	char	long_label[80], long_name[300];

	test_begin("host name rules (RFC 1123)");
	test_assert(conf_valid_hostname("a"));
	test_assert(conf_valid_hostname("mx-1.example.test"));
	test_assert(!conf_valid_hostname(""));
	test_assert(!conf_valid_hostname("a-.test"));
	test_assert(!conf_valid_hostname("a.test."));
	test_assert(!conf_valid_hostname("a_b.test"));
	test_assert(!conf_valid_hostname("a b"));
	test_assert(!conf_valid_hostname("\xc3\xa9.test"));
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	test_assert(!conf_valid_hostname(long_label));
	long_label[63] = '\0';
	test_assert(conf_valid_hostname(long_label));
	memset(long_name, 'a', 254);
	for (int i = 50; i < 254; i += 50)
		long_name[i] = '.';
	long_name[254] = '\0';
	test_assert(!conf_valid_hostname(long_name));
	long_name[253] = '\0';
	test_assert(conf_valid_hostname(long_name));
	test_end();
}

static void
test_conf_load_file(void)
{
	struct sp_conf	*c;
	char		 path[] = "/tmp/sp-test-conf-XXXXXX";
	int		 fd;
	FILE		*fp;

	test_begin("conf_load reads a file and resolves paths next to it");
	fd = mkstemp(path);
	test_assert(fd != -1);
	fp = fdopen(fd, "w");
	fputs(BASE "libexec-dir libexec\nlisten pop3s 127.0.0.1:995\n"
	    "tls-certificate /c\ntls-key /k\n", fp);
	fclose(fp);
	c = conf_load(path, err, sizeof(err));
	test_assert(c != NULL);
	if (c != NULL) {
		test_assert_streq(c->path, path);
		test_assert_streq(c->libexec_dir, "/tmp/libexec");
		test_assert(conf_needs_tls(c));
	}
	conf_free(c);
	unlink(path);
	c = conf_load("/nonexistent/sealpost.conf", err, sizeof(err));
	test_assert(c == NULL);
	test_assert_streq(err, "/nonexistent/sealpost.conf: No such file or "
	    "directory");
	c = conf_load("/tmp", err, sizeof(err));
	test_assert(c == NULL);
	test_assert_streq(err, "/tmp: not a regular file");
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_conf_minimal, test_conf_unknown_key, test_conf_missing,
		test_conf_values, test_conf_lexical, test_conf_nul,
		test_conf_long_line, test_conf_print_roundtrip,
		test_conf_hostname_rules, test_conf_load_file,
		test_conf_outbound_defaults, test_conf_durations,
		test_conf_outbound_numbers, test_conf_resolver, NULL
	};

	return test_run(tests);
}
