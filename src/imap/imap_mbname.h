/* SPDX-License-Identifier: ISC */
/*
 * imap_mbname.h - the mailbox names CREATE and RENAME accept.
 */
#ifndef SP_IMAP_MBNAME_H
#define SP_IMAP_MBNAME_H

/*
 * A name a client may create: 1..INDEX_NAME_MAX printable 7-bit bytes,
 * no LIST wildcard, well-formed modified UTF-7 (RFC 3501 5.1.3),
 * components ("/" between them) neither empty nor "." nor "..".  NULL,
 * or a static text saying why not.
 */
const char	*imap_mbname_bad(const char *name);

#endif
