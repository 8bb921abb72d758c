/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ctld: start-up, the poll loop, reload, metrics (ctld.h has the map).
 *
 *   sluice-ctld --config FILE          run
 *   sluice-ctld --check-config FILE    validate only: exit 0, or 1 with file:line:col
 *
 * Signals: SIGHUP reloads (like sluicectl reload), SIGTERM/SIGINT stop.
 * Exit codes: 0 stopped cleanly, 1 invalid configuration, 2 usage, 3 could
 * not start (sockets, state directory, audit log).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctld.h"

static volatile sig_atomic_t got_hup, got_term;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
clocks(struct ctld *d)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	d->now_s = (int64_t)ts.tv_sec;
}

void
ctld_audit(struct ctld *d, const char *event, const struct audit_kv *kv, unsigned n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (audit_append(&d->audit, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, event, kv,
			 n) != 0)
		fprintf(stderr, "sluice-ctld: audit log %s: cannot append %s: %s\n",
			d->cfg.audit_log, event, strerror(errno));
}

/* The configuration's provisioned tokens into the store (replacing the previous file's). */
static int
add_config_tokens(struct creds *c, const struct ctld_config *cfg, char *err, size_t errlen)
{
	unsigned i, k;

	creds_drop_config(c);
	for (i = 0; i < cfg->n_principals; i++) {
		const struct ccfg_principal *p = &cfg->principals[i];

		for (k = 0; k < p->n_tokens; k++) {
			char why[256];

			if (creds_add_config(c, p->tokens[k].id, p->name, p->tokens[k].sha256,
					     p->tokens[k].expires, why, sizeof(why))) {
				snprintf(err, errlen, "%s:%u: principals %s token %s: %s",
					 cfg->path, p->tokens[k].line, p->name, p->tokens[k].id,
					 why);
				return -1;
			}
		}
	}
	return 0;
}

/* Settings that need a restart of ctld (sockets, files) or of sluiced (queues). */
static void
note_restart_needed(const struct ctld_config *old, const struct ctld_config *cfg)
{
	if (strcmp(old->dataplane_socket, cfg->dataplane_socket) ||
	    strcmp(old->operator_socket, cfg->operator_socket) ||
	    strcmp(old->state_dir, cfg->state_dir) || strcmp(old->audit_log, cfg->audit_log) ||
	    old->metrics != cfg->metrics || old->metrics_addr != cfg->metrics_addr ||
	    old->metrics_port != cfg->metrics_port)
		printf("sluice-ctld: reload: sockets, state_dir, audit_log and metrics.listen "
		       "take effect when ctld restarts\n");
	if (old->listener != cfg->listener || old->listen_addr != cfg->listen_addr ||
	    old->listen_port != cfg->listen_port || strcmp(old->tls_cert, cfg->tls_cert) ||
	    strcmp(old->tls_key, cfg->tls_key) || strcmp(old->tls_client_ca, cfg->tls_client_ca) ||
	    old->tls_client_cert != cfg->tls_client_cert)
		printf("sluice-ctld: reload: the listener section takes effect when sluiced "
		       "restarts\n");
}

int
ctld_reload(struct ctld *d, char *err, size_t errlen)
{
	struct ctld_config cfg;
	unsigned i;

	if (ctld_config_load(d->config_path, &cfg, err, errlen) != 0 ||
	    add_config_tokens(&d->creds, &cfg, err, errlen) != 0) {
		const struct audit_kv kv[] = { { "file", d->config_path, 0 }, { "error", err, 0 } };

		ctld_config_free(&cfg);
		/* back to the tokens of the configuration in use */
		add_config_tokens(&d->creds, &d->cfg, err + strlen(err), 0);
		d->reload_failures++;
		ctld_audit(d, "config.reload_refused", kv, 2);
		return -1;
	}
	note_restart_needed(&d->cfg, &cfg);
	/* A changed queue set reaches sluiced at its next start (it says so). */
	if (cfg.n_queues != d->cfg.n_queues)
		printf("sluice-ctld: reload: the queue set changed: restart sluiced to apply it\n");
	for (i = 0; i < cfg.n_queues && i < d->cfg.n_queues; i++) {
		char a[CTL_SPEC_MAX + 1], b[CTL_SPEC_MAX + 1];

		if (ctld_config_queue_spec(&cfg.queues[i], a, sizeof(a)) < 0 ||
		    ctld_config_queue_spec(&d->cfg.queues[i], b, sizeof(b)) < 0 || strcmp(a, b))
			printf("sluice-ctld: reload: queue %s changed: restart sluiced to apply "
			       "it\n",
			       cfg.queues[i].name);
	}
	/* Sockets and paths stay those ctld opened. */
	memcpy(cfg.dataplane_socket, d->cfg.dataplane_socket, sizeof(cfg.dataplane_socket));
	memcpy(cfg.operator_socket, d->cfg.operator_socket, sizeof(cfg.operator_socket));
	memcpy(cfg.audit_log, d->cfg.audit_log, sizeof(cfg.audit_log));
	memcpy(cfg.state_dir, d->cfg.state_dir, sizeof(cfg.state_dir));
	ctld_config_free(&d->cfg);
	d->cfg = cfg;
	if (d->metrics && d->cfg.metrics)
		metrics_set_token(d->metrics, d->cfg.metrics_sha256);
	d->reloads++;
	{
		const struct audit_kv kv[] = { { "file", d->config_path, 0 },
					       { "principals", NULL, d->cfg.n_principals },
					       { "queues", NULL, d->cfg.n_queues } };

		ctld_audit(d, "config.reload", kv, 3);
	}
	ctld_dp_push_grants(d); /* sessions whose grants changed end; the rest move on */
	fflush(stdout);
	return 0;
}

/* ---- metrics ---- */

/* One family of the I/O lcores' counters named prefix<reason>, labelled label=reason. */
static void
by_reason(const struct ctld *d, FILE *out, const char *family, const char *prefix,
	  const char *label, const char *help)
{
	size_t pl = strlen(prefix);
	char labels[160];
	unsigned k, i;

	metrics_family(out, family, "counter", help);
	for (k = 0; k < d->n_lcores; k++)
		for (i = 0; i < d->lcores[k].n; i++)
			if (strncmp(d->lcores[k].names[i], prefix, pl) == 0) {
				snprintf(labels, sizeof(labels), "io=\"%u\",%s=\"%s\"",
					 d->lcores[k].io, label, d->lcores[k].names[i] + pl);
				metrics_sample(out, family, labels, (double)d->lcores[k].values[i]);
			}
}

void
ctld_metrics_render(void *arg, FILE *out)
{
	static const char *const results[CTLD_AUTH__COUNT] = {
#define AUTH_NAME(name) #name,
		CTLD_AUTH_RESULTS(AUTH_NAME)
#undef AUTH_NAME
	};
	static const struct {
		const char *name, *type, *help;
	} qm[CTLD_QUEUE_VALUES] = {
		{ "sluice_queue_ready", "gauge", "Jobs leasable now." },
		{ "sluice_queue_delayed", "gauge", "Jobs waiting for their not_before time." },
		{ "sluice_queue_retry_wait", "gauge", "Failed jobs waiting for their backoff." },
		{ "sluice_queue_in_flight", "gauge", "Jobs leased to consumers." },
		{ "sluice_queue_dead", "gauge", "Dead letters." },
		{ "sluice_queue_bytes", "gauge", "Job data bytes held." },
		{ "sluice_queue_enqueued_total", "counter", "Jobs accepted." },
		{ "sluice_queue_delivered_total", "counter", "Leases handed out." },
		{ "sluice_queue_completed_total", "counter", "Jobs completed." },
		{ "sluice_queue_failed_total", "counter", "Attempts that failed." },
		{ "sluice_queue_dead_lettered_total", "counter", "Moves into the dead set." },
		{ "sluice_queue_expired_total", "counter", "Jobs whose TTL ran out." },
		{ "sluice_queue_lease_timeouts_total", "counter", "Leases that ran out." },
		{ "sluice_queue_redriven_total", "counter", "Dead jobs moved back to ready." },
		{ "sluice_queue_purged_total", "counter", "Jobs dropped by purge." },
	};
	struct ctld *d = arg;
	char labels[160];
	unsigned i, k;

	metrics_family(out, "sluice_auth_total", "counter", "Authentication decisions by result.");
	for (i = 0; i < CTLD_AUTH__COUNT; i++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"", results[i]);
		metrics_sample(out, "sluice_auth_total", labels, (double)d->auth[i]);
	}
	metrics_family(out, "sluice_bans", "gauge", "Source addresses banned now.");
	metrics_sample(out, "sluice_bans", NULL, ctld_bans_active(d));
	metrics_family(out, "sluice_bans_total", "counter", "Bans imposed.");
	metrics_sample(out, "sluice_bans_total", NULL, (double)d->bans_total);
	metrics_family(out, "sluice_dataplane_attached", "gauge",
		       "1 while sluiced is connected to ctld.");
	metrics_sample(out, "sluice_dataplane_attached", NULL, d->dp_attached);
	metrics_family(out, "sluice_config_reloads_total", "counter", "Configuration reloads.");
	metrics_sample(out, "sluice_config_reloads_total", "result=\"ok\"", (double)d->reloads);
	metrics_sample(out, "sluice_config_reloads_total", "result=\"refused\"",
		       (double)d->reload_failures);
	metrics_family(out, "sluice_queue_paused", "gauge", "1 while the queue is paused.");
	for (k = 0; k < d->n_qstat; k++) {
		snprintf(labels, sizeof(labels), "queue=\"%s\"", d->qstat[k].name);
		metrics_sample(out, "sluice_queue_paused", labels, d->qstat[k].paused);
	}
	for (i = 0; i < CTLD_QUEUE_VALUES; i++) {
		metrics_family(out, qm[i].name, qm[i].type, qm[i].help);
		for (k = 0; k < d->n_qstat; k++) {
			snprintf(labels, sizeof(labels), "queue=\"%s\"", d->qstat[k].name);
			metrics_sample(out, qm[i].name, labels, (double)d->qstat[k].v[i]);
		}
	}
	metrics_family(out, "sluice_io_events_total", "counter",
		       "Per I/O lcore: connections, TLS handshakes, sessions, frames, drops "
		       "(refused_conn_limit, job_mem_exhausted, enqueue_ring_full, banned, "
		       "rate_limited, too_many_conns, ...).");
	for (k = 0; k < d->n_lcores; k++)
		for (i = 0; i < d->lcores[k].n; i++)
			if (!strchr(d->lcores[k].names[i], '.')) {
				snprintf(labels, sizeof(labels), "io=\"%u\",event=\"%s\"",
					 d->lcores[k].io, d->lcores[k].names[i]);
				metrics_sample(out, "sluice_io_events_total", labels,
					       (double)d->lcores[k].values[i]);
			}
	by_reason(d, out, "sluice_frames_invalid_total", "invalid.", "check",
		  "Per I/O lcore: frames refused by the verifier, by check.");
	by_reason(d, out, "sluice_jobs_refused_total", "refused.", "status",
		  "Per I/O lcore: jobs refused, by status.");
	metrics_family(out, "sluice_queue_stats_age_seconds", "gauge",
		       "Age of the queue figures above (sluiced is asked every 2 s).");
	metrics_sample(out, "sluice_queue_stats_age_seconds", NULL,
		       d->qstat_at ? (double)(d->now_s - d->qstat_at) : -1);
}

/* ---- start-up ---- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-ctld --config FILE\n"
		"       sluice-ctld --check-config FILE\n"
		"\n"
		"sluice's control daemon: authenticates every session sluiced (--ctld) opens,\n"
		"holds the tokens (hashed), principals, ACLs, limits, bans and ticket keys,\n"
		"writes the hash-chained audit log, serves sluicectl and Prometheus metrics.\n"
		"Run it as an unprivileged user; it needs no privilege.\n"
		"\n"
		"  --config FILE        the YAML configuration (format: "
		"control/config/ctld_config.h,\n"
		"                       example: README \"Control plane\")\n"
		"  --check-config FILE  validate FILE and exit: 0 valid, 1 with file:line:column\n"
		"                       messages\n"
		"  --help               this text\n"
		"\n"
		"SIGHUP or 'sluicectl reload' loads the file again: validated whole first; an\n"
		"invalid file changes nothing and says why. SIGTERM stops.\n"
		"Exit: 0 stopped, 1 invalid configuration, 2 usage, 3 could not start.\n");
}

static int
start(struct ctld *d, char *err, size_t errlen)
{
	char path[CCFG_PATH_MAX + 32];

	if (audit_open(&d->audit, d->cfg.audit_log, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/tokens.jsonl", d->cfg.state_dir);
	if (creds_open(&d->creds, path, err, errlen) ||
	    add_config_tokens(&d->creds, &d->cfg, err, errlen))
		return -1;
	if (ctld_dp_open(d, err, errlen) || ctld_ops_open(d, err, errlen))
		return -1;
	if (d->cfg.metrics) {
		d->metrics =
			metrics_open(d->cfg.metrics_addr, d->cfg.metrics_port,
				     d->cfg.metrics_sha256, ctld_metrics_render, d, err, errlen);
		if (!d->metrics)
			return -1;
	}
	return 0;
}

static void
loop(struct ctld *d)
{
	struct pollfd p[4 + CTLD_OPS_MAX + 1 + METRICS_CONNS_MAX];
	int mfds[1 + METRICS_CONNS_MAX];

	while (!got_term) {
		unsigned n = 0, i;
		int nm;

		n += ctld_dp_pollfds(d, p + n);
		n += ctld_ops_pollfds(d, p + n);
		nm = d->metrics ? metrics_fds(d->metrics, mfds, 1 + METRICS_CONNS_MAX) : 0;
		for (i = 0; i < (unsigned)nm; i++)
			p[n++] = (struct pollfd){ .fd = mfds[i], .events = POLLIN };
		/* 100 ms: timers, and metrics connections waiting to send, move on. */
		if (poll(p, n, 100) < 0 && errno != EINTR)
			break;
		clocks(d);
		ctld_dp_poll(d);
		ctld_ops_poll(d);
		if (d->metrics)
			metrics_poll(d->metrics, d->now_ms);
		ctld_dp_timers(d);
		if (got_hup) {
			char err[1024];

			got_hup = 0;
			if (ctld_reload(d, err, sizeof(err)))
				printf("sluice-ctld: SIGHUP: %s: not reloaded, the configuration "
				       "in "
				       "use stays\n",
				       err);
			else
				printf("sluice-ctld: SIGHUP: %s reloaded\n", d->config_path);
			fflush(stdout);
		}
	}
}

int
main(int argc, char **argv)
{
	static struct ctld d;
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *check = NULL;
	char err[1024];
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'k':
			check = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || (!check == !d.config_path)) {
		fprintf(stderr, "sluice-ctld: give exactly one of --config FILE and "
				"--check-config FILE (--help)\n");
		return 2;
	}
	if (check) {
		if (ctld_config_load(check, &d.cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			ctld_config_free(&d.cfg);
			return 1;
		}
		printf("%s: valid: %u queues, %u principals, %u operators\n", check, d.cfg.n_queues,
		       d.cfg.n_principals, d.cfg.n_operators);
		ctld_config_free(&d.cfg);
		return 0;
	}
	if (ctld_config_load(d.config_path, &d.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice-ctld: %s\n", err);
		ctld_config_free(&d.cfg);
		return 1;
	}
	d.dp_lfd = d.op_lfd = d.dp_fd = -1;
	clocks(&d);
	d.started_s = d.now_s;
	if (start(&d, err, sizeof(err))) {
		fprintf(stderr, "sluice-ctld: %s\n", err);
		return 3;
	}
	signal(SIGHUP, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	{
		const struct audit_kv kv[] = { { "pid", NULL, getpid() },
					       { "config", d.config_path, 0 },
					       { "principals", NULL, d.cfg.n_principals } };

		ctld_audit(&d, "ctld.start", kv, 3);
	}
	printf("sluice-ctld: serving sluiced on %s, sluicectl on %s", d.cfg.dataplane_socket,
	       d.cfg.operator_socket);
	if (d.metrics)
		printf(", metrics on port %u", metrics_port(d.metrics));
	printf("; %u queues, %u principals\n", d.cfg.n_queues, d.cfg.n_principals);
	fflush(stdout);
	loop(&d);
	{
		const struct audit_kv kv[] = { { "pid", NULL, getpid() } };

		ctld_audit(&d, "ctld.stop", kv, 1);
	}
	ctld_dp_close(&d);
	ctld_ops_close(&d);
	metrics_close(d.metrics);
	creds_close(&d.creds);
	audit_close(&d.audit);
	ctld_config_free(&d.cfg);
	printf("sluice-ctld: stopped\n");
	return 0;
}
