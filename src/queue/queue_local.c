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
#include "ipc_deliver.h"
#include "queue.h"
#include "banned.h"

struct lreq {
	TAILQ_ENTRY(lreq)	 entry;
	uint32_t		 id;
	char			 rcpt[QUEUE_ADDR_MAX + 1];
	int			 bodyfd;	/* not ours: the entry's */
	uint64_t		 size;
	uint64_t		 account;
	unsigned char		 pk[IPC_ACCOUNT_KEY_LEN];
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
	TAILQ_REMOVE(&lreqs, l, entry);
	if (result != LOCAL_DELIVERED && l->reserved &&
	    queue_chan(SVC_AUTH) != NULL) {
		/* give the quota back; the answer is not waited for */
		(void)ipc_chan_send(queue_chan(SVC_AUTH),
		    ipc_auth_quota_req(0, l->account, l->size, 1));
	}
	l->done(l->arg, result, text);
	free(l);
}

void
local_deliver(const char *rcpt, int bodyfd, uint64_t size, local_cb done,
    void *arg)
{
	struct lreq	*l = xcalloc(1, sizeof(*l));

	strlcpy(l->rcpt, rcpt, sizeof(l->rcpt));
	l->bodyfd = bodyfd;
	l->size = size;
	l->done = done;
	l->arg = arg;
	l->id = next_id++;
	if (next_id == 0)
		next_id = 0x80000000u;
	TAILQ_INSERT_TAIL(&lreqs, l, entry);
	(void)ipc_chan_send(queue_chan(SVC_AUTH), ipc_auth_rcpt_req(l->id,
	    rcpt));
}

void
local_reply(struct ipc_msg *msg)
{
	struct lreq		*l;
	struct ipc_rcpt_info	 ri;
	const char		*text, *name;
	uint32_t		 ok, result;
	char			 answer[320];
	int			 fd;

	TAILQ_FOREACH(l, &lreqs, entry)
		if (l->id == msg->hdr.id)
			break;
	switch (msg->hdr.type) {
	case IMSG_AUTH_RCPT:
		if (ipc_auth_rcpt_reply(msg, &ri) == -1)
			fatalx("queue: malformed reply from auth");
		if (l == NULL)
			return;
		if (!ri.found) {
			lreq_end(l, LOCAL_REMOTE, "");
			return;
		}
		l->account = ri.account;
		memcpy(l->pk, ri.pk, sizeof(l->pk));
		(void)ipc_chan_send(queue_chan(SVC_AUTH),
		    ipc_auth_quota_req(l->id, l->account, l->size, 0));
		return;
	case IMSG_AUTH_QUOTA:
		if (ipc_auth_quota_reply(msg, &ok) == -1)
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
		(void)ipc_chan_send(queue_chan(SVC_DELIVER), ipc_deliver_req(
		    l->id, fd, l->account, l->pk, "INBOX", "", l->rcpt));
		return;
	case IMSG_DELIVER_MSG:
		if (ipc_deliver_reply(msg, &result, &text, &name) == -1)
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
