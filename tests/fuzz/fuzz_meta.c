/* SPDX-License-Identifier: ISC */
/*
 * fuzz_meta.c - libFuzzer target for the metadata builder and its record
 * (store/meta*.c), what a mail process runs on every message it imports
 * (F7, F8) and on every record it reads back.
 *
 * The input is a message: meta_build must return a record that keeps its
 * invariants (one part at least, offsets nested and in order inside the
 * message, every part found again by its own IMAP part number, the
 * record within META_MAX_OUTPUT), that encodes, decodes, and encodes
 * again to the same bytes.  The input is then also given to meta_decode
 * as a record: any may fail, but one that decodes must encode back to
 * exactly the input (the encoding has no slack).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "meta.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check(const struct meta *m, size_t size)
{
	const struct meta_part	*p;
	uint64_t		 s, e;
	uint32_t		 i, idx;
	char			 num[256];

	SP_ASSERT(m->nparts >= 1 && m->nparts <= META_MAX_PARTS);
	SP_ASSERT(m->size == size);
	SP_ASSERT(((m->flags & META_LIMITED) != 0) == (m->limits != 0));
	if (m->flags & META_UNPARSABLE)
		SP_ASSERT(m->nparts == 1 &&
		    strcmp(m->parts[0].type, "application") == 0);
	SP_ASSERT(m->parts[0].hdr_start == 0 && m->parts[0].body_end == size);
	for (i = 0; i < m->nparts; i++) {
		p = &m->parts[i];
		SP_ASSERT(p->hdr_start <= p->body_start &&
		    p->body_start <= p->body_end && p->body_end <= size);
		SP_ASSERT(p->depth < META_MAX_DEPTH);
		SP_ASSERT(p->next > i && p->next <= m->nparts);
		if (meta_part_number(m, i, num, sizeof(num)) == 0) {
			SP_ASSERT(meta_part_is_multipart(p) &&
			    (i == 0 || meta_part_is_message(
			    &m->parts[p->parent])));
			continue;
		}
		SP_ASSERT(meta_part_find(m, num, &idx) == 1 && idx == i);
		SP_ASSERT(meta_section_range(m, num, META_SECTION_MIME, &s,
		    &e) == 1 && s == p->hdr_start && e == p->body_start);
		SP_ASSERT(meta_section_range(m, num, META_SECTION_BODY, &s,
		    &e) == 1 && s == p->body_start && e == p->body_end);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	struct meta	*m, *d;
	struct buf	*b1, *b2;
	char		 err[256];

	if (!init) {
		meta_init();
		init = 1;
	}
	m = meta_build(data, size, err, sizeof(err));
	SP_ASSERT(m != NULL);
	fuzz_check(m, size);
	b1 = buf_new(META_MAX_OUTPUT);
	b2 = buf_new(META_MAX_OUTPUT);
	SP_ASSERT(meta_encode(m, b1) == 0);
	if ((d = meta_decode(b1->data, b1->len, err, sizeof(err))) == NULL)
		fatalx("decode of a built record: %s", err);
	fuzz_check(d, size);
	SP_ASSERT(meta_encode(d, b2) == 0);
	SP_ASSERT(b1->len == b2->len &&
	    memcmp(b1->data, b2->data, b1->len) == 0);
	meta_free(d);
	meta_free(m);

	/* the input as a record */
	buf_reset(b2);
	if ((d = meta_decode(data, size, err, sizeof(err))) != NULL) {
		SP_ASSERT(meta_encode(d, b2) == 0);
		SP_ASSERT(b2->len == size && memcmp(b2->data, data, size) == 0);
		meta_free(d);
	}
	buf_free(&b1);
	buf_free(&b2);
	return 0;
}
