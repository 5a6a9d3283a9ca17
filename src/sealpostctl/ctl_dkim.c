/* SPDX-License-Identifier: ISC */
/*
 * ctl_dkim.c - sealpostctl dkim: the DKIM keys of DATA_DIR/keys/dkim.
 *
 *	dkim gen DOMAIN [--ed25519] [--selector S] [--force]
 *	dkim list
 *	dkim record DOMAIN SELECTOR
 *	dkim activate DOMAIN SELECTOR
 *	dkim remove DOMAIN SELECTOR
 *
 * A key is DOMAIN/SELECTOR.pem (in use: the signer signs with it after
 * the next start or reload) or DOMAIN/SELECTOR.pem.off (standby: made
 * while the domain already had a key of that algorithm in use, or
 * retired by activate; not used).  Files are PEM PKCS#8, root:_sp_sign
 * 0640, written to a temporary name, synced and renamed.  Key rotation
 * (docs/dkim.md): gen a new selector (standby), publish its record,
 * activate it, reload, and remove the old one days later.
 *
 * Process:  run by root from a shell; not part of the server.
 * Trust:    DOMAIN and SELECTOR come from the command line and are checked
 *           as DNS names before they become paths.
 * SECURITY: the private key goes from OpenSSL's secure memory BIO to the
 *           file only; it is never printed.
 * See also: docs/sealpostctl.8, signer/signer.c, signer/dkim_sign.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "buf.h"
#include "conf.h"
#include "dkim.h"
#include "ctl_dkim.h"
#include "banned.h"

#define DKIM_GROUP	"_sp_sign"
#define RSA_BITS	2048
#define TXT_CHUNK	255	/* one character-string, RFC 1035 3.3 */

struct cd {
	struct sp_conf	*conf;
	char		 dir[1024];	/* DATA_DIR/keys/dkim */
	gid_t		 gid;
};

static int
usage(void)
{
	fprintf(stderr, "usage: sealpostctl dkim gen DOMAIN [--ed25519] "
	    "[--selector S] [--force]\n"
	    "       sealpostctl dkim list\n"
	    "       sealpostctl dkim record|activate|remove DOMAIN SELECTOR\n");
	return 2;
}

int
ctl_dkim_is_command(const char *word)
{
	return strcmp(word, "dkim") == 0;
}

static int
cd_open(struct cd *cd, const char *conffile)
{
	struct group	*gr;
	char		 err[1024];
	int		 n;

	memset(cd, 0, sizeof(*cd));
	if ((cd->conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return -1;
	}
	if ((gr = getgrnam(DKIM_GROUP)) == NULL) {
		fprintf(stderr, "sealpostctl: no group %s: the signer's user "
		    "is missing (see docs/design.md, \"Users\")\n",
		    DKIM_GROUP);
		return -1;
	}
	cd->gid = gr->gr_gid;
	n = snprintf(cd->dir, sizeof(cd->dir), "%s/keys/dkim",
	    cd->conf->data_dir);
	if (n < 0 || (size_t)n >= sizeof(cd->dir)) {
		fprintf(stderr, "sealpostctl: data-dir too long\n");
		return -1;
	}
	return 0;
}

static void
cd_close(struct cd *cd)
{
	if (cd->conf != NULL)
		conf_free(cd->conf);
}

/* mkdir path root:_sp_sign 0750 unless it is there. */
static int
dir_make(const struct cd *cd, const char *path)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if (chown(path, 0, cd->gid) == -1 || chmod(path, 0750) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
names_ok(const char *domain, const char *selector)
{
	if (!dkim_domain_ok(domain)) {
		fprintf(stderr, "sealpostctl: %s: not a domain name (lower "
		    "case letters, digits, hyphens, dots)\n", domain);
		return 0;
	}
	if (selector != NULL && !dkim_selector_ok(selector)) {
		fprintf(stderr, "sealpostctl: %s: not a selector (lower case "
		    "letters, digits, hyphens, dots; at most %d)\n",
		    selector, DKIM_SELECTOR_MAX);
		return 0;
	}
	return 1;
}

/* A key file's bytes (at most DKIM_KEYFILE_MAX) into buf; -1 on error. */
static int
file_read(const char *path, unsigned char *buf, size_t size, size_t *len_r)
{
	size_t	off = 0;
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	while (off < size && (n = read(fd, buf + off, size - off)) > 0)
		off += (size_t)n;
	close(fd);
	*len_r = off;
	return off == size ? -1 : 0;
}

/* The key at path, for its public half; NULL with a message printed. */
static struct dkim_key *
key_open(const char *path, const char *domain, const char *selector)
{
	struct dkim_key	*k;
	unsigned char	*pem;
	char		 err[256];
	size_t		 len;

	pem = OPENSSL_secure_malloc(DKIM_KEYFILE_MAX);
	errno = 0;
	if (pem == NULL || file_read(path, pem, DKIM_KEYFILE_MAX,
	    &len) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path, pem == NULL ?
		    "out of memory" : errno != 0 ? strerror(errno) :
		    "too large");
		OPENSSL_secure_clear_free(pem, DKIM_KEYFILE_MAX);
		return NULL;
	}
	k = dkim_key_from_pem(pem, len, domain, selector, err, sizeof(err));
	OPENSSL_secure_clear_free(pem, DKIM_KEYFILE_MAX);
	if (k == NULL)
		fprintf(stderr, "sealpostctl: %s: %s\n", path, err);
	return k;
}

/* SELECTOR._domainkey.DOMAIN. IN TXT "..." "...", to stdout. */
static int
record_print(const struct dkim_key *k)
{
	struct buf	*b = buf_new(8192);
	size_t		 i, n;
	int		 r = -1;

	if (buf_addf(b, "v=DKIM1; k=%s; p=",
	    dkim_alg_keytype(dkim_key_alg(k))) == -1 ||
	    dkim_key_public_b64(k, b) == -1)
		goto done;
	printf("%s._domainkey.%s. IN TXT", dkim_key_selector(k),
	    dkim_key_domain(k));
	for (i = 0; i < b->len; i += n) {
		n = b->len - i < TXT_CHUNK ? b->len - i : TXT_CHUNK;
		printf(" \"%.*s\"", (int)n, (const char *)b->data + i);
	}
	printf("\n");
	r = 0;
done:
	buf_free(&b);
	return r;
}

/* The algorithm of the key file at path (quietly: -1 when unreadable). */
static int
key_alg(const char *path, const char *domain, const char *selector)
{
	struct dkim_key	*k;
	int		 a;

	if ((k = key_open(path, domain, selector)) == NULL)
		return -1;
	a = (int)dkim_key_alg(k);
	dkim_key_free(k);
	return a;
}

/*
 * Call fn for each key file of domain's folder: its selector, whether it
 * is in use, its path.
 */
typedef int (*key_fn)(void *, const char *dom, const char *sel, int active,
    const char *path);

static int
keys_each(const struct cd *cd, const char *domain, key_fn fn, void *arg)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[2048], sel[DKIM_SELECTOR_MAX + 1];
	size_t		 n, m;
	int		 active, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", cd->dir, domain) >=
	    (int)sizeof(path))
		return -1;
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (r == 0 && (e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n > 4 && strcmp(e->d_name + n - 4, ".pem") == 0) {
			m = n - 4;
			active = 1;
		} else if (n > 8 && strcmp(e->d_name + n - 8,
		    ".pem.off") == 0) {
			m = n - 8;
			active = 0;
		} else
			continue;
		if (m >= sizeof(sel))
			continue;
		memcpy(sel, e->d_name, m);
		sel[m] = '\0';
		if (!dkim_selector_ok(sel))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/%s", cd->dir, domain,
		    e->d_name) >= (int)sizeof(path))
			continue;
		r = fn(arg, domain, sel, active, path);
	}
	closedir(d);
	return r;
}

struct same_alg {
	int	alg;
	char	found[DKIM_SELECTOR_MAX + 1];
	int	retire;		/* rename each to .off */
	const char *keep;	/* except this selector */
};

static int
same_alg_cb(void *arg, const char *dom, const char *sel, int active,
    const char *path)
{
	struct same_alg	*s = arg;
	char		 off[2100];

	if (!active || (s->keep != NULL && strcmp(sel, s->keep) == 0) ||
	    key_alg(path, dom, sel) != s->alg)
		return 0;
	strlcpy(s->found, sel, sizeof(s->found));
	if (!s->retire)
		return 0;
	if (snprintf(off, sizeof(off), "%s.off", path) >= (int)sizeof(off) ||
	    rename(path, off) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	printf("%s: selector %s retired (standby; remove it once mail "
	    "signed with it has arrived)\n", dom, sel);
	return 0;
}

static int
cmd_gen(struct cd *cd, int argc, char **argv)
{
	const char	*domain, *selector = NULL;
	char		 defsel[DKIM_SELECTOR_MAX + 1], ddir[1100];
	char		 path[1200], tmp[1300], act[1200], off[1300];
	char		 err[256];
	struct same_alg	 s;
	struct dkim_key	*k = NULL;
	EVP_PKEY	*pk = NULL;
	BIO		*bio = NULL;
	char		*pem;
	long		 len;
	struct tm	 tm;
	time_t		 now = time(NULL);
	int		 ed = 0, force = 0, i, fd = -1, r = 1, standby;

	if (argc < 3)
		return usage();
	domain = argv[2];
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--ed25519") == 0)
			ed = 1;
		else if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (strcmp(argv[i], "--selector") == 0 && i + 1 < argc)
			selector = argv[++i];
		else
			return usage();
	}
	if (selector == NULL) {
		/* a new name each day: rotation needs no thought */
		gmtime_r(&now, &tm);
		if (strftime(defsel, sizeof(defsel), ed ? "ed%Y%m%d" :
		    "rsa%Y%m%d", &tm) == 0)
			return 1;
		selector = defsel;
	}
	if (!names_ok(domain, selector))
		return 1;
	if (snprintf(ddir, sizeof(ddir), "%s/%s", cd->dir, domain) >=
	    (int)sizeof(ddir) || snprintf(act, sizeof(act), "%s/%s.pem",
	    ddir, selector) >= (int)sizeof(act) || snprintf(off, sizeof(off),
	    "%s.off", act) >= (int)sizeof(off) || snprintf(tmp, sizeof(tmp),
	    "%s.tmp", act) >= (int)sizeof(tmp)) {
		fprintf(stderr, "sealpostctl: path too long\n");
		return 1;
	}
	if (!force && (access(act, F_OK) == 0 || access(off, F_OK) == 0)) {
		fprintf(stderr, "sealpostctl: %s has a key with selector %s "
		    "(--force replaces it; a new --selector rotates)\n",
		    domain, selector);
		return 1;
	}
	if (dir_make(cd, cd->dir) == -1 || dir_make(cd, ddir) == -1)
		return 1;
	/* in use at once, unless the domain signs with this kind already */
	memset(&s, 0, sizeof(s));
	s.alg = ed ? DKIM_ED25519_SHA256 : DKIM_RSA_SHA256;
	s.keep = selector;
	if (keys_each(cd, domain, same_alg_cb, &s) == -1)
		return 1;
	standby = s.found[0] != '\0';
	strlcpy(path, standby ? off : act, sizeof(path));

	pk = ed ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
	if (pk == NULL || (bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL,
	    NULL) != 1 || (len = BIO_get_mem_data(bio, &pem)) <= 0) {
		fprintf(stderr, "sealpostctl: key generation failed\n");
		goto done;
	}
	if ((k = dkim_key_from_pem((unsigned char *)pem, (size_t)len, domain,
	    selector, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		goto done;
	}
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0640)) == -1 || fchown(fd, 0, cd->gid) == -1 ||
	    fchmod(fd, 0640) == -1 ||
	    write(fd, pem, (size_t)len) != (ssize_t)len || fsync(fd) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", tmp, strerror(errno));
		(void)unlink(tmp);
		goto done;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path,
		    strerror(errno));
		(void)unlink(tmp);
		goto done;
	}
	/* --force over the other state: one file per selector */
	(void)unlink(standby ? act : off);
	if ((fd = open(ddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
		fd = -1;
	}
	fprintf(stderr, "%s: %s key, selector %s, %s.  Publish this "
	    "record,\nthen %s\n", domain, ed ? "Ed25519" : "RSA 2048-bit",
	    selector, standby ? "on standby" : "in use after a reload",
	    standby ? "`sealpostctl dkim activate DOMAIN SELECTOR` and "
	    "`sealpostctl reload`:" : "`sealpostctl reload`:");
	if (record_print(k) == -1)
		goto done;
	r = 0;
done:
	if (fd != -1)
		close(fd);
	dkim_key_free(k);
	BIO_free(bio);		/* secure memory: cleared */
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return r;
}

static int
list_cb(void *arg, const char *dom, const char *sel, int active,
    const char *path)
{
	int	a = key_alg(path, dom, sel);

	(void)arg;
	printf("%-30s %-20s %-8s %s\n", dom, sel, a == -1 ? "?" :
	    dkim_alg_keytype((enum dkim_alg)a), active ? "in-use" : "standby");
	return 0;
}

static int
cmd_list(struct cd *cd)
{
	DIR		*d;
	struct dirent	*e;

	if ((d = opendir(cd->dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "sealpostctl: %s: %s\n", cd->dir,
		    strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && dkim_domain_ok(e->d_name))
			(void)keys_each(cd, e->d_name, list_cb, NULL);
	closedir(d);
	return 0;
}

/* The path of DOMAIN's SELECTOR and whether it is in use; -1 none. */
static int
key_path(const struct cd *cd, const char *domain, const char *selector,
    char *path, size_t len, int *active_r)
{
	if (snprintf(path, len, "%s/%s/%s.pem", cd->dir, domain, selector) >=
	    (int)len)
		return -1;
	*active_r = 1;
	if (access(path, F_OK) == 0)
		return 0;
	if (strlcat(path, ".off", len) >= len)
		return -1;
	*active_r = 0;
	if (access(path, F_OK) == 0)
		return 0;
	fprintf(stderr, "sealpostctl: %s has no key with selector %s\n",
	    domain, selector);
	return -1;
}

static int
cmd_named(struct cd *cd, const char *op, const char *domain,
    const char *selector)
{
	struct same_alg	 s;
	struct dkim_key	*k;
	char		 path[1200], act[1200];
	int		 active, r;

	if (!names_ok(domain, selector) || key_path(cd, domain, selector,
	    path, sizeof(path), &active) == -1)
		return 1;
	if (strcmp(op, "record") == 0) {
		if ((k = key_open(path, domain, selector)) == NULL)
			return 1;
		r = record_print(k);
		dkim_key_free(k);
		return r == 0 ? 0 : 1;
	}
	if (strcmp(op, "remove") == 0) {
		if (unlink(path) == -1) {
			fprintf(stderr, "sealpostctl: %s: %s\n", path,
			    strerror(errno));
			return 1;
		}
		printf("%s: selector %s removed%s; its DNS record may go "
		    "too\n", domain, selector, active ? " (it was in use: "
		    "`sealpostctl reload`)" : "");
		return 0;
	}
	/* activate */
	if (active) {
		printf("%s: selector %s is in use already\n", domain,
		    selector);
		return 0;
	}
	if ((r = key_alg(path, domain, selector)) == -1)
		return 1;
	memset(&s, 0, sizeof(s));
	s.alg = r;
	s.retire = 1;
	s.keep = selector;
	if (keys_each(cd, domain, same_alg_cb, &s) == -1)
		return 1;
	if (snprintf(act, sizeof(act), "%s/%s/%s.pem", cd->dir, domain,
	    selector) >= (int)sizeof(act) || rename(path, act) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	printf("%s: selector %s in use after `sealpostctl reload`\n", domain,
	    selector);
	return 0;
}

int
ctl_dkim_main(const char *conffile, int argc, char **argv)
{
	struct cd	cd;
	int		r;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "list") == 0 && argc != 2)
		return usage();
	if ((strcmp(argv[1], "record") == 0 ||
	    strcmp(argv[1], "activate") == 0 ||
	    strcmp(argv[1], "remove") == 0) && argc != 4)
		return usage();
	if (strcmp(argv[1], "gen") != 0 && strcmp(argv[1], "list") != 0 &&
	    strcmp(argv[1], "record") != 0 &&
	    strcmp(argv[1], "activate") != 0 &&
	    strcmp(argv[1], "remove") != 0)
		return usage();
	if (getuid() != 0) {
		fprintf(stderr, "sealpostctl: dkim: run as root\n");
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sealpostctl: libsodium\n");
		return 1;
	}
	if (cd_open(&cd, conffile) == -1) {
		cd_close(&cd);
		return 1;
	}
	umask(027);
	if (strcmp(argv[1], "gen") == 0)
		r = cmd_gen(&cd, argc, argv);
	else if (strcmp(argv[1], "list") == 0)
		r = cmd_list(&cd);
	else
		r = cmd_named(&cd, argv[1], argv[2], argv[3]);
	cd_close(&cd);
	return r;
}
