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
#include "ctl_client.h"
#include "ctl_quarantine.h"
#include "ctl_key.h"
#include "ctl_dkim.h"
#include "banned.h"

#ifndef SP_SYSCONFDIR
#define SP_SYSCONFDIR "/etc"
#endif
#define SP_DEFAULT_CONF		SP_SYSCONFDIR "/sealpost/sealpost.conf"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sealpostctl [-c file | -s socket] [-j] "
	    "status\n       sealpostctl [-c file | -s socket] reload\n"
	    "       sealpostctl [-c file | -s socket] deliver ADDRESS "
	    "< message\n"
	    "       sealpostctl [-c file] domain|user|alias|recovery|store|"
	    "queue|policy|quarantine|dkim ... "
	    "(sealpostctl(8))\n");
	exit(2);
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

	printf("sealpostd %s pid %lld, up ", ctl_jstr(j, "version"),
	    jint(j, "pid"));
	print_duration(jint(j, "uptime"));
	printf(", %s\n", ctl_jstr(j, "hostname"));
	o = json_object_get(j, "sessions");
	printf("sessions: %lld running (max-sessions %lld)\n",
	    jint(o, "running"), jint(o, "max"));
	printf("services:\n");
	a = json_object_get(j, "services");
	json_array_foreach(a, i, o) {
		printf("  %-8s pid %-7lld %-8s restarts %-3lld up ",
		    ctl_jstr(o, "name"), jint(o, "pid"),
		    json_is_true(json_object_get(o, "ready")) ? "ready" :
		    "starting", jint(o, "restarts"));
		print_duration(jint(o, "uptime"));
		printf("  sandbox: %s\n", ctl_jstr(o, "sandbox"));
	}
	printf("listeners:\n");
	a = json_object_get(j, "listeners");
	json_array_foreach(a, i, o)
		printf("  %-12s %s:%-6lld connections %-4lld accepted %lld\n",
		    ctl_jstr(o, "kind"), ctl_jstr(o, "address"), jint(o, "port"),
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
	char		*buf, msg[256];
	size_t		 len = 0;
	ssize_t		 n;
	int		 rc;

	if ((buf = malloc(CTL_MESSAGE_MAX + 1)) == NULL)
		return 1;
	while ((n = read(STDIN_FILENO, buf + len, CTL_MESSAGE_MAX + 1 - len)) >
	    0 && len <= CTL_MESSAGE_MAX)
		len += (size_t)n;
	if (n == -1 || len > CTL_MESSAGE_MAX) {
		fprintf(stderr, "sealpostctl: %s\n", n == -1 ? strerror(errno) :
		    "message larger than 64 MiB");
		free(buf);
		return 1;
	}
	rc = ctl_deliver_buf(sock, addr, buf, len, msg, sizeof(msg));
	free(buf);
	if (rc == 0)
		printf("%s\n", msg);
	else if (strcmp(msg, "not an address") == 0)
		fprintf(stderr, "sealpostctl: \"%s\" is not an address\n", addr);
	else
		fprintf(stderr, "sealpostctl: %s: %s\n", addr, msg);
	return rc;
}

int
main(int argc, char **argv)
{
	const char	*conffile = SP_DEFAULT_CONF, *sock = NULL;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
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
	if (ctl_queue_is_op(argc, argv))
		return ctl_queue_op(conffile, sock, argc, argv);
	if (argc >= 1 && ctl_queue_is_command(argv[0]))
		return ctl_queue_main(conffile, argc, argv);
	if (argc >= 1 && ctl_policy_is_command(argv[0]))
		return ctl_policy_main(conffile, argc, argv);
	if (ctl_key_is_learnt_op(argc, argv))
		return ctl_key_learnt_op(conffile, sock, argc, argv);
	if (argc >= 1 && ctl_key_is_command(argv[0]))
		return ctl_key_main(conffile, argc, argv);
	if (argc >= 1 && ctl_dkim_is_command(argv[0]))
		return ctl_dkim_main(conffile, argc, argv);
	if (argc >= 1 && ctl_quarantine_is_command(argv[0]))
		return ctl_quarantine_main(conffile, sock, argc, argv);
	if (!(argc == 1 && (strcmp(argv[0], "status") == 0 ||
	    strcmp(argv[0], "reload") == 0)) &&
	    !(argc == 2 && strcmp(argv[0], "deliver") == 0))
		usage();
	if (ctl_socket_path(conffile, sock, path, sizeof(path)) == -1)
		return 1;
	sock = path;
	if (strcmp(argv[0], "status") == 0) {
		j = ctl_ask(sock, "status");
		if (json_object_get(j, "ok") != NULL &&
		    !json_is_true(json_object_get(j, "ok"))) {
			fprintf(stderr, "sealpostctl: %s\n", ctl_jstr(j, "message"));
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
		    "sealpostctl: reload refused: ", ctl_jstr(j, "message"));
		json_decref(j);
		return ok ? 0 : 1;
	}
	usage();
}
