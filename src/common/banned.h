/* SPDX-License-Identifier: ISC */
/*
 * banned.h - functions that must not appear in sealpost code.
 *
 * Included last in every .c file of ours, so that a use of one of these
 * is a compile error.  Use strlcpy/snprintf with a truncation check,
 * strtonum, reallocarray and struct buf instead.
 */
#ifndef SP_BANNED_H
#define SP_BANNED_H
#undef alloca
#pragma GCC poison strcpy strcat sprintf vsprintf gets strtok atoi atol alloca
#endif
