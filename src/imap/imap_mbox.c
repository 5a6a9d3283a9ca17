/* SPDX-License-Identifier: ISC */
/*
 * imap_mbox.c - the commands of the authenticated and selected states
 * that work on the account's index (imap_mbox.h): LIST, LSUB, STATUS,
 * NAMESPACE, SELECT, EXAMINE, CLOSE, UNSELECT, STORE of the system flags,
 * EXPUNGE and UID EXPUNGE, APPEND, COPY and MOVE with UIDPLUS, NOOP and
 * CHECK, and the news every command of the selected state ends with;
 * FETCH is imap_fetch.c.  The IMAP issues add the rest, one handler each.
 *
 * Process:  imap-mail (the account's uid, in its jail).
 * Trust:    the command tree is the client's, parsed and bounded by
 *           imap_cmd.c; every argument's kind and count is checked here
 *           before use.  Mailbox names come from the index (validated
 *           when created) and are always sent quoted, escaped.
 * See also: store/index.h, imap_seqset.c, RFC 3501 6.3-6.4, 7.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "xmalloc.h"
#include "buf.h"
#include "imap_cmd.h"
#include "imap_seqset.h"
#include "log.h"
#include "imap_mbox.h"
#include "memfd.h"
#include "imap_mbox_int.h"
#include "mail_quota.h"
#include "mutf7.h"
#include "banned.h"


/* What was composed so far goes out (before a literal is streamed). */
void
mb_flush(struct mb_out *o)
{
	if (o->b->len > 0 && !o->failed && o->m->write_fn(o->m->arg,
	    (const char *)o->b->data, o->b->len) == -1)
		o->failed = 1;
	buf_reset(o->b);
}

void
mb_printf(struct mb_out *o, const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)buf_add(o->b, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
}

/* A string as an IMAP quoted string. */
void
mb_quoted(struct mb_out *o, const char *s)
{
	(void)buf_add(o->b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			(void)buf_add(o->b, "\\", 1);
		(void)buf_add(o->b, s, 1);
	}
	(void)buf_add(o->b, "\"", 1);
}

/* An astring argument (atom, quoted or literal) as a C string. */
int
mb_astring(const struct imap_arg *a, char *out, size_t outlen)
{
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED &&
	    a->type != IMAP_ARG_LITERAL)
		return -1;
	if (a->len >= outlen || memchr(a->s, '\0', a->len) != NULL)
		return -1;
	memcpy(out, a->s, a->len);
	out[a->len] = '\0';
	return 0;
}

int
mb_name_arg(struct imap_mbox *m, const struct imap_arg *a, char *out,
    size_t outlen, const char **why_r)
{
	/* decoding makes at most 9/8 as many bytes (mutf7.h) */
	char		 wire[MB_WIRE_NAME_MAX + 1], utf8[2 * MB_WIRE_NAME_MAX];
	const char	*why = NULL;
	size_t		 n;

	if (why_r != NULL)
		*why_r = NULL;
	if (outlen == 0 || mb_astring(a, wire, sizeof(wire)) == -1)
		return -1;
	n = strlen(wire);
	if (!m->utf8) {
		/* RFC 3501 5.1.3: 7-bit, "&" opens modified BASE64 */
		if (mutf7_to_utf8(wire, utf8, sizeof(utf8)) == -1)
			why = "Mailbox names are modified UTF-7 (RFC 3501 "
			    "5.1.3)";
	} else if (!utf8_valid_text(wire, n))
		why = "Mailbox names are UTF-8 text";
	else
		memcpy(utf8, wire, n + 1);
	if (why == NULL && strlcpy(out, utf8, outlen) >= outlen)
		why = "Mailbox name too long";
	if (why != NULL) {
		out[0] = '\0';
		if (why_r != NULL)
			*why_r = why;
		return 0;
	}
	mb_canon(out);
	return 0;
}

void
mb_name_out(struct mb_out *o, const char *name)
{
	char	wire[MB_WIRE_NAME_MAX + 1];

	/* the index holds UTF-8 text (ix_name_ok): this fits and encodes */
	if (o->m->utf8 || utf8_to_mutf7(name, wire, sizeof(wire)) == -1)
		mb_quoted(o, name);
	else
		mb_quoted(o, wire);
}

size_t
mb_uid_index(const uint32_t *u, size_t n, uint32_t uid)
{
	size_t	lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && u[lo] == uid ? lo : n;
}

/* RFC 3501 5.1: INBOX in any case is INBOX, and so is it as a parent. */
void
mb_canon(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' ||
	    name[5] == '/'))
		memcpy(name, "INBOX", 5);
}

/*
 * LIST wildcards: '*' anything, '%' anything but the delimiter.  Dynamic
 * programming over (pattern, name) positions, O(pattern x name) whatever
 * the client sends: a recursive match backtracks exponentially on a
 * pattern such as "*a*a*a*a*b".
 */
static bool
mb_match(const char *pat, const char *s)
{
	bool	prev[INDEX_NAME_MAX + 2], cur[INDEX_NAME_MAX + 2];
	size_t	n = strlen(s), i, j;

	if (n > INDEX_NAME_MAX)
		return false;
	/* prev[j]: the pattern so far matches the name's first j bytes */
	memset(prev, 0, sizeof(prev));
	prev[0] = true;
	for (i = 0; pat[i] != '\0'; i++) {
		for (j = 0; j <= n; j++) {
			if (pat[i] == '*' || pat[i] == '%')
				cur[j] = prev[j] || (j > 0 && cur[j - 1] &&
				    (pat[i] == '*' || s[j - 1] != '/'));
			else
				cur[j] = j > 0 && prev[j - 1] &&
				    s[j - 1] == pat[i];
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[n];
}

static const char *const mb_flag_names[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"
};

/* A keyword's name, from the cache or the index; NULL if it has none. */
static const char *
mb_kwname(struct imap_mbox *m, int bit)
{
	char	name[INDEX_KEYWORD_LEN + 1];

	if (m->kwnames[bit] == NULL && index_keyword_name(m->ix, bit, name,
	    sizeof(name)) == 1)
		m->kwnames[bit] = xstrdup(name);
	return m->kwnames[bit];
}

void
mb_flags(struct mb_out *o, uint32_t flags, uint64_t kw)
{
	const char	*name;
	size_t		 i;
	int		 first = 1;

	(void)buf_add(o->b, "(", 1);
	for (i = 0; i < 5; i++)
		if (flags & (1u << i)) {
			mb_printf(o, "%s%s", first ? "" : " ", mb_flag_names[i]);
			first = 0;
		}
	/* RFC 9051 has no \\Recent */
	if ((flags & MB_F_RECENT) && !o->m->rev2) {
		mb_printf(o, "%s\\Recent", first ? "" : " ");
		first = 0;
	}
	for (i = 0; i < INDEX_KEYWORD_MAX; i++)
		if ((kw & (1ULL << i)) && (name = mb_kwname(o->m, (int)i)) !=
		    NULL) {
			mb_printf(o, "%s%s", first ? "" : " ", name);
			first = 0;
		}
	(void)buf_add(o->b, ")", 1);
}

/* Every keyword the account has, for FLAGS and PERMANENTFLAGS. */
static void
mb_all_keywords(struct imap_mbox *m, struct mb_out *o)
{
	const char	*name;
	int		 i;

	for (i = 0; i < INDEX_KEYWORD_MAX; i++)
		if ((name = mb_kwname(m, i)) != NULL)
			mb_printf(o, " %s", name);
}

static int	mb_status_items_ok(const struct imap_arg *, size_t);
static void	mb_status_line(struct mb_out *, const struct index_mailbox *,
		    const struct imap_arg *, size_t);

/* LIST-EXTENDED (RFC 5258) options */
#define MB_L_SUBSCRIBED	0x01	/* selection: subscribed only */
#define MB_L_RECURSIVE	0x02	/* selection: RECURSIVEMATCH */
#define MB_L_RSUB	0x04	/* return: \Subscribed */
#define MB_L_RSTATUS	0x08	/* return: STATUS (RFC 5819) */

static int
mb_list_opts(const struct imap_arg *a, bool ret, unsigned int *o,
    const struct imap_arg **status)
{
	size_t	i;

	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (i = 0; i < a->n; i++) {
		const struct imap_arg	*v = &a->list[i];

		if (v->type != IMAP_ARG_ATOM)
			return -1;
		if (v->len == 10 && strncasecmp(v->s, "SUBSCRIBED", 10) == 0)
			*o |= ret ? MB_L_RSUB : MB_L_SUBSCRIBED | MB_L_RSUB;
		else if (!ret && v->len == 6 &&
		    strncasecmp(v->s, "REMOTE", 6) == 0)
			;		/* no remote mailboxes here */
		else if (!ret && v->len == 14 &&
		    strncasecmp(v->s, "RECURSIVEMATCH", 14) == 0)
			*o |= MB_L_RECURSIVE;
		else if (ret && ((v->len == 8 && strncasecmp(v->s, "CHILDREN",
		    8) == 0) || (v->len == 11 && strncasecmp(v->s,
		    "SPECIAL-USE", 11) == 0)))
			;		/* always sent */
		else if (ret && v->len == 6 && strncasecmp(v->s, "STATUS",
		    6) == 0 && i + 1 < a->n && a->list[i + 1].type ==
		    IMAP_ARG_LIST && mb_status_items_ok(a->list[i + 1].list,
		    a->list[i + 1].n) == 0) {
			*o |= MB_L_RSTATUS;
			*status = &a->list[++i];
		} else
			return -1;
	}
	/* RFC 5258 3.1: RECURSIVEMATCH needs another selection option */
	return (*o & MB_L_RECURSIVE) && !(*o & MB_L_SUBSCRIBED) ? -1 : 0;
}

/* Does any pattern match the name (INBOX in any case)? */
static bool
mb_list_match(const char *ref, char pats[][INDEX_NAME_MAX + 1], size_t np,
    const char *name)
{
	char	full[2 * INDEX_NAME_MAX + 2];
	size_t	i, rl = strlen(ref), pl;

	for (i = 0; i < np; i++) {
		/* both are at most INDEX_NAME_MAX (mb_astring): it fits */
		pl = strlen(pats[i]);
		if (rl + pl >= sizeof(full))
			continue;
		memcpy(full, ref, rl);
		memcpy(full + rl, pats[i], pl + 1);
		if (mb_match(full, name) || (strcmp(name, "INBOX") == 0 &&
		    mb_match(full, "inbox")))
			return true;
	}
	return false;
}

/*
 * LIST and LSUB (RFC 3501 6.3.8-9), with LIST-EXTENDED (RFC 5258:
 * selection options SUBSCRIBED, REMOTE, RECURSIVEMATCH; several
 * patterns; return options SUBSCRIBED, CHILDREN, SPECIAL-USE) and
 * LIST-STATUS (RFC 5819: RETURN (STATUS (items))).
 */
static int
mb_list(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o,
    bool lsub)
{
	static char		 pats[16][INDEX_NAME_MAX + 1];
	struct index_mailbox	*mbs;
	const struct imap_arg	*a = c->args, *status = NULL, *pl;
	char			 ref[INDEX_NAME_MAX + 1];
	const char		*why;
	bool			 none = false;
	size_t			 n, i, k, np = 0, na = c->nargs, nl;
	unsigned int		 opt = lsub ? MB_L_SUBSCRIBED : 0;
	const char		*su;
	bool			 kids, subkids, ext = false;

	if (!lsub && na >= 3 && a[0].type == IMAP_ARG_LIST) {
		if (mb_list_opts(&a[0], false, &opt, &status) == -1)
			goto bad;
		a++;
		na--;
		ext = true;
	}
	if (!lsub && na == 4 && a[2].type == IMAP_ARG_ATOM && a[2].len == 6 &&
	    strncasecmp(a[2].s, "RETURN", 6) == 0) {
		if (mb_list_opts(&a[3], true, &opt, &status) == -1)
			goto bad;
		na -= 2;
		ext = true;
	}
	/* names and patterns as the index keeps names; one that cannot be
	 * a name (undecodable) matches nothing */
	if (na != 2 || mb_name_arg(m, &a[0], ref, sizeof(ref), &why) == -1)
		goto bad;
	none = why != NULL;
	if (!lsub && a[1].type == IMAP_ARG_LIST) {
		pl = a[1].list;		/* RFC 5258: ("pat" "pat") */
		np = a[1].n;
		ext = true;
	} else {
		pl = &a[1];
		np = 1;
	}
	if (np == 0 || np > sizeof(pats) / sizeof(pats[0]))
		goto bad;
	for (i = 0; i < np; i++) {
		if (mb_name_arg(m, &pl[i], pats[i], sizeof(pats[i]), &why) ==
		    -1)
			goto bad;
		if (why != NULL)
			pats[i][0] = '\001';	/* in no name: matches none */
	}
	if (!lsub && !ext && pats[0][0] == '\0' && !none &&
	    pl[0].len == 0) {
		/* RFC 3501 6.3.8: the delimiter and root */
		mb_printf(o, "* LIST (\\Noselect) \"/\" \"\"\r\n%s OK LIST "
		    "completed\r\n", c->tag);
		return 0;
	}
	if (index_mailbox_list(m->ix, &mbs, &n) == -1) {
		mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
		    index_errstr(m->ix));
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (none || !mb_list_match(ref, pats, np, mbs[i].name))
			continue;
		nl = strlen(mbs[i].name);
		for (k = 0, kids = subkids = false; k < n; k++)
			if (strncmp(mbs[k].name, mbs[i].name, nl) == 0 &&
			    mbs[k].name[nl] == '/') {
				kids = true;
				subkids |= mbs[k].subscribed != 0;
			}
		/* RFC 5258 3.5: a parent of subscribed ones, with CHILDINFO */
		if ((opt & MB_L_SUBSCRIBED) && !mbs[i].subscribed &&
		    !((opt & MB_L_RECURSIVE) && subkids))
			continue;
		su = index_special_use_name(mbs[i].special_use);
		mb_printf(o, "* %s (%s%s%s%s) \"/\" ",
		    lsub ? "LSUB" : "LIST", kids ? "\\HasChildren" :
		    "\\HasNoChildren", (opt & MB_L_RSUB) && !lsub &&
		    mbs[i].subscribed ? " \\Subscribed" : "",
		    su != NULL ? " " : "", su != NULL ? su : "");
		mb_name_out(o, mbs[i].name);
		if ((opt & MB_L_RECURSIVE) && subkids)
			mb_printf(o, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
		(void)buf_add(o->b, "\r\n", 2);
		if (status != NULL)
			mb_status_line(o, &mbs[i], status->list, status->n);
	}
	free(mbs);
	mb_printf(o, "%s OK %s completed\r\n", c->tag, lsub ? "LSUB" : "LIST");
	return 0;
bad:
	mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
	return 0;
}

bool
mb_is(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && a->len == strlen(word) &&
	    strncasecmp(a->s, word, a->len) == 0;
}

/* The STATUS items are atoms we know: 0, or -1. */
static int
mb_status_items_ok(const struct imap_arg *items, size_t n)
{
	static const char *const known[] = { "MESSAGES", "RECENT", "UIDNEXT",
	    "UIDVALIDITY", "UNSEEN", "APPENDLIMIT", "DELETED",
	    "DELETED-STORAGE", "SIZE", "HIGHESTMODSEQ" };
	size_t	i, k;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (items[i].type != IMAP_ARG_ATOM)
			return -1;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (items[i].len == strlen(known[k]) &&
			    strncasecmp(items[i].s, known[k], items[i].len) == 0)
				break;
		if (k == sizeof(known) / sizeof(known[0]))
			return -1;
	}
	return 0;
}

/* "* STATUS name (items)" of a mailbox (items checked before). */
static void
mb_status_line(struct mb_out *o, const struct index_mailbox *mb,
    const struct imap_arg *items, size_t n)
{
	size_t	i;

	mb_printf(o, "* STATUS ");
	mb_name_out(o, mb->name);
	(void)buf_add(o->b, " (", 2);
	for (i = 0; i < n; i++) {
		const struct imap_arg	*a = &items[i];
		const char		*sp = i > 0 ? " " : "";

		if (mb_is(a, "MESSAGES"))
			mb_printf(o, "%sMESSAGES %u", sp, mb->messages);
		else if (mb_is(a, "RECENT"))	/* what a SELECT would claim */
			mb_printf(o, "%sRECENT %u", sp, mb->recent);
		else if (mb_is(a, "UIDNEXT"))
			mb_printf(o, "%sUIDNEXT %u", sp, mb->uidnext);
		else if (mb_is(a, "UIDVALIDITY"))
			mb_printf(o, "%sUIDVALIDITY %u", sp, mb->uidvalidity);
		else if (mb_is(a, "UNSEEN"))
			mb_printf(o, "%sUNSEEN %u", sp, mb->unseen);
		else if (mb_is(a, "APPENDLIMIT"))
			mb_printf(o, "%sAPPENDLIMIT %llu", sp,
			    (unsigned long long)o->m->appendlimit);
		else if (mb_is(a, "DELETED"))		/* RFC 9208 */
			mb_printf(o, "%sDELETED %u", sp, mb->deleted);
		else if (mb_is(a, "DELETED-STORAGE"))	/* KiB, rounded up */
			mb_printf(o, "%sDELETED-STORAGE %llu", sp,
			    (unsigned long long)((mb->deleted_size + 1023) /
			    1024));
		else if (mb_is(a, "HIGHESTMODSEQ"))	/* RFC 7162 3.1.2 */
			mb_printf(o, "%sHIGHESTMODSEQ %llu", sp,
			    (unsigned long long)mb->highestmodseq);
		else					/* RFC 8438, octets */
			mb_printf(o, "%sSIZE %llu", sp,
			    (unsigned long long)mb->size);
	}
	mb_printf(o, ")\r\n");
}

static int
mb_status(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	struct index_mailbox	 mb;
	char			 name[INDEX_NAME_MAX + 1];
	size_t			 i;

	if (c->nargs != 2 || mb_name_arg(m, &c->args[0], name, sizeof(name),
	    NULL) == -1 || c->args[1].type != IMAP_ARG_LIST) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	if (mb_status_items_ok(c->args[1].list, c->args[1].n) == -1) {
		mb_printf(o, "%s BAD Unknown status item\r\n", c->tag);
		return 0;
	}
	if (index_mailbox_open(m->ix, name, &mb) != 1) {
		mb_printf(o, "%s NO [NONEXISTENT] No such mailbox\r\n",
		    c->tag);
		return 0;
	}
	for (i = 0; i < c->args[1].n; i++)
		if (mb_is(&c->args[1].list[i], "HIGHESTMODSEQ"))
			mb_condstore_on(m, o);	/* RFC 7162 3.1 */
	mb_status_line(o, &mb, c->args[1].list, c->args[1].n);
	mb_printf(o, "%s OK STATUS completed\r\n", c->tag);
	return 0;
}

struct mb_collect {
	uint32_t	*uids;
	struct mb_known	*flags;
	size_t		 n;
};

static int
mb_collect_uid(const struct index_msg_info *mi, void *arg)
{
	struct mb_collect	*c = arg;

	if (c->n % 256 == 0) {
		c->uids = xreallocarray(c->uids, c->n + 256, sizeof(*c->uids));
		c->flags = xreallocarray(c->flags, c->n + 256,
		    sizeof(*c->flags));
	}
	c->flags[c->n].flags = mi->flags;
	c->flags[c->n].kw = mi->keywords;
	c->flags[c->n].recent = false;
	c->uids[c->n++] = mi->uid;
	return 0;
}

/* A message the client now knows about, at the end of the view. */
static void
mb_view_add(struct imap_mbox *m, uint32_t uid, struct mb_known k)
{
	m->uids = xreallocarray(m->uids, m->nuids + 1, sizeof(*m->uids));
	m->known = xreallocarray(m->known, m->nuids + 1, sizeof(*m->known));
	m->uids[m->nuids] = uid;
	m->known[m->nuids++] = k;
}

/*
 * \Recent for messages from view index first on (RFC 3501 2.3.2): a
 * read-write session claims those no session has seen (index_recent_
 * claim); a read-only one claims nothing (EXAMINE must not take \Recent
 * from anyone, 6.3.2) and shows those unclaimed when it selected.  The
 * number of recent messages in the view.
 */
static size_t
mb_recent_mark(struct imap_mbox *m, size_t first)
{
	uint32_t	from = m->recent_floor, to = UINT32_MAX;
	size_t		i, n = 0;

	if (!m->readonly && first < m->nuids &&
	    index_recent_claim(m->ix, m->mb.id, &from, &to) == -1)
		log_warnx("imap-mail: \\Recent: %s", index_errstr(m->ix));
	for (i = first; i < m->nuids; i++)
		m->known[i].recent = m->uids[i] >= from && m->uids[i] < to;
	for (i = 0; i < m->nuids; i++)
		n += m->known[i].recent;
	return n;
}

void
imap_mbox_unselect(struct imap_mbox *m)
{
	free(m->uids);
	free(m->known);
	m->uids = NULL;
	m->known = NULL;
	m->nuids = 0;
	m->selected = false;
	m->readonly = false;
}

/* "* LIST (attributes) "/" name" of the selected mailbox (IMAP4rev2). */
static void
mb_select_list(struct imap_mbox *m, struct mb_out *o)
{
	struct index_mailbox	*mbs;
	const char		*su = index_special_use_name(m->mb.special_use);
	size_t			 n, i, nl = strlen(m->mb.name);
	bool			 kids = false;

	if (index_mailbox_list(m->ix, &mbs, &n) == 0) {
		for (i = 0; i < n && !kids; i++)
			kids = strncmp(mbs[i].name, m->mb.name, nl) == 0 &&
			    mbs[i].name[nl] == '/';
		free(mbs);
	}
	mb_printf(o, "* LIST (%s%s%s) \"/\" ", kids ? "\\HasChildren" :
	    "\\HasNoChildren", su != NULL ? " " : "", su != NULL ? su : "");
	mb_name_out(o, m->mb.name);
	(void)buf_add(o->b, "\r\n", 2);
}

static int
mb_select(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o,
    bool examine)
{
	struct mb_collect	col = { NULL, NULL, 0 };
	struct mb_select_opts	so;
	char			name[INDEX_NAME_MAX + 1];
	const char		*err;
	uint32_t		first_unseen = 0;
	size_t			i, recent;

	memset(&so, 0, sizeof(so));
	if (c->nargs < 1 || c->nargs > 2 || mb_name_arg(m, &c->args[0], name,
	    sizeof(name), NULL) == -1) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	if (c->nargs == 2 && mb_select_opts(m, &c->args[1], &so, &err) == -1) {
		mb_printf(o, "%s BAD %s\r\n", c->tag, err);
		return 0;
	}
	/* RFC 3501 6.3.1: a SELECT first leaves the selected state; RFC
	 * 7162 3.2.11: with QRESYNC, saying so */
	if (m->selected && (m->qresync || m->rev2))
		mb_printf(o, "* OK [CLOSED] Previous mailbox closed\r\n");
	imap_mbox_unselect(m);
	if (so.condstore || so.qresync)
		m->condstore = true;
	if (index_mailbox_open(m->ix, name, &m->mb) != 1) {
		mb_select_opts_free(&so);
		mb_printf(o, "%s NO [NONEXISTENT] No such mailbox\r\n",
		    c->tag);
		return 0;
	}
	if (index_msg_foreach(m->ix, m->mb.id, 1, UINT32_MAX, 0,
	    mb_collect_uid, &col) == -1) {
		free(col.uids);
		free(col.flags);
		mb_select_opts_free(&so);
		mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
		    index_errstr(m->ix));
		return 0;
	}
	m->uids = col.uids;
	m->known = col.flags;
	m->nuids = col.n;
	m->selected = true;
	m->readonly = examine;
	m->recent_floor = m->mb.recent_uid;
	recent = mb_recent_mark(m, 0);
	for (i = 0; i < m->nuids && first_unseen == 0; i++)
		if (!(m->known[i].flags & INDEX_F_SEEN))
			first_unseen = (uint32_t)i + 1;
	/* RFC 3501 7.2.6, 7.1: the keywords there are; "\\*": new ones */
	mb_printf(o, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft");
	mb_all_keywords(m, o);
	mb_printf(o, ")\r\n* OK [PERMANENTFLAGS (");
	if (!examine) {
		mb_printf(o, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
		mb_all_keywords(m, o);
		mb_printf(o, " \\*");
	}
	mb_printf(o, ")] Flags permitted\r\n* %zu EXISTS\r\n", m->nuids);
	if (m->rev2)
		mb_select_list(m, o);	/* RFC 9051 6.3.2: the name as kept */
	else {
		mb_printf(o, "* %zu RECENT\r\n", recent);
		if (first_unseen != 0)
			mb_printf(o, "* OK [UNSEEN %u] First unseen\r\n",
			    first_unseen);
	}
	mb_printf(o, "* OK [UIDVALIDITY %u] UIDs valid\r\n* OK [UIDNEXT %u] "
	    "Predicted next UID\r\n", m->mb.uidvalidity, m->mb.uidnext);
	if (m->condstore)
		mb_printf(o, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
		    (unsigned long long)m->mb.highestmodseq);
	mb_qresync_select(m, o, &so);
	mb_select_opts_free(&so);
	mb_printf(o, "%s OK [%s] %s completed\r\n", c->tag, examine ?
	    "READ-ONLY" : "READ-WRITE", examine ? "EXAMINE" : "SELECT");
	return 0;
}


/*
 * Message number i (1-based) is gone: say so and renumber (RFC 3501
 * 7.4.1).  Callers go from the highest number down.  With QRESYNC the
 * UID goes into *v (ascending at the end: mb_vanished_flush) instead of
 * an EXPUNGE (RFC 7162 3.2.10).
 */
struct mb_gone {
	uint32_t	*u;
	size_t		 n;
};

static void
mb_drop_at(struct imap_mbox *m, struct mb_out *o, size_t i,
    struct mb_gone *v)
{
	if (m->qresync) {
		v->u = xreallocarray(v->u, v->n + 1, sizeof(*v->u));
		v->u[v->n++] = m->uids[i - 1];
	} else
		mb_printf(o, "* %zu EXPUNGE\r\n", i);
	memmove(&m->uids[i - 1], &m->uids[i],
	    (m->nuids - i) * sizeof(*m->uids));
	memmove(&m->known[i - 1], &m->known[i],
	    (m->nuids - i) * sizeof(*m->known));
	m->nuids--;
}

/* "* VANISHED uids" of what mb_drop_at collected (highest first). */
static void
mb_vanished_flush(struct mb_out *o, struct mb_gone *v)
{
	size_t		i;
	uint32_t	t;

	if (v->n > 0) {
		for (i = 0; i < v->n / 2; i++) {
			t = v->u[i];
			v->u[i] = v->u[v->n - 1 - i];
			v->u[v->n - 1 - i] = t;
		}
		mb_printf(o, "* VANISHED ");
		mb_uidset(o, v->u, v->n);
		(void)buf_add(o->b, "\r\n", 2);
	}
	free(v->u);
	v->u = NULL;
	v->n = 0;
}

/* The same for these UIDs (ascending), from the highest down. */
static void
mb_drop_uids(struct imap_mbox *m, struct mb_out *o, const uint32_t *u,
    size_t n)
{
	struct mb_gone	v = { NULL, 0 };
	size_t		i, k;

	for (k = n; k > 0; k--)
		for (i = m->nuids; i > 0; i--)
			if (m->uids[i - 1] == u[k - 1]) {
				mb_drop_at(m, o, i, &v);
				break;
			}
	mb_vanished_flush(o, &v);
}



/*
 * The UIDs a sequence-set argument names in the selected mailbox
 * (*uids_r: the caller's, ascending).  0, or -1 after the BAD.
 */
int
mb_resolve(struct imap_mbox *m, const struct imap_cmd *c,
    const struct imap_arg *a, struct mb_out *o, uint32_t **uids_r,
    size_t *n_r)
{
	struct imap_seqset	 set;
	const char		*err;
	uint32_t		*u;
	size_t			 i, n = 0;

	*uids_r = NULL;
	*n_r = 0;
	if (a->type != IMAP_ARG_ATOM || imap_seqset_parse(a->s, a->len,
	    c->uid ? (m->nuids > 0 ? m->uids[m->nuids - 1] : 0) :
	    (uint32_t)m->nuids, &set, &err) == -1) {
		mb_printf(o, "%s BAD %s\r\n", c->tag, a->type != IMAP_ARG_ATOM ?
		    "Invalid sequence set" : err);
		return -1;
	}
	if (!c->uid && imap_seqset_max(&set) > m->nuids) {
		imap_seqset_free(&set);
		mb_printf(o, "%s BAD Invalid message sequence number\r\n",
		    c->tag);
		return -1;
	}
	u = xreallocarray(NULL, m->nuids > 0 ? m->nuids : 1, sizeof(*u));
	for (i = 0; i < m->nuids; i++)
		if (imap_seqset_has(&set, c->uid ? m->uids[i] :
		    (uint32_t)i + 1))
			u[n++] = m->uids[i];
	imap_seqset_free(&set);
	*uids_r = u;
	*n_r = n;
	return 0;
}

/*
 * A flag list "(\Seen \Deleted $Label1)" or one flag: INDEX_F_* bits in
 * *flags_r, keyword bits in *kw_r (created when new and create is set;
 * RFC 3501 7.1 "\*").  \Recent is valid but cannot be set (ignored); any
 * other "\" flag or a malformed keyword is -1 (BAD); -2 when the account
 * has INDEX_KEYWORD_MAX keywords already (NO [LIMIT]).
 */
static int
mb_flag_arg(struct imap_mbox *m, const struct imap_arg *a, bool create,
    uint32_t *flags_r, uint64_t *kw_r)
{
	const struct imap_arg	*v = a;
	char			 kw[INDEX_KEYWORD_LEN + 1];
	size_t			 n = 1, i, k;
	int			 bit;

	*flags_r = 0;
	*kw_r = 0;
	if (a->type == IMAP_ARG_LIST) {
		v = a->list;
		n = a->n;
	}
	for (i = 0; i < n; i++) {
		if (v[i].type != IMAP_ARG_ATOM)
			return -1;
		for (k = 0; k < 5; k++)
			if (v[i].len == strlen(mb_flag_names[k]) &&
			    strncasecmp(v[i].s, mb_flag_names[k],
			    v[i].len) == 0)
				break;
		if (k < 5) {
			*flags_r |= 1u << k;
			continue;
		}
		if (v[i].s[0] == '\\') {
			if (!(v[i].len == 7 && strncasecmp(v[i].s, "\\Recent",
			    7) == 0))
				return -1;
			continue;
		}
		for (k = 0; k < v[i].len; k++)	/* a keyword is an atom */
			if (strchr("[]*%", v[i].s[k]) != NULL)
				return -1;
		if (v[i].len > INDEX_KEYWORD_LEN)
			return -1;
		memcpy(kw, v[i].s, v[i].len);
		kw[v[i].len] = '\0';
		if ((bit = index_keyword(m->ix, kw, create)) == -1) {
			if (errno == ENOSPC)
				return -2;
			if (errno == ENOENT)
				continue;	/* not created: nobody has it */
			return -1;
		}
		*kw_r |= 1ULL << bit;
	}
	return 0;
}

/*
 * Untagged FETCH FLAGS of these UIDs (after a STORE); with CONDSTORE
 * their MODSEQ too, and after .SILENT that alone (RFC 7162 3.1.3).
 */
static void
mb_fetch_flags(struct imap_mbox *m, struct mb_out *o, const uint32_t *uids,
    size_t n, bool with_uid, bool silent)
{
	struct index_msg_info	mi;
	size_t			i, k = 0;

	for (i = 0; i < m->nuids && k < n; i++) {
		if (m->uids[i] != uids[k])
			continue;
		k++;
		if (index_msg_info(m->ix, m->mb.id, m->uids[i], &mi) != 1)
			continue;
		mb_printf(o, "* %zu FETCH (", i + 1);
		if (with_uid || m->qresync)
			mb_printf(o, "UID %u ", mi.uid);
		if (!silent) {
			mb_printf(o, "FLAGS ");
			mb_flags(o, mi.flags | (m->known[i].recent ?
			    MB_F_RECENT : 0), mi.keywords);
			m->known[i].flags = mi.flags;
			m->known[i].kw = mi.keywords;
		}
		if (m->condstore)
			mb_printf(o, "%sMODSEQ (%llu)", silent ? "" : " ",
			    (unsigned long long)mi.modseq);
		(void)buf_add(o->b, ")\r\n", 3);
	}
}

/*
 * After STORE .SILENT the client knows what it asked for (RFC 3501
 * 6.4.6); a change someone else made at the same time still differs and
 * goes out with the news.
 */
static void
mb_known_apply(struct imap_mbox *m, const uint32_t *uids, size_t n, int op,
    uint32_t flags, uint64_t kw)
{
	size_t	i, k = 0;

	for (i = 0; i < m->nuids && k < n; i++) {
		if (m->uids[i] != uids[k])
			continue;
		k++;
		if (op == INDEX_FLAGS_ADD) {
			m->known[i].flags |= flags;
			m->known[i].kw |= kw;
		} else if (op == INDEX_FLAGS_REMOVE) {
			m->known[i].flags &= ~flags;
			m->known[i].kw &= ~kw;
		} else {
			m->known[i].flags = flags;
			m->known[i].kw = kw;
		}
	}
}

/*
 * STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags (RFC 3501
 * 6.4.6, RFC 7162 3.1.3)
 */
static int
mb_store(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	const struct imap_arg	*what, *fl, *mod;
	uint32_t		*uids = NULL, *modified = NULL, flags;
	uint64_t		 kw, unchangedsince = UINT64_MAX;
	size_t			 n, wl, nmod = 0, i, k;
	const char		*w;
	int			 op = INDEX_FLAGS_SET, r;
	bool			 silent = false;

	if (!m->selected) {
		mb_printf(o, "%s BAD No mailbox selected\r\n", c->tag);
		return 0;
	}
	mod = c->nargs == 4 ? &c->args[1] : NULL;
	what = &c->args[c->nargs == 4 ? 2 : 1];
	fl = &c->args[c->nargs == 4 ? 3 : 2];
	if ((c->nargs != 3 && c->nargs != 4) || what->type != IMAP_ARG_ATOM ||
	    (mod != NULL && (mod->type != IMAP_ARG_LIST || mod->n != 2 ||
	    !mb_is(&mod->list[0], "UNCHANGEDSINCE") ||
	    mb_modseq_arg(&mod->list[1], true, &unchangedsince) == -1))) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	w = what->s;
	wl = what->len;
	if (wl > 0 && (*w == '+' || *w == '-')) {
		op = *w == '+' ? INDEX_FLAGS_ADD : INDEX_FLAGS_REMOVE;
		w++;
		wl--;
	}
	if (wl == 12 && strncasecmp(w, "FLAGS.SILENT", 12) == 0)
		silent = true;
	else if (!(wl == 5 && strncasecmp(w, "FLAGS", 5) == 0)) {
		mb_printf(o, "%s BAD Invalid STORE item\r\n", c->tag);
		return 0;
	}
	if (m->readonly) {
		mb_printf(o, "%s NO [READ-ONLY] Mailbox is read-only\r\n",
		    c->tag);
		return 0;
	}
	/* removing a keyword nobody has does not create it */
	if ((r = mb_flag_arg(m, fl, op != INDEX_FLAGS_REMOVE, &flags,
	    &kw)) < 0) {
		mb_printf(o, "%s %s\r\n", c->tag, r == -2 ? "NO [LIMIT] Too "
		    "many keywords in this account" : "BAD Invalid flag");
		return 0;
	}
	if (mod != NULL)
		mb_condstore_on(m, o);
	if (mb_resolve(m, c, &c->args[0], o, &uids, &n) == -1)
		return 0;
	modified = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*modified));
	if (n > 0 && index_flags_update_cond(m->ix, m->mb.id, uids, n, op,
	    flags, kw, unchangedsince, modified, &nmod, NULL, NULL) == -1) {
		mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
		    index_errstr(m->ix));
		free(uids);
		free(modified);
		return 0;
	}
	/* the ones changed since (RFC 7162 3.1.3) are not reported as set */
	for (i = 0, k = 0; nmod > 0 && i < n; i++) {
		if (k < nmod && uids[i] == modified[k])
			k++;
		else
			uids[i - k] = uids[i];
	}
	n -= nmod;
	if (silent)
		mb_known_apply(m, uids, n, op, flags, kw);
	if (!silent || m->condstore)
		mb_fetch_flags(m, o, uids, n, c->uid, silent);
	if (nmod > 0) {
		/* MODIFIED: UIDs for UID STORE, else message numbers */
		if (!c->uid)
			for (i = 0, k = 0; i < m->nuids && k < nmod; i++)
				if (m->uids[i] == modified[k])
					modified[k++] = (uint32_t)i + 1;
		mb_printf(o, "%s OK [MODIFIED ", c->tag);
		mb_uidset(o, modified, nmod);
		mb_printf(o, "] Conditional STORE failed\r\n");
	} else
		mb_printf(o, "%s OK %sSTORE completed\r\n", c->tag, c->uid ?
		    "UID " : "");
	free(uids);
	free(modified);
	return 0;
}

/* EXPUNGE and UID EXPUNGE (RFC 4315): untagged EXPUNGE, highest first. */
static int
mb_expunge(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	uint32_t	*sel = NULL, *gone = NULL;
	size_t		 nsel = 0, ngone = 0;

	if (!m->selected || c->nargs != (c->uid ? 1u : 0u)) {
		mb_printf(o, "%s BAD %s\r\n", c->tag, !m->selected ?
		    "No mailbox selected" : "Invalid arguments");
		return 0;
	}
	if (m->readonly) {
		mb_printf(o, "%s NO [READ-ONLY] Mailbox is read-only\r\n",
		    c->tag);
		return 0;
	}
	if (c->uid && mb_resolve(m, c, &c->args[0], o, &sel, &nsel) == -1)
		return 0;
	if ((!c->uid || nsel > 0) && index_expunge(m->ix, m->mb.id, sel, nsel,
	    INDEX_EXPUNGE_DELETED, &gone, &ngone) == -1) {
		mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
		    index_errstr(m->ix));
		free(sel);
		return 0;
	}
	mb_drop_uids(m, o, gone, ngone);
	free(sel);
	free(gone);
	mb_printf(o, "%s OK %sEXPUNGE completed\r\n", c->tag, c->uid ?
	    "UID " : "");
	return 0;
}

void
mb_uidset(struct mb_out *o, const uint32_t *u, size_t n)
{
	size_t	i, j;

	for (i = 0; i < n; i = j + 1) {
		for (j = i; j + 1 < n && u[j + 1] == u[j] + 1; j++)
			;
		if (j == i)
			mb_printf(o, "%s%u", i > 0 ? "," : "", u[i]);
		else
			mb_printf(o, "%s%u:%u", i > 0 ? "," : "", u[i], u[j]);
	}
}

/* COPY and MOVE (RFC 6851), with UIDPLUS's COPYUID (RFC 4315). */
static int
mb_copy(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o,
    bool move)
{
	struct index_mailbox	 dst;
	char			 name[INDEX_NAME_MAX + 1];
	uint32_t		*uids = NULL, *su = NULL, *du = NULL;
	size_t			 n, nn = 0;
	int			 r;

	if (!m->selected) {
		mb_printf(o, "%s BAD No mailbox selected\r\n", c->tag);
		return 0;
	}
	if (c->nargs != 2 || mb_name_arg(m, &c->args[1], name, sizeof(name),
	    NULL) == -1) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	if (move && m->readonly) {
		mb_printf(o, "%s NO [READ-ONLY] Mailbox is read-only\r\n",
		    c->tag);
		return 0;
	}
	if (index_mailbox_open(m->ix, name, &dst) != 1) {
		mb_printf(o, "%s NO [TRYCREATE] No such mailbox\r\n", c->tag);
		return 0;
	}
	if (mb_resolve(m, c, &c->args[0], o, &uids, &n) == -1)
		return 0;
	if (n > 0) {
		su = xreallocarray(NULL, n, sizeof(*su));
		du = xreallocarray(NULL, n, sizeof(*du));
		r = move ? index_move(m->ix, m->mb.id, uids, n, dst.id, su, du,
		    &nn) : index_copy(m->ix, m->mb.id, uids, n, dst.id, su, du,
		    &nn);
		if (r == -1) {
			mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
			    index_errstr(m->ix));
			goto done;
		}
	}
	if (move && nn > 0) {
		mb_printf(o, "* OK [COPYUID %u ", dst.uidvalidity);
		mb_uidset(o, su, nn);
		(void)buf_add(o->b, " ", 1);
		mb_uidset(o, du, nn);
		mb_printf(o, "] Moved\r\n");
		/* the moved ones leave this mailbox */
		mb_drop_uids(m, o, su, nn);
		mb_printf(o, "%s OK %sMOVE completed\r\n", c->tag, c->uid ?
		    "UID " : "");
	} else if (nn > 0) {
		mb_printf(o, "%s OK [COPYUID %u ", c->tag, dst.uidvalidity);
		mb_uidset(o, su, nn);
		(void)buf_add(o->b, " ", 1);
		mb_uidset(o, du, nn);
		mb_printf(o, "] %sCOPY completed\r\n", c->uid ? "UID " : "");
	} else
		mb_printf(o, "%s OK %s%s completed\r\n", c->tag, c->uid ?
		    "UID " : "", move ? "MOVE" : "COPY");
done:
	free(uids);
	free(su);
	free(du);
	return 0;
}

/* RFC 3501 date-time "dd-Mon-yyyy hh:mm:ss +zzzz": unix seconds, or -1. */
static int64_t
mb_datetime(const struct imap_arg *a)
{
	struct tm	 tm;
	char		 s[40];
	const char	*e;
	long		 off;

	if (a->type != IMAP_ARG_QUOTED || a->len < 25 || a->len >= sizeof(s))
		return -1;
	memcpy(s, a->s, a->len);
	s[a->len] = '\0';
	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(s[0] == ' ' ? s + 1 : s, "%d-%b-%Y %H:%M:%S %z",
	    &tm)) == NULL || *e != '\0')
		return -1;
	off = tm.tm_gmtoff;		/* timegm resets it */
	return (int64_t)timegm(&tm) - off;
}

/* APPEND mailbox [(flags)] [date-time] literal (RFC 3501 6.3.11, 4315) */
static int
mb_append(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	struct index_mailbox	 dst;
	const struct imap_arg	*msg = NULL;
	char			 name[INDEX_NAME_MAX + 1];
	uint32_t		 flags = 0, uid;
	uint64_t		 kw = 0;
	int64_t			 idate = (int64_t)time(NULL);
	size_t			 i, nopt;
	int			 fd, r;
	bool			 utf8 = false;

	/* RFC 6855 4: "UTF8 (~{n}...)", once UTF8=ACCEPT is enabled */
	if (c->nargs >= 3 && c->args[c->nargs - 1].type == IMAP_ARG_LIST &&
	    mb_is(&c->args[c->nargs - 2], "UTF8")) {
		if (!m->utf8_accept || c->args[c->nargs - 1].n != 1) {
			mb_printf(o, "%s BAD %s\r\n", c->tag, !m->utf8_accept ?
			    "APPEND UTF8 needs ENABLE UTF8=ACCEPT" :
			    "Invalid arguments");
			return 0;
		}
		utf8 = true;
	}
	nopt = c->nargs - (utf8 ? 2 : 1);	/* the name and options */
	msg = utf8 ? &c->args[c->nargs - 1].list[0] : &c->args[c->nargs - 1];
	if (nopt < 1 || nopt > 3 || mb_name_arg(m, &c->args[0], name,
	    sizeof(name), NULL) == -1 || msg->type != IMAP_ARG_LITERAL) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	for (i = 1; i < nopt; i++) {
		if (c->args[i].type == IMAP_ARG_LIST && i == 1) {
			if ((r = mb_flag_arg(m, &c->args[i], true, &flags,
			    &kw)) < 0) {
				mb_printf(o, "%s %s\r\n", c->tag, r == -2 ?
				    "NO [LIMIT] Too many keywords in this "
				    "account" : "BAD Invalid flag");
				return 0;
			}
		} else if ((idate = mb_datetime(&c->args[i])) == -1) {
			mb_printf(o, "%s BAD Invalid date-time\r\n", c->tag);
			return 0;
		}
	}
	/*
	 * RFC 3501 4.3: no NUL in a literal.  A binary one (~{n}, RFC 3516
	 * 4.4, which IMAP4rev2 clients may send) we do not store: the store
	 * keeps messages that BODY[] can give back, and says so with
	 * UNKNOWN-CTE as RFC 3516 has a server without binary storage do.
	 */
	if (memchr(msg->s, '\0', msg->len) != NULL) {
		mb_printf(o, "%s %s Message contains NUL octets\r\n", c->tag,
		    msg->literal8 ? "NO [UNKNOWN-CTE]" : "BAD");
		return 0;
	}
	if (index_mailbox_open(m->ix, name, &dst) != 1) {
		mb_printf(o, "%s NO [TRYCREATE] No such mailbox\r\n", c->tag);
		return 0;
	}
	/* the quota first, as for a delivery: given back if the write fails */
	if ((r = mail_quota_reserve(msg->len)) != 1) {
		mb_printf(o, "%s %s\r\n", c->tag, r == 0 ? "NO [OVERQUOTA] "
		    "Mailbox is full (quota)" : "NO [UNAVAILABLE] Cannot "
		    "check the quota, try again later");
		return 0;
	}
	if ((fd = memfd_new("append")) == -1 ||
	    memfd_append(fd, msg->s, msg->len) == -1 ||
	    index_append(m->ix, dst.id, fd, msg->len, flags & INDEX_F_ALL, kw,
	    idate, &uid) == -1) {
		mb_printf(o, "%s NO [SERVERBUG] Cannot store the message: "
		    "%s\r\n", c->tag, fd == -1 ? "memfd" :
		    index_errstr(m->ix));
		if (fd != -1)
			close(fd);
		(void)mail_quota_release(msg->len);
		return 0;
	}
	close(fd);
	/* in the selected mailbox, the news say EXISTS (and of others') */
	mb_printf(o, "%s OK [APPENDUID %u %u] APPEND completed\r\n", c->tag,
	    dst.uidvalidity, uid);
	return 0;
}

static int
mb_close(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o,
    bool expunge)
{
	uint32_t	*gone = NULL;
	size_t		 n = 0;

	if (!m->selected || c->nargs != 0) {
		mb_printf(o, "%s BAD %s\r\n", c->tag, !m->selected ?
		    "No mailbox selected" : "Invalid arguments");
		return 0;
	}
	/* RFC 3501 6.4.2: CLOSE expunges silently, unless read-only */
	if (expunge && !m->readonly)
		(void)index_expunge(m->ix, m->mb.id, NULL, 0,
		    INDEX_EXPUNGE_DELETED, &gone, &n);
	free(gone);
	imap_mbox_unselect(m);
	mb_printf(o, "%s OK %s completed\r\n", c->tag, expunge ? "CLOSE" :
	    "UNSELECT");
	return 0;
}

struct mb_flagwalk {
	struct imap_mbox	*m;
	struct mb_out		*o;
};

/* A message whose modseq moved: its flags, if not what the client knows. */
static int
mb_changed_flags(const struct index_msg_info *mi, void *arg)
{
	struct mb_flagwalk	*w = arg;
	struct imap_mbox	*m = w->m;
	size_t			 lo;

	if ((lo = mb_uid_index(m->uids, m->nuids, mi->uid)) < m->nuids &&
	    (m->known[lo].flags != mi->flags || m->known[lo].kw !=
	    mi->keywords)) {
		/* RFC 7162 3.2.4: with QRESYNC the UID too */
		mb_printf(w->o, "* %zu FETCH (", lo + 1);
		if (m->qresync)
			mb_printf(w->o, "UID %u ", mi->uid);
		mb_printf(w->o, "FLAGS ");
		mb_flags(w->o, mi->flags | (m->known[lo].recent ? MB_F_RECENT :
		    0), mi->keywords);
		if (m->condstore)
			mb_printf(w->o, " MODSEQ (%llu)",
			    (unsigned long long)mi->modseq);
		(void)buf_add(w->o->b, ")\r\n", 3);
		m->known[lo].flags = mi->flags;
		m->known[lo].kw = mi->keywords;
	}
	return 0;
}

/*
 * What changed in the selected mailbox since the client last heard:
 * EXPUNGE (highest number first; only when expunge_ok), EXISTS, and FETCH
 * FLAGS where the flags differ from what the client was last told.
 */
static void
mb_news(struct imap_mbox *m, struct mb_out *o, bool expunge_ok)
{
	struct index_mailbox	 now;
	struct mb_collect	 col = { NULL, NULL, 0 };
	struct mb_flagwalk	 w;
	struct mb_gone		 v = { NULL, 0 };
	size_t			 i, k, before;

	if (!m->selected || index_mailbox_get(m->ix, m->mb.id, &now) != 1)
		return;
	if (now.uidnext == m->mb.uidnext && now.messages == m->nuids &&
	    now.highestmodseq == m->mb.highestmodseq)
		return;
	if (index_msg_foreach(m->ix, m->mb.id, 1, UINT32_MAX, 0,
	    mb_collect_uid, &col) == -1)
		return;
	/* gone: from the highest number down, each renumbers the rest */
	for (i = m->nuids; expunge_ok && i > 0; i--) {
		if (mb_uid_index(col.uids, col.n, m->uids[i - 1]) < col.n)
			continue;
		mb_drop_at(m, o, i, &v);
	}
	mb_vanished_flush(o, &v);
	/* new: every UID above our last one, with the flags it has now */
	before = m->nuids;
	for (k = 0; k < col.n; k++)
		if (m->nuids == 0 || col.uids[k] > m->uids[m->nuids - 1])
			mb_view_add(m, col.uids[k], col.flags[k]);
	if (m->nuids != before) {
		i = mb_recent_mark(m, before);
		mb_printf(o, "* %zu EXISTS\r\n", m->nuids);
		if (!m->rev2)
			mb_printf(o, "* %zu RECENT\r\n", i);
	}
	/* flags changed since we last looked, by anyone */
	w.m = m;
	w.o = o;
	if (now.highestmodseq > m->mb.highestmodseq)
		(void)index_msg_foreach(m->ix, m->mb.id, 1, UINT32_MAX,
		    m->mb.highestmodseq, mb_changed_flags, &w);
	m->mb = now;
	free(col.uids);
	free(col.flags);
}

int
imap_mbox_changes(struct imap_mbox *m)
{
	struct mb_out	o;
	int		r = 0;

	o.b = buf_new(MB_OUT_MAX);
	o.m = m;
	o.failed = 0;
	mb_news(m, &o, true);
	if (o.b->len > 0 && m->write_fn(m->arg, (const char *)o.b->data,
	    o.b->len) == -1)
		r = -1;
	buf_free(&o.b);
	return r;
}

/*
 * The news go out with every command of the selected state, just before
 * its tagged reply (the last line composed): the command was carried out
 * with the message numbers the client knew.  RFC 3501 7.4.1: no EXPUNGE
 * while answering FETCH, STORE or SEARCH (their UID forms may have them).
 */
static void
mb_news_before_tagged(struct imap_mbox *m, const struct imap_cmd *c,
    struct mb_out *o)
{
	struct buf	*tail;
	size_t		 at, taglen = strlen(c->tag);
	bool		 expunge_ok;

	if (!m->selected || o->failed || o->b->len < 2)
		return;
	at = o->b->len - 2;
	while (at > 0 && !(o->b->data[at - 1] == '\n' &&
	    o->b->data[at - 2] == '\r'))
		at--;
	if (o->b->len - at < taglen + 1 || memcmp(o->b->data + at, c->tag,
	    taglen) != 0 || o->b->data[at + taglen] != ' ')
		return;			/* not a tagged reply: no news */
	expunge_ok = c->uid || (strcmp(c->name, "FETCH") != 0 &&
	    strcmp(c->name, "STORE") != 0 && strcmp(c->name, "SEARCH") != 0);
	tail = buf_new(o->b->len - at + 1);
	(void)buf_add(tail, o->b->data + at, o->b->len - at);
	o->b->len = at;
	mb_news(m, o, expunge_ok);
	if (buf_add(o->b, tail->data, tail->len) == -1)
		o->failed = 1;
	buf_free(&tail);
}

int
imap_mbox_command(struct imap_mbox *m, const struct imap_cmd *c)
{
	struct mb_out	o;
	int		handled = 1, r;

	o.b = buf_new(MB_OUT_MAX);
	o.m = m;
	o.failed = 0;
	if (strcmp(c->name, "LIST") == 0 && !c->uid)
		mb_list(m, c, &o, false);
	else if (strcmp(c->name, "LSUB") == 0 && !c->uid)
		mb_list(m, c, &o, true);
	else if (strcmp(c->name, "STATUS") == 0 && !c->uid)
		mb_status(m, c, &o);
	else if (strcmp(c->name, "NAMESPACE") == 0 && !c->uid &&
	    c->nargs == 0)
		mb_printf(&o, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"
		    "%s OK NAMESPACE completed\r\n", c->tag);
	else if ((strcmp(c->name, "SELECT") == 0 ||
	    strcmp(c->name, "EXAMINE") == 0) && !c->uid)
		mb_select(m, c, &o, c->name[0] == 'E');
	else if (strcmp(c->name, "FETCH") == 0)
		mb_fetch(m, c, &o);
	else if (strcmp(c->name, "SEARCH") == 0)
		mb_search(m, c, &o);
	else if (strcmp(c->name, "STORE") == 0)
		mb_store(m, c, &o);
	else if (strcmp(c->name, "EXPUNGE") == 0)
		mb_expunge(m, c, &o);
	else if (strcmp(c->name, "ENABLE") == 0 && !c->uid && c->nargs > 0)
		mb_enable(m, c, &o);
	else if (strcmp(c->name, "CHECK") == 0 && !c->uid && c->nargs == 0 &&
	    m->selected)
		mb_printf(&o, "%s OK CHECK completed\r\n", c->tag);
	else if (strcmp(c->name, "ID") == 0 && !c->uid && c->nargs == 1)
		mb_printf(&o, "* ID (\"name\" \"sealpost\")\r\n"
		    "%s OK ID completed\r\n", c->tag);
	else if (strcmp(c->name, "APPEND") == 0 && !c->uid)
		mb_append(m, c, &o);
	else if (strcmp(c->name, "COPY") == 0)
		mb_copy(m, c, &o, false);
	else if (strcmp(c->name, "MOVE") == 0)
		mb_copy(m, c, &o, true);
	else if (strcmp(c->name, "CREATE") == 0 && !c->uid)
		mb_create(m, c, &o);
	else if (strcmp(c->name, "DELETE") == 0 && !c->uid)
		mb_delete(m, c, &o);
	else if (strcmp(c->name, "RENAME") == 0 && !c->uid)
		mb_rename(m, c, &o);
	else if (strcmp(c->name, "SUBSCRIBE") == 0 && !c->uid)
		mb_subscribe(m, c, &o, true);
	else if (strcmp(c->name, "UNSUBSCRIBE") == 0 && !c->uid)
		mb_subscribe(m, c, &o, false);
	else if (strcmp(c->name, "CLOSE") == 0 && !c->uid)
		mb_close(m, c, &o, true);
	else if (strcmp(c->name, "UNSELECT") == 0 && !c->uid)
		mb_close(m, c, &o, false);
	else if (strcmp(c->name, "NOOP") == 0 && !c->uid && c->nargs == 0)
		mb_printf(&o, "%s OK NOOP completed\r\n", c->tag);
	else if ((strcmp(c->name, "GETQUOTA") == 0 ||
	    strcmp(c->name, "GETQUOTAROOT") == 0 ||
	    strcmp(c->name, "SETQUOTA") == 0) && !c->uid)
		mb_quota(m, c, &o);
	else
		handled = 0;
	/* what an EXPUNGE, CLOSE, MOVE or DELETE freed */
	mb_quota_settle(m);
	if (handled)
		mb_news_before_tagged(m, c, &o);
	r = handled && o.b->len > 0 && !o.failed ? m->write_fn(m->arg,
	    (const char *)o.b->data, o.b->len) : 0;
	buf_free(&o.b);
	return r == -1 || o.failed ? -1 : handled;
}
