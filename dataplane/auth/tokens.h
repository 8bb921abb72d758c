/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The principal table the I/O lcores read: each principal's ACL and limits,
 * the live credentials (by id) that name them, and the banned source
 * addresses. Published whole by the main lcore (lcore.h), filled either
 * from sluice-ctld's Grants and Bans (sluiced --ctld: sluiced never sees a
 * token or its hash) or from a token file (sluiced --tokens, the standalone
 * mode without ctld), which holds SHA-256 token hashes; the main lcore then
 * authenticates against those itself.
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

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define AUTH_HASH_BYTES 32

/*
 * Credential ids are 48 bits: a ctld token id (12 hex digits), or for a
 * token file line the first 6 bytes of its hash.
 */
#define AUTH_CRED_BITS 48

struct auth_entry {
	uint8_t hash[AUTH_HASH_BYTES]; /* token file mode only; zero from ctld */
	struct pol_principal principal;
	uint32_t max_conns;              /* sessions at once over every I/O lcore; 0: any */
	uint32_t jobs_per_s, jobs_burst; /* 0: no limit; burst 0: one second's worth */
	uint64_t bytes_per_s, bytes_burst;
	/*
	 * Shared by every I/O lcore (atomics): the rate limits' state, as GCRA
	 * theoretical arrival times in ns (a token bucket that is one word, so
	 * one compare-and-swap takes from it exactly across lcores), and the
	 * sessions bound to this entry.
	 */
	_Atomic uint64_t jobs_tat, bytes_tat;
	atomic_uint conns;
};

struct auth_cred {
	uint64_t id;    /* AUTH_CRED_BITS */
	uint32_t entry; /* index in e[] */
};

struct auth_table {
	uint64_t gen; /* set by whoever publishes the table (lcore.h) */
	unsigned n;
	struct auth_entry *e;
	unsigned n_creds;
	struct auth_cred *creds; /* sorted by id (auth_table_index) */
	unsigned n_bans;
	uint32_t *bans; /* IPv4, host order, sorted */
	/* main lcore's list of replaced tables waiting for their grace period */
	struct auth_table *retired_next;
};

/*
 * Load path into t (replacing nothing: t is filled fresh). Returns 0, or -1
 * with "path:line: what is wrong; what is valid" in err. Two lines with the
 * same name or the same token hash are an error: a token names one principal.
 */
int auth_load(struct auth_table *t, const char *path, char *err, size_t errlen);
/* Free what t holds (not t itself). */
void auth_free(struct auth_table *t);

/* Sort t's creds and bans for the lookups below. -1 when two creds share an id. */
int auth_table_index(struct auth_table *t);

/* Entry index of credential id, or -1. */
int auth_find_cred(const struct auth_table *t, uint64_t id);

/* Is the IPv4 address (host order) banned? */
bool auth_banned(const struct auth_table *t, uint32_t addr);

/* The credential id of a token file line: its hash's first 6 bytes. */
uint64_t auth_cred_of_hash(const uint8_t h[AUTH_HASH_BYTES]);

/*
 * Take one job of `bytes` payload bytes from e's rate limits at now_ns
 * (monotonic). True when both limits allow it (or are off); false leaves
 * both as they were. Thread-safe: any I/O lcore, lock-free.
 */
bool auth_rate_take(struct auth_entry *e, uint64_t now_ns, uint64_t bytes);

void auth_hash(const uint8_t *token, uint32_t len, uint8_t out[AUTH_HASH_BYTES]);

/*
 * Index of the principal whose hash matches token, or -1. Compares against
 * every entry in constant time (no early exit), so timing does not tell which
 * prefix matched or how many principals there are ahead of it.
 */
int auth_lookup(const struct auth_table *t, const uint8_t *token, uint32_t len);

/* The entry holding principal p (a pointer into some table's entries). */
static inline const struct auth_entry *
auth_entry_of(const struct pol_principal *p)
{
	return (const struct auth_entry *)(const void *)((const uint8_t *)p -
							 offsetof(struct auth_entry, principal));
}

#endif
