/* SPDX-License-Identifier: ISC */
/*
 * layout.c - create and open account folders (see layout.h for the
 * layout and its permissions).
 *
 * Process:  sealpostctl and the master (create, as root); deliver (open).
 * Trust:    an account's own uid can write inside its folder; nothing
 *           below DATA_DIR/mail/ID is ever followed by path as root.
 * See also: deliver.c (writes into new/), docs/design.md (threat model).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "banned.h"

/* mkdirat + check: a directory of exactly this owner, group and mode. */
static int
layout_dir(int parent, const char *name, uid_t uid, gid_t gid, mode_t mode,
    char *err, size_t errlen)
{
	struct stat	st;
	int		fd;

	if (mkdirat(parent, name, mode) == 0) {
		if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			goto fail;
		/* SECURITY: chown/chmod the directory we opened, not a path */
		if (fchown(fd, uid, gid) == -1 || fchmod(fd, mode) == -1) {
			close(fd);
			goto fail;
		}
		return fd;
	}
	if (errno != EEXIST)
		goto fail;
	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		goto fail;
	if (fstat(fd, &st) == -1) {
		close(fd);
		goto fail;
	}
	if (st.st_uid != uid || st.st_gid != gid ||
	    (st.st_mode & 07777) != mode) {
		close(fd);
		snprintf(err, errlen, "%s exists with owner %lu:%lu mode %04o, "
		    "expected %lu:%lu %04o", name, (unsigned long)st.st_uid,
		    (unsigned long)st.st_gid, (unsigned)(st.st_mode & 07777),
		    (unsigned long)uid, (unsigned long)gid, (unsigned)mode);
		errno = EPERM;
		return -1;
	}
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", name, strerror(errno));
	return -1;
}

int
layout_account_create(const char *data_dir, uint64_t id, uid_t uid,
    gid_t deliver_gid, char *err, size_t errlen)
{
	char	name[24];
	int	data = -1, mail = -1, acct = -1, d = -1, ret = -1;

	if (uid == 0 || deliver_gid == 0) {
		snprintf(err, errlen, "uid and group must not be root's");
		errno = EINVAL;
		return -1;
	}
	snprintf(name, sizeof(name), "%llu", (unsigned long long)id);
	if ((data = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", data_dir, strerror(errno));
		return -1;
	}
	if ((mail = layout_dir(data, "mail", 0, 0, 0711, err, errlen)) == -1 ||
	    (acct = layout_dir(mail, name, uid, deliver_gid, 0710, err,
	    errlen)) == -1 ||
	    (d = layout_dir(acct, "new", uid, deliver_gid, 0770, err,
	    errlen)) == -1)
		goto done;
	close(d);
	if ((d = layout_dir(acct, "blobs", uid, (gid_t)uid, 0700, err,
	    errlen)) == -1)
		goto done;
	close(d);
	d = -1;
	/* durable: the new entries are in their parents */
	if (fsync(acct) == -1 || fsync(mail) == -1) {
		snprintf(err, errlen, "fsync: %s", strerror(errno));
		goto done;
	}
	ret = 0;
done:
	if (acct != -1)
		close(acct);
	if (mail != -1)
		close(mail);
	close(data);
	return ret;
}

int
layout_open_new(int mail_fd, uint64_t id)
{
	char	name[24];
	int	acct, fd, saved;

	snprintf(name, sizeof(name), "%llu", (unsigned long long)id);
	if ((acct = openat(mail_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	fd = openat(acct, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	saved = errno;
	close(acct);
	errno = saved;
	return fd;
}
