/* SPDX-License-Identifier: ISC */
/*
 * store_deliver.h - put one sealed message into an account's new/.
 */
#ifndef SP_STORE_DELIVER_H
#define SP_STORE_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "blob.h"

#define STORE_NAME_MAX	(2 * BLOB_ID_LEN + 1)	/* hex blob id + NUL */

/*
 * Seal the message (msg_fd: a sealed memfd of msg_len bytes) for the
 * account's public key pk into the directory new_fd (DATA_DIR/mail/ID/new):
 * write it under a temporary name (".tmp-" + random hex), fsync it,
 * rename it to its blob id in hex, fsync the directory.  Only then is the
 * message durable and may be acknowledged (DESIGN.md, principle 3).
 * 0 with the file name in name_r; -1 with errno (ENOSPC, EDQUOT: the disk
 * is full, a temporary failure) and a message in err; on failure nothing
 * is left under the final name (a temporary file may remain after a
 * crash: it was never acknowledged, and the importer removes it).
 */
int	store_deliver(int new_fd, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
	    int msg_fd, uint64_t msg_len, const struct blob_meta *meta,
	    char name_r[STORE_NAME_MAX], char *err, size_t errlen);

#ifdef SP_TEST_HOOKS
/*
 * Test hooks: name a step ("written", "fsynced", "renamed") and
 * store_deliver _exit(99)s right after it, as a crash would.
 */
extern const char	*store_test_crash_at;
#endif

#endif
