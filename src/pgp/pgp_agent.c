/* SPDX-License-Identifier: ISC */
/*
 * pgp_agent.c - the organization's signing key in the pgp service: its
 * own gpg-agent, started here inside the jail and sandbox, and GPGME
 * signing with it (pgp_sign.h).
 *
 * gpg 2.2 keeps secret keys in gpg-agent only.  The agent runs as our
 * child in --supervised mode on a socket we bind in the signing home
 * (the tmpfs jail_pgp makes, the only place of the jail we may write),
 * so no agent ever daemonizes: the kernel ends it when this process
 * ends (PR_SET_PDEATHSIG), and a restarted pgp service starts a fresh
 * one.  The key has no passphrase (sealpostctl key import --signing
 * refuses one); GPGME's pinentry mode is "cancel", so a passphrase asked
 * for anyway fails at once instead of waiting for a person.
 *
 * Process:  pgp (user _sp_pgp), after sandbox_enter: the agent inherits
 *           the pgp role's seccomp filter and Landlock rules (sandbox.c).
 * Trust:    the key is the administrator's (root's DATA_DIR/keys/signing,
 *           read-only in the jail).  What we sign is the hostile
 *           message's part as pgp_sign.c made it; gpg only hashes it.
 *           Nothing of the key is ever read here: only the agent does.
 * See also: pgp_sign.h, privdrop.c jail_pgp, sealpostctl/ctl_key_sign.c,
 *           docs/design.md "Signing".
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gpgme.h>

#include "buf.h"
#include "pgp_keys.h"
#include "pgp_sign.h"
#include "banned.h"

#define PA_AGENT	"/usr/bin/gpg-agent"
#define PA_SOCKET	"S.gpg-agent"	/* gpg's name for it in the home */
#define PA_BACKLOG	16

/* The agent: our child, fd 3 its listening socket (sd_listen_fds). */
static void
pa_exec(int s, const char *home)
{
	char	 pid[32];
	char	*argv[] = { "gpg-agent", "--homedir", (char *)home,
		    "--supervised", "--disable-scdaemon",
		    "--no-allow-external-cache", NULL };
	char	*envp[] = { "LISTEN_FDS=1", pid, NULL };
	int	 fd;

	/* the kernel ends it with us; we may be gone already */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() == 1)
		_exit(1);
	if (s == 3) {
		if (fcntl(s, F_SETFD, 0) == -1)
			_exit(1);
	} else if (dup2(s, 3) == -1)
		_exit(1);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
	}
	snprintf(pid, sizeof(pid), "LISTEN_PID=%ld", (long)getpid());
	execve(PA_AGENT, argv, envp);
	_exit(127);
}

/* The socket, bound and listening, and the agent started on it. */
static int
pa_spawn(const char *home, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	pid_t			pid;
	int			s, n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", home,
	    PA_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "agent socket path too long");
		return -1;
	}
	/* the home is a fresh tmpfs: no socket of an earlier agent */
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(s, PA_BACKLOG) == -1) {
		snprintf(err, errlen, "agent socket: %s", strerror(errno));
		if (s != -1)
			close(s);
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(s);
		return -1;
	}
	if (pid == 0)
		pa_exec(s, home);
	close(s);
	return 0;
}

gpgme_ctx_t
pgp_agent_start(const char *home, char *fpr, size_t fprlen, char *err,
    size_t errlen)
{
	gpgme_ctx_t	ctx = NULL;
	gpgme_key_t	key = NULL, more = NULL;
	gpgme_subkey_t	sk;
	gpgme_error_t	ge;
	char		path[128];
	int		n, can_sign = 0;

	err[0] = '\0';
	fpr[0] = '\0';
	n = snprintf(path, sizeof(path), "%s/pubring.kbx", home);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "signing home path too long");
		return NULL;
	}
	/* jail_pgp links it only when DATA_DIR/keys/signing exists */
	if (access(path, R_OK) == -1) {
		if (errno != ENOENT)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (pa_spawn(home, err, errlen) == -1 ||
	    (ctx = pgp_ctx_new(home, err, errlen)) == NULL)
		return NULL;
	if ((ge = gpgme_set_pinentry_mode(ctx,
	    GPGME_PINENTRY_MODE_CANCEL)) != 0) {
		snprintf(err, errlen, "GPGME: %s", gpgme_strerror(ge));
		goto fail;
	}
	/* exactly one secret key: sealpostctl installs one at a time */
	if ((ge = gpgme_op_keylist_start(ctx, NULL, 1)) != 0 ||
	    (ge = gpgme_op_keylist_next(ctx, &key)) != 0) {
		snprintf(err, errlen, "no secret key (gpg-agent): %s",
		    gpgme_strerror(ge));
		goto fail;
	}
	if (gpgme_op_keylist_next(ctx, &more) == 0) {
		gpgme_key_unref(more);
		snprintf(err, errlen, "more than one secret key");
		goto fail;
	}
	(void)gpgme_op_keylist_end(ctx);
	for (sk = key->subkeys; sk != NULL; sk = sk->next)
		if (sk->can_sign && sk->secret && !sk->revoked &&
		    !sk->expired && !sk->disabled && !sk->invalid)
			can_sign = 1;
	if (!can_sign || key->revoked || key->expired || key->disabled ||
	    key->subkeys == NULL || key->subkeys->fpr == NULL) {
		snprintf(err, errlen, "the signing key cannot sign (expired, "
		    "revoked or no signing subkey)");
		goto fail;
	}
	if ((ge = gpgme_signers_add(ctx, key)) != 0) {
		snprintf(err, errlen, "GPGME: %s", gpgme_strerror(ge));
		goto fail;
	}
	strlcpy(fpr, key->subkeys->fpr, fprlen);
	gpgme_key_unref(key);
	return ctx;
fail:
	if (key != NULL)
		gpgme_key_unref(key);
	gpgme_release(ctx);
	return NULL;
}

int
pgp_agent_sign(void *arg, const unsigned char *data, size_t len,
    struct buf *sig, char *micalg, size_t micalglen, char *err,
    size_t errlen)
{
	gpgme_ctx_t		 ctx = arg;
	gpgme_data_t		 din = NULL, dout = NULL;
	gpgme_sign_result_t	 r;
	gpgme_error_t		 ge;
	const char		*hash;
	char			*s = NULL;
	size_t			 slen = 0, i;
	int			 ret = -1;

	if ((ge = gpgme_data_new_from_mem(&din, (const char *)data, len,
	    0)) != 0 || (ge = gpgme_data_new(&dout)) != 0) {
		snprintf(err, errlen, "gpgme: %s", gpgme_strerror(ge));
		goto done;
	}
	/* RFC 3156 5: a binary signature of the canonical (CR LF) bytes */
	gpgme_set_armor(ctx, 1);
	gpgme_set_textmode(ctx, 0);
	ge = gpgme_op_sign(ctx, din, dout, GPGME_SIG_MODE_DETACH);
	gpgme_set_armor(ctx, 0);
	if (ge != 0) {
		snprintf(err, errlen, "gpg: %s", gpgme_strerror(ge));
		goto done;
	}
	if ((r = gpgme_op_sign_result(ctx)) == NULL ||
	    r->invalid_signers != NULL || r->signatures == NULL ||
	    r->signatures->next != NULL ||
	    (hash = gpgme_hash_algo_name(r->signatures->hash_algo)) == NULL) {
		snprintf(err, errlen, "gpg made no signature");
		goto done;
	}
	/* RFC 3156 5: "pgp-" and the hash's name in lower case */
	if ((size_t)snprintf(micalg, micalglen, "pgp-%s", hash) >=
	    micalglen) {
		snprintf(err, errlen, "hash name too long");
		goto done;
	}
	for (i = 0; micalg[i] != '\0'; i++)
		micalg[i] = (char)tolower((unsigned char)micalg[i]);
	s = gpgme_data_release_and_get_mem(dout, &slen);
	dout = NULL;
	if (s == NULL || slen == 0 || buf_add(sig, s, slen) == -1) {
		snprintf(err, errlen, "bad signature from gpg");
		goto done;
	}
	ret = 0;
done:
	if (s != NULL)
		gpgme_free(s);
	if (din != NULL)
		gpgme_data_release(din);
	if (dout != NULL)
		gpgme_data_release(dout);
	return ret;
}
