/* SPDX-License-Identifier: ISC */
/*
 * queue_dsn.h - a delivery status notification (RFC 3464 in an RFC 6522
 * multipart/report): what the queue sends the envelope sender when mail
 * for some recipients failed for good or is delayed (issue 14).  No I/O:
 * fuzzed as it runs (tests/fuzz/fuzz_queue_dsn.c).
 */
#ifndef SP_QUEUE_DSN_H
#define SP_QUEUE_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DSN_FULL_MAX		((size_t)10 * 1024 * 1024)	/* RET=FULL */
#define DSN_HEADERS_MAX		((size_t)256 * 1024)	/* headers kept */
#define DSN_DIAG_MAX		400	/* bytes of a remote's reply kept */
#define DSN_RCPTS_MAX		1000

enum dsn_action {
	DSN_FAILED = 0,		/* permanent failure, or expired */
	DSN_DELAYED		/* still trying: the delay warning */
};

struct dsn_rcpt {
	const char	*addr;		/* the recipient as it was given */
	const char	*orcpt;		/* ORCPT= ("rfc822;addr"), or "" */
	enum dsn_action	 action;
	const char	*status;	/* "5.1.1": RFC 3463, checked */
	const char	*remote_mta;	/* the MX that answered, or "" */
	const char	*diag;		/* its reply (mta_reply's text: any
					 * bytes here are checked again) */
};

struct dsn_in {
	const char		*reporting_mta;	/* our host name */
	const char		*sender;	/* whom it goes to; never "" */
	const char		*envid;		/* ENVID=, or "" */
	int64_t			 arrival;	/* when we took the message */
	int64_t			 now;
	int			 ret_full;	/* RET=FULL: the whole message */
	const struct dsn_rcpt	*rcpts;
	size_t			 nrcpts;
	const unsigned char	*msg;		/* the original message */
	size_t			 msglen;
	const char		*boundary;	/* random, 16..60 [0-9a-zA-Z] */
};

/*
 * The notification into out, every line CR LF and at most 998 octets:
 * From: MAILER-DAEMON@reporting_mta, To: the sender, Auto-Submitted:
 * auto-replied (RFC 3834: no bounce of a bounce), a readable part, the
 * message/delivery-status part (one block per recipient), and the
 * original's header (text/rfc822-headers) or, with ret_full and at most
 * DSN_FULL_MAX bytes, the whole message (message/rfc822).  Every value
 * taken from the envelope or a remote is checked or made printable
 * ASCII.  0, or -1 with a message in err: a null or unusable sender (no
 * notification to the null sender, ever), no recipient, a bad boundary,
 * or a boundary found in the original (draw another).
 */
int	dsn_build(const struct dsn_in *, struct buf *out, char *err,
	    size_t errlen);

#endif
