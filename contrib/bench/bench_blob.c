/* SPDX-License-Identifier: ISC */
/*
 * bench_blob.c - what sealing costs: N messages of S bytes sealed into
 * blobs (blob_write + fsync, one file each) and read back (blob_open +
 * blob_pread of the whole message), against plain write + fsync and read
 * of the same bytes.  Prints MB/s (10^6 bytes); asserts nothing.
 *
 *	bench_blob [-d DIR] N S		(contrib/bench/store-blob runs it)
 *
 * Process:  none: a benchmark, run by hand.
 * Trust:    its own files only, in a new directory under DIR (default
 *           $TMPDIR or /var/tmp), removed at the end.
 * Limits:   S <= 1 GiB, N <= 1000000.
 * See also: src/store/blob.c, contrib/bench/store-blob.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "memfd.h"
#include "blob.h"
#include "banned.h"

#define BENCH_MAX_SIZE	(1024 * 1024 * 1024)
#define BENCH_MAX_N	1000000
#define BENCH_READ	BLOB_CHUNK	/* bytes per read, as a FETCH would */

static char	dir[4096];

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_blob: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
path_of(char *p, size_t len, const char *kind, long i)
{
	int	n;

	n = snprintf(p, len, "%s/%s.%ld", dir, kind, i);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "bench_blob: path too long\n");
		exit(1);
	}
}

static void
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t	r;

	while (n > 0) {
		if ((r = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			die("write");
		p += r;
		n -= (size_t)r;
	}
}

static void
report(const char *what, long n, size_t size, double secs)
{
	printf("  %-34s %9.1f MB/s  %8.3f ms/message\n", what,
	    (double)n * (double)size / secs / 1e6, secs * 1e3 / (double)n);
}

int
main(int argc, char **argv)
{
	unsigned char	 pk[crypto_box_PUBLICKEYBYTES], *sk, *msg, *buf;
	unsigned char	(*ids)[BLOB_ID_LEN];
	struct blob_meta meta;
	const char	*base, *errstr;
	char		 path[4200], err[256];
	double		 t0;
	size_t		 size, off;
	long		 n, i;
	ssize_t		 got;
	int		 ch, fd, mfd;

	if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/var/tmp";
	while ((ch = getopt(argc, argv, "d:")) != -1) {
		switch (ch) {
		case 'd':
			base = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	n = (long)strtonum(argv[optind], 1, BENCH_MAX_N, &errstr);
	if (errstr != NULL)
		goto usage;
	size = (size_t)strtonum(argv[optind + 1], 0, BENCH_MAX_SIZE, &errstr);
	if (errstr != NULL)
		goto usage;

	if (sodium_init() == -1)
		die("sodium_init");
	if ((sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL)
		die("sodium_malloc");
	crypto_box_keypair(pk, sk);
	if ((msg = malloc(size + 1)) == NULL || (buf = malloc(size + 1)) ==
	    NULL || (ids = calloc((size_t)n, BLOB_ID_LEN)) == NULL)
		die("malloc");
	randombytes_buf(msg, size);
	if ((mfd = memfd_sealed_from("bench", msg, size)) == -1)
		die("memfd");
	memset(&meta, 0, sizeof(meta));
	meta.delivered = (uint64_t)time(NULL);
	strlcpy(meta.folder, "INBOX", sizeof(meta.folder));
	strlcpy(meta.sender, "bench@other.example", sizeof(meta.sender));
	strlcpy(meta.rcpt, "bench@local.example", sizeof(meta.rcpt));
	if (snprintf(dir, sizeof(dir), "%s/bench-blob-XXXXXX", base) >=
	    (int)sizeof(dir) || mkdtemp(dir) == NULL)
		die("mkdtemp");
	printf("%ld messages of %zu bytes in %s\n", n, size, dir);

	/* plain: write + fsync, then read */
	t0 = now();
	for (i = 0; i < n; i++) {
		path_of(path, sizeof(path), "plain", i);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) == -1)
			die(path);
		write_all(fd, msg, size);
		if (fsync(fd) == -1)
			die("fsync");
		close(fd);
	}
	report("plain write + fsync", n, size, now() - t0);
	t0 = now();
	for (i = 0; i < n; i++) {
		path_of(path, sizeof(path), "plain", i);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			die(path);
		for (off = 0; off < size; off += (size_t)got) {
			got = pread(fd, buf + off, size - off < BENCH_READ ?
			    size - off : BENCH_READ, (off_t)off);
			if (got <= 0)
				die("pread");
		}
		close(fd);
	}
	report("plain read", n, size, now() - t0);

	/* sealed: blob_write + fsync, then blob_open + blob_pread */
	t0 = now();
	for (i = 0; i < n; i++) {
		path_of(path, sizeof(path), "blob", i);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) == -1)
			die(path);
		if (blob_write(fd, pk, mfd, size, &meta, ids[i], err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "bench_blob: %s\n", err);
			return 1;
		}
		if (fsync(fd) == -1)
			die("fsync");
		close(fd);
	}
	report("sealed blob_write + fsync", n, size, now() - t0);
	t0 = now();
	for (i = 0; i < n; i++) {
		struct blob_reader	*r;

		path_of(path, sizeof(path), "blob", i);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			die(path);
		if ((r = blob_open(fd, pk, sk, ids[i], err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "bench_blob: %s\n", err);
			return 1;
		}
		for (off = 0; off < size; off += (size_t)got)
			if ((got = blob_pread(r, buf + off, BENCH_READ,
			    off)) <= 0)
				die("blob_pread");
		blob_close(r);
		close(fd);
	}
	report("sealed blob_open + blob_pread", n, size, now() - t0);
	if (memcmp(buf, msg, size) != 0) {
		fprintf(stderr, "bench_blob: read back differs\n");
		return 1;
	}

	for (i = 0; i < n; i++) {
		path_of(path, sizeof(path), "plain", i);
		unlink(path);
		path_of(path, sizeof(path), "blob", i);
		unlink(path);
	}
	rmdir(dir);
	close(mfd);
	sodium_free(sk);
	free(ids);
	free(buf);
	free(msg);
	return 0;
usage:
	fprintf(stderr, "usage: bench_blob [-d dir] count size\n");
	return 2;
}
