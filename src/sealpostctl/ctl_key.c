/* SPDX-License-Identifier: ISC */
/*
 * ctl_key.c - sealpostctl key: the organization's OpenPGP keyring in
 * DATA_DIR/keys/gnupg (pgp/pgp_keys.h), the public keys the server
 * encrypts mail to.  The keyring changes only through these commands.
 *
 *	key import FILE|-		armored or binary, at most 1 MiB
 *	key list [ADDRESS]
 *	key show FINGERPRINT|ADDRESS
 *	key export FINGERPRINT|ADDRESS
 *	key remove FINGERPRINT
 *
 * import reads the file into a fresh temporary GnuPG home first and
 * inspects every key there; only when every one is acceptable (public,
 * usable to encrypt to, with a mail address; for a key the keyring has
 * already, anything: its revocation or expiry must get in) are they
 * exported from it and imported into a copy of the keyring, which then
 * replaces the keyring in one rename.  remove works on a copy the same
 * way.  So gpg never writes into the keyring folder, nothing is half
 * imported, and the pgp service never sees a keyring file that is not
 * root:_sp_pgp 0640 (gpg would write pubring.kbx root:root by its
 * umask).  Changes are serialized by flock on the keyring folder.
 *
 * Process:  sealpostctl, run by root; the server need not run.  GPGME
 *           runs gpg on the keyring and on the temporary homes (in /tmp,
 *           short paths); gpg.conf says no-autostart everywhere, and
 *           gpgconf --kill gpg-agent runs on each temporary home anyway.
 * Trust:    the file to import is someone else's: bounded, read by gpg
 *           in a home of its own, never into the keyring before it is
 *           inspected.  User IDs are hostile text: printed through
 *           pgp_esc() only.  Arguments are checked (a fingerprint, or an
 *           address by pgp_address_ok) before they reach gpg.
 * Limits:   CK_FILE_MAX input bytes, CK_KEYS_MAX keys in one import.
 * See also: docs/sealpostctl.8 KEYS, pgp/pgp_keys.c.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>

#include "conf.h"
#include "pgp_keys.h"
#include "ctl_key.h"
#include "banned.h"

#define CK_FILE_MAX	(1024 * 1024)	/* key import: bytes of input */
#define CK_KEYS_MAX	1000		/* keys in one import */
#define CK_ESC_MAX	1024		/* an escaped user ID printed */
#define CK_GROUP	"_sp_pgp"	/* the pgp service reads the keyring */

/* gpg.conf of a temporary home: as the keyring's, and third-party
 * signatures (of keys we do not have) dropped on import */
#define CK_TMP_CONF	"no-autostart\ntrust-model always\n" \
			"no-permission-warning\nno-random-seed-file\n" \
			"import-options import-clean\n"

struct ck {
	struct sp_conf	*conf;
	gid_t		 gid;
	char		 home[PATH_MAX];	/* DATA_DIR/keys/gnupg */
	int		 hfd;			/* that folder */
	time_t		 now;
};

/* A temporary home pair: in/ gets the file alone, stage/ a keyring copy */
struct ck_tmp {
	char	dir[32];
	char	in[48];
	char	stage[48];
};

int
ctl_key_is_command(const char *word)
{
	return strcmp(word, "key") == 0;
}

static int
ck_usage(void)
{
	fprintf(stderr, "usage: sealpostctl [-c file] key import FILE|-\n"
	    "       sealpostctl [-c file] key list [ADDRESS]\n"
	    "       sealpostctl [-c file] key show FINGERPRINT|ADDRESS\n"
	    "       sealpostctl [-c file] key export FINGERPRINT|ADDRESS\n"
	    "       sealpostctl [-c file] key remove FINGERPRINT\n");
	return 2;
}

/* ---- temporary homes ------------------------------------------------ */

/* Remove what dfd holds, depth levels down at most; symlinks unlinked. */
static void
ck_rmtree(int dfd, int depth)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd, sub;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0 || errno != EISDIR ||
		    depth == 0)
			continue;
		if ((sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		ck_rmtree(sub, depth - 1);
		close(sub);
		(void)unlinkat(dfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* gpgconf --homedir HOME --kill gpg-agent: whatever gpg started there. */
static void
ck_kill_agent(const char *home)
{
	gpgme_engine_info_t	 e;
	const char		*gpgconf = NULL;
	pid_t			 pid;
	int			 fd, status;

	if (gpgme_get_engine_info(&e) != 0)
		return;
	for (; e != NULL; e = e->next)
		if (e->protocol == GPGME_PROTOCOL_GPGCONF)
			gpgconf = e->file_name;
	if (gpgconf == NULL)
		return;
	if ((pid = fork()) == -1)
		return;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
		}
		execl(gpgconf, "gpgconf", "--homedir", home, "--kill",
		    "gpg-agent", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

static int
ck_write_all(int fd, const void *p, size_t len)
{
	const char	*s = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A temporary home: the folder (0700) and its gpg.conf. */
static int
ck_home_make(const char *path)
{
	char	conf[64];
	int	fd, rc;

	if (mkdir(path, 0700) == -1)
		return -1;
	snprintf(conf, sizeof(conf), "%s/gpg.conf", path);
	if ((fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	rc = ck_write_all(fd, CK_TMP_CONF, sizeof(CK_TMP_CONF) - 1);
	close(fd);
	return rc;
}

static int
ck_tmp_make(struct ck_tmp *t)
{
	/* SECURITY: mkdtemp: 0700, ours; short, for gpg's socket names */
	strlcpy(t->dir, "/tmp/spkey.XXXXXX", sizeof(t->dir));
	if (mkdtemp(t->dir) == NULL) {
		fprintf(stderr, "sealpostctl: a temporary folder in /tmp: %s\n",
		    strerror(errno));
		t->dir[0] = '\0';
		return -1;
	}
	snprintf(t->in, sizeof(t->in), "%s/i", t->dir);
	snprintf(t->stage, sizeof(t->stage), "%s/k", t->dir);
	if (ck_home_make(t->in) == -1 || ck_home_make(t->stage) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", t->dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
ck_tmp_remove(struct ck_tmp *t)
{
	int	fd;

	if (t->dir[0] == '\0')
		return;
	/* no-autostart: nothing should run; make sure of it */
	ck_kill_agent(t->in);
	ck_kill_agent(t->stage);
	if ((fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		ck_rmtree(fd, 3);
		close(fd);
	}
	(void)rmdir(t->dir);
	t->dir[0] = '\0';
}

/* ---- the keyring ---------------------------------------------------- */

static int
ck_open(struct ck *ck, const char *conffile)
{
	struct group	*gr;
	char		 err[1024];
	int		 n;

	memset(ck, 0, sizeof(*ck));
	ck->hfd = -1;
	ck->now = time(NULL);
	if ((ck->conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return -1;
	}
	if ((gr = getgrnam(CK_GROUP)) == NULL) {
		fprintf(stderr, "sealpostctl: no group %s: the pgp service's "
		    "user is missing (see docs/design.md, \"Users\")\n",
		    CK_GROUP);
		return -1;
	}
	ck->gid = gr->gr_gid;
	n = snprintf(ck->home, sizeof(ck->home), "%s/%s", ck->conf->data_dir,
	    PGP_KEYRING_DIR);
	if (n < 0 || (size_t)n >= sizeof(ck->home)) {
		fprintf(stderr, "sealpostctl: data-dir too long\n");
		return -1;
	}
	if (pgp_keyring_prepare(ck->conf->data_dir, ck->gid, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "sealpostctl: the keyring: %s\n", err);
		return -1;
	}
	if ((ck->hfd = open(ck->home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", ck->home,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
ck_close(struct ck *ck)
{
	if (ck->hfd != -1)
		close(ck->hfd);
	if (ck->conf != NULL)
		conf_free(ck->conf);
}

/* One change at a time (the lock goes with the process). */
static int
ck_lock(struct ck *ck)
{
	while (flock(ck->hfd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		fprintf(stderr, "sealpostctl: lock %s: %s\n", ck->home,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static gpgme_ctx_t
ck_ctx(const char *home)
{
	gpgme_ctx_t	ctx;
	char		err[256];

	if ((ctx = pgp_ctx_new(home, err, sizeof(err))) == NULL)
		fprintf(stderr, "sealpostctl: %s\n", err);
	return ctx;
}

/* Copy every byte of in to out; -1 with errno. */
static int
ck_copy_fd(int in, int out)
{
	char	buf[65536];
	ssize_t	n;

	for (;;) {
		if ((n = read(in, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		if (ck_write_all(out, buf, (size_t)n) == -1)
			return -1;
	}
}

/* The keyring's pubring.kbx into the stage home. */
static int
ck_stage(struct ck *ck, const struct ck_tmp *t)
{
	char	path[64];
	int	in, out, rc;

	snprintf(path, sizeof(path), "%s/pubring.kbx", t->stage);
	if ((in = openat(ck->hfd, "pubring.kbx", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		fprintf(stderr, "sealpostctl: %s/pubring.kbx: %s\n", ck->home,
		    strerror(errno));
		return -1;
	}
	if ((out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path,
		    strerror(errno));
		close(in);
		return -1;
	}
	if ((rc = ck_copy_fd(in, out)) == -1)
		fprintf(stderr, "sealpostctl: copy of the keyring: %s\n",
		    strerror(errno));
	close(in);
	close(out);
	return rc;
}

/*
 * The stage's pubring.kbx becomes the keyring's: written under a
 * temporary name, root:_sp_pgp 0640 before it has a byte, fsynced,
 * renamed over pubring.kbx, the folder fsynced.  A reader (the pgp
 * service) sees the old keyring or the new one, always readable.
 */
static int
ck_install(struct ck *ck, const struct ck_tmp *t)
{
	char	path[64], tmp[64];
	int	in, out = -1, rc = -1;

	snprintf(path, sizeof(path), "%s/pubring.kbx", t->stage);
	snprintf(tmp, sizeof(tmp), ".pubring.kbx.%ld.tmp", (long)getpid());
	if ((in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	(void)unlinkat(ck->hfd, tmp, 0);
	if ((out = openat(ck->hfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    fchown(out, 0, ck->gid) == -1 || fchmod(out, 0640) == -1 ||
	    ck_copy_fd(in, out) == -1 || fsync(out) == -1 ||
	    renameat(ck->hfd, tmp, ck->hfd, "pubring.kbx") == -1 ||
	    fsync(ck->hfd) == -1) {
		fprintf(stderr, "sealpostctl: %s/pubring.kbx: %s\n", ck->home,
		    strerror(errno));
		(void)unlinkat(ck->hfd, tmp, 0);
		goto done;
	}
	rc = 0;
done:
	if (out != -1)
		close(out);
	close(in);
	return rc;
}

/* ---- keys ----------------------------------------------------------- */

/* Does a user ID of key (any, revoked too) have exactly address? */
static int
ck_key_has_address(gpgme_key_t key, const char *address)
{
	gpgme_user_id_t	uid;

	for (uid = key->uids; uid != NULL; uid = uid->next)
		if (uid->address != NULL &&
		    strcasecmp(uid->address, address) == 0)
			return 1;
	return 0;
}

/* Is fpr the key's primary or a subkey's fingerprint? 2 / 1 / 0. */
static int
ck_key_has_fpr(gpgme_key_t key, const char *fpr)
{
	gpgme_subkey_t	sk;

	for (sk = key->subkeys; sk != NULL; sk = sk->next)
		if (sk->fpr != NULL && strcasecmp(sk->fpr, fpr) == 0)
			return sk == key->subkeys ? 2 : 1;
	return 0;
}

static void
ck_keys_free(gpgme_key_t *keys, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		gpgme_key_unref(keys[i]);
	free(keys);
}

/*
 * The keys of ctx: all (arg NULL), those with fingerprint arg (primary or
 * subkey), or those with a user ID of address arg.  NULL-terminated array
 * in *keys_r, count in *n_r.  0, or -1 (said why).
 */
static int
ck_keys(gpgme_ctx_t ctx, const char *arg, gpgme_key_t **keys_r,
    size_t *n_r)
{
	gpgme_key_t	 key, *keys = NULL, *nk;
	gpgme_error_t	 e;
	char		 pattern[PGP_ADDRESS_MAX + 3];
	size_t		 n = 0, cap = 0;
	int		 by_fpr = arg != NULL && pgp_fpr_ok(arg);

	if (arg != NULL)
		snprintf(pattern, sizeof(pattern), by_fpr ? "%s" : "<%s>",
		    arg);
	if ((e = gpgme_op_keylist_start(ctx, arg != NULL ? pattern : NULL,
	    0)) != 0) {
		fprintf(stderr, "sealpostctl: the keyring: %s\n",
		    gpgme_strerror(e));
		return -1;
	}
	while ((e = gpgme_op_keylist_next(ctx, &key)) == 0) {
		if (key->subkeys == NULL || key->subkeys->fpr == NULL ||
		    (arg != NULL && (by_fpr ? !ck_key_has_fpr(key, arg) :
		    !ck_key_has_address(key, arg)))) {
			gpgme_key_unref(key);
			continue;
		}
		if (n + 1 >= cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nk = reallocarray(keys, cap, sizeof(*keys))) ==
			    NULL) {
				gpgme_key_unref(key);
				(void)gpgme_op_keylist_end(ctx);
				ck_keys_free(keys, n);
				fprintf(stderr, "sealpostctl: out of memory\n");
				return -1;
			}
			keys = nk;
		}
		keys[n++] = key;
		keys[n] = NULL;
	}
	if (gpg_err_code(e) != GPG_ERR_EOF) {
		(void)gpgme_op_keylist_end(ctx);
		ck_keys_free(keys, n);
		fprintf(stderr, "sealpostctl: the keyring: %s\n",
		    gpgme_strerror(e));
		return -1;
	}
	*keys_r = keys;
	*n_r = n;
	return 0;
}

static void
ck_caps(gpgme_subkey_t sk, char *buf, size_t len)
{
	buf[0] = '\0';
	if (sk->can_sign)
		strlcat(buf, ",sign", len);
	if (sk->can_certify)
		strlcat(buf, ",certify", len);
	if (sk->can_encrypt)
		strlcat(buf, ",encrypt", len);
	if (sk->can_authenticate)
		strlcat(buf, ",authenticate", len);
	if (buf[0] == '\0')
		strlcpy(buf, ",none", len);
	memmove(buf, buf + 1, strlen(buf));
}

/* What import prints for a key it took (the merged key, for updated). */
static void
ck_print_imported(struct ck *ck, gpgme_key_t key, const char *word)
{
	struct pgp_key_desc	d;
	gpgme_user_id_t		uid;
	char			esc[CK_ESC_MAX], why[PGP_WHY_MAX];

	pgp_key_describe(key, &d);
	printf("%s %s\n", word, d.fpr);
	for (uid = key->uids; uid != NULL; uid = uid->next)
		printf("  user ID:   %s%s\n", pgp_esc(esc, sizeof(esc),
		    uid->uid != NULL ? uid->uid : ""), uid->revoked &&
		    !key->revoked ? " (revoked)" : uid->invalid ?
		    " (invalid)" : "");
	printf("  algorithm: %s\n  created:   %s\n  expires:   %s\n",
	    d.algo, d.created, d.expires);
	/* only an update can make it so (a revocation, an earlier expiry) */
	if (!pgp_key_usable(key, ck->now, why, sizeof(why)))
		printf("  status:    not usable: %s\n", why);
}

/* Does key have a user ID that counts with a mail address? */
static int
ck_key_addressed(gpgme_key_t key)
{
	gpgme_user_id_t	uid;

	for (uid = key->uids; uid != NULL; uid = uid->next)
		if (uid->address != NULL && uid->address[0] != '\0' &&
		    pgp_uid_counts(key, uid))
			return 1;
	return 0;
}

/* FILE or - into a buffer of at most CK_FILE_MAX bytes. */
static int
ck_read_input(const char *arg, const char *shown, char **buf_r,
    size_t *len_r)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	if (strcmp(arg, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(arg, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", shown,
		    strerror(errno));
		return -1;
	}
	if ((buf = malloc(CK_FILE_MAX + 1)) == NULL) {
		fprintf(stderr, "sealpostctl: out of memory\n");
		goto fail;
	}
	/* one byte past the limit tells a file too large from one at it */
	while (len <= CK_FILE_MAX && (n = read(fd, buf + len,
	    CK_FILE_MAX + 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sealpostctl: %s: %s\n", shown,
			    strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (len > CK_FILE_MAX) {
		fprintf(stderr, "sealpostctl: %s: larger than 1 MiB: not a "
		    "public key file\n", shown);
		goto fail;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*buf_r = buf;
	*len_r = len;
	return 0;
fail:
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return -1;
}

/*
 * The file alone in the in/ home: 0 when it holds only public keys gpg
 * read whole; -1 (said why).
 */
static int
ck_import_read(gpgme_ctx_t ctx, const char *shown, const char *buf,
    size_t len)
{
	gpgme_data_t		 d;
	gpgme_import_result_t	 r;
	gpgme_import_status_t	 s;
	gpgme_error_t		 e;
	int			 nkeys = 0;

	if ((e = gpgme_data_new_from_mem(&d, buf, len, 0)) != 0) {
		fprintf(stderr, "sealpostctl: %s: %s\n", shown,
		    gpgme_strerror(e));
		return -1;
	}
	e = gpgme_op_import(ctx, d);
	gpgme_data_release(d);
	if (e != 0) {
		fprintf(stderr, "sealpostctl: %s: %s\n", shown,
		    gpgme_strerror(e));
		return -1;
	}
	if ((r = gpgme_op_import_result(ctx)) == NULL) {
		fprintf(stderr, "sealpostctl: %s: no import result from gpg\n",
		    shown);
		return -1;
	}
	/*
	 * SECURITY: a secret key never enters the keyring.  Without an agent
	 * gpg fails on the secret part but imports the public part and
	 * counts the secret key as read: GPGME returns no error.
	 */
	if (r->secret_read > 0 || r->secret_imported > 0) {
		fprintf(stderr, "sealpostctl: %s holds a secret key: import "
		    "public keys only (gpg --export, not "
		    "--export-secret-keys)\n", shown);
		return -1;
	}
	for (s = r->imports; s != NULL; s = s->next) {
		if (s->result != 0) {
			fprintf(stderr, "sealpostctl: %s: key %s: %s\n", shown,
			    s->fpr != NULL ? s->fpr : "?",
			    gpgme_strerror(s->result));
			return -1;
		}
		nkeys++;
	}
	if (r->no_user_id > 0) {
		fprintf(stderr, "sealpostctl: %s: %d key%s in it without a "
		    "valid user ID\n", shown, r->no_user_id,
		    r->no_user_id == 1 ? "" : "s");
		return -1;
	}
	if (r->skipped_v3_keys > 0) {
		fprintf(stderr, "sealpostctl: %s: %d version 3 key%s in it "
		    "(not supported)\n", shown, r->skipped_v3_keys,
		    r->skipped_v3_keys == 1 ? "" : "s");
		return -1;
	}
	if (r->not_imported > 0) {
		fprintf(stderr, "sealpostctl: %s: %d key%s in it could not be "
		    "read\n", shown, r->not_imported,
		    r->not_imported == 1 ? "" : "s");
		return -1;
	}
	if (nkeys == 0) {
		fprintf(stderr, "sealpostctl: %s: no OpenPGP key in it\n",
		    shown);
		return -1;
	}
	return 0;
}

/* Is the key with this primary fingerprint in the keyring?  1, 0, -1. */
static int
ck_known(gpgme_ctx_t ring, const char *fpr)
{
	gpgme_key_t	*keys = NULL;
	size_t		 n = 0, i;
	int		 found = 0;

	if (ck_keys(ring, fpr, &keys, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (ck_key_has_fpr(keys[i], fpr) == 2)
			found = 1;
	if (keys != NULL)
		ck_keys_free(keys, n);
	return found;
}

/*
 * Every key of the in/ home acceptable?  The number of refusals, or -1.
 * A key the keyring has already is an update: what it brings (a new
 * user ID, a new expiry, its revocation) is taken even when it makes the
 * key unusable: a revocation must reach the keyring, not be refused.
 */
static int
ck_import_inspect(struct ck *ck, gpgme_ctx_t ring, const char *shown,
    gpgme_key_t *keys, size_t n)
{
	char	why[PGP_WHY_MAX];
	size_t	i;
	int	bad = 0, known;

	for (i = 0; i < n; i++) {
		if ((known = ck_known(ring, keys[i]->subkeys->fpr)) == -1)
			return -1;
		if (known)
			continue;
		if (!pgp_key_usable(keys[i], ck->now, why, sizeof(why))) {
			fprintf(stderr, "sealpostctl: %s: %s: %s\n", shown,
			    keys[i]->subkeys->fpr, why);
			bad++;
		} else if (!ck_key_addressed(keys[i])) {
			fprintf(stderr, "sealpostctl: %s: %s: no user ID "
			    "with a mail address\n", shown,
			    keys[i]->subkeys->fpr);
			bad++;
		}
	}
	return bad;
}

static int
ck_import(struct ck *ck, const char *arg)
{
	struct ck_tmp		 t;
	gpgme_ctx_t		 in = NULL, stage = NULL, ring = NULL;
	gpgme_data_t		 exp = NULL;
	gpgme_import_result_t	 r;
	gpgme_import_status_t	 s;
	gpgme_key_t		*keys = NULL, key;
	gpgme_error_t		 e;
	const char		*shown = strcmp(arg, "-") == 0 ?
				    "standard input" : arg;
	char			*buf = NULL;
	unsigned int		*status = NULL;
	size_t			 len, n = 0, i, changed = 0, dups = 0;
	int			 rc = 1, bad;

	memset(&t, 0, sizeof(t));
	if (ck_read_input(arg, shown, &buf, &len) == -1)
		return 1;
	if (ck_lock(ck) == -1 || ck_tmp_make(&t) == -1 ||
	    (in = ck_ctx(t.in)) == NULL || (stage = ck_ctx(t.stage)) == NULL)
		goto done;

	/* 1. the file alone, in a home of its own */
	if (ck_import_read(in, shown, buf, len) == -1 ||
	    ck_keys(in, NULL, &keys, &n) == -1)
		goto done;
	if (n == 0) {
		fprintf(stderr, "sealpostctl: %s: no OpenPGP key in it\n",
		    shown);
		goto done;
	}
	if (n > CK_KEYS_MAX) {
		fprintf(stderr, "sealpostctl: %s: more than %d keys in it\n",
		    shown, CK_KEYS_MAX);
		goto done;
	}
	if ((ring = ck_ctx(ck->home)) == NULL ||
	    (bad = ck_import_inspect(ck, ring, shown, keys, n)) == -1)
		goto done;
	if (bad > 0) {
		fprintf(stderr, "sealpostctl: %s: nothing imported\n", shown);
		goto done;
	}

	/* 2. what gpg kept of it, into a copy of the keyring */
	if ((e = gpgme_data_new(&exp)) != 0 ||
	    (e = gpgme_op_export(in, NULL, 0, exp)) != 0 ||
	    gpgme_data_seek(exp, 0, SEEK_SET) == -1) {
		fprintf(stderr, "sealpostctl: %s: export: %s\n", shown,
		    e != 0 ? gpgme_strerror(e) : strerror(errno));
		goto done;
	}
	if (ck_stage(ck, &t) == -1)
		goto done;
	if ((e = gpgme_op_import(stage, exp)) != 0 ||
	    (r = gpgme_op_import_result(stage)) == NULL) {
		fprintf(stderr, "sealpostctl: %s: import: %s\n", shown,
		    e != 0 ? gpgme_strerror(e) : "no result");
		goto done;
	}
	if ((status = calloc(n, sizeof(*status))) == NULL) {
		fprintf(stderr, "sealpostctl: out of memory\n");
		goto done;
	}
	for (i = 0; i < n; i++) {
		for (s = r->imports; s != NULL; s = s->next)
			if (s->fpr != NULL &&
			    strcasecmp(s->fpr, keys[i]->subkeys->fpr) == 0)
				break;
		if (s == NULL || s->result != 0) {
			fprintf(stderr, "sealpostctl: %s: %s: %s\n", shown,
			    keys[i]->subkeys->fpr, s == NULL ? "not taken by "
			    "gpg" : gpgme_strerror(s->result));
			fprintf(stderr, "sealpostctl: %s: nothing imported\n",
			    shown);
			goto done;
		}
		status[i] = s->status;
		if (s->status != 0)
			changed++;
	}

	/* 3. the copy becomes the keyring */
	if (changed > 0 && ck_install(ck, &t) == -1) {
		fprintf(stderr, "sealpostctl: %s: nothing imported\n", shown);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (status[i] == 0) {
			fprintf(stderr, "sealpostctl: %s is already in the "
			    "keyring\n", keys[i]->subkeys->fpr);
			dups++;
			continue;
		}
		if (gpgme_get_key(stage, keys[i]->subkeys->fpr, &key, 0) != 0) {
			printf("%s %s\n", status[i] & GPGME_IMPORT_NEW ?
			    "imported" : "updated", keys[i]->subkeys->fpr);
			continue;
		}
		ck_print_imported(ck, key, status[i] & GPGME_IMPORT_NEW ?
		    "imported" : "updated");
		gpgme_key_unref(key);
	}
	rc = dups > 0 ? 1 : 0;
done:
	if (exp != NULL)
		gpgme_data_release(exp);
	if (keys != NULL)
		ck_keys_free(keys, n);
	if (in != NULL)
		gpgme_release(in);
	if (stage != NULL)
		gpgme_release(stage);
	if (ring != NULL)
		gpgme_release(ring);
	ck_tmp_remove(&t);
	free(status);
	free(buf);
	return rc;
}

/* ---- list, show, export, remove --------------------------------------- */

struct ck_line {
	gpgme_key_t	 key;
	const char	*address;	/* GPGME's, unescaped */
	int		 uid_revoked;
};

static int
ck_line_cmp(const void *a, const void *b)
{
	const struct ck_line	*x = a, *y = b;
	int			 c;

	if ((c = strcasecmp(x->address, y->address)) != 0)
		return c;
	if (x->key->subkeys->timestamp != y->key->subkeys->timestamp)
		return x->key->subkeys->timestamp >
		    y->key->subkeys->timestamp ? -1 : 1;
	return strcmp(x->key->subkeys->fpr, y->key->subkeys->fpr);
}

static int
ck_list(struct ck *ck, const char *address)
{
	gpgme_ctx_t		 ctx;
	gpgme_key_t		*keys = NULL;
	gpgme_user_id_t		 uid;
	struct ck_line		*lines = NULL, *nl;
	struct pgp_key_desc	 d;
	char			 esc[CK_ESC_MAX], why[PGP_WHY_MAX];
	size_t			 n = 0, nlines = 0, i;
	int			 rc = 1;

	if ((ctx = ck_ctx(ck->home)) == NULL)
		return 1;
	if (ck_keys(ctx, address, &keys, &n) == -1)
		goto done;
	for (i = 0; i < n; i++) {
		for (uid = keys[i]->uids; uid != NULL; uid = uid->next) {
			if (uid->address == NULL || uid->address[0] == '\0' ||
			    (address != NULL &&
			    strcasecmp(uid->address, address) != 0))
				continue;
			if ((nl = reallocarray(lines, nlines + 1,
			    sizeof(*lines))) == NULL) {
				fprintf(stderr, "sealpostctl: out of memory\n");
				goto done;
			}
			lines = nl;
			lines[nlines].key = keys[i];
			lines[nlines].address = uid->address;
			lines[nlines].uid_revoked = !pgp_uid_counts(keys[i],
			    uid);
			nlines++;
		}
	}
	if (nlines == 0) {
		if (address == NULL && n == 0) {
			printf("the keyring is empty\n");
			rc = 0;
		} else if (address == NULL) {
			printf("no key in the keyring has a mail address\n");
			rc = 0;
		} else
			fprintf(stderr, "sealpostctl: no key for %s\n",
			    address);
		goto done;
	}
	qsort(lines, nlines, sizeof(*lines), ck_line_cmp);
	printf("%-32s %-40s %-16s %-10s %-10s %s\n", "ADDRESS", "FINGERPRINT",
	    "ALGORITHM", "CREATED", "EXPIRES", "STATUS");
	for (i = 0; i < nlines; i++) {
		pgp_key_describe(lines[i].key, &d);
		if (lines[i].uid_revoked)
			snprintf(why, sizeof(why), "user ID revoked");
		else if (pgp_key_usable(lines[i].key, ck->now, why,
		    sizeof(why)))
			snprintf(why, sizeof(why), "usable");
		printf("%-32s %-40s %-16s %-10s %-10s %s\n",
		    pgp_esc(esc, sizeof(esc), lines[i].address), d.fpr, d.algo,
		    d.created, d.expires, why);
	}
	rc = 0;
done:
	free(lines);
	if (keys != NULL)
		ck_keys_free(keys, n);
	gpgme_release(ctx);
	return rc;
}

static void
ck_print_key(struct ck *ck, gpgme_key_t key)
{
	struct pgp_key_desc	 d;
	gpgme_user_id_t		 uid;
	gpgme_subkey_t		 sk;
	char			 esc[CK_ESC_MAX], why[PGP_WHY_MAX];
	char			 caps[64], created[PGP_DATE_MAX];
	char			 expires[PGP_DATE_MAX], *algo;
	const char		*state;

	pgp_key_describe(key, &d);
	printf("key:       %s\n", d.fpr);
	if (pgp_key_usable(key, ck->now, why, sizeof(why)))
		printf("status:    usable\n");
	else
		printf("status:    not usable: %s\n", why);
	printf("algorithm: %s\ncreated:   %s\nexpires:   %s\n", d.algo,
	    d.created, d.expires);
	for (uid = key->uids; uid != NULL; uid = uid->next) {
		state = uid->invalid ? " (invalid)" : uid->revoked ?
		    " (revoked)" : "";
		printf("user ID:   %s%s\n", pgp_esc(esc, sizeof(esc),
		    uid->uid != NULL ? uid->uid : ""), state);
	}
	for (sk = key->subkeys; sk != NULL; sk = sk->next) {
		ck_caps(sk, caps, sizeof(caps));
		pgp_date(sk->timestamp, created, sizeof(created));
		pgp_date(sk->expires, expires, sizeof(expires));
		algo = gpgme_pubkey_algo_string(sk);
		state = sk->revoked ? ", revoked" : sk->expired ||
		    (sk->expires != 0 && sk->expires <= ck->now) ?
		    ", expired" : sk->invalid ? ", invalid" : sk->disabled ?
		    ", disabled" : "";
		printf("%s %s %s %s, created %s, expires %s%s\n",
		    sk == key->subkeys ? "primary:  " : "subkey:   ",
		    sk->fpr != NULL ? sk->fpr : "?", algo != NULL ? algo : "?",
		    caps, created, expires, state);
		gpgme_free(algo);
	}
}

/* FINGERPRINT or ADDRESS as given: its keys (none: said so, -1). */
static int
ck_find(gpgme_ctx_t ctx, const char *arg, gpgme_key_t **keys_r,
    size_t *n_r)
{
	if (ck_keys(ctx, arg, keys_r, n_r) == -1)
		return -1;
	if (*n_r == 0) {
		if (pgp_fpr_ok(arg))
			fprintf(stderr, "sealpostctl: %s is not in the "
			    "keyring\n", arg);
		else
			fprintf(stderr, "sealpostctl: no key for %s\n", arg);
		free(*keys_r);
		*keys_r = NULL;
		return -1;
	}
	return 0;
}

static int
ck_show(struct ck *ck, const char *arg)
{
	gpgme_ctx_t	 ctx;
	gpgme_key_t	*keys = NULL, key;
	char		 why[PGP_WHY_MAX];
	size_t		 n = 0, i;
	int		 rc = 1, r;

	if ((ctx = ck_ctx(ck->home)) == NULL)
		return 1;
	if (ck_find(ctx, arg, &keys, &n) == -1)
		goto done;
	for (i = 0; i < n; i++) {
		if (i > 0)
			printf("\n");
		ck_print_key(ck, keys[i]);
	}
	if (!pgp_fpr_ok(arg)) {
		/* what the pgp service would choose */
		r = pgp_key_for(ctx, arg, ck->now, &key, why, sizeof(why));
		if (r == 1) {
			printf("\nmail to %s is encrypted to %s\n", arg,
			    key->subkeys->fpr);
			gpgme_key_unref(key);
		} else if (r == 0)
			printf("\nmail to %s: no usable key (%s)\n", arg, why);
		else {
			fprintf(stderr, "sealpostctl: the keyring: %s\n", why);
			goto done;
		}
	}
	rc = 0;
done:
	if (keys != NULL)
		ck_keys_free(keys, n);
	gpgme_release(ctx);
	return rc;
}

static int
ck_export(struct ck *ck, const char *arg)
{
	gpgme_ctx_t	 ctx;
	gpgme_key_t	*keys = NULL;
	gpgme_data_t	 d = NULL;
	gpgme_error_t	 e;
	char		 buf[8192];
	size_t		 n = 0;
	ssize_t		 got;
	int		 rc = 1;

	if ((ctx = ck_ctx(ck->home)) == NULL)
		return 1;
	if (ck_find(ctx, arg, &keys, &n) == -1)
		goto done;
	gpgme_set_armor(ctx, 1);
	if ((e = gpgme_data_new(&d)) != 0 ||
	    (e = gpgme_op_export_keys(ctx, keys, 0, d)) != 0) {
		fprintf(stderr, "sealpostctl: export: %s\n", gpgme_strerror(e));
		goto done;
	}
	if (gpgme_data_seek(d, 0, SEEK_SET) == -1) {
		fprintf(stderr, "sealpostctl: export: %s\n", strerror(errno));
		goto done;
	}
	while ((got = gpgme_data_read(d, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)got, stdout) != (size_t)got)
			break;
	if (got < 0 || fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "sealpostctl: export: %s\n", strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (d != NULL)
		gpgme_data_release(d);
	if (keys != NULL)
		ck_keys_free(keys, n);
	gpgme_release(ctx);
	return rc;
}

/*
 * Every key of stage exported and imported into a new home t->dir/c
 * (a fresh keybox), which becomes t's stage.  0, or -1 (said why).
 */
static int
ck_compact(gpgme_ctx_t stage, struct ck_tmp *t)
{
	gpgme_ctx_t	 fresh = NULL;
	gpgme_data_t	 d = NULL;
	gpgme_error_t	 e;
	unsigned char	 kbx[32];
	char		 home[sizeof(t->stage)], path[sizeof(t->stage) + 16];
	int		 fd, rc = -1;

	snprintf(home, sizeof(home), "%s/c", t->dir);
	snprintf(path, sizeof(path), "%s/pubring.kbx", home);
	pgp_kbx_header(kbx, time(NULL));
	if (ck_home_make(home) == -1 || (fd = open(path, O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", home, strerror(errno));
		return -1;
	}
	if (ck_write_all(fd, kbx, sizeof(kbx)) == -1 || close(fd) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((e = gpgme_data_new(&d)) != 0 ||
	    (e = gpgme_op_export(stage, NULL, 0, d)) != 0) {
		fprintf(stderr, "sealpostctl: export: %s\n", gpgme_strerror(e));
		goto done;
	}
	if (gpgme_data_seek(d, 0, SEEK_END) > 0) {
		(void)gpgme_data_seek(d, 0, SEEK_SET);
		if ((fresh = ck_ctx(home)) == NULL)
			goto done;
		if ((e = gpgme_op_import(fresh, d)) != 0) {
			fprintf(stderr, "sealpostctl: import: %s\n",
			    gpgme_strerror(e));
			goto done;
		}
	}
	ck_kill_agent(t->stage);
	strlcpy(t->stage, home, sizeof(t->stage));
	rc = 0;
done:
	if (fresh != NULL)
		gpgme_release(fresh);
	if (d != NULL)
		gpgme_data_release(d);
	return rc;
}

static int
ck_remove(struct ck *ck, const char *arg)
{
	struct ck_tmp	 t;
	gpgme_ctx_t	 stage = NULL;
	gpgme_key_t	*keys = NULL;
	gpgme_error_t	 e;
	char		 fpr[PGP_FPR_LEN + 1];
	size_t		 n = 0, i;
	int		 rc = 1;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < PGP_FPR_LEN; i++)
		fpr[i] = (arg[i] >= 'a' && arg[i] <= 'f') ?
		    (char)(arg[i] - 'a' + 'A') : arg[i];
	fpr[PGP_FPR_LEN] = '\0';
	if (ck_lock(ck) == -1 || ck_tmp_make(&t) == -1 || ck_stage(ck, &t) ==
	    -1 || (stage = ck_ctx(t.stage)) == NULL ||
	    ck_keys(stage, fpr, &keys, &n) == -1)
		goto done;
	if (n == 0) {
		fprintf(stderr, "sealpostctl: %s is not in the keyring\n", fpr);
		goto done;
	}
	for (i = 0; i < n; i++)
		if (ck_key_has_fpr(keys[i], fpr) == 2)
			break;
	if (i == n) {
		fprintf(stderr, "sealpostctl: %s is a subkey of %s: remove "
		    "takes the primary key's fingerprint\n", fpr,
		    keys[0]->subkeys->fpr);
		goto done;
	}
	if ((e = gpgme_op_delete_ext(stage, keys[i], GPGME_DELETE_FORCE)) !=
	    0) {
		fprintf(stderr, "sealpostctl: remove %s: %s\n", fpr,
		    gpgme_strerror(e));
		goto done;
	}
	/*
	 * gpg only marks a deleted key in the keybox; the pgp service reads
	 * the file's user IDs to check gpg's "no key" (pgp.c), so the keyring
	 * must no longer hold them: what is left, imported into a new one.
	 */
	if (ck_compact(stage, &t) == -1 || ck_install(ck, &t) == -1)
		goto done;
	printf("removed %s\n", fpr);
	rc = 0;
done:
	if (keys != NULL)
		ck_keys_free(keys, n);
	if (stage != NULL)
		gpgme_release(stage);
	ck_tmp_remove(&t);
	return rc;
}

int
ctl_key_main(const char *conffile, int argc, char **argv)
{
	struct ck	 ck;
	const char	*cmd, *arg;
	int		 rc = 1;

	if (argc < 2)
		return ck_usage();
	cmd = argv[1];
	arg = argc > 2 ? argv[2] : NULL;
	if (strcmp(cmd, "import") == 0 || strcmp(cmd, "show") == 0 ||
	    strcmp(cmd, "export") == 0 || strcmp(cmd, "remove") == 0) {
		if (argc != 3)
			return ck_usage();
	} else if (strcmp(cmd, "list") == 0) {
		if (argc > 3)
			return ck_usage();
	} else
		return ck_usage();
	/* arguments that reach gpg as patterns: checked first */
	if (strcmp(cmd, "remove") == 0 && !pgp_fpr_ok(arg)) {
		fprintf(stderr, "sealpostctl: key remove takes a fingerprint "
		    "(40 hex digits, see sealpostctl key list)%s\n",
		    strchr(arg, '@') != NULL ? ", not an address" : "");
		return 2;
	}
	if ((strcmp(cmd, "show") == 0 || strcmp(cmd, "export") == 0) &&
	    !pgp_fpr_ok(arg) && !pgp_address_ok(arg)) {
		fprintf(stderr, "sealpostctl: key %s: not a fingerprint (40 "
		    "hex digits) or an address\n", cmd);
		return 2;
	}
	if (strcmp(cmd, "list") == 0 && arg != NULL && !pgp_address_ok(arg)) {
		fprintf(stderr, "sealpostctl: key list: not an address\n");
		return 2;
	}
	if (ck_open(&ck, conffile) == -1) {
		ck_close(&ck);
		return 1;
	}
	if (strcmp(cmd, "import") == 0)
		rc = ck_import(&ck, arg);
	else if (strcmp(cmd, "list") == 0)
		rc = ck_list(&ck, arg);
	else if (strcmp(cmd, "show") == 0)
		rc = ck_show(&ck, arg);
	else if (strcmp(cmd, "export") == 0)
		rc = ck_export(&ck, arg);
	else
		rc = ck_remove(&ck, arg);
	ck_close(&ck);
	return rc;
}
