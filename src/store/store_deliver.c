/* SPDX-License-Identifier: ISC */
/*
 * store_deliver.c - the write side of the store: seal a message into an
 * account's new/ durably (see store_deliver.h).
 *
 * Process:  deliver (holds account PUBLIC keys only; can create files in
 *           new/ but cannot list or read them).
 * Trust:    the message is a sealed memfd whose seals the caller checked;
 *           it is never parsed here, only encrypted chunk by chunk.
 * See also: blob.c (the format), layout.c (the folders), DESIGN.md
 *           "Never lose a message".
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_deliver.h"
#include "banned.h"

#ifdef SP_TEST_HOOKS
const char	*store_test_crash_at;

#define CRASH_POINT(step) do {						\
	if (store_test_crash_at != NULL &&				\
	    strcmp(store_test_crash_at, (step)) == 0)			\
		_exit(99);						\
} while (0)
#else
#define CRASH_POINT(step) do { } while (0)
#endif

static void
store_hex(const unsigned char *in, size_t n, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int
store_deliver(int new_fd, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
    int msg_fd, uint64_t msg_len, const struct blob_meta *meta,
    char name_r[STORE_NAME_MAX], char *err, size_t errlen)
{
	unsigned char	rnd[8], id[BLOB_ID_LEN];
	struct timespec	times[2];
	char		tmp[32];
	int		fd, saved;

	randombytes_buf(rnd, sizeof(rnd));
	memcpy(tmp, ".tmp-", 5);
	store_hex(rnd, sizeof(rnd), tmp + 5);
	/* 0604: the account's uid reads it as "other" (layout.h) */
	fd = openat(new_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0604);
	if (fd == -1) {
		saved = errno;
		snprintf(err, errlen, "create: %s", strerror(errno));
		errno = saved;
		return -1;
	}
	if (fchmod(fd, 0604) == -1 ||	/* whatever the umask */
	    blob_write(fd, pk, msg_fd, msg_len, meta, id, err, errlen) == -1)
		goto fail;
	/*
	 * The import takes new/ in mtime order: set a precise one (the
	 * file system's own comes from a coarse clock tick), so that two
	 * deliveries within one tick keep the order their 250s were given
	 * in, and so do their UIDs.
	 */
	if (clock_gettime(CLOCK_REALTIME, &times[0]) == -1 ||
	    (times[1] = times[0], futimens(fd, times)) == -1) {
		snprintf(err, errlen, "futimens: %s", strerror(errno));
		goto fail;
	}
	CRASH_POINT("written");
	if (fsync(fd) == -1) {
		snprintf(err, errlen, "fsync: %s", strerror(errno));
		goto fail;
	}
	CRASH_POINT("fsynced");
	if (close(fd) == -1) {
		fd = -1;
		snprintf(err, errlen, "close: %s", strerror(errno));
		goto fail;
	}
	fd = -1;
	store_hex(id, sizeof(id), name_r);
	if (renameat(new_fd, tmp, new_fd, name_r) == -1) {
		snprintf(err, errlen, "rename: %s", strerror(errno));
		goto fail;
	}
	CRASH_POINT("renamed");
	/* the rename is durable only once the directory is */
	if (fsync(new_fd) == -1) {
		saved = errno;
		snprintf(err, errlen, "fsync the folder: %s", strerror(errno));
		(void)unlinkat(new_fd, name_r, 0);
		errno = saved;
		return -1;
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlinkat(new_fd, tmp, 0);
	errno = saved;
	return -1;
}
