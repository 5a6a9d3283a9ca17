/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_search.c - libFuzzer target for SEARCH keys (imap_search.c):
 * the input is the text of "t SEARCH <input>" (one line, no literals),
 * parsed by imap_cmd.c and then by imap_search_parse; a tree that parses
 * is prepared against a small mailbox and matched against messages with
 * fixed headers and body text.
 *
 * Invariants: an error has a text and a code ("", BADCHARSET or LIMIT);
 * a tree's node count is within IMAP_SEARCH_NODES_MAX and every child
 * index points inside it; matching terminates (the depth is bounded) and
 * a key and NOT key never both match.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "log.h"
#include "imap_cmd.h"
#include "imap_search.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char	fz_hdr[] = "From: a@b.test\r\nSubject: =?UTF-8?Q?h=C3=A9llo?="
			    "\r\nX-A: one\r\n two\r\n\r\n";

static const struct meta *
fz_meta(void *arg)
{
	(void)arg;
	return NULL;
}

static const char *
fz_header(void *arg, size_t *len)
{
	(void)arg;
	*len = sizeof(fz_hdr) - 1;
	return fz_hdr;
}

static bool
fz_body_has(void *arg, const char *folded)
{
	(void)arg;
	return imap_search_has("the body text", folded);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_raw		 raw;
	struct imap_cmd		 cmd;
	struct imap_search	 s, neg;
	struct imap_search_msg	 m;
	const char		*err, *code;
	char			*line;
	size_t			 i;
	uint32_t		 seq;

	static bool		 init;

	if (!init) {
		g_mime_init();		/* as meta_init does in imap-mail */
		init = true;
	}
	if (size > 8000)
		return 0;
	memset(&raw, 0, sizeof(raw));
	memset(&cmd, 0, sizeof(cmd));
	line = malloc(size + 10);
	memcpy(line, "t SEARCH ", 9);
	memcpy(line + 9, data, size);
	raw.buf = line;
	raw.len = size + 9;
	raw.nsegs = 1;
	raw.segs[0].p = line;
	raw.segs[0].len = size + 9;
	if (imap_cmd_parse(&raw, &cmd, &err) != IMAP_PARSE_OK) {
		free(line);
		return 0;
	}
	if (imap_search_parse(cmd.args, cmd.nargs, &s, &err, &code) == -1) {
		SP_ASSERT(err != NULL && code != NULL);
		SP_ASSERT(code[0] == '\0' || strcmp(code, "BADCHARSET") == 0 ||
		    strcmp(code, "LIMIT") == 0);
		imap_search_free(&s);
		imap_cmd_free(&cmd);
		free(line);
		return 0;
	}
	SP_ASSERT(s.nnodes >= 1 && s.nnodes <= IMAP_SEARCH_NODES_MAX);
	for (i = 0; i < s.nnodes; i++)
		SP_ASSERT(s.nodes[i].a < s.nnodes && s.nodes[i].b < s.nnodes &&
		    s.nodes[i].next < s.nnodes);
	imap_search_prepare(&s, 5, 40);
	memset(&m, 0, sizeof(m));
	m.nmsgs = 5;
	m.maxuid = 40;
	m.meta = fz_meta;
	m.header = fz_header;
	m.body_has = fz_body_has;
	for (seq = 1; seq <= 5; seq++) {
		m.seq = seq;
		m.uid = seq * 8;
		m.flags = seq;
		m.size = (uint64_t)seq * 1000;
		m.internal_date = (int64_t)seq * 86400 * 300;
		(void)imap_search_match(&s, &m);
	}
	/* NOT (input) matches exactly what the input does not */
	memset(&neg, 0, sizeof(neg));
	if (cmd.nargs > 0 && (cmd.args[0].type != IMAP_ARG_ATOM ||
	    (cmd.args[0].len != 6 && cmd.args[0].len != 7) ||
	    (strncasecmp(cmd.args[0].s, "RETURN", 6) != 0 &&
	    strncasecmp(cmd.args[0].s, "CHARSET", 7) != 0))) {
		struct imap_arg	 not[2];

		memset(not, 0, sizeof(not));
		not[0].type = IMAP_ARG_ATOM;
		not[0].s = "NOT";
		not[0].len = 3;
		not[1].type = IMAP_ARG_LIST;
		not[1].list = cmd.args;
		not[1].n = cmd.nargs;
		if (imap_search_parse(not, 2, &neg, &err, &code) == 0) {
			imap_search_prepare(&neg, 5, 40);
			for (seq = 1; seq <= 5; seq++) {
				m.seq = seq;
				m.uid = seq * 8;
				m.flags = seq;
				m.size = (uint64_t)seq * 1000;
				m.internal_date = (int64_t)seq * 86400 * 300;
				SP_ASSERT(imap_search_match(&s, &m) !=
				    imap_search_match(&neg, &m));
			}
		}
		imap_search_free(&neg);
	}
	imap_search_free(&s);
	imap_cmd_free(&cmd);
	free(line);
	return 0;
}
