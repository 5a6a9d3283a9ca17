/* SPDX-License-Identifier: ISC */
/*
 * imap_enable.c - ENABLE (RFC 5161) in the account's mail process: the
 * extensions a client turns on for the rest of its session.
 *
 *   CONDSTORE	RFC 7162 3.1 (imap_condstore.c)
 *   QRESYNC	RFC 7162 3.2, and CONDSTORE with it
 *   UTF8=ACCEPT	RFC 6855: mailbox names and quoted strings in UTF-8
 *   IMAP4rev2	RFC 9051: UTF-8 as above, no \Recent, SEARCH answered
 *		with ESEARCH, a LIST line with SELECT
 *
 * Trust: the arguments are the client's atoms; anything unknown is
 * ignored (RFC 5161 3.1), each extension is said once, when it is new.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "index.h"
#include "imap_cmd.h"
#include "imap_mbox.h"
#include "imap_mbox_int.h"
#include "banned.h"

int
mb_enable(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	bool	condstore = false, qresync = false, utf8 = false, rev2 = false;
	size_t	i;

	for (i = 0; i < c->nargs; i++)
		if (c->args[i].type != IMAP_ARG_ATOM) {
			mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
			return 0;
		}
	for (i = 0; i < c->nargs; i++) {
		const struct imap_arg	*a = &c->args[i];

		/* RFC 7162 3.2.3: QRESYNC implies CONDSTORE */
		if (mb_is(a, "QRESYNC"))
			qresync = condstore = true;
		else if (mb_is(a, "CONDSTORE"))
			condstore = true;
		else if (mb_is(a, "UTF8=ACCEPT"))
			utf8 = true;
		else if (mb_is(a, "IMAP4rev2"))
			rev2 = true;
	}
	condstore = condstore && !m->condstore;
	qresync = qresync && !m->qresync;
	utf8 = utf8 && !m->utf8_accept;
	rev2 = rev2 && !m->rev2;
	mb_printf(o, "* ENABLED%s%s%s%s\r\n", condstore ? " CONDSTORE" : "",
	    qresync ? " QRESYNC" : "", utf8 ? " UTF8=ACCEPT" : "",
	    rev2 ? " IMAP4rev2" : "");
	if (condstore)
		mb_condstore_on(m, o);
	if (qresync)
		m->qresync = true;
	if (utf8)
		m->utf8_accept = true;
	if (rev2)
		m->rev2 = true;
	/* both put names and quoted strings in UTF-8 (RFC 9051 5.1) */
	m->utf8 = m->utf8_accept || m->rev2;
	mb_printf(o, "%s OK ENABLE completed\r\n", c->tag);
	return 0;
}
