/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The operator socket (ops_proto.h): sluicectl's commands (ops_cmds.def),
 * each checked against the caller's role and audited, answered as text for
 * a person or as one JSON document.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ctld.h"

enum ops_cmd {
#define OPS_CMD(sym, cmd, sub, lo, hi, role, args, help) OPS_##sym,
#include "ops_cmds.def"
#undef OPS_CMD
	OPS__COUNT
};

static const struct {
	const char *cmd, *sub, *args, *help;
	unsigned lo, hi;
	enum ops_role role;
} cmds[OPS__COUNT] = {
#define OPS_CMD(sym, c, s, l, h, r, a, hl) [OPS_##sym] = { c, s, a, hl, l, h, OPS_ROLE_##r },
#include "ops_cmds.def"
#undef OPS_CMD
};

static const char *const role_names[] = { "none", "viewer", "operator", "admin" };

static uint8_t rxbuf[OPS_REQ_MAX + 1];

/* sluicectl sends its request as soon as it is connected: a connection that has
 * not within this long is closed, so nobody holds the CTLD_OPS_MAX slots. */
#define OPS_REQUEST_TIMEOUT_MS 5000
static uint64_t request_deadline[CTLD_OPS_MAX]; /* per slot, monotonic ms */

/* ---- output ---- */

struct out {
	FILE *f;
	char *buf;
	size_t len;
	int exit;
};

static void
out_open(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->exit = OPS_EXIT_OK;
	o->f = open_memstream(&o->buf, &o->len);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void fail(struct out *o, bool json, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The command failed: the message (JSON: {"error": ...}) and the exit code. */
static void
fail(struct out *o, bool json, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fseek(o->f, 0, SEEK_SET);
	if (json) {
		fputs("{\"error\":", o->f);
		json_str(o->f, msg);
		fprintf(o->f, ",\"exit\":%d}\n", code);
	} else {
		fprintf(o->f, "sluicectl: %s\n", msg);
	}
	o->exit = code;
}

static void
iso_time(int64_t s, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (s == 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Send o's text to client c in datagrams (more | exit | text) and close it. */
static void
op_finish(struct ctld *d, int i, struct out *o)
{
	struct ctld_op *c = &d->ops[i];
	uint8_t dg[OPS_DGRAM_MAX];
	size_t off = 0;

	fclose(o->f);
	do {
		size_t n = o->len - off;

		if (n > sizeof(dg) - 2)
			n = sizeof(dg) - 2;
		dg[0] = off + n < o->len;
		dg[1] = (uint8_t)o->exit;
		memcpy(dg + 2, o->buf + off, n);
		off += n;
		/* A client that does not read is not waited for. */
		if (send(c->fd, dg, n + 2, MSG_NOSIGNAL) != (ssize_t)(n + 2))
			break;
	} while (off < o->len);
	{
		const struct audit_kv kv[] = {
			{ "uid", NULL, c->uid },
			{ "pid", NULL, c->pid },
			{ "role", role_names[c->role], 0 },
			{ "command", c->cmdline, 0 },
			{ "exit", NULL, o->exit },
		};

		ctld_audit(d, "operator", kv, 5);
	}
	free(o->buf);
	close(c->fd);
	c->fd = -1;
	c->gen++;
	c->waiting = false;
}

/* ---- roles ---- */

static enum ops_role
role_of(const struct ctld *d, uid_t uid, gid_t gid)
{
	enum ops_role r = OPS_ROLE_NONE;
	gid_t groups[64];
	int ng = 0;
	unsigned i, k;
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024];

	if (uid == 0 || uid == geteuid())
		return OPS_ROLE_ADMIN;
	groups[ng++] = gid;
	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 && pwp) {
		int n = 63;

		if (getgrouplist(pw.pw_name, gid, groups + 1, &n) >= 0)
			ng = 1 + n;
	}
	for (i = 0; i < d->cfg.n_operators; i++) {
		const struct ccfg_operator *op = &d->cfg.operators[i];
		bool match = false;

		if (!op->is_gid)
			match = op->id == uid;
		for (k = 0; op->is_gid && k < (unsigned)ng; k++)
			match |= op->id == groups[k];
		if (match && (enum ops_role)op->role > r)
			r = (enum ops_role)op->role;
	}
	return r;
}

/* ---- commands ---- */

static void
cmd_status(struct ctld *d, struct out *o, bool json)
{
	unsigned live = 0, i;
	char since[32];

	for (i = 0; i < d->creds.n; i++)
		live += !d->creds.c[i].revoked &&
			(!d->creds.c[i].expires || d->now_s < d->creds.c[i].expires);
	iso_time(d->dp_since, since, sizeof(since));
	if (json) {
		fprintf(o->f, "{\"ctld_pid\":%d,\"config\":", (int)getpid());
		json_str(o->f, d->config_path);
		fprintf(o->f,
			",\"uptime_s\":%" PRId64 ",\"sluiced\":{\"attached\":%s,\"pid\":%u,"
			"\"since\":\"%s\"},\"queues\":%u,\"principals\":%u,\"tokens_live\":%u,"
			"\"bans\":%u,\"reloads\":%" PRIu64 ",\"reload_failures\":%" PRIu64 "}\n",
			d->now_s - d->started_s, d->dp_attached ? "true" : "false", d->dp_pid,
			since, d->cfg.n_queues, d->cfg.n_principals, live, ctld_bans_active(d),
			d->reloads, d->reload_failures);
		return;
	}
	fprintf(o->f, "sluice-ctld   pid %d, up %" PRId64 " s, config %s\n", (int)getpid(),
		d->now_s - d->started_s, d->config_path);
	if (d->dp_attached)
		fprintf(o->f, "sluiced       attached: pid %u since %s\n", d->dp_pid, since);
	else
		fprintf(o->f,
			"sluiced       NOT attached: new sessions are refused (Unavailable)\n");
	fprintf(o->f,
		"queues        %u\nprincipals    %u\ntokens        %u live\nbans          %u\n",
		d->cfg.n_queues, d->cfg.n_principals, live, ctld_bans_active(d));
	fprintf(o->f, "reloads       %" PRIu64 " (%" PRIu64 " refused)\n", d->reloads,
		d->reload_failures);
}

static void
cmd_principals(struct ctld *d, struct out *o, bool json)
{
	unsigned i, k;

	if (json)
		fputs("{\"principals\":[", o->f);
	else
		fprintf(o->f, "%-20s %-9s %-24s %-16s %9s %4s %9s %10s %6s %6s\n", "NAME", "ROLE",
			"QUEUES", "TYPES", "PAYLOAD", "PRIO", "JOBS/S", "BYTES/S", "CONNS",
			"TOKENS");
	for (i = 0; i < d->cfg.n_principals; i++) {
		const struct ccfg_principal *p = &d->cfg.principals[i];
		const char *role = ctld_role_name(p->role);
		unsigned tokens = 0;
		char globs[512] = "", types[512] = "";

		for (k = 0; k < d->creds.n; k++)
			tokens += !strcmp(d->creds.c[k].principal, p->name) &&
				  !d->creds.c[k].revoked &&
				  (!d->creds.c[k].expires || d->now_s < d->creds.c[k].expires);
		for (k = 0; k < p->n_globs; k++)
			snprintf(globs + strlen(globs), sizeof(globs) - strlen(globs), "%s%s",
				 k ? "," : "", p->globs[k]);
		for (k = 0; k < p->n_types; k++)
			snprintf(types + strlen(types), sizeof(types) - strlen(types), "%s%s",
				 k ? "," : "", p->types[k]);
		if (!p->n_types)
			strcpy(types, "*");
		if (!json) {
			fprintf(o->f, "%-20s %-9s %-24s %-16s %9u %4u %9u %10" PRIu64 " %6u %6u\n",
				p->name, role, globs, types, p->max_payload, p->max_priority,
				p->jobs_per_s, p->bytes_per_s, p->max_connections, tokens);
			continue;
		}
		fprintf(o->f, "%s{\"name\":", i ? "," : "");
		json_str(o->f, p->name);
		fprintf(o->f, ",\"role\":\"%s\",\"queues\":[", role);
		for (k = 0; k < p->n_globs; k++) {
			fputs(k ? "," : "", o->f);
			json_str(o->f, p->globs[k]);
		}
		fputs("],\"job_types\":[", o->f);
		for (k = 0; k < p->n_types; k++) {
			fputs(k ? "," : "", o->f);
			json_str(o->f, p->types[k]);
		}
		fprintf(o->f,
			"],\"max_payload\":%u,\"max_priority\":%u,\"jobs_per_s\":%u,"
			"\"jobs_burst\":%u,\"bytes_per_s\":%" PRIu64 ",\"bytes_burst\":%" PRIu64
			",\"max_connections\":%u,\"tokens_live\":%u}",
			p->max_payload, p->max_priority, p->jobs_per_s, p->jobs_burst,
			p->bytes_per_s, p->bytes_burst, p->max_connections, tokens);
	}
	if (json)
		fputs("]}\n", o->f);
}

static int64_t
parse_num(const char *s, int64_t max)
{
	char *end;
	long long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	return v;
}

static void
cmd_tokens_create(struct ctld *d, struct out *o, bool json, char **argv, unsigned argc)
{
	char token[CREDS_TOKEN_LEN + 1], err[256], exp_s[32];
	int64_t ttl = argc > 1 ? parse_num(argv[1], 100LL * 365 * 86400) : 0;
	struct cred made;

	if (ttl < 0) {
		fail(o, json, OPS_EXIT_USAGE, "TTL-SECONDS '%s': a number of seconds (0: none)",
		     argv[1]);
		return;
	}
	if (!ctld_principal(d, argv[0])) {
		fail(o, json, OPS_EXIT_FAILED,
		     "no principal '%s' in %s (sluicectl principals lists them)", argv[0],
		     d->config_path);
		return;
	}
	if (creds_create(&d->creds, argv[0], d->now_s, ttl ? d->now_s + ttl : 0, token, &made, err,
			 sizeof(err))) {
		fail(o, json, OPS_EXIT_FAILED, "cannot create a token: %s", err);
		return;
	}
	/* Its credential must be in sluiced's table before it is first used. */
	ctld_dp_push_grants(d);
	iso_time(made.expires, exp_s, sizeof(exp_s));
	{
		const struct audit_kv kv[] = { { "token_id", made.id, 0 },
					       { "principal", made.principal, 0 },
					       { "expires", NULL, made.expires } };

		ctld_audit(d, "token.create", kv, 3);
	}
	if (json) {
		fprintf(o->f, "{\"id\":\"%s\",\"principal\":", made.id);
		json_str(o->f, made.principal);
		fprintf(o->f, ",\"expires\":\"%s\",\"token\":\"%s\"}\n", exp_s, token);
	} else {
		fprintf(o->f,
			"token %s for %s (expires %s). It is shown once; ctld keeps only its "
			"hash:\n%s\n",
			made.id, made.principal, exp_s, token);
	}
	memset(token, 0, sizeof(token));
}

static void
cmd_tokens_list(struct ctld *d, struct out *o, bool json, char **argv, unsigned argc)
{
	unsigned i, n = 0;

	if (json)
		fputs("{\"tokens\":[", o->f);
	else
		fprintf(o->f, "%-12s  %-20s %-20s %-20s %-20s %s\n", "ID", "PRINCIPAL", "CREATED",
			"EXPIRES", "REVOKED", "SOURCE");
	for (i = 0; i < d->creds.n; i++) {
		const struct cred *c = &d->creds.c[i];
		char cr[32], ex[32], rv[32];

		if (argc && strcmp(c->principal, argv[0]) != 0)
			continue;
		iso_time(c->created, cr, sizeof(cr));
		iso_time(c->expires, ex, sizeof(ex));
		iso_time(c->revoked, rv, sizeof(rv));
		if (json) {
			fprintf(o->f, "%s{\"id\":\"%s\",\"principal\":", n ? "," : "", c->id);
			json_str(o->f, c->principal);
			fprintf(o->f,
				",\"created\":\"%s\",\"expires\":\"%s\",\"revoked\":\"%s\","
				"\"live\":%s,\"source\":\"%s\"}",
				cr, ex, rv,
				!c->revoked && (!c->expires || d->now_s < c->expires) ? "true"
										      : "false",
				c->from_config ? "config" : "store");
		} else {
			fprintf(o->f, "%-12s  %-20s %-20s %-20s %-20s %s\n", c->id, c->principal,
				cr, ex, rv, c->from_config ? "config" : "store");
		}
		n++;
	}
	if (json)
		fputs("]}\n", o->f);
}

static void
cmd_tokens_revoke(struct ctld *d, struct out *o, bool json, char **argv)
{
	char err[256];
	const struct cred *c = creds_find(&d->creds, argv[0]);

	if (!c) {
		fail(o, json, OPS_EXIT_FAILED, "no token with id '%s' (sluicectl tokens list)",
		     argv[0]);
		return;
	}
	if (creds_revoke(&d->creds, argv[0], d->now_s, err, sizeof(err))) {
		fail(o, json, OPS_EXIT_FAILED, "%s", err);
		return;
	}
	ctld_dp_push_grants(d); /* its sessions end: sluiced no longer has its credential */
	{
		const struct audit_kv kv[] = { { "token_id", argv[0], 0 } };

		ctld_audit(d, "token.revoke", kv, 1);
	}
	if (json)
		fprintf(o->f, "{\"revoked\":\"%s\"}\n", argv[0]);
	else
		fprintf(o->f, "token %s revoked; its sessions end within a second\n", argv[0]);
}

static void
cmd_bans_list(struct ctld *d, struct out *o, bool json)
{
	unsigned i, n = 0;

	if (json)
		fputs("{\"bans\":[", o->f);
	else
		fprintf(o->f, "%-16s %-20s %s\n", "ADDRESS", "BANNED UNTIL", "FAILURES IN WINDOW");
	for (i = 0; i < CTLD_ADDRS_MAX; i++) {
		const struct ctld_addr *a = &d->addrs[i];
		struct in_addr ia = { htonl(a->addr) };
		char s[INET_ADDRSTRLEN], until[32];
		/* a->fails is only reset by the next failure: a window that is over counts 0 */
		uint32_t fails = a->window_start + d->cfg.ban_window_s > d->now_s ? a->fails : 0;

		if (!a->addr || (a->banned_until <= d->now_s && fails == 0))
			continue;
		inet_ntop(AF_INET, &ia, s, sizeof(s));
		iso_time(a->banned_until > d->now_s ? a->banned_until : 0, until, sizeof(until));
		if (json)
			fprintf(o->f,
				"%s{\"address\":\"%s\",\"banned\":%s,\"until\":\"%s\","
				"\"failures\":%u}",
				n ? "," : "", s, a->banned_until > d->now_s ? "true" : "false",
				until, fails);
		else
			fprintf(o->f, "%-16s %-20s %u\n", s, until, fails);
		n++;
	}
	if (json)
		fputs("]}\n", o->f);
}

static void
cmd_bans_lift(struct ctld *d, struct out *o, bool json, char **argv)
{
	struct in_addr ia;
	unsigned i;

	if (inet_pton(AF_INET, argv[0], &ia) != 1) {
		fail(o, json, OPS_EXIT_USAGE, "'%s' is not an IPv4 address", argv[0]);
		return;
	}
	for (i = 0; i < CTLD_ADDRS_MAX; i++) {
		struct ctld_addr *a = &d->addrs[i];

		if (a->addr != ntohl(ia.s_addr) || a->banned_until <= d->now_s)
			continue;
		*a = (struct ctld_addr){ 0 };
		ctld_dp_push_bans(d);
		{
			const struct audit_kv kv[] = { { "addr", argv[0], 0 } };

			ctld_audit(d, "ban.lift", kv, 1);
		}
		if (json)
			fprintf(o->f, "{\"lifted\":\"%s\"}\n", argv[0]);
		else
			fprintf(o->f, "ban of %s lifted\n", argv[0]);
		return;
	}
	fail(o, json, OPS_EXIT_FAILED, "%s is not banned", argv[0]);
}

static void
cmd_reload(struct ctld *d, struct out *o, bool json)
{
	char err[1024];

	if (ctld_reload(d, err, sizeof(err))) {
		fail(o, json, OPS_EXIT_CONFIG, "%s (the configuration in use is unchanged)", err);
		return;
	}
	if (json)
		fprintf(o->f, "{\"reloaded\":true,\"principals\":%u,\"queues\":%u}\n",
			d->cfg.n_principals, d->cfg.n_queues);
	else
		fprintf(o->f, "reloaded %s: %u principals, %u queues\n", d->config_path,
			d->cfg.n_principals, d->cfg.n_queues);
}

static void
cmd_audit(struct ctld *d, struct out *o, bool json, enum ops_cmd cmd, char **argv, unsigned argc)
{
	char err[512];

	if (cmd == OPS_AUDIT_VERIFY) {
		uint64_t lines = 0, bad = 0;

		if (audit_verify(d->cfg.audit_log, &lines, &bad, err, sizeof(err))) {
			fail(o, json, OPS_EXIT_FAILED, "audit chain broken at line %" PRIu64 ": %s",
			     bad, err);
			return;
		}
		if (json)
			fprintf(o->f, "{\"intact\":true,\"lines\":%" PRIu64 "}\n", lines);
		else
			fprintf(o->f, "%s: chain intact, %" PRIu64 " lines\n", d->cfg.audit_log,
				lines);
		return;
	}
	{
		int64_t n = argc ? parse_num(argv[0], 100000) : 20;
		char path[] = "/tmp/sluice-ctld-tail-XXXXXX";
		int fd;
		char buf[4096];
		ssize_t r;

		if (n < 0) {
			fail(o, json, OPS_EXIT_USAGE, "N '%s': a number of lines", argv[0]);
			return;
		}
		fd = mkstemp(path);
		if (fd < 0 || (unlink(path), audit_tail(d->cfg.audit_log, (unsigned)n, fd)) != 0) {
			fail(o, json, OPS_EXIT_FAILED, "cannot read %s: %s", d->cfg.audit_log,
			     strerror(errno));
			if (fd >= 0)
				close(fd);
			return;
		}
		lseek(fd, 0, SEEK_SET);
		if (json)
			fputs("{\"lines\":[", o->f);
		{
			bool first = true, bol = true;

			while ((r = read(fd, buf, sizeof(buf))) > 0) {
				ssize_t k;

				if (!json) {
					fwrite(buf, 1, (size_t)r, o->f);
					continue;
				}
				/* Each line is a JSON object already: an array of them. */
				for (k = 0; k < r; k++) {
					if (bol && buf[k] != '\n') {
						fputs(first ? "" : ",", o->f);
						first = false;
						bol = false;
					}
					if (buf[k] == '\n')
						bol = true;
					else
						fputc(buf[k], o->f);
				}
			}
		}
		if (json)
			fputs("]}\n", o->f);
		close(fd);
	}
}

static void
cmd_stats(struct ctld *d, struct out *o, bool json)
{
	static const char *const names[CTLD_AUTH__COUNT] = {
#define AUTH_NAME(name) #name,
		CTLD_AUTH_RESULTS(AUTH_NAME)
#undef AUTH_NAME
	};
	unsigned i;

	if (json) {
		fputs("{\"auth\":{", o->f);
		for (i = 0; i < CTLD_AUTH__COUNT; i++)
			fprintf(o->f, "%s\"%s\":%" PRIu64, i ? "," : "", names[i], d->auth[i]);
		fprintf(o->f,
			"},\"bans_total\":%" PRIu64 ",\"operator_requests\":%" PRIu64
			",\"operator_denied\":%" PRIu64 ",\"dataplane_attaches\":%" PRIu64
			",\"dataplane_refused\":%" PRIu64 ",\"dataplane_invalid\":%" PRIu64 "}\n",
			d->bans_total, d->ops_requests, d->ops_denied, d->dp_attaches,
			d->dp_refused, d->dp_invalid);
		return;
	}
	fputs("authentication\n", o->f);
	for (i = 0; i < CTLD_AUTH__COUNT; i++)
		fprintf(o->f, "  %-12s %" PRIu64 "\n", names[i], d->auth[i]);
	fprintf(o->f,
		"bans           %" PRIu64 "\noperator       %" PRIu64 " requests, %" PRIu64
		" denied\ndataplane      %" PRIu64 " attaches, %" PRIu64 " refused, %" PRIu64
		" invalid messages\n",
		d->bans_total, d->ops_requests, d->ops_denied, d->dp_attaches, d->dp_refused,
		d->dp_invalid);
}

/* ---- queue commands: through sluiced ---- */

static const uint8_t ctl_type_of[OPS__COUNT] = {
	[OPS_QUEUES_LIST] = CTL_MSG_LIST_QUEUES,  [OPS_QUEUES_SHOW] = CTL_MSG_LIST_QUEUES,
	[OPS_QUEUES_PAUSE] = CTL_MSG_PAUSE_QUEUE, [OPS_QUEUES_RESUME] = CTL_MSG_RESUME_QUEUE,
	[OPS_JOBS_SHOW] = CTL_MSG_JOB_REQUEST,    [OPS_JOBS_DEAD] = CTL_MSG_JOB_REQUEST,
	[OPS_JOBS_RETRY] = CTL_MSG_JOB_REQUEST,   [OPS_JOBS_DELETE] = CTL_MSG_JOB_REQUEST,
	[OPS_CONNS_LIST] = CTL_MSG_LIST_CONNS,    [OPS_CONNS_KICK] = CTL_MSG_KICK_CONN,
	[OPS_QUEUES_PURGE] = CTL_MSG_PURGE_QUEUE, [OPS_QUEUES_REDRIVE] = CTL_MSG_REDRIVE_QUEUE,
};

static void
queue_info(FILE *f, const struct wire_ctl_queue_info *qi, bool json, bool first)
{
	struct wire_str name = wire_ctl_queue_info_name(qi);
	uint64_t v[CTLD_QUEUE_VALUES];
	unsigned i;

	ctl_queue_info_values(qi, v);
	if (json) {
		fprintf(f, "%s{\"name\":\"%.*s\",\"paused\":%s", first ? "" : ",", (int)name.len,
			name.p, wire_ctl_queue_info_paused(qi) ? "true" : "false");
		for (i = 0; i < CTLD_QUEUE_VALUES; i++)
			fprintf(f, ",\"%s\":%" PRIu64, ctl_queue_info_names[i], v[i]);
		fputc('}', f);
		return;
	}
	fprintf(f,
		"%-24.*s %-6s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		" %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
		(int)name.len, name.p, wire_ctl_queue_info_paused(qi) ? "paused" : "-", v[0], v[1],
		v[2], v[3], v[4], v[6], v[7], v[8]);
}

static void
queue_header(FILE *f)
{
	fprintf(f, "%-24s %-6s %8s %8s %8s %8s %8s %10s %10s %10s\n", "QUEUE", "STATE", "READY",
		"DELAYED", "RETRY", "LEASED", "DEAD", "ENQUEUED", "DELIVERED", "COMPLETED");
}

static void
job_list(struct out *o, bool json, const struct wire_ctl_job_list *jl, const struct ctld_qreq *q)
{
	static const char *const states[] = { "?",      "scheduled",  "ready",
					      "leased", "retry-wait", "dead" };
	static const char *const done[] = { "", "", "", "retried", "deleted" };
	uint32_t n = wire_ctl_job_list_jobs_len(jl), i;

	if (json)
		fprintf(o->f, "{\"queue\":\"%s\",\"%s\":%s", q->queue,
			q->job_op >= 3 ? done[q->job_op] : "jobs", q->job_op >= 3 ? "" : "[");
	else if (q->job_op == 2)
		fprintf(o->f, "%u dead job(s) in %s%s\n%-32s %-20s %-10s %8s %4s %8s %-24s %s\n",
			wire_ctl_job_list_total(jl), q->queue, n ? ", oldest first:" : "", "ID",
			"TYPE", "STATE", "ATTEMPTS", "PRIO", "BYTES", "ENQUEUED", "DIED OF");
	for (i = 0; i < n; i++) {
		const struct wire_ctl_job_info *ji = wire_ctl_job_list_jobs_at(jl, i);
		struct wire_str t = wire_ctl_job_info_type(ji),
				ct = wire_ctl_job_info_content_type(ji);
		unsigned st = wire_ctl_job_info_state(ji), why = wire_ctl_job_info_dead_reason(ji);
		uint64_t ms = wire_ctl_job_info_enqueued_ms(ji);
		const char *reason = st == 5 && wire_status_name(why) ? wire_status_name(why) : "-";
		char when[40], id[40];

		iso_time((int64_t)(ms / 1000), when, sizeof(when));
		snprintf(id, sizeof(id), "%016" PRIx64 "%016" PRIx64, wire_ctl_job_info_id_hi(ji),
			 wire_ctl_job_info_id_lo(ji));
		if (json) {
			fprintf(o->f, "%s{\"id\":\"%s\",\"type\":\"%.*s\",\"content_type\":",
				i ? "," : "", id, t.p ? (int)t.len : 0, t.p ? t.p : "");
			{
				char ctype[WIRE_CONTENT_TYPE_MAX + 1];

				snprintf(ctype, sizeof(ctype), "%.*s", ct.p ? (int)ct.len : 0,
					 ct.p ? ct.p : "");
				json_str(o->f, ctype);
			}
			fprintf(o->f,
				",\"state\":\"%s\",\"attempts\":%u,\"max_attempts\":%u,"
				"\"priority\":%u,\"payload_bytes\":%u,\"enqueued_ms\":%" PRIu64
				",\"dead_reason\":\"%s\"}",
				states[st < 6 ? st : 0], wire_ctl_job_info_attempts(ji),
				wire_ctl_job_info_max_attempts(ji), wire_ctl_job_info_priority(ji),
				wire_ctl_job_info_payload_bytes(ji), ms, reason);
			continue;
		}
		if (q->job_op != 2)
			fprintf(o->f, "%s%s %s in %s\n", done[q->job_op],
				q->job_op >= 3 ? ":" : "job", id, q->queue);
		fprintf(o->f, "%-32s %-20.*s %-10s %4u/%-3u %4u %8u %-24s %s\n", id,
			t.p ? (int)t.len : 1, t.p ? t.p : "-", states[st < 6 ? st : 0],
			wire_ctl_job_info_attempts(ji), wire_ctl_job_info_max_attempts(ji),
			wire_ctl_job_info_priority(ji), wire_ctl_job_info_payload_bytes(ji), when,
			reason);
	}
	if (json)
		fprintf(o->f, "%s,\"dead_total\":%u}\n", q->job_op >= 3 ? "" : "]",
			wire_ctl_job_list_total(jl));
}

static void
conn_list(struct out *o, bool json, const struct wire_ctl_conn_list *cl, bool kick,
	  const struct ctld_qreq *q)
{
	static const char *const states[] = { "?", "handshake", "session", "closing" };
	uint32_t n = wire_ctl_conn_list_conns_len(cl), i;

	if (kick && n == 0) {
		fail(o, json, OPS_EXIT_FAILED, "no connection %u.%u.%u (sluicectl conns list)",
		     q->io, q->slot, q->gen);
		return;
	}
	if (json)
		fprintf(o->f, "{\"%s\":[", kick ? "kicked" : "conns");
	else if (!kick)
		fprintf(o->f, "%-14s %-21s %-9s %-8s %-20s %-12s %s\n", "ID", "ADDRESS", "STATE",
			"ROLE", "PRINCIPAL", "CREDENTIAL", "AGE");
	for (i = 0; i < n; i++) {
		const struct wire_ctl_conn_info *ci = wire_ctl_conn_list_conns_at(cl, i);
		struct wire_str p = wire_ctl_conn_info_principal(ci);
		struct in_addr ia = { htonl(wire_ctl_conn_info_addr(ci)) };
		char id[40], addr[32], ip[INET_ADDRSTRLEN], cred[16];
		unsigned st = wire_ctl_conn_info_state(ci), role = wire_ctl_conn_info_role(ci);

		snprintf(id, sizeof(id), "%u.%u.%u", wire_ctl_conn_info_io(ci),
			 wire_ctl_conn_info_slot(ci), wire_ctl_conn_info_gen(ci));
		inet_ntop(AF_INET, &ia, ip, sizeof(ip));
		snprintf(addr, sizeof(addr), "%s:%u", ip, wire_ctl_conn_info_port(ci));
		snprintf(cred, sizeof(cred), "%012" PRIx64, wire_ctl_conn_info_cred(ci));
		if (!p.p)
			strcpy(cred, "-");
		if (json) {
			fprintf(o->f,
				"%s{\"id\":\"%s\",\"address\":\"%s\",\"state\":\"%s\","
				"\"role\":\"%s\",\"principal\":\"%.*s\",\"credential\":\"%s\","
				"\"age_ms\":%u}",
				i ? "," : "", id, addr, states[st < 4 ? st : 0],
				ctld_role_name(role), p.p ? (int)p.len : 0, p.p ? p.p : "", cred,
				wire_ctl_conn_info_age_ms(ci));
		} else if (kick) {
			fprintf(o->f,
				"connection %s (%s, %.*s) ends once its batches are answered\n", id,
				addr, p.p ? (int)p.len : 1, p.p ? p.p : "-");
		} else {
			fprintf(o->f, "%-14s %-21s %-9s %-8s %-20.*s %-12s %.1fs\n", id, addr,
				states[st < 4 ? st : 0], ctld_role_name(role), p.p ? (int)p.len : 1,
				p.p ? p.p : "-", cred, wire_ctl_conn_info_age_ms(ci) / 1000.0);
		}
	}
	if (json)
		fprintf(o->f, "],\"truncated\":%s}\n",
			wire_ctl_conn_list_truncated(cl) ? "true" : "false");
	else if (wire_ctl_conn_list_truncated(cl))
		fprintf(o->f, "(more connections than shown)\n");
}

void
ctld_ops_queue_answer(struct ctld *d, const struct ctld_qreq *q, const void *msg, const char *why)
{
	const struct wire_ctl_control *r = msg;
	struct ctld_op *c;
	struct out o;
	uint32_t i;

	if (q->op < 0 || d->ops[q->op].fd < 0 || d->ops[q->op].gen != q->op_gen)
		return; /* the operator left */
	c = &d->ops[q->op];
	out_open(&o);
	if (!r) {
		fail(&o, c->json, OPS_EXIT_UNAVAILABLE, "%s", why);
	} else if (wire_ctl_control_msg_type(r) == CTL_MSG_ERROR) {
		const struct wire_ctl_error *e = ctl_error(r);
		struct wire_str t = wire_ctl_error_message(e);
		unsigned code = wire_ctl_error_code(e);

		fail(&o, c->json,
		     code == CTL_STATUS_BUSY || code == CTL_STATUS_INTERNAL ? OPS_EXIT_UNAVAILABLE
									    : OPS_EXIT_FAILED,
		     "sluiced: %s: %.*s", ctl_status_name(code) ? ctl_status_name(code) : "?",
		     (int)t.len, t.p ? t.p : "");
	} else if (wire_ctl_control_msg_type(r) == CTL_MSG_JOB_LIST) {
		job_list(&o, c->json, ctl_job_list(r), q);
	} else if (wire_ctl_control_msg_type(r) == CTL_MSG_CONN_LIST) {
		conn_list(&o, c->json, ctl_conn_list(r), q->cmd == CTL_MSG_KICK_CONN, q);
	} else if (wire_ctl_control_msg_type(r) == CTL_MSG_QUEUE_LIST) {
		const struct wire_ctl_queue_list *ql = ctl_queue_list(r);

		if (c->json)
			fputs("{\"queues\":[", o.f);
		else
			queue_header(o.f);
		for (i = 0; i < wire_ctl_queue_list_queues_len(ql); i++)
			queue_info(o.f, wire_ctl_queue_list_queues_at(ql, i), c->json, i == 0);
		if (c->json)
			fputs("]}\n", o.f);
	} else {
		const struct wire_ctl_action_result *ar = ctl_action_result(r);

		if (c->json) {
			fprintf(o.f, "{\"count\":%u,\"queue\":", wire_ctl_action_result_count(ar));
			queue_info(o.f, wire_ctl_action_result_queue(ar), true, true);
			fputs("}\n", o.f);
		} else {
			fprintf(o.f, "done (%u jobs)\n", wire_ctl_action_result_count(ar));
			queue_header(o.f);
			queue_info(o.f, wire_ctl_action_result_queue(ar), false, true);
		}
	}
	op_finish(d, q->op, &o);
}

/* ---- requests ---- */

static int
find_cmd(char **argv, unsigned argc, unsigned *used)
{
	unsigned i;

	if (argc == 0)
		return -1;
	for (i = 0; i < OPS__COUNT; i++) {
		if (strcmp(cmds[i].cmd, argv[0]) != 0)
			continue;
		if (!cmds[i].sub[0]) {
			*used = 1;
			return (int)i;
		}
		if (argc > 1 && strcmp(cmds[i].sub, argv[1]) == 0) {
			*used = 2;
			return (int)i;
		}
	}
	/* "queues", "tokens", ... alone: their list (audit: tail). */
	for (i = 0; i < OPS__COUNT; i++) {
		if (strcmp(cmds[i].cmd, argv[0]) == 0 &&
		    (!strcmp(cmds[i].sub, "list") || !strcmp(cmds[i].sub, "tail")) &&
		    (argc == 1 || argv[1][0] == '\0' ||
		     (argc > 1 && isdigit((unsigned char)argv[1][0])))) {
			*used = 1;
			return (int)i;
		}
	}
	return -1;
}

static void
handle_request(struct ctld *d, int i, size_t len)
{
	struct ctld_op *c = &d->ops[i];
	char *argv[OPS_ARGS_MAX];
	unsigned argc = 0, used = 0;
	size_t off = 5;
	struct out o;
	int k;

	out_open(&o);
	d->ops_requests++;
	c->json = len >= 5 && (rxbuf[4] & OPS_FLAG_JSON);
	if (len < 5 || len > OPS_REQ_MAX || memcmp(rxbuf, OPS_MAGIC, 4) != 0 ||
	    rxbuf[len - 1] != '\0') {
		snprintf(c->cmdline, sizeof(c->cmdline), "(malformed request)");
		fail(&o, c->json, OPS_EXIT_USAGE, "malformed request (not sluicectl?)");
		op_finish(d, i, &o);
		return;
	}
	while (off < len && argc < OPS_ARGS_MAX) {
		argv[argc++] = (char *)rxbuf + off;
		off += strlen((char *)rxbuf + off) + 1;
	}
	c->cmdline[0] = '\0';
	for (k = 0; k < (int)argc; k++) {
		size_t n = strlen(c->cmdline);
		unsigned char *p;

		snprintf(c->cmdline + n, sizeof(c->cmdline) - n, "%s%s", k ? " " : "", argv[k]);
		for (p = (unsigned char *)c->cmdline + n; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				*p = '?';
	}
	if (c->role == OPS_ROLE_NONE) {
		d->ops_denied++;
		fail(&o, c->json, OPS_EXIT_DENIED,
		     "uid %u has no operator role (admin, operator or viewer in ctld's operators)",
		     (unsigned)c->uid);
		op_finish(d, i, &o);
		return;
	}
	k = find_cmd(argv, argc, &used);
	if (off < len || k < 0) {
		fail(&o, c->json, OPS_EXIT_USAGE, "unknown command '%s' (sluicectl --help)",
		     c->cmdline);
		op_finish(d, i, &o);
		return;
	}
	argc -= used;
	if (argc < cmds[k].lo || argc > cmds[k].hi) {
		fail(&o, c->json, OPS_EXIT_USAGE, "usage: sluicectl %s%s%s %s", cmds[k].cmd,
		     cmds[k].sub[0] ? " " : "", cmds[k].sub, cmds[k].args);
		op_finish(d, i, &o);
		return;
	}
	if (c->role < cmds[k].role) {
		d->ops_denied++;
		fail(&o, c->json, OPS_EXIT_DENIED,
		     "'%s %s' needs the %s role; uid %u has %s (ctld's operators)", cmds[k].cmd,
		     cmds[k].sub, role_names[cmds[k].role], (unsigned)c->uid, role_names[c->role]);
		op_finish(d, i, &o);
		return;
	}
	switch ((enum ops_cmd)k) {
	case OPS_STATUS:
		cmd_status(d, &o, c->json);
		break;
	case OPS_PRINCIPALS_LIST:
		cmd_principals(d, &o, c->json);
		break;
	case OPS_TOKENS_CREATE:
		cmd_tokens_create(d, &o, c->json, argv + used, argc);
		break;
	case OPS_TOKENS_LIST:
		cmd_tokens_list(d, &o, c->json, argv + used, argc);
		break;
	case OPS_TOKENS_REVOKE:
		cmd_tokens_revoke(d, &o, c->json, argv + used);
		break;
	case OPS_BANS_LIST:
		cmd_bans_list(d, &o, c->json);
		break;
	case OPS_BANS_LIFT:
		cmd_bans_lift(d, &o, c->json, argv + used);
		break;
	case OPS_RELOAD:
		cmd_reload(d, &o, c->json);
		break;
	case OPS_AUDIT_TAIL:
	case OPS_AUDIT_VERIFY:
		cmd_audit(d, &o, c->json, (enum ops_cmd)k, argv + used, argc);
		break;
	case OPS_STATS:
		cmd_stats(d, &o, c->json);
		break;
	default: {
		/* queue commands: sluiced answers, ctld_ops_queue_answer renders */
		const char *q = argc ? argv[used] : NULL;
		int64_t max = argc > 1 ? parse_num(argv[used + 1], CTL_REDRIVE_MAX) : 0;
		struct ctld_qreq req = { .cmd = ctl_type_of[k], .max = (uint32_t)max };
		char tail;

		if (ctl_type_of[k] == CTL_MSG_JOB_REQUEST) {
			uint8_t idb[16];
			unsigned b;

			req.job_op = k == OPS_JOBS_SHOW    ? 1
				     : k == OPS_JOBS_DEAD  ? 2
				     : k == OPS_JOBS_RETRY ? 3
							   : 4;
			req.max = 0;
			if (wire_check_name(q, strlen(q), WIRE_QUEUE_NAME_MAX)) {
				fail(&o, c->json, OPS_EXIT_USAGE, "'%s' is not a queue name", q);
				break;
			}
			snprintf(req.queue, sizeof(req.queue), "%s", q);
			if (req.job_op == 2 && argc > 1) {
				int64_t n = parse_num(argv[used + 1], CTL_JOBS_MAX);

				if (n < 1) {
					fail(&o, c->json, OPS_EXIT_USAGE, "N: 1 to %u",
					     CTL_JOBS_MAX);
					break;
				}
				req.max = (uint32_t)n;
			} else if (req.job_op != 2) {
				const char *id = argv[used + 1];

				if (wire_unhex(id, strlen(id), idb, sizeof(idb))) {
					fail(&o, c->json, OPS_EXIT_USAGE,
					     "ID '%s': the job id, 32 hex digits as sluice prints "
					     "it",
					     id);
					break;
				}
				for (b = 0; b < 8; b++) {
					req.id_hi = req.id_hi << 8 | idb[b];
					req.id_lo = req.id_lo << 8 | idb[8 + b];
				}
			}
			max = 0;
		} else if (k == OPS_CONNS_KICK) {
			if (sscanf(q, "%u.%u.%u%c", &req.io, &req.slot, &req.gen, &tail) != 3) {
				fail(&o, c->json, OPS_EXIT_USAGE,
				     "ID '%s': io.slot.gen as conns list shows it", q);
				break;
			}
		} else if (q && wire_check_name(q, strlen(q), WIRE_QUEUE_NAME_MAX)) {
			fail(&o, c->json, OPS_EXIT_USAGE, "'%s' is not a queue name", q);
			break;
		} else if (q) {
			snprintf(req.queue, sizeof(req.queue), "%s", q);
		}
		if (max < 0) {
			fail(&o, c->json, OPS_EXIT_USAGE, "MAX: 0 to %u", CTL_REDRIVE_MAX);
			break;
		}
		if (!ctld_dp_request(d, i, &req)) {
			fail(&o, c->json, OPS_EXIT_UNAVAILABLE,
			     d->dp_attached ? "too many requests waiting for sluiced: retry"
					    : "sluiced is not connected to ctld");
			break;
		}
		c->waiting = true;
		fclose(o.f);
		free(o.buf);
		return;
	}
	}
	op_finish(d, i, &o);
}

/* ---- the socket ---- */

int
ctld_ops_open(struct ctld *d, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < CTLD_OPS_MAX; i++)
		d->ops[i].fd = -1;
	/* Anyone may connect; SO_PEERCRED and the operators table decide what they may do. */
	d->op_lfd = ctld_listen_unix(d->cfg.operator_socket, 0666, CTLD_OPS_MAX, err, errlen);
	return d->op_lfd < 0 ? -1 : 0;
}

unsigned
ctld_ops_pollfds(struct ctld *d, struct pollfd *p)
{
	unsigned n = 0, i;

	p[n++] = (struct pollfd){ .fd = d->op_lfd, .events = POLLIN };
	for (i = 0; i < CTLD_OPS_MAX; i++)
		if (d->ops[i].fd >= 0 && !d->ops[i].waiting)
			p[n++] = (struct pollfd){ .fd = d->ops[i].fd, .events = POLLIN };
	return n;
}

static void
ops_accept(struct ctld *d)
{
	unsigned k, i;

	for (k = 0; k < 8; k++) {
		struct ucred cred = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
		socklen_t cl = sizeof(cred);
		int fd = accept4(d->op_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctld_op *c;

		if (fd < 0)
			return;
		for (i = 0; i < CTLD_OPS_MAX && d->ops[i].fd >= 0; i++)
			;
		if (i == CTLD_OPS_MAX || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0) {
			uint8_t busy[] = { 0, OPS_EXIT_UNAVAILABLE, 'b', 'u', 's', 'y', '\n' };

			if (send(fd, busy, sizeof(busy), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				d->ops_denied++;
			close(fd);
			continue;
		}
		c = &d->ops[i];
		c->fd = fd;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		c->waiting = false;
		request_deadline[i] = d->now_ms + OPS_REQUEST_TIMEOUT_MS;
		/*
		 * A caller without a role is refused when its request comes (handle_request),
		 * not here: closing now, before sluicectl has sent its request, would make its
		 * send fail (EPIPE) or its read see the reset instead of this answer.
		 */
		c->role = role_of(d, cred.uid, cred.gid);
	}
}

void
ctld_ops_poll(struct ctld *d)
{
	unsigned i;

	ops_accept(d);
	for (i = 0; i < CTLD_OPS_MAX; i++) {
		struct ctld_op *c = &d->ops[i];
		ssize_t n;

		if (c->fd < 0 || c->waiting)
			continue;
		n = recv(c->fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (d->now_ms >= request_deadline[i]) {
				struct out o;

				snprintf(c->cmdline, sizeof(c->cmdline), "(no request)");
				out_open(&o);
				fail(&o, false, OPS_EXIT_USAGE, "no request within %d ms",
				     OPS_REQUEST_TIMEOUT_MS);
				op_finish(d, (int)i, &o);
			}
			continue;
		}
		if (n <= 0) {
			close(c->fd);
			c->fd = -1;
			c->gen++;
			ctld_dp_forget_op(d, (int)i);
			continue;
		}
		handle_request(d, (int)i, (size_t)n);
	}
}

void
ctld_ops_close(struct ctld *d)
{
	unsigned i;

	for (i = 0; i < CTLD_OPS_MAX; i++)
		if (d->ops[i].fd >= 0)
			close(d->ops[i].fd);
	if (d->op_lfd >= 0) {
		close(d->op_lfd);
		unlink(d->cfg.operator_socket);
	}
}
