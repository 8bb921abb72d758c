/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scripted packet tests for dataplane/net with no NIC: frames are built here
 * byte by byte, fed to net_input, and the frames the stack emits are compared
 * with frames built here independently (own checksum code). Drop counters
 * are checked per reason. EAL runs in-process with --no-huge for mempools;
 * time is driven by net_timer, so nothing depends on the wall clock.
 */
#include <stdarg.h>
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

#define POOL_MBUFS 1023
#define ARP_TTL_MS 5000

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t our_ip[4] = { 198, 18, 0, 2 };
static const uint8_t peer_ip[4] = { 198, 18, 0, 1 };
static const uint8_t other_ip[4] = { 198, 18, 0, 9 };

static struct rte_mempool *pool;

static void
eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	f->len = 0;
	put(f, dst, 6);
	put(f, src, 6);
	put16(f, type);
}

static void
arp(struct frame *f, uint16_t op, const uint8_t *sha, const uint8_t *sip, const uint8_t *tha,
    const uint8_t *tip)
{
	put16(f, 1);      /* Ethernet */
	put16(f, 0x0800); /* IPv4 */
	put8(f, 6);
	put8(f, 4);
	put16(f, op);
	put(f, sha, 6);
	put(f, sip, 4);
	put(f, tha, 6);
	put(f, tip, 4);
}

struct ip_spec {
	uint8_t version_ihl;
	uint16_t total; /* 0: computed */
	uint16_t id;
	uint16_t frag;
	uint8_t ttl;
	uint8_t proto;
	const uint8_t *src, *dst;
	bool bad_cksum;
	size_t opt_len; /* bytes of NOP options */
};

/* IPv4 header at f->len with payload pl/n; checksum from the spec. */
static void
ipv4(struct frame *f, const struct ip_spec *s, const uint8_t *pl, size_t n)
{
	size_t at = f->len;
	size_t hlen = 20 + s->opt_len;
	uint16_t c;

	put8(f, s->version_ihl);
	put8(f, 0);
	put16(f, s->total ? s->total : (uint16_t)(hlen + n));
	put16(f, s->id);
	put16(f, s->frag);
	put8(f, s->ttl);
	put8(f, s->proto);
	put16(f, 0);
	put(f, s->src, 4);
	put(f, s->dst, 4);
	for (size_t i = 0; i < s->opt_len; i++)
		put8(f, 1); /* NOP */
	c = cksum(f->b + at, hlen);
	if (s->bad_cksum)
		c ^= 0x5a5a;
	f->b[at + 10] = (uint8_t)(c >> 8);
	f->b[at + 11] = (uint8_t)c;
	put(f, pl, n);
}

/* ICMP message of type with id/seq/data into out; returns its length. */
static size_t
icmp(uint8_t *out, uint8_t type, uint16_t id, uint16_t seq, size_t data_len, bool bad_cksum)
{
	uint16_t c;

	out[0] = type;
	out[1] = 0;
	out[2] = out[3] = 0;
	out[4] = (uint8_t)(id >> 8);
	out[5] = (uint8_t)id;
	out[6] = (uint8_t)(seq >> 8);
	out[7] = (uint8_t)seq;
	for (size_t i = 0; i < data_len; i++)
		out[8 + i] = (uint8_t)(i * 7 + 3);
	c = cksum(out, 8 + data_len);
	if (bad_cksum)
		c ^= 0x0101;
	out[2] = (uint8_t)(c >> 8);
	out[3] = (uint8_t)c;
	return 8 + data_len;
}

static struct rte_mbuf *
to_mbuf(const struct frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	if (m == NULL) {
		fprintf(stderr, "test_net: mempool empty\n");
		exit(1);
	}
	p = rte_pktmbuf_append(m, (uint16_t)f->len);
	memcpy(p, f->b, f->len);
	return m;
}

/* Feed one frame (padded to 60 bytes like a real Ethernet frame when pad). */
static void
feed(struct net_lcore *nl, struct frame *f, bool pad)
{
	struct rte_mbuf *m;

	while (pad && f->len < 60)
		f->b[f->len++] = 0;
	m = to_mbuf(f);
	CHECK(net_input(nl, &m, 1) == 1);
}

/* Take every queued output frame; the caller frees them with drain_free. */
static uint16_t
drain(struct net_lcore *nl, struct rte_mbuf **v, uint16_t n)
{
	return net_output(nl, v, n);
}

static void
free_all(struct rte_mbuf **v, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(v[i]);
}

static bool
same_frame(const struct rte_mbuf *m, const struct frame *f)
{
	if (m->nb_segs != 1 || rte_pktmbuf_pkt_len(m) != f->len) {
		fprintf(stderr, "  frame length %u, expected %zu\n", rte_pktmbuf_pkt_len(m),
			f->len);
		return false;
	}
	if (memcmp(rte_pktmbuf_mtod(m, const void *), f->b, f->len) != 0) {
		const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);

		for (size_t i = 0; i < f->len; i++)
			if (b[i] != f->b[i]) {
				fprintf(stderr, "  byte %zu: got %02x, expected %02x\n", i, b[i],
					f->b[i]);
				break;
			}
		return false;
	}
	return true;
}

static uint32_t
ip_be(const uint8_t *a)
{
	uint32_t v;

	memcpy(&v, a, 4);
	return v;
}

static struct net_lcore *
stack(void)
{
	struct net_conf c;
	struct net_lcore *nl;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac.addr_bytes, our_mac, 6);
	c.ip = ip_be(our_ip);
	c.netmask = ip_be((const uint8_t[]){ 255, 255, 255, 0 });
	c.pool = pool;
	c.arp_ttl_ms = ARP_TTL_MS;
	nl = net_lcore_create(&c, SOCKET_ID_ANY);
	if (nl == NULL) {
		fprintf(stderr, "test_net: net_lcore_create: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	net_timer(nl, 1000);
	return nl;
}

/* Tear down and check no mbuf leaked: every one is back in the pool. */
static void
done(struct net_lcore *nl)
{
	net_lcore_destroy(nl);
	CHECK(rte_mempool_in_use_count(pool) == 0);
}

static unsigned
drops_total(const struct net_lcore *nl)
{
	unsigned t = 0;

	for (int i = 0; i < NET_E__COUNT; i++)
		t += (unsigned)nl->cnt.drops[i];
	return t;
}

/* Exactly one drop, for reason err, and nothing emitted. */
static void
expect_drop(struct net_lcore *nl, int err, const char *what)
{
	struct rte_mbuf *v[4];
	uint16_t n = drain(nl, v, 4);

	if (nl->cnt.drops[err] != 1 || drops_total(nl) != 1 || n != 0) {
		fprintf(stderr, "  %s: want one %s drop; got %u total, %u of it, %u out\n", what,
			net_error_name(err), drops_total(nl), (unsigned)nl->cnt.drops[err], n);
		failures++;
	}
	free_all(v, n);
}

static void
test_gratuitous_arp(void)
{
	struct net_lcore *nl = stack();
	struct rte_mbuf *v[4];
	struct frame want;
	uint16_t n;

	CHECK(net_start(nl) == 0);
	n = drain(nl, v, 4);
	CHECK(n == 1);
	eth(&want, bcast_mac, our_mac, 0x0806);
	arp(&want, 1, our_mac, our_ip, (const uint8_t[6]){ 0 }, our_ip);
	CHECK(n == 1 && same_frame(v[0], &want));
	free_all(v, n);
	done(nl);
}

static void
test_arp_reply(void)
{
	struct net_lcore *nl = stack();
	struct rte_mbuf *v[4];
	struct frame f, want;
	const struct net_arp_entry *e;
	uint16_t n;

	eth(&f, bcast_mac, peer_mac, 0x0806);
	arp(&f, 1, peer_mac, peer_ip, (const uint8_t[6]){ 0 }, our_ip);
	feed(nl, &f, true);
	n = drain(nl, v, 4);
	eth(&want, peer_mac, our_mac, 0x0806);
	arp(&want, 2, our_mac, our_ip, peer_mac, peer_ip);
	CHECK(n == 1 && same_frame(v[0], &want));
	CHECK(nl->cnt.arp_replies_sent == 1 && drops_total(nl) == 0);
	free_all(v, n);
	/* RFC 826: the requester is learned when we are the target. */
	e = net_arp_lookup(nl, ip_be(peer_ip));
	CHECK(e != NULL && memcmp(e->mac.addr_bytes, peer_mac, 6) == 0);
	done(nl);
}

static void
test_arp_other_ip(void)
{
	struct net_lcore *nl = stack();
	struct frame f;

	eth(&f, bcast_mac, peer_mac, 0x0806);
	arp(&f, 1, peer_mac, peer_ip, (const uint8_t[6]){ 0 }, other_ip);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ARP_NOT_FOR_US, "arp for another ip");
	/* Not the target and not in the table: nothing learned (RFC 826). */
	CHECK(net_arp_lookup(nl, ip_be(peer_ip)) == NULL);
	done(nl);
}

static void
test_arp_bad(void)
{
	struct net_lcore *nl = stack();
	struct frame f;

	eth(&f, bcast_mac, peer_mac, 0x0806);
	arp(&f, 1, peer_mac, peer_ip, (const uint8_t[6]){ 0 }, our_ip);
	f.b[14 + 5] = 16; /* plen */
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ARP_BAD_FORMAT, "arp plen 16");
	done(nl);

	nl = stack();
	eth(&f, bcast_mac, peer_mac, 0x0806);
	put(&f, "\x00\x01\x08\x00", 4); /* cut short after 4 bytes, unpadded */
	feed(nl, &f, false);
	expect_drop(nl, NET_E_ARP_TRUNCATED, "arp truncated");
	done(nl);

	nl = stack();
	eth(&f, bcast_mac, peer_mac, 0x0806);
	arp(&f, 9, peer_mac, peer_ip, (const uint8_t[6]){ 0 }, our_ip);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ARP_BAD_OP, "arp op 9");
	done(nl);

	nl = stack();
	eth(&f, bcast_mac, other_mac, 0x0806);
	arp(&f, 1, other_mac, our_ip, (const uint8_t[6]){ 0 }, our_ip);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ARP_ADDR_CONFLICT, "arp from our own ip");
	done(nl);

	nl = stack();
	eth(&f, bcast_mac, our_mac, 0x0806);
	arp(&f, 1, our_mac, our_ip, (const uint8_t[6]){ 0 }, our_ip);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ARP_BAD_SENDER, "our own announcement reflected");
	done(nl);

	nl = stack();
	eth(&f, bcast_mac, peer_mac, 0x0806);
	arp(&f, 1, bcast_mac, peer_ip, (const uint8_t[6]){ 0 }, our_ip);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ARP_BAD_SENDER, "broadcast sender hardware address");
	CHECK(net_arp_lookup(nl, ip_be(peer_ip)) == NULL);
	done(nl);
}

static void
test_eth(void)
{
	struct net_lcore *nl = stack();
	struct frame f;

	eth(&f, other_mac, peer_mac, 0x0806);
	arp(&f, 1, peer_mac, peer_ip, (const uint8_t[6]){ 0 }, our_ip);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ETH_NOT_FOR_US, "frame for another mac");
	done(nl);

	nl = stack();
	f.len = 10;
	memcpy(f.b, our_mac, 6);
	feed(nl, &f, false);
	expect_drop(nl, NET_E_ETH_TRUNCATED, "10-byte frame");
	done(nl);

	nl = stack();
	eth(&f, our_mac, (const uint8_t[6]){ 0x01, 0, 0x5e, 0, 0, 1 }, 0x0800);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ETH_BAD_SRC, "multicast source");
	done(nl);

	nl = stack();
	eth(&f, our_mac, peer_mac, 0x86dd);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ETH_TYPE_UNSUPPORTED, "ipv6");
	done(nl);
}

static const struct ip_spec icmp_spec = {
	.version_ihl = 0x45, .id = 0x4242, .ttl = 61, .proto = 1, .src = peer_ip, .dst = our_ip
};

static void
echo_request(struct frame *f, const struct ip_spec *s, size_t data_len, bool bad_icmp)
{
	uint8_t msg[1500];
	size_t n = icmp(msg, 8, 0x1234, 7, data_len, bad_icmp);

	eth(f, our_mac, peer_mac, 0x0800);
	ipv4(f, s, msg, n);
}

static void
test_icmp_echo(size_t data_len)
{
	struct net_lcore *nl = stack();
	struct rte_mbuf *v[4];
	struct frame f, want;
	struct ip_spec rs = { .version_ihl = 0x45, .id = 0, .ttl = 64, .proto = 1 };
	uint8_t msg[1500];
	size_t n_msg;
	uint16_t n;

	echo_request(&f, &icmp_spec, data_len, false);
	feed(nl, &f, true);
	n = drain(nl, v, 4);
	/* Expected reply, built from scratch: addresses reversed, type 0, the
	 * same identifier, sequence and data, fresh checksums, no padding. */
	n_msg = icmp(msg, 0, 0x1234, 7, data_len, false);
	rs.src = our_ip;
	rs.dst = peer_ip;
	eth(&want, peer_mac, our_mac, 0x0800);
	ipv4(&want, &rs, msg, n_msg);
	CHECK(n == 1 && same_frame(v[0], &want));
	CHECK(nl->cnt.icmp_echo_replies == 1 && drops_total(nl) == 0);
	if (n == 1) {
		const uint8_t *b = rte_pktmbuf_mtod(v[0], const uint8_t *);

		CHECK(cksum(b + 14, 20) == 0);
		CHECK(cksum(b + 34, n_msg) == 0);
	}
	free_all(v, n);
	done(nl);
}

static void
test_ipv4_checks(void)
{
	struct net_lcore *nl;
	struct ip_spec s;
	struct frame f;
	uint8_t msg[64];
	size_t n_msg = icmp(msg, 8, 1, 1, 16, false);

	nl = stack();
	s = icmp_spec;
	s.bad_cksum = true;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_BAD_CKSUM, "bad ip checksum");
	done(nl);

	nl = stack();
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &icmp_spec, msg, n_msg);
	f.len = 14 + 12; /* header cut at 12 bytes, unpadded */
	feed(nl, &f, false);
	expect_drop(nl, NET_E_IP_TRUNCATED, "12-byte ip header");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.version_ihl = 0x65;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_BAD_VERSION, "version 6");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.version_ihl = 0x44;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_BAD_IHL, "ihl 4");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.total = 200;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_TOTAL_LEN_EXCEEDS_FRAME, "total length 200 in 60 bytes");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.total = 16;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_BAD_TOTAL_LEN, "total length below header");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.frag = 0x2000; /* MF */
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_FRAGMENT, "first fragment (MF)");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.frag = 0x0003; /* last fragment, offset 24 */
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_FRAGMENT, "last fragment (offset)");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.frag = 0x4000; /* DF alone is not a fragment */
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	CHECK(nl->cnt.icmp_echo_replies == 1 && drops_total(nl) == 0);
	net_lcore_destroy(nl); /* frees the queued reply */
	CHECK(rte_mempool_in_use_count(pool) == 0);

	nl = stack();
	s = icmp_spec;
	s.version_ihl = 0x46;
	s.opt_len = 4;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_OPTIONS, "ip options");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.version_ihl = 0x46;
	s.opt_len = 4;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	f.len = 14 + 20; /* ihl says 24 bytes, 20 arrived */
	feed(nl, &f, false);
	expect_drop(nl, NET_E_IP_TRUNCATED, "ihl beyond frame");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.dst = other_ip;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_NOT_FOR_US, "ip for another host");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.src = (const uint8_t[4]){ 224, 0, 0, 1 };
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_BAD_SRC, "multicast source ip");
	done(nl);

	nl = stack();
	s = icmp_spec;
	s.proto = 17;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_IP_PROTO_UNSUPPORTED, "udp");
	done(nl);
}

static void
test_icmp_checks(void)
{
	struct net_lcore *nl;
	struct ip_spec s;
	struct frame f;
	uint8_t msg[64];
	size_t n_msg;

	nl = stack();
	echo_request(&f, &icmp_spec, 16, true);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ICMP_BAD_CKSUM, "bad icmp checksum");
	done(nl);

	nl = stack();
	n_msg = icmp(msg, 8, 1, 1, 0, false);
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &icmp_spec, msg, 4); /* 4 of the 8 header bytes */
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ICMP_TRUNCATED, "4-byte icmp");
	done(nl);

	nl = stack();
	n_msg = icmp(msg, 13, 1, 1, 12, false); /* timestamp request */
	s = icmp_spec;
	eth(&f, our_mac, peer_mac, 0x0800);
	ipv4(&f, &s, msg, n_msg);
	feed(nl, &f, true);
	expect_drop(nl, NET_E_ICMP_TYPE_UNSUPPORTED, "icmp timestamp");
	done(nl);
}

static void
test_rx_cksum_offload(void)
{
	struct net_lcore *nl = stack();
	struct rte_mbuf *m, *v[4];
	struct ip_spec s = icmp_spec;
	struct frame f;
	uint16_t n;

	/* The port said bad: dropped although the bytes sum right. */
	echo_request(&f, &s, 16, false);
	m = to_mbuf(&f);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_BAD;
	net_input(nl, &m, 1);
	expect_drop(nl, NET_E_IP_BAD_CKSUM, "offload says bad");
	done(nl);

	/* The port said good: trusted, and the reply carries no RX flags. */
	nl = stack();
	s.bad_cksum = true;
	echo_request(&f, &s, 16, false);
	m = to_mbuf(&f);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	net_input(nl, &m, 1);
	n = drain(nl, v, 4);
	CHECK(n == 1 && nl->cnt.ip_cksum_hw == 1 && drops_total(nl) == 0);
	CHECK(n == 1 && (v[0]->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == 0);
	free_all(v, n);
	done(nl);
}

static void
test_arp_aging(void)
{
	struct net_lcore *nl = stack();
	struct rte_mbuf *v[4];
	struct frame f;
	uint16_t n;

	/* Learned at t=1000 (stack() starts there); ages out ARP_TTL_MS later. */
	eth(&f, bcast_mac, peer_mac, 0x0806);
	arp(&f, 1, peer_mac, peer_ip, (const uint8_t[6]){ 0 }, our_ip);
	feed(nl, &f, true);
	n = drain(nl, v, 4);
	free_all(v, n);
	CHECK(net_arp_lookup(nl, ip_be(peer_ip)) != NULL);
	net_timer(nl, 1000 + ARP_TTL_MS - 1);
	CHECK(net_arp_lookup(nl, ip_be(peer_ip)) != NULL);
	/* A reply refreshes the entry (RFC 826 merge). */
	eth(&f, our_mac, peer_mac, 0x0806);
	arp(&f, 2, peer_mac, peer_ip, our_mac, our_ip);
	feed(nl, &f, true);
	CHECK(drain(nl, v, 4) == 0);
	net_timer(nl, 1000 + ARP_TTL_MS);
	CHECK(net_arp_lookup(nl, ip_be(peer_ip)) != NULL);
	/* Refreshed at 1000 + ARP_TTL_MS - 1: ages out one TTL after that. */
	net_timer(nl, 1000 + 2 * ARP_TTL_MS - 2);
	CHECK(net_arp_lookup(nl, ip_be(peer_ip)) != NULL);
	net_timer(nl, 1000 + 2 * ARP_TTL_MS - 1);
	CHECK(net_arp_lookup(nl, ip_be(peer_ip)) == NULL);
	CHECK(drops_total(nl) == 0);
	done(nl);
}

static struct rte_mbuf *ip_packet(const uint8_t *dst, uint16_t id);

/*
 * An entry in use is polled point to point near the end of its life (RFC 1122
 * 2.3.2.1 unicast poll), once per retry interval; the answer renews it, so
 * traffic to a live peer never waits on a new resolution.
 */
static void
test_arp_unicast_poll(void)
{
	struct net_lcore *nl = stack();
	struct rte_mbuf *v[4];
	struct frame f, poll;
	uint64_t window = ARP_TTL_MS / 2; /* min(3 retries of 1 s, TTL / 2) */
	uint64_t learned = 1000;
	uint16_t n;

	/* Learned from the peer's request at t=1000 (our reply drained). */
	eth(&f, bcast_mac, peer_mac, 0x0806);
	arp(&f, 1, peer_mac, peer_ip, (const uint8_t[6]){ 0 }, our_ip);
	feed(nl, &f, true);
	n = drain(nl, v, 4);
	CHECK(n == 1);
	free_all(v, n);
	eth(&f, our_mac, peer_mac, 0x0806);
	arp(&f, 2, peer_mac, peer_ip, our_mac, our_ip);
	eth(&poll, peer_mac, our_mac, 0x0806);
	arp(&poll, 1, our_mac, our_ip, (const uint8_t[6]){ 0 }, peer_ip);
	/* Before the window: the packet alone. */
	net_timer(nl, learned + ARP_TTL_MS - window - 1);
	CHECK(net_ipv4_send(nl, ip_packet(peer_ip, 1)) == 0);
	n = drain(nl, v, 4);
	CHECK(n == 1 && rte_pktmbuf_pkt_len(v[0]) == 14 + 20 + 12);
	free_all(v, n);
	/* In it: a request to the peer's MAC first, then the packet. */
	net_timer(nl, learned + ARP_TTL_MS - window);
	CHECK(net_ipv4_send(nl, ip_packet(peer_ip, 2)) == 0);
	n = drain(nl, v, 4);
	CHECK(n == 2 && same_frame(v[0], &poll));
	CHECK(n == 2 && rte_pktmbuf_pkt_len(v[1]) == 14 + 20 + 12);
	free_all(v, n);
	/* At most one poll per retry interval. */
	CHECK(net_ipv4_send(nl, ip_packet(peer_ip, 3)) == 0);
	CHECK(drain(nl, v, 4) == 1);
	rte_pktmbuf_free(v[0]);
	net_timer(nl, learned + ARP_TTL_MS - window + 1000);
	CHECK(net_ipv4_send(nl, ip_packet(peer_ip, 4)) == 0);
	n = drain(nl, v, 4);
	CHECK(n == 2 && same_frame(v[0], &poll));
	free_all(v, n);
	CHECK(nl->cnt.arp_requests_sent == 2);
	/* The answer renews the entry past its first deadline: no resolution needed. */
	feed(nl, &f, true);
	net_timer(nl, learned + ARP_TTL_MS + 10);
	CHECK(net_arp_lookup(nl, ip_be(peer_ip)) != NULL);
	CHECK(net_ipv4_send(nl, ip_packet(peer_ip, 5)) == 0);
	n = drain(nl, v, 4);
	CHECK(n == 1 && rte_pktmbuf_pkt_len(v[0]) == 14 + 20 + 12);
	free_all(v, n);
	CHECK(drops_total(nl) == 0);
	done(nl);
}

/* An IPv4/UDP packet to dst with IP id = id, as net_ipv4_send takes it. */
static struct rte_mbuf *
ip_packet(const uint8_t *dst, uint16_t id)
{
	struct ip_spec s = { .version_ihl = 0x45, .id = id, .ttl = 64, .proto = 17 };
	static const uint8_t udp[12] = { 0x30, 0x39, 0x30, 0x39, 0, 12, 0, 0, 'p', 'i', 'n', 'g' };
	struct frame f = { .len = 0 };

	s.src = our_ip;
	s.dst = dst;
	ipv4(&f, &s, udp, sizeof(udp));
	return to_mbuf(&f);
}

static void
test_arp_pending(void)
{
	struct net_lcore *nl = stack();
	struct rte_mbuf *v[NET_ARP_PENDING + 4];
	struct frame f, want;
	uint16_t n;

	/* The first packet asks; later ones for the same address wait quietly. */
	CHECK(net_ipv4_send(nl, ip_packet(peer_ip, 0)) == 0);
	n = drain(nl, v, 4);
	eth(&want, bcast_mac, our_mac, 0x0806);
	arp(&want, 1, our_mac, our_ip, (const uint8_t[6]){ 0 }, peer_ip);
	CHECK(n == 1 && same_frame(v[0], &want));
	free_all(v, n);
	for (uint16_t i = 1; i < NET_ARP_PENDING; i++)
		CHECK(net_ipv4_send(nl, ip_packet(peer_ip, i)) == 0);
	CHECK(drain(nl, v, 4) == 0);
	/* The queue is bounded: one more is dropped and counted. */
	CHECK(net_ipv4_send(nl, ip_packet(peer_ip, 999)) == -NET_E_ARP_PENDING_FULL);
	CHECK(nl->cnt.drops[NET_E_ARP_PENDING_FULL] == 1);

	/* The reply releases all of them, in order, addressed to the peer. */
	eth(&f, our_mac, peer_mac, 0x0806);
	arp(&f, 2, peer_mac, peer_ip, our_mac, our_ip);
	feed(nl, &f, true);
	n = drain(nl, v, NET_ARP_PENDING + 4);
	CHECK(n == NET_ARP_PENDING);
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *b = rte_pktmbuf_mtod(v[i], const uint8_t *);

		CHECK(memcmp(b, peer_mac, 6) == 0 && memcmp(b + 6, our_mac, 6) == 0);
		CHECK(b[12] == 0x08 && b[13] == 0x00);
		CHECK(cksum(b + 14, 20) == 0);
		CHECK(b[18] == 0 && b[19] == i); /* IP id: order kept */
		CHECK(rte_pktmbuf_pkt_len(v[i]) == 14 + 20 + 12);
	}
	free_all(v, n);
	/* Now resolved: the next one goes straight out. */
	CHECK(net_ipv4_send(nl, ip_packet(peer_ip, 77)) == 0);
	CHECK(drain(nl, v, 4) == 1);
	rte_pktmbuf_free(v[0]);
	done(nl);
}

static void
test_arp_pending_timeout(void)
{
	struct net_lcore *nl = stack();
	struct rte_mbuf *v[4];
	uint16_t n;

	/* t=1000: first request. Retries at 2000 and 3000, then give up at 4000. */
	CHECK(net_ipv4_send(nl, ip_packet(other_ip, 1)) == 0);
	CHECK(net_ipv4_send(nl, ip_packet(other_ip, 2)) == 0);
	n = drain(nl, v, 4);
	CHECK(n == 1);
	free_all(v, n);
	net_timer(nl, 1999);
	CHECK(drain(nl, v, 4) == 0);
	net_timer(nl, 2000);
	n = drain(nl, v, 4);
	CHECK(n == 1 && nl->cnt.arp_requests_sent == 2);
	free_all(v, n);
	net_timer(nl, 3000);
	n = drain(nl, v, 4);
	CHECK(n == 1 && nl->cnt.arp_requests_sent == 3);
	free_all(v, n);
	net_timer(nl, 3999);
	CHECK(drain(nl, v, 4) == 0 && nl->cnt.drops[NET_E_ARP_PENDING_TIMEOUT] == 0);
	net_timer(nl, 4000);
	CHECK(drain(nl, v, 4) == 0);
	CHECK(nl->cnt.drops[NET_E_ARP_PENDING_TIMEOUT] == 2 && nl->n_pending == 0);
	CHECK(nl->cnt.arp_requests_sent == NET_ARP_TRIES);
	/* Everything is back in the pool before teardown. */
	CHECK(rte_mempool_in_use_count(pool) == 0);
	done(nl);
}

static void
test_no_route(void)
{
	struct net_lcore *nl = stack();

	CHECK(net_ipv4_send(nl, ip_packet((const uint8_t[4]){ 192, 0, 2, 1 }, 1)) ==
	      -NET_E_IP_NO_ROUTE);
	expect_drop(nl, NET_E_IP_NO_ROUTE, "off-link without gateway");
	done(nl);
}

static void
test_error_names(void)
{
	CHECK(strcmp(net_error_name(-NET_E_IP_BAD_CKSUM), "ip_bad_cksum") == 0);
	CHECK(strcmp(net_error_name(NET_E_ARP_PENDING_FULL), "arp_pending_full") == 0);
	CHECK(strcmp(net_error_name(NET_E__COUNT), "unknown_error") == 0);
	for (int i = 1; i < NET_E__COUNT; i++) {
		CHECK(net_error_name(i) != NULL);
		for (int j = 1; j < i; j++)
			CHECK(strcmp(net_error_name(i), net_error_name(j)) != 0);
	}
}

int
main(int argc, char **argv)
{
	(void)argc;
	pool = test_eal_pool(argv[0], "test_net", POOL_MBUFS);
	if (pool == NULL)
		return 1;
	test_error_names();
	test_gratuitous_arp();
	test_arp_reply();
	test_arp_other_ip();
	test_arp_bad();
	test_eth();
	test_icmp_echo(0);  /* 42-byte reply from a padded 60-byte request */
	test_icmp_echo(56); /* ping's default */
	test_icmp_echo(1400);
	test_ipv4_checks();
	test_icmp_checks();
	test_rx_cksum_offload();
	test_arp_aging();
	test_arp_unicast_poll();
	test_arp_pending();
	test_arp_pending_timeout();
	test_no_route();
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return CHECK_SUMMARY();
}
