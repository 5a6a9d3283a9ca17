/* SPDX-License-Identifier: ISC */
/*
 * test_pgp_disc.c - the index of learnt keys (pgp/pgp_disc.c): lines
 * parsed and formatted back byte for byte; every malformed line skipped
 * (fields, states per source, fingerprints, upper-case addresses, a
 * second entry for the same address); find and put ignore letter case
 * and lower-case what they store; the in-use and the held Autocrypt
 * entries of one address are two; the oldest WKD entry goes when the
 * index is full, an Autocrypt one never; disc_refers; a durable save
 * and load in a scratch folder.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgp_disc.h"
#include "test.h"
#include "banned.h"

#define F1 "0EC40A7FA1C405EB2CA11582E26C57F1C5001CA6"
#define F2 "1111111111111111111111111111111111111111"

static size_t
parse(struct disc *d, const char *text)
{
	size_t	skipped;

	test_assert(disc_parse(d, text, strlen(text), &skipped) == 0);
	return skipped;
}

static void
test_disc(void)
{
	struct disc	 d;
	struct disc_ent	*e, *p;
	const char	*good = "wkd key a@x.org " F1 " 100 200\n"
	    "wkd none b@x.org - 100 3700\n"
	    "wkd failed c@x.org " F2 " 50 400\n"
	    "wkd failed e@x.org - 50 400\n"
	    "autocrypt key me@x.org " F1 " 7 0\n"
	    "autocrypt pending me@x.org " F2 " 8 0\n";
	static const char *const bad[] = {
		"wkd key a@x.org " F1 " 100\n",			/* 5 fields */
		"wkd key a@x.org " F1 " 100 200 9\n",		/* 7 */
		"wkd key  a@x.org " F1 " 100 200\n",		/* empty */
		"ldap key a@x.org " F1 " 100 200\n",
		"wkd maybe a@x.org " F1 " 100 200\n",
		"wkd key A@x.org " F1 " 100 200\n",		/* upper */
		"wkd key a@x.org " F1 "0 100 200\n",		/* 41 */
		"wkd key a@x.org 0EC40A7FA1C405EB2CA11582E26C57F1C5001CAZ "
		    "100 200\n",
		"wkd key a@x.org - 100 200\n",			/* no key */
		"wkd none a@x.org " F1 " 100 200\n",		/* a key */
		"wkd pending a@x.org " F1 " 100 200\n",
		"autocrypt none a@x.org - 100 0\n",
		"autocrypt failed a@x.org - 100 0\n",
		"wkd key a@x.org " F1 " -1 200\n",
		"wkd key a@x.org " F1 " 1x 200\n",
		"wkd key a@x.org " F1 " 99999999999999999999 200\n",
		"wkd key nobody " F1 " 1 2\n",			/* no @ */
		"wkd key a\x01@x.org " F1 " 1 2\n",
		"wkd\tkey a@x.org " F1 " 1 2\n",
	};
	char		*text, dir[] = "/tmp/sp-disc-XXXXXX", path[64];
	size_t		 i, len, skipped;
	int		 dfd;

	memset(&d, 0, sizeof(d));
	test_begin("a well-formed index, formatted back as it was");
	test_assert(parse(&d, good) == 0);
	test_assert(d.n == 6);
	text = disc_format(&d, &len);
	test_assert_streq(text, good);
	test_assert(len == strlen(good));
	free(text);
	test_end();

	test_begin("malformed lines are skipped, one by one");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_assert(parse(&d, bad[i]) == 1);
		test_assert(d.n == 0);
	}
	/* no final LF, an empty line, a second entry for an address */
	test_assert(parse(&d, "\nwkd key a@x.org " F1 " 1 2\n"
	    "wkd none a@x.org - 1 2\nwkd none b@x.org - 1 2") == 2);
	test_assert(d.n == 2);
	test_end();

	test_begin("find and put: letter case, in use and held apart");
	test_assert(parse(&d, good) == 0);
	e = disc_find(&d, DISC_WKD, "A@X.ORG", 0);
	test_assert(e != NULL && strcmp(e->fpr, F1) == 0);
	test_assert(disc_find(&d, DISC_AUTOCRYPT, "a@x.org", 0) == NULL);
	e = disc_find(&d, DISC_AUTOCRYPT, "Me@x.org", 0);
	p = disc_find(&d, DISC_AUTOCRYPT, "me@x.org", 1);
	test_assert(e != NULL && p != NULL && e != p);
	test_assert(e->state == DISC_KEY && p->state == DISC_PENDING);
	e = disc_put(&d, DISC_WKD, "New@X.org", 0);
	test_assert(e != NULL && strcmp(e->addr, "new@x.org") == 0);
	test_assert(d.n == 7);
	test_assert(disc_put(&d, DISC_WKD, "NEW@x.org", 0) == e);
	test_assert(disc_refers(&d, F2, NULL));
	test_assert(!disc_refers(&d, "2222222222222222222222222222222222222222",
	    NULL));
	p = disc_find(&d, DISC_AUTOCRYPT, "me@x.org", 1);
	e = disc_find(&d, DISC_WKD, "c@x.org", 0);
	test_assert(disc_refers(&d, F2, p));		/* c@ still has it */
	disc_del(&d, e);
	p = disc_find(&d, DISC_AUTOCRYPT, "me@x.org", 1);
	test_assert(!disc_refers(&d, F2, p));
	test_assert(disc_find(&d, DISC_WKD, "c@x.org", 0) == NULL);
	test_end();

	test_begin("full: the oldest WKD entry goes, never an Autocrypt one");
	disc_free(&d);
	for (i = 0; i < DISC_MAX; i++) {
		snprintf(path, sizeof(path), "u%zu@x.org", i);
		e = disc_put(&d, i % 2 ? DISC_WKD : DISC_AUTOCRYPT, path, 0);
		test_assert(e != NULL);
		e->seen = i == 7 ? 1 : 1000 + (int64_t)i;
	}
	e = disc_put(&d, DISC_WKD, "late@x.org", 0);
	test_assert(e != NULL && d.n == DISC_MAX);
	test_assert(disc_find(&d, DISC_WKD, "u7@x.org", 0) == NULL);
	test_assert(disc_find(&d, DISC_AUTOCRYPT, "u0@x.org", 0) != NULL);
	disc_free(&d);
	for (i = 0; i < DISC_MAX; i++) {
		snprintf(path, sizeof(path), "u%zu@x.org", i);
		test_assert(disc_put(&d, DISC_AUTOCRYPT, path, 0) != NULL);
	}
	test_assert(disc_put(&d, DISC_WKD, "late@x.org", 0) == NULL);
	test_end();

	test_begin("save and load");
	test_assert(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	test_assert(dfd != -1);
	test_assert(disc_load(&d, dfd, &skipped) == 0 && d.n == 0);
	test_assert(parse(&d, good) == 0);
	test_assert(disc_save(&d, dfd) == 0);
	disc_free(&d);
	test_assert(disc_load(&d, dfd, &skipped) == 0 && skipped == 0);
	test_assert(d.n == 6);
	text = disc_format(&d, &len);
	test_assert_streq(text, good);
	free(text);
	test_assert(faccessat(dfd, "index.tmp", F_OK, 0) == -1);
	(void)unlinkat(dfd, "index", 0);
	close(dfd);
	(void)rmdir(dir);
	disc_free(&d);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_disc, NULL };

	return test_run(tests);
}
