/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the TLS engine (dataplane/tls) as a server, on arbitrary
 * ciphertext from a client.
 *
 * At start, tools/gen-test-certs.sh (path in SLUICE_GEN_CERTS, set by meson)
 * makes throw-away certificates in a temporary directory; the server context
 * loads them (client certificates optional, so a client Certificate message
 * is parsed; session tickets on, so a ticket in a ClientHello is opened) and
 * the directory is removed. Each input is pushed into a fresh connection's
 * rx window as far as it fits, the handshake (then tls_conn_read) is driven,
 * tx is drained, until the input is used up; then the peer's EOF is
 * signalled and the connection is driven once more.
 *
 * abort() unless: a connection is TLS_OPEN only with ALPN "sluice/1"
 * negotiated; tls_conn_read returns -1, 0 or a count that fits; the windows
 * stay inside their buffers. Leaks: libFuzzer's
 * LeakSanitizer check after tls_conn_free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RX_CAP (18u * 1024)
#define TX_CAP (40u * 1024)

static struct tls_ctx ctx;
static uint8_t plain[16384];

static void __attribute__((noreturn)) invariant(const char *what)
{
	fprintf(stderr, "fuzz_tls_server: INVARIANT VIOLATED (MISMATCH): %s\n", what);
	abort();
}

static uint64_t
clock_fixed(void)
{
	return 1700000000;
}

static void
free_ctx(void)
{
	tls_ctx_free(&ctx);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *gen = getenv("SLUICE_GEN_CERTS");
	char dir[] = "/tmp/sluice-fuzz-tls-XXXXXX", cmd[1024], cert[128], key[128], ca[128];
	char err[256];
	struct tls_ticket_key keys[2] = { { .id = 1 }, { .id = 2 } };
	struct tls_params p = {
		.server = true,
		.cert_file = cert,
		.key_file = key,
		.ca_file = ca,
		.client_cert = TLS_CLIENT_CERT_OPTIONAL,
		.ticket_lifetime_s = 3600,
	};
	int rc;

	(void)argc;
	(void)argv;
	if (!gen || !*gen) {
		fprintf(stderr, "fuzz_tls_server: set SLUICE_GEN_CERTS to tools/gen-test-certs.sh "
				"(meson test does)\n");
		exit(1);
	}
	if (!mkdtemp(dir)) {
		perror("fuzz_tls_server: mkdtemp");
		exit(1);
	}
	snprintf(cmd, sizeof(cmd), "'%s' '%s' >/dev/null", gen, dir);
	rc = system(cmd);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	if (rc == 0)
		rc = tls_ctx_init(&ctx, &p, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s failed (status %d)", gen, rc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_tls_server: could not remove %s\n", dir);
	if (rc != 0) {
		fprintf(stderr, "fuzz_tls_server: server context: %s\n", err);
		exit(1);
	}
	ctx.now_s = clock_fixed;
	memset(keys[0].key, 0x11, sizeof(keys[0].key));
	memset(keys[1].key, 0x22, sizeof(keys[1].key));
	if (tls_ctx_set_ticket_keys(&ctx, keys, 2) != 0) {
		fprintf(stderr, "fuzz_tls_server: ticket keys refused\n");
		exit(1);
	}
	atexit(free_ctx);
	return 0;
}

static void
check_conn(const struct tls_conn *c)
{
	if (c->rx.off > c->rx.len || c->rx.len > c->rx.cap || c->tx.off > c->tx.len ||
	    c->tx.len > c->tx.cap)
		invariant("a ciphertext window left its buffer");
	if (c->state == TLS_OPEN) {
		const char *alpn = mbedtls_ssl_get_alpn_protocol(&c->ssl);

		if (!alpn || strcmp(alpn, TLS_ALPN) != 0)
			invariant("TLS_OPEN without ALPN " TLS_ALPN);
	}
	if (c->state > TLS_CLOSED)
		invariant("unknown state");
}

/* Run the connection as far as it goes; the peer reads everything sent. */
static void
drive(struct tls_conn *c)
{
	const uint8_t *p;
	int i;

	for (i = 0; i < 8; i++) {
		enum tls_state before = c->state;
		uint32_t tx;

		if (c->state == TLS_HANDSHAKE)
			tls_conn_handshake(c);
		check_conn(c);
		if (c->state == TLS_OPEN) {
			int n = tls_conn_read(c, plain, sizeof(plain));

			if (n > (int)sizeof(plain) || n < -1)
				invariant("tls_conn_read returned an impossible count");
			check_conn(c);
		}
		tx = tls_conn_tx_pending(c, &p);
		tls_conn_tx_consume(c, tx);
		if (c->state == before && tx == 0)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_conn c;
	uint8_t *rx = malloc(RX_CAP), *tx = malloc(TX_CAP);
	size_t at = 0;

	if (!rx || !tx)
		abort();
	if (tls_conn_init(&c, &ctx, rx, RX_CAP, tx, TX_CAP) != 0)
		invariant("tls_conn_init failed");
	while (at < size && c.state != TLS_CLOSED) {
		uint32_t want = size - at > UINT32_MAX ? UINT32_MAX : (uint32_t)(size - at);
		uint32_t n = tls_conn_rx_push(&c, data + at, want);
		uint8_t *room;

		at += n;
		drive(&c);
		if (n == 0 && tls_conn_rx_space(&c, &room) == 0)
			break; /* rx full and nothing consumed it: mbedTLS waits for a record */
	}
	tls_conn_rx_eof(&c);
	drive(&c);
	tls_conn_free(&c);
	free(rx);
	free(tx);
	return 0;
}
