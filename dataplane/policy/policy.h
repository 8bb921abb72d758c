/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ingress policy: who may do what to which queue, and which payloads a queue
 * refuses. Pure functions over a read-only snapshot (struct pol_config),
 * shared by every I/O lcore; replaced whole, never edited in place.
 */
#ifndef SLUICE_POLICY_H
#define SLUICE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

#define POL_GLOBS_MAX 16
#define POL_TYPES_MAX 32
#define POL_CTYPES_MAX 16
#define POL_NAME_MAX 64

/* Payload formats that execute code when deserialized. */
enum pol_serialization {
	POL_SER_NONE = 0,
	POL_SER_PICKLE,       /* Python pickle, protocols 2-5 */
	POL_SER_JAVA,         /* java.io.ObjectOutputStream */
	POL_SER_RUBY_MARSHAL, /* Marshal 4.8 */
	POL_SER_DOTNET_BINARY /* .NET BinaryFormatter */
};

struct pol_principal {
	char name[POL_NAME_MAX + 1];
	uint8_t roles; /* bit (1 << WIRE_ROLE_PRODUCER) | (1 << WIRE_ROLE_CONSUMER) */
	uint8_t n_globs;
	uint8_t n_types; /* 0: every job type */
	uint8_t max_priority;
	uint32_t max_payload_bytes;
	char globs[POL_GLOBS_MAX][POL_NAME_MAX + 1]; /* queue names, '*' matches any run */
	char types[POL_TYPES_MAX][WIRE_TYPE_NAME_MAX + 1];
};

struct pol_queue {
	char name[POL_NAME_MAX + 1];
	uint16_t worker; /* index of the worker lcore that owns it */
	uint16_t index;  /* queue index inside that worker's engine */
	bool allow_code_serialization;
	uint8_t n_ctypes; /* 0: any content type */
	uint32_t max_payload_bytes;
	char ctypes[POL_CTYPES_MAX][WIRE_CONTENT_TYPE_MAX + 1];
};

/* Match name against a glob of '*' (any run, possibly empty) and literal bytes. */
bool pol_glob_match(const char *glob, const char *name, uint32_t len);

/* Which code-executing serialization payload starts with, or POL_SER_NONE. */
enum pol_serialization pol_sniff_serialization(const uint8_t *p, uint32_t len);
const char *pol_serialization_name(enum pol_serialization s);

/* Do a and b grant exactly the same (name, roles, globs, types, limits)? */
bool pol_principal_equal(const struct pol_principal *a, const struct pol_principal *b);

/* May principal p use queue name (any of its globs)? */
bool pol_queue_allowed(const struct pol_principal *p, const char *name, uint32_t len);

/*
 * The status for one job of a verified EnqueueBatch from principal p bound
 * for queue q (NULL: not configured): OK, or the first refusal in this order:
 * UNKNOWN_QUEUE, FORBIDDEN (queue or job type), TOO_LARGE, PRIORITY_TOO_HIGH,
 * CONTENT_TYPE_REFUSED, REFUSED_SERIALIZATION.
 */
enum wire_status pol_check_job(const struct pol_principal *p, const struct pol_queue *q,
			       const struct wire_job *job);

#endif
