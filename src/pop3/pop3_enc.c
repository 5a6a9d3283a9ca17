/* SPDX-License-Identifier: ISC */
/*
 * pop3_enc.c - the POP3 multi-line stream encoder of RETR and TOP
 * (pop3_enc.h): message bytes in, POP3 multi-line bytes out (RFC 1939
 * 3).  Every line of the message ends with CRLF on the wire, a line that
 * begins with "." gets one more, and TOP stops after the header and
 * `max` body lines.
 *
 * Process:  pop3-mail (account uid, account jail; ROLE_POP3_MAIL);
 *           tests/unit, tests/fuzz.
 * Trust:    message content is hostile: it is only copied, a line at a
 *           time through a small state machine (dot-stuffing, line
 *           ends), never interpreted beyond finding line ends and the
 *           empty line that ends the header.
 * Limits:   the caller's buffer of POP3_ENC_BUF bytes: written when it
 *           holds more than POP3_ENC_CHUNK, so that POP3_ENC_SLACK bytes
 *           always fit after a check.
 * See also: pop3_drop.c, tests/fuzz/fuzz_pop3_enc.c, RFC 1939 3, 7.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pop3_enc.h"
#include "banned.h"

void
pop3_enc_init(struct pop3_enc *e, bool top, uint32_t lines,
    unsigned char *out, int (*write_fn)(void *, const void *, size_t),
    void *arg)
{
	memset(e, 0, sizeof(*e));
	e->out = out;
	e->bol = true;
	e->top = top;
	e->header = true;
	e->max = lines;
	e->write_fn = write_fn;
	e->arg = arg;
}

bool
pop3_enc_done(const struct pop3_enc *e)
{
	return e->done;
}

static int
enc_flush(struct pop3_enc *e)
{
	if (e->len == 0)
		return 0;
	if (e->write_fn(e->arg, e->out, e->len) == -1) {
		e->failed = true;
		return -1;
	}
	e->len = 0;
	return 0;
}

/* Room for POP3_ENC_SLACK more bytes. */
static int
enc_room(struct pop3_enc *e)
{
	if (e->len > POP3_ENC_CHUNK)
		return enc_flush(e);
	return 0;
}

/* A line ends: CRLF on the wire, and TOP counts it. */
static int
enc_eol(struct pop3_enc *e)
{
	if (enc_room(e) == -1)
		return -1;
	e->out[e->len++] = '\r';
	e->out[e->len++] = '\n';
	if (e->top) {
		if (e->header) {
			/* RFC 1939 7 TOP: the empty line ends the header */
			if (e->linelen == 0) {
				e->header = false;
				if (e->max == 0)
					e->done = true;
			}
		} else if (++e->body >= e->max)
			e->done = true;
	}
	e->bol = true;
	e->linelen = 0;
	return 0;
}

int
pop3_enc_prefix(struct pop3_enc *e, const void *p, size_t len)
{
	if (e->failed)
		return -1;
	if (len == 0)
		return 0;
	if (len > POP3_ENC_CHUNK) {
		/* too long to keep: what waits, then it, at once */
		if (enc_flush(e) == -1)
			return -1;
		if (e->write_fn(e->arg, p, len) == -1) {
			e->failed = true;
			return -1;
		}
		return 0;
	}
	if (len > POP3_ENC_BUF - e->len && enc_flush(e) == -1)
		return -1;
	memcpy(e->out + e->len, p, len);
	e->len += len;
	return 0;
}

int
pop3_enc_bytes(struct pop3_enc *e, const void *buf, size_t n)
{
	const unsigned char	*p = buf;
	size_t			 i = 0, run, room;

	if (e->failed)
		return -1;
	while (i < n && !e->done) {
		if (e->cr) {
			/* CRLF, or a bare CR: a line end either way */
			e->cr = false;
			if (enc_eol(e) == -1)
				return -1;
			if (p[i] == '\n') {
				i++;
				continue;
			}
			if (e->done)
				break;
		}
		if (p[i] == '\r') {
			e->cr = true;
			i++;
			continue;
		}
		if (p[i] == '\n') {		/* a bare LF */
			if (enc_eol(e) == -1)
				return -1;
			i++;
			continue;
		}
		if (enc_room(e) == -1)
			return -1;
		if (e->bol && p[i] == '.')
			e->out[e->len++] = '.';	/* dot-stuffing */
		e->bol = false;
		/* the rest of the line up to a CR or LF, as it is */
		for (run = 1; i + run < n && p[i + run] != '\r' &&
		    p[i + run] != '\n'; run++)
			;
		room = POP3_ENC_BUF - e->len;
		if (run > room)
			run = room;
		memcpy(e->out + e->len, p + i, run);
		e->len += run;
		e->linelen += run;
		i += run;
	}
	return 0;
}

int
pop3_enc_flush(struct pop3_enc *e)
{
	if (e->failed)
		return -1;
	return enc_flush(e);
}

/* The end of the message: the last line ends, then ".". */
int
pop3_enc_finish(struct pop3_enc *e)
{
	if (e->failed)
		return -1;
	if (e->cr && !e->done) {
		e->cr = false;
		if (enc_eol(e) == -1)
			return -1;
	}
	if (!e->done && !e->bol && enc_eol(e) == -1)
		return -1;
	if (enc_room(e) == -1)
		return -1;
	e->out[e->len++] = '.';
	e->out[e->len++] = '\r';
	e->out[e->len++] = '\n';
	return enc_flush(e);
}
