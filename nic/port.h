/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK port bring-up (DESIGN.md "lcores", "Transports"): one ethdev port with
 * one RX/TX queue pair per I/O lcore, RSS on the TCP/IPv4 4-tuple when the
 * device has it, checksum offloads when offered, promiscuous mode off, and
 * packet buffers from a pktmbuf mempool on the NUMA socket of the lcore that
 * polls each queue.
 *
 *   I/O lcore k ──polls──► RX queue k ─┐
 *   I/O lcore k ──sends──► TX queue k ─┴─ port ── mbufs from pools.by_socket[socket(lcore k)]
 *
 * Everything here runs at init on the main lcore, before the I/O lcores
 * start; none of it is thread-safe. Functions that can fail write a message a
 * person can act on into err (what failed, on which port, what to try).
 */
#ifndef SLUICE_NIC_PORT_H
#define SLUICE_NIC_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#define NIC_MAX_QUEUES 64
#define NIC_MAX_SOCKETS 8 /* sockets with their own pool; higher ids share pool 0 */

struct nic_port_conf {
	uint16_t nb_queues; /* RX/TX queue pairs, one per I/O lcore */
	uint16_t nb_rxd;    /* descriptors per RX queue (adjusted to the device's limits) */
	uint16_t nb_txd;    /* descriptors per TX queue (adjusted likewise) */
	uint16_t mtu;       /* 0: keep the device default */
	/* lcore polling queue k, for pool and locality choices; NULL: the port's socket */
	const unsigned *queue_lcores;
	unsigned pool_mbufs;      /* mbufs in each per-socket pool */
	unsigned pool_cache;      /* per-lcore mempool cache */
	unsigned link_timeout_ms; /* how long nic_port_start waits for link up */
};

/* One pktmbuf pool per NUMA socket, owned by the caller (no globals). */
struct nic_pools {
	struct rte_mempool *by_socket[NIC_MAX_SOCKETS];
};

struct nic_port {
	uint16_t port_id;
	int socket; /* the device's NUMA socket, 0 when the device does not say */
	uint16_t nb_queues;
	uint16_t mtu;
	bool rss;     /* hardware RSS over the IPv4/TCP 4-tuple is on */
	bool promisc; /* still promiscuous after start: the device cannot turn it off */
	bool rx_ip_cksum, rx_l4_cksum;     /* the device verifies IPv4 / TCP+UDP checksums */
	bool tx_ip_cksum, tx_tcp_cksum;    /* the device fills IPv4 / TCP checksums */
	uint64_t rx_offloads, tx_offloads; /* as configured, RTE_ETH_*_OFFLOAD_* */
	struct rte_ether_addr mac;
	struct rte_mempool *queue_pool[NIC_MAX_QUEUES]; /* RX pool of each queue */
};

/* Per-port and per-queue counters, read with nic_port_stats. */
struct nic_stats {
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed; /* dropped by the device: RX ring full */
	uint64_t ierrors, oerrors, rx_nombuf;
	uint16_t nb_queues; /* rows filled below (the device may count fewer queues) */
	uint64_t q_ipackets[NIC_MAX_QUEUES], q_opackets[NIC_MAX_QUEUES];
};

/*
 * The pool for socket (created on first use with conf's sizes and named
 * "sluice_mb_s<socket>"). Works with hugepages and with --no-huge. NULL with
 * a message in err when the memory is not there.
 */
struct rte_mempool *nic_pool_get(struct nic_pools *pools, int socket,
				 const struct nic_port_conf *conf, char *err, size_t errlen);

/*
 * Configure port_id and set up its queues (not started). Fills p. 0, or a
 * negative errno with a message in err. Checks the port exists, that the
 * device has nb_queues queue pairs, and the MTU is in the device's range.
 * A device without IPv4/TCP RSS gets one queue pair whatever nb_queues says
 * (warned on stderr): read p->nb_queues for how many I/O lcores it serves.
 */
int nic_port_init(struct nic_port *p, uint16_t port_id, const struct nic_port_conf *conf,
		  struct nic_pools *pools, char *err, size_t errlen);

/*
 * Start the port, turn promiscuous mode off, and wait up to
 * conf->link_timeout_ms for link up. 0, -ETIMEDOUT when the link stayed down
 * (the port is started all the same), or another negative errno with err set.
 */
int nic_port_start(struct nic_port *p, unsigned link_timeout_ms, char *err, size_t errlen);

/* Stop and close the port. */
void nic_port_close(struct nic_port *p);

/* Wait up to timeout_ms for link up: 0 when up, -ETIMEDOUT, or -errno. */
int nic_link_wait(uint16_t port_id, unsigned timeout_ms);

/* Port and queue counters. 0 or -errno. Safe while the I/O lcores run. */
int nic_port_stats(const struct nic_port *p, struct nic_stats *s);

/* One line naming what the port uses: queues, RSS, offloads, MTU, MAC. */
void nic_port_describe(const struct nic_port *p, char *buf, size_t len);

/*
 * Warn (on stderr) for each lcore in lcores[0..n) that polls port_id from
 * another NUMA socket: every packet would cross the interconnect. Returns how
 * many warnings were printed (0 on single-socket machines).
 */
unsigned nic_check_locality(uint16_t port_id, const unsigned *lcores, unsigned n);

#endif
