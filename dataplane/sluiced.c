/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced: the appliance. Sets up the EAL, the rings and job pools, assigns
 * lcore roles, then runs: I/O and worker lcores poll; the main lcore answers
 * authentication requests and watches for SIGINT/SIGTERM, on which every
 * session is told Goodbye{ShuttingDown} once its batches are acknowledged,
 * and for SIGHUP, on which it reloads --tokens (lcore.h: the principal table).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "config.h"
#include "ctldlink.h"
#include "lcore.h"
#include "transport_dpdk.h"

#define RING_SIZE 8192
#define AUTH_RING_SIZE 1024

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t got_hup;

struct lcore_role {
	struct appliance *a;
	struct io_lcore *io;
	struct worker_lcore *worker;
};

uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
appliance_queue_find(const struct appliance *a, const char *name, uint32_t len)
{
	unsigned i;

	/* Few queues per appliance in v1; a hash table replaces this with ctld's config. */
	for (i = 0; i < a->n_queues; i++)
		if (strlen(a->queues[i].name) == len && memcmp(a->queues[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* An answer to I/O lcore io's authentication request. */
void
appliance_auth_answer(struct appliance *a, unsigned io, struct auth_msg *m)
{
	memset(m->token, 0, sizeof(m->token)); /* no secrets linger in rings */
	m->token_len = 0;
	while (rte_ring_sp_enqueue_burst_elem(a->auth_resp[io], m, sizeof(*m), 1, NULL) != 1)
		rte_pause();
}

/*
 * Main lcore's slow path: token -> principal, role check, answer; with
 * --ctld the request goes to sluice-ctld and its AuthResult answers it
 * (ctldlink.c), with --tokens the table's hashes decide here.
 */
void
main_lcore_poll(struct appliance *a)
{
	unsigned io;

	for (io = 0; io < a->n_io; io++) {
		struct auth_msg m;

		while (rte_ring_sc_dequeue_burst_elem(a->auth_req[io], &m, sizeof(m), 1, NULL) ==
		       1) {
			/* The main lcore is the only writer: a plain load sees its own store. */
			const struct auth_table *t =
				atomic_load_explicit(&a->auth, memory_order_relaxed);
			int p;

			if (m.kind != AUTH_KIND_AUTH) { /* an answer about connections */
				if (a->link)
					ctldlink_conns_done(a->link, io, &m);
				continue;
			}
			if (a->link) {
				ctldlink_auth(a->link, io, &m);
				continue;
			}
			/* The token file knows tokens only: no token, no session. */
			p = m.token_len ? auth_lookup(t, m.token, m.token_len) : -1;
			m.status = WIRE_STATUS_OK;
			if (p < 0)
				m.status = WIRE_STATUS_UNAUTHENTICATED;
			else if ((m.role & ~t->e[p].principal.roles) != 0)
				m.status = WIRE_STATUS_FORBIDDEN;
			if (m.status == WIRE_STATUS_OK)
				m.cred = auth_cred_of_hash(t->e[p].hash);
			appliance_auth_answer(a, io, &m);
		}
	}
}

void
appliance_auth_publish(struct appliance *a, struct auth_table *t)
{
	struct auth_table *old = atomic_load_explicit(&a->auth, memory_order_relaxed);

	t->gen = old ? old->gen + 1 : 1;
	atomic_store_explicit(&a->auth, t, memory_order_release);
	if (old) {
		/* freed once every I/O lcore has moved to t or later */
		old->retired_next = a->auth_retired;
		a->auth_retired = old;
		appliance_auth_reclaim(a);
	}
}

int
appliance_auth_reload(struct appliance *a, const char *path, char *err, size_t errlen)
{
	struct auth_table *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (auth_load(t, path, err, errlen)) {
		free(t);
		return -1;
	}
	appliance_auth_publish(a, t);
	return 0;
}

void
appliance_auth_reclaim(struct appliance *a)
{
	uint64_t seen = UINT64_MAX;
	struct auth_table **pp;
	unsigned i;

	if (!a->auth_retired)
		return;
	for (i = 0; i < a->n_io; i++) {
		uint64_t g = atomic_load_explicit(&a->auth_seen[i].gen, memory_order_acquire);

		seen = g < seen ? g : seen;
	}
	/* A table of gen g was replaced by g + 1: it may go once every lcore saw g + 1. */
	for (pp = &a->auth_retired; *pp;) {
		struct auth_table *t = *pp;

		if (t->gen + 1 <= seen) {
			*pp = t->retired_next;
			auth_free(t);
			free(t);
		} else {
			pp = &t->retired_next;
		}
	}
}

/* SIGHUP: reload --tokens; a file that does not load changes nothing. */
static void
main_reload(struct appliance *a)
{
	char err[512];

	got_hup = 0;
	if (a->link) {
		printf("sluiced: SIGHUP: nothing to reload here: sluice-ctld holds the "
		       "configuration (sluicectl reload)\n");
		fflush(stdout);
		return;
	}
	if (appliance_auth_reload(a, a->cfg->tokens_file, err, sizeof(err)) != 0) {
		a->reload_failures++;
		printf("sluiced: SIGHUP: %s not reloaded, the principals in use stay: %s\n",
		       a->cfg->tokens_file, err);
	} else {
		a->reloads++;
		printf("sluiced: SIGHUP: %s reloaded: %u principal(s)\n", a->cfg->tokens_file,
		       atomic_load_explicit(&a->auth, memory_order_relaxed)->n);
	}
	fflush(stdout);
}

static int
lcore_loop(void *arg)
{
	struct lcore_role *r = arg;
	struct appliance *a = r->a;
	bool io_running = r->io != NULL;

	for (;;) {
		if (io_running && !io_lcore_poll(r->io)) {
			io_running = false;
			atomic_fetch_add(&a->io_done, 1);
		}
		if (r->worker) {
			worker_lcore_poll(r->worker);
			/* The worker outlives the I/O lcores: their drains need its acks. */
			if (atomic_load(&a->io_done) == a->n_io)
				break;
		} else if (!io_running) {
			break;
		}
	}
	return 0;
}

/*
 * DPDK telemetry (dpdk-telemetry.py, or the socket in the EAL's runtime
 * directory): /sluice/io,N gives I/O lcore N's counters and /sluice/link the
 * ctld link's, the same JSON objects sluiced prints at exit. The telemetry
 * thread reads counters the lcores write: each read is one aligned word, a
 * figure may be a pass behind.
 */
static struct lcore_role *tel_roles;
static struct appliance *tel_app;

static int
tel_string(struct rte_tel_data *d, void (*fn)(const void *, FILE *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fn(arg, f);
	fclose(f);
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	rte_tel_data_string(d, buf);
	free(buf);
	return 0;
}

static void
tel_io_json(const void *io, FILE *f)
{
	io_lcore_stats_json(io, f);
}

static void
tel_link_json(const void *l, FILE *f)
{
	ctldlink_stats_json(l, f);
}

static int
tel_io(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned want = params && *params ? (unsigned)strtoul(params, NULL, 10) : 0, lc, k = 0;

	(void)cmd;
	for (lc = 0; tel_roles && lc < RTE_MAX_LCORE; lc++) {
		if (!tel_roles[lc].io)
			continue;
		if (k++ == want)
			return tel_string(d, tel_io_json, tel_roles[lc].io);
	}
	return -EINVAL;
}

static int
tel_link(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	if (!tel_app || !tel_app->link)
		return -ENOENT;
	return tel_string(d, tel_link_json, tel_app->link);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_signal = sig;
}

static int
make_pools(struct appliance *a, const struct sluiced_cfg *cfg)
{
	/* Size classes for job objects; the last holds the largest job allowed. */
	uint32_t top = JOB_HDR_BYTES + 256 + cfg->max_payload_bytes + 8192 +
		       WIRE_HEADERS_MAX * (WIRE_HEADER_KEY_MAX + WIRE_HEADER_VALUE_MAX + 3);
	uint32_t sizes[JOB_CLASSES] = { 512, 4096, 65536, top };
	/* Most jobs are small: 40% of the budget to the smallest class, 20% to each other. */
	static const unsigned share[JOB_CLASSES] = { 40, 20, 20, 20 };
	uint64_t budget = (uint64_t)cfg->job_mem_mb << 20;
	unsigned c;

	for (c = 0; c < JOB_CLASSES; c++) {
		char name[32];
		uint64_t n = budget * share[c] / 100 / sizes[c];

		if (sizes[c] > top)
			sizes[c] = top;
		if (n < 64)
			n = 64;
		snprintf(name, sizeof(name), "jobs_%u", sizes[c]);
		a->job_class_bytes[c] = sizes[c];
		/* per-lcore cache: the EAL wants cache * 1.5 <= n */
		a->jobs[c] = rte_mempool_create(name, (unsigned)n, sizes[c], n >= 192 ? 64 : 0, 0,
						NULL, NULL, NULL, NULL, (int)rte_socket_id(), 0);
		if (!a->jobs[c]) {
			fprintf(stderr,
				"sluiced: cannot create job pool of %lu x %u bytes: %s (give the "
				"EAL more memory with -m, or lower --job-mem-mb)\n",
				(unsigned long)n, sizes[c], rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

static int
make_rings(struct appliance *a)
{
	unsigned io, w;

	for (io = 0; io < a->n_io; io++) {
		char name[32];

		/* One SPSC pair per I/O lcore and worker. */
		for (w = 0; w < a->n_workers; w++) {
			snprintf(name, sizeof(name), "to_worker_%u_%u", io, w);
			a->to_worker[io][w] = rte_ring_create_elem(name, sizeof(struct msg),
								   RING_SIZE, (int)rte_socket_id(),
								   RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(name, sizeof(name), "from_worker_%u_%u", io, w);
			a->from_worker[io][w] = rte_ring_create_elem(
				name, sizeof(struct msg), RING_SIZE, (int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!a->to_worker[io][w] || !a->from_worker[io][w]) {
				fprintf(stderr, "sluiced: cannot create rings: %s\n",
					rte_strerror(rte_errno));
				return -1;
			}
		}
		snprintf(name, sizeof(name), "auth_req_%u", io);
		a->auth_req[io] =
			rte_ring_create_elem(name, sizeof(struct auth_msg), AUTH_RING_SIZE,
					     (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "auth_resp_%u", io);
		a->auth_resp[io] =
			rte_ring_create_elem(name, sizeof(struct auth_msg), AUTH_RING_SIZE,
					     (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!a->auth_req[io] || !a->auth_resp[io]) {
			fprintf(stderr, "sluiced: cannot create rings: %s\n",
				rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

/* Pick I/O and worker lcores among the EAL's worker lcores. */
static int
assign_roles(struct sluiced_cfg *cfg)
{
	unsigned lc, first = RTE_MAX_LCORE, n_avail = 0, k = 0, i;

	RTE_LCORE_FOREACH_WORKER(lc)
	{
		if (first == RTE_MAX_LCORE)
			first = lc;
		n_avail++;
	}
	if (first == RTE_MAX_LCORE) {
		fprintf(stderr, "sluiced: needs at least 2 lcores (main + one more), e.g. "
				"--lcores 0@0,1@0 on one CPU\n");
		return -1;
	}
	if (!cfg->roles_given || cfg->n_io == 0) {
		cfg->n_io = 1;
		cfg->io_lcores[0] = first;
	}
	if (cfg->n_worker_lcores == 0) {
		/* The last n_workers of the EAL's lcores, one worker each. */
		if (cfg->n_workers > n_avail) {
			fprintf(stderr,
				"sluiced: --workers %u needs %u EAL lcores besides the main one, "
				"the EAL has %u (several may share a CPU: e.g. --lcores "
				"0@0,1@0,2@0 for 2 workers)\n",
				cfg->n_workers, cfg->n_workers, n_avail);
			return -1;
		}
		i = 0;
		RTE_LCORE_FOREACH_WORKER(lc)
		{
			if (k++ >= n_avail - cfg->n_workers)
				cfg->worker_lcores[i++] = lc;
		}
	}
	for (i = 0; i < cfg->n_io; i++) {
		if (cfg->io_lcores[i] >= RTE_MAX_LCORE ||
		    !rte_lcore_is_enabled(cfg->io_lcores[i]) ||
		    cfg->io_lcores[i] == rte_get_main_lcore()) {
			fprintf(stderr,
				"sluiced: --io-lcores %u is not an enabled non-main EAL lcore\n",
				cfg->io_lcores[i]);
			return -1;
		}
	}
	for (i = 0; i < cfg->n_workers; i++) {
		lc = cfg->worker_lcores[i];
		if (lc >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lc) ||
		    lc == rte_get_main_lcore()) {
			fprintf(stderr,
				"sluiced: --worker-lcores %u is not an enabled non-main EAL "
				"lcore\n",
				lc);
			return -1;
		}
	}
	return 0;
}

static void
print_stats(const struct appliance *a)
{
	unsigned c;

	printf("sluiced: principals: %" PRIu64 " reload(s), %" PRIu64 " refused\n", a->reloads,
	       a->reload_failures);
	printf("sluiced: stopped; job pools in use:");
	for (c = 0; c < JOB_CLASSES; c++)
		printf(" %u", rte_mempool_in_use_count(a->jobs[c]));
	printf("\n");
}

int
main(int argc, char **argv)
{
	static struct sluiced_cfg cfg;
	static struct appliance a;
	static struct lcore_role roles[RTE_MAX_LCORE];
	static struct tls_ctx tls[SLUICED_IO_MAX];
	static struct dpdk_port dport;
	bool dport_up = false;
	struct tls_params tp;
	static struct worker_lcore *workers[SLUICED_WORKERS_MAX];
	struct ctldlink *link = NULL;
	unsigned i, lc;
	char err[512];
	int n, rc, status = 1;

	/* --help and --hash-token work without the EAL. */
	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
		    !strcmp(argv[i], "--hash-token")) {
			char **rest = argv + i - 1;

			rc = sluiced_config_parse(&cfg, argc - (int)i + 1, rest, err, sizeof(err));
			if (rc == 1)
				return 0;
			break;
		}
	}
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "sluiced: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 2;
	}
	argv[n] = argv[0];
	rc = sluiced_config_parse(&cfg, argc - n, argv + n, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "sluiced: %s\n", err);
		rte_eal_cleanup();
		return rc < 0 ? 2 : 0;
	}
	if (assign_roles(&cfg)) {
		status = 2; /* bad configuration */
		goto out_cfg;
	}
	if (cfg.ctld_socket) {
		/* The queues and ticket lifetime come from sluice-ctld's configuration. */
		link = ctldlink_create(cfg.ctld_socket);
		if (!link) {
			fprintf(stderr, "sluiced: --ctld %s: %s\n", cfg.ctld_socket,
				strerror(errno));
			status = 2;
			goto out_cfg;
		}
		printf("sluiced: waiting for sluice-ctld at %s\n", cfg.ctld_socket);
		fflush(stdout);
		if (ctldlink_setup(link, &cfg, cfg.n_io, cfg.ctld_wait_ms, err, sizeof(err))) {
			fprintf(stderr, "sluiced: %s\n", err);
			status = 2;
			goto out_cfg;
		}
	}
	a.cfg = &cfg;
	a.n_io = cfg.n_io;
	a.n_workers = cfg.n_workers;
	a.queues = cfg.queue_pol;
	a.n_queues = cfg.n_queues;
	a.wall_to_mono_ms = (int64_t)mono_ms() - (int64_t)wall_ms();
	if (wire_limits_init(&a.sess_cfg.lim, cfg.max_frame_bytes, cfg.max_payload_bytes,
			     cfg.max_batch_jobs)) {
		fprintf(stderr, "sluiced: a frame limit is above its cap\n");
		goto out_cfg;
	}
	a.sess_cfg.max_unacked_batches = cfg.max_unacked_batches;
	a.sess_cfg.hello_timeout_ms = cfg.hello_timeout_ms;
	a.sess_cfg.idle_timeout_ms = cfg.idle_timeout_ms;
	a.sess_cfg.heartbeat_ms = cfg.heartbeat_ms;
	a.sess_cfg.server_name = cfg.server_name;
	for (i = 0; i < cfg.n_queues; i++) {
		/* Queue i belongs to worker i mod N, where it is engine queue i / N (lcore.h). */
		cfg.queue_pol[i].worker = (uint16_t)(i % cfg.n_workers);
		cfg.queue_pol[i].index = (uint16_t)(i / cfg.n_workers);
		if (cfg.queue_pol[i].max_payload_bytes > cfg.max_payload_bytes)
			cfg.queue_pol[i].max_payload_bytes = cfg.max_payload_bytes;
	}
	if (link) {
		/* No principal until ctld's Grants arrive: every Hello waits for ctld. */
		struct auth_table *t = calloc(1, sizeof(*t));

		if (!t)
			goto out_cfg;
		appliance_auth_publish(&a, t);
	} else if (appliance_auth_reload(&a, cfg.tokens_file, err, sizeof(err))) {
		fprintf(stderr, "sluiced: %s\n", err);
		status = 2;
		goto out_cfg;
	}
	tp = (struct tls_params){ .server = true,
				  .cert_file = cfg.cert_file,
				  .key_file = cfg.key_file,
				  .ca_file = cfg.client_ca_file,
				  .client_cert = cfg.client_cert,
				  .ticket_lifetime_s = cfg.ticket_lifetime_s };
	for (i = 0; i < cfg.n_io; i++) {
		if (tls_ctx_init(&tls[i], &tp, err, sizeof(err))) {
			fprintf(stderr, "sluiced: TLS: %s\n", err);
			status = 2;
			goto out_cfg;
		}
	}
	/*
	 * One ticket key for every lcore, so a resumed session may land anywhere;
	 * with --ctld, ctld makes and rotates them (TicketKeys).
	 */
	if (cfg.ticket_lifetime_s && !link) {
		struct tls_ticket_key k = { .id = (uint32_t)wall_ms() };

		if (mbedtls_ctr_drbg_random(&tls[0].drbg, k.key, sizeof(k.key)) != 0)
			goto out_cfg;
		for (i = 0; i < cfg.n_io; i++)
			tls_ctx_set_ticket_keys(&tls[i], &k, 1);
		memset(&k, 0, sizeof(k));
	}
	if (make_rings(&a) || make_pools(&a, &cfg))
		goto out_cfg;
	if (cfg.control_socket || link) {
		/* ctld's queue requests come through the control server, socket or not. */
		a.ctl = ctlsrv_create(&a, a.n_workers, cfg.control_socket, err, sizeof(err));
		if (!a.ctl) {
			fprintf(stderr, "sluiced: %s\n", err);
			status = 2;
			goto out_lcores;
		}
	}
	for (i = 0; i < cfg.n_workers; i++) {
		workers[i] = worker_lcore_create(&a, i);
		if (!workers[i]) {
			fprintf(stderr, "sluiced: cannot create worker %u: %s\n", i,
				strerror(errno));
			goto out_lcores;
		}
		roles[cfg.worker_lcores[i]] = (struct lcore_role){ .a = &a, .worker = workers[i] };
	}
	if (strcmp(cfg.transport, "dpdk") == 0) {
		struct dpdk_port_conf dc = {
			.port_id = cfg.port_id,
			.nb_queues = (uint16_t)cfg.n_io,
			.queue_lcores = cfg.io_lcores,
			.ip = cfg.ip,
			.netmask = cfg.netmask,
			.gateway = cfg.gateway,
			.pool_mbufs = cfg.mbufs,
		};

		if (dpdk_port_setup(&dport, &dc, err, sizeof(err)) != 0) {
			fprintf(stderr, "sluiced: %s\n", err);
			goto out_lcores;
		}
		dport_up = true;
		nic_port_describe(&dport.port, err, sizeof(err));
		printf("sluiced: %s\n", err);
	}
	for (i = 0; i < cfg.n_io; i++) {
		struct transport *t =
			dport_up ? transport_dpdk_create(&dport, (uint16_t)i, cfg.max_conns)
				 : transport_kernel_create(cfg.max_conns);
		char addr[INET_ADDRSTRLEN];

		if (!t || (rc = t->ops->listen(t, cfg.listen_addr, cfg.listen_port)) != 0) {
			inet_ntop(AF_INET, &cfg.listen_addr, addr, sizeof(addr));
			fprintf(stderr, "sluiced: cannot listen on %s:%u: %s\n", addr,
				ntohs(cfg.listen_port), strerror(t ? -rc : errno));
			if (t)
				t->ops->destroy(t);
			goto out_lcores;
		}
		roles[cfg.io_lcores[i]].a = &a;
		roles[cfg.io_lcores[i]].io = io_lcore_create(&a, i, t, &tls[i]);
		a.ios[i] = roles[cfg.io_lcores[i]].io;
		if (!roles[cfg.io_lcores[i]].io) {
			fprintf(stderr, "sluiced: cannot create I/O lcore %u\n", cfg.io_lcores[i]);
			t->ops->destroy(t);
			goto out_lcores;
		}
	}
	if (link) {
		ctldlink_start(link, &a);
		a.link = link;
	}
	tel_roles = roles;
	tel_app = &a;
	rte_telemetry_register_cmd("/sluice/io", tel_io,
				   "An I/O lcore's counters (as at exit). Parameters: int index");
	rte_telemetry_register_cmd("/sluice/link", tel_link, "The sluice-ctld link's counters");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	{
		char addr[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &cfg.listen_addr, addr, sizeof(addr));
		printf("sluiced: listening on %s:%u (%s transport), %u I/O lcore(s), %u worker(s) "
		       "on lcore(s)",
		       addr, ntohs(cfg.listen_port), cfg.transport, cfg.n_io, cfg.n_workers);
		for (i = 0; i < cfg.n_workers; i++)
			printf("%s%u", i ? "," : " ", cfg.worker_lcores[i]);
		printf(", %u queue(s), %u principal(s)\n", cfg.n_queues,
		       atomic_load_explicit(&a.auth, memory_order_relaxed)->n);
		fflush(stdout);
	}
	RTE_LCORE_FOREACH_WORKER(lc)
	{
		if (roles[lc].a)
			rte_eal_remote_launch(lcore_loop, &roles[lc], lc);
	}
	while (atomic_load(&a.io_done) < a.n_io) {
		ctldlink_poll(a.link, mono_ms());
		main_lcore_poll(&a);
		ctlsrv_poll(a.ctl);
		if (got_hup && !atomic_load(&a.quit))
			main_reload(&a);
		appliance_auth_reclaim(&a);
		if (got_signal && !atomic_load(&a.quit)) {
			printf("sluiced: signal %d: draining\n", (int)got_signal);
			fflush(stdout);
			atomic_store(&a.quit, 1);
		}
		usleep(100);
	}
	rte_eal_mp_wait_lcore();
	status = 0;
out_lcores:
	if (status != 0) {
		atomic_store(&a.quit, 2);
		atomic_store(&a.io_done, a.n_io);
		rte_eal_mp_wait_lcore();
	}
	tel_roles = NULL; /* telemetry answers nothing from here */
	tel_app = NULL;
	memset(a.ios, 0, sizeof(a.ios)); /* freed below */
	for (lc = 0; lc < RTE_MAX_LCORE; lc++) {
		if (!roles[lc].io)
			continue;
		if (status == 0) {
			printf("sluiced: stats ");
			io_lcore_stats_json(roles[lc].io, stdout);
		}
		io_lcore_free(roles[lc].io);
	}
	if (a.ctl && status == 0) {
		printf("sluiced: control ");
		ctlsrv_stats_json(a.ctl, stdout);
	}
	if (link && status == 0) {
		printf("sluiced: ctld link ");
		ctldlink_stats_json(link, stdout);
	}
	ctlsrv_free(a.ctl);
	if (dport_up)
		dpdk_port_close(&dport);
	appliance_rings_drain(&a);
	for (i = 0; i < SLUICED_WORKERS_MAX; i++)
		worker_lcore_free(workers[i]);
	if (status == 0)
		print_stats(&a);
	for (i = 0; i < JOB_CLASSES; i++)
		rte_mempool_free(a.jobs[i]);
	for (i = 0; i < a.n_io; i++) {
		for (lc = 0; lc < a.n_workers; lc++) {
			rte_ring_free(a.to_worker[i][lc]);
			rte_ring_free(a.from_worker[i][lc]);
		}
		rte_ring_free(a.auth_req[i]);
		rte_ring_free(a.auth_resp[i]);
	}
out_cfg:
	ctldlink_free(link);
	for (i = 0; i < SLUICED_IO_MAX; i++)
		if (tls[i].server)
			tls_ctx_free(&tls[i]);
	{
		struct auth_table *t = atomic_load_explicit(&a.auth, memory_order_relaxed);

		if (t)
			auth_free(t);
		free(t);
		while (a.auth_retired) { /* every lcore has stopped: nobody reads them */
			struct auth_table *r = a.auth_retired;

			a.auth_retired = r->retired_next;
			auth_free(r);
			free(r);
		}
	}
	rte_eal_cleanup();
	return status;
}
