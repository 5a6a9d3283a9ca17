/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_cmd.c - libFuzzer target for imap_cmd_parse (imap_cmd.c).
 *
 * Input: a flags byte, a separator byte, then the command: split on the
 * separator into at most IMAP_CMD_SEGS_MAX segments, text and literal in
 * turn.  Flags bit 0: announce each literal at the end of the text before
 * it, as the reader guarantees ("{N}", bits 1-2 choose "{N+}" or "~{N}");
 * else the segments are taken as they are (mismatches must be refused).
 * Bit 3 marks raw literal segments literal8.
 *
 * Invariants: a known status; a valid tag unless NOTAG; no storage and an
 * error text on failure; on success the name is upper-case ATOM-CHARs,
 * the tree's depth and node count are within the limits and match
 * nnodes, every atom and literal lies inside the input buffer (a literal
 * is exactly one literal segment), every quoted string inside cmd->strs,
 * NUL-terminated, without CR, LF, NUL or 8-bit; and the command, written
 * out again canonically, parses to the same tree.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutf7.h"
#include "imap_cmd.h"
#include "log.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
fz_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static void
fz_check_tag(const char *tag)
{
	size_t	i, n = strlen(tag);

	SP_ASSERT(n >= 1 && n <= IMAP_CMD_TAG_MAX);
	for (i = 0; i < n; i++)
		SP_ASSERT(tag[i] != '+' && (tag[i] == ']' ||
		    fz_atom_char((unsigned char)tag[i])));
}

static bool
fz_inside(const void *p, size_t len, const void *base, size_t baselen)
{
	const char	*s = p, *b = base;

	return s >= b && len <= baselen && (size_t)(s - b) <= baselen - len;
}

struct fz_ctx {
	const struct imap_raw	*raw;
	const struct imap_cmd	*cmd;
	size_t			 textlen;	/* bound of strs */
	size_t			 count;
};

static void
fz_walk(struct fz_ctx *c, const struct imap_arg *a, size_t n, size_t depth)
{
	size_t	i, j;
	bool	found;

	SP_ASSERT(depth <= IMAP_CMD_DEPTH_MAX);
	SP_ASSERT(n == 0 || fz_inside(a, n * sizeof(*a), c->cmd->nodes,
	    c->cmd->nnodes * sizeof(*a)));
	for (i = 0; i < n; i++) {
		c->count++;
		SP_ASSERT(c->count <= IMAP_CMD_ARGS_MAX);
		switch (a[i].type) {
		case IMAP_ARG_ATOM:
			SP_ASSERT(a[i].len > 0);
			SP_ASSERT(fz_inside(a[i].s, a[i].len, c->raw->buf,
			    c->raw->len));
			for (j = 0; j < a[i].len; j++) {
				unsigned char	ch;

				ch = (unsigned char)a[i].s[j];

				SP_ASSERT(ch >= 0x20 && ch < 0x7f);
				SP_ASSERT(ch != ' ' ||
				    memchr(a[i].s, '[', a[i].len) != NULL);
			}
			break;
		case IMAP_ARG_QUOTED:
			SP_ASSERT(c->cmd->strs != NULL);
			SP_ASSERT(fz_inside(a[i].s, a[i].len + 1, c->cmd->strs,
			    c->textlen + 1));
			SP_ASSERT(a[i].s[a[i].len] == '\0');
			for (j = 0; j < a[i].len; j++) {
				unsigned char	ch;

				ch = (unsigned char)a[i].s[j];

				SP_ASSERT(ch != '\0' && ch != '\r' &&
				    ch != '\n' && (ch < 0x80 || c->raw->utf8));
			}
			/* with UTF-8 allowed: each 8-bit run is UTF-8 text */
			for (j = 0; c->raw->utf8 && j < a[i].len; ) {
				size_t	k = j;

				while (k < a[i].len &&
				    (unsigned char)a[i].s[k] >= 0x80)
					k++;
				SP_ASSERT(k == j ||
				    utf8_valid_text(a[i].s + j, k - j));
				j = k > j ? k : j + 1;
			}
			break;
		case IMAP_ARG_LITERAL:
			for (found = false, j = 0; j < c->raw->nsegs; j++)
				if (c->raw->segs[j].literal &&
				    c->raw->segs[j].p == a[i].s &&
				    c->raw->segs[j].len == a[i].len &&
				    c->raw->segs[j].literal8 == a[i].literal8)
					found = true;
			SP_ASSERT(found);
			break;
		case IMAP_ARG_NIL:
			SP_ASSERT(a[i].s == NULL && a[i].len == 0);
			break;
		case IMAP_ARG_LIST:
			SP_ASSERT((a[i].n == 0) == (a[i].list == NULL));
			fz_walk(c, a[i].list, a[i].n, depth + 1);
			break;
		default:
			SP_ASSERT(!"unknown argument type");
		}
	}
}

/* --- writing a parsed command out again -------------------------------- */

struct fz_out {
	struct imap_raw	*raw;
	size_t		 segstart;
};

static void
fz_put(struct fz_out *o, const void *p, size_t len)
{
	SP_ASSERT(len <= o->raw->cap - o->raw->len);
	memcpy(o->raw->buf + o->raw->len, p, len);
	o->raw->len += len;
}

static void
fz_endseg(struct fz_out *o, bool literal, bool literal8)
{
	struct imap_seg	*s;

	SP_ASSERT(o->raw->nsegs < IMAP_CMD_SEGS_MAX);
	s = &o->raw->segs[o->raw->nsegs++];
	s->literal = literal;
	s->literal8 = literal8;
	s->p = o->raw->buf + o->segstart;
	s->len = o->raw->len - o->segstart;
	o->segstart = o->raw->len;
}

static void
fz_write(struct fz_out *o, const struct imap_arg *a, size_t n)
{
	char	num[32];
	size_t	i, j;
	int	len;

	for (i = 0; i < n; i++) {
		if (i > 0)
			fz_put(o, " ", 1);
		switch (a[i].type) {
		case IMAP_ARG_ATOM:
			fz_put(o, a[i].s, a[i].len);
			break;
		case IMAP_ARG_QUOTED:
			fz_put(o, "\"", 1);
			for (j = 0; j < a[i].len; j++) {
				if (a[i].s[j] == '"' || a[i].s[j] == '\\')
					fz_put(o, "\\", 1);
				fz_put(o, &a[i].s[j], 1);
			}
			fz_put(o, "\"", 1);
			break;
		case IMAP_ARG_LITERAL:
			len = snprintf(num, sizeof(num), "%s{%zu}",
			    a[i].literal8 ? "~" : "", a[i].len);
			SP_ASSERT(len > 0 && (size_t)len < sizeof(num));
			fz_put(o, num, (size_t)len);
			fz_endseg(o, false, false);
			fz_put(o, a[i].s, a[i].len);
			fz_endseg(o, true, a[i].literal8);
			break;
		case IMAP_ARG_NIL:
			fz_put(o, "NIL", 3);
			break;
		case IMAP_ARG_LIST:
			fz_put(o, "(", 1);
			fz_write(o, a[i].list, a[i].n);
			fz_put(o, ")", 1);
			break;
		}
	}
}

static void
fz_same(const struct imap_arg *a, const struct imap_arg *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		SP_ASSERT(a[i].type == b[i].type && a[i].len == b[i].len &&
		    a[i].n == b[i].n && a[i].literal8 == b[i].literal8);
		SP_ASSERT(a[i].len == 0 || memcmp(a[i].s, b[i].s,
		    a[i].len) == 0);
		if (a[i].type == IMAP_ARG_LIST)
			fz_same(a[i].list, b[i].list, a[i].n);
	}
}

static void
fz_roundtrip(const struct imap_raw *raw, const struct imap_cmd *cmd)
{
	struct imap_raw		 out;
	struct imap_cmd		 again;
	struct fz_out		 o;
	const char		*err;

	memset(&out, 0, sizeof(out));
	out.utf8 = raw->utf8;
	out.cap = 2 * raw->len + 32 * cmd->nnodes + 256;
	if ((out.buf = malloc(out.cap)) == NULL)
		return;
	o.raw = &out;
	o.segstart = 0;
	fz_put(&o, cmd->tag, strlen(cmd->tag));
	fz_put(&o, cmd->uid ? " UID " : " ", cmd->uid ? 5 : 1);
	fz_put(&o, cmd->name, strlen(cmd->name));
	if (cmd->nargs > 0)
		fz_put(&o, " ", 1);
	fz_write(&o, cmd->args, cmd->nargs);
	/* a command may end with a literal (no text after it) */
	if (out.nsegs == 0 || o.segstart != out.len ||
	    !out.segs[out.nsegs - 1].literal)
		fz_endseg(&o, false, false);
	SP_ASSERT(imap_cmd_parse(&out, &again, &err) == IMAP_PARSE_OK);
	SP_ASSERT(strcmp(again.tag, cmd->tag) == 0 &&
	    strcmp(again.name, cmd->name) == 0 && again.uid == cmd->uid &&
	    again.nargs == cmd->nargs && again.nnodes == cmd->nnodes);
	fz_same(cmd->args, again.args, cmd->nargs);
	imap_cmd_free(&again);
	free(out.buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char * const	 pre[] = { "{", "{", "~{", "{" };
	static const char * const	 post[] = { "}", "+}", "}", "}" };
	struct imap_raw			 raw;
	struct imap_cmd			 cmd;
	struct fz_ctx			 c;
	const uint8_t			*p, *end, *sep;
	const char			*err = NULL;
	enum imap_parse_status		 st;
	size_t				 off[IMAP_CMD_SEGS_MAX], i, len;
	unsigned int			 flags;
	uint8_t				 sepc;
	bool				 announce;
	int				 n;

	if (size < 2)
		return 0;
	flags = data[0];
	sepc = data[1];
	announce = (flags & 1) != 0;
	p = data + 2;
	end = data + size;

	memset(&raw, 0, sizeof(raw));
	raw.utf8 = (flags & 0x10) != 0;		/* UTF8=ACCEPT, IMAP4rev2 */
	raw.cap = size + IMAP_CMD_SEGS_MAX * 32;
	if ((raw.buf = malloc(raw.cap)) == NULL)
		return 0;
	/* text, literal, text, ...: the literals first, to announce them */
	for (i = 0; i < IMAP_CMD_SEGS_MAX && p <= end; i++) {
		sep = i + 1 < IMAP_CMD_SEGS_MAX ?
		    memchr(p, sepc, (size_t)(end - p)) : NULL;
		len = sep != NULL ? (size_t)(sep - p) : (size_t)(end - p);
		raw.segs[i].literal = (i % 2) == 1;
		raw.segs[i].literal8 = raw.segs[i].literal &&
		    (announce ? ((flags >> 1) & 3) == 2 : (flags & 8) != 0);
		off[i] = (size_t)(p - (data + 2));	/* in the input */
		raw.segs[i].len = len;
		raw.nsegs = i + 1;
		if (sep == NULL)
			break;
		p = sep + 1;
	}
	/* copy, with the announcements (each at most 23 bytes) */
	for (i = 0; i < raw.nsegs; i++) {
		len = raw.segs[i].len;
		memcpy(raw.buf + raw.len, data + 2 + off[i], len);
		raw.segs[i].p = raw.buf + raw.len;
		raw.len += len;
		if (announce && !raw.segs[i].literal && i + 1 < raw.nsegs) {
			n = snprintf(raw.buf + raw.len, raw.cap - raw.len,
			    "%s%zu%s", pre[(flags >> 1) & 3],
			    raw.segs[i + 1].len, post[(flags >> 1) & 3]);
			SP_ASSERT(n > 0 && (size_t)n < 32);
			raw.len += (size_t)n;
			raw.segs[i].len += (size_t)n;
		}
	}

	memset(&cmd, 0xa5, sizeof(cmd));
	st = imap_cmd_parse(&raw, &cmd, &err);
	SP_ASSERT(st <= IMAP_PARSE_TOOMANY);
	if (st != IMAP_PARSE_NOTAG)
		fz_check_tag(cmd.tag);
	if (st != IMAP_PARSE_OK) {
		SP_ASSERT(err != NULL && cmd.nodes == NULL &&
		    cmd.strs == NULL && cmd.nargs == 0 && cmd.args == NULL);
		goto done;
	}
	SP_ASSERT(err == NULL);
	len = strlen(cmd.name);
	SP_ASSERT(len >= 1 && len <= IMAP_CMD_NAME_MAX);
	for (i = 0; i < len; i++)
		SP_ASSERT(fz_atom_char((unsigned char)cmd.name[i]) &&
		    !(cmd.name[i] >= 'a' && cmd.name[i] <= 'z'));
	SP_ASSERT(cmd.nnodes <= IMAP_CMD_ARGS_MAX && cmd.nargs <= cmd.nnodes);
	SP_ASSERT((cmd.nnodes == 0) == (cmd.nodes == NULL));
	memset(&c, 0, sizeof(c));
	c.raw = &raw;
	c.cmd = &cmd;
	for (i = 0; i < raw.nsegs; i++)
		if (!raw.segs[i].literal)
			c.textlen += raw.segs[i].len;
	fz_walk(&c, cmd.args, cmd.nargs, 0);
	SP_ASSERT(c.count == cmd.nnodes);
	fz_roundtrip(&raw, &cmd);
done:
	imap_cmd_free(&cmd);
	imap_cmd_free(&cmd);
	free(raw.buf);
	return 0;
}
