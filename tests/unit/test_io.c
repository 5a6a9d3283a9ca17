/* SPDX-License-Identifier: ISC */
/* test_io.c - bounded line reads on a socket: limits, CRLF, EOF, timeout. */
#include "config.h"

#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "io.h"
#include "test.h"
#include "banned.h"

static struct io	io;

static int
pair(int sv[2], int timeout_ms)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	io_init(&io, sv[0], timeout_ms);
	return 0;
}

static void
test_io_lines(void)
{
	char	*line;
	size_t	 len;
	int	 sv[2];

	test_begin("io_getline splits CRLF and LF lines");
	test_assert(pair(sv, 1000) == 0);
	test_assert(write(sv[1], "HELO a\r\nNOOP\nQUIT\r\n", 19) == 19);
	test_assert(io_getline(&io, 100, &line, &len) == IO_LINE);
	test_assert_streq(line, "HELO a");
	test_assert(len == 6);
	test_assert(io_getline(&io, 100, &line, &len) == IO_LINE);
	test_assert_streq(line, "NOOP");
	test_assert(io_getline(&io, 100, &line, &len) == IO_LINE);
	test_assert_streq(line, "QUIT");
	close(sv[1]);
	test_assert(io_getline(&io, 100, &line, &len) == IO_EOF);
	close(sv[0]);
	test_end();
}

static void
test_io_toolong(void)
{
	char	 big[20000], *line;
	size_t	 len;
	int	 sv[2];

	test_begin("io_getline discards an over-long line and goes on");
	test_assert(pair(sv, 1000) == 0);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	/* a writer thread is not needed: the socket buffer holds it */
	test_assert(write(sv[1], big, sizeof(big)) == (ssize_t)sizeof(big));
	test_assert(write(sv[1], "ok\r\n", 4) == 4);
	test_assert(io_getline(&io, 510, &line, &len) == IO_TOOLONG);
	test_assert(io_getline(&io, 510, &line, &len) == IO_LINE);
	test_assert_streq(line, "ok");
	close(sv[1]);
	close(sv[0]);
	test_end();
}

static void
test_io_boundary(void)
{
	char	 l[600], *line;
	size_t	 len;
	int	 sv[2];

	test_begin("io_getline: exactly max is a line, max+1 is too long");
	test_assert(pair(sv, 1000) == 0);
	memset(l, 'b', 510);
	memcpy(l + 510, "\r\n", 2);
	test_assert(write(sv[1], l, 512) == 512);
	memset(l, 'c', 511);
	memcpy(l + 511, "\r\n", 2);
	test_assert(write(sv[1], l, 513) == 513);
	test_assert(io_getline(&io, 510, &line, &len) == IO_LINE && len == 510);
	test_assert(io_getline(&io, 510, &line, &len) == IO_TOOLONG);
	close(sv[1]);
	test_assert(io_getline(&io, 510, &line, &len) == IO_EOF);
	close(sv[0]);
	test_end();
}

static void
test_io_nul(void)
{
	char	*line;
	size_t	 len;
	int	 sv[2];

	test_begin("io_getline reports the length past a NUL byte");
	test_assert(pair(sv, 1000) == 0);
	test_assert(write(sv[1], "RCPT a\0RCPT b\r\n", 15) == 15);
	test_assert(io_getline(&io, 100, &line, &len) == IO_LINE);
	test_assert(len == 13 && strlen(line) == 6);
	close(sv[1]);
	close(sv[0]);
	test_end();
}

static void
test_io_timeout(void)
{
	char	*line;
	size_t	 len;
	int	 sv[2];

	test_begin("io_getline times out on a partial line");
	test_assert(pair(sv, 50) == 0);
	test_assert(write(sv[1], "NOO", 3) == 3);
	test_assert(io_getline(&io, 100, &line, &len) == IO_TIMEOUT);
	close(sv[1]);
	close(sv[0]);
	test_end();
}

static void
test_io_eof_in_long_line(void)
{
	char	 big[17000], *line;
	size_t	 len;
	int	 sv[2];

	test_begin("io_getline: EOF inside an over-long line is TOOLONG, then EOF");
	test_assert(pair(sv, 1000) == 0);
	memset(big, 'z', sizeof(big));
	test_assert(write(sv[1], big, sizeof(big)) == (ssize_t)sizeof(big));
	close(sv[1]);
	test_assert(io_getline(&io, 510, &line, &len) == IO_TOOLONG);
	test_assert(io_getline(&io, 510, &line, &len) == IO_EOF);
	close(sv[0]);
	test_end();
}

static void
test_io_write(void)
{
	char	buf[32];
	int	sv[2];

	test_begin("io_printf writes the whole reply");
	test_assert(pair(sv, 1000) == 0);
	test_assert(io_printf(&io, "220 %s ESMTP\r\n", "x.test") == 0);
	memset(buf, 0, sizeof(buf));
	test_assert(read(sv[1], buf, sizeof(buf)) == 18);
	test_assert_streq(buf, "220 x.test ESMTP\r\n");
	close(sv[1]);
	close(sv[0]);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_io_lines, test_io_toolong, test_io_boundary, test_io_nul,
		test_io_timeout, test_io_eof_in_long_line, test_io_write, NULL
	};

	return test_run(tests);
}
