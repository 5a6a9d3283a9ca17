/* SPDX-License-Identifier: ISC */
/*
 * proc.c - the master's children: spawn a session process per accepted
 * connection, reap them, and write the log lines they send.
 *
 * Process:  master (root).
 * Trust:    a session process parses network input and may be compromised:
 *           its log datagrams are bounded, attributed by the kernel-supplied
 *           pid (SCM_CREDENTIALS, not by anything in the datagram) and
 *           re-escaped before they are written.
 * Limits:   SP_LOG_LINE_MAX per datagram; max-sessions.
 * See also: common/session.c (the child side of the exec), sealpost.h
 *           (the SP_FD_* descriptor convention).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "sealpostd.h"
#include "banned.h"

extern char **environ;

/* Environment a session may see: sanitizer settings only. */
static const char *proc_env_keep[] = {
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL
};

static const struct {
	const char	*binary;
	const char	*proc;
} session_bin[SP_LISTEN_KIND_MAX] = {
	[SP_LISTEN_SMTP] =		{ "sealpost-smtp", "smtp" },
	[SP_LISTEN_SUBMISSION] =	{ "sealpost-smtp", "smtp" },
	[SP_LISTEN_SUBMISSIONS] =	{ "sealpost-smtp", "smtp" },
	[SP_LISTEN_IMAP] =		{ "sealpost-imap-login", "imap-login" },
	[SP_LISTEN_IMAPS] =		{ "sealpost-imap-login", "imap-login" },
	[SP_LISTEN_POP3] =		{ "sealpost-pop3-login", "pop3-login" },
	[SP_LISTEN_POP3S] =		{ "sealpost-pop3-login", "pop3-login" },
};

static int
proc_bin_path(const struct sp_conf *conf, enum sp_listener_kind k, char *path,
    size_t len)
{
	int	n = snprintf(path, len, "%s/%s", conf->libexec_dir,
		    session_bin[k].binary);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
proc_check_binaries(const struct sp_conf *conf, char *err, size_t errlen)
{
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < conf->nlisteners; i++) {
		if (proc_bin_path(conf, conf->listeners[i].kind, path,
		    sizeof(path)) == -1) {
			snprintf(err, errlen, "libexec-dir path too long");
			return -1;
		}
		if (access(path, X_OK) == -1) {
			snprintf(err, errlen, "%s: %s (check libexec-dir)",
			    path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void
proc_peer(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);
	char			host[INET6_ADDRSTRLEN];

	snprintf(buf, len, "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	}
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
proc_exec_child(struct master *m, int cfd, const char *path, char **argv,
    char **envp)
{
	int	hc, hl, ht = -1, null;

	if ((hc = fcntl(cfd, F_DUPFD, SP_FD_FIRST_FREE + 4)) == -1 ||
	    (hl = fcntl(m->log_wfd, F_DUPFD, SP_FD_FIRST_FREE + 4)) == -1)
		_exit(126);
	if (m->tls_fd != -1 &&
	    (ht = fcntl(m->tls_fd, F_DUPFD, SP_FD_FIRST_FREE + 4)) == -1)
		_exit(126);
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, 0) == -1 || dup2(null, 1) == -1 ||
	    dup2(hc, SP_FD_CLIENT) == -1 || dup2(hl, SP_FD_LOG) == -1 ||
	    (ht != -1 && dup2(ht, SP_FD_TLS) == -1))
		_exit(126);
	closefrom(ht != -1 ? SP_FD_TLS + 1 : SP_FD_LOG + 1);

	/* Issue 3 gives every role its own uid; until then: nobody. */
	if (m->session_uid != 0) {
		if (setgroups(0, NULL) == -1 ||
		    setresgid(m->session_gid, m->session_gid,
		    m->session_gid) == -1 ||
		    setresuid(m->session_uid, m->session_uid,
		    m->session_uid) == -1)
			_exit(126);
	}
	execve(path, argv, envp);
	_exit(127);
}

void
proc_spawn_session(struct master *m, struct listener *l, int cfd)
{
	struct child	*c;
	char		 path[PATH_MAX], idstr[17], peer[80];
	char		*argv[10], *envp[4], **e;
	int		 argc = 0, envc = 0, i;
	uint64_t	 id;
	pid_t		 pid;

	arc4random_buf(&id, sizeof(id));
	snprintf(idstr, sizeof(idstr), "%016" PRIx64, id);
	proc_peer(cfd, peer, sizeof(peer));
	if (proc_bin_path(m->conf, l->conf->kind, path, sizeof(path)) == -1)
		fatalx("libexec-dir path too long");

	argv[argc++] = path;
	argv[argc++] = "-i";
	argv[argc++] = idstr;
	argv[argc++] = "-k";
	argv[argc++] = (char *)conf_kind_name(l->conf->kind);
	argv[argc++] = "-H";
	argv[argc++] = m->conf->hostname;
	if (m->debug)
		argv[argc++] = "-d";
	argv[argc] = NULL;
	for (e = environ; *e != NULL && envc < 3; e++) {
		for (i = 0; proc_env_keep[i] != NULL; i++) {
			size_t	kl = strlen(proc_env_keep[i]);

			if (strncmp(*e, proc_env_keep[i], kl) == 0 &&
			    (*e)[kl] == '=')
				envp[envc++] = *e;
		}
	}
	envp[envc] = NULL;

	switch (pid = fork()) {
	case -1:
		log_warn("%s fork for %s", idstr, conf_kind_name(l->conf->kind));
		close(cfd);
		return;
	case 0:
		proc_exec_child(m, cfd, path, argv, envp);
		/* NOTREACHED */
	default:
		break;
	}
	close(cfd);

	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->id = id;
	c->listener = l;
	c->proc = session_bin[l->conf->kind].proc;
	TAILQ_INSERT_TAIL(&m->children, c, entry);
	m->nchildren++;
	l->nsessions++;
	l->accepted++;
	log_info("%s master event=connect listener=%s client=%s proc=%s "
	    "pid=%ld", idstr, conf_kind_name(l->conf->kind), peer, c->proc,
	    (long)pid);
	if (m->nchildren >= m->conf->max_sessions && !m->paused) {
		log_warnx("max-sessions %u reached: not accepting until a "
		    "session ends", m->conf->max_sessions);
		listener_enable(m, 0);
	}
}

static struct child *
proc_find(struct master *m, pid_t pid)
{
	struct child	*c;

	TAILQ_FOREACH(c, &m->children, entry)
		if (c->pid == pid)
			return c;
	return NULL;
}

void
proc_reap(struct master *m)
{
	struct child	*c;
	pid_t		 pid;
	int		 st;

	/* Lines a child sent just before it died come first. */
	proc_log_read(m->log_rfd, EV_READ, m);
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((c = proc_find(m, pid)) == NULL)
			continue;
		if (WIFSIGNALED(st))
			log_warnx("%016" PRIx64 " master event=exit proc=%s "
			    "pid=%ld signal=%d", c->id, c->proc, (long)pid,
			    WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0)
			log_warnx("%016" PRIx64 " master event=exit proc=%s "
			    "pid=%ld status=%d", c->id, c->proc, (long)pid,
			    WEXITSTATUS(st));
		else
			log_debug("%016" PRIx64 " master event=exit proc=%s "
			    "pid=%ld status=0", c->id, c->proc, (long)pid);
		TAILQ_REMOVE(&m->children, c, entry);
		c->listener->nsessions--;
		m->nchildren--;
		free(c);
	}
	if (m->stopping) {
		if (m->nchildren == 0)
			event_base_loopbreak(m->base);
		return;
	}
	if (m->paused && m->nchildren < m->conf->max_sessions)
		listener_enable(m, 1);
}

void
proc_log_read(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;
	char		 line[SP_LOG_LINE_MAX + 1];
	char		 cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	struct ucred	 cred;
	struct child	*c;
	ssize_t		 n;
	int		 prio, have_cred;

	(void)ev;
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = line;
		iov.iov_len = sizeof(line) - 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("log socket");
			return;
		}
		have_cred = 0;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_CREDENTIALS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(cred))) {
				memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
				have_cred = 1;
			} else if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS) {
				/* SECURITY: never keep fds a child pushes */
				size_t	k, nfd = (cm->cmsg_len -
				    CMSG_LEN(0)) / sizeof(int);
				int	xfd;

				for (k = 0; k < nfd; k++) {
					memcpy(&xfd, CMSG_DATA(cm) +
					    k * sizeof(int), sizeof(int));
					close(xfd);
				}
			}
		}
		if (n < 1 || !have_cred)
			continue;
		prio = line[0] >= '0' && line[0] <= '7' ? line[0] - '0' :
		    LOG_WARNING;
		if (prio < LOG_CRIT)
			prio = LOG_CRIT;	/* children cannot page anyone */
		c = proc_find(m, cred.pid);
		log_write_child(prio, c != NULL ? c->proc : "child",
		    cred.pid, line + 1, (size_t)n - 1);
	}
}
