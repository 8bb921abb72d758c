/* SPDX-License-Identifier: BSD-3-Clause */
/* The --ready file of the DPDK test peers (ping_responder, tcp_peer). */
#ifndef SLUICE_TEST_PEER_READY_H
#define SLUICE_TEST_PEER_READY_H

#include <stdio.h>

#include <rte_ether.h>

/* Write the port's MAC to path once it is up: written then renamed, so the
 * scripts waiting on the file never read half a line. 0 or -1. */
static inline int
write_ready(const char *path, const struct rte_ether_addr *mac)
{
	char tmp[4096], buf[RTE_ETHER_ADDR_FMT_SIZE];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	rte_ether_format_addr(buf, sizeof(buf), mac);
	fprintf(f, "%s\n", buf);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

#endif
