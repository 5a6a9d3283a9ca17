/* SPDX-License-Identifier: ISC */
/*
 * accounts.c - users.db: domains, accounts, aliases, credentials; the
 * only file that knows its SQL (see accounts.h for the API).
 *
 * Process:  sealpostctl (root, every operation); the auth service
 *           (unlock, lookup, quota).  No other process opens users.db.
 * Trust:    users.db is root's file and trusted for its structure, but a
 *           value read from it is still checked before use (blob sizes,
 *           KDF limits), so a damaged file gives an error, never a crash
 *           or an unbounded KDF.  Addresses, labels and passwords come
 *           from an administrator (sealpostctl) or a network client (auth)
 *           and are validated here.
 * Limits:   ACCOUNTS_* in accounts.h; ACC_MAX_CREDS credentials tried per
 *           login; KEYFILE_MAX bytes of a recovery key file; SQLite
 *           busy timeout ACC_BUSY_MS.
 * See also: sealpostctl/ctl_accounts.c, docs/sealpostctl.8,
 *           DESIGN.md "At-rest formats: Accounts".
 *
 * users.db (SQLite; WAL, synchronous=FULL, foreign keys on, secure_delete
 * on, temp_store=MEMORY; created with mode 0600, so its -wal and -shm are
 * 0600 too):
 *
 *   schema_version (version)			one row: ACC_SCHEMA_VERSION
 *   domains     (name PK, created)
 *   accounts    (id PK AUTOINCREMENT, address UNIQUE, domain -> domains,
 *                uid UNIQUE = account-uids FROM + id, public_key (32),
 *                recovery_box (80) = crypto_box_seal(private key,
 *                recovery public key) or NULL, recovery_pk (32, the key
 *                it is sealed to) or NULL, quota (bytes, 0: none), usage
 *                (bytes), state ('active' | 'disabled'), created)
 *   credentials (id PK AUTOINCREMENT, account_id -> accounts ON DELETE
 *                CASCADE, kind ('password' | 'app'), label, salt (16),
 *                opslimit, memlimit, alg (crypto_pwhash Argon2id13),
 *                nonce (24), wrapped (48) = XChaCha20-Poly1305(private
 *                key; key = Argon2id(password, salt, opslimit, memlimit);
 *                AD = account id || credential id, both u64 LE),
 *                created, revoked (NULL: active; a revoked row keeps its
 *                label and dates, its salt, nonce and wrapping are erased))
 *                at most one active 'password' per account; app labels
 *                unique among an account's active app passwords
 *   aliases     (address PK, domain -> domains ON DELETE CASCADE,
 *                account_id -> accounts ON DELETE CASCADE, created)
 *                an alias points at an account, never at an alias
 *
 * Triggers keep an address from being both an account and an alias.
 * Ids come from AUTOINCREMENT and are never reused: an account's mail
 * folder is named by its id and outlives it (user del leaves it), so a new
 * account must never get an old id.
 *
 * postmaster@ and abuse@ (RFC 5321 4.5.1, RFC 2142): domain add either
 * names an account for them (--postmaster) or leaves them to the first
 * account created in the domain: user add wires whichever of the two the
 * domain lacks to the new account (an administrator may also set them with
 * alias add before that).  Once they exist they stay while the domain
 * does: alias del refuses them (alias add --replace re-points them), and
 * user del refuses an account that is or receives one, unless it is the
 * last account of that same domain (which then waits for its next first
 * account, as after domain add without --postmaster).
 *
 * Secrets: private keys and derived wrapping keys exist only in
 * sodium_malloc memory and are freed (wiped) as soon as they are used;
 * passwords stay in the caller's memory.  What SQLite holds is public
 * keys, ciphertexts, salts and metadata.  Erased rows are overwritten
 * (secure_delete) and the WAL is truncated after an operation that
 * destroys a wrapping (passwd, revoke, reset, user del); the filesystem
 * and the disk below it may keep older copies, which is why a revoked
 * password must still be treated as known to whoever knew it.
 *
 * One handle is used by one thread at a time (the auth service gives each
 * KDF worker its own handle).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "log.h"
#include "xmalloc.h"
#include "conf.h"
#include "accounts.h"
#include "keyfile.h"
#include "banned.h"

#define ACC_SCHEMA_VERSION	1
#define ACC_BUSY_MS		5000
#define ACC_SALT_LEN		crypto_pwhash_SALTBYTES		/* 16 */
#define ACC_NONCE_LEN		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ACC_WRAPPED_LEN		(ACCOUNTS_KEY_LEN + \
				 crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define ACC_WRAPKEY_LEN		crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define ACC_BOX_LEN		(crypto_box_SEALBYTES + ACCOUNTS_KEY_LEN)
#define ACC_AD_LEN		16	/* account id || credential id */
#define ACC_MAX_CREDS		(ACCOUNTS_MAX_APP + 1)
#define ACC_USAGE_MAX		(1ULL << 60)	/* no overflow in usage + n */
#define ACC_TAG_PUBLIC		"sealpost-recovery-public"
#define ACC_TAG_PRIVATE		"sealpost-recovery-private"

#define ACC_STR2(x)		#x
#define ACC_STR(x)		ACC_STR2(x)

struct accounts_db {
	sqlite3			*db;
	struct accounts_params	 p;
	unsigned long long	 opslimit;	/* for new credentials */
	size_t			 memlimit;
	/* the credential an unknown user is checked against */
	uint8_t			 dummy_salt[ACC_SALT_LEN];
	uint8_t			 dummy_nonce[ACC_NONCE_LEN];
	uint8_t			 dummy_wrapped[ACC_WRAPPED_LEN];
	char			 addr[ACCOUNTS_ADDRESS_MAX + 1];
	char			 err[ACCOUNTS_ERR_MAX];
};

/* An account row, as the operations below need it. */
struct acc_account {
	uint64_t	 id;
	uint32_t	 uid;
	uint64_t	 quota;
	uint64_t	 usage;
	int		 active;
	int		 has_box;
	uint8_t		 pk[ACCOUNTS_KEY_LEN];
	uint8_t		 box[ACC_BOX_LEN];
	uint8_t		 box_pk[ACCOUNTS_KEY_LEN];
	char		 address[ACCOUNTS_ADDRESS_MAX + 1];
	char		 domain[SP_HOSTNAME_MAX + 1];
};

/* A credential row (nothing secret in it). */
struct acc_cred {
	uint64_t		 id;
	unsigned long long	 ops;
	size_t			 mem;
	int			 alg;
	uint8_t			 salt[ACC_SALT_LEN];
	uint8_t			 nonce[ACC_NONCE_LEN];
	uint8_t			 wrapped[ACC_WRAPPED_LEN];
};

/* A new credential's KDF result, before it wraps anything. */
struct acc_newcred {
	uint8_t			 salt[ACC_SALT_LEN];
	unsigned long long	 ops;
	size_t			 mem;
	uint8_t			*key;		/* sodium_malloc */
};

enum acc_table { ACC_T_ACCOUNTS, ACC_T_CREDENTIALS };

static const char acc_schema[] =
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	"INSERT INTO schema_version VALUES (" ACC_STR(ACC_SCHEMA_VERSION) ");"
	"CREATE TABLE domains ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  address TEXT NOT NULL UNIQUE,"
	"  domain TEXT NOT NULL REFERENCES domains(name),"
	"  uid INTEGER NOT NULL UNIQUE,"
	"  public_key BLOB NOT NULL CHECK (length(public_key) = 32),"
	"  recovery_box BLOB CHECK (recovery_box IS NULL OR"
	"    length(recovery_box) = 80),"
	"  recovery_pk BLOB CHECK (recovery_pk IS NULL OR"
	"    length(recovery_pk) = 32),"
	"  quota INTEGER NOT NULL CHECK (quota >= 0),"
	"  usage INTEGER NOT NULL DEFAULT 0 CHECK (usage >= 0),"
	"  state TEXT NOT NULL DEFAULT 'active'"
	"    CHECK (state IN ('active', 'disabled')),"
	"  created INTEGER NOT NULL,"
	"  CHECK ((recovery_box IS NULL) = (recovery_pk IS NULL)),"
	"  CHECK (substr(address, -length(domain) - 1) = '@' || domain));"
	"CREATE INDEX accounts_domain ON accounts(domain);"
	"CREATE TABLE credentials ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"    ON DELETE CASCADE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('password', 'app')),"
	"  label TEXT NOT NULL,"
	"  salt BLOB,"
	"  opslimit INTEGER NOT NULL,"
	"  memlimit INTEGER NOT NULL,"
	"  alg INTEGER NOT NULL,"
	"  nonce BLOB,"
	"  wrapped BLOB,"
	"  created INTEGER NOT NULL,"
	"  revoked INTEGER,"
	"  CHECK (revoked IS NOT NULL OR (length(salt) = 16 AND"
	"    length(nonce) = 24 AND length(wrapped) = 48)));"
	"CREATE UNIQUE INDEX credentials_password ON credentials(account_id)"
	"  WHERE kind = 'password' AND revoked IS NULL;"
	"CREATE UNIQUE INDEX credentials_label ON credentials(account_id,"
	"  label)"
	"  WHERE kind = 'app' AND revoked IS NULL;"
	"CREATE INDEX credentials_account ON credentials(account_id);"
	"CREATE TABLE aliases ("
	"  address TEXT PRIMARY KEY NOT NULL,"
	"  domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"    ON DELETE CASCADE,"
	"  created INTEGER NOT NULL,"
	"  CHECK (substr(address, -length(domain) - 1) = '@' || domain));"
	"CREATE INDEX aliases_account ON aliases(account_id);"
	"CREATE INDEX aliases_domain ON aliases(domain);"
	"CREATE TRIGGER aliases_not_account BEFORE INSERT ON aliases"
	"  WHEN EXISTS (SELECT 1 FROM accounts WHERE address = NEW.address)"
	"  BEGIN SELECT RAISE(ABORT, 'address is an account'); END;"
	"CREATE TRIGGER accounts_not_alias BEFORE INSERT ON accounts"
	"  WHEN EXISTS (SELECT 1 FROM aliases WHERE address = NEW.address)"
	"  BEGIN SELECT RAISE(ABORT, 'address is an alias'); END;";

#ifdef SP_TEST_HOOKS
static uint64_t	acc_kdf_runs;

uint64_t
accounts_test_kdf_runs(void)
{
	return __atomic_load_n(&acc_kdf_runs, __ATOMIC_RELAXED);
}
#endif

/* --- errors ------------------------------------------------------------ */

static int acc_err(struct accounts_db *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
acc_err(struct accounts_db *a, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int
acc_dberr(struct accounts_db *a)
{
	return acc_err(a, "users.db: %s", sqlite3_errmsg(a->db));
}

/* Every public operation starts here: errstr_r points at a->err. */
static void
acc_start(struct accounts_db *a, const char **errstr_r)
{
	a->err[0] = '\0';
	if (errstr_r != NULL)
		*errstr_r = a->err;
}

/* Untrusted text for a message: quoted and escaped (log_esc). */
static const char *
acc_esc(const char *s, char *buf, size_t len)
{
	return log_esc(buf, len, s, strnlen(s, ACCOUNTS_ADDRESS_MAX + 8));
}

const char *
accounts_errstr(const struct accounts_db *a)
{
	return a->err;
}

/* --- SQL helpers ------------------------------------------------------- */

/*
 * Bind by a list of types: 't' const char *, 'i' int64_t, 'b' const void *
 * and size_t (NULL binds NULL).  Every integer argument is cast to int64_t
 * at the call.
 */
static int
acc_bind(sqlite3_stmt *st, const char *types, va_list ap)
{
	const void	*p;
	size_t		 n;
	int		 i, rc = SQLITE_OK;

	for (i = 0; types[i] != '\0' && rc == SQLITE_OK; i++) {
		switch (types[i]) {
		case 't':
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap,
			    const char *), -1, SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1,
			    (sqlite3_int64)va_arg(ap, int64_t));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			n = va_arg(ap, size_t);
			SP_ASSERT(n <= 4096);
			rc = p == NULL ? sqlite3_bind_null(st, i + 1) :
			    sqlite3_bind_blob(st, i + 1, p, (int)n,
			    SQLITE_STATIC);
			break;
		default:
			fatalx("acc_bind: type %c", types[i]);
		}
	}
	return rc == SQLITE_OK ? 0 : -1;
}

static sqlite3_stmt *
acc_vquery(struct accounts_db *a, const char *sql, const char *types,
    va_list ap)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK) {
		acc_dberr(a);
		return NULL;
	}
	if (acc_bind(st, types, ap) == -1) {
		acc_dberr(a);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* A prepared, bound statement for the caller to step and finalize. */
static sqlite3_stmt *
acc_query(struct accounts_db *a, const char *sql, const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, types);
	st = acc_vquery(a, sql, types, ap);
	va_end(ap);
	return st;
}

/* A statement without result rows: the number of rows changed, or -1. */
static int
acc_run(struct accounts_db *a, const char *sql, const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	va_start(ap, types);
	st = acc_vquery(a, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return acc_dberr(a);
	return sqlite3_changes(a->db);
}

/* The first column of the first row: 0 without a row (or NULL), -1 error. */
static int64_t
acc_int(struct accounts_db *a, const char *sql, const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int64_t		 v = 0;
	int		 rc;

	va_start(ap, types);
	st = acc_vquery(a, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return acc_dberr(a);
	return v;
}

/* Copy column i when it is a blob of exactly len bytes: 1, else 0. */
static int
acc_col_blob(sqlite3_stmt *st, int i, void *dst, size_t len)
{
	const void	*p;

	if (sqlite3_column_type(st, i) != SQLITE_BLOB ||
	    (size_t)sqlite3_column_bytes(st, i) != len ||
	    (p = sqlite3_column_blob(st, i)) == NULL)
		return 0;
	memcpy(dst, p, len);
	return 1;
}

static const char *
acc_col_text(sqlite3_stmt *st, int i)
{
	const char	*s = (const char *)sqlite3_column_text(st, i);

	return s != NULL ? s : "";
}

static int
acc_begin(struct accounts_db *a)
{
	/* IMMEDIATE: take the write lock now, so checks and writes agree */
	if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return acc_dberr(a);
	return 0;
}

static int
acc_commit(struct accounts_db *a)
{
	if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return acc_dberr(a);
	return 0;
}

/* Undo an open transaction (keeps the message of what failed). */
static void
acc_rollback(struct accounts_db *a)
{
	if (!sqlite3_get_autocommit(a->db))
		(void)sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * SECURITY: after a wrapping was erased, move every page back into the
 * database file (where secure_delete zeroed it) and truncate the WAL,
 * which may still hold an older copy of the row.  Best effort: a reader
 * holding the WAL only delays this to a later checkpoint.
 */
static void
acc_scrub_wal(struct accounts_db *a)
{
	(void)sqlite3_wal_checkpoint_v2(a->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

static int64_t
acc_now(void)
{
	return (int64_t)time(NULL);
}

/* The id the next row of t gets (AUTOINCREMENT: never a used one). */
static int64_t
acc_next_id(struct accounts_db *a, enum acc_table t)
{
	static const char *sql[] = {
		[ACC_T_ACCOUNTS] = "SELECT max(coalesce((SELECT seq FROM "
		    "sqlite_sequence WHERE name = 'accounts'), 0), "
		    "coalesce((SELECT max(id) FROM accounts), 0)) + 1",
		[ACC_T_CREDENTIALS] = "SELECT max(coalesce((SELECT seq FROM "
		    "sqlite_sequence WHERE name = 'credentials'), 0), "
		    "coalesce((SELECT max(id) FROM credentials), 0)) + 1",
	};

	return acc_int(a, sql[t], "");
}

/* --- names ------------------------------------------------------------- */

/* Lower-case a host name into out; 0 when it is valid (RFC 1123). */
static int
acc_domain_norm(const char *in, char *out, size_t outlen)
{
	size_t	i, n = strnlen(in, SP_HOSTNAME_MAX + 1);

	if (n > SP_HOSTNAME_MAX || n >= outlen)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return conf_valid_hostname(out) ? 0 : -1;
}

/*
 * Lower-case and check an address: a dot-atom local part of RFC 5322
 * atext (no quoted strings, no UTF-8 yet) of at most ACCOUNTS_LOCAL_MAX
 * characters, "@", a host name.  0 when valid; *domain_r then points into
 * out.
 */
static int
acc_address_norm(const char *in, char *out, size_t outlen,
    const char **domain_r)
{
	static const char	 atext[] = "!#$%&'*+-/=?^_`{|}~";
	const char		*at;
	size_t			 n, local, i;

	n = strnlen(in, ACCOUNTS_ADDRESS_MAX + 1);
	if (n > ACCOUNTS_ADDRESS_MAX || n >= outlen ||
	    (at = strchr(in, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return -1;
	local = (size_t)(at - in);
	if (local == 0 || local > ACCOUNTS_LOCAL_MAX || in[0] == '.' ||
	    in[local - 1] == '.')
		return -1;
	for (i = 0; i < local; i++) {
		unsigned char	c = (unsigned char)in[i];

		if (c == '.' && in[i + 1] == '.')
			return -1;
		if (!isascii(c) || !(isalnum(c) || c == '.' ||
		    (c != '\0' && strchr(atext, c) != NULL)))
			return -1;
		out[i] = (char)tolower(c);
	}
	out[local] = '@';
	if (acc_domain_norm(at + 1, out + local + 1, outlen - local - 1) ==
	    -1)
		return -1;
	if (domain_r != NULL)
		*domain_r = out + local + 1;
	return 0;
}

static int
acc_address(struct accounts_db *a, const char *in, char *out, size_t outlen,
    const char **domain_r)
{
	char	esc[ACCOUNTS_ADDRESS_MAX + 8];

	if (acc_address_norm(in, out, outlen, domain_r) == 0)
		return 0;
	return acc_err(a, "\"%s\" is not a valid address",
	    acc_esc(in, esc, sizeof(esc)));
}

static int
acc_domain(struct accounts_db *a, const char *in, char *out, size_t outlen)
{
	char	esc[ACCOUNTS_ADDRESS_MAX + 8];

	if (acc_domain_norm(in, out, outlen) == 0)
		return 0;
	return acc_err(a, "\"%s\" is not a valid domain name",
	    acc_esc(in, esc, sizeof(esc)));
}

/* Is addr (normalized) postmaster@ or abuse@ of its domain? */
static int
acc_required(const char *addr)
{
	return strncmp(addr, "postmaster@", 11) == 0 ||
	    strncmp(addr, "abuse@", 6) == 0;
}

int
accounts_password_check(const char *address, const unsigned char *pw,
    size_t len, const char **errstr_r)
{
	const char	*at;
	size_t		 i, nchar = 0, alen;

	*errstr_r = NULL;
	if (len > ACCOUNTS_PASSWORD_MAX) {
		*errstr_r = "password longer than "
		    ACC_STR(ACCOUNTS_PASSWORD_MAX) " bytes";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (pw[i] < 0x20 || pw[i] == 0x7f) {
			*errstr_r = "password contains a control character";
			return -1;
		}
		if ((pw[i] & 0xc0) != 0x80)	/* not a UTF-8 continuation */
			nchar++;
	}
	if (nchar < ACCOUNTS_PASSWORD_MIN) {
		*errstr_r = "password too short (at least "
		    ACC_STR(ACCOUNTS_PASSWORD_MIN) " characters)";
		return -1;
	}
	alen = strlen(address);
	if (len == alen && strncasecmp((const char *)pw, address, len) == 0) {
		*errstr_r = "password is the address";
		return -1;
	}
	if ((at = strchr(address, '@')) != NULL &&
	    len == (size_t)(at - address) &&
	    strncasecmp((const char *)pw, address, len) == 0) {
		*errstr_r = "password is the address's local part";
		return -1;
	}
	return 0;
}

/* --- keys and the KDF -------------------------------------------------- */

static void
acc_kdf_limits(int strength, unsigned long long *ops, size_t *mem)
{
	switch (strength) {
	case CONF_KDF_MODERATE:
		*ops = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
		break;
	case CONF_KDF_SENSITIVE:
		*ops = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
		break;
	case CONF_KDF_TEST:
		/*
		 * SECURITY: cheap to guess.  Reachable only from a
		 * configuration with instance-type test: conf_check refuses
		 * kdf-strength test anywhere else.
		 */
		*ops = crypto_pwhash_argon2id_OPSLIMIT_MIN;
		*mem = crypto_pwhash_argon2id_MEMLIMIT_MIN;
		break;
	default:
		*ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
		break;
	}
}

/* SECURITY: limits read from users.db are bounded before a KDF runs. */
static int
acc_kdf_limits_ok(unsigned long long ops, size_t mem, int alg)
{
	return alg == crypto_pwhash_ALG_ARGON2ID13 &&
	    ops >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
	    ops <= crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE &&
	    mem >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
	    mem <= crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
}

/* key: ACC_WRAPKEY_LEN bytes of sodium_malloc memory. */
static int
acc_kdf(uint8_t *key, const unsigned char *pw, size_t len,
    const uint8_t *salt, unsigned long long ops, size_t mem)
{
#ifdef SP_TEST_HOOKS
	__atomic_add_fetch(&acc_kdf_runs, 1, __ATOMIC_RELAXED);
#endif
	return crypto_pwhash(key, ACC_WRAPKEY_LEN, (const char *)pw, len,
	    salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

static void
acc_ad(uint8_t ad[ACC_AD_LEN], uint64_t account, uint64_t cred)
{
	int	i;

	for (i = 0; i < 8; i++) {
		ad[i] = (uint8_t)(account >> (8 * i));
		ad[8 + i] = (uint8_t)(cred >> (8 * i));
	}
}

static void
acc_newcred_free(struct acc_newcred *nc)
{
	if (nc->key != NULL)
		sodium_free(nc->key);
	nc->key = NULL;
}

/* A fresh salt and the KDF of pw with the configured limits. */
static int
acc_newcred_derive(struct accounts_db *a, const unsigned char *pw,
    size_t len, struct acc_newcred *nc)
{
	randombytes_buf(nc->salt, sizeof(nc->salt));
	nc->ops = a->opslimit;
	nc->mem = a->memlimit;
	if ((nc->key = sodium_malloc(ACC_WRAPKEY_LEN)) == NULL)
		return acc_err(a, "out of memory for a key");
	if (acc_kdf(nc->key, pw, len, nc->salt, nc->ops, nc->mem) == -1) {
		acc_newcred_free(nc);
		return acc_err(a, "the KDF failed (out of memory?)");
	}
	return 0;
}

/*
 * Inside a transaction: wrap sk (sodium memory) under nc for account and
 * store it as a new credential.
 */
static int
acc_cred_insert(struct accounts_db *a, uint64_t account, const char *kind,
    const char *label, const struct acc_newcred *nc, const uint8_t *sk)
{
	uint8_t		 nonce[ACC_NONCE_LEN], wrapped[ACC_WRAPPED_LEN];
	uint8_t		 ad[ACC_AD_LEN];
	int64_t		 id;

	if ((id = acc_next_id(a, ACC_T_CREDENTIALS)) == -1)
		return -1;
	randombytes_buf(nonce, sizeof(nonce));
	acc_ad(ad, account, (uint64_t)id);
	crypto_aead_xchacha20poly1305_ietf_encrypt(wrapped, NULL, sk,
	    ACCOUNTS_KEY_LEN, ad, sizeof(ad), NULL, nonce, nc->key);
	if (acc_run(a, "INSERT INTO credentials (id, account_id, kind, label,"
	    " salt, opslimit, memlimit, alg, nonce, wrapped, created) VALUES"
	    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "iittbiiibbi", id,
	    (int64_t)account, kind, label, nc->salt, sizeof(nc->salt),
	    (int64_t)nc->ops, (int64_t)nc->mem,
	    (int64_t)crypto_pwhash_ALG_ARGON2ID13, nonce, sizeof(nonce),
	    wrapped, sizeof(wrapped), acc_now()) == -1)
		return -1;
	return 0;
}

/* --- reading rows ------------------------------------------------------ */

#define ACC_ACCOUNT_COLS \
	"a.id, a.address, a.domain, a.uid, a.public_key, a.quota, a.usage, " \
	"a.state, a.recovery_box, a.recovery_pk"

static int
acc_account_row(struct accounts_db *a, sqlite3_stmt *st,
    struct acc_account *r)
{
	memset(r, 0, sizeof(*r));
	r->id = (uint64_t)sqlite3_column_int64(st, 0);
	if (strlcpy(r->address, acc_col_text(st, 1), sizeof(r->address)) >=
	    sizeof(r->address) ||
	    strlcpy(r->domain, acc_col_text(st, 2), sizeof(r->domain)) >=
	    sizeof(r->domain) ||
	    sqlite3_column_int64(st, 3) < 0 ||
	    sqlite3_column_int64(st, 3) > UINT32_MAX ||
	    !acc_col_blob(st, 4, r->pk, sizeof(r->pk)))
		return acc_err(a, "users.db: account %llu is damaged",
		    (unsigned long long)r->id);
	r->uid = (uint32_t)sqlite3_column_int64(st, 3);
	r->quota = (uint64_t)sqlite3_column_int64(st, 5);
	r->usage = (uint64_t)sqlite3_column_int64(st, 6);
	r->active = strcmp(acc_col_text(st, 7), "active") == 0;
	r->has_box = acc_col_blob(st, 8, r->box, sizeof(r->box)) &&
	    acc_col_blob(st, 9, r->box_pk, sizeof(r->box_pk));
	return 0;
}

/*
 * The account at addr (normalized), or the account an alias at addr
 * points to when follow_alias: 1 found, 0 not, -1 error.
 */
static int
acc_account_get(struct accounts_db *a, const char *addr, int follow_alias,
    struct acc_account *r)
{
	sqlite3_stmt	*st;
	int		 rc, found = 0;

	st = acc_query(a, "SELECT " ACC_ACCOUNT_COLS " FROM accounts a"
	    " WHERE a.address = ?1 UNION ALL SELECT " ACC_ACCOUNT_COLS
	    " FROM aliases l JOIN accounts a ON a.id = l.account_id"
	    " WHERE l.address = ?1 AND ?2 LIMIT 1", "ti", addr,
	    (int64_t)follow_alias);
	if (st == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (acc_account_row(a, st, r) == -1) {
			sqlite3_finalize(st);
			return -1;
		}
		found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return acc_dberr(a);
	return found;
}

/* The account at addr, not an alias; "no account ADDR" when missing. */
static int
acc_account_need(struct accounts_db *a, const char *addr,
    struct acc_account *r)
{
	int	rv;

	if ((rv = acc_account_get(a, addr, 0, r)) == 0)
		return acc_err(a, "no account %s", addr);
	return rv == 1 ? 0 : -1;
}

/*
 * The active credentials of an account, the password first: at most max
 * (a users.db holding more was not made by us; the rest are ignored).
 * A row with a damaged field is skipped.
 */
static int
acc_creds_load(struct accounts_db *a, uint64_t account, int password_only,
    struct acc_cred *c, size_t max, size_t *n_r)
{
	sqlite3_stmt	*st;
	size_t		 n = 0;
	int64_t		 ops, mem;
	int		 rc = SQLITE_DONE;

	st = acc_query(a, "SELECT id, opslimit, memlimit, alg, salt, nonce,"
	    " wrapped FROM credentials WHERE account_id = ? AND revoked IS NULL"
	    " AND (kind = 'password' OR NOT ?) ORDER BY kind = 'password' DESC,"
	    " id", "ii", (int64_t)account, (int64_t)password_only);
	if (st == NULL)
		return -1;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		c[n].id = (uint64_t)sqlite3_column_int64(st, 0);
		ops = sqlite3_column_int64(st, 1);
		mem = sqlite3_column_int64(st, 2);
		c[n].alg = sqlite3_column_int(st, 3);
		if (ops <= 0 || mem <= 0 ||
		    !acc_col_blob(st, 4, c[n].salt, sizeof(c[n].salt)) ||
		    !acc_col_blob(st, 5, c[n].nonce, sizeof(c[n].nonce)) ||
		    !acc_col_blob(st, 6, c[n].wrapped, sizeof(c[n].wrapped)))
			continue;
		c[n].ops = (unsigned long long)ops;
		c[n].mem = (size_t)mem;
		n++;
	}
	if (n == max)
		rc = SQLITE_DONE;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return acc_dberr(a);
	*n_r = n;
	return 0;
}

static int
acc_recovery_state(const struct accounts_db *a, const struct acc_account *r)
{
	if (!r->has_box)
		return ACCOUNTS_RECOVERY_NONE;
	if (a->p.have_recovery &&
	    sodium_memcmp(r->box_pk, a->p.recovery_pk, ACCOUNTS_KEY_LEN) == 0)
		return ACCOUNTS_RECOVERY_CURRENT;
	return ACCOUNTS_RECOVERY_OTHER;
}

/*
 * Inside a transaction, with the private key at hand: seal it to the
 * configured recovery key unless it already is.
 */
static int
acc_reseal(struct accounts_db *a, const struct acc_account *r,
    const uint8_t *sk)
{
	uint8_t	box[ACC_BOX_LEN];

	if (!a->p.have_recovery ||
	    acc_recovery_state(a, r) == ACCOUNTS_RECOVERY_CURRENT)
		return 0;
	if (crypto_box_seal(box, sk, ACCOUNTS_KEY_LEN, a->p.recovery_pk) != 0)
		return acc_err(a, "cannot seal to the recovery key");
	return acc_run(a, "UPDATE accounts SET recovery_box = ?,"
	    " recovery_pk = ? WHERE id = ?", "bbi", box, sizeof(box),
	    a->p.recovery_pk, sizeof(a->p.recovery_pk), (int64_t)r->id) == -1 ?
	    -1 : 0;
}

/* --- open and close ---------------------------------------------------- */

static int
acc_pragmas(struct accounts_db *a)
{
	sqlite3_stmt	*st;
	int		 wal = 0;

	if (sqlite3_exec(a->db, "PRAGMA foreign_keys = ON;"
	    "PRAGMA secure_delete = ON;"
	    "PRAGMA temp_store = MEMORY;", NULL, NULL, NULL) != SQLITE_OK)
		return acc_dberr(a);
	if ((st = acc_query(a, "PRAGMA journal_mode = WAL", "")) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		wal = strcmp(acc_col_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal)
		return acc_err(a, "users.db: cannot switch to WAL mode: %s",
		    sqlite3_errmsg(a->db));
	/* after journal_mode: synchronous is per connection */
	if (sqlite3_exec(a->db, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK)
		return acc_dberr(a);
	return 0;
}

/* 1: users.db holds our schema; 0: it is empty; -1: foreign or newer. */
static int
acc_schema_check(struct accounts_db *a, const char *path)
{
	int64_t	n, v;

	if ((n = acc_int(a, "SELECT count(*) FROM sqlite_master", "")) == -1)
		return acc_err(a, "%s: %s", path, sqlite3_errmsg(a->db));
	if (n == 0)
		return 0;
	if (acc_int(a, "SELECT count(*) FROM sqlite_master WHERE type ="
	    " 'table' AND name = 'schema_version'", "") != 1)
		return acc_err(a, "%s: not a sealpost users.db", path);
	if ((v = acc_int(a, "SELECT max(version) FROM schema_version", "")) ==
	    -1)
		return -1;
	if (v != ACC_SCHEMA_VERSION)
		return acc_err(a, "%s: schema version %lld, this program knows "
		    "%d", path, (long long)v, ACC_SCHEMA_VERSION);
	return 1;
}

/* Remove a users.db this open created, with what SQLite made beside it. */
static void
acc_unlink_db(const char *path)
{
	static const char	*side[] = { "-wal", "-shm" };
	char			 p[4096];
	size_t			 i;

	(void)unlink(path);
	for (i = 0; i < 2; i++)
		if ((size_t)snprintf(p, sizeof(p), "%s%s", path, side[i]) <
		    sizeof(p))
			(void)unlink(p);
}

struct accounts_db *
accounts_open(const char *path, const struct accounts_params *p, int flags,
    char *err, size_t errlen)
{
	struct accounts_db	*a;
	struct stat		 st;
	int			 fd, created = 0, have;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialize");
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->p = *p;
	acc_kdf_limits(p->kdf_strength, &a->opslimit, &a->memlimit);
	randombytes_buf(a->dummy_salt, sizeof(a->dummy_salt));
	randombytes_buf(a->dummy_nonce, sizeof(a->dummy_nonce));
	randombytes_buf(a->dummy_wrapped, sizeof(a->dummy_wrapped));

	if (lstat(path, &st) == -1) {
		if (errno != ENOENT || !(flags & ACCOUNTS_OPEN_CREATE)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		/*
		 * SECURITY: create it 0600 before SQLite does (SQLite would
		 * make it 0644); its -wal and -shm files copy this mode.
		 */
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		close(fd);
		created = 1;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	{
		/*
		 * Seed SQLite's generator from the kernel now: inside the auth
		 * service's jail there is no /dev/urandom (RECIPES.md 10).
		 */
		unsigned char	seed[8];

		sqlite3_randomness(sizeof(seed), seed);
	}
	if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, a->db != NULL ?
		    sqlite3_errmsg(a->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(a->db, ACC_BUSY_MS);
	sqlite3_extended_result_codes(a->db, 1);
	/* look before anything writes: a foreign file stays untouched */
	if ((have = acc_schema_check(a, path)) == -1)
		goto dbfail;
	if (have == 0 && !(flags & ACCOUNTS_OPEN_CREATE)) {
		acc_err(a, "%s: empty, not a users.db yet", path);
		goto dbfail;
	}
	if (acc_pragmas(a) == -1)
		goto dbfail;
	if (have == 0) {
		if (acc_begin(a) == -1)
			goto dbfail;
		/* another sealpostctl may have been first */
		if ((have = acc_schema_check(a, path)) == -1)
			goto dbfail;
		if (have == 0 && sqlite3_exec(a->db, acc_schema, NULL, NULL,
		    NULL) != SQLITE_OK) {
			acc_dberr(a);
			goto dbfail;
		}
		if (acc_commit(a) == -1)
			goto dbfail;
	}
	return a;
dbfail:
	acc_rollback(a);
	snprintf(err, errlen, "%s", a->err);
fail:
	if (a->db != NULL)
		sqlite3_close_v2(a->db);
	if (created)
		acc_unlink_db(path);
	free(a);
	return NULL;
}

void
accounts_close(struct accounts_db *a)
{
	if (a == NULL)
		return;
	sqlite3_close_v2(a->db);
	free(a);
}

/* --- domains ----------------------------------------------------------- */

static int
acc_domain_exists(struct accounts_db *a, const char *dom)
{
	int64_t	n;

	if ((n = acc_int(a, "SELECT count(*) FROM domains WHERE name = ?",
	    "t", dom)) == -1)
		return -1;
	return n > 0;
}

int
accounts_domain_add(struct accounts_db *a, const char *domain,
    const char *postmaster, const char **errstr_r)
{
	struct acc_account	 pm;
	char			 dom[SP_HOSTNAME_MAX + 1];
	char			 pmaddr[ACCOUNTS_ADDRESS_MAX + 1];
	char			 alias[ACCOUNTS_ADDRESS_MAX + 1];
	static const char	*req[] = { "postmaster", "abuse" };
	size_t			 i;
	int			 rv;

	acc_start(a, errstr_r);
	memset(&pm, 0, sizeof(pm));
	if (acc_domain(a, domain, dom, sizeof(dom)) == -1)
		return -1;
	if (postmaster != NULL &&
	    acc_address(a, postmaster, pmaddr, sizeof(pmaddr), NULL) == -1)
		return -1;
	if (acc_begin(a) == -1)
		return -1;
	if ((rv = acc_domain_exists(a, dom)) != 0) {
		if (rv == 1)
			acc_err(a, "domain %s exists", dom);
		goto fail;
	}
	if (postmaster != NULL) {
		if ((rv = acc_account_get(a, pmaddr, 0, &pm)) == -1)
			goto fail;
		if (rv == 0) {
			if (acc_int(a, "SELECT count(*) FROM aliases WHERE"
			    " address = ?", "t", pmaddr) > 0)
				acc_err(a, "%s is an alias, not an account",
				    pmaddr);
			else
				acc_err(a, "no account %s", pmaddr);
			goto fail;
		}
	}
	if (acc_run(a, "INSERT INTO domains (name, created) VALUES (?, ?)",
	    "ti", dom, acc_now()) == -1)
		goto fail;
	for (i = 0; postmaster != NULL && i < 2; i++) {
		if ((size_t)snprintf(alias, sizeof(alias), "%s@%s", req[i],
		    dom) >= sizeof(alias)) {
			acc_err(a, "%s@%s is too long", req[i], dom);
			goto fail;
		}
		if (acc_run(a, "INSERT INTO aliases (address, domain,"
		    " account_id, created) VALUES (?, ?, ?, ?)", "ttii", alias,
		    dom, (int64_t)pm.id, acc_now()) == -1)
			goto fail;
	}
	if (acc_commit(a) == -1)
		goto fail;
	return 0;
fail:
	acc_rollback(a);
	return -1;
}

int
accounts_domain_del(struct accounts_db *a, const char *domain,
    const char **errstr_r)
{
	char	dom[SP_HOSTNAME_MAX + 1];
	int64_t	n;
	int	rv;

	acc_start(a, errstr_r);
	if (acc_domain(a, domain, dom, sizeof(dom)) == -1 ||
	    acc_begin(a) == -1)
		return -1;
	if ((rv = acc_domain_exists(a, dom)) != 1) {
		if (rv == 0)
			acc_err(a, "unknown domain %s", dom);
		goto fail;
	}
	if ((n = acc_int(a, "SELECT count(*) FROM accounts WHERE domain = ?",
	    "t", dom)) != 0) {
		if (n > 0)
			acc_err(a, "domain %s still has %lld account%s: delete "
			    "them first", dom, (long long)n, n == 1 ? "" : "s");
		goto fail;
	}
	/* its aliases go with it (ON DELETE CASCADE) */
	if (acc_run(a, "DELETE FROM domains WHERE name = ?", "t", dom) == -1 ||
	    acc_commit(a) == -1)
		goto fail;
	return 0;
fail:
	acc_rollback(a);
	return -1;
}

int
accounts_domain_list(struct accounts_db *a,
    int (*cb)(const struct accounts_domain_info *, void *), void *arg,
    const char **errstr_r)
{
	struct accounts_domain_info	 d;
	sqlite3_stmt			*st;
	int				 rc, rv = 0;

	acc_start(a, errstr_r);
	/* postmaster@/abuse@: an alias's target, or an account itself */
	st = acc_query(a, "SELECT d.name, d.created,"
	    " (SELECT count(*) FROM accounts WHERE domain = d.name),"
	    " (SELECT count(*) FROM aliases WHERE domain = d.name),"
	    " coalesce((SELECT a.address FROM aliases l JOIN accounts a"
	    "   ON a.id = l.account_id WHERE l.address = 'postmaster@' ||"
	    "   d.name), (SELECT address FROM accounts WHERE address ="
	    "   'postmaster@' || d.name)),"
	    " coalesce((SELECT a.address FROM aliases l JOIN accounts a"
	    "   ON a.id = l.account_id WHERE l.address = 'abuse@' || d.name),"
	    "   (SELECT address FROM accounts WHERE address = 'abuse@' ||"
	    "   d.name))"
	    " FROM domains d ORDER BY d.name", "");
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		d.name = acc_col_text(st, 0);
		d.created = sqlite3_column_int64(st, 1);
		d.naccounts = (uint64_t)sqlite3_column_int64(st, 2);
		d.naliases = (uint64_t)sqlite3_column_int64(st, 3);
		d.postmaster = (const char *)sqlite3_column_text(st, 4);
		d.abuse = (const char *)sqlite3_column_text(st, 5);
		if ((rv = cb(&d, arg)) == -1)
			break;
	}
	sqlite3_finalize(st);
	if (rv == -1)
		return -1;
	if (rc != SQLITE_DONE)
		return acc_dberr(a);
	return 0;
}

/* --- accounts ---------------------------------------------------------- */

/*
 * addr (normalized, in domain dom) may become a new account (want 0) or
 * is an existing one (want 1).
 */
static int
acc_user_check(struct accounts_db *a, const char *addr, const char *dom,
    int want)
{
	sqlite3_stmt	*st;
	int		 rc, rv;

	if (want) {
		st = acc_query(a, "SELECT a.address FROM aliases l JOIN"
		    " accounts a ON a.id = l.account_id WHERE l.address = ?",
		    "t", addr);
		if (st == NULL)
			return -1;
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			acc_err(a, "%s is an alias (of %s), not an account",
			    addr, acc_col_text(st, 0));
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			return -1;
		if (rc != SQLITE_DONE)
			return acc_dberr(a);
		if ((rv = acc_int(a, "SELECT count(*) FROM accounts WHERE"
		    " address = ?", "t", addr)) == -1)
			return -1;
		return rv > 0 ? 0 : acc_err(a, "no account %s", addr);
	}
	if ((rv = acc_domain_exists(a, dom)) != 1)
		return rv == -1 ? -1 : acc_err(a, "unknown domain %s", dom);
	if ((rv = acc_int(a, "SELECT count(*) FROM accounts WHERE address = ?",
	    "t", addr)) != 0)
		return rv == -1 ? -1 : acc_err(a, "%s is already an account",
		    addr);
	st = acc_query(a, "SELECT a.address FROM aliases l JOIN accounts a"
	    " ON a.id = l.account_id WHERE l.address = ?", "t", addr);
	if (st == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		acc_err(a, "%s is already an alias (of %s)", addr,
		    acc_col_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return -1;
	if (rc != SQLITE_DONE)
		return acc_dberr(a);
	return 0;
}

int
accounts_user_check(struct accounts_db *a, const char *address,
    int want_exists, const char **errstr_r)
{
	char		 addr[ACCOUNTS_ADDRESS_MAX + 1];
	const char	*dom;

	acc_start(a, errstr_r);
	if (acc_address(a, address, addr, sizeof(addr), &dom) == -1)
		return -1;
	return acc_user_check(a, addr, dom, want_exists);
}

/* Inside user add's transaction: wire the domain's missing aliases. */
static int
acc_wire_required(struct accounts_db *a, uint64_t id, const char *addr,
    const char *dom, struct accounts_user_info *info)
{
	static const char	*req[] = { "postmaster", "abuse" };
	char			 alias[ACCOUNTS_ADDRESS_MAX + 1];
	int64_t			 n;
	size_t			 i;

	for (i = 0; i < 2; i++) {
		if ((size_t)snprintf(alias, sizeof(alias), "%s@%s", req[i],
		    dom) >= sizeof(alias))
			return acc_err(a, "%s@%s is too long", req[i], dom);
		if (strcmp(alias, addr) == 0)
			continue;	/* the new account is it */
		if ((n = acc_int(a, "SELECT (SELECT count(*) FROM aliases"
		    " WHERE address = ?1) + (SELECT count(*) FROM accounts"
		    " WHERE address = ?1)", "t", alias)) == -1)
			return -1;
		if (n > 0)
			continue;
		if (acc_run(a, "INSERT INTO aliases (address, domain,"
		    " account_id, created) VALUES (?, ?, ?, ?)", "ttii", alias,
		    dom, (int64_t)id, acc_now()) == -1)
			return -1;
		if (i == 0)
			info->wired_postmaster = 1;
		else
			info->wired_abuse = 1;
	}
	return 0;
}

int
accounts_user_add(struct accounts_db *a, const char *address,
    const unsigned char *pw, size_t len, uint64_t quota,
    struct accounts_user_info *info_r, const char **errstr_r)
{
	struct accounts_user_info	 info;
	struct acc_newcred		 nc;
	const char			*dom, *e;
	uint8_t				 pk[ACCOUNTS_KEY_LEN];
	uint8_t				 box[ACC_BOX_LEN];
	uint8_t				*sk = NULL;
	int64_t				 id = 0;
	uint32_t			 uid;
	int				 rv = -1;

	acc_start(a, errstr_r);
	memset(&nc, 0, sizeof(nc));
	memset(&info, 0, sizeof(info));
	if (acc_address(a, address, a->addr, sizeof(a->addr), &dom) == -1)
		return -1;
	if (accounts_password_check(a->addr, pw, len, &e) == -1)
		return acc_err(a, "%s", e);
	if (quota > ACCOUNTS_BYTES_MAX)
		return acc_err(a, "quota larger than %llu bytes",
		    (unsigned long long)ACCOUNTS_BYTES_MAX);
	/* cheap checks before the KDF; repeated under the lock below */
	if (acc_user_check(a, a->addr, dom, 0) == -1)
		return -1;
	if ((sk = sodium_malloc(ACCOUNTS_KEY_LEN)) == NULL)
		return acc_err(a, "out of memory for a key");
	crypto_box_keypair(pk, sk);
	/* the KDF runs outside the transaction: it may take seconds */
	if (acc_newcred_derive(a, pw, len, &nc) == -1)
		goto out;
	if (acc_begin(a) == -1)
		goto out;
	if (acc_user_check(a, a->addr, dom, 0) == -1 ||
	    (id = acc_next_id(a, ACC_T_ACCOUNTS)) == -1)
		goto out;
	/* SECURITY: every account its own uid, inside account-uids */
	if (id < 1 || (uint64_t)id > (uint64_t)(a->p.uid_max - a->p.uid_min)) {
		acc_err(a, "no uid left: account-uids %lu-%lu has room for "
		    "%lu accounts", (unsigned long)a->p.uid_min,
		    (unsigned long)a->p.uid_max,
		    (unsigned long)(a->p.uid_max - a->p.uid_min));
		goto out;
	}
	uid = a->p.uid_min + (uint32_t)id;
	if (a->p.have_recovery && crypto_box_seal(box, sk, ACCOUNTS_KEY_LEN,
	    a->p.recovery_pk) != 0) {
		acc_err(a, "cannot seal to the recovery key");
		goto out;
	}
	if (acc_run(a, "INSERT INTO accounts (id, address, domain, uid,"
	    " public_key, recovery_box, recovery_pk, quota, created) VALUES"
	    " (?, ?, ?, ?, ?, ?, ?, ?, ?)", "ittibbbii", id, a->addr, dom,
	    (int64_t)uid, pk, sizeof(pk),
	    a->p.have_recovery ? box : NULL, sizeof(box),
	    a->p.have_recovery ? a->p.recovery_pk : NULL,
	    sizeof(a->p.recovery_pk), (int64_t)quota, acc_now()) == -1 ||
	    acc_cred_insert(a, (uint64_t)id, "password", "password", &nc,
	    sk) == -1 ||
	    acc_wire_required(a, (uint64_t)id, a->addr, dom, &info) == -1 ||
	    acc_commit(a) == -1)
		goto out;
	info.address = a->addr;
	info.state = "active";
	info.id = (uint64_t)id;
	info.uid = uid;
	info.quota = quota;
	info.recovery = a->p.have_recovery ? ACCOUNTS_RECOVERY_CURRENT :
	    ACCOUNTS_RECOVERY_NONE;
	info.created = acc_now();
	if (info_r != NULL)
		*info_r = info;
	rv = 0;
out:
	if (rv == -1)
		acc_rollback(a);
	acc_newcred_free(&nc);
	sodium_free(sk);
	return rv;
}

int
accounts_user_del(struct accounts_db *a, const char *address,
    uint64_t *id_r, unsigned int *naliases_r, const char **errstr_r)
{
	struct acc_account	 r;
	sqlite3_stmt		*st;
	char			 addr[ACCOUNTS_ADDRESS_MAX + 1];
	char			 req[ACCOUNTS_ADDRESS_MAX + 1];
	int64_t			 n;
	int			 rc;

	acc_start(a, errstr_r);
	if (acc_address(a, address, addr, sizeof(addr), NULL) == -1 ||
	    acc_begin(a) == -1)
		return -1;
	if (acc_account_need(a, addr, &r) == -1)
		goto fail;
	/*
	 * RFC 5321 4.5.1: a domain keeps its postmaster@ (and abuse@) while
	 * it has accounts.  This account may be or receive them only if it
	 * is the last account of their own domain.
	 */
	st = acc_query(a, "SELECT r.address FROM (SELECT address, domain, 0"
	    " AS self FROM aliases WHERE account_id = ?1 UNION ALL SELECT"
	    " address, domain, 1 FROM accounts WHERE id = ?1) r WHERE"
	    " substr(r.address, 1, instr(r.address, '@')) IN ('postmaster@',"
	    " 'abuse@') AND (r.domain <> ?2 OR EXISTS (SELECT 1 FROM accounts"
	    " WHERE domain = r.domain AND id <> ?1)) ORDER BY r.self DESC,"
	    " r.address DESC LIMIT 1", "it", (int64_t)r.id, r.domain);
	if (st == NULL)
		goto fail;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		(void)strlcpy(req, acc_col_text(st, 0), sizeof(req));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW) {
		if (strcmp(req, addr) == 0)
			acc_err(a, "%s is required while domain %s has other "
			    "accounts", addr, r.domain);
		else
			acc_err(a, "%s receives %s: point it to another "
			    "account first (alias add --replace)", addr, req);
		goto fail;
	}
	if (rc != SQLITE_DONE) {
		acc_dberr(a);
		goto fail;
	}
	if ((n = acc_int(a, "SELECT count(*) FROM aliases WHERE account_id ="
	    " ?", "i", (int64_t)r.id)) == -1)
		goto fail;
	/* credentials and aliases go with it (ON DELETE CASCADE) */
	if (acc_run(a, "DELETE FROM accounts WHERE id = ?", "i",
	    (int64_t)r.id) == -1 || acc_commit(a) == -1)
		goto fail;
	acc_scrub_wal(a);
	if (id_r != NULL)
		*id_r = r.id;
	if (naliases_r != NULL)
		*naliases_r = (unsigned int)n;
	return 0;
fail:
	acc_rollback(a);
	return -1;
}

int
accounts_user_list(struct accounts_db *a,
    int (*cb)(const struct accounts_user_info *, void *), void *arg,
    const char **errstr_r)
{
	struct accounts_user_info	 u;
	struct acc_account		 r;
	sqlite3_stmt			*st;
	int				 rc, rv = 0;

	acc_start(a, errstr_r);
	st = acc_query(a, "SELECT " ACC_ACCOUNT_COLS ", a.created, (SELECT"
	    " count(*) FROM credentials c WHERE c.account_id = a.id AND"
	    " c.kind = 'app' AND c.revoked IS NULL) FROM accounts a"
	    " ORDER BY a.domain, a.address", "");
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (acc_account_row(a, st, &r) == -1) {
			rv = -1;
			break;
		}
		memset(&u, 0, sizeof(u));
		u.address = r.address;
		u.state = acc_col_text(st, 7);
		u.id = r.id;
		u.uid = r.uid;
		u.quota = r.quota;
		u.usage = r.usage;
		u.recovery = acc_recovery_state(a, &r);
		u.created = sqlite3_column_int64(st, 10);
		u.napp = (unsigned int)sqlite3_column_int64(st, 11);
		if ((rv = cb(&u, arg)) == -1)
			break;
	}
	sqlite3_finalize(st);
	if (rv == -1)
		return -1;
	if (rc != SQLITE_DONE)
		return acc_dberr(a);
	return 0;
}

/* --- unlocking --------------------------------------------------------- */

/*
 * Try pw against the account's active credentials (password_only: its
 * password credential alone).  1 and the private key in sk_r (sodium
 * memory) and the account in *r; 0 wrong password or no such account,
 * after the same work as one wrong credential; -1 error.
 */
static int
acc_unlock(struct accounts_db *a, const char *address,
    const unsigned char *pw, size_t len, int password_only, int follow_alias,
    struct acc_account *r, uint8_t *sk_r, uint64_t *cred_r)
{
	struct acc_cred	 creds[ACC_MAX_CREDS];
	char		 addr[ACCOUNTS_ADDRESS_MAX + 1];
	uint8_t		 ad[ACC_AD_LEN], pk[ACCOUNTS_KEY_LEN], *key;
	size_t		 n = 0, i;
	int		 found = 0, ok = 0;

	if (len <= ACCOUNTS_PASSWORD_MAX &&
	    acc_address_norm(address, addr, sizeof(addr), NULL) == 0) {
		if ((found = acc_account_get(a, addr, follow_alias, r)) == -1)
			return -1;
		if (found && !r->active)
			found = 0;
		if (found && acc_creds_load(a, r->id, password_only, creds,
		    ACC_MAX_CREDS, &n) == -1)
			return -1;
	}
	if (!found || n == 0) {
		/*
		 * SECURITY: no such account (or nothing to unlock it with):
		 * run the same code on a dummy credential, one KDF with the
		 * configured limits, so the time does not say which.  (A
		 * credential made under other kdf-strength limits costs its
		 * own time until its password is next set.)
		 */
		found = 0;
		n = 1;
		creds[0].id = 0;
		creds[0].ops = a->opslimit;
		creds[0].mem = a->memlimit;
		creds[0].alg = crypto_pwhash_ALG_ARGON2ID13;
		memcpy(creds[0].salt, a->dummy_salt, sizeof(creds[0].salt));
		memcpy(creds[0].nonce, a->dummy_nonce, sizeof(creds[0].nonce));
		memcpy(creds[0].wrapped, a->dummy_wrapped,
		    sizeof(creds[0].wrapped));
	}
	if ((key = sodium_malloc(ACC_WRAPKEY_LEN)) == NULL)
		return acc_err(a, "out of memory for a key");
	/*
	 * One KDF per credential: a login with an app password pays for the
	 * password and each older app password before it.  Accounts have
	 * few; this keeps each credential's salt and limits its own.
	 */
	for (i = 0; i < n && !ok; i++) {
		if (!acc_kdf_limits_ok(creds[i].ops, creds[i].mem,
		    creds[i].alg))
			continue;	/* damaged row: cannot be right */
		if (acc_kdf(key, pw, len > ACCOUNTS_PASSWORD_MAX ? 0 : len,
		    creds[i].salt, creds[i].ops, creds[i].mem) == -1) {
			sodium_free(key);
			return acc_err(a, "the KDF failed (out of memory?)");
		}
		/* a wrong password is exactly a failed unwrap */
		acc_ad(ad, found ? r->id : 0, creds[i].id);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(sk_r, NULL,
		    NULL, creds[i].wrapped, sizeof(creds[i].wrapped), ad,
		    sizeof(ad), creds[i].nonce, key) == 0 && found) {
			ok = 1;
			if (cred_r != NULL)
				*cred_r = creds[i].id;
		}
	}
	sodium_free(key);
	if (!ok) {
		sodium_memzero(sk_r, ACCOUNTS_KEY_LEN);
		return 0;
	}
	/* SECURITY: the key must be the one mail is sealed to */
	crypto_scalarmult_base(pk, sk_r);
	if (sodium_memcmp(pk, r->pk, sizeof(pk)) != 0) {
		sodium_memzero(sk_r, ACCOUNTS_KEY_LEN);
		return acc_err(a, "%s: its private key does not match its "
		    "public key (users.db damaged or tampered with)",
		    r->address);
	}
	return 1;
}

int
accounts_unlock(struct accounts_db *a, const char *address_or_alias,
    const unsigned char *pw, size_t len, uint64_t *account_id_r,
    uint64_t *cred_id_r, uint8_t *sk_r)
{
	struct acc_account	r;
	int			rv;

	acc_start(a, NULL);
	if ((rv = acc_unlock(a, address_or_alias, pw, len, 0, 1, &r,
	    sk_r, cred_id_r)) == 1)
		*account_id_r = r.id;
	return rv;
}

int
accounts_cred_valid(struct accounts_db *a, const char *address_or_alias,
    uint64_t account_id, uint64_t cred_id)
{
	struct acc_account	r;
	char			addr[ACCOUNTS_ADDRESS_MAX + 1];
	int			rv;

	acc_start(a, NULL);
	if (acc_address_norm(address_or_alias, addr, sizeof(addr), NULL) != 0)
		return 0;
	if ((rv = acc_account_get(a, addr, 1, &r)) != 1)
		return rv;
	if (!r.active || r.id != account_id)
		return 0;
	return acc_int(a, "SELECT count(*) FROM credentials WHERE id = ? AND "
	    "account_id = ? AND revoked IS NULL", "ii", (int64_t)cred_id,
	    (int64_t)account_id);
}

/* The account at address and its private key, for an administrator's
 * operation that needs the current password. */
static int
acc_unlock_admin(struct accounts_db *a, const char *address,
    const unsigned char *pw, size_t len, char *addr, size_t addrlen,
    struct acc_account *r, uint8_t **sk_r)
{
	int	rv;

	*sk_r = NULL;
	if (acc_address(a, address, addr, addrlen, NULL) == -1 ||
	    acc_account_need(a, addr, r) == -1)
		return -1;
	if ((*sk_r = sodium_malloc(ACCOUNTS_KEY_LEN)) == NULL)
		return acc_err(a, "out of memory for a key");
	/* SECURITY: the account password, not an app password */
	if ((rv = acc_unlock(a, addr, pw, len, 1, 0, r, *sk_r, NULL)) == 1)
		return 0;
	sodium_free(*sk_r);
	*sk_r = NULL;
	return rv == 0 ? acc_err(a, "wrong password for %s", addr) : -1;
}

/* Inside a transaction: the account's password becomes nc. */
static int
acc_password_replace(struct accounts_db *a, const struct acc_account *r,
    const struct acc_newcred *nc, const uint8_t *sk)
{
	if (acc_run(a, "DELETE FROM credentials WHERE account_id = ? AND"
	    " kind = 'password'", "i", (int64_t)r->id) == -1 ||
	    acc_cred_insert(a, r->id, "password", "password", nc, sk) == -1 ||
	    acc_reseal(a, r, sk) == -1)
		return -1;
	return 0;
}

int
accounts_passwd(struct accounts_db *a, const char *address,
    const unsigned char *oldpw, size_t oldlen, const unsigned char *newpw,
    size_t newlen, const char **errstr_r)
{
	struct acc_account	 r;
	struct acc_newcred	 nc;
	char			 addr[ACCOUNTS_ADDRESS_MAX + 1];
	const char		*e;
	uint8_t			*sk = NULL;
	int			 rv = -1;

	acc_start(a, errstr_r);
	memset(&nc, 0, sizeof(nc));
	if (acc_address(a, address, addr, sizeof(addr), NULL) == -1)
		return -1;
	if (accounts_password_check(addr, newpw, newlen, &e) == -1)
		return acc_err(a, "new %s", e);
	if (acc_unlock_admin(a, addr, oldpw, oldlen, addr, sizeof(addr), &r,
	    &sk) == -1 ||
	    acc_newcred_derive(a, newpw, newlen, &nc) == -1 ||
	    acc_begin(a) == -1)
		goto out;
	if (acc_password_replace(a, &r, &nc, sk) == -1 ||
	    acc_commit(a) == -1)
		goto out;
	acc_scrub_wal(a);
	rv = 0;
out:
	if (rv == -1)
		acc_rollback(a);
	acc_newcred_free(&nc);
	if (sk != NULL)
		sodium_free(sk);
	return rv;
}

/* --- app passwords ----------------------------------------------------- */

static int
acc_label(struct accounts_db *a, const char *label)
{
	size_t	i, n = strnlen(label, ACCOUNTS_LABEL_MAX + 1);

	if (n == 0 || n > ACCOUNTS_LABEL_MAX || label[0] == ' ' ||
	    label[n - 1] == ' ')
		goto bad;
	for (i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x20 ||
		    (unsigned char)label[i] > 0x7e)
			goto bad;
	return 0;
bad:
	return acc_err(a, "an app password label is 1 to %d printable ASCII "
	    "characters", ACCOUNTS_LABEL_MAX);
}

/*
 * 20 characters from a 32-letter alphabet without look-alikes (no l, o, 0,
 * 1): 100 bits, in groups of four for typing on a phone.
 */
static void
acc_app_password_generate(char *out)
{
	static const char	 alphabet[] =
	    "abcdefghijkmnpqrstuvwxyz23456789";
	uint8_t			*rnd;
	size_t			 i, o = 0;

	SP_ASSERT(sizeof(alphabet) - 1 == 32);
	if ((rnd = sodium_malloc(20)) == NULL)
		fatalx("out of memory");
	randombytes_buf(rnd, 20);
	for (i = 0; i < 20; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[rnd[i] & 31];	/* 256 % 32 == 0 */
	}
	out[o] = '\0';
	SP_ASSERT(o == ACCOUNTS_APP_PASSWORD_LEN);
	sodium_free(rnd);
}

int
accounts_app_password_add(struct accounts_db *a, const char *address,
    const unsigned char *pw, size_t len, const char *label, char *out,
    size_t outlen, const char **errstr_r)
{
	struct acc_account	 r;
	struct acc_newcred	 nc;
	char			 addr[ACCOUNTS_ADDRESS_MAX + 1];
	uint8_t			*sk = NULL;
	int64_t			 n;
	int			 rv = -1;

	acc_start(a, errstr_r);
	memset(&nc, 0, sizeof(nc));
	SP_ASSERT(outlen >= ACCOUNTS_APP_PASSWORD_SIZE);
	out[0] = '\0';
	if (acc_label(a, label) == -1 ||
	    acc_unlock_admin(a, address, pw, len, addr, sizeof(addr), &r,
	    &sk) == -1)
		goto out;
	acc_app_password_generate(out);
	if (acc_newcred_derive(a, (const unsigned char *)out,
	    ACCOUNTS_APP_PASSWORD_LEN, &nc) == -1 || acc_begin(a) == -1)
		goto out;
	if ((n = acc_int(a, "SELECT count(*) FROM credentials WHERE"
	    " account_id = ? AND kind = 'app' AND revoked IS NULL AND"
	    " label = ?", "it", (int64_t)r.id, label)) != 0) {
		if (n > 0)
			acc_err(a, "%s already has an app password \"%s\"",
			    addr, label);
		goto out;
	}
	if ((n = acc_int(a, "SELECT count(*) FROM credentials WHERE"
	    " account_id = ? AND kind = 'app' AND revoked IS NULL", "i",
	    (int64_t)r.id)) == -1)
		goto out;
	if (n >= ACCOUNTS_MAX_APP) {
		acc_err(a, "%s has %d app passwords: revoke one first", addr,
		    ACCOUNTS_MAX_APP);
		goto out;
	}
	if (acc_cred_insert(a, r.id, "app", label, &nc, sk) == -1 ||
	    acc_reseal(a, &r, sk) == -1 || acc_commit(a) == -1)
		goto out;
	rv = 0;
out:
	if (rv == -1) {
		acc_rollback(a);
		sodium_memzero(out, outlen);
	}
	acc_newcred_free(&nc);
	if (sk != NULL)
		sodium_free(sk);
	return rv;
}

int
accounts_app_password_list(struct accounts_db *a, const char *address,
    int (*cb)(const struct accounts_cred_info *, void *), void *arg,
    const char **errstr_r)
{
	struct accounts_cred_info	 c;
	struct acc_account		 r;
	sqlite3_stmt			*st;
	char				 addr[ACCOUNTS_ADDRESS_MAX + 1];
	int				 rc, rv = 0;

	acc_start(a, errstr_r);
	if (acc_address(a, address, addr, sizeof(addr), NULL) == -1 ||
	    acc_account_need(a, addr, &r) == -1)
		return -1;
	st = acc_query(a, "SELECT kind, label, id, created, revoked FROM"
	    " credentials WHERE account_id = ? AND kind = 'app'"
	    " ORDER BY revoked IS NOT NULL, id", "i", (int64_t)r.id);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.kind = acc_col_text(st, 0);
		c.label = acc_col_text(st, 1);
		c.id = (uint64_t)sqlite3_column_int64(st, 2);
		c.created = sqlite3_column_int64(st, 3);
		c.revoked = sqlite3_column_int64(st, 4);
		if ((rv = cb(&c, arg)) == -1)
			break;
	}
	sqlite3_finalize(st);
	if (rv == -1)
		return -1;
	if (rc != SQLITE_DONE)
		return acc_dberr(a);
	return 0;
}

int
accounts_app_password_revoke(struct accounts_db *a, const char *address,
    const char *label, const char **errstr_r)
{
	struct acc_account	r;
	char			addr[ACCOUNTS_ADDRESS_MAX + 1];
	int			n;

	acc_start(a, errstr_r);
	if (acc_address(a, address, addr, sizeof(addr), NULL) == -1 ||
	    acc_label(a, label) == -1 || acc_begin(a) == -1)
		return -1;
	if (acc_account_need(a, addr, &r) == -1)
		goto fail;
	/* SECURITY: erase the wrapping, not only mark it */
	if ((n = acc_run(a, "UPDATE credentials SET revoked = ?, salt = NULL,"
	    " nonce = NULL, wrapped = NULL WHERE account_id = ? AND kind ="
	    " 'app' AND label = ? AND revoked IS NULL", "iit", acc_now(),
	    (int64_t)r.id, label)) == -1)
		goto fail;
	if (n == 0) {
		acc_err(a, "%s has no app password \"%s\"", addr, label);
		goto fail;
	}
	if (acc_commit(a) == -1)
		goto fail;
	acc_scrub_wal(a);
	return 0;
fail:
	acc_rollback(a);
	return -1;
}

/* --- aliases ----------------------------------------------------------- */

int
accounts_alias_add(struct accounts_db *a, const char *alias,
    const char *target, int replace, const char **errstr_r)
{
	struct acc_account	 r;
	sqlite3_stmt		*st;
	char			 al[ACCOUNTS_ADDRESS_MAX + 1];
	char			 to[ACCOUNTS_ADDRESS_MAX + 1];
	char			 old[ACCOUNTS_ADDRESS_MAX + 1];
	const char		*dom;
	int64_t			 n;
	int			 rc, rv;

	acc_start(a, errstr_r);
	if (acc_address(a, alias, al, sizeof(al), &dom) == -1 ||
	    acc_address(a, target, to, sizeof(to), NULL) == -1 ||
	    acc_begin(a) == -1)
		return -1;
	if ((rv = acc_domain_exists(a, dom)) != 1) {
		if (rv == 0)
			acc_err(a, "unknown domain %s", dom);
		goto fail;
	}
	if ((n = acc_int(a, "SELECT count(*) FROM accounts WHERE address = ?",
	    "t", al)) != 0) {
		if (n > 0)
			acc_err(a, "%s is an account", al);
		goto fail;
	}
	if ((rv = acc_account_get(a, to, 0, &r)) != 1) {
		if (rv == 0 && acc_int(a, "SELECT count(*) FROM aliases WHERE"
		    " address = ?", "t", to) > 0)
			acc_err(a, "%s is an alias, not an account (aliases "
			    "do not chain)", to);
		else if (rv == 0)
			acc_err(a, "no account %s", to);
		goto fail;
	}
	st = acc_query(a, "SELECT a.address FROM aliases l JOIN accounts a"
	    " ON a.id = l.account_id WHERE l.address = ?", "t", al);
	if (st == NULL)
		goto fail;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		(void)strlcpy(old, acc_col_text(st, 0), sizeof(old));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		acc_dberr(a);
		goto fail;
	}
	if (rc == SQLITE_ROW && !replace) {
		acc_err(a, "%s is already an alias (of %s)", al, old);
		goto fail;
	}
	if (rc == SQLITE_ROW)
		n = acc_run(a, "UPDATE aliases SET account_id = ? WHERE"
		    " address = ?", "it", (int64_t)r.id, al);
	else
		n = acc_run(a, "INSERT INTO aliases (address, domain,"
		    " account_id, created) VALUES (?, ?, ?, ?)", "ttii", al,
		    dom, (int64_t)r.id, acc_now());
	if (n == -1 || acc_commit(a) == -1)
		goto fail;
	return 0;
fail:
	acc_rollback(a);
	return -1;
}

int
accounts_alias_del(struct accounts_db *a, const char *alias,
    const char **errstr_r)
{
	char		 al[ACCOUNTS_ADDRESS_MAX + 1];
	const char	*dom;
	int64_t		 n;

	acc_start(a, errstr_r);
	if (acc_address(a, alias, al, sizeof(al), &dom) == -1 ||
	    acc_begin(a) == -1)
		return -1;
	if ((n = acc_int(a, "SELECT count(*) FROM aliases WHERE address = ?",
	    "t", al)) != 1) {
		if (n == 0)
			acc_err(a, "no alias %s", al);
		goto fail;
	}
	/* RFC 5321 4.5.1, RFC 2142: they stay while the domain does */
	if (acc_required(al)) {
		acc_err(a, "%s cannot be deleted while domain %s exists (point "
		    "it elsewhere with alias add --replace)", al, dom);
		goto fail;
	}
	if (acc_run(a, "DELETE FROM aliases WHERE address = ?", "t", al) ==
	    -1 || acc_commit(a) == -1)
		goto fail;
	return 0;
fail:
	acc_rollback(a);
	return -1;
}

int
accounts_alias_list(struct accounts_db *a,
    int (*cb)(const struct accounts_alias_info *, void *), void *arg,
    const char **errstr_r)
{
	struct accounts_alias_info	 l;
	sqlite3_stmt			*st;
	int				 rc, rv = 0;

	acc_start(a, errstr_r);
	st = acc_query(a, "SELECT l.address, a.address, l.created FROM"
	    " aliases l JOIN accounts a ON a.id = l.account_id"
	    " ORDER BY l.domain, l.address", "");
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&l, 0, sizeof(l));
		l.address = acc_col_text(st, 0);
		l.target = acc_col_text(st, 1);
		l.created = sqlite3_column_int64(st, 2);
		l.required = acc_required(l.address);
		if ((rv = cb(&l, arg)) == -1)
			break;
	}
	sqlite3_finalize(st);
	if (rv == -1)
		return -1;
	if (rc != SQLITE_DONE)
		return acc_dberr(a);
	return 0;
}

/* --- recovery ---------------------------------------------------------- */


int
accounts_recovery_init(const char *pubpath, const char *privpath, char *err,
    size_t errlen)
{
	struct stat	 st;
	uint8_t		 pk[ACCOUNTS_KEY_LEN], *sk;
	const char	*paths[2] = { privpath, pubpath };
	int		 i, rv = -1;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialize");
		return -1;
	}
	if (strcmp(pubpath, privpath) == 0) {
		snprintf(err, errlen, "the public and the private key need "
		    "two files");
		return -1;
	}
	for (i = 0; i < 2; i++) {
		if (lstat(paths[i], &st) == 0 || errno != ENOENT) {
			snprintf(err, errlen, "%s exists: refusing to "
			    "overwrite it", paths[i]);
			return -1;
		}
	}
	if ((sk = sodium_malloc(ACCOUNTS_KEY_LEN)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	crypto_box_keypair(pk, sk);
	if (keyfile_write(privpath, ACC_TAG_PRIVATE, sk, 0600, err,
	    errlen) == 0) {
		if (keyfile_write(pubpath, ACC_TAG_PUBLIC, pk, 0644, err,
		    errlen) == 0)
			rv = 0;
		else
			(void)unlink(privpath);	/* nothing half-made */
	}
	sodium_free(sk);
	return rv;
}


int
accounts_recovery_load_public(const char *path, uint8_t pk[ACCOUNTS_KEY_LEN],
    char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialize");
		return -1;
	}
	/* SECURITY: the private half must never be configured on the server */
	return keyfile_read(path, ACC_TAG_PUBLIC, "recovery public key",
	    ACC_TAG_PRIVATE,
	    "is the recovery PRIVATE key: it belongs offline, not in "
	    "recovery-key", pk, err, errlen);
}

int
accounts_recovery_load_private(const char *path, uint8_t *sk, char *err,
    size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialize");
		return -1;
	}
	return keyfile_read(path, ACC_TAG_PRIVATE, "recovery private key",
	    ACC_TAG_PUBLIC,
	    "is the recovery public key: give the private key file", sk, err,
	    errlen);
}

int
accounts_reset_password(struct accounts_db *a, const char *address,
    const uint8_t *recovery_sk, const unsigned char *newpw, size_t newlen,
    const char **errstr_r)
{
	struct acc_account	 r;
	struct acc_newcred	 nc;
	char			 addr[ACCOUNTS_ADDRESS_MAX + 1];
	const char		*e;
	uint8_t			 rpk[ACCOUNTS_KEY_LEN], pk[ACCOUNTS_KEY_LEN];
	uint8_t			*sk = NULL;
	int			 rv = -1;

	acc_start(a, errstr_r);
	memset(&nc, 0, sizeof(nc));
	if (acc_address(a, address, addr, sizeof(addr), NULL) == -1)
		return -1;
	if (accounts_password_check(addr, newpw, newlen, &e) == -1)
		return acc_err(a, "new %s", e);
	if (acc_account_need(a, addr, &r) == -1)
		return -1;
	if (!r.has_box)
		return acc_err(a, "%s has no recovery copy of its key (made "
		    "before a recovery key was configured)", addr);
	crypto_scalarmult_base(rpk, recovery_sk);
	if (sodium_memcmp(rpk, r.box_pk, sizeof(rpk)) != 0)
		return acc_err(a, "wrong recovery key for %s", addr);
	if ((sk = sodium_malloc(ACCOUNTS_KEY_LEN)) == NULL)
		return acc_err(a, "out of memory for a key");
	if (crypto_box_seal_open(sk, r.box, sizeof(r.box), rpk,
	    recovery_sk) != 0) {
		acc_err(a, "the recovery copy of %s does not open (users.db "
		    "damaged?)", addr);
		goto out;
	}
	crypto_scalarmult_base(pk, sk);
	if (sodium_memcmp(pk, r.pk, sizeof(pk)) != 0) {
		acc_err(a, "the recovery copy of %s is not its key (users.db "
		    "damaged or tampered with)", addr);
		goto out;
	}
	if (acc_newcred_derive(a, newpw, newlen, &nc) == -1 ||
	    acc_begin(a) == -1)
		goto out;
	if (acc_password_replace(a, &r, &nc, sk) == -1 || acc_commit(a) == -1)
		goto out;
	acc_scrub_wal(a);
	rv = 0;
out:
	if (rv == -1)
		acc_rollback(a);
	acc_newcred_free(&nc);
	sodium_free(sk);
	return rv;
}

/* --- the deliver path -------------------------------------------------- */

int
accounts_lookup(struct accounts_db *a, const char *address,
    uint64_t *account_id_r, uint8_t pk_r[ACCOUNTS_KEY_LEN], uint32_t *uid_r,
    uint64_t *quota_r, uint64_t *usage_r)
{
	struct acc_account	r;
	char			addr[ACCOUNTS_ADDRESS_MAX + 1];
	int			rv;

	acc_start(a, NULL);
	if (acc_address_norm(address, addr, sizeof(addr), NULL) == -1)
		return 0;
	if ((rv = acc_account_get(a, addr, 1, &r)) != 1)
		return rv;
	if (!r.active)
		return 0;
	*account_id_r = r.id;
	memcpy(pk_r, r.pk, ACCOUNTS_KEY_LEN);
	*uid_r = r.uid;
	*quota_r = r.quota;
	*usage_r = r.usage;
	return 1;
}

int
accounts_quota_reserve(struct accounts_db *a, uint64_t account_id,
    uint64_t bytes)
{
	int	n;

	acc_start(a, NULL);
	if (bytes > ACCOUNTS_BYTES_MAX)
		return 0;		/* larger than any quota */
	/*
	 * One statement checks and adds, so two deliveries cannot both pass
	 * (SQLite serializes writers).  usage stays below ACC_USAGE_MAX, so
	 * usage + bytes never overflows a 64-bit integer.
	 */
	if ((n = acc_run(a, "UPDATE accounts SET usage = usage + ?1 WHERE"
	    " id = ?2 AND usage <= ?3 - ?1 AND (quota = 0 OR usage + ?1 <="
	    " quota)", "iii", (int64_t)bytes, (int64_t)account_id,
	    (int64_t)ACC_USAGE_MAX)) == -1)
		return -1;
	return n == 1;
}

int
accounts_quota_get(struct accounts_db *a, uint64_t account_id,
    uint64_t *quota_r, uint64_t *usage_r)
{
	sqlite3_stmt	*st;
	int		 rc;

	acc_start(a, NULL);
	if ((st = acc_query(a, "SELECT quota, usage FROM accounts WHERE id = ?",
	    "i", (int64_t)account_id)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*quota_r = (uint64_t)sqlite3_column_int64(st, 0);
		*usage_r = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return acc_dberr(a);
	return rc == SQLITE_ROW;
}

int
accounts_quota_release(struct accounts_db *a, uint64_t account_id,
    uint64_t bytes)
{
	acc_start(a, NULL);
	if (bytes > ACC_USAGE_MAX)
		bytes = ACC_USAGE_MAX;
	return acc_run(a, "UPDATE accounts SET usage = CASE WHEN usage > ?1"
	    " THEN usage - ?1 ELSE 0 END WHERE id = ?2", "ii", (int64_t)bytes,
	    (int64_t)account_id) == -1 ? -1 : 0;
}
