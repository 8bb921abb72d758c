/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dpdk transport's port: set up once on the main lcore before the I/O
 * lcores start (one RX/TX queue pair each), then one transport per queue.
 */
#ifndef SLUICE_TRANSPORT_DPDK_H
#define SLUICE_TRANSPORT_DPDK_H

#include "port.h"
#include "transport.h"

struct dpdk_port_conf {
	uint16_t port_id;
	uint16_t nb_queues; /* one per I/O lcore */
	const unsigned *queue_lcores;
	uint32_t ip, netmask, gateway; /* network order; gateway 0: on-link peers only */
	uint16_t mtu;                  /* 0: the device's default */
	unsigned pool_mbufs;           /* per NUMA socket */
	uint32_t keepalive_ms;         /* TCP keepalive; 0: off */
};

struct dpdk_port {
	struct dpdk_port_conf conf;
	struct nic_port port;
	struct nic_pools pools;
};

/* Bring the port up. 0, or a negative errno with a message in err. */
int dpdk_port_setup(struct dpdk_port *dp, const struct dpdk_port_conf *conf, char *err,
		    size_t errlen);
void dpdk_port_close(struct dpdk_port *dp);

/* The transport of queue `queue` (its I/O lcore's). NULL with errno. */
struct transport *transport_dpdk_create(const struct dpdk_port *dp, uint16_t queue,
					unsigned max_conns);

#endif
