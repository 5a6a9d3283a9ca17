/* SPDX-License-Identifier: ISC */
/*
 * filter_work.h - the filter service's scanning threads: a message's
 * content checks run there, off the libevent loop, so a large message or
 * a slow scanner never holds up the other sessions' verdicts.
 */
#ifndef SP_FILTER_WORK_H
#define SP_FILTER_WORK_H

#include <sys/queue.h>

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "filter_av.h"
#include "filter_spam.h"
#include "policy.h"

#define FILTER_WORKERS_MAX	32
#define FILTER_QUEUE_MAX	256	/* jobs waiting or running */
#define FILTER_RCPTS_MAX	1000	/* recipients of one message */

struct service_session;

/* One message to check.  The loop thread fills the request part. */
struct filter_job {
	TAILQ_ENTRY(filter_job)	 entry;		/* the pool's queues */
	TAILQ_ENTRY(filter_job)	 live;		/* filter.c's list */
	/* request */
	int			 fd;		/* sealed memfd, the job's */
	size_t			 size;
	struct service_session	*ss;		/* NULL: the session went */
	uint32_t		 reqid;
	uint64_t		 connid;
	long			 queued_ms;
	struct policy_values	 pv;		/* the policy that decides */
	char			 group[128];	/* its group, for the log */
	/* the envelope, for rspamd */
	char			 sender[321];
	char			 helo[256];
	char			 qid[40];
	char			 ip[64];
	bool			 authed;
	const char		**rcpts;	/* into rcptbuf */
	size_t			 nrcpts;
	struct buf		*rcptbuf;
	/* result (the worker's) */
	enum av_result		 av;
	char			 name[AV_NAME_MAX];
	char			 err[256];
	long			 av_ms;		/* time in the scanner */
	long			 wait_ms;	/* time in the queue */
	int			 spam;		/* -1 not asked, 0 ok, 1 failed */
	struct spam_result	 sr;
	char			 spam_err[256];
	long			 spam_ms;
};

/*
 * Before the sandbox: the wake-up pipe, and (rspamd_url not NULL) one
 * rspamd client per thread.  0 or -1 with err.
 */
int	filter_work_prepare(unsigned int n, const char *rspamd_url, char *err,
	    size_t errlen);
/*
 * Start n threads (after the sandbox: they inherit it); done runs in the
 * loop thread for each finished job.  0 or -1.
 */
int	filter_work_start(struct event_base *, unsigned int n,
	    void (*done)(struct filter_job *));
/* Queue a job: 0, or -1 when FILTER_QUEUE_MAX jobs are in hand. */
int	filter_work_submit(struct filter_job *);
/* A monotonic clock in ms. */
long	filter_now_ms(void);

#endif
