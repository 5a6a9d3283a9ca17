/* SPDX-License-Identifier: ISC */
/*
 * jail_sign.c - the signing home in the pgp role's jail (jail_pgp): the
 * organization's signing key, DATA_DIR/keys/signing, read-only at
 * /signkey, and a small tmpfs at /signing of the pgp user's own that is
 * gpg's and gpg-agent's home there (pgp/pgp_agent.c): the agent's
 * socket must be made somewhere, and it is made in the home.
 *
 *	/signing/gpg.conf		written here, root's 0644
 *	/signing/pubring.kbx		-> /signkey/pubring.kbx
 *	/signing/private-keys-v1.d	-> /signkey/private-keys-v1.d
 *	/signing/S.gpg-agent		the agent's socket (pgp_agent.c)
 *
 * The links exist only when DATA_DIR/keys/signing does: that is how the
 * pgp service knows that there is a key.
 *
 * Process:  the pgp service's child set-up, as root, in its new mount
 *           namespace before the pivot (the cwd is the keyring folder,
 *           so "../signing" is DATA_DIR/keys/signing).
 * Trust:    the signing folder is root's (sealpostctl key import
 *           --signing); one that others could write is refused.
 * Limits:   the tmpfs: JS_TMPFS_OPTS.
 * See also: privdrop.c jail_pgp, sandbox.c (ROLE_PGP's paths),
 *           sealpostctl/ctl_key_sign.c, docs/design.md.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "banned.h"

/* the agent's socket and gpg's lock-free reads need very little */
#define JS_TMPFS_OPTS	"size=64k,nr_inodes=64,mode=0700,uid=%lu,gid=%lu"

/*
 * gpg.conf of the signing home: no-autostart (pgp_agent.c starts the
 * agent), trust-model always (as the keyring), no lock files and no
 * random seed (nothing of the home is written but the socket), and the
 * keyring's public keys, to sign and encrypt in one operation.
 */
static const char js_conf[] =
	"# sealpost: the pgp service's signing home (jail_sign.c)\n"
	"no-autostart\n"
	"trust-model always\n"
	"no-permission-warning\n"
	"no-random-seed-file\n"
	"lock-never\n"
	"keyring /gnupg/pubring.kbx\n"
	/* the keys the pgp service learnt (pgp_learn.c), in the trust
	 * order's second and third place */
	"keyring /discovered/wkd/pubring.kbx\n"
	"keyring /discovered/autocrypt/pubring.kbx\n";

static int
js_path(char *dst, size_t len, const char *root, const char *rel)
{
	int	n = snprintf(dst, len, "%s%s", root, rel);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
jail_pgp_signing(const char *mailroot, uid_t uid, gid_t gid)
{
	struct stat	 st;
	char		 dst[PATH_MAX], src[64], opts[96];
	ssize_t		 w;
	int		 sfd = -1, fd = -1, saved;

	if (js_path(dst, sizeof(dst), mailroot, "/signing") == -1)
		return -1;
	snprintf(opts, sizeof(opts), JS_TMPFS_OPTS, (unsigned long)uid,
	    (unsigned long)gid);
	if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    opts) == -1)
		return -1;
	if (js_path(dst, sizeof(dst), mailroot, "/signing/gpg.conf") == -1 ||
	    (fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		goto fail;
	w = write(fd, js_conf, sizeof(js_conf) - 1);
	if (w != (ssize_t)sizeof(js_conf) - 1) {
		if (w >= 0)
			errno = EIO;
		goto fail;
	}
	close(fd);
	fd = -1;

	/* the key, when there is one: root's, written by root only */
	if ((sfd = open("../signing", O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(sfd, &st) == -1)
		goto fail;
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		errno = EPERM;
		goto fail;
	}
	/* SECURITY: the folder checked above, not a path walked again */
	snprintf(src, sizeof(src), "/proc/self/fd/%d", sfd);
	if (js_path(dst, sizeof(dst), mailroot, "/signkey") == -1 ||
	    mount(src, dst, NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
		goto fail;
	close(sfd);
	sfd = -1;
	if (js_path(dst, sizeof(dst), mailroot, "/signing/pubring.kbx") ==
	    -1 || symlink("/signkey/pubring.kbx", dst) == -1 ||
	    js_path(dst, sizeof(dst), mailroot,
	    "/signing/private-keys-v1.d") == -1 ||
	    symlink("/signkey/private-keys-v1.d", dst) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (sfd != -1)
		close(sfd);
	errno = saved;
	return -1;
}
