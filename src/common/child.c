/* SPDX-License-Identifier: ISC */
/*
 * child.c - common arguments and confinement for every child the master
 * starts (services and sessions).
 *
 * Process:  all children, while still root: this is the order STYLE.md
 *           fixes (load what is needed -> jail -> drop uid -> sandbox).
 * Trust:    argv comes from the master and is trusted.
 * See also: sandbox.c (what the sandbox allows), sealpostd/proc.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "ipc.h"
#include "ipc_types.h"
#include "child.h"
#include "banned.h"

static uint32_t
child_id(const char *arg)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(arg, 1, 4294967294LL, &errstr);
	if (errstr != NULL)
		fatalx("bad uid or gid from the master");
	return (uint32_t)v;
}

int
child_getopt(int ch, const char *arg, struct child_args *a)
{
	switch (ch) {
	case 'd':
		a->debug = 1;
		return 1;
	case 'D':
		a->data_dir = arg;
		return 1;
	case 'F':
#ifdef SP_TEST_HOOKS
		a->no_filters = 1;
		return 1;
#else
		fatalx("-F exists only in test-hooks builds");
#endif
	case 'g':
		a->gid = (gid_t)child_id(arg);
		return 1;
	case 'X':
#ifdef SP_TEST_HOOKS
		a->crash_at = arg;
		return 1;
#else
		fatalx("-X exists only in test-hooks builds");
#endif
	case 'j':
		a->jail = arg;
		return 1;
	case 'm':
		a->mailroot = arg;
		return 1;
	case 'o':
		if (a->nopt == CHILD_OPT_MAX || strchr(arg, '=') == NULL)
			fatalx("bad -o from the master");
		a->opt[a->nopt++] = arg;
		return 1;
	case 'u':
		a->uid = (uid_t)child_id(arg);
		return 1;
	}
	return 0;
}

const char *
child_opt(const struct child_args *a, const char *name)
{
	size_t	i, len = strlen(name);

	for (i = 0; i < a->nopt; i++)
		if (strncmp(a->opt[i], name, len) == 0 &&
		    a->opt[i][len] == '=')
			return a->opt[i] + len + 1;
	return NULL;
}

long long
child_opt_num(const struct child_args *a, const char *name, long long min,
    long long max, long long def)
{
	const char	*v, *errstr;
	long long	 n;

	if ((v = child_opt(a, name)) == NULL)
		return def;
	n = strtonum(v, min, max, &errstr);
	if (errstr != NULL)
		fatalx("-o %s=%s from the master: %s", name, v, errstr);
	return n;
}

void
child_args_check(const struct child_args *a, const char *name)
{
	if (a->uid == 0 || a->gid == 0 || a->jail == NULL)
		fatalx("%s: must be started by sealpostd (-u -g -j)", name);
	log_setlevel(a->debug ? LOG_DEBUG : LOG_INFO);
}

void
child_confine(const struct child_args *a, enum sp_role role, const char *name,
    struct sandbox_status *st)
{
	int	flags = 0;

	if (a->mailroot != NULL && (role == ROLE_DELIVER ||
	    role == ROLE_QUEUE)) {
		if (jail_mail_root(a->mailroot, a->jail) == -1)
			fatal("%s: mail jail %s", name, a->jail);
	} else if (a->mailroot != NULL && role == ROLE_PGP) {
		if (jail_pgp(a->mailroot, a->jail, a->uid, a->gid) == -1)
			fatal("%s: pgp jail (keyring %s)", name, a->jail);
	} else if (a->mailroot != NULL) {
		if (jail_account(a->mailroot, a->jail) == -1)
			fatal("%s: account jail", name);
	} else if (role == ROLE_FILTER) {
		const char	*v, *errstr;
		long long	 size = 256LL << 20;

		/* libclamav's temporary files: a private tmpfs at /tmp */
		if ((v = child_opt(a, "tmp-size")) != NULL) {
			size = strtonum(v, 1LL << 20, 1LL << 40, &errstr);
			if (errstr != NULL)
				fatalx("%s: bad tmp-size", name);
		}
		if (jail_private_tmp(a->jail, a->uid, a->gid,
		    (unsigned long long)size) == -1)
			fatal("%s: jail %s with a private /tmp", name, a->jail);
	} else if (jail_chroot(a->jail) == -1)
		fatal("%s: jail %s", name, a->jail);
	if (privdrop(a->uid, a->gid) == -1)
		fatal("%s: privdrop to %lu", name, (unsigned long)a->uid);
#ifdef SP_TEST_HOOKS
	if (a->no_filters)
		flags |= SANDBOX_NO_FILTERS;
#endif
	memset(st, 0, sizeof(*st));
	if (sandbox_enter(role, flags, st) == -1)
		fatal("%s: sandbox", name);
}

void
child_ready(int fd, const char *name, const struct sandbox_status *st)
{
	struct ipc_out	*out;

	out = ipc_out_new(IMSG_PROC_READY, 0, -1);
	ipc_add_u32(out, IPC_VERSION);
	ipc_add_str(out, name);
	ipc_add_str(out, sandbox_describe(st));
	if (ipc_send(fd, out) == -1)
		fatal("%s: cannot reach the master", name);
}
