/* SPDX-License-Identifier: ISC */
/*
 * mail_quota.c - a mail process asks auth for its account's quota
 * (mail_quota.h): one request at a time, answered within
 * SP_IPC_TIMEOUT_MS, over the channel auth handed the key over.
 *
 * Trust: auth is one of ours; what it answers is checked all the same
 * (the reply's type, id and length), and a channel that fails once is
 * closed for good: later calls say -1 at once.  Auth binds the channel
 * to this account and drops it at the first request for another one.
 */
#include "config.h"

#include <stdint.h>
#include <unistd.h>

#include "log.h"
#include "ipc.h"
#include "ipc_types.h"
#include "sealpost.h"
#include "mail_quota.h"
#include "banned.h"

static int		 mq_fd = -1;
static uint64_t		 mq_account;
static uint32_t		 mq_id;
static struct ipc_msg	 mq_reply;	/* 64 KiB: not on the stack */

void
mail_quota_init(int fd, uint64_t account)
{
	mq_fd = fd;
	mq_account = account;
}

static void
mq_lost(const char *why)
{
	log_warnx("mail: quota channel to auth lost (%s): quota changes "
	    "are refused from now on", why);
	close(mq_fd);
	mq_fd = -1;
}

/* Send out, wait for its reply into *reply (the caller's to clear). */
static int
mq_call(struct ipc_out *out, uint32_t type, struct ipc_msg *reply)
{
	if (mq_fd == -1) {
		ipc_out_free(out);
		return -1;
	}
	if (ipc_send(mq_fd, out) == -1) {
		mq_lost("send");
		return -1;
	}
	if (ipc_recv(mq_fd, reply, SP_IPC_TIMEOUT_MS) != 1) {
		mq_lost("no answer");
		return -1;
	}
	if (reply->hdr.type != type || reply->hdr.id != mq_id ||
	    reply->fd != -1) {
		ipc_msg_clear(reply);
		mq_lost("malformed answer");
		return -1;
	}
	return 0;
}

static int
mq_change(uint64_t bytes, uint32_t release)
{
	struct ipc_msg	*reply = &mq_reply;
	struct ipc_out	*out;
	uint32_t	 ok;

	if (mq_fd == -1)
		return -1;
	out = ipc_out_new(IMSG_AUTH_QUOTA, ++mq_id, -1);
	ipc_add_u64(out, mq_account);
	ipc_add_u64(out, bytes);
	ipc_add_u32(out, release);
	if (mq_call(out, IMSG_AUTH_QUOTA, reply) == -1)
		return -1;
	if (ipc_get_u32(reply, &ok) == -1 || ipc_end(reply) == -1 ||
	    ok > 1) {
		mq_lost("malformed answer");
		return -1;
	}
	return (int)ok;
}

int
mail_quota_reserve(uint64_t bytes)
{
	return mq_change(bytes, 0);
}

int
mail_quota_release(uint64_t bytes)
{
	if (bytes == 0)
		return 0;
	/* auth answers 0 only when users.db failed: as bad as no auth */
	return mq_change(bytes, 1) == 1 ? 0 : -1;
}

int
mail_quota_get(uint64_t *quota_r, uint64_t *usage_r)
{
	struct ipc_msg	*reply = &mq_reply;
	uint32_t	 found;

	if (mq_fd == -1)
		return -1;
	if (mq_call(ipc_out_new(IMSG_AUTH_USAGE, ++mq_id, -1),
	    IMSG_AUTH_USAGE, reply) == -1)
		return -1;
	if (ipc_get_u32(reply, &found) == -1 ||
	    ipc_get_u64(reply, quota_r) == -1 ||
	    ipc_get_u64(reply, usage_r) == -1 || ipc_end(reply) == -1 ||
	    found != 1) {
		mq_lost(found == 0 ? "no such account" : "malformed answer");
		return -1;
	}
	return 0;
}
