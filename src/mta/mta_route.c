/* SPDX-License-Identifier: ISC */
/*
 * mta_route.c - the hosts to try for a domain (mta_route.h).
 *
 * Process:  mta (the outbound issue), and the tests.
 * Trust:    MX records are whatever a DNS server answered: host names
 *           are checked before they are kept, the count is bounded.
 * Limits:   MTA_ROUTE_HOSTS_MAX, MTA_HOST_MAX.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mta_route.h"
#include "banned.h"

int
mta_host_ok(const char *s)
{
	size_t	n = strlen(s), i, label = 0;
	int	alpha = 0;

	if (n == 0 || n > MTA_HOST_MAX || s[0] == '.' || s[n - 1] == '.' ||
	    s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-' || s[i + 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			alpha = 1;
		if (++label > 63)
			return 0;
	}
	/* all digits and dots would be an IPv4 address, not a name */
	return alpha || strchr(s, '-') != NULL;
}

/* A small deterministic generator for the shuffle (xorshift32). */
static uint32_t
route_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

struct route_ent {
	uint16_t	pref;
	uint32_t	draw;
	char		host[MTA_HOST_MAX + 1];
};

static int
route_cmp(const void *a, const void *b)
{
	const struct route_ent	*x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	if (x->draw != y->draw)
		return x->draw < y->draw ? -1 : 1;
	return strcmp(x->host, y->host);
}

/* host lower-cased, without its trailing dot, into out; 0 or -1. */
static int
route_host(const char *host, char out[MTA_HOST_MAX + 1])
{
	size_t	n = strnlen(host, MTA_HOST_MAX + 2), i;

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0 || n > MTA_HOST_MAX)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = host[i] >= 'A' && host[i] <= 'Z' ?
		    (char)(host[i] + ('a' - 'A')) : host[i];
	out[n] = '\0';
	return mta_host_ok(out) ? 0 : -1;
}

int
mta_route_build(const char *domain, const struct mta_mx *mx, size_t n,
    uint32_t seed, struct mta_route *out)
{
	struct route_ent	*e;
	uint32_t		 x = seed != 0 ? seed : 0x9e3779b9;
	size_t			 i, j, k = 0;

	memset(out, 0, sizeof(*out));
	if (n == 1 && mx[0].pref == 0 && (strcmp(mx[0].host, ".") == 0 ||
	    mx[0].host[0] == '\0'))
		return MTA_ROUTE_NULL_MX;
	if (n == 0) {
		/* RFC 5321 5.1: no MX, the domain is its own host */
		if (route_host(domain, out->hosts[0]) == -1)
			return MTA_ROUTE_BAD;
		out->nhosts = 1;
		out->implicit = 1;
		return MTA_ROUTE_OK;
	}
	if ((e = calloc(n, sizeof(*e))) == NULL)
		return MTA_ROUTE_BAD;
	for (i = 0; i < n; i++) {
		if (route_host(mx[i].host, e[k].host) == -1)
			continue;
		for (j = 0; j < k; j++)
			if (strcmp(e[j].host, e[k].host) == 0)
				break;
		if (j < k) {
			/* the same host twice: its lowest preference */
			if (mx[i].pref < e[j].pref)
				e[j].pref = mx[i].pref;
			continue;
		}
		e[k].pref = mx[i].pref;
		e[k].draw = route_next(&x);
		k++;
	}
	qsort(e, k, sizeof(*e), route_cmp);
	for (i = 0; i < k && i < MTA_ROUTE_HOSTS_MAX; i++) {
		memcpy(out->hosts[i], e[i].host, sizeof(out->hosts[i]));
		out->prefs[i] = e[i].pref;
	}
	out->nhosts = i;
	free(e);
	return out->nhosts > 0 ? MTA_ROUTE_OK : MTA_ROUTE_BAD;
}
