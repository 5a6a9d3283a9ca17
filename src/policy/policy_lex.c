/* SPDX-License-Identifier: ISC */
/*
 * policy_lex.c - the policy files' lines and tokens, and the parser's
 * error messages (the language is docs/sealpost.policy.5).
 *
 * Process:  wherever a policy is loaded (policy_load.c): the master,
 *           the filter service, sealpostctl.
 * Trust:    the files are the administrator's but are treated as hostile
 *           (fuzzed): every byte of a line is checked (no NUL, no control
 *           byte, valid UTF-8 without C1 controls) before a token is cut,
 *           and a message escapes every byte of the input it shows, so
 *           that an error is one line of printable ASCII.
 * Limits:   POLICY_LINE_MAX (checked by the caller), POLICY_ERR_MAX.
 * See also: policy_parse.c, policy_settings.c, policy_int.h
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_int.h"
#include "banned.h"

/*
 * Escape len bytes of s into e: printable ASCII as is, a backslash
 * doubled, any other byte as \xNN; past show bytes, "..." ends it.
 */
const char *
policy_esc_n(struct policy_escbuf *e, const char *s, size_t len, size_t show)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, o = 0;
	unsigned char		c;

	for (i = 0; i < len && i < show; i++) {
		c = (unsigned char)s[i];
		if (c == '\\') {
			e->s[o++] = '\\';
			e->s[o++] = '\\';
		} else if (c >= 0x20 && c < 0x7f)
			e->s[o++] = (char)c;
		else {
			e->s[o++] = '\\';
			e->s[o++] = 'x';
			e->s[o++] = hex[c >> 4];
			e->s[o++] = hex[c & 0xf];
		}
	}
	if (i < len) {
		e->s[o++] = '.';
		e->s[o++] = '.';
		e->s[o++] = '.';
	}
	e->s[o] = '\0';
	return e->s;
}

const char *
policy_esc(struct policy_escbuf *e, const char *s, size_t len)
{
	return policy_esc_n(e, s, len, ESC_SHOW);
}

/* A token as a message shows it: "word" (escaped), "{", a quoted name. */
const char *
policy_tok_desc(struct policy_escbuf *e, const struct policy_tok *t)
{
	struct policy_escbuf	w;

	switch (t->kind) {
	case T_END:
		return "the end of the line";
	case T_LBRACE:
		return "\"{\"";
	case T_RBRACE:
		return "\"}\"";
	case T_QUOTED:
		return "a quoted string";
	case T_WORD:
		break;
	}
	(void)snprintf(e->s, sizeof(e->s), "\"%s\"", policy_esc(&w, t->s,
	    t->len));
	return e->s;
}

static int	perr_va(struct policy_parser *, uint32_t, size_t, const char *,
		    va_list) __attribute__((format(printf, 4, 0)));

static int
perr_va(struct policy_parser *ps, uint32_t line, size_t col, const char *fmt,
    va_list ap)
{
	char	msg[POLICY_ERR_MAX];

	if (ps->err == NULL || ps->errlen == 0)
		return -1;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	(void)snprintf(ps->err, ps->errlen, "%s:%lu:%zu: %s", ps->fname,
	    (unsigned long)line, col, msg);
	return -1;
}

int
policy_perr_at(struct policy_parser *ps, uint32_t line, size_t col,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	perr_va(ps, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error at column col of the current line; returns -1. */
int
policy_perr(struct policy_parser *ps, size_t col, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	perr_va(ps, ps->lineno, col, fmt, ap);
	va_end(ap);
	return -1;
}

bool
policy_tok_is(const struct policy_tok *t, const char *word)
{
	size_t	n = strlen(word);

	return t->kind == T_WORD && t->len == n && memcmp(t->s, word, n) == 0;
}

const struct policy_choice *
policy_choice_find(const struct policy_choice *c, const struct policy_tok *t)
{
	for (; c->name != NULL; c++)
		if (policy_tok_is(t, c->name))
			return c;
	return NULL;
}

/* How a block is named in messages: rule "x" or "defaults". */
const char *
policy_blk_name(struct policy_parser *ps, struct policy_escbuf *e)
{
	struct policy_escbuf	n;
	const struct policy_rule *r;

	if (ps->state != S_RULE)
		return "\"defaults\"";
	r = &ps->p->rules[ps->rule];
	(void)snprintf(e->s, sizeof(e->s), "rule \"%s\"",
	    policy_esc(&n, r->name, strlen(r->name)));
	return e->s;
}

/*
 * The length of the valid UTF-8 sequence at s (RFC 3629: shortest form,
 * no surrogates, at most U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	c = s[0], lo = 0x80, hi = 0xbf;
	size_t		len, i;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Every byte of the line, before any token: tab and printable ASCII, and
 * valid UTF-8 without C1 controls.  Where UTF-8 may stand is the
 * tokenizer's and the parser's business.
 */
int
policy_lex_check(struct policy_parser *ps)
{
	const unsigned char	*l = (const unsigned char *)ps->line;
	size_t			 i = 0, k;

	while (i < ps->linelen) {
		if (l[i] == '\t' || (l[i] >= 0x20 && l[i] < 0x7f)) {
			i++;
			continue;
		}
		if (l[i] == '\0')
			return policy_perr(ps, i + 1, "NUL byte (not allowed "
			    "in a policy file)");
		if (l[i] < 0x80)
			return policy_perr(ps, i + 1, "control byte \\x%02x "
			    "(not allowed in a policy file)", l[i]);
		if ((k = utf8_len(l + i, ps->linelen - i)) == 0)
			return policy_perr(ps, i + 1, "invalid UTF-8");
		/* SECURITY: C1 controls (U+0080..U+009F) reach terminals */
		if (l[i] == 0xc2 && l[i + 1] < 0xa0)
			return policy_perr(ps, i + 1, "control character "
			    "U+%04X (not allowed in a policy file)", l[i + 1]);
		i += k;
	}
	return 0;
}

/*
 * The next token of the current line.  A comment ends the line; it may
 * hold printable ASCII only.
 */
int
policy_lex_next(struct policy_parser *ps, struct policy_tok *t)
{
	const char	*l = ps->line, *q;
	size_t		 n = ps->linelen, i = ps->pos, j;

	memset(t, 0, sizeof(*t));
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	t->col = i + 1;
	if (i == n) {
		ps->pos = n;
		t->kind = T_END;
		return 0;
	}
	switch (l[i]) {
	case '#':
		/* any valid UTF-8 (checked with the whole line above) */
		ps->pos = n;
		t->kind = T_END;
		return 0;
	case '{':
		ps->pos = i + 1;
		t->kind = T_LBRACE;
		return 0;
	case '}':
		ps->pos = i + 1;
		t->kind = T_RBRACE;
		return 0;
	case '"':
		if ((q = memchr(l + i + 1, '"', n - i - 1)) == NULL)
			return policy_perr(ps, i + 1, "unterminated quoted "
			    "name (expected a closing '\"' on the same line)");
		t->kind = T_QUOTED;
		t->s = l + i + 1;
		t->len = (size_t)(q - t->s);
		ps->pos = (size_t)(q - l) + 1;
		break;
	default:
		for (j = i; j < n; j++)
			if (l[j] == ' ' || l[j] == '\t' || l[j] == '{' ||
			    l[j] == '}' || l[j] == '#' || l[j] == '"')
				break;
		t->kind = T_WORD;
		t->s = l + i;
		t->len = j - i;
		ps->pos = j;
		break;
	}
	for (j = 0; j < t->len; j++)
		if ((unsigned char)t->s[j] >= 0x80)
			t->eight = true;
	return 0;
}

/* The line must end here. */
int
policy_lex_end(struct policy_parser *ps, const char *after)
{
	struct policy_tok	t;
	struct policy_escbuf	e;

	if (policy_lex_next(ps, &t) == -1)
		return -1;
	if (t.kind != T_END)
		return policy_perr(ps, t.col, "unexpected %s after \"%s\" "
		    "(expected the end of the line)", policy_tok_desc(&e, &t),
		    after);
	return 0;
}

/* The next value on a setting or matcher line: a word, or T_END. */
int
policy_lex_value(struct policy_parser *ps, struct policy_tok *t,
    const char *after)
{
	if (policy_lex_next(ps, t) == -1)
		return -1;
	switch (t->kind) {
	case T_END:
	case T_WORD:
		return 0;
	case T_LBRACE:
		return policy_perr(ps, t->col, "unexpected \"{\" after \"%s\" "
		    "(\"{\" only ends a block header line)", after);
	case T_RBRACE:
		return policy_perr(ps, t->col, "unexpected \"}\" after \"%s\" "
		    "(\"}\" stands on its own line)", after);
	case T_QUOTED:
		break;
	}
	return policy_perr(ps, t->col, "unexpected quoted string after \"%s\" "
	    "(only a rule name may be quoted)", after);
}
