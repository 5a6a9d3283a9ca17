/* SPDX-License-Identifier: ISC */
/*
 * smtp_data.h - the message body reader of an SMTP transaction: bytes as
 * the client sent them (DATA: dot-stuffed, ended by CRLF "." CRLF; BDAT:
 * counted chunks) in, message bytes out to a sink.  No I/O of its own,
 * so that it is fuzzed as it runs (tests/fuzz/fuzz_smtp_data.c).
 *
 * Strict by design (SMTP smuggling, RFC 5321 2.3.8): a line ends with CR
 * LF and nothing else.  A bare LF, a bare CR or a NUL is recorded; after
 * a bare CR or LF in DATA the session must close the connection at once,
 * since the client and we may disagree about where the message ends.
 */
#ifndef SP_SMTP_DATA_H
#define SP_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_TEXT_LINE_MAX	1000	/* RFC 5321 4.5.3.1.6, with CRLF */
#define SMTP_DATA_STAGE		16384

/* What went wrong (flags: any may be set together) */
#define SMTP_DATA_BARE_LF	0x01
#define SMTP_DATA_BARE_CR	0x02
#define SMTP_DATA_NUL		0x04
#define SMTP_DATA_LONG_LINE	0x08	/* a line over SMTP_TEXT_LINE_MAX */
#define SMTP_DATA_TOO_BIG	0x10	/* more than max bytes */
#define SMTP_DATA_SINK		0x20	/* the sink failed */
#define SMTP_DATA_UNENDED	0x40	/* BDAT LAST: the last line has no CRLF */

struct smtp_data {
	int		 state;
	bool		 dot;		/* DATA: dot-stuffed, "." ends it */
	bool		 done;		/* DATA: CRLF "." CRLF seen */
	unsigned int	 flags;		/* SMTP_DATA_* */
	uint64_t	 size;		/* message bytes given to the sink */
	uint64_t	 max;		/* bytes the sink may get */
	uint64_t	 seen;		/* message bytes read, sent or not */
	size_t		 linelen;	/* of the current line */
	int		(*sink)(void *, const void *, size_t);	/* 0 or -1 */
	void		*arg;
	size_t		 nstage;
	unsigned char	 stage[SMTP_DATA_STAGE];
};

/*
 * Start a body: dot for DATA, not for BDAT (where the chunks of a
 * transaction go to the same reader, one smtp_data_feed per chunk).  The
 * sink gets at most max bytes; bytes past max are counted (seen) and
 * dropped.
 */
void	smtp_data_init(struct smtp_data *, bool dot, uint64_t max,
	    int (*sink)(void *, const void *, size_t), void *arg);
/*
 * Read n bytes.  Returns how many were consumed: all of them, except in
 * DATA when the end is among them (done is then set and the rest is the
 * client's next command, pipelined).  The sink is called when the stage
 * fills and at the end.
 */
size_t	smtp_data_feed(struct smtp_data *, const unsigned char *p, size_t n);
/*
 * BDAT LAST (or the end of DATA, where it changes nothing): flush the
 * stage and check that the message ends at a line end.  The flags then
 * say whether the message may be accepted (0) or why not.
 */
void	smtp_data_finish(struct smtp_data *);

#endif
