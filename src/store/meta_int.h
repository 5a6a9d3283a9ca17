/* SPDX-License-Identifier: ISC */
/*
 * meta_int.h - inside the metadata builder: what meta_build.c (the part
 * walker) needs from meta.c (encoded sizes, for the output budget) and
 * from meta_gmime.c (header field values, read by GMime).  Nothing outside
 * src/store/meta*.c includes this.
 */
#ifndef SP_META_INT_H
#define SP_META_INT_H

#include <stddef.h>
#include <stdint.h>

#include "meta.h"

/*
 * Encoded sizes (meta.c's layout): the builder charges every string and
 * every fixed field against META_MAX_OUTPUT before it keeps it.
 */
#define META_ENC_RECORD_FIXED	(1 + 1 + 4 + 8 + 1 + 8 + 4 + 4 + 4)
#define META_ENC_STR_FIXED	4		/* the length (NULL: only it) */
#define META_ENC_PART_FIXED	(4 + 4 + 4 * 8 + 4 + 4 + 4 + 1)
#define META_ENC_PART_STRS	7		/* type .. disposition */
#define META_ENC_ENV_FIXED	(4 * META_ENC_STR_FIXED + 6 * 4)
#define META_ENC_ADDR_FIXED	(1 + 4 * META_ENC_STR_FIXED)
#define META_ENC_PARAM_FIXED	(2 * META_ENC_STR_FIXED)

/* meta.c */
size_t	meta_encoded_size(const struct meta *);
/* Fill parent, next (and check nothing): after a build or a decode. */
void	meta_link(struct meta *);

/* meta_gmime.c: the only file that includes GMime */

/* A Content-Type as GMime parses it (all xmalloc'd, NULL-able). */
struct meta_ctype {
	char			*type;		/* lower case */
	char			*subtype;	/* lower case */
	struct meta_param	*params;
	uint32_t		 nparams;
	uint32_t		 nparams_all;	/* before META_MAX_PARAMS */
	int			 cut;		/* META_READ_PARAMS met */
	char			*boundary;	/* its parameter, or NULL */
};

/* An address field as GMime parses it. */
struct meta_gaddrs {
	struct meta_addr	*v;		/* xmalloc'd, at most max */
	uint32_t		 n;
	uint32_t		 n_all;		/* entries before the cut */
	int			 colons_cut;	/* META_MAX_ADDR_COLONS met */
	int			 cut;		/* META_READ_ADDRS met */
	char			*text;		/* decoded "Name <a@b>, ..." */
};

void	 meta_gmime_init(void);
/* Does GMime read these bytes as the header of a message? */
int	 meta_gmime_parsable(const unsigned char *, size_t);
/*
 * Parse a (sanitized, unfolded) Content-Type value; type and subtype are
 * NULL when GMime could not read a type/subtype or either is longer than
 * META_MAX_TYPE.
 */
void	 meta_gmime_content_type(const char *, struct meta_ctype *);
void	 meta_gmime_ctype_free(struct meta_ctype *);
/* Content-Disposition: disposition (lower case) and its parameters. */
void	 meta_gmime_disposition(const char *, char **disp_r,
	    struct meta_param **params_r, uint32_t *n_r, uint32_t *n_all_r,
	    int *cut_r);
/* An address list value, at most max entries kept. */
void	 meta_gmime_addresses(const char *, uint32_t max, struct meta_gaddrs *);
/* Decoded UTF-8 text of an unstructured value (Subject); xmalloc'd. */
char	*meta_gmime_decode_text(const char *);
/* A Date value as unix seconds and zone minutes: 0, or -1 unreadable. */
int	 meta_gmime_date(const char *, int64_t *t_r, int32_t *zone_r);
/* Is this Content-Transfer-Encoding base64, quoted-printable or uuencode? */
int	 meta_gmime_encoded(const char *);

#endif
