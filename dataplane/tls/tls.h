/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS engine over mbedTLS 2.28: buffers in, buffers out, no I/O.
 *
 * The transport (kernel socket, userspace TCP) moves ciphertext between the
 * network and two per-connection buffers; the session layer reads and writes
 * plaintext. mbedTLS sees only the buffers, through BIO callbacks that keep
 * its contract: MBEDTLS_ERR_SSL_WANT_READ when rx is empty, WANT_WRITE when
 * tx is full, 0 (end of stream) only once the peer's FIN was seen.
 *
 *   network ──► rx [ off ....... len )  ──mbedTLS──► tls_conn_read()
 *   network ◄── tx [ off ....... len )  ◄─mbedTLS─── tls_conn_write()
 *
 * Policy (DESIGN.md "TLS"): TLS 1.2 only, ECDHE with AES-GCM or
 * ChaCha20-Poly1305 only, no renegotiation, ALPN "sluice/1" required,
 * client certificates none/optional/required, session tickets sealed with
 * keys the caller installs (so every lcore, and later sluice-ctld, shares
 * them and rotates them).
 *
 * One struct tls_ctx per lcore (its DRBG is not shared); a tls_conn belongs
 * to the lcore of its ctx. Neither is thread-safe.
 */
#ifndef SLUICE_TLS_H
#define SLUICE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define TLS_ALPN "sluice/1"
#define TLS_TICKET_KEYS 2 /* current and previous */
#define TLS_TICKET_KEY_BYTES 32

enum tls_client_cert {
	TLS_CLIENT_CERT_NONE,
	TLS_CLIENT_CERT_OPTIONAL,
	TLS_CLIENT_CERT_REQUIRED,
};

struct tls_params {
	bool server;
	const char *cert_file;   /* PEM; server: required, client: for client certs */
	const char *key_file;    /* PEM */
	const char *ca_file;     /* server: client CA; client: server CA (required) */
	const char *server_name; /* client: expected name in the server certificate */
	enum tls_client_cert client_cert;
	uint32_t ticket_lifetime_s; /* server: 0 = no session tickets */
};

/* A ticket-sealing key: AES-256-GCM, named by id. */
struct tls_ticket_key {
	uint32_t id;
	uint8_t key[TLS_TICKET_KEY_BYTES];
};

struct tls_ctx {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt cert;
	mbedtls_x509_crt ca;
	mbedtls_pk_context key;
	bool server;
	const char *server_name;
	uint32_t ticket_lifetime_s;
	/* slot 0 seals new tickets; every slot opens them */
	struct {
		uint32_t id;
		bool valid;
		mbedtls_gcm_context gcm;
	} tickets[TLS_TICKET_KEYS];
	uint64_t (*now_s)(void); /* clock for ticket ages; tests replace it */
};

/*
 * Set up ctx from params. Returns 0, or -1 with a message a person can act
 * on in err (which file, what mbedTLS said).
 */
int tls_ctx_init(struct tls_ctx *ctx, const struct tls_params *params, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *ctx);

/*
 * Install ticket keys: keys[0] seals new tickets, all open existing ones.
 * n <= TLS_TICKET_KEYS. Returns 0 or -1. Existing sessions are unaffected.
 */
int tls_ctx_set_ticket_keys(struct tls_ctx *ctx, const struct tls_ticket_key *keys, unsigned n);

/* A byte window: data lives in [off, len) of buf[0, cap). */
struct tls_buf {
	uint8_t *buf;
	uint32_t off;
	uint32_t len;
	uint32_t cap;
};

enum tls_state {
	TLS_HANDSHAKE,
	TLS_OPEN,
	TLS_CLOSED, /* close_notify or EOF seen, or closed after an error */
};

struct tls_conn {
	mbedtls_ssl_context ssl;
	struct tls_ctx *ctx;
	struct tls_buf rx;
	struct tls_buf tx;
	uint8_t state;
	bool peer_eof;
	bool resumed;
	int last_error; /* mbedTLS error that closed it, 0 if none */
};

/*
 * Start a connection using caller-provided ciphertext buffers (rx at least
 * one TLS record, 16 KiB + 2 KiB). Returns 0 or -1 (mbedTLS setup failed:
 * out of memory).
 */
int tls_conn_init(struct tls_conn *c, struct tls_ctx *ctx, uint8_t *rxbuf, uint32_t rxcap,
		  uint8_t *txbuf, uint32_t txcap);
void tls_conn_free(struct tls_conn *c);

/*
 * Server side, after the handshake: the client's certificate, if it sent
 * one (it was verified against --client-ca, or the handshake failed): the
 * SHA-256 of its DER bytes and its subject as mbedTLS writes it
 * ("CN=producer-1, O=Example"). 0, or -1 when there is none.
 */
int tls_conn_peer_cert(const struct tls_conn *c, uint8_t sha256[32], char *subject,
		       size_t subject_len);

/* Where the transport may write received ciphertext; commit what it wrote. */
uint32_t tls_conn_rx_space(struct tls_conn *c, uint8_t **p);
void tls_conn_rx_commit(struct tls_conn *c, uint32_t n);
/* Append received ciphertext; returns how much fitted. */
uint32_t tls_conn_rx_push(struct tls_conn *c, const uint8_t *p, uint32_t n);
/* The peer closed its sending side (TCP FIN). */
void tls_conn_rx_eof(struct tls_conn *c);

/* Ciphertext waiting to be sent; consume what the transport sent. */
uint32_t tls_conn_tx_pending(const struct tls_conn *c, const uint8_t **p);
void tls_conn_tx_consume(struct tls_conn *c, uint32_t n);

/*
 * Advance the handshake as far as the buffers allow. Returns TLS_HANDSHAKE
 * (needs more rx or tx room), TLS_OPEN (done: ALPN was "sluice/1"), or
 * TLS_CLOSED with c->last_error set (failed; a fatal alert may be in tx).
 */
enum tls_state tls_conn_handshake(struct tls_conn *c);

/*
 * Plaintext. read: bytes read (> 0), 0 when nothing is available yet, -1
 * when the connection is closed (clean close: last_error 0). write: bytes
 * accepted (maybe fewer than n when tx is full), -1 when closed.
 */
int tls_conn_read(struct tls_conn *c, uint8_t *p, uint32_t n);
int tls_conn_write(struct tls_conn *c, const uint8_t *p, uint32_t n);

/* Queue a close_notify alert and mark the connection closed. */
void tls_conn_close(struct tls_conn *c);

/* Text of an mbedTLS error code (static buffer per thread). */
const char *tls_strerror(int err);

#endif
