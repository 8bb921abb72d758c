/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Producer side: check and copy jobs, batch them into EnqueueBatch frames
 * (sl_ledger.c decides when and which), match EnqueueAcks, and keep every
 * job until it has a result, across reconnects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_pvt.h"

/* What a person should read for a failed name/text check. */
static const char *
rule_text(int rc, bool name, size_t max, char *buf, size_t len)
{
	if (rc == -WIRE_E_NAME_EMPTY)
		return "must not be empty";
	if (rc == -WIRE_E_NAME_TOO_LONG || rc == -WIRE_E_TEXT_TOO_LONG) {
		snprintf(buf, len, "is longer than %zu bytes", max);
		return buf;
	}
	if (name)
		return "may hold only A-Z a-z 0-9 _ . : -";
	return "may hold only printable ASCII (0x20-0x7e)";
}

static int
check_str(const char *what, const char *s, bool name, bool required, size_t max, char *err,
	  size_t errlen)
{
	char buf[48];
	int rc;

	if (!s) {
		if (!required)
			return 0;
		snprintf(err, errlen, "job %s is required", what);
		return -SLUICE_E_INVALID;
	}
	rc = name ? wire_check_name(s, strlen(s), max) : wire_check_text(s, strlen(s), max);
	if (rc) {
		snprintf(err, errlen, "job %s %s", what,
			 rule_text(rc, name, max, buf, sizeof(buf)));
		return -SLUICE_E_INVALID;
	}
	return 0;
}

static int
check_range(const char *what, uint64_t v, uint64_t max, const char *unit, char *err, size_t errlen)
{
	if (v <= max)
		return 0;
	snprintf(err, errlen, "job %s %llu is above the most allowed, %llu%s", what,
		 (unsigned long long)v, (unsigned long long)max, unit);
	return -SLUICE_E_INVALID;
}

int
sl_job_check(const struct sluice_job *j, char *err, size_t errlen)
{
	unsigned i;
	int rc;

	if ((rc = check_str("queue", j->queue, true, true, WIRE_QUEUE_NAME_MAX, err, errlen)) ||
	    (rc = check_str("type", j->type, true, true, WIRE_TYPE_NAME_MAX, err, errlen)) ||
	    (rc = check_str("content type", j->content_type, false, false, WIRE_CONTENT_TYPE_MAX,
			    err, errlen)) ||
	    (rc = check_range("priority", j->priority, WIRE_PRIORITY_MAX, "", err, errlen)) ||
	    (rc = check_range("ttl", j->ttl_ms, WIRE_DURATION_MS_MAX, " ms (7 days)", err,
			      errlen)) ||
	    (rc = check_range("max attempts", j->max_attempts, WIRE_ATTEMPTS_MAX, "", err,
			      errlen)) ||
	    (rc = check_range("lease timeout", j->lease_timeout_ms, WIRE_DURATION_MS_MAX,
			      " ms (7 days)", err, errlen)) ||
	    (rc = check_range("unique ttl", j->unique_ttl_ms, WIRE_DURATION_MS_MAX, " ms (7 days)",
			      err, errlen)) ||
	    (rc = check_range("payload size", j->payload_len, WIRE_PAYLOAD_BYTES_CAP, " bytes", err,
			      errlen)) ||
	    (rc = check_range("header count", j->n_headers, WIRE_HEADERS_MAX, "", err, errlen)))
		return rc;
	if (j->unique_key && !*j->unique_key) {
		snprintf(err, errlen, "job unique key must not be empty (leave it out instead)");
		return -SLUICE_E_INVALID;
	}
	rc = check_str("unique key", j->unique_key, false, false, WIRE_UNIQUE_KEY_MAX, err, errlen);
	if (rc)
		return rc;
	if (j->payload_len && !j->payload) {
		snprintf(err, errlen, "job payload is NULL with a length of %zu", j->payload_len);
		return -SLUICE_E_INVALID;
	}
	if (j->n_headers && !j->headers) {
		snprintf(err, errlen, "job headers are NULL with a count of %u", j->n_headers);
		return -SLUICE_E_INVALID;
	}
	for (i = 0; i < j->n_headers; i++) {
		if ((rc = check_str("header key", j->headers[i].key, true, true,
				    WIRE_HEADER_KEY_MAX, err, errlen)) ||
		    (rc = check_str("header value", j->headers[i].value, false, true,
				    WIRE_HEADER_VALUE_MAX, err, errlen)))
			return rc;
	}
	return 0;
}

int
sluice_job_check(const struct sluice_job *job, char *err, size_t errlen)
{
	return sl_job_check(job, err, errlen);
}

/* Append s (with a NUL) at *p; the wire_str covers it without the NUL. */
static struct wire_str
put_str(char **p, const char *s)
{
	struct wire_str w = { NULL, 0 };
	size_t l;

	if (!s)
		return w;
	l = strlen(s);
	memcpy(*p, s, l + 1);
	w.p = *p;
	w.len = (uint32_t)l;
	*p += l + 1;
	return w;
}

static size_t
str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* One allocation: the ledger record, its headers, then strings and payload. */
static struct sl_pjob *
pjob_copy(const struct sluice_job *j)
{
	size_t size = sizeof(struct sl_pjob) + j->n_headers * sizeof(struct wire_header_in);
	struct wire_header_in *hdr;
	struct sl_pjob *pj;
	unsigned i;
	char *p;

	size += str_size(j->queue) + str_size(j->type) + str_size(j->content_type) +
		str_size(j->unique_key) + j->payload_len;
	for (i = 0; i < j->n_headers; i++)
		size += str_size(j->headers[i].key) + str_size(j->headers[i].value);
	pj = calloc(1, size);
	if (!pj)
		return NULL;
	hdr = (struct wire_header_in *)(pj + 1);
	p = (char *)(hdr + j->n_headers);
	pj->in.queue = put_str(&p, j->queue);
	pj->in.type = put_str(&p, j->type);
	pj->in.content_type = put_str(&p, j->content_type);
	pj->in.unique_key = put_str(&p, j->unique_key);
	for (i = 0; i < j->n_headers; i++) {
		hdr[i].key = put_str(&p, j->headers[i].key);
		hdr[i].value = put_str(&p, j->headers[i].value);
	}
	if (j->payload) {
		if (j->payload_len)
			memcpy(p, j->payload, j->payload_len);
		pj->in.payload =
			(struct wire_bytes){ (const uint8_t *)p, (uint32_t)j->payload_len };
	}
	pj->in.headers = j->n_headers ? hdr : NULL;
	pj->in.n_headers = j->n_headers;
	pj->in.priority = j->priority;
	pj->in.not_before_ms = j->not_before_ms;
	pj->in.ttl_ms = j->ttl_ms;
	pj->in.max_attempts = j->max_attempts;
	pj->in.lease_timeout_ms = j->lease_timeout_ms;
	pj->in.unique_ttl_ms = j->unique_ttl_ms;
	pj->in.id = sl_id_to_wire(&j->id);
	pj->wire_bound = sl_job_wire_bound(&pj->in);
	return pj;
}

/* Hand a job its result and free it. */
static void
report(struct sluice_client *c, struct sl_pjob *j, unsigned status, struct sluice_job_id id)
{
	struct sluice_result r = { status, id, j->user };

	if (sluice_status_ok(status)) {
		c->stats.jobs_ok++;
		if (status == SLUICE_STATUS_DUPLICATE)
			c->stats.jobs_duplicate++;
	} else {
		c->stats.jobs_refused++;
	}
	if (j->detached) {
		/* the synchronous caller gave up waiting; nobody to tell */
	} else if (j->sync_out) {
		r.user = NULL;
		*(struct sluice_result *)j->sync_out = r;
	} else if (c->cfg.on_result) {
		SL_CALLBACK(c, c->cfg.on_result(c->cfg.on_result_arg, &r));
	}
	free(j);
}

static void
report_own(struct sluice_client *c, struct sl_pjob *j, unsigned status)
{
	report(c, j, status, sl_id_from_wire(j->in.id));
}

int
sl_produce_send_due(struct sluice_client *c, uint64_t now_ms, bool flush, int64_t *next_ms)
{
	struct sl_ledger *l = &c->ledger;

	if (!c->connected)
		return 0;
	if (!l->pend_head)
		c->flushing = false;
	for (;;) {
		const struct sl_batch *b;
		struct wire_msg_in m = { .type = WIRE_MSG_ENQUEUE_BATCH };
		struct sl_pjob *j;
		int64_t due;
		uint32_t i;
		int rc;

		/* A job too big for this session's frames (after a reconnect) cannot go. */
		while ((j = sl_ledger_pop_oversize(l)))
			report_own(c, j, SLUICE_STATUS_TOO_LARGE);
		due = sl_ledger_due_in(l, now_ms, flush || c->flushing);
		if (due != 0) {
			if (due > 0 && (*next_ms < 0 || due < *next_ms))
				*next_ms = due;
			return 0;
		}
		b = sl_ledger_take(l, now_ms);
		if (!b)
			return 0;
		for (i = 0, j = b->head; j; j = j->next)
			c->batch_in[i++] = j->in;
		m.u.enqueue_batch.seq = b->seq;
		m.u.enqueue_batch.jobs = c->batch_in;
		m.u.enqueue_batch.n_jobs = b->n;
		rc = sl_send_msg(c, &m);
		if (rc) {
			/* Only if the size bound were wrong; do not leave the jobs hanging. */
			struct sl_batch gone;
			uint64_t seq = b->seq;

			if (sl_ledger_ack(l, seq, &gone)) {
				for (j = gone.head; j;) {
					struct sl_pjob *next = j->next;

					report_own(c, j, SLUICE_STATUS_TOO_LARGE);
					j = next;
				}
			}
			return rc;
		}
		c->stats.batches_sent++;
	}
}

int
sl_produce_on_ack(struct sluice_client *c, const struct wire_enqueue_ack *a)
{
	uint64_t seq = wire_enqueue_ack_seq(a);
	uint32_t n = wire_enqueue_ack_status_len(a), i;
	struct sl_batch b;
	struct sl_pjob *j;

	if (!sl_ledger_ack(&c->ledger, seq, &b))
		return sl_fail(c, SLUICE_E_PROTOCOL,
			       "%s acked batch seq %llu, which is not in flight: protocol error",
			       c->conn.peer, (unsigned long long)seq);
	if (n != b.n) {
		for (j = b.head; j;) {
			struct sl_pjob *next = j->next;

			report_own(c, j, SLUICE_STATUS_UNAVAILABLE);
			j = next;
		}
		return sl_fail(
			c, SLUICE_E_PROTOCOL,
			"%s acked batch seq %llu of %u jobs with %u statuses: protocol error",
			c->conn.peer, (unsigned long long)seq, b.n, n);
	}
	for (i = 0, j = b.head; j; i++) {
		struct sl_pjob *next = j->next;

		report(c, j, wire_enqueue_ack_status_at(a, i),
		       sl_id_from_wire(wire_enqueue_ack_ids_at(a, i)));
		j = next;
	}
	return 0;
}

bool
sl_produce_on_error(struct sluice_client *c, uint64_t seq, unsigned status)
{
	struct sl_batch b;
	struct sl_pjob *j;
	uint32_t n;

	if (status == SLUICE_STATUS_RATE_LIMITED) {
		/* Too many batches in flight for the appliance: the batch was dropped whole. */
		n = sl_ledger_requeue(&c->ledger, seq, sl_now_ms());
		c->stats.jobs_resent += n;
		return n > 0;
	}
	if (!sl_ledger_ack(&c->ledger, seq, &b))
		return false;
	for (j = b.head; j;) {
		struct sl_pjob *next = j->next;

		report_own(c, j, status);
		j = next;
	}
	return true;
}

void
sl_produce_session_lost(struct sluice_client *c)
{
	struct sl_pjob *all, *j;

	c->stats.jobs_resent += sl_ledger_requeue_all(&c->ledger);
	if (!c->cfg.server_assigns_ids)
		return;
	/* Without an id a re-send could enqueue twice: report those as unknown instead. */
	all = sl_ledger_steal_all(&c->ledger);
	for (j = all; j;) {
		struct sl_pjob *next = j->next;
		struct wire_jobid z = j->in.id;

		if (j->sent && z.hi == 0 && z.lo == 0)
			report_own(c, j, SLUICE_STATUS_UNAVAILABLE);
		else
			sl_ledger_push(&c->ledger, j, sl_now_ms());
		j = next;
	}
}

void
sl_produce_abandon(struct sluice_client *c)
{
	struct sl_pjob *j = sl_ledger_steal_all(&c->ledger);

	while (j) {
		struct sl_pjob *next = j->next;

		report_own(c, j, SLUICE_STATUS_UNAVAILABLE);
		j = next;
	}
	c->flushing = false;
}

static int
enqueue_one(struct sluice_client *c, const struct sluice_job *job, void *user,
	    struct sluice_result *sync_out, struct sluice_job_id *id_out)
{
	struct sl_ledger *l = &c->ledger;
	struct sluice_job copy = *job;
	struct sl_pjob *pj;
	uint64_t deadline;
	uint32_t hold;
	char err[256];
	int rc;

	if (!(c->cfg.role & SLUICE_PRODUCER))
		return sl_fail(
			c, SLUICE_E_STATE,
			"this session is a consumer; enqueueing needs role producer or both");
	rc = sl_job_check(job, err, sizeof(err));
	if (rc)
		return sl_fail(c, SLUICE_E_INVALID, "%s", err);
	if (!c->cfg.server_assigns_ids) {
		static const struct sluice_job_id zero;

		if (memcmp(&copy.id, &zero, sizeof(zero)) == 0 && sluice_id_random(&copy.id))
			return sl_fail(c, SLUICE_E_INVALID, "no random bytes for a job id");
	}
	pj = pjob_copy(&copy);
	if (!pj)
		return sl_fail(c, SLUICE_E_NOMEM, "out of memory");
	if (pj->wire_bound > sl_ledger_job_budget(l)) {
		uint32_t need = pj->wire_bound;

		free(pj);
		return sl_fail(c, SLUICE_E_TOO_LARGE,
			       "job needs up to %u bytes of a frame; this session's frames hold %u "
			       "(payload %zu bytes: make it smaller)",
			       need, sl_ledger_job_budget(l), job->payload_len);
	}
	pj->user = user;
	pj->sync_out = sync_out;

	/* Backpressure: at most a window's worth of jobs waits behind the window. */
	hold = l->window * l->max_batch_jobs;
	deadline = sl_now_ms() + c->cfg.io_timeout_ms;
	while (sl_ledger_held(l) >= hold) {
		uint64_t now = sl_now_ms();

		if (now >= deadline) {
			free(pj);
			return sl_fail(c, SLUICE_E_TIMEOUT,
				       "no acks from %s for %u ms with %u batches in flight",
				       c->conn.peer, c->cfg.io_timeout_ms, l->n_inflight);
		}
		rc = sl_pump(c, (int)(deadline - now));
		if (rc) {
			free(pj);
			return rc;
		}
		hold = l->window * l->max_batch_jobs;
	}
	sl_ledger_push(l, pj, sl_now_ms());
	c->stats.jobs_enqueued++;
	if (id_out)
		*id_out = copy.id;
	if (sl_ledger_due_in(l, sl_now_ms(), false) == 0) {
		/* The job is queued now; an error from here on is the session's, for later. */
		rc = sl_pump(c, 0);
		if (rc == -SLUICE_E_REFUSED)
			c->deferred = rc;
	}
	return 0;
}

int
sluice_enqueue(struct sluice_client *c, const struct sluice_job *job, void *user,
	       struct sluice_job_id *id_out)
{
	int rc = sl_enter(c, "sluice_enqueue");

	return rc ? rc : enqueue_one(c, job, user, NULL, id_out);
}

int
sluice_flush(struct sluice_client *c)
{
	int rc = sl_enter(c, "sluice_flush");

	if (rc)
		return rc;
	c->flushing = true;
	return sl_pump(c, 0);
}

static int
drain(struct sluice_client *c, int timeout_ms)
{
	uint64_t wait = timeout_ms < 0 ? c->cfg.io_timeout_ms : (uint64_t)timeout_ms;
	uint64_t deadline = sl_now_ms() + wait;
	int rc;

	c->flushing = true;
	while (sl_ledger_held(&c->ledger)) {
		uint64_t now = sl_now_ms();

		if (atomic_load(&c->stop))
			return sl_fail(c, SLUICE_E_STOPPED, "stopped with %u jobs without a result",
				       sl_ledger_held(&c->ledger));
		if (now >= deadline)
			return sl_fail(c, SLUICE_E_TIMEOUT,
				       "%u jobs still without a result from %s after %llu ms",
				       sl_ledger_held(&c->ledger), c->conn.peer,
				       (unsigned long long)wait);
		rc = sl_pump(c, (int)(deadline - now));
		if (rc == -SLUICE_E_REFUSED) {
			c->deferred = rc;
			continue; /* the session goes on; results still come */
		}
		if (rc)
			return rc;
	}
	return 0;
}

int
sluice_drain(struct sluice_client *c, int timeout_ms)
{
	int rc = sl_enter(c, "sluice_drain");

	if (rc)
		return rc;
	rc = drain(c, timeout_ms);
	if (rc == 0 && c->deferred) {
		rc = c->deferred;
		c->deferred = 0;
	}
	return rc;
}

/* Nobody will read results[] after we return: unhook jobs still pointing at it. */
static void
detach(struct sluice_client *c, const struct sluice_result *results, size_t n)
{
	struct sl_ledger *l = &c->ledger;
	struct sl_pjob *j;
	uint32_t b;

	for (j = l->pend_head; j; j = j->next)
		if (j->sync_out >= (const void *)results &&
		    j->sync_out < (const void *)(results + n))
			j->detached = true;
	for (b = 0; b < l->n_inflight; b++)
		for (j = l->inflight[b].head; j; j = j->next)
			if (j->sync_out >= (const void *)results &&
			    j->sync_out < (const void *)(results + n))
				j->detached = true;
}

int
sluice_enqueue_wait(struct sluice_client *c, const struct sluice_job *jobs, size_t n,
		    struct sluice_result *results)
{
	size_t i, ok = 0;
	int rc = sl_enter(c, "sluice_enqueue_wait");

	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		results[i] = (struct sluice_result){ SLUICE_STATUS_UNAVAILABLE, jobs[i].id, NULL };
	for (i = 0; i < n && rc == 0; i++) {
		if (!c->connected)
			rc = sl_fail(c, SLUICE_E_CLOSED, "the session was lost: %s", c->msg);
		else
			rc = enqueue_one(c, &jobs[i], NULL, &results[i], &results[i].id);
	}
	if (rc == 0)
		rc = drain(c, -1);
	if (rc) {
		detach(c, results, n);
		return rc;
	}
	for (i = 0; i < n; i++)
		ok += sluice_status_ok(results[i].status);
	return ok > INT32_MAX ? INT32_MAX : (int)ok;
}
