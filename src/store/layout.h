/* SPDX-License-Identifier: ISC */
/*
 * layout.h - where an account's mail lives and who may touch it.
 *
 *	DATA_DIR/mail/			root:root	0711
 *	DATA_DIR/mail/ID/		ACCOUNT:_sp_deliver 0710  (deliver may pass)
 *	DATA_DIR/mail/ID/new/		ACCOUNT:_sp_deliver 0770  (deliver
 *					creates files here, mode 0604: the
 *					account reads them as "other")
 *
 * new/ is group-readable because fsync of a directory needs a descriptor
 * opened for reading: durability needs it.  So deliver can list and
 * remove pending (not yet imported) entries of new/, which it wrote
 * itself; it still cannot reach blobs/ or index.db.
 *	DATA_DIR/mail/ID/blobs/		ACCOUNT:ACCOUNT	0700
 *
 * Folders are named by account id, never by address; every step is
 * opened with O_NOFOLLOW relative to its parent, so a link planted by an
 * account cannot send a root process elsewhere.
 */
#ifndef SP_LAYOUT_H
#define SP_LAYOUT_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Create what is missing of an account's folder and fix nothing that is
 * wrong: an existing entry with another type, owner or mode is an error
 * (-1, errno EEXIST or EPERM, message in err).  Run as root.
 */
int	layout_account_create(const char *data_dir, uint64_t id, uid_t uid,
	    gid_t deliver_gid, char *err, size_t errlen);
/*
 * Open DATA_DIR/mail/ID/new (O_PATH|O_DIRECTORY, O_NOFOLLOW at every
 * step) for delivery; -1 with errno.  mail_fd is an open DATA_DIR/mail.
 */
int	layout_open_new(int mail_fd, uint64_t id);

#endif
