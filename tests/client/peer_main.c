/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conformance-peer: the protocol-conformance harness of peer.h as a program,
 * so CLI tests can run the real `sluice` binary against it. Not sluiced.
 *
 * usage: conformance-peer CERT_DIR [key=value...]
 *   keys: sessions, token, max_batch_jobs, deliver_jobs, lease_timeout_ms,
 *         client_cert (none|required), deadline_ms
 * Prints "port N" once listening, then, when done, one "name=value" line
 * per counter of struct peer_stats and "violation=..." if any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

static int
set(struct peer_cfg *c, const char *kv)
{
	const char *eq = strchr(kv, '=');
	const char *v;

	if (!eq)
		return -1;
	v = eq + 1;
#define KEY(k) (strncmp(kv, k, (size_t)(eq - kv)) == 0 && strlen(k) == (size_t)(eq - kv))
	if (KEY("sessions"))
		c->sessions = (unsigned)atoi(v);
	else if (KEY("token"))
		c->token = v;
	else if (KEY("max_batch_jobs"))
		c->max_batch_jobs = (uint32_t)atoi(v);
	else if (KEY("deliver_jobs"))
		c->deliver_jobs = (unsigned)atoi(v);
	else if (KEY("lease_timeout_ms"))
		c->lease_timeout_ms = (uint32_t)atoi(v);
	else if (KEY("deadline_ms"))
		c->deadline_ms = (uint32_t)atoi(v);
	else if (KEY("client_cert"))
		c->client_cert = strcmp(v, "required") == 0 ? TLS_CLIENT_CERT_REQUIRED
							    : TLS_CLIENT_CERT_NONE;
	else
		return -1;
#undef KEY
	return 0;
}

int
main(int argc, char **argv)
{
	struct peer_cfg cfg = { .lease_timeout_ms = 30000, .deadline_ms = 30000 };
	struct peer_stats st;
	struct peer *p;
	uint16_t port;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: conformance-peer CERT_DIR [key=value...]\n");
		return 2;
	}
	cfg.cert_dir = argv[1];
	for (i = 2; i < argc; i++) {
		if (set(&cfg, argv[i])) {
			fprintf(stderr, "conformance-peer: bad setting '%s'\n", argv[i]);
			return 2;
		}
	}
	p = peer_start(&cfg, &port);
	if (!p)
		return 1;
	printf("port %u\n", port);
	fflush(stdout);
	peer_join(p, &st);
	printf("sessions=%u\nhellos=%u\nlast_role=%u\nbatches=%u\njobs=%u\ndistinct_jobs=%u\n"
	       "duplicates=%u\nrefused_jobs=%u\nsubscribes=%u\nprefetch=%u\ndelivered=%u\n"
	       "completes=%u\nfails=%u\nextends=%u\nlate_settles=%u\ngoodbyes=%u\n"
	       "max_credit_held=%u\nfail_reason=%s\ntoken_seen=%s\nviolations=%u\n",
	       st.sessions, st.hellos, st.last_role, st.batches, st.jobs, st.distinct_jobs,
	       st.duplicates, st.refused_jobs, st.subscribes, st.prefetch, st.delivered,
	       st.completes, st.fails, st.extends, st.late_settles, st.goodbyes, st.max_credit_held,
	       st.fail_reason, st.token_seen, st.violations);
	if (st.violations)
		printf("violation=%s\n", st.violation);
	return 0;
}
