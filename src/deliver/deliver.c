/* SPDX-License-Identifier: ISC */
/*
 * deliver.c - the deliver service.  It will seal messages into the
 * recipients' new/ folders (the store issue); today it answers health
 * requests.
 *
 * Process:  deliver (user _sp_deliver, jailed in the empty chroot, sandbox
 *           profile ROLE_DELIVER).
 * Trust:    sessions are untrusted peers (common/service.c drops one that
 *           sends anything malformed); the master is trusted.
 * See also: common/service.c (the loop), ipc_types.h.
 */
#include "config.h"

#include "service.h"
#include "banned.h"

static const struct service_ops deliver_ops = {
	.name = "deliver",
	.role = ROLE_DELIVER,
};

int
main(int argc, char **argv)
{
	service_main(argc, argv, &deliver_ops);
}
