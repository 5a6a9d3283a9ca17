/* SPDX-License-Identifier: ISC */
/*
 * xmalloc.c - allocation wrappers that call fatal() on failure.
 *
 * Process:  all.
 * Trust:    sizes come from our code; products are checked by
 *           reallocarray/calloc.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"
#include "banned.h"

void *
xmalloc(size_t size)
{
	void	*p;

	SP_ASSERT(size != 0);
	if ((p = malloc(size)) == NULL)
		fatal("malloc %zu", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	SP_ASSERT(n != 0 && size != 0);
	if ((p = calloc(n, size)) == NULL)
		fatal("calloc %zu x %zu", n, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void	*p;

	SP_ASSERT(n != 0 && size != 0);
	if ((p = reallocarray(ptr, n, size)) == NULL)
		fatal("reallocarray %zu x %zu", n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("strndup");
	return p;
}
