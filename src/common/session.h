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
	char			 peer[80];	/* "ADDR:PORT", for logs */
	unsigned int		 errors;	/* bad commands so far */
};

/*
 * Parse the master's arguments (-i ID -k KIND -H HOSTNAME [-d]), check
 * the inherited descriptors, set up logging to the master and load the
 * TLS context from SP_FD_TLS when there is one.  Exits on any error: the
 * master, not the client, gave these.  timeout_ms is the idle timeout.
 */
void	session_init(struct session *, int argc, char **argv,
	    const char *proc, int timeout_ms);
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
/* Log event=disconnect with reason, close TLS and the socket, exit 0. */
void	session_end(struct session *, const char *reason)
	    __attribute__((noreturn));

#endif
