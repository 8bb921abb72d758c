/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ping_responder: one DPDK port (e.g. --vdev=net_tap0,iface=X) and one
 * dataplane/net stack answering ARP and ICMP echo for a bounded time. Used by
 * ping_e2e.sh inside a network namespace; prints the port's setup and, at
 * the end, the stack's counters ("name value" lines) on stdout.
 *
 * Usage: ping_responder [EAL options] -- --ip A.B.C.D/LEN --seconds N [--ready FILE]
 * --ready: once the port is up, write its MAC there (the script waits on it).
 * Exit: 0 after N seconds or SIGTERM/SIGINT; 1 on a setup error (message on stderr);
 * 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "net.h"
#include "peer_ready.h"
#include "port.h"

#define BURST 32

static atomic_bool quit;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&quit, true);
}

struct opts {
	uint32_t ip, netmask; /* network order */
	unsigned seconds;
	const char *ready;
};

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--ip") == 0) {
			char buf[32], *slash;
			unsigned long len;
			struct in_addr a;

			snprintf(buf, sizeof(buf), "%s", argv[i + 1]);
			slash = strchr(buf, '/');
			if (slash == NULL)
				return -1;
			*slash = '\0';
			len = strtoul(slash + 1, NULL, 10);
			if (inet_pton(AF_INET, buf, &a) != 1 || len == 0 || len > 32)
				return -1;
			o->ip = a.s_addr;
			o->netmask = htonl((uint32_t)(UINT64_C(0xffffffff) << (32 - len)));
		} else if (strcmp(argv[i], "--seconds") == 0) {
			o->seconds = (unsigned)strtoul(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--ready") == 0) {
			o->ready = argv[i + 1];
		} else {
			return -1;
		}
	}
	return o->ip != 0 && o->seconds != 0 ? 0 : -1;
}

/* The poll loop: receive, run the stack, transmit, until time is up. */
static void
poll_loop(uint16_t port, struct net_lcore *nl, unsigned seconds)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t start = rte_get_timer_cycles(), end = start + seconds * hz;
	struct rte_mbuf *v[BURST];

	while (!atomic_load(&quit)) {
		uint64_t now = rte_get_timer_cycles();
		uint16_t n, sent;

		if (now >= end)
			break;
		n = rte_eth_rx_burst(port, 0, v, BURST);
		net_input(nl, v, n);
		net_timer(nl, (now - start) * 1000 / hz);
		while ((n = net_output(nl, v, BURST)) > 0) {
			sent = rte_eth_tx_burst(port, 0, v, n);
			for (uint16_t i = sent; i < n; i++)
				rte_pktmbuf_free(v[i]);
		}
	}
}

static void
print_counters(const struct net_lcore *nl, const struct nic_port *p)
{
	struct nic_stats s;

	printf("rx_frames %" PRIu64 "\ntx_frames %" PRIu64 "\n", nl->cnt.rx_frames,
	       nl->cnt.tx_frames);
	printf("arp_requests_sent %" PRIu64 "\narp_replies_sent %" PRIu64 "\narp_learned %" PRIu64
	       "\n",
	       nl->cnt.arp_requests_sent, nl->cnt.arp_replies_sent, nl->cnt.arp_learned);
	printf("icmp_echo_replies %" PRIu64 "\n", nl->cnt.icmp_echo_replies);
	for (int i = 1; i < NET_E__COUNT; i++)
		if (nl->cnt.drops[i] != 0)
			printf("drop_%s %" PRIu64 "\n", net_error_name(i), nl->cnt.drops[i]);
	if (nic_port_stats(p, &s) == 0)
		printf("port_ipackets %" PRIu64 "\nport_opackets %" PRIu64 "\nport_imissed %" PRIu64
		       "\n",
		       s.ipackets, s.opackets, s.imissed);
}

int
main(int argc, char **argv)
{
	struct nic_port_conf pc = { .nb_queues = 1,
				    .nb_rxd = 512,
				    .nb_txd = 512,
				    .pool_mbufs = 4095,
				    .pool_cache = 64,
				    .link_timeout_ms = 3000 };
	struct nic_pools pools;
	struct nic_port port;
	struct net_conf nc;
	struct net_lcore *nl;
	struct opts o;
	char err[512], desc[256];
	unsigned lcore;
	int n, rc;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "ping_responder: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[n] = argv[0];
	if (parse_opts(argc - n, argv + n, &o) != 0) {
		fprintf(stderr, "usage: ping_responder [EAL options] -- --ip A.B.C.D/LEN "
				"--seconds N [--ready FILE]\n");
		rte_eal_cleanup();
		return 2;
	}
	if (rte_eth_dev_count_avail() != 1) {
		fprintf(stderr, "ping_responder: %u ports, want exactly one: pass one --vdev\n",
			rte_eth_dev_count_avail());
		rte_eal_cleanup();
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	memset(&pools, 0, sizeof(pools));
	lcore = rte_lcore_id();
	pc.queue_lcores = &lcore;
	nic_check_locality(0, &lcore, 1);
	rc = nic_port_init(&port, 0, &pc, &pools, err, sizeof(err));
	if (rc == 0)
		rc = nic_port_start(&port, pc.link_timeout_ms, err, sizeof(err));
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "ping_responder: warning: %s\n", err);
	} else if (rc != 0) {
		fprintf(stderr, "ping_responder: %s\n", err);
		rte_eal_cleanup();
		return 1;
	}
	nic_port_describe(&port, desc, sizeof(desc));
	printf("%s\n", desc);

	memset(&nc, 0, sizeof(nc));
	nc.mac = port.mac;
	nc.ip = o.ip;
	nc.netmask = o.netmask;
	nc.pool = port.queue_pool[0];
	nc.tx_ip_cksum = port.tx_ip_cksum;
	nl = net_lcore_create(&nc, (int)rte_socket_id());
	if (nl == NULL) {
		fprintf(stderr, "ping_responder: cannot create the stack: %s\n",
			rte_strerror(rte_errno));
		nic_port_close(&port);
		rte_eal_cleanup();
		return 1;
	}
	net_start(nl);
	if (o.ready != NULL && write_ready(o.ready, &port.mac) != 0) {
		fprintf(stderr, "ping_responder: cannot write %s: %s\n", o.ready, strerror(errno));
		atomic_store(&quit, true);
	}
	fflush(stdout);

	poll_loop(0, nl, o.seconds);

	print_counters(nl, &port);
	net_lcore_destroy(nl);
	nic_port_close(&port);
	for (unsigned s = 0; s < NIC_MAX_SOCKETS; s++)
		rte_mempool_free(pools.by_socket[s]);
	rte_eal_cleanup();
	return 0;
}
