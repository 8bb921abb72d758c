/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK port bring-up; see port.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <numa.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "port.h"

#define LINK_POLL_MS 50

static void __attribute__((format(printf, 3, 4)))
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The device's socket, or 0 when it does not know (vdevs report SOCKET_ID_ANY). */
static int
port_socket(uint16_t port_id)
{
	int s = rte_eth_dev_socket_id(port_id);

	return s < 0 ? 0 : s;
}

struct rte_mempool *
nic_pool_get(struct nic_pools *pools, int socket, const struct nic_port_conf *conf, char *err,
	     size_t errlen)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned slot = socket < 0 || socket >= NIC_MAX_SOCKETS ? 0 : (unsigned)socket;
	struct rte_mempool *mp;

	if (pools->by_socket[slot] != NULL)
		return pools->by_socket[slot];
	if (conf->pool_mbufs == 0) {
		errf(err, errlen, "nic: pool_mbufs is 0: set the per-socket mbuf count");
		rte_errno = EINVAL;
		return NULL;
	}
	snprintf(name, sizeof(name), "sluice_mb_s%u", slot);
	mp = rte_pktmbuf_pool_create(name, conf->pool_mbufs, conf->pool_cache, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, (int)slot);
	if (mp == NULL && rte_errno == ENOMEM) {
		/* With --no-huge, or on a socket with no hugepages, memory may sit on
		 * another socket: a slower pool beats no pool. */
		mp = rte_pktmbuf_pool_create(name, conf->pool_mbufs, conf->pool_cache, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	}
	if (mp == NULL) {
		errf(err, errlen,
		     "nic: cannot create mbuf pool %s (%u mbufs of %u bytes on socket %u): %s; "
		     "reserve more hugepages, raise -m with --no-huge, or lower pool_mbufs",
		     name, conf->pool_mbufs, (unsigned)RTE_MBUF_DEFAULT_BUF_SIZE, slot,
		     rte_strerror(rte_errno));
		return NULL;
	}
	pools->by_socket[slot] = mp;
	return mp;
}

/* Which checksum offloads to turn on: those the device offers, nothing else. */
static void
choose_offloads(struct nic_port *p, const struct rte_eth_dev_info *info, struct rte_eth_conf *ec)
{
	uint64_t rx = info->rx_offload_capa, tx = info->tx_offload_capa;

	if (rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		p->rx_ip_cksum = true;
	}
	if ((rx & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0) {
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		p->rx_l4_cksum = true;
	}
	if (tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->tx_ip_cksum = true;
	}
	if (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		p->tx_tcp_cksum = true;
	}
	/* No MBUF_FAST_FREE: TCP will keep references to sent mbufs (refcnt > 1)
	 * for retransmission, which that offload forbids. */
	p->rx_offloads = ec->rxmode.offloads;
	p->tx_offloads = ec->txmode.offloads;
}

int
nic_port_init(struct nic_port *p, uint16_t port_id, const struct nic_port_conf *conf,
	      struct nic_pools *pools, char *err, size_t errlen)
{
	struct rte_eth_conf ec;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = conf->nb_rxd, nb_txd = conf->nb_txd;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!rte_eth_dev_is_valid_port(port_id)) {
		errf(err, errlen,
		     "nic: port %u does not exist (%u ports found): bind the NIC to a DPDK driver "
		     "or pass --vdev",
		     port_id, rte_eth_dev_count_avail());
		return -ENODEV;
	}
	if (conf->nb_queues == 0 || conf->nb_queues > NIC_MAX_QUEUES) {
		errf(err, errlen, "nic: port %u: %u queue pairs asked, between 1 and %u supported",
		     port_id, conf->nb_queues, NIC_MAX_QUEUES);
		return -EINVAL;
	}
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		errf(err, errlen, "nic: port %u: cannot read device info: %s", port_id,
		     strerror(-rc));
		return rc;
	}
	if (conf->nb_queues > info.max_rx_queues || conf->nb_queues > info.max_tx_queues) {
		errf(err, errlen,
		     "nic: port %u (%s) has %u RX / %u TX queues, %u I/O lcores need one pair "
		     "each: run fewer I/O lcores",
		     port_id, info.driver_name, info.max_rx_queues, info.max_tx_queues,
		     conf->nb_queues);
		return -EINVAL;
	}
	if (conf->mtu != 0 && (conf->mtu < info.min_mtu || conf->mtu > info.max_mtu)) {
		errf(err, errlen, "nic: port %u (%s): MTU %u outside the device's range %u..%u",
		     port_id, info.driver_name, conf->mtu, info.min_mtu, info.max_mtu);
		return -EINVAL;
	}

	p->port_id = port_id;
	p->socket = port_socket(port_id);
	p->nb_queues = conf->nb_queues;
	memset(&ec, 0, sizeof(ec));
	if (conf->mtu != 0)
		ec.rxmode.mtu = conf->mtu;
	/* RSS spreads connections over the I/O lcores by 4-tuple so that each
	 * connection stays on one lcore. One queue needs no spreading. */
	if (conf->nb_queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP)) {
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_key = NULL; /* the driver's default key */
		ec.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
		p->rss = true;
	} else if (conf->nb_queues > 1) {
		/* Without RSS a connection's packets could land on any queue: one
		 * queue keeps each connection on one lcore. The caller sees
		 * p->nb_queues == 1 and gives the port a single I/O lcore. */
		fprintf(stderr,
			"nic: warning: port %u (%s) cannot hash IPv4/TCP over queues (no RSS): "
			"using 1 queue pair instead of %u; the other I/O lcores get no queue "
			"on this port\n",
			port_id, info.driver_name, conf->nb_queues);
		p->nb_queues = 1;
	}
	choose_offloads(p, &info, &ec);

	rc = rte_eth_dev_configure(port_id, p->nb_queues, p->nb_queues, &ec);
	if (rc != 0) {
		errf(err, errlen, "nic: port %u (%s): configure failed: %s", port_id,
		     info.driver_name, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (rc != 0) {
		errf(err, errlen, "nic: port %u: descriptor counts %u/%u rejected: %s", port_id,
		     conf->nb_rxd, conf->nb_txd, strerror(-rc));
		return rc;
	}
	for (uint16_t q = 0; q < p->nb_queues; q++) {
		int socket = p->socket;
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;
		struct rte_mempool *mp;

		/* Descriptors and buffers go where the polling lcore is. */
		if (conf->queue_lcores != NULL)
			socket = (int)rte_lcore_to_socket_id(conf->queue_lcores[q]);
		mp = nic_pool_get(pools, socket, conf, err, errlen);
		if (mp == NULL)
			return -ENOMEM;
		rxc.offloads = ec.rxmode.offloads;
		txc.offloads = ec.txmode.offloads;
		rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd, (unsigned)socket, &rxc, mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, (unsigned)socket, &txc);
		if (rc != 0) {
			errf(err, errlen,
			     "nic: port %u queue %u (socket %d, %u/%u descriptors): %s", port_id, q,
			     socket, nb_rxd, nb_txd, strerror(-rc));
			return rc;
		}
		p->queue_pool[q] = mp;
	}
	rc = rte_eth_macaddr_get(port_id, &p->mac);
	if (rc != 0) {
		errf(err, errlen, "nic: port %u: cannot read MAC address: %s", port_id,
		     strerror(-rc));
		return rc;
	}
	if (rte_eth_dev_get_mtu(port_id, &p->mtu) != 0)
		p->mtu = RTE_ETHER_MTU;
	return 0;
}

int
nic_link_wait(uint16_t port_id, unsigned timeout_ms)
{
	struct rte_eth_link link;

	for (unsigned waited = 0;; waited += LINK_POLL_MS) {
		int rc;

		memset(&link, 0, sizeof(link));
		rc = rte_eth_link_get_nowait(port_id, &link);
		if (rc != 0 && rc != -ENOTSUP)
			return rc;
		/* A device that cannot report link is taken as up: nothing to wait for. */
		if (rc == -ENOTSUP || link.link_status == RTE_ETH_LINK_UP)
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		usleep(LINK_POLL_MS * 1000);
	}
}

int
nic_port_start(struct nic_port *p, unsigned link_timeout_ms, char *err, size_t errlen)
{
	int rc = rte_eth_dev_start(p->port_id);

	if (rc != 0) {
		errf(err, errlen, "nic: port %u: start failed: %s", p->port_id, strerror(-rc));
		return rc;
	}
	/* Frames for other MACs are not ours to see; the stack drops them anyway,
	 * but the device can do it for free. */
	rc = rte_eth_promiscuous_disable(p->port_id);
	if (rc != 0 && rc != -ENOTSUP) {
		errf(err, errlen, "nic: port %u: cannot turn promiscuous mode off: %s", p->port_id,
		     strerror(-rc));
		return rc;
	}
	p->promisc = rte_eth_promiscuous_get(p->port_id) == 1;
	rc = nic_link_wait(p->port_id, link_timeout_ms);
	if (rc == -ETIMEDOUT)
		errf(err, errlen,
		     "nic: port %u: link still down after %u ms: check the cable or peer "
		     "(the port is started and will use the link when it comes up)",
		     p->port_id, link_timeout_ms);
	else if (rc != 0)
		errf(err, errlen, "nic: port %u: cannot read link status: %s", p->port_id,
		     strerror(-rc));
	return rc;
}

void
nic_port_close(struct nic_port *p)
{
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
}

int
nic_port_stats(const struct nic_port *p, struct nic_stats *s)
{
	struct rte_eth_stats es;
	int rc = rte_eth_stats_get(p->port_id, &es);
	uint16_t nq = p->nb_queues;

	if (rc != 0)
		return rc;
	memset(s, 0, sizeof(*s));
	s->ipackets = es.ipackets;
	s->opackets = es.opackets;
	s->ibytes = es.ibytes;
	s->obytes = es.obytes;
	s->imissed = es.imissed;
	s->ierrors = es.ierrors;
	s->oerrors = es.oerrors;
	s->rx_nombuf = es.rx_nombuf;
	/* Devices keep per-queue counters for the first few queues only. */
	if (nq > RTE_ETHDEV_QUEUE_STAT_CNTRS)
		nq = RTE_ETHDEV_QUEUE_STAT_CNTRS;
	s->nb_queues = nq;
	for (uint16_t q = 0; q < nq; q++) {
		s->q_ipackets[q] = es.q_ipackets[q];
		s->q_opackets[q] = es.q_opackets[q];
	}
	return 0;
}

void
nic_port_describe(const struct nic_port *p, char *buf, size_t len)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	snprintf(buf, len,
		 "port %u: mac %s, socket %d, %u queue pair(s), rss %s, mtu %u, promisc %s, "
		 "rx cksum ip:%s l4:%s, tx cksum ip:%s tcp:%s",
		 p->port_id, mac, p->socket, p->nb_queues, p->rss ? "ipv4-tcp" : "off", p->mtu,
		 p->promisc ? "on (device default)" : "off", p->rx_ip_cksum ? "hw" : "sw",
		 p->rx_l4_cksum ? "hw" : "sw", p->tx_ip_cksum ? "hw" : "sw",
		 p->tx_tcp_cksum ? "hw" : "sw");
}

unsigned
nic_check_locality(uint16_t port_id, const unsigned *lcores, unsigned n)
{
	int port_sock = rte_eth_dev_socket_id(port_id);
	unsigned warned = 0;

	/* One node, or a device that does not know its node: nothing can be remote. */
	if (numa_available() < 0 || numa_num_configured_nodes() <= 1 || port_sock < 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned ls = rte_lcore_to_socket_id(lcores[i]);

		if (ls == (unsigned)port_sock)
			continue;
		fprintf(stderr,
			"nic: warning: lcore %u (socket %u) polls port %u on socket %d: every "
			"packet crosses sockets; give this port lcores from socket %d\n",
			lcores[i], ls, port_id, port_sock, port_sock);
		warned++;
	}
	return warned;
}
