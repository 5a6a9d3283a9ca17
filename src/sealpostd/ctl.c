/* SPDX-License-Identifier: ISC */
/*
 * ctl.c - the master's side of sealpostctl: the control socket it binds
 * (and hands to the control service, which accepts and parses), and the
 * answers to what the control service asks: status and reload.
 *
 * Process:  master (root).
 * Trust:    requests come from the control service, already parsed and
 *           reduced to a message type; the socket is root-only (0600).
 * See also: src/control/control.c, src/sealpostctl/sealpostctl.c,
 *           docs/sealpostctl.8.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "ipc_types.h"
#include "sealpostd.h"
#include "banned.h"

int
ctl_socket_open(struct master *m)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd, n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/control.sock",
	    m->conf->run_dir);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		fatalx("run-dir too long for a unix socket path");
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		fatal("control socket");
	if (unlink(sun.sun_path) == -1 && errno != ENOENT)
		fatal("unlink %s", sun.sun_path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", sun.sun_path);
	umask(old);
	/* SECURITY: root only; the control service gets the fd, not the path */
	if (chmod(sun.sun_path, 0600) == -1 || listen(fd, 16) == -1)
		fatal("%s", sun.sun_path);
	m->ctl_fd = fd;
	return 0;
}

void
ctl_socket_remove(struct master *m)
{
	char	path[PATH_MAX];
	int	n;

	n = snprintf(path, sizeof(path), "%s/control.sock", m->conf->run_dir);
	if (n > 0 && (size_t)n < sizeof(path))
		(void)unlink(path);
	if (m->ctl_fd != -1) {
		close(m->ctl_fd);
		m->ctl_fd = -1;
	}
}

static json_t *
ctl_status_json(struct master *m)
{
	json_t		*root, *svcs, *lst, *sbx;
	struct listener	*l;
	time_t		 now = time(NULL);
	int		 i;

	svcs = json_array();
	for (i = 0; i < SVC_MAX; i++) {
		struct service	*s = &m->services[i];

		json_array_append_new(svcs, json_pack(
		    "{s:s,s:i,s:b,s:i,s:I,s:s}",
		    "name", s->spec->name, "pid", (int)s->pid,
		    "ready", s->ready, "restarts", (int)s->restarts,
		    "uptime", (json_int_t)(s->pid > 0 ? now - s->started : 0),
		    "sandbox", s->sandbox));
	}
	lst = json_array();
	TAILQ_FOREACH(l, &m->listeners, entry) {
		if (l->fd == -1)
			continue;
		json_array_append_new(lst, json_pack(
		    "{s:s,s:s,s:i,s:i,s:I}",
		    "kind", conf_kind_name(l->conf.kind), "address",
		    l->conf.host, "port", (int)l->conf.port,
		    "connections", (int)l->nsessions,
		    "accepted", (json_int_t)l->accepted));
	}
	sbx = json_object();
	for (i = 0; i < SP_LISTEN_KIND_MAX + 2; i++) {
		const struct proc_spec *sp = i < SP_LISTEN_KIND_MAX ?
		    proctab_sessions[i] : i == SP_LISTEN_KIND_MAX ?
		    &proctab_imap_mail : &proctab_pop3_mail;

		if (m->session_sandbox[sp->role][0] != '\0')
			json_object_set_new(sbx, sp->name, json_string(
			    m->session_sandbox[sp->role]));
	}
	root = json_pack("{s:s,s:i,s:I,s:s,s:o,s:o,s:{s:i,s:i},s:o}",
	    "version", PACKAGE_VERSION, "pid", (int)getpid(),
	    "uptime", (json_int_t)(now - m->started),
	    "hostname", m->conf->hostname,
	    "services", svcs, "listeners", lst,
	    "sessions", "running", (int)m->nchildren,
	    "max", (int)m->conf->max_sessions,
	    "session_sandbox", sbx);
	if (root == NULL)
		fatalx("json_pack status");
	return root;
}

void
ctl_dispatch(struct master *m, struct service *s, struct ipc_msg *msg)
{
	struct ipc_out	*out;
	json_t		*j;
	char		*text, err[1024];
	uint32_t	 id = msg->hdr.id;
	int		 ok;

	ipc_msg_clear(msg);
	if (ipc_end(msg) == -1) {
		ipc_chan_drop(s->chan);
		return;
	}
	switch (msg->hdr.type) {
	case IMSG_CTL_STATUS:
		j = ctl_status_json(m);
		text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(j);
		if (text == NULL)
			fatalx("json_dumps");
		out = ipc_out_new(IMSG_CTL_STATUS, id, -1);
		if (ipc_add_data(out, text, strlen(text)) == -1)
			log_warnx("status too large for one message");
		free(text);
		break;
	case IMSG_CTL_RELOAD:
		ok = master_reload(m, err, sizeof(err)) == 0;
		out = ipc_out_new(IMSG_CTL_RELOAD, id, -1);
		ipc_add_u32(out, ok);
		ipc_add_str(out, ok ? "configuration reloaded" : err);
		break;
	default:
		ipc_chan_drop(s->chan);
		return;
	}
	(void)ipc_chan_send(s->chan, out);
}
