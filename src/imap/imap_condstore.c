/* SPDX-License-Identifier: ISC */
/*
 * imap_condstore.c - CONDSTORE and QRESYNC (RFC 7162) in the account's
 * mail process: the SELECT/EXAMINE parameters and the
 * resynchronisation they ask for, the FETCH modifiers, mod-sequence
 * values, and VANISHED.  The modseqs themselves are the index's: every
 * message has one, every mailbox its highest, both only grow and are on
 * disk with the change (store/index.c); expunged UIDs are kept with the
 * modseq of their expunge (index_vanished).
 *
 * Process:  imap-mail (the account's uid, in its jail).
 * Trust:    the arguments are the client's, shaped by imap_cmd.c: every
 *           number is checked here (digits only, at most 2^63 - 1), every
 *           set by imap_seqset.c.
 * See also: imap_mbox.c (SELECT, STORE, the news), imap_fetch.c (FETCH),
 *           imap_search.c (SEARCH MODSEQ).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "xmalloc.h"
#include "buf.h"
#include "index.h"
#include "imap_cmd.h"
#include "imap_seqset.h"
#include "imap_mbox.h"
#include "imap_mbox_int.h"
#include "banned.h"

int
mb_modseq_arg(const struct imap_arg *a, bool zero_ok, uint64_t *v_r)
{
	uint64_t	v = 0;
	size_t		i;

	/* RFC 7162 7: mod-sequence-value, 1..2^63-1 (valzer: 0 too) */
	if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 19 ||
	    (a->len > 1 && a->s[0] == '0'))
		return -1;
	for (i = 0; i < a->len; i++) {
		if (a->s[i] < '0' || a->s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(a->s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX || (v == 0 && !zero_ok))
		return -1;
	*v_r = v;
	return 0;
}

void
mb_condstore_on(struct imap_mbox *m, struct mb_out *o)
{
	if (m->condstore)
		return;
	m->condstore = true;
	/* RFC 7162 3.1: enabled with a mailbox selected: its highest now */
	if (m->selected)
		mb_printf(o, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
		    (unsigned long long)m->mb.highestmodseq);
}

void
mb_select_opts_free(struct mb_select_opts *so)
{
	if (so->have_known)
		imap_seqset_free(&so->known);
	memset(so, 0, sizeof(*so));
}

/*
 * SELECT/EXAMINE's parameters (RFC 4466 select-params): "(CONDSTORE)"
 * and "(QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]]))".  0,
 * or -1 with *err_r.
 */
int
mb_select_opts(struct imap_mbox *m, const struct imap_arg *a,
    struct mb_select_opts *so, const char **err_r)
{
	const struct imap_arg	*q, *p;
	uint64_t		 uv;
	size_t			 i;

	memset(so, 0, sizeof(*so));
	*err_r = "Invalid SELECT parameters";
	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (i = 0; i < a->n; i++) {
		p = &a->list[i];
		if (mb_is(p, "CONDSTORE")) {
			so->condstore = true;
			continue;
		}
		if (!mb_is(p, "QRESYNC") || so->qresync || i + 1 >= a->n ||
		    (q = &a->list[++i])->type != IMAP_ARG_LIST ||
		    q->n < 2 || q->n > 4)
			return -1;
		/* RFC 7162 3.2.5: only once QRESYNC is enabled */
		if (!m->qresync) {
			*err_r = "QRESYNC is not enabled";
			return -1;
		}
		if (mb_modseq_arg(&q->list[0], false, &uv) == -1 ||
		    uv > UINT32_MAX ||
		    mb_modseq_arg(&q->list[1], false, &so->modseq) == -1)
			return -1;
		so->uidvalidity = (uint32_t)uv;
		if (q->n >= 3) {
			if (q->list[2].type != IMAP_ARG_ATOM ||
			    imap_seqset_parse(q->list[2].s, q->list[2].len,
			    UINT32_MAX, &so->known, err_r) == -1)
				return -1;
			so->have_known = true;
		}
		/* the sequence match data: checked, not needed (we keep the
		 * whole expunge history) */
		if (q->n == 4 && (q->list[3].type != IMAP_ARG_LIST ||
		    q->list[3].n != 2 ||
		    q->list[3].list[0].type != IMAP_ARG_ATOM ||
		    q->list[3].list[1].type != IMAP_ARG_ATOM)) {
			mb_select_opts_free(so);
			return -1;
		}
		so->qresync = true;
	}
	return 0;
}

void
mb_vanished(struct mb_out *o, bool earlier, const struct index_uidrange *r,
    size_t n, const struct imap_seqset *within)
{
	size_t		i, k = 0, out = 0;
	uint32_t	lo, hi;

	for (i = 0; i < n; i++) {
		if (within == NULL) {
			mb_printf(o, "%s%u", out++ == 0 ? (earlier ?
			    "* VANISHED (EARLIER) " : "* VANISHED ") : ",",
			    r[i].lo);
			if (r[i].hi != r[i].lo)
				mb_printf(o, ":%u", r[i].hi);
			continue;
		}
		/* both ascend: the intersection, range by range */
		while (k < within->n && within->r[k].hi < r[i].lo)
			k++;
		for (; k < within->n && within->r[k].lo <= r[i].hi; k++) {
			lo = r[i].lo > within->r[k].lo ? r[i].lo :
			    within->r[k].lo;
			hi = r[i].hi < within->r[k].hi ? r[i].hi :
			    within->r[k].hi;
			mb_printf(o, "%s%u", out++ == 0 ? (earlier ?
			    "* VANISHED (EARLIER) " : "* VANISHED ") : ",",
			    lo);
			if (hi != lo)
				mb_printf(o, ":%u", hi);
			if (within->r[k].hi > r[i].hi)
				break;		/* it may meet the next one */
		}
	}
	if (out > 0)
		(void)buf_add(o->b, "\r\n", 2);
}

struct cs_walk {
	struct imap_mbox	*m;
	struct mb_out		*o;
};

/* A message changed since the client's modseq: UID FLAGS MODSEQ. */
static int
cs_changed(const struct index_msg_info *mi, void *arg)
{
	struct cs_walk		*w = arg;
	struct imap_mbox	*m = w->m;
	size_t			 lo;

	if ((lo = mb_uid_index(m->uids, m->nuids, mi->uid)) == m->nuids)
		return 0;
	mb_printf(w->o, "* %zu FETCH (UID %u FLAGS ", lo + 1, mi->uid);
	mb_flags(w->o, mi->flags | (m->known[lo].recent ? MB_F_RECENT : 0),
	    mi->keywords);
	mb_printf(w->o, " MODSEQ (%llu))\r\n", (unsigned long long)mi->modseq);
	m->known[lo].flags = mi->flags;
	m->known[lo].kw = mi->keywords;
	return 0;
}

/*
 * SELECT (QRESYNC ...), RFC 7162 3.2.5: with the client's UIDVALIDITY,
 * what vanished since its modseq (within the UIDs it knows) and every
 * message changed since, each with UID, FLAGS and MODSEQ.
 */
void
mb_qresync_select(struct imap_mbox *m, struct mb_out *o,
    const struct mb_select_opts *so)
{
	struct index_uidrange	*r;
	struct cs_walk		 w = { m, o };
	size_t			 n;

	if (!so->qresync || so->uidvalidity != m->mb.uidvalidity)
		return;		/* a new mailbox to the client: all is news */
	if (index_vanished(m->ix, m->mb.id, so->modseq, 1, UINT32_MAX, &r,
	    &n) == -1) {
		log_warnx("imap-mail: VANISHED: %s", index_errstr(m->ix));
		return;
	}
	mb_vanished(o, true, r, n, so->have_known ? &so->known : NULL);
	free(r);
	if (so->modseq < m->mb.highestmodseq)
		(void)index_msg_foreach(m->ix, m->mb.id, 1, UINT32_MAX,
		    so->modseq, cs_changed, &w);
}

/*
 * FETCH's modifiers (RFC 4466 fetch-modifiers): "(CHANGEDSINCE n)" and,
 * for UID FETCH with QRESYNC enabled, "(CHANGEDSINCE n VANISHED)".  0, or
 * -1 with *err_r.
 */
int
mb_fetch_modifiers(struct imap_mbox *m, const struct imap_cmd *c,
    const struct imap_arg *a, uint64_t *changedsince_r, bool *vanished_r,
    const char **err_r)
{
	size_t	i;
	bool	since = false;

	*changedsince_r = 0;
	*vanished_r = false;
	*err_r = "Invalid FETCH modifiers";
	if (a->type != IMAP_ARG_LIST || a->n == 0)
		return -1;
	for (i = 0; i < a->n; i++) {
		if (mb_is(&a->list[i], "CHANGEDSINCE") && !since &&
		    i + 1 < a->n && mb_modseq_arg(&a->list[i + 1], false,
		    changedsince_r) == 0) {
			since = true;
			i++;
		} else if (mb_is(&a->list[i], "VANISHED") && !*vanished_r)
			*vanished_r = true;
		else
			return -1;
	}
	/* RFC 7162 3.2.6: VANISHED needs UID FETCH, CHANGEDSINCE, QRESYNC */
	if (*vanished_r && (!c->uid || !since || !m->qresync)) {
		*err_r = !m->qresync ? "QRESYNC is not enabled" :
		    "VANISHED needs UID FETCH and CHANGEDSINCE";
		return -1;
	}
	if (!since)
		return -1;
	return 0;
}
