/* SPDX-License-Identifier: ISC */
/*
 * deliver.c - the deliver service: seals each message to its recipient's
 * PUBLIC key into that account's new/ folder, durably, and only then says
 * so.  It never parses a message, never reads users.db, cannot read
 * blobs/ or index.db, and never holds a private key: the account id and
 * public key come with the request (from auth, through the session).
 *
 * Process:  deliver (user _sp_deliver, group _sp_deliver; jailed in a
 *           private mount namespace holding only DATA_DIR/mail at /mail;
 *           sandbox ROLE_DELIVER: Landlock lets it create and rename files
 *           under /mail, seccomp the calls that needs).
 * Trust:    requests come from sessions (untrusted): every field is
 *           bounded, the memfd's seals are checked before its bytes are
 *           read, the account folder is reached by id with O_NOFOLLOW.
 * Limits:   DELIVER_MAX_SIZE per message.
 *           It also writes the quarantine (/mail/quarantine): messages
 *           the policy holds back, sealed to the postmaster's key.
 * See also: store/store_deliver.c (the durable write), store/layout.h
 *           (who may touch what), store/quarantine.h, common/service.c
 *           (the loop).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "memfd.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "service.h"
#include "layout.h"
#include "store_deliver.h"
#include "quarantine.h"
#include "banned.h"

#define DELIVER_MAX_SIZE	((uint64_t)64 * 1024 * 1024)

static int	mail_fd = -1;		/* /mail in our jail: DATA_DIR/mail */

static void
deliver_reply(struct service_session *ss, uint32_t id, uint32_t result,
    const char *text, const char *name)
{
	struct ipc_out	*out = ipc_out_new(IMSG_DELIVER_MSG, id, -1);

	ipc_add_u32(out, result);
	ipc_add_str(out, text);
	ipc_add_str(out, name);
	(void)ipc_chan_send(ss->chan, out);
}

/*
 * A message the policy holds back: into /mail/quarantine, sealed to the
 * postmaster's key, with its envelope and a cleartext info file.
 */
static int
deliver_quarantine(struct service_session *ss, struct ipc_msg *msg)
{
	struct queue_env	 env;
	struct quar_info	 qi;
	struct ipc_out		*out;
	const void		*pk;
	const char		*qid, *reason, *sender, *r;
	char			 err[256], esc[64];
	uint64_t		 account;
	uint32_t		 n, i, result = DELIVER_OK;
	size_t			 pklen, size;
	int			 dfd, saved;

	if (msg->fd == -1 || ipc_get_u64(msg, &account) == -1 ||
	    ipc_get_data(msg, &pk, &pklen) == -1 ||
	    ipc_get_str(msg, &qid, QUAR_QID_MAX) == -1 ||
	    ipc_get_str(msg, &reason, QUAR_REASON_MAX) == -1 ||
	    ipc_get_str(msg, &sender, QUEUE_ADDR_MAX) == -1 ||
	    ipc_get_u32(msg, &n) == -1 || pklen != crypto_box_PUBLICKEYBYTES ||
	    n == 0 || n > QUEUE_RCPTS_MAX || !quar_qid_ok(qid) ||
	    !quar_reason_ok(reason))
		return -1;
	memset(&env, 0, sizeof(env));
	env.rcpts = xcalloc(n, sizeof(*env.rcpts));
	for (i = 0; i < n; i++) {
		if (ipc_get_str(msg, &r, QUEUE_ADDR_MAX) == -1 ||
		    r[0] == '\0') {
			free(env.rcpts);
			return -1;
		}
		strlcpy(env.rcpts[i].addr, r, sizeof(env.rcpts[i].addr));
	}
	env.nrcpts = n;
	if (ipc_end(msg) == -1 ||
	    memfd_check_sealed(msg->fd, DELIVER_MAX_SIZE, &size) == -1) {
		free(env.rcpts);
		return -1;
	}
	strlcpy(env.from, sender, sizeof(env.from));
	env.size = size;
	memset(&qi, 0, sizeof(qi));
	strlcpy(qi.qid, qid, sizeof(qi.qid));
	strlcpy(qi.reason, reason, sizeof(qi.reason));
	qi.received = (int64_t)time(NULL);
	qi.size = size;
	qi.account = account;
	qi.nrcpts = n;
	if ((dfd = openat(mail_fd, QUAR_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    quarantine_put(dfd, pk, msg->fd, &env, &qi, err,
	    sizeof(err)) == -1) {
		saved = errno;
		if (dfd == -1)
			snprintf(err, sizeof(err), "%s: %s", QUAR_DIR,
			    strerror(saved));
		log_warnx("%016" PRIx64 " deliver event=quarantine id=%s "
		    "size=%zu result=fail reason=%s", ss->connid, qid, size,
		    log_esc(esc, sizeof(esc), err, strlen(err)));
		result = DELIVER_TEMP;
		env.id[0] = '\0';
	} else
		/* SECURITY: no address, subject or body in the log */
		log_info("%016" PRIx64 " deliver event=quarantine id=%s "
		    "quarantine=%s size=%zu account=%llu reason=%s result=ok",
		    ss->connid, qid, env.id, size, (unsigned long long)account,
		    reason);
	if (dfd != -1)
		close(dfd);
	free(env.rcpts);
	ipc_msg_clear(msg);
	out = ipc_out_new(IMSG_DELIVER_QUARANTINE, msg->hdr.id, -1);
	ipc_add_u32(out, result);
	ipc_add_str(out, result == DELIVER_OK ? "ok" : "write failed");
	ipc_add_str(out, env.id);
	(void)ipc_chan_send(ss->chan, out);
	return 0;
}

/* A folder name travels inside the sealed header: printable, no '/'. */
static int
deliver_folder_ok(const char *f)
{
	size_t	i, n = strlen(f);

	if (n == 0 || n > BLOB_FOLDER_MAX || f[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)f[i] < 0x20 || f[i] == 0x7f || f[i] == '/')
			return 0;
	return 1;
}

static int
deliver_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	struct blob_meta	 meta;
	const void		*pk;
	const char		*folder, *sender, *rcpt;
	char			 name[STORE_NAME_MAX], err[256], esc[64];
	uint64_t		 account;
	size_t			 pklen, size;
	int			 newfd, saved;

	if (msg->hdr.type == IMSG_DELIVER_QUARANTINE)
		return deliver_quarantine(ss, msg);
	if (msg->hdr.type != IMSG_DELIVER_MSG || msg->fd == -1)
		return -1;
	if (ipc_get_u64(msg, &account) == -1 ||
	    ipc_get_data(msg, &pk, &pklen) == -1 ||
	    ipc_get_str(msg, &folder, BLOB_FOLDER_MAX) == -1 ||
	    ipc_get_str(msg, &sender, BLOB_ADDR_MAX) == -1 ||
	    ipc_get_str(msg, &rcpt, BLOB_ADDR_MAX) == -1 ||
	    ipc_end(msg) == -1 || pklen != crypto_box_PUBLICKEYBYTES ||
	    !deliver_folder_ok(folder))
		return -1;
	/* SECURITY: the sender cannot change the bytes once we look */
	if (memfd_check_sealed(msg->fd, DELIVER_MAX_SIZE, &size) == -1) {
		ipc_msg_clear(msg);
		return -1;
	}
	memset(&meta, 0, sizeof(meta));
	meta.size = size;
	meta.delivered = (uint64_t)time(NULL);
	strlcpy(meta.folder, folder, sizeof(meta.folder));
	strlcpy(meta.sender, sender, sizeof(meta.sender));
	strlcpy(meta.rcpt, rcpt, sizeof(meta.rcpt));

	if ((newfd = layout_open_new(mail_fd, account)) == -1) {
		saved = errno;
		log_warnx("%016" PRIx64 " deliver event=deliver account=%llu "
		    "result=fail reason=no-folder errno=%d", ss->connid,
		    (unsigned long long)account, saved);
		deliver_reply(ss, msg->hdr.id, DELIVER_TEMP,
		    "account folder missing", "");
		ipc_msg_clear(msg);
		return 0;
	}
	if (store_deliver(newfd, pk, msg->fd, size, &meta, name, err,
	    sizeof(err)) == -1) {
		saved = errno;
		log_warnx("%016" PRIx64 " deliver event=deliver account=%llu "
		    "size=%zu result=fail reason=%s", ss->connid,
		    (unsigned long long)account, size,
		    log_esc(esc, sizeof(esc), err, strlen(err)));
		deliver_reply(ss, msg->hdr.id, DELIVER_TEMP, saved == ENOSPC ||
		    saved == EDQUOT ? "disk full" : "write failed", "");
	} else {
		/* SECURITY: no address, subject or body in the log */
		log_info("%016" PRIx64 " deliver event=deliver account=%llu "
		    "size=%zu blob=%s result=ok", ss->connid,
		    (unsigned long long)account, size, name);
		deliver_reply(ss, msg->hdr.id, DELIVER_OK, "ok", name);
	}
	close(newfd);
	ipc_msg_clear(msg);
	return 0;
}

/* DATA_DIR/mail, opened as root before the jail (-j names it). */
static void
deliver_preload(const struct child_args *a)
{
	if ((mail_fd = open(a->jail, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		fatal("deliver: %s", a->jail);
#ifdef SP_TEST_HOOKS
	store_test_crash_at = a->crash_at;	/* test-deliver-crash */
#endif
}

static const struct service_ops deliver_ops = {
	.name = "deliver",
	.role = ROLE_DELIVER,
	.preload = deliver_preload,
	.session_msg = deliver_session_msg,
};

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	service_main(argc, argv, &deliver_ops);
}
