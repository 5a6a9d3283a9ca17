/* SPDX-License-Identifier: ISC */
/*
 * pgp_disc.c - the index of learnt keys (pgp_disc.h): parse, format,
 * load and save it durably, find and change entries.
 *
 * Process:  pgp (jailed, the index is in its own /discovered); the unit
 *           tests.
 * Trust:    the file is ours, but each line is checked field by field
 *           and a bad one skipped: a disk error or a crash must not make
 *           a key count for an address it was not learnt for.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "memfd.h"
#include "pgp_keys.h"
#include "pgp_disc.h"
#include "banned.h"

#define DISC_FILE_MAX	((size_t)16 * 1024 * 1024)

static const char *const source_names[] = { "wkd", "autocrypt" };
static const char *const state_names[] = { "key", "none", "failed",
    "pending" };

const char *
disc_source_name(enum disc_source s)
{
	return (unsigned int)s < 2 ? source_names[s] : "?";
}

const char *
disc_state_name(enum disc_state s)
{
	return (unsigned int)s < 4 ? state_names[s] : "?";
}

static int
disc_word(const char *const *names, size_t n, const char *w, size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], w, len) == 0)
			return (int)i;
	return -1;
}

/* a decimal in [0, 2^62], the whole of w */
static int
disc_num(const char *w, size_t len, int64_t *v)
{
	int64_t	n = 0;
	size_t	i;

	if (len == 0 || len > 19)
		return -1;
	for (i = 0; i < len; i++) {
		if (w[i] < '0' || w[i] > '9')
			return -1;
		n = n * 10 + (w[i] - '0');
	}
	if (n > ((int64_t)1 << 62))
		return -1;
	*v = n;
	return 0;
}

/* One line (no LF): 0 into e, -1 it does not parse. */
static int
disc_line(const char *p, size_t len, struct disc_ent *e)
{
	const char	*w[6];
	size_t		 wl[6], i, nw = 0, start = 0;
	int		 v;

	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != ' ')
			continue;
		if (nw == 6 || i == start)
			return -1;
		w[nw] = p + start;
		wl[nw++] = i - start;
		start = i + 1;
	}
	if (nw != 6)
		return -1;
	memset(e, 0, sizeof(*e));
	if ((v = disc_word(source_names, 2, w[0], wl[0])) == -1)
		return -1;
	e->src = (enum disc_source)v;
	if ((v = disc_word(state_names, 4, w[1], wl[1])) == -1)
		return -1;
	e->state = (enum disc_state)v;
	if (wl[2] > PGP_ADDRESS_MAX)
		return -1;
	memcpy(e->addr, w[2], wl[2]);
	e->addr[wl[2]] = '\0';
	for (i = 0; i < wl[2]; i++)
		if (isupper((unsigned char)e->addr[i]))
			return -1;
	if (!pgp_address_ok(e->addr))
		return -1;
	if (wl[3] == 1 && w[3][0] == '-')
		e->fpr[0] = '\0';
	else if (wl[3] == PGP_FPR_LEN) {
		memcpy(e->fpr, w[3], PGP_FPR_LEN);
		e->fpr[PGP_FPR_LEN] = '\0';
		if (!pgp_fpr_ok(e->fpr))
			return -1;
	} else
		return -1;
	if (disc_num(w[4], wl[4], &e->seen) == -1 ||
	    disc_num(w[5], wl[5], &e->until) == -1)
		return -1;
	/* the combinations that mean something */
	switch (e->state) {
	case DISC_KEY:
	case DISC_PENDING:
		if (e->fpr[0] == '\0')
			return -1;
		break;
	case DISC_NONE:
		if (e->fpr[0] != '\0')
			return -1;
		break;
	case DISC_FAILED:
		break;
	}
	if (e->src == DISC_AUTOCRYPT && e->state != DISC_KEY &&
	    e->state != DISC_PENDING)
		return -1;
	if (e->src == DISC_WKD && e->state == DISC_PENDING)
		return -1;
	return 0;
}

void
disc_free(struct disc *d)
{
	free(d->ent);
	memset(d, 0, sizeof(*d));
}

int
disc_parse(struct disc *d, const char *text, size_t len, size_t *skipped)
{
	struct disc_ent	 e, *slot;
	const char	*p = text, *nl;
	size_t		 left = len, n;

	disc_free(d);
	*skipped = 0;
	while (left > 0) {
		nl = memchr(p, '\n', left);
		n = nl != NULL ? (size_t)(nl - p) : left;
		if (disc_line(p, n, &e) == -1 ||
		    disc_find(d, e.src, e.addr, e.state == DISC_PENDING) !=
		    NULL || (slot = disc_put(d, e.src, e.addr,
		    e.state == DISC_PENDING)) == NULL)
			(*skipped)++;
		else
			*slot = e;
		if (nl == NULL)
			break;
		left -= n + 1;
		p += n + 1;
	}
	return 0;
}

char *
disc_format(const struct disc *d, size_t *len_r)
{
	const struct disc_ent	*e;
	size_t			 i, cap, off = 0;
	char			*buf;
	int			 n;

	/* each line: at most 9+8+254+40+19+19+6 bytes */
	cap = d->n * 360 + 1;
	buf = xmalloc(cap);
	for (i = 0; i < d->n; i++) {
		e = &d->ent[i];
		n = snprintf(buf + off, cap - off, "%s %s %s %s %" PRId64
		    " %" PRId64 "\n", disc_source_name(e->src),
		    disc_state_name(e->state), e->addr, e->fpr[0] != '\0' ?
		    e->fpr : "-", e->seen, e->until);
		if (n < 0 || (size_t)n >= cap - off)
			abort();	/* cannot happen: cap is enough */
		off += (size_t)n;
	}
	buf[off] = '\0';
	*len_r = off;
	return buf;
}

int
disc_load(struct disc *d, int dirfd, size_t *skipped)
{
	struct stat	 st;
	char		*buf;
	size_t		 got;
	int		 fd, saved;

	*skipped = 0;
	disc_free(d);
	if ((fd = openat(dirfd, "index", O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > DISC_FILE_MAX) {
		saved = errno != 0 ? errno : EFBIG;
		close(fd);
		errno = saved;
		return -1;
	}
	got = (size_t)st.st_size;
	buf = xmalloc(got + 1);
	if (memfd_read(fd, buf, got) == -1) {
		saved = errno;
		close(fd);
		free(buf);
		errno = saved;
		return -1;
	}
	close(fd);
	disc_parse(d, buf, got, skipped);
	free(buf);
	return 0;
}

int
disc_save(const struct disc *d, int dirfd)
{
	char	*text;
	size_t	 len, off = 0;
	ssize_t	 w;
	int	 fd, saved;

	text = disc_format(d, &len);
	if ((fd = openat(dirfd, "index.tmp", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		goto fail;
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail_fd;
		off += (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail_fd;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, "index.tmp", dirfd, "index") == -1 ||
	    fsync(dirfd) == -1)
		goto fail;
	free(text);
	return 0;
fail_fd:
	saved = errno;
	close(fd);
	errno = saved;
fail:
	saved = errno;
	free(text);
	errno = saved;
	return -1;
}

struct disc_ent *
disc_find(struct disc *d, enum disc_source src, const char *address,
    int pending)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (d->ent[i].src == src &&
		    (d->ent[i].state == DISC_PENDING) == (pending != 0) &&
		    strcasecmp(d->ent[i].addr, address) == 0)
			return &d->ent[i];
	return NULL;
}

struct disc_ent *
disc_put(struct disc *d, enum disc_source src, const char *address,
    int pending)
{
	struct disc_ent	*e;
	size_t		 i, old = SIZE_MAX;

	if ((e = disc_find(d, src, address, pending)) != NULL)
		return e;
	if (strlen(address) > PGP_ADDRESS_MAX)
		return NULL;
	if (d->n == DISC_MAX) {
		for (i = 0; i < d->n; i++)
			if (d->ent[i].src == DISC_WKD && (old == SIZE_MAX ||
			    d->ent[i].seen < d->ent[old].seen))
				old = i;
		if (old == SIZE_MAX)
			return NULL;
		disc_del(d, &d->ent[old]);
	}
	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 64 : d->cap * 2;
		d->ent = xreallocarray(d->ent, d->cap, sizeof(*d->ent));
	}
	e = &d->ent[d->n++];
	memset(e, 0, sizeof(*e));
	e->src = src;
	e->state = pending ? DISC_PENDING : DISC_NONE;
	for (i = 0; address[i] != '\0'; i++)
		e->addr[i] = (char)tolower((unsigned char)address[i]);
	e->addr[i] = '\0';
	return e;
}

void
disc_del(struct disc *d, struct disc_ent *e)
{
	size_t	i = (size_t)(e - d->ent);

	if (i >= d->n)
		return;
	memmove(&d->ent[i], &d->ent[i + 1], (d->n - i - 1) *
	    sizeof(*d->ent));
	d->n--;
}

int
disc_refers(const struct disc *d, const char *fpr, const struct disc_ent *skip)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (&d->ent[i] != skip && d->ent[i].fpr[0] != '\0' &&
		    strcasecmp(d->ent[i].fpr, fpr) == 0)
			return 1;
	return 0;
}
