/* SPDX-License-Identifier: ISC */
/*
 * sealpostd.h - the master process: the process table, its shared state
 * and the prototypes of its files.
 */
#ifndef SP_SEALPOSTD_H
#define SP_SEALPOSTD_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "ipc.h"
#include "sandbox.h"

/* One kind of child (proctab.c). */
struct proc_spec {
	const char	*name;		/* role name in logs and status */
	const char	*binary;	/* in libexec-dir */
	const char	*user;		/* its own unprivileged user */
	enum sp_role	 role;		/* sandbox profile */
	unsigned int	 channels;	/* sessions: 1 << SVC_x it may use */
	int		 needs_tls;	/* gets the TLS material */
	int		 jail_mail;	/* jail: DATA_DIR/mail at /mail */
	int		 jail_queue;	/* jail: DATA_DIR/queue at /mail */
	int		 jail_pgp;	/* jail: /usr, the keyring at /gnupg */
	int		 data_dir;	/* gets -D DATA_DIR (opens users.db) */
	/* a login process: the mail process its logins start */
	const struct proc_spec *mail;
};

/* A channel from one service to another (proctab.c). */
struct proc_link {
	enum sp_service	 from;		/* sends requests */
	enum sp_service	 to;		/* sees a session */
};

extern const struct proc_spec	 proctab_services[SVC_MAX];
extern const struct proc_link	 proctab_links[];
extern const size_t		 proctab_nlinks;
extern const struct proc_spec	*proctab_sessions[SP_LISTEN_KIND_MAX];
extern const struct proc_spec	 proctab_imap_mail;
extern const struct proc_spec	 proctab_pop3_mail;

struct proc_ids {
	uid_t	uid;
	gid_t	gid;
};

struct master;

struct listener {
	TAILQ_ENTRY(listener)	 entry;
	struct master		*master;
	struct sp_listener	 conf;		/* a copy: survives reloads */
	int			 fd;		/* -1 once closed */
	struct event		*ev;
	unsigned int		 nsessions;	/* alive now */
	unsigned long		 accepted;	/* since start */
};
TAILQ_HEAD(listener_list, listener);

/* A session process: one client connection. */
struct child {
	TAILQ_ENTRY(child)	 entry;
	pid_t			 pid;
	uint64_t		 id;		/* connection id */
	struct listener		*listener;
	const struct proc_spec	*spec;
	struct ipc_chan		*chan;		/* master <-> session */
	int			 counted;	/* in listener->nsessions */
	uint64_t		 account;	/* mail processes: whose */
	char			 client[46];	/* sessions: the peer's IP */
};
TAILQ_HEAD(child_list, child);

/* A session channel waiting for its service to be (back) up. */
struct pending_session {
	TAILQ_ENTRY(pending_session)	 entry;
	uint64_t			 connid;
	enum sp_listener_kind		 kind;
	int				 fd;
	char				 client[64];
};
TAILQ_HEAD(pending_list, pending_session);

/* A long-running service and its supervision state. */
struct service {
	enum sp_service		 id;
	const struct proc_spec	*spec;
	struct master		*master;
	struct proc_ids		 ids;
	pid_t			 pid;		/* 0: not running */
	struct ipc_chan		*chan;		/* master <-> service */
	int			 ready;		/* said hello */
	unsigned int		 restarts;
	time_t			 started;
	int			 backoff;	/* seconds before next start */
	int			 restart_asked;	/* we sent it SIGTERM to start
						   it again (a reload) */
	struct event		*ev_restart;
	char			 sandbox[64];	/* level it reported */
	struct pending_list	 pending;	/* channels to hand over */
	unsigned int		 npending;
	unsigned int		 links;		/* 1 << SVC_x it has a channel
						   to (proctab_links) */
	int			 renewal;	/* a fresh process to take over
						   (service_renew), not yet ready */
	int			 renew_again;	/* asked again meanwhile */
};

/* A service process a fresh one replaced: it finishes its sessions. */
struct retired {
	TAILQ_ENTRY(retired)	 entry;
	pid_t			 pid;
	struct ipc_chan		*chan;
	const char		*name;
};
TAILQ_HEAD(retired_list, retired);

struct master {
	struct sp_conf		*conf;
	struct event_base	*base;
	struct listener_list	 listeners;
	struct child_list	 children;
	struct retired_list	 retired;	/* replaced service processes */
	struct service		*renewing[SVC_MAX];	/* their successors */
	unsigned int		 nchildren;
	int			 paused;	/* at max-sessions */
	int			 stopping;
	int			 listening;	/* services were all ready once */
	time_t			 started;
	int			 tls_fd;	/* sealed memfd, or -1 */
	int			 policy_fd;	/* sealed memfd (mpolicy.c) */
	int			 tickets_fd;	/* sealed memfd of ticket keys */
	unsigned char		*tickets;	/* sodium_malloc: the keys */
	struct event		*ev_tickets;	/* rotation timer */
	int			 log_rfd;	/* children's log datagrams */
	int			 log_wfd;	/* their end */
	int			 ctl_fd;	/* listening control socket */
	int			 debug;
	int			 no_filters;	/* test hooks: sandbox off */
	char			 jail[PATH_MAX];	/* the empty chroot */
	char			 mailroot[PATH_MAX];	/* account jails' root */
	char			 maildir[PATH_MAX];	/* DATA_DIR/mail */
	char			 keyringdir[PATH_MAX];	/* keys/gnupg */
	char			 queuedir[PATH_MAX];	/* DATA_DIR/queue */
	struct listener		*pickup;	/* RUN_DIR/pickup.sock */
	struct proc_ids		 session_ids[SP_LISTEN_KIND_MAX];
	struct service		 services[SVC_MAX];
	char			 session_sandbox[ROLE_MAX][64];
	struct event		*ev_log;
	struct event		*ev_stop_timer;
};

/* listener.c */
/* Bind the listeners of conf that are not bound yet; -1 + err on failure
 * (new sockets closed again, old ones untouched). */
int	listener_update(struct master *, const struct sp_conf *, char *,
	    size_t);
void	listener_close_all(struct master *);
void	listener_enable(struct master *, int on);
void	listener_write_file(struct master *);
void	listener_remove_file(struct master *);
/* Free listeners that are closed and have no session left. */
void	listener_gc(struct master *);

/* proc.c: sessions */
void	proc_spawn_session(struct master *, struct listener *, int fd);
/* The same with up to two more "-o NAME=VALUE" for the session. */
void	proc_spawn_session_opts(struct master *, struct listener *, int fd,
	    char *const *extra, size_t nextra);

/* pickup.c: the local submission socket of sealpost-sendmail */
void	pickup_open(struct master *);
void	pickup_close(struct master *);
void	proc_reap(struct master *);
void	proc_log_read(evutil_socket_t, short, void *);
int	proc_check_binaries(const struct sp_conf *, char *, size_t);
/*
 * auth says connection connid is account: start the account's mail
 * process and hand its socket to the login session (proc.c).
 */
void	proc_login(struct master *, uint64_t connid, uint64_t account);
/* Resolve every role's user; -1 + err naming the missing one. */
int	proc_resolve_users(struct master *, char *, size_t);
/* The fixed start of every child: stdio, log fd, closefrom, then exec. */
void	proc_exec(struct master *, const char *path, char **argv, int *fds,
	    int nfds) __attribute__((noreturn));
/* argv for a child: BIN -u UID -g GID -j JAIL [-d] [-F] ... */
int	proc_base_argv(struct master *, const char *path,
	    const struct proc_ids *, char **argv, char bufs[][24]);

/* service.c: supervision */
void	service_start_all(struct master *);
void	service_stop_all(struct master *);
/* A child exited: if it was a service, handle it and return 1. */
int	service_reaped(struct master *, pid_t, int status);
/*
 * Start a fresh process of a running service (a new policy, a new
 * antivirus database); when it is ready it takes every new session and
 * the old one finishes those it has (IMSG_MASTER_RETIRE).
 */
void	service_renew(struct master *, enum sp_service);
/*
 * SIGTERM to the service, which then starts again at once: logged as a
 * restart asked for (a reload), not as a failure.  Nothing when it is
 * not running (it starts on its own schedule).
 */
void	service_restart(struct master *, enum sp_service);
/* Give a service its end of a new session channel (closes fd). */
void	service_attach_session(struct master *, enum sp_service, uint64_t id,
	    enum sp_listener_kind, const char *client, int fd);

/* ctl.c: what the control service asks of the master */
void	ctl_dispatch(struct master *, struct service *, struct ipc_msg *);
int	ctl_socket_open(struct master *);
void	ctl_socket_remove(struct master *);

/* sealpostd.c */
int	master_reload(struct master *, char *, size_t);
/* Every service said it is ready: bind the listeners (once). */
void	master_services_ready(struct master *);

/* mpolicy.c: read and check the policy folder into a sealed memfd. */
struct policy_stats;
int	mpolicy_load(const struct sp_conf *, int *fd_r,
	    struct policy_stats *st_r, char *err, size_t errlen);
void	mpolicy_log(const struct sp_conf *, const struct policy_stats *);

/* avwatch.c: a changed antivirus database renews the filter. */
void	avwatch_start(struct master *);
void	avwatch_stop(void);

#ifdef SP_TEST_HOOKS
/*
 * test_mta.c: with test-mta-socket on, RUN_DIR/test-mta.sock, whose
 * connections go to the mta as pgp sessions (a test speaks IMSG_MTA_WKD).
 */
void	test_mta_open(struct master *);
void	test_mta_close(struct master *);
#endif

#endif
