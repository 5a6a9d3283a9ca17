/* SPDX-License-Identifier: ISC */
/*
 * auth.c - the auth service: decides who a connection is, and who a
 * recipient is.  A login session asks it to check credentials; on success
 * auth, not the login process, tells the master "connection C is account
 * A", and only then does the master start a mail process for that
 * account.  An smtp session asks whether an address is a local account
 * (aliases resolved) and gets its id and PUBLIC key for deliver.
 *
 * Accounts live in DATA_DIR/users.db (store/accounts.c), opened before the
 * jail and kept open.  A wrong password is exactly a failed unwrap of the
 * account's private key; an unknown user costs one KDF too.  In
 * --enable-test-hooks builds the configuration's test-account lines are
 * accepted as well.
 *
 * Process:  auth (user _sp_auth, jailed in the empty chroot, sandbox
 *           profile ROLE_AUTH).
 * Trust:    sessions are untrusted peers: a login request must come from a
 *           login session, for its own connection id, with bounded fields,
 *           or the session is dropped.  The master is trusted.
 * Limits:   AUTH_USER_MAX, AUTH_PASS_MAX, AUTH_MAX_TEST_ACCOUNTS;
 *           failed logins per (user, client), per client and per user in
 *           AUTH_FAIL_WINDOW, checked BEFORE any KDF runs (auth_limited).
 *           KDFs run one at a time on the event loop for now (worker
 *           threads are still to come).
 * See also: common/service.c (the loop), sealpostd/proc.c (master_login).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "accounts.h"
#include "ipc_types.h"
#include "service.h"
#include "banned.h"

#define AUTH_USER_MAX		320	/* RFC 5321 4.5.3.1: 64 + @ + 255 */
#define AUTH_PASS_MAX		1024
#define AUTH_MAX_TEST_ACCOUNTS	16

struct auth_account {
	char		*address;
	uint8_t		*password;	/* wiped on exit; test hooks only */
	size_t		 passlen;
	uint64_t	 id;
};

/*
 * Failure limits.  The client address comes from the master (it accepted
 * the connection), never from the session.  A limited attempt runs no
 * KDF and gets the same temporary answer whether the user exists or not.
 * Per user from anywhere is the loosest: it stops a distributed guess at
 * one account at the price of locking that account for AUTH_FAIL_WINDOW.
 */
#define AUTH_FAIL_WINDOW	900	/* seconds a failure counts */
#define AUTH_FAIL_USER_CLIENT	5	/* per (user, client) */
#define AUTH_FAIL_CLIENT	20	/* per client, any user */
#define AUTH_FAIL_USER		50	/* per user, any client */
#define AUTH_LIMIT_ENTRIES	4096

struct auth_limit {
	char		key[AUTH_USER_MAX + 72];
	time_t		start;		/* 0: free */
	unsigned int	fails;
};

static struct auth_limit	limits[AUTH_LIMIT_ENTRIES];

static struct auth_limit *
auth_limit_find(const char *key, int create)
{
	struct auth_limit	*old = &limits[0];
	time_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < AUTH_LIMIT_ENTRIES; i++) {
		struct auth_limit *l = &limits[i];

		if (l->start != 0 && now - l->start >= AUTH_FAIL_WINDOW)
			l->start = 0;		/* expired */
		if (l->start != 0 && strcmp(l->key, key) == 0)
			return l;
		if (l->start < old->start)
			old = l;		/* free (0) or oldest */
	}
	if (!create)
		return NULL;
	/* SECURITY: bounded memory; the oldest entry makes room */
	strlcpy(old->key, key, sizeof(old->key));
	old->start = now;
	old->fails = 0;
	return old;
}

static void
auth_limit_keys(const char *user, const char *client, char keys[3][AUTH_USER_MAX + 72])
{
	char	lower[AUTH_USER_MAX + 1];
	size_t	i;

	for (i = 0; user[i] != '\0' && i < AUTH_USER_MAX; i++)
		lower[i] = (char)tolower((unsigned char)user[i]);
	lower[i] = '\0';
	snprintf(keys[0], sizeof(keys[0]), "u:%s|%s", lower, client);
	snprintf(keys[1], sizeof(keys[1]), "c:%s", client);
	snprintf(keys[2], sizeof(keys[2]), "a:%s", lower);
}

static int
auth_limited(const char *user, const char *client)
{
	static const unsigned int max[3] = { AUTH_FAIL_USER_CLIENT,
	    AUTH_FAIL_CLIENT, AUTH_FAIL_USER };
	char			 keys[3][AUTH_USER_MAX + 72];
	struct auth_limit	*l;
	int			 i;

	auth_limit_keys(user, client, keys);
	for (i = 0; i < 3; i++)
		if ((l = auth_limit_find(keys[i], 0)) != NULL &&
		    l->fails >= max[i])
			return 1;
	return 0;
}

static void
auth_limit_record(const char *user, const char *client, int ok)
{
	char			 keys[3][AUTH_USER_MAX + 72];
	struct auth_limit	*l;
	int			 i;

	auth_limit_keys(user, client, keys);
	if (ok) {
		if ((l = auth_limit_find(keys[0], 0)) != NULL)
			l->start = 0;
		return;
	}
	for (i = 0; i < 3; i++)
		if ((l = auth_limit_find(keys[i], 1)) != NULL)
			l->fails++;
}

static struct auth_account	accounts[AUTH_MAX_TEST_ACCOUNTS];
static size_t			naccounts;
static struct accounts_db	*db;		/* DATA_DIR/users.db */

/*
 * Keys unwrapped at a login, waiting (briefly) for the master's channel
 * to that connection's mail process: then handed over and wiped.
 */
#define AUTH_PENDING_KEYS	64
#define AUTH_PENDING_TIMEOUT	30	/* seconds */
struct auth_pending {
	uint64_t	 connid;
	uint64_t	 account;
	time_t		 when;
	unsigned char	*kp;		/* sodium_malloc: pk (32) | sk (32) */
};
static struct auth_pending	pending[AUTH_PENDING_KEYS];

static void
auth_pending_clear(struct auth_pending *p)
{
	if (p->kp != NULL)
		sodium_free(p->kp);	/* wipes */
	memset(p, 0, sizeof(*p));
}

/* Keep the key of a login until the mail process is there. */
static void
auth_pending_add(uint64_t connid, uint64_t account, const unsigned char *sk)
{
	struct auth_pending	*p = &pending[0];
	time_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < AUTH_PENDING_KEYS; i++) {
		if (pending[i].kp != NULL &&
		    now - pending[i].when > AUTH_PENDING_TIMEOUT)
			auth_pending_clear(&pending[i]);
		if (pending[i].kp == NULL || pending[i].when < p->when)
			p = &pending[i];
	}
	auth_pending_clear(p);
	if ((p->kp = sodium_malloc(64)) == NULL)
		return;
	crypto_scalarmult_base(p->kp, sk);
	memcpy(p->kp + 32, sk, 32);
	p->connid = connid;
	p->account = account;
	p->when = now;
}
static unsigned char		*unlocked;	/* sodium_malloc: a private key */

static int
auth_rcpt_kind(enum sp_listener_kind k)
{
	return k == SP_LISTEN_SMTP || k == SP_LISTEN_SUBMISSION ||
	    k == SP_LISTEN_SUBMISSIONS || k == SP_KIND_CONTROL;
}

/*
 * Reserve (or give back) quota for one message: atomic in users.db, so
 * two deliveries at once cannot both pass the limit.
 */
static int
auth_quota(struct service_session *ss, struct ipc_msg *msg)
{
	struct ipc_out	*out;
	uint64_t	 account, bytes;
	uint32_t	 release;
	int		 ok = 0;

	if (!auth_rcpt_kind(ss->kind) || msg->fd != -1 ||
	    ipc_get_u64(msg, &account) == -1 ||
	    ipc_get_u64(msg, &bytes) == -1 ||
	    ipc_get_u32(msg, &release) == -1 || ipc_end(msg) == -1 ||
	    release > 1)
		return -1;
	if (db != NULL) {
		if (release)
			ok = accounts_quota_release(db, account, bytes) != -1;
		else
			ok = accounts_quota_reserve(db, account, bytes) == 1;
	}
	out = ipc_out_new(IMSG_AUTH_QUOTA, msg->hdr.id, -1);
	ipc_add_u32(out, (uint32_t)ok);
	(void)ipc_chan_send(ss->chan, out);
	return 0;
}

static int
auth_login_kind(enum sp_listener_kind k)
{
	return k == SP_LISTEN_IMAP || k == SP_LISTEN_IMAPS ||
	    k == SP_LISTEN_POP3 || k == SP_LISTEN_POP3S;
}

/* 1 and *id_r when the credentials are an account's; 0 otherwise. */
static int
auth_check(const char *user, const uint8_t *pass, size_t passlen,
    uint64_t *id_r)
{
	size_t	i;
	int	found = 0;

	for (i = 0; i < naccounts; i++) {
		/* SECURITY: compare every account, in constant time */
		int same = strcasecmp(user, accounts[i].address) == 0 &&
		    passlen == accounts[i].passlen &&
		    sodium_memcmp(pass, accounts[i].password, passlen) == 0;

		if (same && !found) {
			*id_r = accounts[i].id;
			found = 1;
		}
	}
	return found;
}

/* Is address a local recipient?  Answered to smtp sessions only. */
static int
auth_rcpt(struct service_session *ss, struct ipc_msg *msg)
{
	struct ipc_out	*out;
	const char	*addr;
	uint8_t		 pk[ACCOUNTS_KEY_LEN];
	uint64_t	 account = 0, quota = 0, usage = 0;
	uint32_t	 uid;
	int		 found = 0;

	if (!auth_rcpt_kind(ss->kind) || msg->fd != -1 ||
	    ipc_get_str(msg, &addr, AUTH_USER_MAX) == -1 || ipc_end(msg) == -1)
		return -1;
	memset(pk, 0, sizeof(pk));
	if (db != NULL && accounts_lookup(db, addr, &account, pk, &uid, &quota,
	    &usage) == 1)
		found = 1;
	out = ipc_out_new(IMSG_AUTH_RCPT, msg->hdr.id, -1);
	ipc_add_u32(out, (uint32_t)found);
	ipc_add_u64(out, account);
	ipc_add_data(out, pk, sizeof(pk));
	ipc_add_u64(out, quota);
	ipc_add_u64(out, usage);
	(void)ipc_chan_send(ss->chan, out);
	return 0;
}

static int
auth_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	struct ipc_out	*out;
	const char	*user;
	const void	*pass;
	char		 esc[128];
	uint64_t	 connid, account = 0;
	size_t		 passlen;
	int		 ok;

	if (msg->hdr.type == IMSG_AUTH_RCPT)
		return auth_rcpt(ss, msg);
	if (msg->hdr.type == IMSG_AUTH_QUOTA)
		return auth_quota(ss, msg);
	if (msg->hdr.type != IMSG_AUTH_LOGIN || msg->fd != -1 ||
	    !auth_login_kind(ss->kind))
		return -1;
	if (ipc_get_u64(msg, &connid) == -1 ||
	    ipc_get_str(msg, &user, AUTH_USER_MAX) == -1 ||
	    ipc_get_data(msg, &pass, &passlen) == -1 || ipc_end(msg) == -1 ||
	    passlen > AUTH_PASS_MAX)
		return -1;
	/* SECURITY: a session speaks for its own connection only */
	if (connid != ss->connid)
		return -1;

	if (auth_limited(user, ss->client)) {
		sodium_memzero((void *)(uintptr_t)pass, passlen);
		log_info("%016" PRIx64 " auth event=login user=%s client=%s "
		    "result=limited", connid, log_esc(esc, sizeof(esc), user,
		    strlen(user)), ss->client);
		out = ipc_out_new(IMSG_AUTH_LOGIN, msg->hdr.id, -1);
		ipc_add_u32(out, AUTH_RESULT_TEMP);
		ipc_add_str(out, "too many failures: try again later");
		(void)ipc_chan_send(ss->chan, out);
		return 0;
	}
	ok = auth_check(user, pass, passlen, &account);
	if (!ok && db != NULL) {
		/* one KDF per credential; an unknown user runs one too */
		ok = accounts_unlock(db, user, pass, passlen, &account,
		    unlocked) == 1;
		/* the mail process gets it once the master has started it */
		if (ok)
			auth_pending_add(connid, account, unlocked);
		sodium_memzero(unlocked, ACCOUNTS_KEY_LEN);
	}
	sodium_memzero((void *)(uintptr_t)pass, passlen);
	auth_limit_record(user, ss->client, ok);
#ifdef SP_TEST_HOOKS
	/* test hooks: how many KDFs this process ran so far (no timing) */
	log_info("%016" PRIx64 " auth event=login user=%s result=%s "
	    "kdf-runs=%llu", connid, log_esc(esc, sizeof(esc), user,
	    strlen(user)), ok ? "ok" : "fail",
	    (unsigned long long)accounts_test_kdf_runs());
#else
	log_info("%016" PRIx64 " auth event=login user=%s result=%s", connid,
	    log_esc(esc, sizeof(esc), user, strlen(user)), ok ? "ok" : "fail");
#endif
	if (ok) {
		out = ipc_out_new(IMSG_AUTH_LOGIN_OK, 0, -1);
		ipc_add_u64(out, connid);
		ipc_add_u64(out, account);
		service_to_master(out);
	}
	out = ipc_out_new(IMSG_AUTH_LOGIN, msg->hdr.id, -1);
	ipc_add_u32(out, ok ? AUTH_RESULT_OK : AUTH_RESULT_FAIL);
	ipc_add_str(out, ok ? "ok" : "authentication failed");
	(void)ipc_chan_send(ss->chan, out);
	return 0;
}

/* The master's channel to a mail process: hand it its key, once. */
static int
auth_keychan(struct ipc_msg *msg)
{
	struct ipc_out	*out;
	uint64_t	 connid, account;
	size_t		 i;

	if (msg->fd == -1 || ipc_get_u64(msg, &connid) == -1 ||
	    ipc_get_u64(msg, &account) == -1 || ipc_end(msg) == -1)
		return -1;
	for (i = 0; i < AUTH_PENDING_KEYS; i++) {
		struct auth_pending *p = &pending[i];

		if (p->kp == NULL || p->connid != connid ||
		    p->account != account)
			continue;
		out = ipc_out_new(IMSG_AUTH_KEY, 0, -1);
		ipc_add_u64(out, account);
		ipc_add_data(out, p->kp, 32);
		ipc_add_data(out, p->kp + 32, 32);
		(void)ipc_send(msg->fd, out);	/* wiped and freed */
		auth_pending_clear(p);
		break;
	}
	/* no key (a test account): closing says so */
	close(msg->fd);
	msg->fd = -1;
	return 0;
}

static int
auth_master_msg(struct ipc_msg *msg)
{
#ifdef SP_TEST_HOOKS
	struct auth_account	*a;
	const char		*address;
	const void		*pass;
	size_t			 passlen;
	uint64_t		 id;

	if (msg->hdr.type == IMSG_MASTER_KEYCHAN)
		return auth_keychan(msg);
	if (msg->hdr.type != IMSG_AUTH_TEST_ACCOUNT)
		return -1;
	if (ipc_get_str(msg, &address, AUTH_USER_MAX) == -1 ||
	    ipc_get_data(msg, &pass, &passlen) == -1 ||
	    ipc_get_u64(msg, &id) == -1 || ipc_end(msg) == -1 ||
	    passlen > AUTH_PASS_MAX || passlen == 0 ||
	    naccounts == AUTH_MAX_TEST_ACCOUNTS)
		return -1;
	a = &accounts[naccounts++];
	a->address = xstrdup(address);
	a->password = xmalloc(passlen);
	memcpy(a->password, pass, passlen);
	a->passlen = passlen;
	a->id = id;
	sodium_memzero((void *)(uintptr_t)pass, passlen);
	return 0;
#else
	if (msg->hdr.type == IMSG_MASTER_KEYCHAN)
		return auth_keychan(msg);
	return -1;
#endif
}

/*
 * Before the jail, as root: open users.db (created empty if missing, mode
 * 0600) and read once, so that SQLite has its WAL and shared-memory files
 * open before nothing can be opened any more.
 */
static void
auth_preload(const struct child_args *a)
{
	struct accounts_params	 p;
	char			 path[1024], err[ACCOUNTS_ERR_MAX];
	uint8_t			 pk[ACCOUNTS_KEY_LEN];
	uint64_t		 id, q, u;
	uint32_t		 uid;
	int			 n;

	if ((unlocked = sodium_malloc(ACCOUNTS_KEY_LEN)) == NULL)
		fatal("auth: sodium_malloc");
	if (a->data_dir == NULL)
		fatalx("auth: -D DATA_DIR is required");
	n = snprintf(path, sizeof(path), "%s/users.db", a->data_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		fatalx("auth: data-dir too long");
	memset(&p, 0, sizeof(p));
	if ((db = accounts_open(path, &p, ACCOUNTS_OPEN_CREATE, err,
	    sizeof(err))) == NULL)
		fatalx("auth: %s", err);
	(void)accounts_lookup(db, "warm-up@invalid", &id, pk, &uid, &q, &u);
}

static const struct service_ops auth_ops = {
	.name = "auth",
	.role = ROLE_AUTH,
	.preload = auth_preload,
	.session_msg = auth_session_msg,
	.master_msg = auth_master_msg,
};

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	service_main(argc, argv, &auth_ops);
}
