/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint: Prometheus text format (version 0.0.4) over HTTP/1.1
 * on a TCP address (127.0.0.1:9464 by default), GET /metrics only, every
 * request must carry "Authorization: Bearer <token>" whose SHA-256 equals
 * the configured hash (compared in constant time). Answers:
 *
 *   200  text/plain; version=0.0.4 with the body the render callback wrote
 *   401  no or a wrong bearer token (WWW-Authenticate: Bearer)
 *   404  another path; 405 another method; 400 a malformed or oversized
 *        request (request head > 8 KiB); 503 too many connections
 *
 * One connection, one request (Connection: close). Non-blocking: the owner
 * calls metrics_poll from its loop; a slow client cannot stall it (each
 * connection has a 5 s deadline and at most METRICS_CONNS_MAX are open).
 * Not thread-safe: one owner.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_CONNS_MAX 16
#define METRICS_HEAD_MAX 8192

struct metrics;

/* Writes the exposition text to out (an open memstream). */
typedef void (*metrics_render_fn)(void *arg, FILE *out);

/*
 * Listen on addr:port (addr network order, port host order; port 0 picks a
 * free one, metrics_port tells which). NULL with err.
 */
struct metrics *metrics_open(uint32_t addr, uint16_t port, const uint8_t token_sha256[32],
			     metrics_render_fn render, void *arg, char *err, size_t errlen);
uint16_t metrics_port(const struct metrics *m);
/* The listening descriptor and each connection's, for the owner's poll(2). */
int metrics_fds(const struct metrics *m, int *fds, unsigned cap);
/* Accept, read, answer, close; never blocks. now_ms: monotonic. */
void metrics_poll(struct metrics *m, uint64_t now_ms);
/* Replace the token hash (config reload). */
void metrics_set_token(struct metrics *m, const uint8_t token_sha256[32]);

struct metrics_stats {
	uint64_t served, unauthorized, bad_request, not_found, refused_busy, timed_out;
};
void metrics_get_stats(const struct metrics *m, struct metrics_stats *out);
void metrics_close(struct metrics *m);

/* Helpers for render callbacks: one sample line; labels "k=\"v\",..." or NULL. */
void metrics_sample(FILE *out, const char *name, const char *labels, double value);
/* # HELP and # TYPE lines (type: counter or gauge). */
void metrics_family(FILE *out, const char *name, const char *type, const char *help);

#endif
