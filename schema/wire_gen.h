/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Field ids and zero-copy accessors from a file of schema rows (the
 * WIRE_TABLE / WIRE_F_* rows that wire_schema.def documents). Included
 * once per schema, with WIRE_ROWS naming the rows file:
 *
 *   #define WIRE_ROWS "wire_schema.def"    (wire.h)
 *   #define WIRE_ROWS "ctl_schema.def"     (ctl.h)
 *   #include "wire_gen.h"
 *
 * Declares struct wire_<table>, the ids wire_fid_<table>_<field> and the
 * accessors below. No include guard: one inclusion per rows file. Needs the
 * loads and wire_field_ptr() of wire.h.
 */
#ifndef WIRE_ROWS
#error "define WIRE_ROWS (the rows file) before including wire_gen.h"
#endif

#define WIRE_TABLE(tbl) struct wire_##tbl;
#define WIRE_F_U8(tbl, f, id, def)
#define WIRE_F_U16(tbl, f, id, def)
#define WIRE_F_U32(tbl, f, id, def)
#define WIRE_F_U64(tbl, f, id, def)
#define WIRE_F_BOOL(tbl, f, id, def)
#define WIRE_F_STR(tbl, f, id)
#define WIRE_F_BYTES(tbl, f, id)
#define WIRE_F_ID(tbl, f, id)
#define WIRE_F_ROLE(tbl, f, id, def)
#define WIRE_F_STATUS(tbl, f, id, def)
#define WIRE_F_STATUSES(tbl, f, id)
#define WIRE_F_U64S(tbl, f, id)
#define WIRE_F_U32S(tbl, f, id)
#define WIRE_F_STRS(tbl, f, id)
#define WIRE_F_IDS(tbl, f, id)
#define WIRE_F_TABLE(tbl, f, id, child)
#define WIRE_F_TABLES(tbl, f, id, child)
#include WIRE_ROWS
#include "wire_schema_undef.h"

/* wire_fid_<table>_<field>: the field's vtable id. */
#define WIRE_TABLE(tbl)
#define WIRE_FID_ROW(tbl, f, id) wire_fid_##tbl##_##f = (id),
#define WIRE_F_U8(tbl, f, id, def) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_U16(tbl, f, id, def) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_U32(tbl, f, id, def) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_U64(tbl, f, id, def) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_BOOL(tbl, f, id, def) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_STR(tbl, f, id) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_BYTES(tbl, f, id) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_ID(tbl, f, id) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_ROLE(tbl, f, id, def) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_STATUS(tbl, f, id, def) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_STATUSES(tbl, f, id) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_U64S(tbl, f, id) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_U32S(tbl, f, id) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_STRS(tbl, f, id) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_IDS(tbl, f, id) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_TABLE(tbl, f, id, child) WIRE_FID_ROW(tbl, f, id)
#define WIRE_F_TABLES(tbl, f, id, child) WIRE_FID_ROW(tbl, f, id)
enum {
#include WIRE_ROWS
};
#include "wire_schema_undef.h"
#undef WIRE_FID_ROW

/*
 * wire_<table>_<field>(t): the value, or the schema default when absent.
 * Strings and byte vectors: struct wire_str / wire_bytes (p NULL if absent).
 * Vectors: wire_<table>_<field>_len(t) and wire_<table>_<field>_at(t, i).
 * Sub-tables: pointer, NULL when absent.
 */
#define WIRE_TABLE(tbl)
#define WIRE_SCALAR_GET(tbl, f, id, type, ld, def)                                                 \
	static inline type wire_##tbl##_##f(const struct wire_##tbl *t)                            \
	{                                                                                          \
		const uint8_t *p = wire_field_ptr(t, id);                                          \
		return p ? (type)ld(p) : (type)(def);                                              \
	}
#define wire_ld8(p) (*(p))
#define WIRE_F_U8(tbl, f, id, def) WIRE_SCALAR_GET(tbl, f, id, uint8_t, wire_ld8, def)
#define WIRE_F_U16(tbl, f, id, def) WIRE_SCALAR_GET(tbl, f, id, uint16_t, wire_ld16, def)
#define WIRE_F_U32(tbl, f, id, def) WIRE_SCALAR_GET(tbl, f, id, uint32_t, wire_ld32, def)
#define WIRE_F_U64(tbl, f, id, def) WIRE_SCALAR_GET(tbl, f, id, uint64_t, wire_ld64, def)
#define WIRE_F_BOOL(tbl, f, id, def) WIRE_SCALAR_GET(tbl, f, id, bool, wire_ld8, def)
#define WIRE_F_STR(tbl, f, id)                                                                     \
	static inline struct wire_str wire_##tbl##_##f(const struct wire_##tbl *t)                 \
	{                                                                                          \
		const uint8_t *v = wire_field_deref(t, id);                                        \
		struct wire_str s = { NULL, 0 };                                                   \
		if (v) {                                                                           \
			s.p = (const char *)v + 4;                                                 \
			s.len = wire_ld32(v);                                                      \
		}                                                                                  \
		return s;                                                                          \
	}
#define WIRE_F_BYTES(tbl, f, id)                                                                   \
	static inline struct wire_bytes wire_##tbl##_##f(const struct wire_##tbl *t)               \
	{                                                                                          \
		const uint8_t *v = wire_field_deref(t, id);                                        \
		struct wire_bytes b = { NULL, 0 };                                                 \
		if (v) {                                                                           \
			b.p = v + 4;                                                               \
			b.len = wire_ld32(v);                                                      \
		}                                                                                  \
		return b;                                                                          \
	}
#define WIRE_F_ID(tbl, f, id)                                                                      \
	static inline struct wire_jobid wire_##tbl##_##f(const struct wire_##tbl *t)               \
	{                                                                                          \
		const uint8_t *p = wire_field_ptr(t, id);                                          \
		struct wire_jobid z = { 0, 0 };                                                    \
		return p ? wire_ld_jobid(p) : z;                                                   \
	}
#define WIRE_VEC_GET(tbl, f, id, type, elem_size, ld)                                              \
	static inline uint32_t wire_##tbl##_##f##_len(const struct wire_##tbl *t)                  \
	{                                                                                          \
		return wire_vec_len(wire_field_deref(t, id));                                      \
	}                                                                                          \
	static inline type wire_##tbl##_##f##_at(const struct wire_##tbl *t, uint32_t i)           \
	{                                                                                          \
		return ld(wire_field_deref(t, id) + 4 + (size_t)(elem_size)*i);                    \
	}
#define WIRE_F_ROLE(tbl, f, id, def) WIRE_F_U8(tbl, f, id, def)
#define WIRE_F_STATUS(tbl, f, id, def) WIRE_F_U16(tbl, f, id, def)
#define WIRE_F_STATUSES(tbl, f, id) WIRE_VEC_GET(tbl, f, id, uint16_t, 2, wire_ld16)
#define WIRE_F_U64S(tbl, f, id) WIRE_VEC_GET(tbl, f, id, uint64_t, 8, wire_ld64)
#define WIRE_F_U32S(tbl, f, id) WIRE_VEC_GET(tbl, f, id, uint32_t, 4, wire_ld32)
#define WIRE_F_STRS(tbl, f, id)                                                                    \
	static inline struct wire_str wire_##tbl##_##f##_ld(const uint8_t *slot)                   \
	{                                                                                          \
		const uint8_t *v = wire_deref(slot);                                               \
		struct wire_str s = { (const char *)v + 4, wire_ld32(v) };                         \
		return s;                                                                          \
	}                                                                                          \
	WIRE_VEC_GET(tbl, f, id, struct wire_str, 4, wire_##tbl##_##f##_ld)
#define WIRE_F_IDS(tbl, f, id) WIRE_VEC_GET(tbl, f, id, struct wire_jobid, 16, wire_ld_jobid)
#define WIRE_F_TABLE(tbl, f, id, child)                                                            \
	static inline const struct wire_##child *wire_##tbl##_##f(const struct wire_##tbl *t)      \
	{                                                                                          \
		return (const struct wire_##child *)wire_field_deref(t, id);                       \
	}
#define WIRE_F_TABLES(tbl, f, id, child)                                                           \
	static inline const struct wire_##child *wire_##tbl##_##f##_ld(const uint8_t *slot)        \
	{                                                                                          \
		return (const struct wire_##child *)wire_deref(slot);                              \
	}                                                                                          \
	WIRE_VEC_GET(tbl, f, id, const struct wire_##child *, 4, wire_##tbl##_##f##_ld)
#include WIRE_ROWS
#include "wire_schema_undef.h"
#undef WIRE_SCALAR_GET
#undef WIRE_VEC_GET
#undef wire_ld8
