/* SPDX-License-Identifier: ISC */
/*
 * test_pgp_keys.c - the OpenPGP keyring (pgp/pgp_keys.c): the folder and
 * gpg.conf pgp_keyring_prepare makes (and what it refuses), and for keys
 * made here by gpg (ed25519/cv25519, about 50 ms each; RECIPES.md 4) in a
 * temporary home and imported into a prepared keyring: pgp_key_usable
 * (usable, expired, revoked, sign-only, an expired encryption subkey,
 * expiry against a later now) and pgp_key_for (exact and case-blind
 * addresses, "Alice <alice@...>" against "malice@...", a plain address
 * as user ID, a revoked user ID, two keys for one address: the newest,
 * and an older usable key before a newer unusable one, hostile
 * addresses); the descriptions and escaping; a keyring that cannot be
 * read is an error, not "no key".  The gpg-agent key generation started
 * is killed and every folder removed at the end.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>

#include "pgp_keys.h"
#include "test.h"
#include "banned.h"

#define GPG_ARGS_MAX	32

static char	tmpdir[64];		/* everything of this test */
static char	genhome[96];		/* where gpg makes the keys */
static char	datadir[96];		/* a DATA_DIR with the keyring */
static char	keyring[128];		/* datadir/keys/gnupg */
static int	keys_ready;

/* gpg --homedir genhome --batch ... ARGS; stdout into out (NULL: none). */
static int
gpg(const char *out, ...)
{
	const char	*argv[GPG_ARGS_MAX];
	va_list		 ap;
	pid_t		 pid;
	int		 n = 0, fd, st;

	argv[n++] = "gpg";
	argv[n++] = "--homedir";
	argv[n++] = genhome;
	argv[n++] = "--batch";
	argv[n++] = "--quiet";
	argv[n++] = "--no-tty";
	argv[n++] = "--pinentry-mode";
	argv[n++] = "loopback";
	argv[n++] = "--passphrase";
	argv[n++] = "";
	va_start(ap, out);
	while (n < GPG_ARGS_MAX - 1 && (argv[n] = va_arg(ap, const char *)) !=
	    NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		fd = out != NULL ? open(out, O_WRONLY | O_CREAT | O_TRUNC,
		    0600) : open("/dev/null", O_WRONLY);
		if (fd == -1)
			_exit(126);
		(void)dup2(fd, STDOUT_FILENO);
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			(void)dup2(fd, STDERR_FILENO);
		execvp("gpg", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A new key: uid, algo, usage, expire, at the faked time (NULL: now). */
static int
gen(const char *uid, const char *algo, const char *usage, const char *exp,
    const char *when)
{
	if (when != NULL)
		return gpg(NULL, "--faked-system-time", when,
		    "--quick-gen-key", uid, algo, usage, exp, (char *)NULL);
	return gpg(NULL, "--quick-gen-key", uid, algo, usage, exp,
	    (char *)NULL);
}

/* The fingerprint of the (first) key of genhome with this address. */
static int
fpr_of(const char *address, char *fpr, size_t len)
{
	gpgme_ctx_t	ctx;
	gpgme_key_t	key;
	char		err[256], pattern[300];
	int		rc = -1;

	if ((ctx = pgp_ctx_new(genhome, err, sizeof(err))) == NULL)
		return -1;
	snprintf(pattern, sizeof(pattern), "<%s>", address);
	if (gpgme_get_key(ctx, pattern, &key, 0) == 0) {
		strlcpy(fpr, key->subkeys->fpr, len);
		gpgme_key_unref(key);
		rc = 0;
	}
	gpgme_release(ctx);
	return rc;
}

static int
file_read(const char *path, char *buf, size_t len, size_t *got)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, buf, len);
	close(fd);
	if (n < 0)
		return -1;
	*got = (size_t)n;
	return 0;
}

static int
file_write(const char *path, const char *buf, size_t len);

static int
file_put(const char *path, const char *s)
{
	return file_write(path, s, strlen(s));
}

static int
file_write(const char *path, const char *buf, size_t len)
{
	int	fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return -1;
	rc = write(fd, buf, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * Revoke the key of address with the certificate gpg stored when it made
 * the key (its first line has a ':' against accidental import).
 */
static int
revoke_key(const char *address)
{
	char	fpr[64], path[256], cert[8192], *p;
	size_t	len;

	if (fpr_of(address, fpr, sizeof(fpr)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/openpgp-revocs.d/%s.rev", genhome,
	    fpr);
	if (file_read(path, cert, sizeof(cert) - 1, &len) == -1)
		return -1;
	cert[len] = '\0';
	if ((p = strstr(cert, ":-----BEGIN")) == NULL)
		return -1;
	memmove(p, p + 1, len - (size_t)(p - cert));
	snprintf(path, sizeof(path), "%s/rev.asc", tmpdir);
	if (file_write(path, cert, len - 1) == -1)
		return -1;
	return gpg(NULL, "--import", path, (char *)NULL);
}

static int
make_keys(void)
{
	char	fpr[64], path[256];

	if (gen("Alice <alice@example.test>", "future-default", "default",
	    "never", NULL) == -1 ||
	    gen("Mal <malice@example.test>", "future-default", "default",
	    "never", NULL) == -1 ||
	    /* expired on 2020-01-02 */
	    gen("Carol <carol@example.test>", "future-default", "default",
	    "1d", "20200101T000000!") == -1 ||
	    gen("Dave <dave@example.test>", "future-default", "default",
	    "never", NULL) == -1 || revoke_key("dave@example.test") == -1 ||
	    /* sign-only: no encryption subkey */
	    gen("Eve <eve@example.test>", "ed25519", "default", "never",
	    NULL) == -1 ||
	    /* two keys, the newer wins */
	    gen("Frank Old <frank@example.test>", "future-default", "default",
	    "never", "20240101T000000!") == -1 ||
	    gen("Frank New <frank@example.test>", "future-default", "default",
	    "never", NULL) == -1 ||
	    /* a newer unusable key does not hide an older usable one */
	    gen("Gina Old <gina@example.test>", "future-default", "default",
	    "never", "20230101T000000!") == -1 ||
	    gen("Gina New <gina@example.test>", "ed25519", "default", "never",
	    NULL) == -1 ||
	    gen("Henry <Henry@Example.TEST>", "future-default", "default",
	    "never", NULL) == -1 ||
	    gen("Ivy <ivy@example.test>", "future-default", "default",
	    "never", NULL) == -1 ||
	    gen("kim@example.test", "future-default", "default", "never",
	    NULL) == -1 ||
	    gen("Lea <lea@example.test>", "future-default", "default", "1y",
	    NULL) == -1 ||
	    gen("Jill <jill@example.test>", "ed25519", "sign", "never",
	    "20200101T000000!") == -1)
		return -1;
	/* Ivy: a second user ID, the first revoked */
	if (fpr_of("ivy@example.test", fpr, sizeof(fpr)) == -1 ||
	    gpg(NULL, "--quick-add-uid", fpr, "Ivy <ivy@other.test>",
	    (char *)NULL) == -1 ||
	    gpg(NULL, "--quick-revoke-uid", fpr, "Ivy <ivy@example.test>",
	    (char *)NULL) == -1)
		return -1;
	/* Jill: an encryption subkey that expired on 2020-01-02 */
	if (fpr_of("jill@example.test", fpr, sizeof(fpr)) == -1 ||
	    gpg(NULL, "--faked-system-time", "20200101T000000!",
	    "--quick-add-key", fpr, "cv25519", "encr", "1d",
	    (char *)NULL) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/pub.gpg", tmpdir);
	return gpg(path, "--export", (char *)NULL);
}

/* Import tmpdir/pub.gpg into the prepared keyring, as a library user. */
static int
import_keys(void)
{
	gpgme_ctx_t		ctx;
	gpgme_data_t		d;
	gpgme_import_result_t	r;
	char			err[256], path[256];
	int			rc = -1;

	if ((ctx = pgp_ctx_new(keyring, err, sizeof(err))) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/pub.gpg", tmpdir);
	if (gpgme_data_new_from_file(&d, path, 1) == 0) {
		if (gpgme_op_import(ctx, d) == 0 &&
		    (r = gpgme_op_import_result(ctx)) != NULL &&
		    r->imported == 14)
			rc = 0;
		else
			printf("# import into the keyring failed\n");
		gpgme_data_release(d);
	}
	gpgme_release(ctx);
	return rc;
}

static int
mode_of(const char *path, struct stat *st)
{
	return lstat(path, st);
}

static void
test_prepare(void)
{
	struct stat	st;
	char		path[256], err[256], buf[512], d2[128];
	size_t		len;

	test_begin("pgp_keyring_prepare: folder, gpg.conf, empty keybox");
	test_assert(pgp_keyring_prepare(datadir, getgid(), err,
	    sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/keys", datadir);
	test_assert(mode_of(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 07777) == 0700 && st.st_uid == 0);
	test_assert(mode_of(keyring, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 07777) == 0750 && st.st_uid == 0 &&
	    st.st_gid == getgid());
	snprintf(path, sizeof(path), "%s/gpg.conf", keyring);
	test_assert(mode_of(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0640 && st.st_gid == getgid());
	test_assert(file_read(path, buf, sizeof(buf) - 1, &len) == 0);
	buf[len] = '\0';
	test_assert(buf[0] == '#');
	test_assert(strstr(buf, "\nno-autostart\ntrust-model always\n"
	    "no-permission-warning\nno-random-seed-file\n") != NULL);
	snprintf(path, sizeof(path), "%s/pubring.kbx", keyring);
	test_assert(mode_of(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0640 && st.st_size == 32);
	test_assert(file_read(path, buf, sizeof(buf), &len) == 0 && len == 32 &&
	    memcmp(buf + 8, "KBXf", 4) == 0);
	/* again: nothing to do */
	test_assert(pgp_keyring_prepare(datadir, getgid(), err,
	    sizeof(err)) == 0);
	test_end();

	test_begin("pgp_keyring_prepare: fixes nothing, says what is wrong");
	snprintf(d2, sizeof(d2), "%s/d2", tmpdir);
	test_assert(mkdir(d2, 0700) == 0);
	/* DATA_DIR/keys of another mode */
	snprintf(path, sizeof(path), "%s/keys", d2);
	test_assert(mkdir(path, 0755) == 0 && chmod(path, 0755) == 0);
	test_assert(pgp_keyring_prepare(d2, getgid(), err, sizeof(err)) == -1);
	test_assert_streq(err, "DATA_DIR/keys exists with owner 0 mode 0755, "
	    "expected 0 0700");
	test_assert(chmod(path, 0700) == 0);
	/* the folder of another mode */
	snprintf(path, sizeof(path), "%s/keys/gnupg", d2);
	test_assert(mkdir(path, 0700) == 0);
	test_assert(pgp_keyring_prepare(d2, getgid(), err, sizeof(err)) == -1);
	test_assert(strstr(err, "DATA_DIR/keys/gnupg exists with owner 0:") ==
	    err && strstr(err, "mode 0700, expected") != NULL);
	test_assert(chmod(path, 0750) == 0);
	/* a gpg.conf with a line we did not write */
	snprintf(path, sizeof(path), "%s/keys/gnupg/gpg.conf", d2);
	test_assert(file_put(path, "no-autostart\ntrust-model always\n"
	    "no-permission-warning\nno-random-seed-file\nload-extension x\n")
	    == 0 && chmod(path, 0640) == 0);
	test_assert(pgp_keyring_prepare(d2, getgid(), err, sizeof(err)) == -1);
	test_assert(strstr(err, "gpg.conf has a line sealpost did not write")
	    != NULL);
	/* one line missing */
	test_assert(file_put(path, "# x\nno-autostart\ntrust-model always\n"
	    "no-random-seed-file\n") == 0);
	test_assert(pgp_keyring_prepare(d2, getgid(), err, sizeof(err)) == -1);
	test_assert(strstr(err, "lacks the line \"no-permission-warning\"") !=
	    NULL);
	/* a symlink instead of gpg.conf */
	test_assert(unlink(path) == 0 && symlink("/etc/passwd", path) == 0);
	test_assert(pgp_keyring_prepare(d2, getgid(), err, sizeof(err)) == -1);
	test_assert(strstr(err, "gpg.conf exists and is not a regular file") !=
	    NULL);
	test_assert(unlink(path) == 0);
	/* a group-writable gpg.conf */
	test_assert(file_put(path, "no-autostart\ntrust-model always\n"
	    "no-permission-warning\nno-random-seed-file\n") == 0 &&
	    chmod(path, 0660) == 0);
	test_assert(pgp_keyring_prepare(d2, getgid(), err, sizeof(err)) == -1);
	test_assert(strstr(err, "mode 0660, expected") != NULL);
	/* all right now: the keybox is made */
	test_assert(chmod(path, 0640) == 0);
	test_assert(pgp_keyring_prepare(d2, getgid(), err, sizeof(err)) == 0);
	/* the folder a file */
	snprintf(path, sizeof(path), "%s/d3", tmpdir);
	test_assert(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/d3/keys", tmpdir);
	test_assert(file_put(path, "") == 0);
	snprintf(path, sizeof(path), "%s/d3", tmpdir);
	test_assert(pgp_keyring_prepare(path, getgid(), err,
	    sizeof(err)) == -1);
	test_assert_streq(err, "DATA_DIR/keys exists and is not a directory");
	/* no DATA_DIR */
	snprintf(path, sizeof(path), "%s/nothing", tmpdir);
	test_assert(pgp_keyring_prepare(path, getgid(), err,
	    sizeof(err)) == -1);
	test_assert(strstr(err, "No such file or directory") != NULL);
	test_end();
}

static void
test_empty_keyring(void)
{
	gpgme_ctx_t	ctx;
	gpgme_key_t	key;
	char		err[256], why[PGP_WHY_MAX];

	test_begin("an empty prepared keyring: no key, not an error");
	ctx = pgp_ctx_new(keyring, err, sizeof(err));
	test_assert(ctx != NULL);
	if (ctx != NULL) {
		test_assert(pgp_key_for(ctx, "alice@example.test", time(NULL),
		    &key, why, sizeof(why)) == 0);
		test_assert_streq(why, "no key");
		test_assert(key == NULL);
		gpgme_release(ctx);
	}
	test_end();
}

/* The key pgp_key_for gives address: its first user ID's name, or why. */
static int
key_for(gpgme_ctx_t ctx, const char *address, time_t now, char *out,
    size_t len)
{
	gpgme_key_t	key;
	int		r;

	r = pgp_key_for(ctx, address, now, &key, out, len);
	if (r == 1) {
		strlcpy(out, key->uids->name, len);
		gpgme_key_unref(key);
	}
	return r;
}

/* The key of the keyring with this address; NULL when none. */
static gpgme_key_t
key_get(gpgme_ctx_t ctx, const char *address)
{
	gpgme_key_t	key;
	char		pattern[300];

	snprintf(pattern, sizeof(pattern), "<%s>", address);
	if (gpgme_get_key(ctx, pattern, &key, 0) != 0)
		return NULL;
	return key;
}

static void
test_usable(gpgme_ctx_t ctx)
{
	static const struct {
		const char	*address;
		int		 usable;
		const char	*why;
	} cases[] = {
		{ "alice@example.test", 1, "" },
		{ "carol@example.test", 0, "expired on 2020-01-02" },
		{ "dave@example.test", 0, "revoked" },
		{ "eve@example.test", 0, "no encryption subkey" },
		{ "jill@example.test", 0,
		    "its encryption subkeys are expired or revoked" },
		{ "lea@example.test", 1, "" },
		{ "kim@example.test", 1, "" },
	};
	gpgme_key_t	key;
	char		why[PGP_WHY_MAX], date[PGP_DATE_MAX], want[64];
	time_t		now = time(NULL);
	size_t		i;

	test_begin("pgp_key_usable: each kind of key");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		key = key_get(ctx, cases[i].address);
		test_assert(key != NULL);
		if (key == NULL)
			continue;
		why[0] = '\0';
		test_assert(pgp_key_usable(key, now, why, sizeof(why)) ==
		    cases[i].usable);
		test_assert_streq(why, cases[i].why);
		gpgme_key_unref(key);
	}
	/* Lea's key expires in a year: not usable in two */
	key = key_get(ctx, "lea@example.test");
	test_assert(key != NULL);
	if (key != NULL) {
		test_assert(key->subkeys->expires > now);
		pgp_date(key->subkeys->expires, date, sizeof(date));
		snprintf(want, sizeof(want), "expired on %s", date);
		test_assert(pgp_key_usable(key, now + 2 * 366 * 86400, why,
		    sizeof(why)) == 0);
		test_assert_streq(why, want);
		test_assert(pgp_key_usable(key, key->subkeys->expires - 1, why,
		    sizeof(why)) == 1);
		test_assert(pgp_key_usable(key, key->subkeys->expires, why,
		    sizeof(why)) == 0);
		gpgme_key_unref(key);
	}
	test_end();
}

static void
test_key_for(gpgme_ctx_t ctx)
{
	static const struct {
		const char	*address;
		int		 rc;
		const char	*out;		/* name, or why */
	} cases[] = {
		{ "alice@example.test", 1, "Alice" },
		{ "ALICE@Example.Test", 1, "Alice" },
		{ "malice@example.test", 1, "Mal" },
		{ "lice@example.test", 0, "no key" },
		{ "alice@example.tes", 0, "no key" },
		{ "alice@example.test.", 0, "no key" },
		{ "Alice", 0, "not an address" },
		{ "nobody@example.test", 0, "no key" },
		{ "carol@example.test", 0, "the key for carol@example.test is "
		    "not usable: expired on 2020-01-02" },
		{ "dave@example.test", 0, "the key for dave@example.test is "
		    "not usable: revoked" },
		{ "eve@example.test", 0, "the key for eve@example.test is not "
		    "usable: no encryption subkey" },
		{ "jill@example.test", 0, "the key for jill@example.test is "
		    "not usable: its encryption subkeys are expired or "
		    "revoked" },
		{ "frank@example.test", 1, "Frank New" },
		{ "gina@example.test", 1, "Gina Old" },
		{ "henry@example.test", 1, "Henry" },
		{ "HENRY@EXAMPLE.TEST", 1, "Henry" },
		{ "ivy@example.test", 0, "no key" },	/* uid revoked */
		{ "ivy@other.test", 1, "Ivy" },
		{ "kim@example.test", 1, "" },		/* no name */
		{ "lea@example.test", 1, "Lea" },
	};
	char	out[PGP_WHY_MAX];
	size_t	i;
	int	r;

	test_begin("pgp_key_for: exact addresses, the newest usable key");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out[0] = '\0';
		r = key_for(ctx, cases[i].address, time(NULL), out,
		    sizeof(out));
		if (r != cases[i].rc)
			printf("# %s: %d, expected %d (%s)\n",
			    cases[i].address, r, cases[i].rc, out);
		test_assert(r == cases[i].rc);
		test_assert_streq(out, cases[i].out);
	}
	/* Lea's key in two years: expired; Frank's: still the new one */
	test_assert(key_for(ctx, "lea@example.test", time(NULL) +
	    2 * 366 * 86400, out, sizeof(out)) == 0);
	test_assert(strncmp(out, "the key for lea@example.test is not usable: "
	    "expired on ", 55) == 0);
	test_assert(key_for(ctx, "frank@example.test", time(NULL) +
	    2 * 366 * 86400, out, sizeof(out)) == 1);
	test_assert_streq(out, "Frank New");
	test_end();
}

static void
test_hostile(gpgme_ctx_t ctx)
{
	static const char *const bad[] = {
		"",
		"@",
		"@example.test",
		"alice@",
		"<alice@example.test>",
		"alice@example.test>",
		"<alice@example.test",
		"alice @example.test",
		"alice@example.test ",
		" alice@example.test",
		"alice@example.test\t",
		"alice@example.test\r\n",
		"alice\n@example.test",
		"alice\x7f@example.test",
		"alice\x1b[31m@example.test",
		"\xff@example.test",			/* not UTF-8 */
		"\xc0\xaf@example.test",		/* overlong '/' */
		"\xed\xa0\x80@example.test",		/* a surrogate */
		"\xf4\x90\x80\x80@example.test",	/* past U+10FFFF */
		"\xc3@example.test",			/* cut */
		"a\xc2\xa0@example.test",		/* U+00A0 */
		"a\xc2\x85@example.test",		/* U+0085 (C1) */
		"a\xe2\x80\xae@example.test",		/* U+202E (bidi) */
		"a\xe3\x80\x80@example.test",		/* U+3000 */
	};
	gpgme_key_t	key;
	char		why[PGP_WHY_MAX], addr[400];
	size_t		i;

	test_begin("pgp_key_for: hostile addresses never reach gpg");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		key = (gpgme_key_t)1;
		test_assert(pgp_key_for(ctx, bad[i], time(NULL), &key, why,
		    sizeof(why)) == 0);
		test_assert_streq(why, "not an address");
		test_assert(key == NULL);
		test_assert(pgp_address_ok(bad[i]) == 0);
	}
	/* 254 bytes is an address, 255 is not */
	memset(addr, 'a', 241);
	strlcpy(addr + 241, "@example.test", sizeof(addr) - 241);
	test_assert(strlen(addr) == 254);
	test_assert(pgp_key_for(ctx, addr, time(NULL), &key, why,
	    sizeof(why)) == 0);
	test_assert_streq(why, "no key");
	memset(addr, 'a', 242);
	strlcpy(addr + 242, "@example.test", sizeof(addr) - 242);
	test_assert(pgp_key_for(ctx, addr, time(NULL), &key, why,
	    sizeof(why)) == 0);
	test_assert_streq(why, "not an address");
	/* UTF-8 is an address (SMTPUTF8), and wildcards mean nothing */
	test_assert(pgp_key_for(ctx, "j\xc3\xb6rg@example.test", time(NULL),
	    &key, why, sizeof(why)) == 0);
	test_assert_streq(why, "no key");
	test_assert(pgp_key_for(ctx, "*@example.test", time(NULL), &key, why,
	    sizeof(why)) == 0);
	test_assert_streq(why, "no key");
	test_assert(pgp_key_for(ctx, "%@example.test", time(NULL), &key, why,
	    sizeof(why)) == 0);
	test_assert_streq(why, "no key");
	test_end();
}

static void
test_describe(gpgme_ctx_t ctx)
{
	struct pgp_key_desc	d;
	gpgme_key_t		key;
	char			today[PGP_DATE_MAX];

	test_begin("pgp_key_describe, pgp_date");
	pgp_date(time(NULL), today, sizeof(today));
	if ((key = key_get(ctx, "alice@example.test")) != NULL) {
		pgp_key_describe(key, &d);
		test_assert_streq(d.fpr, key->subkeys->fpr);
		test_assert(strlen(d.fpr) == 40 && pgp_fpr_ok(d.fpr));
		test_assert_streq(d.algo, "ed25519/cv25519");
		test_assert_streq(d.created, today);
		test_assert_streq(d.expires, "never");
		gpgme_key_unref(key);
	} else
		test_assert(0);
	if ((key = key_get(ctx, "carol@example.test")) != NULL) {
		pgp_key_describe(key, &d);
		test_assert_streq(d.created, "2020-01-01");
		test_assert_streq(d.expires, "2020-01-02");
		gpgme_key_unref(key);
	} else
		test_assert(0);
	if ((key = key_get(ctx, "eve@example.test")) != NULL) {
		pgp_key_describe(key, &d);
		test_assert_streq(d.algo, "ed25519");
		gpgme_key_unref(key);
	} else
		test_assert(0);
	pgp_date(0, today, sizeof(today));
	test_assert_streq(today, "never");
	pgp_date(1735689600, today, sizeof(today));
	test_assert_streq(today, "2025-01-01");
	test_end();
}

static void
test_esc(void)
{
	char	buf[64], small[12];

	test_begin("pgp_esc, pgp_fpr_ok");
	test_assert_streq(pgp_esc(buf, sizeof(buf), "Alice <a@b.test>"),
	    "Alice <a@b.test>");
	test_assert_streq(pgp_esc(buf, sizeof(buf), "E\x1b[31mvil\\ \xc3\xa9"),
	    "E\\x1b[31mvil\\x5c \\xc3\\xa9");
	test_assert_streq(pgp_esc(buf, sizeof(buf), "\r\n\t\x7f"),
	    "\\x0d\\x0a\\x09\\x7f");
	test_assert_streq(pgp_esc(small, sizeof(small), "abcdefghijkl"),
	    "abcdefgh...");
	test_assert_streq(pgp_esc(small, sizeof(small), "abc\x01\x02"),
	    "abc\\x01...");
	test_assert_streq(pgp_esc(buf, sizeof(buf), ""), "");
	test_assert(pgp_fpr_ok("7B1545E679DCC2E362F19D9AE7221C887F4D18E5"));
	test_assert(pgp_fpr_ok("7b1545e679dcc2e362f19d9ae7221c887f4d18e5"));
	test_assert(!pgp_fpr_ok("7B1545E679DCC2E362F19D9AE7221C887F4D18E"));
	test_assert(!pgp_fpr_ok("7B1545E679DCC2E362F19D9AE7221C887F4D18E55"));
	test_assert(!pgp_fpr_ok("7B1545E679DCC2E362F19D9AE7221C887F4D18EG"));
	test_assert(!pgp_fpr_ok("0x7B1545E679DCC2E362F19D9AE7221C887F4D18"));
	test_assert(!pgp_fpr_ok("alice@example.test"));
	test_assert(!pgp_fpr_ok(""));
	test_end();
}

/* As a user who cannot read the keyring: an error, never "no key". */
static void
test_unreadable(void)
{
	pid_t	pid;
	int	st;

	test_begin("an unreadable keyring is a GPGME error (-1)");
	fflush(stdout);
	if ((pid = fork()) == 0) {
		gpgme_ctx_t	ctx;
		gpgme_key_t	key;
		char		err[256], why[PGP_WHY_MAX];
		int		r;

		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(3);
		if ((ctx = pgp_ctx_new(keyring, err, sizeof(err))) == NULL)
			_exit(4);
		if ((r = pgp_key_for(ctx, "alice@example.test", time(NULL),
		    &key, why, sizeof(why))) != -1) {
			printf("# as uid 65534: %d %s\n", r, why);
			fflush(stdout);
			_exit(5);
		}
		printf("# as uid 65534: %s\n", why);
		fflush(stdout);
		_exit(strstr(why, "Permission denied") != NULL ? 0 : 6);
	}
	test_assert(pid != -1 && waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("# the child: status 0x%x\n", (unsigned)st);
	test_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	test_end();
}

static void
test_keys(void)
{
	gpgme_ctx_t	ctx;
	char		err[256];

	if (!keys_ready) {
		test_skip("pgp_key_usable: each kind of key", "no test keys");
		test_skip("pgp_key_for: exact addresses", "no test keys");
		test_skip("pgp_key_for: hostile addresses", "no test keys");
		test_skip("pgp_key_describe, pgp_date", "no test keys");
		return;
	}
	if ((ctx = pgp_ctx_new(keyring, err, sizeof(err))) == NULL) {
		printf("# pgp_ctx_new: %s\n", err);
		test_begin("pgp_ctx_new");
		test_assert(0);
		test_end();
		return;
	}
	test_usable(ctx);
	test_key_for(ctx);
	test_hostile(ctx);
	test_describe(ctx);
	gpgme_release(ctx);
}

static void
test_make_keys(void)
{
	struct timespec	t0, t1;

	test_begin("gpg makes the test keys; they import into the keyring");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	keys_ready = make_keys() == 0 && import_keys() == 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# 14 keys made and imported in %ld ms\n",
	    (long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	test_assert(keys_ready);
	test_end();
}

static void
cleanup(void)
{
	char	cmd[256];

	if (tmpdir[0] == '\0')
		return;
	/* key generation started a gpg-agent for genhome */
	snprintf(cmd, sizeof(cmd), "gpgconf --homedir '%s' --kill gpg-agent "
	    ">/dev/null 2>&1", genhome);
	if (system(cmd) == -1)
		printf("# could not run gpgconf\n");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
}

int
main(void)
{
	static void	(*tests[])(void) = {
		test_prepare,
		test_empty_keyring,
		test_make_keys,
		test_keys,
		test_unreadable,
		test_esc,
		NULL
	};
	int		rc;

	/* short: gpg-agent's socket lives in the home (RECIPES.md 4) */
	strlcpy(tmpdir, "/tmp/sptk.XXXXXX", sizeof(tmpdir));
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(genhome, sizeof(genhome), "%s/g", tmpdir);
	snprintf(datadir, sizeof(datadir), "%s/data", tmpdir);
	snprintf(keyring, sizeof(keyring), "%s/%s", datadir, PGP_KEYRING_DIR);
	if (mkdir(genhome, 0700) == -1 || mkdir(datadir, 0700) == -1) {
		perror("mkdir");
		cleanup();
		return 1;
	}
	rc = test_run(tests);
	cleanup();
	return rc;
}
