/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 (RFC 791, RFC 1122 3.2.1): a chain of named header checks on input,
 * one drop counter per check; next hop and checksum on output. No options,
 * no fragments: both are dropped and counted (see the checks for why).
 */
#include <rte_ip.h>

#include "net_pvt.h"

#define IPV4_VERSION 4
#define IPV4_IHL_MIN 5

static bool
ipv4_src_valid(uint32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);

	/* RFC 1122 3.2.1.3: a host "MUST silently discard an incoming datagram
	 * containing an IP source address that is invalid by the rules of this
	 * section": not broadcast ({-1, -1}), not multicast (class D) nor the
	 * reserved class E, not loopback
	 * ({127, <any>} "MUST NOT appear outside a host"). 0.0.0.0 is only an
	 * initialisation source and cannot be answered, so it goes too. */
	if (h == 0 || h == UINT32_MAX)
		return false;
	if ((h >> 28) >= 0xe)
		return false;
	if ((h >> 24) == 127)
		return false;
	return true;
}

void
net_ipv4_input(struct net_lcore *nl, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ih;
	uint32_t avail = rte_pktmbuf_pkt_len(m);
	uint16_t hlen, total, frag;
	uint64_t csum_flags;

	if (rte_pktmbuf_data_len(m) < sizeof(struct rte_ipv4_hdr)) {
		net_drop(nl, m, NET_E_IP_TRUNCATED);
		return;
	}
	ih = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	/* RFC 1122 3.2.1.1: "A datagram whose version number is not 4 MUST be
	 * silently discarded." */
	if ((ih->version_ihl >> 4) != IPV4_VERSION) {
		net_drop(nl, m, NET_E_IP_BAD_VERSION);
		return;
	}
	/* RFC 791: "Internet Header Length is the length of the internet header
	 * in 32 bit words ... Note that the minimum value for a correct header
	 * is 5." */
	hlen = (uint16_t)((ih->version_ihl & 0xf) * 4u);
	if (hlen < IPV4_IHL_MIN * 4) {
		net_drop(nl, m, NET_E_IP_BAD_IHL);
		return;
	}
	if (hlen > rte_pktmbuf_data_len(m)) {
		net_drop(nl, m, NET_E_IP_TRUNCATED);
		return;
	}
	/* RFC 1122 3.2.1.2: "A host MUST verify the IP header checksum on every
	 * received datagram and silently discard every datagram that has a bad
	 * checksum." The port may have done it for us. */
	csum_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (csum_flags == RTE_MBUF_F_RX_IP_CKSUM_GOOD) {
		nl->cnt.ip_cksum_hw++;
	} else if (csum_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD || rte_raw_cksum(ih, hlen) != 0xffff) {
		net_drop(nl, m, NET_E_IP_BAD_CKSUM);
		return;
	}
	/* RFC 791: "Total Length is the length of the datagram, measured in
	 * octets, including internet header and data." It cannot be shorter
	 * than the header, nor longer than what arrived. */
	total = rte_be_to_cpu_16(ih->total_length);
	if (total < hlen) {
		net_drop(nl, m, NET_E_IP_BAD_TOTAL_LEN);
		return;
	}
	if (total > avail) {
		net_drop(nl, m, NET_E_IP_TOTAL_LEN_EXCEEDS_FRAME);
		return;
	}
	/* Bytes past Total Length are link padding (60-byte Ethernet minimum). */
	if (total < avail && rte_pktmbuf_trim(m, (uint16_t)(avail - total)) != 0) {
		net_drop(nl, m, NET_E_IP_BAD_TOTAL_LEN);
		return;
	}
	/* RFC 791 2.3: "An unfragmented datagram has all zero fragmentation
	 * information (i.e., more-fragments flag = 0, fragment offset = 0)."
	 * RFC 1122 3.3.2 asks hosts to reassemble; we do not, on purpose (no
	 * per-datagram memory for an attacker to fill), so fragments are counted. */
	frag = rte_be_to_cpu_16(ih->fragment_offset);
	if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		net_drop(nl, m, NET_E_IP_FRAGMENT);
		return;
	}
	/* RFC 791: options "may appear or not in datagrams"; RFC 1122 3.2.1.8 has
	 * hosts pass them up. We serve no option (source routes are an attack
	 * surface, see RFC 7126), so datagrams with IHL > 5 are counted out. */
	if (hlen > IPV4_IHL_MIN * 4) {
		net_drop(nl, m, NET_E_IP_OPTIONS);
		return;
	}
	if (!ipv4_src_valid(ih->src_addr)) {
		net_drop(nl, m, NET_E_IP_BAD_SRC);
		return;
	}
	/* One address, no broadcast or multicast listener, and a host does not
	 * forward: datagrams for any other destination are not ours. */
	if (ih->dst_addr != nl->ip) {
		net_drop(nl, m, NET_E_IP_NOT_FOR_US);
		return;
	}
	switch (ih->next_proto_id) {
	case IPPROTO_ICMP:
		net_icmp_input(nl, m);
		break;
	case IPPROTO_TCP:
		net_tcp_input(nl, m);
		break;
	default:
		net_drop(nl, m, NET_E_IP_PROTO_UNSUPPORTED);
		break;
	}
}

void
net_ipv4_cksum_out(struct net_lcore *nl, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	ih->hdr_checksum = 0;
	if (nl->tx_ip_cksum) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = rte_ipv4_hdr_len(ih);
	} else {
		ih->hdr_checksum = rte_ipv4_cksum(ih);
	}
}

int
net_ipv4_send(struct net_lcore *nl, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t dst = ih->dst_addr, next_hop = dst;
	struct rte_ether_hdr *eh;

	/* RFC 1122 3.3.1.1: "If the destination is on a connected network, the
	 * datagram is sent directly to the destination host; otherwise, it has
	 * to be routed to a gateway". */
	if (((dst ^ nl->ip) & nl->netmask) != 0) {
		if (nl->gateway == 0)
			return net_drop(nl, m, NET_E_IP_NO_ROUTE);
		next_hop = nl->gateway;
	}
	m->ol_flags &= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_L4_MASK; /* TCP's offload request stays */
	net_ipv4_cksum_out(nl, m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
	if (eh == NULL)
		return net_drop(nl, m, NET_E_NO_MBUF);
	eh->src_addr = nl->mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	return net_arp_resolve_send(nl, m, next_hop);
}
