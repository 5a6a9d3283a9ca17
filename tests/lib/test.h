/* SPDX-License-Identifier: ISC */
/*
 * test.h - sealpost's small unit-test framework.  Output is TAP, so that
 * automake's tap-driver counts every case, not every program.
 *
 *	static void test_x(void) {
 *		test_begin("what it checks");
 *		test_assert(1 + 1 == 2);
 *		test_end();
 *	}
 *	int main(void) { static void (*t[])(void) = { test_x, NULL };
 *		return test_run(t); }
 */
#ifndef SP_TEST_H
#define SP_TEST_H

#include <stddef.h>

void	test_begin(const char *name);
void	test_assert_at(int ok, const char *expr, const char *file, int line);
void	test_assert_streq_at(const char *a, const char *b, const char *file,
	    int line);
void	test_end(void);
/*
 * Run fn in a child and expect it to die (fatal/fatalx/abort): a passing
 * assertion when it does, a failing one when it returns normally.
 */
void	test_fatal_at(void (*fn)(void), const char *file, int line);
/* Count a case as skipped (TAP "# SKIP reason"), instead of begin/end. */
void	test_skip(const char *name, const char *reason);
/* Run the NULL-terminated list; prints the TAP plan; returns 0. */
int	test_run(void (*tests[])(void));

#define test_assert(e)		test_assert_at(!!(e), #e, __FILE__, __LINE__)
#define test_assert_streq(a, b)	test_assert_streq_at((a), (b), __FILE__, \
				    __LINE__)
#define test_fatal(fn)		test_fatal_at((fn), __FILE__, __LINE__)

#endif
