/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protocol-conformance harness for libsluice: a scripted appliance peer on
 * 127.0.0.1, made of the TLS engine (dataplane/tls) and the schema's builder
 * and verifier, running in a thread of the test.
 *
 * It is NOT sluiced. It answers the way schema/PROTOCOL.md says, checks the
 * client's frames against that contract (every frame verified, Hello first,
 * batches within the advertised limits, unacked batches, credit), and can
 * misbehave on cue (drop the connection, refuse a batch, say Goodbye, send
 * garbage) to drive the client's recovery paths. End-to-end tests against
 * sluiced must replace or augment it once the appliance exists.
 *
 * Queue names with a meaning here: "full" answers QueueFull per job, "nope"
 * UnknownQueue (and refuses a Subscribe), "secret" refuses a Subscribe with
 * Forbidden. Other queues accept everything, deduplicated by job id.
 */
#ifndef SLUICE_TEST_PEER_H
#define SLUICE_TEST_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "tls.h"

struct peer_cfg {
	const char *cert_dir; /* server.pem/server.key/ca.pem from gen-test-certs.sh */
	enum tls_client_cert client_cert;
	const char *token;       /* required token; NULL accepts any */
	uint32_t max_batch_jobs; /* advertised in Welcome (0 = 256) */
	uint32_t max_frame_bytes;
	uint32_t heartbeat_ms;
	unsigned sessions;       /* serve this many, then end (0 = 1) */
	unsigned max_unacked;    /* more unacked batches get Error{RateLimited} (0 = 16) */
	unsigned ack_hold;       /* hold acks until this many batches wait (pipelining) */
	unsigned drop_after;     /* session 1: close abruptly, unacked, after this many batches */
	unsigned rate_limit_nth; /* answer the n-th batch (1-based) with Error{RateLimited} */
	unsigned deliver_jobs;   /* jobs a consumer can lease */
	uint32_t deliver_bytes;  /* pad each payload "job-<i>" with \'.\' to this size */
	unsigned drop_deliver;   /* session 1: close abruptly after this many deliveries */
	uint32_t lease_timeout_ms;
	bool goodbye_first;       /* session 1: Goodbye{ShuttingDown} right after Welcome */
	bool garbage_after_hello; /* send an invalid frame after Welcome */
	bool ping_client;         /* Ping the client after Welcome; count matching Pongs */
	uint32_t deadline_ms;     /* the thread gives up after this long (0 = 20000) */
};

struct peer_stats {
	unsigned sessions;
	unsigned hellos;
	unsigned last_role;
	unsigned batches;
	unsigned jobs;          /* jobs received, re-sends included */
	unsigned distinct_jobs; /* ids accepted */
	unsigned duplicates;
	unsigned refused_jobs;
	unsigned rate_limited;
	unsigned max_batch_seen;
	unsigned max_unacked_seen;
	uint32_t max_frame_seen;
	unsigned subscribes;
	unsigned credit_frames;
	uint32_t max_credit_held;
	uint32_t prefetch;
	unsigned delivered;
	unsigned completes;
	unsigned fails;
	unsigned extends;
	unsigned late_settles; /* Complete/Fail/Extend after the lease ran out */
	unsigned goodbyes;
	unsigned pongs;
	unsigned close_notify; /* sessions that ended with a TLS close_notify */
	char fail_reason[300];
	char token_seen[300];
	unsigned violations;
	char violation[300]; /* the first one */
};

struct peer;

/* Listen on 127.0.0.1 (port chosen by the kernel) and serve in a thread. NULL on failure. */
struct peer *peer_start(const struct peer_cfg *cfg, uint16_t *port);
/* Wait for the thread to end (it ends by itself: sessions served or deadline), copy stats, free. */
void peer_join(struct peer *p, struct peer_stats *out);

#endif
