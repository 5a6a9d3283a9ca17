/* SPDX-License-Identifier: ISC */
/*
 * test_mta.c - a test hook (--enable-test-hooks builds only, with
 * "test-mta-socket on"): RUN_DIR/test-mta.sock, a root-only SOCK_SEQPACKET
 * socket whose every connection the master hands to the running mta as
 * a session of kind SP_KIND_PGP, exactly as service_link hands it the pgp
 * service's channel.  A test (tests/tools/wkdask) then speaks IPC to the
 * real mta as the pgp service would (IMSG_MTA_WKD) and sees its answers:
 * the mta's side of the Web Key Directory lookup is tested through the
 * real master, options, jail and sandbox, without the pgp side.
 *
 * Process:  master (root).
 * Trust:    the socket is mode 0600 in RUN_DIR (root only); the master
 *           reads nothing from it, it only passes the connection on; the
 *           mta treats the session like any pgp session (it validates).
 * See also: tests/tools/wkdask.c, tests/integration/test_wkd_fetch.py.
 */
#include "config.h"

#ifdef SP_TEST_HOOKS

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sealpostd.h"
#include "banned.h"

#define TEST_MTA_SOCK	"test-mta.sock"

static int		 test_mta_fd = -1;
static struct event	*test_mta_ev;

static void
test_mta_accept(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;
	int		 cfd;

	(void)ev;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on %s", TEST_MTA_SOCK);
		return;
	}
	log_info("master event=test-mta-session");
	service_attach_session(m, SVC_MTA, 0, SP_KIND_PGP, "", cfd);
}

void
test_mta_open(struct master *m)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd, n;

	if (!m->conf->test_mta_socket || test_mta_fd != -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
	    m->conf->run_dir, TEST_MTA_SOCK);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		fatalx("run-dir too long for %s", TEST_MTA_SOCK);
	(void)unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("%s", TEST_MTA_SOCK);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", sun.sun_path);
	umask(old);
	if (chmod(sun.sun_path, 0600) == -1 || listen(fd, 16) == -1)
		fatal("%s", sun.sun_path);
	if ((test_mta_ev = event_new(m->base, fd, EV_READ | EV_PERSIST,
	    test_mta_accept, m)) == NULL || event_add(test_mta_ev, NULL) == -1)
		fatalx("%s: event", TEST_MTA_SOCK);
	test_mta_fd = fd;
	log_warnx("TEST HOOK: %s hands connections to the mta as pgp "
	    "sessions", sun.sun_path);
}

void
test_mta_close(struct master *m)
{
	char	path[PATH_MAX];
	int	n;

	if (test_mta_fd == -1)
		return;
	event_free(test_mta_ev);
	test_mta_ev = NULL;
	close(test_mta_fd);
	test_mta_fd = -1;
	n = snprintf(path, sizeof(path), "%s/%s", m->conf->run_dir,
	    TEST_MTA_SOCK);
	if (n > 0 && (size_t)n < sizeof(path))
		(void)unlink(path);
}

#endif /* SP_TEST_HOOKS */
