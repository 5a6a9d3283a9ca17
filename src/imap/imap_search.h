/* SPDX-License-Identifier: ISC */
/*
 * imap_search.h - SEARCH keys (RFC 3501 6.4.4, 9; RFC 4731 ESEARCH's
 * RETURN options): the client's arguments parsed into a bounded tree,
 * and the tree matched against one message at a time.  No I/O: what a
 * key needs of a message (its metadata record, its header block, the
 * text of its body) comes through struct imap_search_msg, loaded only
 * when a key asks.  The parser is fuzzed (tests/fuzz/fuzz_imap_search.c).
 *
 * Strings compare as RFC 3501 says, "case-insensitive substring", with
 * Unicode case folding (GLib's g_utf8_casefold) on UTF-8 text.
 */
#ifndef SP_IMAP_SEARCH_H
#define SP_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_arg;
struct imap_seqset;
struct meta;

#define IMAP_SEARCH_DEPTH_MAX	64	/* NOT, OR and ( ) nested */
#define IMAP_SEARCH_NODES_MAX	4096

/* RETURN options (RFC 4731) */
#define IMAP_SEARCH_RET_MIN	0x01
#define IMAP_SEARCH_RET_MAX	0x02
#define IMAP_SEARCH_RET_ALL	0x04
#define IMAP_SEARCH_RET_COUNT	0x08

enum imap_sk {
	SK_AND, SK_OR, SK_NOT,
	SK_ALL, SK_NONE,		/* NONE: KEYWORD nobody has */
	SK_NEW,				/* \Recent and not \Seen */
	SK_FLAG_SET, SK_FLAG_UNSET,	/* arg.n: INDEX_F_* bit */
	SK_KEYWORD, SK_UNKEYWORD,	/* name; n: its bit, set by the
					   caller (0: no such keyword) */
	SK_LARGER, SK_SMALLER,
	SK_MODSEQ,			/* n: modseq at least (RFC 7162) */
	SK_SEQ, SK_UID,			/* s: the set as sent */
	SK_BEFORE, SK_ON, SK_SINCE,	/* n: days since 1970 */
	SK_SENTBEFORE, SK_SENTON, SK_SENTSINCE,
	SK_FROM, SK_TO, SK_CC, SK_BCC, SK_SUBJECT,	/* s: folded */
	SK_HEADER,			/* name, s */
	SK_BODY, SK_TEXT
};

struct imap_sknode {
	enum imap_sk	 op;
	uint32_t	 a, b;		/* children (AND: first, next...) */
	uint32_t	 next;		/* the next sibling in an AND, or 0 */
	uint64_t	 n;
	char		*s;		/* owned: casefolded UTF-8, or a set */
	char		*name;		/* HEADER: the field name */
	struct imap_seqset *set;	/* SEQ, UID: by imap_search_prepare */
};

struct imap_search {
	struct imap_sknode	*nodes;	/* nodes[0] is the root (an AND) */
	size_t			 nnodes;
	unsigned int		 ret;	/* RETURN options; 0: plain SEARCH */
	bool			 esearch;	/* RETURN was given */
	bool			 needs_meta, needs_header, needs_body;
	bool			 modseq;	/* MODSEQ used: say the highest */
};

/*
 * Parse the arguments of SEARCH (after the command name).  0, or -1
 * with *err_r (static text) and *code_r: "" (BAD), "BADCHARSET" or
 * "LIMIT" (NO [code]).  s is freed by imap_search_free in every case.
 */
int	imap_search_parse(const struct imap_arg *args, size_t nargs,
	    struct imap_search *s, const char **err_r, const char **code_r);
void	imap_search_free(struct imap_search *);
/*
 * Resolve the sequence and UID sets against the mailbox ("*": the last
 * message, the highest UID), once, before matching.
 */
void	imap_search_prepare(struct imap_search *, uint32_t nmsgs,
	    uint32_t maxuid);

/* In imap_search_msg.flags beside INDEX_F_*: the session's \Recent. */
#define IMAP_SEARCH_F_RECENT	0x100

/* One message, as the match sees it. */
struct imap_search_msg {
	uint32_t	 seq, uid, flags;
	uint64_t	 keywords;
	uint64_t	 size;
	uint64_t	 modseq;
	int64_t		 internal_date;		/* unix seconds */
	uint32_t	 nmsgs, maxuid;		/* for "*" in sets */
	/* loaded on demand by the caller's functions; NULL: not there */
	const struct meta	*(*meta)(void *);
	/* the message's header block */
	const char		*(*header)(void *, size_t *len);
	/* does the text of the body hold folded (casefolded UTF-8)? */
	bool			 (*body_has)(void *, const char *folded);
	void			*arg;
};

bool	imap_search_match(const struct imap_search *,
	    const struct imap_search_msg *);

/* Casefold UTF-8 (or Latin-1 when it is not UTF-8): a new string. */
char	*imap_search_fold(const char *s, size_t len);
/* Does hay (casefolded) hold needle (casefolded)?  "" is in everything. */
bool	imap_search_has(const char *hay, const char *needle);
/* The header fields named name in a header block, each decoded (RFC
 * 2047), folded, tried with needle: any hit. */
bool	imap_search_header_has(const char *hdr, size_t len, const char *name,
	    const char *needle);

#endif
