/* SPDX-License-Identifier: ISC */
/*
 * pickup.c - the local submission socket, RUN_DIR/pickup.sock (mode
 * 0666): how sealpost-sendmail (cron, scripts, PHP's mail()) hands a
 * message in.  The master accepts, asks the kernel who connected
 * (SO_PEERCRED), maps that uid to a sender address with the
 * configuration's local-sender lines and starts an smtp session for it
 * as an authenticated submission from that address; an unmapped user is
 * refused before any session starts.  From there the message takes the
 * path of every submission: filter, deliver, the outbound queue.
 *
 * Process:  master (root).
 * Trust:    the peer's uid comes from the kernel, not from the client;
 *           the client's bytes are read only by the session.
 * See also: smtp/smtp.c (pickup mode), sendmail/sendmail.c,
 *           docs/sealpost.conf.5 (local-sender).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "sealpostd.h"
#include "banned.h"

/* The address uid may send as, or NULL. */
static const char *
pickup_sender(const struct sp_conf *c, uid_t uid)
{
	struct passwd	*pw = getpwuid(uid);
	char		 num[24];
	size_t		 i;

	snprintf(num, sizeof(num), "%lu", (unsigned long)uid);
	for (i = 0; i < c->nsenders; i++)
		if (strcmp(c->senders[i].user, num) == 0 ||
		    (pw != NULL && strcmp(c->senders[i].user,
		    pw->pw_name) == 0))
			return c->senders[i].address;
	return NULL;
}

static void
pickup_accept(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;
	struct ucred	 cr;
	socklen_t	 len = sizeof(cr);
	const char	*addr;
	char		 o[2][300], msg[160], *extra[2];
	int		 cfd;

	(void)ev;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on pickup");
		return;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		log_warn("pickup: SO_PEERCRED");
		close(cfd);
		return;
	}
	if ((addr = pickup_sender(m->conf, cr.uid)) == NULL) {
		snprintf(msg, sizeof(msg), "554 5.7.1 uid %lu may not send "
		    "mail here (no local-sender line)\r\n",
		    (unsigned long)cr.uid);
		(void)!send(cfd, msg, strlen(msg), MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		close(cfd);
		log_info("master event=refused listener=pickup uid=%lu "
		    "reason=no-local-sender", (unsigned long)cr.uid);
		return;
	}
	snprintf(o[0], sizeof(o[0]), "pickup-uid=%lu", (unsigned long)cr.uid);
	snprintf(o[1], sizeof(o[1]), "pickup-from=%s", addr);
	extra[0] = o[0];
	extra[1] = o[1];
	proc_spawn_session_opts(m, m->pickup, cfd, extra, 2);
}

void
pickup_open(struct master *m)
{
	struct sockaddr_un	 sun;
	struct listener		*l;
	int			 fd, n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/pickup.sock",
	    m->conf->run_dir);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		fatalx("run-dir too long for the pickup socket");
	(void)unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0666) == -1 || listen(fd, 64) == -1)
		fatal("pickup socket %s", sun.sun_path);
	l = xcalloc(1, sizeof(*l));
	l->master = m;
	l->fd = fd;
	/* a submission, authenticated by the kernel instead of a password */
	l->conf.kind = SP_LISTEN_SUBMISSION;
	strlcpy(l->conf.host, "pickup", sizeof(l->conf.host));
	if ((l->ev = event_new(m->base, fd, EV_READ | EV_PERSIST,
	    pickup_accept, m)) == NULL || event_add(l->ev, NULL) == -1)
		fatalx("pickup: event");
	m->pickup = l;
}

void
pickup_close(struct master *m)
{
	char	path[PATH_MAX];

	if (m->pickup == NULL)
		return;
	event_del(m->pickup->ev);
	close(m->pickup->fd);
	m->pickup->fd = -1;
	snprintf(path, sizeof(path), "%s/pickup.sock", m->conf->run_dir);
	(void)unlink(path);
}
