/* SPDX-License-Identifier: ISC */
/*
 * filter.c - the filter service.  It will evaluate the policy and run
 * libclamav and rspamd (the filtering issue); today it answers health
 * requests.
 *
 * Process:  filter (user _sp_filter, jailed in the empty chroot, sandbox
 *           profile ROLE_FILTER).
 * Trust:    sessions are untrusted peers (common/service.c drops one that
 *           sends anything malformed); the master is trusted.
 * See also: common/service.c (the loop), ipc_types.h.
 */
#include "config.h"

#include "service.h"
#include "banned.h"

static const struct service_ops filter_ops = {
	.name = "filter",
	.role = ROLE_FILTER,
};

int
main(int argc, char **argv)
{
	service_main(argc, argv, &filter_ops);
}
