/* SPDX-License-Identifier: ISC */
/*
 * accounts.h - users.db: domains, accounts, aliases and the credentials
 * that unwrap each account's private key (schema in accounts.c).
 *
 * Users: sealpostctl (every operation) and the auth service (unlock,
 * lookup, quota).  Nothing else opens users.db (DESIGN.md "At-rest
 * formats").
 *
 * Conventions: int functions return -1 on error, 0 on success (or "not
 * found" / "refused" where a comment says so) and 1 for "found" or
 * "unlocked".  On -1 the reason is a one-line message (no trailing period,
 * no program name): *errstr_r points to it, or accounts_errstr() returns
 * it; it lives in the handle and is valid until the next call on it.
 * Addresses and domains are compared in lower case; callers may pass any
 * case.  Every string argument is checked here, so callers may pass what
 * an administrator typed.  Passwords are (pointer, length), never NUL
 * terminated strings, and live in the caller's sodium_malloc memory; this
 * module never copies one out of sodium_malloc memory.
 */
#ifndef SP_ACCOUNTS_H
#define SP_ACCOUNTS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define ACCOUNTS_ADDRESS_MAX	254	/* RFC 5321 4.5.3.1.3: 256 with <> */
#define ACCOUNTS_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define ACCOUNTS_PASSWORD_MIN	12	/* characters (UTF-8 code points) */
#define ACCOUNTS_PASSWORD_MAX	1024	/* bytes; = auth's AUTH_PASS_MAX */
#define ACCOUNTS_LABEL_MAX	64	/* app password label, bytes */
#define ACCOUNTS_MAX_APP	30	/* active app passwords per account */
#define ACCOUNTS_KEY_LEN	32	/* X25519 public and private keys */
#define ACCOUNTS_BYTES_MAX	(1ULL << 50)	/* a quota, one reservation */
/* A generated app password: 5 groups of 4 characters and 4 dashes. */
#define ACCOUNTS_APP_PASSWORD_LEN	24
#define ACCOUNTS_APP_PASSWORD_SIZE	(ACCOUNTS_APP_PASSWORD_LEN + 1)
#define ACCOUNTS_ERR_MAX	512

struct accounts_db;

/* What the configuration says (the caller has it; this module does not
 * read sealpost.conf). */
struct accounts_params {
	int		 kdf_strength;	/* CONF_KDF_*: for new credentials */
	uint32_t	 uid_min;	/* account-uids FROM */
	uint32_t	 uid_max;	/* account-uids TO */
	int		 have_recovery;	/* recovery_pk is set */
	uint8_t		 recovery_pk[ACCOUNTS_KEY_LEN];
};

#define ACCOUNTS_OPEN_CREATE	0x01	/* create users.db (mode 0600) */

/* Where an account's private key is sealed for recovery. */
#define ACCOUNTS_RECOVERY_NONE		0	/* nowhere */
#define ACCOUNTS_RECOVERY_CURRENT	1	/* to the configured key */
#define ACCOUNTS_RECOVERY_OTHER		2	/* to another (older) key */

struct accounts_domain_info {
	const char	*name;
	const char	*postmaster;	/* target of postmaster@, or NULL */
	const char	*abuse;		/* target of abuse@, or NULL */
	uint64_t	 naccounts;
	uint64_t	 naliases;	/* including postmaster@ and abuse@ */
	int64_t		 created;	/* seconds since the epoch */
};

struct accounts_user_info {
	const char	*address;
	const char	*state;		/* "active" (the only state so far) */
	uint64_t	 id;
	uint32_t	 uid;
	uint64_t	 quota;		/* bytes, 0: none */
	uint64_t	 usage;		/* bytes */
	unsigned int	 napp;		/* active app passwords */
	int		 recovery;	/* ACCOUNTS_RECOVERY_* */
	int64_t		 created;
	/* accounts_user_add only: */
	int		 wired_postmaster;	/* postmaster@ now goes here */
	int		 wired_abuse;		/* abuse@ now goes here */
};

struct accounts_alias_info {
	const char	*address;
	const char	*target;
	int		 required;	/* postmaster@ or abuse@ */
	int64_t		 created;
};

struct accounts_cred_info {
	const char	*kind;		/* "password" or "app" */
	const char	*label;
	uint64_t	 id;
	int64_t		 created;
	int64_t		 revoked;	/* 0: active */
};

/*
 * Open users.db at path; with ACCOUNTS_OPEN_CREATE create it (mode 0600)
 * and its schema when missing.  The params are copied.  Returns a handle
 * the caller closes with accounts_close, or NULL with a message in err
 * (an unreadable, foreign or newer file is refused, never changed).
 */
struct accounts_db *accounts_open(const char *path,
		    const struct accounts_params *, int flags, char *err,
		    size_t errlen);
void		 accounts_close(struct accounts_db *);
/* The message of the last -1 of a function without errstr_r. */
const char	*accounts_errstr(const struct accounts_db *);

/*
 * The password rule (fixed for now): at least ACCOUNTS_PASSWORD_MIN
 * characters, at most ACCOUNTS_PASSWORD_MAX bytes, no control characters,
 * not the address nor its local part (in any case).  0 when pw is
 * acceptable as a new password for address, -1 and a static message.
 */
int		 accounts_password_check(const char *address,
		    const unsigned char *pw, size_t len, const char **errstr_r);

/*
 * Domains.  accounts_domain_add: postmaster, when not NULL, names an
 * existing account (of any domain) that postmaster@DOMAIN and
 * abuse@DOMAIN become aliases of; when NULL they are wired to the first
 * account created in DOMAIN (accounts_user_add), or set by hand with
 * accounts_alias_add before that.  accounts_domain_del refuses while
 * DOMAIN has accounts and removes its aliases.
 */
int		 accounts_domain_add(struct accounts_db *, const char *domain,
		    const char *postmaster, const char **errstr_r);
int		 accounts_domain_del(struct accounts_db *, const char *domain,
		    const char **errstr_r);
/* Calls cb for each domain (sorted); cb returning -1 stops with -1. */
int		 accounts_domain_list(struct accounts_db *,
		    int (*cb)(const struct accounts_domain_info *, void *),
		    void *arg, const char **errstr_r);

/*
 * Create an account: address in a domain of users.db, neither an account
 * nor an alias yet; pw must pass accounts_password_check.  Generates the
 * X25519 key pair, wraps the private key under pw, seals it to the
 * recovery key when params have one, and wires the domain's missing
 * postmaster@/abuse@ aliases to it.  quota in bytes (0: none, at most
 * ACCOUNTS_BYTES_MAX).  What was created goes to *info_r (its address
 * points into the handle, valid until the next call).
 */
int		 accounts_user_add(struct accounts_db *, const char *address,
		    const unsigned char *pw, size_t len, uint64_t quota,
		    struct accounts_user_info *info_r, const char **errstr_r);
/*
 * Delete an account, its credentials and the aliases pointing to it
 * (*naliases_r counts them); refused while it receives a postmaster@ or
 * abuse@.  Its id goes to *id_r: the mail folder DATA_DIR/mail/ID is not
 * touched (ids are never reused, so no later account gets it).
 */
int		 accounts_user_del(struct accounts_db *, const char *address,
		    uint64_t *id_r, unsigned int *naliases_r,
		    const char **errstr_r);
int		 accounts_user_list(struct accounts_db *,
		    int (*cb)(const struct accounts_user_info *, void *),
		    void *arg, const char **errstr_r);
/*
 * The checks of user add (want_exists 0: a valid address in a domain of
 * users.db, neither an account nor an alias) or of the other user
 * commands (want_exists 1: an account), so that sealpostctl can refuse
 * before it asks for a password.  0 or -1; changes nothing.
 */
int		 accounts_user_check(struct accounts_db *, const char *address,
		    int want_exists, const char **errstr_r);

/*
 * Change the account password: oldpw must unwrap with the account's
 * password credential (an app password is not enough); newpw must pass
 * the rule.  The same key pair is re-wrapped, so app passwords keep
 * working.  0 on success, -1 with "wrong password for ADDRESS" etc.
 */
int		 accounts_passwd(struct accounts_db *, const char *address,
		    const unsigned char *oldpw, size_t oldlen,
		    const unsigned char *newpw, size_t newlen,
		    const char **errstr_r);

/*
 * Generate an app password for address (pw: its account password), store
 * its wrapping of the private key under label (unique among the account's
 * active app passwords) and write it, NUL-terminated, to out (at least
 * ACCOUNTS_APP_PASSWORD_SIZE bytes of the caller's sodium_malloc memory).
 */
int		 accounts_app_password_add(struct accounts_db *,
		    const char *address, const unsigned char *pw, size_t len,
		    const char *label, char *out, size_t outlen,
		    const char **errstr_r);
/* The credentials of kind app, active and revoked. */
int		 accounts_app_password_list(struct accounts_db *,
		    const char *address,
		    int (*cb)(const struct accounts_cred_info *, void *),
		    void *arg, const char **errstr_r);
/* Revoke: the row stays (listed as revoked), its wrapping is erased. */
int		 accounts_app_password_revoke(struct accounts_db *,
		    const char *address, const char *label,
		    const char **errstr_r);

/*
 * Aliases: alias (in a domain of users.db, not an account) delivers to
 * target, which must be an account (no chains).  An existing alias is
 * refused unless replace is set.  postmaster@ and abuse@ cannot be
 * deleted while their domain exists (re-point them with replace).
 */
int		 accounts_alias_add(struct accounts_db *, const char *alias,
		    const char *target, int replace, const char **errstr_r);
int		 accounts_alias_del(struct accounts_db *, const char *alias,
		    const char **errstr_r);
int		 accounts_alias_list(struct accounts_db *,
		    int (*cb)(const struct accounts_alias_info *, void *),
		    void *arg, const char **errstr_r);

/*
 * Organization recovery.  Key files are one line: "sealpost-recovery-
 * public HEX" or "sealpost-recovery-private HEX" (64 hex digits of the
 * 32-byte X25519 key), so that one cannot be used for the other.
 * accounts_recovery_init writes a new pair, the private file with mode
 * 0600, and refuses if either file exists.  load_public fills pk;
 * load_private fills sk, the caller's sodium_malloc'd 32 bytes.
 */
int		 accounts_recovery_init(const char *pubpath,
		    const char *privpath, char *err, size_t errlen);
int		 accounts_recovery_load_public(const char *path,
		    uint8_t pk[ACCOUNTS_KEY_LEN], char *err, size_t errlen);
int		 accounts_recovery_load_private(const char *path, uint8_t *sk,
		    char *err, size_t errlen);
/*
 * Open address's recovery box with recovery_sk (sodium_malloc memory)
 * and wrap its private key under newpw, replacing the password
 * credential; app passwords keep working.  "wrong recovery key for
 * ADDRESS" when the box was sealed to another key.
 */
int		 accounts_reset_password(struct accounts_db *,
		    const char *address, const uint8_t *recovery_sk,
		    const unsigned char *newpw, size_t newlen,
		    const char **errstr_r);

/*
 * What auth calls for a login.  address_or_alias and pw are untrusted.
 * Tries every active credential of the account (password first, then
 * app passwords; one KDF each); an unknown address, alias of nobody or
 * inactive account runs exactly one KDF on a dummy credential, so the
 * time does not tell whether an account exists (it does tell, roughly,
 * how many credentials a known account has).  1: unlocked, *account_id_r
 * set, the credential that opened it in *cred_id_r (may be NULL) and
 * the private key in sk_r (the caller's sodium_malloc'd 32 bytes); 0: unknown user or wrong password, indistinguishable; -1: the
 * database failed (accounts_errstr).
 */
int		 accounts_unlock(struct accounts_db *,
		    const char *address_or_alias, const unsigned char *pw,
		    size_t len, uint64_t *account_id_r, uint64_t *cred_id_r,
		    uint8_t *sk_r);
/*
 * Is a past unlock still good?  1 when address_or_alias still names the
 * active account account_id and its credential cred_id (from
 * accounts_unlock's *cred_id_r) is still active (not revoked, not
 * replaced by a password change, the account not deleted); 0 when not;
 * -1 on a database error.  What auth's unlock cache asks before it
 * answers from memory.
 */
int		 accounts_cred_valid(struct accounts_db *,
		    const char *address_or_alias, uint64_t account_id,
		    uint64_t cred_id);

/*
 * The deliver path: resolve address (an account or an alias of one).
 * 1 and the account's id, public key, uid, quota and usage; 0 when there
 * is no such active account; -1 on a database error (accounts_errstr).
 */
int		 accounts_lookup(struct accounts_db *, const char *address,
		    uint64_t *account_id_r, uint8_t pk_r[ACCOUNTS_KEY_LEN],
		    uint32_t *uid_r, uint64_t *quota_r, uint64_t *usage_r);
/*
 * Reserve bytes of account_id's quota, checked and added in one SQL
 * statement (two deliveries cannot both pass): 1 reserved, 0 over quota
 * (or no such account), -1 error.  release gives bytes back (usage does
 * not go below 0): 0, or -1.
 */
int		 accounts_quota_reserve(struct accounts_db *,
		    uint64_t account_id, uint64_t bytes);
int		 accounts_quota_release(struct accounts_db *,
		    uint64_t account_id, uint64_t bytes);
/* An account's quota (0: none) and usage, in bytes: 1, 0 (no such
 * account), or -1. */
int		 accounts_quota_get(struct accounts_db *,
		    uint64_t account_id, uint64_t *quota_r, uint64_t *usage_r);

#ifdef SP_TEST_HOOKS
/* How many KDFs (crypto_pwhash) this process has run. */
uint64_t	 accounts_test_kdf_runs(void);
#endif

#endif
