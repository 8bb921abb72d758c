/* SPDX-License-Identifier: BSD-3-Clause */
/* Protocol-conformance harness: a scripted appliance peer for libsluice tests (peer.h). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"
#include "wire.h"
#include "wire_build.h"

#define LEASE_BASE 5000u
#define MAX_HELD 64u /* above any max_unacked a test sets */
#define ID_SLOTS (1u << 16)
#define ACK_IDLE_MS 20

struct held_ack {
	uint64_t seq;
	uint32_t n;
	uint16_t st[WIRE_BATCH_JOBS_CAP];
	struct wire_jobid ids[WIRE_BATCH_JOBS_CAP];
};

struct lease {
	uint64_t expires_ms;
	bool open;
};

struct peer {
	struct peer_cfg cfg;
	struct peer_stats st;
	pthread_t thr;
	int lfd;
	struct tls_ctx tls;
	uint64_t deadline_ms;
	struct wire_jobid *ids; /* accepted job ids, open addressing; zero = empty */
	uint64_t next_assigned;
	/* the session being served */
	int fd;
	struct tls_conn tc;
	uint8_t rx[18 * 1024];
	uint8_t tx[64 * 1024];
	uint8_t *in;
	uint32_t in_len;
	uint32_t in_cap;
	uint8_t *build;
	struct held_ack *held;
	unsigned n_held;
	uint64_t last_batch_ms;
	unsigned session_no;
	unsigned session_batches;
	bool welcomed;
	bool over;
	bool dropping; /* abrupt close on purpose */
	bool subscribed;
	char queue[WIRE_QUEUE_NAME_MAX + 1];
	uint32_t credit;
	unsigned next_job;
	struct lease *leases;
	char *payload; /* deliver_bytes + 32 */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void violation(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
violation(struct peer *p, const char *fmt, ...)
{
	va_list ap;

	if (p->st.violations++ == 0) {
		va_start(ap, fmt);
		vsnprintf(p->st.violation, sizeof(p->st.violation), fmt, ap);
		va_end(ap);
	}
}

/* ---- job id set ---- */

static bool
id_insert(struct peer *p, struct wire_jobid id)
{
	uint32_t h = (uint32_t)((id.hi * 0x9e3779b97f4a7c15ull) ^ id.lo) & (ID_SLOTS - 1);

	while (p->ids[h].hi || p->ids[h].lo) {
		if (p->ids[h].hi == id.hi && p->ids[h].lo == id.lo)
			return false;
		h = (h + 1) & (ID_SLOTS - 1);
	}
	p->ids[h] = id;
	return true;
}

/* ---- output ---- */

static void
flush_ct(struct peer *p)
{
	const uint8_t *q;
	uint32_t n;

	while ((n = tls_conn_tx_pending(&p->tc, &q)) > 0) {
		ssize_t s = send(p->fd, q, n, MSG_NOSIGNAL);

		if (s <= 0) {
			if (s < 0 && errno == EINTR)
				continue;
			p->over = true;
			return;
		}
		tls_conn_tx_consume(&p->tc, (uint32_t)s);
	}
}

static void
send_raw(struct peer *p, const uint8_t *b, size_t n)
{
	size_t done = 0;

	while (done < n && !p->over) {
		int w = tls_conn_write(&p->tc, b + done, (uint32_t)(n - done));

		if (w < 0) {
			p->over = true;
			return;
		}
		done += (size_t)w;
		flush_ct(p);
	}
}

static void
send_msg(struct peer *p, const struct wire_msg_in *m)
{
	ssize_t n = wire_build(p->build, 4 + WIRE_FRAME_BYTES_DEFAULT, m);

	if (n < 0) {
		violation(p, "peer could not build %s", wire_msg_name(m->type));
		p->over = true;
		return;
	}
	send_raw(p, p->build, (size_t)n);
}

static void
send_error(struct peer *p, unsigned code, const char *text, uint64_t ref)
{
	struct wire_msg_in m = { .type = WIRE_MSG_ERROR };

	m.u.error.code = (uint16_t)code;
	m.u.error.message = wire_cstr(text);
	m.u.error.ref_seq = ref;
	send_msg(p, &m);
}

static void
flush_acks(struct peer *p)
{
	unsigned i;

	for (i = 0; i < p->n_held; i++) {
		struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_ACK };

		m.u.enqueue_ack.seq = p->held[i].seq;
		m.u.enqueue_ack.status = p->held[i].st;
		m.u.enqueue_ack.ids = p->held[i].ids;
		m.u.enqueue_ack.n = p->held[i].n;
		send_msg(p, &m);
	}
	p->n_held = 0;
}

static void
deliver_some(struct peer *p)
{
	while (p->subscribed && p->credit && p->next_job < p->cfg.deliver_jobs && !p->over) {
		unsigned i = p->next_job++;
		char *payload = p->payload, trace[16];
		size_t plen;
		struct wire_header_in h;
		struct wire_msg_in m = { .type = WIRE_MSG_DELIVER };

		plen = (size_t)snprintf(payload, 32, "job-%u", i);
		if (p->cfg.deliver_bytes > plen) {
			memset(payload + plen, '.', p->cfg.deliver_bytes - plen);
			plen = p->cfg.deliver_bytes;
		}
		snprintf(trace, sizeof(trace), "t%u", i);
		h = (struct wire_header_in){ wire_cstr("trace"), wire_cstr(trace) };
		m.u.deliver.lease_id = LEASE_BASE + i;
		m.u.deliver.attempt = 1;
		m.u.deliver.lease_timeout_ms = p->cfg.lease_timeout_ms;
		m.u.deliver.enqueued_ms = 1700000000000ull + i;
		m.u.deliver.job = (struct wire_job_in){
			.queue = wire_cstr(p->queue),
			.type = wire_cstr("demo.task"),
			.id = { 0xabc, i + 1u },
			.payload = { (const uint8_t *)payload, (uint32_t)plen },
			.content_type = wire_cstr("text/plain"),
			.priority = (uint8_t)(i % 16),
			.headers = &h,
			.n_headers = 1,
		};
		p->leases[i] = (struct lease){ now_ms() + p->cfg.lease_timeout_ms, true };
		p->credit--;
		p->st.delivered++;
		send_msg(p, &m);
		if (p->cfg.drop_deliver && p->session_no == 1 &&
		    p->st.delivered == p->cfg.drop_deliver)
			p->over = p->dropping = true;
	}
}

/* ---- input ---- */

static uint16_t
settle_lease(struct peer *p, uint64_t id, bool extend, uint32_t extend_ms)
{
	struct lease *l;

	if (id < LEASE_BASE || id - LEASE_BASE >= p->cfg.deliver_jobs)
		return WIRE_STATUS_LEASE_NOT_FOUND;
	l = &p->leases[id - LEASE_BASE];
	if (!l->open)
		return WIRE_STATUS_LEASE_NOT_FOUND;
	if (now_ms() > l->expires_ms) {
		p->st.late_settles++;
		l->open = false;
		return WIRE_STATUS_LEASE_EXPIRED;
	}
	if (extend)
		l->expires_ms = now_ms() + (extend_ms ? extend_ms : p->cfg.lease_timeout_ms);
	else
		l->open = false;
	return WIRE_STATUS_OK;
}

static void
on_hello(struct peer *p, const struct wire_hello *h)
{
	struct wire_bytes tok = wire_hello_token(h);
	struct wire_msg_in m = { .type = WIRE_MSG_WELCOME };

	p->st.hellos++;
	p->st.last_role = wire_hello_role(h);
	snprintf(p->st.token_seen, sizeof(p->st.token_seen), "%.*s", (int)tok.len,
		 tok.p ? (const char *)tok.p : "");
	if (p->cfg.token &&
	    (tok.len != strlen(p->cfg.token) || memcmp(tok.p, p->cfg.token, tok.len) != 0)) {
		send_error(p, WIRE_STATUS_UNAUTHENTICATED, "token refused", 0);
		tls_conn_close(&p->tc);
		flush_ct(p);
		p->over = true;
		return;
	}
	m.u.welcome.version = WIRE_PROTOCOL_VERSION;
	m.u.welcome.session_id = 100 + p->session_no;
	m.u.welcome.max_frame_bytes = p->cfg.max_frame_bytes;
	m.u.welcome.max_batch_jobs = p->cfg.max_batch_jobs;
	m.u.welcome.heartbeat_ms = p->cfg.heartbeat_ms;
	m.u.welcome.server_name = wire_cstr("conformance-peer");
	send_msg(p, &m);
	p->welcomed = true;
	if (p->cfg.goodbye_first && p->session_no == 1) {
		struct wire_msg_in g = { .type = WIRE_MSG_GOODBYE };

		g.u.goodbye.reason = WIRE_STATUS_SHUTTING_DOWN;
		g.u.goodbye.message = wire_cstr("draining");
		send_msg(p, &g);
		tls_conn_close(&p->tc);
		flush_ct(p);
		p->over = true;
		return;
	}
	if (p->cfg.garbage_after_hello) {
		/* A size prefix that matches, then bytes that are no FlatBuffer. */
		static const uint8_t junk[16] = {
			12, 0, 0, 0, 0xff, 0xff, 0, 0, 'S', 'L', 'Q', '1'
		};

		send_raw(p, junk, sizeof(junk));
	}
	if (p->cfg.ping_client) {
		struct wire_msg_in q = { .type = WIRE_MSG_PING };

		q.u.ping.nonce = 777;
		send_msg(p, &q);
	}
}

static void
on_batch(struct peer *p, const struct wire_enqueue_batch *b)
{
	uint64_t seq = wire_enqueue_batch_seq(b);
	uint32_t n = wire_enqueue_batch_jobs_len(b), i;
	unsigned unacked = p->n_held + 1;
	unsigned max_unacked = p->cfg.max_unacked ? p->cfg.max_unacked : 16;
	struct held_ack *a;

	p->st.batches++;
	p->session_batches++;
	p->last_batch_ms = now_ms();
	if (n > p->st.max_batch_seen)
		p->st.max_batch_seen = n;
	if (unacked > p->st.max_unacked_seen)
		p->st.max_unacked_seen = unacked;
	if (p->st.batches == p->cfg.rate_limit_nth || unacked > max_unacked || unacked > MAX_HELD) {
		p->st.rate_limited++;
		send_error(p, WIRE_STATUS_RATE_LIMITED, "too many unacked batches", seq);
		return;
	}
	a = &p->held[p->n_held++];
	a->seq = seq;
	a->n = n;
	for (i = 0; i < n; i++) {
		const struct wire_job *j = wire_enqueue_batch_jobs_at(b, i);
		struct wire_str q = wire_job_queue(j);
		struct wire_jobid id = wire_job_id(j);

		p->st.jobs++;
		if (q.len == 4 && memcmp(q.p, "full", 4) == 0) {
			a->st[i] = WIRE_STATUS_QUEUE_FULL;
		} else if (q.len == 4 && memcmp(q.p, "nope", 4) == 0) {
			a->st[i] = WIRE_STATUS_UNKNOWN_QUEUE;
		} else {
			if (id.hi == 0 && id.lo == 0)
				id = (struct wire_jobid){ 0xfeed, ++p->next_assigned };
			if (id_insert(p, id)) {
				a->st[i] = WIRE_STATUS_OK;
				p->st.distinct_jobs++;
			} else {
				a->st[i] = WIRE_STATUS_DUPLICATE;
				p->st.duplicates++;
			}
		}
		if (a->st[i] != WIRE_STATUS_OK && a->st[i] != WIRE_STATUS_DUPLICATE)
			p->st.refused_jobs++;
		a->ids[i] = id;
	}
	if (p->cfg.drop_after && p->session_no == 1 && p->session_batches == p->cfg.drop_after) {
		/* Accepted, but the acks are lost with the connection: re-sends must dedup. */
		p->n_held = 0;
		p->over = p->dropping = true;
		return;
	}
	if (p->n_held >= (p->cfg.ack_hold ? p->cfg.ack_hold : 1) || p->n_held == MAX_HELD)
		flush_acks(p);
}

static void
on_subscribe(struct peer *p, const struct wire_subscribe *s)
{
	uint32_t n = wire_subscribe_queues_len(s), i;

	p->st.subscribes++;
	for (i = 0; i < n; i++) {
		struct wire_str q = wire_queue_weight_queue(wire_subscribe_queues_at(s, i));

		if (q.len == 4 && memcmp(q.p, "nope", 4) == 0) {
			send_error(p, WIRE_STATUS_UNKNOWN_QUEUE, "no queue named nope", 0);
			return;
		}
		if (q.len == 6 && memcmp(q.p, "secret", 6) == 0) {
			send_error(p, WIRE_STATUS_FORBIDDEN, "may not read queue secret", 0);
			return;
		}
	}
	snprintf(p->queue, sizeof(p->queue), "%s",
		 wire_queue_weight_queue(wire_subscribe_queues_at(s, 0)).p);
	p->subscribed = true;
	p->credit = p->st.prefetch = wire_subscribe_prefetch(s);
	if (p->credit > p->st.max_credit_held)
		p->st.max_credit_held = p->credit;
}

static void
lease_ack(struct peer *p, uint64_t seq, const uint16_t *st, uint32_t n)
{
	struct wire_msg_in m = { .type = WIRE_MSG_LEASE_ACK };

	m.u.lease_ack.seq = seq;
	m.u.lease_ack.status = st;
	m.u.lease_ack.n = n;
	send_msg(p, &m);
}

static void
handle(struct peer *p, const uint8_t *f, uint32_t len)
{
	static uint16_t st[WIRE_BATCH_JOBS_CAP];
	struct wire_limits lim;
	const struct wire_frame *root;
	uint32_t at = 0, i, n;
	unsigned type;
	int rc;

	wire_limits_init(&lim, p->cfg.max_frame_bytes, WIRE_PAYLOAD_BYTES_CAP,
			 p->cfg.max_batch_jobs);
	if (len - 4 > p->st.max_frame_seen)
		p->st.max_frame_seen = len - 4;
	rc = wire_verify(f, len, &lim, &at);
	if (rc) {
		violation(p, "client frame failed verification: %s at byte %u", wire_error_name(rc),
			  at);
		send_error(p, WIRE_STATUS_INVALID, wire_error_name(rc), 0);
		p->over = true;
		return;
	}
	root = wire_frame_root(f);
	type = wire_frame_msg_type(root);
	if (!p->welcomed && type != WIRE_MSG_HELLO) {
		violation(p, "first frame was %s, not Hello", wire_msg_name(type));
		p->over = true;
		return;
	}
	switch (type) {
	case WIRE_MSG_HELLO:
		if (p->welcomed)
			violation(p, "second Hello");
		else
			on_hello(p, wire_frame_hello(root));
		break;
	case WIRE_MSG_ENQUEUE_BATCH:
		on_batch(p, wire_frame_enqueue_batch(root));
		break;
	case WIRE_MSG_SUBSCRIBE:
		on_subscribe(p, wire_frame_subscribe(root));
		break;
	case WIRE_MSG_CREDIT:
		p->st.credit_frames++;
		p->credit += wire_credit_credit(wire_frame_credit(root));
		if (p->credit > p->st.max_credit_held)
			p->st.max_credit_held = p->credit;
		break;
	case WIRE_MSG_COMPLETE: {
		const struct wire_complete *c = wire_frame_complete(root);

		n = wire_complete_lease_ids_len(c);
		for (i = 0; i < n; i++)
			st[i] = settle_lease(p, wire_complete_lease_ids_at(c, i), false, 0);
		p->st.completes += n;
		lease_ack(p, wire_complete_seq(c), st, n);
		break;
	}
	case WIRE_MSG_FAIL: {
		const struct wire_fail *fl = wire_frame_fail(root);
		struct wire_str r = wire_fail_reason(fl);

		st[0] = settle_lease(p, wire_fail_lease_id(fl), false, 0);
		p->st.fails++;
		snprintf(p->st.fail_reason, sizeof(p->st.fail_reason), "%.*s", (int)r.len,
			 r.p ? r.p : "");
		lease_ack(p, wire_fail_seq(fl), st, 1);
		break;
	}
	case WIRE_MSG_EXTEND_LEASE: {
		const struct wire_extend_lease *e = wire_frame_extend_lease(root);

		n = wire_extend_lease_lease_ids_len(e);
		for (i = 0; i < n; i++)
			st[i] = settle_lease(p, wire_extend_lease_lease_ids_at(e, i), true,
					     wire_extend_lease_extend_ms(e));
		p->st.extends += n;
		lease_ack(p, wire_extend_lease_seq(e), st, n);
		break;
	}
	case WIRE_MSG_PING: {
		struct wire_msg_in m = { .type = WIRE_MSG_PONG };

		m.u.pong.nonce = wire_ping_nonce(wire_frame_ping(root));
		send_msg(p, &m);
		break;
	}
	case WIRE_MSG_PONG:
		if (wire_pong_nonce(wire_frame_pong(root)) == 777)
			p->st.pongs++;
		break;
	case WIRE_MSG_GOODBYE:
		p->st.goodbyes++;
		break;
	default:
		violation(p, "client sent %s", wire_msg_name(type));
		break;
	}
}

/* Read what arrived, decrypt, handle whole frames. */
static void
read_input(struct peer *p)
{
	uint8_t *dst;
	uint32_t room = tls_conn_rx_space(&p->tc, &dst);
	ssize_t r = room ? recv(p->fd, dst, room, MSG_DONTWAIT) : 0;

	if (r > 0)
		tls_conn_rx_commit(&p->tc, (uint32_t)r);
	else if (r == 0 && room)
		tls_conn_rx_eof(&p->tc);
	for (;;) {
		int n;

		if (p->in_cap - p->in_len < 16 * 1024) {
			p->in_cap *= 2;
			p->in = realloc(p->in, p->in_cap);
		}
		n = tls_conn_read(&p->tc, p->in + p->in_len, p->in_cap - p->in_len);
		if (n > 0) {
			p->in_len += (uint32_t)n;
			continue;
		}
		if (n < 0) {
			if (p->tc.last_error == 0)
				p->st.close_notify++;
			p->over = true;
		}
		break;
	}
	while (p->in_len >= 4) {
		uint64_t whole = 4 + (uint64_t)wire_ld32(p->in);

		if (whole > 4 + (uint64_t)WIRE_FRAME_BYTES_CAP) {
			violation(p, "client frame length %llu", (unsigned long long)whole);
			p->over = true;
			return;
		}
		if (p->in_len < whole)
			break;
		handle(p, p->in, (uint32_t)whole);
		memmove(p->in, p->in + whole, p->in_len - whole);
		p->in_len -= (uint32_t)whole;
		if (p->over)
			return;
	}
}

static void
serve_session(struct peer *p)
{
	struct pollfd pf = { .fd = p->lfd, .events = POLLIN };
	enum tls_state s = TLS_HANDSHAKE;

	if (poll(&pf, 1, 200) <= 0)
		return;
	p->fd = accept(p->lfd, NULL, NULL);
	if (p->fd < 0)
		return;
	p->session_no++;
	p->st.sessions++;
	p->session_batches = 0;
	p->welcomed = p->over = p->subscribed = p->dropping = false;
	p->n_held = 0;
	p->in_len = 0;
	p->credit = 0;
	if (tls_conn_init(&p->tc, &p->tls, p->rx, sizeof(p->rx), p->tx, sizeof(p->tx))) {
		close(p->fd);
		return;
	}
	while (!p->over && now_ms() < p->deadline_ms) {
		pf = (struct pollfd){ .fd = p->fd, .events = POLLIN };
		if (s == TLS_HANDSHAKE) {
			s = tls_conn_handshake(&p->tc);
			flush_ct(p);
			if (s == TLS_CLOSED)
				break;
			if (s == TLS_HANDSHAKE) {
				uint8_t *dst;
				uint32_t room = tls_conn_rx_space(&p->tc, &dst);
				ssize_t r;

				if (poll(&pf, 1, 10) <= 0)
					continue;
				r = recv(p->fd, dst, room, MSG_DONTWAIT);
				if (r > 0)
					tls_conn_rx_commit(&p->tc, (uint32_t)r);
				else if (r == 0)
					tls_conn_rx_eof(&p->tc);
				continue;
			}
		}
		if (poll(&pf, 1, 5) > 0)
			read_input(p);
		if (p->n_held && now_ms() - p->last_batch_ms >= ACK_IDLE_MS)
			flush_acks(p);
		deliver_some(p);
	}
	if (!p->dropping) {
		/* Graceful: read what the client still sends, so close() sends FIN, not RST. */
		uint8_t sink[4096];
		uint64_t until = now_ms() + 200;

		shutdown(p->fd, SHUT_WR);
		pf = (struct pollfd){ .fd = p->fd, .events = POLLIN };
		while (now_ms() < until && poll(&pf, 1, 20) >= 0)
			if ((pf.revents & POLLIN) && recv(p->fd, sink, sizeof(sink), 0) <= 0)
				break;
	}
	tls_conn_free(&p->tc);
	close(p->fd);
	p->fd = -1;
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	unsigned want = p->cfg.sessions ? p->cfg.sessions : 1;

	while (p->st.sessions < want && now_ms() < p->deadline_ms)
		serve_session(p);
	return NULL;
}

struct peer *
peer_start(const struct peer_cfg *cfg, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct tls_params tp = { .server = true, .client_cert = cfg->client_cert };
	char cert[600], key[600], ca[600], err[300];
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *cfg;
	if (!p->cfg.max_batch_jobs)
		p->cfg.max_batch_jobs = WIRE_BATCH_JOBS_DEFAULT;
	if (!p->cfg.max_frame_bytes)
		p->cfg.max_frame_bytes = WIRE_FRAME_BYTES_DEFAULT;
	p->deadline_ms = now_ms() + (cfg->deadline_ms ? cfg->deadline_ms : 20000);
	p->ids = calloc(ID_SLOTS, sizeof(*p->ids));
	p->held = calloc(MAX_HELD, sizeof(*p->held));
	p->leases = calloc(cfg->deliver_jobs + 1, sizeof(*p->leases));
	p->build = malloc(4 + WIRE_FRAME_BYTES_DEFAULT);
	p->payload = malloc((size_t)cfg->deliver_bytes + 32);
	p->in_cap = 64 * 1024;
	p->in = malloc(p->in_cap);
	snprintf(cert, sizeof(cert), "%s/server.pem", cfg->cert_dir);
	snprintf(key, sizeof(key), "%s/server.key", cfg->cert_dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", cfg->cert_dir);
	tp.cert_file = cert;
	tp.key_file = key;
	tp.ca_file = cfg->client_cert == TLS_CLIENT_CERT_NONE ? NULL : ca;
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!p->ids || !p->held || !p->leases || !p->build || !p->in || !p->payload || p->lfd < 0 ||
	    tls_ctx_init(&p->tls, &tp, err, sizeof(err)) != 0 ||
	    bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(p->lfd, 4) != 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&a, &al) != 0 ||
	    pthread_create(&p->thr, NULL, peer_main, p) != 0) {
		fprintf(stderr, "peer_start failed: %s %s\n", err, strerror(errno));
		return NULL;
	}
	*port = ntohs(a.sin_port);
	return p;
}

void
peer_join(struct peer *p, struct peer_stats *out)
{
	pthread_join(p->thr, NULL);
	*out = p->st;
	tls_ctx_free(&p->tls);
	close(p->lfd);
	free(p->ids);
	free(p->held);
	free(p->leases);
	free(p->build);
	free(p->payload);
	free(p->in);
	free(p);
}
