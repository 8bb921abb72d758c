/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP (RFC 792): echo replies only, built in the request's own mbuf. */
#include <rte_icmp.h>
#include <rte_ip.h>

#include "net_pvt.h"

#define IPV4_TTL_OUT 64

void
net_icmp_input(struct net_lcore *nl, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint16_t hlen = rte_ipv4_hdr_len(ih);
	uint32_t len = rte_pktmbuf_pkt_len(m) - hlen; /* trimmed to Total Length by ipv4 */
	struct rte_icmp_hdr *ic;
	struct rte_ether_hdr *eh;
	struct rte_ether_addr peer;
	uint16_t sum, old_word;
	uint32_t peer_ip;

	if (len < sizeof(struct rte_icmp_hdr) ||
	    rte_pktmbuf_data_len(m) < hlen + sizeof(struct rte_icmp_hdr)) {
		net_drop(nl, m, NET_E_ICMP_TRUNCATED);
		return;
	}
	/* RFC 792: "The checksum is the 16-bit ones's complement of the one's
	 * complement sum of the ICMP message starting with the ICMP Type." A
	 * message whose sum does not fold to all ones was damaged. */
	if (rte_raw_cksum_mbuf(m, hlen, len, &sum) != 0 || sum != 0xffff) {
		net_drop(nl, m, NET_E_ICMP_BAD_CKSUM);
		return;
	}
	ic = (struct rte_icmp_hdr *)((uint8_t *)ih + hlen);
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		net_drop(nl, m, NET_E_ICMP_TYPE_UNSUPPORTED);
		return;
	}
	/* RFC 792 Echo: "To form an echo reply message, the source and
	 * destination addresses are simply reversed, the type code changed to 0,
	 * and the checksum recomputed." RFC 1122 3.2.2.6: "The data received in
	 * the ICMP Echo Request MUST be entirely included in the Echo Reply." So
	 * the reply is the request, turned around in place. */
	old_word = *(const unaligned_uint16_t *)ic;
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum =
		net_cksum_adjust16(ic->icmp_cksum, old_word, *(const unaligned_uint16_t *)ic);

	peer_ip = ih->src_addr;
	ih->src_addr = nl->ip;
	ih->dst_addr = peer_ip;
	ih->time_to_live = IPV4_TTL_OUT;
	ih->type_of_service = 0;
	ih->fragment_offset = 0;
	ih->packet_id = rte_cpu_to_be_16(nl->ip_id++);
	m->ol_flags = 0; /* RX flags must not read as TX requests */
	net_ipv4_cksum_out(nl, m);

	/* Answer on the link the request came from, to the MAC that sent it:
	 * no ARP lookup, and no ARP traffic to answer a ping. */
	eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
	peer = eh->src_addr;
	eh->dst_addr = peer;
	eh->src_addr = nl->mac;
	if (net_out_push(nl, m) == 0)
		nl->cnt.icmp_echo_replies++;
}
