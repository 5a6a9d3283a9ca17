/* SPDX-License-Identifier: ISC */
/*
 * listener.c - bind the configured listeners, accept connections and
 * publish the bound ports in RUN_DIR/listeners.json.
 *
 * Process:  master (root).  It accepts and hands the socket to a fresh
 *           session process; it never reads a byte from a client.
 * Trust:    none needed: only addresses from the configuration.
 * Limits:   max-sessions (listeners stop accepting while it is reached;
 *           the kernel backlog holds new clients meanwhile).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "xmalloc.h"
#include "sealpostd.h"
#include "banned.h"

#define LISTEN_BACKLOG	128

static void
listener_accept(evutil_socket_t fd, short ev, void *arg)
{
	struct listener	*l = arg;
	int		 cfd;

	(void)ev;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on %s", conf_kind_name(l->conf->kind));
		return;
	}
	proc_spawn_session(l->master, l, cfd);
}

void
listener_bind_all(struct master *m)
{
	size_t	i;
	int	fd, on = 1;

	m->nlisteners = m->conf->nlisteners;
	m->listeners = xcalloc(m->nlisteners, sizeof(*m->listeners));
	for (i = 0; i < m->nlisteners; i++) {
		struct listener		 *l = &m->listeners[i];
		const struct sp_listener *c = &m->conf->listeners[i];

		l->conf = c;
		l->master = m;
		fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			fatal("socket for %s", conf_kind_name(c->kind));
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1)
			fatal("SO_REUSEADDR");
		if (c->addr.ss_family == AF_INET6 && setsockopt(fd,
		    IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
			fatal("IPV6_V6ONLY");
		if (bind(fd, (const struct sockaddr *)&c->addr,
		    c->addrlen) == -1)
			fatal("%s: line %d: listen %s %s port %u",
			    m->conf->path, c->line, conf_kind_name(c->kind),
			    c->host, c->port);
		if (listen(fd, LISTEN_BACKLOG) == -1)
			fatal("listen");
		l->fd = fd;
		l->ev = event_new(m->base, fd, EV_READ | EV_PERSIST,
		    listener_accept, l);
		if (l->ev == NULL)
			fatalx("event_new");
		log_info("listening kind=%s address=%s port=%u tls=%s",
		    conf_kind_name(c->kind), c->host, c->port,
		    conf_kind_implicit_tls(c->kind) ? "implicit" : "none");
	}
	listener_enable(m, 1);
}

void
listener_enable(struct master *m, int on)
{
	size_t	i;

	for (i = 0; i < m->nlisteners; i++) {
		if (m->listeners[i].ev == NULL)
			continue;
		if (on)
			event_add(m->listeners[i].ev, NULL);
		else
			event_del(m->listeners[i].ev);
	}
	m->paused = !on;
}

void
listener_close_all(struct master *m)
{
	size_t	i;

	for (i = 0; i < m->nlisteners; i++) {
		if (m->listeners[i].ev != NULL) {
			event_free(m->listeners[i].ev);
			m->listeners[i].ev = NULL;
		}
		if (m->listeners[i].fd != -1) {
			close(m->listeners[i].fd);
			m->listeners[i].fd = -1;
		}
	}
}

static int
listener_file_path(struct master *m, char *path, size_t len, const char *sfx)
{
	int	n = snprintf(path, len, "%s/listeners.json%s",
		    m->conf->run_dir, sfx);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void
listener_write_file(struct master *m)
{
	json_t	*root, *arr;
	char	 tmp[PATH_MAX], path[PATH_MAX];
	size_t	 i;
	int	 fd;

	if (listener_file_path(m, path, sizeof(path), "") == -1 ||
	    listener_file_path(m, tmp, sizeof(tmp), ".tmp") == -1)
		fatalx("run-dir path too long");
	arr = json_array();
	for (i = 0; i < m->nlisteners; i++) {
		const struct sp_listener *c = m->listeners[i].conf;

		json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:b}",
		    "kind", conf_kind_name(c->kind), "address", c->host,
		    "port", (int)c->port, "tls",
		    conf_kind_implicit_tls(c->kind)));
	}
	root = json_pack("{s:i,s:s,s:o}", "pid", (int)getpid(),
	    "hostname", m->conf->hostname, "listeners", arr);
	if (root == NULL)
		fatalx("json_pack");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		fatal("%s", tmp);
	if (json_dumpfd(root, fd, JSON_INDENT(2) | JSON_SORT_KEYS) == -1 ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1 || close(fd) == -1)
		fatal("write %s", tmp);
	if (rename(tmp, path) == -1)
		fatal("rename %s", path);
	json_decref(root);
}

void
listener_remove_file(struct master *m)
{
	char	path[PATH_MAX];

	if (listener_file_path(m, path, sizeof(path), "") == 0)
		(void)unlink(path);
}
