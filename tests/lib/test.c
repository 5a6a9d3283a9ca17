/* SPDX-License-Identifier: ISC */
/*
 * test.c - the unit-test framework (see test.h): TAP on stdout.
 */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "banned.h"

static const char	*test_name;
static int		 test_failed;
static int		 test_count;

void
test_begin(const char *name)
{
	test_name = name;
	test_failed = 0;
}

void
test_assert_at(int ok, const char *expr, const char *file, int line)
{
	if (ok)
		return;
	test_failed++;
	printf("# %s:%d: assertion failed: %s\n", file, line, expr);
}

void
test_assert_streq_at(const char *a, const char *b, const char *file,
    int line)
{
	if (a != NULL && b != NULL && strcmp(a, b) == 0)
		return;
	test_failed++;
	printf("# %s:%d: \"%s\" != \"%s\"\n", file, line,
	    a != NULL ? a : "(null)", b != NULL ? b : "(null)");
}

void
test_end(void)
{
	test_count++;
	printf("%s %d - %s\n", test_failed ? "not ok" : "ok", test_count,
	    test_name != NULL ? test_name : "(unnamed)");
	fflush(stdout);
	test_name = NULL;
}

void
test_skip(const char *name, const char *reason)
{
	test_count++;
	printf("ok %d - %s # SKIP %s\n", test_count, name, reason);
	fflush(stdout);
}

void
test_fatal_at(void (*fn)(void), const char *file, int line)
{
	pid_t	pid;
	int	st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		test_assert_at(0, "fork", file, line);
		return;
	}
	if (pid == 0) {
		/* quiet: the expected fatal message goes to /dev/null */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(0);
		fn();
		_exit(0);	/* returned: the test fails */
	}
	if (waitpid(pid, &st, 0) == -1) {
		test_assert_at(0, "waitpid", file, line);
		return;
	}
	test_assert_at(WIFSIGNALED(st) || (WIFEXITED(st) &&
	    WEXITSTATUS(st) != 0), "expected a fatal error", file, line);
}

int
test_run(void (*tests[])(void))
{
	size_t	i;

	for (i = 0; tests[i] != NULL; i++)
		tests[i]();
	printf("1..%d\n", test_count);
	return 0;
}
