/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk transport: a DPDK ethdev port (nic/port.h) with one RX/TX queue pair
 * per I/O lcore and sluice's own TCP/IP stack (dataplane/net) on each queue.
 * No kernel on the data path: each poll transmits what the stack queued,
 * receives a burst, runs the stack's timers and turns its events into
 * transport events.
 *
 *   poll: tx (pending, then net_output) ─► rx_burst ─► net_input ─► net_timer
 *         ─► net_tcp_events ─► tp_event[]
 *
 * With one RX queue per I/O lcore and RSS over the TCP 4-tuple, every
 * segment of a connection reaches the lcore holding it; a port without RSS
 * gets one queue (nic_port_init says so) and so one I/O lcore.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "net.h"
#include "transport_dpdk.h"

#define BURST 32
#define TX_PENDING_MAX 256

struct dt {
	struct transport t;
	const struct dpdk_port *dp;
	uint16_t queue;
	struct net_lcore *nl;
	uint64_t hz, start;
	uint16_t n_pending;
	uint64_t tx_device_full; /* polls where the device took less than offered */
	uint64_t tx_refused;     /* frames dropped after the device refused them for 1 s */
	uint64_t stuck_since;    /* cycles: when the device last took nothing */
	struct rte_mbuf *pending[TX_PENDING_MAX];
	struct net_tcp_event evs[BURST * 4];
};

static struct dt *
dt_of(struct transport *t)
{
	return t->priv;
}

static int
dt_listen(struct transport *t, uint32_t addr, uint16_t port)
{
	struct dt *d = dt_of(t);

	/* One address per stack: listening on another makes no sense. */
	if (addr != 0 && addr != d->nl->ip)
		return -EADDRNOTAVAIL;
	return net_tcp_listen(d->nl, rte_be_to_cpu_16(port));
}

/* Hand the device what the stack has queued; keep what it cannot take. */
static void
dt_tx(struct dt *d)
{
	uint16_t sent;

	for (;;) {
		if (d->n_pending == 0) {
			d->n_pending = net_output(d->nl, d->pending, TX_PENDING_MAX);
			if (d->n_pending == 0)
				return;
		}
		sent = rte_eth_tx_burst(d->dp->port.port_id, d->queue, d->pending, d->n_pending);
		if (sent > 0) {
			d->stuck_since = 0;
		} else if (d->stuck_since == 0) {
			d->stuck_since = rte_get_timer_cycles();
		} else if (rte_get_timer_cycles() - d->stuck_since > d->hz) {
			/* A frame the device has refused for a second will not go:
			 * drop it (TCP sends it again) rather than block the rest. */
			rte_pktmbuf_free(d->pending[0]);
			sent = 1;
			d->tx_refused++;
			d->stuck_since = 0;
		}
		if (sent < d->n_pending) {
			memmove(d->pending, d->pending + sent,
				(d->n_pending - sent) * sizeof(d->pending[0]));
			d->n_pending = (uint16_t)(d->n_pending - sent);
			d->tx_device_full++;
			return;
		}
		d->n_pending = 0;
	}
}

static int
dt_poll(struct transport *t, struct tp_event *ev, int n, int timeout_ms)
{
	struct dt *d = dt_of(t);
	struct rte_mbuf *rx[BURST];
	uint16_t nb, k;
	int got = 0;

	(void)timeout_ms; /* a poll-mode lcore never sleeps */
	dt_tx(d);
	nb = rte_eth_rx_burst(d->dp->port.port_id, d->queue, rx, BURST);
	if (nb > 0)
		net_input(d->nl, rx, nb);
	net_timer(d->nl, (rte_get_timer_cycles() - d->start) * 1000 / d->hz);
	if (n > (int)RTE_DIM(d->evs))
		n = (int)RTE_DIM(d->evs);
	k = net_tcp_events(d->nl, d->evs, (uint16_t)n);
	for (uint16_t i = 0; i < k; i++) {
		const struct net_tcp_event *e = &d->evs[i];
		struct tp_event *o = &ev[got++];

		*o = (struct tp_event){
			.handle = e->handle,
			.user = e->user,
			.peer_ip = e->peer_ip,
			.peer_port = rte_cpu_to_be_16(e->peer_port),
		};
		if (e->flags & NET_TCP_EV_ACCEPT) {
			/* the I/O lcore tags it with watch(); READ may already wait */
			o->flags = TP_EV_ACCEPT;
			o->user = UINT32_MAX;
			continue;
		}
		if (e->flags & NET_TCP_EV_READ)
			o->flags |= TP_EV_READ;
		if (e->flags & NET_TCP_EV_WRITE)
			o->flags |= TP_EV_WRITE;
		if (e->flags & NET_TCP_EV_CLOSED)
			o->flags |= TP_EV_CLOSED;
	}
	return got;
}

static void
dt_watch(struct transport *t, int64_t h, uint32_t user, bool want_write)
{
	struct dt *d = dt_of(t);
	struct net_tcp_info info;

	net_tcp_set_user(d->nl, h, user, want_write);
	/* Bytes (or a FIN) that came with the handshake were reported with the
	 * ACCEPT; the reader learns of them now that it has a slot. */
	if (net_tcp_info(d->nl, h, &info) == 0 &&
	    (info.unread > 0 || info.state == NET_TCP_CLOSE_WAIT || info.state == NET_TCP_CLOSED))
		net_tcp_notify(d->nl, h);
}

static ssize_t
dt_recv(struct transport *t, int64_t h, void *buf, size_t n)
{
	return net_tcp_recv(dt_of(t)->nl, h, buf, n);
}

static ssize_t
dt_send(struct transport *t, int64_t h, const void *buf, size_t n)
{
	return net_tcp_send(dt_of(t)->nl, h, buf, n);
}

static void
dt_close(struct transport *t, int64_t h, bool abort)
{
	net_tcp_close(dt_of(t)->nl, h, abort);
}

static void
dt_stats_json(struct transport *t, FILE *out)
{
	struct dt *d = dt_of(t);
	const struct net_lcore *nl = d->nl;
	const struct net_tcp_counters *c = net_tcp_counters(nl);
	uint32_t half, conns = net_tcp_conns(nl, &half);
	bool first = true;

	fprintf(out,
		"{\"queue\":%u,\"rx_frames\":%" PRIu64 ",\"tx_frames\":%" PRIu64
		",\"tx_device_full\":%" PRIu64 ",\"tx_refused\":%" PRIu64
		",\"tcp_conns\":%u,\"tcp_half_open\":%u"
		",\"tcp_mbufs_held\":%u,\"segs_in\":%" PRIu64 ",\"segs_out\":%" PRIu64
		",\"accepts\":%" PRIu64 ",\"retransmits\":%" PRIu64 ",\"rto_fired\":%" PRIu64
		",\"fast_retransmits\":%" PRIu64 ",\"syn_cookies_sent\":%" PRIu64
		",\"syn_cookies_accepted\":%" PRIu64 ",\"challenge_acks\":%" PRIu64
		",\"resets_sent\":%" PRIu64 ",\"resets_received\":%" PRIu64 ",\"timeouts\":%" PRIu64
		",\"drops\":{",
		d->queue, nl->cnt.rx_frames, nl->cnt.tx_frames, d->tx_device_full, d->tx_refused,
		conns, half, net_tcp_mbufs_held(nl), c->segs_in, c->segs_out, c->accepts,
		c->retransmits, c->rto_fired, c->fast_retransmits, c->syn_cookies_sent,
		c->syn_cookies_accepted, c->challenge_acks, c->resets_sent, c->resets_received,
		c->timeouts);
	for (int i = 1; i < NET_E__COUNT; i++) {
		if (nl->cnt.drops[i] == 0)
			continue;
		fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", net_error_name(i),
			nl->cnt.drops[i]);
		first = false;
	}
	fputs("}}", out);
}

#define LINGER_MS 2000

static void
dt_destroy(struct transport *t)
{
	struct dt *d = dt_of(t);
	uint64_t end = rte_get_timer_cycles() + d->hz * LINGER_MS / 1000;
	struct tp_event ev[BURST];

	/* Like a kernel after close(): what the application queued last (a
	 * Goodbye, an Error) and the FINs still go out, for up to LINGER_MS. */
	while (net_tcp_active(d->nl) > 0 && rte_get_timer_cycles() < end)
		dt_poll(t, ev, BURST, 0);
	dt_tx(d);

	for (uint16_t i = 0; i < d->n_pending; i++)
		rte_pktmbuf_free(d->pending[i]);
	net_lcore_destroy(d->nl);
	rte_free(d);
}

static const struct transport_ops dpdk_ops = {
	.name = "dpdk",
	.listen = dt_listen,
	.poll = dt_poll,
	.watch = dt_watch,
	.recv = dt_recv,
	.send = dt_send,
	.close = dt_close,
	.stats_json = dt_stats_json,
	.destroy = dt_destroy,
};

int
dpdk_port_setup(struct dpdk_port *dp, const struct dpdk_port_conf *conf, char *err, size_t errlen)
{
	struct nic_port_conf pc = {
		.nb_queues = conf->nb_queues,
		.nb_rxd = 1024,
		.nb_txd = 1024,
		.mtu = conf->mtu,
		.queue_lcores = conf->queue_lcores,
		.pool_mbufs = conf->pool_mbufs,
		.pool_cache = 256,
		.link_timeout_ms = 200, /* a tap is down until its kernel side is up */
	};
	int rc;

	memset(dp, 0, sizeof(*dp));
	dp->conf = *conf;
	if (rte_eth_dev_count_avail() == 0) {
		snprintf(err, errlen,
			 "--transport dpdk: the EAL found no ethdev port; pass a PCI device or a "
			 "vdev (e.g. --vdev=net_tap0,iface=sl0) before --");
		return -ENODEV;
	}
	if (!rte_eth_dev_is_valid_port(conf->port_id)) {
		snprintf(err, errlen, "--port %u: no such ethdev port (%u available)",
			 conf->port_id, rte_eth_dev_count_avail());
		return -ENODEV;
	}
	nic_check_locality(conf->port_id, conf->queue_lcores, conf->nb_queues);
	rc = nic_port_init(&dp->port, conf->port_id, &pc, &dp->pools, err, errlen);
	if (rc != 0)
		return rc;
	if (dp->port.nb_queues < conf->nb_queues) {
		snprintf(err, errlen,
			 "port %u serves %u queue(s) (no RSS over TCP/IPv4): run one I/O lcore "
			 "(--io-lcores) with it",
			 conf->port_id, dp->port.nb_queues);
		nic_port_close(&dp->port);
		return -EINVAL;
	}
	rc = nic_port_start(&dp->port, pc.link_timeout_ms, err, errlen);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "sluiced: warning: %s\n", err);
		rc = 0;
	}
	if (rc != 0) {
		nic_port_close(&dp->port);
		return rc;
	}
	return 0;
}

void
dpdk_port_close(struct dpdk_port *dp)
{
	nic_port_close(&dp->port);
}

struct transport *
transport_dpdk_create(const struct dpdk_port *dp, uint16_t queue, unsigned max_conns)
{
	struct net_tcp_conf tc = {
		.max_conns = max_conns + max_conns / 4, /* room for TIME_WAIT and half-open */
		.tx_tcp_cksum = dp->port.tx_tcp_cksum,
		.rx_tcp_cksum = dp->port.rx_l4_cksum,
		.keepalive_ms = dp->conf.keepalive_ms,
	};
	struct net_conf nc = {
		.mac = dp->port.mac,
		.ip = dp->conf.ip,
		.netmask = dp->conf.netmask,
		.gateway = dp->conf.gateway,
		.pool = dp->port.queue_pool[queue],
		.tx_ip_cksum = dp->port.tx_ip_cksum,
		.tcp = &tc,
	};
	int socket = (int)rte_lcore_to_socket_id(dp->conf.queue_lcores[queue]);
	struct dt *d;

	d = rte_zmalloc_socket("dpdk_transport", sizeof(*d), RTE_CACHE_LINE_SIZE, socket);
	if (d == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	d->nl = net_lcore_create(&nc, socket);
	if (d->nl == NULL) {
		errno = rte_errno;
		rte_free(d);
		return NULL;
	}
	d->dp = dp;
	d->queue = queue;
	d->hz = rte_get_timer_hz();
	d->start = rte_get_timer_cycles();
	d->t.ops = &dpdk_ops;
	d->t.priv = d;
	net_start(d->nl);
	return &d->t;
}
