/* SPDX-License-Identifier: ISC */
/*
 * log.c - log lines for the master, the services and the sessions.
 *
 * Process:  all.
 * Trust:    format strings are ours; anything a client sent must go through
 *           log_esc() before it reaches a format.  Lines from children are
 *           re-escaped by the master (log_write_child) because a child that
 *           parses network input may be compromised.
 * Limits:   SP_LOG_LINE_MAX per line; a child never blocks on logging
 *           (MSG_DONTWAIT, drops are counted).
 * See also: sealpostd/proc.c (reads the children's datagrams).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealpost.h"
#include "log.h"
#include "banned.h"

static const char	*log_procname = "sealpost";
static enum log_dest	 log_to = LOG_DEST_STDERR;
static int		 log_fd = -1;
static int		 log_level = LOG_INFO;
static unsigned long	 log_ndropped;

void
log_init(const char *procname, enum log_dest dest, int fd)
{
	log_procname = procname;
	log_to = dest;
	log_fd = fd;
	if (dest == LOG_DEST_SYSLOG)
		openlog("sealpost", LOG_PID | LOG_NDELAY, LOG_MAIL);
	tzset();	/* before any jail: localtime reads /etc/localtime */
}

void
log_setlevel(int prio)
{
	log_level = prio;
}

int
log_getlevel(void)
{
	return log_level;
}

unsigned long
log_dropped(void)
{
	return log_ndropped;
}

static void
log_stderr_line(const char *procname, pid_t pid, const char *line)
{
	char		 ts[32];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		ts[0] = '\0';
	fprintf(stderr, "%s %s[%ld]: %s\n", ts, procname, (long)pid, line);
	fflush(stderr);
}

static void
log_emit(int prio, const char *line)
{
	char	dgram[SP_LOG_LINE_MAX + 2];
	int	n;

	switch (log_to) {
	case LOG_DEST_MASTER:
		/* "<digit>line": the master learns our pid from the kernel. */
		n = snprintf(dgram, sizeof(dgram), "%d%s", prio & 7, line);
		if (n < 0)
			return;
		if ((size_t)n >= sizeof(dgram))
			n = sizeof(dgram) - 1;
		if (send(log_fd, dgram, (size_t)n, MSG_DONTWAIT |
		    MSG_NOSIGNAL) == -1)
			log_ndropped++;
		break;
	case LOG_DEST_SYSLOG:
		syslog(prio, "%s: %s", log_procname, line);
		break;
	case LOG_DEST_STDERR:
	default:
		log_stderr_line(log_procname, getpid(), line);
		break;
	}
}

static void
log_vwrite(int prio, int with_errno, const char *fmt, va_list ap)
{
	char	line[SP_LOG_LINE_MAX];
	int	saved_errno = errno;
	size_t	len;
	int	n;

	if (prio > log_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	len = strlen(line);
	if (with_errno && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, ": %s",
		    strerror(saved_errno));
	log_emit(prio, line);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

static const char hexdig[] = "0123456789abcdef";

char *
log_esc(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	const unsigned char	*s = src;
	size_t			 i, o = 0;

	SP_ASSERT(dstlen >= 8);
	for (i = 0; i < srclen; i++) {
		unsigned char	c = s[i];
		int		plain = c > 0x20 && c < 0x7f &&
			    c != '\\' && c != '"' && c != '=';

		/* room for this byte's form, "..." and the NUL */
		if (o + (plain ? 1 : 4) + 4 > dstlen) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (plain)
			dst[o++] = (char)c;
		else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hexdig[c >> 4];
			dst[o++] = hexdig[c & 0xf];
		}
	}
	dst[o] = '\0';
	return dst;
}

void
log_write_child(int prio, const char *procname, pid_t pid, const char *line,
    size_t len)
{
	char	clean[SP_LOG_LINE_MAX * 4 + 1];
	size_t	i, o = 0;

	/* SECURITY: the child may be compromised; no control bytes pass. */
	for (i = 0; i < len && o + 5 < sizeof(clean); i++) {
		unsigned char	c = (unsigned char)line[i];

		if (c >= 0x20 && c < 0x7f)
			clean[o++] = (char)c;
		else {
			clean[o++] = '\\';
			clean[o++] = 'x';
			clean[o++] = hexdig[c >> 4];
			clean[o++] = hexdig[c & 0xf];
		}
	}
	clean[o] = '\0';
	if (prio > log_level)
		return;
	if (log_to == LOG_DEST_SYSLOG)
		syslog(prio, "%s[%ld]: %s", procname, (long)pid, clean);
	else
		log_stderr_line(procname, pid, clean);
}
