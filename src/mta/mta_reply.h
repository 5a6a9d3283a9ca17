/* SPDX-License-Identifier: ISC */
/*
 * mta_reply.h - the outbound client's reading of a remote server's reply
 * (RFC 5321 4.2): one line at a time, fed by whoever reads the socket, so
 * that it is fuzzed as it runs (tests/fuzz/fuzz_mta_reply.c).  The remote
 * is hostile (SECURITY-TESTS T48, F16): every line and the whole reply are
 * bounded, codes are three digits of RFC 5321's classes and equal on every
 * line, and the text kept for logs and bounces holds printable ASCII only.
 * EHLO's keywords are read from the kept lines (mta_reply_ehlo).
 */
#ifndef SP_MTA_REPLY_H
#define SP_MTA_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define MTA_REPLY_LINE_MAX	512	/* RFC 5321 4.5.3.1.5, with CRLF */
#define MTA_REPLY_LINES_MAX	100	/* a multi-line reply */
#define MTA_REPLY_TEXT_MAX	1024	/* text kept, lines joined */
#define MTA_REPLY_STATUS_MAX	15	/* "5.7.1", RFC 3463: 3.3.3 digits */

/* mta_reply_line's answers */
#define MTA_REPLY_MORE		0	/* a "NNN-" line: more to come */
#define MTA_REPLY_DONE		1	/* the last line: the reply is whole */
#define MTA_REPLY_BAD		(-1)	/* malformed: the session is over */

/* EHLO extensions (mta_reply_ehlo) */
#define MTA_EXT_STARTTLS	0x0001
#define MTA_EXT_8BITMIME	0x0002
#define MTA_EXT_SMTPUTF8	0x0004
#define MTA_EXT_SIZE		0x0008
#define MTA_EXT_PIPELINING	0x0010
#define MTA_EXT_CHUNKING	0x0020
#define MTA_EXT_DSN		0x0040
#define MTA_EXT_ENHANCED	0x0080	/* ENHANCEDSTATUSCODES */
#define MTA_EXT_AUTH		0x0100

struct mta_reply {
	int		code;		/* 200..599, when DONE */
	unsigned int	nlines;
	int		done;
	/* the enhanced status code of the first line, when it has one whose
	 * class matches the code (RFC 2034, 3463); "" otherwise */
	char		status[MTA_REPLY_STATUS_MAX + 1];
	/* every line's text (after "NNN-" and any status code), printable
	 * ASCII (anything else as '?'), joined by " / ", cut at the limit */
	char		text[MTA_REPLY_TEXT_MAX + 1];
	size_t		textlen;
	/* the lines as they came (after "NNN-"), NUL-separated, for EHLO */
	char		lines[MTA_REPLY_LINES_MAX * 128];
	size_t		lineslen;
};

struct mta_ehlo {
	unsigned int	exts;		/* MTA_EXT_* */
	uint64_t	size;		/* SIZE's value; 0: none given */
	int		auth_plain;	/* AUTH offers PLAIN */
};

void	mta_reply_init(struct mta_reply *);
/*
 * One line of the reply, without its CR LF (len bytes; the reader cuts a
 * line longer than MTA_REPLY_LINE_MAX and passes it whole: it is refused
 * here).  MORE, DONE, or BAD with a reason in *why (static).  After DONE
 * or BAD the reply takes no more lines (BAD).
 */
int	mta_reply_line(struct mta_reply *, const char *line, size_t len,
	    const char **why);
/* The extensions a whole EHLO reply offers (its lines after the first). */
void	mta_reply_ehlo(const struct mta_reply *, struct mta_ehlo *);

#endif
