/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint (metrics.h). One connection's life:
 *
 *   accept ─► read the head ─► decide the status ─► (render) ─► send ─► close
 *     │          (until CRLFCRLF,                                 (EAGAIN:
 *     │           at most METRICS_HEAD_MAX)                        next poll)
 *     └─ METRICS_CONNS_MAX open already: 503 at once, close
 *
 *   Every connection is closed METRICS_DEADLINE_MS after its accept, in
 *   whatever state (timed_out).
 *
 * A connection owns one fixed head buffer and, once the status is decided,
 * one response (status line, fields, body) that goes out over several polls
 * if the peer reads slowly:
 *
 *   head: | received, scanned for CRLFCRLF | free               |
 *         0                                got     METRICS_HEAD_MAX
 *
 *   out:  | sent           | still to send                       |
 *         0                sent                              out_len
 *
 * The request parser (head_status) does no I/O: bytes in, status out.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <mbedtls/sha256.h>

#include "metrics.h"

#define METRICS_DEADLINE_MS 5000
#define METRICS_BACKLOG 16
/* Accepts per poll: a connect flood costs the owner's loop a bounded slice. */
#define METRICS_ACCEPT_BURST 4
/* Bytes read and dropped before a close, see sock_close. */
#define METRICS_DRAIN_MAX 65536

struct metrics_conn {
	int fd; /* -1: free slot */
	uint64_t deadline_ms;
	size_t got;
	char *out; /* NULL until the status is decided */
	size_t out_len, sent;
	char head[METRICS_HEAD_MAX];
};

struct metrics {
	int lfd;
	uint16_t port;
	unsigned nconns;
	metrics_render_fn render;
	void *arg;
	uint8_t token_sha256[32];
	struct metrics_stats stats;
	struct metrics_conn conns[METRICS_CONNS_MAX];
};

/* What a request head says, as far as this endpoint cares. */
struct request {
	const char *method, *target, *auth;
	size_t method_len, target_len, auth_len;
	bool has_auth, has_length, has_body;
};

/* RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 * "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static bool
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* [s, s + n) equals lit (lower case) ignoring ASCII case; no locale involved. */
static bool
ascii_case_eq(const char *s, size_t n, const char *lit)
{
	size_t i;

	if (n != strlen(lit))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

/*
 * RFC 9112 §2.2: lines end in CRLF; RFC 9110 §5.5: a field value holding CR,
 * LF or NUL is invalid. Stricter still: no control byte but HTAB anywhere. A
 * scraper never sends one, and lenient line splitting is where request
 * smuggling starts.
 */
static bool
head_bytes_ok(const char *h, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '\r') {
			if (i + 1 == len || h[i + 1] != '\n')
				return false;
			i++;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* RFC 9112 §3: request-line = method SP request-target SP HTTP-version */
static int
parse_request_line(struct request *r, const char *p, size_t n)
{
	size_t i = 0, t;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return -1;
	r->method = p;
	r->method_len = i;
	t = ++i;
	while (i < n && p[i] != ' ' && p[i] != '\t')
		i++;
	if (i == t || i == n || p[i] != ' ')
		return -1;
	r->target = p + t;
	r->target_len = i - t;
	i++;
	/* RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; this endpoint speaks 1.x. */
	if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0 || p[i + 7] < '0' || p[i + 7] > '9')
		return -1;
	return 0;
}

/* Content-Length = 1*DIGIT (RFC 9110 §8.6); any value but zero announces a body. */
static int
parse_content_length(struct request *r, const char *v, size_t n)
{
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (v[i] != '0')
			r->has_body = true;
	}
	return 0;
}

/* RFC 9112 §5: field-line = field-name ":" OWS field-value OWS */
static int
parse_field(struct request *r, const char *p, size_t n)
{
	size_t i = 0, v, e = n;

	/* A line starting with SP or HTAB is obs-fold: §5.2 lets a server reject it. */
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	/* §5.1: no whitespace between field name and colon; a server MUST reject it. */
	if (i == 0 || i == n || p[i] != ':')
		return -1;
	v = i + 1;
	while (v < e && (p[v] == ' ' || p[v] == '\t'))
		v++;
	while (e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	if (ascii_case_eq(p, i, "authorization")) {
		/* Two sets of credentials: which one counts is anybody's guess. */
		if (r->has_auth)
			return -1;
		r->has_auth = true;
		r->auth = p + v;
		r->auth_len = e - v;
	} else if (ascii_case_eq(p, i, "content-length")) {
		/* RFC 9112 §6.3: several differing values are unrecoverable; refuse any repeat. */
		if (r->has_length)
			return -1;
		r->has_length = true;
		return parse_content_length(r, p + v, e - v);
	} else if (ascii_case_eq(p, i, "transfer-encoding")) {
		/* Any transfer coding means a body, and a GET here takes none. */
		r->has_body = true;
	}
	return 0;
}

/* "/metrics", or "/metrics?<query>" (the query is ignored). */
static bool
target_is_metrics(const char *t, size_t n)
{
	static const char path[] = "/metrics";
	size_t plen = sizeof(path) - 1;

	if (n < plen || memcmp(t, path, plen) != 0)
		return false;
	return n == plen || t[plen] == '?';
}

/*
 * RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme name is
 * case-insensitive (RFC 9110 §11.1). The token's SHA-256 is compared with the
 * configured one in constant time: the time taken tells nothing about how
 * many bytes matched.
 */
static bool
bearer_ok(const uint8_t want[32], const char *v, size_t n)
{
	uint8_t h[32];
	uint8_t diff = 0;
	size_t i = 6, j;

	if (n <= i || !ascii_case_eq(v, i, "bearer") || v[i] != ' ')
		return false;
	while (i < n && v[i] == ' ')
		i++;
	if (i == n)
		return false;
	if (mbedtls_sha256_ret((const unsigned char *)v + i, n - i, h, 0) != 0)
		return false;
	for (j = 0; j < sizeof(h); j++)
		diff |= (uint8_t)(h[j] ^ want[j]);
	return diff == 0;
}

/*
 * The status for a complete request head [h, h + len), len counting the
 * final CRLFCRLF. Order: malformed 400, method 405, body 400, path 404,
 * credentials 401, else 200.
 */
static int
head_status(const uint8_t token_sha256[32], const char *h, size_t len)
{
	struct request r;
	const char *p = h, *end = h + len, *eol;

	memset(&r, 0, sizeof(r));
	if (!head_bytes_ok(h, len))
		return 400;
	eol = memmem(p, (size_t)(end - p), "\r\n", 2);
	if (parse_request_line(&r, p, (size_t)(eol - p)) < 0)
		return 400;
	/* The head ends in the first CRLFCRLF, so the first empty line ends the loop. */
	for (p = eol + 2;; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == p)
			break;
		if (parse_field(&r, p, (size_t)(eol - p)) < 0)
			return 400;
	}
	/* RFC 9110 §9.1: methods are case-sensitive. */
	if (r.method_len != 3 || memcmp(r.method, "GET", 3) != 0)
		return 405;
	if (r.has_body)
		return 400;
	if (!target_is_metrics(r.target, r.target_len))
		return 404;
	if (!r.has_auth || !bearer_ok(token_sha256, r.auth, r.auth_len))
		return 401;
	return 200;
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Service Unavailable";
	}
}

static const char *
status_body(int status)
{
	switch (status) {
	case 400:
		return "bad request: send GET /metrics HTTP/1.1 with no body\n";
	case 401:
		return "unauthorized: send Authorization: Bearer <token>\n";
	case 404:
		return "not found: the endpoint is /metrics\n";
	case 405:
		return "method not allowed: use GET\n";
	default:
		return "busy: too many connections, retry later\n";
	}
}

static void
count_status(struct metrics *m, int status)
{
	switch (status) {
	case 200:
		m->stats.served++;
		break;
	case 401:
		m->stats.unauthorized++;
		break;
	case 404:
		m->stats.not_found++;
		break;
	case 503:
		m->stats.refused_busy++;
		break;
	default: /* 400 and 405: requests this endpoint does not take */
		m->stats.bad_request++;
		break;
	}
}

/* The whole response in one malloc'd buffer; 0, or -1 out of memory. */
static int
response_build(int status, const char *body, size_t body_len, char **out, size_t *out_len)
{
	FILE *f;
	int bad;

	*out = NULL;
	f = open_memstream(out, out_len);
	if (f == NULL)
		return -1;
	fprintf(f, "HTTP/1.1 %d %s\r\n", status, status_reason(status));
	fprintf(f, "Content-Type: %s\r\n",
		status == 200 ? "text/plain; version=0.0.4; charset=utf-8"
			      : "text/plain; charset=utf-8");
	fprintf(f, "Content-Length: %zu\r\n", body_len);
	fputs("Cache-Control: no-store\r\nConnection: close\r\n", f);
	if (status == 401)
		fputs("WWW-Authenticate: Bearer realm=\"sluice\"\r\n", f);
	if (status == 405) /* RFC 9110 §15.5.6: a 405 MUST carry Allow */
		fputs("Allow: GET\r\n", f);
	fputs("\r\n", f);
	if (body_len > 0)
		fwrite(body, 1, body_len, f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* The render callback's text; 0, or -1 out of memory. */
static int
render_body(const struct metrics *m, char **body, size_t *len)
{
	FILE *f;
	int bad;

	*body = NULL;
	f = open_memstream(body, len);
	if (f == NULL)
		return -1;
	m->render(m->arg, f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

/*
 * Half-close, read and drop what the peer sent and we did not read, close.
 * Closing with unread bytes queued makes the kernel answer with RST, and a
 * client may then lose the response it has not read yet.
 */
static void
sock_close(int fd)
{
	char scratch[4096];
	size_t dropped = 0;

	shutdown(fd, SHUT_WR);
	while (dropped < METRICS_DRAIN_MAX) {
		ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n <= 0)
			break;
		dropped += (size_t)n;
	}
	close(fd);
}

static void
conn_close(struct metrics *m, struct metrics_conn *c)
{
	sock_close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	m->nconns--;
}

/* Decide the answer and build it; 0, or -1 out of memory (close without one). */
static int
conn_answer(struct metrics *m, struct metrics_conn *c, int status)
{
	const char *text;
	char *body;
	size_t body_len;
	int rc;

	count_status(m, status);
	if (status != 200) {
		text = status_body(status);
		return response_build(status, text, strlen(text), &c->out, &c->out_len);
	}
	if (render_body(m, &body, &body_len) < 0)
		return -1;
	rc = response_build(status, body, body_len, &c->out, &c->out_len);
	free(body);
	return rc;
}

/* Read what is there; 0 waiting for more or answered, -1 close now. */
static int
conn_read(struct metrics *m, struct metrics_conn *c)
{
	for (;;) {
		size_t from;
		ssize_t n;
		char *crlf2;

		if (c->got == sizeof(c->head))
			return conn_answer(m, c, 400); /* head larger than METRICS_HEAD_MAX */
		n = recv(c->fd, c->head + c->got, sizeof(c->head) - c->got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == 0) /* peer done sending: a partial head is malformed */
			return c->got == 0 ? -1 : conn_answer(m, c, 400);
		/* The terminator may straddle the previous read. */
		from = c->got < 3 ? 0 : c->got - 3;
		c->got += (size_t)n;
		crlf2 = memmem(c->head + from, c->got - from, "\r\n\r\n", 4);
		if (crlf2 != NULL)
			return conn_answer(m, c,
					   head_status(m->token_sha256, c->head,
						       (size_t)(crlf2 + 4 - c->head)));
	}
}

/* Send what the socket takes; 1 all sent, 0 the rest next poll, -1 close now. */
static int
conn_send(struct metrics_conn *c)
{
	while (c->sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->sent, c->out_len - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->sent += (size_t)n;
	}
	return 1;
}

static void
conn_service(struct metrics *m, struct metrics_conn *c, uint64_t now_ms)
{
	if (now_ms >= c->deadline_ms) {
		m->stats.timed_out++;
		conn_close(m, c);
		return;
	}
	if (c->out == NULL && conn_read(m, c) < 0) {
		conn_close(m, c);
		return;
	}
	if (c->out != NULL && conn_send(c) != 0)
		conn_close(m, c);
}

/* No slot free: one best-effort send of a 503 into the fresh socket's buffer, close. */
static void
refuse_busy(struct metrics *m, int fd)
{
	const char *text = status_body(503);
	char *out;
	size_t len;

	count_status(m, 503);
	/* Drain first: the request may be queued already, and unread bytes at close mean RST. */
	if (response_build(503, text, strlen(text), &out, &len) == 0) {
		char scratch[4096];

		while (recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0)
			;
		(void)send(fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		free(out);
	}
	sock_close(fd);
}

static void
accept_burst(struct metrics *m, uint64_t now_ms)
{
	unsigned i, s;

	for (i = 0; i < METRICS_ACCEPT_BURST; i++) {
		struct metrics_conn *c = NULL;
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0) /* EAGAIN, or out of descriptors: try again next poll */
			return;
		for (s = 0; s < METRICS_CONNS_MAX && c == NULL; s++)
			if (m->conns[s].fd < 0)
				c = &m->conns[s];
		if (c == NULL) {
			refuse_busy(m, fd);
			continue;
		}
		c->fd = fd;
		c->deadline_ms = now_ms + METRICS_DEADLINE_MS;
		c->got = 0;
		c->out = NULL;
		c->out_len = 0;
		c->sent = 0;
		m->nconns++;
		/* Its request is often queued already. */
		conn_service(m, c, now_ms);
	}
}

static void
set_err(char *err, size_t errlen, const char *what, uint32_t addr, uint16_t port, int e)
{
	char a[INET_ADDRSTRLEN] = "?";
	struct in_addr in = { .s_addr = addr };

	if (err == NULL || errlen == 0)
		return;
	inet_ntop(AF_INET, &in, a, sizeof(a));
	snprintf(err, errlen, "metrics: %s %s:%u: %s", what, a, (unsigned)port, strerror(e));
}

struct metrics *
metrics_open(uint32_t addr, uint16_t port, const uint8_t token_sha256[32], metrics_render_fn render,
	     void *arg, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t salen = sizeof(sa);
	struct metrics *m;
	unsigned i;
	int one = 1, e;

	if (token_sha256 == NULL || render == NULL) {
		set_err(err, errlen, "no token hash or render callback for", addr, port, EINVAL);
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		set_err(err, errlen, "cannot allocate the endpoint for", addr, port, errno);
		return NULL;
	}
	sa.sin_addr.s_addr = addr;
	m->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0) {
		e = errno;
		set_err(err, errlen, "cannot create a socket for", addr, port, e);
		free(m);
		errno = e;
		return NULL;
	}
	/* A restarted ctld binds again while the old connections sit in TIME_WAIT. */
	if (setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(m->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(m->lfd, METRICS_BACKLOG) < 0 ||
	    getsockname(m->lfd, (struct sockaddr *)&sa, &salen) < 0) {
		e = errno;
		set_err(err, errlen,
			e == EADDRINUSE ? "another program listens on (choose another metrics port)"
					: "cannot listen on",
			addr, port, e);
		close(m->lfd);
		free(m);
		errno = e;
		return NULL;
	}
	m->port = ntohs(sa.sin_port);
	m->render = render;
	m->arg = arg;
	memcpy(m->token_sha256, token_sha256, sizeof(m->token_sha256));
	for (i = 0; i < METRICS_CONNS_MAX; i++)
		m->conns[i].fd = -1;
	return m;
}

uint16_t
metrics_port(const struct metrics *m)
{
	return m->port;
}

int
metrics_fds(const struct metrics *m, int *fds, unsigned cap)
{
	unsigned n = 0, i;

	if (n < cap)
		fds[n++] = m->lfd;
	for (i = 0; i < METRICS_CONNS_MAX && n < cap; i++)
		if (m->conns[i].fd >= 0)
			fds[n++] = m->conns[i].fd;
	return (int)n;
}

void
metrics_poll(struct metrics *m, uint64_t now_ms)
{
	unsigned i;

	/* Existing connections first: one finishing now frees a slot for the accepts. */
	for (i = 0; i < METRICS_CONNS_MAX; i++)
		if (m->conns[i].fd >= 0)
			conn_service(m, &m->conns[i], now_ms);
	accept_burst(m, now_ms);
}

void
metrics_set_token(struct metrics *m, const uint8_t token_sha256[32])
{
	memcpy(m->token_sha256, token_sha256, sizeof(m->token_sha256));
}

void
metrics_get_stats(const struct metrics *m, struct metrics_stats *out)
{
	*out = m->stats;
}

void
metrics_close(struct metrics *m)
{
	unsigned i;

	if (m == NULL)
		return;
	for (i = 0; i < METRICS_CONNS_MAX; i++)
		if (m->conns[i].fd >= 0)
			conn_close(m, &m->conns[i]);
	close(m->lfd);
	free(m);
}

/*
 * Prometheus text format: integral values as integers (below 1e21, where Go's
 * strconv, which Prometheus itself uses, would switch to an exponent), others
 * with 17 significant digits so they read back exactly.
 */
static void
format_value(char *buf, size_t cap, double v)
{
	double mag = v < 0 ? -v : v;

	if (isnan(v))
		snprintf(buf, cap, "NaN");
	else if (isinf(v))
		snprintf(buf, cap, "%s", v > 0 ? "+Inf" : "-Inf");
	/* From 2^52 on every double is an integer; below, the cast is exact and tells. */
	else if (mag < 1e21 && (mag >= 4503599627370496.0 || v == (double)(long long)v))
		snprintf(buf, cap, "%.0f", v == 0 ? 0.0 : v); /* -0 as 0 */
	else
		snprintf(buf, cap, "%.17g", v);
}

void
metrics_sample(FILE *out, const char *name, const char *labels, double value)
{
	char v[48];

	format_value(v, sizeof(v), value);
	if (labels != NULL && labels[0] != '\0')
		fprintf(out, "%s{%s} %s\n", name, labels, v);
	else
		fprintf(out, "%s %s\n", name, v);
}

void
metrics_family(FILE *out, const char *name, const char *type, const char *help)
{
	const char *p;

	/* HELP text escapes backslash and line feed, nothing else. */
	fprintf(out, "# HELP %s ", name);
	for (p = help; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}
