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
 * The outbound client (the mta): a context for opportunistic STARTTLS
 * (TLS 1.2+, the certificate not checked), and a handshake as a client
 * with SNI servername within timeout_ms.
 */
struct ssl_ctx_st *tls_client_ctx_new(char *err, size_t errlen);
struct tls_conn	*tls_connect(struct ssl_ctx_st *, int fd,
		    const char *servername, int timeout_ms, char *err,
		    size_t errlen);
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
