/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame builder, front to back: which fields each table of sluice.fbs has.
 * The layout and the pieces that write it are wire_build_pvt.h's, shared
 * with the control builder.
 */
#include <errno.h>
#include <limits.h>

#include "wire_build.h"
#include "wire_build_pvt.h"

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

/* The message table of m (a struct wire_msg_in); children follow it. */
static uint32_t
put_message(struct wb *b, const void *arg)
{
	const struct wire_msg_in *m = arg;
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
		tf_scalar(&t, wire_fid_error_ref_seq, 8, m->u.error.ref_seq, 0);
		return wb_status_text(b, wire_fid_error_code, m->u.error.code, WIRE_STATUS_INVALID,
				      wire_fid_error_message, m->u.error.message, &t);
	case WIRE_MSG_GOODBYE:
		return wb_status_text(b, wire_fid_goodbye_reason, m->u.goodbye.reason,
				      WIRE_STATUS_OK, wire_fid_goodbye_message,
				      m->u.goodbye.message, &t);
	default:
		break;
	}
	b->err = -WIRE_E_BUILD_BAD_INPUT;
	return 0;
}

ssize_t
wire_build(void *buf, size_t cap, const struct wire_msg_in *m)
{
	struct wb_table frame = { .n = 0 };

	return wb_build_union(buf, cap, WIRE_IDENTIFIER, &frame, wire_fid_frame_msg_type,
			      m ? m->type : WIRE_MSG_NONE, put_message, m);
}
