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
#include <netinet/tcp.h>

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
	int		 cfd, on = 1;

	(void)ev;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on %s", conf_kind_name(l->conf.kind));
		return;
	}
	/*
	 * Replies and TLS records are written whole: without this, Nagle
	 * and the client's delayed ACK add 40 ms to a TLS handshake.
	 */
	(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	proc_spawn_session(l->master, l, cfd);
}

static int
listener_same(const struct sp_listener *a, const struct sp_listener *b)
{
	return a->kind == b->kind && a->port == b->port &&
	    strcmp(a->host, b->host) == 0;
}

static int
listener_bind(const struct sp_listener *c, char *err, size_t errlen)
{
	int	fd, on = 1;

	fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (c->addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&c->addr, c->addrlen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "line %d: listen %s %s port %u: %s", c->line,
	    conf_kind_name(c->kind), c->host, c->port, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static void
listener_close(struct listener *l)
{
	if (l->ev != NULL) {
		event_free(l->ev);
		l->ev = NULL;
	}
	if (l->fd != -1) {
		close(l->fd);
		l->fd = -1;
	}
}

int
listener_update(struct master *m, const struct sp_conf *conf, char *err,
    size_t errlen)
{
	struct listener_list	 fresh;
	struct listener		*l, *next;
	size_t			 i;
	int			 found;

	/* 1. bind what is new, without touching what runs */
	TAILQ_INIT(&fresh);
	for (i = 0; i < conf->nlisteners; i++) {
		found = 0;
		TAILQ_FOREACH(l, &m->listeners, entry)
			if (l->fd != -1 &&
			    listener_same(&l->conf, &conf->listeners[i]))
				found = 1;
		if (found)
			continue;
		l = xcalloc(1, sizeof(*l));
		l->master = m;
		l->conf = conf->listeners[i];
		if ((l->fd = listener_bind(&l->conf, err, errlen)) == -1) {
			free(l);
			while ((l = TAILQ_FIRST(&fresh)) != NULL) {
				TAILQ_REMOVE(&fresh, l, entry);
				listener_close(l);
				free(l);
			}
			return -1;
		}
		TAILQ_INSERT_TAIL(&fresh, l, entry);
	}
	/* 2. close what the new configuration no longer has */
	TAILQ_FOREACH(l, &m->listeners, entry) {
		if (l->fd == -1)
			continue;
		found = 0;
		for (i = 0; i < conf->nlisteners; i++)
			if (listener_same(&l->conf, &conf->listeners[i]))
				found = 1;
		if (!found) {
			log_info("closing listener kind=%s address=%s port=%u",
			    conf_kind_name(l->conf.kind), l->conf.host,
			    l->conf.port);
			listener_close(l);
		}
	}
	/* 3. start the new ones */
	for (l = TAILQ_FIRST(&fresh); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		TAILQ_REMOVE(&fresh, l, entry);
		l->ev = event_new(m->base, l->fd, EV_READ | EV_PERSIST,
		    listener_accept, l);
		if (l->ev == NULL)
			fatalx("event_new");
		if (!m->paused)
			event_add(l->ev, NULL);
		TAILQ_INSERT_TAIL(&m->listeners, l, entry);
		log_info("listening kind=%s address=%s port=%u tls=%s",
		    conf_kind_name(l->conf.kind), l->conf.host, l->conf.port,
		    conf_kind_implicit_tls(l->conf.kind) ? "implicit" : "none");
	}
	listener_gc(m);
	return 0;
}

void
listener_gc(struct master *m)
{
	struct listener	*l, *next;

	for (l = TAILQ_FIRST(&m->listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->fd == -1 && l->nsessions == 0) {
			TAILQ_REMOVE(&m->listeners, l, entry);
			free(l);
		}
	}
}

void
listener_enable(struct master *m, int on)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &m->listeners, entry) {
		if (l->ev == NULL)
			continue;
		if (on)
			event_add(l->ev, NULL);
		else
			event_del(l->ev);
	}
	m->paused = !on;
}

void
listener_close_all(struct master *m)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &m->listeners, entry)
		listener_close(l);
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
	struct listener	*l;
	json_t		*root, *arr;
	char		 tmp[PATH_MAX], path[PATH_MAX];
	int		 fd;

	if (listener_file_path(m, path, sizeof(path), "") == -1 ||
	    listener_file_path(m, tmp, sizeof(tmp), ".tmp") == -1)
		fatalx("run-dir path too long");
	arr = json_array();
	TAILQ_FOREACH(l, &m->listeners, entry) {
		if (l->fd == -1)
			continue;
		json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:b}",
		    "kind", conf_kind_name(l->conf.kind), "address",
		    l->conf.host, "port", (int)l->conf.port, "tls",
		    conf_kind_implicit_tls(l->conf.kind)));
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
