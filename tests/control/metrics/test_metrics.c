/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint on 127.0.0.1 (an ephemeral port) against kernel TCP
 * clients of this process. Clients are non-blocking; every wait loops over
 * metrics_poll and a short poll(2) on the client, bounded by wall time.
 * The endpoint's clock is test_now, moved by hand so the 5 s deadline is
 * tested without sleeping and never fires in the other cases.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <mbedtls/sha256.h>

#include "../../check.h"
#include "metrics.h"

#define WAIT_MS 10000 /* wall time any one exchange may take */
#define BIG_BODY (8u << 20)

static const char token_a[] = "slk_3fa9c2d1e0b4_Vt9wQ2xYzA0bC1dE2fG3hI4jK5lM6nO7pQ8rS9tU0vA";
static const char token_b[] = "slk_3fa9c2d1e0b4_Vt9wQ2xYzA0bC1dE2fG3hI4jK5lM6nO7pQ8rS9tU0vB";
static const char small_body[] = "# HELP sluice_jobs_total Jobs accepted.\n"
				 "# TYPE sluice_jobs_total counter\n"
				 "sluice_jobs_total{queue=\"a\"} 42\n"
				 "sluice_jobs_total{queue=\"b\"} 7\n"
				 "# HELP sluice_load Queue load.\n"
				 "# TYPE sluice_load gauge\n"
				 "sluice_load 0.5\n";

static uint64_t test_now = 1000;
static bool render_big;
static unsigned renders;
static struct metrics_stats expect;

static void
render(void *arg, FILE *out)
{
	size_t i;

	(void)arg;
	renders++;
	if (render_big) {
		for (i = 0; i < BIG_BODY; i++)
			fputc('a' + (int)(i % 26), out);
		return;
	}
	metrics_family(out, "sluice_jobs_total", "counter", "Jobs accepted.");
	metrics_sample(out, "sluice_jobs_total", "queue=\"a\"", 42);
	metrics_sample(out, "sluice_jobs_total", "queue=\"b\"", 7);
	metrics_family(out, "sluice_load", "gauge", "Queue load.");
	metrics_sample(out, "sluice_load", NULL, 0.5);
}

static void
sha256(const char *s, uint8_t out[32])
{
	mbedtls_sha256_ret((const unsigned char *)s, strlen(s), out, 0);
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	poll(&p, 1, 5);
}

static int
open_fds(const struct metrics *m)
{
	int fds[METRICS_CONNS_MAX + 1];

	return metrics_fds(m, fds, METRICS_CONNS_MAX + 1);
}

/* Poll the endpoint until it holds want descriptors (listener included). */
static bool
poll_until_fds(struct metrics *m, int want)
{
	uint64_t end = wall_ms() + WAIT_MS;

	while (open_fds(m) != want && wall_ms() < end) {
		metrics_poll(m, test_now);
		usleep(1000);
	}
	return open_fds(m) == want;
}

static int
client_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send len bytes while polling the endpoint; how many went out. */
static size_t
client_send(struct metrics *m, int fd, const char *buf, size_t len)
{
	uint64_t end = wall_ms() + WAIT_MS;
	size_t off = 0;

	while (off < len && wall_ms() < end) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			break; /* the endpoint answered and closed early */
		metrics_poll(m, test_now);
		if (n <= 0)
			wait_fd(fd, POLLOUT);
	}
	return off;
}

/* Read until the endpoint closes, polling it; bytes read, or -1 (no close in time, no room). */
static long
client_recv(struct metrics *m, int fd, char *buf, size_t cap)
{
	uint64_t end = wall_ms() + WAIT_MS;
	size_t got = 0;

	while (wall_ms() < end && got + 1 < cap) {
		ssize_t n;

		metrics_poll(m, test_now);
		n = recv(fd, buf + got, cap - 1 - got, 0);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			buf[got] = '\0';
			return (long)got;
		}
		wait_fd(fd, POLLIN);
	}
	return -1;
}

struct response {
	int status;
	long len;         /* all bytes received, -1 when the exchange failed */
	const char *body; /* after the head */
	size_t body_len;
	long content_length; /* -1: none */
	char buf[1 << 16];
};

static struct response resp;

/* The value of field name in r's head, or NULL. */
static const char *
resp_field(const struct response *r, const char *name)
{
	const char *p = r->buf;
	size_t n = strlen(name);

	if (r->body == NULL)
		return NULL;
	while ((p = strstr(p, "\r\n")) != NULL && p + 2 < r->body) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return p + n + 2;
	}
	return NULL;
}

static void
resp_parse(struct response *r, long len)
{
	const char *end, *cl;

	r->len = len;
	r->status = -1;
	r->body = NULL;
	r->body_len = 0;
	r->content_length = -1;
	if (len < 0)
		return;
	end = strstr(r->buf, "\r\n\r\n");
	if (end == NULL || sscanf(r->buf, "HTTP/1.1 %d ", &r->status) != 1)
		return;
	r->body = end + 4;
	r->body_len = (size_t)(r->buf + len - r->body);
	cl = resp_field(r, "Content-Length");
	if (cl != NULL)
		r->content_length = strtol(cl, NULL, 10);
}

/* One request on a fresh connection; the answer in resp, its status returned. */
static int
exchange(struct metrics *m, const char *req, size_t len)
{
	int fd = client_connect(metrics_port(m));

	if (fd < 0) {
		resp_parse(&resp, -1);
		return -1;
	}
	client_send(m, fd, req, len);
	resp_parse(&resp, client_recv(m, fd, resp.buf, sizeof(resp.buf)));
	close(fd);
	switch (resp.status) {
	case 200:
		expect.served++;
		break;
	case 401:
		expect.unauthorized++;
		break;
	case 404:
		expect.not_found++;
		break;
	case 400:
	case 405:
		expect.bad_request++;
		break;
	case 503:
		expect.refused_busy++;
		break;
	default:
		break;
	}
	return resp.status;
}

static int
exchange_str(struct metrics *m, const char *req)
{
	return exchange(m, req, strlen(req));
}

/* GET path with the given Authorization value (NULL: no field). */
static int
get(struct metrics *m, const char *path, const char *auth)
{
	char req[1024];

	if (auth != NULL)
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n\r\n", path,
			 auth);
	else
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	return exchange_str(m, req);
}

static int
get_bearer(struct metrics *m, const char *token)
{
	char auth[256];

	snprintf(auth, sizeof(auth), "Bearer %s", token);
	return get(m, "/metrics", auth);
}

/* Content-Length agrees with the body, the fixed fields are there. */
static bool
resp_well_formed(const struct response *r)
{
	const char *cc = resp_field(r, "Cache-Control");
	const char *conn = resp_field(r, "Connection");

	return r->body != NULL && r->content_length == (long)r->body_len && cc != NULL &&
	       strncmp(cc, "no-store\r\n", 10) == 0 && conn != NULL &&
	       strncmp(conn, "close\r\n", 7) == 0 && resp_field(r, "Content-Type") != NULL;
}

static void
test_format(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 42, "x 42\n" },
		{ 0, "x 0\n" },
		{ -0.0, "x 0\n" },
		{ -3, "x -3\n" },
		{ 0.5, "x 0.5\n" },
		{ 0.1, "x 0.10000000000000001\n" },
		{ 18446744073709551615.0, "x 18446744073709551616\n" },
		{ 4503599627370497.0, "x 4503599627370497\n" },
		{ 1e21, "x 1e+21\n" },
		{ 1.5e-7, "x 1.4999999999999999e-07\n" },
		{ NAN, "x NaN\n" },
		{ INFINITY, "x +Inf\n" },
		{ -INFINITY, "x -Inf\n" },
	};
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = open_memstream(&buf, &len);
		metrics_sample(f, "x", NULL, cases[i].v);
		fclose(f);
		CHECK(strcmp(buf, cases[i].want) == 0);
		if (strcmp(buf, cases[i].want) != 0)
			fprintf(stderr, "  got \"%s\", want \"%s\"\n", buf, cases[i].want);
		free(buf);
	}

	f = open_memstream(&buf, &len);
	metrics_sample(f, "sluice_q", "queue=\"a\",lcore=\"2\"", 12);
	metrics_sample(f, "sluice_q", "", 1);
	metrics_family(f, "sluice_q", "gauge", "Jobs in a\\queue,\nper lcore.");
	fclose(f);
	CHECK(strcmp(buf, "sluice_q{queue=\"a\",lcore=\"2\"} 12\n"
			  "sluice_q 1\n"
			  "# HELP sluice_q Jobs in a\\\\queue,\\nper lcore.\n"
			  "# TYPE sluice_q gauge\n") == 0);
	free(buf);
}

static void
test_ok(struct metrics *m)
{
	char req[256];
	const char *ct;

	CHECK(get_bearer(m, token_a) == 200);
	CHECK(resp_well_formed(&resp));
	CHECK(resp.body_len == strlen(small_body) &&
	      memcmp(resp.body, small_body, resp.body_len) == 0);
	ct = resp_field(&resp, "Content-Type");
	CHECK(ct != NULL && strncmp(ct, "text/plain; version=0.0.4", 25) == 0);
	CHECK(resp_field(&resp, "WWW-Authenticate") == NULL);

	CHECK(get(m, "/metrics?name[]=sluice_load", "Bearer slk_x") == 401);
	snprintf(req, sizeof(req), "Bearer %s", token_a);
	CHECK(get(m, "/metrics?name[]=sluice_load", req) == 200);
	/* Field name and scheme in any case, several spaces, trailing whitespace. */
	snprintf(req, sizeof(req),
		 "GET /metrics HTTP/1.1\r\nhost: x\r\nAUTHORIZATION:bEaReR   %s \t\r\n\r\n",
		 token_a);
	CHECK(exchange_str(m, req) == 200);
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n",
		 token_a);
	CHECK(exchange_str(m, req) == 200);
	snprintf(req, sizeof(req),
		 "GET /metrics HTTP/1.1\r\nContent-Length: 0\r\nAuthorization: Bearer %s\r\n\r\n",
		 token_a);
	CHECK(exchange_str(m, req) == 200);
}

static void
test_unauthorized(struct metrics *m)
{
	char last[sizeof(token_a)];
	const char *www;

	CHECK(get(m, "/metrics", NULL) == 401);
	CHECK(resp_well_formed(&resp));
	www = resp_field(&resp, "WWW-Authenticate");
	CHECK(www != NULL && strncmp(www, "Bearer realm=\"sluice\"\r\n", 23) == 0);
	CHECK(get_bearer(m, "slk_wrong") == 401);
	memcpy(last, token_a, sizeof(last));
	last[sizeof(last) - 2] ^= 1;
	CHECK(get_bearer(m, last) == 401);
	CHECK(get_bearer(m, "") == 401);
	{
		char basic[256];

		snprintf(basic, sizeof(basic), "Basic %s", token_a);
		CHECK(get(m, "/metrics", basic) == 401);
		snprintf(basic, sizeof(basic), "Bearer%s", token_a);
		CHECK(get(m, "/metrics", basic) == 401);
	}
	CHECK(get(m, "/metrics", "Bearer") == 401);
}

static void
test_refused(struct metrics *m)
{
	static char big[METRICS_HEAD_MAX + 1024];
	char req[512];
	size_t n;

	CHECK(get(m, "/", NULL) == 404);
	CHECK(resp_well_formed(&resp));
	CHECK(get_bearer(m, token_a) == 200);
	snprintf(req, sizeof(req), "Bearer %s", token_a);
	CHECK(get(m, "/metricsx", req) == 404);
	CHECK(get(m, "/metrics/", req) == 404);

	snprintf(req, sizeof(req), "POST /metrics HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n",
		 token_a);
	CHECK(exchange_str(m, req) == 405);
	CHECK(resp_well_formed(&resp));
	CHECK(resp_field(&resp, "Allow") != NULL);
	CHECK(exchange_str(m, "get /metrics HTTP/1.1\r\n\r\n") == 405);
	CHECK(exchange_str(m, "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello") == 405);

	/* Malformed heads. */
	CHECK(exchange_str(m, "garbage\r\n\r\n") == 400);
	CHECK(resp_well_formed(&resp));
	CHECK(exchange_str(m, "\r\n\r\n") == 400);
	{
		static const char nul[] = "GET /metrics HTTP/1.1\r\nX: a\0b\r\n\r\n";

		CHECK(exchange(m, nul, sizeof(nul) - 1) == 400);
	}
	CHECK(exchange_str(m, "GET /metrics HTTP/1.1\nHost: x\r\n\r\n") == 400);
	CHECK(exchange_str(m, "GET  /metrics HTTP/1.1\r\n\r\n") == 400);
	CHECK(exchange_str(m, "GET /metrics HTTP/2.0\r\n\r\n") == 400);
	CHECK(exchange_str(m, "GET /metrics HTTP/1.1 \r\n\r\n") == 400);
	CHECK(exchange_str(m, "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n") == 400);
	CHECK(exchange_str(m, "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n") == 400);
	CHECK(exchange_str(m, "GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n") == 400);
	CHECK(exchange_str(m, "GET /metrics HTTP/1.1\r\nAuthorization: Bearer a\r\n"
			      "Authorization: Bearer b\r\n\r\n") == 400);
	/* A partial head, then the client's FIN. */
	{
		int fd = client_connect(metrics_port(m));

		client_send(m, fd, "GET /metr", 9);
		shutdown(fd, SHUT_WR);
		resp_parse(&resp, client_recv(m, fd, resp.buf, sizeof(resp.buf)));
		close(fd);
		CHECK(resp.status == 400);
		expect.bad_request++;
	}

	/* Bodies. */
	snprintf(req, sizeof(req),
		 "GET /metrics HTTP/1.1\r\nAuthorization: Bearer %s\r\nContent-Length: 5\r\n\r\n"
		 "hello",
		 token_a);
	CHECK(exchange_str(m, req) == 400);
	snprintf(req, sizeof(req),
		 "GET /metrics HTTP/1.1\r\nAuthorization: Bearer %s\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		 token_a);
	CHECK(exchange_str(m, req) == 400);
	CHECK(exchange_str(m, "GET /metrics HTTP/1.1\r\nContent-Length: 1x\r\n\r\n") == 400);
	CHECK(exchange_str(m, "GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n"
			      "Content-Length: 0\r\n\r\n") == 400);

	/* A head of exactly METRICS_HEAD_MAX bytes is taken, one more is not. */
	n = (size_t)snprintf(
		big, sizeof(big),
		"GET /metrics HTTP/1.1\r\nAuthorization: Bearer %s\r\nX-Pad: ", token_a);
	memset(big + n, 'p', METRICS_HEAD_MAX - n - 4);
	memcpy(big + METRICS_HEAD_MAX - 4, "\r\n\r\n", 4);
	CHECK(exchange(m, big, METRICS_HEAD_MAX) == 200);
	memset(big + n, 'p', METRICS_HEAD_MAX - n - 3);
	memcpy(big + METRICS_HEAD_MAX - 3, "\r\n\r\n", 4);
	CHECK(exchange(m, big, METRICS_HEAD_MAX + 1) == 400);
	memset(big + n, 'p', sizeof(big) - n - 4);
	memcpy(big + sizeof(big) - 4, "\r\n\r\n", 4);
	CHECK(exchange(m, big, sizeof(big)) == 400);
	CHECK(resp_well_formed(&resp));
}

/* Random bytes and single-byte mutations of a good request: an answer, never a crash. */
static void
test_junk(struct metrics *m)
{
	char req[512], good[256];
	uint32_t x = 0x9e3779b9;
	size_t glen, i, j, n;
	int st;

	glen = (size_t)snprintf(
		good, sizeof(good),
		"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", token_a);
	for (i = 0; i < 48; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		n = 1 + x % 300;
		for (j = 0; j < n; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			req[j] = (char)(x & 0xff);
		}
		memcpy(req + n, "\r\n\r\n", 4);
		CHECK(exchange(m, req, n + 4) == 400);
	}
	for (i = 0; i < 48; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		memcpy(req, good, glen);
		j = x % (glen - 4);
		req[j] = (char)(x >> 8);
		st = exchange(m, req, glen);
		CHECK(st == 200 || st == 400 || st == 401 || st == 404 || st == 405);
	}
}

static void
test_busy(struct metrics *m)
{
	int held[METRICS_CONNS_MAX], i;

	for (i = 0; i < METRICS_CONNS_MAX; i++)
		held[i] = client_connect(metrics_port(m));
	CHECK(poll_until_fds(m, METRICS_CONNS_MAX + 1));
	CHECK(get_bearer(m, token_a) == 503);
	CHECK(resp_well_formed(&resp));
	CHECK(open_fds(m) == METRICS_CONNS_MAX + 1);
	/* Idle clients that leave are closed without an answer, their slots free again. */
	for (i = 0; i < METRICS_CONNS_MAX; i++)
		close(held[i]);
	CHECK(poll_until_fds(m, 1));
	CHECK(get_bearer(m, token_a) == 200);
}

static void
test_deadline(struct metrics *m)
{
	struct metrics_stats st;
	int fd = client_connect(metrics_port(m));
	long n;

	client_send(m, fd, "GET /metrics HTTP/1.1\r\nHost:", 28);
	CHECK(poll_until_fds(m, 2));
	test_now += 4999;
	metrics_poll(m, test_now);
	CHECK(open_fds(m) == 2);
	test_now += 1;
	metrics_poll(m, test_now);
	CHECK(open_fds(m) == 1);
	metrics_get_stats(m, &st);
	CHECK(st.timed_out == 1);
	expect.timed_out++;
	n = client_recv(m, fd, resp.buf, sizeof(resp.buf));
	CHECK(n == 0);
	close(fd);
	/* The clock moved on; new connections get their own 5 s. */
	CHECK(get_bearer(m, token_a) == 200);
}

/* A body far larger than the socket buffers: sent over many polls. */
static void
test_big(struct metrics *m)
{
	char req[256];
	char *buf = malloc(BIG_BODY + 4096);
	const char *body;
	size_t i, bad = 0;
	long n;
	int fd;

	render_big = true;
	fd = client_connect(metrics_port(m));
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n",
		 token_a);
	client_send(m, fd, req, strlen(req));
	CHECK(poll_until_fds(m, 2));
	metrics_poll(m, test_now);
	/* The client has read nothing: the answer cannot be out yet. */
	CHECK(open_fds(m) == 2);
	n = client_recv(m, fd, buf, BIG_BODY + 4096);
	close(fd);
	body = n > 0 ? strstr(buf, "\r\n\r\n") : NULL;
	CHECK(body != NULL && (size_t)(buf + n - (body + 4)) == BIG_BODY);
	if (body != NULL && (size_t)(buf + n - (body + 4)) == BIG_BODY) {
		body += 4;
		for (i = 0; i < BIG_BODY; i++)
			bad += body[i] != 'a' + (int)(i % 26);
		CHECK(bad == 0);
		CHECK(strstr(buf, "Content-Length: 8388608\r\n") != NULL);
	}
	expect.served++;
	render_big = false;
	free(buf);
}

/* A client that requests the big body and never reads is cut at the deadline. */
static void
test_slow_reader(struct metrics *m)
{
	char req[256];
	int fd;

	render_big = true;
	fd = client_connect(metrics_port(m));
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n",
		 token_a);
	client_send(m, fd, req, strlen(req));
	CHECK(poll_until_fds(m, 2));
	metrics_poll(m, test_now);
	CHECK(open_fds(m) == 2);
	test_now += 5000;
	metrics_poll(m, test_now);
	CHECK(open_fds(m) == 1);
	expect.served++;
	expect.timed_out++;
	close(fd);
	render_big = false;
}

static void
test_set_token(struct metrics *m)
{
	uint8_t h[32];

	sha256(token_b, h);
	metrics_set_token(m, h);
	CHECK(get_bearer(m, token_a) == 401);
	CHECK(get_bearer(m, token_b) == 200);
	sha256(token_a, h);
	metrics_set_token(m, h);
	CHECK(get_bearer(m, token_b) == 401);
	CHECK(get_bearer(m, token_a) == 200);
}

static void
test_open_errors(struct metrics *m)
{
	uint8_t h[32];
	char err[256] = "";
	struct metrics *m2;

	sha256(token_a, h);
	m2 = metrics_open(htonl(INADDR_LOOPBACK), metrics_port(m), h, render, NULL, err,
			  sizeof(err));
	CHECK(m2 == NULL && errno == EADDRINUSE && strstr(err, "127.0.0.1") != NULL);
	m2 = metrics_open(htonl(INADDR_LOOPBACK), 0, h, NULL, NULL, err, sizeof(err));
	CHECK(m2 == NULL && errno == EINVAL);
	metrics_close(NULL);
}

int
main(void)
{
	struct metrics_stats st;
	struct metrics *m;
	uint8_t h[32];
	char err[256] = "";
	int fds[4];

	test_format();

	sha256(token_a, h);
	m = metrics_open(htonl(INADDR_LOOPBACK), 0, h, render, NULL, err, sizeof(err));
	CHECK(m != NULL);
	if (m == NULL) {
		fprintf(stderr, "%s\n", err);
		return CHECK_SUMMARY();
	}
	CHECK(metrics_port(m) != 0);
	CHECK(metrics_fds(m, fds, 4) == 1 && metrics_fds(m, fds, 0) == 0);

	test_ok(m);
	test_unauthorized(m);
	test_refused(m);
	test_junk(m);
	test_busy(m);
	test_deadline(m);
	test_big(m);
	test_slow_reader(m);
	test_set_token(m);
	test_open_errors(m);

	metrics_get_stats(m, &st);
	CHECK(st.served == expect.served);
	CHECK(st.unauthorized == expect.unauthorized);
	CHECK(st.bad_request == expect.bad_request);
	CHECK(st.not_found == expect.not_found);
	CHECK(st.refused_busy == expect.refused_busy && st.refused_busy == 1);
	CHECK(st.timed_out == expect.timed_out && st.timed_out == 2);
	CHECK(renders == st.served);
	CHECK(open_fds(m) == 1);
	metrics_close(m);
	return CHECK_SUMMARY();
}
