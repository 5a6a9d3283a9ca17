/* SPDX-License-Identifier: ISC */
/*
 * signer.c - the signer service: it alone holds the DKIM private keys
 * and, asked by the queue, returns DKIM-Signature fields for an outbound
 * message: one per key of the From field's domain (an RSA and an Ed25519
 * key make two signatures, as RFC 8463 suggests).
 *
 * Process:  signer (user _sp_sign, empty chroot, sandbox profile
 *           ROLE_SIGNER: no network, no files while it runs).  The keys
 *           are read as root before the jail from DATA_DIR/keys/dkim/
 *           DOMAIN/SELECTOR.pem (signer_preload); a reload restarts it.
 * Trust:    its one peer is the queue (a session of kind SP_KIND_QUEUE;
 *           anything else is dropped).  The message is hostile: it is
 *           parsed only by dkim_canon.c, bounded and fuzzed.  The reply
 *           never holds key material; logs hold domains and selectors.
 * Limits:   DKIM_KEYS_MAX keys, DKIM_KEYFILE_MAX bytes a key file,
 *           SIGNER_MSG_MAX bytes a message.
 * See also: dkim.h, queue/queue_sign.c, sealpostctl/ctl_dkim.c,
 *           docs/dkim.md, docs/design.md "DKIM signing (issue 15)".
 */
#include "config.h"

#include <sys/mman.h>
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

#include "buf.h"
#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "service.h"
#include "dkim.h"
#include "banned.h"

/* the queue's QUEUE_MSG_MAX */
#define SIGNER_MSG_MAX	((size_t)1 << 31)
#define SIGNER_WHY_MAX	200

static struct dkim_key	*keys[DKIM_KEYS_MAX];
static size_t		 nkeys;

/* A key file's bytes into sodium_malloc memory: root reads it here. */
static unsigned char *
key_read(int dfd, const char *name, size_t *len_r, char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*p;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || (size_t)st.st_size > DKIM_KEYFILE_MAX) {
		snprintf(err, errlen, "not a regular file of 1..%d bytes",
		    DKIM_KEYFILE_MAX);
		close(fd);
		return NULL;
	}
	/* SECURITY: a key others may write could be an attacker's */
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		snprintf(err, errlen, "not owned by root, or writable by "
		    "others");
		close(fd);
		return NULL;
	}
	if ((p = sodium_malloc((size_t)st.st_size)) == NULL)
		fatal("signer: sodium_malloc");
	while (off < (size_t)st.st_size && (n = read(fd, p + off,
	    (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	if (off != (size_t)st.st_size) {
		sodium_free(p);
		snprintf(err, errlen, "short read");
		return NULL;
	}
	*len_r = off;
	return p;
}

/* Every DOMAIN/SELECTOR.pem under dir (SELECTOR.pem.off: not in use). */
static void
keys_load(const char *dir)
{
	DIR		*top, *sub;
	struct dirent	*d, *e;
	unsigned char	*pem;
	char		 sel[DKIM_SELECTOR_MAX + 8], err[256];
	size_t		 len, n;
	int		 tfd, dfd;

	if ((top = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			log_warn("signer: %s", dir);
		return;
	}
	tfd = dirfd(top);
	while ((d = readdir(top)) != NULL) {
		if (d->d_name[0] == '.' || !dkim_domain_ok(d->d_name))
			continue;
		if ((dfd = openat(tfd, d->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
		    (sub = fdopendir(dfd)) == NULL) {
			if (dfd != -1)
				close(dfd);
			continue;
		}
		while ((e = readdir(sub)) != NULL) {
			n = strlen(e->d_name);
			if (n <= 4 || strcmp(e->d_name + n - 4, ".pem") != 0 ||
			    n - 4 >= sizeof(sel))
				continue;
			memcpy(sel, e->d_name, n - 4);
			sel[n - 4] = '\0';
			if (!dkim_selector_ok(sel)) {
				log_warnx("signer: %s/%s: not a selector "
				    "name, ignored", d->d_name, e->d_name);
				continue;
			}
			if (nkeys == DKIM_KEYS_MAX) {
				log_warnx("signer: more than %d keys: %s/%s "
				    "ignored", DKIM_KEYS_MAX, d->d_name,
				    e->d_name);
				continue;
			}
			if ((pem = key_read(dirfd(sub), e->d_name, &len, err,
			    sizeof(err))) == NULL) {
				log_warnx("signer: key %s/%s: %s", d->d_name,
				    e->d_name, err);
				continue;
			}
			keys[nkeys] = dkim_key_from_pem(pem, len, d->d_name,
			    sel, err, sizeof(err));
			sodium_free(pem);	/* wipes the PEM text */
			if (keys[nkeys] == NULL) {
				log_warnx("signer: key %s/%s: %s", d->d_name,
				    e->d_name, err);
				continue;
			}
			log_info("signer: key domain=%s selector=%s alg=%s",
			    d->d_name, sel, dkim_alg_keytype(
			    dkim_key_alg(keys[nkeys])));
			nkeys++;
		}
		closedir(sub);
	}
	closedir(top);
}

/* Before the jail, as root. */
static void
signer_preload(const struct child_args *a)
{
	char	dir[1024];
	int	n;

	if (a->data_dir == NULL)
		fatalx("signer: -D DATA_DIR is required");
	n = snprintf(dir, sizeof(dir), "%s/keys/dkim", a->data_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		fatalx("signer: data-dir too long");
	keys_load(dir);
	log_info("signer: %zu key%s", nkeys, nkeys == 1 ? "" : "s");
}

static void
sign_reply(struct service_session *ss, uint32_t id, uint32_t result,
    const char *domain, const char *text)
{
	struct ipc_out	*out = ipc_out_new(IMSG_SIGNER_SIGN, id, -1);

	ipc_add_u32(out, result);
	ipc_add_str(out, domain);
	ipc_add_str(out, text);
	(void)ipc_chan_send(ss->chan, out);
}

/* A byte >= 0x80 or a NUL: 8-bit content (mta_7bit_needed's rule). */
static int
has_8bit(const unsigned char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] >= 0x80 || p[i] == 0)
			return 1;
	return 0;
}

static int
signer_sign(struct service_session *ss, struct ipc_msg *msg)
{
	struct dkim_msg	 m;
	struct buf	*out;
	const char	*why;
	char		 dom[DKIM_DOMAIN_MAX + 1], err[SIGNER_WHY_MAX];
	uint32_t	 flags, result = SIGNER_NONE;
	size_t		 len, i, n = 0;
	void		*map = NULL;

	if (ss->kind != SP_KIND_QUEUE || msg->fd == -1 ||
	    ipc_get_u32(msg, &flags) == -1 || ipc_end(msg) == -1 ||
	    memfd_check_sealed(msg->fd, SIGNER_MSG_MAX, &len) == -1)
		return -1;
	dom[0] = '\0';
	/* no key at all: the queue stops asking (until it links anew) */
	if (nkeys == 0) {
		sign_reply(ss, msg->hdr.id, SIGNER_NO_KEYS, "", "no keys");
		ipc_msg_clear(msg);
		return 0;
	}
	out = buf_new(DKIM_SIG_MAX);
	if (len == 0 || (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE,
	    msg->fd, 0)) == MAP_FAILED) {
		map = NULL;
		snprintf(err, sizeof(err), "%s", len == 0 ? "empty message" :
		    "mmap failed");
		result = len == 0 ? SIGNER_NONE : SIGNER_TEMP;
		goto reply;
	}
	if (dkim_msg_parse(&m, map, len, &why) == -1) {
		snprintf(err, sizeof(err), "%s", why);
		goto reply;
	}
	if (dkim_from_domain(&m, dom, sizeof(dom)) == -1) {
		snprintf(err, sizeof(err), "no single From address");
		goto done;
	}
	for (i = 0; i < nkeys; i++)
		if (strcmp(dkim_key_domain(keys[i]), dom) == 0)
			n++;
	if (n == 0) {
		snprintf(err, sizeof(err), "no key for the domain");
		goto done;
	}
	/* a later 8-bit to 7-bit conversion would break the signature */
	if (!(flags & SIGNER_F_8BIT_OK) && has_8bit(map, len)) {
		result = SIGNER_8BIT;
		snprintf(err, sizeof(err), "8-bit content");
		goto done;
	}
	for (i = 0; i < nkeys; i++) {
		if (strcmp(dkim_key_domain(keys[i]), dom) != 0)
			continue;
		if (dkim_sign(keys[i], &m, (int64_t)time(NULL), out, err,
		    sizeof(err)) == -1) {
			result = SIGNER_TEMP;
			goto done;
		}
	}
	result = SIGNER_SIGNED;
	err[0] = '\0';
	log_info("signer event=signed domain=%s signatures=%zu size=%zu",
	    dom, n, len);
done:
	dkim_msg_free(&m);
reply:
	if (result != SIGNER_SIGNED && result != SIGNER_NONE)
		log_info("signer event=%s domain=%s reason=\"%s\"",
		    result == SIGNER_8BIT ? "8bit" : "fail",
		    dom[0] != '\0' ? dom : "-", err);
	sign_reply(ss, msg->hdr.id, result, dom,
	    result == SIGNER_SIGNED ? buf_cstr(out) : err);
	if (map != NULL)
		munmap(map, len);
	buf_free(&out);
	ipc_msg_clear(msg);	/* closes the fd */
	return 0;
}

static int
signer_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	if (msg->hdr.type == IMSG_SIGNER_SIGN)
		return signer_sign(ss, msg);
	return -1;
}

static const struct service_ops signer_ops = {
	.name = "signer",
	.role = ROLE_SIGNER,
	.preload = signer_preload,
	.session_msg = signer_session_msg,
};

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	service_main(argc, argv, &signer_ops);
}
