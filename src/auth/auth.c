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
 * Limits:   AUTH_USER_MAX, AUTH_PASS_MAX, AUTH_MAX_TEST_ACCOUNTS.
 *           KDFs run one at a time on the event loop for now (the rate
 *           limits and the worker threads of issue 4 are still to come).
 * See also: common/service.c (the loop), sealpostd/proc.c (master_login).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static struct auth_account	accounts[AUTH_MAX_TEST_ACCOUNTS];
static size_t			naccounts;
static struct accounts_db	*db;		/* DATA_DIR/users.db */
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

	ok = auth_check(user, pass, passlen, &account);
	if (!ok && db != NULL) {
		/* one KDF per credential; an unknown user runs one too */
		ok = accounts_unlock(db, user, pass, passlen, &account,
		    unlocked) == 1;
		/* the mail process gets the key with the store's reading side */
		sodium_memzero(unlocked, ACCOUNTS_KEY_LEN);
	}
	sodium_memzero((void *)(uintptr_t)pass, passlen);
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

static int
auth_master_msg(struct ipc_msg *msg)
{
#ifdef SP_TEST_HOOKS
	struct auth_account	*a;
	const char		*address;
	const void		*pass;
	size_t			 passlen;
	uint64_t		 id;

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
	(void)msg;
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
