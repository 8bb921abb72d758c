/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The link to sluice-ctld, main lcore side (ctldlink.h).
 *
 *   DOWN ──every LINK_RETRY_MS: connect, send Attach──► UP ──EOF / error──► DOWN
 *                                                        │   (pending auths:
 *                                                        │    Unavailable)
 *                         datagram ──► verify ──► Setup | Grants | AuthResult |
 *                                                 Bans | TicketKeys | queue request
 *
 * Authentication requests in flight wait in a fixed table indexed by the low
 * bits of their id (the high bits make ids unique over time, so a late
 * answer for a reused slot is recognised and dropped).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "config.h"
#include "ctl_build.h"
#include "ctldlink.h"
#include "lcore.h"

#define LINK_RETRY_MS 200
#define AUTH_TIMEOUT_MS 5000
#define PENDING_BITS 12
#define PENDING_MAX (1u << PENDING_BITS)
#define READS_PER_POLL 64

#define LINK_COUNTERS(X)                                                                           \
	X(connects)      /* links established */                                                   \
	X(disconnects)   /* links lost */                                                          \
	X(auth_sent)     /* Authenticate sent */                                                   \
	X(auth_answered) /* AuthResult matched to a request */                                     \
	X(auth_down)     /* refused Unavailable: link down */                                      \
	X(auth_full)     /* refused Unavailable: PENDING_MAX requests in flight */                 \
	X(auth_timeouts) /* refused Unavailable: no answer in AUTH_TIMEOUT_MS */                   \
	X(auth_stale)    /* AuthResult for no request in flight */                                 \
	X(tables)        /* principal tables published from Grants */                              \
	X(bans)          /* ban sets published */                                                  \
	X(ticket_keys)   /* TicketKeys taken */                                                    \
	X(requests)      /* queue requests passed to the control server */                         \
	X(invalid)       /* messages that failed verification or were out of place */              \
	X(send_failed)   /* a send that did not go through: the link was reset */

struct link_stats {
#define LINK_FIELD(name) uint64_t name;
	LINK_COUNTERS(LINK_FIELD)
#undef LINK_FIELD
};

struct pending_auth {
	uint64_t id; /* 0: free */
	uint64_t deadline;
	struct auth_msg m; /* token wiped once sent */
	unsigned io;
};

struct ctldlink {
	struct appliance *a;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	int ext;           /* the control server's slot for ctld's queue requests */
	uint64_t next_try; /* DOWN: when to connect again */
	uint64_t next_id;
	uint64_t now;
	bool logged_down;
	uint64_t queues_hash;
	/* Grants being received (first .. last) */
	struct auth_table *building;
	unsigned building_cap;
	unsigned creds_cap;
	uint64_t building_gen;
	/* ticket keys for the I/O lcores (ctldlink_ticket_keys) */
	struct tls_ticket_key keys[TLS_TICKET_KEYS];
	unsigned n_keys;
	struct tls_ticket_key next_keys[TLS_TICKET_KEYS];
	unsigned n_next_keys; /* waiting for every lcore to take the current ones */
	_Atomic uint64_t keys_version;
	struct {
		_Alignas(64) _Atomic uint64_t taken;
	} keys_taken[SLUICED_IO_MAX];
	struct link_stats st;
	char cert[WIRE_TEXT_MAX + 1], key[WIRE_TEXT_MAX + 1], client_ca[WIRE_TEXT_MAX + 1];
	/* sluicectl conns: one ListConns or KickConn at a time, answered by the I/O lcores */
	uint64_t conns_seq;
	unsigned conns_pending;
	uint64_t conns_deadline;
	uint32_t conns_n[SLUICED_IO_MAX], conns_open[SLUICED_IO_MAX];
	struct conn_row rows[SLUICED_IO_MAX][CTL_CONNS_MAX];
	struct pending_auth pend[PENDING_MAX];
	uint8_t rx[CTL_DGRAM_BYTES];
	uint8_t tx[CTL_DGRAM_BYTES];
};

struct ctldlink *
ctldlink_create(const char *path)
{
	struct ctldlink *l;

	if (strlen(path) >= sizeof(l->path) || path[0] == '\0') {
		errno = ENAMETOOLONG;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	strcpy(l->path, path);
	l->fd = -1;
	l->ext = -1;
	l->next_id = 1;
	return l;
}

/* FNV-1a over the queue specs: a changed set after a reconnect is reported. */
static uint64_t
specs_hash(const struct wire_ctl_setup *su)
{
	uint64_t h = 1469598103934665603ull;
	uint32_t i, k;

	for (i = 0; i < wire_ctl_setup_queues_len(su); i++) {
		struct wire_str q = wire_ctl_setup_queues_at(su, i);

		for (k = 0; k < q.len; k++)
			h = (h ^ (uint8_t)q.p[k]) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static bool
send_msg(struct ctldlink *l, const struct ctl_msg_in *m)
{
	ssize_t n = ctl_build(l->tx, sizeof(l->tx), m);

	if (l->fd < 0)
		return false;
	if (n <= 0 || send(l->fd, l->tx, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
		l->st.send_failed++;
		return false;
	}
	return true;
}

static void
fail_pending(struct ctldlink *l, unsigned i, uint64_t *counter)
{
	struct pending_auth *p = &l->pend[i];

	p->m.status = WIRE_STATUS_UNAVAILABLE;
	appliance_auth_answer(l->a, p->io, &p->m);
	p->id = 0;
	(*counter)++;
}

static void
link_down(struct ctldlink *l, const char *why)
{
	unsigned i;

	if (l->fd >= 0) {
		if (l->a)
			ctlsrv_external_close(l->a->ctl, l->ext);
		close(l->fd);
		l->fd = -1;
		l->ext = -1;
		l->st.disconnects++;
		printf("sluiced: sluice-ctld link lost (%s): sessions open now go on; new ones are "
		       "refused Unavailable until it is back\n",
		       why);
		fflush(stdout);
	}
	for (i = 0; i < PENDING_MAX; i++)
		if (l->pend[i].id)
			fail_pending(l, i, &l->st.auth_down);
	if (l->building) {
		auth_free(l->building);
		free(l->building);
		l->building = NULL;
	}
	l->next_try = l->now + LINK_RETRY_MS;
}

/* Connect and Attach; false when ctld is not there (yet). */
static bool
link_connect(struct ctldlink *l, unsigned io_lcores)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_msg_in m = { .type = CTL_MSG_ATTACH };
	int fd;

	strcpy(sa.sun_path, l->path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (!l->logged_down) {
			printf("sluiced: sluice-ctld at %s: %s (retrying every %d ms)\n", l->path,
			       strerror(errno), LINK_RETRY_MS);
			fflush(stdout);
			l->logged_down = true;
		}
		close(fd);
		return false;
	}
	l->fd = fd;
	l->logged_down = false;
	m.u.attach.version = CTL_PROTOCOL_VERSION;
	m.u.attach.pid = (uint32_t)getpid();
	m.u.attach.io_lcores = io_lcores;
	if (!send_msg(l, &m)) {
		close(fd);
		l->fd = -1;
		return false;
	}
	l->st.connects++;
	return true;
}

/* ---- before the lcores: Setup ---- */

/* A path from Setup into buf (NULL when absent). */
static const char *
setup_path(char *buf, struct wire_str s)
{
	if (!s.p)
		return NULL;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	return buf;
}

int
ctldlink_setup(struct ctldlink *l, struct sluiced_cfg *cfg, unsigned io_lcores, unsigned timeout_ms,
	       char *err, size_t errlen)
{
	uint64_t deadline = mono_ms() + timeout_ms;
	const struct wire_ctl_setup *su;
	uint32_t at, i;
	ssize_t n;
	int rc;

	while (!link_connect(l, io_lcores)) {
		if (mono_ms() >= deadline) {
			snprintf(err, errlen,
				 "--ctld %s: sluice-ctld did not answer within %u ms (is it "
				 "running, and is this its dataplane_socket?)",
				 l->path, timeout_ms);
			return -1;
		}
		usleep(LINK_RETRY_MS * 1000);
	}
	for (;;) {
		struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
		uint64_t now = mono_ms();

		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0) {
			snprintf(err, errlen, "--ctld %s: no Setup from sluice-ctld within %u ms",
				 l->path, timeout_ms);
			return -1;
		}
		n = recv(l->fd, l->rx, sizeof(l->rx), MSG_TRUNC);
		if (n <= 0) {
			snprintf(err, errlen, "--ctld %s: sluice-ctld closed the link: %s", l->path,
				 n == 0 ? "refused (see its log)" : strerror(errno));
			return -1;
		}
		rc = (size_t)n > sizeof(l->rx) ? -WIRE_E_FRAME_TOO_LARGE
					       : ctl_verify(l->rx, (size_t)n, &at);
		if (rc) {
			snprintf(err, errlen, "--ctld %s: malformed message: %s at byte %" PRIu32,
				 l->path, wire_error_name(rc), at);
			return -1;
		}
		if (wire_ctl_control_msg_type(ctl_root(l->rx)) == CTL_MSG_SETUP)
			break;
		if (wire_ctl_control_msg_type(ctl_root(l->rx)) == CTL_MSG_ERROR) {
			struct wire_str t = wire_ctl_error_message(ctl_error(ctl_root(l->rx)));

			snprintf(err, errlen, "--ctld %s: sluice-ctld refused: %.*s", l->path,
				 (int)t.len, t.p ? t.p : "");
			return -1;
		}
	}
	su = ctl_setup(ctl_root(l->rx));
	for (i = 0; i < wire_ctl_setup_queues_len(su); i++) {
		struct wire_str q = wire_ctl_setup_queues_at(su, i);
		char spec[CTL_SPEC_MAX + 1];

		memcpy(spec, q.p, q.len);
		spec[q.len] = '\0';
		if (sluiced_config_add_queue(cfg, spec, err, errlen))
			return -1;
	}
	cfg->ticket_lifetime_s = wire_ctl_setup_ticket_lifetime_s(su);
	l->queues_hash = specs_hash(su);
	if (wire_ctl_setup_listen_port(su)) {
		/* ctld's listener section: one place only for each setting */
		if (cfg->cert_file || cfg->key_file || cfg->client_ca_file || cfg->listen_given ||
		    cfg->client_cert_given) {
			snprintf(
				err, errlen,
				"--listen, --cert, --key, --client-ca and --client-cert are set by "
				"sluice-ctld's listener section: leave them off the command line");
			return -1;
		}
		cfg->listen_addr = htonl(wire_ctl_setup_listen_addr(su));
		cfg->listen_port = htons(wire_ctl_setup_listen_port(su));
		cfg->cert_file = setup_path(l->cert, wire_ctl_setup_cert_file(su));
		cfg->key_file = setup_path(l->key, wire_ctl_setup_key_file(su));
		cfg->client_ca_file = setup_path(l->client_ca, wire_ctl_setup_client_ca_file(su));
		cfg->client_cert = (enum tls_client_cert)wire_ctl_setup_client_cert(su);
	}
	if (sluiced_config_check_tls(cfg, err, errlen) ||
	    sluiced_config_check_listen(cfg, err, errlen))
		return -1;
	return 0;
}

void
ctldlink_start(struct ctldlink *l, struct appliance *a)
{
	l->a = a;
	l->now = mono_ms();
	if (l->fd >= 0)
		l->ext = ctlsrv_external_open(a->ctl, l->fd);
}

/* ---- messages from ctld ---- */

static struct auth_table *
building_table(struct ctldlink *l)
{
	if (!l->building) {
		l->building = calloc(1, sizeof(*l->building));
		l->building_cap = l->creds_cap = 0;
	}
	return l->building;
}

/* Grow *p (n used, *cap allocated, elements of size) to hold more; false when out of memory. */
static bool
grow(void **p, unsigned n, unsigned more, unsigned *cap, size_t size)
{
	unsigned want = n + more, c = *cap ? *cap : 16;
	void *np;

	if (want <= *cap)
		return true;
	while (c < want)
		c *= 2;
	np = realloc(*p, (size_t)c * size);
	if (!np)
		return false;
	*p = np;
	*cap = c;
	return true;
}

static void
copy_strings(char *dst, size_t width, struct wire_str (*at)(const void *, uint32_t), const void *t,
	     uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct wire_str s = at(t, i);

		memcpy(dst + i * width, s.p, s.len);
		dst[i * width + s.len] = '\0';
	}
}

static struct wire_str
grant_queue_at(const void *g, uint32_t i)
{
	return wire_ctl_grant_queues_at(g, i);
}

static struct wire_str
grant_type_at(const void *g, uint32_t i)
{
	return wire_ctl_grant_types_at(g, i);
}

/* The rate-limit state of the principal of this name in the table in use (or 0). */
static void
carry_state(const struct auth_table *cur, struct auth_entry *e)
{
	unsigned i;

	for (i = 0; cur && i < cur->n; i++) {
		if (strcmp(cur->e[i].principal.name, e->principal.name) == 0) {
			atomic_init(&e->jobs_tat, atomic_load(&cur->e[i].jobs_tat));
			atomic_init(&e->bytes_tat, atomic_load(&cur->e[i].bytes_tat));
			return;
		}
	}
}

static void
on_grants(struct ctldlink *l, const struct wire_ctl_grants *g)
{
	const struct auth_table *cur = atomic_load_explicit(&l->a->auth, memory_order_relaxed);
	uint32_t ng = wire_ctl_grants_grants_len(g), nc = wire_ctl_grants_creds_len(g), i;
	struct auth_table *t;

	if (wire_ctl_grants_first(g) && l->building) {
		auth_free(l->building);
		free(l->building);
		l->building = NULL;
	}
	t = building_table(l);
	if (!t || (!wire_ctl_grants_first(g) && wire_ctl_grants_gen(g) != l->building_gen) ||
	    !grow((void **)&t->e, t->n, ng, &l->building_cap, sizeof(*t->e)) ||
	    !grow((void **)&t->creds, t->n_creds, nc, &l->creds_cap, sizeof(*t->creds))) {
		l->st.invalid++;
		link_down(l, "Grants out of order or out of memory");
		return;
	}
	l->building_gen = wire_ctl_grants_gen(g);
	for (i = 0; i < ng; i++) {
		const struct wire_ctl_grant *w = wire_ctl_grants_grants_at(g, i);
		struct auth_entry *e = &t->e[t->n++];
		struct pol_principal *p = &e->principal;
		struct wire_str name = wire_ctl_grant_name(w);

		memset(e, 0, sizeof(*e));
		memcpy(p->name, name.p, name.len);
		p->roles = wire_ctl_grant_roles(w);
		p->n_globs = (uint8_t)wire_ctl_grant_queues_len(w);
		p->n_types = (uint8_t)wire_ctl_grant_types_len(w);
		copy_strings(&p->globs[0][0], sizeof(p->globs[0]), grant_queue_at, w, p->n_globs);
		copy_strings(&p->types[0][0], sizeof(p->types[0]), grant_type_at, w, p->n_types);
		p->max_payload_bytes = wire_ctl_grant_max_payload(w);
		p->max_priority = wire_ctl_grant_max_priority(w);
		e->max_conns = wire_ctl_grant_max_conns(w);
		e->jobs_per_s = wire_ctl_grant_jobs_per_s(w);
		e->jobs_burst = wire_ctl_grant_jobs_burst(w);
		e->bytes_per_s = wire_ctl_grant_bytes_per_s(w);
		e->bytes_burst = wire_ctl_grant_bytes_burst(w);
		carry_state(cur, e);
	}
	for (i = 0; i < nc; i++) {
		uint64_t v = wire_ctl_grants_creds_at(g, i);

		t->creds[t->n_creds++] =
			(struct auth_cred){ .id = v & CTL_CRED_MASK,
					    .entry = (uint32_t)(v >> CTL_CRED_BITS) };
	}
	if (!wire_ctl_grants_last(g))
		return;
	for (i = 0; i < t->n_creds; i++) {
		if (t->creds[i].entry >= t->n) {
			l->st.invalid++;
			link_down(l, "Grants: a credential names no grant");
			return;
		}
	}
	/* Bans stay as they are until ctld says otherwise. */
	if (cur && cur->n_bans) {
		t->bans = malloc(cur->n_bans * sizeof(*t->bans));
		if (t->bans) {
			memcpy(t->bans, cur->bans, cur->n_bans * sizeof(*t->bans));
			t->n_bans = cur->n_bans;
		}
	}
	if (auth_table_index(t)) {
		l->st.invalid++;
		link_down(l, "Grants: two credentials share an id");
		return;
	}
	l->building = NULL;
	appliance_auth_publish(l->a, t);
	l->st.tables++;
}

/* A new ban set: the principal table again (copied) with these bans. */
static void
on_bans(struct ctldlink *l, const struct wire_ctl_bans *b)
{
	const struct auth_table *cur = atomic_load_explicit(&l->a->auth, memory_order_relaxed);
	uint32_t n = wire_ctl_bans_addrs_len(b), i;
	struct auth_table *t = calloc(1, sizeof(*t));

	if (!t)
		return;
	t->e = cur->n ? calloc(cur->n, sizeof(*t->e)) : NULL;
	t->creds = cur->n_creds ? calloc(cur->n_creds, sizeof(*t->creds)) : NULL;
	t->bans = n ? calloc(n, sizeof(*t->bans)) : NULL;
	if ((cur->n && !t->e) || (cur->n_creds && !t->creds) || (n && !t->bans)) {
		auth_free(t);
		free(t);
		return;
	}
	for (i = 0; i < cur->n; i++) {
		/* Entries hold atomics: copied field by field, counts start again. */
		t->e[i].principal = cur->e[i].principal;
		t->e[i].max_conns = cur->e[i].max_conns;
		t->e[i].jobs_per_s = cur->e[i].jobs_per_s;
		t->e[i].jobs_burst = cur->e[i].jobs_burst;
		t->e[i].bytes_per_s = cur->e[i].bytes_per_s;
		t->e[i].bytes_burst = cur->e[i].bytes_burst;
		atomic_init(&t->e[i].jobs_tat, atomic_load(&cur->e[i].jobs_tat));
		atomic_init(&t->e[i].bytes_tat, atomic_load(&cur->e[i].bytes_tat));
	}
	t->n = cur->n;
	if (cur->n_creds)
		memcpy(t->creds, cur->creds, cur->n_creds * sizeof(*t->creds));
	t->n_creds = cur->n_creds;
	for (i = 0; i < n; i++)
		t->bans[i] = wire_ctl_bans_addrs_at(b, i);
	t->n_bans = n;
	auth_table_index(t);
	appliance_auth_publish(l->a, t);
	l->st.bans++;
}

/* Hand keys to the I/O lcores once each has taken the previous ones. */
static void
keys_offer(struct ctldlink *l)
{
	uint64_t v = atomic_load_explicit(&l->keys_version, memory_order_relaxed);
	unsigned i;

	if (!l->n_next_keys)
		return;
	for (i = 0; i < l->a->n_io; i++)
		if (atomic_load_explicit(&l->keys_taken[i].taken, memory_order_acquire) != v)
			return;
	memcpy(l->keys, l->next_keys, sizeof(l->keys));
	l->n_keys = l->n_next_keys;
	l->n_next_keys = 0;
	atomic_store_explicit(&l->keys_version, v + 1, memory_order_release);
}

static void
on_ticket_keys(struct ctldlink *l, const struct wire_ctl_ticket_keys *k)
{
	struct wire_bytes b = wire_ctl_ticket_keys_keys(k);
	unsigned n = b.len / CTL_TICKET_KEY_BYTES, i;

	if (n > TLS_TICKET_KEYS)
		n = TLS_TICKET_KEYS; /* the newest ones: tls.c keeps current and previous */
	for (i = 0; i < n; i++) {
		const uint8_t *p = b.p + i * CTL_TICKET_KEY_BYTES;

		l->next_keys[i].id = wire_ld32(p);
		memcpy(l->next_keys[i].key, p + 4, TLS_TICKET_KEY_BYTES);
	}
	l->n_next_keys = n;
	l->st.ticket_keys++;
	keys_offer(l);
}

unsigned
ctldlink_ticket_keys(struct ctldlink *l, unsigned io, void *keys, unsigned max)
{
	uint64_t v = atomic_load_explicit(&l->keys_version, memory_order_acquire);
	unsigned n;

	if (atomic_load_explicit(&l->keys_taken[io].taken, memory_order_relaxed) == v)
		return 0;
	n = l->n_keys < max ? l->n_keys : max;
	memcpy(keys, l->keys, n * sizeof(l->keys[0]));
	atomic_store_explicit(&l->keys_taken[io].taken, v, memory_order_release);
	return n;
}

static void
on_auth_result(struct ctldlink *l, const struct wire_ctl_auth_result *r)
{
	uint64_t id = wire_ctl_auth_result_id(r);
	struct pending_auth *p = &l->pend[id & (PENDING_MAX - 1)];

	if (id == 0 || p->id != id) {
		l->st.auth_stale++;
		return;
	}
	p->m.status = (uint8_t)wire_ctl_auth_result_status(r);
	p->m.cred = wire_ctl_auth_result_cred(r) & CTL_CRED_MASK;
	appliance_auth_answer(l->a, p->io, &p->m);
	p->id = 0;
	l->st.auth_answered++;
}

/* Every I/O lcore answered (or the deadline passed): the ConnList. */
static void
conns_reply(struct ctldlink *l)
{
	static struct ctl_conn_info_in out[CTL_CONNS_MAX];
	struct ctl_msg_in m = { .type = CTL_MSG_CONN_LIST, .seq = l->conns_seq };
	uint32_t n = 0, open = 0, k;
	unsigned io;

	for (io = 0; io < l->a->n_io; io++) {
		open += l->conns_open[io];
		for (k = 0; k < l->conns_n[io] && n < CTL_CONNS_MAX; k++) {
			const struct conn_row *r = &l->rows[io][k];

			out[n++] = (struct ctl_conn_info_in){
				.io = io,
				.slot = r->slot,
				.gen = r->gen,
				.addr = r->addr,
				.port = r->port,
				.age_ms = r->age_ms,
				.state = r->state,
				.role = r->role,
				.cred = r->cred,
				.principal = r->principal[0] ? wire_cstr(r->principal)
							     : (struct wire_str){ NULL, 0 },
			};
		}
	}
	m.u.conn_list.conns = out;
	m.u.conn_list.n = n;
	m.u.conn_list.truncated = open > n || l->conns_pending > 0;
	l->conns_pending = 0;
	if (!send_msg(l, &m))
		link_down(l, "send failed");
}

/* ListConns (kick false) or KickConn: ask the I/O lcores. */
static void
on_conns(struct ctldlink *l, uint64_t seq, const struct wire_ctl_kick_conn *k)
{
	struct auth_msg m = { .kind = k ? AUTH_KIND_CONNS_KICK : AUTH_KIND_CONNS_LIST };
	unsigned io;

	if (l->conns_pending) {
		struct ctl_msg_in e = { .type = CTL_MSG_ERROR, .seq = seq };

		e.u.error.code = CTL_STATUS_BUSY;
		e.u.error.message = wire_cstr("a connections request is in progress: retry");
		send_msg(l, &e);
		return;
	}
	l->conns_seq = seq;
	l->conns_deadline = l->now + 2000;
	memset(l->conns_n, 0, sizeof(l->conns_n));
	memset(l->conns_open, 0, sizeof(l->conns_open));
	if (k) {
		io = wire_ctl_kick_conn_io(k);
		if (io >= l->a->n_io) {
			conns_reply(l); /* no such lcore: no such connection */
			return;
		}
		m.conn = wire_ctl_kick_conn_slot(k);
		m.gen = wire_ctl_kick_conn_gen(k);
		m.arg = (uint64_t)(uintptr_t)l->rows[io];
		l->conns_pending = 1;
		appliance_auth_answer(l->a, io, &m);
		return;
	}
	l->conns_pending = l->a->n_io;
	for (io = 0; io < l->a->n_io; io++) {
		m.conn = CTL_CONNS_MAX;
		m.arg = (uint64_t)(uintptr_t)l->rows[io];
		appliance_auth_answer(l->a, io, &m);
	}
}

void
ctldlink_conns_done(struct ctldlink *l, unsigned io, const struct auth_msg *m)
{
	if (!l->conns_pending || io >= SLUICED_IO_MAX)
		return;
	l->conns_n[io] = m->conn;
	l->conns_open[io] = m->kind == AUTH_KIND_CONNS_LIST ? m->gen : m->conn;
	if (--l->conns_pending == 0)
		conns_reply(l);
}

/* ListCounters: every I/O lcore's counters (io_lcore_counters). */
static void
on_list_counters(struct ctldlink *l, uint64_t seq)
{
	static const char *names[CTL_LCORES_MAX][CTL_COUNTERS_MAX];
	static struct wire_str strs[CTL_LCORES_MAX][CTL_COUNTERS_MAX];
	static uint64_t values[CTL_LCORES_MAX][CTL_COUNTERS_MAX];
	struct ctl_lcore_counters_in lc[CTL_LCORES_MAX];
	struct ctl_msg_in m = { .type = CTL_MSG_COUNTER_LIST, .seq = seq };
	unsigned i, k, n = 0;

	for (i = 0; i < l->a->n_io && n < CTL_LCORES_MAX; i++) {
		if (!l->a->ios[i])
			continue;
		lc[n].io = i;
		lc[n].n = io_lcore_counters(l->a->ios[i], names[n], values[n], CTL_COUNTERS_MAX);
		for (k = 0; k < lc[n].n; k++)
			strs[n][k] = wire_cstr(names[n][k]);
		lc[n].names = strs[n];
		lc[n].values = values[n];
		n++;
	}
	m.u.counter_list.lcores = lc;
	m.u.counter_list.n = n;
	if (!send_msg(l, &m))
		link_down(l, "send failed");
}

static void
on_message(struct ctldlink *l, size_t len)
{
	const struct wire_ctl_control *r;
	uint32_t at;
	int rc;

	rc = len > CTL_MSG_BYTES_MAX + 4 ? -WIRE_E_FRAME_TOO_LARGE : ctl_verify(l->rx, len, &at);
	if (rc) {
		char why[96];

		l->st.invalid++;
		snprintf(why, sizeof(why), "malformed message: %s at byte %" PRIu32,
			 wire_error_name(rc), at);
		link_down(l, why);
		return;
	}
	r = ctl_root(l->rx);
	switch (wire_ctl_control_msg_type(r)) {
	case CTL_MSG_SETUP:
		if (specs_hash(ctl_setup(r)) != l->queues_hash) {
			printf("sluiced: sluice-ctld's queues differ from the ones this sluiced "
			       "runs: restart sluiced to apply them\n");
			fflush(stdout);
		}
		break;
	case CTL_MSG_GRANTS:
		on_grants(l, ctl_grants(r));
		break;
	case CTL_MSG_AUTH_RESULT:
		on_auth_result(l, ctl_auth_result(r));
		break;
	case CTL_MSG_BANS:
		on_bans(l, ctl_bans(r));
		break;
	case CTL_MSG_TICKET_KEYS:
		on_ticket_keys(l, ctl_ticket_keys(r));
		break;
	case CTL_MSG_LIST_COUNTERS:
		on_list_counters(l, wire_ctl_control_seq(r));
		break;
	case CTL_MSG_LIST_CONNS:
		on_conns(l, wire_ctl_control_seq(r), NULL);
		break;
	case CTL_MSG_KICK_CONN:
		on_conns(l, wire_ctl_control_seq(r), ctl_kick_conn(r));
		break;
	default:
		if (ctl_msg_is_request(wire_ctl_control_msg_type(r)) && l->ext >= 0) {
			l->st.requests++;
			ctlsrv_external_request(l->a->ctl, l->ext, l->rx, len);
		} else {
			l->st.invalid++;
		}
		break;
	}
}

void
ctldlink_poll(struct ctldlink *l, uint64_t now)
{
	unsigned k;

	if (!l || !l->a)
		return;
	l->now = now;
	if (l->fd < 0 && now >= l->next_try) {
		if (link_connect(l, l->a->n_io)) {
			l->ext = ctlsrv_external_open(l->a->ctl, l->fd);
			printf("sluiced: sluice-ctld link up (%s)\n", l->path);
			fflush(stdout);
		} else {
			l->next_try = now + LINK_RETRY_MS;
		}
	}
	for (k = 0; l->fd >= 0 && k < READS_PER_POLL; k++) {
		ssize_t n = recv(l->fd, l->rx, sizeof(l->rx), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (n <= 0) {
			link_down(l, n == 0 ? "closed by sluice-ctld" : strerror(errno));
			break;
		}
		on_message(l, (size_t)n);
	}
	for (k = 0; k < PENDING_MAX; k++)
		if (l->pend[k].id && now >= l->pend[k].deadline)
			fail_pending(l, k, &l->st.auth_timeouts);
	if (l->conns_pending && now >= l->conns_deadline && l->fd >= 0)
		conns_reply(l); /* an lcore that does not answer (draining): what there is */
	keys_offer(l);
}

void
ctldlink_auth(struct ctldlink *l, unsigned io, struct auth_msg *m)
{
	struct ctl_msg_in out = { .type = CTL_MSG_AUTHENTICATE };
	struct pending_auth *p;
	uint64_t id;

	if (l->fd < 0) {
		m->status = WIRE_STATUS_UNAVAILABLE;
		appliance_auth_answer(l->a, io, m);
		l->st.auth_down++;
		return;
	}
	id = l->next_id++;
	p = &l->pend[id & (PENDING_MAX - 1)];
	if (p->id) {
		m->status = WIRE_STATUS_UNAVAILABLE;
		appliance_auth_answer(l->a, io, m);
		l->st.auth_full++;
		return;
	}
	out.u.authenticate.id = id;
	out.u.authenticate.role = m->role;
	out.u.authenticate.addr = m->addr;
	if (m->token_len)
		out.u.authenticate.token = (struct wire_bytes){ m->token, m->token_len };
	if (m->has_cert) {
		out.u.authenticate.cert_sha256 = (struct wire_bytes){ m->cert_sha256, 32 };
		if (m->cert_subject[0]) /* absent rather than empty: the schema says 1..256 */
			out.u.authenticate.cert_subject = wire_cstr(m->cert_subject);
	}
	if (!send_msg(l, &out)) {
		m->status = WIRE_STATUS_UNAVAILABLE;
		appliance_auth_answer(l->a, io, m);
		link_down(l, "send failed");
		return;
	}
	memset(m->token, 0, sizeof(m->token));
	m->token_len = 0;
	p->id = id;
	p->io = io;
	p->m = *m;
	p->deadline = l->now + AUTH_TIMEOUT_MS;
	l->st.auth_sent++;
}

bool
ctldlink_up(const struct ctldlink *l)
{
	return l && l->fd >= 0;
}

void
ctldlink_stats_json(const struct ctldlink *l, FILE *out)
{
	const char *sep = "";

	fputc('{', out);
#define LINK_JSON(name)                                                                            \
	fprintf(out, "%s\"" #name "\":%" PRIu64, sep, l->st.name);                                 \
	sep = ",";
	LINK_COUNTERS(LINK_JSON)
#undef LINK_JSON
	fputs("}\n", out);
}

void
ctldlink_free(struct ctldlink *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	if (l->building) {
		auth_free(l->building);
		free(l->building);
	}
	free(l);
}
