// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* errbuf.c - see errbuf.h. */
#include <stdarg.h>
#include <stdio.h>

#include "errbuf.h"

void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
