/* SPDX-License-Identifier: ISC */
/*
 * io.h - line-oriented client I/O for session processes, plain or TLS,
 * with timeouts and a bounded input buffer.
 */
#ifndef SP_IO_H
#define SP_IO_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IO_BUF_SIZE	16384	/* input buffer; longest line is smaller */
#define IO_MAX_WATCH	8

struct tls_conn;
struct io;

/*
 * A layer between io and the socket (COMPRESS=DEFLATE in the mail
 * process): read gives up to len bytes, 0 at EOF, or -1 with *want set
 * to POLLIN/POLLOUT to wait and retry (0: an error); write sends all of
 * len (through io_write_raw) or fails; pending says whether it holds
 * input that poll on the socket cannot see.
 */
struct io_layer {
	ssize_t	(*read)(void *, struct io *, void *, size_t, short *want);
	int	(*write)(void *, struct io *, const void *, size_t);
	int	(*pending)(void *);
	void	*arg;
};

struct io {
	int		 fd;
	struct tls_conn	*tls;		/* NULL for plaintext */
	const struct io_layer *layer;	/* NULL: none (io_set_layer) */
	int		 timeout_ms;	/* per line read, per write */
	size_t		 start, end;	/* unread bytes: buf[start..end) */
	/*
	 * Watched while waiting for the client: service channels that must
	 * stay quiet (readable or hung up = the service went away: IO_LOST),
	 * and a flag a signal handler sets to ask for a stop (IO_STOP).
	 */
	int		 watch[IO_MAX_WATCH];
	int		 nwatch;
	const volatile sig_atomic_t *stop;
	uint8_t		 buf[IO_BUF_SIZE];
};

enum io_status {
	IO_LINE,	/* a line: *line_r, *len_r, NUL-terminated, no CR/LF */
	IO_TOOLONG,	/* longer than max: discarded up to its LF */
	IO_EOF,		/* the client closed */
	IO_TIMEOUT,
	IO_ERROR,
	IO_LOST,	/* a watched service channel closed */
	IO_STOP		/* *stop was set (SIGTERM): say goodbye and end */
};

/* A monotonic clock in ms, for deadlines. */
long		io_now_ms(void);
/* Set up io on a connected socket (made non-blocking). */
void		io_init(struct io *, int fd, int timeout_ms);
/*
 * Read one line of at most max bytes (without its CRLF or LF).  The line
 * lives in io's buffer until the next io call.  It may contain NUL bytes:
 * compare *len_r with strlen.  max must be below IO_BUF_SIZE - 2.
 */
enum io_status	io_getline(struct io *, size_t max, char **line_r,
		    size_t *len_r);
/*
 * The same, and *crlf_r says how the line ended: 1 CR LF, 0 a bare LF
 * (SMTP refuses those).  A CR inside the line stays in it.
 */
enum io_status	io_getline_crlf(struct io *, size_t max, char **line_r,
		    size_t *len_r, int *crlf_r);
/*
 * Raw input for readers with their own framing (SMTP DATA and BDAT):
 * wait until bytes are buffered (IO_LINE, meaning "there is input") or
 * for the usual failure; io_peek shows them, io_consume takes n of them.
 */
enum io_status	io_wait_input(struct io *);
/*
 * Has the client sent something we have not read (buffered, inside TLS,
 * or on the socket within wait_ms)?  For clients that talk out of turn.
 */
int		io_input_waiting(struct io *, int wait_ms);
const uint8_t	*io_peek(const struct io *, size_t *len_r);
void		io_consume(struct io *, size_t n);
/* Watch fd while waiting (see struct io); -1 when full. */
int		io_watch(struct io *, int fd);
/*
 * One read of whatever is there, for proxying: > 0 bytes, 0 the client
 * closed, -1 with *want POLLIN/POLLOUT to wait and retry, -1 with *want 0
 * on error.  Bytes already buffered by io_getline come first.
 */
ssize_t		io_read_some(struct io *, void *, size_t, short *want);
/* Decrypted bytes waiting inside TLS or in io's buffer (poll cannot see). */
int		io_pending(struct io *);
/* Bytes already received and not yet read as lines (pipelining checks). */
size_t		io_buffered(const struct io *);
/* Drop what the client sent ahead (e.g. before a TLS handshake). */
void		io_discard_input(struct io *);
/*
 * Zero the buffer outside the unread bytes: what was read (a password
 * in a LOGIN line) does not stay in memory.
 */
void		io_wipe_spent(struct io *);
/* Write all of it; -1 on error or timeout. */
int		io_write(struct io *, const void *, size_t);
/* The same below any layer: straight to the socket (or TLS). */
int		io_write_raw(struct io *, const void *, size_t);
/*
 * Put a layer between io and the socket from now on (NULL: none).  Bytes
 * io has read and not handed out yet came through the old path: the
 * caller takes them first (io_peek, io_consume) and gives them to the
 * layer.
 */
void		io_set_layer(struct io *, const struct io_layer *);
int		io_printf(struct io *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
