/* SPDX-License-Identifier: ISC */
/*
 * imap_seqset.c - IMAP sequence sets (imap_seqset.h).
 *
 * Process:  imap-mail.
 * Trust:    the set is the client's: every number is range-checked, the
 *           item count is bounded (IMAP_SEQSET_ITEMS_MAX), and the result
 *           has at most as many ranges as items, however large the
 *           numbers, so "1:4294967295" costs one range, not four billion.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "imap_seqset.h"
#include "banned.h"

/* One seq-number at *p: 1 to 2^32-1, or "*"; advances *p. */
static int
ss_number(const char **p, const char *end, uint32_t star, uint32_t *v)
{
	uint64_t	n = 0;

	if (*p < end && **p == '*') {
		(*p)++;
		*v = star;
		return 0;
	}
	if (*p == end || **p < '1' || **p > '9')
		return -1;		/* nz-number: no leading zero */
	while (*p < end && **p >= '0' && **p <= '9') {
		n = n * 10 + (uint64_t)(**p - '0');
		if (n > UINT32_MAX)
			return -1;
		(*p)++;
	}
	*v = (uint32_t)n;
	return 0;
}

static int
ss_cmp(const void *a, const void *b)
{
	const struct imap_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int
imap_seqset_parse(const char *s, size_t len, uint32_t star,
    struct imap_seqset *set, const char **errstr_r)
{
	const char		*p = s, *end = s + len;
	struct imap_range	*r = NULL;
	size_t			 n = 0, i, m;
	uint32_t		 a, b;

	if (len == 0) {
		*errstr_r = "empty sequence set";
		return -1;
	}
	for (;;) {
		if (n == IMAP_SEQSET_ITEMS_MAX) {
			*errstr_r = "sequence set too long";
			goto fail;
		}
		if (ss_number(&p, end, star, &a) == -1) {
			*errstr_r = "invalid sequence number";
			goto fail;
		}
		b = a;
		if (p < end && *p == ':') {
			p++;
			if (ss_number(&p, end, star, &b) == -1) {
				*errstr_r = "invalid sequence range";
				goto fail;
			}
		}
		if (n % 64 == 0)
			r = xreallocarray(r, n + 64, sizeof(*r));
		r[n].lo = a < b ? a : b;
		r[n].hi = a < b ? b : a;
		n++;
		if (p == end)
			break;
		if (*p != ',' || p + 1 == end) {
			*errstr_r = "invalid sequence set";
			goto fail;
		}
		p++;
	}
	/* "*" in an empty mailbox is 0: no such number, drop it */
	for (i = 0, m = 0; i < n; i++)
		if (r[i].hi != 0)
			r[m++] = (struct imap_range){ r[i].lo == 0 ? 1 :
			    r[i].lo, r[i].hi };
	n = m;
	qsort(r, n, sizeof(*r), ss_cmp);
	for (i = 0, m = 0; i < n; i++) {
		if (m > 0 && (uint64_t)r[i].lo <= (uint64_t)r[m - 1].hi + 1) {
			if (r[i].hi > r[m - 1].hi)
				r[m - 1].hi = r[i].hi;
		} else
			r[m++] = r[i];
	}
	set->r = r;
	set->n = m;
	return 0;
fail:
	free(r);
	return -1;
}

bool
imap_seqset_has(const struct imap_seqset *set, uint32_t v)
{
	size_t	lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v < set->r[mid].lo)
			hi = mid;
		else if (v > set->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint32_t
imap_seqset_max(const struct imap_seqset *set)
{
	return set->n > 0 ? set->r[set->n - 1].hi : 0;
}

void
imap_seqset_free(struct imap_seqset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = 0;
}
