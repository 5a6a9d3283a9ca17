/* SPDX-License-Identifier: ISC */
/*
 * fuzz_queue_dsn.c - libFuzzer target for the delivery status
 * notification builder: the first byte picks RET=FULL and the action,
 * the input up to its first NUL is the remote's reply (hostile), the rest
 * the original message.  A notification that is built has every line CR
 * LF and at most 998 octets, no NUL, and ends with the closing boundary.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "queue_dsn.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 end[] = "\r\n--SealpostFuzzBoundary0--\r\n";
	struct dsn_rcpt		 r;
	struct dsn_in		 in;
	struct buf		*b;
	const uint8_t		*nul;
	char			*diag, err[128];
	size_t			 dl, i, ll = 0;

	if (size < 1)
		return 0;
	nul = memchr(data + 1, '\0', size - 1);
	dl = nul != NULL ? (size_t)(nul - (data + 1)) : 0;
	diag = malloc(dl + 1);
	memcpy(diag, data + 1, dl);
	diag[dl] = '\0';
	memset(&r, 0, sizeof(r));
	r.addr = "b@remote.test";
	r.orcpt = diag;
	r.action = (data[0] & 2) ? DSN_DELAYED : DSN_FAILED;
	r.status = diag;
	r.remote_mta = diag;
	r.diag = diag;
	memset(&in, 0, sizeof(in));
	in.reporting_mta = "mail.example.test";
	in.sender = "a@example.test";
	in.envid = diag;
	in.ret_full = data[0] & 1;
	in.rcpts = &r;
	in.nrcpts = 1;
	in.msg = nul != NULL ? nul + 1 : data + 1;
	in.msglen = size - (size_t)(in.msg - data);
	in.boundary = "SealpostFuzzBoundary0";
	b = buf_new(64 * 1024 * 1024);
	if (dsn_build(&in, b, err, sizeof(err)) == 0) {
		for (i = 0; i < b->len; i++) {
			if (b->data[i] == '\0')
				abort();
			if (b->data[i] == '\r') {
				if (i + 1 >= b->len || b->data[i + 1] != '\n')
					abort();
				i++;
				ll = 0;
			} else if (b->data[i] == '\n' || ++ll > 998)
				abort();
		}
		if (b->len < sizeof(end) - 1 || memcmp(b->data + b->len -
		    (sizeof(end) - 1), end, sizeof(end) - 1) != 0)
			abort();
	}
	buf_free(&b);
	free(diag);
	return 0;
}
