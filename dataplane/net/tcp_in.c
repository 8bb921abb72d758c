/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP input: header checks, options, listeners (SYN backlog and SYN
 * cookies), and the RFC 9293 3.10.7 "SEGMENT ARRIVES" state machine with the
 * RFC 5961 hardening, RFC 7323 PAWS, RFC 5681/6582 NewReno on the ACK path,
 * and in-order / out-of-order data.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>

#include "tcp_pvt.h"

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACK_PERM 4
#define OPT_SACK 5
#define OPT_TS 8

#define MSS_DEFAULT 536        /* RFC 9293 3.7.1: without the option, assume 536 */
#define MSS_FLOOR 88           /* tiny MSS values only multiply our per-byte costs */
#define COOKIE_PERIOD_SHIFT 16 /* a cookie counter tick is 65.5 s */
#define TS_RECENT_MAX_AGE_MS (24ull * 24 * 3600 * 1000) /* RFC 7323 5.5: 24 days */

static const uint16_t cookie_mss[4] = { 536, 1220, 1440, 1460 };

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * RFC 9293 3.1 Options: "an option may begin on any octet boundary", kinds 0
 * and 1 are single octets, every other carries its length. RFC 9293 3.1:
 * "TCP implementations MUST be prepared to handle an illegal option length
 * (e.g., zero)" -- we refuse the segment. 0 or -1.
 */
int
tcp_parse_opts(const uint8_t *p, uint32_t n, struct tcp_opts *o)
{
	uint32_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < n) {
		uint8_t kind = p[i], len;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return -1;
		len = p[i + 1];
		if (len < 2 || len > n - i)
			return -1;
		switch (kind) {
		case OPT_MSS:
			if (len != 4)
				return -1;
			o->mss_ok = true;
			o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			break;
		case OPT_WS:
			if (len != 3)
				return -1;
			o->ws_ok = true;
			o->ws = p[i + 2];
			break;
		case OPT_SACK_PERM:
			if (len != 2)
				return -1;
			o->sack_perm = true;
			break;
		case OPT_SACK:
			/* RFC 2018 3: length 2 + 8 * n (n <= 4 in 40 bytes); the
			 * blocks tell duplicate ACKs (RFC 6675 2, ack_in) */
			if ((len - 2) % 8 != 0 || len == 2)
				return -1;
			o->n_sack = 0;
			for (uint32_t b = i + 2; b + 8 <= i + len && o->n_sack < 4; b += 8) {
				o->sack[o->n_sack][0] = get32(p + b);
				o->sack[o->n_sack][1] = get32(p + b + 4);
				o->n_sack++;
			}
			break;
		case OPT_TS:
			if (len != 10)
				return -1;
			o->ts_ok = true;
			o->tsval = get32(p + i + 2);
			o->tsecr = get32(p + i + 6);
			break;
		default:
			break; /* RFC 9293 3.1: unknown options are skipped by length */
		}
		i += len;
	}
	return 0;
}

/* The TCP checksum over the pseudo-header and the (maybe chained) segment. */
static bool
cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ih, uint32_t hlen, uint32_t tlen)
{
	uint16_t raw;
	uint32_t sum;

	if (rte_raw_cksum_mbuf(m, hlen, tlen, &raw) != 0)
		return false;
	sum = (uint32_t)raw + rte_ipv4_phdr_cksum(ih, 0);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Send an ACK now (at the next flush). */
static void
ack_now(struct net_lcore *nl, struct tcp_conn *c)
{
	c->flags |= TF_ACK_NOW;
	tcp_dirty(nl, c);
}

/* RFC 5961 7: "An implementation SHOULD include an ACK throttling mechanism". */
static void
challenge_ack(struct net_lcore *nl, struct tcp_conn *c)
{
	struct tcp_lcore *t = nl->tcp;

	if (nl->now_ms >= t->challenge_window_ms + 1000) {
		t->challenge_window_ms = nl->now_ms;
		t->challenge_count = 0;
	}
	if (t->challenge_count >= t->conf.challenge_ack_per_s) {
		nl->cnt.drops[NET_E_TCP_CHALLENGE_LIMIT]++;
		return;
	}
	t->challenge_count++;
	t->cnt.challenge_acks++;
	ack_now(nl, c);
}

static uint16_t
eff_mss(const struct net_lcore *nl, const struct tcp_conn *c)
{
	/* RFC 9293 3.7.1: Eff.snd.MSS = min(SendMSS + 20, MMS_S) - TCPhdrsize -
	 * IPoptionsize; our options are timestamps only on data segments. */
	uint16_t mss = min32(c->peer_mss, nl->tcp->conf.mss);

	mss = max32(mss, (uint16_t)MSS_FLOOR);
	return (uint16_t)(mss - ((c->flags & TF_TS) ? 12 : 0));
}

/* Negotiated options from the peer's SYN (or a cookie's replay of them). */
static void
take_syn_opts(struct net_lcore *nl, struct tcp_conn *c, const struct tcp_opts *o, bool active)
{
	uint8_t ws;

	c->peer_mss = o->mss_ok && o->mss > 0 ? o->mss : MSS_DEFAULT;
	/* RFC 7323 2.2: scaling applies only when both SYNs carried WSopt. */
	if (o->ws_ok) {
		c->flags |= TF_WS;
		/* RFC 7323 2.3: "If a Window Scale option is received with a
		 * shift.cnt value larger than 14, the TCP SHOULD log the error but
		 * MUST use 14 instead of the specified value." */
		c->snd_wscale = min32(o->ws, (uint8_t)TCP_WSCALE_MAX);
	} else {
		c->snd_wscale = 0;
		if (!active)
			c->rcv_wscale = 0;
	}
	if (active && !o->ws_ok)
		c->rcv_wscale = 0;
	if (!active && o->ws_ok) {
		ws = 0;
		while (ws < TCP_WSCALE_MAX && (65535u << ws) < nl->tcp->conf.rcv_buf)
			ws++;
		c->rcv_wscale = ws;
	}
	if (o->sack_perm)
		c->flags |= TF_SACK;
	if (o->ts_ok) {
		c->flags |= TF_TS;
		c->ts_recent = o->tsval;
		c->ts_recent_ms = nl->now_ms;
	}
	c->smss = eff_mss(nl, c);
}

/* RFC 5681 3.1: IW = min(4*SMSS, max(2*SMSS, 4380)) -- and RFC 6928's 10
 * segments would be faster on a LAN, but IW stays at the standard value. */
static void
cc_init(struct tcp_conn *c)
{
	uint32_t s = c->smss;

	c->cwnd = min32(4 * s, max32(2 * s, 4380u));
	c->ssthresh = UINT32_MAX / 2; /* RFC 5681 3.1: "arbitrarily high" */
	c->recover = c->iss;          /* RFC 6582 3.2 step 1 */
}

static void
established(struct net_lcore *nl, struct tcp_conn *c)
{
	struct tcp_lcore *t = nl->tcp;

	tcp_set_state(nl, c, NET_TCP_ESTABLISHED);
	c->retries = 0;
	/* RFC 6298 5.7: after a lost SYN, "the RTO MUST be re-initialized to 3
	 * seconds when data transmission begins" (no sample taken yet). */
	if (c->backoff > 0 && c->srtt8 == 0)
		c->rto_ms = max32(c->rto_ms, 3000u);
	c->backoff = 0;
	c->t_rexmt = 0;
	cc_init(c);
	if (t->conf.keepalive_ms != 0) {
		c->t_keep = nl->now_ms + t->conf.keepalive_ms;
		tcp_timer_arm(t, c->t_keep);
	}
	/* RFC 9293 3.10.2 SEND / 3.10.4 CLOSE in SYN-SENT and SYN-RECEIVED:
	 * "queue the data for transmission after entering ESTABLISHED state".
	 * tcp_output sends nothing before, so it has to run now, or bytes and a
	 * FIN queued during a simultaneous open wait forever. */
	if (c->sq_bytes > 0 || (c->flags & TF_FIN_QUEUED))
		tcp_dirty(nl, c);
	if (c->flags & TF_PASSIVE) {
		/* the accept hands the application its handle */
		c->flags |= TF_APP;
		t->cnt.accepts++;
		tcp_event(nl, c, NET_TCP_EV_ACCEPT);
	} else if (c->flags & TF_APP) {
		/* An active open the application gave back in SYN-RECEIVED
		 * (simultaneous open) stays given back: its queued FIN closes it
		 * (RFC 9293 3.10.4 CLOSE, SYN-RECEIVED), no handle comes back. */
		tcp_event(nl, c, NET_TCP_EV_CONNECTED);
	}
}

/* ---- no connection: listeners and RSTs ---- */

static uint32_t
cookie_count(const struct net_lcore *nl)
{
	return (uint32_t)(nl->now_ms >> COOKIE_PERIOD_SHIFT);
}

static void
listen_syn(struct net_lcore *nl, const struct tcp_seg *s)
{
	struct tcp_lcore *t = nl->tcp;
	struct tcp_conn *c = NULL;

	/* RFC 4987 3.6: past the SYN backlog (or with no slot left), answer
	 * with a SYN cookie and keep no state. */
	if (t->n_half_open < t->conf.syn_backlog)
		c = tcp_conn_new(nl, s->src_ip, s->sport, s->dport);
	if (c == NULL) {
		uint32_t count = cookie_count(nl), ts, iss, mi = 0, opts;
		uint16_t peer_mss = s->o.mss_ok ? s->o.mss : MSS_DEFAULT;

		for (uint32_t i = 0; i < 4; i++)
			if (cookie_mss[i] <= peer_mss)
				mi = i;
		/* ISS: 5 bits of counter, 3 of MSS index (2 used), 24 of MAC */
		iss = (count & 0x1f) << 27 | mi << 24 |
		      (tcp_cookie_hash(t, s->src_ip, s->sport, s->dport, s->seq, count) & 0xffffff);
		/* With timestamps, the low 5 bits of TSval carry the peer's window
		 * scale (15: none) and SACK-permitted, as Linux does. */
		opts = (s->o.ws_ok ? min32(s->o.ws, (uint8_t)TCP_WSCALE_MAX) : 0xfu) |
		       (s->o.sack_perm ? 0x10u : 0u);
		ts = (((uint32_t)nl->now_ms + tcp_ts_offset(t, s->src_ip, s->sport, s->dport)) &
		      ~0x1fu) |
		     opts;
		tcp_send_synack_cookie(nl, s, iss, cookie_mss[mi], ts);
		return;
	}
	c->flags |= TF_PASSIVE;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	/* nothing advertised yet: the SYN-ACK's window sets the right edge
	 * (acked_sent compares with it, so it must not be left at 0) */
	c->rcv_adv = c->rcv_nxt;
	c->iss = tcp_isn(t, nl->now_ms, s->src_ip, s->sport, s->dport, nl->ip);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	/* RFC 9293 3.10.7.2: "SND.WND <- SEG.WND" unscaled in a SYN. */
	c->snd_wnd = c->max_snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = 0;
	take_syn_opts(nl, c, &s->o, false);
	c->last_ack_sent = c->rcv_nxt;
	tcp_set_state(nl, c, NET_TCP_SYN_RECEIVED);
	tcp_send_ctl(nl, c, c->iss, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	tcp_rexmt_arm(nl, c);
}

/* An ACK for no connection on a listening port: a SYN cookie coming back?
 * NULL with *err the drop reason when it is not (or there is no slot for it). */
static struct tcp_conn *
listen_cookie_ack(struct net_lcore *nl, const struct tcp_seg *s, int *err)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t cookie = s->ack - 1, peer_isn = s->seq - 1, now = cookie_count(nl);
	struct tcp_opts o = { 0 };
	struct tcp_conn *c;
	uint32_t count;

	/* RFC 4987 3.6: the cookie is valid for a bounded time: this counter
	 * tick or the previous one. */
	if (((cookie >> 27) & 0x1f) == (now & 0x1f))
		count = now;
	else if (((cookie >> 27) & 0x1f) == ((now - 1) & 0x1f))
		count = now - 1;
	else
		return NULL;
	if ((cookie & 0xffffff) !=
	    (tcp_cookie_hash(t, s->src_ip, s->sport, s->dport, peer_isn, count) & 0xffffff))
		return NULL;
	if (((cookie >> 24) & 7) > 3)
		return NULL;
	o.mss_ok = true;
	o.mss = cookie_mss[(cookie >> 24) & 3];
	if (s->o.ts_ok) {
		uint32_t bits = s->o.tsecr & 0x1f;

		o.ts_ok = true;
		o.tsval = s->o.tsval;
		if ((bits & 0xf) != 0xf) {
			o.ws_ok = true;
			o.ws = (uint8_t)(bits & 0xf);
		}
		o.sack_perm = (bits & 0x10) != 0;
	}
	c = tcp_conn_new(nl, s->src_ip, s->sport, s->dport);
	if (c == NULL) {
		*err = NET_E_TCP_CONN_TABLE_FULL; /* counted once, by the caller */
		return NULL;
	}
	c->flags |= TF_PASSIVE;
	c->irs = peer_isn;
	c->rcv_nxt = s->seq;
	c->iss = cookie;
	c->snd_una = c->snd_nxt = c->snd_max = s->ack;
	take_syn_opts(nl, c, &o, false);
	c->snd_wnd = c->max_snd_wnd = s->wnd << c->snd_wscale;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->rcv_adv = c->rcv_nxt + min32(t->conf.rcv_buf, 65535u);
	c->last_ack_sent = c->rcv_nxt;
	t->cnt.syn_cookies_accepted++;
	established(nl, c);
	return c;
}

/* ---- data ---- */

/* Cut n bytes off the front of a (possibly chained) mbuf; returns the new head. */
static struct rte_mbuf *
cut_front(struct rte_mbuf *m, uint32_t n)
{
	while (n > 0 && n >= m->data_len && m->next != NULL) {
		struct rte_mbuf *nx = m->next;

		n -= m->data_len;
		nx->pkt_len = m->pkt_len - m->data_len;
		nx->nb_segs = (uint16_t)(m->nb_segs - 1);
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = nx;
	}
	if (n > 0)
		rte_pktmbuf_adj(m, (uint16_t)min32(n, (uint32_t)m->data_len));
	return m;
}

/* Keep the first keep bytes of a (possibly chained) mbuf. rte_pktmbuf_trim
 * only trims the last segment and refuses more: a chain needs its tail freed. */
static void
cut_back(struct rte_mbuf *m, uint32_t keep)
{
	struct rte_mbuf *s = m;
	uint32_t left = keep;
	uint16_t segs = 1;

	if (rte_pktmbuf_pkt_len(m) <= keep)
		return;
	while (left > s->data_len && s->next != NULL) {
		left -= s->data_len;
		s = s->next;
		segs++;
	}
	s->data_len = (uint16_t)left;
	if (s->next != NULL) {
		rte_pktmbuf_free(s->next);
		s->next = NULL;
	}
	m->pkt_len = keep;
	m->nb_segs = segs;
}

/* Copy n bytes from offset soff of chain src over offset doff of chain dst
 * (a received segment: ours to write, as ICMP and ARP answer in place). */
static void
overlay(struct rte_mbuf *dst, uint32_t doff, const struct rte_mbuf *src, uint32_t soff, uint32_t n)
{
	while (n > 0) {
		uint32_t k;

		while (dst != NULL && doff >= dst->data_len) {
			doff -= dst->data_len;
			dst = dst->next;
		}
		while (src != NULL && soff >= src->data_len) {
			soff -= src->data_len;
			src = src->next;
		}
		if (dst == NULL || src == NULL)
			return;
		k = min32(n, min32(dst->data_len - doff, src->data_len - soff));
		memcpy(rte_pktmbuf_mtod_offset(dst, uint8_t *, doff),
		       rte_pktmbuf_mtod_offset(src, const uint8_t *, soff), k);
		doff += k;
		soff += k;
		n -= k;
	}
}

static void
rq_append(struct net_lcore *nl, struct tcp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *last = rte_pktmbuf_lastseg(m);

	if (c->rq_tail != NULL)
		c->rq_tail->next = m;
	else
		c->rq_head = m;
	c->rq_tail = last;
	c->rq_bytes += len;
	c->rq_mbufs += m->nb_segs;
	nl->tcp->mbufs_held += m->nb_segs;
}

/* Out-of-order segments that now start at or before rcv_nxt go in order. */
static void
ooo_drain(struct net_lcore *nl, struct tcp_conn *c)
{
	uint16_t k = 0;

	while (k < c->n_ooo && SEQ_LEQ(c->ooo[k].seq, c->rcv_nxt)) {
		struct tcp_ooo *q = &c->ooo[k++];
		uint32_t end = q->seq + q->len;

		nl->tcp->mbufs_held -= q->m->nb_segs;
		if (SEQ_LEQ(end, c->rcv_nxt)) {
			rte_pktmbuf_free(q->m);
			continue;
		}
		q->m = cut_front(q->m, c->rcv_nxt - q->seq);
		rq_append(nl, c, q->m, end - c->rcv_nxt);
		c->rcv_nxt = end;
	}
	if (k > 0) {
		memmove(c->ooo, c->ooo + k, (c->n_ooo - k) * sizeof(c->ooo[0]));
		c->n_ooo = (uint16_t)(c->n_ooo - k);
	}
}

/* Keep [seq, seq+len) out of order; overlapping bytes already held win. */
static void
ooo_insert(struct net_lcore *nl, struct tcp_conn *c, struct rte_mbuf *m, uint32_t seq, uint32_t len)
{
	struct tcp_lcore *t = nl->tcp;
	uint16_t i = 0;

	while (i < c->n_ooo && SEQ_LEQ(c->ooo[i].seq, seq))
		i++;
	/* the predecessor may cover our front */
	if (i > 0) {
		uint32_t pend = c->ooo[i - 1].seq + c->ooo[i - 1].len;

		if (SEQ_GEQ(pend, seq + len)) {
			/* RFC 2018 4: the ACK this duplicate triggers still reports
			 * first "the contiguous block of data containing the segment
			 * which triggered this ACK" */
			c->sack_first = seq;
			nl->cnt.drops[NET_E_TCP_OOO_DUP]++;
			rte_pktmbuf_free(m);
			return;
		}
		if (SEQ_GT(pend, seq)) {
			m = cut_front(m, pend - seq);
			len -= pend - seq;
			seq = pend;
		}
	}
	/* successors we cover entirely go; one we overlap cuts our back */
	while (i < c->n_ooo && SEQ_GT(seq + len, c->ooo[i].seq)) {
		struct tcp_ooo *q = &c->ooo[i];

		if (SEQ_GEQ(seq + len, q->seq + q->len)) {
			/* held bytes win here too: they go over ours, then q goes */
			overlay(m, q->seq - seq, q->m, 0, q->len);
			t->mbufs_held -= q->m->nb_segs;
			rte_pktmbuf_free(q->m);
			memmove(q, q + 1, (c->n_ooo - i - 1) * sizeof(*q));
			c->n_ooo--;
			continue;
		}
		len = q->seq - seq;
		if (len == 0) {
			/* cut to the predecessor's end, what is left starts where
			 * q does and ends inside it: nothing new (an empty slot
			 * would hold an mbuf of no bytes) */
			c->sack_first = q->seq;
			nl->cnt.drops[NET_E_TCP_OOO_DUP]++;
			rte_pktmbuf_free(m);
			return;
		}
		cut_back(m, len);
		break;
	}
	/* A segment that continues a held run (or starts one right before it)
	 * joins it as a chain: a slot holds a run, so ooo_max bounds the holes,
	 * not the segments, and one loss in a window of 180 segments does not
	 * cost the 150 behind it (which the sender must then resend). */
	if (i > 0 && c->ooo[i - 1].seq + c->ooo[i - 1].len == seq) {
		struct tcp_ooo *p = &c->ooo[i - 1];
		uint16_t segs = m->nb_segs;

		if (rte_pktmbuf_chain(p->m, m) == 0) {
			p->len += len;
			t->mbufs_held += segs;
			t->cnt.ooo_queued++;
			c->sack_first = seq;
			if (i < c->n_ooo && p->seq + p->len == c->ooo[i].seq &&
			    rte_pktmbuf_chain(p->m, c->ooo[i].m) == 0) {
				p->len += c->ooo[i].len;
				memmove(&c->ooo[i], &c->ooo[i + 1],
					(c->n_ooo - i - 1) * sizeof(c->ooo[0]));
				c->n_ooo--;
			}
			return;
		}
	}
	if (i < c->n_ooo && seq + len == c->ooo[i].seq) {
		struct tcp_ooo *q = &c->ooo[i];
		uint16_t segs = m->nb_segs;

		if (rte_pktmbuf_chain(m, q->m) == 0) {
			q->m = m;
			q->seq = seq;
			q->len += len;
			t->mbufs_held += segs;
			t->cnt.ooo_queued++;
			c->sack_first = seq;
			return;
		}
	}
	if (c->n_ooo == t->conf.ooo_max) {
		nl->cnt.drops[NET_E_TCP_OOO_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	memmove(&c->ooo[i + 1], &c->ooo[i], (c->n_ooo - i) * sizeof(c->ooo[0]));
	c->ooo[i] = (struct tcp_ooo){ .seq = seq, .len = len, .m = m };
	c->n_ooo++;
	t->mbufs_held += m->nb_segs;
	t->cnt.ooo_queued++;
	c->sack_first = seq;
}

/* Bytes in [seq, seq+len), already trimmed to the window. Consumes m. */
static void
data_in(struct net_lcore *nl, struct tcp_conn *c, struct rte_mbuf *m, uint32_t seq, uint32_t len)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t conn_cap = max32(t->conf.rcv_buf / 128, 64u);

	/* Hard caps behind the soft one (tcp_rcv_window): the lcore's mbuf
	 * budget and a per-connection count of mbufs. The bytes were inside our
	 * window, so the peer will send them again. */
	if (t->mbufs_held + m->nb_segs > t->conf.mem_mbufs ||
	    c->rq_mbufs + tcp_ooo_mbufs(c) + m->nb_segs > conn_cap) {
		nl->cnt.drops[NET_E_TCP_MEM_LIMIT]++;
		rte_pktmbuf_free(m);
		ack_now(nl, c);
		return;
	}
	t->cnt.bytes_in += len;
	if (seq != c->rcv_nxt) {
		/* RFC 5681 4.2: "A TCP receiver SHOULD send an immediate duplicate
		 * ACK when an out-of-order segment arrives." */
		ooo_insert(nl, c, m, seq, len);
		t->cnt.dup_acks_sent++;
		ack_now(nl, c);
		return;
	}
	/* Bytes held out of order were accepted first: they win over this copy
	 * (as in ooo_insert), so the stream is the first copy of every byte, the
	 * same whatever order overlapping segments arrive in. */
	for (uint16_t k = 0; k < c->n_ooo && SEQ_LT(c->ooo[k].seq, seq + len); k++) {
		const struct tcp_ooo *q = &c->ooo[k];
		uint32_t end = SEQ_LT(q->seq + q->len, seq + len) ? q->seq + q->len : seq + len;

		overlay(m, q->seq - seq, q->m, 0, end - q->seq);
	}
	rq_append(nl, c, m, len);
	c->rcv_nxt += len;
	if (c->n_ooo > 0) {
		ooo_drain(nl, c);
		/* RFC 5681 4.2: "an immediate ACK ... when the incoming segment
		 * fills in all or part of a gap" */
		ack_now(nl, c);
	} else if (++c->segs_unacked >= 2) {
		/* RFC 1122 4.2.3.2: "in a stream of full-sized segments there
		 * SHOULD be an ACK for at least every second segment" */
		ack_now(nl, c);
	} else if (c->t_delack == 0) {
		c->t_delack = nl->now_ms + t->conf.delack_ms;
		tcp_timer_arm(t, c->t_delack);
	}
	tcp_event(nl, c, NET_TCP_EV_READ);
}

/* ---- ACK processing ---- */

static void
rexmt_first(struct net_lcore *nl, struct tcp_conn *c)
{
	uint32_t len = min32(c->sq_bytes, (uint32_t)c->smss);
	uint8_t flags = RTE_TCP_ACK_FLAG;

	if (len == c->sq_bytes && (c->flags & TF_FIN_SENT))
		flags |= RTE_TCP_FIN_FLAG;
	nl->tcp->cnt.retransmits++;
	c->flags &= ~TF_RTT; /* Karn */
	c->rexmt_high = c->snd_max;
	tcp_send_data(nl, c, c->snd_una, len, flags);
}

static void
cc_on_new_ack(struct net_lcore *nl, struct tcp_conn *c, uint32_t acked)
{
	uint32_t s = c->smss;

	if (c->flags & TF_RECOVERY) {
		if (SEQ_GEQ(c->snd_una, c->recover)) {
			/* RFC 6582 3.2 step 3 (full acknowledgment): "Set cwnd to
			 * either (1) min (ssthresh, max(FlightSize, SMSS) + SMSS) or
			 * (2) ssthresh" -- option (1). */
			uint32_t flight = c->snd_max - c->snd_una;

			c->cwnd = min32(c->ssthresh, max32(flight, s) + s);
			c->flags &= ~(TF_RECOVERY | TF_PARTIAL);
		} else {
			/* RFC 6582 3.2 step 3 (partial acknowledgment): retransmit
			 * the first unacknowledged segment, "deflate the congestion
			 * window by the amount of new data acknowledged ... If the
			 * partial ACK acknowledges at least one SMSS of new data, then
			 * add back SMSS bytes", and reset the timer on the first one. */
			nl->tcp->cnt.partial_acks++;
			rexmt_first(nl, c);
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : s;
			if (acked >= s)
				c->cwnd += s;
			if (!(c->flags & TF_PARTIAL)) {
				c->flags |= TF_PARTIAL;
				tcp_rexmt_arm(nl, c);
			}
			return;
		}
	} else if (c->cwnd < c->ssthresh) {
		/* RFC 5681 3.1 eq. (2): slow start, "cwnd += min (N, SMSS)" */
		c->cwnd += min32(acked, s);
	} else {
		/* RFC 5681 3.1 eq. (3): congestion avoidance, "cwnd +=
		 * SMSS*SMSS/cwnd", at least one byte */
		c->cwnd += max32(s * s / c->cwnd, 1u);
	}
	c->dupacks = 0;
}

static void
cc_on_dupack(struct net_lcore *nl, struct tcp_conn *c, uint32_t ack)
{
	uint32_t s = c->smss;

	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	if (c->flags & TF_RECOVERY) {
		/* RFC 5681 3.2 step 4: "For each additional duplicate ACK received
		 * (after the third), cwnd MUST be incremented by SMSS." */
		c->cwnd += s;
		tcp_dirty(nl, c);
		/* RFC 8985 6.2's rule ("a segment is lost if a segment sent after it
		 * has been delivered"), in sequence space since we send in order:
		 * the peer SACKed data sent after our retransmission of SND.UNA but
		 * not SND.UNA itself, so the retransmission was lost as well. Send
		 * it again rather than wait for the RTO. */
		if ((c->flags & TF_SACK) && c->sack_una == c->snd_una &&
		    SEQ_GT(c->sack_high, c->rexmt_high))
			rexmt_first(nl, c);
		return;
	}
	if (c->dupacks == 1)
		c->dup_max = c->snd_max;
	if (c->dupacks < 3) {
		/* RFC 5681 3.2 step 1 (Limited Transmit, RFC 3042): "On the first
		 * and second duplicate ACKs received at a sender, a TCP SHOULD send
		 * a segment of previously unsent data" -- tcp_output lets the
		 * flight reach cwnd + dupacks * SMSS. Without it a small window
		 * never collects three duplicates and every loss waits for the RTO. */
		tcp_dirty(nl, c);
		return;
	}
	if (c->dupacks != 3)
		return;
	/* RFC 6582 3.2 step 2: enter fast retransmit only "if the Cumulative
	 * Acknowledgment field ... covers more than recover" -- or, RFC 6582 4's
	 * point made with SACK, when the peer reports bytes sent after recover:
	 * these duplicates are not echoes of the last recovery's retransmissions
	 * but a new loss at SND.UNA (the first segment after a full ACK). */
	if (!SEQ_GT(ack - 1, c->recover) &&
	    !(c->sack_una == c->snd_una && SEQ_GT(c->sack_high, c->recover)))
		return;
	nl->tcp->cnt.fast_retransmits++;
	/* RFC 5681 3.2 step 2: "ssthresh = max (FlightSize / 2, 2*SMSS)" and
	 * "When [RFC3042] is in use, additional data sent in limited transmit
	 * MUST NOT be included in this calculation" (FlightSize as of the first
	 * duplicate ACK); step 3: retransmit the lost segment, "cwnd = ssthresh +
	 * 3*SMSS". */
	/* RFC 4015 3.2 (1): "pipe_prev <- max (FlightSize, SSThresh)" before
	 * the retransmission, and RFC 3522 2 remembers its timestamp */
	c->pipe_prev = max32(c->snd_max - c->snd_una, c->ssthresh);
	if (c->flags & TF_TS) {
		c->eifel_ts = tcp_ts_now(nl, c);
		c->flags |= TF_EIFEL;
	}
	c->ssthresh = max32((c->dup_max - c->snd_una) / 2, 2 * s);
	c->recover = c->snd_max;
	c->flags |= TF_RECOVERY;
	rexmt_first(nl, c);
	c->cwnd = c->ssthresh + 3 * s;
	tcp_dirty(nl, c); /* what the new cwnd (or RFC 6675's pipe) allows */
}

/*
 * RFC 6675 2: does this ACK carry "a SACK block that identifies previously
 * unacknowledged and un-SACKed octets"? Without a scoreboard: the blocks'
 * bytes inside (SND.UNA, SND.MAX] grew, or their highest edge did, since the
 * last report for this SND.UNA. D-SACKs (RFC 2883, below SND.UNA) and
 * blocks past what we sent count for nothing.
 */
static bool
sack_news(struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t bytes = 0, high = c->snd_una;
	bool news;

	if (!(c->flags & TF_SACK) || s->o.n_sack == 0)
		return false;
	for (uint8_t b = 0; b < s->o.n_sack; b++) {
		uint32_t l = s->o.sack[b][0], r = s->o.sack[b][1];

		/* RFC 2883 4: a first block inside the second reports a duplicate
		 * (D-SACK), not new data; counting it would count bytes twice */
		if (b == 0 && s->o.n_sack > 1 && SEQ_GEQ(l, s->o.sack[1][0]) &&
		    SEQ_LEQ(r, s->o.sack[1][1]))
			continue;

		if (SEQ_LT(l, c->snd_una))
			l = c->snd_una;
		if (SEQ_GT(r, c->snd_max) || !SEQ_LT(l, r))
			continue;
		bytes += r - l;
		if (SEQ_GT(r, high))
			high = r;
	}
	if (c->sack_una != c->snd_una) {
		c->sack_una = c->snd_una;
		c->sack_bytes = 0;
		c->sack_high = c->snd_una;
	}
	news = bytes > c->sack_bytes || SEQ_GT(high, c->sack_high);
	c->sack_bytes = max32(c->sack_bytes, bytes);
	if (SEQ_GT(high, c->sack_high))
		c->sack_high = high;
	return news;
}

/*
 * RFC 3522 2 (Eifel detection), at the first ACK of new data after a fast
 * retransmit: "if the value of the Timestamp Echo Reply field of the
 * acceptable ACK ... is smaller than the value of RetransmitTS [the
 * retransmission's timestamp], then ... the retransmission was spurious" --
 * the original arrived (it was reordered, not lost).
 */
static bool
eifel_spurious(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (!(c->flags & TF_EIFEL))
		return false;
	c->flags &= ~TF_EIFEL;
	return (c->flags & TF_RECOVERY) && s->o.ts_ok && s->o.tsecr != 0 &&
	       (int32_t)(s->o.tsecr - c->eifel_ts) < 0;
}

/* The ACK field of an acceptable segment in a synchronized state. 0 to go
 * on with the segment, -1 when it was dropped. */
static int
ack_in(struct net_lcore *nl, struct tcp_conn *c, const struct tcp_seg *s)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t ack = s->ack, wnd = s->wnd << c->snd_wscale;

	/* RFC 5961 5.2: "the ACK value is considered acceptable only if it is
	 * in the range of ((SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT)". We
	 * use SND.MAX, the highest sent, since an RTO moves SND.NXT back. */
	if (SEQ_GT(ack, c->snd_max)) {
		/* RFC 9293 3.10.7.4: "If the ACK acks something not yet sent
		 * (SEG.ACK > SND.NXT), then send an ACK, drop the segment" */
		nl->cnt.drops[NET_E_TCP_ACK_UNSENT]++;
		ack_now(nl, c);
		return -1;
	}
	if (SEQ_LT(ack, c->snd_una - c->max_snd_wnd)) {
		/* RFC 5961 5.2: "All incoming segments whose ACK value doesn't
		 * satisfy the above condition MUST be discarded and an ACK sent
		 * back." */
		nl->cnt.drops[NET_E_TCP_ACK_TOO_OLD]++;
		challenge_ack(nl, c);
		return -1;
	}
	if (SEQ_GT(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;
		uint32_t data = min32(acked, c->sq_bytes);
		uint32_t rtt = UINT32_MAX;

		/* RTT: RFC 7323 4.1 from the echoed timestamp, else RFC 6298's
		 * single timed segment (never a retransmitted one: Karn). */
		if ((c->flags & TF_TS) && s->o.ts_ok && s->o.tsecr != 0) {
			uint32_t d = tcp_ts_now(nl, c) - s->o.tsecr;

			if (d < 600000)
				rtt = d;
		} else if ((c->flags & TF_RTT) && SEQ_GT(ack, c->rtt_seq)) {
			rtt = (uint32_t)(nl->now_ms - c->rtt_start_ms);
			c->flags &= ~TF_RTT;
		}
		if (rtt != UINT32_MAX)
			tcp_rtt_sample(t, c, rtt);
		c->backoff = 0;
		c->retries = 0;
		tcp_sq_drop_front(nl, c, data);
		c->snd_una = ack;
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		if (eifel_spurious(c, s)) {
			/* RFC 4015 3.2 (7): "cwnd <- FlightSize + min (bytes_acked,
			 * IW)" and "SSThresh <- pipe_prev"; recovery is over. */
			uint32_t iw = min32(4u * c->smss, max32(2u * c->smss, 4380u));

			t->cnt.spurious_rexmits++;
			c->flags &= ~(TF_RECOVERY | TF_PARTIAL);
			c->ssthresh = c->pipe_prev;
			c->cwnd = (c->snd_max - c->snd_una) + min32(acked, iw);
			c->dupacks = 0;
		} else {
			cc_on_new_ack(nl, c, acked);
		}
		/* RFC 6298 5.2: "When all outstanding data has been acknowledged,
		 * turn off the retransmission timer." 5.3: otherwise restart it. */
		if (c->snd_una == c->snd_max)
			c->t_rexmt = 0;
		else if (!(c->flags & TF_RECOVERY))
			tcp_rexmt_arm(nl, c);
		c->flags &= ~TF_PERSIST;
		if ((c->flags & TF_WANT_WRITE) && c->sq_bytes < t->conf.snd_buf)
			tcp_event(nl, c, NET_TCP_EV_WRITE);
		tcp_dirty(nl, c);
	} else if (ack == c->snd_una && s->len == 0 &&
		   !(s->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) &&
		   c->snd_una != c->snd_max && !(c->flags & TF_PERSIST) &&
		   (sack_news(c, s) || wnd == c->snd_wnd)) {
		/* RFC 5681 2, "DUPLICATE ACKNOWLEDGMENT": outstanding data, no
		 * payload, neither SYN nor FIN, ACK = SND.UNA, same window -- or,
		 * with SACK, RFC 6675 2 "DupAck": one "carrying a SACK block that
		 * identifies previously unacknowledged and un-SACKed octets"
		 * (receivers such as Linux move the window in every ACK while they
		 * hold out-of-order data, so the same-window test alone misses
		 * them and every loss costs an RTO). */
		cc_on_dupack(nl, c, ack);
	}
	/* RFC 9293 3.10.7.4: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window
	 * should be updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and
	 * SND.WL2 =< SEG.ACK)), set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ,
	 * and set SND.WL2 <- SEG.ACK." */
	if (SEQ_LEQ(c->snd_una, ack) &&
	    (SEQ_LT(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, ack)))) {
		if (wnd > c->snd_wnd)
			tcp_dirty(nl, c);
		if (wnd > 0 && c->snd_wnd == 0 && (c->flags & TF_PERSIST)) {
			c->flags &= ~TF_PERSIST;
			c->t_rexmt = 0;
			c->backoff = 0;
			c->retries = 0; /* probes left unanswered before (on_persist) */
			/* The window opened without acknowledging the probe byte: the
			 * receiver discarded it (it was beyond a zero window, RFC 9293
			 * 3.10.7.4), so the stream goes on from SND.UNA rather than
			 * leaving a hole that only an RTO would fill. */
			c->snd_nxt = c->snd_una;
			if (c->snd_una != c->snd_max)
				tcp_rexmt_arm(nl, c);
		}
		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = ack;
		c->max_snd_wnd = max32(c->max_snd_wnd, wnd);
	}
	return 0;
}

static bool
fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TF_FIN_SENT) && c->sq_bytes == 0 && c->snd_una == c->snd_max &&
	       (c->flags & TF_FIN_QUEUED);
}

/* ---- the state machine ---- */

static void
closed_rst(struct net_lcore *nl, const struct tcp_seg *s, struct rte_mbuf *m)
{
	/* RFC 9293 3.10.7.1: "If the state is CLOSED (i.e., TCB does not exist)
	 * then all data in the incoming segment is discarded. An incoming
	 * segment containing a RST is discarded. An incoming segment not
	 * containing a RST causes a RST to be sent in response." */
	if (!(s->flags & RTE_TCP_RST_FLAG))
		tcp_send_rst_for(nl, s, s->src_ip);
	net_drop(nl, m, NET_E_TCP_NO_CONN);
}

static void
syn_sent_in(struct net_lcore *nl, struct tcp_conn *c, const struct tcp_seg *s, struct rte_mbuf *m)
{
	bool ack_ok = false;

	/* RFC 9293 3.10.7.3, first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
	 * send a reset (unless the RST bit is set, if so drop the segment and
	 * return)". */
	if (s->flags & RTE_TCP_ACK_FLAG) {
		if (SEQ_LEQ(s->ack, c->iss) || SEQ_GT(s->ack, c->snd_max)) {
			if (!(s->flags & RTE_TCP_RST_FLAG))
				tcp_send_rst_for(nl, s, s->src_ip);
			net_drop(nl, m, NET_E_TCP_SYN_SENT_BAD_ACK);
			return;
		}
		ack_ok = true;
	}
	/* second, the RST bit: "If the ACK was acceptable, then signal to the
	 * user 'error: connection reset', drop the segment, enter CLOSED" --
	 * RFC 5961 3.2 keeps this as is for SYN-SENT. */
	if (s->flags & RTE_TCP_RST_FLAG) {
		if (ack_ok) {
			nl->tcp->cnt.resets_received++;
			tcp_drop_conn(nl, c, ECONNREFUSED);
		}
		net_drop(nl, m, NET_E_TCP_LISTEN_RST);
		return;
	}
	if (!(s->flags & RTE_TCP_SYN_FLAG)) {
		net_drop(nl, m, NET_E_TCP_SYN_SENT_NO_SYN);
		return;
	}
	/* fourth, the SYN bit: "RCV.NXT is set to SEG.SEQ+1, IRS is set to
	 * SEG.SEQ. SND.UNA should be advanced to equal SEG.ACK" */
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt; /* as in listen_syn: the next SYN-ACK or ACK sets it */
	take_syn_opts(nl, c, &s->o, true);
	c->snd_wl1 = s->seq;
	if (ack_ok) {
		c->snd_una = s->ack;
		/* RFC 7323 2.2: the window of a <SYN,ACK> is not scaled */
		c->snd_wnd = c->max_snd_wnd = s->wnd;
		c->snd_wl2 = s->ack;
		if (c->flags & TF_TS && s->o.tsecr != 0)
			tcp_rtt_sample(nl->tcp, c, tcp_ts_now(nl, c) - s->o.tsecr);
		else if (c->backoff == 0)
			tcp_rtt_sample(nl->tcp, c,
				       (uint32_t)(nl->now_ms - (c->t_rexmt - c->rto_ms)));
		/* "If SND.UNA > ISS (our SYN has been ACKed), change the
		 * connection state to ESTABLISHED, form an ACK segment" */
		established(nl, c);
		/* what our SYN offered, unscaled */
		c->rcv_adv = c->rcv_nxt + min32(nl->tcp->conf.rcv_buf, 65535u);
		ack_now(nl, c);
	} else {
		/* simultaneous open: "enter SYN-RECEIVED, form a SYN,ACK" */
		c->snd_wnd = c->max_snd_wnd = s->wnd;
		tcp_set_state(nl, c, NET_TCP_SYN_RECEIVED);
		tcp_send_ctl(nl, c, c->iss, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	}
	rte_pktmbuf_free(m);
}

/* RFC 9293 3.10.7.4, first check: is the segment acceptable? */
static bool
seq_acceptable(const struct tcp_conn *c, uint32_t seq, uint32_t seglen)
{
	uint32_t rwnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	/* "Segment Length / Receive Window / Test:
	 *  0, 0: SEG.SEQ = RCV.NXT
	 *  0, >0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
	 *  >0, 0: not acceptable
	 *  >0, >0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND or
	 *          RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND" */
	if (seglen == 0) {
		if (rwnd == 0)
			return seq == c->rcv_nxt;
		return SEQ_LEQ(c->rcv_nxt, seq) && SEQ_LT(seq, c->rcv_nxt + rwnd);
	}
	if (rwnd == 0)
		return false;
	return (SEQ_LEQ(c->rcv_nxt, seq) && SEQ_LT(seq, c->rcv_nxt + rwnd)) ||
	       (SEQ_LEQ(c->rcv_nxt, seq + seglen - 1) &&
		SEQ_LT(seq + seglen - 1, c->rcv_nxt + rwnd));
}

/*
 * A bare ACK whose SEG.SEQ is the right edge of our window: the peer filled
 * the window, and its SND.NXT is RCV.NXT+RCV.WND. RFC 9293's test
 * ("RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND") refuses it, and with it its ACK
 * field, for as long as the window stays full: when the peer waits for us
 * to take its data (an echo) while we wait for it to acknowledge ours,
 * neither moves again. The segment holds no sequence space beyond the
 * window; BSD's and Linux's tests take it. Not for RST or SYN (RFC 5961).
 */
static bool
ack_at_right_edge(const struct tcp_conn *c, const struct tcp_seg *s, uint32_t seglen)
{
	return seglen == 0 && (s->flags & RTE_TCP_ACK_FLAG) &&
	       !(s->flags & (RTE_TCP_RST_FLAG | RTE_TCP_SYN_FLAG)) &&
	       SEQ_GT(c->rcv_adv, c->rcv_nxt) && s->seq == c->rcv_adv;
}

static void
conn_in(struct net_lcore *nl, struct tcp_conn *c, struct tcp_seg *s, struct rte_mbuf *m)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t seglen;
	bool fin, synack = false;

	/* RFC 9293 3.5 figure 8 (simultaneous open): in SYN-RECEIVED after our
	 * SYN-SENT, the peer's <SEQ=IRS><CTL=SYN,ACK> takes us to ESTABLISHED.
	 * Its SYN is the one already taken: what is left is the ACK. */
	if (c->state == NET_TCP_SYN_RECEIVED && !(c->flags & TF_PASSIVE) && s->seq == c->irs &&
	    (s->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) ==
		    (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) {
		s->flags &= (uint8_t)~RTE_TCP_SYN_FLAG;
		s->seq++;
		synack = true;
	}
	seglen = s->len + !!(s->flags & RTE_TCP_SYN_FLAG) + !!(s->flags & RTE_TCP_FIN_FLAG);
	/* A duplicate SYN while our SYN-ACK is unanswered: say it again. */
	if (c->state == NET_TCP_SYN_RECEIVED && (s->flags & RTE_TCP_SYN_FLAG) &&
	    !(s->flags & (RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) && s->seq == c->irs) {
		tcp_send_ctl(nl, c, c->iss, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
		rte_pktmbuf_free(m);
		return;
	}
	/* RFC 7323 3.2: "If a non-<RST> segment is received without a TSopt, a
	 * TCP SHOULD silently drop the segment." */
	if ((c->flags & TF_TS) && !s->o.ts_ok && !(s->flags & RTE_TCP_RST_FLAG)) {
		net_drop(nl, m, NET_E_TCP_NO_TIMESTAMP);
		return;
	}
	/* RFC 7323 5.3 R1 (PAWS): "If there is a Timestamps option in the
	 * arriving segment, SEG.TSval < TS.Recent, TS.Recent is valid ... and if
	 * the RST bit is not set, then treat the arriving segment as not
	 * acceptable: Send an acknowledgment in reply ... and drop the segment" */
	if ((c->flags & TF_TS) && s->o.ts_ok && !(s->flags & RTE_TCP_RST_FLAG) &&
	    (int32_t)(s->o.tsval - c->ts_recent) < 0 &&
	    nl->now_ms - c->ts_recent_ms < TS_RECENT_MAX_AGE_MS) {
		ack_now(nl, c);
		net_drop(nl, m, NET_E_TCP_PAWS);
		return;
	}
	if (!seq_acceptable(c, s->seq, seglen) && !ack_at_right_edge(c, s, seglen)) {
		/* RFC 9293 3.10.7.4: "If the RCV.WND is zero, no segments will be
		 * acceptable, but special allowance should be made to accept valid
		 * ACKs" -- the peer's ACK field still counts (ack_in checks it),
		 * or both ends could wait on each other for good. */
		if (c->rcv_adv == c->rcv_nxt && (s->flags & RTE_TCP_ACK_FLAG) &&
		    !(s->flags & (RTE_TCP_RST_FLAG | RTE_TCP_SYN_FLAG)) &&
		    c->state != NET_TCP_SYN_RECEIVED)
			(void)ack_in(nl, c, s);
		/* "If an incoming segment is not acceptable, an acknowledgment
		 * should be sent in reply (unless the RST bit is set ...)" */
		if (!(s->flags & RTE_TCP_RST_FLAG))
			ack_now(nl, c);
		net_drop(nl, m, NET_E_TCP_OUT_OF_WINDOW);
		return;
	}
	c->last_rx_ms = nl->now_ms;
	c->ka_probes = 0;
	/* second, the RST bit (RFC 5961 3.2): "If the RST bit is set and the
	 * sequence number exactly matches the next expected sequence number
	 * (RCV.NXT), then TCP MUST reset the connection" ... "Otherwise (the
	 * sequence number is in the window) ... TCP MUST send an ACK (challenge
	 * ACK)". */
	if (s->flags & RTE_TCP_RST_FLAG) {
		if (s->seq != c->rcv_nxt) {
			challenge_ack(nl, c);
			net_drop(nl, m, NET_E_TCP_RST_CHALLENGED);
			return;
		}
		t->cnt.resets_received++;
		rte_pktmbuf_free(m);
		switch (c->state) {
		case NET_TCP_SYN_RECEIVED:
			/* passive: "return this connection to LISTEN state" (here:
			 * forget it); active: "connection refused" */
			tcp_drop_conn(nl, c, ECONNREFUSED);
			return;
		case NET_TCP_CLOSING:
		case NET_TCP_LAST_ACK:
		case NET_TCP_TIME_WAIT:
			/* "enter the CLOSED state, delete the TCB" */
			tcp_drop_conn(nl, c, 0);
			return;
		default:
			/* "any outstanding RECEIVEs and SEND should receive 'reset'
			 * responses ... enter the CLOSED state" */
			tcp_drop_conn(nl, c, ECONNRESET);
			return;
		}
	}
	/* fourth, the SYN bit (RFC 5961 4.2): "if the SYN bit is set,
	 * irrespective of the sequence number, TCP MUST send an ACK (also
	 * referred to as challenge ACK) to the remote peer" and drop it. */
	if (s->flags & RTE_TCP_SYN_FLAG) {
		challenge_ack(nl, c);
		net_drop(nl, m, NET_E_TCP_SYN_CHALLENGED);
		return;
	}
	/* fifth, the ACK field: "if the ACK bit is off, drop the segment" */
	if (!(s->flags & RTE_TCP_ACK_FLAG)) {
		net_drop(nl, m, NET_E_TCP_NO_ACK);
		return;
	}
	if (c->state == NET_TCP_SYN_RECEIVED) {
		/* "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state
		 * and continue processing ... If the segment acknowledgment is
		 * not acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST>" */
		if (!(SEQ_LT(c->snd_una, s->ack) && SEQ_LEQ(s->ack, c->snd_max))) {
			tcp_send_rst_for(nl, s, s->src_ip);
			net_drop(nl, m, NET_E_TCP_SYN_RCVD_BAD_ACK);
			return;
		}
		c->snd_una = s->ack;
		/* RFC 7323 2.2: the window of a <SYN,ACK> is not scaled */
		c->snd_wnd = c->max_snd_wnd = synack ? s->wnd : s->wnd << c->snd_wscale;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if ((c->flags & TF_TS) && s->o.tsecr != 0)
			tcp_rtt_sample(t, c, tcp_ts_now(nl, c) - s->o.tsecr);
		established(nl, c);
	} else if (ack_in(nl, c, s) < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	/* RFC 7323 4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent
	 * then SEG.TSval is copied to TS.Recent" -- only once the segment passed
	 * the RST, SYN and ACK checks (as Linux does): a challenged RST or SYN, or
	 * a segment with an unacceptable ACK, must not move TS.Recent, or one
	 * forged segment with a TSval far ahead would make PAWS drop every later
	 * segment of the real peer (RFC 5961 4.2: a SYN gets a challenge ACK and
	 * nothing else "irrespective of the sequence number"). */
	if ((c->flags & TF_TS) && s->o.ts_ok && (int32_t)(s->o.tsval - c->ts_recent) >= 0 &&
	    SEQ_LEQ(s->seq, c->last_ack_sent)) {
		c->ts_recent = s->o.tsval;
		c->ts_recent_ms = nl->now_ms;
	}
	switch (c->state) {
	case NET_TCP_FIN_WAIT_1:
		/* "In addition to the processing for the ESTABLISHED state, if the
		 * FIN segment is now acknowledged, then enter FIN-WAIT-2" */
		if (fin_acked(c)) {
			tcp_set_state(nl, c, NET_TCP_FIN_WAIT_2);
			c->t_rexmt = 0;
			if (!(c->flags & TF_APP)) {
				c->t_2msl = nl->now_ms + t->conf.fin_wait2_ms;
				tcp_timer_arm(t, c->t_2msl);
			}
		}
		break;
	case NET_TCP_CLOSING:
		/* "if the ACK acknowledges our FIN, then enter the TIME-WAIT
		 * state; otherwise, ignore the segment" */
		if (fin_acked(c))
			tcp_enter_time_wait(nl, c);
		rte_pktmbuf_free(m);
		return;
	case NET_TCP_LAST_ACK:
		/* "If our FIN is now acknowledged, delete the TCB, enter the
		 * CLOSED state, and return." */
		if (fin_acked(c)) {
			rte_pktmbuf_free(m);
			if (c->flags & TF_APP) {
				tcp_set_state(nl, c, NET_TCP_CLOSED);
				c->t_rexmt = 0;
			} else {
				tcp_conn_free(nl, c);
			}
			return;
		}
		break;
	case NET_TCP_TIME_WAIT:
		/* "The only thing that can arrive in this state is a
		 * retransmission of the remote FIN. Acknowledge it, and restart
		 * the 2 MSL timeout." */
		if (s->flags & RTE_TCP_FIN_FLAG) {
			ack_now(nl, c);
			tcp_enter_time_wait(nl, c);
		}
		rte_pktmbuf_free(m);
		return;
	default:
		break;
	}
	/* seventh, the segment text; eighth, FIN. Trim to the window first:
	 * RFC 9293 3.10.7.4 "Segments with higher beginning sequence numbers
	 * may be held for later processing", and bytes before RCV.NXT are old. */
	fin = (s->flags & RTE_TCP_FIN_FLAG) != 0;
	if (s->len > 0 || fin) {
		uint32_t seq = s->seq, len = s->len, fin_pos = s->seq + s->len;
		uint32_t rwnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

		if (c->state != NET_TCP_ESTABLISHED && c->state != NET_TCP_FIN_WAIT_1 &&
		    c->state != NET_TCP_FIN_WAIT_2) {
			/* CLOSE-WAIT, CLOSING, LAST-ACK: "This should not occur,
			 * since a FIN has been received from the remote side.
			 * Ignore the segment text." */
			if (len > 0)
				nl->cnt.drops[NET_E_TCP_DATA_AFTER_FIN]++;
			rte_pktmbuf_free(m);
			return;
		}
		if (SEQ_LT(seq, c->rcv_nxt)) {
			uint32_t old = c->rcv_nxt - seq;

			if (old >= len) {
				len = 0; /* every byte old: "send an acknowledgment" */
				ack_now(nl, c);
			} else {
				m = cut_front(m, old);
				len -= old;
			}
			seq = c->rcv_nxt;
		}
		if (SEQ_GT(seq + len, c->rcv_nxt + rwnd)) {
			/* past the window: cut, and the FIN with it */
			len = SEQ_GT(c->rcv_nxt + rwnd, seq) ? c->rcv_nxt + rwnd - seq : 0;
			cut_back(m, len);
			fin = false;
		}
		if (len > 0) {
			data_in(nl, c, m, seq, len);
			m = NULL;
		}
		if (fin && SEQ_GT(fin_pos, c->rcv_nxt)) {
			/* a FIN beyond a hole (or beyond bytes we had to drop) waits
			 * for the bytes before it */
			c->flags |= TF_OOO_FIN;
			c->fin_seq = fin_pos;
		}
		fin = fin && fin_pos == c->rcv_nxt;
		if ((c->flags & TF_OOO_FIN) && c->fin_seq == c->rcv_nxt) {
			fin = true;
			c->flags &= ~TF_OOO_FIN;
		}
		if (fin && !(c->flags & TF_FIN_RCVD)) {
			/* eighth, FIN: "advance RCV.NXT over the FIN, and send an
			 * acknowledgment for the FIN"; signal EOF to the reader. */
			c->rcv_nxt++;
			c->flags |= TF_FIN_RCVD;
			ack_now(nl, c);
			tcp_event(nl, c, NET_TCP_EV_READ);
			switch (c->state) {
			case NET_TCP_ESTABLISHED:
				tcp_set_state(nl, c, NET_TCP_CLOSE_WAIT);
				break;
			case NET_TCP_FIN_WAIT_1:
				/* "If our FIN has been ACKed ... enter TIME-WAIT ...
				 * otherwise, enter the CLOSING state" */
				if (fin_acked(c))
					tcp_enter_time_wait(nl, c);
				else
					tcp_set_state(nl, c, NET_TCP_CLOSING);
				break;
			case NET_TCP_FIN_WAIT_2:
				tcp_enter_time_wait(nl, c);
				break;
			default:
				break;
			}
		}
	}
	if (m != NULL)
		rte_pktmbuf_free(m);
}

void
net_tcp_input(struct net_lcore *nl, struct rte_mbuf *m)
{
	struct tcp_lcore *t = nl->tcp;
	const struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t hlen = rte_ipv4_hdr_len(ih);
	uint32_t tlen = rte_pktmbuf_pkt_len(m) - hlen; /* trimmed to Total Length by ipv4 */
	const struct rte_tcp_hdr *th;
	uint32_t doff;
	uint64_t csum;
	struct tcp_seg s;
	struct tcp_conn *c;

	if (t == NULL) {
		net_drop(nl, m, NET_E_IP_PROTO_UNSUPPORTED);
		return;
	}
	if (tlen < TCP_HDR_MIN || rte_pktmbuf_data_len(m) < hlen + TCP_HDR_MIN) {
		net_drop(nl, m, NET_E_TCP_TRUNCATED);
		return;
	}
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ih + hlen);
	/* RFC 9293 3.1: "Data Offset: 4 bits. The number of 32-bit words in the
	 * TCP header." -- at least 5, and not past the segment. */
	doff = (uint32_t)(th->data_off >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff > tlen) {
		net_drop(nl, m, NET_E_TCP_BAD_DOFF);
		return;
	}
	if (rte_pktmbuf_data_len(m) < hlen + doff) {
		net_drop(nl, m, NET_E_TCP_TRUNCATED);
		return;
	}
	/* RFC 9293 3.1 (MUST-2/3): the checksum covers the pseudo-header, the
	 * header and the data, and must be checked on every segment. */
	csum = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (csum == RTE_MBUF_F_RX_L4_CKSUM_GOOD && t->conf.rx_tcp_cksum) {
		t->cnt.cksum_hw++;
	} else if (csum == RTE_MBUF_F_RX_L4_CKSUM_BAD || !cksum_ok(m, ih, hlen, tlen)) {
		net_drop(nl, m, NET_E_TCP_BAD_CKSUM);
		return;
	}
	s.src_ip = ih->src_addr;
	s.sport = rte_be_to_cpu_16(th->src_port);
	s.dport = rte_be_to_cpu_16(th->dst_port);
	s.seq = rte_be_to_cpu_32(th->sent_seq);
	s.ack = rte_be_to_cpu_32(th->recv_ack);
	s.wnd = rte_be_to_cpu_16(th->rx_win);
	s.flags = th->tcp_flags & 0x3f; /* CWR/ECE: no ECN here (RFC 3168 not offered) */
	s.len = tlen - doff;
	/* Port 0 is reserved (RFC 6335 6). */
	if (s.sport == 0 || s.dport == 0) {
		net_drop(nl, m, NET_E_TCP_BAD_PORT);
		return;
	}
	/* SYN with FIN or RST is contradictory (no RFC allows either). */
	if ((s.flags & RTE_TCP_SYN_FLAG) && (s.flags & (RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG))) {
		net_drop(nl, m, NET_E_TCP_BAD_FLAGS);
		return;
	}
	if (tcp_parse_opts((const uint8_t *)(th + 1), doff - TCP_HDR_MIN, &s.o) < 0) {
		net_drop(nl, m, NET_E_TCP_BAD_OPTION);
		return;
	}
	t->cnt.segs_in++;
	rte_pktmbuf_adj(m, (uint16_t)(hlen + doff)); /* m: payload only */

	c = tcp_lookup(t, s.src_ip, s.sport, s.dport);
	/* A SYN for a TIME-WAIT connection may open a new one (RFC 1122
	 * 4.2.2.13: "if it ... arrives with a sequence number greater than
	 * the final sequence number of the previous incarnation"; RFC 6191 with
	 * timestamps). */
	if (c != NULL && c->state == NET_TCP_TIME_WAIT && (s.flags & RTE_TCP_SYN_FLAG) &&
	    !(s.flags & (RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) && !(c->flags & TF_APP) &&
	    (s.o.ts_ok && (c->flags & TF_TS) ? (int32_t)(s.o.tsval - c->ts_recent) > 0
					     : SEQ_GT(s.seq, c->rcv_nxt))) {
		tcp_conn_free(nl, c);
		t->cnt.time_wait_recycled++;
		c = NULL;
	}
	if (c == NULL || c->state == NET_TCP_CLOSED) {
		if (c == NULL && tcp_is_listening(t, s.dport)) {
			/* RFC 9293 3.10.7.2 LISTEN: "first, check for a RST ...
			 * should be ignored"; "second, check for an ACK ... form a
			 * reset <SEQ=SEG.ACK><CTL=RST>"; "third, check for a SYN". */
			if (s.flags & RTE_TCP_RST_FLAG) {
				net_drop(nl, m, NET_E_TCP_LISTEN_RST);
				return;
			}
			if (s.flags & RTE_TCP_ACK_FLAG) {
				int err = NET_E_TCP_BAD_COOKIE;

				if (!(s.flags & RTE_TCP_SYN_FLAG)) {
					c = listen_cookie_ack(nl, &s, &err);
					if (c != NULL) {
						conn_in(nl, c, &s, m);
						return;
					}
				}
				tcp_send_rst_for(nl, &s, s.src_ip);
				net_drop(nl, m, err);
				return;
			}
			if (s.flags & RTE_TCP_SYN_FLAG) {
				listen_syn(nl, &s);
				rte_pktmbuf_free(m); /* data on a SYN is not kept */
				return;
			}
			net_drop(nl, m, NET_E_TCP_LISTEN_NO_SYN);
			return;
		}
		closed_rst(nl, &s, m);
		return;
	}
	if (c->state == NET_TCP_SYN_SENT) {
		syn_sent_in(nl, c, &s, m);
		return;
	}
	conn_in(nl, c, &s, m);
}
