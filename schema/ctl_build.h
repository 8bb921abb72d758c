/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builder for schema/control.fbs messages: describe one in plain C structs,
 * get a size-prefixed message (one datagram) in a caller-provided buffer.
 * No allocation; thread-safe. Like wire_build(), it encodes what it is
 * given, bounds included, so tests can build messages ctl_verify() refuses.
 * Scalars equal to their default are omitted; a wire_str with p == NULL is
 * an absent field.
 */
#ifndef SLUICE_CTL_BUILD_H
#define SLUICE_CTL_BUILD_H

#include <sys/types.h>

#include "ctl.h"
#include "wire_build.h" /* wire_cstr() */

#ifdef __cplusplus
extern "C" {
#endif

struct ctl_queue_info_in {
	struct wire_str name;
	bool paused;
	uint32_t ready, delayed, retry_wait, leased, dead;
	uint64_t bytes;
	uint64_t enqueued, delivered, completed, failed, dead_lettered, expired, lease_timeouts,
		redriven, purged;
};

/* One principal's policy in a Grants message. */
struct ctl_grant_in {
	struct wire_str name;
	uint8_t roles;                 /* bit 1 producer, bit 2 consumer */
	uint8_t max_priority;          /* 0..15 */
	const struct wire_str *queues; /* globs */
	uint32_t n_queues;
	const struct wire_str *types; /* 0: any type */
	uint32_t n_types;
	uint32_t max_payload, jobs_per_s, jobs_burst, max_conns;
	uint64_t bytes_per_s, bytes_burst;
};

/* One I/O lcore's counters in a CounterList. */
struct ctl_lcore_counters_in {
	uint32_t io;
	const struct wire_str *names;
	const uint64_t *values;
	uint32_t n;
};

/* One connection in a ConnList. */
struct ctl_conn_info_in {
	uint32_t io, slot, gen, addr, age_ms;
	uint16_t port;
	uint8_t state, role;
	struct wire_str principal; /* p NULL: absent */
	uint64_t cred;
};

/* One job in a JobList. */
struct ctl_job_info_in {
	struct wire_jobid id;
	uint8_t state, priority;
	uint16_t dead_reason, attempts, max_attempts;
	struct wire_str type, content_type; /* p NULL: absent */
	uint32_t payload_bytes;
	uint64_t enqueued_ms;
};

/* One message; fill the member the type names. */
struct ctl_msg_in {
	enum ctl_msg type;
	uint64_t seq;
	union {
		/* ListQueues (name.p NULL: every queue), Pause/Resume/Purge/RedriveQueue */
		struct {
			struct wire_str name;
			uint32_t max; /* RedriveQueue only; 0 = all */
		} queue;
		struct {
			const struct ctl_queue_info_in *queues;
			uint32_t n;
		} queue_list;
		struct {
			uint32_t count;
			struct ctl_queue_info_in queue;
		} action_result;
		struct {
			uint16_t code; /* enum ctl_status */
			struct wire_str message;
		} error;
		struct {
			uint32_t version, pid, io_lcores;
		} attach;
		struct {
			const struct wire_str *queues; /* sluiced --queue specs */
			uint32_t n;
			uint32_t ticket_lifetime_s;
			uint32_t listen_addr; /* host order */
			uint16_t listen_port; /* 0: no listener section */
			uint8_t client_cert;
			struct wire_str cert_file, key_file, client_ca_file; /* p NULL: absent */
		} setup;
		struct {
			uint64_t gen;
			bool first, last;
			const struct ctl_grant_in *grants;
			uint32_t n;
			const uint64_t *creds; /* (grant number << 48) | credential id */
			uint32_t n_creds;
		} grants;
		struct {
			uint64_t id;
			uint8_t role;
			uint32_t addr;                 /* IPv4, host order */
			struct wire_bytes token;       /* p NULL: absent */
			struct wire_bytes cert_sha256; /* p NULL: absent */
			struct wire_str cert_subject;
		} authenticate;
		struct {
			uint64_t id;
			uint16_t status; /* enum wire_status */
			struct wire_str principal;
			uint64_t cred;
		} auth_result;
		struct {
			const uint32_t *addrs; /* IPv4, host order */
			uint32_t n;
		} bans;
		struct {
			struct wire_bytes keys; /* n x CTL_TICKET_KEY_BYTES */
		} ticket_keys;
		struct {
			const struct ctl_lcore_counters_in *lcores;
			uint32_t n;
		} counter_list; /* ListCounters and ListConns have no fields */
		struct {
			uint32_t io, slot, gen;
		} kick_conn;
		struct {
			struct wire_str queue;
			uint8_t op; /* 1 show, 2 dead, 3 retry, 4 delete */
			struct wire_jobid id;
			uint32_t skip, max;
		} job_request;
		struct {
			struct ctl_queue_info_in queue;
			const struct ctl_job_info_in *jobs;
			uint32_t n, total;
		} job_list;
		struct {
			const struct ctl_conn_info_in *conns;
			uint32_t n;
			bool truncated;
		} conn_list;
	} u;
};

/*
 * Write m as one size-prefixed message into buf[0, cap). Returns its length
 * (> 0), -WIRE_E_BUILD_NO_SPACE when it does not fit, or
 * -WIRE_E_BUILD_BAD_INPUT (unknown type, NULL array with a non-zero count).
 */
ssize_t ctl_build(void *buf, size_t cap, const struct ctl_msg_in *m);

#ifdef __cplusplus
}
#endif

#endif
