/* SPDX-License-Identifier: ISC */
/*
 * auth.c - the auth service: decides who a connection is.  A login
 * session asks it to check credentials; on success auth, not the login
 * process, tells the master "connection C is account A", and only then
 * does the master start a mail process for that account.
 *
 * Accounts live in users.db with the store issue; until then the only
 * accounts are test accounts the master passes from the configuration in
 * --enable-test-hooks builds (test-account), so a normal build refuses
 * every login.
 *
 * Process:  auth (user _sp_auth, jailed in the empty chroot, sandbox
 *           profile ROLE_AUTH).
 * Trust:    sessions are untrusted peers: a login request must come from a
 *           login session, for its own connection id, with bounded fields,
 *           or the session is dropped.  The master is trusted.
 * Limits:   AUTH_USER_MAX, AUTH_PASS_MAX, AUTH_MAX_TEST_ACCOUNTS.
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
	sodium_memzero((void *)(uintptr_t)pass, passlen);
	log_info("%016" PRIx64 " auth event=login user=%s result=%s", connid,
	    log_esc(esc, sizeof(esc), user, strlen(user)), ok ? "ok" : "fail");
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

static const struct service_ops auth_ops = {
	.name = "auth",
	.role = ROLE_AUTH,
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
