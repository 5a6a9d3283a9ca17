/* SPDX-License-Identifier: ISC */
/*
 * privdrop.c - the jail (an empty chroot) and the irreversible drop from
 * root to a role's or an account's uid (see sandbox.h for the order).
 *
 * Process:  every child of the master, while still root, before
 *           sandbox_enter().
 * Trust:    the jail path and the ids come from our configuration; the
 *           jail directory itself is checked, because a directory that
 *           someone else can write is a way out of a chroot.
 * Limits:   none.
 * See also: sandbox.c (what follows), RECIPES.md 5 and 10.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "banned.h"

/* 1 when the directory open at fd has no entry besides . and .. */
static int
jail_is_empty(int fd)
{
	struct dirent	*de;
	DIR		*d;
	int		 dfd, empty = 1, saved;

	if ((dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		saved = errno;
		close(dfd);
		errno = saved;
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	saved = errno;
	closedir(d);
	if (empty && saved != 0) {
		errno = saved;
		return -1;
	}
	return empty;
}

int
jail_chroot(const char *dir)
{
	struct stat	st;
	int		fd, r, saved;

	/*
	 * SECURITY: everything below works on this one descriptor, so the
	 * directory that was checked is the one we chroot into even if the
	 * path is renamed or replaced in between.
	 */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	/*
	 * SECURITY: a jail another user can write is no jail: they could
	 * plant a directory, a device node or a hard link to a setuid
	 * binary in it.
	 */
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		errno = EPERM;
		goto fail;
	}
	/* SECURITY: nothing inside: the process can reach no file at all. */
	if ((r = jail_is_empty(fd)) == -1)
		goto fail;
	if (r == 0) {
		errno = ENOTEMPTY;
		goto fail;
	}
	if (fchdir(fd) == -1 || chroot(".") == -1 || chdir("/") == -1)
		goto fail;
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
privdrop(uid_t uid, gid_t gid)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;

	/* SECURITY: "dropping" to root would be a silent no-op. */
	if (uid == 0 || gid == 0) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * Groups first, then gid, then uid: each step needs the privilege
	 * that the next one takes away.
	 */
	if (setgroups(0, NULL) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return -1;

	/*
	 * SECURITY: do not trust the return values alone (setuid failing
	 * with EAGAIN under RLIMIT_NPROC left programs that ignored it
	 * running as root): read the ids back and prove that root cannot
	 * be regained.
	 */
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		return -1;
	if (ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid ||
	    getgroups(0, NULL) != 0) {
		errno = EPERM;
		return -1;
	}
	if (setuid(0) != -1 || setgid(0) != -1) {
		errno = EPERM;
		return -1;
	}
	errno = 0;
	return 0;
}
