/* SPDX-License-Identifier: ISC */
/*
 * tls.c - TLS server contexts and connections (the one file that includes
 * OpenSSL's TLS headers).
 *
 * Process:  master (loads and checks the certificate and key), TLS-speaking
 *           sessions (handshake and record I/O).
 * Trust:    the handshake is the first hostile input a TLS session sees;
 *           OpenSSL parses it under our settings: TLS 1.2 or later,
 *           no renegotiation, no compression, a bounded handshake time.
 * Limits:   SP_TLS_BLOB_MAX for the certificate chain and key.
 * SECURITY: the private key crosses to sessions in a sealed memfd before
 *           their privilege drop (STYLE.md 2: an accepted risk, written down).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "sealpost.h"
#include "log.h"
#include "memfd.h"
#include "xmalloc.h"
#include "tls.h"
#include "banned.h"

/* Mozilla "intermediate": forward secrecy and AEAD only, for TLS 1.2. */
#define TLS_CIPHERS_12	"ECDHE-ECDSA-AES128-GCM-SHA256:" \
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:" \
	"DHE-RSA-AES256-GCM-SHA384"

#define TLS_TICKETS_MAX	(TLS_TICKET_KEYS * TLS_TICKET_KEY_LEN)

struct tls_conn {
	SSL		*ssl;
	const char	*checked;	/* tls_checked */
};

static void
tls_errstr(char *err, size_t errlen, const char *what)
{
	unsigned long	e = ERR_get_error();
	char		buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

/* Read a whole small file into sodium_malloc memory at dst + *off. */
static int
tls_read_file(const char *path, unsigned char *dst, size_t cap, size_t *off,
    char *err, size_t errlen)
{
	struct stat	st;
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	for (;;) {
		if (*off >= cap - 1) {
			snprintf(err, errlen, "%s: larger than %d bytes", path,
			    SP_TLS_BLOB_MAX);
			close(fd);
			return -1;
		}
		n = read(fd, dst + *off, cap - 1 - *off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		*off += (size_t)n;
	}
	close(fd);
	dst[(*off)++] = '\n';	/* keep the PEM blocks apart */
	return 0;
}

static SSL_CTX *
tls_ctx_from_blob(const unsigned char *blob, size_t len, char *err,
    size_t errlen)
{
	SSL_CTX		*ctx;
	BIO		*bio = NULL;
	X509		*x = NULL;
	EVP_PKEY	*pkey = NULL;

	/*
	 * Our settings are below; the system openssl.cnf is not read (it
	 * cannot be inside a jail, and reading it costs every session).
	 */
	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1 ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_errstr(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	/* RFC 8996: no TLS 1.0/1.1; RFC 7457: no renegotiation, compression. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_TICKET);
	/*
	 * SECURITY: what the client sent is wiped from OpenSSL's buffers
	 * once read (a LOGIN or AUTH password would stay there otherwise).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT);
	/*
	 * No server-side session cache: resumption only through tickets, and
	 * only when the master's shared keys are set (tls_ctx_set_tickets).
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1) {
		tls_errstr(err, errlen, "cipher list");
		goto fail;
	}

	if ((bio = BIO_new_mem_buf(blob, (int)len)) == NULL ||
	    (x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) == NULL) {
		tls_errstr(err, errlen, "no certificate");
		goto fail;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		tls_errstr(err, errlen, "certificate");
		goto fail;
	}
	X509_free(x);
	/* The rest of the chain; stops at the end of the blob. */
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			tls_errstr(err, errlen, "chain certificate");
			goto fail;
		}
		x = NULL;
	}
	ERR_clear_error();
	BIO_free(bio);

	if ((bio = BIO_new_mem_buf(blob, (int)len)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
		tls_errstr(err, errlen, "no private key");
		goto fail;
	}
	BIO_free(bio);
	bio = NULL;
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "the key does not match the certificate");
		goto fail;
	}
	EVP_PKEY_free(pkey);
	return ctx;
fail:
	X509_free(x);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_material_load(const char *cert, const char *key, char *err, size_t errlen)
{
	unsigned char	*blob;
	SSL_CTX		*ctx;
	size_t		 len = 0;
	char		 why[256];
	int		 fd = -1;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "sodium_init failed");
		return -1;
	}
	if ((blob = sodium_malloc(SP_TLS_BLOB_MAX)) == NULL) {
		snprintf(err, errlen, "sodium_malloc: %s", strerror(errno));
		return -1;
	}
	if (tls_read_file(cert, blob, SP_TLS_BLOB_MAX, &len, err, errlen) ==
	    -1 || tls_read_file(key, blob, SP_TLS_BLOB_MAX, &len, err,
	    errlen) == -1)
		goto done;
	if ((ctx = tls_ctx_from_blob(blob, len, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s, %s: %s", cert, key, why);
		goto done;
	}
	SSL_CTX_free(ctx);
	if ((fd = memfd_sealed_from("sealpost-tls", blob, len)) == -1)
		snprintf(err, errlen, "memfd: %s", strerror(errno));
done:
	sodium_free(blob);	/* wipes */
	return fd;
}

struct ssl_ctx_st *
tls_server_ctx_from_fd(int fd, char *err, size_t errlen)
{
	unsigned char	*blob;
	SSL_CTX		*ctx = NULL;
	size_t		 len;

	if (memfd_check_sealed(fd, SP_TLS_BLOB_MAX, &len) == -1) {
		snprintf(err, errlen, "TLS memfd not sealed: %s",
		    strerror(errno));
		return NULL;
	}
	if (sodium_init() < 0 || (blob = sodium_malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "sodium_malloc failed");
		return NULL;
	}
	if (memfd_read(fd, blob, len) == -1)
		snprintf(err, errlen, "TLS memfd: %s", strerror(errno));
	else
		ctx = tls_ctx_from_blob(blob, len, err, errlen);
	sodium_free(blob);
	return ctx;
}

void
tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}

static long
tls_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The handshake on a non-blocking socket within timeout_ms, either side. */
static struct tls_conn *
tls_handshake(SSL *ssl, int fd, int server, int timeout_ms, int *cert_failed,
    char *err, size_t errlen)
{
	struct tls_conn	*c;
	struct pollfd	 pfd;
	long		 deadline = tls_now_ms() + timeout_ms, left;
	int		 r, e;

	c = xcalloc(1, sizeof(*c));
	c->ssl = ssl;
	if (SSL_set_fd(c->ssl, fd) != 1) {
		tls_errstr(err, errlen, "SSL_set_fd");
		goto fail;
	}
	for (;;) {
		ERR_clear_error();
		if ((r = server ? SSL_accept(c->ssl) :
		    SSL_connect(c->ssl)) == 1)
			return c;
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			long	v = SSL_get_verify_result(c->ssl);

			if (!server && v != X509_V_OK &&
			    SSL_get_verify_mode(c->ssl) != SSL_VERIFY_NONE) {
				/* the certificate, not the handshake */
				snprintf(err, errlen, "certificate: %s",
				    X509_verify_cert_error_string(v));
				ERR_clear_error();
				if (cert_failed != NULL)
					*cert_failed = 1;
				goto fail;
			}
			tls_errstr(err, errlen, e == SSL_ERROR_SYSCALL ||
			    e == SSL_ERROR_ZERO_RETURN ? "connection closed" :
			    "handshake failed");
			goto fail;
		}
		if ((left = deadline - tls_now_ms()) <= 0) {
			snprintf(err, errlen, "handshake timeout");
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto fail;
		}
	}
fail:
	SSL_free(c->ssl);
	free(c);
	return NULL;
}

struct tls_conn *
tls_accept(struct ssl_ctx_st *ctx, int fd, int timeout_ms, char *err,
    size_t errlen)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL) {
		tls_errstr(err, errlen, "SSL_new");
		return NULL;
	}
	return tls_handshake(ssl, fd, 1, timeout_ms, NULL, err, errlen);
}

/* Every certificate of the PEM bundle ca into ctx's store. */
static int
tls_ctx_load_ca(SSL_CTX *ctx, const void *ca, size_t calen, char *err,
    size_t errlen)
{
	STACK_OF(X509_INFO)	*infos;
	X509_STORE		*store = SSL_CTX_get_cert_store(ctx);
	BIO			*bio;
	int			 i, n = 0;

	if (calen > INT32_MAX ||
	    (bio = BIO_new_mem_buf(ca, (int)calen)) == NULL) {
		tls_errstr(err, errlen, "CA bundle");
		return -1;
	}
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (infos == NULL) {
		tls_errstr(err, errlen, "CA bundle");
		return -1;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO	*xi = sk_X509_INFO_value(infos, i);

		if (xi->x509 != NULL && X509_STORE_add_cert(store,
		    xi->x509) == 1)
			n++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	if (n == 0) {
		snprintf(err, errlen, "CA bundle: no certificate");
		return -1;
	}
	return 0;
}

struct ssl_ctx_st *
tls_client_ctx_new(const void *ca, size_t calen, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_dane_enable(ctx) <= 0) {
		tls_errstr(err, errlen, "SSL_CTX_new");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (ca != NULL && calen > 0 &&
	    tls_ctx_load_ca(ctx, ca, calen, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * Nothing is checked unless the connection's tls_check says so:
	 * opportunistic TLS (RFC 7435, RFC 3207 4.1) must not fail on a
	 * certificate, since a failed check could only fall back to
	 * plaintext.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	return ctx;
}

/* Set up ssl to check the peer as chk says; 0, or -1 with err. */
static int
tls_check_setup(SSL *ssl, const struct tls_check *chk, char *err,
    size_t errlen)
{
	size_t	i;
	int	usable = 0, r;

	if (chk == NULL || chk->mode == TLS_CHECK_NONE)
		return 0;
	if (chk->nnames == 0 || chk->nnames > TLS_CHECK_NAMES_MAX) {
		snprintf(err, errlen, "no name to check");
		return -1;
	}
	if (chk->mode == TLS_CHECK_DANE) {
		/* RFC 7672 3.2.2: the TLSA base domain, then the others */
		if (SSL_dane_enable(ssl, chk->names[0]) <= 0) {
			tls_errstr(err, errlen, "DANE");
			return -1;
		}
		/* RFC 7672 3.1.1: DANE-EE(3) means no name check */
		SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
		for (i = 0; i < chk->ntlsa; i++) {
			const struct tls_tlsa	*t = &chk->tlsa[i];

			/* RFC 7672 3.1.3: PKIX-TA(0) and PKIX-EE(1) unused */
			if (t->usage != 2 && t->usage != 3)
				continue;
			r = SSL_dane_tlsa_add(ssl, t->usage, t->selector,
			    t->mtype, t->data, t->len);
			if (r > 0)
				usable++;
		}
		ERR_clear_error();
		if (usable == 0) {
			snprintf(err, errlen, "no usable TLSA record");
			return -1;
		}
	} else {
		if (SSL_set1_host(ssl, chk->names[0]) != 1) {
			tls_errstr(err, errlen, "host name");
			return -1;
		}
	}
	for (i = 1; i < chk->nnames; i++)
		if (SSL_add1_host(ssl, chk->names[i]) != 1) {
			tls_errstr(err, errlen, "host name");
			return -1;
		}
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return 0;
}

struct tls_conn *
tls_connect(struct ssl_ctx_st *ctx, int fd, const char *servername,
    const struct tls_check *chk, int timeout_ms, int *cert_failed_r,
    char *err, size_t errlen)
{
	struct tls_conn	*c;
	SSL		*ssl;
	uint8_t		 usage, sel, mtype;

	if (cert_failed_r != NULL)
		*cert_failed_r = 0;
	if ((ssl = SSL_new(ctx)) == NULL) {
		tls_errstr(err, errlen, "SSL_new");
		return NULL;
	}
	if (servername != NULL && servername[0] != '\0' &&
	    SSL_set_tlsext_host_name(ssl, servername) != 1) {
		tls_errstr(err, errlen, "SNI");
		SSL_free(ssl);
		return NULL;
	}
	if (tls_check_setup(ssl, chk, err, errlen) == -1) {
		SSL_free(ssl);
		if (cert_failed_r != NULL)
			*cert_failed_r = 1;
		return NULL;
	}
	if ((c = tls_handshake(ssl, fd, 0, timeout_ms, cert_failed_r, err,
	    errlen)) == NULL)
		return NULL;
	c->checked = "none";
	if (chk != NULL && chk->mode == TLS_CHECK_PKIX)
		c->checked = "pkix";
	else if (chk != NULL && chk->mode == TLS_CHECK_DANE)
		c->checked = SSL_get0_dane_tlsa(c->ssl, &usage, &sel, &mtype,
		    NULL, NULL) >= 0 && usage == 3 ? "dane-ee" : "dane-ta";
	return c;
}

const char *
tls_checked(struct tls_conn *c)
{
	return c->checked != NULL ? c->checked : "none";
}

static ssize_t
tls_result(struct tls_conn *c, int r, short *want)
{
	int	e = SSL_get_error(c->ssl, r);

	*want = 0;
	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = POLLIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*want = POLLOUT;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ERR_clear_error();
		return -1;
	}
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t len, short *want)
{
	int	r, n = len > INT32_MAX ? INT32_MAX : (int)len;

	ERR_clear_error();
	if ((r = SSL_read(c->ssl, buf, n)) > 0) {
		*want = 0;
		return r;
	}
	return tls_result(c, r, want);
}

ssize_t
tls_write(struct tls_conn *c, const void *buf, size_t len, short *want)
{
	int	r, n = len > INT32_MAX ? INT32_MAX : (int)len;

	ERR_clear_error();
	if ((r = SSL_write(c->ssl, buf, n)) > 0) {
		*want = 0;
		return r;
	}
	if (tls_result(c, r, want) == 0)
		*want = 0;	/* peer closed while we write: fatal */
	return -1;
}

int
tls_pending(struct tls_conn *c)
{
	return SSL_pending(c->ssl);
}

const char *
tls_version(struct tls_conn *c)
{
	return SSL_get_version(c->ssl);
}

const char *
tls_cipher(struct tls_conn *c)
{
	return SSL_get_cipher_name(c->ssl);
}

void
tls_close(struct tls_conn *c)
{
	if (c == NULL)
		return;
	(void)SSL_shutdown(c->ssl);	/* close_notify; do not wait */
	SSL_free(c->ssl);
	free(c);
}

/* The ticket keys of this session process, loaded before its sandbox. */
static unsigned char	*ticket_keys;
static size_t		 ticket_nkeys;

int
tls_tickets_memfd(const unsigned char *keys, size_t nkeys)
{
	SP_ASSERT(nkeys >= 1 && nkeys <= TLS_TICKET_KEYS);
	return memfd_sealed_from("sealpost-tickets", keys,
	    nkeys * TLS_TICKET_KEY_LEN);
}

static int
tls_ticket_setup(const unsigned char *key, unsigned char *iv,
    EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM	params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)(uintptr_t)(key + 16), 32);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	if (enc)
		return EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL,
		    key + 48, iv) == 1 ? 0 : -1;
	return EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key + 48,
	    iv) == 1 ? 0 : -1;
}

/*
 * OpenSSL's ticket callback.  Encrypt: only for TLS 1.3 (return 0 issues
 * no ticket, so TLS 1.2 clients always do a full handshake).  Decrypt:
 * 1 with the current key, 2 with the previous one (renew the ticket), 0
 * for an unknown name (a full handshake).
 */
static int
tls_ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, int enc)
{
	size_t	i;

	if (enc) {
		if (SSL_version(ssl) != TLS1_3_VERSION)
			return 0;
		if (RAND_bytes(iv, 16) != 1)
			return -1;
		memcpy(name, ticket_keys, 16);
		return tls_ticket_setup(ticket_keys, iv, ctx, hctx, 1) == 0 ?
		    1 : -1;
	}
	for (i = 0; i < ticket_nkeys; i++) {
		const unsigned char *k = ticket_keys + i * TLS_TICKET_KEY_LEN;

		if (CRYPTO_memcmp(name, k, 16) != 0)
			continue;
		if (tls_ticket_setup(k, iv, ctx, hctx, 0) == -1)
			return -1;
		return i == 0 ? 1 : 2;
	}
	return 0;
}

int
tls_ctx_set_tickets(struct ssl_ctx_st *ctx, int fd, char *err, size_t errlen)
{
	size_t	len;

	if (memfd_check_sealed(fd, TLS_TICKETS_MAX, &len) == -1 ||
	    len == 0 || len % TLS_TICKET_KEY_LEN != 0) {
		snprintf(err, errlen, "ticket keys memfd not sealed or bad size");
		return -1;
	}
	if (ticket_keys == NULL &&
	    (ticket_keys = sodium_malloc(TLS_TICKETS_MAX)) == NULL) {
		snprintf(err, errlen, "sodium_malloc failed");
		return -1;
	}
	if (memfd_read(fd, ticket_keys, len) == -1) {
		snprintf(err, errlen, "ticket keys: %s", strerror(errno));
		return -1;
	}
	ticket_nkeys = len / TLS_TICKET_KEY_LEN;
	SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 1);
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb) != 1) {
		tls_errstr(err, errlen, "ticket callback");
		return -1;
	}
	return 0;
}
