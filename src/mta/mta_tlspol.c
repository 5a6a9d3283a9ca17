/* SPDX-License-Identifier: ISC */
/*
 * mta_tlspol.c - one host's TLS treatment from the attempt's policy
 * (mta_tlspol.h); the precedence is documented there.
 *
 * Process:  mta (a worker thread, per host), and the unit tests.
 * Trust:    host names and TLSA data come from DNS and the MTA-STS
 *           patterns from a remote HTTPS server; all were bounded by
 *           their parsers, and nothing here reads past them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mta_tlspol.h"
#include "banned.h"

int
mta_sts_mx_match(const char *pattern, const char *host)
{
	const char	*dot;

	if (pattern[0] == '*' && pattern[1] == '.') {
		/* RFC 8461 4.1: the wildcard stands for one whole label */
		if ((dot = strchr(host, '.')) == NULL || dot == host)
			return 0;
		return strcmp(dot + 1, pattern + 2) == 0;
	}
	return strcmp(pattern, host) == 0;
}

static void
verify_name(struct mta_tls_host *out, int mode, const char *source,
    const char *name)
{
	out->mode = mode;
	out->source = source;
	out->chk.mode = TLS_CHECK_PKIX;
	out->chk.names[0] = name;
	out->chk.nnames = 1;
}

int
mta_tlspol_host(const struct mta_tlspol *p, size_t h, const char *host,
    struct mta_tls_host *out)
{
	const struct mta_host_dane	*d;
	size_t				 i, n = 0;

	memset(out, 0, sizeof(*out));
	out->mode = MTA_TLS_OPPORTUNISTIC;
	out->source = "opportunistic";
	out->chk.mode = TLS_CHECK_NONE;
	if (p->smarthost[0] != '\0') {
		/* SECURITY: credentials go there: always verified */
		verify_name(out, MTA_TLS_VERIFY, "smarthost", p->smarthost);
		return 0;
	}
	if (h >= MTA_ROUTE_HOSTS_MAX)
		return -1;
	d = &p->hosts[h];
	if (p->dane && d->state == MTA_DANE_BOGUS) {
		/* RFC 7672 2.2: no delivery to a host we cannot judge */
		out->skip = 1;
		(void)snprintf(out->why, sizeof(out->why), "451 4.7.5 %s: its "
		    "TLSA records could not be validated (DNSSEC)", host);
		return 0;
	}
	if (p->dane && d->state == MTA_DANE_USABLE) {
		for (i = 0; i < d->n && n < MTA_TLSA_MAX; i++) {
			/* RFC 7672 3.1.3: PKIX-TA/PKIX-EE are not used */
			if (d->r[i].usage != 2 && d->r[i].usage != 3)
				continue;
			out->tlsa[n].usage = d->r[i].usage;
			out->tlsa[n].selector = d->r[i].selector;
			out->tlsa[n].mtype = d->r[i].mtype;
			out->tlsa[n].data = d->r[i].data;
			out->tlsa[n].len = d->r[i].len;
			n++;
		}
	}
	if (n > 0) {
		out->mode = MTA_TLS_DANE;
		out->source = "dane";
		out->chk.mode = TLS_CHECK_DANE;
		out->chk.names[0] = host;
		out->chk.nnames = 1;
		out->chk.tlsa = out->tlsa;
		out->chk.ntlsa = n;
		return 0;
	}
	if (p->dane && (d->state == MTA_DANE_USABLE ||
	    d->state == MTA_DANE_UNUSABLE)) {
		/* RFC 7672 2.2: TLSA records, none usable: TLS, unchecked */
		out->mode = MTA_TLS_ENCRYPT;
		out->source = "dane";
		return 0;
	}
	if (p->sts_mode != MTA_STS_NONE) {
		int	match = 0;

		for (i = 0; i < p->sts_nmx && !match; i++)
			match = mta_sts_mx_match(p->sts_mx[i], host);
		if (p->sts_mode == MTA_STS_ENFORCE) {
			if (!match) {
				out->skip = 1;
				(void)snprintf(out->why, sizeof(out->why),
				    "451 4.7.5 %s is not an MX host the "
				    "domain's MTA-STS policy lists", host);
				return 0;
			}
			verify_name(out, MTA_TLS_VERIFY, "mta-sts", host);
			return 0;
		}
		out->sts_mismatch = !match;
	}
	if (p->required)
		verify_name(out, MTA_TLS_VERIFY, "policy", host);
	return 0;
}
