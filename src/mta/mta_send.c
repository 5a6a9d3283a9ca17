/* SPDX-License-Identifier: ISC */
/*
 * mta_send.c - one delivery attempt (mta_send.h): TCP to each address of
 * each MX host in order, the SMTP conversation of mta_client.c over
 * io.c's bounded line reader, STARTTLS when offered, the body through
 * mta_data.c's dot-stuffing.
 *
 * Process:  mta (user _sp_mta), a worker thread per attempt.
 * Trust:    the remote is hostile (SECURITY-TESTS T48): a reply line is
 *           at most MTA_REPLY_LINE_MAX octets (longer: the connection is
 *           over), a reply at most MTA_REPLY_LINES_MAX lines, and every
 *           reply must be whole within timeout_ms; anything else is a
 *           temporary failure for the recipients not decided yet.  What
 *           the remote sent ahead of its STARTTLS reply is discarded
 *           before the handshake (CVE-2011-0411's pattern, client side).
 * Limits:   MTA_SEND_CONNECTS_MAX connections per attempt; the body is
 *           written in MTA_SEND_CHUNK pieces.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "buf.h"
#include "io.h"
#include "tls.h"
#include "mta_7bit.h"
#include "mta_data.h"
#include "mta_send.h"
#include "banned.h"

#define MTA_SEND_CHUNK		(64 * 1024)
#define MTA_IDLE_MAX		32	/* connections kept idle */

/* A connection with its conversation (kept idle between messages). */
struct mta_conn {
	struct mta_conn	*next;
	int		 fd;
	struct tls_conn	*tls;
	struct io	 io;
	struct mta_client c;
	char		 domain[256];
	char		 host[MTA_HOST_MAX + 1];
	long		 idle_since;
	int		 tls_mode;	/* MTA_TLS_* it was made under */
	struct mta_tls_host th;		/* this host's TLS treatment */
};

static pthread_mutex_t	 idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	 convert_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mta_conn	*idle_list;
static size_t		 idle_n;

int
mta_xtext(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	o = 0;

	for (; *s != '\0'; s++) {
		unsigned char	c = (unsigned char)*s;

		if (c >= 33 && c <= 126 && c != '+' && c != '=') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

static void
conn_close(struct mta_conn *k, int quit)
{
	if (k == NULL)
		return;
	if (quit) {
		k->io.timeout_ms = 2000;
		(void)io_write(&k->io, "QUIT\r\n", 6);
	}
	if (k->tls != NULL)
		tls_close(k->tls);
	if (k->fd != -1)
		close(k->fd);
	free(k);
}

void
mta_conn_idle_expire(long idle_ms)
{
	struct mta_conn	*k, **kp, *old = NULL;
	long		 now = io_now_ms();

	pthread_mutex_lock(&idle_lock);
	for (kp = &idle_list; (k = *kp) != NULL; ) {
		if (idle_ms == 0 || now - k->idle_since >= idle_ms) {
			*kp = k->next;
			k->next = old;
			old = k;
			idle_n--;
		} else
			kp = &k->next;
	}
	pthread_mutex_unlock(&idle_lock);
	while ((k = old) != NULL) {
		old = k->next;
		conn_close(k, 1);
	}
}

size_t
mta_conn_idle_count(void)
{
	size_t	n;

	pthread_mutex_lock(&idle_lock);
	n = idle_n;
	pthread_mutex_unlock(&idle_lock);
	return n;
}

/*
 * An idle connection to domain made under the same TLS treatment (a
 * connection of an opportunistic attempt never carries a message that
 * requires TLS; nor one made to another smarthost).
 */
static struct mta_conn *
idle_take(const char *domain, const struct mta_tlspol *pol)
{
	struct mta_conn	*k, **kp;
	int		 mode;

	mode = pol->smarthost[0] != '\0' || pol->required ||
	    pol->sts_mode == MTA_STS_ENFORCE || pol->dane ? -1 :
	    MTA_TLS_OPPORTUNISTIC;
	pthread_mutex_lock(&idle_lock);
	for (kp = &idle_list; (k = *kp) != NULL; kp = &k->next)
		if (strcmp(k->domain, domain) == 0 &&
		    k->tls_mode == mode) {
			*kp = k->next;
			idle_n--;
			break;
		}
	pthread_mutex_unlock(&idle_lock);
	return k;
}

static void
idle_put(struct mta_conn *k)
{
	pthread_mutex_lock(&idle_lock);
	if (idle_n >= MTA_IDLE_MAX) {
		pthread_mutex_unlock(&idle_lock);
		conn_close(k, 1);
		return;
	}
	k->idle_since = io_now_ms();
	k->next = idle_list;
	idle_list = k;
	idle_n++;
	pthread_mutex_unlock(&idle_lock);
}

/* A non-blocking connect within timeout_ms; the fd, or -1 and why. */
static int
tcp_connect(const struct sockaddr_storage *ss, uint16_t port, int timeout_ms,
    char *why, size_t whylen)
{
	struct sockaddr_storage	 a = *ss;
	struct pollfd		 pfd;
	socklen_t		 len, elen;
	int			 fd, e = 0, one = 1;

	if (a.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&a)->sin6_port = htons(port);
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&a)->sin_port = htons(port);
		len = sizeof(struct sockaddr_in);
	}
	if ((fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, len) == -1) {
		if (errno != EINPROGRESS) {
			snprintf(why, whylen, "connect: %s", strerror(errno));
			close(fd);
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) != 1) {
			snprintf(why, whylen, "connect: timed out");
			close(fd);
			return -1;
		}
		elen = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1)
			e = errno;
		if (e != 0) {
			snprintf(why, whylen, "connect: %s", strerror(e));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * Read one whole reply within timeout_ms into rp.  0, or -1 with why:
 * the connection is of no more use.
 */
static int
read_reply(struct mta_conn *k, int timeout_ms, struct mta_reply *rp,
    char *why, size_t whylen)
{
	long		 deadline = io_now_ms() + timeout_ms, left;
	const char	*bad;
	char		*line;
	size_t		 len;
	int		 r;

	mta_reply_init(rp);
	for (;;) {
		if ((left = deadline - io_now_ms()) <= 0) {
			snprintf(why, whylen, "timed out waiting for a reply");
			return -1;
		}
		k->io.timeout_ms = (int)left;
		switch (io_getline(&k->io, MTA_REPLY_LINE_MAX - 2, &line,
		    &len)) {
		case IO_LINE:
			break;
		case IO_TOOLONG:
			snprintf(why, whylen, "a reply line longer than %d "
			    "octets", MTA_REPLY_LINE_MAX);
			return -1;
		case IO_EOF:
			snprintf(why, whylen, "connection closed by the "
			    "remote");
			return -1;
		case IO_TIMEOUT:
			snprintf(why, whylen, "timed out waiting for a reply");
			return -1;
		default:
			snprintf(why, whylen, "connection lost");
			return -1;
		}
		r = mta_reply_line(rp, line, len, &bad);
		if (r == MTA_REPLY_DONE)
			return 0;
		if (r == MTA_REPLY_BAD) {
			snprintf(why, whylen, "malformed reply: %s", bad);
			return -1;
		}
	}
}

/* The body, dot-stuffed, then "." CR LF. */
static int
write_body(struct mta_conn *k, const unsigned char *body, size_t len)
{
	struct mta_data	 d;
	unsigned char	*out;
	size_t		 off, n, o;
	int		 r = 0;

	out = xmalloc(MTA_DATA_OUT_MAX(MTA_SEND_CHUNK) + MTA_DATA_FINISH_MAX);
	mta_data_init(&d);
	for (off = 0; off < len && r == 0; off += n) {
		n = len - off < MTA_SEND_CHUNK ? len - off : MTA_SEND_CHUNK;
		o = mta_data_encode(&d, body + off, n, out);
		r = io_write(&k->io, out, o);
	}
	if (r == 0) {
		o = mta_data_finish(&d, out);
		r = io_write(&k->io, out, o);
	}
	free(out);
	return r;
}

/*
 * Drive the conversation on k from step (after the greeting or a
 * restart) to DONE.  Returns 1 when the connection may carry another
 * message, 0 when it is finished (closed by the caller), and sets the
 * recipients' results in k->c.r.
 */
static int
converse(struct mta_job *j, struct mta_conn *k, int step, struct buf *cmd,
    int *tls_failed)
{
	struct mta_reply	*rp;
	char			 why[640], err[256];
	int			 reuse = 0;

	rp = xmalloc(sizeof(*rp));
	for (;;) {
		switch (step) {
		case MTA_DO_SEND:
			if (cmd->len > 0 && io_write(&k->io, cmd->data,
			    cmd->len) == -1) {
				mta_client_abort(&k->c, "connection lost "
				    "while sending");
				goto out;
			}
			break;
		case MTA_DO_STARTTLS:
			/* nothing the remote sent ahead may count (T48) */
			io_discard_input(&k->io);
			k->tls = tls_connect(j->tls, k->fd, k->host,
			    &k->th.chk, j->timeout_ms, NULL, err,
			    sizeof(err));
			if (k->tls == NULL && k->th.mode !=
			    MTA_TLS_OPPORTUNISTIC) {
				/* SECURITY: no plaintext retry (issue 15) */
				snprintf(why, sizeof(why), "451 4.7.5 TLS with "
				    "%s is required (%s) and failed: %s",
				    k->host, k->th.source, err);
				mta_client_abort(&k->c, why);
				goto out;
			}
			if (k->tls == NULL) {
				snprintf(why, sizeof(why), "TLS handshake with "
				    "%s failed: %s", k->host, err);
				mta_client_abort(&k->c, why);
				*tls_failed = 1;
				goto out;
			}
			k->io.tls = k->tls;
			j->tls_used = 1;
			snprintf(j->tls_how, sizeof(j->tls_how), "%s(%s)",
			    tls_checked(k->tls), k->th.source);
			step = mta_client_tls(&k->c, cmd);
			continue;
		case MTA_DO_AUTH:
			/* SECURITY: the credentials go from their own
			 * memory to the TLS record layer, never into cmd */
			if (j->auth_line == NULL || k->tls == NULL) {
				mta_client_abort(&k->c, "451 4.7.8 no AUTH "
				    "credentials");
				goto out;
			}
			if (io_write(&k->io, j->auth_line, j->auth_len) ==
			    -1) {
				mta_client_abort(&k->c, "connection lost "
				    "while sending");
				goto out;
			}
			break;
		case MTA_DO_BDAT:
			/* "BDAT <size> LAST", then the octets unchanged */
			if (io_write(&k->io, cmd->data, cmd->len) == -1 ||
			    (j->bodylen > 0 && io_write(&k->io, j->body,
			    j->bodylen) == -1)) {
				mta_client_abort(&k->c, "connection lost "
				    "while sending the message");
				goto out;
			}
			break;
		case MTA_DO_BODY:
			if (write_body(k, j->body, j->bodylen) == -1) {
				mta_client_abort(&k->c, "connection lost "
				    "while sending the message");
				goto out;
			}
			break;
		case MTA_DO_DONE:
		default:
			/*
			 * cmd holds QUIT: written when the connection is
			 * closed, not when it stays for the next message
			 */
			reuse = mta_client_reusable(&k->c);
			goto out;
		}
		if (read_reply(k, j->timeout_ms, rp, why, sizeof(why)) == -1) {
			char	msg[1024];

			snprintf(msg, sizeof(msg), "%s: %s", k->host, why);
			mta_client_abort(&k->c, msg);
			goto out;
		}
		buf_reset(cmd);
		step = mta_client_reply(&k->c, rp, cmd);
	}
out:
	free(rp);
	return reuse;
}

/* Is every recipient decided for good (taken or refused)? */
static int
all_final(const struct mta_job *j)
{
	size_t	i;

	for (i = 0; i < j->m.nrcpts; i++)
		if (j->r[i].state != MTA_RCPT_OK &&
		    j->r[i].state != MTA_RCPT_PERM)
			return 0;
	return 1;
}

/*
 * The server does not take 8-bit data and the message has some (RFC 6152
 * 3): mta_client refused it before MAIL (554 5.6.3), leaving the
 * connection usable.  Was that the reason?
 */
static int
needs_7bit(const struct mta_job *j, const struct mta_conn *k)
{
	return j->m.body8 && !(k->c.exts & MTA_EXT_8BITMIME) &&
	    !(j->m.smtputf8 && !(k->c.exts & MTA_EXT_SMTPUTF8)) &&
	    !((k->c.exts & MTA_EXT_SIZE) && k->c.maxsize != 0 &&
	    j->m.size > k->c.maxsize);
}

/*
 * Convert the job's message to 7 bits (MIME: quoted-printable or base64
 * for each 8-bit part), once: the job sends the converted copy from now
 * on, to every host.  0, or -1 with why (a header with 8-bit bytes).
 */
static int
to_7bit(struct mta_job *j, char *why, size_t whylen)
{
	struct buf	*out;
	int		 r;

	if (j->conv != NULL)
		return 0;
	out = buf_new(j->bodylen > MTA_7BIT_MAX_INPUT ? 0 :
	    3 * j->bodylen + 64 * 1024);
	pthread_mutex_lock(&convert_lock);	/* GMime, one at a time */
	r = mta_7bit_convert(j->body, j->bodylen, out, why, whylen);
	pthread_mutex_unlock(&convert_lock);
	if (r == -1) {
		buf_free(&out);
		return -1;
	}
	j->conv = out;
	j->body = out->data;
	j->bodylen = out->len;
	j->m.size = out->len;
	j->m.body8 = 0;
	return 0;
}

/*
 * After a conversation that ended usable: if the message was refused for
 * being 8-bit, convert it and send it again on the same connection.
 * Returns what converse returns.
 */
static int
retry_7bit(struct mta_job *j, struct mta_conn *k, struct buf *cmd,
    int *tls_failed, int reuse)
{
	char	why[256], text[640];
	size_t	i;
	int	step;

	if (!reuse || !needs_7bit(j, k))
		return reuse;
	if (to_7bit(j, why, sizeof(why)) == -1) {
		snprintf(text, sizeof(text), "554 5.6.3 %s offers no 8BITMIME "
		    "and the message cannot be made 7-bit: %s", k->host, why);
		for (i = 0; i < j->m.nrcpts; i++)
			strlcpy(k->c.r[i].text, text, sizeof(k->c.r[i].text));
		return reuse;
	}
	buf_reset(cmd);
	if ((step = mta_client_next(&k->c, &j->m, cmd)) == -1)
		return reuse;
	return converse(j, k, step, cmd, tls_failed);
}

/* Take this connection's outcomes for the recipients still open. */
static void
merge(struct mta_job *j, const struct mta_conn *k)
{
	size_t	i;

	for (i = 0; i < j->m.nrcpts; i++) {
		if (j->r[i].state == MTA_RCPT_OK ||
		    j->r[i].state == MTA_RCPT_PERM)
			continue;
		j->r[i] = k->c.r[i];
	}
	strlcpy(j->remote, k->host, sizeof(j->remote));
}

/* One connection to address a of host h, with or without STARTTLS. */
static void
attempt(struct mta_job *j, size_t h, size_t a, int use_tls,
    int *tls_failed)
{
	struct mta_conn	*k;
	struct buf	*cmd;
	char		 why[256];
	int		 fd;

	k = xcalloc(1, sizeof(*k));
	k->fd = -1;
	strlcpy(k->domain, j->domain, sizeof(k->domain));
	strlcpy(k->host, j->dest.route.hosts[h], sizeof(k->host));
	(void)mta_client_init(&k->c, j->helo, use_tls && j->tls != NULL,
	    &j->m);
	if (mta_tlspol_host(&j->pol, h, k->host, &k->th) == -1 ||
	    k->th.skip) {
		/* this host may not have the message now */
		mta_client_abort(&k->c, k->th.skip ? k->th.why :
		    "451 4.7.5 no TLS policy for the host");
		merge(j, k);
		conn_close(k, 0);
		return;
	}
	if (k->th.sts_mismatch)
		log_info("mta event=mta-sts id=%s domain=%s host=%s "
		    "mode=testing result=mx-mismatch", j->qid, j->domain,
		    k->host);
	k->tls_mode = k->th.mode == MTA_TLS_OPPORTUNISTIC ?
	    MTA_TLS_OPPORTUNISTIC : -1;
	/* SECURITY: a required TLS is never given up for plaintext */
	k->c.tls_required = k->th.mode != MTA_TLS_OPPORTUNISTIC;
	k->c.auth_wanted = j->auth_line != NULL;
	if (k->c.tls_required && j->tls == NULL) {
		mta_client_abort(&k->c, "451 4.7.5 TLS is required and not "
		    "available here");
		merge(j, k);
		conn_close(k, 0);
		return;
	}
	j->connects++;
	if ((fd = tcp_connect(&j->dest.addrs[h][a], j->port, j->timeout_ms,
	    why, sizeof(why))) == -1) {
		char	msg[1024];

		snprintf(msg, sizeof(msg), "%s: %s", k->host, why);
		mta_client_abort(&k->c, msg);
		merge(j, k);
		conn_close(k, 0);
		return;
	}
	k->fd = fd;
	io_init(&k->io, fd, j->timeout_ms);
	cmd = buf_new(64 * 1024);
	/* the greeting first: no command */
	if (retry_7bit(j, k, cmd, tls_failed,
	    converse(j, k, MTA_DO_SEND, cmd, tls_failed)) == 1) {
		merge(j, k);
		buf_free(&cmd);
		idle_put(k);
		return;
	}
	merge(j, k);
	buf_free(&cmd);
	conn_close(k, k->c.state != 0);
}

/*
 * The next message on an idle connection to the same domain: 1 when it
 * was used (its outcomes merged), 0 when there was none or it had gone
 * stale before the first reply (then a fresh connection is made).
 */
static int
attempt_idle(struct mta_job *j)
{
	struct mta_conn	*k;
	struct buf	*cmd;
	int		 step, tls_failed = 0;

	while ((k = idle_take(j->domain, &j->pol)) != NULL) {
		cmd = buf_new(64 * 1024);
		if ((step = mta_client_next(&k->c, &j->m, cmd)) == -1) {
			buf_free(&cmd);
			conn_close(k, 1);
			return 0;
		}
		j->reused = 1;
		if (k->tls != NULL)
			j->tls_used = 1;
		if (retry_7bit(j, k, cmd, &tls_failed,
		    converse(j, k, step, cmd, &tls_failed)) == 1) {
			merge(j, k);
			buf_free(&cmd);
			idle_put(k);
			return 1;
		}
		buf_free(&cmd);
		merge(j, k);
		conn_close(k, 0);
		return 1;
	}
	return 0;
}

void
mta_send_run(struct mta_job *j)
{
	size_t	h, a, i;
	int	tls_failed;

	for (i = 0; i < j->m.nrcpts; i++) {
		memset(&j->r[i], 0, sizeof(j->r[i]));
		j->r[i].state = MTA_RCPT_TEMP;
		snprintf(j->r[i].text, sizeof(j->r[i].text),
		    "no host of %s could be reached", j->domain);
	}
	if (attempt_idle(j) && all_final(j))
		return;
	for (h = 0; h < j->dest.route.nhosts; h++) {
		for (a = 0; a < j->dest.naddrs[h]; a++) {
			if (all_final(j) ||
			    j->connects >= MTA_SEND_CONNECTS_MAX)
				return;
			tls_failed = 0;
			attempt(j, h, a, 1, &tls_failed);
			/* a broken TLS: the same address in plaintext, as
			 * opportunistic TLS means (RFC 7435 3) */
			if (tls_failed && !all_final(j) &&
			    j->connects < MTA_SEND_CONNECTS_MAX)
				attempt(j, h, a, 0, &tls_failed);
		}
	}
}
