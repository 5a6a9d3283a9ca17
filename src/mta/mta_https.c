/* SPDX-License-Identifier: ISC */
/*
 * mta_https.c - one HTTPS GET through libcurl to addresses we resolved
 * (mta_https.h).  The only file of the mta that includes curl.h; libcurl's
 * errors become MTA_HTTPS_* and words here.
 *
 * Process:  mta (worker threads; mta_https_init before the jail).
 * Trust:    the server is hostile: its certificate is checked against the
 *           configured bundle, its status read, at most max body bytes
 *           kept and nothing else of the response used.  curl never
 *           resolves a name (libunbound did, on the event loop) and never
 *           follows a redirect, uses a proxy or reads a file.
 * Limits:   connect_ms, total_ms and max, from the caller.
 * See also: mta_wkd.c (the user), docs/design.md "Outbound delivery".
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "mta_https.h"
#include "banned.h"

/* The first growth of the body buffer; it doubles up to max. */
#define HTTPS_BODY_INIT		(16 * 1024)
/* "HOST:PORT:ADDR,ADDR,...": every address bracketed for IPv6 */
#define HTTPS_RESOLVE_MAX	(MTA_HOST_MAX + 8 + \
				    MTA_ADDRS_MAX * (INET6_ADDRSTRLEN + 3))

struct https_body {
	struct mta_https_get	*g;
	CURL			*curl;
	size_t			 cap;
	int			 toolarge;
	int			 nomem;
	int			 notwanted;	/* status not 200 */
};

int
mta_https_init(void)
{
	const curl_version_info_data	*vi;
	const char *const		*p;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	if ((vi = curl_version_info(CURLVERSION_NOW)) == NULL ||
	    vi->protocols == NULL || !(vi->features & CURL_VERSION_SSL))
		return -1;
	for (p = vi->protocols; *p != NULL; p++)
		if (strcmp(*p, "https") == 0)
			return 0;
	return -1;
}

/* Our words, printable ASCII only (curl's may quote the server). */
static void
https_why(struct mta_https_get *g, const char *what, const char *detail)
{
	size_t	i;

	(void)snprintf(g->why, sizeof(g->why), "%s%s%s", what,
	    detail != NULL && detail[0] != '\0' ? ": " : "",
	    detail != NULL ? detail : "");
	for (i = 0; g->why[i] != '\0'; i++)
		if ((unsigned char)g->why[i] < 0x20 ||
		    (unsigned char)g->why[i] > 0x7e)
			g->why[i] = '?';
}

/* The body: kept with a 200 only, never past max (then the GET ends). */
static size_t
https_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct https_body	*b = arg;
	struct mta_https_get	*g = b->g;
	unsigned char		*nb;
	size_t			 n, cap;
	long			 status = 0;

	if (size != 0 && nmemb > SIZE_MAX / size) {
		b->toolarge = 1;
		return 0;
	}
	n = size * nmemb;
	(void)curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		/* the status says it all: no need for the rest */
		b->notwanted = 1;
		return 0;		/* CURLE_WRITE_ERROR */
	}
	if (n > g->max - g->len) {
		b->toolarge = 1;
		return 0;
	}
	if (n > b->cap - g->len) {
		cap = b->cap == 0 ? HTTPS_BODY_INIT : b->cap;
		while (cap - g->len < n)
			cap = cap > g->max / 2 ? g->max : cap * 2;
		if ((nb = realloc(g->body, cap)) == NULL) {
			b->nomem = 1;
			return 0;
		}
		g->body = nb;
		b->cap = cap;
	}
	memcpy(g->body + g->len, ptr, n);
	g->len += n;
	return n;
}

/*
 * SECURITY: called before curl would resolve a name itself: never, as
 * every name it needs is in CURLOPT_RESOLVE.  Non-zero refuses.
 */
static int
https_resolver_start_cb(void *resolver_state, void *reserved, void *arg)
{
	(void)resolver_state;
	(void)reserved;
	(void)arg;
	return 1;
}

/* "HOST:PORT:ADDR,ADDR" for CURLOPT_RESOLVE; -1 when it does not fit. */
static int
https_resolve_entry(const struct mta_https_get *g, char *buf, size_t len)
{
	char	addr[INET6_ADDRSTRLEN];
	size_t	i, off;
	int	n;

	n = snprintf(buf, len, "%s:%u:", g->host, (unsigned int)g->port);
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (i = 0; i < g->naddrs; i++) {
		const struct sockaddr_storage *ss = &g->addrs[i];
		const void *a;

		if (ss->ss_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)ss)->
			    sin6_addr;
		else if (ss->ss_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)ss)->
			    sin_addr;
		else
			return -1;
		if (inet_ntop(ss->ss_family, a, addr, sizeof(addr)) == NULL)
			return -1;
		n = snprintf(buf + off, len - off, ss->ss_family == AF_INET6 ?
		    "%s[%s]" : "%s%s", i > 0 ? "," : "", addr);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static long
https_ms_since(const struct timespec *t0)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (long)(t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Why curl_easy_perform failed, as MTA_HTTPS_* and words. */
static void
https_error(struct mta_https_get *g, const struct https_body *b, CURL *curl,
    CURLcode rc, const char *errbuf)
{
	curl_off_t	appconnect = 0;
	long		oserr = 0;
	char		ebuf[96];

	if (b->toolarge || rc == CURLE_FILESIZE_EXCEEDED) {
		g->result = MTA_HTTPS_TOO_BIG;
		(void)snprintf(ebuf, sizeof(ebuf), "more than %zu bytes",
		    g->max);
		https_why(g, "too big", ebuf);
		return;
	}
	if (b->nomem) {
		g->result = MTA_HTTPS_ERROR;
		https_why(g, "out of memory", NULL);
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		/* connect_ms covers the TCP and the TLS handshakes */
		g->result = MTA_HTTPS_TIMEOUT;
		(void)curl_easy_getinfo(curl, CURLINFO_APPCONNECT_TIME_T,
		    &appconnect);
		if (appconnect == 0)
			(void)snprintf(ebuf, sizeof(ebuf), "no TLS connection "
			    "within %ld ms", g->connect_ms);
		else
			(void)snprintf(ebuf, sizeof(ebuf), "no answer within "
			    "%ld ms", g->total_ms);
		https_why(g, "timeout", ebuf);
		return;
	case CURLE_COULDNT_CONNECT:
		g->result = MTA_HTTPS_CONNECT;
		(void)curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &oserr);
		https_why(g, "connect", oserr != 0 ?
		    strerror_r((int)oserr, ebuf, sizeof(ebuf)) : errbuf);
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		g->result = MTA_HTTPS_TLS;
		https_why(g, "tls", errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(rc));
		return;
	default:
		g->result = MTA_HTTPS_ERROR;
		https_why(g, curl_easy_strerror(rc), errbuf);
		return;
	}
}

void
mta_https_run(struct mta_https_get *g)
{
	struct https_body	 b;
	struct curl_blob	 ca;
	struct curl_slist	*resolve = NULL;
	struct timespec		 t0;
	char			 entry[HTTPS_RESOLVE_MAX];
	char			 errbuf[CURL_ERROR_SIZE];
	CURL			*curl;
	CURLcode		 rc = CURLE_OK;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	g->result = MTA_HTTPS_ERROR;
	g->status = 0;
	g->body = NULL;
	g->len = 0;
	g->ms = 0;
	g->why[0] = '\0';
	g->ctype[0] = '\0';
	errbuf[0] = '\0';
	memset(&b, 0, sizeof(b));
	b.g = g;
	if (g->naddrs == 0 || g->ca == NULL ||
	    https_resolve_entry(g, entry, sizeof(entry)) == -1) {
		https_why(g, "no address or no CA bundle", NULL);
		return;
	}
	if ((curl = curl_easy_init()) == NULL ||
	    (resolve = curl_slist_append(NULL, entry)) == NULL) {
		https_why(g, "out of memory", NULL);
		if (curl != NULL)
			curl_easy_cleanup(curl);
		return;
	}
	b.curl = curl;
	ca.data = (void *)(uintptr_t)g->ca;
	ca.len = g->calen;
	ca.flags = CURL_BLOB_NOCOPY;	/* read-only, outlives the handle */
#define HTTPS_SET(opt, val) \
	do { if (rc == CURLE_OK) rc = curl_easy_setopt(curl, opt, val); } \
	while (0)
	HTTPS_SET(CURLOPT_URL, g->url);
	/* SECURITY: https only, and no redirect (design.md: WKD) */
	HTTPS_SET(CURLOPT_PROTOCOLS_STR, "https");
	HTTPS_SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	HTTPS_SET(CURLOPT_FOLLOWLOCATION, 0L);
	HTTPS_SET(CURLOPT_MAXREDIRS, 0L);
	/* SECURITY: no proxy, whatever http_proxy and friends say */
	HTTPS_SET(CURLOPT_PROXY, "");
	HTTPS_SET(CURLOPT_NOPROXY, "*");
	/* SECURITY: our addresses; curl's own resolver is refused */
	HTTPS_SET(CURLOPT_RESOLVE, resolve);
	HTTPS_SET(CURLOPT_RESOLVER_START_FUNCTION, https_resolver_start_cb);
	/* SECURITY: the peer's certificate and name, against our bundle
	 * only (held in memory: the jail has no file to read) */
	HTTPS_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	HTTPS_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	HTTPS_SET(CURLOPT_CAINFO, NULL);
	HTTPS_SET(CURLOPT_CAPATH, NULL);
	HTTPS_SET(CURLOPT_CAINFO_BLOB, &ca);
	HTTPS_SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* plain HTTP/1.1 and the body as sent: no decoding (no bombs) */
	HTTPS_SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	HTTPS_SET(CURLOPT_NOSIGNAL, 1L);	/* threads: no SIGALRM */
	HTTPS_SET(CURLOPT_CONNECTTIMEOUT_MS, g->connect_ms);
	HTTPS_SET(CURLOPT_TIMEOUT_MS, g->total_ms);
	HTTPS_SET(CURLOPT_FORBID_REUSE, 1L);
	HTTPS_SET(CURLOPT_MAXCONNECTS, 1L);
	HTTPS_SET(CURLOPT_USERAGENT, "sealpost");
	/* refused at once when the server announces more than max */
	HTTPS_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)g->max);
	HTTPS_SET(CURLOPT_WRITEFUNCTION, https_write_cb);
	HTTPS_SET(CURLOPT_WRITEDATA, &b);
	HTTPS_SET(CURLOPT_ERRORBUFFER, errbuf);
#undef HTTPS_SET
	if (rc != CURLE_OK) {
		https_why(g, "curl_easy_setopt", curl_easy_strerror(rc));
		goto done;
	}
	rc = curl_easy_perform(curl);
	g->ms = https_ms_since(&t0);
	(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &g->status);
	{
		char	*ct = NULL;
		size_t	 i;

		g->ctype[0] = '\0';
		if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct) ==
		    CURLE_OK && ct != NULL) {
			/* the server's text: printable, lower case, cut */
			for (i = 0; ct[i] != '\0' && i + 1 < sizeof(g->ctype);
			    i++)
				g->ctype[i] = ct[i] >= 'A' && ct[i] <= 'Z' ?
				    (char)(ct[i] - 'A' + 'a') : ct[i] < 0x20 ||
				    ct[i] > 0x7e ? '?' : ct[i];
			g->ctype[i] = '\0';
		}
	}
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && b.notwanted)) {
		/* complete, or a status that needs no body */
		g->result = MTA_HTTPS_OK;
	} else
		https_error(g, &b, curl, rc, errbuf);
	if (g->result != MTA_HTTPS_OK || g->status != 200) {
		free(g->body);
		g->body = NULL;
		g->len = 0;
	}
done:
	g->ms = https_ms_since(&t0);
	curl_easy_cleanup(curl);
	curl_slist_free_all(resolve);
}
