/* SPDX-License-Identifier: ISC */
/*
 * ctl_client.c - sealpostctl's side of the control socket: one request
 * line (with a sealed memfd for deliver), one JSON answer; and local
 * delivery of a message through the running server (deliver ADDRESS,
 * quarantine release).
 *
 * Process:  sealpostctl, run by root.
 * Trust:    the answer comes from the control service; it is bounded
 *           (CTL_ANSWER_MAX) and parsed as JSON, never trusted as text.
 * Limits:   CTL_ANSWER_MAX, CTL_TIMEOUT, CTL_MESSAGE_MAX.
 * See also: src/control/control.c.
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
#include "ctl_client.h"
#include "banned.h"

#define CTL_ANSWER_MAX		(1024 * 1024)
#define CTL_TIMEOUT		30	/* seconds for sealpostd to answer */

int
ctl_socket_path(const char *conffile, const char *sock, char *path,
    size_t len)
{
	struct sp_conf	*c;
	char		 err[1024];
	int		 n;

	if (sock != NULL) {
		if (strlcpy(path, sock, len) >= len) {
			fprintf(stderr, "sealpostctl: %s: path too long\n",
			    sock);
			return -1;
		}
		return 0;
	}
	if ((c = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return -1;
	}
	n = snprintf(path, len, "%s/control.sock", c->run_dir);
	conf_free(c);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "sealpostctl: run-dir too long\n");
		return -1;
	}
	return 0;
}

json_t *
ctl_ask(const char *sock, const char *req)
{
	return ctl_ask_fd(sock, req, -1);
}

/* The request line, with sendfd (a sealed memfd) attached when != -1. */
json_t *
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

const char *
ctl_jstr(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "?";
}

int
ctl_deliver_buf(const char *sock, const char *addr, const void *buf,
    size_t len, char *msg, size_t msglen)
{
	json_t		*j;
	const char	*m;
	char		 req[400];
	int		 mfd, rc;

	if (strlen(addr) > 320 || strpbrk(addr, " \t\r\n") != NULL ||
	    strchr(addr, '@') == NULL) {
		snprintf(msg, msglen, "not an address");
		return 1;
	}
	if (len > CTL_MESSAGE_MAX) {
		snprintf(msg, msglen, "message larger than 64 MiB");
		return 1;
	}
	/* the bytes cannot change once sealed: what is checked is stored */
	if ((mfd = memfd_sealed_from("sealpostctl-deliver", buf, len)) == -1) {
		snprintf(msg, msglen, "memfd: %s", strerror(errno));
		return 1;
	}
	snprintf(req, sizeof(req), "deliver %s", addr);
	j = ctl_ask_fd(sock, req, mfd);
	m = ctl_jstr(j, "message");
	strlcpy(msg, m, msglen);
	if (json_is_true(json_object_get(j, "ok")))
		rc = 0;
	else
		rc = strcmp(m, "no such local recipient") == 0 ? 67 :
		    strcmp(m, "over quota") == 0 || strstr(m, "again") != NULL ||
		    strncmp(m, "not delivered", 13) == 0 ? 75 : 1;
	json_decref(j);
	return rc;
}
