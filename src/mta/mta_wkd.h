/* SPDX-License-Identifier: ISC */
/*
 * mta_wkd.h - Web Key Directory lookups for the pgp service
 * (draft-koch-openpgp-webkey-service section 3.1; IMSG_MTA_WKD in
 * ipc_types.h): which method, which URL, what a response means
 * (mta_wkd_url.c, no I/O), and the lookup itself on the mta's event loop
 * and a worker thread (mta_wkd.c).
 */
#ifndef SP_MTA_WKD_H
#define SP_MTA_WKD_H

#include <stddef.h>
#include <stdint.h>

#include "wkd.h"
#include "service.h"
#include "mta_route.h"

struct mta_dns;

/* WKD fetches (DNS and HTTPS) under way at once; past it: WKD_TEMP busy */
#define MTA_WKD_MAX		8
/* the GET's limits; the whole lookup is answered within MTA_WKD_ANSWER_MS,
 * under the pgp service's wait (15 s) */
#define MTA_WKD_CONNECT_MS	5000
#define MTA_WKD_FETCH_MS	10000
#define MTA_WKD_ANSWER_MS	12000
/* the largest CA bundle read (Debian's is about 220 KiB) */
#define MTA_WKD_CA_MAX		((size_t)4 << 20)
#define MTA_WKD_DEFAULT_PORT	443

/* mta_wkd_url.c */
/*
 * Are the request's fields what the contract allows?  domain: a host
 * name (mta_host_ok), lower case, at most WKD_DOMAIN_MAX bytes; hash:
 * exactly WKD_HASH_LEN z-base-32 characters; local: 1..WKD_LOCAL_MAX
 * bytes, no control byte (C0 or DEL).  SECURITY: all three come from the
 * pgp service, which read them from mail: hostile until this says yes.
 */
int	mta_wkd_request_ok(const char *domain, const char *hash,
	    const char *local);
/*
 * The URL of the lookup by method, with ":port" after the host unless
 * port is 443 (wkd.c's wkd_url: the local part percent-encoded in l=).
 * Inputs must have passed mta_wkd_request_ok.  0, or -1 when it does not
 * fit in len or the advanced host name would be too long (buf "").
 */
int	mta_wkd_url(const char *domain, const char *hash, const char *local,
	    enum wkd_method method, uint16_t port, char *buf, size_t len);
/* "openpgpkey.DOMAIN" into buf; -1 when not a valid host name. */
int	mta_wkd_advanced_host(const char *domain, char *buf, size_t len);
/*
 * What an HTTP status means: 200 WKD_FOUND; 404 and 410 WKD_NONE; a
 * redirect (3xx) WKD_NONE too, as no redirect is followed (design.md);
 * anything else (none at all, 4xx, 5xx) WKD_TEMP.
 */
int	mta_wkd_status(long status);

/* mta_wkd.c */
/*
 * Before the jail, as root: libcurl (fatal without https), the port and
 * the CA bundle at ca_path (NULL: none).  A bundle that cannot be read is
 * fatal when ca_required (the administrator named it), else every lookup
 * answers WKD_TEMP "no CA bundle".
 */
void	mta_wkd_preload(uint16_t port, const char *ca_path,
	    int ca_required);
/* After the sandbox: the done pipe's event, the resolver to use. */
void	mta_wkd_init(struct event_base *, struct mta_dns *);
/* The CA bundle mta_wkd_preload read (read-only; NULL, 0: none), which
 * the SMTP client's certificate checks use too (issue 15). */
const void *mta_wkd_ca(size_t *len_r);
/*
 * IMSG_MTA_WKD from a session (ss->kind must be SP_KIND_PGP).  0 taken
 * (the answer comes later, or at once), -1 malformed: the caller drops
 * the session.
 */
int	mta_wkd_msg(struct service_session *ss, struct ipc_msg *msg);
/* ss is going away: its lookups finish unanswered. */
void	mta_wkd_session_gone(struct service_session *ss);

#endif
