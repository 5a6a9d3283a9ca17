/* SPDX-License-Identifier: ISC */
/*
 * conf.h - sealpost.conf: the parsed configuration (grammar in
 * docs/sealpost.conf.5).
 */
#ifndef SP_CONF_H
#define SP_CONF_H

#include <sys/socket.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "sealpost.h"

struct sp_listener {
	enum sp_listener_kind	 kind;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 host[64];	/* numeric, as printed */
	uint16_t		 port;
	int			 line;		/* where it was declared */
};

/*
 * local-sender USER ADDRESS: what a local user (a name or a numeric uid)
 * sending through sealpost-sendmail is, as a sender.  Unmapped users may
 * not send.
 */
struct sp_local_sender {
	char		*user;
	char		*address;
};
#define SP_CONF_MAX_SENDERS	1000

/* A login for tests (--enable-test-hooks builds only, key test-account). */
struct sp_test_account {
	char		*address;
	char		*password;
	uint64_t	 id;
};
#define SP_CONF_MAX_TEST_ACCOUNTS	16

/* The largest max-message-size: an smtp session's memfd limit is above */
#define CONF_MAX_MESSAGE_SIZE	(100ULL << 20)
/* The CA bundle the mta trusts for HTTPS by default (Debian's). */
#define CONF_DEFAULT_HTTPS_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"
/* Where ClamAV's freshclam keeps the official databases (Debian). */
#define CONF_DEFAULT_CLAMAV_DB	"/var/lib/clamav"

/* kdf-strength: libsodium's crypto_pwhash limits */
#define CONF_KDF_INTERACTIVE	0	/* the default */
#define CONF_KDF_MODERATE	1
#define CONF_KDF_SENSITIVE	2
#define CONF_KDF_TEST		3	/* MIN limits: instance-type test only */

struct sp_conf {
	char			*path;		/* the file, absolute */
	char			*hostname;
	char			*data_dir;
	char			*run_dir;
	char			*libexec_dir;
	char			*tls_cert;
	char			*tls_key;
	int			 log_level;	/* syslog priority */
	unsigned int		 max_sessions;
	unsigned int		 max_sessions_per_client;	/* one IP */
	unsigned int		 shutdown_timeout;	/* seconds */
	uint32_t		 account_uid_min;	/* account uids */
	uint32_t		 account_uid_max;
	int			 test_sandbox_off;	/* test hooks only */
	int			 instance_test;		/* instance-type test */
	int			 kdf_strength;		/* CONF_KDF_* */
	unsigned int		 kdf_workers;		/* auth's KDF threads */
	uint64_t		 max_message_size;	/* bytes (SMTP SIZE) */
	unsigned int		 smtp_max_rcpts;	/* per transaction */
	int			 received_hide_client;	/* for AUTH senders */
	unsigned int		 auth_cache_lifetime;	/* seconds, 0: off */
	char			*recovery_key;		/* public key file */
	uint64_t		 default_quota;		/* bytes, 0: none */
	/* the filter service: libclamav and its threads */
	char			*policy_dir;		/* *.policy files */
	int			 policy_dir_given;	/* else the default */
	char			*clamav_db;		/* database folder */
	char			*rspamd_url;		/* NULL: no spam scoring */
	uint64_t		 clamav_max_scan;	/* bytes per message */
	uint64_t		 clamav_max_file;	/* bytes per part */
	unsigned int		 clamav_max_recursion;	/* archive depth */
	unsigned int		 clamav_max_files;	/* per message */
	unsigned int		 filter_workers;	/* scanning threads */
	uint64_t		 filter_tmp_size;	/* its private tmpfs */
	/* outbound delivery: the queue's schedule and the mta's client */
	uint16_t		 outbound_port;		/* remote MX port */
	char			*dns_resolver;		/* ADDR@PORT, or NULL */
	unsigned int		 queue_first_retry;	/* seconds */
	unsigned int		 queue_retry_interval;	/* seconds */
	unsigned int		 queue_lifetime;	/* seconds, then fail */
	unsigned int		 queue_delay_warning;	/* seconds, 0: off */
	unsigned int		 outbound_concurrency;	/* per domain */
	unsigned int		 outbound_rate;		/* per minute, 0: any */
	unsigned int		 outbound_timeout;	/* seconds per reply */
	unsigned int		 max_hops;		/* Received: headers */
	/* HTTPS from the mta: Web Key Directory lookups (MTA-STS next) */
	uint16_t		 https_port;		/* remote port */
	char			*https_ca_file;		/* CA bundle, never NULL */
	int			 https_ca_file_given;	/* else the default */
	/* outbound TLS (issue 15): https-ca-file is also the CA bundle of
	 * every SMTP certificate check */
	char			*smarthost;		/* host name, NULL: MX */
	uint16_t		 smarthost_port;	/* default 587 */
	char			*smarthost_auth_file;	/* "user password" */
	char			*dnssec_trust_anchor;	/* DS/DNSKEY lines */
	int			 test_mta_socket;	/* test hooks only */
	struct sp_test_account	 test_accounts[SP_CONF_MAX_TEST_ACCOUNTS];
	size_t			 ntest_accounts;	/* test hooks only */
	char			*test_deliver_crash;	/* test hooks only */
	unsigned int		 test_smtp_timeout_ms;	/* test hooks only */
	unsigned int		 test_imap_timeout_ms;	/* test hooks only */
	char			**domains;
	size_t			 ndomains;
	struct sp_local_sender	*senders;	/* local-sender lines */
	size_t			 nsenders;
	struct sp_listener	*listeners;
	size_t			 nlisteners;
};

/*
 * Parse a configuration held in memory.  buf need not be NUL-terminated.
 * fname is used in error messages; relative paths are resolved against
 * basedir (the file's directory).  On error returns NULL and writes
 * "FILE:LINE: message" to err.  The caller owns the result (conf_free).
 * The input is untrusted in the sense that any bytes give an error, never
 * a crash (fuzzed: tests/fuzz/fuzz_conf.c).
 */
struct sp_conf	*conf_parse(const char *buf, size_t len, const char *fname,
		    const char *basedir, char *err, size_t errlen);
/* Read path (at most SP_CONF_MAX_SIZE bytes) and parse it. */
struct sp_conf	*conf_load(const char *path, char *err, size_t errlen);
void		 conf_free(struct sp_conf *);
/* Write the configuration in canonical form (sealpostd -n -v). */
void		 conf_print(FILE *, const struct sp_conf *);

/* "smtp", "imaps", ...; and whether TLS starts at connect. */
const char	*conf_kind_name(enum sp_listener_kind);
int		 conf_kind_implicit_tls(enum sp_listener_kind);
/* Whether any listener needs the TLS certificate. */
int		 conf_needs_tls(const struct sp_conf *);
/*
 * SIZE: bytes with an optional K, M, G or T (powers of 1024), at most
 * 2^50, or "none" (0).  0 or -1.
 */
int		 conf_size_parse(const char *v, uint64_t *out);
/* Is s a syntactically valid host name (RFC 1123 labels)? */
int		 conf_valid_hostname(const char *s);

#endif
