/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the control message verifier (schema/ctl_verify.c,
 * what sluiced runs on every datagram of its control socket and of its
 * link to sluice-ctld) against the official C++ Verifier for
 * schema/control.fbs, on arbitrary bytes.
 *
 * The input is copied into an exactly-sized heap block (ASan then sees any
 * read past its end) and verified by ctl_verify() and by
 * VerifySizePrefixedControlBuffer() (identifier SLC1, default options).
 * abort() unless:
 *   - a rejection is a known -WIRE_E_* with an offset inside the input;
 *   - ctl_verify accepts => the C++ Verifier accepts;
 *   - on acceptance, every field of every message type (the queue requests
 *     and their answers, the link's Attach .. ConnList, JobRequest and
 *     JobList) read through ctl.h's accessors equals what the flatc-generated
 *     C++ accessors read: scalars by value; strings, byte vectors, vectors
 *     and tables by position and length (absent for both or present for
 *     both), vector elements one by one; and every pointer stays inside the
 *     input;
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
using fb_strings = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

struct walk {
	const uint8_t *base;
	size_t len;
};

/* Where read_both() puts the arrays a struct ctl_msg_in points to (bounds: ctl.h). */
struct room {
	ctl_queue_info_in infos[CTL_QUEUES_MAX];
	wire_str specs[CTL_QUEUES_MAX];
	ctl_grant_in grants[CTL_GRANTS_MAX];
	wire_str globs[CTL_GRANTS_MAX][CTL_GLOBS_MAX];
	wire_str types[CTL_GRANTS_MAX][CTL_TYPES_MAX];
	uint64_t creds[CTL_CREDS_MAX];
	uint32_t addrs[CTL_BANS_MAX];
	ctl_lcore_counters_in lcores[CTL_LCORES_MAX];
	wire_str names[CTL_LCORES_MAX][CTL_COUNTERS_MAX];
	uint64_t values[CTL_LCORES_MAX][CTL_COUNTERS_MAX];
	ctl_conn_info_in conns[CTL_CONNS_MAX];
	ctl_job_info_in jobs[CTL_JOBS_MAX];
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

/* A byte vector read both ways: both absent, or the same bytes at the same place. */
wire_bytes
same_bytes(const walk &w, wire_bytes b, const flatbuffers::Vector<uint8_t> *c, const char *what)
{
	if (!b.p != !c)
		mismatch("byte vector present for one reader only", w.len);
	if (!b.p)
		return b;
	inside(w, b.p - 4, 4);
	inside(w, b.p, b.len);
	if (b.p != c->Data() || b.len != c->size())
		mismatch(what, w.len);
	return b;
}

/*
 * Vector field fid of table t read both ways: both absent, or the same
 * length (len: sluice's _len accessor) at the same place, inside the input
 * and within max (the array read_both fills). Its length (0 when absent).
 */
template <typename T>
uint32_t
same_vector(const walk &w, const void *t, unsigned fid, uint32_t len,
	    const flatbuffers::Vector<T> *c, uint32_t max, const char *what)
{
	const uint8_t *v = wire_field_deref(t, fid);

	if (!v != !c)
		mismatch("vector present for one reader only", w.len);
	if (!v) {
		if (len != 0)
			mismatch("absent vector with a length", w.len);
		return 0;
	}
	inside(w, v, 4);
	if (len != wire_vec_len(v) || len != c->size() || v + 4 != c->Data())
		mismatch(what, w.len);
	inside(w, v + 4, sizeof(T) * static_cast<size_t>(len));
	if (len > max)
		mismatch("accepted a vector longer than its bound", w.len);
	return len;
}

/* A vector of strings read both ways into out[0, max); at(i) is sluice's _at accessor. */
template <typename At>
uint32_t
same_strings(const walk &w, const void *t, unsigned fid, uint32_t len, At at, const fb_strings *c,
	     wire_str *out, uint32_t max, const char *what)
{
	uint32_t n = same_vector(w, t, fid, len, c, max, what);

	for (uint32_t i = 0; i < n; i++) {
		out[i] = same_string(w, at(i), c->Get(i));
		if (!out[i].p)
			mismatch("string vector element missing", w.len);
	}
	return n;
}

/* A vector of scalars read both ways into out[0, max). */
template <typename T, typename At>
uint32_t
same_scalars(const walk &w, const void *t, unsigned fid, uint32_t len, At at,
	     const flatbuffers::Vector<T> *c, T *out, uint32_t max, const char *what)
{
	uint32_t n = same_vector(w, t, fid, len, c, max, what);

	for (uint32_t i = 0; i < n; i++) {
		out[i] = at(i);
		if (out[i] != c->Get(i))
			mismatch(what, w.len);
	}
	return n;
}

/* A table read both ways: present for both, at the same place. */
void
same_table(const walk &w, const void *t, const void *c, const char *what)
{
	if (!t || !c)
		mismatch(what, w.len);
	inside(w, t, 4);
	if (t != c)
		mismatch(what, w.len);
}

/* dst = field f of sluice's table t (a wire_ctl_<tbl>), which must equal ct->f(). */
#define SAME(dst, tbl, t, ct, f)                                                                   \
	do {                                                                                       \
		(dst) = wire_ctl_##tbl##_##f(t);                                                   \
		if ((dst) != (ct)->f())                                                            \
			mismatch(#tbl "." #f " differs", w.len);                                   \
	} while (0)

ctl_queue_info_in
same_info(const walk &w, const wire_ctl_queue_info *q, const fb::QueueInfo *c)
{
	ctl_queue_info_in in = {};

	same_table(w, q, c, "QueueInfo missing or elsewhere");
	in.name = same_string(w, wire_ctl_queue_info_name(q), c->name());
	SAME(in.paused, queue_info, q, c, paused);
	SAME(in.ready, queue_info, q, c, ready);
	SAME(in.delayed, queue_info, q, c, delayed);
	SAME(in.retry_wait, queue_info, q, c, retry_wait);
	SAME(in.leased, queue_info, q, c, leased);
	SAME(in.dead, queue_info, q, c, dead);
	SAME(in.bytes, queue_info, q, c, bytes);
	SAME(in.enqueued, queue_info, q, c, enqueued);
	SAME(in.delivered, queue_info, q, c, delivered);
	SAME(in.completed, queue_info, q, c, completed);
	SAME(in.failed, queue_info, q, c, failed);
	SAME(in.dead_lettered, queue_info, q, c, dead_lettered);
	SAME(in.expired, queue_info, q, c, expired);
	SAME(in.lease_timeouts, queue_info, q, c, lease_timeouts);
	SAME(in.redriven, queue_info, q, c, redriven);
	SAME(in.purged, queue_info, q, c, purged);
	return in;
}

/* Grant number i of a Grants message; its globs and types go to room. */
ctl_grant_in
same_grant(const walk &w, const wire_ctl_grant *g, const fb::Grant *c, room &rm, uint32_t i)
{
	ctl_grant_in in = {};

	same_table(w, g, c, "Grant missing or elsewhere");
	in.name = same_string(w, wire_ctl_grant_name(g), c->name());
	SAME(in.roles, grant, g, c, roles);
	in.n_queues = same_strings(
		w, g, wire_fid_ctl_grant_queues, wire_ctl_grant_queues_len(g),
		[g](uint32_t k) { return wire_ctl_grant_queues_at(g, k); }, c->queues(),
		rm.globs[i], CTL_GLOBS_MAX, "Grant.queues differs");
	in.queues = rm.globs[i];
	/* Optional: absent and empty both mean any type (n_types 0). */
	in.n_types = same_strings(
		w, g, wire_fid_ctl_grant_types, wire_ctl_grant_types_len(g),
		[g](uint32_t k) { return wire_ctl_grant_types_at(g, k); }, c->types(), rm.types[i],
		CTL_TYPES_MAX, "Grant.types differs");
	in.types = rm.types[i];
	SAME(in.max_payload, grant, g, c, max_payload);
	SAME(in.max_priority, grant, g, c, max_priority);
	SAME(in.jobs_per_s, grant, g, c, jobs_per_s);
	SAME(in.jobs_burst, grant, g, c, jobs_burst);
	SAME(in.bytes_per_s, grant, g, c, bytes_per_s);
	SAME(in.bytes_burst, grant, g, c, bytes_burst);
	SAME(in.max_conns, grant, g, c, max_conns);
	return in;
}

/* LcoreCounters number i of a CounterList; its names and values go to room. */
ctl_lcore_counters_in
same_lcore(const walk &w, const wire_ctl_lcore_counters *l, const fb::LcoreCounters *c, room &rm,
	   uint32_t i)
{
	ctl_lcore_counters_in in = {};
	uint32_t nv;

	same_table(w, l, c, "LcoreCounters missing or elsewhere");
	SAME(in.io, lcore_counters, l, c, io);
	in.n = same_strings(
		w, l, wire_fid_ctl_lcore_counters_names, wire_ctl_lcore_counters_names_len(l),
		[l](uint32_t k) { return wire_ctl_lcore_counters_names_at(l, k); }, c->names(),
		rm.names[i], CTL_COUNTERS_MAX, "LcoreCounters.names differs");
	in.names = rm.names[i];
	nv = same_scalars(
		w, l, wire_fid_ctl_lcore_counters_values, wire_ctl_lcore_counters_values_len(l),
		[l](uint32_t k) { return wire_ctl_lcore_counters_values_at(l, k); }, c->values(),
		rm.values[i], CTL_COUNTERS_MAX, "LcoreCounters.values differs");
	if (nv != in.n)
		mismatch("accepted LcoreCounters with more names than values or fewer", w.len);
	in.values = rm.values[i];
	return in;
}

ctl_conn_info_in
same_conn(const walk &w, const wire_ctl_conn_info *k, const fb::ConnInfo *c)
{
	ctl_conn_info_in in = {};

	same_table(w, k, c, "ConnInfo missing or elsewhere");
	SAME(in.io, conn_info, k, c, io);
	SAME(in.slot, conn_info, k, c, slot);
	SAME(in.gen, conn_info, k, c, gen);
	SAME(in.addr, conn_info, k, c, addr);
	SAME(in.port, conn_info, k, c, port);
	SAME(in.state, conn_info, k, c, state);
	SAME(in.role, conn_info, k, c, role);
	in.principal = same_string(w, wire_ctl_conn_info_principal(k), c->principal());
	SAME(in.cred, conn_info, k, c, cred);
	SAME(in.age_ms, conn_info, k, c, age_ms);
	return in;
}

ctl_job_info_in
same_job(const walk &w, const wire_ctl_job_info *j, const fb::JobInfo *c)
{
	ctl_job_info_in in = {};

	same_table(w, j, c, "JobInfo missing or elsewhere");
	SAME(in.id.hi, job_info, j, c, id_hi);
	SAME(in.id.lo, job_info, j, c, id_lo);
	SAME(in.state, job_info, j, c, state);
	SAME(in.dead_reason, job_info, j, c, dead_reason);
	SAME(in.attempts, job_info, j, c, attempts);
	SAME(in.max_attempts, job_info, j, c, max_attempts);
	SAME(in.priority, job_info, j, c, priority);
	in.type = same_string(w, wire_ctl_job_info_type(j), c->type());
	in.content_type = same_string(w, wire_ctl_job_info_content_type(j), c->content_type());
	SAME(in.payload_bytes, job_info, j, c, payload_bytes);
	SAME(in.enqueued_ms, job_info, j, c, enqueued_ms);
	return in;
}

/* JobRequest and JobList (sluicectl jobs, on the control socket and the link) into m. */
void
read_jobs(const walk &w, const wire_ctl_control *r, const fb::Control *c, room &rm, ctl_msg_in &m)
{
	if (m.type == CTL_MSG_JOB_REQUEST) {
		const wire_ctl_job_request *t = ctl_job_request(r);
		const fb::JobRequest *ct = c->msg_as_JobRequest();

		same_table(w, t, ct, "JobRequest missing or elsewhere");
		m.u.job_request.queue = same_string(w, wire_ctl_job_request_queue(t), ct->queue());
		SAME(m.u.job_request.op, job_request, t, ct, op);
		SAME(m.u.job_request.id.hi, job_request, t, ct, id_hi);
		SAME(m.u.job_request.id.lo, job_request, t, ct, id_lo);
		SAME(m.u.job_request.skip, job_request, t, ct, skip);
		SAME(m.u.job_request.max, job_request, t, ct, max);
	} else {
		const wire_ctl_job_list *t = ctl_job_list(r);
		const fb::JobList *ct = c->msg_as_JobList();

		same_table(w, t, ct, "JobList missing or elsewhere");
		m.u.job_list.queue = same_info(w, wire_ctl_job_list_queue(t), ct->queue());
		m.u.job_list.n =
			same_vector(w, t, wire_fid_ctl_job_list_jobs, wire_ctl_job_list_jobs_len(t),
				    ct->jobs(), CTL_JOBS_MAX, "JobList.jobs differs");
		for (uint32_t i = 0; i < m.u.job_list.n; i++)
			rm.jobs[i] =
				same_job(w, wire_ctl_job_list_jobs_at(t, i), ct->jobs()->Get(i));
		m.u.job_list.jobs = rm.jobs;
		SAME(m.u.job_list.total, job_list, t, ct, total);
	}
}

/* The ctld <-> sluiced messages (control.fbs "sluice-ctld <-> sluiced") into m. */
void
read_link(const walk &w, const wire_ctl_control *r, const fb::Control *c, room &rm, ctl_msg_in &m)
{
	switch (m.type) {
	case CTL_MSG_ATTACH: {
		const wire_ctl_attach *t = ctl_attach(r);
		const fb::Attach *ct = c->msg_as_Attach();

		same_table(w, t, ct, "Attach missing or elsewhere");
		SAME(m.u.attach.version, attach, t, ct, version);
		SAME(m.u.attach.pid, attach, t, ct, pid);
		SAME(m.u.attach.io_lcores, attach, t, ct, io_lcores);
		break;
	}
	case CTL_MSG_SETUP: {
		const wire_ctl_setup *t = ctl_setup(r);
		const fb::Setup *ct = c->msg_as_Setup();

		same_table(w, t, ct, "Setup missing or elsewhere");
		m.u.setup.n = same_strings(
			w, t, wire_fid_ctl_setup_queues, wire_ctl_setup_queues_len(t),
			[t](uint32_t i) { return wire_ctl_setup_queues_at(t, i); }, ct->queues(),
			rm.specs, CTL_QUEUES_MAX, "Setup.queues differs");
		m.u.setup.queues = rm.specs;
		SAME(m.u.setup.ticket_lifetime_s, setup, t, ct, ticket_lifetime_s);
		break;
	}
	case CTL_MSG_GRANTS: {
		const wire_ctl_grants *t = ctl_grants(r);
		const fb::Grants *ct = c->msg_as_Grants();

		same_table(w, t, ct, "Grants missing or elsewhere");
		SAME(m.u.grants.gen, grants, t, ct, gen);
		SAME(m.u.grants.first, grants, t, ct, first);
		SAME(m.u.grants.last, grants, t, ct, last);
		m.u.grants.n =
			same_vector(w, t, wire_fid_ctl_grants_grants, wire_ctl_grants_grants_len(t),
				    ct->grants(), CTL_GRANTS_MAX, "Grants.grants differs");
		for (uint32_t i = 0; i < m.u.grants.n; i++)
			rm.grants[i] = same_grant(w, wire_ctl_grants_grants_at(t, i),
						  ct->grants()->Get(i), rm, i);
		m.u.grants.grants = rm.grants;
		/* Optional: absent and empty both mean no credentials. */
		m.u.grants.n_creds = same_scalars(
			w, t, wire_fid_ctl_grants_creds, wire_ctl_grants_creds_len(t),
			[t](uint32_t i) { return wire_ctl_grants_creds_at(t, i); }, ct->creds(),
			rm.creds, CTL_CREDS_MAX, "Grants.creds differs");
		m.u.grants.creds = rm.creds;
		break;
	}
	case CTL_MSG_AUTHENTICATE: {
		const wire_ctl_authenticate *t = ctl_authenticate(r);
		const fb::Authenticate *ct = c->msg_as_Authenticate();

		same_table(w, t, ct, "Authenticate missing or elsewhere");
		SAME(m.u.authenticate.id, authenticate, t, ct, id);
		SAME(m.u.authenticate.role, authenticate, t, ct, role);
		SAME(m.u.authenticate.addr, authenticate, t, ct, addr);
		m.u.authenticate.token = same_bytes(w, wire_ctl_authenticate_token(t), ct->token(),
						    "Authenticate.token differs");
		m.u.authenticate.cert_sha256 =
			same_bytes(w, wire_ctl_authenticate_cert_sha256(t), ct->cert_sha256(),
				   "Authenticate.cert_sha256 differs");
		m.u.authenticate.cert_subject =
			same_string(w, wire_ctl_authenticate_cert_subject(t), ct->cert_subject());
		break;
	}
	case CTL_MSG_AUTH_RESULT: {
		const wire_ctl_auth_result *t = ctl_auth_result(r);
		const fb::AuthResult *ct = c->msg_as_AuthResult();

		same_table(w, t, ct, "AuthResult missing or elsewhere");
		SAME(m.u.auth_result.id, auth_result, t, ct, id);
		SAME(m.u.auth_result.status, auth_result, t, ct, status);
		m.u.auth_result.principal =
			same_string(w, wire_ctl_auth_result_principal(t), ct->principal());
		SAME(m.u.auth_result.cred, auth_result, t, ct, cred);
		break;
	}
	case CTL_MSG_BANS: {
		const wire_ctl_bans *t = ctl_bans(r);
		const fb::Bans *ct = c->msg_as_Bans();

		same_table(w, t, ct, "Bans missing or elsewhere");
		m.u.bans.n = same_scalars(
			w, t, wire_fid_ctl_bans_addrs, wire_ctl_bans_addrs_len(t),
			[t](uint32_t i) { return wire_ctl_bans_addrs_at(t, i); }, ct->addrs(),
			rm.addrs, CTL_BANS_MAX, "Bans.addrs differs");
		m.u.bans.addrs = rm.addrs;
		break;
	}
	case CTL_MSG_TICKET_KEYS: {
		const wire_ctl_ticket_keys *t = ctl_ticket_keys(r);
		const fb::TicketKeys *ct = c->msg_as_TicketKeys();

		same_table(w, t, ct, "TicketKeys missing or elsewhere");
		m.u.ticket_keys.keys = same_bytes(w, wire_ctl_ticket_keys_keys(t), ct->keys(),
						  "TicketKeys.keys differs");
		break;
	}
	case CTL_MSG_LIST_COUNTERS:
		same_table(w, ctl_list_counters(r), c->msg_as_ListCounters(),
			   "ListCounters missing or elsewhere");
		break;
	case CTL_MSG_COUNTER_LIST: {
		const wire_ctl_counter_list *t = ctl_counter_list(r);
		const fb::CounterList *ct = c->msg_as_CounterList();

		same_table(w, t, ct, "CounterList missing or elsewhere");
		m.u.counter_list.n = same_vector(w, t, wire_fid_ctl_counter_list_lcores,
						 wire_ctl_counter_list_lcores_len(t), ct->lcores(),
						 CTL_LCORES_MAX, "CounterList.lcores differs");
		for (uint32_t i = 0; i < m.u.counter_list.n; i++)
			rm.lcores[i] = same_lcore(w, wire_ctl_counter_list_lcores_at(t, i),
						  ct->lcores()->Get(i), rm, i);
		m.u.counter_list.lcores = rm.lcores;
		break;
	}
	case CTL_MSG_LIST_CONNS:
		same_table(w, ctl_list_conns(r), c->msg_as_ListConns(),
			   "ListConns missing or elsewhere");
		break;
	case CTL_MSG_KICK_CONN: {
		const wire_ctl_kick_conn *t = ctl_kick_conn(r);
		const fb::KickConn *ct = c->msg_as_KickConn();

		same_table(w, t, ct, "KickConn missing or elsewhere");
		SAME(m.u.kick_conn.io, kick_conn, t, ct, io);
		SAME(m.u.kick_conn.slot, kick_conn, t, ct, slot);
		SAME(m.u.kick_conn.gen, kick_conn, t, ct, gen);
		break;
	}
	case CTL_MSG_CONN_LIST: {
		const wire_ctl_conn_list *t = ctl_conn_list(r);
		const fb::ConnList *ct = c->msg_as_ConnList();

		same_table(w, t, ct, "ConnList missing or elsewhere");
		m.u.conn_list.n = same_vector(w, t, wire_fid_ctl_conn_list_conns,
					      wire_ctl_conn_list_conns_len(t), ct->conns(),
					      CTL_CONNS_MAX, "ConnList.conns differs");
		for (uint32_t i = 0; i < m.u.conn_list.n; i++)
			rm.conns[i] = same_conn(w, wire_ctl_conn_list_conns_at(t, i),
						ct->conns()->Get(i));
		m.u.conn_list.conns = rm.conns;
		SAME(m.u.conn_list.truncated, conn_list, t, ct, truncated);
		break;
	}
	case CTL_MSG_JOB_REQUEST:
	case CTL_MSG_JOB_LIST:
		read_jobs(w, r, c, rm, m);
		break;
	default:
		mismatch("accepted an unknown message type", w.len);
	}
}

/* Read an accepted message both ways; describe it for ctl_build (its arrays in rm). */
ctl_msg_in
read_both(const walk &w, room &rm)
{
	const wire_ctl_control *r = ctl_root(w.base);
	const fb::Control *c = fb::GetSizePrefixedControl(w.base);
	ctl_msg_in m = {};

	same_table(w, r, c, "root table elsewhere");
	m.seq = wire_ctl_control_seq(r);
	m.type = static_cast<ctl_msg>(wire_ctl_control_msg_type(r));
	if (m.seq != c->seq() || m.type != static_cast<unsigned>(c->msg_type()))
		mismatch("seq or message type differs", w.len);
	switch (m.type) {
	case CTL_MSG_LIST_QUEUES:
		same_table(w, ctl_list_queues(r), c->msg_as_ListQueues(), "message elsewhere");
		m.u.queue.name = same_string(w, wire_ctl_list_queues_queue(ctl_list_queues(r)),
					     c->msg_as_ListQueues()->queue());
		break;
	case CTL_MSG_PAUSE_QUEUE:
		same_table(w, ctl_pause_queue(r), c->msg_as_PauseQueue(), "message elsewhere");
		m.u.queue.name = same_string(w, wire_ctl_pause_queue_queue(ctl_pause_queue(r)),
					     c->msg_as_PauseQueue()->queue());
		break;
	case CTL_MSG_RESUME_QUEUE:
		same_table(w, ctl_resume_queue(r), c->msg_as_ResumeQueue(), "message elsewhere");
		m.u.queue.name = same_string(w, wire_ctl_resume_queue_queue(ctl_resume_queue(r)),
					     c->msg_as_ResumeQueue()->queue());
		break;
	case CTL_MSG_PURGE_QUEUE:
		same_table(w, ctl_purge_queue(r), c->msg_as_PurgeQueue(), "message elsewhere");
		m.u.queue.name = same_string(w, wire_ctl_purge_queue_queue(ctl_purge_queue(r)),
					     c->msg_as_PurgeQueue()->queue());
		break;
	case CTL_MSG_REDRIVE_QUEUE:
		same_table(w, ctl_redrive_queue(r), c->msg_as_RedriveQueue(), "message elsewhere");
		m.u.queue.name = same_string(w, wire_ctl_redrive_queue_queue(ctl_redrive_queue(r)),
					     c->msg_as_RedriveQueue()->queue());
		SAME(m.u.queue.max, redrive_queue, ctl_redrive_queue(r), c->msg_as_RedriveQueue(),
		     max);
		break;
	case CTL_MSG_QUEUE_LIST: {
		const wire_ctl_queue_list *l = ctl_queue_list(r);
		const fb::QueueList *cl = c->msg_as_QueueList();

		same_table(w, l, cl, "message elsewhere");
		m.u.queue_list.n = same_vector(w, l, wire_fid_ctl_queue_list_queues,
					       wire_ctl_queue_list_queues_len(l), cl->queues(),
					       CTL_QUEUES_MAX, "QueueList length differs");
		for (uint32_t i = 0; i < m.u.queue_list.n; i++)
			rm.infos[i] = same_info(w, wire_ctl_queue_list_queues_at(l, i),
						cl->queues()->Get(i));
		m.u.queue_list.queues = rm.infos;
		break;
	}
	case CTL_MSG_ACTION_RESULT:
		same_table(w, ctl_action_result(r), c->msg_as_ActionResult(), "message elsewhere");
		SAME(m.u.action_result.count, action_result, ctl_action_result(r),
		     c->msg_as_ActionResult(), count);
		m.u.action_result.queue =
			same_info(w, wire_ctl_action_result_queue(ctl_action_result(r)),
				  c->msg_as_ActionResult()->queue());
		break;
	case CTL_MSG_ERROR:
		same_table(w, ctl_error(r), c->msg_as_Error(), "message elsewhere");
		m.u.error.code = wire_ctl_error_code(ctl_error(r));
		if (m.u.error.code != static_cast<unsigned>(c->msg_as_Error()->code()))
			mismatch("Error.code differs", w.len);
		m.u.error.message = same_string(w, wire_ctl_error_message(ctl_error(r)),
						c->msg_as_Error()->message());
		break;
	default:
		read_link(w, r, c, rm, m);
		break;
	}
	return m;
}

#undef SAME

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static room rm;
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
		ctl_msg_in m = read_both(w, rm);
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
