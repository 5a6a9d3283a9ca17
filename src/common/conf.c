/* SPDX-License-Identifier: ISC */
/*
 * conf.c - the sealpost.conf parser.
 *
 * Process:  master (sealpostd), sealpostctl.  Runs as root in the master,
 *           so it must not crash or loop on any input.
 * Trust:    the file is the administrator's, but a typo must give a clear
 *           error with file:line and never a silent default; every byte
 *           sequence gives a result or an error (fuzzed).
 * Limits:   SP_CONF_MAX_SIZE, SP_CONF_LINE_MAX, CONF_MAX_TOKENS,
 *           SP_CONF_MAX_LISTENERS, SP_CONF_MAX_DOMAINS.
 * See also: docs/sealpost.conf.5 (the grammar), tests/config/ (golden files).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "buf.h"
#include "conf.h"
#include "banned.h"

#ifndef SP_PKGLIBEXECDIR
#define SP_PKGLIBEXECDIR "/usr/local/libexec/sealpost"
#endif

#define CONF_MAX_TOKENS		8
#define CONF_DEFAULT_SESSIONS	256
#define CONF_MAX_SESSIONS	65535
#define CONF_DEFAULT_SHUTDOWN	30
#define CONF_UID_MIN		1000		/* below: system users */
#define CONF_UID_MAX		4294967294UL	/* (uid_t)-1 is "none" */
#define CONF_DEFAULT_KDF_WORKERS	2
#define CONF_DEFAULT_PER_CLIENT		32
#define CONF_DEFAULT_MESSAGE_SIZE	(50ULL << 20)
#define CONF_DEFAULT_RCPTS		100	/* RFC 5321 4.5.3.1.8 */
#define CONF_MAX_KDF_WORKERS		16
#define CONF_DEFAULT_AUTH_CACHE		300	/* seconds */
#define CONF_MAX_AUTH_CACHE		3600
#define CONF_DEFAULT_CLAMAV_SCAN	(100ULL << 20)
#define CONF_DEFAULT_CLAMAV_FILE	(25ULL << 20)
#define CONF_DEFAULT_CLAMAV_RECURSION	16
#define CONF_DEFAULT_CLAMAV_FILES	10000
#define CONF_DEFAULT_FILTER_WORKERS	2
#define CONF_MAX_FILTER_WORKERS		32
#define CONF_DEFAULT_FILTER_TMP		(256ULL << 20)
#define CONF_DEFAULT_UID_MIN	200000
#define CONF_DEFAULT_UID_MAX	299999
#define CONF_MAX_DURATION		(365U * 86400)	/* any DURATION */
#define CONF_DEFAULT_OUTBOUND_PORT	25
#define CONF_DEFAULT_FIRST_RETRY	300
#define CONF_DEFAULT_RETRY_INTERVAL	900
#define CONF_DEFAULT_QUEUE_LIFETIME	(5 * 86400)
#define CONF_DEFAULT_DELAY_WARNING	(4 * 3600)
#define CONF_DEFAULT_OUTBOUND_CONC	5
#define CONF_MAX_OUTBOUND_CONC		100
#define CONF_MAX_OUTBOUND_RATE		100000	/* per minute */
#define CONF_DEFAULT_OUTBOUND_TIMEOUT	300	/* RFC 5321 4.5.3.2 */
#define CONF_MAX_OUTBOUND_TIMEOUT	3600
#define CONF_DEFAULT_MAX_HOPS		100	/* RFC 5321 6.3: "at least 100" */
#define CONF_MAX_HOPS			1000
#define CONF_DEFAULT_DNS_PORT		53
#define CONF_DEFAULT_HTTPS_PORT		443

static const struct {
	const char	*name;
	int		 implicit_tls;
} kinds[SP_LISTEN_KIND_MAX] = {
	[SP_LISTEN_SMTP] =		{ "smtp", 0 },
	[SP_LISTEN_SUBMISSION] =	{ "submission", 0 },
	[SP_LISTEN_SUBMISSIONS] =	{ "submissions", 1 },
	[SP_LISTEN_IMAP] =		{ "imap", 0 },
	[SP_LISTEN_IMAPS] =		{ "imaps", 1 },
	[SP_LISTEN_POP3] =		{ "pop3", 0 },
	[SP_LISTEN_POP3S] =		{ "pop3s", 1 },
};

static const struct {
	const char	*name;
	int		 prio;
} levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

struct conf_parser {
	struct sp_conf	*conf;
	const char	*fname;
	const char	*basedir;
	int		 line;
	char		*err;
	size_t		 errlen;
	int		 seen_log_level;
	int		 seen_max_sessions;
	int		 seen_shutdown;
	int		 seen_uids;
	int		 seen_test_sandbox;
	int		 seen_instance;
	int		 seen_kdf;
	int		 seen_quota;
	int		 seen_kdf_workers;
	int		 seen_auth_cache;
	int		 seen_msg_size;
	int		 seen_rcpts;
	int		 seen_hide;
	int		 seen_per_client;
	int		 seen_av_scan;
	int		 seen_av_file;
	int		 seen_av_recursion;
	int		 seen_av_files;
	int		 seen_filter_workers;
	int		 seen_filter_tmp;
	int		 seen_rspamd;
	int		 seen_outbound_port;
	int		 seen_resolver;
	int		 seen_first_retry;
	int		 seen_retry_interval;
	int		 seen_queue_lifetime;
	int		 seen_delay_warning;
	int		 seen_outbound_conc;
	int		 seen_outbound_rate;
	int		 seen_outbound_timeout;
	int		 seen_max_hops;
	int		 seen_https_port;
	int		 seen_smarthost;
	int		 seen_test_mta_socket;
};

static int conf_error(struct conf_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
conf_error(struct conf_parser *p, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->fname, p->line,
		    msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->fname, msg);
	return -1;
}

const char *
conf_kind_name(enum sp_listener_kind k)
{
	SP_ASSERT(k < SP_LISTEN_KIND_MAX);
	return kinds[k].name;
}

int
conf_kind_implicit_tls(enum sp_listener_kind k)
{
	SP_ASSERT(k < SP_LISTEN_KIND_MAX);
	return kinds[k].implicit_tls;
}

int
conf_needs_tls(const struct sp_conf *c)
{
	size_t	i;

	for (i = 0; i < c->nlisteners; i++)
		if (conf_kind_implicit_tls(c->listeners[i].kind))
			return 1;
	return 0;
}

/* RFC 1123 2.1 host names: LDH labels of 1..63, 253 in all, no trailing dot. */
int
conf_valid_hostname(const char *s)
{
	size_t	len = strlen(s), label = 0, i;

	if (len == 0 || len > SP_HOSTNAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isascii(c) || !(isalnum(c) || c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/*
 * Split one line into tokens.  Quoted tokens may hold spaces, \" and \\.
 * The line is modified in place (tokens are NUL-terminated in it).
 */
static int
conf_tokenize(struct conf_parser *p, char *line, char **tok, int *ntok_r)
{
	char	*r = line, *w;
	int	 n = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '\0' || *r == '#')
			break;
		if (n == CONF_MAX_TOKENS)
			return conf_error(p, "too many words on one line");
		tok[n++] = w = r;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0')
					return conf_error(p,
					    "unterminated quoted string");
				if (*r == '"')
					break;
				if (*r == '\\') {
					r++;
					if (*r != '"' && *r != '\\')
						return conf_error(p, "bad escape"
						    " in quoted string (only \\\""
						    " and \\\\ are allowed)");
				}
				*w++ = *r++;
			}
			r++;
			if (*r != '\0' && *r != ' ' && *r != '\t' && *r != '#')
				return conf_error(p,
				    "text right after a closing quote");
		} else {
			while (*r != '\0' && *r != ' ' && *r != '\t' &&
			    *r != '#' && *r != '"')
				*w++ = *r++;
			if (*r == '"')
				return conf_error(p,
				    "quote in the middle of a word");
		}
		if (*r == ' ' || *r == '\t')
			r++;
		else if (*r == '#')
			*r = '\0';	/* w may equal r: save the comment */
		*w = '\0';
	}
	*ntok_r = n;
	return 0;
}

static int
conf_nargs(struct conf_parser *p, const char *key, int ntok, int want)
{
	if (ntok - 1 != want)
		return conf_error(p, "%s takes %d value%s, found %d", key, want,
		    want == 1 ? "" : "s", ntok - 1);
	return 0;
}

static int
conf_set_path(struct conf_parser *p, const char *key, char **dst,
    const char *val)
{
	char	path[PATH_MAX];
	int	n;

	if (*dst != NULL)
		return conf_error(p, "%s given twice", key);
	if (val[0] == '\0')
		return conf_error(p, "%s: empty path", key);
	if (val[0] == '/')
		n = snprintf(path, sizeof(path), "%s", val);
	else
		n = snprintf(path, sizeof(path), "%s/%s", p->basedir, val);
	if (n < 0 || (size_t)n >= sizeof(path))
		return conf_error(p, "%s: path too long", key);
	*dst = xstrdup(path);
	return 0;
}

/* "smarthost HOST[:PORT]": a host name (its certificate is checked
 * against it), the port 587 unless given. */
static int
conf_parse_smarthost(struct conf_parser *p, char **tok, int ntok)
{
	char		 host[256];
	const char	*colon, *errstr;
	size_t		 n;
	long long	 port = 587;

	if (conf_nargs(p, "smarthost", ntok, 1) == -1)
		return -1;
	if (p->seen_smarthost++)
		return conf_error(p, "smarthost given twice");
	colon = strchr(tok[1], ':');
	n = colon != NULL ? (size_t)(colon - tok[1]) : strlen(tok[1]);
	if (n == 0 || n >= sizeof(host))
		return conf_error(p, "smarthost: not a host name");
	memcpy(host, tok[1], n);
	host[n] = '\0';
	if (!conf_valid_hostname(host))
		return conf_error(p, "smarthost: %s is not a host name (an "
		    "address cannot be checked against a certificate)", host);
	if (colon != NULL) {
		port = strtonum(colon + 1, 1, 65535, &errstr);
		if (errstr != NULL)
			return conf_error(p, "smarthost: port %s", errstr);
	}
	for (n = 0; host[n] != '\0'; n++)
		if (host[n] >= 'A' && host[n] <= 'Z')
			host[n] = (char)(host[n] - 'A' + 'a');
	p->conf->smarthost = xstrdup(host);
	p->conf->smarthost_port = (uint16_t)port;
	return 0;
}

static int
conf_lower_hostname(struct conf_parser *p, const char *key, const char *val,
    char **dst)
{
	char	*h;
	size_t	 i;

	if (!conf_valid_hostname(val))
		return conf_error(p, "%s: \"%s\" is not a valid host name",
		    key, val);
	h = xstrdup(val);
	for (i = 0; h[i] != '\0'; i++)
		h[i] = (char)tolower((unsigned char)h[i]);
	*dst = h;
	return 0;
}

static int
conf_parse_listen(struct conf_parser *p, char **tok, int ntok)
{
	struct sp_conf		*c = p->conf;
	struct sp_listener	 l;
	const char		*errstr, *portstr;
	char			 host[64];
	const char		*a = tok[2];
	size_t			 hlen, i;
	int			 k;

	if (conf_nargs(p, "listen", ntok, 2) == -1)
		return -1;
	memset(&l, 0, sizeof(l));
	for (k = 0; k < SP_LISTEN_KIND_MAX; k++)
		if (strcmp(tok[1], kinds[k].name) == 0)
			break;
	if (k == SP_LISTEN_KIND_MAX)
		return conf_error(p, "listen: unknown kind \"%s\" (smtp, "
		    "submission, submissions, imap, imaps, pop3, pop3s)",
		    tok[1]);
	l.kind = (enum sp_listener_kind)k;
	l.line = p->line;

	/* ADDRESS:PORT, [IPV6]:PORT or *:PORT */
	if (a[0] == '[') {
		const char *end = strchr(a, ']');

		if (end == NULL || end[1] != ':')
			return conf_error(p, "listen: expected [IPv6]:PORT");
		hlen = (size_t)(end - a - 1);
		if (hlen >= sizeof(host))
			return conf_error(p, "listen: address too long");
		memcpy(host, a + 1, hlen);
		host[hlen] = '\0';
		portstr = end + 2;
	} else {
		const char *colon = strrchr(a, ':');

		if (colon == NULL)
			return conf_error(p, "listen: expected ADDRESS:PORT");
		hlen = (size_t)(colon - a);
		if (hlen >= sizeof(host))
			return conf_error(p, "listen: address too long");
		memcpy(host, a, hlen);
		host[hlen] = '\0';
		portstr = colon + 1;
		if (strcmp(host, "*") == 0)
			strlcpy(host, "0.0.0.0", sizeof(host));
	}
	l.port = (uint16_t)strtonum(portstr, 1, 65535, &errstr);
	if (errstr != NULL)
		return conf_error(p, "listen: port \"%s\" is %s (1-65535)",
		    portstr, errstr);
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l.addr;

		if (a[0] != '[' ||
		    inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return conf_error(p, "listen: \"%s\" is not a numeric "
			    "IPv6 address", host);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(l.port);
		l.addrlen = sizeof(*s6);
		inet_ntop(AF_INET6, &s6->sin6_addr, l.host, sizeof(l.host));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&l.addr;

		if (a[0] == '[' ||
		    inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return conf_error(p, "listen: \"%s\" is not a numeric "
			    "IPv4 address (host names are not resolved)", host);
		s4->sin_family = AF_INET;
		s4->sin_port = htons(l.port);
		l.addrlen = sizeof(*s4);
		inet_ntop(AF_INET, &s4->sin_addr, l.host, sizeof(l.host));
	}
	for (i = 0; i < c->nlisteners; i++) {
		if (c->listeners[i].port == l.port &&
		    strcmp(c->listeners[i].host, l.host) == 0)
			return conf_error(p, "listen: %s port %u already used "
			    "at line %d", l.host, l.port,
			    c->listeners[i].line);
	}
	if (c->nlisteners == SP_CONF_MAX_LISTENERS)
		return conf_error(p, "too many listeners (at most %d)",
		    SP_CONF_MAX_LISTENERS);
	c->listeners = xreallocarray(c->listeners, c->nlisteners + 1,
	    sizeof(*c->listeners));
	c->listeners[c->nlisteners++] = l;
	return 0;
}

int
conf_size_parse(const char *v, uint64_t *out)
{
	const char	*errstr;
	char		 num[24];
	size_t		 n = strlen(v);
	uint64_t	 mult = 1, val;

	if (strcmp(v, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, v, n + 1);
	switch (num[n - 1]) {
	case 'K': mult = 1ULL << 10; break;
	case 'M': mult = 1ULL << 20; break;
	case 'G': mult = 1ULL << 30; break;
	case 'T': mult = 1ULL << 40; break;
	default: break;
	}
	if (mult != 1)
		num[n - 1] = '\0';
	val = (uint64_t)strtonum(num, 1, 1LL << 50, &errstr);
	if (errstr != NULL || val > (1ULL << 50) / mult)
		return -1;
	*out = val * mult;
	return 0;
}

static int
conf_parse_size(struct conf_parser *p, const char *key, const char *v,
    uint64_t *out)
{
	if (conf_size_parse(v, out) == -1)
		return conf_error(p, "%s: \"%s\" is not a size (a number of "
		    "bytes, with K, M, G or T, or none)", key, v);
	return 0;
}

/*
 * rspamd-url http://ADDRESS:PORT | none: rspamd's normal worker, by a
 * numeric address (the filter resolves no names in its jail).
 */
static int
conf_parse_rspamd(struct conf_parser *p, char **tok, int ntok)
{
	struct sockaddr_in6	 s6;
	struct in_addr		 a4;
	const char		*v, *h, *errstr;
	char			 host[64];
	size_t			 hl;

	if (conf_nargs(p, "rspamd-url", ntok, 1) == -1)
		return -1;
	if (p->seen_rspamd++)
		return conf_error(p, "rspamd-url given twice");
	v = tok[1];
	if (strcmp(v, "none") == 0)
		return 0;
	if (strncmp(v, "http://", 7) != 0)
		goto bad;
	h = v + 7;
	if (*h == '[') {
		const char *e = strchr(h, ']');

		if (e == NULL || (hl = (size_t)(e - h - 1)) >= sizeof(host) ||
		    e[1] != ':')
			goto bad;
		memcpy(host, h + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, &s6.sin6_addr) != 1)
			goto bad;
		h = e + 2;
	} else {
		const char *c = strchr(h, ':');

		if (c == NULL || (hl = (size_t)(c - h)) >= sizeof(host))
			goto bad;
		memcpy(host, h, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, &a4) != 1)
			goto bad;
		h = c + 1;
	}
	(void)strtonum(h, 1, 65535, &errstr);
	if (errstr != NULL)
		goto bad;
	p->conf->rspamd_url = xstrdup(v);
	return 0;
bad:
	return conf_error(p, "rspamd-url: \"%s\" is not http://ADDRESS:PORT "
	    "with a numeric address (or none)", v);
}

/* KEY SIZE with min <= SIZE <= max, given once. */
static int
conf_size_key(struct conf_parser *p, const char *key, char **tok, int ntok,
    int *seen, uint64_t min, uint64_t max, uint64_t *out)
{
	if (conf_nargs(p, key, ntok, 1) == -1)
		return -1;
	if ((*seen)++)
		return conf_error(p, "%s given twice", key);
	if (conf_parse_size(p, key, tok[1], out) == -1)
		return -1;
	if (*out < min || *out > max)
		return conf_error(p, "%s: from %lluM to %lluM", key,
		    (unsigned long long)(min >> 20),
		    (unsigned long long)(max >> 20));
	return 0;
}

/* account-uids FROM-TO: every account gets its own uid from this range. */
/* KEY N with min <= N <= max, given once. */
static int
conf_uint(struct conf_parser *p, const char *key, char **tok, int ntok,
    int *seen, long long min, long long max, const char *unit,
    unsigned int *out)
{
	const char	*errstr;

	if (conf_nargs(p, key, ntok, 1) == -1)
		return -1;
	if ((*seen)++)
		return conf_error(p, "%s given twice", key);
	*out = (unsigned int)strtonum(tok[1], min, max, &errstr);
	if (errstr != NULL)
		return conf_error(p, "%s: \"%s\" is %s (%lld-%lld%s)", key,
		    tok[1], errstr, min, max, unit);
	return 0;
}

/*
 * DURATION: decimal digits, then nothing (seconds) or one of s, m, h, d;
 * at most CONF_MAX_DURATION.  0, -1 (not a duration) or -2 (too long).
 */
static int
conf_parse_duration(const char *v, unsigned int *out)
{
	const char	*errstr;
	char		 num[16];
	size_t		 n = strspn(v, "0123456789"), z = 0;
	unsigned int	 mult;
	long long	 val;

	if (n == 0)
		return -1;
	switch (v[n]) {
	case '\0': mult = 1; break;
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return -1;
	}
	if (v[n] != '\0' && v[n + 1] != '\0')
		return -1;
	while (z + 1 < n && v[z] == '0')	/* leading zeros */
		z++;
	if (n - z >= sizeof(num))
		return -2;
	memcpy(num, v + z, n - z);
	num[n - z] = '\0';
	/* digits only: the one possible error is "too large" */
	val = strtonum(num, 0, CONF_MAX_DURATION, &errstr);
	if (errstr != NULL ||
	    (unsigned long long)val > CONF_MAX_DURATION / mult)
		return -2;
	*out = (unsigned int)val * mult;
	return 0;
}

/* A duration for messages, in its largest exact unit ("90s", "4h"). */
static void
conf_fmt_duration(unsigned int secs, char *buf, size_t len)
{
	if (secs == 0)
		snprintf(buf, len, "0");
	else if (secs % 86400 == 0)
		snprintf(buf, len, "%ud", secs / 86400);
	else if (secs % 3600 == 0)
		snprintf(buf, len, "%uh", secs / 3600);
	else if (secs % 60 == 0)
		snprintf(buf, len, "%um", secs / 60);
	else
		snprintf(buf, len, "%us", secs);
}

/*
 * KEY DURATION with min <= DURATION <= max seconds, given once; with
 * off_ok, "off" (or any zero) is 0.
 */
static int
conf_duration_key(struct conf_parser *p, const char *key, char **tok,
    int ntok, int *seen, unsigned int min, unsigned int max, int off_ok,
    unsigned int *out)
{
	char		 lo[16], hi[16];
	unsigned int	 v;
	int		 r;

	if (conf_nargs(p, key, ntok, 1) == -1)
		return -1;
	if ((*seen)++)
		return conf_error(p, "%s given twice", key);
	if (off_ok && strcmp(tok[1], "off") == 0) {
		*out = 0;
		return 0;
	}
	conf_fmt_duration(min, lo, sizeof(lo));
	conf_fmt_duration(max, hi, sizeof(hi));
	if ((r = conf_parse_duration(tok[1], &v)) == -1)
		return conf_error(p, "%s: \"%s\" is not a duration (such as "
		    "90, 30s, 15m, 4h or 5d%s)", key, tok[1],
		    off_ok ? ", or off" : "");
	if (r == -2 || v > max)
		return conf_error(p, "%s: \"%s\" is too long (at most %s)",
		    key, tok[1], hi);
	if (v < min && !(off_ok && v == 0))
		return conf_error(p, "%s: \"%s\" is too short (at least %s)",
		    key, tok[1], lo);
	*out = v;
	return 0;
}

/*
 * dns-resolver ADDRESS[@PORT] | system: the recursive resolver the mta
 * asks, by a numeric address; kept as libunbound's forwarder syntax
 * "ADDRESS@PORT", the address in inet_ntop's form.  NULL: resolv.conf's.
 */
static int
conf_parse_resolver(struct conf_parser *p, char **tok, int ntok)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*v, *at, *errstr;
	char		 host[INET6_ADDRSTRLEN], norm[INET6_ADDRSTRLEN + 8];
	long long	 port = CONF_DEFAULT_DNS_PORT;
	size_t		 hl;
	int		 n;

	if (conf_nargs(p, "dns-resolver", ntok, 1) == -1)
		return -1;
	if (p->seen_resolver++)
		return conf_error(p, "dns-resolver given twice");
	v = tok[1];
	if (strcmp(v, "system") == 0)
		return 0;
	at = strchr(v, '@');
	hl = at != NULL ? (size_t)(at - v) : strlen(v);
	if (hl == 0 || hl >= sizeof(host))
		return conf_error(p, "dns-resolver: \"%s\" is not ADDRESS, "
		    "ADDRESS@PORT or system", v);
	memcpy(host, v, hl);
	host[hl] = '\0';
	if (host[0] == '[')
		return conf_error(p, "dns-resolver: \"%s\": write an IPv6 "
		    "address without brackets (::1@53)", v);
	if (at != NULL) {
		port = strtonum(at + 1, 1, 65535, &errstr);
		if (errstr != NULL)
			return conf_error(p, "dns-resolver: port \"%s\" is %s "
			    "(1-65535)", at + 1, errstr);
	}
	if (inet_pton(AF_INET, host, &a4) == 1)
		inet_ntop(AF_INET, &a4, host, sizeof(host));
	else if (inet_pton(AF_INET6, host, &a6) == 1)
		inet_ntop(AF_INET6, &a6, host, sizeof(host));
	else
		return conf_error(p, "dns-resolver: \"%s\" is not a numeric "
		    "IPv4 or IPv6 address (host names are not resolved)", host);
	n = snprintf(norm, sizeof(norm), "%s@%lld", host, port);
	if (n < 0 || (size_t)n >= sizeof(norm))
		return conf_error(p, "dns-resolver: \"%s\" is too long", v);
	p->conf->dns_resolver = xstrdup(norm);
	return 0;
}

static int
conf_parse_uids(struct conf_parser *p, char **tok, int ntok)
{
	struct sp_conf	*c = p->conf;
	const char	*errstr;
	char		 lo[16], *dash;
	size_t		 n;

	if (conf_nargs(p, "account-uids", ntok, 1) == -1)
		return -1;
	if (p->seen_uids++)
		return conf_error(p, "account-uids given twice");
	if ((dash = strchr(tok[1], '-')) == NULL ||
	    (n = (size_t)(dash - tok[1])) == 0 || n >= sizeof(lo))
		return conf_error(p, "account-uids: expected FROM-TO");
	memcpy(lo, tok[1], n);
	lo[n] = '\0';
	c->account_uid_min = (uint32_t)strtonum(lo, CONF_UID_MIN,
	    CONF_UID_MAX, &errstr);
	if (errstr != NULL)
		return conf_error(p, "account-uids: \"%s\" is %s (%d-%lu)",
		    lo, errstr, CONF_UID_MIN, CONF_UID_MAX);
	c->account_uid_max = (uint32_t)strtonum(dash + 1, CONF_UID_MIN,
	    CONF_UID_MAX, &errstr);
	if (errstr != NULL)
		return conf_error(p, "account-uids: \"%s\" is %s (%d-%lu)",
		    dash + 1, errstr, CONF_UID_MIN, CONF_UID_MAX);
	if (c->account_uid_max < c->account_uid_min)
		return conf_error(p, "account-uids: %s is an empty range",
		    tok[1]);
	return 0;
}

static int
conf_parse_line(struct conf_parser *p, char *line)
{
	struct sp_conf	*c = p->conf;
	char		*tok[CONF_MAX_TOKENS];
	const char	*key, *errstr;
	int		 ntok = 0, i;
	size_t		 d;

	if (conf_tokenize(p, line, tok, &ntok) == -1)
		return -1;
	if (ntok == 0)
		return 0;
	key = tok[0];

	if (strcmp(key, "listen") == 0)
		return conf_parse_listen(p, tok, ntok);

	if (strcmp(key, "local-sender") == 0) {
		struct sp_local_sender	*ls;
		const char		*at;

		if (conf_nargs(p, key, ntok, 2) == -1)
			return -1;
		/* a user name (as useradd takes) or a uid, and an address */
		for (d = 0; tok[1][d] != '\0'; d++)
			if (!isalnum((unsigned char)tok[1][d]) &&
			    strchr("._-", tok[1][d]) == NULL)
				break;
		if (tok[1][d] != '\0' || d == 0 || d > 32)
			return conf_error(p, "local-sender: \"%s\" is not a "
			    "user name or uid", tok[1]);
		if ((at = strrchr(tok[2], '@')) == NULL || at == tok[2] ||
		    strlen(tok[2]) > 254 || !conf_valid_hostname(at + 1) ||
		    strpbrk(tok[2], " \t<>\"\\") != NULL)
			return conf_error(p, "local-sender: \"%s\" is not an "
			    "address", tok[2]);
		for (d = 0; d < c->nsenders; d++)
			if (strcmp(c->senders[d].user, tok[1]) == 0)
				return conf_error(p, "local-sender %s given "
				    "twice", tok[1]);
		if (c->nsenders == SP_CONF_MAX_SENDERS)
			return conf_error(p, "too many local-sender lines");
		c->senders = xreallocarray(c->senders, c->nsenders + 1,
		    sizeof(*c->senders));
		ls = &c->senders[c->nsenders++];
		ls->user = xstrdup(tok[1]);
		ls->address = xstrdup(tok[2]);
		return 0;
	}
	if (strcmp(key, "domain") == 0) {
		char	*dom;

		if (conf_nargs(p, key, ntok, 1) == -1 ||
		    conf_lower_hostname(p, key, tok[1], &dom) == -1)
			return -1;
		for (d = 0; d < c->ndomains; d++) {
			if (strcmp(c->domains[d], dom) == 0) {
				free(dom);
				return conf_error(p, "domain %s given twice",
				    tok[1]);
			}
		}
		if (c->ndomains == SP_CONF_MAX_DOMAINS) {
			free(dom);
			return conf_error(p, "too many domains (at most %d)",
			    SP_CONF_MAX_DOMAINS);
		}
		c->domains = xreallocarray(c->domains, c->ndomains + 1,
		    sizeof(*c->domains));
		c->domains[c->ndomains++] = dom;
		return 0;
	}

	/* Every other key takes exactly one value. */
	if (strcmp(key, "hostname") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (c->hostname != NULL)
			return conf_error(p, "hostname given twice");
		return conf_lower_hostname(p, key, tok[1], &c->hostname);
	}
	if (strcmp(key, "data-dir") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->data_dir, tok[1]);
	if (strcmp(key, "run-dir") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->run_dir, tok[1]);
	if (strcmp(key, "libexec-dir") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->libexec_dir, tok[1]);
	if (strcmp(key, "tls-certificate") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->tls_cert, tok[1]);
	if (strcmp(key, "tls-key") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->tls_key, tok[1]);
	if (strcmp(key, "log-level") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_log_level++)
			return conf_error(p, "log-level given twice");
		for (i = 0; i < (int)(sizeof(levels) / sizeof(levels[0])); i++) {
			if (strcmp(tok[1], levels[i].name) == 0) {
				c->log_level = levels[i].prio;
				return 0;
			}
		}
		return conf_error(p, "log-level: \"%s\" is not one of error, "
		    "warning, info, debug", tok[1]);
	}
	if (strcmp(key, "max-sessions") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_max_sessions++)
			return conf_error(p, "max-sessions given twice");
		c->max_sessions = (unsigned int)strtonum(tok[1], 1,
		    CONF_MAX_SESSIONS, &errstr);
		if (errstr != NULL)
			return conf_error(p, "max-sessions: \"%s\" is %s "
			    "(1-%d)", tok[1], errstr, CONF_MAX_SESSIONS);
		return 0;
	}
	if (strcmp(key, "shutdown-timeout") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_shutdown++)
			return conf_error(p, "shutdown-timeout given twice");
		c->shutdown_timeout = (unsigned int)strtonum(tok[1], 1, 3600,
		    &errstr);
		if (errstr != NULL)
			return conf_error(p, "shutdown-timeout: \"%s\" is %s "
			    "(1-3600 seconds)", tok[1], errstr);
		return 0;
	}
	if (strcmp(key, "max-message-size") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_msg_size++)
			return conf_error(p, "max-message-size given twice");
		if (conf_parse_size(p, key, tok[1], &c->max_message_size) == -1)
			return -1;
		if (c->max_message_size < 1024 ||
		    c->max_message_size > CONF_MAX_MESSAGE_SIZE)
			return conf_error(p, "max-message-size: from 1K to "
			    "%lluM", (unsigned long long)
			    (CONF_MAX_MESSAGE_SIZE >> 20));
		return 0;
	}
	if (strcmp(key, "max-sessions-per-client") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_per_client, 1,
		    CONF_MAX_SESSIONS, "", &c->max_sessions_per_client);
	if (strcmp(key, "smtp-max-recipients") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_rcpts, 1, 1000,
		    "", &c->smtp_max_rcpts);
	if (strcmp(key, "received-hide-client") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_hide++)
			return conf_error(p, "received-hide-client given twice");
		if (strcmp(tok[1], "yes") == 0)
			c->received_hide_client = 1;
		else if (strcmp(tok[1], "no") != 0)
			return conf_error(p, "received-hide-client: yes or no");
		return 0;
	}
	if (strcmp(key, "auth-kdf-workers") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_kdf_workers, 1,
		    CONF_MAX_KDF_WORKERS, "", &c->kdf_workers);
	if (strcmp(key, "auth-cache-lifetime") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_auth_cache, 0,
		    CONF_MAX_AUTH_CACHE, " seconds", &c->auth_cache_lifetime);
	if (strcmp(key, "account-uids") == 0)
		return conf_parse_uids(p, tok, ntok);
	if (strcmp(key, "instance-type") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_instance++)
			return conf_error(p, "instance-type given twice");
		if (strcmp(tok[1], "test") == 0)
			c->instance_test = 1;
		else if (strcmp(tok[1], "production") != 0)
			return conf_error(p, "instance-type: production or test");
		return 0;
	}
	if (strcmp(key, "kdf-strength") == 0) {
		static const char *kdf[] = { "interactive", "moderate",
		    "sensitive", "test" };

		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_kdf++)
			return conf_error(p, "kdf-strength given twice");
		for (i = 0; i < 4; i++)
			if (strcmp(tok[1], kdf[i]) == 0) {
				c->kdf_strength = i;
				return 0;
			}
		return conf_error(p, "kdf-strength: \"%s\" is not one of "
		    "interactive, moderate, sensitive, test", tok[1]);
	}
	if (strcmp(key, "recovery-key") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->recovery_key, tok[1]);
	if (strcmp(key, "policy-dir") == 0) {
		c->policy_dir_given = 1;
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->policy_dir, tok[1]);
	}
	if (strcmp(key, "rspamd-url") == 0)
		return conf_parse_rspamd(p, tok, ntok);
	if (strcmp(key, "clamav-database") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->clamav_db, tok[1]);
	if (strcmp(key, "clamav-max-scan-size") == 0)
		return conf_size_key(p, key, tok, ntok, &p->seen_av_scan,
		    1ULL << 20, 4ULL << 30, &c->clamav_max_scan);
	if (strcmp(key, "clamav-max-file-size") == 0)
		return conf_size_key(p, key, tok, ntok, &p->seen_av_file,
		    1ULL << 20, 4ULL << 30, &c->clamav_max_file);
	if (strcmp(key, "clamav-max-recursion") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_av_recursion, 1,
		    64, "", &c->clamav_max_recursion);
	if (strcmp(key, "clamav-max-files") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_av_files, 1,
		    1000000, "", &c->clamav_max_files);
	if (strcmp(key, "filter-workers") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_filter_workers, 1,
		    CONF_MAX_FILTER_WORKERS, "", &c->filter_workers);
	if (strcmp(key, "filter-tmp-size") == 0)
		return conf_size_key(p, key, tok, ntok, &p->seen_filter_tmp,
		    16ULL << 20, 64ULL << 30, &c->filter_tmp_size);
	if (strcmp(key, "default-quota") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_quota++)
			return conf_error(p, "default-quota given twice");
		return conf_parse_size(p, key, tok[1], &c->default_quota);
	}
	/* outbound delivery */
	if (strcmp(key, "outbound-port") == 0) {
		unsigned int	port;

		if (conf_uint(p, key, tok, ntok, &p->seen_outbound_port, 1,
		    65535, "", &port) == -1)
			return -1;
		c->outbound_port = (uint16_t)port;
		return 0;
	}
	if (strcmp(key, "dns-resolver") == 0)
		return conf_parse_resolver(p, tok, ntok);
	if (strcmp(key, "queue-first-retry") == 0)
		return conf_duration_key(p, key, tok, ntok,
		    &p->seen_first_retry, 1, CONF_MAX_DURATION, 0,
		    &c->queue_first_retry);
	if (strcmp(key, "queue-retry-interval") == 0)
		return conf_duration_key(p, key, tok, ntok,
		    &p->seen_retry_interval, 1, CONF_MAX_DURATION, 0,
		    &c->queue_retry_interval);
	if (strcmp(key, "queue-lifetime") == 0)
		return conf_duration_key(p, key, tok, ntok,
		    &p->seen_queue_lifetime, 1, CONF_MAX_DURATION, 0,
		    &c->queue_lifetime);
	if (strcmp(key, "queue-delay-warning") == 0)
		return conf_duration_key(p, key, tok, ntok,
		    &p->seen_delay_warning, 1, CONF_MAX_DURATION, 1,
		    &c->queue_delay_warning);
	if (strcmp(key, "outbound-concurrency") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_outbound_conc, 1,
		    CONF_MAX_OUTBOUND_CONC, "", &c->outbound_concurrency);
	if (strcmp(key, "outbound-rate") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_outbound_rate, 0,
		    CONF_MAX_OUTBOUND_RATE, " per minute", &c->outbound_rate);
	if (strcmp(key, "outbound-timeout") == 0)
		return conf_duration_key(p, key, tok, ntok,
		    &p->seen_outbound_timeout, 1, CONF_MAX_OUTBOUND_TIMEOUT, 0,
		    &c->outbound_timeout);
	if (strcmp(key, "max-hops") == 0)
		return conf_uint(p, key, tok, ntok, &p->seen_max_hops, 1,
		    CONF_MAX_HOPS, "", &c->max_hops);
	/* HTTPS from the mta (Web Key Directory lookups) */
	if (strcmp(key, "https-port") == 0) {
		unsigned int	port;

		if (conf_uint(p, key, tok, ntok, &p->seen_https_port, 1,
		    65535, "", &port) == -1)
			return -1;
		c->https_port = (uint16_t)port;
		return 0;
	}
	if (strcmp(key, "https-ca-file") == 0) {
		c->https_ca_file_given = 1;
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->https_ca_file, tok[1]);
	}
	/* outbound TLS (issue 15) */
	if (strcmp(key, "smarthost") == 0)
		return conf_parse_smarthost(p, tok, ntok);
	if (strcmp(key, "smarthost-auth-file") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->smarthost_auth_file, tok[1]);
	if (strcmp(key, "dnssec-trust-anchor") == 0)
		return conf_nargs(p, key, ntok, 1) == -1 ? -1 :
		    conf_set_path(p, key, &c->dnssec_trust_anchor, tok[1]);
#ifdef SP_TEST_HOOKS
	/* SECURITY: exists only in --enable-test-hooks builds */
	if (strcmp(key, "test-sandbox") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_test_sandbox++)
			return conf_error(p, "test-sandbox given twice");
		if (strcmp(tok[1], "off") == 0)
			c->test_sandbox_off = 1;
		else if (strcmp(tok[1], "on") != 0)
			return conf_error(p, "test-sandbox: on or off");
		return 0;
	}
	/* test-deliver-crash STEP: deliver _exit()s after that step */
	if (strcmp(key, "test-deliver-crash") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (c->test_deliver_crash != NULL)
			return conf_error(p, "test-deliver-crash given twice");
		if (strcmp(tok[1], "written") != 0 &&
		    strcmp(tok[1], "fsynced") != 0 &&
		    strcmp(tok[1], "renamed") != 0)
			return conf_error(p, "test-deliver-crash: written, "
			    "fsynced or renamed");
		c->test_deliver_crash = xstrdup(tok[1]);
		return 0;
	}
	/* test-smtp-timeouts MS: every SMTP timeout that short (slowloris) */
	if (strcmp(key, "test-smtp-timeouts") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		c->test_smtp_timeout_ms = (unsigned int)strtonum(tok[1], 100,
		    60000, &errstr);
		if (errstr != NULL)
			return conf_error(p, "test-smtp-timeouts: 100-60000 ms");
		return 0;
	}
	/*
	 * test-mta-socket on: RUN_DIR/test-mta.sock, whose connections the
	 * master hands to the mta as pgp sessions (test_mta.c)
	 */
	if (strcmp(key, "test-mta-socket") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		if (p->seen_test_mta_socket++)
			return conf_error(p, "test-mta-socket given twice");
		if (strcmp(tok[1], "on") == 0)
			c->test_mta_socket = 1;
		else if (strcmp(tok[1], "off") != 0)
			return conf_error(p, "test-mta-socket: on or off");
		return 0;
	}
	/* test-imap-timeouts MS: the IMAP timeouts, before login and after */
	if (strcmp(key, "test-imap-timeouts") == 0) {
		if (conf_nargs(p, key, ntok, 1) == -1)
			return -1;
		c->test_imap_timeout_ms = (unsigned int)strtonum(tok[1], 100,
		    60000, &errstr);
		if (errstr != NULL)
			return conf_error(p, "test-imap-timeouts: 100-60000 ms");
		return 0;
	}
	/* test-account ADDRESS PASSWORD ID: a login until users.db exists */
	if (strcmp(key, "test-account") == 0) {
		struct sp_test_account	*a;
		uint64_t		 id;

		if (conf_nargs(p, key, ntok, 3) == -1)
			return -1;
		if (c->ntest_accounts == SP_CONF_MAX_TEST_ACCOUNTS)
			return conf_error(p, "too many test accounts");
		if (strchr(tok[1], '@') == NULL || tok[2][0] == '\0')
			return conf_error(p, "test-account ADDRESS PASSWORD ID");
		id = (uint64_t)strtonum(tok[3], 1, 1000000, &errstr);
		if (errstr != NULL)
			return conf_error(p, "test-account: id \"%s\" is %s",
			    tok[3], errstr);
		a = &c->test_accounts[c->ntest_accounts++];
		a->address = xstrdup(tok[1]);
		a->password = xstrdup(tok[2]);
		a->id = id;
		return 0;
	}
#endif
	return conf_error(p, "unknown key \"%s\"", key);
}

static int
conf_check(struct conf_parser *p)
{
	struct sp_conf	*c = p->conf;

	p->line = 0;
	if (c->hostname == NULL)
		return conf_error(p, "hostname is missing");
	if (c->ndomains == 0)
		return conf_error(p, "no domain: give at least one "
		    "\"domain NAME\"");
	if (c->data_dir == NULL)
		return conf_error(p, "data-dir is missing");
	if (c->run_dir == NULL)
		return conf_error(p, "run-dir is missing");
	if (c->nlisteners == 0)
		return conf_error(p, "no listener: give at least one "
		    "\"listen KIND ADDRESS:PORT\"");
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		return conf_error(p, "tls-certificate and tls-key go "
		    "together");
	if (conf_needs_tls(c) && c->tls_cert == NULL)
		return conf_error(p, "a TLS listener needs tls-certificate "
		    "and tls-key");
	if (c->kdf_strength == CONF_KDF_TEST && !c->instance_test)
		return conf_error(p, "kdf-strength test needs instance-type "
		    "test (it makes passwords cheap to guess)");
	if (c->libexec_dir == NULL)
		c->libexec_dir = xstrdup(SP_PKGLIBEXECDIR);
	if (c->clamav_db == NULL)
		c->clamav_db = xstrdup(CONF_DEFAULT_CLAMAV_DB);
	if (c->https_ca_file == NULL)
		c->https_ca_file = xstrdup(CONF_DEFAULT_HTTPS_CA_FILE);
	/* the policy folder beside the file */
	if (c->policy_dir == NULL &&
	    conf_set_path(p, "policy-dir", &c->policy_dir, "policy") == -1)
		return -1;
	return 0;
}

struct sp_conf *
conf_parse(const char *buf, size_t len, const char *fname,
    const char *basedir, char *err, size_t errlen)
{
	struct conf_parser	 p;
	char			 line[SP_CONF_LINE_MAX + 1];
	size_t			 off = 0, ll;

	memset(&p, 0, sizeof(p));
	p.fname = fname;
	p.basedir = basedir;
	p.err = err;
	p.errlen = errlen;
	p.conf = xcalloc(1, sizeof(*p.conf));
	p.conf->log_level = LOG_INFO;
	p.conf->max_sessions = CONF_DEFAULT_SESSIONS;
	p.conf->max_sessions_per_client = CONF_DEFAULT_PER_CLIENT;
	p.conf->shutdown_timeout = CONF_DEFAULT_SHUTDOWN;
	p.conf->kdf_workers = CONF_DEFAULT_KDF_WORKERS;
	p.conf->max_message_size = CONF_DEFAULT_MESSAGE_SIZE;
	p.conf->smtp_max_rcpts = CONF_DEFAULT_RCPTS;
	p.conf->auth_cache_lifetime = CONF_DEFAULT_AUTH_CACHE;
	p.conf->account_uid_min = CONF_DEFAULT_UID_MIN;
	p.conf->clamav_max_scan = CONF_DEFAULT_CLAMAV_SCAN;
	p.conf->clamav_max_file = CONF_DEFAULT_CLAMAV_FILE;
	p.conf->clamav_max_recursion = CONF_DEFAULT_CLAMAV_RECURSION;
	p.conf->clamav_max_files = CONF_DEFAULT_CLAMAV_FILES;
	p.conf->filter_workers = CONF_DEFAULT_FILTER_WORKERS;
	p.conf->filter_tmp_size = CONF_DEFAULT_FILTER_TMP;
	p.conf->account_uid_max = CONF_DEFAULT_UID_MAX;
	p.conf->outbound_port = CONF_DEFAULT_OUTBOUND_PORT;
	p.conf->queue_first_retry = CONF_DEFAULT_FIRST_RETRY;
	p.conf->queue_retry_interval = CONF_DEFAULT_RETRY_INTERVAL;
	p.conf->queue_lifetime = CONF_DEFAULT_QUEUE_LIFETIME;
	p.conf->queue_delay_warning = CONF_DEFAULT_DELAY_WARNING;
	p.conf->outbound_concurrency = CONF_DEFAULT_OUTBOUND_CONC;
	p.conf->outbound_timeout = CONF_DEFAULT_OUTBOUND_TIMEOUT;
	p.conf->max_hops = CONF_DEFAULT_MAX_HOPS;
	p.conf->https_port = CONF_DEFAULT_HTTPS_PORT;

	if (len > SP_CONF_MAX_SIZE) {
		conf_error(&p, "file larger than %d bytes", SP_CONF_MAX_SIZE);
		goto fail;
	}
	while (off < len) {
		const char	*nl = memchr(buf + off, '\n', len - off);

		ll = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;
		p.line++;
		if (ll > 0 && buf[off + ll - 1] == '\r')
			ll--;			/* tolerate CRLF files */
		if (ll > SP_CONF_LINE_MAX) {
			conf_error(&p, "line longer than %d bytes",
			    SP_CONF_LINE_MAX);
			goto fail;
		}
		memcpy(line, buf + off, ll);
		line[ll] = '\0';
		for (size_t i = 0; i < ll; i++) {
			unsigned char c = (unsigned char)line[i];

			if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7f) {
				conf_error(&p, "control character 0x%02x",
				    c);
				goto fail;
			}
		}
		if (conf_parse_line(&p, line) == -1)
			goto fail;
		off += nl != NULL ? (size_t)(nl - (buf + off)) + 1 : len - off;
	}
	if (conf_check(&p) == -1)
		goto fail;
	return p.conf;
fail:
	conf_free(p.conf);
	return NULL;
}

struct sp_conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct sp_conf	*c;
	struct buf	*b = NULL;
	struct stat	 st;
	char		 abspath[PATH_MAX], dir[PATH_MAX], chunk[8192];
	char		*slash;
	ssize_t		 n;
	int		 fd, r;

	if (path[0] == '/')
		r = snprintf(abspath, sizeof(abspath), "%s", path);
	else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			snprintf(err, errlen, "%s: getcwd: %s", path,
			    strerror(errno));
			return NULL;
		}
		r = snprintf(abspath, sizeof(abspath), "%s/%s", cwd, path);
	}
	if (r < 0 || (size_t)r >= sizeof(abspath)) {
		snprintf(err, errlen, "%s: path too long", path);
		return NULL;
	}
	strlcpy(dir, abspath, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	b = buf_new(SP_CONF_MAX_SIZE);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (buf_add(b, chunk, (size_t)n) == -1) {
			snprintf(err, errlen, "%s: file larger than %d bytes",
			    path, SP_CONF_MAX_SIZE);
			goto fail;
		}
	}
	close(fd);
	c = conf_parse((const char *)b->data, b->len, path, dir, err, errlen);
	if (c != NULL)
		c->path = xstrdup(abspath);
	buf_free(&b);
	return c;
fail:
	close(fd);
	buf_free(&b);
	return NULL;
}

void
conf_free(struct sp_conf *c)
{
	size_t	i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->hostname);
	free(c->data_dir);
	free(c->run_dir);
	free(c->libexec_dir);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->recovery_key);
	free(c->clamav_db);
	free(c->rspamd_url);
	free(c->dns_resolver);
	free(c->https_ca_file);
	free(c->smarthost);
	free(c->smarthost_auth_file);
	free(c->dnssec_trust_anchor);
	free(c->policy_dir);
	free(c->test_deliver_crash);
	for (i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	free(c->domains);
	for (i = 0; i < c->nsenders; i++) {
		free(c->senders[i].user);
		free(c->senders[i].address);
	}
	free(c->senders);
	for (i = 0; i < c->ntest_accounts; i++) {
		free(c->test_accounts[i].address);
		free(c->test_accounts[i].password);
	}
	free(c->listeners);
	free(c);
}

/* Print a value, quoted when it holds anything but plain characters. */
static void
conf_print_value(FILE *fp, const char *v)
{
	const char	*s;
	int		 plain = v[0] != '\0';

	for (s = v; *s != '\0'; s++)
		if (*s == ' ' || *s == '\t' || *s == '"' || *s == '#' ||
		    *s == '\\')
			plain = 0;
	if (plain) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (s = v; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
conf_print_kv(FILE *fp, const char *key, const char *v)
{
	if (v == NULL)
		return;
	fprintf(fp, "%s ", key);
	conf_print_value(fp, v);
	fputc('\n', fp);
}

void
conf_print(FILE *fp, const struct sp_conf *c)
{
	const char	*lvl = "info";
	size_t		 i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (levels[i].prio == c->log_level)
			lvl = levels[i].name;
	conf_print_kv(fp, "hostname", c->hostname);
	for (i = 0; i < c->ndomains; i++)
		conf_print_kv(fp, "domain", c->domains[i]);
	for (i = 0; i < c->nsenders; i++)
		fprintf(fp, "local-sender %s %s\n", c->senders[i].user,
		    c->senders[i].address);
	conf_print_kv(fp, "data-dir", c->data_dir);
	conf_print_kv(fp, "run-dir", c->run_dir);
	conf_print_kv(fp, "libexec-dir", c->libexec_dir);
	conf_print_kv(fp, "tls-certificate", c->tls_cert);
	conf_print_kv(fp, "tls-key", c->tls_key);
	fprintf(fp, "log-level %s\n", lvl);
	fprintf(fp, "max-sessions %u\n", c->max_sessions);
	fprintf(fp, "max-sessions-per-client %u\n", c->max_sessions_per_client);
	fprintf(fp, "shutdown-timeout %u\n", c->shutdown_timeout);
	fprintf(fp, "account-uids %lu-%lu\n",
	    (unsigned long)c->account_uid_min,
	    (unsigned long)c->account_uid_max);
	fprintf(fp, "instance-type %s\n", c->instance_test ? "test" :
	    "production");
	{
		static const char *kdf[] = { "interactive", "moderate",
		    "sensitive", "test" };

		fprintf(fp, "kdf-strength %s\n", kdf[c->kdf_strength]);
	}
	fprintf(fp, "max-message-size %llu\n",
	    (unsigned long long)c->max_message_size);
	fprintf(fp, "smtp-max-recipients %u\n", c->smtp_max_rcpts);
	fprintf(fp, "received-hide-client %s\n", c->received_hide_client ?
	    "yes" : "no");
	fprintf(fp, "auth-kdf-workers %u\n", c->kdf_workers);
	fprintf(fp, "auth-cache-lifetime %u\n", c->auth_cache_lifetime);
	conf_print_kv(fp, "recovery-key", c->recovery_key);
	conf_print_kv(fp, "policy-dir", c->policy_dir);
	fprintf(fp, "rspamd-url %s\n", c->rspamd_url != NULL ? c->rspamd_url :
	    "none");
	conf_print_kv(fp, "clamav-database", c->clamav_db);
	fprintf(fp, "clamav-max-scan-size %llu\n",
	    (unsigned long long)c->clamav_max_scan);
	fprintf(fp, "clamav-max-file-size %llu\n",
	    (unsigned long long)c->clamav_max_file);
	fprintf(fp, "clamav-max-recursion %u\n", c->clamav_max_recursion);
	fprintf(fp, "clamav-max-files %u\n", c->clamav_max_files);
	fprintf(fp, "filter-workers %u\n", c->filter_workers);
	fprintf(fp, "filter-tmp-size %llu\n",
	    (unsigned long long)c->filter_tmp_size);
	if (c->default_quota == 0)
		fprintf(fp, "default-quota none\n");
	else
		fprintf(fp, "default-quota %llu\n",
		    (unsigned long long)c->default_quota);
	/* outbound delivery; durations in seconds */
	fprintf(fp, "outbound-port %u\n", (unsigned int)c->outbound_port);
	fprintf(fp, "dns-resolver %s\n", c->dns_resolver != NULL ?
	    c->dns_resolver : "system");
	fprintf(fp, "outbound-concurrency %u\n", c->outbound_concurrency);
	fprintf(fp, "outbound-rate %u\n", c->outbound_rate);
	fprintf(fp, "outbound-timeout %u\n", c->outbound_timeout);
	fprintf(fp, "queue-first-retry %u\n", c->queue_first_retry);
	fprintf(fp, "queue-retry-interval %u\n", c->queue_retry_interval);
	fprintf(fp, "queue-lifetime %u\n", c->queue_lifetime);
	if (c->queue_delay_warning == 0)
		fprintf(fp, "queue-delay-warning off\n");
	else
		fprintf(fp, "queue-delay-warning %u\n",
		    c->queue_delay_warning);
	fprintf(fp, "max-hops %u\n", c->max_hops);
	fprintf(fp, "https-port %u\n", (unsigned int)c->https_port);
	conf_print_kv(fp, "https-ca-file", c->https_ca_file);
	if (c->smarthost != NULL)
		fprintf(fp, "smarthost %s:%u\n", c->smarthost,
		    (unsigned int)c->smarthost_port);
	conf_print_kv(fp, "smarthost-auth-file", c->smarthost_auth_file);
	conf_print_kv(fp, "dnssec-trust-anchor", c->dnssec_trust_anchor);
	if (c->test_sandbox_off)
		fprintf(fp, "test-sandbox off\n");
	conf_print_kv(fp, "test-deliver-crash", c->test_deliver_crash);
	if (c->test_smtp_timeout_ms != 0)
		fprintf(fp, "test-smtp-timeouts %u\n", c->test_smtp_timeout_ms);
	if (c->test_imap_timeout_ms != 0)
		fprintf(fp, "test-imap-timeouts %u\n", c->test_imap_timeout_ms);
	if (c->test_mta_socket)
		fprintf(fp, "test-mta-socket on\n");
	for (i = 0; i < c->ntest_accounts; i++) {
		fputs("test-account ", fp);
		conf_print_value(fp, c->test_accounts[i].address);
		fprintf(fp, " *** %llu\n",
		    (unsigned long long)c->test_accounts[i].id);
	}
	for (i = 0; i < c->nlisteners; i++) {
		const struct sp_listener *l = &c->listeners[i];

		if (l->addr.ss_family == AF_INET6)
			fprintf(fp, "listen %s [%s]:%u\n",
			    conf_kind_name(l->kind), l->host, l->port);
		else
			fprintf(fp, "listen %s %s:%u\n",
			    conf_kind_name(l->kind), l->host, l->port);
	}
}
