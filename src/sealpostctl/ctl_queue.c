/* SPDX-License-Identifier: ISC */
/*
 * ctl_queue.c - sealpostctl queue list|show [--raw]: the outbound queue as the
 * queue service left it in DATA_DIR/queue/spool, read directly with the
 * queue key (sealpostctl runs as root, as the queue key's owner).
 * flush, delete, hold and release come with the outbound issue.
 *
 * Process:  sealpostctl (root).
 * Trust:    the spool is written by the queue service, which a compromise
 *           could make write anything: queue_store_get bounds and checks
 *           every envelope, and what is printed is escaped.
 * See also: store/queue_store.c, docs/sealpostctl.8.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "conf.h"
#include "queue_store.h"
#include "blob.h"
#include "ctl_queue.h"
#include "banned.h"

int
ctl_queue_is_command(const char *word)
{
	return strcmp(word, "queue") == 0;
}

void
ctl_queue_time(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
}

static void
ctl_queue_show(const struct queue_env *e)
{
	static const char *const ret[] = { "-", "FULL", "HDRS" };
	char	t[32], esc[QUEUE_ORCPT_MAX * 4 + 1];
	size_t	i;

	ctl_queue_time(e->created, t, sizeof(t));
	printf("id:        %s\nqueued:    %s\nsize:      %" PRIu64 "\n"
	    "from:      <%s>\naccount:   %" PRIu64 "\nbody:      %s%s\n"
	    "dsn:       ret=%s envid=%s\n", e->id, t, e->size,
	    log_esc(esc, sizeof(esc), e->from, strlen(e->from)), e->account,
	    e->body8 ? "8BITMIME" : "7BIT", e->smtputf8 ? " SMTPUTF8" : "",
	    ret[e->ret], e->envid[0] != '\0' ? e->envid : "-");
	if (e->next > 0)
		ctl_queue_time(e->next, t, sizeof(t));
	printf("attempts:  %u\nnext:      %s\n%s", e->attempts,
	    e->held ? "held (sealpostctl queue release ID)" : e->next > 0 ?
	    t : "now", e->warned ? "warned:    the delay warning went\n" :
	    "");
	for (i = 0; i < e->nrcpts; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		printf("to:        <%s>", log_esc(esc, sizeof(esc), r->addr,
		    strlen(r->addr)));
		if (r->notify != 0)
			printf(" notify=%s%s%s%s",
			    r->notify & 1 ? "NEVER" : "",
			    r->notify & 2 ? "SUCCESS," : "",
			    r->notify & 4 ? "FAILURE," : "",
			    r->notify & 8 ? "DELAY" : "");
		if (r->orcpt[0] != '\0')
			printf(" orcpt=%s", log_esc(esc, sizeof(esc),
			    r->orcpt, strlen(r->orcpt)));
		printf(" %s", r->state == QUEUE_RCPT_SENT ? "sent" :
		    r->state == QUEUE_RCPT_FAILED ? "failed" : "waiting");
		if (r->remote[0] != '\0')
			printf(" remote=%s", r->remote);
		printf("\n");
		if (r->diag[0] != '\0') {
			const char *c;

			/* the last reply: printable ASCII, anything else ? */
			printf("           ");
			for (c = r->diag; *c != '\0'; c++)
				putchar(*c >= 0x20 && *c < 0x7f ? *c : '?');
			printf("\n");
		}
	}
}

/*
 * show ID --raw: the queued body, byte for byte, to standard output (not
 * a terminal: it is a message from one of our users, any bytes).
 */
static int
ctl_queue_raw(int dfd, const unsigned char *pk, const unsigned char *sk,
    const struct queue_env *e)
{
	struct blob_reader	*r;
	unsigned char		 id[BLOB_ID_LEN], *buf;
	char			 err[256];
	uint64_t		 off = 0;
	size_t			 binlen;
	ssize_t			 n;
	int			 fd, rc = 1;

	if (isatty(STDOUT_FILENO)) {
		fprintf(stderr, "sealpostctl: --raw writes the message as it is: "
		    "redirect standard output to a file\n");
		return 1;
	}
	if (sodium_hex2bin(id, sizeof(id), e->id, QUEUE_ID_LEN, NULL, &binlen,
	    NULL) != 0 || binlen != sizeof(id) || (fd = openat(dfd, e->id,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) == -1) {
		fprintf(stderr, "sealpostctl: %s: the body: %s\n", e->id,
		    strerror(errno));
		return 1;
	}
	if ((r = blob_open(fd, pk, sk, id, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s: the body: %s\n", e->id, err);
		close(fd);
		return 1;
	}
	buf = malloc(BLOB_CHUNK);
	while (buf != NULL && (n = blob_pread(r, buf, BLOB_CHUNK, off)) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
		off += (uint64_t)n;
	}
	if (buf != NULL && off == blob_meta(r)->size && fflush(stdout) == 0)
		rc = 0;
	else
		fprintf(stderr, "sealpostctl: %s: the body: %s\n", e->id,
		    strerror(errno));
	if (buf != NULL) {
		sodium_memzero(buf, BLOB_CHUNK);
		free(buf);
	}
	blob_close(r);
	close(fd);
	return rc;
}

int
ctl_queue_main(const char *conffile, int argc, char **argv)
{
	struct sp_conf		*conf;
	struct queue_env	 e;
	char			 err[1024], path[1024], t[32];
	char			(*ids)[QUEUE_ID_LEN + 1] = NULL;
	char			 esc[QUEUE_ADDR_MAX * 4 + 1];
	unsigned char		*sk = NULL, pk[QUEUE_KEY_LEN];
	size_t			 n = 0, i;
	int			 fd, show, raw = 0, rc = 0;

	if (argc == 4 && strcmp(argv[1], "show") == 0 &&
	    strcmp(argv[3], "--raw") == 0) {
		raw = 1;
		argc--;
	}
	if (argc < 2 || (strcmp(argv[1], "list") != 0 &&
	    strcmp(argv[1], "show") != 0) ||
	    (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "show") == 0 && argc != 3)) {
		fprintf(stderr, "usage: sealpostctl [-c file] queue list\n"
		    "       sealpostctl [-c file] queue show ID [--raw]\n"
		    "       sealpostctl [-c file] queue flush [ID]\n"
		    "       sealpostctl [-c file] queue hold|release|delete "
		    "ID\n");
		return 2;
	}
	show = strcmp(argv[1], "show") == 0;
	if ((conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return 1;
	}
	if (sodium_init() < 0 || (sk = sodium_malloc(QUEUE_KEY_LEN)) == NULL) {
		fprintf(stderr, "sealpostctl: libsodium\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/queue/spool", conf->data_dir);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !show) {
			printf("the queue is empty\n");	/* never started */
			goto done;
		}
		fprintf(stderr, "sealpostctl: %s: %s\n", path,
		    strerror(errno));
		rc = 1;
		goto done;
	}
	snprintf(path, sizeof(path), "%s/keys/queue.key", conf->data_dir);
	if (queue_key_load(path, false, sk, pk, err, sizeof(err)) == -1) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		rc = 1;
		goto close;
	}
	if (show) {
		if (queue_store_get(fd, pk, sk, argv[2], &e, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "sealpostctl: %s\n", err);
			rc = 1;
		} else {
			if (raw)
				rc = ctl_queue_raw(fd, pk, sk, &e);
			else
				ctl_queue_show(&e);
			queue_env_free(&e);
		}
		goto close;
	}
	if (queue_store_ids(fd, &ids, &n) == -1) {
		fprintf(stderr, "sealpostctl: spool: %s\n", strerror(errno));
		rc = 1;
		goto close;
	}
	if (n == 0)
		printf("the queue is empty\n");
	else
		printf("%-32s %10s %-20s %-8s %s\n", "ID", "SIZE", "QUEUED",
		    "TRIES", "FROM -> RECIPIENTS");
	for (i = 0; i < n; i++) {
		if (queue_store_get(fd, pk, sk, ids[i], &e, err,
		    sizeof(err)) == -1) {
			printf("%-32s error: %s\n", ids[i], err);
			rc = 1;
			continue;
		}
		ctl_queue_time(e.created, t, sizeof(t));
		printf("%-32s %10" PRIu64 " %-20s %-3u%-5s <%s> -> %zu: <%s>%s\n",
		    e.id, e.size, t, e.attempts, e.held ? " held" : "",
		    log_esc(esc, sizeof(esc), e.from,
		    strlen(e.from)), e.nrcpts, e.rcpts[0].addr,
		    e.nrcpts > 1 ? ", ..." : "");
		queue_env_free(&e);
	}
	free(ids);
close:
	close(fd);
done:
	sodium_free(sk);
	conf_free(conf);
	return rc;
}
