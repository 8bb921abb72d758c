/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the control messages (schema/control.fbs): every message
 * built by ctl_build(), verified by ctl_verify() and read back; each bound
 * of ctl.h refused with its named error; envelope errors; names.
 *
 * Arguments: control messages made by the official flatc from
 * tests/seeds/ctl_*.json (flatc -b --size-prefixed): each must verify, and
 * carry the seq the file name's seed says (every seed uses seq 7).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "ctl_build.h"
#include "../check.h"

static uint8_t buf[CTL_DGRAM_BYTES];

static bool
str_is(struct wire_str s, const char *want)
{
	if (!want)
		return s.p == NULL;
	return s.p && s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

/* Build m; its length, or 0 after a failed check. */
static size_t
build(const struct ctl_msg_in *m)
{
	ssize_t n = ctl_build(buf, sizeof(buf), m);

	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

/* Build and verify m; the root, or NULL after a failed check. */
static const struct wire_ctl_control *
build_verified(const struct ctl_msg_in *m)
{
	size_t n = build(m);
	uint32_t at = 0;
	int rc;

	if (!n)
		return NULL;
	rc = ctl_verify(buf, n, &at);
	if (rc)
		fprintf(stderr, "verify %s: %s at %u\n", ctl_msg_name(m->type), wire_error_name(rc),
			at);
	CHECK(rc == 0);
	if (rc)
		return NULL;
	CHECK(wire_ctl_control_seq(ctl_root(buf)) == m->seq);
	CHECK(wire_ctl_control_msg_type(ctl_root(buf)) == m->type);
	return ctl_root(buf);
}

/* Build m and expect ctl_verify to refuse it with err. */
static void
expect_error(const struct ctl_msg_in *m, int err)
{
	size_t n = build(m);
	int rc = ctl_verify(buf, n, NULL);

	if (rc != -err)
		fprintf(stderr, "%s: got %s, want %s\n", ctl_msg_name(m->type), wire_error_name(rc),
			wire_error_name(err));
	CHECK(rc == -err);
}

static const struct ctl_queue_info_in info = {
	.name = { "billing.eu", 10 },
	.paused = true,
	.ready = 1,
	.delayed = 2,
	.retry_wait = 3,
	.leased = 4,
	.dead = 5,
	.bytes = 1ull << 40,
	.enqueued = 6,
	.delivered = 7,
	.completed = 8,
	.failed = 9,
	.dead_lettered = 10,
	.expired = 11,
	.lease_timeouts = 12,
	.redriven = 13,
	.purged = 14,
};

static void
check_info(const struct wire_ctl_queue_info *q, const struct ctl_queue_info_in *in)
{
	CHECK(q != NULL);
	if (!q)
		return;
	CHECK(wire_ctl_queue_info_name(q).len == in->name.len &&
	      memcmp(wire_ctl_queue_info_name(q).p, in->name.p, in->name.len) == 0);
	CHECK(wire_ctl_queue_info_paused(q) == in->paused);
	CHECK(wire_ctl_queue_info_ready(q) == in->ready);
	CHECK(wire_ctl_queue_info_delayed(q) == in->delayed);
	CHECK(wire_ctl_queue_info_retry_wait(q) == in->retry_wait);
	CHECK(wire_ctl_queue_info_leased(q) == in->leased);
	CHECK(wire_ctl_queue_info_dead(q) == in->dead);
	CHECK(wire_ctl_queue_info_bytes(q) == in->bytes);
	CHECK(wire_ctl_queue_info_enqueued(q) == in->enqueued);
	CHECK(wire_ctl_queue_info_delivered(q) == in->delivered);
	CHECK(wire_ctl_queue_info_completed(q) == in->completed);
	CHECK(wire_ctl_queue_info_failed(q) == in->failed);
	CHECK(wire_ctl_queue_info_dead_lettered(q) == in->dead_lettered);
	CHECK(wire_ctl_queue_info_expired(q) == in->expired);
	CHECK(wire_ctl_queue_info_lease_timeouts(q) == in->lease_timeouts);
	CHECK(wire_ctl_queue_info_redriven(q) == in->redriven);
	CHECK(wire_ctl_queue_info_purged(q) == in->purged);
}

static void
test_requests(void)
{
	struct ctl_msg_in m = { .type = CTL_MSG_LIST_QUEUES, .seq = 42 };
	const struct wire_ctl_control *r;

	r = build_verified(&m);
	CHECK(r && ctl_list_queues(r) && !wire_ctl_list_queues_queue(ctl_list_queues(r)).p);
	CHECK(r && ctl_pause_queue(r) == NULL);
	m.u.queue.name = wire_cstr("emails");
	r = build_verified(&m);
	CHECK(r && str_is(wire_ctl_list_queues_queue(ctl_list_queues(r)), "emails"));

	m.type = CTL_MSG_PAUSE_QUEUE;
	r = build_verified(&m);
	CHECK(r && str_is(wire_ctl_pause_queue_queue(ctl_pause_queue(r)), "emails"));
	m.type = CTL_MSG_RESUME_QUEUE;
	r = build_verified(&m);
	CHECK(r && str_is(wire_ctl_resume_queue_queue(ctl_resume_queue(r)), "emails"));
	m.type = CTL_MSG_PURGE_QUEUE;
	r = build_verified(&m);
	CHECK(r && str_is(wire_ctl_purge_queue_queue(ctl_purge_queue(r)), "emails"));
	m.type = CTL_MSG_REDRIVE_QUEUE;
	r = build_verified(&m);
	CHECK(r && wire_ctl_redrive_queue_max(ctl_redrive_queue(r)) == 0);
	m.u.queue.max = CTL_REDRIVE_MAX;
	r = build_verified(&m);
	CHECK(r && wire_ctl_redrive_queue_max(ctl_redrive_queue(r)) == CTL_REDRIVE_MAX);
	CHECK(r && str_is(wire_ctl_redrive_queue_queue(ctl_redrive_queue(r)), "emails"));
}

static void
test_responses(void)
{
	static struct ctl_queue_info_in many[CTL_QUEUES_MAX + 1];
	static char names[CTL_QUEUES_MAX + 1][8];
	struct ctl_msg_in m = { .type = CTL_MSG_QUEUE_LIST, .seq = UINT64_MAX };
	const struct wire_ctl_control *r;
	const struct wire_ctl_queue_list *l;
	unsigned i;

	r = build_verified(&m);
	CHECK(r && (l = ctl_queue_list(r)) && wire_ctl_queue_list_queues_len(l) == 0);
	for (i = 0; i <= CTL_QUEUES_MAX; i++) {
		many[i] = info;
		snprintf(names[i], sizeof(names[i]), "q%u", i);
		many[i].name = wire_cstr(names[i]);
	}
	m.u.queue_list.queues = many;
	m.u.queue_list.n = CTL_QUEUES_MAX;
	r = build_verified(&m);
	l = r ? ctl_queue_list(r) : NULL;
	CHECK(l && wire_ctl_queue_list_queues_len(l) == CTL_QUEUES_MAX);
	for (i = 0; l && i < CTL_QUEUES_MAX; i++)
		check_info(wire_ctl_queue_list_queues_at(l, i), &many[i]);

	m = (struct ctl_msg_in){ .type = CTL_MSG_ACTION_RESULT, .seq = 3 };
	m.u.action_result.count = 99;
	m.u.action_result.queue = info;
	r = build_verified(&m);
	CHECK(r && wire_ctl_action_result_count(ctl_action_result(r)) == 99);
	if (r)
		check_info(wire_ctl_action_result_queue(ctl_action_result(r)), &info);
	/* Every counter at zero: all omitted, read back as the defaults. */
	m.u.action_result.queue = (struct ctl_queue_info_in){ .name = wire_cstr("z") };
	r = build_verified(&m);
	if (r)
		check_info(wire_ctl_action_result_queue(ctl_action_result(r)),
			   &m.u.action_result.queue);

	/* Invalid is the default: omitted, read back as the default; Ok (0) is written. */
	m = (struct ctl_msg_in){ .type = CTL_MSG_ERROR, .u.error.code = CTL_STATUS_INVALID };
	r = build_verified(&m);
	CHECK(r && wire_ctl_error_code(ctl_error(r)) == CTL_STATUS_INVALID);
	CHECK(r && wire_field_ptr(ctl_error(r), wire_fid_ctl_error_code) == NULL);
	CHECK(r && wire_ctl_error_message(ctl_error(r)).p == NULL);
	m.u.error.code = CTL_STATUS_OK;
	r = build_verified(&m);
	CHECK(r && wire_ctl_error_code(ctl_error(r)) == CTL_STATUS_OK);
	m.u.error.code = CTL_STATUS_UNKNOWN_QUEUE;
	m.u.error.message = wire_cstr("no queue 'x'");
	r = build_verified(&m);
	CHECK(r && wire_ctl_error_code(ctl_error(r)) == CTL_STATUS_UNKNOWN_QUEUE);
	CHECK(r && str_is(wire_ctl_error_message(ctl_error(r)), "no queue 'x'"));
}

/* Each bound of ctl.h, refused with its own error. */
static void
test_bounds(void)
{
	static struct ctl_queue_info_in many[CTL_QUEUES_MAX + 1];
	char long_name[WIRE_QUEUE_NAME_MAX + 2], long_text[WIRE_TEXT_MAX + 2];
	struct ctl_msg_in m = { .type = CTL_MSG_PAUSE_QUEUE };
	unsigned i;

	expect_error(&m, WIRE_E_REQUIRED_FIELD_MISSING);
	m.u.queue.name = wire_cstr("");
	expect_error(&m, WIRE_E_NAME_EMPTY);
	m.u.queue.name = wire_cstr("has space");
	expect_error(&m, WIRE_E_NAME_BAD_CHAR);
	memset(long_name, 'a', sizeof(long_name));
	long_name[WIRE_QUEUE_NAME_MAX + 1] = '\0';
	m.u.queue.name = wire_cstr(long_name);
	expect_error(&m, WIRE_E_NAME_TOO_LONG);
	m.type = CTL_MSG_LIST_QUEUES;
	expect_error(&m, WIRE_E_NAME_TOO_LONG);
	m.u.queue.name = wire_cstr("a/b");
	expect_error(&m, WIRE_E_NAME_BAD_CHAR);
	m.type = CTL_MSG_PURGE_QUEUE;
	expect_error(&m, WIRE_E_NAME_BAD_CHAR);
	m.type = CTL_MSG_RESUME_QUEUE;
	expect_error(&m, WIRE_E_NAME_BAD_CHAR);

	m.type = CTL_MSG_REDRIVE_QUEUE;
	m.u.queue.name = wire_cstr("q");
	m.u.queue.max = CTL_REDRIVE_MAX + 1;
	expect_error(&m, WIRE_E_CTL_MAX_OUT_OF_RANGE);

	m = (struct ctl_msg_in){ .type = CTL_MSG_ERROR, .u.error.code = CTL_STATUS__COUNT };
	expect_error(&m, WIRE_E_ENUM_UNKNOWN);
	memset(long_text, 'x', sizeof(long_text));
	long_text[WIRE_TEXT_MAX + 1] = '\0';
	m.u.error.code = CTL_STATUS_OK;
	m.u.error.message = wire_cstr(long_text);
	expect_error(&m, WIRE_E_TEXT_TOO_LONG);
	m.u.error.message = wire_cstr("tab\there");
	expect_error(&m, WIRE_E_TEXT_BAD_CHAR);

	for (i = 0; i <= CTL_QUEUES_MAX; i++)
		many[i].name = wire_cstr("q");
	m = (struct ctl_msg_in){ .type = CTL_MSG_QUEUE_LIST };
	m.u.queue_list.queues = many;
	m.u.queue_list.n = CTL_QUEUES_MAX + 1;
	expect_error(&m, WIRE_E_LIST_TOO_LONG);
	many[0].name = wire_cstr("");
	m.u.queue_list.n = 1;
	expect_error(&m, WIRE_E_NAME_EMPTY);
	many[0].name = (struct wire_str){ NULL, 0 };
	expect_error(&m, WIRE_E_REQUIRED_FIELD_MISSING);
	m = (struct ctl_msg_in){ .type = CTL_MSG_ACTION_RESULT };
	expect_error(&m, WIRE_E_REQUIRED_FIELD_MISSING);
	many[0].name = wire_cstr("q");
	many[0].paused = true;
	m.u.action_result.queue = many[0];
	CHECK(ctl_verify(buf, build(&m), NULL) == 0);
}

/* The envelope: size prefix, identifier, size limit; the union. */
static void
test_envelope(void)
{
	struct ctl_msg_in m = { .type = CTL_MSG_LIST_QUEUES, .seq = 1 };
	static uint8_t big[CTL_MSG_BYTES_MAX + 8];
	size_t n = build(&m), i;
	uint32_t at = 0, l;
	uint8_t type_at;

	CHECK(ctl_verify(buf, n, NULL) == 0);
	CHECK(ctl_verify(buf, n - 1, NULL) == -WIRE_E_SIZE_PREFIX_MISMATCH);
	CHECK(ctl_verify(buf, 11, NULL) == -WIRE_E_FRAME_TOO_SHORT);
	CHECK(ctl_verify(buf, 0, NULL) == -WIRE_E_FRAME_TOO_SHORT);
	/* A wire frame is not a control message. */
	memcpy(buf + 8, "SLQ1", 4);
	CHECK(ctl_verify(buf, n, &at) == -WIRE_E_IDENTIFIER_MISMATCH && at == 8);
	memcpy(buf + 8, CTL_IDENTIFIER, 4);
	/* Every truncation with its prefix rewritten is refused, never read past. */
	for (i = WIRE_FRAME_HEADER_BYTES; i < n; i++) {
		uint8_t cut[256];

		memcpy(cut, buf, i);
		l = (uint32_t)(i - 4);
		memcpy(cut, &l, 4);
		CHECK(ctl_verify(cut, i, NULL) < 0);
	}
	/* Larger than CTL_MSG_BYTES_MAX: refused before anything else. */
	l = CTL_MSG_BYTES_MAX + 4;
	memcpy(big, &l, 4);
	CHECK(ctl_verify(big, sizeof(big), NULL) == -WIRE_E_FRAME_TOO_LARGE);

	/* The union: find the type byte (the only 1-byte field of the root) and change it. */
	n = build(&m);
	type_at = 0;
	for (i = WIRE_FRAME_HEADER_BYTES; i < n; i++) {
		if (buf[i] == CTL_MSG_LIST_QUEUES &&
		    wire_field_ptr(ctl_root(buf), wire_fid_ctl_control_msg_type) == buf + i)
			type_at = (uint8_t)i;
	}
	CHECK(type_at != 0);
	buf[type_at] = CTL_MSG__COUNT;
	CHECK(ctl_verify(buf, n, NULL) == -WIRE_E_UNION_TYPE_UNKNOWN);
	buf[type_at] = CTL_MSG_NONE;
	CHECK(ctl_verify(buf, n, NULL) == -WIRE_E_UNION_NONE_WITH_VALUE);
	/* NONE without a value: the builder writes what it is told. */
	m.type = CTL_MSG_NONE;
	CHECK(ctl_build(buf, sizeof(buf), &m) == -WIRE_E_BUILD_BAD_INPUT);
	CHECK(ctl_build(buf, 16, &(struct ctl_msg_in){ .type = CTL_MSG_LIST_QUEUES }) ==
	      -WIRE_E_BUILD_NO_SPACE);
}

static void
test_names(void)
{
	unsigned t;

	CHECK(strcmp(ctl_msg_name(CTL_MSG_REDRIVE_QUEUE), "RedriveQueue") == 0);
	CHECK(strcmp(ctl_msg_name(CTL_MSG_ERROR), "Error") == 0);
	CHECK(ctl_msg_name(CTL_MSG__COUNT) == NULL);
	CHECK(strcmp(ctl_status_name(CTL_STATUS_UNKNOWN_QUEUE), "UnknownQueue") == 0);
	CHECK(ctl_status_name(CTL_STATUS__COUNT) == NULL);
	for (t = 0; t < CTL_MSG__COUNT + 2; t++)
		CHECK(ctl_msg_is_request(t) ==
		      ((t >= CTL_MSG_LIST_QUEUES && t <= CTL_MSG_REDRIVE_QUEUE) ||
		       t == CTL_MSG_JOB_REQUEST));
	CHECK(strcmp(wire_error_name(WIRE_E_CTL_MAX_OUT_OF_RANGE), "ctl_max_out_of_range") == 0);
}

/* Messages from the official flatc: verified, seq 7, a known type. */
static void
test_flatc_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	uint32_t at = 0;
	int rc;

	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	rc = ctl_verify(buf, n, &at);
	if (rc)
		fprintf(stderr, "%s: %s at byte %u\n", path, wire_error_name(rc), at);
	CHECK(rc == 0);
	if (rc == 0) {
		CHECK(wire_ctl_control_seq(ctl_root(buf)) == 7);
		CHECK(ctl_msg_name(wire_ctl_control_msg_type(ctl_root(buf))) != NULL);
	}
}

/* The ctld <-> sluiced messages: built, verified, read back; each bound refused. */
static void
test_link(void)
{
	const struct wire_str specs[] = { wire_cstr("emails,max_jobs=10"), wire_cstr("b") };
	const struct wire_str globs[] = { wire_cstr("emails"), wire_cstr("billing.*") };
	const struct wire_str types[] = { wire_cstr("send") };
	struct ctl_grant_in g[2] = {
		{ .name = wire_cstr("web"),
		  .roles = 1,
		  .max_priority = 9,
		  .queues = globs,
		  .n_queues = 2,
		  .types = types,
		  .n_types = 1,
		  .max_payload = 4096,
		  .jobs_per_s = 100,
		  .jobs_burst = 200,
		  .max_conns = 3,
		  .bytes_per_s = 1u << 20,
		  .bytes_burst = 2u << 20 },
		{ .name = wire_cstr("ops"), .roles = 3, .queues = globs, .n_queues = 1 },
	};
	const uint64_t creds[] = { (UINT64_C(1) << CTL_CRED_BITS) | 0xabcdef012345ull };
	const uint32_t addrs[] = { 0x7f000007, 0x7f000008 };
	uint8_t keys[2 * CTL_TICKET_KEY_BYTES], token[WIRE_TOKEN_MAX + 1];
	const struct wire_ctl_control *r;
	const struct wire_ctl_grant *w;
	struct ctl_msg_in m = { .type = CTL_MSG_ATTACH, .seq = 1 };

	m.u.attach.version = CTL_PROTOCOL_VERSION;
	m.u.attach.pid = 42;
	m.u.attach.io_lcores = 2;
	r = build_verified(&m);
	CHECK(r && wire_ctl_attach_pid(ctl_attach(r)) == 42 &&
	      wire_ctl_attach_io_lcores(ctl_attach(r)) == 2);

	m = (struct ctl_msg_in){ .type = CTL_MSG_SETUP, .seq = 2 };
	m.u.setup.queues = specs;
	m.u.setup.n = 2;
	m.u.setup.ticket_lifetime_s = 7200;
	r = build_verified(&m);
	CHECK(r && wire_ctl_setup_queues_len(ctl_setup(r)) == 2 &&
	      str_is(wire_ctl_setup_queues_at(ctl_setup(r), 0), "emails,max_jobs=10") &&
	      wire_ctl_setup_ticket_lifetime_s(ctl_setup(r)) == 7200);
	m.u.setup.n = 0;
	expect_error(&m, WIRE_E_LIST_EMPTY);

	m = (struct ctl_msg_in){ .type = CTL_MSG_GRANTS, .seq = 3 };
	m.u.grants.gen = 7;
	m.u.grants.first = m.u.grants.last = true;
	m.u.grants.grants = g;
	m.u.grants.n = 2;
	m.u.grants.creds = creds;
	m.u.grants.n_creds = 1;
	r = build_verified(&m);
	CHECK(r && wire_ctl_grants_gen(ctl_grants(r)) == 7 && wire_ctl_grants_last(ctl_grants(r)));
	CHECK(r && wire_ctl_grants_grants_len(ctl_grants(r)) == 2 &&
	      wire_ctl_grants_creds_at(ctl_grants(r), 0) == creds[0]);
	w = r ? wire_ctl_grants_grants_at(ctl_grants(r), 0) : NULL;
	CHECK(w && str_is(wire_ctl_grant_name(w), "web") && wire_ctl_grant_roles(w) == 1 &&
	      wire_ctl_grant_queues_len(w) == 2 &&
	      str_is(wire_ctl_grant_queues_at(w, 1), "billing.*") &&
	      str_is(wire_ctl_grant_types_at(w, 0), "send") &&
	      wire_ctl_grant_max_payload(w) == 4096 && wire_ctl_grant_max_priority(w) == 9 &&
	      wire_ctl_grant_jobs_per_s(w) == 100 && wire_ctl_grant_jobs_burst(w) == 200 &&
	      wire_ctl_grant_bytes_per_s(w) == 1u << 20 &&
	      wire_ctl_grant_bytes_burst(w) == 2u << 20 && wire_ctl_grant_max_conns(w) == 3);
	g[1].roles = 4;
	expect_error(&m, WIRE_E_CTL_VALUE_OUT_OF_RANGE);
	g[1].roles = 3;
	g[1].max_priority = WIRE_PRIORITY_MAX + 1;
	expect_error(&m, WIRE_E_PRIORITY_OUT_OF_RANGE);
	g[1].max_priority = 0;
	g[1].queues = types; /* "send": a fine glob */
	CHECK(build_verified(&m) != NULL);
	{
		const struct wire_str bad[] = { wire_cstr("a/b") };

		g[1].queues = bad;
		expect_error(&m, WIRE_E_NAME_BAD_CHAR);
		g[1].queues = globs;
		g[1].n_queues = 0;
		expect_error(&m, WIRE_E_LIST_EMPTY);
		g[1].n_queues = CTL_GLOBS_MAX + 1;
		g[1].queues = NULL;
		CHECK(ctl_build(buf, sizeof(buf), &m) == -WIRE_E_BUILD_BAD_INPUT);
		g[1].queues = globs;
		g[1].n_queues = 1;
	}

	m = (struct ctl_msg_in){ .type = CTL_MSG_AUTHENTICATE, .seq = 4 };
	memset(token, 't', sizeof(token));
	m.u.authenticate.id = 99;
	m.u.authenticate.role = 2;
	m.u.authenticate.addr = 0x7f000001;
	m.u.authenticate.token = (struct wire_bytes){ token, 10 };
	r = build_verified(&m);
	CHECK(r && wire_ctl_authenticate_id(ctl_authenticate(r)) == 99 &&
	      wire_ctl_authenticate_addr(ctl_authenticate(r)) == 0x7f000001 &&
	      wire_ctl_authenticate_token(ctl_authenticate(r)).len == 10);
	m.u.authenticate.token.len = WIRE_TOKEN_MAX + 1;
	expect_error(&m, WIRE_E_TOKEN_TOO_LONG);
	m.u.authenticate.token.len = 0;
	expect_error(&m, WIRE_E_LIST_EMPTY);
	m.u.authenticate.token.len = 1;
	m.u.authenticate.role = 0;
	expect_error(&m, WIRE_E_CTL_VALUE_OUT_OF_RANGE);

	m = (struct ctl_msg_in){ .type = CTL_MSG_AUTH_RESULT, .seq = 5 };
	m.u.auth_result.id = 99;
	m.u.auth_result.principal = wire_cstr("web");
	m.u.auth_result.cred = 0xabcdef012345ull;
	r = build_verified(&m);
	CHECK(r && str_is(wire_ctl_auth_result_principal(ctl_auth_result(r)), "web") &&
	      wire_ctl_auth_result_cred(ctl_auth_result(r)) == 0xabcdef012345ull);
	m.u.auth_result.status = WIRE_STATUS__COUNT;
	expect_error(&m, WIRE_E_ENUM_UNKNOWN);

	m = (struct ctl_msg_in){ .type = CTL_MSG_BANS, .seq = 6 };
	m.u.bans.addrs = addrs;
	m.u.bans.n = 2;
	r = build_verified(&m);
	CHECK(r && wire_ctl_bans_addrs_len(ctl_bans(r)) == 2 &&
	      wire_ctl_bans_addrs_at(ctl_bans(r), 1) == 0x7f000008);

	m = (struct ctl_msg_in){ .type = CTL_MSG_TICKET_KEYS, .seq = 7 };
	memset(keys, 0x5a, sizeof(keys));
	m.u.ticket_keys.keys = (struct wire_bytes){ keys, sizeof(keys) };
	r = build_verified(&m);
	CHECK(r && wire_ctl_ticket_keys_keys(ctl_ticket_keys(r)).len == sizeof(keys));
	m.u.ticket_keys.keys.len = CTL_TICKET_KEY_BYTES + 1;
	expect_error(&m, WIRE_E_CTL_VALUE_OUT_OF_RANGE);

	{
		const struct wire_str names[] = { wire_cstr("accepted"),
						  wire_cstr("invalid.frame_too_short") };
		const uint64_t values[] = { 5, 1 };
		struct ctl_lcore_counters_in lc = {
			.io = 1, .names = names, .values = values, .n = 2
		};
		const struct wire_ctl_lcore_counters *got;

		m = (struct ctl_msg_in){ .type = CTL_MSG_LIST_COUNTERS, .seq = 8 };
		CHECK(build_verified(&m) != NULL);
		m = (struct ctl_msg_in){ .type = CTL_MSG_COUNTER_LIST, .seq = 9 };
		m.u.counter_list.lcores = &lc;
		m.u.counter_list.n = 1;
		r = build_verified(&m);
		got = r ? wire_ctl_counter_list_lcores_at(ctl_counter_list(r), 0) : NULL;
		CHECK(got && wire_ctl_lcore_counters_io(got) == 1 &&
		      wire_ctl_lcore_counters_names_len(got) == 2 &&
		      str_is(wire_ctl_lcore_counters_names_at(got, 1), "invalid.frame_too_short") &&
		      wire_ctl_lcore_counters_values_at(got, 0) == 5);
		lc.n = 0;
		expect_error(&m, WIRE_E_LIST_EMPTY);
	}

	{
		struct ctl_job_info_in ji = { .id = { 1, 2 },
					      .state = 5,
					      .priority = 3,
					      .dead_reason = WIRE_STATUS_EXPIRED,
					      .attempts = 2,
					      .max_attempts = 5,
					      .type = wire_cstr("send"),
					      .content_type = wire_cstr("application/json"),
					      .payload_bytes = 9,
					      .enqueued_ms = 1234 };
		const struct wire_ctl_job_info *got;

		m = (struct ctl_msg_in){ .type = CTL_MSG_JOB_REQUEST, .seq = 10 };
		m.u.job_request.queue = wire_cstr("jq");
		m.u.job_request.op = 3;
		m.u.job_request.id = (struct wire_jobid){ 7, 8 };
		m.u.job_request.max = 20;
		r = build_verified(&m);
		CHECK(r && wire_ctl_job_request_op(ctl_job_request(r)) == 3 &&
		      wire_ctl_job_request_id_lo(ctl_job_request(r)) == 8 &&
		      str_is(wire_ctl_job_request_queue(ctl_job_request(r)), "jq"));
		CHECK(ctl_msg_is_request(CTL_MSG_JOB_REQUEST));
		m.u.job_request.op = 5;
		expect_error(&m, WIRE_E_CTL_VALUE_OUT_OF_RANGE);
		m.u.job_request.op = 2;
		m.u.job_request.max = CTL_JOBS_MAX + 1;
		expect_error(&m, WIRE_E_CTL_VALUE_OUT_OF_RANGE);
		m.u.job_request.max = 20;
		m.u.job_request.queue = wire_cstr("a b");
		expect_error(&m, WIRE_E_NAME_BAD_CHAR);

		m = (struct ctl_msg_in){ .type = CTL_MSG_JOB_LIST, .seq = 11 };
		m.u.job_list.queue = info;
		m.u.job_list.jobs = &ji;
		m.u.job_list.n = 1;
		m.u.job_list.total = 4;
		r = build_verified(&m);
		got = r ? wire_ctl_job_list_jobs_at(ctl_job_list(r), 0) : NULL;
		CHECK(got && wire_ctl_job_info_state(got) == 5 &&
		      wire_ctl_job_info_dead_reason(got) == WIRE_STATUS_EXPIRED &&
		      str_is(wire_ctl_job_info_type(got), "send") &&
		      str_is(wire_ctl_job_info_content_type(got), "application/json") &&
		      wire_ctl_job_info_enqueued_ms(got) == 1234 &&
		      wire_ctl_job_list_total(ctl_job_list(r)) == 4);
		ji.state = 6;
		expect_error(&m, WIRE_E_CTL_VALUE_OUT_OF_RANGE);
		ji.state = 1;
		ji.type = wire_cstr("a b");
		expect_error(&m, WIRE_E_NAME_BAD_CHAR);
	}

	/* Link messages are not requests: the control socket answers them Invalid. */
	CHECK(!ctl_msg_is_request(CTL_MSG_GRANTS) && !ctl_msg_is_request(CTL_MSG_AUTHENTICATE));
	CHECK(strcmp(ctl_msg_name(CTL_MSG_TICKET_KEYS), "TicketKeys") == 0);
}

int
main(int argc, char **argv)
{
	int i;

	test_link();
	test_requests();
	test_responses();
	test_bounds();
	test_envelope();
	test_names();
	for (i = 1; i < argc; i++)
		test_flatc_file(argv[i]);
	CHECK(argc > 1); /* the flatc seeds were given */
	return CHECK_SUMMARY();
}
