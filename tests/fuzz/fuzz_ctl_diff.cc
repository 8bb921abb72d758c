/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the control message verifier (schema/ctl_verify.c,
 * what sluiced runs on every datagram of its control socket) against the
 * official C++ Verifier for schema/control.fbs, on arbitrary bytes.
 *
 * The input is copied into an exactly-sized heap block (ASan then sees any
 * read past its end) and verified by ctl_verify() and by
 * VerifySizePrefixedControlBuffer() (identifier SLC1, default options).
 * abort() unless:
 *   - a rejection is a known -WIRE_E_* with an offset inside the input;
 *   - ctl_verify accepts => the C++ Verifier accepts;
 *   - on acceptance, every field read through ctl.h's accessors equals what
 *     the flatc-generated C++ accessors read (strings by position and
 *     length), and every pointer stays inside the input;
 *   - on acceptance, the message rebuilt by ctl_build() from what was read
 *     is accepted by ctl_verify() too (builder and verifier agree).
 *
 * Run without arguments to fuzz, or with file arguments to replay them.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
#include "ctl_build.h"
}
#include "control_generated.h"

namespace
{

namespace fb = sluice::control;

struct walk {
	const uint8_t *base;
	size_t len;
};

[[noreturn]] void
mismatch(const char *what, size_t size, int rc = 0, uint32_t at = 0)
{
	fprintf(stderr, "fuzz_ctl_diff: MISMATCH: %s (input %zu bytes; sluice: %s at %u)\n", what,
		size, wire_error_name(rc), at);
	abort();
}

void
inside(const walk &w, const void *p, size_t n)
{
	const uint8_t *b = static_cast<const uint8_t *>(p);

	if (b < w.base || b > w.base + w.len || n > static_cast<size_t>(w.base + w.len - b))
		mismatch("an accessor left the message", w.len);
}

/* A string read both ways: both absent, or the same bytes at the same place. */
wire_str
same_string(const walk &w, wire_str s, const flatbuffers::String *c)
{
	if (!s.p != !c)
		mismatch("string present for one reader only", w.len);
	if (!s.p)
		return s;
	inside(w, s.p, s.len + 1ul);
	if (s.p != c->c_str() || s.len != c->size())
		mismatch("string differs", w.len);
	if (s.p[s.len] != '\0')
		mismatch("string not terminated", w.len);
	return s;
}

ctl_queue_info_in
same_info(const walk &w, const wire_ctl_queue_info *q, const fb::QueueInfo *c)
{
	ctl_queue_info_in in = {};

	if (!q || !c)
		mismatch("QueueInfo missing", w.len);
	inside(w, q, 4);
	in.name = same_string(w, wire_ctl_queue_info_name(q), c->name());
#define SAME(f)                                                                                    \
	do {                                                                                       \
		in.f = wire_ctl_queue_info_##f(q);                                                 \
		if (in.f != c->f())                                                                \
			mismatch("QueueInfo." #f " differs", w.len);                               \
	} while (0)
	SAME(paused);
	SAME(ready);
	SAME(delayed);
	SAME(retry_wait);
	SAME(leased);
	SAME(dead);
	SAME(bytes);
	SAME(enqueued);
	SAME(delivered);
	SAME(completed);
	SAME(failed);
	SAME(dead_lettered);
	SAME(expired);
	SAME(lease_timeouts);
	SAME(redriven);
	SAME(purged);
#undef SAME
	return in;
}

/* Read an accepted message both ways; describe it for ctl_build (infos: room for the list). */
ctl_msg_in
read_both(const walk &w, ctl_queue_info_in *infos)
{
	const wire_ctl_control *r = ctl_root(w.base);
	const fb::Control *c = fb::GetSizePrefixedControl(w.base);
	ctl_msg_in m = {};

	inside(w, r, 4);
	m.seq = wire_ctl_control_seq(r);
	m.type = static_cast<ctl_msg>(wire_ctl_control_msg_type(r));
	if (m.seq != c->seq() || m.type != static_cast<unsigned>(c->msg_type()))
		mismatch("seq or message type differs", w.len);
	switch (m.type) {
	case CTL_MSG_LIST_QUEUES:
		m.u.queue.name = same_string(w, wire_ctl_list_queues_queue(ctl_list_queues(r)),
					     c->msg_as_ListQueues()->queue());
		break;
	case CTL_MSG_PAUSE_QUEUE:
		m.u.queue.name = same_string(w, wire_ctl_pause_queue_queue(ctl_pause_queue(r)),
					     c->msg_as_PauseQueue()->queue());
		break;
	case CTL_MSG_RESUME_QUEUE:
		m.u.queue.name = same_string(w, wire_ctl_resume_queue_queue(ctl_resume_queue(r)),
					     c->msg_as_ResumeQueue()->queue());
		break;
	case CTL_MSG_PURGE_QUEUE:
		m.u.queue.name = same_string(w, wire_ctl_purge_queue_queue(ctl_purge_queue(r)),
					     c->msg_as_PurgeQueue()->queue());
		break;
	case CTL_MSG_REDRIVE_QUEUE:
		m.u.queue.name = same_string(w, wire_ctl_redrive_queue_queue(ctl_redrive_queue(r)),
					     c->msg_as_RedriveQueue()->queue());
		m.u.queue.max = wire_ctl_redrive_queue_max(ctl_redrive_queue(r));
		if (m.u.queue.max != c->msg_as_RedriveQueue()->max())
			mismatch("RedriveQueue.max differs", w.len);
		break;
	case CTL_MSG_QUEUE_LIST: {
		const wire_ctl_queue_list *l = ctl_queue_list(r);
		const auto *v = c->msg_as_QueueList()->queues();
		uint32_t n = wire_ctl_queue_list_queues_len(l);

		if (n != v->size() || n > CTL_QUEUES_MAX)
			mismatch("QueueList length differs", w.len);
		for (uint32_t i = 0; i < n; i++)
			infos[i] = same_info(w, wire_ctl_queue_list_queues_at(l, i), v->Get(i));
		m.u.queue_list.queues = infos;
		m.u.queue_list.n = n;
		break;
	}
	case CTL_MSG_ACTION_RESULT:
		m.u.action_result.count = wire_ctl_action_result_count(ctl_action_result(r));
		if (m.u.action_result.count != c->msg_as_ActionResult()->count())
			mismatch("ActionResult.count differs", w.len);
		m.u.action_result.queue =
			same_info(w, wire_ctl_action_result_queue(ctl_action_result(r)),
				  c->msg_as_ActionResult()->queue());
		break;
	case CTL_MSG_ERROR:
		m.u.error.code = wire_ctl_error_code(ctl_error(r));
		if (m.u.error.code != static_cast<unsigned>(c->msg_as_Error()->code()))
			mismatch("Error.code differs", w.len);
		m.u.error.message = same_string(w, wire_ctl_error_message(ctl_error(r)),
						c->msg_as_Error()->message());
		break;
	default:
		mismatch("accepted an unknown message type", w.len);
	}
	return m;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ctl_queue_info_in infos[CTL_QUEUES_MAX];
	static uint8_t rebuilt[CTL_DGRAM_BYTES];
	/* Exactly size bytes: no slack for an over-read to land in. */
	uint8_t *buf = static_cast<uint8_t *>(malloc(size));
	uint32_t at = UINT32_MAX;

	if (!buf && size)
		abort();
	if (size)
		memcpy(buf, data, size);
	int rc = ctl_verify(buf, size, &at);
	flatbuffers::Verifier v(buf, size);
	bool cpp = fb::VerifySizePrefixedControlBuffer(v);

	if (rc > 0 || -rc >= WIRE_E__COUNT)
		mismatch("ctl_verify returned a value that is not 0 or -WIRE_E_*", size, rc, at);
	if (rc < 0 && at >= size && !(size == 0 && at == 0))
		mismatch("rejection reported at an offset outside the input", size, rc, at);
	if (rc == 0 && !cpp) {
		fprintf(stderr, "fuzz_ctl_diff: DIVERGENCE: sluice accepts, the C++ Verifier "
				"rejects\n");
		abort();
	}
	if (rc == 0) {
		walk w = { buf, size };
		ctl_msg_in m = read_both(w, infos);
		ssize_t n = ctl_build(rebuilt, sizeof(rebuilt), &m);

		if (n <= 0)
			mismatch("ctl_build cannot rebuild an accepted message", size, (int)n);
		rc = ctl_verify(rebuilt, (size_t)n, &at);
		if (rc != 0)
			mismatch("ctl_verify refuses the rebuilt message", size, rc, at);
	}
	free(buf);
	return 0;
}
