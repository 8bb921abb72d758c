/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctld's end of the link to sluiced (dataplane socket): one sluiced at a
 * time, permitted by SO_PEERCRED uid (ctld.dataplane_uids).
 *
 *   accept ─► uid permitted, nobody attached? ─no─► Error{Forbidden|Busy}, close
 *     │ yes
 *     ▼
 *   Attach ─► Setup, Grants..., Bans, TicketKeys        (resync on every attach)
 *   Authenticate ─► throttled/banned? ─► creds_check ─► role ─► AuthResult, audit
 *   QueueList / ActionResult / Error ─► the operator whose request it answers
 *
 * Output waits in a queue when sluiced's socket is full (it may still be
 * setting up its ports); a queue over CTLD_OUTQ_MAX drops the link.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ctl_build.h"
#include "ctld.h"

#define STATS_EVERY_MS 2000
#define QREQ_TIMEOUT_MS 5000

static uint8_t rx[CTL_DGRAM_BYTES];
static uint8_t tx[CTL_DGRAM_BYTES];

/* ---- the socket ---- */

/* Listening AF_UNIX seqpacket socket at path, mode; a stale file is replaced. */
int
ctld_listen_unix(const char *path, mode_t mode, int backlog, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &sb) == 0) {
		int probe;

		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket: remove it", path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		rc = probe >= 0 ? connect(probe, (struct sockaddr *)&sa, sizeof(sa)) : -1;
		if (probe >= 0)
			close(probe);
		if (rc == 0) {
			snprintf(err, errlen, "%s: another process serves it (another ctld?)",
				 path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	old = umask((mode_t)(~mode & 0777));
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || listen(fd, backlog) != 0) {
		snprintf(err, errlen, "%s: cannot listen: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
ctld_dp_open(struct ctld *d, char *err, size_t errlen)
{
	d->dp_fd = -1;
	d->outq_tail = &d->outq;
	/* 0660 would do for root's sluiced; SO_PEERCRED decides who stays. */
	d->dp_lfd = ctld_listen_unix(d->cfg.dataplane_socket, 0666, 4, err, errlen);
	return d->dp_lfd < 0 ? -1 : 0;
}

static void
outq_clear(struct ctld *d)
{
	while (d->outq) {
		struct ctld_out *o = d->outq;

		d->outq = o->next;
		free(o);
	}
	d->outq_tail = &d->outq;
	d->outq_bytes = 0;
}

static void
dp_drop(struct ctld *d, const char *why)
{
	unsigned i;

	if (d->dp_fd < 0)
		return;
	close(d->dp_fd);
	d->dp_fd = -1;
	outq_clear(d);
	if (d->dp_attached) {
		const struct audit_kv kv[] = { { "pid", NULL, d->dp_pid }, { "why", why, 0 } };

		ctld_audit(d, "dataplane.detach", kv, 2);
	}
	d->dp_attached = false;
	d->stats_seq = 0;
	/* Operators waiting on sluiced hear why. */
	for (i = 0; i < d->n_qreq; i++)
		ctld_ops_queue_answer(d, &d->qreq[i], NULL, "sluiced is not connected to ctld");
	d->n_qreq = 0;
}

/* Write what waits; false when the link had to go. */
static bool
outq_flush(struct ctld *d)
{
	while (d->outq) {
		struct ctld_out *o = d->outq;
		ssize_t n = send(d->dp_fd, o->data, o->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n != (ssize_t)o->len) {
			dp_drop(d, "send failed");
			return false;
		}
		d->outq = o->next;
		if (!d->outq)
			d->outq_tail = &d->outq;
		d->outq_bytes -= o->len;
		free(o);
	}
	return true;
}

/* Send a message to sluiced (queued behind earlier ones). */
static void
dp_send(struct ctld *d, const struct ctl_msg_in *m)
{
	ssize_t n = ctl_build(tx, sizeof(tx), m);
	struct ctld_out *o;

	if (d->dp_fd < 0)
		return;
	if (n <= 0) {
		fprintf(stderr, "sluice-ctld: cannot build %s: %s\n", ctl_msg_name(m->type),
			wire_error_name((int)n));
		return;
	}
	if (!d->outq && send(d->dp_fd, tx, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n)
		return;
	if (d->outq_bytes + (size_t)n > CTLD_OUTQ_MAX || !(o = malloc(sizeof(*o) + (size_t)n))) {
		dp_drop(d, "sluiced does not read its link");
		return;
	}
	o->next = NULL;
	o->len = (size_t)n;
	memcpy(o->data, tx, (size_t)n);
	*d->outq_tail = o;
	d->outq_tail = &o->next;
	d->outq_bytes += (size_t)n;
}

/* ---- what sluiced is told ---- */

static uint64_t
cred_id48(const char *hex)
{
	uint8_t b[6];
	uint64_t v = 0;
	unsigned i;

	if (creds_unhex(hex, b, sizeof(b)))
		return UINT64_MAX;
	for (i = 0; i < sizeof(b); i++)
		v = v << 8 | b[i];
	return v;
}

/* Index of principal name in the configuration, -1 if none. */
static int
principal_index(const struct ctld *d, const char *name)
{
	unsigned i;

	for (i = 0; i < d->cfg.n_principals; i++)
		if (strcmp(d->cfg.principals[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct ccfg_principal *
ctld_principal(const struct ctld *d, const char *name)
{
	int i = principal_index(d, name);

	return i < 0 ? NULL : &d->cfg.principals[i];
}

/*
 * The credential id of a certificate mapping: 48 bits of SHA-256 over what
 * it matches on, top bit set (token ids are random: a clash is dropped
 * below, and said).
 */
static uint64_t
cert_cred(const struct ccfg_cert *c)
{
	uint8_t h[32];
	uint64_t v = 0;
	unsigned i;

	if (c->by_sha256)
		creds_sha256(c->sha256, sizeof(c->sha256), h);
	else
		creds_sha256(c->subject, strlen(c->subject), h);
	for (i = 0; i < 6; i++)
		v = v << 8 | h[i];
	return v | UINT64_C(1) << (CTL_CRED_BITS - 1);
}

static int
cmp_cred_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a & CTL_CRED_MASK, y = *(const uint64_t *)b & CTL_CRED_MASK;

	return x < y ? -1 : x > y;
}

/* Every live credential as (principal index << 48 | id); the next expiry in *next. */
static uint64_t *
live_creds(struct ctld *d, uint32_t *n, int64_t *next)
{
	uint64_t *v =
		calloc(d->creds.n + (size_t)d->cfg.n_principals * CCFG_CERTS_MAX + 1, sizeof(*v));
	unsigned i, k, out;

	*n = 0;
	*next = 0;
	if (!v)
		return NULL;
	for (i = 0; i < d->creds.n; i++) {
		const struct cred *c = &d->creds.c[i];
		int p = principal_index(d, c->principal);

		if (c->revoked || p < 0 || (c->expires && d->now_s >= c->expires))
			continue;
		if (c->expires && (!*next || c->expires < *next))
			*next = c->expires;
		v[(*n)++] = (uint64_t)p << CTL_CRED_BITS | (cred_id48(c->id) & CTL_CRED_MASK);
	}
	for (i = 0; i < d->cfg.n_principals; i++)
		for (k = 0; k < d->cfg.principals[i].n_certs; k++)
			v[(*n)++] = (uint64_t)i << CTL_CRED_BITS |
				    cert_cred(&d->cfg.principals[i].certs[k]);
	/* sluiced refuses a table with two credentials of one id: keep the first */
	qsort(v, *n, sizeof(*v), cmp_cred_id);
	for (i = 0, out = 0; i < *n; i++) {
		if (out && cmp_cred_id(&v[out - 1], &v[i]) == 0) {
			fprintf(stderr,
				"sluice-ctld: credential id %012" PRIx64 " twice: one left out\n",
				v[i] & CTL_CRED_MASK);
			continue;
		}
		v[out++] = v[i];
	}
	*n = out;
	return v;
}

void
ctld_dp_push_grants(struct ctld *d)
{
	static struct ctl_grant_in g[CTL_GRANTS_MAX];
	static struct wire_str globs[CTL_GRANTS_MAX][CCFG_GLOBS_MAX];
	static struct wire_str types[CTL_GRANTS_MAX][CCFG_TYPES_MAX];
	uint32_t n_creds, np = d->cfg.n_principals, pi = 0, ci = 0;
	uint64_t *creds = live_creds(d, &n_creds, &d->next_expiry);
	bool first = true;

	if (!creds || !d->dp_attached) {
		free(creds);
		return;
	}
	d->grants_gen++;
	do {
		struct ctl_msg_in m = { .type = CTL_MSG_GRANTS };
		uint32_t k = 0, j, nc;

		for (; pi < np && k < CTL_GRANTS_MAX; pi++, k++) {
			const struct ccfg_principal *p = &d->cfg.principals[pi];

			for (j = 0; j < p->n_globs; j++)
				globs[k][j] = wire_cstr(p->globs[j]);
			for (j = 0; j < p->n_types; j++)
				types[k][j] = wire_cstr(p->types[j]);
			g[k] = (struct ctl_grant_in){
				.name = wire_cstr(p->name),
				.roles = p->role,
				.max_priority = p->max_priority,
				.queues = globs[k],
				.n_queues = p->n_globs,
				.types = types[k],
				.n_types = p->n_types,
				.max_payload = p->max_payload,
				.jobs_per_s = p->jobs_per_s,
				.jobs_burst = p->jobs_burst,
				.max_conns = p->max_connections,
				.bytes_per_s = p->bytes_per_s,
				.bytes_burst = p->bytes_burst,
			};
		}
		/* Credentials go in the last message(s), after every grant they name. */
		nc = pi < np ? 0 : n_creds - ci;
		if (nc > CTL_CREDS_MAX)
			nc = CTL_CREDS_MAX;
		m.u.grants.gen = d->grants_gen;
		m.u.grants.first = first;
		m.u.grants.last = pi == np && ci + nc == n_creds;
		m.u.grants.grants = g;
		m.u.grants.n = k;
		m.u.grants.creds = creds + ci;
		m.u.grants.n_creds = nc;
		ci += nc;
		first = false;
		dp_send(d, &m);
		if (m.u.grants.last)
			break;
	} while (d->dp_fd >= 0);
	free(creds);
}

unsigned
ctld_bans_active(const struct ctld *d)
{
	unsigned i, n = 0;

	for (i = 0; i < CTLD_ADDRS_MAX; i++)
		if (d->addrs[i].addr && d->addrs[i].banned_until > d->now_s)
			n++;
	return n;
}

void
ctld_dp_push_bans(struct ctld *d)
{
	static uint32_t addrs[CTL_BANS_MAX];
	struct ctl_msg_in m = { .type = CTL_MSG_BANS };
	unsigned i, n = 0;

	d->bans_dirty = false;
	if (!d->dp_attached)
		return;
	for (i = 0; i < CTLD_ADDRS_MAX && n < CTL_BANS_MAX; i++)
		if (d->addrs[i].addr && d->addrs[i].banned_until > d->now_s)
			addrs[n++] = d->addrs[i].addr;
	m.u.bans.addrs = addrs;
	m.u.bans.n = n;
	dp_send(d, &m);
}

void
ctld_dp_push_keys(struct ctld *d)
{
	struct ctl_msg_in m = { .type = CTL_MSG_TICKET_KEYS };

	if (!d->dp_attached || !d->n_keys)
		return;
	m.u.ticket_keys.keys =
		(struct wire_bytes){ &d->keys[0][0], d->n_keys * CTL_TICKET_KEY_BYTES };
	dp_send(d, &m);
}

/* A new ticket key in front; the oldest falls off. */
static void
rotate_keys(struct ctld *d)
{
	uint8_t k[CTL_TICKET_KEY_BYTES];
	size_t got = 0;

	while (got < sizeof(k)) {
		ssize_t r = getrandom(k + got, sizeof(k) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return; /* keep the keys there are: tickets still work */
		got += (size_t)r;
	}
	memmove(d->keys[1], d->keys[0], (CTLD_KEYS - 1) * CTL_TICKET_KEY_BYTES);
	memcpy(d->keys[0], k, sizeof(k));
	if (d->n_keys < CTLD_KEYS)
		d->n_keys++;
	memset(k, 0, sizeof(k));
	d->next_rotate = d->now_s + d->cfg.ticket_rotate_s;
	{
		const struct audit_kv kv[] = { { "key_id", NULL, (int64_t)wire_ld32(d->keys[0]) } };

		ctld_audit(d, "tickets.rotate", kv, 1);
	}
	ctld_dp_push_keys(d);
}

static void
send_setup(struct ctld *d)
{
	static char specs[CCFG_QUEUES_MAX][CTL_SPEC_MAX + 1];
	static struct wire_str q[CCFG_QUEUES_MAX];
	struct ctl_msg_in m = { .type = CTL_MSG_SETUP };
	unsigned i;

	for (i = 0; i < d->cfg.n_queues; i++) {
		if (ctld_config_queue_spec(&d->cfg.queues[i], specs[i], sizeof(specs[i])) < 0)
			specs[i][0] = '\0';
		q[i] = wire_cstr(specs[i]);
	}
	m.u.setup.queues = q;
	m.u.setup.n = d->cfg.n_queues;
	m.u.setup.ticket_lifetime_s = d->cfg.ticket_lifetime_s;
	if (d->cfg.listener) {
		m.u.setup.listen_addr = ntohl(d->cfg.listen_addr);
		m.u.setup.listen_port = d->cfg.listen_port;
		m.u.setup.cert_file = wire_cstr(d->cfg.tls_cert);
		m.u.setup.key_file = wire_cstr(d->cfg.tls_key);
		if (d->cfg.tls_client_ca[0])
			m.u.setup.client_ca_file = wire_cstr(d->cfg.tls_client_ca);
		m.u.setup.client_cert = d->cfg.tls_client_cert;
	}
	dp_send(d, &m);
}

/* ---- authentication ---- */

static struct ctld_addr *
addr_slot(struct ctld *d, uint32_t addr, bool create)
{
	uint32_t h = (addr * 2654435761u) % CTLD_ADDRS_MAX, i;
	struct ctld_addr *victim = NULL;

	for (i = 0; i < 16; i++) {
		struct ctld_addr *a = &d->addrs[(h + i) % CTLD_ADDRS_MAX];

		if (a->addr == addr)
			return a;
		/* a free slot, or one with nothing to remember */
		if (!victim && (!a->addr || (a->banned_until <= d->now_s &&
					     a->window_start + d->cfg.ban_window_s <= d->now_s)))
			victim = a;
	}
	if (!create || !victim)
		return NULL; /* neighbourhood full of live bans: not tracked (counted) */
	*victim = (struct ctld_addr){ .addr = addr };
	return victim;
}

static const char *const result_names[CTLD_AUTH__COUNT] = {
#define AUTH_NAME(name) #name,
	CTLD_AUTH_RESULTS(AUTH_NAME)
#undef AUTH_NAME
};

/* One failure from a: the throttle window, and a ban past ban_failures. */
static void
addr_failed(struct ctld *d, struct ctld_addr *a, const char *addr_s)
{
	if (!a)
		return;
	if (a->window_start + d->cfg.ban_window_s <= d->now_s) {
		a->window_start = d->now_s;
		a->fails = 0;
	}
	if (a->throttle_start + d->cfg.throttle_window_s <= d->now_s) {
		a->throttle_start = d->now_s;
		a->throttle_fails = 0;
	}
	a->fails++;
	a->throttle_fails++;
	if (a->fails >= d->cfg.ban_failures && a->banned_until <= d->now_s) {
		const struct audit_kv kv[] = { { "addr", addr_s, 0 },
					       { "failures", NULL, a->fails },
					       { "until", NULL, d->now_s + d->cfg.ban_s } };

		a->banned_until = d->now_s + d->cfg.ban_s;
		d->bans_total++;
		ctld_audit(d, "auth.ban", kv, 3);
		ctld_dp_push_bans(d);
	}
}

/*
 * No token: the principal whose certificates name the client's (by
 * fingerprint first, then by subject), NULL when none does or there is no
 * certificate. *which: the mapping that matched.
 */
static const struct ccfg_principal *
cert_principal(const struct ctld *d, const struct wire_ctl_authenticate *r,
	       const struct ccfg_cert **which)
{
	struct wire_bytes fp = wire_ctl_authenticate_cert_sha256(r);
	struct wire_str subj = wire_ctl_authenticate_cert_subject(r);
	unsigned pass, i, k;

	if (!fp.p || fp.len != 32)
		return NULL;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < d->cfg.n_principals; i++) {
			const struct ccfg_principal *p = &d->cfg.principals[i];

			for (k = 0; k < p->n_certs; k++) {
				const struct ccfg_cert *c = &p->certs[k];
				bool hit = pass == 0
						   ? c->by_sha256 && !memcmp(c->sha256, fp.p, 32)
						   : !c->by_sha256 && subj.p &&
							     strlen(c->subject) == subj.len &&
							     !memcmp(c->subject, subj.p, subj.len);

				if (hit) {
					*which = c;
					return p;
				}
			}
		}
	}
	return NULL;
}

static void
on_authenticate(struct ctld *d, const struct wire_ctl_authenticate *r)
{
	struct wire_bytes tok = wire_ctl_authenticate_token(r);
	uint32_t addr = wire_ctl_authenticate_addr(r);
	uint8_t role = wire_ctl_authenticate_role(r);
	struct ctl_msg_in m = { .type = CTL_MSG_AUTH_RESULT };
	struct ctld_addr *a = addr_slot(d, addr, true);
	const struct cred *c = NULL;
	const struct ccfg_principal *p = NULL;
	const struct ccfg_cert *cert = NULL;
	struct wire_str subj = wire_ctl_authenticate_cert_subject(r);
	char subject[CCFG_SUBJECT_MAX + 1];
	enum ctld_auth_result res;
	char addr_s[INET_ADDRSTRLEN];
	struct in_addr ia = { htonl(addr) };

	inet_ntop(AF_INET, &ia, addr_s, sizeof(addr_s));
	snprintf(subject, sizeof(subject), "%.*s", subj.p ? (int)subj.len : 0,
		 subj.p ? subj.p : "");
	if (a && a->banned_until > d->now_s) {
		res = CTLD_AUTH_banned;
	} else if (a && a->throttle_start + d->cfg.throttle_window_s > d->now_s &&
		   a->throttle_fails >= d->cfg.throttle_failures) {
		res = CTLD_AUTH_throttled; /* not even checked: guessing gets no answers */
	} else if (!tok.p) {
		p = cert_principal(d, r, &cert);
		res = !p                       ? CTLD_AUTH_unknown
		      : (role & ~p->role) != 0 ? CTLD_AUTH_forbidden
					       : CTLD_AUTH_ok;
	} else {
		switch (creds_check(&d->creds, tok.p, tok.len, d->now_s, &c)) {
		case CREDS_OK:
			p = ctld_principal(d, c->principal);
			res = !p                       ? CTLD_AUTH_orphan
			      : (role & ~p->role) != 0 ? CTLD_AUTH_forbidden
						       : CTLD_AUTH_ok;
			break;
		case CREDS_EXPIRED:
			res = CTLD_AUTH_expired;
			break;
		case CREDS_REVOKED:
			res = CTLD_AUTH_revoked;
			break;
		default:
			res = CTLD_AUTH_unknown;
			break;
		}
	}
	d->auth[res]++;
	m.u.auth_result.id = wire_ctl_authenticate_id(r);
	switch (res) {
	case CTLD_AUTH_ok:
		m.u.auth_result.status = WIRE_STATUS_OK;
		m.u.auth_result.principal = wire_cstr(p->name);
		m.u.auth_result.cred = c ? cred_id48(c->id) & CTL_CRED_MASK : cert_cred(cert);
		break;
	case CTLD_AUTH_forbidden:
		m.u.auth_result.status = WIRE_STATUS_FORBIDDEN;
		break;
	case CTLD_AUTH_throttled:
		m.u.auth_result.status = WIRE_STATUS_RATE_LIMITED;
		break;
	case CTLD_AUTH_banned:
		m.u.auth_result.status = WIRE_STATUS_BANNED;
		break;
	default:
		m.u.auth_result.status = WIRE_STATUS_UNAUTHENTICATED;
		break;
	}
	{
		const struct audit_kv kv[] = {
			{ "result", result_names[res], 0 },
			{ "principal", p ? p->name : c ? c->principal : "", 0 },
			{ "token_id", c ? c->id : "", 0 },
			{ "addr", addr_s, 0 },
			{ "role", ctld_role_name(role), 0 },
			{ "cert_subject", subject, 0 },
		};

		ctld_audit(d, "auth", kv, tok.p ? 5 : 6);
	}
	/* Failures count toward throttling and bans; throttled and banned tries too. */
	if (res != CTLD_AUTH_ok && res != CTLD_AUTH_forbidden)
		addr_failed(d, a, addr_s);
	dp_send(d, &m);
}

/* ---- queue requests for operators ---- */

static void
qreq_send_head(struct ctld *d)
{
	struct ctld_qreq *q = &d->qreq[0];
	struct ctl_msg_in m = { 0 };

	if (!d->n_qreq || q->seq || !d->dp_attached || d->stats_seq)
		return;
	m.type = (enum ctl_msg)q->cmd;
	m.seq = q->seq = ++d->next_seq;
	if (m.type == CTL_MSG_KICK_CONN) {
		m.u.kick_conn.io = q->io;
		m.u.kick_conn.slot = q->slot;
		m.u.kick_conn.gen = q->gen;
	} else if (m.type == CTL_MSG_JOB_REQUEST) {
		m.u.job_request.queue = wire_cstr(q->queue);
		m.u.job_request.op = q->job_op;
		m.u.job_request.id = (struct wire_jobid){ q->id_hi, q->id_lo };
		m.u.job_request.max = q->max ? q->max : 20;
	} else if (m.type != CTL_MSG_LIST_CONNS) {
		m.u.queue.name = q->queue[0] ? wire_cstr(q->queue) : (struct wire_str){ NULL, 0 };
		m.u.queue.max = q->max;
	}
	q->deadline = d->now_ms + QREQ_TIMEOUT_MS;
	dp_send(d, &m);
}

bool
ctld_dp_request(struct ctld *d, int op, const struct ctld_qreq *req)
{
	struct ctld_qreq *q;

	if (!d->dp_attached || d->n_qreq == CTLD_OPS_MAX)
		return false;
	q = &d->qreq[d->n_qreq++];
	*q = *req;
	q->op = op;
	q->op_gen = d->ops[op].gen;
	q->seq = 0;
	qreq_send_head(d);
	return true;
}

void
ctld_dp_forget_op(struct ctld *d, int op)
{
	unsigned i;

	/* The head may be with sluiced: its answer is dropped when it comes (op -1). */
	for (i = 0; i < d->n_qreq; i++)
		if (d->qreq[i].op == op)
			d->qreq[i].op = -1;
}

static void
qreq_pop(struct ctld *d)
{
	memmove(&d->qreq[0], &d->qreq[1], (d->n_qreq - 1) * sizeof(d->qreq[0]));
	d->n_qreq--;
	qreq_send_head(d);
}

/* Cache every queue of a QueueList for the metrics endpoint. */
static void
cache_stats(struct ctld *d, const struct wire_ctl_queue_list *ql)
{
	uint32_t n = wire_ctl_queue_list_queues_len(ql), i;

	if (n > CTLD_QUEUES_CACHE)
		n = CTLD_QUEUES_CACHE;
	for (i = 0; i < n; i++) {
		const struct wire_ctl_queue_info *qi = wire_ctl_queue_list_queues_at(ql, i);
		struct ctld_queue_stat *s = &d->qstat[i];
		struct wire_str name = wire_ctl_queue_info_name(qi);

		snprintf(s->name, sizeof(s->name), "%.*s", (int)name.len, name.p);
		s->paused = wire_ctl_queue_info_paused(qi);
		ctl_queue_info_values(qi, s->v);
	}
	d->n_qstat = n;
	d->qstat_at = d->now_s;
}

/* Every I/O lcore's counters of a CounterList, for the metrics endpoint. */
static void
cache_counters(struct ctld *d, const struct wire_ctl_counter_list *cl)
{
	uint32_t n = wire_ctl_counter_list_lcores_len(cl), i, k;

	for (i = 0; i < n && i < CTL_LCORES_MAX; i++) {
		const struct wire_ctl_lcore_counters *lc = wire_ctl_counter_list_lcores_at(cl, i);
		struct ctld_lcore_counters *c = &d->lcores[i];

		c->io = wire_ctl_lcore_counters_io(lc);
		c->n = wire_ctl_lcore_counters_names_len(lc);
		for (k = 0; k < c->n; k++) {
			struct wire_str s = wire_ctl_lcore_counters_names_at(lc, k);

			snprintf(c->names[k], sizeof(c->names[k]), "%.*s", (int)s.len, s.p);
			c->values[k] = wire_ctl_lcore_counters_values_at(lc, k);
		}
	}
	d->n_lcores = i;
}

/* A response from sluiced: to the operator request (or stats poll) it answers. */
static void
on_answer(struct ctld *d, const struct wire_ctl_control *r)
{
	uint64_t seq = wire_ctl_control_seq(r);

	if (d->stats_seq && seq == d->stats_seq) {
		d->stats_seq = 0;
		if (wire_ctl_control_msg_type(r) == CTL_MSG_QUEUE_LIST) {
			struct ctl_msg_in m = { .type = CTL_MSG_LIST_COUNTERS };

			cache_stats(d, ctl_queue_list(r));
			/* then the I/O lcores' counters, before any operator request */
			m.seq = d->stats_seq = ++d->next_seq;
			dp_send(d, &m);
			return;
		}
		if (wire_ctl_control_msg_type(r) == CTL_MSG_COUNTER_LIST)
			cache_counters(d, ctl_counter_list(r));
		qreq_send_head(d);
		return;
	}
	if (!d->n_qreq || d->qreq[0].seq != seq) {
		d->dp_invalid++;
		return;
	}
	if (wire_ctl_control_msg_type(r) == CTL_MSG_QUEUE_LIST && !d->qreq[0].queue[0])
		cache_stats(d, ctl_queue_list(r));
	ctld_ops_queue_answer(d, &d->qreq[0], r, NULL);
	qreq_pop(d);
}

static void
on_message(struct ctld *d, size_t len)
{
	const struct wire_ctl_control *r;
	uint32_t at;
	int rc;

	rc = len > CTL_MSG_BYTES_MAX + 4 ? -WIRE_E_FRAME_TOO_LARGE : ctl_verify(rx, len, &at);
	if (rc) {
		fprintf(stderr,
			"sluice-ctld: malformed message from sluiced: %s at byte %" PRIu32 "\n",
			wire_error_name(rc), at);
		d->dp_invalid++;
		dp_drop(d, "malformed message");
		return;
	}
	r = ctl_root(rx);
	switch (wire_ctl_control_msg_type(r)) {
	case CTL_MSG_ATTACH:
		if (wire_ctl_attach_version(ctl_attach(r)) != CTL_PROTOCOL_VERSION) {
			d->dp_invalid++;
			dp_drop(d, "protocol version");
			return;
		}
		d->dp_attached = true;
		d->dp_pid = wire_ctl_attach_pid(ctl_attach(r));
		d->dp_since = d->now_s;
		d->dp_attaches++;
		{
			const struct audit_kv kv[] = { { "pid", NULL, d->dp_pid } };

			ctld_audit(d, "dataplane.attach", kv, 1);
		}
		/* Everything again: a sluiced that reconnects resyncs here. */
		send_setup(d);
		ctld_dp_push_grants(d);
		ctld_dp_push_bans(d);
		ctld_dp_push_keys(d);
		d->next_stats_ms = d->now_ms;
		break;
	case CTL_MSG_AUTHENTICATE:
		if (d->dp_attached)
			on_authenticate(d, ctl_authenticate(r));
		break;
	case CTL_MSG_QUEUE_LIST:
	case CTL_MSG_ACTION_RESULT:
	case CTL_MSG_COUNTER_LIST:
	case CTL_MSG_CONN_LIST:
	case CTL_MSG_JOB_LIST:
	case CTL_MSG_ERROR:
		on_answer(d, r);
		break;
	default:
		d->dp_invalid++;
		break;
	}
}

static void
dp_accept(struct ctld *d)
{
	struct ucred cred = { .uid = (uid_t)-1 };
	socklen_t cl = sizeof(cred);
	struct ctl_msg_in m = { .type = CTL_MSG_ERROR };
	bool ok = false;
	unsigned i;
	int fd = accept4(d->dp_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		for (i = 0; i < d->cfg.n_dataplane_uids; i++)
			ok |= cred.uid == d->cfg.dataplane_uids[i];
	if (!ok || d->dp_fd >= 0) {
		ssize_t n;

		d->dp_refused++;
		m.u.error.code = ok ? CTL_STATUS_BUSY : CTL_STATUS_FORBIDDEN;
		m.u.error.message = wire_cstr(ok ? "another sluiced is attached"
						 : "this uid may not attach (ctld.dataplane_uids)");
		n = ctl_build(tx, sizeof(tx), &m);
		if (n > 0 && send(fd, tx, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
			d->dp_invalid++;
		/*
		 * Closing with the peer's Attach unread would reset the connection
		 * before it reads why: stop taking datagrams, drop those queued, close.
		 */
		shutdown(fd, SHUT_RDWR);
		while (recv(fd, rx, sizeof(rx), MSG_DONTWAIT) > 0)
			;
		close(fd);
		return;
	}
	d->dp_fd = fd;
	d->dp_attached = false;
}

unsigned
ctld_dp_pollfds(struct ctld *d, struct pollfd *p)
{
	unsigned n = 0;

	p[n++] = (struct pollfd){ .fd = d->dp_lfd, .events = POLLIN };
	if (d->dp_fd >= 0)
		p[n++] = (struct pollfd){ .fd = d->dp_fd,
					  .events = (short)(POLLIN | (d->outq ? POLLOUT : 0)) };
	return n;
}

void
ctld_dp_poll(struct ctld *d)
{
	unsigned k;

	dp_accept(d);
	if (d->dp_fd >= 0 && !outq_flush(d))
		return;
	for (k = 0; d->dp_fd >= 0 && k < 256; k++) {
		ssize_t n = recv(d->dp_fd, rx, sizeof(rx), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (n <= 0) {
			dp_drop(d, n == 0 ? "sluiced closed the link" : strerror(errno));
			break;
		}
		on_message(d, (size_t)n);
	}
}

void
ctld_dp_timers(struct ctld *d)
{
	unsigned i;

	if (d->cfg.ticket_lifetime_s && (!d->n_keys || d->now_s >= d->next_rotate))
		rotate_keys(d);
	/* A ban that ended: the set shrinks. */
	for (i = 0; i < CTLD_ADDRS_MAX; i++) {
		struct ctld_addr *a = &d->addrs[i];

		if (a->addr && a->banned_until && a->banned_until <= d->now_s) {
			a->banned_until = 0;
			a->fails = 0;
			d->bans_dirty = true;
		}
	}
	if (d->bans_dirty)
		ctld_dp_push_bans(d);
	if (d->next_expiry && d->now_s >= d->next_expiry)
		ctld_dp_push_grants(d); /* an expired token's sessions end */
	if (d->n_qreq && d->qreq[0].seq && d->now_ms >= d->qreq[0].deadline) {
		ctld_ops_queue_answer(d, &d->qreq[0], NULL, "sluiced did not answer within 5 s");
		qreq_pop(d);
	}
	if (d->stats_seq && d->now_ms >= d->next_stats_ms + QREQ_TIMEOUT_MS) {
		d->stats_seq = 0; /* never answered: an operator's request may go */
		qreq_send_head(d);
	}
	if (d->dp_attached && !d->stats_seq && !d->n_qreq && d->now_ms >= d->next_stats_ms) {
		struct ctl_msg_in m = { .type = CTL_MSG_LIST_QUEUES };

		m.seq = d->stats_seq = ++d->next_seq;
		d->next_stats_ms = d->now_ms + STATS_EVERY_MS;
		dp_send(d, &m);
	}
}

void
ctld_dp_close(struct ctld *d)
{
	dp_drop(d, "ctld stopping");
	if (d->dp_lfd >= 0) {
		close(d->dp_lfd);
		unlink(d->cfg.dataplane_socket);
	}
}
