/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS engine: mbedTLS driven through two byte windows (see tls.h).
 *
 * Memory: mbedTLS 2.28 as Debian builds it has no MBEDTLS_PLATFORM_MEMORY,
 * so mbedtls_ssl_setup() callocs its record buffers (about 2 x 16.7 KiB) per
 * connection. That is the one allocation after start-up on the dataplane;
 * it is bounded by the per-lcore session cap and goes away with the planned
 * cryptodev record layer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/error.h>
#include <mbedtls/sha256.h>

#include "tls.h"

/* Room that one application record needs beyond its plaintext (GCM: 5+8+16). */
#define RECORD_OVERHEAD 64
#define TICKET_HDR 20 /* key id, creation time, IV */
#define TICKET_IV 12
#define TICKET_TAG 16
#define TLS_ERR_ALPN (-0x7F00)        /* not an mbedTLS code: ALPN missing or not sluice/1 */
#define TLS_ERR_CLIENT_CERT (-0x7F01) /* a presented client certificate did not verify */

static const int ciphersuites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

static const mbedtls_ecp_group_id curves[] = {
	MBEDTLS_ECP_DP_CURVE25519,
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_NONE,
};

static const char *alpn_list[] = { TLS_ALPN, NULL };

const char *
tls_strerror(int err)
{
	static __thread char text[160];

	if (err == TLS_ERR_ALPN)
		return "peer did not negotiate ALPN \"" TLS_ALPN "\"";
	if (err == TLS_ERR_CLIENT_CERT)
		return "client certificate did not verify";
	mbedtls_strerror(err, text, sizeof(text));
	return text;
}

static uint64_t
wall_now_s(void)
{
	return (uint64_t)time(NULL);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Session tickets (RFC 5077 style, our own format, opaque to clients):
 *   [u32 key id][u32 created, unix s][12 IV][session, AES-256-GCM][16 tag]
 * key id and creation time are authenticated as additional data.
 */
static int
ticket_write(void *arg, const mbedtls_ssl_session *session, unsigned char *start,
	     const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
	struct tls_ctx *ctx = arg;
	size_t room = (size_t)(end - start), slen = 0;
	int rc;

	if (!ctx->tickets[0].valid)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	if (room < TICKET_HDR + TICKET_TAG)
		return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
	rc = mbedtls_ssl_session_save(session, start + TICKET_HDR, room - TICKET_HDR - TICKET_TAG,
				      &slen);
	if (rc)
		return rc;
	put32(start, ctx->tickets[0].id);
	put32(start + 4, (uint32_t)ctx->now_s());
	rc = mbedtls_ctr_drbg_random(&ctx->drbg, start + 8, TICKET_IV);
	if (rc)
		return rc;
	rc = mbedtls_gcm_crypt_and_tag(&ctx->tickets[0].gcm, MBEDTLS_GCM_ENCRYPT, slen, start + 8,
				       TICKET_IV, start, 8, start + TICKET_HDR, start + TICKET_HDR,
				       TICKET_TAG, start + TICKET_HDR + slen);
	if (rc)
		return rc;
	*tlen = TICKET_HDR + slen + TICKET_TAG;
	*lifetime = ctx->ticket_lifetime_s;
	return 0;
}

static int
ticket_parse(void *arg, mbedtls_ssl_session *session, unsigned char *buf, size_t len)
{
	struct tls_ctx *ctx = arg;
	uint32_t id, created;
	uint64_t now;
	size_t slen;
	unsigned i;

	if (len < TICKET_HDR + TICKET_TAG)
		return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
	id = get32(buf);
	created = get32(buf + 4);
	slen = len - TICKET_HDR - TICKET_TAG;
	for (i = 0; i < TLS_TICKET_KEYS; i++) {
		if (!ctx->tickets[i].valid || ctx->tickets[i].id != id)
			continue;
		if (mbedtls_gcm_auth_decrypt(&ctx->tickets[i].gcm, slen, buf + 8, TICKET_IV, buf, 8,
					     buf + TICKET_HDR + slen, TICKET_TAG, buf + TICKET_HDR,
					     buf + TICKET_HDR) != 0)
			return MBEDTLS_ERR_SSL_INVALID_MAC;
		now = ctx->now_s();
		if (now < created || now - created > ctx->ticket_lifetime_s)
			return MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
		return mbedtls_ssl_session_load(session, buf + TICKET_HDR, slen);
	}
	/* Unknown key (rotated out): fall back to a full handshake. */
	return MBEDTLS_ERR_SSL_INVALID_MAC;
}

static int
fail(char *err, size_t errlen, const char *what, const char *file, int rc)
{
	snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
		 tls_strerror(rc));
	return -1;
}

int
tls_ctx_init(struct tls_ctx *ctx, const struct tls_params *p, char *err, size_t errlen)
{
	static const char pers[] = "sluice tls";
	int rc, authmode;
	unsigned i;

	memset(ctx, 0, sizeof(*ctx));
	mbedtls_entropy_init(&ctx->entropy);
	mbedtls_ctr_drbg_init(&ctx->drbg);
	mbedtls_ssl_config_init(&ctx->conf);
	mbedtls_x509_crt_init(&ctx->cert);
	mbedtls_x509_crt_init(&ctx->ca);
	mbedtls_pk_init(&ctx->key);
	for (i = 0; i < TLS_TICKET_KEYS; i++)
		mbedtls_gcm_init(&ctx->tickets[i].gcm);
	ctx->server = p->server;
	ctx->server_name = p->server_name;
	ctx->ticket_lifetime_s = p->ticket_lifetime_s;
	ctx->now_s = wall_now_s;

	rc = mbedtls_ctr_drbg_seed(&ctx->drbg, mbedtls_entropy_func, &ctx->entropy,
				   (const unsigned char *)pers, sizeof(pers) - 1);
	if (rc)
		return fail(err, errlen, "seeding the random generator", NULL, rc);
	rc = mbedtls_ssl_config_defaults(&ctx->conf,
					 p->server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
					 MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc)
		return fail(err, errlen, "TLS defaults", NULL, rc);
	mbedtls_ssl_conf_rng(&ctx->conf, mbedtls_ctr_drbg_random, &ctx->drbg);
	/* TLS 1.2 only; ECDHE + AEAD only; no renegotiation; ALPN sluice/1. */
	mbedtls_ssl_conf_min_version(&ctx->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&ctx->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&ctx->conf, ciphersuites);
	mbedtls_ssl_conf_curves(&ctx->conf, curves);
	mbedtls_ssl_conf_renegotiation(&ctx->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	rc = mbedtls_ssl_conf_alpn_protocols(&ctx->conf, alpn_list);
	if (rc)
		return fail(err, errlen, "ALPN", NULL, rc);

	if (p->cert_file || p->key_file) {
		if (!p->cert_file || !p->key_file) {
			snprintf(err, errlen, "a certificate needs both cert_file and key_file");
			return -1;
		}
		rc = mbedtls_x509_crt_parse_file(&ctx->cert, p->cert_file);
		if (rc)
			return fail(err, errlen, "reading certificate", p->cert_file, rc);
		rc = mbedtls_pk_parse_keyfile(&ctx->key, p->key_file, NULL);
		if (rc)
			return fail(err, errlen, "reading private key", p->key_file, rc);
		rc = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->cert, &ctx->key);
		if (rc)
			return fail(err, errlen, "certificate and key do not match", p->key_file,
				    rc);
	} else if (p->server) {
		snprintf(err, errlen, "a TLS server needs cert_file and key_file");
		return -1;
	}

	if (p->ca_file) {
		rc = mbedtls_x509_crt_parse_file(&ctx->ca, p->ca_file);
		if (rc)
			return fail(err, errlen, "reading CA certificates", p->ca_file, rc);
		mbedtls_ssl_conf_ca_chain(&ctx->conf, &ctx->ca, NULL);
	}
	if (p->server) {
		authmode = p->client_cert == TLS_CLIENT_CERT_REQUIRED ? MBEDTLS_SSL_VERIFY_REQUIRED
			   : p->client_cert == TLS_CLIENT_CERT_OPTIONAL
				   ? MBEDTLS_SSL_VERIFY_OPTIONAL
				   : MBEDTLS_SSL_VERIFY_NONE;
		if (authmode != MBEDTLS_SSL_VERIFY_NONE && !p->ca_file) {
			snprintf(err, errlen, "client certificates need ca_file (the client CA)");
			return -1;
		}
		mbedtls_ssl_conf_authmode(&ctx->conf, authmode);
		if (p->ticket_lifetime_s)
			mbedtls_ssl_conf_session_tickets_cb(&ctx->conf, ticket_write, ticket_parse,
							    ctx);
	} else {
		if (!p->ca_file) {
			snprintf(err, errlen, "a TLS client needs ca_file to verify the server");
			return -1;
		}
		mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_session_tickets(&ctx->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	}
	return 0;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	unsigned i;

	for (i = 0; i < TLS_TICKET_KEYS; i++)
		mbedtls_gcm_free(&ctx->tickets[i].gcm);
	mbedtls_pk_free(&ctx->key);
	mbedtls_x509_crt_free(&ctx->ca);
	mbedtls_x509_crt_free(&ctx->cert);
	mbedtls_ssl_config_free(&ctx->conf);
	mbedtls_ctr_drbg_free(&ctx->drbg);
	mbedtls_entropy_free(&ctx->entropy);
}

int
tls_ctx_set_ticket_keys(struct tls_ctx *ctx, const struct tls_ticket_key *keys, unsigned n)
{
	unsigned i;

	if (n > TLS_TICKET_KEYS)
		return -1;
	for (i = 0; i < TLS_TICKET_KEYS; i++) {
		ctx->tickets[i].valid = false;
		if (i >= n)
			continue;
		if (mbedtls_gcm_setkey(&ctx->tickets[i].gcm, MBEDTLS_CIPHER_ID_AES, keys[i].key,
				       TLS_TICKET_KEY_BYTES * 8) != 0)
			return -1;
		ctx->tickets[i].id = keys[i].id;
		ctx->tickets[i].valid = true;
	}
	return 0;
}

/* ---- BIO: the WANT_READ / WANT_WRITE contract ---- */

static int
bio_send(void *arg, const unsigned char *p, size_t n)
{
	struct tls_conn *c = arg;
	struct tls_buf *b = &c->tx;
	uint32_t room;

	if (b->off == b->len)
		b->off = b->len = 0;
	if (b->off && b->cap - b->len < n) {
		memmove(b->buf, b->buf + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	room = b->cap - b->len;
	if (room == 0)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (n > room)
		n = room; /* partial: mbedTLS keeps the rest and retries */
	memcpy(b->buf + b->len, p, n);
	b->len += (uint32_t)n;
	return (int)n;
}

static int
bio_recv(void *arg, unsigned char *p, size_t n)
{
	struct tls_conn *c = arg;
	struct tls_buf *b = &c->rx;
	uint32_t have = b->len - b->off;

	if (have == 0)
		return c->peer_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
	if (n > have)
		n = have;
	memcpy(p, b->buf + b->off, n);
	b->off += (uint32_t)n;
	if (b->off == b->len)
		b->off = b->len = 0;
	return (int)n;
}

int
tls_conn_init(struct tls_conn *c, struct tls_ctx *ctx, uint8_t *rxbuf, uint32_t rxcap,
	      uint8_t *txbuf, uint32_t txcap)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->rx = (struct tls_buf){ .buf = rxbuf, .cap = rxcap };
	c->tx = (struct tls_buf){ .buf = txbuf, .cap = txcap };
	c->state = TLS_HANDSHAKE;
	mbedtls_ssl_init(&c->ssl);
	if (mbedtls_ssl_setup(&c->ssl, &ctx->conf) != 0) {
		mbedtls_ssl_free(&c->ssl);
		errno = ENOMEM;
		return -1;
	}
	if (!ctx->server && ctx->server_name &&
	    mbedtls_ssl_set_hostname(&c->ssl, ctx->server_name) != 0) {
		mbedtls_ssl_free(&c->ssl);
		errno = EINVAL;
		return -1;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	return 0;
}

void
tls_conn_free(struct tls_conn *c)
{
	mbedtls_ssl_free(&c->ssl);
}

uint32_t
tls_conn_rx_space(struct tls_conn *c, uint8_t **p)
{
	struct tls_buf *b = &c->rx;

	if (b->off) {
		memmove(b->buf, b->buf + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	*p = b->buf + b->len;
	return b->cap - b->len;
}

void
tls_conn_rx_commit(struct tls_conn *c, uint32_t n)
{
	c->rx.len += n;
}

uint32_t
tls_conn_rx_push(struct tls_conn *c, const uint8_t *p, uint32_t n)
{
	uint8_t *dst;
	uint32_t room = tls_conn_rx_space(c, &dst);

	if (n > room)
		n = room;
	memcpy(dst, p, n);
	tls_conn_rx_commit(c, n);
	return n;
}

void
tls_conn_rx_eof(struct tls_conn *c)
{
	c->peer_eof = true;
}

uint32_t
tls_conn_tx_pending(const struct tls_conn *c, const uint8_t **p)
{
	*p = c->tx.buf + c->tx.off;
	return c->tx.len - c->tx.off;
}

void
tls_conn_tx_consume(struct tls_conn *c, uint32_t n)
{
	c->tx.off += n;
	if (c->tx.off >= c->tx.len)
		c->tx.off = c->tx.len = 0;
}

static enum tls_state
close_with(struct tls_conn *c, int err)
{
	c->last_error = err;
	c->state = TLS_CLOSED;
	return TLS_CLOSED;
}

enum tls_state
tls_conn_handshake(struct tls_conn *c)
{
	const char *alpn;
	int rc;

	if (c->state != TLS_HANDSHAKE)
		return c->state;
	rc = mbedtls_ssl_handshake(&c->ssl);
	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		if (rc == MBEDTLS_ERR_SSL_WANT_READ && c->peer_eof)
			return close_with(c, MBEDTLS_ERR_SSL_CONN_EOF);
		return TLS_HANDSHAKE;
	}
	if (rc)
		return close_with(c, rc);
	/* ALPN is what keeps other protocols from talking to us by accident. */
	alpn = mbedtls_ssl_get_alpn_protocol(&c->ssl);
	if (!alpn || strcmp(alpn, TLS_ALPN) != 0) {
		mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
					       MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL);
		return close_with(c, TLS_ERR_ALPN);
	}
	/* "optional" means may be absent, not may be forged. */
	if (c->ctx->server && mbedtls_ssl_get_peer_cert(&c->ssl) &&
	    mbedtls_ssl_get_verify_result(&c->ssl) != 0) {
		mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
					       MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
		return close_with(c, TLS_ERR_CLIENT_CERT);
	}
	c->state = TLS_OPEN;
	return TLS_OPEN;
}

int
tls_conn_peer_cert(const struct tls_conn *c, uint8_t sha256[32], char *subject, size_t subject_len)
{
	const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&c->ssl);

	if (c->state != TLS_OPEN || !crt || mbedtls_ssl_get_verify_result(&c->ssl) != 0)
		return -1;
	if (mbedtls_sha256_ret(crt->raw.p, crt->raw.len, sha256, 0) != 0 ||
	    mbedtls_x509_dn_gets(subject, subject_len, &crt->subject) < 0)
		return -1;
	return 0;
}

int
tls_conn_read(struct tls_conn *c, uint8_t *p, uint32_t n)
{
	int rc;

	if (c->state != TLS_OPEN)
		return -1;
	rc = mbedtls_ssl_read(&c->ssl, p, n);
	if (rc > 0)
		return rc;
	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		if (rc == MBEDTLS_ERR_SSL_WANT_READ && c->peer_eof)
			close_with(c, MBEDTLS_ERR_SSL_CONN_EOF); /* FIN without close_notify */
		return c->state == TLS_OPEN ? 0 : -1;
	}
	if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
		close_with(c, 0); /* clean end of stream */
		return -1;
	}
	/* 0: transport EOF without close_notify, i.e. possibly truncated. */
	close_with(c, rc == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : rc);
	return -1;
}

int
tls_conn_write(struct tls_conn *c, const uint8_t *p, uint32_t n)
{
	uint32_t room;
	int rc;

	if (c->state != TLS_OPEN)
		return -1;
	/*
	 * Only hand mbedTLS what fits in tx as whole records: then the BIO never
	 * takes a partial record and a WANT_WRITE never strands plaintext.
	 */
	if (c->tx.off == c->tx.len)
		c->tx.off = c->tx.len = 0;
	room = c->tx.cap - (c->tx.len - c->tx.off);
	if (room <= RECORD_OVERHEAD)
		return 0;
	if (n > room - RECORD_OVERHEAD)
		n = room - RECORD_OVERHEAD;
	if (n > MBEDTLS_SSL_OUT_CONTENT_LEN)
		n = MBEDTLS_SSL_OUT_CONTENT_LEN;
	rc = mbedtls_ssl_write(&c->ssl, p, n);
	if (rc >= 0)
		return rc;
	if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ)
		return 0;
	close_with(c, rc);
	return -1;
}

void
tls_conn_close(struct tls_conn *c)
{
	if (c->state == TLS_OPEN)
		mbedtls_ssl_close_notify(&c->ssl);
	c->state = TLS_CLOSED;
}
