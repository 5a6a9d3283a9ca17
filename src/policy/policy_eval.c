/* SPDX-License-Identifier: ISC */
/*
 * policy_eval.c - evaluate a loaded policy for one sender and recipient,
 * and show the result (policy.h; the rules of precedence are in
 * docs/sealpost.policy.5).
 *
 * Process:  the filter service (RCPT and DATA phase), sealpostctl
 *           (policy explain).
 * Trust:    the policy was checked by policy_parse.c; the addresses are
 *           the client's (hostile, any length).  SECURITY: no regular
 *           expressions (SECURITY-TESTS T60): a pattern is a glob with
 *           '*' only, matched iteratively with one backtrack point, in at
 *           most (address length + 2) * (pattern length + 1) steps.
 * Limits:   POLICY_PATTERN_MAX bounds each match; POLICY_MAX_RULES and
 *           POLICY_MAX_PATTERNS the number of matches.
 * See also: policy_parse.c, tests/unit/test_policy.c
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "policy_int.h"
#include "banned.h"

#define POLICY_GROUP_SETTINGS	((1U << POLICY_MAX_SIZE) |		\
	(((1U << POLICY_SETTING_MAX) - 1) & ~((1U << POLICY_ANTIVIRUS) - 1)))

static unsigned char
lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

bool
policy_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
    size_t *steps_r)
{
	const unsigned char	*p = (const unsigned char *)pat;
	const unsigned char	*t = (const unsigned char *)s;
	size_t			 pi = 0, ti = 0, star_p = 0, star_t = 0;
	size_t			 steps = 0;
	bool			 star = false, ok;

	/*
	 * Greedy with one backtrack point: on a mismatch, the last '*'
	 * takes one more byte and the pattern after it is tried again.  A
	 * later '*' replaces the point, and that is enough for globs whose
	 * only wildcard is '*'.  Each backtrack moves star_t forward, and
	 * between two of them pi only grows: at most (slen + 1) * (plen + 1)
	 * steps, plus plen for trailing stars.
	 */
	while (ti < slen) {
		steps++;
		if (pi < plen && p[pi] == '*') {
			star = true;
			star_p = pi++;
			star_t = ti;
		} else if (pi < plen && lc(p[pi]) == lc(t[ti])) {
			pi++;
			ti++;
		} else if (star) {
			pi = star_p + 1;
			ti = ++star_t;
		} else
			break;
	}
	while (ti == slen && pi < plen && p[pi] == '*') {
		steps++;
		pi++;
	}
	ok = ti == slen && pi == plen;
	if (steps_r != NULL)
		*steps_r += steps;
	return ok;
}

static bool
pat_match(const struct policy_pat *pat, const char *addr, size_t alen)
{
	size_t	i;

	switch (pat->kind) {
	case PAT_NULL:
		return alen == 0;
	case PAT_EXACT:
		if (alen != pat->len)
			return false;
		for (i = 0; i < alen; i++)
			if (lc((unsigned char)pat->s[i]) !=
			    lc((unsigned char)addr[i]))
				return false;
		return true;
	case PAT_DOMAIN:
	case PAT_GLOB:
		break;
	}
	/* the null sender is matched by <> alone (a pattern holds an @) */
	if (alen == 0)
		return false;
	return policy_glob_match(pat->s, pat->len, addr, alen, NULL);
}

static bool
pats_match(const struct policy_pat *pats, size_t n, const char *addr,
    size_t alen)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (pat_match(&pats[i], addr, alen))
			return true;
	return false;
}

static bool
rule_matches(const struct policy_rule *r, const struct policy_ctx *c,
    size_t slen, size_t rlen)
{
	const char	*sender = c->sender != NULL ? c->sender : "";

	if (r->matchers & (1U << PM_LISTENER)) {
		if (c->listener != SP_LISTEN_SMTP &&
		    c->listener != SP_LISTEN_SUBMISSION &&
		    c->listener != SP_LISTEN_SUBMISSIONS)
			return false;
		if ((r->listeners & (1U << c->listener)) == 0)
			return false;
	}
	if ((r->matchers & (1U << PM_AUTHENTICATED)) &&
	    r->authenticated != c->authenticated)
		return false;
	if ((r->matchers & (1U << PM_RECIPIENT)) && (c->recipient == NULL ||
	    !pats_match(r->pats[1], r->npats[1], c->recipient, rlen)))
		return false;
	if ((r->matchers & (1U << PM_SENDER)) &&
	    !pats_match(r->pats[0], r->npats[0], sender, slen))
		return false;
	return true;
}

void
policy_builtin(struct policy_values *v)
{
	memset(v, 0, sizeof(*v));
	v->max_size = 0;
	v->pgp = POLICY_PGP_OPPORTUNISTIC;
	v->tls = POLICY_TLS_OPPORTUNISTIC;
	v->sign = false;
	v->protect_subject = false;
	v->encrypt_to_sender = false;
	v->antivirus = POLICY_AV_REJECT;
	v->spam_reject = 1500;
	v->spam_junk = 600;
	v->spam_tag = 500;
	v->scanner_failure = POLICY_SCANFAIL_TEMPFAIL;
	v->scanner_timeout = 30;
	v->headers = POLICY_HDR_ALL;
}

/* Take what block b sets, as set by src. */
static void
apply(struct policy_result *res, const struct policy_block *b, int src)
{
	const struct policy_values	*f = &b->v;
	struct policy_values		*v = &res->v;
	int				 s;

	for (s = 0; s < POLICY_SETTING_MAX; s++) {
		if ((b->set & (1U << s)) == 0)
			continue;
		res->src[s] = src;
		switch ((enum policy_setting)s) {
		case POLICY_MAX_SIZE:
			v->max_size = f->max_size;
			break;
		case POLICY_PGP:
			v->pgp = f->pgp;
			break;
		case POLICY_TLS:
			v->tls = f->tls;
			break;
		case POLICY_SIGN:
			v->sign = f->sign;
			break;
		case POLICY_PROTECT_SUBJECT:
			v->protect_subject = f->protect_subject;
			break;
		case POLICY_ENCRYPT_TO_SENDER:
			v->encrypt_to_sender = f->encrypt_to_sender;
			break;
		case POLICY_WKD:
			v->wkd = f->wkd;
			break;
		case POLICY_AUTOCRYPT:
			v->autocrypt = f->autocrypt;
			break;
		case POLICY_ANTIVIRUS:
			v->antivirus = f->antivirus;
			break;
		case POLICY_SPAM_REJECT:
			v->spam_reject = f->spam_reject;
			break;
		case POLICY_SPAM_JUNK:
			v->spam_junk = f->spam_junk;
			break;
		case POLICY_SPAM_TAG:
			v->spam_tag = f->spam_tag;
			break;
		case POLICY_SCANNER_FAILURE:
			v->scanner_failure = f->scanner_failure;
			break;
		case POLICY_SCANNER_TIMEOUT:
			v->scanner_timeout = f->scanner_timeout;
			break;
		case POLICY_HEADERS:
			v->headers = f->headers;
			break;
		case POLICY_SETTING_MAX:
			break;
		}
	}
}

void
policy_eval(const struct policy *p, const struct policy_ctx *c,
    struct policy_result *res)
{
	const struct policy_rule	*r;
	size_t				 i, slen, rlen;
	int				 s;

	memset(res, 0, sizeof(*res));
	policy_builtin(&res->v);
	for (s = 0; s < POLICY_SETTING_MAX; s++)
		res->src[s] = POLICY_SRC_BUILTIN;
	if (p->has_defaults)
		apply(res, &p->defaults, POLICY_SRC_DEFAULTS);
	slen = c->sender != NULL ? strlen(c->sender) : 0;
	rlen = c->recipient != NULL ? strlen(c->recipient) : 0;
	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[p->order[i]];
		if (!rule_matches(r, c, slen, rlen))
			continue;
		apply(res, &r->b, (int)p->order[i]);
		/*
		 * Only what the one DATA reply depends on splits recipients
		 * into groups: max-size and the DATA-phase settings.  pgp,
		 * tls, sign and protect-subject apply per recipient after
		 * the verdict, so they split nothing.
		 */
		if (r->b.set != 0) {
			res->matched.bits[p->order[i] / 64] |=
			    1ULL << (p->order[i] % 64);
			res->nmatched++;
		}
		if ((r->b.set & POLICY_GROUP_SETTINGS) != 0) {
			res->group.bits[p->order[i] / 64] |=
			    1ULL << (p->order[i] % 64);
			res->ngroup++;
		}
	}
}

bool
policy_group_eq(const struct policy_group *a, const struct policy_group *b)
{
	return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

const char *
policy_source_name(const struct policy *p, int src)
{
	if (src == POLICY_SRC_DEFAULTS)
		return "defaults";
	if (src < 0 || (size_t)src >= p->nrules)
		return "built-in";
	return p->rules[src].name;
}

/* Append to buf like snprintf, counting what did not fit in *off too. */
static void
put(char *buf, size_t len, size_t *off, const char *s)
{
	size_t	n = strlen(s);

	if (*off < len)
		(void)strlcpy(buf + *off, s, len - *off);
	*off += n;
}

size_t
policy_group_name(const struct policy *p, const struct policy_group *g,
    char *buf, size_t len)
{
	size_t	i, idx, off = 0;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < p->nrules; i++) {
		idx = p->order[i];
		if ((g->bits[idx / 64] & (1ULL << (idx % 64))) == 0)
			continue;
		if (off > 0)
			put(buf, len, &off, ",");
		put(buf, len, &off, p->rules[idx].name);
	}
	if (off == 0)
		put(buf, len, &off, "default");
	return off;
}

/* A size as written: the largest exact unit. */
static void
size_str(uint64_t v, char *buf, size_t len)
{
	if (v == 0)
		(void)snprintf(buf, len, "unset");
	else if (v % (1ULL << 30) == 0)
		(void)snprintf(buf, len, "%" PRIu64 "G", v >> 30);
	else if (v % (1ULL << 20) == 0)
		(void)snprintf(buf, len, "%" PRIu64 "M", v >> 20);
	else if (v % (1ULL << 10) == 0)
		(void)snprintf(buf, len, "%" PRIu64 "K", v >> 10);
	else
		(void)snprintf(buf, len, "%" PRIu64, v);
}

static void
score_str(int32_t v, char *buf, size_t len)
{
	int32_t	a = v < 0 ? -v : v;

	if (v == POLICY_SCORE_NEVER)
		(void)snprintf(buf, len, "never");
	else if (a % 100 == 0)
		(void)snprintf(buf, len, "above %s%d", v < 0 ? "-" : "",
		    (int)(a / 100));
	else if (a % 10 == 0)
		(void)snprintf(buf, len, "above %s%d.%d", v < 0 ? "-" : "",
		    (int)(a / 100), (int)(a % 100 / 10));
	else
		(void)snprintf(buf, len, "above %s%d.%02d", v < 0 ? "-" : "",
		    (int)(a / 100), (int)(a % 100));
}

void
policy_value_str(enum policy_setting s, const struct policy_values *v,
    char *buf, size_t len)
{
	static const char *const pgp[] = { "opportunistic", "required",
	    "never" };
	static const char *const tls[] = { "opportunistic", "required" };

	if (len > 0)
		buf[0] = '\0';
	switch (s) {
	case POLICY_MAX_SIZE:
		size_str(v->max_size, buf, len);
		break;
	case POLICY_PGP:
		(void)snprintf(buf, len, "%s", (unsigned int)v->pgp < 3 ?
		    pgp[v->pgp] : "?");
		break;
	case POLICY_TLS:
		(void)snprintf(buf, len, "%s", (unsigned int)v->tls < 2 ?
		    tls[v->tls] : "?");
		break;
	case POLICY_SIGN:
		(void)snprintf(buf, len, "%s", v->sign ? "yes" : "no");
		break;
	case POLICY_PROTECT_SUBJECT:
		(void)snprintf(buf, len, "%s", v->protect_subject ? "yes" :
		    "no");
		break;
	case POLICY_ENCRYPT_TO_SENDER:
		(void)snprintf(buf, len, "%s", v->encrypt_to_sender ? "yes" :
		    "no");
		break;
	case POLICY_WKD:
		(void)snprintf(buf, len, "%s", v->wkd ? "yes" : "no");
		break;
	case POLICY_AUTOCRYPT:
		(void)snprintf(buf, len, "%s", v->autocrypt ? "yes" : "no");
		break;
	case POLICY_ANTIVIRUS:
		(void)snprintf(buf, len, "%s", v->antivirus ==
		    POLICY_AV_QUARANTINE ? "quarantine" : "reject");
		break;
	case POLICY_SPAM_REJECT:
		score_str(v->spam_reject, buf, len);
		break;
	case POLICY_SPAM_JUNK:
		score_str(v->spam_junk, buf, len);
		break;
	case POLICY_SPAM_TAG:
		score_str(v->spam_tag, buf, len);
		break;
	case POLICY_SCANNER_FAILURE:
		(void)snprintf(buf, len, "%s", v->scanner_failure ==
		    POLICY_SCANFAIL_ACCEPT ? "accept" : "tempfail");
		break;
	case POLICY_SCANNER_TIMEOUT:
		if (v->scanner_timeout % 60 == 0)
			(void)snprintf(buf, len, "%um",
			    v->scanner_timeout / 60);
		else
			(void)snprintf(buf, len, "%us", v->scanner_timeout);
		break;
	case POLICY_HEADERS:
		(void)snprintf(buf, len, "%s%s%s%s",
		    v->headers == 0 ? "none" : "",
		    v->headers & POLICY_HDR_SPAM_SCORE ? "spam-score" : "",
		    (v->headers & POLICY_HDR_SPAM_STATUS) == 0 ? "" :
		    v->headers & POLICY_HDR_SPAM_SCORE ? " spam-status" :
		    "spam-status",
		    (v->headers & POLICY_HDR_AUTH_RESULTS) == 0 ? "" :
		    v->headers & (POLICY_HDR_SPAM_SCORE |
		    POLICY_HDR_SPAM_STATUS) ? " authentication-results" :
		    "authentication-results");
		break;
	case POLICY_SETTING_MAX:
		break;
	}
}

size_t
policy_explain(const struct policy *p, const struct policy_result *res,
    char *buf, size_t len)
{
	const struct policy_block	*b;
	char				 val[128], line[256];
	size_t				 off = 0;
	int				 s, src;

	if (len > 0)
		buf[0] = '\0';
	put(buf, len, &off, "group ");
	off += policy_group_name(p, &res->group, off < len ? buf + off : NULL,
	    off < len ? len - off : 0);
	put(buf, len, &off, "\nrules ");
	off += policy_group_name(p, &res->matched, off < len ? buf + off :
	    NULL, off < len ? len - off : 0);
	put(buf, len, &off, "\n");
	for (s = 0; s < POLICY_SETTING_MAX; s++) {
		policy_value_str((enum policy_setting)s, &res->v, val,
		    sizeof(val));
		src = res->src[s];
		b = NULL;
		if (src == POLICY_SRC_DEFAULTS && p->has_defaults)
			b = &p->defaults;
		else if (src >= 0 && (size_t)src < p->nrules)
			b = &p->rules[src].b;
		(void)snprintf(line, sizeof(line), "%s %s (",
		    policy_setting_name((enum policy_setting)s), val);
		put(buf, len, &off, line);
		if (b == NULL) {
			put(buf, len, &off, "built-in)\n");
			continue;
		}
		if (src >= 0) {
			put(buf, len, &off, "rule \"");
			put(buf, len, &off, p->rules[src].name);
			put(buf, len, &off, "\", ");
		} else
			put(buf, len, &off, "defaults, ");
		(void)snprintf(line, sizeof(line), ":%lu)\n",
		    (unsigned long)b->line[s]);
		put(buf, len, &off, p->files[b->file]);
		put(buf, len, &off, line);
	}
	return off;
}

enum policy_spam_action
policy_spam_action(const struct policy_values *v, int64_t score)
{
	if (v->spam_reject != POLICY_SCORE_NEVER && score > v->spam_reject)
		return POLICY_ACTION_REJECT;
	if (v->spam_junk != POLICY_SCORE_NEVER && score > v->spam_junk)
		return POLICY_ACTION_JUNK;
	if (v->spam_tag != POLICY_SCORE_NEVER && score > v->spam_tag)
		return POLICY_ACTION_TAG;
	return POLICY_ACTION_NONE;
}

unsigned int
policy_max_timeout(const struct policy *p)
{
	struct policy_values	 v;
	unsigned int		 max;
	size_t			 i;

	policy_builtin(&v);
	max = v.scanner_timeout;
	if (p->has_defaults && (p->defaults.set &
	    (1U << POLICY_SCANNER_TIMEOUT)))
		max = p->defaults.v.scanner_timeout;
	for (i = 0; i < p->nrules; i++)
		if ((p->rules[i].b.set & (1U << POLICY_SCANNER_TIMEOUT)) &&
		    p->rules[i].b.v.scanner_timeout > max)
			max = p->rules[i].b.v.scanner_timeout;
	return max;
}
