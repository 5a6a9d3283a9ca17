/* SPDX-License-Identifier: ISC */
/*
 * auth_kdf.c - the auth service's KDF worker threads (auth_kdf.h).
 *
 * Process:  auth.  The workers start after the sandbox and inherit it
 *           (seccomp with TSYNC, Landlock, the jail); the profile allows
 *           clone only with CLONE_THREAD (sandbox.c).
 * Trust:    a job's user and password come from a login session and are
 *           checked by accounts_unlock; the queue is bounded
 *           (KDF_QUEUE_MAX), so a flood of logins costs memory for at
 *           most that many jobs, and at most n Argon2id runs at once.
 * Threads:  the loop thread owns everything but the two queues, which
 *           the mutex guards; a worker touches only its own users.db
 *           handle and the job it took.  A finished job goes back to the
 *           loop through a pipe (one byte per wake-up).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "accounts.h"
#include "auth_kdf.h"
#include "banned.h"

TAILQ_HEAD(kdf_list, kdf_job);

static pthread_mutex_t	 kdf_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 kdf_cond = PTHREAD_COND_INITIALIZER;
static struct kdf_list	 kdf_todo = TAILQ_HEAD_INITIALIZER(kdf_todo);
static struct kdf_list	 kdf_done = TAILQ_HEAD_INITIALIZER(kdf_done);
static size_t		 kdf_busy;	/* loop thread only */
static int		 kdf_pipe[2] = { -1, -1 };
static struct event	*kdf_ev;
static void		(*kdf_done_cb)(struct kdf_job *);

struct kdf_worker {
	pthread_t		 thread;
	struct accounts_db	*db;
};
static struct kdf_worker	kdf_workers[KDF_WORKERS_MAX];

struct kdf_job *
kdf_job_new(const char *user, const void *pass, size_t passlen, void *arg)
{
	struct kdf_job	*j = xcalloc(1, sizeof(*j));

	strlcpy(j->user, user, sizeof(j->user));
	j->pass = sodium_malloc(passlen > 0 ? passlen : 1);
	j->sk = sodium_malloc(ACCOUNTS_KEY_LEN);
	if (j->pass == NULL || j->sk == NULL) {
		kdf_job_free(j);
		return NULL;
	}
	if (passlen > 0)
		memcpy(j->pass, pass, passlen);
	j->passlen = passlen;
	j->arg = arg;
	return j;
}

void
kdf_job_free(struct kdf_job *j)
{
	if (j == NULL)
		return;
	if (j->pass != NULL)
		sodium_free(j->pass);	/* wipes */
	if (j->sk != NULL)
		sodium_free(j->sk);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

static void *
kdf_worker_main(void *arg)
{
	struct kdf_worker	*w = arg;
	struct kdf_job		*j;
	ssize_t			 r;
	char			 one = 1;

	for (;;) {
		pthread_mutex_lock(&kdf_mtx);
		while ((j = TAILQ_FIRST(&kdf_todo)) == NULL)
			pthread_cond_wait(&kdf_cond, &kdf_mtx);
		TAILQ_REMOVE(&kdf_todo, j, entry);
		pthread_mutex_unlock(&kdf_mtx);

		j->result = accounts_unlock(w->db, j->user, j->pass,
		    j->passlen, &j->account, &j->cred, j->sk);
		if (j->result == -1)
			strlcpy(j->errstr, accounts_errstr(w->db),
			    sizeof(j->errstr));
		sodium_memzero(j->pass, j->passlen);

		pthread_mutex_lock(&kdf_mtx);
		TAILQ_INSERT_TAIL(&kdf_done, j, entry);
		pthread_mutex_unlock(&kdf_mtx);
		/* a full pipe already holds a wake-up: nothing is lost
		 * (no logging here: log.c is the loop thread's) */
		r = write(kdf_pipe[1], &one, 1);
		(void)r;
	}
	return NULL;
}

/* The loop: hand every finished job to the caller. */
static void
kdf_wakeup(evutil_socket_t fd, short ev, void *arg)
{
	struct kdf_list	 done = TAILQ_HEAD_INITIALIZER(done);
	struct kdf_job	*j;
	char		 buf[64];

	(void)ev;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&kdf_mtx);
	TAILQ_CONCAT(&done, &kdf_done, entry);
	pthread_mutex_unlock(&kdf_mtx);
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, entry);
		kdf_busy--;
		kdf_done_cb(j);
	}
}

int
kdf_pool_prepare(void)
{
	return pipe2(kdf_pipe, O_NONBLOCK | O_CLOEXEC);
}

int
kdf_pool_start(struct event_base *base, struct accounts_db **dbs, size_t n,
    void (*done)(struct kdf_job *))
{
	size_t	i;
	int	e;

	if (n == 0 || n > KDF_WORKERS_MAX || kdf_pipe[0] == -1) {
		errno = EINVAL;
		return -1;
	}
	kdf_done_cb = done;
	if ((kdf_ev = event_new(base, kdf_pipe[0], EV_READ | EV_PERSIST,
	    kdf_wakeup, NULL)) == NULL || event_add(kdf_ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++) {
		kdf_workers[i].db = dbs[i];
		if ((e = pthread_create(&kdf_workers[i].thread, NULL,
		    kdf_worker_main, &kdf_workers[i])) != 0) {
			errno = e;
			return -1;
		}
	}
	return 0;
}

int
kdf_pool_submit(struct kdf_job *j)
{
	if (kdf_busy >= KDF_QUEUE_MAX)
		return -1;
	kdf_busy++;
	pthread_mutex_lock(&kdf_mtx);
	TAILQ_INSERT_TAIL(&kdf_todo, j, entry);
	pthread_cond_signal(&kdf_cond);
	pthread_mutex_unlock(&kdf_mtx);
	return 0;
}

size_t
kdf_pool_busy(void)
{
	return kdf_busy;
}
