/* SPDX-License-Identifier: ISC */
/*
 * fuzz_conf.c - libFuzzer target for the sealpost.conf parser (F12).
 * Any input must give a configuration or an error, never a crash; a
 * configuration that parses must print and parse back to the same text.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_conf	*c, *c2;
	char		 err[1024], *out1 = NULL, *out2 = NULL;
	size_t		 l1 = 0, l2 = 0;
	FILE		*fp;

	c = conf_parse((const char *)data, size, "fuzz.conf", "/base", err,
	    sizeof(err));
	if (c == NULL) {
		/* every error names the file */
		SP_ASSERT(strncmp(err, "fuzz.conf:", 10) == 0);
		return 0;
	}
	if ((fp = open_memstream(&out1, &l1)) == NULL)
		abort();
	conf_print(fp, c);
	fclose(fp);
	c2 = conf_parse(out1, l1, "print.conf", "/", err, sizeof(err));
	SP_ASSERT(c2 != NULL);
	if ((fp = open_memstream(&out2, &l2)) == NULL)
		abort();
	conf_print(fp, c2);
	fclose(fp);
	SP_ASSERT(l1 == l2 && memcmp(out1, out2, l1) == 0);
	free(out1);
	free(out2);
	conf_free(c);
	conf_free(c2);
	return 0;
}
