/* SPDX-License-Identifier: ISC */
/*
 * imap_mbname.h - the mailbox names CREATE and RENAME accept.
 */
#ifndef SP_IMAP_MBNAME_H
#define SP_IMAP_MBNAME_H

/*
 * A name a client may create, as the index keeps it (UTF-8: mb_name_arg
 * decoded the wire's modified UTF-7): 1..INDEX_NAME_MAX bytes of UTF-8
 * text without controls (utf8_valid_text), no LIST wildcard, components
 * ("/" between them) neither empty nor "." nor "..".  NULL, or a static
 * text saying why not.
 */
const char	*imap_mbname_bad(const char *name);

#endif
