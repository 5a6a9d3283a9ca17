/* SPDX-License-Identifier: ISC */
/*
 * imap_search_cmd.c - SEARCH and UID SEARCH (RFC 3501 6.4.4), with
 * ESEARCH results when the client asks for them (RFC 4731 RETURN).
 *
 * Each message of the selected mailbox is matched by imap_search.c;
 * what a key needs is loaded only when it asks, once per message: the
 * sealed metadata record (FROM, TO, CC, BCC, SUBJECT, SENT*), the header
 * block (HEADER, TEXT), the decoded text of the body's text parts (BODY,
 * TEXT: decrypted, the transfer encoding undone, converted to UTF-8,
 * case-folded).
 *
 * Process:  imap-mail (the account's uid, in its jail).
 * Trust:    the keys are checked by imap_search.c; the message is
 *           hostile: decoded by GMime and GLib within the sizes the store
 *           holds.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "xmalloc.h"
#include "buf.h"
#include "index.h"
#include "meta.h"
#include "imap_cmd.h"
#include "imap_mbox.h"
#include "imap_mbox_int.h"
#include "imap_search.h"
#include "banned.h"

#define SC_HDR_MAX	(256 * 1024)	/* header bytes HEADER and TEXT read */

/* One message being matched, and what was loaded for it. */
struct sc_msg {
	struct imap_mbox	*m;
	uint32_t		 uid;
	bool			 meta_tried, hdr_tried, body_tried;
	struct meta		*rec;
	struct buf		*hdr;
	char			*body;		/* folded text of text parts */
};

static const struct meta *
sc_meta(void *arg)
{
	struct sc_msg	*x = arg;

	if (!x->meta_tried) {
		x->meta_tried = true;
		x->rec = mb_meta(x->m, x->uid);
	}
	return x->rec;
}

static const char *
sc_header(void *arg, size_t *len)
{
	struct sc_msg		*x = arg;
	struct index_msg	*msg;
	const struct meta	*rec;
	uint64_t		 end = SC_HDR_MAX;

	if (!x->hdr_tried) {
		x->hdr_tried = true;
		if ((rec = sc_meta(x)) != NULL &&
		    rec->parts[0].body_start < end)
			end = rec->parts[0].body_start;
		if ((msg = index_msg_open(x->m->ix, x->m->mb.id, x->uid)) !=
		    NULL) {
			if (end > index_msg_size(msg))
				end = index_msg_size(msg);
			x->hdr = mb_read(msg, 0, end);
			index_msg_close(msg);
		}
	}
	if (x->hdr == NULL)
		return NULL;
	*len = x->hdr->len;
	return (const char *)x->hdr->data;
}

/* The charset parameter of a part, or NULL. */
static const char *
sc_charset(const struct meta_part *p)
{
	uint32_t	i;

	for (i = 0; i < p->nparams; i++)
		if (g_ascii_strcasecmp(p->params[i].name, "charset") == 0)
			return p->params[i].value;
	return NULL;
}

/*
 * The text of every text/ part, decoded and folded, one after another
 * (a newline between parts, so that no match spans two of them).
 */
static void
sc_body_load(struct sc_msg *x)
{
	const struct meta	*rec;
	const struct meta_part	*p;
	struct index_msg	*msg;
	struct buf		*data;
	GString			*all;
	const char		*cs;
	gchar			*utf8;
	char			*f;
	uint32_t		 i;

	if ((rec = sc_meta(x)) == NULL || (msg = index_msg_open(x->m->ix,
	    x->m->mb.id, x->uid)) == NULL)
		return;
	all = g_string_new(NULL);
	for (i = 0; i < rec->nparts; i++) {
		p = &rec->parts[i];
		if (p->nchildren > 0 || strcmp(p->type, "text") != 0 ||
		    p->body_end > index_msg_size(msg))
			continue;
		if ((data = mb_read(msg, p->body_start, p->body_end)) == NULL)
			continue;
		if (mb_decode(rec, i, &data) == -1) {
			buf_free(&data);
			continue;
		}
		utf8 = NULL;
		if ((cs = sc_charset(p)) != NULL &&
		    g_ascii_strcasecmp(cs, "utf-8") != 0 &&
		    g_ascii_strcasecmp(cs, "us-ascii") != 0)
			utf8 = g_convert((const gchar *)data->data,
			    (gssize)data->len, "UTF-8", cs, NULL, NULL, NULL);
		f = utf8 != NULL ? imap_search_fold(utf8, strlen(utf8)) :
		    imap_search_fold((const char *)data->data, data->len);
		g_string_append(all, f);
		g_string_append_c(all, '\n');
		free(f);
		g_free(utf8);
		buf_free(&data);
	}
	index_msg_close(msg);
	x->body = xstrdup(all->str);
	g_string_free(all, TRUE);
}

static bool
sc_body_has(void *arg, const char *folded)
{
	struct sc_msg	*x = arg;

	if (!x->body_tried) {
		x->body_tried = true;
		sc_body_load(x);
	}
	return imap_search_has(x->body, folded);
}

static void
sc_msg_clear(struct sc_msg *x)
{
	meta_free(x->rec);
	buf_free(&x->hdr);
	free(x->body);
	memset(x, 0, sizeof(*x));
}

struct sc_rows {
	struct index_msg_info	*v;
	size_t			 n;
};

static int
sc_row(const struct index_msg_info *mi, void *arg)
{
	struct sc_rows	*r = arg;

	if (r->n % 256 == 0)
		r->v = xreallocarray(r->v, r->n + 256, sizeof(*r->v));
	r->v[r->n++] = *mi;
	return 0;
}

_Static_assert(MB_F_RECENT == IMAP_SEARCH_F_RECENT, "one \\Recent bit");

int
mb_search(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	struct imap_search	 s;
	struct imap_search_msg	 sm;
	struct sc_msg		 x;
	struct sc_rows		 rows = { NULL, 0 };
	const char		*err, *code;
	uint32_t		*hits;
	uint64_t		 maxmodseq = 0;
	size_t			 i, k = 0, nhits = 0;

	if (!m->selected) {
		mb_printf(o, "%s BAD No mailbox selected\r\n", c->tag);
		return 0;
	}
	if (imap_search_parse(c->args, c->nargs, &s, &err, &code) == -1) {
		if (code[0] == '\0')
			mb_printf(o, "%s BAD %s\r\n", c->tag, err);
		else if (strcmp(code, "BADCHARSET") == 0)
			mb_printf(o, "%s NO [BADCHARSET (UTF-8 US-ASCII)] %s\r\n",
			    c->tag, err);
		else
			mb_printf(o, "%s NO [%s] %s\r\n", c->tag, code, err);
		imap_search_free(&s);
		return 0;
	}
	imap_search_prepare(&s, (uint32_t)m->nuids, m->nuids > 0 ?
	    m->uids[m->nuids - 1] : 0);
	/* KEYWORD: the bit of the name; one nobody has matches nothing */
	for (i = 0; i < s.nnodes; i++)
		if (s.nodes[i].op == SK_KEYWORD ||
		    s.nodes[i].op == SK_UNKEYWORD) {
			int	bit = index_keyword(m->ix, s.nodes[i].name, 0);

			s.nodes[i].n = bit >= 0 ? 1ULL << bit : 0;
		}
	if (index_msg_foreach(m->ix, m->mb.id, 1, UINT32_MAX, 0, sc_row,
	    &rows) == -1) {
		mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
		    index_errstr(m->ix));
		imap_search_free(&s);
		free(rows.v);
		return 0;
	}
	hits = xreallocarray(NULL, m->nuids > 0 ? m->nuids : 1,
	    sizeof(*hits));
	memset(&x, 0, sizeof(x));
	/* both ascend by UID: walk them together */
	for (i = 0; i < m->nuids && !o->failed; i++) {
		while (k < rows.n && rows.v[k].uid < m->uids[i])
			k++;
		if (k == rows.n || rows.v[k].uid != m->uids[i])
			continue;	/* expunged by another connection */
		x.m = m;
		x.uid = m->uids[i];
		memset(&sm, 0, sizeof(sm));
		sm.seq = (uint32_t)i + 1;
		sm.uid = m->uids[i];
		sm.flags = rows.v[k].flags | (m->known[i].recent ?
		    MB_F_RECENT : 0);
		sm.keywords = rows.v[k].keywords;
		sm.size = rows.v[k].size;
		sm.modseq = rows.v[k].modseq;
		sm.internal_date = rows.v[k].internal_date;
		sm.nmsgs = (uint32_t)m->nuids;
		sm.maxuid = m->uids[m->nuids - 1];
		sm.meta = sc_meta;
		sm.header = sc_header;
		sm.body_has = sc_body_has;
		sm.arg = &x;
		if (imap_search_match(&s, &sm)) {
			hits[nhits++] = c->uid ? sm.uid : sm.seq;
			if (sm.modseq > maxmodseq)
				maxmodseq = sm.modseq;
		}
		sc_msg_clear(&x);
	}
	free(rows.v);
	/* RFC 9051 6.4.4: IMAP4rev2 answers with ESEARCH, ALL by default */
	if (m->rev2 && !s.esearch) {
		s.esearch = true;
		s.ret = IMAP_SEARCH_RET_ALL;
	}
	/* RFC 7162 3.1.5: MODSEQ asked: the highest of what matched */
	if (s.modseq)
		mb_condstore_on(m, o);
	if (!s.esearch) {
		mb_printf(o, "* SEARCH");
		for (i = 0; i < nhits; i++) {
			mb_printf(o, " %u", hits[i]);
			if (o->b->len > 1024 * 1024)
				mb_flush(o);
		}
		if (s.modseq && nhits > 0)
			mb_printf(o, " (MODSEQ %llu)",
			    (unsigned long long)maxmodseq);
		mb_printf(o, "\r\n");
	} else {
		/* RFC 4731 3.1: nothing for MIN, MAX and ALL when none */
		mb_printf(o, "* ESEARCH (TAG \"%s\")%s", c->tag, c->uid ?
		    " UID" : "");
		if ((s.ret & IMAP_SEARCH_RET_MIN) && nhits > 0)
			mb_printf(o, " MIN %u", hits[0]);
		if ((s.ret & IMAP_SEARCH_RET_MAX) && nhits > 0)
			mb_printf(o, " MAX %u", hits[nhits - 1]);
		if (s.ret & IMAP_SEARCH_RET_COUNT)
			mb_printf(o, " COUNT %zu", nhits);
		if ((s.ret & IMAP_SEARCH_RET_ALL) && nhits > 0) {
			mb_printf(o, " ALL ");
			mb_uidset(o, hits, nhits);
		}
		if (s.modseq && nhits > 0)
			mb_printf(o, " MODSEQ %llu",
			    (unsigned long long)maxmodseq);
		mb_printf(o, "\r\n");
	}
	free(hits);
	imap_search_free(&s);
	mb_printf(o, "%s OK %sSEARCH completed\r\n", c->tag, c->uid ? "UID " :
	    "");
	return 0;
}
