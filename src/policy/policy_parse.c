/* SPDX-License-Identifier: ISC */
/*
 * policy_parse.c - the grammar of a policy file: "rule NAME {" and
 * "defaults {" blocks, "}", matchers and their address patterns (the
 * language is docs/sealpost.policy.5).
 *
 * Process:  wherever a policy is loaded (policy_load.c): the master,
 *           the filter service, sealpostctl.
 * Trust:    the files are the administrator's, but the parser runs as
 *           root and is fuzzed as if they were hostile: a line's length
 *           is checked, then its bytes (policy_lex.c), then its tokens;
 *           every count has a limit; an error is one line, "FILE:LINE:COL:
 *           what, expected what".  Nothing is logged, nothing is global.
 * Limits:   POLICY_FILE_MAX, POLICY_MAX_RULES, POLICY_LINE_MAX,
 *           POLICY_MAX_PATTERNS, POLICY_PATTERN_MAX, POLICY_PATTERN_STARS,
 *           POLICY_NAME_MAX (policy.h).
 * See also: policy_lex.c, policy_settings.c, policy_load.c, policy_eval.c,
 *           tests/unit/test_policy.c, tests/fuzz/fuzz_policy.c
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "policy_int.h"
#include "banned.h"

static const char *const matcher_names[PM_MAX] = {
	"sender", "recipient", "listener", "authenticated"
};

static const struct policy_choice listener_choices[] = {
	{ "smtp", SP_LISTEN_SMTP },
	{ "submission", SP_LISTEN_SUBMISSION },
	{ "submissions", SP_LISTEN_SUBMISSIONS },
	{ NULL, 0 }
};

/* --- matchers ------------------------------------------------------------ */

static bool
pat_eq(const struct policy_pat *a, const struct policy_pat *b)
{
	size_t	i;
	char	x, y;

	if (a->len != b->len)
		return false;
	for (i = 0; i < a->len; i++) {
		x = a->s[i] >= 'A' && a->s[i] <= 'Z' ? a->s[i] | 0x20 : a->s[i];
		y = b->s[i] >= 'A' && b->s[i] <= 'Z' ? b->s[i] | 0x20 : b->s[i];
		if (x != y)
			return false;
	}
	return true;
}

/*
 * One pattern: <> (sender only), or exactly one "@" with something after
 * it and, unless it is the @domain shorthand, before it; at most
 * POLICY_PATTERN_STARS '*' as written; no angle brackets.
 */
static int
parse_pattern(struct policy_parser *ps, const struct policy_tok *t,
    enum policy_matcher m, struct policy_pat *out)
{
	struct policy_escbuf	 e;
	const char		*s = t->s;
	size_t			 n = t->len, i, at = 0, ats = 0, stars = 0;
	bool			 angle = false, dstar = false;

	if (n == 2 && s[0] == '<' && s[1] == '>') {
		if (m != PM_SENDER)
			return policy_perr(ps, t->col, "\"<>\" (the null "
			    "sender) is only a sender pattern");
		out->s = xstrdup("");
		out->len = 0;
		out->kind = PAT_NULL;
		return 0;
	}
	if (n > POLICY_PATTERN_MAX)
		return policy_perr(ps, t->col, "pattern longer than %d bytes",
		    POLICY_PATTERN_MAX);
	for (i = 0; i < n; i++) {
		if (s[i] == '@' && ats++ == 0)
			at = i;
		else if (s[i] == '*') {
			stars++;
			if (ats > 0)
				dstar = true;
		} else if (s[i] == '<' || s[i] == '>')
			angle = true;
	}
	if (angle)
		return policy_perr(ps, t->col, "\"<\" or \">\" in pattern %s "
		    "(write addresses without angle brackets; \"<>\" alone is "
		    "the null sender)", policy_tok_desc(&e, t));
	if (ats == 0)
		return policy_perr(ps, t->col, "pattern %s has no \"@\" "
		    "(expected user@domain, @domain or a glob such as "
		    "*@*.example.org)", policy_tok_desc(&e, t));
	if (ats > 1)
		return policy_perr(ps, t->col, "more than one \"@\" in pattern "
		    "%s", policy_tok_desc(&e, t));
	if (at == n - 1)
		return policy_perr(ps, t->col, "pattern %s has no domain after "
		    "\"@\"", policy_tok_desc(&e, t));
	if (stars > POLICY_PATTERN_STARS)
		return policy_perr(ps, t->col, "more than %d \"*\" in pattern "
		    "%s", POLICY_PATTERN_STARS, policy_tok_desc(&e, t));
	if (at == 0) {
		/* "@domain" is "*@domain" */
		out->s = xmalloc(n + 2);
		out->s[0] = '*';
		memcpy(out->s + 1, s, n);
		out->len = n + 1;
		stars++;
	} else {
		out->s = xmalloc(n + 1);
		memcpy(out->s, s, n);
		out->len = n;
	}
	out->s[out->len] = '\0';
	if (stars == 0)
		out->kind = PAT_EXACT;
	else if (stars == 1 && !dstar && out->s[0] == '*' && out->s[1] == '@')
		out->kind = PAT_DOMAIN;
	else
		out->kind = PAT_GLOB;
	return 0;
}

/* sender|recipient PATTERN... */
static int
parse_patterns(struct policy_parser *ps, struct policy_rule *r,
    enum policy_matcher m)
{
	struct policy_tok	t;
	struct policy_escbuf	e;
	struct policy_pat	pat;
	size_t			i, cap = 0, k = m == PM_SENDER ? 0 : 1;

	for (;;) {
		if (policy_lex_value(ps, &t, matcher_names[m]) == -1)
			return -1;
		if (t.kind == T_END)
			break;
		if (r->npats[k] == POLICY_MAX_PATTERNS)
			return policy_perr(ps, t.col, "more than %d patterns "
			    "on one line", POLICY_MAX_PATTERNS);
		if (ps->p->npatterns == POLICY_MAX_PATTERNS_ALL)
			return policy_perr(ps, t.col, "more than %d patterns "
			    "in the policy", POLICY_MAX_PATTERNS_ALL);
		if (parse_pattern(ps, &t, m, &pat) == -1)
			return -1;
		for (i = 0; i < r->npats[k]; i++)
			if (pat_eq(&r->pats[k][i], &pat)) {
				free(pat.s);
				return policy_perr(ps, t.col, "pattern %s "
				    "listed twice", policy_tok_desc(&e, &t));
			}
		if (r->npats[k] == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			r->pats[k] = xreallocarray(r->pats[k], cap,
			    sizeof(pat));
		}
		r->pats[k][r->npats[k]++] = pat;
		ps->p->npatterns++;
	}
	if (r->npats[k] == 0)
		return policy_perr(ps, t.col, "expected at least one pattern "
		    "after \"%s\"", matcher_names[m]);
	return 0;
}

static int
parse_matcher(struct policy_parser *ps, const struct policy_tok *kw,
    enum policy_matcher m)
{
	struct policy_rule		*r;
	const struct policy_choice	*c;
	struct policy_tok		 t;
	struct policy_escbuf		 e, n;

	if (ps->state != S_RULE)
		return policy_perr(ps, kw->col, "\"%s\" is a matcher: only a "
		    "rule has matchers, not \"defaults\"", matcher_names[m]);
	r = &ps->p->rules[ps->rule];
	if (r->matchers & (1U << m)) {
		if (m == PM_AUTHENTICATED)
			return policy_perr(ps, kw->col, "\"%s\" given twice in "
			    "%s (first at line %lu)", matcher_names[m],
			    policy_blk_name(ps, &e),
			    (unsigned long)r->mline[m]);
		return policy_perr(ps, kw->col, "\"%s\" given twice in %s "
		    "(list the %s on one line)", matcher_names[m],
		    policy_blk_name(ps, &e), m == PM_LISTENER ? "listeners" :
		    "patterns");
	}
	r->matchers |= 1U << m;
	r->mline[m] = ps->lineno;
	switch (m) {
	case PM_SENDER:
	case PM_RECIPIENT:
		return parse_patterns(ps, r, m);
	case PM_AUTHENTICATED:
		return policy_parse_yesno(ps, "authenticated",
		    &r->authenticated);
	case PM_LISTENER:
	case PM_MAX:
		break;
	}
	for (;;) {
		if (policy_lex_value(ps, &t, "listener") == -1)
			return -1;
		if (t.kind == T_END)
			break;
		if ((c = policy_choice_find(listener_choices, &t)) == NULL)
			return policy_perr(ps, t.col, "unknown listener %s "
			    "(expected smtp, submission or submissions)",
			    policy_tok_desc(&n, &t));
		if (r->listeners & (1U << c->val))
			return policy_perr(ps, t.col, "listener \"%s\" listed "
			    "twice", c->name);
		r->listeners |= 1U << c->val;
	}
	if (r->listeners == 0)
		return policy_perr(ps, t.col, "expected a listener after "
		    "\"listener\" (smtp, submission or submissions)");
	return 0;
}

/* --- blocks -------------------------------------------------------------- */

/* 3: all exact (or <>); 2: all exact or whole domains; else 1. */
static unsigned int
pats_specificity(const struct policy_pat *pats, size_t n)
{
	unsigned int	spec = 3;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (pats[i].kind == PAT_GLOB)
			return 1;
		if (pats[i].kind == PAT_DOMAIN)
			spec = 2;
	}
	return spec;
}

static int
close_block(struct policy_parser *ps)
{
	struct policy_rule	*r;
	struct policy_escbuf	 e;

	if (ps->state == S_RULE) {
		r = &ps->p->rules[ps->rule];
		if (r->matchers == 0)
			return policy_perr_at(ps, r->b.hline, r->col, "rule "
			    "\"%s\" has no matcher (expected "
			    MATCHERS_LIST ")", policy_esc(&e, r->name,
			    strlen(r->name)));
		r->specificity = 0;
		if (r->matchers & (1U << PM_LISTENER))
			r->specificity++;
		if (r->matchers & (1U << PM_AUTHENTICATED))
			r->specificity++;
		if (r->matchers & (1U << PM_SENDER))
			r->specificity += pats_specificity(r->pats[0],
			    r->npats[0]);
		if (r->matchers & (1U << PM_RECIPIENT))
			r->specificity += pats_specificity(r->pats[1],
			    r->npats[1]);
	}
	ps->state = S_TOP;
	return 0;
}

/* A line inside a block: a setting, a matcher or "}". */
static int
parse_in_block(struct policy_parser *ps, const struct policy_tok *t)
{
	struct policy_escbuf	e, w;
	int			k;
	int			m;

	switch (t->kind) {
	case T_END:
		return 0;
	case T_RBRACE:
		if (policy_lex_end(ps, "}") == -1)
			return -1;
		return close_block(ps);
	case T_LBRACE:
		return policy_perr(ps, t->col, "unexpected \"{\" in %s (\"{\" "
		    "only ends a block header line)", policy_blk_name(ps, &e));
	case T_QUOTED:
		return policy_perr(ps, t->col, "unexpected quoted string in %s "
		    "(expected a setting%s)", policy_blk_name(ps, &e),
		    ps->state == S_RULE ? " or a matcher" : "");
	case T_WORD:
		break;
	}
	if (policy_tok_is(t, "rule") || policy_tok_is(t, "defaults"))
		return policy_perr(ps, t->col, "%s inside %s (expected \"}\" "
		    "first)", policy_tok_desc(&w, t), policy_blk_name(ps, &e));
	for (m = 0; m < PM_MAX; m++)
		if (policy_tok_is(t, matcher_names[m]))
			return parse_matcher(ps, t, (enum policy_matcher)m);
	if ((k = policy_keyword(t)) != -1)
		return policy_parse_setting(ps, t, k);
	if (ps->state == S_RULE)
		return policy_perr(ps, t->col, "unknown setting %s (expected "
		    "one of: " SETTINGS_LIST "; or a matcher: " MATCHERS_LIST
		    ")", policy_tok_desc(&w, t));
	return policy_perr(ps, t->col, "unknown setting %s (expected one of: "
	    SETTINGS_LIST ")", policy_tok_desc(&w, t));
}

/* rule NAME { */
static int
parse_rule_header(struct policy_parser *ps, const struct policy_tok *kw)
{
	struct policy		*p = ps->p;
	struct policy_rule	*r;
	struct policy_tok	 name, t;
	struct policy_escbuf	 e, w;
	size_t			 i;

	if (policy_lex_next(ps, &name) == -1)
		return -1;
	if (name.kind != T_WORD && name.kind != T_QUOTED)
		return policy_perr(ps, name.col, "expected a rule name after "
		    "\"rule\"");
	if (name.kind == T_WORD && name.eight)
		return policy_perr(ps, name.col, "rule name %s is not ASCII "
		    "(write it in double quotes to use UTF-8)",
		    policy_tok_desc(&e, &name));
	if (name.len == 0)
		return policy_perr(ps, name.col, "empty rule name");
	if (name.len > POLICY_NAME_MAX)
		return policy_perr(ps, name.col, "rule name longer than %d "
		    "bytes", POLICY_NAME_MAX);
	if (memchr(name.s, '\t', name.len) != NULL)
		return policy_perr(ps, name.col, "tab in a quoted rule name");
	policy_esc(&w, name.s, name.len);
	if (policy_lex_next(ps, &t) == -1)
		return -1;
	if (t.kind == T_END)
		return policy_perr(ps, t.col, "expected \"{\" after rule name "
		    "\"%s\"", w.s);
	if (t.kind != T_LBRACE)
		return policy_perr(ps, t.col, "unexpected %s after rule name "
		    "\"%s\" (expected \"{\")", policy_tok_desc(&e, &t), w.s);
	if (policy_lex_next(ps, &t) == -1)
		return -1;
	if (t.kind != T_END)
		return policy_perr(ps, t.col, "unexpected %s after \"{\" (a "
		    "block header line ends with \"{\")", policy_tok_desc(&e,
		    &t));
	if (p->nrules == POLICY_MAX_RULES)
		return policy_perr(ps, kw->col, "more than %d rules",
		    POLICY_MAX_RULES);
	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		if (strlen(r->name) == name.len &&
		    memcmp(r->name, name.s, name.len) == 0)
			return policy_perr(ps, name.col, "duplicate rule name "
			    "\"%s\" (first at %s:%lu)", w.s,
			    p->files[r->b.file], (unsigned long)r->b.hline);
	}
	if (p->nrules == ps->rulescap) {
		ps->rulescap = ps->rulescap == 0 ? 16 : ps->rulescap * 2;
		p->rules = xreallocarray(p->rules, ps->rulescap,
		    sizeof(*p->rules));
	}
	r = &p->rules[p->nrules];
	memset(r, 0, sizeof(*r));
	r->name = xstrndup(name.s, name.len);
	r->col = kw->col;
	r->b.file = ps->file;
	r->b.hline = ps->lineno;
	ps->rule = p->nrules++;
	ps->state = S_RULE;
	return 0;
}

/* defaults { */
static int
parse_defaults_header(struct policy_parser *ps, const struct policy_tok *kw)
{
	struct policy		*p = ps->p;
	struct policy_tok	 t;
	struct policy_escbuf	 e;

	if (policy_lex_next(ps, &t) == -1)
		return -1;
	if (t.kind == T_END)
		return policy_perr(ps, t.col, "expected \"{\" after "
		    "\"defaults\"");
	if (t.kind != T_LBRACE)
		return policy_perr(ps, t.col, "unexpected %s after "
		    "\"defaults\" (expected \"{\")", policy_tok_desc(&e, &t));
	if (policy_lex_next(ps, &t) == -1)
		return -1;
	if (t.kind != T_END)
		return policy_perr(ps, t.col, "unexpected %s after \"{\" (a "
		    "block header line ends with \"{\")", policy_tok_desc(&e,
		    &t));
	if (p->has_defaults)
		return policy_perr(ps, kw->col, "\"defaults\" given twice "
		    "(first at %s:%lu)", p->files[p->defaults.file],
		    (unsigned long)p->defaults.hline);
	p->has_defaults = true;
	p->defaults.file = ps->file;
	p->defaults.hline = ps->lineno;
	ps->state = S_DEFAULTS;
	return 0;
}

static int
parse_top(struct policy_parser *ps, const struct policy_tok *t)
{
	struct policy_escbuf	e;
	int			m;

	switch (t->kind) {
	case T_END:
		return 0;
	case T_LBRACE:
		return policy_perr(ps, t->col, "unexpected \"{\" (expected "
		    "\"rule\" or \"defaults\")");
	case T_RBRACE:
		return policy_perr(ps, t->col, "unexpected \"}\" (no block is "
		    "open)");
	case T_QUOTED:
		return policy_perr(ps, t->col, "unexpected quoted string "
		    "(expected \"rule\" or \"defaults\")");
	case T_WORD:
		break;
	}
	if (policy_tok_is(t, "rule"))
		return parse_rule_header(ps, t);
	if (policy_tok_is(t, "defaults"))
		return parse_defaults_header(ps, t);
	for (m = 0; m < PM_MAX; m++)
		if (policy_tok_is(t, matcher_names[m]))
			return policy_perr(ps, t->col, "%s outside a block "
			    "(expected \"rule\" NAME \"{\" first)",
			    policy_tok_desc(&e, t));
	if (policy_keyword(t) != -1)
		return policy_perr(ps, t->col, "%s outside a block (expected "
		    "\"defaults {\" or a rule first)", policy_tok_desc(&e, t));
	return policy_perr(ps, t->col, "unknown keyword %s (expected \"rule\" "
	    "or \"defaults\")", policy_tok_desc(&e, t));
}

static int
parse_line(struct policy_parser *ps)
{
	struct policy_tok	t;

	if (ps->linelen > POLICY_LINE_MAX)
		return policy_perr(ps, POLICY_LINE_MAX + 1, "line longer than "
		    "%d bytes", POLICY_LINE_MAX);
	if (policy_lex_check(ps) == -1)
		return -1;
	ps->pos = 0;
	if (policy_lex_next(ps, &t) == -1)
		return -1;
	if (ps->state == S_TOP)
		return parse_top(ps, &t);
	return parse_in_block(ps, &t);
}

/* Line and column of byte offset off, for errors not found by a line. */
static void
position(const char *buf, size_t off, uint32_t *line, size_t *col)
{
	const char	*nl;
	size_t		 start = 0;

	*line = 1;
	while (start < off &&
	    (nl = memchr(buf + start, '\n', off - start)) != NULL) {
		(*line)++;
		start = (size_t)(nl - buf) + 1;
	}
	*col = off - start + 1;
}

int
policy_parse_file(struct policy_parser *ps, const char *buf, size_t len)
{
	const char		*nl;
	struct policy_escbuf	 e;
	size_t			 off = 0, end, col;
	uint32_t		 line;

	if (len > POLICY_FILE_MAX) {
		position(buf, POLICY_FILE_MAX, &line, &col);
		return policy_perr_at(ps, line, col, "file larger than %d "
		    "bytes", POLICY_FILE_MAX);
	}
	ps->state = S_TOP;
	ps->lineno = 0;
	while (off < len) {
		nl = memchr(buf + off, '\n', len - off);
		end = nl != NULL ? (size_t)(nl - buf) : len;
		ps->lineno++;
		ps->line = buf + off;
		ps->linelen = end - off;
		/* CRLF: the CR belongs to the line end */
		if (nl != NULL && ps->linelen > 0 &&
		    ps->line[ps->linelen - 1] == '\r')
			ps->linelen--;
		if (parse_line(ps) == -1)
			return -1;
		off = nl != NULL ? end + 1 : len;
	}
	if (ps->state == S_TOP)
		return 0;
	/* a block does not continue in the next file */
	position(buf, len, &line, &col);
	if (ps->state == S_DEFAULTS)
		return policy_perr_at(ps, line, col, "unexpected end of file: "
		    "\"}\" expected for \"defaults\" opened at line %lu",
		    (unsigned long)ps->p->defaults.hline);
	return policy_perr_at(ps, line, col, "unexpected end of file: \"}\" "
	    "expected for rule \"%s\" opened at line %lu", policy_esc(&e,
	    ps->p->rules[ps->rule].name, strlen(ps->p->rules[ps->rule].name)),
	    (unsigned long)ps->p->rules[ps->rule].b.hline);
}
