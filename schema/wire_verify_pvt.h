/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The checks of sluice's strict FlatBuffers verifiers, private to schema/.
 * One set of checks serves every schema: wire_verify.c (sluice.fbs frames)
 * and ctl_verify.c (control.fbs messages) hold only their tables' rules
 * and are built from these pieces:
 *
 *   verify_envelope   [u32 L][u32 root][ident]: exact prefix, size, identifier
 *   table_enter/leave depth and table-count limits, soffset, vtable, sizes
 *   field_*           one field: inside the buffer, aligned, then its bounds
 *   field_union       a union's type and value: known type, NONE <=> no value
 *   vector_tables     every table of a vector of tables
 *
 * Each check fails with its own -WIRE_E_<check> (wire_error.def) and sets
 * c->at, the byte offset of the item at fault. See wire_verify.c for what
 * "strict" means and FLATBUFFERS-NOTES.md for the layout.
 *
 * Positions are uint32_t offsets from the buffer's first byte; a buffer is
 * at most WIRE_FRAME_BYTES_CAP + 4 bytes, so pos + small constant never
 * wraps. Every read is preceded by a check that it lies inside [0, len).
 */
#ifndef SLUICE_WIRE_VERIFY_PVT_H
#define SLUICE_WIRE_VERIFY_PVT_H

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
/* Larger helpers: called, not inlined; not every verifier uses every one. */
#define PVT static __attribute__((unused))

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

PVT bool
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
PVT int
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

typedef int (*verify_table_fn)(struct vctx *c, uint32_t pos);

/* Every element of the vector of tables at vpos (n elements). */
PVT int
vector_tables(struct vctx *c, uint32_t vpos, uint32_t n, verify_table_fn fn)
{
	uint32_t i, target;

	for (i = 0; i < n; i++) {
		TRY(follow_offset(c, vpos + 4 + 4 * i, &target));
		TRY(fn(c, target));
	}
	return 0;
}

/* Enum field of ushort type: the value (or def when absent) below count. */
HOT int
field_enum16(struct vctx *c, const struct tview *tv, unsigned id, uint16_t def, uint32_t count)
{
	uint32_t v, at;

	TRY(field_u16(c, tv, id, def, &v, &at));
	if (v >= count)
		FAIL(c, ENUM_UNKNOWN, at);
	return 0;
}

/*
 * The union whose type field is type_id and value field type_id + 1, which
 * every message of sluice's schemas must hold: *type in [1, n_types) and
 * *value the position of its table. NONE with a value, a value without a
 * type, an unknown type and no union at all each fail with their own error.
 */
HOT int
field_union(struct vctx *c, const struct tview *tv, unsigned type_id, uint32_t n_types,
	    uint32_t *type, uint32_t *value)
{
	uint32_t at;

	TRY(field_u8(c, tv, type_id, 0, type, &at));
	if (*type >= n_types)
		FAIL(c, UNION_TYPE_UNKNOWN, at);
	TRY(field_target(c, tv, type_id + 1, false, value));
	if (*type == 0) {
		if (*value)
			FAIL(c, UNION_NONE_WITH_VALUE, *value);
		FAIL(c, MESSAGE_MISSING, tv->t);
	}
	if (!*value)
		FAIL(c, UNION_VALUE_MISSING, tv->t);
	return 0;
}

/*
 * The envelope of a size-prefixed buffer of len bytes:
 *   [u32 L][u32 root offset][4-byte identifier], L == len - 4 exactly,
 *   L <= max_bytes (and WIRE_FRAME_BYTES_CAP).
 * Sets c->len and *root, the position of the root table.
 */
HOT int
verify_envelope(struct vctx *c, size_t len, uint32_t max_bytes, const char ident[4], uint32_t *root)
{
	if (len < WIRE_FRAME_HEADER_BYTES)
		FAIL(c, FRAME_TOO_SHORT, 0);
	if (wire_ld32(c->buf) != len - 4)
		FAIL(c, SIZE_PREFIX_MISMATCH, 0);
	if (len - 4 > max_bytes || len - 4 > WIRE_FRAME_BYTES_CAP)
		FAIL(c, FRAME_TOO_LARGE, 0);
	c->len = (uint32_t)len;
	if (memcmp(c->buf + 8, ident, 4) != 0)
		FAIL(c, IDENTIFIER_MISMATCH, 8);
	return follow_offset(c, 4, root);
}

#endif
