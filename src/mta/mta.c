/* SPDX-License-Identifier: ISC */
/*
 * mta.c - the mta service: the outbound SMTP client.  The queue asks it
 * to send one message to the recipients of one domain (IMSG_MTA_SEND);
 * it looks up where the domain's mail goes (mta_dns.c, asynchronous, on
 * the event loop), then a worker thread makes the attempt (mta_send.c)
 * and the answer goes back with an outcome per recipient.  It keeps no
 * state of its own beyond idle connections: retrying, bouncing and
 * durability are the queue's.  The pgp service asks it for Web Key
 * Directory lookups (IMSG_MTA_WKD, mta_wkd.c): it is the one role that
 * reaches other hosts.
 *
 * Process:  mta (user _sp_mta, the empty jail, sandbox profile ROLE_MTA):
 *           the one role that reaches other hosts (DNS, SMTP).  It never
 *           sees a key: the queue hands it each message in the clear, as
 *           a sealed memfd, for the time of the attempt.
 * Trust:    the queue and the pgp service are its peers (channels the
 *           master made, seen as sessions of kind SP_KIND_QUEUE and
 *           SP_KIND_PGP); what they send is checked anyway.  Remote
 *           servers and DNS answers are hostile (mta_send.c, mta_dns.c,
 *           mta_reply.c, mta_https.c).
 * Limits:   MTA_WORKERS_MAX attempts at once; MTA_MSG_MAX bytes.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <time.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "service.h"
#include "tls.h"
#include "mta_7bit.h"
#include "mta_send.h"
#include "mta_wkd.h"
#include "mta_smarthost.h"
#include "mta_sts.h"
#include "mta_https.h"
#include "banned.h"

#define MTA_WORKERS_MAX		64
#define MTA_MSG_MAX		((size_t)1 << 31)
#define MTA_ADDR_MAX		254
#define MTA_ORCPT_MAX		500
#define MTA_IDLE_MS		5000	/* an idle connection is kept */
#define MTA_DEFAULT_TIMEOUT	300	/* seconds, RFC 5321 4.5.3.2 */

struct req {
	TAILQ_ENTRY(req)	 entry;
	struct service_session	*ss;		/* NULL: the queue went away */
	uint32_t		 id;
	int			 msgfd;
	void			*map;
	size_t			 maplen;
	char			 from[MTA_ADDR_MAX + 1];
	char			 envid[MTA_ORCPT_MAX];	/* xtext */
	char			*rcpts[MTA_CLIENT_RCPTS_MAX];
	char			*orcpts[MTA_CLIENT_RCPTS_MAX];	/* xtext */
	unsigned int		 notify[MTA_CLIENT_RCPTS_MAX];
	/* MTA-STS (issue 15): the TXT record's id, a cached policy, and
	 * the policy host's addresses when a fetch is due */
	char			 sts_id[MTA_STS_ID_MAX + 1];
	int			 sts_have;	/* sts_pol holds one */
	struct mta_sts_policy	 sts_pol;
	int			 sts_fetch;
	size_t			 sts_naddrs;
	struct sockaddr_storage	 sts_addrs[MTA_ADDRS_MAX];
	char			 sts_how[64];	/* for the log */
	int			 dane_pending;	/* TLSA queries out */
	struct mta_job		 job;
};

/* one TLSA query: which request, which MX host */
struct dane_q {
	struct req	*r;
	size_t		 host;
};
TAILQ_HEAD(req_list, req);

static struct req_list	 reqs = TAILQ_HEAD_INITIALIZER(reqs);
static unsigned int	 nworkers;
static struct mta_dns	*dns;
static struct ssl_ctx_st *tls_ctx;
static char		 helo[256] = "localhost";
static uint16_t		 port = 25;
static int		 timeout_ms = MTA_DEFAULT_TIMEOUT * 1000;
static int		 done_pipe[2] = { -1, -1 };
static struct event	*ev_done, *ev_dns, *ev_idle;
static uint16_t		 sts_port = 443;	/* https-port */
static int		 dane_on;	/* a trust anchor is configured */

static void
req_free(struct req *r)
{
	size_t	i;

	TAILQ_REMOVE(&reqs, r, entry);
	for (i = 0; i < r->job.m.nrcpts; i++) {
		free(r->rcpts[i]);
		free(r->orcpts[i]);
	}
	buf_free(&r->job.conv);
	if (r->map != NULL && r->map != MAP_FAILED)
		munmap(r->map, r->maplen);
	if (r->msgfd != -1)
		close(r->msgfd);
	free(r);
}

/* The answer: who answered, then each recipient's state and reply. */
static void
req_answer(struct req *r)
{
	struct ipc_out	*out;
	size_t		 i, ok = 0, temp = 0, perm = 0;

	for (i = 0; i < r->job.m.nrcpts; i++) {
		switch (r->job.r[i].state) {
		case MTA_RCPT_OK:	ok++; break;
		case MTA_RCPT_PERM:	perm++; break;
		default:		r->job.r[i].state = MTA_RCPT_TEMP;
					temp++; break;
		}
	}
	/* ids, counts and hosts; addresses stay out of the log */
	log_info("mta event=attempt id=%s domain=%s remote=%s connects=%u "
	    "reused=%u tls=%d checked=%s sent=%zu deferred=%zu failed=%zu",
	    r->job.qid, r->job.domain,
	    r->job.remote[0] != '\0' ? r->job.remote : "-",
	    r->job.connects, r->job.reused, r->job.tls_used,
	    r->job.tls_how[0] != '\0' ? r->job.tls_how : "-", ok, temp, perm);
	if (r->sts_how[0] != '\0' && strcmp(r->sts_how, "none") != 0)
		log_info("mta event=mta-sts id=%s domain=%s policy=\"%s\" "
		    "mode=%s", r->job.qid, r->job.domain, r->sts_how,
		    !r->sts_have ? "-" : r->sts_pol.mode == MTA_STS_ENFORCE ?
		    "enforce" : r->sts_pol.mode == MTA_STS_TESTING ?
		    "testing" : "none");
	if (r->ss != NULL) {
		out = ipc_out_new(IMSG_MTA_SEND, r->id, -1);
		ipc_add_str(out, r->job.remote);
		ipc_add_u32(out, (uint32_t)r->job.m.nrcpts);
		for (i = 0; i < r->job.m.nrcpts; i++) {
			ipc_add_u32(out, (uint32_t)r->job.r[i].state);
			ipc_add_str(out, r->job.r[i].text);
		}
		(void)ipc_chan_send(r->ss->chan, out);
	}
	req_free(r);
}

/* Every recipient gets the same outcome, decided before any connection. */
static void
req_fail_all(struct req *r, int state, const char *text)
{
	size_t	i;

	for (i = 0; i < r->job.m.nrcpts; i++) {
		r->job.r[i].state = state;
		strlcpy(r->job.r[i].text, text, sizeof(r->job.r[i].text));
	}
	req_answer(r);
}

static void	worker_start(struct req *);
static void	sts_begin(struct req *);
static void	sts_txt_done(void *, const struct mta_dns_rrset *);
static void	sts_host_done(void *, int, const char *,
		    const struct sockaddr_storage *, size_t);
static void	sts_apply(struct req *);
static void	dane_begin(struct req *);

static void *
worker(void *arg)
{
	struct req	*r = arg;
	ssize_t		 n;

	if (r->job.pol.smarthost[0] == '\0')
		sts_apply(r);
	mta_send_run(&r->job);
	do {
		n = write(done_pipe[1], &r, sizeof(r));
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(r))
		fatal("mta: done pipe");
	return NULL;
}

static void
done_read(evutil_socket_t fd, short ev, void *arg)
{
	struct req	*r;
	ssize_t		 n;

	(void)ev;
	(void)arg;
	while ((n = read(fd, &r, sizeof(r))) == (ssize_t)sizeof(r)) {
		nworkers--;
		req_answer(r);
	}
}


static void
dns_done(void *arg, int status, const char *why, const struct mta_dest *d)
{
	struct req	*r = arg;
	char		 text[800];
	size_t		 i;

	switch (status) {
	case MTA_DNS_OK:
		break;
	case MTA_DNS_NXDOMAIN:
		snprintf(text, sizeof(text), "550 5.1.2 %s: no such domain "
		    "(DNS)", r->job.domain);
		req_fail_all(r, MTA_RCPT_PERM, text);
		return;
	case MTA_DNS_NULL_MX:
		/* RFC 7505 4.2 */
		snprintf(text, sizeof(text), "556 5.1.10 %s takes no mail "
		    "(null MX)", r->job.domain);
		req_fail_all(r, MTA_RCPT_PERM, text);
		return;
	default:
		snprintf(text, sizeof(text), "451 4.4.3 %s: %s", r->job.domain,
		    why != NULL ? why : "DNS lookup failed");
		req_fail_all(r, MTA_RCPT_TEMP, text);
		return;
	}
	/* an MX that is ourselves: a loop, never a delivery (T49) */
	for (i = 0; i < d->route.nhosts; i++)
		if (strcasecmp(d->route.hosts[i], helo) == 0) {
			snprintf(text, sizeof(text), "554 5.4.6 mail for %s "
			    "loops back to myself (MX %s)", r->job.domain,
			    d->route.hosts[i]);
			req_fail_all(r, MTA_RCPT_PERM, text);
			return;
		}
	r->job.dest = *d;
	/* RFC 7672 2.2.1: DANE only for MX hosts from a validated answer */
	if (dane_on && d->mx_secure)
		dane_begin(r);
	else
		sts_begin(r);
}

/*
 * RFC 7672 2.2: one host's TLSA RRset at _25._tcp.HOST into the
 * attempt's policy.  Validated records: usable when some are DANE-TA(2)
 * or DANE-EE(3) with a selector and matching type OpenSSL knows (the
 * others, PKIX-TA/PKIX-EE among them, are unusable: 3.1.3); none usable
 * still means TLS without a check.  A failed or bogus lookup: the host
 * is not used now.  No record, or an unvalidated answer: no DANE.
 */
static void
dane_tlsa_done(void *arg, const struct mta_dns_rrset *set)
{
	struct dane_q		*q = arg;
	struct req		*r = q->r;
	struct mta_host_dane	*hd = &r->job.pol.hosts[q->host];
	const unsigned char	*d;
	size_t			 i, dl;

	free(q);
	if (set->status == MTA_DNS_TEMP)
		hd->state = MTA_DANE_BOGUS;
	else if (set->status == MTA_DNS_OK && set->secure) {
		hd->state = MTA_DANE_UNUSABLE;
		for (i = 0; i < set->n && hd->n < MTA_TLSA_MAX; i++) {
			d = set->data[i];
			if (set->len[i] < 4)
				continue;	/* no data: malformed */
			dl = set->len[i] - 3;
			if ((d[0] != 2 && d[0] != 3) || d[1] > 1 || d[2] > 2 ||
			    dl > MTA_TLSA_DATA_MAX)
				continue;
			hd->r[hd->n].usage = d[0];
			hd->r[hd->n].selector = d[1];
			hd->r[hd->n].mtype = d[2];
			hd->r[hd->n].len = dl;
			memcpy(hd->r[hd->n].data, d + 3, dl);
			hd->n++;
		}
		if (hd->n > 0)
			hd->state = MTA_DANE_USABLE;
	}
	if (--r->dane_pending == 0)
		sts_begin(r);
}

static void
dane_begin(struct req *r)
{
	struct dane_q	*q;
	char		 name[MTA_HOST_MAX + 16];
	size_t		 h;
	int		 n;

	r->job.pol.dane = 1;
	r->dane_pending = 1;		/* held until every query is asked */
	for (h = 0; h < r->job.dest.route.nhosts; h++) {
		n = snprintf(name, sizeof(name), "_25._tcp.%s",
		    r->job.dest.route.hosts[h]);
		q = xcalloc(1, sizeof(*q));
		q->r = r;
		q->host = h;
		r->dane_pending++;
		if (n < 0 || (size_t)n > MTA_HOST_MAX ||
		    mta_dns_rr(dns, name, MTA_DNS_TLSA, dane_tlsa_done,
		    q) == -1) {
			/* cannot ask: this host cannot be judged */
			r->job.pol.hosts[h].state = MTA_DANE_BOGUS;
			r->dane_pending--;
			free(q);
		}
	}
	if (--r->dane_pending == 0)
		sts_begin(r);
}

/* Monotonic seconds, for the MTA-STS cache (T51: no wall clock). */
static long
mono_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

/*
 * RFC 8461 3.3, 5.1: the _mta-sts TXT record says whether the domain has
 * a policy and its id; a cached policy with that id is used as it is, a
 * new id (or none cached) means a fetch (mta-sts.DOMAIN's addresses
 * first, on the event loop; the GET in the worker thread).  No record, or
 * a DNS failure: the cached policy if any, else none.
 */
static void
sts_begin(struct req *r)
{
	char	name[MTA_HOST_MAX + 16];
	int	n;

	r->sts_have = mta_sts_cache_get(r->job.domain, mono_s(), &r->sts_pol,
	    r->sts_id);
	n = snprintf(name, sizeof(name), "_mta-sts.%s", r->job.domain);
	if (n < 0 || (size_t)n > MTA_HOST_MAX ||
	    mta_dns_rr(dns, name, MTA_DNS_TXT, sts_txt_done, r) == -1)
		worker_start(r);
}

static void
sts_txt_done(void *arg, const struct mta_dns_rrset *set)
{
	struct req	*r = arg;
	char		 txt[MTA_DNS_RDATA_MAX], id[MTA_STS_ID_MAX + 1];
	char		 name[MTA_HOST_MAX + 16];
	size_t		 i, off, tl, nsts = 0;
	int		 v, n;

	id[0] = '\0';
	for (i = 0; set->status == MTA_DNS_OK && i < set->n; i++) {
		/* the record's character-strings, joined (RFC 7208 3.3) */
		for (off = 0, tl = 0; off < set->len[i];
		    off += 1 + set->data[i][off]) {
			size_t	cl = set->data[i][off];

			if (cl > set->len[i] - off - 1)
				break;
			memcpy(txt + tl, set->data[i] + off + 1, cl);
			tl += cl;
		}
		if ((v = mta_sts_txt_parse(txt, tl, id)) != 0)
			nsts += v == 1 ? 1 : 2;	/* a bad one spoils */
	}
	if (nsts != 1 || (r->sts_have && strcmp(id, r->sts_id) == 0)) {
		/* RFC 8461 3.1: not exactly one record: no (new) policy */
		snprintf(r->sts_how, sizeof(r->sts_how), "%s",
		    r->sts_have ? "cached" : "none");
		worker_start(r);
		return;
	}
	strlcpy(r->sts_id, id, sizeof(r->sts_id));
	n = snprintf(name, sizeof(name), "mta-sts.%s", r->job.domain);
	if (n < 0 || (size_t)n > MTA_HOST_MAX ||
	    mta_dns_host(dns, name, sts_host_done, r) == -1)
		worker_start(r);
}

static void
sts_host_done(void *arg, int status, const char *why,
    const struct sockaddr_storage *addrs, size_t naddrs)
{
	struct req	*r = arg;
	size_t		 i;

	(void)why;
	if (status == MTA_DNS_OK) {
		for (i = 0; i < naddrs && i < MTA_ADDRS_MAX; i++)
			r->sts_addrs[i] = addrs[i];
		r->sts_naddrs = i;
		r->sts_fetch = 1;
	}
	worker_start(r);
}

/*
 * In the worker: fetch the policy when due (RFC 8461 3.3: HTTPS, the
 * certificate checked, no redirect, 200 text/plain only, at most
 * MTA_STS_POLICY_MAX bytes), cache it, and put what applies into the
 * attempt's TLS policy.  A failed fetch keeps the cached policy, if any.
 */
static void
sts_apply(struct req *r)
{
	struct mta_https_get	 g;
	struct mta_sts_policy	 p;
	const char		*why = NULL;
	char			 url[MTA_HOST_MAX + 64], host[MTA_HOST_MAX + 16];
	const void		*ca;
	size_t			 i, calen;

	if (r->sts_fetch) {
		memset(&g, 0, sizeof(g));
		snprintf(host, sizeof(host), "mta-sts.%s", r->job.domain);
		if (sts_port != 443)
			snprintf(url, sizeof(url), "https://%s:%u/.well-known/"
			    "mta-sts.txt", host, (unsigned int)sts_port);
		else
			snprintf(url, sizeof(url), "https://%s/.well-known/"
			    "mta-sts.txt", host);
		ca = mta_wkd_ca(&calen);
		g.url = url;
		g.host = host;
		g.port = sts_port;
		g.addrs = r->sts_addrs;
		g.naddrs = r->sts_naddrs;
		g.ca = ca;
		g.calen = calen;
		g.connect_ms = 5000;
		g.total_ms = 10000;
		g.max = MTA_STS_POLICY_MAX;
		mta_https_run(&g);
		if (g.result != MTA_HTTPS_OK)
			why = g.why[0] != '\0' ? g.why : "fetch failed";
		else if (g.status != 200)
			why = "not 200";
		else if (strncmp(g.ctype, "text/plain", 10) != 0 ||
		    (g.ctype[10] != '\0' && g.ctype[10] != ';'))
			why = "not text/plain";
		else if (mta_sts_policy_parse((const char *)g.body, g.len, &p,
		    &why) == 0) {
			mta_sts_cache_put(r->job.domain, mono_s(), r->sts_id,
			    &p);
			r->sts_pol = p;
			r->sts_have = 1;
		}
		free(g.body);
		snprintf(r->sts_how, sizeof(r->sts_how), "%s%s",
		    why == NULL ? "fetched" : r->sts_have ? "cached, fetch: " :
		    "none, fetch: ", why == NULL ? "" : why);
	}
	if (!r->sts_have || r->sts_pol.mode == MTA_STS_NONE)
		return;
	r->job.pol.sts_mode = r->sts_pol.mode;
	r->job.pol.sts_nmx = r->sts_pol.nmx;
	for (i = 0; i < r->sts_pol.nmx; i++)
		strlcpy(r->job.pol.sts_mx[i], r->sts_pol.mx[i],
		    sizeof(r->job.pol.sts_mx[i]));
}

/* The smarthost's addresses: one host, as if it were the only MX. */
static void
smarthost_done(void *arg, int status, const char *why,
    const struct sockaddr_storage *addrs, size_t naddrs)
{
	struct req	*r = arg;
	char		 text[800];
	size_t		 i;

	if (status != MTA_DNS_OK || naddrs == 0) {
		snprintf(text, sizeof(text), "451 4.4.3 smarthost %s: %s",
		    r->job.pol.smarthost, why != NULL ? why : "no address");
		req_fail_all(r, MTA_RCPT_TEMP, text);
		return;
	}
	memset(&r->job.dest, 0, sizeof(r->job.dest));
	r->job.dest.route.nhosts = 1;
	strlcpy(r->job.dest.route.hosts[0], r->job.pol.smarthost,
	    sizeof(r->job.dest.route.hosts[0]));
	for (i = 0; i < naddrs && i < MTA_ADDRS_MAX; i++)
		r->job.dest.addrs[0][i] = addrs[i];
	r->job.dest.naddrs[0] = i;
	worker_start(r);
}

static void
worker_start(struct req *r)
{
	pthread_attr_t	 attr;
	pthread_t	 t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, worker, r) != 0) {
		pthread_attr_destroy(&attr);
		req_fail_all(r, MTA_RCPT_TEMP, "451 4.3.0 mta: no thread");
		return;
	}
	pthread_attr_destroy(&attr);
	nworkers++;
}

static void
dns_read(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (mta_dns_process(dns) == -1)
		log_warnx("mta: resolver processing failed");
}

static void
idle_tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	mta_conn_idle_expire(MTA_IDLE_MS);
}

static int
mta_msg(struct service_session *ss, struct ipc_msg *msg)
{
	struct req	*r;
	const char	*qid, *domain, *from, *envid, *addr, *orcpt, *semi;
	char		 xt[MTA_ORCPT_MAX * 3 + 1];
	uint32_t	 body8, utf8, ret, n, notify, tls, i;
	struct stat	 st;
	size_t		 size;

	if (ss->kind != SP_KIND_QUEUE || msg->fd == -1)
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->msgfd = -1;
	r->ss = ss;
	r->id = msg->hdr.id;
	TAILQ_INSERT_TAIL(&reqs, r, entry);
	if (ipc_get_str(msg, &qid, 32) == -1 ||
	    ipc_get_str(msg, &domain, MTA_HOST_MAX) == -1 ||
	    ipc_get_str(msg, &from, MTA_ADDR_MAX) == -1 ||
	    ipc_get_u32(msg, &body8) == -1 || ipc_get_u32(msg, &utf8) == -1 ||
	    ipc_get_u32(msg, &ret) == -1 ||
	    ipc_get_str(msg, &envid, 100) == -1 ||
	    ipc_get_u32(msg, &n) == -1 || n == 0 ||
	    n > MTA_CLIENT_RCPTS_MAX || body8 > 1 || utf8 > 1 || ret > 2)
		goto bad;
	strlcpy(r->job.qid, qid, sizeof(r->job.qid));
	strlcpy(r->job.domain, domain, sizeof(r->job.domain));
	strlcpy(r->from, from, sizeof(r->from));
	if (mta_xtext(envid, r->envid, sizeof(r->envid)) == -1)
		goto bad;
	for (i = 0; i < n; i++) {
		if (ipc_get_str(msg, &addr, MTA_ADDR_MAX) == -1 ||
		    ipc_get_u32(msg, &notify) == -1 || notify > 15 ||
		    ipc_get_str(msg, &orcpt, MTA_ORCPT_MAX) == -1 ||
		    ipc_get_u32(msg, &tls) == -1 || tls > SMTP_TLS_REQUIRED ||
		    addr[0] == '\0')
			goto bad;
		/*
		 * One attempt per domain: a recipient whose policy requires
		 * TLS makes it required for the whole attempt (the others
		 * only gain; docs/design.md "Outbound TLS").
		 */
		if (tls == SMTP_TLS_REQUIRED)
			r->job.pol.required = 1;
		r->rcpts[i] = xstrdup(addr);
		r->notify[i] = notify;
		/* ORCPT=type;xtext(address) (RFC 3461 4.2) */
		xt[0] = '\0';
		if ((semi = strchr(orcpt, ';')) != NULL) {
			size_t	tl = (size_t)(semi - orcpt);

			if (tl + 1 >= sizeof(xt))
				goto bad;
			memcpy(xt, orcpt, tl + 1);
			if (mta_xtext(semi + 1, xt + tl + 1,
			    sizeof(xt) - tl - 1) == -1)
				goto bad;
		}
		r->orcpts[i] = xstrdup(xt);
		r->job.m.nrcpts = i + 1;
	}
	if (ipc_end(msg) == -1 ||
	    memfd_check_sealed(msg->fd, MTA_MSG_MAX, &size) == -1 ||
	    fstat(msg->fd, &st) == -1)
		goto bad;
	r->msgfd = msg->fd;
	msg->fd = -1;
	if (size > 0 && (r->map = mmap(NULL, size, PROT_READ, MAP_PRIVATE,
	    r->msgfd, 0)) == MAP_FAILED) {
		req_fail_all(r, MTA_RCPT_TEMP, "451 4.3.0 mta: out of memory");
		return 0;
	}
	r->maplen = size;
	r->job.body = r->map;
	r->job.bodylen = size;
	r->job.helo = helo;
	r->job.port = port;
	r->job.timeout_ms = timeout_ms;
	r->job.tls = tls_ctx;
	r->job.m.from = r->from;
	r->job.m.size = size;
	/* 8-bit data sent without BODY=8BITMIME still needs converting */
	r->job.m.body8 = body8 || (size > 0 &&
	    mta_7bit_needed(r->job.body, size));
	r->job.m.smtputf8 = (int)utf8;
	r->job.m.ret = (int)ret;
	r->job.m.envid = r->envid;
	r->job.m.rcpts = (const char *const *)r->rcpts;
	r->job.m.notify = r->notify;
	r->job.m.orcpt = (const char *const *)r->orcpts;
	if (nworkers >= MTA_WORKERS_MAX) {
		req_fail_all(r, MTA_RCPT_TEMP, "451 4.3.2 mta: too many "
		    "deliveries at once");
		return 0;
	}
	if (mta_smarthost_name() != NULL) {
		/* every message goes there (issue 15) */
		strlcpy(r->job.pol.smarthost, mta_smarthost_name(),
		    sizeof(r->job.pol.smarthost));
		r->job.port = mta_smarthost_port();
		r->job.auth_line = mta_smarthost_auth(&r->job.auth_len);
		if (mta_dns_host(dns, r->job.pol.smarthost, smarthost_done,
		    r) == -1)
			req_fail_all(r, MTA_RCPT_TEMP, "451 4.3.5 the "
			    "smarthost is not a valid host name");
		return 0;
	}
	if (mta_dns_lookup(dns, r->job.domain, randombytes_random(), dns_done,
	    r) == -1) {
		char	text[320];

		snprintf(text, sizeof(text), "553 5.1.2 %s: not a valid "
		    "destination domain", r->job.domain);
		req_fail_all(r, MTA_RCPT_PERM, text);
	}
	return 0;
bad:
	r->ss = NULL;
	req_free(r);
	return -1;
}

static int
mta_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	if (msg->hdr.type == IMSG_MTA_SEND)
		return mta_msg(ss, msg);
	if (msg->hdr.type == IMSG_MTA_WKD)
		return mta_wkd_msg(ss, msg);
	return -1;
}

static void
mta_session_gone(struct service_session *ss)
{
	struct req	*r;

	TAILQ_FOREACH(r, &reqs, entry)
		if (r->ss == ss)
			r->ss = NULL;
	mta_wkd_session_gone(ss);
}

/* The trust anchor file (at most 64 KiB of text); NULL with why. */
static char *
ta_read(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 off;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || st.st_size > 64 * 1024) {
		snprintf(err, errlen, "not a file of 1 byte to 64 KiB");
		close(fd);
		return NULL;
	}
	off = (size_t)st.st_size;
	buf = xmalloc(off + 1);
	if (memfd_read(fd, buf, off) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		free(buf);
		return NULL;
	}
	close(fd);
	buf[off] = '\0';
	if (memchr(buf, '\0', off) != NULL) {
		snprintf(err, errlen, "not text");
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Before the jail, as root: the resolver (resolv.conf), TLS, and for the
 * Web Key Directory libcurl and the CA bundle.
 */
static void
mta_preload(const struct child_args *a)
{
	const char	*v, *errstr;
	const void	*ca;
	char		*ta;
	size_t		 calen;
	char		 err[256];

	if ((v = child_opt(a, "hostname")) != NULL)
		strlcpy(helo, v, sizeof(helo));
	port = (uint16_t)child_opt_num(a, "port", 1, 65535, port);
	timeout_ms = (int)child_opt_num(a, "timeout", 1, 3600,
	    timeout_ms / 1000) * 1000;
	sandbox_allow_connect(port);
	sandbox_allow_connect(53);		/* DNS over TCP */
	if ((v = child_opt(a, "resolver")) != NULL &&
	    (v = strrchr(v, '@')) != NULL)
		sandbox_allow_connect((uint16_t)strtonum(v + 1, 1, 65535,
		    &errstr));
	/* DNSSEC trust anchors (issue 15, DANE): read here, as root */
	ta = NULL;
	if ((v = child_opt(a, "trust-anchor")) != NULL) {
		if ((ta = ta_read(v, err, sizeof(err))) == NULL)
			fatalx("mta: dnssec-trust-anchor %s: %s", v, err);
		dane_on = 1;
	}
	if ((dns = mta_dns_new(child_opt(a, "resolver"), ta, err,
	    sizeof(err))) == NULL)
		fatalx("mta: %s", err);
	free(ta);
	mta_7bit_init();	/* GMime, before the jail and the threads */
	if (pipe2(done_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("mta: pipe2");
	/* https-ca-given: the administrator named the file, it must be there */
	sts_port = (uint16_t)child_opt_num(a, "https-port", 1, 65535,
	    MTA_WKD_DEFAULT_PORT);
	mta_wkd_preload((uint16_t)child_opt_num(a, "https-port", 1, 65535,
	    MTA_WKD_DEFAULT_PORT), child_opt(a, "https-ca"),
	    child_opt_num(a, "https-ca-given", 0, 1, 0) == 1);
	/* the same bundle checks SMTP certificates (issue 15) */
	ca = mta_wkd_ca(&calen);
	if ((tls_ctx = tls_client_ctx_new(ca, calen, err, sizeof(err))) ==
	    NULL)
		fatalx("mta: %s", err);
	/* the smarthost and its credentials, read as root (SECURITY) */
	if (mta_smarthost_preload(child_opt(a, "smarthost"),
	    child_opt(a, "smarthost-auth"), err, sizeof(err)) == -1)
		fatalx("mta: %s", err);
	if (mta_smarthost_name() != NULL)
		sandbox_allow_connect(mta_smarthost_port());
}

static void
mta_init(struct event_base *base)
{
	struct timeval	tv = { 1, 0 };

	ev_done = event_new(base, done_pipe[0], EV_READ | EV_PERSIST,
	    done_read, NULL);
	ev_dns = event_new(base, mta_dns_fd(dns), EV_READ | EV_PERSIST,
	    dns_read, NULL);
	ev_idle = event_new(base, -1, EV_PERSIST, idle_tick, NULL);
	if (ev_done == NULL || ev_dns == NULL || ev_idle == NULL ||
	    event_add(ev_done, NULL) == -1 || event_add(ev_dns, NULL) == -1 ||
	    evtimer_add(ev_idle, &tv) == -1)
		fatalx("mta: events");
	mta_wkd_init(base, dns);
}

static const struct service_ops mta_ops = {
	.name = "mta",
	.role = ROLE_MTA,
	.preload = mta_preload,
	.init = mta_init,
	.session_msg = mta_session_msg,
	.session_gone = mta_session_gone,
};

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	service_main(argc, argv, &mta_ops);
}
