/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML bytes to a node tree, with libyaml's event API. The events carry
 * what the document API would hide: anchors, aliases, explicit tags and
 * document boundaries, all refused here, so the schema walk only ever sees
 * one document of plain mappings, sequences and scalars.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ccfg_pvt.h"

/* A container being filled: its node, its last child and (a mapping) its last key; 0: none. */
struct level {
	uint32_t node, last, key;
};

struct builder {
	struct ccfg_ctx *c;
	struct level stack[CCFG_DEPTH_MAX];
	unsigned depth;
};

const struct ccfg_node *
ccfg_map_get(const struct ccfg_ctx *c, const struct ccfg_node *m, const char *key)
{
	size_t klen = strlen(key);
	uint32_t k;

	if (!m || m->kind != CCFG_MAP)
		return NULL;
	for (k = m->first; k; k = c->nodes[c->nodes[k].next].next) {
		const struct ccfg_node *kn = &c->nodes[k];

		if (kn->kind == CCFG_SCALAR && kn->len == klen &&
		    !memcmp(ccfg_text(c, kn), key, klen))
			return &c->nodes[kn->next];
	}
	return NULL;
}

const struct ccfg_node *
ccfg_seq_at(const struct ccfg_ctx *c, const struct ccfg_node *s, uint32_t i)
{
	uint32_t k;

	if (!s || s->kind != CCFG_SEQ || i >= s->n)
		return NULL;
	for (k = s->first; i; i--)
		k = c->nodes[k].next;
	return &c->nodes[k];
}

/*
 * Where the node about to be added sits, e.g. "queues[2].name", for
 * messages. Outer containers already count the child being filled; the
 * innermost does not count the node to come.
 */
static void
build_path(const struct builder *b, char *out, size_t cap)
{
	const struct ccfg_ctx *c = b->c;
	size_t o = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < b->depth && o < cap; i++) {
		const struct ccfg_node *p = &c->nodes[b->stack[i].node];
		bool inner = i + 1 == b->depth;
		int n;

		if (p->kind == CCFG_SEQ) {
			n = snprintf(out + o, cap - o, "[%u]", inner ? p->n : p->n - 1);
		} else if (!inner || p->n % 2 == 1) {
			const struct ccfg_node *k = &c->nodes[b->stack[i].key];
			char q[64];

			/* A key that is not a scalar has no name to show. */
			if (k->kind == CCFG_SCALAR)
				ccfg_quote(q, sizeof(q), ccfg_text(c, k), k->len);
			else
				strcpy(q, "?");
			n = snprintf(out + o, cap - o, "%s%s", o ? "." : "", q);
		} else {
			break; /* the node is a key of this mapping */
		}
		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (!out[0])
		snprintf(out, cap, "top level");
}

static int build_fail(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
build_fail(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
	char path[CCFG_PATH_TEXT], what[256];
	va_list ap;

	build_path(b, path, sizeof(path));
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ccfg_fail_at(b->c, (uint32_t)m->line + 1, (uint32_t)m->column + 1, path, "%s", what);
}

/* A name from the file (anchor, tag) fit for a message. */
static const char *
quoted(char *q, size_t cap, const yaml_char_t *s)
{
	ccfg_quote(q, cap, (const char *)s, strlen((const char *)s));
	return q;
}

/* Append a node of kind at mark m under the open container; its index in *idx. */
static int
add_node(struct builder *b, uint8_t kind, const yaml_mark_t *m, uint32_t *idx)
{
	struct ccfg_ctx *c = b->c;
	struct ccfg_node *n;

	if (c->n_nodes == CCFG_NODES_MAX) {
		char path[CCFG_PATH_TEXT];

		build_path(b, path, sizeof(path));
		return ccfg_fail_at(c, (uint32_t)m->line + 1, (uint32_t)m->column + 1, path,
				    "more than %u YAML nodes; a valid file has far fewer",
				    CCFG_NODES_MAX);
	}
	if (c->n_nodes == c->cap_nodes) {
		uint32_t cap = c->cap_nodes ? c->cap_nodes * 2 : 256;
		struct ccfg_node *nn;

		if (cap > CCFG_NODES_MAX)
			cap = CCFG_NODES_MAX;
		nn = realloc(c->nodes, cap * sizeof(*nn));
		if (!nn)
			return ccfg_fail_at(c, (uint32_t)m->line + 1, (uint32_t)m->column + 1,
					    "top level", "out of memory");
		c->nodes = nn;
		c->cap_nodes = cap;
	}
	*idx = c->n_nodes++;
	n = &c->nodes[*idx];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->line = (uint32_t)m->line + 1;
	n->col = (uint32_t)m->column + 1;
	if (b->depth) {
		struct level *l = &b->stack[b->depth - 1];

		if (l->last)
			c->nodes[l->last].next = *idx;
		else
			c->nodes[l->node].first = *idx;
		l->last = *idx;
		if (c->nodes[l->node].kind == CCFG_MAP && c->nodes[l->node].n % 2 == 0)
			l->key = *idx;
		c->nodes[l->node].n++;
	}
	return 0;
}

static int
add_text(struct ccfg_ctx *c, struct ccfg_node *n, const unsigned char *s, size_t len)
{
	if (c->text_cap - c->text_len < len + 1) {
		size_t cap = c->text_cap ? c->text_cap : 4096;
		char *t;

		while (cap - c->text_len < len + 1)
			cap *= 2;
		t = realloc(c->text, cap);
		if (!t)
			return ccfg_fail_at(c, n->line, n->col, "top level", "out of memory");
		c->text = t;
		c->text_cap = cap;
	}
	if (len)
		memcpy(c->text + c->text_len, s, len);
	c->text[c->text_len + len] = '\0';
	n->text = c->text_len;
	n->len = (uint32_t)len;
	c->text_len += len + 1;
	return 0;
}

/* Anchors and explicit tags on a node: aliases to it, or types, the schema does not take. */
static int
check_props(struct builder *b, const yaml_mark_t *m, const yaml_char_t *anchor,
	    const yaml_char_t *tag)
{
	char q[64];

	if (anchor)
		return build_fail(b, m,
				  "anchors (&%s) are not supported; write the value out in full",
				  quoted(q, sizeof(q), anchor));
	if (tag)
		return build_fail(b, m,
				  "explicit tags (%s) are not supported; the schema gives every "
				  "value its type, remove the tag",
				  quoted(q, sizeof(q), tag));
	return 0;
}

static int
open_container(struct builder *b, uint8_t kind, const yaml_mark_t *m)
{
	uint32_t idx;

	if (b->depth == CCFG_DEPTH_MAX) {
		char path[CCFG_PATH_TEXT];

		build_path(b, path, sizeof(path));
		return ccfg_fail_at(b->c, (uint32_t)m->line + 1, (uint32_t)m->column + 1, path,
				    "nested deeper than %d levels; ctld.yaml needs 5 at most",
				    CCFG_DEPTH_MAX);
	}
	if (add_node(b, kind, m, &idx))
		return -1;
	b->stack[b->depth].node = idx;
	b->stack[b->depth].last = 0;
	b->stack[b->depth].key = 0;
	b->depth++;
	return 0;
}

/* Line and column (in characters) of byte offset off, for reader errors without a mark. */
static void
offset_position(const struct ccfg_ctx *c, size_t off, uint32_t *line, uint32_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < c->len; i++) {
		unsigned char ch = (unsigned char)c->buf[i];

		if (ch == '\n') {
			(*line)++;
			*col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int
yaml_fail(struct ccfg_ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";
	uint32_t line, col;
	char hint[96] = "";

	if (p->error == YAML_MEMORY_ERROR)
		return ccfg_fail_at(c, 1, 1, "top level", "out of memory reading the YAML");
	if (p->error == YAML_READER_ERROR) {
		offset_position(c, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			snprintf(hint, sizeof(hint), " (byte 0x%02x)", p->problem_value & 0xff);
		return ccfg_fail_at(c, line, col, "YAML syntax",
				    "%s%s; the file must be UTF-8 text without control characters",
				    problem, hint);
	}
	line = (uint32_t)p->problem_mark.line + 1;
	col = (uint32_t)p->problem_mark.column + 1;
	if (strstr(problem, "tab") ||
	    (p->problem_mark.index < c->len && c->buf[p->problem_mark.index] == '\t'))
		snprintf(hint, sizeof(hint), "; YAML indents with spaces, never tabs");
	else
		snprintf(hint, sizeof(hint), "; fix the YAML syntax here");
	if (p->context)
		return ccfg_fail_at(c, line, col, "YAML syntax", "%s (%s at line %u)%s", problem,
				    p->context, (uint32_t)p->context_mark.line + 1, hint);
	return ccfg_fail_at(c, line, col, "YAML syntax", "%s%s", problem, hint);
}

/* One event into the tree. 1 at the end of the stream, 0 to go on, -1 on an error. */
static int
take_event(struct builder *b, const yaml_event_t *ev, unsigned *docs)
{
	struct ccfg_ctx *c = b->c;
	uint32_t idx;
	char q[64];

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		if (*docs == 0)
			return ccfg_fail_at(c, 1, 1, "top level",
					    "the file is empty; it needs at least a ctld: section "
					    "and a queues: list");
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return ccfg_fail_at(c, (uint32_t)ev->start_mark.line + 1,
					    (uint32_t)ev->start_mark.column + 1, "top level",
					    "a second YAML document starts here; the file holds "
					    "exactly one (remove the '---' and what follows)");
		if (ev->data.document_start.tag_directives.start !=
		    ev->data.document_start.tag_directives.end)
			return ccfg_fail_at(c, (uint32_t)ev->start_mark.line + 1,
					    (uint32_t)ev->start_mark.column + 1, "top level",
					    "%%TAG directives are not supported; remove them "
					    "(explicit tags are refused too)");
		return 0;
	case YAML_ALIAS_EVENT:
		return build_fail(b, &ev->start_mark,
				  "aliases (*%s) are not supported; write the value out in full",
				  quoted(q, sizeof(q), ev->data.alias.anchor));
	case YAML_SCALAR_EVENT:
		if (check_props(b, &ev->start_mark, ev->data.scalar.anchor, ev->data.scalar.tag) ||
		    add_node(b, CCFG_SCALAR, &ev->start_mark, &idx))
			return -1;
		c->nodes[idx].plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return add_text(c, &c->nodes[idx], ev->data.scalar.value, ev->data.scalar.length);
	case YAML_SEQUENCE_START_EVENT:
		if (check_props(b, &ev->start_mark, ev->data.sequence_start.anchor,
				ev->data.sequence_start.tag))
			return -1;
		return open_container(b, CCFG_SEQ, &ev->start_mark);
	case YAML_MAPPING_START_EVENT:
		if (check_props(b, &ev->start_mark, ev->data.mapping_start.anchor,
				ev->data.mapping_start.tag))
			return -1;
		return open_container(b, CCFG_MAP, &ev->start_mark);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth)
			b->depth--;
		return 0;
	case YAML_NO_EVENT:
	default:
		return ccfg_fail_at(c, (uint32_t)ev->start_mark.line + 1,
				    (uint32_t)ev->start_mark.column + 1, "YAML syntax",
				    "unexpected end of the YAML events; fix the syntax here");
	}
}

int
ccfg_tree_build(struct ccfg_ctx *c)
{
	struct builder b = { .c = c };
	yaml_parser_t p;
	unsigned docs = 0;
	int rc = 0;

	if (!yaml_parser_initialize(&p))
		return ccfg_fail_at(c, 1, 1, "top level", "out of memory starting libyaml");
	yaml_parser_set_input_string(&p, (const unsigned char *)c->buf, c->len);
	while (rc == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_fail(c, &p);
			break;
		}
		rc = take_event(&b, &ev, &docs);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc < 0 ? -1 : 0;
}

void
ccfg_tree_free(struct ccfg_ctx *c)
{
	free(c->nodes);
	free(c->text);
	c->nodes = NULL;
	c->text = NULL;
	c->n_nodes = c->cap_nodes = 0;
	c->text_len = c->text_cap = 0;
}
