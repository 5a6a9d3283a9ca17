/* SPDX-License-Identifier: ISC */
/*
 * sealpostd.h - the master process: shared state and prototypes.
 */
#ifndef SP_SEALPOSTD_H
#define SP_SEALPOSTD_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>
#include <stdint.h>

#include "conf.h"

struct master;

struct listener {
	struct master			*master;
	const struct sp_listener	*conf;
	int				 fd;
	struct event			*ev;
	unsigned int			 nsessions;	/* alive now */
	unsigned long			 accepted;	/* since start */
};

struct child {
	TAILQ_ENTRY(child)	 entry;
	pid_t			 pid;
	uint64_t		 id;		/* connection id */
	struct listener		*listener;
	const char		*proc;		/* role name for logs */
};
TAILQ_HEAD(child_list, child);

struct master {
	struct sp_conf		*conf;
	struct event_base	*base;
	struct listener		*listeners;
	size_t			 nlisteners;
	struct child_list	 children;
	unsigned int		 nchildren;
	int			 paused;	/* at max-sessions */
	int			 stopping;
	int			 tls_fd;	/* sealed memfd, or -1 */
	int			 log_rfd;	/* children's log datagrams */
	int			 log_wfd;	/* their end */
	uid_t			 session_uid;	/* 0: not dropping (not root) */
	gid_t			 session_gid;
	int			 debug;
	struct event		*ev_log;
	struct event		*ev_stop_timer;
};

/* listener.c */
/* Bind every configured listener; fatal on the first failure. */
void	listener_bind_all(struct master *);
void	listener_close_all(struct master *);
/* Start or stop accepting (max-sessions reached, shutdown). */
void	listener_enable(struct master *, int on);
/* Write RUN_DIR/listeners.json (the ports actually bound). */
void	listener_write_file(struct master *);
void	listener_remove_file(struct master *);

/* proc.c */
/* Fork and exec the session binary for an accepted connection. */
void	proc_spawn_session(struct master *, struct listener *, int fd);
/* Reap exited children (SIGCHLD). */
void	proc_reap(struct master *);
/* Read the children's log datagrams (event callback). */
void	proc_log_read(evutil_socket_t, short, void *);
/* Check that the session binaries are there and executable. */
int	proc_check_binaries(const struct sp_conf *, char *, size_t);

#endif
