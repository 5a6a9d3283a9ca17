/* SPDX-License-Identifier: ISC */
/*
 * ctl_secret.h - sealpostctl's password input (ctl_secret.c).
 */
#ifndef SP_CTL_SECRET_H
#define SP_CTL_SECRET_H

#include <stddef.h>

#include "accounts.h"

#define CTL_PW_BUF	(ACCOUNTS_PASSWORD_MAX + 2)	/* + CR, + NUL */

/* A password, in sodium_malloc memory. */
struct ctl_secret {
	unsigned char	*buf;
	size_t		 len;
};

/*
 * One line from fd, a byte at a time so that the rest stays for the next
 * read.  1: a line; 0: end of input before any byte; -1: read error;
 * -2: longer than size - 1.
 */
int	ctl_getline(int fd, unsigned char *buf, size_t size, size_t *len_r);

/*
 * Read a password: the first line of file; else a line of standard input
 * when it is not a terminal; else a no-echo prompt on the terminal,
 * twice when repeat is not NULL.  0, or an error printed and 1.
 */
int	ctl_secret_read(const char *file, const char *prompt,
	    const char *repeat, struct ctl_secret *);
/* "sealpostctl: " and one line on stderr; returns 1, the exit status of
 * a refused command. */
int	ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wipe and free; the struct may be read again. */
void	ctl_secret_free(struct ctl_secret *);

#endif
