/* SPDX-License-Identifier: ISC */
/*
 * io.c - bounded line reads and full writes on a client connection.
 *
 * Process:  session processes (smtp, imap-login, pop3-login).
 * Trust:    every byte read is hostile: a line never grows past the caller's
 *           max (the rest up to LF is discarded and reported as IO_TOOLONG,
 *           as OpenSMTPD's SMTP_LINE_MAX check does before any parsing).
 * Limits:   IO_BUF_SIZE, the caller's max, timeout_ms per line and write.
 * See also: tls.c (the TLS record layer under this).
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tls.h"
#include "io.h"
#include "banned.h"

#define IO_PRINTF_MAX	4096

long
io_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
io_init(struct io *io, int fd, int timeout_ms)
{
	int	fl;

	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->timeout_ms = timeout_ms;
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* 1 ready, 0 timeout, -1 error, -2 a watched fd fired, -3 stop asked. */
static int
io_wait(struct io *io, short events, long deadline, int watching)
{
	struct pollfd	pfd[1 + IO_MAX_WATCH];
	long		left;
	int		r, i, nw = watching ? io->nwatch : 0;

	for (;;) {
		if (watching && io->stop != NULL && *io->stop)
			return -3;
		if ((left = deadline - io_now_ms()) <= 0)
			return 0;
		pfd[0].fd = io->fd;
		pfd[0].events = events;
		pfd[0].revents = 0;
		for (i = 0; i < nw; i++) {
			pfd[1 + i].fd = io->watch[i];
			pfd[1 + i].events = POLLIN;
			pfd[1 + i].revents = 0;
		}
		r = poll(pfd, (nfds_t)(1 + nw), (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		for (i = 0; i < nw; i++)
			if (pfd[1 + i].revents != 0)
				return -2;
		if (r == 0)
			return 0;
		return 1;
	}
}

int
io_watch(struct io *io, int fd)
{
	if (io->nwatch == IO_MAX_WATCH)
		return -1;
	io->watch[io->nwatch++] = fd;
	return 0;
}

/*
 * Read more bytes into the buffer: 1 got some, 0 EOF, -1 error,
 * -2 timeout, -3 a watched fd fired, -4 stop asked.
 */
static int
io_fill(struct io *io, long deadline)
{
	ssize_t	n;
	short	want;
	int	w;

	if (io->start > 0) {
		memmove(io->buf, io->buf + io->start, io->end - io->start);
		io->end -= io->start;
		io->start = 0;
	}
	SP_ASSERT(io->end < sizeof(io->buf));
	for (;;) {
		if (io->layer != NULL)
			n = io->layer->read(io->layer->arg, io, io->buf +
			    io->end, sizeof(io->buf) - io->end, &want);
		else if (io->tls != NULL)
			n = tls_read(io->tls, io->buf + io->end,
			    sizeof(io->buf) - io->end, &want);
		else {
			n = read(io->fd, io->buf + io->end,
			    sizeof(io->buf) - io->end);
			want = 0;
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				want = POLLIN;
		}
		if (n > 0) {
			io->end += (size_t)n;
			return 1;
		}
		if (n == 0)
			return 0;
		if (want == 0)
			return -1;
		if ((w = io_wait(io, want, deadline, 1)) == 0)
			return -2;
		if (w < 0)
			return w == -1 ? -1 : w - 1;
	}
}

/* io_fill's failures as a status */
static enum io_status
io_fill_status(int r)
{
	switch (r) {
	case 0:
		return IO_EOF;
	case -2:
		return IO_TIMEOUT;
	case -3:
		return IO_LOST;
	case -4:
		return IO_STOP;
	default:
		return IO_ERROR;
	}
}

enum io_status
io_getline(struct io *io, size_t max, char **line_r, size_t *len_r)
{
	return io_getline_crlf(io, max, line_r, len_r, NULL);
}

enum io_status
io_wait_input(struct io *io)
{
	long	deadline = io_now_ms() + io->timeout_ms;
	int	r;

	if (io->end > io->start)
		return IO_LINE;
	if ((r = io_fill(io, deadline)) == 1)
		return IO_LINE;
	return io_fill_status(r);
}

int
io_input_waiting(struct io *io, int wait_ms)
{
	struct pollfd	pfd;
	int		r;

	if (io->end > io->start || (io->tls != NULL &&
	    tls_pending(io->tls) > 0) || (io->layer != NULL &&
	    io->layer->pending(io->layer->arg)))
		return 1;
	pfd.fd = io->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	do
		r = poll(&pfd, 1, wait_ms);
	while (r == -1 && errno == EINTR);
	return r > 0;
}

const uint8_t *
io_peek(const struct io *io, size_t *len_r)
{
	*len_r = io->end - io->start;
	return io->buf + io->start;
}

void
io_consume(struct io *io, size_t n)
{
	SP_ASSERT(n <= io->end - io->start);
	io->start += n;
}

enum io_status
io_getline_crlf(struct io *io, size_t max, char **line_r, size_t *len_r,
    int *crlf_r)
{
	long	 deadline = io_now_ms() + io->timeout_ms;
	uint8_t	*lf;
	size_t	 len;
	int	 toolong = 0, r;

	SP_ASSERT(max < sizeof(io->buf) - 2);
	for (;;) {
		lf = memchr(io->buf + io->start, '\n', io->end - io->start);
		if (lf != NULL) {
			len = (size_t)(lf - (io->buf + io->start));
			*line_r = (char *)io->buf + io->start;
			io->start += len + 1;
			if (toolong)
				return IO_TOOLONG;
			if (crlf_r != NULL)
				*crlf_r = len > 0 && (*line_r)[len - 1] == '\r';
			if (len > 0 && (*line_r)[len - 1] == '\r')
				len--;
			if (len > max)
				return IO_TOOLONG;
			(*line_r)[len] = '\0';
			*len_r = len;
			return IO_LINE;
		}
		/* No LF yet: over the limit already?  Then discard. */
		if (io->end - io->start > max + 1) {
			toolong = 1;
			io->start = io->end = 0;
		}
		if ((r = io_fill(io, deadline)) == 1)
			continue;
		if (r == 0)
			return toolong ? IO_TOOLONG : IO_EOF;
		return io_fill_status(r);
	}
}

size_t
io_buffered(const struct io *io)
{
	return io->end - io->start;
}

void
io_discard_input(struct io *io)
{
	io->start = io->end = 0;
}

void
io_wipe_spent(struct io *io)
{
	explicit_bzero(io->buf, io->start);
	explicit_bzero(io->buf + io->end, sizeof(io->buf) - io->end);
}

void
io_set_layer(struct io *io, const struct io_layer *layer)
{
	io->layer = layer;
}

int
io_write(struct io *io, const void *data, size_t len)
{
	if (io->layer != NULL)
		return io->layer->write(io->layer->arg, io, data, len);
	return io_write_raw(io, data, len);
}

int
io_write_raw(struct io *io, const void *data, size_t len)
{
	const uint8_t	*p = data;
	long		 deadline = io_now_ms() + io->timeout_ms;
	ssize_t		 n;
	short		 want;

	while (len > 0) {
		if (io->tls != NULL)
			n = tls_write(io->tls, p, len, &want);
		else {
			n = send(io->fd, p, len, MSG_NOSIGNAL);
			want = 0;
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				want = POLLOUT;
		}
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (want == 0 || io_wait(io, want, deadline, 0) != 1)
			return -1;
	}
	return 0;
}

int
io_printf(struct io *io, const char *fmt, ...)
{
	char	buf[IO_PRINTF_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	SP_ASSERT(n >= 0 && (size_t)n < sizeof(buf));	/* our own replies */
	return io_write(io, buf, (size_t)n);
}

ssize_t
io_read_some(struct io *io, void *dst, size_t len, short *want)
{
	size_t	n = io->end - io->start;
	ssize_t	r;

	*want = 0;
	if (n > 0) {
		if (n > len)
			n = len;
		memcpy(dst, io->buf + io->start, n);
		io->start += n;
		return (ssize_t)n;
	}
	if (io->tls != NULL)
		return tls_read(io->tls, dst, len, want);
	r = read(io->fd, dst, len);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		*want = POLLIN;
	return r;
}

int
io_pending(struct io *io)
{
	if (io->end > io->start)
		return 1;
	if (io->layer != NULL && io->layer->pending(io->layer->arg))
		return 1;
	return io->tls != NULL && tls_pending(io->tls) > 0;
}
