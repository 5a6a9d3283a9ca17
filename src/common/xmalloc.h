/* SPDX-License-Identifier: ISC */
/*
 * xmalloc.h - allocation that cannot fail: out of memory is fatal.
 * For our own structures only; key material goes in sodium_malloc memory.
 */
#ifndef SP_XMALLOC_H
#define SP_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

#endif
