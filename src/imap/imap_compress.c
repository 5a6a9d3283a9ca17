/* SPDX-License-Identifier: ISC */
/*
 * imap_compress.c - COMPRESS=DEFLATE (RFC 4978) in the account's mail
 * process: after "tag OK DEFLATE active" every byte between the client
 * and this process is raw deflate (RFC 1951, no zlib header), as an
 * io_layer under the IMAP reader and writer.  The login process stays a
 * plain TLS proxy: it carries TLS(deflate(IMAP)) without knowing it, so
 * compression needs nothing from it, nor any signal between the two.
 *
 * Process:  imap-mail (the account's uid, in its jail).
 * Trust:    the compressed input is the client's: inflate writes only into
 *           io's bounded buffer, so a "deflate bomb" yields at most what
 *           the IMAP reader would take from a fast client (its line,
 *           literal and command limits and timeouts still apply); a
 *           corrupt stream is an I/O error that ends the session.
 * See also: common/io.h (struct io_layer), imap_mail.c (the command).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZLIB_CONST		/* next_in is const */
#include <zlib.h>

#include "log.h"
#include "xmalloc.h"
#include "io.h"
#include "imap_compress.h"
#include "banned.h"

#define CZ_BUF	16384

struct cz {
	z_stream	in, out;
	bool		more;		/* inflate may hold more output */
	unsigned char	ibuf[CZ_BUF];	/* read, not yet inflated */
	unsigned char	obuf[CZ_BUF];	/* deflated, being written */
};

static struct cz	*cz;

static ssize_t
cz_read(void *arg, struct io *io, void *dst, size_t len, short *want)
{
	struct cz	*z = arg;
	size_t		 produced;
	uInt		 before;
	ssize_t		 n;
	int		 r;

	*want = 0;
	for (;;) {
		if (z->in.avail_in > 0 || z->more) {
			before = z->in.avail_in;
			z->in.next_out = dst;
			z->in.avail_out = len > UINT_MAX ? UINT_MAX : (uInt)len;
			r = inflate(&z->in, Z_SYNC_FLUSH);
			produced = (len > UINT_MAX ? UINT_MAX : len) -
			    z->in.avail_out;
			z->more = z->in.avail_out == 0;
			if (r == Z_STREAM_END)
				return (ssize_t)produced;	/* then EOF */
			if (r != Z_OK && r != Z_BUF_ERROR) {
				log_warnx("imap-mail: COMPRESS: the client's "
				    "deflate stream is corrupt");
				errno = EBADMSG;
				return -1;
			}
			if (produced > 0)
				return (ssize_t)produced;
			if (z->in.avail_in > 0 && z->in.avail_in == before) {
				errno = EBADMSG;	/* no progress */
				return -1;
			}
			if (z->in.avail_in > 0)
				continue;
		}
		n = read(io->fd, z->ibuf, sizeof(z->ibuf));
		if (n > 0) {
			z->in.next_in = z->ibuf;
			z->in.avail_in = (uInt)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			*want = POLLIN;
		return n;
	}
}

static int
cz_write(void *arg, struct io *io, const void *data, size_t len)
{
	struct cz	*z = arg;
	size_t		 chunk;
	int		 r;

	/* RFC 4978 4: flushed with every write, so a response is whole */
	do {
		chunk = len > CZ_BUF ? CZ_BUF : len;
		z->out.next_in = (const Bytef *)data;
		z->out.avail_in = (uInt)chunk;
		data = (const unsigned char *)data + chunk;
		len -= chunk;
		do {
			z->out.next_out = z->obuf;
			z->out.avail_out = sizeof(z->obuf);
			r = deflate(&z->out, len == 0 ? Z_SYNC_FLUSH :
			    Z_NO_FLUSH);
			if (r != Z_OK && r != Z_BUF_ERROR)
				return -1;
			if (io_write_raw(io, z->obuf, sizeof(z->obuf) -
			    z->out.avail_out) == -1)
				return -1;
		} while (z->out.avail_out == 0 || z->out.avail_in > 0);
	} while (len > 0);
	return 0;
}

static int
cz_pending(void *arg)
{
	struct cz	*z = arg;

	return z->in.avail_in > 0 || z->more;
}

static const struct io_layer	cz_layer_ops = {
	cz_read, cz_write, cz_pending, NULL
};
static struct io_layer		cz_layer;

bool
imap_compress_active(void)
{
	return cz != NULL;
}

int
imap_compress_start(struct io *io)
{
	const uint8_t	*rest;
	size_t		 n;

	if (cz != NULL)
		return -1;
	cz = xcalloc(1, sizeof(*cz));
	/* raw deflate both ways (RFC 4978 4: no zlib header) */
	if (inflateInit2(&cz->in, -15) != Z_OK ||
	    deflateInit2(&cz->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		log_warnx("imap-mail: COMPRESS: zlib does not start");
		free(cz);
		cz = NULL;
		return -1;
	}
	/* what the client sent after the command is compressed already */
	rest = io_peek(io, &n);
	if (n > sizeof(cz->ibuf))
		n = sizeof(cz->ibuf);	/* io's buffer is no larger */
	memcpy(cz->ibuf, rest, n);
	io_consume(io, n);
	cz->in.next_in = cz->ibuf;
	cz->in.avail_in = (uInt)n;
	cz_layer = cz_layer_ops;
	cz_layer.arg = cz;
	io_set_layer(io, &cz_layer);
	return 0;
}
