/* SPDX-License-Identifier: ISC */
/*
 * sandbox.h - the jail, the privilege drop and the sandbox every child
 * enters, in this order (STYLE.md 2):
 *
 *	load what is needed (config, TLS material, event_base_new)
 *	jail_chroot(dir)		still root
 *	privdrop(uid, gid)		root is gone for good
 *	sandbox_enter(role, 0, &st)	rlimits, no-new-privs, not dumpable,
 *					Landlock (best effort), seccomp last
 *	log the level reached: sandbox_describe(&st)
 *
 * After sandbox_enter nothing can be opened by path, no socket can be
 * made and no process started; a forbidden system call ends the process
 * with SANDBOX_EXIT_VIOLATION after one "sandbox violation syscall=NR"
 * line to the master on SP_FD_LOG.
 */
#ifndef SP_SANDBOX_H
#define SP_SANDBOX_H

#include <sys/types.h>
#include <stdint.h>

/* Who is being sandboxed: picks the seccomp profile and the rlimits. */
enum sp_role {
	ROLE_SMTP,		/* sessions: one process per connection */
	ROLE_IMAP_LOGIN,
	ROLE_POP3_LOGIN,
	ROLE_AUTH,		/* services: libevent loops */
	ROLE_FILTER,
	ROLE_DELIVER,
	ROLE_QUEUE,
	ROLE_CONTROL,
	ROLE_IMAP_MAIL,		/* one user's mailbox, the account's own uid */
	ROLE_POP3_MAIL,		/* its INBOX as a POP3 maildrop, the same */
	ROLE_PGP,		/* GPGME; the only role that execs (gpg) */
	ROLE_MTA,		/* outbound SMTP: the one role with network */
	ROLE_SIGNER,		/* DKIM keys: signs for the queue */
	ROLE_MAX
};

/* Exit status of a process that tried a system call outside its list. */
#define SANDBOX_EXIT_VIOLATION	70

/* sandbox_enter flags */
#define SANDBOX_NO_FILTERS	0x01	/* test hooks only: skip seccomp and
					   Landlock, keep the rest */

/* What sandbox_enter reached. */
struct sandbox_status {
	int	landlock_abi;	/* the kernel's Landlock ABI; 0 none */
	int	landlock;	/* 1: a Landlock domain is enforced */
	int	seccomp;	/* 1: the role's seccomp filter is loaded */
};

/* privdrop.c */
/*
 * Jail the process in dir, which must be a directory owned by root, not
 * writable by group or others, and empty: chroot into it and chdir("/").
 * Needs root.  The caller must hold no descriptor of a directory outside
 * dir (it would lead out of the jail).  dir is trusted (our config).
 * 0 on success; -1 with errno (EPERM: not root-owned or writable by
 * others; ENOTEMPTY; ENOTDIR) and the process unchanged on failure.
 */
int	jail_chroot(const char *dir);
/*
 * The same jail with a private /tmp (the filter: libclamav unpacks
 * archives into files): after the same checks of dir, a private mount
 * namespace in which a tmpfs of at most size bytes (nosuid, nodev,
 * noexec) covers dir, holding only /tmp (mode 0700, owned by uid:gid);
 * then chroot into it.  What is written there lives in memory, is seen
 * by no other process and goes with this one.  -1 with errno.
 */
int	jail_private_tmp(const char *dir, uid_t uid, gid_t gid,
	    unsigned long long size);
/*
 * Drop root for good: setgroups(0, NULL), setresgid and setresuid to
 * gid and uid, then verify with getresuid/getresgid/getgroups that it
 * happened and that setuid(0) and setgid(0) now fail.  uid and gid must
 * not be 0 (EINVAL).  0 on success; -1 on any failure, after which the
 * caller must exit: the process may be half dropped.
 */
int	privdrop(uid_t uid, gid_t gid);

/*
 * Enter an account's jail (DESIGN.md, RECIPES.md 10), as root: a private
 * mount namespace whose root is a small read-only tmpfs on mailroot (an
 * empty directory owned by root), holding the account's folder at /mail
 * (read-write, nosuid, nodev, noexec) and, read-only, the gconv modules
 * and zoneinfo that GMime and glibc open lazily.  The account folder is
 * opened O_NOFOLLOW and entered with fchdir before the namespace, so no
 * path under a folder the account may write is ever followed as root.
 * -1 with errno on any failure.
 */
int	jail_account(const char *mailroot, const char *account_dir);
/*
 * The same jail for the deliver service, with DATA_DIR/mail (root's,
 * 0711) at /mail: it reaches each account's new/ through the group
 * permissions of layout.h, and nothing else.
 */
int	jail_mail_root(const char *mailroot, const char *mail_dir);
/*
 * The pgp role's jail, the one that execs a program (gpg): a private
 * mount namespace whose root is a read-only tmpfs on mailroot holding
 * /usr (read-only, nosuid, nodev: gpg and its libraries), the links
 * /bin, /lib and /lib64 into it (a merged-/usr system), /dev/null (GPGME
 * gives it to gpg), the keyring folder at /gnupg (read-only, noexec) and
 * the signing home of jail_pgp_signing.  -1 with errno on any failure.
 */
int	jail_pgp(const char *mailroot, const char *keyring_dir, uid_t uid,
	    gid_t gid);
/*
 * jail_sign.c, for jail_pgp: a tmpfs of uid:gid at mailroot/signing
 * holding gpg.conf, and when DATA_DIR/keys/signing ("../signing" from
 * the cwd, the keyring folder; root's, not writable by others) exists,
 * that folder read-only at mailroot/signkey and links to its pubring.kbx
 * and private-keys-v1.d.  0 (with or without a key), -1 with errno.
 */
int	jail_pgp_signing(const char *mailroot, uid_t uid, gid_t gid);
/* dst = root + rel (len bytes); -1 with ENAMETOOLONG when it does not fit. */
int	jail_path(char *dst, size_t len, const char *root, const char *rel);

/*
 * Before sandbox_enter: the role may connect to this TCP port (Landlock
 * ABI 4 and later; the filter's rspamd, the mta's SMTP and DNS ports; up
 * to four).  The address is the caller's business.
 */
void	sandbox_allow_connect(uint16_t port);

/* sandbox.c */
/*
 * Enter the role's sandbox; call once, while single-threaded, after
 * jail_chroot and privdrop, with everything already open that the
 * process will ever need (fds, the event_base, the SSL_CTX).  Sets the
 * role's rlimits, PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0 and a SIGSYS
 * handler, then Landlock (best effort: every access right the kernel
 * knows is handled and none granted) and last the role's seccomp
 * allow-list.  flags is 0 or SANDBOX_NO_FILTERS (tests only).  The level
 * reached goes to *st_r (may be NULL).  -1 with errno when a part that
 * must work fails (rlimits, no-new-privs, dumpable, seccomp) or on a bad
 * role or flag (EINVAL): the caller must then exit.  A kernel without
 * Landlock is not an error.
 */
int	sandbox_enter(enum sp_role role, int flags,
	    struct sandbox_status *st_r);
/*
 * "landlock=ABI7 seccomp=on" (or landlock=none: the kernel has no
 * Landlock; landlock=off: not enforced) for logs and sealpostctl status.
 * Returns a static buffer, overwritten by the next call.
 */
const char *sandbox_describe(const struct sandbox_status *st);
/* "smtp", "imap-login", ... ; "unknown" for a value out of range. */
const char *sandbox_role_name(enum sp_role role);

#endif
