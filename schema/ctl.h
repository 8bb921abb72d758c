/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice control messages (schema/control.fbs): strict verifier, bounds and
 * zero-copy accessors. One message per SOCK_SEQPACKET datagram, in the
 * size-prefixed layout of wire frames with its own identifier:
 *
 *   0        4             8        12
 *   +--------+-------------+--------+---------------------------------+
 *   | u32 L  | u32 root ofs| "SLC1" | vtables, tables, strings, ...    |
 *   +--------+-------------+--------+---------------------------------+
 *   |<-4->|<------------- L bytes, L <= CTL_MSG_BYTES_MAX ----------->|
 *
 * Rule: call ctl_verify() on exactly the datagram's bytes and read nothing
 * unless it returned 0. Errors are the wire verifier's (-WIRE_E_<check>,
 * wire_error_name()): the same checks, shared code (wire_verify_pvt.h).
 *
 * Accessors come from ctl_schema.def through wire_gen.h:
 * wire_ctl_<table>_<field>(t), e.g. wire_ctl_queue_info_ready(qi).
 */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CTL_PROTOCOL_VERSION 1
#define CTL_IDENTIFIER "SLC1"

/* Bounds of control.fbs (its header comment repeats them). */
#define CTL_MSG_BYTES_MAX (128u << 10) /* L: bytes after the size prefix */
#define CTL_QUEUES_MAX 256u            /* QueueInfo per QueueList */
#define CTL_REDRIVE_MAX 67108864u      /* RedriveQueue.max; 0 = all */
/* The ctld <-> sluiced link (control.fbs "sluice-ctld <-> sluiced"). */
#define CTL_SPEC_MAX 1024u       /* bytes of one Setup queue spec */
#define CTL_GRANTS_MAX 64u       /* Grant per Grants message */
#define CTL_CREDS_MAX 16384u     /* creds per Grants message */
#define CTL_GLOBS_MAX 16u        /* Grant.queues */
#define CTL_TYPES_MAX 32u        /* Grant.types */
#define CTL_BANS_MAX 4096u       /* Bans.addrs */
#define CTL_TICKET_KEY_BYTES 36u /* u32 id + 32 key bytes */
#define CTL_TICKET_KEYS_MAX 3u   /* keys per TicketKeys */
#define CTL_CRED_BITS 48         /* a credential id; the grant number above it */
#define CTL_SUBJECT_MAX 256u     /* Authenticate.cert_subject bytes */
#define CTL_LCORES_MAX 16u       /* LcoreCounters per CounterList */
#define CTL_COUNTERS_MAX 256u    /* names (and values) per LcoreCounters */
#define CTL_CONNS_MAX 256u       /* ConnInfo per ConnList */
#define CTL_JOBS_MAX 64u         /* JobInfo per JobList; JobRequest.max */
#define CTL_JOB_OPS 4u           /* JobRequest.op: 1 show, 2 dead, 3 retry, 4 delete */
#define CTL_CRED_MASK ((UINT64_C(1) << CTL_CRED_BITS) - 1)
/* Queue names and text: WIRE_QUEUE_NAME_MAX and WIRE_TEXT_MAX, as on the wire. */
/* Tables on the deepest path: Control -> QueueList|ActionResult -> QueueInfo. */
#define CTL_SCHEMA_DEPTH 3u
/* Tables one message may hold: Control, the message and its QueueInfos or Grants. */
#define CTL_TABLES_MAX (2u + CTL_QUEUES_MAX)
/* A datagram buffer that holds the largest message and shows a larger one. */
#define CTL_DGRAM_BYTES (CTL_MSG_BYTES_MAX + 4 + 1)

enum ctl_status {
#define CTL_STATUS(sym, name) CTL_STATUS_##sym,
#include "ctl_status.def"
#undef CTL_STATUS
	CTL_STATUS__COUNT
};

/* Schema name of a status ("UnknownQueue"), NULL when out of range. */
const char *ctl_status_name(unsigned status);

enum ctl_msg {
	CTL_MSG_NONE = 0,
#define CTL_MSG(sym, tbl, name, req) CTL_MSG_##sym,
#include "ctl_msg.def"
#undef CTL_MSG
	CTL_MSG__COUNT
};

/* Schema name of a message type ("PauseQueue"), NULL when out of range. */
const char *ctl_msg_name(unsigned type);
/*
 * A QueueInfo's figures after `paused`, in its order (ready, delayed,
 * retry_wait, leased, dead, bytes, then the counters enqueued .. purged),
 * and their schema names. For printing one the same way everywhere.
 */
#define CTL_QUEUE_VALUES 15
struct wire_ctl_queue_info;
void ctl_queue_info_values(const struct wire_ctl_queue_info *qi, uint64_t v[CTL_QUEUE_VALUES]);
extern const char *const ctl_queue_info_names[CTL_QUEUE_VALUES];

/* True for the messages a control client sends (ListQueues ... RedriveQueue). */
bool ctl_msg_is_request(unsigned type);

/*
 * Verify one message: exactly the len bytes at msg. Never reads outside
 * them. Thread-safe. 0 when well formed and within every bound, else
 * -WIRE_E_<check>; *err_at (if not NULL) is then the byte offset of the
 * item that failed the check.
 */
int ctl_verify(const void *msg, size_t len, uint32_t *err_at);

/* ---- field ids and accessors ---- */

#define WIRE_ROWS "ctl_schema.def"
#include "wire_gen.h"
#undef WIRE_ROWS

/* The union's value field (its type is the row msg_type, at id 1). */
enum { wire_fid_ctl_control_msg = 2 };

/* Root table of a verified message. */
static inline const struct wire_ctl_control *
ctl_root(const void *msg)
{
	return (const struct wire_ctl_control *)wire_deref((const uint8_t *)msg + 4);
}

/* ctl_<msg>(root): the message if the root carries that type, else NULL. */
#define CTL_MSG(sym, tbl, name, req)                                                               \
	static inline const struct wire_##tbl *tbl(const struct wire_ctl_control *r)               \
	{                                                                                          \
		if (wire_ctl_control_msg_type(r) != CTL_MSG_##sym)                                 \
			return NULL;                                                               \
		return (const struct wire_##tbl *)wire_field_deref(r, wire_fid_ctl_control_msg);   \
	}
#include "ctl_msg.def"
#undef CTL_MSG

#ifdef __cplusplus
}
#endif

#endif
