/* SPDX-License-Identifier: ISC */
/*
 * pop3_enc.h - the POP3 multi-line stream encoder (RFC 1939 3) of RETR
 * and TOP: message bytes in, in pieces of any size; dot-stuffed lines,
 * each ended by CRLF, then ".\r\n" out, through the caller's write
 * callback.  No I/O of its own, no allocation, no logging.
 *
 * Process:  pop3-mail (account uid, account jail); tests/unit,
 *           tests/fuzz.
 * Trust:    message bytes are hostile content (any byte, any line
 *           length, any line end or none): they are copied, never
 *           interpreted beyond finding line ends and, for TOP, the empty
 *           line that ends the header.
 * Limits:   the caller's output buffer of POP3_ENC_BUF bytes; a write
 *           is at most POP3_ENC_BUF bytes (a longer prefix aside).
 * See also: pop3_drop.c (pop3_drop_send), tests/fuzz/fuzz_pop3_enc.c.
 */
#ifndef SP_POP3_ENC_H
#define SP_POP3_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Output bytes collected before a write (pop3_drop.h: POP3_DROP_CHUNK). */
#define POP3_ENC_CHUNK		(64 * 1024)
/* Output bytes one input byte may add at most (CR LF, or ".x"; ".\r\n"). */
#define POP3_ENC_SLACK		4
/* The size of the caller's output buffer. */
#define POP3_ENC_BUF		(POP3_ENC_CHUNK + POP3_ENC_SLACK)

/*
 * The encoder's state: the caller's (on its stack, say), changed only
 * through the functions below.
 */
struct pop3_enc {
	unsigned char	*out;		/* the caller's, POP3_ENC_BUF bytes */
	size_t		 len;		/* bytes waiting in out */
	bool		 bol;		/* at the beginning of a line */
	bool		 cr;		/* a CR waits: CRLF or bare CR */
	size_t		 linelen;	/* bytes of the current line */
	bool		 top;
	bool		 header;	/* TOP: still in the header */
	uint32_t	 max;		/* TOP: body lines wanted */
	uint32_t	 body;		/* TOP: body lines sent */
	bool		 done;		/* TOP: all wanted is out */
	bool		 failed;	/* a write failed: the stream is dead */
	int		(*write_fn)(void *, const void *, size_t);
	void		*arg;
};

/*
 * A new stream: RETR (top false), or TOP with `lines` body lines (the
 * header, the empty line that ends it, then at most `lines` lines; a
 * message without an empty line is all header).  out is the caller's
 * buffer of POP3_ENC_BUF bytes and must outlive the stream (wiping it
 * afterwards is the caller's too); write_fn(arg, p, len) gets the stream
 * in pieces of 1 to POP3_ENC_BUF bytes and returns 0, or -1 on failure.
 * After a -1 from any function below the stream is dead: every later
 * call returns -1 and writes nothing.
 */
void	pop3_enc_init(struct pop3_enc *, bool top, uint32_t lines,
	    unsigned char *out, int (*write_fn)(void *, const void *, size_t),
	    void *arg);
/*
 * len bytes at p as they are, not encoded, ahead of what follows (the
 * caller's "+OK" line, its CRLF included): kept to go out with the
 * first bytes of the message, or written at once when longer than
 * POP3_ENC_CHUNK.  Called before pop3_enc_bytes.  0, or -1 when a write
 * failed.
 */
int	pop3_enc_prefix(struct pop3_enc *, const void *p, size_t len);
/*
 * n message bytes at p, any piece of the message (a CRLF may be cut
 * between two calls).  Output is written whenever more than
 * POP3_ENC_CHUNK bytes wait.  Bytes after what TOP wants are ignored.
 * 0, or -1 when a write failed.
 */
int	pop3_enc_bytes(struct pop3_enc *, const void *p, size_t n);
/* TOP has all it wants: the rest of the message need not be read. */
bool	pop3_enc_done(const struct pop3_enc *);
/*
 * Write what waits, as it is (a message cut short by a read error: no
 * line end is added, no "." ever goes out).  0, or -1.
 */
int	pop3_enc_flush(struct pop3_enc *);
/*
 * The end of the message: the last line ends with CRLF if it has not
 * (TOP that is done aside), then ".\r\n", and all of it is written.
 * 0, or -1.
 */
int	pop3_enc_finish(struct pop3_enc *);

#endif
