/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Read every field of a verified frame twice: once through sluice's
 * zero-copy accessors (schema/wire.h) and once through the flatc-generated
 * C++ accessors, folding what is read into a digest. Both walks visit the
 * fields in the same order and fold the same things, so on a frame both
 * verifiers accept the two digests must be equal.
 *
 * What is folded, per item:
 *   scalar            its value (schema default when absent)
 *   string / bytes    present?, position of the first byte in the frame,
 *                     length, first and last byte (strings: also the NUL)
 *   table             present?, position in the frame, then its fields
 *   scalar vectors    count, then every element
 * Positions instead of contents: equal position and length means equal
 * bytes, and touching the first and last byte is enough for ASan to see a
 * range that leaves the frame. Every pointer is also checked against the
 * frame explicitly (digest::oob), so builds without ASan catch it too.
 *
 * Used by the mutation test and the fuzz targets. C++ only (the .h is for
 * the format lint, which checks *.c, *.h and *.cc).
 */
#ifndef SLUICE_TESTS_WIRE_WALK_H
#define SLUICE_TESTS_WIRE_WALK_H

#include <cstddef>
#include <cstdint>

extern "C" {
#include "wire.h"
}
#include "sluice_generated.h"

namespace walk
{

namespace fb = sluice::wire;

struct digest {
	const uint8_t *base; /* first byte of the frame (size prefix) */
	size_t len;          /* 4 + L */
	uint64_t h;
	uint64_t items;
	bool oob; /* a pointer or range left [base, base + len) */
};

static inline digest
start(const void *frame, size_t len)
{
	digest d = { static_cast<const uint8_t *>(frame), len, 0xcbf29ce484222325ULL, 0, false };

	return d;
}

/*
 * Fold item number i with value v: h += v * K_i, K_i odd. An odd K_i is
 * invertible mod 2^64, so any one value read differently changes h; the
 * item count catches a different shape. No serial multiply chain: the
 * walks run on every accepted mutation of a 25 KB batch.
 */
static inline void
mix(digest *d, uint64_t v)
{
	d->h += v * (0x9e3779b97f4a7c15ULL ^ (d->items << 1));
	d->items++;
}

/* n bytes at p must lie inside the frame; returns p's position. */
static inline uint64_t
pos_of(digest *d, const void *p, size_t n)
{
	/* As integers: pointers into different objects have no defined order. */
	uintptr_t b = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(d->base);

	if (b < base || b - base > d->len || n > d->len - (b - base)) {
		d->oob = true;
		return UINT64_MAX;
	}
	return b - base;
}

/* present, position, length, first and last byte; NUL after strings. */
static inline void
range(digest *d, const uint8_t *p, uint32_t n, bool is_string)
{
	mix(d, p != nullptr);
	if (!p)
		return;
	mix(d, pos_of(d, p, static_cast<size_t>(n) + (is_string ? 1 : 0)));
	mix(d, n);
	if (d->oob)
		return;
	if (n) {
		mix(d, p[0]);
		mix(d, p[n - 1]);
	}
	if (is_string)
		mix(d, p[n]);
}

/* A table: present, position (4 bytes of soffset inside the frame). */
static inline bool
table(digest *d, const void *t)
{
	mix(d, t != nullptr);
	if (!t)
		return false;
	mix(d, pos_of(d, t, 4));
	return !d->oob;
}

/* ---------------- sluice accessors ---------------- */

static inline void
s_str(digest *d, struct wire_str s)
{
	range(d, reinterpret_cast<const uint8_t *>(s.p), s.len, true);
}

static inline void
s_bytes(digest *d, struct wire_bytes b)
{
	range(d, b.p, b.len, false);
}

static inline void
s_id(digest *d, struct wire_jobid id)
{
	mix(d, id.hi);
	mix(d, id.lo);
}

static inline void
s_job(digest *d, const struct wire_job *j)
{
	uint32_t i, n;

	if (!table(d, j))
		return;
	s_str(d, wire_job_queue(j));
	s_str(d, wire_job_type(j));
	s_id(d, wire_job_id(j));
	s_bytes(d, wire_job_payload(j));
	s_str(d, wire_job_content_type(j));
	mix(d, wire_job_priority(j));
	mix(d, wire_job_not_before_ms(j));
	mix(d, wire_job_ttl_ms(j));
	mix(d, wire_job_max_attempts(j));
	mix(d, wire_job_lease_timeout_ms(j));
	s_str(d, wire_job_unique_key(j));
	mix(d, wire_job_unique_ttl_ms(j));
	n = wire_job_headers_len(j);
	mix(d, n);
	for (i = 0; i < n && !d->oob; i++) {
		const struct wire_header *h = wire_job_headers_at(j, i);

		if (!table(d, h))
			return;
		s_str(d, wire_header_key(h));
		s_str(d, wire_header_value(h));
	}
}

/* Digest of a frame that wire_verify() accepted, read through wire.h. */
static inline digest
sluice_frame(const void *frame, size_t len)
{
	digest d = start(frame, len);
	const struct wire_frame *f = wire_frame_root(frame);
	uint32_t i, n;

	if (!table(&d, f))
		return d;
	mix(&d, wire_frame_msg_type(f));
	if (!table(&d, wire_frame_msg(f)))
		return d;
	switch (wire_frame_msg_type(f)) {
	case WIRE_MSG_HELLO: {
		const struct wire_hello *m = wire_frame_hello(f);

		mix(&d, wire_hello_version(m));
		mix(&d, wire_hello_role(m));
		s_bytes(&d, wire_hello_token(m));
		s_str(&d, wire_hello_client_name(m));
		break;
	}
	case WIRE_MSG_WELCOME: {
		const struct wire_welcome *m = wire_frame_welcome(f);

		mix(&d, wire_welcome_version(m));
		mix(&d, wire_welcome_session_id(m));
		mix(&d, wire_welcome_max_frame_bytes(m));
		mix(&d, wire_welcome_max_batch_jobs(m));
		mix(&d, wire_welcome_heartbeat_ms(m));
		s_str(&d, wire_welcome_server_name(m));
		break;
	}
	case WIRE_MSG_ENQUEUE_BATCH: {
		const struct wire_enqueue_batch *m = wire_frame_enqueue_batch(f);

		mix(&d, wire_enqueue_batch_seq(m));
		n = wire_enqueue_batch_jobs_len(m);
		mix(&d, n);
		for (i = 0; i < n && !d.oob; i++)
			s_job(&d, wire_enqueue_batch_jobs_at(m, i));
		break;
	}
	case WIRE_MSG_ENQUEUE_ACK: {
		const struct wire_enqueue_ack *m = wire_frame_enqueue_ack(f);

		mix(&d, wire_enqueue_ack_seq(m));
		n = wire_enqueue_ack_status_len(m);
		mix(&d, n);
		for (i = 0; i < n; i++)
			mix(&d, wire_enqueue_ack_status_at(m, i));
		n = wire_enqueue_ack_ids_len(m);
		mix(&d, n);
		for (i = 0; i < n; i++)
			s_id(&d, wire_enqueue_ack_ids_at(m, i));
		break;
	}
	case WIRE_MSG_SUBSCRIBE: {
		const struct wire_subscribe *m = wire_frame_subscribe(f);

		n = wire_subscribe_queues_len(m);
		mix(&d, n);
		for (i = 0; i < n && !d.oob; i++) {
			const struct wire_queue_weight *q = wire_subscribe_queues_at(m, i);

			if (!table(&d, q))
				break;
			s_str(&d, wire_queue_weight_queue(q));
			mix(&d, wire_queue_weight_weight(q));
		}
		mix(&d, wire_subscribe_prefetch(m));
		break;
	}
	case WIRE_MSG_CREDIT:
		mix(&d, wire_credit_credit(wire_frame_credit(f)));
		break;
	case WIRE_MSG_DELIVER: {
		const struct wire_deliver *m = wire_frame_deliver(f);

		mix(&d, wire_deliver_lease_id(m));
		mix(&d, wire_deliver_attempt(m));
		mix(&d, wire_deliver_lease_timeout_ms(m));
		mix(&d, wire_deliver_enqueued_ms(m));
		s_job(&d, wire_deliver_job(m));
		break;
	}
	case WIRE_MSG_COMPLETE: {
		const struct wire_complete *m = wire_frame_complete(f);

		mix(&d, wire_complete_seq(m));
		n = wire_complete_lease_ids_len(m);
		mix(&d, n);
		for (i = 0; i < n; i++)
			mix(&d, wire_complete_lease_ids_at(m, i));
		break;
	}
	case WIRE_MSG_FAIL: {
		const struct wire_fail *m = wire_frame_fail(f);

		mix(&d, wire_fail_seq(m));
		mix(&d, wire_fail_lease_id(m));
		s_str(&d, wire_fail_reason(m));
		mix(&d, wire_fail_retry_delay_ms(m));
		mix(&d, wire_fail_dead(m));
		break;
	}
	case WIRE_MSG_EXTEND_LEASE: {
		const struct wire_extend_lease *m = wire_frame_extend_lease(f);

		mix(&d, wire_extend_lease_seq(m));
		n = wire_extend_lease_lease_ids_len(m);
		mix(&d, n);
		for (i = 0; i < n; i++)
			mix(&d, wire_extend_lease_lease_ids_at(m, i));
		mix(&d, wire_extend_lease_extend_ms(m));
		break;
	}
	case WIRE_MSG_LEASE_ACK: {
		const struct wire_lease_ack *m = wire_frame_lease_ack(f);

		mix(&d, wire_lease_ack_seq(m));
		n = wire_lease_ack_status_len(m);
		mix(&d, n);
		for (i = 0; i < n; i++)
			mix(&d, wire_lease_ack_status_at(m, i));
		break;
	}
	case WIRE_MSG_PING:
		mix(&d, wire_ping_nonce(wire_frame_ping(f)));
		mix(&d, wire_ping_time_ms(wire_frame_ping(f)));
		break;
	case WIRE_MSG_PONG:
		mix(&d, wire_pong_nonce(wire_frame_pong(f)));
		mix(&d, wire_pong_time_ms(wire_frame_pong(f)));
		break;
	case WIRE_MSG_ERROR: {
		const struct wire_error *m = wire_frame_error(f);

		mix(&d, wire_error_code(m));
		s_str(&d, wire_error_message(m));
		mix(&d, wire_error_ref_seq(m));
		break;
	}
	case WIRE_MSG_GOODBYE: {
		const struct wire_goodbye *m = wire_frame_goodbye(f);

		mix(&d, wire_goodbye_reason(m));
		s_str(&d, wire_goodbye_message(m));
		break;
	}
	default:
		mix(&d, UINT64_MAX); /* a verified frame has a known type */
	}
	return d;
}

/* ---------------- flatc-generated C++ accessors ---------------- */

static inline void
c_str(digest *d, const flatbuffers::String *s)
{
	if (!s)
		range(d, nullptr, 0, true);
	else
		range(d, reinterpret_cast<const uint8_t *>(s->data()), s->size(), true);
}

static inline void
c_bytes(digest *d, const flatbuffers::Vector<uint8_t> *v)
{
	if (!v)
		range(d, nullptr, 0, false);
	else
		range(d, v->data(), v->size(), false);
}

static inline void
c_id(digest *d, const fb::JobId *id)
{
	mix(d, id ? id->hi() : 0);
	mix(d, id ? id->lo() : 0);
}

template <typename V>
static inline void
c_scalars(digest *d, const V *v)
{
	uint32_t n = v ? v->size() : 0;

	mix(d, n);
	for (uint32_t i = 0; i < n; i++)
		mix(d, v->Get(i));
}

static inline void
c_job(digest *d, const fb::Job *j)
{
	if (!table(d, j))
		return;
	c_str(d, j->queue());
	c_str(d, j->type());
	c_id(d, j->id());
	c_bytes(d, j->payload());
	c_str(d, j->content_type());
	mix(d, j->priority());
	mix(d, j->not_before_ms());
	mix(d, j->ttl_ms());
	mix(d, j->max_attempts());
	mix(d, j->lease_timeout_ms());
	c_str(d, j->unique_key());
	mix(d, j->unique_ttl_ms());
	const auto *hs = j->headers();
	uint32_t n = hs ? hs->size() : 0;
	mix(d, n);
	for (uint32_t i = 0; i < n && !d->oob; i++) {
		const fb::Header *h = hs->Get(i);

		if (!table(d, h))
			return;
		c_str(d, h->key());
		c_str(d, h->value());
	}
}

/* Digest of a frame that VerifySizePrefixedFrameBuffer() accepted. */
static inline digest
cpp_frame(const void *frame, size_t len)
{
	digest d = start(frame, len);
	const fb::Frame *f = fb::GetSizePrefixedFrame(frame);

	if (!table(&d, f))
		return d;
	mix(&d, f->msg_type());
	if (!table(&d, f->msg()))
		return d;
	switch (f->msg_type()) {
	case fb::Message_Hello: {
		const fb::Hello *m = f->msg_as_Hello();

		mix(&d, m->version());
		mix(&d, m->role());
		c_bytes(&d, m->token());
		c_str(&d, m->client_name());
		break;
	}
	case fb::Message_Welcome: {
		const fb::Welcome *m = f->msg_as_Welcome();

		mix(&d, m->version());
		mix(&d, m->session_id());
		mix(&d, m->max_frame_bytes());
		mix(&d, m->max_batch_jobs());
		mix(&d, m->heartbeat_ms());
		c_str(&d, m->server_name());
		break;
	}
	case fb::Message_EnqueueBatch: {
		const fb::EnqueueBatch *m = f->msg_as_EnqueueBatch();
		const auto *jobs = m->jobs();
		uint32_t n = jobs ? jobs->size() : 0;

		mix(&d, m->seq());
		mix(&d, n);
		for (uint32_t i = 0; i < n && !d.oob; i++)
			c_job(&d, jobs->Get(i));
		break;
	}
	case fb::Message_EnqueueAck: {
		const fb::EnqueueAck *m = f->msg_as_EnqueueAck();
		const auto *ids = m->ids();
		uint32_t n = ids ? ids->size() : 0;

		mix(&d, m->seq());
		c_scalars(&d, m->status());
		mix(&d, n);
		for (uint32_t i = 0; i < n; i++)
			c_id(&d, ids->Get(i));
		break;
	}
	case fb::Message_Subscribe: {
		const fb::Subscribe *m = f->msg_as_Subscribe();
		const auto *qs = m->queues();
		uint32_t n = qs ? qs->size() : 0;

		mix(&d, n);
		for (uint32_t i = 0; i < n && !d.oob; i++) {
			const fb::QueueWeight *q = qs->Get(i);

			if (!table(&d, q))
				break;
			c_str(&d, q->queue());
			mix(&d, q->weight());
		}
		mix(&d, m->prefetch());
		break;
	}
	case fb::Message_Credit:
		mix(&d, f->msg_as_Credit()->credit());
		break;
	case fb::Message_Deliver: {
		const fb::Deliver *m = f->msg_as_Deliver();

		mix(&d, m->lease_id());
		mix(&d, m->attempt());
		mix(&d, m->lease_timeout_ms());
		mix(&d, m->enqueued_ms());
		c_job(&d, m->job());
		break;
	}
	case fb::Message_Complete: {
		const fb::Complete *m = f->msg_as_Complete();

		mix(&d, m->seq());
		c_scalars(&d, m->lease_ids());
		break;
	}
	case fb::Message_Fail: {
		const fb::Fail *m = f->msg_as_Fail();

		mix(&d, m->seq());
		mix(&d, m->lease_id());
		c_str(&d, m->reason());
		mix(&d, m->retry_delay_ms());
		mix(&d, m->dead());
		break;
	}
	case fb::Message_ExtendLease: {
		const fb::ExtendLease *m = f->msg_as_ExtendLease();

		mix(&d, m->seq());
		c_scalars(&d, m->lease_ids());
		mix(&d, m->extend_ms());
		break;
	}
	case fb::Message_LeaseAck: {
		const fb::LeaseAck *m = f->msg_as_LeaseAck();

		mix(&d, m->seq());
		c_scalars(&d, m->status());
		break;
	}
	case fb::Message_Ping:
		mix(&d, f->msg_as_Ping()->nonce());
		mix(&d, f->msg_as_Ping()->time_ms());
		break;
	case fb::Message_Pong:
		mix(&d, f->msg_as_Pong()->nonce());
		mix(&d, f->msg_as_Pong()->time_ms());
		break;
	case fb::Message_Error: {
		const fb::Error *m = f->msg_as_Error();

		mix(&d, m->code());
		c_str(&d, m->message());
		mix(&d, m->ref_seq());
		break;
	}
	case fb::Message_Goodbye: {
		const fb::Goodbye *m = f->msg_as_Goodbye();

		mix(&d, m->reason());
		c_str(&d, m->message());
		break;
	}
	default:
		mix(&d, UINT64_MAX);
	}
	return d;
}

/*
 * The official verifier, default options (depth 64, 1,000,000 tables,
 * alignment checked), size-prefixed root with identifier SLQ1.
 */
static inline bool
cpp_verify(const void *frame, size_t len)
{
	flatbuffers::Verifier v(static_cast<const uint8_t *>(frame), len);

	return fb::VerifySizePrefixedFrameBuffer(v);
}

} // namespace walk

#endif
