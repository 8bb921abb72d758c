/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice consume -- COMMAND: run COMMAND for one job, payload on its stdin,
 * keeping the lease alive (sluice_heartbeat) while it runs.
 *
 *   parent ──payload──► pipe ──► child stdin      pidfd readable = child exited
 *      └── every HEARTBEAT_TICK_MS: sluice_heartbeat(), job timeout check
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_cmds.h"

#define HEARTBEAT_TICK_MS 100

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
child_env(const struct sluice_delivery *d)
{
	struct sluice_job_id id = sluice_delivery_id(d);
	const char *ct = sluice_delivery_content_type(d);
	char hex[33], num[24];

	sluice_id_format(&id, hex);
	setenv("SLUICE_JOB_ID", hex, 1);
	setenv("SLUICE_JOB_QUEUE", sluice_delivery_queue(d), 1);
	setenv("SLUICE_JOB_TYPE", sluice_delivery_type(d), 1);
	snprintf(num, sizeof(num), "%u", sluice_delivery_attempt(d));
	setenv("SLUICE_JOB_ATTEMPT", num, 1);
	snprintf(num, sizeof(num), "%" PRIu64, sluice_delivery_lease_id(d));
	setenv("SLUICE_LEASE_ID", num, 1);
	snprintf(num, sizeof(num), "%u", sluice_delivery_priority(d));
	setenv("SLUICE_JOB_PRIORITY", num, 1);
	if (ct)
		setenv("SLUICE_JOB_CONTENT_TYPE", ct, 1);
	else
		unsetenv("SLUICE_JOB_CONTENT_TYPE");
	/* The child must not reuse our credentials by accident. */
	unsetenv("SLUICE_TOKEN");
}

static pid_t
spawn(char *const *cmd, const struct sluice_delivery *d, int *stdin_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* Own process group: Ctrl-C stops the consumer, not the job it is running. */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (dup2(p[0], STDIN_FILENO) < 0)
			_exit(127);
		child_env(d);
		execvp(cmd[0], cmd);
		fprintf(stderr, "sluice: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	*stdin_fd = p[1];
	return pid;
}

static int
exit_reason(int status, char *reason, size_t rlen)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(reason, rlen, "command exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(reason, rlen, "command killed by signal %d", WTERMSIG(status));
	else
		snprintf(reason, rlen, "command ended abnormally");
	return 1;
}

int
cli_exec_job(struct sluice_client *c, char *const *cmd, const struct sluice_delivery *d,
	     uint32_t timeout_ms, char *reason, size_t rlen)
{
	size_t len, sent = 0;
	const uint8_t *payload = sluice_delivery_payload(d, &len);
	uint64_t deadline = timeout_ms ? mono_ms() + timeout_ms : UINT64_MAX;
	int in = -1, pidfd, status = 0;
	pid_t pid = spawn(cmd, d, &in);

	if (pid < 0) {
		snprintf(reason, rlen, "could not start the command: %s", strerror(errno));
		return 1;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1 on old kernels: we poll instead */
	for (;;) {
		struct pollfd pf[2];
		int n = 0, wait_ms = HEARTBEAT_TICK_MS;
		pid_t w;

		if (in >= 0 && sent == len) {
			close(in); /* end of payload: the command sees EOF */
			in = -1;
		}
		if (in >= 0)
			pf[n++] = (struct pollfd){ .fd = in, .events = POLLOUT };
		if (pidfd >= 0)
			pf[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		else
			wait_ms = 20;
		if (deadline != UINT64_MAX) {
			uint64_t now = mono_ms();

			if (now >= deadline) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				snprintf(reason, rlen, "command timed out after %u ms", timeout_ms);
				break;
			}
			if (deadline - now < (uint64_t)wait_ms)
				wait_ms = (int)(deadline - now);
		}
		poll(pf, (nfds_t)n, wait_ms);
		if (in >= 0) {
			ssize_t wr = write(in, payload + sent, len - sent);

			if (wr > 0)
				sent += (size_t)wr;
			else if (wr < 0 && errno != EAGAIN && errno != EINTR)
				sent = len; /* the command stopped reading (EPIPE): its exit decides */
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			if (exit_reason(status, reason, rlen) == 0)
				reason[0] = '\0';
			break;
		}
		/* The lease must outlive the command: extend it while we wait. */
		sluice_heartbeat(c);
	}
	if (in >= 0)
		close(in);
	if (pidfd >= 0)
		close(pidfd);
	return reason[0] ? 1 : 0;
}
