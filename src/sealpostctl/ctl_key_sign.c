/* SPDX-License-Identifier: ISC */
/*
 * ctl_key_sign.c - sealpostctl key ... --signing: the organization's
 * signing key, the one secret key sealpost holds (pgp/pgp_sign.h).
 *
 *	key import --signing FILE|-	the secret key, no passphrase
 *	key signing			the key installed, or none
 *	key export --signing		its public key, armored
 *	key remove --signing
 *
 * DATA_DIR/keys/signing (root:_sp_pgp 0750) holds pubring.kbx (0640,
 * the key's public part) and private-keys-v1.d/ (0750) with gpg-agent's
 * files of its secret parts (0640): the pgp service's agent reads them
 * in its jail (privdrop.c, jail_sign.c); nothing else does.  The public
 * keyring DATA_DIR/keys/gnupg never holds a secret key.
 *
 * import reads the file into a fresh temporary home, where gpg's own
 * agent takes the secret key; it must be exactly one key that can sign,
 * and it must sign without a passphrase (a test signature with pinentry
 * "cancel": an unattended server cannot type one).  Then the home's
 * files are copied into DATA_DIR/keys/.signing.new, which replaces
 * DATA_DIR/keys/signing in one rename (RENAME_EXCHANGE when there is an
 * old key: the pgp service never sees half a key), the temporary home
 * wiped.  One signing key at a time: a new one replaces the old.
 *
 * Process:  sealpostctl, run by root; the server need not run.  The pgp
 *           service reads the key when it starts.
 * Trust:    the file is the administrator's, but a secret: never printed,
 *           never in argv or the environment (gpg gets it through
 *           GPGME's pipe), wiped from our memory after use; error
 *           messages name the file, never its bytes.  User IDs are
 *           printed through pgp_esc().
 * Limits:   CKS_FILE_MAX input bytes (ck_read_input), CKS_KEYFILES_MAX
 *           files in private-keys-v1.d.
 * See also: ctl_key.c (the public keyring), pgp/pgp_agent.c,
 *           docs/sealpostctl.8 KEYS, docs/openpgp.md "Signing".
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>

#include "conf.h"
#include "pgp_keys.h"
#include "pgp_sign.h"
#include "ctl_key.h"
#include "banned.h"

#define CKS_DIR		"signing"	/* under DATA_DIR/keys */
#define CKS_NEW		".signing.new"
#define CKS_GROUP	"_sp_pgp"
#define CKS_KEYFILES_MAX 16		/* a primary key and its subkeys */
#define CKS_ESC_MAX	1024

/* a temporary home where gpg may start its agent: it takes the key */
#define CKS_TMP_CONF	"trust-model always\nno-permission-warning\n" \
			"no-random-seed-file\n"
/* a temporary home to read the installed public part: no agent */
#define CKS_RO_CONF	"no-autostart\n" CKS_TMP_CONF

struct cks {
	struct sp_conf	*conf;
	gid_t		 gid;
	int		 kfd;		/* DATA_DIR/keys, locked */
	char		 tmp[32];	/* mkdtemp */
	char		 home[48];	/* tmp/h: the new key */
	char		 ohome[48];	/* tmp/o: the installed key's public */
};

static int
cks_usage(void)
{
	fprintf(stderr, "usage: sealpostctl [-c file] key import --signing "
	    "FILE|-\n"
	    "       sealpostctl [-c file] key signing\n"
	    "       sealpostctl [-c file] key export --signing\n"
	    "       sealpostctl [-c file] key remove --signing\n");
	return 2;
}

static int
cks_write_file(int dfd, const char *name, const char *data, size_t len,
    mode_t mode, gid_t gid)
{
	ssize_t	n;
	int	fd;

	if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	if (fchown(fd, 0, gid) == -1 || fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		data += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	return close(fd);
fail:
	close(fd);
	return -1;
}

/* Copy name from one folder to another: root:gid mode, fsynced. */
static int
cks_copy(int from, int to, const char *name, mode_t mode, gid_t gid)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, rc;

	if ((fd = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return -1;
	/* a key file or a one-key keyring: small */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > 1024 * 1024) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (len < (size_t)st.st_size && (n = read(fd, buf + len,
	    (size_t)st.st_size - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = len == (size_t)st.st_size ? cks_write_file(to, name, buf, len,
	    mode, gid) : -1;
	/* SECURITY: a secret key's file: wiped before it is freed */
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/* A gpg-agent key file name: 40 hex digits (the keygrip) and ".key". */
static int
cks_keyfile_name(const char *s)
{
	size_t	i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return strcmp(s + 40, ".key") == 0;
}

static int
cks_open(struct cks *c, const char *conffile)
{
	struct group	*gr;
	char		 err[1024], path[PATH_MAX];
	int		 n;

	memset(c, 0, sizeof(*c));
	c->kfd = -1;
	if ((c->conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return -1;
	}
	if ((gr = getgrnam(CKS_GROUP)) == NULL) {
		fprintf(stderr, "sealpostctl: no group %s: the pgp service's "
		    "user is missing (see docs/design.md, \"Users\")\n",
		    CKS_GROUP);
		return -1;
	}
	c->gid = gr->gr_gid;
	/* makes DATA_DIR/keys (root 0700) when missing */
	if (pgp_keyring_prepare(c->conf->data_dir, c->gid, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "sealpostctl: the keyring: %s\n", err);
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/keys", c->conf->data_dir);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (c->kfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (flock(c->kfd, LOCK_EX) == -1)
		if (errno != EINTR) {
			fprintf(stderr, "sealpostctl: lock %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
	return 0;
}

/*
 * The temporary homes (0700, in /tmp: short, for gpg's socket names):
 * h with conf, o (no agent) for the installed key.
 */
static int
cks_tmp(struct cks *c, const char *conf)
{
	int	fd, rc;

	strlcpy(c->tmp, "/tmp/spsign.XXXXXX", sizeof(c->tmp));
	if (mkdtemp(c->tmp) == NULL) {
		fprintf(stderr, "sealpostctl: a temporary folder in /tmp: %s\n",
		    strerror(errno));
		c->tmp[0] = '\0';
		return -1;
	}
	snprintf(c->home, sizeof(c->home), "%s/h", c->tmp);
	snprintf(c->ohome, sizeof(c->ohome), "%s/o", c->tmp);
	if (mkdir(c->home, 0700) == -1 || mkdir(c->ohome, 0700) == -1 ||
	    (fd = open(c->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", c->tmp,
		    strerror(errno));
		return -1;
	}
	rc = cks_write_file(fd, "h/gpg.conf", conf, strlen(conf), 0600, 0);
	if (rc == 0)
		rc = cks_write_file(fd, "o/gpg.conf", CKS_RO_CONF,
		    strlen(CKS_RO_CONF), 0600, 0);
	if (rc == -1)
		fprintf(stderr, "sealpostctl: %s: gpg.conf: %s\n", c->tmp,
		    strerror(errno));
	close(fd);
	return rc;
}

static void
cks_close(struct cks *c)
{
	int	fd;

	if (c->tmp[0] != '\0') {
		ck_kill_agent(c->home);
		ck_kill_agent(c->ohome);
		/* SECURITY: the secret key's copy goes with the home */
		if ((fd = open(c->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) != -1) {
			ck_rmtree(fd, 3);
			close(fd);
		}
		(void)rmdir(c->tmp);
	}
	if (c->kfd != -1)
		close(c->kfd);
	if (c->conf != NULL)
		conf_free(c->conf);
}

/* The installed key's pubring.kbx into the o home: 1, 0 none. */
static int
cks_installed(struct cks *c)
{
	int	sfd, hfd, rc;

	if ((sfd = openat(c->kfd, CKS_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "sealpostctl: DATA_DIR/keys/%s: %s\n", CKS_DIR,
		    strerror(errno));
		return -1;
	}
	if ((hfd = open(c->ohome, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		close(sfd);
		return -1;
	}
	rc = cks_copy(sfd, hfd, "pubring.kbx", 0600, 0);
	if (rc == -1)
		fprintf(stderr, "sealpostctl: DATA_DIR/keys/%s/pubring.kbx: "
		    "%s\n", CKS_DIR, strerror(errno));
	close(hfd);
	close(sfd);
	return rc == -1 ? -1 : 1;
}

/* The one key of ctx's home (secret: listed as a secret key). */
static gpgme_key_t
cks_one_key(gpgme_ctx_t ctx, int secret, int *n_r)
{
	gpgme_key_t	key = NULL, k;

	*n_r = 0;
	if (gpgme_op_keylist_start(ctx, NULL, secret) != 0)
		return NULL;
	while (gpgme_op_keylist_next(ctx, &k) == 0) {
		if (++*n_r == 1)
			key = k;
		else
			gpgme_key_unref(k);
	}
	(void)gpgme_op_keylist_end(ctx);
	return key;
}

/*
 * The installed key (its public part, from the o home): 1 with the
 * context and the key (the caller's), 0 none, -1 said why.
 */
static int
cks_old(struct cks *c, gpgme_ctx_t *ctx_r, gpgme_key_t *key_r)
{
	char	err[256];
	int	r, n;

	*ctx_r = NULL;
	*key_r = NULL;
	if ((r = cks_installed(c)) != 1)
		return r;
	if ((*ctx_r = pgp_ctx_new(c->ohome, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return -1;
	}
	if ((*key_r = cks_one_key(*ctx_r, 0, &n)) == NULL || n != 1) {
		fprintf(stderr, "sealpostctl: DATA_DIR/keys/%s/pubring.kbx: "
		    "%d keys in it, not one\n", CKS_DIR, n);
		return -1;
	}
	return 1;
}

static void
cks_print(gpgme_key_t key, const char *word)
{
	struct pgp_key_desc	d;
	gpgme_user_id_t		uid;
	char			esc[CKS_ESC_MAX];

	pgp_key_describe(key, &d);
	printf("%s %s\n", word, d.fpr);
	for (uid = key->uids; uid != NULL; uid = uid->next)
		printf("  user ID:   %s\n", pgp_esc(esc, sizeof(esc),
		    uid->uid != NULL ? uid->uid : ""));
	printf("  algorithm: %s\n  created:   %s\n  expires:   %s\n",
	    d.algo, d.created, d.expires);
}

/* Can the key sign now: a usable signing (sub)key with its secret. */
static int
cks_can_sign(gpgme_key_t key, const char **why_r)
{
	gpgme_subkey_t	sk;

	if (key->revoked || key->expired || key->disabled || key->invalid) {
		*why_r = "revoked, expired or disabled";
		return 0;
	}
	for (sk = key->subkeys; sk != NULL; sk = sk->next)
		if (sk->can_sign && sk->secret && !sk->revoked &&
		    !sk->expired && !sk->disabled && !sk->invalid)
			return 1;
	*why_r = "no usable signing key with its secret part in it";
	return 0;
}

/*
 * A test signature, pinentry "cancel": 0 signed, -1 said why (a
 * passphrase: how to remove it).
 */
static int
cks_test_sign(gpgme_ctx_t ctx, const char *shown, const char *fpr)
{
	gpgme_data_t	in = NULL, out = NULL;
	gpgme_error_t	e;
	int		rc = -1;

	if ((e = gpgme_set_pinentry_mode(ctx,
	    GPGME_PINENTRY_MODE_CANCEL)) != 0 ||
	    (e = gpgme_data_new_from_mem(&in, "sealpost", 8, 0)) != 0 ||
	    (e = gpgme_data_new(&out)) != 0) {
		fprintf(stderr, "sealpostctl: GPGME: %s\n", gpgme_strerror(e));
		goto done;
	}
	e = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH);
	if (gpg_err_code(e) == GPG_ERR_CANCELED ||
	    gpg_err_code(e) == GPG_ERR_BAD_PASSPHRASE ||
	    gpg_err_code(e) == GPG_ERR_NO_PIN ||
	    gpg_err_code(e) == GPG_ERR_NO_PASSPHRASE) {
		fprintf(stderr, "sealpostctl: %s: the key is protected by a "
		    "passphrase; the server signs unattended and cannot type "
		    "it.  Remove it on a copy, in a scratch GnuPG home:\n"
		    "  export GNUPGHOME=$(mktemp -d)\n"
		    "  gpg --import %s\n"
		    "  gpg --passwd %s        (old passphrase, then an empty "
		    "one)\n"
		    "  gpg --armor --export-secret-keys %s > signing.asc\n"
		    "then import signing.asc, and remove GNUPGHOME and "
		    "signing.asc.\n", shown, strcmp(shown, "standard input") ==
		    0 ? "FILE" : shown, fpr, fpr);
		goto done;
	}
	if (e != 0) {
		fprintf(stderr, "sealpostctl: %s: the key cannot sign: %s\n",
		    shown, gpgme_strerror(e));
		goto done;
	}
	rc = 0;
done:
	if (in != NULL)
		gpgme_data_release(in);
	if (out != NULL)
		gpgme_data_release(out);
	return rc;
}

/* The temporary home's key files into DATA_DIR/keys/.signing.new. */
static int
cks_stage(struct cks *c)
{
	DIR		*d = NULL;
	struct dirent	*de;
	int		 hfd = -1, pfd = -1, nfd = -1, npfd = -1, fd, n = 0;
	int		 rc = -1;

	/* a leftover of an interrupted import */
	if ((fd = openat(c->kfd, CKS_NEW, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) != -1) {
		ck_rmtree(fd, 2);
		close(fd);
		(void)unlinkat(c->kfd, CKS_NEW, AT_REMOVEDIR);
	}
	if (mkdirat(c->kfd, CKS_NEW, 0700) == -1 ||
	    (nfd = openat(c->kfd, CKS_NEW, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    mkdirat(nfd, "private-keys-v1.d", 0700) == -1 ||
	    (npfd = openat(nfd, "private-keys-v1.d", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (hfd = open(c->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (pfd = openat(hfd, "private-keys-v1.d", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		goto fail;
	if (cks_copy(hfd, nfd, "pubring.kbx", 0640, c->gid) == -1)
		goto fail;
	if ((fd = dup(pfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (!cks_keyfile_name(de->d_name))
			continue;
		if (++n > CKS_KEYFILES_MAX) {
			errno = EFBIG;
			goto fail;
		}
		if (cks_copy(pfd, npfd, de->d_name, 0640, c->gid) == -1)
			goto fail;
	}
	if (n == 0) {
		errno = ENOENT;
		goto fail;
	}
	/* the folders last: root:_sp_pgp, readable by the pgp service */
	if (fchown(npfd, 0, c->gid) == -1 || fchmod(npfd, 0750) == -1 ||
	    fsync(npfd) == -1 || fchown(nfd, 0, c->gid) == -1 ||
	    fchmod(nfd, 0750) == -1 || fsync(nfd) == -1)
		goto fail;
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "sealpostctl: DATA_DIR/keys/%s: %s\n", CKS_NEW,
	    strerror(errno));
done:
	if (d != NULL)
		closedir(d);
	if (pfd != -1)
		close(pfd);
	if (hfd != -1)
		close(hfd);
	if (npfd != -1)
		close(npfd);
	if (nfd != -1)
		close(nfd);
	return rc;
}

/* Remove DATA_DIR/keys/name and what it holds. */
static void
cks_remove_dir(struct cks *c, const char *name)
{
	int	fd;

	if ((fd = openat(c->kfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	ck_rmtree(fd, 2);
	close(fd);
	(void)unlinkat(c->kfd, name, AT_REMOVEDIR);
}

static int
cks_import(struct cks *c, const char *arg)
{
	gpgme_ctx_t		 ctx = NULL, old = NULL;
	gpgme_data_t		 d = NULL;
	gpgme_import_result_t	 r;
	gpgme_key_t		 key = NULL, okey = NULL;
	gpgme_error_t		 e;
	struct stat		 st;
	const char		*shown = strcmp(arg, "-") == 0 ?
				    "standard input" : arg, *why;
	char			*buf = NULL, err[256], ofpr[PGP_FPR_LEN + 1];
	size_t			 len = 0;
	int			 n, rc = 1, had;

	ofpr[0] = '\0';
	if (ck_read_input(arg, shown, &buf, &len) == -1)
		return 1;
	if (cks_tmp(c, CKS_TMP_CONF) == -1 ||
	    (ctx = pgp_ctx_new(c->home, err, sizeof(err))) == NULL) {
		if (c->tmp[0] != '\0' && ctx == NULL)
			fprintf(stderr, "sealpostctl: %s\n", err);
		goto done;
	}
	/* SECURITY: the secret reaches gpg through GPGME's pipe only */
	if ((e = gpgme_data_new_from_mem(&d, buf, len, 0)) != 0 ||
	    (e = gpgme_op_import(ctx, d)) != 0 ||
	    (r = gpgme_op_import_result(ctx)) == NULL) {
		fprintf(stderr, "sealpostctl: %s: %s\n", shown,
		    e != 0 ? gpgme_strerror(e) : "no import result");
		goto done;
	}
	if (r->secret_read == 0) {
		fprintf(stderr, "sealpostctl: %s holds no secret key: key "
		    "import --signing takes the signing key's secret key "
		    "(gpg --armor --export-secret-keys FINGERPRINT)\n", shown);
		goto done;
	}
	if (r->secret_imported == 0 && r->secret_unchanged == 0) {
		fprintf(stderr, "sealpostctl: %s: gpg did not take its secret "
		    "key\n", shown);
		goto done;
	}
	if ((key = cks_one_key(ctx, 1, &n)) == NULL || n != 1) {
		fprintf(stderr, "sealpostctl: %s holds %d secret keys: export "
		    "exactly the one to sign with\n", shown, n);
		goto done;
	}
	if (!cks_can_sign(key, &why)) {
		fprintf(stderr, "sealpostctl: %s: %s: %s\n", shown,
		    key->subkeys->fpr, why);
		goto done;
	}
	if ((e = gpgme_signers_add(ctx, key)) != 0) {
		fprintf(stderr, "sealpostctl: GPGME: %s\n", gpgme_strerror(e));
		goto done;
	}
	if (cks_test_sign(ctx, shown, key->subkeys->fpr) == -1)
		goto done;
	/* the agent's files are complete once it answered */
	ck_kill_agent(c->home);

	/* what it replaces, for the message (a broken one too) */
	had = fstatat(c->kfd, CKS_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (had && cks_old(c, &old, &okey) == 1)
		strlcpy(ofpr, okey->subkeys->fpr, sizeof(ofpr));
	if (cks_stage(c) == -1) {
		cks_remove_dir(c, CKS_NEW);
		goto done;
	}
	/* one rename: the old key, or none, or the new key */
	if (had) {
		if (renameat2(c->kfd, CKS_NEW, c->kfd, CKS_DIR,
		    RENAME_EXCHANGE) == -1)
			goto fail;
		cks_remove_dir(c, CKS_NEW);	/* now the old key */
	} else if (renameat(c->kfd, CKS_NEW, c->kfd, CKS_DIR) == -1)
		goto fail;
	if (fsync(c->kfd) == -1)
		goto fail;
	cks_print(key, "signing key");
	if (ofpr[0] != '\0' && strcmp(ofpr, key->subkeys->fpr) != 0)
		printf("  replaces:  %s\n", ofpr);
	else if (ofpr[0] != '\0')
		printf("  replaces:  the same key (imported again)\n");
	printf("The pgp service uses it from its next start (restart "
	    "sealpostd).\n");
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "sealpostctl: DATA_DIR/keys/%s: %s: nothing "
	    "changed\n", CKS_DIR, strerror(errno));
	cks_remove_dir(c, CKS_NEW);
done:
	if (d != NULL)
		gpgme_data_release(d);
	if (key != NULL)
		gpgme_key_unref(key);
	if (okey != NULL)
		gpgme_key_unref(okey);
	if (ctx != NULL)
		gpgme_release(ctx);
	if (old != NULL)
		gpgme_release(old);
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}
	return rc;
}

/* key signing: the installed key, or a line saying there is none. */
static int
cks_show(struct cks *c)
{
	gpgme_ctx_t	ctx = NULL;
	gpgme_key_t	key = NULL;
	const char	*why;
	int		r;

	if (cks_tmp(c, CKS_RO_CONF) == -1)
		return 1;
	if ((r = cks_old(c, &ctx, &key)) == 0)
		printf("no signing key (sealpostctl key import --signing "
		    "FILE)\n");
	else if (r == 1) {
		cks_print(key, "signing key");
		/* its public part says whether it still can */
		if (key->revoked || key->expired || key->disabled ||
		    key->invalid)
			printf("  status:    not usable: %s\n", (why =
			    key->revoked ? "revoked" : key->expired ?
			    "expired" : "disabled"));
	}
	if (key != NULL)
		gpgme_key_unref(key);
	if (ctx != NULL)
		gpgme_release(ctx);
	return r == -1 ? 1 : 0;
}

/* key export --signing: the public key, armored, on standard output. */
static int
cks_export(struct cks *c)
{
	gpgme_ctx_t	 ctx = NULL;
	gpgme_key_t	 key = NULL;
	gpgme_data_t	 d = NULL;
	gpgme_error_t	 e;
	char		*p = NULL;
	size_t		 len = 0;
	int		 r, rc = 1;

	if (cks_tmp(c, CKS_RO_CONF) == -1 || (r = cks_old(c, &ctx,
	    &key)) == -1)
		goto done;
	if (r == 0) {
		fprintf(stderr, "sealpostctl: no signing key\n");
		goto done;
	}
	gpgme_set_armor(ctx, 1);
	if ((e = gpgme_data_new(&d)) != 0 ||
	    (e = gpgme_op_export(ctx, key->subkeys->fpr, 0, d)) != 0) {
		fprintf(stderr, "sealpostctl: export: %s\n", gpgme_strerror(e));
		goto done;
	}
	p = gpgme_data_release_and_get_mem(d, &len);
	d = NULL;
	if (p == NULL || len == 0 || fwrite(p, 1, len, stdout) != len) {
		fprintf(stderr, "sealpostctl: export: nothing written\n");
		goto done;
	}
	rc = 0;
done:
	if (p != NULL)
		gpgme_free(p);
	if (d != NULL)
		gpgme_data_release(d);
	if (key != NULL)
		gpgme_key_unref(key);
	if (ctx != NULL)
		gpgme_release(ctx);
	return rc;
}

/* key remove --signing: the folder goes (renamed first: one step). */
static int
cks_remove(struct cks *c)
{
	gpgme_ctx_t	ctx = NULL;
	gpgme_key_t	key = NULL;
	char		fpr[PGP_FPR_LEN + 1];
	int		r, rc = 1;

	fpr[0] = '\0';
	if (cks_tmp(c, CKS_RO_CONF) == -1)
		return 1;
	r = cks_old(c, &ctx, &key);
	if (r == 1)
		strlcpy(fpr, key->subkeys->fpr, sizeof(fpr));
	if (key != NULL)
		gpgme_key_unref(key);
	if (ctx != NULL)
		gpgme_release(ctx);
	if (r == 0) {
		fprintf(stderr, "sealpostctl: no signing key\n");
		return 1;
	}
	/* a broken folder (r == -1) can be removed too */
	cks_remove_dir(c, CKS_NEW);
	if (renameat(c->kfd, CKS_DIR, c->kfd, CKS_NEW) == -1 ||
	    fsync(c->kfd) == -1) {
		fprintf(stderr, "sealpostctl: DATA_DIR/keys/%s: %s\n", CKS_DIR,
		    strerror(errno));
		return 1;
	}
	cks_remove_dir(c, CKS_NEW);
	printf("removed signing key %s\n", fpr[0] != '\0' ? fpr : "(broken)");
	printf("The pgp service stops signing at its next start (restart "
	    "sealpostd).\n");
	rc = 0;
	return rc;
}

int
ctl_key_sign_is_command(int argc, char **argv)
{
	return (argc == 2 && strcmp(argv[1], "signing") == 0) ||
	    (argc >= 3 && strcmp(argv[2], "--signing") == 0);
}

int
ctl_key_sign_main(const char *conffile, int argc, char **argv)
{
	struct cks	c;
	int		rc;

	if (argc == 2 && strcmp(argv[1], "signing") == 0)
		;
	else if (argc == 4 && strcmp(argv[1], "import") == 0)
		;
	else if (argc == 3 && (strcmp(argv[1], "export") == 0 ||
	    strcmp(argv[1], "remove") == 0))
		;
	else
		return cks_usage();
	if (cks_open(&c, conffile) == -1) {
		cks_close(&c);
		return 1;
	}
	if (strcmp(argv[1], "import") == 0)
		rc = cks_import(&c, argv[3]);
	else if (strcmp(argv[1], "export") == 0)
		rc = cks_export(&c);
	else if (strcmp(argv[1], "remove") == 0)
		rc = cks_remove(&c);
	else
		rc = cks_show(&c);
	cks_close(&c);
	return rc;
}
