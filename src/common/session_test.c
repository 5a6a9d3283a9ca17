/* SPDX-License-Identifier: ISC */
/*
 * session_test.c - test hooks for session processes: the hidden XSPTEST
 * command the sandbox and supervision tests drive.  Compiled only with
 * --enable-test-hooks; a normal build has no such command.
 *
 * Process:  session processes, after their sandbox is in place.
 * Trust:    the client is the test suite.  Each hook tries something the
 *           sandbox must refuse, or talks to a service, and reports what
 *           happened; a refusal by seccomp may also end the process.
 * See also: tests/integration/test_sandbox.py, test_supervision.py.
 */
#include "config.h"

#ifdef SP_TEST_HOOKS

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "memfd.h"
#include "xmalloc.h"
#include "ipc.h"
#include "ipc_types.h"
#include "session.h"
#include "banned.h"

static const char *svc_names[SVC_MAX] = {
	"auth", "filter", "deliver", "queue", "control", "pgp"
};

static int
session_test_svc(const char *name)
{
	int	i;

	for (i = 0; i < SVC_MAX; i++)
		if (strcmp(name, svc_names[i]) == 0)
			return i;
	return -1;
}

static void
session_test_result(char *reply, size_t len, const char *what, int r)
{
	if (r != -1)
		snprintf(reply, len, "%s result=allowed", what);
	else
		snprintf(reply, len, "%s result=refused errno=%d (%s)", what,
		    errno, strerror(errno));
	log_info("test-hook %s", reply);
}

/*
 * " DELIVER ACCOUNT SIZE [TEXT]": a fresh key pair, a sealed memfd of
 * SIZE bytes (TEXT repeated, or random), sent to deliver as a session
 * would.  The reply gives the result, the file name, the secret key (so
 * the test can decrypt) and the SHA-256 of what was sent.
 */
static void
session_test_deliver(struct session *s, const char *args, char *reply,
    size_t len)
{
	static struct ipc_msg	 msg;
	struct ipc_out		*out;
	unsigned char		 pk[crypto_box_PUBLICKEYBYTES];
	unsigned char		 sk[crypto_box_SECRETKEYBYTES], h[32];
	unsigned char		*data;
	char			 skhex[65], hhex[65], text[64];
	const char		*t, *name;
	unsigned long long	 account;
	size_t			 size, i, tl;
	uint32_t		 result;
	int			 fd;

	text[0] = '\0';
	if (sscanf(args, " DELIVER %llu %zu %63s", &account, &size, text) <
	    2 || size > 8 * 1024 * 1024) {
		snprintf(reply, len, "usage: DELIVER ACCOUNT SIZE [TEXT]");
		return;
	}
	data = xmalloc(size + 1);
	tl = strlen(text);
	if (tl == 0)
		randombytes_buf(data, size);
	else
		for (i = 0; i < size; i++)
			data[i] = (unsigned char)text[i % tl];
	crypto_hash_sha256(h, data, size);
	fd = memfd_sealed_from("test-message", data, size);
	free(data);
	crypto_box_keypair(pk, sk);
	out = ipc_out_new(IMSG_DELIVER_MSG, 0, fd);
	ipc_add_u64(out, account);
	ipc_add_data(out, pk, sizeof(pk));
	ipc_add_str(out, "INBOX");
	ipc_add_str(out, "sender@other.test");
	ipc_add_str(out, "demo@example.test");
	if (session_call(s, SVC_DELIVER, out, &msg) == -1 ||
	    ipc_get_u32(&msg, &result) == -1 ||
	    ipc_get_str(&msg, &t, 256) == -1 ||
	    ipc_get_str(&msg, &name, 64) == -1 || ipc_end(&msg) == -1) {
		snprintf(reply, len, "deliver result=unavailable");
		return;
	}
	sodium_bin2hex(skhex, sizeof(skhex), sk, sizeof(sk));
	sodium_bin2hex(hhex, sizeof(hhex), h, sizeof(h));
	snprintf(reply, len, "deliver result=%u name=%s sk=%s sha256=%s",
	    result, name[0] != '\0' ? name : "-", skhex, hhex);
}

void
session_test_hook(struct session *s, const char *args, char *reply,
    size_t len)
{
	static struct ipc_msg	 msg;	/* 64 KiB: not on the stack */
	struct ipc_out	*out;
	char		 op[16], arg[64];
	int		 svc, r, fd;

	op[0] = arg[0] = '\0';
	if (sscanf(args, " %15s %63s", op, arg) < 1) {
		snprintf(reply, len, "usage");
		return;
	}
	if (strcmp(op, "OPEN") == 0) {
		/* "/" exists inside the empty jail: only the sandbox says no */
		fd = open("/", O_RDONLY | O_DIRECTORY);
		session_test_result(reply, len, "open", fd);
		if (fd != -1)
			close(fd);
		return;
	}
	if (strcmp(op, "EXEC") == 0) {
		char *const av[] = { "sealpost-test-exec", NULL };

		/*
		 * Not there: without a sandbox this fails with ENOENT, which
		 * does not count; only EPERM/EACCES (or death) is a refusal.
		 */
		r = execve("/sealpost-test-exec", av, av + 1);
		session_test_result(reply, len, "exec",
		    r == -1 && (errno == EPERM || errno == EACCES) ? -1 : 0);
		return;
	}
	if (strcmp(op, "SOCKET") == 0) {
		struct sockaddr_in	sin;

		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd != -1) {
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			sin.sin_port = htons(9);
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
			close(fd);
			fd = r == -1 && (errno == EPERM || errno == EACCES) ?
			    -1 : 0;
		}
		session_test_result(reply, len, "socket", fd);
		return;
	}
	if (strcmp(op, "FORGE") == 0) {
		/* claim to the master that this connection logged in */
		out = ipc_out_new(IMSG_AUTH_LOGIN_OK, 0, -1);
		ipc_add_u64(out, s->id);
		ipc_add_u64(out, 1);
		r = ipc_send(SP_FD_MASTER, out);
		snprintf(reply, len, "forge result=%s", r == 0 ? "sent" :
		    "not-sent");
		return;
	}
	if (strcmp(op, "AUTHLOGIN") == 0) {
		/* a non-login session asks auth to check a password */
		out = ipc_out_new(IMSG_AUTH_LOGIN, 0, -1);
		ipc_add_u64(out, s->id);
		ipc_add_str(out, arg);
		ipc_add_data(out, "s3cret", 6);
		r = session_call(s, SVC_AUTH, out, &msg);
		ipc_msg_clear(&msg);
		snprintf(reply, len, "authlogin result=%s", r == 0 ?
		    "answered" : "refused");
		return;
	}
	if (strcmp(op, "RCPT") == 0) {
		const void	*pk;
		size_t		 pklen;
		uint32_t	 found;
		uint64_t	 account, quota, usage;
		char		 pkhex[65];

		out = ipc_out_new(IMSG_AUTH_RCPT, 0, -1);
		ipc_add_str(out, arg);
		if (session_call(s, SVC_AUTH, out, &msg) == -1 ||
		    ipc_get_u32(&msg, &found) == -1 ||
		    ipc_get_u64(&msg, &account) == -1 ||
		    ipc_get_data(&msg, &pk, &pklen) == -1 || pklen != 32 ||
		    ipc_get_u64(&msg, &quota) == -1 ||
		    ipc_get_u64(&msg, &usage) == -1 || ipc_end(&msg) == -1) {
			snprintf(reply, len, "rcpt result=unavailable");
			return;
		}
		sodium_bin2hex(pkhex, sizeof(pkhex), pk, pklen);
		snprintf(reply, len, "rcpt found=%u account=%llu pk=%s", found,
		    (unsigned long long)account, pkhex);
		return;
	}
	if (strcmp(op, "DELIVER") == 0) {
		session_test_deliver(s, args, reply, len);
		return;
	}
	if ((svc = session_test_svc(arg)) == -1) {
		snprintf(reply, len, "unknown service");
		return;
	}
	if (strcmp(op, "HEALTH") == 0) {
		const char	*role;
		uint32_t	 pid, now;
		uint64_t	 served;

		out = ipc_out_new(IMSG_HEALTH, 0, -1);
		if (session_call(s, (enum sp_service)svc, out, &msg) == -1 ||
		    ipc_get_str(&msg, &role, 32) == -1 ||
		    ipc_get_u32(&msg, &pid) == -1 ||
		    ipc_get_u64(&msg, &served) == -1 ||
		    ipc_get_u32(&msg, &now) == -1 || ipc_end(&msg) == -1) {
			snprintf(reply, len, "health %s result=unavailable",
			    arg);
			return;
		}
		snprintf(reply, len, "health role=%s pid=%u served=%llu "
		    "now=%u", role, pid, (unsigned long long)served, now);
		return;
	}
	if (strcmp(op, "GARBAGE") == 0) {
		/* a frame shorter than its header: malformed on purpose */
		if (s->svc[svc] == -1 ||
		    send(s->svc[svc], "\x07\x00\x00", 3, MSG_NOSIGNAL) != 3)
			snprintf(reply, len, "garbage %s result=not-sent", arg);
		else
			snprintf(reply, len, "garbage %s result=sent", arg);
		return;
	}
	snprintf(reply, len, "unknown op");
}

#endif /* SP_TEST_HOOKS */
