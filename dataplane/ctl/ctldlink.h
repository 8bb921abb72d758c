/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's link to sluice-ctld (sluiced --ctld PATH): the main lcore's end
 * of the "sluice-ctld <-> sluiced" channel of schema/control.fbs.
 *
 *   sluiced main lcore                                 sluice-ctld
 *     connect, Attach{version, pid, io_lcores} ───────►
 *                      ◄─────── Setup{queue specs}      (first one: the queues)
 *                      ◄─────── Grants... Bans TicketKeys (then whenever they change)
 *     Authenticate{id, role, addr, token} ─────────────►
 *                      ◄─────── AuthResult{id, status, principal, cred}
 *                      ◄─────── ListQueues / PauseQueue / ... (ctld's operators)
 *     QueueList / ActionResult / Error ────────────────►
 *
 * Grants become the principal table the I/O lcores read (lcore.h: published
 * whole, old tables freed after their grace period), Bans the banned
 * addresses in it; queue requests go to the control server (ctlsrv.h) like
 * its socket's. Everything non-blocking, on the main lcore only.
 *
 * When the link is down (ctld stopped, restarted, not yet there): sessions
 * that exist keep their grants and go on; new sessions are answered
 * Unavailable ("control daemon unreachable"), and requests in flight to ctld
 * get the same. The link reconnects every LINK_RETRY_MS; ctld then sends
 * everything again (resync), and a changed queue set is reported (it needs a
 * sluiced restart).
 */
#ifndef SLUICE_CTLDLINK_H
#define SLUICE_CTLDLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct appliance;
struct auth_msg;
struct sluiced_cfg;
struct ctldlink;

/* NULL with errno (ENOMEM, ENAMETOOLONG). Connects later (ctldlink_setup). */
struct ctldlink *ctldlink_create(const char *path);

/*
 * Before the lcores exist: connect (retrying until timeout_ms), Attach, and
 * take the queues and ticket lifetime of ctld's Setup into cfg (as --queue
 * specifications, parsed by config.c). 0, or -1 with a message in err.
 */
int ctldlink_setup(struct ctldlink *l, struct sluiced_cfg *cfg, unsigned io_lcores,
		   unsigned timeout_ms, char *err, size_t errlen);

/*
 * Bind to the running appliance (after ctldlink_setup, before the lcores
 * start): the link publishes principal tables into a, and serves queue
 * requests through a->ctl.
 */
void ctldlink_start(struct ctldlink *l, struct appliance *a);

/* Main lcore, once per pass: reconnect, read, apply, time out. Never blocks. */
void ctldlink_poll(struct ctldlink *l, uint64_t now_ms);

/* Main lcore: forward I/O lcore io's authentication request (answered later). */
void ctldlink_auth(struct ctldlink *l, unsigned io, struct auth_msg *m);

/*
 * Session-ticket keys for I/O lcore io, when ctld sent new ones since its
 * last call: copies up to max keys (struct tls_ticket_key) and returns how
 * many, else 0. Any lcore; lock-free (a version per lcore).
 */
unsigned ctldlink_ticket_keys(struct ctldlink *l, unsigned io, void *keys, unsigned max);

/* Main lcore: an I/O lcore answered a connections request (AUTH_KIND_CONNS_*). */
void ctldlink_conns_done(struct ctldlink *l, unsigned io, const struct auth_msg *m);

bool ctldlink_up(const struct ctldlink *l);

/* Counters as one JSON object on one line. */
void ctldlink_stats_json(const struct ctldlink *l, FILE *out);

void ctldlink_free(struct ctldlink *l);

#endif
