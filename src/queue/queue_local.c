/* SPDX-License-Identifier: ISC */
/*
 * queue_local.c - a notification to a local sender goes straight into
 * their INBOX, never out over SMTP: auth says whether the address is an
 * account (and gives its public key), auth reserves the quota, deliver
 * stores it (the same three steps as sealpostctl deliver, control.c).
 *
 * Process:  queue, over the channels to auth and deliver the master made.
 * Trust:    auth and deliver are trusted services: a malformed reply is
 *           a bug (fatalx, the master restarts the queue).
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "queue.h"
#include "banned.h"

struct lreq {
	TAILQ_ENTRY(lreq)	 entry;
	uint32_t		 id;
	char			 rcpt[QUEUE_ADDR_MAX + 1];
	int			 bodyfd;	/* not ours: the entry's */
	uint64_t		 size;
	uint64_t		 account;
	unsigned char		 pk[32];
	int			 reserved;
	local_cb		 done;
	void			*arg;
};
TAILQ_HEAD(lreq_list, lreq);

static struct lreq_list	 lreqs = TAILQ_HEAD_INITIALIZER(lreqs);
/* ids apart from the scheduler's (the channels differ, the logs not) */
static uint32_t		 next_id = 0x80000000u;

static void
lreq_end(struct lreq *l, int result, const char *text)
{
	struct ipc_out	*out;

	TAILQ_REMOVE(&lreqs, l, entry);
	if (result != LOCAL_DELIVERED && l->reserved &&
	    queue_chan(SVC_AUTH) != NULL) {
		/* give the quota back; the answer is not waited for */
		out = ipc_out_new(IMSG_AUTH_QUOTA, 0, -1);
		ipc_add_u64(out, l->account);
		ipc_add_u64(out, l->size);
		ipc_add_u32(out, 1);
		(void)ipc_chan_send(queue_chan(SVC_AUTH), out);
	}
	l->done(l->arg, result, text);
	free(l);
}

void
local_deliver(const char *rcpt, int bodyfd, uint64_t size, local_cb done,
    void *arg)
{
	struct lreq	*l = xcalloc(1, sizeof(*l));
	struct ipc_out	*out;

	strlcpy(l->rcpt, rcpt, sizeof(l->rcpt));
	l->bodyfd = bodyfd;
	l->size = size;
	l->done = done;
	l->arg = arg;
	l->id = next_id++;
	if (next_id == 0)
		next_id = 0x80000000u;
	TAILQ_INSERT_TAIL(&lreqs, l, entry);
	out = ipc_out_new(IMSG_AUTH_RCPT, l->id, -1);
	ipc_add_str(out, rcpt);
	(void)ipc_chan_send(queue_chan(SVC_AUTH), out);
}

void
local_reply(struct ipc_msg *msg)
{
	struct lreq	*l;
	struct ipc_out	*out;
	const void	*pk;
	const char	*text, *name;
	uint64_t	 account, quota, usage;
	uint32_t	 found, ok, result;
	size_t		 pklen;
	char		 answer[320];
	int		 fd;

	TAILQ_FOREACH(l, &lreqs, entry)
		if (l->id == msg->hdr.id)
			break;
	switch (msg->hdr.type) {
	case IMSG_AUTH_RCPT:
		if (ipc_get_u32(msg, &found) == -1 ||
		    ipc_get_u64(msg, &account) == -1 ||
		    ipc_get_data(msg, &pk, &pklen) == -1 || pklen != 32 ||
		    ipc_get_u64(msg, &quota) == -1 ||
		    ipc_get_u64(msg, &usage) == -1 || ipc_end(msg) == -1)
			fatalx("queue: malformed reply from auth");
		if (l == NULL)
			return;
		if (!found) {
			lreq_end(l, LOCAL_REMOTE, "");
			return;
		}
		l->account = account;
		memcpy(l->pk, pk, sizeof(l->pk));
		out = ipc_out_new(IMSG_AUTH_QUOTA, l->id, -1);
		ipc_add_u64(out, l->account);
		ipc_add_u64(out, l->size);
		ipc_add_u32(out, 0);
		(void)ipc_chan_send(queue_chan(SVC_AUTH), out);
		return;
	case IMSG_AUTH_QUOTA:
		if (ipc_get_u32(msg, &ok) == -1 || ipc_end(msg) == -1)
			fatalx("queue: malformed reply from auth");
		if (l == NULL)
			return;		/* a release, or a request gone */
		if (!ok) {
			lreq_end(l, LOCAL_TEMP, "452 4.2.2 the mailbox is "
			    "full");
			return;
		}
		l->reserved = 1;
		if (queue_chan(SVC_DELIVER) == NULL ||
		    (fd = dup(l->bodyfd)) == -1) {
			lreq_end(l, LOCAL_TEMP, "451 4.3.0 deliver is "
			    "restarting");
			return;
		}
		out = ipc_out_new(IMSG_DELIVER_MSG, l->id, fd);
		ipc_add_u64(out, l->account);
		ipc_add_data(out, l->pk, sizeof(l->pk));
		ipc_add_str(out, "INBOX");
		ipc_add_str(out, "");
		ipc_add_str(out, l->rcpt);
		(void)ipc_chan_send(queue_chan(SVC_DELIVER), out);
		return;
	case IMSG_DELIVER_MSG:
		if (ipc_get_u32(msg, &result) == -1 ||
		    ipc_get_str(msg, &text, 256) == -1 ||
		    ipc_get_str(msg, &name, 64) == -1 || ipc_end(msg) == -1)
			fatalx("queue: malformed reply from deliver");
		if (l == NULL)
			return;
		if (result != DELIVER_OK) {
			snprintf(answer, sizeof(answer), "%s %s",
			    result == DELIVER_PERM ? "550 5.3.0" : "451 4.3.0",
			    text);
			/* a notification that cannot be stored is dropped
			 * only at the end of its lifetime, never bounced */
			lreq_end(l, LOCAL_TEMP, answer);
			return;
		}
		snprintf(answer, sizeof(answer), "250 2.0.0 stored as %s",
		    name);
		lreq_end(l, LOCAL_DELIVERED, answer);
		return;
	}
	fatalx("queue: unexpected message type %u", msg->hdr.type);
}

void
local_lost(void)
{
	struct lreq	*l;

	while ((l = TAILQ_FIRST(&lreqs)) != NULL)
		lreq_end(l, LOCAL_TEMP, "451 4.3.0 auth or deliver restarted");
}
