/* SPDX-License-Identifier: ISC */
/*
 * ipc.c - framed messages over SOCK_SEQPACKET: building, typed getters,
 * and the blocking send/receive used by sessions (see ipc.h).
 *
 * Process:  all (sessions use ipc_send/ipc_recv; the master and services
 *           read through ipc_chan.c, which uses ipc_out_write/ipc_msg_read).
 * Trust:    every datagram is hostile until ipc_msg_decode and the getters
 *           have checked it: the header length must match the datagram,
 *           every field must fit in what is left of the payload, and a
 *           malformed datagram never leaves an fd open in this process.
 * Limits:   IPC_MAX_PAYLOAD per message, one fd per message (IPC_RX_FDS
 *           are accepted by recvmsg only to be closed), IPC_SEND_TIMEOUT_MS
 *           for a blocking send, the caller's max for each string.
 * See also: ipc_types.h (the message list), ipc_chan.c (libevent channels).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc.h"
#include "banned.h"

#define IPC_MSG_MAX		(IPC_HDR_SIZE + IPC_MAX_PAYLOAD)
#define IPC_OUT_INITIAL		256	/* first allocation of an ipc_out */
#define IPC_RX_FDS		4	/* room to see (and close) extra fds */
#define IPC_SEND_TIMEOUT_MS	10000	/* a full socket for this long: error */

static int64_t
ipc_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until sock is ready for events or the deadline (-1: none) passes:
 * 1 ready, 0 timed out, -1 error.  EINTR waits again for the time left.
 */
static int
ipc_wait(int sock, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		r, ms;

	for (;;) {
		if (deadline < 0)
			ms = -1;
		else {
			/* past the deadline: still look once (timeout 0) */
			if ((left = deadline - ipc_now_ms()) < 0)
				left = 0;
			ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		pfd.fd = sock;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno == EINTR)
			continue;	/* again, for the time left */
		if (r == -1)
			return -1;
		if (r == 0)
			return 0;
		if (pfd.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
		/* POLLHUP and POLLERR: the next recvmsg/sendmsg tells which */
		return 1;
	}
}

/* --- building ------------------------------------------------------------ */

struct ipc_out *
ipc_out_new(uint32_t type, uint32_t id, int fd)
{
	struct ipc_out	*o;

	o = xcalloc(1, sizeof(*o));
	o->hdr.type = type;
	o->hdr.id = id;
	o->cap = IPC_OUT_INITIAL;
	o->buf = xmalloc(o->cap);
	o->len = IPC_HDR_SIZE;
	o->fd = fd;
	return o;
}

/*
 * Make room for n more bytes.  Past IPC_MSG_MAX the message is marked
 * overflowed for good: nothing more is added and it will not be sent.
 */
static int
ipc_out_reserve(struct ipc_out *o, size_t n)
{
	size_t	 ncap;
	uint8_t	*nb;

	if (o->overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	if (n > IPC_MSG_MAX - o->len) {		/* o->len <= IPC_MSG_MAX */
		o->overflow = 1;
		errno = EMSGSIZE;
		return -1;
	}
	if (o->len + n <= o->cap)
		return 0;
	ncap = o->cap;
	while (ncap < o->len + n)
		ncap = ncap > IPC_MSG_MAX / 2 ? IPC_MSG_MAX : ncap * 2;
	nb = xmalloc(ncap);
	memcpy(nb, o->buf, o->len);
	free(o->buf);
	o->buf = nb;
	o->cap = ncap;
	return 0;
}

/* Append without checks: the caller reserved the room. */
static void
ipc_out_put(struct ipc_out *o, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

int
ipc_add_u32(struct ipc_out *o, uint32_t v)
{
	if (ipc_out_reserve(o, sizeof(v)) == -1)
		return -1;
	ipc_out_put(o, &v, sizeof(v));
	return 0;
}

int
ipc_add_u64(struct ipc_out *o, uint64_t v)
{
	if (ipc_out_reserve(o, sizeof(v)) == -1)
		return -1;
	ipc_out_put(o, &v, sizeof(v));
	return 0;
}

int
ipc_add_str(struct ipc_out *o, const char *s)
{
	size_t		n = strlen(s);
	uint32_t	l;

	/* reserve the whole field at once: a field is never half written */
	if (n >= IPC_MAX_PAYLOAD ||
	    ipc_out_reserve(o, sizeof(l) + n + 1) == -1) {
		o->overflow = 1;
		errno = EMSGSIZE;
		return -1;
	}
	l = (uint32_t)n + 1;
	ipc_out_put(o, &l, sizeof(l));
	ipc_out_put(o, s, n + 1);
	return 0;
}

int
ipc_add_data(struct ipc_out *o, const void *p, size_t n)
{
	uint32_t	l;

	if (n > IPC_MAX_PAYLOAD || ipc_out_reserve(o, sizeof(l) + n) == -1) {
		o->overflow = 1;
		errno = EMSGSIZE;
		return -1;
	}
	l = (uint32_t)n;
	ipc_out_put(o, &l, sizeof(l));
	ipc_out_put(o, p, n);
	return 0;
}

void
ipc_out_free(struct ipc_out *o)
{
	int	saved = errno;

	if (o == NULL)
		return;
	if (o->fd != -1)
		close(o->fd);
	/* SECURITY: some messages carry keys or passwords: wipe them all */
	sodium_memzero(o->buf, o->cap);
	free(o->buf);
	free(o);
	errno = saved;
}

/* Write the header fields into the front of the buffer (host order). */
static void
ipc_hdr_put(uint8_t *p, const struct ipc_hdr *h)
{
	memcpy(p, &h->type, 4);
	memcpy(p + 4, &h->len, 4);
	memcpy(p + 8, &h->id, 4);
	memcpy(p + 12, &h->flags, 4);
}

static void
ipc_hdr_get(struct ipc_hdr *h, const uint8_t *p)
{
	memcpy(&h->type, p, 4);
	memcpy(&h->len, p + 4, 4);
	memcpy(&h->id, p + 8, 4);
	memcpy(&h->flags, p + 12, 4);
}

/* --- sending ------------------------------------------------------------- */

const void *
ipc_out_bytes(struct ipc_out *o, size_t *len_r)
{
	if (o->overflow) {
		errno = EMSGSIZE;
		return NULL;
	}
	SP_ASSERT(o->len >= IPC_HDR_SIZE && o->len <= IPC_MSG_MAX);
	o->hdr.len = (uint32_t)(o->len - IPC_HDR_SIZE);
	ipc_hdr_put(o->buf, &o->hdr);
	*len_r = o->len;
	return o->buf;
}

int
ipc_out_write(int sock, struct ipc_out *o)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 msg;
	struct iovec	 iov;
	size_t		 len;
	ssize_t		 n;

	if (ipc_out_bytes(o, &len) == NULL)
		return -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = o->buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (o->fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &o->fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		/* SOCK_SEQPACKET sends whole records; anything else is wrong */
		errno = EPROTO;
		return -1;
	}
	/* the receiver holds its own reference now */
	if (o->fd != -1) {
		close(o->fd);
		o->fd = -1;
	}
	return 0;
}

int
ipc_send(int sock, struct ipc_out *o)
{
	int64_t	deadline = -1;
	int	r, saved;

	for (;;) {
		if (ipc_out_write(sock, o) == 0) {
			ipc_out_free(o);
			return 0;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		/* a non-blocking socket that is full: wait, but not forever */
		if (deadline == -1)
			deadline = ipc_now_ms() + IPC_SEND_TIMEOUT_MS;
		if ((r = ipc_wait(sock, POLLOUT, deadline)) == -1)
			break;
		if (r == 0) {
			errno = ETIMEDOUT;
			break;
		}
	}
	saved = errno;
	ipc_out_free(o);
	errno = saved;
	return -1;
}

/* --- receiving ----------------------------------------------------------- */

int
ipc_msg_decode(struct ipc_msg *m, const void *buf, size_t n)
{
	struct ipc_hdr	h;

	if (n < IPC_HDR_SIZE || n > sizeof(m->buf)) {
		errno = EBADMSG;
		return -1;
	}
	ipc_hdr_get(&h, buf);
	/* SECURITY: the header's length must be the datagram's, exactly */
	if (h.len > IPC_MAX_PAYLOAD || h.len != n - IPC_HDR_SIZE) {
		errno = EBADMSG;
		return -1;
	}
	if (buf != m->buf)
		memcpy(m->buf, buf, n);
	m->hdr = h;
	m->off = 0;
	m->fd = -1;
	return 0;
}

static void
ipc_close_fds(const int *fds, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

int
ipc_msg_read(int sock, struct ipc_msg *m)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(IPC_RX_FDS * sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n;
	size_t		 nfds = 0, k, i;
	int		 fds[IPC_RX_FDS], fd, bad = 0;

	m->fd = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = m->buf;
	iov.iov_len = sizeof(m->buf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;

	/*
	 * SECURITY: collect every fd the kernel installed before looking at
	 * anything else, so that whatever is wrong with the datagram, none
	 * stays open (a hostile peer must not fill our fd table).  Fds that
	 * did not fit in the control buffer (MSG_CTRUNC) were never
	 * installed; the kernel dropped them.
	 */
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0)) {
			bad = 1;	/* e.g. credentials: never asked for */
			continue;
		}
		k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (nfds < IPC_RX_FDS)
				fds[nfds++] = fd;
			else
				close(fd);	/* not reached: room for all */
			if (nfds > 1)
				bad = 1;
		}
	}
	if (n == 0) {
		/* end of file (or an empty datagram: the same to us) */
		ipc_close_fds(fds, nfds);
		return 0;
	}
	if (bad || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    ipc_msg_decode(m, m->buf, (size_t)n) == -1) {
		ipc_close_fds(fds, nfds);
		m->fd = -1;
		errno = EBADMSG;
		return -1;
	}
	m->fd = nfds == 1 ? fds[0] : -1;
	return 1;
}

int
ipc_recv(int sock, struct ipc_msg *m, int timeout_ms)
{
	int64_t	deadline = -1;
	int	r;

	m->fd = -1;
	if (timeout_ms >= 0)
		deadline = ipc_now_ms() + timeout_ms;
	for (;;) {
		if ((r = ipc_wait(sock, POLLIN, deadline)) == -1)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = ipc_msg_read(sock, m);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;	/* a non-blocking socket woke early */
		return r;
	}
}

void
ipc_msg_clear(struct ipc_msg *m)
{
	if (m->fd != -1) {
		close(m->fd);
		m->fd = -1;
	}
}

/* --- typed getters ------------------------------------------------------- */

/* Payload bytes not read yet; hdr.len <= IPC_MAX_PAYLOAD after decode. */
static size_t
ipc_left(const struct ipc_msg *m)
{
	SP_ASSERT(m->off <= m->hdr.len && m->hdr.len <= IPC_MAX_PAYLOAD);
	return m->hdr.len - m->off;
}

static const uint8_t *
ipc_cur(const struct ipc_msg *m)
{
	return m->buf + IPC_HDR_SIZE + m->off;
}

int
ipc_get_u32(struct ipc_msg *m, uint32_t *v)
{
	if (ipc_left(m) < sizeof(*v)) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(v, ipc_cur(m), sizeof(*v));
	m->off += sizeof(*v);
	return 0;
}

int
ipc_get_u64(struct ipc_msg *m, uint64_t *v)
{
	if (ipc_left(m) < sizeof(*v)) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(v, ipc_cur(m), sizeof(*v));
	m->off += sizeof(*v);
	return 0;
}

int
ipc_get_str(struct ipc_msg *m, const char **s, size_t max)
{
	const uint8_t	*p;
	uint32_t	 l;
	size_t		 left = ipc_left(m);

	if (left < sizeof(l))
		goto bad;
	memcpy(&l, ipc_cur(m), sizeof(l));
	left -= sizeof(l);
	p = ipc_cur(m) + sizeof(l);
	/* length counts the NUL: at least 1, inside the payload */
	if (l < 1 || l > left)
		goto bad;
	/* SECURITY: exactly one NUL, the last byte; no embedded NUL */
	if (p[l - 1] != '\0' || memchr(p, '\0', l - 1) != NULL)
		goto bad;
	if (l - 1 > max)
		goto bad;
	*s = (const char *)p;
	m->off += sizeof(l) + l;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

int
ipc_get_data(struct ipc_msg *m, const void **d, size_t *len)
{
	uint32_t	l;
	size_t		left = ipc_left(m);

	if (left < sizeof(l))
		goto bad;
	memcpy(&l, ipc_cur(m), sizeof(l));
	if (l > left - sizeof(l))
		goto bad;
	*d = ipc_cur(m) + sizeof(l);
	*len = l;
	m->off += sizeof(l) + l;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

int
ipc_end(struct ipc_msg *m)
{
	if (m->off != m->hdr.len) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}
