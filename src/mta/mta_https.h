/* SPDX-License-Identifier: ISC */
/*
 * mta_https.h - one HTTPS GET to addresses the mta resolved itself,
 * through libcurl (mta_https.c, the only file that includes curl.h).
 * Users: the Web Key Directory lookup (mta_wkd.c), MTA-STS policies
 * (mta.c, issue 15).
 */
#ifndef SP_MTA_HTTPS_H
#define SP_MTA_HTTPS_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "mta_dns.h"

/* how a GET ended, before any HTTP status is looked at */
#define MTA_HTTPS_OK		0	/* complete: see status */
#define MTA_HTTPS_TOO_BIG	1	/* the body passed max */
#define MTA_HTTPS_TLS		2	/* handshake, certificate, name */
#define MTA_HTTPS_TIMEOUT	3	/* connect_ms or total_ms passed */
#define MTA_HTTPS_CONNECT	4	/* no address took the connection */
#define MTA_HTTPS_ERROR		5	/* other (why says what) */

struct mta_https_get {
	/* in: the caller's, untouched while it runs */
	const char	*url;		/* https://HOST[:PORT]/P?Q */
	const char	*host;		/* HOST, as in the URL */
	uint16_t	 port;		/* PORT, or 443 */
	/* HOST's addresses, 1..MTA_ADDRS_MAX: the only ones tried */
	const struct sockaddr_storage *addrs;
	size_t		 naddrs;
	const void	*ca;		/* PEM bundle */
	size_t		 calen;
	long		 connect_ms;	/* TCP and TLS handshakes */
	long		 total_ms;	/* the whole GET */
	size_t		 max;		/* body bytes kept at most */
	/* out */
	int		 result;	/* MTA_HTTPS_* */
	long		 status;	/* HTTP status, 0: none came */
	unsigned char	*body;		/* 200 only; caller frees */
	size_t		 len;
	long		 ms;		/* how long it took */
	char		 why[160];	/* printable ASCII, for logs */
	char		 ctype[64];	/* Content-Type, printable, lower
					 * case, cut ("": none) */
};

/*
 * libcurl's global state (OpenSSL's, its configuration file): once, as
 * root, before the jail and before any thread.  -1 when libcurl lacks
 * https.
 */
int	mta_https_init(void);

/*
 * Make the GET g describes; blocking, for a worker thread (thread-safe:
 * a handle of its own each time).  Fills g's out fields; never fails
 * otherwise.
 * SECURITY: HOST's addresses are the caller's (CURLOPT_RESOLVE; curl's
 * resolver is never used, and a name not given is refused); https only,
 * no redirect followed, no proxy whatever the environment says, the
 * peer's certificate checked against ca and HOST; no content decoding;
 * the response is hostile and only its status and at most max body
 * bytes are kept.
 */
void	mta_https_run(struct mta_https_get *g);

#endif
