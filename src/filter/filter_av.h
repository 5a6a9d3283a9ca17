/* SPDX-License-Identifier: ISC */
/*
 * filter_av.h - the antivirus engine of the filter service: libclamav,
 * loaded once before the jail from the configured database folder, then
 * shared read-only by the scanning threads.
 *
 * Trust: the databases are the administrator's (or freshclam's); the
 * messages scanned are hostile.  libclamav unpacks archives into /tmp,
 * which in the filter's jail is a private tmpfs (privdrop.c
 * jail_private_tmp): nothing it writes reaches a disk or another process.
 */
#ifndef SP_FILTER_AV_H
#define SP_FILTER_AV_H

#include <stddef.h>
#include <stdint.h>

/* libclamav's limits (sealpost.conf clamav-max-*). */
struct av_limits {
	uint64_t	max_scan;	/* bytes scanned per message */
	uint64_t	max_file;	/* bytes of one part or member */
	unsigned int	max_recursion;	/* archives in archives */
	unsigned int	max_files;	/* members per message */
	unsigned int	max_ms;		/* one scan's time, 0: libclamav's */
};

enum av_result {
	AV_CLEAN,
	AV_VIRUS,	/* *name is the signature's name */
	AV_LIMIT,	/* a limit stopped the scan: not known clean */
	AV_ERROR	/* the scan failed, or there is no engine */
};

/* The longest signature name passed on (longer ones are cut). */
#define AV_NAME_MAX	128

/*
 * Load every database in dir into a new engine with these limits and
 * compile it; libclamav's temporary folder is tmpdir.  Call once, before
 * the jail (it reads dir) and before any thread.  0, or -1 with a reason
 * in err: the filter then runs without an engine and every scan is
 * AV_ERROR (the policy's scanner-failure action).
 */
int		 av_load(const char *dir, const char *tmpdir,
		    const struct av_limits *, char *err, size_t errlen);
/* "N signatures from DIR" or why there is no engine, for the log. */
const char	*av_describe(void);
/*
 * Scan the message on fd (a sealed memfd; read from offset 0, its offset
 * is moved).  Thread-safe: any number of threads at once.  On AV_VIRUS
 * name holds the signature's name, reduced to letters, digits and
 * ".-_:/" (it goes into an SMTP reply and the log); on AV_LIMIT and
 * AV_ERROR err says what happened.
 */
enum av_result	 av_scan(int fd, char *name, size_t namelen, char *err,
		    size_t errlen);

#endif
