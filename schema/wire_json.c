/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON rendering of a verified frame, for operators and for interop tests.
 * Same shape as `flatc --json --strict-json --defaults-json`: every scalar
 * (default included), present strings/vectors/tables, enum names, the union
 * as "msg_type" + "msg". Driven by the rows of wire_schema.def, so a new
 * field shows up here without code.
 */
#include <inttypes.h>
#include <stdio.h>

#include "wire_json.h"

enum fkind {
	FK_U8,
	FK_U16,
	FK_U32,
	FK_U64,
	FK_BOOL,
	FK_ROLE,
	FK_STATUS,
	FK_STR,
	FK_BYTES,
	FK_ID,
	FK_U64S,
	FK_IDS,
	FK_STATUSES,
	FK_TABLE,
	FK_TABLES,
};

struct fdesc {
	const char *table;
	const char *name;
	uint8_t id;
	uint8_t kind;
	uint64_t def;
	const char *child;
};

static const struct fdesc fields[] = {
#define WIRE_TABLE(tbl)
#define ROW(tbl, f, id, k, def, child) { #tbl, #f, id, k, def, child },
#define WIRE_F_U8(tbl, f, id, def) ROW(tbl, f, id, FK_U8, def, NULL)
#define WIRE_F_U16(tbl, f, id, def) ROW(tbl, f, id, FK_U16, def, NULL)
#define WIRE_F_U32(tbl, f, id, def) ROW(tbl, f, id, FK_U32, def, NULL)
#define WIRE_F_U64(tbl, f, id, def) ROW(tbl, f, id, FK_U64, def, NULL)
#define WIRE_F_BOOL(tbl, f, id, def) ROW(tbl, f, id, FK_BOOL, def, NULL)
#define WIRE_F_ROLE(tbl, f, id, def) ROW(tbl, f, id, FK_ROLE, def, NULL)
#define WIRE_F_STATUS(tbl, f, id, def) ROW(tbl, f, id, FK_STATUS, def, NULL)
#define WIRE_F_STR(tbl, f, id) ROW(tbl, f, id, FK_STR, 0, NULL)
#define WIRE_F_BYTES(tbl, f, id) ROW(tbl, f, id, FK_BYTES, 0, NULL)
#define WIRE_F_ID(tbl, f, id) ROW(tbl, f, id, FK_ID, 0, NULL)
#define WIRE_F_U64S(tbl, f, id) ROW(tbl, f, id, FK_U64S, 0, NULL)
#define WIRE_F_IDS(tbl, f, id) ROW(tbl, f, id, FK_IDS, 0, NULL)
#define WIRE_F_STATUSES(tbl, f, id) ROW(tbl, f, id, FK_STATUSES, 0, NULL)
#define WIRE_F_TABLE(tbl, f, id, child) ROW(tbl, f, id, FK_TABLE, 0, #child)
#define WIRE_F_TABLES(tbl, f, id, child) ROW(tbl, f, id, FK_TABLES, 0, #child)
#include "wire_schema.def"
#include "wire_schema_undef.h"
#undef ROW
};

static const char *const msg_tables[WIRE_MSG__COUNT] = {
#define WIRE_MSG(sym, tbl, name) [WIRE_MSG_##sym] = #tbl,
#include "wire_msg.def"
#undef WIRE_MSG
};

static void
json_string(FILE *out, const char *p, uint32_t len)
{
	uint32_t i;

	fputc('"', out);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void
json_status(FILE *out, unsigned v)
{
	const char *name = wire_status_name(v);

	if (name)
		fprintf(out, "\"%s\"", name);
	else
		fprintf(out, "%u", v);
}

static void
json_jobid(FILE *out, struct wire_jobid id)
{
	fprintf(out, "{\"hi\":%" PRIu64 ",\"lo\":%" PRIu64 "}", id.hi, id.lo);
}

static void json_table(FILE *out, const char *table, const uint8_t *t);

/* Print one field (with a leading ',' unless *first); absent non-scalars print nothing. */
static void
json_field(FILE *out, const struct fdesc *d, const uint8_t *t, bool *first)
{
	const uint8_t *p = wire_field_ptr(t, d->id);
	const uint8_t *v = NULL;
	uint32_t i, n = 0;
	uint64_t x = d->def;

	if (d->kind >= FK_STR) {
		if (!p)
			return;
		if (d->kind != FK_ID) {
			v = wire_deref(p);
			n = d->kind == FK_TABLE ? 0 : wire_ld32(v);
		}
	} else if (p) {
		switch (d->kind) {
		case FK_U16:
		case FK_STATUS:
			x = wire_ld16(p);
			break;
		case FK_U32:
			x = wire_ld32(p);
			break;
		case FK_U64:
			x = wire_ld64(p);
			break;
		default:
			x = *p;
		}
	}
	fprintf(out, "%s\"%s\":", *first ? "" : ",", d->name);
	*first = false;
	switch (d->kind) {
	case FK_BOOL:
		fputs(x ? "true" : "false", out);
		break;
	case FK_ROLE:
		if (wire_role_name((unsigned)x))
			fprintf(out, "\"%s\"", wire_role_name((unsigned)x));
		else
			fprintf(out, "%" PRIu64, x);
		break;
	case FK_STATUS:
		json_status(out, (unsigned)x);
		break;
	case FK_STR:
		json_string(out, (const char *)v + 4, n);
		break;
	case FK_ID:
		json_jobid(out, wire_ld_jobid(p));
		break;
	case FK_BYTES:
	case FK_U64S:
	case FK_IDS:
	case FK_STATUSES:
	case FK_TABLES:
		fputc('[', out);
		for (i = 0; i < n; i++) {
			if (i)
				fputc(',', out);
			if (d->kind == FK_BYTES)
				fprintf(out, "%u", v[4 + i]);
			else if (d->kind == FK_U64S)
				fprintf(out, "%" PRIu64, wire_ld64(v + 4 + 8 * i));
			else if (d->kind == FK_IDS)
				json_jobid(out, wire_ld_jobid(v + 4 + 16 * i));
			else if (d->kind == FK_STATUSES)
				json_status(out, wire_ld16(v + 4 + 2 * i));
			else
				json_table(out, d->child, wire_deref(v + 4 + 4 * i));
		}
		fputc(']', out);
		break;
	case FK_TABLE:
		json_table(out, d->child, v);
		break;
	default:
		fprintf(out, "%" PRIu64, x);
	}
}

static void
json_table(FILE *out, const char *table, const uint8_t *t)
{
	bool first = true;
	size_t i;

	fputc('{', out);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].table, table) == 0)
			json_field(out, &fields[i], t, &first);
	fputc('}', out);
}

int
wire_frame_json(const void *frame, FILE *out)
{
	const struct wire_frame *f = wire_frame_root(frame);
	unsigned type = wire_frame_msg_type(f);

	if (type == WIRE_MSG_NONE || type >= WIRE_MSG__COUNT)
		return -1;
	fprintf(out, "{\"msg_type\":\"%s\",\"msg\":", wire_msg_name(type));
	json_table(out, msg_tables[type], wire_frame_msg(f));
	fputs("}\n", out);
	return ferror(out) ? -1 : 0;
}
