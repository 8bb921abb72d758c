/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "policy.h"

bool
pol_glob_match(const char *glob, const char *name, uint32_t len)
{
	/* Iterative matcher with one backtrack point: linear in practice, no recursion. */
	const char *star = NULL;
	uint32_t i = 0, star_i = 0;

	while (i < len) {
		if (*glob == '*') {
			star = ++glob;
			star_i = i;
		} else if (*glob && *glob == name[i]) {
			glob++;
			i++;
		} else if (star) {
			glob = star;
			i = ++star_i;
		} else {
			return false;
		}
	}
	while (*glob == '*')
		glob++;
	return *glob == '\0';
}

enum pol_serialization
pol_sniff_serialization(const uint8_t *p, uint32_t len)
{
	static const uint8_t java[] = { 0xac, 0xed, 0x00, 0x05 };
	/* SerializationHeaderRecord: type 0, root id 1, header id -1, version 1.0 */
	static const uint8_t dotnet[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
					  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

	/* PROTO opcode 0x80 then the protocol number. */
	if (len >= 2 && p[0] == 0x80 && p[1] >= 2 && p[1] <= 5)
		return POL_SER_PICKLE;
	if (len >= sizeof(java) && memcmp(p, java, sizeof(java)) == 0)
		return POL_SER_JAVA;
	if (len >= 2 && p[0] == 0x04 && p[1] == 0x08)
		return POL_SER_RUBY_MARSHAL;
	if (len >= sizeof(dotnet) && memcmp(p, dotnet, sizeof(dotnet)) == 0)
		return POL_SER_DOTNET_BINARY;
	return POL_SER_NONE;
}

const char *
pol_serialization_name(enum pol_serialization s)
{
	static const char *const names[] = { "none", "python-pickle", "java-serialization",
					     "ruby-marshal", "dotnet-binaryformatter" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

bool
pol_queue_allowed(const struct pol_principal *p, const char *name, uint32_t len)
{
	unsigned i;

	for (i = 0; i < p->n_globs; i++)
		if (pol_glob_match(p->globs[i], name, len))
			return true;
	return false;
}

static bool
type_allowed(const struct pol_principal *p, struct wire_str t)
{
	unsigned i;

	if (p->n_types == 0)
		return true;
	for (i = 0; i < p->n_types; i++)
		if (strlen(p->types[i]) == t.len && memcmp(p->types[i], t.p, t.len) == 0)
			return true;
	return false;
}

static bool
ctype_allowed(const struct pol_queue *q, struct wire_str ct)
{
	unsigned i;

	if (q->n_ctypes == 0)
		return true;
	for (i = 0; i < q->n_ctypes; i++)
		if (ct.p && strlen(q->ctypes[i]) == ct.len &&
		    memcmp(q->ctypes[i], ct.p, ct.len) == 0)
			return true;
	return false;
}

enum wire_status
pol_check_job(const struct pol_principal *p, const struct pol_queue *q, const struct wire_job *job)
{
	struct wire_str queue = wire_job_queue(job);
	struct wire_bytes payload = wire_job_payload(job);

	if (!q)
		return WIRE_STATUS_UNKNOWN_QUEUE;
	if (!pol_queue_allowed(p, queue.p, queue.len) || !type_allowed(p, wire_job_type(job)))
		return WIRE_STATUS_FORBIDDEN;
	if (payload.len > p->max_payload_bytes || payload.len > q->max_payload_bytes)
		return WIRE_STATUS_TOO_LARGE;
	if (wire_job_priority(job) > p->max_priority)
		return WIRE_STATUS_PRIORITY_TOO_HIGH;
	if (!ctype_allowed(q, wire_job_content_type(job)))
		return WIRE_STATUS_CONTENT_TYPE_REFUSED;
	if (!q->allow_code_serialization &&
	    pol_sniff_serialization(payload.p, payload.len) != POL_SER_NONE)
		return WIRE_STATUS_REFUSED_SERIALIZATION;
	return WIRE_STATUS_OK;
}

bool
pol_principal_equal(const struct pol_principal *a, const struct pol_principal *b)
{
	unsigned i;

	if (strcmp(a->name, b->name) != 0 || a->roles != b->roles || a->n_globs != b->n_globs ||
	    a->n_types != b->n_types || a->max_priority != b->max_priority ||
	    a->max_payload_bytes != b->max_payload_bytes)
		return false;
	for (i = 0; i < a->n_globs; i++)
		if (strcmp(a->globs[i], b->globs[i]) != 0)
			return false;
	for (i = 0; i < a->n_types; i++)
		if (strcmp(a->types[i], b->types[i]) != 0)
			return false;
	return true;
}
