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
 * This file holds the rules of sluice.fbs's tables. The checks they are
 * made of (envelope, tables, fields, unions) serve the control verifier
 * too: wire_verify_pvt.h.
 */
#include "wire.h"
#include "wire_verify_pvt.h"

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

/* A ushort enum Status field. */
HOT int
field_status(struct vctx *c, const struct tview *tv, unsigned id, uint16_t def)
{
	return field_enum16(c, tv, id, def, WIRE_STATUS__COUNT);
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
	uint32_t type, msg;

	TRY(table_enter(c, pos, &tv));
	TRY(field_union(c, &tv, wire_fid_frame_msg_type, WIRE_MSG__COUNT, &type, &msg));
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

	rc = verify_envelope(&c, len, c.lim->max_frame_bytes, WIRE_IDENTIFIER, &root);
	if (rc == 0)
		rc = verify_frame_table(&c, root);
	if (rc && err_at)
		*err_at = c.at;
	return rc;
}
