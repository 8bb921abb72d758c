/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The audit log: append-only JSON lines, each carrying the SHA-256 of the
 * line before it, so that editing, removing or reordering any line breaks
 * the chain at that point (tamper-evident, not tamper-proof: whoever can
 * rewrite the whole file can forge a new chain; SECURITY.md says so).
 *
 *   {"seq":1,"ts":"2026-11-23T10:00:00.123Z","prev":"000...0","event":"ctld.start",...}
 *   {"seq":2,"ts":"...","prev":"<sha256 hex of line 1, without its newline>",...}
 *
 * Keys in this order: seq (1, 2, ...), ts (UTC, ms), prev (64 hex; 64 zeros
 * for the first line), event, then the caller's fields in the order given.
 * Values are JSON strings or integers; strings are escaped (\" \\ \n \t
 * \u00XX for other control bytes and for bytes >= 0x7f, so every line is
 * printable ASCII). Never payload bytes, never secrets: callers pass names,
 * ids, addresses and outcomes only.
 *
 * Every line is written with one write(2) on an O_APPEND descriptor and
 * fdatasync'ed before audit_append returns. Not thread-safe: one owner.
 */
#ifndef SLUICE_AUDIT_H
#define SLUICE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_LINE_MAX 4096 /* bytes of a line, its newline included */
#define AUDIT_FIELDS_MAX 64 /* caller's fields in one line */

struct audit {
	int fd;
	uint64_t seq;       /* of the last line written */
	char last_hash[65]; /* hex SHA-256 of the last line */
	char path[4096];
};

/* One field: key and either a string (s != NULL) or an integer. */
struct audit_kv {
	const char *key;
	const char *s;
	int64_t i;
};

/*
 * Open (create mode 0600) the log at path and continue its chain: the last
 * line is read back for its seq and hash. A last line that does not parse
 * is an error (the chain cannot continue from it): -1 with err.
 */
int audit_open(struct audit *a, const char *path, char *err, size_t errlen);
void audit_close(struct audit *a);

/*
 * Append one line: event plus n fields. 0, or -1 (errno; the line was not
 * written and the chain did not advance). A line longer than
 * AUDIT_LINE_MAX has its longest string values truncated (marked "...").
 * EINVAL: empty event, a NULL or empty key, a key seq/ts/prev/event, more
 * than AUDIT_FIELDS_MAX fields, now_ms outside years 1970..9999;
 * EMSGSIZE: too long even with every string value cut.
 */
int audit_append(struct audit *a, int64_t now_ms, const char *event, const struct audit_kv *kv,
		 unsigned n);

/*
 * Check the chain of the file at path: every line parses as the format
 * above, seq counts up from 1 and prev is the hash of the line before. 0 and
 * *lines = count when intact; -1 with *bad_line = the first line that breaks
 * it (1-based) and the reason in err.
 */
int audit_verify(const char *path, uint64_t *lines, uint64_t *bad_line, char *err, size_t errlen);

/* Write the last n lines of the file at path to fd. 0 or -1 (errno). */
int audit_tail(const char *path, unsigned n, int fd);

#endif
