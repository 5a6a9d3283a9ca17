/* SPDX-License-Identifier: ISC */
/*
 * ctl_accounts.h - sealpostctl's account commands (domain, user, alias,
 * recovery), which work on DATA_DIR/users.db directly.
 */
#ifndef SP_CTL_ACCOUNTS_H
#define SP_CTL_ACCOUNTS_H

/* Is word the first word of an account command? */
int	ctl_accounts_is_command(const char *word);
/*
 * Run the account command in argv[0..argc) (argv[0] is "domain", "user",
 * "alias" or "recovery") with the configuration conffile.  Returns the
 * exit status: 0 done, 1 refused or failed (one line on stderr, nothing
 * changed), 2 usage.
 */
int	ctl_accounts_main(const char *conffile, int argc, char **argv);

#endif
