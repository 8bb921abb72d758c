/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's lcores and the messages between them.
 *
 *   I/O lcore i ──to_worker[i]──►  worker lcore  (SPSC rte_ring of struct msg)
 *   I/O lcore i ◄─from_worker[i]── worker lcore
 *   I/O lcore i ──auth_req[i]───►  main lcore    (struct auth_msg)
 *   I/O lcore i ◄─auth_resp[i]───  main lcore
 *
 * Jobs travel as pointers to objects from the job mempools: copied once out
 * of the TLS plaintext on the I/O lcore, owned by the worker's engine after
 * that. A Deliver is encoded by the I/O lcore from the job itself, so each
 * object carries a reference count: one for the engine, one per delivery
 * message in flight; whoever drops the last returns it to its pool.
 *
 * v1 runs one worker lcore (it may share a CPU or an lcore with I/O); the
 * credit hand-off that lets one consumer span several workers is not built.
 */
#ifndef SLUICE_LCORE_H
#define SLUICE_LCORE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "engine.h"
#include "policy.h"
#include "sess.h"
#include "tls.h"
#include "tokens.h"
#include "transport.h"

#define SLUICED_IO_MAX 16
#define JOB_CLASSES 4

enum msg_type {
	/* I/O -> worker */
	MSG_ENQ = 1, /* a = struct eng_job *, b = queue index */
	MSG_SUB_Q,   /* a = queue index, b = weight */
	MSG_SUB_END, /* a = initial credit */
	MSG_CREDIT,  /* a = credit */
	MSG_SETTLE,  /* x = enum sess_op, a = lease id, b = ms | dead << 32 */
	MSG_GONE,    /* the consumer's connection closed */
	/* worker -> I/O */
	MSG_ENQ_DONE,    /* x = status, a/b = job id hi/lo */
	MSG_SETTLE_DONE, /* x = status */
	MSG_DELIVER,     /* a = struct eng_job *, b = lease id, slot = attempt, idx = lease ms */
};

/* 32 bytes: one rte_ring element. */
struct msg {
	uint8_t type;
	uint8_t x;
	uint16_t slot; /* batch slot in the session */
	uint32_t conn; /* connection slot on the I/O lcore */
	uint32_t gen;  /* connection generation: stale messages are dropped */
	uint32_t idx;  /* job or lease index in the batch */
	uint64_t a;
	uint64_t b;
};
_Static_assert(sizeof(struct msg) == 32, "ring element size");

struct auth_msg {
	uint32_t conn;
	uint32_t gen;
	uint8_t role;
	uint8_t status;     /* response */
	uint16_t principal; /* response: index in the auth table */
	uint32_t token_len;
	uint8_t token[WIRE_TOKEN_MAX];
};

/* Job objects: [refs][pad][struct eng_job ...] from a size-class mempool. */
struct job_hdr {
	atomic_uint refs;
	uint16_t pool; /* class index */
	uint16_t rsvd;
};
#define JOB_HDR_BYTES 8
_Static_assert(sizeof(struct job_hdr) == JOB_HDR_BYTES, "job header");

static inline struct job_hdr *
job_hdr_of(const struct eng_job *j)
{
	return (struct job_hdr *)((uintptr_t)j - JOB_HDR_BYTES);
}

struct sluiced_cfg;

/* Everything the lcores share; read-only after start except the quit flag. */
struct appliance {
	const struct sluiced_cfg *cfg;
	unsigned n_io;
	struct rte_ring *to_worker[SLUICED_IO_MAX];
	struct rte_ring *from_worker[SLUICED_IO_MAX];
	struct rte_ring *auth_req[SLUICED_IO_MAX];
	struct rte_ring *auth_resp[SLUICED_IO_MAX];
	struct rte_mempool *jobs[JOB_CLASSES];
	uint32_t job_class_bytes[JOB_CLASSES];
	struct auth_table auth;
	const struct pol_queue *queues;
	unsigned n_queues;
	struct sess_cfg sess_cfg;
	int64_t wall_to_mono_ms; /* monotonic - wall, for not_before times */
	atomic_int quit;         /* 1: drain; 2: stop now */
	atomic_uint io_done;     /* I/O lcores that finished draining */
	atomic_uint workers_done;
};

/* Monotonic and wall clocks in ms. */
uint64_t mono_ms(void);
uint64_t wall_ms(void);

/* Return a job to its pool when the last reference goes. */
void job_put(struct appliance *a, struct eng_job *j);

/* Queue index by name, -1 if not configured. */
int appliance_queue_find(const struct appliance *a, const char *name, uint32_t len);

struct io_lcore;
struct worker_lcore;

struct io_lcore *io_lcore_create(struct appliance *a, unsigned index, struct transport *tp,
				 struct tls_ctx *tls);
/* One pass of the I/O loop; returns false when drained after quit. */
bool io_lcore_poll(struct io_lcore *io);
void io_lcore_free(struct io_lcore *io);
/* Counters as one JSON object on one line: drops and refusals by reason. */
void io_lcore_stats_json(const struct io_lcore *io, FILE *out);

struct worker_lcore *worker_lcore_create(struct appliance *a);
/* One pass of the worker loop. */
void worker_lcore_poll(struct worker_lcore *w);
void worker_lcore_free(struct worker_lcore *w);

/* One pass of the main lcore's slow path: authentication requests. */
void main_lcore_poll(struct appliance *a);

#endif
