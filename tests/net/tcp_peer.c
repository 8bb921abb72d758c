/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_peer: sluice's TCP stack on one DPDK port, as a test and benchmark
 * peer for kernel TCP (over net_tap in a namespace) or for another tcp_peer
 * (over net_memif).
 *
 * Server (always on): three listeners with a tiny protocol each
 *   sink   (5001): read everything; at the peer's FIN answer
 *                  "bytes <n> fnv <hex>\n" (FNV-1a 64 of the bytes) and close
 *   echo   (5002): send every byte back; close after the peer's FIN
 *   source (5003): read a line "<n>\n", send n bytes of pattern(), close
 * Client (--connect IP:PORT): --conns C connections at a time, --total T in
 * all (default C); each sends --bytes N bytes of pattern() in --msg S byte
 * writes, half-closes, reads the answer to EOF and checks it is the sink's
 * line for those bytes. Prints a JSON line of figures at the end.
 *
 * Impairment (--netem-rx / --netem-tx SPEC, for kernels without sch_netem):
 * IPv4 frames received from the port (rx) or leaving the stack (tx) are
 * lost, duplicated, delayed and reordered like tc netem would, SPEC being
 * "loss=PCT,dup=PCT,delay=MS,reorder=PCT" (any subset). reorder=P sends P %
 * of the frames at once and delays the others by delay= (netem's "delay D
 * reorder P"); no correlation. Random draws come from --seed.
 *
 *           rx_burst ─► [netem rx] ─► net_input      net_output ─► [netem tx] ─► tx_burst
 *   netem:  frame ─► lost? ─► duplicated? ─► reorder draw ─┬─ now ───────────────► out
 *                                                          └─ FIFO, due = t + delay ─► out
 *
 * Usage: tcp_peer [EAL] -- --ip A.B.C.D/LEN --seconds N [--ready FILE]
 *          [--gateway A.B.C.D] [--connect IP:PORT --conns C --total T
 *          --bytes N --msg S] [--rcv-buf B] [--snd-buf B] [--max-conns N]
 *          [--syn-backlog N] [--msl-ms MS] [--netem-rx SPEC] [--netem-tx SPEC]
 *          [--seed N] [--quiet]
 * Exits 0 after --seconds (server) or when every client connection is done
 * and correct (client); 1 on setup errors or client failures; 2 on bad usage.
 * At exit it prints "name value" counter lines (stack, TCP, drops, port;
 * tx_device_full: times the TX ring filled and frames were held for the next
 * round; poll_gaps: rounds 20 ms or more apart, the lcore descheduled), and
 * an "open_conn ..." line for each connection the application still holds.
 *
 * Over net_memif (DPDK 22.11) the server writes --ready once its port is
 * started, without waiting for a link; a client (role=client) starts its
 * port again until the link is up (start_port), so either may start first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "net.h"
#include "peer_ready.h"
#include "port.h"
#include "stream.h"

#define BURST 32
#define PORT_SINK 5001
#define PORT_ECHO 5002
#define PORT_SOURCE 5003
#define BUF 16384
#define NETEM_Q 8192 /* frames one direction's delay line holds; more are dropped */

static atomic_bool quit;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&quit, true);
}

enum role { R_FREE = 0, R_SINK, R_ECHO, R_SOURCE, R_CLIENT };

struct app_conn {
	int64_t h;
	uint8_t role;
	bool eof;               /* the peer's FIN was read */
	bool closing;           /* we are done: close after the pending bytes */
	uint64_t in, out, want; /* bytes read, bytes sent, bytes to send (source, client) */
	uint64_t hash;
	uint32_t pend_off, pend_len; /* bytes read but not yet sent again (echo), or the answer */
	uint8_t pend[BUF];
	char line[64]; /* source: the request line; client: the answer */
	uint32_t line_len;
	uint64_t started_ms;
};

/* One direction of the impairment emulator (see the header). */
struct netem {
	double loss, dup, reorder; /* probabilities */
	uint64_t delay_cyc;        /* 0: no delay line */
	struct rte_mempool *pool;  /* for duplicates */
	uint64_t *rng;
	uint32_t head, n;
	struct rte_mbuf *q[NETEM_Q];
	uint64_t due[NETEM_Q];
	uint64_t frames, lost, duplicated, reordered, delayed, overflow;
};

struct opts {
	uint32_t ip, netmask, gateway;
	unsigned seconds;
	const char *ready;
	uint32_t dst_ip;
	uint16_t dst_port;
	unsigned conns, total;
	uint64_t bytes;
	uint32_t msg;
	struct net_tcp_conf tcp;
	bool quiet;
	const char *netem_spec[2]; /* rx, tx */
	uint64_t seed;
};

struct app {
	struct net_lcore *nl;
	struct opts o;
	struct app_conn *conns;
	unsigned n_slots;
	unsigned started, done, failed, active;
	uint64_t client_bytes;
	uint64_t t0_ms, t_end_ms;
	struct netem *em[2]; /* rx, tx; NULL: no impairment that way */
	uint64_t rng;
	/* frames the device has not taken yet, oldest first (tx_frames) */
	struct rte_mbuf *tx_held[2 * BURST];
	uint16_t n_tx_held;
	uint64_t tx_stuck_since, tx_device_full, tx_refused;
	/* rounds of the poll loop 20 ms or more apart (the lcore did not run:
	 * a shared CPU), their total and longest, in ms */
	uint64_t gaps, gap_ms, gap_max_ms;
};

/* xorshift64*: reproducible draws in [0, 1) from --seed. */
static double
rng_unit(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

/* "loss=PCT,dup=PCT,delay=MS,reorder=PCT"; 0 or -1. */
static int
netem_parse(const char *spec, struct netem *e, uint64_t hz)
{
	char buf[128], *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return -1;
	for (char *kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '='), *end;
		double v;

		if (eq == NULL)
			return -1;
		*eq = '\0';
		v = strtod(eq + 1, &end);
		if (*end != '\0' || !(v >= 0))
			return -1;
		if (strcmp(kv, "loss") == 0 && v <= 100)
			e->loss = v / 100;
		else if (strcmp(kv, "dup") == 0 && v <= 100)
			e->dup = v / 100;
		else if (strcmp(kv, "reorder") == 0 && v <= 100)
			e->reorder = v / 100;
		else if (strcmp(kv, "delay") == 0 && v <= 10000)
			e->delay_cyc = (uint64_t)(v * (double)hz / 1000);
		else
			return -1;
	}
	return 0;
}

static bool
is_ipv4(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return m->data_len >= sizeof(*eh) &&
	       eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
}

/* One frame after the loss and duplicate draws: out now, or into the line. */
static void
netem_place(struct netem *e, struct rte_mbuf *m, struct rte_mbuf **out, uint16_t *k, uint64_t now)
{
	if (e->delay_cyc == 0 || (e->reorder > 0 && rng_unit(e->rng) < e->reorder)) {
		if (e->delay_cyc != 0)
			e->reordered++;
		out[(*k)++] = m;
		return;
	}
	if (e->n == NETEM_Q) {
		e->overflow++;
		rte_pktmbuf_free(m);
		return;
	}
	e->q[(e->head + e->n) % NETEM_Q] = m;
	e->due[(e->head + e->n) % NETEM_Q] = now + e->delay_cyc;
	e->n++;
	e->delayed++;
}

/* Impair n frames of v; those that leave now go to out (room for 2 n). */
static uint16_t
netem_apply(struct netem *e, struct rte_mbuf **v, uint16_t n, struct rte_mbuf **out, uint64_t now)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = v[i], *d;

		if (!is_ipv4(m)) {
			out[k++] = m;
			continue;
		}
		e->frames++;
		if (e->loss > 0 && rng_unit(e->rng) < e->loss) {
			e->lost++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (e->dup > 0 && rng_unit(e->rng) < e->dup) {
			d = rte_pktmbuf_copy(m, e->pool, 0, UINT32_MAX);
			if (d != NULL) {
				d->ol_flags = m->ol_flags;
				d->l2_len = m->l2_len;
				d->l3_len = m->l3_len;
				d->l4_len = m->l4_len;
				e->duplicated++;
				netem_place(e, d, out, &k, now);
			}
		}
		netem_place(e, m, out, &k, now);
	}
	return k;
}

/* Up to n delayed frames that are due. */
static uint16_t
netem_due(struct netem *e, struct rte_mbuf **out, uint16_t n, uint64_t now)
{
	uint16_t k = 0;

	while (k < n && e->n > 0 && e->due[e->head] <= now) {
		out[k++] = e->q[e->head];
		e->head = (e->head + 1) % NETEM_Q;
		e->n--;
	}
	return k;
}

static void
netem_free(struct netem *e)
{
	if (e == NULL)
		return;
	while (e->n > 0) {
		rte_pktmbuf_free(e->q[e->head]);
		e->head = (e->head + 1) % NETEM_Q;
		e->n--;
	}
	free(e);
}

static int
parse_ip(const char *s, uint32_t *ip, uint32_t *mask)
{
	char buf[32], *slash;
	struct in_addr a;
	unsigned long len = 32;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		len = strtoul(slash + 1, NULL, 10);
	}
	if (inet_pton(AF_INET, buf, &a) != 1 || len == 0 || len > 32 || (mask == NULL && slash))
		return -1;
	*ip = a.s_addr;
	if (mask != NULL)
		*mask = htonl((uint32_t)(UINT64_C(0xffffffff) << (32 - len)));
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->conns = 1;
	o->msg = 256;
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(k, "--quiet") == 0) {
			o->quiet = true;
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(k, "--ip") == 0) {
			if (parse_ip(v, &o->ip, &o->netmask) != 0)
				return -1;
		} else if (strcmp(k, "--gateway") == 0) {
			if (parse_ip(v, &o->gateway, NULL) != 0)
				return -1;
		} else if (strcmp(k, "--seconds") == 0) {
			o->seconds = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--ready") == 0) {
			o->ready = v;
		} else if (strcmp(k, "--connect") == 0) {
			char buf[40], *colon;

			snprintf(buf, sizeof(buf), "%s", v);
			colon = strrchr(buf, ':');
			if (colon == NULL)
				return -1;
			*colon = '\0';
			if (parse_ip(buf, &o->dst_ip, NULL) != 0)
				return -1;
			o->dst_port = (uint16_t)strtoul(colon + 1, NULL, 10);
		} else if (strcmp(k, "--conns") == 0) {
			o->conns = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--total") == 0) {
			o->total = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--bytes") == 0) {
			o->bytes = strtoull(v, NULL, 10);
		} else if (strcmp(k, "--msg") == 0) {
			o->msg = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--rcv-buf") == 0) {
			o->tcp.rcv_buf = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--snd-buf") == 0) {
			o->tcp.snd_buf = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--max-conns") == 0) {
			o->tcp.max_conns = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--syn-backlog") == 0) {
			o->tcp.syn_backlog = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--msl-ms") == 0) {
			o->tcp.msl_ms = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--netem-rx") == 0) {
			o->netem_spec[0] = v;
		} else if (strcmp(k, "--netem-tx") == 0) {
			o->netem_spec[1] = v;
		} else if (strcmp(k, "--seed") == 0) {
			o->seed = strtoull(v, NULL, 10);
		} else {
			return -1;
		}
	}
	if (o->total == 0)
		o->total = o->conns;
	if (o->msg == 0 || o->msg > BUF || o->conns == 0)
		return -1;
	return o->ip != 0 && o->seconds != 0 ? 0 : -1;
}

static struct app_conn *
slot_new(struct app *a)
{
	for (unsigned i = 0; i < a->n_slots; i++)
		if (a->conns[i].role == R_FREE)
			return &a->conns[i];
	return NULL;
}

static void
conn_end(struct app *a, struct app_conn *c, bool abort)
{
	net_tcp_close(a->nl, c->h, abort);
	c->role = R_FREE;
}

/* Send what is pending (echo bytes, an answer line); true when all went. */
static bool
flush_pending(struct app *a, struct app_conn *c)
{
	while (c->pend_len > 0) {
		ssize_t k = net_tcp_send(a->nl, c->h, c->pend + c->pend_off, c->pend_len);

		if (k < 0)
			return false;
		c->pend_off += (uint32_t)k;
		c->pend_len -= (uint32_t)k;
		c->out += (uint64_t)k;
	}
	c->pend_off = 0;
	return true;
}

/* Source and client streams: send pattern bytes up to want. */
static void
send_pattern(struct app *a, struct app_conn *c)
{
	uint8_t buf[BUF];

	/* a source sends nothing (and does not close) before its request line */
	if (c->role == R_SOURCE && strchr(c->line, '\n') == NULL)
		return;
	while (c->out < c->want) {
		uint32_t n = (uint32_t)RTE_MIN((uint64_t)(c->role == R_CLIENT ? a->o.msg : BUF),
					       c->want - c->out);
		ssize_t k;

		for (uint32_t i = 0; i < n; i++)
			buf[i] = pattern(c->out + i);
		k = net_tcp_send(a->nl, c->h, buf, n);
		if (k <= 0)
			return;
		if (c->role == R_CLIENT)
			c->hash = fnv(c->hash, buf, (size_t)k);
		c->out += (uint64_t)k;
	}
	if (c->role == R_SOURCE) {
		c->closing = true;
		conn_end(a, c, false);
	} else if (c->role == R_CLIENT && !c->closing) {
		c->closing = true;
		net_tcp_shutdown_write(a->nl, c->h);
	}
}

static void
client_done(struct app *a, struct app_conn *c, bool ok, const char *why)
{
	if (ok) {
		a->done++;
		a->client_bytes += c->out;
	} else {
		a->failed++;
		if (!a->o.quiet)
			fprintf(stderr, "tcp_peer: client connection failed: %s\n", why);
	}
	a->active--;
	conn_end(a, c, !ok);
}

static void
on_read(struct app *a, struct app_conn *c)
{
	uint8_t buf[BUF];

	for (;;) {
		size_t room = c->role == R_ECHO ? sizeof(c->pend) : sizeof(buf);
		ssize_t k;

		if (c->role == R_ECHO && !flush_pending(a, c))
			return; /* wait for WRITE before reading more */
		k = net_tcp_recv(a->nl, c->h, c->role == R_ECHO ? c->pend : buf, room);
		if (k == -EAGAIN)
			return;
		if (k < 0) {
			if (c->role == R_CLIENT)
				client_done(a, c, false, strerror((int)-k));
			else
				conn_end(a, c, true);
			return;
		}
		if (k == 0) {
			c->eof = true;
			break;
		}
		c->in += (uint64_t)k;
		switch (c->role) {
		case R_SINK:
			c->hash = fnv(c->hash, buf, (size_t)k);
			break;
		case R_ECHO:
			c->pend_off = 0;
			c->pend_len = (uint32_t)k;
			break;
		case R_SOURCE:
		case R_CLIENT:
			for (ssize_t i = 0; i < k && c->line_len + 1 < sizeof(c->line); i++)
				c->line[c->line_len++] = (char)buf[i];
			c->line[c->line_len] = '\0';
			if (c->role == R_SOURCE && c->want == 0 && strchr(c->line, '\n')) {
				c->want = strtoull(c->line, NULL, 10);
				send_pattern(a, c);
				return;
			}
			break;
		default:
			break;
		}
	}
	/* the peer's FIN */
	switch (c->role) {
	case R_SINK:
		c->pend_off = 0;
		c->pend_len = (uint32_t)snprintf((char *)c->pend, sizeof(c->pend),
						 "bytes %" PRIu64 " fnv %016" PRIx64 "\n", c->in,
						 c->hash);
		c->closing = true;
		if (flush_pending(a, c))
			conn_end(a, c, false);
		break;
	case R_ECHO:
		c->closing = true;
		if (flush_pending(a, c))
			conn_end(a, c, false);
		break;
	case R_CLIENT: {
		char want[64];

		snprintf(want, sizeof(want), "bytes %" PRIu64 " fnv %016" PRIx64 "\n", c->out,
			 c->hash);
		client_done(a, c, strcmp(want, c->line) == 0, c->line);
		break;
	}
	default:
		conn_end(a, c, false);
		break;
	}
}

static void
start_clients(struct app *a)
{
	uint32_t hop = (a->o.dst_ip & a->o.netmask) == (a->o.ip & a->o.netmask) || a->o.gateway == 0
			       ? a->o.dst_ip
			       : a->o.gateway;
	/* Until the next hop is resolved one connection at a time: its SYN
	 * asks, and a burst of SYNs would overflow the packets waiting for the
	 * answer (NET_ARP_PENDING) and wait out the SYN's 1 s RTO. */
	unsigned conns = net_arp_lookup(a->nl, hop) != NULL ? a->o.conns : 1;

	while (a->o.dst_ip != 0 && a->active < conns && a->started < a->o.total) {
		struct app_conn *c = slot_new(a);
		int64_t h;

		if (c == NULL)
			return;
		h = net_tcp_connect(a->nl, a->o.dst_ip, a->o.dst_port, (uint32_t)(c - a->conns));
		if (h < 0) {
			fprintf(stderr, "tcp_peer: connect: %s\n", strerror((int)-h));
			a->failed++;
			a->started++;
			continue;
		}
		memset(c, 0, offsetof(struct app_conn, pend));
		c->line_len = 0; /* line is past pend: a reused slot keeps the old one */
		c->line[0] = '\0';
		c->h = h;
		c->role = R_CLIENT;
		c->want = a->o.bytes;
		c->hash = FNV_OFFSET;
		c->started_ms = a->nl->now_ms;
		a->started++;
		a->active++;
	}
}

static void
on_event(struct app *a, const struct net_tcp_event *e)
{
	struct app_conn *c;

	if (e->flags & NET_TCP_EV_ACCEPT) {
		c = slot_new(a);
		if (c == NULL) {
			net_tcp_close(a->nl, e->handle, true);
			return;
		}
		memset(c, 0, offsetof(struct app_conn, pend));
		c->line_len = 0;
		c->line[0] = '\0';
		c->h = e->handle;
		c->hash = FNV_OFFSET;
		c->role = e->local_port == PORT_SINK   ? R_SINK
			  : e->local_port == PORT_ECHO ? R_ECHO
						       : R_SOURCE;
		net_tcp_set_user(a->nl, e->handle, (uint32_t)(c - a->conns), true);
	} else {
		if (e->user >= a->n_slots)
			return;
		c = &a->conns[e->user];
		if (c->role == R_FREE || c->h != e->handle)
			return;
		if (e->flags & NET_TCP_EV_CONNECTED) {
			net_tcp_set_user(a->nl, e->handle, e->user, true);
			send_pattern(a, c);
		}
	}
	if (e->flags & NET_TCP_EV_CLOSED) {
		if (c->role == R_CLIENT)
			client_done(a, c, false, strerror(e->err));
		else
			conn_end(a, c, false);
		return;
	}
	if (e->flags & NET_TCP_EV_WRITE) {
		if (c->role == R_ECHO || c->closing) {
			if (flush_pending(a, c) && c->closing && c->role != R_CLIENT) {
				conn_end(a, c, false);
				return;
			}
		}
		if (c->role == R_SOURCE || c->role == R_CLIENT)
			send_pattern(a, c);
		if (c->role == R_FREE)
			return;
	}
	if (e->flags & (NET_TCP_EV_READ | NET_TCP_EV_WRITE | NET_TCP_EV_ACCEPT))
		on_read(a, c);
}

/* Receive a burst (through the rx impairment) into the stack. */
static void
rx_round(struct app *a, uint16_t port, uint64_t now)
{
	struct rte_mbuf *v[BURST], *w[2 * BURST];
	uint16_t n = rte_eth_rx_burst(port, 0, v, BURST);

	if (a->em[0] == NULL) {
		net_input(a->nl, v, n);
		return;
	}
	net_input(a->nl, w, netem_apply(a->em[0], v, n, w, now));
	while ((n = netem_due(a->em[0], w, BURST, now)) > 0)
		net_input(a->nl, w, n);
}

/*
 * Transmit n frames (none held then); what the device does not take is held
 * and goes first next round, as sluiced's transport does: a full TX ring
 * (a peer that fell behind) slows the stack down -- its output queue fills
 * and connections wait -- rather than losing segments. A device that takes
 * nothing for a second (no peer) gets its held frames dropped. False when
 * frames are held.
 */
static bool
tx_frames(struct app *a, uint16_t port, struct rte_mbuf **v, uint16_t n)
{
	uint16_t sent = n > 0 ? rte_eth_tx_burst(port, 0, v, n) : 0;
	uint64_t now = rte_get_timer_cycles();

	if (sent > 0 || n == 0)
		a->tx_stuck_since = 0;
	else if (a->tx_stuck_since == 0)
		a->tx_stuck_since = now;
	if (sent == n)
		return true;
	if (a->tx_stuck_since != 0 && now - a->tx_stuck_since > rte_get_timer_hz()) {
		for (uint16_t i = sent; i < n; i++)
			rte_pktmbuf_free(v[i]);
		a->tx_refused += n - sent;
		a->tx_stuck_since = 0;
		return false;
	}
	memmove(a->tx_held, v + sent, (size_t)(n - sent) * sizeof(v[0]));
	a->n_tx_held = (uint16_t)(n - sent);
	return false;
}

/* Delayed frames due by now, then the stack's output (through the tx
 * impairment), until the device is full. */
static void
tx_stack(struct app *a, uint16_t port, uint64_t now)
{
	struct rte_mbuf *v[BURST], *w[2 * BURST];
	uint16_t n;

	if (a->em[1] != NULL)
		while ((n = netem_due(a->em[1], w, BURST, now)) > 0)
			if (!tx_frames(a, port, w, n))
				return;
	while ((n = net_output(a->nl, v, BURST)) > 0) {
		bool ok;

		if (a->em[1] != NULL)
			ok = tx_frames(a, port, w, netem_apply(a->em[1], v, n, w, now));
		else
			ok = tx_frames(a, port, v, n);
		if (!ok)
			break; /* the device is full: try again next round */
	}
}

/* One round of transmission: the frames held from the last one first. */
static void
tx_round(struct app *a, uint16_t port, uint64_t now)
{
	struct rte_mbuf *w[2 * BURST];
	uint16_t n = a->n_tx_held;

	if (n > 0) {
		memcpy(w, a->tx_held, n * sizeof(w[0]));
		a->n_tx_held = 0;
		if (!tx_frames(a, port, w, n))
			return;
	}
	tx_stack(a, port, now);
	if (a->n_tx_held > 0)
		a->tx_device_full++; /* the device just filled up */
}

static void
poll_loop(struct app *a, uint16_t port)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t start = rte_get_timer_cycles(), end = start + a->o.seconds * hz;
	uint64_t last = start;
	struct net_tcp_event ev[BURST];

	while (!atomic_load(&quit)) {
		uint64_t now = rte_get_timer_cycles(), gap = (now - last) * 1000 / hz;
		uint16_t n;

		last = now;
		if (gap >= 20) {
			a->gaps++;
			a->gap_ms += gap;
			a->gap_max_ms = RTE_MAX(a->gap_max_ms, gap);
		}
		if (now >= end)
			break;
		rx_round(a, port, now);
		net_timer(a->nl, (now - start) * 1000 / hz);
		while ((n = net_tcp_events(a->nl, ev, BURST)) > 0)
			for (uint16_t i = 0; i < n; i++)
				on_event(a, &ev[i]);
		start_clients(a);
		if (a->o.dst_ip != 0 && a->started == a->o.total && a->active == 0) {
			a->t_end_ms = a->nl->now_ms;
			/* let the last ACKs and FINs out, delayed ones too */
			for (int k = 0; k < 4; k++)
				tx_round(a, port, UINT64_MAX);
			break;
		}
		tx_round(a, port, now);
	}
	if (a->t_end_ms == 0)
		a->t_end_ms = a->nl->now_ms;
}

/* The connections the application still holds, one line each ("open_conn
 * ..."): what a stalled transfer was waiting for. */
static void
print_open_conns(const struct app *a)
{
	static const char *const roles[] = { "free", "sink", "echo", "source", "client" };

	for (unsigned i = 0; i < a->n_slots; i++) {
		const struct app_conn *c = &a->conns[i];
		struct net_tcp_info t;

		if (c->role == R_FREE || net_tcp_info(a->nl, c->h, &t) != 0)
			continue;
		printf("open_conn %s state %s in %" PRIu64 " out %" PRIu64 " want %" PRIu64
		       " pend %u eof %d closing %d | snd_una %u snd_nxt %u snd_max %u snd_wnd %u"
		       " cwnd %u ssthresh %u rto_ms %u backoff %u dupacks %u recovery %d unsent %u"
		       " | rcv_nxt %u rcv_wnd %u unread %u ooo %u\n",
		       roles[c->role], net_tcp_state_name(t.state), c->in, c->out, c->want,
		       c->pend_len, c->eof, c->closing, t.snd_una, t.snd_nxt, t.snd_max, t.snd_wnd,
		       t.cwnd, t.ssthresh, t.rto_ms, t.backoff, t.dupacks, t.in_recovery, t.unsent,
		       t.rcv_nxt, t.rcv_wnd, t.unread, t.ooo);
	}
}

static void
print_counters(const struct app *a, const struct nic_port *p)
{
	const struct net_lcore *nl = a->nl;
	const struct net_tcp_counters *t = net_tcp_counters(nl);
	struct nic_stats s;
	uint32_t half;

	printf("rx_frames %" PRIu64 "\ntx_frames %" PRIu64 "\ntx_device_full %" PRIu64
	       "\ntx_refused %" PRIu64 "\n",
	       nl->cnt.rx_frames, nl->cnt.tx_frames, a->tx_device_full, a->tx_refused);
	printf("poll_gaps %" PRIu64 "\npoll_gap_ms %" PRIu64 "\npoll_gap_max_ms %" PRIu64 "\n",
	       a->gaps, a->gap_ms, a->gap_max_ms);
#define T(f) printf("tcp_" #f " %" PRIu64 "\n", (uint64_t)t->f)
	T(segs_in);
	T(segs_out);
	T(bytes_in);
	T(bytes_out);
	T(accepts);
	T(connects);
	T(resets_sent);
	T(resets_received);
	T(retransmits);
	T(rto_fired);
	T(fast_retransmits);
	T(partial_acks);
	T(syn_cookies_sent);
	T(syn_cookies_accepted);
	T(challenge_acks);
	T(dup_acks_sent);
	T(ooo_queued);
	T(delayed_acks);
	T(zero_window_probes);
	T(keepalives);
	T(time_wait_recycled);
	T(timeouts);
	T(mem_pressure_windows);
	T(cksum_hw);
	T(spurious_rexmits);
#undef T
	for (unsigned i = 0; i < a->n_slots; i++) {
		struct net_tcp_info ti;

		if (a->conns[i].role == R_FREE || net_tcp_info(nl, a->conns[i].h, &ti) != 0)
			continue;
		printf("# conn %u %s una %u nxt %u max %u swnd %u cwnd %u ssthresh %u rto %u rnxt "
		       "%u "
		       "rwnd %u unread %u unsent %u ooo %u backoff %u in %" PRIu64 " out %" PRIu64
		       "\n",
		       i, net_tcp_state_name(ti.state), ti.snd_una, ti.snd_nxt, ti.snd_max,
		       ti.snd_wnd, ti.cwnd, ti.ssthresh, ti.rto_ms, ti.rcv_nxt, ti.rcv_wnd,
		       ti.unread, ti.unsent, ti.ooo, ti.backoff, a->conns[i].in, a->conns[i].out);
	}
	printf("tcp_conns_in_use %u\n", net_tcp_conns(nl, &half));
	printf("tcp_half_open %u\n", half);
	printf("tcp_mbufs_held %u\n", net_tcp_mbufs_held(nl));
	for (int d = 0; d < 2; d++) {
		const struct netem *e = a->em[d];
		const char *dir = d == 0 ? "rx" : "tx";

		if (e == NULL)
			continue;
		printf("netem_%s_frames %" PRIu64 "\nnetem_%s_lost %" PRIu64
		       "\nnetem_%s_duplicated %" PRIu64 "\nnetem_%s_reordered %" PRIu64
		       "\nnetem_%s_delayed %" PRIu64 "\nnetem_%s_overflow %" PRIu64 "\n",
		       dir, e->frames, dir, e->lost, dir, e->duplicated, dir, e->reordered, dir,
		       e->delayed, dir, e->overflow);
	}
	for (int i = 1; i < NET_E__COUNT; i++)
		if (nl->cnt.drops[i] != 0)
			printf("drop_%s %" PRIu64 "\n", net_error_name(i), nl->cnt.drops[i]);
	if (nic_port_stats(p, &s) == 0)
		printf("port_ipackets %" PRIu64 "\nport_opackets %" PRIu64 "\nport_imissed %" PRIu64
		       "\nport_rx_nombuf %" PRIu64 "\n",
		       s.ipackets, s.opackets, s.imissed, s.rx_nombuf);
	if (a->o.dst_ip != 0) {
		double secs = (double)(a->t_end_ms - a->t0_ms) / 1000.0;

		const struct net_tcp_counters *tc = net_tcp_counters(nl);

		/* segs_s: TCP segments this lcore received and sent, per second of the run. */
		printf("{\"conns_ok\": %u, \"conns_failed\": %u, \"bytes\": %" PRIu64
		       ", \"seconds\": %.3f, \"mbit_s\": %.1f, \"msgs_s\": %.0f, \"conns_s\": "
		       "%.1f, \"segs_s\": %.0f}\n",
		       a->done, a->failed, a->client_bytes, secs,
		       secs > 0 ? (double)a->client_bytes * 8 / secs / 1e6 : 0.0,
		       secs > 0 ? (double)a->client_bytes / a->o.msg / secs : 0.0,
		       secs > 0 ? a->done / secs : 0.0,
		       secs > 0 ? (double)(tc->segs_in + tc->segs_out) / secs : 0.0);
	}
}

/* The port is net_memif in the client role (devargs "role=client"). */
static bool
memif_client(uint16_t port_id, bool *memif)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;

	*memif = false;
	if (rte_eth_dev_info_get(port_id, &info) != 0 || strcmp(info.driver_name, "net_memif") != 0)
		return false;
	*memif = true;
	da = rte_dev_devargs(info.device);
	return da != NULL && da->args != NULL && strstr(da->args, "role=client") != NULL;
}

/*
 * Start the port and wait for its link. DPDK 22.11's memif client connects
 * once, in rte_eth_dev_start, and never again: before the server listens the
 * start fails (ECONNREFUSED, reported as EPERM); between the server's listen
 * (in its rte_eal_init) and its rte_eth_dev_start the server turns the client
 * away and the link stays down for good. A memif client therefore starts the
 * port again (stopping it first when it started but its link stayed down)
 * until the link is up, for up to MEMIF_CONNECT_MS, waiting longer for the
 * link each time (a loaded machine may be slow to answer). A memif server's
 * link comes up when a client connects: nothing to wait for.
 */
#define MEMIF_TRY_MS 1000
#define MEMIF_CONNECT_MS 30000

static int
start_port(struct nic_port *p, unsigned link_timeout_ms, char *err, size_t errlen)
{
	uint64_t hz = rte_get_timer_hz(), t0 = rte_get_timer_cycles();
	bool memif, client = memif_client(p->port_id, &memif);
	unsigned tries = 0, wait_ms = MEMIF_TRY_MS;
	int rc;

	if (memif && !client) {
		rc = nic_port_start(p, 0, err, errlen);
		return rc == -ETIMEDOUT ? 0 : rc;
	}
	if (!client)
		return nic_port_start(p, link_timeout_ms, err, errlen);
	for (;;) {
		rc = nic_port_start(p, wait_ms, err, errlen);
		tries++;
		if (rc == 0 || rte_get_timer_cycles() - t0 >= MEMIF_CONNECT_MS * hz / 1000)
			break;
		if (rc == -ETIMEDOUT) {
			rte_eth_dev_stop(p->port_id); /* drops the turned-away control channel */
			wait_ms = RTE_MIN(wait_ms * 2, 8000u);
		}
		usleep(100 * 1000);
	}
	if (tries > 1)
		fprintf(stderr, "tcp_peer: memif client: %s after %u start(s)\n",
			rc == 0 ? "link up" : "gave up", tries);
	return rc;
}

int
main(int argc, char **argv)
{
	struct nic_port_conf pc = { .nb_queues = 1,
				    .nb_rxd = 1024,
				    .nb_txd = 1024,
				    .pool_mbufs = 16383,
				    .pool_cache = 256,
				    .link_timeout_ms = 3000 };
	struct nic_pools pools;
	struct nic_port port;
	struct net_conf nc;
	struct app a;
	char err[512], desc[256];
	unsigned lcore;
	int n, rc;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "tcp_peer: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[n] = argv[0];
	memset(&a, 0, sizeof(a));
	if (parse_opts(argc - n, argv + n, &a.o) != 0) {
		fprintf(stderr,
			"usage: tcp_peer [EAL options] -- --ip A.B.C.D/LEN --seconds N "
			"[--ready FILE] [--gateway IP] [--connect IP:PORT --conns C --total T "
			"--bytes N --msg S] [--rcv-buf B] [--snd-buf B] [--max-conns N] "
			"[--syn-backlog N] [--msl-ms MS] [--netem-rx SPEC] [--netem-tx SPEC] "
			"[--seed N] [--quiet]\n");
		rte_eal_cleanup();
		return 2;
	}
	a.rng = a.o.seed != 0 ? a.o.seed : 1;
	for (int d = 0; d < 2; d++) {
		if (a.o.netem_spec[d] == NULL)
			continue;
		a.em[d] = calloc(1, sizeof(*a.em[d]));
		if (a.em[d] == NULL ||
		    netem_parse(a.o.netem_spec[d], a.em[d], rte_get_timer_hz()) != 0) {
			fprintf(stderr,
				"tcp_peer: bad --netem-%s '%s': want loss=PCT,dup=PCT,"
				"delay=MS,reorder=PCT\n",
				d == 0 ? "rx" : "tx", a.o.netem_spec[d]);
			free(a.em[0]);
			free(a.em[1]);
			rte_eal_cleanup();
			return 2;
		}
		a.em[d]->rng = &a.rng;
	}
	if (rte_eth_dev_count_avail() != 1) {
		fprintf(stderr, "tcp_peer: %u ports, want exactly one: pass one --vdev\n",
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
		rc = start_port(&port, pc.link_timeout_ms, err, sizeof(err));
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "tcp_peer: warning: %s\n", err);
	} else if (rc != 0) {
		fprintf(stderr, "tcp_peer: %s\n", err);
		rte_eal_cleanup();
		return 1;
	}
	nic_port_describe(&port, desc, sizeof(desc));
	printf("%s\n", desc);

	a.o.tcp.tx_tcp_cksum = port.tx_tcp_cksum;
	a.o.tcp.rx_tcp_cksum = port.rx_l4_cksum;
	if (a.o.tcp.max_conns == 0)
		a.o.tcp.max_conns = 4096;
	memset(&nc, 0, sizeof(nc));
	nc.mac = port.mac;
	nc.ip = a.o.ip;
	nc.netmask = a.o.netmask;
	nc.gateway = a.o.gateway;
	nc.pool = port.queue_pool[0];
	for (int d = 0; d < 2; d++)
		if (a.em[d] != NULL)
			a.em[d]->pool = port.queue_pool[0];
	nc.tx_ip_cksum = port.tx_ip_cksum;
	nc.tcp = &a.o.tcp;
	a.nl = net_lcore_create(&nc, (int)rte_socket_id());
	a.n_slots = a.o.tcp.max_conns;
	a.conns = calloc(a.n_slots, sizeof(*a.conns));
	if (a.nl == NULL || a.conns == NULL) {
		fprintf(stderr, "tcp_peer: cannot create the stack: %s\n", rte_strerror(rte_errno));
		nic_port_close(&port);
		rte_eal_cleanup();
		return 1;
	}
	if (net_tcp_listen(a.nl, PORT_SINK) != 0 || net_tcp_listen(a.nl, PORT_ECHO) != 0 ||
	    net_tcp_listen(a.nl, PORT_SOURCE) != 0) {
		fprintf(stderr, "tcp_peer: cannot listen\n");
		return 1;
	}
	net_start(a.nl);
	if (a.o.ready != NULL && write_ready(a.o.ready, &port.mac) != 0) {
		fprintf(stderr, "tcp_peer: cannot write %s: %s\n", a.o.ready, strerror(errno));
		return 1;
	}
	fflush(stdout);
	a.t0_ms = 0;
	poll_loop(&a, port.port_id);
	print_counters(&a, &port);
	print_open_conns(&a);
	while (a.n_tx_held > 0)
		rte_pktmbuf_free(a.tx_held[--a.n_tx_held]);
	for (unsigned i = 0; i < a.n_slots; i++)
		if (a.conns[i].role != R_FREE)
			net_tcp_close(a.nl, a.conns[i].h, true);
	net_lcore_destroy(a.nl);
	netem_free(a.em[0]);
	netem_free(a.em[1]);
	free(a.conns);
	nic_port_close(&port);
	rte_eal_cleanup();
	if (a.o.dst_ip != 0 && (a.failed > 0 || a.done < a.o.total))
		return 1;
	return 0;
}
