/* SPDX-License-Identifier: BSD-3-Clause */
/* sluiced's configuration: command line after the EAL's options. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "policy.h"
#include "tls.h"

#define CFG_QUEUES_MAX 256
#define CFG_LCORES_MAX 16

struct sluiced_cfg {
	const char *transport; /* "kernel" or "dpdk" */
	/* dpdk transport: the stack's address and port */
	uint32_t ip, netmask, gateway; /* network order */
	uint16_t port_id;
	unsigned mbufs;       /* packet buffers per NUMA socket */
	uint32_t listen_addr; /* network order */
	uint16_t listen_port; /* network order */
	const char *cert_file;
	const char *key_file;
	const char *client_ca_file;
	enum tls_client_cert client_cert;
	uint32_t ticket_lifetime_s;
	const char *tokens_file; /* standalone mode */
	const char *ctld_socket; /* sluice-ctld's dataplane_socket (dataplane/ctl/ctldlink.h) */
	bool listen_given, client_cert_given; /* on the command line (ctld may set them instead) */
	uint32_t ctld_wait_ms;

	unsigned n_queues;
	struct eng_queue_cfg queue_cfg[CFG_QUEUES_MAX];
	struct pol_queue queue_pol[CFG_QUEUES_MAX];

	uint32_t max_frame_bytes;
	uint32_t max_payload_bytes;
	uint32_t max_batch_jobs;
	uint32_t max_unacked_batches;
	uint32_t handshake_timeout_ms;
	uint32_t hello_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t heartbeat_ms;
	uint32_t handshakes_per_poll;
	uint32_t max_conns; /* per I/O lcore */
	uint32_t max_jobs;  /* jobs held at once */
	uint32_t dedup_entries;
	uint32_t job_mem_mb;
	uint32_t drain_timeout_ms;

	unsigned n_io;
	unsigned io_lcores[CFG_LCORES_MAX];     /* 0 = choose */
	unsigned n_workers;                     /* worker lcores (--workers), >= 1 */
	unsigned n_worker_lcores;               /* given with --worker-lcore(s); 0 = choose */
	unsigned worker_lcores[CFG_LCORES_MAX]; /* worker w runs on worker_lcores[w] */
	bool roles_given;
	const char *server_name;
	const char *control_socket; /* AF_UNIX seqpacket path, NULL = off (dataplane/ctl) */
	bool verbose;
};

/*
 * Parse sluiced's options (argv after the EAL's "--"). Returns 0, 1 when
 * the command was handled (--help, --hash-token: exit 0), or -1 with a
 * message in err (exit 2).
 */
int sluiced_config_parse(struct sluiced_cfg *cfg, int argc, char **argv, char *err, size_t errlen);

void sluiced_usage(FILE *out);

/*
 * Add one queue from a --queue specification ("NAME[,key=value...]"); with
 * --ctld, from sluice-ctld's Setup. 0, or -1 with a message in err.
 */
int sluiced_config_add_queue(struct sluiced_cfg *cfg, const char *spec, char *err, size_t errlen);

/* Checks run again after sluice-ctld's Setup set the listener: 0 or -1 with err. */
int sluiced_config_check_listen(struct sluiced_cfg *cfg, char *err, size_t errlen);
int sluiced_config_check_tls(const struct sluiced_cfg *cfg, char *err, size_t errlen);

#endif
