/* SPDX-License-Identifier: ISC */
/*
 * test_pop3_drop.c - the POP3 maildrop (pop3_drop.c) over a real index in
 * a temporary folder with a real key pair: numbering in UID order,
 * sizes, UIDL strings, LIST and UIDL scans (one buffer, written in
 * bounded pieces), DELE and RSET, the RETR and TOP stream (dot-stuffing,
 * CRLF for bare LF, bare CR and a missing last line end, TOP 0, TOP past
 * the body, a header-only message, chunk boundaries), damaged, expunged
 * and unreadable messages, the commit at QUIT (\Seen, exactly the marked
 * ones expunged, one already gone), nothing changing without a commit,
 * and the maildrop lock.  Messages reach new/ through store_deliver(),
 * as the deliver service puts them.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "memfd.h"
#include "blob.h"
#include "store_deliver.h"
#include "index.h"
#include "pop3_drop.h"
#include "test.h"
#include "banned.h"

static unsigned char	 pk[crypto_box_PUBLICKEYBYTES];
static unsigned char	*sk;
static unsigned char	 other_pk[crypto_box_PUBLICKEYBYTES];
static unsigned char	*other_sk;

struct acct {
	char	dir[64];
	int	dirfd;
	int	newfd;
	int	blobsfd;
};

static int
acct_new(struct acct *a)
{
	char	p[128];

	snprintf(a->dir, sizeof(a->dir), "/tmp/sp-pop3drop-XXXXXX");
	if (mkdtemp(a->dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/new", a->dir);
	if (mkdir(p, 0770) == -1)
		return -1;
	snprintf(p, sizeof(p), "%s/blobs", a->dir);
	if (mkdir(p, 0700) == -1)
		return -1;
	a->dirfd = open(a->dir, O_RDONLY | O_DIRECTORY);
	a->newfd = openat(a->dirfd, "new", O_RDONLY | O_DIRECTORY);
	a->blobsfd = openat(a->dirfd, "blobs", O_RDONLY | O_DIRECTORY);
	return a->dirfd == -1 || a->newfd == -1 || a->blobsfd == -1 ? -1 : 0;
}

static void
acct_free(struct acct *a)
{
	char	cmd[128];

	close(a->newfd);
	close(a->blobsfd);
	close(a->dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", a->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", a->dir);
}

static struct index *
ix_open(struct acct *a)
{
	struct index	*ix;
	char		 err[INDEX_ERR_MAX];

	ix = index_open(a->dirfd, a->dir, pk, sk, INDEX_OPEN_CREATE, err,
	    sizeof(err));
	if (ix == NULL)
		fprintf(stderr, "# index_open: %s\n", err);
	return ix;
}

/* Deliver like the deliver service: 0 or -1; the file name in name. */
static int
deliver_key(struct acct *a, const unsigned char *key, const void *m,
    size_t len, const char *folder, char name[STORE_NAME_MAX])
{
	struct blob_meta	meta;
	char			err[256];
	int			fd, rc;

	memset(&meta, 0, sizeof(meta));
	meta.delivered = (uint64_t)time(NULL);
	strlcpy(meta.folder, folder, sizeof(meta.folder));
	strlcpy(meta.sender, "sender@example.test", sizeof(meta.sender));
	strlcpy(meta.rcpt, "demo@example.test", sizeof(meta.rcpt));
	if ((fd = memfd_sealed_from("msg", m, len)) == -1)
		return -1;
	rc = store_deliver(a->newfd, key, fd, len, &meta, name, err,
	    sizeof(err));
	if (rc == -1)
		fprintf(stderr, "# store_deliver: %s\n", err);
	close(fd);
	return rc;
}

static int
deliver(struct acct *a, const char *m, const char *folder)
{
	char	name[STORE_NAME_MAX];

	return deliver_key(a, pk, m, strlen(m), folder, name);
}

/* Import everything: the rows added, or -1. */
static long
import_all(struct index *ix)
{
	size_t	imported, remaining, total = 0;
	int	calls = 0;

	do {
		if (index_import(ix, INDEX_IMPORT_MAX, &imported,
		    &remaining) == -1) {
			fprintf(stderr, "# import: %s\n", index_errstr(ix));
			return -1;
		}
		total += imported;
	} while (remaining > 0 && ++calls < 100);
	return (long)total;
}

static int64_t
inbox_id(struct index *ix, uint32_t *uidvalidity_r, uint32_t *messages_r)
{
	struct index_mailbox	mb;

	if (index_mailbox_open(ix, "INBOX", &mb) != 1)
		return -1;
	if (uidvalidity_r != NULL)
		*uidvalidity_r = mb.uidvalidity;
	if (messages_r != NULL)
		*messages_r = mb.messages;
	return mb.id;
}

/* What the write callback got: all of it, how many writes, the largest. */
struct sink {
	char	*p;
	size_t	 len, cap;
	size_t	 writes;
	size_t	 largest;
	size_t	 fail_at;	/* this write fails (1-based); 0: none */
};

static int
sink_write(void *arg, const void *p, size_t len)
{
	struct sink	*s = arg;

	s->writes++;
	if (s->fail_at != 0 && s->writes >= s->fail_at)
		return -1;
	if (len > s->largest)
		s->largest = len;
	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->p = realloc(s->p, s->cap);
		if (s->p == NULL)
			abort();
	}
	memcpy(s->p + s->len, p, len);
	s->len += len;
	s->p[s->len] = '\0';
	return 0;
}

static void
sink_reset(struct sink *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

/* The sink holds exactly want (len bytes)? */
static int
sink_is(const struct sink *s, const char *want, size_t len)
{
	if (s->len != len || (len > 0 && memcmp(s->p, want, len) != 0)) {
		fprintf(stderr, "# got %zu bytes, want %zu\n", s->len, len);
		if (s->len < 400 && len < 400)
			fprintf(stderr, "# got: \"%.*s\"\n# want: \"%.*s\"\n",
			    (int)s->len, s->p != NULL ? s->p : "", (int)len,
			    want);
		return 0;
	}
	return 1;
}

#define SINK_IS(s, str)	sink_is((s), (str), sizeof(str) - 1)

/*
 * RETR or TOP of msgno into a fresh sink: the result, the sink holding
 * what was written.
 */
static enum pop3_send
send_one(struct pop3_drop *d, uint32_t msgno, bool top, uint32_t lines,
    struct sink *s)
{
	const char	*ok = top ? "+OK\r\n" : "+OK x\r\n";

	sink_reset(s);
	return pop3_drop_send(d, msgno, top, lines, ok, strlen(ok),
	    sink_write, s);
}

/*
 * A second, simple-minded encoder for comparison: line by line, each
 * line ended by CRLF, LF, CR or the end of the message.
 */
static char *
ref_encode(const char *ok, const unsigned char *m, size_t len, bool top,
    uint32_t lines, size_t *len_r)
{
	char	*out = malloc(strlen(ok) + 2 * len + 16);
	size_t	 o = 0, pos = 0, e, eol;
	bool	 header = true;
	uint32_t body = 0;

	memcpy(out, ok, strlen(ok));
	o = strlen(ok);
	while (pos < len) {
		for (e = pos; e < len && m[e] != '\r' && m[e] != '\n'; e++)
			;
		if (e == len)
			eol = 0;
		else if (m[e] == '\r' && e + 1 < len && m[e + 1] == '\n')
			eol = 2;
		else
			eol = 1;
		if (e > pos && m[pos] == '.')
			out[o++] = '.';
		memcpy(out + o, m + pos, e - pos);
		o += e - pos;
		out[o++] = '\r';
		out[o++] = '\n';
		if (top) {
			if (header) {
				if (e == pos) {
					header = false;
					if (lines == 0)
						break;
				}
			} else if (++body >= lines)
				break;
		}
		pos = e + eol;
	}
	memcpy(out + o, ".\r\n", 3);
	o += 3;
	*len_r = o;
	return out;
}

/* --- tests -------------------------------------------------------------- */

static const char *msg_a = "From: a@example.test\r\nSubject: one\r\n\r\nHi\r\n";
static const char *msg_b = "From: b@example.test\r\n\r\nsecond message\r\n";
static const char *msg_c = "From: c@example.test\r\n\r\nthird\r\nlines\r\n";

static void
test_snapshot(void)
{
	struct acct			 a;
	struct index			*ix;
	struct pop3_drop		*d;
	const struct pop3_drop_msg	*m;
	char				 id[POP3_UIDL_MAX], want[64];
	uint32_t			 n, uidvalidity = 0, i;
	uint64_t			 octets;

	test_begin("snapshot: INBOX only, numbered 1..n in UID order");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	/* an empty maildrop */
	test_assert((d = pop3_drop_open(ix)) != NULL);
	pop3_drop_stat(d, &n, &octets);
	test_assert(n == 0 && octets == 0 && d->n == 0);
	test_assert(pop3_drop_msg(d, 1) == NULL);
	pop3_drop_close(d);

	test_assert(deliver(&a, msg_a, "INBOX") == 0);
	test_assert(deliver(&a, "From: x\r\n\r\njunk\r\n", "Junk") == 0);
	test_assert(deliver(&a, msg_b, "INBOX") == 0);
	test_assert(deliver(&a, msg_c, "INBOX") == 0);
	test_assert(import_all(ix) == 4);
	test_assert(inbox_id(ix, &uidvalidity, NULL) != -1);
	test_assert((d = pop3_drop_open(ix)) != NULL);
	if (d == NULL)
		goto out;
	test_assert(d->n == 3 && !d->truncated);
	test_assert(d->uidvalidity == uidvalidity);
	pop3_drop_stat(d, &n, &octets);
	test_assert(n == 3 && octets == strlen(msg_a) + strlen(msg_b) +
	    strlen(msg_c));
	test_assert(pop3_drop_msg(d, 0) == NULL);
	test_assert(pop3_drop_msg(d, 4) == NULL);
	test_assert(pop3_drop_msg(d, UINT32_MAX) == NULL);
	test_assert((m = pop3_drop_msg(d, 1)) != NULL && m->size ==
	    strlen(msg_a) && !m->deleted && !m->damaged && !m->retrieved);
	test_assert((m = pop3_drop_msg(d, 2)) != NULL && m->size ==
	    strlen(msg_b));
	test_assert((m = pop3_drop_msg(d, 3)) != NULL && m->size ==
	    strlen(msg_c));
	for (i = 1; i < d->n; i++)
		test_assert(d->msgs[i - 1].uid < d->msgs[i].uid);
	/* UIDL: "<uidvalidity>.<uid>", what IMAP shows for INBOX */
	for (i = 1; i <= 3; i++) {
		test_assert(pop3_drop_uidl(d, i, id, sizeof(id)) == 0);
		snprintf(want, sizeof(want), "%u.%u", uidvalidity,
		    d->msgs[i - 1].uid);
		test_assert_streq(id, want);
	}
	test_assert(pop3_drop_uidl(d, 4, id, sizeof(id)) == -1);
	test_assert(pop3_drop_uidl(d, 1, id, 3) == -1);
	/* the snapshot stays while new mail comes in */
	test_assert(deliver(&a, msg_a, "INBOX") == 0);
	test_assert(import_all(ix) == 1);
	test_assert(d->n == 3 && pop3_drop_msg(d, 4) == NULL);
	pop3_drop_close(d);
	test_assert((d = pop3_drop_open(ix)) != NULL);
	test_assert(d != NULL && d->n == 4);
	pop3_drop_close(d);
out:
	index_close(ix);
	acct_free(&a);
	test_end();
}

static void
test_dele_rset_scan(void)
{
	struct acct		 a;
	struct index		*ix;
	struct pop3_drop	*d;
	struct buf		*b;
	struct sink		 s;
	char			 want[512];
	uint32_t		 n, uv = 0;
	uint64_t		 octets;
	size_t			 la = strlen(msg_a), lb = strlen(msg_b),
				 lc = strlen(msg_c);

	test_begin("DELE, RSET, LIST and UIDL scans");
	memset(&s, 0, sizeof(s));
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert(deliver(&a, msg_a, "INBOX") == 0);
	test_assert(deliver(&a, msg_b, "INBOX") == 0);
	test_assert(deliver(&a, msg_c, "INBOX") == 0);
	test_assert(import_all(ix) == 3);
	test_assert(inbox_id(ix, &uv, NULL) != -1);
	test_assert((d = pop3_drop_open(ix)) != NULL);
	if (d == NULL)
		goto out;
	test_assert(pop3_drop_dele(d, 2) == 1);
	test_assert(pop3_drop_dele(d, 2) == 0);	/* already marked */
	test_assert(pop3_drop_msg(d, 2)->deleted);
	test_assert(pop3_drop_dele(d, 0) == 0 && pop3_drop_dele(d, 4) == 0);
	pop3_drop_stat(d, &n, &octets);
	test_assert(n == 2 && octets == la + lc);
	test_assert(d->ndeleted == 1);

	b = buf_new(POP3_DROP_CHUNK + 64);
	test_assert(buf_add(b, "+OK\r\n", 5) == 0);
	test_assert(pop3_drop_scan(d, POP3_SCAN_LIST, b, sink_write, &s) ==
	    0);
	snprintf(want, sizeof(want), "+OK\r\n1 %zu\r\n3 %zu\r\n.\r\n", la,
	    lc);
	test_assert(sink_is(&s, want, strlen(want)));
	test_assert(s.writes == 1 && b->len == 0);
	sink_reset(&s);
	test_assert(pop3_drop_scan(d, POP3_SCAN_UIDL, b, sink_write, &s) ==
	    0);
	snprintf(want, sizeof(want), "1 %u.%u\r\n3 %u.%u\r\n.\r\n", uv,
	    d->msgs[0].uid, uv, d->msgs[2].uid);
	test_assert(sink_is(&s, want, strlen(want)));
	/* RETR of a marked message: nothing sent */
	test_assert(send_one(d, 2, false, 0, &s) == POP3_SEND_NOMSG &&
	    s.writes == 0);

	pop3_drop_rset(d);
	pop3_drop_stat(d, &n, &octets);
	test_assert(n == 3 && octets == la + lb + lc && d->ndeleted == 0);
	test_assert(!pop3_drop_msg(d, 2)->deleted);
	sink_reset(&s);
	test_assert(pop3_drop_scan(d, POP3_SCAN_LIST, b, sink_write, &s) ==
	    0);
	snprintf(want, sizeof(want), "1 %zu\r\n2 %zu\r\n3 %zu\r\n.\r\n", la,
	    lb, lc);
	test_assert(sink_is(&s, want, strlen(want)));
	/* all marked: an empty listing */
	test_assert(pop3_drop_dele(d, 1) == 1 && pop3_drop_dele(d, 2) == 1 &&
	    pop3_drop_dele(d, 3) == 1);
	sink_reset(&s);
	test_assert(pop3_drop_scan(d, POP3_SCAN_UIDL, b, sink_write, &s) ==
	    0);
	test_assert(SINK_IS(&s, ".\r\n"));
	/* a failed write is reported */
	sink_reset(&s);
	s.fail_at = 1;
	test_assert(pop3_drop_scan(d, POP3_SCAN_LIST, b, sink_write, &s) ==
	    -1);
	buf_free(&b);
	pop3_drop_close(d);
out:
	sink_reset(&s);
	index_close(ix);
	acct_free(&a);
	test_end();
}

/* A large drop (made up, no index needed): the scan in bounded writes. */
static void
test_scan_large(void)
{
	struct pop3_drop	 d;
	struct buf		*b;
	struct sink		 s;
	char			 line[64];
	size_t			 off = 0, k;
	uint32_t		 i;
	int			 ok = 1;

	test_begin("scan: 20,000 messages in few bounded writes");
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	d.n = 20000;
	d.uidvalidity = 1700000000;
	d.msgs = calloc(d.n, sizeof(*d.msgs));
	for (i = 0; i < d.n; i++) {
		d.msgs[i].uid = 3 * i + 7;
		d.msgs[i].size = 1000 + i;
	}
	d.msgs[9].deleted = true;
	b = buf_new(POP3_DROP_CHUNK + 64);
	test_assert(pop3_drop_scan(&d, POP3_SCAN_UIDL, b, sink_write, &s) ==
	    0);
	test_assert(s.writes >= 2 && s.writes <= 20);
	test_assert(s.largest <= POP3_DROP_CHUNK + 64);
	for (i = 1; i <= d.n && ok; i++) {
		if (i == 10)
			continue;
		k = (size_t)snprintf(line, sizeof(line), "%u 1700000000.%u\r\n",
		    i, 3 * (i - 1) + 7);
		if (off + k > s.len || memcmp(s.p + off, line, k) != 0)
			ok = 0;
		off += k;
	}
	test_assert(ok && off + 3 == s.len && memcmp(s.p + off, ".\r\n", 3) ==
	    0);
	/* a small buffer: the add fails, not the process */
	buf_free(&b);
	b = buf_new(100);
	sink_reset(&s);
	test_assert(pop3_drop_scan(&d, POP3_SCAN_LIST, b, sink_write, &s) ==
	    -1);
	buf_free(&b);
	sink_reset(&s);
	free(d.msgs);
	test_end();
}

static void
test_stream(void)
{
	struct acct		 a;
	struct index		*ix;
	struct pop3_drop	*d;
	struct sink		 s;
	uint32_t		 n;
	uint64_t		 octets;
	static const char	*msgs[] = {
		/* 1: dots, no final CRLF */
		"From: a\r\nSubject: dots\r\n\r\n.line\r\n..two\r\n.\r\n"
		    "a.b\r\nend",
		/* 2: bare LF throughout, a dot line */
		"From: b\nSubject: lf\n\nx\n.y\n.\nlast\n",
		/* 3: header only, no empty line, no final CRLF */
		"From: c\r\nSubject: header only",
		/* 4: bare CR, a CR at the very end */
		"From: d\r\n\r\nx\ry\r.z\r",
		/* 5: an empty body line, then more */
		"From: e\r\n\r\n\r\n\r\nthree\r\n",
		/* 6: a header with a dot-line (folded?) and a dot body */
		".Odd: header\r\n\r\n.\r\n",
	};
	size_t			 i;

	test_begin("RETR and TOP: dot-stuffing and CRLF");
	memset(&s, 0, sizeof(s));
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		test_assert(deliver(&a, msgs[i], "INBOX") == 0);
	test_assert(import_all(ix) == (long)(sizeof(msgs) / sizeof(msgs[0])));
	test_assert((d = pop3_drop_open(ix)) != NULL);
	if (d == NULL)
		goto out;

	test_assert(send_one(d, 1, false, 0, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK x\r\nFrom: a\r\nSubject: dots\r\n\r\n"
	    "..line\r\n...two\r\n..\r\na.b\r\nend\r\n.\r\n"));
	test_assert(s.writes == 1);	/* the ok line with the message */
	test_assert(send_one(d, 1, true, 0, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: a\r\nSubject: dots\r\n\r\n"
	    ".\r\n"));
	test_assert(send_one(d, 1, true, 2, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: a\r\nSubject: dots\r\n\r\n"
	    "..line\r\n...two\r\n.\r\n"));
	/* past the end of the body: all of it, the last line ended */
	test_assert(send_one(d, 1, true, 1000, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: a\r\nSubject: dots\r\n\r\n"
	    "..line\r\n...two\r\n..\r\na.b\r\nend\r\n.\r\n"));
	test_assert(send_one(d, 1, true, UINT32_MAX, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: a\r\nSubject: dots\r\n\r\n"
	    "..line\r\n...two\r\n..\r\na.b\r\nend\r\n.\r\n"));

	test_assert(send_one(d, 2, false, 0, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK x\r\nFrom: b\r\nSubject: lf\r\n\r\n"
	    "x\r\n..y\r\n..\r\nlast\r\n.\r\n"));
	test_assert(send_one(d, 2, true, 0, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: b\r\nSubject: lf\r\n\r\n"
	    ".\r\n"));
	test_assert(send_one(d, 2, true, 1, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: b\r\nSubject: lf\r\n\r\n"
	    "x\r\n.\r\n"));

	/* header only: TOP sends the header, whatever the count */
	test_assert(send_one(d, 3, false, 0, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK x\r\nFrom: c\r\nSubject: header only\r\n"
	    ".\r\n"));
	test_assert(send_one(d, 3, true, 0, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: c\r\nSubject: header only\r\n"
	    ".\r\n"));
	test_assert(send_one(d, 3, true, 10, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: c\r\nSubject: header only\r\n"
	    ".\r\n"));

	/* a bare CR ends a line too (a "." after it is stuffed) */
	test_assert(send_one(d, 4, false, 0, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK x\r\nFrom: d\r\n\r\nx\r\ny\r\n..z\r\n"
	    ".\r\n"));
	test_assert(send_one(d, 4, true, 2, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: d\r\n\r\nx\r\ny\r\n.\r\n"));

	/* empty body lines count as lines */
	test_assert(send_one(d, 5, true, 2, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: e\r\n\r\n\r\n\r\n.\r\n"));
	test_assert(send_one(d, 5, true, 3, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK\r\nFrom: e\r\n\r\n\r\n\r\nthree\r\n"
	    ".\r\n"));

	test_assert(send_one(d, 6, false, 0, &s) == POP3_SEND_OK);
	test_assert(SINK_IS(&s, "+OK x\r\n..Odd: header\r\n\r\n..\r\n.\r\n"));

	/* only RETR marks a message retrieved */
	test_assert(d->nretrieved == 5);
	test_assert(d->msgs[0].retrieved && d->msgs[5].retrieved &&
	    !d->msgs[4].retrieved);
	/* out of range: nothing sent */
	test_assert(send_one(d, 0, false, 0, &s) == POP3_SEND_NOMSG &&
	    s.len == 0);
	test_assert(send_one(d, 7, true, 0, &s) == POP3_SEND_NOMSG &&
	    s.len == 0);
	/* a failed write */
	sink_reset(&s);
	s.fail_at = 1;
	test_assert(pop3_drop_send(d, 1, false, 0, "+OK\r\n", 5, sink_write,
	    &s) == POP3_SEND_WRITE);
	pop3_drop_stat(d, &n, &octets);
	test_assert(n == 6);
	pop3_drop_close(d);
out:
	sink_reset(&s);
	index_close(ix);
	acct_free(&a);
	test_end();
}

/* Message bytes from a small alphabet heavy in dots and line ends. */
static unsigned char *
msg_tricky(size_t len, uint32_t seed)
{
	static const char	 alpha[] = "ab.\r\n. x\r\n.";
	unsigned char		*m = malloc(len);
	uint32_t		 x = seed;
	size_t			 i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		m[i] = (unsigned char)alpha[(x >> 16) % (sizeof(alpha) - 1)];
		/* long runs of plain bytes too, past a chunk */
		if (i > 100000 && i < 250000)
			m[i] = 'q';
	}
	return m;
}

static void
test_stream_large(void)
{
	struct acct		 a;
	struct index		*ix;
	struct pop3_drop	*d;
	struct sink		 s;
	unsigned char		*m[3];
	char			*want;
	size_t			 wlen, i, len[3] = { 300000, 65536 * 2,
				     65537 };
	static const uint32_t	 tops[] = { 0, 1, 5, 40000, UINT32_MAX };
	uint32_t		 k, t;

	test_begin("RETR and TOP: large messages across chunk boundaries");
	memset(&s, 0, sizeof(s));
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	for (i = 0; i < 3; i++) {
		m[i] = msg_tricky(len[i], (uint32_t)(i + 1));
		/* a header first, so that TOP has one to find */
		memcpy(m[i], "H: 1\r\n\r\n", 8);
		/* CRLF split over the chunk boundary, a dot after it */
		m[i][65535] = '\r';
		if (len[i] > 65537) {
			m[i][65536] = '\n';
			m[i][65537] = '.';
		} else
			m[i][65536] = '.';	/* the last byte */
		test_assert(deliver_key(&a, pk, m[i], len[i], "INBOX",
		    (char[STORE_NAME_MAX]){ 0 }) == 0);
	}
	test_assert(import_all(ix) == 3);
	test_assert((d = pop3_drop_open(ix)) != NULL);
	if (d == NULL)
		goto out;
	for (k = 1; k <= 3; k++) {
		test_assert(send_one(d, k, false, 0, &s) == POP3_SEND_OK);
		want = ref_encode("+OK x\r\n", m[k - 1], len[k - 1], false, 0,
		    &wlen);
		test_assert(sink_is(&s, want, wlen));
		free(want);
		/* bounded writes, not one per line or per message */
		test_assert(s.largest <= POP3_DROP_CHUNK + 8);
		test_assert(s.writes <= 2 * (len[k - 1] / POP3_DROP_CHUNK) +
		    3);
		for (t = 0; t < sizeof(tops) / sizeof(tops[0]); t++) {
			test_assert(send_one(d, k, true, tops[t], &s) ==
			    POP3_SEND_OK);
			want = ref_encode("+OK\r\n", m[k - 1], len[k - 1], true,
			    tops[t], &wlen);
			test_assert(sink_is(&s, want, wlen));
			free(want);
		}
	}
	pop3_drop_close(d);
out:
	for (i = 0; i < 3; i++)
		free(m[i]);
	sink_reset(&s);
	index_close(ix);
	acct_free(&a);
	test_end();
}

static int
flip_byte(int dirfd, const char *name, off_t off)
{
	unsigned char	c;
	int		fd, ok;

	if ((fd = openat(dirfd, name, O_RDWR)) == -1)
		return -1;
	ok = pread(fd, &c, 1, off) == 1;
	c ^= 0x20;
	ok = ok && pwrite(fd, &c, 1, off) == 1;
	close(fd);
	return ok ? 0 : -1;
}

static void
test_unreadable(void)
{
	struct acct		 a;
	struct index		*ix, *ix2;
	struct pop3_drop	*d;
	struct sink		 s;
	struct stat		 st;
	unsigned char		*big;
	char			 name[STORE_NAME_MAX];
	char			 big_name[STORE_NAME_MAX];
	uint32_t		 uid;
	size_t			 i;
	int64_t			 inbox;

	test_begin("RETR: damaged, expunged meanwhile, a read error");
	memset(&s, 0, sizeof(s));
	big = malloc(200000);
	for (i = 0; i < 200000; i++)
		big[i] = i % 80 == 79 ? '\n' : 'a' + (unsigned char)(i % 26);
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	/* 1: sealed to another account: a placeholder */
	test_assert(deliver_key(&a, other_pk, msg_a, strlen(msg_a), "INBOX",
	    name) == 0);
	test_assert(deliver(&a, msg_b, "INBOX") == 0);
	test_assert(deliver_key(&a, pk, big, 200000, "INBOX", big_name) == 0);
	test_assert(import_all(ix) == 3);
	test_assert((inbox = inbox_id(ix, NULL, NULL)) != -1);
	test_assert((d = pop3_drop_open(ix)) != NULL);
	if (d == NULL)
		goto out;
	test_assert(d->n == 3 && d->msgs[0].damaged && !d->msgs[1].damaged);
	test_assert(send_one(d, 1, false, 0, &s) == POP3_SEND_DAMAGED &&
	    s.writes == 0);
	test_assert(send_one(d, 1, true, 0, &s) == POP3_SEND_DAMAGED &&
	    s.writes == 0);
	/* a damaged message can be deleted */
	test_assert(pop3_drop_dele(d, 1) == 1);

	/* 2: expunged by an IMAP session since the snapshot */
	test_assert((ix2 = ix_open(&a)) != NULL);
	uid = d->msgs[1].uid;
	test_assert(index_expunge(ix2, inbox, &uid, 1, 0, NULL, NULL) == 0);
	index_close(ix2);
	test_assert(send_one(d, 2, false, 0, &s) == POP3_SEND_GONE &&
	    s.writes == 0);
	test_assert(!d->msgs[1].retrieved);

	/* 3: a chunk near the end is tampered: the +OK and what was read
	 * go out, the final "." never does */
	test_assert(fstatat(a.blobsfd, big_name, &st, 0) == 0);
	test_assert(flip_byte(a.blobsfd, big_name, st.st_size - 100) == 0);
	test_assert(send_one(d, 3, false, 0, &s) == POP3_SEND_READ);
	test_assert(errno == EBADMSG);
	test_assert(s.len > 7 && memcmp(s.p, "+OK x\r\n", 7) == 0);
	test_assert(s.len >= 3 && memcmp(s.p + s.len - 3, ".\r\n", 3) != 0);
	test_assert(s.len < 200000 + 200000 / 80 + 10);
	test_assert(!d->msgs[2].retrieved && d->nretrieved == 0);
	pop3_drop_close(d);
out:
	free(big);
	sink_reset(&s);
	index_close(ix);
	acct_free(&a);
	test_end();
}

struct flagwalk {
	uint32_t	uids[16];
	uint32_t	flags[16];
	size_t		n;
};

static int
flagwalk_cb(const struct index_msg_info *mi, void *arg)
{
	struct flagwalk	*w = arg;

	if (w->n < 16) {
		w->uids[w->n] = mi->uid;
		w->flags[w->n] = mi->flags;
		w->n++;
	}
	return 0;
}

static void
walk(struct index *ix, int64_t inbox, struct flagwalk *w)
{
	memset(w, 0, sizeof(*w));
	if (index_msg_foreach(ix, inbox, 1, UINT32_MAX, 0, flagwalk_cb, w) !=
	    0)
		w->n = SIZE_MAX;
}

static void
test_commit(void)
{
	struct acct		 a;
	struct index		*ix, *ix2;
	struct pop3_drop	*d;
	struct pop3_commit	 res;
	struct flagwalk		 w;
	struct sink		 s;
	uint32_t		 uids[5], uid;
	char			 body[5][128];
	size_t			 i;
	uint64_t		 freed;
	int64_t			 inbox;

	test_begin("QUIT: \\Seen on retrieved, exactly the marked expunged");
	memset(&s, 0, sizeof(s));
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	for (i = 0; i < 5; i++) {
		/* distinct bytes: distinct blobs, each freed on its own */
		snprintf(body[i], sizeof(body[i]), "From: n%zu\r\n\r\nbody "
		    "%zu\r\n", i, i * 1111);
		test_assert(deliver(&a, body[i], "INBOX") == 0);
	}
	test_assert(import_all(ix) == 5);
	test_assert((inbox = inbox_id(ix, NULL, NULL)) != -1);
	(void)index_freed_take(ix);

	/* closed without a commit: nothing changes */
	test_assert((d = pop3_drop_open(ix)) != NULL);
	if (d == NULL)
		goto out;
	for (i = 0; i < 5; i++)
		uids[i] = d->msgs[i].uid;
	test_assert(send_one(d, 1, false, 0, &s) == POP3_SEND_OK);
	for (i = 1; i <= 5; i++)
		test_assert(pop3_drop_dele(d, (uint32_t)i) == 1);
	pop3_drop_close(d);
	walk(ix, inbox, &w);
	test_assert(w.n == 5);
	for (i = 0; i < w.n && i < 5; i++)
		test_assert(w.uids[i] == uids[i] && w.flags[i] == 0);
	test_assert(index_freed_take(ix) == 0);

	/* RETR 1, 2, 5; DELE 2, 3, 4; 4 is expunged by IMAP meanwhile */
	test_assert((d = pop3_drop_open(ix)) != NULL);
	if (d == NULL)
		goto out;
	test_assert(send_one(d, 1, false, 0, &s) == POP3_SEND_OK);
	test_assert(send_one(d, 2, false, 0, &s) == POP3_SEND_OK);
	test_assert(send_one(d, 5, true, 0, &s) == POP3_SEND_OK); /* TOP */
	test_assert(pop3_drop_dele(d, 2) == 1 && pop3_drop_dele(d, 3) == 1 &&
	    pop3_drop_dele(d, 4) == 1);
	test_assert((ix2 = ix_open(&a)) != NULL);
	uid = uids[3];
	test_assert(index_expunge(ix2, inbox, &uid, 1, 0, NULL, NULL) == 0);
	index_close(ix2);
	test_assert(pop3_drop_commit(d, &res) == 0);
	test_assert(res.deleted == 3 && res.expunged == 2 && res.seen == 1 &&
	    !res.seen_failed);
	test_assert(d->nretrieved == 2);
	freed = index_freed_take(ix);
	test_assert(freed > 0);
	pop3_drop_close(d);
	walk(ix, inbox, &w);
	test_assert(w.n == 2);
	if (w.n == 2) {
		test_assert(w.uids[0] == uids[0] && w.flags[0] ==
		    INDEX_F_SEEN);
		test_assert(w.uids[1] == uids[4] && w.flags[1] == 0);
	}
	/* the next session: numbered afresh */
	test_assert((d = pop3_drop_open(ix)) != NULL);
	if (d != NULL) {
		test_assert(d->n == 2 && d->msgs[0].uid == uids[0] &&
		    d->msgs[1].uid == uids[4]);
		/* a commit with nothing to do */
		test_assert(pop3_drop_commit(d, &res) == 0 &&
		    res.deleted == 0 && res.expunged == 0 && res.seen == 0);
		pop3_drop_close(d);
	}
	walk(ix, inbox, &w);
	test_assert(w.n == 2);
out:
	sink_reset(&s);
	index_close(ix);
	acct_free(&a);
	test_end();
}

static void
test_lock(void)
{
	struct acct	a;
	struct stat	st;
	pid_t		pid;
	int		fd, fd2, status;

	test_begin("the maildrop lock: one holder at a time");
	test_assert(acct_new(&a) == 0);
	test_assert(pop3_drop_lock(a.dirfd, &fd) == 1 && fd != -1);
	test_assert(fstatat(a.dirfd, "pop3.lock", &st, AT_SYMLINK_NOFOLLOW) ==
	    0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
	/* another process is refused at once */
	if ((pid = fork()) == 0)
		_exit(pop3_drop_lock(a.dirfd, &fd2) == 0 && fd2 == -1 ? 0 : 1);
	test_assert(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	/* released: the other process gets it */
	if ((pid = fork()) == 0)
		_exit(pop3_drop_lock(a.dirfd, &fd2) == 1 ? 0 : 1);
	test_assert(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* a symlink in its place is not followed */
	test_assert(unlinkat(a.dirfd, "pop3.lock", 0) == 0);
	test_assert(symlinkat("/tmp/sp-pop3drop-elsewhere", a.dirfd,
	    "pop3.lock") == 0);
	errno = 0;
	test_assert(pop3_drop_lock(a.dirfd, &fd) == -1 && errno == ELOOP &&
	    fd == -1);
	acct_free(&a);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_snapshot, test_dele_rset_scan, test_scan_large,
		test_stream, test_stream_large, test_unreadable, test_commit,
		test_lock, NULL
	};

	if (sodium_init() < 0 || index_init() == -1 ||
	    (sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL ||
	    (other_sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL)
		return 1;
	crypto_box_keypair(pk, sk);
	crypto_box_keypair(other_pk, other_sk);
	return test_run(tests);
}
