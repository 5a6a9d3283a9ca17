/* SPDX-License-Identifier: ISC */
/*
 * auth_kdf.h - the auth service's KDF workers: unlocking a key costs an
 * Argon2id run (tens of milliseconds, tens of MiB), so it runs on worker
 * threads, a bounded number at once, never on the event loop.
 */
#ifndef SP_AUTH_KDF_H
#define SP_AUTH_KDF_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct accounts_db;

#define KDF_WORKERS_MAX	16	/* = sealpost.conf's auth-kdf-workers max */
#define KDF_QUEUE_MAX	64	/* jobs queued or running at once */
#define KDF_USER_MAX	320

/* One unlock.  Filled by the caller; result fields by a worker. */
struct kdf_job {
	TAILQ_ENTRY(kdf_job)	 entry;
	/* in */
	char			 user[KDF_USER_MAX + 1];
	unsigned char		*pass;		/* sodium_malloc, passlen */
	size_t			 passlen;
	/* out: accounts_unlock's */
	int			 result;	/* 1, 0 or -1 */
	uint64_t		 account;
	uint64_t		 cred;
	unsigned char		*sk;		/* sodium_malloc, 32 */
	char			 errstr[160];	/* result -1 */
	void			*arg;		/* the caller's */
};

/* Before the sandbox (it makes the wake-up pipe): 0, or -1 with errno. */
int	kdf_pool_prepare(void);
/*
 * Start n worker threads (after the sandbox: they inherit it), worker i
 * using dbs[i], its own users.db handle.  done is called on the event
 * loop's thread for each finished job.  0, or -1 with errno.
 */
int	kdf_pool_start(struct event_base *, struct accounts_db **dbs,
	    size_t n, void (*done)(struct kdf_job *));
/*
 * A job with user and pass set: pass is copied into sodium memory and sk
 * allocated here.  NULL when out of memory.
 */
struct kdf_job	*kdf_job_new(const char *user, const void *pass,
		    size_t passlen, void *arg);
/* Wipe and free (NULL ok). */
void		 kdf_job_free(struct kdf_job *);
/* Queue it: 0, or -1 when KDF_QUEUE_MAX jobs are already in. */
int		 kdf_pool_submit(struct kdf_job *);
/* Jobs queued or running now. */
size_t		 kdf_pool_busy(void);

#endif
