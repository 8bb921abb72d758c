/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) over Ethernet for IPv4: replies for our address, a cache with
 * aging, on-demand resolution with a bounded queue of waiting packets.
 *
 *   cache row:  FREE ──miss──► INCOMPLETE ──reply──► RESOLVED ──ttl──► FREE
 *                                  │ NET_ARP_TRIES requests, unanswered
 *                                  └──► FREE, its pending packets dropped
 *
 * A RESOLVED row still in use near the end of its life is polled point to
 * point (RFC 1122 2.3.2.1, "Unicast Poll"), so a peer that answers never
 * ages out under traffic and its packets never wait for a new resolution.
 */
#include <string.h>

#include <rte_arp.h>

#include "net_pvt.h"

#define ARP_FRAME_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr))

static struct net_arp_entry *
arp_find(struct net_lcore *nl, uint32_t ip)
{
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++)
		if (nl->arp[i].state != NET_ARP_FREE && nl->arp[i].ip == ip)
			return &nl->arp[i];
	return NULL;
}

const struct net_arp_entry *
net_arp_lookup(const struct net_lcore *nl, uint32_t ip)
{
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		const struct net_arp_entry *e = &nl->arp[i];

		if (e->state == NET_ARP_RESOLVED && e->ip == ip && nl->now_ms < e->deadline_ms)
			return e;
	}
	return NULL;
}

/* A row for ip: a free one, else the resolved row closest to aging out. */
static struct net_arp_entry *
arp_alloc(struct net_lcore *nl, uint32_t ip)
{
	struct net_arp_entry *victim = NULL;

	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		struct net_arp_entry *e = &nl->arp[i];

		if (e->state == NET_ARP_FREE) {
			victim = e;
			break;
		}
		/* Rows being resolved hold pending packets: never evicted. */
		if (e->state == NET_ARP_RESOLVED &&
		    (victim == NULL || e->deadline_ms < victim->deadline_ms))
			victim = e;
	}
	if (victim != NULL) {
		memset(victim, 0, sizeof(*victim));
		victim->ip = ip;
	}
	return victim;
}

/* Build an ARP frame in m: Ethernet to eth_dst, ARP op with our sender fields. */
static void
arp_fill(struct net_lcore *nl, struct rte_mbuf *m, uint16_t op,
	 const struct rte_ether_addr *eth_dst, const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

	eh->dst_addr = *eth_dst;
	eh->src_addr = nl->mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = sizeof(uint32_t);
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = nl->mac;
	ah->arp_data.arp_sip = nl->ip;
	ah->arp_data.arp_tha = *tha;
	ah->arp_data.arp_tip = tip;
	/* The device pads to the 60-byte minimum; we send only what ARP needs. */
	m->data_len = ARP_FRAME_LEN;
	m->pkt_len = ARP_FRAME_LEN;
	m->ol_flags = 0;
}

/* An ARP request for ip, to eth_dst (broadcast, or the MAC we hold for a poll). */
static int
arp_request_to(struct net_lcore *nl, uint32_t ip, const struct rte_ether_addr *eth_dst)
{
	static const struct rte_ether_addr zero;
	struct rte_mbuf *m = rte_pktmbuf_alloc(nl->pool);
	int rc;

	if (m == NULL) {
		nl->cnt.drops[NET_E_NO_MBUF]++;
		return -NET_E_NO_MBUF;
	}
	arp_fill(nl, m, RTE_ARP_OP_REQUEST, eth_dst, &zero, ip);
	rc = net_out_push(nl, m);
	if (rc == 0)
		nl->cnt.arp_requests_sent++;
	return rc;
}

int
net_arp_request(struct net_lcore *nl, uint32_t ip)
{
	static const struct rte_ether_addr bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

	return arp_request_to(nl, ip, &bcast);
}

/*
 * RFC 1122 2.3.2.1 (2): "Unicast Poll -- Actively poll the remote host by
 * periodically sending a point-to-point ARP Request to it". An entry in use
 * is polled in the last NET_ARP_TRIES retry intervals of its life (at most
 * half its TTL), once per interval; the reply (arp_set) renews it.
 */
static void
arp_poll(struct net_lcore *nl, struct net_arp_entry *e)
{
	uint64_t window = (uint64_t)NET_ARP_TRIES * nl->arp_retry_ms;

	if (window > nl->arp_ttl_ms / 2)
		window = nl->arp_ttl_ms / 2;
	if (e->deadline_ms - nl->now_ms > window || nl->now_ms < e->poll_ms)
		return;
	e->poll_ms = nl->now_ms + nl->arp_retry_ms;
	arp_request_to(nl, e->ip, &e->mac); /* best effort: the entry is still valid */
}

/* Send every packet waiting for ip to mac, keeping the others in order. */
static void
pending_flush(struct net_lcore *nl, uint32_t ip, const struct rte_ether_addr *mac)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < nl->n_pending; i++) {
		struct net_pending *p = &nl->pending[i];

		if (p->next_hop != ip) {
			nl->pending[kept++] = *p;
			continue;
		}
		rte_pktmbuf_mtod(p->m, struct rte_ether_hdr *)->dst_addr = *mac;
		net_out_push(nl, p->m);
	}
	nl->n_pending = kept;
}

/* Drop every packet waiting for ip, counted as unresolved. */
static void
pending_drop(struct net_lcore *nl, uint32_t ip)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < nl->n_pending; i++) {
		struct net_pending *p = &nl->pending[i];

		if (p->next_hop == ip)
			net_drop(nl, p->m, NET_E_ARP_PENDING_TIMEOUT);
		else
			nl->pending[kept++] = *p;
	}
	nl->n_pending = kept;
}

/* Record ip -> mac as fresh, and release what waited for it. */
static void
arp_set(struct net_lcore *nl, struct net_arp_entry *e, const struct rte_ether_addr *mac)
{
	bool was_incomplete = e->state == NET_ARP_INCOMPLETE;

	e->mac = *mac;
	e->state = NET_ARP_RESOLVED;
	e->tries = 0;
	e->deadline_ms = nl->now_ms + nl->arp_ttl_ms;
	e->poll_ms = 0;
	nl->cnt.arp_learned++;
	if (was_incomplete)
		pending_flush(nl, e->ip, mac);
}

void
net_arp_input(struct net_lcore *nl, struct rte_mbuf *m)
{
	const struct rte_arp_hdr *ah;
	struct rte_ether_addr sha;
	uint32_t sip, tip;
	struct net_arp_entry *e;
	bool merged = false;

	if (rte_pktmbuf_data_len(m) < sizeof(struct rte_arp_hdr)) {
		net_drop(nl, m, NET_E_ARP_TRUNCATED);
		return;
	}
	ah = rte_pktmbuf_mtod(m, const struct rte_arp_hdr *);
	/* RFC 826: "?Do I have the hardware type in ar$hrd? ... [optionally check
	 * the hardware length ar$hln] ?Do I speak the protocol in ar$pro? ...
	 * [optionally check the protocol length ar$pln]" -- we check all four. */
	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != sizeof(uint32_t)) {
		net_drop(nl, m, NET_E_ARP_BAD_FORMAT);
		return;
	}
	sha = ah->arp_data.arp_sha;
	sip = ah->arp_data.arp_sip;
	tip = ah->arp_data.arp_tip;
	/* A group address cannot own an IPv4 address; learning it would turn
	 * unicast into multicast. */
	if (!rte_is_unicast_ether_addr(&sha) || rte_is_zero_ether_addr(&sha)) {
		net_drop(nl, m, NET_E_ARP_BAD_SENDER);
		return;
	}
	/* RFC 5227 2.4: a packet where "the 'sender IP address' is (one of) the
	 * host's address(es) configured on that interface, but the 'sender
	 * hardware address' does not match the hardware address of that
	 * interface, then this is a conflicting ARP packet". Never learn it.
	 * With our own MAC it is our frame reflected back: nothing to do. */
	if (sip == nl->ip) {
		net_drop(nl, m,
			 rte_is_same_ether_addr(&sha, &nl->mac) ? NET_E_ARP_BAD_SENDER
								: NET_E_ARP_ADDR_CONFLICT);
		return;
	}
	/* RFC 826: "If the pair <protocol type, sender protocol address> is
	 * already in my translation table, update the sender hardware address
	 * field of the entry with the new information in the packet and set
	 * Merge_flag to true." A probe's sender address 0 (RFC 5227) names no one. */
	if (sip != 0) {
		e = arp_find(nl, sip);
		if (e != NULL) {
			arp_set(nl, e, &sha);
			merged = true;
		}
	}
	/* RFC 826: "?Am I the target protocol address?" */
	if (tip != nl->ip) {
		net_drop(nl, m, NET_E_ARP_NOT_FOR_US);
		return;
	}
	/* RFC 826: "If Merge_flag is false, add the triplet <protocol type, sender
	 * protocol address, sender hardware address> to the translation table." */
	if (!merged && sip != 0) {
		e = arp_alloc(nl, sip);
		if (e != NULL)
			arp_set(nl, e, &sha);
		else
			nl->cnt.drops[NET_E_ARP_CACHE_FULL]++; /* still answer below */
	}
	/* RFC 826: "?Is the opcode ares_op$REQUEST? (NOW look at the opcode!!)" */
	if (ah->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY)) {
		rte_pktmbuf_free(m); /* learned above: nothing more to do */
		return;
	}
	if (ah->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		net_drop(nl, m, NET_E_ARP_BAD_OP);
		return;
	}
	/* RFC 826: "Swap hardware and protocol fields, putting the local hardware
	 * and protocol addresses in the sender fields. Set the ar$op field to
	 * ares_op$REPLY. Send the packet to the (new) target hardware address".
	 * The reply reuses the request's mbuf: no allocation. */
	rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
	arp_fill(nl, m, RTE_ARP_OP_REPLY, &sha, &sha, sip);
	if (net_out_push(nl, m) == 0)
		nl->cnt.arp_replies_sent++;
}

int
net_arp_resolve_send(struct net_lcore *nl, struct rte_mbuf *m, uint32_t next_hop)
{
	struct net_arp_entry *e = arp_find(nl, next_hop);
	bool ask = false;

	if (e != NULL && e->state == NET_ARP_RESOLVED && nl->now_ms < e->deadline_ms) {
		arp_poll(nl, e);
		rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = e->mac;
		return net_out_push(nl, m);
	}
	/* RFC 1122 2.3.2.2: "The link layer SHOULD save (rather than discard) at
	 * least one (the latest) packet of each set of packets destined to the
	 * same unresolved IP address" -- we keep up to NET_ARP_PENDING in all. */
	if (nl->n_pending == NET_ARP_PENDING)
		return net_drop(nl, m, NET_E_ARP_PENDING_FULL);
	if (e == NULL || e->state == NET_ARP_RESOLVED) {
		/* Unknown, or aged out but not yet swept by the timer. */
		if (e == NULL)
			e = arp_alloc(nl, next_hop);
		if (e == NULL)
			return net_drop(nl, m, NET_E_ARP_CACHE_FULL);
		e->state = NET_ARP_INCOMPLETE;
		e->tries = 1;
		e->deadline_ms = nl->now_ms + nl->arp_retry_ms;
		ask = true;
	}
	/* RFC 1122 2.3.2.1: "A mechanism to prevent ARP flooding (repeatedly
	 * sending an ARP Request for the same IP address, at a high rate) MUST be
	 * included." An INCOMPLETE row asks again only from net_timer. */
	nl->pending[nl->n_pending].m = m;
	nl->pending[nl->n_pending].next_hop = next_hop;
	nl->n_pending++;
	if (ask)
		net_arp_request(nl, next_hop);
	return 0;
}

void
net_arp_timer(struct net_lcore *nl)
{
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		struct net_arp_entry *e = &nl->arp[i];

		if (e->state == NET_ARP_FREE || nl->now_ms < e->deadline_ms)
			continue;
		if (e->state == NET_ARP_RESOLVED) {
			/* RFC 1122 2.3.2.1: "An implementation of the Address Resolution
			 * Protocol (ARP) MUST provide a mechanism to flush out-of-date
			 * cache entries." Ours is the timeout it lists. */
			e->state = NET_ARP_FREE;
			continue;
		}
		if (e->tries >= NET_ARP_TRIES) {
			pending_drop(nl, e->ip);
			e->state = NET_ARP_FREE;
			continue;
		}
		/* RFC 1122 2.3.2.1: "The recommended maximum rate is 1 per second per
		 * destination." (arp_retry_ms defaults to 1000.) */
		e->tries++;
		e->deadline_ms = nl->now_ms + nl->arp_retry_ms;
		net_arp_request(nl, e->ip);
	}
}
