/* SPDX-License-Identifier: ISC */
/*
 * log.h - logging for every sealpost process.
 *
 * The master writes to stderr (foreground) or syslog; every child sends
 * its lines to the master as datagrams on SP_FD_LOG and never opens
 * /dev/log itself (it is not there inside a jail).
 */
#ifndef SP_LOG_H
#define SP_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <syslog.h>

enum log_dest {
	LOG_DEST_STDERR,	/* master in the foreground, command-line tools */
	LOG_DEST_SYSLOG,	/* master as a daemon */
	LOG_DEST_MASTER		/* children: datagrams to the master on fd */
};

/* Set the process name, the destination and (LOG_DEST_MASTER) the fd. */
void	log_init(const char *procname, enum log_dest dest, int fd);
/* Messages above this syslog priority are dropped (default LOG_INFO). */
void	log_setlevel(int prio);
int	log_getlevel(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* Always compiled in: our own bug, not bad input (STYLE.md 6). */
#define SP_ASSERT(c) do {						\
	if (!(c))							\
		fatalx("assertion failed: %s at %s:%d", #c,		\
		    __FILE__, __LINE__);				\
} while (0)

/*
 * Escape untrusted bytes for a key=value log field: bytes outside
 * 0x21..0x7e and the characters \ " = become \xHH.  dst is always
 * NUL-terminated; input that does not fit is cut and ends in "...".
 * Returns dst.
 */
char	*log_esc(char *dst, size_t dstlen, const void *src, size_t srclen);

/*
 * Master side: write one line that a child sent.  The line is untrusted:
 * control and 8-bit bytes are escaped again before it is written.
 */
void	log_write_child(int prio, const char *procname, pid_t pid,
	    const char *line, size_t len);

/* Number of lines a child dropped because the master's socket was full. */
unsigned long log_dropped(void);

#endif
