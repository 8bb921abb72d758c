/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice admin: one request over sluiced's control socket (AF_UNIX
 * SOCK_SEQPACKET, one schema/control.fbs message per datagram), its answer
 * verified with ctl_verify() before anything of it is read, then printed.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli_cmds.h"
#include "ctl_build.h"

static uint8_t msg_buf[CTL_DGRAM_BYTES];

static const char *const cmd_names[] = {
	[CLI_ADMIN_QUEUES] = "queues",   [CLI_ADMIN_PAUSE] = "pause",
	[CLI_ADMIN_RESUME] = "resume",   [CLI_ADMIN_PURGE] = "purge",
	[CLI_ADMIN_REDRIVE] = "redrive",
};

static const enum ctl_msg request_of[] = {
	[CLI_ADMIN_QUEUES] = CTL_MSG_LIST_QUEUES,    [CLI_ADMIN_PAUSE] = CTL_MSG_PAUSE_QUEUE,
	[CLI_ADMIN_RESUME] = CTL_MSG_RESUME_QUEUE,   [CLI_ADMIN_PURGE] = CTL_MSG_PURGE_QUEUE,
	[CLI_ADMIN_REDRIVE] = CTL_MSG_REDRIVE_QUEUE,
};

static int
sock_error(const struct cli_admin *o, const char *what, int e)
{
	const char *hint = "";

	if (e == ENOENT)
		hint = " (is sluiced running with --control-socket at this path?)";
	else if (e == EACCES || e == EPERM)
		hint = " (the socket is mode 0600: run as root or as sluiced's user)";
	else if (e == ECONNREFUSED)
		hint = " (nobody listens there: the socket of a sluiced that stopped?)";
	fprintf(stderr, "sluice admin: %s %s: %s%s\n", what, o->socket, strerror(e), hint);
	return CLI_EXIT_CONN;
}

static void
print_json(const struct wire_ctl_queue_info *q)
{
	struct wire_str name = wire_ctl_queue_info_name(q);
	uint64_t v[CTL_QUEUE_VALUES];
	unsigned i;

	ctl_queue_info_values(q, v);
	/* Names are verified: [A-Za-z0-9_.:-] needs no JSON escaping. */
	printf("{\"queue\":\"%.*s\",\"paused\":%s", (int)name.len, name.p,
	       wire_ctl_queue_info_paused(q) ? "true" : "false");
	for (i = 0; i < CTL_QUEUE_VALUES; i++)
		printf(",\"%s\":%" PRIu64, ctl_queue_info_names[i], v[i]);
	putchar('}');
}

static void
print_list(const struct cli_admin *o, const struct wire_ctl_queue_list *l)
{
	uint32_t i, n = wire_ctl_queue_list_queues_len(l);
	int w = 5;

	for (i = 0; i < n; i++) {
		const struct wire_ctl_queue_info *q = wire_ctl_queue_list_queues_at(l, i);

		if (o->json) {
			print_json(q);
			putchar('\n');
		} else if ((int)wire_ctl_queue_info_name(q).len > w) {
			w = (int)wire_ctl_queue_info_name(q).len;
		}
	}
	if (o->json)
		return;
	printf("%-*s %-6s %8s %8s %8s %8s %8s %12s\n", w, "QUEUE", "STATE", "READY", "DELAYED",
	       "RETRY", "LEASED", "DEAD", "BYTES");
	for (i = 0; i < n; i++) {
		const struct wire_ctl_queue_info *q = wire_ctl_queue_list_queues_at(l, i);
		struct wire_str name = wire_ctl_queue_info_name(q);

		printf("%-*.*s %-6s %8" PRIu32 " %8" PRIu32 " %8" PRIu32 " %8" PRIu32 " %8" PRIu32
		       " %12" PRIu64 "\n",
		       w, (int)name.len, name.p,
		       wire_ctl_queue_info_paused(q) ? "paused" : "active",
		       wire_ctl_queue_info_ready(q), wire_ctl_queue_info_delayed(q),
		       wire_ctl_queue_info_retry_wait(q), wire_ctl_queue_info_leased(q),
		       wire_ctl_queue_info_dead(q), wire_ctl_queue_info_bytes(q));
	}
}

static void
print_result(const struct cli_admin *o, const struct wire_ctl_action_result *r)
{
	const struct wire_ctl_queue_info *q = wire_ctl_action_result_queue(r);
	struct wire_str name = wire_ctl_queue_info_name(q);
	uint32_t count = wire_ctl_action_result_count(r);

	if (o->json) {
		printf("{\"action\":\"%s\",\"count\":%" PRIu32 ",\"queue\":", cmd_names[o->cmd],
		       count);
		print_json(q);
		printf("}\n");
		return;
	}
	switch (o->cmd) {
	case CLI_ADMIN_PAUSE:
	case CLI_ADMIN_RESUME:
		printf("%s %.*s: %" PRIu32 " ready, %" PRIu32 " leased\n",
		       o->cmd == CLI_ADMIN_PAUSE ? "paused" : "resumed", (int)name.len, name.p,
		       wire_ctl_queue_info_ready(q), wire_ctl_queue_info_leased(q));
		break;
	case CLI_ADMIN_PURGE:
		printf("purged %" PRIu32 " job(s) from %.*s; kept %" PRIu32 " leased, %" PRIu32
		       " dead\n",
		       count, (int)name.len, name.p, wire_ctl_queue_info_leased(q),
		       wire_ctl_queue_info_dead(q));
		break;
	default:
		printf("redrove %" PRIu32 " dead job(s) of %.*s to ready; %" PRIu32
		       " ready, %" PRIu32 " dead now\n",
		       count, (int)name.len, name.p, wire_ctl_queue_info_ready(q),
		       wire_ctl_queue_info_dead(q));
	}
}

/* Exit code for an Error answer: refused requests 1, access and load 3. */
static int
print_error(const struct wire_ctl_error *e)
{
	unsigned code = wire_ctl_error_code(e);
	struct wire_str m = wire_ctl_error_message(e);

	fprintf(stderr, "sluice admin: sluiced refused: %s: %.*s\n", ctl_status_name(code),
		(int)(m.p ? m.len : 0), m.p ? m.p : "");
	return code == CTL_STATUS_FORBIDDEN || code == CTL_STATUS_BUSY ? CLI_EXIT_CONN
								       : CLI_EXIT_JOB;
}

/* One request, one answer in msg_buf: its length, or -exit code. */
static ssize_t
exchange(const struct cli_admin *o, uint64_t seq)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_msg_in m = { .type = request_of[o->cmd], .seq = seq };
	struct pollfd pfd;
	ssize_t n;
	int fd, send_errno = 0, rc;

	if (strlen(o->socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr,
			"sluice admin: --control-socket: the path is longer than %zu bytes\n",
			sizeof(sa.sun_path) - 1);
		return -CLI_EXIT_USAGE;
	}
	strcpy(sa.sun_path, o->socket);
	m.u.queue.name = wire_cstr(o->queue);
	m.u.queue.max = o->max;
	n = ctl_build(msg_buf, sizeof(msg_buf), &m);
	if (n <= 0) {
		fprintf(stderr, "sluice admin: cannot build the request: %s\n",
			wire_error_name((int)n));
		return -CLI_EXIT_USAGE;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -sock_error(o, "socket for", errno);
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = sock_error(o, "cannot connect to", errno);
		close(fd);
		return -rc;
	}
	/* A refused peer is told why before its request is read: read that too. */
	if (send(fd, msg_buf, (size_t)n, MSG_NOSIGNAL) != n)
		send_errno = errno;
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	rc = poll(&pfd, 1, (int)o->timeout_ms);
	n = rc > 0 ? recv(fd, msg_buf, sizeof(msg_buf), MSG_TRUNC) : -1;
	/* A socket closed with our request unread reports ECONNRESET before the answer. */
	if (n < 0 && rc > 0 && errno == ECONNRESET)
		n = recv(fd, msg_buf, sizeof(msg_buf), MSG_TRUNC | MSG_DONTWAIT);
	if (rc == 0) {
		fprintf(stderr, "sluice admin: no answer from %s within %" PRIu32 " ms\n",
			o->socket, o->timeout_ms);
		n = -CLI_EXIT_CONN;
	} else if (n <= 0) {
		rc = n < 0 ? errno : send_errno ? send_errno : ECONNRESET;
		fprintf(stderr, "sluice admin: %s closed the connection without an answer: %s\n",
			o->socket, strerror(rc));
		n = -CLI_EXIT_CONN;
	} else if ((size_t)n > sizeof(msg_buf)) {
		fprintf(stderr,
			"sluice admin: an answer of %zd bytes is beyond the protocol's %u\n", n,
			CTL_MSG_BYTES_MAX + 4);
		n = -CLI_EXIT_CONN;
	}
	close(fd);
	return n;
}

int
cli_cmd_admin(struct cli_admin *o)
{
	struct timespec ts;
	const struct wire_ctl_control *r;
	uint64_t seq;
	uint32_t at = 0;
	ssize_t n;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	seq = (uint64_t)ts.tv_sec << 20 ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 40;
	n = exchange(o, seq);
	if (n < 0)
		return (int)-n;
	rc = ctl_verify(msg_buf, (size_t)n, &at);
	if (rc) {
		fprintf(stderr,
			"sluice admin: the answer is not a valid control message: %s at byte "
			"%" PRIu32 "\n",
			wire_error_name(rc), at);
		return CLI_EXIT_CONN;
	}
	r = ctl_root(msg_buf);
	if (ctl_error(r))
		return print_error(ctl_error(r));
	if (wire_ctl_control_seq(r) != seq) {
		fprintf(stderr,
			"sluice admin: the answer is for another request (seq %" PRIu64 ")\n",
			wire_ctl_control_seq(r));
		return CLI_EXIT_CONN;
	}
	if (o->cmd == CLI_ADMIN_QUEUES && ctl_queue_list(r)) {
		print_list(o, ctl_queue_list(r));
		return CLI_EXIT_OK;
	}
	if (o->cmd != CLI_ADMIN_QUEUES && ctl_action_result(r)) {
		print_result(o, ctl_action_result(r));
		return CLI_EXIT_OK;
	}
	fprintf(stderr, "sluice admin: unexpected answer %s to %s\n",
		ctl_msg_name(wire_ctl_control_msg_type(r)), ctl_msg_name(request_of[o->cmd]));
	return CLI_EXIT_CONN;
}
