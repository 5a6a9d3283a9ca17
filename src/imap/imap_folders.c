/* SPDX-License-Identifier: ISC */
/*
 * imap_folders.c - CREATE, DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE
 * (RFC 3501 6.3.3-6.3.7) with the hierarchy delimiter "/".
 *
 * Names are kept as the client sends them: 7-bit, modified UTF-7 for
 * anything else (RFC 3501 5.1.3), checked here to be well formed, so
 * that a later UTF-8 form (RFC 6855) can be derived from every stored
 * name.  A new name's missing parents are created (RFC 3501 6.3.3
 * SHOULD); a mailbox with children is not deleted (they would be left
 * under a name that no longer exists); RENAME takes the children along;
 * RENAME of INBOX moves its messages into the new mailbox and leaves
 * INBOX empty.  The six mailboxes every account has cannot be deleted
 * or renamed (the index refuses: EPERM).
 *
 * Process:  imap-mail (the account's uid, in its jail).
 * Trust:    names are the client's: every byte is checked before the
 *           index sees it; nothing here touches the file system (the
 *           index is the only place mailboxes exist).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmalloc.h"
#include "buf.h"
#include "index.h"
#include "imap_cmd.h"
#include "imap_mbox.h"
#include "imap_mbox_int.h"
#include "imap_mbname.h"
#include "banned.h"

/*
 * The name of an argument as the index keeps it (mb_name_arg), a
 * trailing "/" dropped; 0, or -1 after the reply (BAD, or NO [CANNOT]
 * for a name no mailbox can have).
 */
static int
fo_name_arg(struct imap_mbox *m, const struct imap_cmd *c,
    const struct imap_arg *a, char *name, size_t len, struct mb_out *o)
{
	const char	*why;
	size_t		 n;

	if (mb_name_arg(m, a, name, len, &why) == -1) {
		mb_printf(o, "%s BAD Invalid mailbox name\r\n", c->tag);
		return -1;
	}
	if (why != NULL) {
		mb_printf(o, "%s NO [CANNOT] %s\r\n", c->tag, why);
		return -1;
	}
	n = strlen(name);
	if (n > 1 && name[n - 1] == '/') {
		name[n - 1] = '\0';	/* RFC 3501 6.3.3: "foo/" is foo */
		mb_canon(name);
	}
	return 0;
}

/* Does the account have a mailbox under name/? */
static int
fo_has_children(struct imap_mbox *m, const char *name)
{
	struct index_mailbox	*mbs;
	size_t			 n, i, nl = strlen(name);
	int			 r = 0;

	if (index_mailbox_list(m->ix, &mbs, &n) == -1)
		return -1;
	for (i = 0; i < n && !r; i++)
		r = strncmp(mbs[i].name, name, nl) == 0 &&
		    mbs[i].name[nl] == '/';
	free(mbs);
	return r;
}

/* Create name and the parents it lacks; 0, or -1 with errno. */
static int
fo_create_path(struct imap_mbox *m, const char *name, int special_use)
{
	struct index_mailbox	 mb;
	char			 part[INDEX_NAME_MAX + 1];
	const char		*p;

	for (p = strchr(name, '/'); p != NULL; p = strchr(p + 1, '/')) {
		memcpy(part, name, (size_t)(p - name));
		part[p - name] = '\0';
		mb_canon(part);
		if (index_mailbox_open(m->ix, part, &mb) == 1)
			continue;
		if (index_mailbox_create(m->ix, part, 0) == -1 &&
		    errno != EEXIST)
			return -1;
	}
	return index_mailbox_create(m->ix, name, special_use);
}

/* RFC 6154 3: CREATE name (USE (\Sent)) */
static int
fo_special_arg(const struct imap_arg *a, int *su_r)
{
	const struct imap_arg	*l;
	const char		*n;
	int			 su;

	*su_r = 0;
	if (a->type != IMAP_ARG_LIST || a->n != 2 ||
	    a->list[0].type != IMAP_ARG_ATOM || a->list[0].len != 3 ||
	    strncasecmp(a->list[0].s, "USE", 3) != 0 ||
	    (l = &a->list[1])->type != IMAP_ARG_LIST || l->n != 1 ||
	    l->list[0].type != IMAP_ARG_ATOM)
		return -1;
	for (su = 1; (n = index_special_use_name(su)) != NULL; su++)
		if (strlen(n) == l->list[0].len &&
		    strncasecmp(n, l->list[0].s, l->list[0].len) == 0) {
			*su_r = su;
			return 0;
		}
	return -2;			/* a use we do not have */
}

int
mb_create(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	struct index_mailbox	 mb;
	char			 name[INDEX_NAME_MAX + 1];
	const char		*why;
	int			 su = 0, r;

	if (c->nargs < 1 || c->nargs > 2) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	if (fo_name_arg(m, c, &c->args[0], name, sizeof(name), o) == -1)
		return 0;
	if (c->nargs == 2 && (r = fo_special_arg(&c->args[1], &su)) < 0) {
		if (r == -1)
			mb_printf(o, "%s BAD Invalid CREATE parameters\r\n",
			    c->tag);
		else
			mb_printf(o, "%s NO [USEATTR] Unknown special use\r\n",
			    c->tag);
		return 0;
	}
	if ((why = imap_mbname_bad(name)) != NULL) {
		mb_printf(o, "%s NO [CANNOT] %s\r\n", c->tag, why);
		return 0;
	}
	if (index_mailbox_open(m->ix, name, &mb) == 1) {
		mb_printf(o, "%s NO [ALREADYEXISTS] Mailbox already exists\r\n",
		    c->tag);
		return 0;
	}
	if (fo_create_path(m, name, su) == -1) {
		if (errno == EEXIST && su != 0)
			mb_printf(o, "%s NO [USEATTR] Another mailbox has that "
			    "special use\r\n", c->tag);
		else if (errno == EEXIST)
			mb_printf(o, "%s NO [ALREADYEXISTS] Mailbox already "
			    "exists\r\n", c->tag);
		else
			mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
			    index_errstr(m->ix));
		return 0;
	}
	mb_printf(o, "%s OK CREATE completed\r\n", c->tag);
	return 0;
}

int
mb_delete(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	struct index_mailbox	 mb;
	char			 name[INDEX_NAME_MAX + 1];
	int			 r;

	if (c->nargs != 1) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	if (fo_name_arg(m, c, &c->args[0], name, sizeof(name), o) == -1)
		return 0;
	if (index_mailbox_open(m->ix, name, &mb) != 1) {
		mb_printf(o, "%s NO [NONEXISTENT] No such mailbox\r\n", c->tag);
		return 0;
	}
	if ((r = fo_has_children(m, name)) != 0) {
		mb_printf(o, "%s NO %s\r\n", c->tag, r == 1 ? "[INUSE] "
		    "Mailbox has children, delete them first" :
		    "[SERVERBUG] Cannot list mailboxes");
		return 0;
	}
	if (index_mailbox_delete(m->ix, name) == -1) {
		mb_printf(o, "%s NO %s\r\n", c->tag, errno == EPERM ?
		    "[CANNOT] This mailbox cannot be deleted" :
		    "[SERVERBUG] Cannot delete the mailbox");
		return 0;
	}
	if (m->selected && m->mb.id == mb.id)
		imap_mbox_unselect(m);	/* it is gone (RFC 3501 6.3.4) */
	mb_printf(o, "%s OK DELETE completed\r\n", c->tag);
	return 0;
}

struct fo_uids {
	uint32_t	*v;
	size_t		 n;
};

static int
fo_collect(const struct index_msg_info *mi, void *arg)
{
	struct fo_uids	*u = arg;

	if (u->n % 256 == 0)
		u->v = xreallocarray(u->v, u->n + 256, sizeof(*u->v));
	u->v[u->n++] = mi->uid;
	return 0;
}

/* RENAME INBOX new: its messages move, INBOX stays (RFC 3501 6.3.5). */
static int
fo_rename_inbox(struct imap_mbox *m, const char *to)
{
	struct index_mailbox	 in, dst;
	struct fo_uids		 u = { NULL, 0 };
	size_t			 nn = 0;
	int			 r;

	if (index_mailbox_open(m->ix, "INBOX", &in) != 1 ||
	    fo_create_path(m, to, 0) == -1 ||
	    index_mailbox_open(m->ix, to, &dst) != 1)
		return -1;
	if (index_msg_foreach(m->ix, in.id, 1, UINT32_MAX, 0, fo_collect,
	    &u) == -1)
		return -1;
	r = u.n == 0 ? 0 : index_move(m->ix, in.id, u.v, u.n, dst.id, NULL,
	    NULL, &nn);
	free(u.v);
	return r;
}

int
mb_rename(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	struct index_mailbox	*mbs, mb;
	char			 from[INDEX_NAME_MAX + 1], to[INDEX_NAME_MAX + 1];
	char			 child[INDEX_NAME_MAX + 1];
	const char		*why;
	size_t			 n, i, fl;

	if (c->nargs != 2) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	if (fo_name_arg(m, c, &c->args[0], from, sizeof(from), o) == -1 ||
	    fo_name_arg(m, c, &c->args[1], to, sizeof(to), o) == -1)
		return 0;
	if ((why = imap_mbname_bad(to)) != NULL) {
		mb_printf(o, "%s NO [CANNOT] %s\r\n", c->tag, why);
		return 0;
	}
	if (index_mailbox_open(m->ix, from, &mb) != 1) {
		mb_printf(o, "%s NO [NONEXISTENT] No such mailbox\r\n", c->tag);
		return 0;
	}
	if (index_mailbox_open(m->ix, to, &mb) == 1) {
		mb_printf(o, "%s NO [ALREADYEXISTS] Mailbox already exists\r\n",
		    c->tag);
		return 0;
	}
	fl = strlen(from);
	if (strncmp(to, from, fl) == 0 && to[fl] == '/') {
		mb_printf(o, "%s NO [CANNOT] Cannot rename a mailbox into "
		    "itself\r\n", c->tag);
		return 0;
	}
	if (strcmp(from, "INBOX") == 0) {
		if (fo_rename_inbox(m, to) == -1) {
			mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
			    index_errstr(m->ix));
			return 0;
		}
		mb_printf(o, "%s OK RENAME completed\r\n", c->tag);
		return 0;
	}
	/* the parents first, then the mailbox, then its children */
	if (strchr(to, '/') != NULL) {
		char	parent[INDEX_NAME_MAX + 1];

		snprintf(parent, sizeof(parent), "%s", to);
		*strrchr(parent, '/') = '\0';
		if (index_mailbox_open(m->ix, parent, &mb) != 1 &&
		    fo_create_path(m, parent, 0) == -1) {
			mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
			    index_errstr(m->ix));
			return 0;
		}
	}
	if (index_mailbox_rename(m->ix, from, to) == -1) {
		mb_printf(o, "%s NO %s\r\n", c->tag, errno == EPERM ?
		    "[CANNOT] This mailbox cannot be renamed" : errno ==
		    EEXIST ? "[ALREADYEXISTS] Mailbox already exists" :
		    "[SERVERBUG] Cannot rename the mailbox");
		return 0;
	}
	if (index_mailbox_list(m->ix, &mbs, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (strncmp(mbs[i].name, from, fl) != 0 ||
			    mbs[i].name[fl] != '/')
				continue;
			if ((size_t)snprintf(child, sizeof(child), "%s%s", to,
			    mbs[i].name + fl) >= sizeof(child) ||
			    index_mailbox_rename(m->ix, mbs[i].name, child) ==
			    -1)
				break;
		}
		free(mbs);
		if (i < n) {
			mb_printf(o, "%s NO [SERVERBUG] Renamed, but not all "
			    "of its children\r\n", c->tag);
			return 0;
		}
	}
	mb_printf(o, "%s OK RENAME completed\r\n", c->tag);
	return 0;
}

int
mb_subscribe(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o,
    bool on)
{
	struct index_mailbox	 mb;
	char			 name[INDEX_NAME_MAX + 1];

	if (c->nargs != 1) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	if (fo_name_arg(m, c, &c->args[0], name, sizeof(name), o) == -1)
		return 0;
	if (index_mailbox_open(m->ix, name, &mb) != 1) {
		mb_printf(o, "%s NO [NONEXISTENT] No such mailbox\r\n", c->tag);
		return 0;
	}
	if (index_mailbox_subscribe(m->ix, name, on) == -1) {
		mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
		    index_errstr(m->ix));
		return 0;
	}
	mb_printf(o, "%s OK %sSUBSCRIBE completed\r\n", c->tag, on ? "" :
	    "UN");
	return 0;
}
