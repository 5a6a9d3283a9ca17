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
 *	key publish ADDRESS		into the WKD tree DATA_DIR/wkd
 *	key unpublish ADDRESS
 *	key published
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
 * publish exports the key mail to ADDRESS is encrypted to from a copy of
 * the keyring, with gpg itself (GPGME has no export filters): only the
 * user IDs of ADDRESS, only self-signatures; reads the result back to
 * check exactly that, and writes it into the Web Key Directory tree
 * DATA_DIR/wkd (public: root 0755 folders, 0644 files; see "WKD" below)
 * for a web server to serve.  The same lock covers the tree.
 *
 * Process:  sealpostctl, run by root; the server need not run.  GPGME
 *           runs gpg on the keyring and on the temporary homes (in /tmp,
 *           short paths); gpg.conf says no-autostart everywhere, and
 *           gpgconf --kill gpg-agent runs on each temporary home anyway.
 * Trust:    the file to import is someone else's: bounded, read by gpg
 *           in a home of its own, never into the keyring before it is
 *           inspected.  User IDs are hostile text: printed through
 *           pgp_esc() only.  Arguments are checked (a fingerprint, or an
 *           address by pgp_address_ok, or by wkd_addr_parse for the WKD
 *           commands) before they reach gpg or name a file.  The WKD
 *           tree is world-readable by design; a folder of it that
 *           someone else could write is refused.
 * Limits:   CK_FILE_MAX input bytes, CK_KEYS_MAX keys in one import;
 *           CK_FILE_MAX bytes of a WKD file, CK_WKD_FILES_MAX listed.
 * See also: docs/sealpostctl.8 KEYS, pgp/pgp_keys.c, pgp/wkd.c,
 *           docs/openpgp.md "Publishing keys (WKD)".
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
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>

#include "conf.h"
#include "pgp_keys.h"
#include "wkd.h"
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
	    "       sealpostctl [-c file] key remove FINGERPRINT\n"
	    "       sealpostctl [-c file] key publish ADDRESS\n"
	    "       sealpostctl [-c file] key unpublish ADDRESS\n"
	    "       sealpostctl [-c file] key published\n"
	    "       sealpostctl [-c file] key pending [accept|reject ADDRESS]\n"
	    "       sealpostctl [-c file] key discovered\n"
	    "       sealpostctl [-c file] key forget ADDRESS\n"
	    "       sealpostctl [-c file] key import --signing FILE|-\n"
	    "       sealpostctl [-c file] key signing\n"
	    "       sealpostctl [-c file] key export --signing\n"
	    "       sealpostctl [-c file] key remove --signing\n");
	return 2;
}

/* ---- temporary homes ------------------------------------------------ */

/* Remove what dfd holds, depth levels down at most; symlinks unlinked. */
void
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
void
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
int
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

/* ---- WKD: publish, unpublish, published -------------------------------- */

/*
 * The Web Key Directory tree, DATA_DIR/wkd (pgp/wkd.h), in the advanced
 * method's layout, so that one web server document root serves every
 * domain at https://openpgpkey.DOMAIN/, and for the direct method
 * .well-known/openpgpkey/DOMAIN/ is aliased at
 * https://DOMAIN/.well-known/openpgpkey/:
 *
 *	DATA_DIR/wkd/ .well-known/ openpgpkey/ DOMAIN/	root 0755 each
 *	DATA_DIR/wkd/.well-known/openpgpkey/DOMAIN/policy	root 0644, empty
 *	DATA_DIR/wkd/.well-known/openpgpkey/DOMAIN/hu/		root 0755
 *	DATA_DIR/wkd/.well-known/openpgpkey/DOMAIN/hu/HASH	root 0644
 *
 * Everything in it is public; only root may change it.
 */
#define CK_WKD_DIR_MODE		0755
#define CK_WKD_FILE_MODE	0644
#define CK_WKD_KEYS_MAX		16	/* keys read from one WKD file */
#define CK_WKD_FILES_MAX	100000	/* files listed by published */
#define CK_GPG_ERR_MAX		2048	/* bytes of gpg's stderr read */
#define CK_GPG_ERR_LINES	4	/* lines of it shown */

/* The open folders of the tree for one domain (or its top only). */
struct ck_wkd {
	int	ofd;		/* DATA_DIR/wkd/.well-known/openpgpkey */
	int	dfd;		/* its DOMAIN, or -1 */
	int	hfd;		/* DOMAIN/hu, or -1 */
	char	dir[PATH_MAX];	/* the path of the last folder opened */
	char	ddir[PATH_MAX];	/* the path of DOMAIN, or "" */
};

static void
ck_wkd_close(struct ck_wkd *w)
{
	if (w->ofd != -1)
		close(w->ofd);
	if (w->dfd != -1)
		close(w->dfd);
	if (w->hfd != -1)
		close(w->hfd);
	w->ofd = w->dfd = w->hfd = -1;
}

/*
 * The folder name in parent (path shown in messages): made 0755 when
 * missing and create is set.  It must be a folder of root's that neither
 * group nor others may write.  The fd; -2 when it is missing and create
 * is not set; -1 (said why).
 */
static int
ck_wkd_dir(int parent, const char *name, const char *shown, int create)
{
	struct stat	st;
	int		fd, made = 0;

	if (create) {
		if (mkdirat(parent, name, CK_WKD_DIR_MODE) == 0)
			made = 1;
		else if (errno != EEXIST) {
			fprintf(stderr, "sealpostctl: %s: %s\n", shown,
			    strerror(errno));
			return -1;
		}
	}
	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !create)
			return -2;
		if (errno == ENOTDIR || errno == ELOOP)
			fprintf(stderr, "sealpostctl: %s exists and is not a "
			    "folder\n", shown);
		else
			fprintf(stderr, "sealpostctl: %s: %s\n", shown,
			    strerror(errno));
		return -1;
	}
	/* the web server reads it: not up to root's umask */
	if (made && (fchmod(fd, CK_WKD_DIR_MODE) == -1 || fsync(parent) ==
	    -1)) {
		fprintf(stderr, "sealpostctl: %s: %s\n", shown,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", shown,
		    strerror(errno));
		close(fd);
		return -1;
	}
	/*
	 * SECURITY: whoever can write a folder of the tree can publish a key
	 * for any of our addresses.  Refused, never repaired.
	 */
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		fprintf(stderr, "sealpostctl: %s exists with owner %u:%u mode "
		    "%04o, expected a folder of root's that only root can "
		    "write (0755)\n", shown, (unsigned int)st.st_uid,
		    (unsigned int)st.st_gid,
		    (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Open DATA_DIR/wkd/.well-known/openpgpkey, and with domain (checked by
 * wkd_addr_parse: a host name, safe as a path component) its DOMAIN and
 * DOMAIN/hu, made when missing with create.  0; -2 when a folder is
 * missing (create not set); -1 (said why).
 */
static int
ck_wkd_open(struct ck *ck, const char *domain, int create, struct ck_wkd *w)
{
	const char	*names[5] = { WKD_TREE, WKD_WELL_KNOWN, WKD_OPENPGPKEY,
			    domain, WKD_HU };
	size_t		 n = domain != NULL ? 5 : 3, i;
	int		 fds[5] = { -1, -1, -1, -1, -1 }, top, parent, rc = -1;

	w->ofd = w->dfd = w->hfd = -1;
	w->ddir[0] = '\0';
	if (strlcpy(w->dir, ck->conf->data_dir, sizeof(w->dir)) >=
	    sizeof(w->dir)) {
		fprintf(stderr, "sealpostctl: data-dir too long\n");
		return -1;
	}
	if ((top = open(ck->conf->data_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", ck->conf->data_dir,
		    strerror(errno));
		return -1;
	}
	parent = top;
	for (i = 0; i < n; i++) {
		if (strlcat(w->dir, "/", sizeof(w->dir)) >= sizeof(w->dir) ||
		    strlcat(w->dir, names[i], sizeof(w->dir)) >=
		    sizeof(w->dir)) {
			fprintf(stderr, "sealpostctl: data-dir too long\n");
			goto done;
		}
		if ((fds[i] = ck_wkd_dir(parent, names[i], w->dir, create)) <
		    0) {
			rc = fds[i];
			fds[i] = -1;
			goto done;
		}
		parent = fds[i];
		if (i == 3)
			strlcpy(w->ddir, w->dir, sizeof(w->ddir));
	}
	w->ofd = fds[2];
	fds[2] = -1;
	if (n == 5) {
		w->dfd = fds[3];
		w->hfd = fds[4];
		fds[3] = fds[4] = -1;
	}
	rc = 0;
done:
	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
	close(top);
	return rc;
}

/*
 * The empty policy file the draft requires in DOMAIN/ (made 0644 when
 * missing; an existing one is left as it is, the administrator may have
 * written options into it).  1 made, 0 there, -1 (said why).
 */
static int
ck_wkd_policy(struct ck_wkd *w)
{
	const char	*domain_dir = w->ddir;
	struct stat	 st;
	int		 fd;

	if (fstatat(w->dfd, WKD_POLICY, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, "sealpostctl: %s/%s exists and is not "
			    "a file\n", domain_dir, WKD_POLICY);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT ||
	    (fd = openat(w->dfd, WKD_POLICY, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, CK_WKD_FILE_MODE)) == -1) {
		fprintf(stderr, "sealpostctl: %s/%s: %s\n", domain_dir,
		    WKD_POLICY, strerror(errno));
		return -1;
	}
	if (fchmod(fd, CK_WKD_FILE_MODE) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1 || fsync(w->dfd) == -1) {
		fprintf(stderr, "sealpostctl: %s/%s: %s\n", domain_dir,
		    WKD_POLICY, strerror(errno));
		return -1;
	}
	return 1;
}

/*
 * The regular file name in dfd, at most CK_FILE_MAX bytes, into a buffer
 * the caller frees.  1 read; 0 missing; -1 with why.
 */
static int
ck_wkd_read(int dfd, const char *name, char **buf_r, size_t *len_r,
    char *why, size_t whylen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	*buf_r = NULL;
	*len_r = 0;
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s", errno == ELOOP ?
		    "a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CK_FILE_MAX) {
		snprintf(why, whylen, "%s", !S_ISREG(st.st_mode) ?
		    "not a file" : "larger than 1 MiB");
		close(fd);
		return -1;
	}
	if ((buf = malloc(CK_FILE_MAX + 1)) == NULL) {
		snprintf(why, whylen, "out of memory");
		close(fd);
		return -1;
	}
	/* one byte past the limit: a file that grew is not cut */
	while (len <= CK_FILE_MAX && (n = read(fd, buf + len,
	    CK_FILE_MAX + 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (len > CK_FILE_MAX) {
		snprintf(why, whylen, "larger than 1 MiB");
		goto fail;
	}
	close(fd);
	*buf_r = buf;
	*len_r = len;
	return 1;
fail:
	free(buf);
	close(fd);
	return -1;
}

/*
 * buf as the key file hash in hu/: a temporary file (0644), fsynced and
 * renamed over it, the folder fsynced.  0, or -1 (said why).
 */
static int
ck_wkd_write(struct ck_wkd *w, const char *hash, const char *path,
    const char *buf, size_t len)
{
	char	tmp[WKD_HASH_LEN + 8];
	int	fd;

	snprintf(tmp, sizeof(tmp), ".%s.new", hash);
	(void)unlinkat(w->hfd, tmp, 0);
	if ((fd = openat(w->hfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, CK_WKD_FILE_MODE)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, CK_WKD_FILE_MODE) == -1 ||
	    ck_write_all(fd, buf, len) == -1 || fsync(fd) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path, strerror(errno));
		close(fd);
		(void)unlinkat(w->hfd, tmp, 0);
		return -1;
	}
	if (close(fd) == -1 || renameat(w->hfd, tmp, w->hfd, hash) == -1 ||
	    fsync(w->hfd) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path, strerror(errno));
		(void)unlinkat(w->hfd, tmp, 0);
		return -1;
	}
	return 0;
}

/* Up to CK_GPG_ERR_LINES lines of what gpg wrote to fd, escaped. */
static void
ck_gpg_stderr(int fd, const char *what)
{
	char	buf[CK_GPG_ERR_MAX + 1], esc[CK_ESC_MAX], *line, *nl;
	ssize_t	n;
	int	lines = 0;

	if ((n = pread(fd, buf, CK_GPG_ERR_MAX, 0)) <= 0) {
		fprintf(stderr, "sealpostctl: %s: gpg failed\n", what);
		return;
	}
	buf[n] = '\0';
	for (line = buf; *line != '\0' && lines < CK_GPG_ERR_LINES;
	    line = nl + 1) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (*line != '\0') {
			fprintf(stderr, "sealpostctl: %s: %s\n", what,
			    pgp_esc(esc, sizeof(esc), line));
			lines++;
		}
		if (nl == NULL)
			break;
	}
	if (lines == 0)
		fprintf(stderr, "sealpostctl: %s: gpg failed\n", what);
}

/*
 * The key fpr from the GnuPG home `home`, as gpg exports it for WKD:
 * binary, only the user IDs whose address is address (privacy: the other
 * addresses of the key are not published) and only their newest
 * self-signatures (export-minimal: no certifications by others, which
 * would tell who knows whom).  At most CK_FILE_MAX bytes into a buffer
 * the caller frees.  0, or -1 (said why).
 *
 * GPGME has no export filters, so gpg runs here itself: the program
 * GPGME would run, by posix_spawn (no shell), with a fixed argv and
 * environment; sealpostctl runs as root and the home is a copy of the
 * keyring in a temporary folder of ours.  The address, checked by
 * wkd_addr_parse, follows the "--" flag: the filter takes it to the end
 * of the expression, so no "&&" or "||" in it is read as an operator.
 */
static int
ck_gpg_export_wkd(const char *home, const char *scratch, const char *fpr,
    const char *address, char **buf_r, size_t *len_r)
{
	gpgme_engine_info_t		 e;
	posix_spawn_file_actions_t	 fa;
	const char			*gpg = NULL;
	char				 filter[32 + WKD_ADDRESS_MAX];
	char				 outp[64], errp[64], why[PGP_WHY_MAX];
	char				*buf = NULL;
	size_t				 len;
	pid_t				 pid;
	int				 out = -1, err = -1, rc = -1, status, r;
	const char			*argv[] = { "gpg", "--homedir", home,
					    "--batch", "--no-tty", "--quiet",
					    "--no-autostart",
					    "--export-options",
					    "export-minimal",
					    "--export-filter", filter,
					    "--export", "--", fpr, NULL };
	const char			*envp[] = { "PATH=/usr/bin:/bin",
					    "LC_ALL=C", NULL };

	*buf_r = NULL;
	*len_r = 0;
	if (gpgme_get_engine_info(&e) == 0)
		for (; e != NULL; e = e->next)
			if (e->protocol == GPGME_PROTOCOL_OpenPGP)
				gpg = e->file_name;
	if (gpg == NULL) {
		fprintf(stderr, "sealpostctl: GPGME knows no gpg program\n");
		return -1;
	}
	if ((size_t)snprintf(filter, sizeof(filter), "keep-uid=-- mbox = %s",
	    address) >= sizeof(filter) ||
	    (size_t)snprintf(outp, sizeof(outp), "%s/x", scratch) >=
	    sizeof(outp) ||
	    (size_t)snprintf(errp, sizeof(errp), "%s/e", scratch) >=
	    sizeof(errp)) {
		fprintf(stderr, "sealpostctl: %s: too long\n", address);
		return -1;
	}
	(void)unlink(outp);
	(void)unlink(errp);
	if ((out = open(outp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || (err = open(errp, O_RDWR | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", scratch,
		    strerror(errno));
		goto done;
	}
	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		fprintf(stderr, "sealpostctl: %s: %s\n", gpg, strerror(r));
		goto done;
	}
	if ((r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
	    "/dev/null", O_RDONLY, 0)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(&fa, out,
	    STDOUT_FILENO)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(&fa, err,
	    STDERR_FILENO)) != 0 ||
	    (r = posix_spawn(&pid, gpg, &fa, NULL, (char *const *)argv,
	    (char *const *)envp)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		fprintf(stderr, "sealpostctl: %s: %s\n", gpg, strerror(r));
		goto done;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno == EINTR)
			continue;
		fprintf(stderr, "sealpostctl: %s: %s\n", gpg, strerror(errno));
		goto done;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ck_gpg_stderr(err, address);
		goto done;
	}
	if ((r = ck_wkd_read(AT_FDCWD, outp, &buf, &len, why,
	    sizeof(why))) != 1) {
		fprintf(stderr, "sealpostctl: %s: gpg's export: %s\n", address,
		    r == 0 ? "missing" : why);
		goto done;
	}
	if (len == 0) {
		ck_gpg_stderr(err, address);
		free(buf);
		goto done;
	}
	*buf_r = buf;
	*len_r = len;
	rc = 0;
done:
	if (out != -1)
		close(out);
	if (err != -1)
		close(err);
	(void)unlink(outp);
	(void)unlink(errp);
	return rc;
}

/*
 * The keys in buf (a key file), read by gpg without importing them
 * (GPGME's keylist from data: gpg --import-options show-only) in the
 * context of a temporary home.  At most CK_WKD_KEYS_MAX.  0 with the
 * NULL-terminated array (ck_keys_free) and count; -1 with why.
 */
static int
ck_data_keys(gpgme_ctx_t ctx, const char *buf, size_t len,
    gpgme_key_t **keys_r, size_t *n_r, char *why, size_t whylen)
{
	gpgme_data_t	 d;
	gpgme_key_t	 key, *keys;
	gpgme_error_t	 e;
	size_t		 n = 0;
	int		 many = 0;

	*keys_r = NULL;
	*n_r = 0;
	if ((keys = calloc(CK_WKD_KEYS_MAX + 1, sizeof(*keys))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if ((e = gpgme_data_new_from_mem(&d, buf, len, 0)) != 0) {
		snprintf(why, whylen, "%s", gpgme_strerror(e));
		free(keys);
		return -1;
	}
	if ((e = gpgme_op_keylist_from_data_start(ctx, d, 0)) != 0) {
		snprintf(why, whylen, "%s", gpgme_strerror(e));
		gpgme_data_release(d);
		free(keys);
		return -1;
	}
	while ((e = gpgme_op_keylist_next(ctx, &key)) == 0) {
		if (n == CK_WKD_KEYS_MAX) {
			gpgme_key_unref(key);
			(void)gpgme_op_keylist_end(ctx);
			many = 1;
			break;
		}
		keys[n++] = key;
	}
	gpgme_data_release(d);
	if (many || gpg_err_code(e) != GPG_ERR_EOF) {
		if (many)
			snprintf(why, whylen, "more than %d keys in it",
			    CK_WKD_KEYS_MAX);
		else
			snprintf(why, whylen, "%s", gpgme_strerror(e));
		ck_keys_free(keys, n);
		return -1;
	}
	*keys_r = keys;
	*n_r = n;
	return 0;
}

/*
 * Is buf what publish must write for address: binary OpenPGP, one key
 * with primary fingerprint fpr, public only, usable at now, with user IDs
 * all of which have exactly address (and at least one).  gpg's filter is
 * checked on GPGME's parsing, so a user ID the two read differently is
 * never published.  0 with the key in *key_r (gpgme_key_unref it), or -1
 * with why.
 */
static int
ck_wkd_check(gpgme_ctx_t ctx, const char *buf, size_t len, const char *fpr,
    const char *address, time_t now, gpgme_key_t *key_r, char *why,
    size_t whylen)
{
	gpgme_key_t	*keys = NULL;
	gpgme_user_id_t	 uid;
	char		 reason[PGP_WHY_MAX - 16];	/* and "not usable: " */
	size_t		 n = 0;
	int		 nuid = 0, rc = -1;

	*key_r = NULL;
	/* RFC 4880 4.2: a packet tag has bit 7 set; armor is text */
	if (len == 0 || ((unsigned char)buf[0] & 0x80) == 0) {
		snprintf(why, whylen, "not binary OpenPGP data");
		return -1;
	}
	if (ck_data_keys(ctx, buf, len, &keys, &n, why, whylen) == -1)
		return -1;
	if (n != 1) {
		snprintf(why, whylen, "%zu keys in it, not one", n);
		goto done;
	}
	if (keys[0]->subkeys == NULL || keys[0]->subkeys->fpr == NULL ||
	    strcasecmp(keys[0]->subkeys->fpr, fpr) != 0) {
		snprintf(why, whylen, "another key than %s", fpr);
		goto done;
	}
	if (keys[0]->secret) {
		snprintf(why, whylen, "a secret key");
		goto done;
	}
	for (uid = keys[0]->uids; uid != NULL; uid = uid->next) {
		if (uid->address == NULL ||
		    strcasecmp(uid->address, address) != 0) {
			snprintf(why, whylen, "a user ID of another address");
			goto done;
		}
		nuid++;
	}
	if (nuid == 0) {
		snprintf(why, whylen, "no user ID");
		goto done;
	}
	if (!pgp_key_usable(keys[0], now, reason, sizeof(reason))) {
		snprintf(why, whylen, "not usable: %s", reason);
		goto done;
	}
	*key_r = keys[0];
	rc = 0;
done:
	if (rc == 0)
		free(keys);	/* its one key is the caller's now */
	else
		ck_keys_free(keys, n);
	return rc;
}

/*
 * What publish writes for address (checked by wkd_addr_parse) now: the
 * key mail to address is encrypted to (pgp_key_for on the stage copy of
 * the keyring), exported by ck_gpg_export_wkd and checked in the in/
 * home.  1 with the bytes (free them) and the key as read back
 * (gpgme_key_unref it); 0 no usable key, with why; -1 (said why).
 */
static int
ck_wkd_make(struct ck *ck, const struct ck_tmp *t, gpgme_ctx_t stage,
    gpgme_ctx_t in, const char *address, char **buf_r, size_t *len_r,
    gpgme_key_t *key_r, char *why, size_t whylen)
{
	gpgme_key_t	 key;
	char		 fpr[PGP_FPR_LEN + 1], bad[PGP_WHY_MAX];
	int		 r;

	*buf_r = NULL;
	*len_r = 0;
	*key_r = NULL;
	if ((r = pgp_key_for(stage, address, ck->now, &key, why, whylen)) ==
	    -1) {
		fprintf(stderr, "sealpostctl: the keyring: %s\n", why);
		return -1;
	}
	if (r == 0)
		return 0;
	strlcpy(fpr, key->subkeys->fpr, sizeof(fpr));
	gpgme_key_unref(key);
	if (ck_gpg_export_wkd(t->stage, t->dir, fpr, address, buf_r,
	    len_r) == -1)
		return -1;
	if (ck_wkd_check(in, *buf_r, *len_r, fpr, address, ck->now, key_r,
	    bad, sizeof(bad)) == -1) {
		fprintf(stderr, "sealpostctl: %s: gpg's export of %s is not "
		    "what WKD may publish: %s\n", address, fpr, bad);
		free(*buf_r);
		*buf_r = NULL;
		*len_r = 0;
		return -1;
	}
	return 1;
}

/* Is domain (lower case) one of the conf's "domain" lines? */
static int
ck_local_domain(const struct sp_conf *conf, const char *domain)
{
	size_t	i;

	for (i = 0; i < conf->ndomains; i++)
		if (strcasecmp(conf->domains[i], domain) == 0)
			return 1;
	return 0;
}

/* For key publish and published: the homes a key export needs. */
struct ck_wkd_env {
	struct ck_tmp	t;
	gpgme_ctx_t	stage;		/* a copy of the keyring */
	gpgme_ctx_t	in;		/* empty: files are read here */
};

static int
ck_wkd_env_open(struct ck *ck, struct ck_wkd_env *env)
{
	memset(env, 0, sizeof(*env));
	if (ck_tmp_make(&env->t) == -1 || ck_stage(ck, &env->t) == -1 ||
	    (env->stage = ck_ctx(env->t.stage)) == NULL ||
	    (env->in = ck_ctx(env->t.in)) == NULL)
		return -1;
	return 0;
}

static void
ck_wkd_env_close(struct ck_wkd_env *env)
{
	if (env->stage != NULL)
		gpgme_release(env->stage);
	if (env->in != NULL)
		gpgme_release(env->in);
	env->stage = env->in = NULL;
	ck_tmp_remove(&env->t);
}

static int
ck_publish(struct ck *ck, const char *arg)
{
	struct wkd_addr		 a;
	struct ck_wkd		 w = { .ofd = -1, .dfd = -1, .hfd = -1 };
	struct ck_wkd_env	 env;
	gpgme_key_t		 key = NULL;
	gpgme_user_id_t		 uid;
	struct stat		 st;
	const char		*errstr, *word;
	char			 address[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	char			 rel[WKD_PATH_MAX], url[WKD_URL_MAX];
	char			 path[PATH_MAX + WKD_PATH_MAX];
	char			 why[PGP_WHY_MAX], esc[CK_ESC_MAX];
	char			*buf = NULL, *old = NULL;
	size_t			 len, oldlen;
	int			 rc = 1, r, policy;

	memset(&env, 0, sizeof(env));
	if (wkd_addr_parse(arg, &a, &errstr) == -1) {	/* checked before */
		fprintf(stderr, "sealpostctl: %s\n", errstr);
		return 2;
	}
	snprintf(address, sizeof(address), "%s@%s", a.local, a.domain);
	if (!ck_local_domain(ck->conf, a.domain)) {
		fprintf(stderr, "sealpostctl: %s is not a domain of this "
		    "server (no \"domain %s\" line in %s): nothing "
		    "published\n", a.domain, a.domain, ck->conf->path);
		return 1;
	}
	if (wkd_path(&a, rel, sizeof(rel)) == -1 || (size_t)snprintf(path,
	    sizeof(path), "%s/%s/%s", ck->conf->data_dir, WKD_TREE, rel) >=
	    sizeof(path)) {
		fprintf(stderr, "sealpostctl: data-dir too long\n");
		return 1;
	}
	if (ck_lock(ck) == -1 || ck_wkd_env_open(ck, &env) == -1)
		goto done;
	if ((r = ck_wkd_make(ck, &env.t, env.stage, env.in, address, &buf,
	    &len, &key, why, sizeof(why))) == -1)
		goto done;
	if (r == 0) {
		if (strcmp(why, "no key") == 0)
			fprintf(stderr, "sealpostctl: no key for %s in the "
			    "keyring: nothing published\n", address);
		else
			fprintf(stderr, "sealpostctl: %s: nothing published\n",
			    why);
		/* what was published before stays: say so */
		if (ck_wkd_open(ck, a.domain, 0, &w) == 0 &&
		    fstatat(w.hfd, a.hash, &st, AT_SYMLINK_NOFOLLOW) == 0)
			fprintf(stderr, "sealpostctl: the key published "
			    "before for %s stays in %s (sealpostctl key "
			    "unpublish %s removes it)\n", address, path,
			    address);
		goto done;
	}
	if (ck_wkd_open(ck, a.domain, 1, &w) == -1 ||
	    (policy = ck_wkd_policy(&w)) == -1)
		goto done;
	if ((r = ck_wkd_read(w.hfd, a.hash, &old, &oldlen, why,
	    sizeof(why))) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path, why);
		goto done;
	}
	if (r == 1 && oldlen == len && memcmp(old, buf, len) == 0)
		word = "unchanged";
	else {
		if (ck_wkd_write(&w, a.hash, path, buf, len) == -1)
			goto done;
		word = r == 1 ? "updated" : "published";
	}
	printf("%s %s: key %s\n", word, address, key->subkeys->fpr);
	for (uid = key->uids; uid != NULL; uid = uid->next)
		printf("  user ID:  %s\n", pgp_esc(esc, sizeof(esc),
		    uid->uid != NULL ? uid->uid : ""));
	printf("  file:     %s\n", path);
	if (policy == 1)
		printf("  policy:   %s/%s (made, empty)\n", w.ddir,
		    WKD_POLICY);
	if (wkd_url(&a, WKD_ADVANCED, url, sizeof(url)) == 0)
		printf("  advanced: %s\n", url);
	else
		printf("  advanced: none (openpgpkey.%s is too long for a "
		    "host name)\n", a.domain);
	if (wkd_url(&a, WKD_DIRECT, url, sizeof(url)) == 0)
		printf("  direct:   %s\n", url);
	rc = 0;
done:
	if (key != NULL)
		gpgme_key_unref(key);
	free(buf);
	free(old);
	ck_wkd_close(&w);
	ck_wkd_env_close(&env);
	return rc;
}

static int
ck_unpublish(struct ck *ck, const char *arg)
{
	struct wkd_addr	 a;
	struct ck_wkd	 w = { .ofd = -1, .dfd = -1, .hfd = -1 };
	const char	*errstr;
	char		 rel[WKD_PATH_MAX], path[PATH_MAX + WKD_PATH_MAX];
	int		 rc = 1, r;

	if (wkd_addr_parse(arg, &a, &errstr) == -1) {	/* checked before */
		fprintf(stderr, "sealpostctl: %s\n", errstr);
		return 2;
	}
	if (wkd_path(&a, rel, sizeof(rel)) == -1 || (size_t)snprintf(path,
	    sizeof(path), "%s/%s/%s", ck->conf->data_dir, WKD_TREE, rel) >=
	    sizeof(path)) {
		fprintf(stderr, "sealpostctl: data-dir too long\n");
		return 1;
	}
	/* no domain check: a domain given up may still have keys out */
	if (ck_lock(ck) == -1 || (r = ck_wkd_open(ck, a.domain, 0, &w)) == -1)
		goto done;
	if (r == -2 || unlinkat(w.hfd, a.hash, 0) == -1) {
		if (r == -2 || errno == ENOENT)
			fprintf(stderr, "sealpostctl: %s@%s is not published\n",
			    a.local, a.domain);
		else
			fprintf(stderr, "sealpostctl: %s: %s\n", path,
			    strerror(errno));
		goto done;
	}
	if (fsync(w.hfd) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", w.dir,
		    strerror(errno));
		goto done;
	}
	printf("unpublished %s@%s: removed %s\n", a.local, a.domain, path);
	rc = 0;
done:
	ck_wkd_close(&w);
	return rc;
}

/* One file of the tree, for published. */
struct ck_pub {
	char		*domain;
	char		*name;				/* in hu/ */
	/* "" while unknown */
	char		 address[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	char		 fpr[PGP_FPR_LEN + 1];		/* "" unknown */
	const char	*status;
	char		 note[PGP_WHY_MAX + WKD_LOCAL_MAX + WKD_DOMAIN_MAX];
};

static int
ck_pub_cmp(const void *x, const void *y)
{
	const struct ck_pub	*a = x, *b = y;
	int			 c;

	if ((c = strcmp(a->domain, b->domain)) != 0)
		return c;
	if ((c = strcasecmp(a->address, b->address)) != 0)
		return c;
	return strcmp(a->name, b->name);
}

/*
 * Judge one file of DOMAIN/hu/: which address and key it holds, and
 * whether it is what publish would write now.  0, or -1 (said why).
 */
static int
ck_pub_judge(struct ck *ck, struct ck_wkd_env *env, int hfd,
    struct ck_pub *p)
{
	struct wkd_addr	 a;
	gpgme_key_t	*keys = NULL, key = NULL;
	gpgme_user_id_t	 uid;
	const char	*errstr;
	char		*buf = NULL, *now = NULL;
	size_t		 len, nowlen, n = 0;
	int		 r, rc = -1, others = 0;

	p->status = "invalid";
	if (strlen(p->name) != WKD_HASH_LEN) {
		snprintf(p->note, sizeof(p->note), "the name is not a WKD "
		    "hash");
		return 0;
	}
	if ((r = ck_wkd_read(hfd, p->name, &buf, &len, p->note,
	    sizeof(p->note))) != 1) {
		if (r == 0)
			snprintf(p->note, sizeof(p->note), "gone");
		return 0;
	}
	if (len == 0 || ((unsigned char)buf[0] & 0x80) == 0) {
		snprintf(p->note, sizeof(p->note), "not binary OpenPGP data");
		rc = 0;
		goto done;
	}
	if (ck_data_keys(env->in, buf, len, &keys, &n, p->note,
	    sizeof(p->note)) == -1 || n != 1) {
		if (n != 1 && keys != NULL)
			snprintf(p->note, sizeof(p->note), "%zu keys in it, "
			    "not one", n);
		rc = 0;
		goto done;
	}
	if (keys[0]->subkeys != NULL && keys[0]->subkeys->fpr != NULL)
		strlcpy(p->fpr, keys[0]->subkeys->fpr, sizeof(p->fpr));
	/* the user ID whose address hashes to the file's name */
	for (uid = keys[0]->uids; uid != NULL; uid = uid->next) {
		if (uid->address != NULL && wkd_addr_parse(uid->address, &a,
		    &errstr) == 0 && strcmp(a.domain, p->domain) == 0 &&
		    strcmp(a.hash, p->name) == 0) {
			if (p->address[0] == '\0')
				snprintf(p->address, sizeof(p->address),
				    "%s@%s", a.local, a.domain);
			else if (strcasecmp(p->address, uid->address) != 0)
				others = 1;
		} else
			others = 1;
	}
	if (p->address[0] == '\0') {
		snprintf(p->note, sizeof(p->note), "no user ID in %s whose "
		    "local part has this hash", p->domain);
		rc = 0;
		goto done;
	}
	if (others) {
		snprintf(p->note, sizeof(p->note), "it also has user IDs of "
		    "other addresses");
		rc = 0;
		goto done;
	}
	if ((r = ck_wkd_make(ck, &env->t, env->stage, env->in, p->address,
	    &now, &nowlen, &key, p->note, sizeof(p->note))) == -1)
		goto done;
	if (r == 0) {
		p->status = "unusable";
		if (strcmp(p->note, "no key") == 0)
			snprintf(p->note, sizeof(p->note), "no key for it in "
			    "the keyring");
	} else if (nowlen == len && memcmp(now, buf, len) == 0) {
		p->status = "current";
		p->note[0] = '\0';
	} else {
		p->status = "outdated";
		snprintf(p->note, sizeof(p->note), "the keyring has %s: "
		    "sealpostctl key publish %s updates the file",
		    strcmp(key->subkeys->fpr, p->fpr) == 0 ?
		    "changes to the key" : "a newer key", p->address);
	}
	rc = 0;
done:
	if (key != NULL)
		gpgme_key_unref(key);
	if (keys != NULL)
		ck_keys_free(keys, n);
	free(now);
	free(buf);
	return rc;
}

/* Add every file of DOMAIN/hu/ to *rows.  0, or -1 (said why). */
static int
ck_pub_domain(struct ck *ck, struct ck_wkd_env *env, struct ck_wkd *w,
    const char *domain, struct ck_pub **rows, size_t *nrows)
{
	DIR		*d;
	struct dirent	*de;
	struct ck_pub	*nr, *p;
	char		 shown[PATH_MAX];
	int		 dfd, hfd, fd, rc = -1;

	if ((size_t)snprintf(shown, sizeof(shown), "%s/%s", w->dir, domain) >=
	    sizeof(shown)) {
		fprintf(stderr, "sealpostctl: data-dir too long\n");
		return -1;
	}
	if ((dfd = ck_wkd_dir(w->ofd, domain, shown, 0)) == -1)
		return -1;
	if (dfd == -2)
		return 0;	/* gone since */
	if (strlcat(shown, "/" WKD_HU, sizeof(shown)) >= sizeof(shown)) {
		fprintf(stderr, "sealpostctl: data-dir too long\n");
		close(dfd);
		return -1;
	}
	if ((hfd = ck_wkd_dir(dfd, WKD_HU, shown, 0)) == -1) {
		close(dfd);
		return -1;
	}
	close(dfd);
	if (hfd == -2)
		return 0;
	if ((fd = dup(hfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		fprintf(stderr, "sealpostctl: %s: %s\n", shown,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		close(hfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		/* dot names: ".", "..", a write in progress (.HASH.new) */
		if (de->d_name[0] == '.')
			continue;
		if (*nrows == CK_WKD_FILES_MAX) {
			fprintf(stderr, "sealpostctl: more than %d files "
			    "published\n", CK_WKD_FILES_MAX);
			goto done;
		}
		if ((nr = reallocarray(*rows, *nrows + 1, sizeof(**rows))) ==
		    NULL) {
			fprintf(stderr, "sealpostctl: out of memory\n");
			goto done;
		}
		*rows = nr;
		p = &nr[*nrows];
		memset(p, 0, sizeof(*p));
		if ((p->domain = strdup(domain)) == NULL ||
		    (p->name = strdup(de->d_name)) == NULL) {
			free(p->domain);
			fprintf(stderr, "sealpostctl: out of memory\n");
			goto done;
		}
		(*nrows)++;
		if (ck_pub_judge(ck, env, hfd, p) == -1)
			goto done;
	}
	rc = 0;
done:
	closedir(d);
	close(hfd);
	return rc;
}

static int
ck_published(struct ck *ck)
{
	struct ck_wkd		 w = { .ofd = -1, .dfd = -1, .hfd = -1 };
	struct ck_wkd_env	 env;
	struct ck_pub		*rows = NULL, *p;
	struct wkd_addr		 a;
	const char		*errstr;
	DIR			*d = NULL;
	struct dirent		*de;
	char			 dom[WKD_ADDRESS_MAX + 1], esc[CK_ESC_MAX];
	char			 esc2[CK_ESC_MAX];
	size_t			 nrows = 0, i;
	int			 rc = 1, r, fd;

	memset(&env, 0, sizeof(env));
	if (ck_lock(ck) == -1 || (r = ck_wkd_open(ck, NULL, 0, &w)) == -1)
		goto done;
	if (r == -2) {
		printf("nothing is published\n");
		rc = 0;
		goto done;
	}
	if (ck_wkd_env_open(ck, &env) == -1)
		goto done;
	if ((fd = dup(w.ofd)) == -1 || (d = fdopendir(fd)) == NULL) {
		fprintf(stderr, "sealpostctl: %s: %s\n", w.dir,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		goto done;
	}
	while ((de = readdir(d)) != NULL) {
		/* only the folders publish makes: a host name each */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if ((size_t)snprintf(dom, sizeof(dom), "x@%s", de->d_name) >=
		    sizeof(dom) || wkd_addr_parse(dom, &a, &errstr) == -1 ||
		    strcmp(a.domain, de->d_name) != 0)
			continue;
		if (ck_pub_domain(ck, &env, &w, a.domain, &rows, &nrows) == -1)
			goto done;
	}
	if (nrows == 0) {
		printf("nothing is published\n");
		rc = 0;
		goto done;
	}
	qsort(rows, nrows, sizeof(*rows), ck_pub_cmp);
	printf("%-32s %-40s %-9s %s\n", "ADDRESS", "FINGERPRINT", "STATUS",
	    "FILE");
	for (i = 0; i < nrows; i++) {
		p = &rows[i];
		printf("%-32s %-40s %-9s %s/%s/%s/%s\n", p->address[0] !=
		    '\0' ? pgp_esc(esc, sizeof(esc), p->address) : "-",
		    p->fpr[0] != '\0' ? p->fpr : "-", p->status, w.dir,
		    p->domain, WKD_HU, pgp_esc(esc2, sizeof(esc2), p->name));
	}
	/* why each file that is not current is not */
	for (i = 0; i < nrows; i++) {
		p = &rows[i];
		if (p->note[0] == '\0')
			continue;
		if (p->address[0] != '\0')
			printf("%s: %s\n", pgp_esc(esc, sizeof(esc),
			    p->address), pgp_esc(esc2, sizeof(esc2), p->note));
		else
			printf("%s/%s/%s/%s: %s\n", w.dir, p->domain, WKD_HU,
			    pgp_esc(esc, sizeof(esc), p->name),
			    pgp_esc(esc2, sizeof(esc2), p->note));
	}
	rc = 0;
done:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < nrows; i++) {
		free(rows[i].domain);
		free(rows[i].name);
	}
	free(rows);
	ck_wkd_close(&w);
	ck_wkd_env_close(&env);
	return rc;
}

int
ctl_key_main(const char *conffile, int argc, char **argv)
{
	struct ck	 ck;
	struct wkd_addr	 wa;
	const char	*cmd, *arg, *errstr;
	int		 rc = 1;

	if (argc < 2)
		return ck_usage();
	/* the signing key: ctl_key_sign.c */
	if (ctl_key_sign_is_command(argc, argv))
		return ctl_key_sign_main(conffile, argc, argv);
	cmd = argv[1];
	arg = argc > 2 ? argv[2] : NULL;
	if (strcmp(cmd, "import") == 0 || strcmp(cmd, "show") == 0 ||
	    strcmp(cmd, "export") == 0 || strcmp(cmd, "remove") == 0 ||
	    strcmp(cmd, "publish") == 0 || strcmp(cmd, "unpublish") == 0) {
		if (argc != 3)
			return ck_usage();
	} else if (strcmp(cmd, "list") == 0) {
		if (argc > 3)
			return ck_usage();
	} else if (strcmp(cmd, "published") == 0) {
		if (argc != 2)
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
	/* SECURITY: the address names a file and reaches gpg's filter */
	if ((strcmp(cmd, "publish") == 0 || strcmp(cmd, "unpublish") == 0) &&
	    wkd_addr_parse(arg, &wa, &errstr) == -1) {
		fprintf(stderr, "sealpostctl: key %s: not a plain address "
		    "(local@domain): %s\n", cmd, errstr);
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
	else if (strcmp(cmd, "publish") == 0)
		rc = ck_publish(&ck, arg);
	else if (strcmp(cmd, "unpublish") == 0)
		rc = ck_unpublish(&ck, arg);
	else if (strcmp(cmd, "published") == 0)
		rc = ck_published(&ck);
	else
		rc = ck_remove(&ck, arg);
	ck_close(&ck);
	return rc;
}
