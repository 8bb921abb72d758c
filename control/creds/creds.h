/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * API tokens: made here, shown once, stored only as SHA-256 hashes.
 *
 *   slk_3fa9c2d1e0b4_Vt9w...43 base64url chars...   (token as a client sends it)
 *   └┬┘ └────┬─────┘ └──────────┬───────────────┘
 *  prefix   id: 12 hex    secret: 256 random bits (getrandom), base64url, no '='
 *
 * The prefix makes a leaked token recognisable (secret scanners, logs); the id
 * names the token in lists, audit lines and revocations without being secret.
 * The stored hash is SHA-256 of the whole token string. Lookups compare every
 * candidate hash in constant time (no early exit).
 *
 * The store is a file in ctld's state_dir (tokens.jsonl), one JSON object
 * per line, rewritten whole (temporary file, fsync, rename) on every change:
 *
 *   {"id":"3fa9c2d1e0b4","principal":"web","sha256":"<64 hex>",
 *    "created":1795000000,"expires":0,"revoked":0}
 *
 * Not thread-safe: one owner (ctld's main loop).
 */
#ifndef SLUICE_CREDS_H
#define SLUICE_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CREDS_PREFIX "slk_"
#define CREDS_ID_LEN 12
#define CREDS_SECRET_BYTES 32
#define CREDS_TOKEN_LEN (4 + CREDS_ID_LEN + 1 + 43) /* slk_ + id + _ + base64url(32) */
#define CREDS_NAME_MAX 64
#define CREDS_MAX 65536 /* tokens in one store */

struct cred {
	char id[CREDS_ID_LEN + 1];
	char principal[CREDS_NAME_MAX + 1];
	uint8_t sha256[32];
	int64_t created;  /* Unix seconds */
	int64_t expires;  /* 0 = never */
	int64_t revoked;  /* 0 = live, else when */
	bool from_config; /* provisioned in the YAML file, not in the store file */
};

struct creds {
	char path[4096]; /* the store file; "" = memory only */
	unsigned n, cap;
	struct cred *c;
};

/* SHA-256 of len bytes. */
void creds_sha256(const void *p, size_t len, uint8_t out[32]);

/* Lowercase hex of n bytes into out (2n + 1 bytes with the NUL). */
void creds_hex(const uint8_t *p, size_t n, char *out);
/* Parse exactly 2n lowercase or uppercase hex digits; 0 or -1. */
int creds_unhex(const char *s, uint8_t *out, size_t n);

/*
 * Open the store at path (a missing file is an empty store; the directory
 * must exist). 0, or -1 with "path:line: what is wrong" in err (a damaged
 * store is not silently emptied).
 */
int creds_open(struct creds *s, const char *path, char *err, size_t errlen);
void creds_close(struct creds *s);

/*
 * Make a token for principal (expires 0 = never), add it, save the store.
 * The token string goes to token_out (CREDS_TOKEN_LEN + 1 bytes); it exists
 * nowhere else. 0, or -1 with err (randomness or the file failed: nothing
 * added). Principals are 1..CREDS_NAME_MAX of [A-Za-z0-9_.:-] (as in the
 * YAML file); expires must be 0 or after now.
 */
int creds_create(struct creds *s, const char *principal, int64_t now, int64_t expires,
		 char token_out[CREDS_TOKEN_LEN + 1], struct cred *made, char *err, size_t errlen);

/* Add a provisioned token (from the YAML file; not saved to the store file). */
int creds_add_config(struct creds *s, const char *id, const char *principal,
		     const uint8_t sha256[32], int64_t expires, char *err, size_t errlen);
/* Drop every from_config token (before a reload adds the new file's). */
void creds_drop_config(struct creds *s);

/*
 * Revoke by id (sets revoked = now, saves; an already revoked token keeps its
 * time). 0; -1 unknown id (err says so) or file error. A from_config token
 * is refused (-1): a revocation would not survive a restart, so it ends by
 * removing it from the YAML file.
 */
int creds_revoke(struct creds *s, const char *id, int64_t now, char *err, size_t errlen);

/*
 * Revoke every live store token of principal (from_config ones: as above);
 * how many. Saves when any; should the save fail they stay revoked in memory.
 */
unsigned creds_revoke_principal(struct creds *s, const char *principal, int64_t now);

enum creds_verdict {
	CREDS_OK = 0,
	CREDS_UNKNOWN, /* no token has that hash (or it is not a token at all) */
	CREDS_EXPIRED,
	CREDS_REVOKED,
};

/*
 * Which token a client presented: SHA-256 of the len bytes, compared against
 * every stored hash in constant time. *which = the matching entry (also for
 * EXPIRED and REVOKED), NULL for UNKNOWN.
 */
enum creds_verdict creds_check(const struct creds *s, const uint8_t *token, size_t len, int64_t now,
			       const struct cred **which);

const char *creds_verdict_name(enum creds_verdict v);

/* Entry by id, NULL if none. */
const struct cred *creds_find(const struct creds *s, const char *id);

#endif
