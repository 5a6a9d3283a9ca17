/* SPDX-License-Identifier: ISC */
/*
 * memfd.c - create, seal and verify memfds (see memfd.h).
 *
 * Process:  the master creates (TLS material); sessions and services verify.
 * Trust:    a received fd is untrusted until memfd_check_sealed() passes:
 *           without F_SEAL_WRITE its sender could change the bytes after
 *           they were checked.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "memfd.h"
#include "banned.h"

int
memfd_new(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

int
memfd_append(int fd, const void *data, size_t len)
{
	const char	*p = data;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

int
memfd_seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, SP_MEMFD_SEALS);
}

int
memfd_sealed_from(const char *name, const void *data, size_t len)
{
	int		 fd, saved;

	if ((fd = memfd_new(name)) == -1)
		return -1;
	if (memfd_append(fd, data, len) == -1 || memfd_seal(fd) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
memfd_check_sealed(int fd, size_t max, size_t *len_r)
{
	struct stat	st;
	int		seals;

	if ((seals = fcntl(fd, F_GET_SEALS)) == -1)
		return -1;
	if ((seals & SP_MEMFD_SEALS) != SP_MEMFD_SEALS) {
		errno = EPERM;
		return -1;
	}
	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (unsigned long long)st.st_size > max) {
		errno = EFBIG;
		return -1;
	}
	*len_r = (size_t)st.st_size;
	return 0;
}

int
memfd_read(int fd, void *dst, size_t len)
{
	char	*p = dst;
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len) {
		n = pread(fd, p + off, len - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}
