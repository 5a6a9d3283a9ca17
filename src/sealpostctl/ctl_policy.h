/* SPDX-License-Identifier: ISC */
/* ctl_policy.h - sealpostctl policy check|explain (ctl_policy.c). */
#ifndef SP_CTL_POLICY_H
#define SP_CTL_POLICY_H

int	ctl_policy_is_command(const char *word);
/* argv[0] is "policy"; returns the exit status. */
int	ctl_policy_main(const char *conffile, int argc, char **argv);

#endif
