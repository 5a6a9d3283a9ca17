/* SPDX-License-Identifier: ISC */
/*
 * fuzz_blob.c - libFuzzer target for the SPB1 blob reader (F13), what a
 * mail process runs on every file in its store.  The account key pair is
 * fixed (derived from FUZZ_KEY_SEED), so the corpus can hold valid blobs.
 *
 * First byte odd (a blob starts with 'S'): the input is a blob.  It is
 * opened and read to the end in steps taken from its last byte; any error
 * is fine, but a read never returns more than asked, a failed read leaves
 * its buffer zeroed, and a blob that opens passes blob_check_structure.
 *
 * First byte even: structure-aware.  The input is
 *	u8 op | u32 pos (little-endian) | u8 mask | message...
 * where op's bits 1-3 choose the mutation and bits 4-6 the read size.
 * A valid blob of the message is written (randomness made deterministic
 * per input), then mutated as kind says (flip a byte anywhere or in the
 * fixed part and header, truncate, insert, delete, swap two chunks,
 * splice in bytes of another blob of the same message, open with the
 * wrong id or key).  The oracle: whatever reads back is exactly the
 * message, and when the blob changed at least one read (or the open)
 * fails; when it did not, nothing fails.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "blob.h"
#include "log.h"
#include "banned.h"

#define FUZZ_KEY_SEED	"sealpost fuzz_blob account key!!"	/* 32 bytes */
#define FUZZ_FIXED_LEN	124		/* blob.c: magic .. header length */
#define FUZZ_OFF_HDR_LEN 120
#define FUZZ_TAG	16
#define FUZZ_SEALED_CHUNK (BLOB_CHUNK + FUZZ_TAG)
#define FUZZ_ARGS	6		/* kind, pos, mask */
#define FUZZ_MAX_READS	1024		/* preads per pass, at most */

enum fuzz_kind {
	K_FLIP, K_FLIP_HEAD, K_TRUNCATE, K_INSERT, K_DELETE, K_SWAP,
	K_SPLICE, K_WRONG_ID, K_COUNT
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned char	 pk[crypto_box_PUBLICKEYBYTES];
static unsigned char	*sk;
static unsigned char	 pk2[crypto_box_PUBLICKEYBYTES];
static unsigned char	*sk2;
static uint64_t		 rng_counter;
static int		 msg_fd = -1, out_fd = -1, chk_fd = -1;

/* Deterministic randombytes: the same input builds the same blob. */
static const char *
fuzz_rng_name(void)
{
	return "fuzz";
}

static void
fuzz_rng_buf(void *buf, size_t len)
{
	unsigned char	seed[randombytes_SEEDBYTES];

	memset(seed, 0, sizeof(seed));
	memcpy(seed, &rng_counter, sizeof(rng_counter));
	rng_counter++;
	randombytes_buf_deterministic(buf, len, seed);
}

static uint32_t
fuzz_rng_random(void)
{
	uint32_t	v;

	fuzz_rng_buf(&v, sizeof(v));
	return v;
}

static struct randombytes_implementation fuzz_rng = {
	fuzz_rng_name, fuzz_rng_random, NULL, NULL, fuzz_rng_buf, NULL
};

static int
fuzz_memfd(void)
{
	int	fd;

	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) == -1)
		abort();
	return fd;
}

static void
fuzz_init(void)
{
	unsigned char	seed[crypto_box_SEEDBYTES];

	if (sk != NULL)
		return;
	randombytes_set_implementation(&fuzz_rng);
	if (sodium_init() == -1)
		abort();
	if ((sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL ||
	    (sk2 = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL)
		abort();
	memcpy(seed, FUZZ_KEY_SEED, sizeof(seed));
	crypto_box_seed_keypair(pk, sk, seed);
	seed[0] ^= 1;
	crypto_box_seed_keypair(pk2, sk2, seed);
	msg_fd = fuzz_memfd();
	out_fd = fuzz_memfd();
	chk_fd = fuzz_memfd();
}

/* Replace the contents of the memfd fd with p[0..len). */
static void
fuzz_fill(int fd, const void *p, size_t len)
{
	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		abort();
	if (len > 0 && pwrite(fd, p, len, 0) != (ssize_t)len)
		abort();
}

/*
 * Read all of r in steps of step bytes (fewer reads for a big message).
 * With want, every read that succeeds must return exactly want's bytes.
 * Returns the number of failed reads.
 */
static size_t
fuzz_read_all(struct blob_reader *r, size_t step, const uint8_t *want)
{
	uint64_t	 size = blob_meta(r)->size, off;
	unsigned char	*buf;
	size_t		 fails = 0, cap;
	ssize_t		 n;

	if (step < size / FUZZ_MAX_READS)
		step = (size_t)(size / FUZZ_MAX_READS) + 1;
	/* a read never fills more than what is left: step may be huge */
	cap = step < size ? step : (size_t)size;
	if ((buf = malloc(cap + 1)) == NULL)
		abort();
	for (off = 0; off < size; off += step) {
		memset(buf, 0xaa, cap);
		n = blob_pread(r, buf, step, off);
		SP_ASSERT(n == -1 || (n > 0 && (size_t)n <= step &&
		    (uint64_t)n <= size - off));
		if (n == -1) {
			SP_ASSERT(errno == EBADMSG);
			/* nothing of a failed read is left in buf */
			n = (ssize_t)(size - off < cap ? size - off : cap);
			SP_ASSERT(buf[0] == 0 &&
			    memcmp(buf, buf + 1, (size_t)n - 1) == 0);
			fails++;
			continue;
		}
		if (want != NULL)
			SP_ASSERT(memcmp(buf, want + off, (size_t)n) == 0);
		SP_ASSERT(off + (uint64_t)n == size || (size_t)n == step);
	}
	SP_ASSERT(blob_pread(r, buf, step, size) == 0);
	free(buf);
	return fails;
}

/* The input is a blob. */
static void
fuzz_raw(const uint8_t *data, size_t size)
{
	struct blob_reader	*r;
	char			 err[256];
	size_t			 step;

	r = blob_open_mem(data, size, pk, sk, NULL, err, sizeof(err));
	if (r == NULL) {
		SP_ASSERT(err[0] != '\0');
		return;
	}
	/* what opens with the key is structurally sound without it */
	fuzz_fill(chk_fd, data, size);
	SP_ASSERT(blob_check_structure(chk_fd, err, sizeof(err)) == 0);
	SP_ASSERT(blob_meta(r)->size <= BLOB_MAX_SIZE);
	step = 1 + (size_t)data[size - 1] * 1031;
	fuzz_read_all(r, step, NULL);
	blob_close(r);
}

/* Write a blob of msg[0..len) with meta m: malloc'd bytes, length in *n. */
static unsigned char *
fuzz_make(const uint8_t *msg, size_t len, const struct blob_meta *m,
    const unsigned char *key, unsigned char id[BLOB_ID_LEN], size_t *n)
{
	unsigned char	*p;
	char		 err[256];
	off_t		 end;

	fuzz_fill(msg_fd, msg, len);
	fuzz_fill(out_fd, NULL, 0);
	SP_ASSERT(blob_write(out_fd, key, msg_fd, len, m, id, err,
	    sizeof(err)) == 0);
	if ((end = lseek(out_fd, 0, SEEK_END)) <= 0)
		abort();
	*n = (size_t)end;
	if ((p = malloc(*n + 1)) == NULL)
		abort();
	if (pread(out_fd, p, *n, 0) != (ssize_t)*n)
		abort();
	return p;
}

static uint32_t
fuzz_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Build a valid blob from the input's message, mutate it, read it. */
static void
fuzz_structured(const uint8_t *data, size_t size)
{
	static const size_t	 steps[] = {
		1, 7, 4096, BLOB_CHUNK - 1, BLOB_CHUNK, BLOB_CHUNK + 1,
		3 * BLOB_CHUNK, SIZE_MAX / 2
	};
	struct blob_meta	 m;
	struct blob_reader	*r;
	const unsigned char	*rpk = pk, *rsk = sk, *want_id;
	unsigned char		 id[BLOB_ID_LEN], id2[BLOB_ID_LEN];
	unsigned char		*blob, *b2 = NULL, *t;
	const uint8_t		*msg;
	size_t			 blen, b2len, tlen, len, doff, nchunks, i, j;
	size_t			 step, io, jo, jlen;
	uint32_t		 pos;
	uint8_t			 mask;
	char			 err[256];
	int			 kind, changed = 1, fails;

	if (size < FUZZ_ARGS)
		return;
	kind = (data[0] >> 1) % K_COUNT;
	pos = fuzz_get32(data + 1);
	mask = data[5] != 0 ? data[5] : 1;
	msg = data + FUZZ_ARGS;
	len = size - FUZZ_ARGS;
	step = steps[(data[0] >> 4) % (sizeof(steps) / sizeof(steps[0]))];

	memset(&m, 0, sizeof(m));
	m.delivered = pos;
	memset(m.folder, 'f', mask % 8);
	memset(m.sender, 's', (pos >> 24) % (BLOB_ADDR_MAX + 1));
	memcpy(m.rcpt, "rcpt@local.example", 18);

	rng_counter = 0;
	blob = fuzz_make(msg, len, &m, pk, id, &blen);
	doff = FUZZ_FIXED_LEN + fuzz_get32(blob + FUZZ_OFF_HDR_LEN);
	nchunks = (blen - doff) / FUZZ_SEALED_CHUNK +
	    ((blen - doff) % FUZZ_SEALED_CHUNK != 0);
	SP_ASSERT(nchunks >= 1);
	want_id = id;
	if ((t = malloc(blen + 1)) == NULL)
		abort();
	memcpy(t, blob, blen);
	tlen = blen;

	switch (kind) {
	case K_FLIP:
		t[pos % blen] ^= mask;
		break;
	case K_FLIP_HEAD:
		t[pos % doff] ^= mask;
		break;
	case K_TRUNCATE:
		tlen = pos % blen;
		break;
	case K_INSERT:
		i = pos % (blen + 1);
		memcpy(t + i + 1, blob + i, blen - i);
		t[i] = mask;
		tlen = blen + 1;
		break;
	case K_DELETE:
		i = pos % blen;
		memmove(t + i, t + i + 1, blen - i - 1);
		tlen = blen - 1;
		break;
	case K_SWAP:
		i = pos % nchunks;
		j = (pos >> 8) % nchunks;
		if (i > j) {
			size_t	k = i;

			i = j;
			j = k;
		}
		if (i == j) {
			changed = 0;
			break;
		}
		/* chunks i < j change places; only j can be the short last */
		io = doff + i * FUZZ_SEALED_CHUNK;
		jo = doff + j * FUZZ_SEALED_CHUNK;
		jlen = j == nchunks - 1 ? blen - jo : FUZZ_SEALED_CHUNK;
		memcpy(t + io, blob + jo, jlen);
		memcpy(t + io + jlen, blob + io + FUZZ_SEALED_CHUNK,
		    jo - io - FUZZ_SEALED_CHUNK);
		memcpy(t + jo + jlen - FUZZ_SEALED_CHUNK, blob + io,
		    FUZZ_SEALED_CHUNK);
		break;
	case K_SPLICE:
		/* the same message and meta: the same length, other keys */
		b2 = fuzz_make(msg, len, &m, pk, id2, &b2len);
		SP_ASSERT(b2len == blen);
		i = pos % blen;
		j = (size_t)mask * 331 + 1;
		if (j > blen - i)
			j = blen - i;
		memcpy(t + i, b2 + i, j);
		changed = memcmp(t, blob, blen) != 0;
		break;
	case K_WRONG_ID:
		if (mask & 1) {
			memcpy(id2, id, sizeof(id2));
			id2[pos % BLOB_ID_LEN] ^= mask;
			want_id = id2;
		} else {
			rpk = pk2;
			rsk = (mask & 2) ? sk2 : sk;
		}
		break;
	default:
		abort();
	}

	r = blob_open_mem(t, tlen, rpk, rsk, want_id, err, sizeof(err));
	if (r == NULL) {
		SP_ASSERT(changed && errno == EBADMSG);
		goto done;
	}
	/* SECURITY: what opens is what was written */
	SP_ASSERT(memcmp(blob_id(r), id, BLOB_ID_LEN) == 0);
	SP_ASSERT(blob_meta(r)->size == len &&
	    blob_meta(r)->delivered == m.delivered &&
	    strcmp(blob_meta(r)->folder, m.folder) == 0 &&
	    strcmp(blob_meta(r)->sender, m.sender) == 0 &&
	    strcmp(blob_meta(r)->rcpt, m.rcpt) == 0);
	fails = (int)fuzz_read_all(r, step, msg);
	/* a change goes unnoticed nowhere; no change fails nothing */
	SP_ASSERT(changed ? fails > 0 : fails == 0);
	blob_close(r);
done:
	free(t);
	free(b2);
	free(blob);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_raw(data, size);
	else
		fuzz_structured(data, size);
	return 0;
}
