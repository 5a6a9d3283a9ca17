/* SPDX-License-Identifier: ISC */
/*
 * child.h - the start every child of the master shares: its common
 * arguments, then jail -> drop privileges -> sandbox, then "ready".
 */
#ifndef SP_CHILD_H
#define SP_CHILD_H

#include <sys/types.h>

#include "sandbox.h"

#define CHILD_OPT_MAX	12	/* -o options of one child */

struct child_args {
	uid_t		 uid;
	gid_t		 gid;
	const char	*jail;		/* the empty chroot, or (with
					 * mailroot) the account folder */
	const char	*mailroot;	/* account jails: the tmpfs mount point */
	const char	*data_dir;	/* auth: where users.db is (-D) */
	const char	*crash_at;	/* test hooks: -X STEP */
	const char	*opt[CHILD_OPT_MAX];	/* -o NAME=VALUE, as given */
	size_t		 nopt;
	int		 debug;
	int		 no_filters;	/* test hooks builds only */
};

#define CHILD_GETOPT	"dD:Fg:j:m:o:u:X:"

/* Take one getopt option of CHILD_GETOPT; 1 taken, 0 not ours. */
int	child_getopt(int ch, const char *arg, struct child_args *);
/*
 * The value of the master's "-o name=VALUE" for a role's own settings, or
 * NULL when it was not given.
 */
const char	*child_opt(const struct child_args *, const char *name);
/*
 * The same as a number in [min, max], or def when not given; fatalx on
 * anything else (the master checked it: a bug between trusted processes).
 */
long long	 child_opt_num(const struct child_args *, const char *name,
		    long long min, long long max, long long def);
/* After getopt: everything given?  fatalx otherwise. */
void	child_args_check(const struct child_args *, const char *name);
/*
 * Enter the jail (jail_chroot into the empty directory, or with -m
 * jail_account for a mail process), drop to uid/gid, enter the role's
 * sandbox; fatal on any
 * failure (a child that cannot be confined must not serve).  Logs the
 * level reached.
 */
void	child_confine(const struct child_args *, enum sp_role,
	    const char *name, struct sandbox_status *st_r);
/* Tell the master (blocking send on fd) that we are confined and ready. */
void	child_ready(int fd, const char *name, const struct sandbox_status *);

#endif
