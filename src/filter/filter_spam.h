/* SPDX-License-Identifier: ISC */
/*
 * filter_spam.h - the filter service's rspamd client: a message and its
 * envelope go to rspamd's /checkv2 over HTTP on loopback, and its JSON
 * reply comes back as a score, an action, the SPF/DKIM/DMARC results and
 * the names of the symbols that scored; spam_headers() turns that result
 * into header lines of our own making (never rspamd's text).
 *
 * Trust: rspamd is ours but parses hostile mail, so its reply is only
 * semi-trusted: spam_parse() checks every field's type, clamps numbers
 * and keeps nothing of the reply but numbers, enums and symbol names
 * reduced to [A-Z0-9_].
 */
#ifndef SP_FILTER_SPAM_H
#define SP_FILTER_SPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPAM_REPLY_MAX		(1024 * 1024)	/* bytes of a /checkv2 reply */
#define SPAM_SCORE_CLAMP	100000		/* hundredths: +-1000.00 */
#define SPAM_SYMBOLS_MAX	512		/* struct spam_result symbols */
#define SPAM_HOSTNAME_MAX	253		/* longer names: "unknown" */
#define SPAM_HTTP_VALUE_MAX	998		/* longer envelope values are
						   not sent to rspamd */

enum spam_action {
	SPAM_NO_ACTION,
	SPAM_GREYLIST,
	SPAM_ADD_HEADER,
	SPAM_REWRITE_SUBJECT,
	SPAM_SOFT_REJECT,
	SPAM_REJECT,
	SPAM_UNKNOWN		/* an action rspamd 3.4 does not have */
};

/* SPF, DKIM, DMARC results as RFC 8601 words */
enum spam_auth {
	SPAM_AUTH_NONE_SEEN = 0,	/* no symbol of the kind: "none" */
	SPAM_AUTH_PASS,
	SPAM_AUTH_FAIL,
	SPAM_AUTH_SOFTFAIL,
	SPAM_AUTH_NEUTRAL,
	SPAM_AUTH_NONE,
	SPAM_AUTH_TEMPERROR,
	SPAM_AUTH_PERMERROR
};

struct spam_result {
	int64_t		 score;		/* hundredths, clamped to
					   +-SPAM_SCORE_CLAMP */
	int64_t		 required;	/* required_score, hundredths,
					   clamped likewise */
	enum spam_action action;
	bool		 skipped;	/* is_skipped (GTUBE, settings) */
	enum spam_auth	 spf, dkim, dmarc;	/* from rspamd's symbols */
	/*
	 * The names of the symbols with a non-zero score, highest |score|
	 * first (equal scores by name), comma-separated, NUL-terminated,
	 * cut before the first name that does not fit; only [A-Z0-9_]
	 * (other characters of a name are dropped, a name left empty is
	 * skipped).
	 */
	char		 symbols[SPAM_SYMBOLS_MAX];
};

/*
 * Parse a /checkv2 reply: json is len bytes (not NUL-terminated, at most
 * SPAM_REPLY_MAX), from rspamd (semi-trusted).  score, required_score
 * (numbers) and action (a string) must be there; is_skipped must be a
 * boolean and symbols an object of objects whose "score" is a number
 * when they are there; other members are ignored (rspamd's "milter"
 * headers included: spam_headers() makes our own).  Several symbols of
 * one kind (R_SPF_ALLOW and R_SPF_FAIL, say): the worse result wins
 * (fail, permerror, temperror, softfail, neutral, none, pass).
 * 0 with *r filled, or -1 with *r zeroed and a printable reason in err.
 * Pure: no I/O, nothing kept (jansson allocates while it parses).
 * Thread-safe after spam_global_init().
 */
int	spam_parse(const char *json, size_t len, struct spam_result *r,
	    char *err, size_t errlen);

/* The RFC 8601 word for a result ("none" for SPAM_AUTH_NONE_SEEN). */
const char *spam_auth_word(enum spam_auth);
/* "no action", "greylist", ... as rspamd writes them; "unknown". */
const char *spam_action_name(enum spam_action);

#define SPAM_HDR_SCORE	0x01	/* X-Spam-Score: 7.50 */
#define SPAM_HDR_STATUS	0x02	/* X-Spam-Status: Yes, score=... tests=... */
#define SPAM_HDR_AUTH	0x04	/* Authentication-Results: ... */

/*
 * The header lines for a result, in the order above, each ending in
 * CR LF, into out (len bytes, NUL-terminated):
 *   X-Spam-Score: 7.50
 *   X-Spam-Status: Yes, score=7.50 required=15.00 tests=A,B
 *   Authentication-Results: HOSTNAME; spf=pass smtp.mailfrom=DOMAIN;
 *	dkim=none; dmarc=none
 * Scores signed with two decimals; "Yes" when tag, else "No"; tests=none
 * for no symbols.  The tests= list and the Authentication-Results items
 * are folded before 78 columns with CR LF TAB (a single long symbol
 * name may make a line longer, never past 998).  which: a mask of
 * SPAM_HDR_*.  hostname (ours) and mailfrom_domain (the envelope's) are
 * used only when made of [A-Za-z0-9.-] and at most SPAM_HOSTNAME_MAX
 * long, else "unknown"; an empty or NULL domain (the null sender) leaves
 * " smtp.mailfrom=..." out.  *r is checked again (any struct may come
 * in): scores clamped, symbols reduced to [A-Z0-9_,].  Output is
 * printable ASCII, CR LF and TAB only (SECURITY-TESTS T55).  Returns the
 * length written (without the NUL), or -1 when out is too small.
 */
int	spam_headers(const struct spam_result *r, unsigned int which,
	    bool tag, const char *hostname, const char *mailfrom_domain,
	    char *out, size_t len);

/*
 * curl_global_init() and jansson's hash seed: once, before the jail
 * (OpenSSL's start-up and the seed read files) and before any thread.
 * 0, or -1 when libcurl cannot start or lacks HTTP.
 */
int	spam_global_init(void);

struct spam_client;

/*
 * A client for the rspamd at url: "http://IPV4:PORT" or
 * "http://[IPV6]:PORT" (a numeric address only: there is no name
 * resolution in the jail; the port may be left out for 80; an optional
 * "/" after it).  One per scanning thread, never shared; it keeps its
 * connection to rspamd open between messages.  NULL with the reason in
 * err when the URL is not of that form or libcurl fails.  The caller
 * owns the client: spam_client_free().
 */
struct spam_client *spam_client_new(const char *url, char *err,
	    size_t errlen);
void	spam_client_free(struct spam_client *);

/* One message to check: the envelope and the message's sealed memfd. */
struct spam_req {
	const char		*ip;		/* the client's address */
	const char		*helo;		/* its HELO/EHLO argument */
	const char		*from;		/* reverse-path without <>;
						   "" the null sender: <> */
	const char		*user;		/* authenticated account or
						   NULL */
	const char		*queue_id;	/* for rspamd's log */
	const char		*hostname;	/* the CLIENT's name from
						   reverse DNS (rspamd's
						   Hostname:), NULL when it
						   has none; not ours */
	const char *const	*rcpts;		/* nrcpts forward-paths */
	size_t			 nrcpts;
	int			 fd;		/* the message: read with pread
						   from offset 0 */
	size_t			 size;		/* its length */
	long			 timeout_ms;	/* the whole request; > 0 */
};

/*
 * POST /checkv2: the envelope as headers (IP, Helo, From, Rcpt one per
 * recipient, User, Queue-Id, Hostname; a NULL or empty value, one longer
 * than SPAM_HTTP_VALUE_MAX or one holding a control character is left
 * out: it is never sent), the message streamed from fd with pread (never
 * all in memory), the reply bounded to SPAM_REPLY_MAX and parsed by
 * spam_parse().  The connection stays open for the next message.
 * 0 with *r filled, or -1 with a printable reason in err (connection
 * refused, timeout, HTTP status, reply too large, malformed JSON, ...).
 */
int	spam_check(struct spam_client *, const struct spam_req *,
	    struct spam_result *r, char *err, size_t errlen);

#endif
