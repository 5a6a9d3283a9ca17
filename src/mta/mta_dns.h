/* SPDX-License-Identifier: ISC */
/*
 * mta_dns.h - where mail for a domain goes: its MX records, then the
 * addresses of each host, through libunbound (RFC 5321 5.1, RFC 7505).
 * Asynchronous (ub_ctx_async: a thread, never a forked helper): the
 * caller watches mta_dns_fd and calls mta_dns_process; the callback runs
 * from there.  The resolver's address and port are configurable, so that
 * tests use a local DNS server (RECIPES.md 6).
 */
#ifndef SP_MTA_DNS_H
#define SP_MTA_DNS_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "mta_route.h"

#define MTA_ADDRS_MAX	8	/* addresses kept per host */

/* the outcome of a lookup */
#define MTA_DNS_OK		0
#define MTA_DNS_TEMP		1	/* SERVFAIL, a timeout: try later */
#define MTA_DNS_NXDOMAIN	2	/* no such domain: bounce */
#define MTA_DNS_NULL_MX		3	/* RFC 7505: takes no mail: bounce */
#define MTA_DNS_NO_HOST		4	/* MX hosts with no address at all */

struct mta_dest {
	struct mta_route	route;
	/* per host (route.hosts[i]): its addresses, IPv6 first */
	size_t			naddrs[MTA_ROUTE_HOSTS_MAX];
	struct sockaddr_storage	addrs[MTA_ROUTE_HOSTS_MAX][MTA_ADDRS_MAX];
	/* the MX answer was DNSSEC-validated (issue 15: DANE applies) */
	int			mx_secure;
};

struct mta_dns;
typedef void (*mta_dns_cb)(void *arg, int status, const char *why,
	    const struct mta_dest *);

/*
 * A resolver: "ADDR@PORT" of a recursive resolver to forward to, or NULL
 * for /etc/resolv.conf's.  ta: DNSSEC trust anchors, DS or DNSKEY
 * records in zone file format, one a line ('#' and ';' lines and blank
 * lines skipped), or NULL: none (then no answer is ever "secure").  NULL
 * with a message in err.  A bogus answer (validation failed) is a
 * failure for now, never data (MX, addresses, mta_dns_rr).
 */
struct mta_dns	*mta_dns_new(const char *resolver, const char *ta, char *err,
		    size_t errlen);
void		 mta_dns_free(struct mta_dns *);
/* The descriptor to watch for reading; call mta_dns_process then. */
int		 mta_dns_fd(struct mta_dns *);
int		 mta_dns_process(struct mta_dns *);
/*
 * Look up domain (checked: mta_host_ok), then call cb once with the
 * outcome and, with MTA_DNS_OK, the hosts in order and their addresses.
 * 0 started (cb comes later, never from here), -1 refused (bad domain,
 * out of memory).  seed: the shuffle of equal MX preferences.
 */
int		 mta_dns_lookup(struct mta_dns *, const char *domain,
		    uint32_t seed, mta_dns_cb cb, void *arg);

/*
 * The addresses of one host name (AAAA and A), for an HTTPS fetch (the
 * Web Key Directory lookup, mta_wkd.c).  cb gets MTA_DNS_OK with 1 to
 * MTA_ADDRS_MAX addresses, IPv6 first; MTA_DNS_NXDOMAIN (no such name);
 * MTA_DNS_NO_HOST (the name exists, without an address); or MTA_DNS_TEMP
 * (SERVFAIL, a timeout, with no address from the other query).  0
 * started (cb comes later, never from here), -1 refused (host fails
 * mta_host_ok, out of memory).
 */
typedef void (*mta_dns_host_cb)(void *arg, int status, const char *why,
	    const struct sockaddr_storage *addrs, size_t naddrs);
int		 mta_dns_host(struct mta_dns *, const char *host,
		    mta_dns_host_cb cb, void *arg);

/*
 * Any record type (issue 15: TXT for MTA-STS, TLSA for DANE): cb gets
 * the set, copied and bounded (at most MTA_DNS_RR_MAX records of at most
 * MTA_DNS_RDATA_MAX bytes; longer ones counted in skipped), with
 * libunbound's DNSSEC verdict.  status: MTA_DNS_OK (records),
 * MTA_DNS_NO_HOST (the name exists, no record of the type),
 * MTA_DNS_NXDOMAIN, MTA_DNS_TEMP (SERVFAIL, a timeout).  0 started,
 * -1 refused (out of memory, a bad name).
 */
#define MTA_DNS_RR_MAX		8
#define MTA_DNS_RDATA_MAX	600
#define MTA_DNS_TXT		16
#define MTA_DNS_TLSA		52
struct mta_dns_rrset {
	int		status;
	int		secure;		/* validated from a trust anchor */
	int		bogus;		/* validation failed */
	size_t		n, skipped;
	size_t		len[MTA_DNS_RR_MAX];
	unsigned char	data[MTA_DNS_RR_MAX][MTA_DNS_RDATA_MAX];
};
typedef void (*mta_dns_rr_cb)(void *arg, const struct mta_dns_rrset *);
int		 mta_dns_rr(struct mta_dns *, const char *name, int qtype,
		    mta_dns_rr_cb cb, void *arg);

/*
 * One MX record's data as libunbound gives it (preference, then the
 * host's name in wire format, uncompressed): into mx, the name dotted.
 * 0, or -1 for malformed data (hostile: lengths checked).
 */
int		 mta_dns_mx_rdata(const unsigned char *rd, size_t len,
		    struct mta_mx *mx);

#endif
