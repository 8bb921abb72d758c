/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP output: segments built in fresh mbufs (headers, options, a copy of the
 * send queue's bytes), what the windows allow (RFC 5681 congestion window,
 * peer's window, sender SWS avoidance), ACKs with SACK blocks, and the
 * dirty-list flush that net_output drives.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>

#include "tcp_pvt.h"

#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACK_PERM 4
#define OPT_SACK 5
#define OPT_TS 8
#define OUT_RESERVE 8 /* output slots kept for ARP and ICMP */
#define SACK_RUNS 8   /* runs of the out-of-order queue considered for SACK blocks */

uint16_t
tcp_out_room(const struct net_lcore *nl)
{
	return nl->n_out + OUT_RESERVE >= NET_OUT_MAX
		       ? 0
		       : (uint16_t)(NET_OUT_MAX - OUT_RESERVE - nl->n_out - nl->n_pending);
}

uint32_t
tcp_ts_now(const struct net_lcore *nl, const struct tcp_conn *c)
{
	return (uint32_t)nl->now_ms + c->ts_off;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Everything about a segment but its payload source. */
struct seg_spec {
	uint32_t dst_ip;
	uint16_t sport, dport; /* host order */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint8_t optlen;
	uint8_t opt[TCP_OPT_SPACE];
};

/* Copy len send-queue bytes starting off bytes past snd_una into dst. */
static void
sq_copy(const struct tcp_conn *c, uint32_t off, uint32_t len, uint8_t *dst)
{
	const struct rte_mbuf *m = c->sq_head;

	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (len > 0 && m != NULL) {
		uint32_t k = min32(len, (uint32_t)m->data_len - off);

		memcpy(dst, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), k);
		dst += k;
		len -= k;
		off = 0;
		m = m->next;
	}
}

static int
seg_emit(struct net_lcore *nl, const struct seg_spec *s, const struct tcp_conn *data_c,
	 uint32_t data_off, uint32_t data_len)
{
	struct tcp_lcore *t = nl->tcp;
	/* RFC 9293 3.1: "The TCP header padding is used to ensure that the TCP
	 * header ends, and data begins, on a 32-bit boundary. The padding is
	 * composed of zeros." (a SYN without TSopt has 6 or 10 option bytes) */
	uint16_t thl = (uint16_t)(TCP_HDR_MIN + RTE_ALIGN_CEIL(s->optlen, 4));
	uint16_t total = (uint16_t)(sizeof(struct rte_ipv4_hdr) + thl + data_len);
	struct rte_ipv4_hdr *ih;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;

	m = rte_pktmbuf_alloc(nl->pool);
	if (m == NULL) {
		nl->cnt.drops[NET_E_NO_MBUF]++;
		return -NET_E_NO_MBUF;
	}
	if (rte_pktmbuf_tailroom(m) < total || rte_pktmbuf_headroom(m) < RTE_ETHER_HDR_LEN) {
		rte_pktmbuf_free(m);
		nl->cnt.drops[NET_E_TCP_SEG_TOO_BIG]++;
		return -NET_E_TCP_SEG_TOO_BIG;
	}
	ih = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, total);
	th = (struct rte_tcp_hdr *)(ih + 1);
	*ih = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16(total),
		.packet_id = rte_cpu_to_be_16(nl->ip_id++),
		/* RFC 1122 3.2.1.4 / RFC 6864: DF set, so the ID need not be unique */
		.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG),
		.time_to_live = TCP_IPV4_TTL,
		.next_proto_id = IPPROTO_TCP,
		.src_addr = nl->ip,
		.dst_addr = s->dst_ip,
	};
	th->src_port = rte_cpu_to_be_16(s->sport);
	th->dst_port = rte_cpu_to_be_16(s->dport);
	th->sent_seq = rte_cpu_to_be_32(s->seq);
	th->recv_ack = rte_cpu_to_be_32(s->ack);
	th->data_off = (uint8_t)((thl / 4) << 4);
	th->tcp_flags = s->flags;
	th->rx_win = rte_cpu_to_be_16(s->wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	memcpy(th + 1, s->opt, s->optlen);
	memset((uint8_t *)(th + 1) + s->optlen, 0, thl - TCP_HDR_MIN - s->optlen);
	if (data_len > 0)
		sq_copy(data_c, data_off, data_len, (uint8_t *)th + thl);
	if (t->conf.tx_tcp_cksum) {
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = sizeof(*ih);
		m->l4_len = thl;
		th->cksum = rte_ipv4_phdr_cksum(ih, m->ol_flags);
	} else {
		m->ol_flags = 0;
		th->cksum = rte_ipv4_udptcp_cksum(ih, th);
	}
	t->cnt.segs_out++;
	t->cnt.bytes_out += data_len;
	return net_ipv4_send(nl, m);
}

/* Our receive window now, in bytes (unscaled), honouring: no shrinking of
 * the right edge, receiver SWS avoidance, memory pressure. */
uint32_t
tcp_rcv_window(struct net_lcore *nl, struct tcp_conn *c)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t space = t->conf.rcv_buf > c->rq_bytes ? t->conf.rcv_buf - c->rq_bytes : 0;
	uint32_t offered = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t conn_mbufs = c->rq_mbufs + tcp_ooo_mbufs(c);
	uint32_t wnd;

	/* Memory pressure: past 3/4 of the lcore's mbuf budget, or when this
	 * connection's segments are small enough to hold many mbufs for few
	 * bytes, the right edge stops moving: the window closes as data
	 * arrives and opens again as the reader drains it. */
	if (t->mbufs_held >= t->conf.mem_mbufs / 4 * 3 || conn_mbufs >= t->conf.rcv_buf / 256) {
		t->cnt.mem_pressure_windows++;
		return offered;
	}
	wnd = min32(space, (uint32_t)65535 << c->rcv_wscale);
	wnd &= ~((1u << c->rcv_wscale) - 1);
	/* RFC 9293 3.8.6.2.2: "the receiver should not shrink the window, i.e.,
	 * move the right window edge to the left" */
	if (wnd < offered)
		return offered;
	/* RFC 9293 3.8.6.2.2 (SWS avoidance): move the edge only when it can
	 * move by at least min(RCV.BUFF/2, Eff.snd.MSS). */
	if (wnd - offered < min32(t->conf.rcv_buf / 2, (uint32_t)c->smss) && offered > 0)
		return offered;
	return wnd;
}

static uint8_t
opts_syn(struct net_lcore *nl, struct tcp_conn *c, uint8_t *o)
{
	uint8_t n = 0;
	uint16_t mss = nl->tcp->conf.mss;
	bool active = c->state == NET_TCP_SYN_SENT;

	o[n++] = OPT_MSS;
	o[n++] = 4;
	o[n++] = (uint8_t)(mss >> 8);
	o[n++] = (uint8_t)mss;
	/* RFC 2018 2: SACK-permitted "MUST NOT be sent on non-SYN segments";
	 * on a SYN-ACK only if the peer offered it. */
	if (active || (c->flags & TF_SACK)) {
		o[n++] = OPT_SACK_PERM;
		o[n++] = 2;
	} else {
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
	}
	/* RFC 7323 3.2: a SYN-ACK carries TSopt only if the SYN did. */
	if (active || (c->flags & TF_TS)) {
		o[n++] = OPT_TS;
		o[n++] = 10;
		put32(o + n, tcp_ts_now(nl, c));
		put32(o + n + 4, active ? 0 : c->ts_recent);
		n += 8;
	}
	/* RFC 7323 2.2: WSopt in a SYN-ACK only when the SYN had it. */
	if (active || (c->flags & TF_WS)) {
		o[n++] = OPT_NOP;
		o[n++] = OPT_WS;
		o[n++] = 3;
		o[n++] = c->rcv_wscale;
	}
	return n;
}

/* Timestamps and SACK blocks on a non-SYN segment. */
static uint8_t
opts_est(struct net_lcore *nl, struct tcp_conn *c, uint8_t *o, bool with_ack, uint32_t data_len)
{
	uint8_t n = 0;
	unsigned max_blocks = (c->flags & TF_TS) ? 3 : 4;
	/* RFC 9293 3.7.1: options and data together stay within the MSS (the
	 * MSS assumes bare headers), so SACK blocks only go where they fit. */
	uint32_t room = c->smss + ((c->flags & TF_TS) ? 12u : 0u);

	room = room > data_len ? room - data_len : 0;

	if (c->flags & TF_TS) {
		/* RFC 7323 3.2: "Once TSopt has been successfully negotiated ...
		 * the TSopt MUST be sent in every non-<RST> segment" */
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
		o[n++] = OPT_TS;
		o[n++] = 10;
		put32(o + n, tcp_ts_now(nl, c));
		put32(o + n + 4, c->ts_recent);
		n += 8;
	}
	room = room > n ? room - n : 0;
	if (room >= 12)
		max_blocks = min32(max_blocks, (room - 4) / 8);
	else
		max_blocks = 0;
	if (with_ack && (c->flags & TF_SACK) && c->n_ooo > 0 && max_blocks > 0) {
		/* RFC 2018 4: "The first SACK block (i.e., the one immediately
		 * following the kind and length fields in the option) MUST specify
		 * the contiguous block of data containing the segment which
		 * triggered this ACK"; then others, as many as fit. Our blocks are
		 * the out-of-order queue's runs of contiguous segments. */
		uint32_t start[SACK_RUNS], end[SACK_RUNS];
		unsigned nb = 0, first = 0;

		for (uint16_t i = 0; i < c->n_ooo && nb < SACK_RUNS; i++) {
			const struct tcp_ooo *q = &c->ooo[i];

			if (nb > 0 && end[nb - 1] == q->seq) {
				end[nb - 1] = q->seq + q->len;
				continue;
			}
			start[nb] = q->seq;
			end[nb] = q->seq + q->len;
			nb++;
		}
		for (unsigned b = 0; b < nb; b++)
			if (SEQ_LEQ(start[b], c->sack_first) && SEQ_LT(c->sack_first, end[b]))
				first = b;
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
		o[n++] = OPT_SACK;
		uint8_t *len = &o[n++];
		unsigned out = 0;

		put32(o + n, start[first]);
		put32(o + n + 4, end[first]);
		n += 8;
		out++;
		for (unsigned b = 0; b < nb && out < max_blocks; b++) {
			if (b == first)
				continue;
			put32(o + n, start[b]);
			put32(o + n + 4, end[b]);
			n += 8;
			out++;
		}
		*len = (uint8_t)(2 + 8 * out);
	}
	return n;
}

/* After a segment that acknowledges: bookkeeping of what the peer now knows. */
static void
acked_sent(struct net_lcore *nl, struct tcp_conn *c, uint32_t wnd)
{
	c->last_ack_sent = c->rcv_nxt;
	if (SEQ_GT(c->rcv_nxt + wnd, c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + wnd;
	c->flags &= ~TF_ACK_NOW;
	c->t_delack = 0;
	c->segs_unacked = 0;
	(void)nl;
}

static int
conn_seg(struct net_lcore *nl, struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct seg_spec s = {
		.dst_ip = c->rip,
		.sport = c->lport,
		.dport = c->rport,
		.seq = seq,
		.flags = flags,
	};
	uint32_t wnd = 0;
	int rc;

	if (flags & RTE_TCP_SYN_FLAG) {
		s.optlen = opts_syn(nl, c, s.opt);
		/* RFC 7323 2.2: "The window field in a segment where the SYN bit
		 * is set (i.e., a <SYN> or <SYN,ACK>) MUST NOT be scaled." */
		wnd = min32(nl->tcp->conf.rcv_buf, 65535u);
		s.wnd = (uint16_t)wnd;
	} else if (!(flags & RTE_TCP_RST_FLAG)) {
		s.optlen = opts_est(nl, c, s.opt, (flags & RTE_TCP_ACK_FLAG) != 0, len);
		wnd = tcp_rcv_window(nl, c);
		s.wnd = (uint16_t)min32(wnd >> c->rcv_wscale, 65535u);
	}
	if (flags & RTE_TCP_ACK_FLAG)
		s.ack = c->rcv_nxt;
	rc = seg_emit(nl, &s, c, seq - c->snd_una, len);
	if (flags & RTE_TCP_ACK_FLAG)
		acked_sent(nl, c, wnd);
	return rc;
}

int
tcp_send_ctl(struct net_lcore *nl, struct tcp_conn *c, uint32_t seq, uint8_t flags)
{
	if (flags & RTE_TCP_SYN_FLAG && c->state == NET_TCP_SYN_RECEIVED)
		flags |= RTE_TCP_ACK_FLAG;
	return conn_seg(nl, c, seq, 0, flags);
}

int
tcp_send_data(struct net_lcore *nl, struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	return conn_seg(nl, c, seq, len, flags);
}

int
tcp_send_rst_for(struct net_lcore *nl, const struct tcp_seg *g, uint32_t dst_ip)
{
	struct seg_spec s = {
		.dst_ip = dst_ip,
		.sport = g->dport,
		.dport = g->sport,
	};

	/* RFC 9293 3.10.7.1 (CLOSED): "If the ACK bit is off, sequence number
	 * zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. If the ACK
	 * bit is on, <SEQ=SEG.ACK><CTL=RST>" (SYN and FIN count in SEG.LEN). */
	if (g->flags & RTE_TCP_ACK_FLAG) {
		s.seq = g->ack;
		s.flags = RTE_TCP_RST_FLAG;
	} else {
		s.seq = 0;
		s.ack = g->seq + g->len + !!(g->flags & RTE_TCP_SYN_FLAG) +
			!!(g->flags & RTE_TCP_FIN_FLAG);
		s.flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	nl->tcp->cnt.resets_sent++;
	return seg_emit(nl, &s, NULL, 0, 0);
}

int
tcp_send_synack_cookie(struct net_lcore *nl, const struct tcp_seg *g, uint32_t iss, uint16_t mss,
		       uint32_t tsval)
{
	struct seg_spec s = {
		.dst_ip = g->src_ip,
		.sport = g->dport,
		.dport = g->sport,
		.seq = iss,
		.ack = g->seq + 1,
		.flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
		.wnd = (uint16_t)min32(nl->tcp->conf.rcv_buf, 65535u),
	};
	uint8_t *o = s.opt, n = 0;

	o[n++] = OPT_MSS;
	o[n++] = 4;
	o[n++] = (uint8_t)(mss >> 8);
	o[n++] = (uint8_t)mss;
	if (g->o.sack_perm && g->o.ts_ok) {
		o[n++] = OPT_SACK_PERM;
		o[n++] = 2;
	} else {
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
	}
	/* Without timestamps the cookie cannot carry the window scale or SACK,
	 * so neither is offered (RFC 4987 3.6: cookies "cannot encode all TCP
	 * options"). */
	if (g->o.ts_ok) {
		o[n++] = OPT_TS;
		o[n++] = 10;
		put32(o + n, tsval);
		put32(o + n + 4, g->o.tsval);
		n += 8;
		if (g->o.ws_ok) {
			uint8_t ws = 0;

			while (ws < TCP_WSCALE_MAX && (65535u << ws) < nl->tcp->conf.rcv_buf)
				ws++;
			o[n++] = OPT_NOP;
			o[n++] = OPT_WS;
			o[n++] = 3;
			o[n++] = ws;
		}
	}
	s.optlen = n;
	nl->tcp->cnt.syn_cookies_sent++;
	return seg_emit(nl, &s, NULL, 0, 0);
}

static void
fin_sent(struct net_lcore *nl, struct tcp_conn *c)
{
	c->flags |= TF_FIN_SENT;
	/* RFC 9293 3.10.4 CLOSE: ESTABLISHED "enter FIN-WAIT-1"; CLOSE-WAIT
	 * "enter LAST-ACK" -- once the FIN is formed after the queued data. */
	if (c->state == NET_TCP_ESTABLISHED)
		tcp_set_state(nl, c, NET_TCP_FIN_WAIT_1);
	else if (c->state == NET_TCP_CLOSE_WAIT)
		tcp_set_state(nl, c, NET_TCP_LAST_ACK);
}

/*
 * Send what the windows allow, then an ACK if one is owed and nothing
 * carried it. 0, or -1 when the output queue is full (call again).
 */
int
tcp_output(struct net_lcore *nl, struct tcp_conn *c)
{
	bool sent = false;
	uint32_t win, fin_seq, sacked = 0;

	switch (c->state) {
	case NET_TCP_ESTABLISHED:
	case NET_TCP_CLOSE_WAIT:
	case NET_TCP_FIN_WAIT_1:
	case NET_TCP_CLOSING:
	case NET_TCP_LAST_ACK:
		break;
	case NET_TCP_FIN_WAIT_2:
	case NET_TCP_TIME_WAIT:
		if (c->flags & TF_ACK_NOW)
			tcp_send_ctl(nl, c, c->snd_max, RTE_TCP_ACK_FLAG);
		return 0;
	default:
		c->flags &= ~TF_ACK_NOW;
		return 0;
	}
	/* RFC 5681 2: the sender uses the smaller of cwnd and rwnd. RFC 5681
	 * 3.2 step 1 (Limited Transmit): on the first two duplicate ACKs, new
	 * data may take "the total FlightSize ... [to] cwnd plus 2*SMSS", and
	 * "the TCP sender MUST NOT change cwnd to reflect these two segments". */
	win = c->cwnd;
	if (!(c->flags & TF_RECOVERY) && c->dupacks > 0 && c->dupacks < 3 &&
	    c->snd_nxt == c->snd_max)
		win += (uint32_t)c->dupacks * c->smss;
	win = min32(c->snd_wnd, win);
	/* Bytes the peer SACKed above SND.UNA, while in recovery. */
	if ((c->flags & (TF_RECOVERY | TF_SACK)) == (TF_RECOVERY | TF_SACK) &&
	    c->sack_una == c->snd_una)
		sacked = c->sack_bytes;
	fin_seq = c->snd_una + c->sq_bytes;
	for (;;) {
		uint32_t off = c->snd_nxt - c->snd_una;
		uint32_t avail = off < c->sq_bytes ? c->sq_bytes - off : 0;
		uint32_t usable = win > off ? win - off : 0;
		uint32_t pipe = off > sacked ? off - sacked : 0;

		/* RFC 6675 5 (C): in recovery send "if cwnd - pipe >= 1 SMSS", pipe
		 * leaving out what was SACKed and cwnd being ssthresh. Whichever of
		 * this and NewReno's inflated cwnd allows more: after a fast
		 * retransmit whose flight was all SACKed no duplicate ACK comes to
		 * inflate cwnd, and a lost ACK for the retransmission would stall
		 * the connection until the RTO. */
		if (sacked > 0 && c->ssthresh > pipe && c->snd_wnd > off)
			usable = max32(usable, min32(c->ssthresh - pipe, c->snd_wnd - off));
		uint32_t len = min32(min32(avail, usable), (uint32_t)c->smss);
		bool fin = (c->flags & TF_FIN_QUEUED) && SEQ_LEQ(c->snd_nxt, fin_seq) &&
			   off + len == c->sq_bytes;
		uint8_t flags = RTE_TCP_ACK_FLAG;

		if (len == 0 && !fin)
			break;
		/* RFC 9293 3.8.6.2.1 (sender SWS avoidance): send a full segment,
		 * or all that is queued (no Nagle: jobs want latency; RFC 1122
		 * 4.2.3.4 lets the application turn Nagle off), or at least half
		 * the largest window the peer offered; otherwise wait. */
		if (len < c->smss && len < avail && len < c->max_snd_wnd / 2)
			break;
		if (tcp_out_room(nl) == 0)
			return -1;
		if (fin)
			flags |= RTE_TCP_FIN_FLAG;
		if (len > 0 && off + len == c->sq_bytes)
			flags |= RTE_TCP_PSH_FLAG;
		if (SEQ_LT(c->snd_nxt, c->snd_max)) {
			nl->tcp->cnt.retransmits++;
		} else if (!(c->flags & (TF_TS | TF_RTT)) && len > 0) {
			/* RFC 6298 3 (Karn): time only first transmissions */
			c->flags |= TF_RTT;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start_ms = nl->now_ms;
		}
		tcp_send_data(nl, c, c->snd_nxt, len, flags);
		c->snd_nxt += len + (fin ? 1 : 0);
		if (fin)
			fin_sent(nl, c);
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (c->t_rexmt == 0 || (c->flags & TF_PERSIST)) {
			c->flags &= ~TF_PERSIST;
			tcp_rexmt_arm(nl, c);
		}
		sent = true;
		if (fin)
			break;
	}
	if (!sent && (c->flags & TF_ACK_NOW)) {
		/* RFC 9293 3.10.7.4: "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>", SND.NXT
		 * being the highest we sent (snd_max: an RTO moves snd_nxt back to
		 * resend). From snd_nxt the ACK would fall below what the peer
		 * already has and be refused -- its ACK field with it -- until the
		 * resending caught up. Kept within the peer's window, as Linux's
		 * tcp_acceptable_seq does, should it have shrunk. */
		uint32_t seq = c->snd_max;

		if (SEQ_GT(seq, c->snd_una + c->snd_wnd) &&
		    SEQ_GEQ(c->snd_una + c->snd_wnd, c->snd_nxt))
			seq = c->snd_una + c->snd_wnd;
		if (tcp_out_room(nl) == 0)
			return -1;
		tcp_send_ctl(nl, c, seq, RTE_TCP_ACK_FLAG);
	}
	/* RFC 9293 3.8.6.1: with data queued that the peer's window keeps us
	 * from sending and nothing in flight to bring an update, probe. The
	 * persist timer shares the retransmission slot. */
	if (c->sq_bytes > c->snd_nxt - c->snd_una && c->snd_una == c->snd_max && c->t_rexmt == 0) {
		c->flags |= TF_PERSIST;
		tcp_rexmt_arm(nl, c);
	}
	return 0;
}

void
tcp_flush(struct net_lcore *nl)
{
	struct tcp_lcore *t = nl->tcp;

	while (t->dirty_head != TCP_NIL) {
		struct tcp_conn *c = &t->conns[t->dirty_head];

		if (tcp_output(nl, c) < 0)
			return; /* output full: stays first on the list */
		t->dirty_head = c->dnext;
		if (t->dirty_head == TCP_NIL)
			t->dirty_tail = TCP_NIL;
		c->flags &= ~TF_DIRTY;
		c->dnext = TCP_NIL;
	}
}
