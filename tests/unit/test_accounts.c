/* SPDX-License-Identifier: ISC */
/*
 * test_accounts.c - users.db (store/accounts.c): the domain, account and
 * alias rules; that every credential unwraps the same private key and a
 * wrong or revoked one nothing; that an unknown user costs exactly one
 * KDF; atomic quota; recovery; and that tampering with a wrapped key, or
 * moving it to another credential or account, makes the unwrap fail.
 * A users.db in a temporary folder with the TEST KDF limits.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "conf.h"
#include "accounts.h"
#include "test.h"
#include "banned.h"

#define PW1	"correct horse battery"
#define PW2	"another good password"
#define PW3	"a third fine password"
#define APPSZ	ACCOUNTS_APP_PASSWORD_SIZE

static char	tmpdir[64];
static char	dbpath[128];
static char	err[ACCOUNTS_ERR_MAX];

static const unsigned char *
u(const char *s)
{
	return (const unsigned char *)s;
}

static struct accounts_db *
open_db(const uint8_t *recovery_pk)
{
	struct accounts_params	 p;
	struct accounts_db	*a;

	memset(&p, 0, sizeof(p));
	p.kdf_strength = CONF_KDF_TEST;
	p.uid_min = 200000;
	p.uid_max = 299999;
	if (recovery_pk != NULL) {
		p.have_recovery = 1;
		memcpy(p.recovery_pk, recovery_pk, ACCOUNTS_KEY_LEN);
	}
	a = accounts_open(dbpath, &p, ACCOUNTS_OPEN_CREATE, err, sizeof(err));
	if (a == NULL)
		printf("# accounts_open: %s\n", err);
	return a;
}

/* A fresh users.db with example.test and a@example.test (PW1). */
static struct accounts_db *
fresh(const uint8_t *recovery_pk)
{
	struct accounts_db	*a;
	const char		*e;
	char			 side[160];

	unlink(dbpath);
	snprintf(side, sizeof(side), "%s-wal", dbpath);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", dbpath);
	unlink(side);
	if ((a = open_db(recovery_pk)) == NULL)
		return NULL;
	if (accounts_domain_add(a, "example.test", NULL, &e) == -1 ||
	    accounts_user_add(a, "a@example.test", u(PW1), strlen(PW1), 0,
	    NULL, &e) == -1) {
		printf("# setup: %s\n", e);
		accounts_close(a);
		return NULL;
	}
	return a;
}

/* Run one SQL statement on users.db behind the library's back. */
static int
poke(const char *sql)
{
	sqlite3	*db;
	int	 rc;

	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		printf("# poke: %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* accounts_unlock into sodium memory; the key must match the public one. */
static int
unlock(struct accounts_db *a, const char *addr, const char *pw,
    uint64_t *id_r)
{
	uint8_t		*sk = sodium_malloc(ACCOUNTS_KEY_LEN);
	uint8_t		 pk[ACCOUNTS_KEY_LEN], spk[ACCOUNTS_KEY_LEN];
	uint64_t	 id = 0, lid, quota, usage;
	uint32_t	 uid;
	int		 rv;

	rv = accounts_unlock(a, addr, u(pw), strlen(pw), &id, NULL, sk);
	if (rv == 1) {
		crypto_scalarmult_base(spk, sk);
		if (accounts_lookup(a, addr, &lid, pk, &uid, &quota,
		    &usage) != 1 || lid != id ||
		    memcmp(pk, spk, sizeof(pk)) != 0)
			rv = -2;
	}
	if (id_r != NULL)
		*id_r = id;
	sodium_free(sk);
	return rv;
}

/* The private key pw unlocks, into out (test memory is fine here). */
static int
unlock_key(struct accounts_db *a, const char *addr, const char *pw,
    uint8_t out[ACCOUNTS_KEY_LEN])
{
	uint8_t		*sk = sodium_malloc(ACCOUNTS_KEY_LEN);
	uint64_t	 id;
	int		 rv;

	rv = accounts_unlock(a, addr, u(pw), strlen(pw), &id, NULL, sk);
	memcpy(out, sk, ACCOUNTS_KEY_LEN);
	sodium_free(sk);
	return rv;
}

/* Flip one bit of byte off of a blob column of credential 1. */
static int
flip(const char *col, int off)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	unsigned char	 b[64];
	char		 sql[128];
	int		 n = 0, rc = -1;

	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT %s FROM credentials WHERE id = 1",
	    col);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (n = sqlite3_column_bytes(st, 0)) > off &&
		    n <= (int)sizeof(b))
			memcpy(b, sqlite3_column_blob(st, 0), (size_t)n);
		sqlite3_finalize(st);
	}
	if (n > off) {
		b[off] ^= 0x01;
		snprintf(sql, sizeof(sql), "UPDATE credentials SET %s = ? "
		    "WHERE id = 1", col);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_blob(st, 1, b, n, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_DONE)
				rc = 0;
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
	return rc;
}

static int64_t
count(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

static void
test_open(void)
{
	struct accounts_params	 p;
	struct accounts_db	*a;
	struct stat		 st;
	char			 path[160];
	FILE			*f;

	test_begin("users.db: created 0600 in WAL mode; foreign files refused");
	a = fresh(NULL);
	test_assert(a != NULL);
	test_assert(stat(dbpath, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof(path), "%s-wal", dbpath);
	test_assert(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	accounts_close(a);
	/* bytes 18 and 19 of the header: 2 in WAL mode */
	test_assert((f = fopen(dbpath, "r")) != NULL);
	if (f != NULL) {
		unsigned char	hdr[20];

		test_assert(fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr) &&
		    hdr[18] == 2 && hdr[19] == 2);
		fclose(f);
	}
	test_assert(count("SELECT version FROM schema_version") == 1);

	memset(&p, 0, sizeof(p));
	p.kdf_strength = CONF_KDF_TEST;
	p.uid_min = 200000;
	p.uid_max = 299999;
	snprintf(path, sizeof(path), "%s/missing.db", tmpdir);
	test_assert(accounts_open(path, &p, 0, err, sizeof(err)) == NULL);
	test_assert(strstr(err, "No such file or directory") != NULL);
	test_assert(access(path, F_OK) == -1);

	snprintf(path, sizeof(path), "%s/junk.db", tmpdir);
	f = fopen(path, "w");
	fputs("this is not a database, not at all, no, not one bit\n", f);
	fclose(f);
	test_assert(accounts_open(path, &p, ACCOUNTS_OPEN_CREATE, err,
	    sizeof(err)) == NULL);
	test_assert(strstr(err, "file is not a database") != NULL);
	test_assert(stat(path, &st) == 0 && st.st_size == 52);
	unlink(path);
	test_end();
}

static void
test_domains(void)
{
	struct accounts_db	*a = fresh(NULL);
	const char		*e;

	test_begin("domains: add, duplicates, names, del only when empty");
	test_assert(accounts_domain_add(a, "Example.TEST", NULL, &e) == -1);
	test_assert_streq(e, "domain example.test exists");
	test_assert(accounts_domain_add(a, "bad..name", NULL, &e) == -1);
	test_assert_streq(e, "\"bad..name\" is not a valid domain name");
	test_assert(accounts_domain_add(a, "two.test", "nobody@example.test",
	    &e) == -1);
	test_assert_streq(e, "no account nobody@example.test");
	test_assert(accounts_domain_add(a, "two.test", "postmaster@example."
	    "test", &e) == -1);
	test_assert_streq(e, "postmaster@example.test is an alias, not an "
	    "account");
	test_assert(count("SELECT count(*) FROM domains") == 1);
	test_assert(accounts_domain_add(a, "two.test", "A@example.test",
	    &e) == 0);
	test_assert(count("SELECT count(*) FROM aliases WHERE domain ="
	    " 'two.test' AND account_id = 1") == 2);
	test_assert(accounts_domain_del(a, "example.test", &e) == -1);
	test_assert_streq(e, "domain example.test still has 1 account: "
	    "delete them first");
	test_assert(accounts_domain_del(a, "nowhere.test", &e) == -1);
	test_assert_streq(e, "unknown domain nowhere.test");
	test_assert(accounts_domain_del(a, "two.test", &e) == 0);
	test_assert(count("SELECT count(*) FROM aliases WHERE domain ="
	    " 'two.test'") == 0);
	accounts_close(a);
	test_end();
}

static void
test_users(void)
{
	struct accounts_user_info	 info;
	struct accounts_db		*a = fresh(NULL);
	const char			*e;

	test_begin("users: address rules, password rule, uid, postmaster");
	test_assert(accounts_user_add(a, "b@@example.test", u(PW1),
	    strlen(PW1), 0, NULL, &e) == -1);
	test_assert_streq(e, "\"b@@example.test\" is not a valid address");
	test_assert(accounts_user_add(a, ".b@example.test", u(PW1),
	    strlen(PW1), 0, NULL, &e) == -1);
	test_assert(accounts_user_add(a, "b@other.test", u(PW1), strlen(PW1),
	    0, NULL, &e) == -1);
	test_assert_streq(e, "unknown domain other.test");
	test_assert(accounts_user_add(a, "A@Example.Test", u(PW1),
	    strlen(PW1), 0, NULL, &e) == -1);
	test_assert_streq(e, "a@example.test is already an account");
	test_assert(accounts_user_add(a, "abuse@example.test", u(PW1),
	    strlen(PW1), 0, NULL, &e) == -1);
	test_assert_streq(e, "abuse@example.test is already an alias (of "
	    "a@example.test)");
	test_assert(accounts_user_add(a, "b@example.test", u("short"), 5, 0,
	    NULL, &e) == -1);
	test_assert_streq(e, "password too short (at least 12 characters)");
	/* 11 characters, 22 bytes: characters count, not bytes */
	test_assert(accounts_user_add(a, "b@example.test",
	    u("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9"), 22, 0, NULL, &e) == -1);
	test_assert(accounts_user_add(a, "longname.b@example.test",
	    u("LONGNAME.B@example.test"), 23, 0, NULL, &e) == -1);
	test_assert_streq(e, "password is the address");
	test_assert(accounts_user_add(a, "longname.bb@example.test",
	    u("LongName.BB"), 11, 0, NULL, &e) == -1);
	test_assert(accounts_user_add(a, "averylongname@example.test",
	    u("AVERYLONGNAME"), 13, 0, NULL, &e) == -1);
	test_assert_streq(e, "password is the address's local part");
	test_assert(accounts_user_add(a, "b@example.test",
	    u("tab\there is bad"), 15, 0, NULL, &e) == -1);
	test_assert_streq(e, "password contains a control character");
	test_assert(accounts_user_add(a, "b@example.test", u(PW2),
	    strlen(PW2), ACCOUNTS_BYTES_MAX + 1, NULL, &e) == -1);
	test_assert(count("SELECT count(*) FROM accounts") == 1);
	test_assert(count("SELECT count(*) FROM credentials") == 1);

	test_assert(accounts_user_add(a, "B@example.test", u(PW2),
	    strlen(PW2), 5000, &info, &e) == 0);
	test_assert_streq(info.address, "b@example.test");
	test_assert(info.id == 2 && info.uid == 200002 && info.quota == 5000);
	test_assert(!info.wired_postmaster && !info.wired_abuse);
	test_assert(info.recovery == ACCOUNTS_RECOVERY_NONE);
	test_assert(count("SELECT uid FROM accounts WHERE id = 1") == 200001);
	/* the first account got postmaster@ and abuse@ */
	test_assert(count("SELECT count(*) FROM aliases WHERE account_id = 1"
	    " AND address IN ('postmaster@example.test',"
	    " 'abuse@example.test')") == 2);
	accounts_close(a);
	test_end();
}

static void
test_unlock(void)
{
	struct accounts_db	*a = fresh(NULL);
	uint64_t		 id;

	test_begin("unlock: the password gives the key; wrong gives nothing");
	test_assert(unlock(a, "a@example.test", PW1, &id) == 1 && id == 1);
	test_assert(unlock(a, "A@EXAMPLE.test", PW1, &id) == 1 && id == 1);
	test_assert(unlock(a, "postmaster@example.test", PW1, &id) == 1 &&
	    id == 1);
	test_assert(unlock(a, "a@example.test", PW2, &id) == 0 && id == 0);
	test_assert(unlock(a, "a@example.test", "", &id) == 0);
	test_assert(unlock(a, "nobody@example.test", PW1, &id) == 0);
	test_assert(unlock(a, "not an address", PW1, &id) == 0);
	accounts_close(a);
	test_end();
}

static void
test_app_passwords(void)
{
	struct accounts_db	*a = fresh(NULL);
	char			*app1 = sodium_malloc(APPSZ);
	char			*app2 = sodium_malloc(APPSZ);
	uint8_t			 k0[32], k1[32], k2[32];
	const char		*e;

	test_begin("app passwords: same key, revocable, passwd keeps them");
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW2),
	    strlen(PW2), "phone", app1, ACCOUNTS_APP_PASSWORD_SIZE, &e) == -1);
	test_assert_streq(e, "wrong password for a@example.test");
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "phone", app1, ACCOUNTS_APP_PASSWORD_SIZE, &e) == 0);
	test_assert(strlen(app1) == ACCOUNTS_APP_PASSWORD_LEN &&
	    app1[4] == '-' && app1[19] == '-');
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "phone", app2, ACCOUNTS_APP_PASSWORD_SIZE, &e) == -1);
	test_assert_streq(e, "a@example.test already has an app password "
	    "\"phone\"");
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "bad\nlabel", app2, ACCOUNTS_APP_PASSWORD_SIZE,
	    &e) == -1);
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "laptop", app2, ACCOUNTS_APP_PASSWORD_SIZE, &e) == 0);
	test_assert(strcmp(app1, app2) != 0);
	/* an app password is not the account password */
	test_assert(accounts_app_password_add(a, "a@example.test", u(app1),
	    strlen(app1), "tablet", app2, ACCOUNTS_APP_PASSWORD_SIZE,
	    &e) == -1);
	test_assert_streq(e, "wrong password for a@example.test");
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "laptop2", app2, ACCOUNTS_APP_PASSWORD_SIZE, &e) == 0);

	test_assert(unlock_key(a, "a@example.test", PW1, k0) == 1);
	test_assert(unlock_key(a, "a@example.test", app1, k1) == 1);
	test_assert(unlock_key(a, "abuse@example.test", app2, k2) == 1);
	test_assert(memcmp(k0, k1, 32) == 0 && memcmp(k0, k2, 32) == 0);
	test_assert(unlock(a, "a@example.test", app1, NULL) == 1);
	test_assert(accounts_passwd(a, "a@example.test", u(app1),
	    strlen(app1), u(PW3), strlen(PW3), &e) == -1);
	test_assert_streq(e, "wrong password for a@example.test");

	/* passwd: the old password stops, the new and the apps work */
	test_assert(accounts_passwd(a, "a@example.test", u(PW1), strlen(PW1),
	    u("short"), 5, &e) == -1);
	test_assert_streq(e, "new password too short (at least 12 "
	    "characters)");
	test_assert(accounts_passwd(a, "a@example.test", u(PW1), strlen(PW1),
	    u(PW3), strlen(PW3), &e) == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	test_assert(unlock(a, "a@example.test", PW3, NULL) == 1);
	test_assert(unlock(a, "a@example.test", app1, NULL) == 1);
	test_assert(unlock(a, "a@example.test", app2, NULL) == 1);

	/* revoke: that one stops, the rest work, the wrapping is gone */
	test_assert(accounts_app_password_revoke(a, "a@example.test", "nope",
	    &e) == -1);
	test_assert_streq(e, "a@example.test has no app password \"nope\"");
	test_assert(accounts_app_password_revoke(a, "a@example.test", "phone",
	    &e) == 0);
	test_assert(accounts_app_password_revoke(a, "a@example.test", "phone",
	    &e) == -1);
	test_assert(unlock(a, "a@example.test", app1, NULL) == 0);
	test_assert(unlock(a, "a@example.test", app2, NULL) == 1);
	test_assert(unlock(a, "a@example.test", PW3, NULL) == 1);
	test_assert(count("SELECT count(*) FROM credentials WHERE label ="
	    " 'phone' AND revoked IS NOT NULL AND wrapped IS NULL AND"
	    " salt IS NULL") == 1);
	/* a revoked label can be used again */
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW3),
	    strlen(PW3), "phone", app1, ACCOUNTS_APP_PASSWORD_SIZE, &e) == 0);
	test_assert(unlock(a, "a@example.test", app1, NULL) == 1);
	sodium_free(app1);
	sodium_free(app2);
	accounts_close(a);
	test_end();
}

/* What the auth cache asks: does a past unlock still hold? */
static void
test_cred_valid(void)
{
	struct accounts_db	*a = fresh(NULL);
	char			*app = sodium_malloc(APPSZ);
	uint8_t			*sk = sodium_malloc(ACCOUNTS_KEY_LEN);
	uint64_t		 id, pwcred = 0, appcred = 0, bid;
	unsigned int		 nal;
	const char		*e;

	test_begin("cred_valid: revoke, passwd, alias moved, user del");
	test_assert(accounts_user_add(a, "b@example.test", u(PW2),
	    strlen(PW2), 0, NULL, &e) == 0);
	test_assert(accounts_alias_add(a, "sales@example.test",
	    "a@example.test", 0, &e) == 0);
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "phone", app, ACCOUNTS_APP_PASSWORD_SIZE, &e) == 0);
	test_assert(accounts_unlock(a, "a@example.test", u(PW1), strlen(PW1),
	    &id, &pwcred, sk) == 1 && pwcred != 0);
	test_assert(accounts_unlock(a, "sales@example.test", u(app),
	    strlen(app), &id, &appcred, sk) == 1 && appcred != 0 &&
	    appcred != pwcred);
	test_assert(accounts_cred_valid(a, "a@example.test", id, pwcred) == 1);
	test_assert(accounts_cred_valid(a, "SALES@example.test", id,
	    appcred) == 1);
	/* another account's id, a credential of another account */
	test_assert(accounts_unlock(a, "b@example.test", u(PW2), strlen(PW2),
	    &bid, NULL, sk) == 1);
	test_assert(accounts_cred_valid(a, "a@example.test", bid, pwcred) ==
	    0);
	test_assert(accounts_cred_valid(a, "b@example.test", bid, pwcred) ==
	    0);
	test_assert(accounts_cred_valid(a, "not an address", id, pwcred) == 0);
	/* the alias now points elsewhere */
	test_assert(accounts_alias_add(a, "sales@example.test",
	    "b@example.test", 1, &e) == 0);
	test_assert(accounts_cred_valid(a, "sales@example.test", id,
	    appcred) == 0);
	test_assert(accounts_cred_valid(a, "a@example.test", id, appcred) ==
	    1);
	/* revoked; replaced by a new password */
	test_assert(accounts_app_password_revoke(a, "a@example.test", "phone",
	    &e) == 0);
	test_assert(accounts_cred_valid(a, "a@example.test", id, appcred) ==
	    0);
	test_assert(accounts_passwd(a, "a@example.test", u(PW1), strlen(PW1),
	    u(PW3), strlen(PW3), &e) == 0);
	test_assert(accounts_cred_valid(a, "a@example.test", id, pwcred) == 0);
	/* deleted */
	test_assert(accounts_unlock(a, "b@example.test", u(PW2), strlen(PW2),
	    &bid, &pwcred, sk) == 1);
	test_assert(accounts_alias_del(a, "sales@example.test", &e) == 0);
	test_assert(accounts_user_del(a, "b@example.test", &bid, &nal, &e) ==
	    0);
	test_assert(accounts_cred_valid(a, "b@example.test", bid, pwcred) ==
	    0);
	sodium_free(app);
	sodium_free(sk);
	accounts_close(a);
	test_end();
}

#ifdef SP_TEST_HOOKS
static void
test_kdf_count(void)
{
	struct accounts_db	*a = fresh(NULL);
	char			*app = sodium_malloc(APPSZ);
	const char		*e;
	uint64_t		 n;

	test_begin("an unknown user runs exactly one KDF, like a known one");
	n = accounts_test_kdf_runs();
	test_assert(unlock(a, "nobody@example.test", PW1, NULL) == 0);
	test_assert(accounts_test_kdf_runs() - n == 1);
	n = accounts_test_kdf_runs();
	test_assert(unlock(a, "nobody@nowhere.test", PW1, NULL) == 0);
	test_assert(unlock(a, "@@@", PW1, NULL) == 0);
	test_assert(unlock(a, "", "", NULL) == 0);
	test_assert(accounts_test_kdf_runs() - n == 3);
	n = accounts_test_kdf_runs();
	test_assert(unlock(a, "a@example.test", PW2, NULL) == 0);
	test_assert(accounts_test_kdf_runs() - n == 1);
	n = accounts_test_kdf_runs();
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 1);
	test_assert(accounts_test_kdf_runs() - n == 1);
	/* one KDF per credential: password + 2 app passwords */
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "one", app, ACCOUNTS_APP_PASSWORD_SIZE, &e) == 0);
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "two", app, ACCOUNTS_APP_PASSWORD_SIZE, &e) == 0);
	n = accounts_test_kdf_runs();
	test_assert(unlock(a, "a@example.test", PW2, NULL) == 0);
	test_assert(accounts_test_kdf_runs() - n == 3);
	/* an account whose credentials are all revoked: the dummy */
	test_assert(poke("UPDATE credentials SET revoked = 1, salt = NULL,"
	    " nonce = NULL, wrapped = NULL") == 0);
	n = accounts_test_kdf_runs();
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	test_assert(accounts_test_kdf_runs() - n == 1);
	sodium_free(app);
	accounts_close(a);
	test_end();
}
#endif

static void
test_quota(void)
{
	struct accounts_db	*a = fresh(NULL);
	const char		*e;
	uint8_t			 pk[32];
	uint64_t		 id, quota, usage;
	uint32_t		 uid;
	pid_t			 pids[8];
	int			 i, st, won = 0;

	test_begin("quota: reserve checks and adds atomically; release");
	test_assert(accounts_user_add(a, "q@example.test", u(PW1),
	    strlen(PW1), 1000, NULL, &e) == 0);
	test_assert(accounts_lookup(a, "Q@example.test", &id, pk, &uid, &quota,
	    &usage) == 1);
	test_assert(id == 2 && uid == 200002 && quota == 1000 && usage == 0);
	test_assert(accounts_lookup(a, "x@example.test", &id, pk, &uid, &quota,
	    &usage) == 0);
	test_assert(accounts_quota_reserve(a, 2, 600) == 1);
	test_assert(accounts_quota_reserve(a, 2, 600) == 0);
	test_assert(accounts_quota_reserve(a, 2, 400) == 1);
	test_assert(accounts_quota_reserve(a, 2, 1) == 0);
	test_assert(accounts_quota_reserve(a, 99, 1) == 0);
	test_assert(accounts_quota_release(a, 2, 700) == 0);
	test_assert(accounts_lookup(a, "q@example.test", &id, pk, &uid, &quota,
	    &usage) == 1 && usage == 300);
	quota = usage = 7;
	test_assert(accounts_quota_get(a, 2, &quota, &usage) == 1 &&
	    quota == 1000 && usage == 300);
	test_assert(accounts_quota_get(a, 99, &quota, &usage) == 0);
	test_assert(accounts_quota_release(a, 2, 5000) == 0);
	test_assert(accounts_lookup(a, "q@example.test", &id, pk, &uid, &quota,
	    &usage) == 1 && usage == 0);
	/* no quota: anything up to the per-call maximum */
	test_assert(accounts_quota_reserve(a, 1, ACCOUNTS_BYTES_MAX) == 1);
	test_assert(accounts_quota_reserve(a, 1, ACCOUNTS_BYTES_MAX + 1) == 0);

	/* eight processes race for 300 bytes each of 1000: three win */
	accounts_close(a);
	fflush(stdout);
	for (i = 0; i < 8; i++) {
		if ((pids[i] = fork()) == 0) {
			struct accounts_db	*c = open_db(NULL);

			_exit(c != NULL && accounts_quota_reserve(c, 2, 300) ==
			    1 ? 0 : 1);
		}
	}
	for (i = 0; i < 8; i++)
		if (pids[i] > 0 && waitpid(pids[i], &st, 0) == pids[i] &&
		    WIFEXITED(st) && WEXITSTATUS(st) == 0)
			won++;
	test_assert(won == 3);
	test_assert(count("SELECT usage FROM accounts WHERE id = 2") == 900);
	test_end();
}

static void
test_recovery(void)
{
	struct accounts_db	*a;
	char			 pub[128], priv[128], pub2[128], priv2[128];
	char			*app = sodium_malloc(APPSZ);
	uint8_t			 rpk[32], *rsk = sodium_malloc(32);
	uint8_t			*rsk2 = sodium_malloc(32);
	struct stat		 st;
	const char		*e;

	test_begin("recovery: key files, sealed keys, reset-password");
	snprintf(pub, sizeof(pub), "%s/recovery.pub", tmpdir);
	snprintf(priv, sizeof(priv), "%s/recovery.key", tmpdir);
	snprintf(pub2, sizeof(pub2), "%s/other.pub", tmpdir);
	snprintf(priv2, sizeof(priv2), "%s/other.key", tmpdir);
	test_assert(accounts_recovery_init(pub, priv, err, sizeof(err)) == 0);
	test_assert(stat(priv, &st) == 0 && (st.st_mode & 0777) == 0600);
	test_assert(stat(pub, &st) == 0 && (st.st_mode & 0777) == 0644);
	test_assert(accounts_recovery_init(pub, priv2, err, sizeof(err)) == -1);
	test_assert(strstr(err, "exists: refusing to overwrite it") != NULL);
	test_assert(access(priv2, F_OK) == -1);
	test_assert(accounts_recovery_init(pub2, priv2, err, sizeof(err)) ==
	    0);
	test_assert(accounts_recovery_load_public(priv, rpk, err,
	    sizeof(err)) == -1);
	test_assert(strstr(err, "is the recovery PRIVATE key") != NULL);
	test_assert(accounts_recovery_load_private(pub, rsk, err,
	    sizeof(err)) == -1);
	test_assert(accounts_recovery_load_public(pub, rpk, err,
	    sizeof(err)) == 0);
	test_assert(accounts_recovery_load_private(priv, rsk, err,
	    sizeof(err)) == 0);
	test_assert(accounts_recovery_load_private(priv2, rsk2, err,
	    sizeof(err)) == 0);

	a = fresh(rpk);
	test_assert(a != NULL);
	test_assert(count("SELECT count(*) FROM accounts WHERE"
	    " length(recovery_box) = 80") == 1);
	test_assert(accounts_app_password_add(a, "a@example.test", u(PW1),
	    strlen(PW1), "phone", app, ACCOUNTS_APP_PASSWORD_SIZE, &e) == 0);
	test_assert(accounts_reset_password(a, "a@example.test", rsk2, u(PW2),
	    strlen(PW2), &e) == -1);
	test_assert_streq(e, "wrong recovery key for a@example.test");
	test_assert(accounts_reset_password(a, "a@example.test", rsk,
	    u("a@example.test"), 14, &e) == -1);
	test_assert_streq(e, "new password is the address");
	test_assert(accounts_reset_password(a, "zz@example.test", rsk,
	    u(PW2), strlen(PW2), &e) == -1);
	test_assert_streq(e, "no account zz@example.test");
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 1);
	test_assert(accounts_reset_password(a, "a@example.test", rsk, u(PW2),
	    strlen(PW2), &e) == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	test_assert(unlock(a, "a@example.test", PW2, NULL) == 1);
	test_assert(unlock(a, "a@example.test", app, NULL) == 1);
	test_assert(count("SELECT count(*) FROM credentials WHERE kind ="
	    " 'password'") == 1);
	accounts_close(a);

	/* an account made without recovery has no box to open... */
	a = fresh(NULL);
	test_assert(accounts_reset_password(a, "a@example.test", rsk, u(PW2),
	    strlen(PW2), &e) == -1);
	test_assert_streq(e, "a@example.test has no recovery copy of its key "
	    "(made before a recovery key was configured)");
	accounts_close(a);
	/* ...until its password changes with a recovery key configured */
	a = open_db(rpk);
	test_assert(accounts_passwd(a, "a@example.test", u(PW1), strlen(PW1),
	    u(PW3), strlen(PW3), &e) == 0);
	test_assert(accounts_reset_password(a, "a@example.test", rsk, u(PW2),
	    strlen(PW2), &e) == 0);
	test_assert(unlock(a, "a@example.test", PW2, NULL) == 1);
	accounts_close(a);
	sodium_free(app);
	sodium_free(rsk);
	sodium_free(rsk2);
	test_end();
}

static void
test_tamper(void)
{
	struct accounts_db	*a = fresh(NULL);

	test_begin("a flipped byte in a wrapped key, nonce or salt: no unlock");
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 1);
	test_assert(flip("wrapped", 0) == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	test_assert(flip("wrapped", 0) == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 1);
	test_assert(flip("wrapped", 47) == 0);	/* the tag */
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	test_assert(flip("wrapped", 47) == 0);
	test_assert(flip("wrapped", 20) == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	accounts_close(a);
	a = fresh(NULL);
	test_assert(flip("nonce", 3) == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	accounts_close(a);
	a = fresh(NULL);
	test_assert(flip("salt", 15) == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	accounts_close(a);
	/* absurd KDF limits in the file are not run */
	a = fresh(NULL);
	test_assert(poke("UPDATE credentials SET memlimit = 1099511627776")
	    == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	accounts_close(a);
	/* a swapped public key is caught after the unwrap */
	a = fresh(NULL);
	test_assert(poke("UPDATE accounts SET public_key = zeroblob(32)") ==
	    0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == -1);
	test_assert(strstr(accounts_errstr(a), "does not match") != NULL);
	accounts_close(a);
	test_end();
}

static void
test_ad_binding(void)
{
	struct accounts_db	*a = fresh(NULL);
	const char		*e;

	test_begin("associated data binds a wrapping to its credential and "
	    "account");
	test_assert(accounts_user_add(a, "b@example.test", u(PW1),
	    strlen(PW1), 0, NULL, &e) == 0);
	/* same password: only the associated data tells them apart */
	test_assert(poke("CREATE TEMP TABLE t AS SELECT account_id, salt,"
	    " nonce, wrapped FROM credentials;"
	    "UPDATE credentials SET (salt, nonce, wrapped) = (SELECT salt,"
	    " nonce, wrapped FROM t WHERE t.account_id <>"
	    " credentials.account_id)") == 0);
	/* 0, not -1: the unwrap failed, no other key came out */
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	test_assert(unlock(a, "b@example.test", PW1, NULL) == 0);
	accounts_close(a);

	/* the same row under another credential id */
	a = fresh(NULL);
	test_assert(poke("UPDATE credentials SET id = 77 WHERE id = 1") == 0);
	test_assert(unlock(a, "a@example.test", PW1, NULL) == 0);
	accounts_close(a);

	/* a's credential moved to b */
	a = fresh(NULL);
	test_assert(accounts_user_add(a, "b@example.test", u(PW2),
	    strlen(PW2), 0, NULL, &e) == 0);
	test_assert(poke("DELETE FROM credentials WHERE account_id = 2;"
	    "UPDATE credentials SET account_id = 2 WHERE account_id = 1") == 0);
	test_assert(unlock(a, "b@example.test", PW1, NULL) == 0);
	accounts_close(a);
	test_end();
}

static void
test_aliases(void)
{
	struct accounts_db	*a = fresh(NULL);
	const char		*e;
	uint64_t		 id;

	test_begin("aliases: target an account, no chains, required ones stay");
	test_assert(accounts_user_add(a, "b@example.test", u(PW2),
	    strlen(PW2), 0, NULL, &e) == 0);
	test_assert(accounts_alias_add(a, "info@example.test",
	    "nobody@example.test", 0, &e) == -1);
	test_assert_streq(e, "no account nobody@example.test");
	test_assert(accounts_alias_add(a, "info@other.test", "a@example.test",
	    0, &e) == -1);
	test_assert_streq(e, "unknown domain other.test");
	test_assert(accounts_alias_add(a, "b@example.test", "a@example.test",
	    0, &e) == -1);
	test_assert_streq(e, "b@example.test is an account");
	test_assert(accounts_alias_add(a, "info@example.test",
	    "postmaster@example.test", 0, &e) == -1);
	test_assert_streq(e, "postmaster@example.test is an alias, not an "
	    "account (aliases do not chain)");
	test_assert(accounts_alias_add(a, "Info@example.test",
	    "A@example.test", 0, &e) == 0);
	test_assert(accounts_alias_add(a, "info@example.test",
	    "b@example.test", 0, &e) == -1);
	test_assert_streq(e, "info@example.test is already an alias (of "
	    "a@example.test)");
	test_assert(unlock(a, "info@example.test", PW1, &id) == 1 && id == 1);
	test_assert(accounts_alias_add(a, "info@example.test",
	    "b@example.test", 1, &e) == 0);
	test_assert(unlock(a, "info@example.test", PW2, &id) == 1 && id == 2);
	test_assert(accounts_alias_del(a, "postmaster@example.test", &e) == -1);
	test_assert_streq(e, "postmaster@example.test cannot be deleted while "
	    "domain example.test exists (point it elsewhere with alias add "
	    "--replace)");
	test_assert(accounts_alias_del(a, "info@example.test", &e) == 0);
	test_assert(accounts_alias_del(a, "info@example.test", &e) == -1);
	test_assert_streq(e, "no alias info@example.test");
	test_assert(unlock(a, "info@example.test", PW2, NULL) == 0);
	accounts_close(a);
	test_end();
}

static void
test_user_del(void)
{
	struct accounts_user_info	 info;
	struct accounts_db		*a = fresh(NULL);
	const char			*e;
	uint64_t			 id;
	unsigned int			 nal;

	test_begin("user del: postmaster@ stays routed; ids never reused");
	test_assert(accounts_user_add(a, "b@example.test", u(PW2),
	    strlen(PW2), 0, NULL, &e) == 0);
	test_assert(accounts_alias_add(a, "sales@example.test",
	    "b@example.test", 0, &e) == 0);
	test_assert(accounts_user_del(a, "a@example.test", &id, &nal, &e) ==
	    -1);
	test_assert_streq(e, "a@example.test receives postmaster@example.test: "
	    "point it to another account first (alias add --replace)");
	test_assert(accounts_user_del(a, "nobody@example.test", &id, &nal,
	    &e) == -1);
	test_assert_streq(e, "no account nobody@example.test");
	test_assert(accounts_user_del(a, "b@example.test", &id, &nal, &e) ==
	    0);
	test_assert(id == 2 && nal == 1);
	test_assert(count("SELECT count(*) FROM credentials") == 1);
	/* the last account of its domain may go; postmaster@ waits */
	test_assert(accounts_user_del(a, "a@example.test", &id, &nal, &e) ==
	    0);
	test_assert(id == 1 && nal == 2);
	test_assert(count("SELECT count(*) FROM aliases") == 0);
	test_assert(accounts_user_add(a, "c@example.test", u(PW3),
	    strlen(PW3), 0, &info, &e) == 0);
	test_assert(info.id == 3 && info.uid == 200003);
	test_assert(info.wired_postmaster && info.wired_abuse);
	/* postmaster@ as an account of its own */
	test_assert(accounts_domain_add(a, "two.test", NULL, &e) == 0);
	test_assert(accounts_user_add(a, "postmaster@two.test", u(PW3),
	    strlen(PW3), 0, &info, &e) == 0);
	test_assert(!info.wired_postmaster && info.wired_abuse);
	test_assert(accounts_user_add(a, "d@two.test", u(PW3), strlen(PW3), 0,
	    &info, &e) == 0);
	test_assert(accounts_user_del(a, "postmaster@two.test", &id, &nal,
	    &e) == -1);
	test_assert_streq(e, "postmaster@two.test is required while domain "
	    "two.test has other accounts");
	test_assert(accounts_user_del(a, "d@two.test", &id, &nal, &e) == 0);
	test_assert(accounts_user_del(a, "postmaster@two.test", &id, &nal,
	    &e) == 0);
	test_assert(accounts_domain_del(a, "two.test", &e) == 0);
	accounts_close(a);
	test_end();
}

static void
test_uid_range(void)
{
	struct accounts_params	 p;
	struct accounts_db	*a;
	const char		*e;

	test_begin("uids stay inside account-uids");
	unlink(dbpath);
	memset(&p, 0, sizeof(p));
	p.kdf_strength = CONF_KDF_TEST;
	p.uid_min = 5000;
	p.uid_max = 5002;
	a = accounts_open(dbpath, &p, ACCOUNTS_OPEN_CREATE, err, sizeof(err));
	test_assert(a != NULL);
	test_assert(accounts_domain_add(a, "example.test", NULL, &e) == 0);
	test_assert(accounts_user_add(a, "a@example.test", u(PW1),
	    strlen(PW1), 0, NULL, &e) == 0);
	test_assert(accounts_user_add(a, "b@example.test", u(PW1),
	    strlen(PW1), 0, NULL, &e) == 0);
	test_assert(accounts_user_add(a, "c@example.test", u(PW1),
	    strlen(PW1), 0, NULL, &e) == -1);
	test_assert_streq(e, "no uid left: account-uids 5000-5002 has room "
	    "for 2 accounts");
	test_assert(count("SELECT max(uid) FROM accounts") == 5002);
	test_assert(count("SELECT count(*) FROM accounts") == 2);
	accounts_close(a);
	test_end();
}

static int
list_count(const struct accounts_user_info *info, void *arg)
{
	(void)info;
	(*(int *)arg)++;
	return 0;
}

static void
test_lists(void)
{
	struct accounts_db	*a = fresh(NULL);
	const char		*e;
	int			 n = 0;

	test_begin("lists and a callback that stops");
	test_assert(accounts_user_add(a, "b@example.test", u(PW2),
	    strlen(PW2), 0, NULL, &e) == 0);
	test_assert(accounts_user_list(a, list_count, &n, &e) == 0 && n == 2);
	accounts_close(a);
	test_end();
}

int
main(void)
{
	static void	(*tests[])(void) = {
		test_open, test_domains, test_users, test_unlock,
		test_app_passwords, test_cred_valid,
#ifdef SP_TEST_HOOKS
		test_kdf_count,
#endif
		test_quota, test_recovery, test_tamper, test_ad_binding,
		test_aliases, test_user_del, test_uid_range, test_lists, NULL
	};
	struct dirent	*de;
	DIR		*d;
	int		 rv;

	if (sodium_init() < 0)
		return 1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sp-test-accounts-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/users.db", tmpdir);
	rv = test_run(tests);
	if ((d = opendir(tmpdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char	path[512];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", tmpdir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	return rv;
}
