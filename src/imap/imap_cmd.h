/* SPDX-License-Identifier: ISC */
/*
 * imap_cmd.h - reading and parsing one IMAP command (RFC 3501 9, RFC 7888
 * LITERAL+ and LITERAL-), for the login and the mail processes alike.
 *
 * Two layers:
 *  - imap_cmd_read: I/O.  Reads the command's lines and literals from the
 *    client (io.c), answering "+ " for a synchronizing literal {N} only
 *    after checking N, taking a non-synchronizing {N+} without asking,
 *    and refusing at once a literal over the caller's limit (so that
 *    {4294967295} never makes us read or allocate anything).  The result
 *    is a list of segments: text (a line without its CRLF) and literal
 *    bytes, in order.
 *  - imap_cmd_parse: no I/O.  Turns the segments into a tag, a command
 *    name and a tree of arguments (atoms, quoted strings, literals, NIL,
 *    parenthesized lists), with bounded depth and count.  Fuzzed
 *    (tests/fuzz/fuzz_imap_cmd.c).
 *
 * Every limit is checked before anything is stored; a command over a
 * limit is an error naming the limit, never a partial parse.
 */
#ifndef SP_IMAP_CMD_H
#define SP_IMAP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct io;

#define IMAP_CMD_LINE_MAX	8192	/* bytes of one line, without CRLF */
#define IMAP_CMD_MAX		(1024 * 1024)	/* all segments of a command */
#define IMAP_CMD_SEGS_MAX	64	/* lines + literals of a command */
#define IMAP_CMD_DEPTH_MAX	16	/* nested parenthesized lists */
#define IMAP_CMD_ARGS_MAX	4096	/* argument nodes, all levels */
#define IMAP_CMD_TAG_MAX	64
#define IMAP_CMD_NAME_MAX	32
#define IMAP_CMD_SECTION_MAX	1024	/* bytes inside an atom's [...] */

struct imap_seg {
	bool		 literal;	/* literal bytes, else a text line */
	bool		 literal8;	/* ~{N} (RFC 3516 BINARY) */
	const char	*p;		/* into the command's own buffer */
	size_t		 len;
};

/* What the client sent, segments in order. */
struct imap_raw {
	char		*buf;		/* owned; every segment points in */
	size_t		 len, cap;
	struct imap_seg	 segs[IMAP_CMD_SEGS_MAX];
	size_t		 nsegs;
	/*
	 * Set by the caller, kept across calls (may be NULL): the limit of
	 * the literal now announced, given the command's text so far (the
	 * first segment: "tag APPEND ..."), instead of max_literal.  A
	 * limit over IMAP_CMD_MAX lets that one literal (and the command)
	 * be that large: APPEND's message.
	 */
	size_t		(*literal_limit)(void *, const struct imap_raw *,
			    size_t max_literal);
	void		*limit_arg;
	/*
	 * Set by the caller: when > 0, the whole command (the wait for it
	 * included) must arrive within this many ms, however slowly its
	 * bytes trickle in (SECURITY-TESTS T56); else each read has io's
	 * own timeout.
	 */
	int		 cmd_timeout_ms;
	/*
	 * Set by the caller: UTF-8 is allowed in quoted strings (RFC 6855
	 * 3 after ENABLE UTF8=ACCEPT, RFC 9051 9 QUOTED-CHAR for IMAP4rev2);
	 * it must be well formed and free of controls.
	 */
	bool		 utf8;
	size_t		 max;		/* this command's byte limit (internal) */
	/*
	 * After a refusal other than IMAP_READ_IO and IMAP_READ_LINE_TOOLONG:
	 * the command's tag when its first line began with a valid one, so
	 * that the refusal can complete the command (the client waits for
	 * it in place of "+ "); else "".
	 */
	char		 tag[IMAP_CMD_TAG_MAX + 1];
};

enum imap_read_status {
	IMAP_READ_OK = 0,
	IMAP_READ_LINE_TOOLONG,	/* a line over IMAP_CMD_LINE_MAX: dropped up
				   to its LF, the command is BAD */
	IMAP_READ_LITERAL_TOOBIG,/* {N} over max_literal: refused before any
				   byte was read; for {N+} the connection
				   cannot be kept in step: the caller ends it
				   (RFC 7888 4: BYE) */
	IMAP_READ_TOOBIG,	/* over IMAP_CMD_MAX or IMAP_CMD_SEGS_MAX
				   (refused before any byte of a literal
				   was read, as above) */
	IMAP_READ_NUL,		/* a NUL in a text line: returned once the
				   command has been read to its end (a
				   {N+} literal after it is read too, a {N}
				   gets no "+" and ends it) */
	IMAP_READ_IO		/* io ended: see *io_status_r */
};

/*
 * Read one whole command into raw (reset first).  max_literal: the
 * largest literal accepted (the caller knows the command's state: before
 * login a few KiB).  cont is written for a synchronizing literal ("+
 * Ready for literal data\r\n"), through write_fn(arg, text, len).  On
 * IMAP_READ_IO, *io_status_r says how io ended (enum io_status).  For
 * IMAP_READ_LITERAL_TOOBIG and IMAP_READ_TOOBIG, *literal_sync_r says
 * whether the client is still in step: true for a synchronizing literal
 * or a line (then the client sends nothing more of the command and the
 * session may answer BAD and go on), false for {N+} (its bytes are on
 * the way: the caller ends the connection).  Either pointer may be NULL.
 * A line's CRLF or bare LF is not stored; a NUL or a lone CR stays in
 * the text (the parser refuses them).  On any status but IMAP_READ_OK,
 * raw->nsegs is 0.  raw's buffer is kept from one call to the next
 * (imap_raw_free frees it; raw starts zeroed).
 */
/*
 * The capabilities of the authenticated state: the mail process's
 * CAPABILITY and imap-login's OK to a login (each adds APPENDLIMIT=N).
 */
#define IMAP_CAPS_AUTH	"IMAP4rev1 LITERAL+ NAMESPACE UNSELECT UIDPLUS MOVE " \
			"ENABLE ID IDLE ESEARCH SPECIAL-USE CREATE-SPECIAL-USE " \
			"CHILDREN LIST-EXTENDED LIST-STATUS QUOTA " \
			"QUOTA=RES-STORAGE STATUS=SIZE CONDSTORE QRESYNC " \
			"IMAP4rev2 UTF8=ACCEPT COMPRESS=DEFLATE"

enum imap_read_status imap_cmd_read(struct io *, struct imap_raw *raw,
		    size_t max_literal,
		    int (*write_fn)(void *, const char *, size_t), void *arg,
		    int *io_status_r, bool *literal_sync_r);
void		 imap_raw_free(struct imap_raw *);
/*
 * The reply to a command imap_cmd_read refused (any status but
 * IMAP_READ_OK and IMAP_READ_IO), into buf: tagged when the tag is known,
 * since the client waits for it.  true when the connection must end after
 * it (a {N+} we refused: its bytes are on the way, RFC 7888 4).
 */
bool		 imap_read_refusal(enum imap_read_status,
		    const struct imap_raw *, bool literal_sync, char *buf,
		    size_t len);

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* includes numbers, sequence sets, flags
				   (\Seen), and section specs as sent */
	IMAP_ARG_QUOTED,	/* the unescaped content (in cmd->strs,
				   NUL-terminated; never CR, LF, NUL) */
	IMAP_ARG_LITERAL,	/* the bytes (may hold NUL, CR, LF) */
	IMAP_ARG_NIL,		/* s is NULL, len 0 */
	IMAP_ARG_LIST		/* ( ... ) */
};

struct imap_arg {
	enum imap_arg_type	 type;
	const char		*s;	/* ATOM, QUOTED, LITERAL: the bytes */
	size_t			 len;
	bool			 literal8;
	struct imap_arg		*list;	/* LIST: its n items */
	size_t			 n;
};

struct imap_cmd {
	char		 tag[IMAP_CMD_TAG_MAX + 1];
	char		 name[IMAP_CMD_NAME_MAX + 1];	/* upper-cased */
	bool		 uid;		/* "UID FETCH": name is "FETCH" */
	struct imap_arg	*args;		/* the top-level arguments */
	size_t		 nargs;
	/* owned storage (imap_cmd_free, which wipes the quoted strings) */
	struct imap_arg	*nodes;
	size_t		 nnodes;
	char		*strs;		/* unescaped quoted strings */
	size_t		 strslen;
};

enum imap_parse_status {
	IMAP_PARSE_OK = 0,
	IMAP_PARSE_NOTAG,	/* no valid tag: "* BAD" */
	IMAP_PARSE_SYNTAX,	/* "TAG BAD": *errstr_r says where */
	IMAP_PARSE_DEPTH,	/* lists nested over IMAP_CMD_DEPTH_MAX */
	IMAP_PARSE_TOOMANY	/* over IMAP_CMD_ARGS_MAX nodes */
};

/*
 * Parse raw into cmd.  The tag is valid (RFC 3501 9: 1*<ASTRING-CHAR
 * except "+">) whenever the status is not IMAP_PARSE_NOTAG, so that a BAD
 * can carry it.  Quoted strings: only TEXT-CHARs, with \\ and \" escapes;
 * an 8-bit byte in an atom or a quoted string is refused (IMAP4rev1;
 * UTF8=ACCEPT is a later issue).  Atoms are ATOM-CHARs plus the
 * characters FETCH and STORE use in their atoms ("BODY[HEADER.FIELDS",
 * "]", "<0.100>", "\\Seen", "1:*,5"): a bracketed section with spaces
 * inside ("BODY[HEADER.FIELDS (FROM TO)]") is one atom, the list inside
 * it parsed as part of the atom's text, as RFC 3501's grammar has it.
 * Atoms also take "*" and "%" (sequence sets, LIST patterns) and "\"
 * as their first byte (flags); "]" only closes an atom's "[" (at most
 * one per atom, IMAP_CMD_SECTION_MAX bytes inside, lists and quoted
 * strings inside checked for balance and syntax): a mailbox name with
 * "]" must be quoted.  The atom "NIL" (any case) is IMAP_ARG_NIL.
 * Arguments are separated by exactly one SP; a literal's "{N}" must end
 * its text segment and the next segment must be that literal, N bytes.
 * cmd's arguments point into raw (keep it alive).  *errstr_r: static text
 * (NULL on IMAP_PARSE_OK).  On any status but IMAP_PARSE_OK cmd holds no
 * storage (no arguments); imap_cmd_free is still safe to call.  cmd is
 * overwritten, not freed: free an earlier result first.
 */
enum imap_parse_status imap_cmd_parse(const struct imap_raw *raw,
		    struct imap_cmd *cmd, const char **errstr_r);
void		 imap_cmd_free(struct imap_cmd *);
/* The reply to a command imap_cmd_parse refused, into buf. */
void		 imap_parse_refusal(enum imap_parse_status,
		    const struct imap_cmd *, const char *errstr, char *buf,
		    size_t len);

#endif
