/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcore: owns the queue engine of the queues assigned to it. Requests
 * come from each I/O lcore's ring to this worker, results and deliveries go
 * back on the paired ring. A reply that does not fit its ring waits in a
 * per-I/O backlog; while any backlog is non-empty the worker takes no new
 * requests and leases nothing (backpressure, never a dropped acknowledgement).
 *
 * Consumers spanning several workers get credit by hand-off (credit.h): once
 * per poll the worker asks for credit for each such consumer it could lease
 * to and holds none for, and gives back what one holds but cannot spend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "config.h"
#include "lcore.h"

#define BURST 64
#define BACKLOG (4 * BURST * 16)
/*
 * Bursts a pass may take from each ring and dispatch, while no backlog
 * forms. One burst per pass capped the rings' throughput at BURST x passes/s:
 * with producers' batches making each pass slow, settles waited behind
 * enqueues and consumers fell behind at a fraction of their rate.
 */
#define PASS_BURSTS 16

struct consumer_map {
	uint32_t gen;
	int32_t consumer; /* engine consumer, -1 none */
	uint8_t n_subs;
	bool handoff;   /* credit by hand-off: on the handoff list while consumer >= 0 */
	bool want_sent; /* asked (MSG_WANT), no grant since */
	bool active;    /* asked, and gave nothing back since: the bank may lend to it */
	uint32_t hpos;  /* index in the handoff list */
	struct eng_sub subs[WIRE_SUBSCRIBE_QUEUES_MAX];
};

struct backlog {
	uint32_t head, tail; /* FIFO of msgs [head, tail) mod BACKLOG */
	struct msg m[BACKLOG];
};

struct worker_lcore {
	struct appliance *a;
	struct eng *eng;
	unsigned index;
	unsigned max_conns;
	uint32_t n_handoff;
	uint64_t *handoff; /* io << 32 | conn of each consumer with credit by hand-off */
	struct consumer_map *map[SLUICED_IO_MAX];
	struct backlog *out[SLUICED_IO_MAX];
	struct eng_delivery deliv[BURST];
	uint64_t now;
};

static void
free_job_cb(struct eng_job *job, void *arg)
{
	job_put(arg, job);
}

static void
send_msg(struct worker_lcore *w, unsigned io, const struct msg *m)
{
	struct backlog *b = w->out[io];

	if (b->head == b->tail && rte_ring_sp_enqueue_burst_elem(w->a->from_worker[io][w->index], m,
								 sizeof(*m), 1, NULL) == 1)
		return;
	/* Bounded: the loop stops taking requests while a backlog exists. */
	b->m[b->tail % BACKLOG] = *m;
	b->tail++;
}

/* Flush a backlog; true when it is empty. */
static bool
flush_backlog(struct worker_lcore *w, unsigned io)
{
	struct backlog *b = w->out[io];

	while (b->head != b->tail) {
		if (rte_ring_sp_enqueue_burst_elem(w->a->from_worker[io][w->index],
						   &b->m[b->head % BACKLOG], sizeof(struct msg), 1,
						   NULL) != 1)
			return false;
		b->head++;
	}
	return true;
}

/* The engine consumer of c is gone: off the handoff list, leases failed. */
static void
consumer_drop(struct worker_lcore *w, struct consumer_map *c)
{
	if (c->consumer < 0)
		return;
	eng_consumer_remove(w->eng, (uint32_t)c->consumer, w->now);
	c->consumer = -1;
	if (c->handoff) {
		uint64_t last = w->handoff[--w->n_handoff];

		/* swap the last entry into c's place */
		w->handoff[c->hpos] = last;
		w->map[last >> 32][(uint32_t)last].hpos = c->hpos;
		c->handoff = false;
	}
}

static struct consumer_map *
map_of(struct worker_lcore *w, unsigned io, const struct msg *m, bool reset_if_new)
{
	struct consumer_map *c;

	if (m->conn >= w->max_conns)
		return NULL;
	c = &w->map[io][m->conn];
	if (c->gen != m->gen) {
		if (!reset_if_new)
			return NULL;
		consumer_drop(w, c); /* slot reused: the old consumer is gone */
		c->gen = m->gen;
		c->n_subs = 0;
		c->handoff = false;
		c->want_sent = false;
		c->active = false;
	}
	return c;
}

static void
reply(struct worker_lcore *w, unsigned io, const struct msg *req, uint8_t type, uint8_t status,
      uint64_t a, uint64_t b)
{
	struct msg r = *req;

	r.type = type;
	r.x = status;
	r.a = a;
	r.b = b;
	send_msg(w, io, &r);
}

static void
handle(struct worker_lcore *w, unsigned io, const struct msg *m)
{
	struct consumer_map *c;
	enum wire_status st;
	struct wire_jobid id;

	switch (m->type) {
	case MSG_ENQ: {
		struct eng_job *job = (struct eng_job *)(uintptr_t)m->a;

		st = eng_enqueue(w->eng, (uint16_t)m->b, job, w->now, &id);
		if (st != WIRE_STATUS_OK)
			job_put(w->a, job); /* refused: the engine never owned it */
		reply(w, io, m, MSG_ENQ_DONE, (uint8_t)st, id.hi, id.lo);
		break;
	}
	case MSG_SUB_Q:
		c = map_of(w, io, m, true);
		if (c && c->consumer < 0 && c->n_subs < WIRE_SUBSCRIBE_QUEUES_MAX)
			c->subs[c->n_subs++] = (struct eng_sub){ .queue = (uint16_t)m->a,
								 .weight = (uint16_t)m->b };
		break;
	case MSG_SUB_END:
		c = map_of(w, io, m, true);
		if (c && c->consumer < 0 && c->n_subs) {
			uint64_t cookie = (uint64_t)io << 32 | m->conn;
			int rc = eng_consumer_add(w->eng, cookie, c->subs, c->n_subs,
						  m->x ? 0 : (uint32_t)m->a);

			c->consumer = rc >= 0 ? rc : -1;
			if (c->consumer >= 0 && m->x) {
				c->handoff = true;
				c->want_sent = false;
				c->active = false;
				c->hpos = w->n_handoff;
				w->handoff[w->n_handoff++] = cookie;
			}
		}
		break;
	case MSG_CREDIT:
		c = map_of(w, io, m, false);
		if (c && c->consumer >= 0)
			eng_consumer_credit(w->eng, (uint32_t)c->consumer, (uint32_t)m->a);
		break;
	case MSG_GRANT:
		c = map_of(w, io, m, false);
		if (c && c->consumer >= 0 && c->handoff) {
			eng_consumer_credit(w->eng, (uint32_t)c->consumer, (uint32_t)m->a);
			c->want_sent = false;
		} else if (c) {
			/* no consumer here (refused subscription): the bank gets it back */
			reply(w, io, m, MSG_RETURN, 0, m->a, 0);
		}
		break;
	case MSG_SETTLE:
		c = map_of(w, io, m, false);
		if (!c || c->consumer < 0)
			st = WIRE_STATUS_LEASE_NOT_FOUND;
		else if (m->x == SESS_OP_COMPLETE)
			st = eng_complete(w->eng, (uint32_t)c->consumer, m->a, w->now);
		else if (m->x == SESS_OP_FAIL)
			st = eng_fail(w->eng, (uint32_t)c->consumer, m->a, (uint32_t)m->b,
				      (m->b >> 32) != 0, w->now);
		else
			st = eng_extend(w->eng, (uint32_t)c->consumer, m->a, (uint32_t)m->b,
					w->now);
		reply(w, io, m, MSG_SETTLE_DONE, (uint8_t)st, 0, 0);
		break;
	case MSG_GONE:
		c = map_of(w, io, m, false);
		if (c) {
			consumer_drop(w, c);
			c->gen = UINT32_MAX;
		}
		break;
	default:
		break;
	}
}

static uint32_t
dispatch(struct worker_lcore *w)
{
	uint32_t n = eng_dispatch(w->eng, w->now, w->deliv, BURST), i;

	for (i = 0; i < n; i++) {
		const struct eng_delivery *d = &w->deliv[i];
		uint64_t cookie = eng_consumer_cookie(w->eng, d->consumer);
		unsigned io = (unsigned)(cookie >> 32);
		uint32_t conn = (uint32_t)cookie;
		struct msg m = {
			.type = MSG_DELIVER,
			.slot = d->attempt,
			.conn = conn,
			.gen = w->map[io][conn].gen,
			.idx = d->lease_timeout_ms,
			.a = (uint64_t)(uintptr_t)d->job,
			.b = d->lease_id,
		};

		/* The I/O lcore reads the job to encode it: hold a reference. */
		atomic_fetch_add(&job_hdr_of(d->job)->refs, 1);
		send_msg(w, io, &m);
	}
	return n;
}

/* No message waits in any backlog to an I/O lcore. */
static bool
backlogs_empty(const struct worker_lcore *w)
{
	unsigned io;

	for (io = 0; io < w->a->n_io; io++)
		if (w->out[io]->head != w->out[io]->tail)
			return false;
	return true;
}

/*
 * Credit by hand-off, after dispatch (credit.h): ask for credit for each
 * consumer that holds none and could be leased a job here; when one could be
 * leased nothing here, give back all it holds, or tell the bank it ran dry
 * (an empty return) so that it lends elsewhere. Credit held is credit that
 * can be spent.
 */
static void
handoff_scan(struct worker_lcore *w)
{
	uint32_t i;

	for (i = 0; i < w->n_handoff; i++) {
		uint64_t key = w->handoff[i];
		unsigned io = (unsigned)(key >> 32);
		struct consumer_map *c = &w->map[io][(uint32_t)key];
		uint32_t con = (uint32_t)c->consumer;
		uint32_t held = eng_consumer_credit_held(w->eng, con);
		uint32_t weight = eng_consumer_ready_weight(w->eng, con, w->now);
		struct msg m = { .conn = (uint32_t)key, .gen = c->gen };

		if (!weight && (held || c->active)) {
			m.type = MSG_RETURN;
			m.a = eng_consumer_credit_take(w->eng, con);
			send_msg(w, io, &m);
			c->active = false;
			c->want_sent = false;
		} else if (weight && !held && !c->want_sent) {
			m.type = MSG_WANT;
			m.a = weight;
			send_msg(w, io, &m);
			c->want_sent = true;
			c->active = true;
		}
	}
}

void
worker_lcore_poll(struct worker_lcore *w)
{
	struct msg in[BURST];
	bool clear = true;
	unsigned io, i, n;

	w->now = mono_ms();
	/* Operator actions send nothing to I/O lcores: taken even under backpressure. */
	ctlsrv_worker_poll(w->a->ctl, w->index, w->eng, w->now);
	for (io = 0; io < w->a->n_io; io++)
		clear &= flush_backlog(w, io);
	if (!clear)
		return;
	for (io = 0; io < w->a->n_io; io++) {
		unsigned k;

		/* A burst adds at most a burst of replies: BACKLOG holds them. */
		for (k = 0; k < PASS_BURSTS && backlogs_empty(w); k++) {
			n = rte_ring_sc_dequeue_burst_elem(w->a->to_worker[io][w->index], in,
							   sizeof(in[0]), BURST, NULL);
			for (i = 0; i < n; i++)
				handle(w, io, &in[i]);
			if (n < BURST)
				break;
		}
	}
	eng_advance(w->eng, w->now);
	for (i = 0; i < PASS_BURSTS && backlogs_empty(w); i++)
		if (dispatch(w) < BURST)
			break;
	if (w->n_handoff)
		handoff_scan(w);
}

struct worker_lcore *
worker_lcore_create(struct appliance *a, unsigned index)
{
	const struct sluiced_cfg *cfg = a->cfg;
	struct worker_lcore *w =
		rte_zmalloc_socket("worker", sizeof(*w), RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	struct eng_cfg ec = {
		.worker_id = (uint16_t)index,
		.max_queues = a->n_queues,
		.max_jobs = cfg->max_jobs,
		.max_consumers = a->n_io * cfg->max_conns,
		.dedup_entries = cfg->dedup_entries,
		.seed = wall_ms() ^ ((uint64_t)rte_rdtsc() << 17) ^ index,
		.free_job = free_job_cb,
		.free_arg = a,
	};
	unsigned io, q;

	if (!w)
		return NULL;
	w->a = a;
	w->index = index;
	w->max_conns = cfg->max_conns;
	w->eng = eng_create(&ec);
	w->handoff = rte_zmalloc("handoff", sizeof(*w->handoff) * ec.max_consumers, 0);
	if (!w->eng || !w->handoff)
		goto fail;
	/* Only the queues this worker owns, in order: their engine index is pol_queue.index. */
	for (q = 0; q < a->n_queues; q++) {
		if (a->queues[q].worker != index)
			continue;
		if (eng_queue_add(w->eng, &cfg->queue_cfg[q]) != (int)a->queues[q].index) {
			errno = EINVAL;
			goto fail;
		}
	}
	for (io = 0; io < a->n_io; io++) {
		unsigned c;

		w->map[io] = rte_zmalloc("consumer_map",
					 sizeof(struct consumer_map) * cfg->max_conns, 0);
		w->out[io] = rte_zmalloc("backlog", sizeof(struct backlog), 0);
		if (!w->map[io] || !w->out[io])
			goto fail;
		for (c = 0; c < cfg->max_conns; c++) {
			w->map[io][c].consumer = -1;
			w->map[io][c].gen = UINT32_MAX;
		}
	}
	return w;
fail:
	worker_lcore_free(w);
	return NULL;
}

void
worker_lcore_free(struct worker_lcore *w)
{
	unsigned io;

	if (!w)
		return;
	if (w->eng)
		eng_free(w->eng);
	for (io = 0; io < SLUICED_IO_MAX; io++) {
		struct backlog *b = w->out[io];

		/* Deliveries never sent hold a job reference each. */
		for (; b && b->head != b->tail; b->head++)
			if (b->m[b->head % BACKLOG].type == MSG_DELIVER)
				job_put(w->a,
					(struct eng_job *)(uintptr_t)b->m[b->head % BACKLOG].a);
		rte_free(w->map[io]);
		rte_free(w->out[io]);
	}
	rte_free(w->handoff);
	rte_free(w);
}

void
appliance_rings_drain(struct appliance *a)
{
	unsigned io, wk;
	struct msg m;

	for (io = 0; io < a->n_io; io++) {
		for (wk = 0; wk < a->n_workers; wk++) {
			struct rte_ring *to = a->to_worker[io][wk], *from = a->from_worker[io][wk];

			while (to &&
			       rte_ring_sc_dequeue_burst_elem(to, &m, sizeof(m), 1, NULL) == 1)
				if (m.type == MSG_ENQ)
					job_put(a, (struct eng_job *)(uintptr_t)m.a);
			while (from &&
			       rte_ring_sc_dequeue_burst_elem(from, &m, sizeof(m), 1, NULL) == 1)
				if (m.type == MSG_DELIVER)
					job_put(a, (struct eng_job *)(uintptr_t)m.a);
		}
	}
}
