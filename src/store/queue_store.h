/* SPDX-License-Identifier: ISC */
/*
 * queue_store.h - the outbound queue on disk (DATA_DIR/queue/spool): a
 * message waiting for remote delivery is two files, its body sealed in
 * the SPB1 format to the queue's public key and its envelope sealed to
 * the same key; the envelope is written last, so its presence is what
 * makes the message queued.
 *
 * Users: the queue service (writes; the outbound issue will read and
 * retry), sealpostctl queue (reads, as root).
 *
 * The queue key sits in DATA_DIR/keys/queue.key on the same disk: it
 * protects a stolen spool folder, not a stolen disk.  The server must read
 * queued mail to send it; the queue holds mail only until delivery.
 */
#ifndef SP_QUEUE_STORE_H
#define SP_QUEUE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_ADDR_MAX		254
#define QUEUE_ENVID_MAX		100
#define QUEUE_ORCPT_MAX		500
#define QUEUE_RCPTS_MAX		1000
#define QUEUE_ID_LEN		32	/* hex of the body's blob id */
#define QUEUE_ENV_MAX		(2 * 1024 * 1024)	/* a sealed envelope */
#define QUEUE_DIAG_MAX		400	/* a recipient's last reply, kept */
#define QUEUE_REMOTE_MAX	253	/* the host that gave it */
#define QUEUE_KEY_LEN		32

/* A recipient's delivery state (the envelope is rewritten as it moves). */
#define QUEUE_RCPT_PENDING	0	/* not delivered yet */
#define QUEUE_RCPT_SENT		1	/* the remote took it: done */
#define QUEUE_RCPT_FAILED	2	/* for good; its notification queued */

struct queue_rcpt {
	char		addr[QUEUE_ADDR_MAX + 1];
	unsigned int	notify;			/* SMTP_NOTIFY_* bits (DSN) */
	char		orcpt[QUEUE_ORCPT_MAX + 1];	/* "" none */
	int		tls_required;		/* the policy's "tls required" */
	int		state;			/* QUEUE_RCPT_* */
	char		remote[QUEUE_REMOTE_MAX + 1];	/* "" none */
	char		diag[QUEUE_DIAG_MAX + 1];	/* "451 4.3.0 ..." */
};

/* Everything but the body. */
struct queue_env {
	char			 id[QUEUE_ID_LEN + 1];
	int64_t			 created;	/* unix seconds */
	char			 from[QUEUE_ADDR_MAX + 1];	/* "" for <> */
	uint64_t		 account;	/* the authenticated sender */
	uint64_t		 size;		/* body bytes */
	int			 ret;		/* 0 none, 1 FULL, 2 HDRS */
	int			 body8;		/* BODY=8BITMIME */
	int			 smtputf8;
	char			 envid[QUEUE_ENVID_MAX + 1];
	struct queue_rcpt	*rcpts;
	size_t			 nrcpts;
	/* the schedule (absent from envelopes written before it: zero) */
	unsigned int		 attempts;
	int64_t			 next;		/* unix seconds; 0: now */
	int			 warned;	/* the delay warning went */
	int			 held;		/* sealpostctl queue hold */
};

/*
 * The queue key pair from path (one line "sealpost-queue-key HEX", mode
 * 0600): sk into the caller's sodium_malloc memory.  With create, a
 * missing file is made.  0, or -1 with a message in err.
 */
int	queue_key_load(const char *path, bool create, unsigned char *sk,
	    unsigned char pk[QUEUE_KEY_LEN], char *err, size_t errlen);

/*
 * Queue one message: the body (msg_fd, a sealed memfd of env->size
 * bytes) and then the envelope into the spool directory spool_fd, each
 * written to a temporary name, fsynced, renamed, and the directory
 * fsynced.  env->id is set.  Only after 0 may the message be
 * acknowledged.  -1 with errno (ENOSPC...) and a message in err; a body
 * without its envelope is never queued (queue_store_clean removes it).
 */
int	queue_store_put(int spool_fd, const unsigned char pk[QUEUE_KEY_LEN],
	    int msg_fd, struct queue_env *env, char *err, size_t errlen);

/*
 * The same with a cleartext file ID.info (infolen bytes of info, not
 * sealed: what may be listed without the key, the quarantine's) written
 * durably after the body and before the envelope; NULL for none.
 */
int	queue_store_put_info(int spool_fd,
	    const unsigned char pk[QUEUE_KEY_LEN], int msg_fd,
	    struct queue_env *env, const void *info, size_t infolen,
	    char *err, size_t errlen);

/*
 * Read the envelope of id (sk: the queue key).  0 with *env filled (free
 * with queue_env_free), or -1 with errno (ENOENT; EBADMSG for a file that
 * does not open or parse) and a message in err.
 */
int	queue_store_get(int spool_fd, const unsigned char *pk,
	    const unsigned char *sk, const char *id, struct queue_env *env,
	    char *err, size_t errlen);
/* The same for a spool of this format elsewhere ("quarantine"): where
 * names it in the messages. */
int	queue_store_get_in(int spool_fd, const char *where,
	    const unsigned char *pk, const unsigned char *sk, const char *id,
	    struct queue_env *env, char *err, size_t errlen);

/*
 * Write env (state changed) again over its envelope, durably: a new
 * sealed file renamed over the old one.  0, or -1 with errno and err.
 */
int	queue_store_update(int spool_fd, const unsigned char pk[QUEUE_KEY_LEN],
	    const struct queue_env *env, char *err, size_t errlen);

/*
 * Remove message id: its envelope first (then it is no longer queued),
 * then its body and info file; the directory is fsynced.  0, or -1 with
 * errno when the envelope could not be removed.
 */
int	queue_store_remove(int spool_fd, const char *id);

/*
 * Every queued message's id (envelopes present), sorted: *ids_r (the
 * caller's, free) of *n_r entries.  0, or -1 with errno.
 */
int	queue_store_ids(int spool_fd, char (**ids_r)[QUEUE_ID_LEN + 1],
	    size_t *n_r);

void	queue_env_free(struct queue_env *);

/* The envelope as text (the sealed form's plaintext); for tests too. */
int	queue_env_encode(const struct queue_env *, char **out_r,
	    size_t *len_r);
int	queue_env_decode(const char *text, size_t len, struct queue_env *,
	    char *err, size_t errlen);

#endif
