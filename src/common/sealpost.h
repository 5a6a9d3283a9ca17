/* SPDX-License-Identifier: ISC */
/*
 * sealpost.h - process kinds, file descriptor conventions and limits that
 * several programs share.  No prototypes here: each module has its own header.
 */
#ifndef SP_SEALPOST_H
#define SP_SEALPOST_H

#include <stdint.h>

/*
 * Descriptors a child finds open when the master execs it (qmail style:
 * the interface between programs is a set of fds).  0 and 1 are
 * /dev/null, 2 is the master's stderr (sanitizer reports).
 *
 * Sessions:                       Services:
 *   3 the client connection         3 unused (closed)
 *   4 log datagrams to the master   4 log datagrams to the master
 *   5 TLS material (sealed memfd)   5 unused
 *   6 IPC channel to the master     6 IPC channel to the master
 *   7 TLS ticket keys (sealed memfd) 7 unused
 *   8.. one IPC channel per service the role may use (SP_FD_SVC(i)),
 *       closed when the role may not use that service
 * The control service also gets its listening unix socket on 3.
 */
#define SP_FD_CLIENT	3
#define SP_FD_CTLSOCK	3
#define SP_FD_LOG	4
#define SP_FD_TLS	5
#define SP_FD_KEY	5	/* mail processes (no TLS): auth hands the key */
#define SP_FD_POLICY	5	/* the filter: the policy image (sealed memfd) */
#define SP_FD_MASTER	6
#define SP_FD_TICKETS	7
#define SP_FD_SVC_BASE	8
#define SP_FD_SVC(i)	(SP_FD_SVC_BASE + (i))

/* Services, in the order of their SP_FD_SVC slots. */
enum sp_service {
	SVC_AUTH = 0,
	SVC_FILTER,
	SVC_DELIVER,
	SVC_QUEUE,
	SVC_CONTROL,
	SVC_PGP,
	SVC_MTA,
	SVC_SIGNER,
	SVC_MAX
};
#define SP_FD_FIRST_FREE SP_FD_SVC(SVC_MAX)

/* Listener kinds: the protocol and whether TLS starts at connect. */
enum sp_listener_kind {
	SP_LISTEN_SMTP = 0,	/* 25: MX */
	SP_LISTEN_SUBMISSION,	/* 587: submission with STARTTLS */
	SP_LISTEN_SUBMISSIONS,	/* 465: submission over implicit TLS */
	SP_LISTEN_IMAP,		/* 143 */
	SP_LISTEN_IMAPS,	/* 993 */
	SP_LISTEN_POP3,		/* 110 */
	SP_LISTEN_POP3S,	/* 995 */
	SP_LISTEN_KIND_MAX
};
/* Not a listener: the control service's channels to auth and deliver. */
#define SP_KIND_CONTROL	SP_LISTEN_KIND_MAX
/* Not a listener: the queue service's channels to mta, auth, deliver and
 * signer. */
#define SP_KIND_QUEUE	(SP_LISTEN_KIND_MAX + 1)
/* Not a listener: the pgp service's channel to the mta (WKD lookups). */
#define SP_KIND_PGP	(SP_LISTEN_KIND_MAX + 2)

/* Limits with names (STYLE.md 1.4). */
#define SP_CONF_MAX_SIZE	(1024 * 1024)	/* sealpost.conf file size */
#define SP_CONF_LINE_MAX	4096		/* one line of sealpost.conf */
#define SP_CONF_MAX_LISTENERS	64
#define SP_CONF_MAX_DOMAINS	4096
#define SP_HOSTNAME_MAX		253		/* RFC 1035 2.3.4 */
#define SP_LOG_LINE_MAX		2048		/* one log datagram */
#define SP_TLS_BLOB_MAX		(256 * 1024)	/* certificate chain + key */
#define SP_TLS_HANDSHAKE_TIMEOUT 30		/* seconds (SECURITY-TESTS T17) */
#define SP_IPC_TIMEOUT_MS	(30 * 1000)	/* a service's reply to a session */

#endif
