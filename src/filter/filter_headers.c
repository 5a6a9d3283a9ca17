/* SPDX-License-Identifier: ISC */
/*
 * filter_headers.c - RFC 5322 sanity checks of a message's header block
 * (filter_headers.h).
 *
 * Process:  filter (and its fuzz target tests/fuzz/fuzz_filter_headers.c).
 * Trust:    the message is hostile.  One pass over at most FH_BLOCK_MAX
 *           bytes; nothing is copied or kept but counters; replies name
 *           a field by our own spelling and a line by its number, never
 *           with the sender's bytes.
 *
 * What is refused, each with its reply:
 *	header block over FH_BLOCK_MAX bytes	552 5.3.4
 *	more than FH_FIELDS_MAX fields		552 5.3.4
 *	a line that is neither "name:" nor a continuation (RFC 5322 2.2:
 *	    a name is printable ASCII but ':'), or starts the block with
 *	    white space				550 5.6.0
 *	no From: or no Date: (RFC 5322 3.6)	550 5.6.0
 *	a second From:, Sender:, Reply-To:, To:, Cc:, Bcc:, Date:,
 *	    Message-ID:, In-Reply-To:, References: or Subject: (RFC 5322
 *	    3.6: at most one each)		550 5.6.0
 * Lines end with CRLF (the session refused anything else).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "filter_headers.h"
#include "banned.h"

/* The fields RFC 5322 3.6 allows once; From and Date are also required. */
static const char *const fh_once[] = {
	"From", "Date", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"Message-ID", "In-Reply-To", "References", "Subject"
};
#define FH_NONCE	(sizeof(fh_once) / sizeof(fh_once[0]))

int
filter_headers_check(const unsigned char *msg, size_t len, bool complete,
    size_t added_lines, char *reply, size_t replylen)
{
	unsigned int	 count[FH_NONCE];
	const unsigned char *p = msg, *end = msg + len, *eol, *colon;
	size_t		 i, n, fields = 0, line = 0;

	memset(count, 0, sizeof(count));
	while (p < end) {
		line++;
		eol = memchr(p, '\n', (size_t)(end - p));
		n = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;			/* the blank line: body next */
		if ((size_t)(p - msg) + n > FH_BLOCK_MAX)
			goto toolarge;
		if (p[0] == ' ' || p[0] == '\t') {
			if (fields == 0) {
				snprintf(reply, replylen, "550 5.6.0 Message "
				    "header starts with a continuation line");
				return -1;
			}
		} else {
			for (i = 0; i < n && p[i] > 32 && p[i] < 127 &&
			    p[i] != ':'; i++)
				;
			colon = i < n && p[i] == ':' ? p + i : NULL;
			if (colon == NULL || i == 0) {
				snprintf(reply, replylen, "550 5.6.0 Malformed "
				    "message header line %zu (RFC 5322 2.2)",
				    line > added_lines ? line - added_lines :
				    line);
				return -1;
			}
			if (++fields > FH_FIELDS_MAX) {
				snprintf(reply, replylen, "552 5.3.4 Too many "
				    "header fields (at most %d)",
				    FH_FIELDS_MAX);
				return -1;
			}
			for (size_t k = 0; k < FH_NONCE; k++)
				if (strlen(fh_once[k]) == i &&
				    strncasecmp((const char *)p, fh_once[k],
				    i) == 0 && ++count[k] > 1) {
					snprintf(reply, replylen, "550 5.6.0 "
					    "More than one %s: header field "
					    "(RFC 5322 3.6)", fh_once[k]);
					return -1;
				}
		}
		if (eol == NULL) {
			p = end;
			break;
		}
		p = eol + 1;
	}
	if (p >= end && !complete)
		goto toolarge;		/* no end of the block in what we read */
	if (count[0] == 0 || count[1] == 0) {
		snprintf(reply, replylen, "550 5.6.0 Message has no %s: header "
		    "field (RFC 5322 3.6)", count[0] == 0 ? "From" : "Date");
		return -1;
	}
	return 0;
toolarge:
	snprintf(reply, replylen, "552 5.3.4 Message header larger than %d "
	    "bytes", FH_BLOCK_MAX);
	return -1;
}
