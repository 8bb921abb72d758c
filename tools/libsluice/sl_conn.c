/* SPDX-License-Identifier: BSD-3-Clause */
/* Session transport: kernel TCP socket + TLS engine + frames (sl_conn.h). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/x509.h>

#include "sl_conn.h"
#include "sluice.h"

uint64_t
sl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
sl_now_ms(void)
{
	return sl_now_us() / 1000u;
}

static int
left_ms(uint64_t deadline_ms)
{
	uint64_t now = sl_now_ms();

	if (now >= deadline_ms)
		return 0;
	return deadline_ms - now > 60000 ? 60000 : (int)(deadline_ms - now);
}

void
sl_conn_init(struct sl_conn *k)
{
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

static void
free_buffers(struct sl_conn *k)
{
	free(k->rx_ct);
	free(k->tx_ct);
	free(k->in);
	free(k->out);
	k->rx_ct = k->tx_ct = k->in = k->out = NULL;
	k->in_off = k->in_len = k->in_cap = 0;
	k->out_off = k->out_len = k->out_cap = 0;
}

static int
connect_one(const struct addrinfo *ai, uint64_t deadline_ms, int *fd_out)
{
	struct pollfd p;
	socklen_t sl = sizeof(int);
	int fd, so_err = 0, one = 1, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		so_err = errno;
		close(fd);
		return so_err;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	do
		rc = poll(&p, 1, left_ms(deadline_ms));
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		close(fd);
		return ETIMEDOUT;
	}
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &sl) != 0 || so_err) {
		so_err = so_err ? so_err : errno;
		close(fd);
		return so_err;
	}
	/* Frames are batched here already; do not let Nagle add a round trip. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd_out = fd;
	return 0;
}

static int
tcp_connect(struct sl_conn *k, const char *host, uint16_t port, uint64_t deadline_ms, char *err,
	    size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char portstr[8];
	int rc, last = ECONNREFUSED;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve '%s': %s (check the address)", host,
			 gai_strerror(rc));
		return -SLUICE_E_RESOLVE;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		last = connect_one(ai, deadline_ms, &k->fd);
		if (last == 0 || last == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (last == ETIMEDOUT) {
		snprintf(err, errlen,
			 "connect to %s timed out (is the address right and reachable?)", k->peer);
		return -SLUICE_E_TIMEOUT;
	}
	if (last) {
		snprintf(err, errlen, "connect to %s: %s (is sluiced running and listening there?)",
			 k->peer, strerror(last));
		return -SLUICE_E_CONNECT;
	}
	return 0;
}

/* Ciphertext from TLS to the socket until either is empty or full. */
static int
push_ct(struct sl_conn *k, char *err, size_t errlen)
{
	const uint8_t *p;
	uint32_t n;

	while ((n = tls_conn_tx_pending(&k->tls, &p)) > 0) {
		ssize_t s = send(k->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (s < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			snprintf(err, errlen, "connection to %s lost while sending: %s", k->peer,
				 strerror(errno));
			return -SLUICE_E_CLOSED;
		}
		tls_conn_tx_consume(&k->tls, (uint32_t)s);
	}
	return 0;
}

/* Socket to TLS: as much ciphertext as rx has room for. */
static int
pull_ct(struct sl_conn *k, char *err, size_t errlen)
{
	for (;;) {
		uint8_t *p;
		uint32_t room = tls_conn_rx_space(&k->tls, &p);
		ssize_t r;

		if (room == 0 || k->tls.peer_eof)
			return 0;
		r = recv(k->fd, p, room, MSG_DONTWAIT);
		if (r > 0) {
			tls_conn_rx_commit(&k->tls, (uint32_t)r);
			continue;
		}
		if (r == 0) {
			tls_conn_rx_eof(&k->tls);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		snprintf(err, errlen, "connection to %s lost while reading: %s", k->peer,
			 strerror(errno));
		return -SLUICE_E_CLOSED;
	}
}

static void
tls_error_text(struct sl_conn *k, char *err, size_t errlen)
{
	int e = k->tls.last_error;
	uint32_t flags = mbedtls_ssl_get_verify_result(&k->tls.ssl);

	if (flags && flags != (uint32_t)-1 && (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) &&
	    !(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)) {
		/* mbedTLS 2.28 matches DNS names only, never IP address entries. */
		snprintf(err, errlen,
			 "TLS handshake with %s failed: the server certificate does not name "
			 "'%s'; give --server-name (SLUICE_SERVER_NAME) with a DNS name it holds "
			 "(IP addresses are not matched)",
			 k->peer, k->tls.ctx->server_name ? k->tls.ctx->server_name : "");
		return;
	}
	if (flags && flags != (uint32_t)-1) {
		char info[256];
		size_t l;

		mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
		l = strlen(info);
		while (l && (info[l - 1] == '\n' || info[l - 1] == ' '))
			info[--l] = '\0';
		for (char *q = info; *q; q++)
			if (*q == '\n')
				*q = ';';
		snprintf(err, errlen,
			 "TLS handshake with %s failed: server certificate not accepted: %s "
			 "(check --ca and --server-name)",
			 k->peer, info);
		return;
	}
	if (e == MBEDTLS_ERR_SSL_CONN_EOF || e == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
		snprintf(err, errlen,
			 "TLS handshake with %s failed: the appliance closed it (%s); it may "
			 "require a client certificate (--cert/--key) or another CA",
			 k->peer, tls_strerror(e));
		return;
	}
	snprintf(err, errlen, "TLS handshake with %s failed: %s", k->peer, tls_strerror(e));
}

static int
handshake(struct sl_conn *k, uint64_t deadline_ms, char *err, size_t errlen)
{
	for (;;) {
		enum tls_state st = tls_conn_handshake(&k->tls);
		const uint8_t *p;
		struct pollfd pf;
		int rc;

		rc = push_ct(k, err, errlen);
		if (st == TLS_OPEN)
			return rc;
		if (st == TLS_CLOSED) {
			tls_error_text(k, err, errlen);
			return -SLUICE_E_TLS;
		}
		if (rc)
			return rc;
		if (k->tls.peer_eof) {
			snprintf(err, errlen,
				 "TLS handshake with %s failed: the appliance closed the "
				 "connection (client certificate required?)",
				 k->peer);
			return -SLUICE_E_TLS;
		}
		pf = (struct pollfd){ .fd = k->fd, .events = POLLIN };
		if (tls_conn_tx_pending(&k->tls, &p))
			pf.events |= POLLOUT;
		if (left_ms(deadline_ms) == 0) {
			snprintf(err, errlen, "TLS handshake with %s timed out", k->peer);
			return -SLUICE_E_TIMEOUT;
		}
		rc = poll(&pf, 1, left_ms(deadline_ms));
		if (rc < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -SLUICE_E_CLOSED;
		}
		if (rc > 0) {
			rc = pull_ct(k, err, errlen);
			if (rc)
				return rc;
		}
	}
}

int
sl_conn_open(struct sl_conn *k, struct tls_ctx *tls, const char *host, uint16_t port,
	     uint64_t deadline_ms, char *err, size_t errlen)
{
	int rc;

	sl_conn_init(k);
	snprintf(k->peer, sizeof(k->peer), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	k->lim_in = wire_limits_default;
	k->rx_ct = malloc(SL_RX_CT_BYTES);
	k->tx_ct = malloc(SL_TX_CT_BYTES);
	k->in = malloc(SL_IN_INITIAL);
	k->in_cap = SL_IN_INITIAL;
	if (!k->rx_ct || !k->tx_ct || !k->in) {
		free_buffers(k);
		snprintf(err, errlen, "out of memory");
		return -SLUICE_E_NOMEM;
	}
	rc = tcp_connect(k, host, port, deadline_ms, err, errlen);
	if (rc) {
		free_buffers(k);
		return rc;
	}
	if (tls_conn_init(&k->tls, tls, k->rx_ct, SL_RX_CT_BYTES, k->tx_ct, SL_TX_CT_BYTES)) {
		snprintf(err, errlen, "TLS setup failed: out of memory");
		sl_conn_close(k, false, 0);
		return -SLUICE_E_NOMEM;
	}
	k->tls_live = true;
	rc = handshake(k, deadline_ms, err, errlen);
	if (rc) {
		sl_conn_close(k, false, 0);
		return rc;
	}
	return 0;
}

int
sl_conn_send(struct sl_conn *k, const void *frame, size_t len)
{
	if (k->out_off == k->out_len)
		k->out_off = k->out_len = 0;
	if (k->out_cap - k->out_len < len) {
		size_t live = k->out_len - k->out_off, cap = k->out_cap ? k->out_cap : 64 * 1024;
		uint8_t *nb;

		if (k->out_off) {
			memmove(k->out, k->out + k->out_off, live);
			k->out_off = 0;
			k->out_len = live;
		}
		while (cap - live < len)
			cap *= 2;
		if (cap != k->out_cap) {
			nb = realloc(k->out, cap);
			if (!nb)
				return -SLUICE_E_NOMEM;
			k->out = nb;
			k->out_cap = cap;
		}
	}
	memcpy(k->out + k->out_len, frame, len);
	k->out_len += len;
	return 0;
}

int
sl_conn_push(struct sl_conn *k, char *err, size_t errlen)
{
	int rc;

	if (k->fd < 0) {
		snprintf(err, errlen, "not connected");
		return -SLUICE_E_CLOSED;
	}
	if (k->peer_closed)
		return 0; /* nothing more can go out; the reader reports the close */
	for (;;) {
		const uint8_t *p;
		bool progress = false;

		while (k->out_off < k->out_len) {
			size_t n = k->out_len - k->out_off;
			int w = tls_conn_write(&k->tls, k->out + k->out_off,
					       n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);

			if (w < 0) {
				snprintf(err, errlen, "TLS write to %s failed: %s", k->peer,
					 tls_strerror(k->tls.last_error));
				return -SLUICE_E_TLS;
			}
			if (w == 0)
				break;
			k->out_off += (size_t)w;
			progress = true;
		}
		if (k->out_off == k->out_len)
			k->out_off = k->out_len = 0;
		rc = push_ct(k, err, errlen);
		if (rc)
			return rc;
		/* Go round again only if the socket took everything and plaintext is left. */
		if (!progress || k->out_off == k->out_len || tls_conn_tx_pending(&k->tls, &p))
			return 0;
	}
}

bool
sl_conn_out_pending(const struct sl_conn *k)
{
	const uint8_t *p;

	return k->out_off < k->out_len || (k->tls_live && tls_conn_tx_pending(&k->tls, &p));
}

/*
 * Make room in `in`: compact, and grow so that the frame at in_off fits
 * whole (its length was checked against the limit) or 16 KiB more, a record.
 */
static int
in_make_room(struct sl_conn *k)
{
	uint32_t live = k->in_len - k->in_off, need = 16 * 1024 + 4;
	uint8_t *nb;

	if (live >= 4 && 4 + wire_ld32(k->in + k->in_off) > need)
		need = 4 + wire_ld32(k->in + k->in_off);
	if (k->in_len < k->in_cap && k->in_cap - k->in_off >= need)
		return 0;
	if (k->in_off) {
		memmove(k->in, k->in + k->in_off, live);
		k->in_off = 0;
		k->in_len = live;
	}
	if (k->in_cap < need) {
		uint32_t cap = k->in_cap;

		while (cap < need)
			cap *= 2;
		nb = realloc(k->in, cap);
		if (!nb)
			return -SLUICE_E_NOMEM;
		k->in = nb;
		k->in_cap = cap;
	}
	return 0;
}

/* Decrypt what rx holds into `in` while there is room. */
static int
decrypt(struct sl_conn *k, char *err, size_t errlen)
{
	for (;;) {
		uint32_t live = k->in_len - k->in_off;
		int r;

		/* The limit is checked before buffering: no peer makes us grow past it. */
		if (live >= 4 && wire_ld32(k->in + k->in_off) > k->lim_in.max_frame_bytes)
			return 0;
		if (in_make_room(k)) {
			snprintf(err, errlen, "out of memory");
			return -SLUICE_E_NOMEM;
		}
		if (k->in_len == k->in_cap)
			return 0; /* full of whole frames: the caller takes them first */
		r = tls_conn_read(&k->tls, k->in + k->in_len, k->in_cap - k->in_len);
		if (r > 0) {
			k->in_len += (uint32_t)r;
			continue;
		}
		if (r == 0)
			return 0;
		k->peer_closed = true;
		if (k->tls.last_error == 0 || k->tls.last_error == MBEDTLS_ERR_SSL_CONN_EOF)
			return 0; /* what is buffered is still delivered; caller sees peer_closed */
		snprintf(err, errlen, "TLS error from %s: %s", k->peer,
			 tls_strerror(k->tls.last_error));
		return -SLUICE_E_TLS;
	}
}

int
sl_conn_io(struct sl_conn *k, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd pf;
	int rc;

	rc = sl_conn_push(k, err, errlen);
	if (rc)
		return rc;
	rc = decrypt(k, err, errlen); /* records may already sit in rx */
	if (rc)
		return rc;
	if (k->peer_closed)
		return 0;
	pf = (struct pollfd){ .fd = k->fd, .events = POLLIN };
	if (sl_conn_out_pending(k))
		pf.events |= POLLOUT;
	/* A whole frame waiting upstairs means: do not sleep. */
	if (k->in_len - k->in_off >= 4 &&
	    (uint64_t)(k->in_len - k->in_off) >= 4 + (uint64_t)wire_ld32(k->in + k->in_off))
		timeout_ms = 0;
	rc = poll(&pf, 1, timeout_ms < 0 ? -1 : timeout_ms);
	if (rc < 0 && errno != EINTR) {
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return -SLUICE_E_CLOSED;
	}
	if (rc <= 0)
		return 0;
	if (pf.revents & POLLOUT) {
		rc = sl_conn_push(k, err, errlen);
		if (rc)
			return rc;
	}
	if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
		int rd = pull_ct(k, err, errlen);

		/* Records read before a reset still count: they may say why (Goodbye). */
		rc = decrypt(k, rd ? NULL : err, rd ? 0 : errlen);
		if (rd)
			return rd;
		if (rc)
			return rc;
	}
	return 0;
}

int
sl_conn_next(struct sl_conn *k, const uint8_t **frame, uint32_t *len, char *err, size_t errlen)
{
	uint32_t live = k->in_len - k->in_off, l, at = 0;
	int rc;

	if (live < 4)
		return 0;
	l = wire_ld32(k->in + k->in_off);
	if (l > k->lim_in.max_frame_bytes) {
		snprintf(err, errlen,
			 "%s sent a frame of %u bytes, above the limit of %u: protocol error",
			 k->peer, l, k->lim_in.max_frame_bytes);
		return -SLUICE_E_PROTOCOL;
	}
	if ((uint64_t)live < 4 + (uint64_t)l)
		return 0;
	rc = wire_verify(k->in + k->in_off, 4 + (size_t)l, &k->lim_in, &at);
	if (rc) {
		snprintf(err, errlen, "%s sent an invalid frame: %s at byte %u", k->peer,
			 wire_error_name(rc), at);
		return -SLUICE_E_PROTOCOL;
	}
	*frame = k->in + k->in_off;
	*len = 4 + l;
	k->in_off += 4 + l;
	return 1;
}

void
sl_conn_close(struct sl_conn *k, bool graceful, uint64_t deadline_ms)
{
	char err[128];

	if (k->fd >= 0 && k->tls_live && graceful) {
		/* Best effort: what was queued, then close_notify, while time allows. */
		while (k->out_off < k->out_len && left_ms(deadline_ms) > 0) {
			struct pollfd pf = { .fd = k->fd, .events = POLLOUT };

			if (sl_conn_push(k, err, sizeof(err)) || k->out_off == k->out_len)
				break;
			if (poll(&pf, 1, left_ms(deadline_ms)) <= 0)
				break;
		}
		tls_conn_close(&k->tls);
		while (left_ms(deadline_ms) > 0) {
			const uint8_t *p;
			struct pollfd pf = { .fd = k->fd, .events = POLLOUT };

			if (push_ct(k, err, sizeof(err)) || !tls_conn_tx_pending(&k->tls, &p))
				break;
			if (poll(&pf, 1, left_ms(deadline_ms)) <= 0)
				break;
		}
		shutdown(k->fd, SHUT_WR);
	}
	if (k->tls_live)
		tls_conn_free(&k->tls);
	k->tls_live = false;
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	free_buffers(k);
}
