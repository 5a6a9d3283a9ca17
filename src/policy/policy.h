/* SPDX-License-Identifier: ISC */
/*
 * policy.h - the policy language (docs/sealpost.policy.5): load the
 * *.policy files of a folder, evaluate them for one sender and recipient,
 * explain the result.  Used by the master (load and check), the filter
 * (RCPT and DATA phase), the SMTP session (policy groups) and sealpostctl
 * (policy check and explain).
 *
 * Trust: the files are the administrator's, but every byte sequence must
 * give a policy or a one-line error (fuzzed: tests/fuzz/fuzz_policy.c).
 * The addresses given to policy_eval() are the client's (hostile): matching
 * is bounded (no regular expressions, SECURITY-TESTS T60).
 *
 * A loaded policy is never changed: any number of evaluations may use it.
 * No I/O except policy_load_dir() reading its folder, no logging, no
 * globals.  Memory comes from the xmalloc family (out of memory is fatal).
 */
#ifndef SP_POLICY_H
#define SP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealpost.h"

/* Limits (docs/sealpost.policy.5, LIMITS). */
#define POLICY_FILE_MAX		(1024 * 1024)	/* bytes per file */
#define POLICY_MAX_FILES	64
#define POLICY_MAX_RULES	1000		/* in the whole set */
#define POLICY_LINE_MAX		4096		/* bytes, without LF/CRLF */
#define POLICY_MAX_PATTERNS	100		/* on one matcher line */
#define POLICY_MAX_PATTERNS_ALL	2000		/* in the whole set: bounds
						   one evaluation's work */
#define POLICY_PATTERN_MAX	320		/* bytes, as written */
#define POLICY_PATTERN_STARS	4		/* '*' in one pattern */
#define POLICY_NAME_MAX		64		/* bytes of a rule name */
#define POLICY_ERR_MAX		1024		/* enough for any error */

/* The settings, in the order policy_explain() shows them. */
enum policy_setting {
	POLICY_MAX_SIZE = 0,		/* RCPT phase */
	POLICY_PGP,
	POLICY_TLS,
	POLICY_SIGN,
	POLICY_PROTECT_SUBJECT,
	POLICY_ENCRYPT_TO_SENDER,
	POLICY_WKD,
	POLICY_ANTIVIRUS,		/* DATA phase */
	POLICY_SPAM_REJECT,
	POLICY_SPAM_JUNK,
	POLICY_SPAM_TAG,
	POLICY_SCANNER_FAILURE,
	POLICY_SCANNER_TIMEOUT,
	POLICY_HEADERS,
	POLICY_AUTOCRYPT,
	POLICY_SETTING_MAX
};

enum policy_pgp {
	POLICY_PGP_OPPORTUNISTIC = 0,
	POLICY_PGP_REQUIRED,
	POLICY_PGP_NEVER
};

enum policy_tls {
	POLICY_TLS_OPPORTUNISTIC = 0,
	POLICY_TLS_REQUIRED
};

enum policy_av {
	POLICY_AV_REJECT = 0,
	POLICY_AV_QUARANTINE
};

enum policy_scanfail {
	POLICY_SCANFAIL_TEMPFAIL = 0,	/* 451 4.7.1 */
	POLICY_SCANFAIL_ACCEPT		/* accept, and say so in a header */
};

/* headers: which ones the filter adds (0: none). */
#define POLICY_HDR_SPAM_SCORE	0x01
#define POLICY_HDR_SPAM_STATUS	0x02
#define POLICY_HDR_AUTH_RESULTS	0x04
#define POLICY_HDR_ALL		0x07

/* Spam scores are in hundredths; "never" is POLICY_SCORE_NEVER. */
#define POLICY_SCORE_MIN	(-100000)	/* -1000.00 */
#define POLICY_SCORE_MAX	100000		/* 1000.00 */
#define POLICY_SCORE_NEVER	INT32_MAX

#define POLICY_SIZE_MIN		1024ULL			/* 1K */
#define POLICY_SIZE_MAX		(4ULL << 30)		/* 4G */
#define POLICY_TIMEOUT_MIN	1			/* seconds */
#define POLICY_TIMEOUT_MAX	600			/* 10m */

/* The value of every setting: plain data, safe to copy. */
struct policy_values {
	uint64_t		max_size;	/* bytes; 0: unset (the server's
						   max-message-size applies) */
	enum policy_pgp		pgp;		/* reserved: reported, */
	enum policy_tls		tls;		/*   not yet enforced */
	bool			sign;
	bool			protect_subject;
	bool			encrypt_to_sender;	/* submissions */
	bool			wkd;		/* look keys up (WKD) */
	enum policy_av		antivirus;
	int32_t			spam_reject;	/* hundredths, or */
	int32_t			spam_junk;	/*   POLICY_SCORE_NEVER */
	int32_t			spam_tag;
	enum policy_scanfail	scanner_failure;
	unsigned int		scanner_timeout;	/* seconds */
	unsigned int		headers;	/* POLICY_HDR_* */
	bool			autocrypt;	/* learn the sender's key */
};

/* Who set a value: a rule's index (>= 0, its position in the files), or */
#define POLICY_SRC_DEFAULTS	(-1)	/* the defaults block */
#define POLICY_SRC_BUILTIN	(-2)	/* nobody: the built-in default */

/*
 * A policy group: the set of matching rules that set anything, as a bit
 * per rule index.  Two evaluations of one policy (and one sender,
 * listener and authentication) have the same effective settings when
 * their groups are equal.  Exact: no hash, so no collisions.  Groups of
 * two different loaded policies (a reload) must not be compared.
 */
#define POLICY_GROUP_WORDS	((POLICY_MAX_RULES + 63) / 64)
struct policy_group {
	uint64_t	bits[POLICY_GROUP_WORDS];
};

struct policy_result {
	struct policy_values	v;
	int			src[POLICY_SETTING_MAX]; /* POLICY_SRC_* or a
							    rule index */
	/*
	 * The policy group: the matching rules that set max-size or a DATA
	 * phase setting (what the one reply to DATA depends on).
	 */
	struct policy_group	group;
	size_t			ngroup;		/* rules in the group */
	/* every matching rule that set anything (policy explain) */
	struct policy_group	matched;
	size_t			nmatched;
};

/*
 * What a policy is evaluated for.  Only the three SMTP listener kinds can
 * match a "listener" matcher.  sender is the envelope MAIL FROM address
 * without angle brackets, "" for the null sender (NULL is taken as "");
 * recipient is one RCPT TO address, or NULL for the sender's policy (a
 * submission's DATA verdict): rules with a "recipient" matcher do not
 * match then.  Both are the client's, untrusted, any length, NUL-terminated.
 */
struct policy_ctx {
	enum sp_listener_kind	 listener;
	bool			 authenticated;
	const char		*sender;
	const char		*recipient;
};

/* One file's bytes, for policy_load_files(); the data need not end in NUL. */
struct policy_file {
	const char	*name;		/* used in errors and in explain */
	const void	*data;
	size_t		 len;
};

struct policy_stats {
	size_t		files;		/* *.policy files read */
	size_t		rules;
	bool		defaults;	/* a defaults block exists */
};

struct policy;

/*
 * Load every *.policy file of the folder dir (names not starting with a
 * dot), in byte order of their names, as one policy.  An empty folder is
 * a policy of built-in defaults.  Files must be regular files (symbolic
 * links are followed) of at most POLICY_FILE_MAX bytes, and at most
 * POLICY_MAX_FILES of them.  Returns the policy (the caller frees it with
 * policy_free), or NULL with a one-line error in err (errlen bytes,
 * POLICY_ERR_MAX is enough): "FILE:LINE:COL: message" for the contents,
 * "DIR: ..." or "FILE: ..." for the folder and reading.
 */
struct policy	*policy_load_dir(const char *dir, char *err, size_t errlen);

/*
 * Parse n files given as buffers, in the order given, as one policy (the
 * loader behind policy_load_dir; n may be 0).  The buffers are not kept.
 * Returns the policy or NULL with "NAME:LINE:COL: message" in err: one
 * line of printable ASCII (the names and the input's bytes are escaped),
 * LINE and COL 1-based, COL counted in bytes; at most one past the end of
 * the input (end-of-file errors).  The same input always gives the same
 * error.
 */
struct policy	*policy_load_files(const struct policy_file *files, size_t n,
		    char *err, size_t errlen);

/*
 * The policy folder as one image (each *.policy file, as policy_load_dir
 * picks them, with its name and length): what the master reads and hands
 * to the filter, which cannot open files.  0 with *img_r the caller's
 * (buf_free), or -1 with err as policy_load_dir.  At most
 * POLICY_IMAGE_MAX bytes.
 */
#define POLICY_IMAGE_MAX	(POLICY_MAX_FILES * (POLICY_FILE_MAX + 300))
#define POLICY_DIR_OPTIONAL	0x01	/* no folder: no files (built-in) */
struct buf;
int		 policy_image_read(const char *dir, int flags,
		    struct buf **img_r, char *err, size_t errlen);
/* Parse an image (policy_load_files of its files), or NULL with err. */
struct policy	*policy_image_load(const void *img, size_t len, char *err,
		    size_t errlen);

/* policy_load_files() of one buffer named name (tests, the fuzzer). */
struct policy	*policy_load_buf(const char *name, const void *buf,
		    size_t len, char *err, size_t errlen);

/* Free a policy (NULL is fine). */
void		 policy_free(struct policy *);

/*
 * The longest scanner-timeout any evaluation can give (seconds): the
 * antivirus engine's own limit, set once for every message.
 */
unsigned int	 policy_max_timeout(const struct policy *);

/* Counts for the log line after a load. */
void		 policy_stats(const struct policy *, struct policy_stats *);

/* The built-in defaults (what applies when nothing sets a setting). */
void		 policy_builtin(struct policy_values *);

/*
 * Evaluate the policy for ctx into *res: the built-in defaults, then the
 * defaults block, then every matching rule in ascending order of
 * (specificity, position), each overriding what it sets.  Never fails.
 * Cost: at most (address length + 2) * (pattern length + 1) steps for
 * each pattern of each rule (policy_glob_match).
 */
void		 policy_eval(const struct policy *, const struct policy_ctx *,
		    struct policy_result *res);

/* Whether two groups of the same policy are the same group. */
bool		 policy_group_eq(const struct policy_group *,
		    const struct policy_group *);

/*
 * The group's name: its rules' names in application order joined by ","
 * ("default" for the empty group), for logs and explain; not unique (a
 * quoted name may hold a comma): compare groups with policy_group_eq.
 * Writes at most len bytes including the NUL (truncating); returns the
 * length the whole name has, as snprintf does.  res must come from p.
 */
size_t		 policy_group_name(const struct policy *p,
		    const struct policy_group *g, char *buf, size_t len);

/* The rule's name ("defaults", "built-in" for the POLICY_SRC_* values). */
const char	*policy_source_name(const struct policy *, int src);

/* A setting's name as written in a file ("spam reject" for SPAM_REJECT). */
const char	*policy_setting_name(enum policy_setting);

/*
 * The effective settings of res as text, for sealpostctl policy explain:
 * a "group NAME" line, then one line per setting in enum order:
 *	SETTING VALUE (SOURCE)
 * where VALUE is written as in a file ("unset" for no max-size) and
 * SOURCE is rule "NAME", FILE:LINE / defaults, FILE:LINE / built-in.
 * Writes at most len bytes including the NUL (truncating); returns the
 * whole text's length, as snprintf does.  res must come from p.
 */
size_t		 policy_explain(const struct policy *p,
		    const struct policy_result *res, char *buf, size_t len);

/*
 * The spam action for a score in hundredths: the first of reject, junk
 * and tag whose threshold the score is strictly above ("never" is never
 * exceeded), or POLICY_ACTION_NONE.
 */
enum policy_spam_action {
	POLICY_ACTION_NONE = 0,
	POLICY_ACTION_TAG,
	POLICY_ACTION_JUNK,
	POLICY_ACTION_REJECT
};
enum policy_spam_action policy_spam_action(const struct policy_values *,
		    int64_t score);

/*
 * Match an address against a pattern: bytes compared without ASCII case,
 * '*' matching any run of bytes (empty too), nothing else special.  An
 * iterative glob with one backtrack point: at most (slen + 2) * (plen +
 * 1) steps, whatever the input.  If steps_r is not NULL, the number of
 * steps is added to it (tests check the bound).  Both inputs may hold any
 * byte; neither needs a NUL.
 */
bool		 policy_glob_match(const char *pat, size_t plen,
		    const char *s, size_t slen, size_t *steps_r);

#endif
