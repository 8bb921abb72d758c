/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transport of one session: a non-blocking kernel TCP socket, the TLS engine
 * of dataplane/tls, and size-prefixed frames on top.
 *
 *   frames out ─► out [off .. len) ─tls_conn_write─► tx_ct ─send()─► socket
 *   frames in  ◄─ in  [off .. len) ◄─tls_conn_read── rx_ct ◄─recv()── socket
 *
 * A frame is handed up only after wire_verify() accepted exactly its 4 + L
 * bytes under lim_in; L above lim_in.max_frame_bytes is refused before any
 * of it is buffered. Not thread-safe.
 */
#ifndef SLUICE_SL_CONN_H
#define SLUICE_SL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"
#include "wire.h"

#define SL_RX_CT_BYTES (18u * 1024) /* one TLS record and its header */
#define SL_TX_CT_BYTES (64u * 1024)
#define SL_IN_INITIAL (64u * 1024)

struct sl_conn {
	int fd; /* -1 when closed */
	bool tls_live;
	bool peer_closed; /* close_notify or EOF: no more input */
	struct tls_conn tls;
	uint8_t *rx_ct;
	uint8_t *tx_ct;
	uint8_t *in; /* plaintext received, frames at [in_off, in_len) */
	uint32_t in_off;
	uint32_t in_len;
	uint32_t in_cap;
	uint8_t *out; /* plaintext frames waiting for TLS */
	size_t out_off;
	size_t out_len;
	size_t out_cap;
	struct wire_limits lim_in;
	char peer[96]; /* "host:port", for messages */
};

/* Monotonic clock in ms and µs. */
uint64_t sl_now_ms(void);
uint64_t sl_now_us(void);

void sl_conn_init(struct sl_conn *k);

/*
 * Resolve host, connect (non-blocking, poll), run the TLS handshake, all
 * before deadline_ms (sl_now_ms() clock). Returns 0, or -SLUICE_E_RESOLVE /
 * CONNECT / TLS / TIMEOUT / NOMEM with a message for a person in err.
 */
int sl_conn_open(struct sl_conn *k, struct tls_ctx *tls, const char *host, uint16_t port,
		 uint64_t deadline_ms, char *err, size_t errlen);

/* Queue one frame for sending (copied). 0 or -SLUICE_E_NOMEM. */
int sl_conn_send(struct sl_conn *k, const void *frame, size_t len);

/*
 * One round: push queued output as far as the socket takes it, wait up to
 * timeout_ms (0: do not wait) for input, read and decrypt what arrived.
 * Returns 0 (input may have ended: see peer_closed), or -SLUICE_E_CLOSED /
 * TLS / NOMEM with a message.
 */
int sl_conn_io(struct sl_conn *k, int timeout_ms, char *err, size_t errlen);

/* Push queued output without reading or waiting. 0 or negative as sl_conn_io(). */
int sl_conn_push(struct sl_conn *k, char *err, size_t errlen);

/*
 * Next verified frame: 1 with *frame, *len (valid until the next sl_conn_io
 * or sl_conn_close), 0 when no whole frame is buffered, -SLUICE_E_PROTOCOL
 * with the verifier's check and byte in err.
 */
int sl_conn_next(struct sl_conn *k, const uint8_t **frame, uint32_t *len, char *err, size_t errlen);

/* True while output is queued (plaintext or ciphertext). */
bool sl_conn_out_pending(const struct sl_conn *k);

/*
 * Close. graceful: push queued output and a TLS close_notify, waiting at
 * most until deadline_ms. Frees the buffers; k can be opened again.
 */
void sl_conn_close(struct sl_conn *k, bool graceful, uint64_t deadline_ms);

#endif
