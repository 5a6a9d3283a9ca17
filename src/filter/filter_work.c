/* SPDX-License-Identifier: ISC */
/*
 * filter_work.c - the filter service's scanning threads (filter_work.h).
 *
 * Process:  filter.  The threads start after the sandbox and inherit it
 *           (seccomp with TSYNC, Landlock, the jail); the profile allows
 *           clone only with CLONE_THREAD (sandbox.c).
 * Trust:    a job's message is hostile and only read (a sealed memfd);
 *           the queue is bounded (FILTER_QUEUE_MAX): past it a message
 *           is deferred, not queued.
 * Threads:  the loop thread owns every job except while it sits in the
 *           two queues, which the mutex guards; a worker touches only the
 *           job it took.  A finished job goes back to the loop through a
 *           pipe (one byte per wake-up).  No logging in a worker (log.c
 *           is the loop thread's).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filter_work.h"
#include "banned.h"

TAILQ_HEAD(job_list, filter_job);

static pthread_mutex_t	 work_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 work_cond = PTHREAD_COND_INITIALIZER;
static struct job_list	 work_todo = TAILQ_HEAD_INITIALIZER(work_todo);
static struct job_list	 work_done = TAILQ_HEAD_INITIALIZER(work_done);
static size_t		 work_busy;	/* loop thread only */
static int		 work_pipe[2] = { -1, -1 };
static struct event	*work_ev;
static void		(*work_done_cb)(struct filter_job *);
static pthread_t	 work_threads[FILTER_WORKERS_MAX];
static struct spam_client *work_spam[FILTER_WORKERS_MAX];	/* or NULL */

long
filter_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
work_main(void *arg)
{
	struct filter_job	*j;
	ssize_t			 r;
	long			 t0;
	char			 one = 1;

	struct spam_client	*sc = work_spam[(uintptr_t)arg];
	struct spam_req		 req;

	for (;;) {
		pthread_mutex_lock(&work_mtx);
		while ((j = TAILQ_FIRST(&work_todo)) == NULL)
			pthread_cond_wait(&work_cond, &work_mtx);
		TAILQ_REMOVE(&work_todo, j, entry);
		pthread_mutex_unlock(&work_mtx);

		t0 = filter_now_ms();
		j->wait_ms = t0 - j->queued_ms;
		j->av = av_scan(j->fd, j->name, sizeof(j->name), j->err,
		    sizeof(j->err));
		j->av_ms = filter_now_ms() - t0;
		/* spam: only for what the antivirus let through */
		j->spam = -1;
		if (sc != NULL && j->av != AV_VIRUS) {
			memset(&req, 0, sizeof(req));
			req.ip = j->ip;
			req.helo = j->helo;
			req.from = j->sender;
			req.user = j->authed ? j->sender : NULL;
			req.queue_id = j->qid;
			req.hostname = NULL;
			req.rcpts = j->rcpts;
			req.nrcpts = j->nrcpts;
			req.fd = j->fd;
			req.size = j->size;
			req.timeout_ms = (long)j->pv.scanner_timeout * 1000;
			t0 = filter_now_ms();
			j->spam = spam_check(sc, &req, &j->sr, j->spam_err,
			    sizeof(j->spam_err)) == 0 ? 0 : 1;
			j->spam_ms = filter_now_ms() - t0;
		}

		pthread_mutex_lock(&work_mtx);
		TAILQ_INSERT_TAIL(&work_done, j, entry);
		pthread_mutex_unlock(&work_mtx);
		/* a full pipe already holds a wake-up: nothing is lost */
		r = write(work_pipe[1], &one, 1);
		(void)r;
	}
	return NULL;
}

/* The loop: hand every finished job to the caller. */
static void
work_wakeup(evutil_socket_t fd, short ev, void *arg)
{
	struct job_list		 done = TAILQ_HEAD_INITIALIZER(done);
	struct filter_job	*j;
	char			 buf[64];

	(void)ev;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&work_mtx);
	TAILQ_CONCAT(&done, &work_done, entry);
	pthread_mutex_unlock(&work_mtx);
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, entry);
		work_busy--;
		work_done_cb(j);
	}
}

int
filter_work_prepare(unsigned int n, const char *rspamd_url, char *err,
    size_t errlen)
{
	unsigned int	i;

	if (pipe2(work_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (rspamd_url == NULL)
		return 0;
	if (spam_global_init() == -1) {
		snprintf(err, errlen, "libcurl does not start");
		return -1;
	}
	for (i = 0; i < n && i < FILTER_WORKERS_MAX; i++)
		if ((work_spam[i] = spam_client_new(rspamd_url, err,
		    errlen)) == NULL)
			return -1;
	return 0;
}

int
filter_work_start(struct event_base *base, unsigned int n,
    void (*done)(struct filter_job *))
{
	unsigned int	i;
	int		e;

	if (n == 0 || n > FILTER_WORKERS_MAX || work_pipe[0] == -1) {
		errno = EINVAL;
		return -1;
	}
	work_done_cb = done;
	if ((work_ev = event_new(base, work_pipe[0], EV_READ | EV_PERSIST,
	    work_wakeup, NULL)) == NULL || event_add(work_ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((e = pthread_create(&work_threads[i], NULL, work_main,
		    (void *)(uintptr_t)i)) != 0) {
			errno = e;
			return -1;
		}
	return 0;
}

int
filter_work_submit(struct filter_job *j)
{
	if (work_busy >= FILTER_QUEUE_MAX)
		return -1;
	work_busy++;
	j->queued_ms = filter_now_ms();
	pthread_mutex_lock(&work_mtx);
	TAILQ_INSERT_TAIL(&work_todo, j, entry);
	pthread_cond_signal(&work_cond);
	pthread_mutex_unlock(&work_mtx);
	return 0;
}
