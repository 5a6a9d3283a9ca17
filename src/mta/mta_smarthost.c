/* SPDX-License-Identifier: ISC */
/*
 * mta_smarthost.c - the smarthost's name, port and credentials
 * (mta_smarthost.h).
 *
 * Process:  mta, in its preload (root, before the jail and the threads);
 *           read-only afterwards, from the worker threads.
 * Trust:    the credentials file is the administrator's; it must be
 *           root's and mode 0600 or stricter.
 * SECURITY: the password exists only in sodium_malloc memory (the file's
 *           bytes, wiped; the AUTH PLAIN line, read-only); it is never
 *           logged, never in an error message, argv or the environment.
 * Limits:   MTA_SMARTHOST_AUTH_MAX bytes of file.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "memfd.h"
#include "mta_route.h"
#include "mta_smarthost.h"
#include "banned.h"

#define AUTH_PREFIX	"AUTH PLAIN "

static char	 sh_name[MTA_HOST_MAX + 1];
static uint16_t	 sh_port;
static char	*sh_auth;		/* sodium_malloc, read-only */
static size_t	 sh_authlen;

const char *
mta_smarthost_name(void)
{
	return sh_name[0] != '\0' ? sh_name : NULL;
}

uint16_t
mta_smarthost_port(void)
{
	return sh_port;
}

const char *
mta_smarthost_auth(size_t *len_r)
{
	*len_r = sh_authlen;
	return sh_auth;
}

int
mta_smarthost_auth_line(const char *text, size_t n, char *out, size_t outlen,
    char *err, size_t errlen)
{
	unsigned char	*plain;
	size_t		 i, ue, ps, pe, plen, b64;
	int		 r = -1;

	/* one line: a final LF (CR LF) allowed, no other control byte */
	pe = n;
	if (pe > 0 && text[pe - 1] == '\n')
		pe--;
	if (pe > 0 && text[pe - 1] == '\r')
		pe--;
	for (i = 0; i < pe; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != ' ' &&
		    text[i] != '\t') {
			snprintf(err, errlen, "not one line of \"user "
			    "password\"");
			return -1;
		}
	for (ue = 0; ue < pe && text[ue] != ' ' && text[ue] != '\t'; ue++)
		;
	for (ps = ue; ps < pe && (text[ps] == ' ' || text[ps] == '\t'); ps++)
		;
	if (ue == 0 || ps == pe || ue == ps) {
		snprintf(err, errlen, "not \"user password\"");
		return -1;
	}
	/* RFC 4616: authzid (empty) NUL authcid NUL passwd */
	plen = 1 + ue + 1 + (pe - ps);
	b64 = sodium_base64_encoded_len(plen,
	    sodium_base64_VARIANT_ORIGINAL);
	if (sizeof(AUTH_PREFIX) - 1 + b64 + 2 > outlen) {
		snprintf(err, errlen, "credentials too long");
		return -1;
	}
	if ((plain = sodium_malloc(plen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	plain[0] = '\0';
	memcpy(plain + 1, text, ue);
	plain[1 + ue] = '\0';
	memcpy(plain + 2 + ue, text + ps, pe - ps);
	memcpy(out, AUTH_PREFIX, sizeof(AUTH_PREFIX) - 1);
	sodium_bin2base64(out + sizeof(AUTH_PREFIX) - 1, b64, plain, plen,
	    sodium_base64_VARIANT_ORIGINAL);
	/* b64 counts the NUL: replace it with CR LF */
	i = sizeof(AUTH_PREFIX) - 1 + b64 - 1;
	out[i++] = '\r';
	out[i++] = '\n';
	r = (int)i;
	sodium_free(plain);
	return r;
}

/* The file into sodium_malloc memory; its length, or -1. */
static int
read_secret(const char *path, char *buf, size_t cap, size_t *len_r,
    char *err, size_t errlen)
{
	struct stat	 st;
	size_t		 off;
	int		 fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "smarthost-auth-file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "smarthost-auth-file %s: not a regular "
		    "file", path);
		close(fd);
		return -1;
	}
	/* SECURITY: a password file others may read is refused */
	if (st.st_uid != 0 || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "smarthost-auth-file %s: must be owned "
		    "by root and not readable by group or others (chmod 600)",
		    path);
		close(fd);
		return -1;
	}
	if (st.st_size <= 0 || (unsigned long long)st.st_size >= cap) {
		snprintf(err, errlen, "smarthost-auth-file %s: empty or "
		    "larger than %d bytes", path, MTA_SMARTHOST_AUTH_MAX);
		close(fd);
		return -1;
	}
	off = (size_t)st.st_size;
	r = memfd_read(fd, buf, off);
	close(fd);
	if (r == -1) {
		snprintf(err, errlen, "smarthost-auth-file %s: short read",
		    path);
		return -1;
	}
	*len_r = off;
	return 0;
}

int
mta_smarthost_preload(const char *hostport, const char *authfile, char *err,
    size_t errlen)
{
	const char	*colon, *errstr;
	char		*text, *line;
	size_t		 n, len = 0, linecap;
	int		 r;

	if (hostport == NULL)
		return 0;
	if ((colon = strrchr(hostport, ':')) == NULL ||
	    (n = (size_t)(colon - hostport)) == 0 || n >= sizeof(sh_name)) {
		snprintf(err, errlen, "smarthost: bad option");
		return -1;
	}
	memcpy(sh_name, hostport, n);
	sh_name[n] = '\0';
	sh_port = (uint16_t)strtonum(colon + 1, 1, 65535, &errstr);
	if (errstr != NULL || !mta_host_ok(sh_name)) {
		snprintf(err, errlen, "smarthost: bad option");
		sh_name[0] = '\0';
		return -1;
	}
	if (authfile == NULL)
		return 0;
	text = sodium_malloc(MTA_SMARTHOST_AUTH_MAX);
	linecap = MTA_SMARTHOST_AUTH_MAX * 2;
	line = sodium_malloc(linecap);
	if (text == NULL || line == NULL)
		fatalx("mta: sodium_malloc");
	r = read_secret(authfile, text, MTA_SMARTHOST_AUTH_MAX, &len, err,
	    errlen);
	if (r == 0) {
		char	why[128];

		r = mta_smarthost_auth_line(text, len, line, linecap, why,
		    sizeof(why));
		if (r == -1)
			snprintf(err, errlen, "smarthost-auth-file %s: %s",
			    authfile, why);
	}
	sodium_free(text);		/* wipes */
	if (r == -1) {
		sodium_free(line);
		return -1;
	}
	sh_auth = line;
	sh_authlen = (size_t)r;
	(void)sodium_mprotect_readonly(sh_auth);
	return 0;
}
