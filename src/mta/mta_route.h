/* SPDX-License-Identifier: ISC */
/*
 * mta_route.h - which hosts to try for a domain, from its MX records
 * (RFC 5321 5.1, RFC 7505): lowest preference first, the order among
 * equal preferences shuffled, the domain itself when it has no MX, no
 * host at all for a null MX.  No I/O: the records come from the resolver
 * (libunbound in the mta role) and are hostile like any DNS answer.
 */
#ifndef SP_MTA_ROUTE_H
#define SP_MTA_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define MTA_HOST_MAX		253	/* a domain name, without the dot */
#define MTA_ROUTE_HOSTS_MAX	16	/* MX hosts tried for one domain */

struct mta_mx {
	uint16_t	pref;
	char		host[MTA_HOST_MAX + 2];	/* as the answer spells it */
};

struct mta_route {
	size_t		nhosts;
	char		hosts[MTA_ROUTE_HOSTS_MAX][MTA_HOST_MAX + 1];
	uint16_t	prefs[MTA_ROUTE_HOSTS_MAX];
	int		implicit;	/* no MX: the domain itself (5.1) */
};

/* mta_route_build's answers */
#define MTA_ROUTE_OK		0
#define MTA_ROUTE_NULL_MX	1	/* RFC 7505: the domain takes no mail */
#define MTA_ROUTE_BAD		(-1)	/* no usable host in the answer */

/*
 * The hosts to try for domain from its n MX records (n 0: none, the
 * domain itself).  A host name is lower-cased, its trailing dot dropped,
 * and checked (LDH labels of 1..63, at most 253 bytes, not an address
 * literal); a bad one, or a duplicate, is skipped.  A null MX (one record,
 * preference 0, host ".") gives MTA_ROUTE_NULL_MX; a "." among other
 * records is skipped.  Records past MTA_ROUTE_HOSTS_MAX after sorting are
 * dropped.  seed: the shuffle of equal preferences (random in the mta,
 * fixed in tests).
 */
int	mta_route_build(const char *domain, const struct mta_mx *mx, size_t n,
	    uint32_t seed, struct mta_route *out);
/* Is s a host name we may look up and connect to (the checks above)? */
int	mta_host_ok(const char *s);

#endif
