/* SPDX-License-Identifier: ISC */
/*
 * imap_compress.h - COMPRESS=DEFLATE (RFC 4978) in the mail process.
 */
#ifndef SP_IMAP_COMPRESS_H
#define SP_IMAP_COMPRESS_H

#include <stdbool.h>

struct io;

/*
 * From now on deflate what goes to the client and inflate what comes
 * from it (call right after writing the OK).  0, or -1 (already on, or
 * zlib failed: the caller ends the session, the client now speaks
 * deflate).
 */
int	imap_compress_start(struct io *);
bool	imap_compress_active(void);

#endif
