/* SPDX-License-Identifier: ISC */
/*
 * imap_seqset.h - IMAP sequence sets (RFC 3501 9: "1:4,7,9:*"), parsed
 * into sorted, merged, bounded ranges, for FETCH, STORE, COPY, MOVE,
 * EXPUNGE and SEARCH, message numbers and UIDs alike.  No I/O; fuzzed
 * (tests/fuzz/fuzz_imap_seqset.c).
 */
#ifndef SP_IMAP_SEQSET_H
#define SP_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_SEQSET_ITEMS_MAX	10000	/* comma-separated items */

struct imap_range {
	uint32_t	lo, hi;		/* lo <= hi */
};

struct imap_seqset {
	struct imap_range	*r;	/* sorted, disjoint, not adjacent */
	size_t			 n;
};

/*
 * Parse len bytes of s.  star is what "*" stands for: the largest number
 * in use (the message count, or the highest UID), 0 in an empty mailbox
 * (a set naming "*" there is then empty for UIDs; callers of message
 * numbers refuse it).  Numbers are nz-number (1 to 2^32-1, no leading
 * zero); a range may be given either way round ("5:2" is "2:5").  0, or
 * -1 with a static reason in *errstr_r (set untouched).
 */
int	imap_seqset_parse(const char *s, size_t len, uint32_t star,
	    struct imap_seqset *, const char **errstr_r);
/* Does the set contain v? (binary search) */
bool	imap_seqset_has(const struct imap_seqset *, uint32_t v);
/* The largest number in the set, 0 when empty. */
uint32_t imap_seqset_max(const struct imap_seqset *);
void	imap_seqset_free(struct imap_seqset *);

#endif
