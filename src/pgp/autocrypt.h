/* SPDX-License-Identifier: ISC */
/*
 * autocrypt.h - the Autocrypt header (Autocrypt Level 1, "The Autocrypt
 * Header"), parsed with no I/O (autocrypt.c):
 *
 *	Autocrypt: addr=alice@example.org; [prefer-encrypt=mutual;]
 *	    keydata=BASE64
 *
 * Users: the pgp service, on mail that local users send (issue 13).  The
 * caller finds the Autocrypt fields of a message, and skips the message
 * as Level 1 says ("Updating Autocrypt Peer State") when its From holds
 * more than one address, it is Auto-Submitted: auto-replied or
 * multipart/report; it then hands every Autocrypt value and the From
 * address to autocrypt_pick.  The key is only checked to start like an
 * OpenPGP public key: GPGME judges the rest when it is imported.
 */
#ifndef SP_AUTOCRYPT_H
#define SP_AUTOCRYPT_H

#include <stddef.h>

/*
 * Level 1: "MUAs SHOULD treat such headers [above 10 KiB, including the
 * Autocrypt: prefix and folding whitespace] as invalid."  The value is
 * what follows "Autocrypt:" (10 octets), folding included.
 */
#define AUTOCRYPT_FIELD_MAX	10240
#define AUTOCRYPT_VALUE_MAX	(AUTOCRYPT_FIELD_MAX - 10)
/*
 * The most key a value within AUTOCRYPT_VALUE_MAX can carry (base64: 3
 * octets per 4 characters); a Level 1 key (ed25519/cv25519, five
 * packets) is under 1 KiB, an RSA 4096 one about 3 KiB.
 */
#define AUTOCRYPT_KEY_MAX	(AUTOCRYPT_VALUE_MAX / 4 * 3)
/* RFC 5321 4.5.3.1: local part 64, path 256 with "<>": 254 */
#define AUTOCRYPT_LOCAL_MAX	64
#define AUTOCRYPT_ADDR_MAX	254
/* More Autocrypt fields than this in one message: none is used. */
#define AUTOCRYPT_PICK_MAX	16

struct autocrypt_hdr {
	char		 addr[AUTOCRYPT_ADDR_MAX + 1];	/* NUL-terminated */
	int		 prefer_mutual;	/* 1 "mutual", 0 "nopreference" */
	unsigned char	*keydata;	/* binary, owned: autocrypt_free */
	size_t		 keylen;	/* 1..AUTOCRYPT_KEY_MAX */
};

/*
 * Parse one Autocrypt value (len octets, hostile: any bytes, NULs
 * included; not NUL-terminated).  Accepted, as Level 1 says:
 * "name=value" attributes separated by ";", whitespace (SP, HTAB and a
 * fold, CR LF or LF followed by SP or HTAB) around names, "=", values
 * and ";", and anywhere inside keydata; "addr" and "keydata" required,
 * "keydata" last (a trailing ";" allowed); "prefer-encrypt" optional,
 * "mutual" or anything else (nopreference); names starting with "_"
 * ignored.  Invalid: another name (a critical attribute), a known
 * attribute twice, an empty attribute, a byte other than printable
 * ASCII and that whitespace, a value over AUTOCRYPT_VALUE_MAX, an addr
 * that is not a plain ASCII dot-atom@domain of at most
 * AUTOCRYPT_ADDR_MAX octets, keydata that is not strict base64 (the
 * alphabet, whitespace, "=" padding only at the end, length a multiple
 * of 4, unused bits zero) or that does not start with an OpenPGP public
 * key packet (tag 6, version 4, 5 or 6, its length within the data).
 * Names and "mutual" are compared exactly (case matters).  Linear in
 * len.  0 parsed: out filled, out->keydata to be freed with
 * autocrypt_free; -1 invalid: out zeroed (nothing to free), *why a
 * short static reason.
 */
int	autocrypt_parse(const char *value, size_t len,
	    struct autocrypt_hdr *out, const char **why);

/* Free out->keydata and zero out.  NULL or zeroed: nothing to do. */
void	autocrypt_free(struct autocrypt_hdr *out);

/*
 * 1 when the header's addr is the From address from_addr (an addr-spec,
 * NUL-terminated, hostile), 0 otherwise.  Level 1's canonicalization
 * ("E-mail Address Canonicalization"): the local part lower-cased, the
 * domain in IDNA ASCII form; for the ASCII addresses autocrypt_parse
 * accepts, that is the whole address compared with ASCII letter case
 * ignored.  A from_addr with any non-ASCII octet never matches (no
 * Unicode case folding or IDNA here: such an addr is refused anyway).
 */
int	autocrypt_addr_matches(const struct autocrypt_hdr *hdr,
	    const char *from_addr);

/*
 * Level 1 ("Updating Autocrypt Peer State"): examine every Autocrypt
 * field of the message, not just the first; a valid one parses and its
 * addr matches the From address; "if there is more than one valid
 * header, this SHOULD be treated as an error, and all Autocrypt headers
 * discarded".  values[i] (lens[i] octets) are the message's n Autocrypt
 * values (hostile), from_addr its From address (NUL-terminated).
 * Invalid ones are skipped (a future version hides its headers from
 * Level 1 behind critical attributes).  Returns the index of the one
 * valid header, with out filled (free with autocrypt_free), or -1 with
 * out zeroed and *why: no header, more than AUTOCRYPT_PICK_MAX of them,
 * more than one valid, or (none valid) the reason of the first invalid
 * one.
 */
int	autocrypt_pick(const char *const *values, const size_t *lens,
	    size_t n, const char *from_addr, struct autocrypt_hdr *out,
	    const char **why);

#endif
