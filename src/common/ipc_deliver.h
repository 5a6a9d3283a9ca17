/* SPDX-License-Identifier: ISC */
/*
 * ipc_deliver.h - the three messages of a local delivery, asked of auth
 * and deliver by an smtp session, control (sealpostctl deliver,
 * quarantine release) and the queue (notifications to local senders):
 * "is this a local recipient" (IMSG_AUTH_RCPT), "reserve or give back
 * quota" (IMSG_AUTH_QUOTA), "store this message" (IMSG_DELIVER_MSG).
 * One builder per request and one reader per reply, so that every caller
 * encodes and checks them the same way (ipc_types.h has the layouts).
 */
#ifndef SP_IPC_DELIVER_H
#define SP_IPC_DELIVER_H

#include <stdint.h>

#include "ipc.h"

#define IPC_ACCOUNT_KEY_LEN	32	/* an account's X25519 public key */

/* IMSG_AUTH_RCPT's answer */
struct ipc_rcpt_info {
	uint32_t	found;
	uint64_t	account;
	unsigned char	pk[IPC_ACCOUNT_KEY_LEN];
	uint64_t	quota;		/* 0: none */
	uint64_t	usage;
};

struct ipc_out	*ipc_auth_rcpt_req(uint32_t id, const char *addr);
/* 0, or -1 for a malformed reply (short, overlong, a bad key length) */
int		 ipc_auth_rcpt_reply(struct ipc_msg *, struct ipc_rcpt_info *);

/* release 0: reserve bytes for account; 1: give them back */
struct ipc_out	*ipc_auth_quota_req(uint32_t id, uint64_t account,
		    uint64_t bytes, int release);
int		 ipc_auth_quota_reply(struct ipc_msg *, uint32_t *ok);

/* fd: the message, a sealed memfd (the request owns it once built) */
struct ipc_out	*ipc_deliver_req(uint32_t id, int fd, uint64_t account,
		    const unsigned char pk[IPC_ACCOUNT_KEY_LEN],
		    const char *folder, const char *sender, const char *rcpt);
/* result DELIVER_*, checked; text and name point into the message */
int		 ipc_deliver_reply(struct ipc_msg *, uint32_t *result,
		    const char **text, const char **name);

#endif
