/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Edge cases of wire_build():
 *  - capacity: into every capacity from 0 to len - 1 it returns
 *    -WIRE_E_BUILD_NO_SPACE and writes nothing past the capacity (a guard
 *    region after it must keep its pattern); into exactly len it builds the
 *    same bytes as into a large buffer;
 *  - destination alignment: built at addresses offset by 1..7 bytes, the
 *    frame is byte-identical and verifies;
 *  - bad input: unknown type, NULL arrays with a non-zero count, NULL buffer
 *    or message give -WIRE_E_BUILD_BAD_INPUT.
 * With --long-strings: strings longer than any frame could hold (the
 * contract in wire_build.h says -WIRE_E_BUILD_BAD_INPUT), each tried in a
 * child process so that a crash is reported rather than taking the test down.
 *
 *   usage: builder_edges [--long-strings]
 *
 * Exit: 0 all checks passed, 1 a check failed (each failure is printed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire_build.h"

#define GUARD 64
#define GUARD_BYTE 0xa5
#define BATCH_JOBS 64

static int failures;
static unsigned checks;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

/* ---- sample messages ---- */

static const uint8_t some_bytes[256] = { 0x80, 0x04, 0x95, 0x00, 0xff, 0x10, 0x20, 0x30 };
#define STR(s)                                                                                     \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
static const struct wire_header_in headers[3] = {
	{ STR("trace-id"), STR("00-4bf92f3577b34da6-01") },
	{ STR("tenant"), STR("") },
	{ STR("k"), STR("a value with \"quotes\" and \\") },
};
static struct wire_job_in batch_jobs[BATCH_JOBS];
static const uint16_t statuses[5] = { 0, 1, 2, 20, 21 };
static const struct wire_jobid ack_ids[5] = {
	{ 1, 2 }, { 0, 0 }, { UINT64_MAX, 1 }, { 7, 0 }, { 0, 9 }
};
static const uint64_t lease_ids[7] = { 1, 2, 3, UINT64_MAX, 0, 77, 1ull << 40 };
static const struct wire_queue_weight_in queues[3] = {
	{ STR("emails"), 3 },
	{ STR("billing.invoices:eu-1"), 1 },
	{ STR("q"), 1000 },
};

static struct wire_job_in
sample_job(unsigned i)
{
	struct wire_job_in j = {
		.queue = wire_cstr(i % 2 ? "emails" : "billing.invoices:eu-1"),
		.type = wire_cstr(i % 3 ? "send_welcome" : "Invoice_Render-v2"),
		.id = { i, UINT64_MAX - i },
		.payload = { some_bytes, (uint32_t)(i * 7 % 200) },
		.priority = (uint8_t)(i % 16),
		.not_before_ms = i % 5 ? 1795000000000ull + i : 0,
		.ttl_ms = i % 4 ? 60000 : 0,
		.max_attempts = (uint16_t)(i % 11),
		.lease_timeout_ms = 30000,
	};

	if (i % 3 == 0)
		j.content_type = wire_cstr("application/json");
	if (i % 5 == 0) {
		j.unique_key = wire_cstr("invoice 42 / render");
		j.unique_ttl_ms = 3600000;
	}
	if (i % 4) {
		j.headers = headers;
		j.n_headers = i % 4;
	}
	return j;
}

/* Case c as a message; false when there are no more cases. */
static bool
sample_message(unsigned c, struct wire_msg_in *m)
{
	unsigned i;

	memset(m, 0, sizeof(*m));
	switch (c) {
	case 0:
		m->type = WIRE_MSG_HELLO;
		m->u.hello.version = WIRE_PROTOCOL_VERSION;
		m->u.hello.role = WIRE_ROLE_CONSUMER;
		m->u.hello.token = (struct wire_bytes){ some_bytes, 16 };
		m->u.hello.client_name = wire_cstr("edge-client/1.0");
		return true;
	case 1:
		m->type = WIRE_MSG_ENQUEUE_BATCH;
		for (i = 0; i < BATCH_JOBS; i++)
			batch_jobs[i] = sample_job(i);
		m->u.enqueue_batch.seq = 9007199254740993ull;
		m->u.enqueue_batch.jobs = batch_jobs;
		m->u.enqueue_batch.n_jobs = BATCH_JOBS;
		return true;
	case 2:
		/* Odd [Status] length before [JobId]: the 8-byte elements need padding. */
		m->type = WIRE_MSG_ENQUEUE_ACK;
		m->u.enqueue_ack.seq = 7;
		m->u.enqueue_ack.status = statuses;
		m->u.enqueue_ack.ids = ack_ids;
		m->u.enqueue_ack.n = 5;
		return true;
	case 3:
		m->type = WIRE_MSG_SUBSCRIBE;
		m->u.subscribe.queues = queues;
		m->u.subscribe.n_queues = 3;
		m->u.subscribe.prefetch = 64;
		return true;
	case 4:
		m->type = WIRE_MSG_DELIVER;
		m->u.deliver.lease_id = 77;
		m->u.deliver.attempt = 2;
		m->u.deliver.lease_timeout_ms = 30000;
		m->u.deliver.enqueued_ms = 1795000000123ull;
		m->u.deliver.job = sample_job(15);
		return true;
	case 5:
		m->type = WIRE_MSG_COMPLETE;
		m->u.complete.seq = 3;
		m->u.complete.lease_ids = lease_ids;
		m->u.complete.n = 7;
		return true;
	case 6:
		m->type = WIRE_MSG_FAIL;
		m->u.fail.seq = 4;
		m->u.fail.lease_id = 77;
		m->u.fail.reason = wire_cstr("upstream timeout");
		m->u.fail.retry_delay_ms = 1000;
		m->u.fail.dead = true;
		return true;
	case 7:
		m->type = WIRE_MSG_CREDIT;
		m->u.credit.credit = 32;
		return true;
	case 8:
		m->type = WIRE_MSG_GOODBYE;
		m->u.goodbye.reason = WIRE_STATUS_SHUTTING_DOWN;
		m->u.goodbye.message = wire_cstr("draining");
		return true;
	default:
		return false;
	}
}

/* ---- checks ---- */

/* The GUARD bytes after cap: filled with a pattern, then checked. */
static void
guard_fill(uint8_t *buf, size_t cap)
{
	memset(buf + cap, GUARD_BYTE, GUARD);
}

static bool
guard_intact(const uint8_t *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < GUARD; i++)
		if (buf[cap + i] != GUARD_BYTE)
			return false;
	return true;
}

static void
check_capacities(const char *name, const struct wire_msg_in *m, const uint8_t *ref, size_t len)
{
	size_t cap, wrong = 0, overrun = 0;
	uint8_t *buf;
	ssize_t rc;

	/* Exactly sized blocks: ASan also sees writes beyond the guard. */
	for (cap = 0; cap < len; cap++) {
		buf = malloc(cap + GUARD);
		if (!buf)
			abort();
		memset(buf, 0x5a, cap);
		guard_fill(buf, cap);
		rc = wire_build(buf, cap, m);
		if (rc != -WIRE_E_BUILD_NO_SPACE && wrong++ < 3)
			fprintf(stderr,
				"%s: capacity %zu of %zu: got %zd (%s), want build_no_space\n",
				name, cap, len, rc, rc < 0 ? wire_error_name((int)rc) : "a frame");
		if (!guard_intact(buf, cap) && overrun++ < 3)
			fprintf(stderr, "%s: capacity %zu of %zu: wrote past the capacity\n", name,
				cap, len);
		checks += 2;
		free(buf);
	}
	CHECK(wrong == 0, "%s: %zu capacities below %zu did not give build_no_space", name, wrong,
	      len);
	CHECK(overrun == 0, "%s: %zu capacities below %zu wrote past the capacity", name, overrun,
	      len);

	buf = malloc(len + GUARD);
	if (!buf)
		abort();
	guard_fill(buf, len);
	rc = wire_build(buf, len, m);
	CHECK(rc == (ssize_t)len, "%s: capacity %zu (exact): got %zd, want %zu", name, len, rc,
	      len);
	CHECK(rc == (ssize_t)len && memcmp(buf, ref, len) == 0,
	      "%s: capacity %zu (exact): bytes differ from a large buffer", name, len);
	CHECK(guard_intact(buf, len), "%s: capacity %zu (exact): wrote past the capacity", name,
	      len);
	free(buf);
}

static void
check_alignment(const char *name, const struct wire_msg_in *m, const uint8_t *ref, size_t len)
{
	/* malloc's block is at least 8-aligned: base + off is misaligned by off. */
	uint8_t *block = malloc(len + 8 + GUARD);
	unsigned off;

	if (!block)
		abort();
	for (off = 1; off < 8; off++) {
		uint8_t *p = block + off;
		uint32_t at = 0;
		ssize_t rc;
		int vrc;

		guard_fill(p, len);
		rc = wire_build(p, len, m);
		CHECK(rc == (ssize_t)len, "%s: at offset %u: got %zd, want %zu", name, off, rc,
		      len);
		if (rc != (ssize_t)len)
			continue;
		CHECK(memcmp(p, ref, len) == 0, "%s: at offset %u: bytes differ", name, off);
		CHECK(guard_intact(p, len), "%s: at offset %u: wrote past the capacity", name, off);
		vrc = wire_verify(p, len, NULL, &at);
		CHECK(vrc == 0, "%s: at offset %u: verify: %s at byte %u", name, off,
		      wire_error_name(vrc), at);
		if (vrc == 0)
			CHECK(wire_frame_msg_type(wire_frame_root(p)) == m->type,
			      "%s: at offset %u: message type read back wrong", name, off);
	}
	free(block);
}

static void
check_sample(const struct wire_msg_in *m)
{
	static uint8_t ref[1 << 20];
	const char *name = wire_msg_name(m->type);
	uint32_t at = 0;
	ssize_t len = wire_build(ref, sizeof(ref), m);
	int vrc;

	CHECK(len > 0, "%s: build into 1 MiB: %s", name,
	      len < 0 ? wire_error_name((int)len) : "empty");
	if (len <= 0)
		return;
	vrc = wire_verify(ref, (size_t)len, NULL, &at);
	CHECK(vrc == 0, "%s: reference frame does not verify: %s at byte %u", name,
	      wire_error_name(vrc), at);
	if (m->type == WIRE_MSG_ENQUEUE_BATCH)
		CHECK(vrc == 0 && wire_enqueue_batch_jobs_len(wire_frame_enqueue_batch(
					  wire_frame_root(ref))) == BATCH_JOBS,
		      "%s: batch does not hold %u jobs", name, BATCH_JOBS);
	check_capacities(name, m, ref, (size_t)len);
	check_alignment(name, m, ref, (size_t)len);
	printf("%s: %zd bytes: capacities 0..%zd give build_no_space without writing past them, "
	       "exact capacity and offsets 1..7 give identical, valid frames\n",
	       name, len, len - 1);
}

/* wire_build into a guarded 4 KiB buffer must say bad input and write nothing past it. */
static void
expect_bad_input(const char *what, const struct wire_msg_in *m)
{
	static uint8_t buf[4096 + GUARD];
	ssize_t rc;

	guard_fill(buf, 4096);
	rc = wire_build(buf, 4096, m);
	CHECK(rc == -WIRE_E_BUILD_BAD_INPUT, "%s: got %zd (%s), want build_bad_input", what, rc,
	      rc < 0 ? wire_error_name((int)rc) : "a frame");
	CHECK(guard_intact(buf, 4096), "%s: wrote past the capacity", what);
	if (rc == -WIRE_E_BUILD_BAD_INPUT)
		printf("bad input: %s: build_bad_input\n", what);
}

static void
check_bad_inputs(void)
{
	static uint8_t buf[64];
	struct wire_job_in jobs[3], job;
	struct wire_msg_in m;
	ssize_t rc;

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_NONE;
	expect_bad_input("type NONE", &m);
	m.type = WIRE_MSG__COUNT;
	expect_bad_input("type one past the last", &m);
	m.type = (enum wire_msg)200;
	expect_bad_input("type 200", &m);

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_ENQUEUE_BATCH;
	m.u.enqueue_batch.n_jobs = 3;
	expect_bad_input("EnqueueBatch: jobs NULL, n_jobs 3", &m);

	jobs[0] = sample_job(1);
	jobs[1] = sample_job(2);
	jobs[1].headers = NULL;
	jobs[1].n_headers = 2;
	jobs[2] = sample_job(3);
	m.u.enqueue_batch.jobs = jobs;
	expect_bad_input("EnqueueBatch: jobs[1].headers NULL, n_headers 2", &m);

	job = sample_job(4);
	job.headers = NULL;
	job.n_headers = 1;
	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_DELIVER;
	m.u.deliver.job = job;
	expect_bad_input("Deliver: job.headers NULL, n_headers 1", &m);

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_ENQUEUE_ACK;
	m.u.enqueue_ack.n = 2;
	m.u.enqueue_ack.ids = ack_ids;
	expect_bad_input("EnqueueAck: status NULL, n 2", &m);
	m.u.enqueue_ack.status = statuses;
	m.u.enqueue_ack.ids = NULL;
	expect_bad_input("EnqueueAck: ids NULL, n 2", &m);

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_SUBSCRIBE;
	m.u.subscribe.n_queues = 1;
	expect_bad_input("Subscribe: queues NULL, n_queues 1", &m);

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_COMPLETE;
	m.u.complete.n = 1;
	expect_bad_input("Complete: lease_ids NULL, n 1", &m);

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_EXTEND_LEASE;
	m.u.extend_lease.n = 4;
	expect_bad_input("ExtendLease: lease_ids NULL, n 4", &m);

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_LEASE_ACK;
	m.u.lease_ack.n = 1;
	expect_bad_input("LeaseAck: status NULL, n 1", &m);

	memset(&m, 0, sizeof(m));
	m.type = WIRE_MSG_CREDIT;
	m.u.credit.credit = 1;
	rc = wire_build(NULL, 4096, &m);
	CHECK(rc == -WIRE_E_BUILD_BAD_INPUT, "NULL buffer: got %zd, want build_bad_input", rc);
	rc = wire_build(buf, sizeof(buf), NULL);
	CHECK(rc == -WIRE_E_BUILD_BAD_INPUT, "NULL message: got %zd, want build_bad_input", rc);
}

/* ---- strings longer than any frame (--long-strings) ---- */

enum { CHILD_OK = 0, CHILD_WRONG = 3 };

/* In a child: build m with one string of length len; exit CHILD_OK or CHILD_WRONG. */
static void
long_string_child(const char *what, struct wire_msg_in *m, uint32_t len)
{
	static uint8_t buf[4096 + GUARD];
	ssize_t rc;

	guard_fill(buf, 4096);
	rc = wire_build(buf, 4096, m);
	if (rc != -WIRE_E_BUILD_BAD_INPUT || !guard_intact(buf, 4096)) {
		fprintf(stderr,
			"%s of length %" PRIu32 " (%#" PRIx32 "): got %zd (%s)%s, want "
			"build_bad_input\n",
			what, len, len, rc, rc < 0 ? wire_error_name((int)rc) : "a frame",
			guard_intact(buf, 4096) ? "" : " and wrote past the capacity");
		_exit(CHILD_WRONG);
	}
	_exit(CHILD_OK);
}

static void
check_long_string(const char *what, unsigned where, uint32_t len)
{
	/* The builder must refuse on the length alone: the bytes are never this long. */
	static const char small[16] = "0123456789abcde";
	struct wire_header_in h = { wire_cstr("k"), { small, 0 } };
	struct wire_job_in job = sample_job(1);
	struct wire_msg_in m;
	int status;
	pid_t pid;

	memset(&m, 0, sizeof(m));
	if (where == 0) {
		m.type = WIRE_MSG_GOODBYE;
		m.u.goodbye.message = (struct wire_str){ small, len };
	} else {
		job.headers = &h;
		job.n_headers = 1;
		if (where == 1)
			job.queue = (struct wire_str){ small, len };
		else
			h.value = (struct wire_str){ small, len };
		m.type = WIRE_MSG_ENQUEUE_BATCH;
		m.u.enqueue_batch.jobs = &job;
		m.u.enqueue_batch.n_jobs = 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		long_string_child(what, &m, len);
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		exit(1);
	}
	if (WIFSIGNALED(status))
		CHECK(0, "%s of length %" PRIu32 " (%#" PRIx32 "): wire_build crashed (signal %d)",
		      what, len, len, WTERMSIG(status));
	else
		CHECK(WEXITSTATUS(status) == CHILD_OK,
		      "%s of length %" PRIu32 " (%#" PRIx32 "): %s (child exit %d)", what, len, len,
		      WEXITSTATUS(status) == CHILD_WRONG ? "wrong result"
							 : "crashed or sanitizer report",
		      WEXITSTATUS(status));
}

static void
check_long_strings(void)
{
	static const char *const where[] = { "Goodbye.message", "Job.queue", "Header.value" };
	static const uint32_t lengths[] = {
		WIRE_FRAME_BYTES_CAP + 1,
		0x7fffffffu,
		0xfffffffau,
		0xfffffffbu,
		0xfffffffcu,
		0xfffffffeu,
		0xffffffffu,
	};
	unsigned w, i;

	for (w = 0; w < 3; w++)
		for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
			check_long_string(where[w], w, lengths[i]);
}

int
main(int argc, char **argv)
{
	struct wire_msg_in m;
	unsigned c;

	if (argc == 2 && strcmp(argv[1], "--long-strings") == 0) {
		check_long_strings();
	} else if (argc == 1) {
		for (c = 0; sample_message(c, &m); c++)
			check_sample(&m);
		check_bad_inputs();
	} else {
		fprintf(stderr, "usage: builder_edges [--long-strings]\n");
		return 1;
	}
	if (failures) {
		fprintf(stderr, "builder_edges: %d of %u checks failed\n", failures, checks);
		return 1;
	}
	printf("builder_edges: all %u checks passed\n", checks);
	return 0;
}
