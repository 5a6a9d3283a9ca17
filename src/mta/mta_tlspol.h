/* SPDX-License-Identifier: ISC */
/*
 * mta_tlspol.h - the TLS policy of one delivery attempt (issue 15): what
 * the mta demands of each host's TLS before it sends a message there.
 * The inputs are gathered by mta.c (the recipients' "tls required" from
 * the policy, the smarthost, an MTA-STS policy, DANE TLSA records) and
 * mta_tlspol_host turns them, for one MX host, into the check the TLS
 * handshake makes (tls.h's tls_check), or into "do not use this host".
 * No I/O: unit-tested (tests/unit/test_mta_tlspol.c).
 *
 * Precedence, per host (RFC 8461 2, RFC 7672 2.2):
 *   smarthost          verified (PKIX) against the smarthost's name
 *   DANE               the host's TLSA RRset, DNSSEC-validated: usable
 *                      DANE-TA/DANE-EE records are checked, TLSA records
 *                      with none usable still require TLS (unchecked);
 *                      a bogus answer: the host is not used now
 *   MTA-STS enforce    only MX hosts matching the policy's mx patterns,
 *                      TLS required and verified (PKIX) against the MX
 *                      host name
 *   "tls required"     TLS required and verified (PKIX) against the MX
 *                      host name
 *   otherwise          opportunistic: STARTTLS when offered, unchecked,
 *                      plaintext after a failed handshake
 * Trust: the MX names and TLSA data come from DNS (hostile, but DANE's
 * only when validated); the MTA-STS patterns from an HTTPS fetch, parsed
 * by mta_sts.c.
 */
#ifndef SP_MTA_TLSPOL_H
#define SP_MTA_TLSPOL_H

#include <stddef.h>
#include <stdint.h>

#include "tls.h"
#include "mta_route.h"

#define MTA_TLSA_MAX		8	/* TLSA records kept per host */
#define MTA_TLSA_DATA_MAX	512	/* a longer one (a full cert) is
					 * skipped, as unusable */
#define MTA_STS_MX_MAX		16	/* mx patterns of a policy */

/* how one host's TLS is treated */
#define MTA_TLS_OPPORTUNISTIC	0	/* unchecked, plaintext fallback */
#define MTA_TLS_ENCRYPT		1	/* required, unchecked */
#define MTA_TLS_VERIFY		2	/* required, PKIX and a name */
#define MTA_TLS_DANE		3	/* required, the host's TLSA */

/* DANE state of one MX host (RFC 7672 2.2) */
#define MTA_DANE_NONE		0	/* no validated TLSA: other rules */
#define MTA_DANE_USABLE		1	/* validated, some usable */
#define MTA_DANE_UNUSABLE	2	/* validated, none usable: encrypt */
#define MTA_DANE_BOGUS		3	/* validation or lookup failed */

/* MTA-STS modes (RFC 8461 3.2) */
#define MTA_STS_NONE		0
#define MTA_STS_TESTING		1
#define MTA_STS_ENFORCE		2

struct mta_tlsa_rec {
	uint8_t		 usage, selector, mtype;
	size_t		 len;
	unsigned char	 data[MTA_TLSA_DATA_MAX];
};

struct mta_host_dane {
	int			 state;		/* MTA_DANE_* */
	size_t			 n;
	struct mta_tlsa_rec	 r[MTA_TLSA_MAX];
};

struct mta_tlspol {
	int			 required;	/* a recipient's policy */
	char			 smarthost[MTA_HOST_MAX + 1];	/* "" none */
	int			 sts_mode;	/* MTA_STS_* */
	size_t			 sts_nmx;
	char			 sts_mx[MTA_STS_MX_MAX][MTA_HOST_MAX + 1];
	int			 dane;		/* the MX answer was secure */
	struct mta_host_dane	 hosts[MTA_ROUTE_HOSTS_MAX];
};

/* what one host gets */
struct mta_tls_host {
	int		 mode;		/* MTA_TLS_* */
	const char	*source;	/* "opportunistic", "policy",
					 * "smarthost", "mta-sts", "dane" */
	int		 skip;		/* 1: do not connect, why says */
	char		 why[MTA_HOST_MAX + 128];
	struct tls_check chk;		/* points into the policy and host */
	struct tls_tlsa	 tlsa[MTA_TLSA_MAX];
	int		 sts_mismatch;	/* testing mode: logged only */
};

/*
 * The treatment of host, the h-th of the route (its DANE state is
 * p->hosts[h]), into out (pointers into p and host: keep them alive).
 * 0 with out->skip 0: connect; 0 with out->skip 1: this host is not
 * used now (a bogus DANE answer; not an MTA-STS mx), why says for the
 * recipients.
 */
int	mta_tlspol_host(const struct mta_tlspol *p, size_t h, const char *host,
	    struct mta_tls_host *out);

/*
 * RFC 8461 4.1: does an mx pattern ("mail.example.com" or
 * "*.example.com": one leftmost label) match host?  Both lower case.
 */
int	mta_sts_mx_match(const char *pattern, const char *host);

#endif
