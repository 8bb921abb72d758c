/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Consumer side: Subscribe, keep Deliver frames until their handler runs,
 * Complete (coalesced) or Fail each, top up credit, extend held leases at
 * half their timeout, and match LeaseAcks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_pvt.h"

/* ---- deliveries ---- */

uint64_t
sluice_delivery_lease_id(const struct sluice_delivery *d)
{
	return d->lease_id;
}

unsigned
sluice_delivery_attempt(const struct sluice_delivery *d)
{
	return d->attempt;
}

uint32_t
sluice_delivery_lease_timeout_ms(const struct sluice_delivery *d)
{
	return d->lease_timeout_ms;
}

uint64_t
sluice_delivery_enqueued_ms(const struct sluice_delivery *d)
{
	return d->enqueued_ms;
}

/* Strings of a verified frame end with a NUL (the verifier checks it). */
const char *
sluice_delivery_queue(const struct sluice_delivery *d)
{
	return wire_job_queue(d->job).p;
}

const char *
sluice_delivery_type(const struct sluice_delivery *d)
{
	return wire_job_type(d->job).p;
}

const char *
sluice_delivery_content_type(const struct sluice_delivery *d)
{
	return wire_job_content_type(d->job).p;
}

const char *
sluice_delivery_unique_key(const struct sluice_delivery *d)
{
	return wire_job_unique_key(d->job).p;
}

unsigned
sluice_delivery_priority(const struct sluice_delivery *d)
{
	return wire_job_priority(d->job);
}

struct sluice_job_id
sluice_delivery_id(const struct sluice_delivery *d)
{
	return sl_id_from_wire(wire_job_id(d->job));
}

const void *
sluice_delivery_payload(const struct sluice_delivery *d, size_t *len)
{
	struct wire_bytes b = wire_job_payload(d->job);

	*len = b.len;
	return b.p ? (const void *)b.p : (const void *)"";
}

unsigned
sluice_delivery_n_headers(const struct sluice_delivery *d)
{
	return wire_job_headers_len(d->job);
}

void
sluice_delivery_header(const struct sluice_delivery *d, unsigned i, const char **key,
		       const char **value)
{
	const struct wire_header *h = wire_job_headers_at(d->job, i);

	*key = wire_header_key(h).p;
	*value = wire_header_value(h).p;
}

/* ---- settling ---- */

static void
settled(struct sluice_client *c, uint64_t lease_id, enum sl_op_kind kind, unsigned status)
{
	static const enum sluice_settle_op ops[] = {
		[SL_OP_COMPLETE] = SLUICE_SETTLE_COMPLETE,
		[SL_OP_FAIL] = SLUICE_SETTLE_FAIL,
		[SL_OP_EXTEND] = SLUICE_SETTLE_EXTEND,
	};
	struct sluice_settled s = { lease_id, ops[kind], status };

	if (status != SLUICE_STATUS_OK)
		c->stats.settle_refused++;
	if (kind == SL_OP_EXTEND && status != SLUICE_STATUS_OK)
		sl_leases_remove(&c->leases, lease_id); /* gone: stop extending it */
	if (c->cfg.on_settled)
		SL_CALLBACK(c, c->cfg.on_settled(c->cfg.on_settled_arg, &s));
}

/*
 * sluiced counts Complete, Fail and ExtendLease frames against the same
 * max_unacked_batches budget as EnqueueBatch; one more is answered
 * Error{RateLimited}. Frames in flight of both kinds share the window.
 */
static bool
window_full(const struct sluice_client *c)
{
	return c->ops.n + c->ledger.n_inflight >= c->cfg.max_unacked_batches;
}

static int
send_lease_op(struct sluice_client *c, enum sl_op_kind kind, const uint64_t *ids, uint32_t n)
{
	struct wire_msg_in m = { .type = kind == SL_OP_COMPLETE ? WIRE_MSG_COMPLETE
								: WIRE_MSG_EXTEND_LEASE };
	uint64_t seq;
	int rc;

	if (sl_ops_add(&c->ops, kind, ids, n, &seq))
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	if (kind == SL_OP_COMPLETE) {
		m.u.complete.seq = seq;
		m.u.complete.lease_ids = ids;
		m.u.complete.n = n;
	} else {
		/* extend_ms 0: each lease restarts at its own original timeout */
		m.u.extend_lease.seq = seq;
		m.u.extend_lease.lease_ids = ids;
		m.u.extend_lease.n = n;
	}
	rc = sl_send_msg(c, &m);
	if (rc) {
		struct sl_op op;

		if (sl_ops_take(&c->ops, seq, &op))
			free(op.ids);
	}
	return rc;
}

static int
send_completes(struct sluice_client *c)
{
	uint32_t done = 0, max = c->info.max_batch_jobs ? c->info.max_batch_jobs : 1;
	int rc = 0;

	while (done < c->n_completes && rc == 0 && !window_full(c)) {
		uint32_t n = c->n_completes - done < max ? c->n_completes - done : max;

		rc = send_lease_op(c, SL_OP_COMPLETE, c->completes + done, n);
		done += n;
	}
	/* What the window did not take waits for acks, and coalesces meanwhile. */
	memmove(c->completes, c->completes + done, (c->n_completes - done) * sizeof(uint64_t));
	c->n_completes -= done;
	return rc;
}

static int
add_complete(struct sluice_client *c, uint64_t lease_id)
{
	if (c->n_completes == c->cap_completes) {
		uint32_t cap = c->cap_completes ? c->cap_completes * 2 : 64;
		uint64_t *nc = realloc(c->completes, cap * sizeof(*nc));

		if (!nc)
			return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
		c->completes = nc;
		c->cap_completes = cap;
	}
	if (c->n_completes == 0)
		c->completes_since_ms = sl_now_ms();
	c->completes[c->n_completes++] = lease_id;
	return 0;
}

/* Fail reasons are free text on the wire: printable ASCII, at most 256 bytes. */
static void
clean_reason(const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; in && in[i] && i + 1 < cap && i < WIRE_TEXT_MAX; i++)
		out[i] = in[i] >= 0x20 && in[i] <= 0x7e ? in[i] : '?';
	out[i] = '\0';
}

static int
settle(struct sluice_client *c, const struct sluice_delivery *d, const struct sluice_verdict *v)
{
	struct wire_msg_in m = { .type = WIRE_MSG_FAIL };
	char reason[WIRE_TEXT_MAX + 1];
	uint64_t seq;
	int rc;

	sl_leases_remove(&c->leases, d->lease_id);
	if (c->local)
		c->local--;
	if (d->generation != c->generation || !c->connected) {
		/* The lease died with its session; the appliance retries the job. */
		settled(c, d->lease_id, v->ok ? SL_OP_COMPLETE : SL_OP_FAIL,
			SLUICE_STATUS_LEASE_NOT_FOUND);
		return 0;
	}
	if (v->ok) {
		rc = add_complete(c, d->lease_id);
		if (rc == 0)
			c->stats.completed++;
		return rc;
	}
	/* A Fail goes out now, so wait for room in the window first. */
	{
		uint64_t deadline = sl_now_ms() + c->cfg.io_timeout_ms;

		while (window_full(c) && c->connected && d->generation == c->generation) {
			uint64_t now = sl_now_ms();

			if (now >= deadline)
				return sl_fail(
					c, SLUICE_E_TIMEOUT,
					"no LeaseAck from %s for %u ms with %u frames in flight",
					c->conn.peer, c->cfg.io_timeout_ms, c->ops.n);
			rc = sl_pump(c, (int)(deadline - now));
			if (rc)
				return rc;
		}
		if (d->generation != c->generation || !c->connected) {
			settled(c, d->lease_id, SL_OP_FAIL, SLUICE_STATUS_LEASE_NOT_FOUND);
			return 0;
		}
	}
	clean_reason(v->reason, reason, sizeof(reason));
	if (sl_ops_add(&c->ops, SL_OP_FAIL, &d->lease_id, 1, &seq))
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	m.u.fail.seq = seq;
	m.u.fail.lease_id = d->lease_id;
	m.u.fail.reason = wire_cstr(reason);
	m.u.fail.retry_delay_ms =
		v->retry_delay_ms > WIRE_DURATION_MS_MAX ? WIRE_DURATION_MS_MAX : v->retry_delay_ms;
	m.u.fail.dead = v->dead;
	rc = sl_send_msg(c, &m);
	if (rc == 0)
		c->stats.failed++;
	return rc;
}

static void
bump_next(int64_t *next, int64_t v)
{
	if (v >= 0 && (*next < 0 || v < *next))
		*next = v;
}

int
sl_consume_send_due(struct sluice_client *c, uint64_t now_ms, bool force, int64_t *next_ms)
{
	uint64_t ids[256];
	uint32_t n, credit;
	int64_t due;
	int rc;

	if (!c->connected || !c->subscribed)
		return 0;
	if (c->n_completes) {
		uint64_t age = now_ms - c->completes_since_ms;

		/* Coalesce Completes of quick handlers; never hold one behind a slow handler. */
		if (force || !c->dq_head || c->n_completes >= c->info.max_batch_jobs ||
		    age >= SL_COMPLETE_LINGER_MS) {
			rc = send_completes(c);
			if (rc)
				return rc;
		} else {
			bump_next(next_ms, (int64_t)(SL_COMPLETE_LINGER_MS - age));
		}
	}
	while ((due = sl_leases_due_in(&c->leases, now_ms)) == 0 && !window_full(c)) {
		uint32_t max = c->info.max_batch_jobs < 256 ? c->info.max_batch_jobs : 256;

		n = sl_leases_take_due(&c->leases, now_ms, ids, max ? max : 1);
		if (!n)
			break;
		rc = send_lease_op(c, SL_OP_EXTEND, ids, n);
		if (rc)
			return rc;
		c->stats.extends += n;
	}
	bump_next(next_ms, due);
	credit = sl_credit_topup(c->prefetch, c->want_left, c->server_credit, c->local);
	if (credit) {
		struct wire_msg_in m = { .type = WIRE_MSG_CREDIT };

		m.u.credit.credit = credit;
		rc = sl_send_msg(c, &m);
		if (rc)
			return rc;
		c->server_credit += credit;
		c->stats.credits++;
	}
	return 0;
}

int
sl_consume_on_deliver(struct sluice_client *c, const uint8_t *frame, uint32_t len,
		      const struct wire_deliver *d)
{
	struct sluice_delivery *dl;

	(void)d;
	if (!c->subscribed)
		return sl_fail(c, SLUICE_E_PROTOCOL, "%s sent Deliver before any Subscribe",
			       c->conn.peer);
	dl = malloc(sizeof(*dl) + len);
	if (!dl)
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	/* Our own copy, verified as a whole: the connection buffer moves on. */
	memcpy(dl->frame, frame, len);
	d = wire_frame_deliver(wire_frame_root(dl->frame));
	dl->next = NULL;
	dl->generation = c->generation;
	dl->lease_id = wire_deliver_lease_id(d);
	dl->attempt = wire_deliver_attempt(d);
	dl->lease_timeout_ms = wire_deliver_lease_timeout_ms(d);
	dl->enqueued_ms = wire_deliver_enqueued_ms(d);
	dl->job = wire_deliver_job(d);
	if (sl_leases_add(&c->leases, dl->lease_id, dl->lease_timeout_ms, sl_now_ms())) {
		free(dl);
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	}
	if (c->dq_tail)
		c->dq_tail->next = dl;
	else
		c->dq_head = dl;
	c->dq_tail = dl;
	c->local++;
	/* Past its credit the appliance is wrong; keep the job, do not wrap the count. */
	if (c->server_credit)
		c->server_credit--;
	c->stats.deliveries++;
	return 0;
}

int
sl_consume_on_lease_ack(struct sluice_client *c, const struct wire_lease_ack *a)
{
	uint64_t seq = wire_lease_ack_seq(a);
	uint32_t n = wire_lease_ack_status_len(a), i;
	struct sl_op op;

	if (!sl_ops_take(&c->ops, seq, &op))
		return sl_fail(
			c, SLUICE_E_PROTOCOL,
			"%s sent LeaseAck seq %llu, which answers nothing sent: protocol error",
			c->conn.peer, (unsigned long long)seq);
	if (n != op.n) {
		free(op.ids);
		return sl_fail(c, SLUICE_E_PROTOCOL,
			       "%s answered %u lease ids with %u statuses: protocol error",
			       c->conn.peer, op.n, n);
	}
	for (i = 0; i < n; i++)
		settled(c, op.ids[i], op.kind, wire_lease_ack_status_at(a, i));
	free(op.ids);
	return 0;
}

bool
sl_consume_on_error(struct sluice_client *c, uint64_t seq, unsigned status)
{
	struct sl_op op;
	uint32_t i;

	if (!sl_ops_take(&c->ops, seq, &op))
		return false;
	for (i = 0; i < op.n; i++) {
		/* Over the appliance's window: the frame was dropped, send it again. */
		if (status == SLUICE_STATUS_RATE_LIMITED && op.kind == SL_OP_COMPLETE &&
		    add_complete(c, op.ids[i]) == 0)
			continue;
		settled(c, op.ids[i], op.kind, status);
	}
	free(op.ids);
	return true;
}

void
sl_consume_session_lost(struct sluice_client *c)
{
	struct sluice_delivery *d = c->dq_head;
	uint32_t i, j;

	/* Leases belong to the session: the appliance fails and retries these jobs. */
	while (d) {
		struct sluice_delivery *next = d->next;

		free(d);
		d = next;
	}
	c->dq_head = c->dq_tail = NULL;
	c->local = 0;
	c->server_credit = 0;
	c->leases.n = 0;
	for (i = 0; i < c->n_completes; i++)
		settled(c, c->completes[i], SL_OP_COMPLETE, SLUICE_STATUS_LEASE_NOT_FOUND);
	c->n_completes = 0;
	/* Sent, never answered: outcome unknown. */
	for (i = 0; i < c->ops.n; i++)
		for (j = 0; j < c->ops.v[i].n; j++)
			settled(c, c->ops.v[i].ids[j], c->ops.v[i].kind, SLUICE_STATUS_UNAVAILABLE);
	sl_ops_clear(&c->ops);
}

static int
send_subscribe(struct sluice_client *c, uint32_t prefetch)
{
	struct wire_msg_in m = { .type = WIRE_MSG_SUBSCRIBE };
	int rc;

	m.u.subscribe.queues = c->subs;
	m.u.subscribe.n_queues = c->n_subs;
	m.u.subscribe.prefetch = prefetch;
	rc = sl_send_msg(c, &m);
	if (rc == 0)
		c->server_credit = prefetch;
	return rc;
}

int
sl_consume_resubscribe(struct sluice_client *c)
{
	uint64_t want = c->want_left < c->prefetch ? c->want_left : c->prefetch;

	if (!c->subscribed)
		return 0;
	return send_subscribe(c, want ? (uint32_t)want : 1);
}

void
sl_consume_free(struct sluice_client *c)
{
	sl_leases_free(&c->leases);
	sl_ops_free(&c->ops);
	free(c->completes);
	free(c->sub_strs);
	c->completes = NULL;
	c->sub_strs = NULL;
}

int
sluice_subscribe(struct sluice_client *c, const struct sluice_queue_weight *queues, unsigned n,
		 uint32_t prefetch)
{
	size_t total = 0;
	unsigned i;
	char *p;
	int rc = sl_enter(c, "sluice_subscribe");

	if (rc)
		return rc;
	if (!(c->cfg.role & SLUICE_CONSUMER))
		return sl_fail(
			c, SLUICE_E_STATE,
			"this session is a producer; subscribing needs role consumer or both");
	if (c->subscribed)
		return sl_fail(c, SLUICE_E_STATE, "already subscribed (once per session)");
	if (n < 1 || n > WIRE_SUBSCRIBE_QUEUES_MAX || !queues)
		return sl_fail(c, SLUICE_E_INVALID, "subscribe to 1 to %u queues, not %u",
			       WIRE_SUBSCRIBE_QUEUES_MAX, n);
	if (prefetch < 1 || prefetch > WIRE_CREDIT_MAX)
		return sl_fail(c, SLUICE_E_INVALID, "prefetch %u is not within 1..%u", prefetch,
			       WIRE_CREDIT_MAX);
	for (i = 0; i < n; i++) {
		if (!queues[i].queue ||
		    wire_check_name(queues[i].queue, strlen(queues[i].queue), WIRE_QUEUE_NAME_MAX))
			return sl_fail(c, SLUICE_E_INVALID,
				       "queue %u: names are 1..%u of A-Z a-z 0-9 _ . : -", i + 1,
				       WIRE_QUEUE_NAME_MAX);
		if (queues[i].weight > WIRE_WEIGHT_MAX)
			return sl_fail(c, SLUICE_E_INVALID, "queue %s: weight %u is above %u",
				       queues[i].queue, queues[i].weight, WIRE_WEIGHT_MAX);
		total += strlen(queues[i].queue) + 1;
	}
	free(c->sub_strs);
	c->sub_strs = p = malloc(total);
	if (!p)
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		size_t l = strlen(queues[i].queue);

		memcpy(p, queues[i].queue, l + 1);
		c->subs[i].queue = (struct wire_str){ p, (uint32_t)l };
		c->subs[i].weight = queues[i].weight ? queues[i].weight : 1;
		p += l + 1;
	}
	c->n_subs = n;
	c->prefetch = prefetch;
	c->want_left = UINT64_MAX;
	rc = send_subscribe(c, prefetch);
	if (rc)
		return rc;
	c->subscribed = true;
	/*
	 * Subscribe has no ack. A Pong after it means the appliance read it: a
	 * refusal (Forbidden, UnknownQueue) comes back before that as an Error.
	 */
	rc = sluice_ping(c, NULL);
	if (rc)
		c->subscribed = false;
	return rc;
}

static struct sluice_delivery *
dq_pop(struct sluice_client *c)
{
	struct sluice_delivery *d = c->dq_head;

	if (d) {
		c->dq_head = d->next;
		if (!c->dq_head)
			c->dq_tail = NULL;
	}
	return d;
}

/* After the loop: Completes out, and their acks in, so the caller knows the outcomes. */
static int
settle_wait(struct sluice_client *c)
{
	uint64_t deadline = sl_now_ms() + c->cfg.io_timeout_ms;
	int64_t next = -1;
	int rc;

	if (!c->connected)
		return 0;
	rc = sl_consume_send_due(c, sl_now_ms(), true, &next);
	while (rc == 0 && (c->ops.n || c->n_completes) && c->connected) {
		uint64_t now = sl_now_ms();

		if (now >= deadline)
			return sl_fail(c, SLUICE_E_TIMEOUT,
				       "%u lease operations still unanswered by %s after %u ms",
				       c->ops.n, c->conn.peer, c->cfg.io_timeout_ms);
		rc = sl_pump(c, (int)(deadline - now));
	}
	return rc;
}

int
sluice_consume(struct sluice_client *c, sluice_handler_fn handler, void *arg, uint64_t max_jobs,
	       int idle_ms, uint64_t *handled)
{
	uint64_t n = 0, idle_since = sl_now_ms();
	int rc = sl_enter(c, "sluice_consume"), rc2;

	if (rc)
		return rc;
	if (!c->subscribed)
		return sl_fail(c, SLUICE_E_STATE, "sluice_consume: call sluice_subscribe first");
	c->want_left = max_jobs ? max_jobs : UINT64_MAX;
	while (rc == 0) {
		struct sluice_delivery *d;
		uint64_t now;
		int wait;

		if (atomic_load(&c->stop)) {
			rc = sl_fail(c, SLUICE_E_STOPPED, "stopped");
			break;
		}
		if (max_jobs && n >= max_jobs)
			break;
		d = dq_pop(c);
		if (d) {
			struct sluice_verdict v = { .ok = true };

			SL_CALLBACK(c, handler(arg, c, d, &v));
			rc = settle(c, d, &v);
			free(d);
			n++;
			if (c->want_left != UINT64_MAX)
				c->want_left--;
			idle_since = sl_now_ms();
			if (rc == 0)
				rc = sl_pump(c, 0);
			continue;
		}
		now = sl_now_ms();
		if (idle_ms >= 0 && now - idle_since >= (uint64_t)idle_ms)
			break;
		wait = idle_ms < 0 ? 1000 : (int)(idle_since + (uint64_t)idle_ms - now);
		rc = sl_pump(c, wait);
	}
	if (handled)
		*handled = n;
	rc2 = settle_wait(c);
	c->want_left = 0; /* no more credit until the next consume */
	return rc ? rc : rc2;
}
