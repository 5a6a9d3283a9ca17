/* SPDX-License-Identifier: ISC */
/*
 * fuzz_smtp_data.c - libFuzzer target for the DATA/BDAT body reader.
 * The first byte picks DATA or BDAT, a size limit and a split pattern;
 * the rest is fed once whole and once in pieces: both must give the same
 * message, flags and consumed count (the reader has no hidden dependence
 * on how TCP cut the stream).  Invariants: nothing past the limit reaches
 * the sink; with no flag set, every line of the message ends in CRLF, has
 * no bare CR or LF and at most 998 bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"
#include "banned.h"

struct fz_out {
	unsigned char	*buf;
	size_t		 len;
};

static int
fz_sink(void *arg, const void *p, size_t n)
{
	struct fz_out	*o = arg;

	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

static size_t
fz_run(const uint8_t *p, size_t n, int dot, uint64_t max, size_t step,
    struct smtp_data *d, struct fz_out *o)
{
	size_t	off = 0, k, used = 0;

	smtp_data_init(d, dot, max, fz_sink, o);
	while (off < n && !d->done) {
		k = step == 0 || n - off < step ? n - off : step;
		used += smtp_data_feed(d, p + off, k);
		off += k;
	}
	smtp_data_finish(d);
	return used;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_data	d1, d2;
	struct fz_out		o1, o2;
	uint64_t		max;
	size_t			u1, u2, i, ll;
	int			dot;

	if (size < 1)
		return 0;
	dot = data[0] & 1;
	max = (data[0] & 2) ? size : (size_t)(data[0] >> 2);
	o1.buf = malloc(size + 1);
	o2.buf = malloc(size + 1);
	o1.len = o2.len = 0;
	u1 = fz_run(data + 1, size - 1, dot, max, 0, &d1, &o1);
	u2 = fz_run(data + 1, size - 1, dot, max, 1 + (data[0] >> 5), &d2,
	    &o2);
	if (u1 != u2 || d1.flags != d2.flags || d1.done != d2.done ||
	    o1.len != o2.len || memcmp(o1.buf, o2.buf, o1.len) != 0)
		abort();
	if (o1.len > max || d1.size != o1.len || d1.seen < d1.size)
		abort();
	if (d1.flags == 0) {
		for (i = 0, ll = 0; i < o1.len; i++) {
			if (o1.buf[i] == '\r') {
				if (i + 1 >= o1.len || o1.buf[i + 1] != '\n')
					abort();
				i++;
				ll = 0;
			} else if (o1.buf[i] == '\n' || o1.buf[i] == '\0' ||
			    ++ll > 998)
				abort();
		}
		if (ll != 0)
			abort();
	}
	free(o1.buf);
	free(o2.buf);
	return 0;
}
