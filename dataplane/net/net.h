/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice's per-lcore network stack: Ethernet, ARP, IPv4, ICMP echo, and TCP
 * (tcp.h) (DESIGN.md "Userspace TCP/IP stack"). A protocol engine with no I/O:
 * the I/O lcore receives a burst, hands it to net_input, runs net_timer, and
 * transmits what net_output gives it.
 *
 *   rx_burst ──► net_input ──► eth ─┬─ arp ──► reply / learn / flush pending ─┐
 *                                   └─ ipv4 ─► icmp echo ──► reply in place ──┤
 *                                   └─ ipv4 ─► tcp (tcp.h) ──► segments ────┤
 *   net_ipv4_send ──► next hop ──► arp cache ──┬─ hit ───────────────────────┤
 *                                              └─ miss ─► pending (bounded)  │
 *   net_timer ──► arp aging, request retries, pending timeouts ──────────────┤
 *                                                                            ▼
 *   tx_burst ◄── net_output ◄─────────────────── out[] (bounded, in order)
 *
 * One struct net_lcore per I/O lcore; no function here is thread-safe and
 * none allocates after net_lcore_create (mbufs come from conf.pool). Drops
 * are counted in cnt.drops[NET_E_*], never logged.
 */
#ifndef SLUICE_NET_H
#define SLUICE_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tcp.h"

#define NET_OUT_MAX 1024   /* frames waiting for net_output */
#define NET_ARP_ENTRIES 64 /* ARP cache rows, resolved or being resolved */
#define NET_ARP_PENDING 16 /* packets waiting for ARP, all destinations together */
#define NET_ARP_TRIES 3    /* requests per unresolved address before its packets drop */

#define NET_ARP_TTL_MS_DEFAULT 60000
#define NET_ARP_RETRY_MS_DEFAULT 1000

/* Errors: internal functions return 0 or -NET_E_<symbol>; cnt.drops is indexed by them. */
enum net_err {
	NET_OK = 0,
#define NET_ERROR(sym, name) NET_E_##sym,
#include "net_error.def"
#undef NET_ERROR
	NET_E__COUNT
};

/* Name of an error (either sign), "unknown_error" when out of range. */
const char *net_error_name(int err);

struct net_conf {
	struct rte_ether_addr mac;
	uint32_t ip;      /* network order */
	uint32_t netmask; /* network order */
	uint32_t gateway; /* network order; 0: on-link destinations only */
	struct rte_mempool *pool;
	uint32_t arp_ttl_ms;   /* 0: NET_ARP_TTL_MS_DEFAULT */
	uint32_t arp_retry_ms; /* 0: NET_ARP_RETRY_MS_DEFAULT */
	bool tx_ip_cksum;      /* the port fills IPv4 header checksums (nic_port.tx_ip_cksum) */
	/* TCP's sizes and timers (tcp.h); NULL: no TCP, segments are dropped
	 * as ip_proto_unsupported */
	const struct net_tcp_conf *tcp;
};

enum net_arp_state {
	NET_ARP_FREE = 0,
	NET_ARP_INCOMPLETE, /* request sent; packets wait in pending */
	NET_ARP_RESOLVED,
};

struct net_arp_entry {
	uint32_t ip; /* network order */
	uint8_t state;
	uint8_t tries;
	struct rte_ether_addr mac;
	/* RESOLVED: when the entry ages out. INCOMPLETE: when to ask again. */
	uint64_t deadline_ms;
	uint64_t poll_ms; /* RESOLVED: no unicast poll before this (net_arp.c) */
};

struct net_pending {
	struct rte_mbuf *m; /* Ethernet header in place, destination MAC not yet */
	uint32_t next_hop;  /* network order */
};

struct net_counters {
	uint64_t rx_frames;
	uint64_t tx_frames; /* queued for net_output */
	uint64_t arp_requests_sent;
	uint64_t arp_replies_sent;
	uint64_t arp_learned;
	uint64_t icmp_echo_replies;
	uint64_t ip_cksum_hw; /* IPv4 checksums the port verified for us */
	uint64_t drops[NET_E__COUNT];
};

struct net_lcore {
	/* hot: read for every frame */
	struct rte_ether_addr mac;
	uint16_t n_out;
	uint32_t ip, netmask, gateway;
	uint16_t ip_id;
	bool tx_ip_cksum;
	uint64_t now_ms;
	struct rte_mempool *pool;
	uint32_t arp_ttl_ms, arp_retry_ms;
	uint16_t n_pending;
	struct rte_mbuf *out[NET_OUT_MAX];
	struct net_arp_entry arp[NET_ARP_ENTRIES];
	struct net_pending pending[NET_ARP_PENDING];
	struct tcp_lcore *tcp; /* NULL without TCP */
	/* written on every frame; on their own line so reading them (stats) does not
	 * pull the hot fields away */
	struct net_counters cnt __rte_cache_aligned;
} __rte_cache_aligned;

/*
 * A stack on NUMA socket `socket` (SOCKET_ID_ANY: anywhere). NULL with
 * rte_errno set: EINVAL for a bad conf (no pool, zero or multicast MAC, zero
 * IP), ENOMEM.
 */
struct net_lcore *net_lcore_create(const struct net_conf *conf, int socket);

/* Free the stack and every mbuf it still holds (out, pending). NULL is fine. */
void net_lcore_destroy(struct net_lcore *nl);

/*
 * Announce our address with a gratuitous ARP (RFC 5227 "ARP Announcement")
 * queued for net_output. 0 or -NET_E_NO_MBUF / -NET_E_TX_QUEUE_FULL.
 */
int net_start(struct net_lcore *nl);

/*
 * Take a burst of received frames. Each mbuf is consumed: dropped (freed and
 * counted), or turned into a reply queued for net_output. Returns n.
 */
uint16_t net_input(struct net_lcore *nl, struct rte_mbuf **v, uint16_t n);

/*
 * Move up to n queued frames, oldest first, into v. The caller owns them:
 * transmit, and free whatever the device did not take. Returns how many.
 * TCP connections with something to send (data the windows allow, owed
 * ACKs) fill the queue first, as far as it has room: call until 0.
 */
uint16_t net_output(struct net_lcore *nl, struct rte_mbuf **v, uint16_t n);

/*
 * Advance the stack's clock to now_ms (monotonic, milliseconds; never goes
 * back) and run what is due: ARP entries age out, unanswered requests are
 * repeated, packets whose address stayed unresolved are dropped, and TCP's
 * timers fire.
 */
void net_timer(struct net_lcore *nl, uint64_t now_ms);

/*
 * Send an IPv4 packet. m's data starts at a complete IPv4 header (checksum
 * left to us) with at least RTE_ETHER_HDR_LEN bytes of headroom. Resolves
 * the next hop, waiting in the bounded pending queue when needed. Consumes m
 * in every case: 0 when queued (for output or for ARP), -NET_E_* when
 * dropped (counted).
 */
int net_ipv4_send(struct net_lcore *nl, struct rte_mbuf *m);

/* The cache row for ip (network order) when it is resolved and fresh, else NULL. */
const struct net_arp_entry *net_arp_lookup(const struct net_lcore *nl, uint32_t ip);

#endif
