/* SPDX-License-Identifier: ISC */
/*
 * ctl_secret.c - how sealpostctl reads a password: the first line of a
 * file, a line of standard input when it is not a terminal, or a no-echo
 * prompt; held in sodium_malloc memory only, wiped when freed.  Never
 * from argv or the environment (ps and /proc show them).
 *
 * Process:  sealpostctl, run by root.
 * Limits:   ACCOUNTS_PASSWORD_MAX bytes per line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <readpassphrase.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "accounts.h"
#include "ctl_secret.h"
#include "banned.h"

int
ctl_error(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fprintf(stderr, "sealpostctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 1;
}

/*
 * One line from fd, a byte at a time so that the rest stays for the next
 * read (passwd takes two lines of standard input).  1: a line; 0: end of
 * input before any byte; -1: read error; -2: longer than size - 1.
 */
int
ctl_getline(int fd, unsigned char *buf, size_t size, size_t *len_r)
{
	unsigned char	c;
	size_t		len = 0;
	ssize_t		n;

	for (;;) {
		if ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			if (len == 0)
				return 0;
			break;
		}
		if (c == '\n')
			break;
		if (len == size - 1)
			return -2;
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	*len_r = len;
	return 1;
}

void
ctl_secret_free(struct ctl_secret *s)
{
	if (s->buf != NULL)
		sodium_free(s->buf);	/* wipes */
	s->buf = NULL;
	s->len = 0;
}

/*
 * Read a password: the first line of file; else a line of standard input
 * when it is not a terminal; else a no-echo prompt on the terminal,
 * twice when repeat is not NULL.  0, or an error printed and 1.
 */
int
ctl_secret_read(const char *file, const char *prompt, const char *repeat,
    struct ctl_secret *s)
{
	unsigned char	*again = NULL;
	int		 fd, rv;

	s->len = 0;
	if ((s->buf = sodium_malloc(CTL_PW_BUF)) == NULL)
		return ctl_error("out of memory");
	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
			return ctl_error("%s: %s", file, strerror(errno));
		rv = ctl_getline(fd, s->buf, CTL_PW_BUF, &s->len);
		if (rv == -1)
			rv = ctl_error("%s: %s", file, strerror(errno));
		close(fd);
		if (rv == 1)
			return 0;
		if (rv == 0)
			return ctl_error("%s: no password in it", file);
		if (rv == -2)
			return ctl_error("password longer than %d bytes",
			    ACCOUNTS_PASSWORD_MAX);
		return 1;
	}
	if (!isatty(STDIN_FILENO)) {
		switch (ctl_getline(STDIN_FILENO, s->buf, CTL_PW_BUF,
		    &s->len)) {
		case 1:
			return 0;
		case 0:
			return ctl_error("no password on standard input");
		case -2:
			return ctl_error("password longer than %d bytes",
			    ACCOUNTS_PASSWORD_MAX);
		default:
			return ctl_error("standard input: %s",
			    strerror(errno));
		}
	}
	/* readpassphrase: termios without echo, restored on a signal */
	if (readpassphrase(prompt, (char *)s->buf, CTL_PW_BUF,
	    RPP_REQUIRE_TTY) == NULL)
		return ctl_error("cannot read a password from the terminal: "
		    "%s", strerror(errno));
	s->len = strlen((char *)s->buf);
	if (s->len > ACCOUNTS_PASSWORD_MAX)
		return ctl_error("password longer than %d bytes",
		    ACCOUNTS_PASSWORD_MAX);
	if (repeat == NULL)
		return 0;
	if ((again = sodium_malloc(CTL_PW_BUF)) == NULL)
		return ctl_error("out of memory");
	rv = 0;
	if (readpassphrase(repeat, (char *)again, CTL_PW_BUF,
	    RPP_REQUIRE_TTY) == NULL)
		rv = ctl_error("cannot read a password from the terminal: "
		    "%s", strerror(errno));
	else if (strlen((char *)again) != s->len ||
	    sodium_memcmp(again, s->buf, s->len) != 0)
		rv = ctl_error("passwords do not match");
	sodium_free(again);
	return rv;
}
