/* SPDX-License-Identifier: ISC */
/*
 * control.c - the control service: accepts sealpostctl connections on the
 * root-only unix socket the master bound, reads one request line, asks the
 * master over IPC and writes the answer back as one line of JSON.
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "service.h"
#include "banned.h"

#define CTL_LINE_MAX	256
#define CTL_MAX_CLIENTS	16
#define CTL_TIMEOUT	10	/* seconds to send a request */

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	uint32_t		 id;
	int			 fd;
	struct event		*ev;
	char			 line[CTL_LINE_MAX + 1];
	size_t			 len;
	int			 waiting;	/* asked the master */
};
TAILQ_HEAD(ctl_client_list, ctl_client);

static struct ctl_client_list	 clients = TAILQ_HEAD_INITIALIZER(clients);
static unsigned int		 nclients;
static uint32_t			 next_id = 1;
static struct event_base	*ctl_base;
static struct event		*ev_accept;

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

static void
ctl_client_request(struct ctl_client *c)
{
	struct ipc_out	*out;
	uint32_t	 type;

	if (strcmp(c->line, "status") == 0)
		type = IMSG_CTL_STATUS;
	else if (strcmp(c->line, "reload") == 0)
		type = IMSG_CTL_RELOAD;
	else {
		ctl_client_json(c, 0, "unknown request (status, reload)");
		return;
	}
	out = ipc_out_new(type, c->id, -1);
	service_to_master(out);
	c->waiting = 1;
	event_del(c->ev);
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
	n = read(fd, c->line + c->len, CTL_LINE_MAX - c->len);
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
