/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: TCP (dataplane/net/tcp*.c) -- the input path, the state
 * machine, the queues and the timers -- driven through net_input, net_output,
 * net_timer and the application API, a sequence of steps per input.
 *
 * The EAL starts once, in-process (--no-huge --no-pci --no-shconf -m 128),
 * with one mbuf pool. Every input gets a fresh stack on 198.18.0.2/24 with
 * TCP listening on 5001 and 5002 (5003 is closed), and four modelled peers,
 * 198.18.0.10+p port 40000+p (p = 0..3), whose MACs the stack learns first
 * and whose ARP requests the harness answers. The harness builds the peers'
 * segments with correct checksums from fuzz-chosen fields, relative to what
 * it saw of the stack's sequence numbers, so handshakes and in-window data
 * are easy to reach; RAW records carry bytes the fuzzer chose alone.
 *
 * Input: byte 0 picks the configuration (bits 0-1 sizes, 2 keepalive,
 * 3 the port verifies checksums (frames marked good), 4 the port fills TCP
 * checksums on output, 5 close handles with abort at the end). Then records,
 * op = ctl % 8, little-endian fields (missing bytes read as 0):
 *
 *   0 SYN    p, port, opts, mss, ws, isn32: a SYN from peer p to 5001,
 *            5002, 5003 or the stack's port of p's last connection; opts:
 *            1 MSS 2 WS 4 SACK-permitted 8 timestamps 16 ACK too (answer to
 *            an active open) 32 8 bytes of data 64 bad checksum
 *   1 SEG    p, flags, seq16, ack16, len16, wnd16, misc: a segment at
 *            SEQ = p's next + (int16)seq, ACK = the stack's next + (int16)ack
 *            (misc 0x80 / 0x40: the offsets are shifted 16 bits left), len %
 *            1461 pattern bytes; misc 1 timestamps, 2 TSval steps back,
 *            4 two SACK blocks (then back16, len16 twice: [the stack's
 *            next - back, + len)), 8 bad checksum, 16 a chain of two mbufs
 *   2 RAW    kind, len16, bytes: kind & 1: an Ethernet frame as is; else a
 *            TCP header and payload from peer kind >> 1 & 3 inside a correct
 *            Ethernet/IPv4 frame, TCP checksum fixed unless kind & 8;
 *            kind & 16: a chain of two mbufs
 *   3 TIME   ms16: the clock goes on by ms, net_timer
 *   4 APP    slot, action, arg: on the slot's handle: recv, recv_chain,
 *            send, send_mbuf, close, abort, shutdown_write, connect to peer
 *            arg & 3, set_user, info (and notify when arg is odd)
 *   5 DRAIN  net_output until empty; the peers learn from it and answer ARP
 *   6 SHAKE  like SYN, then DRAIN, then the peer's ACK of the SYN-ACK
 *   7 BURST  n: n + 1 copies of the last frame in one burst
 *
 * Bytes a peer sends are pattern(peer, sequence number); bytes the
 * application sends are pattern(4 + peer, sequence number). abort() (with
 * "MISMATCH") when:
 *   - the application reads a byte that is not the peer's byte at its
 *     sequence number (peers that sent RAW records excepted);
 *   - the stack sends a byte that is not the application's, an IPv4 or TCP
 *     header with a bad checksum, or a segment with a bad data offset;
 *   - a connection's bookkeeping is inconsistent: SND.UNA =< SND.NXT =<
 *     SND.MAX, bytes in flight beyond the send queue, queue byte and mbuf
 *     counts, an out-of-order queue unsorted, overlapping or over ooo_max,
 *     the lcore's mbufs_held, n_used, n_half_open, net_tcp_active, the
 *     TIME_WAIT FIFO (TIME_WAIT connections only, n_tw of them);
 *   - the pool's in-use count is not what the stack says it holds
 *     (mbufs_held + ARP pending + output) after a drain;
 *   - connections are left once every handle was closed and 200 s passed
 *     with the peers silent (retries, probes and timers must end them all);
 *   - after net_lcore_destroy, the pool's in-use count is not back to its
 *     value before the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

/* White box: the bookkeeping checks read the connection table itself. */
#include "../net/test_eal.h"
#include "tcp_pvt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_MBUFS 4095
#define NPEER 4
#define NSLOT 8
#define MAX_PAYLOAD 1460
#define FRAME_MAX 1600
#define BURST_MAX 8

static const struct rte_ether_addr stack_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };

static struct rte_mempool *pool;
static unsigned baseline;
static bool trace; /* SLUICE_FUZZ_TCP_TRACE set: counters after each input */

static void __attribute__((noreturn)) invariant(const char *what)
{
	fprintf(stderr, "fuzz_tcp: INVARIANT VIOLATED (MISMATCH): %s\n", what);
	abort();
}

/* An IPv4 address in network order (RTE_IPV4 shifts a signed int: UBSan objects). */
static inline uint32_t
ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return rte_cpu_to_be_32((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

static inline uint8_t
pattern(unsigned stream, uint32_t seq)
{
	uint32_t x = seq * 2654435761u ^ (stream + 1) * 0x9e3779b9u;

	x ^= x >> 15;
	return (uint8_t)(x ^ x >> 8);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	pool = test_eal_pool((*argv)[0], "fuzz_tcp", POOL_MBUFS);
	if (pool == NULL)
		exit(1);
	baseline = rte_mempool_in_use_count(pool);
	trace = getenv("SLUICE_FUZZ_TCP_TRACE") != NULL;
	return 0;
}

/* What a peer knows of its connection with the stack. */
struct peer {
	uint32_t ip;           /* network order */
	uint16_t port;         /* host order */
	uint16_t lport;        /* the stack's port of the last connection */
	uint32_t isn, snd_nxt; /* the peer's sequence space */
	uint32_t rcv_nxt;      /* the stack's: what the peer acknowledges */
	uint32_t tsval, tsecr;
	bool ts;      /* timestamps agreed (the stack's SYN-ACK had TSopt) */
	bool tainted; /* sent RAW bytes: its stream is no longer pattern() */
};

struct slot {
	int64_t h;
	bool used;
	uint8_t peer;
	uint32_t written; /* bytes the application queued */
};

struct run {
	struct net_lcore *nl;
	struct net_tcp_conf tc;
	bool rx_good, tx_cksum, abort_at_end;
	uint64_t now;
	struct peer peer[NPEER];
	struct slot slot[NSLOT];
	uint8_t last[FRAME_MAX];
	uint16_t last_len, last_split;
	uint64_t bytes_read; /* checked against the peers' patterns */
};

/* ---- input ---- */

struct in {
	const uint8_t *p;
	size_t n, at;
};

static uint8_t
get8(struct in *in)
{
	return in->at < in->n ? in->p[in->at++] : 0;
}

static uint16_t
get16(struct in *in)
{
	uint16_t lo = get8(in);

	return (uint16_t)(lo | get8(in) << 8);
}

static uint32_t
get32(struct in *in)
{
	uint32_t lo = get16(in);

	return lo | (uint32_t)get16(in) << 16;
}

/* ---- frames in ---- */

/* copies of a frame in one burst; split: the frame is a chain of two mbufs
 * cut there (as a port receiving into small buffers gives it), 0: one mbuf */
static void
feed(struct run *r, const uint8_t *frame, uint16_t len, unsigned copies, uint16_t split)
{
	struct rte_mbuf *v[BURST_MAX];
	unsigned n = 0;

	if (len > FRAME_MAX)
		len = FRAME_MAX;
	if (split >= len)
		split = 0;
	for (; n < copies && n < BURST_MAX; n++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

		if (m == NULL)
			invariant("mempool empty: mbufs leaked");
		memcpy(rte_pktmbuf_append(m, split ? split : len), frame, split ? split : len);
		if (split) {
			struct rte_mbuf *t = rte_pktmbuf_alloc(pool);

			if (t == NULL)
				invariant("mempool empty: mbufs leaked");
			memcpy(rte_pktmbuf_append(t, (uint16_t)(len - split)), frame + split,
			       len - split);
			if (rte_pktmbuf_chain(m, t) != 0)
				invariant("cannot chain two mbufs");
		}
		if (r->rx_good)
			m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		v[n] = m;
	}
	if (frame != r->last) {
		memcpy(r->last, frame, len);
		r->last_len = len;
		r->last_split = split;
	}
	if (net_input(r->nl, v, (uint16_t)n) != n)
		invariant("net_input did not take the whole burst");
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t
sum16(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/* The TCP checksum over the pseudo-header of an IPv4 header and the segment. */
static uint16_t
tcp_sum(const uint8_t *ip, const uint8_t *tcp, size_t tlen)
{
	uint32_t sum = sum16(ip + 12, 8) + IPPROTO_TCP + (uint32_t)tlen + sum16(tcp, tlen);

	return (uint16_t)~fold(sum);
}

static void
put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

static uint32_t
rd32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
peer_mac(unsigned p, uint8_t *mac)
{
	static const uint8_t base[6] = { 0x02, 0, 0, 0, 0x01, 0 };

	memcpy(mac, base, 6);
	mac[5] = (uint8_t)p;
}

/* Ethernet + IPv4 from peer p around a TCP segment of tlen bytes at f + 34. */
static uint16_t
wrap_ip(uint8_t *f, unsigned p, const struct peer *pe, uint16_t tlen, bool fix_tcp, bool bad_tcp)
{
	uint8_t *ip = f + 14;

	memcpy(f, stack_mac.addr_bytes, 6);
	peer_mac(p, f + 6);
	put16be(f + 12, RTE_ETHER_TYPE_IPV4);
	ip[0] = 0x45;
	ip[1] = 0;
	put16be(ip + 2, (uint16_t)(20 + tlen));
	put16be(ip + 4, 0x4242);
	put16be(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	put16be(ip + 10, 0);
	memcpy(ip + 12, &pe->ip, 4);
	memcpy(ip + 16, &(uint32_t){ ipv4(198, 18, 0, 2) }, 4);
	put16be(ip + 10, (uint16_t)~fold(sum16(ip, 20)));
	if (fix_tcp) {
		put16be(ip + 20 + 16, 0);
		put16be(ip + 20 + 16,
			(uint16_t)(tcp_sum(ip, ip + 20, tlen) ^ (bad_tcp ? 0x0101 : 0)));
	}
	return (uint16_t)(34 + tlen);
}

struct seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd, len;
	uint32_t data_seq; /* sequence number of the first payload byte */
	uint8_t opt[40];
	uint8_t optlen;
	bool bad_cksum;
	bool chained; /* a chain of two mbufs cut in the payload */
};

static void
send_seg(struct run *r, unsigned p, uint16_t dport, const struct seg *s)
{
	uint8_t f[FRAME_MAX];
	uint8_t *th = f + 34;
	uint16_t hl = (uint16_t)(20 + s->optlen);
	const struct peer *pe = &r->peer[p];

	put16be(th, pe->port);
	put16be(th + 2, dport);
	put32be(th + 4, s->seq);
	put32be(th + 8, s->ack);
	th[12] = (uint8_t)(hl / 4 << 4);
	th[13] = s->flags;
	put16be(th + 14, s->wnd);
	put16be(th + 16, 0);
	put16be(th + 18, 0);
	memcpy(th + 20, s->opt, s->optlen);
	for (uint16_t i = 0; i < s->len; i++)
		th[hl + i] = pattern(p, s->data_seq + i);
	feed(r, f, wrap_ip(f, p, pe, (uint16_t)(hl + s->len), true, s->bad_cksum), 1,
	     s->chained ? (uint16_t)(34 + hl + s->len / 2) : 0);
}

static uint8_t
opt_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32be(o + 4, tsval);
	put32be(o + 8, tsecr);
	return 12;
}

static uint16_t
pick_port(const struct peer *pe, uint8_t sel)
{
	static const uint16_t ports[3] = { 5001, 5002, 5003 };

	return sel % 4 == 3 && pe->lport != 0 ? pe->lport : ports[sel % 4 % 3];
}

/* SYN (or SYN-ACK) from a peer. */
static void
rec_syn(struct run *r, struct in *in)
{
	unsigned p = get8(in) % NPEER;
	struct peer *pe = &r->peer[p];
	uint16_t dport = pick_port(pe, get8(in));
	uint8_t opts = get8(in), mss = get8(in), ws = get8(in);
	struct seg s = { 0 };

	pe->isn = get32(in);
	pe->snd_nxt = pe->isn + 1;
	pe->lport = dport;
	pe->ts = false;
	pe->tsval += 1000;
	s.seq = pe->isn;
	s.flags = RTE_TCP_SYN_FLAG;
	if (opts & 16) {
		s.flags |= RTE_TCP_ACK_FLAG;
		s.ack = pe->rcv_nxt;
	}
	s.wnd = 65535;
	if (opts & 1) {
		s.opt[s.optlen++] = 2;
		s.opt[s.optlen++] = 4;
		put16be(s.opt + s.optlen, (uint16_t)(mss * 8 + 1));
		s.optlen += 2;
	}
	if (opts & 4) {
		s.opt[s.optlen++] = 4;
		s.opt[s.optlen++] = 2;
	}
	if (opts & 8) {
		s.optlen = (uint8_t)(s.optlen + opt_ts(s.opt + s.optlen, pe->tsval, pe->tsecr));
		pe->ts = (opts & 16) != 0; /* SYN-ACK: agreed if the stack's SYN had it */
	}
	if (opts & 2) {
		s.opt[s.optlen++] = 1;
		s.opt[s.optlen++] = 3;
		s.opt[s.optlen++] = 3;
		s.opt[s.optlen++] = ws % 16;
	}
	while (s.optlen % 4)
		s.opt[s.optlen++] = 0;
	if (opts & 32)
		s.len = 8;
	s.data_seq = pe->isn + 1;
	s.bad_cksum = (opts & 64) != 0;
	send_seg(r, p, dport, &s);
}

static void
rec_seg(struct run *r, struct in *in)
{
	unsigned p = get8(in) % NPEER;
	struct peer *pe = &r->peer[p];
	uint8_t flags = get8(in);
	int16_t dseq = (int16_t)get16(in), dack = (int16_t)get16(in);
	uint16_t len = get16(in) % (MAX_PAYLOAD + 1), wnd = get16(in);
	uint8_t misc = get8(in);
	struct seg s = { 0 };
	uint32_t end;

	s.seq = pe->snd_nxt + (uint32_t)((misc & 0x80) ? (int32_t)dseq * 65536 : dseq);
	s.ack = pe->rcv_nxt + (uint32_t)((misc & 0x40) ? (int32_t)dack * 65536 : dack);
	s.flags = flags;
	s.wnd = wnd;
	s.len = len;
	s.data_seq = s.seq + !!(flags & RTE_TCP_SYN_FLAG);
	if ((misc & 1) || pe->ts) {
		if (misc & 2)
			pe->tsval -= 5000;
		else
			pe->tsval += 1;
		s.optlen = opt_ts(s.opt, pe->tsval, pe->tsecr);
		if (misc & 2)
			pe->tsval += 5000;
	}
	if (misc & 4) {
		/* two SACK blocks [stack's next - back, + len), back and len16 each */
		s.opt[s.optlen++] = 1;
		s.opt[s.optlen++] = 1;
		s.opt[s.optlen++] = 5;
		s.opt[s.optlen++] = 18;
		for (unsigned b = 0; b < 2; b++) {
			uint32_t back = get16(in), blen = get16(in);

			put32be(s.opt + s.optlen, pe->rcv_nxt - back);
			put32be(s.opt + s.optlen + 4, pe->rcv_nxt - back + blen);
			s.optlen += 8;
		}
	}
	s.bad_cksum = (misc & 8) != 0;
	s.chained = (misc & 16) != 0;
	send_seg(r, p, pe->lport != 0 ? pe->lport : 5001, &s);
	/* p's next sequence number moves past new data and FIN only: RST and
	 * SYN are probes, far offsets (misc 0x80) are guesses */
	end = s.data_seq + len + !!(flags & RTE_TCP_FIN_FLAG);
	if (!(misc & 0x80) && !(flags & (RTE_TCP_RST_FLAG | RTE_TCP_SYN_FLAG)) &&
	    SEQ_GT(end, pe->snd_nxt))
		pe->snd_nxt = end;
}

static void
rec_raw(struct run *r, struct in *in)
{
	uint8_t kind = get8(in);
	uint16_t len = get16(in);
	uint8_t f[FRAME_MAX];

	if (len > in->n - in->at)
		len = (uint16_t)(in->n - in->at);
	if (kind & 1) {
		if (len > FRAME_MAX)
			len = FRAME_MAX;
		memcpy(f, in->p + in->at, len);
		in->at += len;
		for (unsigned p = 0; p < NPEER; p++)
			r->peer[p].tainted = true;
		feed(r, f, len, 1, (kind & 16) ? len / 2 : 0);
		return;
	}
	unsigned p = (kind >> 1) % NPEER;

	if (len > FRAME_MAX - 34)
		len = FRAME_MAX - 34;
	memcpy(f + 34, in->p + in->at, len);
	in->at += len;
	r->peer[p].tainted = true;
	/* the fuzzer's ports, sequence numbers and options; short headers too */
	feed(r, f, wrap_ip(f, p, &r->peer[p], len, len >= 20 && !(kind & 8), false), 1,
	     (kind & 16) ? (uint16_t)(34 + len / 2) : 0);
}

/* ---- frames out ---- */

static int
peer_of(const struct run *r, uint32_t ip, uint16_t port)
{
	for (unsigned p = 0; p < NPEER; p++)
		if (r->peer[p].ip == ip && r->peer[p].port == port)
			return (int)p;
	return -1;
}

static void
arp_reply(struct run *r, unsigned p)
{
	uint8_t f[60] = { 0 };

	memcpy(f, stack_mac.addr_bytes, 6);
	peer_mac(p, f + 6);
	put16be(f + 12, RTE_ETHER_TYPE_ARP);
	put16be(f + 14, 1);
	put16be(f + 16, RTE_ETHER_TYPE_IPV4);
	f[18] = 6;
	f[19] = 4;
	put16be(f + 20, 2); /* reply: the stack learns it (RFC 826 "add the triplet") */
	peer_mac(p, f + 22);
	memcpy(f + 28, &r->peer[p].ip, 4);
	memcpy(f + 32, stack_mac.addr_bytes, 6);
	memcpy(f + 38, &(uint32_t){ ipv4(198, 18, 0, 2) }, 4);
	feed(r, f, sizeof(f), 1, 0);
}

/* Check one TCP segment the stack sent; the peer it goes to learns from it. */
static void
out_tcp(struct run *r, const uint8_t *ip, uint16_t total)
{
	const uint8_t *th = ip + 20;
	uint16_t tlen = (uint16_t)(total - 20), hl;
	uint32_t dst, seq, len;
	uint8_t flags;
	int p;

	if (tlen < 20)
		invariant("stack sent a TCP segment shorter than a header");
	hl = (uint16_t)((th[12] >> 4) * 4);
	if (hl < 20 || hl > tlen)
		invariant("stack sent a bad TCP data offset");
	if (!r->tx_cksum && tcp_sum(ip, th, tlen) != 0)
		invariant("stack sent a bad TCP checksum");
	memcpy(&dst, ip + 16, 4);
	p = peer_of(r, dst, (uint16_t)(th[2] << 8 | th[3]));
	if (p < 0)
		return;
	struct peer *pe = &r->peer[p];

	seq = rd32be(th + 4);
	flags = th[13];
	len = tlen - hl;
	for (uint32_t i = 0; i < len; i++)
		if (th[hl + i] != pattern(NPEER + (unsigned)p, seq + i))
			invariant("stack sent a byte the application did not write there");
	if (flags & RTE_TCP_RST_FLAG)
		return;
	for (uint16_t i = 20; i + 1 < hl;) {
		if (th[i] == 0)
			break;
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (th[i] == 8 && th[i + 1] == 10 && i + 10 <= hl) {
			pe->tsecr = rd32be(th + i + 2);
			if ((flags & RTE_TCP_SYN_FLAG) && (flags & RTE_TCP_ACK_FLAG))
				pe->ts = true;
		}
		if (th[i + 1] < 2)
			break;
		i = (uint16_t)(i + th[i + 1]);
	}
	if (flags & RTE_TCP_SYN_FLAG) {
		pe->rcv_nxt = seq + 1 + len + !!(flags & RTE_TCP_FIN_FLAG);
		pe->lport = (uint16_t)(th[0] << 8 | th[1]);
		if (!(flags & RTE_TCP_ACK_FLAG)) {
			/* an active open: the peer answers with its own SYN-ACK */
			pe->ts = false;
		}
		return;
	}
	if (SEQ_GT(seq + len + !!(flags & RTE_TCP_FIN_FLAG), pe->rcv_nxt))
		pe->rcv_nxt = seq + len + !!(flags & RTE_TCP_FIN_FLAG);
}

static void check_accounting(struct run *r);

static void
drain(struct run *r)
{
	struct rte_mbuf *v[32];
	bool want_arp[NPEER] = { false };
	uint16_t n;

	while ((n = net_output(r->nl, v, 32)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = v[i];
			const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
			uint16_t dl = rte_pktmbuf_data_len(m), type;

			if (m->nb_segs != 1 || dl < 14)
				invariant("stack sent a chained or runt frame");
			type = (uint16_t)(f[12] << 8 | f[13]);
			if (type == RTE_ETHER_TYPE_ARP && dl >= 42 && f[21] == 1) {
				uint32_t tip;

				memcpy(&tip, f + 38, 4);
				for (unsigned p = 0; p < NPEER; p++)
					if (r->peer[p].ip == tip)
						want_arp[p] = true;
			} else if (type == RTE_ETHER_TYPE_IPV4) {
				const uint8_t *ip = f + 14;
				uint16_t total;

				if (dl < 34 || ip[0] != 0x45)
					invariant("stack sent a bad IPv4 header");
				total = (uint16_t)(ip[2] << 8 | ip[3]);
				if (total > dl - 14 || fold(sum16(ip, 20)) != 0xffff)
					invariant("stack sent a bad IPv4 length or checksum");
				if (ip[9] == IPPROTO_TCP)
					out_tcp(r, ip, total);
			}
			rte_pktmbuf_free(m);
		}
	}
	check_accounting(r);
	for (unsigned p = 0; p < NPEER; p++)
		if (want_arp[p])
			arp_reply(r, p);
}

/* ---- the stack's bookkeeping ---- */

static uint32_t
chain_check(const struct rte_mbuf *head, const struct rte_mbuf *tail, uint32_t bytes,
	    uint32_t mbufs)
{
	uint32_t b = 0, k = 0;
	const struct rte_mbuf *last = NULL;

	for (const struct rte_mbuf *m = head; m != NULL; m = m->next) {
		b += m->data_len;
		k++;
		last = m;
		if (k > POOL_MBUFS)
			invariant("queue chain loops");
	}
	if (b != bytes || k != mbufs || last != tail)
		invariant("queue bytes, mbufs or tail differ from the chain");
	return k;
}

static void
check_accounting(struct run *r)
{
	const struct tcp_lcore *t = r->nl->tcp;
	uint32_t held = 0, used = 0, half = 0, tw_closed = 0;

	for (uint32_t i = 0; i < t->conf.max_conns; i++) {
		const struct tcp_conn *c = &t->conns[i];
		bool syn_unacked = c->state == NET_TCP_SYN_SENT || c->state == NET_TCP_SYN_RECEIVED;

		if (c->state == NET_TCP_FREE)
			continue;
		held += chain_check(c->sq_head, c->sq_tail, c->sq_bytes, c->sq_mbufs);
		held += chain_check(c->rq_head, c->rq_tail, c->rq_bytes, c->rq_mbufs);
		used++;
		if (c->state == NET_TCP_SYN_RECEIVED && (c->flags & TF_PASSIVE))
			half++;
		if (c->state == NET_TCP_TIME_WAIT || c->state == NET_TCP_CLOSED)
			tw_closed++;
		if (!SEQ_LEQ(c->snd_una, c->snd_nxt) || !SEQ_LEQ(c->snd_nxt, c->snd_max))
			invariant("not SND.UNA =< SND.NXT =< SND.MAX");
		/* CLOSED dropped its send queue: SND.* stay as they were */
		if (c->state != NET_TCP_CLOSED &&
		    c->snd_max - c->snd_una > c->sq_bytes + 1u + syn_unacked)
			invariant("bytes in flight that the send queue does not hold");
		if (c->sq_bytes > t->conf.snd_buf)
			invariant("send queue above snd_buf");
		if (c->n_ooo > t->conf.ooo_max)
			invariant("out-of-order queue above ooo_max");
		for (uint16_t k = 0; k < c->n_ooo; k++) {
			const struct tcp_ooo *q = &c->ooo[k];

			if (q->len == 0 || q->len != rte_pktmbuf_pkt_len(q->m)) {
				fprintf(stderr, "fuzz_tcp: ooo[%u] at IRS+%u: len %u, mbuf %u\n", k,
					q->seq - c->irs, q->len, rte_pktmbuf_pkt_len(q->m));
				invariant("out-of-order segment length differs from its mbuf");
			}
			if (k > 0 && SEQ_LT(q->seq, c->ooo[k - 1].seq + c->ooo[k - 1].len))
				invariant("out-of-order queue unsorted or overlapping");
			if (!(c->flags & TF_FIN_RCVD) && !SEQ_GT(q->seq, c->rcv_nxt))
				invariant("out-of-order segment at or before RCV.NXT");
			held += q->m->nb_segs;
		}
	}
	if (held != t->mbufs_held)
		invariant("mbufs_held differs from the mbufs in the queues");
	if (used != t->n_used || half != t->n_half_open)
		invariant("n_used or n_half_open differs from the table");
	if (net_tcp_active(r->nl) != used - tw_closed)
		invariant("net_tcp_active differs from the table");
	/* the TIME_WAIT FIFO: TIME_WAIT connections only, n_tw of them */
	uint32_t n_tw = 0;

	for (uint32_t k = t->tw_head; k != TCP_NIL; k = t->conns[k].twnext) {
		if (t->conns[k].state != NET_TCP_TIME_WAIT || ++n_tw > t->conf.max_conns)
			invariant("TIME_WAIT FIFO holds a connection not in TIME_WAIT, or loops");
	}
	if (n_tw != t->n_tw)
		invariant("n_tw differs from the TIME_WAIT FIFO");
	if (r->nl->n_out == 0 &&
	    rte_mempool_in_use_count(pool) != baseline + held + r->nl->n_pending)
		invariant("mbufs in use besides the queues and ARP pending");
}

/* ---- the application ---- */

static struct slot *
slot_of(struct run *r, int64_t h)
{
	for (unsigned i = 0; i < NSLOT; i++)
		if (r->slot[i].used && r->slot[i].h == h)
			return &r->slot[i];
	return NULL;
}

static struct slot *
slot_add(struct run *r, int64_t h, int p)
{
	for (unsigned i = 0; i < NSLOT; i++) {
		struct slot *s = &r->slot[i];

		if (!s->used) {
			*s = (struct slot){ .h = h, .used = true, .peer = (uint8_t)p };
			return s;
		}
	}
	return NULL;
}

static const struct tcp_conn *conn_at(const struct run *r, int64_t h);

static void
events(struct run *r)
{
	struct net_tcp_event ev[16];
	uint16_t n;

	while ((n = net_tcp_events(r->nl, ev, 16)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			const struct net_tcp_event *e = &ev[i];
			int p = peer_of(r, e->peer_ip, e->peer_port);

			if (slot_of(r, e->handle) != NULL)
				continue;
			if (!(e->flags & NET_TCP_EV_ACCEPT)) {
				fprintf(stderr,
					"fuzz_tcp: event 0x%x for handle %lld (state %s, peer port "
					"%u, local port %u)\n",
					e->flags, (long long)e->handle,
					net_tcp_state_name(conn_at(r, e->handle)->state),
					e->peer_port, e->local_port);
				invariant("an event for a handle the application never had");
			}
			if (p < 0 || slot_add(r, e->handle, p) == NULL)
				net_tcp_close(r->nl, e->handle, true);
		}
	}
}

static const struct tcp_conn *
conn_at(const struct run *r, int64_t h)
{
	return &r->nl->tcp->conns[(uint32_t)h];
}

/* The sequence number of the first byte net_tcp_recv would return. */
static uint32_t
first_unread(const struct tcp_conn *c)
{
	return c->rcv_nxt - c->rq_bytes - ((c->flags & TF_FIN_RCVD) ? 1 : 0);
}

static void
check_read(struct run *r, const struct slot *s, uint32_t seq, const uint8_t *b, size_t n)
{
	if (r->peer[s->peer].tainted)
		return;
	r->bytes_read += n;
	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern(s->peer, seq + (uint32_t)i))
			invariant("the application read a byte the peer did not send there");
}

static void
app_send(struct run *r, struct slot *s, uint32_t n, bool as_mbuf)
{
	const struct tcp_conn *c = conn_at(r, s->h);
	uint32_t seq = c->iss + 1 + s->written;
	uint8_t buf[4096];
	ssize_t k;

	n = n > sizeof(buf) ? (uint32_t)sizeof(buf) : n;
	for (uint32_t i = 0; i < n; i++)
		buf[i] = pattern(NPEER + s->peer, seq + i);
	if (!as_mbuf) {
		k = net_tcp_send(r->nl, s->h, buf, n);
	} else {
		/* two segments: the stack copies a chain */
		struct rte_mbuf *a = rte_pktmbuf_alloc(pool), *b = rte_pktmbuf_alloc(pool);
		uint32_t na = n / 2;

		if (a == NULL || b == NULL)
			invariant("mempool empty: mbufs leaked");
		if (n - na > rte_pktmbuf_tailroom(b))
			n = na + rte_pktmbuf_tailroom(b);
		memcpy(rte_pktmbuf_append(a, (uint16_t)na), buf, na);
		memcpy(rte_pktmbuf_append(b, (uint16_t)(n - na)), buf + na, n - na);
		if (rte_pktmbuf_chain(a, b) != 0)
			invariant("cannot chain two mbufs");
		k = net_tcp_send_mbuf(r->nl, s->h, a);
	}
	if (k > (ssize_t)n)
		invariant("send took more bytes than offered");
	if (k > 0)
		s->written += (uint32_t)k;
}

static void
rec_app(struct run *r, struct in *in)
{
	struct slot *s = &r->slot[get8(in) % NSLOT];
	uint8_t action = get8(in), arg = get8(in);

	if (action % 10 == 7) {
		/* an active open to peer arg & 3 */
		unsigned p = arg % NPEER;
		int64_t h;

		if (s->used)
			return;
		h = net_tcp_connect(r->nl, r->peer[p].ip, r->peer[p].port, 0);
		if (h >= 0)
			*s = (struct slot){ .h = h, .used = true, .peer = (uint8_t)p };
		return;
	}
	if (!s->used)
		return;
	switch (action % 10) {
	case 0: {
		uint8_t buf[2048];
		uint32_t seq = first_unread(conn_at(r, s->h));
		ssize_t k = net_tcp_recv(r->nl, s->h, buf, (size_t)arg * 8 + 1);

		if (k > (ssize_t)arg * 8 + 1)
			invariant("recv returned more than asked");
		if (k > 0)
			check_read(r, s, seq, buf, (size_t)k);
		break;
	}
	case 1: {
		struct rte_mbuf *m = NULL;
		uint32_t seq = first_unread(conn_at(r, s->h));
		ssize_t k = net_tcp_recv_chain(r->nl, s->h, &m);

		if (k > 0) {
			uint8_t buf[2048];
			uint32_t off = 0;

			if (m == NULL || rte_pktmbuf_pkt_len(m) != (uint32_t)k)
				invariant("recv_chain length differs from its mbuf");
			while (off < (uint32_t)k) {
				uint32_t take = RTE_MIN((uint32_t)k - off, (uint32_t)sizeof(buf));
				const uint8_t *p = rte_pktmbuf_read(m, off, take, buf);

				if (p == NULL)
					invariant("recv_chain mbuf shorter than its pkt_len");
				check_read(r, s, seq + off, p, take);
				off += take;
			}
			rte_pktmbuf_free(m);
		}
		break;
	}
	case 2:
		app_send(r, s, (uint32_t)arg * 32 + 1, false);
		break;
	case 3:
		app_send(r, s, (uint32_t)arg * 16 + 2, true);
		break;
	case 4:
	case 5:
		net_tcp_close(r->nl, s->h, action % 10 == 5);
		s->used = false;
		break;
	case 6:
		(void)net_tcp_shutdown_write(r->nl, s->h);
		break;
	case 8:
		if (net_tcp_set_user(r->nl, s->h, arg, arg & 1) != 0)
			invariant("set_user refused a handle the application holds");
		break;
	default: {
		struct net_tcp_info info;

		if (net_tcp_info(r->nl, s->h, &info) != 0) {
			const struct tcp_conn *c = conn_at(r, s->h);

			fprintf(stderr,
				"fuzz_tcp: handle %lld: slot in state %s, gen %u, flags 0x%x\n",
				(long long)s->h, net_tcp_state_name(c->state), c->gen, c->flags);
			invariant("info refused a handle the application holds");
		}
		if ((arg & 1) && net_tcp_notify(r->nl, s->h) != 0)
			invariant("notify refused a handle the application holds");
		break;
	}
	}
}

/* ---- the run ---- */

static void
configure(struct run *r, uint8_t b)
{
	static const struct net_tcp_conf sizes[4] = {
		{ .max_conns = 8,
		  .syn_backlog = 2,
		  .time_wait_max = 2,
		  .rcv_buf = 4096,
		  .snd_buf = 4096,
		  .ooo_max = 4,
		  .mss = 536,
		  .mem_mbufs = 48 },
		{ .max_conns = 16,
		  .syn_backlog = 8,
		  .time_wait_max = 4,
		  .rcv_buf = 65536,
		  .snd_buf = 16384,
		  .ooo_max = 8,
		  .mss = 1460,
		  .mem_mbufs = 256 },
		{ .max_conns = 16,
		  .syn_backlog = 1,
		  .time_wait_max = 4,
		  .rcv_buf = 262144,
		  .snd_buf = 65536,
		  .ooo_max = 32,
		  .mss = 1460,
		  .mem_mbufs = 1024 },
		{ .max_conns = 2,
		  .syn_backlog = 1,
		  .time_wait_max = 1,
		  .rcv_buf = 1024,
		  .snd_buf = 1024,
		  .ooo_max = 2,
		  .mss = 88,
		  .mem_mbufs = 8 },
	};

	r->tc = sizes[b & 3];
	r->tc.delack_ms = 40;
	r->tc.rto_init_ms = 1000;
	r->tc.rto_min_ms = 200;
	r->tc.rto_max_ms = 8000;
	r->tc.max_retries = 4;
	r->tc.syn_retries = 2;
	r->tc.msl_ms = 500;
	r->tc.fin_wait2_ms = 2000;
	r->tc.challenge_ack_per_s = 5;
	if (b & 4) {
		r->tc.keepalive_ms = 2000;
		r->tc.keepalive_intvl_ms = 500;
		r->tc.keepalive_probes = 3;
	}
	r->rx_good = (b & 8) != 0;
	r->tc.rx_tcp_cksum = r->rx_good;
	r->tx_cksum = (b & 16) != 0;
	r->tc.tx_tcp_cksum = r->tx_cksum;
	r->abort_at_end = (b & 32) != 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { .p = data, .n = size };
	struct net_conf conf;
	struct run *r = calloc(1, sizeof(*r));

	if (r == NULL)
		invariant("out of memory");
	configure(r, get8(&in));
	memset(&conf, 0, sizeof(conf));
	conf.mac = stack_mac;
	conf.ip = ipv4(198, 18, 0, 2);
	conf.netmask = ipv4(255, 255, 255, 0);
	conf.gateway = ipv4(198, 18, 0, 1);
	conf.pool = pool;
	conf.tcp = &r->tc;
	r->nl = net_lcore_create(&conf, SOCKET_ID_ANY);
	if (r->nl == NULL)
		invariant("net_lcore_create failed");
	if (net_tcp_listen(r->nl, 5001) != 0 || net_tcp_listen(r->nl, 5002) != 0)
		invariant("net_tcp_listen failed");
	r->now = 1000;
	net_timer(r->nl, r->now);
	for (unsigned p = 0; p < NPEER; p++) {
		r->peer[p].ip = ipv4(198, 18, 0, (uint8_t)(10 + p));
		r->peer[p].port = (uint16_t)(40000 + p);
		r->peer[p].tsval = 1000 + p * 7919;
		arp_reply(r, p);
	}

	while (in.at < in.n) {
		uint8_t ctl = get8(&in);

		switch (ctl % 8) {
		case 0:
			rec_syn(r, &in);
			break;
		case 1:
			rec_seg(r, &in);
			break;
		case 2:
			rec_raw(r, &in);
			break;
		case 3:
			r->now += get16(&in);
			net_timer(r->nl, r->now);
			break;
		case 4:
			rec_app(r, &in);
			break;
		case 5:
			drain(r);
			break;
		case 6: {
			size_t at = in.at;
			unsigned p = (at < in.n ? in.p[at] : 0) % NPEER;

			rec_syn(r, &in);
			drain(r);
			events(r);
			struct peer *pe = &r->peer[p];
			struct seg s = { .seq = pe->snd_nxt,
					 .ack = pe->rcv_nxt,
					 .flags = RTE_TCP_ACK_FLAG,
					 .wnd = 65535,
					 .data_seq = pe->snd_nxt };

			if (pe->ts)
				s.optlen = opt_ts(s.opt, ++pe->tsval, pe->tsecr);
			send_seg(r, p, pe->lport, &s);
			break;
		}
		default:
			if (r->last_len > 0)
				feed(r, r->last, r->last_len, 1u + get8(&in) % BURST_MAX,
				     r->last_split);
			break;
		}
		events(r);
	}

	/* Wind down: give every handle back, let the timers finish the rest. */
	drain(r);
	events(r);
	for (unsigned k = 0; k < 40; k++) {
		for (unsigned i = 0; i < NSLOT; i++)
			if (r->slot[i].used)
				net_tcp_close(r->nl, r->slot[i].h, r->abort_at_end);
		memset(r->slot, 0, sizeof(r->slot));
		r->now += 5000;
		net_timer(r->nl, r->now);
		drain(r);
		events(r);
	}
	drain(r);
	/* 200 s with every handle given back and the peers silent: retries,
	 * probes, FIN-WAIT-2 and 2 MSL have all run out (rto_max 8 s, 4 retries) */
	if (net_tcp_conns(r->nl, NULL) != 0) {
		for (uint32_t i = 0; i < r->tc.max_conns; i++) {
			const struct tcp_conn *c = &r->nl->tcp->conns[i];

			if (c->state != NET_TCP_FREE)
				fprintf(stderr,
					"fuzz_tcp: left: %s, flags 0x%x, SND.UNA/NXT/MAX "
					"+%u/+%u/+%u, "
					"SND.WND %u, queued %u, timers %lu/%lu/%lu/%lu\n",
					net_tcp_state_name(c->state), c->flags, c->snd_una - c->iss,
					c->snd_nxt - c->iss, c->snd_max - c->iss, c->snd_wnd,
					c->sq_bytes, (unsigned long)c->t_rexmt,
					(unsigned long)c->t_delack, (unsigned long)c->t_keep,
					(unsigned long)c->t_2msl);
		}
		invariant("connections left after every handle was closed and the timers ran out");
	}
	if (trace) {
		const struct net_tcp_counters *t = net_tcp_counters(r->nl);

		fprintf(stderr,
			"fuzz_tcp: segs in %lu out %lu, bytes in %lu out %lu, accepts %lu "
			"connects %lu, cookies %lu/%lu, challenge acks %lu, ooo %lu, rexmt %lu, "
			"read %lu\n",
			(unsigned long)t->segs_in, (unsigned long)t->segs_out,
			(unsigned long)t->bytes_in, (unsigned long)t->bytes_out,
			(unsigned long)t->accepts, (unsigned long)t->connects,
			(unsigned long)t->syn_cookies_sent, (unsigned long)t->syn_cookies_accepted,
			(unsigned long)t->challenge_acks, (unsigned long)t->ooo_queued,
			(unsigned long)t->retransmits, (unsigned long)r->bytes_read);
		for (int e = 1; e < NET_E__COUNT; e++)
			if (r->nl->cnt.drops[e] != 0)
				fprintf(stderr, "fuzz_tcp:   drop %s %lu\n", net_error_name(e),
					(unsigned long)r->nl->cnt.drops[e]);
	}
	net_lcore_destroy(r->nl);
	free(r);
	if (rte_mempool_in_use_count(pool) != baseline)
		invariant("mbufs still in use after net_lcore_destroy");
	return 0;
}
