/* SPDX-License-Identifier: ISC */
/*
 * test_sandbox.c - the jail, the privilege drop and the sandbox, checked
 * from outside.  Each case forks a child that, like a session, jails
 * itself in an empty root-owned directory, drops to nobody, enters the
 * sandbox of ROLE_SMTP (or ROLE_AUTH) and then does one thing: a TLS
 * session, a libevent loop, or one call that must be refused.  The
 * parent watches its exit status, its log datagrams and /proc.
 * Needs root (chroot, setresuid): without it those cases are TAP skips.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "sealpost.h"
#include "io.h"
#include "log.h"
#include "memfd.h"
#include "sandbox.h"
#include "tls.h"
#include "test.h"
#include "banned.h"

/* The same test as sandbox.c: the allow-lists differ in these builds. */
#if defined(__SANITIZE_ADDRESS__)
#define TS_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TS_SANITIZER	1
#endif
#endif

#define TS_X32_SYSCALL_BIT	0x40000000L	/* asm/unistd.h */

/* What a child reports once it is in the sandbox (or failed to get in). */
struct kid_hello {
	int			stage;	/* 0 in; 1 jail, 2 drop, 3 sandbox */
	int			err;	/* errno of the failed stage */
	struct sandbox_status	st;
};

struct kid {
	enum sp_role		 role;
	int			 flags;		/* for sandbox_enter */
	/* before: as root, before the jail; after: in the sandbox */
	void			(*before)(struct kid *);
	void			(*after)(struct kid *);
	void			*arg;
	/* parent's side */
	pid_t			 pid;
	int			 res, go, log;
	int			 status;
	struct kid_hello	 hello;
	char			 jail[32];
	/* child's side */
	int			 c_res, c_go;
};

static uid_t	nobody_uid;
static gid_t	nobody_gid;

static int
need_root(const char *name)
{
	char	skip[200];

	if (geteuid() == 0 && getpwnam("nobody") != NULL) {
		test_begin(name);
		return 0;
	}
	snprintf(skip, sizeof(skip), "%s # SKIP not root", name);
	test_begin(skip);
	test_end();
	return 1;
}

static int
need_sanitizer(const char *name)
{
#ifdef TS_SANITIZER
	return need_root(name);
#else
	char	skip[200];

	snprintf(skip, sizeof(skip), "%s # SKIP not a sanitizer build", name);
	test_begin(skip);
	test_end();
	return 1;
#endif
}

/* Child: tell the parent n bytes. */
static void
kid_say(struct kid *k, const void *p, size_t n)
{
	if (write(k->c_res, p, n) != (ssize_t)n)
		_exit(99);
}

/* Child: block until the parent says go (or goes away). */
static void
kid_wait(struct kid *k)
{
	char	c;

	while (read(k->c_go, &c, 1) == -1 && errno == EINTR)
		;
}

/* Parent: read exactly n bytes the child said; -1 when it died first. */
static int
kid_hear(struct kid *k, void *p, size_t n)
{
	char	*b = p;
	size_t	 off = 0;
	ssize_t	 r;

	while (off < n) {
		r = read(k->res, b + off, n - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/*
 * Fork a child that enters the sandbox as a session would and runs
 * k->after there.  0 when the child reported that it is in.
 */
static int
kid_start(struct kid *k)
{
	int	res[2], go[2], lsv[2];

	strlcpy(k->jail, "/tmp/sp-jail.XXXXXX", sizeof(k->jail));
	if (mkdtemp(k->jail) == NULL || chmod(k->jail, 0755) == -1 ||
	    pipe(res) == -1 || pipe(go) == -1 ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, lsv) == -1)
		return -1;
	fflush(stdout);
	fflush(stderr);
	if ((k->pid = fork()) == -1)
		return -1;
	if (k->pid == 0) {
		struct kid_hello	h;

		memset(&h, 0, sizeof(h));
		close(res[0]);
		close(go[1]);
		close(lsv[0]);
		k->c_res = res[1];
		k->c_go = go[0];
		/* main() keeps 3..9 busy: SP_FD_LOG hits none of ours */
		if (dup2(lsv[1], SP_FD_LOG) == -1)
			_exit(98);
		close(lsv[1]);
		log_init("test", LOG_DEST_MASTER, SP_FD_LOG);
		if (k->before != NULL)
			k->before(k);
		h.stage = 1;
		if (jail_chroot(k->jail) == 0) {
			h.stage = 2;
			if (privdrop(nobody_uid, nobody_gid) == 0) {
				h.stage = 3;
				if (sandbox_enter(k->role, k->flags, &h.st) ==
				    0)
					h.stage = 0;
			}
		}
		h.err = errno;
		kid_say(k, &h, sizeof(h));
		if (h.stage != 0)
			_exit(97);
		if (k->after != NULL)
			k->after(k);
		_exit(0);
	}
	close(res[1]);
	close(go[0]);
	close(lsv[1]);
	k->res = res[0];
	k->go = go[1];
	k->log = lsv[0];
	if (kid_hear(k, &k->hello, sizeof(k->hello)) == -1)
		return -1;
	if (k->hello.stage != 0) {
		printf("# child failed at stage %d: %s\n", k->hello.stage,
		    strerror(k->hello.err));
		return -1;
	}
	return 0;
}

/* Parent: let the child go on, reap it, clean up. */
static void
kid_end(struct kid *k)
{
	if (k->pid > 0) {
		/* EPIPE when the child is gone already (SIGPIPE ignored) */
		if (write(k->go, "g", 1) == -1 && errno != EPIPE)
			printf("# write go: %s\n", strerror(errno));
		while (waitpid(k->pid, &k->status, 0) == -1 && errno == EINTR)
			;
	}
	close(k->res);
	close(k->go);
	(void)rmdir(k->jail);
	/* k->log stays open: the caller reads the datagrams, then closes */
}

/* Parent: a datagram from the child that starts with prefix. */
static int
kid_logged(struct kid *k, const char *prefix, char *rest, size_t restlen)
{
	char	buf[SP_LOG_LINE_MAX + 2];
	ssize_t	n;
	size_t	plen = strlen(prefix);

	while ((n = recv(k->log, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		if (strncmp(buf, prefix, plen) == 0) {
			if (rest != NULL)
				strlcpy(rest, buf + plen, restlen);
			return 1;
		}
	}
	return 0;
}

/* One "Key:" line of /proc/PID/FILE, without the key and blanks. */
static int
proc_field(pid_t pid, const char *file, const char *key, char *val,
    size_t vallen)
{
	char	 path[64], line[256], *p;
	size_t	 klen = strlen(key);
	FILE	*f;
	int	 found = 0;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) != 0)
			continue;
		for (p = line + klen; *p == ' ' || *p == '\t'; p++)
			;
		p[strcspn(p, "\n")] = '\0';
		strlcpy(val, p, vallen);
		found = 1;
	}
	fclose(f);
	return found;
}

/* "32 32" from a /proc/PID/limits line: soft and hard. */
static int
proc_limit(pid_t pid, const char *name, char *val, size_t vallen)
{
	char	line[128], soft[32], hard[32];

	if (!proc_field(pid, "limits", name, line, sizeof(line)) ||
	    sscanf(line, "%31s %31s", soft, hard) != 2)
		return 0;
	snprintf(val, vallen, "%s %s", soft, hard);
	return 1;
}

/*
 * The child was stopped by the seccomp filter's trap: exit status 70 and
 * "sandbox violation syscall=NR" on its log socket, NR one of nrs.
 */
static void
expect_violation(struct kid *k, const long *nrs, size_t n)
{
	char		 rest[64];
	const char	*errstr;
	long long	 nr = -2;
	size_t		 i;
	int		 match = 0;

	test_assert(WIFEXITED(k->status) &&
	    WEXITSTATUS(k->status) == SANDBOX_EXIT_VIOLATION);
	test_assert(kid_logged(k, "4sandbox violation syscall=", rest,
	    sizeof(rest)));
	nr = strtonum(rest, 0, 1000000, &errstr);
	test_assert(errstr == NULL);
	for (i = 0; i < n; i++)
		if (nrs[i] == nr)
			match = 1;
	if (!match)
		printf("# violation reported syscall=%s\n", rest);
	test_assert(match);
}

/* Killed outright by the filter: SIGSYS, and no handler ran. */
static void
expect_killed(struct kid *k)
{
	test_assert(WIFSIGNALED(k->status) && WTERMSIG(k->status) == SIGSYS);
	test_assert(!kid_logged(k, "4sandbox violation", NULL, 0));
}

/* ---- allowed things ---------------------------------------------------- */

struct allowed_arg {
	int	sp[2];		/* SOCK_SEQPACKET: [0] parent, [1] child */
	int	memfd;		/* the parent sends it after the sandbox */
};

struct allowed_res {
	int	getrandom_ok;
	int	malloc_ok;
	int	poll_ok;
	int	sendmsg_ok;
	int	recvmsg_ok;
	int	memfd_ok;
};

static int
send_fd(int sock, int fd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} c;
	char		 b = 'f';

	memset(&msg, 0, sizeof(msg));
	memset(&c, 0, sizeof(c));
	iov.iov_base = &b;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = c.buf;
	msg.msg_controllen = sizeof(c.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int
recv_fd(int sock)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} c;
	char		 b;
	int		 fd = -1;

	memset(&msg, 0, sizeof(msg));
	memset(&c, 0, sizeof(c));
	iov.iov_base = &b;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = c.buf;
	msg.msg_controllen = sizeof(c.buf);
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	if ((cm = CMSG_FIRSTHDR(&msg)) == NULL ||
	    cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void
allowed_after(struct kid *k)
{
	struct allowed_arg	*a = k->arg;
	struct allowed_res	 r;
	struct pollfd		 pfd;
	unsigned char		 rnd[16];
	char			*p, buf[8];
	size_t			 len;
	int			 fd;

	memset(&r, 0, sizeof(r));
	r.getrandom_ok = getrandom(rnd, sizeof(rnd), 0) == sizeof(rnd);
	if ((p = malloc(1 << 20)) != NULL) {
		memset(p, 'x', 1 << 20);
		r.malloc_ok = p[(1 << 20) - 1] == 'x';
		free(p);
	}
	pfd.fd = k->c_go;
	pfd.events = POLLIN;
	r.poll_ok = poll(&pfd, 1, 1) == 0;
	log_info("sandbox test line %d", 42);
	r.sendmsg_ok = send_fd(a->sp[1], k->c_res) == 0;
	if ((fd = recv_fd(a->sp[1])) != -1) {
		r.recvmsg_ok = 1;
		memset(buf, 0, sizeof(buf));
		r.memfd_ok = memfd_check_sealed(fd, 100, &len) == 0 &&
		    len == 6 && memfd_read(fd, buf, len) == 0 &&
		    memcmp(buf, "sealed", 6) == 0;
		close(fd);
	}
	kid_say(k, &r, sizeof(r));
	kid_wait(k);
}

static void
test_sandbox_allowed(void)
{
	struct allowed_arg	a;
	struct allowed_res	r;
	struct kid		k;
	struct stat		st, st2;
	char			val[128], want[128], line[64];
	int			fd;

	if (need_root("ROLE_SMTP: allowed calls work, /proc shows the "
	    "sandbox"))
		return;
	memset(&k, 0, sizeof(k));
	memset(&r, 0, sizeof(r));
	test_assert(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, a.sp) == 0);
	test_assert((a.memfd = memfd_sealed_from("t", "sealed", 6)) != -1);
	k.role = ROLE_SMTP;
	k.after = allowed_after;
	k.arg = &a;
	test_assert(kid_start(&k) == 0);
	close(a.sp[1]);
	printf("# %s\n", sandbox_describe(&k.hello.st));
	test_assert(k.hello.st.seccomp == 1);
	test_assert(k.hello.st.landlock == (k.hello.st.landlock_abi > 0));

	/* the child's pipe end came over SCM_RIGHTS: the same pipe */
	fd = recv_fd(a.sp[0]);
	test_assert(fd != -1);
	test_assert(fstat(fd, &st) == 0 && fstat(k.res, &st2) == 0 &&
	    S_ISFIFO(st.st_mode) && st.st_ino == st2.st_ino);
	close(fd);
	test_assert(send_fd(a.sp[0], a.memfd) == 0);
	test_assert(kid_hear(&k, &r, sizeof(r)) == 0);
	test_assert(r.getrandom_ok);
	test_assert(r.malloc_ok);
	test_assert(r.poll_ok);
	test_assert(r.sendmsg_ok);
	test_assert(r.recvmsg_ok);
	test_assert(r.memfd_ok);
	test_assert(kid_logged(&k, "6", line, sizeof(line)));
	test_assert_streq(line, "sandbox test line 42");

	/* from outside, while the child waits */
	test_assert(proc_field(k.pid, "status", "NoNewPrivs:", val,
	    sizeof(val)));
	test_assert_streq(val, "1");
	test_assert(proc_field(k.pid, "status", "Seccomp:", val,
	    sizeof(val)));
	test_assert_streq(val, "2");
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)nobody_uid,
	    (unsigned)nobody_uid, (unsigned)nobody_uid, (unsigned)nobody_uid);
	test_assert(proc_field(k.pid, "status", "Uid:", val, sizeof(val)));
	test_assert_streq(val, want);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)nobody_gid,
	    (unsigned)nobody_gid, (unsigned)nobody_gid, (unsigned)nobody_gid);
	test_assert(proc_field(k.pid, "status", "Gid:", val, sizeof(val)));
	test_assert_streq(val, want);
	test_assert(proc_field(k.pid, "status", "Groups:", val,
	    sizeof(val)));
	test_assert_streq(val, "");
	/* not dumpable: the kernel gives the files in /proc/PID to root */
	snprintf(want, sizeof(want), "/proc/%ld/status", (long)k.pid);
	test_assert(stat(want, &st) == 0 && st.st_uid == 0);
	test_assert(proc_limit(k.pid, "Max core file size", val,
	    sizeof(val)));
	test_assert_streq(val, "0 0");
	test_assert(proc_limit(k.pid, "Max open files", val, sizeof(val)));
	test_assert_streq(val, "32 32");
#ifndef TS_SANITIZER
	/* smtp writes message bodies into a memfd: up to 128 MiB */
	test_assert(proc_limit(k.pid, "Max file size", val, sizeof(val)));
	test_assert_streq(val, "134217728 134217728");
	test_assert(proc_limit(k.pid, "Max address space", val,
	    sizeof(val)));
	test_assert_streq(val, "536870912 536870912");
#endif
	kid_end(&k);
	test_assert(WIFEXITED(k.status) && WEXITSTATUS(k.status) == 0);
	close(k.log);
	close(a.sp[0]);
	close(a.memfd);
	test_end();
}

/* ---- a session's real work: TLS 1.3 and lines -------------------------- */

struct tls_arg {
	int			 fd;	/* the accepted connection */
	int			 memfd;	/* certificate and key, as sent */
	struct ssl_ctx_st	*ctx;
};

struct tls_res {
	int	handshake_ok;
	int	lines;
	char	version[16];
};

static void
tls_before(struct kid *k)
{
	struct tls_arg	*a = k->arg;
	char		 err[256];

	/* as session_init: the context is made before the jail */
	if ((a->ctx = tls_server_ctx_from_fd(a->memfd, err, sizeof(err))) ==
	    NULL)
		_exit(94);
	close(a->memfd);
}

static void
tls_after(struct kid *k)
{
	struct tls_arg	*a = k->arg;
	struct tls_res	 r;
	struct io	 io;
	char		 err[256], *line;
	size_t		 len;

	memset(&r, 0, sizeof(r));
	io_init(&io, a->fd, 5000);
	if ((io.tls = tls_accept(a->ctx, a->fd, 5000, err,
	    sizeof(err))) != NULL) {
		r.handshake_ok = 1;
		strlcpy(r.version, tls_version(io.tls), sizeof(r.version));
		log_info("event=tls version=%s", r.version);
		while (io_getline(&io, 512, &line, &len) == IO_LINE) {
			r.lines++;
			if (strcmp(line, "QUIT") == 0) {
				(void)io_printf(&io, "221 bye\r\n");
				break;
			}
			(void)io_printf(&io, "250 ok %zu\r\n", len);
		}
		tls_close(io.tls);
	}
	close(a->fd);
	tls_ctx_free(a->ctx);
	kid_say(k, &r, sizeof(r));
	kid_wait(k);
#ifdef TS_SANITIZER
	/* LeakSanitizer at exit would need clone and ptrace */
	if (getenv("ASAN_OPTIONS") == NULL ||
	    strstr(getenv("ASAN_OPTIONS"), "detect_leaks=0") == NULL)
		_exit(0);
#endif
	exit(0);	/* as session_end: OpenSSL's atexit handlers run */
}

/* Client: one line out, one reply line back (into buf). */
static int
tls_client_line(SSL *ssl, const char *out, char *buf, size_t buflen)
{
	size_t	off = 0;
	int	n;

	if (SSL_write(ssl, out, (int)strlen(out)) != (int)strlen(out))
		return -1;
	while (off < buflen - 1) {
		n = SSL_read(ssl, buf + off, (int)(buflen - 1 - off));
		if (n <= 0)
			return -1;
		off += (size_t)n;
		buf[off] = '\0';
		if (strstr(buf, "\r\n") != NULL)
			return 0;
	}
	return -1;
}

static void
test_sandbox_tls(void)
{
	struct sockaddr_in	 sin;
	struct tls_arg		 a;
	struct tls_res		 r;
	struct kid		 k;
	socklen_t		 sl = sizeof(sin);
	SSL_CTX			*cctx = NULL;
	SSL			*ssl = NULL;
	char			 err[256], buf[128];
	int			 lfd, cfd = -1;

	if (need_root("ROLE_SMTP: TLS 1.3 handshake and line I/O, then "
	    "exit"))
		return;
	memset(&a, 0, sizeof(a));
	memset(&k, 0, sizeof(k));
	memset(&r, 0, sizeof(r));
	a.memfd = tls_material_load(TEST_KEYS "/tls-cert.pem",
	    TEST_KEYS "/tls-key.pem", err, sizeof(err));
	if (a.memfd == -1)
		printf("# %s\n", err);
	test_assert(a.memfd != -1);

	/* a TCP connection over loopback, as the master hands it over */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	test_assert((lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	test_assert(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert(listen(lfd, 1) == 0);
	test_assert(getsockname(lfd, (struct sockaddr *)&sin, &sl) == 0);
	test_assert((cfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	test_assert(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert((a.fd = accept(lfd, NULL, NULL)) != -1);
	close(lfd);

	k.role = ROLE_SMTP;
	k.before = tls_before;
	k.after = tls_after;
	k.arg = &a;
	test_assert(kid_start(&k) == 0);
	close(a.fd);
	close(a.memfd);

	test_assert((cctx = SSL_CTX_new(TLS_client_method())) != NULL);
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	test_assert((ssl = SSL_new(cctx)) != NULL);
	test_assert(SSL_set_fd(ssl, cfd) == 1);
	test_assert(SSL_connect(ssl) == 1);
	test_assert(tls_client_line(ssl, "EHLO test\r\n", buf,
	    sizeof(buf)) == 0);
	test_assert_streq(buf, "250 ok 9\r\n");
	test_assert(tls_client_line(ssl, "QUIT\r\n", buf, sizeof(buf)) == 0);
	test_assert_streq(buf, "221 bye\r\n");
	test_assert(kid_hear(&k, &r, sizeof(r)) == 0);
	test_assert(r.handshake_ok);
	test_assert(r.lines == 2);
	test_assert_streq(r.version, "TLSv1.3");
	kid_end(&k);
	test_assert(WIFEXITED(k.status) && WEXITSTATUS(k.status) == 0);
	test_assert(kid_logged(&k, "6event=tls ", buf, sizeof(buf)));
	test_assert(!kid_logged(&k, "4sandbox violation", NULL, 0));
	SSL_free(ssl);
	SSL_CTX_free(cctx);
	close(cfd);
	close(k.log);
	test_end();
}

/* ---- forbidden things: one per child ------------------------------------ */

static void
forbid_open_root(struct kid *k)
{
	int	r[2];

	/* "/" exists in the jail: only the sandbox can refuse this */
	r[0] = open("/", O_RDONLY);
	r[1] = errno;
	kid_say(k, r, sizeof(r));	/* sanitizer builds: Landlock said no */
}

static void
forbid_execve(struct kid *k)
{
	char	*argv[] = { "x", NULL };

	(void)k;
	execve("/x", argv, argv + 1);
}

static void
forbid_socket(struct kid *k)
{
	(void)k;
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
forbid_fork(struct kid *k)
{
	(void)k;
	if (fork() == 0)
		_exit(0);
}

static void
forbid_mmap_exec(struct kid *k)
{
	(void)k;
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void
forbid_sigsys_handler(struct kid *k)
{
	struct sigaction	sa;

	(void)k;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGSYS, &sa, NULL);
}

static void
forbid_sigsys_high_bits(struct kid *k)
{
	(void)k;
	/* the kernel reads an int: 1<<32 | SIGSYS is SIGSYS to it */
	(void)syscall(SYS_rt_sigaction, (1L << 32) | SIGSYS, NULL, NULL, 8);
}

static void
forbid_ptrace(struct kid *k)
{
	(void)k;
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void
forbid_x32(struct kid *k)
{
	(void)k;
	(void)syscall(TS_X32_SYSCALL_BIT | SYS_getpid);
}

static void
forbid_abort(struct kid *k)
{
	(void)k;
	abort();
}

/* A child that does fn in the sandbox of role; reaped into k->status. */
static void
run_forbidden(enum sp_role role, void (*fn)(struct kid *), struct kid *k)
{
	memset(k, 0, sizeof(*k));
	k->role = role;
	k->after = fn;
	test_assert(kid_start(k) == 0);
	kid_end(k);
}

static void
test_sandbox_open(void)
{
	static const long	nrs[] = { SYS_openat, SYS_open };
	struct kid		k;
	int			r[2];

	if (need_root("ROLE_SMTP: open(\"/\") is refused"))
		return;
	memset(&k, 0, sizeof(k));
	k.role = ROLE_SMTP;
	k.after = forbid_open_root;
	test_assert(kid_start(&k) == 0);
#ifdef TS_SANITIZER
	/* ASan may open files to report: seccomp lets open by, Landlock not */
	if (k.hello.st.landlock) {
		test_assert(kid_hear(&k, r, sizeof(r)) == 0);
		test_assert(r[0] == -1 && r[1] == EACCES);
	} else
		printf("# no Landlock: open(\"/\") not checked\n");
	kid_end(&k);
	test_assert(WIFEXITED(k.status) && WEXITSTATUS(k.status) == 0);
	(void)nrs;
#else
	test_assert(kid_hear(&k, r, sizeof(r)) == -1);	/* never returned */
	kid_end(&k);
	expect_violation(&k, nrs, sizeof(nrs) / sizeof(nrs[0]));
#endif
	close(k.log);
	test_end();
}

static void
test_sandbox_execve(void)
{
	static const long	nrs[] = { SYS_execve };
	struct kid		k;

	if (need_root("ROLE_SMTP: execve is a violation"))
		return;
	run_forbidden(ROLE_SMTP, forbid_execve, &k);
	expect_violation(&k, nrs, 1);
	close(k.log);
	test_end();
}

static void
test_sandbox_socket(void)
{
	static const long	nrs[] = { SYS_socket };
	struct kid		k;

	if (need_root("ROLE_SMTP: socket(AF_INET) is a violation"))
		return;
	run_forbidden(ROLE_SMTP, forbid_socket, &k);
	expect_violation(&k, nrs, 1);
	close(k.log);
	test_end();
}

static void
test_sandbox_fork(void)
{
	static const long	nrs[] = { SYS_clone, SYS_clone3, SYS_fork };
	struct kid		k;

	if (need_root("ROLE_SMTP: fork is a violation"))
		return;
	run_forbidden(ROLE_SMTP, forbid_fork, &k);
	expect_violation(&k, nrs, sizeof(nrs) / sizeof(nrs[0]));
	close(k.log);
	test_end();
}

static void *
thread_main(void *arg)
{
	/* a thread's malloc gets its own arena: the calls of a KDF worker */
	void	*p = malloc(1 << 20);

	memset(p, 1, 1 << 20);
	free(p);
	return arg;
}

/* ROLE_AUTH starts its KDF threads after the sandbox. */
static void
auth_thread(struct kid *k)
{
	pthread_t	t;
	void		*ret = NULL;
	int		 ok;

	ok = pthread_create(&t, NULL, thread_main, k) == 0 &&
	    pthread_join(t, &ret) == 0 && ret == k;
	kid_say(k, &ok, sizeof(ok));
}

static void
test_sandbox_auth_threads(void)
{
	static const long	nrs[] = { SYS_clone, SYS_clone3, SYS_fork };
	struct kid		k;
	int			ok = 0;

	if (need_root("ROLE_AUTH: a thread yes, a process no"))
		return;
	memset(&k, 0, sizeof(k));
	k.role = ROLE_AUTH;
	k.after = auth_thread;
	test_assert(kid_start(&k) == 0);
	test_assert(kid_hear(&k, &ok, sizeof(ok)) == 0 && ok == 1);
	kid_end(&k);
	test_assert(WIFEXITED(k.status) && WEXITSTATUS(k.status) == 0);
	close(k.log);
	run_forbidden(ROLE_AUTH, forbid_fork, &k);
	expect_violation(&k, nrs, sizeof(nrs) / sizeof(nrs[0]));
	close(k.log);
	test_end();
}

static void
test_sandbox_mmap_exec(void)
{
	static const long	nrs[] = { SYS_mmap };
	struct kid		k;

	if (need_root("ROLE_SMTP: mmap(PROT_EXEC) is a violation"))
		return;
	run_forbidden(ROLE_SMTP, forbid_mmap_exec, &k);
	expect_violation(&k, nrs, 1);
	close(k.log);
	/* the mail role maps files executable (gconv), never memory */
	run_forbidden(ROLE_IMAP_MAIL, forbid_mmap_exec, &k);
	expect_violation(&k, nrs, 1);
	close(k.log);
	test_end();
}

static void
test_sandbox_sigsys(void)
{
	static const long	nrs[] = { SYS_rt_sigaction };
	struct kid		k;

	if (need_root("ROLE_AUTH: the SIGSYS handler cannot be replaced"))
		return;
	run_forbidden(ROLE_AUTH, forbid_sigsys_handler, &k);
	expect_violation(&k, nrs, 1);
	close(k.log);
	run_forbidden(ROLE_AUTH, forbid_sigsys_high_bits, &k);
	expect_violation(&k, nrs, 1);
	close(k.log);
	test_end();
}

static void
test_sandbox_kill(void)
{
	struct kid	k;

	if (need_root("ROLE_SMTP: ptrace and x32 calls kill at once"))
		return;
	run_forbidden(ROLE_SMTP, forbid_ptrace, &k);
	expect_killed(&k);
	close(k.log);
	run_forbidden(ROLE_SMTP, forbid_x32, &k);
	expect_killed(&k);
	close(k.log);
	test_end();
}

static void
test_sandbox_abort(void)
{
	struct kid	k;

	if (need_root("ROLE_SMTP: abort() still ends in SIGABRT"))
		return;
	run_forbidden(ROLE_SMTP, forbid_abort, &k);
	test_assert(WIFSIGNALED(k.status) && WTERMSIG(k.status) == SIGABRT);
	test_assert(!kid_logged(&k, "4sandbox violation", NULL, 0));
	close(k.log);
	test_end();
}

/* ---- SANDBOX_NO_FILTERS: the test hook -------------------------------- */

static void
nofilter_after(struct kid *k)
{
	int	r[3];

	r[0] = open("/", O_RDONLY);
	r[1] = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	r[2] = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	kid_say(k, r, sizeof(r));
	kid_wait(k);
}

static void
test_sandbox_no_filters(void)
{
	struct kid	k;
	char		val[64];
	int		r[3];

	if (need_root("SANDBOX_NO_FILTERS: open(\"/\") works, no seccomp"))
		return;
	memset(&k, 0, sizeof(k));
	k.role = ROLE_SMTP;
	k.flags = SANDBOX_NO_FILTERS;
	k.after = nofilter_after;
	test_assert(kid_start(&k) == 0);
	test_assert(k.hello.st.seccomp == 0 && k.hello.st.landlock == 0);
	test_assert(kid_hear(&k, r, sizeof(r)) == 0);
	test_assert(r[0] >= 0);		/* so the jail alone lets it by */
	test_assert(r[1] == 0);		/* not dumpable */
	test_assert(r[2] == 1);		/* no new privs */
	test_assert(proc_field(k.pid, "status", "Seccomp:", val,
	    sizeof(val)));
	test_assert_streq(val, "0");
	test_assert(proc_field(k.pid, "status", "NoNewPrivs:", val,
	    sizeof(val)));
	test_assert_streq(val, "1");
	kid_end(&k);
	test_assert(WIFEXITED(k.status) && WEXITSTATUS(k.status) == 0);
	close(k.log);
	test_end();
}

/* ---- the service profile: a libevent loop ----------------------------- */

struct svc_arg {
	struct event_base	*base;
	int			 sv[2];	/* [0] child reads, [1] parent writes */
	int			 nread, ntimer, nsig, ntimeout;
};

static void
svc_check_done(struct svc_arg *a)
{
	if (a->nread > 0 && a->ntimer > 0 && a->nsig > 0)
		event_base_loopbreak(a->base);
}

static void
svc_read(evutil_socket_t fd, short ev, void *arg)
{
	struct svc_arg	*a = arg;
	char		 b[16];

	(void)ev;
	if (read(fd, b, sizeof(b)) > 0)
		a->nread++;
	svc_check_done(a);
}

static void
svc_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct svc_arg	*a = arg;

	(void)fd;
	(void)ev;
	a->ntimer++;
	svc_check_done(a);
}

static void
svc_signal(evutil_socket_t fd, short ev, void *arg)
{
	struct svc_arg	*a = arg;

	(void)fd;
	(void)ev;
	a->nsig++;
	svc_check_done(a);
}

static void
svc_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct svc_arg	*a = arg;

	(void)fd;
	(void)ev;
	a->ntimeout++;
	event_base_loopbreak(a->base);
}

static void
svc_before(struct kid *k)
{
	struct svc_arg	*a = k->arg;

	/* as a service does: the base (epoll fd, signal pipe) first */
	if ((a->base = event_base_new()) == NULL)
		_exit(96);
}

static void
svc_after(struct kid *k)
{
	struct svc_arg		*a = k->arg;
	struct timeval		 t5ms = { 0, 5000 }, t5s = { 5, 0 };
	struct event		*re, *te, *se, *to;
	int			 r[4], ok = 1;

	re = event_new(a->base, a->sv[0], EV_READ | EV_PERSIST, svc_read, a);
	te = evtimer_new(a->base, svc_timer, a);
	se = evsignal_new(a->base, SIGUSR1, svc_signal, a);
	to = evtimer_new(a->base, svc_timeout, a);
	if (re == NULL || te == NULL || se == NULL || to == NULL ||
	    event_add(re, NULL) == -1 || event_add(te, &t5ms) == -1 ||
	    event_add(se, NULL) == -1 || event_add(to, &t5s) == -1)
		ok = 0;
	kid_say(k, &ok, sizeof(ok));	/* armed: the parent may write */
	if (ok)
		(void)event_base_dispatch(a->base);
	r[0] = a->nread;
	r[1] = a->ntimer;
	r[2] = a->nsig;
	r[3] = a->ntimeout;
	kid_say(k, r, sizeof(r));
	event_free(re);
	event_free(te);
	event_free(se);
	event_free(to);
	event_base_free(a->base);
	kid_wait(k);
}

static void
test_sandbox_service(void)
{
	struct svc_arg	a;
	struct kid	k;
	char		val[64];
	int		ok = 0, r[4];

	if (need_root("ROLE_AUTH: libevent read, timer and signal events"))
		return;
	memset(&a, 0, sizeof(a));
	memset(&k, 0, sizeof(k));
	memset(r, 0, sizeof(r));
	test_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, a.sv) == 0);
	k.role = ROLE_AUTH;
	k.before = svc_before;
	k.after = svc_after;
	k.arg = &a;
	test_assert(kid_start(&k) == 0);
	close(a.sv[0]);
	test_assert(k.hello.st.seccomp == 1);
	test_assert(kid_hear(&k, &ok, sizeof(ok)) == 0 && ok == 1);
	test_assert(write(a.sv[1], "x", 1) == 1);
	test_assert(kill(k.pid, SIGUSR1) == 0);
	test_assert(kid_hear(&k, r, sizeof(r)) == 0);
	test_assert(r[0] == 1);		/* the read event */
	test_assert(r[1] == 1);		/* the timer */
	test_assert(r[2] == 1);		/* the signal */
	test_assert(r[3] == 0);		/* not the 5 s safety timeout */
	test_assert(proc_limit(k.pid, "Max open files", val, sizeof(val)));
	test_assert_streq(val, "1024 1024");
	test_assert(proc_field(k.pid, "status", "Seccomp:", val,
	    sizeof(val)));
	test_assert_streq(val, "2");
	kid_end(&k);
	test_assert(WIFEXITED(k.status) && WEXITSTATUS(k.status) == 0);
	close(k.log);
	close(a.sv[1]);
	test_end();
}

/* ---- sanitizer builds: a finding still prints its report --------------- */

#ifdef TS_SANITIZER
static int	san_err[2];

static void
san_before(struct kid *k)
{
	(void)k;
	if (dup2(san_err[1], STDERR_FILENO) == -1)
		_exit(95);
	close(san_err[0]);
}

static void
san_heap_overflow(struct kid *k)
{
	volatile size_t	 n = 16;	/* unknown to UBSan's object-size */
	volatile char	*p;		/* keep the store */

	(void)k;
	p = malloc(n);
	p[n] = 1;
	free((void *)p);
}

static void
san_int_overflow(struct kid *k)
{
	volatile int	x = INT_MAX, one = 1;

	(void)k;
	x = x + one;
}

static void
san_run(void (*fn)(struct kid *), const char *want)
{
	struct kid	k;
	char		buf[16384];
	size_t		off = 0;
	ssize_t		n;

	memset(&k, 0, sizeof(k));
	test_assert(pipe(san_err) == 0);
	k.role = ROLE_SMTP;
	k.before = san_before;
	k.after = fn;
	test_assert(kid_start(&k) == 0);
	close(san_err[1]);
	kid_end(&k);
	while (off < sizeof(buf) - 1 &&
	    (n = read(san_err[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	close(san_err[0]);
	/* the sanitizer's exit code (1, or exitcode= in *SAN_OPTIONS) */
	test_assert(WIFEXITED(k.status) && WEXITSTATUS(k.status) != 0 &&
	    WEXITSTATUS(k.status) != SANDBOX_EXIT_VIOLATION);
	test_assert(strstr(buf, want) != NULL);
	test_assert(!kid_logged(&k, "4sandbox violation", NULL, 0));
	close(k.log);
}
#endif

static void
test_sandbox_asan_report(void)
{
	if (need_sanitizer("ASan: a heap overflow in the sandbox is reported"))
		return;
#ifdef TS_SANITIZER
	san_run(san_heap_overflow, "ERROR: AddressSanitizer: "
	    "heap-buffer-overflow");
#endif
	test_end();
}

static void
test_sandbox_ubsan_report(void)
{
	if (need_sanitizer("UBSan: a signed overflow in the sandbox is "
	    "reported"))
		return;
#ifdef TS_SANITIZER
	san_run(san_int_overflow, "runtime error: signed integer overflow");
#endif
	test_end();
}

/* ---- jail_chroot and privdrop on their own ----------------------------- */

/* jail_chroot(dir) in a child (it must not jail us): its errno, 0 if ok */
static int
jail_try(const char *dir)
{
	pid_t	pid;
	int	st;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (jail_chroot(dir) == -1)
			_exit(errno == 0 ? 255 : errno);
		/* in: the host's files are gone */
		_exit(access("/etc/passwd", F_OK) == -1 && errno == ENOENT ?
		    0 : 254);
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
test_jail_chroot(void)
{
	char	dir[] = "/tmp/sp-jail.XXXXXX", sub[64], lnk[64];
	int	fd;

	if (need_root("jail_chroot refuses writable, foreign, non-empty "
	    "directories"))
		return;
	test_assert(mkdtemp(dir) != NULL);
	test_assert(chmod(dir, 0755) == 0);
	test_assert(jail_try(dir) == 0);
	test_assert(chmod(dir, 0775) == 0);
	test_assert(jail_try(dir) == EPERM);
	test_assert(chmod(dir, 0757) == 0);
	test_assert(jail_try(dir) == EPERM);
	test_assert(chmod(dir, 0755) == 0);
	test_assert(chown(dir, nobody_uid, 0) == 0);
	test_assert(jail_try(dir) == EPERM);
	test_assert(chown(dir, 0, 0) == 0);
	test_assert(jail_try(dir) == 0);

	snprintf(sub, sizeof(sub), "%s/f", dir);
	test_assert((fd = open(sub, O_WRONLY | O_CREAT | O_EXCL, 0600)) != -1);
	close(fd);
	test_assert(jail_try(dir) == ENOTEMPTY);
	test_assert(jail_try(sub) == ENOTDIR);
	test_assert(unlink(sub) == 0);

	snprintf(lnk, sizeof(lnk), "%s.lnk", dir);
	test_assert(symlink(dir, lnk) == 0);
	test_assert(jail_try(lnk) > 0);		/* O_NOFOLLOW */
	test_assert(unlink(lnk) == 0);
	test_assert(jail_try("/nonexistent-sp-jail") == ENOENT);
	test_assert(rmdir(dir) == 0);
	test_end();
}

static void
test_privdrop(void)
{
	pid_t	pid;
	int	st;

	if (need_root("privdrop drops for good and refuses uid 0"))
		return;
	fflush(stdout);
	test_assert((pid = fork()) != -1);
	if (pid == 0) {
		uid_t	r, e, s;

		if (privdrop(0, 0) != -1 || errno != EINVAL)
			_exit(1);
		if (privdrop(nobody_uid, nobody_gid) != 0)
			_exit(2);
		if (getresuid(&r, &e, &s) == -1 || r != nobody_uid ||
		    e != nobody_uid || s != nobody_uid)
			_exit(3);
		if (getgroups(0, NULL) != 0 || getegid() != nobody_gid)
			_exit(4);
		if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
			_exit(5);
		_exit(0);
	}
	test_assert(waitpid(pid, &st, 0) == pid);
	test_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	test_end();
}

/* ---- no root needed ---------------------------------------------------- */

static void
test_sandbox_describe(void)
{
	struct sandbox_status	st;
	pid_t			pid;
	int			status;

	test_begin("sandbox_describe, sandbox_role_name, bad arguments");
	st.landlock_abi = 7;
	st.landlock = 1;
	st.seccomp = 1;
	test_assert_streq(sandbox_describe(&st), "landlock=ABI7 seccomp=on");
	st.landlock = 0;
	st.seccomp = 0;
	test_assert_streq(sandbox_describe(&st), "landlock=off seccomp=off");
	st.landlock_abi = 0;
	st.seccomp = 1;
	test_assert_streq(sandbox_describe(&st), "landlock=none seccomp=on");
	test_assert_streq(sandbox_role_name(ROLE_SMTP), "smtp");
	test_assert_streq(sandbox_role_name(ROLE_IMAP_LOGIN), "imap-login");
	test_assert_streq(sandbox_role_name(ROLE_POP3_LOGIN), "pop3-login");
	test_assert_streq(sandbox_role_name(ROLE_CONTROL), "control");
	test_assert_streq(sandbox_role_name(ROLE_MAX), "unknown");

	/* refused before anything is changed; in a child all the same */
	fflush(stdout);
	test_assert((pid = fork()) != -1);
	if (pid == 0) {
		if (sandbox_enter(ROLE_MAX, 0, &st) != -1 || errno != EINVAL)
			_exit(1);
		if (sandbox_enter(ROLE_SMTP, 0x80, NULL) != -1 ||
		    errno != EINVAL)
			_exit(2);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
			_exit(3);
		_exit(0);
	}
	test_assert(waitpid(pid, &status, 0) == pid);
	test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_sandbox_describe, test_jail_chroot, test_privdrop,
		test_sandbox_allowed, test_sandbox_tls, test_sandbox_open,
		test_sandbox_execve, test_sandbox_socket, test_sandbox_fork,
		test_sandbox_auth_threads,
		test_sandbox_mmap_exec, test_sandbox_sigsys, test_sandbox_kill,
		test_sandbox_abort,
		test_sandbox_no_filters, test_sandbox_service,
		test_sandbox_asan_report, test_sandbox_ubsan_report,
		NULL
	};
	struct passwd	*pw;
	int		 fd;

	signal(SIGPIPE, SIG_IGN);
	if ((pw = getpwnam("nobody")) != NULL) {
		nobody_uid = pw->pw_uid;
		nobody_gid = pw->pw_gid;
	}
	/*
	 * Keep 3..9 busy, so that a child's dup2 onto SP_FD_LOG (4) never
	 * lands on one of the pipes of a case.
	 */
	while ((fd = open("/dev/null", O_RDONLY)) != -1 && fd < 10)
		;
	if (fd >= 10)
		close(fd);
	return test_run(tests);
}
