/* SPDX-License-Identifier: ISC */
/*
 * mta_wkd.c - the mta's Web Key Directory lookup for the pgp service
 * (IMSG_MTA_WKD; draft-koch-openpgp-webkey-service 3.1).  On the event
 * loop: the request's checks, then openpgpkey.DOMAIN's addresses through
 * the mta's libunbound resolver: with an address, the advanced method;
 * no such name or no address, the direct method at DOMAIN; a DNS failure
 * is WKD_TEMP.  Per the draft there is no fall back from the advanced
 * method to the direct one once openpgpkey.DOMAIN exists.  A detached
 * worker thread makes the GET (mta_https.c); its end comes back through
 * a pipe, and the answer goes to the pgp service with the body in a
 * sealed memfd.
 *
 * Process:  mta (ROLE_MTA; the CA bundle is read in mta_wkd_preload, as
 *           root, before the jail: the jail has no file).
 * Trust:    the request's fields are hostile until mta_wkd_request_ok
 *           says otherwise (the pgp service took them from mail); a bad
 *           one drops the session.  DNS answers and HTTPS servers are
 *           hostile (mta_dns.c, mta_https.c).
 * Limits:   MTA_WKD_MAX lookups at once; every one answered within
 *           MTA_WKD_ANSWER_MS; WKD_KEY_MAX body bytes.
 * See also: mta_wkd_url.c, mta_https.c, ipc_types.h (IMSG_MTA_WKD),
 *           docs/design.md "Outbound delivery".
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "sandbox.h"
#include "mta_dns.h"
#include "mta_https.h"
#include "mta_wkd.h"
#include "banned.h"

struct wkd_req {
	TAILQ_ENTRY(wkd_req)	 entry;
	struct service_session	*ss;		/* NULL: pgp went */
	uint32_t		 id;
	int			 answered;
	int			 busy;		/* DNS, the worker */
	int			 fetching;	/* worker started */
	enum wkd_method		 method;
	struct timespec		 t0;
	struct event		*ev_deadline;
	char			 domain[WKD_DOMAIN_MAX + 1];
	char			 hash[WKD_HASH_LEN + 1];
	char			 local[WKD_LOCAL_MAX + 1];
	char			 host[MTA_HOST_MAX + 1];
	char			 url[WKD_URL_MAX + 8];	/* ":PORT" */
	struct sockaddr_storage	 addrs[MTA_ADDRS_MAX];
	struct mta_https_get	 get;
};
TAILQ_HEAD(wkd_req_list, wkd_req);

static struct wkd_req_list	 wkd_reqs =
    TAILQ_HEAD_INITIALIZER(wkd_reqs);
static unsigned int		 wkd_nreqs;
static struct mta_dns		*wkd_dns;
static struct event_base	*wkd_base;
static struct event		*wkd_ev_done;
static int			 wkd_pipe[2] = { -1, -1 };
static uint16_t			 wkd_port = MTA_WKD_DEFAULT_PORT;
static unsigned char		*wkd_ca;	/* read-only, preload */
static size_t			 wkd_calen;

static const char *
wkd_method_name(const struct wkd_req *r)
{
	return r->method == WKD_ADVANCED ? "advanced" : "direct";
}

static long
wkd_ms(const struct wkd_req *r)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - r->t0.tv_sec) * 1000 +
	    (long)(t.tv_nsec - r->t0.tv_nsec) / 1000000;
}

static void
wkd_free(struct wkd_req *r)
{
	TAILQ_REMOVE(&wkd_reqs, r, entry);
	wkd_nreqs--;
	if (r->ev_deadline != NULL)
		event_free(r->ev_deadline);
	free(r->get.body);
	free(r);
}

/*
 * The one answer to r (later calls do nothing): result, what happened
 * and, with WKD_FOUND, the body in a sealed memfd.  One log line, with the
 * domain but never the local part.  r is freed once nothing holds it.
 */
static void
wkd_answer(struct wkd_req *r, int result, const char *what)
{
	static const char *const names[] = { "found", "none", "temp" };
	struct ipc_out	*out;
	int		 fd = -1;

	if (r->answered)
		return;
	r->answered = 1;
	if (result == WKD_FOUND) {
		if ((fd = memfd_sealed_from("wkd", r->get.body,
		    r->get.len)) == -1) {
			log_warn("mta: wkd memfd");
			result = WKD_TEMP;
			what = "mta: out of memory";
		}
	}
	/* r->get is the worker's while it runs (the deadline came first) */
	log_info("mta event=wkd domain=%s method=%s result=%s status=%ld "
	    "ms=%ld bytes=%zu what=\"%s\"", r->domain, r->host[0] != '\0' ?
	    wkd_method_name(r) : "-", names[result], r->busy ? 0 :
	    r->get.status, wkd_ms(r), result == WKD_FOUND ? r->get.len :
	    (size_t)0, what);
	if (r->ss != NULL) {
		out = ipc_out_new(IMSG_MTA_WKD, r->id, fd);
		ipc_add_u32(out, (uint32_t)result);
		ipc_add_str(out, what);
		(void)ipc_chan_send(r->ss->chan, out);
	} else if (fd != -1)
		close(fd);
	if (!r->busy)
		wkd_free(r);
}

/* The pgp side waits 15 s: whatever is still under way, answer now. */
static void
wkd_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct wkd_req	*r = arg;
	char		 what[64];

	(void)fd;
	(void)ev;
	(void)snprintf(what, sizeof(what), "%s%s timeout", wkd_method_name(r),
	    r->fetching ? "" : " dns:");
	wkd_answer(r, WKD_TEMP, what);
}

static void *
wkd_worker(void *arg)
{
	struct wkd_req	*r = arg;
	ssize_t		 n;

	mta_https_run(&r->get);
	do {
		n = write(wkd_pipe[1], &r, sizeof(r));
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(r))
		fatal("mta: wkd done pipe");
	return NULL;
}

/* The worker is done: what the GET's outcome means. */
static void
wkd_fetched(struct wkd_req *r)
{
	char	what[200];
	int	result;

	r->busy = 0;
	if (r->answered) {
		wkd_free(r);
		return;
	}
	/*
	 * A status that decides alone (404, 410, a redirect) decides even
	 * when what followed it failed; else only a complete response
	 * counts.
	 */
	result = mta_wkd_status(r->get.status);
	if (r->get.result != MTA_HTTPS_OK && result != WKD_NONE) {
		(void)snprintf(what, sizeof(what), "%s %s", wkd_method_name(r),
		    r->get.why);
		wkd_answer(r, WKD_TEMP, what);
		return;
	}
	if (result == WKD_FOUND && r->get.len == 0) {
		(void)snprintf(what, sizeof(what), "%s 200 empty",
		    wkd_method_name(r));
		wkd_answer(r, WKD_NONE, what);
		return;
	}
	(void)snprintf(what, sizeof(what), "%s %ld%s", wkd_method_name(r),
	    r->get.status, r->get.status >= 300 && r->get.status <= 399 ?
	    " redirect not followed" : "");
	wkd_answer(r, result, what);
}

static void
wkd_done_read(evutil_socket_t fd, short ev, void *arg)
{
	struct wkd_req	*r;

	(void)ev;
	(void)arg;
	while (read(fd, &r, sizeof(r)) == (ssize_t)sizeof(r))
		wkd_fetched(r);
}

/* The host has addresses: the GET, in a thread of its own. */
static void
wkd_fetch(struct wkd_req *r, const struct sockaddr_storage *addrs,
    size_t naddrs)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	long		 left = MTA_WKD_ANSWER_MS - wkd_ms(r) - 500;
	char		 what[64];

	if (mta_wkd_url(r->domain, r->hash, r->local, r->method, wkd_port,
	    r->url, sizeof(r->url)) == -1) {
		(void)snprintf(what, sizeof(what), "%s: no URL",
		    wkd_method_name(r));
		wkd_answer(r, WKD_TEMP, what);
		return;
	}
	if (left < 1000) {
		(void)snprintf(what, sizeof(what), "%s timeout",
		    wkd_method_name(r));
		wkd_answer(r, WKD_TEMP, what);
		return;
	}
	if (naddrs > MTA_ADDRS_MAX)
		naddrs = MTA_ADDRS_MAX;
	memcpy(r->addrs, addrs, naddrs * sizeof(addrs[0]));
	r->get.url = r->url;
	r->get.host = r->host;
	r->get.port = wkd_port;
	r->get.addrs = r->addrs;
	r->get.naddrs = naddrs;
	r->get.ca = wkd_ca;
	r->get.calen = wkd_calen;
	r->get.connect_ms = MTA_WKD_CONNECT_MS;
	r->get.total_ms = left < MTA_WKD_FETCH_MS ? left : MTA_WKD_FETCH_MS;
	r->get.max = WKD_KEY_MAX;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r->busy = 1;
	r->fetching = 1;
	if (pthread_create(&t, &attr, wkd_worker, r) != 0) {
		r->busy = 0;
		wkd_answer(r, WKD_TEMP, "mta: no thread");
	}
	pthread_attr_destroy(&attr);
}

static void
wkd_direct_cb(void *arg, int status, const char *why,
    const struct sockaddr_storage *addrs, size_t naddrs)
{
	struct wkd_req	*r = arg;
	char		 what[200];

	r->busy = 0;
	if (r->answered) {
		wkd_free(r);
		return;
	}
	switch (status) {
	case MTA_DNS_OK:
		wkd_fetch(r, addrs, naddrs);
		return;
	case MTA_DNS_NXDOMAIN:
	case MTA_DNS_NO_HOST:
		/* no web server at all: nothing published */
		(void)snprintf(what, sizeof(what), "direct dns: %s", why);
		wkd_answer(r, WKD_NONE, what);
		return;
	default:
		(void)snprintf(what, sizeof(what), "direct dns: %s",
		    why != NULL ? why : "failed");
		wkd_answer(r, WKD_TEMP, what);
		return;
	}
}

static void
wkd_direct(struct wkd_req *r)
{
	r->method = WKD_DIRECT;
	strlcpy(r->host, r->domain, sizeof(r->host));
	r->busy = 1;
	if (mta_dns_host(wkd_dns, r->host, wkd_direct_cb, r) == -1) {
		r->busy = 0;
		wkd_answer(r, WKD_TEMP, "direct dns: cannot ask");
	}
}

static void
wkd_advanced_cb(void *arg, int status, const char *why,
    const struct sockaddr_storage *addrs, size_t naddrs)
{
	struct wkd_req	*r = arg;
	char		 what[200];

	r->busy = 0;
	if (r->answered) {
		wkd_free(r);
		return;
	}
	switch (status) {
	case MTA_DNS_OK:
		wkd_fetch(r, addrs, naddrs);
		return;
	case MTA_DNS_NXDOMAIN:
	case MTA_DNS_NO_HOST:
		/* draft 3.1: no openpgpkey host, the direct method */
		wkd_direct(r);
		return;
	default:
		(void)snprintf(what, sizeof(what), "advanced dns: %s",
		    why != NULL ? why : "failed");
		wkd_answer(r, WKD_TEMP, what);
		return;
	}
}

int
mta_wkd_msg(struct service_session *ss, struct ipc_msg *msg)
{
	struct wkd_req	*r;
	const char	*domain, *hash, *local;
	struct timeval	 tv = { MTA_WKD_ANSWER_MS / 1000,
			    (MTA_WKD_ANSWER_MS % 1000) * 1000 };

	/* SECURITY: only the pgp service asks, and sends no fd */
	if (ss->kind != SP_KIND_PGP || msg->fd != -1)
		return -1;
	if (ipc_get_str(msg, &domain, WKD_DOMAIN_MAX) == -1 ||
	    ipc_get_str(msg, &hash, WKD_HASH_LEN) == -1 ||
	    ipc_get_str(msg, &local, WKD_LOCAL_MAX) == -1 ||
	    ipc_end(msg) == -1 || !mta_wkd_request_ok(domain, hash, local))
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->ss = ss;
	r->id = msg->hdr.id;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	strlcpy(r->domain, domain, sizeof(r->domain));
	strlcpy(r->hash, hash, sizeof(r->hash));
	strlcpy(r->local, local, sizeof(r->local));
	TAILQ_INSERT_TAIL(&wkd_reqs, r, entry);
	wkd_nreqs++;
	if (wkd_nreqs > MTA_WKD_MAX) {
		wkd_answer(r, WKD_TEMP, "busy");
		return 0;
	}
	if (wkd_ca == NULL) {
		wkd_answer(r, WKD_TEMP, "no CA bundle");
		return 0;
	}
	if ((r->ev_deadline = evtimer_new(wkd_base, wkd_deadline, r)) ==
	    NULL || evtimer_add(r->ev_deadline, &tv) == -1) {
		wkd_answer(r, WKD_TEMP, "mta: no timer");
		return 0;
	}
	r->method = WKD_ADVANCED;
	/* a domain too long for "openpgpkey." has only the direct method */
	if (mta_wkd_advanced_host(r->domain, r->host, sizeof(r->host)) == -1) {
		wkd_direct(r);
		return 0;
	}
	r->busy = 1;
	if (mta_dns_host(wkd_dns, r->host, wkd_advanced_cb, r) == -1) {
		r->busy = 0;
		wkd_answer(r, WKD_TEMP, "advanced dns: cannot ask");
	}
	return 0;
}

void
mta_wkd_session_gone(struct service_session *ss)
{
	struct wkd_req	*r;

	TAILQ_FOREACH(r, &wkd_reqs, entry)
		if (r->ss == ss)
			r->ss = NULL;
}

/* The bundle, whole, into memory; -1 with errno. */
static int
wkd_ca_read(const char *path)
{
	struct stat	 st;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (unsigned long long)st.st_size > MTA_WKD_CA_MAX) {
		errno = EFBIG;
		goto fail;
	}
	wkd_calen = (size_t)st.st_size;
	wkd_ca = xmalloc(wkd_calen);
	/* shorter than it said: EIO */
	if (memfd_read(fd, wkd_ca, wkd_calen) == -1)
		goto fail;
	close(fd);
	return 0;
fail:
	saved = errno;
	free(wkd_ca);
	wkd_ca = NULL;
	wkd_calen = 0;
	close(fd);
	errno = saved;
	return -1;
}

void
mta_wkd_preload(uint16_t port, const char *ca_path, int ca_required)
{
	if (mta_https_init() == -1)
		fatalx("mta: libcurl cannot fetch over https");
	wkd_port = port;
	sandbox_allow_connect(port);
	if (ca_path != NULL && wkd_ca_read(ca_path) == -1) {
		if (ca_required)
			fatal("mta: https-ca-file %s", ca_path);
		log_warn("mta: https-ca-file %s (Web Key Directory lookups "
		    "will fail for now)", ca_path);
	}
	if (pipe2(wkd_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("mta: pipe2");
}

const void *
mta_wkd_ca(size_t *len_r)
{
	*len_r = wkd_calen;
	return wkd_ca;
}

void
mta_wkd_init(struct event_base *base, struct mta_dns *dns)
{
	wkd_base = base;
	wkd_dns = dns;
	wkd_ev_done = event_new(base, wkd_pipe[0], EV_READ | EV_PERSIST,
	    wkd_done_read, NULL);
	if (wkd_ev_done == NULL || event_add(wkd_ev_done, NULL) == -1)
		fatalx("mta: wkd events");
}
