/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel transport: epoll, non-blocking TCP sockets, one SO_REUSEPORT
 * listener per I/O lcore so the kernel spreads connections across lcores.
 * The development transport and the measured baseline for the dpdk one.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

#define LISTEN_USER UINT64_MAX

struct kt {
	struct transport t;
	int ep;
	int lfd;
	unsigned max_conns;
	unsigned conns;
	struct epoll_event evs[256];
};

static struct kt *
kt_of(struct transport *t)
{
	return t->priv;
}

static int
kt_listen(struct transport *t, uint32_t addr, uint16_t port)
{
	struct kt *k = kt_of(t);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = addr,
				  .sin_port = port };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_USER };
	int one = 1, fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1024) ||
	    epoll_ctl(k->ep, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		close(fd);
		return err;
	}
	k->lfd = fd;
	return 0;
}

/* Accept what is pending; each becomes one TP_EV_ACCEPT. */
static int
kt_accept(struct kt *k, struct tp_event *ev, int n)
{
	int got = 0;

	while (got < n) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP };
		int one = 1;
		int fd = accept4(k->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break; /* EAGAIN, or transient errors (EMFILE): retried on the next poll */
		if (k->conns >= k->max_conns) {
			/* Over the cap: refuse with RST rather than hold a half-served socket. */
			struct linger lg = { 1, 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		e.data.u64 = (uint64_t)fd << 32 | UINT32_MAX;
		if (epoll_ctl(k->ep, EPOLL_CTL_ADD, fd, &e)) {
			close(fd);
			continue;
		}
		k->conns++;
		ev[got++] = (struct tp_event){ .flags = TP_EV_ACCEPT,
					       .user = UINT32_MAX,
					       .handle = fd,
					       .peer_ip = sa.sin_addr.s_addr,
					       .peer_port = sa.sin_port };
	}
	return got;
}

static int
kt_poll(struct transport *t, struct tp_event *ev, int n, int timeout_ms)
{
	struct kt *k = kt_of(t);
	int i, got = 0, ready;

	if (n > (int)(sizeof(k->evs) / sizeof(k->evs[0])))
		n = (int)(sizeof(k->evs) / sizeof(k->evs[0]));
	ready = epoll_wait(k->ep, k->evs, n, timeout_ms);
	for (i = 0; i < ready && got < n; i++) {
		struct epoll_event *e = &k->evs[i];

		if (e->data.u64 == LISTEN_USER) {
			got += kt_accept(k, ev + got, n - got);
			continue;
		}
		ev[got] = (struct tp_event){
			.handle = (int64_t)(e->data.u64 >> 32),
			.user = (uint32_t)e->data.u64,
		};
		if (e->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
			ev[got].flags |= TP_EV_READ;
		if (e->events & EPOLLOUT)
			ev[got].flags |= TP_EV_WRITE;
		if (e->events & EPOLLERR)
			ev[got].flags |= TP_EV_CLOSED;
		got++;
	}
	return got;
}

static void
kt_watch(struct transport *t, int64_t h, uint32_t user, bool want_write)
{
	struct epoll_event e = {
		.events = EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0),
		.data.u64 = (uint64_t)h << 32 | user,
	};

	epoll_ctl(kt_of(t)->ep, EPOLL_CTL_MOD, (int)h, &e);
}

static ssize_t
kt_recv(struct transport *t, int64_t h, void *buf, size_t n)
{
	ssize_t r;

	(void)t;
	r = recv((int)h, buf, n, 0);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return r;
}

static ssize_t
kt_send(struct transport *t, int64_t h, const void *buf, size_t n)
{
	ssize_t r;

	(void)t;
	r = send((int)h, buf, n, MSG_NOSIGNAL);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return r;
}

static void
kt_close(struct transport *t, int64_t h, bool abort)
{
	struct kt *k = kt_of(t);

	if (abort) {
		struct linger lg = { 1, 0 };

		setsockopt((int)h, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	epoll_ctl(k->ep, EPOLL_CTL_DEL, (int)h, NULL);
	close((int)h);
	k->conns--;
}

static void
kt_destroy(struct transport *t)
{
	struct kt *k = kt_of(t);

	if (k->lfd >= 0)
		close(k->lfd);
	close(k->ep);
	free(k);
}

static const struct transport_ops kernel_ops = {
	.name = "kernel",
	.listen = kt_listen,
	.poll = kt_poll,
	.watch = kt_watch,
	.recv = kt_recv,
	.send = kt_send,
	.close = kt_close,
	.destroy = kt_destroy,
};

struct transport *
transport_kernel_create(unsigned max_conns)
{
	struct kt *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->ep = epoll_create1(EPOLL_CLOEXEC);
	if (k->ep < 0) {
		free(k);
		return NULL;
	}
	k->lfd = -1;
	k->max_conns = max_conns;
	k->t.ops = &kernel_ops;
	k->t.priv = k;
	return &k->t;
}
