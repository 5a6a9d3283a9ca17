/* SPDX-License-Identifier: ISC */
/*
 * test_blob.c - the SPB1 message blob (store/blob.c): round trips at every
 * chunk boundary, partial reads, and that every kind of tampering (a byte
 * flipped anywhere, truncation, appending, chunks swapped or taken from
 * another blob, another message's or another account's file) is an
 * integrity error that returns no plaintext.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "memfd.h"
#include "blob.h"
#include "test.h"
#include "banned.h"

/* The layout of blob.c, as a reader outside it sees it. */
#define FIXED_LEN	124		/* magic .. sealed header length */
#define OFF_HDR_LEN	120
#define TAG		16
#define SEALED_CHUNK	(BLOB_CHUNK + TAG)

static unsigned char	 pk[crypto_box_PUBLICKEYBYTES];
static unsigned char	*sk;		/* sodium_malloc, as a mail process */
static unsigned char	 pk2[crypto_box_PUBLICKEYBYTES];
static unsigned char	*sk2;		/* another account */
static struct blob_meta	 meta;

static unsigned char *
rand_msg(size_t len)
{
	unsigned char	*p;

	if ((p = malloc(len + 1)) == NULL)
		abort();
	randombytes_buf(p, len);
	return p;
}

/* A new empty, unlinked temporary file. */
static int
tmpfile_fd(void)
{
	const char	*dir = getenv("TMPDIR");
	char		 path[4096];
	int		 fd, n;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	n = snprintf(path, sizeof(path), "%s/sp-test-blob-XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		abort();
	if ((fd = mkstemp(path)) == -1)
		abort();
	unlink(path);
	return fd;
}

/* Seal msg[0..len) to key into a temporary file: its fd, or -1. */
static int
make_blob(const unsigned char *msg, size_t len, const unsigned char *key,
    unsigned char id_r[BLOB_ID_LEN])
{
	char	err[256];
	int	mfd, fd;

	if ((mfd = memfd_sealed_from("msg", msg, len)) == -1)
		abort();
	fd = tmpfile_fd();
	if (blob_write(fd, key, mfd, len, &meta, id_r, err,
	    sizeof(err)) == -1) {
		printf("# blob_write: %s\n", err);
		close(fd);
		fd = -1;
	}
	close(mfd);
	return fd;
}

/* The whole file in a new buffer; its length in *len_r. */
static unsigned char *
slurp(int fd, size_t *len_r)
{
	struct stat	 st;
	unsigned char	*p;

	if (fstat(fd, &st) == -1)
		abort();
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		abort();
	if (pread(fd, p, (size_t)st.st_size, 0) != st.st_size)
		abort();
	*len_r = (size_t)st.st_size;
	return p;
}

/* A file holding p[0..len). */
static int
file_from(const unsigned char *p, size_t len)
{
	int	fd = tmpfile_fd();

	if (len > 0 && pwrite(fd, p, len, 0) != (ssize_t)len)
		abort();
	return fd;
}

static uint32_t
hdr_len(const unsigned char *blob)
{
	return (uint32_t)blob[OFF_HDR_LEN] | (uint32_t)blob[OFF_HDR_LEN + 1] <<
	    8 | (uint32_t)blob[OFF_HDR_LEN + 2] << 16 |
	    (uint32_t)blob[OFF_HDR_LEN + 3] << 24;
}

static size_t
data_off(const unsigned char *blob)
{
	return FIXED_LEN + hdr_len(blob);
}

static int
all_zero(const unsigned char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Read all of r in steps of step bytes and compare with msg. */
static int
read_all_equal(struct blob_reader *r, const unsigned char *msg, size_t len,
    size_t step)
{
	unsigned char	*got;
	size_t		 off = 0;
	ssize_t		 n;
	int		 ok = 1;

	if ((got = malloc(len + 1)) == NULL)
		abort();
	while (off < len) {
		n = blob_pread(r, got + off, step, off);
		if (n <= 0 || (size_t)n > step) {
			ok = 0;
			break;
		}
		off += (size_t)n;
	}
	if (ok)
		ok = off == len && blob_pread(r, got, step, len) == 0 &&
		    memcmp(got, msg, len) == 0;
	free(got);
	return ok;
}

static void
set_meta(void)
{
	memset(&meta, 0, sizeof(meta));
	meta.delivered = 1700000000;
	strlcpy(meta.folder, "INBOX", sizeof(meta.folder));
	strlcpy(meta.sender, "alice@other.example", sizeof(meta.sender));
	strlcpy(meta.rcpt, "bob@local.example", sizeof(meta.rcpt));
}

/* --- round trips ------------------------------------------------------ */

static void
test_blob_roundtrip(void)
{
	size_t	 sizes[] = { 0, 1, 65535, 65536, 65537, 3 * 65536, 0 };
	size_t	 i, len, flen;
	char	 err[256];

	test_begin("blob round trip at 0, 1, 64K-1, 64K, 64K+1, 192K, ~1M");
	sizes[6] = 1024 * 1024 - 32768 + randombytes_uniform(65536);
	set_meta();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const struct blob_meta	*m;
		struct blob_reader	*r;
		unsigned char		 id[BLOB_ID_LEN], *msg, *blob;
		uint64_t		 n;
		int			 fd;

		len = sizes[i];
		msg = rand_msg(len);
		meta.delivered = 1700000000 + i;
		fd = make_blob(msg, len, pk, id);
		test_assert(fd != -1);
		if (fd == -1) {
			free(msg);
			continue;
		}
		/* the length is exactly what the header implies */
		blob = slurp(fd, &flen);
		n = len == 0 ? 1 : (len + BLOB_CHUNK - 1) / BLOB_CHUNK;
		test_assert(flen == data_off(blob) + len + n * TAG);
		test_assert(memcmp(blob, "SPB1\x01\0\0\0", 8) == 0);
		test_assert(memcmp(blob + 8, id, BLOB_ID_LEN) == 0);
		test_assert(blob_check_structure(fd, err, sizeof(err)) == 0);

		r = blob_open(fd, pk, sk, id, err, sizeof(err));
		test_assert(r != NULL);
		if (r == NULL) {
			printf("# size %zu: %s\n", len, err);
			goto next;
		}
		m = blob_meta(r);
		test_assert(m->size == len);
		test_assert(m->delivered == 1700000000 + i);
		test_assert_streq(m->folder, "INBOX");
		test_assert_streq(m->sender, "alice@other.example");
		test_assert_streq(m->rcpt, "bob@local.example");
		test_assert(memcmp(blob_id(r), id, BLOB_ID_LEN) == 0);
		/* one read of everything, then odd steps */
		test_assert(read_all_equal(r, msg, len, len + 1));
		test_assert(read_all_equal(r, msg, len, 4093));
		blob_close(r);
		/* the same over memory */
		r = blob_open_mem(blob, flen, pk, sk, NULL, err, sizeof(err));
		test_assert(r != NULL);
		if (r != NULL) {
			test_assert(read_all_equal(r, msg, len, 65537));
			blob_close(r);
		}
next:
		free(blob);
		free(msg);
		close(fd);
	}
	test_end();
}

static void
test_blob_meta_limits(void)
{
	struct blob_reader	*r;
	unsigned char		 id[BLOB_ID_LEN], *msg;
	char			 err[256];
	int			 fd, mfd;

	test_begin("blob header: longest and empty strings; writer limits");
	msg = rand_msg(100);
	memset(&meta, 0, sizeof(meta));
	memset(meta.folder, 'f', BLOB_FOLDER_MAX);
	memset(meta.sender, 's', BLOB_ADDR_MAX);
	memset(meta.rcpt, 'r', BLOB_ADDR_MAX);
	meta.delivered = UINT64_MAX;
	fd = make_blob(msg, 100, pk, id);
	test_assert(fd != -1);
	r = blob_open(fd, pk, sk, id, err, sizeof(err));
	test_assert(r != NULL);
	if (r != NULL) {
		test_assert(strlen(blob_meta(r)->folder) == BLOB_FOLDER_MAX);
		test_assert(strlen(blob_meta(r)->sender) == BLOB_ADDR_MAX);
		test_assert(strlen(blob_meta(r)->rcpt) == BLOB_ADDR_MAX);
		test_assert(blob_meta(r)->delivered == UINT64_MAX);
		blob_close(r);
	}
	close(fd);

	memset(&meta, 0, sizeof(meta));		/* null sender, all empty */
	fd = make_blob(msg, 100, pk, id);
	r = blob_open(fd, pk, sk, id, err, sizeof(err));
	test_assert(r != NULL);
	if (r != NULL) {
		test_assert_streq(blob_meta(r)->sender, "");
		test_assert(read_all_equal(r, msg, 100, 7));
		blob_close(r);
	}
	close(fd);

	/* an unterminated string is refused, nothing is written */
	memset(meta.rcpt, 'r', sizeof(meta.rcpt));
	mfd = memfd_sealed_from("msg", msg, 100);
	fd = tmpfile_fd();
	test_assert(blob_write(fd, pk, mfd, 100, &meta, id, err,
	    sizeof(err)) == -1 && errno == EINVAL);
	test_assert(lseek(fd, 0, SEEK_END) == 0);
	set_meta();
	/* over 2^40 bytes, and more bytes than the memfd holds */
	test_assert(blob_write(fd, pk, mfd, BLOB_MAX_SIZE + 1, &meta, id, err,
	    sizeof(err)) == -1 && errno == EFBIG);
	test_assert(blob_write(fd, pk, mfd, 101, &meta, id, err,
	    sizeof(err)) == -1);
	close(fd);
	close(mfd);
	free(msg);
	test_end();
}

/*
 * Open a chunk by hand, as the layout comment in blob.c says: file nonce
 * || u64 idx, ad = id || u64 idx || u8 last.  0 or -1.
 */
static int
hand_open_chunk(unsigned char *out, const unsigned char *ct, size_t clen,
    const unsigned char *blob, const unsigned char *key, uint64_t idx,
    int last)
{
	unsigned char	nonce[24], ad[25];
	int		i;

	memcpy(nonce, blob + 24, 16);
	memcpy(ad, blob + 8, 16);
	for (i = 0; i < 8; i++)
		nonce[16 + i] = ad[16 + i] = (unsigned char)(idx >> (8 * i));
	ad[24] = (unsigned char)last;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, ct,
	    clen, ad, sizeof(ad), nonce, key);
}

static void
test_blob_layout(void)
{
	struct blob_reader	*r;
	unsigned char		 id[BLOB_ID_LEN], key[32], nonce[24], ad[30];
	unsigned char		 hdr[1024], *msg, *blob, *pt, got[10];
	const size_t		 len = BLOB_CHUNK + 10;
	size_t			 flen, doff, h;
	char			 err[256];
	int			 fd, i;

	test_begin("blob layout: decoded by hand as blob.c documents it");
	set_meta();
	msg = rand_msg(len);
	pt = malloc(BLOB_CHUNK);
	fd = make_blob(msg, len, pk, id);
	blob = slurp(fd, &flen);
	close(fd);
	h = hdr_len(blob);
	doff = data_off(blob);
	test_assert(memcmp(blob, "SPB1\x01\0\0\0", 8) == 0);
	test_assert(memcmp(blob + 8, id, BLOB_ID_LEN) == 0);
	test_assert(crypto_box_seal_open(key, blob + 40, 80, pk, sk) == 0);
	/* the header: nonce || 0xff * 8, ad = bytes 0..23 || "header" */
	memcpy(nonce, blob + 24, 16);
	memset(nonce + 16, 0xff, 8);
	memcpy(ad, blob, 24);
	memcpy(ad + 24, "header", 6);
	test_assert(h == 8 + 8 + 4 + 2 + 5 + 2 + 19 + 2 + 17 + TAG);
	test_assert(h <= sizeof(hdr) + TAG &&
	    crypto_aead_xchacha20poly1305_ietf_decrypt(hdr, NULL, NULL,
	    blob + FIXED_LEN, h, ad, sizeof(ad), nonce, key) == 0);
	test_assert(hdr[0] == 10 && hdr[1] == 0 && hdr[2] == 1 &&
	    all_zero(hdr + 3, 5));			/* u64 size */
	test_assert(memcmp(hdr + 8, "\x00\xf1\x53\x65\0\0\0\0", 8) == 0);
	test_assert(memcmp(hdr + 16, "\0\0\x01\0", 4) == 0);	/* 65536 */
	test_assert(memcmp(hdr + 20, "\x05\0INBOX\x13\0alice@other.example"
	    "\x11\0bob@local.example", 2 + 5 + 2 + 19 + 2 + 17) == 0);
	/* chunk 0 (full, not last) and chunk 1 (10 bytes, last) */
	test_assert(flen == doff + SEALED_CHUNK + 10 + TAG);
	test_assert(hand_open_chunk(pt, blob + doff, SEALED_CHUNK, blob, key,
	    0, 0) == 0 && memcmp(pt, msg, BLOB_CHUNK) == 0);
	test_assert(hand_open_chunk(pt, blob + doff + SEALED_CHUNK, 10 + TAG,
	    blob, key, 1, 1) == 0 && memcmp(pt, msg + BLOB_CHUNK, 10) == 0);

	/* the last chunk sealed again with last = 0: it must not read */
	for (i = 0; i < 8; i++)
		nonce[16 + i] = (unsigned char)(i == 0 ? 1 : 0);
	memcpy(ad, id, 16);
	memcpy(ad + 16, nonce + 16, 8);
	ad[24] = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + doff + SEALED_CHUNK,
	    NULL, msg + BLOB_CHUNK, 10, ad, 25, NULL, nonce, key);
	r = blob_open_mem(blob, flen, pk, sk, id, err, sizeof(err));
	test_assert(r != NULL);
	if (r != NULL) {
		test_assert(blob_pread(r, got, 10, 0) == 10);
		test_assert(blob_pread(r, got, 10, BLOB_CHUNK) == -1);
		blob_close(r);
	}
	/* and with last = 1 again it does: the hand-made chunk is right */
	ad[24] = 1;
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + doff + SEALED_CHUNK,
	    NULL, msg + BLOB_CHUNK, 10, ad, 25, NULL, nonce, key);
	r = blob_open_mem(blob, flen, pk, sk, id, err, sizeof(err));
	test_assert(r != NULL);
	if (r != NULL) {
		test_assert(blob_pread(r, got, 10, BLOB_CHUNK) == 10 &&
		    memcmp(got, msg + BLOB_CHUNK, 10) == 0);
		blob_close(r);
	}
	sodium_memzero(key, sizeof(key));
	free(blob);
	free(pt);
	free(msg);
	test_end();
}

/* --- partial reads ---------------------------------------------------- */

static void
test_blob_partial(void)
{
	struct blob_reader	*r;
	unsigned char		 id[BLOB_ID_LEN], *msg, *got;
	const size_t		 len = 3 * BLOB_CHUNK + 1000;
	size_t			 k, o;
	char			 err[256];
	int			 fd, ok = 1;

	test_begin("blob_pread: chunk boundaries, spans, the end");
	set_meta();
	msg = rand_msg(len);
	got = malloc(len + 10);
	fd = make_blob(msg, len, pk, id);
	r = blob_open(fd, pk, sk, id, err, sizeof(err));
	test_assert(r != NULL && got != NULL);
	if (r == NULL || got == NULL)
		goto out;
	/* around every boundary: 1..3 bytes starting 2 before it */
	for (k = 1; k <= 3; k++) {
		for (o = k * BLOB_CHUNK - 2; o <= k * BLOB_CHUNK + 1; o++) {
			size_t	want = len - o < 3 ? len - o : 3;

			if (blob_pread(r, got, 3, o) != (ssize_t)want ||
			    memcmp(got, msg + o, want) != 0)
				ok = 0;
		}
	}
	test_assert(ok);
	/* a span over three chunks, from the middle of one */
	test_assert(blob_pread(r, got, 2 * BLOB_CHUNK + 10, 1000) ==
	    2 * BLOB_CHUNK + 10);
	test_assert(memcmp(got, msg + 1000, 2 * BLOB_CHUNK + 10) == 0);
	/* one byte in the middle of the last (short) chunk */
	test_assert(blob_pread(r, got, 1, 3 * BLOB_CHUNK + 500) == 1 &&
	    got[0] == msg[3 * BLOB_CHUNK + 500]);
	/* the end: short read, then 0 at and beyond it */
	test_assert(blob_pread(r, got, 100, len - 10) == 10 &&
	    memcmp(got, msg + len - 10, 10) == 0);
	test_assert(blob_pread(r, got, 10, len) == 0);
	test_assert(blob_pread(r, got, 10, len + 1) == 0);
	test_assert(blob_pread(r, got, 10, UINT64_MAX) == 0);
	test_assert(blob_pread(r, got, 0, 0) == 0);
	/* backwards, one byte at a time across a boundary */
	ok = 1;
	for (o = BLOB_CHUNK + 3; o > BLOB_CHUNK - 3; o--)
		if (blob_pread(r, got, 1, o) != 1 || got[0] != msg[o])
			ok = 0;
	test_assert(ok);
	blob_close(r);
out:
	close(fd);
	free(got);
	free(msg);
	test_end();
}

static void
test_blob_cache(void)
{
	struct blob_reader	*r;
	unsigned char		 id[BLOB_ID_LEN], *msg, got[16], junk[64];
	size_t			 len = 2 * BLOB_CHUNK, flen;
	unsigned char		*blob;
	char			 err[256];
	int			 fd;

	test_begin("blob_pread caches the last chunk, and only verified bytes");
	set_meta();
	msg = rand_msg(len);
	fd = make_blob(msg, len, pk, id);
	blob = slurp(fd, &flen);
	r = blob_open(fd, pk, sk, id, err, sizeof(err));
	test_assert(r != NULL);
	if (r == NULL)
		goto out;
	test_assert(blob_pread(r, got, 8, 0) == 8);
	/* damage chunk 0 on disk: the cached chunk still serves reads */
	memset(junk, 0xee, sizeof(junk));
	test_assert(pwrite(fd, junk, sizeof(junk), data_off(blob) + 100) ==
	    sizeof(junk));
	test_assert(blob_pread(r, got, 8, 8) == 8 &&
	    memcmp(got, msg + 8, 8) == 0);
	/* once chunk 1 was read, chunk 0 is opened again, and fails */
	test_assert(blob_pread(r, got, 8, BLOB_CHUNK) == 8);
	memset(got, 0xaa, sizeof(got));
	test_assert(blob_pread(r, got, 8, 16) == -1 && errno == EBADMSG);
	test_assert(all_zero(got, 8));
	/* and chunk 1 still opens after chunk 0 failed */
	test_assert(blob_pread(r, got, 8, BLOB_CHUNK + 8) == 8 &&
	    memcmp(got, msg + BLOB_CHUNK + 8, 8) == 0);
	blob_close(r);
out:
	free(blob);
	free(msg);
	close(fd);
	test_end();
}

/* --- tampering -------------------------------------------------------- */

/*
 * Open the tampered blob t (len bytes) and read chunk by chunk: for each
 * chunk, 1 when it read back exactly as msg, 0 when it failed (and left
 * no plaintext), -1 when it returned anything else.  Returns -2 when the
 * blob did not open, else the number of chunks that failed, or -1 when
 * any chunk misbehaved.
 */
static int
read_tampered(const unsigned char *t, size_t len, const unsigned char *id,
    const unsigned char *msg, size_t msglen, uint64_t *failed_r)
{
	struct blob_reader	*r;
	unsigned char		*got;
	size_t			 off, n;
	ssize_t			 rv;
	char			 err[256];
	int			 bad = 0;

	*failed_r = UINT64_MAX;
	if ((r = blob_open_mem(t, len, pk, sk, id, err, sizeof(err))) == NULL)
		return errno == EBADMSG ? -2 : -1;
	if ((got = malloc(BLOB_CHUNK)) == NULL)
		abort();
	for (off = 0; off < msglen; off += BLOB_CHUNK) {
		n = msglen - off < BLOB_CHUNK ? msglen - off : BLOB_CHUNK;
		memset(got, 0xaa, BLOB_CHUNK);
		rv = blob_pread(r, got, BLOB_CHUNK, off);
		if (rv == -1 && errno == EBADMSG && all_zero(got, n)) {
			bad++;
			*failed_r = off / BLOB_CHUNK;
		} else if (rv != (ssize_t)n || memcmp(got, msg + off, n) != 0) {
			bad = -1;
			break;
		}
	}
	free(got);
	blob_close(r);
	return bad;
}

static void
test_blob_tamper_bytes(void)
{
	unsigned char	 id[BLOB_ID_LEN], *msg, *blob, *t;
	const size_t	 len = 2 * BLOB_CHUNK + 5000;
	size_t		 flen, pos, doff, nfixed = 0, nchunk = 0;
	uint64_t	 failed;
	int		 fd, ok_fixed = 1, ok_chunks = 1, rv;

	test_begin("blob: a flipped byte anywhere is caught, nothing leaks");
	set_meta();
	msg = rand_msg(len);
	fd = make_blob(msg, len, pk, id);
	blob = slurp(fd, &flen);
	close(fd);
	doff = data_off(blob);
	test_assert(read_tampered(blob, flen, id, msg, len, &failed) == 0);
	if ((t = malloc(flen)) == NULL)
		abort();
	memcpy(t, blob, flen);
	/* every byte of the fixed part and header: the open fails */
	for (pos = 0; pos < doff; pos++) {
		t[pos] ^= (unsigned char)(1u << (pos % 8));
		if (read_tampered(t, flen, id, msg, len, &failed) != -2) {
			printf("# byte %zu flipped: not refused\n", pos);
			ok_fixed = 0;
		}
		t[pos] = blob[pos];
		nfixed++;
	}
	/* a sample of the chunks (and every tag's last byte): that chunk */
	for (pos = doff; pos < flen; pos++) {
		if ((pos - doff) % 997 != 0 &&
		    (pos - doff) % SEALED_CHUNK != SEALED_CHUNK - 1 &&
		    pos != flen - 1)
			continue;
		t[pos] ^= 0x80;
		rv = read_tampered(t, flen, id, msg, len, &failed);
		if (rv != 1 || failed != (pos - doff) / SEALED_CHUNK) {
			printf("# byte %zu flipped: %d\n", pos, rv);
			ok_chunks = 0;
		}
		t[pos] = blob[pos];
		nchunk++;
	}
	printf("# %zu header and %zu chunk positions flipped\n", nfixed,
	    nchunk);
	test_assert(ok_fixed);
	test_assert(ok_chunks);
	test_assert(memcmp(t, blob, flen) == 0);
	free(t);
	free(blob);
	free(msg);

	/* an empty message: no read opens its chunk, so the open does */
	fd = make_blob(NULL, 0, pk, id);
	blob = slurp(fd, &flen);
	close(fd);
	test_assert(read_tampered(blob, flen, id, NULL, 0, &failed) == 0);
	ok_fixed = 1;
	for (pos = 0; pos < flen; pos++) {
		blob[pos] ^= 0x10;
		if (read_tampered(blob, flen, id, NULL, 0, &failed) != -2) {
			printf("# empty message, byte %zu: not refused\n", pos);
			ok_fixed = 0;
		}
		blob[pos] ^= 0x10;
	}
	test_assert(ok_fixed);
	free(blob);
	test_end();
}

static void
test_blob_truncate_append(void)
{
	struct blob_reader	*r;
	unsigned char		 id[BLOB_ID_LEN], *msg, *blob;
	const size_t		 len = 2 * BLOB_CHUNK + 5000;
	size_t			 flen, doff, cuts[10], i;
	char			 err[256];
	int			 fd, tfd, ok = 1;

	test_begin("blob: truncated (even at a chunk boundary) or appended");
	set_meta();
	msg = rand_msg(len);
	fd = make_blob(msg, len, pk, id);
	blob = slurp(fd, &flen);
	doff = data_off(blob);
	cuts[0] = 0;
	cuts[1] = 1;
	cuts[2] = FIXED_LEN - 1;
	cuts[3] = FIXED_LEN;
	cuts[4] = doff - 1;
	cuts[5] = doff;			/* no chunks at all */
	cuts[6] = doff + SEALED_CHUNK;	/* whole chunks only */
	cuts[7] = doff + 2 * SEALED_CHUNK;
	cuts[8] = doff + 2 * SEALED_CHUNK + 100;
	cuts[9] = flen - 1;
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		tfd = file_from(blob, cuts[i]);
		errno = 0;
		r = blob_open(tfd, pk, sk, id, err, sizeof(err));
		if (r != NULL || errno != EBADMSG) {
			printf("# cut at %zu: not refused\n", cuts[i]);
			ok = 0;
		}
		blob_close(r);
		close(tfd);
	}
	test_assert(ok);
	/* one byte more, and a whole sealed chunk more */
	tfd = file_from(blob, flen);
	test_assert(pwrite(tfd, "x", 1, flen) == 1);
	r = blob_open(tfd, pk, sk, id, err, sizeof(err));
	test_assert(r == NULL && errno == EBADMSG);
	test_assert(ftruncate(tfd, flen + SEALED_CHUNK) == 0);
	test_assert(blob_open(tfd, pk, sk, id, err, sizeof(err)) == NULL);
	close(tfd);
	/* the file shrinks after it was opened: the read fails, no crash */
	tfd = file_from(blob, flen);
	r = blob_open(tfd, pk, sk, id, err, sizeof(err));
	test_assert(r != NULL);
	if (r != NULL) {
		unsigned char	got[8];

		test_assert(ftruncate(tfd, doff + SEALED_CHUNK) == 0);
		test_assert(blob_pread(r, got, 8, 0) == 8);
		test_assert(blob_pread(r, got, 8, BLOB_CHUNK) == -1 &&
		    errno == EBADMSG);
		blob_close(r);
	}
	close(tfd);
	close(fd);
	free(blob);
	free(msg);
	test_end();
}

static void
test_blob_reorder_splice(void)
{
	unsigned char	 ida[BLOB_ID_LEN], idb[BLOB_ID_LEN], *msg;
	unsigned char	*a, *b, *t;
	const size_t	 len = 3 * BLOB_CHUNK;
	size_t		 alen, blen, doff;
	uint64_t	 failed;
	int		 fd;

	test_begin("blob: chunks swapped, dropped, or from another blob");
	set_meta();
	msg = rand_msg(len);
	fd = make_blob(msg, len, pk, ida);
	a = slurp(fd, &alen);
	close(fd);
	/* the same message and meta again: same lengths, another key */
	fd = make_blob(msg, len, pk, idb);
	b = slurp(fd, &blen);
	close(fd);
	test_assert(alen == blen && data_off(a) == data_off(b));
	doff = data_off(a);
	if ((t = malloc(alen)) == NULL)
		abort();

	/* swap chunks 0 and 1: both fail, chunk 2 still reads */
	memcpy(t, a, alen);
	memcpy(t + doff, a + doff + SEALED_CHUNK, SEALED_CHUNK);
	memcpy(t + doff + SEALED_CHUNK, a + doff, SEALED_CHUNK);
	test_assert(read_tampered(t, alen, ida, msg, len, &failed) == 2);
	/* swap chunks 1 and 2 (the last one): both fail */
	memcpy(t, a, alen);
	memcpy(t + doff + SEALED_CHUNK, a + doff + 2 * SEALED_CHUNK,
	    SEALED_CHUNK);
	memcpy(t + doff + 2 * SEALED_CHUNK, a + doff + SEALED_CHUNK,
	    SEALED_CHUNK);
	test_assert(read_tampered(t, alen, ida, msg, len, &failed) == 2);
	/* drop chunk 1 (the file is then shorter than the header says) */
	memcpy(t, a, doff + SEALED_CHUNK);
	memcpy(t + doff + SEALED_CHUNK, a + doff + 2 * SEALED_CHUNK,
	    SEALED_CHUNK);
	test_assert(read_tampered(t, alen - SEALED_CHUNK, ida, msg, len,
	    &failed) == -2);
	/* chunk 1 from blob b */
	memcpy(t, a, alen);
	memcpy(t + doff + SEALED_CHUNK, b + doff + SEALED_CHUNK, SEALED_CHUNK);
	test_assert(read_tampered(t, alen, ida, msg, len, &failed) == 1 &&
	    failed == 1);
	/* the sealed header from b, and the key and header from b */
	memcpy(t, a, alen);
	memcpy(t + FIXED_LEN, b + FIXED_LEN, doff - FIXED_LEN);
	test_assert(read_tampered(t, alen, ida, msg, len, &failed) == -2);
	memcpy(t + 24, b + 24, doff - 24);
	test_assert(read_tampered(t, alen, ida, msg, len, &failed) == -2);
	/* a's id on b's file: the header's ad catches it */
	memcpy(t, b, blen);
	memcpy(t + 8, ida, BLOB_ID_LEN);
	test_assert(read_tampered(t, blen, ida, msg, len, &failed) == -2);
	/* all of b's chunks under a's head: every chunk fails */
	memcpy(t, a, doff);
	memcpy(t + doff, b + doff, alen - doff);
	test_assert(read_tampered(t, alen, ida, msg, len, &failed) == 3);
	free(t);
	free(a);
	free(b);
	free(msg);
	test_end();
}

static void
test_blob_swap_files(void)
{
	struct blob_reader	*r;
	unsigned char		 ida[BLOB_ID_LEN], idb[BLOB_ID_LEN], *ma, *mb;
	char			 err[256];
	int			 fa, fb;

	test_begin("blob: another message's file, another account's key");
	set_meta();
	ma = rand_msg(5000);
	mb = rand_msg(5000);
	fa = make_blob(ma, 5000, pk, ida);
	fb = make_blob(mb, 5000, pk, idb);
	/* the index row says a, the file is b */
	r = blob_open(fb, pk, sk, ida, err, sizeof(err));
	test_assert(r == NULL && errno == EBADMSG);
	r = blob_open(fb, pk, sk, idb, err, sizeof(err));
	test_assert(r != NULL);
	blob_close(r);
	r = blob_open(fb, pk, sk, NULL, err, sizeof(err));
	test_assert(r != NULL && memcmp(blob_id(r), idb, BLOB_ID_LEN) == 0);
	blob_close(r);
	/* another account's key pair, and a mixed-up pair */
	r = blob_open(fa, pk2, sk2, ida, err, sizeof(err));
	test_assert(r == NULL && errno == EBADMSG);
	r = blob_open(fa, pk, sk2, ida, err, sizeof(err));
	test_assert(r == NULL && errno == EBADMSG);
	r = blob_open(fa, pk2, sk, ida, err, sizeof(err));
	test_assert(r == NULL && errno == EBADMSG);
	close(fa);
	close(fb);
	/* sealed to account 2: only account 2 opens it */
	fa = make_blob(ma, 5000, pk2, ida);
	test_assert(blob_open(fa, pk, sk, ida, err, sizeof(err)) == NULL);
	r = blob_open(fa, pk2, sk2, ida, err, sizeof(err));
	test_assert(r != NULL && read_all_equal(r, ma, 5000, 5000));
	blob_close(r);
	close(fa);
	free(ma);
	free(mb);
	test_end();
}

/* --- the structural check --------------------------------------------- */

/* blob_check_structure on p[0..len) written to a file. */
static int
check_bytes(const unsigned char *p, size_t len)
{
	char	err[256];
	int	fd, rv;

	fd = file_from(p, len);
	rv = blob_check_structure(fd, err, sizeof(err));
	close(fd);
	return rv;
}

static void
test_blob_check_structure(void)
{
	unsigned char	 id[BLOB_ID_LEN], *msg, *blob, *t, junk[SEALED_CHUNK];
	size_t		 sizes[] = { 0, 1, 65536, 65537 }, i, flen;
	char		 err[256];
	int		 fd, p[2], ok = 1;

	test_begin("blob_check_structure: good blobs and broken ones");
	set_meta();
	msg = rand_msg(65537);
	memset(junk, 0, sizeof(junk));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fd = make_blob(msg, sizes[i], pk, id);
		if (blob_check_structure(fd, err, sizeof(err)) != 0)
			ok = 0;
		close(fd);
	}
	test_assert(ok);

	/* a blob of exactly one full chunk: 124 + H + 65552 bytes */
	fd = make_blob(msg, 65536, pk, id);
	blob = slurp(fd, &flen);
	close(fd);
	if ((t = malloc(flen + SEALED_CHUNK)) == NULL)
		abort();
	memcpy(t, blob, flen);
	test_assert(check_bytes(t, flen) == 0);
	t[0] = 'X';					/* magic */
	test_assert(check_bytes(t, flen) == -1);
	t[0] = 'S';
	t[4] = 2;					/* version */
	test_assert(check_bytes(t, flen) == -1);
	t[4] = 1;
	t[6] = 1;					/* reserved */
	test_assert(check_bytes(t, flen) == -1);
	t[6] = 0;
	t[OFF_HDR_LEN + 1] = 0x10;			/* H = 4096+ */
	test_assert(check_bytes(t, flen) == -1);
	memset(t + OFF_HDR_LEN, 0, 4);			/* H = 0 */
	test_assert(check_bytes(t, flen) == -1);
	memcpy(t, blob, flen);
	/* chunk bytes no size explains: 1..15 over, or a lone empty tail */
	memcpy(t + flen, junk, sizeof(junk));
	test_assert(check_bytes(t, flen + 5) == -1);
	test_assert(check_bytes(t, flen + TAG) == -1);
	test_assert(check_bytes(t, flen + TAG + 1) == 0);
	test_assert(check_bytes(t, data_off(t) + TAG) == 0);	/* empty */
	test_assert(check_bytes(t, data_off(t) + TAG - 1) == -1);
	test_assert(check_bytes(t, data_off(t)) == -1);	/* no chunk */
	test_assert(check_bytes(t, FIXED_LEN + 10) == -1);
	test_assert(check_bytes(t, 10) == -1);
	test_assert(check_bytes(t, 0) == -1);
	/* not a regular file */
	test_assert(pipe(p) == 0);
	test_assert(blob_check_structure(p[0], err, sizeof(err)) == -1);
	close(p[0]);
	close(p[1]);
	free(t);
	free(blob);
	free(msg);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_blob_roundtrip, test_blob_meta_limits, test_blob_layout,
		test_blob_partial,
		test_blob_cache, test_blob_tamper_bytes,
		test_blob_truncate_append, test_blob_reorder_splice,
		test_blob_swap_files, test_blob_check_structure, NULL
	};

	if (sodium_init() == -1)
		abort();
	if ((sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL ||
	    (sk2 = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL)
		abort();
	crypto_box_keypair(pk, sk);
	crypto_box_keypair(pk2, sk2);
	return test_run(tests);
}
