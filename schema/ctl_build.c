/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control message builder: which fields each table of control.fbs has. The
 * layout and the pieces that write it are wire_build_pvt.h's, shared with
 * the frame builder.
 */
#include "ctl_build.h"
#include "wire_build_pvt.h"

static uint32_t
put_queue_info(struct wb *b, const struct ctl_queue_info_in *q)
{
	const uint32_t depth[] = { q->ready, q->delayed, q->retry_wait, q->leased, q->dead };
	const uint64_t counters[] = { q->bytes,     q->enqueued,       q->delivered,
				      q->completed, q->failed,         q->dead_lettered,
				      q->expired,   q->lease_timeouts, q->redriven,
				      q->purged };
	struct wb_table t = { .n = 0 };
	uint32_t pos;
	unsigned i;

	/* ids: name 0, paused 1, the depths 2..6, then the ulongs 7..16 (ctl_schema.def) */
	_Static_assert(wire_fid_ctl_queue_info_dead - wire_fid_ctl_queue_info_ready + 1 == 5 &&
			       wire_fid_ctl_queue_info_purged - wire_fid_ctl_queue_info_bytes + 1 ==
				       10,
		       "QueueInfo field order");
	tf_offset(&t, wire_fid_ctl_queue_info_name, q->name.p != NULL);
	tf_scalar(&t, wire_fid_ctl_queue_info_paused, 1, q->paused, 0);
	for (i = 0; i < 5; i++)
		tf_scalar(&t, wire_fid_ctl_queue_info_ready + i, 4, depth[i], 0);
	for (i = 0; i < 10; i++)
		tf_scalar(&t, wire_fid_ctl_queue_info_bytes + i, 8, counters[i], 0);
	pos = wb_table(b, &t);
	wb_string_at(b, t.slot[wire_fid_ctl_queue_info_name], q->name);
	return pos;
}

/* A vector of n strings linked from slot (a NULL array with n > 0 is bad input). */
static void
put_strings(struct wb *b, uint32_t slot, const struct wire_str *v, uint32_t n)
{
	uint32_t pos, i;

	if (n && !v) {
		b->err = -WIRE_E_BUILD_BAD_INPUT;
		return;
	}
	pos = wb_vector(b, n, 4, 4);
	wb_link(b, slot, pos);
	for (i = 0; !b->err && i < n; i++)
		wb_string_at(b, pos + 4 + 4 * i, v[i]);
}

static uint32_t
put_grant(struct wb *b, const struct ctl_grant_in *g)
{
	struct wb_table t = { .n = 0 };
	uint32_t pos;

	tf_offset(&t, wire_fid_ctl_grant_name, g->name.p != NULL);
	tf_scalar(&t, wire_fid_ctl_grant_roles, 1, g->roles, 0);
	tf_offset(&t, wire_fid_ctl_grant_queues, true);
	tf_offset(&t, wire_fid_ctl_grant_types, g->n_types > 0);
	tf_scalar(&t, wire_fid_ctl_grant_max_payload, 4, g->max_payload, 0);
	tf_scalar(&t, wire_fid_ctl_grant_max_priority, 1, g->max_priority, 0);
	tf_scalar(&t, wire_fid_ctl_grant_jobs_per_s, 4, g->jobs_per_s, 0);
	tf_scalar(&t, wire_fid_ctl_grant_jobs_burst, 4, g->jobs_burst, 0);
	tf_scalar(&t, wire_fid_ctl_grant_bytes_per_s, 8, g->bytes_per_s, 0);
	tf_scalar(&t, wire_fid_ctl_grant_bytes_burst, 8, g->bytes_burst, 0);
	tf_scalar(&t, wire_fid_ctl_grant_max_conns, 4, g->max_conns, 0);
	pos = wb_table(b, &t);
	wb_string_at(b, t.slot[wire_fid_ctl_grant_name], g->name);
	put_strings(b, t.slot[wire_fid_ctl_grant_queues], g->queues, g->n_queues);
	if (g->n_types)
		put_strings(b, t.slot[wire_fid_ctl_grant_types], g->types, g->n_types);
	return pos;
}

static uint32_t
put_lcore_counters(struct wb *b, const struct ctl_lcore_counters_in *l)
{
	struct wb_table t = { .n = 0 };
	uint32_t pos;

	if (l->n && !l->values) {
		b->err = -WIRE_E_BUILD_BAD_INPUT;
		return 0;
	}
	tf_scalar(&t, wire_fid_ctl_lcore_counters_io, 4, l->io, 0);
	tf_offset(&t, wire_fid_ctl_lcore_counters_names, true);
	tf_offset(&t, wire_fid_ctl_lcore_counters_values, true);
	pos = wb_table(b, &t);
	put_strings(b, t.slot[wire_fid_ctl_lcore_counters_names], l->names, l->n);
	wb_u64s_at(b, t.slot[wire_fid_ctl_lcore_counters_values], l->values, l->n);
	return pos;
}

static uint32_t
put_conn_info(struct wb *b, const struct ctl_conn_info_in *c)
{
	struct wb_table t = { .n = 0 };
	uint32_t pos;

	tf_scalar(&t, wire_fid_ctl_conn_info_io, 4, c->io, 0);
	tf_scalar(&t, wire_fid_ctl_conn_info_slot, 4, c->slot, 0);
	tf_scalar(&t, wire_fid_ctl_conn_info_gen, 4, c->gen, 0);
	tf_scalar(&t, wire_fid_ctl_conn_info_addr, 4, c->addr, 0);
	tf_scalar(&t, wire_fid_ctl_conn_info_port, 2, c->port, 0);
	tf_scalar(&t, wire_fid_ctl_conn_info_state, 1, c->state, 0);
	tf_scalar(&t, wire_fid_ctl_conn_info_role, 1, c->role, 0);
	tf_offset(&t, wire_fid_ctl_conn_info_principal, c->principal.p != NULL);
	tf_scalar(&t, wire_fid_ctl_conn_info_cred, 8, c->cred, 0);
	tf_scalar(&t, wire_fid_ctl_conn_info_age_ms, 4, c->age_ms, 0);
	pos = wb_table(b, &t);
	wb_string_at(b, t.slot[wire_fid_ctl_conn_info_principal], c->principal);
	return pos;
}

static uint32_t
put_job_info(struct wb *b, const struct ctl_job_info_in *j)
{
	struct wb_table t = { .n = 0 };
	uint32_t pos;

	tf_scalar(&t, wire_fid_ctl_job_info_id_hi, 8, j->id.hi, 0);
	tf_scalar(&t, wire_fid_ctl_job_info_id_lo, 8, j->id.lo, 0);
	tf_scalar(&t, wire_fid_ctl_job_info_state, 1, j->state, 0);
	tf_scalar(&t, wire_fid_ctl_job_info_dead_reason, 2, j->dead_reason, 0);
	tf_scalar(&t, wire_fid_ctl_job_info_attempts, 2, j->attempts, 0);
	tf_scalar(&t, wire_fid_ctl_job_info_max_attempts, 2, j->max_attempts, 0);
	tf_scalar(&t, wire_fid_ctl_job_info_priority, 1, j->priority, 0);
	tf_offset(&t, wire_fid_ctl_job_info_type, j->type.p != NULL);
	tf_offset(&t, wire_fid_ctl_job_info_content_type, j->content_type.p != NULL);
	tf_scalar(&t, wire_fid_ctl_job_info_payload_bytes, 4, j->payload_bytes, 0);
	tf_scalar(&t, wire_fid_ctl_job_info_enqueued_ms, 8, j->enqueued_ms, 0);
	pos = wb_table(b, &t);
	wb_string_at(b, t.slot[wire_fid_ctl_job_info_type], j->type);
	wb_string_at(b, t.slot[wire_fid_ctl_job_info_content_type], j->content_type);
	return pos;
}

/* The ctld <-> sluiced messages (control.fbs "sluice-ctld <-> sluiced"). */
static uint32_t
put_link_message(struct wb *b, const struct ctl_msg_in *m)
{
	struct wb_table t = { .n = 0 };
	uint32_t pos, v, i;

	switch (m->type) {
	case CTL_MSG_ATTACH:
		tf_scalar(&t, wire_fid_ctl_attach_version, 4, m->u.attach.version, 0);
		tf_scalar(&t, wire_fid_ctl_attach_pid, 4, m->u.attach.pid, 0);
		tf_scalar(&t, wire_fid_ctl_attach_io_lcores, 4, m->u.attach.io_lcores, 0);
		return wb_table(b, &t);
	case CTL_MSG_SETUP:
		tf_offset(&t, wire_fid_ctl_setup_queues, true);
		tf_scalar(&t, wire_fid_ctl_setup_ticket_lifetime_s, 4, m->u.setup.ticket_lifetime_s,
			  0);
		tf_scalar(&t, wire_fid_ctl_setup_listen_addr, 4, m->u.setup.listen_addr, 0);
		tf_scalar(&t, wire_fid_ctl_setup_listen_port, 2, m->u.setup.listen_port, 0);
		tf_offset(&t, wire_fid_ctl_setup_cert_file, m->u.setup.cert_file.p != NULL);
		tf_offset(&t, wire_fid_ctl_setup_key_file, m->u.setup.key_file.p != NULL);
		tf_offset(&t, wire_fid_ctl_setup_client_ca_file,
			  m->u.setup.client_ca_file.p != NULL);
		tf_scalar(&t, wire_fid_ctl_setup_client_cert, 1, m->u.setup.client_cert, 0);
		pos = wb_table(b, &t);
		put_strings(b, t.slot[wire_fid_ctl_setup_queues], m->u.setup.queues, m->u.setup.n);
		wb_string_at(b, t.slot[wire_fid_ctl_setup_cert_file], m->u.setup.cert_file);
		wb_string_at(b, t.slot[wire_fid_ctl_setup_key_file], m->u.setup.key_file);
		wb_string_at(b, t.slot[wire_fid_ctl_setup_client_ca_file],
			     m->u.setup.client_ca_file);
		return pos;
	case CTL_MSG_GRANTS:
		if ((m->u.grants.n && !m->u.grants.grants) ||
		    (m->u.grants.n_creds && !m->u.grants.creds))
			break;
		tf_scalar(&t, wire_fid_ctl_grants_gen, 8, m->u.grants.gen, 0);
		tf_scalar(&t, wire_fid_ctl_grants_first, 1, m->u.grants.first, 0);
		tf_scalar(&t, wire_fid_ctl_grants_last, 1, m->u.grants.last, 0);
		tf_offset(&t, wire_fid_ctl_grants_grants, true);
		tf_offset(&t, wire_fid_ctl_grants_creds, m->u.grants.n_creds > 0);
		pos = wb_table(b, &t);
		v = wb_vector(b, m->u.grants.n, 4, 4);
		wb_link(b, t.slot[wire_fid_ctl_grants_grants], v);
		for (i = 0; !b->err && i < m->u.grants.n; i++)
			wb_link(b, v + 4 + 4 * i, put_grant(b, &m->u.grants.grants[i]));
		if (m->u.grants.n_creds)
			wb_u64s_at(b, t.slot[wire_fid_ctl_grants_creds], m->u.grants.creds,
				   m->u.grants.n_creds);
		return pos;
	case CTL_MSG_AUTHENTICATE:
		tf_scalar(&t, wire_fid_ctl_authenticate_id, 8, m->u.authenticate.id, 0);
		tf_scalar(&t, wire_fid_ctl_authenticate_role, 1, m->u.authenticate.role, 0);
		tf_scalar(&t, wire_fid_ctl_authenticate_addr, 4, m->u.authenticate.addr, 0);
		tf_offset(&t, wire_fid_ctl_authenticate_token, m->u.authenticate.token.p != NULL);
		tf_offset(&t, wire_fid_ctl_authenticate_cert_sha256,
			  m->u.authenticate.cert_sha256.p != NULL);
		tf_offset(&t, wire_fid_ctl_authenticate_cert_subject,
			  m->u.authenticate.cert_subject.p != NULL);
		pos = wb_table(b, &t);
		if (m->u.authenticate.token.p)
			wb_bytes_at(b, t.slot[wire_fid_ctl_authenticate_token],
				    m->u.authenticate.token);
		if (m->u.authenticate.cert_sha256.p)
			wb_bytes_at(b, t.slot[wire_fid_ctl_authenticate_cert_sha256],
				    m->u.authenticate.cert_sha256);
		wb_string_at(b, t.slot[wire_fid_ctl_authenticate_cert_subject],
			     m->u.authenticate.cert_subject);
		return pos;
	case CTL_MSG_AUTH_RESULT:
		tf_scalar(&t, wire_fid_ctl_auth_result_id, 8, m->u.auth_result.id, 0);
		tf_scalar(&t, wire_fid_ctl_auth_result_status, 2, m->u.auth_result.status, 0);
		tf_offset(&t, wire_fid_ctl_auth_result_principal,
			  m->u.auth_result.principal.p != NULL);
		tf_scalar(&t, wire_fid_ctl_auth_result_cred, 8, m->u.auth_result.cred, 0);
		pos = wb_table(b, &t);
		wb_string_at(b, t.slot[wire_fid_ctl_auth_result_principal],
			     m->u.auth_result.principal);
		return pos;
	case CTL_MSG_BANS:
		if (m->u.bans.n && !m->u.bans.addrs)
			break;
		tf_offset(&t, wire_fid_ctl_bans_addrs, true);
		pos = wb_table(b, &t);
		v = wb_vector(b, m->u.bans.n, 4, 4);
		wb_link(b, t.slot[wire_fid_ctl_bans_addrs], v);
		for (i = 0; !b->err && i < m->u.bans.n; i++)
			wb_st32(b, v + 4 + 4 * i, m->u.bans.addrs[i]);
		return pos;
	case CTL_MSG_LIST_COUNTERS:
	case CTL_MSG_LIST_CONNS:
		return wb_table(b, &t);
	case CTL_MSG_KICK_CONN:
		tf_scalar(&t, wire_fid_ctl_kick_conn_io, 4, m->u.kick_conn.io, 0);
		tf_scalar(&t, wire_fid_ctl_kick_conn_slot, 4, m->u.kick_conn.slot, 0);
		tf_scalar(&t, wire_fid_ctl_kick_conn_gen, 4, m->u.kick_conn.gen, 0);
		return wb_table(b, &t);
	case CTL_MSG_CONN_LIST:
		if (m->u.conn_list.n && !m->u.conn_list.conns)
			break;
		tf_offset(&t, wire_fid_ctl_conn_list_conns, true);
		tf_scalar(&t, wire_fid_ctl_conn_list_truncated, 1, m->u.conn_list.truncated, 0);
		pos = wb_table(b, &t);
		v = wb_vector(b, m->u.conn_list.n, 4, 4);
		wb_link(b, t.slot[wire_fid_ctl_conn_list_conns], v);
		for (i = 0; !b->err && i < m->u.conn_list.n; i++)
			wb_link(b, v + 4 + 4 * i, put_conn_info(b, &m->u.conn_list.conns[i]));
		return pos;
	case CTL_MSG_COUNTER_LIST:
		if (m->u.counter_list.n && !m->u.counter_list.lcores)
			break;
		tf_offset(&t, wire_fid_ctl_counter_list_lcores, true);
		pos = wb_table(b, &t);
		v = wb_vector(b, m->u.counter_list.n, 4, 4);
		wb_link(b, t.slot[wire_fid_ctl_counter_list_lcores], v);
		for (i = 0; !b->err && i < m->u.counter_list.n; i++)
			wb_link(b, v + 4 + 4 * i,
				put_lcore_counters(b, &m->u.counter_list.lcores[i]));
		return pos;
	case CTL_MSG_JOB_REQUEST:
		tf_offset(&t, wire_fid_ctl_job_request_queue, m->u.job_request.queue.p != NULL);
		tf_scalar(&t, wire_fid_ctl_job_request_op, 1, m->u.job_request.op, 1);
		tf_scalar(&t, wire_fid_ctl_job_request_id_hi, 8, m->u.job_request.id.hi, 0);
		tf_scalar(&t, wire_fid_ctl_job_request_id_lo, 8, m->u.job_request.id.lo, 0);
		tf_scalar(&t, wire_fid_ctl_job_request_skip, 4, m->u.job_request.skip, 0);
		tf_scalar(&t, wire_fid_ctl_job_request_max, 4, m->u.job_request.max, 20);
		pos = wb_table(b, &t);
		wb_string_at(b, t.slot[wire_fid_ctl_job_request_queue], m->u.job_request.queue);
		return pos;
	case CTL_MSG_JOB_LIST:
		if (m->u.job_list.n && !m->u.job_list.jobs)
			break;
		tf_offset(&t, wire_fid_ctl_job_list_queue, true);
		tf_offset(&t, wire_fid_ctl_job_list_jobs, true);
		tf_scalar(&t, wire_fid_ctl_job_list_total, 4, m->u.job_list.total, 0);
		pos = wb_table(b, &t);
		wb_link(b, t.slot[wire_fid_ctl_job_list_queue],
			put_queue_info(b, &m->u.job_list.queue));
		v = wb_vector(b, m->u.job_list.n, 4, 4);
		wb_link(b, t.slot[wire_fid_ctl_job_list_jobs], v);
		for (i = 0; !b->err && i < m->u.job_list.n; i++)
			wb_link(b, v + 4 + 4 * i, put_job_info(b, &m->u.job_list.jobs[i]));
		return pos;
	case CTL_MSG_TICKET_KEYS:
		tf_offset(&t, wire_fid_ctl_ticket_keys_keys, true);
		pos = wb_table(b, &t);
		wb_bytes_at(b, t.slot[wire_fid_ctl_ticket_keys_keys], m->u.ticket_keys.keys);
		return pos;
	default:
		break;
	}
	b->err = -WIRE_E_BUILD_BAD_INPUT;
	return 0;
}

#define QUEUE_FID wire_fid_ctl_pause_queue_queue
_Static_assert(QUEUE_FID == wire_fid_ctl_list_queues_queue &&
		       QUEUE_FID == wire_fid_ctl_resume_queue_queue &&
		       QUEUE_FID == wire_fid_ctl_purge_queue_queue &&
		       QUEUE_FID == wire_fid_ctl_redrive_queue_queue &&
		       QUEUE_FID == wire_fid_ctl_job_request_queue,
	       "the queue name has one id in every request");

/* The message table of m (a struct ctl_msg_in); children follow it. */
static uint32_t
put_message(struct wb *b, const void *arg)
{
	const struct ctl_msg_in *m = arg;
	struct wb_table t = { .n = 0 };
	uint32_t pos, v, i;

	switch (m->type) {
	case CTL_MSG_LIST_QUEUES:
	case CTL_MSG_PAUSE_QUEUE:
	case CTL_MSG_RESUME_QUEUE:
	case CTL_MSG_PURGE_QUEUE:
	case CTL_MSG_REDRIVE_QUEUE:
		/* The queue name is the first field of each; only RedriveQueue has max. */
		tf_offset(&t, QUEUE_FID, m->u.queue.name.p != NULL);
		if (m->type == CTL_MSG_REDRIVE_QUEUE)
			tf_scalar(&t, wire_fid_ctl_redrive_queue_max, 4, m->u.queue.max, 0);
		pos = wb_table(b, &t);
		wb_string_at(b, t.slot[QUEUE_FID], m->u.queue.name);
		return pos;
	case CTL_MSG_QUEUE_LIST:
		if (m->u.queue_list.n && !m->u.queue_list.queues)
			break;
		tf_offset(&t, wire_fid_ctl_queue_list_queues, true);
		pos = wb_table(b, &t);
		v = wb_vector(b, m->u.queue_list.n, 4, 4);
		wb_link(b, t.slot[wire_fid_ctl_queue_list_queues], v);
		for (i = 0; !b->err && i < m->u.queue_list.n; i++)
			wb_link(b, v + 4 + 4 * i, put_queue_info(b, &m->u.queue_list.queues[i]));
		return pos;
	case CTL_MSG_ACTION_RESULT:
		tf_scalar(&t, wire_fid_ctl_action_result_count, 4, m->u.action_result.count, 0);
		tf_offset(&t, wire_fid_ctl_action_result_queue, true);
		pos = wb_table(b, &t);
		wb_link(b, t.slot[wire_fid_ctl_action_result_queue],
			put_queue_info(b, &m->u.action_result.queue));
		return pos;
	case CTL_MSG_ERROR:
		return wb_status_text(b, wire_fid_ctl_error_code, m->u.error.code,
				      CTL_STATUS_INVALID, wire_fid_ctl_error_message,
				      m->u.error.message, &t);
	default:
		return put_link_message(b, m);
	}
	b->err = -WIRE_E_BUILD_BAD_INPUT;
	return 0;
}

ssize_t
ctl_build(void *buf, size_t cap, const struct ctl_msg_in *m)
{
	struct wb_table root = { .n = 0 };

	if (m)
		tf_scalar(&root, wire_fid_ctl_control_seq, 8, m->seq, 0);
	return wb_build_union(buf, cap, CTL_IDENTIFIER, &root, wire_fid_ctl_control_msg_type,
			      m ? m->type : CTL_MSG_NONE, put_message, m);
}
