/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ctld's configuration: reading the file, the checks that need the
 * whole of it (names, token ids and hashes unique across the file), and the
 * --queue argument for sluiced. The YAML itself is read in ccfg_tree.c and
 * checked against the schema tables of ccfg_schema.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccfg_pvt.h"

static int vfail(struct ccfg_ctx *c, uint32_t line, uint32_t col, const char *path, const char *fmt,
		 va_list ap) __attribute__((format(printf, 5, 0)));

static int
vfail(struct ccfg_ctx *c, uint32_t line, uint32_t col, const char *path, const char *fmt,
      va_list ap)
{
	int n;

	/* The first error is the one the file's author has to fix first. */
	if (c->failed)
		return -1;
	c->failed = true;
	if (!c->err || !c->errlen)
		return -1;
	n = snprintf(c->err, c->errlen, "%s:%u:%u: %s: ", c->name, line, col,
		     path && *path ? path : "top level");
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	return -1;
}

int
ccfg_fail_at(struct ccfg_ctx *c, uint32_t line, uint32_t col, const char *path, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, line, col, path, fmt, ap);
	va_end(ap);
	return -1;
}

int
ccfg_fail(struct ccfg_ctx *c, const struct ccfg_node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, n ? n->line : 1, n ? n->col : 1, c->path, fmt, ap);
	va_end(ap);
	return -1;
}

void
ccfg_quote(char *dst, size_t cap, const char *s, size_t len)
{
	size_t i, o = 0, show = len > 48 ? 45 : len;

	if (!cap)
		return;
	/* Never echo control bytes or non-ASCII into a terminal or a log. */
	for (i = 0; i < show && o + 1 < cap; i++)
		dst[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	for (i = 0; show < len && i < 3 && o + 1 < cap; i++)
		dst[o++] = '.';
	dst[o] = '\0';
}

/* ---- checks across the file ---- */

/* One occurrence of a value that must be unique: klen bytes at key. */
struct dup_item {
	const void *key;
	size_t klen;
	const struct ccfg_node *node;  /* nodes are numbered in document order */
	const struct ccfg_node *owner; /* the mapping holding it */
	unsigned i, j;                 /* principal or queue index, token index */
};

/* The occurrence of key in mapping owner, as the value of field there. */
static struct dup_item
dup_at(const struct ccfg_ctx *c, const void *key, size_t klen, const struct ccfg_node *owner,
       const char *field, unsigned i, unsigned j)
{
	struct dup_item d = { key, klen, ccfg_map_get(c, owner, field), owner, i, j };

	return d;
}

static int
dup_cmp(const void *a, const void *b)
{
	const struct dup_item *x = a, *y = b;
	int r = memcmp(x->key, y->key, x->klen);

	if (r)
		return r;
	return x->node < y->node ? -1 : x->node > y->node;
}

/*
 * The earliest second occurrence of any value in v (sorted here), or NULL;
 * *first is the occurrence it repeats. O(n log n): 16,384 token hashes.
 */
static const struct dup_item *
first_dup(struct dup_item *v, size_t n, const struct dup_item **first)
{
	const struct dup_item *best = NULL;
	size_t g = 0, k;

	if (n < 2)
		return NULL;
	qsort(v, n, sizeof(*v), dup_cmp);
	for (k = 1; k < n; k++) {
		if (memcmp(v[k].key, v[g].key, v[k].klen)) {
			g = k;
			continue;
		}
		if (k == g + 1 && (!best || v[k].node < best->node)) {
			best = &v[k];
			*first = &v[g];
		}
	}
	return best;
}

static int fail_node(struct ccfg_ctx *c, const struct ccfg_node *n, const char *path,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail_node(struct ccfg_ctx *c, const struct ccfg_node *n, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, n ? n->line : 1, n ? n->col : 1, path, fmt, ap);
	va_end(ap);
	return -1;
}

static int
check_sockets(struct ccfg_ctx *c, const struct ctld_config *cfg)
{
	const struct ccfg_node *ctld = ccfg_map_get(c, &c->nodes[0], "ctld");
	char q[64];

	if (strcmp(cfg->dataplane_socket, cfg->operator_socket) != 0)
		return 0;
	ccfg_quote(q, sizeof(q), cfg->operator_socket, strlen(cfg->operator_socket));
	return fail_node(c, ccfg_map_get(c, ctld, "operator_socket"), "ctld.operator_socket",
			 "'%s' is also ctld.dataplane_socket; the two sockets need their own paths",
			 q);
}

static int
check_operators(struct ccfg_ctx *c, const struct ctld_config *cfg)
{
	const struct ccfg_node *seq = ccfg_map_get(c, &c->nodes[0], "operators");
	unsigned i, j;

	for (i = 1; i < cfg->n_operators; i++) {
		const struct ccfg_operator *o = &cfg->operators[i];

		for (j = 0; j < i; j++) {
			const char *what = o->is_gid ? "gid" : "uid";
			char path[64];

			if (cfg->operators[j].is_gid != o->is_gid || cfg->operators[j].id != o->id)
				continue;
			snprintf(path, sizeof(path), "operators[%u].%s", i, what);
			return fail_node(c, ccfg_map_get(c, ccfg_seq_at(c, seq, i), what), path,
					 "%s %u is listed twice (first at line %u); give it one "
					 "role",
					 what, o->id,
					 ccfg_map_get(c, ccfg_seq_at(c, seq, j), what)->line);
		}
	}
	return 0;
}

static int
check_queues(struct ccfg_ctx *c, const struct ctld_config *cfg)
{
	const struct ccfg_node *seq = ccfg_map_get(c, &c->nodes[0], "queues"), *qn;
	const struct dup_item *d, *first = NULL;
	struct dup_item *v;
	char path[64], spec[4096];
	uint32_t k;
	unsigned i;
	int len;

	v = calloc(cfg->n_queues, sizeof(*v));
	if (!v)
		return fail_node(c, seq, "queues", "out of memory");
	for (i = 0, k = seq->first; i < cfg->n_queues; i++, k = qn->next) {
		qn = &c->nodes[k];
		v[i] = dup_at(c, cfg->queues[i].name, sizeof(cfg->queues[i].name), qn, "name", i,
			      0);
	}
	d = first_dup(v, cfg->n_queues, &first);
	if (d) {
		snprintf(path, sizeof(path), "queues[%u].name", d->i);
		fail_node(c, d->node, path,
			  "queue '%s' is defined twice (first at line %u); queue names are unique",
			  cfg->queues[d->i].name, first->node->line);
		free(v);
		return -1;
	}
	free(v);
	/* What sluiced will be given must fit what parse_queue reads. */
	for (i = 0, k = seq->first; i < cfg->n_queues; i++, k = qn->next) {
		qn = &c->nodes[k];
		len = ctld_config_queue_spec(&cfg->queues[i], spec, sizeof(spec));
		if (len >= 0 && len <= CCFG_SPEC_MAX)
			continue;
		snprintf(path, sizeof(path), "queues[%u].content_types", i);
		return fail_node(c, ccfg_map_get(c, qn, "content_types"), path,
				 "these make the sluiced --queue argument %d bytes, more than the "
				 "%d sluiced reads; list fewer or shorter content types",
				 len, CCFG_SPEC_MAX);
	}
	return 0;
}

static bool
same_cert(const struct ccfg_cert *a, const struct ccfg_cert *b)
{
	return a->by_sha256 == b->by_sha256 &&
	       (a->by_sha256 ? !memcmp(a->sha256, b->sha256, sizeof(a->sha256))
			     : !strcmp(a->subject, b->subject));
}

/* A certificate names one principal: no mapping twice across the file. */
static int
check_certs(struct ccfg_ctx *c, const struct ctld_config *cfg, const struct ccfg_node *seq)
{
	const struct ccfg_node *pn, *cn;
	uint32_t k, kc;
	unsigned i, j, i2, j2;
	char path[96];

	for (i = 0, k = seq->first; i < cfg->n_principals; i++, k = pn->next) {
		const struct ccfg_principal *p = &cfg->principals[i];

		pn = &c->nodes[k];
		cn = ccfg_map_get(c, pn, "certificates");
		for (j = 0, kc = cn ? cn->first : 0; j < p->n_certs; j++, kc = c->nodes[kc].next)
			for (i2 = 0; i2 <= i; i2++)
				for (j2 = 0; j2 < (i2 == i ? j : cfg->principals[i2].n_certs); j2++)
					if (same_cert(&p->certs[j],
						      &cfg->principals[i2].certs[j2])) {
						snprintf(path, sizeof(path),
							 "principals[%u].certificates[%u]", i, j);
						return fail_node(
							c, &c->nodes[kc], path,
							"this certificate is mapped twice (first "
							"at "
							"line %u, principal '%s'); a certificate "
							"names one principal",
							cfg->principals[i2].certs[j2].line,
							cfg->principals[i2].name);
					}
	}
	return 0;
}

static int
check_principals(struct ccfg_ctx *c, const struct ctld_config *cfg)
{
	const struct ccfg_node *seq = ccfg_map_get(c, &c->nodes[0], "principals"), *pn, *tn;
	const struct dup_item *d, *first = NULL;
	struct dup_item *v;
	size_t n_tok = 0, t;
	char path[96];
	uint32_t k, kt;
	unsigned i, j;
	int rc = 0;

	if (cfg->n_principals == 0)
		return 0;
	for (i = 0; i < cfg->n_principals; i++)
		n_tok += cfg->principals[i].n_tokens;
	v = calloc(cfg->n_principals + n_tok, sizeof(*v));
	if (!v)
		return fail_node(c, seq, "principals", "out of memory");
	for (i = 0, k = seq->first; i < cfg->n_principals; i++, k = pn->next) {
		pn = &c->nodes[k];
		v[i] = dup_at(c, cfg->principals[i].name, sizeof(cfg->principals[i].name), pn,
			      "name", i, 0);
	}
	d = first_dup(v, cfg->n_principals, &first);
	if (d) {
		snprintf(path, sizeof(path), "principals[%u].name", d->i);
		rc = fail_node(
			c, d->node, path,
			"principal '%s' is defined twice (first at line %u); principal names "
			"are unique",
			cfg->principals[d->i].name, first->node->line);
		goto out;
	}

	/* Token ids, then hashes, across every principal. */
	t = 0;
	for (i = 0, k = seq->first; i < cfg->n_principals; i++, k = pn->next) {
		const struct ccfg_principal *p = &cfg->principals[i];

		pn = &c->nodes[k];
		tn = ccfg_map_get(c, pn, "tokens");
		for (j = 0, kt = tn ? tn->first : 0; j < p->n_tokens; j++, kt = c->nodes[kt].next)
			v[t++] = dup_at(c, p->tokens[j].id, sizeof(p->tokens[j].id), &c->nodes[kt],
					"id", i, j);
	}
	d = first_dup(v, n_tok, &first);
	if (d) {
		snprintf(path, sizeof(path), "principals[%u].tokens[%u].id", d->i, d->j);
		rc = fail_node(c, d->node, path,
			       "token id '%s' is used twice (first at line %u, principal '%s'); "
			       "token ids are unique in the file",
			       cfg->principals[d->i].tokens[d->j].id, first->node->line,
			       cfg->principals[first->i].name);
		goto out;
	}
	for (t = 0; t < n_tok; t++) {
		const struct ccfg_token *tok = &cfg->principals[v[t].i].tokens[v[t].j];

		v[t] = dup_at(c, tok->sha256, sizeof(tok->sha256), v[t].owner, "sha256", v[t].i,
			      v[t].j);
	}
	d = first_dup(v, n_tok, &first);
	if (d) {
		snprintf(path, sizeof(path), "principals[%u].tokens[%u].sha256", d->i, d->j);
		rc = fail_node(c, d->node, path,
			       "the same token hash as line %u (principal '%s'); a token names one "
			       "principal, make a new token",
			       first->node->line, cfg->principals[first->i].name);
	}
	if (!rc)
		rc = check_certs(c, cfg, seq);
out:
	free(v);
	return rc;
}

/* ---- the API ---- */

int
ctld_config_parse(const char *name, const char *buf, size_t len, struct ctld_config *out, char *err,
		  size_t errlen)
{
	struct ccfg_ctx c = {
		.name = name ? name : "(configuration)",
		.buf = buf ? buf : "",
		.len = buf ? len : 0,
		.err = err,
		.errlen = errlen,
	};
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->path, sizeof(out->path), "%s", c.name);
	if (err && errlen)
		err[0] = '\0';
	if (c.len > CCFG_FILE_BYTES_MAX) {
		ccfg_fail_at(&c, 1, 1, "top level",
			     "the file is %zu bytes, more than the %u a configuration may have",
			     c.len, CCFG_FILE_BYTES_MAX);
		return -1;
	}
	rc = ccfg_tree_build(&c);
	if (!rc)
		rc = ccfg_schema_walk(&c, out);
	if (!rc)
		rc = check_sockets(&c, out);
	if (!rc)
		rc = check_operators(&c, out);
	if (!rc)
		rc = check_queues(&c, out);
	if (!rc)
		rc = check_principals(&c, out);
	ccfg_tree_free(&c);
	if (rc) {
		ctld_config_free(out);
		return -1;
	}
	return 0;
}

int
ctld_config_load(const char *path, struct ctld_config *out, char *err, size_t errlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, ebuf[128];
	int fd, rc, e;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror_r(e, ebuf, sizeof(ebuf)));
		return -1;
	}
	/* One byte more than allowed is enough to know the file is too large. */
	for (;;) {
		ssize_t r;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb;

			if (ncap > CCFG_FILE_BYTES_MAX + 1)
				ncap = CCFG_FILE_BYTES_MAX + 1;
			if (ncap == cap)
				break;
			nb = realloc(buf, ncap);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory reading it", path);
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			snprintf(err, errlen, "%s: cannot read: %s", path,
				 strerror_r(e, ebuf, sizeof(ebuf)));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	rc = ctld_config_parse(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
fail:
	close(fd);
	free(buf);
	return -1;
}

void
ctld_config_free(struct ctld_config *c)
{
	free(c->queues);
	free(c->principals);
	c->queues = NULL;
	c->principals = NULL;
	c->n_queues = 0;
	c->n_principals = 0;
}

int
ctld_config_queue_spec(const struct ccfg_queue *q, char *buf, size_t cap)
{
	size_t o;
	unsigned i;
	int n;

	n = snprintf(buf, cap,
		     "%s,max_jobs=%u,max_bytes=%llu,max_in_flight=%u,rate=%u,burst=%u,"
		     "max_attempts=%u,lease_ms=%u,ttl_ms=%u,backoff_ms=%u,backoff_max_ms=%u,"
		     "dedup_ms=%u,max_payload=%u",
		     q->name, q->max_jobs, (unsigned long long)q->max_bytes, q->max_in_flight,
		     q->rate, q->burst, q->max_attempts, q->lease_ms, q->ttl_ms, q->backoff_ms,
		     q->backoff_max_ms, q->dedup_ms, q->max_payload);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	o = (size_t)n;
	for (i = 0; i < q->n_ctypes && i < CCFG_CTYPES_MAX; i++) {
		n = snprintf(buf + o, cap - o, "%s%s", i ? "|" : ",content_types=", q->ctypes[i]);
		if (n < 0 || (size_t)n >= cap - o)
			return -1;
		o += (size_t)n;
	}
	if (q->allow_code_serialization) {
		n = snprintf(buf + o, cap - o, ",allow_code_serialization");
		if (n < 0 || (size_t)n >= cap - o)
			return -1;
		o += (size_t)n;
	}
	return o > INT32_MAX ? -1 : (int)o;
}
