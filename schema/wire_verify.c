/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Strict verifier for schema/sluice.fbs frames.
 *
 * A chain of named checks, one error per check (wire_error.def). Strict means
 * it accepts a subset of what FlatBuffers' C++ Verifier (2.0.8) accepts and
 * adds: vtable size >= 4, table inline size inside the frame, no field over
 * the table's soffset, non-zero offsets everywhere, vector element alignment,
 * union NONE <=> no value, known union and enum values, exact size prefix,
 * identifier "SLQ1", depth and table-count limits, then the semantic bounds
 * of wire_limits.h. See FLATBUFFERS-NOTES.md for the layout.
 *
 * Deliberately NOT checked: that a field ends within the inline size its
 * vtable records (flatcc's rule). python3-flatbuffers 2.0.8, the official
 * Python builder Debian ships, shares one vtable between tables whose field
 * offsets match but whose sizes differ, so that rule refuses ordinary frames
 * from Python producers (interop test "python-builder"). Every field is
 * still checked to lie inside the frame and to be aligned, which is what
 * memory safety needs; the C++ Verifier checks no more.
 *
 * Positions are uint32_t offsets from the frame's first byte; the frame is
 * at most WIRE_FRAME_BYTES_CAP + 4 bytes, so pos + small constant never
 * wraps. Every read is preceded by a check that it lies inside [0, len).
 */
#include "wire.h"

struct vctx {
	const uint8_t *buf;
	uint32_t len;
	uint32_t depth;
	uint32_t tables;
	uint32_t at; /* position of the failed check */
	const struct wire_limits *lim;
};

/* One table being verified: positions of the table and its vtable. */
struct tview {
	uint32_t t;
	uint32_t vt;
	uint32_t vsize; /* vtable bytes */
	uint32_t tsize; /* table inline bytes, including the soffset */
};

#define FAIL(c, err, pos)                                                                          \
	do {                                                                                       \
		(c)->at = (pos);                                                                   \
		return -WIRE_E_##err;                                                              \
	} while (0)

/* Per-field helpers: inlined so sizes and alignments fold to constants. */
#define HOT static inline __attribute__((always_inline))

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_ != 0)                                                                      \
			return rc_;                                                                \
	} while (0)

/* ---- character classes ---- */

/* Scalar path, strings under 16 bytes. 1: name [A-Za-z0-9_.:-]; 2: text 0x20-0x7e. */
static const uint8_t char_class[256] = {
	[' '] = 2, ['!'] = 2, ['"'] = 2, ['#'] = 2, ['$'] = 2,  ['%'] = 2, ['&'] = 2, ['\''] = 2,
	['('] = 2, [')'] = 2, ['*'] = 2, ['+'] = 2, [','] = 2,  ['-'] = 3, ['.'] = 3, ['/'] = 2,
	['0'] = 3, ['1'] = 3, ['2'] = 3, ['3'] = 3, ['4'] = 3,  ['5'] = 3, ['6'] = 3, ['7'] = 3,
	['8'] = 3, ['9'] = 3, [':'] = 3, [';'] = 2, ['<'] = 2,  ['='] = 2, ['>'] = 2, ['?'] = 2,
	['@'] = 2, ['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3,  ['E'] = 3, ['F'] = 3, ['G'] = 3,
	['H'] = 3, ['I'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3,  ['M'] = 3, ['N'] = 3, ['O'] = 3,
	['P'] = 3, ['Q'] = 3, ['R'] = 3, ['S'] = 3, ['T'] = 3,  ['U'] = 3, ['V'] = 3, ['W'] = 3,
	['X'] = 3, ['Y'] = 3, ['Z'] = 3, ['['] = 2, ['\\'] = 2, [']'] = 2, ['^'] = 2, ['_'] = 3,
	['`'] = 2, ['a'] = 3, ['b'] = 3, ['c'] = 3, ['d'] = 3,  ['e'] = 3, ['f'] = 3, ['g'] = 3,
	['h'] = 3, ['i'] = 3, ['j'] = 3, ['k'] = 3, ['l'] = 3,  ['m'] = 3, ['n'] = 3, ['o'] = 3,
	['p'] = 3, ['q'] = 3, ['r'] = 3, ['s'] = 3, ['t'] = 3,  ['u'] = 3, ['v'] = 3, ['w'] = 3,
	['x'] = 3, ['y'] = 3, ['z'] = 3, ['{'] = 2, ['|'] = 2,  ['}'] = 2, ['~'] = 2,
};

/*
 * Vector path, strings of 16 bytes or more: GCC/Clang vector extensions
 * (SSE2/NEON, no intrinsics); a lane is all ones when its byte is allowed.
 */
typedef uint8_t v16u8 __attribute__((vector_size(16)));

static inline v16u8
name_lanes(v16u8 c)
{
	v16u8 lower = c | 0x20; /* 'A'-'Z' -> 'a'-'z'; nothing else lands in 'a'-'z' */

	return (v16u8)((c - '0' < 11) /* 0-9 and ':' */ | (lower - 'a' < 26) | (c == '_') |
		       (c == '-') | (c == '.'));
}

static inline v16u8
text_lanes(v16u8 c)
{
	return (v16u8)(c - 0x20 < 0x5f); /* 0x20..0x7e */
}

static inline bool
chunk_ok(const char *p, bool name)
{
	uint64_t w[2];
	v16u8 c;

	memcpy(&c, p, sizeof(c));
	c = name ? name_lanes(c) : text_lanes(c);
	memcpy(w, &c, sizeof(w));
	return (w[0] & w[1]) == UINT64_MAX;
}

static bool
check_class(const char *p, size_t len, bool name)
{
	uint8_t class = name ? 1 : 2, all = class;
	size_t i;

	if (len < 16) {
		/* No early exit: the common case is a valid string. */
		for (i = 0; i < len; i++)
			all &= char_class[(uint8_t)p[i]];
		return all == class;
	}
	/* Whole chunks, then one chunk ending at len (overlapping): no tail copy. */
	for (i = 0; i + 16 <= len; i += 16)
		if (!chunk_ok(p + i, name))
			return false;
	return i == len || chunk_ok(p + len - 16, name);
}

/*
 * The verifier's path for strings inside a frame: one vector test of the 16
 * bytes ending at the string's end, the lanes before the string counted as
 * allowed. In an honest frame a string's bytes start at byte 16 or later
 * (12-byte header, 4-byte length), but a hostile offset can aim a string at
 * the header: then the window would start before the frame, so those take
 * the scalar path.
 */
static const uint8_t lead_mask[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* then 16 zeros */
};

HOT bool
frame_class_ok(const struct vctx *vc, const char *p, uint32_t len, bool name)
{
	v16u8 c, mask;
	uint64_t w[2];

	if (len == 0)
		return true;
	if (len > 16 || (size_t)(p - (const char *)vc->buf) + len < 16)
		return check_class(p, len, name);
	memcpy(&c, p + len - 16, 16);
	memcpy(&mask, lead_mask + len, 16);
	c = (name ? name_lanes(c) : text_lanes(c)) | mask;
	memcpy(w, &c, sizeof(w));
	return (w[0] & w[1]) == UINT64_MAX;
}

/* wire_check_text for strings inside a verified-so-far frame. */
HOT int
frame_text(const struct vctx *vc, const char *p, uint32_t len, size_t max)
{
	if (len > max)
		return -WIRE_E_TEXT_TOO_LONG;
	return frame_class_ok(vc, p, len, false) ? 0 : -WIRE_E_TEXT_BAD_CHAR;
}

int
wire_check_name(const char *p, size_t len, size_t max)
{
	if (len == 0)
		return -WIRE_E_NAME_EMPTY;
	if (len > max)
		return -WIRE_E_NAME_TOO_LONG;
	if (!check_class(p, len, true))
		return -WIRE_E_NAME_BAD_CHAR;
	return 0;
}

int
wire_check_text(const char *p, size_t len, size_t max)
{
	if (len > max)
		return -WIRE_E_TEXT_TOO_LONG;
	if (!check_class(p, len, false))
		return -WIRE_E_TEXT_BAD_CHAR;
	return 0;
}

/* ---- structural checks ---- */

/*
 * Follow the uoffset at slot (4-aligned and inside the frame by the caller's
 * check). FlatBuffers: non-zero, below 2^31, target inside the buffer.
 */
HOT int
follow_offset(struct vctx *c, uint32_t slot, uint32_t *target)
{
	uint32_t o = wire_ld32(c->buf + slot);

	if (o == 0)
		FAIL(c, OFFSET_ZERO, slot);
	if (o >= c->len - slot) /* also rejects o >= 2^31: len < 2^31 */
		FAIL(c, OFFSET_OUT_OF_RANGE, slot);
	*target = slot + o;
	return 0;
}

/* Enter the table at pos: depth and count limits, soffset, vtable, sizes. */
static int
table_enter(struct vctx *c, uint32_t pos, struct tview *tv)
{
	int64_t vt;

	if (++c->depth > c->lim->max_depth)
		FAIL(c, DEPTH_EXCEEDED, pos);
	if (++c->tables > c->lim->max_tables)
		FAIL(c, TABLE_COUNT_EXCEEDED, pos);
	if (pos & 3)
		FAIL(c, TABLE_MISALIGNED, pos);
	if (pos > c->len - 4)
		FAIL(c, TABLE_OUT_OF_RANGE, pos);
	/* vtable = table - soffset; either direction. */
	vt = (int64_t)pos - (int32_t)wire_ld32(c->buf + pos);
	if (vt < 0 || vt > (int64_t)c->len - 4)
		FAIL(c, VTABLE_OUT_OF_RANGE, pos);
	tv->t = pos;
	tv->vt = (uint32_t)vt;
	if (tv->vt & 1)
		FAIL(c, VTABLE_MISALIGNED, pos);
	tv->vsize = wire_ld16(c->buf + tv->vt);
	tv->tsize = wire_ld16(c->buf + tv->vt + 2);
	if (tv->vsize < 4)
		FAIL(c, VTABLE_SIZE_TOO_SMALL, tv->vt);
	if (tv->vsize & 1)
		FAIL(c, VTABLE_SIZE_ODD, tv->vt);
	if (tv->vsize > c->len - tv->vt)
		FAIL(c, VTABLE_OUT_OF_RANGE, tv->vt);
	if (tv->tsize < 4)
		FAIL(c, TABLE_SIZE_TOO_SMALL, tv->vt + 2);
	if (tv->tsize > c->len - pos)
		FAIL(c, TABLE_SIZE_OUT_OF_RANGE, tv->vt + 2);
	return 0;
}

static inline void
table_leave(struct vctx *c)
{
	c->depth--;
}

/*
 * Position of field id (size bytes, aligned to align) or 0 when absent.
 * The field must lie after the table's soffset and inside the frame (not
 * necessarily inside the vtable's recorded table size: see the top).
 */
HOT int
field_pos(struct vctx *c, const struct tview *tv, unsigned id, uint32_t size, uint32_t align,
	  uint32_t *pos)
{
	uint32_t entry = 4 + 2 * id;
	uint32_t off;

	*pos = 0;
	if (entry + 2 > tv->vsize)
		return 0;
	off = wire_ld16(c->buf + tv->vt + entry);
	if (off == 0)
		return 0;
	if (off < 4 || off + size > c->len - tv->t)
		FAIL(c, FIELD_OUT_OF_RANGE, tv->vt + entry);
	if ((tv->t + off) & (align - 1))
		FAIL(c, FIELD_MISALIGNED, tv->t + off);
	*pos = tv->t + off;
	return 0;
}

/* Offset field id: *target = what it points at, 0 when absent. */
HOT int
field_target(struct vctx *c, const struct tview *tv, unsigned id, bool required, uint32_t *target)
{
	uint32_t slot;

	*target = 0;
	TRY(field_pos(c, tv, id, 4, 4, &slot));
	if (slot == 0) {
		if (required)
			FAIL(c, REQUIRED_FIELD_MISSING, tv->t);
		return 0;
	}
	return follow_offset(c, slot, target);
}

/* The string at pos: length, bytes, NUL inside the frame. */
HOT int
check_string(struct vctx *c, uint32_t pos, struct wire_str *s)
{
	uint32_t n, room;

	if (pos & 3)
		FAIL(c, STRING_MISALIGNED, pos);
	if (pos > c->len - 4)
		FAIL(c, STRING_OUT_OF_RANGE, pos);
	n = wire_ld32(c->buf + pos);
	room = c->len - pos - 4;
	if (n > room)
		FAIL(c, STRING_OUT_OF_RANGE, pos);
	if (n == room || c->buf[pos + 4 + n] != 0)
		FAIL(c, STRING_NOT_TERMINATED, pos);
	s->p = (const char *)c->buf + pos + 4;
	s->len = n;
	return 0;
}

/* Vector at pos of elements elem_size bytes, aligned to elem_align. */
HOT int
check_vector(struct vctx *c, uint32_t pos, uint32_t elem_size, uint32_t elem_align, uint32_t *n)
{
	if (pos & 3)
		FAIL(c, VECTOR_MISALIGNED, pos);
	if (pos > c->len - 4)
		FAIL(c, VECTOR_OUT_OF_RANGE, pos);
	*n = wire_ld32(c->buf + pos);
	/* Division, not multiplication: count * elem_size may overflow. */
	if (*n > (c->len - pos - 4) / elem_size)
		FAIL(c, VECTOR_OUT_OF_RANGE, pos);
	/* The official builder writes empty vectors only 4-aligned: accept that. */
	if (*n != 0 && ((pos + 4) & (elem_align - 1)))
		FAIL(c, VECTOR_MISALIGNED, pos);
	return 0;
}

/* ---- typed field helpers ---- */

HOT int
field_string(struct vctx *c, const struct tview *tv, unsigned id, bool required, struct wire_str *s,
	     uint32_t *at)
{
	s->p = NULL;
	s->len = 0;
	TRY(field_target(c, tv, id, required, at));
	return *at ? check_string(c, *at, s) : 0;
}

/* Required name field (queue, type, header key). */
HOT int
field_name(struct vctx *c, const struct tview *tv, unsigned id, size_t max)
{
	struct wire_str s;
	uint32_t at;
	int rc;

	TRY(field_string(c, tv, id, true, &s, &at));
	rc = s.len == 0                             ? -WIRE_E_NAME_EMPTY
	     : s.len > max                          ? -WIRE_E_NAME_TOO_LONG
	     : !frame_class_ok(c, s.p, s.len, true) ? -WIRE_E_NAME_BAD_CHAR
						    : 0;
	if (rc)
		c->at = at;
	return rc;
}

/* Optional (or required) printable text field. */
HOT int
field_text(struct vctx *c, const struct tview *tv, unsigned id, bool required, size_t max,
	   struct wire_str *s)
{
	uint32_t at;
	int rc;

	TRY(field_string(c, tv, id, required, s, &at));
	if (!s->p)
		return 0;
	rc = frame_text(c, s->p, s->len, max);
	if (rc)
		c->at = at;
	return rc;
}

/* Vector field: *vpos (0 when absent) and *n elements. */
HOT int
field_vector(struct vctx *c, const struct tview *tv, unsigned id, bool required, uint32_t elem_size,
	     uint32_t elem_align, uint32_t *vpos, uint32_t *n)
{
	*n = 0;
	TRY(field_target(c, tv, id, required, vpos));
	return *vpos ? check_vector(c, *vpos, elem_size, elem_align, n) : 0;
}

/* Vector count within [1, max] when present. */
HOT int
check_count(struct vctx *c, uint32_t vpos, uint32_t n, uint32_t max, int err_empty, int err_long)
{
	if (vpos == 0)
		return 0;
	c->at = vpos;
	if (n == 0)
		return -err_empty;
	if (n > max)
		return -err_long;
	return 0;
}

HOT int
field_u8(struct vctx *c, const struct tview *tv, unsigned id, uint8_t def, uint32_t *v,
	 uint32_t *at)
{
	TRY(field_pos(c, tv, id, 1, 1, at));
	*v = *at ? c->buf[*at] : def;
	return 0;
}

HOT int
field_u16(struct vctx *c, const struct tview *tv, unsigned id, uint16_t def, uint32_t *v,
	  uint32_t *at)
{
	TRY(field_pos(c, tv, id, 2, 2, at));
	*v = *at ? wire_ld16(c->buf + *at) : def;
	return 0;
}

HOT int
field_u32(struct vctx *c, const struct tview *tv, unsigned id, uint32_t *v, uint32_t *at)
{
	TRY(field_pos(c, tv, id, 4, 4, at));
	*v = *at ? wire_ld32(c->buf + *at) : 0;
	return 0;
}

HOT int
field_u64(struct vctx *c, const struct tview *tv, unsigned id)
{
	uint32_t at;

	return field_pos(c, tv, id, 8, 8, &at);
}

/* A u32 duration in ms, at most WIRE_DURATION_MS_MAX. */
HOT int
field_duration(struct vctx *c, const struct tview *tv, unsigned id)
{
	uint32_t v, at;

	TRY(field_u32(c, tv, id, &v, &at));
	if (v > WIRE_DURATION_MS_MAX)
		FAIL(c, DURATION_OUT_OF_RANGE, at);
	return 0;
}

HOT int
field_bool(struct vctx *c, const struct tview *tv, unsigned id)
{
	uint32_t v, at;

	TRY(field_u8(c, tv, id, 0, &v, &at));
	if (v > 1)
		FAIL(c, BOOL_INVALID, at);
	return 0;
}

/* A ushort enum Status field. */
HOT int
field_status(struct vctx *c, const struct tview *tv, unsigned id, uint16_t def)
{
	uint32_t v, at;

	TRY(field_u16(c, tv, id, def, &v, &at));
	if (v >= WIRE_STATUS__COUNT)
		FAIL(c, ENUM_UNKNOWN, at);
	return 0;
}

/* Required [Status] of 1..max entries, each known. */
static int
field_status_vector(struct vctx *c, const struct tview *tv, unsigned id, uint32_t max, uint32_t *n)
{
	uint32_t vpos, i;

	TRY(field_vector(c, tv, id, true, 2, 2, &vpos, n));
	TRY(check_count(c, vpos, *n, max, WIRE_E_LIST_EMPTY, WIRE_E_LIST_TOO_LONG));
	for (i = 0; i < *n; i++)
		if (wire_ld16(c->buf + vpos + 4 + 2 * i) >= WIRE_STATUS__COUNT)
			FAIL(c, ENUM_UNKNOWN, vpos + 4 + 2 * i);
	return 0;
}

/* Required [ulong] lease ids, 1..max_batch_jobs. */
static int
field_lease_ids(struct vctx *c, const struct tview *tv, unsigned id)
{
	uint32_t vpos, n;

	TRY(field_vector(c, tv, id, true, 8, 8, &vpos, &n));
	return check_count(c, vpos, n, c->lim->max_batch_jobs, WIRE_E_LIST_EMPTY,
			   WIRE_E_LIST_TOO_LONG);
}

typedef int (*verify_table_fn)(struct vctx *c, uint32_t pos);

/* Every element of the vector of tables at vpos (n elements). */
static int
vector_tables(struct vctx *c, uint32_t vpos, uint32_t n, verify_table_fn fn)
{
	uint32_t i, target;

	for (i = 0; i < n; i++) {
		TRY(follow_offset(c, vpos + 4 + 4 * i, &target));
		TRY(fn(c, target));
	}
	return 0;
}

/* ---- one function per table ---- */

static int
verify_header(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;

	TRY(table_enter(c, pos, &tv));
	TRY(field_name(c, &tv, wire_fid_header_key, WIRE_HEADER_KEY_MAX));
	TRY(field_text(c, &tv, wire_fid_header_value, true, WIRE_HEADER_VALUE_MAX, &s));
	table_leave(c);
	return 0;
}

static int
verify_job(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;
	uint32_t v, at, vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_name(c, &tv, wire_fid_job_queue, WIRE_QUEUE_NAME_MAX));
	TRY(field_name(c, &tv, wire_fid_job_type, WIRE_TYPE_NAME_MAX));

	/* struct JobId: 16 bytes, aligned to its largest member (8). */
	TRY(field_pos(c, &tv, wire_fid_job_id, WIRE_JOB_ID_BYTES, 8, &at));
	if (at && wire_ld64(c->buf + at) == 0 && wire_ld64(c->buf + at + 8) == 0)
		FAIL(c, JOB_ID_ZERO, at);

	TRY(field_vector(c, &tv, wire_fid_job_payload, false, 1, 1, &vpos, &n));
	if (n > c->lim->max_payload_bytes)
		FAIL(c, PAYLOAD_TOO_LARGE, vpos);

	TRY(field_text(c, &tv, wire_fid_job_content_type, false, WIRE_CONTENT_TYPE_MAX, &s));

	TRY(field_u8(c, &tv, wire_fid_job_priority, 0, &v, &at));
	if (v > WIRE_PRIORITY_MAX)
		FAIL(c, PRIORITY_OUT_OF_RANGE, at);
	TRY(field_u64(c, &tv, wire_fid_job_not_before_ms));
	TRY(field_duration(c, &tv, wire_fid_job_ttl_ms));
	TRY(field_u16(c, &tv, wire_fid_job_max_attempts, 0, &v, &at));
	if (v > WIRE_ATTEMPTS_MAX)
		FAIL(c, ATTEMPTS_OUT_OF_RANGE, at);
	TRY(field_duration(c, &tv, wire_fid_job_lease_timeout_ms));

	TRY(field_string(c, &tv, wire_fid_job_unique_key, false, &s, &at));
	if (s.p) {
		int rc = s.len ? frame_text(c, s.p, s.len, WIRE_UNIQUE_KEY_MAX)
			       : -WIRE_E_UNIQUE_KEY_EMPTY;
		if (rc) {
			c->at = at;
			return rc;
		}
	}
	TRY(field_duration(c, &tv, wire_fid_job_unique_ttl_ms));

	TRY(field_vector(c, &tv, wire_fid_job_headers, false, 4, 4, &vpos, &n));
	if (n > WIRE_HEADERS_MAX)
		FAIL(c, HEADERS_TOO_MANY, vpos);
	TRY(vector_tables(c, vpos, n, verify_header));
	table_leave(c);
	return 0;
}

static int
verify_hello(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;
	uint32_t v, at, vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u16(c, &tv, wire_fid_hello_version, 1, &v, &at));
	if (v != WIRE_PROTOCOL_VERSION)
		FAIL(c, VERSION_UNSUPPORTED, at);
	TRY(field_u8(c, &tv, wire_fid_hello_role, WIRE_ROLE_PRODUCER, &v, &at));
	if (v < WIRE_ROLE_PRODUCER || v > WIRE_ROLE_BOTH)
		FAIL(c, ENUM_UNKNOWN, at);
	TRY(field_vector(c, &tv, wire_fid_hello_token, false, 1, 1, &vpos, &n));
	if (n > WIRE_TOKEN_MAX)
		FAIL(c, TOKEN_TOO_LONG, vpos);
	TRY(field_text(c, &tv, wire_fid_hello_client_name, false, WIRE_CLIENT_NAME_MAX, &s));
	table_leave(c);
	return 0;
}

static int
verify_welcome(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;
	uint32_t v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u16(c, &tv, wire_fid_welcome_version, 1, &v, &at));
	if (v != WIRE_PROTOCOL_VERSION)
		FAIL(c, VERSION_UNSUPPORTED, at);
	TRY(field_u64(c, &tv, wire_fid_welcome_session_id));
	TRY(field_u32(c, &tv, wire_fid_welcome_max_frame_bytes, &v, &at));
	TRY(field_u32(c, &tv, wire_fid_welcome_max_batch_jobs, &v, &at));
	TRY(field_u32(c, &tv, wire_fid_welcome_heartbeat_ms, &v, &at));
	TRY(field_text(c, &tv, wire_fid_welcome_server_name, false, WIRE_CLIENT_NAME_MAX, &s));
	table_leave(c);
	return 0;
}

static int
verify_enqueue_batch(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_enqueue_batch_seq));
	TRY(field_vector(c, &tv, wire_fid_enqueue_batch_jobs, true, 4, 4, &vpos, &n));
	TRY(check_count(c, vpos, n, c->lim->max_batch_jobs, WIRE_E_BATCH_EMPTY,
			WIRE_E_BATCH_TOO_LARGE));
	TRY(vector_tables(c, vpos, n, verify_job));
	table_leave(c);
	return 0;
}

static int
verify_enqueue_ack(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t n_status, vpos, n_ids;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_enqueue_ack_seq));
	TRY(field_status_vector(c, &tv, wire_fid_enqueue_ack_status, c->lim->max_batch_jobs,
				&n_status));
	TRY(field_vector(c, &tv, wire_fid_enqueue_ack_ids, true, WIRE_JOB_ID_BYTES, 8, &vpos,
			 &n_ids));
	if (n_ids != n_status)
		FAIL(c, LENGTH_MISMATCH, vpos);
	table_leave(c);
	return 0;
}

static int
verify_queue_weight(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_name(c, &tv, wire_fid_queue_weight_queue, WIRE_QUEUE_NAME_MAX));
	TRY(field_u16(c, &tv, wire_fid_queue_weight_weight, 1, &v, &at));
	if (v < 1 || v > WIRE_WEIGHT_MAX)
		FAIL(c, WEIGHT_OUT_OF_RANGE, at);
	table_leave(c);
	return 0;
}

static int
verify_subscribe(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n, v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_vector(c, &tv, wire_fid_subscribe_queues, true, 4, 4, &vpos, &n));
	TRY(check_count(c, vpos, n, WIRE_SUBSCRIBE_QUEUES_MAX, WIRE_E_LIST_EMPTY,
			WIRE_E_LIST_TOO_LONG));
	TRY(vector_tables(c, vpos, n, verify_queue_weight));
	TRY(field_u32(c, &tv, wire_fid_subscribe_prefetch, &v, &at));
	if (at && v > WIRE_CREDIT_MAX)
		FAIL(c, CREDIT_OUT_OF_RANGE, at);
	table_leave(c);
	return 0;
}

static int
verify_credit(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u32(c, &tv, wire_fid_credit_credit, &v, &at));
	if (v < 1 || v > WIRE_CREDIT_MAX)
		FAIL(c, CREDIT_OUT_OF_RANGE, at ? at : pos);
	table_leave(c);
	return 0;
}

static int
verify_deliver(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at, job;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_deliver_lease_id));
	TRY(field_u16(c, &tv, wire_fid_deliver_attempt, 0, &v, &at));
	TRY(field_duration(c, &tv, wire_fid_deliver_lease_timeout_ms));
	TRY(field_u64(c, &tv, wire_fid_deliver_enqueued_ms));
	TRY(field_target(c, &tv, wire_fid_deliver_job, true, &job));
	TRY(verify_job(c, job));
	table_leave(c);
	return 0;
}

static int
verify_complete(struct vctx *c, uint32_t pos)
{
	struct tview tv;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_complete_seq));
	TRY(field_lease_ids(c, &tv, wire_fid_complete_lease_ids));
	table_leave(c);
	return 0;
}

static int
verify_fail(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_fail_seq));
	TRY(field_u64(c, &tv, wire_fid_fail_lease_id));
	TRY(field_text(c, &tv, wire_fid_fail_reason, false, WIRE_TEXT_MAX, &s));
	TRY(field_duration(c, &tv, wire_fid_fail_retry_delay_ms));
	TRY(field_bool(c, &tv, wire_fid_fail_dead));
	table_leave(c);
	return 0;
}

static int
verify_extend_lease(struct vctx *c, uint32_t pos)
{
	struct tview tv;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_extend_lease_seq));
	TRY(field_lease_ids(c, &tv, wire_fid_extend_lease_lease_ids));
	TRY(field_duration(c, &tv, wire_fid_extend_lease_extend_ms));
	table_leave(c);
	return 0;
}

static int
verify_lease_ack(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_lease_ack_seq));
	TRY(field_status_vector(c, &tv, wire_fid_lease_ack_status, c->lim->max_batch_jobs, &n));
	table_leave(c);
	return 0;
}

/* Ping and Pong share a layout: two ulongs. */
static int
verify_ping(struct vctx *c, uint32_t pos)
{
	struct tview tv;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_ping_nonce));
	TRY(field_u64(c, &tv, wire_fid_ping_time_ms));
	table_leave(c);
	return 0;
}

static int
verify_error(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;

	TRY(table_enter(c, pos, &tv));
	TRY(field_status(c, &tv, wire_fid_error_code, WIRE_STATUS_INVALID));
	TRY(field_text(c, &tv, wire_fid_error_message, false, WIRE_TEXT_MAX, &s));
	TRY(field_u64(c, &tv, wire_fid_error_ref_seq));
	table_leave(c);
	return 0;
}

static int
verify_goodbye(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;

	TRY(table_enter(c, pos, &tv));
	TRY(field_status(c, &tv, wire_fid_goodbye_reason, WIRE_STATUS_OK));
	TRY(field_text(c, &tv, wire_fid_goodbye_message, false, WIRE_TEXT_MAX, &s));
	table_leave(c);
	return 0;
}

#define verify_pong verify_ping
_Static_assert((int)wire_fid_ping_nonce == (int)wire_fid_pong_nonce &&
		       (int)wire_fid_ping_time_ms == (int)wire_fid_pong_time_ms,
	       "Ping and Pong must share a layout");

static const verify_table_fn verify_msg[WIRE_MSG__COUNT] = {
#define WIRE_MSG(sym, tbl, name) [WIRE_MSG_##sym] = verify_##tbl,
#include "wire_msg.def"
#undef WIRE_MSG
};

/* Root table: union Message (type at id 0, value at id 1). */
static int
verify_frame_table(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t type, at, msg;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u8(c, &tv, wire_fid_frame_msg_type, WIRE_MSG_NONE, &type, &at));
	if (type >= WIRE_MSG__COUNT)
		FAIL(c, UNION_TYPE_UNKNOWN, at);
	TRY(field_target(c, &tv, wire_fid_frame_msg, false, &msg));
	if (type == WIRE_MSG_NONE) {
		if (msg)
			FAIL(c, UNION_NONE_WITH_VALUE, msg);
		FAIL(c, MESSAGE_MISSING, pos);
	}
	if (!msg)
		FAIL(c, UNION_VALUE_MISSING, pos);
	TRY(verify_msg[type](c, msg));
	table_leave(c);
	return 0;
}

int
wire_verify(const void *frame, size_t len, const struct wire_limits *lim, uint32_t *err_at)
{
	struct vctx c = {
		.buf = frame,
		.lim = lim ? lim : &wire_limits_default,
	};
	uint32_t root;
	int rc;

	/* Envelope: [u32 L][u32 root][ident], L == len - 4 exactly. */
	if (len < WIRE_FRAME_HEADER_BYTES) {
		c.at = 0;
		rc = -WIRE_E_FRAME_TOO_SHORT;
		goto out;
	}
	if (wire_ld32(c.buf) != len - 4) {
		c.at = 0;
		rc = -WIRE_E_SIZE_PREFIX_MISMATCH;
		goto out;
	}
	if (len - 4 > c.lim->max_frame_bytes || len - 4 > WIRE_FRAME_BYTES_CAP) {
		c.at = 0;
		rc = -WIRE_E_FRAME_TOO_LARGE;
		goto out;
	}
	c.len = (uint32_t)len;
	if (memcmp(c.buf + 8, WIRE_IDENTIFIER, 4) != 0) {
		c.at = 8;
		rc = -WIRE_E_IDENTIFIER_MISMATCH;
		goto out;
	}
	rc = follow_offset(&c, 4, &root);
	if (rc == 0)
		rc = verify_frame_table(&c, root);
out:
	if (rc && err_at)
		*err_at = c.at;
	return rc;
}
