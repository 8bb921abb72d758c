/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Strict verifier for schema/control.fbs messages: the rules of its tables,
 * made of the checks the wire verifier uses (wire_verify_pvt.h), so strict
 * means here what it means for frames (see wire_verify.c): a subset of what
 * FlatBuffers' C++ Verifier accepts, plus identifier "SLC1", exact size
 * prefix, depth and table-count limits and the bounds of ctl.h.
 */
#include <string.h>

#include "ctl.h"
#include "wire_verify_pvt.h"

/* CTL_TABLES_MAX counts QueueInfos; Grants and ConnLists hold fewer tables. */
_Static_assert(CTL_GRANTS_MAX <= CTL_QUEUES_MAX && CTL_CONNS_MAX <= CTL_QUEUES_MAX,
	       "table count bound");

/* Depth, table count and size for the verifier's shared checks. */
static const struct wire_limits ctl_limits = {
	.max_frame_bytes = CTL_MSG_BYTES_MAX,
	.max_depth = CTL_SCHEMA_DEPTH,
	.max_tables = CTL_TABLES_MAX,
};

static const char *const status_names[CTL_STATUS__COUNT] = {
#define CTL_STATUS(sym, name) [CTL_STATUS_##sym] = name,
#include "ctl_status.def"
#undef CTL_STATUS
};

static const struct {
	const char *name;
	bool request;
} msgs[CTL_MSG__COUNT] = {
	[CTL_MSG_NONE] = { "NONE", false },
#define CTL_MSG(sym, tbl, name, req) [CTL_MSG_##sym] = { name, req },
#include "ctl_msg.def"
#undef CTL_MSG
};

const char *
ctl_status_name(unsigned status)
{
	return status < CTL_STATUS__COUNT ? status_names[status] : NULL;
}

const char *
ctl_msg_name(unsigned type)
{
	return type < CTL_MSG__COUNT ? msgs[type].name : NULL;
}

bool
ctl_msg_is_request(unsigned type)
{
	return type < CTL_MSG__COUNT && msgs[type].request;
}

const char *const ctl_queue_info_names[CTL_QUEUE_VALUES] = {
	"ready",         "delayed",  "retry_wait",     "leased",    "dead",
	"bytes",         "enqueued", "delivered",      "completed", "failed",
	"dead_lettered", "expired",  "lease_timeouts", "redriven",  "purged",
};

void
ctl_queue_info_values(const struct wire_ctl_queue_info *qi, uint64_t v[CTL_QUEUE_VALUES])
{
	const uint64_t all[CTL_QUEUE_VALUES] = {
		wire_ctl_queue_info_ready(qi),          wire_ctl_queue_info_delayed(qi),
		wire_ctl_queue_info_retry_wait(qi),     wire_ctl_queue_info_leased(qi),
		wire_ctl_queue_info_dead(qi),           wire_ctl_queue_info_bytes(qi),
		wire_ctl_queue_info_enqueued(qi),       wire_ctl_queue_info_delivered(qi),
		wire_ctl_queue_info_completed(qi),      wire_ctl_queue_info_failed(qi),
		wire_ctl_queue_info_dead_lettered(qi),  wire_ctl_queue_info_expired(qi),
		wire_ctl_queue_info_lease_timeouts(qi), wire_ctl_queue_info_redriven(qi),
		wire_ctl_queue_info_purged(qi),
	};

	memcpy(v, all, sizeof(all));
}

/* ---- one function per table ---- */

static int
verify_ctl_queue_info(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;
	unsigned id;

	TRY(table_enter(c, pos, &tv));
	TRY(field_name(c, &tv, wire_fid_ctl_queue_info_name, WIRE_QUEUE_NAME_MAX));
	TRY(field_bool(c, &tv, wire_fid_ctl_queue_info_paused));
	for (id = wire_fid_ctl_queue_info_ready; id <= wire_fid_ctl_queue_info_dead; id++)
		TRY(field_u32(c, &tv, id, &v, &at));
	for (id = wire_fid_ctl_queue_info_bytes; id <= wire_fid_ctl_queue_info_purged; id++)
		TRY(field_u64(c, &tv, id));
	table_leave(c);
	return 0;
}

/* ListQueues: an optional queue name. */
static int
verify_ctl_list_queues(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;
	uint32_t at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_string(c, &tv, wire_fid_ctl_list_queues_queue, false, &s, &at));
	if (s.p) {
		int rc = wire_check_name(s.p, s.len, WIRE_QUEUE_NAME_MAX);

		if (rc) {
			c->at = at;
			return rc;
		}
	}
	table_leave(c);
	return 0;
}

/* PauseQueue, ResumeQueue and PurgeQueue share a layout: one required queue name. */
static int
verify_ctl_pause_queue(struct vctx *c, uint32_t pos)
{
	struct tview tv;

	TRY(table_enter(c, pos, &tv));
	TRY(field_name(c, &tv, wire_fid_ctl_pause_queue_queue, WIRE_QUEUE_NAME_MAX));
	table_leave(c);
	return 0;
}

#define verify_ctl_resume_queue verify_ctl_pause_queue
#define verify_ctl_purge_queue verify_ctl_pause_queue
_Static_assert((int)wire_fid_ctl_pause_queue_queue == (int)wire_fid_ctl_resume_queue_queue &&
		       (int)wire_fid_ctl_pause_queue_queue == (int)wire_fid_ctl_purge_queue_queue,
	       "PauseQueue, ResumeQueue and PurgeQueue must share a layout");

static int
verify_ctl_redrive_queue(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_name(c, &tv, wire_fid_ctl_redrive_queue_queue, WIRE_QUEUE_NAME_MAX));
	TRY(field_u32(c, &tv, wire_fid_ctl_redrive_queue_max, &v, &at));
	if (v > CTL_REDRIVE_MAX)
		FAIL(c, CTL_MAX_OUT_OF_RANGE, at);
	table_leave(c);
	return 0;
}

static int
verify_ctl_queue_list(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_vector(c, &tv, wire_fid_ctl_queue_list_queues, true, 4, 4, &vpos, &n));
	if (n > CTL_QUEUES_MAX)
		FAIL(c, LIST_TOO_LONG, vpos);
	TRY(vector_tables(c, vpos, n, verify_ctl_queue_info));
	table_leave(c);
	return 0;
}

static int
verify_ctl_action_result(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at, qi;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u32(c, &tv, wire_fid_ctl_action_result_count, &v, &at));
	TRY(field_target(c, &tv, wire_fid_ctl_action_result_queue, true, &qi));
	TRY(verify_ctl_queue_info(c, qi));
	table_leave(c);
	return 0;
}

static int
verify_ctl_error(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;

	TRY(table_enter(c, pos, &tv));
	TRY(field_enum16(c, &tv, wire_fid_ctl_error_code, CTL_STATUS_INVALID, CTL_STATUS__COUNT));
	TRY(field_text(c, &tv, wire_fid_ctl_error_message, false, WIRE_TEXT_MAX, &s));
	table_leave(c);
	return 0;
}

/* ---- the ctld <-> sluiced link ---- */

enum str_class { STR_NAME, STR_GLOB, STR_TEXT };

/* One string of class cls, 1..max bytes (text: 1..max printable bytes). */
static int
check_str_class(struct vctx *c, uint32_t at, struct wire_str s, enum str_class cls, uint32_t max)
{
	uint32_t i;
	int rc = 0;

	if (s.len == 0)
		rc = cls == STR_TEXT ? -WIRE_E_CTL_VALUE_OUT_OF_RANGE : -WIRE_E_NAME_EMPTY;
	else if (s.len > max)
		rc = cls == STR_TEXT ? -WIRE_E_TEXT_TOO_LONG : -WIRE_E_NAME_TOO_LONG;
	else if (cls == STR_TEXT)
		rc = frame_text(c, s.p, s.len, max);
	else
		for (i = 0; i < s.len && !rc; i++)
			if (!(cls == STR_GLOB && s.p[i] == '*') && wire_check_name(s.p + i, 1, 1))
				rc = -WIRE_E_NAME_BAD_CHAR;
	if (rc)
		c->at = at;
	return rc;
}

/* Vector of strings at field id: min..max of them, each of class cls. */
static int
field_strings(struct vctx *c, const struct tview *tv, unsigned id, bool required, uint32_t min,
	      uint32_t max, enum str_class cls, uint32_t len_max)
{
	uint32_t vpos, n, i, at;
	struct wire_str s;

	TRY(field_vector(c, tv, id, required, 4, 4, &vpos, &n));
	if (vpos && n < min)
		FAIL(c, LIST_EMPTY, vpos);
	if (n > max)
		FAIL(c, LIST_TOO_LONG, vpos);
	for (i = 0; i < n; i++) {
		TRY(follow_offset(c, vpos + 4 + 4 * i, &at));
		TRY(check_string(c, at, &s));
		TRY(check_str_class(c, at, s, cls, len_max));
	}
	return 0;
}

static int
verify_ctl_attach(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;
	unsigned id;

	TRY(table_enter(c, pos, &tv));
	for (id = wire_fid_ctl_attach_version; id <= wire_fid_ctl_attach_io_lcores; id++)
		TRY(field_u32(c, &tv, id, &v, &at));
	table_leave(c);
	return 0;
}

static int
verify_ctl_setup(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_strings(c, &tv, wire_fid_ctl_setup_queues, true, 1, CTL_QUEUES_MAX, STR_TEXT,
			  CTL_SPEC_MAX));
	TRY(field_u32(c, &tv, wire_fid_ctl_setup_ticket_lifetime_s, &v, &at));
	TRY(field_u32(c, &tv, wire_fid_ctl_setup_listen_addr, &v, &at));
	TRY(field_u16(c, &tv, wire_fid_ctl_setup_listen_port, 0, &v, &at));
	{
		unsigned id;

		for (id = wire_fid_ctl_setup_cert_file; id <= wire_fid_ctl_setup_client_ca_file;
		     id++) {
			struct wire_str s;

			TRY(field_string(c, &tv, id, false, &s, &at));
			if (s.p)
				TRY(check_str_class(c, at, s, STR_TEXT, WIRE_TEXT_MAX));
		}
	}
	TRY(field_u8(c, &tv, wire_fid_ctl_setup_client_cert, 0, &v, &at));
	if (v > 2)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, at);
	table_leave(c);
	return 0;
}

static int
verify_ctl_grant(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_name(c, &tv, wire_fid_ctl_grant_name, WIRE_QUEUE_NAME_MAX));
	TRY(field_u8(c, &tv, wire_fid_ctl_grant_roles, 0, &v, &at));
	if (v < 1 || v > 3)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, at ? at : tv.t);
	TRY(field_strings(c, &tv, wire_fid_ctl_grant_queues, true, 1, CTL_GLOBS_MAX, STR_GLOB,
			  WIRE_QUEUE_NAME_MAX));
	TRY(field_strings(c, &tv, wire_fid_ctl_grant_types, false, 0, CTL_TYPES_MAX, STR_NAME,
			  WIRE_TYPE_NAME_MAX));
	TRY(field_u32(c, &tv, wire_fid_ctl_grant_max_payload, &v, &at));
	TRY(field_u8(c, &tv, wire_fid_ctl_grant_max_priority, 0, &v, &at));
	if (v > WIRE_PRIORITY_MAX)
		FAIL(c, PRIORITY_OUT_OF_RANGE, at);
	TRY(field_u32(c, &tv, wire_fid_ctl_grant_jobs_per_s, &v, &at));
	TRY(field_u32(c, &tv, wire_fid_ctl_grant_jobs_burst, &v, &at));
	TRY(field_u64(c, &tv, wire_fid_ctl_grant_bytes_per_s));
	TRY(field_u64(c, &tv, wire_fid_ctl_grant_bytes_burst));
	TRY(field_u32(c, &tv, wire_fid_ctl_grant_max_conns, &v, &at));
	table_leave(c);
	return 0;
}

static int
verify_ctl_grants(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_ctl_grants_gen));
	TRY(field_bool(c, &tv, wire_fid_ctl_grants_first));
	TRY(field_bool(c, &tv, wire_fid_ctl_grants_last));
	TRY(field_vector(c, &tv, wire_fid_ctl_grants_grants, true, 4, 4, &vpos, &n));
	if (n > CTL_GRANTS_MAX)
		FAIL(c, LIST_TOO_LONG, vpos);
	TRY(vector_tables(c, vpos, n, verify_ctl_grant));
	TRY(field_vector(c, &tv, wire_fid_ctl_grants_creds, false, 8, 8, &vpos, &n));
	if (n > CTL_CREDS_MAX)
		FAIL(c, LIST_TOO_LONG, vpos);
	table_leave(c);
	return 0;
}

static int
verify_ctl_authenticate(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at, vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_ctl_authenticate_id));
	TRY(field_u8(c, &tv, wire_fid_ctl_authenticate_role, 0, &v, &at));
	if (v < 1 || v > 3)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, at ? at : tv.t);
	TRY(field_u32(c, &tv, wire_fid_ctl_authenticate_addr, &v, &at));
	TRY(field_vector(c, &tv, wire_fid_ctl_authenticate_token, false, 1, 1, &vpos, &n));
	if (vpos && n == 0)
		FAIL(c, LIST_EMPTY, vpos);
	if (n > WIRE_TOKEN_MAX)
		FAIL(c, TOKEN_TOO_LONG, vpos);
	TRY(field_vector(c, &tv, wire_fid_ctl_authenticate_cert_sha256, false, 1, 1, &vpos, &n));
	if (vpos && n != 32)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, vpos);
	{
		struct wire_str s;

		TRY(field_string(c, &tv, wire_fid_ctl_authenticate_cert_subject, false, &s, &at));
		if (s.p)
			TRY(check_str_class(c, at, s, STR_TEXT, CTL_SUBJECT_MAX));
	}
	table_leave(c);
	return 0;
}

static int
verify_ctl_auth_result(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;
	uint32_t at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_ctl_auth_result_id));
	TRY(field_enum16(c, &tv, wire_fid_ctl_auth_result_status, 0, WIRE_STATUS__COUNT));
	TRY(field_string(c, &tv, wire_fid_ctl_auth_result_principal, false, &s, &at));
	if (s.len)
		TRY(check_str_class(c, at, s, STR_NAME, WIRE_QUEUE_NAME_MAX));
	TRY(field_u64(c, &tv, wire_fid_ctl_auth_result_cred));
	table_leave(c);
	return 0;
}

static int
verify_ctl_bans(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_vector(c, &tv, wire_fid_ctl_bans_addrs, true, 4, 4, &vpos, &n));
	if (n > CTL_BANS_MAX)
		FAIL(c, LIST_TOO_LONG, vpos);
	table_leave(c);
	return 0;
}

static int
verify_ctl_ticket_keys(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_vector(c, &tv, wire_fid_ctl_ticket_keys_keys, true, 1, 1, &vpos, &n));
	if (n == 0 || n % CTL_TICKET_KEY_BYTES || n > CTL_TICKET_KEYS_MAX * CTL_TICKET_KEY_BYTES)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, vpos);
	table_leave(c);
	return 0;
}

static int
verify_ctl_list_counters(struct vctx *c, uint32_t pos)
{
	struct tview tv;

	TRY(table_enter(c, pos, &tv));
	table_leave(c);
	return 0;
}

static int
verify_ctl_lcore_counters(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at, vpos, n, nv;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u32(c, &tv, wire_fid_ctl_lcore_counters_io, &v, &at));
	TRY(field_strings(c, &tv, wire_fid_ctl_lcore_counters_names, true, 1, CTL_COUNTERS_MAX,
			  STR_NAME, WIRE_QUEUE_NAME_MAX));
	TRY(field_vector(c, &tv, wire_fid_ctl_lcore_counters_names, true, 4, 4, &vpos, &n));
	TRY(field_vector(c, &tv, wire_fid_ctl_lcore_counters_values, true, 8, 8, &vpos, &nv));
	if (nv != n)
		FAIL(c, LENGTH_MISMATCH, vpos);
	table_leave(c);
	return 0;
}

static int
verify_ctl_counter_list(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_vector(c, &tv, wire_fid_ctl_counter_list_lcores, true, 4, 4, &vpos, &n));
	if (n > CTL_LCORES_MAX)
		FAIL(c, LIST_TOO_LONG, vpos);
	TRY(vector_tables(c, vpos, n, verify_ctl_lcore_counters));
	table_leave(c);
	return 0;
}

#define verify_ctl_list_conns verify_ctl_list_counters /* no fields either */

static int
verify_ctl_kick_conn(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;
	unsigned id;

	TRY(table_enter(c, pos, &tv));
	for (id = wire_fid_ctl_kick_conn_io; id <= wire_fid_ctl_kick_conn_gen; id++)
		TRY(field_u32(c, &tv, id, &v, &at));
	table_leave(c);
	return 0;
}

static int
verify_ctl_conn_info(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;
	uint32_t v, at;
	unsigned id;

	TRY(table_enter(c, pos, &tv));
	for (id = wire_fid_ctl_conn_info_io; id <= wire_fid_ctl_conn_info_addr; id++)
		TRY(field_u32(c, &tv, id, &v, &at));
	TRY(field_u16(c, &tv, wire_fid_ctl_conn_info_port, 0, &v, &at));
	TRY(field_u8(c, &tv, wire_fid_ctl_conn_info_state, 0, &v, &at));
	if (v < 1 || v > 3)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, at ? at : tv.t);
	TRY(field_u8(c, &tv, wire_fid_ctl_conn_info_role, 0, &v, &at));
	if (v > 3)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, at);
	TRY(field_string(c, &tv, wire_fid_ctl_conn_info_principal, false, &s, &at));
	if (s.p)
		TRY(check_str_class(c, at, s, STR_NAME, WIRE_QUEUE_NAME_MAX));
	TRY(field_u64(c, &tv, wire_fid_ctl_conn_info_cred));
	TRY(field_u32(c, &tv, wire_fid_ctl_conn_info_age_ms, &v, &at));
	table_leave(c);
	return 0;
}

static int
verify_ctl_conn_list(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n;

	TRY(table_enter(c, pos, &tv));
	TRY(field_vector(c, &tv, wire_fid_ctl_conn_list_conns, true, 4, 4, &vpos, &n));
	if (n > CTL_CONNS_MAX)
		FAIL(c, LIST_TOO_LONG, vpos);
	TRY(vector_tables(c, vpos, n, verify_ctl_conn_info));
	TRY(field_bool(c, &tv, wire_fid_ctl_conn_list_truncated));
	table_leave(c);
	return 0;
}

static int
verify_ctl_job_request(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_name(c, &tv, wire_fid_ctl_job_request_queue, WIRE_QUEUE_NAME_MAX));
	TRY(field_u8(c, &tv, wire_fid_ctl_job_request_op, 1, &v, &at));
	if (v < 1 || v > CTL_JOB_OPS)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, at);
	TRY(field_u64(c, &tv, wire_fid_ctl_job_request_id_hi));
	TRY(field_u64(c, &tv, wire_fid_ctl_job_request_id_lo));
	TRY(field_u32(c, &tv, wire_fid_ctl_job_request_skip, &v, &at));
	TRY(field_u32(c, &tv, wire_fid_ctl_job_request_max, &v, &at));
	if (at && (v < 1 || v > CTL_JOBS_MAX))
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, at);
	table_leave(c);
	return 0;
}

static int
verify_ctl_job_info(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	struct wire_str s;
	uint32_t v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_ctl_job_info_id_hi));
	TRY(field_u64(c, &tv, wire_fid_ctl_job_info_id_lo));
	TRY(field_u8(c, &tv, wire_fid_ctl_job_info_state, 0, &v, &at));
	if (v < 1 || v > 5)
		FAIL(c, CTL_VALUE_OUT_OF_RANGE, at ? at : tv.t);
	TRY(field_enum16(c, &tv, wire_fid_ctl_job_info_dead_reason, 0, WIRE_STATUS__COUNT));
	TRY(field_u16(c, &tv, wire_fid_ctl_job_info_attempts, 0, &v, &at));
	TRY(field_u16(c, &tv, wire_fid_ctl_job_info_max_attempts, 0, &v, &at));
	TRY(field_u8(c, &tv, wire_fid_ctl_job_info_priority, 0, &v, &at));
	if (v > WIRE_PRIORITY_MAX)
		FAIL(c, PRIORITY_OUT_OF_RANGE, at);
	TRY(field_string(c, &tv, wire_fid_ctl_job_info_type, false, &s, &at));
	if (s.p)
		TRY(check_str_class(c, at, s, STR_NAME, WIRE_TYPE_NAME_MAX));
	TRY(field_text(c, &tv, wire_fid_ctl_job_info_content_type, false, WIRE_CONTENT_TYPE_MAX,
		       &s));
	TRY(field_u32(c, &tv, wire_fid_ctl_job_info_payload_bytes, &v, &at));
	TRY(field_u64(c, &tv, wire_fid_ctl_job_info_enqueued_ms));
	table_leave(c);
	return 0;
}

static int
verify_ctl_job_list(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t vpos, n, qi, v, at;

	TRY(table_enter(c, pos, &tv));
	TRY(field_target(c, &tv, wire_fid_ctl_job_list_queue, true, &qi));
	TRY(verify_ctl_queue_info(c, qi));
	TRY(field_vector(c, &tv, wire_fid_ctl_job_list_jobs, true, 4, 4, &vpos, &n));
	if (n > CTL_JOBS_MAX)
		FAIL(c, LIST_TOO_LONG, vpos);
	TRY(vector_tables(c, vpos, n, verify_ctl_job_info));
	TRY(field_u32(c, &tv, wire_fid_ctl_job_list_total, &v, &at));
	table_leave(c);
	return 0;
}

static const verify_table_fn verify_msg[CTL_MSG__COUNT] = {
#define CTL_MSG(sym, tbl, name, req) [CTL_MSG_##sym] = verify_##tbl,
#include "ctl_msg.def"
#undef CTL_MSG
};

/* Root table: seq at id 0, union Message (type at id 1, value at id 2). */
static int
verify_ctl_control(struct vctx *c, uint32_t pos)
{
	struct tview tv;
	uint32_t type, msg;

	TRY(table_enter(c, pos, &tv));
	TRY(field_u64(c, &tv, wire_fid_ctl_control_seq));
	TRY(field_union(c, &tv, wire_fid_ctl_control_msg_type, CTL_MSG__COUNT, &type, &msg));
	TRY(verify_msg[type](c, msg));
	table_leave(c);
	return 0;
}

int
ctl_verify(const void *msg, size_t len, uint32_t *err_at)
{
	struct vctx c = {
		.buf = msg,
		.lim = &ctl_limits,
	};
	uint32_t root;
	int rc;

	rc = verify_envelope(&c, len, CTL_MSG_BYTES_MAX, CTL_IDENTIFIER, &root);
	if (rc == 0)
		rc = verify_ctl_control(&c, root);
	if (rc && err_at)
		*err_at = c.at;
	return rc;
}
