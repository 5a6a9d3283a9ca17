/* SPDX-License-Identifier: ISC */
/*
 * keyfile.c - one 32-byte key in a one-line file, "TAG HEX": the
 * organization's recovery keys (accounts.c) and the queue key
 * (queue_store.c).  The tag says what the key is for, so that one key
 * file cannot be taken for another.
 *
 * Process:  sealpostctl (root), the queue service (root, before its
 *           jail).
 * Trust:    the files are root's; what is read is still checked (length,
 *           tag, hex) before use.  Keys stay in the caller's memory
 *           (sodium_malloc for private keys) and in sodium_malloc buffers
 *           here, wiped when freed.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"
#include "banned.h"

/* Write "TAG HEX\n" to a new file (never over an old one). */
int
keyfile_write(const char *path, const char *tag, const uint8_t *key,
    mode_t mode, char *err, size_t errlen)
{
	char	*line;
	size_t	 taglen = strlen(tag), len, off = 0;
	ssize_t	 n;
	int	 fd, saved;

	len = taglen + 1 + 2 * KEYFILE_KEY_LEN + 1;
	if ((line = sodium_malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(line, tag, taglen);
	line[taglen] = ' ';
	sodium_bin2hex(line + taglen + 1, 2 * KEYFILE_KEY_LEN + 1, key,
	    KEYFILE_KEY_LEN);
	line[len - 1] = '\n';
	line[len] = '\0';
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		sodium_free(line);
		return -1;
	}
	if (fchmod(fd, mode) == -1)		/* whatever the umask */
		goto fail;
	while (off < len) {
		if ((n = write(fd, line + off, len - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	sodium_free(line);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlink(path);
	snprintf(err, errlen, "%s: %s", path, strerror(saved));
	sodium_free(line);
	return -1;
}

/* Read "TAG HEX" from path into key (32 bytes; may be sodium memory). */
int
keyfile_read(const char *path, const char *tag, const char *what,
    const char *other, const char *othermsg, uint8_t *key, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0, taglen = strlen(tag), binlen = 0;
	ssize_t		 n;
	const char	*end;
	int		 fd, rv = -1;

	if ((buf = sodium_malloc(KEYFILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	while (len < KEYFILE_MAX + 1 &&
	    (n = read(fd, buf + len, KEYFILE_MAX + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	if (other != NULL && len > strlen(other) &&
	    strncmp(buf, other, strlen(other)) == 0 &&
	    buf[strlen(other)] == ' ') {
		snprintf(err, errlen, "%s %s", path, othermsg);
		goto out;
	}
	if (len != taglen + 1 + 2 * KEYFILE_KEY_LEN ||
	    strncmp(buf, tag, taglen) != 0 || buf[taglen] != ' ' ||
	    sodium_hex2bin(key, KEYFILE_KEY_LEN, buf + taglen + 1,
	    2 * KEYFILE_KEY_LEN, NULL, &binlen, &end) != 0 ||
	    binlen != KEYFILE_KEY_LEN || end != buf + len) {
		snprintf(err, errlen, "%s: not a sealpost %s", path, what);
		goto out;
	}
	rv = 0;
out:
	if (fd != -1)
		close(fd);
	sodium_free(buf);
	return rv;
}
