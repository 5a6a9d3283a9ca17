/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mta_data.c - libFuzzer target for the outbound DATA encoder
 * (SECURITY-TESTS T02), checked against our own server's DATA reader:
 * any bytes, encoded in two pieces cut where the first byte says, read
 * back by smtp_data must give exactly the input with its line endings
 * made CR LF (and a last CR LF), with no bare CR or LF, no NUL flag but
 * the input's own, and the end of data exactly at the end.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta_data.h"
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

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_data	 rd;
	struct mta_data		 d;
	struct fz_out		 back;
	unsigned char		*enc, *canon;
	size_t			 cut, n = 0, c = 0, i, used;

	if (size < 1)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	enc = malloc(MTA_DATA_OUT_MAX(size) + MTA_DATA_FINISH_MAX + 2);
	canon = malloc(2 * size + 3);
	back.buf = malloc(2 * size + 3);
	back.len = 0;
	mta_data_init(&d);
	n += mta_data_encode(&d, data, cut, enc + n);
	n += mta_data_encode(&d, data + cut, size - cut, enc + n);
	n += mta_data_finish(&d, enc + n);
	if (n > MTA_DATA_OUT_MAX(size) + MTA_DATA_FINISH_MAX)
		abort();
	/* the reference: lone CR or LF, or CR LF, each a CR LF */
	for (i = 0; i < size; i++) {
		if (data[i] == '\r' || data[i] == '\n') {
			if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
				i++;
			canon[c++] = '\r';
			canon[c++] = '\n';
		} else
			canon[c++] = data[i];
	}
	if (c > 0 && canon[c - 1] != '\n') {
		canon[c++] = '\r';
		canon[c++] = '\n';
	}
	/* no bare CR or LF on the wire */
	for (i = 0; i < n; i++)
		if ((enc[i] == '\r' && (i + 1 >= n || enc[i + 1] != '\n')) ||
		    (enc[i] == '\n' && (i == 0 || enc[i - 1] != '\r')))
			abort();
	smtp_data_init(&rd, 1, 2 * size + 3, fz_sink, &back);
	used = smtp_data_feed(&rd, enc, n);
	smtp_data_finish(&rd);
	if (!rd.done || used != n)
		abort();
	if ((rd.flags & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF |
	    SMTP_DATA_TOO_BIG | SMTP_DATA_SINK | SMTP_DATA_UNENDED)) != 0)
		abort();
	if (back.len != c || memcmp(back.buf, canon, c) != 0)
		abort();
	free(enc);
	free(canon);
	free(back.buf);
	return 0;
}
