/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Job objects: size, copy from a verified wire job, views into data[].
 *
 *   data[]: | queue | type | content type | unique key | headers ... | payload |
 *   header: | u8 key len | u16 value len (host order) | key | value |
 *
 * Lengths fit their fields because the verifier bounds them (names <= 128,
 * text <= 256, 16 headers of at most 3 + 64 + 256 bytes).
 */
#include <stddef.h>
#include <string.h>

#include "eng_pvt.h"

#define HDR_FIXED 3u /* u8 key length + u16 value length */

static size_t
headers_bytes(const struct wire_job *j)
{
	uint32_t i, n = wire_job_headers_len(j);
	size_t sum = 0;

	for (i = 0; i < n; i++) {
		const struct wire_header *h = wire_job_headers_at(j, i);

		sum += HDR_FIXED + wire_header_key(h).len + wire_header_value(h).len;
	}
	return sum;
}

size_t
eng_job_size(const struct wire_job *j)
{
	return sizeof(struct eng_job) + wire_job_queue(j).len + wire_job_type(j).len +
	       wire_job_content_type(j).len + wire_job_unique_key(j).len + headers_bytes(j) +
	       wire_job_payload(j).len;
}

static uint8_t *
put(uint8_t *p, const void *src, size_t n)
{
	if (n)
		memcpy(p, src, n);
	return p + n;
}

/* Wall-clock not_before to engine clock; 0 stays "ready now", results saturate. */
static uint64_t
not_before_to_engine(uint64_t wall, int64_t wall_to_engine_ms)
{
	uint64_t mag;

	if (!wall)
		return 0;
	if (wall_to_engine_ms >= 0) {
		mag = (uint64_t)wall_to_engine_ms;
		return wall > UINT64_MAX - mag ? UINT64_MAX : wall + mag;
	}
	/* A time before the engine's epoch has passed: ready now. */
	mag = (uint64_t)(-(wall_to_engine_ms + 1)) + 1;
	return wall <= mag ? 0 : wall - mag;
}

void
eng_job_fill(struct eng_job *job, const struct wire_job *j, int64_t wall_to_engine_ms)
{
	struct wire_str queue = wire_job_queue(j), type = wire_job_type(j);
	struct wire_str ctype = wire_job_content_type(j), ukey = wire_job_unique_key(j);
	struct wire_bytes payload = wire_job_payload(j);
	uint32_t i, n = wire_job_headers_len(j);
	uint8_t *p = job->data, *hdr;

	memset(job, 0, sizeof(*job));
	job->id = wire_job_id(j);
	job->not_before_ms = not_before_to_engine(wire_job_not_before_ms(j), wall_to_engine_ms);
	job->ttl_ms = wire_job_ttl_ms(j);
	job->lease_timeout_ms = wire_job_lease_timeout_ms(j);
	job->unique_ttl_ms = wire_job_unique_ttl_ms(j);
	job->max_attempts = wire_job_max_attempts(j);
	job->priority = wire_job_priority(j);
	job->n_headers = (uint8_t)n;
	job->queue_len = (uint8_t)queue.len;
	job->type_len = (uint8_t)type.len;
	job->ctype_len = (uint8_t)ctype.len;
	job->ukey_len = (uint8_t)ukey.len;
	job->payload_len = payload.len;

	p = put(p, queue.p, queue.len);
	p = put(p, type.p, type.len);
	p = put(p, ctype.p, ctype.len);
	p = put(p, ukey.p, ukey.len);
	hdr = p;
	for (i = 0; i < n; i++) {
		const struct wire_header *h = wire_job_headers_at(j, i);
		struct wire_str k = wire_header_key(h), v = wire_header_value(h);
		uint16_t vlen = (uint16_t)v.len;

		*p++ = (uint8_t)k.len;
		p = put(p, &vlen, sizeof(vlen));
		p = put(p, k.p, k.len);
		p = put(p, v.p, v.len);
	}
	job->headers_len = (uint16_t)(p - hdr);
	p = put(p, payload.p, payload.len);
	job->data_len = (uint32_t)(p - job->data);
}

static const uint8_t *
headers_at(const struct eng_job *job)
{
	return job->data + job->queue_len + job->type_len + job->ctype_len + job->ukey_len;
}

struct wire_str
eng_job_queue(const struct eng_job *job)
{
	struct wire_str s = { (const char *)job->data, job->queue_len };

	return s;
}

struct wire_str
eng_job_type(const struct eng_job *job)
{
	struct wire_str s = { (const char *)job->data + job->queue_len, job->type_len };

	return s;
}

struct wire_str
eng_job_content_type(const struct eng_job *job)
{
	struct wire_str s = { NULL, 0 };

	if (job->ctype_len) {
		s.p = (const char *)job->data + job->queue_len + job->type_len;
		s.len = job->ctype_len;
	}
	return s;
}

struct wire_str
eng_job_unique_key(const struct eng_job *job)
{
	struct wire_str s = { NULL, 0 };

	if (job->ukey_len) {
		s.p = (const char *)job->data + job->queue_len + job->type_len + job->ctype_len;
		s.len = job->ukey_len;
	}
	return s;
}

struct wire_bytes
eng_job_payload(const struct eng_job *job)
{
	struct wire_bytes b = { NULL, 0 };

	if (job->payload_len) {
		b.p = headers_at(job) + job->headers_len;
		b.len = job->payload_len;
	}
	return b;
}

void
eng_job_header(const struct eng_job *job, unsigned i, struct wire_str *key, struct wire_str *value)
{
	const uint8_t *p = headers_at(job);
	uint16_t vlen;
	uint8_t klen;

	/* At most WIRE_HEADERS_MAX steps: headers are variable-length. */
	for (;;) {
		klen = p[0];
		memcpy(&vlen, p + 1, sizeof(vlen));
		if (!i--)
			break;
		p += HDR_FIXED + klen + vlen;
	}
	key->p = (const char *)p + HDR_FIXED;
	key->len = klen;
	value->p = (const char *)p + HDR_FIXED + klen;
	value->len = vlen;
}
