/* SPDX-License-Identifier: ISC */
/*
 * meta_seal.c - seal a message's metadata record to its account and keep
 * it in index.db (API in meta_seal.h).
 *
 * Process:  the account's mail process, in its jail, with the account's
 *           private key.
 * Trust:    the message is hostile (meta_build bounds the work); what
 *           index.db holds is the account's own file, which anyone who
 *           copies the disk can read or change, so a record is used only
 *           after its seal opens, and meta_decode checks it again.
 * Limits:   META_SEAL_MSG_MAX message bytes read into memory for a build;
 *           INDEX_META_MAX bytes of a sealed record.
 * See also: meta.h (the record), index.c (where it is stored),
 *           docs/design.md "The store".
 *
 * A sealed record:
 *
 *	nonce (24) | XChaCha20-Poly1305(record, key = K, AD)
 *	K  = BLAKE2b-256(key = the account's private key,
 *	                 message = "sealpost metadata key v1")
 *	AD = "SPM1" | the blob id (16) | META_SEAL_VERSION (u32 LE)
 *
 * The key comes from the private key, so only the account can read or
 * make a record; the blob id in the AD ties a record to its message, so
 * a record copied onto another row (of this or any account) does not
 * open.  An empty stored value means "the message could not be read when
 * the record was built" and is reported as such, never decoded.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "buf.h"
#include "blob.h"
#include "index.h"
#include "meta.h"
#include "meta_seal.h"
#include "downgrade.h"
#include "banned.h"

#define MS_NONCE	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MS_TAG		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define MS_KEY		crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define MS_AD_LEN	(4 + BLOB_ID_LEN + 4)
#define MS_CONTEXT	"sealpost metadata key v1"
#define MS_BATCH	64	/* rows asked of the index at a time */

_Static_assert(MS_NONCE + META_MAX_OUTPUT + MS_TAG <= INDEX_META_MAX,
    "a sealed record must fit in index.db");

/*
 * K for sk, or NULL.  Derived once per account key and kept (with the key
 * it came from) in sodium_malloc memory for the life of the process: a
 * sodium_malloc per record cost more than the rest of opening it (guard
 * pages, mlock: six system calls).  Not thread-safe, like its users.
 */
static const unsigned char *
ms_key(const unsigned char *sk)
{
	static unsigned char	*cache;		/* sk | K */
	static bool		 filled;

	if (cache == NULL && (cache = sodium_malloc(32 + MS_KEY)) == NULL)
		return NULL;
	if (filled && sodium_memcmp(cache, sk, 32) == 0)
		return cache + 32;
	memcpy(cache, sk, 32);
	crypto_generichash(cache + 32, MS_KEY, (const unsigned char *)MS_CONTEXT,
	    sizeof(MS_CONTEXT) - 1, sk, 32);
	filled = true;
	return cache + 32;
}

static void
ms_ad(unsigned char ad[MS_AD_LEN], const unsigned char *blob_id)
{
	uint32_t	v = META_SEAL_VERSION;

	memcpy(ad, "SPM1", 4);
	memcpy(ad + 4, blob_id, BLOB_ID_LEN);
	ad[4 + BLOB_ID_LEN] = (unsigned char)v;
	ad[5 + BLOB_ID_LEN] = (unsigned char)(v >> 8);
	ad[6 + BLOB_ID_LEN] = (unsigned char)(v >> 16);
	ad[7 + BLOB_ID_LEN] = (unsigned char)(v >> 24);
}

/* The whole message into *data_r (the caller's, free): 0, or -1. */
static int
ms_read(struct index_msg *m, unsigned char **data_r, size_t *len_r)
{
	uint64_t	 size = index_msg_size(m), off = 0;
	unsigned char	*data;
	ssize_t		 n;

	*data_r = NULL;
	if (size > META_SEAL_MSG_MAX) {
		errno = EFBIG;
		return -1;
	}
	data = xmalloc(size > 0 ? (size_t)size : 1);
	while (off < size) {
		n = index_msg_pread(m, data + off, (size_t)(size - off), off);
		if (n <= 0) {
			if (n == 0)
				errno = EBADMSG;	/* shorter than its size */
			free(data);
			return -1;
		}
		off += (uint64_t)n;
	}
	*data_r = data;
	*len_r = (size_t)size;
	return 0;
}

/*
 * The size of the message as a client without UTF8=ACCEPT reads it: its
 * header downgraded to 7-bit (downgrade.h; RFC 6855 7), the rest as it
 * is.  A header that does not downgrade is served as it is.
 */
static uint64_t
ms_dg_size(const struct meta *rec, const unsigned char *data, size_t len)
{
	uint64_t	hlen = rec->parts[0].body_start;

	if (hlen > len || (rec->flags & META_UNPARSABLE))
		return len;
	return downgrade_size((const char *)data, (size_t)hlen, len);
}

int
meta_seal_build(struct index *ix, const unsigned char *sk, int64_t mailbox,
    uint32_t uid, char *err, size_t errlen)
{
	struct index_msg	*m;
	struct meta		*rec;
	struct buf		*enc = NULL;
	unsigned char		 ad[MS_AD_LEN], *data = NULL;
	const unsigned char	*key;
	unsigned char		*sealed = NULL;
	unsigned long long	 clen;
	uint64_t		 dg_size;
	size_t			 len, slen;
	int			 ret = -1;

	err[0] = '\0';
	if ((m = index_msg_open(ix, mailbox, uid)) == NULL) {
		if (errno != EBADMSG) {
			snprintf(err, errlen, "%s", index_errstr(ix));
			return -1;
		}
		/* a placeholder or a blob that no longer opens */
		snprintf(err, errlen, "unreadable: %s", index_errstr(ix));
		return index_meta_set(ix, mailbox, uid, "", 0,
		    META_SEAL_VERSION) == -1 ? -1 : 0;
	}
	ms_ad(ad, index_msg_blob_id(m));
	if (ms_read(m, &data, &len) == -1) {
		snprintf(err, errlen, "unreadable: %s", errno == EFBIG ?
		    "larger than the metadata builder reads" : strerror(errno));
		index_msg_close(m);
		return index_meta_set(ix, mailbox, uid, "", 0,
		    META_SEAL_VERSION) == -1 ? -1 : 0;
	}
	index_msg_close(m);

	rec = meta_build(data, len, err, errlen);
	dg_size = ms_dg_size(rec, data, len);
	sodium_memzero(data, len);
	free(data);
	enc = buf_new_flags(META_MAX_OUTPUT, BUF_SECRET);
	if (meta_encode(rec, enc) == -1)
		fatalx("meta_seal: a record past META_MAX_OUTPUT");
	meta_free(rec);

	if ((key = ms_key(sk)) == NULL) {
		snprintf(err, errlen, "sodium_malloc failed");
		goto done;
	}
	slen = MS_NONCE + enc->len + MS_TAG;
	sealed = xmalloc(slen);
	randombytes_buf(sealed, MS_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + MS_NONCE, &clen,
	    enc->data, enc->len, ad, sizeof(ad), NULL, sealed, key);
	SP_ASSERT(clen == enc->len + MS_TAG);
	if (index_meta_set(ix, mailbox, uid, sealed, slen,
	    META_SEAL_VERSION) == -1 ||
	    index_dg_set(ix, mailbox, uid, dg_size) == -1) {
		snprintf(err, errlen, "%s", index_errstr(ix));
		goto done;
	}
	ret = 1;
done:
	free(sealed);
	buf_free(&enc);
	return ret;
}

int
meta_seal_pending(struct index *ix, const unsigned char *sk, size_t max,
    size_t *built_r)
{
	struct index_msgref	todo[MS_BATCH];
	char			err[256];
	size_t			n, i, built = 0;
	int			r;

	*built_r = 0;
	while (built < max) {
		if (index_meta_todo(ix, META_SEAL_VERSION, todo,
		    max - built < MS_BATCH ? max - built : MS_BATCH, &n) == -1)
			return -1;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			r = meta_seal_build(ix, sk, todo[i].mailbox,
			    todo[i].uid, err, sizeof(err));
			if (r == -1)
				return -1;
			if (err[0] != '\0')
				log_info("metadata: uid %u of mailbox %lld: "
				    "%s", todo[i].uid,
				    (long long)todo[i].mailbox, err);
			built++;
		}
	}
	*built_r = built;
	return 0;
}

struct meta *
meta_seal_load(struct index *ix, const unsigned char *sk, int64_t mailbox,
    uint32_t uid, char *err, size_t errlen)
{
	struct index_msg_info	 mi;
	struct meta		*rec = NULL;
	unsigned char		 ad[MS_AD_LEN], *plain = NULL;
	const unsigned char	*key;
	size_t			 plen_max = 0;
	unsigned long long	 plen;
	void			*sealed;
	size_t			 slen;
	int			 version, r;

	if ((r = index_msg_info(ix, mailbox, uid, &mi)) != 1 ||
	    (r = index_meta_get(ix, mailbox, uid, &sealed, &slen,
	    &version)) != 1) {
		snprintf(err, errlen, "%s", r == 0 ? "no metadata yet" :
		    index_errstr(ix));
		errno = r == 0 ? ENOENT : errno;
		return NULL;
	}
	if (version != META_SEAL_VERSION) {
		snprintf(err, errlen, "metadata of another version (%d)",
		    version);
		errno = ENOENT;		/* to be built again */
		goto done;
	}
	if (slen == 0) {
		snprintf(err, errlen, "the message could not be read");
		errno = EBADMSG;
		goto done;
	}
	ms_ad(ad, mi.blob_id);
	if (slen < MS_NONCE + MS_TAG || (key = ms_key(sk)) == NULL) {
		snprintf(err, errlen, "metadata: malformed seal");
		errno = EBADMSG;
		goto done;
	}
	/* the record's plain text: wiped before it is freed */
	plen_max = slen - MS_NONCE - MS_TAG + 1;
	plain = malloc(plen_max);
	if (plain == NULL ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL,
	    (unsigned char *)sealed + MS_NONCE, slen - MS_NONCE, ad,
	    sizeof(ad), sealed, key) != 0) {
		snprintf(err, errlen, "metadata: the seal does not open "
		    "(tampered, or moved from another message)");
		errno = EBADMSG;
		goto done;
	}
	if ((rec = meta_decode(plain, (size_t)plen, err, errlen)) == NULL)
		errno = EBADMSG;
done:
	if (plain != NULL) {
		sodium_memzero(plain, plen_max);
		free(plain);
	}
	free(sealed);
	return rec;
}
