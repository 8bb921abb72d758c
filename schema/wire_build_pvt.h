/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pieces of sluice's FlatBuffers builders, private to schema/: one set
 * serves wire_build.c (sluice.fbs frames) and ctl_build.c (control.fbs
 * messages), which only say which fields each table has.
 *
 * A buffer is laid out front to back. FlatBuffers' uoffsets are unsigned
 * and point forward, so every table is written before the strings, vectors
 * and tables it refers to, and its offset slots are patched once each child
 * is placed. Each table is preceded by its own vtable:
 *
 *   [u32 L][u32 root][ident] ... | vtable | pad | soffset, fields by alignment | children ...
 *                                  ^vt            ^t: soffset = t - vt (> 0)
 *
 * Alignment is counted from the buffer's first byte (the size prefix).
 * Errors stick: after the first one every call does nothing, and wb_end()
 * returns it.
 */
#ifndef SLUICE_WIRE_BUILD_PVT_H
#define SLUICE_WIRE_BUILD_PVT_H

#include <sys/types.h>

#include "wire.h"

/* Not every builder uses every piece. */
#define PVT static __attribute__((unused))

/* Fields of the widest table (control.fbs QueueInfo has 20). */
#define TABLE_FIELDS_MAX 24

struct wb {
	uint8_t *buf;
	uint32_t cap;
	uint32_t pos;
	int err;
};

/* One inline field of a table being written. */
struct wb_field {
	uint8_t id;
	uint8_t size;
	uint8_t align;
	uint8_t is_offset;
	uint64_t v;                    /* scalar value */
	const struct wire_jobid *id16; /* JobId struct */
};

struct wb_table {
	struct wb_field f[TABLE_FIELDS_MAX];
	unsigned n;
	uint32_t slot[TABLE_FIELDS_MAX]; /* by field id: where the field landed */
};

/* Reserve size zeroed bytes at the next multiple of align; 0 on overflow. */
PVT uint32_t
wb_reserve(struct wb *b, uint32_t align, uint32_t size)
{
	uint32_t start = (b->pos + align - 1) & ~(align - 1);

	if (b->err)
		return 0; /* keep the first error */
	if (start < b->pos || size > b->cap || start > b->cap - size) {
		b->err = -WIRE_E_BUILD_NO_SPACE;
		return 0;
	}
	memset(b->buf + b->pos, 0, start + size - b->pos);
	b->pos = start + size;
	return start;
}

PVT void
wb_st16(struct wb *b, uint32_t at, uint16_t v)
{
	v = htole16(v);
	memcpy(b->buf + at, &v, 2);
}

PVT void
wb_st32(struct wb *b, uint32_t at, uint32_t v)
{
	v = htole32(v);
	memcpy(b->buf + at, &v, 4);
}

PVT void
wb_st64(struct wb *b, uint32_t at, uint64_t v)
{
	v = htole64(v);
	memcpy(b->buf + at, &v, 8);
}

/* Point the uoffset slot at target (written later, so target > slot). */
PVT void
wb_link(struct wb *b, uint32_t slot, uint32_t target)
{
	if (!b->err)
		wb_st32(b, slot, target - slot);
}

PVT void
tf_scalar(struct wb_table *t, unsigned id, unsigned size, uint64_t v, uint64_t def)
{
	if (v == def)
		return;
	t->f[t->n++] = (struct wb_field){ .id = id, .size = size, .align = size, .v = v };
}

PVT void
tf_offset(struct wb_table *t, unsigned id, bool present)
{
	if (present)
		t->f[t->n++] = (struct wb_field){ .id = id, .size = 4, .align = 4, .is_offset = 1 };
}

PVT void
tf_jobid(struct wb_table *t, unsigned id, const struct wire_jobid *v)
{
	if (v->hi || v->lo)
		t->f[t->n++] = (struct wb_field){ .id = id, .size = 16, .align = 8, .id16 = v };
}

/* Write vtable and table inline part; return the table position. */
PVT uint32_t
wb_table(struct wb *b, struct wb_table *t)
{
	unsigned order[TABLE_FIELDS_MAX];
	unsigned i, j, max_id = 0, nslots;
	uint32_t vt, tp;

	for (i = 0; i < t->n; i++) {
		if (t->f[i].id >= max_id)
			max_id = t->f[i].id + 1u;
		/* insertion sort by alignment, largest first: no padding holes */
		for (j = i; j > 0 && t->f[order[j - 1]].align < t->f[i].align; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	nslots = max_id;
	vt = wb_reserve(b, 2, 4 + 2 * nslots);
	tp = wb_reserve(b, 4, 4);
	for (i = 0; i < t->n; i++) {
		const struct wb_field *f = &t->f[order[i]];
		uint32_t at = wb_reserve(b, f->align, f->size);

		if (b->err)
			return 0;
		t->slot[f->id] = at;
		if (f->id16) {
			wb_st64(b, at, f->id16->hi);
			wb_st64(b, at + 8, f->id16->lo);
		} else if (!f->is_offset) {
			switch (f->size) {
			case 1:
				b->buf[at] = (uint8_t)f->v;
				break;
			case 2:
				wb_st16(b, at, (uint16_t)f->v);
				break;
			case 4:
				wb_st32(b, at, (uint32_t)f->v);
				break;
			default:
				wb_st64(b, at, f->v);
			}
		}
	}
	if (b->err || b->pos - tp > UINT16_MAX)
		return b->err = -WIRE_E_BUILD_NO_SPACE, 0;
	wb_st16(b, vt, (uint16_t)(4 + 2 * nslots));
	wb_st16(b, vt + 2, (uint16_t)(b->pos - tp));
	for (i = 0; i < t->n; i++)
		wb_st16(b, vt + 4 + 2 * t->f[i].id, (uint16_t)(t->slot[t->f[i].id] - tp));
	wb_st32(b, tp, tp - vt);
	return tp;
}

/* Vector header + body for n elements, elements aligned to align. */
PVT uint32_t
wb_vector(struct wb *b, uint32_t n, uint32_t elem_size, uint32_t align)
{
	uint32_t pos;

	if (n > WIRE_FRAME_BYTES_CAP / elem_size) {
		b->err = b->err ? b->err : -WIRE_E_BUILD_BAD_INPUT; /* no frame can hold it */
		return 0;
	}
	/*
	 * The length is 4-aligned and elements start right after it: for wider
	 * elements, pad (after 4-aligning) until pos + 4 is a multiple of align.
	 */
	wb_reserve(b, 4, 0);
	if (align > 4 && n > 0 && ((b->pos + 4) & (align - 1)))
		wb_reserve(b, 4, align - ((b->pos + 4) & (align - 1)));
	pos = wb_reserve(b, 4, 4 + n * elem_size);
	if (!b->err)
		wb_st32(b, pos, n);
	return pos;
}

PVT void
wb_string_at(struct wb *b, uint32_t slot, struct wire_str s)
{
	uint32_t pos;

	if (!s.p || b->err)
		return;
	if (s.len > WIRE_FRAME_BYTES_CAP) {
		b->err = -WIRE_E_BUILD_BAD_INPUT; /* no frame can hold it */
		return;
	}
	pos = wb_reserve(b, 4, 4 + s.len + 1); /* NUL stays from the zeroing */
	if (b->err)
		return;
	wb_st32(b, pos, s.len);
	memcpy(b->buf + pos + 4, s.p, s.len);
	wb_link(b, slot, pos);
}

PVT void
wb_bytes_at(struct wb *b, uint32_t slot, struct wire_bytes v)
{
	uint32_t pos;

	if (!v.p || b->err)
		return;
	if (v.len > WIRE_FRAME_BYTES_CAP) {
		b->err = -WIRE_E_BUILD_BAD_INPUT;
		return;
	}
	pos = wb_vector(b, v.len, 1, 1);
	if (b->err)
		return;
	memcpy(b->buf + pos + 4, v.p, v.len);
	wb_link(b, slot, pos);
}

PVT void
wb_u16s_at(struct wb *b, uint32_t slot, const uint16_t *v, uint32_t n)
{
	uint32_t pos = wb_vector(b, n, 2, 2), i;

	for (i = 0; !b->err && i < n; i++)
		wb_st16(b, pos + 4 + 2 * i, v[i]);
	wb_link(b, slot, pos);
}

PVT void
wb_u64s_at(struct wb *b, uint32_t slot, const uint64_t *v, uint32_t n)
{
	uint32_t pos = wb_vector(b, n, 8, 8), i;

	for (i = 0; !b->err && i < n; i++)
		wb_st64(b, pos + 4 + 8 * i, v[i]);
	wb_link(b, slot, pos);
}

PVT void
wb_ids_at(struct wb *b, uint32_t slot, const struct wire_jobid *v, uint32_t n)
{
	uint32_t pos = wb_vector(b, n, 16, 8), i;

	for (i = 0; !b->err && i < n; i++) {
		wb_st64(b, pos + 4 + 16 * i, v[i].hi);
		wb_st64(b, pos + 12 + 16 * i, v[i].lo);
	}
	wb_link(b, slot, pos);
}

/* Start a size-prefixed buffer in buf[0, cap): [u32 L][u32 root][ident]. */
PVT void
wb_begin(struct wb *b, void *buf, size_t cap, const char ident[4])
{
	*b = (struct wb){
		.buf = buf,
		.cap = cap > WIRE_FRAME_BYTES_CAP + 4 ? WIRE_FRAME_BYTES_CAP + 4 : (uint32_t)cap,
	};
	wb_reserve(b, 4, WIRE_FRAME_HEADER_BYTES);
	if (!b->err)
		memcpy(b->buf + 8, ident, 4);
}

/* Point the root offset at root and write L: the buffer's length, or the first error. */
PVT ssize_t
wb_end(struct wb *b, uint32_t root)
{
	wb_link(b, 4, root);
	if (b->err)
		return b->err;
	wb_st32(b, 0, b->pos - 4);
	return b->pos;
}

/*
 * A table of a ushort status (omitted when it equals def) and an optional
 * text: Goodbye and Error frames, control Error messages.
 */
PVT uint32_t
wb_status_text(struct wb *b, unsigned status_id, uint16_t status, uint16_t def, unsigned text_id,
	       struct wire_str text, struct wb_table *t)
{
	uint32_t pos;

	tf_scalar(t, status_id, 2, status, def);
	tf_offset(t, text_id, text.p != NULL);
	pos = wb_table(b, t);
	wb_string_at(b, t->slot[text_id], text);
	return pos;
}

/*
 * A whole size-prefixed buffer in buf[0, cap) with identifier ident: its
 * root table holds the fields already in *root, then a union whose type is
 * field type_id (its value field type_id + 1) holding the message put(b, m)
 * writes after it. The buffer's length, or the first error.
 */
PVT ssize_t
wb_build_union(void *buf, size_t cap, const char ident[4], struct wb_table *root, unsigned type_id,
	       unsigned type, uint32_t (*put)(struct wb *b, const void *m), const void *m)
{
	struct wb b;
	uint32_t pos;

	if (!buf || !m)
		return -WIRE_E_BUILD_BAD_INPUT;
	wb_begin(&b, buf, cap, ident);
	tf_scalar(root, type_id, 1, type, 0);
	tf_offset(root, type_id + 1, true);
	pos = wb_table(&b, root);
	wb_link(&b, root->slot[type_id + 1], put(&b, m));
	return wb_end(&b, pos);
}

#endif
