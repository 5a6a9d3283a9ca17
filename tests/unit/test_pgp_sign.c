/* SPDX-License-Identifier: ISC */
/*
 * test_pgp_sign.c - pgp_sign_mime (pgp/pgp_sign.c): the RFC 3156
 * multipart/signed it writes, signed by a real gpg (pgp_agent_sign on a
 * key made here, ed25519) and checked by gpg again (gpgme_op_verify on
 * the signed part cut out of the result): header fields kept but the
 * top-level Content-*, the signed part 7-bit with CR LF lines, 8-bit
 * text made quoted-printable, messages signed or encrypted already left
 * alone, an 8-bit MIME header field refused, the output bound.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <gpgme.h>

#include "buf.h"
#include "mta_7bit.h"
#include "pgp_keys.h"
#include "pgp_sign.h"
#include "test.h"
#include "banned.h"

static char		tmpdir[64];
static char		home[96];
static gpgme_ctx_t	ctx;
static struct pgp_signer signer = { pgp_agent_sign, NULL };

static int
run(char *const argv[])
{
	pid_t	pid;
	int	fd, st;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void
test_prepare(void)
{
	char	*gen[] = { "gpg", "--homedir", home, "--batch", "--quiet",
		    "--pinentry-mode", "loopback", "--passphrase", "",
		    "--quick-gen-key", "Org <postmaster@example.test>",
		    "ed25519", "sign", "never", NULL };
	char	 err[256];

	test_begin("a signing key made by gpg");
	test_assert(run(gen) == 0);
	test_assert((ctx = pgp_ctx_new(home, err, sizeof(err))) != NULL);
	signer.arg = ctx;
	test_end();
}

/* The signed part of out (its bytes) and the signature; 0 or -1. */
static int
cut(const struct buf *out, const char **part, size_t *plen,
    const char **sig, size_t *slen)
{
	const char	*s = (const char *)out->data, *b, *e, *p;
	char		 delim[80];
	size_t		 n;

	if ((b = strstr(s, "boundary=\"")) == NULL)
		return -1;
	b += 10;
	if ((e = strchr(b, '"')) == NULL || (size_t)(e - b) > 60)
		return -1;
	n = (size_t)snprintf(delim, sizeof(delim), "\r\n--%.*s\r\n",
	    (int)(e - b), b);
	if ((p = strstr(e, delim)) == NULL)
		return -1;
	*part = p + n;
	if ((e = strstr(*part, delim)) == NULL)
		return -1;
	*plen = (size_t)(e - *part);
	if ((*sig = strstr(e, "-----BEGIN PGP SIGNATURE-----")) == NULL ||
	    (p = strstr(*sig, "-----END PGP SIGNATURE-----")) == NULL)
		return -1;
	*slen = (size_t)(p - *sig) + 27;
	return 0;
}

/* gpg's verdict on part and sig: 1 a good signature by our key. */
static int
verify(const char *part, size_t plen, const char *sig, size_t slen)
{
	gpgme_data_t		 d = NULL, s = NULL;
	gpgme_verify_result_t	 r;
	int			 ok = 0;

	if (gpgme_data_new_from_mem(&d, part, plen, 0) != 0 ||
	    gpgme_data_new_from_mem(&s, sig, slen, 0) != 0)
		goto done;
	if (gpgme_op_verify(ctx, s, d, NULL) != 0 ||
	    (r = gpgme_op_verify_result(ctx)) == NULL ||
	    r->signatures == NULL)
		goto done;
	ok = gpgme_err_code(r->signatures->status) == GPG_ERR_NO_ERROR;
done:
	if (d != NULL)
		gpgme_data_release(d);
	if (s != NULL)
		gpgme_data_release(s);
	return ok;
}

static int
clean7(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)p[i] >= 0x80 || p[i] == '\0')
			return 0;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 0;
	}
	return 1;
}

static void
test_plain(void)
{
	static const char msg[] = "From: a@example.test\n"
	    "To: b@example.test\nSubject: hi\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n"
	    "hello\n-- \nFrom the desk of A\n";
	struct buf	*out = buf_new(1 << 20);
	const char	*part, *sig;
	char		 err[256];
	size_t		 plen, slen;

	test_begin("text: multipart/signed, header fields kept, verifies");
	test_assert(pgp_sign_mime(&signer, (const unsigned char *)msg,
	    sizeof(msg) - 1, out, err, sizeof(err)) == 0);
	test_assert(strstr(buf_cstr(out), "Subject: hi\r\n") != NULL);
	test_assert(strstr(buf_cstr(out), "Content-Type: multipart/signed") !=
	    NULL);
	test_assert(strstr(buf_cstr(out),
	    "protocol=\"application/pgp-signature\"") != NULL);
	test_assert(strstr(buf_cstr(out), "micalg=pgp-sha") != NULL);
	test_assert(cut(out, &part, &plen, &sig, &slen) == 0);
	test_assert(plen > 0 && clean7(part, plen));
	test_assert(strncmp(part, "Content-Type: text/plain; "
	    "charset=us-ascii\r\n\r\nhello\r\n-- \r\n", 48) == 0);
	test_assert(verify(part, plen, sig, slen));
	/* one changed byte: gpg says bad */
	((char *)part)[plen - 3] ^= 1;
	test_assert(!verify(part, plen, sig, slen));
	buf_free(&out);
	test_end();
}

static void
test_8bit(void)
{
	static const char msg[] = "From: a@example.test\r\nSubject: x\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
	    "boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	    "Gr\xc3\xbc\xc3\x9f" "e\r\n--b\r\nContent-Type: "
	    "application/octet-stream\r\n\r\n\x01\x80\xff\r\n--b--\r\n";
	struct buf	*out = buf_new(1 << 20);
	const char	*part, *sig;
	char		 err[256];
	size_t		 plen, slen;

	test_begin("8-bit parts: quoted-printable and base64, verifies");
	test_assert(pgp_sign_mime(&signer, (const unsigned char *)msg,
	    sizeof(msg) - 1, out, err, sizeof(err)) == 0);
	test_assert(clean7((const char *)out->data, out->len));
	test_assert(cut(out, &part, &plen, &sig, &slen) == 0);
	test_assert(strstr(part, "Content-Transfer-Encoding: "
	    "quoted-printable") != NULL);
	test_assert(strstr(part, "Gr=C3=BC=C3=9Fe") != NULL);
	test_assert(strstr(part, "Content-Transfer-Encoding: base64") != NULL);
	test_assert(verify(part, plen, sig, slen));
	buf_free(&out);
	test_end();
}

static void
test_left_alone(void)
{
	static const char *const msgs[] = {
		"Subject: s\r\nContent-Type: multipart/signed; boundary=x; "
		    "protocol=\"application/pgp-signature\"\r\n\r\n--x--\r\n",
		"Subject: e\r\nContent-Type: multipart/encrypted; boundary=x"
		    "\r\n\r\n--x--\r\n",
		"Subject: i\r\n\r\n-----BEGIN PGP SIGNED MESSAGE-----\r\n",
		"Subject: m\r\n\r\nhi\r\n-----BEGIN PGP MESSAGE-----\r\n",
		"Subject: p\r\nContent-Type: application/pkcs7-mime\r\n\r\nx\r\n"
	};
	struct buf	*out = buf_new(1 << 20);
	char		 err[256];
	size_t		 i;

	test_begin("signed or encrypted already: 1, nothing written");
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		test_assert(pgp_sign_mime(&signer, (const unsigned char *)
		    msgs[i], strlen(msgs[i]), out, err, sizeof(err)) == 1);
		test_assert(out->len == 0);
	}
	buf_free(&out);
	test_end();
}

static void
test_refused(void)
{
	static const char hdr8[] = "Subject: h\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; name=\"\xc3\xa9t\xc3\xa9.txt\"\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9\r\n";
	static const char big[] = "Subject: b\r\n\r\nsome text\r\n";
	struct buf	*out = buf_new(1 << 20), *tiny = buf_new(64);
	char		 err[256];

	test_begin("an 8-bit MIME header field, a small out: -1");
	test_assert(pgp_sign_mime(&signer, (const unsigned char *)hdr8,
	    sizeof(hdr8) - 1, out, err, sizeof(err)) == -1);
	test_assert(out->len == 0 && err[0] != '\0');
	test_assert(pgp_sign_mime(&signer, (const unsigned char *)big,
	    sizeof(big) - 1, tiny, err, sizeof(err)) == -1);
	test_assert(tiny->len == 0);
	buf_free(&out);
	buf_free(&tiny);
	test_end();
}

int
main(void)
{
	static void	(*tests[])(void) = {
		test_prepare,
		test_plain,
		test_8bit,
		test_left_alone,
		test_refused,
		NULL
	};
	char		*kill[] = { "gpgconf", "--homedir", home, "--kill",
			    "gpg-agent", NULL };
	char		*rm[] = { "rm", "-rf", tmpdir, NULL };
	int		 rc;

	mta_7bit_init();
	if (gpgme_check_version(NULL) == NULL)
		return 1;
	/* short: gpg-agent's socket lives in the home */
	strlcpy(tmpdir, "/tmp/spts.XXXXXX", sizeof(tmpdir));
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	snprintf(home, sizeof(home), "%s/g", tmpdir);
	if (mkdir(home, 0700) == -1)
		return 1;
	rc = test_run(tests);
	if (ctx != NULL)
		gpgme_release(ctx);
	(void)run(kill);
	(void)run(rm);
	return rc;
}
