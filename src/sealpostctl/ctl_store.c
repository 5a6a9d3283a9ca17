/* SPDX-License-Identifier: ISC */
/*
 * ctl_store.c - sealpostctl store check [--repair] [ADDRESS] and store
 * stats: the structure of each account's store, checked without any key
 * (sealpostctl holds none): index rows without their blob, blobs without
 * a row, messages waiting in new/, stale temporary files, blobs whose
 * structure is wrong.  --repair re-queues orphans for import and removes
 * only what is known garbage (expunged blobs, stale temporaries); it never
 * deletes mail.
 *
 * Process:  sealpostctl, run by root.  Each account is examined in a child
 *           that enters that account's jail and runs as its uid, as its
 *           mail process does: index.db is the account's file, root must
 *           not parse it nor leave root-owned files beside it.
 * Trust:    the account's files are the account's (possibly hostile);
 *           the child's one-line report is parsed with bounds.
 * See also: store/index.c (index_check), docs/sealpostctl.8.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "sandbox.h"
#include "accounts.h"
#include "index.h"
#include "ctl_store.h"
#include "banned.h"

#define STORE_MAX_ACCOUNTS	100000

struct store_account {
	char		*address;
	uint64_t	 id;
	uint32_t	 uid;
};

struct store_list {
	struct store_account	*a;
	size_t			 n;
	const char		*only;	/* one address, or NULL */
};

static int
store_collect(const struct accounts_user_info *u, void *arg)
{
	struct store_list	*l = arg;
	struct store_account	*na;

	if (l->only != NULL && strcmp(l->only, u->address) != 0)
		return 0;
	if (l->n == STORE_MAX_ACCOUNTS)
		return -1;
	if ((na = reallocarray(l->a, l->n + 1, sizeof(*na))) == NULL)
		return -1;
	l->a = na;
	if ((l->a[l->n].address = strdup(u->address)) == NULL)
		return -1;
	l->a[l->n].id = u->id;
	l->a[l->n].uid = u->uid;
	l->n++;
	return 0;
}

static size_t
store_count_new(int dfd)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0;
	int		 fd;

	if ((fd = openat(dfd, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) ==
	    -1 || (d = fdopendir(fd)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * In the child: jail, drop to the account, check; one line on fd out:
 * "rows blobs pending problems repaired usage" or "error TEXT".
 */
static void __attribute__((noreturn))
store_child(const struct sp_conf *conf, const struct store_account *a,
    int repair, int out)
{
	struct index_check	 chk;
	struct index		*ix;
	char			 dir[1024], root[1024], err[256], line[512];
	uint64_t		 usage = 0, blobs = 0;
	struct stat		 sb;
	size_t			 problems = 0, repaired = 0, i;
	int			 dfd, n;

	snprintf(dir, sizeof(dir), "%s/mail/%llu", conf->data_dir,
	    (unsigned long long)a->id);
	snprintf(root, sizeof(root), "%s/mailroot", conf->run_dir);
	if (index_init() == -1 ||
	    (mkdir(root, 0755) == -1 && errno != EEXIST) ||
	    jail_account(root, dir) == -1 ||
	    privdrop((uid_t)a->uid, (gid_t)a->uid) == -1 ||
	    (dfd = open("/mail", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) == -1) {
		n = snprintf(line, sizeof(line), "error %s: %s\n", dir,
		    strerror(errno));
		(void)!write(out, line, (size_t)n);
		_exit(1);
	}
	/*
	 * No index yet: the account never read its mail (or its first mail
	 * process was killed before SQLite wrote a page: an empty file,
	 * which the next login makes an index of); nothing to check.
	 */
	if (fstatat(dfd, "index.db", &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    (S_ISREG(sb.st_mode) && sb.st_size == 0)) {
		n = snprintf(line, sizeof(line), "0 0 %zu 0 0 0\n",
		    store_count_new(dfd));
		(void)!write(out, line, (size_t)n);
		_exit(0);
	}
	if ((ix = index_open(dfd, "/mail", NULL, NULL, 0, err,
	    sizeof(err))) == NULL ||
	    index_check(ix, repair ? INDEX_CHECK_REPAIR : 0, &chk) == -1) {
		n = snprintf(line, sizeof(line), "error %s\n", ix != NULL ?
		    index_errstr(ix) : err);
		(void)!write(out, line, (size_t)n);
		_exit(1);
	}
	/*
	 * Rows whose file is still in new/ (the next import moves it) and
	 * placeholders are reported but are no problem: neither they nor
	 * their repair count, so problems - repaired is what remains.
	 */
	for (i = 0; i < INDEX_P_MAX; i++)
		if (i != INDEX_P_UNMOVED && i != INDEX_P_DAMAGED) {
			problems += chk.count[i];
			repaired += chk.fixed[i];
		}
	(void)index_usage(ix, &usage, &blobs);
	n = snprintf(line, sizeof(line), "%zu %zu %zu %zu %zu %llu\n",
	    chk.rows, chk.blobs, chk.pending, problems, repaired,
	    (unsigned long long)usage);
	(void)!write(out, line, (size_t)n);
	for (i = 0; i < chk.nlist; i++) {
		n = snprintf(line, sizeof(line), "  %s/%s: %s%s\n",
		    chk.list[i].where, chk.list[i].name, chk.list[i].detail,
		    chk.list[i].repaired ? " (repaired)" : "");
		(void)!write(out, line, (size_t)n);
	}
	index_check_free(&chk);
	index_close(ix);
	_exit(0);
}

static int
store_run(const struct sp_conf *conf, const struct store_account *a,
    int repair, int stats, size_t *problems_r)
{
	char		 buf[65536];
	size_t		 len = 0, rows, blobs, pending, problems, repaired;
	unsigned long long usage;
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], st;

	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(p[0]);
		store_child(conf, a, repair, p[1]);
	}
	close(p[1]);
	while (len < sizeof(buf) - 1 &&
	    (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	buf[len] = '\0';
	(void)waitpid(pid, &st, 0);
	if (strncmp(buf, "error ", 6) == 0 || sscanf(buf, "%zu %zu %zu %zu "
	    "%zu %llu", &rows, &blobs, &pending, &problems, &repaired,
	    &usage) != 6) {
		printf("%-30s error: %s", a->address, len > 6 ?
		    buf + 6 : "no report\n");
		(*problems_r)++;
		return 0;
	}
	if (stats)
		printf("%-30s %6llu %8zu %8zu %8zu %12llu\n", a->address,
		    (unsigned long long)a->id, rows, blobs, pending, usage);
	else {
		printf("%-30s %8zu %8zu %8zu %8zu %8zu\n", a->address, rows,
		    blobs, pending, problems, repaired);
		if (strchr(buf, '\n') != NULL)
			fputs(strchr(buf, '\n') + 1, stdout);
	}
	*problems_r += problems - (repair ? repaired : 0);
	return 0;
}

int
ctl_store_is_command(const char *word)
{
	return strcmp(word, "store") == 0;
}

int
ctl_store_main(const char *conffile, int argc, char **argv)
{
	struct accounts_params	 ap;
	struct accounts_db	*db;
	struct store_list	 l;
	struct sp_conf		*conf;
	const char		*e, *only = NULL;
	char			 err[1024], path[1024];
	size_t			 i, problems = 0;
	int			 repair = 0, stats, k;

	if (argc < 2 || (strcmp(argv[1], "check") != 0 &&
	    strcmp(argv[1], "stats") != 0)) {
		fprintf(stderr, "usage: sealpostctl [-c file] store check "
		    "[--repair] [ADDRESS]\n       sealpostctl [-c file] store "
		    "stats\n");
		return 2;
	}
	stats = strcmp(argv[1], "stats") == 0;
	for (k = 2; k < argc; k++) {
		if (!stats && strcmp(argv[k], "--repair") == 0)
			repair = 1;
		else if (!stats && only == NULL && argv[k][0] != '-')
			only = argv[k];
		else {
			fprintf(stderr, "sealpostctl: store: unexpected "
			    "\"%s\"\n", argv[k]);
			return 2;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "sealpostctl: store: must be run as root\n");
		return 1;
	}
	if ((conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/users.db", conf->data_dir);
	memset(&ap, 0, sizeof(ap));
	if ((db = accounts_open(path, &ap, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return 1;
	}
	memset(&l, 0, sizeof(l));
	l.only = only;
	if (accounts_user_list(db, store_collect, &l, &e) == -1) {
		fprintf(stderr, "sealpostctl: %s\n", e);
		return 1;
	}
	accounts_close(db);
	if (only != NULL && l.n == 0) {
		fprintf(stderr, "sealpostctl: no account %s\n", only);
		return 1;
	}
	if (stats)
		printf("%-30s %6s %8s %8s %8s %12s\n", "ADDRESS", "ID",
		    "MESSAGES", "BLOBS", "PENDING", "BYTES");
	else
		printf("%-30s %8s %8s %8s %8s %8s\n", "ADDRESS", "ROWS",
		    "BLOBS", "PENDING", "PROBLEMS", "REPAIRED");
	fflush(stdout);
	for (i = 0; i < l.n; i++) {
		if (store_run(conf, &l.a[i], repair, stats, &problems) == -1) {
			fprintf(stderr, "sealpostctl: %s: %s\n",
			    l.a[i].address, strerror(errno));
			problems++;
		}
		fflush(stdout);
		free(l.a[i].address);
	}
	free(l.a);
	conf_free(conf);
	return problems > 0 ? 1 : 0;
}
