/* SPDX-License-Identifier: ISC */
/*
 * pgp_learn.h - the keys the pgp service learns by itself (pgp_learn.c):
 * Web Key Directory lookups, fetched by the mta, and the Autocrypt keys
 * of local senders; the trust order between them and the administrator's
 * keyring; sealpostctl key pending|discovered|forget.
 *
 * Trust order (docs/openpgp.md): a key the administrator imported >
 * WKD > Autocrypt.  An address the administrator's keyring names is
 * decided by that keyring alone (pgp.c asks here only when it has no key
 * for the address); a WKD key comes before an Autocrypt one.
 */
#ifndef SP_PGP_LEARN_H
#define SP_PGP_LEARN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gpgme.h>

#define LEARN_DIR	"/discovered"	/* in the jail */

/* Seconds a lookup's answer is kept (docs/openpgp.md, "WKD lookups"). */
#define LEARN_WKD_TTL_KEY	(24 * 3600)	/* a key: checked daily */
#define LEARN_WKD_TTL_NONE	3600		/* none published */
#define LEARN_WKD_TTL_FAILED	300		/* DNS, TLS, 5xx, timeout */
#define LEARN_WKD_STALE		(7 * 86400)	/* a key whose lookup now
						   fails: used this long */
#define LEARN_WKD_WAIT_MS	15000		/* for the mta's answer */

/* The channel to the mta (pgp.c keeps it; -1 none yet). */
extern int	pgp_mta_fd;

/* After the jail: the index and the two keyrings.  Fatal on failure. */
void	learn_init(void);
/*
 * A context whose gpg sees the administrator's keyring and both learnt
 * ones (the home /discovered/all, read only: its gpg.conf lists them),
 * to encrypt to keys of different keyrings at once.
 */
gpgme_ctx_t	learn_ctx_all(void);

/*
 * A key for address that the administrator's keyring does not have:
 * with PGP_F_WKD in flags the recipient domain's Web Key Directory (the
 * cache, else a lookup through the mta), then the Autocrypt key the
 * address's owner sent.  1 with *key_r (gpgme_key_unref it) and *src_r
 * ("wkd", "autocrypt"); 0 none (why says so); 2 none for now: the WKD
 * lookup failed and nothing older is known ("pgp required" defers).
 */
int	learn_key_for(const char *address, uint32_t flags, time_t now,
	    gpgme_key_t *key_r, const char **src_r, char *why, size_t whylen);

/*
 * The Autocrypt header of a message an authenticated sender sent (fd, a
 * sealed memfd; sender the envelope sender, which the account owns): its
 * key for the sender's address, when the header is valid (Level 1) and
 * names the From address, which must be sender.  admin_names: the
 * administrator's keyring names the address (then nothing changes).
 * PGP_AC_* with why (for the log: never the address).
 */
uint32_t	learn_autocrypt(const char *sender, int fd, int admin_names,
		    char *why, size_t whylen);

/*
 * sealpostctl key pending|discovered|forget (PGP_CTL_*): 1 ok with the
 * text (xmalloc'd, lines ending in LF) in *text_r, 0 refused with the
 * reason in *text_r.
 */
int	learn_ctl(uint32_t op, const char *address, char **text_r);

#endif
