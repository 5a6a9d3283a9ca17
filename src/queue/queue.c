/* SPDX-License-Identifier: ISC */
/*
 * queue.c - the queue service.  It will keep the outbound queue and
 * schedule delivery (the delivery issue); today it answers health
 * requests.
 *
 * Process:  queue (user _sp_queue, jailed in the empty chroot, sandbox
 *           profile ROLE_QUEUE).
 * Trust:    sessions are untrusted peers (common/service.c drops one that
 *           sends anything malformed); the master is trusted.
 * See also: common/service.c (the loop), ipc_types.h.
 */
#include "config.h"

#include "service.h"
#include "banned.h"

static const struct service_ops queue_ops = {
	.name = "queue",
	.role = ROLE_QUEUE,
};

int
main(int argc, char **argv)
{
	service_main(argc, argv, &queue_ops);
}
