/* SPDX-License-Identifier: ISC */
/*
 * ctl_queue_ops.c - sealpostctl queue flush [ID] | hold ID | release ID |
 * delete ID: asked of the running server's queue service through the
 * control socket, since the queue's schedule lives there (list and show
 * read the spool directly: ctl_queue.c).
 *
 * Process:  sealpostctl (root).
 * Trust:    the id is checked here and again by control and the queue.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl_client.h"
#include "ctl_queue.h"
#include "banned.h"

int
ctl_queue_is_op(int argc, char **argv)
{
	return argc >= 2 && strcmp(argv[0], "queue") == 0 &&
	    (strcmp(argv[1], "flush") == 0 || strcmp(argv[1], "hold") == 0 ||
	    strcmp(argv[1], "release") == 0 || strcmp(argv[1], "delete") == 0);
}

int
ctl_queue_op(const char *conffile, const char *sock, int argc, char **argv)
{
	char	 path[1024], req[128];
	json_t	*j;
	int	 ok;

	if (argc > 3 || (argc == 2 && strcmp(argv[1], "flush") != 0)) {
		fprintf(stderr, "usage: sealpostctl [-c file] queue flush [ID]\n"
		    "       sealpostctl [-c file] queue hold|release|delete "
		    "ID\n");
		return 2;
	}
	if (argc == 3 && (strlen(argv[2]) != 32 ||
	    strspn(argv[2], "0123456789abcdef") != 32)) {
		fprintf(stderr, "sealpostctl: %s: not a queue id (32 "
		    "hexadecimal digits, as queue list shows them)\n", argv[2]);
		return 1;
	}
	if (ctl_socket_path(conffile, sock, path, sizeof(path)) == -1)
		return 1;
	snprintf(req, sizeof(req), "queue %s%s%s", argv[1], argc == 3 ? " " :
	    "", argc == 3 ? argv[2] : "");
	j = ctl_ask(path, req);
	ok = json_is_true(json_object_get(j, "ok"));
	fprintf(ok ? stdout : stderr, "%s%s\n", ok ? "" : "sealpostctl: ",
	    ctl_jstr(j, "message"));
	json_decref(j);
	return ok ? 0 : 1;
}
