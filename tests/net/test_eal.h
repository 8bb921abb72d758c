/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EAL and one mbuf pool for the programs that drive the stack without a
 * NIC (scripted tests, fuzzers): no hugepages, no PCI, no shared config, no
 * telemetry, 128 MiB.
 */
#ifndef SLUICE_TEST_EAL_H
#define SLUICE_TEST_EAL_H

#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

/* EAL up and a pool of mbufs named name; NULL (and why, on stderr) on failure. */
static inline struct rte_mempool *
test_eal_pool(const char *argv0, const char *name, unsigned mbufs)
{
	char *eal[] = { (char *)(uintptr_t)argv0,
			"--no-huge",
			"--no-pci",
			"--no-shconf",
			"--no-telemetry",
			"-m",
			"128",
			"--log-level=lib.eal:error",
			NULL };
	struct rte_mempool *pool;

	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", name, rte_strerror(rte_errno));
		return NULL;
	}
	pool = rte_pktmbuf_pool_create(name, mbufs, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		fprintf(stderr, "%s: mempool: %s\n", name, rte_strerror(rte_errno));
	return pool;
}

#endif
