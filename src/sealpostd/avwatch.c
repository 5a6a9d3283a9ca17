/* SPDX-License-Identifier: ISC */
/*
 * avwatch.c - the master watches the antivirus database folder
 * (clamav-database) and, a moment after the last change (freshclam
 * writes a temporary file and renames it over the old database), starts
 * a fresh filter process with the new databases: new sessions use it,
 * the sessions in flight finish with the old one (service_renew), and no
 * mail is refused meanwhile.
 *
 * Process:  sealpostd (root).
 * Trust:    the folder is the administrator's (or freshclam's); only the
 *           fact that it changed is used here, the filter reads it.
 * Limits:   AVWATCH_SETTLE_MS between the last change and the renewal.
 */
#include "config.h"

#include <sys/inotify.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sealpostd.h"
#include "banned.h"

#define AVWATCH_SETTLE_MS	2000

static int		 av_fd = -1;
static struct event	*av_ev, *av_timer;
static char		*av_dir;

static void
avwatch_settled(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;

	(void)fd;
	(void)ev;
	log_info("antivirus databases changed in %s: renewing the filter",
	    av_dir);
	service_renew(m, SVC_FILTER);
}

static void
avwatch_read(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	tv = { AVWATCH_SETTLE_MS / 1000,
			    (AVWATCH_SETTLE_MS % 1000) * 1000 };
	char		buf[4096];

	(void)ev;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	evtimer_add(av_timer, &tv);	/* again: from the last change */
}

void
avwatch_stop(void)
{
	if (av_ev != NULL) {
		event_free(av_ev);
		av_ev = NULL;
	}
	if (av_timer != NULL) {
		event_free(av_timer);
		av_timer = NULL;
	}
	if (av_fd != -1) {
		close(av_fd);
		av_fd = -1;
	}
	free(av_dir);
	av_dir = NULL;
}

void
avwatch_start(struct master *m)
{
	if (av_dir != NULL && strcmp(av_dir, m->conf->clamav_db) == 0)
		return;
	avwatch_stop();
	av_dir = strdup(m->conf->clamav_db);
	if (av_dir == NULL ||
	    (av_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(av_fd, av_dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_MOVED_FROM | IN_CREATE | IN_DELETE) == -1) {
		log_warn("antivirus databases %s: not watched (a new database "
		    "needs sealpostctl reload)", m->conf->clamav_db);
		avwatch_stop();
		return;
	}
	if ((av_ev = event_new(m->base, av_fd, EV_READ | EV_PERSIST,
	    avwatch_read, m)) == NULL || event_add(av_ev, NULL) == -1 ||
	    (av_timer = evtimer_new(m->base, avwatch_settled, m)) == NULL)
		fatalx("avwatch: libevent");
}
