/* SPDX-License-Identifier: ISC */
/*
 * ipc_chan.c - IPC channels on a libevent loop: one per peer socket, so
 * that the master and each service serve many peers from one loop.
 *
 * Process:  master and services (sessions use the blocking ipc_send and
 *           ipc_recv of ipc.c and do not link libevent).
 * Trust:    every datagram goes through ipc_msg_read (header, length, at
 *           most one fd; a malformed one is closed with its fds) before
 *           dispatch sees it; the dispatch function checks the type and
 *           the fields for the kind of peer (STYLE.md 4).  A session peer
 *           that floods us gets IPC_CHAN_MAX_BATCH messages per wake-up
 *           and, if it stops reading, IPC_CHAN_MAX_QUEUE replies, then it
 *           is closed.
 * Limits:   IPC_CHAN_MAX_QUEUE queued messages per channel,
 *           IPC_CHAN_MAX_BATCH messages read per wake-up.
 * See also: ipc.c (framing), ipc_types.h (the messages).
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc.h"
#include "banned.h"

#define IPC_CHAN_MAX_BATCH	64	/* fairness between peers */

struct ipc_chan {
	struct event_base	*base;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_close;	/* closed() from the loop */
	int			 fd;
	enum ipc_peer_kind	 kind;
	void			(*dispatch)(struct ipc_chan *,
				    struct ipc_msg *, void *);
	void			(*closed)(struct ipc_chan *, int, void *);
	void			*arg;
	TAILQ_HEAD(, ipc_out)	 queue;
	size_t			 nqueued;
	int			 closing;	/* IPC_CLOSED_*, once closing */
	int			 busy;		/* inside dispatch or closed */
	int			 dead;		/* freed while busy */
};

/*
 * One receive buffer for every channel (64 KiB each would add up in a
 * service with many sessions): dispatch runs to completion before the
 * next read, and m is documented to be valid only while it runs.
 */
static struct ipc_msg	ipc_chan_rx;
static int		ipc_chan_rx_busy;

static void	ipc_chan_read_cb(evutil_socket_t, short, void *);
static void	ipc_chan_write_cb(evutil_socket_t, short, void *);
static void	ipc_chan_close_cb(evutil_socket_t, short, void *);

struct ipc_chan *
ipc_chan_new(struct event_base *base, int fd, enum ipc_peer_kind kind,
    void (*dispatch)(struct ipc_chan *, struct ipc_msg *, void *),
    void (*closed)(struct ipc_chan *, int, void *), void *arg)
{
	struct ipc_chan	*c;
	int		 fl;

	SP_ASSERT(base != NULL && dispatch != NULL);
	/* fails only on a bad fd: our bug, not the peer's doing */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		fatal("ipc_chan_new: fd %d", fd);
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->fd = fd;
	c->kind = kind;
	c->dispatch = dispatch;
	c->closed = closed;
	c->arg = arg;
	TAILQ_INIT(&c->queue);
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST,
	    ipc_chan_read_cb, c);
	c->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST,
	    ipc_chan_write_cb, c);
	c->ev_close = event_new(base, -1, 0, ipc_chan_close_cb, c);
	if (c->ev_read == NULL || c->ev_write == NULL || c->ev_close == NULL)
		fatalx("ipc_chan_new: event_new");
	if (event_add(c->ev_read, NULL) == -1)
		fatalx("ipc_chan_new: event_add");
	return c;
}

/* Free everything now: events, queued messages (and their fds), the fd. */
static void
ipc_chan_destroy(struct ipc_chan *c)
{
	struct ipc_out	*o;

	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_close);
	while ((o = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, o, entry);
		ipc_out_free(o);
	}
	close(c->fd);
	free(c);
}

/*
 * Stop reading and writing and have closed() called from the loop.  Only
 * the first reason counts: closed() is called once.
 */
static void
ipc_chan_close(struct ipc_chan *c, int reason)
{
	if (c->closing || c->dead)
		return;
	c->closing = reason;
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_active(c->ev_close, EV_TIMEOUT, 0);
}

static void
ipc_chan_close_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_chan	*c = arg;

	(void)fd;
	(void)ev;
	if (c->closed != NULL) {
		c->busy++;
		c->closed(c, c->closing, c->arg);
		c->busy--;
	}
	/* freed here whether or not closed() called ipc_chan_free */
	ipc_chan_destroy(c);
}

static void
ipc_chan_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_chan	*c = arg;
	struct ipc_msg	*m = &ipc_chan_rx;
	int		 i, r;

	(void)fd;
	(void)ev;
	/* a bounded batch: level-triggered, so the rest comes next turn */
	for (i = 0; i < IPC_CHAN_MAX_BATCH; i++) {
		if (c->closing)
			return;
		/* our bug: an event loop run from inside dispatch */
		SP_ASSERT(!ipc_chan_rx_busy);
		r = ipc_msg_read(c->fd, m);
		if (r == 0) {
			ipc_chan_close(c, IPC_CLOSED_EOF);
			return;
		}
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EBADMSG) {
				/* SECURITY: its fds are closed already */
				log_debug("ipc: %s peer on fd %d sent a "
				    "malformed message",
				    c->kind == IPC_PEER_SESSION ? "session" :
				    "service", c->fd);
				ipc_chan_close(c, IPC_CLOSED_MALFORMED);
			} else if (errno == ECONNRESET) {
				/* closed with our messages unread: gone */
				ipc_chan_close(c, IPC_CLOSED_EOF);
			} else {
				log_debug("ipc: recvmsg fd %d: %s", c->fd,
				    strerror(errno));
				ipc_chan_close(c, IPC_CLOSED_ERROR);
			}
			return;
		}
		ipc_chan_rx_busy = 1;
		c->busy++;
		c->dispatch(c, m, c->arg);	/* owns m->fd */
		c->busy--;
		ipc_chan_rx_busy = 0;
		if (c->dead) {
			ipc_chan_destroy(c);
			return;
		}
	}
}

static void
ipc_chan_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_chan	*c = arg;
	struct ipc_out	*o;

	(void)fd;
	(void)ev;
	while ((o = TAILQ_FIRST(&c->queue)) != NULL) {
		if (ipc_out_write(c->fd, o) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;		/* still full: wait again */
			log_debug("ipc: sendmsg fd %d: %s", c->fd,
			    strerror(errno));
			/* a peer that went away while we had something */
			ipc_chan_close(c, errno == EPIPE ||
			    errno == ECONNRESET ? IPC_CLOSED_EOF :
			    IPC_CLOSED_ERROR);
			return;
		}
		TAILQ_REMOVE(&c->queue, o, entry);
		c->nqueued--;
		ipc_out_free(o);
	}
	event_del(c->ev_write);
}

void
ipc_chan_rebind(struct ipc_chan *c,
    void (*dispatch)(struct ipc_chan *, struct ipc_msg *, void *),
    void (*closed)(struct ipc_chan *, int, void *), void *arg)
{
	c->dispatch = dispatch;
	c->closed = closed;
	c->arg = arg;
}

int
ipc_chan_send(struct ipc_chan *c, struct ipc_out *o)
{
	if (c->closing || c->dead) {
		ipc_out_free(o);
		errno = EPIPE;
		return -1;
	}
	if (o->overflow) {
		ipc_out_free(o);
		errno = EMSGSIZE;
		return -1;
	}
	if (c->nqueued >= IPC_CHAN_MAX_QUEUE) {
		/* SECURITY: a peer that does not read cannot grow our memory */
		ipc_out_free(o);
		log_debug("ipc: fd %d: send queue full", c->fd);
		ipc_chan_close(c, IPC_CLOSED_ERROR);
		errno = ENOBUFS;
		return -1;
	}
	TAILQ_INSERT_TAIL(&c->queue, o, entry);
	c->nqueued++;
	if (event_add(c->ev_write, NULL) == -1)
		fatalx("ipc_chan_send: event_add");
	return 0;
}

void
ipc_chan_drop(struct ipc_chan *c)
{
	ipc_chan_close(c, IPC_CLOSED_MALFORMED);
}

int
ipc_chan_fd(const struct ipc_chan *c)
{
	return c->fd;
}

enum ipc_peer_kind
ipc_chan_kind(const struct ipc_chan *c)
{
	return c->kind;
}

void
ipc_chan_free(struct ipc_chan *c)
{
	if (c == NULL)
		return;
	if (c->busy) {
		/* inside one of its callbacks: freed when that returns */
		c->dead = 1;
		event_del(c->ev_read);
		event_del(c->ev_write);
		return;
	}
	ipc_chan_destroy(c);
}
