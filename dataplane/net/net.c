/* SPDX-License-Identifier: BSD-3-Clause */
/* The stack's entry points and the Ethernet layer; see net.h. */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "tcp_pvt.h"

static const char *const error_names[NET_E__COUNT] = {
	[NET_OK] = "ok",
#define NET_ERROR(sym, name) [NET_E_##sym] = name,
#include "net_error.def"
#undef NET_ERROR
};

const char *
net_error_name(int err)
{
	if (err < 0)
		err = -err;
	if (err >= NET_E__COUNT)
		return "unknown_error";
	return error_names[err];
}

struct net_lcore *
net_lcore_create(const struct net_conf *conf, int socket)
{
	struct net_lcore *nl;

	if (conf->pool == NULL || conf->ip == 0 || rte_is_zero_ether_addr(&conf->mac) ||
	    !rte_is_unicast_ether_addr(&conf->mac)) {
		rte_errno = EINVAL;
		return NULL;
	}
	nl = rte_zmalloc_socket("net_lcore", sizeof(*nl), RTE_CACHE_LINE_SIZE, socket);
	if (nl == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	nl->mac = conf->mac;
	nl->ip = conf->ip;
	nl->netmask = conf->netmask;
	nl->gateway = conf->gateway;
	nl->pool = conf->pool;
	nl->tx_ip_cksum = conf->tx_ip_cksum;
	nl->arp_ttl_ms = conf->arp_ttl_ms != 0 ? conf->arp_ttl_ms : NET_ARP_TTL_MS_DEFAULT;
	nl->arp_retry_ms = conf->arp_retry_ms != 0 ? conf->arp_retry_ms : NET_ARP_RETRY_MS_DEFAULT;
	if (conf->tcp != NULL) {
		int rc = tcp_lcore_init(nl, conf->tcp, socket);

		if (rc < 0) {
			rte_free(nl);
			rte_errno = -rc;
			return NULL;
		}
	}
	return nl;
}

void
net_lcore_destroy(struct net_lcore *nl)
{
	if (nl == NULL)
		return;
	for (uint16_t i = 0; i < nl->n_out; i++)
		rte_pktmbuf_free(nl->out[i]);
	for (uint16_t i = 0; i < nl->n_pending; i++)
		rte_pktmbuf_free(nl->pending[i].m);
	tcp_lcore_free(nl);
	rte_free(nl);
}

int
net_start(struct net_lcore *nl)
{
	/* RFC 5227 (1.1, 2.3): an ARP Announcement is a broadcast ARP Request whose
	 * sender and target IP addresses are both ours, so that every neighbour
	 * holding a stale entry for our address updates it (RFC 826 merge). */
	return net_arp_request(nl, nl->ip);
}

static void
eth_input(struct net_lcore *nl, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh;
	uint16_t type;

	nl->cnt.rx_frames++;
	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN) {
		net_drop(nl, m, NET_E_ETH_TRUNCATED);
		return;
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* Ours or broadcast only; multicast has no listener here yet. */
	if (!rte_is_same_ether_addr(&eh->dst_addr, &nl->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr)) {
		net_drop(nl, m, NET_E_ETH_NOT_FOR_US);
		return;
	}
	/* IEEE 802.3: a source address is an individual address; a group bit there
	 * means a forged or broken frame, and a reply to it would be multicast. */
	if (!rte_is_unicast_ether_addr(&eh->src_addr)) {
		net_drop(nl, m, NET_E_ETH_BAD_SRC);
		return;
	}
	type = rte_be_to_cpu_16(eh->ether_type);
	switch (type) {
	case RTE_ETHER_TYPE_ARP:
		rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
		net_arp_input(nl, m);
		break;
	case RTE_ETHER_TYPE_IPV4:
		rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
		net_ipv4_input(nl, m);
		break;
	default:
		net_drop(nl, m, NET_E_ETH_TYPE_UNSUPPORTED);
		break;
	}
}

uint16_t
net_input(struct net_lcore *nl, struct rte_mbuf **v, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		eth_input(nl, v[i]);
	return n;
}

uint16_t
net_output(struct net_lcore *nl, struct rte_mbuf **v, uint16_t n)
{
	uint16_t k;

	if (nl->tcp != NULL)
		tcp_flush(nl);
	k = n < nl->n_out ? n : nl->n_out;
	memcpy(v, nl->out, k * sizeof(v[0]));
	nl->n_out -= k;
	memmove(nl->out, nl->out + k, nl->n_out * sizeof(nl->out[0]));
	return k;
}

void
net_timer(struct net_lcore *nl, uint64_t now_ms)
{
	if (now_ms > nl->now_ms)
		nl->now_ms = now_ms;
	net_arp_timer(nl);
	if (nl->tcp != NULL) {
		tcp_timers(nl);
		tcp_read_rearm(nl);
	}
}
