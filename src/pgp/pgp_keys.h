/* SPDX-License-Identifier: ISC */
/*
 * pgp_keys.h - the organization's OpenPGP keyring: where it lives, how a
 * GPGME context reaches it, and which key a recipient's mail is
 * encrypted to (pgp_keys.c).
 *
 *	DATA_DIR/keys/			root:root	0700
 *	DATA_DIR/keys/gnupg/		root:_sp_pgp	0750
 *	DATA_DIR/keys/gnupg/gpg.conf	root:_sp_pgp	0640
 *	DATA_DIR/keys/gnupg/pubring.kbx	root:_sp_pgp	0640
 *
 * Only public keys live here.  Only sealpostctl key (as root) changes
 * the keyring; the pgp service reads it as _sp_pgp and never writes:
 * gpg.conf says no-autostart (no gpg-agent), trust-model always (an
 * imported key is trusted: importing is the administrator's decision).
 *
 * Users: sealpostctl key, the pgp service (pgp.c).
 */
#ifndef SP_PGP_KEYS_H
#define SP_PGP_KEYS_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include <gpgme.h>

#define PGP_KEYRING_DIR		"keys/gnupg"	/* under DATA_DIR */
#define PGP_ADDRESS_MAX	254	/* RFC 5321 4.5.3.1.3, a path */
#define PGP_FPR_LEN	40	/* v4 fingerprint, hex */
#define PGP_WHY_MAX	384	/* enough for any why below */
#define PGP_DATE_MAX	11	/* "2025-01-01" or "never" */
#define PGP_ALGO_MAX	64	/* "ed25519/cv25519" */

/*
 * Create what is missing of DATA_DIR/keys/gnupg: DATA_DIR/keys (root
 * 0700) when missing, the folder root:gid 0750, gpg.conf root:gid 0640
 * with exactly the lines "no-autostart", "trust-model always",
 * "no-permission-warning", "no-random-seed-file" under a comment, and an
 * empty keybox pubring.kbx root:gid 0640 (without it gpg, run by a user
 * who cannot write the folder, fails with "Cannot open keyring" instead
 * of finding no key).  Fix nothing that is wrong: an existing entry with
 * another type, owner or mode, or a gpg.conf with other lines, is an
 * error (-1, message in err).  Run as root.  0 ok.
 */
/* The 32 bytes of an empty keybox (pubring.kbx) made at now. */
void	pgp_kbx_header(unsigned char h[32], time_t now);
int	pgp_keyring_prepare(const char *data_dir, gid_t gid, char *err,
	    size_t errlen);

/*
 * The keys the pgp service learns by itself (pgp_disc.h): make what is
 * missing of DATA_DIR/keys/discovered (uid:gid 0700; DATA_DIR/keys must
 * exist) and the GnuPG homes wkd/ and autocrypt/ in it (0700,
 * with gpg.conf as above and an empty pubring.kbx, 0600), all uid's:
 * the pgp service writes there.  An existing entry of another type,
 * owner or mode is an error.  Run as root.  0 ok, -1 with err.
 */
#define PGP_DISC_DIR		"keys/discovered"	/* under DATA_DIR */
int	pgp_discovered_prepare(const char *data_dir, uid_t uid, gid_t gid,
	    char *err, size_t errlen);

/*
 * A new GPGME context for OpenPGP with engine home `home` (no other
 * state: GNUPGHOME is not consulted), armor off, keylist mode local,
 * offline.  gpgme_check_version runs once per process.  NULL with err.
 * The caller gpgme_release()s it.
 */
gpgme_ctx_t	pgp_ctx_new(const char *home, char *err, size_t errlen);

/*
 * Is the key usable to encrypt to at time now: not revoked, not expired
 * (by its flags or its expiry against now), not disabled, not invalid,
 * with an encryption-capable subkey that is itself none of those.
 * 1 usable; 0 not, with the reason in why ("revoked", "expired on
 * 2025-01-01", "disabled", "invalid", "no encryption subkey", "its
 * encryption subkeys are expired or revoked").  The key is GPGME's.
 */
int	pgp_key_usable(gpgme_key_t key, time_t now, char *why,
	    size_t whylen);

/*
 * The key to encrypt to for address: a user ID whose address is exactly
 * address, compared case-insensitively (ASCII); revoked or invalid user
 * IDs do not count (except on a revoked key, whose user IDs GPGME shows
 * revoked too: the reason given is then the key's).  Among the usable
 * candidates the most recently created primary key (ties: the larger
 * fingerprint, so the answer never depends on keyring order).
 * 1 with *key_r (the caller gpgme_key_unref()s it); 0 none, with why:
 * "not an address", "no key", or "the key for ADDRESS is not usable:
 * REASON" for the newest candidate; -1 an error (text in why): the
 * keyring's pubring.kbx cannot be opened (checked first: gpg that cannot
 * enter its home exits and GPGME reports no error, only no keys), or a
 * GPGME error ("Cannot open keyring").
 * SECURITY: address is hostile (from SMTP): longer than PGP_ADDRESS_MAX
 * bytes, a control byte, invalid UTF-8, '<', '>', whitespace or no '@'
 * with text on both sides is "not an address" and never reaches gpg.
 */
int	pgp_key_for(gpgme_ctx_t ctx, const char *address, time_t now,
	    gpgme_key_t *key_r, char *why, size_t whylen);

/*
 * 1 when address passes pgp_key_for's check above, 0 when it does not.
 */
int	pgp_address_ok(const char *address);

/*
 * 1 when this user ID of key counts for pgp_key_for (see there): not
 * invalid, not revoked unless the whole key is.
 */
int	pgp_uid_counts(gpgme_key_t key, gpgme_user_id_t uid);

/*
 * 1 when a counting user ID of key has exactly address (ASCII case
 * folded), else 0.
 */
int	pgp_key_has_address(gpgme_key_t key, const char *address);

/*
 * For people: the primary fingerprint, the algorithms ("ed25519/cv25519":
 * the primary's, then each other subkey's when new; "rsa3072" when all
 * agree), the creation and expiry dates of the primary key, UTC
 * ("2026-11-27"; "never").  Always NUL-terminated.
 */
struct pgp_key_desc {
	char	fpr[PGP_FPR_LEN + 1];
	char	algo[PGP_ALGO_MAX];
	char	created[PGP_DATE_MAX];
	char	expires[PGP_DATE_MAX];
};
void	pgp_key_describe(gpgme_key_t key, struct pgp_key_desc *d);
/* t as "YYYY-MM-DD" (UTC) into buf; t == 0 is "never". */
void	pgp_date(long t, char *buf, size_t len);

/*
 * Hostile text for a terminal: bytes 0x20..0x7e stay (but '\\'), every
 * other byte is \xNN.  dst is always NUL-terminated; text that does not
 * fit is cut and ends in "...".  Returns dst.
 */
char	*pgp_esc(char *dst, size_t dstlen, const char *src);

/* 1 when s is 40 hex digits (either case), else 0. */
int	pgp_fpr_ok(const char *s);

#endif
