/* SPDX-License-Identifier: ISC */
/*
 * mpolicy.c - the master's side of the policy (sealpost.policy(5)): it
 * reads the policy folder (the filter, jailed, cannot), checks it, and
 * keeps it as a sealed memfd that every new filter process gets on its
 * descriptor SP_FD_POLICY.  A policy that does not load is refused with
 * its FILE:LINE:COL; at start sealpostd does not start, on reload the
 * running policy stays.
 *
 * Process:  sealpostd (root).
 * Trust:    the files are the administrator's; they are parsed here
 *           (fuzzed parser) and again in the filter.
 * See also: src/policy/policy.h, src/filter/filter.c, service.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "buf.h"
#include "memfd.h"
#include "policy.h"
#include "sealpostd.h"
#include "banned.h"

int
mpolicy_load(const struct sp_conf *conf, int *fd_r, struct policy_stats *st_r,
    char *err, size_t errlen)
{
	struct policy		*p;
	struct policy_stats	 st;
	struct buf		*img;
	int			 fd;

	/* the default folder may be missing (built-in defaults), a named one not */
	if (policy_image_read(conf->policy_dir, conf->policy_dir_given ? 0 :
	    POLICY_DIR_OPTIONAL, &img, err, errlen) == -1)
		return -1;
	if ((p = policy_image_load(img->data, img->len, err, errlen)) == NULL) {
		buf_free(&img);
		return -1;
	}
	policy_stats(p, &st);
	policy_free(p);
	/* SECURITY: sealed: the filter reads what was checked here */
	if ((fd = memfd_sealed_from("sealpost-policy", img->data,
	    img->len)) == -1) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		buf_free(&img);
		return -1;
	}
	buf_free(&img);
	*fd_r = fd;
	if (st_r != NULL)
		*st_r = st;
	return 0;
}

void
mpolicy_log(const struct sp_conf *conf, const struct policy_stats *st)
{
	log_info("policy loaded from %s: %zu file%s, %zu rule%s%s",
	    conf->policy_dir, st->files, st->files == 1 ? "" : "s", st->rules,
	    st->rules == 1 ? "" : "s", st->files == 0 ?
	    " (built-in defaults)" : "");
}
