/* SPDX-License-Identifier: ISC */
/*
 * session.c - start-up and shutdown shared by the session binaries.
 *
 * Process:  smtp, imap-login, pop3-login (one process per connection,
 *           exec'd by the master with SP_FD_* open, already unprivileged).
 * Trust:    argv and the inherited fds come from the master and are
 *           trusted; the client socket is not.
 * See also: sealpostd/proc.c (the other side of the exec).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <poll.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "conf.h"
#include "tls.h"
#include "child.h"
#include "ipc_types.h"
#include "session.h"
#include "banned.h"

static volatile sig_atomic_t	session_stop;

static void
session_sigterm(int sig)
{
	(void)sig;
	session_stop = 1;
}

static int
session_is_socket(int fd)
{
	struct stat	st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The client's address as text, for Received: (before the sandbox). */
static void
session_peer(struct session *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	const void		*addr = NULL;

	snprintf(s->client, sizeof(s->client), "unknown");
	if (getpeername(SP_FD_CLIENT, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family == AF_INET)
		addr = &((struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (addr == NULL || inet_ntop(ss.ss_family, addr, s->client,
	    sizeof(s->client)) == NULL)
		snprintf(s->client, sizeof(s->client), "unknown");
	s->client_v6 = ss.ss_family == AF_INET6;
}

void
session_init(struct session *s, int argc, char **argv, const char *proc,
    enum sp_role role, int timeout_ms)
{
	struct child_args	 a;
	struct sigaction	 sa;
	const char		*kind = NULL;
	char			 err[512], *end;
	int			 ch, k, i;

	memset(s, 0, sizeof(*s));
	memset(&a, 0, sizeof(a));
	s->proc = proc;
	if (!session_is_socket(SP_FD_LOG)) {
		fprintf(stderr, "%s: must be started by sealpostd\n", proc);
		exit(1);
	}
	log_init(proc, LOG_DEST_MASTER, SP_FD_LOG);

	while ((ch = getopt(argc, argv, CHILD_GETOPT "H:i:k:")) != -1) {
		if (child_getopt(ch, optarg, &a))
			continue;
		switch (ch) {
		case 'H':
			s->hostname = optarg;
			break;
		case 'i':
			errno = 0;
			s->id = strtoull(optarg, &end, 16);
			if (errno != 0 || *end != '\0' || end == optarg)
				fatalx("bad connection id");
			break;
		case 'k':
			kind = optarg;
			break;
		default:
			fatalx("usage: %s -u UID -g GID -j JAIL -i ID -k KIND "
			    "-H HOSTNAME [-d]", proc);
		}
	}
	child_args_check(&a, proc);
	if (s->hostname == NULL || kind == NULL ||
	    !conf_valid_hostname(s->hostname))
		fatalx("%s: bad -H or -k from the master", proc);
	for (k = 0; k < SP_LISTEN_KIND_MAX; k++)
		if (strcmp(kind, conf_kind_name((enum sp_listener_kind)k)) ==
		    0)
			break;
	if (k == SP_LISTEN_KIND_MAX)
		fatalx("unknown listener kind");
	s->kind = (enum sp_listener_kind)k;
	s->kind_name = conf_kind_name(s->kind);
	s->implicit_tls = conf_kind_implicit_tls(s->kind);

	if (!session_is_socket(SP_FD_CLIENT) || !session_is_socket(SP_FD_MASTER))
		fatalx("%016" PRIx64 " %s: missing descriptors", s->id, proc);
	for (i = 0; i < SVC_MAX; i++)
		s->svc[i] = session_is_socket(SP_FD_SVC(i)) ? SP_FD_SVC(i) : -1;
	if (fcntl(SP_FD_TLS, F_GETFD) != -1) {
		if ((s->tls_ctx = tls_server_ctx_from_fd(SP_FD_TLS, err,
		    sizeof(err))) == NULL)
			fatalx("%016" PRIx64 " %s: %s", s->id, proc, err);
		close(SP_FD_TLS);
		if (fcntl(SP_FD_TICKETS, F_GETFD) != -1) {
			if (tls_ctx_set_tickets(s->tls_ctx, SP_FD_TICKETS, err,
			    sizeof(err)) == -1)
				fatalx("%016" PRIx64 " %s: %s", s->id, proc,
				    err);
			close(SP_FD_TICKETS);
		}
	} else if (s->implicit_tls)
		fatalx("%016" PRIx64 " %s: TLS listener without TLS material",
		    s->id, proc);
	io_init(&s->io, SP_FD_CLIENT, timeout_ms);
	session_peer(s);
	s->args = a;

	/* a stop request ends the session at its next wait for the client */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = session_sigterm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);
	s->io.stop = &session_stop;
	/* a service that goes away while we wait: answer, do not hang */
	for (i = 0; i < SVC_MAX; i++)
		if (s->svc[i] != -1)
			(void)io_watch(&s->io, s->svc[i]);

	child_confine(&a, role, proc, &s->sandbox);
	child_ready(SP_FD_MASTER, proc, &s->sandbox);
}

int
session_call(struct session *s, enum sp_service svc, struct ipc_out *out,
    struct ipc_msg *reply)
{
	uint32_t	id = ++s->next_reqid;
	uint32_t	type = out->hdr.type;

	if (s->svc[svc] == -1) {
		ipc_out_free(out);
		return -1;
	}
	out->hdr.id = id;
	if (ipc_send(s->svc[svc], out) == -1)
		return -1;
	if (ipc_recv(s->svc[svc], reply, SP_IPC_TIMEOUT_MS) != 1)
		return -1;
	if (reply->hdr.type != type || reply->hdr.id != id) {
		ipc_msg_clear(reply);
		return -1;
	}
	return 0;
}

int
session_tls_start(struct session *s)
{
	char	err[256];

	SP_ASSERT(s->io.tls == NULL);
	if (s->tls_ctx == NULL) {
		log_warnx("%016" PRIx64 " %s event=tls result=fail "
		    "reason=no-certificate", s->id, s->proc);
		return -1;
	}
	/* SECURITY: nothing the client sent before the handshake survives. */
	io_discard_input(&s->io);
	s->io.tls = tls_accept(s->tls_ctx, s->io.fd,
	    SP_TLS_HANDSHAKE_TIMEOUT * 1000, err, sizeof(err));
	if (s->io.tls == NULL) {
		char	esc[300];

		log_info("%016" PRIx64 " %s event=tls result=fail reason=%s",
		    s->id, s->proc, log_esc(esc, sizeof(esc), err,
		    strlen(err)));
		return -1;
	}
	log_info("%016" PRIx64 " %s event=tls version=%s cipher=%s", s->id,
	    s->proc, tls_version(s->io.tls), tls_cipher(s->io.tls));
	return 0;
}

void
session_reply(struct session *s, const char *fmt, ...)
{
	char	buf[SESSION_REPLY_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	SP_ASSERT(n > 0 && (size_t)n < sizeof(buf));
	if (io_write(&s->io, buf, (size_t)n) == -1)
		session_end(s, "write-error");
}

void
session_end(struct session *s, const char *reason)
{
	log_info("%016" PRIx64 " %s event=disconnect reason=%s errors=%u",
	    s->id, s->proc, reason, s->errors);
	tls_close(s->io.tls);
	s->io.tls = NULL;
	close(s->io.fd);
	tls_ctx_free(s->tls_ctx);
	exit(0);
}

/* Write all of buf to a plain socket, waiting with poll when it is full. */
static int
session_write_fd(int fd, const uint8_t *buf, size_t len)
{
	struct pollfd	pfd;
	ssize_t		n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, SP_IPC_TIMEOUT_MS) == 1)
				continue;
		}
		return -1;
	}
	return 0;
}


int
session_wait_mail(struct session *s, int *fd_r)
{
	static struct ipc_msg	reply;	/* 64 KiB: not on the stack */
	uint32_t		ok;
	uint64_t		account;

	if (ipc_recv(SP_FD_MASTER, &reply, SP_IPC_TIMEOUT_MS) != 1)
		return -1;
	if (reply.hdr.type != IMSG_MASTER_MAIL_READY ||
	    ipc_get_u32(&reply, &ok) == -1 ||
	    ipc_get_u64(&reply, &account) == -1 || ipc_end(&reply) == -1 ||
	    !ok || reply.fd == -1) {
		ipc_msg_clear(&reply);
		return -1;
	}
	*fd_r = reply.fd;
	reply.fd = -1;
	log_info("%016" PRIx64 " %s event=login account=%llu", s->id, s->proc,
	    (unsigned long long)account);
	return 0;
}

/* One read from the client relayed to fd: 1 relayed, 0 nothing to read. */
static int
session_relay_client(struct session *s, int fd, uint8_t *buf, size_t len)
{
	ssize_t	n;
	short	want;

	n = io_read_some(&s->io, buf, len, &want);
	if (n > 0) {
		if (session_write_fd(fd, buf, (size_t)n) == -1)
			session_end(s, "mail-gone");
		return 1;
	}
	if (n == 0)
		session_end(s, "client-closed");
	if (want == 0)
		session_end(s, "io-error");
	return 0;
}

void
session_proxy(struct session *s, int fd)
{
	struct pollfd	pfd[2];
	uint8_t		buf[16384];
	ssize_t		n;
	int		fl;

	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	/* the services are not ours to watch any more: the mail process is */
	s->io.nwatch = 0;
	for (;;) {
		/* what poll cannot see: buffered and decrypted bytes */
		while (io_pending(&s->io) &&
		    session_relay_client(s, fd, buf, sizeof(buf)))
			;
		pfd[0].fd = s->io.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;	/* SIGTERM: the mail process says bye */
			session_end(s, "io-error");
		}
		if (pfd[0].revents != 0)
			(void)session_relay_client(s, fd, buf, sizeof(buf));
		if (pfd[1].revents != 0) {
			n = read(fd, buf, sizeof(buf));
			if (n > 0) {
				if (io_write(&s->io, buf, (size_t)n) == -1)
					session_end(s, "write-error");
			} else if (n == 0)
				session_end(s, "logout");
			else if (errno != EAGAIN && errno != EINTR)
				session_end(s, "mail-gone");
		}
	}
}
