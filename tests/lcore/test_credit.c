/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the credit hand-off (dataplane/lcore/credit.h) against a
 * model of its surroundings: worker lcores holding credit and jobs, FIFO
 * rings both ways, a client that settles deliveries and gives the credit
 * back, and a scheduler that runs them in random order. Checked at every
 * step: the client never holds more unsettled deliveries than its credit,
 * and the bank's books balance. Checked at the end: every job was delivered
 * (no job waits at one worker while credit idles at another), and with every
 * queue backlogged each worker's share follows its weight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "../check.h"

#define W_MAX 4
#define RING 4096

/* ---- test PRNG (xorshift64*) ---- */

static uint64_t
trand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static uint32_t
below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(trand(s) % n);
}

/* ---- the model ---- */

enum mtype { M_GRANT, M_WANT, M_RETURN, M_DELIVER };

struct mmsg {
	enum mtype type;
	uint32_t a;
};

struct fifo {
	uint32_t head, tail;
	struct mmsg m[RING];
};

struct mworker {
	uint32_t credit, jobs, weight, delivered;
	bool want_sent, active;
	struct fifo in, out; /* from the I/O lcore, to it */
};

struct model {
	uint64_t rng;
	unsigned n;
	struct credit_bank bank;
	struct mworker w[W_MAX];
	uint32_t prefetch;
	uint64_t given, seen, settled; /* credit given; deliveries the client saw, settled */
	uint32_t ring_full_pct;        /* chance that a send from the I/O lcore fails */
	uint64_t grants, returns;
};

static void
put(struct fifo *f, enum mtype t, uint32_t a)
{
	if (f->tail - f->head == RING) {
		fprintf(stderr, "test bug: model ring full\n");
		exit(2);
	}
	f->m[f->tail++ % RING] = (struct mmsg){ t, a };
}

static bool
take(struct fifo *f, struct mmsg *m)
{
	if (f->head == f->tail)
		return false;
	*m = f->m[f->head++ % RING];
	return true;
}

/* The I/O lcore sends the grants the bank proposes, while its rings take them. */
static void
pump(struct model *m)
{
	unsigned w;
	uint32_t n;

	while (credit_bank_next(&m->bank, &w, &n)) {
		CHECK(w < m->n);
		CHECK(n > 0);
		if (below(&m->rng, 100) < m->ring_full_pct)
			return; /* the timer tries again */
		put(&m->w[w].in, M_GRANT, n);
		m->grants++;
		credit_bank_granted(&m->bank, w, n);
	}
}

static void
books_balance(const struct model *m)
{
	CHECK(m->seen <= m->given);
	CHECK(m->seen - m->settled <= m->prefetch);
	CHECK(credit_bank_held(&m->bank) == m->given - m->seen);
}

/* The I/O lcore takes one message from worker w. */
static bool
io_step(struct model *m, unsigned w)
{
	struct mmsg msg;

	if (!take(&m->w[w].out, &msg))
		return false;
	switch (msg.type) {
	case M_WANT:
		credit_bank_want(&m->bank, w, msg.a);
		pump(m);
		break;
	case M_RETURN:
		credit_bank_returned(&m->bank, w, msg.a);
		pump(m);
		break;
	case M_DELIVER:
		credit_bank_delivered(&m->bank, w);
		m->seen++;
		m->w[w].delivered++;
		pump(m);
		break;
	default:
		CHECK(0);
	}
	books_balance(m);
	return true;
}

/*
 * Worker w (as worker.c): one grant, a lease if it has credit and a job, its
 * credit back (maybe none) if it has no job, or a request if it has a job
 * and no credit.
 */
static bool
worker_step(struct model *m, unsigned i)
{
	struct mworker *w = &m->w[i];
	struct mmsg msg;

	if (take(&w->in, &msg)) {
		w->credit += msg.a;
		w->want_sent = false;
		return true;
	}
	if (w->credit && w->jobs) {
		w->credit--;
		w->jobs--;
		put(&w->out, M_DELIVER, 0);
		return true;
	}
	if (!w->jobs && (w->credit || w->active)) {
		put(&w->out, M_RETURN, w->credit);
		w->credit = 0;
		w->active = false;
		w->want_sent = false;
		m->returns++;
		return true;
	}
	if (w->jobs && !w->credit && !w->want_sent) {
		put(&w->out, M_WANT, w->weight);
		w->want_sent = true;
		w->active = true;
		return true;
	}
	return false;
}

/* The client settles k of its unsettled deliveries and gives k credit back. */
static bool
client_step(struct model *m, uint32_t k)
{
	uint64_t open = m->seen - m->settled;

	if (!open)
		return false;
	if (k > open)
		k = (uint32_t)open;
	m->settled += k;
	m->given += k;
	credit_bank_add(&m->bank, k);
	pump(m);
	books_balance(m);
	return true;
}

static void
model_init(struct model *m, uint64_t seed, unsigned n, const uint32_t *weights, uint32_t prefetch)
{
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->rng = seed;
	m->n = n;
	m->prefetch = prefetch;
	m->given = prefetch;
	for (i = 0; i < n; i++)
		m->w[i].weight = weights[i];
	credit_bank_init(&m->bank, (uint16_t)((1u << n) - 1), prefetch, 65536);
}

/* Run every actor until nothing moves; false if it never settles down. */
static bool
quiesce(struct model *m)
{
	unsigned rounds, i;

	for (rounds = 0; rounds < 1000000; rounds++) {
		bool moved = false;

		for (i = 0; i < m->n; i++) {
			moved |= worker_step(m, i);
			moved |= io_step(m, i);
		}
		moved |= client_step(m, 1 + below(&m->rng, 4));
		pump(m); /* the I/O lcore's timer */
		if (!moved && !credit_bank_next(&m->bank, &i, &(uint32_t){ 0 }))
			return true;
	}
	return false;
}

/* ---- tests ---- */

/* Random interleavings, jobs arriving anywhere: safety always, every job delivered. */
static void
test_random(uint64_t seed, unsigned n, uint32_t prefetch, uint32_t full_pct)
{
	static const uint32_t weights[W_MAX] = { 1, 3, 2, 5 };
	struct model m;
	uint64_t added = 0, delivered = 0;
	uint32_t step;
	unsigned i;

	model_init(&m, seed, n, weights, prefetch);
	m.ring_full_pct = full_pct;
	for (step = 0; step < 200000; step++) {
		uint32_t r = below(&m.rng, 100);

		if (r < 2) {
			/* jobs arrive in bursts at one worker: credit must follow them */
			uint32_t k = 1 + below(&m.rng, 10);

			m.w[below(&m.rng, n)].jobs += k;
			added += k;
		} else if (r < 45) {
			worker_step(&m, below(&m.rng, n));
		} else if (r < 80) {
			io_step(&m, below(&m.rng, n));
		} else if (r < 98) {
			client_step(&m, 1 + below(&m.rng, prefetch));
		} else {
			pump(&m);
		}
	}
	m.ring_full_pct = 0;
	CHECK(quiesce(&m));
	for (i = 0; i < n; i++) {
		CHECK(m.w[i].jobs == 0);
		delivered += m.w[i].delivered;
	}
	CHECK(delivered == added);
	CHECK(m.seen == added);
	CHECK(m.bank.active == 0); /* every worker ran dry and gave its credit back */
	/* Conservation: all that was given and not spent is in the bank or at a worker. */
	{
		uint64_t held = m.bank.bank;

		for (i = 0; i < n; i++)
			held += m.w[i].credit;
		CHECK(held == m.given - m.seen);
	}
	CHECK(m.grants > 0);
	CHECK(m.returns > 0);
}

/*
 * Credit lent to a worker whose queues ran dry comes back and moves to the
 * worker that has jobs.
 */
static void
test_give_back(void)
{
	static const uint32_t weights[2] = { 1, 1 };
	struct model m;

	model_init(&m, 42, 2, weights, 4);
	m.w[0].jobs = 1;
	CHECK(quiesce(&m));
	CHECK(m.w[0].delivered == 1);
	CHECK(m.seen == 1 && m.settled == 1);
	CHECK(m.w[0].credit == 0 && m.bank.bank == 4 && m.bank.active == 0);
	m.w[1].jobs = 10;
	CHECK(quiesce(&m));
	CHECK(m.w[1].delivered == 10);
	CHECK(m.w[1].jobs == 0);
	CHECK(m.bank.bank == 4);
}

/* Every queue backlogged, the client settling one at a time: shares follow weights. */
static void
test_weights(uint64_t seed, uint32_t prefetch)
{
	static const uint32_t weights[3] = { 3, 1, 4 };
	struct model m;
	uint32_t step, total = 0;
	unsigned i;

	model_init(&m, seed, 3, weights, prefetch);
	for (i = 0; i < 3; i++)
		m.w[i].jobs = 1000000;
	/*
	 * Workers and the I/O lcore keep up; the client, settling one delivery
	 * at a time, is the bottleneck (a slow worker would rightly get less).
	 */
	for (step = 0; step < 100000; step++) {
		unsigned first = below(&m.rng, 3);

		for (i = 0; i < 3; i++) {
			worker_step(&m, (first + i) % 3);
			worker_step(&m, (first + i) % 3);
			io_step(&m, (first + 2 * i) % 3);
			io_step(&m, (first + 2 * i) % 3);
		}
		if (below(&m.rng, 4) == 0)
			client_step(&m, 1 + below(&m.rng, 2));
	}
	for (i = 0; i < 3; i++)
		total += m.w[i].delivered;
	CHECK(total > 10000);
	for (i = 0; i < 3; i++) {
		double share = (double)m.w[i].delivered / total, want = weights[i] / 8.0;

		if (share < want - 0.06 || share > want + 0.06)
			fprintf(stderr, "prefetch %u: worker %u share %.3f, weight share %.3f\n",
				prefetch, i, share, want);
		CHECK(share >= want - 0.06 && share <= want + 0.06);
	}
}

/* Caps, saturation, and who may be lent credit. */
static void
test_bank(void)
{
	struct credit_bank b;
	unsigned w;
	uint32_t n;

	credit_bank_init(&b, 3, 100000, 65536);
	CHECK(b.bank == 65536);
	/* nobody asks: nothing to lend, even with credit in the bank */
	CHECK(!credit_bank_next(&b, &w, &n));
	/* alone, a worker may hold the whole window */
	credit_bank_want(&b, 1, 1);
	CHECK(credit_bank_next(&b, &w, &n) && w == 1 && n == 65536);
	credit_bank_granted(&b, w, n);
	CHECK(b.bank == 0 && b.out[1] == 65536);
	credit_bank_add(&b, 10);
	CHECK(credit_bank_held(&b) == 65536);
	credit_bank_delivered(&b, 1);
	credit_bank_add(&b, 10);
	CHECK(credit_bank_held(&b) == 65536 && b.bank == 1);
	/* a worker outside the subscription is ignored */
	credit_bank_want(&b, 5, 1);
	CHECK(b.active == 2);

	/* two workers, weights 3 and 1, window 8: caps 6 and 2 */
	credit_bank_init(&b, 3, 8, 65536);
	credit_bank_want(&b, 0, 3);
	credit_bank_want(&b, 1, 1);
	CHECK(credit_bank_next(&b, &w, &n) && w == 0 && n == 6);
	credit_bank_granted(&b, w, n);
	CHECK(credit_bank_next(&b, &w, &n) && w == 1 && n == 2);
	credit_bank_granted(&b, w, n);
	CHECK(!credit_bank_next(&b, &w, &n));
	/* returned credit goes back to the bank; the worker is no longer active */
	credit_bank_returned(&b, 1, 2);
	CHECK(b.bank == 2 && b.out[1] == 0 && b.active == 1);
	/* a worker alone again: its cap is the window */
	CHECK(credit_bank_next(&b, &w, &n) && w == 0 && n == 2);
	credit_bank_granted(&b, w, n);
	CHECK(!credit_bank_next(&b, &w, &n));
	/* a worker at its cap gets more once it spent some */
	credit_bank_want(&b, 1, 1);
	credit_bank_add(&b, 1);
	CHECK(credit_bank_next(&b, &w, &n) && w == 1 && n == 1);
	credit_bank_granted(&b, w, n);
	credit_bank_add(&b, 1);
	CHECK(credit_bank_next(&b, &w, &n) && w == 1 && n == 1);
	credit_bank_granted(&b, w, n);
	credit_bank_add(&b, 1);
	CHECK(!credit_bank_next(&b, &w, &n)); /* caps 6 and 2 (window 8): 8 and 2 held */
	credit_bank_delivered(&b, 0);
	credit_bank_delivered(&b, 0);
	credit_bank_delivered(&b, 0);
	CHECK(credit_bank_next(&b, &w, &n) && w == 0 && n == 1); /* 5 of 6 */
	/* a return cannot give back more than was lent */
	credit_bank_returned(&b, 1, 100);
	CHECK(credit_bank_held(&b) == 11 - 3 && b.out[1] == 0 && b.bank == 3);
}

int
main(void)
{
	test_bank();
	test_give_back();
	test_random(1, 2, 1, 0);
	test_random(2, 2, 4, 10);
	test_random(3, 3, 8, 20);
	test_random(4, 4, 3, 5);
	test_random(5, 4, 64, 10);
	test_random(6, 1, 5, 10);
	test_weights(7, 8);
	test_weights(8, 32);
	test_weights(9, 3);
	return CHECK_SUMMARY();
}
