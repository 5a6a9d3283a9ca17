/* SPDX-License-Identifier: ISC */
/*
 * fuzz_policy.c - libFuzzer target for the policy language (src/policy,
 * SECURITY-TESTS F11).  The input is cut at each "\n--8<--\n" into at most
 * four files, a.policy to d.policy, each copied to a buffer of exactly its
 * size (ASan sees a read past it), and loaded as one set.  Invariants,
 * checked here without the parser's help:
 *  - failure: the error is one line of printable ASCII, starts with one of
 *    the file names, then ":LINE:COL: " and a message, and LINE:COL is a
 *    byte of that file or one past its end (end-of-file errors); a
 *    second load gives the same error;
 *  - success: for a few fixed contexts and one made of the input's own
 *    bytes (a hostile address), two evaluations give the same result;
 *    every value is in its range and every source names the built-in
 *    defaults, the defaults block or an existing rule; the group's bits,
 *    count and name agree; explain is 13 lines without control bytes,
 *    starting with the group's name; a second load of the same input
 *    explains every context identically.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy.h"
#include "banned.h"

#define FUZZ_FILES	4
#define FUZZ_SEP	"\n--8<--\n"
#define FUZZ_ADDR_MAX	512
#define FUZZ_EXPLAIN	(256 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_names[FUZZ_FILES] = {
	"a.policy", "b.policy", "c.policy", "d.policy"
};

static size_t
popcount64(uint64_t v)
{
	size_t	n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

/* Parse a decimal number at *s (at least one digit, no overflow). */
static unsigned long
number(const char **s)
{
	unsigned long	v = 0;

	SP_ASSERT(**s >= '0' && **s <= '9');
	while (**s >= '0' && **s <= '9') {
		SP_ASSERT(v < 100000000UL);
		v = v * 10 + (unsigned long)(**s - '0');
		(*s)++;
	}
	return v;
}

static void
check_error(const char *err, struct policy_file *f, size_t n)
{
	const char	*s;
	unsigned long	 line, col, l;
	size_t		 i, off, nl;

	SP_ASSERT(err[0] != '\0');
	for (s = err; *s != '\0'; s++)
		SP_ASSERT(*s >= 0x20 && *s < 0x7f);
	for (i = 0; i < n; i++)
		if (strncmp(err, f[i].name, strlen(f[i].name)) == 0 &&
		    err[strlen(f[i].name)] == ':')
			break;
	SP_ASSERT(i < n);
	s = err + strlen(f[i].name) + 1;
	line = number(&s);
	SP_ASSERT(*s++ == ':');
	col = number(&s);
	SP_ASSERT(*s++ == ':' && *s++ == ' ' && *s != '\0');
	SP_ASSERT(line >= 1 && col >= 1);
	/* the line exists, and the column is in it or one past the file */
	off = 0;
	for (l = 1; l < line; l++) {
		const char *p = memchr((const char *)f[i].data + off, '\n',
		    f[i].len - off);

		SP_ASSERT(p != NULL);
		off = (size_t)(p - (const char *)f[i].data) + 1;
	}
	nl = off;
	while (nl < f[i].len && ((const char *)f[i].data)[nl] != '\n')
		nl++;
	SP_ASSERT(col - 1 <= nl - off);
	SP_ASSERT(off + col - 1 <= f[i].len);
}

static bool
same_result(const struct policy_result *a, const struct policy_result *b)
{
	const struct policy_values	*x = &a->v, *y = &b->v;

	return x->max_size == y->max_size && x->pgp == y->pgp &&
	    x->tls == y->tls && x->sign == y->sign &&
	    x->protect_subject == y->protect_subject &&
	    x->antivirus == y->antivirus &&
	    x->spam_reject == y->spam_reject &&
	    x->spam_junk == y->spam_junk && x->spam_tag == y->spam_tag &&
	    x->scanner_failure == y->scanner_failure &&
	    x->scanner_timeout == y->scanner_timeout &&
	    x->headers == y->headers &&
	    memcmp(a->src, b->src, sizeof(a->src)) == 0 &&
	    policy_group_eq(&a->group, &b->group) && a->ngroup == b->ngroup;
}

static void
check_score(int32_t v)
{
	SP_ASSERT(v == POLICY_SCORE_NEVER ||
	    (v >= POLICY_SCORE_MIN && v <= POLICY_SCORE_MAX));
}

static void
check_result(const struct policy *p, const struct policy_result *r,
    char *text)
{
	struct policy_stats	 st;
	const struct policy_values *v = &r->v;
	char			*name;
	size_t			 i, bits = 0, len, nlines = 0;
	int			 s;

	policy_stats(p, &st);
	SP_ASSERT(v->max_size == 0 || (v->max_size >= POLICY_SIZE_MIN &&
	    v->max_size <= POLICY_SIZE_MAX));
	SP_ASSERT(v->pgp <= POLICY_PGP_NEVER);
	SP_ASSERT(v->tls <= POLICY_TLS_REQUIRED);
	SP_ASSERT(v->antivirus <= POLICY_AV_QUARANTINE);
	SP_ASSERT(v->scanner_failure <= POLICY_SCANFAIL_ACCEPT);
	check_score(v->spam_reject);
	check_score(v->spam_junk);
	check_score(v->spam_tag);
	SP_ASSERT(v->scanner_timeout >= POLICY_TIMEOUT_MIN &&
	    v->scanner_timeout <= POLICY_TIMEOUT_MAX);
	SP_ASSERT((v->headers & ~(unsigned int)POLICY_HDR_ALL) == 0);
	for (s = 0; s < POLICY_SETTING_MAX; s++) {
		SP_ASSERT(r->src[s] == POLICY_SRC_BUILTIN ||
		    r->src[s] == POLICY_SRC_DEFAULTS ||
		    (r->src[s] >= 0 && (size_t)r->src[s] < st.rules));
		if (r->src[s] == POLICY_SRC_DEFAULTS)
			SP_ASSERT(st.defaults);
		/* a rule that set something is among the matched; one
		 * that set max-size or a DATA-phase setting in the group */
		if (r->src[s] >= 0)
			SP_ASSERT(r->matched.bits[r->src[s] / 64] &
			    (1ULL << (r->src[s] % 64)));
		if (r->src[s] >= 0 && (s == POLICY_MAX_SIZE ||
		    s >= POLICY_ANTIVIRUS))
			SP_ASSERT(r->group.bits[r->src[s] / 64] &
			    (1ULL << (r->src[s] % 64)));
	}
	for (i = 0; i < POLICY_GROUP_WORDS; i++) {
		/* the group is a subset of the matched rules */
		SP_ASSERT((r->group.bits[i] & ~r->matched.bits[i]) == 0);
		bits += popcount64(r->group.bits[i]);
	}
	SP_ASSERT(bits == r->ngroup && bits <= st.rules);
	for (bits = 0, i = 0; i < POLICY_GROUP_WORDS; i++)
		bits += popcount64(r->matched.bits[i]);
	SP_ASSERT(bits == r->nmatched && bits <= st.rules);

	name = malloc(FUZZ_EXPLAIN);
	SP_ASSERT(name != NULL);
	len = policy_group_name(p, &r->group, name, FUZZ_EXPLAIN);
	SP_ASSERT(len < FUZZ_EXPLAIN && strlen(name) == len);
	SP_ASSERT(r->ngroup > 0 || strcmp(name, "default") == 0);
	len = policy_explain(p, r, text, FUZZ_EXPLAIN);
	SP_ASSERT(len < FUZZ_EXPLAIN && strlen(text) == len);
	SP_ASSERT(strncmp(text, "group ", 6) == 0);
	SP_ASSERT(strncmp(text + 6, name, strlen(name)) == 0 &&
	    text[6 + strlen(name)] == '\n');
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)text[i];

		if (c == '\n')
			nlines++;
		else
			SP_ASSERT(c >= 0x20 && c != 0x7f && !(c == 0xc2 &&
			    (unsigned char)text[i + 1] < 0xa0));
	}
	SP_ASSERT(nlines == 2 + POLICY_SETTING_MAX);	/* group, rules */
	SP_ASSERT(text[len - 1] == '\n');
	free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_file	 f[FUZZ_FILES];
	struct policy		*p, *q;
	struct policy_result	 r1, r2;
	struct policy_ctx	 ctx[6];
	char			 err[POLICY_ERR_MAX], err2[POLICY_ERR_MAX];
	char			 addr[FUZZ_ADDR_MAX + 1];
	char			*t1, *t2;
	const char		*s = (const char *)data, *sep;
	size_t			 n = 0, rest = size, i, k;

	/* cut the input into files */
	while (n < FUZZ_FILES) {
		sep = n + 1 < FUZZ_FILES ? memmem(s, rest, FUZZ_SEP,
		    strlen(FUZZ_SEP)) : NULL;
		k = sep != NULL ? (size_t)(sep - s) : rest;
		f[n].name = fuzz_names[n];
		f[n].len = k;
		f[n].data = NULL;
		if (k > 0) {
			char	*copy = malloc(k);

			SP_ASSERT(copy != NULL);
			f[n].data = memcpy(copy, s, k);
		}
		n++;
		if (sep == NULL)
			break;
		s = sep + strlen(FUZZ_SEP);
		rest -= k + strlen(FUZZ_SEP);
	}

	/* the same bytes as a policy image: bounded, never a crash */
	q = policy_image_load(data, size, err2, sizeof(err2));
	policy_free(q);

	p = policy_load_files(f, n, err, sizeof(err));
	q = policy_load_files(f, n, err2, sizeof(err2));
	SP_ASSERT((p == NULL) == (q == NULL));
	if (p == NULL) {
		check_error(err, f, n);
		SP_ASSERT(strcmp(err, err2) == 0);
		goto done;
	}

	/* the input's own bytes as an address, up to its first NUL */
	k = size < FUZZ_ADDR_MAX ? size : FUZZ_ADDR_MAX;
	memcpy(addr, data, k);
	addr[k] = '\0';
	memset(ctx, 0, sizeof(ctx));
	ctx[0] = (struct policy_ctx){ SP_LISTEN_SMTP, false,
	    "a@example.org", "b@legal.example.org" };
	ctx[1] = (struct policy_ctx){ SP_LISTEN_SUBMISSION, true,
	    "Counsel@Legal.Example.Org", NULL };
	ctx[2] = (struct policy_ctx){ SP_LISTEN_SUBMISSIONS, false, "",
	    "postmaster@example.org" };
	ctx[3] = (struct policy_ctx){ SP_LISTEN_IMAPS, true, "x@y", "z@w" };
	ctx[4] = (struct policy_ctx){ SP_LISTEN_SMTP, true, addr, addr };
	ctx[5] = (struct policy_ctx){ SP_LISTEN_SUBMISSION, false, NULL,
	    addr };
	t1 = malloc(FUZZ_EXPLAIN);
	t2 = malloc(FUZZ_EXPLAIN);
	SP_ASSERT(t1 != NULL && t2 != NULL);
	for (i = 0; i < sizeof(ctx) / sizeof(ctx[0]); i++) {
		policy_eval(p, &ctx[i], &r1);
		policy_eval(p, &ctx[i], &r2);
		SP_ASSERT(same_result(&r1, &r2));
		check_result(p, &r1, t1);
		policy_eval(q, &ctx[i], &r2);
		SP_ASSERT(same_result(&r1, &r2));
		(void)policy_explain(q, &r2, t2, FUZZ_EXPLAIN);
		SP_ASSERT(strcmp(t1, t2) == 0);
		(void)policy_spam_action(&r1.v, 0);
	}
	free(t1);
	free(t2);
done:
	policy_free(p);
	policy_free(q);
	for (i = 0; i < n; i++)
		free((void *)(uintptr_t)f[i].data);
	return 0;
}
