/* SPDX-License-Identifier: ISC */
/*
 * imap_search.c - SEARCH keys parsed into a tree and matched against one
 * message (imap_search.h).
 *
 * Process:  imap-mail.
 * Trust:    the arguments are the client's, already bounded by
 *           imap_cmd.c (count, depth of lists); here NOT/OR chains and
 *           lists together are bounded by IMAP_SEARCH_DEPTH_MAX (the
 *           parser and the matcher recurse once per level, no more), and
 *           every number, date and set is checked.  Message text is
 *           hostile: decoded by GMime, folded by GLib, searched with
 *           bounded strstr over NUL-terminated copies.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gmime/gmime.h>

#include "xmalloc.h"
#include "index.h"
#include "meta.h"
#include "imap_cmd.h"
#include "imap_seqset.h"
#include "imap_search.h"
#include "banned.h"

struct sp {
	const struct imap_arg	*v;
	size_t			 n, i;
	struct imap_search	*s;
	const char		*err, *code;
};

static int
sp_fail(struct sp *p, const char *code, const char *err)
{
	if (p->err == NULL) {
		p->err = err;
		p->code = code;
	}
	return -1;
}

static int
sp_node(struct sp *p, enum imap_sk op)
{
	struct imap_search	*s = p->s;

	if (s->nnodes == IMAP_SEARCH_NODES_MAX)
		return sp_fail(p, "LIMIT", "Search too complex");
	if (s->nnodes % 64 == 0)
		s->nodes = xreallocarray(s->nodes, s->nnodes + 64,
		    sizeof(*s->nodes));
	memset(&s->nodes[s->nnodes], 0, sizeof(s->nodes[0]));
	s->nodes[s->nnodes].op = op;
	return (int)s->nnodes++;
}

static bool
sp_is(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && a->len == strlen(word) &&
	    strncasecmp(a->s, word, a->len) == 0;
}

/* An astring argument (atom, quoted or literal; NUL refused). */
static const struct imap_arg *
sp_string(struct sp *p)
{
	const struct imap_arg	*a;

	if (p->i == p->n) {
		sp_fail(p, "", "Missing search string");
		return NULL;
	}
	a = &p->v[p->i++];
	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED &&
	    a->type != IMAP_ARG_LITERAL) || memchr(a->s, '\0', a->len)) {
		sp_fail(p, "", "Invalid search string");
		return NULL;
	}
	return a;
}

/* mod-sequence-valzer: 1*DIGIT, at most 2^63 - 1 (RFC 7162 7). */
static int
sp_modseq(struct sp *p, uint64_t *v)
{
	const struct imap_arg	*a;
	size_t			 i;

	if (p->i == p->n || (a = &p->v[p->i++])->type != IMAP_ARG_ATOM ||
	    a->len == 0 || a->len > 19)
		return sp_fail(p, "", "Invalid mod-sequence in search");
	*v = 0;
	for (i = 0; i < a->len; i++) {
		if (a->s[i] < '0' || a->s[i] > '9')
			return sp_fail(p, "", "Invalid mod-sequence in search");
		*v = *v * 10 + (uint64_t)(a->s[i] - '0');
	}
	if (*v > (uint64_t)INT64_MAX)
		return sp_fail(p, "", "Mod-sequence out of range");
	return 0;
}

/* number: 1*DIGIT, at most 2^32 - 1 (RFC 3501 9). */
static int
sp_number(struct sp *p, uint64_t *v)
{
	const struct imap_arg	*a;
	size_t			 i;

	if (p->i == p->n || (a = &p->v[p->i++])->type != IMAP_ARG_ATOM ||
	    a->len == 0 || a->len > 10)
		return sp_fail(p, "", "Invalid number in search");
	*v = 0;
	for (i = 0; i < a->len; i++) {
		if (a->s[i] < '0' || a->s[i] > '9')
			return sp_fail(p, "", "Invalid number in search");
		*v = *v * 10 + (uint64_t)(a->s[i] - '0');
	}
	if (*v > UINT32_MAX)
		return sp_fail(p, "", "Number out of range");
	return 0;
}

/* date = date-day "-" date-month "-" date-year, maybe quoted: days. */
static int
sp_date(struct sp *p, uint64_t *days)
{
	static const char	 months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const struct imap_arg	*a;
	char			 d[16];
	struct tm		 tm;
	int			 day, year, mon;
	char			 mname[4], *end;
	time_t			 t;

	if ((a = sp_string(p)) == NULL)
		return -1;
	if (a->len < 10 || a->len > 11)
		return sp_fail(p, "", "Invalid date in search");
	memcpy(d, a->s, a->len);
	d[a->len] = '\0';
	day = (int)strtol(d, &end, 10);
	if (end == d || end - d > 2 || *end != '-' || day < 1 || day > 31 ||
	    strlen(end) != 9 || end[4] != '-')
		return sp_fail(p, "", "Invalid date in search");
	memcpy(mname, end + 1, 3);
	mname[3] = '\0';
	for (mon = 0; mon < 12; mon++)
		if (strncasecmp(months + 3 * mon, mname, 3) == 0)
			break;
	year = (int)strtol(end + 5, &end, 10);
	if (mon == 12 || *end != '\0' || year < 1000 || year > 9999)
		return sp_fail(p, "", "Invalid date in search");
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = mon;
	tm.tm_year = year - 1900;
	tm.tm_hour = 12;
	if ((t = timegm(&tm)) == (time_t)-1)
		return sp_fail(p, "", "Invalid date in search");
	*days = (uint64_t)((int64_t)t / 86400 + 1000000);	/* never < 0 */
	return 0;
}

static int	sp_key(struct sp *, int);

/* Keys from here to the end of the list: an AND node. */
static int
sp_and(struct sp *p, int depth)
{
	int		 and, k, last = -1;

	if ((and = sp_node(p, SK_AND)) == -1)
		return -1;
	if (p->i == p->n)
		return sp_fail(p, "", "Missing search key");
	while (p->i < p->n) {
		if ((k = sp_key(p, depth)) == -1)
			return -1;
		if (last == -1)
			p->s->nodes[and].a = (uint32_t)k;
		else
			p->s->nodes[last].next = (uint32_t)k;
		last = k;
	}
	return and;
}

static int
sp_key(struct sp *p, int depth)
{
	static const struct { const char *w; enum imap_sk op; uint32_t f; }
	    simple[] = {
		{ "ALL", SK_ALL, 0 },
		{ "OLD", SK_FLAG_UNSET, IMAP_SEARCH_F_RECENT },
		{ "NEW", SK_NEW, 0 },
		{ "RECENT", SK_FLAG_SET, IMAP_SEARCH_F_RECENT },
		{ "ANSWERED", SK_FLAG_SET, INDEX_F_ANSWERED },
		{ "DELETED", SK_FLAG_SET, INDEX_F_DELETED },
		{ "DRAFT", SK_FLAG_SET, INDEX_F_DRAFT },
		{ "FLAGGED", SK_FLAG_SET, INDEX_F_FLAGGED },
		{ "SEEN", SK_FLAG_SET, INDEX_F_SEEN },
		{ "UNANSWERED", SK_FLAG_UNSET, INDEX_F_ANSWERED },
		{ "UNDELETED", SK_FLAG_UNSET, INDEX_F_DELETED },
		{ "UNDRAFT", SK_FLAG_UNSET, INDEX_F_DRAFT },
		{ "UNFLAGGED", SK_FLAG_UNSET, INDEX_F_FLAGGED },
		{ "UNSEEN", SK_FLAG_UNSET, INDEX_F_SEEN },
	};
	static const struct { const char *w; enum imap_sk op; } strs[] = {
		{ "FROM", SK_FROM }, { "TO", SK_TO }, { "CC", SK_CC },
		{ "BCC", SK_BCC }, { "SUBJECT", SK_SUBJECT },
		{ "BODY", SK_BODY }, { "TEXT", SK_TEXT },
	};
	static const struct { const char *w; enum imap_sk op; } dates[] = {
		{ "BEFORE", SK_BEFORE }, { "ON", SK_ON }, { "SINCE", SK_SINCE },
		{ "SENTBEFORE", SK_SENTBEFORE }, { "SENTON", SK_SENTON },
		{ "SENTSINCE", SK_SENTSINCE },
	};
	const struct imap_arg	*a, *str;
	struct imap_seqset	 set;
	struct sp		 sub;
	const char		*err;
	size_t			 i;
	int			 k, c;

	if (depth >= IMAP_SEARCH_DEPTH_MAX)
		return sp_fail(p, "LIMIT", "Search nested too deeply");
	if (p->i == p->n)
		return sp_fail(p, "", "Missing search key");
	a = &p->v[p->i++];
	if (a->type == IMAP_ARG_LIST) {
		sub = *p;
		sub.v = a->list;
		sub.n = a->n;
		sub.i = 0;
		k = sp_and(&sub, depth + 1);
		p->err = sub.err;
		p->code = sub.code;
		return k;
	}
	if (a->type != IMAP_ARG_ATOM)
		return sp_fail(p, "", "Invalid search key");
	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (sp_is(a, simple[i].w)) {
			if ((k = sp_node(p, simple[i].op)) != -1)
				p->s->nodes[k].n = simple[i].f;
			return k;
		}
	if (sp_is(a, "KEYWORD") || sp_is(a, "UNKEYWORD")) {
		/* flag-keyword = atom; its bit is the caller's to find */
		if (p->i == p->n || (str = &p->v[p->i++])->type !=
		    IMAP_ARG_ATOM || str->s[0] == '\\' || str->len > 64)
			return sp_fail(p, "", "Invalid keyword");
		if ((k = sp_node(p, a->len == 7 ? SK_KEYWORD :
		    SK_UNKEYWORD)) == -1)
			return -1;
		p->s->nodes[k].name = xstrndup(str->s, str->len);
		return k;
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (sp_is(a, strs[i].w)) {
			if ((str = sp_string(p)) == NULL ||
			    (k = sp_node(p, strs[i].op)) == -1)
				return -1;
			p->s->nodes[k].s = imap_search_fold(str->s, str->len);
			if (strs[i].op == SK_BODY || strs[i].op == SK_TEXT)
				p->s->needs_body = true;
			if (strs[i].op == SK_TEXT)
				p->s->needs_header = true;
			if (strs[i].op != SK_BODY && strs[i].op != SK_TEXT)
				p->s->needs_meta = true;
			return k;
		}
	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++)
		if (sp_is(a, dates[i].w)) {
			if ((k = sp_node(p, dates[i].op)) == -1 ||
			    sp_date(p, &p->s->nodes[k].n) == -1)
				return -1;
			if (dates[i].op >= SK_SENTBEFORE)
				p->s->needs_meta = true;
			return k;
		}
	if (sp_is(a, "MODSEQ")) {
		/*
		 * RFC 7162 3.1.5: MODSEQ ["/flags/name" priv|shared|all]
		 * n; the metadata entry narrows nothing here (one modseq
		 * per message), so it is checked and passed over.
		 */
		if (p->i < p->n && p->v[p->i].type != IMAP_ARG_ATOM) {
			if (p->i + 2 >= p->n)
				return sp_fail(p, "", "Invalid MODSEQ entry");
			str = &p->v[p->i++];
			a = &p->v[p->i++];
			if (str->type != IMAP_ARG_QUOTED || str->len < 7 ||
			    strncasecmp(str->s, "/flags/", 7) != 0 ||
			    !(sp_is(a, "priv") || sp_is(a, "shared") ||
			    sp_is(a, "all")))
				return sp_fail(p, "", "Invalid MODSEQ entry");
		}
		if ((k = sp_node(p, SK_MODSEQ)) == -1 ||
		    sp_modseq(p, &p->s->nodes[k].n) == -1)
			return -1;
		p->s->modseq = true;
		return k;
	}
	if (sp_is(a, "LARGER") || sp_is(a, "SMALLER")) {
		if ((k = sp_node(p, a->len == 6 ? SK_LARGER : SK_SMALLER)) ==
		    -1 || sp_number(p, &p->s->nodes[k].n) == -1)
			return -1;
		return k;
	}
	if (sp_is(a, "HEADER")) {
		const struct imap_arg	*name;

		if ((name = sp_string(p)) == NULL || (str = sp_string(p)) ==
		    NULL || (k = sp_node(p, SK_HEADER)) == -1)
			return -1;
		for (i = 0; i < name->len; i++)
			if ((unsigned char)name->s[i] <= 32 ||
			    (unsigned char)name->s[i] >= 127 ||
			    name->s[i] == ':')
				return sp_fail(p, "", "Invalid header name");
		if (name->len == 0 || name->len > 76)
			return sp_fail(p, "", "Invalid header name");
		p->s->nodes[k].name = xstrndup(name->s, name->len);
		p->s->nodes[k].s = imap_search_fold(str->s, str->len);
		p->s->needs_header = true;
		return k;
	}
	if (sp_is(a, "NOT")) {
		if ((k = sp_node(p, SK_NOT)) == -1 ||
		    (c = sp_key(p, depth + 1)) == -1)
			return -1;
		p->s->nodes[k].a = (uint32_t)c;
		return k;
	}
	if (sp_is(a, "OR")) {
		if ((k = sp_node(p, SK_OR)) == -1 ||
		    (c = sp_key(p, depth + 1)) == -1)
			return -1;
		p->s->nodes[k].a = (uint32_t)c;
		if ((c = sp_key(p, depth + 1)) == -1)
			return -1;
		p->s->nodes[k].b = (uint32_t)c;
		return k;
	}
	if (sp_is(a, "UID")) {
		if (p->i == p->n || (str = &p->v[p->i++])->type !=
		    IMAP_ARG_ATOM)
			return sp_fail(p, "", "Invalid UID set");
		a = str;
		c = SK_UID;
	} else
		c = SK_SEQ;
	/* a sequence set: checked now, resolved against "*" when matched */
	if (imap_seqset_parse(a->s, a->len, UINT32_MAX, &set, &err) == -1)
		return sp_fail(p, "", c == SK_UID ? err : "Unknown search key");
	imap_seqset_free(&set);
	if ((k = sp_node(p, (enum imap_sk)c)) == -1)
		return -1;
	p->s->nodes[k].s = xstrndup(a->s, a->len);
	return k;
}

int
imap_search_parse(const struct imap_arg *args, size_t nargs,
    struct imap_search *s, const char **err_r, const char **code_r)
{
	struct sp	p = { args, nargs, 0, s, NULL, NULL };
	size_t		i;

	memset(s, 0, sizeof(*s));
	/* RFC 4731: RETURN (options) first */
	if (p.i < p.n && sp_is(&args[p.i], "RETURN")) {
		const struct imap_arg	*o;

		if (++p.i == p.n || (o = &args[p.i++])->type != IMAP_ARG_LIST)
			goto bad_return;
		s->esearch = true;
		for (i = 0; i < o->n; i++) {
			if (sp_is(&o->list[i], "MIN"))
				s->ret |= IMAP_SEARCH_RET_MIN;
			else if (sp_is(&o->list[i], "MAX"))
				s->ret |= IMAP_SEARCH_RET_MAX;
			else if (sp_is(&o->list[i], "ALL"))
				s->ret |= IMAP_SEARCH_RET_ALL;
			else if (sp_is(&o->list[i], "COUNT"))
				s->ret |= IMAP_SEARCH_RET_COUNT;
			else
				goto bad_return;
		}
		if (s->ret == 0)
			s->ret = IMAP_SEARCH_RET_ALL;	/* RFC 4731 3.1 */
	}
	if (p.i < p.n && sp_is(&args[p.i], "CHARSET")) {
		const struct imap_arg	*cs;

		p.i++;
		if ((cs = sp_string(&p)) == NULL)
			goto fail;
		if (!(cs->len == 5 && strncasecmp(cs->s, "UTF-8", 5) == 0) &&
		    !(cs->len == 8 && strncasecmp(cs->s, "US-ASCII", 8) == 0)) {
			sp_fail(&p, "BADCHARSET", "Unsupported charset");
			goto fail;
		}
	}
	if (sp_and(&p, 0) != 0)
		goto fail;
	return 0;
bad_return:
	sp_fail(&p, "", "Invalid RETURN options");
fail:
	*err_r = p.err;
	*code_r = p.code;
	return -1;
}

void
imap_search_free(struct imap_search *s)
{
	size_t	i;

	for (i = 0; i < s->nnodes; i++) {
		free(s->nodes[i].s);
		free(s->nodes[i].name);
		if (s->nodes[i].set != NULL) {
			imap_seqset_free(s->nodes[i].set);
			free(s->nodes[i].set);
		}
	}
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

void
imap_search_prepare(struct imap_search *s, uint32_t nmsgs, uint32_t maxuid)
{
	struct imap_sknode	*n;
	const char		*err;
	size_t			 i;

	for (i = 0; i < s->nnodes; i++) {
		n = &s->nodes[i];
		if (n->op != SK_SEQ && n->op != SK_UID)
			continue;
		if (n->set != NULL) {
			imap_seqset_free(n->set);
			free(n->set);
		}
		n->set = xcalloc(1, sizeof(*n->set));
		/* checked by the parser: it parses */
		if (imap_seqset_parse(n->s, strlen(n->s), n->op == SK_SEQ ?
		    nmsgs : maxuid, n->set, &err) == -1)
			memset(n->set, 0, sizeof(*n->set));
	}
}

char *
imap_search_fold(const char *s, size_t len)
{
	gchar	*conv = NULL, *folded;
	char	*out;

	if (!g_utf8_validate(s, (gssize)len, NULL)) {
		/* not UTF-8: read as Latin-1, every byte a character */
		conv = g_convert(s, (gssize)len, "UTF-8", "ISO-8859-1", NULL,
		    NULL, NULL);
		if (conv == NULL)
			return xstrdup("");
		s = conv;
		len = strlen(conv);
	}
	folded = g_utf8_casefold(s, (gssize)len);
	out = xstrdup(folded);
	g_free(folded);
	g_free(conv);
	return out;
}

bool
imap_search_has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* The text of a string field, folded; NULL when there is none. */
static bool
sm_field_has(const char *field, const char *needle)
{
	char	*f;
	bool	 r;

	if (field == NULL)
		return false;
	f = imap_search_fold(field, strlen(field));
	r = imap_search_has(f, needle);
	free(f);
	return r;
}

bool
imap_search_header_has(const char *hdr, size_t len, const char *name,
    const char *needle)
{
	const char	*p = hdr, *end = hdr + len, *eol, *v;
	size_t		 nl = strlen(name), n;
	GString		*val;
	bool		 hit = false;

	while (p < end && !hit) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (eol - p <= 1)
			break;		/* the blank line */
		n = (size_t)(eol - p);
		if (n > nl && strncasecmp(p, name, nl) == 0) {
			v = p + nl;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if (v < eol && *v == ':') {
				char	*dec, *f;

				/* the value with its continuation lines */
				val = g_string_new_len(v + 1, eol - v - 1);
				while (eol + 1 < end && (eol[1] == ' ' ||
				    eol[1] == '\t')) {
					p = eol + 1;
					if ((eol = memchr(p, '\n',
					    (size_t)(end - p))) == NULL)
						eol = end;
					g_string_append_len(val, p, eol - p);
				}
				g_strdelimit(val->str, "\r\n", ' ');
				dec = g_mime_utils_header_decode_text(NULL,
				    val->str);
				f = imap_search_fold(dec, strlen(dec));
				hit = imap_search_has(f, needle);
				free(f);
				g_free(dec);
				g_string_free(val, TRUE);
			}
		}
		p = eol + 1;
	}
	return hit;
}

static bool
sm_match(const struct imap_search *s, uint32_t k,
    const struct imap_search_msg *m, int depth)
{
	const struct imap_sknode	*n = &s->nodes[k];
	const struct meta		*rec;
	const char			*hdr;
	int64_t				 when, day;
	size_t				 len;
	uint32_t			 c;
	bool				 r;

	if (depth > IMAP_SEARCH_DEPTH_MAX + 1)
		return false;		/* the parser does not build these */
	switch (n->op) {
	case SK_AND:
		for (c = n->a; ; c = s->nodes[c].next) {
			if (!sm_match(s, c, m, depth + 1))
				return false;
			if (s->nodes[c].next == 0)
				return true;
		}
	case SK_OR:
		return sm_match(s, n->a, m, depth + 1) ||
		    sm_match(s, n->b, m, depth + 1);
	case SK_NOT:
		return !sm_match(s, n->a, m, depth + 1);
	case SK_ALL:
		return true;
	case SK_NONE:
		return false;
	case SK_NEW:
		return (m->flags & IMAP_SEARCH_F_RECENT) != 0 &&
		    (m->flags & INDEX_F_SEEN) == 0;
	case SK_FLAG_SET:
		return (m->flags & n->n) != 0;
	case SK_FLAG_UNSET:
		return (m->flags & n->n) == 0;
	case SK_KEYWORD:
		return (m->keywords & n->n) != 0;
	case SK_UNKEYWORD:
		return (m->keywords & n->n) == 0;
	case SK_MODSEQ:
		return m->modseq >= n->n;
	case SK_LARGER:
		return m->size > n->n;
	case SK_SMALLER:
		return m->size < n->n;
	case SK_SEQ:
	case SK_UID:
		return n->set != NULL && imap_seqset_has(n->set,
		    n->op == SK_SEQ ? m->seq : m->uid);
	case SK_BEFORE:
	case SK_ON:
	case SK_SINCE:
	case SK_SENTBEFORE:
	case SK_SENTON:
	case SK_SENTSINCE:
		/* RFC 3501: the date alone; the Date header in its own zone,
		 * the internal date when a message has no Date we can read */
		when = m->internal_date;
		if (n->op >= SK_SENTBEFORE && (rec = m->meta(m->arg)) != NULL &&
		    rec->has_date)
			when = rec->date + (int64_t)rec->date_zone * 60;
		day = (when >= 0 ? when / 86400 : (when - 86399) / 86400) +
		    1000000;
		switch (n->op) {
		case SK_BEFORE:
		case SK_SENTBEFORE:
			return day < (int64_t)n->n;
		case SK_ON:
		case SK_SENTON:
			return day == (int64_t)n->n;
		default:
			return day >= (int64_t)n->n;
		}
	case SK_FROM:
	case SK_TO:
	case SK_CC:
	case SK_BCC:
	case SK_SUBJECT:
		if ((rec = m->meta(m->arg)) == NULL)
			return false;
		return sm_field_has(n->op == SK_FROM ? rec->from :
		    n->op == SK_TO ? rec->to : n->op == SK_CC ? rec->cc :
		    n->op == SK_BCC ? rec->bcc : rec->subject, n->s);
	case SK_HEADER:
		if ((hdr = m->header(m->arg, &len)) == NULL)
			return false;
		return imap_search_header_has(hdr, len, n->name, n->s);
	case SK_TEXT:
		r = false;
		if ((hdr = m->header(m->arg, &len)) != NULL) {
			char	*f = imap_search_fold(hdr, len);

			r = imap_search_has(f, n->s);
			free(f);
		}
		return r || m->body_has(m->arg, n->s);
	case SK_BODY:
		return m->body_has(m->arg, n->s);
	}
	return false;
}

bool
imap_search_match(const struct imap_search *s,
    const struct imap_search_msg *m)
{
	return s->nnodes > 0 && sm_match(s, 0, m, 0);
}
