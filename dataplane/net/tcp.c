/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP connection table and the application's side of the API (tcp.h):
 * handles, events, send and receive queues, close.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "siphash.h"
#include "tcp_pvt.h"

static const char *const state_names[] = {
	[NET_TCP_FREE] = "FREE",
	[NET_TCP_SYN_SENT] = "SYN-SENT",
	[NET_TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[NET_TCP_ESTABLISHED] = "ESTABLISHED",
	[NET_TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[NET_TCP_FIN_WAIT_2] = "FIN-WAIT-2",
	[NET_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[NET_TCP_CLOSING] = "CLOSING",
	[NET_TCP_LAST_ACK] = "LAST-ACK",
	[NET_TCP_TIME_WAIT] = "TIME-WAIT",
	[NET_TCP_CLOSED] = "CLOSED",
};

const char *
net_tcp_state_name(int state)
{
	if (state < 0 || state > NET_TCP_CLOSED)
		return "?";
	return state_names[state];
}

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static void
conf_defaults(struct net_tcp_conf *c, const struct rte_mempool *pool)
{
#define DEF(f, v)                                                                                  \
	do {                                                                                       \
		if (c->f == 0)                                                                     \
			c->f = v;                                                                  \
	} while (0)
	DEF(max_conns, 4096);
	DEF(syn_backlog, 256);
	DEF(time_wait_max, 1024);
	DEF(rcv_buf, 262144);
	DEF(snd_buf, 262144);
	DEF(ooo_max, 64);
	DEF(mss, 1460);
	DEF(mem_mbufs, pool->size / 2);
	DEF(delack_ms, 40);
	DEF(rto_init_ms, 1000);
	DEF(rto_min_ms, 200);
	DEF(rto_max_ms, 60000);
	DEF(max_retries, 12);
	DEF(syn_retries, 6);
	DEF(msl_ms, 30000);
	DEF(fin_wait2_ms, 60000);
	DEF(keepalive_intvl_ms, 75000);
	DEF(keepalive_probes, 9);
	DEF(challenge_ack_per_s, 1000);
#undef DEF
	if (c->rcv_buf > (65535u << TCP_WSCALE_MAX))
		c->rcv_buf = 65535u << TCP_WSCALE_MAX;
	if (c->syn_backlog > c->max_conns)
		c->syn_backlog = c->max_conns;
	if (c->time_wait_max > c->max_conns)
		c->time_wait_max = c->max_conns;
}

int
tcp_lcore_init(struct net_lcore *nl, const struct net_tcp_conf *conf, int socket)
{
	struct tcp_lcore *t;
	uint32_t nb;

	t = rte_zmalloc_socket("tcp_lcore", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL)
		return -ENOMEM;
	if (conf != NULL)
		t->conf = *conf;
	conf_defaults(&t->conf, nl->pool);
	if (t->conf.max_conns >= TCP_NIL / 2 || t->conf.mss < 64) {
		rte_free(t);
		return -EINVAL;
	}
	nb = pow2_at_least(t->conf.max_conns * 2);
	t->conns = rte_zmalloc_socket("tcp_conns", sizeof(*t->conns) * t->conf.max_conns,
				      RTE_CACHE_LINE_SIZE, socket);
	t->hash = rte_malloc_socket("tcp_hash", sizeof(*t->hash) * nb, RTE_CACHE_LINE_SIZE, socket);
	struct tcp_ooo *ooo = rte_zmalloc_socket(
		"tcp_ooo", sizeof(*ooo) * t->conf.ooo_max * t->conf.max_conns, 0, socket);
	if (t->conns == NULL || t->hash == NULL || ooo == NULL) {
		rte_free(t->conns);
		rte_free(t->hash);
		rte_free(ooo);
		rte_free(t);
		return -ENOMEM;
	}
	/* RFC 6528 3: "It is RECOMMENDED that F() be a pseudorandom function
	 * ... the secret key SHOULD be of at least 128 bits"; and it must not be
	 * guessable, so it comes from the kernel's CSPRNG, once, at init. */
	if (getrandom(t->secret, sizeof(t->secret), 0) != sizeof(t->secret)) {
		rte_free(t->conns);
		rte_free(t->hash);
		rte_free(ooo);
		rte_free(t);
		return -EIO;
	}
	t->hash_mask = nb - 1;
	for (uint32_t i = 0; i < nb; i++)
		t->hash[i] = TCP_NIL;
	for (uint32_t i = 0; i < t->conf.max_conns; i++) {
		t->conns[i].hnext = i + 1 < t->conf.max_conns ? i + 1 : TCP_NIL;
		t->conns[i].ooo = ooo + (size_t)i * t->conf.ooo_max;
	}
	t->free_head = 0;
	t->used_head = TCP_NIL;
	t->dirty_head = t->dirty_tail = TCP_NIL;
	t->ev_head = t->ev_tail = TCP_NIL;
	t->rd_head = t->rd_tail = TCP_NIL;
	t->tw_head = t->tw_tail = TCP_NIL;
	t->next_port = (uint16_t)(49152 + (t->secret[0] | t->secret[1] << 8) % 16384);
	nl->tcp = t;
	return 0;
}

static void
conn_release_mbufs(struct net_lcore *nl, struct tcp_conn *c)
{
	tcp_rq_free(nl, c);
	tcp_sq_drop_front(nl, c, c->sq_bytes);
	for (uint16_t i = 0; i < c->n_ooo; i++) {
		nl->tcp->mbufs_held -= c->ooo[i].m->nb_segs;
		rte_pktmbuf_free(c->ooo[i].m);
	}
	c->n_ooo = 0;
}

void
tcp_lcore_free(struct net_lcore *nl)
{
	struct tcp_lcore *t = nl->tcp;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->conf.max_conns; i++)
		if (t->conns[i].state != NET_TCP_FREE)
			conn_release_mbufs(nl, &t->conns[i]);
	rte_free(t->conns[0].ooo);
	rte_free(t->conns);
	rte_free(t->hash);
	rte_free(t);
	nl->tcp = NULL;
}

static inline uint32_t
bucket(const struct tcp_lcore *t, uint32_t rip, uint16_t rport, uint16_t lport)
{
	/* Keyed with the secret, so an attacker cannot aim SYNs at one chain. */
	uint32_t k[3] = { rip, (uint32_t)rport << 16 | lport, 0 }, init;

	memcpy(&k[2], t->secret, 4);
	memcpy(&init, t->secret + 4, 4);
	return rte_hash_crc(k, sizeof(k), init) & t->hash_mask;
}

struct tcp_conn *
tcp_lookup(struct tcp_lcore *t, uint32_t rip, uint16_t rport, uint16_t lport)
{
	for (uint32_t i = t->hash[bucket(t, rip, rport, lport)]; i != TCP_NIL;
	     i = t->conns[i].hnext) {
		struct tcp_conn *c = &t->conns[i];

		if (c->rip == rip && c->rport == rport && c->lport == lport)
			return c;
	}
	return NULL;
}

struct tcp_conn *
tcp_conn_new(struct net_lcore *nl, uint32_t rip, uint16_t rport, uint16_t lport)
{
	struct tcp_lcore *t = nl->tcp;
	struct tcp_conn *c;
	uint32_t i = t->free_head, b, gen;
	struct tcp_ooo *ooo;

	if (i == TCP_NIL) {
		/* Room from the oldest TIME_WAIT connection: RFC 9293 3.6.1
		 * accepts the risk when the table is full; we count it. One whose
		 * handle the application still holds keeps its slot (freeing it
		 * would hand the slot, and a live handle's reads, to a stranger). */
		uint32_t k = t->tw_head;

		while (k != TCP_NIL && (t->conns[k].flags & TF_APP))
			k = t->conns[k].twnext;
		if (k == TCP_NIL)
			return NULL;
		tcp_conn_free(nl, &t->conns[k]);
		t->cnt.time_wait_recycled++;
		i = t->free_head;
	}
	c = &t->conns[i];
	t->free_head = c->hnext;
	gen = c->gen + 1;
	ooo = c->ooo;
	memset(c, 0, sizeof(*c));
	c->gen = gen & 0x7fffffff; /* handles stay non-negative */
	c->ooo = ooo;
	c->rip = rip;
	c->rport = rport;
	c->lport = lport;
	c->dnext = c->enext = c->rnext = c->twprev = c->twnext = TCP_NIL;
	b = bucket(t, rip, rport, lport);
	c->hnext = t->hash[b];
	t->hash[b] = i;
	c->lprev = TCP_NIL;
	c->lnext = t->used_head;
	if (t->used_head != TCP_NIL)
		t->conns[t->used_head].lprev = i;
	t->used_head = i;
	t->n_used++;
	c->rto_ms = t->conf.rto_init_ms;
	c->ts_off = tcp_ts_offset(t, rip, rport, lport);
	c->last_rx_ms = nl->now_ms;
	return c;
}

static void
list_unlink(struct tcp_lcore *t, uint32_t *head, uint32_t *tail, uint32_t i,
	    uint32_t *(*next)(struct tcp_conn *))
{
	/* singly linked: find the predecessor (lists are short: dirty, events) */
	uint32_t prev = TCP_NIL;

	for (uint32_t j = *head; j != TCP_NIL; prev = j, j = *next(&t->conns[j])) {
		if (j != i)
			continue;
		if (prev == TCP_NIL)
			*head = *next(&t->conns[j]);
		else
			*next(&t->conns[prev]) = *next(&t->conns[j]);
		if (*tail == i)
			*tail = prev;
		return;
	}
}

static uint32_t *
dnext_of(struct tcp_conn *c)
{
	return &c->dnext;
}

static uint32_t *
enext_of(struct tcp_conn *c)
{
	return &c->enext;
}

static uint32_t *
rnext_of(struct tcp_conn *c)
{
	return &c->rnext;
}

static void
tw_unlink(struct tcp_lcore *t, struct tcp_conn *c)
{
	uint32_t i = tcp_idx(t, c);

	if (c->twprev != TCP_NIL)
		t->conns[c->twprev].twnext = c->twnext;
	else if (t->tw_head == i)
		t->tw_head = c->twnext;
	else
		return; /* not on the list */
	if (c->twnext != TCP_NIL)
		t->conns[c->twnext].twprev = c->twprev;
	else
		t->tw_tail = c->twprev;
	c->twprev = c->twnext = TCP_NIL;
	t->n_tw--;
}

void
tcp_conn_free(struct net_lcore *nl, struct tcp_conn *c)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t i = tcp_idx(t, c);
	uint32_t *pp = &t->hash[bucket(t, c->rip, c->rport, c->lport)];

	conn_release_mbufs(nl, c);
	while (*pp != TCP_NIL && *pp != i)
		pp = &t->conns[*pp].hnext;
	if (*pp == i)
		*pp = c->hnext;
	if (c->lprev != TCP_NIL)
		t->conns[c->lprev].lnext = c->lnext;
	else
		t->used_head = c->lnext;
	if (c->lnext != TCP_NIL)
		t->conns[c->lnext].lprev = c->lprev;
	if (c->flags & TF_DIRTY)
		list_unlink(t, &t->dirty_head, &t->dirty_tail, i, dnext_of);
	if (c->flags & TF_EVQ)
		list_unlink(t, &t->ev_head, &t->ev_tail, i, enext_of);
	if (c->flags & TF_RDLIST)
		list_unlink(t, &t->rd_head, &t->rd_tail, i, rnext_of);
	if (c->state == NET_TCP_TIME_WAIT)
		tw_unlink(t, c);
	if (c->state == NET_TCP_SYN_RECEIVED && (c->flags & TF_PASSIVE))
		t->n_half_open--;
	c->state = NET_TCP_FREE;
	c->flags = 0;
	c->hnext = t->free_head;
	t->free_head = i;
	t->n_used--;
}

void
tcp_event(struct net_lcore *nl, struct tcp_conn *c, uint8_t ev)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t i = tcp_idx(t, c);

	c->events |= ev;
	if (c->flags & TF_EVQ)
		return;
	c->flags |= TF_EVQ;
	c->enext = TCP_NIL;
	if (t->ev_tail == TCP_NIL)
		t->ev_head = i;
	else
		t->conns[t->ev_tail].enext = i;
	t->ev_tail = i;
}

void
tcp_dirty(struct net_lcore *nl, struct tcp_conn *c)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t i = tcp_idx(t, c);

	if (c->flags & TF_DIRTY)
		return;
	c->flags |= TF_DIRTY;
	c->dnext = TCP_NIL;
	if (t->dirty_tail == TCP_NIL)
		t->dirty_head = i;
	else
		t->conns[t->dirty_tail].dnext = i;
	t->dirty_tail = i;
}

void
tcp_set_state(struct net_lcore *nl, struct tcp_conn *c, uint8_t state)
{
	if (c->state == NET_TCP_SYN_RECEIVED && (c->flags & TF_PASSIVE))
		nl->tcp->n_half_open--;
	if (state == NET_TCP_SYN_RECEIVED && (c->flags & TF_PASSIVE))
		nl->tcp->n_half_open++;
	/* Out of TIME_WAIT while the application holds the handle (2 MSL over,
	 * or a RST): off the TIME_WAIT FIFO too. tcp_conn_free unlinks only a
	 * TIME_WAIT connection, and a freed slot left on the FIFO makes the
	 * recycling loop of tcp_enter_time_wait free it again, forever. */
	if (c->state == NET_TCP_TIME_WAIT && state != NET_TCP_TIME_WAIT)
		tw_unlink(nl->tcp, c);
	c->state = state;
}

/* The connection is over without an orderly close (RST, timeout, refused). */
void
tcp_drop_conn(struct net_lcore *nl, struct tcp_conn *c, int err)
{
	if (!(c->flags & TF_APP)) {
		/* Nobody holds it (half-open, or the app already closed). */
		tcp_conn_free(nl, c);
		return;
	}
	tcp_set_state(nl, c, NET_TCP_CLOSED);
	c->err = err;
	c->t_rexmt = c->t_delack = c->t_keep = c->t_2msl = 0;
	tcp_sq_drop_front(nl, c, c->sq_bytes);
	tcp_event(nl, c, NET_TCP_EV_CLOSED);
}

void
tcp_enter_time_wait(struct net_lcore *nl, struct tcp_conn *c)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t i = tcp_idx(t, c);

	/* The reader may still hold the handle: then TIME_WAIT waits for close. */
	tcp_set_state(nl, c, NET_TCP_TIME_WAIT);
	c->t_rexmt = c->t_delack = c->t_keep = 0;
	/* RFC 9293 3.10.7.4 TIME-WAIT: "restart the 2 MSL timeout" */
	c->t_2msl = nl->now_ms + 2ull * t->conf.msl_ms;
	tcp_timer_arm(t, c->t_2msl);
	tcp_sq_drop_front(nl, c, c->sq_bytes);
	if (c->twprev != TCP_NIL || t->tw_head == i)
		tw_unlink(t, c);
	c->twprev = t->tw_tail;
	c->twnext = TCP_NIL;
	if (t->tw_tail != TCP_NIL)
		t->conns[t->tw_tail].twnext = i;
	else
		t->tw_head = i;
	t->tw_tail = i;
	t->n_tw++;
	/* The TIME_WAIT table is bounded: the oldest goes first. */
	while (t->n_tw > t->conf.time_wait_max && t->tw_head != i) {
		struct tcp_conn *old = &t->conns[t->tw_head];

		t->cnt.time_wait_recycled++;
		if (old->flags & TF_APP) {
			tw_unlink(t, old);
			tcp_set_state(nl, old, NET_TCP_CLOSED);
			old->t_2msl = 0;
		} else {
			tcp_conn_free(nl, old);
		}
	}
}

bool
tcp_is_listening(const struct tcp_lcore *t, uint16_t port)
{
	for (uint16_t i = 0; i < t->n_listen; i++)
		if (t->listen[i] == port)
			return true;
	return false;
}

uint32_t
tcp_isn(const struct tcp_lcore *t, uint64_t now_ms, uint32_t rip, uint16_t rport, uint16_t lport,
	uint32_t lip)
{
	uint32_t k[4] = { lip, rip, (uint32_t)lport << 16 | rport, 0x49534e };

	/* RFC 6528 3: "ISN = M + F(localip, localport, remoteip, remoteport,
	 * secretkey) where M is the 4 microsecond timer" -- our clock is in ms,
	 * so M advances 250 per ms. */
	return (uint32_t)(now_ms * 250) + (uint32_t)siphash24(t->secret, k, sizeof(k));
}

uint32_t
tcp_ts_offset(const struct tcp_lcore *t, uint32_t rip, uint16_t rport, uint16_t lport)
{
	uint32_t k[3] = { rip, (uint32_t)lport << 16 | rport, 0x54534f };

	/* RFC 7323 7.1: a per-connection random offset keeps the timestamp
	 * clock from telling the host's uptime. */
	return (uint32_t)siphash24(t->secret, k, sizeof(k));
}

uint32_t
tcp_cookie_hash(const struct tcp_lcore *t, uint32_t rip, uint16_t rport, uint16_t lport,
		uint32_t peer_isn, uint32_t count)
{
	uint32_t k[5] = { rip, (uint32_t)lport << 16 | rport, peer_isn, count, 0x434f4f };

	return (uint32_t)siphash24(t->secret, k, sizeof(k));
}

void
tcp_timer_arm(struct tcp_lcore *t, uint64_t at_ms)
{
	if (at_ms != 0 && (t->next_timer_ms == 0 || at_ms < t->next_timer_ms))
		t->next_timer_ms = at_ms;
}

void
tcp_rq_free(struct net_lcore *nl, struct tcp_conn *c)
{
	if (c->rq_head != NULL)
		rte_pktmbuf_free(c->rq_head);
	nl->tcp->mbufs_held -= c->rq_mbufs;
	c->rq_head = c->rq_tail = NULL;
	c->rq_bytes = c->rq_mbufs = 0;
}

/* Drop n bytes from the front of the send queue (acknowledged, or discarded). */
void
tcp_sq_drop_front(struct net_lcore *nl, struct tcp_conn *c, uint32_t n)
{
	while (n > 0 && c->sq_head != NULL) {
		struct rte_mbuf *m = c->sq_head;

		if (m->data_len > n) {
			rte_pktmbuf_adj(m, (uint16_t)n);
			c->sq_bytes -= n;
			return;
		}
		n -= m->data_len;
		c->sq_bytes -= m->data_len;
		c->sq_head = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free(m);
		c->sq_mbufs--;
		nl->tcp->mbufs_held--;
	}
	if (c->sq_head == NULL) {
		c->sq_tail = NULL;
		c->sq_bytes = 0;
	}
}

/* ---- the application's API ---- */

static struct tcp_conn *
conn_of(const struct net_lcore *nl, int64_t h)
{
	const struct tcp_lcore *t = nl->tcp;
	uint32_t i = (uint32_t)h, gen = (uint32_t)((uint64_t)h >> 32);
	struct tcp_conn *c;

	if (t == NULL || h < 0 || i >= t->conf.max_conns)
		return NULL;
	c = &t->conns[i];
	if (c->state == NET_TCP_FREE || c->gen != gen || !(c->flags & TF_APP))
		return NULL;
	return c;
}

int
net_tcp_listen(struct net_lcore *nl, uint16_t port)
{
	struct tcp_lcore *t = nl->tcp;

	if (port == 0)
		return -EINVAL;
	if (tcp_is_listening(t, port))
		return -EADDRINUSE;
	if (t->n_listen == NET_TCP_LISTEN_MAX)
		return -ENOSPC;
	t->listen[t->n_listen++] = port;
	return 0;
}

int64_t
net_tcp_connect(struct net_lcore *nl, uint32_t ip, uint16_t port, uint32_t user)
{
	struct tcp_lcore *t = nl->tcp;
	struct tcp_conn *c = NULL;
	int rc;

	if (((ip ^ nl->ip) & nl->netmask) != 0 && nl->gateway == 0)
		return -EHOSTUNREACH;
	/* RFC 6056 3.3.4-like: walk the ephemeral range from a rotating start. */
	for (unsigned tries = 0; tries < 16384; tries++) {
		uint16_t lport = t->next_port;

		t->next_port = (uint16_t)(t->next_port == 65535 ? 49152 : t->next_port + 1);
		if (tcp_is_listening(t, lport) || tcp_lookup(t, ip, port, lport) != NULL)
			continue;
		c = tcp_conn_new(nl, ip, port, lport);
		break;
	}
	if (c == NULL)
		return -ENOSPC;
	c->flags |= TF_APP;
	c->user = user;
	c->iss = tcp_isn(t, nl->now_ms, ip, port, c->lport, nl->ip);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->rcv_wscale = 0;
	while (c->rcv_wscale < TCP_WSCALE_MAX && (65535u << c->rcv_wscale) < t->conf.rcv_buf)
		c->rcv_wscale++;
	tcp_set_state(nl, c, NET_TCP_SYN_SENT);
	rc = tcp_send_ctl(nl, c, c->iss, RTE_TCP_SYN_FLAG);
	c->snd_nxt = c->snd_max = c->iss + 1;
	tcp_rexmt_arm(nl, c);
	if (rc < 0 && rc != -NET_E_TX_QUEUE_FULL) {
		/* not even queued for ARP: the timer will try again */
	}
	t->cnt.connects++;
	return tcp_handle(t, c);
}

uint16_t
net_tcp_events(struct net_lcore *nl, struct net_tcp_event *ev, uint16_t n)
{
	struct tcp_lcore *t = nl->tcp;
	uint16_t k = 0;

	while (k < n && t->ev_head != TCP_NIL) {
		struct tcp_conn *c = &t->conns[t->ev_head];

		t->ev_head = c->enext;
		if (t->ev_head == TCP_NIL)
			t->ev_tail = TCP_NIL;
		c->flags &= ~TF_EVQ;
		c->enext = TCP_NIL;
		if (!(c->flags & TF_APP) || c->events == 0) {
			c->events = 0;
			continue;
		}
		if ((c->events & NET_TCP_EV_READ) && !(c->flags & TF_RDLIST)) {
			c->flags |= TF_RDLIST;
			c->rnext = TCP_NIL;
			if (t->rd_tail == TCP_NIL)
				t->rd_head = tcp_idx(t, c);
			else
				t->conns[t->rd_tail].rnext = tcp_idx(t, c);
			t->rd_tail = tcp_idx(t, c);
		}
		ev[k] = (struct net_tcp_event){
			.handle = tcp_handle(t, c),
			.user = c->user,
			.flags = c->events,
			.err = c->err,
			.peer_ip = c->rip,
			.peer_port = c->rport,
			.local_port = c->lport,
		};
		c->events = 0;
		k++;
	}
	return k;
}

static ssize_t
send_status(const struct tcp_conn *c)
{
	if (c->state == NET_TCP_CLOSED)
		return c->err != 0 ? -c->err : -EPIPE;
	if (c->flags & TF_FIN_QUEUED)
		return -EPIPE;
	switch (c->state) {
	case NET_TCP_SYN_SENT:
	case NET_TCP_SYN_RECEIVED:
	case NET_TCP_ESTABLISHED:
	case NET_TCP_CLOSE_WAIT:
		return 0;
	default:
		return -EPIPE;
	}
}

/*
 * READ is level-triggered, as epoll's EPOLLIN is: a connection reported
 * readable is reported again at the next net_timer while bytes or the
 * end of the stream wait unread (a reader may stop early, e.g. when its own
 * buffer is full, and count on hearing again).
 */
void
tcp_read_rearm(struct net_lcore *nl)
{
	struct tcp_lcore *t = nl->tcp;
	uint32_t i = t->rd_head;

	t->rd_head = t->rd_tail = TCP_NIL;
	while (i != TCP_NIL) {
		struct tcp_conn *c = &t->conns[i];

		i = c->rnext;
		c->rnext = TCP_NIL;
		c->flags &= ~TF_RDLIST;
		if ((c->flags & TF_APP) &&
		    (c->rq_bytes > 0 || ((c->flags & TF_FIN_RCVD) && !(c->flags & TF_EOF_READ))))
			tcp_event(nl, c, NET_TCP_EV_READ);
	}
}

int
net_tcp_set_user(struct net_lcore *nl, int64_t h, uint32_t user, bool want_write)
{
	struct tcp_conn *c = conn_of(nl, h);

	if (c == NULL)
		return -EBADF;
	c->user = user;
	if (want_write) {
		c->flags |= TF_WANT_WRITE;
		/* room already (the short send was for want of mbufs): say so */
		if (c->sq_bytes < nl->tcp->conf.snd_buf && send_status(c) == 0)
			tcp_event(nl, c, NET_TCP_EV_WRITE);
	} else
		c->flags &= ~TF_WANT_WRITE;
	return 0;
}

/* After the reader took bytes: open the window if it grew enough. */
static void
after_read(struct net_lcore *nl, struct tcp_conn *c)
{
	uint32_t wnd = tcp_rcv_window(nl, c);
	uint32_t edge = c->rcv_nxt + wnd;

	/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): announce a window update
	 * once the right edge can move by min(RCV.BUFF/2, Eff.snd.MSS). */
	if (SEQ_GT(edge, c->rcv_adv) &&
	    edge - c->rcv_adv >= RTE_MIN(nl->tcp->conf.rcv_buf / 2, (uint32_t)c->smss) &&
	    (c->state == NET_TCP_ESTABLISHED || c->state == NET_TCP_FIN_WAIT_1 ||
	     c->state == NET_TCP_FIN_WAIT_2)) {
		c->flags |= TF_ACK_NOW;
		tcp_dirty(nl, c);
	}
}

static ssize_t
recv_status(const struct tcp_conn *c)
{
	if (c->rq_bytes > 0)
		return 1;
	if (c->state == NET_TCP_CLOSED)
		return c->err == 0 ? 0 : -c->err;
	if (c->flags & TF_FIN_RCVD)
		return 0;
	if (c->state == NET_TCP_TIME_WAIT || c->state == NET_TCP_CLOSE_WAIT ||
	    c->state == NET_TCP_LAST_ACK || c->state == NET_TCP_CLOSING)
		return 0;
	return -EAGAIN;
}

ssize_t
net_tcp_recv(struct net_lcore *nl, int64_t h, void *buf, size_t n)
{
	struct tcp_conn *c = conn_of(nl, h);
	uint8_t *out = buf;
	size_t got = 0;
	ssize_t st;

	if (c == NULL)
		return -EBADF;
	st = recv_status(c);
	if (st == 0)
		c->flags |= TF_EOF_READ;
	if (st <= 0)
		return st;
	while (got < n && c->rq_head != NULL) {
		struct rte_mbuf *m = c->rq_head;
		size_t k = RTE_MIN((size_t)m->data_len, n - got);

		memcpy(out + got, rte_pktmbuf_mtod(m, void *), k);
		got += k;
		c->rq_bytes -= (uint32_t)k;
		if (k < m->data_len) {
			rte_pktmbuf_adj(m, (uint16_t)k);
			break;
		}
		c->rq_head = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		rte_pktmbuf_free(m);
		c->rq_mbufs--;
		nl->tcp->mbufs_held--;
	}
	if (c->rq_head == NULL)
		c->rq_tail = NULL;
	after_read(nl, c);
	return (ssize_t)got;
}

ssize_t
net_tcp_recv_chain(struct net_lcore *nl, int64_t h, struct rte_mbuf **out)
{
	struct tcp_conn *c = conn_of(nl, h);
	struct rte_mbuf *m;
	uint32_t bytes;
	ssize_t st;

	if (c == NULL)
		return -EBADF;
	st = recv_status(c);
	if (st == 0)
		c->flags |= TF_EOF_READ;
	if (st <= 0)
		return st;
	m = c->rq_head;
	bytes = c->rq_bytes;
	m->pkt_len = bytes;
	m->nb_segs = (uint16_t)(c->rq_mbufs < UINT16_MAX ? c->rq_mbufs : UINT16_MAX);
	nl->tcp->mbufs_held -= c->rq_mbufs;
	c->rq_head = c->rq_tail = NULL;
	c->rq_bytes = c->rq_mbufs = 0;
	*out = m;
	after_read(nl, c);
	return bytes;
}

ssize_t
net_tcp_send(struct net_lcore *nl, int64_t h, const void *buf, size_t n)
{
	struct tcp_conn *c = conn_of(nl, h);
	struct tcp_lcore *t = nl->tcp;
	const uint8_t *p = buf;
	size_t done = 0;
	ssize_t st;

	if (c == NULL)
		return -EBADF;
	st = send_status(c);
	if (st < 0)
		return st;
	if (c->sq_bytes >= t->conf.snd_buf)
		return -EAGAIN;
	n = RTE_MIN(n, (size_t)(t->conf.snd_buf - c->sq_bytes));
	while (done < n) {
		struct rte_mbuf *m = c->sq_tail;
		uint16_t room = m != NULL ? rte_pktmbuf_tailroom(m) : 0;
		char *dst;

		if (room == 0) {
			if (t->mbufs_held >= t->conf.mem_mbufs)
				break;
			m = rte_pktmbuf_alloc(nl->pool);
			if (m == NULL)
				break;
			if (c->sq_tail != NULL)
				c->sq_tail->next = m;
			else
				c->sq_head = m;
			c->sq_tail = m;
			c->sq_mbufs++;
			t->mbufs_held++;
			room = rte_pktmbuf_tailroom(m);
		}
		room = (uint16_t)RTE_MIN((size_t)room, n - done);
		dst = rte_pktmbuf_append(m, room);
		memcpy(dst, p + done, room);
		done += room;
		c->sq_bytes += room;
	}
	if (done == 0)
		return -EAGAIN;
	tcp_dirty(nl, c);
	return (ssize_t)done;
}

ssize_t
net_tcp_send_mbuf(struct net_lcore *nl, int64_t h, struct rte_mbuf *m)
{
	struct tcp_conn *c = conn_of(nl, h);
	ssize_t total = 0;

	if (c == NULL) {
		rte_pktmbuf_free(m);
		return -EBADF;
	}
	if (c->sq_bytes + rte_pktmbuf_pkt_len(m) > nl->tcp->conf.snd_buf) {
		rte_pktmbuf_free(m);
		return send_status(c) < 0 ? send_status(c) : -EAGAIN;
	}
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		ssize_t k = net_tcp_send(nl, h, rte_pktmbuf_mtod(s, void *), s->data_len);

		if (k < 0) {
			rte_pktmbuf_free(m);
			return total > 0 ? total : k;
		}
		total += k;
		if ((size_t)k < s->data_len)
			break;
	}
	rte_pktmbuf_free(m);
	return total;
}

static void
queue_fin(struct net_lcore *nl, struct tcp_conn *c)
{
	c->flags |= TF_FIN_QUEUED;
	tcp_dirty(nl, c);
}

int
net_tcp_shutdown_write(struct net_lcore *nl, int64_t h)
{
	struct tcp_conn *c = conn_of(nl, h);

	if (c == NULL)
		return -EBADF;
	if (send_status(c) < 0)
		return (int)send_status(c);
	queue_fin(nl, c);
	return 0;
}

void
net_tcp_close(struct net_lcore *nl, int64_t h, bool abort)
{
	struct tcp_conn *c = conn_of(nl, h);

	if (c == NULL)
		return;
	c->flags &= ~(TF_APP | TF_WANT_WRITE);
	c->events = 0;
	switch (c->state) {
	case NET_TCP_CLOSED:
		tcp_conn_free(nl, c);
		return;
	case NET_TCP_TIME_WAIT:
		if (c->t_2msl == 0)
			tcp_conn_free(nl, c);
		return;
	case NET_TCP_SYN_SENT:
		/* RFC 9293 3.10.4 CLOSE, SYN-SENT: "Delete the TCB". */
		tcp_conn_free(nl, c);
		return;
	default:
		break;
	}
	/* RFC 9293 3.10.4: closing with unread data, or an ABORT, resets: "If
	 * the user calls CLOSE ... while receive data is pending, a RST
	 * should be sent" (RFC 1122 4.2.2.13). */
	if (abort || c->rq_bytes > 0) {
		tcp_send_ctl(nl, c, c->snd_max, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
		nl->tcp->cnt.resets_sent++;
		tcp_conn_free(nl, c);
		return;
	}
	if (c->state == NET_TCP_ESTABLISHED || c->state == NET_TCP_CLOSE_WAIT ||
	    c->state == NET_TCP_SYN_RECEIVED) {
		if (!(c->flags & TF_FIN_QUEUED))
			queue_fin(nl, c);
	}
	/* FIN_WAIT_*, CLOSING, LAST_ACK: the stack finishes alone. A
	 * FIN_WAIT_2 without a peer FIN ends on its timer. */
	if (c->state == NET_TCP_FIN_WAIT_2 && c->t_2msl == 0) {
		c->t_2msl = nl->now_ms + nl->tcp->conf.fin_wait2_ms;
		tcp_timer_arm(nl->tcp, c->t_2msl);
	}
}

int
net_tcp_info(const struct net_lcore *nl, int64_t h, struct net_tcp_info *info)
{
	const struct tcp_conn *c = conn_of(nl, h);

	if (c == NULL)
		return -EBADF;
	*info = (struct net_tcp_info){
		.state = c->state,
		.snd_una = c->snd_una,
		.snd_nxt = c->snd_nxt,
		.snd_max = c->snd_max,
		.snd_wnd = c->snd_wnd,
		.cwnd = c->cwnd,
		.ssthresh = c->ssthresh,
		.rto_ms = c->rto_ms,
		.srtt_ms = c->srtt8 / 8,
		.rcv_nxt = c->rcv_nxt,
		.rcv_wnd = c->rcv_adv - c->rcv_nxt,
		.snd_wscale = c->snd_wscale,
		.rcv_wscale = c->rcv_wscale,
		.ts = (c->flags & TF_TS) != 0,
		.sack = (c->flags & TF_SACK) != 0,
		.mss = c->smss,
		.unread = c->rq_bytes,
		.unsent = c->sq_bytes,
		.ooo = c->n_ooo,
		.backoff = c->backoff,
		.dupacks = c->dupacks,
		.in_recovery = (c->flags & TF_RECOVERY) != 0,
	};
	return 0;
}

int
net_tcp_notify(struct net_lcore *nl, int64_t h)
{
	struct tcp_conn *c = conn_of(nl, h);
	uint8_t ev = 0;

	if (c == NULL)
		return -EBADF;
	if (c->state == NET_TCP_CLOSED)
		ev |= NET_TCP_EV_CLOSED;
	if (c->rq_bytes > 0 || (c->flags & TF_FIN_RCVD))
		ev |= NET_TCP_EV_READ;
	if (ev != 0)
		tcp_event(nl, c, ev);
	return 0;
}

uint32_t
net_tcp_conns(const struct net_lcore *nl, uint32_t *half_open)
{
	if (half_open != NULL)
		*half_open = nl->tcp->n_half_open;
	return nl->tcp->n_used;
}

uint32_t
net_tcp_active(const struct net_lcore *nl)
{
	const struct tcp_lcore *t = nl->tcp;
	uint32_t n = 0;

	for (uint32_t i = t->used_head; i != TCP_NIL; i = t->conns[i].lnext)
		if (t->conns[i].state != NET_TCP_TIME_WAIT && t->conns[i].state != NET_TCP_CLOSED)
			n++;
	return n;
}

uint32_t
net_tcp_mbufs_held(const struct net_lcore *nl)
{
	return nl->tcp->mbufs_held;
}

const struct net_tcp_counters *
net_tcp_counters(const struct net_lcore *nl)
{
	return &nl->tcp->cnt;
}
