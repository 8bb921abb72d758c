/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * frame-check: verify sluice wire frames from files or stdin.
 *
 * Input is a stream of size-prefixed frames (what a TLS session carries
 * after decryption, or what `flatc -b --size-prefixed` writes). One line per
 * frame: "ok <MessageType>" or "invalid <error_name> at byte <n>", n counted
 * from the start of that input. Exit: 0 every frame valid, 1 some frame
 * invalid or an input held no frame, 2 usage or I/O error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_json.h"

#define INPUT_MAX (1u << 30)

struct opts {
	struct wire_limits lim;
	bool json;
	bool quiet;
	bool whole;
	bool label;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: frame-check [options] [FILE...]\n"
		"Verify size-prefixed sluice frames (schema/sluice.fbs) read from each FILE,\n"
		"or from standard input when no FILE or '-' is given.\n"
		"\n"
		"Prints one line per frame:\n"
		"  ok <MessageType>\n"
		"  invalid <error_name> at byte <n>     (n from the start of that input)\n"
		"\n"
		"options:\n"
		"  --json                   print each valid frame as JSON instead of 'ok ...'\n"
		"  --whole                  each input is exactly one frame (do not split)\n"
		"  -q, --quiet              print nothing; the exit status tells\n"
		"  --max-frame-bytes N      size prefix limit (default %u, cap %u)\n"
		"  --max-payload-bytes N    per-job payload limit (default %u, cap %u)\n"
		"  --max-batch-jobs N       jobs per batch (default %u, cap %u)\n"
		"  --max-depth N            table nesting limit (default: the schema's %u)\n"
		"  --max-tables N           tables per frame (default: derived from the batch "
		"limit)\n"
		"  -h, --help               this text\n"
		"\n"
		"exit status: 0 all frames valid, 1 an invalid frame or an input without\n"
		"frames, 2 usage or I/O error.\n",
		WIRE_FRAME_BYTES_DEFAULT, WIRE_FRAME_BYTES_CAP, WIRE_PAYLOAD_BYTES_DEFAULT,
		WIRE_PAYLOAD_BYTES_CAP, WIRE_BATCH_JOBS_DEFAULT, WIRE_BATCH_JOBS_CAP,
		WIRE_SCHEMA_DEPTH);
}

/* Read a whole input into a malloc'd buffer; NULL and a message on error. */
static uint8_t *
read_all(const char *name, FILE *in, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap), *nb;

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, in);

		n += got;
		if (got == 0) {
			if (ferror(in)) {
				fprintf(stderr, "frame-check: %s: read error: %s\n", name,
					strerror(errno));
				free(buf);
				return NULL;
			}
			*len = n;
			return buf;
		}
		if (n == cap) {
			if (cap >= INPUT_MAX) {
				fprintf(stderr, "frame-check: %s: input larger than %u bytes\n",
					name, INPUT_MAX);
				free(buf);
				return NULL;
			}
			nb = realloc(buf, cap * 2);
			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	fprintf(stderr, "frame-check: %s: out of memory\n", name);
	return NULL;
}

/* Verify one frame from an exactly-sized copy (sanitizers see any over-read). */
static int
check_frame(const struct opts *o, const char *label, const uint8_t *p, size_t len, size_t base)
{
	uint8_t *copy = malloc(len ? len : 1);
	uint32_t at = 0;
	int rc;

	if (!copy) {
		fprintf(stderr, "frame-check: out of memory\n");
		return 2;
	}
	memcpy(copy, p, len);
	rc = wire_verify(copy, len, &o->lim, &at);
	if (!o->quiet) {
		if (o->label)
			printf("%s: ", label);
		if (rc)
			printf("invalid %s at byte %zu\n", wire_error_name(rc), base + at);
		else if (o->json)
			wire_frame_json(copy, stdout);
		else
			printf("ok %s\n",
			       wire_msg_name(wire_frame_msg_type(wire_frame_root(copy))));
	}
	free(copy);
	return rc ? 1 : 0;
}

/* Split one input into frames by their size prefixes. */
static int
check_input(const struct opts *o, const char *name, const uint8_t *buf, size_t len)
{
	size_t pos = 0, frames = 0;
	int worst = 0, rc;

	if (o->whole)
		return check_frame(o, name, buf, len, 0);
	while (pos < len) {
		size_t left = len - pos, flen = left;

		if (left >= 4) {
			uint64_t l = wire_ld32(buf + pos);

			if (l > o->lim.max_frame_bytes) {
				/* Cannot resynchronise past an untrusted length. */
				return check_frame(o, name, buf + pos, left, pos) ? 1 : worst;
			}
			if (4 + l < left)
				flen = 4 + l;
		}
		rc = check_frame(o, name, buf + pos, flen, pos);
		if (rc > worst)
			worst = rc;
		frames++;
		pos += flen;
	}
	if (frames == 0) {
		fprintf(stderr, "frame-check: %s: no frames (empty input)\n", name);
		return 1;
	}
	return worst;
}

static int
parse_u32(const char *opt, const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || *s == '-' || x > UINT32_MAX) {
		fprintf(stderr, "frame-check: %s: '%s' is not a number from 0 to %u\n", opt, s,
			UINT32_MAX);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "whole", no_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "max-frame-bytes", required_argument, NULL, 'F' },
		{ "max-payload-bytes", required_argument, NULL, 'P' },
		{ "max-batch-jobs", required_argument, NULL, 'B' },
		{ "max-depth", required_argument, NULL, 'D' },
		{ "max-tables", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .lim = wire_limits_default };
	uint32_t frame = 0, payload = 0, batch = 0, depth = 0, tables = 0;
	int c, i, worst = 0;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'w':
			o.whole = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'F':
			if (parse_u32("--max-frame-bytes", optarg, &frame))
				return 2;
			break;
		case 'P':
			if (parse_u32("--max-payload-bytes", optarg, &payload))
				return 2;
			break;
		case 'B':
			if (parse_u32("--max-batch-jobs", optarg, &batch))
				return 2;
			break;
		case 'D':
			if (parse_u32("--max-depth", optarg, &depth))
				return 2;
			break;
		case 'T':
			if (parse_u32("--max-tables", optarg, &tables))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (wire_limits_init(&o.lim, frame, payload, batch)) {
		fprintf(stderr,
			"frame-check: a limit is above its cap (frame %u, payload %u, batch %u)\n",
			WIRE_FRAME_BYTES_CAP, WIRE_PAYLOAD_BYTES_CAP, WIRE_BATCH_JOBS_CAP);
		return 2;
	}
	/* Lower-only overrides of the derived limits, for testing the checks. */
	if (depth)
		o.lim.max_depth = depth < o.lim.max_depth ? depth : o.lim.max_depth;
	if (tables)
		o.lim.max_tables = tables < o.lim.max_tables ? tables : o.lim.max_tables;
	o.label = argc - optind > 1;
	for (i = optind; i < argc || (i == optind && i == argc); i++) {
		const char *name = i < argc ? argv[i] : "-";
		bool is_stdin = strcmp(name, "-") == 0;
		FILE *in = is_stdin ? stdin : fopen(name, "rb");
		uint8_t *buf;
		size_t len = 0;
		int rc;

		if (!in) {
			fprintf(stderr, "frame-check: %s: %s\n", name, strerror(errno));
			return 2;
		}
		buf = read_all(is_stdin ? "<stdin>" : name, in, &len);
		if (!is_stdin)
			fclose(in);
		if (!buf)
			return 2;
		rc = check_input(&o, name, buf, len);
		free(buf);
		if (rc > worst)
			worst = rc;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "frame-check: write error: %s\n", strerror(errno));
		return 2;
	}
	return worst;
}
