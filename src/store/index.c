/* SPDX-License-Identifier: ISC */
/*
 * index.c - an account's index.db and its mailbox operations; the only
 * file that knows its SQL (see index.h for the API).
 *
 * Process:  the account's mail processes (imap-mail, pop3-mail: the
 *           account's uid, its key pair, its folder at /mail in its jail);
 *           sealpostctl store check (index_check, no key, as the account).
 * Trust:    blobs in new/ were written by the deliver service, which holds
 *           only the public key, so anyone who has it (a compromised
 *           deliver) can write one: a blob is opened with the key before
 *           anything of it is used, its folder name only selects an
 *           existing mailbox, and a blob that does not open becomes a
 *           placeholder.  File names in new/ and blobs/ are hostile until
 *           they are 32 lower-case hex digits.  index.db is the account's
 *           own file and trusted for its structure; values read from it are
 *           still checked (lengths, ranges) before use.  Mailbox names and
 *           keywords come from a client and are checked here.
 * Limits:   INDEX_* in index.h; IX_BUSY_MS of SQLite busy timeout;
 *           IX_GC_MAX expunged blobs removed per pass.
 * See also: blob.c (the blob format), store_deliver.c (the writer of
 *           new/), layout.h (folders and modes), DESIGN.md "At-rest
 *           formats", tests/unit/test_index.c.
 *
 * index.db (SQLite; WAL, synchronous=FULL, foreign keys, temp_store=
 * MEMORY, busy timeout; defensive, untrusted schema; created 0600):
 *
 *   schema_version (version)		one row: IX_SCHEMA_VERSION
 *   account   (id = 1, last_uidvalidity, usage_bytes, usage_blobs)
 *   mailboxes (id PK AUTOINCREMENT, name UNIQUE (UTF-8 since version 3;
 *              modified UTF-7 as the client sent it before), uidvalidity,
 *              uidnext, highestmodseq, special_use (unique when not 0),
 *              subscribed, created, recent_uid (messages from this uid on
 *              are \Recent: no session has claimed them yet; version 2))
 *   messages  (id PK, mailbox_id -> mailboxes, uid, blob_id (16 bytes;
 *              rows copied from one message share it: a blob's reference
 *              count is the number of rows naming it), flags (INDEX_F_*),
 *              keywords (64 bits, -> keywords.bit), internal_date, size,
 *              modseq, error (NULL, or why the blob did not open: a
 *              placeholder), meta + meta_version (sealed metadata, opaque
 *              here; NULL until built), dg_size (the size as a client
 *              without UTF8=ACCEPT reads it, set with the metadata; NULL
 *              until then; version 5), UNIQUE (mailbox_id, uid))
 *   keywords  (bit 0..63 PK, name UNIQUE NOCASE)	bits are never reused
 *   expunged  (blob_id PK, time)	blobs whose last row was expunged and
 *					whose file may still be on disk
 *   vanished  (mailbox_id, uid PK, modseq)	UIDs expunged, with the
 *              mailbox's highestmodseq after it (QRESYNC; version 4); the
 *              history starts at mailboxes.vanished_floor
 *
 * UIDs come from mailboxes.uidnext, which only grows, in the transaction
 * that adds the row: strictly ascending, never reused (after an expunge,
 * a reopen or a crash, since the row and uidnext commit together).  Every
 * change takes the write lock first (BEGIN IMMEDIATE), so two processes
 * of one account never interleave, and touches the "changes" file after
 * its commit (the IDLE wake-up: watchers see IN_MODIFY).
 *
 * Crash safety, operation by operation (a crash is allowed anywhere):
 *   import   open and check each blob of new/ (no lock held); commit all
 *            the batch's rows ("import-row"); rename each new/NAME to
 *            blobs/NAME ("import-move"); fsync blobs/ and new/.  A crash
 *            after the commit leaves rows whose files are still in new/:
 *            the next import finds the row and only moves the file (and a
 *            reader looks in new/ too), never a second row.
 *   append   blob_write into blobs/.tmp-X, fsync, rename to blobs/ID,
 *            fsync blobs/ ("append-written"); then commit the row.  A crash
 *            before the row leaves an orphan blob: index_check's repair
 *            moves it to new/ and import adds it (to the mailbox it was
 *            appended to).  Never a row without its blob.
 *   copy, move, flags, metadata, mailbox create/rename/subscribe
 *            one transaction each, no file touched (a copy shares the
 *            blob, a move keeps it: no blob ever loses its last row).
 *   expunge  (and mailbox delete) one transaction deletes the rows and
 *            records in "expunged" the blobs no row references any more;
 *            commit ("expunge-commit"); then, under the write lock,
 *            unlink those files (from blobs/, or from new/ if an import
 *            crashed before moving one), fsync, and only then drop their
 *            "expunged" entries.  A crash after the commit leaves garbage
 *            that the next expunge or index_check's repair removes: it is
 *            never imported again, since expunging was the user's will.
 *            An orphan that "expunged" does not name is mail: repair
 *            moves it back to new/.
 * A file of new/ whose name is a stored blob that is still in blobs/ (a
 * duplicate: only a misbehaving writer makes one) is renamed in new/ to a
 * fresh random name, so the next import keeps it as a placeholder: no
 * file is ever overwritten, none deleted.
 *
 * Sandbox: besides SQLite's own calls (RECIPES.md 10) this file uses
 * openat, getdents64, newfstatat/fstat, renameat2 (renameat where the
 * filesystem lacks RENAME_NOREPLACE), unlinkat, fsync, pwrite64 and
 * clock_gettime; Landlock on the folder needs READ_FILE, WRITE_FILE,
 * READ_DIR, MAKE_REG, REMOVE_FILE, TRUNCATE and REFER.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "log.h"
#include "xmalloc.h"
#include "blob.h"
#include "index.h"
#include "mutf7.h"
#include "banned.h"

#define IX_SCHEMA_VERSION	5
#define IX_BUSY_MS		5000
#define IX_NAME_LEN		(2 * BLOB_ID_LEN)	/* a blob's file name */
#define IX_GC_MAX		1000
#define IX_UID_MAX		UINT32_MAX	/* RFC 3501 nz-number */
#define IX_ERRBUF		256

#define IX_STR2(x)		#x
#define IX_STR(x)		IX_STR2(x)

/*
 * The expunge history kept per mailbox (QRESYNC): past this many UIDs the
 * older half goes and vanished_floor moves up past it, so a client that
 * asks about that time gets index_vanished's superset.
 */
#define IX_VANISHED_KEEP	100000

#ifdef SP_TEST_HOOKS
size_t		 index_test_vanished_keep;
#define IX_KEEP	(index_test_vanished_keep != 0 ?			\
		    (int64_t)index_test_vanished_keep : IX_VANISHED_KEEP)
#else
#define IX_KEEP	((int64_t)IX_VANISHED_KEEP)
#endif

#ifdef SP_TEST_HOOKS
const char	*index_test_crash_at;

#define CRASH_POINT(step) do {						\
	if (index_test_crash_at != NULL &&				\
	    strcmp(index_test_crash_at, (step)) == 0)			\
		_exit(99);						\
} while (0)
#else
#define CRASH_POINT(step) do { } while (0)
#endif

struct index {
	sqlite3			*db;
	int			 newfd;		/* new/ */
	int			 blobsfd;	/* blobs/ */
	int			 changesfd;	/* changes, or -1 */
	const unsigned char	*pk;		/* the caller's, or NULL */
	const unsigned char	*sk;		/* the caller's, or NULL */
	uint64_t		 freeing;	/* bytes the open transaction frees */
	uint64_t		 freed;		/* committed, not yet taken */
	char			 err[INDEX_ERR_MAX];
};

struct index_msg {
	int			 fd;
	struct blob_reader	*r;
	uint64_t		 size;
};

/* The six mailboxes of every account, in the order they are created. */
static const struct {
	const char	*name;
	int		 special;
} ix_defaults[] = {
	{ "INBOX",	INDEX_SPECIAL_NONE },
	{ "Sent",	INDEX_SPECIAL_SENT },
	{ "Drafts",	INDEX_SPECIAL_DRAFTS },
	{ "Junk",	INDEX_SPECIAL_JUNK },
	{ "Trash",	INDEX_SPECIAL_TRASH },
	{ "Archive",	INDEX_SPECIAL_ARCHIVE }
};
#define IX_NDEFAULTS	(sizeof(ix_defaults) / sizeof(ix_defaults[0]))

/* Version 4: the UIDs expunged from each mailbox, with the modseq of the
 * expunge (QRESYNC) */
#define IX_VANISHED_SCHEMA						\
	"CREATE TABLE vanished ("					\
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"	\
	"  uid INTEGER NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),"	\
	"  modseq INTEGER NOT NULL CHECK (modseq >= 1),"		\
	"  PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"		\
	"CREATE INDEX vanished_modseq ON vanished(mailbox_id, modseq);"

static const char ix_schema[] =
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	"INSERT INTO schema_version VALUES (" IX_STR(IX_SCHEMA_VERSION) ");"
	"CREATE TABLE account ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  last_uidvalidity INTEGER NOT NULL,"
	"  usage_bytes INTEGER NOT NULL CHECK (usage_bytes >= 0),"
	"  usage_blobs INTEGER NOT NULL CHECK (usage_blobs >= 0));"
	"INSERT INTO account VALUES (1, 0, 0, 0);"
	"CREATE TABLE mailboxes ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE,"
	"  uidvalidity INTEGER NOT NULL"
	"    CHECK (uidvalidity BETWEEN 1 AND 4294967295),"
	"  uidnext INTEGER NOT NULL CHECK (uidnext BETWEEN 1 AND 4294967295),"
	"  highestmodseq INTEGER NOT NULL CHECK (highestmodseq >= 1),"
	"  special_use INTEGER NOT NULL DEFAULT 0"
	"    CHECK (special_use BETWEEN 0 AND " IX_STR(INDEX_SPECIAL_MAX) "),"
	"  subscribed INTEGER NOT NULL DEFAULT 1 CHECK (subscribed IN (0, 1)),"
	"  created INTEGER NOT NULL,"
	"  recent_uid INTEGER NOT NULL DEFAULT 1"
	"    CHECK (recent_uid BETWEEN 1 AND 4294967295),"
	"  vanished_floor INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX mailboxes_special ON mailboxes(special_use)"
	"  WHERE special_use <> 0;"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"
	"  uid INTEGER NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),"
	"  blob_id BLOB NOT NULL CHECK (length(blob_id) = 16),"
	"  flags INTEGER NOT NULL DEFAULT 0 CHECK (flags BETWEEN 0 AND 31),"
	"  keywords INTEGER NOT NULL DEFAULT 0,"
	"  internal_date INTEGER NOT NULL,"
	"  size INTEGER NOT NULL CHECK (size >= 0),"
	"  modseq INTEGER NOT NULL CHECK (modseq >= 1),"
	"  error TEXT,"
	"  dg_size INTEGER CHECK (dg_size >= 0),"
	"  meta BLOB,"
	"  meta_version INTEGER CHECK (meta_version >= 1),"
	"  CHECK ((meta IS NULL) = (meta_version IS NULL)),"
	"  UNIQUE (mailbox_id, uid));"
	"CREATE INDEX messages_blob ON messages(blob_id);"
	"CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);"
	"CREATE TABLE keywords ("
	"  bit INTEGER PRIMARY KEY CHECK (bit BETWEEN 0 AND 63),"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE);"
	"CREATE TABLE expunged ("
	"  blob_id BLOB PRIMARY KEY CHECK (length(blob_id) = 16),"
	"  time INTEGER NOT NULL) WITHOUT ROWID;"
	IX_VANISHED_SCHEMA;

/* A mailbox row with its counts; "WHERE ..." and the order are appended. */
#define IX_MAILBOX_SELECT						\
	"SELECT m.id, m.name, m.uidvalidity, m.uidnext, m.highestmodseq,"\
	" m.special_use, m.subscribed, count(x.id),"			\
	" coalesce(sum((x.flags & 1) = 0), 0),"				\
	" coalesce(sum((x.flags & 8) <> 0), 0), coalesce(sum(x.size), 0),"\
	" coalesce(sum(CASE WHEN (x.flags & 8) <> 0 THEN x.size END), 0),"\
	" m.recent_uid, coalesce(sum(x.uid >= m.recent_uid), 0)"	\
	" FROM mailboxes m LEFT JOIN messages x ON x.mailbox_id = m.id "

#define IX_MSG_SELECT							\
	"SELECT uid, flags, keywords, size, internal_date, modseq,"	\
	" error IS NOT NULL, coalesce(meta_version, 0), blob_id,"	\
	" coalesce(dg_size, 0)"						\
	" FROM messages "

/* --- errors --------------------------------------------------------------- */

static int ix_err(struct index *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the message and errno; returns -1. */
static int
ix_err(struct index *ix, int eno, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(ix->err, sizeof(ix->err), fmt, ap);
	va_end(ap);
	errno = eno;
	return -1;
}

static int
ix_dberr(struct index *ix)
{
	int	eno;

	switch (sqlite3_errcode(ix->db) & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		eno = EBUSY;
		break;
	case SQLITE_FULL:
		eno = ENOSPC;
		break;
	case SQLITE_NOMEM:
		eno = ENOMEM;
		break;
	default:
		eno = EIO;
	}
	return ix_err(ix, eno, "index.db: %s", sqlite3_errmsg(ix->db));
}

/* Every public operation starts here. */
static void
ix_start(struct index *ix)
{
	ix->err[0] = '\0';
}

const char *
index_errstr(const struct index *ix)
{
	return ix->err[0] != '\0' ? ix->err : "no error";
}

/* --- small helpers -------------------------------------------------------- */

static void
ix_hex(const unsigned char id[BLOB_ID_LEN], char out[IX_NAME_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < BLOB_ID_LEN; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 0xf];
	}
	out[IX_NAME_LEN] = '\0';
}

static int
ix_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * SECURITY: a directory entry is a blob name only when it is exactly 32
 * lower-case hex digits (what store_deliver and append write); then id
 * gets its bytes.  Anything else is never opened as a blob.
 */
static int
ix_unhex(const char *name, unsigned char id[BLOB_ID_LEN])
{
	size_t	i;
	int	hi, lo;

	if (strnlen(name, IX_NAME_LEN + 1) != IX_NAME_LEN)
		return 0;
	for (i = 0; i < BLOB_ID_LEN; i++) {
		if ((hi = ix_nibble(name[2 * i])) == -1 ||
		    (lo = ix_nibble(name[2 * i + 1])) == -1)
			return 0;
		id[i] = (unsigned char)(hi << 4 | lo);
	}
	return 1;
}

static int
ix_is_tmp(const char *name)
{
	return strncmp(name, ".tmp-", 5) == 0;
}

/* A hostile file name, escaped for a message. */
static const char *
ix_esc(const char *name, char *buf, size_t len)
{
	return log_esc(buf, len, name, strnlen(name, NAME_MAX + 1));
}

/*
 * Mailbox names: UTF-8 (no overlong form, no surrogate, nothing past
 * U+10FFFF), no C0 or C1 control and no DEL, 1..INDEX_NAME_MAX bytes.
 */
static int
ix_name_ok(const char *s)
{
	size_t	len = strnlen(s, INDEX_NAME_MAX + 1);

	return len > 0 && len <= INDEX_NAME_MAX && utf8_valid_text(s, len);
}

/* Check a client's mailbox name; "INBOX" in any case is INBOX. */
static const char *
ix_name(struct index *ix, const char *name)
{
	if (name == NULL || !ix_name_ok(name)) {
		ix_err(ix, EINVAL, "malformed mailbox name");
		return NULL;
	}
	if (strcasecmp(name, "INBOX") == 0)
		return "INBOX";
	return name;
}

static int
ix_is_default(const char *name)
{
	size_t	i;

	for (i = 0; i < IX_NDEFAULTS; i++)
		if (strcmp(name, ix_defaults[i].name) == 0)
			return 1;
	return 0;
}

/* IMAP atom (RFC 3501 9) without "\": keywords are not system flags. */
static int
ix_keyword_ok(const char *s)
{
	size_t	len, i;

	len = strnlen(s, INDEX_KEYWORD_LEN + 1);
	if (len == 0 || len > INDEX_KEYWORD_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f ||
		    strchr("(){%*\"\\]", s[i]) != NULL)
			return 0;
	return 1;
}

static int64_t
ix_now(void)
{
	return (int64_t)time(NULL);
}

static int
ix_uid_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A sorted copy of uids without duplicates (the caller frees it). */
static uint32_t *
ix_sorted(const uint32_t *uids, size_t n, size_t *n_r)
{
	uint32_t	*s;
	size_t		 i, k = 0;

	s = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*s));
	if (n > 0)
		memcpy(s, uids, n * sizeof(*s));
	qsort(s, n, sizeof(*s), ix_uid_cmp);
	for (i = 0; i < n; i++)
		if (s[i] != 0 && (k == 0 || s[k - 1] != s[i]))
			s[k++] = s[i];
	*n_r = k;
	return s;
}

/*
 * Touch the changes file after a commit: other mail processes of the
 * account watch it with inotify (IN_MODIFY) to wake IDLE.  The content is
 * the time in nanoseconds, for watchers that poll; a failure is only
 * logged, since the commit already happened.
 */
static void
ix_changed(struct index *ix)
{
	struct timespec	ts;
	unsigned char	b[8];
	uint64_t	ns;
	size_t		i;

	if (ix->changesfd == -1)
		return;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(ns >> (8 * i));
	if (pwrite(ix->changesfd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		log_warn("index: changes file");
}

/*
 * Rename without replacing: a blob never overwrites another file.  A
 * filesystem without RENAME_NOREPLACE gets a check first (a race there
 * needs a second writer in the same directory, which only the account
 * itself is).
 */
static int
ix_rename(int from_fd, const char *from, int to_fd, const char *to)
{
	struct stat	st;

	if (renameat2(from_fd, from, to_fd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (fstatat(to_fd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(from_fd, from, to_fd, to);
}

/* A directory's entries, read from a fresh descriptor of it. */
static DIR *
ix_opendir(int dirfd)
{
	DIR	*d;
	int	 fd, saved;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

/* --- SQL helpers ---------------------------------------------------------- */

/*
 * Bind by a list of types: 't' const char *, 'i' int64_t, 'b' const void *
 * and size_t (NULL binds NULL).  Every integer argument is cast to int64_t
 * at the call.
 */
static int
ix_bind(sqlite3_stmt *st, const char *types, va_list ap)
{
	const void	*p;
	size_t		 n;
	int		 i, rc = SQLITE_OK;

	for (i = 0; types[i] != '\0' && rc == SQLITE_OK; i++) {
		switch (types[i]) {
		case 't':
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap,
			    const char *), -1, SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1,
			    (sqlite3_int64)va_arg(ap, int64_t));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			n = va_arg(ap, size_t);
			SP_ASSERT(n <= INDEX_META_MAX);
			rc = p == NULL ? sqlite3_bind_null(st, i + 1) :
			    sqlite3_bind_blob(st, i + 1, p, (int)n,
			    SQLITE_STATIC);
			break;
		default:
			fatalx("ix_bind: type %c", types[i]);
		}
	}
	return rc == SQLITE_OK ? 0 : -1;
}

static sqlite3_stmt *
ix_prep(struct index *ix, const char *sql)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		ix_dberr(ix);
		return NULL;
	}
	return st;
}

/* Reset a prepared statement and bind new values (loops). */
static int
ix_rebind(struct index *ix, sqlite3_stmt *st, const char *types, ...)
{
	va_list	ap;
	int	rc;

	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	va_start(ap, types);
	rc = ix_bind(st, types, ap);
	va_end(ap);
	if (rc == -1)
		return ix_dberr(ix);
	return 0;
}

static sqlite3_stmt *
ix_vquery(struct index *ix, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt	*st;

	if ((st = ix_prep(ix, sql)) == NULL)
		return NULL;
	if (ix_bind(st, types, ap) == -1) {
		ix_dberr(ix);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* A prepared, bound statement for the caller to step and finalize. */
static sqlite3_stmt *
ix_query(struct index *ix, const char *sql, const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, types);
	st = ix_vquery(ix, sql, types, ap);
	va_end(ap);
	return st;
}

/* Step a statement without result rows: rows changed, or -1. */
static int
ix_step_done(struct index *ix, sqlite3_stmt *st)
{
	int	rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return ix_dberr(ix);
	return sqlite3_changes(ix->db);
}

/* A statement without result rows: the number of rows changed, or -1. */
static int
ix_run(struct index *ix, const char *sql, const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	va_start(ap, types);
	st = ix_vquery(ix, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	rc = ix_step_done(ix, st);
	sqlite3_finalize(st);
	return rc;
}

/* The first column of the first row: 1 (in *v_r), 0 without a row, -1. */
static int
ix_int(struct index *ix, int64_t *v_r, const char *sql, const char *types,
    ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	va_start(ap, types);
	st = ix_vquery(ix, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	*v_r = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return ix_dberr(ix);
}

/* Copy column i when it is a blob of exactly len bytes: 1, else 0. */
static int
ix_col_blob(sqlite3_stmt *st, int i, void *dst, size_t len)
{
	const void	*p;

	if (sqlite3_column_type(st, i) != SQLITE_BLOB ||
	    (size_t)sqlite3_column_bytes(st, i) != len ||
	    (p = sqlite3_column_blob(st, i)) == NULL)
		return 0;
	memcpy(dst, p, len);
	return 1;
}

static int
ix_begin(struct index *ix)
{
	ix->freeing = 0;
	/* IMMEDIATE: take the write lock now, so checks and writes agree */
	if (sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return ix_dberr(ix);
	return 0;
}

static int
ix_commit(struct index *ix)
{
	if (sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return ix_dberr(ix);
	ix->freed += ix->freeing;
	ix->freeing = 0;
	return 0;
}

/* Undo an open transaction (keeps the message of what failed). */
static void
ix_rollback(struct index *ix)
{
	int	saved = errno;

	ix->freeing = 0;
	if (!sqlite3_get_autocommit(ix->db))
		(void)sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	errno = saved;
}

/* Is a blob named by any row: 1, 0, or -1. */
static int
ix_blob_used(struct index *ix, const unsigned char id[BLOB_ID_LEN])
{
	int64_t	v;

	return ix_int(ix, &v, "SELECT 1 FROM messages WHERE blob_id = ? "
	    "LIMIT 1", "b", id, (size_t)BLOB_ID_LEN);
}

/* --- mailboxes (inside a transaction) ------------------------------------- */

/*
 * A fresh uidvalidity: the time, or one more than the last one when the
 * clock has not moved past it (RFC 3501 2.3.1.1: a mailbox created again
 * under an old name must not get an old value).
 */
static int
ix_new_uidvalidity(struct index *ix, uint32_t *v_r)
{
	int64_t	last, now = ix_now(), v;

	if (ix_int(ix, &last, "SELECT last_uidvalidity FROM account", "") !=
	    1)
		return ix_err(ix, EIO, "index.db: no account row");
	v = now > last ? now : last + 1;
	if (v < 1 || v > (int64_t)UINT32_MAX)
		v = 1;
	if (ix_run(ix, "UPDATE account SET last_uidvalidity = ?", "i", v) !=
	    1)
		return -1;
	*v_r = (uint32_t)v;
	return 0;
}

static int
ix_mailbox_insert(struct index *ix, const char *name, int special)
{
	uint32_t	uv = 0;

	if (ix_new_uidvalidity(ix, &uv) == -1)
		return -1;
	if (ix_run(ix, "INSERT INTO mailboxes (name, uidvalidity, uidnext, "
	    "highestmodseq, special_use, subscribed, created) "
	    "VALUES (?, ?, 1, 1, ?, 1, ?)", "tiii", name, (int64_t)uv,
	    (int64_t)special, ix_now()) != 1)
		return -1;
	return 0;
}

/* A mailbox's id by (checked) name: 1 found, 0 not, -1 error. */
static int
ix_mailbox_id(struct index *ix, const char *name, int64_t *id_r)
{
	return ix_int(ix, id_r, "SELECT id FROM mailboxes WHERE name = ?", "t",
	    name);
}

static int
ix_inbox(struct index *ix, int64_t *id_r)
{
	if (ix_mailbox_id(ix, "INBOX", id_r) != 1)
		return ix_err(ix, EIO, "index.db: no INBOX");
	return 0;
}

static void
ix_mailbox_row(sqlite3_stmt *st, struct index_mailbox *mb)
{
	const char	*name;

	memset(mb, 0, sizeof(*mb));
	mb->id = sqlite3_column_int64(st, 0);
	name = (const char *)sqlite3_column_text(st, 1);
	(void)strlcpy(mb->name, name != NULL ? name : "", sizeof(mb->name));
	mb->uidvalidity = (uint32_t)sqlite3_column_int64(st, 2);
	mb->uidnext = (uint32_t)sqlite3_column_int64(st, 3);
	mb->highestmodseq = (uint64_t)sqlite3_column_int64(st, 4);
	mb->special_use = sqlite3_column_int(st, 5);
	mb->subscribed = sqlite3_column_int(st, 6);
	mb->messages = (uint32_t)sqlite3_column_int64(st, 7);
	mb->unseen = (uint32_t)sqlite3_column_int64(st, 8);
	mb->deleted = (uint32_t)sqlite3_column_int64(st, 9);
	mb->size = (uint64_t)sqlite3_column_int64(st, 10);
	mb->deleted_size = (uint64_t)sqlite3_column_int64(st, 11);
	mb->recent_uid = (uint32_t)sqlite3_column_int64(st, 12);
	mb->recent = (uint32_t)sqlite3_column_int64(st, 13);
}

/*
 * Add one row to a mailbox, inside the caller's transaction: the next uid
 * and modseq, and uidnext and highestmodseq move with it.  new_blob: no
 * row named this blob before, so the usage grows.
 */
/*
 * The downgraded size when it is known at once (downgrade.h): a header
 * (up to its first empty line, within IX_PROBE_MAX) of 7-bit bytes only
 * is read as it is, so the size stays; 0 (not known: the metadata builder
 * works it out) for anything else.  rd reads the message's plain bytes.
 */
#define IX_PROBE_MAX	(256 * 1024)

static uint64_t
ix_probe_dg(ssize_t (*rd)(void *, void *, size_t, uint64_t), void *arg,
    uint64_t size)
{
	unsigned char	chunk[16384];
	uint64_t	off = 0;
	ssize_t		n, i;
	int		nl = 1;			/* newlines in a row */

	while (off < IX_PROBE_MAX && off < size &&
	    (n = rd(arg, chunk, sizeof(chunk), off)) > 0) {
		for (i = 0; i < n; i++) {
			if (chunk[i] >= 0x80)
				return 0;
			if (chunk[i] == '\n') {
				if (++nl == 2)
					return size;
			} else if (chunk[i] != '\r')
				nl = 0;
		}
		off += (uint64_t)n;
	}
	return off == size ? size : 0;	/* all header, and 7-bit */
}

static ssize_t
ix_rd_blob(void *arg, void *buf, size_t len, uint64_t off)
{
	return blob_pread(arg, buf, len, off);
}

static ssize_t
ix_rd_fd(void *arg, void *buf, size_t len, uint64_t off)
{
	if (off > (uint64_t)INT64_MAX)
		return -1;
	return pread(*(int *)arg, buf, len, (off_t)off);
}

static ssize_t
ix_rd_msg(void *arg, void *buf, size_t len, uint64_t off)
{
	return index_msg_pread(arg, buf, len, off);
}

uint64_t
index_msg_probe_dg(struct index_msg *msg)
{
	return ix_probe_dg(ix_rd_msg, msg, index_msg_size(msg));
}

static int
ix_row_add(struct index *ix, int64_t mbox, const unsigned char *id,
    uint32_t flags, uint64_t keywords, int64_t idate, uint64_t size,
    uint64_t dg_size, const char *error, int new_blob, uint32_t *uid_r)
{
	sqlite3_stmt	*st;
	int64_t		 uidnext, modseq;
	int		 rc;

	if ((st = ix_query(ix, "SELECT uidnext, highestmodseq FROM mailboxes "
	    "WHERE id = ?", "i", mbox)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return ix_err(ix, ENOENT, "no such mailbox");
		return ix_dberr(ix);
	}
	uidnext = sqlite3_column_int64(st, 0);
	modseq = sqlite3_column_int64(st, 1) + 1;
	sqlite3_finalize(st);
	if (uidnext < 1 || uidnext >= (int64_t)IX_UID_MAX)
		return ix_err(ix, ENOSPC, "the mailbox has used every uid");
	if (size > (uint64_t)INT64_MAX)
		return ix_err(ix, EINVAL, "message size out of range");
	if (ix_run(ix, "INSERT INTO messages (mailbox_id, uid, blob_id, flags, "
	    "keywords, internal_date, size, modseq, error, dg_size) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, nullif(?, 0))", "iibiiiiiti",
	    mbox, uidnext, id, (size_t)BLOB_ID_LEN, (int64_t)flags,
	    (int64_t)keywords, idate, (int64_t)size, modseq, error,
	    (int64_t)(dg_size > (uint64_t)INT64_MAX ? 0 : dg_size)) != 1)
		return -1;
	if (ix_run(ix, "UPDATE mailboxes SET uidnext = ?, highestmodseq = ? "
	    "WHERE id = ?", "iii", uidnext + 1, modseq, mbox) != 1)
		return -1;
	if (new_blob && ix_run(ix, "UPDATE account SET usage_bytes = "
	    "usage_bytes + ?, usage_blobs = usage_blobs + 1", "i",
	    (int64_t)size) != 1)
		return -1;
	/* a blob once expunged and imported again is mail again */
	if (ix_run(ix, "DELETE FROM expunged WHERE blob_id = ?", "b", id,
	    (size_t)BLOB_ID_LEN) == -1)
		return -1;
	if (uid_r != NULL)
		*uid_r = (uint32_t)uidnext;
	return 0;
}

/* --- open and close ------------------------------------------------------- */

int
index_init(void)
{
	unsigned char	b[16];

	if (sqlite3_initialize() != SQLITE_OK)
		return -1;
	/* RECIPES.md 10: seed now, while /dev/urandom is reachable */
	sqlite3_randomness(sizeof(b), b);
	sodium_memzero(b, sizeof(b));
	return 0;
}

/*
 * 1: index.db has our schema, 2: an older version of it (ix_upgrade),
 * 0: it is empty, -1: foreign, damaged or newer.
 */
static int
ix_schema_check(struct index *ix)
{
	int64_t	v;

	if (ix_int(ix, &v, "SELECT count(*) FROM sqlite_master", "") != 1)
		return -1;
	if (v == 0)
		return 0;
	if (ix_int(ix, &v, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'schema_version'", "") != 1)
		return -1;
	if (v != 1)
		return ix_err(ix, EINVAL, "index.db: not an index");
	if (ix_int(ix, &v, "SELECT version FROM schema_version", "") != 1)
		return -1;
	if (v >= 1 && v < IX_SCHEMA_VERSION)
		return 2;
	if (v != IX_SCHEMA_VERSION)
		return ix_err(ix, EINVAL, "index.db: schema version %lld, "
		    "expected %d", (long long)v, IX_SCHEMA_VERSION);
	return 1;
}

static int
ix_pragmas(struct index *ix)
{
	sqlite3_stmt	*st;
	const char	*mode;
	int		 ok;

	/*
	 * SECURITY: the file is writable by the account; nothing in its
	 * schema may run with more trust (views, triggers calling functions)
	 * and a damaged file must not let SQL corrupt memory.
	 */
	if (sqlite3_db_config(ix->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(ix->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    NULL) != SQLITE_OK)
		return ix_dberr(ix);
	if (sqlite3_exec(ix->db, "PRAGMA synchronous = FULL;"
	    "PRAGMA temp_store = MEMORY;"
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA cell_size_check = ON;", NULL, NULL, NULL) != SQLITE_OK)
		return ix_dberr(ix);
	/* DESIGN.md: WAL, so readers never wait for a writer */
	if ((st = ix_prep(ix, "PRAGMA journal_mode = WAL")) == NULL)
		return -1;
	ok = sqlite3_step(st) == SQLITE_ROW &&
	    (mode = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    strcmp(mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!ok)
		return ix_err(ix, EIO, "index.db: WAL mode refused");
	return 0;
}

static int
ix_create(struct index *ix)
{
	size_t	i;
	int	have;

	if (ix_begin(ix) == -1)
		return -1;
	/* another process of the account may have been first */
	if ((have = ix_schema_check(ix)) == -1)
		goto fail;
	if (have == 0) {
		if (sqlite3_exec(ix->db, ix_schema, NULL, NULL, NULL) !=
		    SQLITE_OK) {
			ix_dberr(ix);
			goto fail;
		}
		for (i = 0; i < IX_NDEFAULTS; i++)
			if (ix_mailbox_insert(ix, ix_defaults[i].name,
			    ix_defaults[i].special) == -1)
				goto fail;
	}
	return ix_commit(ix);
fail:
	ix_rollback(ix);
	return -1;
}

/*
 * Version 3 keeps names in UTF-8: decode those a client created in
 * modified UTF-7 (all of them were: version 2 refused anything else).  A
 * name that does not decode, or whose decoded form is taken, stays as it
 * was, visible under its old spelling.
 */
static int
ix_upgrade_names(struct index *ix)
{
	sqlite3_stmt	*st;
	char		 utf8[INDEX_NAME_MAX + 1];
	const char	*name;
	int64_t		 id, taken;
	int		 rc;

	if ((st = ix_query(ix, "SELECT id, name FROM mailboxes WHERE "
	    "instr(name, '&') > 0", "")) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if ((name = (const char *)sqlite3_column_text(st, 1)) == NULL ||
		    mutf7_to_utf8(name, utf8, sizeof(utf8)) == -1)
			continue;
		if (ix_int(ix, &taken, "SELECT count(*) FROM mailboxes WHERE "
		    "name = ?", "t", utf8) != 1 || taken != 0 ||
		    ix_run(ix, "UPDATE mailboxes SET name = ? WHERE id = ?",
		    "ti", utf8, id) != 1) {
			log_warnx("index: mailbox %lld keeps its modified "
			    "UTF-7 name", (long long)id);
			ix->err[0] = '\0';
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ix_dberr(ix);
	return 0;
}

/*
 * Bring an older index.db up to IX_SCHEMA_VERSION, in one transaction
 * (another process of the account may be doing the same: the second
 * finds it done).  Version 2 added mailboxes.recent_uid (nothing is
 * \Recent after the upgrade); version 3 keeps names in UTF-8.
 */
static int
ix_upgrade(struct index *ix)
{
	int64_t	v;

	if (ix_begin(ix) == -1)
		return -1;
	if (ix_int(ix, &v, "SELECT version FROM schema_version", "") != 1)
		goto fail;
	if (v == 1 && (sqlite3_exec(ix->db, "ALTER TABLE mailboxes ADD COLUMN "
	    "recent_uid INTEGER NOT NULL DEFAULT 1 CHECK (recent_uid BETWEEN "
	    "1 AND 4294967295); UPDATE mailboxes SET recent_uid = uidnext; "
	    "UPDATE schema_version SET version = 2;", NULL, NULL, NULL) !=
	    SQLITE_OK)) {
		ix_dberr(ix);
		goto fail;
	}
	if (v <= 2 && (ix_upgrade_names(ix) == -1 || ix_run(ix,
	    "UPDATE schema_version SET version = 3", "") != 1))
		goto fail;
	/* the expunge history starts now: before it, VANISHED guesses */
	if (v <= 3 && (sqlite3_exec(ix->db, IX_VANISHED_SCHEMA
	    "ALTER TABLE mailboxes ADD COLUMN vanished_floor INTEGER NOT NULL "
	    "DEFAULT 0; UPDATE mailboxes SET vanished_floor = highestmodseq; "
	    "UPDATE schema_version SET version = 4;", NULL, NULL, NULL) !=
	    SQLITE_OK)) {
		ix_dberr(ix);
		goto fail;
	}
	/* version 5: the size as downgraded, filled in with the metadata */
	if (v <= 4 && (sqlite3_exec(ix->db, "ALTER TABLE messages ADD COLUMN "
	    "dg_size INTEGER CHECK (dg_size >= 0); UPDATE schema_version SET "
	    "version = 5;", NULL, NULL, NULL) != SQLITE_OK)) {
		ix_dberr(ix);
		goto fail;
	}
	return ix_commit(ix);
fail:
	ix_rollback(ix);
	return -1;
}

struct index *
index_open(int dirfd, const char *dir_path, const unsigned char *pk,
    const unsigned char *sk, int flags, char *err, size_t errlen)
{
	struct index	*ix;
	struct stat	 st, st2;
	char		 path[PATH_MAX];
	int		 fd = -1, have, n, oflags;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialize");
		errno = EIO;
		return NULL;
	}
	ix = xcalloc(1, sizeof(*ix));
	ix->newfd = ix->blobsfd = ix->changesfd = -1;
	ix->pk = pk;
	ix->sk = sk;
	if ((ix->newfd = openat(dirfd, "new", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		ix_err(ix, errno, "new/: %s", strerror(errno));
		goto fail;
	}
	if ((ix->blobsfd = openat(dirfd, "blobs", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		ix_err(ix, errno, "blobs/: %s", strerror(errno));
		goto fail;
	}
	n = snprintf(path, sizeof(path), "%s/index.db", dir_path);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		ix_err(ix, ENAMETOOLONG, "folder path too long");
		goto fail;
	}
	/*
	 * SECURITY: create it 0600 before SQLite does (its -wal and -shm
	 * copy the mode), never through a link, and make sure the path
	 * SQLite opens is this very file.
	 */
	oflags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	if (flags & INDEX_OPEN_CREATE)
		oflags |= O_CREAT;
	if ((fd = openat(dirfd, "index.db", oflags, 0600)) == -1) {
		ix_err(ix, errno, "index.db: %s", strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		ix_err(ix, EINVAL, "index.db: not a regular file");
		goto fail;
	}
	if (sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		ix_err(ix, EIO, "index.db: %s", ix->db != NULL ?
		    sqlite3_errmsg(ix->db) : "cannot open");
		goto fail;
	}
	if (stat(path, &st2) == -1 || st.st_dev != st2.st_dev ||
	    st.st_ino != st2.st_ino) {
		ix_err(ix, EXDEV, "%s is not the folder's index.db", path);
		goto fail;
	}
	close(fd);
	fd = -1;
	sqlite3_busy_timeout(ix->db, IX_BUSY_MS);
	sqlite3_extended_result_codes(ix->db, 1);
	/* look before anything writes: a foreign file stays untouched */
	if ((have = ix_schema_check(ix)) == -1)
		goto fail;
	if (have == 0 && !(flags & INDEX_OPEN_CREATE)) {
		ix_err(ix, ENOENT, "index.db: empty, not an index yet");
		goto fail;
	}
	if (ix_pragmas(ix) == -1)
		goto fail;
	if (have == 0 && ix_create(ix) == -1)
		goto fail;
	if (have == 2 && ix_upgrade(ix) == -1)
		goto fail;
	oflags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	if (flags & INDEX_OPEN_CREATE)
		oflags |= O_CREAT;
	if ((ix->changesfd = openat(dirfd, "changes", oflags, 0600)) != -1 &&
	    (fstat(ix->changesfd, &st) == -1 || !S_ISREG(st.st_mode))) {
		ix_err(ix, EINVAL, "changes: not a regular file");
		goto fail;
	}
	if (ix->changesfd == -1 && (flags & INDEX_OPEN_CREATE)) {
		ix_err(ix, errno, "changes: %s", strerror(errno));
		goto fail;
	}
	return ix;
fail:
	n = errno;
	snprintf(err, errlen, "%s", ix->err);
	if (fd != -1)
		close(fd);
	index_close(ix);
	errno = n;
	return NULL;
}

void
index_close(struct index *ix)
{
	if (ix == NULL)
		return;
	if (ix->db != NULL)
		sqlite3_close_v2(ix->db);
	if (ix->newfd != -1)
		close(ix->newfd);
	if (ix->blobsfd != -1)
		close(ix->blobsfd);
	if (ix->changesfd != -1)
		close(ix->changesfd);
	free(ix);
}

/* --- import --------------------------------------------------------------- */

/* An entry of new/ that may be a blob. */
struct ix_cand {
	int64_t		 sec;
	long		 nsec;
	char		 name[IX_NAME_LEN + 1];
};

#define IX_ST_SKIP	0	/* not this time (gone, or an I/O error) */
#define IX_ST_NEW	1	/* add a row, then move */
#define IX_ST_MOVE	2	/* a row exists: only move */

struct ix_item {
	char		 name[IX_NAME_LEN + 1];
	unsigned char	 id[BLOB_ID_LEN];
	int		 state;
	int		 inserted;
	uint64_t	 size;
	uint64_t	 dg_size;	/* ix_probe_dg, 0: not known */
	int64_t		 idate;
	char		 folder[BLOB_FOLDER_MAX + 1];
	char		 error[IX_ERRBUF];	/* "": the blob opened */
};

static int
ix_cand_cmp(const void *a, const void *b)
{
	const struct ix_cand	*x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * List new/: blob candidates (regular files with a blob name) sorted by
 * age, INDEX_SCAN_MAX of them at most (the rest only counted in
 * *more_r); stale temporaries of deliver are removed on the way.
 */
static int
ix_scan_new(struct index *ix, struct ix_cand **cands_r, size_t *n_r,
    size_t *more_r)
{
	struct ix_cand	*c = NULL;
	struct dirent	*de;
	struct stat	 st;
	unsigned char	 id[BLOB_ID_LEN];
	size_t		 n = 0, cap = 0, more = 0;
	int64_t		 now = ix_now();
	DIR		*d;

	if ((d = ix_opendir(ix->newfd)) == NULL)
		return ix_err(ix, errno, "new/: %s", strerror(errno));
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (ix_is_tmp(de->d_name)) {
			/*
			 * A delivery that crashed before its rename: never
			 * acknowledged (store_deliver.h), so no mail is lost.
			 * A young one may be a delivery in progress.
			 */
			if (fstatat(ix->newfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
			    (int64_t)st.st_mtime < now - INDEX_TMP_AGE)
				(void)unlinkat(ix->newfd, de->d_name, 0);
			continue;
		}
		if (!ix_unhex(de->d_name, id))
			continue;	/* index_check reports it */
		if (n == INDEX_SCAN_MAX) {
			more++;
			continue;
		}
		/* SECURITY: a link or a FIFO is never opened as a blob */
		if (fstatat(ix->newfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if (cap > INDEX_SCAN_MAX)
				cap = INDEX_SCAN_MAX;
			c = xreallocarray(c, cap, sizeof(*c));
		}
		c[n].sec = (int64_t)st.st_mtim.tv_sec;
		c[n].nsec = st.st_mtim.tv_nsec;
		memcpy(c[n].name, de->d_name, IX_NAME_LEN + 1);
		n++;
	}
	if (errno != 0) {
		ix_err(ix, errno, "new/: %s", strerror(errno));
		closedir(d);
		free(c);
		return -1;
	}
	closedir(d);
	if (n > 0)
		qsort(c, n, sizeof(*c), ix_cand_cmp);
	*cands_r = c;
	*n_r = n;
	*more_r = more;
	return 0;
}

/*
 * Open one blob of new/ with the key (no lock held: the crypto is the
 * slow part).  A blob that does not authenticate is still mail someone
 * sent: it becomes a placeholder, with the reason, never dropped.
 */
static int
ix_item_open(struct index *ix, struct ix_item *it)
{
	struct blob_reader	*r;
	const struct blob_meta	*m;
	struct stat		 st;
	char			 err[IX_ERRBUF - 64], esc[80];
	int64_t			 v;
	int			 fd, used;

	it->state = IX_ST_SKIP;
	if ((used = ix_blob_used(ix, it->id)) == -1)
		return -1;
	if (used) {
		/* a crash after the row's commit: only the move is left */
		it->state = IX_ST_MOVE;
		return 0;
	}
	/*
	 * Its row was expunged while the file still waited in new/ (an
	 * import crashed before its move): garbage, never mail again.
	 * ix_gc removes it.
	 */
	if ((used = ix_int(ix, &v, "SELECT 1 FROM expunged WHERE blob_id = ?",
	    "b", it->id, (size_t)BLOB_ID_LEN)) != 0)
		return used == -1 ? -1 : 0;
	/* O_NONBLOCK: a FIFO put here instead must not hang the import */
	if ((fd = openat(ix->newfd, it->name, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)	/* ENOENT: another process took it */
			log_warn("index: new/%s", ix_esc(it->name, esc,
			    sizeof(esc)));
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	r = blob_open(fd, ix->pk, ix->sk, it->id, err, sizeof(err));
	if (r != NULL) {
		m = blob_meta(r);
		it->size = m->size;
		it->idate = m->delivered > (uint64_t)INT64_MAX ? INT64_MAX :
		    (int64_t)m->delivered;
		memcpy(it->folder, m->folder, sizeof(it->folder));
		it->error[0] = '\0';
		it->dg_size = ix_probe_dg(ix_rd_blob, r, it->size);
		blob_close(r);
	} else if (errno == EBADMSG) {
		it->size = (uint64_t)st.st_size;
		it->idate = (int64_t)st.st_mtime;
		it->folder[0] = '\0';
		snprintf(it->error, sizeof(it->error), "the sealed message "
		    "does not open: %s", err);
		log_warnx("index: new/%s is damaged: %s", it->name, err);
	} else {
		/* an I/O error is not the blob's fault: try again later */
		log_warnx("index: new/%s: %s", it->name, err);
		close(fd);
		return 0;
	}
	close(fd);
	it->state = IX_ST_NEW;
	return 0;
}

/*
 * Where a delivered blob goes: the mailbox its header names, else the
 * one with that special use (the user may have renamed "Junk"), else
 * INBOX.  SECURITY: the name is only looked up, never created.
 */
static int
ix_import_target(struct index *ix, const struct ix_item *it, int64_t *id_r)
{
	size_t	i;
	int	rc;

	if (it->error[0] == '\0' && ix_name_ok(it->folder)) {
		if ((rc = ix_mailbox_id(ix, strcasecmp(it->folder, "INBOX") ==
		    0 ? "INBOX" : it->folder, id_r)) != 0)
			return rc == 1 ? 0 : -1;
		for (i = 1; i < IX_NDEFAULTS; i++) {
			if (strcasecmp(it->folder, ix_defaults[i].name) != 0)
				continue;
			if ((rc = ix_int(ix, id_r, "SELECT id FROM mailboxes "
			    "WHERE special_use = ?", "i",
			    (int64_t)ix_defaults[i].special)) != 0)
				return rc == 1 ? 0 : -1;
		}
	}
	return ix_inbox(ix, id_r);
}

/* Put a file aside in new/ under a fresh random name (a duplicate id). */
static void
ix_set_aside(struct index *ix, const char *name)
{
	unsigned char	id[BLOB_ID_LEN];
	char		fresh[IX_NAME_LEN + 1];

	randombytes_buf(id, sizeof(id));
	ix_hex(id, fresh);
	/* it no longer matches its id: the next import makes it a
	 * placeholder; nothing is overwritten, nothing deleted */
	if (ix_rename(ix->newfd, name, ix->newfd, fresh) == 0)
		log_warnx("index: new/%s duplicates a stored blob, kept as "
		    "new/%s", name, fresh);
	else if (errno != ENOENT)
		log_warn("index: new/%s duplicates a stored blob", name);
}

static int	ix_gc(struct index *);

int
index_import(struct index *ix, size_t max, size_t *imported_r,
    size_t *remaining_r)
{
	struct ix_cand	*cands = NULL;
	struct ix_item	*items = NULL;
	size_t		 ncand = 0, more = 0, nitems, i, imported = 0;
	size_t		 left = 0;
	int64_t		 mbox;
	int		 any_new = 0, moved = 0, rc = -1, gone;

	ix_start(ix);
	if (imported_r != NULL)
		*imported_r = 0;
	if (remaining_r != NULL)
		*remaining_r = 0;
	if (ix->pk == NULL || ix->sk == NULL)
		return ix_err(ix, EACCES, "import needs the account's key");
	if (max > INDEX_IMPORT_MAX)
		max = INDEX_IMPORT_MAX;
	/* what an expunge that crashed after its commit left: remove it */
	if (ix_int(ix, &mbox, "SELECT 1 FROM expunged LIMIT 1", "") == 1 &&
	    ix_gc(ix) == -1) {
		log_warnx("index: %s", ix->err);
		ix->err[0] = '\0';
	}
	if (ix_scan_new(ix, &cands, &ncand, &more) == -1)
		return -1;
	nitems = ncand < max ? ncand : max;
	items = xreallocarray(NULL, nitems > 0 ? nitems : 1, sizeof(*items));
	for (i = 0; i < nitems; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		memcpy(items[i].name, cands[i].name, sizeof(items[i].name));
		(void)ix_unhex(items[i].name, items[i].id);
		if (ix_item_open(ix, &items[i]) == -1)
			goto done;
		if (items[i].state == IX_ST_NEW)
			any_new = 1;
	}

	/* 1. the rows, all of the batch in one transaction */
	if (any_new) {
		if (ix_begin(ix) == -1)
			goto done;
		for (i = 0; i < nitems; i++) {
			struct ix_item	*it = &items[i];
			struct stat	 st;
			int		 used;

			if (it->state != IX_ST_NEW)
				continue;
			/* another process may have imported it meanwhile */
			if ((used = ix_blob_used(ix, it->id)) == -1)
				goto rollback;
			if (used) {
				it->state = IX_ST_MOVE;
				continue;
			}
			/* ... and moved it, and it was expunged since */
			if (fstatat(ix->newfd, it->name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1) {
				it->state = IX_ST_SKIP;
				continue;
			}
			if (ix_import_target(ix, it, &mbox) == -1 ||
			    ix_row_add(ix, mbox, it->id, 0, 0, it->idate,
			    it->size, it->error[0] != '\0' ? 0 : it->dg_size,
			    it->error[0] != '\0' ? it->error : NULL, 1,
			    NULL) == -1)
				goto rollback;
			it->inserted = 1;
		}
		if (ix_commit(ix) == -1)
			goto rollback;
		for (i = 0; i < nitems; i++)
			imported += items[i].inserted;
	}
	CRASH_POINT("import-row");

	/* 2. only then the files: new/NAME -> blobs/NAME */
	for (i = 0; i < nitems; i++) {
		struct ix_item	*it = &items[i];

		gone = 0;
		if (it->state == IX_ST_SKIP) {
			struct stat	st;

			gone = fstatat(ix->newfd, it->name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT;
		} else if (ix_rename(ix->newfd, it->name, ix->blobsfd,
		    it->name) == 0) {
			moved = 1;
			gone = 1;
		} else if (errno == ENOENT)
			gone = 1;	/* another process moved it */
		else if (errno == EEXIST)
			ix_set_aside(ix, it->name);
		else
			log_warn("index: move new/%s", it->name);
		if (!gone)
			left++;
	}
	CRASH_POINT("import-move");
	if (moved && (fsync(ix->blobsfd) == -1 || fsync(ix->newfd) == -1)) {
		ix_err(ix, errno, "fsync: %s", strerror(errno));
		goto done;
	}
	rc = 0;
	goto done;
rollback:
	ix_rollback(ix);
done:
	if (imported > 0)
		ix_changed(ix);
	if (imported_r != NULL)
		*imported_r = imported;
	/* after a failure nothing is known to have left new/ */
	if (remaining_r != NULL)
		*remaining_r = rc == 0 ? ncand - nitems + more + left :
		    ncand + more;
	free(items);
	free(cands);
	return rc;
}

/* --- mailboxes ------------------------------------------------------------ */

const char *
index_special_use_name(int special_use)
{
	static const char *const names[] = {
		[INDEX_SPECIAL_SENT] = "\\Sent",
		[INDEX_SPECIAL_DRAFTS] = "\\Drafts",
		[INDEX_SPECIAL_JUNK] = "\\Junk",
		[INDEX_SPECIAL_TRASH] = "\\Trash",
		[INDEX_SPECIAL_ARCHIVE] = "\\Archive",
	};

	if (special_use <= INDEX_SPECIAL_NONE ||
	    special_use > INDEX_SPECIAL_MAX)
		return NULL;
	return names[special_use];
}

int
index_mailbox_list(struct index *ix, struct index_mailbox **list_r,
    size_t *n_r)
{
	struct index_mailbox	*l = NULL;
	sqlite3_stmt		*st;
	size_t			 n = 0, cap = 0;
	int			 rc;

	ix_start(ix);
	*list_r = NULL;
	*n_r = 0;
	if ((st = ix_query(ix, IX_MAILBOX_SELECT "GROUP BY m.id ORDER BY "
	    "m.name", "")) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == INDEX_MAILBOX_MAX) {
			rc = SQLITE_DONE;	/* create allows no more */
			break;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			l = xreallocarray(l, cap, sizeof(*l));
		}
		ix_mailbox_row(st, &l[n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(l);
		return ix_dberr(ix);
	}
	*list_r = l;
	*n_r = n;
	return 0;
}

/* One mailbox by id or by (checked) name: 1, 0, -1. */
static int
ix_mailbox_get(struct index *ix, int64_t id, const char *name,
    struct index_mailbox *mb_r)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (name != NULL)
		st = ix_query(ix, IX_MAILBOX_SELECT "WHERE m.name = ? "
		    "GROUP BY m.id", "t", name);
	else
		st = ix_query(ix, IX_MAILBOX_SELECT "WHERE m.id = ? "
		    "GROUP BY m.id", "i", id);
	if (st == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ix_mailbox_row(st, mb_r);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return ix_dberr(ix);
}

int
index_mailbox_open(struct index *ix, const char *name,
    struct index_mailbox *mb_r)
{
	ix_start(ix);
	if ((name = ix_name(ix, name)) == NULL)
		return -1;
	return ix_mailbox_get(ix, 0, name, mb_r);
}

int
index_mailbox_get(struct index *ix, int64_t mailbox,
    struct index_mailbox *mb_r)
{
	ix_start(ix);
	return ix_mailbox_get(ix, mailbox, NULL, mb_r);
}

int
index_mailbox_create(struct index *ix, const char *name, int special_use)
{
	int64_t	v;
	int	rc;

	ix_start(ix);
	if ((name = ix_name(ix, name)) == NULL)
		return -1;
	if (special_use < INDEX_SPECIAL_NONE ||
	    special_use > INDEX_SPECIAL_MAX)
		return ix_err(ix, EINVAL, "unknown special use");
	if (ix_begin(ix) == -1)
		return -1;
	if ((rc = ix_mailbox_id(ix, name, &v)) == -1)
		goto fail;
	if (rc == 1) {
		ix_err(ix, EEXIST, "mailbox exists");
		goto fail;
	}
	if (special_use != INDEX_SPECIAL_NONE) {
		if ((rc = ix_int(ix, &v, "SELECT 1 FROM mailboxes WHERE "
		    "special_use = ?", "i", (int64_t)special_use)) == -1)
			goto fail;
		if (rc == 1) {
			ix_err(ix, EEXIST, "another mailbox has that use");
			goto fail;
		}
	}
	if (ix_int(ix, &v, "SELECT count(*) FROM mailboxes", "") != 1)
		goto fail;
	if (v >= INDEX_MAILBOX_MAX) {
		ix_err(ix, ENOSPC, "too many mailboxes (%d)",
		    INDEX_MAILBOX_MAX);
		goto fail;
	}
	if (ix_mailbox_insert(ix, name, special_use) == -1 ||
	    ix_commit(ix) == -1)
		goto fail;
	ix_changed(ix);
	return 0;
fail:
	ix_rollback(ix);
	return -1;
}

/* A blob whose last row went: record it as garbage, lower the usage. */
struct ix_gone {
	uint32_t	 uid;
	unsigned char	 id[BLOB_ID_LEN];
	uint64_t	 size;
};

static int
ix_gone_cmp(const void *a, const void *b)
{
	const struct ix_gone	*x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/*
 * Past IX_KEEP rows of history, drop the older half (by modseq) and move
 * the mailbox's vanished_floor up to just below what stays: the history
 * is exact from there on (index_vanished).  In the caller's transaction.
 */
static int
ix_vanish_prune(struct index *ix, int64_t mbox)
{
	int64_t	n, cut;
	int	rc;

	if (ix_int(ix, &n, "SELECT count(*) FROM vanished WHERE mailbox_id = ?",
	    "i", mbox) != 1)
		return -1;
	if (n <= IX_KEEP)
		return 0;
	/* the modseq that starts the newer half: every row from it stays */
	if ((rc = ix_int(ix, &cut, "SELECT modseq FROM vanished WHERE "
	    "mailbox_id = ? ORDER BY modseq LIMIT 1 OFFSET ?", "ii", mbox,
	    n - IX_KEEP / 2)) != 1)
		return rc == 0 ? 0 : -1;
	if (ix_run(ix, "DELETE FROM vanished WHERE mailbox_id = ? AND "
	    "modseq < ?", "ii", mbox, cut) == -1 ||
	    ix_run(ix, "UPDATE mailboxes SET vanished_floor = max("
	    "vanished_floor, ?) WHERE id = ?", "ii", cut - 1, mbox) != 1)
		return -1;
	return 0;
}

/*
 * Record expunged UIDs (uids, or the uid of each gone row) of mbox with
 * its highestmodseq, already moved past the expunge, inside the caller's
 * transaction.
 */
static int
ix_vanish(struct index *ix, int64_t mbox, const uint32_t *uids,
    const struct ix_gone *gone, size_t n)
{
	sqlite3_stmt	*st;
	size_t		 i;

	if (n == 0)
		return 0;
	if ((st = ix_prep(ix, "INSERT OR REPLACE INTO vanished (mailbox_id, "
	    "uid, modseq) SELECT id, ?, highestmodseq FROM mailboxes WHERE "
	    "id = ?")) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (ix_rebind(ix, st, "ii", (int64_t)(uids != NULL ? uids[i] :
		    gone[i].uid), mbox) == -1 || ix_step_done(ix, st) != 1) {
			sqlite3_finalize(st);
			return -1;
		}
	sqlite3_finalize(st);
	return ix_vanish_prune(ix, mbox);
}

/*
 * Delete rows of a mailbox inside the caller's transaction: the listed
 * uids (sorted) or all (uids NULL), only \Deleted ones with only_deleted.
 * Blobs no row names any more go into "expunged" and out of the usage.
 * *gone_r (the caller's) lists the rows deleted, in uid order.
 */
static int
ix_expunge_rows(struct index *ix, int64_t mbox, const uint32_t *uids,
    size_t n, int only_deleted, struct ix_gone **gone_r, size_t *ngone_r)
{
	struct ix_gone	*g = NULL;
	sqlite3_stmt	*st = NULL, *del = NULL, *used = NULL, *exp = NULL;
	size_t		 ng = 0, cap = 0, i;
	int64_t		 mask = only_deleted ? INDEX_F_DELETED : 0;
	int		 rc;

	*gone_r = NULL;
	*ngone_r = 0;
	if (uids == NULL)
		st = ix_query(ix, "SELECT uid, blob_id, size FROM messages "
		    "WHERE mailbox_id = ? AND (flags & ?) = ? ORDER BY uid",
		    "iii", mbox, mask, mask);
	else
		st = ix_prep(ix, "SELECT uid, blob_id, size FROM messages "
		    "WHERE mailbox_id = ? AND uid = ? AND (flags & ?) = ?");
	if (st == NULL)
		return -1;
	for (i = 0; uids == NULL || i < n; i++) {
		if (uids != NULL && ix_rebind(ix, st, "iiii", mbox,
		    (int64_t)uids[i], mask, mask) == -1)
			goto fail;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (ng == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				g = xreallocarray(g, cap, sizeof(*g));
			}
			g[ng].uid = (uint32_t)sqlite3_column_int64(st, 0);
			g[ng].size = (uint64_t)sqlite3_column_int64(st, 2);
			if (!ix_col_blob(st, 1, g[ng].id, BLOB_ID_LEN)) {
				ix_err(ix, EIO, "index.db: malformed blob id");
				goto fail;
			}
			ng++;
		}
		if (rc != SQLITE_DONE) {
			ix_dberr(ix);
			goto fail;
		}
		if (uids == NULL)
			break;
	}
	if ((del = ix_prep(ix, "DELETE FROM messages WHERE mailbox_id = ? "
	    "AND uid = ?")) == NULL ||
	    (used = ix_prep(ix, "SELECT 1 FROM messages WHERE blob_id = ? "
	    "LIMIT 1")) == NULL ||
	    (exp = ix_prep(ix, "INSERT OR IGNORE INTO expunged (blob_id, time) "
	    "VALUES (?, ?)")) == NULL)
		goto fail;
	for (i = 0; i < ng; i++) {
		if (ix_rebind(ix, del, "ii", mbox, (int64_t)g[i].uid) == -1 ||
		    ix_step_done(ix, del) != 1)
			goto fail;
	}
	for (i = 0; i < ng; i++) {
		if (ix_rebind(ix, used, "b", g[i].id, (size_t)BLOB_ID_LEN) ==
		    -1)
			goto fail;
		if ((rc = sqlite3_step(used)) == SQLITE_ROW)
			continue;	/* a copy still names it */
		if (rc != SQLITE_DONE) {
			ix_dberr(ix);
			goto fail;
		}
		if (ix_rebind(ix, exp, "bi", g[i].id, (size_t)BLOB_ID_LEN,
		    ix_now()) == -1 || (rc = ix_step_done(ix, exp)) == -1)
			goto fail;
		/* counted once, even when two rows of it went now */
		if (rc == 1 && ix_run(ix, "UPDATE account SET usage_bytes = "
		    "max(usage_bytes - ?, 0), usage_blobs = "
		    "max(usage_blobs - 1, 0)", "i", (int64_t)g[i].size) != 1)
			goto fail;
		if (rc == 1)
			ix->freeing += g[i].size;
	}
	if (ng > 0 && (ix_run(ix, "UPDATE mailboxes SET highestmodseq = "
	    "highestmodseq + 1 WHERE id = ?", "i", mbox) != 1 ||
	    ix_vanish(ix, mbox, NULL, g, ng) == -1))
		goto fail;
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	sqlite3_finalize(used);
	sqlite3_finalize(exp);
	if (ng > 1)
		qsort(g, ng, sizeof(*g), ix_gone_cmp);
	*gone_r = g;
	*ngone_r = ng;
	return 0;
fail:
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	sqlite3_finalize(used);
	sqlite3_finalize(exp);
	free(g);
	return -1;
}

/*
 * Remove the files of expunged blobs, after the commit that recorded them:
 * unlink (from blobs/, or from new/ when an import crashed before its
 * move), fsync the directories, and only then forget them, all under the write
 * lock (no other process can name such a blob meanwhile).  A blob that a
 * row names again (re-imported) is only forgotten.  Best effort: what is
 * left is retried by the next pass and reported by index_check.
 */
static int
ix_gc(struct index *ix)
{
	unsigned char	(*ids)[BLOB_ID_LEN] = NULL;
	sqlite3_stmt	*st;
	char		 name[IX_NAME_LEN + 1];
	size_t		 n = 0, i;
	int		 rc, used;

	if (ix_begin(ix) == -1)
		return -1;
	if ((st = ix_query(ix, "SELECT blob_id FROM expunged LIMIT ?", "i",
	    (int64_t)IX_GC_MAX)) == NULL)
		goto fail;
	ids = xreallocarray(NULL, IX_GC_MAX, sizeof(*ids));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < IX_GC_MAX)
		if (ix_col_blob(st, 0, ids[n], BLOB_ID_LEN))
			n++;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		ix_dberr(ix);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((used = ix_blob_used(ix, ids[i])) == -1)
			goto fail;
		if (used)
			continue;
		ix_hex(ids[i], name);
		if (unlinkat(ix->blobsfd, name, 0) == 0)
			continue;
		/*
		 * Not in blobs/: an import that crashed after its row left it
		 * in new/, and its row was expunged before the next import.
		 * It is that expunged blob: not imported again.
		 */
		if (errno == ENOENT && (unlinkat(ix->newfd, name, 0) == 0 ||
		    errno == ENOENT))
			continue;
		ix_err(ix, errno, "unlink %s: %s", name, strerror(errno));
		goto fail;
	}
	/* the unlinks are durable before their record goes */
	if (n > 0 && (fsync(ix->blobsfd) == -1 || fsync(ix->newfd) == -1)) {
		ix_err(ix, errno, "fsync: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++)
		if (ix_run(ix, "DELETE FROM expunged WHERE blob_id = ?", "b",
		    ids[i], (size_t)BLOB_ID_LEN) == -1)
			goto fail;
	free(ids);
	return ix_commit(ix);
fail:
	ix_rollback(ix);
	free(ids);
	return -1;
}

int
index_mailbox_delete(struct index *ix, const char *name)
{
	struct ix_gone	*gone = NULL;
	size_t		 ngone;
	int64_t		 id;
	int		 rc;

	ix_start(ix);
	if ((name = ix_name(ix, name)) == NULL)
		return -1;
	if (ix_is_default(name))
		return ix_err(ix, EPERM, "every account keeps %s", name);
	if (ix_begin(ix) == -1)
		return -1;
	if ((rc = ix_mailbox_id(ix, name, &id)) != 1) {
		if (rc == 0)
			ix_err(ix, ENOENT, "no such mailbox");
		goto fail;
	}
	if (ix_expunge_rows(ix, id, NULL, 0, 0, &gone, &ngone) == -1 ||
	    ix_run(ix, "DELETE FROM vanished WHERE mailbox_id = ?", "i",
	    id) == -1 ||
	    ix_run(ix, "DELETE FROM mailboxes WHERE id = ?", "i", id) != 1 ||
	    ix_commit(ix) == -1)
		goto fail;
	free(gone);
	ix_changed(ix);
	if (ix_gc(ix) == -1)
		log_warnx("index: %s", ix->err);
	ix->err[0] = '\0';
	return 0;
fail:
	ix_rollback(ix);
	free(gone);
	return -1;
}

int
index_mailbox_rename(struct index *ix, const char *from, const char *to)
{
	int64_t	id, v;
	int	rc;

	ix_start(ix);
	if ((from = ix_name(ix, from)) == NULL ||
	    (to = ix_name(ix, to)) == NULL)
		return -1;
	if (ix_is_default(from))
		return ix_err(ix, EPERM, "every account keeps %s", from);
	if (ix_begin(ix) == -1)
		return -1;
	if ((rc = ix_mailbox_id(ix, from, &id)) != 1) {
		if (rc == 0)
			ix_err(ix, ENOENT, "no such mailbox");
		goto fail;
	}
	if ((rc = ix_mailbox_id(ix, to, &v)) != 0) {
		if (rc == 1)
			ix_err(ix, EEXIST, "mailbox exists");
		goto fail;
	}
	if (ix_run(ix, "UPDATE mailboxes SET name = ? WHERE id = ?", "ti", to,
	    id) != 1 || ix_commit(ix) == -1)
		goto fail;
	ix_changed(ix);
	return 0;
fail:
	ix_rollback(ix);
	return -1;
}

int
index_mailbox_subscribe(struct index *ix, const char *name, int on)
{
	int	rc;

	ix_start(ix);
	if ((name = ix_name(ix, name)) == NULL)
		return -1;
	if ((rc = ix_run(ix, "UPDATE mailboxes SET subscribed = ? WHERE "
	    "name = ?", "it", (int64_t)(on != 0), name)) == -1)
		return -1;
	if (rc == 0)
		return ix_err(ix, ENOENT, "no such mailbox");
	ix_changed(ix);
	return 0;
}

/* --- messages ------------------------------------------------------------- */

static void
ix_msg_row(sqlite3_stmt *st, struct index_msg_info *m)
{
	memset(m, 0, sizeof(*m));
	m->uid = (uint32_t)sqlite3_column_int64(st, 0);
	m->flags = (uint32_t)sqlite3_column_int64(st, 1) & INDEX_F_ALL;
	m->keywords = (uint64_t)sqlite3_column_int64(st, 2);
	m->size = (uint64_t)sqlite3_column_int64(st, 3);
	m->internal_date = sqlite3_column_int64(st, 4);
	m->modseq = (uint64_t)sqlite3_column_int64(st, 5);
	m->damaged = sqlite3_column_int(st, 6);
	m->meta_version = sqlite3_column_int(st, 7);
	(void)ix_col_blob(st, 8, m->blob_id, sizeof(m->blob_id));
	m->dg_size = (uint64_t)sqlite3_column_int64(st, 9);
}

int
index_msg_foreach(struct index *ix, int64_t mailbox, uint32_t uid_min,
    uint32_t uid_max, uint64_t changedsince,
    int (*cb)(const struct index_msg_info *, void *), void *arg)
{
	struct index_msg_info	 m;
	sqlite3_stmt		*st;
	int			 rc, stop = 0;

	ix_start(ix);
	if (changedsince > (uint64_t)INT64_MAX)
		return ix_err(ix, EINVAL, "modseq out of range");
	/* one statement: one snapshot, even while others write */
	if ((st = ix_query(ix, IX_MSG_SELECT "WHERE mailbox_id = ? AND "
	    "uid BETWEEN ? AND ? AND modseq > ? ORDER BY uid", "iiii",
	    mailbox, (int64_t)uid_min, (int64_t)uid_max,
	    (int64_t)changedsince)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ix_msg_row(st, &m);
		if ((stop = cb(&m, arg)) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (stop != 0)
		return stop;
	if (rc != SQLITE_DONE)
		return ix_dberr(ix);
	return 0;
}

int
index_msg_info(struct index *ix, int64_t mailbox, uint32_t uid,
    struct index_msg_info *info_r)
{
	sqlite3_stmt	*st;
	int		 rc;

	ix_start(ix);
	if ((st = ix_query(ix, IX_MSG_SELECT "WHERE mailbox_id = ? AND "
	    "uid = ?", "ii", mailbox, (int64_t)uid)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ix_msg_row(st, info_r);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return ix_dberr(ix);
}

/*
 * The blob's file: blobs/NAME, or new/NAME when another process committed
 * the row and has not moved the file yet (then blobs/ once more: it may
 * have moved between the two looks).
 */
static int
ix_open_blob_file(struct index *ix, const char *name)
{
	int	fd, i;

	for (i = 0; i < 3; i++) {
		fd = openat(i == 1 ? ix->newfd : ix->blobsfd, name, O_RDONLY |
		    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd != -1 || errno != ENOENT)
			return fd;
	}
	return -1;
}

struct index_msg *
index_msg_open(struct index *ix, int64_t mailbox, uint32_t uid)
{
	struct index_msg	*msg;
	struct blob_reader	*r;
	sqlite3_stmt		*st;
	struct stat		 sb;
	unsigned char		 id[BLOB_ID_LEN];
	char			 name[IX_NAME_LEN + 1], err[IX_ERRBUF];
	const char		*error;
	uint64_t		 size;
	int			 rc, fd, damaged;

	ix_start(ix);
	if ((st = ix_query(ix, "SELECT blob_id, size, error FROM messages "
	    "WHERE mailbox_id = ? AND uid = ?", "ii", mailbox,
	    (int64_t)uid)) == NULL)
		return NULL;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			ix_err(ix, ENOENT, "no such message");
		else
			ix_dberr(ix);
		return NULL;
	}
	if (!ix_col_blob(st, 0, id, sizeof(id))) {
		sqlite3_finalize(st);
		ix_err(ix, EIO, "index.db: malformed blob id");
		return NULL;
	}
	size = (uint64_t)sqlite3_column_int64(st, 1);
	damaged = sqlite3_column_type(st, 2) != SQLITE_NULL;
	if (damaged) {
		error = (const char *)sqlite3_column_text(st, 2);
		ix_err(ix, EBADMSG, "damaged message: %s", error != NULL ?
		    error : "");
	}
	sqlite3_finalize(st);
	if (damaged)
		return NULL;
	if (ix->pk == NULL || ix->sk == NULL) {
		ix_err(ix, EACCES, "reading needs the account's key");
		return NULL;
	}
	ix_hex(id, name);
	if ((fd = ix_open_blob_file(ix, name)) == -1) {
		if (errno == ENOENT)
			ix_err(ix, EBADMSG, "the message's blob is missing");
		else
			ix_err(ix, errno, "blobs/%s: %s", name,
			    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		ix_err(ix, EBADMSG, "the message's blob is not a file");
		return NULL;
	}
	/* SECURITY: the id the row expects: a swapped file does not open */
	if ((r = blob_open(fd, ix->pk, ix->sk, id, err, sizeof(err))) ==
	    NULL) {
		rc = errno;
		close(fd);
		ix_err(ix, rc, "message uid %u: %s", uid, err);
		return NULL;
	}
	if (blob_meta(r)->size != size) {
		blob_close(r);
		close(fd);
		ix_err(ix, EBADMSG, "message uid %u: size differs from the "
		    "index", uid);
		return NULL;
	}
	msg = xcalloc(1, sizeof(*msg));
	msg->fd = fd;
	msg->r = r;
	msg->size = size;
	return msg;
}

ssize_t
index_msg_pread(struct index_msg *msg, void *buf, size_t len, uint64_t off)
{
	return blob_pread(msg->r, buf, len, off);
}

uint64_t
index_msg_size(const struct index_msg *msg)
{
	return msg->size;
}

const struct blob_meta *
index_msg_delivery(const struct index_msg *msg)
{
	return blob_meta(msg->r);
}

const unsigned char *
index_msg_blob_id(const struct index_msg *msg)
{
	return blob_id(msg->r);
}

void
index_msg_close(struct index_msg *msg)
{
	if (msg == NULL)
		return;
	blob_close(msg->r);
	close(msg->fd);
	free(msg);
}

/* --- keywords and flags --------------------------------------------------- */

int
index_keyword(struct index *ix, const char *name, int create)
{
	int64_t	bit;
	int	rc;

	ix_start(ix);
	if (name == NULL || !ix_keyword_ok(name))
		return ix_err(ix, EINVAL, "malformed keyword");
	if ((rc = ix_int(ix, &bit, "SELECT bit FROM keywords WHERE name = ?",
	    "t", name)) == -1)
		return -1;
	if (rc == 1)
		return (int)bit;
	if (!create)
		return ix_err(ix, ENOENT, "no such keyword");
	if (ix_begin(ix) == -1)
		return -1;
	/* another process may have added it meanwhile */
	if ((rc = ix_int(ix, &bit, "SELECT bit FROM keywords WHERE name = ?",
	    "t", name)) == -1)
		goto fail;
	if (rc == 0) {
		if (ix_int(ix, &bit, "SELECT coalesce(max(bit) + 1, 0) FROM "
		    "keywords", "") != 1)
			goto fail;
		if (bit >= INDEX_KEYWORD_MAX) {
			ix_err(ix, ENOSPC, "too many keywords (%d)",
			    INDEX_KEYWORD_MAX);
			goto fail;
		}
		if (ix_run(ix, "INSERT INTO keywords (bit, name) VALUES (?, ?)",
		    "it", bit, name) != 1)
			goto fail;
	}
	if (ix_commit(ix) == -1)
		goto fail;
	return (int)bit;
fail:
	ix_rollback(ix);
	return -1;
}

int
index_keyword_name(struct index *ix, int bit, char *buf, size_t len)
{
	sqlite3_stmt	*st;
	const char	*s;
	int		 rc;

	ix_start(ix);
	if ((st = ix_query(ix, "SELECT name FROM keywords WHERE bit = ?", "i",
	    (int64_t)bit)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = (const char *)sqlite3_column_text(st, 0);
		if (s == NULL || strlcpy(buf, s, len) >= len) {
			sqlite3_finalize(st);
			return ix_err(ix, ENAMETOOLONG, "keyword too long");
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return ix_dberr(ix);
}

int
index_flags_update(struct index *ix, int64_t mailbox, const uint32_t *uids,
    size_t n, int op, uint32_t flags, uint64_t keywords, uint64_t *modseq_r,
    size_t *changed_r)
{
	return index_flags_update_cond(ix, mailbox, uids, n, op, flags,
	    keywords, UINT64_MAX, NULL, NULL, modseq_r, changed_r);
}

int
index_flags_update_cond(struct index *ix, int64_t mailbox,
    const uint32_t *uids, size_t n, int op, uint32_t flags, uint64_t keywords,
    uint64_t unchangedsince, uint32_t *modified_r, size_t *nmodified_r,
    uint64_t *modseq_r, size_t *changed_r)
{
	sqlite3_stmt	*sel = NULL, *upd = NULL;
	uint32_t	*s;
	size_t		 ns, i, changed = 0, nmod = 0;
	uint64_t	 of, ok, nf, nk, cur;
	int64_t		 modseq;
	int		 rc;

	ix_start(ix);
	if (nmodified_r != NULL)
		*nmodified_r = 0;
	if (op != INDEX_FLAGS_SET && op != INDEX_FLAGS_ADD &&
	    op != INDEX_FLAGS_REMOVE)
		return ix_err(ix, EINVAL, "unknown flags operation");
	if ((flags & ~(uint32_t)INDEX_F_ALL) != 0)
		return ix_err(ix, EINVAL, "unknown flag");
	if (n > INDEX_OP_MAX)
		return ix_err(ix, ENOSPC, "too many messages at once");
	s = ix_sorted(uids, n, &ns);
	if (ix_begin(ix) == -1) {
		free(s);
		return -1;
	}
	if ((rc = ix_int(ix, &modseq, "SELECT highestmodseq FROM mailboxes "
	    "WHERE id = ?", "i", mailbox)) != 1) {
		if (rc == 0)
			ix_err(ix, ENOENT, "no such mailbox");
		goto fail;
	}
	modseq++;
	if ((sel = ix_prep(ix, "SELECT flags, keywords, modseq FROM messages "
	    "WHERE mailbox_id = ? AND uid = ?")) == NULL ||
	    (upd = ix_prep(ix, "UPDATE messages SET flags = ?, keywords = ?, "
	    "modseq = ? WHERE mailbox_id = ? AND uid = ?")) == NULL)
		goto fail;
	for (i = 0; i < ns; i++) {
		if (ix_rebind(ix, sel, "ii", mailbox, (int64_t)s[i]) == -1)
			goto fail;
		if ((rc = sqlite3_step(sel)) == SQLITE_DONE)
			continue;		/* expunged meanwhile */
		if (rc != SQLITE_ROW) {
			ix_dberr(ix);
			goto fail;
		}
		of = (uint64_t)sqlite3_column_int64(sel, 0) & INDEX_F_ALL;
		ok = (uint64_t)sqlite3_column_int64(sel, 1);
		cur = (uint64_t)sqlite3_column_int64(sel, 2);
		/* RFC 7162 3.1.3: changed since the client looked: not ours */
		if (cur > unchangedsince) {
			if (modified_r != NULL)
				modified_r[nmod] = s[i];
			nmod++;
			continue;
		}
		switch (op) {
		case INDEX_FLAGS_SET:
			nf = flags;
			nk = keywords;
			break;
		case INDEX_FLAGS_ADD:
			nf = of | flags;
			nk = ok | keywords;
			break;
		default:
			nf = of & ~(uint64_t)flags;
			nk = ok & ~keywords;
			break;
		}
		if (nf == of && nk == ok)
			continue;
		if (ix_rebind(ix, upd, "iiiii", (int64_t)nf, (int64_t)nk,
		    modseq, mailbox, (int64_t)s[i]) == -1 ||
		    ix_step_done(ix, upd) != 1)
			goto fail;
		changed++;
	}
	if (changed > 0 && ix_run(ix, "UPDATE mailboxes SET highestmodseq = ? "
	    "WHERE id = ?", "ii", modseq, mailbox) != 1)
		goto fail;
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sel = upd = NULL;
	if (ix_commit(ix) == -1)
		goto fail;
	free(s);
	if (changed > 0)
		ix_changed(ix);
	if (modseq_r != NULL)
		*modseq_r = (uint64_t)(changed > 0 ? modseq : modseq - 1);
	if (changed_r != NULL)
		*changed_r = changed;
	if (nmodified_r != NULL)
		*nmodified_r = nmod;
	return 0;
fail:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	ix_rollback(ix);
	free(s);
	return -1;
}

/* --- append, copy, move, expunge ------------------------------------------ */

int
index_append(struct index *ix, int64_t mailbox, int msg_fd,
    uint64_t msg_len, uint32_t flags, uint64_t keywords,
    int64_t internal_date, uint32_t *uid_r)
{
	struct blob_meta	 meta;
	struct index_mailbox	 mb;
	unsigned char		 rnd[8], id[BLOB_ID_LEN];
	char			 tmp[32], name[IX_NAME_LEN + 1], err[IX_ERRBUF];
	size_t			 i;
	int			 fd, rc, saved;

	ix_start(ix);
	if (ix->pk == NULL)
		return ix_err(ix, EACCES, "append needs the account's key");
	if ((flags & ~(uint32_t)INDEX_F_ALL) != 0)
		return ix_err(ix, EINVAL, "unknown flag");
	if ((rc = ix_mailbox_get(ix, mailbox, NULL, &mb)) != 1) {
		if (rc == 0)
			ix_err(ix, ENOENT, "no such mailbox");
		return -1;
	}
	memset(&meta, 0, sizeof(meta));
	meta.delivered = internal_date < 0 ? 0 : (uint64_t)internal_date;
	(void)strlcpy(meta.folder, mb.name, sizeof(meta.folder));

	/* 1. the blob, durable under its final name */
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(tmp, ".tmp-", 5);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(tmp + 5 + 2 * i, 3, "%02x", rnd[i]);
	if ((fd = openat(ix->blobsfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return ix_err(ix, errno, "create in blobs/: %s",
		    strerror(errno));
	if (blob_write(fd, ix->pk, msg_fd, msg_len, &meta, id, err,
	    sizeof(err)) == -1) {
		saved = errno;
		close(fd);
		(void)unlinkat(ix->blobsfd, tmp, 0);
		return ix_err(ix, saved, "append: %s", err);
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		saved = errno;
		(void)unlinkat(ix->blobsfd, tmp, 0);
		return ix_err(ix, saved, "append: %s", strerror(saved));
	}
	ix_hex(id, name);
	if (ix_rename(ix->blobsfd, tmp, ix->blobsfd, name) == -1 ||
	    fsync(ix->blobsfd) == -1) {
		saved = errno;
		(void)unlinkat(ix->blobsfd, tmp, 0);
		return ix_err(ix, saved, "append: blobs/: %s",
		    strerror(saved));
	}
	CRASH_POINT("append-written");

	/* 2. the row */
	if (ix_begin(ix) == -1)
		goto unlink;
	if (ix_row_add(ix, mailbox, id, flags, keywords, internal_date,
	    msg_len, ix_probe_dg(ix_rd_fd, &msg_fd, msg_len), NULL, 1,
	    uid_r) == -1 || ix_commit(ix) == -1) {
		ix_rollback(ix);
		goto unlink;
	}
	ix_changed(ix);
	return 0;
unlink:
	/* never acknowledged and no row names it: not mail yet */
	saved = errno;
	(void)unlinkat(ix->blobsfd, name, 0);
	errno = saved;
	return -1;
}

static int
ix_copy(struct index *ix, int64_t src, const uint32_t *uids, size_t n,
    int64_t dst, int move, uint32_t *src_uids_r, uint32_t *dst_uids_r,
    size_t *n_r)
{
	sqlite3_stmt	*ins = NULL, *del = NULL;
	uint32_t	*s, *moved = NULL;
	size_t		 ns, i, done = 0;
	int64_t		 uidnext, modseq, v;
	int		 rc;

	ix_start(ix);
	if (n_r != NULL)
		*n_r = 0;
	if (n > INDEX_OP_MAX)
		return ix_err(ix, ENOSPC, "too many messages at once");
	s = ix_sorted(uids, n, &ns);
	if (move)
		moved = xreallocarray(NULL, ns > 0 ? ns : 1, sizeof(*moved));
	if (ix_begin(ix) == -1) {
		free(s);
		return -1;
	}
	if ((rc = ix_int(ix, &v, "SELECT id FROM mailboxes WHERE id = ?", "i",
	    src)) != 1) {
		if (rc == 0)
			ix_err(ix, ENOENT, "no such mailbox");
		goto fail;
	}
	if ((ins = ix_query(ix, "SELECT uidnext, highestmodseq FROM "
	    "mailboxes WHERE id = ?", "i", dst)) == NULL)
		goto fail;
	if ((rc = sqlite3_step(ins)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			ix_err(ix, ENOENT, "no such target mailbox");
		else
			ix_dberr(ix);
		goto fail;
	}
	uidnext = sqlite3_column_int64(ins, 0);
	modseq = sqlite3_column_int64(ins, 1) + 1;
	sqlite3_finalize(ins);
	if ((ins = ix_prep(ix, "INSERT INTO messages (mailbox_id, uid, "
	    "blob_id, flags, keywords, internal_date, size, modseq, error, "
	    "meta, meta_version, dg_size) SELECT ?, ?, blob_id, flags, "
	    "keywords, internal_date, size, ?, error, meta, meta_version, "
	    "dg_size FROM messages WHERE mailbox_id = ? AND uid = ?")) ==
	    NULL ||
	    (del = ix_prep(ix, "DELETE FROM messages WHERE mailbox_id = ? AND "
	    "uid = ?")) == NULL)
		goto fail;
	for (i = 0; i < ns; i++) {
		if (uidnext < 1 || uidnext >= (int64_t)IX_UID_MAX) {
			ix_err(ix, ENOSPC, "the target has used every uid");
			goto fail;
		}
		if (ix_rebind(ix, ins, "iiiii", dst, uidnext, modseq, src,
		    (int64_t)s[i]) == -1 || (rc = ix_step_done(ix, ins)) == -1)
			goto fail;
		if (rc == 0)
			continue;		/* no such message */
		if (move && (ix_rebind(ix, del, "ii", src, (int64_t)s[i]) ==
		    -1 || ix_step_done(ix, del) != 1))
			goto fail;
		if (move)
			moved[done] = s[i];
		if (src_uids_r != NULL)
			src_uids_r[done] = s[i];
		if (dst_uids_r != NULL)
			dst_uids_r[done] = (uint32_t)uidnext;
		done++;
		uidnext++;
	}
	if (done > 0) {
		if (ix_run(ix, "UPDATE mailboxes SET uidnext = ?, "
		    "highestmodseq = ? WHERE id = ?", "iii", uidnext, modseq,
		    dst) != 1)
			goto fail;
		/* RFC 7162 3.2.10: the expunges are a change of the source */
		if (move && (ix_run(ix, "UPDATE mailboxes SET highestmodseq = "
		    "highestmodseq + 1 WHERE id = ?", "i", src) != 1 ||
		    ix_vanish(ix, src, moved, NULL, done) == -1))
			goto fail;
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	ins = del = NULL;
	if (ix_commit(ix) == -1)
		goto fail;
	free(s);
	free(moved);
	if (done > 0)
		ix_changed(ix);
	if (n_r != NULL)
		*n_r = done;
	return 0;
fail:
	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	ix_rollback(ix);
	free(s);
	free(moved);
	return -1;
}

int
index_copy(struct index *ix, int64_t src, const uint32_t *uids, size_t n,
    int64_t dst, uint32_t *src_uids_r, uint32_t *dst_uids_r, size_t *n_r)
{
	return ix_copy(ix, src, uids, n, dst, 0, src_uids_r, dst_uids_r, n_r);
}

int
index_move(struct index *ix, int64_t src, const uint32_t *uids, size_t n,
    int64_t dst, uint32_t *src_uids_r, uint32_t *dst_uids_r, size_t *n_r)
{
	/* the rows move, the blobs stay: no file is touched */
	return ix_copy(ix, src, uids, n, dst, 1, src_uids_r, dst_uids_r, n_r);
}

int
index_expunge(struct index *ix, int64_t mailbox, const uint32_t *uids,
    size_t n, int flags, uint32_t **uids_r, size_t *n_r)
{
	struct ix_gone	*gone = NULL;
	uint32_t	*s = NULL, *out;
	size_t		 ns = 0, ngone = 0, i;
	int64_t		 v;
	int		 rc;

	ix_start(ix);
	if (uids_r != NULL)
		*uids_r = NULL;
	if (n_r != NULL)
		*n_r = 0;
	if (uids != NULL && n > INDEX_OP_MAX)
		return ix_err(ix, ENOSPC, "too many messages at once");
	if (uids != NULL)
		s = ix_sorted(uids, n, &ns);
	if (ix_begin(ix) == -1) {
		free(s);
		return -1;
	}
	if ((rc = ix_int(ix, &v, "SELECT id FROM mailboxes WHERE id = ?", "i",
	    mailbox)) != 1) {
		if (rc == 0)
			ix_err(ix, ENOENT, "no such mailbox");
		goto fail;
	}
	if (ix_expunge_rows(ix, mailbox, s, ns,
	    (flags & INDEX_EXPUNGE_DELETED) != 0, &gone, &ngone) == -1 ||
	    ix_commit(ix) == -1)
		goto fail;
	free(s);
	CRASH_POINT("expunge-commit");
	if (ngone > 0) {
		ix_changed(ix);
		if (ix_gc(ix) == -1)
			log_warnx("index: %s", ix->err);
		ix->err[0] = '\0';
	}
	if (uids_r != NULL) {
		out = xreallocarray(NULL, ngone > 0 ? ngone : 1, sizeof(*out));
		for (i = 0; i < ngone; i++)
			out[i] = gone[i].uid;
		*uids_r = out;
	}
	if (n_r != NULL)
		*n_r = ngone;
	free(gone);
	return 0;
fail:
	ix_rollback(ix);
	free(s);
	return -1;
}

/* --- sealed metadata ------------------------------------------------------ */

int
index_meta_set(struct index *ix, int64_t mailbox, uint32_t uid,
    const void *meta, size_t len, int version)
{
	sqlite3_stmt	*st;
	unsigned char	 id[BLOB_ID_LEN];
	int		 rc;

	ix_start(ix);
	if (meta == NULL || len > INDEX_META_MAX || version < 1)
		return ix_err(ix, EINVAL, "metadata: %zu bytes, version %d",
		    len, version);
	if (ix_begin(ix) == -1)
		return -1;
	if ((st = ix_query(ix, "SELECT blob_id FROM messages WHERE "
	    "mailbox_id = ? AND uid = ?", "ii", mailbox, (int64_t)uid)) ==
	    NULL)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !ix_col_blob(st, 0, id, sizeof(id)))
		rc = SQLITE_CORRUPT;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			ix_err(ix, ENOENT, "no such message");
		else
			ix_err(ix, EIO, "index.db: malformed row");
		goto fail;
	}
	if (ix_run(ix, "UPDATE messages SET meta = ?, meta_version = ? WHERE "
	    "blob_id = ?", "bib", meta, len, (int64_t)version, id,
	    (size_t)BLOB_ID_LEN) < 1 || ix_commit(ix) == -1)
		goto fail;
	return 0;
fail:
	ix_rollback(ix);
	return -1;
}

int
index_meta_get(struct index *ix, int64_t mailbox, uint32_t uid,
    void **meta_r, size_t *len_r, int *version_r)
{
	sqlite3_stmt	*st;
	const void	*p;
	size_t		 len;
	int		 rc, ret = 0;

	ix_start(ix);
	*meta_r = NULL;
	*len_r = 0;
	*version_r = 0;
	if ((st = ix_query(ix, "SELECT meta, meta_version FROM messages "
	    "WHERE mailbox_id = ? AND uid = ?", "ii", mailbox,
	    (int64_t)uid)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) == SQLITE_BLOB) {
		len = (size_t)sqlite3_column_bytes(st, 0);
		p = sqlite3_column_blob(st, 0);
		if (len > INDEX_META_MAX) {
			sqlite3_finalize(st);
			return ix_err(ix, EIO, "index.db: metadata too large");
		}
		*meta_r = xmalloc(len > 0 ? len : 1);
		if (len > 0)
			memcpy(*meta_r, p, len);
		*len_r = len;
		*version_r = sqlite3_column_int(st, 1);
		ret = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ix_dberr(ix);
	return ret;
}

int
index_meta_todo(struct index *ix, int version, struct index_msgref *out,
    size_t max, size_t *n_r)
{
	sqlite3_stmt	*st;
	size_t		 n = 0;
	int		 rc = SQLITE_DONE;

	ix_start(ix);
	*n_r = 0;
	if (max > INDEX_OP_MAX)
		max = INDEX_OP_MAX;
	if ((st = ix_query(ix, "SELECT mailbox_id, uid FROM messages WHERE "
	    "error IS NULL AND (meta_version IS NULL OR meta_version < ?) "
	    "ORDER BY id DESC LIMIT ?", "ii", (int64_t)version,
	    (int64_t)max)) == NULL)
		return -1;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out[n].mailbox = sqlite3_column_int64(st, 0);
		out[n].uid = (uint32_t)sqlite3_column_int64(st, 1);
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return ix_dberr(ix);
	}
	sqlite3_finalize(st);
	*n_r = n;
	return 0;
}

int
index_usage(struct index *ix, uint64_t *bytes_r, uint64_t *blobs_r)
{
	sqlite3_stmt	*st;
	int		 rc;

	ix_start(ix);
	if ((st = ix_query(ix, "SELECT usage_bytes, usage_blobs FROM account",
	    "")) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*bytes_r = (uint64_t)sqlite3_column_int64(st, 0);
		*blobs_r = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? ix_err(ix, EIO, "index.db: no "
		    "account row") : ix_dberr(ix);
	return 0;
}

int
index_recent_claim(struct index *ix, int64_t mailbox, uint32_t *from_r,
    uint32_t *to_r)
{
	sqlite3_stmt	*st;
	int		 rc;

	ix_start(ix);
	*from_r = *to_r = 0;
	if (ix_begin(ix) == -1)
		return -1;
	if ((st = ix_query(ix, "SELECT recent_uid, uidnext FROM mailboxes "
	    "WHERE id = ?", "i", mailbox)) == NULL)
		goto fail;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*from_r = (uint32_t)sqlite3_column_int64(st, 0);
		*to_r = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			ix_err(ix, ENOENT, "no such mailbox");
		else
			ix_dberr(ix);
		goto fail;
	}
	if (*from_r >= *to_r) {
		*from_r = *to_r;	/* another session has them */
		ix_rollback(ix);
		return 0;
	}
	/* not ix_changed: no other session needs to hear of this */
	if (ix_run(ix, "UPDATE mailboxes SET recent_uid = ? WHERE id = ?",
	    "ii", (int64_t)*to_r, mailbox) != 1 || ix_commit(ix) == -1)
		goto fail;
	return 0;
fail:
	ix_rollback(ix);
	*from_r = *to_r = 0;
	return -1;
}

/* Add uid to ascending ranges (uids come in ascending order). */
static void
ix_range_add(struct index_uidrange **r, size_t *n, size_t *cap, uint32_t lo,
    uint32_t hi)
{
	if (*n > 0 && (*r)[*n - 1].hi != UINT32_MAX &&
	    (*r)[*n - 1].hi + 1 == lo) {
		(*r)[*n - 1].hi = hi;
		return;
	}
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*r = xreallocarray(*r, *cap, sizeof(**r));
	}
	(*r)[*n].lo = lo;
	(*r)[(*n)++].hi = hi;
}

int
index_vanished(struct index *ix, int64_t mailbox, uint64_t since,
    uint32_t uid_min, uint32_t uid_max, struct index_uidrange **r_r,
    size_t *n_r)
{
	struct index_uidrange	*r = NULL;
	sqlite3_stmt		*st = NULL;
	size_t			 n = 0, cap = 0;
	uint64_t		 floor, uidnext, next;
	uint32_t		 u;
	int			 rc;

	ix_start(ix);
	*r_r = NULL;
	*n_r = 0;
	if (since > (uint64_t)INT64_MAX)
		since = (uint64_t)INT64_MAX;
	/* one snapshot for both reads */
	if (sqlite3_exec(ix->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ix_dberr(ix);
	if ((st = ix_query(ix, "SELECT vanished_floor, uidnext FROM mailboxes "
	    "WHERE id = ?", "i", mailbox)) == NULL)
		goto fail;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			ix_err(ix, ENOENT, "no such mailbox");
		else
			ix_dberr(ix);
		goto fail;
	}
	floor = (uint64_t)sqlite3_column_int64(st, 0);
	uidnext = (uint64_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (uidnext <= uid_min) {
		st = NULL;
		goto done;
	}
	if (uid_max >= uidnext)
		uid_max = (uint32_t)(uidnext - 1);
	if (since >= floor) {
		/* the history reaches back: exactly what went since */
		if ((st = ix_query(ix, "SELECT uid FROM vanished WHERE "
		    "mailbox_id = ? AND modseq > ? AND uid BETWEEN ? AND ? "
		    "ORDER BY uid", "iiii", mailbox, (int64_t)since,
		    (int64_t)uid_min, (int64_t)uid_max)) == NULL)
			goto fail;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			u = (uint32_t)sqlite3_column_int64(st, 0);
			ix_range_add(&r, &n, &cap, u, u);
		}
	} else {
		/* it does not: every uid without a message (a superset) */
		if ((st = ix_query(ix, "SELECT uid FROM messages WHERE "
		    "mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid",
		    "iii", mailbox, (int64_t)uid_min, (int64_t)uid_max)) ==
		    NULL)
			goto fail;
		next = uid_min;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			u = (uint32_t)sqlite3_column_int64(st, 0);
			if (u > next)
				ix_range_add(&r, &n, &cap, (uint32_t)next,
				    u - 1);
			next = (uint64_t)u + 1;
		}
		if (rc == SQLITE_DONE && next <= uid_max)
			ix_range_add(&r, &n, &cap, (uint32_t)next, uid_max);
	}
	if (rc != SQLITE_DONE) {
		ix_dberr(ix);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
done:
	(void)sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
	*r_r = r;
	*n_r = n;
	return 0;
fail:
	sqlite3_finalize(st);
	(void)sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	free(r);
	return -1;
}

int
index_dg_set(struct index *ix, int64_t mailbox, uint32_t uid,
    uint64_t dg_size)
{
	ix_start(ix);
	if (dg_size > (uint64_t)INT64_MAX)
		return ix_err(ix, EINVAL, "size out of range");
	/* every row of the blob: the same bytes */
	if (ix_run(ix, "UPDATE messages SET dg_size = ? WHERE blob_id = "
	    "(SELECT blob_id FROM messages WHERE mailbox_id = ? AND uid = ?)",
	    "iii", (int64_t)dg_size, mailbox, (int64_t)uid) == -1)
		return -1;
	return 0;
}

uint64_t
index_freed_take(struct index *ix)
{
	uint64_t	n = ix->freed;

	ix->freed = 0;
	return n;
}

/* --- check ---------------------------------------------------------------- */

static void ix_problem(struct index_check *, int, int, const char *,
    const char *, const char *, ...) __attribute__((format(printf, 6, 7)));

/* Count a problem; list it while the list has room. */
static void
ix_problem(struct index_check *res, int kind, int repaired, const char *where,
    const char *name, const char *fmt, ...)
{
	struct index_problem	*p;
	va_list			 ap;

	res->count[kind]++;
	if (repaired) {
		res->fixed[kind]++;
		res->repaired++;
	}
	if (res->nlist == INDEX_CHECK_LIST_MAX) {
		res->unlisted++;
		return;
	}
	if (res->nlist % 64 == 0)
		res->list = xreallocarray(res->list, res->nlist + 64,
		    sizeof(*res->list));
	p = &res->list[res->nlist++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->repaired = repaired;
	(void)strlcpy(p->where, where, sizeof(p->where));
	(void)ix_esc(name, p->name, sizeof(p->name));
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

static int
ix_check_structure(int dirfd, const char *name, char *err, size_t errlen)
{
	int	fd, rc, saved;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	rc = blob_check_structure(fd, err, errlen);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* The database itself and the rows' blobs. */
static int
ix_check_rows(struct index *ix, int repair, struct index_check *res,
    int *moved)
{
	sqlite3_stmt	*st;
	struct stat	 sb;
	unsigned char	 id[BLOB_ID_LEN];
	char		 name[IX_NAME_LEN + 1], where[48];
	const char	*s;
	int64_t		 v;
	int		 rc, fixed;

	if ((st = ix_query(ix, "PRAGMA quick_check(20)", "")) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = (const char *)sqlite3_column_text(st, 0);
		if (s != NULL && strcmp(s, "ok") != 0)
			ix_problem(res, INDEX_P_DB, 0, "index", "index.db",
			    "%s", s);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ix_dberr(ix);
	if (ix_int(ix, &v, "SELECT count(*) FROM messages", "") != 1)
		return -1;
	res->rows = (size_t)v;

	if ((st = ix_query(ix, "SELECT mailbox_id, uid, error FROM messages "
	    "WHERE error IS NOT NULL ORDER BY id", "")) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = (const char *)sqlite3_column_text(st, 2);
		snprintf(where, sizeof(where), "mailbox %lld uid %lld",
		    (long long)sqlite3_column_int64(st, 0),
		    (long long)sqlite3_column_int64(st, 1));
		ix_problem(res, INDEX_P_DAMAGED, 0, "index", where, "%s",
		    s != NULL ? s : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ix_dberr(ix);

	if ((st = ix_query(ix, "SELECT DISTINCT blob_id FROM messages", "")) ==
	    NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!ix_col_blob(st, 0, id, sizeof(id)))
			continue;	/* the CHECK constraint forbids it */
		ix_hex(id, name);
		if (fstatat(ix->blobsfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			continue;	/* blobs/ is checked on its own */
		if (fstatat(ix->newfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode)) {
			fixed = repair && ix_rename(ix->newfd, name,
			    ix->blobsfd, name) == 0;
			*moved |= fixed;
			ix_problem(res, INDEX_P_UNMOVED, fixed, "new", name,
			    "%s", fixed ? "moved into blobs/" :
			    "indexed, still in new/ (import moves it)");
			continue;
		}
		ix_problem(res, INDEX_P_MISSING, 0, "blobs", name,
		    "indexed, but the file is gone");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ix_dberr(ix);
	return 0;
}

/* An orphan named by "expunged": remove it, under the write lock. */
static int
ix_check_garbage(struct index *ix, int dirfd, const unsigned char *id,
    const char *name)
{
	int	used;

	if (ix_begin(ix) == -1)
		return -1;
	if ((used = ix_blob_used(ix, id)) != 0)
		goto fail;
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT) {
		ix_err(ix, errno, "unlink: %s", strerror(errno));
		goto fail;
	}
	if (fsync(dirfd) == -1) {
		ix_err(ix, errno, "fsync: %s", strerror(errno));
		goto fail;
	}
	if (ix_run(ix, "DELETE FROM expunged WHERE blob_id = ?", "b", id,
	    (size_t)BLOB_ID_LEN) == -1 || ix_commit(ix) == -1)
		goto fail;
	return 0;
fail:
	ix_rollback(ix);
	return -1;
}

/* One directory: new/ (is_new) or blobs/. */
static int
ix_check_dir(struct index *ix, int is_new, int repair,
    struct index_check *res, int *moved)
{
	struct dirent	*de;
	struct stat	 sb;
	unsigned char	 id[BLOB_ID_LEN];
	char		 err[IX_ERRBUF];
	const char	*where = is_new ? "new" : "blobs";
	int64_t		 now = ix_now(), v;
	int		 dirfd = is_new ? ix->newfd : ix->blobsfd;
	int		 used, expunged, fixed;
	DIR		*d;

	if ((d = ix_opendir(dirfd)) == NULL)
		return ix_err(ix, errno, "%s/: %s", where, strerror(errno));
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			continue;	/* gone meanwhile */
		if (ix_is_tmp(de->d_name) && S_ISREG(sb.st_mode)) {
			/* a young one is a delivery or append in progress */
			if ((int64_t)sb.st_mtime >= now - INDEX_TMP_AGE)
				continue;
			fixed = repair && unlinkat(dirfd, de->d_name, 0) == 0;
			ix_problem(res, INDEX_P_TEMP, fixed, where,
			    de->d_name, "%s", fixed ? "removed" :
			    "an unfinished write, older than an hour");
			continue;
		}
		if (!ix_unhex(de->d_name, id) || !S_ISREG(sb.st_mode)) {
			ix_problem(res, INDEX_P_BAD_NAME, 0, where, de->d_name,
			    "%s", S_ISREG(sb.st_mode) ? "not a blob name" :
			    "not a regular file");
			continue;
		}
		if (!is_new)
			res->blobs++;
		if (ix_check_structure(dirfd, de->d_name, err,
		    sizeof(err)) == -1)
			ix_problem(res, INDEX_P_BAD_BLOB, 0, where, de->d_name,
			    "%s", err);
		if ((used = ix_blob_used(ix, id)) == -1)
			goto fail;
		if (used)
			continue;	/* new/: indexed, seen by the rows */
		if ((expunged = ix_int(ix, &v, "SELECT 1 FROM expunged WHERE "
		    "blob_id = ?", "b", id, (size_t)BLOB_ID_LEN)) == -1)
			goto fail;
		if (is_new && !expunged) {
			res->pending++;
			continue;
		}
		/* in new/ too: an import crashed before its move, and the
		 * row was expunged since; it is garbage, not mail */
		if (expunged) {
			fixed = repair && ix_check_garbage(ix, dirfd, id,
			    de->d_name) == 0;
			ix_problem(res, INDEX_P_GARBAGE, fixed, where,
			    de->d_name, "%s", fixed ? "removed" :
			    "expunged, not yet removed");
			continue;
		}
		/*
		 * Mail without a row (an append that crashed before its row,
		 * a lost index): back to new/, where import adds it.  A young
		 * one may be an append between its rename and its row.
		 */
		if ((int64_t)sb.st_mtime >= now - INDEX_ORPHAN_GRACE) {
			ix_problem(res, INDEX_P_ORPHAN, 0, where, de->d_name,
			    "no row; too young to move (an append?)");
			continue;
		}
		fixed = repair && ix_rename(ix->blobsfd, de->d_name,
		    ix->newfd, de->d_name) == 0;
		*moved |= fixed;
		ix_problem(res, INDEX_P_ORPHAN, fixed, where, de->d_name, "%s",
		    fixed ? "no row; moved to new/ for import" : "no row");
	}
	if (errno != 0) {
		ix_err(ix, errno, "%s/: %s", where, strerror(errno));
		goto fail;
	}
	closedir(d);
	return 0;
fail:
	closedir(d);
	return -1;
}

static int
ix_check_usage(struct index *ix, int repair, struct index_check *res)
{
	sqlite3_stmt	*st;
	int64_t		 bytes = 0, blobs = 0, ubytes = 0, ublobs = 0;
	int		 rc, fixed = 0;

	if ((st = ix_query(ix, "SELECT coalesce(sum(size), 0), count(*) FROM "
	    "(SELECT max(size) AS size FROM messages GROUP BY blob_id)",
	    "")) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bytes = sqlite3_column_int64(st, 0);
		blobs = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return ix_dberr(ix);
	if ((st = ix_query(ix, "SELECT usage_bytes, usage_blobs FROM account",
	    "")) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ubytes = sqlite3_column_int64(st, 0);
		ublobs = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return ix_dberr(ix);
	if (bytes == ubytes && blobs == ublobs)
		return 0;
	if (repair) {
		if (ix_begin(ix) == -1)
			return -1;
		/* recomputed under the lock: what the rows say now */
		if (ix_run(ix, "UPDATE account SET (usage_bytes, usage_blobs) "
		    "= (SELECT coalesce(sum(size), 0), count(*) FROM "
		    "(SELECT max(size) AS size FROM messages GROUP BY "
		    "blob_id))", "") != 1 || ix_commit(ix) == -1) {
			ix_rollback(ix);
			return -1;
		}
		fixed = 1;
	}
	ix_problem(res, INDEX_P_USAGE, fixed, "index", "usage",
	    "counter %lld bytes in %lld blobs, rows say %lld in %lld",
	    (long long)ubytes, (long long)ublobs, (long long)bytes,
	    (long long)blobs);
	return 0;
}

int
index_check(struct index *ix, int flags, struct index_check *res)
{
	int	repair = (flags & INDEX_CHECK_REPAIR) != 0, moved = 0;

	ix_start(ix);
	memset(res, 0, sizeof(*res));
	if (ix_check_rows(ix, repair, res, &moved) == -1 ||
	    ix_check_dir(ix, 0, repair, res, &moved) == -1 ||
	    ix_check_dir(ix, 1, repair, res, &moved) == -1 ||
	    ix_check_usage(ix, repair, res) == -1)
		goto fail;
	if (moved && (fsync(ix->blobsfd) == -1 || fsync(ix->newfd) == -1)) {
		ix_err(ix, errno, "fsync: %s", strerror(errno));
		goto fail;
	}
	if (res->repaired > 0)
		ix_changed(ix);
	return 0;
fail:
	index_check_free(res);
	return -1;
}

void
index_check_free(struct index_check *res)
{
	free(res->list);
	res->list = NULL;
	res->nlist = 0;
}
