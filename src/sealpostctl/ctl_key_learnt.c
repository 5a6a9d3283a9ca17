/* SPDX-License-Identifier: ISC */
/*
 * ctl_key_learnt.c - sealpostctl key pending [accept|reject ADDRESS],
 * key discovered, key forget ADDRESS: the keys the pgp service learnt
 * (Web Key Directory lookups, Autocrypt headers of local senders).  They
 * are the running pgp service's (pgp_learn.c), so these go through the
 * control socket; the administrator's own keyring is ctl_key.c's.
 *
 * Process:  sealpostctl (root).
 * Trust:    the address is checked here and again by pgp; the lists
 *           that come back are printed escaped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_client.h"
#include "ctl_key.h"
#include "pgp_keys.h"
#include "banned.h"

int
ctl_key_is_learnt_op(int argc, char **argv)
{
	return argc >= 2 && strcmp(argv[0], "key") == 0 &&
	    (strcmp(argv[1], "pending") == 0 ||
	    strcmp(argv[1], "discovered") == 0 ||
	    strcmp(argv[1], "forget") == 0);
}

static int
ckl_usage(void)
{
	fprintf(stderr, "usage: sealpostctl [-c file] key pending\n"
	    "       sealpostctl [-c file] key pending accept|reject ADDRESS\n"
	    "       sealpostctl [-c file] key discovered\n"
	    "       sealpostctl [-c file] key forget ADDRESS\n");
	return 2;
}

/* The lines pgp sent, under a heading, as a table of nf fields. */
static void
ckl_table(const char *text, const char *const *head, const int *width,
    size_t nf)
{
	const char	*p = text, *nl;
	char		 line[1024], esc[1024], *f[8], *save;
	size_t		 i, n;

	for (i = 0; i < nf; i++)
		printf("%-*s%s", i + 1 < nf ? width[i] : 0, head[i],
		    i + 1 < nf ? " " : "\n");
	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		n = (size_t)(nl - p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		pgp_esc(esc, sizeof(esc), line);
		for (i = 0; i < nf; i++)
			if ((f[i] = strtok_r(i == 0 ? esc : NULL, " ",
			    &save)) == NULL)
				break;
		if (i != nf) {
			printf("%s\n", esc);	/* "... and more" */
			continue;
		}
		for (i = 0; i < nf; i++)
			printf("%-*s%s", i + 1 < nf ? width[i] : 0, f[i],
			    i + 1 < nf ? " " : "\n");
	}
}

int
ctl_key_learnt_op(const char *conffile, const char *sock, int argc,
    char **argv)
{
	static const char *const head_pending[] = { "ADDRESS", "IN USE",
	    "HELD", "SINCE" };
	static const int width_pending[] = { 30, 40, 40 };
	static const char *const head_disc[] = { "SOURCE", "ADDRESS",
	    "STATE", "KEY", "SEEN", "RECHECK" };
	static const int width_disc[] = { 9, 30, 7, 40, 17 };
	const char	*cmd = argv[1], *addr = NULL, *msg;
	char		 path[1024], req[512];
	json_t		*j;
	int		 ok, list = 0;

	if (strcmp(cmd, "pending") == 0 && argc == 2) {
		snprintf(req, sizeof(req), "key pending");
		list = 1;
	} else if (strcmp(cmd, "pending") == 0 && argc == 4 &&
	    (strcmp(argv[2], "accept") == 0 || strcmp(argv[2], "reject") ==
	    0)) {
		addr = argv[3];
		snprintf(req, sizeof(req), "key pending %s %s", argv[2], addr);
	} else if (strcmp(cmd, "discovered") == 0 && argc == 2) {
		snprintf(req, sizeof(req), "key discovered");
		list = 2;
	} else if (strcmp(cmd, "forget") == 0 && argc == 3) {
		addr = argv[2];
		snprintf(req, sizeof(req), "key forget %s", addr);
	} else
		return ckl_usage();
	if (addr != NULL && !pgp_address_ok(addr)) {
		fprintf(stderr, "sealpostctl: key %s: not an address\n", cmd);
		return 2;
	}
	if (ctl_socket_path(conffile, sock, path, sizeof(path)) == -1)
		return 1;
	j = ctl_ask(path, req);
	ok = json_is_true(json_object_get(j, "ok"));
	msg = ctl_jstr(j, "message");
	if (!ok)
		fprintf(stderr, "sealpostctl: key %s: %s\n", cmd, msg);
	else if (list == 1 && msg[0] == '\0')
		printf("no key changes are held\n");
	else if (list == 2 && msg[0] == '\0')
		printf("no keys were learnt\n");
	else if (list == 1)
		ckl_table(msg, head_pending, width_pending, 4);
	else if (list == 2)
		ckl_table(msg, head_disc, width_disc, 6);
	else
		fputs(msg, stdout);
	json_decref(j);
	return ok ? 0 : 1;
}
