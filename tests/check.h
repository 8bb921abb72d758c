/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one assertion macro of sluice's C tests: counts checks, reports each
 * failure with file:line and the expression, and lets the test go on so a
 * run shows every failure. A test's main ends with CHECK_SUMMARY().
 * One test program per translation unit: the counters are file-static.
 */
#ifndef SLUICE_TESTS_CHECK_H
#define SLUICE_TESTS_CHECK_H

#include <stdio.h>

static int failures;
static int checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

/* Print the counts; the exit status for main. */
#define CHECK_SUMMARY() (printf("%d checks, %d failed\n", checks, failures), failures ? 1 : 0)

#endif
