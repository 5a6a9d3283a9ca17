/* SPDX-License-Identifier: ISC */
/*
 * queue.c - the queue service: it keeps the outbound queue.  An smtp
 * session hands it an authenticated user's message for remote
 * recipients; the queue seals it to the queue key and stores it durably
 * (queue_store.c) before it answers, and only then does the session say
 * 250.  Sending it on (the mta role, retries, bounces) is the outbound
 * issue's; until then messages wait in the spool and `sealpostctl queue
 * list|show` shows them.
 *
 * Process:  queue (user _sp_queue, DATA_DIR/queue at /mail in its jail,
 *           sandbox profile ROLE_QUEUE).  It reads DATA_DIR/keys/queue.key
 *           as root before the jail (making it on first start).
 * Trust:    sessions are untrusted peers: only submission sessions may
 *           queue, every field is bounded and checked again when the
 *           envelope is encoded, and the message must be a sealed memfd.
 *           The master is trusted.
 * Limits:   QUEUE_RCPTS_MAX recipients; QUEUE_MSG_MAX bytes.
 * See also: store/queue_store.c, smtp/smtp_txn.c, ipc_types.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "banned.h"

#define QUEUE_MSG_MAX	((size_t)1 << 31)

static unsigned char	*queue_sk;		/* sodium_malloc */
static unsigned char	 queue_pk[QUEUE_KEY_LEN];
static int		 spool_fd = -1;

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
	uint32_t		 ret, body8, utf8, n, notify, i;
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
		    notify > 15 || addr[0] == '\0') {
			queue_env_free(&env);
			return -1;
		}
		strlcpy(env.rcpts[i].addr, addr, sizeof(env.rcpts[i].addr));
		env.rcpts[i].notify = notify;
		strlcpy(env.rcpts[i].orcpt, orcpt, sizeof(env.rcpts[i].orcpt));
	}
	env.nrcpts = n;
	if (ipc_end(msg) == -1 ||
	    memfd_check_sealed(msg->fd, QUEUE_MSG_MAX, &size) == -1) {
		queue_env_free(&env);
		return -1;
	}
	env.size = size;
	if (queue_store_put(spool_fd, queue_pk, msg->fd, &env, err,
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
	}
	queue_env_free(&env);
	ipc_msg_clear(msg);		/* the handler owns the fd: close it */
	return 0;
}

static int
queue_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	if (msg->hdr.type == IMSG_QUEUE_MSG)
		return queue_msg(ss, msg);
	return -1;
}

/* Before the jail, as root: the queue key (made on the first start). */
static void
queue_preload(const struct child_args *a)
{
	char	path[1024], err[512];
	int	n;

	if (a->data_dir == NULL)
		fatalx("queue: -D DATA_DIR is required");
	if ((queue_sk = sodium_malloc(QUEUE_KEY_LEN)) == NULL)
		fatal("queue: sodium_malloc");
	n = snprintf(path, sizeof(path), "%s/keys/queue.key", a->data_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		fatalx("queue: data-dir too long");
	if (queue_key_load(path, true, queue_sk, queue_pk, err,
	    sizeof(err)) == -1)
		fatalx("queue: %s", err);
}

/* In the jail: the spool. */
static void
queue_init(struct event_base *base)
{
	(void)base;
	if ((spool_fd = open("/mail/spool", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		fatal("queue: /mail/spool");
}

static const struct service_ops queue_ops = {
	.name = "queue",
	.role = ROLE_QUEUE,
	.preload = queue_preload,
	.init = queue_init,
	.session_msg = queue_session_msg,
};

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	service_main(argc, argv, &queue_ops);
}
