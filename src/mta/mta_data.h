/* SPDX-License-Identifier: ISC */
/*
 * mta_data.h - a message made into what goes after the outbound client's
 * DATA (RFC 5321 4.5.2): every line ends in CR LF (a lone CR or LF, which
 * our own SMTP server never stores but a bounce or a future BINARYMIME
 * body might hold, becomes CR LF: SECURITY-TESTS T02, never a bare CR or
 * LF on the wire), every line that starts with "." gets another, and the
 * end is CR LF "." CR LF.  Streaming, no I/O: fuzzed against our own
 * server's reader (tests/fuzz/fuzz_mta_data.c).
 */
#ifndef SP_MTA_DATA_H
#define SP_MTA_DATA_H

#include <stddef.h>
#include <stdint.h>

/* room mta_data_encode needs for n input bytes, and mta_data_finish */
#define MTA_DATA_OUT_MAX(n)	(2 * (n) + 2)
#define MTA_DATA_FINISH_MAX	7

struct mta_data {
	int		bol;		/* at the start of a line */
	int		cr;		/* a CR seen, its LF not yet */
	uint64_t	lines;		/* lines written */
	uint64_t	stuffed;	/* dots doubled */
};

void	mta_data_init(struct mta_data *);
/* Encode n bytes into out (MTA_DATA_OUT_MAX(n) bytes): the bytes written. */
size_t	mta_data_encode(struct mta_data *, const unsigned char *in, size_t n,
	    unsigned char *out);
/* The end: a last CR LF if the message did not end with one, then
 * "." CR LF.  The bytes written to out (MTA_DATA_FINISH_MAX bytes). */
size_t	mta_data_finish(struct mta_data *, unsigned char *out);

#endif
