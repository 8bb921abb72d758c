/* SPDX-License-Identifier: BSD-3-Clause */
/* Names of errors, statuses, roles and messages; the limits in force by default. */
#include "wire.h"

static const char *const error_names[WIRE_E__COUNT] = {
	[WIRE_OK] = "ok",
#define WIRE_ERROR(sym, name) [WIRE_E_##sym] = name,
#include "wire_error.def"
#undef WIRE_ERROR
};

static const char *const status_names[WIRE_STATUS__COUNT] = {
#define WIRE_STATUS(sym, name) [WIRE_STATUS_##sym] = name,
#include "wire_status.def"
#undef WIRE_STATUS
};

static const char *const msg_names[WIRE_MSG__COUNT] = {
	[WIRE_MSG_NONE] = "NONE",
#define WIRE_MSG(sym, tbl, name) [WIRE_MSG_##sym] = name,
#include "wire_msg.def"
#undef WIRE_MSG
};

const struct wire_limits wire_limits_default = {
	.max_frame_bytes = WIRE_FRAME_BYTES_DEFAULT,
	.max_payload_bytes = WIRE_PAYLOAD_BYTES_DEFAULT,
	.max_batch_jobs = WIRE_BATCH_JOBS_DEFAULT,
	.max_depth = WIRE_SCHEMA_DEPTH,
	.max_tables = WIRE_TABLES_FOR_BATCH(WIRE_BATCH_JOBS_DEFAULT),
};

int
wire_limits_init(struct wire_limits *lim, uint32_t max_frame_bytes, uint32_t max_payload_bytes,
		 uint32_t max_batch_jobs)
{
	if (max_frame_bytes > WIRE_FRAME_BYTES_CAP || max_payload_bytes > WIRE_PAYLOAD_BYTES_CAP ||
	    max_batch_jobs > WIRE_BATCH_JOBS_CAP)
		return -1;
	lim->max_frame_bytes = max_frame_bytes ? max_frame_bytes : WIRE_FRAME_BYTES_DEFAULT;
	lim->max_payload_bytes = max_payload_bytes ? max_payload_bytes : WIRE_PAYLOAD_BYTES_DEFAULT;
	lim->max_batch_jobs = max_batch_jobs ? max_batch_jobs : WIRE_BATCH_JOBS_DEFAULT;
	lim->max_depth = WIRE_SCHEMA_DEPTH;
	lim->max_tables = WIRE_TABLES_FOR_BATCH(lim->max_batch_jobs);
	return 0;
}

const char *
wire_error_name(int err)
{
	if (err < 0)
		err = -err;
	return err < WIRE_E__COUNT ? error_names[err] : "unknown_error";
}

const char *
wire_status_name(unsigned status)
{
	return status < WIRE_STATUS__COUNT ? status_names[status] : NULL;
}

const char *
wire_role_name(unsigned role)
{
	static const char *const names[] = { NULL, "Producer", "Consumer", "Both" };

	return role < sizeof(names) / sizeof(names[0]) ? names[role] : NULL;
}

const char *
wire_msg_name(unsigned type)
{
	return type < WIRE_MSG__COUNT ? msg_names[type] : NULL;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
wire_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t i;

	if (slen != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
