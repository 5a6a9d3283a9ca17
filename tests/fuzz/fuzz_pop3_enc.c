/* SPDX-License-Identifier: ISC */
/*
 * fuzz_pop3_enc.c - libFuzzer target for the POP3 RETR/TOP stream
 * encoder (pop3_enc.c).  The input is an 8-byte header, then the message:
 *   [0]    bit 0: TOP (else RETR); bit 1: stop feeding once
 *          pop3_enc_done (as pop3_drop_send does); bit 2: cut: after
 *          [6] % 16 pieces, pop3_enc_flush instead of pop3_enc_finish (a
 *          read error); bits 4-7 % 5: how the message is cut into the
 *          pieces given to pop3_enc_bytes (1 byte; whole; POP3_ENC_CHUNK;
 *          1-16 bytes; a mix of 0, 1, a few, about POP3_ENC_CHUNK and up
 *          to twice it, from a generator seeded by [6] and [7]);
 *   [1]    TOP's line count (255: 4294967295);
 *   [2]    bits 0-3: the write that fails (1-15; 0: none);
 *   [3][4] the ok line's length: [3] when below 0x80, else
 *          POP3_ENC_CHUNK + 4 - [4] (the buffer's edge, both sides);
 *   [5]    the message is the rest once, or (from 0xc0) 2 + [5] % 64
 *          times (past POP3_ENC_CHUNK from a small input).
 * Every piece is copied to a buffer of exactly its size so that ASan sees
 * a read past it.  Checked against a reference encoder written here (the
 * message split into lines a byte at a time, each line then written
 * out): the output is the ok line and the reference's bytes exactly;
 * every CR is followed by LF and every LF follows a CR; a line that
 * begins with "." begins with "..", but for the final ".\r\n"; the
 * output un-stuffed is the message with its line ends made CRLF (RETR),
 * or the start of it up to `lines` lines after the empty line (TOP).
 * Every write is 1 to POP3_ENC_BUF bytes (a longer ok line aside).  A cut
 * stream is the reference of what was fed, its last line end perhaps
 * not yet out, and never holds the final ".".  After a failed write the
 * call returns -1, what went out before is the start of the stream, and
 * every later call returns -1 without writing.  Any mismatch aborts.
 *
 * Process:  libFuzzer, or tests/fuzz/replay.c under make check.
 * Trust:    the input is anything.
 * Limits:   FZ_MSG_MAX bytes of message after the repetition.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_enc.h"
#include "banned.h"

#define FZ_HDR		8
#define FZ_MSG_MAX	(4 * 1024 * 1024)

#define FZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_pop3_enc: check failed: %s at "	\
		    "line %d\n", #c, __LINE__);				\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the write callback got. */
struct fz_sink {
	unsigned char	*buf;
	size_t		 len, cap;
	size_t		 writes;
	size_t		 fail_at;	/* the write that fails, 1-based */
	bool		 failed;	/* it did */
	size_t		 plen;		/* the ok line's length */
};

static int
fz_write(void *arg, const void *p, size_t len)
{
	struct fz_sink	*s = arg;

	s->writes++;
	FZ_CHECK(!s->failed);		/* nothing after a failure */
	FZ_CHECK(len > 0);
	FZ_CHECK(len <= POP3_ENC_BUF || (s->writes == 1 && len == s->plen &&
	    s->plen > POP3_ENC_CHUNK));
	if (s->writes == s->fail_at) {
		s->failed = true;
		return -1;
	}
	FZ_CHECK(len <= s->cap - s->len);
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	return 0;
}

static void
fz_put(unsigned char *out, size_t *o, size_t cap, const void *p, size_t len)
{
	FZ_CHECK(len <= cap - *o);
	memcpy(out + *o, p, len);
	*o += len;
}

/*
 * The reference: RFC 1939 3 and 7 read plainly.  The message is split
 * into lines (ended by CRLF, a bare CR, a bare LF, or the end), a byte at
 * a time; a line goes out with a "." more when it begins with one, and
 * CRLF; TOP stops after the empty line and `lines` more; then ".\r\n".
 * The length of the output at out (cap bytes).
 */
static size_t
ref_encode(const unsigned char *m, size_t n, bool top, uint32_t lines,
    unsigned char *out, size_t cap)
{
	size_t		i = 0, start, end, o = 0;
	bool		header = true;
	uint64_t	body = 0;

	while (i < n) {
		start = i;
		while (i < n && m[i] != '\r' && m[i] != '\n')
			i++;
		end = i;
		if (i < n) {
			if (m[i] == '\r' && i + 1 < n && m[i + 1] == '\n')
				i += 2;
			else
				i++;
		}
		if (top && !header && body >= lines)
			break;
		if (end > start && m[start] == '.')
			fz_put(out, &o, cap, ".", 1);
		fz_put(out, &o, cap, m + start, end - start);
		fz_put(out, &o, cap, "\r\n", 2);
		if (top) {
			if (header) {
				if (end == start)
					header = false;
			} else
				body++;
		}
	}
	fz_put(out, &o, cap, ".\r\n", 3);
	return o;
}

/* The message with every line end CRLF, the last line's too. */
static size_t
normalize(const unsigned char *m, size_t n, unsigned char *out, size_t cap)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		if (m[i] == '\r') {
			fz_put(out, &o, cap, "\r\n", 2);
			if (i + 1 < n && m[i + 1] == '\n')
				i++;
		} else if (m[i] == '\n')
			fz_put(out, &o, cap, "\r\n", 2);
		else
			fz_put(out, &o, cap, m + i, 1);
	}
	if (n > 0 && m[n - 1] != '\r' && m[n - 1] != '\n')
		fz_put(out, &o, cap, "\r\n", 2);
	return o;
}

/*
 * A whole stream s (len bytes, the ok line not included): CRLF lines
 * only, dot-stuffed, ended by ".\r\n" and by nothing before.  The lines
 * un-stuffed, each with CRLF, into out; their length.
 */
static size_t
check_stream(const unsigned char *s, size_t len, unsigned char *out,
    size_t cap)
{
	size_t	i = 0, j, o = 0;
	bool	end = false;

	FZ_CHECK(len >= 3 && memcmp(s + len - 3, ".\r\n", 3) == 0);
	while (i < len) {
		FZ_CHECK(!end);
		for (j = i; j < len && s[j] != '\r'; j++)
			FZ_CHECK(s[j] != '\n');		/* a bare LF */
		FZ_CHECK(j + 1 < len && s[j + 1] == '\n');	/* a bare CR */
		if (j > i && s[i] == '.') {
			if (j - i == 1)
				end = true;
			else {
				FZ_CHECK(s[i + 1] == '.');
				fz_put(out, &o, cap, s + i + 1, j - i - 1);
				fz_put(out, &o, cap, "\r\n", 2);
			}
		} else {
			fz_put(out, &o, cap, s + i, j - i);
			fz_put(out, &o, cap, "\r\n", 2);
		}
		i = j + 2;
	}
	FZ_CHECK(end);
	return o;
}

/* A stream cut short: no line of it is the final ".". */
static void
check_no_end(const unsigned char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((i == 0 || s[i - 1] == '\n') && s[i] == '.' &&
		    i + 1 < len && s[i + 1] == '\r')
			FZ_CHECK(false);
}

/*
 * TOP: u (ulen bytes, CRLF lines) is the start of the normalized message
 * nm (nlen bytes); when it is not all of it, the header ended and exactly
 * `lines` lines followed.
 */
static void
check_top(const unsigned char *u, size_t ulen, const unsigned char *nm,
    size_t nlen, uint32_t lines)
{
	size_t		i = 0, j;
	bool		header = true;
	uint64_t	body = 0;

	FZ_CHECK(ulen <= nlen && memcmp(u, nm, ulen) == 0);
	while (i < ulen) {
		for (j = i; u[j] != '\r'; j++)
			;
		if (!header)
			body++;
		else if (j == i)
			header = false;
		i = j + 2;
	}
	if (!header)
		FZ_CHECK(body <= lines);
	if (ulen < nlen)
		FZ_CHECK(!header && body == lines);
}

static uint32_t
fz_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* The next piece's size: at most left. */
static size_t
fz_piece(int mode, uint32_t *x, size_t left)
{
	size_t		n;
	uint32_t	r;

	switch (mode) {
	case 0:
		n = 1;
		break;
	case 1:
		n = left;
		break;
	case 2:
		n = POP3_ENC_CHUNK;
		break;
	case 3:
		n = 1 + fz_rand(x) % 16;
		break;
	default:
		r = fz_rand(x);
		switch (r % 8) {
		case 0:
			n = 0;
			break;
		case 1:
		case 2:
			n = 1;
			break;
		case 3:
			n = 2 + (r >> 8) % 15;
			break;
		case 4:
			n = POP3_ENC_CHUNK - 2 + (r >> 8) % 5;
			break;
		case 5:
			n = 1 + (r >> 8) % (2 * POP3_ENC_CHUNK + 64);
			break;
		default:
			n = 1 + (r >> 8) % 256;
			break;
		}
		break;
	}
	return n < left ? n : left;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_enc	 e;
	struct fz_sink	 s;
	unsigned char	*out, *msg, *pre, *ref, *nm, *un, *piece;
	size_t		 plen, body, rep, msglen, cap, reflen, nlen, ulen;
	size_t		 fed, n, npieces, cutat, w, i;
	uint32_t	 lines, x;
	bool		 top, stopdone, cut, err;
	int		 mode, rc;

	if (size < FZ_HDR)
		return 0;
	top = data[0] & 1;
	stopdone = data[0] & 2;
	cut = data[0] & 4;
	mode = (data[0] >> 4) % 5;
	lines = data[1] == 255 ? UINT32_MAX : data[1];
	plen = data[3] < 0x80 ? (size_t)data[3] : POP3_ENC_CHUNK + 4 - (size_t)data[4];
	rep = data[5] < 0xc0 ? 1 : 2 + data[5] % 64;
	cutat = data[6] % 16;
	x = ((uint32_t)data[6] << 8 | data[7]) * 2654435761U | 1;
	body = size - FZ_HDR;
	if (body > FZ_MSG_MAX / rep)
		return 0;
	msglen = body * rep;

	memset(&s, 0, sizeof(s));
	s.fail_at = data[2] & 0x0f;
	s.plen = plen;
	/* one input byte is 2 output bytes at most, then "\r\n.\r\n" */
	cap = plen + 2 * msglen + 5;
	if ((msg = malloc(msglen + 1)) == NULL ||
	    (pre = malloc(plen + 1)) == NULL ||
	    (out = malloc(POP3_ENC_BUF)) == NULL ||
	    (s.buf = malloc(cap)) == NULL ||
	    (ref = malloc(cap)) == NULL ||
	    (nm = malloc(cap)) == NULL ||
	    (un = malloc(cap)) == NULL)
		abort();
	s.cap = cap;
	for (i = 0; i < rep; i++)
		memcpy(msg + i * body, data + FZ_HDR, body);
	memset(pre, 'p', plen);
	if (plen >= 5)
		memcpy(pre, "+OK ", 4);
	if (plen >= 2)
		memcpy(pre + plen - 2, "\r\n", 2);

	pop3_enc_init(&e, top, lines, out, fz_write, &s);
	rc = pop3_enc_prefix(&e, pre, plen);
	FZ_CHECK(rc == 0 || rc == -1);
	err = rc == -1;
	FZ_CHECK(err == s.failed);
	fed = npieces = 0;
	while (!err && fed < msglen) {
		if (stopdone && pop3_enc_done(&e))
			break;
		if (cut && npieces == cutat)
			break;
		n = fz_piece(mode, &x, msglen - fed);
		if ((piece = malloc(n > 0 ? n : 1)) == NULL)
			abort();
		memcpy(piece, msg + fed, n);
		rc = pop3_enc_bytes(&e, piece, n);
		free(piece);
		FZ_CHECK(rc == 0 || rc == -1);
		err = rc == -1;
		FZ_CHECK(err == s.failed);
		FZ_CHECK(e.len <= POP3_ENC_BUF);
		fed += n;
		npieces++;
	}
	if (!err) {
		rc = cut ? pop3_enc_flush(&e) : pop3_enc_finish(&e);
		FZ_CHECK(rc == 0 || rc == -1);
		err = rc == -1;
		FZ_CHECK(err == s.failed);
	}
	if (s.len >= plen)
		FZ_CHECK(memcmp(s.buf, pre, plen) == 0);

	if (err) {
		/* dead: every call fails, nothing more is written */
		w = s.writes;
		FZ_CHECK(pop3_enc_bytes(&e, "x\r\n", 3) == -1);
		FZ_CHECK(pop3_enc_prefix(&e, "+OK\r\n", 5) == -1);
		FZ_CHECK(pop3_enc_flush(&e) == -1);
		FZ_CHECK(pop3_enc_finish(&e) == -1);
		FZ_CHECK(s.writes == w);
		FZ_CHECK(e.len <= POP3_ENC_BUF);
		/* what went out is the start of the stream */
		reflen = ref_encode(msg, msglen, top, lines, ref, cap);
		FZ_CHECK(s.len <= plen + reflen);
		if (s.len > plen)
			FZ_CHECK(memcmp(s.buf + plen, ref, s.len - plen) == 0);
	} else if (cut) {
		/* what was fed, its last line end perhaps waiting; no "." */
		FZ_CHECK(e.len == 0);
		FZ_CHECK(s.len >= plen);
		reflen = ref_encode(msg, fed, top, lines, ref, cap) - 3;
		n = s.len - plen;
		FZ_CHECK(n == reflen || (n + 2 == reflen &&
		    memcmp(ref + n, "\r\n", 2) == 0));
		FZ_CHECK(memcmp(s.buf + plen, ref, n) == 0);
		check_no_end(s.buf + plen, n);
		/* and the start of the whole stream */
		reflen = ref_encode(msg, msglen, top, lines, ref, cap);
		FZ_CHECK(n <= reflen && memcmp(s.buf + plen, ref, n) == 0);
	} else {
		FZ_CHECK(e.len == 0);
		FZ_CHECK(s.len >= plen);
		reflen = ref_encode(msg, msglen, top, lines, ref, cap);
		FZ_CHECK(s.len - plen == reflen);
		FZ_CHECK(memcmp(s.buf + plen, ref, reflen) == 0);
		ulen = check_stream(s.buf + plen, s.len - plen, un, cap);
		nlen = normalize(msg, msglen, nm, cap);
		if (top)
			check_top(un, ulen, nm, nlen, lines);
		else
			FZ_CHECK(ulen == nlen && memcmp(un, nm, nlen) == 0);
	}

	free(msg);
	free(pre);
	free(out);
	free(s.buf);
	free(ref);
	free(nm);
	free(un);
	return 0;
}
