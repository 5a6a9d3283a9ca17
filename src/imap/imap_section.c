/* SPDX-License-Identifier: ISC */
/*
 * imap_section.c - parsing the FETCH items that name a part of a message
 * (imap_section.h), and the HEADER.FIELDS filter.
 *
 * Grammar (RFC 3501 9, RFC 3516 4.2):
 *	section		= "[" [section-spec] "]"
 *	section-spec	= section-msgtext / (section-part ["." section-text])
 *	section-msgtext	= "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list /
 *			  "TEXT"
 *	section-text	= section-msgtext / "MIME"
 *	section-part	= nz-number *("." nz-number)
 *	header-list	= "(" header-fld-name *(SP header-fld-name) ")"
 *	section-binary	= "[" [section-part] "]"
 *	partial		= "<" number "." nz-number ">"
 *
 * Trust: the item is the client's; bounded by IMAP_SEC_* and the command
 * reader's limits; no recursion, no allocation.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imap_section.h"
#include "banned.h"

struct sec_in {
	const char	*p, *end;
	const char	*err;
};

static bool
sec_word(struct sec_in *in, const char *w)
{
	size_t	n = strlen(w);

	if ((size_t)(in->end - in->p) < n || strncasecmp(in->p, w, n) != 0)
		return false;
	in->p += n;
	return true;
}

/* number = 1*DIGIT, at most 4294967295; nz: not 0. */
static int
sec_number(struct sec_in *in, bool nz, uint32_t *v)
{
	uint64_t	n = 0;
	const char	*s = in->p;

	while (in->p < in->end && *in->p >= '0' && *in->p <= '9') {
		n = n * 10 + (uint64_t)(*in->p - '0');
		if (n > UINT32_MAX) {
			in->err = "Number out of range";
			return -1;
		}
		in->p++;
	}
	if (in->p == s || (nz && n == 0)) {
		in->err = "Invalid number in section";
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

/* RFC 5322 2.2: ftext, printable US-ASCII but ":". */
static bool
sec_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* One header-fld-name (an astring: atom or quoted), upper-cased. */
static int
sec_name(struct sec_in *in, char *out)
{
	size_t	n = 0;
	bool	quoted = in->p < in->end && *in->p == '"';

	if (quoted)
		in->p++;
	while (in->p < in->end) {
		unsigned char	c = (unsigned char)*in->p;

		if (quoted && c == '"')
			break;
		if (!quoted && (c == ' ' || c == ')'))
			break;
		if (quoted && c == '\\') {
			if (++in->p == in->end)
				break;
			c = (unsigned char)*in->p;
		}
		/* RFC 3501 9: astring; a field name is ftext anyway */
		if (!sec_ftext(c) || (!quoted && strchr("(){%*\"\\]", c))) {
			in->err = "Invalid header field name";
			return -1;
		}
		if (n == IMAP_SEC_NAME_MAX) {
			in->err = "Header field name too long";
			return -1;
		}
		out[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		in->p++;
	}
	if (quoted) {
		if (in->p == in->end) {
			in->err = "Unterminated header field name";
			return -1;
		}
		in->p++;
	}
	if (n == 0) {
		in->err = "Empty header field name";
		return -1;
	}
	out[n] = '\0';
	return 0;
}

static int
sec_header_list(struct sec_in *in, struct imap_section *sec)
{
	if (!sec_word(in, " (")) {
		in->err = "HEADER.FIELDS needs a list of names";
		return -1;
	}
	for (;;) {
		if (sec->nnames == IMAP_SEC_NAMES_MAX) {
			in->err = "Too many header field names";
			return -1;
		}
		if (sec_name(in, sec->names[sec->nnames]) == -1)
			return -1;
		sec->nnames++;
		if (sec_word(in, ")"))
			return 0;
		if (!sec_word(in, " ")) {
			in->err = "Invalid header field list";
			return -1;
		}
	}
}

/* section-part, into sec->part as given ("1.2"). */
static int
sec_part(struct sec_in *in, struct imap_section *sec)
{
	const char	*s = in->p;
	uint32_t	 v;

	for (;;) {
		if (sec_number(in, true, &v) == -1)
			return -1;
		/* a dot followed by a digit goes on; else section-text */
		if (in->end - in->p < 2 || in->p[0] != '.' || in->p[1] < '0' ||
		    in->p[1] > '9')
			break;
		in->p++;
	}
	if ((size_t)(in->p - s) > IMAP_SEC_PART_MAX) {
		in->err = "Part number too long";
		return -1;
	}
	memcpy(sec->part, s, (size_t)(in->p - s));
	sec->part[in->p - s] = '\0';
	return 0;
}

static int
sec_spec(struct sec_in *in, struct imap_section *sec, bool binary)
{
	bool	part = false;

	if (in->p < in->end && *in->p >= '1' && *in->p <= '9') {
		if (sec_part(in, sec) == -1)
			return -1;
		part = true;
		if (binary || in->p == in->end || *in->p == ']')
			return 0;
		if (!sec_word(in, ".")) {
			in->err = "Invalid section";
			return -1;
		}
	} else if (binary || in->p == in->end || *in->p == ']')
		return 0;
	if (sec_word(in, "HEADER.FIELDS.NOT")) {
		sec->text = IMAP_SEC_FIELDS_NOT;
		return sec_header_list(in, sec);
	}
	if (sec_word(in, "HEADER.FIELDS")) {
		sec->text = IMAP_SEC_FIELDS;
		return sec_header_list(in, sec);
	}
	if (sec_word(in, "HEADER"))
		sec->text = IMAP_SEC_HEADER;
	else if (sec_word(in, "TEXT"))
		sec->text = IMAP_SEC_TEXT;
	else if (part && sec_word(in, "MIME"))
		sec->text = IMAP_SEC_MIME;
	else {
		in->err = "Invalid section";
		return -1;
	}
	return 0;
}

/* The canonical name of the item for the answer (sec->echo). */
static void
sec_echo(struct imap_section *sec, const char *att)
{
	static const char *const texts[] = {
		"", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT",
		"MIME"
	};
	size_t	n, i;

	n = (size_t)snprintf(sec->echo, sizeof(sec->echo), "%s[%s%s%s", att,
	    sec->part, sec->part[0] != '\0' && sec->text != IMAP_SEC_ALL ?
	    "." : "", texts[sec->text]);
	for (i = 0; i < sec->nnames && n < sizeof(sec->echo); i++) {
		const char	*q = sec->names[i];

		n += (size_t)snprintf(sec->echo + n, sizeof(sec->echo) - n,
		    "%s", i == 0 ? " (" : " ");
		if (strpbrk(q, "(){%*\"\\]") == NULL) {
			n += (size_t)snprintf(sec->echo + n,
			    sizeof(sec->echo) - n, "%s", q);
			continue;
		}
		/* a name only a quoted string can carry goes back quoted */
		if (n < sizeof(sec->echo))
			sec->echo[n++] = '"';
		for (; *q != '\0' && n + 2 < sizeof(sec->echo); q++) {
			if (*q == '"' || *q == '\\')
				sec->echo[n++] = '\\';
			sec->echo[n++] = *q;
		}
		if (n < sizeof(sec->echo))
			sec->echo[n++] = '"';
	}
	if (sec->nnames > 0 && n < sizeof(sec->echo))
		n += (size_t)snprintf(sec->echo + n, sizeof(sec->echo) - n,
		    ")");
	if (n < sizeof(sec->echo))
		(void)snprintf(sec->echo + n, sizeof(sec->echo) - n, "]");
}

int
imap_section_parse(const char *s, size_t len, struct imap_section *sec,
    const char **err_r)
{
	struct sec_in	 in = { s, s + len, NULL };
	const char	*att;
	bool		 binary;

	memset(sec, 0, sizeof(*sec));
	*err_r = NULL;
	/* RFC 3501 6.4.5: the RFC822 forms are BODY[] forms by other names */
	if (len == 6 && strncasecmp(s, "RFC822", 6) == 0) {
		(void)snprintf(sec->echo, sizeof(sec->echo), "RFC822");
		return 1;
	}
	if (len == 13 && strncasecmp(s, "RFC822.HEADER", 13) == 0) {
		sec->peek = true;	/* RFC 3501: like BODY.PEEK[HEADER] */
		sec->text = IMAP_SEC_HEADER;
		(void)snprintf(sec->echo, sizeof(sec->echo), "RFC822.HEADER");
		return 1;
	}
	if (len == 11 && strncasecmp(s, "RFC822.TEXT", 11) == 0) {
		sec->text = IMAP_SEC_TEXT;
		(void)snprintf(sec->echo, sizeof(sec->echo), "RFC822.TEXT");
		return 1;
	}
	if (sec_word(&in, "BODY.PEEK[")) {
		sec->peek = true;
		att = "BODY";
	} else if (sec_word(&in, "BODY["))
		att = "BODY";
	else if (sec_word(&in, "BINARY.PEEK[")) {
		sec->att = IMAP_ATT_BINARY;
		sec->peek = true;
		att = "BINARY";
	} else if (sec_word(&in, "BINARY.SIZE[")) {
		sec->att = IMAP_ATT_BINARY_SIZE;
		sec->peek = true;
		att = "BINARY.SIZE";
	} else if (sec_word(&in, "BINARY[")) {
		sec->att = IMAP_ATT_BINARY;
		att = "BINARY";
	} else
		return 0;
	binary = sec->att != IMAP_ATT_BODY;
	if (sec_spec(&in, sec, binary) == -1 || !sec_word(&in, "]")) {
		*err_r = in.err != NULL ? in.err : "Invalid section";
		return -1;
	}
	if (in.p < in.end && sec->att != IMAP_ATT_BINARY_SIZE &&
	    sec_word(&in, "<")) {
		if (sec_number(&in, false, &sec->origin) == -1 ||
		    !sec_word(&in, ".") ||
		    sec_number(&in, true, &sec->count) == -1 ||
		    !sec_word(&in, ">")) {
			*err_r = in.err != NULL ? in.err : "Invalid partial";
			return -1;
		}
		sec->partial = true;
	}
	if (in.p != in.end) {
		*err_r = "Invalid FETCH item";
		return -1;
	}
	sec_echo(sec, att);
	return 1;
}

/* Does the field at p (a line not starting with a blank) match a name? */
static bool
sec_field_named(const struct imap_section *sec, const char *p, size_t len)
{
	size_t	i, n;

	for (i = 0; i < sec->nnames; i++) {
		n = strlen(sec->names[i]);
		if (len > n && strncasecmp(p, sec->names[i], n) == 0) {
			/* RFC 5322 allows blanks before the colon (obs) */
			while (n < len && (p[n] == ' ' || p[n] == '\t'))
				n++;
			if (n < len && p[n] == ':')
				return true;
		}
	}
	return false;
}

size_t
imap_section_fields(const struct imap_section *sec, const char *hdr,
    size_t hdrlen, char *out, size_t outmax)
{
	const char	*p = hdr, *end = hdr + hdrlen, *eol;
	size_t		 len, n = 0;
	bool		 keep = false, want_not = sec->text == IMAP_SEC_FIELDS_NOT;

	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end - 1;
		len = (size_t)(eol - p) + 1;
		if ((len == 2 && p[0] == '\r') || (len == 1 && p[0] == '\n'))
			break;		/* the blank line */
		if (*p != ' ' && *p != '\t')
			keep = sec_field_named(sec, p, len) != want_not;
		if (keep) {
			if (n + len <= outmax)
				memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	if (n + 2 <= outmax)
		memcpy(out + n, "\r\n", 2);
	return n + 2;
}
