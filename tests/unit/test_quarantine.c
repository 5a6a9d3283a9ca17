/* SPDX-License-Identifier: ISC */
/*
 * test_quarantine.c - the quarantine folder (store/quarantine.c): the
 * info text's round trip and every refusal (a field missing, out of
 * order, out of bounds, a control byte, trailing text), and put, info,
 * the sealed envelope and body, remove.
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
#include "blob.h"
#include "quarantine.h"
#include "test.h"
#include "banned.h"

static void
info_make(struct quar_info *q)
{
	memset(q, 0, sizeof(*q));
	strlcpy(q->qid, "0123456789abcdef.42", sizeof(q->qid));
	q->received = 1795000000;
	q->size = 12345;
	q->account = 7;
	q->nrcpts = 3;
	strlcpy(q->reason, "virus Sealpost.Test.EICAR.UNOFFICIAL",
	    sizeof(q->reason));
}

static void
test_info_text(void)
{
	static const char *const bad[] = {
		"",
		"sealpost-quarantine 2\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.42\n",
		/* the good text with one thing wrong */
		"sealpost-quarantine 1\nqueue-id 0123456789ABCDEF.42\nreceived 1"
		    "\nsize 1\naccount 1\nrecipients 1\nreason virus X\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.\nreceived 1"
		    "\nsize 1\naccount 1\nrecipients 1\nreason virus X\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived -1"
		    "\nsize 1\naccount 1\nrecipients 1\nreason virus X\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 01"
		    "\nsize 1\naccount 1\nrecipients 1\nreason virus X\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\nsize 18446744073709551616\naccount 1\nrecipients 1\n"
		    "reason virus X\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\nsize 1\naccount 1\nrecipients 1001\nreason virus X\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\naccount 1\nsize 1\nrecipients 1\nreason virus X\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\nsize 1\naccount 1\nrecipients 1\nreason virus \x1b[31m\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\nsize 1\naccount 1\nrecipients 1\nreason virus X \n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\nsize 1\naccount 1\nrecipients 1\nreason virus X\nmore 1\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\nsize 1\naccount 1\nrecipients 1\nreason virus X",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\nsize 1\naccount 1\nrecipients 1\nreason  virus X\n",
		"sealpost-quarantine 1\nqueue-id 0123456789abcdef.1\nreceived 1"
		    "\nsize\t1\naccount 1\nrecipients 1\nreason virus X\n",
	};
	struct quar_info	 q, d;
	char			 buf[QUAR_INFO_MAX + 1], err[128];
	size_t			 i;
	int			 n;

	test_begin("info text: round trip, every malformed line refused");
	info_make(&q);
	test_assert((n = quar_info_encode(&q, buf, sizeof(buf))) > 0);
	test_assert_streq(buf, "sealpost-quarantine 1\nqueue-id "
	    "0123456789abcdef.42\nreceived 1795000000\nsize 12345\naccount 7"
	    "\nrecipients 3\nreason virus Sealpost.Test.EICAR.UNOFFICIAL\n");
	test_assert(quar_info_decode(buf, (size_t)n, &d, err,
	    sizeof(err)) == 0);
	test_assert(memcmp(&q, &d, sizeof(q)) == 0);
	/* a NUL inside */
	buf[30] = '\0';
	test_assert(quar_info_decode(buf, (size_t)n, &d, err,
	    sizeof(err)) == -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.size = 99;
		test_assert(quar_info_decode(bad[i], strlen(bad[i]), &d, err,
		    sizeof(err)) == -1);
		test_assert(d.size == 0 && d.qid[0] == '\0');
		test_assert(strncmp(err, "info: ", 6) == 0);
	}
	/* the writer refuses what the reader would */
	info_make(&q);
	strlcpy(q.reason, "virus a\nqueue-id x", sizeof(q.reason));
	test_assert(quar_info_encode(&q, buf, sizeof(buf)) == -1);
	info_make(&q);
	strlcpy(q.qid, "../x", sizeof(q.qid));
	test_assert(quar_info_encode(&q, buf, sizeof(buf)) == -1);
	info_make(&q);
	test_assert(quar_info_encode(&q, buf, 40) == -1);
	test_assert(quar_qid_ok("0123456789abcdef.4294967295") &&
	    !quar_qid_ok("0123456789abcdef.12345678901") &&
	    !quar_qid_ok("0123456789abcde.1"));
	memset(buf, 'a', QUAR_REASON_MAX + 1);
	buf[QUAR_REASON_MAX + 1] = '\0';
	test_assert(!quar_reason_ok(buf));
	buf[QUAR_REASON_MAX] = '\0';
	test_assert(quar_reason_ok(buf));
	test_end();
}

static void
test_put_remove(void)
{
	struct queue_env	 e, d;
	struct queue_rcpt	 rc[2] = { { .addr = "a@example.test" },
				    { .addr = "b@example.test" } };
	struct quar_info	 q, got;
	struct blob_reader	*r;
	unsigned char		*sk = sodium_malloc(32), pk[32], id[16];
	char			 dir[64], err[256], name[64], buf[16];
	char			(*ids)[QUEUE_ID_LEN + 1];
	size_t			 n, binlen;
	int			 dfd, mfd, fd;

	test_begin("put: body, info, envelope; read back; remove");
	snprintf(dir, sizeof(dir), "/tmp/sp-quar-XXXXXX");
	test_assert(mkdtemp(dir) != NULL);
	test_assert((dfd = open(dir, O_RDONLY | O_DIRECTORY)) != -1);
	crypto_box_keypair(pk, sk);
	memset(&e, 0, sizeof(e));
	strlcpy(e.from, "x@remote.test", sizeof(e.from));
	e.rcpts = rc;
	e.nrcpts = 2;
	e.size = 5;
	info_make(&q);
	q.size = 5;
	test_assert((mfd = memfd_sealed_from("m", "virus", 5)) != -1);
	/* a bad info field: nothing left behind */
	strlcpy(q.reason, "", sizeof(q.reason));
	test_assert(quarantine_put(dfd, pk, mfd, &e, &q, err,
	    sizeof(err)) == -1);
	test_assert(queue_store_ids(dfd, &ids, &n) == 0 && n == 0);
	free(ids);
	info_make(&q);
	q.size = 5;
	test_assert(quarantine_put(dfd, pk, mfd, &e, &q, err,
	    sizeof(err)) == 0);
	close(mfd);
	test_assert(queue_store_ids(dfd, &ids, &n) == 0 && n == 1 &&
	    strcmp(ids[0], e.id) == 0);
	free(ids);
	test_assert(quarantine_info(dfd, e.id, &got, err, sizeof(err)) == 0);
	test_assert(memcmp(&got, &q, sizeof(q)) == 0);
	test_assert(quarantine_info(dfd, "../../etc/passwd", &got, err,
	    sizeof(err)) == -1);
	test_assert(queue_store_get_in(dfd, "quarantine", pk, sk, e.id, &d,
	    err, sizeof(err)) == 0);
	test_assert(d.nrcpts == 2 && strcmp(d.rcpts[1].addr,
	    "b@example.test") == 0 && strcmp(d.from, "x@remote.test") == 0);
	queue_env_free(&d);
	test_assert(queue_store_get_in(dfd, "quarantine", pk, sk,
	    "00000000000000000000000000000000", &d, err, sizeof(err)) == -1);
	test_assert_streq(err, "00000000000000000000000000000000: no such "
	    "message in the quarantine");
	test_assert(sodium_hex2bin(id, sizeof(id), e.id, 32, NULL, &binlen,
	    NULL) == 0);
	test_assert((fd = openat(dfd, e.id, O_RDONLY)) != -1);
	test_assert((r = blob_open(fd, pk, sk, id, err, sizeof(err))) != NULL);
	test_assert(blob_pread(r, buf, sizeof(buf), 0) == 5 &&
	    memcmp(buf, "virus", 5) == 0);
	blob_close(r);
	close(fd);
	test_assert(quarantine_remove(dfd, e.id, err, sizeof(err)) == 0);
	snprintf(name, sizeof(name), "%s.info", e.id);
	test_assert(faccessat(dfd, name, F_OK, 0) == -1 &&
	    faccessat(dfd, e.id, F_OK, 0) == -1);
	test_assert(quarantine_remove(dfd, e.id, err, sizeof(err)) == -1 &&
	    errno == ENOENT);
	test_assert(quarantine_remove(dfd, "../x", err, sizeof(err)) == -1);
	close(dfd);
	test_assert(rmdir(dir) == 0);
	sodium_free(sk);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_info_text, test_put_remove,
	    NULL };

	if (sodium_init() < 0)
		return 1;
	return test_run(tests);
}
