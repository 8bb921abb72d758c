/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O lcore: connections from its transport, TLS, sessions; jobs and lease
 * operations to the worker owning the queue, results and deliveries back;
 * the credit of consumers spanning workers (credit.h); Hello tokens to the
 * main lcore. Shared-nothing: a connection never leaves its lcore.
 *
 * Per connection:   transport ──► tls.rx ──► TLS ──► sess.in ──► frames
 *                   transport ◄── tls.tx ◄── TLS ◄── sess.out ◄── acks, deliveries
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "config.h"
#include "ctldlink.h"
#include "lcore.h"

#define BURST 64
#define PASS_BURSTS 16 /* bursts taken from a worker's ring per pass */
#define EVENTS 64
#define TLS_RX_BYTES (18u << 10)
#define TLS_TX_BYTES (48u << 10)
#define TICK_MS 10

enum conn_state {
	CONN_FREE,
	CONN_TLS,     /* handshake */
	CONN_OPEN,    /* session running */
	CONN_CLOSING, /* flushing the last frames and close_notify */
};

/* A Deliver waiting for room in the session's out window. */
struct pending {
	struct msg m;
	uint32_t next;
};

struct conn {
	uint8_t state;
	bool want_write;
	bool handoff;     /* consumer spanning workers: credit in io->banks[slot] */
	bool hs_waiting;  /* handshake deferred by the per-poll budget */
	bool has_sess;    /* sess is initialised (TLS handshake done) */
	bool counted;     /* counted in its principal entry's conns */
	uint8_t revoked;  /* 0, or why a reload took its grants (REVOKE_*): Goodbye when acked */
	uint16_t workers; /* bit w: worker w holds a consumer for it */
	uint32_t gen;
	uint32_t addr; /* client's IPv4 address, host order */
	uint16_t port;
	uint64_t accepted_ms;
	int64_t h;
	uint64_t cred; /* credential the session authenticated with */
	uint64_t hs_deadline;
	uint32_t pend_head, pend_tail; /* list in io->pend, UINT32_MAX = none */
	struct tls_conn tls;
	struct sess sess;
	uint8_t *mem; /* tls rx, tls tx, session buffers */
};

struct io_stats {
	uint64_t accepted, closed, refused_full, handshakes, handshake_failures, handshake_timeouts,
		enqueue_ring_full, job_mem_exhausted, stale_msgs, deliveries, deliveries_dropped,
		auth_revoked, auth_changed, auth_rebound, banned, rate_limited, too_many_conns;
};

struct io_lcore {
	struct appliance *a;
	unsigned index;
	struct transport *tp;
	struct tls_ctx *tls;
	struct sess_env env;
	struct sess_stats sess_stats;
	struct io_stats st;
	uint32_t max_conns;
	struct conn *conns;
	uint32_t *free_slots;
	uint32_t n_free;
	struct pending *pend;
	uint32_t pend_free;
	struct credit_bank *banks;     /* per connection slot, for consumers spanning workers */
	const struct auth_table *auth; /* the principal table this lcore's sessions point into */
	uint64_t now, next_tick, drain_deadline;
	uint64_t now_ns; /* monotonic, for rate limits */
	bool draining;
	uint64_t session_seq;
	uint32_t hs_budget;
	/* "invalid.<check>" and "refused.<status>": names of the counters by reason */
	char invalid_names[WIRE_E__COUNT][48];
	char refused_names[WIRE_STATUS__COUNT][40];
};

/* ---- job objects ---- */

static struct eng_job *
job_get(struct appliance *a, size_t size)
{
	unsigned c;

	for (c = 0; c < JOB_CLASSES; c++) {
		struct job_hdr *h;

		if (size + JOB_HDR_BYTES > a->job_class_bytes[c])
			continue;
		if (rte_mempool_get(a->jobs[c], (void **)&h) != 0)
			continue; /* class empty: a larger one will do */
		atomic_init(&h->refs, 1);
		h->pool = (uint16_t)c;
		return (struct eng_job *)((uintptr_t)h + JOB_HDR_BYTES);
	}
	return NULL;
}

void
job_put(struct appliance *a, struct eng_job *j)
{
	struct job_hdr *h = job_hdr_of(j);

	if (atomic_fetch_sub(&h->refs, 1) == 1)
		rte_mempool_put(a->jobs[h->pool], h);
}

/* ---- connections ---- */

static struct io_lcore *
io_of(void *arg)
{
	return arg;
}

static struct conn *
conn_of_sess(struct io_lcore *io, struct sess *s)
{
	(void)io;
	return (struct conn *)((uintptr_t)s - offsetof(struct conn, sess));
}

static uint32_t
slot_of(struct io_lcore *io, const struct conn *c)
{
	return (uint32_t)(c - io->conns);
}

static bool
to_worker(struct io_lcore *io, unsigned w, const struct msg *m)
{
	return rte_ring_sp_enqueue_burst_elem(io->a->to_worker[io->index][w], m, sizeof(*m), 1,
					      NULL) == 1;
}

/* Control messages may not be lost: a full ring means the worker is behind, wait for it. */
static void
to_worker_wait(struct io_lcore *io, unsigned w, const struct msg *m)
{
	while (!to_worker(io, w, m))
		rte_pause();
}

/* Send the grants the consumer's bank proposes; a full ring leaves them to the timer. */
static void
conn_credit_pump(struct io_lcore *io, struct conn *c)
{
	struct credit_bank *b = &io->banks[slot_of(io, c)];
	unsigned w;
	uint32_t n;

	while (credit_bank_next(b, &w, &n)) {
		struct msg m = { .type = MSG_GRANT, .conn = slot_of(io, c), .gen = c->gen, .a = n };

		if (!to_worker(io, w, &m))
			break;
		credit_bank_granted(b, w, n);
	}
}

/* What a session holds between losing its grants and its Goodbye: nothing. */
static const struct pol_principal no_grants = { .name = "(grants withdrawn)" };

/* The table entry of a session's principal, NULL when it holds none. */
static struct auth_entry *
conn_entry(const struct conn *c)
{
	const struct pol_principal *p = c->has_sess ? c->sess.principal : NULL;

	/* Entries are shared with the other lcores only through their atomics. */
	return p && p != &no_grants ? (struct auth_entry *)(uintptr_t)auth_entry_of(p) : NULL;
}

static void
conn_uncount(struct conn *c)
{
	struct auth_entry *e = conn_entry(c);

	if (c->counted && e)
		atomic_fetch_sub_explicit(&e->conns, 1, memory_order_relaxed);
	c->counted = false;
}

static void
conn_free(struct io_lcore *io, struct conn *c, bool abort)
{
	uint32_t slot = slot_of(io, c), p;

	if (c->workers) {
		struct msg m = { .type = MSG_GONE, .conn = slot, .gen = c->gen };
		unsigned w;

		/* Leases depend on it: every worker holding a consumer for c hears. */
		for (w = 0; w < io->a->n_workers; w++)
			if (c->workers & (1u << w))
				to_worker_wait(io, w, &m);
	}
	for (p = c->pend_head; p != UINT32_MAX;) {
		uint32_t next = io->pend[p].next;

		job_put(io->a, (struct eng_job *)(uintptr_t)io->pend[p].m.a);
		io->st.deliveries_dropped++;
		io->pend[p].next = io->pend_free;
		io->pend_free = p;
		p = next;
	}
	conn_uncount(c);
	io->tp->ops->close(io->tp, c->h, abort);
	tls_conn_free(&c->tls);
	c->state = CONN_FREE;
	c->has_sess = false;
	c->gen++;
	c->workers = 0;
	c->handoff = false;
	c->revoked = 0;
	io->free_slots[io->n_free++] = slot;
	io->st.closed++;
}

/* Move plaintext out of the session into TLS, and ciphertext onto the wire. */
static void
conn_flush(struct io_lcore *io, struct conn *c)
{
	const uint8_t *p;
	uint32_t n;
	ssize_t sent;

	if (c->has_sess) {
		/* Deliveries first fill out up to its reserve; acks may use the reserve. */
		while (c->pend_head != UINT32_MAX) {
			struct pending *pd = &io->pend[c->pend_head];
			const struct eng_job *j = (const struct eng_job *)(uintptr_t)pd->m.a;
			struct wire_header_in hdr[WIRE_HEADERS_MAX];
			struct wire_job_in in = {
				.queue = eng_job_queue(j),
				.type = eng_job_type(j),
				.id = j->id,
				.payload = eng_job_payload(j),
				.content_type = eng_job_content_type(j),
				.priority = j->priority,
				.ttl_ms = j->ttl_ms,
				.max_attempts = j->max_attempts,
				.lease_timeout_ms = j->lease_timeout_ms,
				.unique_key = eng_job_unique_key(j),
				.unique_ttl_ms = j->unique_ttl_ms,
				.headers = j->n_headers ? hdr : NULL,
				.n_headers = j->n_headers,
			};
			uint32_t i, next = pd->next;

			for (i = 0; i < j->n_headers; i++)
				eng_job_header(j, i, &hdr[i].key, &hdr[i].value);
			if (c->state == CONN_OPEN &&
			    sess_deliver(&c->sess, pd->m.b, pd->m.slot, pd->m.idx,
					 j->enqueued_ms - (uint64_t)io->a->wall_to_mono_ms,
					 &in) != 0)
				break;
			job_put(io->a, (struct eng_job *)(uintptr_t)pd->m.a);
			io->st.deliveries++;
			pd->next = io->pend_free;
			io->pend_free = c->pend_head;
			c->pend_head = next;
		}
		while ((n = sess_out_pending(&c->sess, &p)) > 0) {
			int w = tls_conn_write(&c->tls, p, n);

			if (w <= 0)
				break;
			sess_out_consume(&c->sess, (uint32_t)w);
		}
	}
	while ((n = tls_conn_tx_pending(&c->tls, &p)) > 0) {
		sent = tp_send(io->tp, c->h, p, n);
		if (sent <= 0)
			break;
		tls_conn_tx_consume(&c->tls, (uint32_t)sent);
	}
	if (c->state == CONN_CLOSING && n == 0 &&
	    (!c->has_sess || sess_out_pending(&c->sess, &p) == 0)) {
		if (c->tls.state == TLS_OPEN) {
			tls_conn_close(&c->tls); /* close_notify, then one last flush */
			while ((n = tls_conn_tx_pending(&c->tls, &p)) > 0 &&
			       (sent = tp_send(io->tp, c->h, p, n)) > 0)
				tls_conn_tx_consume(&c->tls, (uint32_t)sent);
		}
		conn_free(io, c, false);
		return;
	}
	if ((n > 0) != c->want_write) {
		c->want_write = n > 0;
		io->tp->ops->watch(io->tp, c->h, slot_of(io, c), c->want_write);
	}
}

/* Run the handshake; move to OPEN or close. */
static void
conn_handshake(struct io_lcore *io, struct conn *c)
{
	enum tls_state st;

	if (io->hs_budget == 0) {
		c->hs_waiting = true; /* established traffic first: resume next poll */
		return;
	}
	io->hs_budget--;
	c->hs_waiting = false;
	st = tls_conn_handshake(&c->tls);
	if (st == TLS_OPEN) {
		io->st.handshakes++;
		c->state = CONN_OPEN;
		c->has_sess = true;
		sess_init(&c->sess, &io->a->sess_cfg, &io->env, &io->sess_stats,
			  c->mem + TLS_RX_BYTES + TLS_TX_BYTES,
			  (uint64_t)io->index << 56 | ++io->session_seq, io->now);
	} else if (st == TLS_CLOSED) {
		io->st.handshake_failures++;
		if (io->a->cfg->verbose)
			fprintf(stderr, "sluiced: TLS handshake failed: %s\n",
				tls_strerror(c->tls.last_error));
		c->state = CONN_CLOSING; /* flush the alert, then close */
	}
}

/* Plaintext from TLS into the session, frame by frame. */
static void
conn_pump_plaintext(struct io_lcore *io, struct conn *c)
{
	while (c->state == CONN_OPEN) {
		uint8_t *p;
		uint32_t room = sess_in_space(&c->sess, &p);
		int r = tls_conn_read(&c->tls, p, room);

		if (r == 0)
			break;
		if (r < 0) {
			c->state = CONN_CLOSING;
			break;
		}
		if (sess_in_commit(&c->sess, (uint32_t)r, io->now) >= SESS_CLOSING)
			c->state = CONN_CLOSING;
	}
}

static void
conn_readable(struct io_lcore *io, struct conn *c)
{
	for (;;) {
		uint8_t *p;
		uint32_t room = tls_conn_rx_space(&c->tls, &p);
		ssize_t r;

		if (room == 0)
			break; /* TLS has a full record buffered: it reads it below */
		r = tp_recv(io->tp, c->h, p, room);
		if (r == -EAGAIN)
			break;
		if (r <= 0) {
			tls_conn_rx_eof(&c->tls);
			if (r < 0 || c->state == CONN_TLS) {
				conn_free(io, c, r < 0);
				return;
			}
			break;
		}
		tls_conn_rx_commit(&c->tls, (uint32_t)r);
	}
	if (c->state == CONN_TLS)
		conn_handshake(io, c);
	conn_pump_plaintext(io, c);
	if (c->tls.peer_eof && c->state == CONN_OPEN)
		c->state = CONN_CLOSING;
	conn_flush(io, c);
}

static void
conn_accept(struct io_lcore *io, const struct tp_event *ev)
{
	struct conn *c;
	uint32_t slot;

	if (io->n_free == 0 || io->draining) {
		io->st.refused_full++;
		io->tp->ops->close(io->tp, ev->handle, true);
		return;
	}
	/* Banned by sluice-ctld after repeated failed authentication: not even TLS. */
	if (io->auth->n_bans && auth_banned(io->auth, ntohl(ev->peer_ip))) {
		io->st.banned++;
		io->tp->ops->close(io->tp, ev->handle, true);
		return;
	}
	slot = io->free_slots[--io->n_free];
	c = &io->conns[slot];
	if (tls_conn_init(&c->tls, io->tls, c->mem, TLS_RX_BYTES, c->mem + TLS_RX_BYTES,
			  TLS_TX_BYTES) != 0) {
		io->free_slots[io->n_free++] = slot;
		io->tp->ops->close(io->tp, ev->handle, true);
		return;
	}
	c->state = CONN_TLS;
	c->h = ev->handle;
	c->addr = ntohl(ev->peer_ip);
	c->port = ntohs(ev->peer_port);
	c->accepted_ms = io->now;
	c->counted = false;
	c->want_write = false;
	c->hs_waiting = false;
	c->pend_head = c->pend_tail = UINT32_MAX;
	c->hs_deadline = io->now + io->a->cfg->handshake_timeout_ms;
	io->st.accepted++;
	io->tp->ops->watch(io->tp, c->h, slot, false);
}

/* ---- session environment ---- */

static void
env_auth(void *arg, struct sess *s, const uint8_t *token, uint32_t len, uint8_t role)
{
	struct io_lcore *io = io_of(arg);
	struct conn *c = conn_of_sess(io, s);
	struct auth_msg m = { .conn = slot_of(io, c),
			      .gen = c->gen,
			      .role = role,
			      .token_len = len,
			      .addr = c->addr };

	memcpy(m.token, token, len);
	/* No token: a verified client certificate may name the principal (ctld decides). */
	m.has_cert = len == 0 && tls_conn_peer_cert(&c->tls, m.cert_sha256, m.cert_subject,
						    sizeof(m.cert_subject)) == 0;
	if (rte_ring_sp_enqueue_burst_elem(io->a->auth_req[io->index], &m, sizeof(m), 1, NULL) != 1)
		sess_auth_done(s, WIRE_STATUS_UNAVAILABLE, NULL);
}

static int
env_enqueue(void *arg, struct sess *s, uint32_t slot, uint32_t idx, const struct wire_job *job)
{
	struct io_lcore *io = io_of(arg);
	struct conn *c = conn_of_sess(io, s);
	struct wire_str qn = wire_job_queue(job);
	int q = appliance_queue_find(io->a, qn.p, qn.len);
	enum wire_status st = pol_check_job(s->principal, q >= 0 ? &io->a->queues[q] : NULL, job);
	struct auth_entry *e;
	struct eng_job *obj;
	struct msg m;

	if (st != WIRE_STATUS_OK)
		return st;
	/* The principal's jobs/s and bytes/s, shared by every I/O lcore. */
	e = conn_entry(c); /* not NULL: a session without grants was refused above */
	if (e && !auth_rate_take(e, io->now_ns, wire_job_payload(job).len)) {
		io->st.rate_limited++;
		return WIRE_STATUS_RATE_LIMITED;
	}
	obj = job_get(io->a, eng_job_size(job));
	if (!obj) {
		io->st.job_mem_exhausted++;
		return WIRE_STATUS_QUEUE_FULL; /* appliance memory is the bound: back off */
	}
	eng_job_fill(obj, job, io->a->wall_to_mono_ms);
	m = (struct msg){ .type = MSG_ENQ,
			  .slot = (uint16_t)slot,
			  .conn = slot_of(io, c),
			  .gen = c->gen,
			  .idx = idx,
			  .a = (uint64_t)(uintptr_t)obj,
			  .b = io->a->queues[q].index };
	if (!to_worker(io, io->a->queues[q].worker, &m)) {
		job_put(io->a, obj);
		io->st.enqueue_ring_full++;
		return WIRE_STATUS_RATE_LIMITED;
	}
	return SESS_PENDING;
}

/*
 * Subscribe: each queue to the worker that owns it. A subscription on one
 * worker takes its credit there as with a single worker; one spanning
 * workers keeps it here and lends it out (credit.h).
 */
static enum wire_status
env_subscribe(void *arg, struct sess *s, const struct wire_subscribe *sub)
{
	struct io_lcore *io = io_of(arg);
	struct conn *c = conn_of_sess(io, s);
	uint32_t n = wire_subscribe_queues_len(sub), i;
	int qs[WIRE_SUBSCRIBE_QUEUES_MAX];
	struct msg m = { .conn = slot_of(io, c), .gen = c->gen };
	uint16_t workers = 0;
	unsigned w;
	bool handoff;

	for (i = 0; i < n; i++) {
		struct wire_str qn = wire_queue_weight_queue(wire_subscribe_queues_at(sub, i));

		qs[i] = appliance_queue_find(io->a, qn.p, qn.len);
		if (qs[i] < 0)
			return WIRE_STATUS_UNKNOWN_QUEUE;
		if (!pol_queue_allowed(s->principal, qn.p, qn.len))
			return WIRE_STATUS_FORBIDDEN;
	}
	for (i = 0; i < n; i++) {
		const struct pol_queue *pq = &io->a->queues[qs[i]];

		m.type = MSG_SUB_Q;
		m.a = pq->index;
		m.b = wire_queue_weight_weight(wire_subscribe_queues_at(sub, i));
		to_worker_wait(io, pq->worker, &m);
		workers |= (uint16_t)(1u << pq->worker);
	}
	handoff = (workers & (workers - 1)) != 0; /* more than one bit */
	m.type = MSG_SUB_END;
	m.x = handoff;
	m.a = handoff ? 0 : wire_subscribe_prefetch(sub);
	for (w = 0; w < io->a->n_workers; w++)
		if (workers & (1u << w))
			to_worker_wait(io, w, &m);
	if (handoff)
		credit_bank_init(&io->banks[slot_of(io, c)], workers, wire_subscribe_prefetch(sub),
				 WIRE_CREDIT_MAX);
	c->workers = workers;
	c->handoff = handoff;
	return WIRE_STATUS_OK;
}

static void
env_credit(void *arg, struct sess *s, uint32_t n)
{
	struct io_lcore *io = io_of(arg);
	struct conn *c = conn_of_sess(io, s);
	struct msg m = { .type = MSG_CREDIT, .conn = slot_of(io, c), .gen = c->gen, .a = n };

	if (c->handoff) {
		credit_bank_add(&io->banks[slot_of(io, c)], n);
		conn_credit_pump(io, c);
	} else if (c->workers) {
		to_worker_wait(io, (unsigned)__builtin_ctz(c->workers), &m);
	}
}

static int
env_settle(void *arg, struct sess *s, uint32_t slot, uint32_t idx, enum sess_op op,
	   uint64_t lease_id, uint32_t ms, bool dead)
{
	struct io_lcore *io = io_of(arg);
	struct conn *c = conn_of_sess(io, s);
	struct msg m = { .type = MSG_SETTLE,
			 .x = (uint8_t)op,
			 .slot = (uint16_t)slot,
			 .conn = slot_of(io, c),
			 .gen = c->gen,
			 .idx = idx,
			 .a = lease_id,
			 .b = ms | (uint64_t)dead << 32 };
	unsigned w = eng_lease_worker(lease_id);

	/* Only a worker holding a consumer for this session can know the lease. */
	if (w >= io->a->n_workers || !(c->workers & (1u << w)))
		return WIRE_STATUS_LEASE_NOT_FOUND;
	if (!to_worker(io, w, &m))
		return WIRE_STATUS_RATE_LIMITED;
	return SESS_PENDING;
}

static uint64_t
env_wall(void *arg)
{
	(void)arg;
	return wall_ms();
}

/* ---- messages from the worker and the main lcore ---- */

static struct conn *
conn_for(struct io_lcore *io, uint32_t slot, uint32_t gen)
{
	struct conn *c;

	if (slot >= io->max_conns)
		return NULL;
	c = &io->conns[slot];
	if (c->gen != gen || c->state == CONN_FREE) {
		io->st.stale_msgs++;
		return NULL;
	}
	return c;
}

static unsigned
from_worker_burst(struct io_lcore *io, unsigned w)
{
	struct msg in[BURST];
	unsigned n, i;

	/* Deliveries need a pending entry each: take no more than we can hold. */
	n = rte_ring_sc_dequeue_burst_elem(io->a->from_worker[io->index][w], in, sizeof(in[0]),
					   BURST, NULL);
	for (i = 0; i < n; i++) {
		const struct msg *m = &in[i];
		struct conn *c = conn_for(io, m->conn, m->gen);

		if (m->type == MSG_DELIVER) {
			uint32_t p;

			if (c && c->handoff) {
				/* one credit lent to w is spent: w may be below its cap again */
				credit_bank_delivered(&io->banks[m->conn], w);
				if (c->state == CONN_OPEN)
					conn_credit_pump(io, c);
			}
			if (!c || c->state != CONN_OPEN || io->pend_free == UINT32_MAX) {
				/* Lost delivery: the lease times out or fails with the consumer. */
				job_put(io->a, (struct eng_job *)(uintptr_t)m->a);
				io->st.deliveries_dropped++;
				continue;
			}
			p = io->pend_free;
			io->pend_free = io->pend[p].next;
			io->pend[p].m = *m;
			io->pend[p].next = UINT32_MAX;
			if (c->pend_head == UINT32_MAX)
				c->pend_head = p;
			else
				io->pend[c->pend_tail].next = p;
			c->pend_tail = p;
			conn_flush(io, c);
			continue;
		}
		if (!c)
			continue;
		if (m->type == MSG_WANT || m->type == MSG_RETURN) {
			if (!c->handoff)
				continue;
			if (m->type == MSG_WANT)
				credit_bank_want(&io->banks[m->conn], w, (uint32_t)m->a);
			else
				credit_bank_returned(&io->banks[m->conn], w, (uint32_t)m->a);
			conn_credit_pump(io, c);
			continue;
		}
		sess_job_done(&c->sess, m->slot, m->idx, (enum wire_status)m->x,
			      (struct wire_jobid){ m->a, m->b });
		conn_flush(io, c);
	}
	return n;
}

/*
 * Up to PASS_BURSTS bursts a pass: one burst capped acks and deliveries at
 * BURST x passes/s, and a pass full of producers' batches is slow.
 */
static void
from_worker(struct io_lcore *io, unsigned w)
{
	unsigned k;

	for (k = 0; k < PASS_BURSTS; k++)
		if (from_worker_burst(io, w) < BURST)
			break;
}

enum { REVOKE_GONE = 1, REVOKE_CHANGED, REVOKE_KICKED };

/* A session whose grants a reload withdrew: Goodbye once its batches are answered. */
static void
conn_revoke_check(struct io_lcore *io, struct conn *c)
{
	if (!c->revoked || c->sess.state != SESS_OPEN || c->sess.unacked != 0)
		return;
	if (c->revoked == REVOKE_KICKED)
		sess_goodbye(&c->sess, WIRE_STATUS_FORBIDDEN, "closed by an operator");
	else
		sess_goodbye(&c->sess, WIRE_STATUS_UNAUTHENTICATED,
			     c->revoked == REVOKE_GONE
				     ? "credential revoked or expired: this token "
				       "no longer opens sessions"
				     : "the principal's grants changed: hello again");
	if (c->sess.state >= SESS_CLOSING)
		c->state = CONN_CLOSING;
	conn_flush(io, c);
}

/*
 * A new principal table (sluice-ctld pushed Grants, or SIGHUP reloaded
 * --tokens): move every session onto it. A session whose credential is gone,
 * or whose principal's grants changed, keeps no grant at all from here (new
 * enqueues and subscriptions are refused Forbidden), gets the answers of the
 * batches it has in flight, then Goodbye{Unauthenticated}: hello again, and
 * the new grants apply. So no session keeps a permission the configuration
 * no longer gives, and none loses an ack. Limits may change under a session:
 * it moves to the new entry and counts there (entries start at 0 sessions;
 * each lcore adds its own as it moves, so a limit may be passed for the
 * moment the lcores take to move).
 */
static void
auth_rebind(struct io_lcore *io, const struct auth_table *t)
{
	uint32_t i;

	for (i = 0; i < io->max_conns; i++) {
		struct conn *c = &io->conns[i];
		const struct pol_principal *old;
		struct auth_entry *e;
		int p;

		old = c->has_sess ? c->sess.principal : NULL;
		if (c->state == CONN_FREE || !old || old == &no_grants)
			continue;
		c->counted = false; /* the old table's counts go with it */
		if (c->state != CONN_OPEN) {
			/* Closing: it takes no more frames, but holds nothing old either. */
			c->sess.principal = &no_grants;
			continue;
		}
		p = auth_find_cred(t, c->cred);
		if (p >= 0 && pol_principal_equal(old, &t->e[p].principal)) {
			e = (struct auth_entry *)(uintptr_t)&t->e[p];
			c->sess.principal = &e->principal;
			atomic_fetch_add_explicit(&e->conns, 1, memory_order_relaxed);
			c->counted = true;
			io->st.auth_rebound++;
			continue;
		}
		c->sess.principal = &no_grants; /* old's table goes away after this */
		c->revoked = p < 0 ? REVOKE_GONE : REVOKE_CHANGED;
		if (p < 0)
			io->st.auth_revoked++;
		else
			io->st.auth_changed++;
		conn_revoke_check(io, c);
	}
	io->auth = t;
	/* Nothing on this lcore points into the old table now: it may go. */
	atomic_store_explicit(&io->a->auth_seen[io->index].gen, t->gen, memory_order_release);
}

/* The table the main lcore published, taken once per pass. */
static void
auth_refresh(struct io_lcore *io)
{
	const struct auth_table *t = atomic_load_explicit(&io->a->auth, memory_order_acquire);

	if (t != io->auth)
		auth_rebind(io, t);
}

/* Count c in e's sessions; false (and not counted) when e's limit is reached. */
static bool
conn_count(struct io_lcore *io, struct conn *c, struct auth_entry *e)
{
	unsigned n = atomic_fetch_add_explicit(&e->conns, 1, memory_order_relaxed);

	(void)io;
	if (e->max_conns && n >= e->max_conns) {
		atomic_fetch_sub_explicit(&e->conns, 1, memory_order_relaxed);
		return false;
	}
	c->counted = true;
	return true;
}

static void
conn_row_fill(struct io_lcore *io, struct conn *c, struct conn_row *r)
{
	const struct pol_principal *p = c->has_sess ? c->sess.principal : NULL;

	*r = (struct conn_row){
		.slot = slot_of(io, c),
		.gen = c->gen,
		.addr = c->addr,
		.port = c->port,
		.age_ms = (uint32_t)(io->now - c->accepted_ms),
		.state = c->state == CONN_TLS    ? 1
			 : c->state == CONN_OPEN ? 2
						 : 3,
		.role = c->has_sess ? c->sess.role : 0,
		.cred = p && p != &no_grants ? c->cred : 0,
	};
	if (p && p != &no_grants)
		snprintf(r->principal, sizeof(r->principal), "%s", p->name);
}

/* sluicectl conns: list this lcore's connections, or end one (lcore.h AUTH_KIND_CONNS_*). */
static void
conns_request(struct io_lcore *io, struct auth_msg *m)
{
	struct conn_row *rows = (struct conn_row *)(uintptr_t)m->arg;
	uint32_t i, n = 0, open = 0;

	if (m->kind == AUTH_KIND_CONNS_LIST) {
		for (i = 0; i < io->max_conns; i++) {
			if (io->conns[i].state == CONN_FREE)
				continue;
			if (n < m->conn)
				conn_row_fill(io, &io->conns[i], &rows[n++]);
			open++;
		}
		m->conn = n;
		m->gen = open;
	} else {
		struct conn *c = conn_for(io, m->conn, m->gen);

		m->conn = 0;
		if (c) {
			conn_row_fill(io, c, &rows[0]);
			m->conn = 1;
			if (c->state == CONN_TLS) {
				conn_free(io, c, true);
			} else if (c->state == CONN_OPEN && !c->revoked) {
				conn_uncount(c);
				c->sess.principal = &no_grants; /* nothing more from it */
				c->revoked = REVOKE_KICKED;
				conn_revoke_check(io, c);
			}
		}
	}
	while (rte_ring_sp_enqueue_burst_elem(io->a->auth_req[io->index], m, sizeof(*m), 1, NULL) !=
	       1)
		rte_pause();
}

static void
from_main(struct io_lcore *io)
{
	struct auth_msg m;

	while (rte_ring_sc_dequeue_burst_elem(io->a->auth_resp[io->index], &m, sizeof(m), 1,
					      NULL) == 1) {
		struct conn *c;
		const struct pol_principal *p = NULL;
		int i;

		if (m.kind != AUTH_KIND_AUTH) {
			conns_request(io, &m);
			continue;
		}
		c = conn_for(io, m.conn, m.gen);
		if (!c || c->state != CONN_OPEN)
			continue;
		if (m.status == WIRE_STATUS_OK) {
			/* Answered from a table at least as old as ours, or newer: take it. */
			i = auth_find_cred(io->auth, m.cred);
			if (i < 0) {
				auth_refresh(io);
				i = auth_find_cred(io->auth, m.cred);
			}
			if (i < 0) {
				m.status = WIRE_STATUS_UNAUTHENTICATED; /* revoked in between */
				io->st.auth_revoked++;
			} else if (!conn_count(io, c,
					       (struct auth_entry *)(uintptr_t)&io->auth->e[i])) {
				m.status = WIRE_STATUS_TOO_MANY_CONNECTIONS;
				io->st.too_many_conns++;
			} else {
				p = &io->auth->e[i].principal;
				c->cred = m.cred;
			}
		}
		sess_auth_done(&c->sess, (enum wire_status)m.status, p);
		if (c->sess.state >= SESS_CLOSING)
			c->state = CONN_CLOSING;
		conn_flush(io, c);
	}
}

/* Deadlines, deferred handshakes and draining, every TICK_MS. */
static void
timers(struct io_lcore *io)
{
	uint32_t i;

	for (i = 0; i < io->max_conns; i++) {
		struct conn *c = &io->conns[i];

		if (c->state == CONN_FREE)
			continue;
		if (c->state == CONN_TLS && io->now >= c->hs_deadline) {
			io->st.handshake_timeouts++;
			conn_free(io, c, true);
			continue;
		}
		if (c->state == CONN_TLS && c->hs_waiting) {
			conn_handshake(io, c);
			conn_pump_plaintext(io, c);
			conn_flush(io, c);
			continue;
		}
		if (c->state == CONN_OPEN) {
			if (io->draining && c->sess.state == SESS_OPEN && c->sess.unacked == 0)
				sess_goodbye(&c->sess, WIRE_STATUS_SHUTTING_DOWN,
					     "appliance is shutting down");
			conn_revoke_check(io, c);
			if (sess_tick(&c->sess, io->now) >= SESS_CLOSING)
				c->state = CONN_CLOSING;
			if (c->state == CONN_OPEN && c->handoff)
				conn_credit_pump(io, c); /* grants a full ring held back */
			if (c->state == CONN_CLOSING || c->pend_head != UINT32_MAX || c->want_write)
				conn_flush(io, c);
		} else if (c->state == CONN_CLOSING) {
			conn_flush(io, c);
		}
	}
}

/*
 * One pass: network events, worker results, authentication answers, timers.
 * Returns false once draining has finished.
 */
bool
io_lcore_poll(struct io_lcore *io)
{
	struct tp_event ev[EVENTS];
	unsigned w;
	int n, i;

	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		io->now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		io->now = io->now_ns / 1000000;
	}
	io->hs_budget = io->a->cfg->handshakes_per_poll;
	auth_refresh(io);
	if (io->a->link) {
		struct tls_ticket_key k[TLS_TICKET_KEYS];
		unsigned nk = ctldlink_ticket_keys(io->a->link, io->index, k, TLS_TICKET_KEYS);

		if (nk)
			tls_ctx_set_ticket_keys(io->tls, k, nk);
		memset(k, 0, sizeof(k));
	}
	if (!io->draining && atomic_load(&io->a->quit)) {
		io->draining = true;
		io->drain_deadline = io->now + io->a->cfg->drain_timeout_ms;
	}
	n = tp_poll(io->tp, ev, EVENTS, 0);
	for (i = 0; i < n; i++) {
		struct conn *c;

		if (ev[i].flags & TP_EV_ACCEPT) {
			conn_accept(io, &ev[i]);
			continue;
		}
		c = &io->conns[ev[i].user];
		if (ev[i].user >= io->max_conns || c->state == CONN_FREE || c->h != ev[i].handle)
			continue;
		if (ev[i].flags & TP_EV_CLOSED)
			conn_free(io, c, true);
		else if (ev[i].flags & TP_EV_READ)
			conn_readable(io, c);
		else if (ev[i].flags & TP_EV_WRITE)
			conn_flush(io, c);
	}
	for (w = 0; w < io->a->n_workers; w++)
		from_worker(io, w);
	from_main(io);
	if (io->now >= io->next_tick) {
		io->next_tick = io->now + TICK_MS;
		timers(io);
	}
	if (io->draining) {
		if (io->n_free == io->max_conns || io->now >= io->drain_deadline) {
			uint32_t s;

			for (s = 0; s < io->max_conns; s++)
				if (io->conns[s].state != CONN_FREE)
					conn_free(io, &io->conns[s], true);
			/* No session left to read a principal: no table waits on us. */
			atomic_store_explicit(&io->a->auth_seen[io->index].gen, UINT64_MAX,
					      memory_order_release);
			return false;
		}
	}
	return true;
}

/*
 * An I/O lcore's counters, one row each: the name in its stats (JSON at exit,
 * telemetry, ctld's metrics) and where it is. Verifier checks and refused
 * jobs follow as their own families (by check name, by status name).
 */
#define IO_ROW(name, field)                                                                        \
	{                                                                                          \
		name, offsetof(struct io_stats, field), false                                      \
	}
#define SESS_ROW(name, field)                                                                      \
	{                                                                                          \
		name, offsetof(struct sess_stats, field), true                                     \
	}
static const struct {
	const char *name;
	size_t off;
	bool sess; /* in struct sess_stats, else struct io_stats */
} io_counters[] = {
	IO_ROW("accepted", accepted),
	IO_ROW("closed", closed),
	IO_ROW("refused_conn_limit", refused_full),
	IO_ROW("handshakes", handshakes),
	IO_ROW("handshake_failures", handshake_failures),
	IO_ROW("handshake_timeouts", handshake_timeouts),
	SESS_ROW("auth_ok", auth_ok),
	SESS_ROW("auth_refused", auth_refused),
	SESS_ROW("frames_in", frames_in),
	SESS_ROW("frames_out", frames_out),
	SESS_ROW("too_large", too_large),
	SESS_ROW("bad_sequence", bad_sequence),
	SESS_ROW("batches_over_limit", batches_over_limit),
	SESS_ROW("hello_timeouts", hello_timeouts),
	SESS_ROW("idle_timeouts", idle_timeouts),
	SESS_ROW("out_overflow", out_overflow),
	SESS_ROW("jobs_in", jobs_in),
	IO_ROW("job_mem_exhausted", job_mem_exhausted),
	IO_ROW("enqueue_ring_full", enqueue_ring_full),
	IO_ROW("deliveries", deliveries),
	IO_ROW("deliveries_dropped", deliveries_dropped),
	IO_ROW("auth_revoked", auth_revoked),
	IO_ROW("auth_changed", auth_changed),
	IO_ROW("auth_rebound", auth_rebound),
	IO_ROW("banned", banned),
	IO_ROW("rate_limited", rate_limited),
	IO_ROW("too_many_conns", too_many_conns),
};
#undef IO_ROW
#undef SESS_ROW
#define IO_COUNTERS (sizeof(io_counters) / sizeof(io_counters[0]))

static uint64_t
io_counter(const struct io_lcore *io, unsigned i)
{
	const uint8_t *base =
		io_counters[i].sess ? (const uint8_t *)&io->sess_stats : (const uint8_t *)&io->st;
	uint64_t v;

	memcpy(&v, base + io_counters[i].off, sizeof(v));
	return v;
}

unsigned
io_lcore_counters(const struct io_lcore *io, const char **names, uint64_t *values, unsigned max)
{
	const struct sess_stats *ss = &io->sess_stats;
	unsigned n = 0, i;

	for (i = 0; i < IO_COUNTERS && n < max; i++, n++) {
		names[n] = io_counters[i].name;
		values[n] = io_counter(io, i);
	}
	/* Families by reason, non-zero rows only: "invalid.<check>", "refused.<status>". */
	for (i = 1; i < WIRE_E__COUNT && n < max; i++)
		if (ss->invalid[i]) {
			names[n] = io->invalid_names[i];
			values[n++] = ss->invalid[i];
		}
	for (i = 1; i < WIRE_STATUS__COUNT && n < max; i++)
		if (ss->jobs_refused[i]) {
			names[n] = io->refused_names[i];
			values[n++] = ss->jobs_refused[i];
		}
	return n;
}

/* Counters of one I/O lcore as one JSON object: every drop and refusal by reason. */
void
io_lcore_stats_json(const struct io_lcore *io, FILE *out)
{
	const struct sess_stats *ss = &io->sess_stats;
	bool first = true;
	unsigned i;

	fprintf(out, "{\"io\":%u", io->index);
	for (i = 0; i < IO_COUNTERS; i++)
		fprintf(out, ",\"%s\":%" PRIu64, io_counters[i].name, io_counter(io, i));
	fputs(",\"invalid\":{", out);
	for (i = 1; i < WIRE_E__COUNT; i++) {
		if (!ss->invalid[i])
			continue;
		fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", wire_error_name((int)i),
			ss->invalid[i]);
		first = false;
	}
	fputs("},\"jobs_refused\":{", out);
	first = true;
	for (i = 1; i < WIRE_STATUS__COUNT; i++) {
		if (!ss->jobs_refused[i])
			continue;
		fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", wire_status_name(i),
			ss->jobs_refused[i]);
		first = false;
	}
	fputs("}", out);
	if (io->tp->ops->stats_json != NULL) {
		fputs(",\"transport\":", out);
		io->tp->ops->stats_json(io->tp, out);
	}
	fputs("}\n", out);
}

struct io_lcore *
io_lcore_create(struct appliance *a, unsigned index, struct transport *tp, struct tls_ctx *tls)
{
	const struct sluiced_cfg *cfg = a->cfg;
	struct io_lcore *io =
		rte_zmalloc_socket("io", sizeof(*io), RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	size_t per_conn = TLS_RX_BYTES + TLS_TX_BYTES + sess_mem_size(&a->sess_cfg);
	uint32_t i, n_pend;

	if (!io)
		return NULL;
	io->a = a;
	io->index = index;
	io->tp = tp;
	io->tls = tls;
	io->max_conns = cfg->max_conns;
	for (i = 1; i < WIRE_E__COUNT; i++)
		snprintf(io->invalid_names[i], sizeof(io->invalid_names[i]), "invalid.%s",
			 wire_error_name((int)i));
	for (i = 1; i < WIRE_STATUS__COUNT; i++)
		snprintf(io->refused_names[i], sizeof(io->refused_names[i]), "refused.%s",
			 wire_status_name(i));
	io->auth = atomic_load_explicit(&a->auth, memory_order_acquire);
	atomic_store_explicit(&a->auth_seen[index].gen, io->auth->gen, memory_order_release);
	io->env = (struct sess_env){ .arg = io,
				     .auth = env_auth,
				     .enqueue = env_enqueue,
				     .subscribe = env_subscribe,
				     .credit = env_credit,
				     .settle = env_settle,
				     .wall_ms = env_wall };
	io->conns = calloc(cfg->max_conns, sizeof(*io->conns));
	io->free_slots = calloc(cfg->max_conns, sizeof(*io->free_slots));
	/* Deliveries held while a consumer reads slowly: credit bounds them. */
	n_pend = cfg->max_conns * 64;
	io->pend = calloc(n_pend, sizeof(*io->pend));
	io->banks = calloc(cfg->max_conns, sizeof(*io->banks));
	if (!io->conns || !io->free_slots || !io->pend || !io->banks)
		goto fail;
	for (i = 0; i < n_pend; i++)
		io->pend[i].next = i + 1 < n_pend ? i + 1 : UINT32_MAX;
	io->pend_free = 0;
	/*
	 * Connection memory is reserved at start (calloc: pages are committed only
	 * when a connection touches them), never allocated per connection.
	 */
	for (i = 0; i < cfg->max_conns; i++) {
		io->conns[i].mem = calloc(1, per_conn);
		if (!io->conns[i].mem)
			goto fail;
		io->free_slots[io->n_free++] = cfg->max_conns - 1 - i;
	}
	return io;
fail:
	io_lcore_free(io);
	return NULL;
}

void
io_lcore_free(struct io_lcore *io)
{
	uint32_t i;

	if (!io)
		return;
	if (io->conns) {
		for (i = 0; i < io->max_conns; i++) {
			if (io->conns[i].state != CONN_FREE)
				conn_free(io, &io->conns[i], true);
			free(io->conns[i].mem);
		}
	}
	free(io->conns);
	free(io->free_slots);
	free(io->pend);
	free(io->banks);
	if (io->tp)
		io->tp->ops->destroy(io->tp);
	rte_free(io);
}
