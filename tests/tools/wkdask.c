/* SPDX-License-Identifier: ISC */
/*
 * wkdask - a test tool: ask the mta of a test instance for a Web Key
 * Directory lookup, as the pgp service would (IMSG_MTA_WKD), through the
 * master's test hook RUN_DIR/test-mta.sock ("test-mta-socket on",
 * src/sealpostd/test_mta.c), and print what the mta answered.
 *
 *	wkdask [-n COUNT] [-o FILE] SOCKET ADDRESS
 *		ADDRESS split and hashed by wkd.c as the pgp side does; COUNT
 *		requests at once on one session (ids 1..COUNT); with -o the
 *		body of a WKD_FOUND answer is written to FILE
 *	wkdask -r SOCKET DOMAIN HASH LOCAL
 *		the three fields as given (malformed requests)
 *
 * One line per answer: "id=N result=found|none|temp ms=N len=N
 * what=TEXT"; "closed" when the mta dropped the session, "timeout" after
 * 30 s.  Exit status 0 when every request got an answer, else 1.
 *
 * Process:  the test (root: the socket is root's).
 * Trust:    the mta's answers are checked (the memfd's seals and size).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "xmalloc.h"
#include "wkd.h"
#include "banned.h"

#define WKDASK_MAX	64
#define WKDASK_WAIT_MS	30000

static long
ms_since(const struct timespec *t0)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (long)(t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: wkdask [-n COUNT] [-o FILE] SOCKET ADDRESS\n"
	    "       wkdask -r SOCKET DOMAIN HASH LOCAL\n");
	exit(2);
}

/* The body of a WKD_FOUND answer: sealed, bounded; into path if given. */
static size_t
body_take(int fd, const char *path)
{
	unsigned char	*b;
	size_t		 len;
	int		 out;

	if (memfd_check_sealed(fd, WKD_KEY_MAX, &len) == -1)
		errx(1, "the answer's fd is not a sealed memfd of at most "
		    "WKD_KEY_MAX bytes");
	if (path != NULL) {
		b = xmalloc(len + 1);
		if (memfd_read(fd, b, len) == -1)
			err(1, "memfd_read");
		if ((out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1 || write(out, b, len) != (ssize_t)len ||
		    close(out) == -1)
			err(1, "%s", path);
		free(b);
	}
	return len;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "found", "none", "temp" };
	struct sockaddr_un	 sun;
	struct wkd_addr		 a;
	struct ipc_msg		*m;
	struct ipc_out		*out;
	struct timespec		 t0;
	const char		*errstr, *outfile = NULL, *what;
	const char		*domain, *hash, *local;
	uint32_t		 result;
	size_t			 len;
	long			 left;
	int			 ch, raw = 0, count = 1, sock, i, got = 0, r;

	while ((ch = getopt(argc, argv, "n:o:r")) != -1) {
		switch (ch) {
		case 'n':
			count = (int)strtonum(optarg, 1, WKDASK_MAX, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'r':
			raw = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != (raw ? 4 : 2))
		usage();
	if (raw) {
		domain = argv[1];
		hash = argv[2];
		local = argv[3];
	} else {
		if (wkd_addr_parse(argv[1], &a, &errstr) == -1)
			errx(2, "%s: %s", argv[1], errstr);
		domain = a.domain;
		hash = a.hash;
		local = a.local;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, argv[0], sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(2, "socket path too long");
	if ((sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(sock, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "%s", argv[0]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 1; i <= count; i++) {
		out = ipc_out_new(IMSG_MTA_WKD, (uint32_t)i, -1);
		ipc_add_str(out, domain);
		ipc_add_str(out, hash);
		ipc_add_str(out, local);
		if (ipc_send(sock, out) == -1)
			err(1, "send");
	}
	m = xmalloc(sizeof(*m));
	while (got < count) {
		if ((left = WKDASK_WAIT_MS - ms_since(&t0)) <= 0) {
			printf("timeout\n");
			return 1;
		}
		r = ipc_recv(sock, m, (int)left);
		if (r == 0) {
			printf("closed\n");
			return 1;
		}
		if (r == -1 && errno == ETIMEDOUT) {
			printf("timeout\n");
			return 1;
		}
		if (r == -1)
			err(1, "recv");
		if (m->hdr.type != IMSG_MTA_WKD || m->hdr.id < 1 ||
		    m->hdr.id > (uint32_t)count ||
		    ipc_get_u32(m, &result) == -1 || result > WKD_TEMP ||
		    ipc_get_str(m, &what, IPC_MAX_STR) == -1 ||
		    ipc_end(m) == -1 || (result == WKD_FOUND) != (m->fd != -1))
			errx(1, "malformed answer (type %u id %u)", m->hdr.type,
			    m->hdr.id);
		len = result == WKD_FOUND ? body_take(m->fd, outfile) : 0;
		printf("id=%u result=%s ms=%ld len=%zu what=%s\n", m->hdr.id,
		    names[result], ms_since(&t0), len, what);
		fflush(stdout);
		ipc_msg_clear(m);
		got++;
	}
	free(m);
	close(sock);
	return 0;
}
