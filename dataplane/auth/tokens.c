/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "tokens.h"

#define LINE_MAX_BYTES 4094 /* per line, newline not counted */

void
auth_hash(const uint8_t *token, uint32_t len, uint8_t out[AUTH_HASH_BYTES])
{
	mbedtls_sha256_ret(token, len, out, 0);
}

int
auth_lookup(const struct auth_table *t, const uint8_t *token, uint32_t len)
{
	uint8_t h[AUTH_HASH_BYTES];
	unsigned i, j;
	int found = -1;

	auth_hash(token, len, h);
	for (i = 0; i < t->n; i++) {
		uint8_t diff = 0;

		for (j = 0; j < AUTH_HASH_BYTES; j++)
			diff |= (uint8_t)(h[j] ^ t->e[i].hash[j]);
		/* branch-free select: found = i when diff == 0 */
		{
			int match = ((int)diff - 1) >> 8 & 1; /* 1 iff diff == 0 */

			found = match ? (int)i : found;
		}
	}
	return found;
}

uint64_t
auth_cred_of_hash(const uint8_t h[AUTH_HASH_BYTES])
{
	uint64_t id = 0;
	unsigned i;

	for (i = 0; i < AUTH_CRED_BITS / 8; i++)
		id = id << 8 | h[i];
	return id;
}

static int
cmp_cred(const void *a, const void *b)
{
	const struct auth_cred *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
auth_table_index(struct auth_table *t)
{
	unsigned i;

	if (t->n_creds)
		qsort(t->creds, t->n_creds, sizeof(t->creds[0]), cmp_cred);
	if (t->n_bans)
		qsort(t->bans, t->n_bans, sizeof(t->bans[0]), cmp_u32);
	for (i = 1; i < t->n_creds; i++)
		if (t->creds[i].id == t->creds[i - 1].id)
			return -1;
	return 0;
}

int
auth_find_cred(const struct auth_table *t, uint64_t id)
{
	unsigned lo = 0, hi = t->n_creds;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (t->creds[mid].id == id)
			return (int)t->creds[mid].entry;
		if (t->creds[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

bool
auth_banned(const struct auth_table *t, uint32_t addr)
{
	unsigned lo = 0, hi = t->n_bans;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (t->bans[mid] == addr)
			return true;
		if (t->bans[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * GCRA (the token bucket as one word): tat is the time at which the bucket
 * would be full again. A cost of c units at rate r adds c/r seconds; it is
 * allowed when the new tat lies at most burst/r seconds ahead of now. One
 * compare-and-swap makes a take exact across lcores.
 */
static uint64_t
gcra_ns(uint64_t units, uint64_t rate)
{
	const uint64_t ns = 1000000000ull;

	/* units * 1e9 / rate without overflowing: rate < 2^64 / 1e9 is not given */
	return units / rate * ns + (uint64_t)((double)(units % rate) * 1e9 / (double)rate);
}

static bool
gcra_take(_Atomic uint64_t *tat, uint64_t now, uint64_t cost, uint64_t rate, uint64_t burst)
{
	uint64_t inc, tau, old, next;

	if (rate == 0)
		return true;
	inc = gcra_ns(cost, rate);
	tau = gcra_ns(burst ? burst : rate, rate);
	old = atomic_load_explicit(tat, memory_order_relaxed);
	do {
		next = (old > now ? old : now) + inc;
		/* A full bucket passes one job larger than the burst: never refused forever. */
		if (next - now > tau && old > now)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(tat, &old, next, memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

bool
auth_rate_take(struct auth_entry *e, uint64_t now_ns, uint64_t bytes)
{
	if (!gcra_take(&e->jobs_tat, now_ns, 1, e->jobs_per_s, e->jobs_burst))
		return false;
	if (!gcra_take(&e->bytes_tat, now_ns, bytes, e->bytes_per_s, e->bytes_burst)) {
		/* give the job back: the two limits move together */
		if (e->jobs_per_s)
			atomic_fetch_sub_explicit(&e->jobs_tat, gcra_ns(1, e->jobs_per_s),
						  memory_order_relaxed);
		return false;
	}
	return true;
}

/* A name or a token hash already on an earlier line: "why" says which. */
static int
duplicate(const struct auth_table *t, const struct auth_entry *e, char *why, size_t len)
{
	unsigned i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->e[i].principal.name, e->principal.name) == 0) {
			snprintf(why, len, "principal %s is defined twice", e->principal.name);
			return -1;
		}
		if (memcmp(t->e[i].hash, e->hash, AUTH_HASH_BYTES) == 0) {
			snprintf(why, len,
				 "principal %s has the same token hash as %s: a token names one "
				 "principal",
				 e->principal.name, t->e[i].principal.name);
			return -1;
		}
	}
	return 0;
}

/* Two hashes whose first 6 bytes agree would share a credential id. */
static int
duplicate_cred(const struct auth_table *t, const struct auth_entry *e, char *why, size_t len)
{
	unsigned i;

	for (i = 0; i < t->n; i++) {
		if (auth_cred_of_hash(t->e[i].hash) == auth_cred_of_hash(e->hash)) {
			snprintf(why, len,
				 "principals %s and %s have token hashes that begin alike (first "
				 "%d bits): make a new token for one of them",
				 t->e[i].principal.name, e->principal.name, AUTH_CRED_BITS);
			return -1;
		}
	}
	return 0;
}

/* Split a comma list into dst[max][width]; returns count or -1. */
static int
split_list(const char *s, char *dst, unsigned max, size_t width, bool names)
{
	unsigned n = 0;

	while (*s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		size_t i;

		if (len == 0 || len >= width || n >= max)
			return -1;
		for (i = 0; i < len; i++)
			if (!(s[i] == '*' || wire_check_name(s + i, 1, 1) == 0) ||
			    (!names && s[i] == '*'))
				return -1;
		memcpy(dst + n * width, s, len);
		dst[n * width + len] = '\0';
		n++;
		s += len + (end ? 1 : 0);
		if (end && !*s)
			return -1;
	}
	return (int)n;
}

static int
parse_line(struct auth_entry *e, char *line, char *why, size_t whylen)
{
	char *f[8], *save = NULL, *tok;
	unsigned n = 0;
	char *end;
	unsigned long v;
	int c;

	for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == 7) {
			snprintf(why, whylen, "more than 7 fields");
			return -1;
		}
		f[n++] = tok;
	}
	if (n != 7) {
		snprintf(why, whylen,
			 "expected 7 fields: NAME ROLE SHA256 QUEUE-GLOBS TYPES MAX-PAYLOAD "
			 "MAX-PRIORITY, got %u",
			 n);
		return -1;
	}
	memset(e, 0, sizeof(*e));
	if (wire_check_name(f[0], strlen(f[0]), POL_NAME_MAX)) {
		snprintf(why, whylen, "principal name '%s': use 1-%u of [A-Za-z0-9_.:-]", f[0],
			 POL_NAME_MAX);
		return -1;
	}
	strcpy(e->principal.name, f[0]);
	if (!strcmp(f[1], "producer"))
		e->principal.roles = WIRE_ROLE_PRODUCER;
	else if (!strcmp(f[1], "consumer"))
		e->principal.roles = WIRE_ROLE_CONSUMER;
	else if (!strcmp(f[1], "both"))
		e->principal.roles = WIRE_ROLE_BOTH;
	else {
		snprintf(why, whylen, "role '%s': use producer, consumer or both", f[1]);
		return -1;
	}
	if (strlen(f[2]) != 2 * AUTH_HASH_BYTES) {
		snprintf(why, whylen, "token hash: 64 hex digits of SHA-256 expected");
		return -1;
	}
	if (wire_unhex(f[2], strlen(f[2]), e->hash, AUTH_HASH_BYTES)) {
		snprintf(why, whylen, "token hash: not hexadecimal");
		return -1;
	}
	c = split_list(f[3], &e->principal.globs[0][0], POL_GLOBS_MAX, POL_NAME_MAX + 1, true);
	if (c < 1) {
		snprintf(why, whylen,
			 "queue globs '%s': comma-separated, at most %u, each 1-%u of "
			 "[A-Za-z0-9_.:-*]",
			 f[3], POL_GLOBS_MAX, POL_NAME_MAX);
		return -1;
	}
	e->principal.n_globs = (uint8_t)c;
	if (strcmp(f[4], "*") != 0) {
		c = split_list(f[4], &e->principal.types[0][0], POL_TYPES_MAX,
			       WIRE_TYPE_NAME_MAX + 1, false);
		if (c < 1) {
			snprintf(why, whylen,
				 "job types '%s': '*' or comma-separated names, at most %u", f[4],
				 POL_TYPES_MAX);
			return -1;
		}
		e->principal.n_types = (uint8_t)c;
	}
	errno = 0;
	v = strtoul(f[5], &end, 10);
	if (errno || *end || f[5][0] == '-' || v > WIRE_PAYLOAD_BYTES_CAP) {
		snprintf(why, whylen, "max payload '%s': bytes from 0 to %u", f[5],
			 WIRE_PAYLOAD_BYTES_CAP);
		return -1;
	}
	e->principal.max_payload_bytes = (uint32_t)v;
	v = strtoul(f[6], &end, 10);
	if (*end || f[6][0] == '-' || v > WIRE_PRIORITY_MAX) {
		snprintf(why, whylen, "max priority '%s': 0 to %u", f[6], WIRE_PRIORITY_MAX);
		return -1;
	}
	e->principal.max_priority = (uint8_t)v;
	return 0;
}

int
auth_load(struct auth_table *t, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, why[256];
	size_t linecap = 0;
	unsigned lineno = 0, cap = 0;
	ssize_t got;

	memset(t, 0, sizeof(*t));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * getline gives the real length: a line is judged whole, before its
	 * comment is cut, so neither an over-long line nor a NUL byte can make
	 * the rest of a line (say, of a comment) read as a line of its own.
	 */
	while ((got = getline(&line, &linecap, f)) != -1) {
		char *p = line, *hash;
		size_t len = (size_t)got;

		lineno++;
		if (len - (len && line[len - 1] == '\n') > LINE_MAX_BYTES) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
				 LINE_MAX_BYTES);
			goto fail;
		}
		if (memchr(line, '\0', len)) {
			snprintf(err, errlen, "%s:%u: NUL byte in the line (not a text file?)",
				 path, lineno);
			goto fail;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		len = strlen(p);
		while (len && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ' ||
			       p[len - 1] == '\t'))
			p[--len] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			continue;
		if (t->n == cap) {
			struct auth_entry *ne = realloc(t->e, (cap ? cap * 2 : 16) * sizeof(*ne));

			if (!ne) {
				snprintf(err, errlen, "%s:%u: out of memory", path, lineno);
				goto fail;
			}
			t->e = ne;
			cap = cap ? cap * 2 : 16;
		}
		if (parse_line(&t->e[t->n], p, why, sizeof(why)) ||
		    duplicate(t, &t->e[t->n], why, sizeof(why)) ||
		    duplicate_cred(t, &t->e[t->n], why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto fail;
		}
		t->n++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(f);
	if (t->n == 0) {
		snprintf(err, errlen, "%s: no principals (nobody could connect)", path);
		auth_free(t);
		return -1;
	}
	t->creds = calloc(t->n, sizeof(*t->creds));
	if (!t->creds) {
		snprintf(err, errlen, "%s: out of memory", path);
		auth_free(t);
		return -1;
	}
	for (t->n_creds = 0; t->n_creds < t->n; t->n_creds++)
		t->creds[t->n_creds] =
			(struct auth_cred){ .id = auth_cred_of_hash(t->e[t->n_creds].hash),
					    .entry = t->n_creds };
	auth_table_index(t); /* duplicate_cred ruled out equal ids */
	return 0;
fail:
	free(line);
	fclose(f);
	auth_free(t);
	return -1;
}

void
auth_free(struct auth_table *t)
{
	free(t->e);
	free(t->creds);
	free(t->bans);
	t->e = NULL;
	t->creds = NULL;
	t->bans = NULL;
	t->n = t->n_creds = t->n_bans = 0;
}
