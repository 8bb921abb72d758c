/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl <-> sluice-ctld: the operator socket (ctld.operator_socket, an
 * AF_UNIX SOCK_SEQPACKET socket). Who is asking is the kernel's word
 * (SO_PEERCRED uid and gids), mapped to a role by the configuration's
 * operators (uid 0 and ctld's own uid are admin). One request per
 * connection:
 *
 *   request   "SLO1" | flags (u8: bit 0 = JSON output) | argv, each NUL-terminated
 *   answer    one or more datagrams: more (u8: 1 = another follows) | exit (u8) | text
 *
 * The text is what sluicectl prints (to stdout when exit is 0, else to
 * stderr); with the JSON flag it is one JSON document. Requests are at most
 * OPS_REQ_MAX bytes and OPS_ARGS_MAX arguments; anything else is answered
 * with exit OPS_EXIT_USAGE. Every request is audited (never a token).
 */
#ifndef SLUICE_OPS_PROTO_H
#define SLUICE_OPS_PROTO_H

#define OPS_MAGIC "SLO1"
#define OPS_REQ_MAX 4096
#define OPS_ARGS_MAX 16
#define OPS_DGRAM_MAX 65536 /* answer datagrams, header included */
#define OPS_FLAG_JSON 1

/* sluicectl's exit codes (its --help lists them). */
#define OPS_EXIT_OK 0
#define OPS_EXIT_FAILED 1      /* the command was refused or failed (no such queue, token...) */
#define OPS_EXIT_USAGE 2       /* unknown command or bad arguments */
#define OPS_EXIT_DENIED 3      /* the caller's role may not do this */
#define OPS_EXIT_UNAVAILABLE 4 /* sluice-ctld or sluiced cannot be reached */
#define OPS_EXIT_CONFIG 5      /* reload: the configuration is invalid, nothing changed */

/* Operator roles, lowest first (a role may do what the lower ones may). */
enum ops_role { OPS_ROLE_NONE = 0, OPS_ROLE_VIEWER, OPS_ROLE_OPERATOR, OPS_ROLE_ADMIN };

#endif
