/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scripted segment tests for dataplane/net's TCP with no NIC. The test plays
 * the peer: it builds IPv4+TCP segments byte by byte (options, payload, its
 * own checksum code), feeds them to net_input, takes every frame net_output
 * gives, parses it back (checksums, flags, seq, ack, window, options,
 * payload) and asserts the exact fields. Time moves only with net_timer.
 * A fault knob drops the Nth outgoing segment at the harness's output side,
 * so retransmission paths run deterministically.
 *
 *   test ─► seg_frame ─► net_input ─► stack ─► net_output ─► h_pump ─┬─► fault: drop Nth
 *                                                                   └─► parse ─► queue ─► h_take
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "test_eal.h"
#include "../check.h"
#include "frame.h"
#include "net.h"

#define POOL_MBUFS 4095
#define T0 1000 /* ms: every stack starts here */
#define LPORT 80
#define PPORT 40000
#define OUTQ 256
#define MAX_DROPS 8

/* TCP flags */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t our_ip[4] = { 198, 18, 0, 2 };
static const uint8_t peer_ip[4] = { 198, 18, 0, 1 };

static struct rte_mempool *pool;

/* ---- segments: what the test sends, and what it parsed from the stack ---- */

struct seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	/* options: to put in (build), as found (parse) */
	bool mss_on, ws_on, sackp_on, ts_on;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[4][2];
	/* build: use raw_opt as the option bytes instead; parse: the bytes seen */
	bool raw;
	uint8_t raw_opt[40];
	uint8_t raw_len;
	/* parse: the payload */
	uint32_t len;
	uint8_t data[1600];
};

/* TCP checksum: RFC 9293 3.1 pseudo-header (src, dst, zero, 6, TCP length). */
static uint16_t
tcp_cksum(const uint8_t *src, const uint8_t *dst, const uint8_t *tcp, size_t n)
{
	uint32_t s = 0;

	s = sum16(s, src, 4);
	s = sum16(s, dst, 4);
	s += 6;
	s += (uint32_t)n;
	return fold(sum16(s, tcp, n));
}

/* The option bytes of s, padded with EOL to a multiple of 4. */
static size_t
opts_build(const struct seg *s, uint8_t *o)
{
	size_t n = 0;

	if (s->raw) {
		memcpy(o, s->raw_opt, s->raw_len);
		return s->raw_len;
	}
	if (s->mss_on) {
		o[n++] = 2;
		o[n++] = 4;
		o[n++] = (uint8_t)(s->mss >> 8);
		o[n++] = (uint8_t)s->mss;
	}
	if (s->sackp_on) {
		o[n++] = 4;
		o[n++] = 2;
	}
	if (s->ts_on) {
		if (!s->sackp_on) {
			o[n++] = 1;
			o[n++] = 1;
		}
		o[n++] = 8;
		o[n++] = 10;
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(s->tsval >> (8 * i));
		for (int i = 3; i >= 0; i--)
			o[n++] = (uint8_t)(s->tsecr >> (8 * i));
	}
	if (s->ws_on) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = s->ws;
	}
	if (s->nsack > 0) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 5;
		o[n++] = (uint8_t)(2 + 8 * s->nsack);
		for (unsigned b = 0; b < s->nsack; b++)
			for (unsigned k = 0; k < 2; k++)
				for (int i = 3; i >= 0; i--)
					o[n++] = (uint8_t)(s->sack[b][k] >> (8 * i));
	}
	while (n % 4 != 0)
		o[n++] = 0;
	return n;
}

/* Knobs for malformed frames. */
struct mangle {
	bool bad_cksum;
	int doff_words;    /* 0: right; else the Data Offset field */
	size_t tcp_cut;    /* > 0: send only this many bytes of the TCP segment */
	uint64_t ol_flags; /* what the port says about the frame (RX checksum flags) */
};

/* Ethernet + IPv4 + TCP from s with payload pl/len into f. */
static void
seg_frame(struct frame *f, const struct seg *s, const void *pl, uint32_t len,
	  const struct mangle *mg)
{
	uint8_t opt[40], tcp[1600];
	size_t optlen = opts_build(s, opt), tl = 20 + optlen + len, at;
	uint16_t c;

	memset(tcp, 0, 20);
	tcp[0] = (uint8_t)(s->sport >> 8);
	tcp[1] = (uint8_t)s->sport;
	tcp[2] = (uint8_t)(s->dport >> 8);
	tcp[3] = (uint8_t)s->dport;
	for (int i = 0; i < 4; i++) {
		tcp[4 + i] = (uint8_t)(s->seq >> (24 - 8 * i));
		tcp[8 + i] = (uint8_t)(s->ack >> (24 - 8 * i));
	}
	tcp[12] = (uint8_t)((mg != NULL && mg->doff_words != 0 ? mg->doff_words
							       : (int)(20 + optlen) / 4)
			    << 4);
	tcp[13] = s->flags;
	tcp[14] = (uint8_t)(s->wnd >> 8);
	tcp[15] = (uint8_t)s->wnd;
	memcpy(tcp + 20, opt, optlen);
	if (len > 0)
		memcpy(tcp + 20 + optlen, pl, len);
	c = tcp_cksum(peer_ip, our_ip, tcp, tl);
	if (mg != NULL && mg->bad_cksum)
		c ^= 0x1234;
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	if (mg != NULL && mg->tcp_cut > 0)
		tl = mg->tcp_cut;

	f->len = 0;
	put(f, our_mac, 6);
	put(f, peer_mac, 6);
	put16(f, 0x0800);
	at = f->len;
	put8(f, 0x45);
	put8(f, 0);
	put16(f, (uint16_t)(20 + tl));
	put16(f, 0x4321);
	put16(f, 0x4000); /* DF */
	put8(f, 64);
	put8(f, 6);
	put16(f, 0);
	put(f, peer_ip, 4);
	put(f, our_ip, 4);
	c = fold(sum16(0, f->b + at, 20));
	f->b[at + 10] = (uint8_t)(c >> 8);
	f->b[at + 11] = (uint8_t)c;
	put(f, tcp, tl);
	while (f->len < 60)
		f->b[f->len++] = 0; /* Ethernet minimum; IPv4 Total Length says what counts */
}

/* Parse RFC 9293 options strictly: any malformed option fails the check. */
static bool
opts_parse(const uint8_t *o, size_t n, struct seg *s)
{
	size_t i = 0;

	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return false;
		len = o[i + 1];
		if (len < 2 || len > n - i)
			return false;
		switch (kind) {
		case 2:
			if (len != 4 || s->mss_on)
				return false;
			s->mss_on = true;
			s->mss = get16(o + i + 2);
			break;
		case 3:
			if (len != 3 || s->ws_on)
				return false;
			s->ws_on = true;
			s->ws = o[i + 2];
			break;
		case 4:
			if (len != 2 || s->sackp_on)
				return false;
			s->sackp_on = true;
			break;
		case 5:
			if ((len - 2) % 8 != 0 || len == 2 || (len - 2) / 8 > 4)
				return false;
			s->nsack = (uint8_t)((len - 2) / 8);
			for (unsigned b = 0; b < s->nsack; b++) {
				s->sack[b][0] = get32(o + i + 2 + 8 * b);
				s->sack[b][1] = get32(o + i + 6 + 8 * b);
			}
			break;
		case 8:
			if (len != 10 || s->ts_on)
				return false;
			s->ts_on = true;
			s->tsval = get32(o + i + 2);
			s->tsecr = get32(o + i + 6);
			break;
		default:
			return false; /* the stack sends nothing else */
		}
		i += len;
	}
	return true;
}

static bool seg_parse_fields(const uint8_t *tcp, size_t tl, struct seg *s);

/* A frame the stack sent, checked layer by layer and parsed into s. */
static bool
seg_parse(const struct rte_mbuf *m, struct seg *s)
{
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *), *ip = b + 14, *tcp = b + 34;
	size_t flen = rte_pktmbuf_pkt_len(m), tl;

	memset(s, 0, sizeof(*s));
	if (m->nb_segs != 1 || flen < 54 || memcmp(b, peer_mac, 6) != 0 ||
	    memcmp(b + 6, our_mac, 6) != 0 || get16(b + 12) != 0x0800)
		return false;
	/* IPv4: no options, DF, TTL 64, TCP, our address to the peer's. */
	if (ip[0] != 0x45 || get16(ip + 2) != flen - 14 || fold(sum16(0, ip, 20)) != 0 ||
	    get16(ip + 6) != 0x4000 || ip[8] != 64 || ip[9] != 6 ||
	    memcmp(ip + 12, our_ip, 4) != 0 || memcmp(ip + 16, peer_ip, 4) != 0)
		return false;
	tl = flen - 34;
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) {
		/* the port finishes it: the field holds the pseudo-header sum
		 * (DPDK's rte_ipv4_phdr_cksum contract), the port the rest */
		uint32_t ph = sum16(sum16(0, our_ip, 4), peer_ip, 4) + 6 + (uint32_t)tl;
		unsigned want = 0xffffu ^ fold(ph), got = get16(tcp + 16);

		if (m->l2_len != 14 || m->l3_len != 20 || m->l4_len != (tcp[12] >> 4) * 4 ||
		    !(m->ol_flags & RTE_MBUF_F_TX_IPV4) || got != want)
			return false;
		return seg_parse_fields(tcp, tl, s);
	}
	if (m->ol_flags != 0 || tcp_cksum(our_ip, peer_ip, tcp, tl) != 0)
		return false;
	return seg_parse_fields(tcp, tl, s);
}

/* The TCP header and payload of a checked frame into s. */
static bool
seg_parse_fields(const uint8_t *tcp, size_t tl, struct seg *s)
{
	size_t doff;

	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || doff > tl || (tcp[12] & 0x0f) != 0 || get16(tcp + 18) != 0)
		return false;
	s->sport = get16(tcp);
	s->dport = get16(tcp + 2);
	s->seq = get32(tcp + 4);
	s->ack = get32(tcp + 8);
	s->flags = tcp[13];
	s->wnd = get16(tcp + 14);
	s->raw_len = (uint8_t)(doff - 20);
	memcpy(s->raw_opt, tcp + 20, s->raw_len);
	if (!opts_parse(tcp + 20, doff - 20, s))
		return false;
	s->len = (uint32_t)(tl - doff);
	if (s->len > sizeof(s->data))
		return false;
	memcpy(s->data, tcp + doff, s->len);
	/* RFC 9293 3.4: an ACK field is meaningful only with ACK; ours is zero then. */
	if (!(s->flags & F_ACK) && s->ack != 0)
		return false;
	return true;
}

/* ---- the harness: one stack, its clock, its output ---- */

struct h {
	struct net_lcore *nl;
	unsigned in_use0;
	uint64_t now;
	unsigned seen; /* segments the stack emitted so far, dropped ones too */
	unsigned drop_at[MAX_DROPS];
	unsigned n_drop, dropped;
	struct seg *q; /* parsed, not yet taken */
	unsigned qh, qn;
	uint64_t drops0[NET_E__COUNT];
};

static struct seg outq[OUTQ];

static const struct net_tcp_conf conf_default = {
	.max_conns = 64,
};

static void
h_open(struct h *h, const struct net_tcp_conf *tc)
{
	struct net_conf c;
	struct frame f;
	struct rte_mbuf *m, *v[4];
	uint16_t n;

	memset(h, 0, sizeof(*h));
	h->q = outq;
	h->in_use0 = rte_mempool_in_use_count(pool);
	memset(&c, 0, sizeof(c));
	memcpy(c.mac.addr_bytes, our_mac, 6);
	memcpy(&c.ip, our_ip, 4);
	memcpy(&c.netmask, (const uint8_t[]){ 255, 255, 255, 0 }, 4);
	c.pool = pool;
	c.arp_ttl_ms = UINT32_MAX; /* the peer's entry outlives every test */
	c.tcp = tc != NULL ? tc : &conf_default;
	h->nl = net_lcore_create(&c, SOCKET_ID_ANY);
	if (h->nl == NULL) {
		fprintf(stderr, "test_tcp: net_lcore_create: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	h->now = T0;
	net_timer(h->nl, h->now);
	/* The peer asks for us: its address is learned, output never waits on ARP. */
	f.len = 0;
	put(&f, bcast_mac, 6);
	put(&f, peer_mac, 6);
	put16(&f, 0x0806);
	put16(&f, 1);
	put16(&f, 0x0800);
	put8(&f, 6);
	put8(&f, 4);
	put16(&f, 1);
	put(&f, peer_mac, 6);
	put(&f, peer_ip, 4);
	put(&f, (const uint8_t[6]){ 0 }, 6);
	put(&f, our_ip, 4);
	while (f.len < 60)
		f.b[f.len++] = 0;
	m = rte_pktmbuf_alloc(pool);
	memcpy(rte_pktmbuf_append(m, (uint16_t)f.len), f.b, f.len);
	net_input(h->nl, &m, 1);
	n = net_output(h->nl, v, 4);
	CHECK(n == 1 && net_arp_lookup(h->nl, *(const uint32_t *)(const void *)peer_ip) != NULL);
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(v[i]);
	memcpy(h->drops0, h->nl->cnt.drops, sizeof(h->drops0));
}

/* Advance the clock to ms and run the timers. */
static void
h_at(struct h *h, uint64_t ms)
{
	h->now = ms;
	net_timer(h->nl, ms);
}

/* Drop the nth segment the stack emits from now on (1: the next one). */
static void
h_drop_nth(struct h *h, unsigned nth)
{
	if (h->n_drop < MAX_DROPS)
		h->drop_at[h->n_drop++] = h->seen + nth;
}

/* Move everything net_output gives into the queue, minus injected drops. */
static unsigned
h_pump(struct h *h)
{
	struct rte_mbuf *v[32];
	unsigned added = 0;
	uint16_t n;

	while ((n = net_output(h->nl, v, 32)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			bool drop = false;

			h->seen++;
			for (unsigned k = 0; k < h->n_drop; k++)
				if (h->drop_at[k] == h->seen)
					drop = true;
			if (drop) {
				h->dropped++;
			} else if (h->qn == OUTQ) {
				fprintf(stderr, "test_tcp: output queue overflow\n");
				failures++;
			} else {
				struct seg *s = &h->q[(h->qh + h->qn) % OUTQ];

				if (!seg_parse(v[i], s)) {
					fprintf(stderr,
						"test_tcp: malformed frame from the stack\n");
					failures++;
				} else {
					h->qn++;
					added++;
				}
			}
			rte_pktmbuf_free(v[i]);
		}
	}
	return added;
}

/* Segments waiting after a pump. */
static unsigned
h_pending(struct h *h)
{
	h_pump(h);
	return h->qn;
}

/* The next segment the stack sent; false (and zeroed) when there is none. */
static bool
h_take(struct h *h, struct seg *s)
{
	h_pump(h);
	if (h->qn == 0) {
		memset(s, 0, sizeof(*s));
		return false;
	}
	*s = h->q[h->qh];
	h->qh = (h->qh + 1) % OUTQ;
	h->qn--;
	return true;
}

static void
h_flush(struct h *h)
{
	h_pump(h);
	h->qh = h->qn = 0;
}

/* Drops counted since h_open (or the last h_drops_reset), all reasons. */
static uint64_t
h_drops(const struct h *h, int err)
{
	return h->nl->cnt.drops[err] - h->drops0[err];
}

static uint64_t
h_drops_total(const struct h *h)
{
	uint64_t t = 0;

	for (int i = 1; i < NET_E__COUNT; i++)
		t += h_drops(h, i);
	return t;
}

static void
h_drops_reset(struct h *h)
{
	memcpy(h->drops0, h->nl->cnt.drops, sizeof(h->drops0));
}

/* Tear down; every mbuf must be back in the pool. */
static void
h_close(struct h *h)
{
	h_flush(h);
	net_lcore_destroy(h->nl);
	h->nl = NULL;
	CHECK(rte_mempool_in_use_count(pool) == h->in_use0);
}

static void
h_send_mangled(struct h *h, const struct seg *s, const void *pl, uint32_t len,
	       const struct mangle *mg)
{
	struct frame f;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == NULL) {
		fprintf(stderr, "test_tcp: mempool empty\n");
		exit(1);
	}
	seg_frame(&f, s, pl, len, mg);
	memcpy(rte_pktmbuf_append(m, (uint16_t)f.len), f.b, f.len);
	if (mg != NULL)
		m->ol_flags = mg->ol_flags;
	net_input(h->nl, &m, 1);
}

static void
h_send(struct h *h, const struct seg *s, const void *pl, uint32_t len)
{
	h_send_mangled(h, s, pl, len, NULL);
}

/* Exactly one event waiting; returns it (zeroed when the count is wrong). */
static struct net_tcp_event
h_event(struct h *h)
{
	struct net_tcp_event ev[4];
	uint16_t n = net_tcp_events(h->nl, ev, 4);

	if (n != 1) {
		fprintf(stderr, "  expected one event, got %u\n", n);
		failures++;
		memset(&ev[0], 0, sizeof(ev[0]));
		ev[0].handle = -1;
	}
	return ev[0];
}

static uint16_t
h_no_event(struct h *h)
{
	struct net_tcp_event ev[4];

	return net_tcp_events(h->nl, ev, 4);
}

/* ---- assertions on segments ---- */

#define ANY UINT64_MAX

/* Check the main fields of s; ANY skips one. Reports what differs. */
static void
seg_expect(int line, const struct seg *s, uint64_t flags, uint64_t seq, uint64_t ack, uint64_t wnd,
	   uint64_t len)
{
	const uint64_t got[5] = { s->flags, s->seq, s->ack, s->wnd, s->len };
	const uint64_t want[5] = { flags, seq, ack, wnd, len };
	static const char *const name[5] = { "flags", "seq", "ack", "wnd", "len" };

	for (int i = 0; i < 5; i++) {
		checks++;
		if (want[i] != ANY && got[i] != want[i]) {
			failures++;
			fprintf(stderr,
				"test_tcp.c:%d: segment %s 0x%llx (%llu), expected 0x%llx (%llu)\n",
				line, name[i], (unsigned long long)got[i],
				(unsigned long long)got[i], (unsigned long long)want[i],
				(unsigned long long)want[i]);
		}
	}
}

/* Take the next segment and check it. */
#define EXPECT_SEG(h, s, fl, sq, ak, wn, ln)                                                       \
	do {                                                                                       \
		CHECK(h_take((h), (s)));                                                           \
		seg_expect(__LINE__, (s), (fl), (sq), (ak), (wn), (ln));                           \
	} while (0)

#define EXPECT_NONE(h) CHECK(h_pending(h) == 0)

/* ---- the peer's side of one connection ---- */

struct peer {
	struct h *h;
	uint16_t port, lport;
	uint32_t seq;  /* the peer's SND.NXT */
	uint32_t ack;  /* the peer's RCV.NXT: the next byte it wants from the stack */
	uint16_t wnd;  /* window field the peer sends */
	uint8_t shift; /* the peer's window scale (its WSopt), 0 when none */
	bool ts, sack;
	uint32_t tsval; /* the peer's timestamp clock */
	uint32_t tsecr; /* what the peer echoes: the stack's latest TSval */
	uint32_t iss;   /* the stack's ISS */
	uint32_t ts_off;
	int64_t handle;
};

/* A segment from the peer's state: its seq, ack, window and timestamps. */
static struct seg
pseg(const struct peer *p, uint8_t flags)
{
	struct seg s;

	memset(&s, 0, sizeof(s));
	s.sport = p->port;
	s.dport = p->lport;
	s.seq = p->seq;
	s.ack = (flags & F_ACK) ? p->ack : 0;
	s.flags = flags;
	s.wnd = p->wnd;
	s.ts_on = p->ts;
	s.tsval = p->tsval;
	s.tsecr = p->tsecr;
	return s;
}

/* Send from the peer and advance its SND.NXT over the payload and FIN. */
static void
psend(struct peer *p, uint8_t flags, const void *pl, uint32_t len)
{
	struct seg s = pseg(p, flags);

	h_send(p->h, &s, pl, len);
	p->seq += len + ((flags & F_FIN) ? 1 : 0);
}

/* Take the stack's next segment for this peer; echo its timestamp from now on. */
#define PEXPECT(p, s, fl, sq, ak, wn, ln)                                                          \
	do {                                                                                       \
		EXPECT_SEG((p)->h, (s), (fl), (sq), (ak), (wn), (ln));                             \
		CHECK((s)->sport == (p)->lport && (s)->dport == (p)->port);                        \
		CHECK((s)->ts_on == (p)->ts || ((s)->flags & F_RST));                              \
		if ((s)->ts_on)                                                                    \
			(p)->tsecr = (s)->tsval;                                                   \
	} while (0)

/* Payload of n bytes: byte i of a stream is pat(off + i). */
static uint8_t
pat(uint32_t i)
{
	return (uint8_t)(i * 31 + (i >> 8) + 7);
}

static void
fill(uint8_t *b, uint32_t off, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = pat(off + i);
}

static bool
is_pat(const uint8_t *b, uint32_t off, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (b[i] != pat(off + i))
			return false;
	return true;
}

struct syn_opts {
	bool mss, ws, sack, ts;
	uint16_t mss_val;
	uint8_t ws_val;
};

static const struct syn_opts all_opts = { true, true, true, true, 1460, 7 };
static const struct syn_opts no_opts = { false, false, false, false, 0, 0 };

static struct net_tcp_info
info(struct h *h, int64_t handle)
{
	struct net_tcp_info i;

	memset(&i, 0, sizeof(i));
	CHECK(net_tcp_info(h->nl, handle, &i) == 0);
	return i;
}

/* The peer's SYN. */
static void
peer_syn(struct peer *p, const struct syn_opts *o)
{
	struct seg s = pseg(p, F_SYN);

	s.mss_on = o->mss;
	s.mss = o->mss_val;
	s.ws_on = o->ws;
	s.ws = o->ws_val;
	s.sackp_on = o->sack;
	s.ts_on = o->ts;
	s.tsval = p->tsval;
	s.tsecr = 0;
	h_send(p->h, &s, NULL, 0);
	p->seq++;
	p->ts = o->ts;
	p->sack = o->sack;
	p->shift = o->ws ? o->ws_val : 0;
}

/*
 * Passive open on LPORT from port with peer ISN isn and options o: SYN,
 * SYN-ACK (checked), ACK, ACCEPT event. The SYN-ACK is returned in *synack.
 */
static void
passive_open(struct h *h, struct peer *p, uint16_t port, uint32_t isn, const struct syn_opts *o,
	     struct seg *synack)
{
	struct net_tcp_event ev;
	struct seg s;

	memset(p, 0, sizeof(*p));
	p->h = h;
	p->port = port;
	p->lport = LPORT;
	p->seq = isn;
	p->wnd = 65535;
	p->tsval = 5000;
	(void)net_tcp_listen(h->nl, LPORT);
	peer_syn(p, o);
	CHECK(h_take(h, &s));
	seg_expect(__LINE__, &s, F_SYN | F_ACK, ANY, isn + 1, ANY, 0);
	p->iss = s.seq;
	p->ack = s.seq + 1;
	if (s.ts_on) {
		p->ts_off = s.tsval - (uint32_t)h->now;
		p->tsecr = s.tsval;
	}
	if (synack != NULL)
		*synack = s;
	p->tsval++;
	psend(p, F_ACK, NULL, 0);
	ev = h_event(h);
	CHECK(ev.flags == NET_TCP_EV_ACCEPT && ev.peer_port == port && ev.local_port == LPORT);
	CHECK(ev.peer_ip == *(const uint32_t *)(const void *)peer_ip);
	p->handle = ev.handle;
	CHECK(info(h, p->handle).state == NET_TCP_ESTABLISHED);
}

/* ---- handshakes ---- */

/* RFC 9293 3.5 / RFC 7323 / RFC 2018: the SYN-ACK answers what the SYN offered. */
static void
test_passive_handshake_opts(void)
{
	for (unsigned combo = 0; combo < 16; combo++) {
		struct syn_opts o = { (combo & 1) != 0,
				      (combo & 2) != 0,
				      (combo & 4) != 0,
				      (combo & 8) != 0,
				      1460,
				      7 };
		/* ISNs on both sides of 2^31 and across the wrap */
		uint32_t isn = combo % 3 == 0   ? 0x12345678u
			       : combo % 3 == 1 ? 0x90000000u + combo
						: 0xffffffe0u;
		uint16_t smss = (uint16_t)((o.mss ? 1460 : 536) - (o.ts ? 12 : 0));
		struct peer p;
		struct seg sa, s;
		struct net_tcp_info i;
		uint8_t buf[100];
		struct h h;

		h_open(&h, NULL);
		passive_open(&h, &p, PPORT, isn, &o, &sa);
		/* RFC 7323 2.2: the SYN-ACK's window is not scaled */
		CHECK(sa.wnd == 65535);
		CHECK(sa.mss_on && sa.mss == 1460);
		CHECK(sa.sackp_on == o.sack);
		CHECK(sa.ts_on == o.ts);
		CHECK(!sa.ts_on || sa.tsecr == 5000);
		CHECK(sa.ws_on == o.ws);
		/* 65535 << 3 is the first to cover the 262144-byte rcv_buf */
		CHECK(!sa.ws_on || sa.ws == 3);
		CHECK(sa.raw_len % 4 == 0);
		CHECK(sa.nsack == 0);
		i = info(&h, p.handle);
		CHECK(i.snd_wscale == (o.ws ? 7 : 0) && i.rcv_wscale == (o.ws ? 3 : 0));
		CHECK(i.ts == o.ts && i.sack == o.sack && i.mss == smss);
		CHECK(i.snd_una == p.iss + 1 && i.snd_nxt == p.iss + 1 && i.rcv_nxt == isn + 1);
		/* The peer's window in the handshake ACK is scaled by its shift. */
		CHECK(i.snd_wnd == (65535u << (o.ws ? 7 : 0)));
		/* One data segment: the ACK after the delayed-ACK timer shows the
		 * receive window, scaled by our shift. Without scaling the right
		 * edge stays put (receiver SWS avoidance, RFC 9293 3.8.6.2.2). */
		fill(buf, 0, sizeof(buf));
		psend(&p, F_ACK | F_PSH, buf, sizeof(buf));
		EXPECT_NONE(&h);
		h_at(&h, h.now + 40);
		PEXPECT(&p, &s, F_ACK, p.iss + 1, isn + 101, o.ws ? (262144 - 104) >> 3 : 65435, 0);
		CHECK(!s.ts_on || s.tsval == (uint32_t)h.now + p.ts_off);
		CHECK(!s.ts_on || s.tsecr == p.tsval);
		CHECK(s.raw_len == (o.ts ? 12 : 0));
		CHECK(h_drops_total(&h) == 0);
		net_tcp_close(h.nl, p.handle, true);
		h_close(&h);
	}
}

/* The exact option bytes of a SYN-ACK to a SYN with every option. */
static void
test_synack_layout(void)
{
	struct peer p;
	struct seg sa;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 1000, &all_opts, &sa);
	/* MSS 1460, SACK-permitted, TS, NOP, WS 3 */
	CHECK(sa.raw_len == 20);
	CHECK(memcmp(sa.raw_opt, "\x02\x04\x05\xb4\x04\x02\x08\x0a", 8) == 0);
	CHECK(get32(sa.raw_opt + 12) == 5000);
	CHECK(memcmp(sa.raw_opt + 16, "\x01\x03\x03\x03", 4) == 0);
	h_close(&h);
}

/* SYN-ACK loss: the stack sends it again after the RTO (RFC 6298 5.5). */
static void
test_synack_retransmit(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s, sa;
	uint32_t half;
	struct h h;

	tc.syn_retries = 2;
	h_open(&h, &tc);
	net_tcp_listen(h.nl, LPORT);
	memset(&p, 0, sizeof(p));
	p.h = &h;
	p.port = PPORT;
	p.lport = LPORT;
	p.seq = 777;
	p.wnd = 65535;
	peer_syn(&p, &no_opts);
	EXPECT_SEG(&h, &sa, F_SYN | F_ACK, ANY, 778, 65535, 0);
	CHECK(net_tcp_conns(h.nl, &half) == 1 && half == 1);
	h_at(&h, T0 + 999);
	EXPECT_NONE(&h);
	h_at(&h, T0 + 1000);
	EXPECT_SEG(&h, &s, F_SYN | F_ACK, sa.seq, 778, 65535, 0);
	h_at(&h, T0 + 3000);
	EXPECT_SEG(&h, &s, F_SYN | F_ACK, sa.seq, 778, 65535, 0);
	/* A duplicate SYN gets the SYN-ACK again. */
	p.seq = 777;
	peer_syn(&p, &no_opts);
	EXPECT_SEG(&h, &s, F_SYN | F_ACK, sa.seq, 778, 65535, 0);
	/* syn_retries spent: the half-open connection goes, quietly. */
	h_at(&h, T0 + 7000);
	EXPECT_NONE(&h);
	CHECK(net_tcp_conns(h.nl, &half) == 0 && half == 0);
	CHECK(h_no_event(&h) == 0);
	h_close(&h);
}

/* RFC 4987 3.6: past syn_backlog, SYN cookies, no state until the ACK. */
static void
test_syn_cookies(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer a, b, c, d;
	struct seg sa, s;
	struct net_tcp_event ev;
	struct net_tcp_info i;
	uint32_t half;
	uint8_t buf[300];
	struct h h;

	tc.syn_backlog = 1;
	h_open(&h, &tc);
	net_tcp_listen(h.nl, LPORT);
	/* a: stateful half-open, fills the backlog */
	memset(&a, 0, sizeof(a));
	a.h = &h;
	a.port = PPORT;
	a.lport = LPORT;
	a.seq = 100;
	a.wnd = 65535;
	peer_syn(&a, &all_opts);
	EXPECT_SEG(&h, &sa, F_SYN | F_ACK, ANY, 101, 65535, 0);
	CHECK(net_tcp_conns(h.nl, &half) == 1 && half == 1);
	CHECK(net_tcp_counters(h.nl)->syn_cookies_sent == 0);

	/* b: a cookie with every option, carried in the TSval's low bits */
	memset(&b, 0, sizeof(b));
	b.h = &h;
	b.port = PPORT + 1;
	b.lport = LPORT;
	b.seq = 0xfffffff0u;
	b.wnd = 1000;
	b.tsval = 0x11111111;
	peer_syn(&b, &all_opts);
	EXPECT_SEG(&h, &sa, F_SYN | F_ACK, ANY, 0xfffffff1u, 65535, 0);
	CHECK(net_tcp_conns(h.nl, &half) == 1 && half == 1); /* stateless */
	CHECK(net_tcp_counters(h.nl)->syn_cookies_sent == 1);
	CHECK(sa.mss_on && sa.mss == 1460 && sa.sackp_on && sa.ts_on && sa.ws_on && sa.ws == 3);
	CHECK(sa.tsecr == 0x11111111);
	CHECK((sa.tsval & 0x1f) == (0x10 | 7)); /* SACK | peer's shift */
	CHECK(sa.raw_len % 4 == 0);
	b.iss = sa.seq;
	b.ack = sa.seq + 1;
	b.tsecr = sa.tsval;
	b.tsval++;
	/* the ACK with the cookie, and data on it */
	fill(buf, 0, 300);
	psend(&b, F_ACK, buf, 300);
	ev = h_event(&h);
	CHECK(ev.flags == (NET_TCP_EV_ACCEPT | NET_TCP_EV_READ) && ev.peer_port == PPORT + 1);
	b.handle = ev.handle;
	CHECK(net_tcp_conns(h.nl, &half) == 2 && half == 1);
	CHECK(net_tcp_counters(h.nl)->syn_cookies_accepted == 1);
	i = info(&h, b.handle);
	CHECK(i.state == NET_TCP_ESTABLISHED && i.snd_wscale == 7 && i.rcv_wscale == 3);
	CHECK(i.ts && i.sack && i.mss == 1460 - 12);
	CHECK(i.snd_wnd == 1000u << 7 && i.snd_una == b.iss + 1 && i.rcv_nxt == b.seq);
	CHECK(net_tcp_recv(h.nl, b.handle, buf, sizeof(buf)) == 300 && is_pat(buf, 0, 300));
	h_at(&h, h.now + 40);
	PEXPECT(&b, &s, F_ACK, b.iss + 1, b.seq, ANY, 0);

	/* c: no options; a wrong cookie gets a RST and no connection */
	memset(&c, 0, sizeof(c));
	c.h = &h;
	c.port = PPORT + 2;
	c.lport = LPORT;
	c.seq = 5555;
	c.wnd = 8192;
	peer_syn(&c, &no_opts);
	EXPECT_SEG(&h, &sa, F_SYN | F_ACK, ANY, 5556, 65535, 0);
	/* RFC 9293 3.7.1: no MSS option means 536 */
	CHECK(sa.mss_on && sa.mss == 536 && !sa.sackp_on && !sa.ts_on && !sa.ws_on);
	CHECK(sa.raw_len % 4 == 0);
	c.iss = sa.seq;
	c.ack = sa.seq + 2; /* off by one */
	h_drops_reset(&h);
	psend(&c, F_ACK, NULL, 0);
	/* RFC 9293 3.10.7.2: an ACK in LISTEN gets <SEQ=SEG.ACK><CTL=RST> */
	EXPECT_SEG(&h, &s, F_RST, sa.seq + 2, 0, 0, 0);
	CHECK(h_drops(&h, NET_E_TCP_BAD_COOKIE) == 1 && h_drops_total(&h) == 1);
	CHECK(net_tcp_conns(h.nl, NULL) == 2 && h_no_event(&h) == 0);
	/* the right cookie now: an ESTABLISHED connection with MSS 536 */
	c.ack = sa.seq + 1;
	psend(&c, F_ACK, NULL, 0);
	ev = h_event(&h);
	CHECK(ev.flags == NET_TCP_EV_ACCEPT && ev.peer_port == PPORT + 2);
	c.handle = ev.handle;
	i = info(&h, c.handle);
	CHECK(i.state == NET_TCP_ESTABLISHED && i.mss == 536 && !i.ts && !i.sack);
	CHECK(i.snd_wscale == 0 && i.rcv_wscale == 0 && i.snd_wnd == 8192);
	EXPECT_NONE(&h);

	/* d: MSS 1300 rounds down to the cookie table's 1220 */
	memset(&d, 0, sizeof(d));
	d.h = &h;
	d.port = PPORT + 3;
	d.lport = LPORT;
	d.seq = 9;
	d.wnd = 8192;
	peer_syn(&d, &(struct syn_opts){ true, false, false, false, 1300, 0 });
	EXPECT_SEG(&h, &sa, F_SYN | F_ACK, ANY, 10, 65535, 0);
	CHECK(sa.mss_on && sa.mss == 1220);
	/* a cookie is good for this counter tick and the one before (64 s
	 * each): three ticks later it is stale */
	h_at(&h, T0 + 3 * 65536);
	h_flush(&h); /* a's SYN-ACK retransmissions */
	d.iss = sa.seq;
	d.ack = sa.seq + 1;
	h_drops_reset(&h);
	psend(&d, F_ACK, NULL, 0);
	EXPECT_SEG(&h, &s, F_RST, sa.seq + 1, 0, 0, 0);
	CHECK(h_drops(&h, NET_E_TCP_BAD_COOKIE) == 1);
	net_tcp_close(h.nl, b.handle, true);
	net_tcp_close(h.nl, c.handle, true);
	h_close(&h);
}

/* RFC 9293 3.5: our SYN, the peer's SYN-ACK, our ACK, CONNECTED. */
static void
test_active_open(void)
{
	struct peer p;
	struct seg syn, s;
	struct net_tcp_event ev;
	struct net_tcp_info i;
	int64_t hd;
	struct h h;

	h_open(&h, NULL);
	hd = net_tcp_connect(h.nl, *(const uint32_t *)(const void *)peer_ip, 5555, 42);
	CHECK(hd >= 0);
	CHECK(h_take(&h, &syn));
	seg_expect(__LINE__, &syn, F_SYN, ANY, 0, 65535, 0);
	CHECK(syn.dport == 5555 && syn.sport >= 49152);
	/* MSS, SACK-permitted, TS (TSecr 0), NOP, WS */
	CHECK(syn.raw_len == 20);
	CHECK(memcmp(syn.raw_opt, "\x02\x04\x05\xb4\x04\x02\x08\x0a", 8) == 0);
	CHECK(syn.tsecr == 0 && syn.ws_on && syn.ws == 3);
	CHECK(info(&h, hd).state == NET_TCP_SYN_SENT);
	memset(&p, 0, sizeof(p));
	p.h = &h;
	p.port = 5555;
	p.lport = syn.sport;
	p.seq = 0xfffffffeu; /* the peer's ISN: its SYN-ACK's seq wraps after the SYN */
	p.iss = syn.seq;
	p.ack = syn.seq + 1;
	p.ts = true;
	p.tsval = 77;
	p.tsecr = syn.tsval;
	p.ts_off = syn.tsval - (uint32_t)h.now;
	p.wnd = 3000;
	p.shift = 2;
	s = pseg(&p, F_SYN | F_ACK);
	s.mss_on = true;
	s.mss = 1200;
	s.ws_on = true;
	s.ws = 2;
	s.sackp_on = true;
	h_at(&h, T0 + 5);
	h_send(&h, &s, NULL, 0);
	p.seq++;
	ev = h_event(&h);
	CHECK(ev.handle == hd && ev.flags == NET_TCP_EV_CONNECTED && ev.user == 42);
	PEXPECT(&p, &s, F_ACK, syn.seq + 1, 0xffffffffu, 262144 >> 3, 0);
	CHECK(s.tsecr == 77 && s.tsval == T0 + 5 + p.ts_off);
	i = info(&h, hd);
	CHECK(i.state == NET_TCP_ESTABLISHED && i.snd_wscale == 2 && i.rcv_wscale == 3);
	CHECK(i.ts && i.sack && i.mss == 1200 - 12);
	/* RFC 7323 2.2: the SYN-ACK's window is taken unscaled */
	CHECK(i.snd_wnd == 3000);
	/* RTT from the echoed TSval: 5 ms, so the RTO is the 200 ms floor */
	CHECK(i.srtt_ms == 5 && i.rto_ms == 200);
	CHECK(net_tcp_counters(h.nl)->connects == 1);
	net_tcp_close(h.nl, hd, true);
	EXPECT_SEG(&h, &s, F_RST | F_ACK, syn.seq + 1, 0xffffffffu, 0, 0);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	h_close(&h);
}

/* SYN loss, SYN timeouts, a refused connection, a SYN-ACK with a bad ACK. */
static void
test_active_open_failures(void)
{
	struct net_tcp_conf tc = conf_default;
	struct seg syn, s, r;
	struct net_tcp_event ev;
	uint32_t pip = *(const uint32_t *)(const void *)peer_ip;
	int64_t hd;
	struct h h;

	tc.syn_retries = 2;
	h_open(&h, &tc);
	hd = net_tcp_connect(h.nl, pip, 5555, 1);
	h_drop_nth(&h, 1); /* the first SYN is lost */
	EXPECT_NONE(&h);
	h_at(&h, T0 + 999);
	EXPECT_NONE(&h);
	h_at(&h, T0 + 1000);
	CHECK(h_take(&h, &syn));
	seg_expect(__LINE__, &syn, F_SYN, ANY, 0, 65535, 0);
	CHECK(syn.mss_on && syn.ws_on && syn.ts_on && syn.sackp_on);
	h_at(&h, T0 + 3000);
	EXPECT_SEG(&h, &s, F_SYN, syn.seq, 0, 65535, 0);
	/* syn_retries = 2: the third expiry gives up */
	h_at(&h, T0 + 6999);
	EXPECT_NONE(&h);
	h_at(&h, T0 + 7000);
	EXPECT_NONE(&h);
	ev = h_event(&h);
	CHECK(ev.handle == hd && ev.flags == NET_TCP_EV_CLOSED && ev.err == ETIMEDOUT);
	CHECK(info(&h, hd).state == NET_TCP_CLOSED);
	CHECK(net_tcp_recv(h.nl, hd, &r, 1) == -ETIMEDOUT);
	net_tcp_close(h.nl, hd, false);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);

	/* RST,ACK to our SYN: refused (RFC 9293 3.10.7.3) */
	hd = net_tcp_connect(h.nl, pip, 5556, 2);
	CHECK(h_take(&h, &syn));
	memset(&s, 0, sizeof(s));
	s.sport = 5556;
	s.dport = syn.sport;
	s.seq = 0;
	s.ack = syn.seq + 1;
	s.flags = F_RST | F_ACK;
	h_send(&h, &s, NULL, 0);
	ev = h_event(&h);
	CHECK(ev.handle == hd && ev.flags == NET_TCP_EV_CLOSED && ev.err == ECONNREFUSED);
	EXPECT_NONE(&h);
	net_tcp_close(h.nl, hd, false);

	/* A SYN-ACK acknowledging something else: <SEQ=SEG.ACK><CTL=RST>, and
	 * the connection attempt goes on. */
	hd = net_tcp_connect(h.nl, pip, 5557, 3);
	CHECK(h_take(&h, &syn));
	s.sport = 5557;
	s.dport = syn.sport;
	s.seq = 1234;
	s.ack = syn.seq + 5;
	s.flags = F_SYN | F_ACK;
	s.wnd = 1000;
	h_drops_reset(&h);
	h_send(&h, &s, NULL, 0);
	EXPECT_SEG(&h, &r, F_RST, syn.seq + 5, 0, 0, 0);
	CHECK(h_drops(&h, NET_E_TCP_SYN_SENT_BAD_ACK) == 1);
	CHECK(info(&h, hd).state == NET_TCP_SYN_SENT && h_no_event(&h) == 0);
	/* a RST without an acceptable ACK is dropped, nothing else */
	s.flags = F_RST;
	s.ack = 0;
	h_send(&h, &s, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(info(&h, hd).state == NET_TCP_SYN_SENT);
	net_tcp_close(h.nl, hd, false);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	h_close(&h);
}

/* RFC 9293 3.5 figure 8: both SYNs cross; the peer's SYN,ACK completes it. */
static void
test_simultaneous_open(void)
{
	struct peer p;
	struct seg syn, s;
	struct net_tcp_event ev;
	struct net_tcp_info i;
	int64_t hd;
	struct h h;

	h_open(&h, NULL);
	hd = net_tcp_connect(h.nl, *(const uint32_t *)(const void *)peer_ip, 5555, 9);
	CHECK(h_take(&h, &syn));
	memset(&p, 0, sizeof(p));
	p.h = &h;
	p.port = 5555;
	p.lport = syn.sport;
	p.seq = 300;
	p.iss = syn.seq;
	p.wnd = 100;
	p.tsval = 10;
	/* the peer's own SYN, with WS 2 and timestamps: SYN-RECEIVED, SYN,ACK */
	peer_syn(&p, &(struct syn_opts){ true, true, false, true, 1000, 2 });
	p.ack = syn.seq + 1;
	p.tsecr = syn.tsval;
	EXPECT_SEG(&h, &s, F_SYN | F_ACK, syn.seq, 301, 65535, 0);
	CHECK(s.mss_on && s.ws_on && s.ws == 3 && s.ts_on && s.tsecr == 10 && !s.sackp_on);
	CHECK(info(&h, hd).state == NET_TCP_SYN_RECEIVED && h_no_event(&h) == 0);
	/* the peer's SYN,ACK <SEQ=300><ACK=ISS+1>: ESTABLISHED */
	p.seq = 300;
	s = pseg(&p, F_SYN | F_ACK);
	h_send(&h, &s, NULL, 0);
	p.seq = 301;
	ev = h_event(&h);
	CHECK(ev.handle == hd && ev.flags == NET_TCP_EV_CONNECTED && ev.user == 9);
	i = info(&h, hd);
	CHECK(i.state == NET_TCP_ESTABLISHED && i.snd_una == syn.seq + 1 && i.rcv_nxt == 301);
	/* RFC 7323 2.2: a window in a segment with SYN is not scaled */
	CHECK(i.snd_wnd == 100 && i.snd_wscale == 2 && i.rcv_wscale == 3);
	EXPECT_NONE(&h);
	CHECK(net_tcp_send(h.nl, hd, "hi", 2) == 2);
	PEXPECT(&p, &s, F_ACK | F_PSH, syn.seq + 1, 301, 262144 >> 3, 2);
	net_tcp_close(h.nl, hd, true);
	h_close(&h);
}

/* ---- receiving ---- */

/* In-order data: READ, net_tcp_recv and net_tcp_recv_chain see the bytes. */
static void
test_in_order_data(void)
{
	struct peer p;
	struct seg s;
	struct net_tcp_event ev;
	struct rte_mbuf *m;
	uint8_t buf[1000], out[1000];
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 0x7ffffff0u, &no_opts, NULL);
	CHECK(net_tcp_recv(h.nl, p.handle, out, sizeof(out)) == -EAGAIN);
	fill(buf, 0, 500);
	psend(&p, F_ACK | F_PSH, buf, 500);
	ev = h_event(&h);
	CHECK(ev.handle == p.handle && ev.flags == NET_TCP_EV_READ);
	CHECK(info(&h, p.handle).unread == 500);
	CHECK(net_tcp_recv(h.nl, p.handle, out, 200) == 200 && is_pat(out, 0, 200));
	CHECK(net_tcp_recv_chain(h.nl, p.handle, &m) == 300);
	CHECK(rte_pktmbuf_pkt_len(m) == 300);
	CHECK(rte_pktmbuf_read(m, 0, 300, out) != NULL);
	CHECK(is_pat(rte_pktmbuf_read(m, 0, 300, out), 200, 300));
	rte_pktmbuf_free(m);
	CHECK(net_tcp_recv(h.nl, p.handle, out, sizeof(out)) == -EAGAIN);
	/* three segments in one burst: chained in the receive queue */
	fill(buf, 500, 300);
	psend(&p, F_ACK, buf, 100);
	psend(&p, F_ACK, buf + 100, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0); /* every second segment */
	psend(&p, F_ACK, buf + 200, 100);
	EXPECT_NONE(&h);
	CHECK(net_tcp_recv_chain(h.nl, p.handle, &m) == 300);
	CHECK(m->nb_segs == 3 && rte_pktmbuf_pkt_len(m) == 300);
	CHECK(is_pat(rte_pktmbuf_read(m, 0, 300, out), 500, 300));
	rte_pktmbuf_free(m);
	CHECK(net_tcp_mbufs_held(h.nl) == 0);
	CHECK(net_tcp_counters(h.nl)->bytes_in == 800);
	h_at(&h, h.now + 40);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0);
	CHECK(h_drops_total(&h) == 0);
	net_tcp_close(h.nl, p.handle, false);
	h_close(&h);
}

/* RFC 1122 4.2.3.2: delay an ACK (< 0.5 s), but ACK every second segment. */
static void
test_delayed_ack(void)
{
	struct peer p;
	struct seg s;
	uint8_t buf[100];
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 1, &no_opts, NULL);
	fill(buf, 0, 100);
	psend(&p, F_ACK, buf, 100);
	EXPECT_NONE(&h);
	h_at(&h, T0 + 39);
	EXPECT_NONE(&h);
	h_at(&h, T0 + 40);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, 102, 65435, 0);
	CHECK(net_tcp_counters(h.nl)->delayed_acks == 1);
	/* two segments: the second is ACKed at once, and the timer is off */
	psend(&p, F_ACK, buf, 100);
	h_at(&h, T0 + 50);
	EXPECT_NONE(&h);
	psend(&p, F_ACK, buf, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, 302, ANY, 0);
	h_at(&h, T0 + 200);
	EXPECT_NONE(&h);
	CHECK(net_tcp_counters(h.nl)->delayed_acks == 1);
	/* a pure ACK is not acknowledged */
	psend(&p, F_ACK, NULL, 0);
	h_at(&h, T0 + 400);
	EXPECT_NONE(&h);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* Check the SACK blocks of s against want[n][2] (relative to base). */
static void
sack_expect(int line, const struct seg *s, uint32_t base, unsigned n, const uint32_t want[][2])
{
	checks++;
	if (s->nsack != n) {
		failures++;
		fprintf(stderr, "test_tcp.c:%d: %u SACK blocks, expected %u\n", line, s->nsack, n);
		return;
	}
	for (unsigned b = 0; b < n; b++) {
		checks++;
		if (s->sack[b][0] != base + want[b][0] || s->sack[b][1] != base + want[b][1]) {
			failures++;
			fprintf(stderr,
				"test_tcp.c:%d: SACK block %u [+%u,+%u), expected [+%u,+%u)\n",
				line, b, s->sack[b][0] - base, s->sack[b][1] - base, want[b][0],
				want[b][1]);
		}
	}
}

#define SACK_EXPECT(s, base, n, ...)                                                               \
	sack_expect(__LINE__, (s), (base), (n), (const uint32_t[][2]){ __VA_ARGS__ })

/* Send bytes [off, off+len) of the peer's stream, relative to base. */
static void
psend_at(struct peer *p, uint32_t base, uint32_t off, uint32_t len)
{
	uint8_t buf[1500];
	uint32_t save = p->seq;

	fill(buf, off, len);
	p->seq = base + off;
	psend(p, F_ACK, buf, len);
	p->seq = save;
}

/* Out-of-order data, SACK (RFC 2018), duplicates and overlaps. */
static void
test_out_of_order(void)
{
	struct peer p;
	struct seg s;
	uint8_t out[2000];
	uint32_t n;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 0xfffffe00u, &all_opts, NULL);
	n = p.seq; /* RCV.NXT; the stream crosses 2^32 */
	/* RFC 5681 4.2: an out-of-order segment gets an immediate duplicate ACK */
	psend_at(&p, n, 100, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	SACK_EXPECT(&s, n, 1, { 100, 200 });
	CHECK(info(&h, p.handle).ooo == 1 && h_no_event(&h) == 0);
	/* RFC 2018 4: the first block holds the segment that triggered the ACK */
	psend_at(&p, n, 300, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	SACK_EXPECT(&s, n, 2, { 300, 400 }, { 100, 200 });
	psend_at(&p, n, 500, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	SACK_EXPECT(&s, n, 3, { 500, 600 }, { 100, 200 }, { 300, 400 });
	/* with timestamps only 3 blocks fit in 40 bytes; the 4th run is left out */
	psend_at(&p, n, 700, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	SACK_EXPECT(&s, n, 3, { 700, 800 }, { 100, 200 }, { 300, 400 });
	CHECK(s.raw_len == 40);
	/* a duplicate of a held segment: dropped, ACKed, its block first */
	h_drops_reset(&h);
	psend_at(&p, n, 300, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	SACK_EXPECT(&s, n, 3, { 300, 400 }, { 100, 200 }, { 500, 600 });
	CHECK(h_drops(&h, NET_E_TCP_OOO_DUP) == 1);
	/* a segment bridging two blocks merges them into one run */
	psend_at(&p, n, 200, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	SACK_EXPECT(&s, n, 3, { 100, 400 }, { 500, 600 }, { 700, 800 });
	/* the hole at the front filled: cumulative ACK over the first run */
	psend_at(&p, n, 0, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 400, ANY, 0);
	SACK_EXPECT(&s, n, 2, { 500, 600 }, { 700, 800 });
	CHECK(h_event(&h).flags == NET_TCP_EV_READ);
	/* starting before RCV.NXT and overlapping the held [500,600): only the
	 * bytes in between are new */
	psend_at(&p, n, 350, 200);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 600, ANY, 0);
	SACK_EXPECT(&s, n, 1, { 700, 800 });
	/* a segment covering a held one entirely replaces it */
	psend_at(&p, n, 650, 200);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 600, ANY, 0);
	SACK_EXPECT(&s, n, 1, { 650, 850 });
	psend_at(&p, n, 600, 50);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 850, ANY, 0);
	CHECK(s.nsack == 0);
	CHECK(info(&h, p.handle).ooo == 0 && info(&h, p.handle).unread == 850);
	/* an old segment entirely before RCV.NXT: ACK and drop (RFC 9293 3.10.7.4) */
	h_drops_reset(&h);
	psend_at(&p, n, 100, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 850, ANY, 0);
	CHECK(h_drops(&h, NET_E_TCP_OUT_OF_WINDOW) == 1 && h_drops_total(&h) == 1);
	/* starting before RCV.NXT and going past it: the new part is kept */
	psend_at(&p, n, 800, 150);
	CHECK(info(&h, p.handle).unread == 950);
	h_at(&h, h.now + 40);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 950, ANY, 0);
	CHECK(net_tcp_recv(h.nl, p.handle, out, sizeof(out)) == 950 && is_pat(out, 0, 950));
	CHECK(net_tcp_counters(h.nl)->ooo_queued >= 6);
	net_tcp_close(h.nl, p.handle, false);
	h_close(&h);
}

/* RFC 7323 2: our window is advertised shifted; the peer's is scaled. */
static void
test_window_scaling(void)
{
	struct peer p;
	struct seg s;
	uint8_t buf[5000];
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 50, &(struct syn_opts){ true, true, false, false, 1000, 4 },
		     NULL);
	/* the peer's window: 125 << 4 = 2000 bytes */
	p.wnd = 125;
	psend(&p, F_ACK, NULL, 0);
	CHECK(info(&h, p.handle).snd_wnd == 2000);
	fill(buf, 0, 5000);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 5000) == 5000);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, 262144 >> 3, 1000);
	CHECK(is_pat(s.data, 0, 1000));
	PEXPECT(&p, &s, F_ACK, p.iss + 1001, p.seq, 262144 >> 3, 1000);
	CHECK(is_pat(s.data, 1000, 1000));
	EXPECT_NONE(&h);
	/* one segment ACKed, the window slides by one */
	p.ack = p.iss + 1001;
	psend(&p, F_ACK, NULL, 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 2001, p.seq, 262144 >> 3, 1000);
	EXPECT_NONE(&h);
	/* 1000 bytes in: our window is 262144 - 1000, shifted right by 3 */
	fill(buf, 0, 1000);
	psend(&p, F_ACK, buf, 1000);
	h_at(&h, h.now + 40);
	PEXPECT(&p, &s, F_ACK, p.iss + 3001, p.seq, (262144 - 1000) >> 3, 0);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* ---- sending: retransmission ---- */

/* RFC 6298: RTO, doubling backoff, give up after max_retries (RFC 1122 4.2.3.5). */
static void
test_rto_backoff(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	struct net_tcp_event ev;
	uint8_t buf[100];
	uint64_t t, gap = 1000;
	struct h h;

	tc.max_retries = 3;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 0x40000000u, &no_opts, NULL);
	CHECK(info(&h, p.handle).rto_ms == 1000); /* no RTT sample yet: rto_init */
	fill(buf, 0, 100);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 100) == 100);
	h_drop_nth(&h, 1);
	EXPECT_NONE(&h);
	CHECK(h.dropped == 1);
	t = h.now;
	for (unsigned k = 1; k <= 3; k++) {
		t += gap;
		h_at(&h, t - 1);
		EXPECT_NONE(&h);
		h_at(&h, t);
		PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 1, p.seq, ANY, 100);
		CHECK(is_pat(s.data, 0, 100));
		CHECK(info(&h, p.handle).backoff == k);
		gap *= 2;
	}
	CHECK(net_tcp_counters(h.nl)->rto_fired == 3 && net_tcp_counters(h.nl)->retransmits == 3);
	/* the fourth expiry: RST, CLOSED with ETIMEDOUT */
	t += gap;
	h_at(&h, t - 1);
	EXPECT_NONE(&h);
	h_at(&h, t);
	EXPECT_SEG(&h, &s, F_RST | F_ACK, p.iss + 101, p.seq, 0, 0);
	ev = h_event(&h);
	CHECK(ev.handle == p.handle && ev.flags == NET_TCP_EV_CLOSED && ev.err == ETIMEDOUT);
	CHECK(net_tcp_recv(h.nl, p.handle, buf, 1) == -ETIMEDOUT);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 1) == -ETIMEDOUT);
	CHECK(net_tcp_counters(h.nl)->timeouts == 1);
	net_tcp_close(h.nl, p.handle, false);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	EXPECT_NONE(&h);
	h_close(&h);
}

/* After an RTO: go back to SND.UNA with cwnd = 1 SMSS (RFC 5681 3.1); the
 * ACK of the retransmission ends the backoff. */
static void
test_rto_recovery(void)
{
	struct peer p;
	struct seg s;
	struct net_tcp_info i;
	uint8_t buf[1608];
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 7, &(struct syn_opts){ true, false, false, false, 536, 0 },
		     NULL);
	fill(buf, 0, sizeof(buf));
	CHECK(net_tcp_send(h.nl, p.handle, buf, 1608) == 1608);
	h_drop_nth(&h, 1);
	PEXPECT(&p, &s, F_ACK, p.iss + 537, p.seq, ANY, 536);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 1073, p.seq, ANY, 536);
	EXPECT_NONE(&h);
	h_at(&h, h.now + 1000);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 536);
	CHECK(is_pat(s.data, 0, 536));
	EXPECT_NONE(&h); /* cwnd is one segment */
	i = info(&h, p.handle);
	CHECK(i.cwnd == 536 && i.ssthresh == 1072 && i.backoff == 1);
	/* the peer had the other two: one cumulative ACK, nothing resent */
	p.ack = p.iss + 1609;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	i = info(&h, p.handle);
	CHECK(i.snd_una == p.iss + 1609 && i.snd_nxt == i.snd_una && i.backoff == 0);
	CHECK(i.unsent == 0);
	/* Karn: no RTT sample from a retransmission, the RTO stays */
	CHECK(i.srtt_ms == 0 && i.rto_ms == 1000);
	h_at(&h, h.now + 10000);
	EXPECT_NONE(&h);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* RFC 5681 3.2 fast retransmit with Limited Transmit (RFC 3042), RFC 6582
 * NewReno partial and full ACKs. */
static void
test_fast_retransmit_newreno(void)
{
	struct peer p;
	struct seg s;
	struct net_tcp_info i;
	uint8_t buf[16 * 536];
	uint32_t seg1;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 0xffff0000u,
		     &(struct syn_opts){ true, false, false, false, 536, 0 }, NULL);
	CHECK(info(&h, p.handle).cwnd == 4 * 536); /* RFC 5681 3.1 IW */
	/* slow start: four segments, each ACKed, cwnd 4 -> 8 segments */
	fill(buf, 0, sizeof(buf));
	CHECK(net_tcp_send(h.nl, p.handle, buf, 4 * 536) == 4 * 536);
	for (unsigned k = 0; k < 4; k++)
		PEXPECT(&p, &s, F_ACK | (k == 3 ? F_PSH : 0), p.iss + 1 + 536 * k, p.seq, ANY, 536);
	EXPECT_NONE(&h);
	for (unsigned k = 1; k <= 4; k++) {
		p.ack = p.iss + 1 + 536 * k;
		psend(&p, F_ACK, NULL, 0);
	}
	EXPECT_NONE(&h);
	CHECK(info(&h, p.handle).cwnd == 8 * 536);
	/* sixteen segments S1..S16 queued, eight fly; S1 and S4 are lost */
	seg1 = p.ack;
	CHECK(net_tcp_send(h.nl, p.handle, buf, 16 * 536) == 16 * 536);
	h_drop_nth(&h, 1);
	h_drop_nth(&h, 4);
	for (unsigned k = 0; k < 8; k++) {
		if (k == 0 || k == 3)
			continue;
		PEXPECT(&p, &s, F_ACK, seg1 + 536 * k, p.seq, ANY, 536);
	}
	EXPECT_NONE(&h);
	/* S2, S3 arrive: two duplicate ACKs; Limited Transmit sends one new
	 * segment for each (RFC 5681 3.2 step 1), cwnd unchanged */
	psend(&p, F_ACK, NULL, 0);
	PEXPECT(&p, &s, F_ACK, seg1 + 536 * 8, p.seq, ANY, 536);
	psend(&p, F_ACK, NULL, 0);
	PEXPECT(&p, &s, F_ACK, seg1 + 536 * 9, p.seq, ANY, 536);
	EXPECT_NONE(&h);
	i = info(&h, p.handle);
	CHECK(i.dupacks == 2 && i.cwnd == 8 * 536 && !i.in_recovery);
	/* S5: the third duplicate ACK retransmits S1 at once */
	psend(&p, F_ACK, NULL, 0);
	PEXPECT(&p, &s, F_ACK, seg1, p.seq, ANY, 536);
	CHECK(is_pat(s.data, 0, 536));
	EXPECT_NONE(&h);
	i = info(&h, p.handle);
	/* step 2: ssthresh = max(FlightSize / 2, 2 SMSS), the Limited Transmit
	 * segments not counted; step 3: cwnd = ssthresh + 3 SMSS */
	CHECK(i.in_recovery && i.ssthresh == 4 * 536 && i.cwnd == 7 * 536);
	CHECK(net_tcp_counters(h.nl)->fast_retransmits == 1);
	/* S6, S7, S8: cwnd + SMSS each (step 4), up to the 10 segments in
	 * flight: nothing new. S9..S12: one new segment each (step 5). */
	for (unsigned k = 0; k < 3; k++)
		psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(info(&h, p.handle).cwnd == 10 * 536);
	for (unsigned k = 10; k < 14; k++) {
		psend(&p, F_ACK, NULL, 0);
		PEXPECT(&p, &s, F_ACK, seg1 + 536 * k, p.seq, ANY, 536);
		EXPECT_NONE(&h);
	}
	CHECK(info(&h, p.handle).cwnd == 14 * 536);
	/* S1 arrives: a partial ACK up to S4. RFC 6582 3.2 step 3: retransmit
	 * S4 at once, deflate cwnd by the bytes acknowledged and add back one
	 * SMSS, send what the new cwnd allows. */
	p.ack = seg1 + 3 * 536;
	psend(&p, F_ACK, NULL, 0);
	PEXPECT(&p, &s, F_ACK, seg1 + 3 * 536, p.seq, ANY, 536);
	CHECK(is_pat(s.data, 3 * 536, 536));
	i = info(&h, p.handle);
	CHECK(i.in_recovery && i.cwnd == 14 * 536 - 3 * 536 + 536);
	CHECK(net_tcp_counters(h.nl)->partial_acks == 1);
	/* 12 segments of cwnd, 11 in flight after S4: S15 */
	PEXPECT(&p, &s, F_ACK, seg1 + 536 * 14, p.seq, ANY, 536);
	EXPECT_NONE(&h);
	/* everything up to S15: a full ACK (beyond "recover", the end of S10).
	 * cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS), recovery ends. */
	p.ack = seg1 + 15 * 536;
	psend(&p, F_ACK, NULL, 0);
	i = info(&h, p.handle);
	CHECK(!i.in_recovery && i.cwnd == 2 * 536);
	PEXPECT(&p, &s, F_ACK | F_PSH, seg1 + 536 * 15, p.seq, ANY, 536);
	EXPECT_NONE(&h);
	p.ack = seg1 + 16 * 536;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	i = info(&h, p.handle);
	CHECK(i.unsent == 0 && i.snd_una == i.snd_max && i.dupacks == 0);
	CHECK(net_tcp_counters(h.nl)->rto_fired == 0);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* RFC 9293 3.8.6.1: the peer's zero window, persist probes with backoff,
 * and data once it opens. */
static void
test_zero_window_persist(void)
{
	struct peer p;
	struct seg s;
	uint8_t buf[100];
	uint64_t t;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 300, &no_opts, NULL);
	p.wnd = 0;
	psend(&p, F_ACK, NULL, 0);
	fill(buf, 0, 100);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 100) == 100);
	EXPECT_NONE(&h);
	t = h.now;
	/* probes of one new byte at 1, 2, 4 s intervals; answered with a zero window */
	for (unsigned k = 0, gap = 1000; k < 3; k++, gap *= 2) {
		t += gap;
		h_at(&h, t - 1);
		EXPECT_NONE(&h);
		h_at(&h, t);
		PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 1);
		CHECK(s.data[0] == pat(0));
		psend(&p, F_ACK, NULL, 0);
		EXPECT_NONE(&h);
	}
	CHECK(net_tcp_counters(h.nl)->zero_window_probes == 3);
	CHECK(info(&h, p.handle).state == NET_TCP_ESTABLISHED);
	/* the window opens (the probe byte was not taken): all 100 bytes go,
	 * from SND.UNA */
	p.wnd = 1000;
	psend(&p, F_ACK, NULL, 0);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 1, p.seq, ANY, 100);
	CHECK(is_pat(s.data, 0, 100));
	EXPECT_NONE(&h);
	p.ack = p.iss + 101;
	psend(&p, F_ACK, NULL, 0);
	h_at(&h, t + 100000);
	EXPECT_NONE(&h);
	CHECK(info(&h, p.handle).snd_una == p.iss + 101);

	/* A probe the peer takes: ACKed with a zero window, the next probe
	 * carries the next byte. */
	p.wnd = 0;
	psend(&p, F_ACK, NULL, 0);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 10) == 10);
	EXPECT_NONE(&h);
	t = h.now;
	h_at(&h, t + info(&h, p.handle).rto_ms);
	PEXPECT(&p, &s, F_ACK, p.iss + 101, p.seq, ANY, 1);
	p.ack = p.iss + 102;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	h_at(&h, h.now + info(&h, p.handle).rto_ms);
	PEXPECT(&p, &s, F_ACK, p.iss + 102, p.seq, ANY, 1);
	CHECK(s.data[0] == pat(1));
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* ---- closing ---- */

/* Peer FIN -> CLOSE-WAIT -> our close -> LAST-ACK -> freed (RFC 9293 3.6). */
static void
test_passive_close(void)
{
	struct peer p;
	struct seg s;
	struct net_tcp_event ev;
	uint8_t buf[64];
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 0xfffffff0u, &all_opts, NULL);
	fill(buf, 0, 10);
	psend(&p, F_ACK | F_FIN, buf, 10);
	/* "advance RCV.NXT over the FIN, and send an acknowledgment for the FIN" */
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0);
	CHECK(p.seq == 0xfffffff0u + 1 + 11);
	ev = h_event(&h);
	CHECK(ev.flags == NET_TCP_EV_READ);
	CHECK(info(&h, p.handle).state == NET_TCP_CLOSE_WAIT);
	CHECK(net_tcp_recv(h.nl, p.handle, buf, sizeof(buf)) == 10 && is_pat(buf, 0, 10));
	CHECK(net_tcp_recv(h.nl, p.handle, buf, sizeof(buf)) == 0); /* EOF */
	/* a retransmitted FIN is old: ACKed again */
	p.seq -= 11;
	psend(&p, F_ACK | F_FIN, buf, 10);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0);
	/* still ours to send in CLOSE-WAIT; then close: FIN after the data */
	CHECK(net_tcp_send(h.nl, p.handle, "bye", 3) == 3);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 1, p.seq, ANY, 3);
	CHECK(memcmp(s.data, "bye", 3) == 0);
	p.ack = p.iss + 4;
	psend(&p, F_ACK, NULL, 0);
	net_tcp_close(h.nl, p.handle, false);
	h_drop_nth(&h, 1); /* the FIN is lost */
	EXPECT_NONE(&h);
	CHECK(net_tcp_conns(h.nl, NULL) == 1);
	/* the FIN comes again after the RTO, same sequence number */
	h_at(&h, h.now + 200);
	PEXPECT(&p, &s, F_ACK | F_FIN, p.iss + 4, p.seq, ANY, 0);
	p.ack = p.iss + 5;
	p.tsval++;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	CHECK(h_no_event(&h) == 0);
	h_close(&h);
}

/* Our FIN first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, freed after 2 MSL. */
static void
test_active_close(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	uint8_t buf[16];
	uint64_t t;
	struct h h;

	tc.msl_ms = 5000;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	CHECK(net_tcp_shutdown_write(h.nl, p.handle) == 0);
	PEXPECT(&p, &s, F_ACK | F_FIN, p.iss + 1, 6, ANY, 0);
	CHECK(info(&h, p.handle).state == NET_TCP_FIN_WAIT_1);
	CHECK(net_tcp_send(h.nl, p.handle, "x", 1) == -EPIPE);
	p.ack = p.iss + 2;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(info(&h, p.handle).state == NET_TCP_FIN_WAIT_2);
	/* half closed: the peer still sends */
	psend(&p, F_ACK, "late", 4);
	CHECK(h_event(&h).flags == NET_TCP_EV_READ);
	CHECK(net_tcp_recv(h.nl, p.handle, buf, sizeof(buf)) == 4 && memcmp(buf, "late", 4) == 0);
	psend(&p, F_ACK | F_FIN, NULL, 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 2, 11, ANY, 0);
	CHECK(info(&h, p.handle).state == NET_TCP_TIME_WAIT);
	CHECK(h_event(&h).flags == NET_TCP_EV_READ);
	CHECK(net_tcp_recv(h.nl, p.handle, buf, sizeof(buf)) == 0);
	t = h.now;
	net_tcp_close(h.nl, p.handle, false);
	CHECK(net_tcp_conns(h.nl, NULL) == 1);
	/* a retransmitted FIN in TIME-WAIT is ACKed */
	p.seq--;
	psend(&p, F_ACK | F_FIN, NULL, 0);
	EXPECT_SEG(&h, &s, F_ACK, p.iss + 2, 11, ANY, 0);
	h_at(&h, t + 2 * 5000 - 1);
	CHECK(net_tcp_conns(h.nl, NULL) == 1);
	h_at(&h, t + 2 * 5000);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	EXPECT_NONE(&h);
	/* the port is free: a new SYN from the same peer port is a new connection */
	passive_open(&h, &p, PPORT, 1000000, &no_opts, NULL);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* net_tcp_close in ESTABLISHED; the peer never sends its FIN: FIN-WAIT-2 ends
 * on its own timer. */
static void
test_close_fin_wait2_timeout(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	struct h h;

	tc.fin_wait2_ms = 3000;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	net_tcp_close(h.nl, p.handle, false);
	PEXPECT(&p, &s, F_ACK | F_FIN, p.iss + 1, 6, ANY, 0);
	CHECK(net_tcp_info(h.nl, p.handle, &(struct net_tcp_info){ 0 }) == -EBADF);
	p.ack = p.iss + 2;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(net_tcp_conns(h.nl, NULL) == 1);
	h_at(&h, h.now + 2999);
	CHECK(net_tcp_conns(h.nl, NULL) == 1);
	h_at(&h, h.now + 1);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	EXPECT_NONE(&h);
	CHECK(h_no_event(&h) == 0);
	h_close(&h);
}

/* Both FINs cross: FIN-WAIT-1 -> CLOSING -> TIME-WAIT (RFC 9293 3.6 figure 13). */
static void
test_simultaneous_close(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	struct h h;

	tc.msl_ms = 1000;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 5, &all_opts, NULL);
	CHECK(net_tcp_shutdown_write(h.nl, p.handle) == 0);
	PEXPECT(&p, &s, F_ACK | F_FIN, p.iss + 1, 6, ANY, 0);
	/* the peer's FIN does not acknowledge ours */
	psend(&p, F_ACK | F_FIN, NULL, 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 2, 7, ANY, 0);
	CHECK(info(&h, p.handle).state == NET_TCP_CLOSING);
	/* nor does a duplicate ACK of the old SND.UNA: still CLOSING */
	psend(&p, F_ACK, NULL, 0);
	CHECK(info(&h, p.handle).state == NET_TCP_CLOSING);
	p.ack = p.iss + 2;
	p.tsval++;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(info(&h, p.handle).state == NET_TCP_TIME_WAIT);
	net_tcp_close(h.nl, p.handle, false);
	h_at(&h, h.now + 2000);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	EXPECT_NONE(&h);
	h_close(&h);
}

/* Closing with unread data, or abort: RST (RFC 9293 3.10.4, RFC 1122 4.2.2.13). */
static void
test_close_resets(void)
{
	struct peer p;
	struct seg s;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	psend(&p, F_ACK, "unread", 6);
	net_tcp_close(h.nl, p.handle, false);
	EXPECT_SEG(&h, &s, F_RST | F_ACK, p.iss + 1, 12, 0, 0);
	CHECK(net_tcp_conns(h.nl, NULL) == 0 && net_tcp_counters(h.nl)->resets_sent == 1);
	EXPECT_NONE(&h);
	h_close(&h);
}

/* ---- RST, SYN and ACK checks (RFC 5961) ---- */

static void
test_rst(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	struct net_tcp_event ev;
	uint8_t buf[8];
	struct h h;

	tc.challenge_ack_per_s = 2;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 0x80000000u, &no_opts, NULL);
	/* in the window, not RCV.NXT: a challenge ACK (RFC 5961 3.2) */
	s = pseg(&p, F_RST);
	s.seq = p.seq + 1;
	h_send(&h, &s, NULL, 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, 65535, 0);
	CHECK(h_drops(&h, NET_E_TCP_RST_CHALLENGED) == 1);
	CHECK(info(&h, p.handle).state == NET_TCP_ESTABLISHED && h_no_event(&h) == 0);
	/* out of the window: dropped, no reply */
	s = pseg(&p, F_RST);
	s.seq = p.seq + 1000000;
	h_send(&h, &s, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(h_drops(&h, NET_E_TCP_OUT_OF_WINDOW) == 1);
	/* RFC 5961 4.2: a SYN on a synchronized connection: challenge ACK */
	s = pseg(&p, F_SYN);
	s.seq = p.seq + 100;
	h_send(&h, &s, NULL, 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, 65535, 0);
	CHECK(h_drops(&h, NET_E_TCP_SYN_CHALLENGED) == 1);
	CHECK(info(&h, p.handle).state == NET_TCP_ESTABLISHED);
	/* RFC 5961 7: the rate limit (2 per second here) */
	s = pseg(&p, F_RST);
	s.seq = p.seq + 5;
	h_send(&h, &s, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(h_drops(&h, NET_E_TCP_CHALLENGE_LIMIT) == 1);
	CHECK(net_tcp_counters(h.nl)->challenge_acks == 2);
	h_at(&h, h.now + 1000);
	h_send(&h, &s, NULL, 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, 65535, 0);
	CHECK(net_tcp_counters(h.nl)->challenge_acks == 3);
	/* RST at exactly RCV.NXT: the connection is reset */
	s = pseg(&p, F_RST | F_ACK);
	h_send(&h, &s, NULL, 0);
	EXPECT_NONE(&h);
	ev = h_event(&h);
	CHECK(ev.handle == p.handle && ev.flags == NET_TCP_EV_CLOSED && ev.err == ECONNRESET);
	CHECK(info(&h, p.handle).state == NET_TCP_CLOSED);
	CHECK(net_tcp_recv(h.nl, p.handle, buf, sizeof(buf)) == -ECONNRESET);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 1) == -ECONNRESET);
	CHECK(net_tcp_counters(h.nl)->resets_received == 1);
	/* more segments for it: it is gone as far as the peer is concerned */
	psend(&p, F_ACK, "x", 1);
	EXPECT_SEG(&h, &s, F_RST, p.iss + 1, 0, 0, 0);
	net_tcp_close(h.nl, p.handle, false);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	EXPECT_NONE(&h);
	h_close(&h);
}

/* ACK checks, window checks, PAWS. */
static void
test_ack_and_window_checks(void)
{
	struct peer p;
	struct seg s;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 0xfffffff0u, &all_opts, NULL);
	/* RFC 9293 3.10.7.4: an ACK of something not yet sent: ACK, drop */
	s = pseg(&p, F_ACK);
	s.ack = p.iss + 1000;
	h_send(&h, &s, "zz", 2);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0);
	CHECK(h_drops(&h, NET_E_TCP_ACK_UNSENT) == 1 && h_drops_total(&h) == 1);
	CHECK(info(&h, p.handle).unread == 0);
	/* RFC 5961 5.2: an ACK too far behind: challenge ACK, drop */
	s = pseg(&p, F_ACK);
	s.ack = p.iss - 0x40000000u;
	h_send(&h, &s, "zz", 2);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0);
	CHECK(h_drops(&h, NET_E_TCP_ACK_TOO_OLD) == 1 && h_drops_total(&h) == 2);
	CHECK(info(&h, p.handle).unread == 0);
	/* beyond the receive window: ACK, drop */
	s = pseg(&p, F_ACK);
	s.seq = p.seq + 262144 + 10;
	h_send(&h, &s, "zz", 2);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0);
	CHECK(h_drops(&h, NET_E_TCP_OUT_OF_WINDOW) == 1 && h_drops_total(&h) == 3);
	/* RFC 7323 5.3 PAWS: an older TSval is not acceptable: ACK, drop */
	s = pseg(&p, F_ACK);
	s.tsval = p.tsval - 1;
	h_send(&h, &s, "zz", 2);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0);
	CHECK(s.tsecr == p.tsval); /* TS.Recent kept */
	CHECK(h_drops(&h, NET_E_TCP_PAWS) == 1 && h_drops_total(&h) == 4);
	CHECK(info(&h, p.handle).unread == 0 && h_no_event(&h) == 0);
	/* RFC 7323 3.2: without TSopt once negotiated: silently dropped */
	s = pseg(&p, F_ACK);
	s.ts_on = false;
	h_send(&h, &s, "zz", 2);
	EXPECT_NONE(&h);
	CHECK(h_drops(&h, NET_E_TCP_NO_TIMESTAMP) == 1 && h_drops_total(&h) == 5);
	/* no ACK bit: dropped (RFC 9293 3.10.7.4 fifth) */
	s = pseg(&p, 0);
	h_send(&h, &s, "zz", 2);
	EXPECT_NONE(&h);
	CHECK(h_drops(&h, NET_E_TCP_NO_ACK) == 1 && h_drops_total(&h) == 6);
	/* a newer TSval with data: accepted, echoed */
	p.tsval += 100;
	psend(&p, F_ACK, "ok", 2);
	h_at(&h, h.now + 40);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0);
	CHECK(s.tsecr == p.tsval);
	CHECK(info(&h, p.handle).unread == 2);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* ---- our receive window, keepalive, memory ---- */

/* The reader does not read: the window closes to 0; reading opens it with a
 * window update once it can move by min(RCV.BUFF/2, MSS) (RFC 9293 3.8.6.2.2). */
static void
test_rcv_window_closing(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s, sa;
	uint8_t buf[4000];
	uint32_t n;
	struct h h;

	tc.rcv_buf = 4000;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 0xa0000000u,
		     &(struct syn_opts){ true, false, false, false, 1000, 0 }, &sa);
	CHECK(sa.wnd == 4000);
	n = p.seq;
	fill(buf, 0, 4000);
	psend(&p, F_ACK, buf, 1000);
	psend(&p, F_ACK, buf + 1000, 1000);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 2000, 2000, 0);
	psend(&p, F_ACK, buf + 2000, 1000);
	/* 1400 bytes with 1000 of window left: the last 400 are cut (RFC 9293
	 * 3.10.7.4 "trimmed"), the peer will send them again */
	fill(buf, 3000, 1400);
	psend(&p, F_ACK, buf, 1400);
	p.seq -= 400;
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 4000, 0, 0);
	fill(buf, 0, 4000);
	/* a zero-window probe: not acceptable, ACKed with the zero window */
	h_drops_reset(&h);
	psend(&p, F_ACK, "?", 1);
	p.seq--;
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 4000, 0, 0);
	CHECK(h_drops(&h, NET_E_TCP_OUT_OF_WINDOW) == 1 && info(&h, p.handle).unread == 4000);
	/* a pure ACK at RCV.NXT is still fine */
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(h_drops_total(&h) == 1);
	/* 500 bytes read: too little to announce */
	CHECK(net_tcp_recv(h.nl, p.handle, buf, 500) == 500 && is_pat(buf, 0, 500));
	EXPECT_NONE(&h);
	/* 1000 read: one MSS, a window update */
	CHECK(net_tcp_recv(h.nl, p.handle, buf, 500) == 500 && is_pat(buf, 500, 500));
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 4000, 1000, 0);
	CHECK(net_tcp_recv(h.nl, p.handle, buf, 4000) == 3000 && is_pat(buf, 1000, 3000));
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 4000, 4000, 0);
	psend(&p, F_ACK, buf, 1000);
	CHECK(info(&h, p.handle).unread == 1000);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* RFC 1122 4.2.3.6: probes with SEG.SEQ = SND.NXT - 1 after the idle time;
 * an answer restarts the idle time; unanswered probes end the connection. */
static void
test_keepalive(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	struct net_tcp_event ev;
	struct h h;

	tc.keepalive_ms = 10000;
	tc.keepalive_intvl_ms = 1000;
	tc.keepalive_probes = 3;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	h_at(&h, T0 + 9999);
	EXPECT_NONE(&h);
	h_at(&h, T0 + 10000);
	PEXPECT(&p, &s, F_ACK, p.iss, 6, ANY, 0);
	psend(&p, F_ACK, NULL, 0); /* the peer answers */
	h_at(&h, T0 + 11000);
	EXPECT_NONE(&h);
	h_at(&h, T0 + 19999);
	EXPECT_NONE(&h);
	for (unsigned k = 0; k < 3; k++) {
		h_at(&h, T0 + 20000 + 1000 * k);
		PEXPECT(&p, &s, F_ACK, p.iss, 6, ANY, 0);
		CHECK(info(&h, p.handle).state == NET_TCP_ESTABLISHED);
	}
	h_at(&h, T0 + 22999);
	EXPECT_NONE(&h);
	h_at(&h, T0 + 23000);
	EXPECT_SEG(&h, &s, F_RST | F_ACK, p.iss + 1, 6, 0, 0);
	ev = h_event(&h);
	CHECK(ev.flags == NET_TCP_EV_CLOSED && ev.err == ETIMEDOUT);
	CHECK(net_tcp_counters(h.nl)->keepalives == 4);
	net_tcp_close(h.nl, p.handle, false);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	h_close(&h);
}

/* mem_mbufs: the advertised right edge stops past 3/4 of the budget, data
 * past the budget is dropped (tcp_mem_limit), reading opens the window. */
static void
test_memory_cap(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	uint8_t buf[9000];
	uint32_t n;
	struct h h;

	tc.mem_mbufs = 8;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 0xc0000000u,
		     &(struct syn_opts){ true, false, false, false, 1000, 0 }, NULL);
	n = p.seq;
	fill(buf, 0, 9000);
	/* 2 and 4 mbufs held: the edge moves with RCV.NXT */
	for (unsigned k = 0; k < 4; k += 2) {
		psend(&p, F_ACK, buf + 1000 * k, 1000);
		psend(&p, F_ACK, buf + 1000 * (k + 1), 1000);
		PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 1000 * (k + 2), 65535, 0);
	}
	CHECK(net_tcp_counters(h.nl)->mem_pressure_windows == 0);
	/* 6 and 8 held: pressure, the edge stays at n + 4000 + 65535 */
	for (unsigned k = 4; k < 8; k += 2) {
		psend(&p, F_ACK, buf + 1000 * k, 1000);
		psend(&p, F_ACK, buf + 1000 * (k + 1), 1000);
		PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 1000 * (k + 2), 65535 - 1000 * (k - 2), 0);
	}
	CHECK(net_tcp_counters(h.nl)->mem_pressure_windows >= 2);
	CHECK(net_tcp_mbufs_held(h.nl) == 8);
	/* the budget is spent: this one is dropped, and ACKed as not taken */
	h_drops_reset(&h);
	psend(&p, F_ACK, buf + 8000, 1000);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 8000, 65535 - 4000, 0);
	CHECK(h_drops(&h, NET_E_TCP_MEM_LIMIT) == 1 && h_drops_total(&h) == 1);
	CHECK(info(&h, p.handle).unread == 8000);
	/* the send side shares the budget */
	CHECK(net_tcp_send(h.nl, p.handle, "x", 1) == -EAGAIN);
	/* reading gives the mbufs back: a window update, and the peer resends */
	CHECK(net_tcp_recv(h.nl, p.handle, buf, 9000) == 8000 && is_pat(buf, 0, 8000));
	CHECK(net_tcp_mbufs_held(h.nl) == 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 8000, 65535, 0);
	fill(buf, 8000, 1000);
	p.seq = n + 8000;
	psend(&p, F_ACK, buf, 1000);
	CHECK(info(&h, p.handle).unread == 1000);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* ---- malformed segments and segments for nobody ---- */

struct bad_case {
	const char *what;
	int err;
	struct mangle mg;
	uint8_t flags; /* 0: an ACK with 4 bytes on the connection */
	int sport, dport;
	uint8_t opt_len;
	uint8_t opt[12];
};

#define BAD_OPT(w, n, ...)                                                                         \
	{                                                                                          \
		.what = (w), .err = NET_E_TCP_BAD_OPTION, .opt_len = (n), .opt = { __VA_ARGS__ }   \
	}

static const struct bad_case bad_cases[] = {
	{ .what = "bad checksum", .err = NET_E_TCP_BAD_CKSUM, .mg.bad_cksum = true },
	{ .what = "12-byte header", .err = NET_E_TCP_TRUNCATED, .mg.tcp_cut = 12 },
	{ .what = "19-byte header", .err = NET_E_TCP_TRUNCATED, .mg.tcp_cut = 19 },
	{ .what = "data offset 4", .err = NET_E_TCP_BAD_DOFF, .mg.doff_words = 4 },
	{ .what = "data offset past the segment", .err = NET_E_TCP_BAD_DOFF, .mg.doff_words = 15 },
	BAD_OPT("option length 0", 4, 30, 0, 0, 0),
	BAD_OPT("option length 1", 4, 30, 1, 0, 0),
	BAD_OPT("option past the header", 4, 30, 8, 0, 0),
	BAD_OPT("option kind at the end", 4, 1, 1, 1, 2),
	BAD_OPT("MSS length 3", 4, 2, 3, 5, 1),
	BAD_OPT("WS length 4", 4, 3, 4, 7, 0),
	BAD_OPT("SACK-permitted length 3", 4, 4, 3, 0, 1),
	BAD_OPT("SACK length 2", 4, 5, 2, 1, 1),
	BAD_OPT("SACK length 11", 12, 5, 11),
	BAD_OPT("TS length 9", 12, 8, 9),
	{ .what = "SYN+FIN",
	  .err = NET_E_TCP_BAD_FLAGS,
	  .flags = F_SYN | F_FIN,
	  .sport = PPORT + 9 },
	{ .what = "SYN+RST",
	  .err = NET_E_TCP_BAD_FLAGS,
	  .flags = F_SYN | F_RST,
	  .sport = PPORT + 9 },
	{ .what = "SYN+FIN on the connection",
	  .err = NET_E_TCP_BAD_FLAGS,
	  .flags = F_SYN | F_FIN | F_ACK },
	{ .what = "source port 0", .err = NET_E_TCP_BAD_PORT, .flags = F_SYN, .sport = -1 },
	{ .what = "destination port 0",
	  .err = NET_E_TCP_BAD_PORT,
	  .flags = F_SYN,
	  .sport = PPORT + 9,
	  .dport = -1 },
};

/* Each: the right drop counter, nothing sent, nothing changed. */
static void
test_malformed(void)
{
	struct peer p;
	struct seg s;
	struct net_tcp_info before, after;
	uint8_t buf[8];
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 0x12345678u, &no_opts, NULL);
	before = info(&h, p.handle);
	for (size_t k = 0; k < sizeof(bad_cases) / sizeof(bad_cases[0]); k++) {
		const struct bad_case *b = &bad_cases[k];

		s = pseg(&p, b->flags != 0 ? b->flags : F_ACK);
		if (b->sport != 0)
			s.sport = (uint16_t)(b->sport < 0 ? 0 : b->sport);
		if (b->dport != 0)
			s.dport = (uint16_t)(b->dport < 0 ? 0 : b->dport);
		if (b->opt_len > 0) {
			s.raw = true;
			s.raw_len = b->opt_len;
			memcpy(s.raw_opt, b->opt, b->opt_len);
		}
		h_drops_reset(&h);
		h_send_mangled(&h, &s, "abcd", 4, &b->mg);
		checks++;
		if (h_drops(&h, b->err) != 1 || h_drops_total(&h) != 1 || h_pending(&h) != 0) {
			failures++;
			fprintf(stderr,
				"  %s: want one %s drop, got %llu of it, %llu total, %u out\n",
				b->what, net_error_name(b->err),
				(unsigned long long)h_drops(&h, b->err),
				(unsigned long long)h_drops_total(&h), h_pending(&h));
			h_flush(&h);
		}
		CHECK(net_tcp_conns(h.nl, NULL) == 1 && h_no_event(&h) == 0);
	}
	after = info(&h, p.handle);
	CHECK(after.state == NET_TCP_ESTABLISHED && after.rcv_nxt == before.rcv_nxt);
	CHECK(after.unread == 0 && after.snd_wnd == before.snd_wnd);
	/* unknown options are skipped by their length; EOL ends the list */
	s = pseg(&p, F_ACK);
	s.raw = true;
	s.raw_len = 8;
	memcpy(s.raw_opt, (const uint8_t[]){ 30, 4, 9, 9, 0, 77, 77, 77 }, 8);
	h_send(&h, &s, "abcd", 4);
	CHECK(net_tcp_recv(h.nl, p.handle, buf, sizeof(buf)) == 4 && memcmp(buf, "abcd", 4) == 0);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* RFC 9293 3.10.7.1 (CLOSED) and 3.10.7.2 (LISTEN) replies. */
static void
test_no_connection(void)
{
	struct seg s, r;
	struct h h;

	h_open(&h, NULL);
	net_tcp_listen(h.nl, LPORT);
	memset(&s, 0, sizeof(s));
	s.sport = PPORT;
	s.dport = 81;
	s.wnd = 1000;
	/* no ACK bit: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN counted */
	s.seq = 1000;
	s.flags = F_SYN;
	h_send(&h, &s, NULL, 0);
	EXPECT_SEG(&h, &r, F_RST | F_ACK, 0, 1001, 0, 0);
	CHECK(r.sport == 81 && r.dport == PPORT && r.raw_len == 0);
	/* data and FIN both counted */
	s.seq = 0xfffffffbu;
	s.flags = F_FIN;
	h_send(&h, &s, "0123456789", 10);
	EXPECT_SEG(&h, &r, F_RST | F_ACK, 0, 0xfffffffbu + 11, 0, 0);
	/* with ACK: <SEQ=SEG.ACK><CTL=RST> */
	s.seq = 3000;
	s.ack = 0x87654321u;
	s.flags = F_ACK | F_PSH;
	h_send(&h, &s, "data", 4);
	EXPECT_SEG(&h, &r, F_RST, 0x87654321u, 0, 0, 0);
	/* a RST: discarded */
	s.flags = F_RST | F_ACK;
	h_send(&h, &s, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(h_drops(&h, NET_E_TCP_NO_CONN) == 4 && h_drops_total(&h) == 4);
	CHECK(net_tcp_counters(h.nl)->resets_sent == 3);
	/* LISTEN: a RST is ignored, an ACK gets a RST, a segment with none of
	 * SYN, ACK, RST is dropped */
	s.dport = LPORT;
	s.flags = F_RST;
	h_send(&h, &s, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(h_drops(&h, NET_E_TCP_LISTEN_RST) == 1);
	s.flags = F_ACK;
	s.ack = 4242;
	h_send(&h, &s, NULL, 0);
	EXPECT_SEG(&h, &r, F_RST, 4242, 0, 0, 0);
	CHECK(h_drops(&h, NET_E_TCP_BAD_COOKIE) == 1);
	s.flags = F_FIN;
	h_send(&h, &s, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(h_drops(&h, NET_E_TCP_LISTEN_NO_SYN) == 1);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	h_close(&h);
}

/* ---- more handshake, receive and send paths ---- */

/* SYN-RECEIVED: an unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>; a RST at
 * RCV.NXT forgets the half-open connection (RFC 9293 3.10.7.4). */
static void
test_syn_received_checks(void)
{
	struct peer p;
	struct seg s, sa;
	uint32_t half;
	struct h h;

	h_open(&h, NULL);
	net_tcp_listen(h.nl, LPORT);
	memset(&p, 0, sizeof(p));
	p.h = &h;
	p.port = PPORT;
	p.lport = LPORT;
	p.seq = 0xfffffffeu;
	p.wnd = 1000;
	peer_syn(&p, &no_opts);
	EXPECT_SEG(&h, &sa, F_SYN | F_ACK, ANY, 0xffffffffu, 65535, 0);
	p.ack = sa.seq + 5;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_SEG(&h, &s, F_RST, sa.seq + 5, 0, 0, 0);
	CHECK(h_drops(&h, NET_E_TCP_SYN_RCVD_BAD_ACK) == 1);
	CHECK(net_tcp_conns(h.nl, &half) == 1 && half == 1 && h_no_event(&h) == 0);
	/* a RST off RCV.NXT: challenged, not obeyed */
	s = pseg(&p, F_RST);
	s.seq = p.seq + 10;
	h_send(&h, &s, NULL, 0);
	CHECK(net_tcp_conns(h.nl, &half) == 1 && half == 1);
	h_flush(&h);
	s = pseg(&p, F_RST);
	h_send(&h, &s, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(net_tcp_conns(h.nl, &half) == 0 && half == 0 && h_no_event(&h) == 0);
	/* data on the handshake's ACK is delivered with ACCEPT */
	p.seq = 0x7fffffffu;
	peer_syn(&p, &no_opts);
	CHECK(h_take(&h, &sa));
	p.ack = sa.seq + 1;
	psend(&p, F_ACK | F_PSH, "first", 5);
	CHECK(h_event(&h).flags == (NET_TCP_EV_ACCEPT | NET_TCP_EV_READ));
	CHECK(net_tcp_conns(h.nl, &half) == 1 && half == 0);
	h_close(&h);
}

/* RFC 6191 / RFC 1122 4.2.2.13: a new SYN may reopen a TIME-WAIT connection
 * when its sequence number (or TSval) is beyond the old incarnation's. */
static void
test_time_wait_reuse(void)
{
	struct peer p;
	struct seg s, sa;
	uint32_t last;
	struct h h;

	for (int ts = 0; ts < 2; ts++) {
		h_open(&h, NULL);
		passive_open(&h, &p, PPORT, 1000, ts ? &all_opts : &no_opts, NULL);
		net_tcp_close(h.nl, p.handle, false);
		PEXPECT(&p, &s, F_ACK | F_FIN, p.iss + 1, 1001, ANY, 0);
		p.ack = p.iss + 2;
		psend(&p, F_ACK | F_FIN, NULL, 0);
		PEXPECT(&p, &s, F_ACK, p.iss + 2, 1002, ANY, 0);
		CHECK(net_tcp_conns(h.nl, NULL) == 1);
		last = p.seq;
		/* an old SYN (lower sequence number, same TSval): not a new
		 * connection; answered with an ACK of the old one */
		p.seq = last - 100;
		peer_syn(&p, ts ? &all_opts : &no_opts);
		EXPECT_SEG(&h, &s, F_ACK, p.iss + 2, 1002, ANY, 0);
		CHECK(net_tcp_conns(h.nl, NULL) == 1);
		CHECK(net_tcp_counters(h.nl)->time_wait_recycled == 0);
		/* a SYN past the old incarnation (and a newer TSval) opens a new one */
		p.seq = last + 100000;
		p.tsval += 1000;
		peer_syn(&p, ts ? &all_opts : &no_opts);
		EXPECT_SEG(&h, &sa, F_SYN | F_ACK, ANY, last + 100001, 65535, 0);
		CHECK(net_tcp_counters(h.nl)->time_wait_recycled == 1);
		CHECK(net_tcp_conns(h.nl, NULL) == 1);
		p.iss = sa.seq;
		p.ack = sa.seq + 1;
		p.tsecr = sa.tsval;
		psend(&p, F_ACK, NULL, 0);
		CHECK(h_event(&h).flags == NET_TCP_EV_ACCEPT);
		h_close(&h);
	}
}

/* A FIN beyond a hole waits for the hole; ooo_max bounds the queue. */
static void
test_ooo_fin_and_limit(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	uint8_t out[800];
	uint32_t n;
	struct h h;

	tc.ooo_max = 2;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 0xffffff00u, &all_opts, NULL);
	n = p.seq;
	psend_at(&p, n, 200, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	psend_at(&p, n, 400, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	SACK_EXPECT(&s, n, 2, { 400, 500 }, { 200, 300 });
	/* the queue is full: dropped, still a duplicate ACK */
	h_drops_reset(&h);
	psend_at(&p, n, 600, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n, ANY, 0);
	SACK_EXPECT(&s, n, 2, { 400, 500 }, { 200, 300 });
	CHECK(h_drops(&h, NET_E_TCP_OOO_FULL) == 1 && info(&h, p.handle).ooo == 2);
	/* the holes fill: the held segments follow */
	psend_at(&p, n, 0, 200);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 300, ANY, 0);
	SACK_EXPECT(&s, n, 1, { 400, 500 });
	psend_at(&p, n, 300, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 500, ANY, 0);
	CHECK(s.nsack == 0 && info(&h, p.handle).ooo == 0);
	/* [600,700) with FIN, ahead of a hole: the FIN waits at n + 700 */
	{
		uint8_t buf[100];
		uint32_t save = p.seq;

		fill(buf, 600, 100);
		p.seq = n + 600;
		psend(&p, F_ACK | F_FIN, buf, 100);
		p.seq = save;
	}
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 500, ANY, 0);
	SACK_EXPECT(&s, n, 1, { 600, 700 });
	CHECK(info(&h, p.handle).state == NET_TCP_ESTABLISHED);
	/* the hole fills: the bytes and then the FIN */
	psend_at(&p, n, 500, 100);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, n + 701, ANY, 0);
	CHECK(s.nsack == 0);
	CHECK(info(&h, p.handle).state == NET_TCP_CLOSE_WAIT);
	CHECK(h_event(&h).flags == NET_TCP_EV_READ);
	CHECK(net_tcp_recv(h.nl, p.handle, out, sizeof(out)) == 700 && is_pat(out, 0, 700));
	CHECK(net_tcp_recv(h.nl, p.handle, out, sizeof(out)) == 0);
	net_tcp_close(h.nl, p.handle, false);
	h_close(&h);
}

/* RFC 6298 2.2: the first RTT sample R gives SRTT = R, RTTVAR = R/2,
 * RTO = SRTT + 4 RTTVAR. */
static void
test_rto_from_rtt(void)
{
	struct peer p;
	struct seg s;
	struct net_tcp_info i;
	uint8_t buf[100];
	uint64_t t;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	fill(buf, 0, 100);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 100) == 100);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 1, 6, ANY, 100);
	h_at(&h, h.now + 100);
	p.ack = p.iss + 101;
	psend(&p, F_ACK, NULL, 0);
	i = info(&h, p.handle);
	CHECK(i.srtt_ms == 100 && i.rto_ms == 300);
	t = h.now;
	CHECK(net_tcp_send(h.nl, p.handle, buf, 100) == 100);
	h_drop_nth(&h, 1);
	EXPECT_NONE(&h);
	h_at(&h, t + 299);
	EXPECT_NONE(&h);
	h_at(&h, t + 300);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 101, 6, ANY, 100);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* snd_buf bounds the send queue; WRITE comes back when an ACK makes room;
 * net_tcp_send_mbuf is all or nothing. */
static void
test_send_api(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	struct net_tcp_event ev;
	struct rte_mbuf *m, *m2;
	uint8_t buf[3000];
	struct h h;

	tc.snd_buf = 2000;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 5, &(struct syn_opts){ true, false, false, false, 1000, 0 },
		     NULL);
	fill(buf, 0, 3000);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 3000) == 2000);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 1) == -EAGAIN);
	CHECK(net_tcp_set_user(h.nl, p.handle, 7, true) == 0);
	CHECK(h_no_event(&h) == 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, 6, ANY, 1000);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 1001, 6, ANY, 1000);
	CHECK(is_pat(s.data, 1000, 1000));
	p.ack = p.iss + 1001;
	psend(&p, F_ACK, NULL, 0);
	ev = h_event(&h);
	CHECK(ev.handle == p.handle && ev.flags == NET_TCP_EV_WRITE && ev.user == 7);
	/* a 1500-byte chain does not fit the 1000 bytes of room: nothing taken */
	m = rte_pktmbuf_alloc(pool);
	m2 = rte_pktmbuf_alloc(pool);
	memcpy(rte_pktmbuf_append(m, 750), buf + 2000, 750);
	memcpy(rte_pktmbuf_append(m2, 750), buf + 2750, 250);
	rte_pktmbuf_chain(m, m2);
	CHECK(net_tcp_send_mbuf(h.nl, p.handle, m) == -EAGAIN);
	EXPECT_NONE(&h);
	/* 1000 bytes in two mbufs fit */
	m = rte_pktmbuf_alloc(pool);
	m2 = rte_pktmbuf_alloc(pool);
	memcpy(rte_pktmbuf_append(m, 600), buf + 2000, 600);
	memcpy(rte_pktmbuf_append(m2, 400), buf + 2600, 400);
	rte_pktmbuf_chain(m, m2);
	CHECK(net_tcp_send_mbuf(h.nl, p.handle, m) == 1000);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 2001, 6, ANY, 1000);
	CHECK(is_pat(s.data, 2000, 1000));
	CHECK(info(&h, p.handle).unsent == 2000);
	net_tcp_close(h.nl, p.handle, true);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 1) == -EBADF);
	h_close(&h);
}

/* Full tables: SYN cookies with no slot left, the TIME-WAIT bound. */
static void
test_table_limits(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer a, b, c;
	struct seg s, sa;
	struct h h;

	tc.max_conns = 2;
	tc.time_wait_max = 1;
	h_open(&h, &tc);
	passive_open(&h, &a, PPORT, 100, &no_opts, NULL);
	passive_open(&h, &b, PPORT + 1, 200, &no_opts, NULL);
	/* no slot: a SYN cookie, no state */
	memset(&c, 0, sizeof(c));
	c.h = &h;
	c.port = PPORT + 2;
	c.lport = LPORT;
	c.seq = 300;
	c.wnd = 1000;
	peer_syn(&c, &no_opts);
	EXPECT_SEG(&h, &sa, F_SYN | F_ACK, ANY, 301, 65535, 0);
	CHECK(net_tcp_counters(h.nl)->syn_cookies_sent == 1 && net_tcp_conns(h.nl, NULL) == 2);
	/* a good cookie with no slot for it: one drop, for that reason */
	c.iss = sa.seq;
	c.ack = sa.seq + 1;
	h_drops_reset(&h);
	psend(&c, F_ACK, NULL, 0);
	EXPECT_SEG(&h, &s, F_RST, sa.seq + 1, 0, 0, 0);
	CHECK(h_drops(&h, NET_E_TCP_CONN_TABLE_FULL) == 1 && h_drops_total(&h) == 1);
	CHECK(net_tcp_conns(h.nl, NULL) == 2 && h_no_event(&h) == 0);
	/* a and b close first: TIME-WAIT holds one, the older is recycled */
	net_tcp_close(h.nl, a.handle, false);
	PEXPECT(&a, &s, F_ACK | F_FIN, a.iss + 1, 101, ANY, 0);
	a.ack = a.iss + 2;
	psend(&a, F_ACK | F_FIN, NULL, 0);
	PEXPECT(&a, &s, F_ACK, a.iss + 2, 102, ANY, 0);
	net_tcp_close(h.nl, b.handle, false);
	PEXPECT(&b, &s, F_ACK | F_FIN, b.iss + 1, 201, ANY, 0);
	b.ack = b.iss + 2;
	psend(&b, F_ACK | F_FIN, NULL, 0);
	PEXPECT(&b, &s, F_ACK, b.iss + 2, 202, ANY, 0);
	CHECK(net_tcp_counters(h.nl)->time_wait_recycled == 1);
	CHECK(net_tcp_conns(h.nl, NULL) == 1);
	/* a is gone: its retransmitted FIN finds no connection */
	a.seq--;
	psend(&a, F_ACK | F_FIN, NULL, 0);
	EXPECT_SEG(&h, &s, F_RST, a.iss + 2, 0, 0, 0);
	/* c's cookie ACK again: now there is room */
	psend(&c, F_ACK, NULL, 0);
	CHECK(h_event(&h).flags == NET_TCP_EV_ACCEPT);
	CHECK(net_tcp_conns(h.nl, NULL) == 2);
	/* the table is full again (c and b in TIME-WAIT): a SYN takes b's slot */
	passive_open(&h, &a, PPORT + 3, 5000, &no_opts, NULL);
	CHECK(net_tcp_counters(h.nl)->time_wait_recycled == 2);
	h_close(&h);
}

/* FIN with data is retransmitted whole; data after the peer's FIN is ignored. */
static void
test_fin_with_data(void)
{
	struct peer p;
	struct seg s;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	CHECK(net_tcp_send(h.nl, p.handle, "abc", 3) == 3);
	CHECK(net_tcp_shutdown_write(h.nl, p.handle) == 0);
	h_drop_nth(&h, 1);
	EXPECT_NONE(&h);
	h_at(&h, h.now + 1000);
	PEXPECT(&p, &s, F_ACK | F_PSH | F_FIN, p.iss + 1, 6, ANY, 3);
	CHECK(memcmp(s.data, "abc", 3) == 0);
	/* the data acknowledged, not the FIN: FIN-WAIT-1 still */
	p.ack = p.iss + 4;
	psend(&p, F_ACK, NULL, 0);
	CHECK(info(&h, p.handle).state == NET_TCP_FIN_WAIT_1);
	p.ack = p.iss + 5;
	psend(&p, F_ACK, NULL, 0);
	CHECK(info(&h, p.handle).state == NET_TCP_FIN_WAIT_2);
	EXPECT_NONE(&h);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	psend(&p, F_ACK | F_FIN, NULL, 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, 7, ANY, 0);
	h_drops_reset(&h);
	psend(&p, F_ACK, "more", 4);
	CHECK(h_drops(&h, NET_E_TCP_DATA_AFTER_FIN) == 1 && info(&h, p.handle).unread == 0);
	CHECK(info(&h, p.handle).rcv_nxt == 7);
	h_flush(&h);
	net_tcp_close(h.nl, p.handle, false);
	PEXPECT(&p, &s, F_ACK | F_FIN, p.iss + 1, 7, ANY, 0);
	h_close(&h);
}

/* The peer closes its window with data still in flight: the RTO's
 * retransmissions become window probes (RFC 9293 3.8.6.1: "retransmit ...
 * even if the send window is zero"), and the connection is not closed while
 * the probes are answered (RFC 1122 4.2.2.17). */
static void
test_zero_window_in_flight(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	uint8_t buf[2000];
	struct h h;

	tc.max_retries = 3;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 5, &(struct syn_opts){ true, false, false, false, 1000, 0 },
		     NULL);
	fill(buf, 0, 2000);
	CHECK(net_tcp_send(h.nl, p.handle, buf, 2000) == 2000);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, 6, ANY, 1000);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 1001, 6, ANY, 1000);
	/* the first segment filled the peer's buffer; the second was dropped */
	p.ack = p.iss + 1001;
	p.wnd = 0;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	for (unsigned k = 0; k < 8; k++) {
		h_at(&h, h.now + 60000);
		CHECK(h_take(&h, &s));
		seg_expect(__LINE__, &s, F_ACK, p.iss + 1001, 6, ANY, ANY);
		CHECK(s.len >= 1 && is_pat(s.data, 1000, s.len));
		EXPECT_NONE(&h);
		psend(&p, F_ACK, NULL, 0);
		CHECK(info(&h, p.handle).state == NET_TCP_ESTABLISHED);
	}
	CHECK(h_no_event(&h) == 0);
	/* the window opens: the rest of the data goes */
	p.wnd = 5000;
	psend(&p, F_ACK, NULL, 0);
	PEXPECT(&p, &s, F_ACK | F_PSH, p.iss + 1001, 6, ANY, 1000);
	CHECK(is_pat(s.data, 1000, 1000));
	p.ack = p.iss + 2001;
	psend(&p, F_ACK, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(info(&h, p.handle).unsent == 0);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* Checksum offloads: RX flags trusted only when configured, TX leaves the
 * pseudo-header sum for the port. */
static void
test_cksum_offload(void)
{
	struct net_tcp_conf tc = conf_default;
	struct peer p;
	struct seg s;
	struct mangle good = { .bad_cksum = true, .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD };
	struct mangle bad = { .ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD };
	struct h h;

	tc.rx_tcp_cksum = true;
	tc.tx_tcp_cksum = true;
	h_open(&h, &tc);
	passive_open(&h, &p, PPORT, 5, &all_opts, NULL);
	/* the port says good: the (wrong) bytes are not summed again */
	s = pseg(&p, F_ACK);
	h_send_mangled(&h, &s, "ok", 2, &good);
	p.seq += 2;
	CHECK(info(&h, p.handle).unread == 2 && net_tcp_counters(h.nl)->cksum_hw == 1);
	/* the port says bad: dropped although the bytes sum right */
	s = pseg(&p, F_ACK);
	h_send_mangled(&h, &s, "no", 2, &bad);
	CHECK(h_drops(&h, NET_E_TCP_BAD_CKSUM) == 1 && info(&h, p.handle).unread == 2);
	h_at(&h, h.now + 40);
	PEXPECT(&p, &s, F_ACK, p.iss + 1, p.seq, ANY, 0); /* seg_parse checked the offload */
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);

	/* without rx_tcp_cksum, a GOOD flag is not enough */
	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	s = pseg(&p, F_ACK);
	h_send_mangled(&h, &s, "ok", 2, &good);
	CHECK(h_drops(&h, NET_E_TCP_BAD_CKSUM) == 1 && info(&h, p.handle).unread == 0);
	EXPECT_NONE(&h);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

/* Listener and connect argument errors; an ECN-setup SYN gets a plain SYN-ACK. */
static void
test_api_errors(void)
{
	struct peer p;
	struct seg s;
	struct h h;

	h_open(&h, NULL);
	CHECK(net_tcp_listen(h.nl, 0) == -EINVAL);
	CHECK(net_tcp_listen(h.nl, LPORT) == 0);
	CHECK(net_tcp_listen(h.nl, LPORT) == -EADDRINUSE);
	for (uint16_t k = 1; k < NET_TCP_LISTEN_MAX; k++)
		CHECK(net_tcp_listen(h.nl, (uint16_t)(LPORT + k)) == 0);
	CHECK(net_tcp_listen(h.nl, 9999) == -ENOSPC);
	/* off-link without a gateway */
	CHECK(net_tcp_connect(h.nl,
			      *(const uint32_t *)(const void *)(const uint8_t[]){ 192, 0, 2, 1 },
			      80, 0) == -EHOSTUNREACH);
	CHECK(net_tcp_recv(h.nl, 12345, &s, 1) == -EBADF);
	CHECK(net_tcp_send(h.nl, -1, &s, 1) == -EBADF);
	CHECK(net_tcp_conns(h.nl, NULL) == 0);
	/* RFC 3168 6.1.1: SYN with ECE and CWR; no ECN here, so no ECE back */
	memset(&p, 0, sizeof(p));
	p.h = &h;
	p.port = PPORT;
	p.lport = LPORT;
	p.seq = 10;
	p.wnd = 1000;
	s = pseg(&p, F_SYN | 0x40 | 0x80);
	h_send(&h, &s, NULL, 0);
	EXPECT_SEG(&h, &s, F_SYN | F_ACK, ANY, 11, 65535, 0);
	h_close(&h);
}

/* The ACK of our FIN arrives after its RTO fired, before the retransmission
 * went out: the FIN is acknowledged all the same, and not sent again. */
static void
test_fin_ack_after_rto(void)
{
	struct peer p;
	struct seg s;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 5, &no_opts, NULL);
	CHECK(net_tcp_shutdown_write(h.nl, p.handle) == 0);
	PEXPECT(&p, &s, F_ACK | F_FIN, p.iss + 1, 6, ANY, 0);
	h_at(&h, h.now + 1000); /* the RTO: the FIN is due again */
	p.ack = p.iss + 2;
	psend(&p, F_ACK, NULL, 0); /* the late ACK, before the output runs */
	CHECK(info(&h, p.handle).state == NET_TCP_FIN_WAIT_2);
	EXPECT_NONE(&h);
	CHECK(info(&h, p.handle).snd_max == p.iss + 2);
	h_at(&h, h.now + 100000);
	EXPECT_NONE(&h);
	psend(&p, F_ACK | F_FIN, NULL, 0);
	PEXPECT(&p, &s, F_ACK, p.iss + 2, 7, ANY, 0);
	CHECK(info(&h, p.handle).state == NET_TCP_TIME_WAIT);
	net_tcp_close(h.nl, p.handle, false);
	h_close(&h);
}

/* Duplicate ACKs that move the window but carry new SACK information still
 * count (RFC 6675 2 "DupAck"); without new SACK information they do not. */
static void
test_fast_retransmit_sack(void)
{
	struct peer p;
	struct seg s, d;
	struct net_tcp_info i;
	uint8_t buf[6 * 536];
	uint32_t seg1;
	struct h h;

	h_open(&h, NULL);
	passive_open(&h, &p, PPORT, 77, &(struct syn_opts){ true, false, true, false, 536, 0 },
		     NULL);
	seg1 = p.iss + 1;
	fill(buf, 0, sizeof(buf));
	CHECK(net_tcp_send(h.nl, p.handle, buf, sizeof(buf)) == sizeof(buf));
	h_drop_nth(&h, 1);
	for (unsigned k = 1; k < 4; k++)
		PEXPECT(&p, &s, F_ACK, seg1 + 536 * k, p.seq, ANY, 536);
	EXPECT_NONE(&h);
	/* S2, S3 arrive: SACKed, each with a smaller window */
	for (unsigned k = 1; k <= 2; k++) {
		d = pseg(&p, F_ACK);
		d.wnd = (uint16_t)(65535 - 536 * k);
		d.nsack = 1;
		d.sack[0][0] = seg1 + 536;
		d.sack[0][1] = seg1 + 536 * (k + 1);
		h_send(&h, &d, NULL, 0);
		/* Limited Transmit: S5, S6 (the last, with PSH) */
		PEXPECT(&p, &s, F_ACK | (k == 2 ? F_PSH : 0), seg1 + 536 * (3 + k), p.seq, ANY,
			536);
	}
	/* the same SACK again with another window: not a duplicate ACK */
	d.wnd = 60000;
	h_send(&h, &d, NULL, 0);
	EXPECT_NONE(&h);
	CHECK(info(&h, p.handle).dupacks == 2);
	/* S4 SACKed: the third, fast retransmit of S1 */
	d.wnd = 59000;
	d.sack[0][1] = seg1 + 536 * 4;
	h_send(&h, &d, NULL, 0);
	PEXPECT(&p, &s, F_ACK, seg1, p.seq, ANY, 536);
	CHECK(is_pat(s.data, 0, 536));
	i = info(&h, p.handle);
	CHECK(i.in_recovery && i.ssthresh == 2 * 536 && i.cwnd == 5 * 536);
	EXPECT_NONE(&h);
	net_tcp_close(h.nl, p.handle, true);
	h_close(&h);
}

int
main(int argc, char **argv)
{
	(void)argc;
	pool = test_eal_pool(argv[0], "test_tcp", POOL_MBUFS);
	if (pool == NULL)
		return 1;
	test_passive_handshake_opts();
	test_synack_layout();
	test_synack_retransmit();
	test_syn_cookies();
	test_active_open();
	test_active_open_failures();
	test_simultaneous_open();
	test_in_order_data();
	test_delayed_ack();
	test_out_of_order();
	test_window_scaling();
	test_rto_backoff();
	test_rto_recovery();
	test_fast_retransmit_newreno();
	test_fast_retransmit_sack();
	test_zero_window_persist();
	test_passive_close();
	test_active_close();
	test_close_fin_wait2_timeout();
	test_simultaneous_close();
	test_close_resets();
	test_rst();
	test_ack_and_window_checks();
	test_rcv_window_closing();
	test_keepalive();
	test_memory_cap();
	test_malformed();
	test_no_connection();
	test_syn_received_checks();
	test_time_wait_reuse();
	test_ooo_fin_and_limit();
	test_rto_from_rtt();
	test_send_api();
	test_table_limits();
	test_fin_with_data();
	test_zero_window_in_flight();
	test_cksum_offload();
	test_api_errors();
	test_fin_ack_after_rto();
	CHECK(rte_mempool_in_use_count(pool) == 0);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return CHECK_SUMMARY();
}
