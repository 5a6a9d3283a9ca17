/* SPDX-License-Identifier: ISC */
/*
 * mta_sts.h - MTA-STS (RFC 8461): the _mta-sts TXT record, the policy
 * file fetched from https://mta-sts.DOMAIN/.well-known/mta-sts.txt, and
 * the mta's cache of policies.  The parsers take hostile input (DNS, a
 * remote web server): bounded, no I/O, fuzzed (tests/fuzz/fuzz_mta_sts.c).
 */
#ifndef SP_MTA_STS_H
#define SP_MTA_STS_H

#include <stddef.h>
#include <stdint.h>

#include "mta_route.h"
#include "mta_tlspol.h"

#define MTA_STS_POLICY_MAX	(64 * 1024)	/* the policy file's bytes */
#define MTA_STS_ID_MAX		32		/* RFC 8461 3.1 */
#define MTA_STS_MAX_AGE		31557600	/* RFC 8461 3.2: a year */
#define MTA_STS_CACHE_MAX	256		/* domains cached */

struct mta_sts_policy {
	int		 mode;		/* MTA_STS_* */
	uint32_t	 max_age;	/* seconds */
	size_t		 nmx;
	char		 mx[MTA_STS_MX_MAX][MTA_HOST_MAX + 1];
};

/*
 * The TXT record's text (the character-strings of one record joined;
 * len bytes): "v=STSv1; id=ID;" with optional blanks and other fields.
 * 1 with the id in id (MTA_STS_ID_MAX + 1 bytes), 0 when the record is
 * not an STS record (no "v=STSv1" first), -1 when it is one but
 * malformed.
 */
int	mta_sts_txt_parse(const char *txt, size_t len, char *id);
/*
 * The policy file (len bytes, at most MTA_STS_POLICY_MAX): "key: value"
 * lines ending in CR LF or LF; version STSv1, mode, max_age and (except
 * mode none) at least one mx are required; unknown keys are ignored; mx
 * patterns past MTA_STS_MX_MAX are ignored.  0, or -1 with a static
 * reason in *why.
 */
int	mta_sts_policy_parse(const char *text, size_t len,
	    struct mta_sts_policy *p, const char **why);

/*
 * The cache (thread-safe; in memory only: a restart forgets it and the
 * next delivery to a domain fetches again).  now is CLOCK_MONOTONIC
 * seconds.  get: 1 with the policy (and its id) when an unexpired one is
 * cached, else 0.  put: store (replacing the domain's, else the entry
 * that expires first).
 */
int	mta_sts_cache_get(const char *domain, long now,
	    struct mta_sts_policy *p, char *id);
void	mta_sts_cache_put(const char *domain, long now, const char *id,
	    const struct mta_sts_policy *p);

#endif
