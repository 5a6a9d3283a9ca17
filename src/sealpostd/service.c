/* SPDX-License-Identifier: ISC */
/*
 * service.c - the master's supervision of the long-running services
 * (auth, filter, deliver, queue, control): start, hand them session
 * channels, restart a crashed one with backoff, stop them at the end.
 *
 * Process:  master (root).
 * Trust:    a service is trusted more than a session but is still a
 *           separate process: a malformed message from one is a bug or a
 *           compromise, and the service is killed and restarted.
 * Limits:   SERVICE_BACKOFF_MAX between restarts.
 * See also: proctab.c, common/service.c (the other side).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "sealpostd.h"
#include "banned.h"

#define SERVICE_BACKOFF_MAX	60	/* seconds */
#define SERVICE_STABLE		60	/* up this long: backoff resets */
#define SERVICE_MAX_PENDING	1024	/* channels waiting for a restart */

static void	service_start(struct service *);
static void	service_takeover(struct service *);
static void	service_link(struct master *);
static void	service_unlink(struct master *, struct service *);
static void	service_send_session(struct service *, uint64_t,
		    enum sp_listener_kind, const char *, int);

static void
service_flush_pending(struct service *s)
{
	struct pending_session	*p;

	while (s->ready && (p = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, p, entry);
		s->npending--;
		service_send_session(s, p->connid, p->kind, p->client, p->fd);
		free(p);
	}
}

#ifdef SP_TEST_HOOKS
/* Test hooks: the configuration's test accounts, for auth to check. */
static void
service_test_accounts(struct service *s)
{
	const struct sp_conf	*c = s->master->conf;
	struct ipc_out		*out;
	size_t			 i;

	for (i = 0; i < c->ntest_accounts; i++) {
		out = ipc_out_new(IMSG_AUTH_TEST_ACCOUNT, 0, -1);
		ipc_add_str(out, c->test_accounts[i].address);
		ipc_add_data(out, c->test_accounts[i].password,
		    strlen(c->test_accounts[i].password));
		ipc_add_u64(out, c->test_accounts[i].id);
		(void)ipc_chan_send(s->chan, out);
	}
}
#endif

/*
 * The channels between services (proctab_links): control's to auth,
 * deliver and queue; the queue's to mta, auth and deliver.  Made whenever
 * both ends are ready, and remade after either restarts or is renewed.
 * The receiving end sees a session of kind SP_KIND_CONTROL, SP_KIND_QUEUE
 * or SP_KIND_PGP; the sending end gets IMSG_MASTER_CHANNEL.
 */
static void
service_link(struct master *m)
{
	struct ipc_out	*out;
	int		 sv[2];
	size_t		 i;

	for (i = 0; i < proctab_nlinks; i++) {
		struct service *f = &m->services[proctab_links[i].from];
		struct service *t = &m->services[proctab_links[i].to];
		unsigned int	bit = 1u << proctab_links[i].to;

		if (!f->ready || f->chan == NULL || f->renewal ||
		    !t->ready || t->chan == NULL || (f->links & bit))
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    sv) == -1) {
			log_warn("%s channel to %s", f->spec->name,
			    t->spec->name);
			continue;
		}
		service_send_session(t, 0, f->id == SVC_CONTROL ?
		    SP_KIND_CONTROL : f->id == SVC_PGP ? SP_KIND_PGP :
		    SP_KIND_QUEUE, "", sv[0]);
		out = ipc_out_new(IMSG_MASTER_CHANNEL, 0, sv[1]);
		ipc_add_u32(out, (uint32_t)t->id);
		(void)ipc_chan_send(f->chan, out);
		f->links |= bit;
	}
}

/* Service s is gone or replaced: its channels, and everyone's to it. */
static void
service_unlink(struct master *m, struct service *s)
{
	int	i;

	s->links = 0;
	for (i = 0; i < SVC_MAX; i++)
		m->services[i].links &= ~(1u << s->id);
}

static void
service_dispatch(struct ipc_chan *chan, struct ipc_msg *msg, void *arg)
{
	struct service	*s = arg;
	const char	*role, *sandbox;
	uint32_t	 version;

	switch (msg->hdr.type) {
	case IMSG_PROC_READY:
		ipc_msg_clear(msg);
		if (ipc_get_u32(msg, &version) == -1 ||
		    ipc_get_str(msg, &role, 32) == -1 ||
		    ipc_get_str(msg, &sandbox, 63) == -1 ||
		    ipc_end(msg) == -1 || strcmp(role, s->spec->name) != 0) {
			ipc_chan_drop(chan);
			return;
		}
		if (version != IPC_VERSION) {
			log_warnx("service %s speaks IPC version %u, not %d",
			    s->spec->name, version, IPC_VERSION);
			ipc_chan_drop(chan);
			return;
		}
		strlcpy(s->sandbox, sandbox, sizeof(s->sandbox));
		s->ready = 1;
		if (s->renewal) {
			service_takeover(s);
			return;
		}
		log_info("service %s ready pid=%ld sandbox=\"%s\" restarts=%u",
		    s->spec->name, (long)s->pid, s->sandbox, s->restarts);
#ifdef SP_TEST_HOOKS
		if (s->id == SVC_AUTH)
			service_test_accounts(s);
#endif
		service_flush_pending(s);
		service_link(s->master);
		master_services_ready(s->master);
		return;
	case IMSG_AUTH_LOGIN_OK:
		if (s->id == SVC_AUTH) {
			uint64_t	connid, account;

			ipc_msg_clear(msg);
			if (ipc_get_u64(msg, &connid) == -1 ||
			    ipc_get_u64(msg, &account) == -1 ||
			    ipc_end(msg) == -1) {
				ipc_chan_drop(chan);
				return;
			}
			proc_login(s->master, connid, account);
			return;
		}
		break;
	case IMSG_CTL_STATUS:
	case IMSG_CTL_RELOAD:
		if (s->id == SVC_CONTROL) {
			ctl_dispatch(s->master, s, msg);
			return;
		}
		break;
	default:
		break;
	}
	ipc_msg_clear(msg);
	ipc_chan_drop(chan);
}

static void
service_closed(struct ipc_chan *chan, int reason, void *arg)
{
	struct service	*s = arg;

	(void)chan;
	s->chan = NULL;
	s->ready = 0;
	if (reason == IPC_CLOSED_MALFORMED && s->pid > 0) {
		log_warnx("service %s sent a malformed message: killing it "
		    "pid=%ld", s->spec->name, (long)s->pid);
		(void)kill(s->pid, SIGKILL);
	}
}

static void
service_restart_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	service_start(arg);
}

static void
service_start(struct service *s)
{
	struct master	*m = s->master;
	char		 path[PATH_MAX], bufs[2][24], *argv[48];
	char		 opts[12][PATH_MAX + 16];
	int		 fds[SP_FD_FIRST_FREE], sv[2], i, n, k;
	pid_t		 pid;

	if (m->stopping || s->pid > 0)
		return;
	n = snprintf(path, sizeof(path), "%s/%s", m->conf->libexec_dir,
	    s->spec->binary);
	if (n < 0 || (size_t)n >= sizeof(path))
		fatalx("libexec-dir path too long");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("service %s: socketpair", s->spec->name);
		goto retry;
	}
	for (i = 0; i < SP_FD_FIRST_FREE; i++)
		fds[i] = -1;
	fds[SP_FD_LOG] = m->log_wfd;
	fds[SP_FD_MASTER] = sv[1];
	if (s->id == SVC_CONTROL)
		fds[SP_FD_CTLSOCK] = m->ctl_fd;
	if (s->id == SVC_FILTER)
		fds[SP_FD_POLICY] = m->policy_fd;
	n = proc_base_argv(m, path, &s->ids, argv, bufs);
	if (s->spec->data_dir) {
		argv[n++] = "-D";
		argv[n++] = m->conf->data_dir;
		argv[n] = NULL;
	}
	if (s->id == SVC_AUTH) {
		/* the unknown-user KDF must cost what a real one costs */
		snprintf(opts[0], sizeof(opts[0]), "kdf-strength=%d",
		    m->conf->kdf_strength);
		snprintf(opts[1], sizeof(opts[1]), "kdf-workers=%u",
		    m->conf->kdf_workers);
		snprintf(opts[2], sizeof(opts[2]), "cache-lifetime=%u",
		    m->conf->auth_cache_lifetime);
		for (i = 0; i < 3; i++) {
			argv[n++] = "-o";
			argv[n++] = opts[i];
		}
		argv[n] = NULL;
	}
	if (s->id == SVC_FILTER) {
		/* libclamav's database and limits, the scanning threads */
		snprintf(opts[0], sizeof(opts[0]), "workers=%u",
		    m->conf->filter_workers);
		snprintf(opts[1], sizeof(opts[1]), "av-database=%s",
		    m->conf->clamav_db);
		snprintf(opts[2], sizeof(opts[2]), "av-max-scan=%llu",
		    (unsigned long long)m->conf->clamav_max_scan);
		snprintf(opts[3], sizeof(opts[3]), "av-max-file=%llu",
		    (unsigned long long)m->conf->clamav_max_file);
		snprintf(opts[4], sizeof(opts[4]), "av-max-recursion=%u",
		    m->conf->clamav_max_recursion);
		snprintf(opts[5], sizeof(opts[5]), "av-max-files=%u",
		    m->conf->clamav_max_files);
		snprintf(opts[6], sizeof(opts[6]), "tmp-size=%llu",
		    (unsigned long long)m->conf->filter_tmp_size);
		snprintf(opts[7], sizeof(opts[7]), "hostname=%s",
		    m->conf->hostname);
		k = 8;
		if (m->conf->rspamd_url != NULL)
			snprintf(opts[k++], sizeof(opts[8]), "rspamd-url=%s",
			    m->conf->rspamd_url);
		for (i = 0; i < k; i++) {
			argv[n++] = "-o";
			argv[n++] = opts[i];
		}
		argv[n] = NULL;
	}
	if (s->id == SVC_QUEUE) {
		/* the schedule, the limits per destination, our name */
		const struct sp_conf *c = m->conf;

		snprintf(opts[0], sizeof(opts[0]), "hostname=%s", c->hostname);
		snprintf(opts[1], sizeof(opts[1]), "first-retry=%u",
		    c->queue_first_retry);
		snprintf(opts[2], sizeof(opts[2]), "retry-interval=%u",
		    c->queue_retry_interval);
		snprintf(opts[3], sizeof(opts[3]), "lifetime=%u",
		    c->queue_lifetime);
		snprintf(opts[4], sizeof(opts[4]), "delay-warning=%u",
		    c->queue_delay_warning);
		snprintf(opts[5], sizeof(opts[5]), "concurrency=%u",
		    c->outbound_concurrency);
		snprintf(opts[6], sizeof(opts[6]), "rate=%u",
		    c->outbound_rate);
		snprintf(opts[7], sizeof(opts[7]), "max-hops=%u",
		    c->max_hops);
		for (i = 0; i < 8; i++) {
			argv[n++] = "-o";
			argv[n++] = opts[i];
		}
		argv[n] = NULL;
	}
	if (s->id == SVC_MTA) {
		const struct sp_conf *c = m->conf;

		snprintf(opts[0], sizeof(opts[0]), "hostname=%s", c->hostname);
		snprintf(opts[1], sizeof(opts[1]), "port=%u",
		    (unsigned int)c->outbound_port);
		snprintf(opts[2], sizeof(opts[2]), "timeout=%u",
		    c->outbound_timeout);
		k = 3;
		if (c->dns_resolver != NULL)
			snprintf(opts[k++], sizeof(opts[3]), "resolver=%s",
			    c->dns_resolver);
		/* HTTPS (Web Key Directory): the port, the bundle it trusts,
		 * and whether the administrator named it (then it must be
		 * readable) */
		snprintf(opts[k++], sizeof(opts[0]), "https-port=%u",
		    (unsigned int)c->https_port);
		snprintf(opts[k++], sizeof(opts[0]), "https-ca=%s",
		    c->https_ca_file);
		snprintf(opts[k++], sizeof(opts[0]), "https-ca-given=%d",
		    c->https_ca_file_given);
		/* issue 15: file names only; the mta reads them as root
		 * before its jail (SECURITY: no secret in argv) */
		if (c->smarthost != NULL)
			snprintf(opts[k++], sizeof(opts[0]),
			    "smarthost=%s:%u", c->smarthost,
			    (unsigned int)c->smarthost_port);
		if (c->smarthost_auth_file != NULL)
			snprintf(opts[k++], sizeof(opts[0]),
			    "smarthost-auth=%s", c->smarthost_auth_file);
		if (c->dnssec_trust_anchor != NULL)
			snprintf(opts[k++], sizeof(opts[0]),
			    "trust-anchor=%s", c->dnssec_trust_anchor);
		for (i = 0; i < k; i++) {
			argv[n++] = "-o";
			argv[n++] = opts[i];
		}
		argv[n] = NULL;
	}
#ifdef SP_TEST_HOOKS
	if (s->id == SVC_DELIVER && m->conf->test_deliver_crash != NULL) {
		argv[n++] = "-X";
		argv[n++] = m->conf->test_deliver_crash;
		argv[n] = NULL;
	}
#endif
	if (s->spec->jail_pgp) {
		for (i = 0; i < n; i++)
			if (strcmp(argv[i], "-j") == 0)
				argv[i + 1] = m->keyringdir;
		argv[n++] = "-m";
		argv[n++] = m->mailroot;
		argv[n] = NULL;
	}
	if (s->spec->jail_mail) {
		for (i = 0; i < n; i++)
			if (strcmp(argv[i], "-j") == 0)
				argv[i + 1] = s->spec->jail_queue ?
				    m->queuedir : m->maildir;
		argv[n++] = "-m";
		argv[n++] = m->mailroot;
		argv[n] = NULL;
	}

	switch (pid = fork()) {
	case -1:
		log_warn("service %s: fork", s->spec->name);
		close(sv[0]);
		close(sv[1]);
		goto retry;
	case 0:
		proc_exec(m, path, argv, fds, SP_FD_FIRST_FREE);
	default:
		break;
	}
	close(sv[1]);
	s->pid = pid;
	s->started = time(NULL);
	s->ready = 0;
	s->sandbox[0] = '\0';
	s->chan = ipc_chan_new(m->base, sv[0], IPC_PEER_SERVICE,
	    service_dispatch, service_closed, s);
	log_debug("service %s started pid=%ld", s->spec->name, (long)pid);
	return;
retry:
	{
		struct timeval	tv = { s->backoff, 0 };

		evtimer_add(s->ev_restart, &tv);
	}
}

void
service_start_all(struct master *m)
{
	int	i;

	for (i = 0; i < SVC_MAX; i++) {
		struct service	*s = &m->services[i];

		s->id = (enum sp_service)i;
		s->spec = &proctab_services[i];
		s->master = m;
		s->backoff = 1;
		TAILQ_INIT(&s->pending);
		if ((s->ev_restart = evtimer_new(m->base, service_restart_cb,
		    s)) == NULL)
			fatalx("evtimer_new");
		service_start(s);
	}
}

/* When stopping: once no service process of any kind is left, stop. */
static void
service_maybe_done(struct master *m)
{
	int	i;

	for (i = 0; i < SVC_MAX; i++)
		if (m->services[i].pid > 0 || (m->renewing[i] != NULL &&
		    m->renewing[i]->pid > 0))
			return;
	if (!TAILQ_EMPTY(&m->retired))
		return;
	event_base_loopbreak(m->base);
}

static void
service_free_renewal(struct master *m, struct service *n)
{
	m->renewing[n->id] = NULL;
	if (n->chan != NULL)
		ipc_chan_free(n->chan);
	evtimer_del(n->ev_restart);
	event_free(n->ev_restart);
	free(n);
}

/* A retired process's channel: it has nothing to say any more. */
static void
service_retired_dispatch(struct ipc_chan *chan, struct ipc_msg *msg,
    void *arg)
{
	(void)chan;
	(void)arg;
	ipc_msg_clear(msg);
}

static void
service_retired_closed(struct ipc_chan *chan, int reason, void *arg)
{
	struct retired	*r = arg;

	(void)chan;
	(void)reason;
	r->chan = NULL;
}

/*
 * A renewal is ready: it becomes the service (new sessions go to it), and
 * the process it replaces is retired with its sessions.
 */
static void
service_takeover(struct service *n)
{
	struct master	*m = n->master;
	struct service	*s = &m->services[n->id];
	struct retired	*r;
	struct ipc_out	*out;
	int		 again = n->renew_again;

	if (s->pid > 0 && s->chan != NULL) {
		r = xcalloc(1, sizeof(*r));
		r->pid = s->pid;
		r->chan = s->chan;
		r->name = s->spec->name;
		ipc_chan_rebind(r->chan, service_retired_dispatch,
		    service_retired_closed, r);
		out = ipc_out_new(IMSG_MASTER_RETIRE, 0, -1);
		(void)ipc_chan_send(r->chan, out);
		TAILQ_INSERT_TAIL(&m->retired, r, entry);
		log_info("service %s renewed: pid=%ld serves new sessions, "
		    "pid=%ld finishes its own", s->spec->name, (long)n->pid,
		    (long)r->pid);
	} else {
		/* the old one died meanwhile: it restarts as this one */
		if (s->pid > 0)
			(void)kill(s->pid, SIGTERM);
		log_info("service %s renewed: pid=%ld", s->spec->name,
		    (long)n->pid);
	}
	evtimer_del(s->ev_restart);
	s->pid = n->pid;
	s->chan = n->chan;
	n->chan = NULL;
	ipc_chan_rebind(s->chan, service_dispatch, service_closed, s);
	s->ready = 1;
	s->started = n->started;
	s->backoff = 1;
	strlcpy(s->sandbox, n->sandbox, sizeof(s->sandbox));
	service_unlink(m, s);
	service_free_renewal(m, n);
	service_flush_pending(s);
	service_link(m);
	if (again)
		service_renew(m, s->id);
}

void
service_restart(struct master *m, enum sp_service id)
{
	struct service	*s = &m->services[id];

	if (s->pid <= 0 || s->restart_asked)
		return;
	s->restart_asked = 1;
	if (kill(s->pid, SIGTERM) == -1)
		s->restart_asked = 0;
}

void
service_renew(struct master *m, enum sp_service id)
{
	struct service	*s = &m->services[id], *n;

	if (m->stopping || s->pid <= 0 || !s->ready)
		return;		/* its next start takes the new settings */
	if (m->renewing[id] != NULL) {
		m->renewing[id]->renew_again = 1;
		return;
	}
	n = xcalloc(1, sizeof(*n));
	n->id = id;
	n->spec = s->spec;
	n->master = m;
	n->ids = s->ids;
	n->backoff = 1;
	n->renewal = 1;
	TAILQ_INIT(&n->pending);
	if ((n->ev_restart = evtimer_new(m->base, service_restart_cb, n)) ==
	    NULL)
		fatalx("evtimer_new");
	m->renewing[id] = n;
	service_start(n);
}

/* A renewal that died before it was ready, or a retired process. */
static int
service_reaped_other(struct master *m, pid_t pid, int st)
{
	struct retired	*r;
	int		 i;

	for (i = 0; i < SVC_MAX; i++) {
		struct service	*n = m->renewing[i];

		if (n == NULL || n->pid != pid)
			continue;
		log_warnx("service %s: the fresh process pid=%ld %s %d before "
		    "it was ready; pid=%ld goes on", n->spec->name, (long)pid,
		    WIFSIGNALED(st) ? "died of signal" : "exited with",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
		    (long)m->services[i].pid);
		service_free_renewal(m, n);
		if (m->stopping)
			service_maybe_done(m);
		return 1;
	}
	TAILQ_FOREACH(r, &m->retired, entry) {
		if (r->pid != pid)
			continue;
		TAILQ_REMOVE(&m->retired, r, entry);
		if (r->chan != NULL)
			ipc_chan_free(r->chan);
		log_info("service %s pid=%ld (retired) ended %s %d", r->name,
		    (long)pid, WIFSIGNALED(st) ? "by signal" : "with status",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		free(r);
		if (m->stopping)
			service_maybe_done(m);
		return 1;
	}
	return 0;
}

int
service_reaped(struct master *m, pid_t pid, int st)
{
	struct service	*s = NULL;
	struct timeval	 tv;
	time_t		 up;
	int		 i;

	if (service_reaped_other(m, pid, st))
		return 1;
	for (i = 0; i < SVC_MAX; i++)
		if (m->services[i].pid == pid)
			s = &m->services[i];
	if (s == NULL)
		return 0;
	if (s->chan != NULL) {
		ipc_chan_free(s->chan);
		s->chan = NULL;
	}
	s->pid = 0;
	s->ready = 0;
	/* its channels, and the other services' to it, broke */
	service_unlink(m, s);
	if (m->stopping) {
		log_info("service %s stopped", s->spec->name);
		service_maybe_done(m);
		return 1;
	}
	up = time(NULL) - s->started;
	if (up >= SERVICE_STABLE)
		s->backoff = 1;
	if (s->restart_asked) {
		/* service_restart's: not a failure, no backoff */
		s->restart_asked = 0;
		log_info("service %s pid=%ld ended for a restart", s->spec->name,
		    (long)pid);
		tv.tv_sec = 0;
		tv.tv_usec = 0;
		evtimer_add(s->ev_restart, &tv);
		return 1;
	}
	if (WIFSIGNALED(st))
		log_warnx("service %s died pid=%ld signal=%d after %llds: "
		    "restarting in %ds", s->spec->name, (long)pid,
		    WTERMSIG(st), (long long)up, s->backoff);
	else
		log_warnx("service %s exited pid=%ld status=%d%s after %llds:"
		    " restarting in %ds", s->spec->name, (long)pid,
		    WEXITSTATUS(st), WEXITSTATUS(st) ==
		    SANDBOX_EXIT_VIOLATION ? " reason=sandbox-violation" : "",
		    (long long)up, s->backoff);
	s->restarts++;
	tv.tv_sec = s->backoff;
	tv.tv_usec = 0;
	evtimer_add(s->ev_restart, &tv);
	if (s->backoff < SERVICE_BACKOFF_MAX)
		s->backoff = s->backoff * 2 > SERVICE_BACKOFF_MAX ?
		    SERVICE_BACKOFF_MAX : s->backoff * 2;
	return 1;
}

static void
service_send_session(struct service *s, uint64_t connid,
    enum sp_listener_kind kind, const char *client, int fd)
{
	struct ipc_out	*out;

	out = ipc_out_new(IMSG_MASTER_SESSION, 0, fd);
	ipc_add_u64(out, connid);
	ipc_add_u32(out, (uint32_t)kind);
	ipc_add_str(out, client);
	if (ipc_chan_send(s->chan, out) == -1)
		log_warnx("service %s: cannot pass a session channel",
		    s->spec->name);
}

void
service_attach_session(struct master *m, enum sp_service id, uint64_t connid,
    enum sp_listener_kind kind, const char *client, int fd)
{
	struct service		*s = &m->services[id];
	struct pending_session	*p;

	if (s->chan != NULL && s->ready) {
		service_send_session(s, connid, kind, client, fd);
		return;
	}
	/*
	 * The service is (re)starting: the session's channel waits here and
	 * is handed over when it is ready.  Past the cap the channel is
	 * closed and the session answers with a temporary error.
	 */
	if (s->npending >= SERVICE_MAX_PENDING) {
		close(fd);
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->connid = connid;
	p->kind = kind;
	p->fd = fd;
	strlcpy(p->client, client, sizeof(p->client));
	TAILQ_INSERT_TAIL(&s->pending, p, entry);
	s->npending++;
}

void
service_stop_all(struct master *m)
{
	int	i, running = 0;

	for (i = 0; i < SVC_MAX; i++) {
		struct service	*s = &m->services[i];

		evtimer_del(s->ev_restart);
		if (s->pid > 0) {
			(void)kill(s->pid, SIGTERM);
			running++;
		}
		if (m->renewing[i] != NULL && m->renewing[i]->pid > 0) {
			evtimer_del(m->renewing[i]->ev_restart);
			(void)kill(m->renewing[i]->pid, SIGTERM);
			running++;
		}
	}
	{
		struct retired	*r;

		TAILQ_FOREACH(r, &m->retired, entry) {
			(void)kill(r->pid, SIGTERM);
			running++;
		}
	}
	if (running == 0)
		event_base_loopbreak(m->base);
}
