/* SPDX-License-Identifier: ISC */
/*
 * policy_settings.c - the settings of a rule or of the defaults block:
 * max-size, pgp, tls, sign, protect-subject (RCPT phase), antivirus,
 * spam, scanner-failure, scanner-timeout, headers (DATA phase), each
 * given at most once per block, with its numbers' syntax and ranges.
 *
 * Process:  wherever a policy is loaded (policy_load.c).
 * Trust:    a setting line of the administrator's file, bytes already
 *           checked by policy_lex.c; numbers are parsed digit by digit
 *           with a bound before each step (no overflow, no strtol).
 * Limits:   POLICY_SIZE_MIN/MAX, POLICY_TIMEOUT_MIN/MAX,
 *           POLICY_SCORE_MIN/MAX (policy.h).
 * See also: policy_parse.c (blocks, matchers), docs/sealpost.policy.5
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "policy_int.h"
#include "banned.h"

static const char *const setting_names[POLICY_SETTING_MAX] = {
	"max-size", "pgp", "tls", "sign", "protect-subject",
	"encrypt-to-sender", "wkd", "antivirus",
	"spam reject", "spam junk", "spam tag", "scanner-failure",
	"scanner-timeout", "headers", "autocrypt"
};

/* The keywords that start a setting line ("spam" has three settings). */
static const char *const keywords[] = {
	"max-size", "pgp", "tls", "sign", "protect-subject",
	"encrypt-to-sender", "wkd", "antivirus",
	"spam", "scanner-failure", "scanner-timeout", "headers", "autocrypt"
};
#define NKEYWORDS	(sizeof(keywords) / sizeof(keywords[0]))

static const struct policy_choice pgp_choices[] = {
	{ "opportunistic", POLICY_PGP_OPPORTUNISTIC },
	{ "required", POLICY_PGP_REQUIRED },
	{ "never", POLICY_PGP_NEVER },
	{ NULL, 0 }
};

static const struct policy_choice tls_choices[] = {
	{ "opportunistic", POLICY_TLS_OPPORTUNISTIC },
	{ "required", POLICY_TLS_REQUIRED },
	{ NULL, 0 }
};

static const struct policy_choice yesno_choices[] = {
	{ "yes", 1 },
	{ "no", 0 },
	{ NULL, 0 }
};

static const struct policy_choice av_choices[] = {
	{ "reject", POLICY_AV_REJECT },
	{ "quarantine", POLICY_AV_QUARANTINE },
	{ NULL, 0 }
};

static const struct policy_choice scanfail_choices[] = {
	{ "tempfail", POLICY_SCANFAIL_TEMPFAIL },
	{ "accept", POLICY_SCANFAIL_ACCEPT },
	{ NULL, 0 }
};

static const struct policy_choice spam_choices[] = {
	{ "reject", POLICY_SPAM_REJECT },	/* enum policy_setting */
	{ "junk", POLICY_SPAM_JUNK },
	{ "tag", POLICY_SPAM_TAG },
	{ NULL, 0 }
};

static const struct policy_choice header_choices[] = {
	{ "spam-score", POLICY_HDR_SPAM_SCORE },
	{ "spam-status", POLICY_HDR_SPAM_STATUS },
	{ "authentication-results", POLICY_HDR_AUTH_RESULTS },
	{ "none", 0 },
	{ NULL, 0 }
};

static int	parse_choice(struct policy_parser *, const char *,
		    const struct policy_choice *, const char *, int *);

int
policy_keyword(const struct policy_tok *t)
{
	size_t	k;

	for (k = 0; k < NKEYWORDS; k++)
		if (policy_tok_is(t, keywords[k]))
			return (int)k;
	return -1;
}

int
policy_parse_yesno(struct policy_parser *ps, const char *name, bool *out)
{
	int	v;

	if (parse_choice(ps, name, yesno_choices, "yes or no", &v) == -1)
		return -1;
	*out = v != 0;
	return 0;
}

const char *
policy_setting_name(enum policy_setting s)
{
	if ((unsigned int)s >= POLICY_SETTING_MAX)
		return "?";
	return setting_names[s];
}

/* Digits, then K, M or G (1024-based); 1K..4G. */
static int
parse_size(struct policy_parser *ps, const struct policy_tok *t, uint64_t *out)
{
	struct policy_escbuf	e;
	uint64_t		v = 0, mult = 1;
	size_t			i, n = t->len;

	if (n > 0) {
		switch (t->s[n - 1]) {
		case 'K':
			mult = 1ULL << 10;
			n--;
			break;
		case 'M':
			mult = 1ULL << 20;
			n--;
			break;
		case 'G':
			mult = 1ULL << 30;
			n--;
			break;
		}
	}
	for (i = 0; i < n; i++)
		if (t->s[i] < '0' || t->s[i] > '9')
			break;
	if (n == 0 || i < n)
		return policy_perr(ps, t->col, "bad size %s for \"max-size\" "
		    "(expected digits with an optional K, M or G suffix, such "
		    "as 10M)", policy_tok_desc(&e, t));
	for (i = 0; i < n; i++) {
		v = v * 10 + (uint64_t)(t->s[i] - '0');
		if (v > POLICY_SIZE_MAX)	/* and no overflow below */
			break;
	}
	if (i < n || v > POLICY_SIZE_MAX / mult || v * mult < POLICY_SIZE_MIN)
		return policy_perr(ps, t->col, "max-size %s out of range "
		    "(expected 1K to 4G)", policy_tok_desc(&e, t));
	*out = v * mult;
	return 0;
}

/* Digits, then s or m; 1s..10m. */
static int
parse_duration(struct policy_parser *ps, const struct policy_tok *t,
    unsigned int *out)
{
	struct policy_escbuf	e;
	uint64_t		v = 0, mult;
	size_t			i, n = t->len;

	mult = n > 0 && t->s[n - 1] == 'm' ? 60 : 1;
	if (n == 0 || (t->s[n - 1] != 's' && t->s[n - 1] != 'm'))
		n = 0;
	else
		n--;
	for (i = 0; i < n; i++)
		if (t->s[i] < '0' || t->s[i] > '9')
			break;
	if (n == 0 || i < n)
		return policy_perr(ps, t->col, "bad duration %s for "
		    "\"scanner-timeout\" (expected digits followed by s or m, "
		    "such as 30s)", policy_tok_desc(&e, t));
	for (i = 0; i < n; i++) {
		v = v * 10 + (uint64_t)(t->s[i] - '0');
		if (v > POLICY_TIMEOUT_MAX)
			break;
	}
	if (i < n || v * mult > POLICY_TIMEOUT_MAX ||
	    v * mult < POLICY_TIMEOUT_MIN)
		return policy_perr(ps, t->col, "scanner-timeout %s out of "
		    "range (expected 1s to 10m)", policy_tok_desc(&e, t));
	*out = (unsigned int)(v * mult);
	return 0;
}

/* An optional sign, digits, optionally "." and 1 or 2 digits; -1000..1000. */
static int
parse_score(struct policy_parser *ps, const struct policy_tok *t, int32_t *out)
{
	struct policy_escbuf	 e;
	const char		*s = t->s;
	size_t			 n = t->len, i = 0, ndig = 0, nfrac = 0;
	int64_t			 v = 0;
	bool			 neg = false, big = false;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, ndig++) {
		v = v * 10 + (s[i] - '0');
		if (v > POLICY_SCORE_MAX / 100) {
			big = true;
			v = POLICY_SCORE_MAX / 100 + 1;	/* no overflow */
		}
	}
	v *= 100;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nfrac++)
			if (nfrac < 2)
				v += (s[i] - '0') * (nfrac == 0 ? 10 : 1);
		if (nfrac == 0)
			ndig = 0;
	}
	if (ndig == 0 || i < n || nfrac > 2)
		return policy_perr(ps, t->col, "bad score %s (expected a "
		    "number with at most 2 decimals, such as 6 or -2.5)",
		    policy_tok_desc(&e, t));
	if (big || v > POLICY_SCORE_MAX)
		return policy_perr(ps, t->col, "score %s out of range "
		    "(expected -1000 to 1000)", policy_tok_desc(&e, t));
	*out = (int32_t)(neg ? -v : v);
	return 0;
}

/* Refuse a setting the block already has. */
static int
check_once(struct policy_parser *ps, const struct policy_tok *kw,
    struct policy_block *b, enum policy_setting s)
{
	struct policy_escbuf	e;

	if (b->set & (1U << s))
		return policy_perr(ps, kw->col, "\"%s\" given twice in %s "
		    "(first at line %lu)", setting_names[s], policy_blk_name(ps,
		    &e), (unsigned long)b->line[s]);
	return 0;
}

/* One value from a list of choices, then the end of the line. */
static int
parse_choice(struct policy_parser *ps, const char *name,
    const struct policy_choice *choices, const char *expect, int *out)
{
	struct policy_tok		 t;
	struct policy_escbuf		 e;
	const struct policy_choice	*c;
	char				 after[64];

	if (policy_lex_value(ps, &t, name) == -1)
		return -1;
	if (t.kind == T_END)
		return policy_perr(ps, t.col, "expected a value after \"%s\" "
		    "(%s)", name, expect);
	if ((c = policy_choice_find(choices, &t)) == NULL)
		return policy_perr(ps, t.col, "unknown value %s for \"%s\" "
		    "(expected %s)", policy_tok_desc(&e, &t), name, expect);
	*out = c->val;
	(void)snprintf(after, sizeof(after), "%s %s", name, c->name);
	return policy_lex_end(ps, after);
}

/* spam reject|junk|tag above SCORE | never */
static int
parse_spam(struct policy_parser *ps, const struct policy_tok *kw,
    struct policy_block *b)
{
	struct policy_tok		 t;
	struct policy_escbuf		 e;
	const struct policy_choice	*c;
	enum policy_setting		 s;
	int32_t				 score = 0;
	char				 after[64];

	if (policy_lex_value(ps, &t, "spam") == -1)
		return -1;
	if (t.kind == T_END)
		return policy_perr(ps, t.col, "expected reject, junk or tag "
		    "after \"spam\"");
	if ((c = policy_choice_find(spam_choices, &t)) == NULL)
		return policy_perr(ps, t.col, "unknown spam action %s "
		    "(expected reject, junk or tag)", policy_tok_desc(&e, &t));
	s = (enum policy_setting)c->val;
	if (check_once(ps, kw, b, s) == -1)
		return -1;
	(void)snprintf(after, sizeof(after), "spam %s", c->name);
	if (policy_lex_value(ps, &t, after) == -1)
		return -1;
	if (t.kind == T_END)
		return policy_perr(ps, t.col, "expected \"above\" or \"never\" "
		    "after \"%s\"", after);
	if (policy_tok_is(&t, "never")) {
		score = POLICY_SCORE_NEVER;
		(void)snprintf(after, sizeof(after), "spam %s never", c->name);
	} else if (policy_tok_is(&t, "above")) {
		(void)snprintf(after, sizeof(after), "spam %s above", c->name);
		if (policy_lex_value(ps, &t, after) == -1)
			return -1;
		if (t.kind == T_END)
			return policy_perr(ps, t.col, "expected a score after "
			    "\"%s\"", after);
		if (parse_score(ps, &t, &score) == -1)
			return -1;
		(void)snprintf(after, sizeof(after), "spam %s above %.*s",
		    c->name, (int)t.len, t.s);
	} else
		return policy_perr(ps, t.col, "unexpected %s after \"%s\" "
		    "(expected \"above\" or \"never\")", policy_tok_desc(&e,
		    &t), after);
	if (policy_lex_end(ps, after) == -1)
		return -1;
	if (s == POLICY_SPAM_REJECT)
		b->v.spam_reject = score;
	else if (s == POLICY_SPAM_JUNK)
		b->v.spam_junk = score;
	else
		b->v.spam_tag = score;
	b->set |= 1U << s;
	b->line[s] = ps->lineno;
	return 0;
}

/* headers NAME... | none */
static int
parse_headers(struct policy_parser *ps, unsigned int *out)
{
	struct policy_tok		 t;
	struct policy_escbuf		 e;
	const struct policy_choice	*c;
	unsigned int			 seen = 0;
	size_t				 n = 0;
	bool				 none = false;

	for (;;) {
		if (policy_lex_value(ps, &t, "headers") == -1)
			return -1;
		if (t.kind == T_END)
			break;
		if ((c = policy_choice_find(header_choices, &t)) == NULL)
			return policy_perr(ps, t.col, "unknown header %s "
			    "(expected spam-score, spam-status, "
			    "authentication-results or none)",
			    policy_tok_desc(&e, &t));
		if (none || (c->val == 0 && n > 0))
			return policy_perr(ps, t.col, "\"none\" must be the "
			    "only value of \"headers\"");
		if (c->val == 0)
			none = true;
		else if (seen & (unsigned int)c->val)
			return policy_perr(ps, t.col, "header \"%s\" listed "
			    "twice", c->name);
		seen |= (unsigned int)c->val;
		n++;
	}
	if (n == 0)
		return policy_perr(ps, t.col, "expected a header name or "
		    "\"none\" after \"headers\" (spam-score, spam-status, "
		    "authentication-results)");
	*out = seen;
	return 0;
}

int
policy_parse_setting(struct policy_parser *ps, const struct policy_tok *kw,
    int k)
{
	struct policy_block	*b;
	struct policy_tok	 t;
	enum policy_setting	 s;
	int			 v = 0;
	char			 after[64];

	b = ps->state == S_RULE ? &ps->p->rules[ps->rule].b :
	    &ps->p->defaults;
	if (strcmp(keywords[k], "spam") == 0)
		return parse_spam(ps, kw, b);
	for (s = 0; s < POLICY_SETTING_MAX; s++)
		if (strcmp(setting_names[s], keywords[k]) == 0)
			break;
	if (s == POLICY_SETTING_MAX)
		return policy_perr(ps, kw->col, "internal error: no setting");
	if (check_once(ps, kw, b, s) == -1)
		return -1;
	switch (s) {
	case POLICY_MAX_SIZE:
	case POLICY_SCANNER_TIMEOUT:
		if (policy_lex_value(ps, &t, setting_names[s]) == -1)
			return -1;
		if (t.kind == T_END)
			return policy_perr(ps, t.col, "expected a value after "
			    "\"%s\" (%s)", setting_names[s],
			    s == POLICY_MAX_SIZE ? "a size such as 10M" : "a "
			    "duration such as 30s");
		if (s == POLICY_MAX_SIZE &&
		    parse_size(ps, &t, &b->v.max_size) == -1)
			return -1;
		if (s == POLICY_SCANNER_TIMEOUT &&
		    parse_duration(ps, &t, &b->v.scanner_timeout) == -1)
			return -1;
		(void)snprintf(after, sizeof(after), "%s %.*s",
		    setting_names[s], (int)t.len, t.s);
		if (policy_lex_end(ps, after) == -1)
			return -1;
		break;
	case POLICY_PGP:
		if (parse_choice(ps, "pgp", pgp_choices,
		    "opportunistic, required or never", &v) == -1)
			return -1;
		b->v.pgp = (enum policy_pgp)v;
		break;
	case POLICY_TLS:
		if (parse_choice(ps, "tls", tls_choices,
		    "opportunistic or required", &v) == -1)
			return -1;
		b->v.tls = (enum policy_tls)v;
		break;
	case POLICY_SIGN:
	case POLICY_PROTECT_SUBJECT:
	case POLICY_ENCRYPT_TO_SENDER:
	case POLICY_WKD:
	case POLICY_AUTOCRYPT:
		if (parse_choice(ps, setting_names[s], yesno_choices,
		    "yes or no", &v) == -1)
			return -1;
		if (s == POLICY_SIGN)
			b->v.sign = v != 0;
		else if (s == POLICY_PROTECT_SUBJECT)
			b->v.protect_subject = v != 0;
		else if (s == POLICY_WKD)
			b->v.wkd = v != 0;
		else if (s == POLICY_AUTOCRYPT)
			b->v.autocrypt = v != 0;
		else
			b->v.encrypt_to_sender = v != 0;
		break;
	case POLICY_ANTIVIRUS:
		if (parse_choice(ps, "antivirus", av_choices,
		    "reject or quarantine", &v) == -1)
			return -1;
		b->v.antivirus = (enum policy_av)v;
		break;
	case POLICY_SCANNER_FAILURE:
		if (parse_choice(ps, "scanner-failure", scanfail_choices,
		    "tempfail or accept", &v) == -1)
			return -1;
		b->v.scanner_failure = (enum policy_scanfail)v;
		break;
	case POLICY_HEADERS:
		if (parse_headers(ps, &b->v.headers) == -1)
			return -1;
		break;
	default:
		return policy_perr(ps, kw->col, "internal error: setting");
	}
	b->set |= 1U << s;
	b->line[s] = ps->lineno;
	return 0;
}
