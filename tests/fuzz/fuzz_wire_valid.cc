/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: random VALID frames must be accepted and read back.
 *
 * FuzzedDataProvider turns the input into a message model within every
 * sluice bound (name charset and lengths, printable text, priority <= 15,
 * durations <= 7 days, counts, enums; any of the 15 message types). The
 * model is built twice:
 *   - with the official flatbuffers::FlatBufferBuilder (FinishSizePrefixed,
 *     "SLQ1"), with input-chosen builder options: force_defaults, vtable
 *     dedup, shared strings, and the order in which Job fields are added
 *     (which moves fields and padding around inside the table);
 *   - with sluice's own wire_build().
 * Each frame, in an exactly-sized heap block, must pass wire_verify() and
 * the C++ Verifier, every field read through wire.h must equal the model,
 * and both sets of accessors must read the same values (wire_walk.h).
 * abort() on any mismatch, naming the builder and the field.
 */
#include <fuzzer/FuzzedDataProvider.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wire_walk.h"

extern "C" {
#include "wire_build.h"
}

namespace
{

namespace fb = sluice::wire;
using bytes = std::vector<uint8_t>;
using opt_str = std::optional<std::string>;
using opt_bytes = std::optional<bytes>;

constexpr char NAME_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";

/* ---------------- the model ---------------- */

struct m_header {
	std::string key, value;
};

struct m_job {
	std::string queue, type;
	uint64_t id_hi = 0, id_lo = 0; /* both 0: absent */
	opt_bytes payload;
	opt_str content_type;
	uint8_t priority = 0;
	uint64_t not_before_ms = 0;
	uint32_t ttl_ms = 0;
	uint16_t max_attempts = 0;
	uint32_t lease_timeout_ms = 0;
	opt_str unique_key;
	uint32_t unique_ttl_ms = 0;
	std::optional<std::vector<m_header>> headers;
};

/* One message; the members of its type are meaningful, the rest keep defaults. */
struct m_msg {
	uint8_t type = 0;
	uint64_t seq = 0;
	/* Hello */
	uint8_t role = WIRE_ROLE_PRODUCER;
	opt_bytes token;
	opt_str name; /* client_name, server_name */
	/* Welcome */
	uint64_t session_id = 0;
	uint32_t max_frame_bytes = 0, max_batch_jobs = 0, heartbeat_ms = 0;
	/* EnqueueBatch (jobs), Deliver (jobs[0]) */
	std::vector<m_job> jobs;
	/* EnqueueAck, LeaseAck */
	std::vector<uint16_t> status;
	std::vector<wire_jobid> ids;
	/* Subscribe */
	std::vector<std::pair<std::string, uint16_t>> queues;
	uint32_t prefetch = 1;
	/* Credit */
	uint32_t credit = 0;
	/* Deliver, Fail */
	uint64_t lease_id = 0;
	uint16_t attempt = 0;
	uint32_t lease_timeout_ms = 0;
	uint64_t enqueued_ms = 0;
	/* Complete, ExtendLease */
	std::vector<uint64_t> lease_ids;
	uint32_t extend_ms = 0;
	/* Fail (reason), Error, Goodbye (message) */
	opt_str text;
	uint32_t retry_delay_ms = 0;
	bool dead = false;
	uint16_t code = 0; /* Error code, Goodbye reason */
	uint64_t ref_seq = 0;
	/* Ping, Pong */
	uint64_t nonce = 0, time_ms = 0;
};

/* How the official builder lays the frame out. */
struct build_opts {
	bool force_defaults;
	bool dedup_vtables;
	bool shared_strings;
	uint32_t order_seed; /* permutation of Job fields */
};

/* ---------------- generation within sluice's bounds ---------------- */

struct gen {
	FuzzedDataProvider &fdp;

	std::string name(size_t max)
	{
		size_t n = fdp.ConsumeIntegralInRange<size_t>(1, max);
		std::string s(n, 'A');

		for (char &c : s)
			c = NAME_CHARS[fdp.ConsumeIntegralInRange<size_t>(0,
									  sizeof(NAME_CHARS) - 2)];
		return s;
	}

	std::string text(size_t min, size_t max)
	{
		size_t n = fdp.ConsumeIntegralInRange<size_t>(min, max);
		std::string s(n, ' ');

		for (char &c : s)
			c = static_cast<char>(fdp.ConsumeIntegralInRange<int>(0x20, 0x7e));
		return s;
	}

	opt_str opt_text(size_t min, size_t max)
	{
		if (!fdp.ConsumeBool())
			return std::nullopt;
		return text(min, max);
	}

	opt_bytes opt_blob(size_t max)
	{
		if (!fdp.ConsumeBool())
			return std::nullopt;
		return fdp.ConsumeBytes<uint8_t>(fdp.ConsumeIntegralInRange<size_t>(0, max));
	}

	uint32_t duration()
	{
		return fdp.ConsumeIntegralInRange<uint32_t>(0, WIRE_DURATION_MS_MAX);
	}

	uint16_t status()
	{
		return fdp.ConsumeIntegralInRange<uint16_t>(0, WIRE_STATUS__COUNT - 1);
	}

	/* Mostly a few, sometimes up to max. */
	uint32_t count(uint32_t min, uint32_t max)
	{
		uint32_t few = min + 3 < max ? min + 3 : max;

		return fdp.ConsumeIntegralInRange<uint32_t>(min, fdp.ConsumeBool() ? max : few);
	}

	m_job job()
	{
		m_job j;

		j.queue = name(WIRE_QUEUE_NAME_MAX);
		j.type = name(WIRE_TYPE_NAME_MAX);
		if (fdp.ConsumeBool()) {
			j.id_hi = fdp.ConsumeIntegral<uint64_t>();
			j.id_lo = fdp.ConsumeIntegral<uint64_t>();
			if (!j.id_hi && !j.id_lo)
				j.id_lo = 1; /* all zero means absent */
		}
		j.payload = opt_blob(WIRE_PAYLOAD_BYTES_DEFAULT);
		j.content_type = opt_text(0, WIRE_CONTENT_TYPE_MAX);
		j.priority = fdp.ConsumeIntegralInRange<uint8_t>(0, WIRE_PRIORITY_MAX);
		j.not_before_ms = fdp.ConsumeIntegral<uint64_t>();
		j.ttl_ms = duration();
		j.max_attempts = fdp.ConsumeIntegralInRange<uint16_t>(0, WIRE_ATTEMPTS_MAX);
		j.lease_timeout_ms = duration();
		j.unique_key = opt_text(1, WIRE_UNIQUE_KEY_MAX);
		j.unique_ttl_ms = duration();
		if (fdp.ConsumeBool()) {
			j.headers.emplace();
			for (uint32_t n = count(0, WIRE_HEADERS_MAX); n; n--)
				j.headers->push_back({ name(WIRE_HEADER_KEY_MAX),
						       text(0, WIRE_HEADER_VALUE_MAX) });
		}
		return j;
	}

	m_msg msg()
	{
		m_msg m;
		uint32_t n;

		m.type = fdp.ConsumeIntegralInRange<uint8_t>(1, WIRE_MSG__COUNT - 1);
		switch (m.type) {
		case WIRE_MSG_HELLO:
			m.role = fdp.ConsumeIntegralInRange<uint8_t>(WIRE_ROLE_PRODUCER,
								     WIRE_ROLE_BOTH);
			m.token = opt_blob(WIRE_TOKEN_MAX);
			m.name = opt_text(0, WIRE_CLIENT_NAME_MAX);
			break;
		case WIRE_MSG_WELCOME:
			m.session_id = fdp.ConsumeIntegral<uint64_t>();
			m.max_frame_bytes = fdp.ConsumeIntegral<uint32_t>();
			m.max_batch_jobs = fdp.ConsumeIntegral<uint32_t>();
			m.heartbeat_ms = fdp.ConsumeIntegral<uint32_t>();
			m.name = opt_text(0, WIRE_CLIENT_NAME_MAX);
			break;
		case WIRE_MSG_ENQUEUE_BATCH:
			m.seq = fdp.ConsumeIntegral<uint64_t>();
			for (n = count(1, WIRE_BATCH_JOBS_DEFAULT); n; n--)
				m.jobs.push_back(job());
			break;
		case WIRE_MSG_ENQUEUE_ACK:
			m.seq = fdp.ConsumeIntegral<uint64_t>();
			for (n = count(1, WIRE_BATCH_JOBS_DEFAULT); n; n--) {
				m.status.push_back(status());
				m.ids.push_back({ fdp.ConsumeIntegral<uint64_t>(),
						  fdp.ConsumeIntegral<uint64_t>() });
			}
			break;
		case WIRE_MSG_SUBSCRIBE:
			for (n = count(1, WIRE_SUBSCRIBE_QUEUES_MAX); n; n--)
				m.queues.push_back({ name(WIRE_QUEUE_NAME_MAX),
						     fdp.ConsumeIntegralInRange<uint16_t>(
							     1, WIRE_WEIGHT_MAX) });
			m.prefetch = fdp.ConsumeIntegralInRange<uint32_t>(0, WIRE_CREDIT_MAX);
			break;
		case WIRE_MSG_CREDIT:
			m.credit = fdp.ConsumeIntegralInRange<uint32_t>(1, WIRE_CREDIT_MAX);
			break;
		case WIRE_MSG_DELIVER:
			m.lease_id = fdp.ConsumeIntegral<uint64_t>();
			m.attempt = fdp.ConsumeIntegral<uint16_t>();
			m.lease_timeout_ms = duration();
			m.enqueued_ms = fdp.ConsumeIntegral<uint64_t>();
			m.jobs.push_back(job());
			break;
		case WIRE_MSG_COMPLETE:
		case WIRE_MSG_EXTEND_LEASE:
			m.seq = fdp.ConsumeIntegral<uint64_t>();
			for (n = count(1, WIRE_BATCH_JOBS_DEFAULT); n; n--)
				m.lease_ids.push_back(fdp.ConsumeIntegral<uint64_t>());
			if (m.type == WIRE_MSG_EXTEND_LEASE)
				m.extend_ms = duration();
			break;
		case WIRE_MSG_FAIL:
			m.seq = fdp.ConsumeIntegral<uint64_t>();
			m.lease_id = fdp.ConsumeIntegral<uint64_t>();
			m.text = opt_text(0, WIRE_TEXT_MAX);
			m.retry_delay_ms = duration();
			m.dead = fdp.ConsumeBool();
			break;
		case WIRE_MSG_LEASE_ACK:
			m.seq = fdp.ConsumeIntegral<uint64_t>();
			for (n = count(1, WIRE_BATCH_JOBS_DEFAULT); n; n--)
				m.status.push_back(status());
			break;
		case WIRE_MSG_PING:
		case WIRE_MSG_PONG:
			m.nonce = fdp.ConsumeIntegral<uint64_t>();
			m.time_ms = fdp.ConsumeIntegral<uint64_t>();
			break;
		case WIRE_MSG_ERROR:
			m.code = status();
			m.text = opt_text(0, WIRE_TEXT_MAX);
			m.ref_seq = fdp.ConsumeIntegral<uint64_t>();
			break;
		case WIRE_MSG_GOODBYE:
			m.code = status();
			m.text = opt_text(0, WIRE_TEXT_MAX);
			break;
		}
		return m;
	}
};

/* ---------------- the official builder ---------------- */

struct official {
	flatbuffers::FlatBufferBuilder &b;
	const build_opts &o;

	flatbuffers::Offset<flatbuffers::String> str(const std::string &s)
	{
		return o.shared_strings ? b.CreateSharedString(s) : b.CreateString(s);
	}

	flatbuffers::Offset<flatbuffers::String> str(const opt_str &s)
	{
		return s ? str(*s) : 0;
	}

	flatbuffers::Offset<flatbuffers::Vector<uint8_t>> blob(const opt_bytes &v)
	{
		return v ? b.CreateVector(*v) : 0;
	}

	flatbuffers::Offset<fb::Job> job(const m_job &j)
	{
		auto queue = str(j.queue);
		auto type = str(j.type);
		auto payload = blob(j.payload);
		auto content_type = str(j.content_type);
		auto unique_key = str(j.unique_key);
		flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Header>>> headers;
		fb::JobId id(j.id_hi, j.id_lo);
		unsigned order[13];

		if (j.headers) {
			std::vector<flatbuffers::Offset<fb::Header>> hs;

			for (const m_header &h : *j.headers) {
				auto k = str(h.key);
				auto v = str(h.value);
				hs.push_back(fb::CreateHeader(b, k, v));
			}
			headers = b.CreateVector(hs);
		}

		/* Fields added in an input-chosen order (Fisher-Yates over a small LCG). */
		uint32_t x = o.order_seed;
		for (unsigned i = 0; i < 13; i++)
			order[i] = i;
		for (unsigned i = 12; i > 0; i--) {
			x = x * 1103515245u + 12345u;
			std::swap(order[i], order[(x >> 16) % (i + 1)]);
		}
		fb::JobBuilder jb(b);
		for (unsigned f : order) {
			switch (f) {
			case 0:
				jb.add_queue(queue);
				break;
			case 1:
				jb.add_type(type);
				break;
			case 2:
				if (j.id_hi || j.id_lo)
					jb.add_id(&id);
				break;
			case 3:
				if (j.payload)
					jb.add_payload(payload);
				break;
			case 4:
				if (j.content_type)
					jb.add_content_type(content_type);
				break;
			case 5:
				jb.add_priority(j.priority);
				break;
			case 6:
				jb.add_not_before_ms(j.not_before_ms);
				break;
			case 7:
				jb.add_ttl_ms(j.ttl_ms);
				break;
			case 8:
				jb.add_max_attempts(j.max_attempts);
				break;
			case 9:
				jb.add_lease_timeout_ms(j.lease_timeout_ms);
				break;
			case 10:
				if (j.unique_key)
					jb.add_unique_key(unique_key);
				break;
			case 11:
				jb.add_unique_ttl_ms(j.unique_ttl_ms);
				break;
			case 12:
				if (j.headers)
					jb.add_headers(headers);
				break;
			}
		}
		return jb.Finish();
	}

	flatbuffers::Offset<void> message(const m_msg &m)
	{
		switch (m.type) {
		case WIRE_MSG_HELLO: {
			auto token = blob(m.token);
			auto name = str(m.name);
			return fb::CreateHello(b, WIRE_PROTOCOL_VERSION,
					       static_cast<fb::Role>(m.role), token, name)
				.Union();
		}
		case WIRE_MSG_WELCOME: {
			auto name = str(m.name);
			return fb::CreateWelcome(b, WIRE_PROTOCOL_VERSION, m.session_id,
						 m.max_frame_bytes, m.max_batch_jobs,
						 m.heartbeat_ms, name)
				.Union();
		}
		case WIRE_MSG_ENQUEUE_BATCH: {
			std::vector<flatbuffers::Offset<fb::Job>> js;

			for (const m_job &j : m.jobs)
				js.push_back(job(j));
			auto v = b.CreateVector(js);
			return fb::CreateEnqueueBatch(b, m.seq, v).Union();
		}
		case WIRE_MSG_ENQUEUE_ACK: {
			std::vector<fb::JobId> ids;

			for (const wire_jobid &id : m.ids)
				ids.emplace_back(id.hi, id.lo);
			auto st = b.CreateVector(m.status);
			auto iv = b.CreateVectorOfStructs(ids);
			return fb::CreateEnqueueAck(b, m.seq, st, iv).Union();
		}
		case WIRE_MSG_SUBSCRIBE: {
			std::vector<flatbuffers::Offset<fb::QueueWeight>> qs;

			for (const auto &q : m.queues) {
				auto name = str(q.first);
				qs.push_back(fb::CreateQueueWeight(b, name, q.second));
			}
			auto v = b.CreateVector(qs);
			return fb::CreateSubscribe(b, v, m.prefetch).Union();
		}
		case WIRE_MSG_CREDIT:
			return fb::CreateCredit(b, m.credit).Union();
		case WIRE_MSG_DELIVER: {
			auto j = job(m.jobs[0]);
			return fb::CreateDeliver(b, m.lease_id, m.attempt, m.lease_timeout_ms,
						 m.enqueued_ms, j)
				.Union();
		}
		case WIRE_MSG_COMPLETE: {
			auto v = b.CreateVector(m.lease_ids);
			return fb::CreateComplete(b, m.seq, v).Union();
		}
		case WIRE_MSG_FAIL: {
			auto reason = str(m.text);
			return fb::CreateFail(b, m.seq, m.lease_id, reason, m.retry_delay_ms,
					      m.dead)
				.Union();
		}
		case WIRE_MSG_EXTEND_LEASE: {
			auto v = b.CreateVector(m.lease_ids);
			return fb::CreateExtendLease(b, m.seq, v, m.extend_ms).Union();
		}
		case WIRE_MSG_LEASE_ACK: {
			auto v = b.CreateVector(m.status);
			return fb::CreateLeaseAck(b, m.seq, v).Union();
		}
		case WIRE_MSG_PING:
			return fb::CreatePing(b, m.nonce, m.time_ms).Union();
		case WIRE_MSG_PONG:
			return fb::CreatePong(b, m.nonce, m.time_ms).Union();
		case WIRE_MSG_ERROR: {
			auto msg = str(m.text);
			return fb::CreateError(b, static_cast<fb::Status>(m.code), msg, m.ref_seq)
				.Union();
		}
		default: {
			auto msg = str(m.text);
			return fb::CreateGoodbye(b, static_cast<fb::Status>(m.code), msg).Union();
		}
		}
	}
};

bytes
build_official(const m_msg &m, const build_opts &o)
{
	flatbuffers::FlatBufferBuilder b(1024);

	b.ForceDefaults(o.force_defaults);
	b.DedupVtables(o.dedup_vtables);
	official ob{ b, o };
	auto msg = ob.message(m);
	auto root = fb::CreateFrame(b, static_cast<fb::Message>(m.type), msg);
	fb::FinishSizePrefixedFrameBuffer(b, root);
	return bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

/* ---------------- sluice's builder ---------------- */

const uint8_t empty_array[1] = { 0 };

wire_str
w_str(const std::string &s)
{
	return { s.data(), static_cast<uint32_t>(s.size()) };
}

wire_str
w_str(const opt_str &s)
{
	return s ? w_str(*s) : wire_str{ nullptr, 0 };
}

wire_bytes
w_bytes(const opt_bytes &v)
{
	if (!v)
		return { nullptr, 0 };
	return { v->empty() ? empty_array : v->data(), static_cast<uint32_t>(v->size()) };
}

struct sluice_job {
	std::vector<wire_header_in> headers;
	wire_job_in in;

	explicit sluice_job(const m_job &j) : in()
	{
		in.queue = w_str(j.queue);
		in.type = w_str(j.type);
		in.id = { j.id_hi, j.id_lo };
		in.payload = w_bytes(j.payload);
		in.content_type = w_str(j.content_type);
		in.priority = j.priority;
		in.not_before_ms = j.not_before_ms;
		in.ttl_ms = j.ttl_ms;
		in.max_attempts = j.max_attempts;
		in.lease_timeout_ms = j.lease_timeout_ms;
		in.unique_key = w_str(j.unique_key);
		in.unique_ttl_ms = j.unique_ttl_ms;
		if (j.headers) {
			for (const m_header &h : *j.headers)
				headers.push_back({ w_str(h.key), w_str(h.value) });
			/* present with no element: a non-NULL array, count 0 */
			static const wire_header_in none = {};
			in.headers = headers.empty() ? &none : headers.data();
			in.n_headers = static_cast<uint32_t>(headers.size());
		}
	}
};

bytes
build_sluice(const m_msg &m)
{
	static std::vector<uint8_t> out(WIRE_FRAME_BYTES_CAP + 4);
	std::vector<sluice_job> jobs;
	std::vector<wire_job_in> job_in;
	std::vector<wire_queue_weight_in> queues;
	wire_msg_in in = {};

	jobs.reserve(m.jobs.size()); /* job_in points into each sluice_job's headers */
	for (const m_job &j : m.jobs)
		jobs.emplace_back(j);
	for (const sluice_job &j : jobs)
		job_in.push_back(j.in);
	for (const auto &q : m.queues)
		queues.push_back({ w_str(q.first), q.second });

	in.type = static_cast<enum wire_msg>(m.type);
	switch (m.type) {
	case WIRE_MSG_HELLO:
		in.u.hello.version = WIRE_PROTOCOL_VERSION;
		in.u.hello.role = m.role;
		in.u.hello.token = w_bytes(m.token);
		in.u.hello.client_name = w_str(m.name);
		break;
	case WIRE_MSG_WELCOME:
		in.u.welcome.version = WIRE_PROTOCOL_VERSION;
		in.u.welcome.session_id = m.session_id;
		in.u.welcome.max_frame_bytes = m.max_frame_bytes;
		in.u.welcome.max_batch_jobs = m.max_batch_jobs;
		in.u.welcome.heartbeat_ms = m.heartbeat_ms;
		in.u.welcome.server_name = w_str(m.name);
		break;
	case WIRE_MSG_ENQUEUE_BATCH:
		in.u.enqueue_batch.seq = m.seq;
		in.u.enqueue_batch.jobs = job_in.data();
		in.u.enqueue_batch.n_jobs = static_cast<uint32_t>(job_in.size());
		break;
	case WIRE_MSG_ENQUEUE_ACK:
		in.u.enqueue_ack.seq = m.seq;
		in.u.enqueue_ack.status = m.status.data();
		in.u.enqueue_ack.ids = m.ids.data();
		in.u.enqueue_ack.n = static_cast<uint32_t>(m.status.size());
		break;
	case WIRE_MSG_SUBSCRIBE:
		in.u.subscribe.queues = queues.data();
		in.u.subscribe.n_queues = static_cast<uint32_t>(queues.size());
		in.u.subscribe.prefetch = m.prefetch;
		break;
	case WIRE_MSG_CREDIT:
		in.u.credit.credit = m.credit;
		break;
	case WIRE_MSG_DELIVER:
		in.u.deliver.lease_id = m.lease_id;
		in.u.deliver.attempt = m.attempt;
		in.u.deliver.lease_timeout_ms = m.lease_timeout_ms;
		in.u.deliver.enqueued_ms = m.enqueued_ms;
		in.u.deliver.job = job_in[0];
		break;
	case WIRE_MSG_COMPLETE:
		in.u.complete.seq = m.seq;
		in.u.complete.lease_ids = m.lease_ids.data();
		in.u.complete.n = static_cast<uint32_t>(m.lease_ids.size());
		break;
	case WIRE_MSG_FAIL:
		in.u.fail.seq = m.seq;
		in.u.fail.lease_id = m.lease_id;
		in.u.fail.reason = w_str(m.text);
		in.u.fail.retry_delay_ms = m.retry_delay_ms;
		in.u.fail.dead = m.dead;
		break;
	case WIRE_MSG_EXTEND_LEASE:
		in.u.extend_lease.seq = m.seq;
		in.u.extend_lease.lease_ids = m.lease_ids.data();
		in.u.extend_lease.n = static_cast<uint32_t>(m.lease_ids.size());
		in.u.extend_lease.extend_ms = m.extend_ms;
		break;
	case WIRE_MSG_LEASE_ACK:
		in.u.lease_ack.seq = m.seq;
		in.u.lease_ack.status = m.status.data();
		in.u.lease_ack.n = static_cast<uint32_t>(m.status.size());
		break;
	case WIRE_MSG_PING:
		in.u.ping.nonce = m.nonce;
		in.u.ping.time_ms = m.time_ms;
		break;
	case WIRE_MSG_PONG:
		in.u.pong.nonce = m.nonce;
		in.u.pong.time_ms = m.time_ms;
		break;
	case WIRE_MSG_ERROR:
		in.u.error.code = m.code;
		in.u.error.message = w_str(m.text);
		in.u.error.ref_seq = m.ref_seq;
		break;
	case WIRE_MSG_GOODBYE:
		in.u.goodbye.reason = m.code;
		in.u.goodbye.message = w_str(m.text);
		break;
	}
	ssize_t n = wire_build(out.data(), out.size(), &in);
	if (n <= 0) {
		fprintf(stderr, "fuzz_wire_valid: wire_build refused a valid %s: %s\n",
			wire_msg_name(m.type), wire_error_name(static_cast<int>(n)));
		abort();
	}
	return bytes(out.begin(), out.begin() + n);
}

/* ---------------- reading back through wire.h ---------------- */

struct checker {
	const char *builder;
	const m_msg &m;

	[[noreturn]] void mismatch(const char *field, const std::string &want,
				   const std::string &got) const
	{
		fprintf(stderr,
			"fuzz_wire_valid: MISMATCH in a %s frame built by %s: %s: want %s, got "
			"%s\n",
			wire_msg_name(m.type), builder, field, want.c_str(), got.c_str());
		abort();
	}

	void eq(const char *field, uint64_t want, uint64_t got) const
	{
		if (want != got)
			mismatch(field, std::to_string(want), std::to_string(got));
	}

	void eq(const char *field, const opt_str &want, wire_str got) const
	{
		if (!want && got.p)
			mismatch(field, "absent", "a string of " + std::to_string(got.len));
		if (want && !got.p)
			mismatch(field, "\"" + *want + "\"", "absent");
		if (want && (got.len != want->size() || memcmp(got.p, want->data(), got.len) != 0))
			mismatch(field, "\"" + *want + "\"",
				 "\"" + std::string(got.p, got.len) + "\"");
	}

	void eq(const char *field, const std::string &want, wire_str got) const
	{
		eq(field, opt_str(want), got);
	}

	void eq(const char *field, const opt_bytes &want, wire_bytes got) const
	{
		if (!want && got.p)
			mismatch(field, "absent", std::to_string(got.len) + " bytes");
		if (want && !got.p)
			mismatch(field, std::to_string(want->size()) + " bytes", "absent");
		if (want && (got.len != want->size() ||
			     (got.len && memcmp(got.p, want->data(), got.len) != 0)))
			mismatch(field, std::to_string(want->size()) + " bytes",
				 std::to_string(got.len) + " different bytes");
	}

	void job(const m_job &w, const struct wire_job *j) const
	{
		if (!j)
			mismatch("job", "a table", "NULL");
		eq("job.queue", w.queue, wire_job_queue(j));
		eq("job.type", w.type, wire_job_type(j));
		eq("job.id.hi", w.id_hi, wire_job_id(j).hi);
		eq("job.id.lo", w.id_lo, wire_job_id(j).lo);
		eq("job.payload", w.payload, wire_job_payload(j));
		eq("job.content_type", w.content_type, wire_job_content_type(j));
		eq("job.priority", w.priority, wire_job_priority(j));
		eq("job.not_before_ms", w.not_before_ms, wire_job_not_before_ms(j));
		eq("job.ttl_ms", w.ttl_ms, wire_job_ttl_ms(j));
		eq("job.max_attempts", w.max_attempts, wire_job_max_attempts(j));
		eq("job.lease_timeout_ms", w.lease_timeout_ms, wire_job_lease_timeout_ms(j));
		eq("job.unique_key", w.unique_key, wire_job_unique_key(j));
		eq("job.unique_ttl_ms", w.unique_ttl_ms, wire_job_unique_ttl_ms(j));
		/* wire.h does not tell an empty header vector from an absent one */
		size_t nh = w.headers ? w.headers->size() : 0;
		eq("job.headers.len", nh, wire_job_headers_len(j));
		for (size_t i = 0; i < nh; i++) {
			const struct wire_header *h =
				wire_job_headers_at(j, static_cast<uint32_t>(i));

			eq("job.headers[].key", (*w.headers)[i].key, wire_header_key(h));
			eq("job.headers[].value", (*w.headers)[i].value, wire_header_value(h));
		}
	}

	void frame(const uint8_t *buf) const
	{
		const struct wire_frame *f = wire_frame_root(buf);

		eq("msg_type", m.type, wire_frame_msg_type(f));
		switch (m.type) {
		case WIRE_MSG_HELLO: {
			const struct wire_hello *t = wire_frame_hello(f);

			eq("version", WIRE_PROTOCOL_VERSION, wire_hello_version(t));
			eq("role", m.role, wire_hello_role(t));
			eq("token", m.token, wire_hello_token(t));
			eq("client_name", m.name, wire_hello_client_name(t));
			break;
		}
		case WIRE_MSG_WELCOME: {
			const struct wire_welcome *t = wire_frame_welcome(f);

			eq("version", WIRE_PROTOCOL_VERSION, wire_welcome_version(t));
			eq("session_id", m.session_id, wire_welcome_session_id(t));
			eq("max_frame_bytes", m.max_frame_bytes, wire_welcome_max_frame_bytes(t));
			eq("max_batch_jobs", m.max_batch_jobs, wire_welcome_max_batch_jobs(t));
			eq("heartbeat_ms", m.heartbeat_ms, wire_welcome_heartbeat_ms(t));
			eq("server_name", m.name, wire_welcome_server_name(t));
			break;
		}
		case WIRE_MSG_ENQUEUE_BATCH: {
			const struct wire_enqueue_batch *t = wire_frame_enqueue_batch(f);

			eq("seq", m.seq, wire_enqueue_batch_seq(t));
			eq("jobs.len", m.jobs.size(), wire_enqueue_batch_jobs_len(t));
			for (uint32_t i = 0; i < m.jobs.size(); i++)
				job(m.jobs[i], wire_enqueue_batch_jobs_at(t, i));
			break;
		}
		case WIRE_MSG_ENQUEUE_ACK: {
			const struct wire_enqueue_ack *t = wire_frame_enqueue_ack(f);

			eq("seq", m.seq, wire_enqueue_ack_seq(t));
			eq("status.len", m.status.size(), wire_enqueue_ack_status_len(t));
			eq("ids.len", m.ids.size(), wire_enqueue_ack_ids_len(t));
			for (uint32_t i = 0; i < m.status.size(); i++) {
				eq("status[]", m.status[i], wire_enqueue_ack_status_at(t, i));
				eq("ids[].hi", m.ids[i].hi, wire_enqueue_ack_ids_at(t, i).hi);
				eq("ids[].lo", m.ids[i].lo, wire_enqueue_ack_ids_at(t, i).lo);
			}
			break;
		}
		case WIRE_MSG_SUBSCRIBE: {
			const struct wire_subscribe *t = wire_frame_subscribe(f);

			eq("queues.len", m.queues.size(), wire_subscribe_queues_len(t));
			for (uint32_t i = 0; i < m.queues.size(); i++) {
				const struct wire_queue_weight *q = wire_subscribe_queues_at(t, i);

				eq("queues[].queue", m.queues[i].first, wire_queue_weight_queue(q));
				eq("queues[].weight", m.queues[i].second,
				   wire_queue_weight_weight(q));
			}
			eq("prefetch", m.prefetch, wire_subscribe_prefetch(t));
			break;
		}
		case WIRE_MSG_CREDIT:
			eq("credit", m.credit, wire_credit_credit(wire_frame_credit(f)));
			break;
		case WIRE_MSG_DELIVER: {
			const struct wire_deliver *t = wire_frame_deliver(f);

			eq("lease_id", m.lease_id, wire_deliver_lease_id(t));
			eq("attempt", m.attempt, wire_deliver_attempt(t));
			eq("lease_timeout_ms", m.lease_timeout_ms,
			   wire_deliver_lease_timeout_ms(t));
			eq("enqueued_ms", m.enqueued_ms, wire_deliver_enqueued_ms(t));
			job(m.jobs[0], wire_deliver_job(t));
			break;
		}
		case WIRE_MSG_COMPLETE: {
			const struct wire_complete *t = wire_frame_complete(f);

			eq("seq", m.seq, wire_complete_seq(t));
			eq("lease_ids.len", m.lease_ids.size(), wire_complete_lease_ids_len(t));
			for (uint32_t i = 0; i < m.lease_ids.size(); i++)
				eq("lease_ids[]", m.lease_ids[i], wire_complete_lease_ids_at(t, i));
			break;
		}
		case WIRE_MSG_FAIL: {
			const struct wire_fail *t = wire_frame_fail(f);

			eq("seq", m.seq, wire_fail_seq(t));
			eq("lease_id", m.lease_id, wire_fail_lease_id(t));
			eq("reason", m.text, wire_fail_reason(t));
			eq("retry_delay_ms", m.retry_delay_ms, wire_fail_retry_delay_ms(t));
			eq("dead", m.dead, wire_fail_dead(t));
			break;
		}
		case WIRE_MSG_EXTEND_LEASE: {
			const struct wire_extend_lease *t = wire_frame_extend_lease(f);

			eq("seq", m.seq, wire_extend_lease_seq(t));
			eq("lease_ids.len", m.lease_ids.size(), wire_extend_lease_lease_ids_len(t));
			for (uint32_t i = 0; i < m.lease_ids.size(); i++)
				eq("lease_ids[]", m.lease_ids[i],
				   wire_extend_lease_lease_ids_at(t, i));
			eq("extend_ms", m.extend_ms, wire_extend_lease_extend_ms(t));
			break;
		}
		case WIRE_MSG_LEASE_ACK: {
			const struct wire_lease_ack *t = wire_frame_lease_ack(f);

			eq("seq", m.seq, wire_lease_ack_seq(t));
			eq("status.len", m.status.size(), wire_lease_ack_status_len(t));
			for (uint32_t i = 0; i < m.status.size(); i++)
				eq("status[]", m.status[i], wire_lease_ack_status_at(t, i));
			break;
		}
		case WIRE_MSG_PING:
			eq("nonce", m.nonce, wire_ping_nonce(wire_frame_ping(f)));
			eq("time_ms", m.time_ms, wire_ping_time_ms(wire_frame_ping(f)));
			break;
		case WIRE_MSG_PONG:
			eq("nonce", m.nonce, wire_pong_nonce(wire_frame_pong(f)));
			eq("time_ms", m.time_ms, wire_pong_time_ms(wire_frame_pong(f)));
			break;
		case WIRE_MSG_ERROR: {
			const struct wire_error *t = wire_frame_error(f);

			eq("code", m.code, wire_error_code(t));
			eq("message", m.text, wire_error_message(t));
			eq("ref_seq", m.ref_seq, wire_error_ref_seq(t));
			break;
		}
		case WIRE_MSG_GOODBYE: {
			const struct wire_goodbye *t = wire_frame_goodbye(f);

			eq("reason", m.code, wire_goodbye_reason(t));
			eq("message", m.text, wire_goodbye_message(t));
			break;
		}
		}
	}
};

/* Verify and read back one frame, in an exactly-sized heap block. */
void
check(const char *builder, const m_msg &m, const bytes &frame)
{
	uint8_t *buf = static_cast<uint8_t *>(malloc(frame.size()));
	uint32_t at = 0;

	if (!buf)
		abort();
	memcpy(buf, frame.data(), frame.size());
	int rc = wire_verify(buf, frame.size(), nullptr, &at);
	if (rc != 0) {
		fprintf(stderr,
			"fuzz_wire_valid: REJECTED a valid %s frame built by %s: %s at byte "
			"%" PRIu32 " of %zu\n",
			wire_msg_name(m.type), builder, wire_error_name(rc), at, frame.size());
		abort();
	}
	if (!walk::cpp_verify(buf, frame.size())) {
		fprintf(stderr,
			"fuzz_wire_valid: the C++ Verifier rejects a %s frame built by %s\n",
			wire_msg_name(m.type), builder);
		abort();
	}
	checker{ builder, m }.frame(buf);
	walk::digest ds = walk::sluice_frame(buf, frame.size());
	walk::digest dc = walk::cpp_frame(buf, frame.size());
	if (ds.oob || dc.oob || ds.h != dc.h || ds.items != dc.items) {
		fprintf(stderr,
			"fuzz_wire_valid: wire.h and the C++ accessors read a %s frame built by %s "
			"differently\n",
			wire_msg_name(m.type), builder);
		abort();
	}
	free(buf);
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzedDataProvider fdp(data, size);
	build_opts o;

	o.force_defaults = fdp.ConsumeBool();
	o.dedup_vtables = fdp.ConsumeBool();
	o.shared_strings = fdp.ConsumeBool();
	o.order_seed = fdp.ConsumeIntegral<uint32_t>();

	gen g{ fdp };
	m_msg m = g.msg();

	check("flatbuffers::FlatBufferBuilder", m, build_official(m, o));
	check("wire_build", m, build_sluice(m));
	return 0;
}
