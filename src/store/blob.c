/* SPDX-License-Identifier: ISC */
/*
 * blob.c - the SPB1 message blob: write (seal to a public key), read
 * (open with the key pair, chunk by chunk), check without a key.
 *
 * Process:  deliver (blob_write: holds only the account's public key);
 *           the account's mail process (blob_open, blob_pread); sealpostctl
 *           store check (blob_check_structure).
 * Trust:    the file is hostile to the reader: nothing of it is used before
 *           it is bounded, and no plaintext leaves a chunk before its tag
 *           has been verified.  The message is opaque to the writer.
 * Limits:   BLOB_MAX_SIZE message bytes, BLOB_HDR_MAX sealed header bytes,
 *           BLOB_FOLDER_MAX and BLOB_ADDR_MAX per header string, one
 *           BLOB_CHUNK of plaintext in memory at a time (sodium_malloc).
 * See also: DESIGN.md "At-rest formats", tests/unit/test_blob.c,
 *           tests/fuzz/fuzz_blob.c (F13).
 *
 * Layout (every integer little-endian; offsets in bytes):
 *
 *	  0   4  magic "SPB1"
 *	  4   1  version, 1
 *	  5   3  reserved, zero
 *	  8  16  blob id (random; the index row keeps it too)
 *	 24  16  file nonce (random)
 *	 40  80  crypto_box_seal(file key (32 random bytes), account pk)
 *	120   4  u32 H: length of the sealed header, its tag included
 *	124   H  sealed header: XChaCha20-Poly1305-IETF under the file key,
 *		 nonce = file nonce || u64 0xffffffffffffffff,
 *		 ad = bytes 0..23 (magic, version, reserved, id) || "header"
 *	124+H    chunks 0..n-1: chunk i is message bytes [i*65536, ...) (65536
 *		 of them, the last one 1..65536, or 0 for an empty message)
 *		 sealed with the file key and a 16-byte tag,
 *		 nonce = file nonce || u64 i,
 *		 ad = blob id || u64 i || u8 last (1 for chunk n-1, else 0)
 *
 * The header record (H - 16 bytes of plaintext), field by field:
 *	u64 message size S (<= 2^40), u64 delivery time (unix seconds),
 *	u32 chunk size (65536: the only one of version 1),
 *	u16 + folder (<= 255 bytes), u16 + envelope sender (<= 320),
 *	u16 + recipient (<= 320); no NUL in a string, nothing after rcpt.
 * n = 1 when S = 0, else ceil(S / 65536); the file is exactly
 * 124 + H + S + 16 * n bytes.
 *
 * Why this resists tampering: every byte is under a tag (the id and the
 * fixed bytes as the header's ad, the nonce through every nonce, the
 * sealed key through crypto_box_seal's own tag, H through where the header
 * ends), a chunk's index and last flag are in its ad and nonce (no
 * reordering, no dropping the tail), the file length is fixed by the
 * authenticated size (no truncation at a chunk boundary, no appending),
 * the one chunk of an empty message is opened with the header (no read
 * would ever open it),
 * the file key is per blob (no splicing between blobs) and the reader is
 * told which id to expect (no swapping whole files within an account).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "blob.h"
#include "banned.h"

#define BLOB_MAGIC		"SPB1"
#define BLOB_MAGIC_LEN		4
#define BLOB_VERSION		1
#define BLOB_OFF_VERSION	4
#define BLOB_OFF_RESERVED	5
#define BLOB_RESERVED_LEN	3
#define BLOB_OFF_ID		8
#define BLOB_PREFIX_LEN		24	/* magic .. id: the header's ad */
#define BLOB_OFF_NONCE		24
#define BLOB_NONCE_PREFIX	16	/* the random part of every nonce */
#define BLOB_OFF_SEALED_KEY	40
#define BLOB_KEY_LEN		crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define BLOB_SEALED_KEY_LEN	(BLOB_KEY_LEN + crypto_box_SEALBYTES)
#define BLOB_OFF_HDR_LEN	(BLOB_OFF_SEALED_KEY + BLOB_SEALED_KEY_LEN)
#define BLOB_FIXED_LEN		(BLOB_OFF_HDR_LEN + 4)	/* 124 */
#define BLOB_TAG		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define BLOB_NONCE_LEN		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define BLOB_HDR_COUNTER	UINT64_MAX	/* no chunk index gets there */
#define BLOB_HDR_AD_TAG		"header"
#define BLOB_HDR_AD_LEN		(BLOB_PREFIX_LEN + sizeof(BLOB_HDR_AD_TAG) - 1)
#define BLOB_CHUNK_AD_LEN	(BLOB_ID_LEN + 8 + 1)
/* size, delivered, chunk size, three u16 string lengths */
#define BLOB_HDR_PLAIN_MIN	(8 + 8 + 4 + 2 + 2 + 2)
#define BLOB_HDR_PLAIN_MAX	(BLOB_HDR_PLAIN_MIN + BLOB_FOLDER_MAX + \
				 2 * BLOB_ADDR_MAX)
#define BLOB_HDR_MAX		4096	/* sealed header bytes, tag included */
#define BLOB_HDR_MIN		(BLOB_HDR_PLAIN_MIN + BLOB_TAG)
#define BLOB_SEALED_CHUNK	(BLOB_CHUNK + BLOB_TAG)

struct blob_reader {
	int			 fd;		/* -1 when over mem */
	const unsigned char	*mem;		/* the caller's, not owned */
	uint64_t		 flen;		/* = what the header implies */
	uint64_t		 nchunks;
	uint64_t		 data_off;	/* where chunk 0 starts */
	unsigned char		 id[BLOB_ID_LEN];
	unsigned char		 nonce[BLOB_NONCE_PREFIX];
	unsigned char		*key;		/* sodium_malloc: file key */
	unsigned char		*cache;		/* sodium_malloc: one chunk */
	unsigned char		*ct;		/* fd reader: a sealed chunk */
	uint64_t		 cache_idx;
	size_t			 cache_len;
	int			 cache_ok;
	struct blob_meta	 meta;
};

/* Format a message into err, set errno to eno, return -1. */
static int __attribute__((format(printf, 4, 5)))
blob_err(char *err, size_t errlen, int eno, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = eno;
	return -1;
}

static void
blob_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
blob_put32(unsigned char *p, uint32_t v)
{
	int	i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
blob_put64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t
blob_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
blob_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
blob_get64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Chunks of a message of size bytes (size <= BLOB_MAX_SIZE). */
static uint64_t
blob_nchunks(uint64_t size)
{
	return size == 0 ? 1 : (size - 1) / BLOB_CHUNK + 1;
}

/* Plaintext bytes of chunk idx (< blob_nchunks(size)). */
static size_t
blob_chunk_len(uint64_t size, uint64_t idx)
{
	if (idx < blob_nchunks(size) - 1)
		return BLOB_CHUNK;
	return (size_t)(size - idx * BLOB_CHUNK);
}

static void
blob_nonce(unsigned char nonce[BLOB_NONCE_LEN],
    const unsigned char prefix[BLOB_NONCE_PREFIX], uint64_t counter)
{
	memcpy(nonce, prefix, BLOB_NONCE_PREFIX);
	blob_put64(nonce + BLOB_NONCE_PREFIX, counter);
}

static void
blob_chunk_ad(unsigned char ad[BLOB_CHUNK_AD_LEN],
    const unsigned char id[BLOB_ID_LEN], uint64_t idx, int last)
{
	memcpy(ad, id, BLOB_ID_LEN);
	blob_put64(ad + BLOB_ID_LEN, idx);
	ad[BLOB_ID_LEN + 8] = last ? 1 : 0;
}

/*
 * pread until n bytes or the end of the file: the bytes read, or -1.
 * off + n stays far below INT64_MAX for every caller (sizes are bounded
 * by BLOB_MAX_SIZE or a file's st_size), checked anyway.
 */
static ssize_t
blob_read_at(int fd, void *dst, size_t n, uint64_t off)
{
	unsigned char	*p = dst;
	size_t		 done = 0;
	ssize_t		 r;

	if (n > SSIZE_MAX || off > (uint64_t)INT64_MAX - n) {
		errno = EOVERFLOW;
		return -1;
	}
	while (done < n) {
		r = pread(fd, p + done, n - done, (off_t)(off + done));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static int
blob_write_all(int fd, const void *src, size_t n)
{
	const unsigned char	*p = src;
	ssize_t			 r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Append u16 length + bytes of s (len bytes) at *off; the caller sized p. */
static void
blob_hdr_put_str(unsigned char *p, size_t *off, const char *s, size_t len)
{
	blob_put16(p + *off, (uint16_t)len);
	memcpy(p + *off + 2, s, len);
	*off += 2 + len;
}

/*
 * Read u16 length + bytes at *off of the len-byte record p into dst
 * (max bytes + NUL): -1 when short, too long or holding a NUL.
 */
static int
blob_hdr_get_str(const unsigned char *p, size_t len, size_t *off, char *dst,
    size_t max)
{
	size_t	n;

	if (len - *off < 2)
		return -1;
	n = blob_get16(p + *off);
	*off += 2;
	if (n > max || n > len - *off || memchr(p + *off, '\0', n) != NULL)
		return -1;
	memcpy(dst, p + *off, n);
	dst[n] = '\0';
	*off += n;
	return 0;
}

/* Decode the header record: 0, or -1 with *errstr_r. */
static int
blob_hdr_decode(const unsigned char *p, size_t len, struct blob_meta *m,
    const char **errstr_r)
{
	size_t	off = 0;

	memset(m, 0, sizeof(*m));
	if (len < BLOB_HDR_PLAIN_MIN) {
		*errstr_r = "too short";
		return -1;
	}
	m->size = blob_get64(p);
	m->delivered = blob_get64(p + 8);
	if (blob_get32(p + 16) != BLOB_CHUNK) {
		*errstr_r = "chunk size is not 65536";
		return -1;
	}
	if (m->size > BLOB_MAX_SIZE) {
		*errstr_r = "message size over 2^40";
		return -1;
	}
	off = 20;
	if (blob_hdr_get_str(p, len, &off, m->folder, BLOB_FOLDER_MAX) == -1) {
		*errstr_r = "bad folder";
		return -1;
	}
	if (blob_hdr_get_str(p, len, &off, m->sender, BLOB_ADDR_MAX) == -1) {
		*errstr_r = "bad sender";
		return -1;
	}
	if (blob_hdr_get_str(p, len, &off, m->rcpt, BLOB_ADDR_MAX) == -1) {
		*errstr_r = "bad recipient";
		return -1;
	}
	if (off != len) {
		*errstr_r = "trailing bytes";
		return -1;
	}
	return 0;
}

/*
 * Check the fixed part against the file length flen: 0 with the sealed
 * header's length in *hlen_r, or -1 with *errstr_r.
 */
static int
blob_check_fixed(const unsigned char fixed[BLOB_FIXED_LEN], uint64_t flen,
    uint32_t *hlen_r, const char **errstr_r)
{
	static const unsigned char	zero[BLOB_RESERVED_LEN];
	uint32_t			hlen;

	if (memcmp(fixed, BLOB_MAGIC, BLOB_MAGIC_LEN) != 0) {
		*errstr_r = "not a blob (bad magic)";
		return -1;
	}
	if (fixed[BLOB_OFF_VERSION] != BLOB_VERSION) {
		*errstr_r = "unknown blob version";
		return -1;
	}
	if (memcmp(fixed + BLOB_OFF_RESERVED, zero, sizeof(zero)) != 0) {
		*errstr_r = "reserved bytes are not zero";
		return -1;
	}
	hlen = blob_get32(fixed + BLOB_OFF_HDR_LEN);
	if (hlen < BLOB_HDR_MIN || hlen > BLOB_HDR_MAX) {
		*errstr_r = "bad sealed header length";
		return -1;
	}
	/* SECURITY: the caller read BLOB_FIXED_LEN bytes, so flen >= it */
	if (flen - BLOB_FIXED_LEN < hlen) {
		*errstr_r = "file ends inside the sealed header";
		return -1;
	}
	*hlen_r = hlen;
	return 0;
}

int
blob_write(int out_fd, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
    int msg_fd, uint64_t msg_len, const struct blob_meta *meta,
    unsigned char id_r[BLOB_ID_LEN], char *err, size_t errlen)
{
	unsigned char	 head[BLOB_FIXED_LEN + BLOB_HDR_MAX];
	unsigned char	 hdr[BLOB_HDR_PLAIN_MAX];
	unsigned char	 id[BLOB_ID_LEN], nonce[BLOB_NONCE_LEN];
	unsigned char	 ad[BLOB_HDR_AD_LEN > BLOB_CHUNK_AD_LEN ?
			    BLOB_HDR_AD_LEN : BLOB_CHUNK_AD_LEN];
	unsigned char	*key = NULL, *pt = NULL, *ct = NULL;
	unsigned long long clen;
	uint64_t	 i, n;
	size_t		 folen, selen, rclen, hoff, plen;
	ssize_t		 got;
	int		 rv = -1, saved;

	if (sodium_init() == -1)
		return blob_err(err, errlen, EIO, "sodium_init failed");
	if (msg_len > BLOB_MAX_SIZE)
		return blob_err(err, errlen, EFBIG, "message too large: %llu "
		    "bytes", (unsigned long long)msg_len);
	folen = strnlen(meta->folder, sizeof(meta->folder));
	selen = strnlen(meta->sender, sizeof(meta->sender));
	rclen = strnlen(meta->rcpt, sizeof(meta->rcpt));
	if (folen >= sizeof(meta->folder) || selen >= sizeof(meta->sender) ||
	    rclen >= sizeof(meta->rcpt))
		return blob_err(err, errlen, EINVAL,
		    "folder, sender or recipient not terminated");

	/* SECURITY: the file key and the plaintext chunk: locked, wiped */
	if ((key = sodium_malloc(BLOB_KEY_LEN)) == NULL ||
	    (pt = sodium_malloc(BLOB_CHUNK)) == NULL) {
		blob_err(err, errlen, ENOMEM, "sodium_malloc failed");
		goto done;
	}
	ct = xmalloc(BLOB_SEALED_CHUNK);
	randombytes_buf(key, BLOB_KEY_LEN);
	randombytes_buf(id, sizeof(id));

	memcpy(head, BLOB_MAGIC, BLOB_MAGIC_LEN);
	head[BLOB_OFF_VERSION] = BLOB_VERSION;
	memset(head + BLOB_OFF_RESERVED, 0, BLOB_RESERVED_LEN);
	memcpy(head + BLOB_OFF_ID, id, BLOB_ID_LEN);
	randombytes_buf(head + BLOB_OFF_NONCE, BLOB_NONCE_PREFIX);
	if (crypto_box_seal(head + BLOB_OFF_SEALED_KEY, key, BLOB_KEY_LEN,
	    pk) != 0) {
		blob_err(err, errlen, EINVAL, "cannot seal the file key "
		    "(bad public key)");
		goto done;
	}

	blob_put64(hdr, msg_len);
	blob_put64(hdr + 8, meta->delivered);
	blob_put32(hdr + 16, BLOB_CHUNK);
	hoff = 20;
	blob_hdr_put_str(hdr, &hoff, meta->folder, folen);
	blob_hdr_put_str(hdr, &hoff, meta->sender, selen);
	blob_hdr_put_str(hdr, &hoff, meta->rcpt, rclen);
	SP_ASSERT(hoff <= sizeof(hdr) && hoff + BLOB_TAG <= BLOB_HDR_MAX);
	blob_put32(head + BLOB_OFF_HDR_LEN, (uint32_t)(hoff + BLOB_TAG));

	memcpy(ad, head, BLOB_PREFIX_LEN);
	memcpy(ad + BLOB_PREFIX_LEN, BLOB_HDR_AD_TAG,
	    BLOB_HDR_AD_LEN - BLOB_PREFIX_LEN);
	blob_nonce(nonce, head + BLOB_OFF_NONCE, BLOB_HDR_COUNTER);
	crypto_aead_xchacha20poly1305_ietf_encrypt(head + BLOB_FIXED_LEN,
	    &clen, hdr, hoff, ad, BLOB_HDR_AD_LEN, NULL, nonce, key);
	SP_ASSERT(clen == hoff + BLOB_TAG);
	if (blob_write_all(out_fd, head, BLOB_FIXED_LEN + (size_t)clen) == -1) {
		blob_err(err, errlen, errno, "write: %s", strerror(errno));
		goto done;
	}

	n = blob_nchunks(msg_len);
	for (i = 0; i < n; i++) {
		plen = blob_chunk_len(msg_len, i);
		got = blob_read_at(msg_fd, pt, plen, i * BLOB_CHUNK);
		if (got == -1) {
			blob_err(err, errlen, errno, "reading the message: %s",
			    strerror(errno));
			goto done;
		}
		if ((size_t)got != plen) {
			blob_err(err, errlen, EIO, "the message is shorter "
			    "than %llu bytes", (unsigned long long)msg_len);
			goto done;
		}
		blob_chunk_ad(ad, id, i, i == n - 1);
		blob_nonce(nonce, head + BLOB_OFF_NONCE, i);
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, pt, plen,
		    ad, BLOB_CHUNK_AD_LEN, NULL, nonce, key);
		if (blob_write_all(out_fd, ct, (size_t)clen) == -1) {
			blob_err(err, errlen, errno, "write: %s",
			    strerror(errno));
			goto done;
		}
	}
	memcpy(id_r, id, BLOB_ID_LEN);
	rv = 0;
done:
	saved = errno;
	sodium_memzero(hdr, sizeof(hdr));
	sodium_free(key);		/* sodium_free wipes */
	sodium_free(pt);
	free(ct);			/* ciphertext only */
	errno = saved;
	return rv;
}

/* Copy n bytes at off of the blob: 0, or -1 (errno; EBADMSG when short). */
static int
blob_src_read(struct blob_reader *r, void *dst, size_t n, uint64_t off)
{
	ssize_t	got;

	if (off > r->flen || n > r->flen - off) {
		errno = EBADMSG;
		return -1;
	}
	if (r->fd == -1) {
		memcpy(dst, r->mem + off, n);
		return 0;
	}
	if ((got = blob_read_at(r->fd, dst, n, off)) == -1)
		return -1;
	if ((size_t)got != n) {
		errno = EBADMSG;	/* the file shrank under us */
		return -1;
	}
	return 0;
}

static void
blob_reader_free(struct blob_reader *r)
{
	if (r == NULL)
		return;
	sodium_free(r->key);
	sodium_free(r->cache);
	free(r->ct);
	sodium_memzero(r, sizeof(*r));	/* the envelope in meta */
	free(r);
}

static int	blob_chunk_load(struct blob_reader *, uint64_t);

/* The fixed part and the header of r (fd or mem and flen set). */
static struct blob_reader *
blob_open_common(struct blob_reader *r,
    const unsigned char pk[crypto_box_PUBLICKEYBYTES],
    const unsigned char sk[crypto_box_SECRETKEYBYTES],
    const unsigned char *expect_id, char *err, size_t errlen)
{
	unsigned char	 fixed[BLOB_FIXED_LEN], sealed[BLOB_HDR_MAX];
	unsigned char	 hdr[BLOB_HDR_MAX], nonce[BLOB_NONCE_LEN];
	unsigned char	 ad[BLOB_HDR_AD_LEN];
	const char	*errstr;
	uint64_t	 want;
	uint32_t	 hlen;
	int		 ok = 0;

	if (sodium_init() == -1) {
		blob_err(err, errlen, EIO, "sodium_init failed");
		goto done;
	}
	if (r->flen < BLOB_FIXED_LEN) {
		blob_err(err, errlen, EBADMSG, "file too short for a blob");
		goto done;
	}
	if (blob_src_read(r, fixed, sizeof(fixed), 0) == -1) {
		blob_err(err, errlen, errno, "read: %s", strerror(errno));
		goto done;
	}
	if (blob_check_fixed(fixed, r->flen, &hlen, &errstr) == -1) {
		blob_err(err, errlen, EBADMSG, "%s", errstr);
		goto done;
	}
	memcpy(r->id, fixed + BLOB_OFF_ID, BLOB_ID_LEN);
	memcpy(r->nonce, fixed + BLOB_OFF_NONCE, BLOB_NONCE_PREFIX);
	/* SECURITY: another message's file of the same account opens fine */
	if (expect_id != NULL &&
	    sodium_memcmp(r->id, expect_id, BLOB_ID_LEN) != 0) {
		blob_err(err, errlen, EBADMSG, "not the expected blob id");
		goto done;
	}
	if (blob_src_read(r, sealed, hlen, BLOB_FIXED_LEN) == -1) {
		blob_err(err, errlen, errno, "read: %s", strerror(errno));
		goto done;
	}

	if ((r->key = sodium_malloc(BLOB_KEY_LEN)) == NULL ||
	    (r->cache = sodium_malloc(BLOB_CHUNK)) == NULL) {
		blob_err(err, errlen, ENOMEM, "sodium_malloc failed");
		goto done;
	}
	if (crypto_box_seal_open(r->key, fixed + BLOB_OFF_SEALED_KEY,
	    BLOB_SEALED_KEY_LEN, pk, sk) != 0) {
		blob_err(err, errlen, EBADMSG, "cannot open the file key "
		    "(damaged, or another account's blob)");
		goto done;
	}
	memcpy(ad, fixed, BLOB_PREFIX_LEN);
	memcpy(ad + BLOB_PREFIX_LEN, BLOB_HDR_AD_TAG,
	    BLOB_HDR_AD_LEN - BLOB_PREFIX_LEN);
	blob_nonce(nonce, r->nonce, BLOB_HDR_COUNTER);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(hdr, NULL, NULL,
	    sealed, hlen, ad, BLOB_HDR_AD_LEN, nonce, r->key) != 0) {
		blob_err(err, errlen, EBADMSG, "sealed header does not "
		    "authenticate");
		goto done;
	}
	/*
	 * SECURITY: authenticated, so only our writer (or someone holding
	 * the public key) made it; still decoded as hostile input.
	 */
	if (blob_hdr_decode(hdr, hlen - BLOB_TAG, &r->meta, &errstr) == -1) {
		blob_err(err, errlen, EBADMSG, "malformed header: %s", errstr);
		goto done;
	}
	r->nchunks = blob_nchunks(r->meta.size);
	r->data_off = BLOB_FIXED_LEN + hlen;
	/* cannot wrap: size <= 2^40, nchunks <= 2^24 */
	want = r->data_off + r->meta.size + r->nchunks * BLOB_TAG;
	/* SECURITY: truncated (even at a chunk boundary) or appended to */
	if (r->flen != want) {
		blob_err(err, errlen, EBADMSG, "file is %llu bytes, its header "
		    "says %llu", (unsigned long long)r->flen,
		    (unsigned long long)want);
		goto done;
	}
	if (r->fd != -1)
		r->ct = xmalloc(BLOB_SEALED_CHUNK);
	/*
	 * SECURITY: no read of an empty message would ever open its one
	 * (empty) chunk; open it here, so that a change to it is caught too.
	 */
	if (r->meta.size == 0 && blob_chunk_load(r, 0) == -1) {
		blob_err(err, errlen, errno, "empty chunk does not "
		    "authenticate");
		goto done;
	}
	ok = 1;
done:
	sodium_memzero(hdr, sizeof(hdr));
	if (!ok) {
		int	saved = errno;

		blob_reader_free(r);
		errno = saved;
		return NULL;
	}
	return r;
}

struct blob_reader *
blob_open(int fd, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
    const unsigned char sk[crypto_box_SECRETKEYBYTES],
    const unsigned char *expect_id, char *err, size_t errlen)
{
	struct blob_reader	*r;
	struct stat		 st;

	if (fstat(fd, &st) == -1) {
		blob_err(err, errlen, errno, "fstat: %s", strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0) {
		blob_err(err, errlen, EBADMSG, "not a regular file");
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->flen = (uint64_t)st.st_size;
	return blob_open_common(r, pk, sk, expect_id, err, errlen);
}

struct blob_reader *
blob_open_mem(const unsigned char *buf, size_t len,
    const unsigned char pk[crypto_box_PUBLICKEYBYTES],
    const unsigned char sk[crypto_box_SECRETKEYBYTES],
    const unsigned char *expect_id, char *err, size_t errlen)
{
	struct blob_reader	*r;

	r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	r->mem = buf;
	r->flen = len;
	return blob_open_common(r, pk, sk, expect_id, err, errlen);
}

const struct blob_meta *
blob_meta(const struct blob_reader *r)
{
	return &r->meta;
}

const unsigned char *
blob_id(const struct blob_reader *r)
{
	return r->id;
}

/* Open chunk idx into the cache unless it is there: 0, or -1 (errno). */
static int
blob_chunk_load(struct blob_reader *r, uint64_t idx)
{
	unsigned char		 ad[BLOB_CHUNK_AD_LEN], nonce[BLOB_NONCE_LEN];
	const unsigned char	*ct;
	uint64_t		 off;
	size_t			 plen;

	if (r->cache_ok && r->cache_idx == idx)
		return 0;
	r->cache_ok = 0;
	SP_ASSERT(idx < r->nchunks);
	plen = blob_chunk_len(r->meta.size, idx);
	off = r->data_off + idx * BLOB_SEALED_CHUNK;
	if (r->fd == -1) {
		/* in bounds: flen was checked against the header at open */
		SP_ASSERT(off <= r->flen && plen + BLOB_TAG <= r->flen - off);
		ct = r->mem + off;
	} else {
		if (blob_src_read(r, r->ct, plen + BLOB_TAG, off) == -1)
			return -1;
		ct = r->ct;
	}
	blob_chunk_ad(ad, r->id, idx, idx == r->nchunks - 1);
	blob_nonce(nonce, r->nonce, idx);
	/* SECURITY: nothing reaches the cache unless the tag verifies */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(r->cache, NULL, NULL,
	    ct, plen + BLOB_TAG, ad, sizeof(ad), nonce, r->key) != 0) {
		sodium_memzero(r->cache, BLOB_CHUNK);
		errno = EBADMSG;
		return -1;
	}
	r->cache_idx = idx;
	r->cache_len = plen;
	r->cache_ok = 1;
	return 0;
}

ssize_t
blob_pread(struct blob_reader *r, void *buf, size_t len, uint64_t off)
{
	unsigned char	*dst = buf;
	uint64_t	 pos;
	size_t		 done = 0, in, n;

	if (len == 0 || off >= r->meta.size)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (len > r->meta.size - off)
		len = (size_t)(r->meta.size - off);
	while (done < len) {
		pos = off + done;
		if (blob_chunk_load(r, pos / BLOB_CHUNK) == -1) {
			int	saved = errno;

			/* SECURITY: no partial result on a failure */
			sodium_memzero(buf, len);
			errno = saved;
			return -1;
		}
		in = (size_t)(pos % BLOB_CHUNK);
		SP_ASSERT(in < r->cache_len);
		n = r->cache_len - in;
		if (n > len - done)
			n = len - done;
		memcpy(dst + done, r->cache + in, n);
		done += n;
	}
	return (ssize_t)done;
}

void
blob_close(struct blob_reader *r)
{
	blob_reader_free(r);
}

/*
 * Message size of chunk bytes of sealed chunks (the file after the
 * header): 0 with *size_r, or -1 when no size gives that many.  Full
 * chunks take BLOB_SEALED_CHUNK bytes each; a partial last one 17..65551;
 * an empty last one (16) only when it is the only one.
 */
static int
blob_size_from_chunks(uint64_t bytes, uint64_t *size_r)
{
	uint64_t	full = bytes / BLOB_SEALED_CHUNK;
	uint64_t	rest = bytes % BLOB_SEALED_CHUNK;

	if (rest == 0 && full > 0)
		*size_r = full * BLOB_CHUNK;
	else if (rest > BLOB_TAG || (rest == BLOB_TAG && full == 0))
		*size_r = full * BLOB_CHUNK + rest - BLOB_TAG;
	else
		return -1;
	return 0;
}

int
blob_check_structure(int fd, char *err, size_t errlen)
{
	unsigned char	 fixed[BLOB_FIXED_LEN];
	struct stat	 st;
	const char	*errstr;
	uint64_t	 flen, size;
	uint32_t	 hlen;
	ssize_t		 got;

	if (fstat(fd, &st) == -1)
		return blob_err(err, errlen, errno, "fstat: %s",
		    strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size < 0)
		return blob_err(err, errlen, EBADMSG, "not a regular file");
	flen = (uint64_t)st.st_size;
	if (flen < BLOB_FIXED_LEN)
		return blob_err(err, errlen, EBADMSG,
		    "file too short for a blob");
	if ((got = blob_read_at(fd, fixed, sizeof(fixed), 0)) == -1)
		return blob_err(err, errlen, errno, "read: %s",
		    strerror(errno));
	if ((size_t)got != sizeof(fixed))
		return blob_err(err, errlen, EBADMSG,
		    "file too short for a blob");
	if (blob_check_fixed(fixed, flen, &hlen, &errstr) == -1)
		return blob_err(err, errlen, EBADMSG, "%s", errstr);
	if (blob_size_from_chunks(flen - BLOB_FIXED_LEN - hlen, &size) == -1)
		return blob_err(err, errlen, EBADMSG, "file length %llu fits "
		    "no message size", (unsigned long long)flen);
	if (size > BLOB_MAX_SIZE)
		return blob_err(err, errlen, EBADMSG, "message over 2^40 "
		    "bytes");
	return 0;
}
