/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * errbuf.h - the one way modules hand a readable message to their caller:
 * functions that can fail take (char *err, size_t errlen) next to their
 * negative-errno return, and fill it with err_set().
 */
#ifndef SEGD_ERRBUF_H
#define SEGD_ERRBUF_H

#include <stddef.h>

/* err_set - printf into @err (nothing when @err is NULL or @errlen 0). */
void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* SEGD_ERRBUF_H */
