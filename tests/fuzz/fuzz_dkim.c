/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dkim.c - libFuzzer target for what the signer parses of a
 * message (signer/dkim_canon.c): the header split, the From domain, the
 * fields to sign and both canonicalizations.  Invariants: fields lie
 * inside the message, in order, each with a name; a From domain passes
 * dkim_domain_ok; canonical output is CR LF ended lines with no WSP
 * before a CR LF and no empty line at the end of the body.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
collect(void *arg, const void *p, size_t n)
{
	if (buf_add(arg, p, n) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_msg	 m;
	struct buf	*b, *h;
	const char	*why;
	char		 dom[DKIM_DOMAIN_MAX + 1];
	size_t		 i, prev = 0;

	if (dkim_msg_parse(&m, data, size, &why) == -1)
		return why == NULL ? (abort(), 0) : 0;
	if (m.body > size)
		abort();
	for (i = 0; i < m.nfields; i++) {
		if (m.fields[i].off < prev || m.fields[i].len == 0 ||
		    m.fields[i].off + m.fields[i].len > m.body ||
		    m.fields[i].namelen == 0 ||
		    m.fields[i].namelen >= m.fields[i].len)
			abort();
		prev = m.fields[i].off + m.fields[i].len;
	}
	if (dkim_from_domain(&m, dom, sizeof(dom)) == 0 &&
	    !dkim_domain_ok(dom))
		abort();
	b = buf_new((size_t)3 * size + 64);
	h = buf_new(4096);
	if (dkim_signed_fields(&m, h, b) == 0) {
		if (b->len > 0 && (b->len < 2 || b->data[b->len - 1] != '\n'))
			abort();
	}
	buf_reset(b);
	dkim_canon_body(data + m.body, size - m.body, collect, b);
	if (b->len > 0) {
		if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
			abort();
		if (b->len >= 4 && memcmp(b->data + b->len - 4, "\r\n\r\n",
		    4) == 0)
			abort();
		for (i = 0; i + 2 < b->len; i++)
			if ((b->data[i] == ' ' || b->data[i] == '\t') &&
			    b->data[i + 1] == '\r')
				abort();
	}
	buf_free(&b);
	buf_free(&h);
	dkim_msg_free(&m);
	return 0;
}
