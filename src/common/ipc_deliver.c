/* SPDX-License-Identifier: ISC */
/*
 * ipc_deliver.c - builders and readers of the local delivery messages
 * (ipc_deliver.h).
 *
 * Process:  smtp sessions, control, queue.
 * Trust:    the replies come from auth and deliver, trusted services;
 *           they are still read through the bounded getters, and a reply
 *           that does not parse is -1 (each caller decides what that
 *           means: a temporary failure, or a bug between services).
 */
#include "config.h"

#include <string.h>

#include "ipc_types.h"
#include "ipc_deliver.h"
#include "banned.h"

struct ipc_out *
ipc_auth_rcpt_req(uint32_t id, const char *addr)
{
	struct ipc_out	*out = ipc_out_new(IMSG_AUTH_RCPT, id, -1);

	ipc_add_str(out, addr);
	return out;
}

int
ipc_auth_rcpt_reply(struct ipc_msg *msg, struct ipc_rcpt_info *ri)
{
	const void	*pk;
	size_t		 pklen;

	memset(ri, 0, sizeof(*ri));
	if (ipc_get_u32(msg, &ri->found) == -1 ||
	    ipc_get_u64(msg, &ri->account) == -1 ||
	    ipc_get_data(msg, &pk, &pklen) == -1 ||
	    pklen != IPC_ACCOUNT_KEY_LEN ||
	    ipc_get_u64(msg, &ri->quota) == -1 ||
	    ipc_get_u64(msg, &ri->usage) == -1 || ipc_end(msg) == -1)
		return -1;
	memcpy(ri->pk, pk, IPC_ACCOUNT_KEY_LEN);
	return 0;
}

struct ipc_out *
ipc_auth_quota_req(uint32_t id, uint64_t account, uint64_t bytes,
    int release)
{
	struct ipc_out	*out = ipc_out_new(IMSG_AUTH_QUOTA, id, -1);

	ipc_add_u64(out, account);
	ipc_add_u64(out, bytes);
	ipc_add_u32(out, release ? 1 : 0);
	return out;
}

int
ipc_auth_quota_reply(struct ipc_msg *msg, uint32_t *ok)
{
	if (ipc_get_u32(msg, ok) == -1 || ipc_end(msg) == -1)
		return -1;
	return 0;
}

struct ipc_out *
ipc_deliver_req(uint32_t id, int fd, uint64_t account,
    const unsigned char pk[IPC_ACCOUNT_KEY_LEN], const char *folder,
    const char *sender, const char *rcpt)
{
	struct ipc_out	*out = ipc_out_new(IMSG_DELIVER_MSG, id, fd);

	ipc_add_u64(out, account);
	ipc_add_data(out, pk, IPC_ACCOUNT_KEY_LEN);
	ipc_add_str(out, folder);
	ipc_add_str(out, sender);
	ipc_add_str(out, rcpt);
	return out;
}

int
ipc_deliver_reply(struct ipc_msg *msg, uint32_t *result, const char **text,
    const char **name)
{
	if (ipc_get_u32(msg, result) == -1 ||
	    ipc_get_str(msg, text, 256) == -1 ||
	    ipc_get_str(msg, name, 64) == -1 || ipc_end(msg) == -1 ||
	    *result > DELIVER_PERM)
		return -1;
	return 0;
}
