/* SPDX-License-Identifier: ISC */
/*
 * ctl_key.h - sealpostctl key import|list|show|export|remove: the
 * organization's OpenPGP keyring; key publish|unpublish|published: its
 * keys of local addresses in the Web Key Directory tree (ctl_key.c).
 */
#ifndef SP_CTL_KEY_H
#define SP_CTL_KEY_H

#include <stddef.h>

/* Is word "key"? */
int	ctl_key_is_command(const char *word);
/*
 * Run the key command in argv[0..argc) (argv[0] is "key") with the
 * configuration conffile.  The exit status: 0 done, 1 refused or failed,
 * 2 usage.
 */
int	ctl_key_main(const char *conffile, int argc, char **argv);

/*
 * key pending [accept|reject ADDRESS], key discovered, key forget
 * ADDRESS (ctl_key_learnt.c): through the running server's control
 * socket sock (NULL: the configuration's).
 */
int	ctl_key_is_learnt_op(int argc, char **argv);
int	ctl_key_learnt_op(const char *conffile, const char *sock, int argc,
	    char **argv);

/* ctl_key.c, for ctl_key_sign.c (see there) */
int	ck_read_input(const char *arg, const char *shown, char **buf_r,
	    size_t *len_r);
void	ck_rmtree(int dfd, int depth);
void	ck_kill_agent(const char *home);

/*
 * ctl_key_sign.c: is argv (argv[0] "key") a command on the signing key
 * (key signing, key import|export|remove --signing)?
 */
int	ctl_key_sign_is_command(int argc, char **argv);
/* It, run: the exit status. */
int	ctl_key_sign_main(const char *conffile, int argc, char **argv);

#endif
