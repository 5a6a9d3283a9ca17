/* SPDX-License-Identifier: ISC */
/*
 * tls.h - the only interface to OpenSSL's TLS (tls.c wraps it).
 */
#ifndef SP_TLS_H
#define SP_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct ssl_ctx_st;		/* OpenSSL's SSL_CTX, opaque outside tls.c */
struct tls_conn;

/*
 * Master: read the certificate chain and key (PEM), check that they load
 * and match exactly as a session will load them, and return a sealed memfd
 * holding both.  -1 with a message naming the file on error.  The key is
 * held only in sodium_malloc memory and wiped.
 */
int		 tls_material_load(const char *cert, const char *key,
		    char *err, size_t errlen);
/*
 * Session tickets (TLS 1.3 only, resumption with a fresh (EC)DHE key
 * exchange): every session process gets the same keys from the master, so
 * a client that reconnects resumes whichever process serves it.
 * TLS_TICKET_KEY_LEN bytes a key: 16 name, 32 HMAC-SHA256, 32 AES-256.
 */
#define TLS_TICKET_KEY_LEN	80
#define TLS_TICKET_KEYS		2	/* the current one and the previous */
/* Master: a sealed memfd holding keys (current first); -1 on error. */
int		 tls_tickets_memfd(const unsigned char *keys, size_t nkeys);
/* Session, before the sandbox: use the keys in the memfd fd. */
int		 tls_ctx_set_tickets(struct ssl_ctx_st *, int fd, char *err,
		    size_t errlen);

/* Session: a server context (TLS 1.2+) from the master's sealed memfd. */
struct ssl_ctx_st *tls_server_ctx_from_fd(int fd, char *err, size_t errlen);
void		 tls_ctx_free(struct ssl_ctx_st *);

/*
 * Handshake as a server on a non-blocking socket within timeout_ms.
 * NULL with a short reason in err on failure (alert sent when possible).
 */
struct tls_conn	*tls_accept(struct ssl_ctx_st *, int fd, int timeout_ms,
		    char *err, size_t errlen);
/*
 * The outbound client (the mta).  What a handshake checks of the server's
 * certificate (the mta's per-attempt TLS policy, mta_tlspol.h):
 *   TLS_CHECK_NONE  nothing (RFC 7435 opportunistic, and "encrypt only")
 *   TLS_CHECK_PKIX  a chain to the context's CA bundle and one of names
 *                   (RFC 6125 DNS-ID, wildcards only as a whole leftmost
 *                   label)
 *   TLS_CHECK_DANE  RFC 7672: the tlsa records (DANE-TA(2) and DANE-EE(3)
 *                   only; DANE-EE without a name check, DANE-TA with names)
 * The records are hostile DNS data: OpenSSL checks their fields.
 */
#define TLS_CHECK_NONE		0
#define TLS_CHECK_PKIX		1
#define TLS_CHECK_DANE		2
#define TLS_CHECK_NAMES_MAX	4

struct tls_tlsa {
	unsigned char		 usage, selector, mtype;
	const unsigned char	*data;
	size_t			 len;
};

struct tls_check {
	int			 mode;		/* TLS_CHECK_* */
	const char		*names[TLS_CHECK_NAMES_MAX];
	size_t			 nnames;
	const struct tls_tlsa	*tlsa;		/* DANE */
	size_t			 ntlsa;
};

/*
 * A client context (TLS 1.2+, DANE enabled) whose trust store is the PEM
 * bundle ca of calen bytes (the caller's, read before the jail; NULL: no
 * PKIX check can pass).  NULL with a message in err.
 */
struct ssl_ctx_st *tls_client_ctx_new(const void *ca, size_t calen,
		    char *err, size_t errlen);
/*
 * A handshake as a client with SNI servername within timeout_ms, checking
 * the certificate as chk says (NULL: TLS_CHECK_NONE).  NULL with a short
 * reason in err on failure; a failed check says "certificate: why" and
 * sets *cert_failed_r (may be NULL).
 */
struct tls_conn	*tls_connect(struct ssl_ctx_st *, int fd,
		    const char *servername, const struct tls_check *chk,
		    int timeout_ms, int *cert_failed_r, char *err,
		    size_t errlen);
/* After tls_connect: what the check matched, for the log ("pkix",
 * "dane-ta", "dane-ee", "none"); static text. */
const char	*tls_checked(struct tls_conn *);
/*
 * Read or write once.  > 0 bytes done; 0 on a clean close (read);
 * -1 with *want set to POLLIN or POLLOUT when the call should be retried
 * after poll; -1 with *want 0 on a fatal error.
 */
ssize_t		 tls_read(struct tls_conn *, void *, size_t, short *want);
ssize_t		 tls_write(struct tls_conn *, const void *, size_t, short *want);
/* Bytes already decrypted and waiting inside OpenSSL. */
int		 tls_pending(struct tls_conn *);
const char	*tls_version(struct tls_conn *);
const char	*tls_cipher(struct tls_conn *);
/* Send close_notify (best effort) and free. */
void		 tls_close(struct tls_conn *);

#endif
