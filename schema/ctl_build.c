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

#define QUEUE_FID wire_fid_ctl_pause_queue_queue
_Static_assert(QUEUE_FID == wire_fid_ctl_list_queues_queue &&
		       QUEUE_FID == wire_fid_ctl_resume_queue_queue &&
		       QUEUE_FID == wire_fid_ctl_purge_queue_queue &&
		       QUEUE_FID == wire_fid_ctl_redrive_queue_queue,
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
		break;
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
