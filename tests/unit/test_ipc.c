/* SPDX-License-Identifier: ISC */
/*
 * test_ipc.c - unit tests for common/ipc.c and ipc_chan.c: every getter
 * stops at the payload's end, a malformed datagram leaves no fd behind,
 * fds cross a real socketpair, channels call closed() once.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc.h"
#include "ipc_deliver.h"
#include "ipc_types.h"	/* ipc_deliver.c's messages only */
#include "test.h"
#include "banned.h"

/* message types: numbers, not ipc_types.h (the list changes, ipc.c not) */
#define T_TYPE		1
#define T_TYPE2		2
#define T_ID		0x01020304u

static struct ipc_msg	m;	/* 64 KiB: not on the stack */

/* Number of open fds, from /proc/self/fd (the directory's own not counted). */
static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static int
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* A raw datagram: header fields, then len payload bytes. */
static size_t
raw_msg(uint8_t *dst, size_t dstlen, uint32_t hlen, const void *payload,
    size_t len)
{
	uint32_t	h[4] = { T_TYPE, hlen, T_ID, 0 };

	if (IPC_HDR_SIZE + len > dstlen)
		abort();
	memcpy(dst, h, sizeof(h));
	if (len > 0)
		memcpy(dst + IPC_HDR_SIZE, payload, len);
	return IPC_HDR_SIZE + len;
}

/* Decode a well-framed message whose payload is p[0..len). */
static int
decode_payload(const void *p, size_t len)
{
	uint8_t	buf[256];
	size_t	n;

	n = raw_msg(buf, sizeof(buf), (uint32_t)len, p, len);
	return ipc_msg_decode(&m, buf, n);
}

/* Decode what o would send. */
static int
decode_out(struct ipc_out *o)
{
	const void	*p;
	size_t		 n;

	if ((p = ipc_out_bytes(o, &n)) == NULL)
		return -1;
	return ipc_msg_decode(&m, p, n);
}

static int
seqpair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

/* sendmsg a raw datagram with nfds copies of fd. */
static int
send_raw(int sock, const void *p, size_t n, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(8 * sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 msg;
	struct iovec	 iov;

	if (nfds > 8)
		abort();
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = n;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* --- building and getters ------------------------------------------------ */

static void
test_ipc_roundtrip(void)
{
	struct ipc_out	*o;
	const char	*s;
	const void	*d;
	size_t		 dl;
	uint32_t	 v32;
	uint64_t	 v64;
	int		 ok;

	test_begin("every field type round-trips; ipc_end accepts the end");
	o = ipc_out_new(T_TYPE, T_ID, -1);
	test_assert(ipc_add_u32(o, 0) == 0);
	test_assert(ipc_add_u32(o, 0xffffffffu) == 0);
	test_assert(ipc_add_u64(o, 0x0102030405060708ull) == 0);
	test_assert(ipc_add_str(o, "") == 0);
	test_assert(ipc_add_str(o, "hello") == 0);
	test_assert(ipc_add_data(o, NULL, 0) == 0);
	test_assert(ipc_add_data(o, "a\0b", 3) == 0);
	o->hdr.flags = 7;
	test_assert(decode_out(o) == 0);
	ipc_out_free(o);
	test_assert(m.hdr.type == T_TYPE && m.hdr.id == T_ID &&
	    m.hdr.flags == 7 && m.fd == -1);
	test_assert(m.hdr.len == 4 + 4 + 8 + 5 + 10 + 4 + 7);
	test_assert(ipc_get_u32(&m, &v32) == 0 && v32 == 0);
	test_assert(ipc_get_u32(&m, &v32) == 0 && v32 == 0xffffffffu);
	test_assert(ipc_get_u64(&m, &v64) == 0 &&
	    v64 == 0x0102030405060708ull);
	ok = ipc_get_str(&m, &s, 0) == 0;
	test_assert(ok);
	if (ok)
		test_assert_streq(s, "");
	ok = ipc_get_str(&m, &s, IPC_MAX_STR) == 0;
	test_assert(ok);
	if (ok)
		test_assert_streq(s, "hello");
	test_assert(ipc_get_data(&m, &d, &dl) == 0 && dl == 0);
	test_assert(ipc_get_data(&m, &d, &dl) == 0 && dl == 3 &&
	    memcmp(d, "a\0b", 3) == 0);
	test_assert(ipc_end(&m) == 0);
	/* and nothing more to read */
	test_assert(ipc_get_u32(&m, &v32) == -1 && errno == EBADMSG);
	test_end();
}

static void
test_ipc_empty(void)
{
	struct ipc_out	*o;

	test_begin("a message without payload");
	o = ipc_out_new(T_TYPE2, 0, -1);
	test_assert(decode_out(o) == 0);
	ipc_out_free(o);
	test_assert(m.hdr.type == T_TYPE2 && m.hdr.len == 0);
	test_assert(ipc_end(&m) == 0);
	test_end();
}

static void
test_ipc_get_short(void)
{
	uint8_t		p[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint32_t	v32;
	uint64_t	v64;

	test_begin("u32 and u64 getters refuse a short field");
	test_assert(decode_payload(p, 3) == 0);
	test_assert(ipc_get_u32(&m, &v32) == -1 && m.off == 0);
	test_assert(decode_payload(p, 7) == 0);
	test_assert(ipc_get_u64(&m, &v64) == -1 && m.off == 0);
	test_assert(ipc_get_u32(&m, &v32) == 0 && m.off == 4);
	test_assert(ipc_get_u32(&m, &v32) == -1 && m.off == 4);
	test_assert(ipc_end(&m) == -1);
	test_assert(decode_payload(p, 8) == 0);
	test_assert(ipc_get_u64(&m, &v64) == 0 && ipc_end(&m) == 0);
	test_assert(decode_payload(p, 0) == 0);
	test_assert(ipc_get_u32(&m, &v32) == -1);
	test_assert(ipc_get_u64(&m, &v64) == -1);
	test_end();
}

/* A str field: u32 length l, then the n bytes of s. */
static int
decode_str(uint32_t l, const char *s, size_t n)
{
	uint8_t	p[64];

	if (sizeof(l) + n > sizeof(p))
		abort();
	memcpy(p, &l, sizeof(l));
	memcpy(p + sizeof(l), s, n);
	return decode_payload(p, sizeof(l) + n);
}

static void
test_ipc_get_str_bounds(void)
{
	const char	*s = NULL;

	test_begin("ipc_get_str bounds: NUL, length, max");
	test_assert(decode_str(3, "abc", 3) == 0);
	test_assert(ipc_get_str(&m, &s, 100) == -1 && m.off == 0);
	test_assert(decode_str(4, "a\0b", 4) == 0);	/* NUL inside */
	test_assert(ipc_get_str(&m, &s, 100) == -1);
	test_assert(decode_str(0, "", 0) == 0);		/* length 0 */
	test_assert(ipc_get_str(&m, &s, 100) == -1);
	test_assert(decode_str(0, "x", 1) == 0);	/* length 0, a byte */
	test_assert(ipc_get_str(&m, &s, 100) == -1);
	test_assert(decode_str(10, "abc", 4) == 0);	/* past the end */
	test_assert(ipc_get_str(&m, &s, 100) == -1);
	test_assert(decode_str(5, "abc", 4) == 0);	/* one past */
	test_assert(ipc_get_str(&m, &s, 100) == -1);
	test_assert(decode_str(0xffffffffu, "abc", 4) == 0);
	test_assert(ipc_get_str(&m, &s, SIZE_MAX) == -1);
	test_assert(decode_str(2, "ab", 3) == 0);	/* NUL not last */
	test_assert(ipc_get_str(&m, &s, 100) == -1);
	test_assert(decode_str(3, "ab", 3) == 0);
	test_assert(ipc_get_str(&m, &s, 100) == 0 && ipc_end(&m) == 0);
	test_assert(s != NULL && strcmp(s, "ab") == 0);
	/* max counts the characters, not the NUL */
	test_assert(decode_str(6, "hello", 6) == 0);
	test_assert(ipc_get_str(&m, &s, 4) == -1 && m.off == 0);
	test_assert(ipc_get_str(&m, &s, 5) == 0 && ipc_end(&m) == 0);
	test_assert(decode_str(1, "", 1) == 0);
	test_assert(ipc_get_str(&m, &s, 0) == 0 && *s == '\0');
	/* a short length field */
	test_assert(decode_payload("\1\0\0", 3) == 0);
	test_assert(ipc_get_str(&m, &s, 100) == -1);
	test_end();
}

static void
test_ipc_get_data_bounds(void)
{
	const void	*d;
	size_t		 n;

	test_begin("ipc_get_data bounds: length past the end, 0xffffffff");
	test_assert(decode_str(4, "abc", 3) == 0);
	test_assert(ipc_get_data(&m, &d, &n) == -1 && m.off == 0);
	test_assert(decode_str(0xffffffffu, "abc", 3) == 0);
	test_assert(ipc_get_data(&m, &d, &n) == -1);
	test_assert(decode_str(0x80000000u, "", 0) == 0);
	test_assert(ipc_get_data(&m, &d, &n) == -1);
	test_assert(decode_str(3, "abc", 3) == 0);
	test_assert(ipc_get_data(&m, &d, &n) == 0 && n == 3 &&
	    memcmp(d, "abc", 3) == 0 && ipc_end(&m) == 0);
	test_assert(decode_payload("\0\0", 2) == 0);
	test_assert(ipc_get_data(&m, &d, &n) == -1);
	test_end();
}

static void
test_ipc_trailing(void)
{
	uint8_t		p[5] = { 1, 0, 0, 0, 9 };
	uint32_t	v;

	test_begin("trailing bytes: ipc_end is -1");
	test_assert(decode_payload(p, sizeof(p)) == 0);
	test_assert(ipc_get_u32(&m, &v) == 0 && v == 1);
	errno = 0;
	test_assert(ipc_end(&m) == -1 && errno == EBADMSG);
	test_end();
}

/* The local delivery messages (ipc_deliver.c): each reply read back as
 * built; a short key, a missing or an extra field, a result out of range
 * refused. */
static void
test_ipc_deliver(void)
{
	struct ipc_rcpt_info	 ri;
	struct ipc_out		*o;
	unsigned char		 pk[IPC_ACCOUNT_KEY_LEN];
	const char		*s, *text, *name;
	uint32_t		 u, ok, result;
	uint64_t		 a, b;

	test_begin("ipc_deliver: requests as laid out, replies checked");
	memset(pk, 7, sizeof(pk));
	o = ipc_auth_rcpt_req(5, "a@example.test");
	test_assert(decode_out(o) == 0 && m.hdr.type == IMSG_AUTH_RCPT &&
	    m.hdr.id == 5 && ipc_get_str(&m, &s, 254) == 0 &&
	    strcmp(s, "a@example.test") == 0 && ipc_end(&m) == 0);
	ipc_out_free(o);
	o = ipc_auth_quota_req(6, 9, 1000, 1);
	test_assert(decode_out(o) == 0 && m.hdr.type == IMSG_AUTH_QUOTA &&
	    ipc_get_u64(&m, &a) == 0 && a == 9 && ipc_get_u64(&m, &b) == 0 &&
	    b == 1000 && ipc_get_u32(&m, &u) == 0 && u == 1 &&
	    ipc_end(&m) == 0);
	ipc_out_free(o);
	o = ipc_deliver_req(7, -1, 9, pk, "Junk", "", "r@example.test");
	test_assert(decode_out(o) == 0 && m.hdr.type == IMSG_DELIVER_MSG &&
	    ipc_get_u64(&m, &a) == 0 && a == 9);
	ipc_out_free(o);
	/* auth's reply to RCPT */
	o = ipc_out_new(IMSG_AUTH_RCPT, 5, -1);
	ipc_add_u32(o, 1);
	ipc_add_u64(o, 9);
	ipc_add_data(o, pk, sizeof(pk));
	ipc_add_u64(o, 100);
	ipc_add_u64(o, 50);
	test_assert(decode_out(o) == 0 && ipc_auth_rcpt_reply(&m, &ri) == 0 &&
	    ri.found == 1 && ri.account == 9 && ri.quota == 100 &&
	    ri.usage == 50 && memcmp(ri.pk, pk, sizeof(pk)) == 0);
	ipc_add_u32(o, 0);			/* one field too many */
	test_assert(decode_out(o) == 0 && ipc_auth_rcpt_reply(&m, &ri) == -1);
	ipc_out_free(o);
	o = ipc_out_new(IMSG_AUTH_RCPT, 5, -1);
	ipc_add_u32(o, 1);
	ipc_add_u64(o, 9);
	ipc_add_data(o, pk, sizeof(pk) - 1);	/* a short key */
	ipc_add_u64(o, 100);
	ipc_add_u64(o, 50);
	test_assert(decode_out(o) == 0 && ipc_auth_rcpt_reply(&m, &ri) == -1);
	ipc_out_free(o);
	/* quota and deliver replies */
	o = ipc_out_new(IMSG_AUTH_QUOTA, 6, -1);
	ipc_add_u32(o, 1);
	test_assert(decode_out(o) == 0 && ipc_auth_quota_reply(&m, &ok) == 0 &&
	    ok == 1);
	ipc_out_free(o);
	o = ipc_out_new(IMSG_AUTH_QUOTA, 6, -1);
	test_assert(decode_out(o) == 0 && ipc_auth_quota_reply(&m, &ok) == -1);
	ipc_out_free(o);
	o = ipc_out_new(IMSG_DELIVER_MSG, 7, -1);
	ipc_add_u32(o, DELIVER_OK);
	ipc_add_str(o, "stored");
	ipc_add_str(o, "12.blob");
	test_assert(decode_out(o) == 0 && ipc_deliver_reply(&m, &result, &text,
	    &name) == 0 && result == DELIVER_OK && strcmp(name, "12.blob") == 0);
	ipc_out_free(o);
	o = ipc_out_new(IMSG_DELIVER_MSG, 7, -1);
	ipc_add_u32(o, DELIVER_PERM + 1);	/* no such result */
	ipc_add_str(o, "?");
	ipc_add_str(o, "");
	test_assert(decode_out(o) == 0 && ipc_deliver_reply(&m, &result, &text,
	    &name) == -1);
	ipc_out_free(o);
	test_end();
}

static void
test_ipc_decode(void)
{
	static uint8_t	big[IPC_HDR_SIZE + IPC_MAX_PAYLOAD + 16];
	uint8_t		buf[64];
	uint32_t	h[4];
	size_t		n;

	test_begin("ipc_msg_decode: short, length mismatch, too long");
	memset(buf, 0, sizeof(buf));
	errno = 0;
	test_assert(ipc_msg_decode(&m, buf, 0) == -1 && errno == EBADMSG);
	test_assert(ipc_msg_decode(&m, buf, IPC_HDR_SIZE - 1) == -1);
	test_assert(ipc_msg_decode(&m, buf, IPC_HDR_SIZE) == 0 &&
	    m.hdr.len == 0);
	n = raw_msg(buf, sizeof(buf), 4, "abcd", 4);
	test_assert(ipc_msg_decode(&m, buf, n) == 0);
	n = raw_msg(buf, sizeof(buf), 5, "abcd", 4);	/* says more */
	test_assert(ipc_msg_decode(&m, buf, n) == -1);
	n = raw_msg(buf, sizeof(buf), 3, "abcd", 4);	/* says less */
	test_assert(ipc_msg_decode(&m, buf, n) == -1);
	n = raw_msg(buf, sizeof(buf), 0xffffffffu, "abcd", 4);
	test_assert(ipc_msg_decode(&m, buf, n) == -1);
	/* a datagram longer than the limit, header consistent with it */
	memset(h, 0, sizeof(h));
	h[1] = IPC_MAX_PAYLOAD + 1;
	memcpy(big, h, sizeof(h));
	test_assert(ipc_msg_decode(&m, big, IPC_HDR_SIZE + IPC_MAX_PAYLOAD +
	    1) == -1);
	h[1] = IPC_MAX_PAYLOAD;
	memcpy(big, h, sizeof(h));
	test_assert(ipc_msg_decode(&m, big, IPC_HDR_SIZE + IPC_MAX_PAYLOAD) ==
	    0);
	/* header claims more than the limit on a short datagram */
	h[1] = IPC_MAX_PAYLOAD + 1;
	memcpy(buf, h, sizeof(h));
	test_assert(ipc_msg_decode(&m, buf, IPC_HDR_SIZE) == -1);
	test_end();
}

static void
test_ipc_max_payload(void)
{
	static uint8_t	 data[IPC_MAX_PAYLOAD];
	static char	 str[IPC_MAX_PAYLOAD];
	struct ipc_out	*o;
	const void	*d;
	const char	*s;
	size_t		 n;
	int		 sv[2];

	test_begin("IPC_MAX_PAYLOAD bytes are sent; one byte more is refused");
	test_assert(seqpair(sv) == 0);
	memset(data, 'x', sizeof(data));
	o = ipc_out_new(T_TYPE, T_ID, -1);
	test_assert(ipc_add_data(o, data, IPC_MAX_PAYLOAD - 4) == 0);
	test_assert(o->len == IPC_HDR_SIZE + IPC_MAX_PAYLOAD);
	test_assert(ipc_add_data(o, NULL, 0) == -1 && o->overflow);
	ipc_out_free(o);

	o = ipc_out_new(T_TYPE, T_ID, -1);
	test_assert(ipc_add_data(o, data, IPC_MAX_PAYLOAD - 4) == 0);
	test_assert(ipc_send(sv[0], o) == 0);
	test_assert(ipc_recv(sv[1], &m, 1000) == 1);
	test_assert(m.hdr.len == IPC_MAX_PAYLOAD);
	test_assert(ipc_get_data(&m, &d, &n) == 0 &&
	    n == IPC_MAX_PAYLOAD - 4 && ipc_end(&m) == 0);

	/* the longest string */
	memset(str, 'y', sizeof(str));
	str[IPC_MAX_PAYLOAD - 5] = '\0';
	o = ipc_out_new(T_TYPE, T_ID, -1);
	test_assert(ipc_add_str(o, str) == 0);
	test_assert(ipc_send(sv[0], o) == 0);
	test_assert(ipc_recv(sv[1], &m, 1000) == 1);
	test_assert(ipc_get_str(&m, &s, IPC_MAX_PAYLOAD) == 0 &&
	    strlen(s) == IPC_MAX_PAYLOAD - 5 && ipc_end(&m) == 0);

	/* one byte more: refused while building, and by ipc_send */
	o = ipc_out_new(T_TYPE, T_ID, -1);
	errno = 0;
	test_assert(ipc_add_data(o, data, IPC_MAX_PAYLOAD - 3) == -1 &&
	    errno == EMSGSIZE && o->overflow);
	test_assert(o->len == IPC_HDR_SIZE);	/* not half written */
	test_assert(ipc_add_u32(o, 1) == -1);	/* stays overflowed */
	test_assert(ipc_out_bytes(o, &n) == NULL);
	errno = 0;
	test_assert(ipc_send(sv[0], o) == -1 && errno == EMSGSIZE);
	str[IPC_MAX_PAYLOAD - 5] = 'y';
	str[IPC_MAX_PAYLOAD - 4] = '\0';
	o = ipc_out_new(T_TYPE, T_ID, -1);
	test_assert(ipc_add_str(o, str) == -1 && o->overflow);
	ipc_out_free(o);
	/* many small adds: the limit holds too */
	o = ipc_out_new(T_TYPE, T_ID, -1);
	for (n = 0; n < IPC_MAX_PAYLOAD / 8; n++)
		if (ipc_add_u64(o, n) == -1)
			break;
	test_assert(n == IPC_MAX_PAYLOAD / 8);
	test_assert(ipc_add_u32(o, 0) == -1 && o->overflow);
	ipc_out_free(o);
	/* nothing was sent by the refused ones */
	test_assert(ipc_recv(sv[1], &m, 0) == -1 && errno == ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
	test_end();
}

/* --- transport ----------------------------------------------------------- */

static void
test_ipc_fd_passing(void)
{
	struct ipc_out	*o;
	struct stat	 st1, st2;
	const char	*s;
	int		 sv[2], fd, keep;

	test_begin("fd passing: same file, other fd; the sender's is closed");
	test_assert(seqpair(sv) == 0);
	fd = memfd_create("ipc-test", MFD_CLOEXEC);
	test_assert(fd != -1);
	keep = dup(fd);
	test_assert(fstat(keep, &st1) == 0);
	o = ipc_out_new(T_TYPE2, 42, fd);
	test_assert(ipc_add_str(o, "x") == 0);
	test_assert(ipc_send(sv[0], o) == 0);
	test_assert(!fd_is_open(fd));		/* closed after the send */
	test_assert(ipc_recv(sv[1], &m, 1000) == 1);
	test_assert(m.hdr.type == T_TYPE2 && m.hdr.id == 42);
	test_assert(m.fd != -1 && m.fd != keep);
	test_assert(fstat(m.fd, &st2) == 0 && st1.st_ino == st2.st_ino &&
	    st1.st_dev == st2.st_dev);
	test_assert((fcntl(m.fd, F_GETFD) & FD_CLOEXEC) != 0);
	test_assert(ipc_get_str(&m, &s, 10) == 0 && ipc_end(&m) == 0);
	fd = m.fd;
	ipc_msg_clear(&m);
	test_assert(m.fd == -1 && !fd_is_open(fd));
	ipc_msg_clear(&m);			/* twice is fine */
	close(keep);

	/* an fd given to a message that is never sent is closed on free */
	fd = memfd_create("ipc-test", MFD_CLOEXEC);
	o = ipc_out_new(T_TYPE, 0, fd);
	ipc_out_free(o);
	test_assert(!fd_is_open(fd));
	ipc_out_free(NULL);
	close(sv[0]);
	close(sv[1]);
	test_end();
}

static void
test_ipc_too_many_fds(void)
{
	uint8_t	buf[32];
	size_t	n;
	int	sv[2], fds[8], before, i;

	test_begin("2 or 8 fds in a datagram: EBADMSG, every fd closed");
	test_assert(seqpair(sv) == 0);
	before = count_fds();
	test_assert(before > 0);
	for (i = 0; i < 8; i++)
		fds[i] = memfd_create("ipc-test", MFD_CLOEXEC);
	n = raw_msg(buf, sizeof(buf), 0, NULL, 0);
	test_assert(send_raw(sv[0], buf, n, fds, 2) == 0);
	test_assert(send_raw(sv[0], buf, n, fds, 8) == 0);
	test_assert(send_raw(sv[0], buf, n, fds, 1) == 0);
	for (i = 0; i < 8; i++)
		close(fds[i]);
	test_assert(count_fds() == before);
	errno = 0;
	test_assert(ipc_recv(sv[1], &m, 1000) == -1 && errno == EBADMSG);
	test_assert(m.fd == -1);
	test_assert(count_fds() == before);
	errno = 0;
	test_assert(ipc_recv(sv[1], &m, 1000) == -1 && errno == EBADMSG);
	test_assert(count_fds() == before);
	/* the channel is still usable: a good one after the bad ones */
	test_assert(ipc_recv(sv[1], &m, 1000) == 1 && m.fd != -1);
	test_assert(count_fds() == before + 1);
	ipc_msg_clear(&m);
	test_assert(count_fds() == before);
	close(sv[0]);
	close(sv[1]);
	test_end();
}

static void
test_ipc_bad_datagrams(void)
{
	static uint8_t	big[IPC_HDR_SIZE + IPC_MAX_PAYLOAD + 1];
	uint8_t		buf[32];
	size_t		n;
	int		sv[2], fd, before;

	test_begin("short, mismatched and oversized datagrams are EBADMSG");
	test_assert(seqpair(sv) == 0);
	before = count_fds();
	memset(buf, 0, sizeof(buf));
	test_assert(send_raw(sv[0], buf, IPC_HDR_SIZE - 1, NULL, 0) == 0);
	errno = 0;
	test_assert(ipc_recv(sv[1], &m, 1000) == -1 && errno == EBADMSG);
	/* short and with an fd: the fd is closed */
	fd = memfd_create("ipc-test", MFD_CLOEXEC);
	test_assert(send_raw(sv[0], buf, 3, &fd, 1) == 0);
	close(fd);
	errno = 0;
	test_assert(ipc_recv(sv[1], &m, 1000) == -1 && errno == EBADMSG);
	test_assert(count_fds() == before);
	/* the header says 5, the datagram has 4 */
	n = raw_msg(buf, sizeof(buf), 5, "abcd", 4);
	test_assert(send_raw(sv[0], buf, n, NULL, 0) == 0);
	errno = 0;
	test_assert(ipc_recv(sv[1], &m, 1000) == -1 && errno == EBADMSG);
	/* longer than our buffer: truncated by the kernel (MSG_TRUNC) */
	raw_msg(big, sizeof(big), IPC_MAX_PAYLOAD + 1, NULL, 0);
	test_assert(send_raw(sv[0], big, sizeof(big), NULL, 0) == 0);
	errno = 0;
	test_assert(ipc_recv(sv[1], &m, 1000) == -1 && errno == EBADMSG);
	test_assert(count_fds() == before);
	close(sv[0]);
	close(sv[1]);
	test_end();
}

static void
test_ipc_eof_timeout(void)
{
	struct ipc_out	*o;
	int		 sv[2];

	test_begin("ipc_recv: timeout is ETIMEDOUT, EOF is 0");
	test_assert(seqpair(sv) == 0);
	errno = 0;
	test_assert(ipc_recv(sv[1], &m, 50) == -1 && errno == ETIMEDOUT);
	test_assert(ipc_recv(sv[1], &m, 0) == -1 && errno == ETIMEDOUT);
	/* timeout 0 still reads what is there */
	o = ipc_out_new(T_TYPE, 3, -1);
	test_assert(ipc_send(sv[0], o) == 0);
	test_assert(ipc_recv(sv[1], &m, 0) == 1 && m.hdr.id == 3);
	o = ipc_out_new(T_TYPE, 1, -1);
	test_assert(ipc_send(sv[0], o) == 0);
	close(sv[0]);
	/* what was sent before the close is still read */
	test_assert(ipc_recv(sv[1], &m, -1) == 1 && m.hdr.id == 1);
	test_assert(ipc_recv(sv[1], &m, -1) == 0);
	test_assert(ipc_recv(sv[1], &m, 1000) == 0);
	/* sending to a closed peer fails, and does not raise SIGPIPE */
	o = ipc_out_new(T_TYPE, 1, -1);
	errno = 0;
	test_assert(ipc_send(sv[1], o) == -1 && errno == EPIPE);
	close(sv[1]);
	test_end();
}

static void
on_alarm(int sig)
{
	(void)sig;
}

static void
test_ipc_recv_eintr(void)
{
	struct sigaction	sa, osa;
	struct itimerval	it;
	struct timespec		t0, t1;
	long			ms;
	int			sv[2];

	test_begin("ipc_recv: a signal does not cut the timeout short");
	test_assert(seqpair(sv) == 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: poll gets EINTR */
	sigemptyset(&sa.sa_mask);
	test_assert(sigaction(SIGALRM, &sa, &osa) == 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 50 * 1000;
	it.it_interval.tv_usec = 50 * 1000;
	test_assert(setitimer(ITIMER_REAL, &it, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	test_assert(ipc_recv(sv[1], &m, 300) == -1 && errno == ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	sigaction(SIGALRM, &osa, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	test_assert(ms >= 290 && ms < 2000);
	close(sv[0]);
	close(sv[1]);
	test_end();
}

static void
test_ipc_send_full(void)
{
	struct ipc_out	*o;
	uint8_t		 buf[IPC_HDR_SIZE];
	pid_t		 pid;
	int		 sv[2], st, fl, n = 0;

	test_begin("ipc_send on a full non-blocking socket waits for room");
	test_assert(seqpair(sv) == 0);
	fl = fcntl(sv[0], F_GETFL);
	test_assert(fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) == 0);
	raw_msg(buf, sizeof(buf), 0, NULL, 0);
	while (send(sv[0], buf, sizeof(buf), MSG_NOSIGNAL) > 0 && n < 100000)
		n++;
	test_assert(errno == EAGAIN && n < 100000);
	if ((pid = fork()) == 0) {
		/* drain a few after a while */
		usleep(200 * 1000);
		while (n-- > 0 && recv(sv[1], buf, sizeof(buf), 0) > 0)
			;
		_exit(0);
	}
	test_assert(pid > 0);
	o = ipc_out_new(T_TYPE, 2, -1);
	test_assert(ipc_send(sv[0], o) == 0);
	test_assert(waitpid(pid, &st, 0) == pid);
	close(sv[0]);
	close(sv[1]);
	test_end();
}

/* --- channels ------------------------------------------------------------ */

struct chan_state {
	struct event_base	*base;
	struct ipc_chan		*chan;
	int			 ndispatch;
	int			 nclosed;
	int			 reason;
	int			 in_dispatch;
	int			 reentrant;
	int			 action;	/* what dispatch does */
	uint32_t		 last_type;
	uint32_t		 last_id;
	uint64_t		 last_u64;
	int			 last_fd_ok;
};

enum { CHAN_REPLY, CHAN_DROP, CHAN_FREE, CHAN_NOTHING };

static void
chan_dispatch(struct ipc_chan *c, struct ipc_msg *msg, void *arg)
{
	struct chan_state	*cs = arg;
	struct ipc_out		*o;
	struct stat		 st;

	cs->in_dispatch = 1;
	cs->ndispatch++;
	cs->last_type = msg->hdr.type;
	cs->last_id = msg->hdr.id;
	if (ipc_get_u64(msg, &cs->last_u64) == -1 || ipc_end(msg) == -1)
		cs->last_u64 = 0;
	cs->last_fd_ok = msg->fd != -1 && fstat(msg->fd, &st) == 0;
	ipc_msg_clear(msg);
	switch (cs->action) {
	case CHAN_REPLY:
		o = ipc_out_new(msg->hdr.type, msg->hdr.id, -1);
		ipc_add_u64(o, cs->last_u64 + 1);
		ipc_chan_send(c, o);
		break;
	case CHAN_DROP:
		ipc_chan_drop(c);
		ipc_chan_drop(c);		/* still once */
		break;
	case CHAN_FREE:
		ipc_chan_free(c);
		cs->chan = NULL;
		/* a send after the free is refused, not a use after free */
		o = ipc_out_new(T_TYPE, 0, -1);
		test_assert(ipc_chan_send(c, o) == -1);
		break;
	}
	cs->in_dispatch = 0;
}

static void
chan_closed(struct ipc_chan *c, int reason, void *arg)
{
	struct chan_state	*cs = arg;

	(void)c;
	if (cs->in_dispatch)
		cs->reentrant = 1;
	cs->nclosed++;
	cs->reason = reason;
	cs->chan = NULL;
	event_base_loopbreak(cs->base);
}

static void
chan_setup(struct chan_state *cs, int sv[2], int action)
{
	memset(cs, 0, sizeof(*cs));
	cs->action = action;
	cs->base = event_base_new();
	test_assert(cs->base != NULL);
	test_assert(seqpair(sv) == 0);
	cs->chan = ipc_chan_new(cs->base, sv[1], IPC_PEER_SESSION,
	    chan_dispatch, chan_closed, cs);
	test_assert(cs->chan != NULL && ipc_chan_fd(cs->chan) == sv[1]);
	test_assert(ipc_chan_kind(cs->chan) == IPC_PEER_SESSION);
	test_assert(fcntl(sv[1], F_GETFL) & O_NONBLOCK);
}

/*
 * The other end was closed: EOF, or ECONNRESET when it had unread
 * datagrams (AF_UNIX tells the peer its messages were lost).
 */
static int
peer_gone(int sock)
{
	int	r;

	r = ipc_recv(sock, &m, 1000);
	return r == 0 || (r == -1 && errno == ECONNRESET);
}

/* Run the loop for at most ms, or until closed() breaks it. */
static void
chan_run(struct chan_state *cs, int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_loopexit(cs->base, &tv);
	event_base_dispatch(cs->base);
}

static void
chan_teardown(struct chan_state *cs, int sv[2])
{
	ipc_chan_free(cs->chan);
	event_base_free(cs->base);
	if (sv[0] != -1)
		close(sv[0]);
}

static void
test_ipc_chan_dispatch(void)
{
	struct chan_state	 cs;
	struct ipc_out		*o;
	uint64_t		 v;
	int			 sv[2], fd, before;

	test_begin("ipc_chan: dispatch, reply, fd, then closed(EOF) once");
	before = count_fds();
	chan_setup(&cs, sv, CHAN_REPLY);
	o = ipc_out_new(T_TYPE, 77, -1);
	ipc_add_u64(o, 41);
	test_assert(ipc_send(sv[0], o) == 0);
	chan_run(&cs, 200);
	test_assert(cs.ndispatch == 1 && cs.nclosed == 0);
	test_assert(cs.last_type == T_TYPE && cs.last_id == 77 &&
	    cs.last_u64 == 41 && !cs.last_fd_ok);
	test_assert(ipc_recv(sv[0], &m, 1000) == 1 && m.hdr.id == 77);
	test_assert(ipc_get_u64(&m, &v) == 0 && v == 42 && ipc_end(&m) == 0);

	/* with an fd */
	fd = memfd_create("ipc-test", MFD_CLOEXEC);
	o = ipc_out_new(T_TYPE, 78, fd);
	ipc_add_u64(o, 1);
	test_assert(ipc_send(sv[0], o) == 0);
	chan_run(&cs, 200);
	test_assert(cs.ndispatch == 2 && cs.last_fd_ok);
	test_assert(ipc_recv(sv[0], &m, 1000) == 1 && m.hdr.id == 78);

	/* many at once: all dispatched, across batches */
	for (v = 0; v < 200; v++) {
		o = ipc_out_new(T_TYPE, (uint32_t)v, -1);
		ipc_add_u64(o, v);
		test_assert(ipc_send(sv[0], o) == 0);
	}
	chan_run(&cs, 300);
	test_assert(cs.ndispatch == 202);

	shutdown(sv[0], SHUT_WR);
	chan_run(&cs, 1000);
	test_assert(cs.nclosed == 1 && cs.reason == IPC_CLOSED_EOF);
	test_assert(cs.chan == NULL && !cs.reentrant);
	chan_run(&cs, 50);
	test_assert(cs.nclosed == 1);
	chan_teardown(&cs, sv);
	test_assert(count_fds() == before);
	test_end();
}

static void
test_ipc_chan_malformed(void)
{
	struct chan_state	cs;
	uint8_t			buf[8];
	int			sv[2], fds[2], before;

	test_begin("ipc_chan: a malformed datagram calls closed() once");
	before = count_fds();
	chan_setup(&cs, sv, CHAN_REPLY);
	memset(buf, 0, sizeof(buf));
	fds[0] = memfd_create("ipc-test", MFD_CLOEXEC);
	fds[1] = memfd_create("ipc-test", MFD_CLOEXEC);
	test_assert(send_raw(sv[0], buf, sizeof(buf), fds, 2) == 0);
	test_assert(send_raw(sv[0], buf, sizeof(buf), NULL, 0) == 0);
	close(fds[0]);
	close(fds[1]);
	chan_run(&cs, 1000);
	chan_run(&cs, 50);
	test_assert(cs.ndispatch == 0);
	test_assert(cs.nclosed == 1 && cs.reason == IPC_CLOSED_MALFORMED);
	/* the channel's end is closed: the peer sees it */
	test_assert(peer_gone(sv[0]));
	chan_teardown(&cs, sv);
	test_assert(count_fds() == before);
	test_end();
}

static void
test_ipc_chan_drop(void)
{
	struct chan_state	 cs;
	struct ipc_out		*o;
	int			 sv[2], i;

	test_begin("ipc_chan_drop from dispatch: closed() later, once");
	chan_setup(&cs, sv, CHAN_DROP);
	for (i = 0; i < 3; i++) {
		o = ipc_out_new(T_TYPE, (uint32_t)i, -1);
		test_assert(ipc_send(sv[0], o) == 0);
	}
	chan_run(&cs, 1000);
	chan_run(&cs, 50);
	test_assert(cs.ndispatch == 1);		/* nothing after the drop */
	test_assert(cs.nclosed == 1 && cs.reason == IPC_CLOSED_MALFORMED);
	test_assert(!cs.reentrant);
	chan_teardown(&cs, sv);
	test_end();
}

static void
test_ipc_chan_free_inside(void)
{
	struct chan_state	 cs;
	struct ipc_out		*o;
	int			 sv[2], i, before;

	test_begin("ipc_chan_free in dispatch: no closed(), no use after free");
	before = count_fds();
	chan_setup(&cs, sv, CHAN_FREE);
	for (i = 0; i < 3; i++) {
		o = ipc_out_new(T_TYPE, (uint32_t)i, -1);
		test_assert(ipc_send(sv[0], o) == 0);
	}
	chan_run(&cs, 100);
	test_assert(cs.ndispatch == 1 && cs.nclosed == 0);
	test_assert(peer_gone(sv[0]));		/* fd closed */
	chan_teardown(&cs, sv);
	test_assert(count_fds() == before);
	test_end();
}

static void
test_ipc_chan_queue_full(void)
{
	struct chan_state	 cs;
	struct ipc_out		*o;
	int			 sv[2], i, fd, before, r = 0;

	test_begin("ipc_chan_send: a full queue closes the channel (error)");
	before = count_fds();
	chan_setup(&cs, sv, CHAN_NOTHING);
	for (i = 0; i < IPC_CHAN_MAX_QUEUE; i++) {
		o = ipc_out_new(T_TYPE, (uint32_t)i, -1);
		r |= ipc_chan_send(cs.chan, o);
	}
	test_assert(r == 0);
	fd = memfd_create("ipc-test", MFD_CLOEXEC);
	o = ipc_out_new(T_TYPE, 0, fd);
	errno = 0;
	test_assert(ipc_chan_send(cs.chan, o) == -1 && errno == ENOBUFS);
	test_assert(!fd_is_open(fd));		/* freed with its fd */
	o = ipc_out_new(T_TYPE, 0, -1);
	test_assert(ipc_chan_send(cs.chan, o) == -1 && errno == EPIPE);
	test_assert(cs.nclosed == 0);		/* not from inside send */
	chan_run(&cs, 1000);
	test_assert(cs.nclosed == 1 && cs.reason == IPC_CLOSED_ERROR);
	chan_teardown(&cs, sv);
	test_assert(count_fds() == before);
	test_end();
}

static void
test_ipc_chan_free_queued(void)
{
	struct chan_state	 cs;
	struct ipc_out		*o;
	int			 sv[2], fd, before;

	test_begin("ipc_chan_free with queued messages and a pending close");
	before = count_fds();
	chan_setup(&cs, sv, CHAN_NOTHING);
	fd = memfd_create("ipc-test", MFD_CLOEXEC);
	o = ipc_out_new(T_TYPE, 0, fd);
	test_assert(ipc_chan_send(cs.chan, o) == 0);
	ipc_chan_drop(cs.chan);
	ipc_chan_free(cs.chan);
	cs.chan = NULL;
	chan_run(&cs, 50);
	test_assert(cs.nclosed == 0 && cs.ndispatch == 0);
	chan_teardown(&cs, sv);
	test_assert(count_fds() == before);
	test_end();
}

static void
test_ipc_chan_peer_reset(void)
{
	struct chan_state	 cs;
	struct ipc_out		*o;
	int			 sv[2], before;

	test_begin("ipc_chan: a peer that closes without reading is EOF");
	before = count_fds();
	chan_setup(&cs, sv, CHAN_NOTHING);
	o = ipc_out_new(T_TYPE, 1, -1);
	test_assert(ipc_chan_send(cs.chan, o) == 0);
	chan_run(&cs, 50);			/* written, not read */
	test_assert(cs.nclosed == 0);
	close(sv[0]);
	sv[0] = -1;
	chan_run(&cs, 1000);
	test_assert(cs.nclosed == 1 && cs.reason == IPC_CLOSED_EOF);
	chan_teardown(&cs, sv);
	test_assert(count_fds() == before);
	test_end();
}

static void
chan_bad_fd(void)
{
	struct event_base	*base;

	base = event_base_new();
	(void)ipc_chan_new(base, -1, IPC_PEER_SERVICE, chan_dispatch, NULL,
	    NULL);
}

static void
test_ipc_chan_bad_fd(void)
{
	test_begin("ipc_chan_new on a bad fd is fatal (our bug)");
	test_fatal(chan_bad_fd);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_ipc_roundtrip, test_ipc_empty, test_ipc_get_short,
		test_ipc_get_str_bounds, test_ipc_get_data_bounds,
		test_ipc_trailing, test_ipc_decode, test_ipc_deliver,
		test_ipc_max_payload,
		test_ipc_fd_passing, test_ipc_too_many_fds,
		test_ipc_bad_datagrams, test_ipc_eof_timeout,
		test_ipc_recv_eintr, test_ipc_send_full,
		test_ipc_chan_dispatch, test_ipc_chan_malformed,
		test_ipc_chan_drop, test_ipc_chan_free_inside,
		test_ipc_chan_queue_full, test_ipc_chan_free_queued,
		test_ipc_chan_peer_reset,
		test_ipc_chan_bad_fd,
		NULL
	};

	return test_run(tests);
}
