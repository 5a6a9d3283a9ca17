/* SPDX-License-Identifier: ISC */
/*
 * queue_sign.c - an outbound message made ready to send: asked the
 * signer for DKIM-Signature fields, made 7-bit first when the signer
 * has a key for it and it is 8-bit (so that no later conversion can
 * break the signature, and the mta never needs to convert it), and
 * the fields put on top.
 *
 *   queue --IMSG_SIGNER_SIGN (the message)--> signer
 *     <-- SIGNED + fields | NONE | 8BIT | TEMP
 *   8BIT: mta_7bit_convert here (GMime), then ask again with the copy
 *         (a header that cannot be made 7-bit: again with the original,
 *         SIGNER_F_8BIT_OK)
 *
 * Process:  queue.
 * Trust:    the signer is a service (a malformed reply is a bug: its
 *           channel is dropped as any service's); its fields are checked
 *           again (printable ASCII, CR LF, bounded) before they go on
 *           top of a message.  The message is an authenticated user's:
 *           GMime parses it here only when it must be made 7-bit.
 * Limits:   SIGN_TIMEOUT a request; DKIM_SIG_MAX bytes of fields.
 * See also: signer/signer.c, mta/mta_7bit.c, queue_sched.c.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "mta_7bit.h"
#include "queue.h"
#include "banned.h"

#define SIGN_TIMEOUT	30		/* seconds */
#define SIGN_FIELDS_MAX	(16 * 1024)	/* dkim.h's DKIM_SIG_MAX */

struct sreq {
	TAILQ_ENTRY(sreq)	 entry;
	uint32_t		 id;
	int			 fd;		/* the message */
	size_t			 size;
	int			 body8;		/* of fd */
	int			 converted;	/* fd is the 7-bit copy */
	int			 tried8;	/* SIGNER_8BIT came once */
	sign_cb			 done;
	void			*arg;
	struct event		*timer;
};
TAILQ_HEAD(sreq_list, sreq);

static struct sreq_list	 sreqs = TAILQ_HEAD_INITIALIZER(sreqs);
static uint32_t		 next_sreq = 1;
/* the signer answered SIGNER_NO_KEYS since it was linked */
static int			 signer_empty;

static void	sreq_timeout(evutil_socket_t, short, void *);

static void
sreq_end(struct sreq *r, int result, int fd, int body8)
{
	TAILQ_REMOVE(&sreqs, r, entry);
	event_free(r->timer);
	if (r->fd != -1 && r->fd != fd)
		close(r->fd);
	r->done(r->arg, result, fd, body8);
	free(r);
}

/* Ask (again) about r->fd; 0 sent, -1 no signer. */
static int
sreq_send(struct sreq *r, uint32_t flags)
{
	struct ipc_out	*out;
	struct timeval	 tv = { SIGN_TIMEOUT, 0 };
	int		 fd;

	if (queue_chan(SVC_SIGNER) == NULL)
		return -1;
	if ((fd = dup(r->fd)) == -1)
		fatal("queue: dup");
	out = ipc_out_new(IMSG_SIGNER_SIGN, r->id, fd);
	ipc_add_u32(out, flags);
	(void)ipc_chan_send(queue_chan(SVC_SIGNER), out);
	evtimer_add(r->timer, &tv);
	return 0;
}

void
sign_message(int bodyfd, size_t size, int body8, sign_cb done, void *arg)
{
	struct sreq	*r;

	if (queue_chan(SVC_SIGNER) == NULL) {
		done(arg, SIGN_LATER, -1, body8);
		return;
	}
	/* the signer said it has no key: unsigned, as it would answer */
	if (signer_empty) {
		int	fd;

		if ((fd = dup(bodyfd)) == -1)
			fatal("queue: dup");
		done(arg, SIGN_OK, fd, body8);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->id = next_sreq++;
	if ((r->fd = dup(bodyfd)) == -1)
		fatal("queue: dup");
	r->size = size;
	r->body8 = body8;
	r->done = done;
	r->arg = arg;
	if ((r->timer = evtimer_new(qbase, sreq_timeout, r)) == NULL)
		fatalx("queue: evtimer_new");
	TAILQ_INSERT_TAIL(&sreqs, r, entry);
	(void)sreq_send(r, 0);
}

static void
sreq_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct sreq	*r = arg;

	(void)fd;
	(void)ev;
	log_warnx("queue event=sign result=timeout");
	sreq_end(r, SIGN_LATER, -1, r->body8);
}

/* The 7-bit copy of r->fd, as a sealed memfd; -1 when it cannot be. */
static int
make_7bit(struct sreq *r, char *why, size_t whylen)
{
	struct buf	*out;
	void		*map;
	int		 fd = -1;

	if (r->size == 0 || r->size > MTA_7BIT_MAX_INPUT) {
		snprintf(why, whylen, "too large to convert");
		return -1;
	}
	if ((map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, r->fd, 0)) ==
	    MAP_FAILED) {
		snprintf(why, whylen, "mmap: %s", strerror(errno));
		return -1;
	}
	/* base64 and quoted-printable grow a message by at most 3x */
	out = buf_new(r->size * 3 + 65536);
	if (mta_7bit_convert(map, r->size, out, why, whylen) == 0 &&
	    (fd = memfd_sealed_from("queue-7bit", out->data, out->len)) ==
	    -1)
		snprintf(why, whylen, "memfd: %s", strerror(errno));
	munmap(map, r->size);
	buf_free(&out);
	return fd;
}

/* The fields as the signer gave them: printable ASCII, tabs, CR LF. */
static int
fields_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > SIGN_FIELDS_MAX || n < 2 || s[n - 2] != '\r' ||
	    s[n - 1] != '\n')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c == '\r') {
			if (s[i + 1] != '\n')
				return 0;
			continue;
		}
		if (c == '\n') {
			if (i == 0 || s[i - 1] != '\r')
				return 0;
			continue;
		}
		if (c != '\t' && (c < 0x20 || c > 0x7e))
			return 0;
	}
	return 1;
}

/* fields + the message r->fd, as a new sealed memfd; -1 on failure. */
static int
prepend(struct sreq *r, const char *fields)
{
	unsigned char	*b;
	size_t		 off = 0;
	int		 fd;

	if ((fd = memfd_new("queue-signed")) == -1)
		return -1;
	if (memfd_append(fd, fields, strlen(fields)) == -1)
		goto bad;
	b = xmalloc(65536);
	while (off < r->size) {
		ssize_t	n = pread(r->fd, b, r->size - off < 65536 ?
			    r->size - off : 65536, (off_t)off);

		if (n <= 0 || memfd_append(fd, b, (size_t)n) == -1)
			break;
		off += (size_t)n;
	}
	free(b);
	if (off != r->size || memfd_seal(fd) == -1)
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}

void
sign_reply(struct ipc_msg *msg)
{
	struct sreq	*r;
	const char	*dom, *text;
	char		 why[256];
	uint32_t	 result;
	int		 fd;

	if (msg->fd != -1 || ipc_get_u32(msg, &result) == -1 ||
	    ipc_get_str(msg, &dom, 253) == -1 ||
	    ipc_get_str(msg, &text, SIGN_FIELDS_MAX) == -1 ||
	    ipc_end(msg) == -1 || result > SIGNER_NO_KEYS)
		fatalx("queue: malformed reply from the signer");
	TAILQ_FOREACH(r, &sreqs, entry)
		if (r->id == msg->hdr.id)
			break;
	if (r == NULL)
		return;			/* timed out before */
	evtimer_del(r->timer);
	switch (result) {
	case SIGNER_SIGNED:
		if (!fields_ok(text))
			fatalx("queue: the signer's fields are malformed");
		if ((fd = prepend(r, text)) == -1) {
			log_warn("queue event=sign result=fail");
			sreq_end(r, SIGN_LATER, -1, r->body8);
			return;
		}
		sreq_end(r, SIGN_OK, fd, r->body8);
		return;
	case SIGNER_NO_KEYS:
		/* nothing to sign with: no round trip per attempt for now */
		signer_empty = 1;
		/* FALLTHROUGH */
	case SIGNER_NONE:
		fd = r->fd;
		r->fd = -1;
		sreq_end(r, SIGN_OK, fd, r->body8);
		return;
	case SIGNER_8BIT:
		if (r->tried8 || r->converted) {
			sreq_end(r, SIGN_LATER, -1, r->body8);
			return;
		}
		r->tried8 = 1;
		if ((fd = make_7bit(r, why, sizeof(why))) == -1) {
			/* an 8-bit header: signed as it is (the mta sends
			 * it with 8BITMIME, or refuses it, 5.6.3) */
			log_info("queue event=sign 7bit=no reason=\"%s\"",
			    why);
			if (sreq_send(r, SIGNER_F_8BIT_OK) == -1)
				sreq_end(r, SIGN_LATER, -1, r->body8);
			return;
		}
		close(r->fd);
		r->fd = fd;
		if (memfd_check_sealed(fd, (size_t)-1, &r->size) == -1)
			fatalx("queue: the 7-bit copy is not sealed");
		r->converted = 1;
		r->body8 = 0;
		if (sreq_send(r, 0) == -1)
			sreq_end(r, SIGN_LATER, -1, r->body8);
		return;
	default:
		log_warnx("queue event=sign result=fail reason=\"%s\"",
		    log_esc(why, sizeof(why), text, strlen(text)));
		sreq_end(r, SIGN_LATER, -1, r->body8);
		return;
	}
}

void
sign_lost(void)
{
	struct sreq	*r;

	signer_empty = 0;	/* a new signer may have keys */
	while ((r = TAILQ_FIRST(&sreqs)) != NULL)
		sreq_end(r, SIGN_LATER, -1, r->body8);
}
