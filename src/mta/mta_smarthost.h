/* SPDX-License-Identifier: ISC */
/*
 * mta_smarthost.h - the smarthost (issue 15): every message is relayed
 * to one host, over STARTTLS checked against its name, with AUTH PLAIN
 * when sealpost.conf names a credentials file.
 */
#ifndef SP_MTA_SMARTHOST_H
#define SP_MTA_SMARTHOST_H

#include <stddef.h>
#include <stdint.h>

/* A credentials file holds one line; longer files are refused. */
#define MTA_SMARTHOST_AUTH_MAX	1024

/*
 * Before the jail, as root: hostport is "HOST:PORT" (the master's -o
 * option; NULL: no smarthost), authfile the path of "user password"
 * (NULL: no AUTH).  The file must be a regular file owned by root and
 * not readable by group or others.  The AUTH PLAIN line is built into
 * sodium_malloc memory made read-only; the file's bytes are wiped.
 * 0, or -1 with a message in err (never the file's contents).
 */
int		 mta_smarthost_preload(const char *hostport,
		    const char *authfile, char *err, size_t errlen);
/* The smarthost's name, or NULL; its port. */
const char	*mta_smarthost_name(void);
uint16_t	 mta_smarthost_port(void);
/* "AUTH PLAIN <base64>\r\n" (a secret: never logged), or NULL. */
const char	*mta_smarthost_auth(size_t *len_r);

/*
 * The credentials file's text (n bytes, hostile to the parser only in
 * the sense of a mistake) into the AUTH PLAIN line at out (outlen
 * bytes): "user password", one line, the password the rest of the line
 * after the blanks following the user.  The length, or -1 with a message
 * in err.  For the unit tests and mta_smarthost_preload.
 */
int		 mta_smarthost_auth_line(const char *text, size_t n, char *out,
		    size_t outlen, char *err, size_t errlen);

#endif
