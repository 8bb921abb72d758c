/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ktcp_peer: the kernel-TCP twin of tests/net/tcp_peer for benchmarks: the
 * same sink protocol ("bytes <n> fnv <hex>\n" at the peer's FIN) and the same
 * client (C connections at a time, T in all, N bytes each in S-byte writes),
 * over kernel sockets with epoll on one thread. Run it pinned (taskset) on
 * the cores the stack's run used, so the ratio compares like with like.
 *
 * Usage: ktcp_peer --listen IP:PORT --seconds N
 *        ktcp_peer --connect IP:PORT --conns C --total T --bytes N --msg S
 * The client prints one JSON line of figures; exit 0 when every connection
 * got the right answer, 1 otherwise, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../net/stream.h"

#define MAXC 65536
#define BUF 16384

struct kc {
	bool used, client, shut;
	uint64_t in, out, want, hash;
	char line[64];
	unsigned line_len;
};

static struct kc conns[MAXC];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_addr(const char *s, struct sockaddr_in *sa)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strrchr(buf, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
	return inet_pton(AF_INET, buf, &sa->sin_addr) == 1 ? 0 : -1;
}

static void
sink_read(int ep, int fd)
{
	struct kc *c = &conns[fd];
	uint8_t buf[BUF];

	for (;;) {
		ssize_t k = recv(fd, buf, sizeof(buf), 0);

		if (k > 0) {
			c->in += (uint64_t)k;
			c->hash = fnv(c->hash, buf, (size_t)k);
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (k == 0) {
			char ans[64];
			int n = snprintf(ans, sizeof(ans), "bytes %" PRIu64 " fnv %016" PRIx64 "\n",
					 c->in, c->hash);

			/* a short answer on a fresh socket: fits the send buffer */
			if (send(fd, ans, (size_t)n, MSG_NOSIGNAL) != n)
				fprintf(stderr, "ktcp_peer: short answer\n");
		}
		epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		c->used = false;
		return;
	}
}

static int
server(const struct sockaddr_in *sa, unsigned seconds)
{
	int one = 1, lfd, ep;
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];
	double end = now_s() + seconds;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (const struct sockaddr *)sa, sizeof(*sa)) || listen(lfd, 4096)) {
		perror("ktcp_peer: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening\n");
	fflush(stdout);
	while (now_s() < end) {
		int n = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd != lfd) {
				sink_read(ep, fd);
				continue;
			}
			for (;;) {
				int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
				struct epoll_event ce = { .events = EPOLLIN };

				if (cfd < 0)
					break;
				if (cfd >= MAXC) {
					close(cfd);
					continue;
				}
				setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				memset(&conns[cfd], 0, sizeof(conns[cfd]));
				conns[cfd].used = true;
				conns[cfd].hash = FNV_OFFSET;
				ce.data.fd = cfd;
				epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ce);
			}
		}
	}
	close(ep);
	close(lfd);
	return 0;
}

struct cl {
	const struct sockaddr_in *sa;
	unsigned conns, total, started, active, ok, failed;
	uint64_t bytes, want;
	uint32_t msg;
	int ep;
};

static void
cl_start(struct cl *k)
{
	while (k->active < k->conns && k->started < k->total) {
		int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };

		k->started++;
		if (fd < 0 || fd >= MAXC) {
			k->failed++;
			if (fd >= 0)
				close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (const struct sockaddr *)k->sa, sizeof(*k->sa)) != 0 &&
		    errno != EINPROGRESS) {
			k->failed++;
			close(fd);
			continue;
		}
		memset(&conns[fd], 0, sizeof(conns[fd]));
		conns[fd].used = conns[fd].client = true;
		conns[fd].want = k->want;
		conns[fd].hash = FNV_OFFSET;
		ev.data.fd = fd;
		epoll_ctl(k->ep, EPOLL_CTL_ADD, fd, &ev);
		k->active++;
	}
}

static void
cl_done(struct cl *k, int fd, bool ok)
{
	epoll_ctl(k->ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	conns[fd].used = false;
	k->active--;
	if (ok) {
		k->ok++;
		k->bytes += conns[fd].out;
	} else {
		k->failed++;
	}
}

static void
cl_event(struct cl *k, int fd, uint32_t events)
{
	struct kc *c = &conns[fd];
	uint8_t buf[BUF];

	if (events & EPOLLOUT) {
		while (c->out < c->want) {
			uint32_t n =
				(uint32_t)(c->want - c->out < k->msg ? c->want - c->out : k->msg);
			ssize_t w;

			for (uint32_t i = 0; i < n; i++)
				buf[i] = pattern(c->out + i);
			w = send(fd, buf, n, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			c->hash = fnv(c->hash, buf, (size_t)w);
			c->out += (uint64_t)w;
		}
		if (c->out == c->want && !c->shut) {
			struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

			shutdown(fd, SHUT_WR);
			c->shut = true;
			epoll_ctl(k->ep, EPOLL_CTL_MOD, fd, &ev);
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t r = recv(fd, buf, sizeof(buf), 0);

			if (r > 0) {
				for (ssize_t i = 0; i < r && c->line_len + 1 < sizeof(c->line); i++)
					c->line[c->line_len++] = (char)buf[i];
				c->line[c->line_len] = '\0';
				continue;
			}
			if (r < 0 && errno == EAGAIN)
				return;
			if (r == 0) {
				char want[64];

				snprintf(want, sizeof(want),
					 "bytes %" PRIu64 " fnv %016" PRIx64 "\n", c->out, c->hash);
				cl_done(k, fd, c->shut && strcmp(want, c->line) == 0);
			} else {
				cl_done(k, fd, false);
			}
			return;
		}
	}
}

static int
client(const struct sockaddr_in *sa, unsigned conns_n, unsigned total, uint64_t bytes, uint32_t msg)
{
	struct cl k = { .sa = sa, .conns = conns_n, .total = total, .want = bytes, .msg = msg };
	struct epoll_event evs[256];
	double t0 = now_s(), secs;

	k.ep = epoll_create1(0);
	cl_start(&k);
	while (k.active > 0) {
		int n = epoll_wait(k.ep, evs, 256, 1000);

		for (int i = 0; i < n; i++)
			cl_event(&k, evs[i].data.fd, evs[i].events);
		cl_start(&k);
		if (now_s() - t0 > 600) {
			fprintf(stderr, "ktcp_peer: client gave up after 600 s\n");
			return 1;
		}
	}
	secs = now_s() - t0;
	printf("{\"conns_ok\": %u, \"conns_failed\": %u, \"bytes\": %" PRIu64
	       ", \"seconds\": %.3f, \"mbit_s\": %.1f, \"msgs_s\": %.0f, \"conns_s\": %.1f}\n",
	       k.ok, k.failed, k.bytes, secs, (double)k.bytes * 8 / secs / 1e6,
	       (double)k.bytes / msg / secs, k.ok / secs);
	return k.failed == 0 && k.ok == total ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	const char *listen_at = NULL, *connect_to = NULL;
	unsigned seconds = 0, conns_n = 1, total = 0;
	uint64_t bytes = 0;
	uint32_t msg = 256;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--listen"))
			listen_at = v;
		else if (!strcmp(k, "--connect"))
			connect_to = v;
		else if (!strcmp(k, "--seconds"))
			seconds = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(k, "--conns"))
			conns_n = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(k, "--total"))
			total = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(k, "--bytes"))
			bytes = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--msg"))
			msg = (uint32_t)strtoul(v, NULL, 10);
		else
			goto usage;
	}
	if (total == 0)
		total = conns_n;
	if (msg == 0 || msg > BUF || conns_n == 0)
		goto usage;
	if (listen_at != NULL && seconds > 0 && parse_addr(listen_at, &sa) == 0)
		return server(&sa, seconds);
	if (connect_to != NULL && parse_addr(connect_to, &sa) == 0)
		return client(&sa, conns_n, total, bytes, msg);
usage:
	fprintf(stderr,
		"usage: ktcp_peer --listen IP:PORT --seconds N\n"
		"       ktcp_peer --connect IP:PORT --conns C --total T --bytes N --msg S\n");
	return 2;
}
