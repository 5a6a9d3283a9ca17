/* SPDX-License-Identifier: ISC */
/*
 * test_dkim.c - DKIM signing (src/signer): RFC 6376 3.4.5's
 * canonicalization example and the rules of 3.4.2 and 3.4.4 one by one,
 * the header split and its refusals, the From domain, the fields signed
 * (bottom up, oversigned), keys from PEM (RSA, Ed25519, refusals), and
 * signatures of both kinds checked by an independent verifier: Debian's
 * python3-dkim (dkimpy, with python3-nacl for Ed25519), given the DNS
 * record directly (skipped when it is not installed).
 */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "buf.h"
#include "dkim.h"
#include "test.h"
#include "banned.h"

#define PYTHON	"/usr/bin/python3"

static void
collect(void *arg, const void *p, size_t n)
{
	(void)buf_add(arg, p, n);
}

static const char *
body_canon(const char *in, struct buf *b)
{
	buf_reset(b);
	dkim_canon_body((const unsigned char *)in, strlen(in), collect, b);
	return buf_cstr(b);
}

static const char *
head_canon(const char *in, struct buf *b)
{
	buf_reset(b);
	if (dkim_canon_header(b, (const unsigned char *)in, strlen(in),
	    1) == -1)
		return "(error)";
	return buf_cstr(b);
}

static void
test_canon(void)
{
	static const char	msg[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n"
				    " C \r\nD \t E\r\n\r\n\r\n";
	struct dkim_msg		 m;
	struct buf		*b = buf_new(1 << 20);
	const char		*why;
	size_t			 i;

	test_begin("RFC 6376 3.4.5's example, relaxed/relaxed");
	test_assert(dkim_msg_parse(&m, (const unsigned char *)msg,
	    strlen(msg), &why) == 0);
	test_assert(m.nfields == 2);
	buf_reset(b);
	for (i = 0; i < m.nfields; i++)
		test_assert(dkim_canon_header(b, m.p + m.fields[i].off,
		    m.fields[i].len, 1) == 0);
	test_assert_streq(buf_cstr(b), "a:X\r\nb:Y Z\r\n");
	{
		struct buf	*c = buf_new(1024);

		test_assert_streq(body_canon(msg + m.body, c),
		    " C\r\nD E\r\n");
		buf_free(&c);
	}
	dkim_msg_free(&m);
	test_end();

	test_begin("relaxed body: each rule");
	test_assert_streq(body_canon("", b), "");
	test_assert_streq(body_canon("\r\n\r\n", b), "");
	test_assert_streq(body_canon("x", b), "x\r\n");
	test_assert_streq(body_canon("a\r\n\r\nb\r\n\r\n", b),
	    "a\r\n\r\nb\r\n");
	test_assert_streq(body_canon("a \t \r\n", b), "a\r\n");
	test_assert_streq(body_canon(" \t\r\n x\r\n", b), "\r\n x\r\n");
	/* lone LF and lone CR are line ends, as the mta sends them */
	test_assert_streq(body_canon("a\nb\rc", b), "a\r\nb\r\nc\r\n");
	test_end();

	test_begin("relaxed header: each rule");
	test_assert_streq(head_canon("SUBJect:  a \t b  \r\n", b),
	    "subject:a b\r\n");
	test_assert_streq(head_canon("To:\r\n\tx@y.test\r\n", b),
	    "to:x@y.test\r\n");
	test_assert_streq(head_canon("X:\r\n", b), "x:\r\n");
	test_assert_streq(head_canon("Y \t: v\n", b), "y:v\r\n");
	test_end();
	buf_free(&b);
}

static int
parse_fails(const char *s)
{
	struct dkim_msg	 m;
	const char	*why = NULL;

	if (dkim_msg_parse(&m, (const unsigned char *)s, strlen(s), &why) ==
	    0) {
		dkim_msg_free(&m);
		return 0;
	}
	return why != NULL;
}

static const char *
from_of(const char *hdr, char *dom, size_t len)
{
	struct dkim_msg	 m;
	const char	*why;
	int		 r;

	if (dkim_msg_parse(&m, (const unsigned char *)hdr, strlen(hdr),
	    &why) == -1)
		return "(parse)";
	r = dkim_from_domain(&m, dom, len);
	dkim_msg_free(&m);
	return r == 0 ? dom : "(none)";
}

static void
test_parse(void)
{
	char		 d[DKIM_DOMAIN_MAX + 1];
	struct buf	*b;
	size_t		 i;

	test_begin("header split: refusals and limits");
	test_assert(parse_fails(" folded first\r\n\r\n"));
	test_assert(parse_fails("no colon here\r\n\r\n"));
	test_assert(parse_fails(":empty name\r\n\r\n"));
	test_assert(parse_fails("Na\x80me: x\r\n\r\n"));
	test_assert(!parse_fails("From: a@b.test\r\n"));	/* no body */
	b = buf_new(DKIM_HEADER_MAX * 2);
	for (i = 0; i <= DKIM_FIELDS_MAX; i++)
		(void)buf_add(b, "X: y\r\n", 6);
	test_assert(parse_fails(buf_cstr(b)));
	buf_reset(b);
	(void)buf_add(b, "X: ", 3);
	for (i = 0; i < DKIM_HEADER_MAX; i++)
		(void)buf_add(b, "y", 1);
	test_assert(parse_fails(buf_cstr(b)));
	buf_free(&b);
	test_end();

	test_begin("the From domain");
	test_assert_streq(from_of("From: a@Example.TEST\r\n\r\n", d,
	    sizeof(d)), "example.test");
	test_assert_streq(from_of("From: \"Joe, <x@evil.test>\" "
	    "<joe@ok.test>\r\n\r\n", d, sizeof(d)), "ok.test");
	test_assert_streq(from_of("From: Joe (<x@evil.test>) "
	    "<joe@ok.test>\r\n\r\n", d, sizeof(d)), "ok.test");
	test_assert_streq(from_of("From: joe@ok.test (Joe)\r\n\r\n", d,
	    sizeof(d)), "ok.test");
	test_assert_streq(from_of("From: Joe\r\n <joe@fold.test>\r\n\r\n", d,
	    sizeof(d)), "fold.test");
	test_assert_streq(from_of("From: a@x.test\r\nFrom: b@y.test\r\n\r\n",
	    d, sizeof(d)), "(none)");
	test_assert_streq(from_of("From: a@x.test, b@y.test\r\n\r\n", d,
	    sizeof(d)), "(none)");
	test_assert_streq(from_of("From: g: a@x.test;\r\n\r\n", d,
	    sizeof(d)), "(none)");
	test_assert_streq(from_of("From: <a@x.test> <b@y.test>\r\n\r\n", d,
	    sizeof(d)), "(none)");
	test_assert_streq(from_of("From: a@x_y.test\r\n\r\n", d, sizeof(d)),
	    "(none)");
	test_assert_streq(from_of("From: a@\r\n\r\n", d, sizeof(d)),
	    "(none)");
	test_assert_streq(from_of("To: a@x.test\r\n\r\n", d, sizeof(d)),
	    "(none)");
	test_assert_streq(from_of("From: \"unterminated <a@x.test>\r\n\r\n",
	    d, sizeof(d)), "(none)");
	test_assert(dkim_selector_ok("s1") && dkim_selector_ok("a.b-c"));
	test_assert(!dkim_selector_ok("") && !dkim_selector_ok("A") &&
	    !dkim_selector_ok("../x") && !dkim_selector_ok("-a"));
	test_end();

	test_begin("fields signed: bottom up, oversigned");
	{
		static const char	msg[] = "Received: x\r\n"
		    "To: t@x.test\r\n"
		    "From: f@x.test\r\nSubject: one\r\nX-Other: y\r\n"
		    "Subject: two\r\nMIME-Version: 1.0\r\n\r\nbody\r\n";
		struct dkim_msg	 m;
		struct buf	*h = buf_new(4096), *c = buf_new(4096);
		const char	*why;

		test_assert(dkim_msg_parse(&m, (const unsigned char *)msg,
		    strlen(msg), &why) == 0);
		test_assert(dkim_signed_fields(&m, h, c) == 0);
		test_assert_streq(buf_cstr(h), "from:from:to:to:cc:subject:"
		    "subject:subject:date:message-id:reply-to:mime-version");
		test_assert_streq(buf_cstr(c), "from:f@x.test\r\n"
		    "to:t@x.test\r\nsubject:two\r\nsubject:one\r\n"
		    "mime-version:1.0\r\n");
		dkim_msg_free(&m);
		buf_free(&h);
		buf_free(&c);
	}
	test_end();
}

/* A fresh key as PEM, in a buffer the caller frees. */
static struct buf *
key_pem(const char *type, size_t bits)
{
	EVP_PKEY	*pk;
	BIO		*bio = BIO_new(BIO_s_mem());
	struct buf	*b = buf_new(DKIM_KEYFILE_MAX);
	char		*p;
	long		 n;

	pk = bits > 0 ? EVP_PKEY_Q_keygen(NULL, NULL, type, bits) :
	    EVP_PKEY_Q_keygen(NULL, NULL, type);
	if (pk == NULL || PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0,
	    NULL, NULL) != 1 || (n = BIO_get_mem_data(bio, &p)) <= 0)
		abort();
	(void)buf_add(b, p, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return b;
}

static const char verify_py[] =
    "import sys, dkim\n"
    "msg = open(sys.argv[1], 'rb').read()\n"
    "recs = {}\n"
    "for a in sys.argv[3:]:\n"
    "    n, v = a.split('=', 1)\n"
    "    recs[n.encode()] = v.encode()\n"
    "def dns(name, timeout=5):\n"
    "    return recs.get(name.rstrip(b'.'), b'')\n"
    "d = dkim.DKIM(msg)\n"
    "try:\n"
    "    ok = [d.verify(idx=i, dnsfunc=dns)\n"
    "          for i in range(int(sys.argv[2]))]\n"
    "except Exception as e:\n"
    "    print('# dkimpy:', e)\n"
    "    ok = [False]\n"
    "sys.exit(0 if all(ok) else 1)\n";

/*
 * Run dkimpy over msg with the records "NAME=v=DKIM1; k=...; p=..." of
 * keys: 0 every signature verifies, 1 one does not, -1 no verifier.
 */
static int
dkimpy(const char *msg, struct dkim_key **keys, size_t nkeys, int nsig)
{
	char		 dir[] = "/tmp/sp-dkim-XXXXXX";
	char		 path[64], script[64];
	char		*argv[12], nbuf[8], recs[4][1024];
	struct buf	*b;
	FILE		*f;
	pid_t		 pid;
	size_t		 i;
	int		 st, argc = 0;

	if (access(PYTHON, X_OK) != 0 || system(PYTHON " -c 'import dkim, "
	    "nacl' 2>/dev/null") != 0)
		return -1;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/msg", dir);
	snprintf(script, sizeof(script), "%s/v.py", dir);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	fwrite(msg, 1, strlen(msg), f);
	fclose(f);
	if ((f = fopen(script, "w")) == NULL)
		abort();
	fputs(verify_py, f);
	fclose(f);
	snprintf(nbuf, sizeof(nbuf), "%d", nsig);
	argv[argc++] = PYTHON;
	argv[argc++] = script;
	argv[argc++] = path;
	argv[argc++] = nbuf;
	for (i = 0; i < nkeys && i < 4; i++) {
		b = buf_new(2048);
		(void)dkim_key_public_b64(keys[i], b);
		snprintf(recs[i], sizeof(recs[i]),
		    "%s._domainkey.%s=v=DKIM1; k=%s; p=%s",
		    dkim_key_selector(keys[i]), dkim_key_domain(keys[i]),
		    dkim_alg_keytype(dkim_key_alg(keys[i])), buf_cstr(b));
		buf_free(&b);
		argv[argc++] = recs[i];
	}
	argv[argc] = NULL;
	if ((pid = fork()) == 0) {
		execv(PYTHON, argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	unlink(path);
	unlink(script);
	rmdir(dir);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static void
test_sign(void)
{
	static const char	msg[] = "From: Joe <joe@example.test>\r\n"
	    "To: ann@b.test\r\nSubject: lunch \t on\r\n  Friday\r\n"
	    "Date: Fri, 27 Nov 2026 13:00:00 +0000\r\n"
	    "Message-ID: <1@example.test>\r\n\r\nSee you  there. \r\n"
	    "\r\n\r\n";
	struct dkim_key	*keys[2];
	struct dkim_msg	 m;
	struct buf	*pem, *out = buf_new(DKIM_SIG_MAX), *all;
	char		 err[256];
	const char	*why;
	char		*t;
	time_t		 now = time(NULL);
	int		 r;

	test_begin("keys from PEM");
	pem = key_pem("RSA", 2048);
	keys[0] = dkim_key_from_pem(pem->data, pem->len, "example.test",
	    "rsa1", err, sizeof(err));
	test_assert(keys[0] != NULL &&
	    dkim_key_alg(keys[0]) == DKIM_RSA_SHA256);
	test_assert(dkim_key_from_pem(pem->data, pem->len, "Bad..name",
	    "rsa1", err, sizeof(err)) == NULL);
	test_assert(dkim_key_from_pem(pem->data, pem->len / 2,
	    "example.test", "rsa1", err, sizeof(err)) == NULL);
	buf_free(&pem);
	pem = key_pem("ED25519", 0);
	keys[1] = dkim_key_from_pem(pem->data, pem->len, "example.test",
	    "ed1", err, sizeof(err));
	test_assert(keys[1] != NULL &&
	    dkim_key_alg(keys[1]) == DKIM_ED25519_SHA256);
	buf_free(&pem);
	pem = key_pem("RSA", 512);
	test_assert(dkim_key_from_pem(pem->data, pem->len, "example.test",
	    "weak", err, sizeof(err)) == NULL && strstr(err, "512") != NULL);
	buf_free(&pem);
	test_end();

	test_begin("signatures verified by dkimpy (rsa-sha256, ed25519)");
	test_assert(dkim_msg_parse(&m, (const unsigned char *)msg,
	    strlen(msg), &why) == 0);
	test_assert(dkim_sign(keys[1], &m, now, out, err,
	    sizeof(err)) == 0);
	test_assert(dkim_sign(keys[0], &m, now, out, err,
	    sizeof(err)) == 0);
	dkim_msg_free(&m);
	test_assert(strncmp(buf_cstr(out), "DKIM-Signature: v=1; "
	    "a=ed25519-sha256; c=relaxed/relaxed;", 57) == 0);
	test_assert(strstr(buf_cstr(out), "a=rsa-sha256") != NULL);
	snprintf(err, sizeof(err), "t=%lld;", (long long)now);
	test_assert(strstr(buf_cstr(out), err) != NULL);
	all = buf_new(DKIM_SIG_MAX + sizeof(msg));
	(void)buf_add(all, out->data, out->len);
	(void)buf_add(all, msg, strlen(msg));
	r = dkimpy(buf_cstr(all), keys, 2, 2);
	if (r == -1) {
		test_end();
		test_skip("dkimpy verification", "python3-dkim or "
		    "python3-nacl not installed");
	} else {
		test_assert(r == 0);
		/* a changed Subject fails (both signatures) */
		t = strstr((char *)all->data, "lunch");
		t[0] = 'L';
		test_assert(dkimpy(buf_cstr(all), keys, 2, 1) == 1);
		t[0] = 'l';
		/* so does an added From (oversigned) */
		buf_reset(out);
		(void)buf_add(out, "From: eve@evil.test\r\n", 21);
		(void)buf_add(out, all->data, all->len);
		test_assert(dkimpy(buf_cstr(out), keys, 2, 1) == 1);
		test_end();
	}
	dkim_key_free(keys[0]);
	dkim_key_free(keys[1]);
	buf_free(&all);
	buf_free(&out);
}

int
main(void)
{
	static void (*tests[])(void) = { test_canon, test_parse, test_sign,
	    NULL };

	if (sodium_init() < 0)
		abort();
	return test_run(tests);
}
