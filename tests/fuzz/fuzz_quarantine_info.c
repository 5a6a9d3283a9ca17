/* SPDX-License-Identifier: ISC */
/*
 * fuzz_quarantine_info.c - libFuzzer target for the quarantine info
 * file's decoder (sealpostctl reads it as root, without any key): any
 * bytes decode or fail; what decodes holds only checked fields and
 * encodes to exactly the text it came from.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quar_info	q;
	char			err[256], out[QUAR_INFO_MAX + 1];
	int			n;

	if (quar_info_decode((const char *)data, size, &q, err,
	    sizeof(err)) == 0) {
		if (!quar_qid_ok(q.qid) || !quar_reason_ok(q.reason) ||
		    q.nrcpts > QUEUE_RCPTS_MAX)
			abort();
		n = quar_info_encode(&q, out, sizeof(out));
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			abort();
	} else if (q.qid[0] != '\0' || q.size != 0)
		abort();
	return 0;
}
