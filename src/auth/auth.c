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
 *           failed attempts are charged when the KDF is queued and
 *           refunded on success, so parallel guesses cannot outrun the
 *           limits.  KDFs run on auth-kdf-workers threads (auth_kdf.c),
 *           at most KDF_QUEUE_MAX queued; the same (user, password) asked
 *           while its KDF runs waits for that one; AUTH_CACHE_MAX unlocked
 *           keys are kept for auth-cache-lifetime seconds (memory only).
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
#include "conf.h"
#include "accounts.h"
#include "auth_kdf.h"
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

/* An attempt counts as a failure from the moment its KDF is queued... */
static void
auth_limit_charge(const char *user, const char *client)
{
	char			 keys[3][AUTH_USER_MAX + 72];
	struct auth_limit	*l;
	int			 i;

	auth_limit_keys(user, client, keys);
	for (i = 0; i < 3; i++)
		if ((l = auth_limit_find(keys[i], 1)) != NULL)
			l->fails++;
}

/* ...and a success gives it back, and clears (user, client). */
static void
auth_limit_refund(const char *user, const char *client)
{
	char			 keys[3][AUTH_USER_MAX + 72];
	struct auth_limit	*l;
	int			 i;

	auth_limit_keys(user, client, keys);
	if ((l = auth_limit_find(keys[0], 0)) != NULL)
		l->start = 0;
	for (i = 1; i < 3; i++)
		if ((l = auth_limit_find(keys[i], 0)) != NULL && l->fails > 0)
			l->fails--;
}

static struct auth_account	accounts[AUTH_MAX_TEST_ACCOUNTS];
static size_t			naccounts;
static struct accounts_db	*db;		/* DATA_DIR/users.db */
static struct accounts_db	*kdf_db[KDF_WORKERS_MAX];	/* one each */
static unsigned int		 kdf_workers = 1;
static unsigned int		 cache_lifetime;	/* seconds, 0: off */

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

/*
 * The unlock cache: for cache_lifetime seconds after a successful KDF, the
 * same (user as typed, password) unlocks from memory, after users.db
 * confirms that the name still leads to that account and the credential
 * is still active (accounts_cred_valid).  Entries are found by a keyed
 * BLAKE2b tag of (user, password) under a key made at start and never
 * stored, so the cache holds no password; keys and tags are in
 * sodium_malloc memory.  Failures are never cached.
 */
#define AUTH_CACHE_MAX		256
#define AUTH_TAG_LEN		32
struct auth_cache_entry {
	unsigned char	*mem;		/* sodium_malloc: tag (32) | sk (32) */
	char		 user[AUTH_USER_MAX + 1];
	uint64_t	 account;
	uint64_t	 cred;
	time_t		 expires;	/* 0: free */
};
static struct auth_cache_entry	 cache[AUTH_CACHE_MAX];
static unsigned char		*cache_key;	/* sodium_malloc */

/* The tag of (lower-case user, password). */
static void
auth_tag(const char *user, const void *pass, size_t passlen,
    unsigned char tag[AUTH_TAG_LEN])
{
	crypto_generichash_state	st;
	unsigned char			c;
	size_t				i;

	crypto_generichash_init(&st, cache_key, 32, AUTH_TAG_LEN);
	for (i = 0; user[i] != '\0'; i++) {
		c = (unsigned char)tolower((unsigned char)user[i]);
		crypto_generichash_update(&st, &c, 1);
	}
	c = 0;
	crypto_generichash_update(&st, &c, 1);
	crypto_generichash_update(&st, pass, passlen);
	crypto_generichash_final(&st, tag, AUTH_TAG_LEN);
	sodium_memzero(&st, sizeof(st));
}

static void
auth_cache_clear(struct auth_cache_entry *e)
{
	if (e->mem != NULL)
		sodium_free(e->mem);
	memset(e, 0, sizeof(*e));
}

static struct auth_cache_entry *
auth_cache_get(const char *user, const unsigned char tag[AUTH_TAG_LEN])
{
	time_t	now = time(NULL);
	size_t	i;

	for (i = 0; i < AUTH_CACHE_MAX; i++) {
		struct auth_cache_entry *e = &cache[i];

		if (e->expires != 0 && e->expires <= now)
			auth_cache_clear(e);
		if (e->expires != 0 && strcasecmp(e->user, user) == 0 &&
		    sodium_memcmp(e->mem, tag, AUTH_TAG_LEN) == 0)
			return e;
	}
	return NULL;
}

static void
auth_cache_put(const char *user, const unsigned char tag[AUTH_TAG_LEN],
    uint64_t account, uint64_t cred, const unsigned char *sk)
{
	struct auth_cache_entry	*e = &cache[0];
	size_t			 i;

	if (cache_lifetime == 0)
		return;
	for (i = 0; i < AUTH_CACHE_MAX; i++)
		if (cache[i].expires < e->expires)
			e = &cache[i];		/* free (0) or the oldest */
	auth_cache_clear(e);
	if ((e->mem = sodium_malloc(AUTH_TAG_LEN + ACCOUNTS_KEY_LEN)) == NULL)
		return;
	memcpy(e->mem, tag, AUTH_TAG_LEN);
	memcpy(e->mem + AUTH_TAG_LEN, sk, ACCOUNTS_KEY_LEN);
	strlcpy(e->user, user, sizeof(e->user));
	e->account = account;
	e->cred = cred;
	e->expires = time(NULL) + (time_t)cache_lifetime;
}

/*
 * Logins waiting for a KDF: one flight per (user, password) being
 * unlocked, and every login that asked for it meanwhile.  A waiter whose
 * session went away is kept with ss NULL and answered to nobody.
 */
struct auth_waiter {
	TAILQ_ENTRY(auth_waiter)	 entry;
	struct service_session		*ss;
	uint32_t			 msgid;
	uint64_t			 connid;
	char				 client[64];
};
#define AUTH_FLIGHT_WAITERS	8
struct auth_flight {
	TAILQ_ENTRY(auth_flight)	 entry;
	TAILQ_HEAD(, auth_waiter)	 waiters;
	size_t				 nwaiters;
	unsigned char			 tag[AUTH_TAG_LEN];
	char				 user[AUTH_USER_MAX + 1];
};
static TAILQ_HEAD(, auth_flight)	flights =
    TAILQ_HEAD_INITIALIZER(flights);

static int
auth_rcpt_kind(enum sp_listener_kind k)
{
	return k == SP_LISTEN_SMTP || k == SP_LISTEN_SUBMISSION ||
	    k == SP_LISTEN_SUBMISSIONS || k == SP_KIND_CONTROL ||
	    k == SP_KIND_QUEUE;
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

/* Who may ask for a login: login sessions, and SMTP AUTH on submission. */
static int
auth_login_kind(enum sp_listener_kind k)
{
	return k == SP_LISTEN_IMAP || k == SP_LISTEN_IMAPS ||
	    k == SP_LISTEN_POP3 || k == SP_LISTEN_POP3S ||
	    k == SP_LISTEN_SUBMISSION || k == SP_LISTEN_SUBMISSIONS;
}

/* A login that starts a mail process (not SMTP AUTH). */
static int
auth_mail_kind(enum sp_listener_kind k)
{
	return k != SP_LISTEN_SUBMISSION && k != SP_LISTEN_SUBMISSIONS;
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

/* The end of a login: tell the session, and the master on success. */
static void
auth_login_finish(struct service_session *ss, uint32_t msgid, uint64_t connid,
    const char *user, const char *client, int result, uint64_t account,
    const unsigned char *sk, const char *how)
{
	struct ipc_out	*out;
	char		 esc[128];
	int		 ok = result == 1;

	if (ok)
		auth_limit_refund(user, client);
	/* one line per attempt with the client: what fail2ban matches */
#ifdef SP_TEST_HOOKS
	/* test hooks: how many KDFs this process ran so far (no timing) */
	log_info("%016" PRIx64 " auth event=login user=%s client=%s "
	    "result=%s via=%s kdf-runs=%llu", connid, log_esc(esc, sizeof(esc),
	    user, strlen(user)), client, ok ? "ok" : result == 0 ? "fail" :
	    "error", how, (unsigned long long)accounts_test_kdf_runs());
#else
	log_info("%016" PRIx64 " auth event=login user=%s client=%s "
	    "result=%s via=%s", connid, log_esc(esc, sizeof(esc), user,
	    strlen(user)), client, ok ? "ok" : result == 0 ? "fail" : "error",
	    how);
#endif
	if (ss == NULL)
		return;		/* the connection is gone: nobody to log in */
	if (ok && auth_mail_kind(ss->kind)) {
		/* the mail process gets it once the master has started it */
		if (sk != NULL)
			auth_pending_add(connid, account, sk);
		out = ipc_out_new(IMSG_AUTH_LOGIN_OK, 0, -1);
		ipc_add_u64(out, connid);
		ipc_add_u64(out, account);
		service_to_master(out);
	}
	out = ipc_out_new(IMSG_AUTH_LOGIN, msgid, -1);
	ipc_add_u32(out, ok ? AUTH_RESULT_OK : result == 0 ?
	    AUTH_RESULT_FAIL : AUTH_RESULT_TEMP);
	ipc_add_str(out, ok ? "ok" : result == 0 ? "authentication failed" :
	    "temporary failure: try again later");
	ipc_add_u64(out, ok ? account : 0);
	(void)ipc_chan_send(ss->chan, out);
}

/* A worker finished: answer every login of that flight. */
static void
auth_kdf_done(struct kdf_job *j)
{
	struct auth_flight	*f = j->arg;
	struct auth_waiter	*w;
	unsigned char		 tag[AUTH_TAG_LEN];

	if (j->result == -1)
		log_warnx("auth: users.db: %s", j->errstr);
	memcpy(tag, f->tag, sizeof(tag));
	TAILQ_REMOVE(&flights, f, entry);
	if (j->result == 1)
		auth_cache_put(f->user, tag, j->account, j->cred, j->sk);
	while ((w = TAILQ_FIRST(&f->waiters)) != NULL) {
		TAILQ_REMOVE(&f->waiters, w, entry);
		auth_login_finish(w->ss, w->msgid, w->connid, f->user,
		    w->client, j->result, j->account, j->sk,
		    f->nwaiters > 1 ? "kdf-shared" : "kdf");
		free(w);
	}
	sodium_memzero(f, sizeof(*f));
	free(f);
	kdf_job_free(j);
}

/* Is this session already waiting for a login? */
static int
auth_session_waiting(const struct service_session *ss)
{
	struct auth_flight	*f;
	struct auth_waiter	*w;

	TAILQ_FOREACH(f, &flights, entry)
		TAILQ_FOREACH(w, &f->waiters, entry)
			if (w->ss == ss)
				return 1;
	return 0;
}

static void
auth_session_gone(struct service_session *ss)
{
	struct auth_flight	*f;
	struct auth_waiter	*w;

	TAILQ_FOREACH(f, &flights, entry)
		TAILQ_FOREACH(w, &f->waiters, entry)
			if (w->ss == ss)
				w->ss = NULL;
}

/*
 * A login from the users.db accounts: from the cache, by joining the
 * flight of the same (user, password), or by a new KDF job.  The password
 * is wiped by the caller.
 */
static void
auth_login_db(struct service_session *ss, uint32_t msgid, uint64_t connid,
    const char *user, const void *pass, size_t passlen)
{
	struct auth_cache_entry	*e;
	struct auth_flight	*f;
	struct auth_waiter	*w;
	struct kdf_job		*j;
	unsigned char		 tag[AUTH_TAG_LEN];

	auth_tag(user, pass, passlen, tag);
	if ((e = auth_cache_get(user, tag)) != NULL) {
		/* still that account, and the credential still active? */
		if (accounts_cred_valid(db, user, e->account, e->cred) == 1) {
			auth_login_finish(ss, msgid, connid, user, ss->client,
			    1, e->account, e->mem + AUTH_TAG_LEN, "cache");
			return;
		}
		auth_cache_clear(e);
	}
	w = xcalloc(1, sizeof(*w));
	w->ss = ss;
	w->msgid = msgid;
	w->connid = connid;
	strlcpy(w->client, ss->client, sizeof(w->client));
	TAILQ_FOREACH(f, &flights, entry)
		if (f->nwaiters < AUTH_FLIGHT_WAITERS &&
		    strcasecmp(f->user, user) == 0 &&
		    sodium_memcmp(f->tag, tag, sizeof(tag)) == 0)
			break;
	if (f == NULL) {
		f = xcalloc(1, sizeof(*f));
		TAILQ_INIT(&f->waiters);
		memcpy(f->tag, tag, sizeof(tag));
		strlcpy(f->user, user, sizeof(f->user));
		if ((j = kdf_job_new(user, pass, passlen, f)) == NULL ||
		    kdf_pool_submit(j) == -1) {
			/* SECURITY: bounded; a flood gets "try later" */
			kdf_job_free(j);
			free(f);
			free(w);
			auth_login_finish(ss, msgid, connid, user, ss->client,
			    -1, 0, NULL, "busy");
			return;
		}
		TAILQ_INSERT_TAIL(&flights, f, entry);
	}
	/* SECURITY: counted as a failure until it succeeds */
	auth_limit_charge(user, ss->client);
	TAILQ_INSERT_TAIL(&f->waiters, w, entry);
	f->nwaiters++;
	sodium_memzero(tag, sizeof(tag));
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
	/* SECURITY: a session speaks for its own connection only, and asks
	 * one thing at a time */
	if (connid != ss->connid || auth_session_waiting(ss))
		return -1;

	if (auth_limited(user, ss->client)) {
		sodium_memzero((void *)(uintptr_t)pass, passlen);
		log_info("%016" PRIx64 " auth event=login user=%s client=%s "
		    "result=limited", connid, log_esc(esc, sizeof(esc), user,
		    strlen(user)), ss->client);
		out = ipc_out_new(IMSG_AUTH_LOGIN, msg->hdr.id, -1);
		ipc_add_u32(out, AUTH_RESULT_TEMP);
		ipc_add_str(out, "too many failures: try again later");
		ipc_add_u64(out, 0);
		(void)ipc_chan_send(ss->chan, out);
		return 0;
	}
	if (auth_check(user, pass, passlen, &account)) {
		auth_limit_charge(user, ss->client);
		auth_login_finish(ss, msg->hdr.id, connid, user, ss->client, 1,
		    account, NULL, "test-account");
	} else if (db != NULL)
		auth_login_db(ss, msg->hdr.id, connid, user, pass, passlen);
	else {
		auth_limit_charge(user, ss->client);
		auth_login_finish(ss, msg->hdr.id, connid, user, ss->client, 0,
		    0, NULL, "none");
	}
	sodium_memzero((void *)(uintptr_t)pass, passlen);
	return 0;
}

/*
 * A mail process's channel, once its key is handed over: it stays open
 * for that account's quota alone (APPEND reserves, an expunge gives
 * back, GETQUOTA reads).  The mail process parses the network: anything
 * else from it, or another account's id, drops the channel.
 */
struct auth_mailchan {
	uint64_t	 account;
};
static struct event_base	*auth_base;

static void
auth_mailchan_dispatch(struct ipc_chan *chan, struct ipc_msg *msg,
    void *arg)
{
	struct auth_mailchan	*mc = arg;
	struct ipc_out		*out;
	uint64_t		 account, bytes, quota = 0, usage = 0;
	uint32_t		 release;
	int			 ok = 0;

	if (msg->fd != -1) {
		ipc_chan_drop(chan);
		return;
	}
	switch (msg->hdr.type) {
	case IMSG_AUTH_QUOTA:
		if (ipc_get_u64(msg, &account) == -1 ||
		    ipc_get_u64(msg, &bytes) == -1 ||
		    ipc_get_u32(msg, &release) == -1 || ipc_end(msg) == -1 ||
		    release > 1 || account != mc->account) {
			ipc_chan_drop(chan);
			return;
		}
		if (release)
			ok = accounts_quota_release(db, account, bytes) != -1;
		else
			ok = accounts_quota_reserve(db, account, bytes) == 1;
		out = ipc_out_new(IMSG_AUTH_QUOTA, msg->hdr.id, -1);
		ipc_add_u32(out, (uint32_t)ok);
		break;
	case IMSG_AUTH_USAGE:
		if (ipc_end(msg) == -1) {
			ipc_chan_drop(chan);
			return;
		}
		ok = accounts_quota_get(db, mc->account, &quota, &usage) == 1;
		out = ipc_out_new(IMSG_AUTH_USAGE, msg->hdr.id, -1);
		ipc_add_u32(out, (uint32_t)ok);
		ipc_add_u64(out, quota);
		ipc_add_u64(out, usage);
		break;
	default:
		ipc_chan_drop(chan);
		return;
	}
	(void)ipc_chan_send(chan, out);
}

static void
auth_mailchan_closed(struct ipc_chan *chan, int reason, void *arg)
{
	(void)chan;
	(void)reason;
	free(arg);
}

/* The master's channel to a mail process: hand it its key, once. */
static int
auth_keychan(struct ipc_msg *msg)
{
	struct auth_mailchan	*mc;
	struct ipc_out		*out;
	uint64_t		 connid, account;
	size_t			 i;

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
		auth_pending_clear(p);
		if (ipc_send(msg->fd, out) == -1 || db == NULL)	/* wiped */
			break;
		mc = xcalloc(1, sizeof(*mc));
		mc->account = account;
		(void)ipc_chan_new(auth_base, msg->fd, IPC_PEER_SESSION,
		    auth_mailchan_dispatch, auth_mailchan_closed, mc);
		msg->fd = -1;
		return 0;
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
	const char		*v, *errstr;
	unsigned int		 i;
	int			 n;

	if ((cache_key = sodium_malloc(32)) == NULL)
		fatal("auth: sodium_malloc");
	randombytes_buf(cache_key, 32);
	memset(&p, 0, sizeof(p));
	if ((v = child_opt(a, "kdf-strength")) != NULL) {
		p.kdf_strength = (int)strtonum(v, 0, CONF_KDF_TEST, &errstr);
		if (errstr != NULL)
			fatalx("auth: bad kdf-strength from the master");
	}
	if ((v = child_opt(a, "kdf-workers")) != NULL) {
		kdf_workers = (unsigned int)strtonum(v, 1, KDF_WORKERS_MAX,
		    &errstr);
		if (errstr != NULL)
			fatalx("auth: bad kdf-workers from the master");
	}
	if ((v = child_opt(a, "cache-lifetime")) != NULL) {
		cache_lifetime = (unsigned int)strtonum(v, 0, 86400, &errstr);
		if (errstr != NULL)
			fatalx("auth: bad cache-lifetime from the master");
	}
	if (kdf_pool_prepare() == -1)
		fatal("auth: pipe2");
	if (a->data_dir == NULL)
		fatalx("auth: -D DATA_DIR is required");
	n = snprintf(path, sizeof(path), "%s/users.db", a->data_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		fatalx("auth: data-dir too long");
	if ((db = accounts_open(path, &p, ACCOUNTS_OPEN_CREATE, err,
	    sizeof(err))) == NULL)
		fatalx("auth: %s", err);
	(void)accounts_lookup(db, "warm-up@invalid", &id, pk, &uid, &q, &u);
	/* one handle per KDF worker, each used by that thread alone */
	for (i = 0; i < kdf_workers; i++) {
		if ((kdf_db[i] = accounts_open(path, &p, 0, err,
		    sizeof(err))) == NULL)
			fatalx("auth: %s", err);
		(void)accounts_lookup(kdf_db[i], "warm-up@invalid", &id, pk,
		    &uid, &q, &u);
	}
}

/* After the sandbox: the workers inherit it. */
static void
auth_init(struct event_base *base)
{
	auth_base = base;
	if (kdf_pool_start(base, kdf_db, kdf_workers, auth_kdf_done) == -1)
		fatal("auth: cannot start the KDF workers");
	log_debug("auth: %u KDF worker(s), unlock cache %u s", kdf_workers,
	    cache_lifetime);
}

static const struct service_ops auth_ops = {
	.name = "auth",
	.role = ROLE_AUTH,
	.preload = auth_preload,
	.init = auth_init,
	.session_msg = auth_session_msg,
	.session_gone = auth_session_gone,
	.master_msg = auth_master_msg,
};

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	service_main(argc, argv, &auth_ops);
}
