/* SPDX-License-Identifier: ISC */
/*
 * mta_wkd_url.c - the pure half of the mta's Web Key Directory lookup
 * (mta_wkd.h): the request's checks, the URL with the configured port,
 * what an HTTP status means.  No I/O: unit-tested (test_mta_wkd.c).
 *
 * Process:  mta, and the tests.
 * Trust:    the request's fields come from the pgp service, which took
 *           them from mail: checked here before any of them is used.
 * Limits:   WKD_DOMAIN_MAX, WKD_LOCAL_MAX, WKD_URL_MAX (wkd.h).
 * See also: src/pgp/wkd.c (the URL's layout, shared with the pgp side).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ipc_types.h"
#include "mta_route.h"
#include "mta_wkd.h"
#include "banned.h"

/* RFC 6189 5.1.6's alphabet, as wkd.c writes it */
static const char zbase32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

int
mta_wkd_request_ok(const char *domain, const char *hash, const char *local)
{
	size_t	i, n;

	n = strnlen(domain, WKD_DOMAIN_MAX + 1);
	if (n == 0 || n > WKD_DOMAIN_MAX || !mta_host_ok(domain))
		return 0;
	for (i = 0; i < n; i++)
		if (domain[i] >= 'A' && domain[i] <= 'Z')
			return 0;	/* the contract: lower case */
	if (strnlen(hash, WKD_HASH_LEN + 1) != WKD_HASH_LEN)
		return 0;
	for (i = 0; i < WKD_HASH_LEN; i++)
		if (strchr(zbase32, hash[i]) == NULL)
			return 0;
	n = strnlen(local, WKD_LOCAL_MAX + 1);
	if (n == 0 || n > WKD_LOCAL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)local[i] < 0x20 ||
		    (unsigned char)local[i] == 0x7f)
			return 0;
	return 1;
}

int
mta_wkd_advanced_host(const char *domain, char *buf, size_t len)
{
	int	n;

	n = snprintf(buf, len, WKD_OPENPGPKEY ".%s", domain);
	if (n < 0 || (size_t)n >= len || !mta_host_ok(buf)) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

int
mta_wkd_url(const char *domain, const char *hash, const char *local,
    enum wkd_method method, uint16_t port, char *buf, size_t len)
{
	struct wkd_addr	a;
	char		url[WKD_URL_MAX];
	size_t		hostend;
	int		n;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	memset(&a, 0, sizeof(a));
	if (strlcpy(a.domain, domain, sizeof(a.domain)) >= sizeof(a.domain) ||
	    strlcpy(a.hash, hash, sizeof(a.hash)) >= sizeof(a.hash) ||
	    strlcpy(a.local, local, sizeof(a.local)) >= sizeof(a.local))
		return -1;
	if (wkd_url(&a, method, url, sizeof(url)) == -1)
		return -1;
	if (port == MTA_WKD_DEFAULT_PORT) {
		if (strlcpy(buf, url, len) >= len) {
			buf[0] = '\0';
			return -1;
		}
		return 0;
	}
	/* "https://HOST" then ":PORT", then the path as wkd_url made it */
	hostend = strlen("https://") + strlen(domain) +
	    (method == WKD_ADVANCED ? strlen(WKD_OPENPGPKEY ".") : 0);
	if (hostend >= strlen(url) || url[hostend] != '/')
		return -1;
	n = snprintf(buf, len, "%.*s:%u%s", (int)hostend, url,
	    (unsigned int)port, url + hostend);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

int
mta_wkd_status(long status)
{
	if (status == 200)
		return WKD_FOUND;
	if (status == 404 || status == 410)
		return WKD_NONE;
	/*
	 * A redirect is not followed (no host we did not resolve, no
	 * scheme but https).  It is the site's lasting answer, not a
	 * failure of the moment (a domain whose web server sends every
	 * path to www. has no direct-method WKD): no key, as with a 404.
	 */
	if (status >= 300 && status <= 399)
		return WKD_NONE;
	return WKD_TEMP;
}
