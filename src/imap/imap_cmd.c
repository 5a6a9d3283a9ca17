/* SPDX-License-Identifier: ISC */
/*
 * imap_cmd.c - reading one IMAP command (lines and literals) from the
 * client, and parsing it into a tag, a name and a tree of arguments
 * (RFC 3501 9, RFC 7888 LITERAL+, RFC 3516 literal8).
 *
 * Process:  imap-login (before login) and imap-mail (after login).
 * Trust:    every byte read is hostile.  A literal's size is checked
 *           against the caller's limit and IMAP_CMD_MAX before "+ " is
 *           sent or a byte is read; the parser works on explicit lengths,
 *           never runs past a segment, and is linear in the input.
 * Limits:   IMAP_CMD_LINE_MAX, IMAP_CMD_MAX, IMAP_CMD_SEGS_MAX,
 *           IMAP_CMD_DEPTH_MAX, IMAP_CMD_ARGS_MAX, IMAP_CMD_TAG_MAX,
 *           IMAP_CMD_NAME_MAX, IMAP_CMD_SECTION_MAX (imap_cmd.h).
 * See also: io.c, tests/unit/test_imap_cmd.c, tests/fuzz/fuzz_imap_cmd.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io.h"
#include "log.h"
#include "xmalloc.h"
#include "mutf7.h"
#include "imap_cmd.h"
#include "banned.h"

#define IMAP_RAW_MINCAP		1024
#define IMAP_LITERAL_DIGITS	20	/* a 64-bit number */

static const char	imap_cont[] = "+ Ready for literal data\r\n";

/* --- reading ------------------------------------------------------------ */

/* Make room for need bytes in all; -1 over the command's limit. */
static int
imap_raw_reserve(struct imap_raw *raw, size_t need)
{
	size_t	cap, max = raw->max > IMAP_CMD_MAX ? raw->max : IMAP_CMD_MAX;

	if (need > max)
		return -1;
	if (raw->buf != NULL && need <= raw->cap)
		return 0;
	cap = raw->cap < IMAP_RAW_MINCAP ? IMAP_RAW_MINCAP : raw->cap;
	while (cap < need)
		cap = cap > max / 2 ? max : cap * 2;
	raw->buf = xreallocarray(raw->buf, cap, 1);
	raw->cap = cap;
	return 0;
}

/*
 * Does the line end in a literal announcement "{N}", "{N+}" or "~{N}"?
 * 1 with *n_r, *sync_r, *lit8_r and *at_r (where the "{" or "~" is);
 * 0 if not; -1 if N does not fit 64 bits (*sync_r is set).
 */
static int
imap_literal_announced(const char *line, size_t len, uint64_t *n_r,
    bool *sync_r, bool *lit8_r, size_t *at_r)
{
	size_t		end, i, start;
	uint64_t	n = 0;
	unsigned int	d;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	end = len - 1;
	*sync_r = true;
	if (line[end - 1] == '+') {
		*sync_r = false;
		end--;
	}
	for (start = end; start > 0 && line[start - 1] >= '0' &&
	    line[start - 1] <= '9'; start--)
		;
	if (start == end || start == 0 || line[start - 1] != '{')
		return 0;
	if (end - start > IMAP_LITERAL_DIGITS)
		return -1;
	for (i = start; i < end; i++) {
		d = (unsigned int)(line[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*lit8_r = start >= 2 && line[start - 2] == '~';
	*at_r = *lit8_r ? start - 2 : start - 1;
	*n_r = n;
	return 1;
}

static void
imap_raw_fix(struct imap_raw *raw, const size_t *off)
{
	size_t	i;

	for (i = 0; i < raw->nsegs; i++)
		raw->segs[i].p = raw->buf + off[i];
}

static bool	imap_tag_char(unsigned char);

/*
 * With a whole-command deadline, the next read may wait only what is
 * left of it (io's own timeout at most).  -1 when it has passed.
 */
static int
imap_deadline_left(struct io *io, long deadline, int io_timeout)
{
	long	left;

	if (deadline == 0)
		return 0;
	if ((left = deadline - io_now_ms()) <= 0)
		return -1;
	io->timeout_ms = left < io_timeout ? (int)left : io_timeout;
	return 0;
}

/* The refused command's tag, when it has a valid one (raw->tag). */
static void
imap_raw_tag(struct imap_raw *raw)
{
	const struct imap_seg	*s = &raw->segs[0];
	size_t			 n;

	for (n = 0; n < s->len && n <= IMAP_CMD_TAG_MAX && s->p[n] != ' ';
	    n++)
		if (!imap_tag_char((unsigned char)s->p[n]))
			return;
	if (n == 0 || n > IMAP_CMD_TAG_MAX || n == s->len)
		return;
	memcpy(raw->tag, s->p, n);
	raw->tag[n] = '\0';
}

enum imap_read_status
imap_cmd_read(struct io *io, struct imap_raw *raw, size_t max_literal,
    int (*write_fn)(void *, const char *, size_t), void *arg,
    int *io_status_r, bool *literal_sync_r)
{
	size_t			 off[IMAP_CMD_SEGS_MAX];
	struct imap_seg		*seg;
	enum imap_read_status	 ret = IMAP_READ_OK;
	enum io_status		 st;
	const uint8_t		*in;
	char			*line;
	size_t			 len, avail, left, take, at;
	uint64_t		 n;
	bool			 sync = true, lit8 = false, nul = false;
	int			 crlf, r, io_timeout = io->timeout_ms;
	long			 deadline = 0;

	raw->len = 0;
	raw->nsegs = 0;
	raw->max = IMAP_CMD_MAX;
	if (io_status_r != NULL)
		*io_status_r = IO_LINE;
	if (literal_sync_r != NULL)
		*literal_sync_r = true;
	/* SECURITY: buf is never NULL below: no arithmetic on a NULL. */
	(void)imap_raw_reserve(raw, 1);
	if (raw->cmd_timeout_ms > 0)
		deadline = io_now_ms() + raw->cmd_timeout_ms;

	for (;;) {
		st = imap_deadline_left(io, deadline, io_timeout) == -1 ?
		    IO_TIMEOUT : io_getline_crlf(io, IMAP_CMD_LINE_MAX, &line,
		    &len, &crlf);
		if (st == IO_TOOLONG) {
			ret = IMAP_READ_LINE_TOOLONG;
			break;
		}
		if (st != IO_LINE) {
			if (io_status_r != NULL)
				*io_status_r = (int)st;
			ret = IMAP_READ_IO;
			break;
		}
		/* a bare LF ends a line too (crlf unused): IMAP clients vary */
		if (memchr(line, '\0', len) != NULL)
			nul = true;
		/* a line always has a slot: a literal reserves two */
		SP_ASSERT(raw->nsegs < IMAP_CMD_SEGS_MAX);
		if (len > raw->max - raw->len ||
		    imap_raw_reserve(raw, raw->len + len) == -1) {
			/* at a line's end: the client waits for our answer */
			if (literal_sync_r != NULL)
				*literal_sync_r = true;
			ret = IMAP_READ_TOOBIG;
			break;
		}
		memcpy(raw->buf + raw->len, line, len);
		seg = &raw->segs[raw->nsegs];
		seg->literal = seg->literal8 = false;
		seg->len = len;
		off[raw->nsegs++] = raw->len;
		raw->len += len;

		r = imap_literal_announced(raw->buf + raw->len - len, len, &n,
		    &sync, &lit8, &at);
		if (r == 0)
			break;
		if (literal_sync_r != NULL)
			*literal_sync_r = sync;
		/*
		 * SECURITY: every limit is checked before "+ " is sent or a
		 * byte of the literal is read or stored.
		 */
		if (r != -1 && raw->literal_limit != NULL) {
			size_t	lim;

			/* the text so far as segments, for the caller */
			imap_raw_fix(raw, off);
			lim = raw->literal_limit(raw->limit_arg, raw,
			    max_literal);
			if (lim > IMAP_CMD_MAX && n <= lim &&
			    lim <= SIZE_MAX - IMAP_CMD_MAX)
				raw->max = lim + IMAP_CMD_MAX;
			max_literal = lim;
		}
		if (r == -1 || n > max_literal) {
			ret = IMAP_READ_LITERAL_TOOBIG;
			break;
		}
		if (n > raw->max - raw->len ||
		    raw->nsegs + 2 > IMAP_CMD_SEGS_MAX ||
		    imap_raw_reserve(raw, raw->len + (size_t)n) == -1) {
			ret = IMAP_READ_TOOBIG;
			break;
		}
		if (sync) {
			/* a bad command gets no "+": nothing more comes */
			if (nul)
				break;
			if (write_fn(arg, imap_cont, sizeof(imap_cont) - 1)
			    == -1) {
				if (io_status_r != NULL)
					*io_status_r = IO_ERROR;
				ret = IMAP_READ_IO;
				break;
			}
		}
		seg = &raw->segs[raw->nsegs];
		seg->literal = true;
		seg->literal8 = lit8;
		seg->len = (size_t)n;
		off[raw->nsegs++] = raw->len;
		/* the bytes are raw: anything, NUL and CR LF included */
		for (left = (size_t)n; left > 0; left -= take) {
			st = imap_deadline_left(io, deadline, io_timeout) ==
			    -1 ? IO_TIMEOUT : io_wait_input(io);
			if (st != IO_LINE) {
				if (io_status_r != NULL)
					*io_status_r = (int)st;
				ret = IMAP_READ_IO;
				break;
			}
			in = io_peek(io, &avail);
			take = avail < left ? avail : left;
			memcpy(raw->buf + raw->len, in, take);
			io_consume(io, take);
			raw->len += take;
		}
		if (ret != IMAP_READ_OK)
			break;
		/* the command goes on in the next line */
	}
	io->timeout_ms = io_timeout;
	imap_raw_fix(raw, off);
	if (ret == IMAP_READ_OK && nul)
		ret = IMAP_READ_NUL;
	raw->tag[0] = '\0';
	if (ret != IMAP_READ_OK && ret != IMAP_READ_IO && raw->nsegs > 0)
		imap_raw_tag(raw);
	if (ret != IMAP_READ_OK)
		raw->nsegs = 0;
	return ret;
}

bool
imap_read_refusal(enum imap_read_status rs, const struct imap_raw *raw,
    bool literal_sync, char *buf, size_t len)
{
	const char	*tag = raw->tag[0] != '\0' ? raw->tag : "*";

	if (!literal_sync && rs != IMAP_READ_LINE_TOOLONG &&
	    rs != IMAP_READ_NUL) {
		(void)snprintf(buf, len, "* BYE [TOOBIG] Literal too large\r\n");
		return true;
	}
	if (rs == IMAP_READ_LINE_TOOLONG)	/* its tag went with it */
		(void)snprintf(buf, len, "* BAD Line too long\r\n");
	else if (rs == IMAP_READ_NUL)
		(void)snprintf(buf, len, "%s BAD NUL byte in command\r\n", tag);
	else
		(void)snprintf(buf, len, "%s NO [TOOBIG] Command or literal too "
		    "large\r\n", tag);
	return false;
}

void
imap_raw_free(struct imap_raw *raw)
{
	free(raw->buf);
	raw->buf = NULL;
	raw->len = raw->cap = raw->nsegs = 0;
}

/* --- parsing ------------------------------------------------------------ */

/* RFC 3501 9: ATOM-CHAR, any CHAR except atom-specials. */
static bool
imap_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\]", c) == NULL;
}

/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">. */
static bool
imap_tag_char(unsigned char c)
{
	return c != '+' && (c == ']' || imap_atom_char(c));
}

/* RFC 3501 9: TEXT-CHAR (a CHAR, not CR or LF; CHAR excludes NUL). */
static bool
imap_text_char(unsigned char c)
{
	return c >= 0x01 && c <= 0x7f && c != '\r' && c != '\n';
}

struct imap_pstate {
	const struct imap_raw	*raw;
	size_t			 si;	/* current text segment */
	const char		*p;	/* its bytes */
	size_t			 len, off;
	/* pre-order nodes; sub[i]: how many nodes i's subtree holds */
	struct imap_arg		*toks;
	size_t			*sub;
	size_t			 ntoks, captoks;
	char			*strs;
	size_t			 strslen, strscap;
	const char		*err;
};

#define IMAP_END	(-1)

static int
imap_peek(const struct imap_pstate *ps)
{
	if (ps->off >= ps->len)
		return IMAP_END;
	return (unsigned char)ps->p[ps->off];
}

/* A new node, or NULL over IMAP_CMD_ARGS_MAX. */
static struct imap_arg *
imap_node(struct imap_pstate *ps, enum imap_arg_type type)
{
	struct imap_arg	*a;
	size_t		 cap;

	if (ps->ntoks >= IMAP_CMD_ARGS_MAX)
		return NULL;
	if (ps->ntoks == ps->captoks) {
		cap = ps->captoks == 0 ? 16 : ps->captoks * 2;
		if (cap > IMAP_CMD_ARGS_MAX)
			cap = IMAP_CMD_ARGS_MAX;
		ps->toks = xreallocarray(ps->toks, cap, sizeof(*ps->toks));
		ps->sub = xreallocarray(ps->sub, cap, sizeof(*ps->sub));
		ps->captoks = cap;
	}
	a = &ps->toks[ps->ntoks];
	memset(a, 0, sizeof(*a));
	a->type = type;
	ps->sub[ps->ntoks++] = 0;
	return a;
}

/*
 * With UTF-8 allowed (RFC 9051 QUOTED-CHAR: TEXT-CHAR or UTF8-2..4):
 * every run of 8-bit bytes is whole, well-formed UTF-8 without C1
 * controls; the 7-bit bytes keep RFC 3501's rules.
 */
static bool
imap_utf8_runs_ok(const char *s, size_t len)
{
	size_t	i, j;

	for (i = 0; i < len; i = j) {
		for (j = i; j < len && (unsigned char)s[j] >= 0x80; j++)
			;
		if (j > i && !utf8_valid_text(s + i, j - i))
			return false;
		if (j == i)
			j++;
	}
	return true;
}

/* The quoted string at ps->off; 0 ok, -1 syntax. */
static int
imap_parse_quoted(struct imap_pstate *ps, struct imap_arg *a)
{
	size_t		 total, i;
	unsigned char	 c;
	char		*out;
	bool		 eight = false;

	if (ps->strs == NULL) {
		/* the unescaped text and its NUL fit in the raw text */
		for (total = 1, i = 0; i < ps->raw->nsegs; i++)
			if (!ps->raw->segs[i].literal)
				total += ps->raw->segs[i].len;
		ps->strs = xmalloc(total);
		ps->strscap = total;
	}
	out = ps->strs + ps->strslen;
	a->s = out;
	for (ps->off++; ps->off < ps->len; ps->off++) {
		c = (unsigned char)ps->p[ps->off];
		if (c == '"') {
			ps->off++;
			a->len = (size_t)(out - a->s);
			*out++ = '\0';
			ps->strslen = (size_t)(out - ps->strs);
			if (eight && !imap_utf8_runs_ok(a->s, a->len)) {
				ps->err = "invalid UTF-8 in a quoted string";
				return -1;
			}
			return 0;
		}
		if (c == '\\') {
			/* RFC 3501 9: only quoted-specials are escaped */
			if (++ps->off == ps->len ||
			    (ps->p[ps->off] != '\\' && ps->p[ps->off] != '"')) {
				ps->err = "bad escape in a quoted string";
				return -1;
			}
			c = (unsigned char)ps->p[ps->off];
		} else if (c >= 0x80 && ps->raw->utf8)
			eight = true;		/* checked whole at the end */
		else if (!imap_text_char(c)) {
			ps->err = c >= 0x80 ? "8-bit byte in a quoted string" :
			    "control character in a quoted string";
			return -1;
		}
		SP_ASSERT((size_t)(out - ps->strs) + 1 < ps->strscap);
		*out++ = (char)c;
	}
	ps->err = "unterminated quoted string";
	return -1;
}

/*
 * "{N}", "{N+}", "~{N}" ending this text segment, and the literal segment
 * after it, N bytes long; ps moves to the text segment after that.
 */
static int
imap_parse_literal(struct imap_pstate *ps, struct imap_arg *a)
{
	const struct imap_seg	*lit;
	uint64_t		 n;
	size_t			 at;
	bool			 sync, lit8;

	if (imap_literal_announced(ps->p + ps->off, ps->len - ps->off, &n,
	    &sync, &lit8, &at) != 1 || at != 0) {
		ps->err = "bad literal: {N} must end the line";
		return -1;
	}
	if (ps->si + 1 >= ps->raw->nsegs) {
		ps->err = "literal missing";
		return -1;
	}
	lit = &ps->raw->segs[ps->si + 1];
	if (!lit->literal || lit->literal8 != lit8 || lit->len != n) {
		ps->err = "literal does not match its announcement";
		return -1;
	}
	a->s = lit->p;
	a->len = lit->len;
	a->literal8 = lit8;
	/* on in the text after the literal (none: the command ends) */
	ps->si += 2;
	ps->off = ps->len = 0;
	ps->p = NULL;
	if (ps->si < ps->raw->nsegs) {
		if (ps->raw->segs[ps->si].literal) {
			ps->err = "two literals in a row";
			return -1;
		}
		ps->p = ps->raw->segs[ps->si].p;
		ps->len = ps->raw->segs[ps->si].len;
	}
	return 0;
}

/*
 * An atom (with one bracketed section spaces and lists may be in, as
 * FETCH's "BODY[HEADER.FIELDS (FROM TO)]<0.100>"), or NIL.
 */
static int
imap_parse_atom(struct imap_pstate *ps, struct imap_arg *a)
{
	size_t		 start = ps->off, sect = 0, paren = 0;
	bool		 bracket = false, had_bracket = false, inq = false;
	unsigned char	 c;

	/* flags: "\Seen", "\*" (RFC 3501 9: flag-keyword, flag-perm) */
	if (ps->p[ps->off] == '\\')
		ps->off++;
	for (; ps->off < ps->len; ps->off++) {
		c = (unsigned char)ps->p[ps->off];
		if (c >= 0x80) {
			ps->err = "8-bit byte in an atom";
			return -1;
		}
		if (bracket) {
			if ((inq || c != ']') &&
			    ++sect > IMAP_CMD_SECTION_MAX) {
				ps->err = "section too long";
				return -1;
			}
			if (inq) {
				/* a quoted header name: checked, kept */
				if (c == '\\') {
					if (ps->off + 1 == ps->len ||
					    (ps->p[ps->off + 1] != '\\' &&
					    ps->p[ps->off + 1] != '"')) {
						ps->err = "bad escape in a "
						    "section";
						return -1;
					}
					ps->off++;
				} else if (c == '"')
					inq = false;
				else if (c < 0x20 || c == 0x7f) {
					/* stricter than TEXT-CHAR: no CTL */
					ps->err = "bad character in a section";
					return -1;
				}
				continue;
			}
			if (c == ']') {
				if (paren != 0) {
					ps->err = "unbalanced ( in a section";
					return -1;
				}
				bracket = false;
			} else if (c == '(') {
				if (++paren > IMAP_CMD_DEPTH_MAX) {
					ps->err = "section nested too deep";
					return -1;
				}
			} else if (c == ')') {
				if (paren == 0) {
					ps->err = "unbalanced ) in a section";
					return -1;
				}
				paren--;
			} else if (c == '"')
				inq = true;
			else if (c != ' ' && c != '*' && c != '%' &&
			    !imap_atom_char(c)) {
				ps->err = "bad character in a section";
				return -1;
			}
			continue;
		}
		if (c == ' ' || c == ')')
			break;
		if (c == '[') {
			if (had_bracket) {
				ps->err = "two sections in an atom";
				return -1;
			}
			bracket = had_bracket = true;
			continue;
		}
		/* list-wildcards (LIST), "*" in sequence sets */
		if (c == '*' || c == '%')
			continue;
		if (!imap_atom_char(c)) {
			ps->err = c == ']' ? "unbalanced ]" :
			    "bad character in an atom";
			return -1;
		}
	}
	if (bracket) {
		ps->err = "unbalanced [";
		return -1;
	}
	if (ps->off == start || (ps->p[start] == '\\' &&
	    ps->off == start + 1)) {
		ps->err = "empty atom";
		return -1;
	}
	a->s = ps->p + start;
	a->len = ps->off - start;
	if (a->len == 3 && strncasecmp(a->s, "NIL", 3) == 0) {
		a->type = IMAP_ARG_NIL;
		a->s = NULL;
		a->len = 0;
	}
	return 0;
}

/* Lay the pre-order nodes out so that each list's items are adjacent. */
static void
imap_layout(struct imap_pstate *ps, struct imap_cmd *cmd)
{
	struct imap_arg	*nodes;
	size_t		*src, next = 0, f, j, end, first;

	cmd->nnodes = ps->ntoks;
	if (ps->ntoks == 0)
		return;
	nodes = xreallocarray(NULL, ps->ntoks, sizeof(*nodes));
	src = xreallocarray(NULL, ps->ntoks, sizeof(*src));
	for (j = 0; j < ps->ntoks; j += ps->sub[j] + 1) {
		src[next] = j;
		nodes[next++] = ps->toks[j];
	}
	cmd->nargs = next;
	for (f = 0; f < ps->ntoks; f++) {
		SP_ASSERT(f < next);
		if (nodes[f].type != IMAP_ARG_LIST)
			continue;
		first = next;
		end = src[f] + 1 + ps->sub[src[f]];
		for (j = src[f] + 1; j < end; j += ps->sub[j] + 1) {
			src[next] = j;
			nodes[next++] = ps->toks[j];
		}
		nodes[f].n = next - first;
		nodes[f].list = nodes[f].n > 0 ? &nodes[first] : NULL;
	}
	SP_ASSERT(next == ps->ntoks);
	free(src);
	cmd->nodes = nodes;
	cmd->args = nodes;
}

/* One word of the command's name into name (upper-cased). */
static int
imap_parse_name(struct imap_pstate *ps, char *name, size_t size)
{
	size_t		n = 0;
	unsigned char	c;

	while (ps->off < ps->len && ps->p[ps->off] != ' ') {
		c = (unsigned char)ps->p[ps->off++];
		if (!imap_atom_char(c) || c == '[') {
			ps->err = "bad command name";
			return -1;
		}
		if (n + 1 >= size) {
			ps->err = "command name too long";
			return -1;
		}
		name[n++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') :
		    (char)c;
	}
	name[n] = '\0';
	if (n == 0) {
		ps->err = "missing command name";
		return -1;
	}
	return 0;
}

static enum imap_parse_status
imap_parse_args(struct imap_pstate *ps)
{
	size_t		 stack[IMAP_CMD_DEPTH_MAX], depth = 0;
	struct imap_arg	*a;
	int		 c;

	for (;;) {
		/* after the name or an argument: SP, ")" or the end */
		c = imap_peek(ps);
		if (c == IMAP_END) {
			if (depth > 0) {
				ps->err = "unbalanced (";
				return IMAP_PARSE_SYNTAX;
			}
			if (ps->si + 1 < ps->raw->nsegs) {
				ps->err = "literal not announced";
				return IMAP_PARSE_SYNTAX;
			}
			return IMAP_PARSE_OK;
		}
		if (c == ')') {
			if (depth == 0) {
				ps->err = "unbalanced )";
				return IMAP_PARSE_SYNTAX;
			}
			depth--;
			ps->sub[stack[depth]] = ps->ntoks - stack[depth] - 1;
			ps->off++;
			continue;
		}
		if (c != ' ') {
			ps->err = "expected SP between arguments";
			return IMAP_PARSE_SYNTAX;
		}
		ps->off++;
 arg:
		c = imap_peek(ps);
		if (c == IMAP_END || c == ' ' || c == ')') {
			ps->err = "missing argument";
			return IMAP_PARSE_SYNTAX;
		}
		if ((a = imap_node(ps, c == '(' ? IMAP_ARG_LIST :
		    c == '"' ? IMAP_ARG_QUOTED : IMAP_ARG_ATOM)) == NULL) {
			ps->err = "too many arguments";
			return IMAP_PARSE_TOOMANY;
		}
		if (c == '(') {
			if (depth == IMAP_CMD_DEPTH_MAX) {
				ps->err = "lists nested too deep";
				return IMAP_PARSE_DEPTH;
			}
			stack[depth++] = ps->ntoks - 1;
			ps->off++;
			if (imap_peek(ps) == ')')
				continue;	/* "()" closes above */
			goto arg;
		}
		if (c == '"') {
			if (imap_parse_quoted(ps, a) == -1)
				return IMAP_PARSE_SYNTAX;
			continue;
		}
		if (c == '{' || (c == '~' && ps->off + 1 < ps->len &&
		    ps->p[ps->off + 1] == '{')) {
			a->type = IMAP_ARG_LITERAL;
			if (imap_parse_literal(ps, a) == -1)
				return IMAP_PARSE_SYNTAX;
			continue;
		}
		if (imap_parse_atom(ps, a) == -1)
			return IMAP_PARSE_SYNTAX;
	}
}

enum imap_parse_status
imap_cmd_parse(const struct imap_raw *raw, struct imap_cmd *cmd,
    const char **errstr_r)
{
	struct imap_pstate	 ps;
	enum imap_parse_status	 st;
	size_t			 n;

	memset(cmd, 0, sizeof(*cmd));
	memset(&ps, 0, sizeof(ps));
	ps.raw = raw;
	*errstr_r = "missing tag";
	SP_ASSERT(raw->nsegs <= IMAP_CMD_SEGS_MAX);
	if (raw->nsegs == 0 || raw->segs[0].literal)
		return IMAP_PARSE_NOTAG;
	ps.p = raw->segs[0].p;
	ps.len = raw->segs[0].len;

	/* RFC 3501 9: tag SP command */
	for (n = 0; n < ps.len && ps.p[n] != ' '; n++)
		if (!imap_tag_char((unsigned char)ps.p[n]) ||
		    n >= IMAP_CMD_TAG_MAX) {
			*errstr_r = "bad tag";
			return IMAP_PARSE_NOTAG;
		}
	if (n == 0)
		return IMAP_PARSE_NOTAG;
	memcpy(cmd->tag, ps.p, n);
	cmd->tag[n] = '\0';
	ps.off = n;
	if (ps.off == ps.len) {
		*errstr_r = "missing command name";
		return IMAP_PARSE_SYNTAX;
	}
	ps.off++;
	if (imap_parse_name(&ps, cmd->name, sizeof(cmd->name)) == -1) {
		*errstr_r = ps.err;
		return IMAP_PARSE_SYNTAX;
	}
	if (strcmp(cmd->name, "UID") == 0) {
		/* RFC 3501 6.4.8: UID COPY/FETCH/SEARCH/STORE (and others) */
		if (imap_peek(&ps) != ' ') {
			*errstr_r = "UID needs a command";
			return IMAP_PARSE_SYNTAX;
		}
		ps.off++;
		cmd->uid = true;
		if (imap_parse_name(&ps, cmd->name, sizeof(cmd->name)) == -1) {
			*errstr_r = ps.err;
			return IMAP_PARSE_SYNTAX;
		}
	}
	st = imap_parse_args(&ps);
	if (st == IMAP_PARSE_OK) {
		imap_layout(&ps, cmd);
		cmd->strs = ps.strs;
		cmd->strslen = ps.strscap;
		*errstr_r = NULL;
	} else {
		/* a quoted password may be in there: wiped, as on success */
		if (ps.strs != NULL)
			explicit_bzero(ps.strs, ps.strscap);
		free(ps.strs);
		*errstr_r = ps.err;
	}
	free(ps.toks);
	free(ps.sub);
	return st;
}

void
imap_parse_refusal(enum imap_parse_status ps, const struct imap_cmd *cmd,
    const char *errstr, char *buf, size_t len)
{
	if (ps == IMAP_PARSE_NOTAG)
		(void)snprintf(buf, len, "* BAD Invalid tag or missing "
		    "command\r\n");
	else
		(void)snprintf(buf, len, "%s BAD %s\r\n", cmd->tag, errstr);
}

void
imap_cmd_free(struct imap_cmd *cmd)
{
	free(cmd->nodes);
	if (cmd->strs != NULL)
		explicit_bzero(cmd->strs, cmd->strslen);
	free(cmd->strs);
	cmd->nodes = cmd->args = NULL;
	cmd->strs = NULL;
	cmd->strslen = 0;
	cmd->nnodes = cmd->nargs = 0;
}
