/* SPDX-License-Identifier: ISC */
/*
 * ctl_client.h - sealpostctl talking to a running sealpostd through its
 * control socket (ctl_client.c).
 */
#ifndef SP_CTL_CLIENT_H
#define SP_CTL_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#define CTL_MESSAGE_MAX		((size_t)64 * 1024 * 1024)

/* The socket: sock when given (-s), else RUN_DIR/control.sock of the
 * configuration.  0, or -1 with the reason printed. */
int	ctl_socket_path(const char *conffile, const char *sock, char *path,
	    size_t len);

/*
 * Send one request line (with sendfd, a sealed memfd, attached when not
 * -1; it is not closed) and return the parsed JSON answer (the caller's,
 * json_decref).  Exits with a message when sealpostd cannot be reached
 * or gives no valid answer.
 */
json_t	*ctl_ask(const char *sock, const char *req);
json_t	*ctl_ask_fd(const char *sock, const char *req, int sendfd);
/* The string member k of o, or "?". */
const char *ctl_jstr(json_t *o, const char *k);

/*
 * Deliver len bytes at buf to the local address addr through the running
 * server (auth for the account and quota, deliver for the sealed write;
 * into INBOX, not filtered).  The server's message in msg.  Returns 0
 * delivered, 67 (EX_NOUSER) no such recipient, 75 (EX_TEMPFAIL) over
 * quota or try again, 1 otherwise.
 */
int	ctl_deliver_buf(const char *sock, const char *addr, const void *buf,
	    size_t len, char *msg, size_t msglen);

#endif
