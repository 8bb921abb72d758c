/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket, main lcore side (ctlsrv.h): the socket, its connections,
 * requests routed to the worker lcores that own the queues, answers.
 *
 * One connection's life:
 *
 *   accept ─► SO_PEERCRED uid permitted? ─no─► Error{Forbidden}, close
 *                 │ yes
 *                 ▼
 *   IDLE ──datagram──► verify ─bad─► Error{Invalid, "<check> at byte <n>"} ─► IDLE
 *     ▲                  │ ok: a request naming known queues
 *     │                  ▼
 *     └──answer───── BUSY: one MSG_CTL_* per queue out to its worker;
 *                    answered when every MSG_CTL_DONE is back
 *
 * A BUSY connection is not read (a client has one request in flight), and
 * its slot is not reused before every answer is back, even if the peer
 * left: the workers write into the slot's stats.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include "config.h"
#include "ctl_build.h"
#include "ctlsrv.h"
#include "lcore.h"

#define WORKERS_MAX SLUICED_WORKERS_MAX
/* Actions in flight at once: one request per client, one action per queue. */
#define INFLIGHT_MAX (CTLSRV_CLIENTS_MAX * CTL_QUEUES_MAX)
#define RING_SIZE 8192
#define BURST 32
#define ACCEPTS_PER_POLL 8
_Static_assert(CFG_QUEUES_MAX <= CTL_QUEUES_MAX, "a QueueList holds every queue");
_Static_assert(INFLIGHT_MAX < RING_SIZE, "control ring size: every action in flight fits");

/* Counters, one row each: name in the JSON line. */
#define CTLSRV_COUNTERS(X)                                                                         \
	X(accepted)      /* connections from permitted peers */                                    \
	X(refused_peer)  /* SO_PEERCRED uid not permitted */                                       \
	X(refused_busy)  /* CTLSRV_CLIENTS_MAX connections already open */                         \
	X(requests)      /* requests routed to workers */                                          \
	X(answered)      /* answers sent, errors included */                                       \
	X(ctld_requests) /* the same two for sluice-ctld's link (not in the two above) */          \
	X(ctld_answered)                                                                           \
	X(not_request)   /* a valid message that is a response */                                  \
	X(unknown_queue) /* a request naming no configured queue */                                \
	X(rings_full)    /* the workers' rings had no room: Error{Busy} */                         \
	X(send_failed)   /* a peer that did not take its answer: closed */

struct ctlsrv_stats {
#define COUNTER_FIELD(name) uint64_t name;
	CTLSRV_COUNTERS(COUNTER_FIELD)
#undef COUNTER_FIELD
	uint64_t invalid[WIRE_E__COUNT]; /* malformed requests, by verifier check */
};

/* One job as a JobList shows it (filled by the worker that owns the queue). */
struct ctl_job_row {
	struct wire_jobid id;
	uint8_t state; /* JobInfo's: engine state + 1 */
	uint8_t priority;
	uint16_t dead_reason, attempts, max_attempts;
	uint32_t payload_bytes;
	uint64_t enqueued_ms; /* engine (monotonic) clock; the main lcore makes it wall */
	char type[WIRE_TYPE_NAME_MAX + 1];
	char ctype[WIRE_CONTENT_TYPE_MAX + 1];
};

/* A JobRequest on its way to the worker and back: the main lcore leaves it alone meanwhile. */
struct ctl_job_op {
	uint8_t op; /* 1 show, 2 dead, 3 retry, 4 delete */
	struct wire_jobid id;
	uint32_t skip, max;
	int rc; /* 0, -ENOENT (no such job), -EBUSY (retry: not dead; delete: leased) */
	uint32_t n, total;
	struct ctl_job_row rows[CTL_JOBS_MAX];
};

struct ctl_client {
	int fd;        /* -1: free */
	uint32_t gen;  /* request number: an answer from an older one is dropped */
	bool busy;     /* a request is with the workers */
	bool gone;     /* the peer left while busy: free the slot once answered */
	bool external; /* fd is the caller's (ctlsrv_external_open): not read, not closed */
	uint8_t type;  /* enum ctl_msg of the request in flight */
	uint16_t n;    /* queues it covers */
	uint16_t pending;
	uint64_t seq;
	uint32_t count;                 /* jobs purged or redriven */
	uint16_t queue[CTL_QUEUES_MAX]; /* appliance queue index, by position */
	struct eng_queue_stats st[CTL_QUEUES_MAX];
	struct ctl_job_op job; /* JobRequest */
};

struct ctlsrv {
	struct appliance *a;
	unsigned n_workers;
	int lfd;
	uid_t uid; /* sluiced's effective uid */
	dev_t dev; /* the socket file created, removed only if still there */
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct rte_ring *req[WORKERS_MAX];
	struct rte_ring *resp[WORKERS_MAX];
	struct ctlsrv_stats st;
	struct ctl_client c[CTLSRV_CLIENTS_MAX];
	struct ctl_queue_info_in info[CTL_QUEUES_MAX];
	struct ctl_job_info_in jobs[CTL_JOBS_MAX];
	uint8_t rx[CTL_DGRAM_BYTES];
	uint8_t tx[CTL_DGRAM_BYTES];
};

/* The worker lcore that owns appliance queue q, and q's index in that worker's engine. */
static inline unsigned
queue_owner(const struct appliance *a, unsigned q)
{
	return a->queues[q].worker;
}

static inline uint16_t
queue_engine_index(const struct appliance *a, unsigned q)
{
	return a->queues[q].index;
}

static int errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- socket ---- */

/* A socket file at path: stale (nobody listening) is removed; anything else is an error. */
static int
clear_stale(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : errf(err, errlen, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(sb.st_mode))
		return errf(err, errlen,
			    "--control-socket %s exists and is not a socket: remove it or choose "
			    "another path",
			    path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, errlen, "control socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return errf(err, errlen,
			    "--control-socket %s: another process is serving it (another sluiced?)",
			    path);
	if (unlink(path) != 0)
		return errf(err, errlen, "--control-socket %s: cannot remove the stale socket: %s",
			    path, strerror(errno));
	return 0;
}

static int
open_socket(struct ctlsrv *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	mode_t old;
	int rc;

	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path))
		return errf(err, errlen, "--control-socket: the path must be 1-%zu bytes",
			    sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	strcpy(s->path, path);
	if (clear_stale(path, &sa, err, errlen))
		return -1;
	s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return errf(err, errlen, "control socket: %s", strerror(errno));
	/* Created 0600: no window in which another user could connect. */
	old = umask(0177);
	rc = bind(s->lfd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0)
		return errf(err, errlen, "--control-socket %s: cannot bind: %s", path,
			    strerror(errno));
	if (lstat(path, &sb) != 0 || (sb.st_mode & 0777) != 0600) {
		unlink(path);
		return errf(err, errlen, "--control-socket %s: not created with mode 0600", path);
	}
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	if (listen(s->lfd, CTLSRV_CLIENTS_MAX) != 0) {
		unlink(path);
		s->ino = 0;
		return errf(err, errlen, "--control-socket %s: cannot listen: %s", path,
			    strerror(errno));
	}
	return 0;
}

struct ctlsrv *
ctlsrv_create(struct appliance *a, unsigned n_workers, const char *path, char *err, size_t errlen)
{
	struct ctlsrv *s;
	unsigned w, q, i;

	if (n_workers == 0 || n_workers > WORKERS_MAX) {
		errf(err, errlen, "control socket: %u worker lcores (1-%d)", n_workers,
		     WORKERS_MAX);
		return NULL;
	}
	for (q = 0; q < a->n_queues; q++) {
		if (queue_owner(a, q) >= n_workers) {
			errf(err, errlen, "control socket: queue %s has no worker",
			     a->queues[q].name);
			return NULL;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errf(err, errlen, "control socket: out of memory");
		return NULL;
	}
	s->a = a;
	s->n_workers = n_workers;
	s->uid = geteuid();
	s->lfd = -1;
	for (i = 0; i < CTLSRV_CLIENTS_MAX; i++)
		s->c[i].fd = -1;
	for (w = 0; w < n_workers; w++) {
		char name[32];

		snprintf(name, sizeof(name), "ctl_req_%u", w);
		s->req[w] =
			rte_ring_create_elem(name, sizeof(struct msg), RING_SIZE,
					     (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "ctl_resp_%u", w);
		s->resp[w] =
			rte_ring_create_elem(name, sizeof(struct msg), RING_SIZE,
					     (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!s->req[w] || !s->resp[w]) {
			errf(err, errlen, "control socket: cannot create rings: %s",
			     rte_strerror(rte_errno));
			ctlsrv_free(s);
			return NULL;
		}
	}
	if (path && open_socket(s, path, err, errlen)) {
		ctlsrv_free(s);
		return NULL;
	}
	return s;
}

void
ctlsrv_free(struct ctlsrv *s)
{
	struct stat sb;
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < CTLSRV_CLIENTS_MAX; i++)
		if (s->c[i].fd >= 0 && !s->c[i].external)
			close(s->c[i].fd);
	if (s->lfd >= 0)
		close(s->lfd);
	/* Remove the file only if it is still the socket this process created. */
	if (s->ino && lstat(s->path, &sb) == 0 && sb.st_dev == s->dev && sb.st_ino == s->ino)
		unlink(s->path);
	for (i = 0; i < WORKERS_MAX; i++) {
		rte_ring_free(s->req[i]);
		rte_ring_free(s->resp[i]);
	}
	free(s);
}

/* ---- answers ---- */

/*
 * Close a connection so that the peer can still read what was sent to it.
 * Closing an AF_UNIX socket with unread datagrams makes the peer's next
 * recv() fail with ECONNRESET before its queued answer; so: stop taking
 * datagrams (the peer's sends now fail with EPIPE), drop those already
 * queued, then close.
 */
static void
close_read(int fd, uint8_t *scratch, size_t len)
{
	shutdown(fd, SHUT_RDWR);
	while (recv(fd, scratch, len, MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static void
client_close(struct ctlsrv *s, struct ctl_client *c)
{
	if (c->busy) {
		c->gone = true; /* the workers still write into c->st */
		return;
	}
	if (!c->external)
		close_read(c->fd, s->rx, sizeof(s->rx));
	c->fd = -1;
	c->gone = false;
	c->external = false;
}

/* Send the message in s->tx (n bytes, or a build error); a peer that cannot take it is closed. */
static void
send_tx(struct ctlsrv *s, struct ctl_client *c, ssize_t n)
{
	if (n <= 0 || send(c->fd, s->tx, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
		s->st.send_failed++;
		client_close(s, c);
		return;
	}
	if (c->external)
		s->st.ctld_answered++;
	else
		s->st.answered++;
}

/* Error{code, message} with seq into s->tx: its length, or a negative build error. */
static ssize_t error_msg(struct ctlsrv *s, uint64_t seq, enum ctl_status code, const char *fmt,
			 va_list ap) __attribute__((format(printf, 4, 0)));

static ssize_t
error_msg(struct ctlsrv *s, uint64_t seq, enum ctl_status code, const char *fmt, va_list ap)
{
	char text[WIRE_TEXT_MAX + 1];
	struct ctl_msg_in m = { .type = CTL_MSG_ERROR, .seq = seq };

	vsnprintf(text, sizeof(text), fmt, ap);
	m.u.error.code = (uint16_t)code;
	m.u.error.message = wire_cstr(text);
	return ctl_build(s->tx, sizeof(s->tx), &m);
}

static void send_error(struct ctlsrv *s, struct ctl_client *c, uint64_t seq, enum ctl_status code,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
send_error(struct ctlsrv *s, struct ctl_client *c, uint64_t seq, enum ctl_status code,
	   const char *fmt, ...)
{
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	n = error_msg(s, seq, code, fmt, ap);
	va_end(ap);
	send_tx(s, c, n);
}

/* Tell a connection just accepted why it is refused (best effort), and close it. */
static void refuse(struct ctlsrv *s, int fd, enum ctl_status code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
refuse(struct ctlsrv *s, int fd, enum ctl_status code, const char *fmt, ...)
{
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	n = error_msg(s, 0, code, fmt, ap);
	va_end(ap);
	if (n > 0 && send(fd, s->tx, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
		s->st.send_failed++;
	close_read(fd, s->rx, sizeof(s->rx));
}

static void
fill_info(const struct ctlsrv *s, const struct ctl_client *c, unsigned i,
	  struct ctl_queue_info_in *out)
{
	const struct eng_queue_stats *st = &c->st[i];

	*out = (struct ctl_queue_info_in){
		.name = wire_cstr(s->a->queues[c->queue[i]].name),
		.paused = st->paused,
		.ready = st->ready,
		.delayed = st->scheduled,
		.retry_wait = st->retry_wait,
		.leased = st->leased,
		.dead = st->dead,
		.bytes = st->bytes,
		.enqueued = st->enqueued,
		.delivered = st->delivered,
		.completed = st->completed,
		.failed = st->failed,
		.dead_lettered = st->dead_lettered,
		.expired = st->expired,
		.lease_timeouts = st->lease_timeouts,
		.redriven = st->redriven,
		.purged = st->purged,
	};
}

/* A JobRequest answered by its worker: JobList, or UnknownJob / JobBusy. */
static void
answer_jobs(struct ctlsrv *s, struct ctl_client *c)
{
	struct ctl_msg_in m = { .type = CTL_MSG_JOB_LIST, .seq = c->seq };
	const struct ctl_job_op *op = &c->job;
	uint32_t i;

	if (op->rc == -ENOENT) {
		send_error(s, c, c->seq, CTL_STATUS_UNKNOWN_JOB,
			   "no job %016" PRIx64 "%016" PRIx64 " in queue %s", op->id.hi, op->id.lo,
			   s->a->queues[c->queue[0]].name);
		return;
	}
	if (op->rc == -EBUSY) {
		send_error(s, c, c->seq, CTL_STATUS_JOB_BUSY,
			   op->op == 3 ? "the job is not dead: only dead jobs are retried"
				       : "the job is leased: its consumer settles it");
		return;
	}
	for (i = 0; i < op->n && i < CTL_JOBS_MAX; i++) {
		const struct ctl_job_row *r = &op->rows[i];

		s->jobs[i] = (struct ctl_job_info_in){
			.id = r->id,
			.state = r->state,
			.priority = r->priority,
			.dead_reason = r->dead_reason,
			.attempts = r->attempts,
			.max_attempts = r->max_attempts,
			.type = wire_cstr(r->type),
			.content_type = wire_cstr(r->ctype),
			.payload_bytes = r->payload_bytes,
			/* engine clock to wall clock: wall_to_mono_ms = mono - wall */
			.enqueued_ms = (uint64_t)((int64_t)r->enqueued_ms - s->a->wall_to_mono_ms),
		};
	}
	m.u.job_list.queue = s->info[0];
	m.u.job_list.jobs = s->jobs;
	m.u.job_list.n = i;
	m.u.job_list.total = op->total;
	send_tx(s, c, ctl_build(s->tx, sizeof(s->tx), &m));
}

/* Every worker answered c's request: the response. */
static void
answer(struct ctlsrv *s, struct ctl_client *c)
{
	struct ctl_msg_in m = { .seq = c->seq };
	unsigned i;

	c->busy = false;
	if (c->gone) {
		client_close(s, c);
		return;
	}
	for (i = 0; i < c->n; i++)
		fill_info(s, c, i, &s->info[i]);
	if (c->type == CTL_MSG_JOB_REQUEST) {
		answer_jobs(s, c);
		return;
	}
	if (c->type == CTL_MSG_LIST_QUEUES) {
		m.type = CTL_MSG_QUEUE_LIST;
		m.u.queue_list.queues = s->info;
		m.u.queue_list.n = c->n;
	} else {
		m.type = CTL_MSG_ACTION_RESULT;
		m.u.action_result.count = c->count;
		m.u.action_result.queue = s->info[0];
	}
	send_tx(s, c, ctl_build(s->tx, sizeof(s->tx), &m));
}

static void
drain_answers(struct ctlsrv *s)
{
	struct msg m[BURST];
	unsigned w, i, n;

	for (w = 0; w < s->n_workers; w++) {
		n = rte_ring_sc_dequeue_burst_elem(s->resp[w], m, sizeof(m[0]), BURST, NULL);
		for (i = 0; i < n; i++) {
			struct ctl_client *c = &s->c[m[i].conn % CTLSRV_CLIENTS_MAX];

			if (m[i].type != MSG_CTL_DONE || !c->busy || m[i].gen != c->gen)
				continue;
			c->count += (uint32_t)m[i].a;
			if (--c->pending == 0)
				answer(s, c);
		}
	}
}

/* ---- requests ---- */

static const uint8_t msg_of_request[CTL_MSG__COUNT] = {
	[CTL_MSG_LIST_QUEUES] = MSG_CTL_STATS,     [CTL_MSG_PAUSE_QUEUE] = MSG_CTL_PAUSE,
	[CTL_MSG_RESUME_QUEUE] = MSG_CTL_RESUME,   [CTL_MSG_PURGE_QUEUE] = MSG_CTL_PURGE,
	[CTL_MSG_REDRIVE_QUEUE] = MSG_CTL_REDRIVE, [CTL_MSG_JOB_REQUEST] = MSG_CTL_JOB,
};

/* The queue name of a verified request (absent: p NULL, ListQueues only). */
static struct wire_str
request_queue(const struct wire_ctl_control *r)
{
	/* Every request table has its queue name as field 0 (ctl_build.c checks). */
	const void *t = wire_field_deref(r, wire_fid_ctl_control_msg);
	const uint8_t *v = wire_field_deref(t, wire_fid_ctl_pause_queue_queue);
	struct wire_str name = { NULL, 0 };

	if (v) {
		name.p = (const char *)v + 4;
		name.len = wire_ld32(v);
	}
	return name;
}

/* Send c's request (already in c) to the owning workers; false if their rings lack room. */
static bool
route(struct ctlsrv *s, struct ctl_client *c, unsigned client, uint32_t max)
{
	unsigned need[WORKERS_MAX] = { 0 };
	unsigned i, w;

	for (i = 0; i < c->n; i++)
		need[queue_owner(s->a, c->queue[i])]++;
	for (w = 0; w < s->n_workers; w++)
		if (need[w] > rte_ring_free_count(s->req[w]))
			return false;
	c->busy = true;
	c->pending = c->n;
	c->count = 0;
	for (i = 0; i < c->n; i++) {
		struct msg m = {
			.type = msg_of_request[c->type],
			.slot = (uint16_t)i,
			.conn = client,
			.gen = c->gen,
			.idx = queue_engine_index(s->a, c->queue[i]),
			.a = c->type == CTL_MSG_JOB_REQUEST ? (uint64_t)(uintptr_t)&c->job : max,
			.b = (uint64_t)(uintptr_t)&c->st[i],
		};

		/* Room was checked and only this lcore produces: cannot fail. */
		rte_ring_sp_enqueue_bulk_elem(s->req[queue_owner(s->a, c->queue[i])], &m, sizeof(m),
					      1, NULL);
	}
	return true;
}

/* One datagram of len bytes (its real length: it may exceed rx) from client i. */
static void
handle_datagram(struct ctlsrv *s, unsigned i, size_t len)
{
	struct ctl_client *c = &s->c[i];
	const struct wire_ctl_control *r;
	struct wire_str name;
	uint32_t at = 0, max = 0;
	unsigned q;
	int rc;

	rc = len > CTL_MSG_BYTES_MAX + 4 ? -WIRE_E_FRAME_TOO_LARGE : ctl_verify(s->rx, len, &at);
	if (rc) {
		s->st.invalid[-rc < WIRE_E__COUNT ? -rc : 0]++;
		send_error(s, c, 0, CTL_STATUS_INVALID, "%s at byte %" PRIu32, wire_error_name(rc),
			   at);
		return;
	}
	r = ctl_root(s->rx);
	c->seq = wire_ctl_control_seq(r);
	c->type = wire_ctl_control_msg_type(r);
	if (!ctl_msg_is_request(c->type)) {
		s->st.not_request++;
		send_error(s, c, c->seq, CTL_STATUS_INVALID,
			   "%s is not a request (ListQueues, PauseQueue, ResumeQueue, PurgeQueue, "
			   "RedriveQueue, JobRequest)",
			   ctl_msg_name(c->type));
		return;
	}
	name = request_queue(r);
	if (name.p) {
		int found = appliance_queue_find(s->a, name.p, name.len);

		if (found < 0) {
			s->st.unknown_queue++;
			send_error(s, c, c->seq, CTL_STATUS_UNKNOWN_QUEUE, "no queue '%.*s'",
				   (int)name.len, name.p);
			return;
		}
		c->n = 1;
		c->queue[0] = (uint16_t)found;
	} else {
		c->n = (uint16_t)(s->a->n_queues < CTL_QUEUES_MAX ? s->a->n_queues
								  : CTL_QUEUES_MAX);
		for (q = 0; q < c->n; q++)
			c->queue[q] = (uint16_t)q;
	}
	if (c->type == CTL_MSG_REDRIVE_QUEUE)
		max = wire_ctl_redrive_queue_max(ctl_redrive_queue(r));
	if (c->type == CTL_MSG_JOB_REQUEST) {
		const struct wire_ctl_job_request *jr = ctl_job_request(r);

		c->job.op = wire_ctl_job_request_op(jr);
		c->job.id = (struct wire_jobid){ wire_ctl_job_request_id_hi(jr),
						 wire_ctl_job_request_id_lo(jr) };
		c->job.skip = wire_ctl_job_request_skip(jr);
		c->job.max = wire_ctl_job_request_max(jr);
		c->job.rc = 0;
		c->job.n = c->job.total = 0;
	}
	c->gen++;
	if (c->n == 0) {
		answer(s, c);
		return;
	}
	if (!route(s, c, i, max)) {
		s->st.rings_full++;
		send_error(s, c, c->seq, CTL_STATUS_BUSY, "the worker lcores are busy: retry");
		return;
	}
	if (c->external)
		s->st.ctld_requests++;
	else
		s->st.requests++;
}

static void
read_client(struct ctlsrv *s, unsigned i)
{
	ssize_t n = recv(s->c[i].fd, s->rx, sizeof(s->rx), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) { /* end of connection (or an empty datagram), or an error */
		client_close(s, &s->c[i]);
		return;
	}
	handle_datagram(s, i, (size_t)n);
}

static void
accept_clients(struct ctlsrv *s)
{
	unsigned k, i;

	for (k = 0; k < ACCEPTS_PER_POLL; k++) {
		struct ucred cred = { .uid = (uid_t)-1 };
		socklen_t cl = sizeof(cred);
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		/*
		 * uid 0 or sluiced's own uid only, for now: the admin, operator
		 * and viewer roles come with sluice-ctld (SECURITY.md, not yet).
		 */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
		    (cred.uid != 0 && cred.uid != s->uid)) {
			s->st.refused_peer++;
			refuse(s, fd, CTL_STATUS_FORBIDDEN,
			       "uid %u may not use the control socket (only uid 0 and sluiced's "
			       "uid %u may)",
			       (unsigned)cred.uid, (unsigned)s->uid);
			continue;
		}
		for (i = 0; i < CTLSRV_CLIENTS_MAX && s->c[i].fd >= 0; i++)
			;
		if (i == CTLSRV_CLIENTS_MAX) {
			s->st.refused_busy++;
			refuse(s, fd, CTL_STATUS_BUSY,
			       "%d control connections are open: retry later", CTLSRV_CLIENTS_MAX);
			continue;
		}
		s->c[i].fd = fd;
		s->c[i].gone = false;
		s->st.accepted++;
	}
}

void
ctlsrv_poll(struct ctlsrv *s)
{
	struct pollfd pfd[1 + CTLSRV_CLIENTS_MAX];
	unsigned who[1 + CTLSRV_CLIENTS_MAX];
	unsigned n = 0, i;

	if (!s)
		return;
	drain_answers(s);
	/* A negative fd (no socket) is ignored by poll(2). */
	pfd[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (i = 0; i < CTLSRV_CLIENTS_MAX; i++) {
		if (s->c[i].fd < 0 || s->c[i].busy || s->c[i].external)
			continue;
		who[n] = i;
		pfd[n++] = (struct pollfd){ .fd = s->c[i].fd, .events = POLLIN };
	}
	if (poll(pfd, n, 0) <= 0)
		return;
	for (i = 1; i < n; i++)
		if (pfd[i].revents)
			read_client(s, who[i]);
	if (pfd[0].revents & POLLIN)
		accept_clients(s);
}

/* ---- channels the caller reads (ctldlink) ---- */

int
ctlsrv_external_open(struct ctlsrv *s, int fd)
{
	unsigned i;

	for (i = 0; i < CTLSRV_CLIENTS_MAX && s->c[i].fd >= 0; i++)
		;
	if (i == CTLSRV_CLIENTS_MAX)
		return -1;
	s->c[i].fd = fd;
	s->c[i].gone = false;
	s->c[i].external = true;
	return (int)i;
}

void
ctlsrv_external_request(struct ctlsrv *s, int slot, const void *msg, size_t len)
{
	struct ctl_client *c;

	if (slot < 0 || slot >= CTLSRV_CLIENTS_MAX || !s->c[slot].external || s->c[slot].gone)
		return;
	c = &s->c[slot];
	if (c->busy) {
		s->st.rings_full++;
		send_error(s, c, 0, CTL_STATUS_BUSY, "one request at a time on the ctld link");
		return;
	}
	memcpy(s->rx, msg, len < sizeof(s->rx) ? len : sizeof(s->rx));
	handle_datagram(s, (unsigned)slot, len);
}

void
ctlsrv_external_close(struct ctlsrv *s, int slot)
{
	if (s && slot >= 0 && slot < CTLSRV_CLIENTS_MAX && s->c[slot].external)
		client_close(s, &s->c[slot]);
}

/* ---- worker side ---- */

static void
job_row(const struct eng_job *j, struct ctl_job_row *r)
{
	struct wire_str t = eng_job_type(j), ct = eng_job_content_type(j);

	*r = (struct ctl_job_row){
		.id = j->id,
		.state = (uint8_t)(j->state + 1),
		.priority = j->priority,
		.dead_reason = j->state == ENG_JOB_DEAD ? j->dead_reason : 0,
		.attempts = j->attempts,
		.max_attempts = j->max_attempts,
		.payload_bytes = j->payload_len,
		.enqueued_ms = j->enqueued_ms,
	};
	snprintf(r->type, sizeof(r->type), "%.*s", (int)t.len, t.p);
	snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)ct.len, ct.p ? ct.p : "");
}

/* sluicectl jobs on the worker that owns queue q. */
static void
apply_job(struct eng *e, uint16_t q, struct ctl_job_op *op, uint64_t now)
{
	const struct eng_job *list[CTL_JOBS_MAX];
	const struct eng_job *j;
	struct eng_queue_stats st;
	uint32_t i;

	if (op->op == 2) {
		op->n = eng_dead_list(e, q, op->skip, list,
				      op->max < CTL_JOBS_MAX ? op->max : CTL_JOBS_MAX);
		for (i = 0; i < op->n; i++)
			job_row(list[i], &op->rows[i]);
		eng_queue_stats(e, q, &st);
		op->total = st.dead;
		return;
	}
	j = eng_job_find(e, q, op->id, now);
	if (!j) {
		op->rc = -ENOENT;
		return;
	}
	job_row(j, &op->rows[0]); /* as it was: delete frees it */
	op->n = 1;
	if (op->op == 3)
		op->rc = eng_job_retry(e, q, op->id, now);
	else if (op->op == 4)
		op->rc = eng_job_delete(e, q, op->id, now);
	if (op->rc == 0 && op->op == 3)
		job_row(j, &op->rows[0]); /* retried: show it ready */
}

/* Apply one action to the engine; the message becomes its answer. */
static void
apply(struct eng *e, struct msg *m, uint64_t now)
{
	uint16_t q = (uint16_t)m->idx;
	uint32_t count = 0;

	switch (m->type) {
	case MSG_CTL_PAUSE:
		eng_queue_pause(e, q, true);
		break;
	case MSG_CTL_RESUME:
		eng_queue_pause(e, q, false);
		break;
	case MSG_CTL_PURGE:
		count = eng_queue_purge(e, q);
		break;
	case MSG_CTL_REDRIVE:
		count = eng_redrive(e, q, m->a ? (uint32_t)m->a : UINT32_MAX, now);
		break;
	case MSG_CTL_JOB:
		apply_job(e, q, (struct ctl_job_op *)(uintptr_t)m->a, now);
		break;
	default: /* MSG_CTL_STATS */
		break;
	}
	eng_queue_stats(e, q, (struct eng_queue_stats *)(uintptr_t)m->b);
	m->type = MSG_CTL_DONE;
	m->a = count;
}

void
ctlsrv_worker_poll(struct ctlsrv *s, unsigned worker, struct eng *e, uint64_t now)
{
	struct msg m[BURST];
	unsigned n, i, room;

	if (!s || worker >= s->n_workers)
		return;
	/* Take only what the answer ring has room for: answers are never dropped. */
	room = rte_ring_free_count(s->resp[worker]);
	n = rte_ring_sc_dequeue_burst_elem(s->req[worker], m, sizeof(m[0]),
					   room < BURST ? room : BURST, NULL);
	for (i = 0; i < n; i++)
		apply(e, &m[i], now);
	if (n)
		rte_ring_sp_enqueue_bulk_elem(s->resp[worker], m, sizeof(m[0]), n, NULL);
}

void
ctlsrv_stats_json(const struct ctlsrv *s, FILE *out)
{
	bool first = true;
	int e;

	fputc('{', out);
#define COUNTER_JSON(name) fprintf(out, "\"" #name "\":%" PRIu64 ",", s->st.name);
	CTLSRV_COUNTERS(COUNTER_JSON)
#undef COUNTER_JSON
	fputs("\"invalid\":{", out);
	for (e = 1; e < WIRE_E__COUNT; e++) {
		if (!s->st.invalid[e])
			continue;
		fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", wire_error_name(e),
			s->st.invalid[e]);
		first = false;
	}
	fputs("}}\n", out);
}
