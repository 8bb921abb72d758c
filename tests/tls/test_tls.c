/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS engine tests: a client engine and a server engine connected through
 * memory, real mbedTLS on both ends, certificates made by openssl at test
 * time (tests/tls/run.sh). Usage: test_tls CERT_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "../check.h"

static char dir[512];
static uint64_t fake_now = 1700000000;

static const char *
path(const char *name)
{
	static char buf[4][600];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static uint64_t
clock_fake(void)
{
	return fake_now;
}

struct end {
	struct tls_conn c;
	uint8_t rx[18 * 1024];
	uint8_t tx[40 * 1024];
	uint32_t tx_cap;
};

/* Move ciphertext from a's tx to b's rx, at most chunk bytes per call (0 = all). */
static uint32_t
pump(struct end *a, struct end *b, uint32_t chunk)
{
	const uint8_t *p;
	uint32_t n = tls_conn_tx_pending(&a->c, &p), moved;

	if (chunk && n > chunk)
		n = chunk;
	moved = tls_conn_rx_push(&b->c, p, n);
	tls_conn_tx_consume(&a->c, moved);
	return moved;
}

/* Run both handshakes to completion or failure; returns bytes server->client. */
static uint32_t
handshake(struct end *cl, struct end *sv, uint32_t chunk, enum tls_state *cs, enum tls_state *ss)
{
	uint32_t s2c = 0;
	int i;

	*cs = *ss = TLS_HANDSHAKE;
	for (i = 0; i < 200000; i++) {
		uint32_t moved, back;

		*cs = tls_conn_handshake(&cl->c);
		moved = pump(cl, sv, chunk);
		*ss = tls_conn_handshake(&sv->c);
		back = pump(sv, cl, chunk);
		s2c += back;
		moved += back;
		if (*cs != TLS_HANDSHAKE && *ss != TLS_HANDSHAKE)
			break;
		if (!moved && (*cs != TLS_HANDSHAKE || *ss != TLS_HANDSHAKE) && i > 8)
			break;
	}
	return s2c;
}

static int
ctx_make(struct tls_ctx *ctx, bool server, const char *cert, const char *key, const char *ca,
	 enum tls_client_cert cc, uint32_t tickets)
{
	struct tls_params p = {
		.server = server,
		.cert_file = cert ? path(cert) : NULL,
		.key_file = key ? path(key) : NULL,
		.ca_file = ca ? path(ca) : NULL,
		.server_name = "sluice.test",
		.client_cert = cc,
		.ticket_lifetime_s = tickets,
	};
	char err[256];

	if (tls_ctx_init(ctx, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "tls_ctx_init: %s\n", err);
		return -1;
	}
	ctx->now_s = clock_fake;
	return 0;
}

static void
ends_init(struct end *cl, struct tls_ctx *cctx, struct end *sv, struct tls_ctx *sctx)
{
	CHECK(tls_conn_init(&cl->c, cctx, cl->rx, sizeof(cl->rx), cl->tx,
			    cl->tx_cap ? cl->tx_cap : sizeof(cl->tx)) == 0);
	CHECK(tls_conn_init(&sv->c, sctx, sv->rx, sizeof(sv->rx), sv->tx,
			    sv->tx_cap ? sv->tx_cap : sizeof(sv->tx)) == 0);
}

static void
ends_free(struct end *cl, struct end *sv)
{
	tls_conn_free(&cl->c);
	tls_conn_free(&sv->c);
}

/* Send n bytes of a pattern from a to b through records and check them. */
static bool
transfer(struct end *a, struct end *b, uint32_t n)
{
	static uint8_t out[300000], in[300000];
	uint32_t sent = 0, got = 0, i;
	int spins = 0;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(i * 131 + 7);
	while (got < n && spins++ < 100000) {
		if (sent < n) {
			int w = tls_conn_write(&a->c, out + sent, n - sent);

			if (w < 0)
				return false;
			sent += (uint32_t)w;
		}
		pump(a, b, 0);
		for (;;) {
			int r = tls_conn_read(&b->c, in + got, n - got);

			if (r < 0)
				return false;
			if (r == 0)
				break;
			got += (uint32_t)r;
		}
		pump(b, a, 0);
	}
	return got == n && memcmp(in, out, n) == 0;
}

static struct tls_ctx sctx, cctx;
static struct end cl, sv;

static void
test_basic(void)
{
	enum tls_state cs, ss;

	ends_init(&cl, &cctx, &sv, &sctx);
	handshake(&cl, &sv, 0, &cs, &ss);
	CHECK(cs == TLS_OPEN && ss == TLS_OPEN);
	CHECK(transfer(&cl, &sv, 200000));
	CHECK(transfer(&sv, &cl, 100000));
	CHECK(strcmp(mbedtls_ssl_get_alpn_protocol(&sv.c.ssl), TLS_ALPN) == 0);
	CHECK(strstr(mbedtls_ssl_get_ciphersuite(&sv.c.ssl), "GCM") ||
	      strstr(mbedtls_ssl_get_ciphersuite(&sv.c.ssl), "CHACHA"));
	CHECK(strcmp(mbedtls_ssl_get_version(&sv.c.ssl), "TLSv1.2") == 0);
	/* Clean close: close_notify reads as end of stream with no error. */
	tls_conn_close(&cl.c);
	pump(&cl, &sv, 0);
	{
		uint8_t b[16];

		CHECK(tls_conn_read(&sv.c, b, sizeof(b)) == -1);
		CHECK(sv.c.state == TLS_CLOSED && sv.c.last_error == 0);
	}
	ends_free(&cl, &sv);
}

/* One byte at a time each way, and a tiny tx window: WANT_READ/WANT_WRITE paths. */
static void
test_drip(void)
{
	enum tls_state cs, ss;

	cl.tx_cap = 97;
	sv.tx_cap = 211;
	ends_init(&cl, &cctx, &sv, &sctx);
	handshake(&cl, &sv, 1, &cs, &ss);
	CHECK(cs == TLS_OPEN && ss == TLS_OPEN);
	CHECK(transfer(&cl, &sv, 5000));
	CHECK(transfer(&sv, &cl, 5000));
	ends_free(&cl, &sv);
	cl.tx_cap = sv.tx_cap = 0;
}

/* FIN without close_notify is an error (truncation), not a clean end. */
static void
test_eof(void)
{
	enum tls_state cs, ss;
	uint8_t b[16];

	ends_init(&cl, &cctx, &sv, &sctx);
	handshake(&cl, &sv, 0, &cs, &ss);
	CHECK(ss == TLS_OPEN);
	CHECK(tls_conn_read(&sv.c, b, sizeof(b)) == 0); /* nothing yet */
	tls_conn_rx_eof(&sv.c);
	CHECK(tls_conn_read(&sv.c, b, sizeof(b)) == -1);
	if (sv.c.last_error != MBEDTLS_ERR_SSL_CONN_EOF)
		fprintf(stderr, "eof: last_error %d (%s)\n", sv.c.last_error,
			tls_strerror(sv.c.last_error));
	CHECK(sv.c.last_error == MBEDTLS_ERR_SSL_CONN_EOF);
	ends_free(&cl, &sv);

	/* EOF during the handshake closes it too. */
	ends_init(&cl, &cctx, &sv, &sctx);
	tls_conn_handshake(&cl.c);
	pump(&cl, &sv, 10);
	tls_conn_rx_eof(&sv.c);
	CHECK(tls_conn_handshake(&sv.c) == TLS_CLOSED);
	ends_free(&cl, &sv);
}

/* Client-side configuration changes that the server must refuse. */
static void
expect_refused(const char *what, void (*tweak)(mbedtls_ssl_config *))
{
	struct tls_ctx bad;
	enum tls_state cs, ss;

	if (ctx_make(&bad, false, NULL, NULL, "ca.pem", TLS_CLIENT_CERT_NONE, 0) != 0) {
		CHECK(0);
		return;
	}
	tweak(&bad.conf);
	ends_init(&cl, &bad, &sv, &sctx);
	handshake(&cl, &sv, 0, &cs, &ss);
	if (ss != TLS_CLOSED)
		fprintf(stderr, "%s: server state %d\n", what, ss);
	CHECK(ss == TLS_CLOSED);
	CHECK(cs != TLS_OPEN || ss != TLS_OPEN);
	ends_free(&cl, &sv);
	tls_ctx_free(&bad);
}

static const int cbc_only[] = { MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
				MBEDTLS_TLS_RSA_WITH_AES_128_CBC_SHA, 0 };
static const char *h2_only[] = { "h2", NULL };
static const char *no_alpn[] = { NULL };

static void
tweak_cbc(mbedtls_ssl_config *c)
{
	mbedtls_ssl_conf_ciphersuites(c, cbc_only);
}

static void
tweak_tls11(mbedtls_ssl_config *c)
{
	mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_1);
	mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_2);
}

static void
tweak_h2(mbedtls_ssl_config *c)
{
	mbedtls_ssl_conf_alpn_protocols(c, h2_only);
}

static void
tweak_no_alpn(mbedtls_ssl_config *c)
{
	mbedtls_ssl_conf_alpn_protocols(c, no_alpn);
}

static void
test_policy(void)
{
	expect_refused("CBC only", tweak_cbc);
	expect_refused("TLS 1.1", tweak_tls11);
	expect_refused("ALPN h2", tweak_h2);
	expect_refused("no ALPN", tweak_no_alpn);
}

/* Client certificates: none / optional / required against good, rogue, none. */
static void
test_client_certs(void)
{
	static const struct {
		enum tls_client_cert mode;
		const char *cert, *key;
		bool ok;
	} cases[] = {
		{ TLS_CLIENT_CERT_REQUIRED, "client.pem", "client.key", true },
		{ TLS_CLIENT_CERT_REQUIRED, NULL, NULL, false },
		{ TLS_CLIENT_CERT_REQUIRED, "rogue.pem", "rogue.key", false },
		{ TLS_CLIENT_CERT_OPTIONAL, NULL, NULL, true },
		{ TLS_CLIENT_CERT_OPTIONAL, "client.pem", "client.key", true },
		{ TLS_CLIENT_CERT_OPTIONAL, "rogue.pem", "rogue.key", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tls_ctx s, c;
		enum tls_state cs, ss;

		if (ctx_make(&s, true, "server.pem", "server.key", "ca.pem", cases[i].mode, 0) ||
		    ctx_make(&c, false, cases[i].cert, cases[i].key, "ca.pem", 0, 0)) {
			CHECK(0);
			continue;
		}
		ends_init(&cl, &c, &sv, &s);
		handshake(&cl, &sv, 0, &cs, &ss);
		if ((ss == TLS_OPEN) != cases[i].ok)
			fprintf(stderr, "client cert case %zu: server state %d (%s)\n", i, ss,
				tls_strerror(sv.c.last_error));
		CHECK((ss == TLS_OPEN) == cases[i].ok);
		if (cases[i].ok)
			CHECK(transfer(&cl, &sv, 1000));
		ends_free(&cl, &sv);
		tls_ctx_free(&s);
		tls_ctx_free(&c);
	}
}

/* A client that trusts another CA, or expects another name, refuses the server. */
static void
test_server_identity(void)
{
	struct tls_ctx c;
	enum tls_state cs, ss;

	if (ctx_make(&c, false, NULL, NULL, "rogue.pem", 0, 0)) {
		CHECK(0);
		return;
	}
	ends_init(&cl, &c, &sv, &sctx);
	handshake(&cl, &sv, 0, &cs, &ss);
	CHECK(cs == TLS_CLOSED);
	ends_free(&cl, &sv);
	tls_ctx_free(&c);
	if (ctx_make(&c, false, NULL, NULL, "ca.pem", 0, 0)) {
		CHECK(0);
		return;
	}
	c.server_name = "other.test";
	ends_init(&cl, &c, &sv, &sctx);
	handshake(&cl, &sv, 0, &cs, &ss);
	CHECK(cs == TLS_CLOSED);
	ends_free(&cl, &sv);
	tls_ctx_free(&c);
}

/* Full handshake, then resume with the ticket; returns server->client bytes. */
static uint32_t
connect_with(mbedtls_ssl_session *resume, mbedtls_ssl_session *save, bool *ok)
{
	enum tls_state cs, ss;
	uint32_t bytes;

	ends_init(&cl, &cctx, &sv, &sctx);
	if (resume)
		CHECK(mbedtls_ssl_set_session(&cl.c.ssl, resume) == 0);
	bytes = handshake(&cl, &sv, 0, &cs, &ss);
	*ok = cs == TLS_OPEN && ss == TLS_OPEN && transfer(&cl, &sv, 100);
	if (save)
		CHECK(mbedtls_ssl_get_session(&cl.c.ssl, save) == 0);
	ends_free(&cl, &sv);
	return bytes;
}

static void
test_tickets(void)
{
	struct tls_ticket_key k[2] = { { .id = 1 }, { .id = 2 } };
	mbedtls_ssl_session sess;
	uint32_t full, resumed;
	bool ok;

	memset(k[0].key, 0x11, sizeof(k[0].key));
	memset(k[1].key, 0x22, sizeof(k[1].key));
	CHECK(tls_ctx_set_ticket_keys(&sctx, k, 1) == 0);
	mbedtls_ssl_session_init(&sess);
	full = connect_with(NULL, &sess, &ok);
	CHECK(ok);
	resumed = connect_with(&sess, NULL, &ok);
	CHECK(ok);
	/* A resumed handshake sends no certificate: far fewer bytes. */
	CHECK(resumed * 2 < full);

	/* Rotation: new key first, old key second still opens the ticket. */
	{
		struct tls_ticket_key rot[2] = { k[1], k[0] };

		CHECK(tls_ctx_set_ticket_keys(&sctx, rot, 2) == 0);
		CHECK(connect_with(&sess, NULL, &ok) * 2 < full && ok);
		/* Old key gone: full handshake, still succeeds. */
		CHECK(tls_ctx_set_ticket_keys(&sctx, &k[1], 1) == 0);
		CHECK(connect_with(&sess, NULL, &ok) * 2 >= full && ok);
	}
	/* Expiry: a fresh ticket, then the clock passes its lifetime. */
	mbedtls_ssl_session_free(&sess);
	mbedtls_ssl_session_init(&sess);
	connect_with(NULL, &sess, &ok);
	CHECK(connect_with(&sess, NULL, &ok) * 2 < full && ok);
	fake_now += 3601;
	CHECK(connect_with(&sess, NULL, &ok) * 2 >= full && ok);
	mbedtls_ssl_session_free(&sess);
}

/* Garbage and truncated records: the server closes with an error, no crash. */
static void
test_garbage(void)
{
	static const uint8_t junk[][12] = {
		{ 'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1' },
		{ 0x16, 0x03, 0x03, 0xff, 0xff, 0x01, 0x00, 0xff, 0xfb, 0x03, 0x03, 0x00 },
		{ 0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0 },
		{ 0x15, 0x03, 0x03, 0x00, 0x02, 2, 40, 0, 0, 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		ends_init(&cl, &cctx, &sv, &sctx);
		tls_conn_rx_push(&sv.c, junk[i], sizeof(junk[i]));
		tls_conn_rx_eof(&sv.c);
		CHECK(tls_conn_handshake(&sv.c) == TLS_CLOSED);
		CHECK(sv.c.last_error != 0);
		ends_free(&cl, &sv);
	}
	/* Application-data record with a bad tag after an open session. */
	{
		enum tls_state cs, ss;
		uint8_t rec[40] = { 0x17, 0x03, 0x03, 0x00, 35 };
		uint8_t b[16];

		ends_init(&cl, &cctx, &sv, &sctx);
		handshake(&cl, &sv, 0, &cs, &ss);
		CHECK(ss == TLS_OPEN);
		tls_conn_rx_push(&sv.c, rec, sizeof(rec));
		CHECK(tls_conn_read(&sv.c, b, sizeof(b)) == -1);
		CHECK(sv.c.last_error == MBEDTLS_ERR_SSL_INVALID_MAC);
		ends_free(&cl, &sv);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_tls CERT_DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	if (ctx_make(&sctx, true, "server.pem", "server.key", NULL, TLS_CLIENT_CERT_NONE, 3600) ||
	    ctx_make(&cctx, false, NULL, NULL, "ca.pem", TLS_CLIENT_CERT_NONE, 0))
		return 1;
	{
		struct tls_ticket_key k = { .id = 9 };

		CHECK(tls_ctx_set_ticket_keys(&sctx, &k, 1) == 0);
	}
	test_basic();
	test_drip();
	test_eof();
	test_policy();
	test_client_certs();
	test_server_identity();
	test_tickets();
	test_garbage();
	tls_ctx_free(&sctx);
	tls_ctx_free(&cctx);
	return CHECK_SUMMARY();
}
