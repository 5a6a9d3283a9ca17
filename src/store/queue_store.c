/* SPDX-License-Identifier: ISC */
/*
 * queue_store.c - the outbound queue on disk (queue_store.h).
 *
 * Process:  the queue service (put), sealpostctl as root (ids, get).
 * Trust:    the spool is written by the queue service only; sealpostctl
 *           runs as root and still treats what it reads as hostile (a
 *           compromised queue service could write anything there):
 *           envelopes are size-bounded, must open under the queue key and
 *           are parsed line by line with every field checked.
 * Limits:   QUEUE_ENV_MAX, QUEUE_RCPTS_MAX and the field sizes.
 *
 * Files, in DATA_DIR/queue/spool (the queue service's, mode 0700):
 *	ID	the body: SPB1 (blob.c) sealed to the queue public key;
 *		ID is its blob id in hex (store_deliver writes it)
 *	ID.env	the envelope: crypto_box_seal(text, queue public key)
 *	ID.info	(the quarantine only: store/quarantine.h) cleartext, written
 *		before the envelope
 * The envelope is written after the body is durable and is what makes
 * the message queued.  Envelope text:
 *
 *	SPQE1
 *	created SECONDS
 *	from ADDRESS		(may be empty: the null sender)
 *	account ID		(the authenticated submitter)
 *	size BYTES
 *	ret 0|1|2  body8 0|1  smtputf8 0|1	(one per line)
 *	envid TEXT		(decoded xtext: no control characters)
 *	rcpt ADDRESS TAB NOTIFY TAB ORCPT	(one per recipient)
 *	attempts N  next SECONDS  warned 0|1  held 0|1	(optional, in order)
 *	state INDEX TAB STATE TAB REMOTE TAB DIAG	(recipients not pending
 *						 or with a reply kept)
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "xmalloc.h"
#include "buf.h"
#include "keyfile.h"
#include "store_deliver.h"
#include "queue_store.h"
#include "banned.h"

#define QS_TAG		"sealpost-queue-key"
#define QS_MAGIC	"SPQE1"

int
queue_key_load(const char *path, bool create, unsigned char *sk,
    unsigned char pk[QUEUE_KEY_LEN], char *err, size_t errlen)
{
	struct stat	st;

	if (create && lstat(path, &st) == -1 && errno == ENOENT) {
		crypto_box_keypair(pk, sk);
		if (keyfile_write(path, QS_TAG, sk, 0600, err,
		    errlen) == -1)
			return -1;
	}
	if (keyfile_read(path, QS_TAG, "queue key", NULL, NULL, sk, err,
	    errlen) == -1)
		return -1;
	crypto_scalarmult_base(pk, sk);
	return 0;
}

/* A value that may go into the envelope: bounded, no control character. */
static bool
qs_clean(const char *s, size_t max)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int
queue_env_encode(const struct queue_env *e, char **out_r, size_t *len_r)
{
	struct buf	*b;
	size_t		 i;
	int		 r;

	if (!qs_clean(e->from, QUEUE_ADDR_MAX) ||
	    !qs_clean(e->envid, QUEUE_ENVID_MAX) || e->nrcpts == 0 ||
	    e->nrcpts > QUEUE_RCPTS_MAX) {
		errno = EINVAL;
		return -1;
	}
	b = buf_new_flags(QUEUE_ENV_MAX / 2, BUF_SECRET);
	r = buf_addf(b, "%s\ncreated %" PRId64 "\nfrom %s\naccount %" PRIu64
	    "\nsize %" PRIu64 "\nret %d\nbody8 %d\nsmtputf8 %d\nenvid %s\n",
	    QS_MAGIC, e->created, e->from, e->account, e->size, e->ret,
	    e->body8, e->smtputf8, e->envid);
	for (i = 0; i < e->nrcpts && r == 0; i++) {
		const struct queue_rcpt *q = &e->rcpts[i];

		if (!qs_clean(q->addr, QUEUE_ADDR_MAX) || q->addr[0] == '\0' ||
		    !qs_clean(q->orcpt, QUEUE_ORCPT_MAX) || q->notify > 15) {
			buf_free(&b);
			errno = EINVAL;
			return -1;
		}
		/* a fourth field only when set: older readers never see it */
		r = buf_addf(b, "rcpt %s\t%u\t%s%s\n", q->addr, q->notify,
		    q->orcpt, q->tls_required ? "\ttls-required" : "");
	}
	if (r == 0)
		r = buf_addf(b, "attempts %u\nnext %" PRId64 "\nwarned %d\n"
		    "held %d\n", e->attempts, e->next < 0 ? 0 : e->next,
		    e->warned != 0, e->held != 0);
	for (i = 0; i < e->nrcpts && r == 0; i++) {
		const struct queue_rcpt *q = &e->rcpts[i];

		if (q->state == QUEUE_RCPT_PENDING && q->diag[0] == '\0' &&
		    q->remote[0] == '\0')
			continue;
		if (q->state < 0 || q->state > QUEUE_RCPT_FAILED ||
		    !qs_clean(q->remote, QUEUE_REMOTE_MAX) ||
		    strchr(q->remote, '\t') != NULL ||
		    !qs_clean(q->diag, QUEUE_DIAG_MAX)) {
			buf_free(&b);
			errno = EINVAL;
			return -1;
		}
		r = buf_addf(b, "state %zu\t%d\t%s\t%s\n", i, q->state,
		    q->remote, q->diag);
	}
	if (r == -1) {
		buf_free(&b);
		errno = E2BIG;
		return -1;
	}
	*out_r = xmalloc(b->len + 1);
	memcpy(*out_r, b->data, b->len);
	(*out_r)[b->len] = '\0';
	*len_r = b->len;
	buf_free(&b);
	return 0;
}

void
queue_env_free(struct queue_env *e)
{
	free(e->rcpts);
	e->rcpts = NULL;
	e->nrcpts = 0;
}

/* "key value" with value copied into out (bounded, checked). */
static int
qs_field(const char *line, const char *key, char *out, size_t outlen)
{
	size_t	klen = strlen(key);

	if (strncmp(line, key, klen) != 0 || line[klen] != ' ' ||
	    !qs_clean(line + klen + 1, outlen - 1))
		return -1;
	strlcpy(out, line + klen + 1, outlen);
	return 0;
}

static int
qs_number(const char *line, const char *key, long long min, long long max,
    long long *v)
{
	char		num[32];
	const char	*errstr;

	if (qs_field(line, key, num, sizeof(num)) == -1)
		return -1;
	*v = strtonum(num, min, max, &errstr);
	return errstr == NULL ? 0 : -1;
}

/*
 * The lines after the recipients: attempts, next, warned and held in
 * that order (*sched counts them), then a state line per recipient that
 * has one, in increasing index order.
 */
static int
qs_schedule(char *line, struct queue_env *e, int *sched)
{
	static const char *const keys[] = { "attempts", "next", "warned",
	    "held" };
	char		*t[3], *p;
	long long	 v;
	size_t		 idx;
	const char	*errstr;
	int		 i, state;

	if (*sched < 4) {
		if (qs_number(line, keys[*sched], 0, *sched == 0 ? 1000000 :
		    *sched == 1 ? INT64_MAX : 1, &v) == -1)
			return -1;
		switch ((*sched)++) {
		case 0: e->attempts = (unsigned int)v; break;
		case 1: e->next = v; break;
		case 2: e->warned = (int)v; break;
		case 3: e->held = (int)v; break;
		}
		return 0;
	}
	/* state INDEX \t STATE \t REMOTE \t DIAG */
	if (strncmp(line, "state ", 6) != 0)
		return -1;
	for (p = line + 6, i = 0; i < 3; i++) {
		if ((t[i] = strchr(p, '\t')) == NULL)
			return -1;
		*t[i] = '\0';
		p = t[i] + 1;
	}
	idx = (size_t)strtonum(line + 6, 0, QUEUE_RCPTS_MAX - 1, &errstr);
	if (errstr != NULL || idx >= e->nrcpts ||
	    (*sched > 4 && idx <= (size_t)(*sched - 5)))
		return -1;	/* in order, each once */
	state = (int)strtonum(t[0] + 1, 0, QUEUE_RCPT_FAILED, &errstr);
	if (errstr != NULL || !qs_clean(t[1] + 1, QUEUE_REMOTE_MAX) ||
	    !qs_clean(t[2] + 1, QUEUE_DIAG_MAX))
		return -1;
	e->rcpts[idx].state = state;
	strlcpy(e->rcpts[idx].remote, t[1] + 1, sizeof(e->rcpts[idx].remote));
	strlcpy(e->rcpts[idx].diag, t[2] + 1, sizeof(e->rcpts[idx].diag));
	*sched = 5 + (int)idx;
	return 0;
}

int
queue_env_decode(const char *text, size_t len, struct queue_env *e,
    char *err, size_t errlen)
{
	static const char *const keys[] = { "created", "from", "account",
	    "size", "ret", "body8", "smtputf8", "envid" };
	char		*copy, *line, *next, *t1, *t2, *t3;
	long long	 v;
	size_t		 n = 0, k;
	const char	*errstr;
	int		 sched = 0;

	memset(e, 0, sizeof(*e));
	if (len > QUEUE_ENV_MAX || memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "envelope: malformed");
		errno = EBADMSG;
		return -1;
	}
	copy = xstrndup(text, len);
	for (line = copy, k = 0; line != NULL && *line != '\0'; line = next,
	    n++) {
		if ((next = strchr(line, '\n')) == NULL)
			goto bad;		/* every line ends */
		*next++ = '\0';
		if (n == 0) {
			if (strcmp(line, QS_MAGIC) != 0)
				goto bad;
			continue;
		}
		if (k < sizeof(keys) / sizeof(keys[0])) {
			int r = -1;

			/* the header fields, in their order */
			switch (k) {
			case 0:
				if ((r = qs_number(line, keys[k], 0,
				    INT64_MAX, &v)) == 0)
					e->created = v;
				break;
			case 1:
				if (strcmp(line, "from") == 0) {
					e->from[0] = '\0';
					r = 0;
				} else
					r = qs_field(line, keys[k], e->from,
					    sizeof(e->from));
				break;
			case 2:
				if ((r = qs_number(line, keys[k], 0,
				    INT64_MAX, &v)) == 0)
					e->account = (uint64_t)v;
				break;
			case 3:
				if ((r = qs_number(line, keys[k], 0,
				    INT64_MAX, &v)) == 0)
					e->size = (uint64_t)v;
				break;
			case 4:
				if ((r = qs_number(line, keys[k], 0, 2,
				    &v)) == 0)
					e->ret = (int)v;
				break;
			case 5:
			case 6:
				if ((r = qs_number(line, keys[k], 0, 1,
				    &v)) == 0)
					*(k == 5 ? &e->body8 : &e->smtputf8) =
					    (int)v;
				break;
			case 7:
				if (strcmp(line, "envid") == 0) {
					e->envid[0] = '\0';
					r = 0;
				} else
					r = qs_field(line, keys[k], e->envid,
					    sizeof(e->envid));
				break;
			}
			if (r == -1)
				goto bad;
			k++;
			continue;
		}
		if (strncmp(line, "rcpt ", 5) != 0 && e->nrcpts > 0) {
			if (qs_schedule(line, e, &sched) == -1)
				goto bad;
			continue;
		}
		/* rcpt ADDR \t NOTIFY \t ORCPT */
		if (sched > 0 || strncmp(line, "rcpt ", 5) != 0 ||
		    e->nrcpts == QUEUE_RCPTS_MAX ||
		    (t1 = strchr(line + 5, '\t')) == NULL ||
		    (t2 = strchr(t1 + 1, '\t')) == NULL)
			goto bad;
		*t1 = *t2 = '\0';
		/* an optional fourth field: "tls-required" */
		if ((t3 = strchr(t2 + 1, '\t')) != NULL) {
			*t3 = '\0';
			if (strcmp(t3 + 1, "tls-required") != 0)
				goto bad;
		}
		if (e->nrcpts % 16 == 0)
			e->rcpts = xreallocarray(e->rcpts, e->nrcpts + 16,
			    sizeof(*e->rcpts));
		memset(&e->rcpts[e->nrcpts], 0, sizeof(e->rcpts[0]));
		if (line[5] == '\0' || !qs_clean(line + 5, QUEUE_ADDR_MAX) ||
		    !qs_clean(t2 + 1, QUEUE_ORCPT_MAX))
			goto bad;
		strlcpy(e->rcpts[e->nrcpts].addr, line + 5,
		    sizeof(e->rcpts[0].addr));
		e->rcpts[e->nrcpts].notify = (unsigned int)strtonum(t1 + 1, 0,
		    15, &errstr);
		if (errstr != NULL)
			goto bad;
		strlcpy(e->rcpts[e->nrcpts].orcpt, t2 + 1,
		    sizeof(e->rcpts[0].orcpt));
		e->rcpts[e->nrcpts].tls_required = t3 != NULL;
		e->nrcpts++;
	}
	if (k != sizeof(keys) / sizeof(keys[0]) || e->nrcpts == 0 ||
	    (sched > 0 && sched < 4))
		goto bad;
	free(copy);
	return 0;
bad:
	snprintf(err, errlen, "envelope: malformed line %zu", n + 1);
	free(copy);
	queue_env_free(e);
	errno = EBADMSG;
	return -1;
}

/* Write data to spool/NAME durably: temporary, fsync, rename, fsync dir. */
static int
qs_write(int dfd, const char *name, const void *data, size_t len, char *err,
    size_t errlen)
{
	char		 tmp[64];
	unsigned char	 r[8];
	const char	*p = data;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, saved;

	randombytes_buf(r, sizeof(r));
	snprintf(tmp, sizeof(tmp), ".tmp-%02x%02x%02x%02x%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto fail;
	while (off < len) {
		if ((n = write(fd, p + off, len - off)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) == -1 || fsync(dfd) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlinkat(dfd, tmp, 0);
	snprintf(err, errlen, "%s: %s", name, strerror(saved));
	errno = saved;
	return -1;
}

int
queue_store_put(int spool_fd, const unsigned char pk[QUEUE_KEY_LEN],
    int msg_fd, struct queue_env *env, char *err, size_t errlen)
{
	return queue_store_put_info(spool_fd, pk, msg_fd, env, NULL, 0, err,
	    errlen);
}

int
queue_store_put_info(int spool_fd, const unsigned char pk[QUEUE_KEY_LEN],
    int msg_fd, struct queue_env *env, const void *info, size_t infolen,
    char *err, size_t errlen)
{
	struct blob_meta	 meta;
	unsigned char		*sealed = NULL;
	char			 name[STORE_NAME_MAX], envname[64], *text = NULL;
	char			 infoname[64];
	size_t			 len;
	int			 saved, ret = -1;

	memset(&meta, 0, sizeof(meta));
	meta.delivered = (uint64_t)time(NULL);
	strlcpy(meta.sender, env->from, sizeof(meta.sender));
	strlcpy(meta.rcpt, env->nrcpts > 0 ? env->rcpts[0].addr : "",
	    sizeof(meta.rcpt));
	if (store_deliver(spool_fd, pk, msg_fd, env->size, &meta, name, err,
	    errlen) == -1)
		return -1;
	strlcpy(env->id, name, sizeof(env->id));
	env->created = (int64_t)meta.delivered;
	if (queue_env_encode(env, &text, &len) == -1) {
		snprintf(err, errlen, "envelope: %s", strerror(errno));
		goto fail;
	}
	sealed = xmalloc(len + crypto_box_SEALBYTES);
	if (crypto_box_seal(sealed, (unsigned char *)text, len, pk) != 0) {
		errno = EIO;
		snprintf(err, errlen, "envelope: cannot seal");
		goto fail;
	}
	snprintf(infoname, sizeof(infoname), "%s.info", name);
	if (info != NULL && qs_write(spool_fd, infoname, info, infolen, err,
	    errlen) == -1)
		goto fail;
	snprintf(envname, sizeof(envname), "%s.env", name);
	if (qs_write(spool_fd, envname, sealed, len + crypto_box_SEALBYTES,
	    err, errlen) == -1)
		goto fail;
	ret = 0;
	goto done;
fail:
	/* no envelope: the body is not queued; do not leave it behind */
	saved = errno;
	if (info != NULL)
		(void)unlinkat(spool_fd, infoname, 0);
	(void)unlinkat(spool_fd, name, 0);
	errno = saved;
done:
	if (text != NULL) {
		sodium_memzero(text, len);
		free(text);
	}
	free(sealed);
	return ret;
}

int
queue_store_update(int spool_fd, const unsigned char pk[QUEUE_KEY_LEN],
    const struct queue_env *env, char *err, size_t errlen)
{
	unsigned char	*sealed;
	char		 envname[64], *text;
	size_t		 len;
	int		 r;

	if (queue_env_encode(env, &text, &len) == -1) {
		snprintf(err, errlen, "envelope: %s", strerror(errno));
		return -1;
	}
	sealed = xmalloc(len + crypto_box_SEALBYTES);
	r = crypto_box_seal(sealed, (unsigned char *)text, len, pk);
	sodium_memzero(text, len);
	free(text);
	if (r != 0) {
		free(sealed);
		snprintf(err, errlen, "envelope: cannot seal");
		errno = EIO;
		return -1;
	}
	snprintf(envname, sizeof(envname), "%.*s.env", QUEUE_ID_LEN, env->id);
	r = qs_write(spool_fd, envname, sealed, len + crypto_box_SEALBYTES,
	    err, errlen);
	free(sealed);
	return r;
}

int
queue_store_remove(int spool_fd, const char *id)
{
	char	name[64];

	if (strlen(id) != QUEUE_ID_LEN) {
		errno = EINVAL;
		return -1;
	}
	snprintf(name, sizeof(name), "%s.env", id);
	if (unlinkat(spool_fd, name, 0) == -1 && errno != ENOENT)
		return -1;
	if (fsync(spool_fd) == -1)
		return -1;
	(void)unlinkat(spool_fd, id, 0);
	snprintf(name, sizeof(name), "%s.info", id);
	(void)unlinkat(spool_fd, name, 0);
	(void)fsync(spool_fd);
	return 0;
}

/* Is name "HEX32.env"? */
static bool
qs_env_name(const char *name)
{
	size_t	i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return strcmp(name + QUEUE_ID_LEN, ".env") == 0;
}

static int
qs_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
queue_store_ids(int spool_fd, char (**ids_r)[QUEUE_ID_LEN + 1], size_t *n_r)
{
	char		(*ids)[QUEUE_ID_LEN + 1] = NULL;
	struct dirent	*de;
	size_t		 n = 0;
	DIR		*d;
	int		 fd;

	*ids_r = NULL;
	*n_r = 0;
	if ((fd = openat(spool_fd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!qs_env_name(de->d_name))
			continue;
		if (n % 64 == 0)
			ids = xreallocarray(ids, n + 64, sizeof(*ids));
		memcpy(ids[n], de->d_name, QUEUE_ID_LEN);
		ids[n][QUEUE_ID_LEN] = '\0';
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), qs_cmp);
	*ids_r = ids;
	*n_r = n;
	return 0;
}

int
queue_store_get(int spool_fd, const unsigned char *pk,
    const unsigned char *sk, const char *id, struct queue_env *env,
    char *err, size_t errlen)
{
	return queue_store_get_in(spool_fd, "queue", pk, sk, id, env, err,
	    errlen);
}

int
queue_store_get_in(int spool_fd, const char *where, const unsigned char *pk,
    const unsigned char *sk, const char *id, struct queue_env *env,
    char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*sealed = NULL, *plain = NULL;
	char		 name[64];
	size_t		 len;
	ssize_t		 n;
	int		 fd = -1, ret = -1;

	memset(env, 0, sizeof(*env));
	snprintf(name, sizeof(name), "%.*s.env", QUEUE_ID_LEN, id);
	if (strlen(id) != QUEUE_ID_LEN || !qs_env_name(name)) {
		snprintf(err, errlen, "%s: not a %s id", id, where);
		errno = ENOENT;
		return -1;
	}
	if ((fd = openat(spool_fd, name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s: no such message in the %s",
			    id, where);
		else
			snprintf(err, errlen, "%s: %s", id, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size <= crypto_box_SEALBYTES ||
	    st.st_size > QUEUE_ENV_MAX + crypto_box_SEALBYTES) {
		snprintf(err, errlen, "%s: malformed envelope file", id);
		errno = EBADMSG;
		goto done;
	}
	len = (size_t)st.st_size;
	sealed = xmalloc(len);
	if ((n = pread(fd, sealed, len, 0)) != (ssize_t)len) {
		snprintf(err, errlen, "%s: short read", id);
		errno = EIO;
		goto done;
	}
	plain = sodium_malloc(len - crypto_box_SEALBYTES + 1);
	if (plain == NULL || crypto_box_seal_open(plain, sealed, len, pk,
	    sk) != 0) {
		snprintf(err, errlen, "%s: the envelope does not open under "
		    "the %s key", id, where);
		errno = EBADMSG;
		goto done;
	}
	if (queue_env_decode((char *)plain, len - crypto_box_SEALBYTES, env,
	    err, errlen) == -1)
		goto done;
	strlcpy(env->id, id, sizeof(env->id));
	ret = 0;
done:
	if (plain != NULL)
		sodium_free(plain);
	free(sealed);
	if (fd != -1)
		close(fd);
	return ret;
}
