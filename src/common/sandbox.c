/* SPDX-License-Identifier: ISC */
/*
 * sandbox.c - rlimits, Landlock and a seccomp allow-list per role, the
 * lists written as data (see sandbox.h for where this fits in a child's
 * set-up).
 *
 * Process:  every child of the master, after jail_chroot and privdrop,
 *           before it reads any hostile byte.
 * Trust:    from here on the process is assumed compromisable: these
 *           lists decide what a parser bug can do with the kernel.  They
 *           hold only what a run under strace -ff showed past the sandbox
 *           point, plus the entries marked "not seen:" with the reason.
 * Limits:   per role in sb_roles[]: RLIMIT_NOFILE, RLIMIT_FSIZE,
 *           RLIMIT_AS; RLIMIT_CORE is 0 for all.  SB_MAX_ARGS argument
 *           checks per seccomp rule.
 * See also: privdrop.c (the steps before), tests/unit/test_sandbox.c,
 *           RECIPES.md 5, 9 and 10 (Landlock ABI, the ASan traps).
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "sealpost.h"
#include "log.h"
#include "sandbox.h"
#include "banned.h"

/*
 * Sanitizer builds need a few more system calls to print a report and
 * exit (RECIPES.md 10) and cannot live under RLIMIT_AS.  gcc 12 has no
 * __has_feature; clang has no __SANITIZE_ADDRESS__.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_SANITIZER	1
#endif
#endif

#define SB_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Landlock rights newer than Debian 12's linux-libc-dev (6.1: ABI 1-2).
 * Values from the kernel's uapi/linux/landlock.h.
 */
#define SB_LL_FS_ABI1		((1ULL << 13) - 1) /* EXECUTE..MAKE_SYM */
#define SB_LL_FS_REFER		(1ULL << 13)	/* ABI 2 */
#define SB_LL_FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#define SB_LL_FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#define SB_LL_NET_BIND_TCP	(1ULL << 0)	/* ABI 4 */
#define SB_LL_NET_CONNECT_TCP	(1ULL << 1)	/* ABI 4 */
/* struct landlock_net_port_attr and its rule type (Linux 6.7, ABI 4) */
struct sb_ll_net_port {
	uint64_t	allowed_access;
	uint64_t	port;
};
#define SB_LL_RULE_NET_PORT	2

/* sandbox_allow_connect: the TCP ports this process may connect to */
/* the mta has the most: SMTP, 53, the resolver's, HTTPS, the smarthost's */
#define SB_CONNECT_PORTS_MAX	6
static uint16_t	sb_connect_ports[SB_CONNECT_PORTS_MAX];
static size_t	sb_nconnect_ports;
#define SB_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define SB_LL_SCOPE_SIGNAL	(1ULL << 1)	/* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix. */
struct sb_ll_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

/* What to handle at each ABI; the highest level <= the kernel's is used. */
static const struct sb_ll_level {
	int		abi;
	uint64_t	fs;
	uint64_t	net;
	uint64_t	scoped;
	size_t		attr_size;
} sb_ll_levels[] = {
	{ 1, SB_LL_FS_ABI1, 0, 0,
	    offsetof(struct sb_ll_attr, handled_access_net) },
	{ 2, SB_LL_FS_ABI1 | SB_LL_FS_REFER, 0, 0,
	    offsetof(struct sb_ll_attr, handled_access_net) },
	{ 3, SB_LL_FS_ABI1 | SB_LL_FS_REFER | SB_LL_FS_TRUNCATE, 0, 0,
	    offsetof(struct sb_ll_attr, handled_access_net) },
	{ 4, SB_LL_FS_ABI1 | SB_LL_FS_REFER | SB_LL_FS_TRUNCATE,
	    SB_LL_NET_BIND_TCP | SB_LL_NET_CONNECT_TCP, 0,
	    offsetof(struct sb_ll_attr, scoped) },
	{ 5, SB_LL_FS_ABI1 | SB_LL_FS_REFER | SB_LL_FS_TRUNCATE |
	    SB_LL_FS_IOCTL_DEV, SB_LL_NET_BIND_TCP | SB_LL_NET_CONNECT_TCP, 0,
	    offsetof(struct sb_ll_attr, scoped) },
	{ 6, SB_LL_FS_ABI1 | SB_LL_FS_REFER | SB_LL_FS_TRUNCATE |
	    SB_LL_FS_IOCTL_DEV, SB_LL_NET_BIND_TCP | SB_LL_NET_CONNECT_TCP,
	    SB_LL_SCOPE_ABSTRACT_UNIX_SOCKET | SB_LL_SCOPE_SIGNAL,
	    sizeof(struct sb_ll_attr) },
	/* ABI 7 adds audit logging flags, no access right. */
};

/*
 * A Landlock rule: access (LANDLOCK_ACCESS_FS_*) beneath path, a path
 * inside the jail.  No role has one yet; the mail process will get its
 * folder (RECIPES.md 10: such a role needs REFER, so skip Landlock there
 * at ABI 1).
 */
struct sb_path {
	const char	*path;
	uint64_t	 access;
};

/*
 * A seccomp rule: allow name when all nargs comparisons hold.
 * SECURITY: the kernel truncates int arguments to 32 bits while seccomp
 * compares all 64: use EQ (garbage in the upper half fails closed) or
 * MASKED_EQ with a 32-bit mask, never NE/LT/GT on an int argument.
 * libseccomp silently drops an argument rule for a call that also has a
 * rule without arguments: never list a call both ways.
 */
#define SB_MAX_ARGS	3
#define SB_SELF		((scmp_datum_t)~0ULL)	/* EQ datum: our pid */
#define SB_INT_MASK	0xffffffffULL

struct sb_rule {
	const char		*name;
	unsigned int		 nargs;
	struct scmp_arg_cmp	 arg[SB_MAX_ARGS];
};

/*
 * Every role (this is the whole session profile).  Derived with
 * strace -ff of a session doing, past a marker write: a TLS 1.3 server
 * handshake (tls_accept), io_getline/io_printf over TLS, log_info to
 * the master, malloc(1 MiB), sendmsg and recvmsg with SCM_RIGHTS,
 * memfd_check_sealed and memfd_read of the fd received, tls_close and
 * exit(0).
 */
static const struct sb_rule sb_base[] = {
	/* I/O on descriptors held before the sandbox or received since */
	{ .name = "read" },
	{ .name = "write" },
	{ .name = "close" },
	{ .name = "pread64" },		/* memfd_read */
	{ .name = "poll" },		/* io.c, tls_accept */
	{ .name = "sendmsg" },		/* IPC; fds go with SCM_RIGHTS */
	{ .name = "recvmsg" },
	/* log datagrams (send): connected socket only, no address */
	{ .name = "sendto", .nargs = 1,
	    .arg = { { 4, SCMP_CMP_EQ, 0, 0 } } },
	/*
	 * F_GET_SEALS: memfd_check_sealed.  F_GETFL, F_SETFL, F_GETFD not
	 * seen: io_init on an fd received after the sandbox.
	 */
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_GET_SEALS, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_GETFL, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_SETFL, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_GETFD, 0 } } },
	/* fstat: glibc 2.33+ calls newfstatat(fd, "", AT_EMPTY_PATH) */
	{ .name = "newfstatat", .nargs = 1,
	    .arg = { { 3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH,
	    AT_EMPTY_PATH } } },
	/*
	 * Memory.  SECURITY: no PROT_EXEC, so an exploit cannot make its
	 * own code executable (mprotect, pkey_mprotect are not listed).
	 */
	{ .name = "mmap", .nargs = 1,
	    .arg = { { 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 } } },
	{ .name = "munmap" },
	{ .name = "brk" },		/* not seen: malloc growing the heap */
	{ .name = "mremap" },		/* not seen: realloc of >= 128 KiB */
	{ .name = "futex" },		/* glibc locks at exit */
	{ .name = "getrandom" },	/* not seen: OpenSSL's DRBG reseeds */
	{ .name = "getpid" },		/* OpenSSL's fork check */
	/* signals */
	{ .name = "rt_sigreturn" },	/* not seen: a handler returning */
	{ .name = "restart_syscall" },	/* not seen: poll after SIGSTOP */
	{ .name = "rt_sigprocmask" },	/* not seen: abort() */
	{ .name = "gettid" },		/* not seen: abort() */
	/* abort(): SIGABRT to ourselves and nobody else */
	{ .name = "tgkill", .nargs = 3,
	    .arg = { { 0, SCMP_CMP_EQ, SB_SELF, 0 },
	    { 1, SCMP_CMP_EQ, SB_SELF, 0 },
	    { 2, SCMP_CMP_EQ, SIGABRT, 0 } } },
	/* not seen (vDSO): the fallback when the clock has no vDSO */
	{ .name = "clock_gettime" },
	{ .name = "gettimeofday" },
	{ .name = "exit_group" }
};

/*
 * Services: a libevent 2.1 loop (epoll backend) on top of sb_base.
 * Derived with strace -ff of an event_base made before the sandbox point
 * running a read event, a timer and signal events (one added before, one
 * after; SIGTERM sent from outside).  epoll_create1 and pipe2 happen in
 * event_base_new, before the sandbox.
 */
static const struct sb_rule sb_service[] = {
	{ .name = "epoll_wait" },
	{ .name = "epoll_ctl" },
	/*
	 * evsignal_add.  SECURITY: never SIGSYS, whose handler reports
	 * violations; a list because seccomp cannot say "not SIGSYS" of
	 * an int safely.
	 */
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGHUP } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGINT } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGTERM } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGUSR1 } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGUSR2 } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGCHLD } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGPIPE } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGALRM } } }
};

/*
 * control: sealpostctl connections, accepted on the socket the master
 * bound (found by its "sandbox violation syscall=288" in a test run).
 */
static const struct sb_rule sb_control[] = {
	{ .name = "accept4", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, SP_FD_CTLSOCK, 0 } } }
};

#ifdef SB_SANITIZER
/*
 * ASan/UBSan, only in sanitizer builds: a clean exit and a report of a
 * finding (strace of a heap overflow and a signed overflow in a jail).
 * The opens get ENOENT in the empty jail (and EACCES from Landlock),
 * frames print as module+offset.
 */
static const struct sb_rule sb_sanitizer[] = {
	{ .name = "sigaltstack" },	/* at exit */
	{ .name = "madvise" },		/* the allocator */
	{ .name = "open" },		/* /proc/self/maps, cmdline, environ */
	{ .name = "openat" },		/* /proc/self/exe */
	{ .name = "readlink" },		/* /proc/self/exe */
	{ .name = "pipe2" },		/* UBSan: is this memory readable? */
	{ .name = "sched_getaffinity" },	/* a new thread (auth) */
	{ .name = "ioctl", .nargs = 1,	/* isatty(2) for colour */
	    .arg = { { 1, SCMP_CMP_EQ, TCGETS, 0 } } }
};
#endif

/*
 * SECURITY: calls that no role ever makes and that are the usual first
 * step of a kernel exploit or of tampering with another process: the
 * kernel kills the process at once, no handler runs.
 */
static const char *const sb_kill[] = {
	"ptrace", "process_vm_readv", "process_vm_writev",
	"bpf", "userfaultfd", "perf_event_open", "keyctl", "add_key",
	"request_key", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "unshare", "setns", "mount", "pivot_root",
	"open_by_handle_at", "kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module"
};

struct sb_rlimit {
	int	resource;
	rlim_t	value;
};

/*
 * Sessions hold a few fds and write no file; 256 MiB of address space
 * is 25 times what a TLS session maps (VmPeak 10 MiB).  Services keep a
 * connection per session.  RLIMIT_NPROC is not set: it counts every process of the
 * real uid (seccomp already forbids clone, fork and execve).
 */
static const struct sb_rlimit sb_rl_session[] = {
	{ RLIMIT_NOFILE, 32 },
	{ RLIMIT_FSIZE, 0 },
	{ RLIMIT_AS, 256 * 1024 * 1024 }
};
static const struct sb_rlimit sb_rl_service[] = {
	{ RLIMIT_NOFILE, 1024 }
};

/*
 * sodium_malloc after the sandbox (keys, the blob writer's buffers):
 * guard pages and locked memory.  mprotect never with PROT_EXEC: W^X.
 */
#define SB_SODIUM_RULES							\
	{ .name = "mprotect", .nargs = 1,				\
	    .arg = { { 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 } } },	\
	{ .name = "mlock" },						\
	{ .name = "munlock" },						\
	{ .name = "madvise", .nargs = 1,				\
	    .arg = { { 2, SCMP_CMP_EQ, MADV_DONTDUMP, 0 } } },		\
	{ .name = "madvise", .nargs = 1,				\
	    .arg = { { 2, SCMP_CMP_EQ, MADV_DODUMP, 0 } } },

/*
 * smtp: the message body goes into a memfd, sealed before it is handed
 * to the services (DESIGN.md "IPC"): create one, grow it, seal it.
 */
static const struct sb_rule sb_smtp[] = {
	{ .name = "memfd_create", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, MFD_CLOEXEC | MFD_ALLOW_SEALING, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_ADD_SEALS, 0 } } },
	/* one copy of the message fd per service it goes to */
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0 } } },
	/* a failed AUTH is answered late (smtp_auth_delay) */
	{ .name = "nanosleep" },
	{ .name = "clock_nanosleep" },
	SB_SODIUM_RULES			/* the AUTH password */
};
/*
 * Worker threads started after the sandbox (auth's KDF, the filter's
 * scans): clone only as a thread (CLONE_THREAD; a new process never),
 * the thread set-up glibc does, and malloc arenas giving memory back.
 * clone3 gets ENOSYS (sb_seccomp: its flags are in memory, which seccomp
 * cannot read), and glibc falls back to clone.  glibc's first
 * pthread_create sets its SIGCANCEL and SIGSETXID handlers (signals 32
 * and 33, reserved to it); malloc sizes its arenas for a new thread
 * from our own CPU set.
 */
#define SB_THREAD_RULES							\
	{ .name = "clone", .nargs = 1,					\
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,		\
	    CLONE_THREAD } } },						\
	{ .name = "set_robust_list" },					\
	{ .name = "rseq" },						\
	{ .name = "rt_sigaction", .nargs = 1,				\
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, 32 } } },	\
	{ .name = "rt_sigaction", .nargs = 1,				\
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, 33 } } },	\
	{ .name = "madvise", .nargs = 1,				\
	    .arg = { { 2, SCMP_CMP_EQ, MADV_DONTNEED, 0 } } },		\
	{ .name = "exit" },						\
	{ .name = "sched_getaffinity", .nargs = 1,			\
	    .arg = { { 0, SCMP_CMP_EQ, 0, 0 } } },

/* imap-login, pop3-login: the password in sodium_malloc memory. */
static const struct sb_rule sb_login[] = {
	SB_SODIUM_RULES
};
/*
 * signer: the service profile and no more; its keys were read and its
 * sodium_malloc memory made before the sandbox, and signing (OpenSSL,
 * libsodium) is memory and getrandom only.  The memfd is mmapped
 * without PROT_EXEC, as every role may.
 */
/* A message may be up to this large in an smtp session's memfd. */
static const struct sb_rlimit sb_rl_smtp[] = {
	{ RLIMIT_NOFILE, 32 },
	{ RLIMIT_FSIZE, 128 * 1024 * 1024 },
	{ RLIMIT_AS, 512 * 1024 * 1024 }
};

/*
 * deliver: create, write, rename and remove files in the accounts' new/
 * under /mail, and open those directories to fsync them (READ_DIR); no
 * file is ever read (no READ_FILE), no directory made or removed.
 */
static const struct sb_path sb_deliver_paths[] = {
	{ "/mail", LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE }
};
static const struct sb_rule sb_deliver[] = {
	{ .name = "openat" },		/* beneath /mail only: Landlock */
	{ .name = "fsync" },		/* the blob, then new/ */
	{ .name = "renameat" },
	{ .name = "renameat2" },
	{ .name = "unlinkat" },		/* a temporary after a failure */
	{ .name = "fchmod" },		/* 0604 whatever the umask */
	/* futimens: a precise mtime, the import's order */
	{ .name = "utimensat", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, 0, 0 } } },
	SB_SODIUM_RULES
};

/*
 * queue: DATA_DIR/queue at /mail; it writes sealed messages and their
 * envelopes into /mail/spool (temporary, fsync, rename, fsync the
 * directory) and reads them back (the outbound issue).
 */
static const struct sb_path sb_queue_paths[] = {
	{ "/mail", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE }
};
static const struct sb_rule sb_queue[] = {
	{ .name = "openat" },		/* beneath /mail only: Landlock */
	{ .name = "fsync" },
	{ .name = "renameat" },
	{ .name = "renameat2" },
	{ .name = "unlinkat" },
	{ .name = "fchmod" },
	{ .name = "getdents64" },	/* listing the spool */
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_SETFD, 0 } } },	/* fdopendir */
	/* a message in the clear for the mta, a notification: sealed
	 * memfds, one copy of the descriptor per request */
	{ .name = "memfd_create", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, MFD_CLOEXEC | MFD_ALLOW_SEALING, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_ADD_SEALS, 0 } } },
	{ .name = "dup" },
	/* store_deliver's futimens: a precise mtime */
	{ .name = "utimensat", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, 0, 0 } } },
	SB_SODIUM_RULES
};

/*
 * auth: users.db, opened before the jail and kept open (SQLite in WAL
 * mode: byte-range locks on the db and -shm, writes to the -wal, fsync),
 * and key unwrapping in sodium_malloc memory.  No open: Landlock and the
 * empty chroot would refuse it anyway.
 */
static const struct sb_rule sb_auth[] = {
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_SETLK, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_GETLK, 0 } } },
	{ .name = "pwrite64" },
	{ .name = "fdatasync" },
	{ .name = "fsync" },
	{ .name = "ftruncate" },	/* WAL reset after a checkpoint */
	/*
	 * SQLite opens the database's directory to fsync it after it made
	 * a file: in the empty chroot under Landlock every open fails
	 * (ENOENT), which SQLite accepts; seccomp must not kill for it.
	 */
	{ .name = "openat" },
	SB_SODIUM_RULES
	SB_THREAD_RULES			/* its KDF threads (auth_kdf.c) */
};

/*
 * filter: its scanning threads, and libclamav's temporary files and
 * folders in the private tmpfs at /tmp (jail_private_tmp): nothing else
 * is writable or even readable (Landlock grants /tmp alone).
 */
static const struct sb_path sb_filter_paths[] = {
	{ "/tmp", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | SB_LL_FS_TRUNCATE }
};
static const struct sb_rule sb_filter[] = {
	{ .name = "openat" },		/* beneath /tmp only: Landlock */
	{ .name = "newfstatat" },
	{ .name = "lseek" },
	/* libclamav's calls, found by strace -f of clamscan over mail with
	 * archives (zip, 7z, tar.gz, cab, arj, bz2, OLE, PDF, UPX) */
	{ .name = "mkdir" },		/* a folder per scan */
	{ .name = "mkdirat" },
	{ .name = "rmdir" },
	{ .name = "unlink" },
	{ .name = "unlinkat" },
	{ .name = "chmod" },		/* its temporary files, 0600 */
	{ .name = "access" },
	{ .name = "readlink" },		/* /proc/self/fd: absent, fails */
	{ .name = "geteuid" },
	{ .name = "getdents64" },
	{ .name = "ftruncate" },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_SETFD, 0 } } },	/* fdopendir */
	/*
	 * rspamd over HTTP (libcurl, filter_spam.c): a TCP socket to the
	 * one configured port (Landlock: sandbox_allow_connect)
	 */
	{ .name = "socket", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, AF_INET, 0 } } },
	{ .name = "socket", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, AF_INET6, 0 } } },
	{ .name = "connect" },
	/* libcurl's own wake-up pair: a local socketpair, reaching nothing */
	{ .name = "socketpair", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, AF_UNIX, 0 } } },
	{ .name = "setsockopt" },
	{ .name = "getsockopt" },
	{ .name = "getsockname" },
	{ .name = "getpeername" },
	{ .name = "recvfrom" },
	{ .name = "sendto" },
	/* a thread stack's guard page (PROT_NONE); never PROT_EXEC */
	{ .name = "mprotect", .nargs = 1,
	    .arg = { { 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 } } },
	SB_THREAD_RULES			/* its scanning threads */
};

/*
 * Both mail processes: the account's store under /mail (RECIPES.md 10),
 * read and written (SB_STORE_PATH, for Landlock), and the calls it takes
 * (SB_STORE_RULES): SQLite in WAL mode (byte-range locks, pwrite, fsync,
 * stat of its side files), the import's directory walk and renames.
 */
#define SB_STORE_PATH							\
	{ "/mail", LANDLOCK_ACCESS_FS_READ_FILE |			\
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR |	\
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE |	\
	    SB_LL_FS_TRUNCATE | SB_LL_FS_REFER }
#define SB_STORE_RULES					\
	{ .name = "openat" },		/* beneath /mail only: Landlock */	\
	{ .name = "newfstatat" },	/* SQLite stats its -wal, -journal */	\
	{ .name = "fcntl", .nargs = 1,					\
	    .arg = { { 1, SCMP_CMP_EQ, F_SETLK, 0 } } },		\
	{ .name = "fcntl", .nargs = 1,					\
	    .arg = { { 1, SCMP_CMP_EQ, F_GETLK, 0 } } },		\
	{ .name = "fcntl", .nargs = 1,					\
	    .arg = { { 1, SCMP_CMP_EQ, F_SETFD, 0 } } },	/* fdopendir */	\
	{ .name = "pwrite64" },						\
	{ .name = "fsync" },						\
	{ .name = "fdatasync" },					\
	{ .name = "ftruncate" },					\
	{ .name = "getdents64" },	/* the import walks new/ */	\
	{ .name = "renameat" },						\
	{ .name = "renameat2" },					\
	{ .name = "unlink" },		/* SQLite */			\
	{ .name = "unlinkat" },						\
	{ .name = "geteuid" },		/* SQLite */			\
	/* SQLite's busy handler sleeping while another mail process of	\
	 * the account holds the lock (found by parallel logins) */	\
	{ .name = "clock_nanosleep" },					\
	{ .name = "nanosleep" },					\
	/* glibc's qsort asks for the memory size before a large sort (the	\
	 * import sorts new/: found with 61 files waiting) */		\
	{ .name = "sysinfo" },

/*
 * imap-mail: the store (SB_STORE_RULES), sodium_malloc for the key, and
 * what IDLE, APPEND and GMime need.
 */
static const struct sb_path sb_mail_paths[] = {
	SB_STORE_PATH,
	/* GMime's charsets (iconv dlopens these) and GLib's time zones */
	{ "/usr/lib/x86_64-linux-gnu/gconv", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR },
	{ "/usr/share/zoneinfo", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR }
};
static const struct sb_rule sb_mail[] = {
	SB_STORE_RULES
	/* IDLE: woken by deliveries in new/ and the changes file */
	{ .name = "inotify_init1" },
	{ .name = "inotify_add_watch" },	/* beneath /mail: Landlock */
	/* APPEND: the message goes into a memfd for index_append */
	{ .name = "memfd_create", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, MFD_CLOEXEC | MFD_ALLOW_SEALING, 0 } } },
	/*
	 * iconv dlopens gconv modules (GMime decoding a charset): an
	 * executable mapping of a FILE, never of anonymous memory.  Safe
	 * because every file the jail can reach is on a noexec mount except
	 * the read-only gconv folder (privdrop.c jail_ro): the kernel
	 * refuses PROT_EXEC on noexec, so nothing written can be run.
	 */
	{ .name = "mmap", .nargs = 1,
	    .arg = { { 3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0 } } },
	SB_SODIUM_RULES
};
/*
 * pop3-mail: the same store access (the import, the expunge at QUIT), and
 * less: no GMime (no charsets, no executable file mappings), no IDLE, no
 * APPEND.  The maildrop lock is an fcntl F_SETLK on /mail/pop3.lock.
 */
static const struct sb_path sb_pop3_mail_paths[] = {
	SB_STORE_PATH
};
static const struct sb_rule sb_pop3_mail[] = {
	SB_STORE_RULES
	SB_SODIUM_RULES
};
static const struct sb_rlimit sb_rl_mail[] = {
	{ RLIMIT_NOFILE, 64 },
	{ RLIMIT_AS, 1024 * 1024 * 1024 }
};

/*
 * pgp: GPGME runs gpg (fork, exec) for every key lookup and encryption,
 * and gpg inherits this filter: the list is GPGME's spawning and gpg
 * 2.2's encryption (strace -f -c of GMime + GPGME encrypting to a key of
 * a read-only keyring, as _sp_pgp).  Executable mappings of files are
 * allowed (ld.so loading gpg's libraries): only /usr is mounted exec in
 * the jail, and Landlock lets only gpg and ld.so be executed, /usr, the
 * keyring and /dev/null be read, and /dev/null be written.  No network
 * socket: gpg is never to reach a keyserver or the network.  With a
 * signing key (pgp_agent.c), gpg-agent runs as the process's child under
 * this filter too: it binds its socket in /signing (the jail's one
 * writable folder) and reads the key beneath /signkey; its rules are
 * the ones marked "gpg-agent" (strace -f of gpg-agent 2.2.40
 * --supervised signing, and signing and encrypting, for gpg).
 */
static const struct sb_path sb_pgp_paths[] = {
	{ "/usr", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR },
	{ "/usr/bin/gpg", LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_READ_FILE },
	{ "/usr/lib64/ld-linux-x86-64.so.2", LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_READ_FILE },
	{ "/gnupg", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR },
	/* the learnt keys: their index, keyrings gpg rewrites (a temporary
	 * file renamed over, a lock made by link) */
	{ "/discovered", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    SB_LL_FS_TRUNCATE },
	{ "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE },
	/* the signing key: its agent, its home (jail_sign.c) */
	{ "/usr/bin/gpg-agent", LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_READ_FILE },
	{ "/signkey", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR },
	{ "/signing", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_MAKE_SOCK }
};
static const struct sb_rule sb_pgp[] = {
	/* GPGME: a child per operation, its pipes, its end */
	{ .name = "clone", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0 } } },
	{ .name = "execve" },		/* /usr/bin/gpg only: Landlock */
	{ .name = "pipe2" },
	{ .name = "dup" },
	{ .name = "dup2" },
	{ .name = "close_range" },
	{ .name = "wait4" },
	{ .name = "kill" },		/* a gpg that must stop */
	{ .name = "alarm" },		/* pgp.c's watchdog */
	{ .name = "lseek" },
	/* gpg, from its start to its exit */
	{ .name = "openat" },		/* beneath the paths above: Landlock */
	{ .name = "access" },
	{ .name = "readlink" },		/* /proc/self/exe: ENOENT here */
	{ .name = "statfs" },
	{ .name = "getcwd" },
	{ .name = "umask" },
	{ .name = "uname" },
	{ .name = "sysinfo" },
	{ .name = "arch_prctl" },
	{ .name = "set_tid_address" },
	{ .name = "set_robust_list" },
	{ .name = "rseq" },
	{ .name = "prlimit64" },
	{ .name = "getrusage" },
	{ .name = "getuid" },
	{ .name = "geteuid" },
	{ .name = "getgid" },
	{ .name = "getegid" },
	{ .name = "ioctl", .nargs = 1,	/* isatty */
	    .arg = { { 1, SCMP_CMP_EQ, TCGETS, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_SETFD, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_DUPFD, 0 } } },
	{ .name = "newfstatat", .nargs = 1,	/* by path: gpg's homedir */
	    .arg = { { 3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0 } } },
	/*
	 * gpg asks gpg-agent whether secret keys exist while it lists
	 * keys: a unix socket whose connect fails (no agent, no socket in
	 * the read-only keyring, abstract sockets scoped by Landlock).
	 * SECURITY: AF_UNIX only: no network.
	 */
	{ .name = "socket", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, AF_UNIX, 0 } } },
	{ .name = "connect" },
	/* gpg's handlers: SIGQUIT, and SIGSEGV for its secure memory */
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGQUIT } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGSEGV } } },
	/* ld.so: the libraries' code; anonymous memory never executable */
	{ .name = "mmap", .nargs = 1,
	    .arg = { { 3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0 } } },
	{ .name = "exit" },
	/* the encrypted copy: a sealed memfd (pgp.c); GMime's flush of it
	 * is an fsync */
	{ .name = "fsync" },
	{ .name = "memfd_create", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, MFD_CLOEXEC | MFD_ALLOW_SEALING, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_ADD_SEALS, 0 } } },
	/*
	 * gpg importing into the learnt keyrings (/discovered, pgp_learn.c):
	 * a lock made by link, pubring.kbx.tmp renamed over pubring.kbx
	 * (the old one kept as pubring.kbx~), the lock files removed;
	 * mlock for its secure memory.  Landlock keeps all of it beneath
	 * /discovered (the administrator's keyring is read-only).
	 */
	{ .name = "link" },
	{ .name = "rename" },
	{ .name = "unlink" },
	{ .name = "mlock" },
	/* pgp_disc.c: the index, written to index.tmp and renamed */
	{ .name = "renameat" },
	/*
	 * The signing key's gpg-agent (pgp_agent.c).  We bind and listen on
	 * its socket (AF_UNIX only, above; Landlock: in /signing only) and
	 * tie it to our life before its exec.
	 */
	{ .name = "bind" },
	{ .name = "listen" },
	{ .name = "prctl", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, PR_SET_PDEATHSIG, 0 } } },
	{ .name = "getppid" },		/* did we end before it was set? */
	/* gpg-agent: not dumpable (its secret memory) */
	{ .name = "prctl", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, PR_SET_DUMPABLE, 0 } } },
	/* gpg-agent: gpg's connections, and who is on the other end */
	{ .name = "accept" },
	{ .name = "accept4" },		/* not seen: libassuan may use it */
	{ .name = "getsockname" },
	{ .name = "getsockopt", .nargs = 2,
	    .arg = { { 1, SCMP_CMP_EQ, SOL_SOCKET, 0 },
	    { 2, SCMP_CMP_EQ, SO_PEERCRED, 0 } } },
	{ .name = "pselect6" },		/* gpg-agent: its main loop */
	/* gpg-agent: it watches its home, to end when its socket goes */
	{ .name = "inotify_init" },
	{ .name = "inotify_init1" },	/* not seen: glibc may use it */
	{ .name = "inotify_add_watch" },
	{ .name = "getdents64" },	/* gpg-agent: its folders, its fds */
	/* gpg-agent makes private-keys-v1.d 0700: EROFS here (read-only) */
	{ .name = "chmod" },
	{ .name = "rt_sigaction", .nargs = 1,	/* gpg-agent's SIGCONT */
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, SIGCONT } } },
	/*
	 * gpg-agent's threads (nPth): SB_THREAD_RULES but for what is
	 * above already (set_robust_list, rseq, exit); clone3 gets
	 * ENOSYS (.threads).
	 */
	{ .name = "clone", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, 32 } } },
	{ .name = "rt_sigaction", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_MASKED_EQ, SB_INT_MASK, 33 } } },
	{ .name = "madvise", .nargs = 1,
	    .arg = { { 2, SCMP_CMP_EQ, MADV_DONTNEED, 0 } } },
	{ .name = "sched_getaffinity", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, 0, 0 } } },
	SB_SODIUM_RULES
};
/* the encrypted copy is written to a memfd: a file for RLIMIT_FSIZE */
static const struct sb_rlimit sb_rl_pgp[] = {
	{ RLIMIT_NOFILE, 256 },
	{ RLIMIT_FSIZE, 256 * 1024 * 1024 },
	{ RLIMIT_CORE, 0 }
};

/*
 * mta: outbound SMTP (TCP, any address: the MX hosts come from DNS) and
 * DNS through libunbound (UDP from random source ports, TCP when an
 * answer is truncated), worker threads for the attempts and libunbound's
 * own thread.  No file: the resolver's settings are read before the
 * jail.  Landlock (ABI 4+) limits TCP connects to the outbound port and
 * the resolver's.
 */
static const struct sb_rule sb_mta[] = {
	{ .name = "socket", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, AF_INET, 0 } } },
	{ .name = "socket", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, AF_INET6, 0 } } },
	{ .name = "connect" },
	{ .name = "bind" },		/* libunbound: a random UDP port */
	{ .name = "setsockopt" },
	{ .name = "getsockopt" },	/* SO_ERROR after a connect */
	{ .name = "getsockname" },
	{ .name = "getpeername" },
	{ .name = "recvfrom" },
	/* UDP queries go to an address (sb_base allows only none) */
	{ .name = "sendto" },
	{ .name = "shutdown" },
	{ .name = "pipe2" },		/* libunbound's thread wake-up */
	{ .name = "nanosleep" },
	{ .name = "clock_nanosleep" },
	{ .name = "getppid" },
	/* libunbound's thread: its own event base and identity checks */
	{ .name = "getuid" },
	{ .name = "geteuid" },
	{ .name = "getgid" },
	{ .name = "getegid" },
	{ .name = "epoll_create1" },
	{ .name = "sched_yield" },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_SETFD, 0 } } },
	/* thread stacks' guard pages (PROT_NONE); never PROT_EXEC */
	{ .name = "mprotect", .nargs = 1,
	    .arg = { { 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 } } },
	/*
	 * Web Key Directory lookups (mta_https.c, libcurl and OpenSSL in a
	 * worker thread), found by running test_wkd_fetch.py: libcurl's
	 * multi handle makes its wake-up pair, a local socketpair that
	 * reaches nothing
	 */
	{ .name = "socketpair", .nargs = 1,
	    .arg = { { 0, SCMP_CMP_EQ, AF_UNIX, 0 } } },
	/* the key found goes to the pgp service in a sealed memfd */
	{ .name = "memfd_create", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, MFD_CLOEXEC | MFD_ALLOW_SEALING, 0 } } },
	{ .name = "fcntl", .nargs = 1,
	    .arg = { { 1, SCMP_CMP_EQ, F_ADD_SEALS, 0 } } },
	SB_THREAD_RULES
};

/* The process table of the sandbox: one row per role. */
static const struct sb_role {
	const char		*name;
	const struct sb_rule	*profile;	/* on top of sb_base */
	size_t			 nprofile;
	const struct sb_rule	*extra;		/* this role's own */
	size_t			 nextra;
	const struct sb_path	*paths;		/* Landlock rules */
	size_t			 npaths;
	const struct sb_rlimit	*rlimits;
	size_t			 nrlimits;
	int			 threads;	/* clone3 -> ENOSYS */
} sb_roles[ROLE_MAX] = {
	[ROLE_SMTP] = { .name = "smtp",
	    .extra = sb_smtp, .nextra = SB_NITEMS(sb_smtp),
	    .rlimits = sb_rl_smtp, .nrlimits = SB_NITEMS(sb_rl_smtp) },
	[ROLE_IMAP_LOGIN] = { .name = "imap-login",
	    .extra = sb_login, .nextra = SB_NITEMS(sb_login),
	    .rlimits = sb_rl_session, .nrlimits = SB_NITEMS(sb_rl_session) },
	[ROLE_POP3_LOGIN] = { .name = "pop3-login",
	    .extra = sb_login, .nextra = SB_NITEMS(sb_login),
	    .rlimits = sb_rl_session, .nrlimits = SB_NITEMS(sb_rl_session) },
	[ROLE_AUTH] = { .name = "auth",
	    .profile = sb_service, .nprofile = SB_NITEMS(sb_service),
	    .extra = sb_auth, .nextra = SB_NITEMS(sb_auth),
	    .rlimits = sb_rl_service, .nrlimits = SB_NITEMS(sb_rl_service),
	    .threads = 1 },
	[ROLE_FILTER] = { .name = "filter",
	    .profile = sb_service, .nprofile = SB_NITEMS(sb_service),
	    .extra = sb_filter, .nextra = SB_NITEMS(sb_filter),
	    .paths = sb_filter_paths, .npaths = SB_NITEMS(sb_filter_paths),
	    .rlimits = sb_rl_service, .nrlimits = SB_NITEMS(sb_rl_service),
	    .threads = 1 },
	[ROLE_DELIVER] = { .name = "deliver",
	    .profile = sb_service, .nprofile = SB_NITEMS(sb_service),
	    .extra = sb_deliver, .nextra = SB_NITEMS(sb_deliver),
	    .paths = sb_deliver_paths, .npaths = SB_NITEMS(sb_deliver_paths),
	    .rlimits = sb_rl_service, .nrlimits = SB_NITEMS(sb_rl_service) },
	[ROLE_QUEUE] = { .name = "queue",
	    .profile = sb_service, .nprofile = SB_NITEMS(sb_service),
	    .extra = sb_queue, .nextra = SB_NITEMS(sb_queue),
	    .paths = sb_queue_paths, .npaths = SB_NITEMS(sb_queue_paths),
	    .rlimits = sb_rl_service, .nrlimits = SB_NITEMS(sb_rl_service) },
	/* today it only serves the proxied connection; file rules come
	 * with the store (its folder is /mail in its jail) */
	[ROLE_IMAP_MAIL] = { .name = "imap-mail",
	    .extra = sb_mail, .nextra = SB_NITEMS(sb_mail),
	    .paths = sb_mail_paths, .npaths = SB_NITEMS(sb_mail_paths),
	    .rlimits = sb_rl_mail, .nrlimits = SB_NITEMS(sb_rl_mail) },
	[ROLE_POP3_MAIL] = { .name = "pop3-mail",
	    .extra = sb_pop3_mail, .nextra = SB_NITEMS(sb_pop3_mail),
	    .paths = sb_pop3_mail_paths, .npaths = SB_NITEMS(sb_pop3_mail_paths),
	    .rlimits = sb_rl_mail, .nrlimits = SB_NITEMS(sb_rl_mail) },
	[ROLE_PGP] = { .name = "pgp",
	    .profile = sb_service, .nprofile = SB_NITEMS(sb_service),
	    .extra = sb_pgp, .nextra = SB_NITEMS(sb_pgp),
	    .paths = sb_pgp_paths, .npaths = SB_NITEMS(sb_pgp_paths),
	    .rlimits = sb_rl_pgp, .nrlimits = SB_NITEMS(sb_rl_pgp),
	    .threads = 1 },	/* gpg-agent's */
	[ROLE_MTA] = { .name = "mta",
	    .profile = sb_service, .nprofile = SB_NITEMS(sb_service),
	    .extra = sb_mta, .nextra = SB_NITEMS(sb_mta),
	    .rlimits = sb_rl_service, .nrlimits = SB_NITEMS(sb_rl_service),
	    .threads = 1 },
	[ROLE_SIGNER] = { .name = "signer",
	    .profile = sb_service, .nprofile = SB_NITEMS(sb_service),
	    .rlimits = sb_rl_service, .nrlimits = SB_NITEMS(sb_rl_service) },
	[ROLE_CONTROL] = { .name = "control",
	    .profile = sb_service, .nprofile = SB_NITEMS(sb_service),
	    .extra = sb_control, .nextra = SB_NITEMS(sb_control),
	    .rlimits = sb_rl_service, .nrlimits = SB_NITEMS(sb_rl_service) }
};

/* si_code of a SIGSYS sent by seccomp (not in glibc 2.36's headers). */
#define SB_SYS_SECCOMP	1

/*
 * A system call outside the list: one line to the master, then exit.
 * SECURITY: async-signal-safe only (no stdio, no malloc, no locks); it
 * never returns, so the call is never retried.
 */
static void
sb_sigsys(int sig, siginfo_t *si, void *uctx)
{
	static const char	pre[] = "4sandbox violation syscall=";
	char			msg[sizeof(pre) + 24], digits[24];
	size_t			len = sizeof(pre) - 1, n = 0;
	unsigned long		u;
	long			nr = -1;

	(void)sig;
	(void)uctx;
	if (si != NULL && si->si_code == SB_SYS_SECCOMP)
		nr = si->si_syscall;
	memcpy(msg, pre, len);	/* "4": LOG_WARNING, as log_emit */
	if (nr < 0) {
		msg[len++] = '-';
		u = (unsigned long)-nr;
	} else
		u = (unsigned long)nr;
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 && n < sizeof(digits));
	while (n > 0)
		msg[len++] = digits[--n];
	(void)send(SP_FD_LOG, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	_exit(SANDBOX_EXIT_VIOLATION);
}

static int
sb_sigsys_install(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sb_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		return -1;
	/* blocked, the kernel would kill without running the handler */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static int
sb_rlimits(const struct sb_role *r)
{
	struct rlimit	rl;
	size_t		i;

	/* SECURITY: a core file would hold TLS keys and client data. */
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	for (i = 0; i < r->nrlimits; i++) {
#ifdef SB_SANITIZER
		/*
		 * ASan reserves terabytes of shadow, and writes its report
		 * to fd 2, which may be a file.
		 */
		if (r->rlimits[i].resource == RLIMIT_AS ||
		    r->rlimits[i].resource == RLIMIT_FSIZE)
			continue;
#endif
		if (getrlimit(r->rlimits[i].resource, &rl) == -1)
			return -1;
		/* Only ever lower: an unprivileged process cannot raise. */
		if (r->rlimits[i].value < rl.rlim_max)
			rl.rlim_max = r->rlimits[i].value;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(r->rlimits[i].resource, &rl) == -1)
			return -1;
	}
	return 0;
}

static int
sb_landlock_abi(void)
{
	long	abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

/*
 * Handle every right the kernel knows, grant only the role's paths (none
 * yet): no file can be opened, no TCP port bound or connected, no signal
 * sent and no abstract socket reached outside the process.  -1 when
 * Landlock is not enforced.
 */
static int
sb_landlock(const struct sb_role *r, int abi)
{
	struct landlock_path_beneath_attr	 pb;
	const struct sb_ll_level		*lv = NULL;
	struct sb_ll_attr			 attr;
	size_t					 i;
	long					 rfd;
	int					 saved;

	for (i = 0; i < SB_NITEMS(sb_ll_levels); i++)
		if (sb_ll_levels[i].abi <= abi)
			lv = &sb_ll_levels[i];
	if (lv == NULL) {
		errno = EOPNOTSUPP;
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = lv->fs;
	attr.handled_access_net = lv->net;
	attr.scoped = lv->scoped;
	if ((rfd = syscall(SYS_landlock_create_ruleset, &attr, lv->attr_size,
	    0)) < 0)
		return -1;
	for (i = 0; i < r->npaths; i++) {
		memset(&pb, 0, sizeof(pb));
		pb.allowed_access = r->paths[i].access & lv->fs;
		if ((pb.parent_fd = open(r->paths[i].path, O_PATH |
		    O_CLOEXEC)) == -1)
			goto fail;
		if (syscall(SYS_landlock_add_rule, (int)rfd,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1) {
			saved = errno;
			close(pb.parent_fd);
			errno = saved;
			goto fail;
		}
		close(pb.parent_fd);
	}
	for (i = 0; i < sb_nconnect_ports &&
	    (lv->net & SB_LL_NET_CONNECT_TCP); i++) {
		struct sb_ll_net_port	np;

		memset(&np, 0, sizeof(np));
		np.allowed_access = SB_LL_NET_CONNECT_TCP;
		np.port = sb_connect_ports[i];
		if (syscall(SYS_landlock_add_rule, (int)rfd,
		    SB_LL_RULE_NET_PORT, &np, 0) == -1)
			goto fail;
	}
	if (syscall(SYS_landlock_restrict_self, (int)rfd, 0) == -1)
		goto fail;
	close((int)rfd);
	return 0;
fail:
	saved = errno;
	close((int)rfd);
	errno = saved;
	return -1;
}

static int
sb_seccomp_add(scmp_filter_ctx ctx, const struct sb_rule *rules, size_t n)
{
	struct scmp_arg_cmp	arg[SB_MAX_ARGS];
	scmp_datum_t		self = (scmp_datum_t)getpid();
	unsigned int		j;
	size_t			i;
	int			nr, e;

	for (i = 0; i < n; i++) {
		SP_ASSERT(rules[i].nargs <= SB_MAX_ARGS);
		nr = seccomp_syscall_resolve_name(rules[i].name);
		SP_ASSERT(nr != __NR_SCMP_ERROR);
		for (j = 0; j < rules[i].nargs; j++) {
			arg[j] = rules[i].arg[j];
			if (arg[j].op == SCMP_CMP_EQ &&
			    arg[j].datum_a == SB_SELF)
				arg[j].datum_a = self;
		}
		if ((e = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr,
		    rules[i].nargs, rules[i].nargs > 0 ? arg : NULL)) < 0) {
			errno = -e;
			return -1;
		}
	}
	return 0;
}

static int
sb_seccomp(const struct sb_role *r)
{
	scmp_filter_ctx	ctx;
	size_t		i;
	int		nr, e, ret = -1;

	/*
	 * SECURITY: default TRAP, so that a violation is reported (the
	 * SIGSYS handler) rather than a bare kill.  Another architecture
	 * (i386 through int 0x80, x32 numbers above 0x40000000: libseccomp
	 * checks both) kills at once.
	 */
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if ((e = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) {
		errno = -e;
		goto done;
	}
	if (sb_seccomp_add(ctx, sb_base, SB_NITEMS(sb_base)) == -1 ||
	    sb_seccomp_add(ctx, r->profile, r->nprofile) == -1 ||
	    sb_seccomp_add(ctx, r->extra, r->nextra) == -1)
		goto done;
#ifdef SB_SANITIZER
	if (sb_seccomp_add(ctx, sb_sanitizer, SB_NITEMS(sb_sanitizer)) == -1)
		goto done;
#endif
	if (r->threads && (e = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0)) < 0) {
		errno = -e;
		goto done;
	}
	for (i = 0; i < SB_NITEMS(sb_kill); i++) {
		nr = seccomp_syscall_resolve_name(sb_kill[i]);
		SP_ASSERT(nr != __NR_SCMP_ERROR);
		if ((e = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr,
		    0)) < 0) {
			errno = -e;
			goto done;
		}
	}
	if ((e = seccomp_load(ctx)) < 0) {
		errno = -e;
		goto done;
	}
	ret = 0;
done:
	e = errno;
	seccomp_release(ctx);
	errno = e;
	return ret;
}

void
sandbox_allow_connect(uint16_t port)
{
	size_t	i;

	for (i = 0; i < sb_nconnect_ports; i++)
		if (sb_connect_ports[i] == port)
			return;
	if (port != 0 && sb_nconnect_ports < SB_CONNECT_PORTS_MAX)
		sb_connect_ports[sb_nconnect_ports++] = port;
}

int
sandbox_enter(enum sp_role role, int flags, struct sandbox_status *st_r)
{
	const struct sb_role	*r;
	struct sandbox_status	 st;
	int			 ret = -1;

	memset(&st, 0, sizeof(st));
	if ((unsigned int)role >= ROLE_MAX ||
	    (flags & ~SANDBOX_NO_FILTERS) != 0) {
		errno = EINVAL;
		goto done;
	}
	r = &sb_roles[role];
	/* SECURITY: no setuid binary or file capability can help after. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		goto done;
	/* SECURITY: no core, no ptrace attach, /proc/PID owned by root. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		goto done;
	if (sb_sigsys_install() == -1)
		goto done;
	st.landlock_abi = sb_landlock_abi();
	if ((flags & SANDBOX_NO_FILTERS) == 0) {
		/* Best effort: the level reached is reported, not required. */
		if (st.landlock_abi > 0 && sb_landlock(r, st.landlock_abi) ==
		    0)
			st.landlock = 1;
	}
	/* After Landlock: its ruleset fd must not hit RLIMIT_NOFILE. */
	if (sb_rlimits(r) == -1)
		goto done;
	if ((flags & SANDBOX_NO_FILTERS) == 0) {
		/* Last: it forbids the calls above. */
		if (sb_seccomp(r) == -1)
			goto done;
		st.seccomp = 1;
	}
	ret = 0;
done:
	if (st_r != NULL)
		*st_r = st;
	return ret;
}

const char *
sandbox_describe(const struct sandbox_status *st)
{
	static char	buf[64];
	char		ll[24];

	if (st->landlock)
		(void)snprintf(ll, sizeof(ll), "ABI%d", st->landlock_abi);
	else
		(void)strlcpy(ll, st->landlock_abi > 0 ? "off" : "none",
		    sizeof(ll));
	(void)snprintf(buf, sizeof(buf), "landlock=%s seccomp=%s", ll,
	    st->seccomp ? "on" : "off");
	return buf;
}

const char *
sandbox_role_name(enum sp_role role)
{
	if ((unsigned int)role >= ROLE_MAX)
		return "unknown";
	return sb_roles[role].name;
}
