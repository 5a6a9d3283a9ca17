/* SPDX-License-Identifier: ISC */
/*
 * queue_sched.c - the outbound queue's scheduler: which message to try
 * when, handing it to the mta one destination domain at a time, and what
 * the outcome does to the envelope: a recipient taken is done, one
 * refused for good gets a notification (queue_bounce.c), one refused for
 * now waits for the next attempt (the first retry after first-retry
 * seconds, then every retry-interval), until the message is lifetime old
 * and every recipient still waiting is given up with a notification.  A
 * delay warning goes once, delay-warning after the message came.
 *
 * Durability: an envelope is rewritten (queue_store_update) only after
 * the attempt's outcome is known, and a notification is queued durably
 * before the envelope that caused it changes.  A crash in between repeats
 * the attempt: a remote that answered 250 may get the message twice (the
 * window between its 250 and our rename), never zero times.
 *
 * Process:  queue.
 * Trust:    the mta's replies (it parses network input) are checked:
 *           counts must match what was asked, texts are bounded, and a
 *           malformed reply counts as a temporary failure.
 * Limits:   per destination domain: qset.concurrency attempts at once,
 *           qset.rate messages a minute; MTA_RCPTS_PER_REQ recipients a
 *           request.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "blob.h"
#include "queue.h"
#include "banned.h"

#define MTA_RCPTS_PER_REQ	100	/* MTA_CLIENT_RCPTS_MAX */
#define HEADER_SCAN_MAX		(256 * 1024)	/* Received fields counted */
#define POSTPONE		1	/* seconds, when a domain is busy */
#define NO_MTA_WAIT		5	/* seconds, when the mta restarts */
#define INFLIGHT_MAX		48	/* requests at the mta at once (its
					 * MTA_WORKERS_MAX is 64) */
#define NOTIFY_NEVER		0x01	/* smtp_parse.h's SMTP_NOTIFY_* */
#define NOTIFY_FAILURE		0x04
#define NOTIFY_DELAY		0x08

struct qent {
	TAILQ_ENTRY(qent)	 entry;
	char			 id[QUEUE_ID_LEN + 1];
	int64_t			 created;
	int64_t			 next;
	int			 held;
	int			 warned;
	int			 busy;		/* requests out */
	int			 deleted;	/* while busy */
	int			 flush;		/* asked for while busy */
	int			 loaded;
	struct queue_env	 env;		/* while loaded */
	int			 bodyfd;
	int			 sendfd;	/* signed (queue_sign.c), -1 */
	int			 send8;		/* sendfd is 8-bit */
	unsigned char		*failed_now;	/* per recipient */
};
TAILQ_HEAD(qent_list, qent);

struct qdom {
	TAILQ_ENTRY(qdom)	 entry;
	char			 name[QUEUE_ADDR_MAX + 1];
	unsigned int		 active;
	unsigned int		 signing;	/* entries being signed that
						   will send here: their slot
						   is kept (reserve) */
	int64_t			 window;	/* the minute counted */
	unsigned int		 started;	/* in it */
};
TAILQ_HEAD(qdom_list, qdom);

struct qreq {
	TAILQ_ENTRY(qreq)	 entry;
	uint32_t		 id;
	struct qent		*e;
	struct qdom		*d;
	size_t			 n;
	size_t			 idx[MTA_RCPTS_PER_REQ];
};
TAILQ_HEAD(qreq_list, qreq);

static struct qent_list	 ents = TAILQ_HEAD_INITIALIZER(ents);
static struct qdom_list	 doms = TAILQ_HEAD_INITIALIZER(doms);
static struct qreq_list	 reqs = TAILQ_HEAD_INITIALIZER(reqs);
static uint32_t		 next_req = 1;
static unsigned int	 inflight;	/* requests at the mta */
static struct event	*ev_tick, *ev_kick;

static void	finalize(struct qent *, int64_t now);
static void	sign_then_send(struct qent *);

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static struct qent *
ent_find(const char *id)
{
	struct qent	*e;

	TAILQ_FOREACH(e, &ents, entry)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static void
ent_unload(struct qent *e)
{
	if (e->loaded)
		queue_env_free(&e->env);
	e->loaded = 0;
	if (e->bodyfd != -1)
		close(e->bodyfd);
	e->bodyfd = -1;
	if (e->sendfd != -1)
		close(e->sendfd);
	e->sendfd = -1;
	free(e->failed_now);
	e->failed_now = NULL;
}

static void
ent_free(struct qent *e)
{
	ent_unload(e);
	TAILQ_REMOVE(&ents, e, entry);
	free(e);
}

static struct qent *
ent_new(const char *id, int64_t created, int64_t next, int held, int warned)
{
	struct qent	*e = xcalloc(1, sizeof(*e));

	strlcpy(e->id, id, sizeof(e->id));
	e->created = created;
	e->next = next;
	e->held = held;
	e->warned = warned;
	e->bodyfd = -1;
	e->sendfd = -1;
	TAILQ_INSERT_TAIL(&ents, e, entry);
	return e;
}

static struct qdom *
dom_get(const char *name)
{
	struct qdom	*d;

	TAILQ_FOREACH(d, &doms, entry)
		if (strcmp(d->name, name) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	strlcpy(d->name, name, sizeof(d->name));
	TAILQ_INSERT_TAIL(&doms, d, entry);
	return d;
}

/* Forget domains with nothing going on (so the list stays small). */
static void
dom_gc(int64_t now)
{
	struct qdom	*d, *t;

	TAILQ_FOREACH_SAFE(d, &doms, entry, t)
		if (d->active == 0 && now - d->window >= 60) {
			TAILQ_REMOVE(&doms, d, entry);
			free(d);
		}
}

/* May another attempt to d start now? */
static int
dom_open(struct qdom *d, int64_t now)
{
	if (d->active + d->signing >= qset.concurrency)
		return 0;
	if (qset.rate > 0) {
		if (now - d->window >= 60) {
			d->window = now;
			d->started = 0;
		}
		if (d->started >= qset.rate)
			return 0;
	}
	return 1;
}

/* The domain of an address, lower-cased (after its last '@'). */
static void
rcpt_domain(const char *addr, char *out, size_t outlen)
{
	const char	*at = strrchr(addr, '@');
	size_t		 i;

	strlcpy(out, at != NULL ? at + 1 : "", outlen);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

int
queue_body_memfd(const char *id, uint64_t size, char *err, size_t errlen)
{
	struct blob_reader	*r;
	unsigned char		 bid[BLOB_ID_LEN], *buf;
	uint64_t		 off = 0;
	size_t			 binlen;
	ssize_t			 n;
	int			 fd, mfd = -1;

	if (sodium_hex2bin(bid, sizeof(bid), id, QUEUE_ID_LEN, NULL, &binlen,
	    NULL) != 0 || binlen != sizeof(bid)) {
		snprintf(err, errlen, "not a queue id");
		return -1;
	}
	if ((fd = openat(qspool, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "body: %s", strerror(errno));
		return -1;
	}
	if ((r = blob_open(fd, qpk, qsk, bid, err, errlen)) == NULL) {
		close(fd);
		return -1;
	}
	if (blob_meta(r)->size != size) {
		snprintf(err, errlen, "body: size differs from the envelope's");
		goto done;
	}
	if ((mfd = memfd_new("queue-body")) == -1) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		goto done;
	}
	buf = xmalloc(BLOB_CHUNK);
	while ((n = blob_pread(r, buf, BLOB_CHUNK, off)) > 0) {
		if (memfd_append(mfd, buf, (size_t)n) == -1)
			break;
		off += (uint64_t)n;
	}
	sodium_memzero(buf, BLOB_CHUNK);
	free(buf);
	if (off != size || memfd_seal(mfd) == -1) {
		snprintf(err, errlen, "body: %s", n < 0 ? "does not open "
		    "(damaged)" : strerror(errno));
		close(mfd);
		mfd = -1;
	}
done:
	blob_close(r);
	close(fd);
	return mfd;
}

/*
 * The Received header fields of the message's header (RFC 5321 6.3: a
 * loop shows as too many of them).
 */
static unsigned int
count_received(int fd, uint64_t size)
{
	const unsigned char	*p;
	size_t			 len = size > HEADER_SCAN_MAX ? HEADER_SCAN_MAX :
				    (size_t)size, i;
	unsigned int		 n = 0;
	void			*map;

	if (len == 0 || (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED)
		return 0;
	p = map;
	for (i = 0; i < len; ) {
		/* at the start of a line */
		if (p[i] == '\r' || p[i] == '\n')
			break;		/* the empty line: the header ends */
		if (len - i >= 9 && strncasecmp((const char *)p + i,
		    "Received:", 9) == 0)
			n++;
		while (i < len && p[i] != '\n')
			i++;
		i++;
	}
	munmap(map, len);
	return n;
}

static size_t
pending_count(const struct qent *e)
{
	size_t	i, n = 0;

	for (i = 0; i < e->env.nrcpts; i++)
		if (e->env.rcpts[i].state == QUEUE_RCPT_PENDING)
			n++;
	return n;
}

/* Give up on every recipient still waiting, saying why. */
static void
fail_pending(struct qent *e, const char *why)
{
	struct queue_rcpt	*q;
	char			 diag[QUEUE_DIAG_MAX + 1];
	size_t			 i;

	for (i = 0; i < e->env.nrcpts; i++) {
		q = &e->env.rcpts[i];
		if (q->state != QUEUE_RCPT_PENDING)
			continue;
		strlcpy(diag, why, sizeof(diag));
		if (q->diag[0] != '\0') {
			(void)strlcat(diag, "; the last attempt: ",
			    sizeof(diag));
			(void)strlcat(diag, q->diag, sizeof(diag));
		}
		strlcpy(q->diag, diag, sizeof(q->diag));
		q->state = QUEUE_RCPT_FAILED;
		e->failed_now[i] = 1;
	}
}

static void
req_send(struct qent *e, struct qdom *d, const size_t *idx, size_t n)
{
	struct qreq	*q = xcalloc(1, sizeof(*q));
	struct ipc_out	*out;
	int		 fd;
	size_t		 i;

	q->id = next_req++;
	q->e = e;
	q->d = d;
	q->n = n;
	memcpy(q->idx, idx, n * sizeof(idx[0]));
	TAILQ_INSERT_TAIL(&reqs, q, entry);
	if ((fd = dup(e->sendfd != -1 ? e->sendfd : e->bodyfd)) == -1)
		fatal("queue: dup");
	out = ipc_out_new(IMSG_MTA_SEND, q->id, fd);
	ipc_add_str(out, e->id);
	ipc_add_str(out, d->name);
	ipc_add_str(out, e->env.from);
	ipc_add_u32(out, (uint32_t)(e->sendfd != -1 ? e->send8 :
	    e->env.body8));
	ipc_add_u32(out, (uint32_t)e->env.smtputf8);
	ipc_add_u32(out, (uint32_t)e->env.ret);
	ipc_add_str(out, e->env.envid);
	ipc_add_u32(out, (uint32_t)n);
	for (i = 0; i < n; i++) {
		const struct queue_rcpt *r = &e->env.rcpts[idx[i]];

		ipc_add_str(out, r->addr);
		ipc_add_u32(out, r->notify);
		ipc_add_str(out, r->orcpt);
		ipc_add_u32(out, r->tls_required ? SMTP_TLS_REQUIRED :
		    SMTP_TLS_OPPORTUNISTIC);
	}
	(void)ipc_chan_send(queue_chan(SVC_MTA), out);
	d->active++;
	d->started++;
	e->busy++;
	inflight++;
}

/* Room for an attempt at e now: the mta, and every domain it touches. */
static int
groups_room(struct qent *e, int64_t now)
{
	char	dom[QUEUE_ADDR_MAX + 1];
	size_t	i;

	if (queue_chan(SVC_MTA) == NULL || inflight >= INFLIGHT_MAX)
		return 0;
	/* every domain must have room: an attempt is all or nothing */
	for (i = 0; i < e->env.nrcpts; i++) {
		if (e->env.rcpts[i].state != QUEUE_RCPT_PENDING)
			continue;
		rcpt_domain(e->env.rcpts[i].addr, dom, sizeof(dom));
		if (!dom_open(dom_get(dom), now))
			return 0;
	}
	return 1;
}

/*
 * The recipients still waiting, by domain, to the mta.  0 sent, -1 not
 * now (a domain at its limit, or no mta): the entry waits a little,
 * without counting an attempt.
 */
static int
send_groups(struct qent *e, int64_t now)
{
	char		 dom[QUEUE_ADDR_MAX + 1], other[QUEUE_ADDR_MAX + 1];
	unsigned char	*done;
	size_t		 i, j, n, idx[MTA_RCPTS_PER_REQ];
	struct qdom	*d;

	if (!groups_room(e, now))
		return -1;
	done = xcalloc(e->env.nrcpts, 1);
	for (i = 0; i < e->env.nrcpts; i++) {
		if (e->env.rcpts[i].state != QUEUE_RCPT_PENDING || done[i])
			continue;
		rcpt_domain(e->env.rcpts[i].addr, dom, sizeof(dom));
		d = dom_get(dom);
		for (n = 0, j = i; j < e->env.nrcpts; j++) {
			if (e->env.rcpts[j].state != QUEUE_RCPT_PENDING ||
			    done[j])
				continue;
			rcpt_domain(e->env.rcpts[j].addr, other,
			    sizeof(other));
			if (strcmp(dom, other) != 0)
				continue;
			done[j] = 1;
			idx[n++] = j;
			if (n == MTA_RCPTS_PER_REQ) {
				req_send(e, d, idx, n);
				n = 0;
			}
		}
		if (n > 0)
			req_send(e, d, idx, n);
	}
	free(done);
	return 0;
}

/*
 * Keep (delta 1) or give back (-1) a slot in each domain e's waiting
 * recipients go to, while e is being signed: otherwise every entry a
 * tick starts would be signed, and all but the domain's concurrency of
 * them put off for POSTPONE after the signature (contrib/bench/outbound
 * halved).
 */
static void
reserve(struct qent *e, int delta)
{
	char	dom[QUEUE_ADDR_MAX + 1], other[QUEUE_ADDR_MAX + 1];
	size_t	i, j;

	for (i = 0; i < e->env.nrcpts; i++) {
		if (e->env.rcpts[i].state != QUEUE_RCPT_PENDING)
			continue;
		rcpt_domain(e->env.rcpts[i].addr, dom, sizeof(dom));
		for (j = 0; j < i; j++) {
			if (e->env.rcpts[j].state != QUEUE_RCPT_PENDING)
				continue;
			rcpt_domain(e->env.rcpts[j].addr, other,
			    sizeof(other));
			if (strcmp(dom, other) == 0)
				break;
		}
		if (j < i)
			continue;	/* counted with an earlier one */
		if (delta > 0)
			dom_get(dom)->signing++;
		else if (dom_get(dom)->signing > 0)
			dom_get(dom)->signing--;
	}
}

/* DKIM (queue_sign.c) done: send what it gave, or wait a little. */
static void
signed_done(void *arg, int result, int fd, int body8)
{
	struct qent	*e = arg;
	int64_t		 now = now_s();

	e->busy--;
	reserve(e, -1);
	if (e->deleted || result != SIGN_OK) {
		if (fd != -1)
			close(fd);
		if (e->deleted)
			finalize(e, now);
		else {
			ent_unload(e);
			e->next = now + NO_MTA_WAIT;
		}
		return;
	}
	e->sendfd = fd;
	e->send8 = body8;
	if (send_groups(e, now) == -1) {
		ent_unload(e);
		e->next = now + (queue_chan(SVC_MTA) == NULL ? NO_MTA_WAIT :
		    POSTPONE);
	}
}

/* To the mta, signed first (no attempt counted while it waits). */
static void
sign_then_send(struct qent *e)
{
	e->busy++;
	reserve(e, 1);
	sign_message(e->bodyfd, (size_t)e->env.size, e->env.body8,
	    signed_done, e);
}

static void
local_done(void *arg, int result, const char *text)
{
	struct qent		*e = arg;
	struct queue_rcpt	*q = &e->env.rcpts[0];
	int64_t			 now = now_s();

	e->busy--;
	if (e->deleted) {
		finalize(e, now);
		return;
	}
	switch (result) {
	case LOCAL_DELIVERED:
		q->state = QUEUE_RCPT_SENT;
		strlcpy(q->remote, qset.hostname, sizeof(q->remote));
		strlcpy(q->diag, text, sizeof(q->diag));
		log_info("queue event=delivered id=%s to=local", e->id);
		break;
	case LOCAL_REMOTE:
		sign_then_send(e);
		return;
	default:
		strlcpy(q->diag, text, sizeof(q->diag));
		break;
	}
	finalize(e, now);
}

/* Begin an attempt at e: load, check, send. */
static void
start(struct qent *e, int64_t now)
{
	char		 err[256], why[160];
	unsigned int	 hops;

	if (queue_store_get(qspool, qpk, qsk, e->id, &e->env, err,
	    sizeof(err)) == -1) {
		if (errno == ENOENT) {
			ent_free(e);
			return;
		}
		log_warnx("queue event=unreadable id=%s reason=\"%s\"", e->id,
		    err);
		e->next = now + qset.retry_interval;
		return;
	}
	e->loaded = 1;
	e->env.held = e->held;
	e->failed_now = xcalloc(e->env.nrcpts, 1);
	if (pending_count(e) == 0) {
		finalize(e, now);
		return;
	}
	/* the body first: a notification quotes it */
	if ((e->bodyfd = queue_body_memfd(e->id, e->env.size, err,
	    sizeof(err))) == -1) {
		log_warnx("queue event=unreadable id=%s reason=\"%s\"", e->id,
		    err);
		ent_unload(e);
		e->next = now + qset.retry_interval;
		return;
	}
	if (now - e->created >= (int64_t)qset.lifetime) {
		fail_pending(e, "4.4.7 the message was not delivered in time");
		finalize(e, now);
		return;
	}
	if (e->held) {
		ent_unload(e);
		return;
	}
	if ((hops = count_received(e->bodyfd, e->env.size)) >
	    qset.max_hops) {
		snprintf(why, sizeof(why), "554 5.4.6 too many hops (%u "
		    "Received header fields): a mail loop", hops);
		fail_pending(e, why);
		finalize(e, now);
		return;
	}
	/* a notification (null sender) to one of ours goes to the store */
	if (e->env.from[0] == '\0' && e->env.nrcpts == 1 &&
	    queue_chan(SVC_AUTH) != NULL && queue_chan(SVC_DELIVER) != NULL) {
		e->busy++;
		local_deliver(e->env.rcpts[0].addr, e->bodyfd, e->env.size,
		    local_done, e);
		return;
	}
	/* no signing (queue_sign.c) while there is no room to send; the
	 * room kept while it is signed */
	if (!groups_room(e, now)) {
		ent_unload(e);
		e->next = now + (queue_chan(SVC_MTA) == NULL ? NO_MTA_WAIT :
		    POSTPONE);
		return;
	}
	sign_then_send(e);
}

/*
 * The attempt is over (every request answered): notifications, then
 * the envelope written again, or the message removed.
 */
static void
finalize(struct qent *e, int64_t now)
{
	unsigned char	*mark;
	char		 nid[QUEUE_ID_LEN + 1], err[256];
	size_t		 i, sent = 0, failed = 0, pending;
	int		 r, any;

	if (e->busy > 0)
		return;
	if (e->deleted) {
		ent_free(e);
		return;
	}
	pending = pending_count(e);
	if (pending > 0 && now - e->created >= (int64_t)qset.lifetime) {
		fail_pending(e, "4.4.7 the message was not delivered in time");
		pending = 0;
	}
	for (i = 0, any = 0; i < e->env.nrcpts; i++)
		any |= e->failed_now[i];
	if (any) {
		r = bounce_queue(&e->env, e->failed_now, 0, e->bodyfd, nid,
		    sizeof(nid));
		if (r == -1) {
			/* no notification, no change: the next attempt
			 * finds the same and tries again */
			for (i = 0; i < e->env.nrcpts; i++)
				if (e->failed_now[i])
					e->env.rcpts[i].state =
					    QUEUE_RCPT_PENDING;
			pending = pending_count(e);
		} else if (r == 0)
			sched_add(nid, now);
	}
	if (pending > 0 && qset.delay_warning > 0 && !e->warned &&
	    now - e->created >= (int64_t)qset.delay_warning &&
	    e->env.from[0] != '\0') {
		mark = xcalloc(e->env.nrcpts, 1);
		for (i = 0; i < e->env.nrcpts; i++) {
			unsigned int n = e->env.rcpts[i].notify;

			mark[i] = e->env.rcpts[i].state ==
			    QUEUE_RCPT_PENDING && (n == 0 ||
			    (n & NOTIFY_DELAY) != 0);
		}
		r = bounce_queue(&e->env, mark, 1, e->bodyfd, nid,
		    sizeof(nid));
		free(mark);
		if (r == 0)
			sched_add(nid, now);
		if (r != -1)
			e->warned = 1;
	}
	for (i = 0; i < e->env.nrcpts; i++) {
		if (e->env.rcpts[i].state == QUEUE_RCPT_SENT)
			sent++;
		else if (e->env.rcpts[i].state == QUEUE_RCPT_FAILED)
			failed++;
	}
	if (pending == 0) {
		if (queue_store_remove(qspool, e->id) == -1)
			log_warn("queue event=remove id=%s", e->id);
		log_info("queue event=done id=%s sent=%zu failed=%zu "
		    "attempts=%u", e->id, sent, failed, e->env.attempts + 1);
		ent_free(e);
		return;
	}
	e->env.attempts++;
	e->env.warned = e->warned;
	e->env.held = e->held;
	e->next = now + (e->env.attempts == 1 ? qset.first_retry :
	    qset.retry_interval);
	/* no later than the warning and the expiry it has to notice */
	if (!e->warned && qset.delay_warning > 0 &&
	    e->created + (int64_t)qset.delay_warning > now &&
	    e->created + (int64_t)qset.delay_warning < e->next)
		e->next = e->created + qset.delay_warning;
	if (e->created + (int64_t)qset.lifetime < e->next)
		e->next = e->created + qset.lifetime;
	if (e->flush)
		e->next = now;
	e->flush = 0;
	e->env.next = e->next;
	if (queue_store_update(qspool, qpk, &e->env, err, sizeof(err)) == -1)
		log_warnx("queue event=update id=%s reason=\"%s\"", e->id, err);
	log_info("queue event=deferred id=%s sent=%zu failed=%zu pending=%zu "
	    "attempts=%u next=%" PRId64, e->id, sent, failed, pending,
	    e->env.attempts, e->next - now);
	ent_unload(e);
}

void
sched_mta_reply(struct ipc_msg *msg)
{
	struct qreq		*q;
	struct queue_rcpt	*r;
	const char		*remote, *text;
	uint32_t		 n, state;
	size_t			 i;
	int			 bad = 0;

	TAILQ_FOREACH(q, &reqs, entry)
		if (q->id == msg->hdr.id)
			break;
	if (q == NULL) {
		log_warnx("queue: a reply from the mta to no request");
		return;
	}
	TAILQ_REMOVE(&reqs, q, entry);
	if (ipc_get_str(msg, &remote, QUEUE_REMOTE_MAX) == -1 ||
	    ipc_get_u32(msg, &n) == -1 || n != q->n)
		bad = 1;
	for (i = 0; i < q->n; i++) {
		r = &q->e->env.rcpts[q->idx[i]];
		if (!bad && (ipc_get_u32(msg, &state) == -1 ||
		    ipc_get_str(msg, &text, 2048) == -1 || state < 1 ||
		    state > 3))
			bad = 1;
		if (bad) {
			strlcpy(r->diag, "451 4.3.0 the mta's answer was "
			    "malformed", sizeof(r->diag));
			continue;
		}
		strlcpy(r->remote, remote, sizeof(r->remote));
		strlcpy(r->diag, text, sizeof(r->diag));
		if (state == 1)
			r->state = QUEUE_RCPT_SENT;
		else if (state == 3) {
			r->state = QUEUE_RCPT_FAILED;
			q->e->failed_now[q->idx[i]] = 1;
		}
	}
	if (bad || ipc_end(msg) == -1)
		log_warnx("queue event=malformed id=%s from=mta", q->e->id);
	q->d->active--;
	q->e->busy--;
	inflight--;
	finalize(q->e, now_s());
	free(q);
	sched_kick();
}

void
sched_mta_lost(void)
{
	struct qreq	*q;
	struct qent	*e;
	size_t		 i;

	while ((q = TAILQ_FIRST(&reqs)) != NULL) {
		TAILQ_REMOVE(&reqs, q, entry);
		e = q->e;
		for (i = 0; i < q->n; i++)
			strlcpy(e->env.rcpts[q->idx[i]].diag, "451 4.3.0 the "
			    "mta restarted during the attempt",
			    sizeof(e->env.rcpts[0].diag));
		q->d->active--;
		e->busy--;
		inflight--;
		free(q);
		finalize(e, now_s());
	}
}

static void
sched_run(int64_t now)
{
	struct qent	*e, *t;

	TAILQ_FOREACH_SAFE(e, &ents, entry, t) {
		if (e->busy > 0 || e->deleted)
			continue;
		/* a held message is not tried, but it still expires */
		if (e->held ? now - e->created < (int64_t)qset.lifetime :
		    e->next > now)
			continue;
		start(e, now);
	}
	dom_gc(now);
}

static void
tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	sched_run(now_s());
}

void
sched_kick(void)
{
	if (ev_kick != NULL)
		event_active(ev_kick, 0, 0);
}

void
sched_add(const char *id, int64_t created)
{
	if (ent_find(id) == NULL)
		(void)ent_new(id, created, 0, 0, 0);
	sched_kick();
}

int
sched_ctl(uint32_t op, const char *id, char *text, size_t len)
{
	struct queue_env	 env;
	struct qent		*e;
	char			 err[256];
	size_t			 n = 0;

	if (op == QUEUE_CTL_FLUSH && id[0] == '\0') {
		TAILQ_FOREACH(e, &ents, entry)
			if (!e->held && !e->deleted && e->busy == 0) {
				e->next = 0;
				n++;
			}
		sched_kick();
		snprintf(text, len, "%zu messages to be tried now", n);
		return 0;
	}
	if ((e = ent_find(id)) == NULL || e->deleted) {
		snprintf(text, len, "%s: no such message in the queue", id);
		return -1;
	}
	switch (op) {
	case QUEUE_CTL_FLUSH:
		if (e->held) {
			snprintf(text, len, "%s is held: release it", id);
			return -1;
		}
		e->next = 0;
		if (e->busy > 0)
			e->flush = 1;	/* again when this attempt ends */
		sched_kick();
		snprintf(text, len, "%s: to be tried now", id);
		return 0;
	case QUEUE_CTL_DELETE:
		if (queue_store_remove(qspool, id) == -1) {
			snprintf(text, len, "%s: %s", id, strerror(errno));
			return -1;
		}
		log_info("queue event=deleted id=%s by=sealpostctl", id);
		if (e->busy > 0)
			e->deleted = 1;		/* its answers are dropped */
		else
			ent_free(e);
		snprintf(text, len, "%s: deleted", id);
		return 0;
	case QUEUE_CTL_HOLD:
	case QUEUE_CTL_RELEASE:
		e->held = op == QUEUE_CTL_HOLD;
		if (!e->held)
			e->next = 0;
		/* when an attempt is on, its end writes the envelope */
		if (e->busy == 0) {
			if (queue_store_get(qspool, qpk, qsk, id, &env, err,
			    sizeof(err)) == -1 ||
			    (env.held = e->held, env.next = e->next,
			    queue_store_update(qspool, qpk, &env, err,
			    sizeof(err))) == -1) {
				queue_env_free(&env);
				snprintf(text, len, "%s: %s", id, err);
				return -1;
			}
			queue_env_free(&env);
		}
		log_info("queue event=%s id=%s by=sealpostctl", e->held ?
		    "held" : "released", id);
		if (!e->held)
			sched_kick();
		snprintf(text, len, "%s: %s", id, e->held ? "held" :
		    "released");
		return 0;
	}
	snprintf(text, len, "unknown operation");
	return -1;
}

/* At start: every message in the spool, with its schedule. */
void
sched_init(void)
{
	char			(*ids)[QUEUE_ID_LEN + 1];
	struct queue_env	 env;
	struct timeval		 tv = { 1, 0 };
	char			 err[256];
	size_t			 n, i, bad = 0;

	if (queue_store_ids(qspool, &ids, &n) == -1)
		fatal("queue: listing the spool");
	for (i = 0; i < n; i++) {
		if (queue_store_get(qspool, qpk, qsk, ids[i], &env, err,
		    sizeof(err)) == -1) {
			log_warnx("queue event=unreadable id=%s reason=\"%s\"",
			    ids[i], err);
			bad++;
			continue;
		}
		(void)ent_new(ids[i], env.created, env.next, env.held,
		    env.warned);
		queue_env_free(&env);
	}
	free(ids);
	log_info("queue event=start messages=%zu unreadable=%zu", n - bad,
	    bad);
	ev_tick = event_new(qbase, -1, EV_PERSIST, tick, NULL);
	ev_kick = event_new(qbase, -1, 0, tick, NULL);
	if (ev_tick == NULL || ev_kick == NULL ||
	    evtimer_add(ev_tick, &tv) == -1)
		fatalx("queue: timers");
}
