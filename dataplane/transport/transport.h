/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transports behind one function table (DESIGN.md "Transports"): the I/O
 * lcore sees connections as opaque handles carrying its own slot number, and
 * moves bytes with recv/send. `kernel` is epoll + kernel TCP with one
 * SO_REUSEPORT listener per I/O lcore; `dpdk` (sluice's own TCP/IP stack on
 * DPDK ports) plugs in behind the same table.
 *
 * One struct transport per I/O lcore; not thread-safe.
 */
#ifndef SLUICE_TRANSPORT_H
#define SLUICE_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define TP_EV_ACCEPT 0x1 /* a new connection: handle in .handle */
#define TP_EV_READ 0x2   /* bytes (or EOF) to read */
#define TP_EV_WRITE 0x4  /* room to write again */
#define TP_EV_CLOSED 0x8 /* reset or error: the connection is gone */

struct tp_event {
	uint32_t flags;
	uint32_t user;    /* the I/O lcore's slot, set with watch (accept: unset) */
	int64_t handle;   /* transport connection handle */
	uint32_t peer_ip; /* accept: IPv4 source, network order */
	uint16_t peer_port;
};

struct transport;

struct transport_ops {
	const char *name;
	/* Listen on addr:port (IPv4, network order). 0 or -errno. */
	int (*listen)(struct transport *t, uint32_t addr, uint16_t port);
	/* Wait up to timeout_ms (0: poll) for events; returns how many (<= n). */
	int (*poll)(struct transport *t, struct tp_event *ev, int n, int timeout_ms);
	/* Tag a connection with the I/O lcore's slot; want_write: report TP_EV_WRITE. */
	void (*watch)(struct transport *t, int64_t handle, uint32_t user, bool want_write);
	/* > 0 bytes, 0 on EOF, -EAGAIN when nothing now, other -errno on error. */
	ssize_t (*recv)(struct transport *t, int64_t handle, void *buf, size_t n);
	/* bytes sent (may be short), -EAGAIN when none fit, other -errno on error. */
	ssize_t (*send)(struct transport *t, int64_t handle, const void *buf, size_t n);
	/* Close; abort = RST instead of FIN. */
	void (*close)(struct transport *t, int64_t handle, bool abort);
	/* The transport's own counters as one JSON object (NULL: none). */
	void (*stats_json)(struct transport *t, FILE *out);
	void (*destroy)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	void *priv;
};

/* Kernel sockets. NULL with errno on failure. */
struct transport *transport_kernel_create(unsigned max_conns);

static inline int
tp_poll(struct transport *t, struct tp_event *ev, int n, int timeout_ms)
{
	return t->ops->poll(t, ev, n, timeout_ms);
}

static inline ssize_t
tp_recv(struct transport *t, int64_t h, void *buf, size_t n)
{
	return t->ops->recv(t, h, buf, n);
}

static inline ssize_t
tp_send(struct transport *t, int64_t h, const void *buf, size_t n)
{
	return t->ops->send(t, h, buf, n);
}

#endif
