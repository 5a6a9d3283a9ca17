/* SPDX-License-Identifier: ISC */
/*
 * readmail.c - test tool: read an account's mail the way its mail process
 * will: unlock the private key with the password (users.db), drop to the
 * account's uid, import new/ into index.db, then print one line per
 * message of every mailbox: "MAILBOX UID SIZE SHA256" (or "... damaged
 * REASON").  With -c, only index_check.  For tests; never installed.
 *
 *	readmail [-cn] [-e N] [-p UID] [-x STEP] DATA_DIR ADDRESS PASSWORD-FILE
 *
 * -n skips the import; -e N expunges the N lowest uids of INBOX after the
 * import and before the listing (index_expunge); -x STEP sets the index's
 * crash hook (index_test_crash_at: it _exit(99)s right after STEP; only
 * with --enable-test-hooks).
 *
 * It enters the same jail as a mail process (jail_account on
 * RUN_DIR/mailroot, found next to DATA_DIR as a development instance has
 * it), so SQLite sees the folder at /mail.
 */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "sandbox.h"
#include "accounts.h"
#include "index.h"
#include "banned.h"

struct walk {
	struct index	*ix;
	const char	*mbox;
	int64_t		 id;
	int		 bad;
};

/* -p UID: the message of INBOX with that uid, as stored, to stdout. */
static int
dump_msg(struct index *ix, uint32_t uid)
{
	struct index_mailbox	 mb;
	struct index_msg	*m;
	unsigned char		 buf[65536];
	uint64_t		 off = 0;
	ssize_t			 n;

	if (index_mailbox_open(ix, "INBOX", &mb) != 1 ||
	    (m = index_msg_open(ix, mb.id, uid)) == NULL) {
		fprintf(stderr, "readmail: INBOX %u: %s\n", uid,
		    index_errstr(ix));
		return 1;
	}
	while ((n = index_msg_pread(m, buf, sizeof(buf), off)) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return 1;
		off += (uint64_t)n;
	}
	index_msg_close(m);
	return n == 0 && fflush(stdout) == 0 ? 0 : 1;
}

static int
print_msg(const struct index_msg_info *mi, void *arg)
{
	struct walk		*w = arg;
	struct index_msg	*m;
	crypto_hash_sha256_state st;
	unsigned char		 buf[65536], h[32];
	char			 hex[65];
	uint64_t		 off = 0;
	ssize_t			 n;

	if ((m = index_msg_open(w->ix, w->id, mi->uid)) == NULL) {
		printf("%s %u damaged %s\n", w->mbox, mi->uid,
		    index_errstr(w->ix));
		w->bad++;
		return 0;
	}
	crypto_hash_sha256_init(&st);
	while ((n = index_msg_pread(m, buf, sizeof(buf), off)) > 0) {
		crypto_hash_sha256_update(&st, buf, (size_t)n);
		off += (uint64_t)n;
	}
	index_msg_close(m);
	if (n == -1) {
		printf("%s %u damaged read\n", w->mbox, mi->uid);
		w->bad++;
		return 0;
	}
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	printf("%s %u %llu %s\n", w->mbox, mi->uid, (unsigned long long)off,
	    hex);
	return 0;
}

struct lowest {
	uint32_t	*uids;
	size_t		 n, max;
};

static int
collect_uid(const struct index_msg_info *mi, void *arg)
{
	struct lowest	*l = arg;

	if (l->n == l->max)
		return 1;		/* enough: stop the walk */
	l->uids[l->n++] = mi->uid;
	return 0;
}

/* Expunge the max lowest uids of INBOX (fewer when it holds fewer). */
static int
expunge_lowest(struct index *ix, size_t max)
{
	struct index_mailbox	 mb;
	struct lowest		 l;
	int			 rc;

	if (max == 0)
		return 0;
	if (index_mailbox_open(ix, "INBOX", &mb) != 1)
		return -1;
	memset(&l, 0, sizeof(l));
	l.max = max;
	if ((l.uids = reallocarray(NULL, max, sizeof(*l.uids))) == NULL)
		return -1;
	rc = index_msg_foreach(ix, mb.id, 1, UINT32_MAX, 0, collect_uid, &l);
	if (rc != -1 && l.n > 0)
		rc = index_expunge(ix, mb.id, l.uids, l.n, 0, NULL, NULL);
	free(l.uids);
	return rc == -1 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct accounts_params	 p;
	struct accounts_db	*db;
	struct index		*ix;
	struct index_mailbox	*mbs;
	struct index_check	 chk;
	struct walk		 w;
	unsigned char		*sk, pk[32], pw[1025];
	char			 path[1024], root[1024], err[512];
	uint64_t		 id, q, u;
	uint32_t		 uid;
	size_t			 n, i, remaining, pwlen, expunge = 0;
	uint32_t		 dump = 0;
	int			 check = 0, noimport = 0, dfd, ch, bad = 0;
	const char		*errstr;
	FILE			*fp;

	while ((ch = getopt(argc, argv, "ce:np:x:")) != -1) {
		switch (ch) {
		case 'c':
			check = 1;
			break;
		case 'p':
			dump = (uint32_t)strtonum(optarg, 1, UINT32_MAX,
			    &errstr);
			bad |= errstr != NULL;
			break;
		case 'e':
			expunge = (size_t)strtonum(optarg, 0, INDEX_OP_MAX,
			    &errstr);
			bad |= errstr != NULL;
			break;
		case 'n':
			noimport = 1;
			break;
		case 'x':
#ifdef SP_TEST_HOOKS
			index_test_crash_at = optarg;
#else
			bad = 1;	/* only with --enable-test-hooks */
#endif
			break;
		default:
			bad = 1;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (bad || argc != 3 || sodium_init() < 0 || index_init() == -1 ||
	    (sk = sodium_malloc(32)) == NULL) {
		fprintf(stderr, "usage: readmail [-cn] [-e N] [-p UID] [-x STEP] "
		    "DATA_DIR ADDRESS PASSWORD-FILE\n");
		return 2;
	}
	if ((fp = fopen(argv[2], "r")) == NULL ||
	    fgets((char *)pw, sizeof(pw), fp) == NULL)
		return 2;
	fclose(fp);
	pwlen = strcspn((char *)pw, "\r\n");
	snprintf(path, sizeof(path), "%s/users.db", argv[0]);
	memset(&p, 0, sizeof(p));
	if ((db = accounts_open(path, &p, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "readmail: %s\n", err);
		return 1;
	}
	if (accounts_lookup(db, argv[1], &id, pk, &uid, &q, &u) != 1) {
		fprintf(stderr, "readmail: no account %s\n", argv[1]);
		return 1;
	}
	if (!check && accounts_unlock(db, argv[1], pw, pwlen, &id, NULL, sk) != 1) {
		fprintf(stderr, "readmail: wrong password\n");
		return 1;
	}
	sodium_memzero(pw, sizeof(pw));
	accounts_close(db);

	snprintf(path, sizeof(path), "%s/mail/%llu", argv[0],
	    (unsigned long long)id);
	snprintf(root, sizeof(root), "%s/../run/mailroot", argv[0]);
	if (jail_account(root, path) == -1) {
		perror("jail_account");
		return 1;
	}
	if ((dfd = open("/mail", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) ==
	    -1) {
		perror("/mail");
		return 1;
	}
	/* the account's files are the account's: act as its uid */
	if (setgroups(0, NULL) == -1 || setresgid(uid, uid, uid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		perror("setresuid");
		return 1;
	}
	/*
	 * The parents (DATA_DIR, 0700 root) are closed to the account's
	 * uid; in the jail the folder is /mail.
	 */
	snprintf(path, sizeof(path), "/mail");
	if ((ix = index_open(dfd, path, check ? NULL : pk, check ? NULL : sk,
	    INDEX_OPEN_CREATE, err, sizeof(err))) == NULL) {
		fprintf(stderr, "readmail: %s\n", err);
		return 1;
	}
	if (check) {
		if (index_check(ix, 0, &chk) == -1) {
			fprintf(stderr, "readmail: %s\n", index_errstr(ix));
			return 1;
		}
		printf("rows=%zu blobs=%zu pending=%zu missing=%zu orphans=%zu "
		    "bad_blobs=%zu\n", chk.rows, chk.blobs, chk.pending,
		    chk.count[INDEX_P_MISSING], chk.count[INDEX_P_ORPHAN],
		    chk.count[INDEX_P_BAD_BLOB]);
		index_check_free(&chk);
		return 0;
	}
	remaining = noimport ? 0 : 1;
	while (remaining > 0) {
		if (index_import(ix, INDEX_IMPORT_MAX, NULL, &remaining) ==
		    -1) {
			fprintf(stderr, "readmail: import: %s\n",
			    index_errstr(ix));
			return 1;
		}
	}
	if (expunge_lowest(ix, expunge) == -1) {
		fprintf(stderr, "readmail: expunge: %s\n", index_errstr(ix));
		return 1;
	}
	if (dump != 0)
		return dump_msg(ix, dump);
	if (index_mailbox_list(ix, &mbs, &n) == -1)
		return 1;
	memset(&w, 0, sizeof(w));
	w.ix = ix;
	for (i = 0; i < n; i++) {
		w.mbox = mbs[i].name;
		w.id = mbs[i].id;
		if (index_msg_foreach(ix, mbs[i].id, 1, UINT32_MAX, 0,
		    print_msg, &w) == -1)
			return 1;
	}
	free(mbs);
	index_close(ix);
	return w.bad ? 3 : 0;
}
