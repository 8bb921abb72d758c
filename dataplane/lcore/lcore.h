/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's lcores and the messages between them.
 *
 *   I/O lcore i ──to_worker[i][w]───►  worker lcore w  (SPSC rte_ring of struct msg,
 *   I/O lcore i ◄─from_worker[i][w]──  worker lcore w   one pair per I/O x worker)
 *   I/O lcore i ──auth_req[i]───►  main lcore    (struct auth_msg)
 *   I/O lcore i ◄─auth_resp[i]───  main lcore
 *
 * Jobs travel as pointers to objects from the job mempools: copied once out
 * of the TLS plaintext on the I/O lcore, owned by the worker's engine after
 * that. A Deliver is encoded by the I/O lcore from the job itself, so each
 * object carries a reference count: one for the engine, one per delivery
 * message in flight; whoever drops the last returns it to its pool.
 *
 * Workers (--workers N, 1 to SLUICED_WORKERS_MAX, one lcore each; a worker
 * may share its lcore with I/O, and lcores may share a CPU through the EAL's
 * --lcores map). Queue q, in --queue order, is owned by worker q mod N, where it
 * is queue q / N of that worker's engine (pol_queue.worker and .index). All
 * of a queue's state lives on its worker. The I/O lcore routes by queue:
 * MSG_ENQ and the subscriptions to the owner; settlements by the lease id,
 * whose top 16 bits are the engine's worker id (eng_lease_worker).
 *
 * A consumer whose subscription lies on one worker gets its credit straight
 * from the I/O lcore (MSG_SUB_END, MSG_CREDIT), as with one worker. One that
 * spans workers gets an engine consumer on each, created without credit,
 * and the I/O lcore keeps its credit in a bank (credit.h): a worker asks
 * (MSG_WANT) when it holds none and could lease to the consumer, the bank
 * lends (MSG_GRANT) by weighted round robin up to a per-worker cap, and a
 * worker gives back (MSG_RETURN) all it holds as soon as it can lease the
 * consumer nothing. The consumer never receives more deliveries than the
 * credit it gave, and credit never idles at one worker while a job for the
 * consumer waits at another (proof sketch in credit.h).
 *
 * Approximations with several workers: weights across workers hold while
 * every subscribed queue stays backlogged (credit goes by weighted round
 * robin among the workers that asked and gave nothing back since, each
 * weighing the sum of its queues that could lease when it asked; a worker
 * alone may use the whole window, and credit the client returns in a batch
 * is split in rounded-up shares); across queues of one worker the engine
 * applies weights exactly as before. Strict
 * priority holds within a queue, not across queues (as with one worker).
 * Each worker scans its spanning consumers once per poll to ask or give
 * back, which is linear in their number. --max-jobs bounds each worker's
 * engine; the job mempools bound the whole appliance.
 */
#ifndef SLUICE_LCORE_H
#define SLUICE_LCORE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "credit.h"
#include "ctl.h"
#include "ctlsrv.h"
#include "engine.h"
#include "policy.h"
#include "sess.h"
#include "tls.h"
#include "tokens.h"
#include "transport.h"

#define SLUICED_IO_MAX 16
#define SLUICED_WORKERS_MAX CREDIT_WORKERS_MAX
#define JOB_CLASSES 4

enum msg_type {
	/* I/O -> worker */
	MSG_ENQ = 1, /* a = struct eng_job *, b = queue index in the worker's engine */
	MSG_SUB_Q,   /* a = queue index in the worker's engine, b = weight */
	MSG_SUB_END, /* a = initial credit; x = 1: credit by hand-off (MSG_WANT/GRANT) */
	MSG_CREDIT,  /* a = credit (a consumer on one worker) */
	MSG_GRANT,   /* a = credit lent from the bank (a consumer spanning workers) */
	MSG_SETTLE,  /* x = enum sess_op, a = lease id, b = ms | dead << 32 */
	MSG_GONE,    /* the consumer's connection closed */
	/* worker -> I/O */
	MSG_ENQ_DONE,    /* x = status, a/b = job id hi/lo */
	MSG_SETTLE_DONE, /* x = status */
	MSG_DELIVER,     /* a = struct eng_job *, b = lease id, slot = attempt, idx = lease ms */
	MSG_WANT,        /* hand-off: a = weight of the queues that could lease */
	MSG_RETURN,      /* hand-off: a = credit given back (the consumer has nothing here) */
	/*
	 * main -> worker: operator actions (dataplane/ctl, own rings). conn/gen =
	 * control connection and request, idx = queue index in the worker's
	 * engine, b = struct eng_queue_stats * the worker fills after the action.
	 */
	MSG_CTL_STATS,
	MSG_CTL_PAUSE,
	MSG_CTL_RESUME,
	MSG_CTL_PURGE,
	MSG_CTL_REDRIVE, /* a = at most this many dead jobs, 0 = all */
	MSG_CTL_JOB,     /* a = struct ctl_job_op * (ctlsrv.c): show, dead list, retry, delete */
	/* worker -> main */
	MSG_CTL_DONE, /* a = jobs purged or redriven; *b filled */
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

/*
 * Request: the token and the client's address. Response: the status and,
 * when OK, the credential id (the token itself is wiped): the I/O lcore
 * finds the principal by that id in the table it reads, which may be newer
 * than the one the answer came from (a reload in between).
 */
enum auth_kind {
	AUTH_KIND_AUTH = 0, /* a Hello's token (and certificate) to judge */
	/*
	 * main -> I/O: sluicectl conns. LIST: write up to conn rows of struct
	 * conn_row at arg; answered (I/O -> main, same kind) with conn = rows
	 * written and gen = connections open. KICK: end connection (conn, gen),
	 * its row first at arg; answered with conn = 1 if it was there, else 0.
	 */
	AUTH_KIND_CONNS_LIST,
	AUTH_KIND_CONNS_KICK,
};

/* One connection as sluicectl conns shows it. */
struct conn_row {
	uint32_t slot, gen, addr, age_ms;
	uint16_t port;
	uint8_t state, role; /* ConnInfo's values */
	uint64_t cred;
	char principal[POL_NAME_MAX + 1]; /* "" before authentication */
};

struct auth_msg {
	uint32_t conn;
	uint32_t gen;
	uint8_t role;
	uint8_t status; /* response */
	uint8_t kind;   /* enum auth_kind */
	uint8_t rsvd;
	uint64_t arg; /* CONNS_*: struct conn_row * */
	uint32_t token_len;
	uint32_t addr; /* IPv4, host order */
	uint64_t cred; /* response */
	uint8_t token[WIRE_TOKEN_MAX];
	/* No token: the client certificate, when one was verified (ctld maps it). */
	bool has_cert;
	uint8_t cert_sha256[32];
	char cert_subject[CTL_SUBJECT_MAX + 1];
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
struct ctldlink;

/* Everything the lcores share; read-only after start except the quit flag. */
struct appliance {
	const struct sluiced_cfg *cfg;
	unsigned n_io;
	unsigned n_workers;
	struct rte_ring *to_worker[SLUICED_IO_MAX][SLUICED_WORKERS_MAX];
	struct rte_ring *from_worker[SLUICED_IO_MAX][SLUICED_WORKERS_MAX];
	struct rte_ring *auth_req[SLUICED_IO_MAX];
	struct rte_ring *auth_resp[SLUICED_IO_MAX];
	struct rte_mempool *jobs[JOB_CLASSES];
	uint32_t job_class_bytes[JOB_CLASSES];
	/*
	 * Principals (--tokens), replaced whole when SIGHUP reloads the file
	 * (epoch swap): the main lcore publishes a new table, generation g+1,
	 * with a release store; an I/O lcore takes it at the top of a pass, moves
	 * its sessions onto it (or ends those whose grants went away), then
	 * stores g+1 in its auth_seen slot: it holds nothing of the old table
	 * any more. The main lcore frees the old table once every slot shows
	 * g+1 (a drained lcore shows UINT64_MAX). DESIGN.md names rte_rcu_qsbr
	 * or an epoch swap; this is the swap: rte_rcu_qsbr.h does not compile
	 * under -Wpedantic -Werror in DPDK 22.11, and one counter per reader is
	 * all QSBR would keep here.
	 */
	struct auth_table *_Atomic auth;
	struct {
		_Alignas(64) _Atomic uint64_t gen;
	} auth_seen[SLUICED_IO_MAX];
	struct auth_table *auth_retired; /* main lcore only: replaced tables, newest first */
	uint64_t reloads, reload_failures;
	const struct pol_queue *queues;
	unsigned n_queues;
	struct sess_cfg sess_cfg;
	int64_t wall_to_mono_ms; /* monotonic - wall, for not_before times */
	atomic_int quit;         /* 1: drain; 2: stop now */
	atomic_uint io_done;     /* I/O lcores that finished draining */
	atomic_uint workers_done;
	struct ctlsrv *ctl;    /* control socket, NULL when off (dataplane/ctl/ctlsrv.h) */
	struct ctldlink *link; /* sluiced --ctld: the channel to sluice-ctld (ctldlink.h) */
	struct io_lcore *ios[SLUICED_IO_MAX]; /* by index, for counters (read-only) */
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
/*
 * The same counters as (name, value) rows, at most max: every plain counter,
 * then the non-zero ones by reason ("invalid.<check>", "refused.<status>").
 * Names stay valid while io lives. Any thread (each value one aligned load;
 * a figure may be a pass behind).
 */
unsigned io_lcore_counters(const struct io_lcore *io, const char **names, uint64_t *values,
			   unsigned max);

/* Worker index (< a->n_workers): an engine with the queues it owns. NULL, errno set. */
struct worker_lcore *worker_lcore_create(struct appliance *a, unsigned index);
/* One pass of the worker loop. */
void worker_lcore_poll(struct worker_lcore *w);
/* Frees the engine (and every job it holds) and replies not yet sent. */
void worker_lcore_free(struct worker_lcore *w);

/*
 * After every lcore stopped: return the jobs that messages left in the
 * rings still reference (enqueues never taken, deliveries never encoded).
 */
void appliance_rings_drain(struct appliance *a);

/* One pass of the main lcore's slow path: authentication requests. */
void main_lcore_poll(struct appliance *a);
/* Main lcore: send m (status and cred filled) back to I/O lcore io; wipes its token. */
void appliance_auth_answer(struct appliance *a, unsigned io, struct auth_msg *m);

/*
 * Main lcore: load path into a new principal table and publish it (the old one
 * is freed after its grace period). 0, or -1 with the reason in err and the
 * published table unchanged.
 */
int appliance_auth_reload(struct appliance *a, const char *path, char *err, size_t errlen);
/* Main lcore: publish t (filled and indexed); the appliance owns it from here. */
void appliance_auth_publish(struct appliance *a, struct auth_table *t);
/* Main lcore: free the replaced tables every I/O lcore has moved past. */
void appliance_auth_reclaim(struct appliance *a);

#endif
