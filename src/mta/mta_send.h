/* SPDX-License-Identifier: ISC */
/*
 * mta_send.h - one delivery attempt of one message to the recipients of
 * one domain: connect to the hosts the DNS gave, in order, speak SMTP
 * (mta_client.h) over plain TCP or STARTTLS, and come back with an
 * outcome per recipient.  Blocking I/O with a deadline on every reply and
 * write, run in a worker thread of the mta service (mta.c), so that a
 * slow or hostile remote holds one thread for a bounded time and nothing
 * else.
 */
#ifndef SP_MTA_SEND_H
#define SP_MTA_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mta_client.h"
#include "mta_dns.h"
#include "mta_tlspol.h"

#define MTA_SEND_CONNECTS_MAX	5	/* addresses tried per attempt */

struct ssl_ctx_st;
struct mta_conn;

struct mta_job {
	/* in */
	char			 qid[40];	/* for the logs */
	char			 domain[256];
	const char		*helo;		/* our host name */
	uint16_t		 port;		/* 25, or the test's */
	int			 timeout_ms;	/* per reply, per write */
	struct ssl_ctx_st	*tls;		/* NULL: no STARTTLS */
	struct mta_tlspol	 pol;		/* what each host's TLS needs */
	/* the smarthost's "AUTH PLAIN <base64>\r\n" (sodium_malloc,
	 * read-only; NULL: no AUTH) */
	const char		*auth_line;
	size_t			 auth_len;
	struct mta_client_msg	 m;
	const unsigned char	*body;		/* the message, CR LF lines */
	size_t			 bodylen;
	struct buf		*conv;		/* its 7-bit copy, once made
						 * (then body points into it) */
	struct mta_dest		 dest;
	/* out */
	struct mta_rcpt_result	 r[MTA_CLIENT_RCPTS_MAX];
	char			 remote[MTA_HOST_MAX + 1];	/* who answered */
	unsigned int		 connects;	/* connections made */
	unsigned int		 reused;	/* 1: an idle connection */
	int			 tls_used;
	char			 tls_how[96];	/* "pkix(policy)"... for the
						 * log, of the last host */
};

/*
 * Run the attempt (blocking, for a worker thread): every j->r[i] ends
 * OK, TEMP or PERM.  Connections left in a reusable state go to the idle
 * cache (mta_conn_idle_*), and one for j->domain is taken from it first.
 */
void	mta_send_run(struct mta_job *j);

/*
 * The idle cache: connections that ended a transaction cleanly, kept for
 * the next message to the same domain (one connection carries several
 * messages).  mta_conn_idle_expire closes (QUIT) those idle for longer
 * than idle_ms, or all with idle_ms 0; thread-safe.
 */
void	mta_conn_idle_expire(long idle_ms);
size_t	mta_conn_idle_count(void);

/* The xtext (RFC 3461 4) of s into out; -1 when it does not fit. */
int	mta_xtext(const char *s, char *out, size_t outlen);

#endif
