/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice wire frames: strict verifier and zero-copy accessors for
 * schema/sluice.fbs.
 *
 * A frame is FlatBuffers' size-prefixed layout, alignment counted from the
 * frame's first byte:
 *
 *   0        4             8        12
 *   +--------+-------------+--------+---------------------------------+
 *   | u32 L  | u32 root ofs| "SLQ1" | vtables, tables, strings, ...    |
 *   +--------+-------------+--------+---------------------------------+
 *   |<-4->|<---------------------- L bytes ------------------------->|
 *
 * Rule: call wire_verify() on exactly the 4 + L bytes of a frame and read
 * nothing unless it returned 0. The accessors below do no bounds checks; on
 * a verified frame every one of them stays inside the frame. They read with
 * unaligned little-endian loads, so the frame may sit at any address.
 */
#ifndef SLUICE_WIRE_H
#define SLUICE_WIRE_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire_limits.h"

/* Errors: functions return 0 or -WIRE_E_<symbol>. */
enum wire_err {
	WIRE_OK = 0,
#define WIRE_ERROR(sym, name) WIRE_E_##sym,
#include "wire_error.def"
#undef WIRE_ERROR
	WIRE_E__COUNT
};

/* Name of an error (either sign), "unknown_error" when out of range. */
const char *wire_error_name(int err);

enum wire_status {
#define WIRE_STATUS(sym, name) WIRE_STATUS_##sym,
#include "wire_status.def"
#undef WIRE_STATUS
	WIRE_STATUS__COUNT
};

/* Schema name of a status ("QueueFull"), NULL when out of range. */
const char *wire_status_name(unsigned status);

enum wire_role {
	WIRE_ROLE_PRODUCER = 1,
	WIRE_ROLE_CONSUMER = 2,
	WIRE_ROLE_BOTH = 3,
};

/* Schema name of a role ("Consumer"), NULL when out of range. */
const char *wire_role_name(unsigned role);

enum wire_msg {
	WIRE_MSG_NONE = 0,
#define WIRE_MSG(sym, tbl, name) WIRE_MSG_##sym,
#include "wire_msg.def"
#undef WIRE_MSG
	WIRE_MSG__COUNT
};

/* Schema name of a message type ("EnqueueBatch"), NULL when out of range. */
const char *wire_msg_name(unsigned type);

/* A string or byte vector inside a frame; p == NULL when the field is absent. */
struct wire_str {
	const char *p;
	uint32_t len;
};

struct wire_bytes {
	const uint8_t *p;
	uint32_t len;
};

/* The 16-byte job id; all zero means absent. */
struct wire_jobid {
	uint64_t hi;
	uint64_t lo;
};

/*
 * Verify one frame: exactly the 4 + L bytes [frame, frame + len). Never reads
 * outside them, whatever they hold. lim == NULL means wire_limits_default.
 * Thread-safe (no state outside the call).
 * Returns 0 when the frame is well formed and within every bound, else
 * -WIRE_E_<check>; *err_at (if not NULL) is then the byte offset, from the
 * frame's first byte, of the item that failed the check.
 */
int wire_verify(const void *frame, size_t len, const struct wire_limits *lim, uint32_t *err_at);

/*
 * Semantic checks shared by the verifier, the builder's callers and the
 * control plane: 0 or -WIRE_E_NAME_* / -WIRE_E_TEXT_*.
 * Names: 1..max bytes of [A-Za-z0-9_.:-]. Text: 0..max bytes of 0x20-0x7e.
 */
int wire_check_name(const char *p, size_t len, size_t max);

/*
 * Exactly 2n hexadecimal digits (either case) at s into n bytes at out.
 * 0, or -1 when s has another length or a non-hex character (out may then
 * be partly written). Thread-safe.
 */
int wire_unhex(const char *s, size_t slen, uint8_t *out, size_t n);
int wire_check_text(const char *p, size_t len, size_t max);

/* ---- little-endian loads, any alignment ---- */

static inline uint16_t
wire_ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t
wire_ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t
wire_ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline struct wire_jobid
wire_ld_jobid(const uint8_t *p)
{
	struct wire_jobid id = { wire_ld64(p), wire_ld64(p + 8) };

	return id;
}

/*
 * Address of field `id` of the table at t, or NULL when absent.
 * Only for tables inside a verified frame.
 */
static inline const uint8_t *
wire_field_ptr(const void *t, unsigned id)
{
	const uint8_t *tp = (const uint8_t *)t;
	const uint8_t *vt = tp - (int32_t)wire_ld32(tp);
	unsigned entry = 4 + 2 * id;
	uint16_t off;

	if (entry + 2 > wire_ld16(vt))
		return NULL;
	off = wire_ld16(vt + entry);
	return off ? tp + off : NULL;
}

/* Follow the uoffset stored at p. */
static inline const uint8_t *
wire_deref(const uint8_t *p)
{
	return p + wire_ld32(p);
}

static inline const uint8_t *
wire_field_deref(const void *t, unsigned id)
{
	const uint8_t *p = wire_field_ptr(t, id);

	return p ? wire_deref(p) : NULL;
}

static inline uint32_t
wire_vec_len(const uint8_t *v)
{
	return v ? wire_ld32(v) : 0;
}

/* ---- field ids and accessors, from wire_schema.def (see wire_gen.h) ---- */

#define WIRE_ROWS "wire_schema.def"
#include "wire_gen.h"
#undef WIRE_ROWS

/* The union's value field (its type is the row msg_type, at id 0). */
enum { wire_fid_frame_msg = 1 };

/* ---- the frame ---- */

/* Root table of a verified frame (frame = first byte of the size prefix). */
static inline const struct wire_frame *
wire_frame_root(const void *frame)
{
	const uint8_t *p = (const uint8_t *)frame + 4;

	return (const struct wire_frame *)wire_deref(p);
}

/* Message table of a verified frame, typed by wire_frame_msg_type(). */
static inline const void *
wire_frame_msg(const struct wire_frame *f)
{
	return wire_field_deref(f, wire_fid_frame_msg);
}

/* wire_frame_<msg>(f): the message if the frame carries that type, else NULL. */
#define WIRE_MSG(sym, tbl, name)                                                                   \
	static inline const struct wire_##tbl *wire_frame_##tbl(const struct wire_frame *f)        \
	{                                                                                          \
		if (wire_frame_msg_type(f) != WIRE_MSG_##sym)                                      \
			return NULL;                                                               \
		return (const struct wire_##tbl *)wire_frame_msg(f);                               \
	}
#include "wire_msg.def"

#ifdef __cplusplus
extern "C" {
#endif
#undef WIRE_MSG

#ifdef __cplusplus
}
#endif

#endif
