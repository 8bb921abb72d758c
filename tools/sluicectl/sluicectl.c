/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl: the operator CLI of sluice-ctld. Sends the command line to
 * ctld's operator socket (control/ctld/ops_proto.h) and prints the answer;
 * ctld checks the caller's role (SO_PEERCRED) and audits every request.
 * Usage and help come from the command table shared with ctld
 * (ops_cmds.def), so they work without a daemon.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ops_proto.h"

#define DEFAULT_SOCKET "/run/sluice/ctl.sock"

static const struct {
	const char *cmd, *sub, *args, *help;
} cmds[] = {
#define OPS_CMD(sym, c, s, lo, hi, role, a, h) { c, s, a, h },
#include "ops_cmds.def"
#undef OPS_CMD
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const char *const roles[] = {
#define OPS_CMD(sym, c, s, lo, hi, role, a, h) #role,
#include "ops_cmds.def"
#undef OPS_CMD
};

static void
usage(FILE *f, const char *only)
{
	unsigned i;

	if (!only)
		fprintf(f,
			"usage: sluicectl [--socket PATH] [--json] COMMAND [ARGS]\n"
			"       sluicectl COMMAND --help\n\n"
			"Talks to sluice-ctld's operator socket (--socket, or $SLUICECTL_SOCKET,\n"
			"default " DEFAULT_SOCKET "). ctld maps the caller's uid/gid to a role\n"
			"(viewer < operator < admin; uid 0 is admin) and audits every request.\n"
			"--json prints one JSON document instead of a table.\n\ncommands:\n");
	for (i = 0; i < N_CMDS; i++) {
		char head[64];

		if (only && strcmp(only, cmds[i].cmd) != 0)
			continue;
		snprintf(head, sizeof(head), "%s%s%s %s", cmds[i].cmd, cmds[i].sub[0] ? " " : "",
			 cmds[i].sub, cmds[i].args);
		fprintf(f, "  %-34s %s [%s]\n", head, cmds[i].help, roles[i]);
	}
	if (!only)
		fprintf(f,
			"\n'queues', 'principals', 'tokens' and 'bans' alone list; 'audit' alone "
			"tails.\n\nexit status:\n"
			"  0 done\n  1 the command failed (no such queue, token, ...)\n"
			"  2 usage: unknown command or bad arguments\n"
			"  3 denied: the caller's role may not do this\n"
			"  4 unavailable: sluice-ctld or sluiced cannot be reached\n"
			"  5 reload refused: the configuration is invalid, nothing changed\n");
}

static bool
known_command(const char *c)
{
	unsigned i;

	for (i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].cmd, c))
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("SLUICECTL_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t req[OPS_REQ_MAX], *dg;
	size_t len = 5;
	bool json = false;
	int i, fd, exit_code = OPS_EXIT_UNAVAILABLE;

	if (!path || !*path)
		path = DEFAULT_SOCKET;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout, NULL);
			return 0;
		} else {
			fprintf(stderr, "sluicectl: unknown option %s (--help)\n", argv[i]);
			return OPS_EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr, NULL);
		return OPS_EXIT_USAGE;
	}
	if (!known_command(argv[i])) {
		fprintf(stderr, "sluicectl: unknown command '%s' (--help)\n", argv[i]);
		return OPS_EXIT_USAGE;
	}
	for (int k = i + 1; k < argc; k++) {
		if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
			usage(stdout, argv[i]);
			return 0;
		}
		if (!strcmp(argv[k], "--json"))
			json = true;
	}
	memcpy(req, OPS_MAGIC, 4);
	req[4] = json ? OPS_FLAG_JSON : 0;
	if (argc - i > OPS_ARGS_MAX) {
		fprintf(stderr, "sluicectl: at most %d arguments\n", OPS_ARGS_MAX);
		return OPS_EXIT_USAGE;
	}
	for (; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (!strcmp(argv[i], "--json"))
			continue;
		if (len + n > sizeof(req)) {
			fprintf(stderr, "sluicectl: command line longer than %d bytes\n",
				OPS_REQ_MAX);
			return OPS_EXIT_USAGE;
		}
		memcpy(req + len, argv[i], n);
		len += n;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sluicectl: socket path too long: %s\n", path);
		return OPS_EXIT_USAGE;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "sluicectl: cannot reach sluice-ctld at %s: %s\n", path,
			strerror(errno));
		return OPS_EXIT_UNAVAILABLE;
	}
	{
		struct timeval tv = { .tv_sec = 30 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		fprintf(stderr, "sluicectl: %s: %s\n", path, strerror(errno));
		return OPS_EXIT_UNAVAILABLE;
	}
	dg = malloc(OPS_DGRAM_MAX);
	if (!dg)
		return OPS_EXIT_UNAVAILABLE;
	for (;;) {
		ssize_t n = recv(fd, dg, OPS_DGRAM_MAX, 0);

		if (n < 2) {
			fprintf(stderr, "sluicectl: no answer from sluice-ctld at %s%s%s\n", path,
				n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			exit_code = OPS_EXIT_UNAVAILABLE;
			break;
		}
		exit_code = dg[1];
		fwrite(dg + 2, 1, (size_t)n - 2, exit_code == 0 ? stdout : stderr);
		if (!dg[0])
			break;
	}
	free(dg);
	close(fd);
	return exit_code;
}
