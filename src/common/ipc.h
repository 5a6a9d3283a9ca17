/* SPDX-License-Identifier: ISC */
/*
 * ipc.h - framed messages between sealpost processes.
 *
 * A message is one SOCK_SEQPACKET datagram: a 16-byte header
 * {u32 type; u32 len; u32 id; u32 flags} in host byte order, then len
 * payload bytes (len <= IPC_MAX_PAYLOAD), optionally with one fd
 * (SCM_RIGHTS).  Payload fields are written and read only through the
 * typed helpers below; a reader that meets a short, overlong or malformed
 * field gets -1 and treats the whole message as malformed (STYLE.md 4).
 *
 * Message types: ipc_types.h.
 */
#ifndef SP_IPC_H
#define SP_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#define IPC_HDR_SIZE		16
#define IPC_MAX_PAYLOAD		(64 * 1024)
#define IPC_MAX_STR		4096	/* default bound for ipc_get_str */

struct ipc_hdr {
	uint32_t	type;
	uint32_t	len;		/* payload bytes after the header */
	uint32_t	id;		/* request id; a reply carries the request's */
	uint32_t	flags;
};

/* A message being built.  Owned by the caller until ipc_send/ipc_queue. */
struct ipc_out {
	TAILQ_ENTRY(ipc_out)	 entry;
	struct ipc_hdr		 hdr;
	uint8_t			*buf;		/* header + payload */
	size_t			 len;		/* IPC_HDR_SIZE + payload so far */
	size_t			 cap;
	int			 fd;		/* to pass, or -1; closed after send */
	int			 overflow;	/* an add went past the limit */
};

/* A message received.  The payload is read front to back by ipc_get_*. */
struct ipc_msg {
	struct ipc_hdr	 hdr;
	uint8_t		 buf[IPC_HDR_SIZE + IPC_MAX_PAYLOAD];
	size_t		 off;		/* read cursor into the payload */
	int		 fd;		/* received fd or -1; the reader owns it */
};

/*
 * Building.  ipc_out_new never fails (xmalloc).  fd (or -1) goes with the
 * message and is closed by the sender once sent or on free.  An add that
 * would pass IPC_MAX_PAYLOAD returns -1 and marks the message, which
 * ipc_send/ipc_queue then refuse: a message is never cut.
 */
struct ipc_out	*ipc_out_new(uint32_t type, uint32_t id, int fd);
int		 ipc_add_u32(struct ipc_out *, uint32_t);
int		 ipc_add_u64(struct ipc_out *, uint64_t);
/* A string: u32 length (with the NUL), its bytes and the NUL. */
int		 ipc_add_str(struct ipc_out *, const char *);
/* Bytes: u32 length, then the bytes. */
int		 ipc_add_data(struct ipc_out *, const void *, size_t);
void		 ipc_out_free(struct ipc_out *);

/*
 * Decoding a datagram held in memory: checks the header against the
 * datagram length (len == n - IPC_HDR_SIZE, len <= IPC_MAX_PAYLOAD) and
 * copies it into m.  -1 when malformed.  Pure: the fuzz target calls it.
 */
int		 ipc_msg_decode(struct ipc_msg *m, const void *buf, size_t n);

/*
 * Typed getters: each reads the next field.  -1 on any short field, a
 * string without its NUL or with a NUL inside, or one longer than max
 * (ipc_get_str).  Pointers returned point into m and live as long as m.
 * ipc_end is -1 when bytes are left over (trailing garbage is malformed).
 */
int		 ipc_get_u32(struct ipc_msg *, uint32_t *);
int		 ipc_get_u64(struct ipc_msg *, uint64_t *);
int		 ipc_get_str(struct ipc_msg *, const char **, size_t max);
int		 ipc_get_data(struct ipc_msg *, const void **, size_t *);
int		 ipc_end(struct ipc_msg *);

/*
 * Blocking transport, for sessions (one client, one request at a time).
 * ipc_send: 0 sent (the message is freed), -1 error (freed too).
 * ipc_recv: 1 a message, 0 the peer closed, -1 error (errno) or, with
 * errno EBADMSG, a malformed datagram (truncated, bad header, more than
 * one fd, control data cut); any fd received with it is closed.
 * timeout_ms < 0 waits forever; on timeout -1 with errno ETIMEDOUT.
 */
int		 ipc_send(int sock, struct ipc_out *);
int		 ipc_recv(int sock, struct ipc_msg *, int timeout_ms);

/* Close m->fd if set (a reader that does not take the fd). */
void		 ipc_msg_clear(struct ipc_msg *);

/*
 * Non-blocking building blocks (ipc_send, ipc_recv and ipc_chan.c use them).
 * ipc_out_write: one sendmsg of o (EINTR retried); o is NOT freed.  0 sent
 * (o->fd is closed and set to -1: the receiver has its own copy), -1 with
 * errno: EAGAIN (socket full: try again later), EMSGSIZE (o overflowed),
 * or the sendmsg error.
 * ipc_msg_read: one recvmsg into m (EINTR retried), checked as ipc_recv
 * does.  1 a message (m->fd is its fd or -1, the caller owns it), 0 the
 * peer closed, -1 with errno: EAGAIN (nothing yet), EBADMSG (malformed;
 * every fd that came with it is closed) or the recvmsg error.
 */
int		 ipc_out_write(int sock, struct ipc_out *);
int		 ipc_msg_read(int sock, struct ipc_msg *);
/*
 * The datagram o is sent as: the header (len filled in) and the payload,
 * *len_r bytes in all.  Points into o, valid until the next add or free.
 * NULL (EMSGSIZE) when o overflowed.  Pure: for tests and the fuzz target.
 */
const void	*ipc_out_bytes(struct ipc_out *, size_t *len_r);

/* ipc_chan.c */
/*
 * A channel: one peer's socket served by a libevent loop, so that a
 * service or the master talks to many peers at once.  Only ipc_chan.c
 * includes libevent: session programs that link ipc.c do not need it.
 * Not thread-safe; one event loop per process (the receive buffer is
 * shared by all channels: m is valid only while dispatch runs).
 */
struct event_base;
struct ipc_chan;

/* Trust of the other side (STYLE.md 4): what a malformed message means. */
enum ipc_peer_kind {
	IPC_PEER_SESSION,	/* parses network input: drop it */
	IPC_PEER_SERVICE	/* one of ours: a bug, the closed() cb fatalx */
};

/* Why closed() was called. */
#define IPC_CLOSED_EOF		1	/* the peer closed (or reset) its end */
#define IPC_CLOSED_ERROR	2	/* a socket error, or queue full */
#define IPC_CLOSED_MALFORMED	3	/* bad datagram, or ipc_chan_drop */

#define IPC_CHAN_MAX_QUEUE	256	/* messages waiting to be written */

/*
 * Serve fd (a connected SOCK_SEQPACKET socket, made non-blocking here) on
 * base.  dispatch is called for every well-formed message; it owns m->fd
 * and must not keep m.  closed is called once (from the event loop, never
 * from inside dispatch or ipc_chan_send) when the peer closes, errs or
 * sends something malformed; after it returns the channel is freed and
 * fd closed.  Either callback may call ipc_chan_free or ipc_chan_drop on
 * any channel, including its own.  closed may be NULL.
 * Returns the channel, which owns fd from then on; never NULL (a bad fd
 * is our bug: fatal).  Free every channel before its event_base.
 */
struct ipc_chan	*ipc_chan_new(struct event_base *, int fd, enum ipc_peer_kind,
		    void (*dispatch)(struct ipc_chan *, struct ipc_msg *,
		    void *),
		    void (*closed)(struct ipc_chan *, int reason, void *),
		    void *arg);
/*
 * Queue o (the channel owns it from now on, in every case); it is written
 * when the socket is writable, never blocking.  -1 when o overflowed
 * (EMSGSIZE), when the channel is closing (EPIPE), or when the queue
 * already holds IPC_CHAN_MAX_QUEUE messages (ENOBUFS: the channel is then
 * closed with IPC_CLOSED_ERROR, a peer that does not read is gone).
 */
int		 ipc_chan_send(struct ipc_chan *, struct ipc_out *);
/* New handlers and argument for the channel's next messages. */
void		 ipc_chan_rebind(struct ipc_chan *,
		    void (*dispatch)(struct ipc_chan *, struct ipc_msg *,
		    void *),
		    void (*closed)(struct ipc_chan *, int reason, void *),
		    void *arg);
/*
 * Drop the peer: for a well-framed message that makes no sense from it
 * (wrong type for this peer, bad fields).  closed(IPC_CLOSED_MALFORMED)
 * is called later from the event loop, not re-entrantly; no more
 * messages are dispatched.
 */
void		 ipc_chan_drop(struct ipc_chan *);
int		 ipc_chan_fd(const struct ipc_chan *);
enum ipc_peer_kind ipc_chan_kind(const struct ipc_chan *);
/* Close and free without calling closed(); safe inside the callbacks. */
void		 ipc_chan_free(struct ipc_chan *);

#endif
