/* SPDX-License-Identifier: ISC */
/*
 * queue.c - the queue service: it keeps the outbound queue.  An smtp
 * session hands it an authenticated user's message for remote
 * recipients; the queue seals it to the queue key and stores it durably
 * (queue_store.c) before it answers, and only then does the session say
 * 250.  The scheduler (queue_sched.c) then hands each message to the mta
 * service, retries, and sends notifications (queue_bounce.c); this file
 * is the service: its sessions, its channels to mta, auth, deliver and
 * signer
 * (made by the master), and control's requests (sealpostctl queue).
 *
 * Process:  queue (user _sp_queue, DATA_DIR/queue at /mail in its jail,
 *           sandbox profile ROLE_QUEUE).  It reads DATA_DIR/keys/queue.key
 *           as root before the jail (making it on first start).
 * Trust:    sessions are untrusted peers: only submission sessions may
 *           queue, every field is bounded and checked again when the
 *           envelope is encoded, and the message must be a sealed memfd.
 *           Control may only ask for QUEUE_CTL operations.  The mta
 *           parses network input: its replies are checked and bounded
 *           (queue_sched.c).  The master is trusted.
 * Limits:   QUEUE_RCPTS_MAX recipients; QUEUE_MSG_MAX bytes.
 * See also: store/queue_store.c, smtp/smtp_txn.c, ipc_types.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "service.h"
#include "queue_store.h"
#include "queue.h"
#include "mta_7bit.h"
#include "banned.h"

#define QUEUE_MSG_MAX	((size_t)1 << 31)

struct queue_settings	 qset = {
	.hostname = "localhost", .first_retry = 300, .retry_interval = 900,
	.lifetime = 5 * 86400, .delay_warning = 4 * 3600, .concurrency = 5,
	.rate = 0, .max_hops = 50
};
struct event_base	*qbase;
int			 qspool = -1;
unsigned char		 qpk[QUEUE_KEY_LEN];
unsigned char		*qsk;

/* channels the master made: to mta, auth, deliver (proctab_links) */
static struct ipc_chan	*svc_chan[SVC_MAX];

struct ipc_chan *
queue_chan(int svc)
{
	return svc >= 0 && svc < SVC_MAX ? svc_chan[svc] : NULL;
}

static int
queue_kind(enum sp_listener_kind k)
{
	return k == SP_LISTEN_SUBMISSION || k == SP_LISTEN_SUBMISSIONS;
}

static void
queue_reply(struct service_session *ss, uint32_t id, uint32_t result,
    const char *text)
{
	struct ipc_out	*out = ipc_out_new(IMSG_QUEUE_MSG, id, -1);

	ipc_add_u32(out, result);
	ipc_add_str(out, text);
	(void)ipc_chan_send(ss->chan, out);
}

static int
queue_msg(struct service_session *ss, struct ipc_msg *msg)
{
	struct queue_env	 env;
	const char		*from, *envid, *addr, *orcpt;
	char			 err[256];
	uint32_t		 ret, body8, utf8, n, notify, tls, i;
	size_t			 size;

	if (!queue_kind(ss->kind) || msg->fd == -1)
		return -1;
	memset(&env, 0, sizeof(env));
	if (ipc_get_str(msg, &from, QUEUE_ADDR_MAX) == -1 ||
	    ipc_get_u64(msg, &env.account) == -1 ||
	    ipc_get_u32(msg, &ret) == -1 || ipc_get_u32(msg, &body8) == -1 ||
	    ipc_get_u32(msg, &utf8) == -1 ||
	    ipc_get_str(msg, &envid, QUEUE_ENVID_MAX) == -1 ||
	    ipc_get_u32(msg, &n) == -1 || n == 0 || n > QUEUE_RCPTS_MAX ||
	    ret > 2 || body8 > 1 || utf8 > 1)
		return -1;
	strlcpy(env.from, from, sizeof(env.from));
	strlcpy(env.envid, envid, sizeof(env.envid));
	env.ret = (int)ret;
	env.body8 = (int)body8;
	env.smtputf8 = (int)utf8;
	env.rcpts = xcalloc(n, sizeof(*env.rcpts));
	for (i = 0; i < n; i++) {
		if (ipc_get_str(msg, &addr, QUEUE_ADDR_MAX) == -1 ||
		    ipc_get_u32(msg, &notify) == -1 ||
		    ipc_get_str(msg, &orcpt, QUEUE_ORCPT_MAX) == -1 ||
		    ipc_get_u32(msg, &tls) == -1 || tls > SMTP_TLS_REQUIRED ||
		    notify > 15 || addr[0] == '\0') {
			queue_env_free(&env);
			return -1;
		}
		strlcpy(env.rcpts[i].addr, addr, sizeof(env.rcpts[i].addr));
		env.rcpts[i].notify = notify;
		env.rcpts[i].tls_required = tls == SMTP_TLS_REQUIRED;
		strlcpy(env.rcpts[i].orcpt, orcpt, sizeof(env.rcpts[i].orcpt));
	}
	env.nrcpts = n;
	if (ipc_end(msg) == -1 ||
	    memfd_check_sealed(msg->fd, QUEUE_MSG_MAX, &size) == -1) {
		queue_env_free(&env);
		return -1;
	}
	env.size = size;
	if (queue_store_put(qspool, qpk, msg->fd, &env, err,
	    sizeof(err)) == -1) {
		log_warnx("%016" PRIx64 " queue event=queue result=fail "
		    "reason=%s", ss->connid, err);
		queue_reply(ss, msg->hdr.id, QUEUE_TEMP, errno == ENOSPC ||
		    errno == EDQUOT ? "insufficient storage" : "local error");
	} else {
		/* addresses stay out of the log: ids, counts and sizes */
		log_info("%016" PRIx64 " queue event=queued id=%s rcpts=%u "
		    "size=%zu", ss->connid, env.id, n, size);
		queue_reply(ss, msg->hdr.id, QUEUE_OK, env.id);
		sched_add(env.id, env.created);
	}
	queue_env_free(&env);
	ipc_msg_clear(msg);		/* the handler owns the fd: close it */
	return 0;
}

/* control: sealpostctl queue flush|hold|release|delete */
static int
queue_ctl(struct service_session *ss, struct ipc_msg *msg)
{
	struct ipc_out	*out;
	const char	*id;
	char		 text[256];
	uint32_t	 op;
	int		 r;

	if (ss->kind != SP_KIND_CONTROL || msg->fd != -1 ||
	    ipc_get_u32(msg, &op) == -1 || op > QUEUE_CTL_DELETE ||
	    ipc_get_str(msg, &id, QUEUE_ID_LEN) == -1 || ipc_end(msg) == -1)
		return -1;
	r = sched_ctl(op, id, text, sizeof(text));
	out = ipc_out_new(IMSG_QUEUE_CTL, msg->hdr.id, -1);
	ipc_add_u32(out, r == 0);
	ipc_add_str(out, text);
	(void)ipc_chan_send(ss->chan, out);
	return 0;
}

static int
queue_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	if (msg->hdr.type == IMSG_QUEUE_MSG)
		return queue_msg(ss, msg);
	if (msg->hdr.type == IMSG_QUEUE_CTL)
		return queue_ctl(ss, msg);
	return -1;
}

/* Replies on the queue's own channels: the mta's, auth's, deliver's. */
static void
queue_svc_dispatch(struct ipc_chan *chan, struct ipc_msg *msg, void *arg)
{
	(void)chan;
	(void)arg;
	switch (msg->hdr.type) {
	case IMSG_MTA_SEND:
		sched_mta_reply(msg);
		break;
	case IMSG_AUTH_RCPT:
	case IMSG_AUTH_QUOTA:
	case IMSG_DELIVER_MSG:
		local_reply(msg);
		break;
	case IMSG_SIGNER_SIGN:
		sign_reply(msg);
		break;
	default:
		fatalx("queue: unexpected message type %u from a service",
		    msg->hdr.type);
	}
	ipc_msg_clear(msg);
}

static void
queue_svc_closed(struct ipc_chan *chan, int reason, void *arg)
{
	int	svc = (int)(uintptr_t)arg;

	(void)chan;
	if (reason == IPC_CLOSED_MALFORMED && svc == SVC_MTA)
		log_warnx("queue: the mta sent a malformed message");
	svc_chan[svc] = NULL;
	if (svc == SVC_MTA)
		sched_mta_lost();
	else if (svc == SVC_SIGNER)
		sign_lost();
	else
		local_lost();
}

static int
queue_master_msg(struct ipc_msg *msg)
{
	uint32_t	svc;

	if (msg->hdr.type != IMSG_MASTER_CHANNEL)
		return -1;
	if (msg->fd == -1 || ipc_get_u32(msg, &svc) == -1 ||
	    ipc_end(msg) == -1 || (svc != SVC_MTA && svc != SVC_AUTH &&
	    svc != SVC_DELIVER && svc != SVC_SIGNER))
		return -1;
	if (svc_chan[svc] != NULL) {
		ipc_chan_free(svc_chan[svc]);
		svc_chan[svc] = NULL;
		if (svc == SVC_MTA)
			sched_mta_lost();
		else if (svc == SVC_SIGNER)
			sign_lost();
		else
			local_lost();
	}
	svc_chan[svc] = ipc_chan_new(qbase, msg->fd, IPC_PEER_SERVICE,
	    queue_svc_dispatch, queue_svc_closed, (void *)(uintptr_t)svc);
	msg->fd = -1;
	if (svc == SVC_MTA)
		sched_kick();
	return 0;
}

/* Before the jail, as root: the queue key (made on the first start). */
static void
queue_preload(const struct child_args *a)
{
	char	path[1024], err[512];
	int	n;

	if (a->data_dir == NULL)
		fatalx("queue: -D DATA_DIR is required");
	if (child_opt(a, "hostname") != NULL)
		strlcpy(qset.hostname, child_opt(a, "hostname"),
		    sizeof(qset.hostname));
	qset.first_retry = (unsigned int)child_opt_num(a, "first-retry", 1,
	    366 * 86400, qset.first_retry);
	qset.retry_interval = (unsigned int)child_opt_num(a, "retry-interval",
	    1, 366 * 86400, qset.retry_interval);
	qset.lifetime = (unsigned int)child_opt_num(a, "lifetime", 1,
	    366 * 86400, qset.lifetime);
	qset.delay_warning = (unsigned int)child_opt_num(a, "delay-warning", 0,
	    366 * 86400, qset.delay_warning);
	qset.concurrency = (unsigned int)child_opt_num(a, "concurrency", 1,
	    100, qset.concurrency);
	qset.rate = (unsigned int)child_opt_num(a, "rate", 0, 100000,
	    qset.rate);
	qset.max_hops = (unsigned int)child_opt_num(a, "max-hops", 1, 1000,
	    qset.max_hops);
	if ((qsk = sodium_malloc(QUEUE_KEY_LEN)) == NULL)
		fatal("queue: sodium_malloc");
	n = snprintf(path, sizeof(path), "%s/keys/queue.key", a->data_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		fatalx("queue: data-dir too long");
	if (queue_key_load(path, true, qsk, qpk, err,
	    sizeof(err)) == -1)
		fatalx("queue: %s", err);
	mta_7bit_init();	/* GMime, before the jail (queue_sign.c) */
}

/* In the jail: the spool. */
static void
queue_init(struct event_base *base)
{
	qbase = base;
	if ((qspool = open("/mail/spool", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		fatal("queue: /mail/spool");
	sched_init();
}

static const struct service_ops queue_ops = {
	.name = "queue",
	.role = ROLE_QUEUE,
	.preload = queue_preload,
	.init = queue_init,
	.session_msg = queue_session_msg,
	.master_msg = queue_master_msg,
};

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	service_main(argc, argv, &queue_ops);
}
