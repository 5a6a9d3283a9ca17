/* SPDX-License-Identifier: ISC */
/*
 * control.c - the control service: accepts sealpostctl connections on the
 * root-only unix socket the master bound, reads one request line, asks the
 * master (status, reload) or auth and deliver (deliver: local injection of
 * a message, passed as a sealed memfd with the request) over IPC, and
 * writes the answer back as one line of JSON.
 *
 * Process:  control (user _sp_ctl, jailed, sandbox profile ROLE_CONTROL).
 *           It parses what sealpostctl sends so that the master never does.
 * Trust:    only root can connect (socket mode 0600), but requests are still
 *           bounded and checked: one line of at most CTL_LINE_MAX bytes,
 *           a known word, within CTL_TIMEOUT seconds.
 * Limits:   CTL_LINE_MAX, CTL_MAX_CLIENTS, CTL_TIMEOUT.
 * See also: sealpostd/ctl.c (the answers), sealpostctl/sealpostctl.c.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "memfd.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "ipc_deliver.h"
#include "service.h"
#include "banned.h"

#define CTL_LINE_MAX	256
#define CTL_MAX_CLIENTS	16
#define CTL_TIMEOUT	10	/* seconds to send a request */
#define CTL_MSG_MAX	((size_t)64 * 1024 * 1024)	/* deliver */

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	uint32_t		 id;
	int			 fd;
	int			 msgfd;		/* deliver: the message */
	size_t			 msglen;
	uint64_t		 account;
	unsigned char		 pk[32];
	char			 rcpt[CTL_LINE_MAX];
	struct event		*ev;
	char			 line[CTL_LINE_MAX + 1];
	size_t			 len;
	int			 waiting;	/* asked the master */
	int			 on_queue;	/* asked the queue */
	int			 on_pgp;	/* asked pgp */
};
TAILQ_HEAD(ctl_client_list, ctl_client);

static struct ctl_client_list	 clients = TAILQ_HEAD_INITIALIZER(clients);
static unsigned int		 nclients;
static uint32_t			 next_id = 1;
static struct event_base	*ctl_base;
static struct event		*ev_accept;
static struct ipc_chan		*svc_chan[SVC_MAX];	/* auth, deliver */

static void
ctl_client_free(struct ctl_client *c)
{
	char	junk[512];
	int	i;

	/*
	 * Read what the client sent beyond its request (bounded), so that
	 * closing with unread bytes does not reset the connection before it
	 * reads our answer.
	 */
	for (i = 0; i < 64 && read(c->fd, junk, sizeof(junk)) > 0; i++)
		;
	TAILQ_REMOVE(&clients, c, entry);
	event_free(c->ev);
	close(c->fd);
	if (c->msgfd != -1)
		close(c->msgfd);
	free(c);
	if (nclients-- == CTL_MAX_CLIENTS)
		event_add(ev_accept, NULL);
}

/* Write the whole answer (it fits the socket buffer; bounded wait). */
static void
ctl_client_answer(struct ctl_client *c, const char *text, size_t len)
{
	struct pollfd	pfd;
	ssize_t		n;

	while (len > 0) {
		n = write(c->fd, text, len);
		if (n > 0) {
			text += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			pfd.fd = c->fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 5000) == 1)
				continue;
		}
		break;
	}
	ctl_client_free(c);
}

static void
ctl_client_json(struct ctl_client *c, int ok, const char *message)
{
	json_t	*j = json_pack("{s:b,s:s}", "ok", ok, "message", message);
	char	*text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	char	*line;
	size_t	 len;

	json_decref(j);
	if (text == NULL) {
		ctl_client_free(c);
		return;
	}
	len = strlen(text);
	line = xmalloc(len + 1);
	memcpy(line, text, len);
	line[len] = '\n';
	ctl_client_answer(c, line, len + 1);
	free(line);
	free(text);
}

/* deliver ADDRESS: ask auth who it is; the rest follows the replies. */
static void
ctl_client_deliver(struct ctl_client *c, const char *addr)
{
	if (c->msgfd == -1 ||
	    memfd_check_sealed(c->msgfd, CTL_MSG_MAX, &c->msglen) == -1) {
		ctl_client_json(c, 0, "deliver needs the message as a sealed "
		    "memfd");
		return;
	}
	if (svc_chan[SVC_AUTH] == NULL || svc_chan[SVC_DELIVER] == NULL) {
		ctl_client_json(c, 0, "auth or deliver is restarting: try "
		    "again");
		return;
	}
	strlcpy(c->rcpt, addr, sizeof(c->rcpt));
	(void)ipc_chan_send(svc_chan[SVC_AUTH], ipc_auth_rcpt_req(c->id,
	    c->rcpt));
	c->waiting = 1;
	event_del(c->ev);
}

/*
 * "key pending", "key pending accept|reject ADDRESS", "key discovered",
 * "key forget ADDRESS": the pgp service owns what it learnt.
 */
static void
ctl_client_key(struct ctl_client *c, const char *req)
{
	static const struct {
		const char	*word;
		uint32_t	 op;
		int		 addr;
	} ops[] = {
		{ "pending accept ", PGP_CTL_ACCEPT, 1 },
		{ "pending reject ", PGP_CTL_REJECT, 1 },
		{ "pending", PGP_CTL_PENDING, 0 },
		{ "discovered", PGP_CTL_DISCOVERED, 0 },
		{ "forget ", PGP_CTL_FORGET, 1 },
	};
	struct ipc_out	*out;
	const char	*addr = "";
	size_t		 i, n;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i].word);
		if (ops[i].addr ? strncmp(req, ops[i].word, n) == 0 :
		    strcmp(req, ops[i].word) == 0)
			break;
	}
	if (i == sizeof(ops) / sizeof(ops[0])) {
		ctl_client_json(c, 0, "unknown key request (pending, pending "
		    "accept|reject ADDRESS, discovered, forget ADDRESS)");
		return;
	}
	if (ops[i].addr) {
		addr = req + n;
		if (addr[0] == '\0' || strlen(addr) > 254) {
			ctl_client_json(c, 0, "an address is needed");
			return;
		}
	}
	if (svc_chan[SVC_PGP] == NULL) {
		ctl_client_json(c, 0, "the pgp service is restarting: try "
		    "again");
		return;
	}
	out = ipc_out_new(IMSG_PGP_CTL, c->id, -1);
	ipc_add_u32(out, ops[i].op);
	ipc_add_str(out, addr);
	(void)ipc_chan_send(svc_chan[SVC_PGP], out);
	c->waiting = 1;
	c->on_pgp = 1;
	event_del(c->ev);
}

/* "queue flush|hold|release|delete [ID]": the queue service decides. */
static void
ctl_client_queue(struct ctl_client *c, const char *req)
{
	static const char *const ops[] = { "flush", "hold", "release",
	    "delete" };
	struct ipc_out	*out;
	const char	*id = "";
	size_t		 i, n;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i]);
		if (strncmp(req, ops[i], n) == 0 &&
		    (req[n] == '\0' || req[n] == ' '))
			break;
	}
	if (i == sizeof(ops) / sizeof(ops[0])) {
		ctl_client_json(c, 0, "unknown queue request (flush, hold, "
		    "release, delete)");
		return;
	}
	if (req[n] == ' ')
		id = req + n + 1;
	if ((id[0] == '\0' && i != QUEUE_CTL_FLUSH) || strlen(id) > 32 ||
	    strspn(id, "0123456789abcdef") != strlen(id)) {
		ctl_client_json(c, 0, "a queue id is 32 hexadecimal digits");
		return;
	}
	if (svc_chan[SVC_QUEUE] == NULL) {
		ctl_client_json(c, 0, "the queue is restarting: try again");
		return;
	}
	out = ipc_out_new(IMSG_QUEUE_CTL, c->id, -1);
	ipc_add_u32(out, (uint32_t)i);
	ipc_add_str(out, id);
	(void)ipc_chan_send(svc_chan[SVC_QUEUE], out);
	c->waiting = 1;
	c->on_queue = 1;
	event_del(c->ev);
}

static void
ctl_client_request(struct ctl_client *c)
{
	struct ipc_out	*out;
	uint32_t	 type;

	if (strncmp(c->line, "deliver ", 8) == 0) {
		ctl_client_deliver(c, c->line + 8);
		return;
	}
	if (strncmp(c->line, "queue ", 6) == 0) {
		ctl_client_queue(c, c->line + 6);
		return;
	}
	if (strncmp(c->line, "key ", 4) == 0) {
		ctl_client_key(c, c->line + 4);
		return;
	}
	if (strcmp(c->line, "status") == 0)
		type = IMSG_CTL_STATUS;
	else if (strcmp(c->line, "reload") == 0)
		type = IMSG_CTL_RELOAD;
	else {
		ctl_client_json(c, 0, "unknown request (status, reload, "
		    "deliver, queue, key)");
		return;
	}
	out = ipc_out_new(type, c->id, -1);
	service_to_master(out);
	c->waiting = 1;
	event_del(c->ev);
}

/* Read request bytes; one fd may come with them (deliver's message). */
static ssize_t
ctl_recv(struct ctl_client *c, int fd)
{
	char		 cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 xfd;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = c->line + c->len;
	iov.iov_len = CTL_LINE_MAX - c->len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if ((n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) <= 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&xfd, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
			/* SECURITY: one fd per request; the rest are closed */
			if (c->msgfd == -1)
				c->msgfd = xfd;
			else
				close(xfd);
		}
	}
	return n;
}

static void
ctl_client_read(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client	*c = arg;
	char			*nl;
	ssize_t			 n;

	if (ev & EV_TIMEOUT) {
		ctl_client_json(c, 0, "timeout");
		return;
	}
	n = ctl_recv(c, fd);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_client_free(c);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = '\0';
	if (memchr(c->line, '\0', c->len) != NULL) {
		ctl_client_json(c, 0, "NUL byte in request");
		return;
	}
	if ((nl = strchr(c->line, '\n')) == NULL) {
		if (c->len == CTL_LINE_MAX)
			ctl_client_json(c, 0, "request too long");
		return;
	}
	*nl = '\0';
	if (nl > c->line && nl[-1] == '\r')
		nl[-1] = '\0';
	ctl_client_request(c);
}

static void
ctl_accept(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client	*c;
	struct timeval		 tv = { CTL_TIMEOUT, 0 };
	int			 cfd;

	(void)ev;
	(void)arg;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = cfd;
	c->msgfd = -1;
	c->id = next_id++;
	if (next_id == 0)
		next_id = 1;
	c->ev = event_new(ctl_base, cfd, EV_READ | EV_PERSIST,
	    ctl_client_read, c);
	if (c->ev == NULL)
		fatalx("control: event_new");
	event_add(c->ev, &tv);
	TAILQ_INSERT_TAIL(&clients, c, entry);
	if (++nclients == CTL_MAX_CLIENTS)
		event_del(ev_accept);
}

static struct ctl_client *
ctl_find(uint32_t id)
{
	struct ctl_client	*c;

	TAILQ_FOREACH(c, &clients, entry)
		if (c->id == id && c->waiting)
			return c;
	return NULL;
}

static void ctl_svc_dispatch(struct ipc_chan *, struct ipc_msg *, void *);

/* A delivery that failed after its quota was reserved gives it back. */
static void
ctl_client_quota_back(struct ctl_client *c)
{
	if (svc_chan[SVC_AUTH] == NULL)
		return;
	(void)ipc_chan_send(svc_chan[SVC_AUTH], ipc_auth_quota_req(0,
	    c->account, c->msglen, 1));
}
static void ctl_svc_closed(struct ipc_chan *, int, void *);

/* Answers from the master, routed back to the client by request id. */
static int
ctl_master_msg(struct ipc_msg *msg)
{
	struct ctl_client	*c;
	const void		*data;
	const char		*text;
	uint32_t		 ok;
	size_t			 len;
	char			*copy;

	switch (msg->hdr.type) {
	case IMSG_MASTER_CHANNEL: {
		uint32_t	svc;

		if (msg->fd == -1 || ipc_get_u32(msg, &svc) == -1 ||
		    ipc_end(msg) == -1 ||
		    (svc != SVC_AUTH && svc != SVC_DELIVER &&
		    svc != SVC_QUEUE && svc != SVC_PGP))
			return -1;
		if (svc_chan[svc] != NULL)
			ipc_chan_free(svc_chan[svc]);
		svc_chan[svc] = ipc_chan_new(ctl_base, msg->fd,
		    IPC_PEER_SERVICE, ctl_svc_dispatch, ctl_svc_closed,
		    (void *)(uintptr_t)svc);
		msg->fd = -1;
		return 0;
	}
	case IMSG_CTL_STATUS:
		if (ipc_get_data(msg, &data, &len) == -1 ||
		    ipc_end(msg) == -1)
			return -1;
		if ((c = ctl_find(msg->hdr.id)) == NULL)
			return 0;	/* the client went away */
		copy = xmalloc(len + 1);
		memcpy(copy, data, len);
		copy[len] = '\n';
		ctl_client_answer(c, copy, len + 1);
		free(copy);
		return 0;
	case IMSG_CTL_RELOAD:
		if (ipc_get_u32(msg, &ok) == -1 ||
		    ipc_get_str(msg, &text, 1024) == -1 || ipc_end(msg) == -1)
			return -1;
		if ((c = ctl_find(msg->hdr.id)) != NULL)
			ctl_client_json(c, ok != 0, text);
		return 0;
	}
	return -1;
}

/*
 * Replies from auth and deliver for a deliver request: rcpt -> quota ->
 * deliver (-> quota back on failure) -> the answer.
 */
static void
ctl_svc_dispatch(struct ipc_chan *chan, struct ipc_msg *msg, void *arg)
{
	struct ctl_client	*c = ctl_find(msg->hdr.id);
	struct ipc_out		*out;
	struct ipc_rcpt_info	 ri;
	const char		*text, *name;
	uint32_t		 ok, result;
	char			 answer[256];

	(void)arg;
	ipc_msg_clear(msg);
	switch (msg->hdr.type) {
	case IMSG_QUEUE_CTL:
		if (ipc_get_u32(msg, &ok) == -1 ||
		    ipc_get_str(msg, &text, 256) == -1 || ipc_end(msg) == -1)
			fatalx("control: malformed reply from the queue");
		if (c != NULL)
			ctl_client_json(c, ok != 0, text);
		return;
	case IMSG_PGP_CTL:
		if (ipc_get_u32(msg, &ok) == -1 ||
		    ipc_get_str(msg, &text, IPC_MAX_PAYLOAD) == -1 ||
		    ipc_end(msg) == -1)
			fatalx("control: malformed reply from pgp");
		if (c != NULL)
			ctl_client_json(c, ok != 0, text);
		return;
	case IMSG_AUTH_RCPT:
		if (ipc_auth_rcpt_reply(msg, &ri) == -1)
			fatalx("control: malformed reply from auth");
		if (c == NULL)
			return;
		if (!ri.found) {
			ctl_client_json(c, 0, "no such local recipient");
			return;
		}
		c->account = ri.account;
		memcpy(c->pk, ri.pk, sizeof(c->pk));
		(void)ipc_chan_send(chan, ipc_auth_quota_req(c->id, c->account,
		    c->msglen, 0));
		return;
	case IMSG_AUTH_QUOTA:
		if (ipc_auth_quota_reply(msg, &ok) == -1)
			fatalx("control: malformed reply from auth");
		if (c == NULL)
			return;
		if (!ok) {
			ctl_client_json(c, 0, "over quota");
			return;
		}
		if (svc_chan[SVC_DELIVER] == NULL) {
			ctl_client_quota_back(c);
			ctl_client_json(c, 0, "deliver is restarting: try again");
			return;
		}
		/* the message fd goes with the request (closed once sent) */
		out = ipc_deliver_req(c->id, c->msgfd, c->account, c->pk,
		    "INBOX", "", c->rcpt);
		c->msgfd = -1;
		(void)ipc_chan_send(svc_chan[SVC_DELIVER], out);
		return;
	case IMSG_DELIVER_MSG:
		if (ipc_deliver_reply(msg, &result, &text, &name) == -1)
			fatalx("control: malformed reply from deliver");
		if (c == NULL)
			return;
		if (result != DELIVER_OK) {
			ctl_client_quota_back(c);
			snprintf(answer, sizeof(answer), "not delivered: %s",
			    text);
			ctl_client_json(c, 0, answer);
			return;
		}
		snprintf(answer, sizeof(answer), "delivered to account %llu "
		    "as %s", (unsigned long long)c->account, name);
		ctl_client_json(c, 1, answer);
		return;
	}
	fatalx("control: unexpected message type %u from a service",
	    msg->hdr.type);
}

static void
ctl_svc_closed(struct ipc_chan *chan, int reason, void *arg)
{
	uintptr_t	svc = (uintptr_t)arg;

	struct ctl_client	*c, *next;

	(void)chan;
	if (reason == IPC_CLOSED_MALFORMED)
		fatalx("control: malformed frame from a service");
	svc_chan[svc] = NULL;	/* restarting: the master links it again */
	/* whoever waited on it gets an answer, not a timeout */
	for (c = TAILQ_FIRST(&clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->waiting || (svc == SVC_QUEUE ? !c->on_queue :
		    svc == SVC_PGP ? !c->on_pgp : c->rcpt[0] == '\0'))
			continue;
		if (svc == SVC_QUEUE || svc == SVC_PGP) {
			ctl_client_json(c, 0, svc == SVC_QUEUE ? "the queue "
			    "restarted: try again" : "the pgp service "
			    "restarted: try again");
			continue;
		}
		if (svc == SVC_DELIVER)
			ctl_client_quota_back(c);
		ctl_client_json(c, 0, svc == SVC_DELIVER ? "deliver is "
		    "restarting: try again" : "auth is restarting: try again");
	}
}

static void
ctl_init(struct event_base *b)
{
	ctl_base = b;
	ev_accept = event_new(b, SP_FD_CTLSOCK, EV_READ | EV_PERSIST,
	    ctl_accept, NULL);
	if (ev_accept == NULL || event_add(ev_accept, NULL) == -1)
		fatalx("control: no listening socket");
}

static const struct service_ops control_ops = {
	.name = "control",
	.role = ROLE_CONTROL,
	.init = ctl_init,
	.master_msg = ctl_master_msg,
};

int
main(int argc, char **argv)
{
	/* jansson seeds its hash function from /dev/urandom: before the jail */
	json_object_seed(0);
	service_main(argc, argv, &control_ops);
}
