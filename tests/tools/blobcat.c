/* SPDX-License-Identifier: ISC */
/*
 * blobcat.c - test tool: decrypt one SPB1 blob with a secret key given in
 * hex and write the message to stdout (or, with -m, the sealed header).
 * Exit 1 on any integrity failure.  For tests only; mail processes use
 * the reading library directly.
 *
 *	blobcat [-m] SECRET-KEY-HEX FILE
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "blob.h"
#include "banned.h"

int
main(int argc, char **argv)
{
	struct blob_reader	*r;
	unsigned char		*sk, pk[crypto_box_PUBLICKEYBYTES], buf[65536];
	char			 err[256];
	uint64_t		 off = 0;
	ssize_t			 n;
	int			 fd, meta = 0, ch;

	while ((ch = getopt(argc, argv, "m")) != -1)
		meta = ch == 'm' ? 1 : meta;
	argc -= optind;
	argv += optind;
	if (argc != 2 || sodium_init() < 0 ||
	    (sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL) {
		fprintf(stderr, "usage: blobcat [-m] SECRET-KEY-HEX FILE\n");
		return 2;
	}
	if (sodium_hex2bin(sk, crypto_box_SECRETKEYBYTES, argv[0],
	    strlen(argv[0]), NULL, NULL, NULL) != 0) {
		fprintf(stderr, "blobcat: bad key\n");
		return 2;
	}
	crypto_scalarmult_base(pk, sk);
	if ((fd = open(argv[1], O_RDONLY)) == -1) {
		perror(argv[1]);
		return 1;
	}
	if ((r = blob_open(fd, pk, sk, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "blobcat: %s\n", err);
		return 1;
	}
	if (meta) {
		const struct blob_meta *m = blob_meta(r);

		printf("size=%llu folder=%s sender=%s rcpt=%s\n",
		    (unsigned long long)m->size, m->folder, m->sender, m->rcpt);
		return 0;
	}
	while ((n = blob_pread(r, buf, sizeof(buf), off)) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return 1;
		off += (uint64_t)n;
	}
	if (n == -1) {
		fprintf(stderr, "blobcat: integrity error at %llu\n",
		    (unsigned long long)off);
		return 1;
	}
	blob_close(r);
	return fflush(stdout) == 0 ? 0 : 1;
}
