/* SPDX-License-Identifier: ISC */
/*
 * session.h - what every per-connection session process shares: its
 * arguments from the master, the client connection, TLS, logging.
 */
#ifndef SP_SESSION_H
#define SP_SESSION_H

#include <stdint.h>

#include "sealpost.h"
#include "io.h"
#include "ipc.h"
#include "sandbox.h"
#include "child.h"

struct ssl_ctx_st;

struct session {
	uint64_t		 id;		/* connection id from the master */
	const char		*proc;		/* "smtp", "imap-login", ... */
	enum sp_listener_kind	 kind;
	const char		*kind_name;
	const char		*hostname;	/* ours, for greetings */
	int			 implicit_tls;
	struct ssl_ctx_st	*tls_ctx;	/* NULL without TLS material */
	struct io		 io;
	unsigned int		 errors;	/* bad commands so far */
	int			 svc[SVC_MAX];	/* channel per service, or -1 */
	struct sandbox_status	 sandbox;
	uint32_t		 next_reqid;
	char			 client[64];	/* the peer's address */
	int			 client_v6;
	struct child_args	 args;		/* from the master (-o ...) */
};

/*
 * Parse the master's arguments (-u -g -j [-d] -i ID -k KIND -H HOSTNAME),
 * check the inherited descriptors, set up logging to the master, load the
 * TLS context from SP_FD_TLS, then confine: jail, drop to the role's user,
 * sandbox (role).  Then tell the master we are ready.  Exits on any
 * error: the master, not the client, gave these.  timeout_ms is the idle
 * timeout.  From here on the session only reads, writes and talks IPC on
 * descriptors it already holds; SIGTERM makes io_getline return IO_STOP.
 */
void	session_init(struct session *, int argc, char **argv,
	    const char *proc, enum sp_role role, int timeout_ms);
/*
 * Ask service svc and wait for its reply (same type, same id) within
 * SP_IPC_TIMEOUT_MS.  0 with the reply in *reply; -1 when the channel is
 * missing or broken, or the reply is malformed: the caller answers with a
 * temporary error (the service may be restarting) and ends the session.
 */
int	session_call(struct session *, enum sp_service svc, struct ipc_out *,
	    struct ipc_msg *reply);
/*
 * TLS handshake on the client connection (implicit TLS, or STARTTLS).
 * Logs event=tls with the version and cipher.  -1 on failure (logged);
 * the caller then ends the session.
 */
int	session_tls_start(struct session *);
/*
 * Send a reply of ours (at most SESSION_REPLY_MAX bytes; client text must
 * never be a format).  A write error or timeout ends the session.
 */
#define SESSION_REPLY_MAX	1024
void	session_reply(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
#ifdef SP_TEST_HOOKS
/*
 * Test hooks only (--enable-test-hooks): the hidden XSPTEST command.
 * args: " HEALTH SVC", " GARBAGE SVC", " OPEN", " EXEC", " SOCKET",
 * " FORGE" (claim a login to the master), " AUTHLOGIN USER" (ask auth).
 * Writes a one-line result to reply.  Never compiled in a normal build.
 */
void	session_test_hook(struct session *, const char *args, char *reply,
	    size_t len);
#endif
/*
 * After a login: relay bytes between the client (TLS) and the mail
 * process on fd until either side closes, then end the session.  What the
 * client sent beyond the login command goes first.
 */
void	session_proxy(struct session *, int fd) __attribute__((noreturn));
/*
 * After auth said yes to a login: wait for the master's word that the
 * account's mail process is there (IMSG_MASTER_MAIL_READY), log
 * event=login, and give its socket in *fd_r.  0, or -1 (no mail process:
 * the caller answers with a temporary error).
 */
int	session_wait_mail(struct session *, int *fd_r);
/* Log event=disconnect with reason, close TLS and the socket, exit 0. */
void	session_end(struct session *, const char *reason)
	    __attribute__((noreturn));

#endif
