/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's control socket: operator actions on queues (list with stats,
 * pause, resume, purge, redrive dead letters) from a local AF_UNIX
 * SOCK_SEQPACKET socket, one schema/control.fbs message per datagram.
 *
 *   client ──request──► main lcore ──ctl_req[w]──► worker w (owns the queue)
 *          ◄─response──  (verify,   ◄─ctl_resp[w]──  applies it with the
 *                         route,                     engine's functions
 *                         answer)
 *
 * The main lcore serves the socket with non-blocking calls only (one
 * poll(2) with timeout 0 per pass); requests travel as struct msg
 * (MSG_CTL_*, lcore.h) to the worker lcore that owns each queue, which
 * answers MSG_CTL_DONE after filling the main lcore's struct
 * eng_queue_stats for it. A client has one request in flight; a ListQueues
 * of every queue is one message per queue, to every owning worker.
 *
 * Who may connect: the socket is created mode 0600 and each peer's
 * SO_PEERCRED uid must be 0 or sluiced's own effective uid. The role model
 * (admin, operator, viewer) comes with sluice-ctld, which will hold this
 * socket's other end; until then every permitted peer may do everything.
 *
 * Malformed requests get Error{Invalid, "<check> at byte <n>"} (the
 * verifier's check names) and are counted by check; the connection stays
 * open. Never a crash, never a blocked data path.
 */
#ifndef SLUICE_CTLSRV_H
#define SLUICE_CTLSRV_H

#include <stdint.h>
#include <stdio.h>

#include "engine.h"

#define CTLSRV_CLIENTS_MAX 16

struct appliance;
struct ctlsrv;

/*
 * Create the socket at path (mode 0600, listening) and the rings to each of
 * n_workers worker lcores. A stale socket file (nobody listening) is
 * replaced; a live one or any other file is an error. path NULL: no socket,
 * requests come only through ctlsrv_external_*. Main lcore, before the
 * lcores start. NULL with a message for a person in err.
 */
struct ctlsrv *ctlsrv_create(struct appliance *a, unsigned n_workers, const char *path, char *err,
			     size_t errlen);

/* Main lcore, once per pass: accept, read, verify, route, answer. Never blocks. */
void ctlsrv_poll(struct ctlsrv *s);

/*
 * Worker lcore `worker`, once per pass: apply the actions waiting for it to
 * its engine e (at time now) and answer. s NULL (no control socket): returns.
 */
void ctlsrv_worker_poll(struct ctlsrv *s, unsigned worker, struct eng *e, uint64_t now);

/*
 * A channel the caller reads itself (sluice-ctld's link, ctldlink.h): the
 * requests it passes in are verified and routed like the socket's, and
 * answered on fd, which stays the caller's. open: a client slot, or -1 when
 * every slot is taken. A request while the previous one is still with the
 * workers is answered Error{Busy}. close: before the caller closes fd.
 */
int ctlsrv_external_open(struct ctlsrv *s, int fd);
void ctlsrv_external_request(struct ctlsrv *s, int slot, const void *msg, size_t len);
void ctlsrv_external_close(struct ctlsrv *s, int slot);

/* Counters as one JSON object on one line: refusals and errors by reason. */
void ctlsrv_stats_json(const struct ctlsrv *s, FILE *out);

/*
 * Close every connection, remove the socket file (if it is still the one
 * created), free the rings. After the lcores stopped. NULL is a no-op.
 */
void ctlsrv_free(struct ctlsrv *s);

#endif
