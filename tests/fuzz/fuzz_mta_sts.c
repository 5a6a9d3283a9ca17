/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mta_sts.c - libFuzzer target for the MTA-STS parsers (RFC 8461,
 * mta/mta_sts.c): every input as a _mta-sts TXT record and as a policy
 * file.  A record's id is 1..32 letters and digits; a policy's mode is
 * known, max_age within a year, at most MTA_STS_MX_MAX patterns (none
 * only with mode none), each a host name or "*." and one.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta_sts.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mta_sts_policy	 p;
	const char		*why, *m;
	char			 id[MTA_STS_ID_MAX + 1];
	size_t			 i, n;
	int			 r;

	r = mta_sts_txt_parse((const char *)data, size, id);
	if (r == 1) {
		n = strlen(id);
		if (n == 0 || n > MTA_STS_ID_MAX)
			abort();
	} else if (id[0] != '\0' && r != -1)
		abort();
	if (mta_sts_policy_parse((const char *)data, size, &p, &why) == 0) {
		if (why != NULL || p.mode < MTA_STS_NONE ||
		    p.mode > MTA_STS_ENFORCE || p.max_age > MTA_STS_MAX_AGE ||
		    p.nmx > MTA_STS_MX_MAX ||
		    (p.nmx == 0 && p.mode != MTA_STS_NONE))
			abort();
		for (i = 0; i < p.nmx; i++) {
			m = p.mx[i];
			if (m[0] == '*' && m[1] == '.')
				m += 2;
			if (!mta_host_ok(m))
				abort();
		}
	} else if (why == NULL)
		abort();
	return 0;
}
