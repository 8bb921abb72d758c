/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libsluice internals shared by sl_client.c (session, event loop),
 * sl_produce.c (enqueue) and sl_consume.c (subscribe, deliveries, leases).
 */
#ifndef SLUICE_SL_PVT_H
#define SLUICE_SL_PVT_H

#include <stdatomic.h>

#include "sl_conn.h"
#include "sl_leases.h"
#include "sl_ledger.h"
#include "sluice.h"
#include "tls.h"
#include "wire.h"
#include "wire_build.h"

#define SL_CONNECT_TIMEOUT_DEFAULT 10000u
#define SL_IO_TIMEOUT_DEFAULT 30000u
#define SL_KEEPALIVE_DEFAULT 15000u /* when Welcome gives no heartbeat_ms */
#define SL_RECONNECT_BACKOFF_MAX 5000u
#define SL_COMPLETE_LINGER_MS 2u     /* coalesce Completes of quick handlers */
#define SL_OPS_SEQ_BASE (1ull << 62) /* lease ops' seqs never meet batch seqs */

/* A Deliver kept until its handler ran: the verified frame, copied. */
struct sluice_delivery {
	struct sluice_delivery *next;
	uint32_t generation; /* session it came on: its lease is valid only there */
	uint64_t lease_id;
	uint16_t attempt;
	uint32_t lease_timeout_ms;
	uint64_t enqueued_ms;
	const struct wire_job *job;
	uint8_t frame[];
};

struct sluice_client {
	struct sluice_config cfg; /* strings point into strs */
	char *strs;
	struct tls_ctx tls;
	bool tls_ready;
	struct sl_conn conn;
	bool connected; /* Welcome seen, session usable */
	uint32_t generation;
	struct sluice_session_info info;
	uint32_t out_max_frame; /* L of frames we send */
	uint64_t last_send_ms;
	uint64_t ping_seq;

	int last_err;
	unsigned last_status;
	char msg[512];
	int depth; /* > 0 while a callback runs */
	atomic_bool stop;

	uint8_t *build; /* 4 + out_max_frame bytes */
	struct wire_job_in *batch_in;
	uint32_t batch_in_cap;

	/* ping */
	uint64_t ping_nonce;
	bool pong_seen;

	/* producer */
	struct sl_ledger ledger;
	bool flushing; /* send partial batches now, until nothing is pending */
	int deferred;  /* a refusal seen after a job was queued, for the next call */

	/* consumer */
	bool subscribed;
	struct wire_queue_weight_in subs[WIRE_SUBSCRIBE_QUEUES_MAX];
	unsigned n_subs;
	char *sub_strs;
	uint32_t prefetch;
	uint32_t server_credit; /* deliveries the appliance may still push */
	uint32_t local;         /* delivered here and not settled */
	uint64_t want_left;     /* jobs the running consume still wants */
	struct sluice_delivery *dq_head;
	struct sluice_delivery *dq_tail;
	struct sl_leases leases;
	struct sl_ops ops;
	uint64_t *completes; /* lease ids to Complete, coalesced */
	uint32_t n_completes;
	uint32_t cap_completes;
	uint64_t completes_since_ms;

	struct sluice_stats stats;
};

/* Record a failure: message (printf), error; returns -err. */
int sl_fail(struct sluice_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Entry check of public calls: not from a callback, and connected. */
int sl_enter(struct sluice_client *c, const char *what);

/* Build m into one frame and queue it. 0, -SLUICE_E_TOO_LARGE or -NOMEM. */
int sl_send_msg(struct sluice_client *c, const struct wire_msg_in *m);

/*
 * One turn of the event loop: send what is due, wait up to timeout_ms for
 * input (less when a timer is due), handle every whole frame. A lost
 * session is re-established when the config allows (then 0). Returns 0 or a
 * negative error (message set).
 */
int sl_pump(struct sluice_client *c, int timeout_ms);

/* Call a user callback with the re-entrancy guard up. */
#define SL_CALLBACK(c, call)                                                                       \
	do {                                                                                       \
		(c)->depth++;                                                                      \
		call;                                                                              \
		(c)->depth--;                                                                      \
	} while (0)

/* job ids: struct sluice_job_id bytes <-> wire JobId {hi, lo} (big-endian halves) */
struct wire_jobid sl_id_to_wire(const struct sluice_job_id *id);
struct sluice_job_id sl_id_from_wire(struct wire_jobid w);

/* producer (sl_produce.c) */
int sl_job_check(const struct sluice_job *j, char *err, size_t errlen);
int sl_produce_send_due(struct sluice_client *c, uint64_t now_ms, bool flush, int64_t *next_ms);
int sl_produce_on_ack(struct sluice_client *c, const struct wire_enqueue_ack *a);
bool sl_produce_on_error(struct sluice_client *c, uint64_t seq, unsigned status);
void sl_produce_session_lost(struct sluice_client *c);
void sl_produce_abandon(struct sluice_client *c);

/* consumer (sl_consume.c) */
int sl_consume_send_due(struct sluice_client *c, uint64_t now_ms, bool force, int64_t *next_ms);
int sl_consume_on_deliver(struct sluice_client *c, const uint8_t *frame, uint32_t len,
			  const struct wire_deliver *d);
int sl_consume_on_lease_ack(struct sluice_client *c, const struct wire_lease_ack *a);
bool sl_consume_on_error(struct sluice_client *c, uint64_t seq, unsigned status);
void sl_consume_session_lost(struct sluice_client *c);
int sl_consume_resubscribe(struct sluice_client *c);
void sl_consume_free(struct sluice_client *c);

#endif
