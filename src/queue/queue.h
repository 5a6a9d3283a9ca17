/* SPDX-License-Identifier: ISC */
/*
 * queue.h - the queue service's parts: the service and its channels
 * (queue.c), the scheduler (queue_sched.c), delivery status notifications
 * (queue_bounce.c) and delivery of those to local senders (queue_local.c).
 */
#ifndef SP_QUEUE_H
#define SP_QUEUE_H

#include <event2/event.h>
#include <stdint.h>

#include "ipc.h"
#include "sealpost.h"
#include "queue_store.h"

/* The settings the master passes (-o NAME=VALUE). */
struct queue_settings {
	char		hostname[256];
	unsigned int	first_retry;	/* seconds */
	unsigned int	retry_interval;
	unsigned int	lifetime;
	unsigned int	delay_warning;	/* 0: none */
	unsigned int	concurrency;	/* per destination domain */
	unsigned int	rate;		/* messages a minute, 0: no limit */
	unsigned int	max_hops;	/* Received header fields */
};

extern struct queue_settings	 qset;
extern struct event_base	*qbase;
extern int			 qspool;	/* the spool directory */
extern unsigned char		 qpk[QUEUE_KEY_LEN];
extern unsigned char		*qsk;		/* sodium_malloc */

/* queue.c: channels to the other services (NULL while they restart) */
struct ipc_chan	*queue_chan(int svc);

/* queue_sched.c */
void	sched_init(void);
/* A message was queued (an smtp session's, or a notification). */
void	sched_add(const char *id, int64_t created);
/* A reply from the mta, or from auth/deliver (queue_local.c's). */
void	sched_mta_reply(struct ipc_msg *);
/* control: QUEUE_CTL_*; 0 with text, -1 with text. */
int	sched_ctl(uint32_t op, const char *id, char *text, size_t len);
/* The mta channel came or went: attempts in flight there are lost. */
void	sched_mta_lost(void);
/* Look at the schedule now (a new message, a finished attempt). */
void	sched_kick(void);

/*
 * The message of id in the clear, as a sealed memfd (for the mta, for a
 * notification).  -1 with err on failure.
 */
int	queue_body_memfd(const char *id, uint64_t size, char *err,
	    size_t errlen);

/* queue_bounce.c: a notification about env's recipients whose mark
 * is set (failed, or delayed with delayed set), queued; its id in id_r.
 * 0 queued, 1 none needed (null sender, NOTIFY), -1 on failure. */
int	bounce_queue(const struct queue_env *env, const unsigned char *mark,
	    int delayed, int bodyfd, char *id_r, size_t idlen);

/* queue_local.c: a notification to a local sender, into their INBOX.
 * done(arg, state, text) later, with a QUEUE_RCPT_* like outcome:
 * 0 delivered, 1 not local (send it out), 2 temporary failure. */
typedef void (*local_cb)(void *arg, int result, const char *text);
#define LOCAL_DELIVERED	0
#define LOCAL_REMOTE	1
#define LOCAL_TEMP	2
void	local_deliver(const char *rcpt, int bodyfd, uint64_t size,
	    local_cb done, void *arg);
void	local_reply(struct ipc_msg *);
void	local_lost(void);

/* queue_sign.c: the message to send, DKIM-signed when the signer has a
 * key for its From domain (made 7-bit first when it is 8-bit).  done
 * (arg, result, fd, body8) later: SIGN_OK with fd (the caller's: the
 * message to send, signed or not) and whether it is still 8-bit, or
 * SIGN_LATER (no signer, a failure: try later) with fd -1.  bodyfd
 * stays the caller's. */
typedef void (*sign_cb)(void *arg, int result, int fd, int body8);
#define SIGN_OK		0
#define SIGN_LATER	1
void	sign_message(int bodyfd, size_t size, int body8, sign_cb done,
	    void *arg);
void	sign_reply(struct ipc_msg *);
void	sign_lost(void);

#endif
