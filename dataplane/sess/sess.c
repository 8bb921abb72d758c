/* SPDX-License-Identifier: BSD-3-Clause */
/* Session engine: see sess.h and schema/PROTOCOL.md. */
#include <stdio.h>
#include <string.h>

#include "sess.h"

static uint32_t
align8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

static uint32_t
in_cap(const struct sess_cfg *cfg)
{
	return align8(cfg->lim.max_frame_bytes + 4);
}

static uint32_t
out_cap(const struct sess_cfg *cfg)
{
	return align8(cfg->lim.max_frame_bytes + 4 + SESS_OUT_RESERVE);
}

uint32_t
sess_mem_size(const struct sess_cfg *cfg)
{
	uint32_t per = cfg->lim.max_batch_jobs;

	return in_cap(cfg) + out_cap(cfg) +
	       align8(SESS_BATCHES_MAX * per * (uint32_t)sizeof(struct wire_jobid)) +
	       align8(SESS_BATCHES_MAX * per * (uint32_t)sizeof(uint16_t));
}

void
sess_init(struct sess *s, const struct sess_cfg *cfg, const struct sess_env *env,
	  struct sess_stats *stats, void *mem, uint64_t session_id, uint64_t now)
{
	uint8_t *m = mem;
	uint32_t per = cfg->lim.max_batch_jobs, i;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->env = env;
	s->stats = stats;
	s->session_id = session_id;
	s->state = SESS_HELLO;
	s->now_ms = now;
	s->deadline_ms = now + cfg->hello_timeout_ms;
	s->in = m;
	s->in_cap = in_cap(cfg);
	m += s->in_cap;
	s->out = m;
	s->out_cap = out_cap(cfg);
	m += s->out_cap;
	s->id_store = (struct wire_jobid *)m;
	m += align8(SESS_BATCHES_MAX * per * (uint32_t)sizeof(struct wire_jobid));
	s->status_store = (uint16_t *)m;
	for (i = 0; i < SESS_BATCHES_MAX; i++) {
		s->batch[i].status = s->status_store + i * per;
		s->batch[i].ids = s->id_store + i * per;
	}
}

/* ---- output ---- */

static uint32_t
out_free(struct sess *s)
{
	uint32_t tail = s->out_cap - s->out_len, pending = s->out_len - s->out_off;

	/* Slide pending bytes to the front when that buys room cheaply. */
	if (pending == 0) {
		s->out_off = s->out_len = 0;
	} else if (s->out_off && (tail < s->out_cap / 2 || pending < 4096)) {
		memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
		s->out_len -= s->out_off;
		s->out_off = 0;
	}
	return s->out_cap - s->out_len;
}

static void
start_closing(struct sess *s, const char *why)
{
	if (s->state >= SESS_CLOSING)
		return;
	snprintf(s->close_reason, sizeof(s->close_reason), "%s", why);
	s->state = SESS_CLOSING;
}

/* Encode a control frame (ack, error, welcome, pong); may use the reserve. */
static int
emit(struct sess *s, const struct wire_msg_in *m)
{
	uint32_t room;
	ssize_t n;

	if (s->state == SESS_CLOSED)
		return -1;
	room = out_free(s);
	n = wire_build(s->out + s->out_len, room, m);
	if (n < 0) {
		/* Out is full of frames the peer does not read: cut it loose. */
		s->stats->out_overflow++;
		start_closing(s, "peer does not read its acknowledgements");
		return -1;
	}
	s->out_len += (uint32_t)n;
	s->stats->frames_out++;
	return 0;
}

static void
send_error(struct sess *s, enum wire_status code, uint64_t ref_seq, const char *msg)
{
	struct wire_msg_in m = { .type = WIRE_MSG_ERROR };

	m.u.error.code = (uint16_t)code;
	m.u.error.message = wire_cstr(msg);
	m.u.error.ref_seq = ref_seq;
	emit(s, &m);
}

/* Error frame, then close (protocol violations, refused authentication). */
static void
fail_session(struct sess *s, enum wire_status code, const char *msg)
{
	send_error(s, code, 0, msg);
	start_closing(s, msg);
}

uint32_t
sess_out_pending(const struct sess *s, const uint8_t **p)
{
	*p = s->out + s->out_off;
	return s->out_len - s->out_off;
}

void
sess_out_consume(struct sess *s, uint32_t n)
{
	s->out_off += n;
	if (s->out_off >= s->out_len)
		s->out_off = s->out_len = 0;
}

void
sess_goodbye(struct sess *s, enum wire_status reason, const char *message)
{
	struct wire_msg_in m = { .type = WIRE_MSG_GOODBYE };

	if (s->state >= SESS_CLOSING)
		return;
	m.u.goodbye.reason = (uint16_t)reason;
	m.u.goodbye.message = wire_cstr(message);
	emit(s, &m);
	start_closing(s, message);
}

/* ---- batches ---- */

static int
batch_alloc(struct sess *s, uint64_t seq, uint32_t n, bool lease)
{
	uint32_t i;

	if (s->unacked >= s->cfg->max_unacked_batches)
		return -1;
	for (i = 0; i < SESS_BATCHES_MAX; i++) {
		struct sess_batch *b = &s->batch[i];

		if (b->in_use)
			continue;
		b->in_use = true;
		b->lease = lease;
		b->seq = seq;
		b->n = (uint16_t)n;
		b->done = 0;
		s->unacked++;
		return (int)i;
	}
	return -1;
}

/* Every result of the batch is in: acknowledge and free the slot. */
static void
batch_finish(struct sess *s, uint32_t slot)
{
	struct sess_batch *b = &s->batch[slot];
	struct wire_msg_in m;

	if (b->lease) {
		m = (struct wire_msg_in){ .type = WIRE_MSG_LEASE_ACK };
		m.u.lease_ack.seq = b->seq;
		m.u.lease_ack.status = b->status;
		m.u.lease_ack.n = b->n;
	} else {
		m = (struct wire_msg_in){ .type = WIRE_MSG_ENQUEUE_ACK };
		m.u.enqueue_ack.seq = b->seq;
		m.u.enqueue_ack.status = b->status;
		m.u.enqueue_ack.ids = b->ids;
		m.u.enqueue_ack.n = b->n;
	}
	emit(s, &m);
	b->in_use = false;
	s->unacked--;
}

static void
batch_result(struct sess *s, uint32_t slot, uint32_t idx, enum wire_status st, struct wire_jobid id)
{
	struct sess_batch *b = &s->batch[slot];

	b->status[idx] = (uint16_t)st;
	if (!b->lease)
		b->ids[idx] = id;
	if (st != WIRE_STATUS_OK && !b->lease)
		s->stats->jobs_refused[st]++;
	if (++b->done == b->n)
		batch_finish(s, slot);
}

void
sess_job_done(struct sess *s, uint32_t slot, uint32_t idx, enum wire_status st,
	      struct wire_jobid id)
{
	if (slot >= SESS_BATCHES_MAX || !s->batch[slot].in_use || idx >= s->batch[slot].n ||
	    s->state == SESS_CLOSED)
		return;
	batch_result(s, slot, idx, st, id);
}

/* ---- frame handlers ---- */

static bool
role_allows(const struct sess *s, bool producer)
{
	uint8_t need = producer ? WIRE_ROLE_PRODUCER : WIRE_ROLE_CONSUMER;

	return (s->role & need) != 0;
}

static void
on_hello(struct sess *s, const struct wire_hello *h)
{
	struct wire_bytes token = wire_hello_token(h);

	if (s->state != SESS_HELLO) {
		s->stats->bad_sequence++;
		fail_session(s, WIRE_STATUS_INVALID, "Hello sent twice");
		return;
	}
	s->role = wire_hello_role(h);
	s->state = SESS_AUTH;
	s->env->auth(s->env->arg, s, token.p, token.len, s->role);
}

void
sess_auth_done(struct sess *s, enum wire_status st, const struct pol_principal *p)
{
	struct wire_msg_in m = { .type = WIRE_MSG_WELCOME };

	if (s->state != SESS_AUTH)
		return;
	if (st != WIRE_STATUS_OK) {
		s->stats->auth_refused++;
		fail_session(s, st,
			     st == WIRE_STATUS_UNAUTHENTICATED ? "token refused"
			     : st == WIRE_STATUS_FORBIDDEN     ? "principal may not take this role"
							       : "authentication failed");
		return;
	}
	s->stats->auth_ok++;
	s->principal = p;
	s->state = SESS_OPEN;
	s->deadline_ms = s->now_ms + s->cfg->idle_timeout_ms;
	m.u.welcome.version = WIRE_PROTOCOL_VERSION;
	m.u.welcome.session_id = s->session_id;
	m.u.welcome.max_frame_bytes = s->cfg->lim.max_frame_bytes;
	m.u.welcome.max_batch_jobs = s->cfg->lim.max_batch_jobs;
	m.u.welcome.heartbeat_ms = s->cfg->heartbeat_ms;
	m.u.welcome.server_name = wire_cstr(s->cfg->server_name);
	emit(s, &m);
}

static void
on_enqueue(struct sess *s, const struct wire_enqueue_batch *b)
{
	uint64_t seq = wire_enqueue_batch_seq(b);
	uint32_t n = wire_enqueue_batch_jobs_len(b), i;
	int slot;

	if (!role_allows(s, true)) {
		s->stats->bad_sequence++;
		send_error(s, WIRE_STATUS_FORBIDDEN, seq, "session role may not enqueue");
		return;
	}
	slot = batch_alloc(s, seq, n, false);
	if (slot < 0) {
		s->stats->batches_over_limit++;
		send_error(s, WIRE_STATUS_RATE_LIMITED, seq, "too many unacknowledged batches");
		return;
	}
	s->stats->jobs_in += n;
	for (i = 0; i < n && s->batch[slot].in_use; i++) {
		int rc = s->env->enqueue(s->env->arg, s, (uint32_t)slot, i,
					 wire_enqueue_batch_jobs_at(b, i));

		if (rc != SESS_PENDING)
			batch_result(s, (uint32_t)slot, i, (enum wire_status)rc,
				     wire_job_id(wire_enqueue_batch_jobs_at(b, i)));
	}
}

static void
on_subscribe(struct sess *s, const struct wire_subscribe *sub)
{
	enum wire_status st;

	if (!role_allows(s, false)) {
		s->stats->bad_sequence++;
		send_error(s, WIRE_STATUS_FORBIDDEN, 0, "session role may not consume");
		return;
	}
	if (s->subscribed) {
		s->stats->bad_sequence++;
		send_error(s, WIRE_STATUS_INVALID, 0, "already subscribed");
		return;
	}
	st = s->env->subscribe(s->env->arg, s, sub);
	if (st != WIRE_STATUS_OK) {
		send_error(s, st, 0,
			   st == WIRE_STATUS_FORBIDDEN ? "principal may not consume from a queue"
						       : "a subscribed queue is not configured");
		return;
	}
	s->subscribed = true;
}

/* Complete, Fail and ExtendLease: one pending batch of lease results. */
static void
on_settle(struct sess *s, uint64_t seq, enum sess_op op, const uint64_t *single, uint32_t n,
	  const void *msg, uint32_t ms, bool dead)
{
	uint32_t i;
	int slot;

	if (!role_allows(s, false) || !s->subscribed) {
		s->stats->bad_sequence++;
		send_error(s, WIRE_STATUS_FORBIDDEN, seq, "no subscription on this session");
		return;
	}
	slot = batch_alloc(s, seq, n, true);
	if (slot < 0) {
		s->stats->batches_over_limit++;
		send_error(s, WIRE_STATUS_RATE_LIMITED, seq, "too many unacknowledged batches");
		return;
	}
	for (i = 0; i < n && s->batch[slot].in_use; i++) {
		uint64_t lease =
			single ? *single
			: op == SESS_OP_COMPLETE
				? wire_complete_lease_ids_at((const struct wire_complete *)msg, i)
				: wire_extend_lease_lease_ids_at(
					  (const struct wire_extend_lease *)msg, i);
		int rc = s->env->settle(s->env->arg, s, (uint32_t)slot, i, op, lease, ms, dead);

		if (rc != SESS_PENDING) {
			struct wire_jobid none = { 0, 0 };

			batch_result(s, (uint32_t)slot, i, (enum wire_status)rc, none);
		}
	}
}

static void
on_ping(struct sess *s, const struct wire_ping *p)
{
	struct wire_msg_in m = { .type = WIRE_MSG_PONG };

	m.u.pong.nonce = wire_ping_nonce(p);
	m.u.pong.time_ms = s->env->wall_ms(s->env->arg);
	emit(s, &m);
}

static void
handle_frame(struct sess *s, const uint8_t *frame)
{
	const struct wire_frame *f = wire_frame_root(frame);
	unsigned type = wire_frame_msg_type(f);
	const void *msg = wire_frame_msg(f);

	s->stats->frames_in++;
	if (type == WIRE_MSG_HELLO) {
		on_hello(s, msg);
		return;
	}
	if (s->state != SESS_OPEN) {
		s->stats->bad_sequence++;
		fail_session(s, WIRE_STATUS_INVALID,
			     s->state == SESS_HELLO ? "first frame must be Hello"
						    : "frame before Welcome");
		return;
	}
	s->deadline_ms = s->now_ms + s->cfg->idle_timeout_ms;
	switch (type) {
	case WIRE_MSG_ENQUEUE_BATCH:
		on_enqueue(s, msg);
		break;
	case WIRE_MSG_SUBSCRIBE:
		on_subscribe(s, msg);
		break;
	case WIRE_MSG_CREDIT:
		if (!s->subscribed) {
			s->stats->bad_sequence++;
			send_error(s, WIRE_STATUS_INVALID, 0, "Credit before Subscribe");
			break;
		}
		s->env->credit(s->env->arg, s, wire_credit_credit(msg));
		break;
	case WIRE_MSG_COMPLETE:
		on_settle(s, wire_complete_seq(msg), SESS_OP_COMPLETE, NULL,
			  wire_complete_lease_ids_len(msg), msg, 0, false);
		break;
	case WIRE_MSG_FAIL: {
		uint64_t lease = wire_fail_lease_id(msg);

		on_settle(s, wire_fail_seq(msg), SESS_OP_FAIL, &lease, 1, msg,
			  wire_fail_retry_delay_ms(msg), wire_fail_dead(msg));
		break;
	}
	case WIRE_MSG_EXTEND_LEASE:
		on_settle(s, wire_extend_lease_seq(msg), SESS_OP_EXTEND, NULL,
			  wire_extend_lease_lease_ids_len(msg), msg,
			  wire_extend_lease_extend_ms(msg), false);
		break;
	case WIRE_MSG_PING:
		on_ping(s, msg);
		break;
	case WIRE_MSG_PONG:
	case WIRE_MSG_ERROR:
		break; /* liveness only; a client's Error is informational */
	case WIRE_MSG_GOODBYE:
		start_closing(s, "client said goodbye");
		break;
	default:
		/* Welcome, EnqueueAck, Deliver, LeaseAck: server-to-client only. */
		s->stats->bad_sequence++;
		fail_session(s, WIRE_STATUS_INVALID, "message type not sent by clients");
	}
}

uint32_t
sess_in_space(struct sess *s, uint8_t **p)
{
	*p = s->in + s->in_len;
	return s->in_cap - s->in_len;
}

enum sess_state
sess_in_commit(struct sess *s, uint32_t n, uint64_t now)
{
	uint32_t pos = 0;

	s->now_ms = now;
	s->in_len += n;
	/* Frames back to back; anything after a fatal one is ignored. */
	while (s->state < SESS_CLOSING && s->in_len - pos >= 4) {
		uint32_t l = wire_ld32(s->in + pos), at = 0;
		char why[96];
		int rc;

		if (l > s->cfg->lim.max_frame_bytes) {
			s->stats->too_large++;
			snprintf(why, sizeof(why), "frame of %u bytes exceeds max_frame_bytes %u",
				 l, s->cfg->lim.max_frame_bytes);
			fail_session(s, WIRE_STATUS_TOO_LARGE, why);
			break;
		}
		if (s->in_len - pos - 4 < l)
			break; /* partial frame: wait for more */
		rc = wire_verify(s->in + pos, 4 + l, &s->cfg->lim, &at);
		if (rc) {
			s->stats->invalid[-rc]++;
			snprintf(why, sizeof(why), "%s at byte %u", wire_error_name(rc), at);
			fail_session(s, WIRE_STATUS_INVALID, why);
			break;
		}
		handle_frame(s, s->in + pos);
		pos += 4 + l;
	}
	if (pos) {
		memmove(s->in, s->in + pos, s->in_len - pos);
		s->in_len -= pos;
	}
	return s->state;
}

enum sess_state
sess_tick(struct sess *s, uint64_t now)
{
	s->now_ms = now;
	if (s->state >= SESS_CLOSING || now < s->deadline_ms)
		return s->state;
	if (s->state == SESS_OPEN) {
		/* A session waiting on the appliance (acks due) is not idle. */
		if (s->unacked) {
			s->deadline_ms = now + s->cfg->idle_timeout_ms;
			return s->state;
		}
		s->stats->idle_timeouts++;
		sess_goodbye(s, WIRE_STATUS_TIMEOUT, "idle timeout");
	} else {
		s->stats->hello_timeouts++;
		fail_session(s, WIRE_STATUS_TIMEOUT, "no Hello in time");
	}
	return s->state;
}

int
sess_deliver(struct sess *s, uint64_t lease_id, uint16_t attempt, uint32_t lease_timeout_ms,
	     uint64_t enqueued_ms, const struct wire_job_in *job)
{
	struct wire_msg_in m = { .type = WIRE_MSG_DELIVER };
	uint32_t room;
	ssize_t n;

	if (s->state != SESS_OPEN)
		return -1;
	room = out_free(s);
	if (room <= SESS_OUT_RESERVE)
		return -1;
	m.u.deliver.lease_id = lease_id;
	m.u.deliver.attempt = attempt;
	m.u.deliver.lease_timeout_ms = lease_timeout_ms;
	m.u.deliver.enqueued_ms = enqueued_ms;
	m.u.deliver.job = *job;
	n = wire_build(s->out + s->out_len, room - SESS_OUT_RESERVE, &m);
	if (n < 0)
		return -1;
	s->out_len += (uint32_t)n;
	s->stats->frames_out++;
	return 0;
}
