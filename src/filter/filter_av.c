/* SPDX-License-Identifier: ISC */
/*
 * filter_av.c - libclamav for the filter service (filter_av.h).
 *
 * The engine is built once in preload (root, before the jail: it reads
 * the database folder) and never changed after: libclamav's scanning
 * functions may share a compiled engine between threads.  A new database
 * means a new filter process (the master starts one), not a reload in
 * place, so no scan ever sees a half-loaded engine.
 *
 * Process:  filter (the loop thread loads; the scanning threads scan).
 * Trust:    the message is hostile: libclamav parses MIME, archives and
 *           documents in this jailed, sandboxed process, with the limits
 *           of the configuration; bytecode signatures run in the
 *           interpreter, never JIT-compiled (no executable memory: the
 *           sandbox forbids it).  A signature name goes into an SMTP
 *           reply only after it is reduced to safe characters.
 * Limits:   struct av_limits; AV_NAME_MAX.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <clamav.h>

#include "filter_av.h"
#include "banned.h"

static struct cl_engine	*engine;
static char		 described[PATH_MAX + 128] = "no engine";

static int
av_fail(struct cl_engine *e, char *err, size_t errlen, const char *what,
    cl_error_t r)
{
	snprintf(err, errlen, "%s: %s", what, cl_strerror(r));
	snprintf(described, sizeof(described), "unavailable (%s: %s)", what,
	    cl_strerror(r));
	if (e != NULL)
		cl_engine_free(e);
	return -1;
}

int
av_load(const char *dir, const char *tmpdir, const struct av_limits *l,
    char *err, size_t errlen)
{
	struct cl_engine	*e;
	unsigned int		 sigs = 0;
	cl_error_t		 r;

	if ((r = cl_init(CL_INIT_DEFAULT)) != CL_SUCCESS)
		return av_fail(NULL, err, errlen, "cl_init", r);
	if ((e = cl_engine_new()) == NULL)
		return av_fail(NULL, err, errlen, "cl_engine_new", CL_EMEM);
	/*
	 * SECURITY: bytecode signatures only in the interpreter: the JIT
	 * would need writable executable memory.
	 */
	if ((r = cl_engine_set_num(e, CL_ENGINE_BYTECODE_MODE,
	    CL_BYTECODE_MODE_INTERPRETER)) != CL_SUCCESS ||
	    (r = cl_engine_set_num(e, CL_ENGINE_MAX_SCANSIZE,
	    (long long)l->max_scan)) != CL_SUCCESS ||
	    (r = cl_engine_set_num(e, CL_ENGINE_MAX_FILESIZE,
	    (long long)l->max_file)) != CL_SUCCESS ||
	    (r = cl_engine_set_num(e, CL_ENGINE_MAX_RECURSION,
	    l->max_recursion)) != CL_SUCCESS ||
	    (r = cl_engine_set_num(e, CL_ENGINE_MAX_FILES,
	    l->max_files)) != CL_SUCCESS ||
	    (l->max_ms != 0 && (r = cl_engine_set_num(e,
	    CL_ENGINE_MAX_SCANTIME, l->max_ms)) != CL_SUCCESS) ||
	    (r = cl_engine_set_str(e, CL_ENGINE_TMPDIR, tmpdir)) != CL_SUCCESS)
		return av_fail(e, err, errlen, "settings", r);
	if ((r = cl_load(dir, e, &sigs, CL_DB_STDOPT)) != CL_SUCCESS)
		return av_fail(e, err, errlen, dir, r);
	if ((r = cl_engine_compile(e)) != CL_SUCCESS)
		return av_fail(e, err, errlen, "cl_engine_compile", r);
	engine = e;
	snprintf(described, sizeof(described), "%u signatures from %s", sigs,
	    dir);
	return 0;
}

const char *
av_describe(void)
{
	return described;
}

/* A signature name for a reply and a log line: [A-Za-z0-9.:/_-] only. */
static void
av_name(const char *v, char *out, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; v != NULL && v[i] != '\0' && n + 1 < len; i++) {
		unsigned char	c = (unsigned char)v[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr(".:/_-", c) != NULL)
			out[n++] = (char)c;
		else
			out[n++] = '_';
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, len, "unnamed");
}

enum av_result
av_scan(int fd, char *name, size_t namelen, char *err, size_t errlen)
{
	struct cl_scan_options	 opts;
	const char		*vir = NULL;
	unsigned long		 scanned = 0;
	cl_error_t		 r;

	name[0] = err[0] = '\0';
	if (engine == NULL) {
		snprintf(err, errlen, "no antivirus engine: %s", described);
		return AV_ERROR;
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		snprintf(err, errlen, "lseek: %s", strerror(errno));
		return AV_ERROR;
	}
	memset(&opts, 0, sizeof(opts));
	opts.parse = ~0u;
	/*
	 * Heuristics: a scan cut short by a limit is reported (as
	 * Heuristics.Limits.Exceeded): it is not known to be clean.
	 */
	opts.general = CL_SCAN_GENERAL_HEURISTICS;
	opts.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	r = cl_scandesc(fd, "message.eml", &vir, &scanned, engine, &opts);
	switch (r) {
	case CL_CLEAN:
		return AV_CLEAN;
	case CL_VIRUS:
		if (vir != NULL && strncmp(vir, "Heuristics.Limits.Exceeded",
		    26) == 0) {
			av_name(vir, name, namelen);
			snprintf(err, errlen, "limit reached (%s)", name);
			name[0] = '\0';
			return AV_LIMIT;
		}
		av_name(vir, name, namelen);
		return AV_VIRUS;
	case CL_EMAXREC:
	case CL_EMAXSIZE:
	case CL_EMAXFILES:
	case CL_ETIMEOUT:
		snprintf(err, errlen, "limit reached (%s)", cl_strerror(r));
		return AV_LIMIT;
	default:
		snprintf(err, errlen, "scan failed (%s)", cl_strerror(r));
		return AV_ERROR;
	}
}
