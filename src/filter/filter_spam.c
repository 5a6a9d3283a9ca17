/* SPDX-License-Identifier: ISC */
/*
 * filter_spam.c - rspamd for the filter service (filter_spam.h): the
 * /checkv2 request over libcurl, its JSON reply through jansson, and the
 * header lines we make of it.  The only file that includes libcurl's
 * and jansson's headers for the filter.
 *
 * Process:  filter (each scanning thread has its own client; the loop
 *           thread calls spam_global_init before the jail).
 * Trust:    rspamd's reply is semi-trusted (rspamd parses hostile mail):
 *           every field's type is checked, numbers are clamped, strings
 *           other than the action and the symbol names (reduced to
 *           [A-Z0-9_]) are ignored; what reaches a header line is our
 *           own text (SECURITY-TESTS T55).  The envelope we send is ours
 *           but came from a client: a value with a control character is
 *           not sent, so nothing can add a header to the request.
 * Limits:   SPAM_REPLY_MAX bytes of reply, SPAM_SYMBOLS_MAX bytes of
 *           symbol names, SPAM_SCORE_CLAMP, SPAM_HTTP_VALUE_MAX bytes of
 *           an envelope value, jansson's nesting limit (2048), the
 *           caller's timeout for the whole request.  The jail: numeric
 *           addresses only (no resolver), http only (no CA file), no
 *           proxy from the environment, no thread of our own.
 * See also: RECIPES.md 3 (rspamd 3.4), filter_work.c (the threads).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "xmalloc.h"
#include "filter_spam.h"
#include "banned.h"

#define SPAM_URL_MAX	128		/* the configured URL */
#define SPAM_TOP_MAX	(SPAM_SYMBOLS_MAX / 2)	/* names that can fit:
					   one byte and a comma each */
#define SPAM_FOLD_COL	78		/* RFC 5322 2.1.1 */
#define SPAM_REPLY_INIT	(16 * 1024)	/* first reply buffer */

struct spam_client {
	CURL		*curl;
	char		 url[SPAM_URL_MAX];	/* http://ADDR:PORT/checkv2 */
	char		 where[SPAM_URL_MAX];	/* ADDR:PORT, for errors */
	/* the request being sent */
	int		 fd;
	size_t		 size, off;
	int		 rderr;		/* 0, an errno, or -1: short */
	/* the reply */
	char		*reply;
	size_t		 rlen, rcap;
	bool		 toolarge, nomem;
	char		 errbuf[CURL_ERROR_SIZE];
};

/* --- the reply ------------------------------------------------------- */

/* Symbols that carry an authentication result, rspamd 3.4's names. */
static const struct {
	const char	*name;
	int		 kind;		/* 0 spf, 1 dkim, 2 dmarc */
	enum spam_auth	 res;
} spam_auth_syms[] = {
	{ "R_SPF_ALLOW",		0, SPAM_AUTH_PASS },
	{ "R_SPF_FAIL",			0, SPAM_AUTH_FAIL },
	{ "R_SPF_SOFTFAIL",		0, SPAM_AUTH_SOFTFAIL },
	{ "R_SPF_NEUTRAL",		0, SPAM_AUTH_NEUTRAL },
	{ "R_SPF_NA",			0, SPAM_AUTH_NONE },
	{ "R_SPF_DNSFAIL",		0, SPAM_AUTH_TEMPERROR },
	{ "R_SPF_PERMFAIL",		0, SPAM_AUTH_PERMERROR },
	{ "R_DKIM_ALLOW",		1, SPAM_AUTH_PASS },
	{ "R_DKIM_REJECT",		1, SPAM_AUTH_FAIL },
	{ "R_DKIM_TEMPFAIL",		1, SPAM_AUTH_TEMPERROR },
	{ "R_DKIM_PERMFAIL",		1, SPAM_AUTH_PERMERROR },
	{ "R_DKIM_NA",			1, SPAM_AUTH_NONE },
	{ "DMARC_POLICY_ALLOW",		2, SPAM_AUTH_PASS },
	{ "DMARC_POLICY_REJECT",	2, SPAM_AUTH_FAIL },
	{ "DMARC_POLICY_QUARANTINE",	2, SPAM_AUTH_FAIL },
	{ "DMARC_POLICY_SOFTFAIL",	2, SPAM_AUTH_FAIL },
	{ "DMARC_NA",			2, SPAM_AUTH_NONE },
	{ "DMARC_DNSFAIL",		2, SPAM_AUTH_TEMPERROR },
	{ "DMARC_BAD_POLICY",		2, SPAM_AUTH_PERMERROR },
};

/* How bad a result is, for several symbols of one kind: the worst wins. */
static int
spam_auth_rank(enum spam_auth a)
{
	switch (a) {
	case SPAM_AUTH_PASS:		return 1;
	case SPAM_AUTH_NONE:		return 2;
	case SPAM_AUTH_NEUTRAL:		return 3;
	case SPAM_AUTH_SOFTFAIL:	return 4;
	case SPAM_AUTH_TEMPERROR:	return 5;
	case SPAM_AUTH_PERMERROR:	return 6;
	case SPAM_AUTH_FAIL:		return 7;
	default:			return 0;
	}
}

static const char *const spam_actions[] = {
	[SPAM_NO_ACTION] = "no action",
	[SPAM_GREYLIST] = "greylist",
	[SPAM_ADD_HEADER] = "add header",
	[SPAM_REWRITE_SUBJECT] = "rewrite subject",
	[SPAM_SOFT_REJECT] = "soft reject",
	[SPAM_REJECT] = "reject",
};

const char *
spam_action_name(enum spam_action a)
{
	if ((unsigned int)a < sizeof(spam_actions) / sizeof(spam_actions[0]))
		return spam_actions[a];
	return "unknown";
}

const char *
spam_auth_word(enum spam_auth a)
{
	switch (a) {
	case SPAM_AUTH_PASS:		return "pass";
	case SPAM_AUTH_FAIL:		return "fail";
	case SPAM_AUTH_SOFTFAIL:	return "softfail";
	case SPAM_AUTH_NEUTRAL:		return "neutral";
	case SPAM_AUTH_TEMPERROR:	return "temperror";
	case SPAM_AUTH_PERMERROR:	return "permerror";
	default:			return "none";
	}
}

/* A score in hundredths, clamped; v is finite. */
static int64_t
spam_hundredths(double v)
{
	if (v >= SPAM_SCORE_CLAMP / 100.0)
		return SPAM_SCORE_CLAMP;
	if (v <= -SPAM_SCORE_CLAMP / 100.0)
		return -SPAM_SCORE_CLAMP;
	/* to the nearest, halves away from zero (4.699999 is 470) */
	v *= 100.0;
	return v < 0 ? -(int64_t)(-v + 0.5) : (int64_t)(v + 0.5);
}

static bool
spam_symchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The length of name reduced to [A-Z0-9_]. */
static size_t
spam_symlen(const char *name)
{
	size_t	n = 0;

	for (; *name != '\0'; name++)
		if (spam_symchar(*name))
			n++;
	return n;
}

/* A printable, one-line copy of a message that may quote the reply. */
static void
spam_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
spam_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;
	size_t	i;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (i = 0; err[i] != '\0'; i++)
		if ((unsigned char)err[i] < 0x20 ||
		    (unsigned char)err[i] > 0x7e)
			err[i] = '?';
}

/*
 * The length of the valid UTF-8 sequence at s (n bytes left), or 0
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
 */
static size_t
spam_utf8_seq(const unsigned char *s, size_t n)
{
	size_t		len, i;
	uint32_t	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * NULL when the len bytes at s are valid UTF-8; otherwise a copy with
 * each byte of an invalid sequence replaced by '?' (the caller frees it).
 * Bytes over 0x7f are only legal inside JSON strings, so this changes
 * no structure.  Why not refuse: rspamd copies some of the message's own
 * bytes into its reply (the Message-ID, say), and a sender must not be
 * able to make every scan of his mail fail.
 */
static char *
spam_utf8_fix(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*copy = NULL;
	size_t			 i, k;

	for (i = 0; i < len; i += k) {
		if ((k = spam_utf8_seq(u + i, len - i)) != 0)
			continue;
		if (copy == NULL) {
			copy = xmalloc(len);
			memcpy(copy, s, len);
		}
		copy[i] = '?';
		k = 1;
	}
	return copy;
}

/* A symbol that scored, for the list. */
struct spam_cand {
	const char	*name;		/* the reply's key */
	double		 mag;		/* |score| */
};

/* a comes before b: the higher |score|, then the name. */
static bool
spam_cand_before(const struct spam_cand *a, const struct spam_cand *b)
{
	if (a->mag != b->mag)
		return a->mag > b->mag;
	return strcmp(a->name, b->name) < 0;
}

/*
 * Keep the SPAM_TOP_MAX best candidates in order in top (*n of them):
 * more names than that can never fit in struct spam_result's symbols.
 */
static void
spam_cand_add(struct spam_cand *top, size_t *n, const struct spam_cand *c)
{
	size_t	lo = 0, hi = *n, mid;

	if (*n == SPAM_TOP_MAX && !spam_cand_before(c, &top[*n - 1]))
		return;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (spam_cand_before(&top[mid], c))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n < SPAM_TOP_MAX)
		(*n)++;
	memmove(&top[lo + 1], &top[lo], (*n - 1 - lo) * sizeof(top[0]));
	top[lo] = *c;
}

/* Fill r->symbols from the candidates, cut at a name that does not fit. */
static void
spam_symbols_write(struct spam_result *r, const struct spam_cand *top,
    size_t n)
{
	size_t		 i, off = 0, need;
	const char	*p;

	for (i = 0; i < n; i++) {
		need = spam_symlen(top[i].name) + (off > 0);
		if (need >= sizeof(r->symbols) - off)
			break;
		if (off > 0)
			r->symbols[off++] = ',';
		for (p = top[i].name; *p != '\0'; p++)
			if (spam_symchar(*p))
				r->symbols[off++] = *p;
	}
	r->symbols[off] = '\0';
}

/* A member that must be a number: its value in hundredths. */
static int
spam_get_score(json_t *root, const char *key, int64_t *v, char *err,
    size_t errlen)
{
	json_t	*j;
	double	 d;

	if ((j = json_object_get(root, key)) == NULL) {
		spam_errf(err, errlen, "no \"%s\" in the reply", key);
		return -1;
	}
	if (!json_is_number(j)) {
		spam_errf(err, errlen, "\"%s\" is not a number", key);
		return -1;
	}
	if (isnan(d = json_number_value(j))) {
		spam_errf(err, errlen, "\"%s\" is not a number", key);
		return -1;
	}
	*v = spam_hundredths(d);
	return 0;
}

static int
spam_get_symbols(json_t *syms, struct spam_result *r, char *err,
    size_t errlen)
{
	struct spam_cand	 top[SPAM_TOP_MAX], c;
	size_t			 ntop = 0, i;
	const char		*key;
	json_t			*val, *sc;
	int			 rank[3] = { 0, 0, 0 }, k;
	enum spam_auth		*kind[3] = { &r->spf, &r->dkim, &r->dmarc };
	double			 d;

	if (!json_is_object(syms)) {
		spam_errf(err, errlen, "\"symbols\" is not an object");
		return -1;
	}
	json_object_foreach(syms, key, val) {
		if (!json_is_object(val)) {
			spam_errf(err, errlen, "a symbol is not an object");
			return -1;
		}
		d = 0.0;
		if ((sc = json_object_get(val, "score")) != NULL) {
			if (!json_is_number(sc) ||
			    isnan(d = json_number_value(sc))) {
				spam_errf(err, errlen,
				    "a symbol's score is not a number");
				return -1;
			}
		}
		for (i = 0; i < sizeof(spam_auth_syms) /
		    sizeof(spam_auth_syms[0]); i++) {
			if (strcmp(key, spam_auth_syms[i].name) != 0)
				continue;
			k = spam_auth_syms[i].kind;
			if (spam_auth_rank(spam_auth_syms[i].res) > rank[k]) {
				rank[k] = spam_auth_rank(spam_auth_syms[i].res);
				*kind[k] = spam_auth_syms[i].res;
			}
		}
		if (d == 0.0 || spam_symlen(key) == 0)
			continue;
		c.name = key;
		c.mag = d < 0 ? -d : d;
		spam_cand_add(top, &ntop, &c);
	}
	spam_symbols_write(r, top, ntop);
	return 0;
}

static int
spam_parse_tree(json_t *root, struct spam_result *r, char *err,
    size_t errlen)
{
	json_t		*j;
	const char	*s;
	size_t		 slen, i;

	if (!json_is_object(root)) {
		spam_errf(err, errlen, "the reply is not a JSON object");
		return -1;
	}
	if (spam_get_score(root, "score", &r->score, err, errlen) == -1 ||
	    spam_get_score(root, "required_score", &r->required, err,
	    errlen) == -1)
		return -1;
	if ((j = json_object_get(root, "action")) == NULL ||
	    !json_is_string(j)) {
		spam_errf(err, errlen, "no \"action\" string in the reply");
		return -1;
	}
	/* an exact match, NULs and all (JSON_ALLOW_NUL) */
	s = json_string_value(j);
	slen = json_string_length(j);
	r->action = SPAM_UNKNOWN;
	for (i = 0; i < sizeof(spam_actions) / sizeof(spam_actions[0]); i++)
		if (slen == strlen(spam_actions[i]) &&
		    memcmp(s, spam_actions[i], slen) == 0)
			r->action = (enum spam_action)i;
	if ((j = json_object_get(root, "is_skipped")) != NULL) {
		if (!json_is_boolean(j)) {
			spam_errf(err, errlen, "\"is_skipped\" is not a "
			    "boolean");
			return -1;
		}
		r->skipped = json_is_true(j);
	}
	if ((j = json_object_get(root, "symbols")) != NULL &&
	    spam_get_symbols(j, r, err, errlen) == -1)
		return -1;
	return 0;
}

int
spam_parse(const char *json, size_t len, struct spam_result *r, char *err,
    size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root;
	char		*fixed;
	int		 rv;

	memset(r, 0, sizeof(*r));
	if (len > SPAM_REPLY_MAX) {
		spam_errf(err, errlen, "reply longer than %d bytes",
		    SPAM_REPLY_MAX);
		return -1;
	}
	if (len == 0) {
		spam_errf(err, errlen, "empty reply");
		return -1;
	}
	fixed = spam_utf8_fix(json, len);
	/*
	 * SECURITY: duplicate keys refused (no second "score" that another
	 * reader would take); jansson limits nesting to 2048 levels.
	 */
	root = json_loadb(fixed != NULL ? fixed : json, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	free(fixed);
	if (root == NULL) {
		spam_errf(err, errlen, "malformed JSON at line %d column %d: "
		    "%s", jerr.line, jerr.column, jerr.text);
		return -1;
	}
	rv = spam_parse_tree(root, r, err, errlen);
	json_decref(root);
	if (rv == -1)
		memset(r, 0, sizeof(*r));
	return rv;
}

/* --- the header lines ------------------------------------------------ */

struct spam_out {
	char	*buf;
	size_t	 len, off, col;
	bool	 full;
};

static void
spam_put(struct spam_out *o, const char *s, size_t n)
{
	size_t	i;

	if (o->full || n >= o->len - o->off) {	/* keep a byte for NUL */
		o->full = true;
		return;
	}
	memcpy(o->buf + o->off, s, n);
	o->off += n;
	for (i = 0; i < n; i++)
		o->col = s[i] == '\n' ? 0 : o->col + 1;
}

static void
spam_puts(struct spam_out *o, const char *s)
{
	spam_put(o, s, strlen(s));
}

/*
 * An item after a separator: on this line when it fits in
 * SPAM_FOLD_COL columns (with room for one more byte: a comma or
 * semicolon the caller may add), else on a continuation line.
 */
static void
spam_put_item(struct spam_out *o, const char *sep, const char *s, size_t n)
{
	if (o->col + strlen(sep) + n + 1 > SPAM_FOLD_COL) {
		spam_puts(o, "\r\n\t");
		spam_put(o, s, n);
	} else {
		spam_puts(o, sep);
		spam_put(o, s, n);
	}
}

/* " key=valueend", or on a continuation line. */
static void
spam_put_result(struct spam_out *o, const char *key, const char *value,
    const char *end)
{
	char	item[32 + SPAM_HOSTNAME_MAX];
	int	n;

	n = snprintf(item, sizeof(item), "%s%s%s", key, value, end);
	if (n < 0 || (size_t)n >= sizeof(item)) {
		o->full = true;
		return;
	}
	spam_put_item(o, " ", item, (size_t)n);
}

static void
spam_put_score(struct spam_out *o, int64_t v)
{
	char	num[32];
	int64_t	a;
	int	n;

	if (v > SPAM_SCORE_CLAMP)
		v = SPAM_SCORE_CLAMP;
	if (v < -SPAM_SCORE_CLAMP)
		v = -SPAM_SCORE_CLAMP;
	a = v < 0 ? -v : v;
	n = snprintf(num, sizeof(num), "%s%lld.%02lld", v < 0 ? "-" : "",
	    (long long)(a / 100), (long long)(a % 100));
	if (n < 0 || (size_t)n >= sizeof(num)) {
		o->full = true;
		return;
	}
	spam_put(o, num, (size_t)n);
}

/* A host or domain name we may print: [A-Za-z0-9.-], not too long. */
static const char *
spam_safe_name(const char *s)
{
	size_t	i;

	if (s == NULL)
		return "unknown";
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= SPAM_HOSTNAME_MAX)
			return "unknown";
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '-'))
			return "unknown";
	}
	return i == 0 ? "unknown" : s;
}

static void
spam_put_tests(struct spam_out *o, const struct spam_result *r)
{
	char	 name[SPAM_SYMBOLS_MAX];
	size_t	 i, n = 0, end;
	bool	 first = true;

	end = strnlen(r->symbols, sizeof(r->symbols));
	for (i = 0; i <= end; i++) {
		if (i < end && r->symbols[i] != ',') {
			/* SECURITY: only [A-Z0-9_] from any struct */
			if (spam_symchar(r->symbols[i]))
				name[n++] = r->symbols[i];
			continue;
		}
		if (n == 0)
			continue;
		if (first)
			spam_put(o, name, n);
		else {
			spam_puts(o, ",");
			spam_put_item(o, "", name, n);
		}
		first = false;
		n = 0;
	}
	if (first)
		spam_puts(o, "none");
}

int
spam_headers(const struct spam_result *r, unsigned int which, bool tag,
    const char *hostname, const char *mailfrom_domain, char *out, size_t len)
{
	struct spam_out	 o = { out, len, 0, 0, len == 0 };
	bool		 nul;

	if (which & SPAM_HDR_SCORE) {
		spam_puts(&o, "X-Spam-Score: ");
		spam_put_score(&o, r->score);
		spam_puts(&o, "\r\n");
	}
	if (which & SPAM_HDR_STATUS) {
		spam_puts(&o, "X-Spam-Status: ");
		spam_puts(&o, tag ? "Yes" : "No");
		spam_puts(&o, ", score=");
		spam_put_score(&o, r->score);
		spam_puts(&o, " required=");
		spam_put_score(&o, r->required);
		spam_puts(&o, " tests=");
		spam_put_tests(&o, r);
		spam_puts(&o, "\r\n");
	}
	if (which & SPAM_HDR_AUTH) {
		/* RFC 8601 2.2: authserv-id, then the results */
		spam_puts(&o, "Authentication-Results: ");
		spam_puts(&o, spam_safe_name(hostname));
		spam_puts(&o, ";");
		nul = mailfrom_domain == NULL || mailfrom_domain[0] == '\0';
		spam_put_result(&o, "spf=", spam_auth_word(r->spf),
		    nul ? ";" : "");
		if (!nul)
			spam_put_result(&o, "smtp.mailfrom=",
			    spam_safe_name(mailfrom_domain), ";");
		spam_put_result(&o, "dkim=", spam_auth_word(r->dkim), ";");
		spam_put_result(&o, "dmarc=", spam_auth_word(r->dmarc), "");
		spam_puts(&o, "\r\n");
	}
	if (o.full)
		return -1;
	out[o.off] = '\0';
	return (int)o.off;
}

/* --- the client ------------------------------------------------------ */

int
spam_global_init(void)
{
	const curl_version_info_data	*vi;
	const char *const		*p;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	if ((vi = curl_version_info(CURLVERSION_NOW)) == NULL ||
	    vi->protocols == NULL)
		return -1;
	for (p = vi->protocols; *p != NULL; p++)
		if (strcmp(*p, "http") == 0)
			break;
	if (*p == NULL)
		return -1;
	/*
	 * jansson seeds its hash function on first use from /dev/urandom,
	 * which the jail does not have: seed it now.
	 */
	json_object_seed(0);
	return 0;
}

/* Digits of a port number, no sign or leading zero: 1..65535, or 0. */
static unsigned int
spam_port(const char *s, size_t n)
{
	unsigned int	v = 0;
	size_t		i;

	if (n == 0 || n > 5 || s[0] == '0')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	return v <= 65535 ? v : 0;
}

/*
 * http://IPV4[:PORT][/] or http://[IPV6][:PORT][/]: 0 with the URL of
 * /checkv2, "ADDR:PORT" and the address family; -1 otherwise.
 */
static int
spam_url_parse(const char *url, struct spam_client *c, long *ipresolve)
{
	char		 host[INET6_ADDRSTRLEN], canon[INET6_ADDRSTRLEN];
	unsigned char	 addr[sizeof(struct in6_addr)];
	const char	*p, *e;
	unsigned int	 port = 80;
	size_t		 n;
	int		 af, k;

	if (url == NULL || strnlen(url, SPAM_URL_MAX) >= SPAM_URL_MAX ||
	    strncasecmp(url, "http://", 7) != 0)
		return -1;
	p = url + 7;
	if (*p == '[') {
		if ((e = strchr(p, ']')) == NULL)
			return -1;
		p++;
		af = AF_INET6;
		*ipresolve = CURL_IPRESOLVE_V6;
	} else {
		e = p + strcspn(p, ":/");
		af = AF_INET;
		*ipresolve = CURL_IPRESOLVE_V4;
	}
	if ((n = (size_t)(e - p)) == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	/* inet_pton: dotted quads without leading zeros; no %zone */
	if (inet_pton(af, host, addr) != 1 ||
	    inet_ntop(af, addr, canon, sizeof(canon)) == NULL)
		return -1;
	p = e + (af == AF_INET6);
	if (*p == ':') {
		p++;
		n = strcspn(p, "/");
		if ((port = spam_port(p, n)) == 0)
			return -1;
		p += n;
	}
	if (*p == '/')
		p++;
	if (*p != '\0')
		return -1;
	k = snprintf(c->where, sizeof(c->where), af == AF_INET6 ?
	    "[%s]:%u" : "%s:%u", canon, port);
	if (k < 0 || (size_t)k >= sizeof(c->where))
		return -1;
	k = snprintf(c->url, sizeof(c->url), "http://%s/checkv2", c->where);
	if (k < 0 || (size_t)k >= sizeof(c->url))
		return -1;
	return 0;
}

/* The body, from the memfd; never more than curl's buffer at a time. */
static size_t
spam_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct spam_client	*c = arg;
	size_t			 want;
	ssize_t			 n;

	if (size != 0 && nitems > SIZE_MAX / size)
		return CURL_READFUNC_ABORT;
	want = size * nitems;
	if (c->off >= c->size)
		return 0;
	if (want > c->size - c->off)
		want = c->size - c->off;
	do {
		n = pread(c->fd, buf, want, (off_t)c->off);
	} while (n == -1 && errno == EINTR);
	if (n <= 0) {
		c->rderr = n == 0 ? -1 : errno;
		return CURL_READFUNC_ABORT;
	}
	c->off += (size_t)n;
	return (size_t)n;
}

/* curl rewinds when a kept connection was closed and it sends again. */
static int
spam_seek_cb(void *arg, curl_off_t offset, int origin)
{
	struct spam_client	*c = arg;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > c->size)
		return CURL_SEEKFUNC_FAIL;
	c->off = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* The reply, into a buffer kept between requests, SPAM_REPLY_MAX at most. */
static size_t
spam_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct spam_client	*c = arg;
	size_t			 n, cap;
	char			*nb;

	if (size != 0 && nmemb > SIZE_MAX / size) {
		c->toolarge = true;
		return 0;
	}
	n = size * nmemb;
	if (n > SPAM_REPLY_MAX - c->rlen) {
		c->toolarge = true;
		return 0;		/* CURLE_WRITE_ERROR */
	}
	if (n > c->rcap - c->rlen) {
		cap = c->rcap == 0 ? SPAM_REPLY_INIT : c->rcap;
		while (cap - c->rlen < n)
			cap = cap > SPAM_REPLY_MAX / 2 ? SPAM_REPLY_MAX :
			    cap * 2;
		if ((nb = realloc(c->reply, cap)) == NULL) {
			c->nomem = true;
			return 0;
		}
		c->reply = nb;
		c->rcap = cap;
	}
	memcpy(c->reply + c->rlen, ptr, n);
	c->rlen += n;
	return n;
}

struct spam_client *
spam_client_new(const char *url, char *err, size_t errlen)
{
	struct spam_client	*c;
	long			 ipresolve;
	CURLcode		 rc = CURLE_OK;

	c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	if (spam_url_parse(url, c, &ipresolve) == -1) {
		spam_errf(err, errlen, "rspamd URL is not http://ADDRESS:PORT "
		    "with a numeric IPv4 or [IPv6] address");
		free(c);
		return NULL;
	}
	if ((c->curl = curl_easy_init()) == NULL) {
		spam_errf(err, errlen, "curl_easy_init failed");
		free(c);
		return NULL;
	}
#define SPAM_SET(opt, val) \
	do { if (rc == CURLE_OK) rc = curl_easy_setopt(c->curl, opt, val); } \
	while (0)
	SPAM_SET(CURLOPT_URL, c->url);
	/* SECURITY: http to rspamd only: no redirect, no other scheme */
	SPAM_SET(CURLOPT_PROTOCOLS_STR, "http");
	SPAM_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http");
	SPAM_SET(CURLOPT_FOLLOWLOCATION, 0L);
	SPAM_SET(CURLOPT_PROXY, "");		/* not http_proxy's */
	SPAM_SET(CURLOPT_NOSIGNAL, 1L);		/* threads: no SIGALRM */
	SPAM_SET(CURLOPT_IPRESOLVE, ipresolve);
	SPAM_SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SPAM_SET(CURLOPT_POST, 1L);
	SPAM_SET(CURLOPT_READFUNCTION, spam_read_cb);
	SPAM_SET(CURLOPT_READDATA, c);
	SPAM_SET(CURLOPT_SEEKFUNCTION, spam_seek_cb);
	SPAM_SET(CURLOPT_SEEKDATA, c);
	SPAM_SET(CURLOPT_WRITEFUNCTION, spam_write_cb);
	SPAM_SET(CURLOPT_WRITEDATA, c);
	/* refused at once when rspamd announces a longer reply */
	SPAM_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SPAM_REPLY_MAX);
	SPAM_SET(CURLOPT_ERRORBUFFER, c->errbuf);
	SPAM_SET(CURLOPT_MAXCONNECTS, 1L);
	SPAM_SET(CURLOPT_TCP_NODELAY, 1L);
#undef SPAM_SET
	if (rc != CURLE_OK) {
		spam_errf(err, errlen, "curl_easy_setopt: %s",
		    curl_easy_strerror(rc));
		spam_client_free(c);
		return NULL;
	}
	return c;
}

void
spam_client_free(struct spam_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->reply);
	free(c);
}

/*
 * A value we may send as an HTTP header: not empty, not too long, no
 * control character (SECURITY: a CR or LF would end the header line and
 * start another, of the sender's choosing).
 */
static bool
spam_value_ok(const char *v)
{
	size_t	i;

	if (v == NULL || v[0] == '\0')
		return false;
	for (i = 0; v[i] != '\0'; i++)
		if (i >= SPAM_HTTP_VALUE_MAX || (unsigned char)v[i] < 0x20 ||
		    (unsigned char)v[i] == 0x7f)
			return false;
	return true;
}

/* Append "name: value" when value may be sent; -1 when out of memory. */
static int
spam_hdr_add(struct curl_slist **list, const char *name, const char *value)
{
	struct curl_slist	*l;
	char			 line[32 + SPAM_HTTP_VALUE_MAX];
	int			 n;

	if (!spam_value_ok(value))
		return 0;
	n = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return 0;
	if ((l = curl_slist_append(*list, line)) == NULL)
		return -1;
	*list = l;
	return 0;
}

static struct curl_slist *
spam_hdr_build(const struct spam_req *q)
{
	struct curl_slist	*list = NULL, *l;
	size_t			 i;
	int			 rv = 0;

	/*
	 * Expect: empty, or libcurl waits for a 100-continue rspamd never
	 * sends; Content-Type: none (curl's default names a form).
	 */
	if ((l = curl_slist_append(list, "Expect:")) == NULL)
		return NULL;
	list = l;
	if ((l = curl_slist_append(list, "Content-Type:")) == NULL)
		goto fail;
	list = l;
	rv |= spam_hdr_add(&list, "IP", q->ip);
	rv |= spam_hdr_add(&list, "Helo", q->helo);
	/* rspamd reads "<>" as the null sender */
	if (q->from != NULL && q->from[0] == '\0')
		rv |= spam_hdr_add(&list, "From", "<>");
	else
		rv |= spam_hdr_add(&list, "From", q->from);
	for (i = 0; i < q->nrcpts && q->rcpts != NULL; i++)
		rv |= spam_hdr_add(&list, "Rcpt", q->rcpts[i]);
	rv |= spam_hdr_add(&list, "User", q->user);
	rv |= spam_hdr_add(&list, "Queue-Id", q->queue_id);
	rv |= spam_hdr_add(&list, "Hostname", q->hostname);
	if (rv != 0)
		goto fail;
	return list;
fail:
	curl_slist_free_all(list);
	return NULL;
}

/* Why curl_easy_perform failed, in words. */
static void
spam_curl_err(struct spam_client *c, const struct spam_req *q, CURLcode rc,
    char *err, size_t errlen)
{
	char		 ebuf[128];
	const char	*es;
	long		 oserr = 0;

	if (c->toolarge || rc == CURLE_FILESIZE_EXCEEDED) {
		spam_errf(err, errlen, "rspamd at %s: reply longer than %d "
		    "bytes", c->where, SPAM_REPLY_MAX);
		return;
	}
	if (c->nomem) {
		spam_errf(err, errlen, "rspamd at %s: out of memory for the "
		    "reply", c->where);
		return;
	}
	if (c->rderr != 0) {
		es = c->rderr == -1 ? "message shorter than its size" :
		    strerror_r(c->rderr, ebuf, sizeof(ebuf));
		spam_errf(err, errlen, "cannot read the message: %s", es);
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		spam_errf(err, errlen, "rspamd at %s: timeout (no reply "
		    "within %ld ms)", c->where, q->timeout_ms);
		return;
	case CURLE_COULDNT_CONNECT:
		(void)curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
		spam_errf(err, errlen, "rspamd at %s: cannot connect: %s",
		    c->where, oserr == ECONNREFUSED ? "connection refused" :
		    oserr != 0 ? strerror_r((int)oserr, ebuf, sizeof(ebuf)) :
		    c->errbuf);
		return;
	default:
		spam_errf(err, errlen, "rspamd at %s: %s%s%s", c->where,
		    curl_easy_strerror(rc), c->errbuf[0] != '\0' ? ": " : "",
		    c->errbuf);
		return;
	}
}

/*
 * rspamd's {"error": "..."} in a refusal, NUL-terminated in the reply
 * buffer, or NULL.  Only for the log: spam_errf() makes it printable.
 */
static const char *
spam_reply_error(struct spam_client *c)
{
	json_t		*root, *e;
	size_t		 n;

	if (c->rlen == 0 || (root = json_loadb(c->reply, c->rlen, 0,
	    NULL)) == NULL)
		return NULL;
	if ((e = json_object_get(root, "error")) == NULL ||
	    !json_is_string(e) || (n = json_string_length(e)) == 0) {
		json_decref(root);
		return NULL;
	}
	/* the text is no longer than the reply it came from */
	memcpy(c->reply, json_string_value(e), n);
	c->reply[n] = '\0';
	c->rlen = 0;
	json_decref(root);
	return c->reply;
}

int
spam_check(struct spam_client *c, const struct spam_req *q,
    struct spam_result *r, char *err, size_t errlen)
{
	struct curl_slist	*hdrs;
	const char		*rerr;
	char			 perr[256];
	CURLcode		 rc = CURLE_OK;
	long			 status = 0;

	memset(r, 0, sizeof(*r));
	if (q->fd < 0 || q->timeout_ms <= 0 ||
	    (uint64_t)q->size > (uint64_t)INT64_MAX) {
		spam_errf(err, errlen, "bad request (fd, size or timeout)");
		return -1;
	}
	if ((hdrs = spam_hdr_build(q)) == NULL) {
		spam_errf(err, errlen, "out of memory for the request");
		return -1;
	}
	c->fd = q->fd;
	c->size = q->size;
	c->off = 0;
	c->rderr = 0;
	c->rlen = 0;
	c->toolarge = c->nomem = false;
	c->errbuf[0] = '\0';
	if ((rc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs)) ==
	    CURLE_OK &&
	    (rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)q->size)) == CURLE_OK &&
	    (rc = curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS,
	    q->timeout_ms)) == CURLE_OK)
		rc = curl_easy_perform(c->curl);
	(void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	c->fd = -1;
	if (rc != CURLE_OK) {
		spam_curl_err(c, q, rc, err, errlen);
		return -1;
	}
	(void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		rerr = spam_reply_error(c);
		spam_errf(err, errlen, "rspamd at %s: HTTP status %ld%s%.128s",
		    c->where, status, rerr != NULL ? ": " : "",
		    rerr != NULL ? rerr : "");
		return -1;
	}
	if (spam_parse(c->reply, c->rlen, r, perr, sizeof(perr)) == -1) {
		spam_errf(err, errlen, "rspamd at %s: malformed reply: %s",
		    c->where, perr);
		return -1;
	}
	return 0;
}
