/* SPDX-License-Identifier: ISC */
/*
 * fuzz_filter_headers.c - libFuzzer target for the filter's header
 * checks: any bytes give an answer, never a crash or a read past the
 * input; a refusal is a well-formed SMTP reply that quotes nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter_headers.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 reply[256];
	unsigned char	*copy;
	size_t		 i;

	/* an exact-size copy, so ASan sees any read past the end */
	copy = malloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	for (i = 0; i < 2; i++) {
		reply[0] = '\0';
		if (filter_headers_check(copy, size, i == 0, i, reply,
		    sizeof(reply)) == -1) {
			if (strlen(reply) < 10 || (reply[0] != '5' &&
			    reply[0] != '4') || reply[3] != ' ' ||
			    strpbrk(reply, "\r\n") != NULL)
				abort();
		} else if (reply[0] != '\0')
			abort();
	}
	free(copy);
	return 0;
}
