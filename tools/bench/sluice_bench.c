/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-bench: load an appliance through libsluice and measure it.
 *
 * One thread per connection. Producers enqueue jobs whose payload is an
 * ASCII tag then the job's intended send time (CLOCK_MONOTONIC ns; the tag
 * keeps the leading bytes from ever looking like a refused serialization
 * such as pickle); consumers read it back, so enqueue->deliver latency needs no shared state. At a fixed --rate
 * the schedule is open loop: job i of a producer is due at t0 + i/rate, and
 * latency counts from that due time, so a stalled appliance shows up in the
 * tail instead of hiding in a slower send loop (no coordinated omission).
 * "delivered" counts deliveries that arrive inside the measured window,
 * whenever their jobs were enqueued (consume mode drains a backlog; in e2e,
 * consumers slower than producers show as delivered < acked); the
 * enqueue->deliver latency counts jobs due inside the window.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "sluice.h"

#define THREADS_MAX 64
#define TAG "sluicebn"
#define TAG_LEN 8
#define STAMP_END (TAG_LEN + 8)

struct opts {
	const char *host;
	uint16_t port;
	const char *ca;
	const char *server_name;
	const char *token;
	const char *queue;
	const char *mode; /* produce, consume, e2e */
	unsigned producers;
	unsigned consumers;
	uint32_t batch;
	uint32_t linger_ms;
	uint32_t payload;
	double rate; /* jobs/s over all producers; 0 = as fast as acks allow */
	double duration_s;
	double warmup_s;
	uint32_t prefetch;
	bool json;
};

struct worker {
	const struct opts *o;
	pthread_t tid;
	struct sluice_client *c;
	unsigned index;
	int error;
	char err[256];
	uint64_t t_measure_ns; /* samples due before this are warm-up */
	uint64_t t_end_ns;     /* consumers: deliveries from here on are not counted */
	struct hist ack;       /* enqueue -> ack, us */
	struct hist deliver;   /* enqueue -> deliver, us */
	uint64_t sent, ok, refused, delivered, bytes_ok;
	uint64_t refused_by[32]; /* by status */
};

static atomic_bool stop_producers;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-bench [options]\n"
		"Load a sluice appliance and report jobs/s, MB/s and latency percentiles.\n"
		"\n"
		"  --addr HOST:PORT        appliance (default 127.0.0.1:7443; env SLUICE_ADDR)\n"
		"  --ca FILE               CA of the appliance's certificate (env SLUICE_CA)\n"
		"  --server-name NAME      name in its certificate (default: the host)\n"
		"  --token TOKEN           API token (env SLUICE_TOKEN)\n"
		"  --mode MODE             produce, consume or e2e (default e2e)\n"
		"  --queue NAME            (default bench)\n"
		"  --connections N         producer connections (default 8)\n"
		"  --consumers N           consumer connections (default 1; e2e and consume)\n"
		"  --batch N               jobs per batch (default 64)\n"
		"  --linger-ms N           wait for a batch to fill (default 1)\n"
		"  --payload BYTES         payload size, >= 16 (default 256)\n"
		"  --rate R                jobs/s in total, open loop (default 0: as fast as acks\n"
		"                          allow, closed loop)\n"
		"  --duration S            measured seconds (default 5)\n"
		"  --warmup S              seconds before measuring (default 1)\n"
		"  --prefetch N            consumer credit (default 256)\n"
		"  --json                  print one JSON object instead of the table\n"
		"  -h, --help\n"
		"\n"
		"exit status: 0 done, 1 a connection failed or jobs were refused, 2 usage.\n");
}

static void
on_result(void *arg, const struct sluice_result *r)
{
	struct worker *w = arg;
	uint64_t due = (uint64_t)(uintptr_t)r->user, now = now_ns();

	if (!sluice_status_ok(r->status)) {
		w->refused++;
		w->refused_by[r->status < 32 ? r->status : 31]++;
		return;
	}
	if (due < w->t_measure_ns)
		return;
	w->ok++;
	w->bytes_ok += w->o->payload;
	hist_add(&w->ack, (now - due) / 1000);
}

static struct sluice_client *
client_for(struct worker *w, enum sluice_role role)
{
	struct sluice_config cfg;
	struct sluice_client *c;

	sluice_config_init(&cfg);
	cfg.host = w->o->host;
	cfg.port = w->o->port;
	cfg.ca_file = w->o->ca;
	cfg.server_name = w->o->server_name;
	cfg.token = w->o->token;
	cfg.client_name = "sluice-bench";
	cfg.role = role;
	cfg.max_batch_jobs = w->o->batch;
	cfg.linger_ms = w->o->linger_ms;
	cfg.on_result = on_result;
	cfg.on_result_arg = w;
	c = sluice_client_new(&cfg, w->err, sizeof(w->err));
	if (!c)
		return NULL;
	if (sluice_connect(c) != 0) {
		snprintf(w->err, sizeof(w->err), "connect: %s", sluice_last_error(c));
		sluice_client_free(c);
		return NULL;
	}
	return c;
}

static void *
producer(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	uint8_t *payload = calloc(1, o->payload);
	double per_thread = o->rate / o->producers;
	uint64_t linger_ns = (uint64_t)o->linger_ms * 1000000, batch_t0 = 0, t0, i;
	uint32_t open_jobs = 0; /* jobs in the batch not sent yet (open loop) */
	struct sluice_job job = { .queue = o->queue, .type = "bench" };

	if (!payload || !(w->c = client_for(w, SLUICE_PRODUCER))) {
		w->error = 1;
		free(payload);
		return NULL;
	}
	memcpy(payload, TAG, TAG_LEN);
	job.payload = payload;
	job.payload_len = o->payload;
	t0 = now_ns();
	w->t_measure_ns = t0 + (uint64_t)(o->warmup_s * 1e9);
	for (i = 0; !atomic_load(&stop_producers); i++) {
		uint64_t due = now_ns();
		int rc;

		if (per_thread > 0) {
			due = t0 + (uint64_t)((double)i * 1e9 / per_thread);
			/*
			 * Sleep until the job is due, or until the open batch's linger
			 * ends (then send it). Neither spin nor flush early: spinning
			 * producers starved the consumers' threads, and flushing while
			 * waiting sent batches of a job or two instead of --batch.
			 * Timer slack shows in the latency, counted from the due time.
			 */
			for (;;) {
				uint64_t t = now_ns(), wake = due;
				bool linger_ends = open_jobs && batch_t0 + linger_ns < due;

				if (linger_ends)
					wake = batch_t0 + linger_ns;
				if (t < wake) {
					usleep((useconds_t)((wake - t + 999) / 1000));
					continue;
				}
				if (!linger_ends)
					break;
				open_jobs = 0;
				if (sluice_flush(w->c) != 0)
					break;
			}
		}
		memcpy(payload + TAG_LEN, &due, sizeof(due));
		rc = sluice_enqueue(w->c, &job, (void *)(uintptr_t)due, NULL);
		if (rc != 0) {
			snprintf(w->err, sizeof(w->err), "enqueue: %s", sluice_last_error(w->c));
			w->error = 1;
			break;
		}
		w->sent++;
		/* The library sends a batch when it is full (or its linger ended). */
		if (open_jobs++ == 0)
			batch_t0 = now_ns();
		if (open_jobs == o->batch)
			open_jobs = 0;
	}
	if (sluice_drain(w->c, 30000) != 0 && !w->error) {
		snprintf(w->err, sizeof(w->err), "drain: %s", sluice_last_error(w->c));
		w->error = 1;
	}
	sluice_close(w->c);
	free(payload);
	return NULL;
}

static void
handle(void *arg, struct sluice_client *c, const struct sluice_delivery *d,
       struct sluice_verdict *v)
{
	struct worker *w = arg;
	size_t len = 0;
	const uint8_t *p = sluice_delivery_payload(d, &len);
	uint64_t due, now = now_ns();

	(void)c;
	v->ok = true;
	if (now < w->t_measure_ns || now >= w->t_end_ns)
		return;
	w->delivered++;
	if (len < STAMP_END || memcmp(p, TAG, TAG_LEN) != 0)
		return;
	memcpy(&due, p + TAG_LEN, sizeof(due));
	/* Same window as the acks: jobs due after the warm-up. */
	if (due >= w->t_measure_ns)
		hist_add(&w->deliver, (now - due) / 1000);
}

static void *
consumer(void *arg)
{
	struct worker *w = arg;
	struct sluice_queue_weight q = { .queue = w->o->queue, .weight = 1 };
	int rc;

	w->t_measure_ns = now_ns() + (uint64_t)(w->o->warmup_s * 1e9);
	w->t_end_ns = w->t_measure_ns + (uint64_t)(w->o->duration_s * 1e9);
	if (!w->c) {
		w->error = 1;
		return NULL;
	}
	if (sluice_subscribe(w->c, &q, 1, w->o->prefetch) != 0) {
		snprintf(w->err, sizeof(w->err), "subscribe: %s", sluice_last_error(w->c));
		w->error = 1;
		return NULL;
	}
	rc = sluice_consume(w->c, handle, w, 0, -1, NULL);
	if (rc != 0 && rc != -SLUICE_E_STOPPED) {
		snprintf(w->err, sizeof(w->err), "consume: %s", sluice_last_error(w->c));
		w->error = 1;
	}
	return NULL;
}

static int
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "ca", required_argument, NULL, 'C' },
		{ "server-name", required_argument, NULL, 'n' },
		{ "token", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "queue", required_argument, NULL, 'q' },
		{ "connections", required_argument, NULL, 'c' },
		{ "consumers", required_argument, NULL, 'k' },
		{ "batch", required_argument, NULL, 'b' },
		{ "linger-ms", required_argument, NULL, 'l' },
		{ "payload", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "prefetch", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = getenv("SLUICE_ADDR") ? getenv("SLUICE_ADDR") : "127.0.0.1:7443";
	static char host[256];
	char *colon, *end;
	int c;

	*o = (struct opts){ .ca = getenv("SLUICE_CA"),
			    .token = getenv("SLUICE_TOKEN"),
			    .queue = "bench",
			    .mode = "e2e",
			    .producers = 8,
			    .consumers = 1,
			    .batch = 64,
			    .linger_ms = 1,
			    .payload = 256,
			    .duration_s = 5,
			    .warmup_s = 1,
			    .prefetch = 256 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'C':
			o->ca = optarg;
			break;
		case 'n':
			o->server_name = optarg;
			break;
		case 't':
			o->token = optarg;
			break;
		case 'm':
			o->mode = optarg;
			break;
		case 'q':
			o->queue = optarg;
			break;
		case 'c':
			o->producers = (unsigned)strtoul(optarg, &end, 10);
			break;
		case 'k':
			o->consumers = (unsigned)strtoul(optarg, &end, 10);
			break;
		case 'b':
			o->batch = (uint32_t)strtoul(optarg, &end, 10);
			break;
		case 'l':
			o->linger_ms = (uint32_t)strtoul(optarg, &end, 10);
			break;
		case 'p':
			o->payload = (uint32_t)strtoul(optarg, &end, 10);
			break;
		case 'r':
			o->rate = strtod(optarg, &end);
			break;
		case 'd':
			o->duration_s = strtod(optarg, &end);
			break;
		case 'w':
			o->warmup_s = strtod(optarg, &end);
			break;
		case 'f':
			o->prefetch = (uint32_t)strtoul(optarg, &end, 10);
			break;
		case 'j':
			o->json = true;
			continue;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (c != 'a' && c != 'C' && c != 'n' && c != 't' && c != 'm' && c != 'q' &&
		    (errno || *end || optarg[0] == '-')) {
			fprintf(stderr, "sluice-bench: '%s' is not a non-negative number\n",
				optarg);
			return -1;
		}
	}
	snprintf(host, sizeof(host), "%s", addr);
	colon = strrchr(host, ':');
	if (!colon || !colon[1]) {
		fprintf(stderr, "sluice-bench: --addr '%s' is not HOST:PORT\n", addr);
		return -1;
	}
	*colon = '\0';
	o->host = host;
	o->port = (uint16_t)strtoul(colon + 1, NULL, 10);
	if (!o->ca) {
		fprintf(stderr, "sluice-bench: --ca is required (or SLUICE_CA)\n");
		return -1;
	}
	if (strcmp(o->mode, "produce") && strcmp(o->mode, "consume") && strcmp(o->mode, "e2e")) {
		fprintf(stderr, "sluice-bench: --mode must be produce, consume or e2e\n");
		return -1;
	}
	if (!strcmp(o->mode, "consume"))
		o->producers = 0;
	if (!strcmp(o->mode, "produce"))
		o->consumers = 0;
	if (o->producers + o->consumers == 0 || o->producers + o->consumers > THREADS_MAX ||
	    o->payload < STAMP_END || o->batch == 0 || o->duration_s <= 0 || o->prefetch == 0) {
		fprintf(stderr,
			"sluice-bench: need 1-%d connections, --payload >= 8, --batch >= 1, "
			"--duration > 0, --prefetch >= 1\n",
			THREADS_MAX);
		return -1;
	}
	return 0;
}

static void
report(const struct opts *o, struct worker *w, unsigned n, double secs)
{
	static struct hist ack, del;
	uint64_t ok = 0, refused = 0, delivered = 0, bytes = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		hist_merge(&ack, &w[i].ack);
		hist_merge(&del, &w[i].deliver);
		ok += w[i].ok;
		refused += w[i].refused;
		delivered += w[i].delivered;
		bytes += w[i].bytes_ok;
	}
	if (o->json) {
		printf("{\"mode\":\"%s\",\"producers\":%u,\"consumers\":%u,\"batch\":%u,"
		       "\"payload\":%u,\"rate\":%.0f,\"seconds\":%.2f,\"jobs_per_s\":%.0f,"
		       "\"mb_per_s\":%.2f,\"refused\":%" PRIu64 ",\"delivered\":%" PRIu64 ","
		       "\"ack_us\":{\"p50\":%" PRIu64 ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64
		       ",\"p999\":%" PRIu64 ",\"max\":%" PRIu64 "},"
		       "\"deliver_us\":{\"p50\":%" PRIu64 ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64
		       ",\"p999\":%" PRIu64 ",\"max\":%" PRIu64 "}}\n",
		       o->mode, o->producers, o->consumers, o->batch, o->payload, o->rate, secs,
		       (double)ok / secs, (double)bytes / secs / 1e6, refused, delivered,
		       hist_quantile(&ack, .5), hist_quantile(&ack, .9), hist_quantile(&ack, .99),
		       hist_quantile(&ack, .999), ack.max_us, hist_quantile(&del, .5),
		       hist_quantile(&del, .9), hist_quantile(&del, .99), hist_quantile(&del, .999),
		       del.max_us);
		return;
	}
	printf("sluice-bench %s: %u producer(s), %u consumer(s), batch %u, payload %u B, %s\n",
	       o->mode, o->producers, o->consumers, o->batch, o->payload,
	       o->rate > 0 ? "open loop" : "closed loop (max)");
	printf("  acked ok      %12.0f jobs/s  %8.2f MB/s  (%" PRIu64 " refused)\n",
	       (double)ok / secs, (double)bytes / secs / 1e6, refused);
	for (i = 0; i < 32; i++) {
		uint64_t by = 0;
		unsigned k;

		for (k = 0; k < n; k++)
			by += w[k].refused_by[i];
		if (by)
			printf("  refused %-20s %" PRIu64 "\n", sluice_status_name(i), by);
	}
	printf("  delivered     %12.0f jobs/s\n", (double)delivered / secs);
	printf("  latency us        p50      p90      p99    p99.9      max\n");
	printf("  enqueue->ack %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
	       hist_quantile(&ack, .5), hist_quantile(&ack, .9), hist_quantile(&ack, .99),
	       hist_quantile(&ack, .999), ack.max_us);
	printf("  enq->deliver %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
	       hist_quantile(&del, .5), hist_quantile(&del, .9), hist_quantile(&del, .99),
	       hist_quantile(&del, .999), del.max_us);
}

int
main(int argc, char **argv)
{
	static struct worker w[THREADS_MAX];
	struct opts o;
	unsigned i, n, failed = 0;
	uint64_t refused = 0;

	if (parse_opts(&o, argc, argv))
		return 2;
	n = o.producers + o.consumers;
	/* Consumers connect first so the measured window sees deliveries from the start. */
	for (i = 0; i < o.consumers; i++) {
		struct worker *c = &w[o.producers + i];

		c->o = &o;
		c->index = i;
		c->c = client_for(c, SLUICE_CONSUMER);
		if (!c->c) {
			fprintf(stderr, "sluice-bench: consumer %u: %s\n", i, c->err);
			return 1;
		}
		pthread_create(&c->tid, NULL, consumer, c);
	}
	for (i = 0; i < o.producers; i++) {
		w[i].o = &o;
		w[i].index = i;
		pthread_create(&w[i].tid, NULL, producer, &w[i]);
	}
	usleep((useconds_t)((o.warmup_s + o.duration_s) * 1e6));
	atomic_store(&stop_producers, true);
	for (i = 0; i < o.producers; i++)
		pthread_join(w[i].tid, NULL);
	/* Give consumers a moment for what is in flight, then stop them. */
	usleep(200000);
	for (i = o.producers; i < n; i++)
		if (w[i].c)
			sluice_stop(w[i].c);
	for (i = o.producers; i < n; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].c) {
			sluice_close(w[i].c);
			sluice_client_free(w[i].c);
		}
	}
	for (i = 0; i < o.producers; i++)
		sluice_client_free(w[i].c);
	for (i = 0; i < n; i++) {
		if (w[i].error) {
			fprintf(stderr, "sluice-bench: %s %u: %s\n",
				i < o.producers ? "producer" : "consumer",
				i < o.producers ? i : i - o.producers, w[i].err);
			failed++;
		}
	}
	for (i = 0; i < o.producers; i++)
		refused += w[i].refused;
	report(&o, w, n, o.duration_s);
	return failed || refused ? 1 : 0;
}
