/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builder for schema/sluice.fbs frames: describe a message in plain C
 * structs, get a size-prefixed frame in a caller-provided buffer. No
 * allocation. Thread-safe (no state outside the call).
 *
 * The builder encodes what it is given; it does not enforce sluice's
 * semantic bounds (names, lengths, ranges), so it can also build frames the
 * verifier refuses (tests do). Producers check inputs with wire_check_name()
 * and friends, or run wire_verify() on the result.
 *
 * Scalars equal to their schema default are omitted, as FlatBuffers'
 * builders do. A wire_str/wire_bytes with p == NULL is an absent field;
 * a zero job id is an absent id.
 */
#ifndef SLUICE_WIRE_BUILD_H
#define SLUICE_WIRE_BUILD_H

#include <sys/types.h>

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

struct wire_header_in {
	struct wire_str key;
	struct wire_str value;
};

struct wire_job_in {
	struct wire_str queue;
	struct wire_str type;
	struct wire_jobid id;
	struct wire_bytes payload;
	struct wire_str content_type;
	uint8_t priority;
	uint64_t not_before_ms;
	uint32_t ttl_ms;
	uint16_t max_attempts;
	uint32_t lease_timeout_ms;
	struct wire_str unique_key;
	uint32_t unique_ttl_ms;
	const struct wire_header_in *headers;
	uint32_t n_headers;
};

struct wire_queue_weight_in {
	struct wire_str queue;
	uint16_t weight;
};

/* One message; fill the member named after .type. */
struct wire_msg_in {
	enum wire_msg type;
	union {
		struct {
			uint16_t version; /* WIRE_PROTOCOL_VERSION */
			uint8_t role;     /* enum wire_role */
			struct wire_bytes token;
			struct wire_str client_name;
		} hello;
		struct {
			uint16_t version;
			uint64_t session_id;
			uint32_t max_frame_bytes;
			uint32_t max_batch_jobs;
			uint32_t heartbeat_ms;
			struct wire_str server_name;
		} welcome;
		struct {
			uint64_t seq;
			const struct wire_job_in *jobs;
			uint32_t n_jobs;
		} enqueue_batch;
		struct {
			uint64_t seq;
			const uint16_t *status; /* n entries of enum wire_status */
			const struct wire_jobid *ids;
			uint32_t n;
		} enqueue_ack;
		struct {
			const struct wire_queue_weight_in *queues;
			uint32_t n_queues;
			uint32_t prefetch;
		} subscribe;
		struct {
			uint32_t credit;
		} credit;
		struct {
			uint64_t lease_id;
			uint16_t attempt;
			uint32_t lease_timeout_ms;
			uint64_t enqueued_ms;
			struct wire_job_in job;
		} deliver;
		struct {
			uint64_t seq;
			const uint64_t *lease_ids;
			uint32_t n;
		} complete;
		struct {
			uint64_t seq;
			uint64_t lease_id;
			struct wire_str reason;
			uint32_t retry_delay_ms;
			bool dead;
		} fail;
		struct {
			uint64_t seq;
			const uint64_t *lease_ids;
			uint32_t n;
			uint32_t extend_ms;
		} extend_lease;
		struct {
			uint64_t seq;
			const uint16_t *status;
			uint32_t n;
		} lease_ack;
		struct {
			uint64_t nonce;
			uint64_t time_ms;
		} ping, pong;
		struct {
			uint16_t code; /* enum wire_status */
			struct wire_str message;
			uint64_t ref_seq;
		} error;
		struct {
			uint16_t reason; /* enum wire_status */
			struct wire_str message;
		} goodbye;
	} u;
};

/*
 * Write message m as one size-prefixed frame into buf[0, cap).
 * Returns the frame length (4 + L bytes, > 0), -WIRE_E_BUILD_NO_SPACE when it
 * does not fit, or -WIRE_E_BUILD_BAD_INPUT (unknown type, NULL array with a
 * non-zero count, a string longer than the frame could hold).
 */
ssize_t wire_build(void *buf, size_t cap, const struct wire_msg_in *m);

/* Convenience for C string literals and NUL-terminated input. */
static inline struct wire_str
wire_cstr(const char *s)
{
	struct wire_str w = { s, s ? (uint32_t)strlen(s) : 0 };

	return w;
}

#ifdef __cplusplus
}
#endif

#endif
