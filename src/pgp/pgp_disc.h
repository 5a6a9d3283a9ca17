/* SPDX-License-Identifier: ISC */
/*
 * pgp_disc.h - the index of the keys the pgp service learnt by itself
 * (pgp_disc.c): what each Web Key Directory lookup gave (a cache with
 * expiry) and which Autocrypt key each local sender uses, with a changed
 * key held for the administrator.  The keys themselves are in two
 * keyrings beside it; this file says which of their keys counts for
 * which address.
 *
 *	DATA_DIR/keys/discovered/		_sp_pgp	0700
 *	    index				this file's lines
 *	    wkd/, autocrypt/			GnuPG homes (public keys: those
 *						in use and those held)
 *
 * One line per entry, fields separated by one space:
 *
 *	SOURCE STATE ADDRESS FPR SEEN UNTIL
 *
 * SOURCE "wkd" or "autocrypt"; STATE "key" (FPR is the key in use),
 * "none" (wkd: nothing published), "failed" (wkd: the last lookup
 * failed; FPR is the key from before, or "-"), "pending" (autocrypt: the
 * held key FPR); ADDRESS lower case (ASCII); SEEN and UNTIL seconds
 * since the epoch (UNTIL: wkd, when to look again; 0 otherwise).
 *
 * Trust: the file is the pgp service's own (nothing else writes it), but
 * a line that does not parse is skipped, not believed.  No I/O but
 * disc_load and disc_save; no logging.
 */
#ifndef SP_PGP_DISC_H
#define SP_PGP_DISC_H

#include <stddef.h>
#include <stdint.h>

#include "pgp_keys.h"

#define DISC_MAX	20000	/* entries; the oldest WKD ones go first */

enum disc_source {
	DISC_WKD = 0,
	DISC_AUTOCRYPT
};

enum disc_state {
	DISC_KEY = 0,
	DISC_NONE,
	DISC_FAILED,
	DISC_PENDING
};

struct disc_ent {
	enum disc_source	src;
	enum disc_state		state;
	char			addr[PGP_ADDRESS_MAX + 1];
	char			fpr[PGP_FPR_LEN + 1];	/* "" none */
	int64_t			seen;
	int64_t			until;
};

struct disc {
	struct disc_ent	*ent;
	size_t		 n, cap;
};

/*
 * Read the index text (len bytes, need not end in NUL) into d, replacing
 * what it held.  Lines that do not parse, and a second entry for the same
 * source, state class (in use / pending) and address, are skipped and
 * counted in *skipped.  0, or -1 (ENOMEM never: xmalloc).
 */
int	disc_parse(struct disc *d, const char *text, size_t len,
	    size_t *skipped);
/* The index as text (disc_parse's format), xmalloc'd, *len_r bytes. */
char	*disc_format(const struct disc *d, size_t *len_r);
/*
 * Read dirfd's "index" (missing: empty) / write it durably (index.tmp,
 * fsync, rename, fsync of the folder).  -1 with errno.
 */
int	disc_load(struct disc *d, int dirfd, size_t *skipped);
int	disc_save(const struct disc *d, int dirfd);
void	disc_free(struct disc *d);

/*
 * The entry of source src for address (compared case-insensitively),
 * pending (1: the held one; 0: the one in use, any other state), or NULL.
 */
struct disc_ent	*disc_find(struct disc *d, enum disc_source src,
		    const char *address, int pending);
/*
 * The entry as disc_find would give it, made when missing (address
 * stored lower-cased; the caller sets the rest).  When d is full the
 * WKD entry seen longest ago goes first; NULL when none can go.
 * Entries move: a pointer from before a disc_put or disc_del is stale.
 */
struct disc_ent	*disc_put(struct disc *d, enum disc_source src,
		    const char *address, int pending);
/* Remove e (a pointer disc_find or disc_put gave). */
void	disc_del(struct disc *d, struct disc_ent *e);
/* 1 when an entry other than skip names fpr (either case), else 0. */
int	disc_refers(const struct disc *d, const char *fpr,
	    const struct disc_ent *skip);

const char	*disc_source_name(enum disc_source);
const char	*disc_state_name(enum disc_state);

#endif
