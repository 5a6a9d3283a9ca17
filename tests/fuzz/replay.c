/* SPDX-License-Identifier: ISC */
/*
 * replay.c - a main() for fuzz targets in builds without libFuzzer: feeds
 * every file of the committed corpus (FUZZ_CORPUS) to the target once.
 * One TAP case per corpus: a crash or sanitizer report ends the program
 * (a TAP error naming the input being replayed, on stderr).  make check runs
 * it; CI replays, it does not fuzz.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define REPLAY_MAX_INPUT	(1024 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
replay_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	const char	*dir = argc > 1 ? argv[1] : FUZZ_CORPUS;
	struct dirent	**ents;
	char		 path[4096];
	uint8_t		*data;
	int		 n, i, count = 0, failed = 0;

	if ((n = scandir(dir, &ents, NULL, replay_name_cmp)) == -1) {
		printf("Bail out! %s: cannot read the corpus\n", dir);
		return 1;
	}
	if ((data = malloc(REPLAY_MAX_INPUT)) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		FILE	*fp;
		size_t	 len;

		if (ents[i]->d_name[0] == '.')
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if ((fp = fopen(path, "rb")) == NULL) {
			printf("# %s: cannot open\n", path);
			failed++;
			goto next;
		}
		len = fread(data, 1, REPLAY_MAX_INPUT, fp);
		fclose(fp);
		fprintf(stderr, "replaying %s\n", path);
		LLVMFuzzerTestOneInput(data, len);
		count++;
next:
		free(ents[i]);
	}
	free(ents);
	free(data);
	printf("%s 1 - %s: %d inputs replayed\n", failed || count == 0 ?
	    "not ok" : "ok", dir, count);
	printf("1..1\n");
	return 0;
}
