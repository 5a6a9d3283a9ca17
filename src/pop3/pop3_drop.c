/* SPDX-License-Identifier: ISC */
/*
 * pop3_drop.c - the POP3 maildrop over an account's index (pop3_drop.h):
 * the INBOX snapshot, the marks, the RETR and TOP stream (read here,
 * encoded by pop3_enc.c), the commit.
 *
 * Process:  pop3-mail (account uid, account jail; ROLE_POP3_MAIL).
 * Trust:    message content is hostile: it is only read and handed to
 *           the stream encoder (pop3_enc.c), never interpreted here.
 *           Message numbers are checked against the snapshot here.
 * Limits:   POP3_DROP_MAX messages; POP3_DROP_CHUNK bytes of a message in
 *           memory at a time (plus POP3_ENC_BUF of output).
 * See also: pop3_mail.c (the replies), pop3_enc.c, store/index.c,
 *           RFC 1939 3, 5-7.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "xmalloc.h"
#include "buf.h"
#include "index.h"
#include "pop3_drop.h"
#include "pop3_enc.h"
#include "banned.h"

/* the encoder writes in the pieces pop3_drop.h promises */
_Static_assert(POP3_ENC_CHUNK == POP3_DROP_CHUNK, "one chunk size");

int
pop3_drop_lock(int dirfd, int *fd_r)
{
	struct flock	fl;
	int		fd, saved;

	*fd_r = -1;
	if ((fd = openat(dirfd, "pop3.lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;			/* the whole file */
	/* F_SETLK, never F_SETLKW: a second session is refused at once */
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		saved = errno;
		close(fd);
		if (saved == EAGAIN || saved == EACCES)
			return 0;
		errno = saved;
		return -1;
	}
	*fd_r = fd;
	return 1;
}

/* --- the snapshot ------------------------------------------------------- */

struct drop_collect {
	struct pop3_drop	*d;
	size_t			 cap;
};

static int
drop_collect_one(const struct index_msg_info *mi, void *arg)
{
	struct drop_collect	*c = arg;
	struct pop3_drop	*d = c->d;
	struct pop3_drop_msg	*m;

	if (d->n >= POP3_DROP_MAX) {
		d->truncated = true;
		return 1;			/* stop the walk */
	}
	if (d->n == c->cap) {
		c->cap = c->cap == 0 ? 256 : c->cap * 2;
		if (c->cap > POP3_DROP_MAX)
			c->cap = POP3_DROP_MAX;
		d->msgs = xreallocarray(d->msgs, c->cap, sizeof(*d->msgs));
	}
	m = &d->msgs[d->n++];
	memset(m, 0, sizeof(*m));
	m->uid = mi->uid;
	m->size = mi->size;
	m->damaged = mi->damaged != 0;
	/* sizes come from the index; a sum past 2^64 is not a mailbox */
	d->size = m->size > UINT64_MAX - d->size ? UINT64_MAX :
	    d->size + m->size;
	return 0;
}

struct pop3_drop *
pop3_drop_open(struct index *ix)
{
	struct pop3_drop	*d;
	struct index_mailbox	 mb;
	struct drop_collect	 c;
	int			 rc, saved;

	if ((rc = index_mailbox_open(ix, "INBOX", &mb)) != 1) {
		if (rc == 0)
			errno = ENOENT;
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->ix = ix;
	d->mailbox = mb.id;
	d->uidvalidity = mb.uidvalidity;
	c.d = d;
	c.cap = 0;
	/* one statement: one consistent snapshot, in UID order */
	if (index_msg_foreach(ix, mb.id, 1, UINT32_MAX, 0, drop_collect_one,
	    &c) == -1) {
		saved = errno;
		pop3_drop_close(d);
		errno = saved;
		return NULL;
	}
	return d;
}

void
pop3_drop_close(struct pop3_drop *d)
{
	if (d == NULL)
		return;
	free(d->msgs);
	free(d);
}

/* --- looking and marking ------------------------------------------------ */

void
pop3_drop_stat(const struct pop3_drop *d, uint32_t *n_r, uint64_t *size_r)
{
	*n_r = d->n - d->ndeleted;
	*size_r = d->size - d->deleted_size;
}

const struct pop3_drop_msg *
pop3_drop_msg(const struct pop3_drop *d, uint32_t msgno)
{
	if (msgno == 0 || msgno > d->n)
		return NULL;
	return &d->msgs[msgno - 1];
}

int
pop3_drop_uidl(const struct pop3_drop *d, uint32_t msgno, char *buf,
    size_t len)
{
	const struct pop3_drop_msg	*m;
	int				 n;

	if ((m = pop3_drop_msg(d, msgno)) == NULL)
		return -1;
	n = snprintf(buf, len, "%" PRIu32 ".%" PRIu32, d->uidvalidity,
	    m->uid);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

int
pop3_drop_scan(const struct pop3_drop *d, int what, struct buf *out,
    int (*write_fn)(void *, const void *, size_t), void *arg)
{
	const struct pop3_drop_msg	*m;
	char				 id[POP3_UIDL_MAX];
	uint32_t			 i;
	int				 rc;

	for (i = 1; i <= d->n; i++) {
		m = &d->msgs[i - 1];
		if (m->deleted)
			continue;
		if (what == POP3_SCAN_UIDL) {
			if (pop3_drop_uidl(d, i, id, sizeof(id)) == -1)
				return -1;
			rc = buf_addf(out, "%" PRIu32 " %s\r\n", i, id);
		} else
			rc = buf_addf(out, "%" PRIu32 " %llu\r\n", i,
			    (unsigned long long)m->size);
		if (rc == -1)
			return -1;
		/* pipelining clients: few large writes, not one per line */
		if (out->len >= POP3_DROP_CHUNK) {
			if (write_fn(arg, out->data, out->len) == -1)
				return -1;
			buf_reset(out);
		}
	}
	if (buf_add(out, ".\r\n", 3) == -1 ||
	    write_fn(arg, out->data, out->len) == -1)
		return -1;
	buf_reset(out);
	return 0;
}

int
pop3_drop_dele(struct pop3_drop *d, uint32_t msgno)
{
	struct pop3_drop_msg	*m;

	if (msgno == 0 || msgno > d->n)
		return 0;
	m = &d->msgs[msgno - 1];
	if (m->deleted)
		return 0;
	m->deleted = true;
	d->ndeleted++;
	d->deleted_size += m->size;
	return 1;
}

void
pop3_drop_rset(struct pop3_drop *d)
{
	uint32_t	i;

	for (i = 0; i < d->n; i++)
		d->msgs[i].deleted = false;
	d->ndeleted = 0;
	d->deleted_size = 0;
}

/* --- RETR and TOP ------------------------------------------------------- */

enum pop3_send
pop3_drop_send(struct pop3_drop *d, uint32_t msgno, bool top, uint32_t lines,
    const char *ok, size_t oklen,
    int (*write_fn)(void *, const void *, size_t), void *arg)
{
	struct pop3_drop_msg	*m;
	struct index_msg	*msg;
	struct pop3_enc		 e;
	unsigned char		*in, *out;
	uint64_t		 off, size;
	ssize_t			 r;
	enum pop3_send		 ret = POP3_SEND_OK;
	int			 saved = 0;

	if (msgno == 0 || msgno > d->n || d->msgs[msgno - 1].deleted)
		return POP3_SEND_NOMSG;
	m = &d->msgs[msgno - 1];
	if ((msg = index_msg_open(d->ix, d->mailbox, m->uid)) == NULL) {
		if (errno == ENOENT)
			return POP3_SEND_GONE;
		if (errno == EBADMSG)
			return POP3_SEND_DAMAGED;
		return POP3_SEND_TEMP;
	}
	size = index_msg_size(msg);
	out = xmalloc(POP3_ENC_BUF);
	in = xmalloc(POP3_DROP_CHUNK);
	pop3_enc_init(&e, top, lines, out, write_fn, arg);
	/* the ok line goes out with the first bytes of the message */
	if (pop3_enc_prefix(&e, ok, oklen) == -1)
		ret = POP3_SEND_WRITE;
	for (off = 0; ret == POP3_SEND_OK && off < size && !pop3_enc_done(&e);
	    off += (uint64_t)r) {
		if ((r = index_msg_pread(msg, in, POP3_DROP_CHUNK, off)) <= 0) {
			/* 0 before the size: a truncated message, no end */
			saved = r == 0 ? EIO : errno;
			ret = POP3_SEND_READ;
			break;
		}
		if (pop3_enc_bytes(&e, in, (size_t)r) == -1)
			ret = POP3_SEND_WRITE;
	}
	if (ret == POP3_SEND_READ) {
		/*
		 * What was read before the failure goes out (the client has
		 * the +OK already), the final "." never does: a client must
		 * not take a truncated message for the whole one.
		 */
		if (pop3_enc_flush(&e) == -1)
			ret = POP3_SEND_WRITE;
	} else if (ret == POP3_SEND_OK && pop3_enc_finish(&e) == -1)
		ret = POP3_SEND_WRITE;
	index_msg_close(msg);
	sodium_memzero(in, POP3_DROP_CHUNK);
	sodium_memzero(out, POP3_ENC_BUF);
	free(in);
	free(out);
	if (ret == POP3_SEND_OK && !top && !m->retrieved) {
		m->retrieved = true;
		d->nretrieved++;
	}
	if (ret == POP3_SEND_READ)
		errno = saved;
	return ret;
}

/* --- the UPDATE state --------------------------------------------------- */

int
pop3_drop_commit(struct pop3_drop *d, struct pop3_commit *res)
{
	uint32_t	*seen, *del;
	size_t		 nseen = 0, ndel = 0, gone = 0;
	uint32_t	 i;
	int		 rc;

	memset(res, 0, sizeof(*res));
	seen = xreallocarray(NULL, d->n > 0 ? d->n : 1, sizeof(*seen));
	del = xreallocarray(NULL, d->n > 0 ? d->n : 1, sizeof(*del));
	for (i = 0; i < d->n; i++) {
		if (d->msgs[i].deleted)
			del[ndel++] = d->msgs[i].uid;
		else if (d->msgs[i].retrieved)
			seen[nseen++] = d->msgs[i].uid;
	}
	res->deleted = (uint32_t)ndel;
	res->seen = (uint32_t)nseen;
	/* RFC 3501 2.3.2: what POP3 retrieved was read, as IMAP sees it */
	if (nseen > 0 && index_flags_update(d->ix, d->mailbox, seen, nseen,
	    INDEX_FLAGS_ADD, INDEX_F_SEEN, 0, NULL, NULL) == -1) {
		res->seen_failed = true;
		(void)strlcpy(res->seen_err, index_errstr(d->ix),
		    sizeof(res->seen_err));
	}
	rc = 0;
	if (ndel > 0) {
		if (index_expunge(d->ix, d->mailbox, del, ndel, 0, NULL,
		    &gone) == -1)
			rc = -1;
		else
			res->expunged = gone;
	}
	free(seen);
	free(del);
	return rc;
}
