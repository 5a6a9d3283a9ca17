/* SPDX-License-Identifier: ISC */
/*
 * service.c - main loop shared by the services (auth, filter, deliver,
 * queue, control).
 *
 * Process:  each service, as its own user, jailed and sandboxed.
 * Trust:    the master is trusted, but its messages are still checked:
 *           a malformed one is a bug and ends the service (the master
 *           restarts it).  Sessions are not trusted: a malformed frame or
 *           a message that makes no sense drops that session only.
 * See also: sealpostd/service.c (supervision), ipc_types.h.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc.h"
#include "ipc_types.h"
#include "child.h"
#include "service.h"
#include "banned.h"

TAILQ_HEAD(service_session_list, service_session);

static const struct service_ops		*ops;
static struct event_base		*base;
static struct ipc_chan			*master_chan;
static struct service_session_list	 sessions =
    TAILQ_HEAD_INITIALIZER(sessions);
static unsigned int			 nsessions;
static uint64_t				 served;

void
service_to_master(struct ipc_out *out)
{
	if (ipc_chan_send(master_chan, out) == -1)
		fatalx("%s: cannot queue a message to the master", ops->name);
}

static void
service_health_reply(struct ipc_chan *chan, uint32_t id)
{
	struct ipc_out	*out = ipc_out_new(IMSG_HEALTH, id, -1);

	ipc_add_str(out, ops->name);
	ipc_add_u32(out, (uint32_t)getpid());
	ipc_add_u64(out, served);
	ipc_add_u32(out, nsessions);
	(void)ipc_chan_send(chan, out);
}

/*
 * Retired: a fresh process of this service serves every new session (a
 * new policy, a new antivirus database).  The sessions this one has
 * finish here, as they started; when the last one goes, or after
 * SERVICE_RETIRE_MAX seconds at most, it exits.
 */
#define SERVICE_RETIRE_MAX	900
static int		 retired;
static struct event	*ev_retire;

static void
service_retire_check(void)
{
	if (retired && nsessions == 0) {
		log_info("%s: retired, its last session ended", ops->name);
		exit(0);
	}
}

static void
service_retire_timeout(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_info("%s: retired %d s ago, ending with %u session(s)", ops->name,
	    SERVICE_RETIRE_MAX, nsessions);
	exit(0);
}

static void
service_retire(void)
{
	struct timeval	tv = { SERVICE_RETIRE_MAX, 0 };

	if (retired)
		return;
	retired = 1;
	log_info("%s: retired, finishing %u session(s)", ops->name, nsessions);
	if ((ev_retire = evtimer_new(base, service_retire_timeout, NULL)) !=
	    NULL)
		evtimer_add(ev_retire, &tv);
	service_retire_check();
}

static void
service_session_dispatch(struct ipc_chan *chan, struct ipc_msg *msg,
    void *arg)
{
	struct service_session	*ss = arg;

	if (msg->hdr.type == IMSG_HEALTH) {
		ipc_msg_clear(msg);
		if (ipc_end(msg) == -1) {
			ipc_chan_drop(chan);
			return;
		}
		service_health_reply(chan, msg->hdr.id);
		return;
	}
	if (ops->session_msg == NULL || ops->session_msg(ss, msg) == -1) {
		ipc_msg_clear(msg);
		ipc_chan_drop(chan);
	}
}

static void
service_session_closed(struct ipc_chan *chan, int reason, void *arg)
{
	struct service_session	*ss = arg;

	(void)chan;
	if (reason == IPC_CLOSED_MALFORMED)
		log_warnx("%016" PRIx64 " %s event=malformed action=drop-session",
		    ss->connid, ops->name);
	if (ops->session_gone != NULL)
		ops->session_gone(ss);
	TAILQ_REMOVE(&sessions, ss, entry);
	nsessions--;
	free(ss);
	service_retire_check();
}

static void
service_master_dispatch(struct ipc_chan *chan, struct ipc_msg *msg,
    void *arg)
{
	struct service_session	*ss;
	const char		*client;
	uint64_t		 connid;
	uint32_t		 kind;

	(void)arg;
	switch (msg->hdr.type) {
	case IMSG_MASTER_SESSION:
		if (msg->fd == -1 || ipc_get_u64(msg, &connid) == -1 ||
		    ipc_get_u32(msg, &kind) == -1 ||
		    ipc_get_str(msg, &client, 63) == -1 ||
		    ipc_end(msg) == -1 || kind > SP_KIND_PGP)
			fatalx("%s: malformed IMSG_MASTER_SESSION", ops->name);
		ss = xcalloc(1, sizeof(*ss));
		ss->connid = connid;
		strlcpy(ss->client, client, sizeof(ss->client));
		ss->kind = (enum sp_listener_kind)kind;
		ss->chan = ipc_chan_new(base, msg->fd, IPC_PEER_SESSION,
		    service_session_dispatch, service_session_closed, ss);
		msg->fd = -1;
		TAILQ_INSERT_TAIL(&sessions, ss, entry);
		nsessions++;
		served++;
		return;
	case IMSG_HEALTH:
		ipc_msg_clear(msg);
		if (ipc_end(msg) == -1)
			fatalx("%s: malformed IMSG_HEALTH", ops->name);
		service_health_reply(chan, msg->hdr.id);
		return;
	case IMSG_MASTER_RETIRE:
		ipc_msg_clear(msg);
		if (ipc_end(msg) == -1)
			fatalx("%s: malformed IMSG_MASTER_RETIRE", ops->name);
		service_retire();
		return;
	default:
		if (ops->master_msg != NULL && ops->master_msg(msg) == 0)
			return;
		fatalx("%s: unexpected message type %u from the master",
		    ops->name, msg->hdr.type);
	}
}

static void
service_master_closed(struct ipc_chan *chan, int reason, void *arg)
{
	(void)chan;
	(void)arg;
	if (reason == IPC_CLOSED_MALFORMED)
		fatalx("%s: malformed frame from the master", ops->name);
	/* the master is gone: nothing to serve for */
	log_debug("%s: master closed the channel, exiting", ops->name);
	exit(0);
}

void
service_main(int argc, char **argv, const struct service_ops *o)
{
	struct child_args	a;
	struct sandbox_status	st;
	int			ch;

	ops = o;
	memset(&a, 0, sizeof(a));
	log_init(ops->name, LOG_DEST_MASTER, SP_FD_LOG);
	while ((ch = getopt(argc, argv, CHILD_GETOPT)) != -1)
		if (!child_getopt(ch, optarg, &a))
			fatalx("usage: %s -u UID -g GID -j JAIL [-d]",
			    ops->name);
	child_args_check(&a, ops->name);
	signal(SIGPIPE, SIG_IGN);

	/* before the jail: what opens files or creates kernel objects */
	if ((base = event_base_new()) == NULL)
		fatalx("%s: event_base_new", ops->name);
	if (ops->preload != NULL)
		ops->preload(&a);
	child_confine(&a, ops->role, ops->name, &st);

	master_chan = ipc_chan_new(base, SP_FD_MASTER, IPC_PEER_SERVICE,
	    service_master_dispatch, service_master_closed, NULL);
	if (ops->init != NULL)
		ops->init(base);
	{
		struct ipc_out	*out = ipc_out_new(IMSG_PROC_READY, 0, -1);

		ipc_add_u32(out, IPC_VERSION);
		ipc_add_str(out, ops->name);
		ipc_add_str(out, sandbox_describe(&st));
		service_to_master(out);
	}
	log_debug("%s: ready, %s", ops->name, sandbox_describe(&st));
	event_base_dispatch(base);
	fatalx("%s: event loop ended", ops->name);
}
