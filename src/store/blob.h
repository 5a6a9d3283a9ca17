/* SPDX-License-Identifier: ISC */
/*
 * blob.h - the SPB1 message blob: one file per message, sealed to the
 * account's public key by the deliver service, read (in any order, chunk
 * by chunk) by the account's own mail process.  The byte layout is in
 * blob.c; DESIGN.md "At-rest formats" fixes the design.
 *
 * Every failure of integrity (a flipped, missing or extra byte, chunks
 * reordered, a header or chunk from another blob, another message's file
 * or another account's file) is an error with errno EBADMSG, never
 * unauthenticated plaintext.
 */
#ifndef SP_BLOB_H
#define SP_BLOB_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define BLOB_ID_LEN		16
#define BLOB_CHUNK		65536		/* message bytes per chunk */
#define BLOB_MAX_SIZE		((uint64_t)1 << 40)	/* message bytes */
#define BLOB_FOLDER_MAX		255		/* bytes, without the NUL */
#define BLOB_ADDR_MAX		320		/* sender, rcpt (RFC 5321) */

/*
 * What the sealed header says.  Strings are NUL-terminated and hold no
 * other NUL; the writer takes them from here, the reader fills them in.
 */
struct blob_meta {
	uint64_t	size;		/* message bytes (writer: msg_len) */
	uint64_t	delivered;	/* delivery time, unix seconds */
	char		folder[BLOB_FOLDER_MAX + 1];	/* target folder */
	char		sender[BLOB_ADDR_MAX + 1];	/* envelope sender */
	char		rcpt[BLOB_ADDR_MAX + 1];	/* envelope recipient */
};

struct blob_reader;

/*
 * Seal a message into a new blob.  Reads msg_len bytes of the message from
 * msg_fd with pread (a sealed memfd: its offset is shared, so it is never
 * moved) and writes the whole blob to out_fd (a new empty file) with a
 * plain write() loop; the caller fsyncs and renames.  pk is the account's
 * X25519 public key: the writer cannot read what it wrote.  meta gives the
 * delivery time, folder, sender and rcpt (meta->size is not read: the
 * header records msg_len); they are checked against the limits above.
 * The blob id is random and returned in id_r (the index row keeps it).
 * Plaintext is held only in one chunk buffer (sodium_malloc), wiped.
 * Returns 0, or -1 with a message in err (and errno set).  The message
 * bytes are not trusted but not parsed either.
 */
int	blob_write(int out_fd,
	    const unsigned char pk[crypto_box_PUBLICKEYBYTES], int msg_fd,
	    uint64_t msg_len, const struct blob_meta *meta,
	    unsigned char id_r[BLOB_ID_LEN], char *err, size_t errlen);

/*
 * Open a blob for reading over fd (pread only; the caller keeps fd open
 * until blob_close and closes it after).  pk and sk are the account's key
 * pair (sk in the caller's sodium_malloc memory; it is not kept: the
 * reader keeps only the file key, in sodium_malloc memory).  expect_id
 * (BLOB_ID_LEN bytes, from the index row) or NULL for any id.  The file is
 * hostile: the fixed part and the sealed header (and the one chunk of an
 * empty message) are checked and opened here, and the file's length must
 * be exactly what the header implies.
 * Returns a reader owned by the caller (blob_close), or NULL with a
 * message in err and errno EBADMSG (integrity or format) or an I/O errno.
 */
struct blob_reader *blob_open(int fd,
	    const unsigned char pk[crypto_box_PUBLICKEYBYTES],
	    const unsigned char sk[crypto_box_SECRETKEYBYTES],
	    const unsigned char *expect_id, char *err, size_t errlen);

/*
 * The same over len bytes at buf (tests, the fuzz target).  buf is not
 * copied: it must outlive the reader.
 */
struct blob_reader *blob_open_mem(const unsigned char *buf, size_t len,
	    const unsigned char pk[crypto_box_PUBLICKEYBYTES],
	    const unsigned char sk[crypto_box_SECRETKEYBYTES],
	    const unsigned char *expect_id, char *err, size_t errlen);

/* The authenticated header and id; they live as long as the reader. */
const struct blob_meta	*blob_meta(const struct blob_reader *);
const unsigned char	*blob_id(const struct blob_reader *);

/*
 * Read up to len bytes of the message at offset off into buf, opening only
 * the chunks that hold them (the last chunk opened is cached, so small
 * sequential reads open each chunk once).  Returns the bytes read (fewer
 * than len only at the end of the message, 0 at or after it), or -1 on an
 * integrity failure (errno EBADMSG) or an I/O error: then buf[0..len) is
 * zeroed, so it holds no plaintext of the failed read.  Chunks that do
 * open stay readable after another one failed.  Not thread-safe.
 */
ssize_t	blob_pread(struct blob_reader *, void *buf, size_t len, uint64_t off);

/* Wipe the file key and the cached chunk and free the reader; NULL ok. */
void	blob_close(struct blob_reader *);

/*
 * Structural check of the blob in fd without any key ("store check"):
 * magic, version, reserved bytes, header length, and a file length that
 * some message size explains.  Says nothing about authenticity.  Returns 0,
 * or -1 with a message in err (errno EBADMSG, or an I/O errno).
 */
int	blob_check_structure(int fd, char *err, size_t errlen);

#endif
