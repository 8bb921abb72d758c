/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire_bench: nanoseconds per verify + read of an EnqueueBatch frame,
 * sluice (wire_verify() + wire.h accessors) against the official
 * FlatBuffers C++ code (VerifySizePrefixedFrameBuffer() + generated
 * accessors), on the same frame bytes in the same run.
 *
 * Frames (each built twice: by the official FlatBufferBuilder, the layout
 * clients send, and by sluice's wire_build()):
 *   one_job  one job: queue, type, 128-byte payload, content type
 *   batch64  64 jobs: queue, type, id, 128-byte payload, content type,
 *            two headers
 * "read" = every field of every job (queue, type, id, payload, content
 * type, priority, not_before_ms, ttl_ms, max_attempts, lease_timeout_ms,
 * unique_key, unique_ttl_ms, headers' keys and values), lengths and
 * values summed into a sink.
 *
 * Method: pinned to one CPU; per frame, ROUNDS rounds alternate which
 * implementation goes first; each round times ITERS back-to-back
 * verify+read calls per implementation with CLOCK_MONOTONIC (ITERS chosen
 * so that one timing lasts about --ms milliseconds). Reported: median and
 * minimum ns/frame over the rounds, and the ratio of the medians
 * (C++ / sluice; above 1 means sluice is faster). The same is measured
 * for verification alone (no field read), to tell verifier cost from
 * accessor cost. A human table, then one JSON line.
 *
 * Not a test: run it on purpose, optimized (tests/bench/wire-bench.sh).
 * Usage: wire_bench [--rounds N] [--ms MS] [--cpu N] [--only SUBSTRING]
 *                   [--loop N sluice|cpp|sluice-verify|cpp-verify]
 * --only keeps the frames whose name contains SUBSTRING; --loop runs just
 * N calls of one implementation (verify+read, or verify only) per frame and
 * prints nothing else (for perf record or valgrind --tool=callgrind).
 */
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "wire.h"
#include "wire_build.h"
}
#include "sluice_generated.h"

namespace
{

namespace fb = sluice::wire;
using bytes = std::vector<uint8_t>;

constexpr unsigned PAYLOAD_BYTES = 128;
constexpr unsigned BATCH_JOBS = 64;

/* ---- frames ---- */

struct job_spec {
	const char *queue, *type, *content_type;
	uint64_t id_hi, id_lo; /* 0, 0: no id */
	unsigned n_headers;
};

const char *const header_keys[] = { "trace-id", "tenant" };
const char *const header_values[] = { "00-4bf92f3577b34da6-01", "acme" };

std::vector<job_spec>
jobs_one()
{
	return { { "emails", "send_welcome", "application/json", 0, 0, 0 } };
}

std::vector<job_spec>
jobs_batch()
{
	std::vector<job_spec> v;

	for (unsigned i = 0; i < BATCH_JOBS; i++)
		v.push_back({ i & 1 ? "billing.invoices:eu-1" : "emails", "send_welcome",
			      "application/json", 0x5eed000000000000ULL | i, i + 1u, 2 });
	return v;
}

const uint8_t *
payload()
{
	static uint8_t p[PAYLOAD_BYTES];

	for (unsigned i = 0; i < PAYLOAD_BYTES; i++)
		p[i] = static_cast<uint8_t>(i * 7 + 3);
	return p;
}

bytes
build_official(const std::vector<job_spec> &spec)
{
	flatbuffers::FlatBufferBuilder b(4096);
	std::vector<flatbuffers::Offset<fb::Job>> jobs;

	for (const job_spec &s : spec) {
		std::vector<flatbuffers::Offset<fb::Header>> hs;

		for (unsigned h = 0; h < s.n_headers; h++)
			hs.push_back(fb::CreateHeaderDirect(b, header_keys[h], header_values[h]));
		auto queue = b.CreateString(s.queue);
		auto type = b.CreateString(s.type);
		auto pl = b.CreateVector(payload(), PAYLOAD_BYTES);
		auto ct = b.CreateString(s.content_type);
		auto headers = s.n_headers ? b.CreateVector(hs) : 0;
		fb::JobId id(s.id_hi, s.id_lo);
		jobs.push_back(fb::CreateJob(b, queue, type, s.id_hi || s.id_lo ? &id : nullptr, pl,
					     ct, 0, 0, 0, 0, 0, 0, 0, headers));
	}
	auto v = b.CreateVector(jobs);
	auto batch = fb::CreateEnqueueBatch(b, 1, v);
	fb::FinishSizePrefixedFrameBuffer(
		b, fb::CreateFrame(b, fb::Message_EnqueueBatch, batch.Union()));
	return bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

bytes
build_sluice(const std::vector<job_spec> &spec)
{
	static wire_header_in headers[2];
	std::vector<wire_job_in> jobs;
	bytes out(1u << 20);
	wire_msg_in m = {};

	for (unsigned h = 0; h < 2; h++)
		headers[h] = { wire_cstr(header_keys[h]), wire_cstr(header_values[h]) };
	for (const job_spec &s : spec) {
		wire_job_in j = {};

		j.queue = wire_cstr(s.queue);
		j.type = wire_cstr(s.type);
		j.id = { s.id_hi, s.id_lo };
		j.payload = { payload(), PAYLOAD_BYTES };
		j.content_type = wire_cstr(s.content_type);
		j.headers = s.n_headers ? headers : nullptr;
		j.n_headers = s.n_headers;
		jobs.push_back(j);
	}
	m.type = WIRE_MSG_ENQUEUE_BATCH;
	m.u.enqueue_batch.seq = 1;
	m.u.enqueue_batch.jobs = jobs.data();
	m.u.enqueue_batch.n_jobs = static_cast<uint32_t>(jobs.size());
	ssize_t n = wire_build(out.data(), out.size(), &m);
	if (n <= 0) {
		fprintf(stderr, "wire_bench: wire_build: %s\n",
			wire_error_name(static_cast<int>(n)));
		exit(1);
	}
	out.resize(static_cast<size_t>(n));
	return out;
}

/* ---- the two implementations: verify, then read every field ---- */

inline uint64_t
sluice_verify_read(const uint8_t *frame, size_t len)
{
	if (wire_verify(frame, len, nullptr, nullptr) != 0)
		return 0;

	const struct wire_enqueue_batch *b = wire_frame_enqueue_batch(wire_frame_root(frame));
	uint64_t s = wire_enqueue_batch_seq(b);
	uint32_t n = wire_enqueue_batch_jobs_len(b);

	for (uint32_t i = 0; i < n; i++) {
		const struct wire_job *j = wire_enqueue_batch_jobs_at(b, i);
		struct wire_jobid id = wire_job_id(j);
		uint32_t nh = wire_job_headers_len(j);

		s += wire_job_queue(j).len + wire_job_type(j).len;
		s += id.hi + id.lo;
		s += wire_job_payload(j).len + wire_job_content_type(j).len;
		s += wire_job_priority(j) + wire_job_not_before_ms(j) + wire_job_ttl_ms(j);
		s += wire_job_max_attempts(j) + wire_job_lease_timeout_ms(j);
		s += wire_job_unique_key(j).len + wire_job_unique_ttl_ms(j);
		s += nh;
		for (uint32_t h = 0; h < nh; h++) {
			const struct wire_header *hd = wire_job_headers_at(j, h);

			s += wire_header_key(hd).len + wire_header_value(hd).len;
		}
	}
	return s;
}

template <typename T>
inline uint32_t
size_of(const T *v)
{
	return v ? v->size() : 0;
}

inline uint64_t
cpp_verify_read(const uint8_t *frame, size_t len)
{
	flatbuffers::Verifier v(frame, len);

	if (!fb::VerifySizePrefixedFrameBuffer(v))
		return 0;

	const fb::EnqueueBatch *b = fb::GetSizePrefixedFrame(frame)->msg_as_EnqueueBatch();
	const auto *jobs = b->jobs();
	uint64_t s = b->seq();
	uint32_t n = jobs->size();

	for (uint32_t i = 0; i < n; i++) {
		const fb::Job *j = jobs->Get(i);
		const fb::JobId *id = j->id();
		const auto *hs = j->headers();
		uint32_t nh = size_of(hs);

		s += size_of(j->queue()) + size_of(j->type());
		s += id ? id->hi() + id->lo() : 0;
		s += size_of(j->payload()) + size_of(j->content_type());
		s += j->priority() + j->not_before_ms() + j->ttl_ms();
		s += j->max_attempts() + j->lease_timeout_ms();
		s += size_of(j->unique_key()) + j->unique_ttl_ms();
		s += nh;
		for (uint32_t h = 0; h < nh; h++) {
			const fb::Header *hd = hs->Get(h);

			s += size_of(hd->key()) + size_of(hd->value());
		}
	}
	return s;
}

inline uint64_t
sluice_verify_only(const uint8_t *frame, size_t len)
{
	return wire_verify(frame, len, nullptr, nullptr) == 0;
}

inline uint64_t
cpp_verify_only(const uint8_t *frame, size_t len)
{
	flatbuffers::Verifier v(frame, len);

	return fb::VerifySizePrefixedFrameBuffer(v);
}

/* Distinct types, so each timing loop inlines its implementation. */
struct sluice_impl {
	uint64_t operator()(const uint8_t *frame, size_t len) const
	{
		return sluice_verify_read(frame, len);
	}
};

struct cpp_impl {
	uint64_t operator()(const uint8_t *frame, size_t len) const
	{
		return cpp_verify_read(frame, len);
	}
};

struct sluice_verify_impl {
	uint64_t operator()(const uint8_t *frame, size_t len) const
	{
		return sluice_verify_only(frame, len);
	}
};

struct cpp_verify_impl {
	uint64_t operator()(const uint8_t *frame, size_t len) const
	{
		return cpp_verify_only(frame, len);
	}
};

/* ---- timing ---- */

volatile uint64_t sink;

double
now_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per call of fn over iters calls; the frame pointer is hidden from the optimizer. */
template <typename F>
double
time_loop(F fn, const uint8_t *frame, size_t len, uint64_t iters)
{
	uint64_t s = 0;
	double t0 = now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		const uint8_t *p = frame;

		__asm__ volatile("" : "+r"(p));
		s += fn(p, len);
	}
	double t1 = now_ns();
	sink = sink + s;
	return (t1 - t0) / static_cast<double>(iters);
}

/* Iterations for about ms milliseconds per timing (at least 1000). */
template <typename F>
uint64_t
calibrate(F fn, const uint8_t *frame, size_t len, double ms)
{
	uint64_t iters = 1000;
	double ns;

	for (;;) {
		ns = time_loop(fn, frame, len, iters) * static_cast<double>(iters);
		if (ns > 2e6 || iters > (1ULL << 40))
			break;
		iters *= 4;
	}
	double per = ns / static_cast<double>(iters);
	uint64_t want = static_cast<uint64_t>(ms * 1e6 / per);
	return want < 1000 ? 1000 : want;
}

struct stats {
	double median, min;
};

stats
summarize(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return { v[v.size() / 2], v.front() };
}

struct result {
	std::string name;
	size_t bytes;
	uint32_t jobs;
	uint64_t iters;
	stats sluice, cpp;               /* verify + read */
	stats sluice_verify, cpp_verify; /* verify only */
};

result
bench(const char *name, const bytes &frame_in, uint32_t jobs, unsigned rounds, double ms)
{
	/* An exactly-sized heap copy, 64-byte aligned like a mempool buffer. */
	size_t len = frame_in.size();
	uint8_t *frame = static_cast<uint8_t *>(aligned_alloc(64, (len + 63) & ~size_t(63)));
	std::vector<double> ts, tc, tsv, tcv;

	memcpy(frame, frame_in.data(), len);
	uint64_t a = sluice_verify_read(frame, len), b = cpp_verify_read(frame, len);
	if (a == 0 || a != b) {
		fprintf(stderr,
			"wire_bench: %s: sluice and C++ disagree (sums %" PRIu64 " vs %" PRIu64
			"; 0 = rejected)\n",
			name, a, b);
		exit(1);
	}
	uint64_t iters = std::max(calibrate(sluice_impl(), frame, len, ms),
				  calibrate(cpp_impl(), frame, len, ms));
	for (unsigned r = 0; r < rounds; r++) {
		if (r & 1) {
			tc.push_back(time_loop(cpp_impl(), frame, len, iters));
			ts.push_back(time_loop(sluice_impl(), frame, len, iters));
			tcv.push_back(time_loop(cpp_verify_impl(), frame, len, iters));
			tsv.push_back(time_loop(sluice_verify_impl(), frame, len, iters));
		} else {
			ts.push_back(time_loop(sluice_impl(), frame, len, iters));
			tc.push_back(time_loop(cpp_impl(), frame, len, iters));
			tsv.push_back(time_loop(sluice_verify_impl(), frame, len, iters));
			tcv.push_back(time_loop(cpp_verify_impl(), frame, len, iters));
		}
	}
	free(frame);
	return { name,          len,           jobs,           iters,
		 summarize(ts), summarize(tc), summarize(tsv), summarize(tcv) };
}

int
pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		cpu = sched_getcpu();
	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? cpu : -1;
}

[[noreturn]] void
usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--rounds N (odd, default 11)] [--ms MS per timing (default 20)]\n"
		"       [--cpu N (default: the current one)] [--only SUBSTRING]\n"
		"       [--loop N sluice|cpp|sluice-verify|cpp-verify (profiling: N calls, "
		"no report)]\n",
		argv0);
	exit(2);
}

} // namespace

int
main(int argc, char **argv)
{
	unsigned rounds = 11;
	double ms = 20;
	int cpu = -1;
	const char *only = "";
	uint64_t loop = 0;
	const char *loop_impl = "";

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0)
			rounds = static_cast<unsigned>(atoi(argv[++i]));
		else if (i + 1 < argc && strcmp(argv[i], "--ms") == 0)
			ms = atof(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--cpu") == 0)
			cpu = atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--only") == 0)
			only = argv[++i];
		else if (i + 2 < argc && strcmp(argv[i], "--loop") == 0) {
			loop = strtoull(argv[++i], nullptr, 10);
			loop_impl = argv[++i];
			if (!loop)
				usage(argv[0]);
		} else
			usage(argv[0]);
	}
	if (rounds == 0 || ms <= 0)
		usage(argv[0]);

	int pinned = pin(cpu);
	std::vector<result> res;
	std::vector<job_spec> one = jobs_one(), batch = jobs_batch();
	const struct {
		const char *name;
		bytes frame;
		uint32_t jobs;
	} frames[] = {
		{ "one_job/flatbuffers-builder", build_official(one), 1 },
		{ "one_job/wire_build", build_sluice(one), 1 },
		{ "batch64/flatbuffers-builder", build_official(batch), BATCH_JOBS },
		{ "batch64/wire_build", build_sluice(batch), BATCH_JOBS },
	};

	for (const auto &f : frames) {
		if (!strstr(f.name, only))
			continue;
		if (loop) {
			const uint8_t *p = f.frame.data();
			size_t n = f.frame.size();

			if (strcmp(loop_impl, "sluice") == 0)
				sink = sink + time_loop(sluice_impl(), p, n, loop);
			else if (strcmp(loop_impl, "cpp") == 0)
				sink = sink + time_loop(cpp_impl(), p, n, loop);
			else if (strcmp(loop_impl, "sluice-verify") == 0)
				sink = sink + time_loop(sluice_verify_impl(), p, n, loop);
			else if (strcmp(loop_impl, "cpp-verify") == 0)
				sink = sink + time_loop(cpp_verify_impl(), p, n, loop);
			else
				usage(argv[0]);
			continue;
		}
		res.push_back(bench(f.name, f.frame, f.jobs, rounds, ms));
	}
	if (loop)
		return 0;

#ifdef __OPTIMIZE__
	const char *opt = "optimized";
#else
	const char *opt = "NOT optimized (use tests/bench/wire-bench.sh)";
#endif
	printf("wire_bench: verify + read every field, ns/frame; %u rounds, %s, %s\n", rounds,
	       pinned >= 0 ? ("pinned to CPU " + std::to_string(pinned)).c_str() : "not pinned",
	       opt);
	printf("%-28s %6s %4s %9s | %9s %9s | %9s %9s | %7s || %9s %9s %7s\n", "frame/built by",
	       "bytes", "jobs", "iters", "sluice", "(min)", "C++", "(min)", "C++/sl", "verify:sl",
	       "C++", "C++/sl");
	for (const result &r : res)
		printf("%-28s %6zu %4u %9" PRIu64
		       " | %9.1f %9.1f | %9.1f %9.1f | %7.2f || %9.1f %9.1f "
		       "%7.2f\n",
		       r.name.c_str(), r.bytes, r.jobs, r.iters, r.sluice.median, r.sluice.min,
		       r.cpp.median, r.cpp.min, r.cpp.median / r.sluice.median,
		       r.sluice_verify.median, r.cpp_verify.median,
		       r.cpp_verify.median / r.sluice_verify.median);
	printf("(columns before ||: verify + read every field, median and min; after: verify only, "
	       "medians)\n");

	printf("{\"bench\":\"wire_verify_read\",\"unit\":\"ns/frame\",\"rounds\":%u,\"cpu\":%d,"
	       "\"results\":[",
	       rounds, pinned);
	for (size_t i = 0; i < res.size(); i++) {
		const result &r = res[i];

		printf("%s{\"frame\":\"%s\",\"bytes\":%zu,\"jobs\":%u,\"iters\":%" PRIu64
		       ",\"sluice_median\":%.1f,\"sluice_min\":%.1f,\"cpp_median\":%.1f,"
		       "\"cpp_min\":%.1f,\"ratio_cpp_over_sluice\":%.3f,"
		       "\"verify_only_sluice_median\":%.1f,\"verify_only_cpp_median\":%.1f}",
		       i ? "," : "", r.name.c_str(), r.bytes, r.jobs, r.iters, r.sluice.median,
		       r.sluice.min, r.cpp.median, r.cpp.min, r.cpp.median / r.sluice.median,
		       r.sluice_verify.median, r.cpp_verify.median);
	}
	printf("]}\n");
	return 0;
}
