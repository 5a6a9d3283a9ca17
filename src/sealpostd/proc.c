/* SPDX-License-Identifier: ISC */
/*
 * proc.c - starting children the same way every time, session processes
 * (one per accepted connection), reaping, and the children's log lines.
 *
 * Process:  master (root).
 * Trust:    a session process parses network input and may be compromised:
 *           its log datagrams are bounded, attributed by the kernel-supplied
 *           pid (SCM_CREDENTIALS, not anything in the datagram) and
 *           re-escaped; a malformed message on its master channel gets it
 *           killed.  The master relays no session traffic: each session
 *           gets its own socketpair to each service its role may use.
 * Limits:   SP_LOG_LINE_MAX per datagram; max-sessions.
 * See also: proctab.c (who gets what), common/session.c (the child side).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "buf.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "sealpostd.h"
#include "layout.h"
#include "banned.h"

extern char **environ;

#define PROC_HIGH_FD	64	/* scratch slots while arranging fds */

/* Environment a child may see: sanitizer settings only. */
static const char *proc_env_keep[] = {
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL
};

static int
proc_bin_path(const struct sp_conf *conf, const struct proc_spec *spec,
    char *path, size_t len)
{
	int	n = snprintf(path, len, "%s/%s", conf->libexec_dir,
		    spec->binary);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
proc_check_one(const struct sp_conf *conf, const struct proc_spec *spec,
    char *err, size_t errlen)
{
	char	path[PATH_MAX];

	if (proc_bin_path(conf, spec, path, sizeof(path)) == -1) {
		snprintf(err, errlen, "libexec-dir path too long");
		return -1;
	}
	if (access(path, X_OK) == -1) {
		snprintf(err, errlen, "%s: %s (check libexec-dir)", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
proc_check_binaries(const struct sp_conf *conf, char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < conf->nlisteners; i++)
		if (proc_check_one(conf,
		    proctab_sessions[conf->listeners[i].kind], err, errlen) ==
		    -1)
			return -1;
	for (i = 0; i < SVC_MAX; i++)
		if (proc_check_one(conf, &proctab_services[i], err, errlen) ==
		    -1)
			return -1;
	if (proc_check_one(conf, &proctab_imap_mail, err, errlen) == -1)
		return -1;
	return proc_check_one(conf, &proctab_pop3_mail, err, errlen);
}

static int
proc_lookup(const char *user, struct proc_ids *ids, char *err, size_t errlen)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user %s does not exist: create the "
		    "sealpost role users (contrib/dev does; see "
		    "docs/design.md)", user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "user %s has uid or gid 0", user);
		return -1;
	}
	ids->uid = pw->pw_uid;
	ids->gid = pw->pw_gid;
	return 0;
}

int
proc_resolve_users(struct master *m, char *err, size_t errlen)
{
	struct proc_ids	ids[SP_LISTEN_KIND_MAX];
	size_t		i;

	for (i = 0; i < SVC_MAX; i++)
		if (proc_lookup(proctab_services[i].user,
		    &m->services[i].ids, err, errlen) == -1)
			return -1;
	for (i = 0; i < SP_LISTEN_KIND_MAX; i++)
		if (proc_lookup(proctab_sessions[i]->user, &ids[i], err,
		    errlen) == -1)
			return -1;
	memcpy(m->session_ids, ids, sizeof(ids));
	return 0;
}

int
proc_base_argv(struct master *m, const char *path, const struct proc_ids *ids,
    char **argv, char bufs[][24])
{
	int	argc = 0;

	snprintf(bufs[0], 24, "%lu", (unsigned long)ids->uid);
	snprintf(bufs[1], 24, "%lu", (unsigned long)ids->gid);
	argv[argc++] = (char *)path;
	argv[argc++] = "-u";
	argv[argc++] = bufs[0];
	argv[argc++] = "-g";
	argv[argc++] = bufs[1];
	argv[argc++] = "-j";
	argv[argc++] = m->jail;
	if (m->debug)
		argv[argc++] = "-d";
#ifdef SP_TEST_HOOKS
	if (m->no_filters)
		argv[argc++] = "-F";
#endif
	argv[argc] = NULL;
	return argc;
}

/*
 * In the child, between fork and exec: put fds[n] at descriptor n for
 * every n < SP_FD_FIRST_FREE (-1: closed), /dev/null on 0 and 1, close
 * everything else, exec with a bare environment.  Only async-signal-safe
 * calls.
 */
void
proc_exec(struct master *m, const char *path, char **argv, int *fds, int nfds)
{
	char	*envp[4];
	int	 high[SP_FD_FIRST_FREE], i, envc = 0, null;
	char	**e;

	(void)m;
	for (i = 0; i < nfds && i < SP_FD_FIRST_FREE; i++) {
		high[i] = -1;
		if (fds[i] != -1 &&
		    (high[i] = fcntl(fds[i], F_DUPFD, PROC_HIGH_FD)) == -1)
			_exit(126);
	}
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, 0) == -1 || dup2(null, 1) == -1)
		_exit(126);
	for (i = 3; i < SP_FD_FIRST_FREE; i++) {
		if (i < nfds && high[i] != -1) {
			if (dup2(high[i], i) == -1)
				_exit(126);
		} else
			(void)close(i);
	}
	closefrom(SP_FD_FIRST_FREE);

	for (e = environ; *e != NULL && envc < 3; e++)
		for (i = 0; proc_env_keep[i] != NULL; i++) {
			size_t	kl = strlen(proc_env_keep[i]);

			if (strncmp(*e, proc_env_keep[i], kl) == 0 &&
			    (*e)[kl] == '=')
				envp[envc++] = *e;
		}
	envp[envc] = NULL;
	execve(path, argv, envp);
	_exit(127);
}

/*
 * The client's address: alone in ip (the services' limits) and with its
 * port in peer, "ADDR:PORT" or "[ADDR]:PORT" (the connect log line).
 */
static void
proc_client(int fd, char *ip, size_t iplen, char *peer, size_t peerlen)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);
	unsigned int		port = 0;

	snprintf(ip, iplen, "unknown");
	snprintf(peer, peerlen, "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)iplen);
		port = ntohs(s4->sin_port);
		snprintf(peer, peerlen, "%s:%u", ip, port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)iplen);
		port = ntohs(s6->sin6_port);
		snprintf(peer, peerlen, "[%s]:%u", ip, port);
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

/* What a session may say to the master: that it is ready, nothing else. */
static void
proc_session_dispatch(struct ipc_chan *chan, struct ipc_msg *msg, void *arg)
{
	struct child	*c = arg;
	struct master	*m;
	const char	*role, *sandbox;
	uint32_t	 version;

	ipc_msg_clear(msg);	/* no fd is expected from a session */
	if (msg->hdr.type != IMSG_PROC_READY ||
	    ipc_get_u32(msg, &version) == -1 ||
	    ipc_get_str(msg, &role, 32) == -1 ||
	    ipc_get_str(msg, &sandbox, 63) == -1 || ipc_end(msg) == -1 ||
	    version != IPC_VERSION || strcmp(role, c->spec->name) != 0) {
		ipc_chan_drop(chan);
		return;
	}
	m = c->listener->master;
	strlcpy(m->session_sandbox[c->spec->role], sandbox,
	    sizeof(m->session_sandbox[c->spec->role]));
}

static void
proc_session_closed(struct ipc_chan *chan, int reason, void *arg)
{
	struct child	*c = arg;

	(void)chan;
	c->chan = NULL;
	if (reason == IPC_CLOSED_MALFORMED) {
		/* SECURITY: a session that lies to the master is compromised */
		log_warnx("%016" PRIx64 " master event=malformed proc=%s "
		    "pid=%ld action=kill", c->id, c->spec->name, (long)c->pid);
		(void)kill(c->pid, SIGKILL);
	}
}

/*
 * An smtp session's settings, as -o options: the local domains (mail for
 * them is ours), the size and recipient limits, the Received: privacy.
 * The strings live in *bp until the caller frees it after the fork.
 */
static int
proc_smtp_argv(struct master *m, char **argv, int argc, struct buf **bp)
{
	const struct sp_conf	*c = m->conf;
	size_t			 i, off[4];
	struct buf		*b;

	b = *bp = buf_new(1 << 20);
	off[0] = b->len;
	(void)buf_addf(b, "domains=");
	for (i = 0; i < c->ndomains; i++)
		(void)buf_addf(b, "%s%s", i > 0 ? "," : "", c->domains[i]);
	(void)buf_add(b, "", 1);
	off[1] = b->len;
	(void)buf_addf(b, "max-size=%llu", (unsigned long long)
	    c->max_message_size);
	(void)buf_add(b, "", 1);
	off[2] = b->len;
	(void)buf_addf(b, "max-rcpts=%u", c->smtp_max_rcpts);
	(void)buf_add(b, "", 1);
	off[3] = b->len;
	if (buf_addf(b, "hide-client=%d", c->received_hide_client) == -1 ||
	    buf_add(b, "", 1) == -1)
		fatalx("too many domains for an smtp session's arguments");
	for (i = 0; i < 4; i++) {
		argv[argc++] = "-o";
		argv[argc++] = (char *)b->data + off[i];
	}
#ifdef SP_TEST_HOOKS
	if (c->test_smtp_timeout_ms != 0) {
		size_t	o = b->len;

		if (buf_addf(b, "timeouts=%u", c->test_smtp_timeout_ms) == -1 ||
		    buf_add(b, "", 1) == -1)
			fatalx("smtp session arguments");
		argv[argc++] = "-o";
		argv[argc++] = (char *)b->data + o;
	}
#endif
	return argc;
}

/*
 * imap-login: -o max-size (APPENDLIMIT in its CAPABILITY, RFC 7889; the
 * mail process gets it from proc_login); both: (test hooks) -o
 * timeouts=MS.
 */
static int
proc_imap_argv(struct master *m, char **argv, int argc, bool login)
{
	static char	maxsz[40];
#ifdef SP_TEST_HOOKS
	static char	imapto[32];
#endif

	if (login) {
		snprintf(maxsz, sizeof(maxsz), "max-size=%llu",
		    (unsigned long long)m->conf->max_message_size);
		argv[argc++] = "-o";
		argv[argc++] = maxsz;
	}
#ifdef SP_TEST_HOOKS
	if (m->conf->test_imap_timeout_ms) {
		snprintf(imapto, sizeof(imapto), "timeouts=%u",
		    m->conf->test_imap_timeout_ms);
		argv[argc++] = "-o";
		argv[argc++] = imapto;
	}
#endif
	return argc;
}

/*
 * One client address may hold max-sessions-per-client sessions at once
 * (SECURITY-TESTS J: one address must not take every session).  Past
 * that the connection is answered by us, without a session process, and
 * closed: a one-line "try later" where the protocol starts in plaintext
 * (best effort: a non-blocking write), nothing on an implicit-TLS port.
 * 1 when the connection was refused (cfd closed).
 */
static int
proc_client_full(struct master *m, struct listener *l, int cfd,
    const char *client, const char *idstr)
{
	struct child	*c;
	const char	*msg = NULL;
	unsigned int	 n = 0;

	TAILQ_FOREACH(c, &m->children, entry)
		if (c->account == 0 && strcmp(c->client, client) == 0)
			n++;
	if (n < m->conf->max_sessions_per_client)
		return 0;
	switch (l->conf.kind) {
	case SP_LISTEN_SMTP:
	case SP_LISTEN_SUBMISSION:
		msg = "421 4.7.0 Too many connections from your address, "
		    "try again later\r\n";
		break;
	case SP_LISTEN_IMAP:
		msg = "* BYE [UNAVAILABLE] Too many connections from your "
		    "address\r\n";
		break;
	case SP_LISTEN_POP3:
		msg = "-ERR [SYS/TEMP] Too many connections from your "
		    "address\r\n";
		break;
	default:
		break;
	}
	if (msg != NULL)
		(void)!send(cfd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(cfd);
	log_info("%s master event=refused listener=%s client=%s "
	    "reason=too-many-connections sessions=%u", idstr,
	    conf_kind_name(l->conf.kind), client, n);
	return 1;
}

void
proc_spawn_session(struct master *m, struct listener *l, int cfd)
{
	proc_spawn_session_opts(m, l, cfd, NULL, 0);
}

void
proc_spawn_session_opts(struct master *m, struct listener *l, int cfd,
    char *const *extra, size_t nextra)
{
	const struct proc_spec	*spec = proctab_sessions[l->conf.kind];
	struct child		*c;
	char			 path[PATH_MAX], idstr[17], peer[80];
	char			 client[INET6_ADDRSTRLEN];
	char			 bufs[2][24], *argv[32];
	struct buf		*opts = NULL;
	int			 fds[SP_FD_FIRST_FREE], mc[2] = { -1, -1 };
	int			 sc[SVC_MAX][2], argc, i;
	uint64_t		 id;
	pid_t			 pid;

	arc4random_buf(&id, sizeof(id));
	snprintf(idstr, sizeof(idstr), "%016" PRIx64, id);
	proc_client(cfd, client, sizeof(client), peer, sizeof(peer));
	if (proc_client_full(m, l, cfd, client, idstr))
		return;
	if (proc_bin_path(m->conf, spec, path, sizeof(path)) == -1)
		fatalx("libexec-dir path too long");

	for (i = 0; i < SVC_MAX; i++)
		sc[i][0] = sc[i][1] = -1;
	for (i = 0; i < SP_FD_FIRST_FREE; i++)
		fds[i] = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mc) == -1)
		goto fail;
	for (i = 0; i < SVC_MAX; i++) {
		if ((spec->channels & (1u << i)) == 0)
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    sc[i]) == -1)
			goto fail;
		fds[SP_FD_SVC(i)] = sc[i][0];
	}
	fds[SP_FD_CLIENT] = cfd;
	fds[SP_FD_LOG] = m->log_wfd;
	fds[SP_FD_TLS] = spec->needs_tls ? m->tls_fd : -1;
	fds[SP_FD_TICKETS] = spec->needs_tls ? m->tickets_fd : -1;
	fds[SP_FD_MASTER] = mc[1];

	argc = proc_base_argv(m, path, &m->session_ids[l->conf.kind], argv,
	    bufs);
	argv[argc++] = "-i";
	argv[argc++] = idstr;
	argv[argc++] = "-k";
	argv[argc++] = (char *)conf_kind_name(l->conf.kind);
	argv[argc++] = "-H";
	argv[argc++] = m->conf->hostname;
	if (spec->role == ROLE_SMTP)
		argc = proc_smtp_argv(m, argv, argc, &opts);
	if (spec->role == ROLE_IMAP_LOGIN)
		argc = proc_imap_argv(m, argv, argc, true);
	if (spec->role == ROLE_POP3_LOGIN)
		argc = proc_imap_argv(m, argv, argc, false);
	for (i = 0; i < (int)nextra && i < 2; i++) {
		argv[argc++] = "-o";
		argv[argc++] = extra[i];
	}
	argv[argc] = NULL;

	switch (pid = fork()) {
	case -1:
		goto fail;
	case 0:
		proc_exec(m, path, argv, fds, SP_FD_FIRST_FREE);
		/* NOTREACHED */
	default:
		break;
	}
	buf_free(&opts);
	close(cfd);
	close(mc[1]);
	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->id = id;
	strlcpy(c->client, client, sizeof(c->client));
	c->listener = l;
	c->spec = spec;
	c->chan = ipc_chan_new(m->base, mc[0], IPC_PEER_SESSION,
	    proc_session_dispatch, proc_session_closed, c);
	for (i = 0; i < SVC_MAX; i++) {
		if (sc[i][0] == -1)
			continue;
		close(sc[i][0]);
		service_attach_session(m, (enum sp_service)i, id,
		    l->conf.kind, client, sc[i][1]);
	}
	TAILQ_INSERT_TAIL(&m->children, c, entry);
	m->nchildren++;
	c->counted = 1;
	l->nsessions++;
	l->accepted++;
	log_info("%s master event=connect listener=%s client=%s proc=%s "
	    "pid=%ld", idstr, conf_kind_name(l->conf.kind), peer, spec->name,
	    (long)pid);
	if (m->nchildren >= m->conf->max_sessions && !m->paused) {
		log_warnx("max-sessions %u reached: not accepting until a "
		    "session ends", m->conf->max_sessions);
		listener_enable(m, 0);
	}
	return;
fail:
	log_warn("%s master event=spawn-failed listener=%s", idstr,
	    conf_kind_name(l->conf.kind));
	buf_free(&opts);
	close(cfd);
	for (i = 0; i < 2; i++)
		if (mc[i] != -1)
			close(mc[i]);
	for (i = 0; i < SVC_MAX; i++) {
		if (sc[i][0] != -1)
			close(sc[i][0]);
		if (sc[i][1] != -1)
			close(sc[i][1]);
	}
}

static void
proc_log_exit(const char *idstr, const char *proc, pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		log_warnx("%s master event=exit proc=%s pid=%ld signal=%d",
		    idstr, proc, (long)pid, WTERMSIG(st));
	else if (WEXITSTATUS(st) == SANDBOX_EXIT_VIOLATION)
		log_warnx("%s master event=exit proc=%s pid=%ld status=%d "
		    "reason=sandbox-violation", idstr, proc, (long)pid,
		    WEXITSTATUS(st));
	else if (WEXITSTATUS(st) != 0)
		log_warnx("%s master event=exit proc=%s pid=%ld status=%d",
		    idstr, proc, (long)pid, WEXITSTATUS(st));
	else
		log_debug("%s master event=exit proc=%s pid=%ld status=0",
		    idstr, proc, (long)pid);
}

void
proc_reap(struct master *m)
{
	struct child	*c;
	char		 idstr[17];
	pid_t		 pid;
	int		 st;

	/* Lines a child sent just before it died come first. */
	proc_log_read(m->log_rfd, EV_READ, m);
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (service_reaped(m, pid, st))
			continue;
		if ((c = proc_find(m, pid)) == NULL)
			continue;
		snprintf(idstr, sizeof(idstr), "%016" PRIx64, c->id);
		proc_log_exit(idstr, c->spec->name, pid, st);
		TAILQ_REMOVE(&m->children, c, entry);
		if (c->chan != NULL)
			ipc_chan_free(c->chan);
		if (c->counted)
			c->listener->nsessions--;
		m->nchildren--;
		free(c);
	}
	listener_gc(m);
	if (m->stopping) {
		if (m->nchildren == 0)
			service_stop_all(m);
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
	char		 cbuf[CMSG_SPACE(sizeof(struct ucred)) +
			    CMSG_SPACE(4 * sizeof(int))];
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	struct ucred	 cred;
	struct child	*c;
	struct retired	*r;
	const char	*name;
	ssize_t		 n;
	int		 prio, have_cred, i;

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
		name = "child";
		if ((c = proc_find(m, cred.pid)) != NULL)
			name = c->spec->name;
		for (i = 0; i < SVC_MAX; i++)
			if (m->services[i].pid == cred.pid ||
			    (m->renewing[i] != NULL &&
			    m->renewing[i]->pid == cred.pid))
				name = m->services[i].spec->name;
		/* a retired service process finishing its sessions */
		TAILQ_FOREACH(r, &m->retired, entry)
			if (r->pid == cred.pid)
				name = r->name;
		log_write_child(prio, name, cred.pid, line + 1, (size_t)n - 1);
	}
}

/* The live login process (IMAP or POP3) of a connection, or NULL. */
static struct child *
proc_find_login(struct master *m, uint64_t connid)
{
	struct child	*c;

	TAILQ_FOREACH(c, &m->children, entry)
		if (c->id == connid && c->spec->mail != NULL)
			return c;
	return NULL;
}

/* The account's folder (store/layout.h); created on first use. */
static int
proc_account_dir(struct master *m, uint64_t account, uid_t uid, char *path,
    size_t len)
{
	char	err[256];
	int	n;

	n = snprintf(path, len, "%s/mail/%llu", m->conf->data_dir,
	    (unsigned long long)account);
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (layout_account_create(m->conf->data_dir, account, uid,
	    m->services[SVC_DELIVER].ids.gid, err, sizeof(err)) == -1) {
		log_warnx("account %llu folder: %s",
		    (unsigned long long)account, err);
		return -1;
	}
	return 0;
}

static void
proc_mail_ready(struct child *login, int ok, uint64_t account, int fd)
{
	struct ipc_out	*out;

	if (login->chan == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	out = ipc_out_new(IMSG_MASTER_MAIL_READY, 0, fd);
	ipc_add_u32(out, ok);
	ipc_add_u64(out, account);
	(void)ipc_chan_send(login->chan, out);
}

void
proc_login(struct master *m, uint64_t connid, uint64_t account)
{
	struct child		*login, *c;
	const struct proc_spec	*spec;
	struct proc_ids		 ids;
	char		 path[PATH_MAX], dir[PATH_MAX], idstr[17], acct[24];
	char		 maxsz[40];
	char		 bufs[2][24], *argv[24];
	int		 fds[SP_FD_FIRST_FREE], mc[2] = { -1, -1 };
	int		 sv[2] = { -1, -1 }, kc[2] = { -1, -1 }, argc, i;
	pid_t		 pid;

	snprintf(idstr, sizeof(idstr), "%016" PRIx64, connid);
	/*
	 * SECURITY: auth speaks for a connection that is a live IMAP or POP3
	 * login; which mail process it gets is the login's, never auth's.
	 */
	if ((login = proc_find_login(m, connid)) == NULL) {
		log_warnx("%s master event=login result=no-such-session", idstr);
		return;
	}
	spec = login->spec->mail;
	if (account > (uint64_t)(m->conf->account_uid_max -
	    m->conf->account_uid_min)) {
		log_warnx("%s master event=login account=%llu result=refused "
		    "reason=outside-account-uids", idstr,
		    (unsigned long long)account);
		proc_mail_ready(login, 0, account, -1);
		return;
	}
	ids.uid = (uid_t)(m->conf->account_uid_min + account);
	ids.gid = (gid_t)ids.uid;
	if (proc_account_dir(m, account, ids.uid, dir, sizeof(dir)) == -1) {
		log_warn("%s master event=login account=%llu result=refused "
		    "reason=account-folder", idstr, (unsigned long long)account);
		proc_mail_ready(login, 0, account, -1);
		return;
	}
	if (proc_bin_path(m->conf, spec, path, sizeof(path)) == -1)
		fatalx("libexec-dir path too long");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mc) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, kc) == -1)
		goto fail;
	for (i = 0; i < SP_FD_FIRST_FREE; i++)
		fds[i] = -1;
	fds[SP_FD_CLIENT] = sv[1];
	fds[SP_FD_LOG] = m->log_wfd;
	fds[SP_FD_MASTER] = mc[1];
	fds[SP_FD_KEY] = kc[1];		/* auth hands the key over it */
	argc = proc_base_argv(m, path, &ids, argv, bufs);
	/* -j is the account folder; -m makes it an account jail */
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "-j") == 0)
			argv[i + 1] = dir;
	snprintf(acct, sizeof(acct), "%llu", (unsigned long long)account);
	argv[argc++] = "-m";
	argv[argc++] = m->mailroot;
	argv[argc++] = "-i";
	argv[argc++] = idstr;
	argv[argc++] = "-a";
	argv[argc++] = acct;
	argv[argc++] = "-H";
	argv[argc++] = m->conf->hostname;
	/* APPEND takes a message as large as SMTP does */
	snprintf(maxsz, sizeof(maxsz), "max-size=%llu",
	    (unsigned long long)m->conf->max_message_size);
	argv[argc++] = "-o";
	argv[argc++] = maxsz;
	argc = proc_imap_argv(m, argv, argc, false);
	argv[argc] = NULL;

	switch (pid = fork()) {
	case -1:
		goto fail;
	case 0:
		proc_exec(m, path, argv, fds, SP_FD_FIRST_FREE);
	default:
		break;
	}
	close(sv[1]);
	close(mc[1]);
	close(kc[1]);
	{
		/* the key goes from auth to the mail process, not through us */
		struct service	*a = &m->services[SVC_AUTH];
		struct ipc_out	*kout;

		if (a->chan != NULL && a->ready) {
			kout = ipc_out_new(IMSG_MASTER_KEYCHAN, 0, kc[0]);
			ipc_add_u64(kout, connid);
			ipc_add_u64(kout, account);
			(void)ipc_chan_send(a->chan, kout);
		} else
			close(kc[0]);
	}
	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->id = connid;
	c->listener = login->listener;
	c->spec = spec;
	c->account = account;
	c->chan = ipc_chan_new(m->base, mc[0], IPC_PEER_SESSION,
	    proc_session_dispatch, proc_session_closed, c);
	TAILQ_INSERT_TAIL(&m->children, c, entry);
	m->nchildren++;
	log_info("%s master event=login account=%llu uid=%lu proc=%s pid=%ld",
	    idstr, (unsigned long long)account, (unsigned long)ids.uid,
	    spec->name, (long)pid);
	proc_mail_ready(login, 1, account, sv[0]);
	return;
fail:
	log_warn("%s master event=login result=spawn-failed", idstr);
	for (i = 0; i < 2; i++) {
		if (sv[i] != -1)
			close(sv[i]);
		if (mc[i] != -1)
			close(mc[i]);
		if (kc[i] != -1)
			close(kc[i]);
	}
	proc_mail_ready(login, 0, account, -1);
}
