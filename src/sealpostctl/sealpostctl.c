/* SPDX-License-Identifier: ISC */
/*
 * sealpostctl.c - the administrator's command: asks a running sealpostd
 * through its control socket (RUN_DIR/control.sock, root only).
 *
 *	sealpostctl [-c file | -s socket] [-j] status
 *	sealpostctl [-c file | -s socket] reload
 *	sealpostctl [-c file] domain|user|alias|recovery ...	(ctl_accounts.c)
 *
 * Process:  run by root from a shell; not part of the server.
 * Trust:    the answer comes from the control service; it is bounded
 *           (CTL_ANSWER_MAX) and parsed as JSON, never trusted as text.
 * See also: docs/sealpostctl.8, src/control/control.c.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "memfd.h"
#include "ctl_accounts.h"
#include "ctl_store.h"
#include "ctl_queue.h"
#include "ctl_policy.h"
#include "banned.h"

#ifndef SP_SYSCONFDIR
#define SP_SYSCONFDIR "/etc"
#endif
#define SP_DEFAULT_CONF		SP_SYSCONFDIR "/sealpost/sealpost.conf"
#define CTL_ANSWER_MAX		(1024 * 1024)
#define CTL_TIMEOUT		30	/* seconds for sealpostd to answer */
#define CTL_MESSAGE_MAX		((size_t)64 * 1024 * 1024)

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sealpostctl [-c file | -s socket] [-j] "
	    "status\n       sealpostctl [-c file | -s socket] reload\n"
	    "       sealpostctl [-c file | -s socket] deliver ADDRESS "
	    "< message\n"
	    "       sealpostctl [-c file] domain|user|alias|recovery|store|"
	    "queue|policy ... "
	    "(sealpostctl(8))\n");
	exit(2);
}

static json_t *
ctl_ask_fd(const char *sock, const char *req, int sendfd);

static json_t *
ctl_ask(const char *sock, const char *req)
{
	return ctl_ask_fd(sock, req, -1);
}

/* The request line, with sendfd (a sealed memfd) attached when != -1. */
static json_t *
ctl_ask_fd(const char *sock, const char *req, int sendfd)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { CTL_TIMEOUT, 0 };
	json_error_t		 jerr;
	json_t			*j;
	char			*buf;
	size_t			 len = 0, reqlen = strlen(req);
	ssize_t			 n = 0;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sock, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "sealpostctl: %s: path too long\n", sock);
		exit(1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "sealpostctl: cannot connect to %s: %s (is "
		    "sealpostd running? are you root?)\n", sock,
		    strerror(errno));
		exit(1);
	}
	{
		char		 line[512], cbuf[CMSG_SPACE(sizeof(int))];
		struct msghdr	 mh;
		struct iovec	 iov;
		struct cmsghdr	*cm;

		if (reqlen + 1 >= sizeof(line)) {
			fprintf(stderr, "sealpostctl: request too long\n");
			exit(1);
		}
		memcpy(line, req, reqlen);
		line[reqlen] = '\n';
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = line;
		iov.iov_len = reqlen + 1;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (sendfd != -1) {
			memset(cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf;
			mh.msg_controllen = sizeof(cbuf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &sendfd, sizeof(int));
		}
		if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(reqlen + 1))
			reqlen = 0;	/* report below */
	}
	if (reqlen == 0) {
		fprintf(stderr, "sealpostctl: %s: %s\n", sock, strerror(errno));
		exit(1);
	}
	if ((buf = malloc(CTL_ANSWER_MAX)) == NULL)
		exit(1);
	while (len < CTL_ANSWER_MAX &&
	    (n = read(fd, buf + len, CTL_ANSWER_MAX - len)) > 0)
		len += (size_t)n;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		fprintf(stderr, "sealpostctl: no answer from sealpostd within "
		    "%d seconds\n", CTL_TIMEOUT);
		exit(1);
	}
	close(fd);
	if ((j = json_loadb(buf, len, 0, &jerr)) == NULL) {
		fprintf(stderr, "sealpostctl: no valid answer from sealpostd "
		    "(%s)\n", len == 0 ? "empty" : jerr.text);
		exit(1);
	}
	free(buf);
	return j;
}

static void
print_duration(long long s)
{
	if (s >= 86400)
		printf("%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		printf("%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		printf("%lldm%llds", s / 60, s % 60);
	else
		printf("%llds", s);
}

static const char *
jstr(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "?";
}

static long long
jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void
print_status(json_t *j)
{
	json_t		*a, *o, *v;
	const char	*k;
	size_t		 i;

	printf("sealpostd %s pid %lld, up ", jstr(j, "version"),
	    jint(j, "pid"));
	print_duration(jint(j, "uptime"));
	printf(", %s\n", jstr(j, "hostname"));
	o = json_object_get(j, "sessions");
	printf("sessions: %lld running (max-sessions %lld)\n",
	    jint(o, "running"), jint(o, "max"));
	printf("services:\n");
	a = json_object_get(j, "services");
	json_array_foreach(a, i, o) {
		printf("  %-8s pid %-7lld %-8s restarts %-3lld up ",
		    jstr(o, "name"), jint(o, "pid"),
		    json_is_true(json_object_get(o, "ready")) ? "ready" :
		    "starting", jint(o, "restarts"));
		print_duration(jint(o, "uptime"));
		printf("  sandbox: %s\n", jstr(o, "sandbox"));
	}
	printf("listeners:\n");
	a = json_object_get(j, "listeners");
	json_array_foreach(a, i, o)
		printf("  %-12s %s:%-6lld connections %-4lld accepted %lld\n",
		    jstr(o, "kind"), jstr(o, "address"), jint(o, "port"),
		    jint(o, "connections"), jint(o, "accepted"));
	printf("session sandbox:\n");
	o = json_object_get(j, "session_sandbox");
	if (json_object_size(o) == 0)
		printf("  (no session has started yet)\n");
	json_object_foreach(o, k, v)
		printf("  %-12s %s\n", k, json_string_value(v));
}

/*
 * deliver ADDRESS < message: local injection through the deliver service
 * (scripts, cron, tests).  Exit 0 delivered, 67 (EX_NOUSER) no such
 * recipient, 75 (EX_TEMPFAIL) over quota or try again, 1 otherwise.
 */
static int
ctl_deliver(const char *sock, const char *addr)
{
	json_t		*j;
	const char	*m;
	char		 req[400], *buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 mfd, rc;

	if (strlen(addr) > 320 || strpbrk(addr, " \t\r\n") != NULL ||
	    strchr(addr, '@') == NULL) {
		fprintf(stderr, "sealpostctl: \"%s\" is not an address\n", addr);
		return 1;
	}
	if ((buf = malloc(CTL_MESSAGE_MAX + 1)) == NULL)
		return 1;
	while ((n = read(STDIN_FILENO, buf + len, CTL_MESSAGE_MAX + 1 - len)) >
	    0 && len <= CTL_MESSAGE_MAX)
		len += (size_t)n;
	if (n == -1 || len > CTL_MESSAGE_MAX) {
		fprintf(stderr, "sealpostctl: %s\n", n == -1 ? strerror(errno) :
		    "message larger than 64 MiB");
		return 1;
	}
	/* the bytes cannot change once sealed: what is checked is stored */
	if ((mfd = memfd_sealed_from("sealpostctl-deliver", buf, len)) == -1) {
		fprintf(stderr, "sealpostctl: memfd: %s\n", strerror(errno));
		return 1;
	}
	free(buf);
	snprintf(req, sizeof(req), "deliver %s", addr);
	j = ctl_ask_fd(sock, req, mfd);
	m = jstr(j, "message");
	if (json_is_true(json_object_get(j, "ok"))) {
		printf("%s\n", m);
		rc = 0;
	} else {
		fprintf(stderr, "sealpostctl: %s: %s\n", addr, m);
		rc = strcmp(m, "no such local recipient") == 0 ? 67 :
		    strcmp(m, "over quota") == 0 || strstr(m, "again") != NULL ||
		    strncmp(m, "not delivered", 13) == 0 ? 75 : 1;
	}
	json_decref(j);
	return rc;
}

int
main(int argc, char **argv)
{
	const char	*conffile = SP_DEFAULT_CONF, *sock = NULL;
	char		 err[1024], path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	json_t		*j;
	int		 ch, raw = 0, ok;

	/* "+": stop at the command; its own options follow it */
	while ((ch = getopt(argc, argv, "+c:js:")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'j':
			raw = 1;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc >= 1 && ctl_accounts_is_command(argv[0]))
		return ctl_accounts_main(conffile, argc, argv);
	if (argc >= 1 && ctl_store_is_command(argv[0]))
		return ctl_store_main(conffile, argc, argv);
	if (argc >= 1 && ctl_queue_is_command(argv[0]))
		return ctl_queue_main(conffile, argc, argv);
	if (argc >= 1 && ctl_policy_is_command(argv[0]))
		return ctl_policy_main(conffile, argc, argv);
	if (!(argc == 1 && (strcmp(argv[0], "status") == 0 ||
	    strcmp(argv[0], "reload") == 0)) &&
	    !(argc == 2 && strcmp(argv[0], "deliver") == 0))
		usage();
	if (sock == NULL) {
		struct sp_conf	*c = conf_load(conffile, err, sizeof(err));
		int		 n;

		if (c == NULL) {
			fprintf(stderr, "sealpostctl: %s\n", err);
			return 1;
		}
		n = snprintf(path, sizeof(path), "%s/control.sock", c->run_dir);
		conf_free(c);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			fprintf(stderr, "sealpostctl: run-dir too long\n");
			return 1;
		}
		sock = path;
	}
	if (strcmp(argv[0], "status") == 0) {
		j = ctl_ask(sock, "status");
		if (json_object_get(j, "ok") != NULL &&
		    !json_is_true(json_object_get(j, "ok"))) {
			fprintf(stderr, "sealpostctl: %s\n", jstr(j, "message"));
			return 1;
		}
		if (raw) {
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			putchar('\n');
		} else
			print_status(j);
		json_decref(j);
		return 0;
	}
	if (strcmp(argv[0], "deliver") == 0)
		return ctl_deliver(sock, argv[1]);
	if (strcmp(argv[0], "reload") == 0) {
		j = ctl_ask(sock, "reload");
		ok = json_is_true(json_object_get(j, "ok"));
		fprintf(ok ? stdout : stderr, "%s%s\n", ok ? "" :
		    "sealpostctl: reload refused: ", jstr(j, "message"));
		json_decref(j);
		return ok ? 0 : 1;
	}
	usage();
}
