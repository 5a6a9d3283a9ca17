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

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
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

/*
 * The jail directory, open and checked: a directory, root's, writable by
 * root only, empty.  The descriptor, or -1 with errno.
 */
static int
jail_open_checked(const char *dir)
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
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
jail_chroot(const char *dir)
{
	int	fd, saved;

	if ((fd = jail_open_checked(dir)) == -1)
		return -1;
	if (fchdir(fd) == -1 || chroot(".") == -1 || chdir("/") == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

int
jail_private_tmp(const char *dir, uid_t uid, gid_t gid,
    unsigned long long size)
{
	char		opts[64];
	int		fd, r, saved;

	/* SECURITY: the same checks as jail_chroot: root's, empty */
	if ((fd = jail_open_checked(dir)) == -1)
		return -1;
	close(fd);
	fd = -1;
	r = snprintf(opts, sizeof(opts), "size=%llu,nr_inodes=4096,mode=755",
	    size);
	if (r < 0 || (size_t)r >= sizeof(opts)) {
		errno = EINVAL;
		goto fail;
	}
	/* only in our own namespace: the shared empty jail stays empty */
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    opts) == -1)
		goto fail;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || mkdirat(fd, "tmp", 0700) == -1 ||
	    fchownat(fd, "tmp", uid, gid, AT_SYMLINK_NOFOLLOW) == -1)
		goto fail;
	if (fchdir(fd) == -1 || chroot(".") == -1 || chdir("/") == -1)
		goto fail;
	close(fd);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
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

/* Read-only system pieces a mail process may open lazily (RECIPES.md 9). */
static const struct {
	const char	*path;		/* on the host and inside the jail */
	unsigned long	 flags;		/* remount flags */
} jail_ro[] = {
	/* not noexec: glibc dlopens the gconv modules */
	{ "/usr/lib/x86_64-linux-gnu/gconv", MS_RDONLY | MS_NOSUID | MS_NODEV },
	{ "/usr/share/zoneinfo", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC },
};

/* mkdir -p of a path relative to the open directory dfd. */
static int
jail_mkdirs(int dfd, const char *rel)
{
	char	buf[PATH_MAX], *p;

	if (strlcpy(buf, rel, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char	c = *p;

			*p = '\0';
			if (mkdirat(dfd, buf, 0755) == -1 && errno != EEXIST)
				return -1;
			if ((*p = c) == '\0')
				return 0;
		}
	}
}

static int
jail_bind(const char *src, const char *dst, unsigned long flags)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == -1)
		return -1;
	/* the flags of a bind mount apply only on a remount */
	return mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

/*
 * Make the tmpfs mounted on mailroot the root of this mount namespace,
 * the old root detached, and the new root read-only, nosuid, nodev,
 * noexec (the mounts bound into it keep their own flags).
 */
static int
jail_pivot(const char *mailroot)
{
	if (chdir(mailroot) == -1 ||
	    syscall(SYS_pivot_root, ".", ".") == -1 ||
	    umount2(".", MNT_DETACH) == -1 || chdir("/") == -1)
		return -1;
	return mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, NULL);
}

/*
 * The jail of both: a tmpfs root with dir at /mail.  root_owned: dir is
 * DATA_DIR/mail (deliver); otherwise an account's own folder.
 */
static int
jail_mount(const char *mailroot, const char *account_dir, int root_owned)
{
	struct stat	st;
	char		dst[PATH_MAX];
	size_t		i;
	int		afd = -1, rfd = -1, n, saved;

	/* SECURITY: the account may write its folder; open it, never walk it */
	if ((afd = open(account_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(afd, &st) == -1)
		goto fail;
	if (root_owned) {
		/* DATA_DIR/mail: root's, writable by root only */
		if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
			errno = EPERM;
			goto fail;
		}
	} else if (st.st_uid == 0 || (st.st_mode & 067) != 0) {
		/* the deliver group may pass through (0710), nobody else */
		errno = EPERM;		/* not an account's private folder */
		goto fail;
	}
	if ((rfd = open(mailroot, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(rfd, &st) == -1)
		goto fail;
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		errno = EPERM;
		goto fail;
	}
	close(rfd);
	rfd = -1;
	if (fchdir(afd) == -1)
		goto fail;
	close(afd);
	afd = -1;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		goto fail;
	if (mount("tmpfs", mailroot, "tmpfs", MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, "size=16k,nr_inodes=32,mode=755") == -1)
		goto fail;
	if ((rfd = open(mailroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    mkdirat(rfd, "mail", 0755) == -1)
		goto fail;
	for (i = 0; i < sizeof(jail_ro) / sizeof(jail_ro[0]); i++)
		if (jail_mkdirs(rfd, jail_ro[i].path + 1) == -1)
			goto fail;
	close(rfd);
	rfd = -1;

	/* "." is the account folder: the cwd moved into the new namespace */
	n = snprintf(dst, sizeof(dst), "%s/mail", mailroot);
	if (n < 0 || (size_t)n >= sizeof(dst)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (jail_bind(".", dst, MS_NOSUID | MS_NODEV | MS_NOEXEC) == -1)
		goto fail;
	for (i = 0; i < sizeof(jail_ro) / sizeof(jail_ro[0]); i++) {
		n = snprintf(dst, sizeof(dst), "%s%s", mailroot,
		    jail_ro[i].path);
		if (n < 0 || (size_t)n >= sizeof(dst)) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if (access(jail_ro[i].path, F_OK) == -1)
			continue;	/* not on this system: nothing to show */
		if (jail_bind(jail_ro[i].path, dst, jail_ro[i].flags) == -1)
			goto fail;
	}
	if (jail_pivot(mailroot) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (afd != -1)
		close(afd);
	if (rfd != -1)
		close(rfd);
	errno = saved;
	return -1;
}

int
jail_account(const char *mailroot, const char *account_dir)
{
	return jail_mount(mailroot, account_dir, 0);
}

int
jail_mail_root(const char *mailroot, const char *mail_dir)
{
	return jail_mount(mailroot, mail_dir, 1);
}

/* mailroot + rel, or -1 (ENAMETOOLONG). */
static int
jail_path(char *dst, size_t len, const char *root, const char *rel)
{
	int	n = snprintf(dst, len, "%s%s", root, rel);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
jail_pgp(const char *mailroot, const char *keyring_dir, uid_t uid, gid_t gid)
{
	static const char *const links[][2] = {
		{ "bin", "usr/bin" }, { "lib", "usr/lib" },
		{ "lib64", "usr/lib64" }
	};
	struct stat	st;
	char		dst[PATH_MAX];
	size_t		i;
	int		kfd = -1, rfd = -1, fd, saved;

	/* the keyring: root's, not writable by the pgp group or others */
	if ((kfd = open(keyring_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(kfd, &st) == -1)
		goto fail;
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		errno = EPERM;
		goto fail;
	}
	if (fchdir(kfd) == -1)
		goto fail;
	/* the keys it learns (pgp_discovered_prepare): the pgp user's own */
	if (lstat("../discovered", &st) == -1)
		goto fail;
	if (!S_ISDIR(st.st_mode) || st.st_uid == 0 ||
	    (st.st_mode & 077) != 0) {
		errno = EPERM;
		goto fail;
	}
	close(kfd);
	kfd = -1;
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		goto fail;
	if (mount("tmpfs", mailroot, "tmpfs", MS_NOSUID | MS_NOEXEC,
	    "size=16k,nr_inodes=32,mode=755") == -1)
		goto fail;
	if ((rfd = open(mailroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    mkdirat(rfd, "usr", 0755) == -1 ||
	    mkdirat(rfd, "gnupg", 0755) == -1 ||
	    mkdirat(rfd, "discovered", 0755) == -1 ||
	    mkdirat(rfd, "signing", 0755) == -1 ||
	    mkdirat(rfd, "signkey", 0755) == -1 ||
	    mkdirat(rfd, "dev", 0755) == -1)
		goto fail;
	if ((fd = openat(rfd, "dev/null", O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0666)) == -1)
		goto fail;
	close(fd);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][1], rfd, links[i][0]) == -1)
			goto fail;
	close(rfd);
	rfd = -1;
	/* "." is the keyring: the cwd moved into the new namespace */
	if (jail_path(dst, sizeof(dst), mailroot, "/gnupg") == -1 ||
	    jail_bind(".", dst, MS_RDONLY | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC) == -1)
		goto fail;
	if (jail_path(dst, sizeof(dst), mailroot, "/discovered") == -1 ||
	    jail_bind("../discovered", dst, MS_NOSUID | MS_NODEV |
	    MS_NOEXEC) == -1)
		goto fail;
	if (jail_path(dst, sizeof(dst), mailroot, "/usr") == -1 ||
	    jail_bind("/usr", dst, MS_RDONLY | MS_NOSUID | MS_NODEV) == -1)
		goto fail;
	/* the device itself: a bind of a device node keeps it usable */
	if (jail_path(dst, sizeof(dst), mailroot, "/dev/null") == -1 ||
	    mount("/dev/null", dst, NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID |
	    MS_NOEXEC, NULL) == -1)
		goto fail;
	/* the signing key's home (jail_sign.c), while "." is the keyring */
	if (jail_pgp_signing(mailroot, uid, gid) == -1)
		goto fail;
	if (jail_pivot(mailroot) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (kfd != -1)
		close(kfd);
	if (rfd != -1)
		close(rfd);
	errno = saved;
	return -1;
}
