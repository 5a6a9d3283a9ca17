/* SPDX-License-Identifier: ISC */
/*
 * fuzz_queue_env.c - libFuzzer target for the queue envelope's decoder
 * (sealpostctl reads envelopes as root; the queue at every attempt): any
 * bytes decode or fail, and what decodes encodes again to text that
 * decodes to the same envelope, schedule and recipient states included.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue_store.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env	e, d;
	char			err[256], *copy, *t;
	size_t			len, i;

	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (queue_env_decode(copy, size, &e, err, sizeof(err)) == 0) {
		if (queue_env_encode(&e, &t, &len) != 0 ||
		    queue_env_decode(t, len, &d, err, sizeof(err)) != 0 ||
		    d.nrcpts != e.nrcpts || strcmp(d.from, e.from) != 0 ||
		    d.size != e.size || d.attempts != e.attempts ||
		    d.next != e.next || d.warned != e.warned ||
		    d.held != e.held)
			abort();
		for (i = 0; i < e.nrcpts; i++)
			if (strcmp(d.rcpts[i].addr, e.rcpts[i].addr) != 0 ||
			    strpbrk(d.rcpts[i].addr, "\r\n\t") != NULL ||
			    d.rcpts[i].state != e.rcpts[i].state ||
			    e.rcpts[i].state < QUEUE_RCPT_PENDING ||
			    e.rcpts[i].state > QUEUE_RCPT_FAILED ||
			    strcmp(d.rcpts[i].diag, e.rcpts[i].diag) != 0 ||
			    strcmp(d.rcpts[i].remote, e.rcpts[i].remote) != 0 ||
			    strpbrk(d.rcpts[i].diag, "\r\n\t") != NULL)
				abort();
		queue_env_free(&d);
		free(t);
		queue_env_free(&e);
	}
	free(copy);
	return 0;
}
