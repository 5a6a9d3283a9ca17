/* SPDX-License-Identifier: ISC */
/*
 * smtp_parse.h - the SMTP command parser: pure functions from a command
 * line (already bounded, without its CRLF, checked for NUL, bare CR and
 * bare LF by the caller) to a verb, a path and parameters.  No I/O, no
 * state: the session (smtp.c) keeps the state, the fuzzer
 * (tests/fuzz/fuzz_smtp_parse.c) calls these directly.
 *
 * Grammar: RFC 5321 4.1.1 and 4.1.2 (Mailbox, Domain, address-literal,
 * Quoted-string local parts), RFC 6531 (UTF-8 in addresses, only with
 * SMTPUTF8), RFC 1870 SIZE, RFC 6152 BODY, RFC 3461 DSN parameters with
 * xtext (RFC 3461 4), RFC 4954 AUTH=.  Everything is checked, nothing is
 * repaired: a line that does not parse is a syntax error (501), never a
 * guess.
 */
#ifndef SP_SMTP_PARSE_H
#define SP_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_PATH_MAX		256	/* RFC 5321 4.5.3.1.3, with <> */
#define SMTP_ADDR_MAX		254	/* an address without <> */
#define SMTP_LOCAL_MAX		64	/* RFC 5321 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX		255	/* RFC 5321 4.5.3.1.2 */
#define SMTP_ENVID_MAX		100	/* RFC 3461 4.4: decoded xtext */
#define SMTP_ORCPT_MAX		500	/* RFC 3461 4.2: decoded xtext */

enum smtp_verb {
	SMTP_V_UNKNOWN = 0,
	SMTP_V_HELO, SMTP_V_EHLO, SMTP_V_MAIL, SMTP_V_RCPT, SMTP_V_DATA,
	SMTP_V_BDAT, SMTP_V_RSET, SMTP_V_NOOP, SMTP_V_QUIT, SMTP_V_HELP,
	SMTP_V_VRFY, SMTP_V_EXPN, SMTP_V_STARTTLS, SMTP_V_AUTH,
	SMTP_V_XSPTEST		/* test hooks builds only act on it */
};

/*
 * The verb of line (case-insensitive, ended by a space or the end of the
 * line) and where its arguments start (*args_r: after exactly one space,
 * or "" at the end).  A verb followed by anything but one space or the
 * end is SMTP_V_UNKNOWN (and *args_r the end of line, "").
 */
enum smtp_verb	smtp_parse_verb(const char *line, const char **args_r);

/* DSN NOTIFY= (RFC 3461 4.1) bits; 0: not given. */
#define SMTP_NOTIFY_NEVER	0x01
#define SMTP_NOTIFY_SUCCESS	0x02
#define SMTP_NOTIFY_FAILURE	0x04
#define SMTP_NOTIFY_DELAY	0x08

/* BODY= (RFC 6152) */
enum smtp_body {
	SMTP_BODY_NONE = 0,	/* not given: 7BIT by RFC 5321 */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME
};

/* DSN RET= (RFC 3461 4.3) */
enum smtp_ret {
	SMTP_RET_NONE = 0,
	SMTP_RET_FULL,
	SMTP_RET_HDRS
};

/*
 * MAIL FROM: <reverse-path> [params].  addr is the Mailbox as sent (a
 * quoted local part keeps its quotes and backslashes; nothing is
 * lower-cased), without the <> and a source route.
 */
struct smtp_mail {
	char		 addr[SMTP_ADDR_MAX + 1];	/* "" for <> */
	bool		 utf8;		/* the address has 8-bit bytes */
	uint64_t	 size;		/* SIZE=, 0: not given */
	bool		 has_size;
	enum smtp_body	 body;
	bool		 smtputf8;	/* SMTPUTF8 given */
	enum smtp_ret	 ret;
	char		 envid[SMTP_ENVID_MAX + 1];	/* decoded; "" none */
	bool		 has_auth;	/* AUTH= given (RFC 4954 5) */
	char		 auth[SMTP_ADDR_MAX + 1];	/* decoded; "" is <> */
};

/* RCPT TO: <forward-path> [params]; addr as in struct smtp_mail */
struct smtp_rcpt {
	char		 addr[SMTP_ADDR_MAX + 1];
	bool		 utf8;
	bool		 postmaster;	/* <Postmaster> without a domain */
	unsigned int	 notify;	/* SMTP_NOTIFY_* */
	char		 orcpt[SMTP_ORCPT_MAX + 1];	/* "type;addr" decoded;
							   "" none */
};

/* Parse errors: what the session answers, and why (for the log). */
enum smtp_perr {
	SMTP_P_OK = 0,
	SMTP_P_SYNTAX,		/* 501 5.5.4 bad syntax of the command */
	SMTP_P_ADDRESS,		/* 501 5.1.3 bad address syntax (5.1.7 for
				   MAIL: the session picks) */
	SMTP_P_PARAM,		/* 555 5.5.4 unknown or repeated parameter,
				   or one of an extension not offered */
	SMTP_P_PARAM_VALUE,	/* 501 5.5.4 bad parameter value (and xtext
				   hiding CR, LF, NUL or other controls) */
	SMTP_P_UTF8,		/* 553 5.6.7 UTF-8 address without SMTPUTF8
				   (RFC 6531 3.6) */
	SMTP_P_TOOLONG		/* 501 5.5.4 path or part over its limit */
};

/* Which extensions were offered (EHLO): parameters of others are 555. */
#define SMTP_EXT_SIZE		0x01
#define SMTP_EXT_8BITMIME	0x02
#define SMTP_EXT_SMTPUTF8	0x04
#define SMTP_EXT_DSN		0x08
#define SMTP_EXT_AUTH		0x10

/*
 * args: what follows "MAIL " ("FROM:<...> SIZE=10"), as smtp_parse_verb
 * gave it.  "FROM:" is case-insensitive; no space is allowed before the
 * path (RFC 5321 4.1.2; RFC 5321 3.3 says the syntax has no space, and a
 * strict server refuses it), exactly one before each parameter and none
 * at the end.  exts: SMTP_EXT_* offered.  An 8-bit byte in the address
 * without SMTPUTF8 among the parameters is SMTP_P_UTF8; with it, the
 * address must be valid UTF-8 (RFC 3629).  Source routes ("<@a,@b:x@y>")
 * are accepted and dropped (RFC 5321 4.1.2, C).  On any error the whole
 * struct is zeroed.
 */
enum smtp_perr	smtp_parse_mail(const char *args, unsigned int exts,
		    struct smtp_mail *);
/*
 * The same for "TO:<...> NOTIFY=... ORCPT=...".  smtputf8: the
 * transaction's MAIL had SMTPUTF8 (UTF-8 allowed in the address).
 * "<Postmaster>" (any case, no domain) is accepted (RFC 5321 4.5.1) with
 * postmaster set and addr "postmaster".  The empty path <> is an error.
 * On any error the whole struct is zeroed.
 */
enum smtp_perr	smtp_parse_rcpt(const char *args, unsigned int exts,
		    bool smtputf8, struct smtp_rcpt *);

/*
 * A mailbox "local@domain" (no <>): RFC 5321 Mailbox with Dot-string or
 * Quoted-string local part (quoted-pairs and qtextSMTP only, no control
 * characters), a domain of letter-digit-hyphen labels of at most 63
 * (RFC 1035), at most SMTP_DOMAIN_MAX in all (or UTF-8 U-labels
 * when utf8_ok; not checked against IDNA tables, only for valid UTF-8 and
 * no controls, spaces or specials) or an address literal [IPv4] or
 * [IPv6:...] (checked with inet_pton; other tags are refused).  Local
 * part at most SMTP_LOCAL_MAX and all of it SMTP_ADDR_MAX octets as sent
 * (quotes and backslashes count).  0 valid, -1 not.
 */
int		smtp_valid_mailbox(const char *s, size_t len, bool utf8_ok);
/*
 * A HELO/EHLO argument: a Domain or an address literal (RFC 5321 4.1.1.1)
 * and nothing else (no trailing text, no control characters, at most
 * SMTP_DOMAIN_MAX bytes; ASCII only: EHLO comes before SMTPUTF8).  0
 * valid, -1 not.
 */
int		smtp_valid_helo(const char *s);

/*
 * Decode RFC 3461 xtext (the "+XX" form) of len bytes into out (outlen
 * with the NUL).  SECURITY: a decoded byte outside 33..126 other than
 * the space (CR, LF, NUL, DEL, 8-bit: header injection in a later DSN) is
 * an error, as are "+" not followed by two upper-case hex digits and raw
 * bytes outside xchar.  0, or -1 (out is then all NUL).
 */
int		smtp_xtext_decode(const char *in, size_t len, char *out,
		    size_t outlen);

/*
 * AUTH: "PLAIN [initial-response]" / "LOGIN [initial-response]" (RFC 4954
 * 4): the mechanism (upper-cased into mech, at most 20 characters) and
 * the initial response (base64 or "=" for empty; not decoded) or NULL.
 * 0, or -1 on syntax.
 */
int		smtp_parse_auth(const char *args, char mech[21],
		    const char **initial_r);
/* AUTH PLAIN's message and AUTH LOGIN's lines: common/sasl.h. */

#endif
