/* SPDX-License-Identifier: ISC */
/*
 * test_queue_store.c - the outbound queue on disk: the envelope's text
 * round trip and its refusals, put (body, then envelope), ids, get, and
 * a tampered or foreign envelope.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "memfd.h"
#include "queue_store.h"
#include "test.h"
#include "banned.h"

static struct queue_rcpt	rcpts[2] = {
	{ .addr = "a@remote.test", .notify = 6,
	    .orcpt = "rfc822;a@remote.test" },
	{ .addr = "\"b c\"@remote.test", .tls_required = 1 }
};

static void
env_make(struct queue_env *e)
{
	memset(e, 0, sizeof(*e));
	e->created = 1700000000;
	strlcpy(e->from, "me@example.test", sizeof(e->from));
	e->account = 7;
	e->size = 5;
	e->ret = 2;
	e->body8 = 1;
	strlcpy(e->envid, "env id", sizeof(e->envid));
	e->rcpts = rcpts;
	e->nrcpts = 2;
}

static void
test_text(void)
{
	struct queue_env	e, d;
	char			*t, err[128];
	size_t			 len;

	test_begin("envelope text: round trip, hostile text refused");
	env_make(&e);
	test_assert(queue_env_encode(&e, &t, &len) == 0);
	test_assert(queue_env_decode(t, len, &d, err, sizeof(err)) == 0);
	test_assert(d.created == e.created && d.account == 7 && d.size == 5 &&
	    d.ret == 2 && d.body8 == 1 && d.smtputf8 == 0 && d.nrcpts == 2);
	test_assert_streq(d.from, "me@example.test");
	test_assert_streq(d.envid, "env id");
	test_assert_streq(d.rcpts[1].addr, "\"b c\"@remote.test");
	test_assert(d.rcpts[0].notify == 6);
	test_assert_streq(d.rcpts[0].orcpt, "rfc822;a@remote.test");
	/* the policy's "tls required" (issue 15), absent when not set */
	test_assert(d.rcpts[0].tls_required == 0 &&
	    d.rcpts[1].tls_required == 1);
	{
		static const char want[] = "remote.test\t0\t\ttls-required\n";

		test_assert(memmem(t, len, want, sizeof(want) - 1) != NULL);
	}
	queue_env_free(&d);
	/* the null sender */
	e.from[0] = '\0';
	free(t);
	test_assert(queue_env_encode(&e, &t, &len) == 0 &&
	    queue_env_decode(t, len, &d, err, sizeof(err)) == 0 &&
	    d.from[0] == '\0');
	queue_env_free(&d);
	/* controls are refused when encoding ... */
	strlcpy(e.from, "a\nrcpt x@y", sizeof(e.from));
	test_assert(queue_env_encode(&e, &t, &len) == -1 || (free(t), 0));
	/* ... and decoding: truncated, reordered, no recipient, bad numbers */
	test_assert(queue_env_decode("SPQE1\n", 6, &d, err, sizeof(err)) ==
	    -1 && errno == EBADMSG);
	{
		static const char *bad[] = {
		    "SPQE1\ncreated 1\nfrom a\naccount 1\nsize 1\nret 0\n"
		    "body8 0\nsmtputf8 0\nenvid \n",
		    "SPQE1\ncreated 1\nfrom a\naccount 1\nsize 1\nret 3\n"
		    "body8 0\nsmtputf8 0\nenvid \nrcpt a@b\t0\t\n",
		    "SPQE1\nfrom a\ncreated 1\naccount 1\nsize 1\nret 0\n"
		    "body8 0\nsmtputf8 0\nenvid \nrcpt a@b\t0\t\n",
		    "SPQE1\ncreated 1\nfrom a\naccount 1\nsize 1\nret 0\n"
		    "body8 0\nsmtputf8 0\nenvid \nrcpt a@b\t99\t\n",
		    "SPQE1\ncreated 1\nfrom a\x01\naccount 1\nsize 1\nret 0\n"
		    "body8 0\nsmtputf8 0\nenvid \nrcpt a@b\t0\t\n",
		    "SPQE1\ncreated 1\nfrom a\naccount 1\nsize 1\nret 0\n"
		    "body8 0\nsmtputf8 0\nenvid \nrcpt a@b\t0\t",
		    "SPQE1\ncreated 1\nfrom a\naccount 1\nsize 1\nret 0\n"
		    "body8 0\nsmtputf8 0\nenvid \nrcpt a@b\t0\t\ttls\n",
		};
		size_t	i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			test_assert(queue_env_decode(bad[i], strlen(bad[i]),
			    &d, err, sizeof(err)) == -1);
	}
	free(t);
	test_end();
}

static void
test_schedule(void)
{
	struct queue_env	e, d;
	struct queue_rcpt	r[2];
	char			*t, err[128];
	size_t			 len, i;

	test_begin("envelope text: the schedule and each recipient's state");
	env_make(&e);
	memcpy(r, rcpts, sizeof(r));	/* the shared ones stay as they are */
	e.rcpts = r;
	e.attempts = 3;
	e.next = 1700000900;
	e.warned = 1;
	e.held = 1;
	e.rcpts[1].state = QUEUE_RCPT_FAILED;
	strlcpy(e.rcpts[1].remote, "mx.remote.test", sizeof(e.rcpts[1].remote));
	strlcpy(e.rcpts[1].diag, "550 5.1.1 no such user here",
	    sizeof(e.rcpts[1].diag));
	test_assert(queue_env_encode(&e, &t, &len) == 0);
	test_assert(queue_env_decode(t, len, &d, err, sizeof(err)) == 0);
	test_assert(d.attempts == 3 && d.next == 1700000900 && d.warned == 1 &&
	    d.held == 1 && d.nrcpts == 2);
	test_assert(d.rcpts[0].state == QUEUE_RCPT_PENDING &&
	    d.rcpts[0].diag[0] == '\0');
	test_assert(d.rcpts[1].state == QUEUE_RCPT_FAILED);
	test_assert_streq(d.rcpts[1].remote, "mx.remote.test");
	test_assert_streq(d.rcpts[1].diag, "550 5.1.1 no such user here");
	queue_env_free(&d);
	free(t);
	/* a diagnostic with a control character is refused */
	strlcpy(e.rcpts[1].diag, "550 a\nrcpt x@y", sizeof(e.rcpts[1].diag));
	test_assert(queue_env_encode(&e, &t, &len) == -1 || (free(t), 0));
	/* hostile schedules: out of order, an index twice or out of range,
	 * a state out of range, a schedule cut short, a recipient after it */
	{
		static const char *bad[] = {
		    "next 1\nattempts 1\nwarned 0\nheld 0\n",
		    "attempts 1\nnext 1\nwarned 0\nheld 0\n"
		    "state 0\t1\t\t\nstate 0\t1\t\t\n",
		    "attempts 1\nnext 1\nwarned 0\nheld 0\n"
		    "state 1\t1\t\t\nstate 0\t1\t\t\n",
		    "attempts 1\nnext 1\nwarned 0\nheld 0\nstate 5\t1\t\t\n",
		    "attempts 1\nnext 1\nwarned 0\nheld 0\nstate 0\t7\t\t\n",
		    "attempts 1\nnext 1\nwarned 0\nheld 0\nstate 0\t1\t\n",
		    "attempts 1\nnext 1\n",
		    "attempts 1\nnext 1\nwarned 0\nheld 0\nrcpt c@d\t0\t\n",
		    "attempts 1\nnext 1\nwarned 2\nheld 0\n",
		};
		static const char head[] = "SPQE1\ncreated 1\nfrom a\n"
		    "account 1\nsize 1\nret 0\nbody8 0\nsmtputf8 0\nenvid \n"
		    "rcpt a@b\t0\t\n";
		char	buf[512];

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(buf, sizeof(buf), "%s%s", head, bad[i]);
			test_assert(queue_env_decode(buf, strlen(buf), &d, err,
			    sizeof(err)) == -1);
		}
		/* an envelope written before the schedule existed */
		test_assert(queue_env_decode(head, strlen(head), &d, err,
		    sizeof(err)) == 0 && d.attempts == 0 && d.next == 0);
		queue_env_free(&d);
	}
	test_end();
}

static void
test_put_get(void)
{
	struct queue_env	 e, d;
	unsigned char		*sk = sodium_malloc(32), *osk = sodium_malloc(32);
	unsigned char		 pk[32], opk[32];
	char			 dir[64], err[256], path[128];
	char			(*ids)[QUEUE_ID_LEN + 1];
	size_t			 n;
	int			 dfd, mfd, fd;
	unsigned char		 c;

	test_begin("spool: put writes body then envelope; get; tampering");
	snprintf(dir, sizeof(dir), "/tmp/sp-queue-XXXXXX");
	test_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/queue.key", dir);
	test_assert(queue_key_load(path, true, sk, pk, err, sizeof(err)) == 0);
	test_assert(queue_key_load(path, false, osk, opk, err, sizeof(err)) ==
	    0 && memcmp(pk, opk, 32) == 0);
	crypto_box_keypair(opk, osk);
	test_assert((dfd = open(dir, O_RDONLY | O_DIRECTORY)) != -1);
	env_make(&e);
	test_assert((mfd = memfd_sealed_from("m", "hello", 5)) != -1);
	test_assert(queue_store_put(dfd, pk, mfd, &e, err, sizeof(err)) == 0);
	close(mfd);
	test_assert(strlen(e.id) == QUEUE_ID_LEN);
	test_assert(queue_store_ids(dfd, &ids, &n) == 0 && n == 1 &&
	    strcmp(ids[0], e.id) == 0);
	free(ids);
	test_assert(queue_store_get(dfd, pk, sk, e.id, &d, err,
	    sizeof(err)) == 0 && d.nrcpts == 2 && d.size == 5);
	/* the envelope rewritten with a state, read back */
	d.attempts = 2;
	d.rcpts[0].state = QUEUE_RCPT_SENT;
	test_assert(queue_store_update(dfd, pk, &d, err, sizeof(err)) == 0);
	queue_env_free(&d);
	test_assert(queue_store_get(dfd, pk, sk, e.id, &d, err,
	    sizeof(err)) == 0 && d.attempts == 2 &&
	    d.rcpts[0].state == QUEUE_RCPT_SENT);
	queue_env_free(&d);
	/* another key; a flipped byte; no such id; not an id */
	test_assert(queue_store_get(dfd, opk, osk, e.id, &d, err,
	    sizeof(err)) == -1 && errno == EBADMSG);
	snprintf(path, sizeof(path), "%s.env", e.id);
	test_assert((fd = openat(dfd, path, O_RDWR)) != -1);
	test_assert(pread(fd, &c, 1, 60) == 1);
	c ^= 1;
	test_assert(pwrite(fd, &c, 1, 60) == 1);
	close(fd);
	test_assert(queue_store_get(dfd, pk, sk, e.id, &d, err,
	    sizeof(err)) == -1 && errno == EBADMSG);
	test_assert(queue_store_get(dfd, pk, sk, "00000000000000000000000000000000",
	    &d, err, sizeof(err)) == -1 && errno == ENOENT);
	test_assert(queue_store_get(dfd, pk, sk, "../../etc/passwd", &d, err,
	    sizeof(err)) == -1 && errno == ENOENT);
	/* removed: envelope, body, no longer listed */
	test_assert(queue_store_remove(dfd, e.id) == 0);
	test_assert(faccessat(dfd, e.id, F_OK, 0) == -1);
	test_assert(queue_store_ids(dfd, &ids, &n) == 0 && n == 0);
	free(ids);
	close(dfd);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	test_assert(system(path) == 0);
	sodium_free(sk);
	sodium_free(osk);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_text, test_schedule, test_put_get,
	    NULL };

	if (sodium_init() < 0)
		return 1;
	return test_run(tests);
}
