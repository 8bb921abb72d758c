/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame builder, front to back.
 *
 * FlatBuffers' uoffsets are unsigned and point forward, so a frame can be
 * laid out in reading order: every table is written before the strings,
 * vectors and tables it refers to, and its offset slots are patched once
 * each child is placed. Each table is preceded by its own vtable:
 *
 *   ... | vtable | pad | soffset, fields by alignment | children ... |
 *         ^vt            ^t: soffset = t - vt (> 0)
 *
 * Alignment is counted from the frame's first byte (the size prefix).
 */
#include <errno.h>
#include <limits.h>

#include "wire_build.h"

#define TABLE_FIELDS_MAX 16

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
static uint32_t
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

static void
wb_st16(struct wb *b, uint32_t at, uint16_t v)
{
	v = htole16(v);
	memcpy(b->buf + at, &v, 2);
}

static void
wb_st32(struct wb *b, uint32_t at, uint32_t v)
{
	v = htole32(v);
	memcpy(b->buf + at, &v, 4);
}

static void
wb_st64(struct wb *b, uint32_t at, uint64_t v)
{
	v = htole64(v);
	memcpy(b->buf + at, &v, 8);
}

/* Point the uoffset slot at target (written later, so target > slot). */
static void
wb_link(struct wb *b, uint32_t slot, uint32_t target)
{
	if (!b->err)
		wb_st32(b, slot, target - slot);
}

static void
tf_scalar(struct wb_table *t, unsigned id, unsigned size, uint64_t v, uint64_t def)
{
	if (v == def)
		return;
	t->f[t->n++] = (struct wb_field){ .id = id, .size = size, .align = size, .v = v };
}

static void
tf_offset(struct wb_table *t, unsigned id, bool present)
{
	if (present)
		t->f[t->n++] = (struct wb_field){ .id = id, .size = 4, .align = 4, .is_offset = 1 };
}

static void
tf_jobid(struct wb_table *t, unsigned id, const struct wire_jobid *v)
{
	if (v->hi || v->lo)
		t->f[t->n++] = (struct wb_field){ .id = id, .size = 16, .align = 8, .id16 = v };
}

/* Write vtable and table inline part; return the table position. */
static uint32_t
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
static uint32_t
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

static void
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

static void
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

static void
wb_u16s_at(struct wb *b, uint32_t slot, const uint16_t *v, uint32_t n)
{
	uint32_t pos = wb_vector(b, n, 2, 2), i;

	for (i = 0; !b->err && i < n; i++)
		wb_st16(b, pos + 4 + 2 * i, v[i]);
	wb_link(b, slot, pos);
}

static void
wb_u64s_at(struct wb *b, uint32_t slot, const uint64_t *v, uint32_t n)
{
	uint32_t pos = wb_vector(b, n, 8, 8), i;

	for (i = 0; !b->err && i < n; i++)
		wb_st64(b, pos + 4 + 8 * i, v[i]);
	wb_link(b, slot, pos);
}

static void
wb_ids_at(struct wb *b, uint32_t slot, const struct wire_jobid *v, uint32_t n)
{
	uint32_t pos = wb_vector(b, n, 16, 8), i;

	for (i = 0; !b->err && i < n; i++) {
		wb_st64(b, pos + 4 + 16 * i, v[i].hi);
		wb_st64(b, pos + 12 + 16 * i, v[i].lo);
	}
	wb_link(b, slot, pos);
}

static uint32_t
put_header(struct wb *b, const struct wire_header_in *h)
{
	struct wb_table t = { .n = 0 };
	uint32_t pos;

	tf_offset(&t, wire_fid_header_key, h->key.p != NULL);
	tf_offset(&t, wire_fid_header_value, h->value.p != NULL);
	pos = wb_table(b, &t);
	wb_string_at(b, t.slot[wire_fid_header_key], h->key);
	wb_string_at(b, t.slot[wire_fid_header_value], h->value);
	return pos;
}

static uint32_t
put_job(struct wb *b, const struct wire_job_in *j)
{
	struct wb_table t = { .n = 0 };
	uint32_t pos, v, i;

	if (j->n_headers && !j->headers) {
		b->err = -WIRE_E_BUILD_BAD_INPUT;
		return 0;
	}
	tf_offset(&t, wire_fid_job_queue, j->queue.p != NULL);
	tf_offset(&t, wire_fid_job_type, j->type.p != NULL);
	tf_jobid(&t, wire_fid_job_id, &j->id);
	tf_offset(&t, wire_fid_job_payload, j->payload.p != NULL);
	tf_offset(&t, wire_fid_job_content_type, j->content_type.p != NULL);
	tf_scalar(&t, wire_fid_job_priority, 1, j->priority, 0);
	tf_scalar(&t, wire_fid_job_not_before_ms, 8, j->not_before_ms, 0);
	tf_scalar(&t, wire_fid_job_ttl_ms, 4, j->ttl_ms, 0);
	tf_scalar(&t, wire_fid_job_max_attempts, 2, j->max_attempts, 0);
	tf_scalar(&t, wire_fid_job_lease_timeout_ms, 4, j->lease_timeout_ms, 0);
	tf_offset(&t, wire_fid_job_unique_key, j->unique_key.p != NULL);
	tf_scalar(&t, wire_fid_job_unique_ttl_ms, 4, j->unique_ttl_ms, 0);
	tf_offset(&t, wire_fid_job_headers, j->headers != NULL);
	pos = wb_table(b, &t);

	wb_string_at(b, t.slot[wire_fid_job_queue], j->queue);
	wb_string_at(b, t.slot[wire_fid_job_type], j->type);
	wb_bytes_at(b, t.slot[wire_fid_job_payload], j->payload);
	wb_string_at(b, t.slot[wire_fid_job_content_type], j->content_type);
	wb_string_at(b, t.slot[wire_fid_job_unique_key], j->unique_key);
	if (j->headers) {
		v = wb_vector(b, j->n_headers, 4, 4);
		wb_link(b, t.slot[wire_fid_job_headers], v);
		for (i = 0; !b->err && i < j->n_headers; i++)
			wb_link(b, v + 4 + 4 * i, put_header(b, &j->headers[i]));
	}
	return pos;
}

/* The message table of m; children follow it. */
static uint32_t
put_message(struct wb *b, const struct wire_msg_in *m)
{
	struct wb_table t = { .n = 0 };
	uint32_t pos, v, i;

	switch (m->type) {
	case WIRE_MSG_HELLO:
		tf_scalar(&t, wire_fid_hello_version, 2, m->u.hello.version, 1);
		tf_scalar(&t, wire_fid_hello_role, 1, m->u.hello.role, WIRE_ROLE_PRODUCER);
		tf_offset(&t, wire_fid_hello_token, m->u.hello.token.p != NULL);
		tf_offset(&t, wire_fid_hello_client_name, m->u.hello.client_name.p != NULL);
		pos = wb_table(b, &t);
		wb_bytes_at(b, t.slot[wire_fid_hello_token], m->u.hello.token);
		wb_string_at(b, t.slot[wire_fid_hello_client_name], m->u.hello.client_name);
		return pos;
	case WIRE_MSG_WELCOME:
		tf_scalar(&t, wire_fid_welcome_version, 2, m->u.welcome.version, 1);
		tf_scalar(&t, wire_fid_welcome_session_id, 8, m->u.welcome.session_id, 0);
		tf_scalar(&t, wire_fid_welcome_max_frame_bytes, 4, m->u.welcome.max_frame_bytes, 0);
		tf_scalar(&t, wire_fid_welcome_max_batch_jobs, 4, m->u.welcome.max_batch_jobs, 0);
		tf_scalar(&t, wire_fid_welcome_heartbeat_ms, 4, m->u.welcome.heartbeat_ms, 0);
		tf_offset(&t, wire_fid_welcome_server_name, m->u.welcome.server_name.p != NULL);
		pos = wb_table(b, &t);
		wb_string_at(b, t.slot[wire_fid_welcome_server_name], m->u.welcome.server_name);
		return pos;
	case WIRE_MSG_ENQUEUE_BATCH:
		if (m->u.enqueue_batch.n_jobs && !m->u.enqueue_batch.jobs)
			break;
		tf_scalar(&t, wire_fid_enqueue_batch_seq, 8, m->u.enqueue_batch.seq, 0);
		tf_offset(&t, wire_fid_enqueue_batch_jobs, m->u.enqueue_batch.jobs != NULL);
		pos = wb_table(b, &t);
		if (m->u.enqueue_batch.jobs) {
			v = wb_vector(b, m->u.enqueue_batch.n_jobs, 4, 4);
			wb_link(b, t.slot[wire_fid_enqueue_batch_jobs], v);
			for (i = 0; !b->err && i < m->u.enqueue_batch.n_jobs; i++)
				wb_link(b, v + 4 + 4 * i, put_job(b, &m->u.enqueue_batch.jobs[i]));
		}
		return pos;
	case WIRE_MSG_ENQUEUE_ACK:
		if (m->u.enqueue_ack.n && (!m->u.enqueue_ack.status || !m->u.enqueue_ack.ids))
			break;
		tf_scalar(&t, wire_fid_enqueue_ack_seq, 8, m->u.enqueue_ack.seq, 0);
		tf_offset(&t, wire_fid_enqueue_ack_status, true);
		tf_offset(&t, wire_fid_enqueue_ack_ids, true);
		pos = wb_table(b, &t);
		wb_u16s_at(b, t.slot[wire_fid_enqueue_ack_status], m->u.enqueue_ack.status,
			   m->u.enqueue_ack.n);
		wb_ids_at(b, t.slot[wire_fid_enqueue_ack_ids], m->u.enqueue_ack.ids,
			  m->u.enqueue_ack.n);
		return pos;
	case WIRE_MSG_SUBSCRIBE:
		if (m->u.subscribe.n_queues && !m->u.subscribe.queues)
			break;
		tf_offset(&t, wire_fid_subscribe_queues, m->u.subscribe.queues != NULL);
		tf_scalar(&t, wire_fid_subscribe_prefetch, 4, m->u.subscribe.prefetch, 1);
		pos = wb_table(b, &t);
		if (m->u.subscribe.queues) {
			v = wb_vector(b, m->u.subscribe.n_queues, 4, 4);
			wb_link(b, t.slot[wire_fid_subscribe_queues], v);
			for (i = 0; !b->err && i < m->u.subscribe.n_queues; i++) {
				const struct wire_queue_weight_in *q = &m->u.subscribe.queues[i];
				struct wb_table qt = { .n = 0 };

				tf_offset(&qt, wire_fid_queue_weight_queue, q->queue.p != NULL);
				tf_scalar(&qt, wire_fid_queue_weight_weight, 2, q->weight, 1);
				wb_link(b, v + 4 + 4 * i, wb_table(b, &qt));
				wb_string_at(b, qt.slot[wire_fid_queue_weight_queue], q->queue);
			}
		}
		return pos;
	case WIRE_MSG_CREDIT:
		tf_scalar(&t, wire_fid_credit_credit, 4, m->u.credit.credit, 0);
		return wb_table(b, &t);
	case WIRE_MSG_DELIVER:
		tf_scalar(&t, wire_fid_deliver_lease_id, 8, m->u.deliver.lease_id, 0);
		tf_scalar(&t, wire_fid_deliver_attempt, 2, m->u.deliver.attempt, 0);
		tf_scalar(&t, wire_fid_deliver_lease_timeout_ms, 4, m->u.deliver.lease_timeout_ms,
			  0);
		tf_scalar(&t, wire_fid_deliver_enqueued_ms, 8, m->u.deliver.enqueued_ms, 0);
		tf_offset(&t, wire_fid_deliver_job, true);
		pos = wb_table(b, &t);
		wb_link(b, t.slot[wire_fid_deliver_job], put_job(b, &m->u.deliver.job));
		return pos;
	case WIRE_MSG_COMPLETE:
		if (m->u.complete.n && !m->u.complete.lease_ids)
			break;
		tf_scalar(&t, wire_fid_complete_seq, 8, m->u.complete.seq, 0);
		tf_offset(&t, wire_fid_complete_lease_ids, true);
		pos = wb_table(b, &t);
		wb_u64s_at(b, t.slot[wire_fid_complete_lease_ids], m->u.complete.lease_ids,
			   m->u.complete.n);
		return pos;
	case WIRE_MSG_FAIL:
		tf_scalar(&t, wire_fid_fail_seq, 8, m->u.fail.seq, 0);
		tf_scalar(&t, wire_fid_fail_lease_id, 8, m->u.fail.lease_id, 0);
		tf_offset(&t, wire_fid_fail_reason, m->u.fail.reason.p != NULL);
		tf_scalar(&t, wire_fid_fail_retry_delay_ms, 4, m->u.fail.retry_delay_ms, 0);
		tf_scalar(&t, wire_fid_fail_dead, 1, m->u.fail.dead, 0);
		pos = wb_table(b, &t);
		wb_string_at(b, t.slot[wire_fid_fail_reason], m->u.fail.reason);
		return pos;
	case WIRE_MSG_EXTEND_LEASE:
		if (m->u.extend_lease.n && !m->u.extend_lease.lease_ids)
			break;
		tf_scalar(&t, wire_fid_extend_lease_seq, 8, m->u.extend_lease.seq, 0);
		tf_offset(&t, wire_fid_extend_lease_lease_ids, true);
		tf_scalar(&t, wire_fid_extend_lease_extend_ms, 4, m->u.extend_lease.extend_ms, 0);
		pos = wb_table(b, &t);
		wb_u64s_at(b, t.slot[wire_fid_extend_lease_lease_ids], m->u.extend_lease.lease_ids,
			   m->u.extend_lease.n);
		return pos;
	case WIRE_MSG_LEASE_ACK:
		if (m->u.lease_ack.n && !m->u.lease_ack.status)
			break;
		tf_scalar(&t, wire_fid_lease_ack_seq, 8, m->u.lease_ack.seq, 0);
		tf_offset(&t, wire_fid_lease_ack_status, true);
		pos = wb_table(b, &t);
		wb_u16s_at(b, t.slot[wire_fid_lease_ack_status], m->u.lease_ack.status,
			   m->u.lease_ack.n);
		return pos;
	case WIRE_MSG_PING:
	case WIRE_MSG_PONG:
		/* Same layout; the union members are the same struct shape. */
		tf_scalar(&t, wire_fid_ping_nonce, 8, m->u.ping.nonce, 0);
		tf_scalar(&t, wire_fid_ping_time_ms, 8, m->u.ping.time_ms, 0);
		return wb_table(b, &t);
	case WIRE_MSG_ERROR:
		tf_scalar(&t, wire_fid_error_code, 2, m->u.error.code, WIRE_STATUS_INVALID);
		tf_offset(&t, wire_fid_error_message, m->u.error.message.p != NULL);
		tf_scalar(&t, wire_fid_error_ref_seq, 8, m->u.error.ref_seq, 0);
		pos = wb_table(b, &t);
		wb_string_at(b, t.slot[wire_fid_error_message], m->u.error.message);
		return pos;
	case WIRE_MSG_GOODBYE:
		tf_scalar(&t, wire_fid_goodbye_reason, 2, m->u.goodbye.reason, WIRE_STATUS_OK);
		tf_offset(&t, wire_fid_goodbye_message, m->u.goodbye.message.p != NULL);
		pos = wb_table(b, &t);
		wb_string_at(b, t.slot[wire_fid_goodbye_message], m->u.goodbye.message);
		return pos;
	default:
		break;
	}
	b->err = -WIRE_E_BUILD_BAD_INPUT;
	return 0;
}

ssize_t
wire_build(void *buf, size_t cap, const struct wire_msg_in *m)
{
	struct wb b = {
		.buf = buf,
		.cap = cap > WIRE_FRAME_BYTES_CAP + 4 ? WIRE_FRAME_BYTES_CAP + 4 : (uint32_t)cap,
	};
	struct wb_table frame = { .n = 0 };
	uint32_t root;

	if (!buf || !m)
		return -WIRE_E_BUILD_BAD_INPUT;
	wb_reserve(&b, 4, WIRE_FRAME_HEADER_BYTES);
	if (b.err)
		return b.err;
	memcpy(b.buf + 8, WIRE_IDENTIFIER, 4);
	tf_scalar(&frame, wire_fid_frame_msg_type, 1, m->type, WIRE_MSG_NONE);
	tf_offset(&frame, wire_fid_frame_msg, true);
	root = wb_table(&b, &frame);
	wb_link(&b, 4, root);
	wb_link(&b, frame.slot[wire_fid_frame_msg], put_message(&b, m));
	if (b.err)
		return b.err;
	wb_st32(&b, 0, b.pos - 4);
	return b.pos;
}
