/* SPDX-License-Identifier: ISC */
/*
 * downgrade.h - a message's top-level header block as an IMAP client that
 * has not enabled UTF8=ACCEPT may see it (RFC 6855 section 7, in the
 * spirit of RFC 6857 and RFC 6858): 7-bit only.  The rules are in
 * downgrade.c's top comment.
 *
 * Users: the account's mail process (FETCH of a header for such a
 * client), after meta_init.
 */
#ifndef SP_DOWNGRADE_H
#define SP_DOWNGRADE_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/*
 * The most bytes a new block may have: four times META_MAX_HDR_BLOCK,
 * above what the rules make of any block within that limit (encoded-words
 * and RFC 2231 make a byte at most about 3.5 bytes).
 */
#define DOWNGRADE_MAX_OUTPUT	(1024 * 1024)

/*
 * The header block hdr (len bytes: the header fields and the empty line
 * that ends them, if the message has one; CRLF or bare LF line ends as in
 * the message) as a client without UTF8=ACCEPT may see it: 7-bit only.
 * 0: nothing to do (every byte is 7-bit already; *out_r untouched);
 * 1: *out_r is a new buf (the caller's, buf_free) with the new block;
 * -1: error (malformed beyond repair, or a limit).
 *
 * hdr is hostile.  A 7-bit block is always 0, whatever its size; a block
 * with an 8-bit byte is -1 when it is longer than META_MAX_HDR_BLOCK,
 * holds more than META_MAX_HDR_FIELDS fields, has bytes after the empty
 * line, or would come out longer than DOWNGRADE_MAX_OUTPUT.  The new
 * block is 7-bit, has no NUL and no CR outside CRLF, no line longer than
 * 998 bytes, and downgrade_header returns 0 on it.  Calls meta_init (a
 * no-op when the process did so, as it must before its jail).  Not
 * thread-safe (GMime's state).
 */
int	downgrade_header(const char *hdr, size_t len, struct buf **out_r);
/*
 * The size of a message of size bytes whose header block is hdr (hlen
 * bytes, its start) as such a client reads it: the header downgraded,
 * the rest as it is; size itself when nothing needs (or can be)
 * downgraded.
 */
uint64_t downgrade_size(const char *hdr, size_t hlen, uint64_t size);

#endif
