/* SPDX-License-Identifier: ISC */
/*
 * test_index.c - an account's index: import of new/ (0, 1, 600 messages
 * in bounded batches), byte-identical reads (whole and across chunk
 * boundaries), UIDs never reused, the six mailboxes, flags and modseq,
 * append, copy, move, expunge, a crash at each named step, tampered and
 * foreign blobs, and two processes importing at once.  Messages reach
 * new/ through store_deliver(), exactly as the deliver service puts them.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "memfd.h"
#include "blob.h"
#include "store_deliver.h"
#include "index.h"
#include "meta.h"
#include "meta_seal.h"
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

	snprintf(a->dir, sizeof(a->dir), "/tmp/sp-index-XXXXXX");
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

/* Message bytes that depend only on (seed, len). */
static unsigned char *
msg_make(size_t len, uint32_t seed)
{
	unsigned char	 s[randombytes_SEEDBYTES] = { 0 };
	unsigned char	*m = malloc(len + 1);

	memcpy(s, &seed, sizeof(seed));
	randombytes_buf_deterministic(m, len, s);
	return m;
}

/* Deliver like the deliver service: 0 or -1; the file name in name. */
static int
deliver_key(struct acct *a, const unsigned char *key, const unsigned char *m,
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
deliver(struct acct *a, const unsigned char *m, size_t len,
    const char *folder)
{
	char	name[STORE_NAME_MAX];

	return deliver_key(a, pk, m, len, folder, name);
}

/* Entries of a directory; only ".tmp-" ones with tmp_only. */
static int
count_dir(int dirfd, int tmp_only)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0, fd;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY)) == -1 ||
	    (d = fdopendir(fd)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!tmp_only || strncmp(de->d_name, ".tmp-", 5) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int64_t
mbox_id(struct index *ix, const char *name)
{
	struct index_mailbox	mb;

	if (index_mailbox_open(ix, name, &mb) != 1)
		return -1;
	return mb.id;
}

static uint32_t
mbox_count(struct index *ix, const char *name)
{
	struct index_mailbox	mb;

	if (index_mailbox_open(ix, name, &mb) != 1)
		return UINT32_MAX;
	return mb.messages;
}

/* Read the whole message in steps of step bytes: identical to want? */
static int
read_equal(struct index *ix, int64_t mbox, uint32_t uid,
    const unsigned char *want, size_t len, size_t step)
{
	struct index_msg	*msg;
	unsigned char		*got;
	size_t			 off = 0;
	ssize_t			 n;
	int			 ok = 1;

	if ((msg = index_msg_open(ix, mbox, uid)) == NULL) {
		fprintf(stderr, "# open uid %u: %s\n", uid,
		    index_errstr(ix));
		return 0;
	}
	if (index_msg_size(msg) != len)
		ok = 0;
	got = malloc(step + 1);
	while (ok && off < len) {
		n = index_msg_pread(msg, got, step, off);
		if (n <= 0 || memcmp(got, want + off, (size_t)n) != 0)
			ok = 0;
		else
			off += (size_t)n;
	}
	if (ok && index_msg_pread(msg, got, step, len) != 0)
		ok = 0;
	free(got);
	index_msg_close(msg);
	return ok;
}

/* Import everything, in batches of max; the number of calls or -1. */
static int
import_all(struct index *ix, size_t max, size_t *total_r)
{
	size_t	imported, remaining, total = 0;
	int	calls = 0;

	do {
		if (index_import(ix, max, &imported, &remaining) == -1) {
			fprintf(stderr, "# import: %s\n", index_errstr(ix));
			return -1;
		}
		total += imported;
		calls++;
	} while (remaining > 0 && calls < 1000);
	*total_r = total;
	return calls;
}

/* uids seen by index_msg_foreach */
struct seen {
	uint32_t	uids[1024];
	size_t		n;
	int		ascending;
};

static int
seen_cb(const struct index_msg_info *m, void *arg)
{
	struct seen	*s = arg;

	if (s->n > 0 && m->uid <= s->uids[s->n - 1])
		s->ascending = 0;
	if (s->n < sizeof(s->uids) / sizeof(s->uids[0]))
		s->uids[s->n++] = m->uid;
	return 0;
}

static void
foreach_all(struct index *ix, int64_t mbox, uint64_t since, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	s->ascending = 1;
	if (index_msg_foreach(ix, mbox, 1, UINT32_MAX, since, seen_cb, s) !=
	    0)
		s->n = SIZE_MAX;
}

/* index_check with no problem at all (damaged rows allowed if ok_dmg). */
static int
check_clean(struct index *ix, int ok_dmg)
{
	struct index_check	res;
	size_t			i, bad = 0;

	if (index_check(ix, 0, &res) == -1)
		return 0;
	for (i = 0; i < INDEX_P_MAX; i++)
		if (res.count[i] != 0 && !(ok_dmg && i == INDEX_P_DAMAGED)) {
			bad++;
			fprintf(stderr, "# check: kind %zu: %zu\n", i,
			    res.count[i]);
		}
	for (i = 0; i < res.nlist; i++)
		if (!(ok_dmg && res.list[i].kind == INDEX_P_DAMAGED))
			fprintf(stderr, "# check: %s %s: %s\n",
			    res.list[i].where, res.list[i].name,
			    res.list[i].detail);
	index_check_free(&res);
	return bad == 0;
}

/* --- tests --------------------------------------------------------------- */

static void
test_open(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_mailbox	*l = NULL, mb;
	struct stat		 st;
	char			 err[256];
	size_t			 n = 0, i, imported = 9, remaining = 9;
	uint32_t		 uv;

	test_begin("open: six mailboxes with special use, import of none");
	test_assert(acct_new(&a) == 0);
	/* without CREATE an empty folder is refused */
	test_assert(index_open(a.dirfd, a.dir, pk, sk, 0, err,
	    sizeof(err)) == NULL);
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert(index_mailbox_list(ix, &l, &n) == 0 && n == 6);
	for (i = 0; i < n; i++) {
		test_assert(l[i].uidnext == 1 && l[i].uidvalidity != 0 &&
		    l[i].highestmodseq == 1 && l[i].messages == 0 &&
		    l[i].subscribed == 1);
		if (strcmp(l[i].name, "INBOX") == 0)
			test_assert(l[i].special_use == INDEX_SPECIAL_NONE);
		else
			test_assert(index_special_use_name(l[i].special_use) !=
			    NULL && strcmp(index_special_use_name(
			    l[i].special_use) + 1, l[i].name) == 0);
	}
	free(l);
	test_assert(index_mailbox_open(ix, "inbox", &mb) == 1 &&
	    strcmp(mb.name, "INBOX") == 0);
	uv = mb.uidvalidity;
	test_assert(index_mailbox_open(ix, "Nope", &mb) == 0);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 0 && remaining == 0);
	index_close(ix);
	test_assert(fstatat(a.dirfd, "index.db", &st, 0) == 0 &&
	    (st.st_mode & 0777) == 0600);
	test_assert(fstatat(a.dirfd, "changes", &st, 0) == 0);
	/* reopened: the same mailboxes, the same uidvalidity */
	test_assert((ix = index_open(a.dirfd, a.dir, pk, sk, 0, err,
	    sizeof(err))) != NULL);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1 &&
	    mb.uidvalidity == uv);
	index_close(ix);
	/* a path that is not dirfd's folder is refused */
	test_assert(index_open(a.dirfd, "/tmp", pk, sk, 0, err,
	    sizeof(err)) == NULL);
	acct_free(&a);
	test_end();
}

static void
test_import_one(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_mailbox	 mb;
	struct index_msg_info	 info;
	struct index_msg	*msg;
	unsigned char		*m = msg_make(1000, 1);
	size_t			 imported, remaining;
	uint64_t		 bytes, blobs;

	test_begin("import: one message, row first, moved, read back");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert(deliver(&a, m, 1000, "INBOX") == 0);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 1 && remaining == 0);
	test_assert(count_dir(a.newfd, 0) == 0 && count_dir(a.blobsfd, 0) ==
	    1);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1 &&
	    mb.messages == 1 && mb.uidnext == 2 && mb.unseen == 1 &&
	    mb.size == 1000 && mb.highestmodseq == 2);
	test_assert(index_msg_info(ix, mb.id, 1, &info) == 1 &&
	    info.size == 1000 && info.flags == 0 && !info.damaged &&
	    info.modseq == 2 && info.internal_date > 0);
	test_assert(read_equal(ix, mb.id, 1, m, 1000, 1000));
	test_assert((msg = index_msg_open(ix, mb.id, 1)) != NULL);
	test_assert(strcmp(index_msg_delivery(msg)->sender,
	    "sender@example.test") == 0);
	index_msg_close(msg);
	test_assert(index_msg_open(ix, mb.id, 2) == NULL && errno == ENOENT);
	test_assert(index_usage(ix, &bytes, &blobs) == 0 && bytes == 1000 &&
	    blobs == 1);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}

static void
test_import_many(void)
{
	struct acct	 a;
	struct index	*ix;
	struct seen	 s;
	unsigned char	*m[600];
	size_t		 len[600], i, imported, remaining, total;
	int64_t		 inbox, junk;
	int		 ok = 1, calls;

	test_begin("import: 600 messages in bounded batches, all readable");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	for (i = 0; i < 600; i++) {
		len[i] = (i * 7919) % 5000;
		m[i] = msg_make(len[i], (uint32_t)(1000 + i));
		/* every tenth to Junk, one to a mailbox that does not exist */
		if (deliver(&a, m[i], len[i], i == 5 ? "Nowhere" :
		    i % 10 == 0 ? "Junk" : "INBOX") == -1)
			ok = 0;
	}
	test_assert(ok);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 500 && remaining == 100);
	test_assert((calls = import_all(ix, 70, &total)) == 2 && total == 100);
	test_assert(count_dir(a.newfd, 0) == 0 && count_dir(a.blobsfd, 0) ==
	    600);
	inbox = mbox_id(ix, "INBOX");
	junk = mbox_id(ix, "Junk");
	test_assert(mbox_count(ix, "INBOX") == 540 &&
	    mbox_count(ix, "Junk") == 60);
	foreach_all(ix, inbox, 0, &s);
	test_assert(s.n == 540 && s.ascending && s.uids[0] == 1 &&
	    s.uids[539] == 540);
	/* every message, byte for byte: find each by its content */
	for (i = 0; i < 600 && ok; i++) {
		int64_t		 mb = i == 5 || i % 10 != 0 ? inbox : junk;
		uint32_t	 uid;
		int		 found = 0;

		for (uid = 1; uid <= 540 && !found; uid++) {
			struct index_msg_info	info;

			if (index_msg_info(ix, mb, uid, &info) != 1 ||
			    info.size != len[i])
				continue;
			found = read_equal(ix, mb, uid, m[i], len[i], 4096);
		}
		if (!found)
			ok = 0;
	}
	test_assert(ok);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	for (i = 0; i < 600; i++)
		free(m[i]);
	test_end();
}

static void
test_sizes(void)
{
	static const size_t	sizes[] = { 0, 1, 65535, 65536, 65537,
	    3 * 65536 + 17, 3 * 1024 * 1024 + 5 };
	struct acct		a;
	struct index		*ix;
	struct index_msg	*msg;
	unsigned char		*m[7], buf[300];
	size_t			i, n, total;
	int64_t			inbox;
	uint32_t		uid;

	test_begin("read: 0 bytes to 3 MB, partial reads across chunks");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	n = sizeof(sizes) / sizeof(sizes[0]);
	for (i = 0; i < n; i++) {
		m[i] = msg_make(sizes[i], (uint32_t)(77 + i));
		test_assert(deliver(&a, m[i], sizes[i], "INBOX") == 0);
	}
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == n);
	inbox = mbox_id(ix, "INBOX");
	for (uid = 1; uid <= n; uid++) {
		struct index_msg_info	info;

		test_assert(index_msg_info(ix, inbox, uid, &info) == 1);
		for (i = 0; i < n && sizes[i] != info.size; i++)
			;
		test_assert(i < n);
		if (i == n)
			continue;
		test_assert(read_equal(ix, inbox, uid, m[i], sizes[i],
		    sizes[i] > 0 ? sizes[i] : 1));
		test_assert(read_equal(ix, inbox, uid, m[i], sizes[i], 4093));
		if (sizes[i] < 2 * BLOB_CHUNK)
			continue;
		/* straddling chunk boundaries, backwards, and the end */
		test_assert((msg = index_msg_open(ix, inbox, uid)) != NULL);
		test_assert(index_msg_pread(msg, buf, 300, 2 * BLOB_CHUNK -
		    150) == 300 && memcmp(buf, m[i] + 2 * BLOB_CHUNK - 150,
		    300) == 0);
		test_assert(index_msg_pread(msg, buf, 2, BLOB_CHUNK - 1) == 2 &&
		    memcmp(buf, m[i] + BLOB_CHUNK - 1, 2) == 0);
		test_assert(index_msg_pread(msg, buf, 300, sizes[i] - 5) == 5 &&
		    memcmp(buf, m[i] + sizes[i] - 5, 5) == 0);
		test_assert(index_msg_pread(msg, buf, 300, sizes[i] + 10) ==
		    0);
		index_msg_close(msg);
	}
	index_close(ix);
	acct_free(&a);
	for (i = 0; i < n; i++)
		free(m[i]);
	test_end();
}

static void
test_uids(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_mailbox	 mb;
	struct seen		 s;
	unsigned char		*m = msg_make(100, 5);
	uint32_t		 one = 3, *gone, uid;
	size_t			 n, total;
	int64_t			 inbox;
	int			 fd;

	test_begin("uids: ascending, never reused after expunge and reopen");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	for (n = 0; n < 3; n++)
		test_assert(deliver(&a, m, 100, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == 3);
	inbox = mbox_id(ix, "INBOX");
	test_assert(index_expunge(ix, inbox, &one, 1, 0, &gone, &n) == 0 &&
	    n == 1 && gone[0] == 3);
	free(gone);
	index_close(ix);
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert(deliver(&a, m, 100, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == 1);
	foreach_all(ix, inbox, 0, &s);
	test_assert(s.n == 3 && s.uids[0] == 1 && s.uids[1] == 2 &&
	    s.uids[2] == 4);
	/* expunge everything: the next uid still goes on */
	test_assert(index_expunge(ix, inbox, NULL, 0, 0, NULL, &n) == 0 &&
	    n == 3);
	fd = memfd_sealed_from("m", m, 100);
	test_assert(index_append(ix, inbox, fd, 100, 0, 0, 1700000000,
	    &uid) == 0 && uid == 5);
	close(fd);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1 &&
	    mb.uidnext == 6 && mb.messages == 1);
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}

static void
test_flags(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_mailbox	 mb;
	struct index_msg_info	 info;
	struct seen		 s;
	unsigned char		*m = msg_make(10, 6);
	char			 kw[16], name[INDEX_KEYWORD_LEN + 1];
	uint32_t		 uids[] = { 1, 2, 3, 99 };
	uint64_t		 ms, ms2, h;
	size_t			 n, total;
	int64_t			 inbox;
	int			 bit, i;

	test_begin("flags: set, add, remove, keywords, modseq increases");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	for (i = 0; i < 3; i++)
		test_assert(deliver(&a, m, 10, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == 3);
	inbox = mbox_id(ix, "INBOX");
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1);
	h = mb.highestmodseq;
	test_assert(index_flags_update(ix, inbox, uids, 1, INDEX_FLAGS_ADD,
	    INDEX_F_SEEN, 0, &ms, &n) == 0 && n == 1 && ms == h + 1);
	test_assert(index_msg_info(ix, inbox, 1, &info) == 1 &&
	    info.flags == INDEX_F_SEEN && info.modseq == ms);
	/* no change, no new modseq */
	test_assert(index_flags_update(ix, inbox, uids, 1, INDEX_FLAGS_ADD,
	    INDEX_F_SEEN, 0, &ms2, &n) == 0 && n == 0 && ms2 == ms);
	test_assert((bit = index_keyword(ix, "$Forwarded", 1)) == 0);
	test_assert(index_keyword(ix, "$forwarded", 0) == 0);
	test_assert(index_keyword(ix, "Unknown", 0) == -1 && errno == ENOENT);
	test_assert(index_keyword(ix, "bad word", 1) == -1 &&
	    errno == EINVAL);
	test_assert(index_keyword(ix, "\\Seen", 1) == -1 && errno == EINVAL);
	test_assert(index_keyword_name(ix, 0, name, sizeof(name)) == 1 &&
	    strcmp(name, "$Forwarded") == 0);
	/* three uids and one that does not exist */
	test_assert(index_flags_update(ix, inbox, uids, 4, INDEX_FLAGS_ADD,
	    INDEX_F_FLAGGED | INDEX_F_DELETED, 1ULL << bit, &ms2, &n) == 0 &&
	    n == 3 && ms2 == ms + 1);
	foreach_all(ix, inbox, ms, &s);
	test_assert(s.n == 3);
	test_assert(index_flags_update(ix, inbox, uids + 1, 1,
	    INDEX_FLAGS_REMOVE, INDEX_F_DELETED, 1ULL << bit, &ms, &n) == 0 &&
	    n == 1 && ms == ms2 + 1);
	test_assert(index_msg_info(ix, inbox, 2, &info) == 1 &&
	    info.flags == INDEX_F_FLAGGED && info.keywords == 0);
	foreach_all(ix, inbox, ms2, &s);
	test_assert(s.n == 1 && s.uids[0] == 2);
	test_assert(index_flags_update(ix, inbox, uids + 2, 1,
	    INDEX_FLAGS_SET, INDEX_F_ANSWERED, 0, &ms2, &n) == 0 && n == 1 &&
	    ms2 == ms + 1);
	test_assert(index_msg_info(ix, inbox, 3, &info) == 1 &&
	    info.flags == INDEX_F_ANSWERED && info.keywords == 0);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1 &&
	    mb.highestmodseq == ms2 && mb.unseen == 2 && mb.deleted == 1);
	test_assert(index_flags_update(ix, inbox, uids, 1, INDEX_FLAGS_ADD,
	    0x40, 0, NULL, NULL) == -1 && errno == EINVAL);
	/* 64 keywords at most */
	for (i = 1; i < INDEX_KEYWORD_MAX; i++) {
		snprintf(kw, sizeof(kw), "kw%d", i);
		if (index_keyword(ix, kw, 1) != i)
			break;
	}
	test_assert(i == INDEX_KEYWORD_MAX);
	test_assert(index_keyword(ix, "onemore", 1) == -1 && errno == ENOSPC);
	test_assert(index_flags_update(ix, inbox, uids, 1, INDEX_FLAGS_SET,
	    0, 1ULL << 63, NULL, &n) == 0 && n == 1);
	test_assert(index_msg_info(ix, inbox, 1, &info) == 1 &&
	    info.keywords == 1ULL << 63);
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}

static void
test_append_copy_move_expunge(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_msg_info	 info;
	unsigned char		*m = msg_make(200000, 8), *d = msg_make(300, 9);
	uint32_t		 uid, u1 = 1, src[4], dst[4], *gone;
	uint64_t		 bytes, blobs;
	size_t			 n, total;
	int64_t			 inbox, sent, trash, archive;
	int			 fd;

	test_begin("append, copy, move, expunge: blobs shared, then removed");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	sent = mbox_id(ix, "Sent");
	trash = mbox_id(ix, "Trash");
	archive = mbox_id(ix, "Archive");

	/* append to Sent */
	fd = memfd_sealed_from("m", m, 200000);
	test_assert(index_append(ix, sent, fd, 200000, INDEX_F_SEEN, 0,
	    1600000000, &uid) == 0 && uid == 1);
	close(fd);
	test_assert(index_msg_info(ix, sent, 1, &info) == 1 &&
	    info.flags == INDEX_F_SEEN && info.internal_date == 1600000000 &&
	    info.size == 200000);
	test_assert(read_equal(ix, sent, 1, m, 200000, 65536));
	test_assert(count_dir(a.blobsfd, 0) == 1 && count_dir(a.blobsfd, 1) ==
	    0);
	test_assert(index_append(ix, 9999, fd, 1, 0, 0, 0, &uid) == -1 &&
	    errno == ENOENT);
	test_assert(count_dir(a.blobsfd, 0) == 1);

	/* a delivered one in INBOX, copied to Trash: the blob is shared */
	test_assert(deliver(&a, d, 300, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1);
	test_assert(index_usage(ix, &bytes, &blobs) == 0 &&
	    bytes == 200300 && blobs == 2);
	test_assert(index_copy(ix, inbox, &u1, 1, trash, src, dst, &n) == 0 &&
	    n == 1 && src[0] == 1 && dst[0] == 1);
	test_assert(count_dir(a.blobsfd, 0) == 2);
	test_assert(index_usage(ix, &bytes, &blobs) == 0 &&
	    bytes == 200300 && blobs == 2);
	test_assert(read_equal(ix, trash, 1, d, 300, 300));
	/* expunge the original: the copy keeps the blob */
	test_assert(index_freed_take(ix) == 0);
	test_assert(index_expunge(ix, inbox, &u1, 1, 0, &gone, &n) == 0 &&
	    n == 1);
	free(gone);
	test_assert(index_freed_take(ix) == 0);
	test_assert(count_dir(a.blobsfd, 0) == 2);
	test_assert(read_equal(ix, trash, 1, d, 300, 300));
	/* \Deleted only: nothing flagged, nothing goes */
	test_assert(index_expunge(ix, trash, NULL, 0, INDEX_EXPUNGE_DELETED,
	    NULL, &n) == 0 && n == 0);
	test_assert(index_flags_update(ix, trash, &u1, 1, INDEX_FLAGS_ADD,
	    INDEX_F_DELETED, 0, NULL, NULL) == 0);
	test_assert(index_expunge(ix, trash, NULL, 0, INDEX_EXPUNGE_DELETED,
	    NULL, &n) == 0 && n == 1);
	/* the last row went: so did the blob, and its bytes, once */
	test_assert(index_freed_take(ix) == 300 && index_freed_take(ix) == 0);
	test_assert(count_dir(a.blobsfd, 0) == 1);
	test_assert(index_usage(ix, &bytes, &blobs) == 0 &&
	    bytes == 200000 && blobs == 1);

	/* move Sent 1 to Archive: rows move, the blob stays */
	test_assert(index_move(ix, sent, &u1, 1, archive, src, dst, &n) == 0 &&
	    n == 1 && dst[0] == 1);
	test_assert(mbox_count(ix, "Sent") == 0 &&
	    mbox_count(ix, "Archive") == 1);
	test_assert(index_msg_info(ix, archive, 1, &info) == 1 &&
	    info.flags == INDEX_F_SEEN && info.internal_date == 1600000000);
	test_assert(read_equal(ix, archive, 1, m, 200000, 100000));
	test_assert(count_dir(a.blobsfd, 0) == 1);
	test_assert(index_freed_take(ix) == 0);
	/* copy of a uid that does not exist: nothing */
	test_assert(index_copy(ix, sent, &u1, 1, trash, src, dst, &n) == 0 &&
	    n == 0);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	free(m);
	free(d);
	test_end();
}

static void
test_mailboxes(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_mailbox	 mb, mb2;
	unsigned char		*m = msg_make(50, 10);
	uint32_t		 u1 = 1;
	size_t			 n;
	int			 fd;

	test_begin("mailboxes: create, rename, delete, names checked");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert(index_mailbox_create(ix, "Projects/2024 \xc3\xbcnic\xc3"
	    "\xb8" "de", INDEX_SPECIAL_NONE) == 0);
	test_assert(index_mailbox_create(ix, "Projects/2024 \xc3\xbcnic\xc3"
	    "\xb8" "de", 0) == -1 && errno == EEXIST);
	test_assert(index_mailbox_create(ix, "inbox", 0) == -1 &&
	    errno == EEXIST);
	test_assert(index_mailbox_create(ix, "bad\xc0\xaf", 0) == -1 &&
	    errno == EINVAL);
	test_assert(index_mailbox_create(ix, "ctl\x01", 0) == -1 &&
	    errno == EINVAL);
	test_assert(index_mailbox_create(ix, "", 0) == -1 && errno == EINVAL);
	test_assert(index_mailbox_create(ix, "Spam2", INDEX_SPECIAL_JUNK) ==
	    -1 && errno == EEXIST);
	test_assert(index_mailbox_delete(ix, "INBOX") == -1 &&
	    errno == EPERM);
	test_assert(index_mailbox_rename(ix, "Sent", "Sent2") == -1 &&
	    errno == EPERM);
	test_assert(index_mailbox_rename(ix, "Projects/2024 \xc3\xbcnic\xc3"
	    "\xb8" "de", "Trash") == -1 && errno == EEXIST);
	test_assert(index_mailbox_open(ix, "Projects/2024 \xc3\xbcnic\xc3"
	    "\xb8" "de", &mb) == 1);
	test_assert(index_mailbox_rename(ix, "Projects/2024 \xc3\xbcnic\xc3"
	    "\xb8" "de", "Done") == 0);
	test_assert(index_mailbox_open(ix, "Done", &mb2) == 1 &&
	    mb2.id == mb.id && mb2.uidvalidity == mb.uidvalidity);
	/* a deleted mailbox takes its messages and their blobs along */
	fd = memfd_sealed_from("m", m, 50);
	test_assert(index_append(ix, mb.id, fd, 50, 0, 0, 0, NULL) == 0);
	close(fd);
	test_assert(count_dir(a.blobsfd, 0) == 1);
	test_assert(index_mailbox_subscribe(ix, "Done", 0) == 0);
	test_assert(index_mailbox_open(ix, "Done", &mb2) == 1 &&
	    mb2.subscribed == 0 && mb2.messages == 1);
	test_assert(index_mailbox_delete(ix, "Done") == 0);
	test_assert(index_mailbox_open(ix, "Done", &mb2) == 0);
	test_assert(count_dir(a.blobsfd, 0) == 0);
	test_assert(index_expunge(ix, mb.id, &u1, 1, 0, NULL, &n) == -1 &&
	    errno == ENOENT);
	/* the same name again: a new uidvalidity */
	test_assert(index_mailbox_create(ix, "Done", 0) == 0);
	test_assert(index_mailbox_open(ix, "Done", &mb2) == 1 &&
	    mb2.id != mb.id && mb2.uidvalidity > mb.uidvalidity);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}

#ifdef SP_TEST_HOOKS
/* The nth entry of a directory (not a dot file) into name. */
static int
nth_name(int dirfd, int nth, char *name, size_t len)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, i = 0, found = 0;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY)) == -1 ||
	    (d = fdopendir(fd)) == NULL)
		return -1;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (i++ == nth) {
			strlcpy(name, de->d_name, len);
			found = 1;
		}
	}
	closedir(d);
	return found ? 0 : -1;
}

/* Run fn(ix) in a child with the crash hook at step: did it _exit(99)? */
static int
crash_child(struct acct *a, const char *step,
    void (*fn)(struct index *, void *), void *arg)
{
	struct index	*ix;
	pid_t		 pid;
	int		 st;

	if ((pid = fork()) == -1)
		return 0;
	if (pid == 0) {
		if ((ix = ix_open(a)) == NULL)
			_exit(1);
		index_test_crash_at = step;
		fn(ix, arg);
		_exit(0);
	}
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 99;
}

static void
do_import(struct index *ix, void *arg)
{
	(void)arg;
	(void)index_import(ix, INDEX_IMPORT_MAX, NULL, NULL);
}

static void
do_expunge_1(struct index *ix, void *arg)
{
	uint32_t	u1 = 1;

	(void)arg;
	(void)index_expunge(ix, mbox_id(ix, "INBOX"), &u1, 1, 0, NULL, NULL);
}

static void
do_append(struct index *ix, void *arg)
{
	int	fd = *(int *)arg;

	(void)index_append(ix, mbox_id(ix, "Drafts"), fd, 150000,
	    INDEX_F_DRAFT, 0, 1650000000, NULL);
}

static void
test_crash_import(void)
{
	struct acct	 a;
	struct index	*ix;
	unsigned char	*m[3];
	uint32_t	 u1 = 1;
	size_t		 i, n, imported, remaining;
	int64_t		 inbox;

	test_begin("crash after import-row: the next import only moves");
	test_assert(acct_new(&a) == 0);
	for (i = 0; i < 3; i++) {
		m[i] = msg_make(70000, (uint32_t)(300 + i));
		test_assert(deliver(&a, m[i], 70000, "INBOX") == 0);
	}
	test_assert(crash_child(&a, "import-row", do_import, NULL));
	test_assert((ix = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	test_assert(mbox_count(ix, "INBOX") == 3);
	test_assert(count_dir(a.newfd, 0) == 3 && count_dir(a.blobsfd, 0) ==
	    0);
	/* readable meanwhile: the reader looks in new/ too */
	test_assert(read_equal(ix, inbox, 2, m[1], 70000, 70000) ||
	    read_equal(ix, inbox, 2, m[0], 70000, 70000) ||
	    read_equal(ix, inbox, 2, m[2], 70000, 70000));
	/* expunged before the next import: it must not come back */
	test_assert(index_expunge(ix, inbox, &u1, 1, 0, NULL, &n) == 0 &&
	    n == 1);
	test_assert(count_dir(a.newfd, 0) == 2);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 0 && remaining == 0);
	test_assert(mbox_count(ix, "INBOX") == 2);
	test_assert(count_dir(a.newfd, 0) == 0 && count_dir(a.blobsfd, 0) ==
	    2);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	test_end();

	test_begin("crash after import-move: nothing left to do");
	test_assert(acct_new(&a) == 0);
	for (i = 0; i < 3; i++)
		test_assert(deliver(&a, m[i], 70000, "INBOX") == 0);
	test_assert(crash_child(&a, "import-move", do_import, NULL));
	test_assert((ix = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	test_assert(mbox_count(ix, "INBOX") == 3);
	test_assert(count_dir(a.newfd, 0) == 0 && count_dir(a.blobsfd, 0) ==
	    3);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 0 && remaining == 0);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	for (i = 0; i < 3; i++)
		free(m[i]);
	test_end();
}

static void
test_crash_expunge(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_check	 res;
	unsigned char		*m = msg_make(1000, 400);
	char			 name[64];
	size_t			 total;
	struct stat		 st;

	test_begin("crash after expunge-commit: garbage, removed by repair");
	test_assert(acct_new(&a) == 0);
	test_assert(deliver(&a, m, 1000, "INBOX") == 0);
	test_assert(deliver(&a, m, 1000, "INBOX") == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == 2);
	index_close(ix);
	test_assert(crash_child(&a, "expunge-commit", do_expunge_1, NULL));
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert(mbox_count(ix, "INBOX") == 1);
	test_assert(count_dir(a.blobsfd, 0) == 2);
	test_assert(index_check(ix, 0, &res) == 0);
	test_assert(res.count[INDEX_P_GARBAGE] == 1 &&
	    res.count[INDEX_P_ORPHAN] == 0 && res.count[INDEX_P_MISSING] == 0 &&
	    res.rows == 1 && res.blobs == 2 && res.repaired == 0);
	test_assert(res.nlist == 1 && res.list[0].kind == INDEX_P_GARBAGE);
	strlcpy(name, res.list[0].name, sizeof(name));
	index_check_free(&res);
	/* the expunge was the user's will: it does not come back */
	test_assert(index_check(ix, INDEX_CHECK_REPAIR, &res) == 0 &&
	    res.count[INDEX_P_GARBAGE] == 1 && res.repaired == 1);
	index_check_free(&res);
	test_assert(fstatat(a.blobsfd, name, &st, 0) == -1 &&
	    errno == ENOENT);
	test_assert(count_dir(a.newfd, 0) == 0 && count_dir(a.blobsfd, 0) ==
	    1);
	test_assert(check_clean(ix, 0));
	test_assert(read_equal(ix, mbox_id(ix, "INBOX"), 2, m, 1000, 1000));
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}

static void
test_crash_append(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_check	 res;
	struct timespec		 old[2];
	unsigned char		*m = msg_make(150000, 500);
	char			 name[64];
	size_t			 total;
	int			 fd;

	test_begin("crash after append-written: orphan back to new/, imported");
	test_assert(acct_new(&a) == 0);
	fd = memfd_sealed_from("m", m, 150000);
	test_assert(crash_child(&a, "append-written", do_append, &fd));
	close(fd);
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert(mbox_count(ix, "Drafts") == 0);
	test_assert(count_dir(a.blobsfd, 0) == 1);
	/* young: maybe an append in progress, left alone */
	test_assert(index_check(ix, INDEX_CHECK_REPAIR, &res) == 0 &&
	    res.count[INDEX_P_ORPHAN] == 1 && res.repaired == 0);
	index_check_free(&res);
	test_assert(nth_name(a.blobsfd, 0, name, sizeof(name)) == 0);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 2 * INDEX_ORPHAN_GRACE;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	test_assert(utimensat(a.blobsfd, name, old, 0) == 0);
	test_assert(index_check(ix, 0, &res) == 0 &&
	    res.count[INDEX_P_ORPHAN] == 1 && res.repaired == 0);
	index_check_free(&res);
	test_assert(index_check(ix, INDEX_CHECK_REPAIR, &res) == 0 &&
	    res.count[INDEX_P_ORPHAN] == 1 && res.repaired == 1);
	index_check_free(&res);
	test_assert(count_dir(a.newfd, 0) == 1 && count_dir(a.blobsfd, 0) ==
	    0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == 1);
	/* back in the mailbox it was appended to, byte for byte */
	test_assert(mbox_count(ix, "Drafts") == 1);
	test_assert(read_equal(ix, mbox_id(ix, "Drafts"), 1, m, 150000,
	    150000));
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}
#endif

/* Overwrite or cut a blob file. */
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
test_tamper(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_msg	*msg;
	struct index_msg_info	 info;
	unsigned char		*m[5], buf[4096];
	char			 names[5][STORE_NAME_MAX], tmp[64];
	uint32_t		 uid;
	size_t			 i, total;
	int64_t			 inbox;
	int			 uidof[5] = { 0 }, fd;

	test_begin("tamper: flipped, truncated, swapped blobs are EBADMSG");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	for (i = 0; i < 5; i++) {
		m[i] = msg_make(200000, (uint32_t)(600 + i));
		test_assert(deliver_key(&a, pk, m[i], 200000, "INBOX",
		    names[i]) == 0);
	}
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == 5);
	inbox = mbox_id(ix, "INBOX");
	/* the uid of each name: read back in order */
	for (uid = 1; uid <= 5; uid++) {
		test_assert((msg = index_msg_open(ix, inbox, uid)) != NULL);
		if (msg == NULL)
			continue;
		for (i = 0; i < 5; i++) {
			char	hex[40];
			size_t	k;

			for (k = 0; k < BLOB_ID_LEN; k++)
				snprintf(hex + 2 * k, 3, "%02x",
				    index_msg_blob_id(msg)[k]);
			if (strcmp(hex, names[i]) == 0)
				uidof[i] = (int)uid;
		}
		index_msg_close(msg);
	}
	/* 0: a byte of chunk 2; 1: cut short; 2 and 3: swapped */
	test_assert(flip_byte(a.blobsfd, names[0], 124 + 200 + 2 * 65552 +
	    100) == 0);
	fd = openat(a.blobsfd, names[1], O_RDWR);
	test_assert(fd != -1 && ftruncate(fd, 150000) == 0);
	close(fd);
	snprintf(tmp, sizeof(tmp), "x%s", names[2]);
	test_assert(renameat(a.blobsfd, names[2], a.blobsfd, tmp) == 0 &&
	    renameat(a.blobsfd, names[3], a.blobsfd, names[2]) == 0 &&
	    renameat(a.blobsfd, tmp, a.blobsfd, names[3]) == 0);

	/* flipped: the header opens; chunks 0, 1 read; chunk 2 fails */
	test_assert((msg = index_msg_open(ix, inbox, (uint32_t)uidof[0])) !=
	    NULL);
	if (msg != NULL) {
		test_assert(index_msg_pread(msg, buf, 100, 1000) == 100 &&
		    memcmp(buf, m[0] + 1000, 100) == 0);
		test_assert(index_msg_pread(msg, buf, 100, 2 * 65536 + 10) ==
		    -1 && errno == EBADMSG);
		test_assert(index_msg_pread(msg, buf, 100, 65536) == 100 &&
		    memcmp(buf, m[0] + 65536, 100) == 0);
		index_msg_close(msg);
	}
	for (i = 1; i < 4; i++) {
		errno = 0;
		test_assert(index_msg_open(ix, inbox, (uint32_t)uidof[i]) ==
		    NULL && errno == EBADMSG);
	}
	test_assert(read_equal(ix, inbox, (uint32_t)uidof[4], m[4], 200000,
	    65536));
	/* the mailbox keeps working */
	test_assert(index_msg_info(ix, inbox, (uint32_t)uidof[1], &info) == 1);
	uid = (uint32_t)uidof[1];
	test_assert(index_flags_update(ix, inbox, &uid, 1, INDEX_FLAGS_ADD,
	    INDEX_F_SEEN, 0, NULL, NULL) == 0);
	index_close(ix);
	acct_free(&a);
	for (i = 0; i < 5; i++)
		free(m[i]);
	test_end();
}

static void
test_damaged(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_msg_info	 info;
	struct index_check	 res;
	struct stat		 st;
	struct timespec		 old[2];
	unsigned char		*m = msg_make(5000, 700), id[BLOB_ID_LEN];
	char			 name[STORE_NAME_MAX], other[STORE_NAME_MAX];
	size_t			 total, imported, remaining, k;
	int64_t			 inbox;
	int			 fd;

	test_begin("damaged: a foreign key, a wrong name: placeholders");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	/* sealed to another account: a placeholder in INBOX, not in Junk */
	test_assert(deliver_key(&a, other_pk, m, 5000, "Junk", name) == 0);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 1 && remaining == 0);
	test_assert(mbox_count(ix, "INBOX") == 1 && mbox_count(ix, "Junk") ==
	    0);
	test_assert(index_msg_info(ix, inbox, 1, &info) == 1 && info.damaged);
	errno = 0;
	test_assert(index_msg_open(ix, inbox, 1) == NULL && errno == EBADMSG);
	test_assert(strstr(index_errstr(ix), "does not open") != NULL);
	test_assert(count_dir(a.newfd, 0) == 0 && count_dir(a.blobsfd, 0) ==
	    1);

	/* a good blob under another blob's name: its id does not match */
	test_assert(deliver_key(&a, pk, m, 5000, "INBOX", name) == 0);
	randombytes_buf(id, sizeof(id));
	for (k = 0; k < BLOB_ID_LEN; k++)
		snprintf(other + 2 * k, 3, "%02x", id[k]);
	test_assert(renameat(a.newfd, name, a.newfd, other) == 0);
	/* junk that is not a blob, and temporaries old and young */
	fd = openat(a.newfd, "hello", O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = openat(a.newfd, ".tmp-old", O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = openat(a.newfd, ".tmp-young", O_WRONLY | O_CREAT, 0600);
	close(fd);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 2 * INDEX_TMP_AGE;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	test_assert(utimensat(a.newfd, ".tmp-old", old, 0) == 0);
	test_assert(symlinkat("/etc/passwd", a.newfd,
	    "0123456789abcdef0123456789abcdef") == 0);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 1 && remaining == 0);
	test_assert(index_msg_info(ix, inbox, 2, &info) == 1 && info.damaged);
	test_assert(fstatat(a.newfd, ".tmp-old", &st, 0) == -1);
	test_assert(fstatat(a.newfd, ".tmp-young", &st, 0) == 0);
	test_assert(fstatat(a.newfd, "hello", &st, 0) == 0);

	/* a second copy of a stored blob: set aside, then a placeholder */
	test_assert(deliver_key(&a, pk, m, 5000, "INBOX", name) == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == 1);
	test_assert(read_equal(ix, inbox, 3, m, 5000, 5000));
	test_assert(linkat(a.blobsfd, name, a.newfd, name, 0) == 0);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 0 && remaining == 1);
	test_assert(index_import(ix, INDEX_IMPORT_MAX, &imported,
	    &remaining) == 0 && imported == 1 && remaining == 0);
	test_assert(index_msg_info(ix, inbox, 4, &info) == 1 && info.damaged);
	test_assert(read_equal(ix, inbox, 3, m, 5000, 5000));

	test_assert(index_check(ix, INDEX_CHECK_REPAIR, &res) == 0);
	test_assert(res.count[INDEX_P_DAMAGED] == 3 &&
	    res.count[INDEX_P_BAD_NAME] == 2 &&
	    res.count[INDEX_P_MISSING] == 0 && res.count[INDEX_P_ORPHAN] == 0 &&
	    res.count[INDEX_P_TEMP] == 0 && res.rows == 4 && res.blobs == 4);
	index_check_free(&res);
	/* nothing was deleted */
	test_assert(fstatat(a.newfd, "hello", &st, 0) == 0);
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}

static void
test_meta(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_msgref	 todo[8];
	unsigned char		*m = msg_make(100, 800);
	void			*p;
	size_t			 n, len, total;
	uint32_t		 u1 = 1, dst;
	int64_t			 inbox, trash;
	int			 v;

	test_begin("metadata: opaque bytes, shared by copies, todo list");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	trash = mbox_id(ix, "Trash");
	test_assert(deliver(&a, m, 100, "INBOX") == 0);
	test_assert(deliver(&a, m, 100, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1);
	test_assert(index_copy(ix, inbox, &u1, 1, trash, NULL, &dst, &n) ==
	    0 && n == 1);
	test_assert(index_meta_todo(ix, 1, todo, 8, &n) == 0 && n == 3);
	test_assert(index_meta_get(ix, inbox, 1, &p, &len, &v) == 0);
	test_assert(index_meta_set(ix, inbox, 1, "sealed", 6, 1) == 0);
	test_assert(index_meta_get(ix, trash, dst, &p, &len, &v) == 1 &&
	    len == 6 && v == 1 && memcmp(p, "sealed", 6) == 0);
	free(p);
	test_assert(index_meta_todo(ix, 1, todo, 8, &n) == 0 && n == 1 &&
	    todo[0].mailbox == inbox && todo[0].uid == 2);
	test_assert(index_meta_todo(ix, 2, todo, 8, &n) == 0 && n == 3);
	test_assert(index_meta_set(ix, inbox, 9, "x", 1, 1) == -1 &&
	    errno == ENOENT);
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}

/* The decoded subject of a message's sealed record, or NULL (errno). */
static char *
sealed_subject(struct index *ix, const unsigned char *key, int64_t mbox,
    uint32_t uid)
{
	struct meta	*rec;
	char		 err[256], *s;

	if ((rec = meta_seal_load(ix, key, mbox, uid, err, sizeof(err))) ==
	    NULL)
		return NULL;
	s = strdup(rec->subject != NULL ? rec->subject : "");
	meta_free(rec);
	return s;
}

static void
test_meta_seal(void)
{
	static const char	 hdr[] = "From: a@b.test\r\nSubject: "
	    "=?ISO-8859-1?Q?Gr=FC=DFe?= number %d\r\n\r\n";
	struct acct		 a;
	struct index		*ix;
	unsigned char		*big = msg_make(300000, 810), *m[3];
	char			*s, name[STORE_NAME_MAX], expect[64];
	void			*p1, *p2;
	size_t			 i, len1, len2, built, total, n;
	uint32_t		 u1 = 1, dst, u, ugood[2] = { 0, 0 };
	int64_t			 inbox, trash;
	int			 v, k, bad, good;

	test_begin("sealed metadata: built at import, tied to its blob");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	trash = mbox_id(ix, "Trash");
	for (i = 0; i < 3; i++) {
		m[i] = malloc(256);
		k = snprintf((char *)m[i], 256, hdr, (int)i);
		test_assert(deliver(&a, m[i], (size_t)k, "INBOX") == 0);
	}
	/* a large one with a header, then damaged in a later chunk */
	k = snprintf((char *)big, 300000, hdr, 9);
	big[k - 1] = '\n';
	test_assert(deliver_key(&a, pk, big, 300000, "INBOX", name) == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1 &&
	    total == 4);
	test_assert(flip_byte(a.blobsfd, name, 124 + 200 + 3 * 65552 +
	    7) == 0);
	test_assert(index_copy(ix, inbox, &u1, 1, trash, NULL, &dst, &n) ==
	    0 && n == 1);

	test_assert(meta_seal_pending(ix, sk, 1000, &built) == 0 &&
	    built == 5);
	test_assert(meta_seal_pending(ix, sk, 1000, &built) == 0 &&
	    built == 0);
	/*
	 * Decoded from ISO-8859-1 in the record; the big one (whichever
	 * uid the import gave it) is "unreadable"; the copy shares uid 1's.
	 */
	bad = good = 0;
	for (u = 1; u <= 4; u++) {
		errno = 0;
		if ((s = sealed_subject(ix, sk, inbox, u)) == NULL) {
			test_assert(errno == EBADMSG);
			bad++;
			continue;
		}
		test_assert(strncmp(s, "Gr\xc3\xbc\xc3\x9f" "e number ",
		    15) == 0 && s[15] >= '0' && s[15] <= '2');
		if (good == 0) {
			ugood[0] = u;
			snprintf(expect, sizeof(expect), "%s", s);
		} else
			ugood[1] = u;
		good++;
		free(s);
	}
	test_assert(bad == 1 && good == 3);
	test_assert((s = sealed_subject(ix, sk, trash, dst)) != NULL &&
	    ((ugood[0] == 1 && strcmp(s, expect) == 0) || ugood[0] != 1));
	free(s);
	/* another key does not open it */
	test_assert(sealed_subject(ix, other_sk, inbox, ugood[0]) == NULL &&
	    errno == EBADMSG);
	/* a record moved onto another message's row does not open */
	test_assert(index_meta_get(ix, inbox, ugood[0], &p1, &len1, &v) == 1);
	test_assert(index_meta_get(ix, inbox, ugood[1], &p2, &len2, &v) == 1);
	test_assert(index_meta_set(ix, inbox, ugood[1], p1, len1, v) == 0);
	test_assert(sealed_subject(ix, sk, inbox, ugood[1]) == NULL &&
	    errno == EBADMSG);
	/* a flipped byte does not open either */
	((unsigned char *)p2)[len2 / 2] ^= 1;
	test_assert(index_meta_set(ix, inbox, ugood[1], p2, len2, v) == 0);
	test_assert(sealed_subject(ix, sk, inbox, ugood[1]) == NULL &&
	    errno == EBADMSG);
	/* and the rest still does */
	test_assert((s = sealed_subject(ix, sk, inbox, ugood[0])) != NULL &&
	    strcmp(s, expect) == 0);
	free(s);
	free(p1);
	free(p2);
	/* not built yet: ENOENT */
	test_assert(deliver(&a, m[0], 10, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1);
	test_assert(sealed_subject(ix, sk, inbox, 5) == NULL &&
	    errno == ENOENT);
	index_close(ix);
	acct_free(&a);
	for (i = 0; i < 3; i++)
		free(m[i]);
	free(big);
	test_end();
}

static void
test_concurrent(void)
{
	struct acct	 a;
	struct index	*ix;
	struct seen	 s;
	unsigned char	*m = msg_make(3000, 900);
	uint64_t	 bytes, blobs;
	size_t		 i, total, added[2] = { 0, 0 };
	pid_t		 pid[2];
	int		 st, ok = 1, p[2];

	test_begin("two processes import at once: each message exactly once");
	test_assert(acct_new(&a) == 0);
	for (i = 0; i < 300; i++)
		if (deliver(&a, m, 3000, "INBOX") == -1)
			ok = 0;
	test_assert(ok);
	/* the index exists before the race (created on first open) */
	test_assert((ix = ix_open(&a)) != NULL);
	index_close(ix);
	test_assert(pipe(p) == 0);
	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0) {
			struct index	*cix;

			/* each reports the rows it added */
			if ((cix = ix_open(&a)) == NULL ||
			    import_all(cix, 40, &total) == -1 ||
			    write(p[1], &total, sizeof(total)) !=
			    (ssize_t)sizeof(total))
				_exit(1);
			index_close(cix);
			_exit(0);
		}
	}
	close(p[1]);
	for (i = 0; i < 2; i++) {
		test_assert(waitpid(pid[i], &st, 0) == pid[i] &&
		    WIFEXITED(st) && WEXITSTATUS(st) == 0);
		test_assert(read(p[0], &added[i], sizeof(added[i])) ==
		    (ssize_t)sizeof(added[i]));
	}
	close(p[0]);
	test_assert(added[0] + added[1] == 300);
	fprintf(stderr, "# rows added by the two processes: %zu + %zu\n",
	    added[0], added[1]);
	test_assert((ix = ix_open(&a)) != NULL);
	foreach_all(ix, mbox_id(ix, "INBOX"), 0, &s);
	test_assert(s.n == 300 && s.ascending && s.uids[0] == 1 &&
	    s.uids[299] == 300);
	test_assert(index_usage(ix, &bytes, &blobs) == 0 && blobs == 300 &&
	    bytes == 300 * 3000);
	test_assert(count_dir(a.newfd, 0) == 0 && count_dir(a.blobsfd, 0) ==
	    300);
	test_assert(check_clean(ix, 0));
	test_assert(read_equal(ix, mbox_id(ix, "INBOX"), 150, m, 3000, 3000));
	index_close(ix);
	acct_free(&a);
	free(m);
	test_end();
}

/*
 * \Recent: a session claims what no session has seen, once; a version 1
 * index.db (before recent_uid) is upgraded in place with nothing recent.
 */
/* A second handle on the account, kept in ix_last for the next calls. */
static struct index	*ix_last;

static struct index *
ix_open_again(struct acct *a)
{
	return ix_last = ix_open(a);
}

static void
test_recent(void)
{
	struct acct		 a;
	struct index		*ix, *ix2;
	struct index_mailbox	 mb;
	sqlite3			*db;
	unsigned char		*d = msg_make(100, 3);
	char			 err[256], path[PATH_MAX];
	uint32_t		 from, to;
	size_t			 total;
	int64_t			 inbox;
	int			 i;

	test_begin("recent: claimed once per message; a version 1 index "
	    "is upgraded, its names to UTF-8");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	test_assert((ix2 = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	for (i = 0; i < 3; i++)
		test_assert(deliver(&a, d, 100, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1 &&
	    mb.recent_uid == 1 && mb.recent == 3);
	test_assert(index_recent_claim(ix, inbox, &from, &to) == 0 &&
	    from == 1 && to == 4);
	/* the other session: nothing left */
	test_assert(index_recent_claim(ix2, inbox, &from, &to) == 0 &&
	    from == to);
	test_assert(deliver(&a, d, 100, "INBOX") == 0);
	test_assert(import_all(ix2, INDEX_IMPORT_MAX, &total) == 1);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1 &&
	    mb.recent == 1 && mb.messages == 4);
	test_assert(index_recent_claim(ix2, inbox, &from, &to) == 0 &&
	    from == 4 && to == 5);
	test_assert(index_recent_claim(ix, 999, &from, &to) == -1);
	index_close(ix);
	index_close(ix2);

	/* names as versions 1 and 2 kept them: modified UTF-7 */
	test_assert(index_mailbox_create(ix_open_again(&a), "Caf&AOk-",
	    INDEX_SPECIAL_NONE) == 0);
	test_assert(index_mailbox_create(ix_last, "R&-D/&ZeVnLIqe-",
	    INDEX_SPECIAL_NONE) == 0);
	test_assert(index_mailbox_create(ix_last, "Caf\xc3\xa9s",
	    INDEX_SPECIAL_NONE) == 0);
	/* this one decodes to a name that is taken: it keeps its spelling */
	test_assert(index_mailbox_create(ix_last, "Caf&AOk-s",
	    INDEX_SPECIAL_NONE) == 0);
	index_close(ix_last);

	/* back to version 1, as sealpost before \Recent wrote it */
	test_assert(snprintf(path, sizeof(path), "%s/index.db", a.dir) > 0);
	test_assert(sqlite3_open(path, &db) == SQLITE_OK);
	test_assert(sqlite3_exec(db, "ALTER TABLE mailboxes DROP COLUMN "
	    "recent_uid; ALTER TABLE mailboxes DROP COLUMN vanished_floor; "
	    "DROP TABLE vanished; ALTER TABLE messages DROP COLUMN dg_size; "
	    "UPDATE schema_version SET version = 1;",
	    NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	test_assert(deliver(&a, d, 100, "INBOX") == 0);
	test_assert((ix = index_open(a.dirfd, a.dir, pk, sk, 0, err,
	    sizeof(err))) != NULL);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1 &&
	    mb.recent == 0 && mb.recent_uid == 5 && mb.messages == 4);
	/* and the names are UTF-8 now */
	test_assert(index_mailbox_open(ix, "Caf\xc3\xa9", &mb) == 1);
	test_assert(index_mailbox_open(ix, "R&D/\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e", &mb) == 1);
	test_assert(index_mailbox_open(ix, "Caf&AOk-s", &mb) == 1);
	test_assert(index_mailbox_open(ix, "Caf&AOk-", &mb) == 0);
	/* a message that comes after the upgrade is recent */
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1 &&
	    mb.recent == 1 && mb.messages == 5);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	/* a version from the future is refused, untouched */
	test_assert(sqlite3_open(path, &db) == SQLITE_OK);
	test_assert(sqlite3_exec(db, "UPDATE schema_version SET version = 99",
	    NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	test_assert(index_open(a.dirfd, a.dir, pk, sk, 0, err,
	    sizeof(err)) == NULL && strstr(err, "version 99") != NULL);
	acct_free(&a);
	free(d);
	test_end();
}

/* The ranges as "lo:hi,lo:hi" for comparison. */
static const char *
ranges(const struct index_uidrange *r, size_t n)
{
	static char	buf[512];
	size_t		i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u:%u",
		    i > 0 ? "," : "", r[i].lo, r[i].hi);
	return buf;
}

/*
 * CONDSTORE/QRESYNC in the index: STORE UNCHANGEDSINCE leaves alone what
 * changed since; EXPUNGE and MOVE record their UIDs with a modseq that
 * only grows, across reopening; the history from before an upgrade is
 * guessed as a superset.
 */
static void
test_modseq_vanished(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_mailbox	 mb;
	struct index_uidrange	*r;
	struct index_msg_info	 info;
	sqlite3			*db;
	unsigned char		*d = msg_make(100, 5);
	char			 err[256], path[PATH_MAX];
	uint32_t		 all[6] = { 1, 2, 3, 4, 5, 6 }, mod[6], two = 2;
	uint32_t		 three[2] = { 3, 4 };
	uint64_t		 ms, m0, m1, m2;
	size_t			 total, n, nmod, changed;
	int64_t			 inbox, trash;
	int			 i;

	test_begin("modseq: UNCHANGEDSINCE, VANISHED history across "
	    "restarts, the superset before an upgrade");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	trash = mbox_id(ix, "Trash");
	for (i = 0; i < 6; i++)
		test_assert(deliver(&a, d, 100, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1);
	m0 = mb.highestmodseq;
	/* 2 changes; then a conditional store from before it skips 2 */
	test_assert(index_flags_update(ix, inbox, &two, 1, INDEX_FLAGS_ADD,
	    INDEX_F_FLAGGED, 0, &m1, NULL) == 0 && m1 == m0 + 1);
	test_assert(index_flags_update_cond(ix, inbox, all, 3,
	    INDEX_FLAGS_ADD, INDEX_F_SEEN, 0, m0, mod, &nmod, &ms,
	    &changed) == 0 && nmod == 1 && mod[0] == 2 && changed == 2 &&
	    ms == m1 + 1);
	test_assert(index_msg_info(ix, inbox, 2, &info) == 1 &&
	    info.flags == INDEX_F_FLAGGED && info.modseq == m1);
	test_assert(index_msg_info(ix, inbox, 3, &info) == 1 &&
	    info.flags == INDEX_F_SEEN && info.modseq == ms);
	/* nothing vanished yet */
	test_assert(index_vanished(ix, inbox, 0, 1, UINT32_MAX, &r, &n) == 0 &&
	    n == 0);
	free(r);
	/* expunge 3 and 4; move 6 to Trash */
	test_assert(index_expunge(ix, inbox, three, 2, 0, NULL, NULL) == 0);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1);
	m2 = mb.highestmodseq;
	test_assert(m2 > ms);
	test_assert(index_move(ix, inbox, &all[5], 1, trash, NULL, NULL,
	    &n) == 0 && n == 1);
	test_assert(index_vanished(ix, inbox, 0, 1, UINT32_MAX, &r, &n) == 0);
	test_assert(strcmp(ranges(r, n), "3:4,6:6") == 0);
	free(r);
	/* since the expunge: only the move */
	test_assert(index_vanished(ix, inbox, m2, 1, UINT32_MAX, &r, &n) == 0);
	test_assert(strcmp(ranges(r, n), "6:6") == 0);
	free(r);
	test_assert(index_vanished(ix, inbox, 0, 4, 5, &r, &n) == 0);
	test_assert(strcmp(ranges(r, n), "4:4") == 0);
	free(r);
	test_assert(index_vanished(ix, 999, 0, 1, 9, &r, &n) == -1);
	index_close(ix);

	/* reopened: the same history, and the modseq goes on upwards */
	test_assert((ix = index_open(a.dirfd, a.dir, pk, sk, 0, err,
	    sizeof(err))) != NULL);
	test_assert(index_vanished(ix, inbox, 0, 1, UINT32_MAX, &r, &n) == 0);
	test_assert(strcmp(ranges(r, n), "3:4,6:6") == 0);
	free(r);
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1);
	m0 = mb.highestmodseq;
	test_assert(index_flags_update(ix, inbox, all, 1, INDEX_FLAGS_ADD,
	    INDEX_F_ANSWERED, 0, &m1, NULL) == 0 && m1 == m0 + 1);
	index_close(ix);

	/* as an index.db from before version 4: the history is a guess */
	test_assert(snprintf(path, sizeof(path), "%s/index.db", a.dir) > 0);
	test_assert(sqlite3_open(path, &db) == SQLITE_OK);
	test_assert(sqlite3_exec(db, "ALTER TABLE mailboxes DROP COLUMN "
	    "vanished_floor; DROP TABLE vanished; ALTER TABLE messages DROP "
	    "COLUMN dg_size; UPDATE schema_version SET version = 3;", NULL,
	    NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	test_assert((ix = index_open(a.dirfd, a.dir, pk, sk, 0, err,
	    sizeof(err))) != NULL);
	/* from before the upgrade: every uid with no message (1, 2, 5 live) */
	test_assert(index_vanished(ix, inbox, 1, 1, UINT32_MAX, &r, &n) == 0);
	test_assert(strcmp(ranges(r, n), "3:4,6:6") == 0);
	free(r);
	/* from now on: exact */
	test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1);
	test_assert(index_vanished(ix, inbox, mb.highestmodseq, 1, UINT32_MAX,
	    &r, &n) == 0 && n == 0);
	free(r);
	test_assert(index_expunge(ix, inbox, all, 1, 0, NULL, NULL) == 0);
	test_assert(index_vanished(ix, inbox, mb.highestmodseq, 1, UINT32_MAX,
	    &r, &n) == 0);
	test_assert(strcmp(ranges(r, n), "1:1") == 0);
	free(r);
	/* known at once for a 7-bit header, imported or appended */
	{
		static const char	seven[] = "Subject: plain\r\n\r\n\xc3\xa9"
		    " in the body only\r\n";
		static const char	eight[] = "Subject: caf\xc3\xa9\r\n\r\n"
		    "x\r\n";
		uint32_t		u7;
		int			fd;

		test_assert(deliver(&a, (const unsigned char *)seven,
		    sizeof(seven) - 1, "INBOX") == 0);
		test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1);
		test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1);
		test_assert(index_msg_info(ix, inbox, mb.uidnext - 1, &info) ==
		    1 && info.dg_size == sizeof(seven) - 1);
		fd = memfd_sealed_from("7", (const unsigned char *)seven,
		    sizeof(seven) - 1);
		test_assert(index_append(ix, inbox, fd, sizeof(seven) - 1, 0,
		    0, 0, &u7) == 0);
		close(fd);
		test_assert(index_msg_info(ix, inbox, u7, &info) == 1 &&
		    info.dg_size == sizeof(seven) - 1);
		fd = memfd_sealed_from("8", (const unsigned char *)eight,
		    sizeof(eight) - 1);
		test_assert(index_append(ix, inbox, fd, sizeof(eight) - 1, 0,
		    0, 0, &u7) == 0);
		close(fd);
		test_assert(index_msg_info(ix, inbox, u7, &info) == 1 &&
		    info.dg_size == 0);
	}
	/* the downgraded size: unknown, then on the row and its copies */
	test_assert(index_msg_info(ix, inbox, 5, &info) == 1 &&
	    info.dg_size == 0);
	test_assert(index_dg_set(ix, inbox, 5, 12345) == 0);
	test_assert(index_copy(ix, inbox, &all[4], 1, trash, NULL, mod, &n) ==
	    0 && n == 1);
	test_assert(index_msg_info(ix, trash, mod[0], &info) == 1 &&
	    info.dg_size == 12345);
	test_assert(index_dg_set(ix, trash, mod[0], 777) == 0);
	test_assert(index_msg_info(ix, inbox, 5, &info) == 1 &&
	    info.dg_size == 777);
	/* a deleted mailbox takes its history along */
	test_assert(index_mailbox_create(ix, "Gone", 0) == 0);
	test_assert(index_move(ix, inbox, &two, 1, mbox_id(ix, "Gone"), NULL,
	    NULL, &n) == 0 && n == 1);
	test_assert(index_expunge(ix, mbox_id(ix, "Gone"), NULL, 0, 0, NULL,
	    NULL) == 0);
	test_assert(index_mailbox_delete(ix, "Gone") == 0);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	free(d);
	test_end();
}

#ifdef SP_TEST_HOOKS
/*
 * The expunge history is bounded: past the limit the older half goes and
 * the floor moves up; asked from before it, the answer is the superset,
 * from after it exact.
 */
static void
test_vanished_prune(void)
{
	struct acct		 a;
	struct index		*ix;
	struct index_mailbox	 mb;
	struct index_uidrange	*r;
	sqlite3			*db;
	sqlite3_stmt		*st;
	unsigned char		*d = msg_make(100, 7);
	char			 path[PATH_MAX];
	uint64_t		 after4 = 0;
	uint32_t		 u;
	size_t			 total, n;
	int64_t			 inbox;
	int			 rows = -1;

	test_begin("vanished: the history is pruned to its limit, the floor "
	    "moves up");
	test_assert(acct_new(&a) == 0);
	test_assert((ix = ix_open(&a)) != NULL);
	inbox = mbox_id(ix, "INBOX");
	for (u = 0; u < 8; u++)
		test_assert(deliver(&a, d, 100, "INBOX") == 0);
	test_assert(import_all(ix, INDEX_IMPORT_MAX, &total) == 1);
	index_test_vanished_keep = 4;
	for (u = 1; u <= 6; u++) {
		test_assert(index_expunge(ix, inbox, &u, 1, 0, NULL, NULL) ==
		    0);
		if (u == 4) {
			test_assert(index_mailbox_open(ix, "INBOX", &mb) == 1);
			after4 = mb.highestmodseq;
		}
	}
	index_test_vanished_keep = 0;
	/* at most the limit is kept */
	test_assert(snprintf(path, sizeof(path), "%s/index.db", a.dir) > 0);
	test_assert(sqlite3_open(path, &db) == SQLITE_OK);
	test_assert(sqlite3_prepare_v2(db, "SELECT count(*) FROM vanished",
	    -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW);
	rows = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	test_assert(rows >= 2 && rows <= 4);
	/* from after the 4th expunge: exactly 5 and 6 */
	test_assert(index_vanished(ix, inbox, after4, 1, UINT32_MAX, &r,
	    &n) == 0 && n == 1 && r[0].lo == 5 && r[0].hi == 6);
	free(r);
	/* from the start: every uid without a message, 1 to 6 */
	test_assert(index_vanished(ix, inbox, 0, 1, UINT32_MAX, &r, &n) == 0 &&
	    n == 1 && r[0].lo == 1 && r[0].hi == 6);
	free(r);
	test_assert(check_clean(ix, 0));
	index_close(ix);
	acct_free(&a);
	free(d);
	test_end();
}
#endif

int
main(void)
{
	static void (*tests[])(void) = {
		test_open, test_import_one, test_import_many, test_sizes,
		test_uids, test_flags, test_append_copy_move_expunge,
		test_mailboxes,
#ifdef SP_TEST_HOOKS
		test_crash_import, test_crash_expunge, test_crash_append,
		test_vanished_prune,
#endif
		test_tamper, test_damaged, test_meta, test_meta_seal,
		test_concurrent, test_recent, test_modseq_vanished,
		NULL
	};

	meta_init();
	if (sodium_init() < 0 || index_init() == -1 ||
	    (sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL ||
	    (other_sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL)
		return 1;
	crypto_box_keypair(pk, sk);
	crypto_box_keypair(other_pk, other_sk);
	return test_run(tests);
}
