/* SPDX-License-Identifier: ISC */
/*
 * mta_sts.c - MTA-STS (RFC 8461) record and policy parsers, and the
 * policy cache (mta_sts.h).
 *
 * Process:  mta (the event loop parses TXT records; worker threads
 *           parse fetched policies and use the cache), the unit tests
 *           and fuzz_mta_sts.
 * Trust:    the TXT record comes from DNS and the policy from a remote
 *           web server: both hostile.  Every length is checked before
 *           use; names are checked as host names (mta_host_ok).
 * Limits:   MTA_STS_POLICY_MAX bytes of policy, MTA_STS_MX_MAX patterns,
 *           MTA_STS_CACHE_MAX cached domains.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mta_sts.h"
#include "banned.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

int
mta_sts_txt_parse(const char *txt, size_t len, char *id)
{
	size_t	i = 0, ks, ke, vs, ve, n;
	int	first = 1, have_id = 0;

	id[0] = '\0';
	/* RFC 8461 3.1: sts-text-record = sts-version 1*(sts-sep sts-field) */
	if (len < 7 || memcmp(txt, "v=STSv1", 7) != 0 ||
	    (len > 7 && txt[7] != ';' && !blank(txt[7])))
		return 0;
	while (i < len) {
		while (i < len && (blank(txt[i]) || txt[i] == ';'))
			i++;
		if (i == len)
			break;
		ks = i;
		while (i < len && txt[i] != '=' && txt[i] != ';')
			i++;
		if (i == len || txt[i] != '=')
			return -1;
		ke = i++;
		vs = i;
		while (i < len && txt[i] != ';' && !blank(txt[i]))
			i++;
		ve = i;
		if (first) {
			first = 0;	/* v=STSv1, checked above */
			continue;
		}
		if (ke - ks == 2 && memcmp(txt + ks, "id", 2) == 0) {
			n = ve - vs;
			if (have_id || n == 0 || n > MTA_STS_ID_MAX)
				return -1;
			for (; vs < ve; vs++)
				if (!alnum(txt[vs]))
					return -1;
			memcpy(id, txt + ve - n, n);
			id[n] = '\0';
			have_id = 1;
		}
		/* other fields are ignored (3.1: extensions) */
		while (i < len && blank(txt[i]))
			i++;
		if (i < len && txt[i] != ';')
			return -1;
	}
	return have_id ? 1 : -1;
}

/* A pattern: "*." and a host name, or a host name; lower-cased. */
static int
mx_pattern(const char *v, size_t n, char *out, size_t outlen)
{
	size_t	i;

	if (n == 0 || n >= outlen)
		return -1;
	for (i = 0; i < n; i++) {
		char	c = v[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[i] = c;
	}
	out[n] = '\0';
	if (out[n - 1] == '.')		/* a trailing dot */
		out[--n] = '\0';
	if (n > 2 && out[0] == '*' && out[1] == '.')
		return mta_host_ok(out + 2) ? 0 : -1;
	return mta_host_ok(out) ? 0 : -1;
}

int
mta_sts_policy_parse(const char *text, size_t len, struct mta_sts_policy *p,
    const char **why)
{
	const char	*line, *end = text + len, *nl, *colon, *v, *ve, *errstr;
	size_t		 ll;
	int		 have_version = 0, have_mode = 0, have_age = 0;
	char		 num[16];

	memset(p, 0, sizeof(*p));
	*why = "malformed";
	if (len > MTA_STS_POLICY_MAX) {
		*why = "too big";
		return -1;
	}
	for (line = text; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		ll = (size_t)(nl - line);
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			continue;
		if ((colon = memchr(line, ':', ll)) == NULL) {
			*why = "a line without a colon";
			return -1;
		}
		for (v = colon + 1; v < line + ll && blank(*v); v++)
			;
		for (ve = line + ll; ve > v && blank(ve[-1]); ve--)
			;
#define KEY(k) ((size_t)(colon - line) == sizeof(k) - 1 && \
	memcmp(line, k, sizeof(k) - 1) == 0)
#define VAL(s) ((size_t)(ve - v) == sizeof(s) - 1 && \
	memcmp(v, s, sizeof(s) - 1) == 0)
		if (KEY("version")) {
			if (have_version++ || !VAL("STSv1")) {
				*why = "version is not STSv1";
				return -1;
			}
		} else if (KEY("mode")) {
			if (have_mode++) {
				*why = "mode given twice";
				return -1;
			}
			if (VAL("enforce"))
				p->mode = MTA_STS_ENFORCE;
			else if (VAL("testing"))
				p->mode = MTA_STS_TESTING;
			else if (VAL("none"))
				p->mode = MTA_STS_NONE;
			else {
				*why = "unknown mode";
				return -1;
			}
		} else if (KEY("max_age")) {
			if (have_age++ || ve - v == 0 ||
			    (size_t)(ve - v) >= sizeof(num)) {
				*why = "bad max_age";
				return -1;
			}
			memcpy(num, v, (size_t)(ve - v));
			num[ve - v] = '\0';
			p->max_age = (uint32_t)strtonum(num, 0, MTA_STS_MAX_AGE,
			    &errstr);
			if (errstr != NULL || num[0] == '+' || num[0] == '-') {
				*why = "bad max_age";
				return -1;
			}
		} else if (KEY("mx")) {
			if (p->nmx == MTA_STS_MX_MAX)
				continue;	/* more than we keep */
			if (mx_pattern(v, (size_t)(ve - v), p->mx[p->nmx],
			    sizeof(p->mx[0])) == -1) {
				*why = "a bad mx pattern";
				return -1;
			}
			p->nmx++;
		}
#undef KEY
#undef VAL
		if (nl == end)
			break;
	}
	if (!have_version || !have_mode || !have_age) {
		*why = "version, mode or max_age missing";
		return -1;
	}
	if (p->mode != MTA_STS_NONE && p->nmx == 0) {
		*why = "no mx";
		return -1;
	}
	*why = NULL;
	return 0;
}

struct sts_cached {
	char			 domain[MTA_HOST_MAX + 1];
	char			 id[MTA_STS_ID_MAX + 1];
	long			 expires;
	struct mta_sts_policy	 p;
};

static pthread_mutex_t	 cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sts_cached cache[MTA_STS_CACHE_MAX];

int
mta_sts_cache_get(const char *domain, long now, struct mta_sts_policy *p,
    char *id)
{
	size_t	i;
	int	found = 0;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < MTA_STS_CACHE_MAX; i++)
		if (cache[i].domain[0] != '\0' &&
		    strcmp(cache[i].domain, domain) == 0) {
			if (cache[i].expires > now) {
				*p = cache[i].p;
				memcpy(id, cache[i].id, sizeof(cache[i].id));
				found = 1;
			}
			break;
		}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

void
mta_sts_cache_put(const char *domain, long now, const char *id,
    const struct mta_sts_policy *p)
{
	size_t	i, slot = 0;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < MTA_STS_CACHE_MAX; i++) {
		if (strcmp(cache[i].domain, domain) == 0) {
			slot = i;
			break;
		}
		if (cache[i].expires < cache[slot].expires)
			slot = i;
	}
	strlcpy(cache[slot].domain, domain, sizeof(cache[slot].domain));
	strlcpy(cache[slot].id, id, sizeof(cache[slot].id));
	cache[slot].expires = now + (long)p->max_age;
	cache[slot].p = *p;
	pthread_mutex_unlock(&cache_lock);
}
