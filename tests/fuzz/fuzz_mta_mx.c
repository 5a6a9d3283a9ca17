/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mta_mx.c - libFuzzer target for MX record data as the resolver
 * hands it over (mta_dns_mx_rdata), and the hosts built from up to 16 of
 * them (mta_route_build): a name is dotted, NUL-free and within its
 * bound; every host kept passes mta_host_ok, in preference order.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta_dns.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mta_mx		 mx[16];
	struct mta_route	 r;
	size_t			 n = 0, off = 0, l, i;

	/* records: a length byte, then that many bytes of data */
	while (off < size && n < 16) {
		l = data[off++];
		if (l > size - off)
			l = size - off;
		if (mta_dns_mx_rdata(data + off, l, &mx[n]) == 0) {
			if (strlen(mx[n].host) > MTA_HOST_MAX ||
			    mx[n].host[0] == '\0')
				abort();
			n++;
		}
		off += l;
	}
	if (mta_route_build("example.org", mx, n, 7, &r) == MTA_ROUTE_OK) {
		if (r.nhosts == 0 || r.nhosts > MTA_ROUTE_HOSTS_MAX)
			abort();
		for (i = 0; i < r.nhosts; i++) {
			if (!mta_host_ok(r.hosts[i]))
				abort();
			if (i > 0 && r.prefs[i] < r.prefs[i - 1])
				abort();
		}
	}
	return 0;
}
