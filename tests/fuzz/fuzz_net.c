/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the network stack's input path (dataplane/net) on
 * arbitrary Ethernet frames.
 *
 * The EAL starts once, in-process (--no-huge --no-pci --no-shconf -m 128),
 * with one mbuf pool; every input gets a fresh struct net_lcore on
 * 198.18.0.2/24 (gateway 198.18.0.1). Input layout (fuzz_seedgen writes
 * seeds in it), a sequence of records:
 *
 *   ctl % 4: 0 FRAME  len16, then len bytes (fewer at the end): one frame,
 *                     added to the burst (32 frames: the burst goes in)
 *            1 INPUT  the burst goes to net_input; then net_output drains
 *                     ctl >> 2 frames (63: all)
 *            2 TIMER  ms16: the clock goes on by ms * 4, net_timer
 *            3 SEND   ip8: net_ipv4_send of a small packet to 198.18.0.ip
 *                     (ip8 >= 0xf0: to 203.0.113.ip, through the gateway)
 *
 * abort() unless, once the burst went in and every output was drained:
 * rx_frames counts every frame fed; tx_frames counts every frame drained;
 * replies and receive drops do not outnumber received frames; the pool's
 * in-use count is back to the baseline plus the packets waiting for ARP;
 * and after net_lcore_destroy it is back to the baseline exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "../net/test_eal.h"
#include "net.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_MBUFS 2047
#define BURST 32

/* An IPv4 address in host order (RTE_IPV4 shifts a signed int: UBSan objects). */
static inline uint32_t
ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

static struct rte_mempool *pool;
static unsigned baseline;

static void __attribute__((noreturn)) invariant(const char *what)
{
	fprintf(stderr, "fuzz_net: INVARIANT VIOLATED (MISMATCH): %s\n", what);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	pool = test_eal_pool((*argv)[0], "fuzz_net", POOL_MBUFS);
	if (pool == NULL)
		exit(1);
	baseline = rte_mempool_in_use_count(pool);
	return 0;
}

struct run {
	struct net_lcore *nl;
	struct rte_mbuf *burst[BURST];
	uint16_t n_burst;
	uint64_t fed, drained, now;
};

static void
input_burst(struct run *r)
{
	if (net_input(r->nl, r->burst, r->n_burst) != r->n_burst)
		invariant("net_input did not take the whole burst");
	r->fed += r->n_burst;
	r->n_burst = 0;
}

static void
drain(struct run *r, unsigned max)
{
	struct rte_mbuf *v[BURST];

	while (max) {
		uint16_t want = max < BURST ? (uint16_t)max : BURST;
		uint16_t n = net_output(r->nl, v, want);

		for (uint16_t i = 0; i < n; i++) {
			if (v[i]->nb_segs < 1 || rte_pktmbuf_pkt_len(v[i]) < RTE_ETHER_HDR_LEN)
				invariant(
					"net_output gave a frame shorter than an Ethernet header");
			rte_pktmbuf_free(v[i]);
		}
		r->drained += n;
		max -= n;
		if (n < want)
			break;
	}
}

static void
add_frame(struct run *r, const uint8_t *p, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *dst;

	if (m == NULL)
		invariant("mempool empty: mbufs leaked");
	if (len > rte_pktmbuf_tailroom(m))
		len = rte_pktmbuf_tailroom(m);
	dst = rte_pktmbuf_append(m, (uint16_t)len);
	if (len)
		memcpy(dst, p, len);
	r->burst[r->n_burst++] = m;
	if (r->n_burst == BURST)
		input_burst(r);
}

static void
send_packet(struct run *r, uint8_t ip8)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ipv4_hdr *ip;

	if (m == NULL)
		invariant("mempool empty: mbufs leaked");
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, sizeof(*ip) + 8);
	memset(ip, 0, sizeof(*ip) + 8);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + 8);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(ipv4(198, 18, 0, 2));
	ip->dst_addr =
		rte_cpu_to_be_32(ip8 >= 0xf0 ? ipv4(203, 0, 113, ip8) : ipv4(198, 18, 0, ip8));
	(void)net_ipv4_send(r->nl, m);
}

static void
check_counters(const struct run *r)
{
	const struct net_counters *c = &r->nl->cnt;
	uint64_t rx_drops = 0;

	for (int e = NET_E_ETH_TRUNCATED; e <= NET_E_ICMP_TYPE_UNSUPPORTED; e++)
		if (e != NET_E_ARP_CACHE_FULL && e != NET_E_ARP_PENDING_FULL &&
		    e != NET_E_ARP_PENDING_TIMEOUT && e != NET_E_IP_NO_ROUTE)
			rx_drops += c->drops[e];
	if (c->rx_frames != r->fed)
		invariant("rx_frames differs from the frames fed");
	if (c->tx_frames != r->drained)
		invariant("tx_frames differs from the frames drained");
	if (rx_drops + c->arp_replies_sent + c->icmp_echo_replies > r->fed)
		invariant("more receive drops and replies than frames received");
	if (rte_mempool_in_use_count(pool) != baseline + r->nl->n_pending)
		invariant("mbufs in use besides the packets waiting for ARP");
	if (r->nl->n_pending > NET_ARP_PENDING || r->nl->n_out > NET_OUT_MAX)
		invariant("a queue exceeds its bound");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_conf conf;
	struct run r = { 0 };
	size_t at = 0;

	memset(&conf, 0, sizeof(conf));
	conf.mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x02 } };
	conf.ip = rte_cpu_to_be_32(ipv4(198, 18, 0, 2));
	conf.netmask = rte_cpu_to_be_32(0xffffff00);
	conf.gateway = rte_cpu_to_be_32(ipv4(198, 18, 0, 1));
	conf.pool = pool;
	r.nl = net_lcore_create(&conf, SOCKET_ID_ANY);
	if (r.nl == NULL)
		invariant("net_lcore_create failed");
	r.now = 1000;
	net_timer(r.nl, r.now);

	while (at < size) {
		uint8_t ctl = data[at++];

		switch (ctl % 4) {
		case 0: {
			size_t len = 0;

			if (at < size)
				len = data[at++];
			if (at < size)
				len |= (size_t)data[at++] << 8;
			if (len > size - at)
				len = size - at;
			add_frame(&r, data + at, len);
			at += len;
			break;
		}
		case 1:
			input_burst(&r);
			drain(&r, (ctl >> 2) == 63 ? NET_OUT_MAX : ctl >> 2);
			break;
		case 2: {
			uint64_t ms = 0;

			if (at < size)
				ms = data[at++];
			if (at < size)
				ms |= (uint64_t)data[at++] << 8;
			r.now += ms * 4;
			net_timer(r.nl, r.now);
			break;
		}
		default:
			send_packet(&r, at < size ? data[at++] : 0);
			break;
		}
	}
	input_burst(&r);
	drain(&r, NET_OUT_MAX);
	check_counters(&r);
	net_lcore_destroy(r.nl);
	if (rte_mempool_in_use_count(pool) != baseline)
		invariant("mbufs still in use after net_lcore_destroy");
	return 0;
}
