/* SPDX-License-Identifier: ISC */
/*
 * quarantine.c - the quarantine folder (quarantine.h): the info file's
 * text, and putting, reading and removing entries on top of the queue's
 * spool format (queue_store.c).
 *
 * Process:  the deliver service (put), sealpostctl as root (info,
 *           remove; queue_store_get_in for the envelope).
 * Trust:    deliver takes its fields from an smtp session and checks
 *           them here before writing; sealpostctl reads files that a
 *           compromised deliver could have written: bounded, every line
 *           and field checked, the id checked before it names a file.
 * Limits:   QUAR_INFO_MAX, QUAR_QID_MAX, QUAR_REASON_MAX.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quarantine.h"
#include "banned.h"

#define QUAR_MAGIC	"sealpost-quarantine 1"

int
quar_qid_ok(const char *s)
{
	size_t	i, n = strlen(s);

	/* 16 lower-case hex digits, ".", 1 to 10 decimal digits */
	if (n < 18 || n > 27 || s[16] != '.')
		return 0;
	for (i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	for (i = 17; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
quar_reason_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > QUAR_REASON_MAX || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    strchr(" .:/_-", s[i]) != NULL))
			return 0;
	return 1;
}

int
quar_info_encode(const struct quar_info *q, char *buf, size_t len)
{
	int	n;

	if (!quar_qid_ok(q->qid) || !quar_reason_ok(q->reason) ||
	    q->received < 0)
		return -1;
	n = snprintf(buf, len, QUAR_MAGIC "\nqueue-id %s\nreceived %" PRId64
	    "\nsize %" PRIu64 "\naccount %" PRIu64 "\nrecipients %" PRIu32
	    "\nreason %s\n", q->qid, q->received, q->size, q->account,
	    q->nrcpts, q->reason);
	if (n < 0 || (size_t)n >= len || (size_t)n > QUAR_INFO_MAX)
		return -1;
	return n;
}

/* A decimal number without sign or leading zeros, at most max. */
static int
quar_number(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t	x = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || x > (max - (uint64_t)(*s - '0')) /
		    10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

int
quar_info_decode(const char *text, size_t len, struct quar_info *q,
    char *err, size_t errlen)
{
	static const char *const keys[] = { "queue-id", "received", "size",
	    "account", "recipients", "reason" };
	char		 copy[QUAR_INFO_MAX + 1], *line, *next, *val;
	uint64_t	 v;
	size_t		 i, klen;

	memset(q, 0, sizeof(*q));
	if (len == 0 || len > QUAR_INFO_MAX || memchr(text, '\0', len) !=
	    NULL || text[len - 1] != '\n') {
		snprintf(err, errlen, "info: malformed");
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	line = copy;
	next = strchr(line, '\n');
	*next++ = '\0';
	if (strcmp(line, QUAR_MAGIC) != 0) {
		snprintf(err, errlen, "info: not a quarantine info file");
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		line = next;
		if (*line == '\0' || (next = strchr(line, '\n')) == NULL)
			goto bad;
		*next++ = '\0';
		klen = strlen(keys[i]);
		if (strncmp(line, keys[i], klen) != 0 || line[klen] != ' ')
			goto bad;
		val = line + klen + 1;
		switch (i) {
		case 0:
			if (!quar_qid_ok(val))
				goto bad;
			strlcpy(q->qid, val, sizeof(q->qid));
			break;
		case 1:
			if (quar_number(val, INT64_MAX, &v) == -1)
				goto bad;
			q->received = (int64_t)v;
			break;
		case 2:
			if (quar_number(val, UINT64_MAX, &q->size) == -1)
				goto bad;
			break;
		case 3:
			if (quar_number(val, UINT64_MAX, &q->account) == -1)
				goto bad;
			break;
		case 4:
			if (quar_number(val, QUEUE_RCPTS_MAX, &v) == -1)
				goto bad;
			q->nrcpts = (uint32_t)v;
			break;
		case 5:
			if (!quar_reason_ok(val))
				goto bad;
			strlcpy(q->reason, val, sizeof(q->reason));
			break;
		}
	}
	if (*next != '\0')
		goto bad;
	return 0;
bad:
	memset(q, 0, sizeof(*q));
	snprintf(err, errlen, "info: malformed line %zu", i + 2);
	return -1;
}

int
quarantine_put(int dir_fd, const unsigned char pk[QUEUE_KEY_LEN],
    int msg_fd, struct queue_env *env, const struct quar_info *info,
    char *err, size_t errlen)
{
	char	text[QUAR_INFO_MAX + 1];
	int	n;

	if ((n = quar_info_encode(info, text, sizeof(text))) == -1) {
		snprintf(err, errlen, "info: a field is out of bounds");
		errno = EINVAL;
		return -1;
	}
	return queue_store_put_info(dir_fd, pk, msg_fd, env, text, (size_t)n,
	    err, errlen);
}

/* Is id 32 lower-case hex digits (a name we may build a path from)? */
static int
quar_id_ok(const char *id)
{
	size_t	i;

	if (strlen(id) != QUEUE_ID_LEN)
		return 0;
	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

int
quarantine_info(int dir_fd, const char *id, struct quar_info *q, char *err,
    size_t errlen)
{
	struct stat	st;
	char		name[64], text[QUAR_INFO_MAX];
	ssize_t		n;
	int		fd;

	if (!quar_id_ok(id)) {
		snprintf(err, errlen, "not a quarantine id");
		errno = EINVAL;
		return -1;
	}
	snprintf(name, sizeof(name), "%s.info", id);
	if ((fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "info: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size >
	    QUAR_INFO_MAX) {
		close(fd);
		snprintf(err, errlen, "info: malformed");
		errno = EBADMSG;
		return -1;
	}
	n = pread(fd, text, sizeof(text), 0);
	close(fd);
	if (n <= 0 || quar_info_decode(text, (size_t)n, q, err, errlen) ==
	    -1) {
		if (n <= 0)
			snprintf(err, errlen, "info: malformed");
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

int
quarantine_remove(int dir_fd, const char *id, char *err, size_t errlen)
{
	char	name[64];

	if (!quar_id_ok(id)) {
		snprintf(err, errlen, "%s: not a quarantine id", id);
		errno = ENOENT;
		return -1;
	}
	snprintf(name, sizeof(name), "%s.env", id);
	if (unlinkat(dir_fd, name, 0) == -1) {
		snprintf(err, errlen, "%s: %s", id, errno == ENOENT ?
		    "no such message in the quarantine" : strerror(errno));
		return -1;
	}
	snprintf(name, sizeof(name), "%s.info", id);
	if (unlinkat(dir_fd, name, 0) == -1 && errno != ENOENT)
		goto fail;
	if (unlinkat(dir_fd, id, 0) == -1 && errno != ENOENT)
		goto fail;
	if (fsync(dir_fd) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", id, strerror(errno));
	return -1;
}
