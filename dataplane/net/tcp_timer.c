/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP timers: retransmission (RFC 6298) and persist (RFC 9293 3.8.6.1) in one
 * slot, delayed ACK (RFC 1122 4.2.3.2), keepalive (RFC 1122 4.2.3.6), and
 * 2 MSL / FIN-WAIT-2. Deadlines are absolute ms on the connection; net_timer
 * walks the in-use list only when the earliest one is due.
 */
#include <errno.h>

#include "tcp_pvt.h"

static uint32_t
rto_backed_off(const struct tcp_lcore *t, const struct tcp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto_ms << c->backoff;

	return rto < t->conf.rto_max_ms ? (uint32_t)rto : t->conf.rto_max_ms;
}

void
tcp_rexmt_arm(struct net_lcore *nl, struct tcp_conn *c)
{
	c->t_rexmt = nl->now_ms + rto_backed_off(nl->tcp, c);
	tcp_timer_arm(nl->tcp, c->t_rexmt);
}

void
tcp_rtt_sample(struct tcp_lcore *t, struct tcp_conn *c, uint32_t r)
{
	uint32_t var4;

	if (c->srtt8 == 0 && c->rttvar4 == 0) {
		/* RFC 6298 2.2: "SRTT <- R, RTTVAR <- R/2" */
		c->srtt8 = r * 8 + 1; /* + 1: a zero RTT is still a sample */
		c->rttvar4 = r * 2;
	} else {
		/* RFC 6298 2.3: "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,
		 * SRTT <- (1 - alpha) * SRTT + alpha * R'", alpha = 1/8, beta = 1/4 */
		int32_t err = (int32_t)(r * 8) - (int32_t)c->srtt8;
		uint32_t aerr = (uint32_t)(err < 0 ? -err : err) / 2; /* |SRTT - R'| * 4 */

		c->rttvar4 = c->rttvar4 - c->rttvar4 / 4 + aerr / 4;
		c->srtt8 = (uint32_t)((int32_t)c->srtt8 + err / 8);
	}
	/* RFC 6298 2.2/2.3: "RTO <- SRTT + max (G, K*RTTVAR)", K = 4, G = 1 ms;
	 * 2.4: a minimum applies (ours is rto_min_ms, see tcp.h); 2.5: and a
	 * maximum. */
	var4 = max32(c->rttvar4, 1u);
	c->rto_ms = c->srtt8 / 8 + var4;
	c->rto_ms = max32(c->rto_ms, t->conf.rto_min_ms);
	c->rto_ms = min32(c->rto_ms, t->conf.rto_max_ms);
}

/* due: when this probe was due (the timer armed one interval after the last
 * probe or transmission) */
static void
on_persist(struct net_lcore *nl, struct tcp_conn *c, uint64_t due)
{
	struct tcp_lcore *t = nl->tcp;

	/* RFC 9293 3.8.6.1: "The sending TCP peer must regularly transmit at
	 * least one octet of new data (if available) ... even if the send window
	 * is zero" -- and RFC 1122 4.2.2.17 "MUST NOT close a connection" for a
	 * zero window while the peer answers: only "as long as the receiving TCP
	 * continues to send acknowledgments in response to the probe segments".
	 * A probe interval with nothing from the peer counts like a
	 * retransmission (RFC 1122 4.2.3.5 R2), or a peer that closes its window
	 * and goes silent would hold the connection and its send queue forever,
	 * even after the application gave it back. */
	if (c->last_rx_ms < due - rto_backed_off(t, c)) {
		if (++c->retries > t->conf.max_retries) {
			t->cnt.timeouts++;
			tcp_send_ctl(nl, c, c->snd_max, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
			tcp_drop_conn(nl, c, ETIMEDOUT);
			return;
		}
	} else {
		c->retries = 0;
	}
	t->cnt.zero_window_probes++;
	if (c->sq_bytes > 0) {
		tcp_send_data(nl, c, c->snd_una, 1, RTE_TCP_ACK_FLAG);
		if (c->snd_nxt == c->snd_una)
			c->snd_nxt = c->snd_una + 1;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
	}
	if (c->backoff < 16)
		c->backoff++;
	tcp_rexmt_arm(nl, c);
}

static void
on_rexmt(struct net_lcore *nl, struct tcp_conn *c)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t flight = c->snd_max - c->snd_una;
	uint64_t due = c->t_rexmt;

	c->t_rexmt = 0;
	if (c->flags & TF_PERSIST) {
		on_persist(nl, c, due);
		return;
	}
	/* The peer closed its window with data in flight: a retransmission
	 * within a zero window would send nothing, so probe instead (RFC 9293
	 * 3.8.6.1: "retransmit to the receiving TCP peer even if the send window
	 * is zero"), and do not count it toward max_retries: RFC 1122 4.2.2.17
	 * "MUST NOT close a connection" while the probes are answered. */
	if (c->snd_wnd == 0 && c->sq_bytes > 0 && c->state != NET_TCP_SYN_SENT &&
	    c->state != NET_TCP_SYN_RECEIVED) {
		c->flags |= TF_PERSIST;
		on_persist(nl, c, due);
		return;
	}
	t->cnt.rto_fired++;
	c->retries++;
	if (c->state == NET_TCP_SYN_SENT || c->state == NET_TCP_SYN_RECEIVED) {
		/* RFC 1122 4.2.3.5: R2 for a SYN "MUST be set large enough to
		 * provide retransmission of the SYN for at least 3 minutes" -- the
		 * default 6 doublings from 1 s come to 127 s; operators may raise
		 * syn_retries. */
		if (c->retries > t->conf.syn_retries) {
			t->cnt.timeouts++;
			tcp_drop_conn(nl, c, ETIMEDOUT);
			return;
		}
		c->backoff++;
		tcp_send_ctl(nl, c, c->iss, RTE_TCP_SYN_FLAG);
		t->cnt.retransmits++;
		tcp_rexmt_arm(nl, c);
		return;
	}
	/* RFC 1122 4.2.3.5: "when the number of transmissions of the same
	 * segment reaches a threshold R2 greater than R1, close the connection" */
	if (c->retries > t->conf.max_retries) {
		t->cnt.timeouts++;
		if (c->state != NET_TCP_CLOSED)
			tcp_send_ctl(nl, c, c->snd_max, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
		tcp_drop_conn(nl, c, ETIMEDOUT);
		return;
	}
	/* RFC 5681 3.1 eq. (4): "ssthresh = max (FlightSize / 2, 2*SMSS)"; and
	 * "cwnd [is set] to no more than the loss window, LW, which equals 1
	 * full-sized segment". */
	c->ssthresh = max32(flight / 2, 2u * c->smss);
	c->cwnd = c->smss;
	/* RFC 6582 3.2 step 4: after a timeout "recover" becomes the highest
	 * sequence number transmitted; fast recovery ends. */
	c->recover = c->snd_max;
	c->flags &= ~(TF_RECOVERY | TF_RTT | TF_EIFEL);
	c->dupacks = 0;
	/* RFC 6298 5.5: "back off the timer (RTO <- RTO * 2)"; 5.4: retransmit
	 * the earliest segment not acknowledged (go back to SND.UNA). */
	if (c->backoff < 16)
		c->backoff++;
	/* A FIN already sent stays TF_FIN_SENT: tcp_output sends it again from
	 * SND.NXT, and an ACK of it that arrives first must still count. */
	c->snd_nxt = c->snd_una;
	tcp_rexmt_arm(nl, c); /* RFC 6298 5.6: start the timer again */
	tcp_dirty(nl, c);
}

static void
on_keepalive(struct net_lcore *nl, struct tcp_conn *c)
{
	struct tcp_lcore *t = nl->tcp;
	uint64_t idle_until = c->last_rx_ms + t->conf.keepalive_ms;

	if (nl->now_ms < idle_until) {
		/* traffic since: the idle interval starts again */
		c->ka_probes = 0;
		c->t_keep = idle_until;
		return;
	}
	if (c->ka_probes >= t->conf.keepalive_probes) {
		t->cnt.timeouts++;
		tcp_send_ctl(nl, c, c->snd_max, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
		tcp_drop_conn(nl, c, ETIMEDOUT);
		return;
	}
	/* RFC 1122 4.2.3.6: a keep-alive is "a segment with SEG.SEQ = SND.NXT-1"
	 * (no data), which the peer must answer with an ACK. */
	t->cnt.keepalives++;
	c->ka_probes++;
	tcp_send_ctl(nl, c, c->snd_nxt - 1, RTE_TCP_ACK_FLAG);
	c->t_keep = nl->now_ms + t->conf.keepalive_intvl_ms;
}

static void
on_2msl(struct net_lcore *nl, struct tcp_conn *c)
{
	c->t_2msl = 0;
	if (c->state == NET_TCP_TIME_WAIT) {
		/* RFC 9293 3.10.8: "If the time-wait timeout expires on a
		 * connection, delete the TCB, enter the CLOSED state". */
		if (c->flags & TF_APP) {
			tcp_set_state(nl, c, NET_TCP_CLOSED);
			return;
		}
		tcp_conn_free(nl, c);
		return;
	}
	/* FIN-WAIT-2 after our close, the peer never sent its FIN. */
	nl->tcp->cnt.timeouts++;
	tcp_drop_conn(nl, c, ETIMEDOUT);
}

static uint64_t
earliest(const struct tcp_conn *c)
{
	uint64_t v[4] = { c->t_rexmt, c->t_delack, c->t_keep, c->t_2msl }, m = 0;

	for (unsigned i = 0; i < 4; i++)
		if (v[i] != 0 && (m == 0 || v[i] < m))
			m = v[i];
	return m;
}

void
tcp_timers(struct net_lcore *nl)
{
	struct tcp_lcore *t = nl->tcp;
	uint64_t now = nl->now_ms;
	uint32_t i, next;

	if (t->next_timer_ms == 0 || now < t->next_timer_ms)
		return;
	t->next_timer_ms = 0;
	for (i = t->used_head; i != TCP_NIL; i = next) {
		struct tcp_conn *c = &t->conns[i];
		uint32_t gen = c->gen;

		next = c->lnext; /* c may be freed below */
		if (c->t_2msl != 0 && now >= c->t_2msl) {
			on_2msl(nl, c);
			if (c->state == NET_TCP_FREE || c->gen != gen || c->state == NET_TCP_CLOSED)
				continue;
		}
		if (c->t_delack != 0 && now >= c->t_delack) {
			/* RFC 1122 4.2.3.2: "the delay MUST be less than 0.5
			 * seconds" (ours: delack_ms, 40 by default) */
			c->t_delack = 0;
			c->flags |= TF_ACK_NOW;
			t->cnt.delayed_acks++;
			tcp_dirty(nl, c);
		}
		if (c->t_rexmt != 0 && now >= c->t_rexmt) {
			on_rexmt(nl, c);
			if (c->state == NET_TCP_FREE || c->gen != gen || c->state == NET_TCP_CLOSED)
				continue;
		}
		if (c->t_keep != 0 && now >= c->t_keep) {
			on_keepalive(nl, c);
			if (c->state == NET_TCP_FREE || c->gen != gen || c->state == NET_TCP_CLOSED)
				continue;
		}
		tcp_timer_arm(t, earliest(c));
	}
}
