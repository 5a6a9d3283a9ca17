/* SPDX-License-Identifier: ISC */
/*
 * test_mta_dns.c - MX and address lookups through libunbound against a
 * real DNS server (dnsmasq on a loopback port, started and stopped here,
 * RECIPES.md 6), one host's addresses (mta_dns_host, the WKD lookup's),
 * and MX record data parsed from hostile bytes.
 * Skipped (not failed) when dnsmasq is not installed.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mta_dns.h"
#include "test.h"
#include "banned.h"

static void
test_rdata(void)
{
	static const unsigned char ok[] = { 0, 10, 2, 'm', 'x', 7, 'e', 'x',
	    'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0 };
	static const unsigned char root[] = { 0, 0, 0 };
	static const unsigned char shortl[] = { 0, 10, 5, 'm', 'x', 0 };
	static const unsigned char ptr[] = { 0, 10, 0xc0, 12 };
	static const unsigned char trail[] = { 0, 10, 1, 'a', 0, 'x' };
	static const unsigned char nul[] = { 0, 10, 2, 'a', 0, 0 };
	unsigned char	 big[600];
	struct mta_mx	 mx;
	size_t		 i;

	test_begin("MX record data: names, the root, malformed data");
	test_assert(mta_dns_mx_rdata(ok, sizeof(ok), &mx) == 0);
	test_assert(mx.pref == 10);
	test_assert_streq(mx.host, "mx.example.test");
	test_assert(mta_dns_mx_rdata(root, sizeof(root), &mx) == 0);
	test_assert(mx.pref == 0);
	test_assert_streq(mx.host, ".");
	test_assert(mta_dns_mx_rdata(shortl, sizeof(shortl), &mx) == -1);
	test_assert(mta_dns_mx_rdata(ptr, sizeof(ptr), &mx) == -1);
	test_assert(mta_dns_mx_rdata(trail, sizeof(trail), &mx) == -1);
	test_assert(mta_dns_mx_rdata(nul, sizeof(nul), &mx) == -1);
	test_assert(mta_dns_mx_rdata(ok, 2, &mx) == -1);
	test_assert(mta_dns_mx_rdata(ok, sizeof(ok) - 1, &mx) == -1);
	/* a name past 253 bytes */
	big[0] = 0;
	big[1] = 1;
	for (i = 2; i + 64 < sizeof(big); i += 64) {
		big[i] = 63;
		memset(big + i + 1, 'a', 63);
	}
	big[i] = 0;
	test_assert(mta_dns_mx_rdata(big, i + 1, &mx) == -1);
	test_end();
}

struct result {
	int		done;
	int		status;
	struct mta_dest	dest;
};

static void
on_result(void *arg, int status, const char *why, const struct mta_dest *d)
{
	struct result	*r = arg;

	(void)why;
	r->done = 1;
	r->status = status;
	if (d != NULL)
		r->dest = *d;
}

/* Look domain up and wait (5 s at most). */
static int
lookup(struct mta_dns *d, const char *domain, struct result *r)
{
	struct pollfd	pfd;
	time_t		end = time(NULL) + 5;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (mta_dns_lookup(d, domain, 1, on_result, r) == -1)
		return -1;
	pfd.fd = mta_dns_fd(d);
	pfd.events = POLLIN;
	while (!r->done && time(NULL) < end) {
		if (poll(&pfd, 1, 200) > 0)
			(void)mta_dns_process(d);
	}
	return r->done ? r->status : -1;
}

struct hresult {
	int			done;
	int			status;
	size_t			naddrs;
	struct sockaddr_storage	addrs[MTA_ADDRS_MAX];
};

static void
on_host(void *arg, int status, const char *why,
    const struct sockaddr_storage *addrs, size_t naddrs)
{
	struct hresult	*r = arg;

	(void)why;
	r->done = 1;
	r->status = status;
	r->naddrs = naddrs;
	if (naddrs > 0)
		memcpy(r->addrs, addrs, naddrs * sizeof(addrs[0]));
}

/* One host's addresses, and wait (5 s at most). */
static int
lookup_host(struct mta_dns *d, const char *host, struct hresult *r)
{
	struct pollfd	pfd;
	time_t		end = time(NULL) + 5;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (mta_dns_host(d, host, on_host, r) == -1)
		return -1;
	pfd.fd = mta_dns_fd(d);
	pfd.events = POLLIN;
	while (!r->done && time(NULL) < end) {
		if (poll(&pfd, 1, 200) > 0)
			(void)mta_dns_process(d);
	}
	return r->done ? r->status : -1;
}

static int
v4_is(const struct sockaddr_storage *ss, const char *a)
{
	char	buf[64];

	return ss->ss_family == AF_INET && inet_ntop(AF_INET,
	    &((const struct sockaddr_in *)ss)->sin_addr, buf, sizeof(buf)) !=
	    NULL && strcmp(buf, a) == 0;
}

static int
free_udp_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
test_live(void)
{
	struct mta_dns	*d;
	struct result	 r;
	struct hresult	 h;
	char		 dir[64], conf[128], fwd[64], err[256];
	FILE		*f;
	pid_t		 pid;
	int		 port, st, i, fd;

	if (access("/usr/sbin/dnsmasq", X_OK) == -1) {
		test_skip("lookups against dnsmasq", "dnsmasq not installed");
		return;
	}
	test_begin("lookups against a real DNS server (dnsmasq)");
	snprintf(dir, sizeof(dir), "/tmp/sp-mtadns-XXXXXX");
	test_assert(mkdtemp(dir) != NULL);
	snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", dir);
	test_assert((port = free_udp_port()) > 0);
	test_assert((f = fopen(conf, "w")) != NULL);
	fprintf(f, "port=%d\nlisten-address=127.0.0.1\nbind-interfaces\n"
	    "no-resolv\nno-hosts\nkeep-in-foreground\nuser=nobody\n"
	    "mx-host=example.test,mx1.example.test,20\n"
	    "mx-host=example.test,mx2.example.test,10\n"
	    "host-record=mx1.example.test,127.0.0.3\n"
	    "host-record=mx2.example.test,127.0.0.2,::1\n"
	    "host-record=plain.test,127.0.0.4\n"
	    "mx-host=nohost.test,missing.nohost.test,10\n"
	    "address=/#/\n", port);
	fclose(f);
	if ((pid = fork()) == 0) {
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/usr/sbin/dnsmasq", "dnsmasq", "-C", conf, "--pid-file=",
		    (char *)NULL);
		_exit(127);
	}
	test_assert(pid > 0);
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", port);
	test_assert((d = mta_dns_new(fwd, NULL, err, sizeof(err))) != NULL);
	/* dnsmasq takes a moment to bind */
	for (i = 0; i < 50 && lookup(d, "example.test", &r) != MTA_DNS_OK;
	    i++)
		usleep(100000);
	test_assert(r.status == MTA_DNS_OK);
	test_assert(r.dest.route.nhosts == 2 && !r.dest.route.implicit);
	test_assert_streq(r.dest.route.hosts[0], "mx2.example.test");
	test_assert_streq(r.dest.route.hosts[1], "mx1.example.test");
	/* IPv6 first */
	test_assert(r.dest.naddrs[0] == 2 &&
	    r.dest.addrs[0][0].ss_family == AF_INET6 &&
	    v4_is(&r.dest.addrs[0][1], "127.0.0.2"));
	test_assert(r.dest.naddrs[1] == 1 &&
	    v4_is(&r.dest.addrs[1][0], "127.0.0.3"));
	/* no MX: the domain itself */
	test_assert(lookup(d, "plain.test", &r) == MTA_DNS_OK);
	test_assert(r.dest.route.implicit && r.dest.route.nhosts == 1 &&
	    v4_is(&r.dest.addrs[0][0], "127.0.0.4"));
	/* no such domain; an MX host without an address */
	test_assert(lookup(d, "nowhere.test", &r) == MTA_DNS_NXDOMAIN);
	test_assert(lookup(d, "nohost.test", &r) == MTA_DNS_NO_HOST);
	/* a name that cannot be looked up is refused at once */
	test_assert(mta_dns_lookup(d, "bad..name", 1, on_result, &r) == -1);
	/* one host's addresses: IPv6 first; IPv4 only; none such */
	test_assert(lookup_host(d, "mx2.example.test", &h) == MTA_DNS_OK);
	test_assert(h.naddrs == 2 && h.addrs[0].ss_family == AF_INET6 &&
	    v4_is(&h.addrs[1], "127.0.0.2"));
	test_assert(lookup_host(d, "plain.test", &h) == MTA_DNS_OK);
	test_assert(h.naddrs == 1 && v4_is(&h.addrs[0], "127.0.0.4"));
	test_assert(lookup_host(d, "nowhere.test", &h) == MTA_DNS_NXDOMAIN);
	test_assert(h.naddrs == 0);
	test_assert(mta_dns_host(d, "bad..name", on_host, &h) == -1);
	test_assert(mta_dns_host(d, "127.0.0.1", on_host, &h) == -1);
	mta_dns_free(d);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	unlink(conf);
	rmdir(dir);
	/* a resolver nobody listens on: a temporary failure */
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", free_udp_port());
	test_assert((d = mta_dns_new(fwd, NULL, err, sizeof(err))) != NULL);
	test_assert(mta_dns_new("not an address", NULL, err, sizeof(err)) == NULL);
	mta_dns_free(d);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_rdata, test_live, NULL };

	return test_run(tests);
}
