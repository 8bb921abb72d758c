/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to dataplane/net's TCP: the connection block and the per-lcore table. */
#ifndef SLUICE_TCP_PVT_H
#define SLUICE_TCP_PVT_H

#include <rte_tcp.h>

#include "net_pvt.h"
#include "tcp.h"

/* RFC 9293 3.4: sequence numbers compare modulo 2^32. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define TCP_NIL UINT32_MAX /* end of an index list */
#define TCP_HDR_MIN 20
#define TCP_OPT_SPACE 40
#define TCP_WSCALE_MAX 14 /* RFC 7323 2.3 */
#define TCP_SACK_BLOCKS 3 /* with timestamps, 3 blocks fit the 40 option bytes */
#define TCP_IPV4_TTL 64

/* Connection flags. */
#define TF_ACK_NOW 0x0001    /* send an ACK at the next flush */
#define TF_TS 0x0002         /* timestamps agreed (RFC 7323 3.2) */
#define TF_WS 0x0004         /* window scaling agreed (RFC 7323 2.2) */
#define TF_SACK 0x0008       /* peer sent SACK-permitted (RFC 2018 2) */
#define TF_APP 0x0010        /* the application holds the handle */
#define TF_FIN_QUEUED 0x0020 /* send FIN after the queued data */
#define TF_FIN_SENT 0x0040
#define TF_FIN_RCVD 0x0080   /* the peer's FIN is in sequence: EOF for the reader */
#define TF_OOO_FIN 0x0100    /* a FIN arrived ahead of a hole; fin_seq holds it */
#define TF_WANT_WRITE 0x0200 /* the app asked for WRITE */
#define TF_DIRTY 0x0400      /* on the dirty list */
#define TF_RTT 0x0800        /* timing rtt_seq (no timestamps: Karn's rule) */
#define TF_RECOVERY 0x1000   /* NewReno fast recovery (RFC 6582) */
#define TF_PASSIVE 0x2000    /* from a listener */
#define TF_EVQ 0x4000        /* on the event queue */
#define TF_PERSIST 0x8000    /* zero-window probing */
#define TF_PARTIAL 0x10000   /* a partial ACK in this recovery already reset the timer */
#define TF_RDLIST 0x20000    /* READ was reported: report again while unread (level-triggered) */
#define TF_EOF_READ 0x40000  /* the reader has seen the end of the stream */
#define TF_EIFEL 0x80000     /* a fast retransmit to judge at the next new ACK (RFC 3522) */

struct tcp_ooo {
	uint32_t seq, len;
	struct rte_mbuf *m; /* data only, headers cut */
};

struct tcp_conn {
	/* identity */
	uint32_t rip;          /* network order */
	uint16_t rport, lport; /* host order */
	uint8_t state;
	uint8_t backoff, retries, dupacks;
	uint32_t flags;
	uint8_t events; /* NET_TCP_EV_* waiting for net_tcp_events */
	uint8_t ka_probes;
	uint32_t gen;
	uint32_t user;
	int err;

	/* send side (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t cwnd, ssthresh, recover;
	/* SND.MAX at the first duplicate ACK: FlightSize without Limited Transmit */
	uint32_t dup_max;
	uint16_t smss; /* payload bytes per segment, options excluded */
	uint16_t peer_mss;
	uint8_t snd_wscale, rcv_wscale;
	uint32_t rtt_seq;
	uint64_t rtt_start_ms;
	uint32_t srtt8, rttvar4, rto_ms; /* RFC 6298, srtt scaled by 8, rttvar by 4 */

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge we advertised */
	uint32_t fin_seq;
	uint32_t ts_recent, ts_off, last_ack_sent;
	uint64_t ts_recent_ms;
	uint16_t segs_unacked;
	uint16_t n_ooo;
	uint32_t sack_first; /* seq of the block holding the latest out-of-order segment */
	/* the peer's SACK reports while SND.UNA stays at sack_una: bytes and
	 * highest right edge above SND.UNA (duplicate ACKs, ack_in) */
	uint32_t sack_una, sack_bytes, sack_high;
	uint32_t rexmt_high;          /* SND.MAX when SND.UNA was last retransmitted in recovery */
	uint32_t eifel_ts, pipe_prev; /* RFC 3522 / RFC 4015: TSval of the fast retransmit */

	/* queues: receive = in-order data not yet read; send = unacknowledged + unsent */
	struct rte_mbuf *rq_head, *rq_tail;
	uint32_t rq_bytes, rq_mbufs;
	struct rte_mbuf *sq_head, *sq_tail;
	uint32_t sq_bytes,
		sq_mbufs; /* sq_head's first byte has sequence number snd_una (+1 before SYN is acked) */
	struct tcp_ooo *ooo; /* ooo_max slots, sorted by seq */

	/* timers: absolute ms, 0 = off */
	uint64_t t_rexmt, t_delack, t_keep, t_2msl;
	uint64_t last_rx_ms;

	/* lists */
	uint32_t hnext;          /* hash chain */
	uint32_t lprev, lnext;   /* in-use list (timers walk it) */
	uint32_t dnext;          /* dirty list */
	uint32_t enext;          /* event queue */
	uint32_t rnext;          /* READ reported, maybe not drained */
	uint32_t twprev, twnext; /* TIME_WAIT FIFO */
};

struct tcp_lcore {
	struct net_tcp_conf conf;
	struct tcp_conn *conns;
	uint32_t *hash; /* bucket heads */
	uint32_t hash_mask;
	uint32_t free_head;
	uint32_t used_head;
	uint32_t dirty_head, dirty_tail;
	uint32_t ev_head, ev_tail;
	uint32_t rd_head, rd_tail;
	uint32_t tw_head, tw_tail, n_tw;
	uint32_t n_used, n_half_open;
	uint32_t mbufs_held;
	uint64_t next_timer_ms;
	uint64_t challenge_window_ms;
	uint32_t challenge_count;
	uint16_t next_port;
	uint16_t n_listen;
	uint16_t listen[NET_TCP_LISTEN_MAX];
	uint8_t secret[16]; /* RFC 6528 / RFC 4987 key, from getrandom at create */
	struct net_tcp_counters cnt;
};

/* Parsed options of one segment. */
struct tcp_opts {
	bool mss_ok, ws_ok, sack_perm, ts_ok;
	uint8_t ws;
	uint16_t mss;
	uint32_t tsval, tsecr;
	uint8_t n_sack; /* SACK blocks (RFC 2018 3), at most 4 fit */
	uint32_t sack[4][2];
};

/* A segment as the state machine sees it. */
struct tcp_seg {
	uint32_t seq, ack, len; /* len: payload bytes, SYN and FIN not counted */
	uint32_t wnd;           /* raw window field */
	uint8_t flags;          /* RTE_TCP_*_FLAG */
	struct tcp_opts o;
	uint32_t src_ip;
	uint16_t sport, dport;
};

static inline uint32_t
min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint32_t
max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* mbufs the out-of-order queue holds (a slot holds a run: a chain) */
static inline uint32_t
tcp_ooo_mbufs(const struct tcp_conn *c)
{
	uint32_t n = 0;

	for (uint16_t i = 0; i < c->n_ooo; i++)
		n += c->ooo[i].m->nb_segs;
	return n;
}

static inline uint32_t
tcp_idx(const struct tcp_lcore *t, const struct tcp_conn *c)
{
	return (uint32_t)(c - t->conns);
}

static inline int64_t
tcp_handle(const struct tcp_lcore *t, const struct tcp_conn *c)
{
	return (int64_t)((uint64_t)c->gen << 32 | tcp_idx(t, c));
}

/* tcp.c */
int tcp_lcore_init(struct net_lcore *nl, const struct net_tcp_conf *conf, int socket);
void tcp_lcore_free(struct net_lcore *nl);
struct tcp_conn *tcp_lookup(struct tcp_lcore *t, uint32_t rip, uint16_t rport, uint16_t lport);
struct tcp_conn *tcp_conn_new(struct net_lcore *nl, uint32_t rip, uint16_t rport, uint16_t lport);
void tcp_conn_free(struct net_lcore *nl, struct tcp_conn *c);
void tcp_event(struct net_lcore *nl, struct tcp_conn *c, uint8_t ev);
void tcp_dirty(struct net_lcore *nl, struct tcp_conn *c);
void tcp_set_state(struct net_lcore *nl, struct tcp_conn *c, uint8_t state);
void tcp_drop_conn(struct net_lcore *nl, struct tcp_conn *c, int err);
void tcp_enter_time_wait(struct net_lcore *nl, struct tcp_conn *c);
bool tcp_is_listening(const struct tcp_lcore *t, uint16_t port);
uint32_t tcp_isn(const struct tcp_lcore *t, uint64_t now_ms, uint32_t rip, uint16_t rport,
		 uint16_t lport, uint32_t lip);
uint32_t tcp_ts_offset(const struct tcp_lcore *t, uint32_t rip, uint16_t rport, uint16_t lport);
uint32_t tcp_cookie_hash(const struct tcp_lcore *t, uint32_t rip, uint16_t rport, uint16_t lport,
			 uint32_t peer_isn, uint32_t count);
void tcp_timer_arm(struct tcp_lcore *t, uint64_t at_ms);
void tcp_rq_free(struct net_lcore *nl, struct tcp_conn *c);
void tcp_read_rearm(struct net_lcore *nl);
void tcp_sq_drop_front(struct net_lcore *nl, struct tcp_conn *c, uint32_t n);

/* tcp_in.c */
void net_tcp_input(struct net_lcore *nl, struct rte_mbuf *m);
int tcp_parse_opts(const uint8_t *p, uint32_t n, struct tcp_opts *o);

/* tcp_out.c */
uint32_t tcp_rcv_window(struct net_lcore *nl, struct tcp_conn *c);
int tcp_output(struct net_lcore *nl, struct tcp_conn *c);
int tcp_send_ctl(struct net_lcore *nl, struct tcp_conn *c, uint32_t seq, uint8_t flags);
int tcp_send_data(struct net_lcore *nl, struct tcp_conn *c, uint32_t seq, uint32_t len,
		  uint8_t flags);
int tcp_send_rst_for(struct net_lcore *nl, const struct tcp_seg *s, uint32_t dst_ip);
int tcp_send_synack_cookie(struct net_lcore *nl, const struct tcp_seg *s, uint32_t iss,
			   uint16_t mss, uint32_t tsval);
void tcp_flush(struct net_lcore *nl);
uint16_t tcp_out_room(const struct net_lcore *nl);
uint32_t tcp_ts_now(const struct net_lcore *nl, const struct tcp_conn *c);

/* tcp_timer.c */
void tcp_timers(struct net_lcore *nl);
void tcp_rtt_sample(struct tcp_lcore *t, struct tcp_conn *c, uint32_t rtt_ms);
void tcp_rexmt_arm(struct net_lcore *nl, struct tcp_conn *c);

#endif
