/* SPDX-License-Identifier: ISC */
/*
 * imap_fetch.c - FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2; RFC 3516):
 * FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY and BODYSTRUCTURE
 * (from the message's sealed metadata, imap_render.c), and the sections
 * (imap_section.c), streamed from the decrypted message.
 *
 * Process:  imap-mail (the account's uid, in its jail).
 * Trust:    the command is the client's, parsed and bounded by imap_cmd.c
 *           and imap_section.c; the message is hostile too: what goes out
 *           is a literal of exact length, or rendered by imap_render.c.
 * See also: imap_mbox.c (the rest of the selected state), store/meta.h.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gmime/gmime.h>

#include "log.h"
#include "xmalloc.h"
#include "buf.h"
#include "imap_cmd.h"
#include "imap_mbox.h"
#include "imap_mbox_int.h"
#include "meta.h"
#include "meta_seal.h"
#include "imap_render.h"
#include "imap_section.h"
#include "imap_seqset.h"
#include "downgrade.h"
#include "banned.h"

/* FETCH items (sections apart) */
#define MB_F_FLAGS	0x01
#define MB_F_UID	0x02
#define MB_F_IDATE	0x04
#define MB_F_SIZE	0x08
#define MB_F_ENVELOPE	0x10
#define MB_F_BODY	0x20	/* BODY: BODYSTRUCTURE without extensions */
#define MB_F_BODYSTRUCT	0x40
#define MB_F_META	(MB_F_ENVELOPE | MB_F_BODY | MB_F_BODYSTRUCT)
#define MB_F_MODSEQ	0x80	/* RFC 7162 3.1.4 */

static int
mb_fetch_item(const struct imap_arg *a, unsigned int *items)
{
	static const struct { const char *name; unsigned int bits; } t[] = {
		{ "FLAGS", MB_F_FLAGS }, { "UID", MB_F_UID },
		{ "INTERNALDATE", MB_F_IDATE }, { "RFC822.SIZE", MB_F_SIZE },
		{ "ENVELOPE", MB_F_ENVELOPE }, { "BODY", MB_F_BODY },
		{ "BODYSTRUCTURE", MB_F_BODYSTRUCT }, { "MODSEQ", MB_F_MODSEQ },
		/* RFC 3501 6.4.5: the macros */
		{ "FAST", MB_F_FLAGS | MB_F_IDATE | MB_F_SIZE },
		{ "ALL", MB_F_FLAGS | MB_F_IDATE | MB_F_SIZE | MB_F_ENVELOPE },
		{ "FULL", MB_F_FLAGS | MB_F_IDATE | MB_F_SIZE | MB_F_ENVELOPE |
		    MB_F_BODY },
	};
	size_t	i;

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (a->len == strlen(t[i].name) &&
		    strncasecmp(a->s, t[i].name, a->len) == 0) {
			*items |= t[i].bits;
			return 0;
		}
	return -1;
}

#define MB_SEC_MAX	16		/* section items per FETCH */
#define MB_HDR_MAX	(1024 * 1024)	/* header bytes HEADER.FIELDS reads */

/*
 * A message's metadata record, built now if the mail process has not got
 * to it yet; NULL for a message that could not be read.
 */
struct meta *
mb_meta(struct imap_mbox *m, uint32_t uid)
{
	struct meta	*rec;
	char		 err[256];

	if (m->sk == NULL)
		return NULL;
	if ((rec = meta_seal_load(m->ix, m->sk, m->mb.id, uid, err,
	    sizeof(err))) == NULL && errno == ENOENT &&
	    meta_seal_build(m->ix, m->sk, m->mb.id, uid, err,
	    sizeof(err)) == 1)
		rec = meta_seal_load(m->ix, m->sk, m->mb.id, uid, err,
		    sizeof(err));
	return rec;
}

/*
 * Where a section is in the message: [*start, *end), and *idx the part
 * (META_NONE for the message itself).  1, or 0 when there is no such
 * part or section (NIL).  The whole message needs no record.
 */
static int
mb_section_where(const struct imap_section *sec, const struct meta *rec,
    uint64_t size, uint64_t *start, uint64_t *end, uint32_t *idx)
{
	enum meta_section	ms;

	*idx = META_NONE;
	if (sec->part[0] == '\0' && sec->text == IMAP_SEC_ALL) {
		*start = 0;
		*end = size;
		return 1;
	}
	if (rec == NULL)
		return 0;
	switch (sec->text) {
	case IMAP_SEC_HEADER:
	case IMAP_SEC_FIELDS:
	case IMAP_SEC_FIELDS_NOT:
		ms = META_SECTION_HEADER;
		break;
	case IMAP_SEC_TEXT:
		ms = META_SECTION_TEXT;
		break;
	case IMAP_SEC_MIME:
		ms = META_SECTION_MIME;
		break;
	default:
		ms = META_SECTION_BODY;
		break;
	}
	if (sec->part[0] != '\0' && meta_part_find(rec, sec->part, idx) != 1)
		return 0;
	return meta_section_range(rec, sec->part, ms, start, end) == 1 &&
	    *start <= *end && *end <= size;
}

/* Read [start, end) of the message into a new buffer; NULL on error. */
struct buf *
mb_read(struct index_msg *msg, uint64_t start, uint64_t end)
{
	struct buf	*b;
	unsigned char	 chunk[65536];
	ssize_t		 n;

	if (end - start > SIZE_MAX / 2 ||
	    (b = buf_new((size_t)(end - start) + 2)) == NULL)
		return NULL;
	while (start < end && (n = index_msg_pread(msg, chunk,
	    end - start < sizeof(chunk) ? (size_t)(end - start) :
	    sizeof(chunk), start)) > 0) {
		(void)buf_add(b, chunk, (size_t)n);
		start += (uint64_t)n;
	}
	if (start != end)
		buf_free(&b);
	return b;
}

/*
 * BINARY (RFC 3516): the part's content with its transfer encoding
 * undone (base64 and quoted-printable by GMime's decoders, which read
 * what mail clients read); 7bit, 8bit and binary as they are.  -1 for an
 * encoding we do not know (UNKNOWN-CTE).
 */
int
mb_decode(const struct meta *rec, uint32_t idx, struct buf **data)
{
	GMimeEncoding	 state;
	GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_DEFAULT;
	const char	*cte = idx == META_NONE ? NULL : rec->parts[idx].encoding;
	struct buf	*out;
	size_t		 n, i;
	static const char *const known[] = { "7bit", "8bit", "binary",
	    "base64", "quoted-printable" };

	/*
	 * GMime reads any name it does not know as "default" (none): only
	 * these names are undone or passed; anything else is UNKNOWN-CTE.
	 */
	if (cte != NULL && cte[0] != '\0') {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (g_ascii_strcasecmp(cte, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return -1;
		enc = g_mime_content_encoding_from_string(cte);
	}
	switch (enc) {
	case GMIME_CONTENT_ENCODING_DEFAULT:
	case GMIME_CONTENT_ENCODING_7BIT:
	case GMIME_CONTENT_ENCODING_8BIT:
	case GMIME_CONTENT_ENCODING_BINARY:
		return 0;
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		break;
	default:
		return -1;
	}
	if (idx != META_NONE && (meta_part_is_multipart(&rec->parts[idx]) ||
	    meta_part_is_message(&rec->parts[idx])))
		return 0;		/* a container is not encoded as such */
	g_mime_encoding_init_decode(&state, enc);
	n = g_mime_encoding_outlen(&state, (*data)->len);
	out = buf_new(n);
	if (buf_grow(out, n) == -1) {
		buf_free(&out);
		return -1;
	}
	buf_advance(out, g_mime_encoding_step(&state,
	    (const char *)(*data)->data, (*data)->len, (char *)out->data));
	buf_free(data);
	*data = out;
	return 0;
}

/*
 * RFC 6855 7: a client without UTF8=ACCEPT (nor IMAP4rev2) reads the
 * message with its header downgraded to 7-bit (downgrade.h): the size
 * is the index's dg_size, recorded by the metadata builder; for a record
 * built before that existed it is worked out here once, from the header
 * alone, and recorded.  The message's own size when nothing needed
 * downgrading (or it cannot be read).
 */
static uint64_t
mb_dg_size(struct imap_mbox *m, const struct index_msg_info *mi)
{
	struct index_msg_info	 again;
	struct index_msg	*msg;
	struct meta		*rec;
	struct buf		*hdr;
	uint64_t		 hlen, size;

	if (m->utf8 || mi->damaged)
		return mi->size;
	if (mi->dg_size != 0)
		return mi->dg_size;
	/* most headers are 7-bit: a look at the header alone says so */
	if ((msg = index_msg_open(m->ix, m->mb.id, mi->uid)) == NULL)
		return mi->size;
	size = index_msg_probe_dg(msg);
	index_msg_close(msg);
	if (size != 0) {
		(void)index_dg_set(m->ix, m->mb.id, mi->uid, size);
		return size;
	}
	size = mi->size;
	if ((rec = mb_meta(m, mi->uid)) == NULL)	/* built: dg_size set */
		return mi->size;
	if (index_msg_info(m->ix, m->mb.id, mi->uid, &again) == 1 &&
	    again.dg_size != 0) {
		meta_free(rec);
		return again.dg_size;
	}
	hlen = rec->parts[0].body_start;
	if (!(rec->flags & META_UNPARSABLE) && hlen <= mi->size &&
	    (msg = index_msg_open(m->ix, m->mb.id, mi->uid)) != NULL) {
		if ((hdr = mb_read(msg, 0, hlen)) != NULL)
			size = downgrade_size((const char *)hdr->data,
			    hdr->len, mi->size);
		buf_free(&hdr);
		index_msg_close(msg);
	}
	meta_free(rec);
	(void)index_dg_set(m->ix, m->mb.id, mi->uid, size);
	return size;
}

/*
 * The downgraded header block of a message that needs one: 1 with *hdr_r
 * (the caller's) and *hlen_r, the length of the original block; 0 when
 * the client reads the message as it is; -1 when it cannot be read.
 */
static int
mb_dg_header(struct imap_mbox *m, struct index_msg *msg,
    const struct index_msg_info *mi, struct meta **recp, struct buf **hdr_r,
    uint64_t *hlen_r)
{
	struct buf		*orig;
	int			 r;

	if (m->utf8 || mb_dg_size(m, mi) == mi->size)
		return 0;
	if (*recp == NULL && (*recp = mb_meta(m, mi->uid)) == NULL)
		return -1;
	*hlen_r = (*recp)->parts[0].body_start;
	if (*hlen_r > index_msg_size(msg) ||
	    (orig = mb_read(msg, 0, *hlen_r)) == NULL)
		return -1;
	r = downgrade_header((const char *)orig->data, orig->len, hdr_r);
	buf_free(&orig);
	return r == 1 ? 1 : r == 0 ? 0 : -1;
}

/*
 * GMime gives a domain written in IDNA back in Unicode: in an envelope
 * for a client without UTF8=ACCEPT it goes out as written, in ASCII.
 */
static void
mb_dg_hosts(struct meta_addrlist *l)
{
	InternetAddress	*ia;
	const char	*idn, *at;
	char		*addr;
	size_t		 i, n;

	for (i = 0; i < l->n; i++) {
		struct meta_addr	*a = &l->v[i];

		if (a->host == NULL)
			continue;
		for (n = 0; a->host[n] != '\0' &&
		    (unsigned char)a->host[n] < 0x80; n++)
			;
		if (a->host[n] == '\0')
			continue;
		addr = g_strdup_printf("x@%s", a->host);
		ia = internet_address_mailbox_new(NULL, addr);
		idn = internet_address_mailbox_get_idn_addr(
		    INTERNET_ADDRESS_MAILBOX(ia));
		if (idn != NULL && (at = strrchr(idn, '@')) != NULL) {
			for (n = 0; at[n] != '\0' &&
			    (unsigned char)at[n] < 0x80; n++)
				;
			if (at[n] == '\0') {
				free(a->host);
				a->host = xstrdup(at + 1);
			}
		}
		g_object_unref(ia);
		g_free(addr);
	}
}

/*
 * The record of the downgraded header alone, for ENVELOPE: NULL when
 * this client reads the header as it is (or it cannot be read).
 */
static struct meta *
mb_dg_meta(struct imap_mbox *m, const struct index_msg_info *mi,
    struct meta **recp)
{
	struct index_msg	*msg;
	struct meta		*rec = NULL;
	struct buf		*dg = NULL;
	uint64_t		 hlen;
	char			 err[256];

	if (m->utf8 || mb_dg_size(m, mi) == mi->size ||
	    (msg = index_msg_open(m->ix, m->mb.id, mi->uid)) == NULL)
		return NULL;
	if (mb_dg_header(m, msg, mi, recp, &dg, &hlen) == 1 &&
	    (rec = meta_build(dg->data, dg->len, err, sizeof(err))) != NULL &&
	    rec->parts[0].env != NULL) {
		struct meta_envelope	*e = rec->parts[0].env;

		mb_dg_hosts(&e->from);
		mb_dg_hosts(&e->sender);
		mb_dg_hosts(&e->reply_to);
		mb_dg_hosts(&e->to);
		mb_dg_hosts(&e->cc);
		mb_dg_hosts(&e->bcc);
	}
	buf_free(&dg);
	index_msg_close(msg);
	return rec;
}

/* Nothing to send: NIL, or for BINARY.SIZE (a number, RFC 3516) 0. */
static void
mb_nil(struct mb_out *o, const struct imap_section *sec)
{
	mb_printf(o, "%s", sec->att == IMAP_ATT_BINARY_SIZE ? "0" : "NIL");
}

/*
 * The rest of a section item (its name already written) from the
 * downgraded header, or the whole downgraded message, in data (freed
 * here): HEADER.FIELDS filtered, partials cut, BINARY.SIZE counted.
 */
static void
mb_fetch_dg(struct imap_mbox *m, struct mb_out *o,
    const struct imap_section *sec, struct buf *data)
{
	struct buf	*f;
	size_t		 off, len;

	if (sec->text == IMAP_SEC_FIELDS || sec->text == IMAP_SEC_FIELDS_NOT) {
		f = buf_new(data->len + 2);
		if (buf_grow(f, data->len + 2) == -1)
			fatalx("imap-mail: buf_grow within max");
		buf_advance(f, imap_section_fields(sec,
		    (const char *)data->data, data->len, (char *)f->data,
		    data->len + 2));
		buf_free(&data);
		data = f;
	}
	if (sec->att == IMAP_ATT_BINARY_SIZE) {
		mb_printf(o, "%zu", data->len);
		buf_free(&data);
		return;
	}
	off = sec->partial ? (sec->origin < data->len ? sec->origin :
	    data->len) : 0;
	len = data->len - off;
	if (sec->partial && len > sec->count)
		len = sec->count;
	mb_printf(o, "{%zu}\r\n", len);
	mb_flush(o);
	if (len > 0 && !o->failed && m->write_fn(m->arg,
	    (const char *)data->data + off, len) == -1)
		o->failed = 1;
	buf_free(&data);
}

/*
 * One section item: " NAME[...]<origin> " and its bytes as a literal
 * (literal8 when BINARY holds a NUL), NIL when there is no such part, a
 * number for BINARY.SIZE.  *unknown_cte: a BINARY of an encoding we do
 * not know (the FETCH ends NO [UNKNOWN-CTE]).
 */
static void
mb_fetch_section(struct imap_mbox *m, struct mb_out *o,
    const struct index_msg_info *mi,
    const struct imap_section *sec, struct meta **recp, bool first,
    bool *unknown_cte)
{
	struct index_msg	*msg;
	struct buf		*data = NULL;
	unsigned char		 chunk[65536];
	uint64_t		 size, start, end, off, len;
	uint32_t		 idx;
	ssize_t			 n;
	bool			 whole;

	mb_printf(o, "%s%s", first ? "" : " ", sec->echo);
	if (sec->partial)
		mb_printf(o, "<%u>", sec->origin);
	(void)buf_add(o->b, " ", 1);
	/* RFC 3501 7.4.2: NIL for what cannot be read (a damaged message) */
	if ((msg = index_msg_open(m->ix, m->mb.id, mi->uid)) == NULL) {
		mb_nil(o, sec);
		return;
	}
	size = index_msg_size(msg);
	whole = sec->part[0] == '\0' && sec->text == IMAP_SEC_ALL;
	/* the top header, or all of it, downgraded for this client */
	if (sec->part[0] == '\0' && sec->text != IMAP_SEC_TEXT &&
	    sec->text != IMAP_SEC_MIME) {
		struct buf	*dg = NULL, *rest;
		uint64_t	 hlen = 0;
		int		 r;

		if ((r = mb_dg_header(m, msg, mi, recp, &dg, &hlen)) == -1) {
			index_msg_close(msg);
			mb_nil(o, sec);
			return;
		}
		if (r == 1 && whole) {
			/* in memory: SMTPUTF8 mail that is also huge is rare */
			if ((rest = mb_read(msg, hlen, size)) == NULL ||
			    buf_add(dg, rest->data, rest->len) == -1) {
				buf_free(&rest);
				buf_free(&dg);
				index_msg_close(msg);
				mb_nil(o, sec);
				return;
			}
			buf_free(&rest);
		}
		if (r == 1) {
			index_msg_close(msg);
			mb_fetch_dg(m, o, sec, dg);
			return;
		}
	}
	if (!whole && *recp == NULL)
		*recp = mb_meta(m, mi->uid);
	if (mb_section_where(sec, *recp, size, &start, &end, &idx) != 1) {
		index_msg_close(msg);
		mb_nil(o, sec);
		return;
	}
	/* what needs the bytes in memory: filtered, decoded */
	if (sec->text == IMAP_SEC_FIELDS || sec->text == IMAP_SEC_FIELDS_NOT ||
	    sec->att != IMAP_ATT_BODY) {
		if (sec->text == IMAP_SEC_FIELDS ||
		    sec->text == IMAP_SEC_FIELDS_NOT) {
			struct buf	*hdr;

			if (end - start > MB_HDR_MAX)
				end = start + MB_HDR_MAX;
			if ((hdr = mb_read(msg, start, end)) != NULL) {
				data = buf_new(hdr->len + 2);
				if (buf_grow(data, hdr->len + 2) == -1)
					fatalx("imap-mail: buf_grow within max");
				buf_advance(data, imap_section_fields(sec,
				    (const char *)hdr->data, hdr->len,
				    (char *)data->data, hdr->len + 2));
				buf_free(&hdr);
			}
		} else if ((data = mb_read(msg, start, end)) != NULL &&
		    mb_decode(*recp, idx, &data) == -1) {
			*unknown_cte = true;
			buf_free(&data);
			index_msg_close(msg);
			mb_nil(o, sec);
			return;
		}
		index_msg_close(msg);
		if (data == NULL) {
			mb_nil(o, sec);
			return;
		}
		if (sec->att == IMAP_ATT_BINARY_SIZE) {
			mb_printf(o, "%zu", data->len);
			buf_free(&data);
			return;
		}
		start = 0;
		end = data->len;
	}
	/* RFC 3501 6.4.5: a partial past the end is the empty string */
	off = sec->partial ? (sec->origin < end - start ? start + sec->origin :
	    end) : start;
	len = end - off;
	if (sec->partial && len > sec->count)
		len = sec->count;
	if (data != NULL) {
		bool	nul = sec->att == IMAP_ATT_BINARY &&
		    memchr(data->data + off, '\0', (size_t)len) != NULL;

		mb_printf(o, "%s{%" PRIu64 "}\r\n", nul ? "~" : "", len);
		mb_flush(o);		/* it may be larger than MB_OUT_MAX */
		if (len > 0 && !o->failed && m->write_fn(m->arg,
		    (const char *)data->data + off, (size_t)len) == -1)
			o->failed = 1;
		buf_free(&data);
		return;
	}
	mb_printf(o, "{%" PRIu64 "}\r\n", len);
	mb_flush(o);
	end = off + len;
	while (off < end && !o->failed && (n = index_msg_pread(msg, chunk,
	    end - off < sizeof(chunk) ? (size_t)(end - off) : sizeof(chunk),
	    off)) > 0) {
		if (m->write_fn(m->arg, (const char *)chunk, (size_t)n) == -1)
			o->failed = 1;
		off += (uint64_t)n;
	}
	index_msg_close(msg);
	/* a short read: the literal is broken, the session too */
	if (off != end)
		o->failed = 1;
}

/* The rows of the wanted UIDs (ascending), in one pass over the index. */
struct mb_rows {
	const uint32_t		*want;
	size_t			 n, k;
	struct index_msg_info	*rows;	/* rows[k] for want[k]... */
	bool			*found;	/* ...when found[k] */
};

static int
mb_row(const struct index_msg_info *mi, void *arg)
{
	struct mb_rows	*r = arg;

	while (r->k < r->n && r->want[r->k] < mi->uid)
		r->k++;
	if (r->k < r->n && r->want[r->k] == mi->uid) {
		r->rows[r->k] = *mi;
		r->found[r->k] = true;
	}
	return 0;
}

/*
 * ENVELOPE, BODY and BODYSTRUCTURE from the record (imap_render.c); for
 * a message that could not be read, valid IMAP that says so little: an
 * empty envelope, one application/octet-stream part of its size.
 */
static void
mb_fetch_meta(struct imap_mbox *m, struct mb_out *o, const struct
    index_msg_info *mi, unsigned int items, size_t *k, struct meta **recp)
{
	struct meta	*rec;
	int		 r = 0;

	if (*recp == NULL)
		*recp = mb_meta(m, mi->uid);
	rec = *recp;
	if (items & MB_F_ENVELOPE) {
		/* RFC 6855 7: from the downgraded header, for this client */
		struct meta	*dgrec = mb_dg_meta(m, mi, recp);
		const struct meta *er = dgrec != NULL ? dgrec : rec;

		mb_printf(o, "%sENVELOPE ", (*k)++ ? " " : "");
		if (er != NULL && er->parts[0].env != NULL)
			r |= imap_render_envelope(o->b, er->parts[0].env);
		else
			mb_printf(o, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
		meta_free(dgrec);
	}
	if (items & (MB_F_BODY | MB_F_BODYSTRUCT)) {
		bool	ext;

		for (ext = false; ; ext = true) {
			if (items & (ext ? MB_F_BODYSTRUCT : MB_F_BODY)) {
				mb_printf(o, "%s%s ", (*k)++ ? " " : "",
				    ext ? "BODYSTRUCTURE" : "BODY");
				if (rec != NULL)
					r |= imap_render_body_ext(o->b, rec, 0,
					    ext, m->rev2);
				else
					mb_printf(o, "(\"APPLICATION\" "
					    "\"OCTET-STREAM\" NIL NIL NIL "
					    "\"7BIT\" %" PRIu64 ")", mi->size);
			}
			if (ext)
				break;
		}
	}
	if (r != 0)
		o->failed = 1;		/* past MB_OUT_MAX: end the session */
}

/*
 * UID FETCH ... (CHANGEDSINCE n VANISHED), RFC 7162 3.2.6: the UIDs of
 * the set expunged since n, before the FETCH responses.
 */
static void
mb_fetch_vanished(struct imap_mbox *m, struct mb_out *o,
    const struct imap_arg *set, uint64_t since)
{
	struct imap_seqset	 s;
	struct index_uidrange	*r;
	const char		*err;
	size_t			 n;

	/* "*": the highest UID the mailbox ever gave */
	if (imap_seqset_parse(set->s, set->len, m->mb.uidnext > 1 ?
	    m->mb.uidnext - 1 : 0, &s, &err) == -1)
		return;			/* mb_resolve says BAD */
	if (s.n > 0 && index_vanished(m->ix, m->mb.id, since, s.r[0].lo,
	    s.r[s.n - 1].hi, &r, &n) == 0) {
		mb_vanished(o, true, r, n, &s);
		free(r);
	}
	imap_seqset_free(&s);
}

int
mb_fetch(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	struct index_msg_info	 mi;
	struct mb_rows		 rows;
	struct imap_section	*secs = NULL;
	struct meta		*rec;
	uint32_t		*want = NULL;
	unsigned int		 items = 0;
	size_t			 i, k, nsec = 0, j, w, nwant, gone = 0;
	uint64_t		 changedsince = 0;
	char			 date[64];
	bool			 seen = false, unknown_cte = false, vanished = false;
	const char		*err = NULL;
	struct tm		 tm;
	time_t			 t;

	if (!m->selected) {
		mb_printf(o, "%s BAD No mailbox selected\r\n", c->tag);
		return 0;
	}
	if ((c->nargs != 2 && c->nargs != 3) ||
	    c->args[0].type != IMAP_ARG_ATOM) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	/* RFC 7162 3.1.4.1, 3.2.6: (CHANGEDSINCE n [VANISHED]) */
	if (c->nargs == 3 && mb_fetch_modifiers(m, c, &c->args[2],
	    &changedsince, &vanished, &err) == -1) {
		mb_printf(o, "%s BAD %s\r\n", c->tag, err);
		return 0;
	}
	{
		const struct imap_arg	*v = &c->args[1];
		size_t			 nv = 1;

		if (v->type == IMAP_ARG_LIST) {
			nv = v->n;
			v = v->list;
		}
		for (k = 0; k < nv; k++) {
			if (mb_fetch_item(&v[k], &items) == 0)
				continue;
			if (v[k].type != IMAP_ARG_ATOM)
				goto bad_item;
			if (secs == NULL)
				secs = xcalloc(MB_SEC_MAX, sizeof(*secs));
			if (nsec == MB_SEC_MAX) {
				err = "Too many sections in one FETCH";
				goto bad_item;
			}
			if (imap_section_parse(v[k].s, v[k].len, &secs[nsec],
			    &err) != 1)
				goto bad_item;
			if (!secs[nsec].peek && !m->readonly)
				seen = true;	/* RFC 3501 6.4.5 */
			nsec++;
		}
	}
	if (seen)
		items |= MB_F_FLAGS;
	if (c->uid)
		items |= MB_F_UID;	/* RFC 3501 6.4.8 */
	if (changedsince > 0)
		items |= MB_F_MODSEQ;
	if (items & MB_F_MODSEQ)
		mb_condstore_on(m, o);	/* a CONDSTORE enabling command */
	if (vanished)
		mb_fetch_vanished(m, o, &c->args[0], changedsince);
	if (mb_resolve(m, c, &c->args[0], o, &want, &nwant) == -1) {
		free(secs);
		return 0;
	}
	rows.want = want;
	rows.n = nwant;
	rows.k = 0;
	rows.rows = xreallocarray(NULL, nwant > 0 ? nwant : 1,
	    sizeof(*rows.rows));
	rows.found = xcalloc(nwant > 0 ? nwant : 1, sizeof(*rows.found));
	if (nwant > 0 && index_msg_foreach(m->ix, m->mb.id, want[0],
	    want[nwant - 1], 0, mb_row, &rows) == -1) {
		mb_printf(o, "%s NO [SERVERBUG] %s\r\n", c->tag,
		    index_errstr(m->ix));
		free(rows.rows);
		free(rows.found);
		free(want);
		free(secs);
		return 0;
	}
	/* both ascend: walk them together for the message numbers */
	for (i = 0, w = 0; i < m->nuids && w < nwant; i++) {
		if (m->uids[i] != want[w])
			continue;
		if (!rows.found[w++]) {
			gone++;		/* expunged by another connection */
			continue;
		}
		mi = rows.rows[w - 1];
		if (mi.modseq <= changedsince)
			continue;	/* RFC 7162 3.1.4.1: not changed since */
		if (seen && !(mi.flags & INDEX_F_SEEN) &&
		    index_flags_update(m->ix, m->mb.id, &mi.uid, 1,
		    INDEX_FLAGS_ADD, INDEX_F_SEEN, 0, &mi.modseq, NULL) == 0)
			mi.flags |= INDEX_F_SEEN;
		mb_printf(o, "* %zu FETCH (", i + 1);
		k = 0;
		if (items & MB_F_UID)
			mb_printf(o, "%sUID %u", k++ ? " " : "", mi.uid);
		if (items & MB_F_FLAGS) {
			mb_printf(o, "%sFLAGS ", k++ ? " " : "");
			mb_flags(o, mi.flags | (m->known[i].recent ?
			    MB_F_RECENT : 0), mi.keywords);
			m->known[i].flags = mi.flags;
			m->known[i].kw = mi.keywords;
		}
		if (items & MB_F_IDATE) {
			t = (time_t)mi.internal_date;
			if (gmtime_r(&t, &tm) == NULL || strftime(date,
			    sizeof(date), "%d-%b-%Y %H:%M:%S +0000", &tm) == 0)
				snprintf(date, sizeof(date),
				    "01-Jan-1970 00:00:00 +0000");
			mb_printf(o, "%sINTERNALDATE \"%s\"", k++ ? " " : "",
			    date);
		}
		if (items & MB_F_SIZE)
			mb_printf(o, "%sRFC822.SIZE %" PRIu64, k++ ? " " : "",
			    mb_dg_size(m, &mi));
		if (items & MB_F_MODSEQ)
			mb_printf(o, "%sMODSEQ (%" PRIu64 ")", k++ ? " " : "",
			    mi.modseq);
		rec = NULL;		/* loaded once, by the first who needs it */
		if (items & MB_F_META)
			mb_fetch_meta(m, o, &mi, items, &k, &rec);
		for (j = 0; j < nsec && !o->failed; j++)
			mb_fetch_section(m, o, &mi, &secs[j], &rec,
			    k++ == 0, &unknown_cte);
		meta_free(rec);
		(void)buf_add(o->b, ")\r\n", 3);
		if (o->b->len > 1024 * 1024)
			mb_flush(o);
	}
	free(want);
	free(rows.rows);
	free(rows.found);
	free(secs);
	/* RFC 3516 4.2: a BINARY of a transfer encoding we cannot undo */
	if (unknown_cte)
		mb_printf(o, "%s NO [UNKNOWN-CTE] Cannot decode a part's "
		    "content transfer encoding\r\n", c->tag);
	/* RFC 2180 4.1.2, RFC 5530; the UID form just leaves them out */
	else if (gone > 0 && !c->uid)
		mb_printf(o, "%s NO [EXPUNGEISSUED] Some of the requested "
		    "messages no longer exist\r\n", c->tag);
	else
		mb_printf(o, "%s OK %sFETCH completed\r\n", c->tag, c->uid ?
		    "UID " : "");
	return 0;
bad_item:
	free(secs);
	mb_printf(o, "%s BAD %s\r\n", c->tag, err != NULL ? err :
	    "Unknown FETCH item");
	return 0;
}
