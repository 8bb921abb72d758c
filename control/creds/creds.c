/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * API tokens (creds.h). The store file is read by a parser for exactly the
 * line format creds_save() writes; anything else is refused with path:line.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "creds.h"
#include "wire.h"

#define STORE_LINE_MAX 1024 /* a written line is about 220 bytes */
#define ID_TRIES 16         /* random ids colliding 16 times means broken randomness */

void
creds_sha256(const void *p, size_t len, uint8_t out[32])
{
	static const unsigned char empty;

	/* The software implementation cannot fail. */
	(void)mbedtls_sha256_ret(p ? p : &empty, len, out, 0);
}

void
creds_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
creds_unhex(const char *s, uint8_t *out, size_t n)
{
	return wire_unhex(s, strnlen(s, 2 * n + 1), out, n);
}

/* Exactly len lowercase hex digits: the form ids and stored hashes take. */
static bool
is_lower_hex(const char *s, size_t len)
{
	size_t i;

	if (strnlen(s, len + 1) != len)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/*
 * Principal names as ctld_config accepts them: 1..64 of [A-Za-z0-9_.:-].
 * The store writes them unescaped, so this also keeps its lines valid JSON.
 */
static bool
valid_name(const char *s)
{
	size_t len = strnlen(s, CREDS_NAME_MAX + 1), i;

	if (len == 0 || len > CREDS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

/* Fill p with len bytes from the kernel's CSPRNG. 0 or -1 (errno). */
static int
random_bytes(void *p, size_t len)
{
	uint8_t *b = p;

	while (len > 0) {
		ssize_t got = getrandom(b, len, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += got;
		len -= (size_t)got;
	}
	return 0;
}

/* RFC 4648 §5 base64url without padding; out holds 4 * ceil(n / 3) + 1. */
static void
base64url(const uint8_t *p, size_t n, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
}

const struct cred *
creds_find(const struct creds *s, const char *id)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->c[i].id, id) == 0)
			return &s->c[i];
	return NULL;
}

static struct cred *
find_id(struct creds *s, const char *id)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->c[i].id, id) == 0)
			return &s->c[i];
	return NULL;
}

static const struct cred *
find_hash(const struct creds *s, const uint8_t h[32])
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (memcmp(s->c[i].sha256, h, 32) == 0)
			return &s->c[i];
	return NULL;
}

/* Room for one more entry. 0 or -1 with err. */
static int
reserve_one(struct creds *s, char *err, size_t errlen)
{
	struct cred *c;
	unsigned cap;

	if (s->n >= CREDS_MAX) {
		snprintf(err, errlen,
			 "the store holds %u tokens already, the most it can; "
			 "remove revoked or expired ones first",
			 CREDS_MAX);
		return -1;
	}
	if (s->n < s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 16;
	if (cap > CREDS_MAX)
		cap = CREDS_MAX;
	c = realloc(s->c, (size_t)cap * sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory for %u tokens", cap);
		return -1;
	}
	s->c = c;
	s->cap = cap;
	return 0;
}

/* ---- the store file ---- */

/* write(2) all of len, through EINTR and short writes. 0 or -1 (errno). */
static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The directory part of path ("." when there is none) into dir. */
static void
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/*
 * Write every store entry (never from_config ones) to path.tmp, fsync it,
 * rename it over path and fsync the directory, so that after a crash the
 * file is either the old store or the new one, whole. 0 or -1 with err.
 */
static int
creds_save(const struct creds *s, char *err, size_t errlen)
{
	char tmp[sizeof(s->path) + 4], dir[sizeof(s->path)], buf[16384], hex[65];
	size_t used = 0;
	unsigned i;
	int fd, dfd, e;

	if (s->path[0] == '\0')
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	/* A leftover from a crash may have another mode: start from nothing. */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove: %s", tmp, strerror(errno));
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		const struct cred *c = &s->c[i];
		int len;

		if (c->from_config)
			continue;
		if (sizeof(buf) - used < STORE_LINE_MAX) {
			if (write_all(fd, buf, used) < 0)
				goto fail_write;
			used = 0;
		}
		creds_hex(c->sha256, 32, hex);
		len = snprintf(
			buf + used, sizeof(buf) - used,
			"{\"id\":\"%s\",\"principal\":\"%s\",\"sha256\":\"%s\",\"created\":%" PRId64
			",\"expires\":%" PRId64 ",\"revoked\":%" PRId64 "}\n",
			c->id, c->principal, hex, c->created, c->expires, c->revoked);
		used += (size_t)len;
	}
	if (write_all(fd, buf, used) < 0)
		goto fail_write;
	if (fsync(fd) < 0)
		goto fail_write;
	if (close(fd) < 0) {
		fd = -1;
		goto fail_write;
	}
	if (rename(tmp, s->path) < 0) {
		snprintf(err, errlen, "%s: cannot rename to %s: %s", tmp, s->path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* The rename is durable only once the directory is. */
	dir_of(s->path, dir, sizeof(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		snprintf(err, errlen, "%s: cannot sync the directory: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;

fail_write:
	e = errno;
	snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(e));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/*
 * The line parser. A store line is one flat JSON object whose values are
 * strings without escapes (ids, names and hex never need any) or
 * non-negative integers; JSON's blanks between tokens are allowed.
 */
struct line_cur {
	const char *p, *end;
	const char *why; /* what is wrong, when a step fails */
};

enum store_key {
	KEY_ID,
	KEY_PRINCIPAL,
	KEY_SHA256,
	KEY_CREATED,
	KEY_EXPIRES,
	KEY_REVOKED,
	KEY_COUNT,
};

static const char *const store_key_name[KEY_COUNT] = {
	"id", "principal", "sha256", "created", "expires", "revoked",
};

static void
skip_blanks(struct line_cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static int
expect_char(struct line_cur *c, char ch, const char *why)
{
	skip_blanks(c);
	if (c->p >= c->end || *c->p != ch) {
		c->why = why;
		return -1;
	}
	c->p++;
	return 0;
}

/* A string of printable ASCII, no escapes, at most cap - 1 bytes, into out. */
static int
parse_string(struct line_cur *c, char *out, size_t cap)
{
	size_t len = 0;

	if (expect_char(c, '"', "a string is expected (in double quotes)") < 0)
		return -1;
	for (;;) {
		if (c->p >= c->end) {
			c->why = "a string is not closed";
			return -1;
		}
		if (*c->p == '"')
			break;
		if (*c->p == '\\') {
			c->why = "a string has an escape; no value in this file needs one";
			return -1;
		}
		if ((unsigned char)*c->p < 0x20 || (unsigned char)*c->p > 0x7e) {
			c->why = "a string has a control or non-ASCII byte";
			return -1;
		}
		if (len + 1 >= cap) {
			c->why = "a string is too long";
			return -1;
		}
		out[len++] = *c->p++;
	}
	c->p++;
	out[len] = '\0';
	return 0;
}

/* A non-negative decimal integer, no sign, no leading zeros, <= INT64_MAX. */
static int
parse_uint(struct line_cur *c, int64_t *v)
{
	int64_t x = 0;
	const char *start;

	skip_blanks(c);
	start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		int d = *c->p - '0';

		if (x > (INT64_MAX - d) / 10) {
			c->why = "a number is too large";
			return -1;
		}
		x = x * 10 + d;
		c->p++;
	}
	if (c->p == start) {
		c->why = "a non-negative integer is expected";
		return -1;
	}
	if (*start == '0' && c->p - start > 1) {
		c->why = "a number has a leading zero";
		return -1;
	}
	*v = x;
	return 0;
}

/* One store line (without its newline) into e. 0 or -1 with why. */
static int
parse_store_line(const char *line, size_t len, struct cred *e, char *why, size_t whylen)
{
	struct line_cur c = { line, line + len, NULL };
	char key[16], str[80];
	unsigned seen = 0, k;

	memset(e, 0, sizeof(*e));
	if (expect_char(&c, '{', "a line must be one JSON object, starting with '{'") < 0)
		goto bad;
	for (;;) {
		if (parse_string(&c, key, sizeof(key)) < 0) {
			snprintf(why, whylen, "key: %s", c.why);
			return -1;
		}
		for (k = 0; k < KEY_COUNT; k++)
			if (strcmp(key, store_key_name[k]) == 0)
				break;
		if (k == KEY_COUNT) {
			snprintf(why, whylen,
				 "unknown key \"%s\"; the keys are id, principal, sha256, created, "
				 "expires, revoked",
				 key);
			return -1;
		}
		if (seen & 1u << k) {
			snprintf(why, whylen, "key \"%s\" appears twice", key);
			return -1;
		}
		seen |= 1u << k;
		if (expect_char(&c, ':', "':' is expected after a key") < 0)
			goto bad;
		switch (k) {
		case KEY_ID:
			if (parse_string(&c, str, sizeof(str)) < 0)
				goto bad_value;
			if (!is_lower_hex(str, CREDS_ID_LEN)) {
				snprintf(why, whylen, "\"id\" must be %d lowercase hex digits",
					 CREDS_ID_LEN);
				return -1;
			}
			memcpy(e->id, str, CREDS_ID_LEN + 1);
			break;
		case KEY_PRINCIPAL:
			if (parse_string(&c, str, sizeof(str)) < 0)
				goto bad_value;
			if (!valid_name(str)) {
				snprintf(why, whylen,
					 "\"principal\" must be 1-%d of [A-Za-z0-9_.:-]",
					 CREDS_NAME_MAX);
				return -1;
			}
			memcpy(e->principal, str, strlen(str) + 1); /* valid_name: fits */
			break;
		case KEY_SHA256:
			if (parse_string(&c, str, sizeof(str)) < 0)
				goto bad_value;
			if (!is_lower_hex(str, 64) || creds_unhex(str, e->sha256, 32) < 0) {
				snprintf(why, whylen, "\"sha256\" must be 64 lowercase hex digits");
				return -1;
			}
			break;
		case KEY_CREATED:
			if (parse_uint(&c, &e->created) < 0)
				goto bad_value;
			break;
		case KEY_EXPIRES:
			if (parse_uint(&c, &e->expires) < 0)
				goto bad_value;
			break;
		default: /* KEY_REVOKED */
			if (parse_uint(&c, &e->revoked) < 0)
				goto bad_value;
			break;
		}
		skip_blanks(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (expect_char(&c, '}', "',' or '}' is expected after a value") < 0)
			goto bad;
		break;
	}
	skip_blanks(&c);
	if (c.p != c.end) {
		snprintf(why, whylen, "text after the closing '}'");
		return -1;
	}
	for (k = 0; k < KEY_COUNT; k++)
		if (!(seen & 1u << k)) {
			snprintf(why, whylen, "key \"%s\" is missing", store_key_name[k]);
			return -1;
		}
	return 0;

bad_value:
	snprintf(why, whylen, "\"%s\": %s", store_key_name[k], c.why);
	return -1;
bad:
	snprintf(why, whylen, "%s", c.why);
	return -1;
}

/* Read the store file into the empty s. 0 or -1 with "path:line: ..." in err. */
static int
load_store(struct creds *s, FILE *f, char *err, size_t errlen)
{
	char line[STORE_LINE_MAX + 2], why[200];
	unsigned long lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		const struct cred *other;
		struct cred e;

		lineno++;
		if (len == 0 || line[len - 1] != '\n') {
			if (len >= sizeof(line) - 1)
				snprintf(why, sizeof(why), "line longer than %d bytes",
					 STORE_LINE_MAX);
			else
				snprintf(why, sizeof(why),
					 "no newline at the end (the file was cut short or "
					 "edited by hand)");
			goto bad;
		}
		len--;
		if (strnlen(line, len) != len) {
			snprintf(why, sizeof(why), "a NUL byte in the line");
			goto bad;
		}
		if (parse_store_line(line, len, &e, why, sizeof(why)) < 0)
			goto bad;
		other = creds_find(s, e.id);
		if (other) {
			snprintf(why, sizeof(why), "id %s is on an earlier line too", e.id);
			goto bad;
		}
		other = find_hash(s, e.sha256);
		if (other) {
			snprintf(why, sizeof(why), "sha256 is the same as token %s's", other->id);
			goto bad;
		}
		if (reserve_one(s, why, sizeof(why)) < 0)
			goto bad;
		s->c[s->n++] = e;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", s->path, strerror(errno));
		return -1;
	}
	return 0;

bad:
	snprintf(err, errlen, "%s:%lu: %s", s->path, lineno, why);
	return -1;
}

int
creds_open(struct creds *s, const char *path, char *err, size_t errlen)
{
	char dir[sizeof(s->path)];
	struct stat st;
	FILE *f;

	memset(s, 0, sizeof(*s));
	if (!path || path[0] == '\0')
		return 0;
	if (strlen(path) >= sizeof(s->path)) {
		snprintf(err, errlen, "%.64s...: path longer than %zu bytes", path,
			 sizeof(s->path) - 1);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: the store's directory %s does not exist; create it",
			 path, dir);
		memset(s, 0, sizeof(*s));
		return -1;
	}
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		memset(s, 0, sizeof(*s));
		return -1;
	}
	if (load_store(s, f, err, errlen) < 0) {
		fclose(f);
		creds_close(s);
		return -1;
	}
	fclose(f);
	return 0;
}

void
creds_close(struct creds *s)
{
	free(s->c);
	memset(s, 0, sizeof(*s));
}

int
creds_create(struct creds *s, const char *principal, int64_t now, int64_t expires,
	     char token_out[CREDS_TOKEN_LEN + 1], struct cred *made, char *err, size_t errlen)
{
	uint8_t idb[CREDS_ID_LEN / 2], secret[CREDS_SECRET_BYTES];
	char b64[44], token[CREDS_TOKEN_LEN + 1];
	struct cred e;
	unsigned tries;

	token_out[0] = '\0';
	if (!valid_name(principal)) {
		snprintf(err, errlen, "principal '%.80s': use 1-%d of [A-Za-z0-9_.:-]", principal,
			 CREDS_NAME_MAX);
		return -1;
	}
	if (expires < 0 || (expires != 0 && expires <= now)) {
		snprintf(err, errlen,
			 "expires %" PRId64 " is not after now (%" PRId64 "); 0 means never",
			 expires, now);
		return -1;
	}
	if (reserve_one(s, err, errlen) < 0)
		return -1;
	memset(&e, 0, sizeof(e));
	for (tries = 0;; tries++) {
		if (tries == ID_TRIES) {
			snprintf(err, errlen, "no unused token id after %u random tries", ID_TRIES);
			return -1;
		}
		if (random_bytes(idb, sizeof(idb)) < 0) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -1;
		}
		creds_hex(idb, sizeof(idb), e.id);
		if (!creds_find(s, e.id))
			break;
	}
	if (random_bytes(secret, sizeof(secret)) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	base64url(secret, sizeof(secret), b64);
	explicit_bzero(secret, sizeof(secret));
	snprintf(token, sizeof(token), CREDS_PREFIX "%s_%s", e.id, b64);
	explicit_bzero(b64, sizeof(b64));
	creds_sha256(token, CREDS_TOKEN_LEN, e.sha256);
	snprintf(e.principal, sizeof(e.principal), "%s", principal);
	e.created = now;
	e.expires = expires;
	s->c[s->n++] = e;
	if (creds_save(s, err, errlen) < 0) {
		s->n--;
		explicit_bzero(token, sizeof(token));
		return -1;
	}
	memcpy(token_out, token, sizeof(token));
	explicit_bzero(token, sizeof(token));
	if (made)
		*made = e;
	return 0;
}

int
creds_add_config(struct creds *s, const char *id, const char *principal, const uint8_t sha256[32],
		 int64_t expires, char *err, size_t errlen)
{
	const struct cred *other;
	struct cred e;

	if (!is_lower_hex(id, CREDS_ID_LEN)) {
		snprintf(err, errlen, "token id '%.40s': use %d lowercase hex digits", id,
			 CREDS_ID_LEN);
		return -1;
	}
	if (!valid_name(principal)) {
		snprintf(err, errlen, "principal '%.80s': use 1-%d of [A-Za-z0-9_.:-]", principal,
			 CREDS_NAME_MAX);
		return -1;
	}
	if (expires < 0) {
		snprintf(err, errlen, "token %s: expires %" PRId64 " is before 1970", id, expires);
		return -1;
	}
	other = creds_find(s, id);
	if (other) {
		snprintf(err, errlen, "token id %s is already in use (%s, principal %s)", id,
			 other->from_config ? "configuration" : "token store", other->principal);
		return -1;
	}
	other = find_hash(s, sha256);
	if (other) {
		snprintf(err, errlen, "token %s has the same sha256 as token %s", id, other->id);
		return -1;
	}
	if (reserve_one(s, err, errlen) < 0)
		return -1;
	memset(&e, 0, sizeof(e));
	memcpy(e.id, id, CREDS_ID_LEN + 1);
	snprintf(e.principal, sizeof(e.principal), "%s", principal);
	memcpy(e.sha256, sha256, 32);
	e.expires = expires;
	e.from_config = true;
	s->c[s->n++] = e;
	return 0;
}

void
creds_drop_config(struct creds *s)
{
	unsigned i, kept = 0;

	for (i = 0; i < s->n; i++)
		if (!s->c[i].from_config)
			s->c[kept++] = s->c[i];
	s->n = kept;
}

int
creds_revoke(struct creds *s, const char *id, int64_t now, char *err, size_t errlen)
{
	struct cred *c = find_id(s, id);

	if (!c) {
		snprintf(err, errlen, "no token with id '%.40s'", id);
		return -1;
	}
	/*
	 * A revocation must outlive a restart, and provisioned tokens are not in
	 * the store file: the configuration is where they end.
	 */
	if (c->from_config) {
		snprintf(err, errlen,
			 "token %s is provisioned in the configuration file; remove it there and "
			 "reload",
			 id);
		return -1;
	}
	if (c->revoked != 0)
		return 0; /* keep the first revocation time */
	c->revoked = now;
	if (creds_save(s, err, errlen) < 0) {
		c->revoked = 0;
		return -1;
	}
	return 0;
}

unsigned
creds_revoke_principal(struct creds *s, const char *principal, int64_t now)
{
	char err[300];
	unsigned i, n = 0;

	for (i = 0; i < s->n; i++) {
		struct cred *c = &s->c[i];

		if (!c->from_config && c->revoked == 0 && strcmp(c->principal, principal) == 0) {
			c->revoked = now;
			n++;
		}
	}
	/*
	 * The contract has no error path: the revocations hold in memory, and
	 * the next successful save writes them.
	 */
	if (n > 0)
		(void)creds_save(s, err, sizeof(err));
	return n;
}

enum creds_verdict
creds_check(const struct creds *s, const uint8_t *token, size_t len, int64_t now,
	    const struct cred **which)
{
	uint8_t h[32];
	uint32_t found = 0, idx = 0;
	unsigned i, j;
	const struct cred *c;

	/*
	 * Hash whatever was presented, token-shaped or not, and look at every
	 * entry: the time taken depends on the store size and len only, never
	 * on which entry (if any) matches or how much of a hash does.
	 */
	creds_sha256(token, len, h);
	for (i = 0; i < s->n; i++) {
		uint32_t diff = 0, match;

		for (j = 0; j < 32; j++)
			diff |= (uint32_t)(h[j] ^ s->c[i].sha256[j]);
		match = 0u - ((diff - 1) >> 31); /* all ones iff diff == 0 */
		idx = (idx & ~match) | (i & match);
		found |= match;
	}
	explicit_bzero(h, sizeof(h));
	if (!found) {
		if (which)
			*which = NULL;
		return CREDS_UNKNOWN;
	}
	c = &s->c[idx];
	if (which)
		*which = c;
	if (c->revoked != 0)
		return CREDS_REVOKED;
	if (c->expires != 0 && now >= c->expires)
		return CREDS_EXPIRED;
	return CREDS_OK;
}

const char *
creds_verdict_name(enum creds_verdict v)
{
	switch (v) {
	case CREDS_OK:
		return "ok";
	case CREDS_UNKNOWN:
		return "unknown";
	case CREDS_EXPIRED:
		return "expired";
	case CREDS_REVOKED:
		return "revoked";
	}
	return "?";
}
