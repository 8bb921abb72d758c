/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Single-byte mutation and truncation test: sluice's strict verifier
 * against the official FlatBuffers C++ Verifier (2.0.8, default options).
 *
 * Frames: every seed given on the command line (built by flatc from
 * tests/seeds/NAME.json) plus frames made here with sluice's builder (one of
 * each message type, a one-job batch with a 128-byte payload, a 64-job
 * batch with headers). For each frame:
 *
 *   mutations    every byte position x every other byte value, in an
 *                exactly-sized heap block (ASan sees any over-read)
 *   truncations  every length 0..len-1, with the original size prefix
 *                (sluice must say frame_too_short below 12 bytes, else
 *                size_prefix_mismatch) and with the prefix rewritten to
 *                the new length
 *   extensions   1..8 trailing bytes, same two prefix variants
 *
 * Asserted on every input:
 *   - sluice accepts  =>  C++ accepts                  (strict subset)
 *   - a rejection names a known check and an offset inside the frame
 *   - sluice accepts  =>  every field read through wire.h stays inside
 *     the frame, wire_frame_json() renders it, and the values read equal
 *     the ones the generated C++ accessors read (tests/fuzz/wire_walk.h)
 *
 * The 64-job batch (25 KB, every mutation re-verifies 64 jobs) is too
 * large to mutate exhaustively under ASan in a minute. Its plan, fixed and
 * deterministic: all 255 values for the envelope (size prefix, Frame,
 * EnqueueBatch, jobs vector), all of job 0 and the non-payload bytes of
 * job 63; a sample for the non-payload bytes of jobs 1..62 (see
 * value_in_sample); two values for payload bytes of jobs 1..63 (opaque:
 * the verifier never looks inside). SLUICE_MUTATION_EXHAUSTIVE=1 turns
 * sampling off; SLUICE_MUTATION_ONLY=SUBSTRING keeps the frames whose name
 * contains SUBSTRING (for debugging and profiling).
 *
 * Exit 0 when every assertion held, 1 otherwise (first failures printed,
 * reproducers written as mutation-fail-*.bin in the working directory).
 */
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "wire_walk.h"

extern "C" {
#include "wire_build.h"
#include "wire_json.h"
}

namespace
{

/* Stop printing (not counting) failures after this many. */
constexpr unsigned FAIL_PRINT_MAX = 20;
/* Frames larger than this render JSON for every JSON_STRIDE-th accepted input only. */
constexpr size_t JSON_ALL_MAX_BYTES = 4096;
constexpr uint64_t JSON_STRIDE = 64;
/* Sampled positions: every SAMPLE_STRIDE-th value (rotating) plus fixed ones. */
constexpr unsigned SAMPLE_STRIDE = 32;

/* How many values a position gets. */
enum value_plan : uint8_t {
	PLAN_ALL = 0,    /* all 255 other values */
	PLAN_SAMPLE = 1, /* value_in_sample() */
	PLAN_OPAQUE = 2, /* two values: payload bytes */
};

struct frame_case {
	std::string name;
	const char *origin; /* "flatc" (seed) or "sluice" (builder) */
	std::vector<uint8_t> bytes;
	std::vector<uint8_t> plan; /* value_plan per position; empty: all PLAN_ALL */
	std::string plan_note;     /* what was sampled, for the output */

	frame_case(std::string n, const char *o, std::vector<uint8_t> b)
	    : name(std::move(n)), origin(o), bytes(std::move(b))
	{
	}
};

struct tally {
	uint64_t tried = 0;
	uint64_t sluice_ok = 0;
	uint64_t cpp_ok = 0;
	uint64_t cpp_only = 0;    /* C++ accepts, sluice refuses: strictness */
	uint64_t sluice_only = 0; /* sluice accepts, C++ refuses: must stay 0 */
	uint64_t walked = 0;
	uint64_t json = 0;
	uint64_t rejects[WIRE_E__COUNT] = {};

	void add(const tally &o)
	{
		tried += o.tried;
		sluice_ok += o.sluice_ok;
		cpp_ok += o.cpp_ok;
		cpp_only += o.cpp_only;
		sluice_only += o.sluice_only;
		walked += o.walked;
		json += o.json;
		for (int i = 0; i < WIRE_E__COUNT; i++)
			rejects[i] += o.rejects[i];
	}
};

struct context {
	FILE *devnull;
	uint64_t failures = 0;
};

/* Which input this is; the name is only built when something fails. */
struct where {
	const std::string &frame;
	const char *kind; /* "original", "pos", "trunc", "ext" */
	size_t a;         /* position, length or extra bytes */
	int b;            /* value, fill byte or -1 */
	bool prefixed;    /* size prefix rewritten */

	std::string tag() const
	{
		std::string t = frame + "-" + kind;

		if (strcmp(kind, "original") != 0)
			t += std::to_string(a);
		if (b >= 0)
			t += "-" + std::to_string(b);
		if (prefixed)
			t += "-prefixed";
		return t;
	}
};

void
save_reproducer(const std::string &tag, const uint8_t *buf, size_t len)
{
	std::string path = "mutation-fail-" + tag + ".bin";
	FILE *f = fopen(path.c_str(), "wb");

	if (f && fwrite(buf, 1, len, f) == len && fclose(f) == 0)
		fprintf(stderr, "  reproducer: %s (inspect with frame-check or flatc --annotate)\n",
			path.c_str());
	else if (f)
		fclose(f);
}

void fail(context *ctx, const where &w, const uint8_t *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void
fail(context *ctx, const where &w, const uint8_t *buf, size_t len, const char *fmt, ...)
{
	std::string tag = w.tag();
	va_list ap;

	if (ctx->failures++ >= FAIL_PRINT_MAX)
		return;
	fprintf(stderr, "FAIL %s: ", tag.c_str());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	save_reproducer(tag, buf, len);
}

/*
 * One input: both verifiers, the strict-subset property, the rejection's
 * contract, and on acceptance a full read through both sets of accessors.
 */
void
check_input(context *ctx, tally *t, const uint8_t *buf, size_t len, bool render_json,
	    const where &tag)
{
	uint32_t at = UINT32_MAX;
	int rc = wire_verify(buf, len, nullptr, &at);
	bool cpp = walk::cpp_verify(buf, len);

	t->tried++;
	t->cpp_ok += cpp;
	if (rc != 0) {
		t->cpp_only += cpp;
		if (rc >= 0 || -rc >= WIRE_E__COUNT) {
			fail(ctx, tag, buf, len, "wire_verify returned %d, not 0 or -WIRE_E_*", rc);
			return;
		}
		t->rejects[-rc]++;
		if (at == UINT32_MAX || (at >= len && !(len == 0 && at == 0)))
			fail(ctx, tag, buf, len,
			     "%s reported at offset %" PRIu32 " of a %zu-byte frame",
			     wire_error_name(rc), at, len);
		return;
	}
	t->sluice_ok++;
	t->sluice_only += !cpp;
	if (!cpp)
		fail(ctx, tag, buf, len, "sluice accepts, the C++ Verifier rejects");

	walk::digest ds = walk::sluice_frame(buf, len);
	t->walked++;
	if (ds.oob)
		fail(ctx, tag, buf, len,
		     "an accessor left the frame after wire_verify accepted it");
	if (render_json) {
		t->json++;
		if (wire_frame_json(buf, ctx->devnull) != 0)
			fail(ctx, tag, buf, len, "wire_frame_json failed on an accepted frame");
	}
	if (cpp && !ds.oob) {
		walk::digest dc = walk::cpp_frame(buf, len);

		if (dc.oob || dc.h != ds.h || dc.items != ds.items)
			fail(ctx, tag, buf, len,
			     "sluice and C++ accessors read different values (%" PRIu64
			     " vs %" PRIu64 " items)",
			     ds.items, dc.items);
	}
}

/* Values tried at a sampled position: fixed edge values, neighbours, and a rotating 1/32. */
bool
value_in_sample(size_t pos, uint8_t orig, unsigned v)
{
	static const uint8_t fixed[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x10,
					 0x20, 0x40, 0x7f, 0x80, 0xfe, 0xff };

	if (v == static_cast<uint8_t>(orig + 1) || v == static_cast<uint8_t>(orig - 1) ||
	    v == (orig ^ 0x80u) || v == (orig ^ 0x01u))
		return true;
	for (uint8_t x : fixed)
		if (v == x)
			return true;
	return (v + pos) % SAMPLE_STRIDE == 0;
}

/* Payload bytes: the complement and one value rotating with the position. */
bool
value_in_opaque(size_t pos, uint8_t orig, unsigned v)
{
	return v == (orig ^ 0xffu) || v == ((pos * 151 + 17) & 0xff);
}

bool
value_selected(const frame_case &fc, bool exhaustive, size_t pos, uint8_t orig, unsigned v)
{
	if (v == orig)
		return false;
	if (exhaustive || fc.plan.empty())
		return true;
	switch (fc.plan[pos]) {
	case PLAN_SAMPLE:
		return value_in_sample(pos, orig, v);
	case PLAN_OPAQUE:
		return value_in_opaque(pos, orig, v);
	default:
		return true;
	}
}

/* An exactly-sized heap copy: any read past the end is a heap overflow for ASan. */
uint8_t *
exact_copy(const uint8_t *src, size_t len)
{
	uint8_t *p = static_cast<uint8_t *>(malloc(len));

	if (!p && len) {
		perror("malloc");
		exit(1);
	}
	if (len)
		memcpy(p, src, len);
	return p;
}

void
put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

void
run_mutations(context *ctx, const frame_case &fc, bool exhaustive, tally *t)
{
	size_t len = fc.bytes.size();
	uint8_t *buf = exact_copy(fc.bytes.data(), len);
	bool all_json = len <= JSON_ALL_MAX_BYTES;
	uint64_t n = 0;

	for (size_t pos = 0; pos < len; pos++) {
		uint8_t orig = buf[pos];

		for (unsigned v = 0; v < 256; v++) {
			if (!value_selected(fc, exhaustive, pos, orig, v))
				continue;
			buf[pos] = static_cast<uint8_t>(v);
			/* Large frames: JSON for every JSON_STRIDE-th mutation only. */
			bool json = all_json || (n++ % JSON_STRIDE) == 0;
			check_input(ctx, t, buf, len, json,
				    where{ fc.name, "pos", pos, static_cast<int>(v), false });
		}
		buf[pos] = orig;
	}
	free(buf);
}

void
run_truncations(context *ctx, const frame_case &fc, tally *orig_prefix, tally *new_prefix)
{
	size_t len = fc.bytes.size();

	for (size_t n = 0; n < len; n++) {
		uint8_t *buf = exact_copy(fc.bytes.data(), n);
		int want = n < WIRE_FRAME_HEADER_BYTES ? -WIRE_E_FRAME_TOO_SHORT
						       : -WIRE_E_SIZE_PREFIX_MISMATCH;
		where tag{ fc.name, "trunc", n, -1, false };
		where tag_p{ fc.name, "trunc", n, -1, true };
		int rc = wire_verify(buf, n, nullptr, nullptr);

		orig_prefix->tried++;
		orig_prefix->cpp_ok += walk::cpp_verify(buf, n);
		if (rc == 0)
			orig_prefix->sluice_ok++;
		else if (-rc < WIRE_E__COUNT && rc < 0)
			orig_prefix->rejects[-rc]++;
		if (rc != want)
			fail(ctx, tag, buf, n,
			     "truncated to %zu bytes, original prefix: got %s, want %s", n,
			     wire_error_name(rc), wire_error_name(want));
		if (n >= 4) {
			put32(buf, static_cast<uint32_t>(n - 4));
			check_input(ctx, new_prefix, buf, n, true, tag_p);
		}
		free(buf);
	}
}

/* Trailing bytes after the frame: original prefix must be refused; rewritten, check as usual. */
void
run_extensions(context *ctx, const frame_case &fc, tally *orig_prefix, tally *new_prefix)
{
	size_t len = fc.bytes.size();

	for (size_t extra = 1; extra <= 8; extra++) {
		for (uint8_t fill : { 0x00, 0xff }) {
			std::vector<uint8_t> v(fc.bytes);
			v.resize(len + extra, fill);
			uint8_t *buf = exact_copy(v.data(), v.size());
			where tag{ fc.name, "ext", extra, fill, false };
			where tag_p{ fc.name, "ext", extra, fill, true };
			int rc = wire_verify(buf, v.size(), nullptr, nullptr);

			orig_prefix->tried++;
			orig_prefix->cpp_ok += walk::cpp_verify(buf, v.size());
			if (rc == 0)
				orig_prefix->sluice_ok++;
			else if (-rc < WIRE_E__COUNT && rc < 0)
				orig_prefix->rejects[-rc]++;
			if (rc != -WIRE_E_SIZE_PREFIX_MISMATCH)
				fail(ctx, tag, buf, v.size(),
				     "%zu trailing bytes, original prefix: got %s, want "
				     "size_prefix_mismatch",
				     extra, wire_error_name(rc));
			put32(buf, static_cast<uint32_t>(v.size() - 4));
			check_input(ctx, new_prefix, buf, v.size(), true, tag_p);
			free(buf);
		}
	}
}

/* ---- inputs ---- */

std::vector<uint8_t>
read_file(const char *path)
{
	std::vector<uint8_t> v;
	FILE *f = fopen(path, "rb");
	uint8_t chunk[4096];
	size_t n;

	if (!f) {
		fprintf(stderr, "wire_mutation: cannot open seed %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		v.insert(v.end(), chunk, chunk + n);
	if (ferror(f)) {
		fprintf(stderr, "wire_mutation: cannot read seed %s\n", path);
		exit(1);
	}
	fclose(f);
	return v;
}

std::string
seed_name(const char *path)
{
	std::string s(path);
	size_t slash = s.find_last_of('/');

	if (slash != std::string::npos)
		s.erase(0, slash + 1);
	if (s.size() > 4 && s.compare(s.size() - 4, 4, ".bin") == 0)
		s.erase(s.size() - 4);
	return s;
}

std::vector<uint8_t>
build(const char *what, const wire_msg_in &m)
{
	std::vector<uint8_t> v(1u << 20);
	ssize_t n = wire_build(v.data(), v.size(), &m);

	if (n <= 0) {
		fprintf(stderr, "wire_mutation: wire_build(%s): %s\n", what,
			wire_error_name(static_cast<int>(n)));
		exit(1);
	}
	v.resize(static_cast<size_t>(n));
	return v;
}

wire_str
S(const char *s)
{
	return wire_cstr(s);
}

const uint8_t *
payload128()
{
	static uint8_t p[128];

	for (unsigned i = 0; i < sizeof(p); i++)
		p[i] = static_cast<uint8_t>(i * 7 + 3);
	return p;
}

const wire_header_in job_headers[2] = {
	{ { "trace-id", 8 }, { "00-4bf92f3577b34da6-01", 22 } },
	{ { "tenant", 6 }, { "acme", 4 } },
};

wire_job_in
full_job()
{
	static const uint8_t pl[] = { 0, 1, 2, 3, 0xfd, 0xfe, 0xff };
	wire_job_in j = {};

	j.queue = S("billing.invoices:eu-1");
	j.type = S("Invoice_Render-v2");
	j.id = { 0x1234567890abcdefULL, 0xfedcba0987654321ULL };
	j.payload = { pl, sizeof(pl) };
	j.content_type = S("application/octet-stream");
	j.priority = 15;
	j.not_before_ms = 1795000000000ULL;
	j.ttl_ms = WIRE_DURATION_MS_MAX;
	j.max_attempts = WIRE_ATTEMPTS_MAX;
	j.lease_timeout_ms = 30000;
	j.unique_key = S("invoice 42 / render");
	j.unique_ttl_ms = 3600000;
	j.headers = job_headers;
	j.n_headers = 2;
	return j;
}

/*
 * The value plan of the 64-job batch (see the top of the file). The builder
 * writes job by job: job i spans from its vtable to job i + 1's vtable.
 */
void
plan_batch(frame_case *fc)
{
	const uint8_t *base = fc->bytes.data();
	size_t len = fc->bytes.size();

	if (wire_verify(base, len, nullptr, nullptr) != 0)
		return; /* main() reports the unmutated frame */
	const struct wire_enqueue_batch *b = wire_frame_enqueue_batch(wire_frame_root(base));
	uint32_t n = wire_enqueue_batch_jobs_len(b);
	auto job_start = [&](uint32_t i) -> size_t {
		if (i == n)
			return len;
		const uint8_t *t =
			reinterpret_cast<const uint8_t *>(wire_enqueue_batch_jobs_at(b, i));
		return static_cast<size_t>(t - base) - static_cast<int32_t>(wire_ld32(t));
	};

	fc->plan.assign(len, PLAN_ALL);
	for (uint32_t i = 1; i + 1 < n; i++)
		for (size_t p = job_start(i); p < job_start(i + 1); p++)
			fc->plan[p] = PLAN_SAMPLE;
	for (uint32_t i = 1; i < n; i++) {
		struct wire_bytes pl = wire_job_payload(wire_enqueue_batch_jobs_at(b, i));
		size_t at = static_cast<size_t>(pl.p - base);

		for (size_t p = at; p < at + pl.len; p++)
			fc->plan[p] = PLAN_OPAQUE;
	}
	fc->plan_note = "SAMPLED (deterministic): all 255 values for bytes [0, " +
			std::to_string(job_start(1)) + ") (envelope, job 0) and job 63 [" +
			std::to_string(job_start(n - 1)) + ", " + std::to_string(len) +
			") except its payload; jobs 1..62 outside payloads: 0x00-0x04, 0x08, "
			"0x10, 0x20, 0x40, 0x7f, 0x80, 0xfe, 0xff, orig+-1, orig^0x01, "
			"orig^0x80 and every " +
			std::to_string(SAMPLE_STRIDE) +
			"-th value rotating with the position; payload bytes of jobs 1..63: "
			"orig^0xff and one rotating value. SLUICE_MUTATION_EXHAUSTIVE=1 for all.";
}

/* Frames from sluice's own builder: its layout (front to back) differs from flatc's. */
void
add_builder_frames(std::vector<frame_case> *out)
{
	static const uint16_t statuses[] = { WIRE_STATUS_OK, WIRE_STATUS_DUPLICATE,
					     WIRE_STATUS_EXPIRED };
	static const wire_jobid ids[] = { { 1, 2 }, { 0, 0 }, { UINT64_MAX, UINT64_MAX } };
	static const uint64_t lease_ids[] = { 1, 77, UINT64_MAX };
	static const wire_queue_weight_in queues[] = { { { "emails", 6 }, 3 },
						       { { "billing.invoices:eu-1", 21 }, 1000 } };
	static const uint8_t token[] = { 's', 'l', 'q', '_', 't', 'e', 's', 't' };
	static std::vector<wire_job_in> jobs64;
	wire_msg_in m;

	auto add = [out](const char *name, const wire_msg_in &msg) {
		out->emplace_back(name, "sluice", build(name, msg));
	};

	m = {};
	m.type = WIRE_MSG_HELLO;
	m.u.hello.version = 1;
	m.u.hello.role = WIRE_ROLE_BOTH;
	m.u.hello.token = { token, sizeof(token) };
	m.u.hello.client_name = S("mutation-test/1.0");
	add("b_hello", m);

	m = {};
	m.type = WIRE_MSG_WELCOME;
	m.u.welcome.version = 1;
	m.u.welcome.session_id = UINT64_MAX;
	m.u.welcome.max_frame_bytes = WIRE_FRAME_BYTES_DEFAULT;
	m.u.welcome.max_batch_jobs = WIRE_BATCH_JOBS_DEFAULT;
	m.u.welcome.heartbeat_ms = 5000;
	m.u.welcome.server_name = S("sluiced");
	add("b_welcome", m);

	m = {};
	m.type = WIRE_MSG_ENQUEUE_ACK;
	m.u.enqueue_ack.seq = 7;
	m.u.enqueue_ack.status = statuses;
	m.u.enqueue_ack.ids = ids;
	m.u.enqueue_ack.n = 3;
	add("b_enqueue_ack", m);

	m = {};
	m.type = WIRE_MSG_SUBSCRIBE;
	m.u.subscribe.queues = queues;
	m.u.subscribe.n_queues = 2;
	m.u.subscribe.prefetch = 64;
	add("b_subscribe", m);

	m = {};
	m.type = WIRE_MSG_CREDIT;
	m.u.credit.credit = WIRE_CREDIT_MAX;
	add("b_credit", m);

	m = {};
	m.type = WIRE_MSG_DELIVER;
	m.u.deliver.lease_id = 77;
	m.u.deliver.attempt = 2;
	m.u.deliver.lease_timeout_ms = 30000;
	m.u.deliver.enqueued_ms = 1795000000123ULL;
	m.u.deliver.job = full_job();
	add("b_deliver_full", m);

	m = {};
	m.type = WIRE_MSG_COMPLETE;
	m.u.complete.seq = 3;
	m.u.complete.lease_ids = lease_ids;
	m.u.complete.n = 3;
	add("b_complete", m);

	m = {};
	m.type = WIRE_MSG_FAIL;
	m.u.fail.seq = 4;
	m.u.fail.lease_id = 77;
	m.u.fail.reason = S("upstream timeout");
	m.u.fail.retry_delay_ms = 1000;
	m.u.fail.dead = true;
	add("b_fail", m);

	m = {};
	m.type = WIRE_MSG_EXTEND_LEASE;
	m.u.extend_lease.seq = 5;
	m.u.extend_lease.lease_ids = lease_ids;
	m.u.extend_lease.n = 2;
	m.u.extend_lease.extend_ms = 60000;
	add("b_extend_lease", m);

	m = {};
	m.type = WIRE_MSG_LEASE_ACK;
	m.u.lease_ack.seq = 5;
	m.u.lease_ack.status = statuses;
	m.u.lease_ack.n = 2;
	add("b_lease_ack", m);

	m = {};
	m.type = WIRE_MSG_PING;
	m.u.ping.nonce = 42;
	m.u.ping.time_ms = 1795000000000ULL;
	add("b_ping", m);

	m = {};
	m.type = WIRE_MSG_PONG;
	m.u.pong.nonce = 43;
	m.u.pong.time_ms = 1795000000001ULL;
	add("b_pong", m);

	m = {};
	m.type = WIRE_MSG_ERROR;
	m.u.error.code = WIRE_STATUS_TOO_LARGE;
	m.u.error.message = S("frame too large");
	m.u.error.ref_seq = 12;
	add("b_error", m);

	m = {};
	m.type = WIRE_MSG_GOODBYE;
	m.u.goodbye.reason = WIRE_STATUS_SHUTTING_DOWN;
	m.u.goodbye.message = S("draining");
	add("b_goodbye", m);

	wire_job_in one = {};
	one.queue = S("emails");
	one.type = S("send_welcome");
	one.payload = { payload128(), 128 };
	one.content_type = S("application/json");
	m = {};
	m.type = WIRE_MSG_ENQUEUE_BATCH;
	m.u.enqueue_batch.seq = 1;
	m.u.enqueue_batch.jobs = &one;
	m.u.enqueue_batch.n_jobs = 1;
	add("b_enqueue_one_128", m);

	jobs64.assign(64, wire_job_in{});
	for (unsigned i = 0; i < 64; i++) {
		wire_job_in &j = jobs64[i];

		j.queue = S(i & 1 ? "billing.invoices:eu-1" : "emails");
		j.type = S("send_welcome");
		j.id = { 0x5eed000000000000ULL | i, i + 1u };
		j.payload = { payload128(), 128 };
		j.content_type = S("application/json");
		j.headers = job_headers;
		j.n_headers = 2;
	}
	m = {};
	m.type = WIRE_MSG_ENQUEUE_BATCH;
	m.u.enqueue_batch.seq = 2;
	m.u.enqueue_batch.jobs = jobs64.data();
	m.u.enqueue_batch.n_jobs = 64;
	add("b_batch64_headers", m);

	plan_batch(&out->back());
}

} // namespace

int
main(int argc, char **argv)
{
	context ctx = {};
	std::vector<frame_case> frames;
	const char *ex = getenv("SLUICE_MUTATION_EXHAUSTIVE");
	bool exhaustive = ex && *ex && strcmp(ex, "0") != 0;
	tally total, trunc_orig, trunc_new;

	ctx.devnull = fopen("/dev/null", "w");
	if (!ctx.devnull) {
		perror("/dev/null");
		return 1;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s SEED.bin... (seed frames built by flatc)\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		frames.emplace_back(seed_name(argv[i]), "flatc", read_file(argv[i]));
	add_builder_frames(&frames);
	if (const char *only = getenv("SLUICE_MUTATION_ONLY")) {
		std::vector<frame_case> keep;

		for (frame_case &fc : frames)
			if (fc.name.find(only) != std::string::npos)
				keep.push_back(std::move(fc));
		frames.swap(keep);
		printf("SLUICE_MUTATION_ONLY=%s: %zu frame(s) kept\n", only, frames.size());
	}

	printf("sluice wire mutation test: %zu frames (%d flatc seeds, %zu from sluice's "
	       "builder)\n",
	       frames.size(), argc - 1, frames.size() - static_cast<size_t>(argc - 1));
	printf("columns: single-byte mutations tried, accepted by sluice, by C++, by C++ only "
	       "(sluice stricter);\n         cuts = truncations + extensions with the size prefix "
	       "rewritten, cuts_ok = accepted by sluice\n");
	printf("%-20s %-6s %6s %9s %9s %9s %8s %7s %7s %6s\n", "frame", "origin", "bytes",
	       "mutations", "sluice_ok", "cpp_ok", "cpp_only", "cuts", "cuts_ok", "ms");

	auto t_start = std::chrono::steady_clock::now();
	for (const frame_case &fc : frames) {
		auto t0 = std::chrono::steady_clock::now();
		size_t len = fc.bytes.size();
		tally mut, to, tn;

		where orig{ fc.name, "original", 0, -1, false };

		/* The unmutated frame: both accept, both read the same. */
		check_input(&ctx, &mut, fc.bytes.data(), len, true, orig);
		if (mut.sluice_ok != 1 || mut.cpp_ok != 1)
			fail(&ctx, orig, fc.bytes.data(), len,
			     "unmutated frame not accepted (sluice %" PRIu64 ", C++ %" PRIu64 ")",
			     mut.sluice_ok, mut.cpp_ok);
		mut = tally();

		run_mutations(&ctx, fc, exhaustive, &mut);
		run_truncations(&ctx, fc, &to, &tn);
		run_extensions(&ctx, fc, &to, &tn);

		double ms = std::chrono::duration<double, std::milli>(
				    std::chrono::steady_clock::now() - t0)
				    .count();
		printf("%-20s %-6s %6zu %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8" PRIu64
		       " %7" PRIu64 " %7" PRIu64 " %6.0f\n",
		       fc.name.c_str(), fc.origin, len, mut.tried, mut.sluice_ok, mut.cpp_ok,
		       mut.cpp_only, tn.tried, tn.sluice_ok, ms);
		if (!exhaustive && !fc.plan.empty())
			printf("  %s: %s\n", fc.name.c_str(), fc.plan_note.c_str());
		else if (exhaustive)
			printf("  %s: exhaustive (SLUICE_MUTATION_EXHAUSTIVE)\n", fc.name.c_str());
		if (len > JSON_ALL_MAX_BYTES)
			printf("  %s: wire_frame_json on accepted mutations among every %" PRIu64
			       "-th (%" PRIu64 " renders); both accessor walks on all %" PRIu64
			       " accepted\n",
			       fc.name.c_str(), JSON_STRIDE, mut.json, mut.walked);
		total.add(mut);
		trunc_orig.add(to);
		trunc_new.add(tn);
	}
	double secs =
		std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

	printf("\nsingle-byte mutations: %" PRIu64 " tried, sluice accepted %" PRIu64
	       ", C++ accepted %" PRIu64 ", C++ only %" PRIu64 ", sluice only %" PRIu64
	       " (must be 0)\n",
	       total.tried, total.sluice_ok, total.cpp_ok, total.cpp_only, total.sluice_only);
	printf("  accepted frames walked through wire.h and C++ accessors: %" PRIu64
	       ", rendered as JSON: %" PRIu64 "\n",
	       total.walked, total.json);
	printf("truncations/extensions, original prefix: %" PRIu64
	       " tried, sluice accepted %" PRIu64 " (must be 0), C++ accepted %" PRIu64 "\n",
	       trunc_orig.tried, trunc_orig.sluice_ok, trunc_orig.cpp_ok);
	printf("truncations/extensions, prefix rewritten: %" PRIu64
	       " tried, sluice accepted %" PRIu64 ", C++ accepted %" PRIu64 ", C++ only %" PRIu64
	       "\n",
	       trunc_new.tried, trunc_new.sluice_ok, trunc_new.cpp_ok, trunc_new.cpp_only);
	printf("sluice rejections of mutations by check:");
	for (int i = 1; i < WIRE_E__COUNT; i++)
		if (total.rejects[i])
			printf(" %s=%" PRIu64, wire_error_name(i), total.rejects[i]);
	printf("\ntime: %.1f s\n", secs);
	fclose(ctx.devnull);

	if (ctx.failures) {
		printf("FAILED: %" PRIu64 " assertion(s) failed (first %u printed on stderr)\n",
		       ctx.failures, FAIL_PRINT_MAX);
		return 1;
	}
	printf("OK: every sluice-accepted input was accepted by the C++ Verifier and read "
	       "identically\n");
	return 0;
}
