/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice's TCP (RFC 9293) on the per-lcore stack of net.h. A protocol engine
 * with no I/O: segments come in through net_input, go out through
 * net_output, and time moves with net_timer.
 *
 *   net_input ─► ipv4 ─► tcp_input ─► listener: SYN ─► half-open (or a SYN cookie)
 *                                  └► connection ─► state machine ─► receive queue
 *                                                                 └► events
 *   net_tcp_send ─► send queue ─┐
 *   ACKs, window updates ───────┴► dirty list ─► net_output: segments (NewReno, RTO)
 *   net_timer ─► retransmission, delayed ACK, persist, keepalive, TIME_WAIT
 *
 * Connections are handles (slot and generation), never pointers. The
 * application reacts to events read with net_tcp_events: ACCEPT (a passive
 * connection is established), CONNECTED (an active open finished), READ
 * (bytes or the peer's FIN wait), WRITE (send space again after a short
 * send), CLOSED (reset, timeout or refused: only net_tcp_close is left to
 * do). Every handle the stack gave out must be given back with
 * net_tcp_close; after that the stack finishes the connection (FIN, TIME_WAIT)
 * on its own.
 *
 * Memory is fixed at net_lcore_create: the connection table, its hash, and
 * the out-of-order slots. Data lives in mbufs from the stack's pool, capped
 * per connection (rcv_buf, snd_buf) and per lcore (mem_mbufs); when the lcore
 * nears its cap the advertised windows stop opening (memory pressure).
 */
#ifndef SLUICE_TCP_H
#define SLUICE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct net_lcore;
struct rte_mbuf;

#define NET_TCP_LISTEN_MAX 8

/* Sizes and timers; a zero field takes the default in brackets. */
struct net_tcp_conf {
	uint32_t max_conns;           /* connections of every state incl. TIME_WAIT [4096] */
	uint32_t syn_backlog;         /* half-open connections before SYN cookies [256] */
	uint32_t time_wait_max;       /* TIME_WAIT connections kept; oldest recycled [1024] */
	uint32_t rcv_buf;             /* receive window bytes per connection [262144] */
	uint32_t snd_buf;             /* send queue bytes per connection [262144] */
	uint16_t ooo_max;             /* out-of-order runs (chained segments) per connection [64] */
	uint16_t mss;                 /* our MSS [1460: a 1500-byte MTU] */
	uint32_t mem_mbufs;           /* mbufs all connections may hold [pool size / 2] */
	uint32_t delack_ms;           /* delayed ACK [40] */
	uint32_t rto_init_ms;         /* RTO before any RTT sample [1000, RFC 6298 2.1] */
	uint32_t rto_min_ms;          /* [200] */
	uint32_t rto_max_ms;          /* [60000, RFC 6298 2.5] */
	uint8_t max_retries;          /* data retransmissions before ETIMEDOUT [12] */
	uint8_t syn_retries;          /* SYN / SYN-ACK retransmissions [6] */
	uint32_t msl_ms;              /* TIME_WAIT lasts 2 MSL [30000] */
	uint32_t fin_wait2_ms;        /* FIN-WAIT-2 after our close with no FIN [60000] */
	uint32_t keepalive_ms;        /* idle time before probing; 0: off (RFC 1122 4.2.3.6) */
	uint32_t keepalive_intvl_ms;  /* [75000] */
	uint8_t keepalive_probes;     /* [9] */
	uint32_t challenge_ack_per_s; /* RFC 5961 7 rate limit [1000] */
	bool tx_tcp_cksum;            /* the port fills TCP checksums */
	bool rx_tcp_cksum;            /* the port verifies TCP checksums */
};

enum net_tcp_state {
	NET_TCP_FREE = 0,
	NET_TCP_SYN_SENT,
	NET_TCP_SYN_RECEIVED,
	NET_TCP_ESTABLISHED,
	NET_TCP_FIN_WAIT_1,
	NET_TCP_FIN_WAIT_2,
	NET_TCP_CLOSE_WAIT,
	NET_TCP_CLOSING,
	NET_TCP_LAST_ACK,
	NET_TCP_TIME_WAIT,
	NET_TCP_CLOSED, /* reset or timed out; waits for net_tcp_close */
};

const char *net_tcp_state_name(int state);

#define NET_TCP_EV_ACCEPT 0x01
#define NET_TCP_EV_CONNECTED 0x02
#define NET_TCP_EV_READ 0x04
#define NET_TCP_EV_WRITE 0x08
#define NET_TCP_EV_CLOSED 0x10

struct net_tcp_event {
	int64_t handle;
	uint32_t user;       /* set with net_tcp_set_user */
	uint8_t flags;       /* NET_TCP_EV_*, several at once */
	int err;             /* CLOSED: ECONNRESET, ETIMEDOUT, ECONNREFUSED */
	uint32_t peer_ip;    /* network order */
	uint16_t peer_port;  /* host order */
	uint16_t local_port; /* host order */
};

/* Per-lcore TCP counters beyond the drops (cnt.drops[NET_E_TCP_*]). */
struct net_tcp_counters {
	uint64_t segs_in, segs_out;
	uint64_t bytes_in, bytes_out; /* payload, first transmissions and retransmissions */
	uint64_t accepts, connects, resets_sent, resets_received;
	uint64_t retransmits, rto_fired, fast_retransmits, partial_acks;
	uint64_t syn_cookies_sent, syn_cookies_accepted;
	uint64_t challenge_acks, dup_acks_sent, ooo_queued;
	uint64_t delayed_acks, zero_window_probes, keepalives;
	uint64_t time_wait_recycled, timeouts, mem_pressure_windows;
	uint64_t cksum_hw;
	uint64_t spurious_rexmits; /* fast retransmits undone (RFC 3522 / RFC 4015) */
};

/* A snapshot of one connection, for tests and diagnostics. */
struct net_tcp_info {
	uint8_t state;
	uint32_t snd_una, snd_nxt, snd_max, snd_wnd, cwnd, ssthresh, rto_ms, srtt_ms;
	uint32_t rcv_nxt, rcv_wnd; /* rcv_wnd: as last advertised, unscaled */
	uint8_t snd_wscale, rcv_wscale;
	bool ts, sack;
	uint16_t mss;
	uint32_t unread; /* bytes in the receive queue */
	uint32_t unsent; /* bytes queued and not acknowledged */
	uint16_t ooo;    /* runs of contiguous segments in the out-of-order queue */
	uint8_t backoff; /* RTO doublings in a row */
	uint8_t dupacks;
	bool in_recovery;
};

/* Listen on port (host order). 0, -EADDRINUSE, -ENOSPC (NET_TCP_LISTEN_MAX). */
int net_tcp_listen(struct net_lcore *nl, uint16_t port);

/* Open a connection to ip:port (network order ip, host order port). A handle
 * (>= 0); the CONNECTED or CLOSED event follows. -ENOSPC (no slot, no port),
 * -EHOSTUNREACH (no route), -ENOBUFS. */
int64_t net_tcp_connect(struct net_lcore *nl, uint32_t ip, uint16_t port, uint32_t user);

/* Up to n events, one per connection with all its flags. */
uint16_t net_tcp_events(struct net_lcore *nl, struct net_tcp_event *ev, uint16_t n);

/* Tag a connection; events carry the tag. want_write: report WRITE when the
 * send queue has room again. -EBADF for a stale handle. */
int net_tcp_set_user(struct net_lcore *nl, int64_t h, uint32_t user, bool want_write);

/* Copy up to n received bytes. > 0, 0 at the peer's FIN (all read),
 * -EAGAIN (nothing yet), -ECONNRESET / -ETIMEDOUT, -EBADF. */
ssize_t net_tcp_recv(struct net_lcore *nl, int64_t h, void *buf, size_t n);

/* Zero copy: take every received byte as one mbuf chain (*m, pkt_len bytes).
 * The caller frees it. Same returns as net_tcp_recv. */
ssize_t net_tcp_recv_chain(struct net_lcore *nl, int64_t h, struct rte_mbuf **m);

/* Queue up to n bytes. Bytes taken (maybe short), -EAGAIN (queue full),
 * -EPIPE (closed for sending), -ECONNRESET / -ETIMEDOUT, -EBADF. */
ssize_t net_tcp_send(struct net_lcore *nl, int64_t h, const void *buf, size_t n);

/* Queue an mbuf chain's bytes (copied into the send queue; m is freed in
 * every case). Same returns as net_tcp_send, all or nothing: -EAGAIN when the
 * whole chain does not fit. */
ssize_t net_tcp_send_mbuf(struct net_lcore *nl, int64_t h, struct rte_mbuf *m);

/* Give the handle back: FIN after the queued data (abort: RST now, queues
 * dropped). The handle is invalid afterwards. */
void net_tcp_close(struct net_lcore *nl, int64_t h, bool abort);

/* Half close: FIN after queued data, the handle stays valid for reading. */
int net_tcp_shutdown_write(struct net_lcore *nl, int64_t h);

int net_tcp_info(const struct net_lcore *nl, int64_t h, struct net_tcp_info *info);

/* Report the connection's state again at the next net_tcp_events: READ when
 * bytes or the FIN wait, CLOSED when it is closed. -EBADF for a stale handle. */
int net_tcp_notify(struct net_lcore *nl, int64_t h);

/* Connections in use (every state but FREE), and how many are half-open. */
uint32_t net_tcp_conns(const struct net_lcore *nl, uint32_t *half_open);

/* Connections still with work to do: every state but FREE, TIME_WAIT and
 * CLOSED (an application stopping waits for this to reach 0 so that its last
 * bytes and FINs get out). */
uint32_t net_tcp_active(const struct net_lcore *nl);

/* mbufs held by receive, out-of-order and send queues of all connections. */
uint32_t net_tcp_mbufs_held(const struct net_lcore *nl);

const struct net_tcp_counters *net_tcp_counters(const struct net_lcore *nl);

#endif
