/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hash-chained audit log (audit.h). One parser, parse_audit_line(),
 * serves audit_open (the last line, to continue from) and audit_verify
 * (every line); it accepts exactly what audit_append writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "audit.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define TS_LEN 24                       /* 2026-11-23T10:00:00.123Z */
#define MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define TRUNC_MARK "..."
#define READ_CHUNK 8192

/* Lowercase hex SHA-256 of len bytes into out[65]. */
static void
hash_hex(const char *p, size_t len, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t h[32];
	unsigned i;

	(void)mbedtls_sha256_ret((const unsigned char *)p, len, h, 0);
	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
}

/* ---- writing a line ---- */

/* Bytes the JSON escape of byte c takes. */
static size_t
esc_len(unsigned char c)
{
	if (c == '"' || c == '\\' || c == '\n' || c == '\t')
		return 2;
	if (c < 0x20 || c >= 0x7f)
		return 6;
	return 1;
}

static size_t
esc_len_str(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += esc_len((unsigned char)*s);
	return n;
}

/*
 * The line under construction. audit_append measures what goes in before
 * building it, so over never sets; it is there so that a mistake in the
 * measuring refuses the line instead of writing past the buffer.
 */
struct line {
	char b[AUDIT_LINE_MAX];
	size_t len;
	bool over;
};

static void
put_raw(struct line *l, const char *s, size_t n)
{
	if (l->over || n > sizeof(l->b) - l->len) {
		l->over = true;
		return;
	}
	memcpy(l->b + l->len, s, n);
	l->len += n;
}

/*
 * s as a JSON string, quotes included. A value whose escape is longer than
 * cap is cut, at a whole escape, to at most cap bytes with TRUNC_MARK last.
 */
static void
put_string(struct line *l, const char *s, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t budget = esc_len_str(s) > cap ? cap - strlen(TRUNC_MARK) : SIZE_MAX;
	size_t used = 0;

	put_raw(l, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t n = esc_len(c);
		char e[6] = { '\\', (char)c, '0', '0', digits[c >> 4], digits[c & 15] };

		if (used + n > budget)
			break;
		used += n;
		if (n == 1) {
			put_raw(l, s, 1);
		} else if (n == 2) {
			e[1] = c == '\n' ? 'n' : c == '\t' ? 't' : (char)c;
			put_raw(l, e, 2);
		} else {
			e[1] = 'u';
			put_raw(l, e, 6);
		}
	}
	if (budget != SIZE_MAX)
		put_raw(l, TRUNC_MARK, strlen(TRUNC_MARK));
	put_raw(l, "\"", 1);
}

static bool
reserved_key(const char *k)
{
	return !strcmp(k, "seq") || !strcmp(k, "ts") || !strcmp(k, "prev") || !strcmp(k, "event");
}

/* ts of now_ms as YYYY-MM-DDTHH:MM:SS.mmmZ into out[TS_LEN + 1]. 0 or -1. */
static int
format_ts(int64_t now_ms, char out[TS_LEN + 1])
{
	time_t secs = (time_t)(now_ms / 1000);
	char buf[80];
	struct tm tm;

	if (!gmtime_r(&secs, &tm))
		return -1;
	if (snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(now_ms % 1000)) != TS_LEN)
		return -1;
	memcpy(out, buf, TS_LEN + 1);
	return 0;
}

/*
 * The largest cap on string values (escaped, without quotes) that keeps a
 * line of fixed other bytes within AUDIT_LINE_MAX; SIZE_MAX when nothing
 * needs cutting, 0 when even TRUNC_MARK-only values do not fit.
 */
static size_t
value_cap(size_t fixed, const size_t *vlen, unsigned nv)
{
	size_t lo = strlen(TRUNC_MARK), hi = 0, total = fixed;
	unsigned i;

	for (i = 0; i < nv; i++) {
		total += vlen[i];
		if (vlen[i] > hi)
			hi = vlen[i];
	}
	if (total <= AUDIT_LINE_MAX)
		return SIZE_MAX;
	if (hi < lo)
		return 0; /* every value is shorter than the mark: cutting cannot help */
	/* Line length is monotonic in the cap: binary search the largest that fits. */
	for (;;) {
		size_t mid = lo + (hi - lo + 1) / 2, sum = fixed;

		if (lo == hi)
			break;
		for (i = 0; i < nv; i++)
			sum += vlen[i] < mid ? vlen[i] : mid;
		if (sum <= AUDIT_LINE_MAX)
			lo = mid;
		else
			hi = mid - 1;
	}
	total = fixed;
	for (i = 0; i < nv; i++)
		total += vlen[i] < lo ? vlen[i] : lo;
	return total <= AUDIT_LINE_MAX ? lo : 0;
}

/*
 * Remove a line that did not make it whole (or durably) from the end. If
 * even that fails the torn line stays, and audit_open and audit_verify
 * report it: nothing more can be done here.
 */
static void
cut_back(int fd, off_t size)
{
	if (ftruncate(fd, size) < 0)
		return;
}

int
audit_append(struct audit *a, int64_t now_ms, const char *event, const struct audit_kv *kv,
	     unsigned n)
{
	size_t vlen[1 + AUDIT_FIELDS_MAX], fixed, cap;
	struct line l;
	char ts[TS_LEN + 1], num[24], hash[65];
	unsigned i, nv = 0;
	struct stat st;
	ssize_t w;
	int e;

	if (a->fd < 0 || !event || !event[0] || (n > 0 && !kv) || n > AUDIT_FIELDS_MAX ||
	    now_ms < 0 || now_ms > MAX_MS) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!kv[i].key || !kv[i].key[0] || reserved_key(kv[i].key)) {
			errno = EINVAL;
			return -1;
		}
	if (format_ts(now_ms, ts) < 0) {
		errno = EINVAL;
		return -1;
	}

	/* Measure: everything but the string values is fixed. */
	fixed = (size_t)snprintf(NULL, 0,
				 "{\"seq\":%" PRIu64 ",\"ts\":\"%s\",\"prev\":\"%s\",\"event\":",
				 a->seq + 1, ts, a->last_hash) +
		2 + 1 + 1; /* the event's quotes, '}', '\n' */
	vlen[nv++] = esc_len_str(event);
	for (i = 0; i < n; i++) {
		fixed += 1 + 2 + esc_len_str(kv[i].key) + 1; /* ,"key": */
		if (kv[i].s) {
			fixed += 2;
			vlen[nv++] = esc_len_str(kv[i].s);
		} else {
			fixed += (size_t)snprintf(num, sizeof(num), "%" PRId64, kv[i].i);
		}
	}
	cap = value_cap(fixed, vlen, nv);
	if (cap == 0) {
		errno = EMSGSIZE;
		return -1;
	}

	l.len = 0;
	l.over = false;
	{
		char head[160];
		int len = snprintf(head, sizeof(head),
				   "{\"seq\":%" PRIu64 ",\"ts\":\"%s\",\"prev\":\"%s\",\"event\":",
				   a->seq + 1, ts, a->last_hash);

		put_raw(&l, head, (size_t)len);
	}
	put_string(&l, event, cap);
	for (i = 0; i < n; i++) {
		put_raw(&l, ",", 1);
		put_string(&l, kv[i].key, SIZE_MAX);
		put_raw(&l, ":", 1);
		if (kv[i].s) {
			put_string(&l, kv[i].s, cap);
		} else {
			size_t len = (size_t)snprintf(num, sizeof(num), "%" PRId64, kv[i].i);

			put_raw(&l, num, len);
		}
	}
	put_raw(&l, "}\n", 2);
	if (l.over) {
		errno = EMSGSIZE;
		return -1;
	}
	hash_hex(l.b, l.len - 1, hash);

	/*
	 * One write(2) on O_APPEND: the line lands whole at the end. Should it
	 * not (short write, failed sync), cut it off again so that the file
	 * and the chain state agree.
	 */
	if (fstat(a->fd, &st) < 0)
		return -1;
	do
		w = write(a->fd, l.b, l.len);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)l.len) {
		e = w < 0 ? errno : ENOSPC;
		if (w > 0)
			cut_back(a->fd, st.st_size);
		errno = e;
		return -1;
	}
	if (fdatasync(a->fd) < 0) {
		e = errno;
		cut_back(a->fd, st.st_size);
		errno = e;
		return -1;
	}
	a->seq++;
	memcpy(a->last_hash, hash, sizeof(hash));
	return 0;
}

/* ---- reading a line ---- */

struct cur {
	const char *p, *end;
};

static bool
take(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool
is_lower_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/* A JSON string as audit_append escapes it. */
static bool
take_string(struct cur *c)
{
	if (!take(c, "\""))
		return false;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p != '\\') {
			c->p++;
			continue;
		}
		if (c->end - c->p >= 2 &&
		    (c->p[1] == '"' || c->p[1] == '\\' || c->p[1] == 'n' || c->p[1] == 't')) {
			c->p += 2;
			continue;
		}
		if (c->end - c->p >= 6 && !memcmp(c->p, "\\u00", 4) && is_lower_hex(c->p[4]) &&
		    is_lower_hex(c->p[5])) {
			c->p += 6;
			continue;
		}
		return false;
	}
	return take(c, "\"");
}

/* A decimal integer as PRId64 prints it. */
static bool
take_int(struct cur *c, bool sign_ok, uint64_t *v)
{
	const char *start;
	uint64_t x = 0;
	bool neg = false;

	if (sign_ok && c->p < c->end && *c->p == '-') {
		neg = true;
		c->p++;
	}
	start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
		c->p++;
	}
	if (c->p == start || (*start == '0' && c->p - start > 1) || (neg && x == 0))
		return false;
	if (sign_ok && x > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return false;
	if (v)
		*v = x;
	return true;
}

/* YYYY-MM-DDTHH:MM:SS.mmmZ with plausible fields. */
static bool
valid_ts(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	unsigned i, mon, day, hour, min, sec;

	for (i = 0; i < TS_LEN; i++)
		if (shape[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != shape[i])
			return false;
	mon = (unsigned)((t[5] - '0') * 10 + (t[6] - '0'));
	day = (unsigned)((t[8] - '0') * 10 + (t[9] - '0'));
	hour = (unsigned)((t[11] - '0') * 10 + (t[12] - '0'));
	min = (unsigned)((t[14] - '0') * 10 + (t[15] - '0'));
	sec = (unsigned)((t[17] - '0') * 10 + (t[18] - '0'));
	return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour < 24 && min < 60 && sec < 61;
}

/*
 * One line (without its newline) in the shape audit_append writes: its seq
 * and prev, or NULL with why set to what is wrong.
 */
static const char *
parse_audit_line(const char *line, size_t len, uint64_t *seq, char prev[65])
{
	struct cur c = { line, line + len };
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return "a byte that is not printable ASCII";
	if (!take(&c, "{\"seq\":"))
		return "it does not start with {\"seq\":";
	if (!take_int(&c, false, seq) || *seq == 0)
		return "seq is not a positive integer";
	if (!take(&c, ",\"ts\":\"") || c.end - c.p < TS_LEN || !valid_ts(c.p))
		return "ts is not YYYY-MM-DDTHH:MM:SS.mmmZ after seq";
	c.p += TS_LEN;
	if (!take(&c, "\",\"prev\":\"") || c.end - c.p < 64)
		return "prev (64 lowercase hex) does not follow ts";
	for (i = 0; i < 64; i++)
		if (!is_lower_hex(c.p[i]))
			return "prev is not 64 lowercase hex digits";
	memcpy(prev, c.p, 64);
	prev[64] = '\0';
	c.p += 64;
	if (!take(&c, "\",\"event\":") || !take_string(&c))
		return "event (a string) does not follow prev";
	while (take(&c, ",")) {
		if (!take_string(&c))
			return "a field's key is not a string";
		if (!take(&c, ":"))
			return "':' is missing after a field's key";
		if (c.p < c.end && *c.p == '"') {
			if (!take_string(&c))
				return "a field's string value is not well-formed";
		} else if (!take_int(&c, true, NULL)) {
			return "a field's value is neither a string nor an integer";
		}
	}
	if (!take(&c, "}") || c.p != c.end)
		return "the line does not end with '}' after the last field";
	return NULL;
}

/* ---- open and close ---- */

/* pread(2) all of len at off. 0 or -1 (errno; EIO for a file that shrank). */
static int
pread_all(int fd, char *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t r = pread(fd, p, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		p += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

/* Make a newly created file's directory entry durable. 0 or -1 (errno). */
static int
sync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Read the last line back (only the file's last AUDIT_LINE_MAX + 1 bytes:
 * enough to hold it and the newline before it) for a->seq and a->last_hash.
 */
static int
read_last_line(struct audit *a, off_t size, char *err, size_t errlen)
{
	char buf[AUDIT_LINE_MAX + 1], prev[65];
	size_t n = size > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)size, start;
	off_t base = size - (off_t)n;
	const char *why;
	uint64_t seq;

	if (pread_all(a->fd, buf, n, base) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", a->path, strerror(errno));
		return -1;
	}
	if (buf[n - 1] != '\n') {
		snprintf(err, errlen,
			 "%s: the last line has no newline at the end (a torn write, e.g. after a "
			 "crash); the chain cannot continue from it. Check the file with audit "
			 "verify and move it aside; it is not repaired automatically",
			 a->path);
		return -1;
	}
	for (start = n - 1; start > 0 && buf[start - 1] != '\n'; start--)
		;
	if (start == 0 && base > 0) {
		snprintf(err, errlen,
			 "%s: the last line is longer than %d bytes: not an audit line", a->path,
			 AUDIT_LINE_MAX);
		return -1;
	}
	why = parse_audit_line(buf + start, n - 1 - start, &seq, prev);
	if (why) {
		snprintf(err, errlen,
			 "%s: the last line (at byte %lld) is not an audit line: %s; the chain "
			 "cannot continue from it",
			 a->path, (long long)(base + (off_t)start), why);
		return -1;
	}
	a->seq = seq;
	hash_hex(buf + start, n - 1 - start, a->last_hash);
	return 0;
}

int
audit_open(struct audit *a, const char *path, char *err, size_t errlen)
{
	struct stat st;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (strlen(path) >= sizeof(a->path)) {
		snprintf(err, errlen, "%.64s...: path longer than %zu bytes", path,
			 sizeof(a->path) - 1);
		return -1;
	}
	snprintf(a->path, sizeof(a->path), "%s", path);
	/* Read-write for read_last_line's pread; O_APPEND puts every write at the end. */
	a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(a->fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size == 0) {
		/* New (or never written): the chain starts at 64 zeros. */
		memcpy(a->last_hash, ZERO_HASH, sizeof(a->last_hash));
		if (sync_dir_of(path) < 0) {
			snprintf(err, errlen, "%s: cannot sync its directory: %s", path,
				 strerror(errno));
			goto fail;
		}
		return 0;
	}
	if (read_last_line(a, st.st_size, err, errlen) < 0)
		goto fail;
	return 0;

fail:
	close(a->fd);
	a->fd = -1;
	return -1;
}

void
audit_close(struct audit *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

/* ---- verify and tail ---- */

/* Check one complete line (number lineno) against the chain state. */
static int
verify_line(const char *line, size_t len, uint64_t lineno, char last_hash[65], char *err,
	    size_t errlen, const char *path)
{
	char prev[65];
	const char *why;
	uint64_t seq;

	why = parse_audit_line(line, len, &seq, prev);
	if (why) {
		snprintf(err, errlen, "%s:%" PRIu64 ": not an audit line: %s", path, lineno, why);
		return -1;
	}
	if (seq != lineno) {
		snprintf(err, errlen,
			 "%s:%" PRIu64 ": seq is %" PRIu64 ", expected %" PRIu64
			 " (a line was removed, inserted or moved before it)",
			 path, lineno, seq, lineno);
		return -1;
	}
	if (strcmp(prev, last_hash) != 0) {
		if (lineno == 1)
			snprintf(err, errlen, "%s:1: prev is not 64 zeros on the first line", path);
		else
			snprintf(err, errlen,
				 "%s:%" PRIu64 ": prev is not the SHA-256 of line %" PRIu64
				 " (that line was changed, or this one was forged or moved)",
				 path, lineno, lineno - 1);
		return -1;
	}
	hash_hex(line, len, last_hash);
	return 0;
}

int
audit_verify(const char *path, uint64_t *lines, uint64_t *bad_line, char *err, size_t errlen)
{
	char buf[READ_CHUNK], line[AUDIT_LINE_MAX];
	char last_hash[65] = ZERO_HASH;
	uint64_t lineno = 0;
	size_t len = 0;
	int fd, rc = -1;

	if (lines)
		*lines = 0;
	if (bad_line)
		*bad_line = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf)), i;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		for (i = 0; i < r; i++) {
			if (buf[i] != '\n') {
				/* A line, newline included, is at most AUDIT_LINE_MAX bytes. */
				if (len == AUDIT_LINE_MAX - 1) {
					snprintf(err, errlen,
						 "%s:%" PRIu64 ": longer than %d bytes: not an "
						 "audit line",
						 path, lineno + 1, AUDIT_LINE_MAX);
					lineno++;
					goto bad;
				}
				line[len++] = buf[i];
				continue;
			}
			lineno++;
			if (verify_line(line, len, lineno, last_hash, err, errlen, path) < 0)
				goto bad;
			len = 0;
		}
	}
	if (len > 0) {
		lineno++;
		snprintf(err, errlen,
			 "%s:%" PRIu64 ": no newline at the end (a torn write, e.g. after a crash)",
			 path, lineno);
		goto bad;
	}
	if (lines)
		*lines = lineno;
	rc = 0;
	goto out;

bad:
	if (bad_line)
		*bad_line = lineno;
	if (lines)
		*lines = lineno - 1;
out:
	close(fd);
	return rc;
}

int
audit_tail(const char *path, unsigned n, int fd)
{
	char buf[READ_CHUNK];
	off_t size, pos, start = 0;
	unsigned found = 0;
	struct stat st;
	int in, e;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	if (fstat(in, &st) < 0)
		goto fail;
	size = st.st_size;
	if (n == 0) {
		close(in);
		return 0;
	}
	/*
	 * Walk back from the end for the n-th newline before the last line's
	 * own; the last n lines start after it (or at 0 when there are fewer).
	 */
	pos = size;
	if (size > 0) {
		char last;

		if (pread_all(in, &last, 1, size - 1) < 0)
			goto fail;
		if (last == '\n')
			pos = size - 1;
	}
	while (pos > 0 && found < n) {
		size_t chunk = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
		size_t i;

		pos -= (off_t)chunk;
		if (pread_all(in, buf, chunk, pos) < 0)
			goto fail;
		for (i = chunk; i > 0; i--)
			if (buf[i - 1] == '\n' && ++found == n) {
				start = pos + (off_t)i;
				break;
			}
	}
	for (pos = start; pos < size;) {
		size_t chunk = size - pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)(size - pos);
		const char *p = buf;

		if (pread_all(in, buf, chunk, pos) < 0)
			goto fail;
		pos += (off_t)chunk;
		while (chunk > 0) {
			ssize_t w = write(fd, p, chunk);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				goto fail;
			p += w;
			chunk -= (size_t)w;
		}
	}
	close(in);
	return 0;

fail:
	e = errno;
	close(in);
	errno = e;
	return -1;
}
