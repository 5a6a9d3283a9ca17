/* SPDX-License-Identifier: ISC */
/*
 * test_store_deliver.c - account folders and durable delivery into new/:
 * exact owners and modes, links refused, a full disk is a clean failure,
 * and a crash at any step leaves either nothing or a complete message.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "memfd.h"
#include "blob.h"
#include "layout.h"
#include "store_deliver.h"
#include "test.h"
#include "banned.h"

#define UID	200042
#define DGID	4242

static unsigned char	pk[crypto_box_PUBLICKEYBYTES];
static unsigned char	*sk;

static int
skip_unless_root(const char *name)
{
	if (geteuid() == 0)
		return 0;
	test_skip(name, "not root");
	return 1;
}

static char *
tempdir(void)
{
	static char	dir[64];

	snprintf(dir, sizeof(dir), "/tmp/sp-store-XXXXXX");
	return mkdtemp(dir);
}

static int
mode_of(const char *path, uid_t *uid, gid_t *gid)
{
	struct stat	st;

	if (lstat(path, &st) == -1)
		return -1;
	*uid = st.st_uid;
	*gid = st.st_gid;
	return (int)(st.st_mode & 07777);
}

static void
test_layout(void)
{
	char	*d, p[256], err[256];
	uid_t	 u;
	gid_t	 g;

	if (skip_unless_root("layout: owners and modes"))
		return;
	test_begin("layout: owners and modes, idempotent, links refused");
	d = tempdir();
	test_assert(layout_account_create(d, 42, UID, DGID, err,
	    sizeof(err)) == 0);
	snprintf(p, sizeof(p), "%s/mail", d);
	test_assert(mode_of(p, &u, &g) == 0711 && u == 0 && g == 0);
	snprintf(p, sizeof(p), "%s/mail/42", d);
	test_assert(mode_of(p, &u, &g) == 0710 && u == UID && g == DGID);
	snprintf(p, sizeof(p), "%s/mail/42/new", d);
	test_assert(mode_of(p, &u, &g) == 0770 && u == UID && g == DGID);
	snprintf(p, sizeof(p), "%s/mail/42/blobs", d);
	test_assert(mode_of(p, &u, &g) == 0700 && u == UID && g == UID);
	test_assert(layout_account_create(d, 42, UID, DGID, err,
	    sizeof(err)) == 0);
	/* another uid for the same folder: refused, nothing changed */
	test_assert(layout_account_create(d, 42, UID + 1, DGID, err,
	    sizeof(err)) == -1);
	test_assert(mode_of(p, &u, &g) == 0700 && u == UID);
	/* a planted link is never followed */
	snprintf(p, sizeof(p), "%s/mail/43", d);
	test_assert(symlink("/etc", p) == 0);
	test_assert(layout_account_create(d, 43, UID, DGID, err,
	    sizeof(err)) == -1);
	snprintf(p, sizeof(p), "rm -rf %s", d);
	test_assert(system(p) == 0);
	test_end();
}

static int
msgfd(size_t len, unsigned char **data_r)
{
	unsigned char	*data = malloc(len + 1);
	int		 fd;

	randombytes_buf(data, len);
	fd = memfd_sealed_from("msg", data, len);
	*data_r = data;
	return fd;
}

static int
count_entries(int dirfd, int tmp_only)
{
	DIR		*dir;
	struct dirent	*de;
	int		 n = 0, fd = dup(dirfd);

	lseek(fd, 0, SEEK_SET);
	if ((dir = fdopendir(fd)) == NULL)
		return -1;
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    strcmp(de->d_name, "..") == 0))
			continue;
		if (!tmp_only || strncmp(de->d_name, ".tmp-", 5) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

static int
read_back(int newfd, const char *name, const unsigned char *want,
    size_t len)
{
	struct blob_reader	*r;
	unsigned char		*got = malloc(len + 1);
	char			 err[256];
	int			 fd, ok;
	ssize_t			 n;

	if ((fd = openat(newfd, name, O_RDONLY)) == -1)
		return 0;
	r = blob_open(fd, pk, sk, NULL, err, sizeof(err));
	if (r == NULL) {
		close(fd);
		return 0;
	}
	n = blob_pread(r, got, len + 1, 0);
	ok = n == (ssize_t)len && memcmp(got, want, len) == 0 &&
	    blob_meta(r)->size == len &&
	    strcmp(blob_meta(r)->folder, "INBOX") == 0;
	blob_close(r);
	close(fd);
	free(got);
	return ok;
}

static struct blob_meta	meta;

static void
test_deliver(void)
{
	unsigned char	*data;
	char		*d, name[STORE_NAME_MAX], err[256], p[300];
	struct stat	 st;
	int		 newfd, mfd;

	test_begin("store_deliver: named by blob id, 0604, readable, no temp");
	d = tempdir();
	snprintf(p, sizeof(p), "%s/new", d);
	test_assert(mkdir(p, 0770) == 0);
	newfd = open(p, O_RDONLY | O_DIRECTORY);
	mfd = msgfd(200000, &data);
	test_assert(store_deliver(newfd, pk, mfd, 200000, &meta, name, err,
	    sizeof(err)) == 0);
	test_assert(strlen(name) == 2 * BLOB_ID_LEN);
	test_assert(fstatat(newfd, name, &st, 0) == 0 &&
	    (st.st_mode & 0777) == 0604);
	test_assert(count_entries(newfd, 1) == 0);
	test_assert(count_entries(newfd, 0) == 1);
	test_assert(read_back(newfd, name, data, 200000));
	free(data);
	close(mfd);
	close(newfd);
	snprintf(p, sizeof(p), "rm -rf %s", d);
	test_assert(system(p) == 0);
	test_end();
}

static void
test_disk_full(void)
{
	unsigned char	*data;
	char		*d, name[STORE_NAME_MAX], err[256], p[300];
	int		 newfd, mfd, r;

	if (skip_unless_root("store_deliver: a full disk"))
		return;
	test_begin("store_deliver: a full disk is ENOSPC and leaves nothing");
	d = tempdir();
	test_assert(mount("tmpfs", d, "tmpfs", 0, "size=64k") == 0);
	snprintf(p, sizeof(p), "%s/new", d);
	test_assert(mkdir(p, 0770) == 0);
	newfd = open(p, O_RDONLY | O_DIRECTORY);
	mfd = msgfd(1 << 20, &data);
	r = store_deliver(newfd, pk, mfd, 1 << 20, &meta, name, err,
	    sizeof(err));
	test_assert(r == -1 && (errno == ENOSPC || errno == EDQUOT));
	test_assert(count_entries(newfd, 0) == 0);
	free(data);
	close(mfd);
	close(newfd);
	test_assert(umount(d) == 0);
	rmdir(d);
	test_end();
}

#ifdef SP_TEST_HOOKS
/* Crash after each step: a final name is always a complete message. */
static void
test_crash_steps(void)
{
	static const char *steps[] = { "written", "fsynced", "renamed" };
	unsigned char	*data;
	char		*d, name[STORE_NAME_MAX], err[256], p[300];
	int		 newfd, mfd, st, i, finals;
	pid_t		 pid;

	test_begin("store_deliver: a crash after each step");
	for (i = 0; i < 3; i++) {
		d = tempdir();
		snprintf(p, sizeof(p), "%s/new", d);
		test_assert(mkdir(p, 0770) == 0);
		newfd = open(p, O_RDONLY | O_DIRECTORY);
		mfd = msgfd(150000, &data);
		if ((pid = fork()) == 0) {
			store_test_crash_at = steps[i];
			(void)store_deliver(newfd, pk, mfd, 150000, &meta, name,
			    err, sizeof(err));
			_exit(0);
		}
		test_assert(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 99);
		finals = count_entries(newfd, 0) - count_entries(newfd, 1);
		if (i < 2) {
			/* before the rename: only a temporary, never acked */
			test_assert(finals == 0);
			test_assert(count_entries(newfd, 1) == 1);
		} else {
			DIR		*dir = fdopendir(dup(newfd));
			struct dirent	*de;

			test_assert(finals == 1);
			while (dir != NULL && (de = readdir(dir)) != NULL)
				if (de->d_name[0] != '.')
					test_assert(read_back(newfd,
					    de->d_name, data, 150000));
			if (dir != NULL)
				closedir(dir);
		}
		free(data);
		close(mfd);
		close(newfd);
		snprintf(p, sizeof(p), "rm -rf %s", d);
		test_assert(system(p) == 0);
	}
	test_end();
}
#endif

int
main(void)
{
	static void (*tests[])(void) = {
		test_layout, test_deliver, test_disk_full,
#ifdef SP_TEST_HOOKS
		test_crash_steps,
#endif
		NULL
	};

	if (sodium_init() < 0 || (sk = sodium_malloc(32)) == NULL)
		return 1;
	crypto_box_keypair(pk, sk);
	strlcpy(meta.folder, "INBOX", sizeof(meta.folder));
	strlcpy(meta.rcpt, "demo@example.test", sizeof(meta.rcpt));
	return test_run(tests);
}
