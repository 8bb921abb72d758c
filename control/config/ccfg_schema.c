/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The schema of ctld.yaml as tables, and the one walker that applies them.
 *
 * A mapping is a struct ccfg_schema: rows of (key, type, where the value
 * goes, bounds, required, default), in the spirit of libcyaml's schema
 * declarations. The walker checks the node kind a row wants, parses and
 * range-checks the scalar, writes it at the row's offset, and at the end of
 * each mapping reports the first required key that is missing. Defaults are
 * written from the same rows before the file is read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccfg_pvt.h"
#include "wire_limits.h"

enum ccfg_type {
	CT_STRING, /* text of a class (enum ccfg_class) into char[size] */
	CT_UINT,   /* decimal, into an unsigned of width bytes */
	CT_BOOL,   /* true or false */
	CT_ENUM,   /* one of names, its value into width bytes */
	CT_HEX,    /* size bytes as 2*size hex digits; CF_LOWER: size lowercase digits as text */
	CT_TIME,   /* YYYY-MM-DDTHH:MM:SSZ into an int64_t of Unix seconds */
	CT_ADDR,   /* IPv4 a.b.c.d:port: address (network order) at off, port at aux */
	CT_SEQ,    /* list of elem, stride size, at off (CF_ALLOC: malloc'd, pointer at off) */
	CT_MAP,    /* a section: the keys of sub, written into the same struct */
};

enum ccfg_class {
	CL_PATH,     /* absolute, 1..size-1 bytes, no control characters */
	CL_NAME,     /* 1..size-1 of [A-Za-z0-9_.:-] */
	CL_GLOB,     /* the same plus '*' */
	CL_JOB_TYPE, /* a name, or "*" alone (any; see types_post) */
	CL_CTYPE,    /* 1..size-1 printable ASCII, without ',' and '|' */
	CL_TEXT,     /* 1..size-1 printable ASCII */
};

#define CF_REQUIRED 0x01u
#define CF_ALLOC 0x02u       /* CT_SEQ: the elements are malloc'd */
#define CF_UNIQUE 0x04u      /* CT_SEQ of scalars: no value twice */
#define CF_LOWER 0x08u       /* CT_HEX: lowercase digits kept as text */
#define CF_DEFAULT_ONE 0x10u /* CT_SEQ of CT_UINT: when absent, one element of value def */

struct ccfg_enum {
	const char *name;
	uint8_t value;
};

struct ccfg_schema;

struct ccfg_field {
	const char *key; /* NULL for a sequence's element */
	uint8_t type;    /* enum ccfg_type */
	uint8_t flags;
	uint8_t cls;         /* CT_STRING: enum ccfg_class */
	uint8_t width;       /* CT_UINT, CT_ENUM: bytes at off; CT_SEQ: bytes of the count */
	size_t size;         /* CT_STRING: capacity; CT_HEX: see above; CT_SEQ: element stride */
	size_t off;          /* where the value goes in the struct being filled */
	size_t aux;          /* CT_SEQ: offset of the count; CT_ADDR: offset of the port */
	uint64_t min, max;   /* CT_UINT: value; CT_SEQ: entries */
	uint64_t def;        /* CT_UINT, CT_BOOL, CT_ENUM; CT_SEQ with CF_DEFAULT_ONE */
	const char *def_str; /* CT_ADDR */
	const char *note;    /* added to what is valid, e.g. why a bound is lower */
	const struct ccfg_enum *names; /* CT_ENUM, ends with a NULL name */
	const struct ccfg_field *elem; /* CT_SEQ */
	const struct ccfg_schema *sub; /* CT_MAP */
	/* After the value is stored; obj is the struct holding the field. */
	int (*post)(struct ccfg_ctx *c, const struct ccfg_node *n, void *obj);
};

struct ccfg_schema {
	const struct ccfg_field *fields;
	unsigned n;
	/* After every key is read and the required ones are there. */
	int (*finish)(struct ccfg_ctx *c, const struct ccfg_node *m, void *obj);
};

/* ---- the walk's path, e.g. principals[1].role ---- */

static size_t
path_push_key(struct ccfg_ctx *c, const char *key)
{
	size_t old = c->path_len;
	int n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", key);

	if (n > 0)
		c->path_len +=
			(size_t)n < sizeof(c->path) - old ? (size_t)n : sizeof(c->path) - old - 1;
	return old;
}

static size_t
path_push_index(struct ccfg_ctx *c, uint32_t i)
{
	size_t old = c->path_len;
	int n = snprintf(c->path + old, sizeof(c->path) - old, "[%u]", i);

	if (n > 0)
		c->path_len +=
			(size_t)n < sizeof(c->path) - old ? (size_t)n : sizeof(c->path) - old - 1;
	return old;
}

static void
path_pop(struct ccfg_ctx *c, size_t old)
{
	c->path_len = old;
	c->path[old] = '\0';
}

/* ---- what is valid, for messages ---- */

static void
describe(const struct ccfg_field *f, char *buf, size_t cap)
{
	size_t o;
	unsigned i;

	switch (f->type) {
	case CT_STRING:
		if (f->cls == CL_PATH)
			snprintf(buf, cap, "an absolute path of at most %zu bytes", f->size - 1);
		else if (f->cls == CL_NAME)
			snprintf(buf, cap, "1 to %zu of [A-Za-z0-9_.:-]", f->size - 1);
		else if (f->cls == CL_GLOB)
			snprintf(buf, cap, "1 to %zu of [A-Za-z0-9_.:-] and '*' (any run)",
				 f->size - 1);
		else if (f->cls == CL_JOB_TYPE)
			snprintf(buf, cap,
				 "1 to %zu of [A-Za-z0-9_.:-], or \"*\" alone for any type",
				 f->size - 1);
		else
			snprintf(buf, cap, "1 to %zu printable ASCII bytes without ',' and '|'",
				 f->size - 1);
		break;
	case CT_UINT:
		snprintf(buf, cap, "a whole number from %llu to %llu", (unsigned long long)f->min,
			 (unsigned long long)f->max);
		break;
	case CT_BOOL:
		snprintf(buf, cap, "true or false");
		break;
	case CT_ENUM:
		o = 0;
		buf[0] = '\0';
		for (i = 0; f->names[i].name && o < cap; i++) {
			int n = snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", f->names[i].name);

			if (n < 0)
				break;
			o += (size_t)n;
		}
		break;
	case CT_HEX:
		if (f->flags & CF_LOWER)
			snprintf(buf, cap, "%zu lowercase hex digits", f->size);
		else
			snprintf(buf, cap, "%zu hex digits", 2 * f->size);
		break;
	case CT_TIME:
		snprintf(buf, cap,
			 "a UTC time YYYY-MM-DDTHH:MM:SSZ after 1970, e.g. "
			 "2027-01-01T00:00:00Z");
		break;
	case CT_ADDR:
		snprintf(buf, cap, "IPv4 address:port, e.g. 127.0.0.1:9464, port 1 to 65535");
		break;
	case CT_SEQ:
		snprintf(buf, cap, "a list of %llu to %llu entries", (unsigned long long)f->min,
			 (unsigned long long)f->max);
		break;
	case CT_MAP:
	default:
		snprintf(buf, cap, "a mapping of key: value lines");
		break;
	}
	if (f->note) {
		o = strlen(buf);
		snprintf(buf + o, cap - o, "%s", f->note);
	}
}

/* Plain ~, null and nothing at all are YAML's null: a key given without a value. */
static bool
is_null(const struct ccfg_ctx *c, const struct ccfg_node *n)
{
	const char *s = ccfg_text(c, n);

	return n->kind == CCFG_SCALAR && n->plain &&
	       (n->len == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
		!strcmp(s, "NULL"));
}

static const char *
kind_name(const struct ccfg_ctx *c, const struct ccfg_node *n)
{
	if (n->kind == CCFG_MAP)
		return "a mapping";
	if (n->kind == CCFG_SEQ)
		return "a list";
	if (n->plain && n->len == 0)
		return "an empty value";
	if (is_null(c, n))
		return "null";
	return "a single value";
}

static int
fail_kind(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n)
{
	char want[160];

	describe(f, want, sizeof(want));
	return ccfg_fail(c, n, "expected %s, got %s", want, kind_name(c, n));
}

static int
fail_value(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n,
	   const char *why)
{
	char want[160], q[64];

	describe(f, want, sizeof(want));
	ccfg_quote(q, sizeof(q), ccfg_text(c, n), n->len);
	return ccfg_fail(c, n, "'%s' %s; expected %s", q, why, want);
}

/* ---- storing ---- */

static void
store_uint(void *dst, unsigned width, uint64_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	if (width == 1)
		memcpy(dst, &v8, 1);
	else if (width == 2)
		memcpy(dst, &v16, 2);
	else if (width == 4)
		memcpy(dst, &v32, 4);
	else
		memcpy(dst, &v, 8);
}

/* ---- scalars ---- */

static bool
name_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == ':' || ch == '-';
}

static int
walk_string(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, char *dst)
{
	const unsigned char *s = (const unsigned char *)ccfg_text(c, n);
	size_t max = f->size - 1, i;
	char why[96];

	if (f->cls == CL_JOB_TYPE && n->len == 1 && s[0] == '*')
		goto store;
	if (n->len == 0)
		return fail_value(c, f, n, "is empty");
	if (n->len > max) {
		snprintf(why, sizeof(why), "is %u bytes long", n->len);
		return fail_value(c, f, n, why);
	}
	if (f->cls == CL_PATH && s[0] != '/')
		return fail_value(c, f, n, "is not an absolute path");
	for (i = 0; i < n->len; i++) {
		unsigned char ch = s[i];
		bool ok;

		switch (f->cls) {
		case CL_PATH:
			ok = ch >= 0x20 && ch != 0x7f;
			break;
		case CL_NAME:
		case CL_JOB_TYPE:
			ok = name_char(ch);
			break;
		case CL_GLOB:
			ok = name_char(ch) || ch == '*';
			break;
		case CL_TEXT:
			ok = ch >= 0x20 && ch <= 0x7e;
			break;
		case CL_CTYPE:
		default:
			if (ch == ',' || ch == '|')
				return fail_value(c, f, n,
						  "has ',' or '|', which separate sluiced --queue "
						  "arguments");
			ok = ch >= 0x20 && ch <= 0x7e;
			break;
		}
		if (!ok) {
			if (ch > 0x20 && ch < 0x7f)
				snprintf(why, sizeof(why), "has '%c' at byte %zu", ch, i + 1);
			else
				snprintf(why, sizeof(why), "has byte 0x%02x at byte %zu", ch,
					 i + 1);
			return fail_value(c, f, n, why);
		}
	}
store:
	memcpy(dst, s, n->len);
	dst[n->len] = '\0';
	return 0;
}

/* Decimal digits only: no sign, no leading zero (YAML 1.1 octal), no 0x, no '_'. */
static int
walk_uint(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, void *dst)
{
	const char *s = ccfg_text(c, n);
	uint64_t v = 0;
	uint32_t i;

	if (!n->plain)
		return fail_value(c, f, n, "is quoted; write numbers without quotes");
	if (s[0] == '-' || s[0] == '+')
		return fail_value(c, f, n, "has a sign");
	for (i = 0; i < n->len; i++)
		if (s[i] < '0' || s[i] > '9')
			return fail_value(c, f, n, "is not a whole decimal number");
	if (n->len > 1 && s[0] == '0')
		return fail_value(c, f, n, "has a leading zero (octal in YAML 1.1)");
	for (i = 0; i < n->len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return fail_value(c, f, n, "is too large");
		v = v * 10 + d;
	}
	if (v < f->min || v > f->max)
		return fail_value(c, f, n, "is out of range");
	store_uint(dst, f->width, v);
	return 0;
}

static int
walk_bool(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, bool *dst)
{
	const char *s = ccfg_text(c, n);

	if (n->plain && !strcmp(s, "true"))
		*dst = true;
	else if (n->plain && !strcmp(s, "false"))
		*dst = false;
	else if (!n->plain)
		return fail_value(c, f, n, "is quoted; write true or false without quotes");
	else
		return fail_value(c, f, n, "is not a boolean here (only true and false are)");
	return 0;
}

static int
walk_enum(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, void *dst)
{
	const char *s = ccfg_text(c, n);
	char want[128], q[64];
	unsigned i;

	for (i = 0; f->names[i].name; i++) {
		if (strlen(f->names[i].name) == n->len && !strcmp(f->names[i].name, s)) {
			store_uint(dst, f->width, f->names[i].value);
			return 0;
		}
	}
	describe(f, want, sizeof(want));
	ccfg_quote(q, sizeof(q), s, n->len);
	return ccfg_fail(c, n, "'%s' is not a %s; valid: %s", q, f->key, want);
}

static int
hex_digit(unsigned char ch, bool lower_only)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (!lower_only && ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
walk_hex(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, uint8_t *dst)
{
	const unsigned char *s = (const unsigned char *)ccfg_text(c, n);
	bool text = f->flags & CF_LOWER;
	size_t digits = text ? f->size : 2 * f->size, i;
	char why[64];

	if (n->len != digits) {
		snprintf(why, sizeof(why), "is %u characters long", n->len);
		return fail_value(c, f, n, why);
	}
	for (i = 0; i < digits; i++) {
		if (hex_digit(s[i], text) < 0) {
			if (s[i] > 0x20 && s[i] < 0x7f)
				snprintf(why, sizeof(why), "has '%c' at character %zu", s[i],
					 i + 1);
			else
				snprintf(why, sizeof(why), "has byte 0x%02x at character %zu", s[i],
					 i + 1);
			return fail_value(c, f, n, why);
		}
	}
	if (text) {
		memcpy(dst, s, digits);
		dst[digits] = '\0';
		return 0;
	}
	for (i = 0; i < f->size; i++)
		dst[i] =
			(uint8_t)(hex_digit(s[2 * i], false) << 4 | hex_digit(s[2 * i + 1], false));
	return 0;
}

static bool
leap_year(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return days[m - 1] + (m == 2 && leap_year(y));
}

/* Days from 1970-01-01 to y-m-d (a valid date, y >= 1970), by counting, not timegm. */
static int64_t
days_since_epoch(unsigned y, unsigned m, unsigned d)
{
	/* Leap years in [1, x]: every 4th, not every 100th, every 400th. */
#define LEAPS_TO(x) ((int64_t)(x) / 4 - (int64_t)(x) / 100 + (int64_t)(x) / 400)
	int64_t days = 365 * (int64_t)(y - 1970) + LEAPS_TO(y - 1) - LEAPS_TO(1969);
#undef LEAPS_TO
	unsigned i;

	for (i = 1; i < m; i++)
		days += days_in_month(y, i);
	return days + d - 1;
}

/* n digits at s as a number, or -1. */
static int
fixed_digits(const char *s, unsigned n)
{
	int v = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
walk_time(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, int64_t *dst)
{
	static const char *const months[12] = { "January",   "February", "March",    "April",
						"May",       "June",     "July",     "August",
						"September", "October",  "November", "December" };
	const char *s = ccfg_text(c, n);
	int y, mo, d, h, mi, se;
	char why[96];
	int64_t t;

	/* YYYY-MM-DDTHH:MM:SSZ: 20 characters, separators at fixed places. */
	if (n->len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return fail_value(c, f, n, "is not in the form YYYY-MM-DDTHH:MM:SSZ");
	y = fixed_digits(s, 4);
	mo = fixed_digits(s + 5, 2);
	d = fixed_digits(s + 8, 2);
	h = fixed_digits(s + 11, 2);
	mi = fixed_digits(s + 14, 2);
	se = fixed_digits(s + 17, 2);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0)
		return fail_value(c, f, n, "is not in the form YYYY-MM-DDTHH:MM:SSZ");
	if (y < 1970)
		return fail_value(c, f, n, "is before 1970");
	if (mo < 1 || mo > 12)
		return fail_value(c, f, n, "has no such month (01 to 12)");
	if (d < 1 || (unsigned)d > days_in_month((unsigned)y, (unsigned)mo)) {
		snprintf(why, sizeof(why), "has no such day (%s %d has %u days)", months[mo - 1], y,
			 days_in_month((unsigned)y, (unsigned)mo));
		return fail_value(c, f, n, why);
	}
	if (h > 23 || mi > 59 || se > 59)
		return fail_value(c, f, n, "has no such time of day (00:00:00 to 23:59:59)");
	t = days_since_epoch((unsigned)y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
	    se;
	/* 0 stands for "never" in struct ccfg_token. */
	if (t == 0)
		return fail_value(c, f, n, "is the epoch itself, which stands for never");
	*dst = t;
	return 0;
}

/* A decimal of 1..maxd digits at *s, no leading zero, advancing *s; -1 if none. */
static long
addr_number(const char **s, unsigned maxd)
{
	const char *p = *s;
	long v = 0;
	unsigned nd = 0;

	while (*p >= '0' && *p <= '9' && nd <= maxd) {
		v = v * 10 + (*p - '0');
		p++;
		nd++;
	}
	if (nd == 0 || nd > maxd || (nd > 1 && **s == '0'))
		return -1;
	*s = p;
	return v;
}

/* "a.b.c.d:port" into a network-order address and a host-order port. 0, -1 or -2 (port). */
static int
parse_addr(const char *s, size_t len, uint32_t *addr, uint16_t *port)
{
	const char *p = s;
	uint32_t a = 0;
	long v;
	unsigned i;

	if (strlen(s) != len)
		return -1;
	for (i = 0; i < 4; i++) {
		v = addr_number(&p, 3);
		if (v < 0 || v > 255 || *p != (i < 3 ? '.' : ':'))
			return -1;
		a = a << 8 | (uint32_t)v;
		p++;
	}
	v = addr_number(&p, 5);
	if (v < 0 || *p)
		return -1;
	if (v < 1 || v > 65535)
		return -2;
	*addr = htonl(a);
	*port = (uint16_t)v;
	return 0;
}

static int
walk_addr(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, void *obj)
{
	uint32_t addr;
	uint16_t port;

	int rc = parse_addr(ccfg_text(c, n), n->len, &addr, &port);

	if (rc == -2)
		return fail_value(c, f, n, "has a port out of range");
	if (rc)
		return fail_value(c, f, n, "is not an IPv4 address:port");
	memcpy((char *)obj + f->off, &addr, sizeof(addr));
	memcpy((char *)obj + f->aux, &port, sizeof(port));
	return 0;
}

/* ---- containers ---- */

static int walk_value(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n,
		      void *obj);

static void
apply_defaults(const struct ccfg_schema *s, void *obj)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		const struct ccfg_field *f = &s->fields[i];
		char *dst = (char *)obj + f->off;
		uint32_t addr;
		uint16_t port;

		switch (f->type) {
		case CT_UINT:
		case CT_ENUM:
			store_uint(dst, f->width, f->def);
			break;
		case CT_BOOL:
			*(bool *)(void *)dst = f->def != 0;
			break;
		case CT_ADDR:
			if (f->def_str &&
			    !parse_addr(f->def_str, strlen(f->def_str), &addr, &port)) {
				memcpy(dst, &addr, sizeof(addr));
				memcpy((char *)obj + f->aux, &port, sizeof(port));
			}
			break;
		case CT_SEQ:
			if (f->flags & CF_DEFAULT_ONE) {
				store_uint(dst, f->elem->width, f->def);
				store_uint((char *)obj + f->aux, f->width, 1);
			}
			break;
		case CT_MAP:
			apply_defaults(f->sub, dst);
			break;
		default:
			break;
		}
	}
}

static int
walk_map(struct ccfg_ctx *c, const struct ccfg_schema *s, const struct ccfg_node *m, void *obj)
{
	uint32_t seen = 0, first_line[32], k;
	unsigned i;
	char want[160];

	for (k = m->first; k; k = c->nodes[c->nodes[k].next].next) {
		const struct ccfg_node *kn = &c->nodes[k], *vn = &c->nodes[kn->next];
		const struct ccfg_field *f = NULL;
		size_t old;
		int rc;

		if (kn->kind == CCFG_SCALAR) {
			for (i = 0; i < s->n; i++) {
				if (strlen(s->fields[i].key) == kn->len &&
				    !strcmp(s->fields[i].key, ccfg_text(c, kn))) {
					f = &s->fields[i];
					break;
				}
			}
		}
		if (!f) {
			char keys[512], q[64];
			size_t o = 0;

			keys[0] = '\0';
			for (i = 0; i < s->n && o < sizeof(keys); i++) {
				int w = snprintf(keys + o, sizeof(keys) - o, "%s%s", i ? ", " : "",
						 s->fields[i].key);

				if (w < 0)
					break;
				o += (size_t)w;
			}
			if (kn->kind != CCFG_SCALAR)
				return ccfg_fail(c, kn,
						 "a key must be a word, not %s; valid keys: %s",
						 kind_name(c, kn), keys);
			ccfg_quote(q, sizeof(q), ccfg_text(c, kn), kn->len);
			return ccfg_fail(c, kn, "unknown key '%s'; valid keys: %s", q, keys);
		}
		old = path_push_key(c, f->key);
		if (seen & (1u << i)) {
			rc = ccfg_fail(c, kn, "given twice (first at line %u); keep one",
				       first_line[i]);
			path_pop(c, old);
			return rc;
		}
		seen |= 1u << i;
		first_line[i] = kn->line;
		rc = walk_value(c, f, vn, obj);
		path_pop(c, old);
		if (rc)
			return rc;
	}
	for (i = 0; i < s->n; i++) {
		const struct ccfg_field *f = &s->fields[i];

		if ((f->flags & CF_REQUIRED) && !(seen & (1u << i))) {
			size_t old = path_push_key(c, f->key);
			int rc;

			describe(f, want, sizeof(want));
			rc = ccfg_fail(c, m,
				       "required key missing from this mapping; add %s: with %s",
				       f->key, want);
			path_pop(c, old);
			return rc;
		}
	}
	return s->finish ? s->finish(c, m, obj) : 0;
}

static int
walk_seq(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, void *obj)
{
	char *base = (char *)obj + f->off, *count = (char *)obj + f->aux;
	const struct ccfg_node *e;
	uint32_t i, k;

	if (n->n < f->min || n->n > f->max) {
		char want[160];

		describe(f, want, sizeof(want));
		return ccfg_fail(c, n, "%u entries; expected %s", n->n, want);
	}
	if (f->flags & CF_ALLOC) {
		void *p = NULL;

		if (n->n) {
			p = calloc(n->n, f->size);
			if (!p)
				return ccfg_fail(c, n, "out of memory for %u entries", n->n);
		}
		memcpy(base, &p, sizeof(p));
		base = p;
	}
	store_uint(count, f->width, 0);
	for (i = 0, k = n->first; k; i++, k = e->next) {
		char *ep = base + (size_t)i * f->size;
		size_t old = path_push_index(c, i);
		int rc;

		e = &c->nodes[k];
		if (f->elem->type == CT_MAP) {
			memset(ep, 0, f->size);
			apply_defaults(f->elem->sub, ep);
		}
		rc = walk_value(c, f->elem, e, ep);
		if (!rc && (f->flags & CF_UNIQUE)) {
			uint32_t j;
			const struct ccfg_node *p;

			for (j = n->first; j != k; j = p->next) {
				p = &c->nodes[j];
				if (p->len == e->len &&
				    !memcmp(ccfg_text(c, p), ccfg_text(c, e), e->len)) {
					char q[64];

					ccfg_quote(q, sizeof(q), ccfg_text(c, e), e->len);
					rc = ccfg_fail(
						c, e,
						"'%s' is listed twice (first at line %u); list "
						"it once",
						q, p->line);
					break;
				}
			}
		}
		path_pop(c, old);
		if (rc)
			return rc;
		store_uint(count, f->width, i + 1);
	}
	return 0;
}

static int
walk_value(struct ccfg_ctx *c, const struct ccfg_field *f, const struct ccfg_node *n, void *obj)
{
	char *dst = (char *)obj + f->off;
	int rc;

	if (f->type == CT_MAP) {
		if (n->kind != CCFG_MAP)
			return fail_kind(c, f, n);
		rc = walk_map(c, f->sub, n, dst);
	} else if (f->type == CT_SEQ) {
		if (n->kind != CCFG_SEQ)
			return fail_kind(c, f, n);
		rc = walk_seq(c, f, n, obj);
	} else {
		if (n->kind != CCFG_SCALAR || is_null(c, n))
			return fail_kind(c, f, n);
		switch (f->type) {
		case CT_STRING:
			rc = walk_string(c, f, n, dst);
			break;
		case CT_UINT:
			rc = walk_uint(c, f, n, dst);
			break;
		case CT_BOOL:
			rc = walk_bool(c, f, n, (bool *)(void *)dst);
			break;
		case CT_ENUM:
			rc = walk_enum(c, f, n, dst);
			break;
		case CT_HEX:
			rc = walk_hex(c, f, n, (uint8_t *)dst);
			break;
		case CT_TIME:
			rc = walk_time(c, f, n, (int64_t *)(void *)dst);
			break;
		case CT_ADDR:
		default:
			rc = walk_addr(c, f, n, obj);
			break;
		}
	}
	if (!rc && f->post)
		rc = f->post(c, n, obj);
	return rc;
}

/* ---- hooks: what one row cannot say ---- */

/* job_types: ["*"] means any type (n_types 0); "*" next to types is a mistake. */
static int
types_post(struct ccfg_ctx *c, const struct ccfg_node *n, void *obj)
{
	struct ccfg_principal *p = obj;
	unsigned i;

	for (i = 0; i < p->n_types; i++) {
		if (strcmp(p->types[i], "*") != 0)
			continue;
		if (p->n_types == 1) {
			p->n_types = 0;
			p->types[0][0] = '\0';
			return 0;
		}
		path_push_index(c, i);
		return ccfg_fail(c, ccfg_seq_at(c, n, i),
				 "\"*\" (any type) cannot be listed with other types; use [\"*\"] "
				 "alone or only type names");
	}
	return 0;
}

static int
operator_finish(struct ccfg_ctx *c, const struct ccfg_node *m, void *obj)
{
	struct ccfg_operator *op = obj;
	const struct ccfg_node *uid = ccfg_map_get(c, m, "uid"), *gid = ccfg_map_get(c, m, "gid");

	if (uid && gid) {
		path_push_key(c, "gid");
		return ccfg_fail(c, gid,
				 "both uid and gid given; an entry names exactly one "
				 "(a user or a group)");
	}
	if (!uid && !gid)
		return ccfg_fail(c, m,
				 "neither uid nor gid given; an entry names exactly one "
				 "(a user or a group)");
	op->is_gid = gid != NULL;
	if (!op->is_gid && op->id == 0 && op->role != CCFG_OP_ADMIN) {
		path_push_key(c, "role");
		return ccfg_fail(c, ccfg_map_get(c, m, "role"),
				 "uid 0 is always admin; make this role admin or remove the entry");
	}
	return 0;
}

static int
metrics_finish(struct ccfg_ctx *c, const struct ccfg_node *m, void *obj)
{
	(void)c;
	(void)m;
	((struct ctld_config *)obj)->metrics = true;
	return 0;
}

static int
queue_finish(struct ccfg_ctx *c, const struct ccfg_node *m, void *obj)
{
	(void)c;
	((struct ccfg_queue *)obj)->line = m->line;
	return 0;
}

static int
principal_finish(struct ccfg_ctx *c, const struct ccfg_node *m, void *obj)
{
	(void)c;
	((struct ccfg_principal *)obj)->line = m->line;
	return 0;
}

static int
token_finish(struct ccfg_ctx *c, const struct ccfg_node *m, void *obj)
{
	(void)c;
	((struct ccfg_token *)obj)->line = m->line;
	return 0;
}

/* A certificate mapping names it by exactly one of sha256 and subject. */
static int
cert_finish(struct ccfg_ctx *c, const struct ccfg_node *m, void *obj)
{
	struct ccfg_cert *cert = obj;
	const struct ccfg_node *fp = ccfg_map_get(c, m, "sha256"),
			       *subj = ccfg_map_get(c, m, "subject");

	if (fp && subj) {
		path_push_key(c, "subject");
		return ccfg_fail(c, subj,
				 "both sha256 and subject given; an entry names a certificate by "
				 "exactly one");
	}
	if (!fp && !subj)
		return ccfg_fail(
			c, m,
			"neither sha256 nor subject given; an entry names a certificate by "
			"exactly one (sha256: SHA-256 of its DER bytes, or subject)");
	cert->by_sha256 = fp != NULL;
	cert->line = m->line;
	return 0;
}

/* ---- the tables ---- */

/* Row builders: S is the struct being filled, m its member, k the YAML key. */
#define OFF(S, m) .off = offsetof(struct S, m)
#define WIDTH(S, m) .width = sizeof(((struct S *)0)->m)
#define UINT(S, k, m, lo, hi, d)                                                                   \
	{                                                                                          \
		.key = k, .type = CT_UINT, OFF(S, m), WIDTH(S, m), .min = lo, .max = hi, .def = d  \
	}
#define STRING(S, k, m, class, fl)                                                                 \
	{                                                                                          \
		.key = k, .type = CT_STRING, .cls = class, .flags = fl, OFF(S, m),                 \
		.size = sizeof(((struct S *)0)->m)                                                 \
	}
#define HEX(S, k, m, fl, bytes, why)                                                               \
	{                                                                                          \
		.key = k, .type = CT_HEX, .flags = fl, OFF(S, m), .size = bytes, .note = why       \
	}
#define ENUM(S, k, m, fl, table)                                                                   \
	{                                                                                          \
		.key = k, .type = CT_ENUM, .flags = fl, OFF(S, m), WIDTH(S, m), .names = table     \
	}
#define SECTION(k, schema, fl)                                                                     \
	{                                                                                          \
		.key = k, .type = CT_MAP, .flags = fl, .sub = &schema                              \
	}
/* A list at member a (an array, or with CF_ALLOC a pointer), its count at member n. */
#define LIST(S, k, a, n, fl, lo, hi, el)                                                           \
	{                                                                                          \
		.key = k, .type = CT_SEQ, .flags = fl, OFF(S, a),                                  \
		.size = sizeof(((struct S *)0)->a[0]), .aux = offsetof(struct S, n), WIDTH(S, n),  \
		.min = lo, .max = hi, .elem = &el                                                  \
	}
#define ELEM_MAP(schema)                                                                           \
	{                                                                                          \
		.type = CT_MAP, .sub = &schema                                                     \
	}
#define ELEM_STRING(class, cap)                                                                    \
	{                                                                                          \
		.type = CT_STRING, .cls = class, .size = cap                                       \
	}
#define SCHEMA(var, rows, fin)                                                                     \
	_Static_assert(sizeof(rows) / sizeof(rows[0]) <= 32,                                       \
		       "walk_map's seen mask holds 32 keys");                                      \
	static const struct ccfg_schema var = { rows, sizeof(rows) / sizeof(rows[0]), fin }

static const struct ccfg_enum roles[] = {
	{ "producer", CCFG_ROLE_PRODUCER },
	{ "consumer", CCFG_ROLE_CONSUMER },
	{ "both", CCFG_ROLE_BOTH },
	{ NULL, 0 },
};

static const struct ccfg_enum op_roles[] = {
	{ "admin", CCFG_OP_ADMIN },
	{ "operator", CCFG_OP_OPERATOR },
	{ "viewer", CCFG_OP_VIEWER },
	{ NULL, 0 },
};

/* (uid_t)-1 is "no user" to the kernel. */
static const struct ccfg_field uid_elem = { .type = CT_UINT, .width = 4, .max = UINT32_MAX - 1 };
static const struct ccfg_field ctype_elem = ELEM_STRING(CL_CTYPE, CCFG_CTYPE_MAX + 1);
static const struct ccfg_field glob_elem = ELEM_STRING(CL_GLOB, CCFG_NAME_MAX + 1);
static const struct ccfg_field type_elem = ELEM_STRING(CL_JOB_TYPE, CCFG_TYPE_MAX + 1);

/* dataplane_uids absent: [0] (CF_DEFAULT_ONE, def 0). */
static const struct ccfg_field ctld_rows[] = {
	STRING(ctld_config, "dataplane_socket", dataplane_socket, CL_PATH, CF_REQUIRED),
	LIST(ctld_config, "dataplane_uids", dataplane_uids, n_dataplane_uids,
	     CF_UNIQUE | CF_DEFAULT_ONE, 1, CCFG_UIDS_MAX, uid_elem),
	STRING(ctld_config, "operator_socket", operator_socket, CL_PATH, CF_REQUIRED),
	STRING(ctld_config, "state_dir", state_dir, CL_PATH, CF_REQUIRED),
	STRING(ctld_config, "audit_log", audit_log, CL_PATH, CF_REQUIRED),
};
SCHEMA(ctld_schema, ctld_rows, NULL);

static const struct ccfg_enum client_certs[] = {
	{ "none", CCFG_CLIENT_CERT_NONE },
	{ "optional", CCFG_CLIENT_CERT_OPTIONAL },
	{ "required", CCFG_CLIENT_CERT_REQUIRED },
	{ NULL, 0 },
};

/* Client certificates need a CA to verify them against. */
static int
listener_finish(struct ccfg_ctx *c, const struct ccfg_node *m, void *obj)
{
	struct ctld_config *cfg = obj;

	cfg->listener = true;
	if (cfg->tls_client_cert != CCFG_CLIENT_CERT_NONE && !cfg->tls_client_ca[0]) {
		path_push_key(c, "client_cert");
		return ccfg_fail(c, ccfg_map_get(c, m, "client_cert"),
				 "client certificates need client_ca (the CA that signs them)");
	}
	return 0;
}

static const struct ccfg_field listener_rows[] = {
	{ .key = "address",
	  .type = CT_ADDR,
	  OFF(ctld_config, listen_addr),
	  .aux = offsetof(struct ctld_config, listen_port),
	  .def_str = "127.0.0.1:7443" },
	STRING(ctld_config, "cert", tls_cert, CL_PATH, CF_REQUIRED),
	STRING(ctld_config, "key", tls_key, CL_PATH, CF_REQUIRED),
	STRING(ctld_config, "client_ca", tls_client_ca, CL_PATH, 0),
	ENUM(ctld_config, "client_cert", tls_client_cert, 0, client_certs),
};
SCHEMA(listener_schema, listener_rows, listener_finish);

static const struct ccfg_field metrics_rows[] = {
	{ .key = "listen",
	  .type = CT_ADDR,
	  OFF(ctld_config, metrics_addr),
	  .aux = offsetof(struct ctld_config, metrics_port),
	  .def_str = "127.0.0.1:9464" },
	HEX(ctld_config, "bearer_token_sha256", metrics_sha256, CF_REQUIRED, 32,
	    " (the SHA-256 of the scrape token)"),
};
SCHEMA(metrics_schema, metrics_rows, metrics_finish);

static const struct ccfg_field auth_rows[] = {
	UINT(ctld_config, "throttle_failures", throttle_failures, 1, 1000000, 5),
	UINT(ctld_config, "throttle_window_s", throttle_window_s, 1, 86400, 60),
	UINT(ctld_config, "ban_failures", ban_failures, 1, 1000000, 20),
	UINT(ctld_config, "ban_window_s", ban_window_s, 1, 86400, 300),
	UINT(ctld_config, "ban_s", ban_s, 1, 604800, 900),
};
SCHEMA(auth_schema, auth_rows, NULL);

/* 604800 s: the longest ticket lifetime TLS 1.3 allows (RFC 8446, 4.6.1). */
static const struct ccfg_field tickets_rows[] = {
	UINT(ctld_config, "rotate_s", ticket_rotate_s, 1, 604800, 3600),
	UINT(ctld_config, "lifetime_s", ticket_lifetime_s, 1, 604800, 7200),
};
SCHEMA(tickets_schema, tickets_rows, NULL);

/* uid and gid share id; operator_finish wants exactly one and sets is_gid. */
static const struct ccfg_field operator_rows[] = {
	UINT(ccfg_operator, "uid", id, 0, UINT32_MAX - 1, 0),
	UINT(ccfg_operator, "gid", id, 0, UINT32_MAX - 1, 0),
	ENUM(ccfg_operator, "role", role, CF_REQUIRED, op_roles),
};
SCHEMA(operator_schema, operator_rows, operator_finish);
static const struct ccfg_field operator_elem = ELEM_MAP(operator_schema);

/*
 * The keys, defaults and bounds of sluiced --queue (dataplane/config.c
 * parse_queue), except max_payload's default: sluiced's is the cap, the
 * file's is WIRE_PAYLOAD_BYTES_DEFAULT (written out in the --queue argument).
 */
static const struct ccfg_field queue_rows[] = {
	STRING(ccfg_queue, "name", name, CL_NAME, CF_REQUIRED),
	UINT(ccfg_queue, "max_jobs", max_jobs, 1, UINT32_MAX, 100000),
	/* parse_queue reads max_bytes with a 32-bit parser. */
	{ .key = "max_bytes",
	  .type = CT_UINT,
	  OFF(ccfg_queue, max_bytes),
	  WIDTH(ccfg_queue, max_bytes),
	  .min = 1,
	  .max = UINT32_MAX,
	  .def = 256u << 20,
	  .note = " (sluiced reads max_bytes as 32 bits)" },
	UINT(ccfg_queue, "max_in_flight", max_in_flight, 0, UINT32_MAX, 0),
	UINT(ccfg_queue, "rate", rate, 0, UINT32_MAX, 0),
	UINT(ccfg_queue, "burst", burst, 0, UINT32_MAX, 0),
	UINT(ccfg_queue, "max_attempts", max_attempts, 1, WIRE_ATTEMPTS_MAX, 5),
	UINT(ccfg_queue, "lease_ms", lease_ms, 1, WIRE_DURATION_MS_MAX, 30000),
	UINT(ccfg_queue, "ttl_ms", ttl_ms, 0, WIRE_DURATION_MS_MAX, 0),
	UINT(ccfg_queue, "backoff_ms", backoff_ms, 0, UINT32_MAX, 1000),
	UINT(ccfg_queue, "backoff_max_ms", backoff_max_ms, 0, UINT32_MAX, 300000),
	UINT(ccfg_queue, "dedup_ms", dedup_ms, 0, UINT32_MAX, 300000),
	UINT(ccfg_queue, "max_payload", max_payload, 0, WIRE_PAYLOAD_BYTES_CAP,
	     WIRE_PAYLOAD_BYTES_DEFAULT),
	LIST(ccfg_queue, "content_types", ctypes, n_ctypes, CF_UNIQUE, 0, CCFG_CTYPES_MAX,
	     ctype_elem),
	{ .key = "allow_code_serialization",
	  .type = CT_BOOL,
	  OFF(ccfg_queue, allow_code_serialization) },
};
SCHEMA(queue_schema, queue_rows, queue_finish);
static const struct ccfg_field queue_elem = ELEM_MAP(queue_schema);

/* sha256 may be upper or lower case (it becomes bytes); the id is text, lower case only. */
static const struct ccfg_field token_rows[] = {
	HEX(ccfg_token, "id", id, CF_REQUIRED | CF_LOWER, CCFG_TOKEN_ID_LEN, NULL),
	HEX(ccfg_token, "sha256", sha256, CF_REQUIRED, 32, " (the SHA-256 of the whole token)"),
	{ .key = "expires", .type = CT_TIME, OFF(ccfg_token, expires) },
};
SCHEMA(token_schema, token_rows, token_finish);
static const struct ccfg_field token_elem = ELEM_MAP(token_schema);

/* subject as mbedTLS prints a certificate's: "CN=producer-1, O=Example". */
static const struct ccfg_field cert_rows[] = {
	HEX(ccfg_cert, "sha256", sha256, 0, 32, " (the SHA-256 of the certificate's DER bytes)"),
	STRING(ccfg_cert, "subject", subject, CL_TEXT, 0),
};
SCHEMA(cert_schema, cert_rows, cert_finish);
static const struct ccfg_field cert_elem = ELEM_MAP(cert_schema);

/*
 * job_types absent: any (n_types 0). bytes_per_s and bytes_burst stop at
 * 2^40 (1 TiB/s), which keeps token-bucket arithmetic far from 2^64.
 */
static const struct ccfg_field principal_rows[] = {
	STRING(ccfg_principal, "name", name, CL_NAME, CF_REQUIRED),
	ENUM(ccfg_principal, "role", role, CF_REQUIRED, roles),
	LIST(ccfg_principal, "queues", globs, n_globs, CF_REQUIRED | CF_UNIQUE, 1, CCFG_GLOBS_MAX,
	     glob_elem),
	{ .key = "job_types",
	  .type = CT_SEQ,
	  .flags = CF_UNIQUE,
	  OFF(ccfg_principal, types),
	  .size = CCFG_TYPE_MAX + 1,
	  .aux = offsetof(struct ccfg_principal, n_types),
	  WIDTH(ccfg_principal, n_types),
	  .min = 1,
	  .max = CCFG_TYPES_MAX,
	  .elem = &type_elem,
	  .post = types_post },
	UINT(ccfg_principal, "max_payload", max_payload, 0, WIRE_PAYLOAD_BYTES_CAP,
	     WIRE_PAYLOAD_BYTES_DEFAULT),
	UINT(ccfg_principal, "max_priority", max_priority, 0, WIRE_PRIORITY_MAX, WIRE_PRIORITY_MAX),
	UINT(ccfg_principal, "jobs_per_s", jobs_per_s, 0, UINT32_MAX, 0),
	UINT(ccfg_principal, "jobs_burst", jobs_burst, 0, UINT32_MAX, 0),
	UINT(ccfg_principal, "bytes_per_s", bytes_per_s, 0, 1ull << 40, 0),
	UINT(ccfg_principal, "bytes_burst", bytes_burst, 0, 1ull << 40, 0),
	UINT(ccfg_principal, "max_connections", max_connections, 0, UINT32_MAX, 0),
	LIST(ccfg_principal, "tokens", tokens, n_tokens, 0, 0, CCFG_TOKENS_MAX, token_elem),
	LIST(ccfg_principal, "certificates", certs, n_certs, 0, 0, CCFG_CERTS_MAX, cert_elem),
};
SCHEMA(principal_schema, principal_rows, principal_finish);
static const struct ccfg_field principal_elem = ELEM_MAP(principal_schema);

/* queues and principals are malloc'd, exactly as many as the file lists. */
static const struct ccfg_field root_rows[] = {
	SECTION("ctld", ctld_schema, CF_REQUIRED),
	SECTION("listener", listener_schema, 0),
	SECTION("metrics", metrics_schema, 0),
	SECTION("auth", auth_schema, 0),
	SECTION("tickets", tickets_schema, 0),
	LIST(ctld_config, "operators", operators, n_operators, 0, 0, CCFG_OPERATORS_MAX,
	     operator_elem),
	LIST(ctld_config, "queues", queues, n_queues, CF_REQUIRED | CF_ALLOC, 1, CCFG_QUEUES_MAX,
	     queue_elem),
	LIST(ctld_config, "principals", principals, n_principals, CF_ALLOC, 0, CCFG_PRINCIPALS_MAX,
	     principal_elem),
};
SCHEMA(root_schema, root_rows, NULL);

int
ccfg_schema_walk(struct ccfg_ctx *c, struct ctld_config *out)
{
	const struct ccfg_node *root;

	apply_defaults(&root_schema, out);
	if (c->n_nodes == 0)
		return ccfg_fail_at(c, 1, 1, "top level", "the file is empty");
	root = &c->nodes[0];
	c->path_len = 0;
	c->path[0] = '\0';
	if (root->kind != CCFG_MAP)
		return ccfg_fail(c, root,
				 "expected a mapping of sections (ctld:, queues:, ...), got %s",
				 kind_name(c, root));
	return walk_map(c, &root_schema, root, out);
}
