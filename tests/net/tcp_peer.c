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
 * Usage: tcp_peer [EAL] -- --ip A.B.C.D/LEN --seconds N [--ready FILE]
 *          [--gateway A.B.C.D] [--connect IP:PORT --conns C --total T
 *          --bytes N --msg S] [--rcv-buf B] [--snd-buf B] [--max-conns N]
 *          [--syn-backlog N] [--quiet]
 * Exits 0 after --seconds (server) or when every client connection is done
 * and correct (client); 1 on setup errors or client failures; 2 on bad usage.
 * At exit it prints "name value" counter lines (stack, TCP, drops, port).
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
#include "port.h"

#define BURST 32
#define PORT_SINK 5001
#define PORT_ECHO 5002
#define PORT_SOURCE 5003
#define BUF 16384
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static atomic_bool quit;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&quit, true);
}

/* The byte at offset i of every stream the peers generate. */
static inline uint8_t
pattern(uint64_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ 0x5a);
}

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
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
};

struct app {
	struct net_lcore *nl;
	struct opts o;
	struct app_conn *conns;
	unsigned n_slots;
	unsigned started, done, failed, active;
	uint64_t client_bytes;
	uint64_t t0_ms, t_end_ms;
};

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

static int
write_ready(const char *path, const struct rte_ether_addr *mac)
{
	char tmp[4096], buf[RTE_ETHER_ADDR_FMT_SIZE];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	rte_ether_format_addr(buf, sizeof(buf), mac);
	fprintf(f, "%s\n", buf);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
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
	while (a->o.dst_ip != 0 && a->active < a->o.conns && a->started < a->o.total) {
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

static void
poll_loop(struct app *a, uint16_t port)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t start = rte_get_timer_cycles(), end = start + a->o.seconds * hz;
	struct rte_mbuf *v[BURST];
	struct net_tcp_event ev[BURST];

	while (!atomic_load(&quit)) {
		uint64_t now = rte_get_timer_cycles();
		uint16_t n, sent;

		if (now >= end)
			break;
		n = rte_eth_rx_burst(port, 0, v, BURST);
		net_input(a->nl, v, n);
		net_timer(a->nl, (now - start) * 1000 / hz);
		while ((n = net_tcp_events(a->nl, ev, BURST)) > 0)
			for (uint16_t i = 0; i < n; i++)
				on_event(a, &ev[i]);
		start_clients(a);
		if (a->o.dst_ip != 0 && a->started == a->o.total && a->active == 0) {
			a->t_end_ms = a->nl->now_ms;
			/* let the last ACKs and FINs out */
			for (int k = 0; k < 4; k++)
				while ((n = net_output(a->nl, v, BURST)) > 0) {
					sent = rte_eth_tx_burst(port, 0, v, n);
					for (uint16_t i = sent; i < n; i++)
						rte_pktmbuf_free(v[i]);
				}
			break;
		}
		while ((n = net_output(a->nl, v, BURST)) > 0) {
			sent = rte_eth_tx_burst(port, 0, v, n);
			for (uint16_t i = sent; i < n; i++)
				rte_pktmbuf_free(v[i]);
			if (sent < n)
				break; /* the device is full: try again next round */
		}
	}
	if (a->t_end_ms == 0)
		a->t_end_ms = a->nl->now_ms;
}

static void
print_counters(const struct app *a, const struct nic_port *p)
{
	const struct net_lcore *nl = a->nl;
	const struct net_tcp_counters *t = net_tcp_counters(nl);
	struct nic_stats s;
	uint32_t half;

	printf("rx_frames %" PRIu64 "\ntx_frames %" PRIu64 "\n", nl->cnt.rx_frames,
	       nl->cnt.tx_frames);
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
#undef T
	printf("tcp_conns_in_use %u\n", net_tcp_conns(nl, &half));
	printf("tcp_half_open %u\n", half);
	printf("tcp_mbufs_held %u\n", net_tcp_mbufs_held(nl));
	for (int i = 1; i < NET_E__COUNT; i++)
		if (nl->cnt.drops[i] != 0)
			printf("drop_%s %" PRIu64 "\n", net_error_name(i), nl->cnt.drops[i]);
	if (nic_port_stats(p, &s) == 0)
		printf("port_ipackets %" PRIu64 "\nport_opackets %" PRIu64 "\nport_imissed %" PRIu64
		       "\nport_rx_nombuf %" PRIu64 "\n",
		       s.ipackets, s.opackets, s.imissed, s.rx_nombuf);
	if (a->o.dst_ip != 0) {
		double secs = (double)(a->t_end_ms - a->t0_ms) / 1000.0;

		printf("{\"conns_ok\": %u, \"conns_failed\": %u, \"bytes\": %" PRIu64
		       ", \"seconds\": %.3f, \"mbit_s\": %.1f, \"msgs_s\": %.0f, \"conns_s\": "
		       "%.1f}\n",
		       a->done, a->failed, a->client_bytes, secs,
		       secs > 0 ? (double)a->client_bytes * 8 / secs / 1e6 : 0.0,
		       secs > 0 ? (double)a->client_bytes / a->o.msg / secs : 0.0,
		       secs > 0 ? a->done / secs : 0.0);
	}
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
			"[--syn-backlog N] [--quiet]\n");
		rte_eal_cleanup();
		return 2;
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
		rc = nic_port_start(&port, pc.link_timeout_ms, err, sizeof(err));
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
	for (unsigned i = 0; i < a.n_slots; i++)
		if (a.conns[i].role != R_FREE)
			net_tcp_close(a.nl, a.conns[i].h, true);
	net_lcore_destroy(a.nl);
	free(a.conns);
	nic_port_close(&port);
	rte_eal_cleanup();
	if (a.o.dst_ip != 0 && (a.failed > 0 || a.done < a.o.total))
		return 1;
	return 0;
}
