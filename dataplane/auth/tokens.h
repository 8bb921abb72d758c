/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token file: principals, their SHA-256 token hashes and their ACLs. Until
 * sluice-ctld exists this is what the main lcore authenticates against; the
 * file never holds a token, only its hash.
 *
 * One principal per line, '#' starts a comment:
 *
 *   NAME ROLE SHA256-HEX QUEUE-GLOBS TYPES MAX-PAYLOAD MAX-PRIORITY
 *   demo both 9f86d0...  emails,billing.* *  262144      15
 *
 * ROLE is producer, consumer or both; QUEUE-GLOBS and TYPES are
 * comma-separated ('*' in a glob matches any run; TYPES '*' = any type).
 * `sluiced --hash-token TOKEN` (or `printf %s TOKEN | sha256sum`) gives the hash.
 */
#ifndef SLUICE_TOKENS_H
#define SLUICE_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define AUTH_HASH_BYTES 32

struct auth_entry {
	uint8_t hash[AUTH_HASH_BYTES];
	struct pol_principal principal;
};

struct auth_table {
	uint64_t gen; /* set by whoever publishes the table (lcore.h) */
	unsigned n;
	struct auth_entry *e;
};

/*
 * Load path into t (replacing nothing: t is filled fresh). Returns 0, or -1
 * with "path:line: what is wrong; what is valid" in err. Two lines with the
 * same name or the same token hash are an error: a token names one principal.
 */
int auth_load(struct auth_table *t, const char *path, char *err, size_t errlen);
void auth_free(struct auth_table *t);

void auth_hash(const uint8_t *token, uint32_t len, uint8_t out[AUTH_HASH_BYTES]);

/*
 * Index of the principal whose hash matches token, or -1. Compares against
 * every entry in constant time (no early exit), so timing does not tell which
 * prefix matched or how many principals there are ahead of it.
 */
int auth_lookup(const struct auth_table *t, const uint8_t *token, uint32_t len);

/*
 * Index of the entry with token hash h, or -1. Not constant time: it re-finds
 * an already authenticated principal in a newer table, h is no secret there.
 */
int auth_find_hash(const struct auth_table *t, const uint8_t h[AUTH_HASH_BYTES]);

/* The entry holding principal p (a pointer into some table's entries). */
static inline const struct auth_entry *
auth_entry_of(const struct pol_principal *p)
{
	return (const struct auth_entry *)(const void *)((const uint8_t *)p -
							 offsetof(struct auth_entry, principal));
}

#endif
