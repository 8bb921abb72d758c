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
