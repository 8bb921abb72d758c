/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice wire limits: the one place every bound of schema/sluice.fbs lives.
 *
 * Fixed bounds are part of protocol version 1. Configurable bounds have a
 * default (used when a deployment says nothing) and a hard cap (the most a
 * deployment may allow); struct wire_limits carries the values in force.
 */
#ifndef SLUICE_WIRE_LIMITS_H
#define SLUICE_WIRE_LIMITS_H

#include <stdint.h>

#define WIRE_PROTOCOL_VERSION 1

#define WIRE_IDENTIFIER "SLQ1"
/* [u32 size prefix][u32 root offset]["SLQ1"]: the smallest possible frame. */
#define WIRE_FRAME_HEADER_BYTES 12u

/* Names: charset [A-Za-z0-9_.:-]. */
#define WIRE_QUEUE_NAME_MAX 64u
#define WIRE_TYPE_NAME_MAX 128u
#define WIRE_HEADER_KEY_MAX 64u

/* Printable ASCII text (0x20-0x7e). */
#define WIRE_HEADER_VALUE_MAX 256u
#define WIRE_CONTENT_TYPE_MAX 128u
#define WIRE_UNIQUE_KEY_MAX 128u
#define WIRE_CLIENT_NAME_MAX 64u
#define WIRE_TEXT_MAX 256u /* error/goodbye messages, fail reasons */

#define WIRE_JOB_ID_BYTES 16u
#define WIRE_TOKEN_MAX 256u
#define WIRE_HEADERS_MAX 16u
#define WIRE_PRIORITY_MAX 15u
#define WIRE_ATTEMPTS_MAX 1000u
#define WIRE_DURATION_MS_MAX 604800000u /* 7 days */
#define WIRE_SUBSCRIBE_QUEUES_MAX 16u
#define WIRE_WEIGHT_MAX 1000u
#define WIRE_CREDIT_MAX 65536u

/* Tables on the deepest path: Frame -> EnqueueBatch|Deliver -> Job -> Header. */
#define WIRE_SCHEMA_DEPTH 4u

/* Configurable bounds: default and hard cap. */
#define WIRE_FRAME_BYTES_DEFAULT (1u << 20) /* bytes after the size prefix */
#define WIRE_FRAME_BYTES_CAP (16u << 20)
#define WIRE_PAYLOAD_BYTES_DEFAULT (256u << 10)
#define WIRE_PAYLOAD_BYTES_CAP (8u << 20)
#define WIRE_BATCH_JOBS_DEFAULT 256u
#define WIRE_BATCH_JOBS_CAP 4096u

/* Tables one frame may hold: Frame, message, and per job the job and its headers. */
#define WIRE_TABLES_FOR_BATCH(jobs) (2u + (jobs) * (1u + WIRE_HEADERS_MAX))

/*
 * Bounds in force for one verifier call. Read-only while in use; one
 * instance may be shared by every lcore.
 */
struct wire_limits {
	uint32_t max_frame_bytes;   /* size prefix value L, <= WIRE_FRAME_BYTES_CAP */
	uint32_t max_payload_bytes; /* per job, <= WIRE_PAYLOAD_BYTES_CAP */
	uint32_t max_batch_jobs;    /* per EnqueueBatch, lease ids per Complete/Extend */
	uint32_t max_depth;         /* table nesting, <= WIRE_SCHEMA_DEPTH */
	uint32_t max_tables;        /* tables visited per frame */
};

/* Defaults for every bound. */
extern const struct wire_limits wire_limits_default;

/*
 * Fill *lim from the three configurable bounds (0 = default), deriving depth
 * and table-count limits. Returns 0, or -1 when a value is above its cap.
 */
int wire_limits_init(struct wire_limits *lim, uint32_t max_frame_bytes, uint32_t max_payload_bytes,
		     uint32_t max_batch_jobs);

#endif
