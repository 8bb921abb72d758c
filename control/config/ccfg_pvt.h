/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctld_config internals. A load runs in three passes over one context:
 *
 *   bytes --ccfg_tree_build--> node tree --ccfg_schema_walk--> struct ctld_config
 *         (libyaml events;              (the tables of ccfg_schema.c:
 *          refuses anchors, aliases,     keys, kinds, numbers, ranges,
 *          tags, a second document)      charsets, required keys, defaults)
 *
 * then cross checks that need the whole file (duplicate names, token ids
 * and hashes) in ctld_config.c. The first error found is the only message.
 */
#ifndef SLUICE_CCFG_PVT_H
#define SLUICE_CCFG_PVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctld_config.h"

/* The schema nests 5 containers deep (principals[i].tokens[j]); far deeper is refused early. */
#define CCFG_DEPTH_MAX 16
/* Far above the largest valid file (about 210,000 nodes at every CCFG_*_MAX). */
#define CCFG_NODES_MAX (1u << 19)
/* dataplane/config.c parse_queue copies a --queue argument into char[1024]. */
#define CCFG_SPEC_MAX 1023
#define CCFG_PATH_TEXT 512

enum ccfg_kind { CCFG_SCALAR = 1, CCFG_SEQ, CCFG_MAP };

/*
 * One YAML node. Children form a list by index (0 ends it: node 0 is the
 * root and never a child); a mapping's children alternate key, value.
 * Nodes are numbered in document order.
 */
struct ccfg_node {
	uint32_t line, col;   /* 1-based, where the node starts */
	uint32_t first, next; /* first child, next sibling */
	uint32_t n;           /* children; a mapping has 2 per pair */
	uint32_t len;         /* scalar bytes (may include NUL bytes) */
	size_t text;          /* offset of the scalar's bytes, NUL-terminated, in text */
	uint8_t kind;         /* enum ccfg_kind */
	bool plain;           /* plain (unquoted) scalar: may stand for null */
};

struct ccfg_ctx {
	const char *name; /* the file, as messages name it */
	const char *buf;
	size_t len;
	struct ccfg_node *nodes;
	uint32_t n_nodes, cap_nodes;
	char *text;
	size_t text_len, text_cap;
	char *err;
	size_t errlen;
	bool failed;
	char path[CCFG_PATH_TEXT]; /* where the schema walk is, e.g. principals[1].role */
	size_t path_len;
};

/* ccfg_tree.c: parse c->buf into c->nodes (root: node 0). 0, or -1 with the error set. */
int ccfg_tree_build(struct ccfg_ctx *c);
void ccfg_tree_free(struct ccfg_ctx *c);

static inline const char *
ccfg_text(const struct ccfg_ctx *c, const struct ccfg_node *n)
{
	return c->text + n->text;
}

/* The value under key in mapping m, or NULL. */
const struct ccfg_node *ccfg_map_get(const struct ccfg_ctx *c, const struct ccfg_node *m,
				     const char *key);
/* Child i of sequence s, or NULL. */
const struct ccfg_node *ccfg_seq_at(const struct ccfg_ctx *c, const struct ccfg_node *s,
				    uint32_t i);

/*
 * Record "NAME:LINE:COL: PATH: what" as the load's error unless one is
 * already recorded (the first error wins). Returns -1 for tail calls.
 */
int ccfg_fail_at(struct ccfg_ctx *c, uint32_t line, uint32_t col, const char *path, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));

/* The same at node n and the walk's current path. */
int ccfg_fail(struct ccfg_ctx *c, const struct ccfg_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* len bytes of s quoted for a message: printable ASCII, others as '?', cut at 48. */
void ccfg_quote(char *dst, size_t cap, const char *s, size_t len);

/* ccfg_schema.c: fill out from the tree (defaults, then the file). 0 or -1. */
int ccfg_schema_walk(struct ccfg_ctx *c, struct ctld_config *out);

#endif
