/* SPDX-License-Identifier: ISC */
/*
 * filter_headers.h - the message sanity checks a careful MX makes before
 * it accepts a message (RFC 5322 3.6 and 2.2): the header block parses,
 * it is not too large, From: and Date: are there, and no field that may
 * appear once appears twice.
 */
#ifndef SP_FILTER_HEADERS_H
#define SP_FILTER_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#define FH_BLOCK_MAX	(256 * 1024)	/* header bytes, = the metadata
					   builder's META_MAX_HDR_BLOCK */
#define FH_FIELDS_MAX	1000		/* header fields */

/*
 * Check the header block at the start of the len bytes at msg (complete:
 * they are the whole message, else a prefix of at least FH_BLOCK_MAX + 2
 * bytes).  added_lines: lines our own session put on top (its Received:),
 * not counted when a refusal names a line of what the client sent.  0 when the message may be accepted; otherwise the SMTP reply
 * for the refusal ("550 5.6.0 ...", no CRLF; never quoting the message)
 * in reply and -1.
 */
int	filter_headers_check(const unsigned char *msg, size_t len,
	    bool complete, size_t added_lines, char *reply, size_t replylen);

#endif
