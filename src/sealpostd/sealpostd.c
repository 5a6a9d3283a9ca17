/* SPDX-License-Identifier: ISC */
/*
 * sealpostd.c - the master: reads the configuration, binds the listeners,
 * spawns a session process per connection, supervises, logs.
 *
 * Process:  master (root, stays small).  It parses the configuration and
 *           nothing from the network: it accepts a connection and passes
 *           the socket to a freshly exec'd, unprivileged session binary.
 * Trust:    the configuration is the administrator's; children are not
 *           trusted (their log lines are re-escaped, see proc.c).
 * See also: docs/sealpostd.8, docs/sealpost.conf.5, docs/design.md.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "tls.h"
#include "sealpostd.h"
#include "banned.h"

#ifndef SP_SYSCONFDIR
#define SP_SYSCONFDIR "/etc"
#endif
#define SP_DEFAULT_CONF		SP_SYSCONFDIR "/sealpost/sealpost.conf"
#define SP_STOP_TIMEOUT		10	/* seconds before SIGKILL at stop */
#define SP_SESSION_USER		"nobody"
#define SP_LOG_RCVBUF		(1024 * 1024)

static struct master	master;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sealpostd [-dfnv] [-c file]\n");
	exit(1);
}

static void
master_kill_children(struct master *m, int sig)
{
	struct child	*c;

	TAILQ_FOREACH(c, &m->children, entry)
		(void)kill(c->pid, sig);
}

static void
master_stop_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;

	(void)fd;
	(void)ev;
	log_warnx("%u session(s) still running after %d s: killing them",
	    m->nchildren, SP_STOP_TIMEOUT);
	master_kill_children(m, SIGKILL);
}

static void
master_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct master	*m = arg;
	struct timeval	 tv = { SP_STOP_TIMEOUT, 0 };

	(void)ev;
	switch (sig) {
	case SIGCHLD:
		proc_reap(m);
		break;
	case SIGHUP:
		log_warnx("SIGHUP: configuration reload is not supported yet; "
		    "restart sealpostd to apply changes");
		break;
	case SIGTERM:
	case SIGINT:
		if (m->stopping) {
			log_warnx("second stop signal: killing sessions");
			master_kill_children(m, SIGKILL);
			break;
		}
		log_info("stopping on signal %d, %u session(s) running",
		    (int)sig, m->nchildren);
		m->stopping = 1;
		listener_close_all(m);
		listener_remove_file(m);
		master_kill_children(m, SIGTERM);
		if (m->nchildren == 0) {
			event_base_loopbreak(m->base);
			break;
		}
		m->ev_stop_timer = evtimer_new(m->base, master_stop_timeout, m);
		if (m->ev_stop_timer != NULL)
			evtimer_add(m->ev_stop_timer, &tv);
		break;
	}
}

static int
master_pidfile(const struct sp_conf *conf)
{
	char	path[PATH_MAX];
	int	fd, n;

	n = snprintf(path, sizeof(path), "%s/sealpostd.pid", conf->run_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		fatalx("run-dir path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("%s: another sealpostd is running with run-dir "
			    "%s", path, conf->run_dir);
		fatal("flock %s", path);
	}
	return fd;
}

static void
master_write_pid(int fd)
{
	char	buf[32];
	int	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		fatal("pidfile");
}

static void
master_remove_pid(const struct sp_conf *conf)
{
	char	path[PATH_MAX];
	int	n;

	n = snprintf(path, sizeof(path), "%s/sealpostd.pid", conf->run_dir);
	if (n > 0 && (size_t)n < sizeof(path))
		(void)unlink(path);
}

static void
master_log_socket(struct master *m)
{
	int	sv[2], on = 1, sz = SP_LOG_RCVBUF;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1)
		fatal("SO_PASSCRED");
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* Children write only: the master never reads from their end. */
	if (shutdown(sv[1], SHUT_RD) == -1 && errno != ENOTCONN)
		log_debug("shutdown log socket: %s", strerror(errno));
	m->log_rfd = sv[0];
	m->log_wfd = sv[1];
	m->ev_log = event_new(m->base, m->log_rfd, EV_READ | EV_PERSIST,
	    proc_log_read, m);
	if (m->ev_log == NULL || event_add(m->ev_log, NULL) == -1)
		fatalx("log event");
}

int
main(int argc, char **argv)
{
	struct master	*m = &master;
	struct event	*sigs[4];
	const int	 signums[4] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };
	const char	*conffile = SP_DEFAULT_CONF;
	char		 err[1024];
	int		 ch, check = 0, verbose = 0, foreground = 0, pidfd;
	size_t		 i;

	log_init("sealpostd", LOG_DEST_STDERR, -1);
	while ((ch = getopt(argc, argv, "c:dfnv")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'd':
			m->debug = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if ((m->conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostd: %s\n", err);
		return 1;
	}
	m->tls_fd = -1;
	if (m->conf->tls_cert != NULL && (m->tls_fd = tls_material_load(
	    m->conf->tls_cert, m->conf->tls_key, err, sizeof(err))) == -1) {
		fprintf(stderr, "sealpostd: %s\n", err);
		return 1;
	}
	if (proc_check_binaries(m->conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "sealpostd: %s\n", err);
		return 1;
	}
	if (check) {
		if (verbose) {
			conf_print(stdout, m->conf);
			fflush(stdout);
		}
		fprintf(stderr, "sealpostd: configuration %s OK\n",
		    m->conf->path);
		return 0;
	}
	log_setlevel(m->debug ? LOG_DEBUG : m->conf->log_level);
	m->debug = log_getlevel() >= LOG_DEBUG;

	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(SP_SESSION_USER);

		if (pw == NULL || pw->pw_uid == 0)
			fatalx("user %s not found", SP_SESSION_USER);
		m->session_uid = pw->pw_uid;
		m->session_gid = pw->pw_gid;
	}
	if (mkdir(m->conf->run_dir, 0755) == -1 && errno != EEXIST)
		fatal("%s", m->conf->run_dir);
	pidfd = master_pidfile(m->conf);
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("sealpostd", LOG_DEST_SYSLOG, -1);
	}
	master_write_pid(pidfd);
	signal(SIGPIPE, SIG_IGN);
	TAILQ_INIT(&m->children);

	if ((m->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(m->base, signums[i], master_signal, m);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("signal events");
	}
	master_log_socket(m);
	listener_bind_all(m);
	listener_write_file(m);
	log_info("started pid=%ld listeners=%zu max-sessions=%u", (long)getpid(),
	    m->nlisteners, m->conf->max_sessions);

	event_base_dispatch(m->base);

	listener_close_all(m);
	listener_remove_file(m);
	for (i = 0; i < 4; i++)
		event_free(sigs[i]);
	if (m->ev_stop_timer != NULL)
		event_free(m->ev_stop_timer);
	event_free(m->ev_log);
	event_base_free(m->base);
	free(m->listeners);
	log_info("stopped");
	master_remove_pid(m->conf);
	close(pidfd);
	conf_free(m->conf);
	return 0;
}
