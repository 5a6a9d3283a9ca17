/* SPDX-License-Identifier: ISC */
/*
 * queue_bounce.c - a delivery status notification about a queued message
 * (queue_dsn.c builds it), itself queued: from the null sender to the
 * message's envelope sender, so that it is never answered by another
 * notification.  The scheduler delivers it like any message; one to a
 * local sender goes straight into their INBOX (queue_local.c).
 *
 * Process:  queue.
 * Trust:    the envelope is ours (checked when it was taken); the remote
 *           replies it carries and the original message are hostile and
 *           are made safe by dsn_build.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "buf.h"
#include "memfd.h"
#include "queue_dsn.h"
#include "queue.h"
#include "banned.h"

#define NOTIFY_NEVER	0x01
#define NOTIFY_FAILURE	0x04
#define DSN_OUT_MAX	(DSN_FULL_MAX + 2 * 1024 * 1024)

/*
 * The RFC 3463 status of a kept reply: "550 5.1.1 text" gives 5.1.1,
 * "4.4.7 text" 4.4.7; a reply without one gives its class's X.0.0.
 */
static void
diag_status(const char *diag, int failed, char *out, size_t outlen)
{
	const char	*p = diag;
	size_t		 n;

	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ' ')
		p += 4;
	n = strspn(p, "0123456789.");
	if (n >= 5 && n < outlen && (p[0] == '2' || p[0] == '4' ||
	    p[0] == '5') && p[1] == '.' && (p[n] == ' ' || p[n] == '\0')) {
		memcpy(out, p, n);
		out[n] = '\0';
		return;
	}
	if (diag[0] == '4' || diag[0] == '5')
		snprintf(out, outlen, "%c.0.0", diag[0]);
	else
		strlcpy(out, failed ? "5.0.0" : "4.0.0", outlen);
}

int
bounce_queue(const struct queue_env *env, const unsigned char *mark,
    int delayed, int bodyfd, char *id_r, size_t idlen)
{
	struct dsn_rcpt		*dr;
	struct dsn_in		 in;
	struct queue_env	 denv;
	struct queue_rcpt	 rcpt;
	struct stat		 st;
	struct buf		*out = NULL;
	char			(*status)[16], boundary[40], err[256];
	unsigned char		 rnd[20];
	void			*map = MAP_FAILED;
	size_t			 i, n = 0, k;
	int			 fd = -1, ret = -1, tries;
	static const char	 alnum[] = "0123456789abcdefghijklmnopqrstuv"
				    "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

	if (env->from[0] == '\0')
		return 1;		/* never to the null sender */
	dr = xcalloc(env->nrcpts, sizeof(*dr));
	status = xcalloc(env->nrcpts, sizeof(*status));
	for (i = 0; i < env->nrcpts; i++) {
		const struct queue_rcpt *q = &env->rcpts[i];

		if (!mark[i] || (q->notify & NOTIFY_NEVER) ||
		    (!delayed && q->notify != 0 &&
		    !(q->notify & NOTIFY_FAILURE)))
			continue;
		diag_status(q->diag, !delayed, status[n], sizeof(status[n]));
		dr[n].addr = q->addr;
		dr[n].orcpt = q->orcpt;
		dr[n].action = delayed ? DSN_DELAYED : DSN_FAILED;
		dr[n].status = status[n];
		dr[n].remote_mta = q->remote;
		dr[n].diag = q->diag;
		n++;
	}
	if (n == 0) {
		ret = 1;
		goto done;
	}
	if (fstat(bodyfd, &st) == -1 || (st.st_size > 0 && (map = mmap(NULL,
	    (size_t)st.st_size, PROT_READ, MAP_PRIVATE, bodyfd, 0)) ==
	    MAP_FAILED)) {
		log_warn("queue event=bounce id=%s result=fail reason=body",
		    env->id);
		goto done;
	}
	memset(&in, 0, sizeof(in));
	in.reporting_mta = qset.hostname;
	in.sender = env->from;
	in.envid = env->envid;
	in.arrival = env->created;
	in.now = (int64_t)time(NULL);
	in.ret_full = env->ret == 1;
	in.rcpts = dr;
	in.nrcpts = n;
	in.msg = map == MAP_FAILED ? (const unsigned char *)"" : map;
	in.msglen = (size_t)st.st_size;
	in.boundary = boundary;
	out = buf_new(DSN_OUT_MAX);
	for (tries = 0; tries < 4; tries++) {
		randombytes_buf(rnd, sizeof(rnd));
		for (k = 0; k < sizeof(rnd); k++)
			boundary[k] = alnum[rnd[k] % (sizeof(alnum) - 1)];
		boundary[k] = '\0';
		buf_reset(out);
		if (dsn_build(&in, out, err, sizeof(err)) == 0)
			break;
	}
	if (tries == 4) {
		log_warnx("queue event=bounce id=%s result=fail reason=\"%s\"",
		    env->id, err);
		goto done;
	}
	if ((fd = memfd_sealed_from("dsn", out->data, out->len)) == -1) {
		log_warn("queue event=bounce id=%s result=fail reason=memfd",
		    env->id);
		goto done;
	}
	memset(&denv, 0, sizeof(denv));
	memset(&rcpt, 0, sizeof(rcpt));
	strlcpy(rcpt.addr, env->from, sizeof(rcpt.addr));
	rcpt.notify = NOTIFY_NEVER;
	denv.rcpts = &rcpt;
	denv.nrcpts = 1;
	denv.size = out->len;
	denv.smtputf8 = env->smtputf8;
	denv.body8 = env->body8 && in.ret_full;
	if (queue_store_put(qspool, qpk, fd, &denv, err, sizeof(err)) == -1) {
		log_warnx("queue event=bounce id=%s result=fail reason=\"%s\"",
		    env->id, err);
		goto done;
	}
	strlcpy(id_r, denv.id, idlen);
	log_info("queue event=notify id=%s about=%s kind=%s rcpts=%zu",
	    denv.id, env->id, delayed ? "delayed" : "failed", n);
	ret = 0;
done:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd != -1)
		close(fd);
	buf_free(&out);
	free(status);
	free(dr);
	return ret;
}
