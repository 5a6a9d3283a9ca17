/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mta_reply.c - libFuzzer target for the outbound client's reply
 * reader (F16): the input is cut into lines at LF (a CR before it
 * dropped, as the reader does), each fed in turn until the reply is done
 * or refused.  Invariants: a done reply has a code of RFC 5321's classes
 * and at most MTA_REPLY_LINES_MAX lines; its text is printable ASCII and
 * within its limit; a status code, when kept, starts with the code's
 * class; EHLO parsing of any reply terminates and gives known bits only.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta_reply.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mta_reply	 r;
	struct mta_ehlo		 e;
	const char		*p = (const char *)data, *end = p + size, *nl;
	const char		*why;
	size_t			 n, i;
	int			 rc = MTA_REPLY_MORE;

	mta_reply_init(&r);
	while (p < end && rc == MTA_REPLY_MORE) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		rc = mta_reply_line(&r, p, n, &why);
		if ((rc == MTA_REPLY_BAD) != (why != NULL))
			abort();
		p = nl != NULL ? nl + 1 : end;
	}
	if (r.textlen > MTA_REPLY_TEXT_MAX || strlen(r.text) != r.textlen ||
	    r.nlines > MTA_REPLY_LINES_MAX || r.lineslen > sizeof(r.lines))
		abort();
	for (i = 0; i < r.textlen; i++)
		if (r.text[i] < 0x20 || r.text[i] > 0x7e)
			abort();
	if (rc == MTA_REPLY_DONE) {
		if (r.code < 200 || r.code > 559 || !r.done)
			abort();
		if (r.status[0] != '\0' && r.status[0] != '0' + r.code / 100)
			abort();
	}
	mta_reply_ehlo(&r, &e);
	if ((e.exts & ~0x1ffU) != 0)
		abort();
	return 0;
}
