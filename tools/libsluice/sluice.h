/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libsluice: client library for the sluice job-queue appliance.
 *
 * One struct sluice_client is one session (TCP + TLS 1.2, ALPN "sluice/1",
 * schema/PROTOCOL.md) with a producer role, a consumer role or both. Every
 * frame received is verified by the schema's strict verifier before any field
 * is read. The library never logs and never prints; it reports through
 * return values, sluice_last_error() and callbacks.
 *
 *   sluice_client_new()  ──► sluice_connect() ──► enqueue / subscribe+consume
 *        (config only, no I/O)    (TCP, TLS, Hello/Welcome)          │
 *   sluice_client_free() ◄── sluice_close() (Goodbye) ◄──────────────┘
 *
 * Threads: a client is used by one thread at a time. The exception is
 * sluice_stop(), which any thread or a signal handler may call. Different
 * clients are independent.
 *
 * Callbacks (job results, settled leases, consumer handlers) run inside the
 * library call that received the frame, on the caller's thread. A result or
 * settle callback must not call any function of the same client; a consumer
 * handler may call only sluice_heartbeat() and the sluice_delivery_* getters.
 * Other calls made from a callback return -SLUICE_E_REENTRANT.
 *
 * Errors: functions return 0 (or a count) on success and -SLUICE_E_<name> on
 * failure; sluice_last_error() then says what happened in words a person can
 * act on, and sluice_last_status() gives the appliance's status when it
 * refused something with an Error frame.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sluice_client;

#define SLUICE_DEFAULT_PORT 7443
#define SLUICE_JOB_ID_BYTES 16

/* Errors of this library: SLUICE_ERROR(symbol, "name"). */
#define SLUICE_ERRORS(X)                                                                           \
	X(INVALID, "invalid_argument") /* a parameter or job field is out of bounds */             \
	X(NOMEM, "out_of_memory")                                                                  \
	X(RESOLVE, "resolve_failed")   /* host name did not resolve */                             \
	X(CONNECT, "connect_failed")   /* TCP connect refused or unreachable */                    \
	X(TLS, "tls_failed")           /* handshake or certificate check failed */                 \
	X(TIMEOUT, "timeout")          /* a deadline passed */                                     \
	X(CLOSED, "connection_closed") /* the session ended (EOF, Goodbye, reset) */               \
	X(PROTOCOL, "protocol_error")  /* the peer sent an invalid or unexpected frame */          \
	X(REFUSED, "refused")          /* the appliance answered Error; see last_status */         \
	X(STATE, "wrong_state")        /* not connected, wrong role, subscribed twice, ... */      \
	X(REENTRANT, "reentrant_call") /* called from a callback of the same client */             \
	X(TOO_LARGE, "too_large")      /* a job cannot fit in one frame of this session */         \
	X(STOPPED, "stopped")          /* sluice_stop() was called */

enum sluice_err {
	SLUICE_OK = 0,
#define SLUICE_ERR_ENUM(sym, name) SLUICE_E_##sym,
	SLUICE_ERRORS(SLUICE_ERR_ENUM)
#undef SLUICE_ERR_ENUM
		SLUICE_E__COUNT
};

/* Name of an error code, either sign ("timeout"); "unknown_error" if none. */
const char *sluice_strerror(int err);

/*
 * Statuses of the wire protocol (enum Status of schema/sluice.fbs, same
 * numbers): SLUICE_STATUS_OK, SLUICE_STATUS_DUPLICATE, SLUICE_STATUS_QUEUE_FULL...
 */
enum sluice_status {
#define WIRE_STATUS(sym, name) SLUICE_STATUS_##sym,
#include "wire_status.def"
#undef WIRE_STATUS
	SLUICE_STATUS__COUNT
};

/* What a caller should do about a status (PROTOCOL.md "Producing"). */
enum sluice_status_class {
	SLUICE_CLASS_OK,      /* Ok, Duplicate: the job is accepted */
	SLUICE_CLASS_RETRY,   /* back off and retry, same id (QueueFull, Unavailable...) */
	SLUICE_CLASS_REFUSED, /* do not retry unchanged (Invalid, Forbidden, TooLarge...) */
	SLUICE_CLASS_AUTH,    /* the session itself was refused (Unauthenticated, Banned...) */
};

/* Schema name of a status ("QueueFull"), "unknown" when out of range. */
const char *sluice_status_name(unsigned status);
enum sluice_status_class sluice_status_class(unsigned status);
/* One line of advice for a person ("back off and retry"), never NULL. */
const char *sluice_status_hint(unsigned status);
/* True for Ok and Duplicate: the job is in the appliance. */
bool sluice_status_ok(unsigned status);

/* 16-byte job id; textual form is 32 lowercase hex digits, byte 0 first. */
struct sluice_job_id {
	uint8_t b[SLUICE_JOB_ID_BYTES];
};

/* Write id as 32 hex digits + NUL into out[33]. */
void sluice_id_format(const struct sluice_job_id *id, char out[33]);
/* Parse 32 hex digits; 0, or -SLUICE_E_INVALID (wrong length, bad digit, all zero). */
int sluice_id_parse(const char *s, struct sluice_job_id *id);
/* Fill id with random bytes from getrandom(); never all zero. 0 or -SLUICE_E_INVALID. */
int sluice_id_random(struct sluice_job_id *id);

enum sluice_role {
	SLUICE_PRODUCER = 1,
	SLUICE_CONSUMER = 2,
	SLUICE_BOTH = 3,
};

/* ---- jobs and results ---- */

struct sluice_header {
	const char *key;   /* name charset [A-Za-z0-9_.:-], 1..64 bytes */
	const char *value; /* printable ASCII, 0..256 bytes */
};

/*
 * A job to enqueue. Strings are NUL-terminated; NULL means absent. Bounds are
 * those of schema/sluice.fbs; sluice_enqueue() checks them and says which one
 * failed. The library copies everything it needs before returning.
 */
struct sluice_job {
	const char *queue;       /* required: name charset, 1..64 bytes */
	const char *type;        /* required: name charset, 1..128 bytes */
	struct sluice_job_id id; /* all zero: the library draws a random one (see config) */
	const void *payload;     /* opaque bytes, never inspected */
	size_t payload_len;
	const char *content_type; /* printable ASCII, 0..128 bytes */
	uint8_t priority;         /* 0..15, higher first */
	uint64_t not_before_ms;   /* unix time in ms; 0 = ready now */
	uint32_t ttl_ms;          /* 0 = queue default; <= 7 days */
	uint16_t max_attempts;    /* 0 = queue default; <= 1000 */
	uint32_t lease_timeout_ms;
	const char *unique_key; /* printable ASCII, 1..128 bytes */
	uint32_t unique_ttl_ms;
	const struct sluice_header *headers; /* <= 16 */
	unsigned n_headers;
};

/*
 * The outcome of one job. status is the appliance's, or a local one:
 * SLUICE_STATUS_UNAVAILABLE when the session was lost and not recovered before
 * an ack came (outcome unknown: re-sending with the same id is safe),
 * SLUICE_STATUS_TOO_LARGE when a reconnected session's frame limit is too
 * small for the job. id is the id the appliance reports (for Duplicate, the
 * id of the job already accepted).
 */
struct sluice_result {
	unsigned status;
	struct sluice_job_id id;
	void *user; /* as given to sluice_enqueue() */
};

typedef void (*sluice_result_fn)(void *arg, const struct sluice_result *r);

/* ---- consumer ---- */

struct sluice_queue_weight {
	const char *queue; /* name charset, 1..64 bytes */
	uint16_t weight;   /* 1..1000; 0 means 1 */
};

/* A delivered job; valid only during the handler call. */
struct sluice_delivery;

uint64_t sluice_delivery_lease_id(const struct sluice_delivery *d);
unsigned sluice_delivery_attempt(const struct sluice_delivery *d);
uint32_t sluice_delivery_lease_timeout_ms(const struct sluice_delivery *d);
uint64_t sluice_delivery_enqueued_ms(const struct sluice_delivery *d);
const char *sluice_delivery_queue(const struct sluice_delivery *d);
const char *sluice_delivery_type(const struct sluice_delivery *d);
/* NULL when the job has none. */
const char *sluice_delivery_content_type(const struct sluice_delivery *d);
const char *sluice_delivery_unique_key(const struct sluice_delivery *d);
unsigned sluice_delivery_priority(const struct sluice_delivery *d);
struct sluice_job_id sluice_delivery_id(const struct sluice_delivery *d);
const void *sluice_delivery_payload(const struct sluice_delivery *d, size_t *len);
unsigned sluice_delivery_n_headers(const struct sluice_delivery *d);
/* Header i (< n_headers): key and value, NUL-terminated. */
void sluice_delivery_header(const struct sluice_delivery *d, unsigned i, const char **key,
			    const char **value);

/*
 * What a handler decided. Preset to complete; set ok = false to fail the
 * job: it is retried after retry_delay_ms (0: the queue's backoff) or goes to
 * the dead-letter set when dead is true. reason (printable ASCII, <= 256
 * bytes, copied; longer text is cut, other bytes become '?') is stored with it.
 */
struct sluice_verdict {
	bool ok;
	bool dead;
	uint32_t retry_delay_ms;
	const char *reason;
};

typedef void (*sluice_handler_fn)(void *arg, struct sluice_client *c,
				  const struct sluice_delivery *d, struct sluice_verdict *v);

enum sluice_settle_op {
	SLUICE_SETTLE_COMPLETE,
	SLUICE_SETTLE_FAIL,
	SLUICE_SETTLE_EXTEND,
};

/*
 * The appliance's answer (LeaseAck) for one lease: status Ok, or e.g.
 * LeaseExpired when the lease ran out before the Complete arrived (the job
 * went back to the queue and will be delivered again). Local statuses:
 * SLUICE_STATUS_LEASE_NOT_FOUND: the lease belonged to a session that was
 * lost, so nothing was sent (the appliance retries the job);
 * SLUICE_STATUS_UNAVAILABLE: the session was lost after the frame was sent
 * and before its ack (it may or may not have landed; if not, the job is
 * delivered again).
 */
struct sluice_settled {
	uint64_t lease_id;
	enum sluice_settle_op op;
	unsigned status;
};

typedef void (*sluice_settled_fn)(void *arg, const struct sluice_settled *s);

/* ---- configuration ---- */

struct sluice_config {
	const char *host;        /* name or address; required */
	uint16_t port;           /* 0 = SLUICE_DEFAULT_PORT */
	const char *ca_file;     /* PEM CA that signed the appliance's certificate; required */
	const char *server_name; /* name expected in its certificate; NULL = host */
	const char *cert_file;   /* optional client certificate (PEM) ... */
	const char *key_file;    /* ... and its key */
	const char *token;       /* API token, <= 256 bytes; NULL = none */
	const char *client_name; /* printable ASCII, <= 64 bytes; NULL = "libsluice" */
	enum sluice_role role;
	uint32_t connect_timeout_ms; /* TCP + TLS + Hello/Welcome; 0 = 10000 */
	uint32_t io_timeout_ms;      /* longest wait for an ack or room to send; 0 = 30000 */

	/* producer */
	uint32_t linger_ms;      /* hold a partial batch this long for more jobs; 0 = send now */
	uint32_t max_batch_jobs; /* 0 = the appliance's max_batch_jobs (Welcome) */
	uint32_t max_unacked_batches; /* 0 = 16, the protocol default; <= 1024 */
	bool server_assigns_ids;      /* leave zero ids zero (not re-sendable after reconnect) */
	sluice_result_fn on_result;   /* results of sluice_enqueue(); may be NULL */
	void *on_result_arg;

	/* consumer */
	sluice_settled_fn on_settled; /* LeaseAck outcomes; may be NULL */
	void *on_settled_arg;

	/* recovery: after a lost session (not after a refusal), reconnect this many times */
	uint32_t reconnect_attempts;   /* 0 = none */
	uint32_t reconnect_backoff_ms; /* first wait, doubled each try up to 5 s; 0 = 100 */
};

/* Fill cfg with defaults (every field zero or as documented above). */
void sluice_config_init(struct sluice_config *cfg);

/* ---- session ---- */

/*
 * Check cfg, copy it, read the CA and client certificate. No network I/O.
 * Returns a client, or NULL with a message in err (which file or field, why).
 */
struct sluice_client *sluice_client_new(const struct sluice_config *cfg, char *err, size_t errlen);

/* Close without Goodbye if still open, and free. NULL is ignored. */
void sluice_client_free(struct sluice_client *c);

/*
 * Connect: TCP, TLS handshake (server certificate checked against ca_file and
 * server_name, ALPN sluice/1), Hello, wait for Welcome; all within
 * connect_timeout_ms. Returns 0, or -SLUICE_E_RESOLVE / CONNECT / TLS /
 * TIMEOUT / CLOSED / PROTOCOL / REFUSED (the appliance's Error: status in
 * sluice_last_status(), e.g. Unauthenticated).
 */
int sluice_connect(struct sluice_client *c);

/*
 * Clean close: send what is queued, Goodbye{Ok}, TLS close_notify, close the
 * socket. Jobs still without a result are reported with status Unavailable
 * (call sluice_drain() first to wait for them). Returns 0 or a negative error
 * (the session is closed either way).
 */
int sluice_close(struct sluice_client *c);

struct sluice_session_info {
	uint64_t session_id;
	uint32_t max_frame_bytes; /* the appliance accepts frames up to this (after the prefix) */
	uint32_t max_batch_jobs;
	uint32_t heartbeat_ms;
	char server_name[65];
	unsigned reconnects; /* sessions re-established after a loss */
};

/* Values from the current session's Welcome. 0, or -SLUICE_E_STATE when never connected. */
int sluice_session_info(const struct sluice_client *c, struct sluice_session_info *info);

/* Message of the last failure (never NULL; "" when none). Valid until the next call. */
const char *sluice_last_error(const struct sluice_client *c);
/* Status of the last Error or Goodbye frame that caused a failure, else SLUICE_STATUS_OK. */
unsigned sluice_last_status(const struct sluice_client *c);

/*
 * Send Ping, wait for the matching Pong (up to io_timeout_ms). Results and
 * deliveries that arrive meanwhile are processed. 0 and the round trip in
 * *rtt_us, or a negative error.
 */
int sluice_ping(struct sluice_client *c, uint64_t *rtt_us);

/* Ask a running sluice_consume() or wait to return soon. Async-signal-safe. */
void sluice_stop(struct sluice_client *c);

/* ---- producer ---- */

/*
 * Check a job against the protocol's bounds without a session (what
 * sluice_enqueue() checks first). 0, or -SLUICE_E_INVALID with the field and
 * the rule in err.
 */
int sluice_job_check(const struct sluice_job *job, char *err, size_t errlen);

/*
 * Queue one job; it goes out in a batch of up to max_batch_jobs when the
 * batch is full, linger_ms after its first job, or on sluice_flush(). At most
 * max_unacked_batches batches are in flight; when they are, and as many jobs
 * again wait, this call waits (up to io_timeout_ms) for acks. The result
 * arrives later through cfg.on_result with user. A zero job id is replaced by
 * a random one (unless server_assigns_ids), written back to *id_out if not
 * NULL. Results arrive during later calls on this client (enqueue, flush,
 * drain, ping, consume), since the library has no thread of its own.
 * Returns 0 when the job was queued: its result then always comes, if need be
 * as Unavailable when the session is lost for good. Returns -SLUICE_E_INVALID
 * (message names the field), TOO_LARGE, STATE (not a producer session),
 * TIMEOUT (no room within io_timeout_ms), or a session error when it was not
 * queued.
 */
int sluice_enqueue(struct sluice_client *c, const struct sluice_job *job, void *user,
		   struct sluice_job_id *id_out);

/* Send any partial batch now (bounded by the in-flight window). 0 or error. */
int sluice_flush(struct sluice_client *c);

/*
 * Flush, then wait until every queued job has its result, at most timeout_ms
 * (-1: io_timeout_ms). Returns 0, -SLUICE_E_TIMEOUT, or a session error.
 */
int sluice_drain(struct sluice_client *c, int timeout_ms);

/*
 * Synchronous: enqueue jobs[0..n), wait for all their results and write them
 * to results[i] (results[i].user = NULL). Returns the number of jobs whose
 * status is Ok or Duplicate, or a negative error (results of jobs already
 * answered stay written; the others hold SLUICE_STATUS_UNAVAILABLE).
 */
int sluice_enqueue_wait(struct sluice_client *c, const struct sluice_job *jobs, size_t n,
			struct sluice_result *results);

/* ---- consumer ---- */

/*
 * Subscribe (once per session) to n queues with weights; prefetch (1..65536)
 * is how many deliveries may wait here unhandled. The appliance does not ack
 * a Subscribe, so this sends Ping right after it and waits for the Pong:
 * refusals (Forbidden, UnknownQueue) come back first as -SLUICE_E_REFUSED.
 * After a reconnect the library subscribes again by itself.
 */
int sluice_subscribe(struct sluice_client *c, const struct sluice_queue_weight *queues, unsigned n,
		     uint32_t prefetch);

/*
 * Deliver jobs to handler one at a time, in arrival order, and Complete or
 * Fail each as the verdict says (acks come back through cfg.on_settled).
 * Credit is topped up as jobs finish, never past prefetch nor past what
 * max_jobs still needs. Returns after max_jobs jobs (0: no limit), after
 * idle_ms without a delivery (-1: never), on sluice_stop() (-SLUICE_E_STOPPED),
 * or on a session error. Before returning it waits (up to io_timeout_ms) for
 * the acks of what it settled. *handled (if not NULL) counts handler calls.
 *
 * Leases: deliveries waiting here and the one being handled are extended
 * (ExtendLease) at half their lease timeout by sluice_heartbeat(), which this
 * loop calls between jobs. A handler that may run longer than half a lease
 * must call sluice_heartbeat(c) now and then (it is cheap: it only sends when
 * something is due). A handler that hangs stops extending, its lease runs out,
 * and the appliance gives the job to another consumer: on purpose, no thread
 * keeps a stuck job alive.
 */
int sluice_consume(struct sluice_client *c, sluice_handler_fn handler, void *arg, uint64_t max_jobs,
		   int idle_ms, uint64_t *handled);

/*
 * Extend every lease this client holds that is at half its timeout or later,
 * and Ping when nothing was sent for the session's heartbeat interval. Sends
 * only; never reads, never calls callbacks. Callable from a handler. 0 or a
 * session error (the handler may go on; the lease may then expire).
 */
int sluice_heartbeat(struct sluice_client *c);

/* ---- counters ---- */

struct sluice_stats {
	uint64_t jobs_enqueued;  /* accepted by sluice_enqueue() */
	uint64_t jobs_ok;        /* results Ok or Duplicate */
	uint64_t jobs_duplicate; /* of which Duplicate */
	uint64_t jobs_refused;   /* any other result */
	uint64_t batches_sent;   /* including re-sends */
	uint64_t jobs_resent;    /* re-sent after a reconnect or RateLimited */
	uint64_t deliveries;
	uint64_t completed;      /* Complete sent */
	uint64_t failed;         /* Fail sent */
	uint64_t settle_refused; /* LeaseAck status not Ok */
	uint64_t extends;        /* lease ids extended */
	uint64_t credits;        /* Credit frames sent */
	uint64_t reconnects;
};

void sluice_get_stats(const struct sluice_client *c, struct sluice_stats *s);

#endif
