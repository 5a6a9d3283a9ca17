/* SPDX-License-Identifier: ISC */
/*
 * buf.c - bounded growable buffers (see buf.h).
 *
 * Process:  all.
 * Trust:    lengths are checked before any arithmetic (len > max - used).
 * Limits:   each buffer's own max, fixed at creation.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "buf.h"
#include "banned.h"

struct buf *
buf_new_flags(size_t max, int flags)
{
	struct buf	*b;

	SP_ASSERT(max < SIZE_MAX - 1);
	b = xcalloc(1, sizeof(*b));
	b->max = max;
	b->flags = flags;
	b->cap = max < 64 ? max + 1 : 64;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
	return b;
}

struct buf *
buf_new(size_t max)
{
	return buf_new_flags(max, 0);
}

int
buf_grow(struct buf *b, size_t n)
{
	size_t	 need, ncap;
	uint8_t	*nd;

	if (n > b->max - b->len) {
		errno = ENOBUFS;
		return -1;
	}
	need = b->len + n + 1;		/* + NUL; cannot wrap: max < SIZE_MAX-1 */
	if (need <= b->cap)
		return 0;
	ncap = b->cap;
	while (ncap < need)
		ncap = ncap > (b->max + 1) / 2 ? b->max + 1 : ncap * 2;
	nd = xmalloc(ncap);
	memcpy(nd, b->data, b->len + 1);
	if (b->flags & BUF_SECRET)
		sodium_memzero(b->data, b->cap);
	free(b->data);
	b->data = nd;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (buf_grow(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *
buf_cstr(const struct buf *b)
{
	return (const char *)b->data;
}

void
buf_reset(struct buf *b)
{
	if (b->flags & BUF_SECRET)
		sodium_memzero(b->data, b->cap);
	b->len = 0;
	b->data[0] = '\0';
}

void
buf_free(struct buf **bp)
{
	struct buf	*b = *bp;

	if (b == NULL)
		return;
	if (b->flags & BUF_SECRET)
		sodium_memzero(b->data, b->cap);
	free(b->data);
	free(b);
	*bp = NULL;
}

void
buf_advance(struct buf *b, size_t n)
{
	SP_ASSERT(n < b->cap - b->len);
	b->len += n;
	b->data[b->len] = '\0';
}
