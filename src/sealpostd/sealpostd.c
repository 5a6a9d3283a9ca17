/* SPDX-License-Identifier: ISC */
/*
 * sealpostd.c - the master: reads the configuration, starts and
 * supervises the services, binds the listeners, spawns a session process
 * per connection, reloads on SIGHUP, drains on SIGTERM, logs.
 *
 * Process:  master (root, stays small).  It parses the configuration and
 *           nothing from the network: it accepts a connection and passes
 *           the socket to a freshly exec'd session program, which jails,
 *           drops privileges and sandboxes itself before it reads a byte.
 * Trust:    the configuration is the administrator's; children are not
 *           trusted (their log lines are re-escaped, see proc.c).
 * See also: docs/sealpostd.8, docs/sealpost.conf.5, docs/design.md.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "log.h"
#include "tls.h"
#include "policy.h"
#include "quarantine.h"
#include "pgp_keys.h"
#include "sealpostd.h"
#include "banned.h"

#ifndef SP_SYSCONFDIR
#define SP_SYSCONFDIR "/etc"
#endif
#define SP_DEFAULT_CONF		SP_SYSCONFDIR "/sealpost/sealpost.conf"
#define SP_LOG_RCVBUF		(1024 * 1024)
#define SP_TICKET_ROTATE	3600	/* seconds a ticket key encrypts */

static struct master	master;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sealpostd [-dfnv] [-c file]\n");
	exit(1);
}

static void
master_kill_sessions(struct master *m, int sig)
{
	struct child	*c;

	TAILQ_FOREACH(c, &m->children, entry)
		(void)kill(c->pid, sig);
}

static void
master_kill_all(struct master *m)
{
	int	i;

	master_kill_sessions(m, SIGKILL);
	for (i = 0; i < SVC_MAX; i++)
		if (m->services[i].pid > 0)
			(void)kill(m->services[i].pid, SIGKILL);
}

static void
master_stop_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;

	(void)fd;
	(void)ev;
	log_warnx("still running after shutdown-timeout %us: %u session(s);"
	    " killing what is left", m->conf->shutdown_timeout, m->nchildren);
	master_kill_all(m);
}

/*
 * Stop: no new connections; each session gets SIGTERM and ends at its
 * next command boundary with a goodbye in its protocol; after
 * shutdown-timeout what is left is killed; then the services stop.
 */
static void
master_stop(struct master *m, int sig)
{
	struct timeval	tv = { m->conf->shutdown_timeout, 0 };

	if (m->stopping) {
		log_warnx("second stop signal: killing everything");
		master_kill_all(m);
		return;
	}
	log_info("stopping on signal %d: draining %u session(s) for up to "
	    "%us", sig, m->nchildren, m->conf->shutdown_timeout);
	m->stopping = 1;
	listener_close_all(m);
	pickup_close(m);
#ifdef SP_TEST_HOOKS
	test_mta_close(m);
#endif
	listener_remove_file(m);
	master_kill_sessions(m, SIGTERM);
	m->ev_stop_timer = evtimer_new(m->base, master_stop_timeout, m);
	if (m->ev_stop_timer != NULL)
		evtimer_add(m->ev_stop_timer, &tv);
	if (m->nchildren == 0)
		service_stop_all(m);
}

/* Two optional strings are equal (both NULL, or the same text). */
static int
conf_str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Do the queue's and the mta's settings differ (their -o options)? */
static int
outbound_changed(const struct sp_conf *a, const struct sp_conf *b)
{
	return strcmp(a->hostname, b->hostname) != 0 ||
	    a->outbound_port != b->outbound_port ||
	    (a->dns_resolver == NULL) != (b->dns_resolver == NULL) ||
	    (a->dns_resolver != NULL &&
	    strcmp(a->dns_resolver, b->dns_resolver) != 0) ||
	    a->queue_first_retry != b->queue_first_retry ||
	    a->queue_retry_interval != b->queue_retry_interval ||
	    a->queue_lifetime != b->queue_lifetime ||
	    a->queue_delay_warning != b->queue_delay_warning ||
	    a->outbound_concurrency != b->outbound_concurrency ||
	    a->outbound_rate != b->outbound_rate ||
	    a->outbound_timeout != b->outbound_timeout ||
	    a->max_hops != b->max_hops ||
	    a->https_port != b->https_port ||
	    strcmp(a->https_ca_file, b->https_ca_file) != 0 ||
	    a->https_ca_file_given != b->https_ca_file_given ||
	    !conf_str_eq(a->smarthost, b->smarthost) ||
	    a->smarthost_port != b->smarthost_port ||
	    !conf_str_eq(a->smarthost_auth_file, b->smarthost_auth_file) ||
	    !conf_str_eq(a->dnssec_trust_anchor, b->dnssec_trust_anchor);
}

/*
 * An https-ca-file the administrator named must be readable (the mta
 * reads it before its jail); the default may be missing (no
 * ca-certificates package): Web Key Directory lookups then fail for now.
 */
static int
master_check_https_ca(const struct sp_conf *c, char *err, size_t errlen)
{
	if (c->https_ca_file_given && access(c->https_ca_file, R_OK) == -1) {
		snprintf(err, errlen, "https-ca-file %s: %s", c->https_ca_file,
		    strerror(errno));
		return -1;
	}
	/*
	 * SECURITY: the smarthost's password file must be root's alone
	 * (the mta reads it before its jail and checks again); the
	 * dnssec-trust-anchor must be readable.  Never the contents.
	 */
	if (c->smarthost_auth_file != NULL) {
		struct stat	st;

		if (stat(c->smarthost_auth_file, &st) == -1) {
			snprintf(err, errlen, "smarthost-auth-file %s: %s",
			    c->smarthost_auth_file, strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
		    (st.st_mode & 077) != 0) {
			snprintf(err, errlen, "smarthost-auth-file %s: must "
			    "be a file owned by root, mode 0600",
			    c->smarthost_auth_file);
			return -1;
		}
	}
	if (c->dnssec_trust_anchor != NULL &&
	    access(c->dnssec_trust_anchor, R_OK) == -1) {
		snprintf(err, errlen, "dnssec-trust-anchor %s: %s",
		    c->dnssec_trust_anchor, strerror(errno));
		return -1;
	}
	return 0;
}

int
master_reload(struct master *m, char *err, size_t errlen)
{
	struct sp_conf	*nc;
	char		 why[1024];
	struct policy_stats pst;
	int		 tls_fd = -1, policy_fd = -1, outbound, i;

	if ((nc = conf_load(m->conf->path, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s", why);
		goto refused;
	}
	if (strcmp(nc->run_dir, m->conf->run_dir) != 0 ||
	    strcmp(nc->data_dir, m->conf->data_dir) != 0) {
		snprintf(err, errlen, "run-dir and data-dir cannot change on "
		    "reload: restart sealpostd");
		goto refused;
	}
#ifdef SP_TEST_HOOKS
	if (nc->test_sandbox_off != m->conf->test_sandbox_off) {
		snprintf(err, errlen, "test-sandbox cannot change on reload");
		goto refused;
	}
#endif
	if (nc->tls_cert != NULL && (tls_fd = tls_material_load(nc->tls_cert,
	    nc->tls_key, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "%s", why);
		goto refused;
	}
	if (mpolicy_load(nc, &policy_fd, &pst, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "policy: %s", why);
		goto refused;
	}
	if (proc_check_binaries(nc, why, sizeof(why)) == -1 ||
	    master_check_https_ca(nc, why, sizeof(why)) == -1 ||
	    listener_update(m, nc, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s", why);
		goto refused;
	}
	/* committed: new sessions get the new settings */
	outbound = outbound_changed(m->conf, nc);
	if (m->tls_fd != -1)
		close(m->tls_fd);
	m->tls_fd = tls_fd;
	close(m->policy_fd);
	m->policy_fd = policy_fd;
	conf_free(m->conf);
	m->conf = nc;
	log_setlevel(m->debug ? LOG_DEBUG : nc->log_level);
	if (proc_resolve_users(m, why, sizeof(why)) == -1)
		log_warnx("reload: %s (keeping the previous users)", why);
	listener_write_file(m);
	if (m->paused && m->nchildren < nc->max_sessions)
		listener_enable(m, 1);
	log_info("configuration reloaded from %s", nc->path);
	mpolicy_log(nc, &pst);
	/* the new policy and antivirus settings: a fresh filter */
	avwatch_start(m);
	service_renew(m, SVC_FILTER);
	/*
	 * New outbound settings: the queue and the mta start again with
	 * them (everything the queue knows is on disk; attempts under way
	 * are tried again, see design.md "Durability and duplicates").
	 */
	if (outbound) {
		const enum sp_service out[] = { SVC_QUEUE, SVC_MTA };

		log_info("reload: new outbound settings: restarting the queue "
		    "and the mta");
		for (i = 0; i < 2; i++)
			service_restart(m, out[i]);
	}
	/* DKIM keys are read only at start: a new signer sees new keys */
	service_restart(m, SVC_SIGNER);
	return 0;
refused:
	if (tls_fd != -1)
		close(tls_fd);
	if (policy_fd != -1)
		close(policy_fd);
	conf_free(nc);
	log_warnx("reload refused, the running configuration stays: %s", err);
	return -1;
}

/*
 * TLS session tickets: a fresh key every SP_TICKET_ROTATE seconds; the
 * previous one still decrypts, so a ticket lives at most two periods.
 * New session processes get the new keys; running ones keep theirs.
 */
static void
master_tickets_rotate(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;
	struct timeval	 tv = { SP_TICKET_ROTATE, 0 };
	int		 nfd, nkeys = 1;

	(void)fd;
	(void)ev;
	if (m->tickets == NULL) {
		if ((m->tickets = sodium_malloc(TLS_TICKET_KEYS *
		    TLS_TICKET_KEY_LEN)) == NULL)
			fatal("sodium_malloc");
		m->tickets_fd = -1;
	} else {
		memmove(m->tickets + TLS_TICKET_KEY_LEN, m->tickets,
		    TLS_TICKET_KEY_LEN);
		nkeys = 2;
	}
	randombytes_buf(m->tickets, TLS_TICKET_KEY_LEN);
	if ((nfd = tls_tickets_memfd(m->tickets, (size_t)nkeys)) == -1) {
		log_warn("ticket keys: memfd (keeping the old keys)");
	} else {
		if (m->tickets_fd != -1)
			close(m->tickets_fd);
		m->tickets_fd = nfd;
	}
	if (m->ev_tickets == NULL &&
	    (m->ev_tickets = evtimer_new(m->base, master_tickets_rotate, m)) ==
	    NULL)
		fatalx("evtimer_new");
	evtimer_add(m->ev_tickets, &tv);
}

void
master_services_ready(struct master *m)
{
	char	err[1024];
	int	i;

	if (m->listening || m->stopping)
		return;
	for (i = 0; i < SVC_MAX; i++)
		if (!m->services[i].ready)
			return;
	/* clients are let in only once every service can serve them */
	if (listener_update(m, m->conf, err, sizeof(err)) == -1)
		fatalx("%s: %s", m->conf->path, err);
	pickup_open(m);
#ifdef SP_TEST_HOOKS
	test_mta_open(m);
#endif
	listener_write_file(m);
	m->listening = 1;
	log_info("started pid=%ld max-sessions=%u%s", (long)getpid(),
	    m->conf->max_sessions, m->no_filters ?
	    " TEST-SANDBOX-OFF (test hooks build)" : "");
}

static void
master_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct master	*m = arg;
	char		 err[1024];

	(void)ev;
	switch (sig) {
	case SIGCHLD:
		proc_reap(m);
		break;
	case SIGHUP:
		if (!m->stopping)
			(void)master_reload(m, err, sizeof(err));
		break;
	case SIGTERM:
	case SIGINT:
		master_stop(m, (int)sig);
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

/*
 * An empty directory owned by root and writable by root only: the chroot
 * of every session and service (RUN_DIR/empty), and the mount point of
 * the tmpfs root of every account jail (RUN_DIR/mailroot).
 */
static void
master_empty_dir(struct master *m, char *path, size_t len, const char *name)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	int		 n;

	n = snprintf(path, len, "%s/%s", m->conf->run_dir, name);
	if (n < 0 || (size_t)n >= len)
		fatalx("run-dir path too long");
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		fatal("%s", path);
	if (lstat(path, &st) == -1)
		fatal("%s", path);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("%s must be a directory owned by root and writable by "
		    "root only", path);
	if ((d = opendir(path)) == NULL)
		fatal("%s", path);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			fatalx("%s must be empty (found %s)", path,
			    de->d_name);
	closedir(d);
}

/*
 * DATA_DIR/keys/gnupg (root:_sp_pgp 0750, pgp/pgp_keys.c): the keyring
 * that sealpostctl key changes and the pgp service reads (its jail).
 */
static void
master_keyring_dir(struct master *m)
{
	char	err[512];
	int	n;

	n = snprintf(m->keyringdir, sizeof(m->keyringdir), "%s/%s",
	    m->conf->data_dir, PGP_KEYRING_DIR);
	if (n < 0 || (size_t)n >= sizeof(m->keyringdir))
		fatalx("data-dir path too long");
	if (pgp_keyring_prepare(m->conf->data_dir,
	    m->services[SVC_PGP].ids.gid, err, sizeof(err)) == -1 ||
	    pgp_discovered_prepare(m->conf->data_dir,
	    m->services[SVC_PGP].ids.uid, m->services[SVC_PGP].ids.gid, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
}

/*
 * DATA_DIR/mail/quarantine (root:_sp_deliver 0770, store/quarantine.h):
 * deliver writes held messages there; accounts (their own uids) and
 * every other role cannot enter it.
 */
static void
master_quarantine_dir(struct master *m)
{
	gid_t		gid = m->services[SVC_DELIVER].ids.gid;
	struct stat	st;
	char		path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/" QUAR_DIR, m->maildir);
	if (mkdir(path, 0770) == -1) {
		if (errno != EEXIST)
			fatal("%s", path);
	} else if (chown(path, 0, gid) == -1 || chmod(path, 0770) == -1)
		fatal("chown %s", path);
	if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || st.st_gid != gid || (st.st_mode & 07777) != 0770)
		fatalx("%s must be a directory of root, group %s, mode 0770",
		    path, proctab_services[SVC_DELIVER].user);
}

/* DATA_DIR (0711) and DATA_DIR/mail (0711, root's): deliver's jail. */
static void
master_mail_dir(struct master *m)
{
	struct stat	st;
	int		n;

	n = snprintf(m->maildir, sizeof(m->maildir), "%s/mail",
	    m->conf->data_dir);
	if (n < 0 || (size_t)n >= sizeof(m->maildir))
		fatalx("data-dir path too long");
	if (mkdir(m->conf->data_dir, 0711) == -1 && errno != EEXIST)
		fatal("%s", m->conf->data_dir);
	if (mkdir(m->maildir, 0711) == -1 && errno != EEXIST)
		fatal("%s", m->maildir);
	if (lstat(m->maildir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 022) != 0)
		fatalx("%s must be a directory owned by root, writable by root "
		    "only", m->maildir);	master_quarantine_dir(m);
}

/*
 * DATA_DIR/queue (0711, root's): the queue service's jail, with spool/
 * in it (0700, the queue's user) for the sealed messages; DATA_DIR/keys
 * (0700, root's) for the queue key, which the queue service reads as
 * root before its jail.
 */
static void
master_queue_dir(struct master *m)
{
	const struct proc_ids	*q = &m->services[SVC_QUEUE].ids;
	struct stat		 st;
	char			 spool[PATH_MAX + 8], keys[PATH_MAX];
	int			 n;

	n = snprintf(m->queuedir, sizeof(m->queuedir), "%s/queue",
	    m->conf->data_dir);
	if (n < 0 || (size_t)n >= sizeof(m->queuedir) ||
	    snprintf(keys, sizeof(keys), "%s/keys", m->conf->data_dir) >=
	    (int)sizeof(keys))
		fatalx("data-dir path too long");
	snprintf(spool, sizeof(spool), "%s/spool", m->queuedir);
	if ((mkdir(m->queuedir, 0711) == -1 && errno != EEXIST) ||
	    (mkdir(keys, 0700) == -1 && errno != EEXIST))
		fatal("%s", m->queuedir);
	if (lstat(m->queuedir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 022) != 0)
		fatalx("%s must be a directory owned by root, writable by root "
		    "only", m->queuedir);
	if (lstat(keys, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 077) != 0)
		fatalx("%s must be a directory owned by root, mode 0700",
		    keys);
	if (mkdir(spool, 0700) == -1) {
		if (errno != EEXIST)
			fatal("%s", spool);
	} else if (chown(spool, q->uid, q->gid) == -1)
		fatal("chown %s", spool);
	if (lstat(spool, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != q->uid || (st.st_mode & 077) != 0)
		fatalx("%s must be a directory of %s, mode 0700", spool,
		    proctab_services[SVC_QUEUE].user);
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
	struct policy_stats pst;
	char		 err[1024];
	int		 ch, check = 0, verbose = 0, foreground = 0, pidfd;
	size_t		 i;

	log_init("sealpostd", LOG_DEST_STDERR, -1);
	if (sodium_init() < 0)
		fatalx("sodium_init");
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
	m->ctl_fd = -1;
	if (m->conf->tls_cert != NULL && (m->tls_fd = tls_material_load(
	    m->conf->tls_cert, m->conf->tls_key, err, sizeof(err))) == -1) {
		fprintf(stderr, "sealpostd: %s\n", err);
		return 1;
	}
	if (proc_check_binaries(m->conf, err, sizeof(err)) == -1 ||
	    master_check_https_ca(m->conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "sealpostd: %s\n", err);
		return 1;
	}
	m->policy_fd = -1;
	if (mpolicy_load(m->conf, &m->policy_fd, &pst, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "sealpostd: policy: %s\n", err);
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
	mpolicy_log(m->conf, &pst);
	if (geteuid() != 0) {
		fprintf(stderr, "sealpostd: must be started as root (it "
		    "jails and drops every child to its own user)\n");
		return 1;
	}
	if (proc_resolve_users(m, err, sizeof(err)) == -1) {
		fprintf(stderr, "sealpostd: %s\n", err);
		return 1;
	}
	log_setlevel(m->debug ? LOG_DEBUG : m->conf->log_level);
	m->debug = log_getlevel() >= LOG_DEBUG;
	m->no_filters = m->conf->test_sandbox_off;

	if (mkdir(m->conf->run_dir, 0755) == -1 && errno != EEXIST)
		fatal("%s", m->conf->run_dir);
	master_empty_dir(m, m->jail, sizeof(m->jail), "empty");
	master_empty_dir(m, m->mailroot, sizeof(m->mailroot), "mailroot");
	master_mail_dir(m);
	master_queue_dir(m);
	master_keyring_dir(m);
	pidfd = master_pidfile(m->conf);
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("sealpostd", LOG_DEST_SYSLOG, -1);
	}
	master_write_pid(pidfd);
	m->started = time(NULL);
	signal(SIGPIPE, SIG_IGN);
	TAILQ_INIT(&m->children);
	TAILQ_INIT(&m->retired);
	TAILQ_INIT(&m->listeners);

	if ((m->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(m->base, signums[i], master_signal, m);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("signal events");
	}
	master_log_socket(m);
	master_tickets_rotate(-1, 0, m);
	ctl_socket_open(m);
	service_start_all(m);	/* listeners follow: master_services_ready */
	avwatch_start(m);

	event_base_dispatch(m->base);

	listener_close_all(m);
	pickup_close(m);
#ifdef SP_TEST_HOOKS
	test_mta_close(m);
#endif
	listener_remove_file(m);
	ctl_socket_remove(m);
	for (i = 0; i < 4; i++)
		event_free(sigs[i]);
	log_info("stopped");
	master_remove_pid(m->conf);
	close(pidfd);
	return 0;
}
