/* SPDX-License-Identifier: ISC */
/*
 * buf.h - growable byte buffers with a hard maximum.
 *
 * No call grows a buffer past its max: buf_add and buf_addf return -1 with
 * errno ENOBUFS instead.  The data is always NUL-terminated (buf_cstr).
 */
#ifndef SP_BUF_H
#define SP_BUF_H

#include <stddef.h>
#include <stdint.h>

#define BUF_SECRET	0x01	/* wipe with sodium_memzero on free and growth */

struct buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	int	 flags;
};

/* A new empty buffer that will never hold more than max bytes. */
struct buf	*buf_new(size_t max);
struct buf	*buf_new_flags(size_t max, int flags);
/* Append; -1 (errno ENOBUFS) when len + n would pass max, buffer unchanged. */
int		 buf_add(struct buf *, const void *, size_t);
int		 buf_addf(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/*
 * Room for n more bytes at data + len, to be written in place and then
 * counted with buf_advance (at most n); -1 (ENOBUFS) past max.
 */
int		 buf_grow(struct buf *, size_t n);
void		 buf_advance(struct buf *, size_t n);
/* The contents as a C string; the buffer keeps ownership. */
const char	*buf_cstr(const struct buf *);
void		 buf_reset(struct buf *);
/* Free (wiping secrets) and set *bp to NULL; NULL is fine. */
void		 buf_free(struct buf **bp);

#endif
