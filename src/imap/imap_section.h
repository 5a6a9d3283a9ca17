/* SPDX-License-Identifier: ISC */
/*
 * imap_section.h - the FETCH items that name a part of a message (RFC
 * 3501 6.4.5 and 9, RFC 3516): BODY[section]<partial>,
 * BODY.PEEK[section]<partial>, BINARY[part]<partial>,
 * BINARY.PEEK[part]<partial>, BINARY.SIZE[part], and RFC822,
 * RFC822.HEADER and RFC822.TEXT, parsed from the client's atom into what
 * to send.  No I/O; fuzzed (tests/fuzz/fuzz_imap_section.c).
 *
 * Trust: the atom is the client's (hostile): every number, name and
 * length is checked here, and nothing is kept that is not checked.
 */
#ifndef SP_IMAP_SECTION_H
#define SP_IMAP_SECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_SEC_PART_MAX	64	/* bytes of "1.2.3" */
#define IMAP_SEC_NAMES_MAX	64	/* HEADER.FIELDS names */
#define IMAP_SEC_NAME_MAX	76	/* bytes of one (RFC 5322 2.1.1) */
#define IMAP_SEC_ECHO_MAX	(IMAP_SEC_NAMES_MAX * (2 * IMAP_SEC_NAME_MAX + 3) + 128)

enum imap_sec_att {
	IMAP_ATT_BODY,		/* BODY[], BODY.PEEK[], RFC822... */
	IMAP_ATT_BINARY,	/* BINARY[], BINARY.PEEK[] */
	IMAP_ATT_BINARY_SIZE	/* BINARY.SIZE[] */
};

enum imap_sec_text {
	IMAP_SEC_ALL,		/* the part (or the whole message) */
	IMAP_SEC_HEADER,
	IMAP_SEC_FIELDS,	/* HEADER.FIELDS (names) */
	IMAP_SEC_FIELDS_NOT,	/* HEADER.FIELDS.NOT (names) */
	IMAP_SEC_TEXT,
	IMAP_SEC_MIME
};

struct imap_section {
	enum imap_sec_att	 att;
	bool			 peek;		/* does not set \Seen */
	char			 part[IMAP_SEC_PART_MAX + 1];	/* "" or "1.2" */
	enum imap_sec_text	 text;
	char			 names[IMAP_SEC_NAMES_MAX][IMAP_SEC_NAME_MAX + 1];
	size_t			 nnames;
	bool			 partial;	/* <origin.count> */
	uint32_t		 origin;
	uint32_t		 count;		/* >= 1 */
	/*
	 * The item's name in the answer, without its partial origin:
	 * "BODY[1.HEADER.FIELDS (FROM TO)]", "BINARY.SIZE[2]", "RFC822".
	 * The header list is written back canonically (upper case, one
	 * space between names).
	 */
	char			 echo[IMAP_SEC_ECHO_MAX];
};

/*
 * Parse one FETCH item.  1: it is a section item, *sec filled; 0: it is
 * not one of these items (the caller tries the others); -1: it is one,
 * malformed (*err_r says how: a static text).
 */
int	imap_section_parse(const char *s, size_t len, struct imap_section *sec,
	    const char **err_r);

/*
 * Keep only the header fields named (FIELDS) or all but those
 * (FIELDS_NOT), each with its continuation lines, from a header block
 * (its blank line, when there, ends the output too: RFC 3501 says the
 * blank line is included).  Names compare without case.  out gets at
 * most outmax bytes: the return is the length the whole result needs.
 */
size_t	imap_section_fields(const struct imap_section *, const char *hdr,
	    size_t hdrlen, char *out, size_t outmax);

#endif
