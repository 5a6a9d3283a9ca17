/* SPDX-License-Identifier: ISC */
/*
 * test_mta_tlspol.c - the outbound TLS policy (mta/mta_tlspol.c): the
 * precedence smarthost > DANE > MTA-STS enforce > "tls required" >
 * opportunistic, a bogus DANE answer and an MX outside the MTA-STS
 * patterns skipped, PKIX-* TLSA usages ignored; MTA-STS mx patterns;
 * the smarthost's AUTH PLAIN line (mta/mta_smarthost.c).
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "mta_tlspol.h"
#include "mta_smarthost.h"
#include "mta_sts.h"
#include "test.h"
#include "banned.h"

static struct mta_tlspol	p;

static void
test_precedence(void)
{
	struct mta_tls_host	t;

	test_begin("TLS policy: precedence per host");
	memset(&p, 0, sizeof(p));
	test_assert(mta_tlspol_host(&p, 0, "mx.a.test", &t) == 0);
	test_assert(t.mode == MTA_TLS_OPPORTUNISTIC && !t.skip &&
	    t.chk.mode == TLS_CHECK_NONE);
	p.required = 1;
	test_assert(mta_tlspol_host(&p, 0, "mx.a.test", &t) == 0);
	test_assert(t.mode == MTA_TLS_VERIFY && t.chk.mode == TLS_CHECK_PKIX &&
	    t.chk.nnames == 1);
	test_assert_streq(t.chk.names[0], "mx.a.test");
	test_assert_streq(t.source, "policy");
	/* MTA-STS enforce: only listed MX hosts */
	p.sts_mode = MTA_STS_ENFORCE;
	p.sts_nmx = 1;
	strlcpy(p.sts_mx[0], "*.a.test", sizeof(p.sts_mx[0]));
	test_assert(mta_tlspol_host(&p, 0, "mx.a.test", &t) == 0);
	test_assert(!t.skip && t.mode == MTA_TLS_VERIFY);
	test_assert_streq(t.source, "mta-sts");
	test_assert(mta_tlspol_host(&p, 0, "mx.evil.test", &t) == 0);
	test_assert(t.skip && strstr(t.why, "451 4.7.5") == t.why);
	/* testing: delivered as usual, the mismatch noted */
	p.sts_mode = MTA_STS_TESTING;
	p.required = 0;
	test_assert(mta_tlspol_host(&p, 0, "mx.evil.test", &t) == 0);
	test_assert(!t.skip && t.sts_mismatch &&
	    t.mode == MTA_TLS_OPPORTUNISTIC);
	/* DANE wins over MTA-STS; PKIX-TA/EE records are ignored */
	p.sts_mode = MTA_STS_ENFORCE;
	p.dane = 1;
	p.hosts[1].state = MTA_DANE_USABLE;
	p.hosts[1].n = 2;
	p.hosts[1].r[0].usage = 1;
	p.hosts[1].r[1].usage = 3;
	p.hosts[1].r[1].selector = 1;
	p.hosts[1].r[1].mtype = 1;
	p.hosts[1].r[1].len = 32;
	test_assert(mta_tlspol_host(&p, 1, "mx.evil.test", &t) == 0);
	test_assert(!t.skip && t.mode == MTA_TLS_DANE &&
	    t.chk.mode == TLS_CHECK_DANE && t.chk.ntlsa == 1 &&
	    t.chk.tlsa[0].usage == 3 && t.chk.tlsa[0].len == 32);
	/* only PKIX usages: TLS required, unchecked */
	p.hosts[1].n = 1;
	test_assert(mta_tlspol_host(&p, 1, "mx.evil.test", &t) == 0);
	test_assert(!t.skip && t.mode == MTA_TLS_ENCRYPT &&
	    t.chk.mode == TLS_CHECK_NONE);
	/* bogus: not used */
	p.hosts[1].state = MTA_DANE_BOGUS;
	test_assert(mta_tlspol_host(&p, 1, "mx.a.test", &t) == 0 && t.skip);
	/* the MX answer insecure: DANE not looked at */
	p.dane = 0;
	test_assert(mta_tlspol_host(&p, 1, "mx.a.test", &t) == 0 && !t.skip &&
	    t.mode == MTA_TLS_VERIFY);
	/* the smarthost: always its own name */
	strlcpy(p.smarthost, "relay.test", sizeof(p.smarthost));
	test_assert(mta_tlspol_host(&p, 0, "relay.test", &t) == 0);
	test_assert(t.mode == MTA_TLS_VERIFY);
	test_assert_streq(t.chk.names[0], "relay.test");
	test_assert(mta_tlspol_host(&p, MTA_ROUTE_HOSTS_MAX, "x", &t) == 0);
	p.smarthost[0] = '\0';
	test_assert(mta_tlspol_host(&p, MTA_ROUTE_HOSTS_MAX, "x", &t) == -1);
	test_end();
}

static void
test_mx_match(void)
{
	test_begin("MTA-STS mx patterns (RFC 8461 4.1)");
	test_assert(mta_sts_mx_match("mx.a.test", "mx.a.test"));
	test_assert(!mta_sts_mx_match("mx.a.test", "mx2.a.test"));
	test_assert(mta_sts_mx_match("*.a.test", "mx.a.test"));
	test_assert(!mta_sts_mx_match("*.a.test", "a.test"));
	test_assert(!mta_sts_mx_match("*.a.test", "x.mx.a.test"));
	test_assert(!mta_sts_mx_match("*.a.test", ".a.test"));
	test_end();
}

static void
test_auth_line(void)
{
	char	out[256], err[128];
	int	n;

	test_begin("smarthost AUTH PLAIN line from \"user password\"");
	n = mta_smarthost_auth_line("user pass word\n", 15, out, sizeof(out),
	    err, sizeof(err));
	/* base64("\0user\0pass word") */
	test_assert(n > 0 && (size_t)n < sizeof(out));
	out[n > 0 ? n : 0] = '\0';
	test_assert_streq(out, "AUTH PLAIN AHVzZXIAcGFzcyB3b3Jk\r\n");
	test_assert(mta_smarthost_auth_line("user\n", 5, out, sizeof(out),
	    err, sizeof(err)) == -1);
	test_assert(mta_smarthost_auth_line("a b\nc d\n", 8, out, sizeof(out),
	    err, sizeof(err)) == -1);
	test_assert(mta_smarthost_auth_line(" b", 2, out, sizeof(out),
	    err, sizeof(err)) == -1);
	test_assert(mta_smarthost_auth_line("a b", 3, out, 12, err,
	    sizeof(err)) == -1);
	test_end();
}

static void
test_sts_parse(void)
{
	struct mta_sts_policy	 sp, got;
	const char		*why;
	char			 id[MTA_STS_ID_MAX + 1];
	static const char	 ok[] = "version: STSv1\r\nmode: enforce\r\n"
	    "mx: Mail.Example.com.\r\nmx: *.example.net\r\nunknown: x\r\n"
	    "max_age: 604800\r\n";
	static const char *const bad[] = {
	    "version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n",
	    "version: STSv1\nmode: enforce\nmax_age: 1\n",
	    "version: STSv1\nmode: force\nmx: a.b\nmax_age: 1\n",
	    "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557601\n",
	    "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n",
	    "version: STSv1\nmode: enforce\nmx: a.b\n",
	    "version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1\n",
	    "version: STSv1\nmode: enforce\nmx: *.*.b\nmax_age: 1\n",
	    "version STSv1\n",
	    "version: STSv1\nversion: STSv1\nmode: none\nmax_age: 1\n",
	};
	size_t			 i;

	test_begin("MTA-STS TXT record and policy (RFC 8461 3.1, 3.2)");
	test_assert(mta_sts_txt_parse("v=STSv1; id=20160831085700Z;", 28,
	    id) == 1);
	test_assert_streq(id, "20160831085700Z");
	test_assert(mta_sts_txt_parse("v=STSv1;id=abc", 14, id) == 1);
	test_assert_streq(id, "abc");
	test_assert(mta_sts_txt_parse("v=spf1 -all", 11, id) == 0);
	test_assert(mta_sts_txt_parse("v=STSv10; id=a", 14, id) == 0);
	test_assert(mta_sts_txt_parse("v=STSv1; id=a-b", 15, id) == -1);
	test_assert(mta_sts_txt_parse("v=STSv1;", 8, id) == -1);
	test_assert(mta_sts_txt_parse("v=STSv1; id=a; id=b", 19, id) == -1);
	{
		static const char long_id[] = "v=STSv1; id="
		    "0123456789012345678901234567890123";	/* 34 */

		test_assert(mta_sts_txt_parse(long_id, sizeof(long_id) - 1,
		    id) == -1);
	}
	test_assert(mta_sts_policy_parse(ok, sizeof(ok) - 1, &sp, &why) == 0);
	test_assert(sp.mode == MTA_STS_ENFORCE && sp.max_age == 604800 &&
	    sp.nmx == 2);
	test_assert_streq(sp.mx[0], "mail.example.com");
	test_assert_streq(sp.mx[1], "*.example.net");
	test_assert(mta_sts_policy_parse("version: STSv1\nmode: none\n"
	    "max_age: 0", 36, &sp, &why) == 0 && sp.mode == MTA_STS_NONE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_assert(mta_sts_policy_parse(bad[i], strlen(bad[i]), &sp,
		    &why) == -1 && why != NULL);
	/* the cache: by domain, until max_age */
	test_assert(mta_sts_policy_parse(ok, sizeof(ok) - 1, &sp, &why) == 0);
	mta_sts_cache_put("a.test", 100, "id1", &sp);
	test_assert(mta_sts_cache_get("a.test", 101, &got, id) == 1);
	test_assert_streq(id, "id1");
	test_assert(got.nmx == 2);
	test_assert(mta_sts_cache_get("b.test", 101, &got, id) == 0);
	test_assert(mta_sts_cache_get("a.test", 100 + 604800, &got, id) == 0);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_precedence, test_mx_match,
	    test_auth_line, test_sts_parse, NULL };

	if (sodium_init() < 0)
		return 1;
	return test_run(tests);
}
