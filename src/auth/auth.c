/* SPDX-License-Identifier: ISC */
/*
 * auth.c - the auth service.  It will own users.db, check credentials
 * and unwrap keys (the store issue); today it answers health requests
 * from the master and from sessions.
 *
 * Process:  auth (user _sp_auth, jailed in the empty chroot, sandbox
 *           profile ROLE_AUTH).
 * Trust:    sessions are untrusted peers (common/service.c drops one that
 *           sends anything malformed); the master is trusted.
 * See also: common/service.c (the loop), ipc_types.h.
 */
#include "config.h"

#include "service.h"
#include "banned.h"

static const struct service_ops auth_ops = {
	.name = "auth",
	.role = ROLE_AUTH,
};

int
main(int argc, char **argv)
{
	service_main(argc, argv, &auth_ops);
}
