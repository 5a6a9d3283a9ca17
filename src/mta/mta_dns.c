/* SPDX-License-Identifier: ISC */
/*
 * mta_dns.c - MX, then A and AAAA, through libunbound (mta_dns.h); and
 * the A and AAAA of a single host (mta_dns_host, the WKD lookup).
 *
 * Process:  mta (the outbound issue), and the tests.
 * Trust:    answers come from the network: record data is parsed with
 *           every length checked (mta_dns_mx_rdata), names are checked
 *           again (mta_route_build), counts are bounded.  libunbound
 *           checks the packets themselves.
 * Limits:   MTA_ROUTE_HOSTS_MAX hosts, MTA_ADDRS_MAX addresses each.
 */
#include "config.h"

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "mta_dns.h"
#include "banned.h"

#define RR_A		1
#define RR_MX		15
#define RR_AAAA		28
#define RCODE_SERVFAIL	2

struct mta_dns {
	struct ub_ctx	*ctx;
};

struct lookup {
	struct mta_dns	*d;
	mta_dns_cb	 cb;
	void		*arg;
	uint32_t	 seed;
	char		 domain[MTA_HOST_MAX + 1];
	struct mta_dest	 dest;
	/* the address queries: host index and family of each */
	int		 pending;
	int		 temp;		/* a query failed for now */
	char		 why[128];
};

/* one address query: which host, which family */
struct addrq {
	struct lookup	*l;
	size_t		 host;
	int		 qtype;
};

/*
 * The trust anchors, one record a line, into the context: before any
 * call that finalizes it (ub_ctx_zone_add does).  In memory: libunbound
 * reads no file later, in the jail.
 */
static int
dns_add_ta(struct ub_ctx *ctx, const char *ta, char *err, size_t errlen)
{
	const char	*p, *nl;
	char		 line[2048];
	size_t		 n;
	int		 r, any = 0;

	for (p = ta; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		n = (size_t)(nl - p);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' ||
		    p[n - 1] == '\t'))
			n--;
		if (n == 0 || p[0] == '#' || p[0] == ';')
			continue;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "trust anchor: a line too long");
			return -1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if ((r = ub_ctx_add_ta(ctx, line)) != 0) {
			snprintf(err, errlen, "trust anchor: %s",
			    ub_strerror(r));
			return -1;
		}
		any = 1;
	}
	if (!any) {
		snprintf(err, errlen, "trust anchor: no record");
		return -1;
	}
	return 0;
}

struct mta_dns *
mta_dns_new(const char *resolver, const char *ta, char *err, size_t errlen)
{
	struct mta_dns	*d;
	int		 r;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create a resolver");
		free(d);
		return NULL;
	}
	if (ta != NULL && dns_add_ta(d->ctx, ta, err, errlen) == -1) {
		ub_ctx_delete(d->ctx);
		free(d);
		return NULL;
	}
	/* a thread of ours, never a forked helper (RECIPES.md 9) */
	if ((r = ub_ctx_async(d->ctx, 1)) != 0)
		goto fail;
	if (resolver != NULL) {
		if ((r = ub_ctx_set_fwd(d->ctx, resolver)) != 0)
			goto fail;
		/*
		 * RFC 6761 names (test., invalid.) are answered NXDOMAIN by
		 * unbound itself unless made transparent (RECIPES.md 6):
		 * with a resolver of our own, it decides.
		 */
		if ((r = ub_ctx_zone_add(d->ctx, "test.", "transparent")) != 0)
			goto fail;
	} else if ((r = ub_ctx_resolvconf(d->ctx, NULL)) != 0)
		goto fail;
	return d;
fail:
	snprintf(err, errlen, "resolver %s: %s", resolver != NULL ? resolver :
	    "/etc/resolv.conf", ub_strerror(r));
	ub_ctx_delete(d->ctx);
	free(d);
	return NULL;
}

void
mta_dns_free(struct mta_dns *d)
{
	if (d == NULL)
		return;
	ub_ctx_delete(d->ctx);
	free(d);
}

int
mta_dns_fd(struct mta_dns *d)
{
	return ub_fd(d->ctx);
}

int
mta_dns_process(struct mta_dns *d)
{
	return ub_process(d->ctx) == 0 ? 0 : -1;
}

int
mta_dns_mx_rdata(const unsigned char *rd, size_t len, struct mta_mx *mx)
{
	size_t	i = 2, o = 0, l;

	memset(mx, 0, sizeof(*mx));
	if (len < 3)
		return -1;
	mx->pref = (uint16_t)(rd[0] << 8 | rd[1]);
	for (;;) {
		if (i >= len)
			return -1;
		l = rd[i++];
		if (l == 0)
			break;
		/* 0xc0: a compression pointer, never in rdata given to us */
		if (l > 63 || l > len - i)
			return -1;
		if (o + l + 1 > MTA_HOST_MAX + 1)
			return -1;
		if (o > 0)
			mx->host[o++] = '.';
		memcpy(mx->host + o, rd + i, l);
		o += l;
		i += l;
	}
	if (i != len || memchr(mx->host, '\0', o) != NULL)
		return -1;
	if (o == 0)
		mx->host[o++] = '.';	/* the root: a null MX's target */
	mx->host[o] = '\0';
	return 0;
}

static void
lookup_done(struct lookup *l, int status, const char *why)
{
	l->cb(l->arg, status, why, status == MTA_DNS_OK ? &l->dest : NULL);
	free(l);
}

/* IPv6 addresses first, then IPv4, for each host. */
static void
lookup_order(struct lookup *l)
{
	struct sockaddr_storage	 tmp[MTA_ADDRS_MAX];
	size_t			 h, i, k;
	int			 fam;

	for (h = 0; h < l->dest.route.nhosts; h++) {
		k = 0;
		for (fam = 0; fam < 2; fam++)
			for (i = 0; i < l->dest.naddrs[h]; i++)
				if ((l->dest.addrs[h][i].ss_family == AF_INET6) ==
				    (fam == 0))
					tmp[k++] = l->dest.addrs[h][i];
		memcpy(l->dest.addrs[h], tmp, k * sizeof(tmp[0]));
	}
}

static void
addr_cb(void *arg, int err, struct ub_result *res)
{
	struct addrq		*q = arg;
	struct lookup		*l = q->l;
	struct sockaddr_storage	*ss;
	size_t			 i, *n = &l->dest.naddrs[q->host], any = 0;

	if (q->qtype == 0)
		;	/* the hold mx_cb lets go of: no query */
	else if (err != 0 || res == NULL || res->rcode == RCODE_SERVFAIL ||
	    res->bogus) {
		/* SECURITY: a bogus answer (DNSSEC) is no answer */
		l->temp = 1;
		snprintf(l->why, sizeof(l->why), "%s: %s",
		    l->dest.route.hosts[q->host], err != 0 ? ub_strerror(err) :
		    res != NULL && res->bogus ? "DNSSEC validation failed" :
		    "the DNS server failed (SERVFAIL)");
	} else if (res->havedata) {
		for (i = 0; res->data[i] != NULL && *n < MTA_ADDRS_MAX; i++) {
			ss = &l->dest.addrs[q->host][*n];
			memset(ss, 0, sizeof(*ss));
			if (q->qtype == RR_A && res->len[i] == 4) {
				struct sockaddr_in *sin = (void *)ss;

				sin->sin_family = AF_INET;
				memcpy(&sin->sin_addr, res->data[i], 4);
				(*n)++;
			} else if (q->qtype == RR_AAAA && res->len[i] == 16) {
				struct sockaddr_in6 *sin6 = (void *)ss;

				sin6->sin6_family = AF_INET6;
				memcpy(&sin6->sin6_addr, res->data[i], 16);
				(*n)++;
			}
		}
	}
	if (res != NULL)
		ub_resolve_free(res);
	free(q);
	if (--l->pending > 0)
		return;
	for (i = 0; i < l->dest.route.nhosts; i++)
		any += l->dest.naddrs[i];
	if (any == 0) {
		if (l->temp)
			lookup_done(l, MTA_DNS_TEMP, l->why);
		else
			lookup_done(l, MTA_DNS_NO_HOST, "no mail host of the "
			    "domain has an address");
		return;
	}
	lookup_order(l);
	lookup_done(l, MTA_DNS_OK, NULL);
}

static void
mx_cb(void *arg, int err, struct ub_result *res)
{
	struct lookup	*l = arg;
	struct mta_mx	*mx = NULL;
	struct addrq	*q;
	size_t		 n = 0, i, h;
	int		 r, t;

	if (err != 0 || res == NULL) {
		if (res != NULL)
			ub_resolve_free(res);
		lookup_done(l, MTA_DNS_TEMP, err != 0 ? ub_strerror(err) :
		    "no answer");
		return;
	}
	if (res->rcode == RCODE_SERVFAIL || res->bogus) {
		/* SECURITY: a bogus answer (DNSSEC) is no answer (RFC 7672) */
		r = res->bogus;
		ub_resolve_free(res);
		lookup_done(l, MTA_DNS_TEMP, r ? "DNSSEC validation failed "
		    "(bogus MX answer)" : "the DNS server failed (SERVFAIL)");
		return;
	}
	l->dest.mx_secure = res->secure != 0;
	if (res->nxdomain) {
		ub_resolve_free(res);
		lookup_done(l, MTA_DNS_NXDOMAIN, "no such domain");
		return;
	}
	if (res->havedata) {
		for (n = 0; res->data[n] != NULL && n < 64; n++)
			;
		mx = calloc(n, sizeof(*mx));
		for (i = 0, h = 0; mx != NULL && i < n; i++)
			if (mta_dns_mx_rdata((unsigned char *)res->data[i],
			    (size_t)res->len[i], &mx[h]) == 0)
				h++;
		n = mx != NULL ? h : 0;
	}
	ub_resolve_free(res);
	r = mta_route_build(l->domain, mx, n, l->seed, &l->dest.route);
	free(mx);
	if (r == MTA_ROUTE_NULL_MX) {
		lookup_done(l, MTA_DNS_NULL_MX, "the domain takes no mail (null "
		    "MX, RFC 7505)");
		return;
	}
	if (r != MTA_ROUTE_OK) {
		lookup_done(l, MTA_DNS_NO_HOST, "no usable mail host in the "
		    "domain's MX records");
		return;
	}
	/* every host's A and AAAA at once; the last answer decides */
	l->pending = 1;		/* held until every query is asked */
	for (h = 0; h < l->dest.route.nhosts; h++)
		for (t = 0; t < 2; t++) {
			if ((q = calloc(1, sizeof(*q))) == NULL) {
				l->temp = 1;
				continue;
			}
			q->l = l;
			q->host = h;
			q->qtype = t == 0 ? RR_AAAA : RR_A;
			l->pending++;
			if (ub_resolve_async(l->d->ctx, l->dest.route.hosts[h],
			    q->qtype, 1, q, addr_cb, NULL) != 0) {
				l->pending--;
				l->temp = 1;
				free(q);
			}
		}
	/* let go of the hold: as if one more answer came, with nothing */
	if ((q = calloc(1, sizeof(*q))) != NULL) {
		q->l = l;
		q->host = 0;
		q->qtype = 0;
		addr_cb(q, 0, NULL);
	} else if (--l->pending == 0)
		lookup_done(l, MTA_DNS_TEMP, "out of memory");
}

int
mta_dns_lookup(struct mta_dns *d, const char *domain, uint32_t seed,
    mta_dns_cb cb, void *arg)
{
	struct lookup	*l;

	if (!mta_host_ok(domain) || (l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->d = d;
	l->cb = cb;
	l->arg = arg;
	l->seed = seed;
	strlcpy(l->domain, domain, sizeof(l->domain));
	if (ub_resolve_async(d->ctx, domain, RR_MX, 1, l, mx_cb, NULL) != 0) {
		free(l);
		return -1;
	}
	return 0;
}

/* --- one host's addresses (mta_dns_host) ---------------------------- */

struct hostq {
	mta_dns_host_cb		 cb;
	void			*arg;
	int			 pending;	/* queries, the hold */
	int			 nx;		/* a NXDOMAIN came */
	int			 temp;		/* a query failed */
	char			 why[128];
	size_t			 naddrs;
	struct sockaddr_storage	 addrs[MTA_ADDRS_MAX];
};

static void
hostq_done(struct hostq *h)
{
	struct sockaddr_storage	 tmp[MTA_ADDRS_MAX];
	size_t			 i, k = 0;
	int			 fam;

	if (--h->pending > 0)
		return;
	if (h->naddrs > 0) {
		/* IPv6 first, as for mail hosts */
		for (fam = 0; fam < 2; fam++)
			for (i = 0; i < h->naddrs; i++)
				if ((h->addrs[i].ss_family == AF_INET6) ==
				    (fam == 0))
					tmp[k++] = h->addrs[i];
		h->cb(h->arg, MTA_DNS_OK, NULL, tmp, k);
	} else if (h->temp)
		h->cb(h->arg, MTA_DNS_TEMP, h->why, NULL, 0);
	else if (h->nx)
		h->cb(h->arg, MTA_DNS_NXDOMAIN, "no such name", NULL, 0);
	else
		h->cb(h->arg, MTA_DNS_NO_HOST, "no address", NULL, 0);
	free(h);
}

static void
hostq_answer(struct hostq *h, int qtype, int err, struct ub_result *res)
{
	struct sockaddr_storage	*ss;
	size_t			 i;

	if (err != 0 || res == NULL || res->rcode == RCODE_SERVFAIL) {
		h->temp = 1;
		snprintf(h->why, sizeof(h->why), "%s", err != 0 ?
		    ub_strerror(err) : "the DNS server failed (SERVFAIL)");
	} else if (res->nxdomain)
		h->nx = 1;
	else if (res->havedata) {
		/* hostile counts and lengths: both bounded here */
		for (i = 0; res->data[i] != NULL &&
		    h->naddrs < MTA_ADDRS_MAX; i++) {
			ss = &h->addrs[h->naddrs];
			memset(ss, 0, sizeof(*ss));
			if (qtype == RR_A && res->len[i] == 4) {
				struct sockaddr_in *sin = (void *)ss;

				sin->sin_family = AF_INET;
				memcpy(&sin->sin_addr, res->data[i], 4);
				h->naddrs++;
			} else if (qtype == RR_AAAA && res->len[i] == 16) {
				struct sockaddr_in6 *sin6 = (void *)ss;

				sin6->sin6_family = AF_INET6;
				memcpy(&sin6->sin6_addr, res->data[i], 16);
				h->naddrs++;
			}
		}
	}
	if (res != NULL)
		ub_resolve_free(res);
	hostq_done(h);
}

static void
hostq_a_cb(void *arg, int err, struct ub_result *res)
{
	hostq_answer(arg, RR_A, err, res);
}

static void
hostq_aaaa_cb(void *arg, int err, struct ub_result *res)
{
	hostq_answer(arg, RR_AAAA, err, res);
}

int
mta_dns_host(struct mta_dns *d, const char *host, mta_dns_host_cb cb,
    void *arg)
{
	struct hostq	*h;

	if (!mta_host_ok(host) || (h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->cb = cb;
	h->arg = arg;
	h->pending = 1;		/* held until both queries are asked */
	h->pending++;
	if (ub_resolve_async(d->ctx, host, RR_AAAA, 1, h, hostq_aaaa_cb,
	    NULL) != 0) {
		h->pending--;
		h->temp = 1;
		snprintf(h->why, sizeof(h->why), "cannot ask the resolver");
	}
	h->pending++;
	if (ub_resolve_async(d->ctx, host, RR_A, 1, h, hostq_a_cb,
	    NULL) != 0) {
		h->pending--;
		h->temp = 1;
		snprintf(h->why, sizeof(h->why), "cannot ask the resolver");
	}
	if (h->pending == 1) {	/* nothing asked: no callback either */
		free(h);
		return -1;
	}
	hostq_done(h);		/* let go of the hold */
	return 0;
}

/* one query of any type (mta_dns_rr) */
struct rrq {
	mta_dns_rr_cb	cb;
	void		*arg;
};

static void
rrq_cb(void *arg, int err, struct ub_result *res)
{
	struct rrq		*q = arg;
	struct mta_dns_rrset	 setbuf, *set = &setbuf;
	size_t			 i, n;

	memset(set, 0, sizeof(*set));
	if (err != 0 || res == NULL || res->rcode == RCODE_SERVFAIL)
		set->status = MTA_DNS_TEMP;
	else if (res->nxdomain)
		set->status = MTA_DNS_NXDOMAIN;
	else if (!res->havedata)
		set->status = MTA_DNS_NO_HOST;
	else
		set->status = MTA_DNS_OK;
	if (res != NULL) {
		set->secure = res->secure != 0;
		set->bogus = res->bogus != 0;
		/* hostile counts and lengths: both bounded here */
		for (i = 0; res->havedata && res->data[i] != NULL; i++) {
			n = res->len[i] < 0 ? 0 : (size_t)res->len[i];
			if (n > MTA_DNS_RDATA_MAX || set->n == MTA_DNS_RR_MAX) {
				set->skipped++;
				continue;
			}
			memcpy(set->data[set->n], res->data[i], n);
			set->len[set->n++] = n;
		}
		if (set->bogus)
			set->status = MTA_DNS_TEMP;
		ub_resolve_free(res);
	}
	q->cb(q->arg, set);
	free(q);
}

int
mta_dns_rr(struct mta_dns *d, const char *name, int qtype, mta_dns_rr_cb cb,
    void *arg)
{
	struct rrq	*q;

	if (strlen(name) > MTA_HOST_MAX || (q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->cb = cb;
	q->arg = arg;
	if (ub_resolve_async(d->ctx, name, qtype, 1, q, rrq_cb, NULL) != 0) {
		free(q);
		return -1;
	}
	return 0;
}
