/* SPDX-License-Identifier: ISC */
/*
 * keyfile.h - a 32-byte key in a one-line file, "TAG HEX\n" (64 hex
 * digits).
 */
#ifndef SP_KEYFILE_H
#define SP_KEYFILE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_KEY_LEN	32
#define KEYFILE_MAX	256	/* bytes of a key file read */

/*
 * Write "TAG HEX\n" to a new file (O_EXCL, never over an old one, mode,
 * fsynced); nothing is left behind on failure.  0, or -1 with a message
 * in err.
 */
int	keyfile_write(const char *path, const char *tag, const uint8_t *key,
	    mode_t mode, char *err, size_t errlen);
/*
 * Read one back into key (KEYFILE_KEY_LEN bytes, the caller's
 * sodium_malloc memory for a private key), refusing a file of tag other
 * with othermsg (both may be NULL); what names the key in the message
 * for a malformed file.  0, or -1 with a message in err.
 */
int	keyfile_read(const char *path, const char *tag, const char *what,
	    const char *other, const char *othermsg, uint8_t *key, char *err,
	    size_t errlen);

#endif
