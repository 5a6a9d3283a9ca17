/* SPDX-License-Identifier: ISC */
/*
 * meta.h - a message's metadata record: what IMAP needs without reading
 * the message again (ENVELOPE, BODYSTRUCTURE with extension data, and the
 * byte offsets of every part, so that BODY[1.2], BODY[1.2.MIME] and
 * BODY[1.2.HEADER] are served by decrypting only the chunks that hold
 * them) and what SEARCH needs (decoded From/To/Cc/Bcc/Subject text, the
 * Date header, the size, the header field names).  The account's mail
 * process builds it once per message at import (meta_build), stores it
 * sealed to the account beside the index row (meta_encode), and reads it
 * back for FETCH and SEARCH (meta_decode).
 *
 * Strings.  Every string in a record is NUL-terminated and holds no NUL,
 * CR or LF (a NUL in a header value ends it, as in GMime; a CR or LF
 * that does not fold a header line becomes a space).  "raw" strings are header values as sent: unfolded, leading and
 * trailing blanks removed, RFC 2047 encoded-words NOT decoded, and any
 * 8-bit bytes kept (IMAP sends them as literals).  "decoded" strings are
 * valid UTF-8: encoded-words decoded and charsets converted by GMime (and
 * so by iconv: the mail process's jail needs the gconv modules, RECIPES.md
 * section 10), 8-bit text read as UTF-8 or else ISO-8859-1.  ENVELOPE uses
 * raw strings; SEARCH and SORT use decoded ones.
 *
 * Duplicated header fields are read as GMime reads them: for a field that
 * may appear once (Subject, Date, Message-ID, In-Reply-To, Content-*), the
 * last one counts; address fields (From, To, ...) appearing more than once
 * add up.
 *
 * Trust: the message is hostile (meta_build bounds all work, see the
 * limits); a record is sealed by the caller and so trusted after its AEAD
 * check, but meta_decode checks every length, count, offset and tree
 * link anyway, so that the IMAP code may rely on what it returns.
 */
#ifndef SP_META_H
#define SP_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define META_VERSION		1	/* the first byte of a record */

/*
 * Limits.  Going past one never fails a build: the record gets the
 * META_LIMITED flag, the bit of that limit in meta.limits, and everything
 * computed within the limits (offsets stay exact: a part that could not
 * be looked into is a leaf covering all its bytes).  The work of a build
 * is linear in the message size (at most META_MAX_DEPTH boundary
 * comparisons per line and META_MAX_DEPTH line counts per byte) and its
 * memory is bounded by the message size plus META_MAX_OUTPUT; our code
 * does not recurse, and GMime's one recursion (per nested address group)
 * is bounded by META_MAX_ADDR_COLONS.  Measured under ASan: 10,000 nested
 * multiparts 0.02 s, 1,000,000 parts 0.02 s, a 2 MiB header line 0.001 s.
 */
#define META_MAX_DEPTH		32	/* nesting levels, the top part is 1 */
#define META_MAX_PARTS		1000	/* parts per message, all levels */
#define META_MAX_HDR_BLOCK	(256 * 1024)	/* header bytes read per part */
#define META_MAX_HDR_FIELDS	1000	/* header fields read per part */
#define META_MAX_ADDRS		1000	/* addresses + group marks per field */
#define META_MAX_ADDR_COLONS	256	/* ':' per address field given to GMime:
					   it recurses once per nested group */
#define META_MAX_PARAMS		64	/* parameters per Content-Type/-Disp. */
/*
 * What GMime is given to read: it builds an object per parameter and per
 * address, most to be dropped (25,000 parameters in a 240 KB header:
 * 32 ms), so a value is cut before its Nth separator.
 */
#define META_READ_PARAMS	256	/* ';' per Content-Type/-Disposition */
#define META_READ_ADDRS		2000	/* ',' per address field */
#define META_READ_TOTAL		(4 * 1024 * 1024) /* value bytes, message */
#define META_MAX_LANGS		32	/* Content-Language tags */
#define META_MAX_TYPE		127	/* bytes of a (sub)type, RFC 6838 */
#define META_MAX_OUTPUT		(2 * 1024 * 1024) /* bytes of a record */

/* meta.flags */
#define META_UNPARSABLE		0x01	/* one application/octet-stream part */
#define META_LIMITED		0x02	/* a limit was reached: see limits */

/* meta.limits: which limits were reached */
#define META_LIMIT_DEPTH	0x0001
#define META_LIMIT_PARTS	0x0002
#define META_LIMIT_HDR_BLOCK	0x0004
#define META_LIMIT_HDR_FIELDS	0x0008
#define META_LIMIT_ADDRS	0x0010
#define META_LIMIT_PARAMS	0x0020
#define META_LIMIT_LANGS	0x0040
#define META_LIMIT_OUTPUT	0x0080
#define META_LIMIT_GROUPS	0x0100
#define META_LIMIT_READ		0x0200	/* META_READ_TOTAL */
#define META_LIMIT_ALL		0x03ff

/* meta_part.flags: how the part differs from what its headers say */
#define META_PART_UNTERMINATED	0x01	/* multipart: no close delimiter */
#define META_PART_NO_CHILDREN	0x02	/* multipart without a boundary or
					   without any part: made text/plain */
#define META_PART_NOT_PARSED	0x04	/* multipart or message not looked
					   into (depth, part or output limit):
					   made application/octet-stream */
#define META_PART_ENCODED_MSG	0x08	/* message/rfc822 in base64, QP or
					   uuencode: application/octet-stream */
#define META_PART_SKIPPED	0x10	/* multipart: parts after the part
					   or output limit are not recorded */
#define META_PART_ALL		0x1f

#define META_NONE		UINT32_MAX	/* no such part */

enum meta_addr_kind {
	META_ADDR_MAILBOX = 0,
	META_ADDR_GROUP_START = 1,
	META_ADDR_GROUP_END = 2
};

/*
 * One entry of an address list, shaped for RFC 3501 7.4.2:
 *	MAILBOX:	(NAME NIL mailbox host)
 *	GROUP_START:	(NIL NIL NAME NIL)
 *	GROUP_END:	(NIL NIL NIL NIL)
 * where NAME is name_enc when it is not NULL, else name.  Source routes
 * are not kept (GMime drops them): the adl is always NIL.
 */
struct meta_addr {
	uint8_t	 kind;		/* enum meta_addr_kind */
	char	*name;		/* display or group name, decoded; or NULL */
	char	*name_enc;	/* name as 7-bit RFC 2047 text (GMime), or
				   NULL when name is NULL or printable ASCII */
	char	*mailbox;	/* MAILBOX: local part, never NULL; else NULL */
	char	*host;		/* MAILBOX: domain, never NULL ("" when the
				   address has none); else NULL */
};

struct meta_addrlist {
	struct meta_addr	*v;
	uint32_t		 n;
};

/*
 * ENVELOPE of a message (the top one, or one inside message/rfc822).
 * Empty lists and NULL strings are absent fields; RFC 3501's defaults
 * (Sender and Reply-To take From) are the IMAP code's to apply.
 */
struct meta_envelope {
	char			*date;		/* raw */
	char			*subject;	/* raw */
	struct meta_addrlist	 from, sender, reply_to, to, cc, bcc;
	char			*in_reply_to;	/* raw */
	char			*message_id;	/* raw */
};

struct meta_param {
	char	*name;		/* as sent, without RFC 2231 "*N*" marks */
	char	*value;		/* decoded (RFC 2231 and charsets), UTF-8 */
};

/*
 * One MIME part.  Parts sit in meta.parts in document order (the top part,
 * then each part followed by its subtree), so part 0 is the message's own
 * body and a part's children follow it.  A multipart has one or more
 * children; a message/rfc822 (or message/global) part has exactly one: the
 * top part of the enclosed message, which carries that message's envelope;
 * every other part is a leaf.
 *
 * Offsets are bytes into the message.  [hdr_start, body_start) is the
 * part's header block, its blank line included (BODY[n.MIME], or
 * BODY[HEADER] for part 0 and BODY[n.HEADER] for the child of a message
 * part n); [body_start, body_end) is its body (BODY[n], BODY[TEXT], and
 * the size in BODYSTRUCTURE).  The line break before a boundary line
 * belongs to the boundary (RFC 2046 5.1.1), so it is in no part's body.
 * A child lies inside its parent's body, children in order; the child of
 * a message part spans exactly its parent's body.
 */
struct meta_part {
	uint32_t		 parent;	/* index; part 0: META_NONE */
	uint32_t		 next;		/* index after the subtree */
	uint32_t		 nchildren;
	uint32_t		 depth;		/* part 0: 0 */
	uint32_t		 flags;		/* META_PART_* */
	char			*type;		/* lower case, never NULL */
	char			*subtype;	/* (printable ASCII, at most
						   META_MAX_TYPE bytes) */
	struct meta_param	*params;	/* Content-Type parameters */
	uint32_t		 nparams;
	char			*id;		/* Content-ID, raw */
	char			*description;	/* Content-Description, raw */
	char			*encoding;	/* Content-Transfer-Encoding,
						   raw (NULL: IMAP's "7BIT") */
	char			*disposition;	/* lower case, or NULL */
	struct meta_param	*dparams;	/* its parameters */
	uint32_t		 ndparams;
	char			**language;	/* Content-Language tags, raw */
	uint32_t		 nlanguage;
	char			*location;	/* Content-Location, raw */
	uint64_t		 hdr_start;
	uint64_t		 body_start;
	uint64_t		 body_end;
	uint64_t		 lines;		/* text/ and message parts: body
						   lines (LFs, +1 for an
						   unterminated last line) */
	struct meta_envelope	*env;		/* part 0 and children of
						   message parts, else NULL */
};

struct meta {
	uint32_t		 flags;		/* META_UNPARSABLE, _LIMITED */
	uint32_t		 limits;	/* META_LIMIT_* reached */
	uint64_t		 size;		/* message bytes */
	/* search fields of the top message, decoded */
	bool			 has_date;	/* a Date GMime could read */
	int64_t			 date;		/* it, unix seconds */
	int32_t			 date_zone;	/* its zone, minutes east */
	char			*from;		/* "Name <a@b>, ...", or NULL */
	char			*to;
	char			*cc;
	char			*bcc;
	char			*subject;
	char			**names;	/* header field names, lower
						   case, each once, in order
						   of first use */
	uint32_t		 nnames;
	struct meta_part	*parts;		/* nparts >= 1 */
	uint32_t		 nparts;
};

enum meta_section {
	META_SECTION_BODY,	/* BODY[n]; BODY[] for the whole message */
	META_SECTION_MIME,	/* BODY[n.MIME] */
	META_SECTION_HEADER,	/* BODY[HEADER], BODY[n.HEADER] (n a message) */
	META_SECTION_TEXT	/* BODY[TEXT], BODY[n.TEXT] (n a message) */
};

/*
 * Initialise GMime (g_mime_init).  Call once per process before its jail,
 * and before any meta_build.
 */
void	 meta_init(void);

/*
 * Build the record of the len bytes at msg (the message is not copied and
 * not kept).  Never NULL: a message GMime cannot read at all (its header
 * does not start with a header field) gets a record flagged
 * META_UNPARSABLE with one application/octet-stream part covering every
 * byte; a message past a limit gets a record flagged META_LIMITED.  Out
 * of memory is fatal.  err receives a one-line note for the log when the
 * record is flagged ("" otherwise); it quotes nothing from the message.
 * The caller owns the record (meta_free).  Not thread-safe.
 */
struct meta	*meta_build(const unsigned char *msg, size_t len, char *err,
		    size_t errlen);

/*
 * Append the record's version 1 encoding (the layout is in meta.c) to
 * out.  Returns 0, or -1 with errno ENOBUFS when out's max is reached (a
 * record from meta_build or meta_decode never encodes to more than
 * META_MAX_OUTPUT bytes).
 */
int		 meta_encode(const struct meta *, struct buf *out);

/*
 * Decode a record.  Every length, count, flag, string, offset and tree
 * link is checked; any fault, or a byte left over, fails.  Returns a
 * record owned by the caller (meta_free), or NULL with a message in err
 * and errno EBADMSG.
 */
struct meta	*meta_decode(const unsigned char *, size_t, char *err,
		    size_t errlen);

/* Free a record; NULL is fine. */
void		 meta_free(struct meta *);

/* Predicates on a part of a record. */
bool		 meta_part_is_multipart(const struct meta_part *);
bool		 meta_part_is_message(const struct meta_part *);

/*
 * The index of the n-th child (n from 1) of part idx, or META_NONE.
 */
uint32_t	 meta_part_child(const struct meta *, uint32_t idx, uint32_t n);

/*
 * Find a part by its IMAP part number (RFC 3501 6.4.5): "1", "1.2.3".
 * The numbers of a non-multipart message, or of the message inside a
 * message part, start at 1 for that message's body.  s is client input:
 * only digits and single dots, each number 1..4294967295.  Returns 1 and
 * the index in idx_r, 0 when the syntax is right but there is no such
 * part, -1 on bad syntax.
 */
int		 meta_part_find(const struct meta *, const char *s,
		    uint32_t *idx_r);

/*
 * The IMAP part number of part idx into buf ("2.1"), the inverse of
 * meta_part_find.  Returns 1, or 0 when the part has no number of its
 * own (a multipart that is a message's top part) or buf is too small.
 */
int		 meta_part_number(const struct meta *, uint32_t idx, char *buf,
		    size_t len);

/*
 * The byte range [start_r, end_r) of a section: part is an IMAP part
 * number or "" for the whole message.  MIME needs a part number; HEADER
 * and TEXT need "" or a message part.  Returns 1 found, 0 no such part
 * or section, -1 bad syntax (as meta_part_find).
 */
int		 meta_section_range(const struct meta *, const char *part,
		    enum meta_section, uint64_t *start_r, uint64_t *end_r);

#ifdef SP_TEST_HOOKS
/*
 * Tests only: GMime's own reading of a whole message (its parser, not
 * meta_build), as the list of its parts in document order: "type/subtype"
 * in types (lower case, 128 bytes each) and, for leaves, the content's
 * offsets (-1 for multiparts and message parts).  Returns the number of
 * parts (at most max are stored), or -1 when GMime cannot parse it.
 */
int		 meta_gmime_reference(const unsigned char *msg, size_t len,
		    char (*types)[128], int64_t *starts, int64_t *ends,
		    size_t max);
#endif

#endif
