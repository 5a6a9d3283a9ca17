/* SPDX-License-Identifier: ISC */
/*
 * policy_int.h - the loaded policy's structures, shared by policy_parse.c
 * (which builds them) and policy_eval.c (which reads them).  Not for
 * other modules: they use policy.h.
 */
#ifndef SP_POLICY_INT_H
#define SP_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Matcher kinds: a bit each in policy_rule.matchers. */
enum policy_matcher {
	PM_SENDER = 0,
	PM_RECIPIENT,
	PM_LISTENER,
	PM_AUTHENTICATED,
	PM_MAX
};

/* Pattern kinds, for specificity and a faster exact compare. */
enum policy_pat_kind {
	PAT_NULL = 0,		/* <>: the null sender only */
	PAT_EXACT,		/* no '*' */
	PAT_DOMAIN,		/* "*@" then no '*': a whole domain */
	PAT_GLOB		/* anything else with a '*' */
};

struct policy_pat {
	char			*s;	/* "@d" stored as "*@d"; "" for <> */
	size_t			 len;
	enum policy_pat_kind	 kind;
};

/* The settings of one block (a rule or defaults), and where each is. */
struct policy_block {
	struct policy_values	 v;
	uint32_t		 set;	/* 1 << enum policy_setting */
	uint32_t		 line[POLICY_SETTING_MAX];
	size_t			 file;	/* index in policy.files */
	uint32_t		 hline;	/* the header line, "{" */
};

struct policy_rule {
	char			*name;	/* validated: no controls */
	uint32_t		 col;	/* of "rule" on hline */
	unsigned int		 matchers;	/* 1 << enum policy_matcher */
	uint32_t		 mline[PM_MAX];
	unsigned int		 listeners;	/* 1 << sp_listener_kind */
	bool			 authenticated;
	struct policy_pat	*pats[2];	/* PM_SENDER, PM_RECIPIENT */
	size_t			 npats[2];
	unsigned int		 specificity;
	struct policy_block	 b;
};

struct policy {
	char			**files;	/* names, escaped for display */
	size_t			  nfiles;
	struct policy_rule	 *rules;	/* in file order: the index */
	size_t			  nrules;
	size_t			 *order;	/* by (specificity, index) */
	bool			  has_defaults;
	struct policy_block	  defaults;
	size_t			  npatterns;	/* in all rules */
};


/* --- the parser (policy_lex.c, policy_settings.c, policy_parse.c) --- */

#define ESC_SHOW	40	/* bytes of a token shown in an error */
#define ESC_NAME_SHOW	100	/* bytes of a file name shown */

enum tok_kind {
	T_END = 0,		/* end of line or a comment */
	T_WORD,
	T_QUOTED,		/* "...": s/len are inside the quotes */
	T_LBRACE,
	T_RBRACE
};

struct policy_tok {
	enum tok_kind	 kind;
	const char	*s;
	size_t		 len;
	size_t		 col;		/* 1-based byte of its first byte */
	bool		 eight;		/* holds a byte >= 0x80 */
};

enum policy_pstate {
	S_TOP = 0,
	S_RULE,
	S_DEFAULTS
};

struct policy_parser {
	struct policy	*p;
	size_t		 file;		/* index in p->files */
	const char	*fname;		/* p->files[file]: escaped */
	const char	*line;		/* the current line, without LF/CRLF */
	size_t		 linelen;
	size_t		 pos;		/* the tokenizer's cursor in line */
	uint32_t	 lineno;
	enum policy_pstate	 state;
	size_t		 rule;		/* S_RULE: index of the open rule */
	size_t		 rulescap;
	char		*err;
	size_t		 errlen;
};

/* An escaped copy of some input bytes, for a message. */
struct policy_escbuf {
	char	s[ESC_NAME_SHOW * 4 + 4];
};

#define SETTINGS_LIST	"max-size, pgp, tls, sign, protect-subject, " \
			"encrypt-to-sender, wkd, " \
			"antivirus, spam, scanner-failure, scanner-timeout, " \
			"headers, autocrypt"
#define MATCHERS_LIST	"sender, recipient, listener or authenticated"

struct policy_choice {
	const char	*name;
	int		 val;
};

/* policy_lex.c */
/* Escape len bytes for a message (at most show of them, then "..."). */
const char	*policy_esc_n(struct policy_escbuf *, const char *, size_t len,
		    size_t show);
const char	*policy_esc(struct policy_escbuf *, const char *, size_t);
/* A token as a message shows it: "word", "{", "}", a quoted string. */
const char	*policy_tok_desc(struct policy_escbuf *,
		    const struct policy_tok *);
/* Set the parser's error, at LINE:COL or at COL of the current line; -1. */
int		 policy_perr_at(struct policy_parser *, uint32_t, size_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
int		 policy_perr(struct policy_parser *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
bool		 policy_tok_is(const struct policy_tok *, const char *);
const struct policy_choice *policy_choice_find(const struct policy_choice *,
		    const struct policy_tok *);
/* rule "NAME" or "defaults": the open block, for messages. */
const char	*policy_blk_name(struct policy_parser *,
		    struct policy_escbuf *);
/* Check every byte of the current line; -1 with the error. */
int		 policy_lex_check(struct policy_parser *);
/* The next token of the current line (a comment ends it); -1: error. */
int		 policy_lex_next(struct policy_parser *, struct policy_tok *);
/* The line must end here ("unexpected X after AFTER"). */
int		 policy_lex_end(struct policy_parser *, const char *after);
/* The next value after AFTER: a word or T_END; -1 for anything else. */
int		 policy_lex_value(struct policy_parser *, struct policy_tok *,
		    const char *after);

/* policy_settings.c */
/* The setting keyword t is (an index for policy_parse_setting), or -1. */
int		 policy_keyword(const struct policy_tok *);
/* The rest of a setting line whose keyword kw is keyword k. */
int		 policy_parse_setting(struct policy_parser *,
		    const struct policy_tok *kw, int k);
/* "yes" or "no", then the end of the line. */
int		 policy_parse_yesno(struct policy_parser *, const char *name,
		    bool *out);

/* policy_parse.c */
/* Parse one file's bytes into ps->p (a block must end in its file). */
int		 policy_parse_file(struct policy_parser *, const char *,
		    size_t);

/* policy_eval.c */
/* Write a value as in a file ("10M", "above 6", "30s"). */
void	policy_value_str(enum policy_setting, const struct policy_values *,
	    char *buf, size_t len);

#endif
