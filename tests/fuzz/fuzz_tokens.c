/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the token file parser (dataplane/auth, auth_load) on
 * arbitrary file contents.
 *
 * Each input is written to one in-memory file (memfd, made at start), loaded
 * through its /proc/self/fd path with auth_load, then freed with auth_free (LeakSanitizer
 * sees what is left). abort() unless:
 *   - it returned 0 with n > 0 principals, each within the bounds tokens.h
 *     and policy.h document (name 1-POL_NAME_MAX of [A-Za-z0-9_.:-], role
 *     producer/consumer/both, 1-POL_GLOBS_MAX globs of 1-POL_NAME_MAX bytes,
 *     0-POL_TYPES_MAX type names without '*', max payload <=
 *     WIRE_PAYLOAD_BYTES_CAP, max priority <= WIRE_PRIORITY_MAX); and the
 *     file has exactly n logical lines ('\n'-separated) with something
 *     before any '#', none of them longer than the parser's line limit;
 *   - or it returned -1 with "PATH:LINE: ..." in err, LINE within the file's
 *     lines, or "PATH: no principals ..." (a whole-file condition, no line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tokens.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tokens.c reads lines with a 4096-byte buffer: 4094 bytes and the newline. */
#define LINE_LIMIT 4094

static char path[64];
static int fd = -1;

static void __attribute__((noreturn)) invariant(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_tokens: INVARIANT VIOLATED (MISMATCH): %s\n", what);
	if (err)
		fprintf(stderr, "fuzz_tokens: auth_load said: %s\n", err);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("sluice-fuzz-tokens", 0);
	if (fd < 0) {
		perror("fuzz_tokens: memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

/*
 * What a line-oriented reading of the file says: how many lines hold a
 * principal (text before any '#' or NUL that is not only blanks), and the
 * longest line.
 */
static void
model(const uint8_t *d, size_t size, unsigned *principals, size_t *longest, unsigned *lines)
{
	size_t start = 0;

	*principals = 0;
	*longest = 0;
	*lines = 0;
	while (start < size) {
		const uint8_t *nl = memchr(d + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - d) : size, i;
		bool content = false;

		(*lines)++;
		if (end - start > *longest)
			*longest = end - start;
		for (i = start; i < end && d[i] != '#' && d[i] != '\0'; i++)
			if (d[i] != ' ' && d[i] != '\t' && d[i] != '\r')
				content = true;
		if (content)
			(*principals)++;
		start = end + 1;
	}
}

static bool
name_ok(const char *s, size_t max, bool star)
{
	size_t len = strnlen(s, max + 1);

	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '*') {
			if (!star)
				return false;
		} else if (wire_check_name(s + i, 1, 1) != 0) {
			return false;
		}
	}
	return true;
}

static void
check_principal(const struct pol_principal *p)
{
	if (!name_ok(p->name, POL_NAME_MAX, false))
		invariant("principal name out of bounds", NULL);
	if (p->roles != WIRE_ROLE_PRODUCER && p->roles != WIRE_ROLE_CONSUMER &&
	    p->roles != WIRE_ROLE_BOTH)
		invariant("role out of range", NULL);
	if (p->n_globs < 1 || p->n_globs > POL_GLOBS_MAX)
		invariant("glob count out of range", NULL);
	for (unsigned i = 0; i < p->n_globs; i++)
		if (!name_ok(p->globs[i], POL_NAME_MAX, true))
			invariant("queue glob out of bounds", NULL);
	if (p->n_types > POL_TYPES_MAX)
		invariant("type count out of range", NULL);
	for (unsigned i = 0; i < p->n_types; i++)
		if (!name_ok(p->types[i], WIRE_TYPE_NAME_MAX, false))
			invariant("job type out of bounds", NULL);
	if (p->max_payload_bytes > WIRE_PAYLOAD_BYTES_CAP)
		invariant("max payload above WIRE_PAYLOAD_BYTES_CAP", NULL);
	if (p->max_priority > WIRE_PRIORITY_MAX)
		invariant("max priority above WIRE_PRIORITY_MAX", NULL);
}

static void
check_error(const char *err, unsigned lines)
{
	size_t plen = strlen(path);
	const char *rest;
	char *end;
	unsigned long line;

	if (memchr(err, '\0', 512) == NULL || err[0] == '\0')
		invariant("error message empty or not terminated", NULL);
	if (strncmp(err, path, plen) != 0)
		invariant("error message does not start with the path", err);
	rest = err + plen;
	if (!strncmp(rest, ": no principals", 15))
		return;
	if (rest[0] != ':' || rest[1] < '1' || rest[1] > '9')
		invariant("error message has no line number", err);
	line = strtoul(rest + 1, &end, 10);
	if (*end != ':' || end[1] != ' ' || end[2] == '\0')
		invariant("error message is not PATH:LINE: what", err);
	if (line > lines)
		invariant("error names a line the file does not have", err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_table t;
	char err[512];
	unsigned principals, lines;
	size_t longest;
	int rc;

	if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz_tokens: writing the token file");
		abort();
	}
	memset(err, 0, sizeof(err));
	rc = auth_load(&t, path, err, sizeof(err));
	model(data, size, &principals, &longest, &lines);
	if (rc == 0) {
		if (t.n == 0 || t.e == NULL)
			invariant("auth_load returned 0 without principals", NULL);
		for (unsigned i = 0; i < t.n; i++)
			check_principal(&t.e[i].principal);
		if (longest > LINE_LIMIT)
			invariant("accepted a file with a line longer than the limit", NULL);
		if (t.n != principals)
			invariant("principal count differs from the file's non-comment lines",
				  NULL);
	} else if (rc == -1) {
		if (t.n != 0 || t.e != NULL)
			invariant("failed load left entries behind", err);
		check_error(err, lines);
	} else {
		invariant("auth_load returned neither 0 nor -1", err);
	}
	auth_free(&t);
	return 0;
}
