/* SPDX-License-Identifier: ISC */
/*
 * policy_load.c - load a policy: the *.policy files of a folder in byte
 * order of their names, or buffers (tests, the fuzzer), parsed as one
 * set; free it; count it.
 *
 * Process:  the master and sealpostctl (check), the filter service
 *           (before its jail).
 * Trust:    the folder is the administrator's.  Only regular files are
 *           read (opened O_NONBLOCK, so a FIFO cannot hang the master),
 *           at most POLICY_FILE_MAX + 1 bytes of each, so that the parser
 *           can name where the limit is crossed.
 * Limits:   POLICY_MAX_FILES, POLICY_FILE_MAX.
 * See also: policy_parse.c, policy.h
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "buf.h"
#include "policy_int.h"
#include "banned.h"

static char *
esc_dup(const char *name)
{
	struct policy_escbuf	e;

	if (name == NULL)
		name = "(unnamed)";
	return xstrdup(policy_esc_n(&e, name, strlen(name), ESC_NAME_SHOW));
}

static struct policy *
policy_new(void)
{
	struct policy	*p;

	p = xcalloc(1, sizeof(*p));
	p->files = xcalloc(POLICY_MAX_FILES, sizeof(*p->files));
	return p;
}

/* Parse one more file into p. */
static int
policy_add(struct policy *p, struct policy_parser *ps, const char *name,
    const void *data, size_t len)
{
	if (p->nfiles == POLICY_MAX_FILES) {
		struct policy_escbuf	e;

		if (ps->errlen > 0)
			(void)snprintf(ps->err, ps->errlen, "%s: more than %d "
			    "policy files", policy_esc_n(&e,
			    name != NULL ? name : "(unnamed)",
			    name != NULL ? strlen(name) : 9, ESC_NAME_SHOW),
			    POLICY_MAX_FILES);
		return -1;
	}
	ps->p = p;
	ps->file = p->nfiles;
	p->files[p->nfiles++] = esc_dup(name);
	ps->fname = p->files[ps->file];
	return policy_parse_file(ps, len > 0 ? data : "", len);
}

/* Every file parsed: the application order, by (specificity, index). */
static void
policy_finish(struct policy *p)
{
	unsigned int	spec;
	size_t		i, n = 0;

	p->order = xcalloc(p->nrules > 0 ? p->nrules : 1, sizeof(*p->order));
	for (spec = 0; spec <= 2 * 3 + 2; spec++)
		for (i = 0; i < p->nrules; i++)
			if (p->rules[i].specificity == spec)
				p->order[n++] = i;
}

struct policy *
policy_load_files(const struct policy_file *files, size_t n, char *err,
    size_t errlen)
{
	struct policy		*p;
	struct policy_parser	 ps;
	size_t			 i;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.errlen = err != NULL ? errlen : 0;
	p = policy_new();
	for (i = 0; i < n; i++)
		if (policy_add(p, &ps, files[i].name, files[i].data,
		    files[i].len) == -1) {
			policy_free(p);
			return NULL;
		}
	policy_finish(p);
	return p;
}

struct policy *
policy_load_buf(const char *name, const void *buf, size_t len, char *err,
    size_t errlen)
{
	struct policy_file	f;

	f.name = name;
	f.data = buf;
	f.len = len;
	return policy_load_files(&f, 1, err, errlen);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read one file of the folder (at most POLICY_FILE_MAX + 1 bytes). */
static char *
read_file(int dfd, const char *name, size_t *len_r, char *err,
    size_t errlen)
{
	struct stat		 st;
	struct policy_escbuf	 e;
	char			*buf;
	size_t			 len = 0;
	ssize_t			 r;
	int			 fd;

	policy_esc_n(&e, name, strlen(name), ESC_NAME_SHOW);
	/* O_NONBLOCK: a FIFO must not hang the load */
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", e.s, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)snprintf(err, errlen, "%s: not a regular file", e.s);
		close(fd);
		return NULL;
	}
	buf = xmalloc(POLICY_FILE_MAX + 1);
	while (len < POLICY_FILE_MAX + 1) {
		r = read(fd, buf + len, POLICY_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			(void)snprintf(err, errlen, "%s: read: %s", e.s,
			    strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	*len_r = len;
	return buf;
}

/*
 * The image: for each file, its name, a NUL, its length as 8 bytes
 * (little-endian) and its bytes.  Made by the master (which may read the
 * folder), loaded by the filter (which may not).
 */
int
policy_image_read(const char *dir, int flags, struct buf **img_r, char *err,
    size_t errlen)
{
	struct dirent		*de;
	struct policy_escbuf	 e;
	struct buf		*img = NULL;
	DIR			*d;
	char			*names[POLICY_MAX_FILES], *buf;
	unsigned char		 lenb[8];
	size_t			 n = 0, i, j, len, nlen;
	int			 dfd;

	*img_r = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	else {
		err = NULL;
		errlen = 0;
	}
	policy_esc_n(&e, dir, strlen(dir), ESC_NAME_SHOW);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && (flags & POLICY_DIR_OPTIONAL)) {
			*img_r = buf_new(POLICY_IMAGE_MAX);	/* no files */
			return 0;
		}
		(void)snprintf(err, errlen, "%s: %s", e.s, strerror(errno));
		return -1;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", e.s, strerror(errno));
		close(dfd);
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				(void)snprintf(err, errlen, "%s: %s", e.s,
				    strerror(errno));
				goto fail;
			}
			break;
		}
		nlen = strlen(de->d_name);
		if (de->d_name[0] == '.' || nlen <= 7 ||
		    strcmp(de->d_name + nlen - 7, ".policy") != 0)
			continue;
		if (n == POLICY_MAX_FILES) {
			(void)snprintf(err, errlen, "%s: more than %d policy "
			    "files", e.s, POLICY_MAX_FILES);
			goto fail;
		}
		names[n++] = xstrdup(de->d_name);
	}
	qsort(names, n, sizeof(names[0]), name_cmp);
	img = buf_new(POLICY_IMAGE_MAX);
	for (i = 0; i < n; i++) {
		if ((buf = read_file(dirfd(d), names[i], &len, err,
		    errlen)) == NULL)
			goto fail;
		for (j = 0; j < 8; j++)
			lenb[j] = (unsigned char)((uint64_t)len >> (8 * j));
		if (buf_add(img, names[i], strlen(names[i]) + 1) == -1 ||
		    buf_add(img, lenb, sizeof(lenb)) == -1 ||
		    buf_add(img, buf, len) == -1) {
			free(buf);
			(void)snprintf(err, errlen, "%s: the policy files "
			    "are too large", e.s);
			goto fail;
		}
		free(buf);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	closedir(d);
	*img_r = img;
	return 0;
fail:
	buf_free(&img);
	for (i = 0; i < n; i++)
		free(names[i]);
	closedir(d);
	return -1;
}

struct policy *
policy_image_load(const void *img, size_t imglen, char *err, size_t errlen)
{
	struct policy_file	 files[POLICY_MAX_FILES];
	const unsigned char	*p = img, *end = p + imglen, *nul;
	uint64_t		 len;
	size_t			 n = 0, j;

	while (p < end) {
		if (n == POLICY_MAX_FILES ||
		    (nul = memchr(p, '\0', (size_t)(end - p))) == NULL ||
		    nul == p || (size_t)(end - nul - 1) < 8)
			goto bad;
		files[n].name = (const char *)p;
		for (len = 0, j = 0; j < 8; j++)
			len |= (uint64_t)nul[1 + j] << (8 * j);
		p = nul + 9;
		if (len > (uint64_t)(end - p))
			goto bad;
		files[n].data = p;
		files[n].len = (size_t)len;
		p += len;
		n++;
	}
	return policy_load_files(files, n, err, errlen);
bad:
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "malformed policy image");
	return NULL;
}

struct policy *
policy_load_dir(const char *dir, char *err, size_t errlen)
{
	struct policy	*p;
	struct buf	*img;

	if (policy_image_read(dir, 0, &img, err, errlen) == -1)
		return NULL;
	p = policy_image_load(img->data, img->len, err, errlen);
	buf_free(&img);
	return p;
}

void
policy_free(struct policy *p)
{
	struct policy_rule	*r;
	size_t			 i, j, k;

	if (p == NULL)
		return;
	for (i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		free(r->name);
		for (k = 0; k < 2; k++) {
			for (j = 0; j < r->npats[k]; j++)
				free(r->pats[k][j].s);
			free(r->pats[k]);
		}
	}
	free(p->rules);
	free(p->order);
	free(p);
}

void
policy_stats(const struct policy *p, struct policy_stats *st)
{
	st->files = p->nfiles;
	st->rules = p->nrules;
	st->defaults = p->has_defaults;
}
