/* SPDX-License-Identifier: ISC */
/*
 * mta_data.c - dot-stuffing and line endings for the outbound client's
 * DATA (mta_data.h).
 *
 * Process:  mta, and the tests.
 * Trust:    the message is a user's or a remote sender's (bytes, any);
 *           the output is bounded by MTA_DATA_OUT_MAX, checked by the
 *           caller's buffer size.
 */
#include "config.h"

#include <string.h>

#include "mta_data.h"
#include "banned.h"

void
mta_data_init(struct mta_data *d)
{
	memset(d, 0, sizeof(*d));
	d->bol = 1;
}

size_t
mta_data_encode(struct mta_data *d, const unsigned char *in, size_t n,
    unsigned char *out)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = in[i];

		if (d->cr) {
			/* the line before ends here, whatever follows */
			d->cr = 0;
			out[o++] = '\r';
			out[o++] = '\n';
			d->bol = 1;
			d->lines++;
			if (c == '\n')
				continue;	/* that was CR LF */
		}
		if (c == '\r') {
			d->cr = 1;
			continue;
		}
		if (c == '\n') {		/* a lone LF */
			out[o++] = '\r';
			out[o++] = '\n';
			d->bol = 1;
			d->lines++;
			continue;
		}
		if (d->bol && c == '.') {
			out[o++] = '.';
			d->stuffed++;
		}
		out[o++] = c;
		d->bol = 0;
	}
	return o;
}

size_t
mta_data_finish(struct mta_data *d, unsigned char *out)
{
	size_t	o = 0;

	if (d->cr || !d->bol) {
		out[o++] = '\r';
		out[o++] = '\n';
		d->lines++;
		d->cr = 0;
	}
	memcpy(out + o, ".\r\n", 3);
	o += 3;
	d->bol = 1;
	return o;
}
