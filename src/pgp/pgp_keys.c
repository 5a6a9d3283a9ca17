/* SPDX-License-Identifier: ISC */
/*
 * pgp_keys.c - the organization's OpenPGP keyring (pgp_keys.h): its
 * folder and gpg.conf, a GPGME context on it, whether a key can be
 * encrypted to, and which key an address gets.
 *
 * Process:  sealpostctl key (root: prepare, import, list...); the pgp
 *           service (_sp_pgp: pgp_ctx_new, pgp_key_for) reading the
 *           keyring that root wrote.
 * Trust:    addresses come from SMTP and are hostile: checked before they
 *           reach gpg as a search pattern.  Keys are the administrator's
 *           choice but their user IDs are someone else's text: matched
 *           by GPGME's parsed address only, printed through pgp_esc().
 *           GPGME's answers are bounded by what gpg lists.
 * Limits:   PGP_ADDRESS_MAX, PGP_CONF_MAX (gpg.conf read back).
 * See also: docs/sealpostctl.8 KEYS, sealpostctl/ctl_key.c, RECIPES.md 4.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>

#include "pgp_keys.h"
#include "banned.h"

#define PGP_CONF_MAX	4096		/* a gpg.conf we read back */

/*
 * gpg.conf of the keyring.  no-autostart: public keys only, so no
 * gpg-agent is ever needed or left running (RECIPES.md 4).  trust-model
 * always: the keyring holds exactly the keys the administrator imported.
 * no-permission-warning: the pgp service reads a home owned by root.
 * no-random-seed-file: nobody writes into the folder while reading it.
 */
static const char *const pgp_conf_lines[] = {
	"no-autostart",
	"trust-model always",
	"no-permission-warning",
	"no-random-seed-file",
};
#define PGP_CONF_NLINES	\
	(sizeof(pgp_conf_lines) / sizeof(pgp_conf_lines[0]))
#define PGP_CONF_COMMENT \
	"# sealpost's keyring: change keys with sealpostctl key, not here\n"

/* ---- the folder ---------------------------------------------------- */

/*
 * An existing entry of parent: exactly this type, owner, group and mode
 * (gid (gid_t)-1: any group).  0 ok, -1 with err.
 */
static int
pgp_check_entry(int fd, const char *name, mode_t type, uid_t uid, gid_t gid,
    mode_t mode, char *err, size_t errlen)
{
	struct stat	st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	if ((st.st_mode & S_IFMT) != type) {
		snprintf(err, errlen, "%s exists and is not a %s", name,
		    type == S_IFDIR ? "directory" : "regular file");
		return -1;
	}
	if (st.st_uid != uid || (gid != (gid_t)-1 && st.st_gid != gid) ||
	    (st.st_mode & 07777) != mode) {
		if (gid == (gid_t)-1)
			snprintf(err, errlen, "%s exists with owner %lu mode "
			    "%04o, expected %lu %04o", name,
			    (unsigned long)st.st_uid,
			    (unsigned)(st.st_mode & 07777),
			    (unsigned long)uid, (unsigned)mode);
		else
			snprintf(err, errlen, "%s exists with owner %lu:%lu "
			    "mode %04o, expected %lu:%lu %04o", name,
			    (unsigned long)st.st_uid, (unsigned long)st.st_gid,
			    (unsigned)(st.st_mode & 07777),
			    (unsigned long)uid, (unsigned long)gid,
			    (unsigned)mode);
		return -1;
	}
	return 0;
}

/* mkdirat + check, as store/layout.c: the directory's fd, or -1 (err). */
static int
pgp_dir(int parent, const char *name, const char *shown, gid_t gid,
    mode_t mode, int check_gid, char *err, size_t errlen)
{
	int	fd;

	if (mkdirat(parent, name, mode) == 0) {
		if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			goto fail;
		/* SECURITY: chown/chmod the directory we opened, not a path */
		if (fchown(fd, 0, gid) == -1 || fchmod(fd, mode) == -1) {
			close(fd);
			goto fail;
		}
		return fd;
	}
	if (errno != EEXIST)
		goto fail;
	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOTDIR || errno == ELOOP) {
			snprintf(err, errlen, "%s exists and is not a "
			    "directory", shown);
			return -1;
		}
		goto fail;
	}
	if (pgp_check_entry(fd, shown, S_IFDIR, 0, check_gid ? gid :
	    (gid_t)-1, mode, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", shown, strerror(errno));
	return -1;
}

/*
 * Create name in dfd with these bytes, root:gid 0640, durably and only if
 * it does not exist yet (a temporary name, then link: never a half
 * written file under the real name, never over an existing one).
 * 1 created, 0 it existed, -1 with err.
 */
static int
pgp_file_create(int dfd, const char *name, const char *shown,
    const void *data, size_t len, gid_t gid, char *err, size_t errlen)
{
	char	tmp[64];
	int	fd, rc = -1;

	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
	(void)unlinkat(dfd, tmp, 0);	/* ours, from a crashed run */
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", shown, strerror(errno));
		return -1;
	}
	if (fchown(fd, 0, gid) == -1 || fchmod(fd, 0640) == -1 ||
	    write(fd, data, len) != (ssize_t)len || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", shown, strerror(errno));
		goto done;
	}
	if (linkat(dfd, tmp, dfd, name, 0) == -1) {
		/* EEXIST: made meanwhile; the caller checks it */
		if (errno == EEXIST)
			rc = 0;
		else
			snprintf(err, errlen, "%s: %s", shown,
			    strerror(errno));
		goto done;
	}
	rc = 1;
done:
	close(fd);
	(void)unlinkat(dfd, tmp, 0);
	if (rc == 1 && fsync(dfd) == -1) {
		snprintf(err, errlen, "%s: %s", shown, strerror(errno));
		rc = -1;
	}
	return rc;
}

/* gpg.conf holds our lines, each once, and nothing but comments besides. */
static int
pgp_conf_check(int fd, const char *shown, char *err, size_t errlen)
{
	char	buf[PGP_CONF_MAX + 1], *line, *next, *nl;
	int	seen[PGP_CONF_NLINES];
	size_t	i, len = 0;
	ssize_t	n;

	memset(seen, 0, sizeof(seen));
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len,
	    sizeof(buf) - 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", shown,
			    strerror(errno));
			return -1;
		}
		len += (size_t)n;
	}
	if (len > PGP_CONF_MAX || memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s is not sealpost's (too long or "
		    "binary)", shown);
		return -1;
	}
	buf[len] = '\0';
	for (line = buf; *line != '\0'; line = next) {
		if ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			next = nl + 1;
		} else
			next = line + strlen(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (i = 0; i < PGP_CONF_NLINES; i++)
			if (strcmp(line, pgp_conf_lines[i]) == 0)
				break;
		if (i == PGP_CONF_NLINES || seen[i]++) {
			/* SECURITY: gpg.conf can load code (load-extension) */
			snprintf(err, errlen, "%s has a line sealpost did "
			    "not write; expected only: no-autostart, "
			    "trust-model always, no-permission-warning, "
			    "no-random-seed-file", shown);
			return -1;
		}
	}
	for (i = 0; i < PGP_CONF_NLINES; i++)
		if (!seen[i]) {
			snprintf(err, errlen, "%s lacks the line \"%s\"", shown,
			    pgp_conf_lines[i]);
			return -1;
		}
	return 0;
}

/*
 * An empty keybox: the header blob gpg writes itself (GnuPG's
 * kbx/keybox-blob.c: length 32, type 1 "header", version 1, flags 2
 * "OpenPGP", "KBXf", RFU, created, last maintenance, RFU x2).  A 0-byte
 * pubring.kbx would not do: gpg takes an empty file for an old-style
 * keyring and writes packets into it.
 */
void
pgp_kbx_header(unsigned char h[32], time_t now)
{
	uint32_t	t = (uint32_t)now;
	int		i;

	memset(h, 0, 32);
	h[3] = 32;
	h[4] = 1;
	h[5] = 1;
	h[7] = 2;
	memcpy(h + 8, "KBXf", 4);
	for (i = 0; i < 4; i++) {
		h[16 + i] = (unsigned char)(t >> (24 - 8 * i));
		h[20 + i] = (unsigned char)(t >> (24 - 8 * i));
	}
}

/* name in dfd: create it with data when missing, then check it. */
static int
pgp_file(int dfd, const char *name, const char *shown, const void *data,
    size_t len, gid_t gid, int is_conf, char *err, size_t errlen)
{
	int	fd, rc;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1 && errno == ENOENT) {
		if (pgp_file_create(dfd, name, shown, data, len, gid, err,
		    errlen) == -1)
			return -1;
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NONBLOCK);
	}
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(err, errlen, "%s exists and is not a regular "
			    "file", shown);
		else
			snprintf(err, errlen, "%s: %s", shown,
			    strerror(errno));
		return -1;
	}
	rc = pgp_check_entry(fd, shown, S_IFREG, 0, gid, 0640, err, errlen);
	if (rc == 0 && is_conf)
		rc = pgp_conf_check(fd, shown, err, errlen);
	close(fd);
	return rc;
}

/* Our gpg.conf (the comment, then pgp_conf_lines) into conf: its length,
 * or 0 (err) when it does not fit, a bug. */
static size_t
pgp_conf_text(char *conf, size_t size, char *err, size_t errlen)
{
	size_t	i, len;

	len = strlcpy(conf, PGP_CONF_COMMENT, size);
	for (i = 0; i < PGP_CONF_NLINES; i++) {
		len = strlcat(conf, pgp_conf_lines[i], size);
		len = strlcat(conf, "\n", size);
	}
	if (len >= size) {
		snprintf(err, errlen, "gpg.conf: too long");
		return 0;
	}
	return len;
}

int
pgp_keyring_prepare(const char *data_dir, gid_t gid, char *err,
    size_t errlen)
{
	char		conf[sizeof(PGP_CONF_COMMENT) + 128], shown[64];
	unsigned char	kbx[32];
	size_t		len;
	int		data, keys = -1, home = -1, rc = -1;

	if ((len = pgp_conf_text(conf, sizeof(conf), err, errlen)) == 0)
		return -1;
	if ((data = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", data_dir, strerror(errno));
		return -1;
	}
	if ((keys = pgp_dir(data, "keys", "DATA_DIR/keys", 0, 0700, 0, err,
	    errlen)) == -1 ||
	    (home = pgp_dir(keys, "gnupg", "DATA_DIR/" PGP_KEYRING_DIR, gid,
	    0750, 1, err, errlen)) == -1)
		goto done;
	snprintf(shown, sizeof(shown), "DATA_DIR/%s/gpg.conf",
	    PGP_KEYRING_DIR);
	if (pgp_file(home, "gpg.conf", shown, conf, len, gid, 1, err,
	    errlen) == -1)
		goto done;
	pgp_kbx_header(kbx, time(NULL));
	snprintf(shown, sizeof(shown), "DATA_DIR/%s/pubring.kbx",
	    PGP_KEYRING_DIR);
	if (pgp_file(home, "pubring.kbx", shown, kbx, sizeof(kbx), gid, 0,
	    err, errlen) == -1)
		goto done;
	rc = 0;
done:
	if (home != -1)
		close(home);
	if (keys != -1) {
		if (rc == 0 && fsync(keys) == -1) {
			snprintf(err, errlen, "DATA_DIR/keys: %s",
			    strerror(errno));
			rc = -1;
		}
		close(keys);
	}
	close(data);
	return rc;
}

/*
 * An entry of the learnt-keys folder: made owner:gid mode when missing
 * (a directory, or a file with data), then it must be exactly that.
 * 0 ok, -1 with err.
 */
static int
pgp_disc_entry(int parent, const char *in, const char *name, int dir,
    const void *data, size_t len, uid_t uid, gid_t gid, mode_t mode,
    char *err, size_t errlen)
{
	struct stat	st;
	char		shown[96];
	int		fd;

	snprintf(shown, sizeof(shown), "DATA_DIR/%s%s", in, name);
	if (dir) {
		if (mkdirat(parent, name, mode) == 0) {
			if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
			    fchown(fd, uid, gid) == -1 || fchmod(fd, mode) == -1)
				goto fail;
			close(fd);
		} else if (errno != EEXIST)
			goto fail;
	} else if ((fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, mode)) != -1) {
		if (fchown(fd, uid, gid) == -1 || fchmod(fd, mode) == -1 ||
		    write(fd, data, len) != (ssize_t)len || fsync(fd) == -1) {
			close(fd);
			goto fail;
		}
		close(fd);
	} else if (errno != EEXIST)
		goto fail;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		goto fail;
	if ((st.st_mode & S_IFMT) != (dir ? S_IFDIR : S_IFREG) ||
	    st.st_uid != uid || (st.st_mode & 07777) != mode) {
		snprintf(err, errlen, "%s must be a %s of user %lu, mode %04o",
		    shown, dir ? "directory" : "regular file",
		    (unsigned long)uid, (unsigned)mode);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", shown, strerror(errno));
	return -1;
}

int
pgp_discovered_prepare(const char *data_dir, uid_t uid, gid_t gid,
    char *err, size_t errlen)
{
	static const char *const homes[] = { "wkd", "autocrypt" };
	char		conf[sizeof(PGP_CONF_COMMENT) + 512], path[64];
	/* path: for messages only */
	unsigned char	kbx[32];
	size_t		i, len;
	int		keys, disc = -1, home, rc = -1;

	if ((len = pgp_conf_text(conf, sizeof(conf), err, errlen)) == 0)
		return -1;
	pgp_kbx_header(kbx, time(NULL));
	if ((keys = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (disc = openat(keys, "keys", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "DATA_DIR/keys: %s", strerror(errno));
		goto done;
	}
	close(keys);
	keys = disc;
	disc = -1;
	if (pgp_disc_entry(keys, "keys/", "discovered", 1, NULL, 0, uid, gid,
	    0700, err, errlen) == -1)
		goto done;
	if ((disc = openat(keys, "discovered", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "DATA_DIR/%s: %s", PGP_DISC_DIR,
		    strerror(errno));
		goto done;
	}
	for (i = 0; i < sizeof(homes) / sizeof(homes[0]); i++) {
		if (pgp_disc_entry(disc, PGP_DISC_DIR "/", homes[i], 1, NULL,
		    0, uid, gid, 0700, err, errlen) == -1)
			goto done;
		if ((home = openat(disc, homes[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "DATA_DIR/%s/%s: %s",
			    PGP_DISC_DIR, homes[i], strerror(errno));
			goto done;
		}
		/* SECURITY: through the folder's fd, never "wkd/...": the
		 * pgp user could have swapped the name for a link */
		snprintf(path, sizeof(path), "%s/%s/", PGP_DISC_DIR, homes[i]);
		if (pgp_disc_entry(home, path, "gpg.conf", 0, conf, len, uid,
		    gid, 0600, err, errlen) == -1 ||
		    pgp_disc_entry(home, path, "pubring.kbx", 0, kbx,
		    sizeof(kbx), uid, gid, 0600, err, errlen) == -1) {
			close(home);
			goto done;
		}
		(void)fsync(home);
		close(home);
	}
	/* every keyring at once, for gpg to encrypt to keys of several */
	if (pgp_disc_entry(disc, PGP_DISC_DIR "/", "all", 1, NULL, 0, uid,
	    gid, 0700, err, errlen) == -1)
		goto done;
	if ((home = openat(disc, "all", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "DATA_DIR/%s/all: %s", PGP_DISC_DIR,
		    strerror(errno));
		goto done;
	}
	len = strlcat(conf, "no-default-keyring\n"
	    "keyring /gnupg/pubring.kbx\n"
	    "keyring /discovered/wkd/pubring.kbx\n"
	    "keyring /discovered/autocrypt/pubring.kbx\n", sizeof(conf));
	if (len >= sizeof(conf) || pgp_disc_entry(home, PGP_DISC_DIR "/all/",
	    "gpg.conf", 0, conf, len, uid, gid, 0600, err, errlen) == -1) {
		if (len >= sizeof(conf))
			snprintf(err, errlen, "gpg.conf: too long");
		close(home);
		goto done;
	}
	close(home);
	(void)fsync(disc);
	rc = 0;
done:
	if (disc != -1)
		close(disc);
	if (keys != -1)
		close(keys);
	return rc;
}

/* ---- GPGME --------------------------------------------------------- */

static pthread_once_t	pgp_once = PTHREAD_ONCE_INIT;
static char		pgp_init_err[256];

static void
pgp_init(void)
{
	gpgme_error_t	e;

	/* mandatory before anything else in GPGME */
	if (gpgme_check_version(NULL) == NULL) {
		snprintf(pgp_init_err, sizeof(pgp_init_err), "GPGME: "
		    "gpgme_check_version failed");
		return;
	}
	if ((e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) != 0)
		snprintf(pgp_init_err, sizeof(pgp_init_err), "GnuPG (gpg) "
		    "is not usable: %s", gpgme_strerror(e));
}

gpgme_ctx_t
pgp_ctx_new(const char *home, char *err, size_t errlen)
{
	gpgme_ctx_t	ctx;
	gpgme_error_t	e;

	(void)pthread_once(&pgp_once, pgp_init);
	if (pgp_init_err[0] != '\0') {
		snprintf(err, errlen, "%s", pgp_init_err);
		return NULL;
	}
	if ((e = gpgme_new(&ctx)) != 0) {
		snprintf(err, errlen, "gpgme_new: %s", gpgme_strerror(e));
		return NULL;
	}
	if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL,
	    home)) != 0 ||
	    (e = gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL)) != 0) {
		snprintf(err, errlen, "GPGME: %s", gpgme_strerror(e));
		gpgme_release(ctx);
		return NULL;
	}
	gpgme_set_armor(ctx, 0);
	/* SECURITY: never a keyserver, a WKD or a DNS lookup */
	gpgme_set_offline(ctx, 1);
	return ctx;
}

/* ---- keys ---------------------------------------------------------- */

void
pgp_date(long t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t == 0) {
		snprintf(buf, len, "never");
		return;
	}
	/* gmtime, not localtime: nothing to read in a jail (RECIPES.md 9) */
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "?");
}

/* An encryption subkey we can use at now. */
static int
pgp_subkey_ok(gpgme_subkey_t sk, time_t now)
{
	return sk->can_encrypt && !sk->revoked && !sk->expired &&
	    !sk->invalid && !sk->disabled &&
	    (sk->expires == 0 || sk->expires > now);
}

int
pgp_key_usable(gpgme_key_t key, time_t now, char *why, size_t whylen)
{
	gpgme_subkey_t	sk, pk = key->subkeys;
	char		date[PGP_DATE_MAX];
	int		encrypters = 0;

	if (pk == NULL) {
		snprintf(why, whylen, "invalid");	/* no primary key */
		return 0;
	}
	if (key->revoked || pk->revoked) {
		snprintf(why, whylen, "revoked");
		return 0;
	}
	if (key->expired || pk->expired ||
	    (pk->expires != 0 && pk->expires <= now)) {
		pgp_date(pk->expires, date, sizeof(date));
		if (pk->expires == 0)
			snprintf(why, whylen, "expired");
		else
			snprintf(why, whylen, "expired on %s", date);
		return 0;
	}
	if (key->disabled || pk->disabled) {
		snprintf(why, whylen, "disabled");
		return 0;
	}
	if (key->invalid || pk->invalid) {
		snprintf(why, whylen, "invalid");
		return 0;
	}
	/* the primary itself may encrypt (an RSA key without subkeys) */
	for (sk = pk; sk != NULL; sk = sk->next) {
		if (!sk->can_encrypt)
			continue;
		encrypters++;
		if (pgp_subkey_ok(sk, now))
			return 1;
	}
	snprintf(why, whylen, "%s", encrypters == 0 ? "no encryption subkey" :
	    "its encryption subkeys are expired or revoked");
	return 0;
}

/* One UTF-8 sequence at s (n bytes left): its length and code point, or
 * 0 when malformed (overlong, surrogate, past U+10FFFF, cut). */
static size_t
pgp_utf8(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t		len, i;
	unsigned long	c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Unicode spaces, format and bidi controls: not in an address. */
static int
pgp_cp_bad(unsigned long c)
{
	return c < 0x21 || c == 0x7f || (c >= 0x80 && c <= 0xa0) ||
	    c == 0xad || c == 0x1680 || c == 0x180e ||
	    (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	    (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff ||
	    (c >= 0xfff0 && c <= 0xfffb) || (c & 0xfffe) == 0xfffe;
}

int
pgp_address_ok(const char *address)
{
	const unsigned char	*s = (const unsigned char *)address;
	const char		*at;
	unsigned long		 cp;
	size_t			 n, i, len;

	n = strnlen(address, PGP_ADDRESS_MAX + 1);
	if (n == 0 || n > PGP_ADDRESS_MAX)
		return 0;
	for (i = 0; i < n; i += len) {
		if ((len = pgp_utf8(s + i, n - i, &cp)) == 0 ||
		    pgp_cp_bad(cp) || cp == '<' || cp == '>')
			return 0;
	}
	/* a local part and a domain; the last '@' splits them */
	if ((at = strrchr(address, '@')) == NULL || at == address ||
	    at[1] == '\0')
		return 0;
	return 1;
}

int
pgp_uid_counts(gpgme_key_t key, gpgme_user_id_t uid)
{
	if (uid->invalid)
		return 0;
	/* a revoked key's user IDs are listed revoked as well */
	if (uid->revoked && !key->revoked)
		return 0;
	return 1;
}

int
pgp_key_has_address(gpgme_key_t key, const char *address)
{
	gpgme_user_id_t	uid;

	for (uid = key->uids; uid != NULL; uid = uid->next)
		if (uid->address != NULL && pgp_uid_counts(key, uid) &&
		    strcasecmp(uid->address, address) == 0)
			return 1;
	return 0;
}

/* Is a a better choice than b: created later, or then the larger fpr. */
static int
pgp_newer(gpgme_key_t a, gpgme_key_t b)
{
	if (b == NULL)
		return 1;
	if (a->subkeys->timestamp != b->subkeys->timestamp)
		return a->subkeys->timestamp > b->subkeys->timestamp;
	return strcmp(a->fpr != NULL ? a->fpr : "", b->fpr != NULL ?
	    b->fpr : "") > 0;
}

/*
 * Can we read the context's keyring?  gpg that cannot enter its home
 * says "Fatal: ... directory does not exist!" and exits, and GPGME ends
 * the key listing with EOF, no error: it would look like "no key".
 */
static int
pgp_keyring_readable(gpgme_ctx_t ctx, char *why, size_t whylen)
{
	gpgme_engine_info_t	 e;
	char			 path[PATH_MAX];
	int			 fd, n;

	for (e = gpgme_ctx_get_engine_info(ctx); e != NULL; e = e->next)
		if (e->protocol == GPGME_PROTOCOL_OpenPGP)
			break;
	if (e == NULL || e->home_dir == NULL)
		return 0;	/* gpg's default home: gpg reports errors */
	n = snprintf(path, sizeof(path), "%s/pubring.kbx", e->home_dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(why, whylen, "the keyring's path is too long");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(why, whylen, "the keyring %s: %s", path,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int
pgp_key_for(gpgme_ctx_t ctx, const char *address, time_t now,
    gpgme_key_t *key_r, char *why, size_t whylen)
{
	gpgme_key_t	 key, best = NULL, seen = NULL;
	gpgme_error_t	 e;
	char		 pattern[PGP_ADDRESS_MAX + 3], reason[PGP_WHY_MAX];

	*key_r = NULL;
	if (!pgp_address_ok(address)) {
		snprintf(why, whylen, "not an address");
		return 0;
	}
	if (pgp_keyring_readable(ctx, why, whylen) == -1)
		return -1;
	/* "<addr>": gpg's exact, case-insensitive match on the address */
	snprintf(pattern, sizeof(pattern), "<%s>", address);
	if ((e = gpgme_op_keylist_start(ctx, pattern, 0)) != 0) {
		snprintf(why, whylen, "%s", gpgme_strerror(e));
		return -1;
	}
	while ((e = gpgme_op_keylist_next(ctx, &key)) == 0) {
		/* gpg's match is checked again on GPGME's parsed address */
		if (key->subkeys == NULL || !pgp_key_has_address(key,
		    address)) {
			gpgme_key_unref(key);
			continue;
		}
		if (pgp_key_usable(key, now, reason, sizeof(reason))) {
			if (pgp_newer(key, best)) {
				if (best != NULL)
					gpgme_key_unref(best);
				best = key;
				continue;
			}
		} else if (pgp_newer(key, seen)) {
			if (seen != NULL)
				gpgme_key_unref(seen);
			seen = key;
			continue;
		}
		gpgme_key_unref(key);
	}
	if (gpg_err_code(e) != GPG_ERR_EOF) {
		(void)gpgme_op_keylist_end(ctx);
		snprintf(why, whylen, "%s", gpgme_strerror(e));
		if (best != NULL)
			gpgme_key_unref(best);
		if (seen != NULL)
			gpgme_key_unref(seen);
		return -1;
	}
	if (best != NULL) {
		if (seen != NULL)
			gpgme_key_unref(seen);
		*key_r = best;
		return 1;
	}
	if (seen == NULL) {
		snprintf(why, whylen, "no key");
		return 0;
	}
	(void)pgp_key_usable(seen, now, reason, sizeof(reason));
	snprintf(why, whylen, "the key for %s is not usable: %s", address,
	    reason);
	gpgme_key_unref(seen);
	return 0;
}

void
pgp_key_describe(gpgme_key_t key, struct pgp_key_desc *d)
{
	gpgme_subkey_t	 sk;
	char		*a;
	const char	*p;
	size_t		 alen, off;
	int		 dup;

	memset(d, 0, sizeof(*d));
	if (key->subkeys == NULL || key->subkeys->fpr == NULL) {
		strlcpy(d->fpr, "?", sizeof(d->fpr));
		strlcpy(d->algo, "?", sizeof(d->algo));
		pgp_date(0, d->created, sizeof(d->created));
		pgp_date(0, d->expires, sizeof(d->expires));
		return;
	}
	strlcpy(d->fpr, key->subkeys->fpr, sizeof(d->fpr));
	for (sk = key->subkeys; sk != NULL; sk = sk->next) {
		if ((a = gpgme_pubkey_algo_string(sk)) == NULL)
			continue;
		/* skip a name already listed (whole words only) */
		alen = strlen(a);
		dup = 0;
		for (p = d->algo; *p != '\0'; p += off + (p[off] == '/')) {
			off = strcspn(p, "/");
			if (off == alen && strncmp(p, a, alen) == 0)
				dup = 1;
		}
		if (!dup && strlen(d->algo) + alen + 2 <= sizeof(d->algo)) {
			if (d->algo[0] != '\0')
				strlcat(d->algo, "/", sizeof(d->algo));
			strlcat(d->algo, a, sizeof(d->algo));
		}
		gpgme_free(a);
	}
	if (d->algo[0] == '\0')
		strlcpy(d->algo, "?", sizeof(d->algo));
	pgp_date(key->subkeys->timestamp, d->created, sizeof(d->created));
	pgp_date(key->subkeys->expires, d->expires, sizeof(d->expires));
}

char *
pgp_esc(char *dst, size_t dstlen, const char *src)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 o = 0;
	int			 plain;

	if (dstlen == 0)
		return dst;
	for (; *s != '\0'; s++) {
		plain = *s >= 0x20 && *s < 0x7f && *s != '\\';
		/* room for this byte's form, "..." and the NUL */
		if (o + (plain ? 1 : 4) + 4 > dstlen) {
			if (o + 4 <= dstlen) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain)
			dst[o++] = (char)*s;
		else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[*s >> 4];
			dst[o++] = hex[*s & 0xf];
		}
	}
	dst[o] = '\0';
	return dst;
}

int
pgp_fpr_ok(const char *s)
{
	size_t	i;

	for (i = 0; i < PGP_FPR_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return s[PGP_FPR_LEN] == '\0';
}
