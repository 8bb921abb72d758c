/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nic/port on vdevs that need no privileges: net_null (bring-up, RSS or the
 * single-queue fallback, stats) and net_ring (frames sent come back, so the
 * queues really move packets). EAL in-process with --no-huge.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "../check.h"
#include "port.h"

static const struct nic_port_conf base_conf = { .nb_queues = 2,
						.nb_rxd = 256,
						.nb_txd = 256,
						.pool_mbufs = 2047,
						.pool_cache = 32,
						.link_timeout_ms = 1000 };

static bool
port_by_name(const char *name, uint16_t *id)
{
	return rte_eth_dev_get_port_by_name(name, id) == 0;
}

static void
test_errors(struct nic_pools *pools)
{
	struct nic_port_conf c = base_conf;
	struct nic_port p;
	char err[512] = "";
	uint16_t id;

	CHECK(nic_port_init(&p, 77, &c, pools, err, sizeof(err)) == -ENODEV);
	CHECK(strstr(err, "port 77 does not exist") != NULL);

	CHECK(port_by_name("net_null0", &id));
	c.nb_queues = 0;
	CHECK(nic_port_init(&p, id, &c, pools, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "queue pairs") != NULL);

	c = base_conf;
	c.mtu = 20; /* below any device's minimum (RTE_ETHER_MIN_MTU is 68) */
	CHECK(nic_port_init(&p, id, &c, pools, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "MTU 20 outside") != NULL);

	c = base_conf;
	c.pool_mbufs = 0;
	CHECK(nic_pool_get(&(struct nic_pools){ { NULL } }, 0, &c, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "pool_mbufs") != NULL);
}

static void
test_null_port(struct nic_pools *pools)
{
	struct nic_port_conf c = base_conf;
	struct rte_eth_dev_info info;
	struct nic_port p;
	struct nic_stats s;
	struct rte_mbuf *v[8];
	char err[512] = "", desc[256];
	uint16_t id, sent;
	bool has_rss;

	CHECK(port_by_name("net_null0", &id));
	CHECK(rte_eth_dev_info_get(id, &info) == 0);
	has_rss = (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0;
	c.mtu = 1400;
	if (nic_port_init(&p, id, &c, pools, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_nic: %s\n", err);
		failures++;
		return;
	}
	/* RSS when offered, otherwise one queue pair. */
	CHECK(p.rss == has_rss);
	CHECK(p.nb_queues == (has_rss ? 2 : 1));
	CHECK(p.mtu == 1400);
	CHECK(p.queue_pool[0] != NULL &&
	      p.queue_pool[0] == nic_pool_get(pools, p.socket, &c, err, sizeof(err)));
	CHECK(p.rx_ip_cksum == ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0));
	CHECK(p.tx_ip_cksum == ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0));
	CHECK(nic_port_start(&p, c.link_timeout_ms, err, sizeof(err)) == 0);
	CHECK(p.promisc == (rte_eth_promiscuous_get(id) == 1));
	nic_port_describe(&p, desc, sizeof(desc));
	printf("test_nic: %s\n", desc);
	CHECK(strstr(desc, "queue pair") != NULL);

	/* net_null swallows what is sent and counts it. */
	CHECK(rte_pktmbuf_alloc_bulk(p.queue_pool[0], v, 8) == 0);
	for (int i = 0; i < 8; i++)
		rte_pktmbuf_append(v[i], 64);
	sent = rte_eth_tx_burst(id, 0, v, 8);
	for (uint16_t i = sent; i < 8; i++)
		rte_pktmbuf_free(v[i]);
	CHECK(nic_port_stats(&p, &s) == 0);
	CHECK(s.opackets == sent && sent == 8);
	CHECK(s.nb_queues == p.nb_queues && s.q_opackets[0] == sent);
	nic_port_close(&p);
}

static void
test_ring_loopback(struct nic_pools *pools)
{
	struct nic_port_conf c = base_conf;
	struct nic_port p;
	struct rte_mbuf *m, *r[4];
	char err[512] = "";
	uint16_t id, n = 0;

	CHECK(port_by_name("net_ring0", &id));
	c.nb_queues = 1;
	if (nic_port_init(&p, id, &c, pools, err, sizeof(err)) != 0 ||
	    nic_port_start(&p, c.link_timeout_ms, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_nic: %s\n", err);
		failures++;
		return;
	}
	printf("test_nic: net_ring promiscuous %s\n", p.promisc ? "on" : "off");
	m = rte_pktmbuf_alloc(p.queue_pool[0]);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	memcpy(rte_pktmbuf_append(m, 5), "hello", 5);
	CHECK(rte_eth_tx_burst(id, 0, &m, 1) == 1);
	n = rte_eth_rx_burst(id, 0, r, 4);
	CHECK(n == 1 && memcmp(rte_pktmbuf_mtod(r[0], void *), "hello", 5) == 0);
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(r[i]);
	nic_port_close(&p);
}

int
main(int argc, char **argv)
{
	char *eal[] = { argv[0],
			"--no-huge",
			"--no-pci",
			"--no-shconf",
			"--no-telemetry",
			"-m",
			"128",
			"--vdev=net_null0",
			"--vdev=net_ring0",
			"--log-level=lib.eal:error",
			NULL };
	struct nic_pools pools;
	unsigned lcore;

	(void)argc;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "test_nic: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	memset(&pools, 0, sizeof(pools));
	test_errors(&pools);
	test_null_port(&pools);
	test_ring_loopback(&pools);
	/* The main lcore and a vdev share socket 0 (vdevs report no socket). */
	lcore = rte_lcore_id();
	CHECK(nic_check_locality(0, &lcore, 1) == 0);
	for (unsigned s = 0; s < NIC_MAX_SOCKETS; s++)
		rte_mempool_free(pools.by_socket[s]);
	rte_eal_cleanup();
	return CHECK_SUMMARY();
}
