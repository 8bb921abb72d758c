/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to dataplane/net: what the layers call on each other. */
#ifndef SLUICE_NET_PVT_H
#define SLUICE_NET_PVT_H

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "net.h"

/* Count a drop of m for reason err (NET_E_*), free m, return -err. */
static inline int
net_drop(struct net_lcore *nl, struct rte_mbuf *m, int err)
{
	nl->cnt.drops[err]++;
	rte_pktmbuf_free(m);
	return -err;
}

/* Queue a finished frame for net_output. 0, or -NET_E_TX_QUEUE_FULL (m freed). */
static inline int
net_out_push(struct net_lcore *nl, struct rte_mbuf *m)
{
	if (nl->n_out == NET_OUT_MAX)
		return net_drop(nl, m, NET_E_TX_QUEUE_FULL);
	nl->out[nl->n_out++] = m;
	nl->cnt.tx_frames++;
	return 0;
}

/*
 * RFC 1624 eqn. 3: update a checksum when one 16-bit word changes,
 * HC' = ~(~HC + ~m + m'). All values in network order.
 */
static inline uint16_t
net_cksum_adjust16(uint16_t cksum, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~cksum;

	sum += (uint16_t)~old_word;
	sum += new_word;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Layer inputs: m's data starts at the layer's header; m is consumed. */
void net_arp_input(struct net_lcore *nl, struct rte_mbuf *m);
void net_ipv4_input(struct net_lcore *nl, struct rte_mbuf *m);
void net_icmp_input(struct net_lcore *nl, struct rte_mbuf *m);
void net_tcp_input(struct net_lcore *nl, struct rte_mbuf *m);

/* Fill the IPv4 header checksum of m (data at the IPv4 header), or ask the port to. */
void net_ipv4_cksum_out(struct net_lcore *nl, struct rte_mbuf *m);

/* Queue an ARP request for ip (network order). 0 or -NET_E_*. */
int net_arp_request(struct net_lcore *nl, uint32_t ip);

/* Send m (Ethernet header in place) to next_hop: now, or once ARP answers. */
int net_arp_resolve_send(struct net_lcore *nl, struct rte_mbuf *m, uint32_t next_hop);

/* ARP aging, retries and pending timeouts at nl->now_ms. */
void net_arp_timer(struct net_lcore *nl);

#endif
