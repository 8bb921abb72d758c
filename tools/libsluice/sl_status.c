/* SPDX-License-Identifier: BSD-3-Clause */
/* Error names, status classes and advice, job id text (sluice.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "sluice.h"
#include "wire.h"

/* sluice.h takes its statuses from the same rows as the schema library. */
_Static_assert((int)SLUICE_STATUS__COUNT == (int)WIRE_STATUS__COUNT, "status tables differ");
_Static_assert((int)SLUICE_STATUS_EXPIRED == (int)WIRE_STATUS_EXPIRED, "status tables differ");
_Static_assert((int)SLUICE_PRODUCER == (int)WIRE_ROLE_PRODUCER &&
		       (int)SLUICE_BOTH == (int)WIRE_ROLE_BOTH,
	       "role numbers differ");

static const char *const err_names[SLUICE_E__COUNT] = { [SLUICE_OK] = "ok",
#define SLUICE_ERR_NAME(sym, name) [SLUICE_E_##sym] = name,
							SLUICE_ERRORS(SLUICE_ERR_NAME)
#undef SLUICE_ERR_NAME
};

const char *
sluice_strerror(int err)
{
	if (err < 0)
		err = -err;
	return err < SLUICE_E__COUNT ? err_names[err] : "unknown_error";
}

const char *
sluice_status_name(unsigned status)
{
	const char *n = wire_status_name(status);

	return n ? n : "unknown";
}

enum sluice_status_class
sluice_status_class(unsigned status)
{
	switch (status) {
	case SLUICE_STATUS_OK:
	case SLUICE_STATUS_DUPLICATE:
		return SLUICE_CLASS_OK;
	/* PROTOCOL.md: back off and retry, or retry elsewhere or later (idempotent by id). */
	case SLUICE_STATUS_QUEUE_FULL:
	case SLUICE_STATUS_RATE_LIMITED:
	case SLUICE_STATUS_SHUTTING_DOWN:
	case SLUICE_STATUS_UNAVAILABLE:
	case SLUICE_STATUS_INTERNAL:
	case SLUICE_STATUS_TIMEOUT:
		return SLUICE_CLASS_RETRY;
	case SLUICE_STATUS_UNAUTHENTICATED:
	case SLUICE_STATUS_BANNED:
	case SLUICE_STATUS_TOO_MANY_CONNECTIONS:
		return SLUICE_CLASS_AUTH;
	default:
		return SLUICE_CLASS_REFUSED;
	}
}

bool
sluice_status_ok(unsigned status)
{
	return sluice_status_class(status) == SLUICE_CLASS_OK;
}

const char *
sluice_status_hint(unsigned status)
{
	switch (status) {
	case SLUICE_STATUS_OK:
		return "accepted";
	case SLUICE_STATUS_DUPLICATE:
		return "already accepted earlier with this id (counts as success)";
	case SLUICE_STATUS_QUEUE_FULL:
		return "the queue is at its bound: back off and retry, or drain it";
	case SLUICE_STATUS_RATE_LIMITED:
		return "over the rate limit: back off and retry";
	case SLUICE_STATUS_UNAUTHENTICATED:
		return "the token was refused: check --token / SLUICE_TOKEN";
	case SLUICE_STATUS_FORBIDDEN:
		return "this token may not use that queue, job type or role: ask the operator";
	case SLUICE_STATUS_UNKNOWN_QUEUE:
		return "no such queue is configured: check the queue name";
	case SLUICE_STATUS_TOO_LARGE:
		return "payload, frame or batch above the appliance's limit: send less";
	case SLUICE_STATUS_INVALID:
		return "a field was out of bounds or the frame was malformed";
	case SLUICE_STATUS_REFUSED_SERIALIZATION:
		return "payload looks like pickle/Java/Marshal serialization, refused by policy";
	case SLUICE_STATUS_CONTENT_TYPE_REFUSED:
		return "content type not allowed on this queue";
	case SLUICE_STATUS_PRIORITY_TOO_HIGH:
		return "priority above what this token may use";
	case SLUICE_STATUS_SHUTTING_DOWN:
		return "the appliance is draining: retry later or elsewhere";
	case SLUICE_STATUS_LEASE_NOT_FOUND:
		return "no such lease (already settled, or from a lost session)";
	case SLUICE_STATUS_LEASE_EXPIRED:
		return "the lease ran out; the job went back to the queue";
	case SLUICE_STATUS_TIMEOUT:
		return "a deadline passed";
	case SLUICE_STATUS_UNAVAILABLE:
		return "appliance unavailable or session lost: retry later (same id is safe)";
	case SLUICE_STATUS_INTERNAL:
		return "appliance fault: retry later (same id is safe)";
	case SLUICE_STATUS_TOO_MANY_CONNECTIONS:
		return "this token's connection limit is reached: close other sessions";
	case SLUICE_STATUS_BANNED:
		return "this address is banned after repeated auth failures: ask the operator";
	case SLUICE_STATUS_UNIQUE_CONFLICT:
		return "a live job holds this unique key";
	case SLUICE_STATUS_EXPIRED:
		return "the job's TTL ran out before it was accepted";
	default:
		return "unknown status";
	}
}

void
sluice_id_format(const struct sluice_job_id *id, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < SLUICE_JOB_ID_BYTES; i++) {
		out[2 * i] = hex[id->b[i] >> 4];
		out[2 * i + 1] = hex[id->b[i] & 15];
	}
	out[32] = '\0';
}

int
sluice_id_parse(const char *s, struct sluice_job_id *id)
{
	struct sluice_job_id v;
	uint8_t any = 0;
	unsigned i;

	if (!s || wire_unhex(s, strlen(s), v.b, SLUICE_JOB_ID_BYTES))
		return -SLUICE_E_INVALID;
	for (i = 0; i < SLUICE_JOB_ID_BYTES; i++)
		any |= v.b[i];
	if (!any) /* all zero means "absent" on the wire */
		return -SLUICE_E_INVALID;
	*id = v;
	return 0;
}

int
sluice_id_random(struct sluice_job_id *id)
{
	size_t got = 0;
	uint8_t any = 0;
	unsigned i;

	while (got < sizeof(id->b)) {
		ssize_t n = getrandom(id->b + got, sizeof(id->b) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -SLUICE_E_INVALID;
		}
		got += (size_t)n;
	}
	for (i = 0; i < sizeof(id->b); i++)
		any |= id->b[i];
	if (!any) /* 2^-128, but zero would mean "absent" */
		id->b[15] = 1;
	return 0;
}
