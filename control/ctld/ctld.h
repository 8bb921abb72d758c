/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ctld: the slow-path control daemon. One process, one thread, one
 * poll(2) loop over:
 *
 *   dataplane socket ── sluiced (--ctld): Attach, Authenticate ... (ctld_dp.c)
 *   operator socket  ── sluicectl: commands by role (ctld_ops.c)
 *   metrics endpoint ── Prometheus scrapes with a bearer token (ctld.c)
 *   timers           ── ticket-key rotation, ban and token expiry, queue stats
 *
 * It owns the configuration (control/config), the token store
 * (control/creds), the audit log (control/audit); sluiced gets compiled
 * grants, never a token or a hash.
 */
#ifndef SLUICE_CTLD_H
#define SLUICE_CTLD_H

#include <stdbool.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <sys/types.h>

#include "audit.h"
#include "creds.h"
#include "ctl.h"
#include "ctld_config.h"
#include "metrics.h"
#include "ops_proto.h"

#define CTLD_OPS_MAX 16
#define CTLD_ADDRS_MAX 4096 /* source addresses tracked for throttling and bans */
#define CTLD_KEYS 3         /* ticket keys sent: newest first */
#define CTLD_OUTQ_MAX (64u << 20)
#define CTLD_QUEUES_CACHE CTL_QUEUES_MAX
#define CTLD_NAME_BYTES (WIRE_QUEUE_NAME_MAX + 1)

/* Authentication results, one counter each (metrics label, audit "result"). */
#define CTLD_AUTH_RESULTS(X)                                                                       \
	X(ok)                                                                                      \
	X(unknown) /* no token has that hash */                                                    \
	X(expired)                                                                                 \
	X(revoked)                                                                                 \
	X(forbidden) /* the principal may not take that role */                                    \
	X(orphan)    /* the token's principal is not in the configuration */                       \
	X(throttled) /* too many failures from the address: not even checked */                    \
	X(banned)

enum ctld_auth_result {
#define AUTH_ENUM(name) CTLD_AUTH_##name,
	CTLD_AUTH_RESULTS(AUTH_ENUM)
#undef AUTH_ENUM
		CTLD_AUTH__COUNT
};

/* One source address: failures in the current window, and its ban. */
struct ctld_addr {
	uint32_t addr; /* IPv4 host order; 0 = free slot */
	uint32_t fails;
	int64_t window_start; /* s */
	int64_t banned_until; /* s; 0 = not banned */
	uint32_t throttle_fails;
	int64_t throttle_start;
};

/* Outgoing datagrams to sluiced that did not fit its socket yet. */
struct ctld_out {
	struct ctld_out *next;
	size_t len;
	uint8_t data[];
};

/* A queue request from an operator, waiting for sluiced's answer. */
struct ctld_qreq {
	int op; /* operator client slot */
	uint32_t op_gen;
	uint64_t seq; /* sent to sluiced with it; 0: not yet sent */
	uint64_t deadline;
	uint8_t cmd; /* enum ops_cmd */
	char queue[CTLD_NAME_BYTES];
	uint32_t max;
	uint32_t io, slot, gen; /* KickConn */
	uint8_t job_op;         /* JobRequest: 1 show, 2 dead, 3 retry, 4 delete */
	uint64_t id_hi, id_lo;
};

struct ctld_op {
	int fd; /* -1: free */
	uint32_t gen;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	enum ops_role role;
	bool json;
	bool waiting;      /* a queue request is with sluiced */
	char cmdline[256]; /* for the audit line */
};

#define CTLD_QUEUE_VALUES CTL_QUEUE_VALUES

struct ctld_queue_stat {
	char name[CTLD_NAME_BYTES];
	bool paused;
	uint64_t v[CTLD_QUEUE_VALUES];
};

/* One I/O lcore's counters as sluiced last reported them (CounterList). */
struct ctld_lcore_counters {
	uint32_t io;
	unsigned n;
	char names[CTL_COUNTERS_MAX][CTLD_NAME_BYTES];
	uint64_t values[CTL_COUNTERS_MAX];
};

struct ctld {
	struct ctld_config cfg;
	const char *config_path;
	struct creds creds;
	struct audit audit;
	struct metrics *metrics;
	int64_t now_s;   /* wall clock */
	uint64_t now_ms; /* monotonic */
	int64_t started_s;
	uint64_t reloads, reload_failures;

	/* dataplane socket and the one sluiced on it */
	int dp_lfd;
	int dp_fd;
	bool dp_attached;
	uint32_t dp_pid;
	int64_t dp_since;
	struct ctld_out *outq, **outq_tail;
	size_t outq_bytes;
	uint64_t grants_gen;
	uint64_t next_seq;
	uint64_t next_stats_ms; /* when to ask sluiced for queue stats (metrics) */
	uint64_t stats_seq;     /* the ListQueues in flight for metrics, 0: none */
	struct ctld_qreq qreq[CTLD_OPS_MAX];
	unsigned n_qreq; /* FIFO: qreq[0] is the one with sluiced */
	struct ctld_queue_stat qstat[CTLD_QUEUES_CACHE];
	unsigned n_qstat;
	int64_t qstat_at; /* wall s of the cached stats, 0: none */
	struct ctld_lcore_counters lcores[CTL_LCORES_MAX];
	unsigned n_lcores;

	/* source addresses */
	struct ctld_addr addrs[CTLD_ADDRS_MAX];
	bool bans_dirty; /* the ban set changed: push it */

	/* session-ticket keys, newest first */
	uint8_t keys[CTLD_KEYS][CTL_TICKET_KEY_BYTES];
	unsigned n_keys;
	int64_t next_rotate;

	/* tokens: the next expiry to push grants at (0: none) */
	int64_t next_expiry;

	/* operator socket */
	int op_lfd;
	struct ctld_op ops[CTLD_OPS_MAX];

	/* counters */
	uint64_t auth[CTLD_AUTH__COUNT];
	uint64_t bans_total, ops_requests, ops_denied, dp_refused, dp_invalid, dp_attaches;
};

/* A wire Role's name (1 producer, 2 consumer, 3 both; "-" for none), as every output spells it. */
static inline const char *
ctld_role_name(unsigned role)
{
	static const char *const names[] = { "-", "producer", "consumer", "both" };

	return names[role & 3];
}

/* ---- ctld_dp.c ---- */
/* A listening AF_UNIX seqpacket socket (a stale file replaced); fd or -1 with err. */
int ctld_listen_unix(const char *path, mode_t mode, int backlog, char *err, size_t errlen);

/* ---- ctld.c ---- */
void ctld_audit(struct ctld *d, const char *event, const struct audit_kv *kv, unsigned n);
/* Load the configuration again; 0, or -1 with the message in err (nothing changed). */
int ctld_reload(struct ctld *d, char *err, size_t errlen);
/* Principal by name, NULL when the configuration has none. */
const struct ccfg_principal *ctld_principal(const struct ctld *d, const char *name);

/* ---- ctld_dp.c ---- */
int ctld_dp_open(struct ctld *d, char *err, size_t errlen);
/* poll(2) entries: the listening socket and sluiced's; POLLOUT while output waits. */
unsigned ctld_dp_pollfds(struct ctld *d, struct pollfd *p);
void ctld_dp_poll(struct ctld *d);
/* Push the principal table / ban set / ticket keys to sluiced (if attached). */
void ctld_dp_push_grants(struct ctld *d);
void ctld_dp_push_bans(struct ctld *d);
void ctld_dp_push_keys(struct ctld *d);
/* Timers: ticket rotation, ban expiry, token expiry, queue stats. */
void ctld_dp_timers(struct ctld *d);
/*
 * Queue an operator's request for sluiced (q: its message type and fields;
 * op and op_gen are filled here); false when ctld cannot (full, down).
 */
bool ctld_dp_request(struct ctld *d, int op, const struct ctld_qreq *q);
/* An operator connection went away: forget its queued requests. */
void ctld_dp_forget_op(struct ctld *d, int op);
unsigned ctld_bans_active(const struct ctld *d);
void ctld_dp_close(struct ctld *d);

/* ---- ctld_ops.c ---- */
int ctld_ops_open(struct ctld *d, char *err, size_t errlen);
unsigned ctld_ops_pollfds(struct ctld *d, struct pollfd *p);
void ctld_ops_poll(struct ctld *d);
/*
 * sluiced answered (or could not answer) an operator's queue request: msg is
 * the verified control message, NULL with why when there is no answer.
 */
void ctld_ops_queue_answer(struct ctld *d, const struct ctld_qreq *q, const void *msg,
			   const char *why);
void ctld_ops_close(struct ctld *d);

/* ---- metrics (ctld.c) ---- */
void ctld_metrics_render(void *arg, FILE *out);

#endif
