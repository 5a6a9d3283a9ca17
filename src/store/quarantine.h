/* SPDX-License-Identifier: ISC */
/*
 * quarantine.h - messages the policy holds back (antivirus quarantine):
 * the spool format of the outbound queue (queue_store.h), sealed to the
 * public key of the account postmaster@DOMAIN leads to, in
 * DATA_DIR/mail/quarantine (root:_sp_deliver 0770; under mail/ because
 * that is the one tree the deliver service may write).  Per message:
 *
 *	ID	the message, SPB1 sealed to the postmaster's key
 *	ID.info	cleartext: what "quarantine list" shows without a password
 *	ID.env	the envelope (sender, recipients), sealed to the same key;
 *		written last: its presence makes the message quarantined
 *
 * Info text, one "key value" per line, every field required, in order:
 *
 *	sealpost-quarantine 1
 *	queue-id 0123456789abcdef.0	(the SMTP reply's and the logs' id)
 *	received SECONDS
 *	size BYTES			(the message)
 *	account ID			(whose key it is sealed to)
 *	recipients N
 *	reason virus NAME		([A-Za-z0-9 .:/_-], at most 159 bytes)
 *
 * Users: the deliver service writes; sealpostctl quarantine reads and
 * removes (as root), treating every file as hostile.
 */
#ifndef SP_QUARANTINE_H
#define SP_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "queue_store.h"

#define QUAR_DIR		"quarantine"	/* in DATA_DIR/mail */
#define QUAR_QID_MAX		39
#define QUAR_REASON_MAX		159
#define QUAR_INFO_MAX		512		/* bytes of an info file */

struct quar_info {
	char		qid[QUAR_QID_MAX + 1];
	int64_t		received;
	uint64_t	size;
	uint64_t	account;
	uint32_t	nrcpts;
	char		reason[QUAR_REASON_MAX + 1];
};

/* 1 when s is a queue id we write ("HEX16.N") / a reason we keep. */
int	quar_qid_ok(const char *s);
int	quar_reason_ok(const char *s);

/* The info text into buf (NUL-terminated): its length, or -1 when a
 * field is out of bounds or the buffer too small. */
int	quar_info_encode(const struct quar_info *, char *buf, size_t len);
/* Parse len bytes (hostile): 0, or -1 with a message in err. */
int	quar_info_decode(const char *text, size_t len, struct quar_info *,
	    char *err, size_t errlen);

/*
 * Quarantine one message (msg_fd: a sealed memfd of env->size bytes)
 * into dir_fd, sealed to pk: body, info, envelope, each durable before
 * the next.  env->id is set.  0, or -1 with errno and a message in err.
 */
int	quarantine_put(int dir_fd, const unsigned char pk[QUEUE_KEY_LEN],
	    int msg_fd, struct queue_env *env, const struct quar_info *info,
	    char *err, size_t errlen);

/* Read ID.info (hostile): 0, or -1 with errno and a message in err. */
int	quarantine_info(int dir_fd, const char *id, struct quar_info *,
	    char *err, size_t errlen);

/*
 * Remove a quarantined message: the envelope first (then it is gone for
 * good), then its info and body, and fsync the folder.  0, or -1 with
 * errno (ENOENT: no such message) and a message in err.
 */
int	quarantine_remove(int dir_fd, const char *id, char *err,
	    size_t errlen);

#endif
