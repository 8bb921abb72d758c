/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session engine: one client connection's protocol state (schema/PROTOCOL.md)
 * between TLS plaintext and the lcore that routes jobs. No I/O, no clock:
 * plaintext comes in through the in window, frames go out through the out
 * window, and everything else goes through struct sess_env callbacks.
 *
 *   TLS plaintext ─► in [ partial frame ... )  ─► verify ─► handle ─► env
 *   TLS plaintext ◄─ out [ off ...... len )    ◄─ acks, deliveries, errors
 *
 * A session belongs to one I/O lcore; nothing here is thread-safe.
 */
#ifndef SLUICE_SESS_H
#define SLUICE_SESS_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "wire.h"
#include "wire_build.h"

#define SESS_BATCHES_MAX 16
/* Room kept free in out for acks and errors: deliveries never take it. */
#define SESS_OUT_RESERVE (64u << 10)

/* env->enqueue / env->settle: the request went to a worker, result later. */
#define SESS_PENDING (-1)

enum sess_state {
	SESS_HELLO,   /* waiting for Hello */
	SESS_AUTH,    /* Hello sent to the authenticator */
	SESS_OPEN,    /* Welcome sent */
	SESS_CLOSING, /* flush out, then close */
	SESS_CLOSED,
};

enum sess_op {
	SESS_OP_COMPLETE,
	SESS_OP_FAIL,
	SESS_OP_EXTEND,
};

/* Per-lcore counters; each drop or refusal has its row. */
struct sess_stats {
	uint64_t frames_in;
	uint64_t frames_out;
	uint64_t invalid[WIRE_E__COUNT]; /* frames refused, by verifier check */
	uint64_t too_large;              /* size prefix above max_frame_bytes */
	uint64_t bad_sequence;           /* frame not allowed in this state/role */
	uint64_t batches_over_limit;     /* more than max_unacked_batches */
	uint64_t hello_timeouts;
	uint64_t idle_timeouts;
	uint64_t out_overflow; /* peer not reading its acks: closed */
	uint64_t auth_ok;
	uint64_t auth_refused;
	uint64_t jobs_in;
	uint64_t jobs_refused[WIRE_STATUS__COUNT];
};

struct sess_cfg {
	struct wire_limits lim;       /* for frames from clients */
	uint32_t max_unacked_batches; /* <= SESS_BATCHES_MAX */
	uint32_t hello_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t heartbeat_ms; /* advertised in Welcome */
	const char *server_name;
};

struct sess;

/* What a session asks of its lcore. `arg` is sess_env.arg. */
struct sess_env {
	void *arg;
	/* Authenticate the Hello's token; answer later with sess_auth_done(). */
	void (*auth)(void *arg, struct sess *s, const uint8_t *token, uint32_t len, uint8_t role);
	/*
	 * Job idx of batch slot: route it. Returns SESS_PENDING (answer later with
	 * sess_job_done()) or a final enum wire_status.
	 */
	int (*enqueue)(void *arg, struct sess *s, uint32_t slot, uint32_t idx,
		       const struct wire_job *job);
	/* Subscribe: WIRE_STATUS_OK or why not (sent to the client as Error). */
	enum wire_status (*subscribe)(void *arg, struct sess *s, const struct wire_subscribe *sub);
	void (*credit)(void *arg, struct sess *s, uint32_t n);
	/* Settle lease idx of slot: SESS_PENDING (then sess_job_done()) or a final status. */
	int (*settle)(void *arg, struct sess *s, uint32_t slot, uint32_t idx, enum sess_op op,
		      uint64_t lease_id, uint32_t ms, bool dead);
	/* Wall clock in ms (Pong, Welcome). */
	uint64_t (*wall_ms)(void *arg);
};

/* A pending batch: EnqueueBatch or Complete/Fail/ExtendLease. */
struct sess_batch {
	uint64_t seq;
	uint16_t n;
	uint16_t done;
	bool in_use;
	bool lease;             /* answered with LeaseAck instead of EnqueueAck */
	uint16_t *status;       /* n entries */
	struct wire_jobid *ids; /* n entries (enqueue only) */
};

struct sess {
	uint8_t state;
	uint8_t role; /* enum wire_role from Hello */
	bool subscribed;
	const struct sess_cfg *cfg;
	const struct sess_env *env;
	struct sess_stats *stats;
	const struct pol_principal *principal; /* set by sess_auth_done */
	uint64_t session_id;
	uint64_t deadline_ms; /* hello or idle deadline */
	uint64_t now_ms;      /* time of the last input or tick */
	uint32_t unacked;
	char close_reason[96];

	uint8_t *in;
	uint32_t in_len;
	uint32_t in_cap; /* >= max_frame_bytes + 4 */
	uint8_t *out;
	uint32_t out_off;
	uint32_t out_len;
	uint32_t out_cap; /* >= max_frame_bytes + 4 + SESS_OUT_RESERVE */

	struct sess_batch batch[SESS_BATCHES_MAX];
	uint16_t *status_store; /* SESS_BATCHES_MAX * max_batch_jobs */
	struct wire_jobid *id_store;
};

/*
 * Bytes a session needs for its buffers and batch stores with cfg; the caller
 * provides them (per-lcore pool) to sess_init.
 */
uint32_t sess_mem_size(const struct sess_cfg *cfg);

/* Start a session in SESS_HELLO using mem (sess_mem_size bytes, 8-aligned). */
void sess_init(struct sess *s, const struct sess_cfg *cfg, const struct sess_env *env,
	       struct sess_stats *stats, void *mem, uint64_t session_id, uint64_t now);

/* Free room in the in window, for TLS to decrypt into. */
uint32_t sess_in_space(struct sess *s, uint8_t **p);
/*
 * n plaintext bytes were written at the in window: process every complete
 * frame. Returns the state (SESS_CLOSING: flush out, then close).
 */
enum sess_state sess_in_commit(struct sess *s, uint32_t n, uint64_t now);

/* Plaintext waiting to go out; consume what TLS took. */
uint32_t sess_out_pending(const struct sess *s, const uint8_t **p);
void sess_out_consume(struct sess *s, uint32_t n);

/* Timers: hello and idle deadlines. Returns the state. */
enum sess_state sess_tick(struct sess *s, uint64_t now);

/* The authenticator's answer: OK with a principal, or the refusal status. */
void sess_auth_done(struct sess *s, enum wire_status st, const struct pol_principal *p);
/* Result of job/lease idx of slot (id: assigned job id, ignored for leases). */
void sess_job_done(struct sess *s, uint32_t slot, uint32_t idx, enum wire_status st,
		   struct wire_jobid id);

/*
 * Encode a Deliver into out. Returns 0, or -1 when out lacks room (try again
 * after the peer reads; deliveries never use the reserve).
 */
int sess_deliver(struct sess *s, uint64_t lease_id, uint16_t attempt, uint32_t lease_timeout_ms,
		 uint64_t enqueued_ms, const struct wire_job_in *job);

/* Send Goodbye{reason, message} and start closing. */
void sess_goodbye(struct sess *s, enum wire_status reason, const char *message);

#endif
