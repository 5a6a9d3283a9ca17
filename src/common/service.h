/* SPDX-License-Identifier: ISC */
/*
 * service.h - the skeleton every long-running service shares: a libevent
 * loop, the channel to the master, one channel per session, health.
 */
#ifndef SP_SERVICE_H
#define SP_SERVICE_H

#include <sys/queue.h>

#include <event2/event.h>
#include <stdint.h>

#include "ipc.h"
#include "sandbox.h"
#include "sealpost.h"
#include "child.h"

/* A session connected to this service (its own socketpair). */
struct service_session {
	TAILQ_ENTRY(service_session)	 entry;
	uint64_t			 connid;
	enum sp_listener_kind		 kind;
	struct ipc_chan			*chan;
	char				 client[64];	/* IP, from the master */
};

struct service_ops {
	const char	*name;		/* role name */
	enum sp_role	 role;		/* sandbox profile */
	/* before the jail, as root: open what the role needs (may be NULL) */
	void		(*preload)(const struct child_args *);
	/* after the sandbox, before the loop (may be NULL) */
	void		(*init)(struct event_base *);
	/*
	 * A session message other than IMSG_HEALTH.  Return 0 when handled,
	 * -1 when it makes no sense from a session: the session is dropped.
	 * May be NULL: every such message drops the session.
	 */
	int		(*session_msg)(struct service_session *,
			    struct ipc_msg *);
	/* a session's channel closed; ss is freed after this (may be NULL) */
	void		(*session_gone)(struct service_session *);
	/*
	 * A master message other than IMSG_MASTER_SESSION and IMSG_HEALTH.
	 * Return -1 for a message this service does not take: that is a
	 * bug between trusted processes, and the service exits (fatalx) so
	 * the master restarts it.  May be NULL.
	 */
	int		(*master_msg)(struct ipc_msg *);
};

/* Parse argv, confine, run the loop.  Never returns. */
void	service_main(int argc, char **argv, const struct service_ops *)
	    __attribute__((noreturn));
/* Queue a message to the master. */
void	service_to_master(struct ipc_out *);

#endif
