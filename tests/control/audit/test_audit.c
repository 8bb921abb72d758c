/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of control/audit: the line format and its hash chain, reopening
 * and continuing, tampering caught at the line where the chain breaks,
 * escaping, truncation of long values, and tail. Files live in a fresh
 * directory under /tmp, removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "audit.h"
#include "../../check.h"

#define T0 INT64_C(1795000000123) /* 2026-11-18T11:06:40.123Z */
#define MAXL 64                   /* lines a test file holds */

static char dir[64];
static char logp[128];
static char copyp[128];

/* The lines of a file, newlines stripped; *nl_end says whether it ended with one. */
struct lines {
	char l[MAXL][AUDIT_LINE_MAX + 1];
	unsigned n;
	bool nl_end;
};

static struct lines orig, work;

static void
read_lines(const char *path, struct lines *out)
{
	FILE *f = fopen(path, "r");
	int c;
	size_t len = 0;

	out->n = 0;
	out->nl_end = false;
	if (!f)
		return;
	while ((c = fgetc(f)) != EOF) {
		if (c == '\n') {
			out->l[out->n][len] = '\0';
			out->n++;
			len = 0;
			out->nl_end = true;
			continue;
		}
		out->nl_end = false;
		if (len < AUDIT_LINE_MAX && out->n < MAXL)
			out->l[out->n][len++] = (char)c;
	}
	if (len > 0) {
		out->l[out->n][len] = '\0';
		out->n++;
	}
	fclose(f);
}

static void
write_lines(const char *path, const struct lines *in)
{
	FILE *f = fopen(path, "w");
	unsigned i;

	if (!f) {
		perror(path);
		exit(2);
	}
	for (i = 0; i < in->n; i++)
		fprintf(f, "%s%s", in->l[i], i + 1 < in->n || in->nl_end ? "\n" : "");
	fclose(f);
}

/* The bad line audit_verify reports for path (0 if it passes); err filled. */
static uint64_t
bad_line_of(const char *path, char *err, size_t errlen)
{
	uint64_t lines = 99, bad = 99;

	err[0] = '\0';
	if (audit_verify(path, &lines, &bad, err, errlen) == 0)
		return 0;
	CHECK(lines == bad - 1);
	return bad;
}

static void
hex_sha256(const char *s, char out[65])
{
	uint8_t h[32];
	unsigned i;

	mbedtls_sha256_ret((const unsigned char *)s, strlen(s), h, 0);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static bool
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void
test_append_verify_reopen(void)
{
	char err[512], h[65], want[512];
	struct audit a;
	uint64_t lines = 0, bad = 0;
	struct stat st;
	unsigned i;

	CHECK(audit_open(&a, logp, err, sizeof(err)) == 0);
	CHECK(a.seq == 0);
	CHECK(stat(logp, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(audit_verify(logp, &lines, &bad, err, sizeof(err)) == 0 && lines == 0);
	for (i = 0; i < 5; i++) {
		struct audit_kv kv[] = {
			{ .key = "principal", .s = "web" },
			{ .key = "n", .i = (int64_t)i - 2 },
			{ .key = "addr", .s = "192.0.2.7:41000" },
		};

		CHECK(audit_append(&a, T0 + i, "auth.ok", kv, 3) == 0);
	}
	CHECK(a.seq == 5);
	CHECK(audit_verify(logp, &lines, &bad, err, sizeof(err)) == 0);
	CHECK(lines == 5);

	read_lines(logp, &orig);
	CHECK(orig.n == 5 && orig.nl_end);
	CHECK(strcmp(orig.l[0],
		     "{\"seq\":1,\"ts\":\"2026-11-18T11:06:40.123Z\",\"prev\":\"0000000000"
		     "000000000000000000000000000000000000000000000000000000\",\"event\":"
		     "\"auth.ok\",\"principal\":\"web\",\"n\":-2,\"addr\":\"192.0.2.7:"
		     "41000\"}") == 0);
	hex_sha256(orig.l[0], h);
	snprintf(want, sizeof(want),
		 "{\"seq\":2,\"ts\":\"2026-11-18T11:06:40.124Z\",\"prev\":\"%s\"", h);
	CHECK(strncmp(orig.l[1], want, strlen(want)) == 0);
	hex_sha256(orig.l[4], h);
	CHECK(strcmp(a.last_hash, h) == 0);
	audit_close(&a);
	CHECK(a.fd == -1);

	/* Reopen: the chain continues from the last line */
	CHECK(audit_open(&a, logp, err, sizeof(err)) == 0);
	CHECK(a.seq == 5);
	CHECK(strcmp(a.last_hash, h) == 0);
	CHECK(audit_append(&a, T0 + 1000, "ctld.reload", NULL, 0) == 0);
	{
		struct audit_kv kv = { .key = "id", .s = "3fa9c2d1e0b4" };

		CHECK(audit_append(&a, T0 + 2000, "token.revoke", &kv, 1) == 0);
	}
	CHECK(a.seq == 7);
	audit_close(&a);
	CHECK(audit_verify(logp, &lines, &bad, err, sizeof(err)) == 0);
	CHECK(lines == 7);
	read_lines(logp, &orig);
	CHECK(orig.n == 7);
	CHECK(strncmp(orig.l[5], "{\"seq\":6,", 9) == 0);
	hex_sha256(orig.l[4], h);
	CHECK(strstr(orig.l[5], h) != NULL);
	CHECK(strstr(orig.l[6], "\"event\":\"token.revoke\",\"id\":\"3fa9c2d1e0b4\"}") != NULL);

	/* Bad arguments: nothing written, chain unchanged */
	CHECK(audit_open(&a, logp, err, sizeof(err)) == 0);
	{
		struct audit_kv kv = { .key = "seq", .i = 9 };

		errno = 0;
		CHECK(audit_append(&a, T0, "x", &kv, 1) == -1 && errno == EINVAL);
		CHECK(audit_append(&a, T0, "", NULL, 0) == -1 && errno == EINVAL);
		CHECK(audit_append(&a, -1, "x", NULL, 0) == -1 && errno == EINVAL);
	}
	CHECK(a.seq == 7);
	audit_close(&a);
	CHECK(audit_verify(logp, &lines, &bad, err, sizeof(err)) == 0 && lines == 7);
}

/* Each tampering is caught at the first line whose seq or prev no longer fits. */
static void
test_tamper(void)
{
	char err[512], *p;
	struct audit a;
	unsigned i;

	read_lines(logp, &orig);
	CHECK(orig.n == 7);
	CHECK(bad_line_of(logp, err, sizeof(err)) == 0);

	/* Edit a value in line 3: line 4's prev no longer matches */
	work = orig;
	p = strstr(work.l[2], "\"web\"");
	CHECK(p != NULL);
	if (p)
		memcpy(p, "\"wab\"", 5);
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 4);
	CHECK(strstr(err, ":4: prev is not the SHA-256 of line 3") != NULL);

	/* Delete line 2 */
	work = orig;
	for (i = 1; i + 1 < work.n; i++)
		memcpy(work.l[i], work.l[i + 1], sizeof(work.l[i]));
	work.n--;
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 2);
	CHECK(strstr(err, ":2: seq is 3, expected 2") != NULL);

	/* Swap lines 2 and 3 */
	work = orig;
	memcpy(work.l[1], orig.l[2], sizeof(work.l[1]));
	memcpy(work.l[2], orig.l[1], sizeof(work.l[2]));
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 2);

	/* Renumbering the seqs does not help: prev breaks */
	p = strstr(work.l[1], "\"seq\":3");
	if (p)
		p[6] = '2';
	p = strstr(work.l[2], "\"seq\":2");
	if (p)
		p[6] = '3';
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 2);
	CHECK(strstr(err, "prev") != NULL);

	/* Append a forged line with the right seq and a wrong prev */
	work = orig;
	snprintf(work.l[7], sizeof(work.l[7]),
		 "{\"seq\":8,\"ts\":\"2026-11-18T11:06:50.000Z\",\"prev\":\"%064d\","
		 "\"event\":\"forged\"}",
		 1);
	work.n = 8;
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 8);
	CHECK(strstr(err, ":8: prev") != NULL);

	/* A first line with a non-zero prev */
	work = orig;
	work.l[0][strlen("{\"seq\":1,\"ts\":\"2026-11-18T11:06:40.123Z\",\"prev\":\"")] = '1';
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 1);

	/* Not of this shape: a foreign line in the middle, keys reordered */
	work = orig;
	snprintf(work.l[3], sizeof(work.l[3]), "{\"hello\":1}");
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 4);
	CHECK(strstr(err, ":4: not an audit line") != NULL);
	work = orig;
	snprintf(work.l[0], sizeof(work.l[0]),
		 "{\"ts\":\"2026-11-18T11:06:40.123Z\",\"seq\":1,\"prev\":\"%064d\","
		 "\"event\":\"x\"}",
		 0);
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 1);

	/* Truncate the last newline: verify names the line, open refuses to go on */
	work = orig;
	work.nl_end = false;
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 7);
	CHECK(strstr(err, ":7: no newline at the end") != NULL);
	CHECK(audit_open(&a, copyp, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no newline") != NULL && strstr(err, copyp) != NULL);
	CHECK(a.fd == -1);

	/* A last line that does not parse cannot be continued either */
	work = orig;
	snprintf(work.l[6], sizeof(work.l[6]), "garbage");
	write_lines(copyp, &work);
	CHECK(audit_open(&a, copyp, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not an audit line") != NULL);

	/* A line longer than AUDIT_LINE_MAX is no audit line */
	work = orig;
	memset(work.l[6], 'x', AUDIT_LINE_MAX);
	work.l[6][AUDIT_LINE_MAX] = '\0';
	write_lines(copyp, &work);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 7);
	CHECK(strstr(err, ":7: longer than") != NULL);
	CHECK(audit_open(&a, copyp, err, sizeof(err)) == -1);
	CHECK(strstr(err, "longer than") != NULL);

	/* An intact copy opens and continues */
	write_lines(copyp, &orig);
	CHECK(audit_open(&a, copyp, err, sizeof(err)) == 0 && a.seq == 7);
	CHECK(audit_append(&a, T0 + 3000, "ctld.stop", NULL, 0) == 0);
	audit_close(&a);
	CHECK(bad_line_of(copyp, err, sizeof(err)) == 0);
	unlink(copyp);

	CHECK(audit_verify("/nonexistent-sluice/audit.jsonl", NULL, NULL, err, sizeof(err)) == -1);
}

static void
test_escaping_and_length(void)
{
	static const char nasty[] = "q\"b\\n\nt\tc\x01\x1f"
				    "d\x7f"
				    "e\xc3\xa9"
				    "f\xff/";
	char err[512], big[10000], big2[6000];
	struct audit a;
	uint64_t lines, bad;
	const char *last;

	CHECK(audit_open(&a, copyp, err, sizeof(err)) == 0);
	{
		struct audit_kv kv[] = {
			{ .key = "note", .s = nasty },
			{ .key = "k\"\x02", .s = "" },
		};

		CHECK(audit_append(&a, T0, "op\n.x", kv, 2) == 0);
	}
	read_lines(copyp, &work);
	CHECK(work.n == 1);
	last = work.l[0];
	CHECK(printable(last));
	CHECK(strstr(last, "\"event\":\"op\\n.x\"") != NULL);
	CHECK(strstr(last, "\"note\":\"q\\\"b\\\\n\\nt\\tc\\u0001\\u001fd\\u007fe\\u00c3\\u00a9f"
			   "\\u00ff/\"") != NULL);
	CHECK(strstr(last, "\"k\\\"\\u0002\":\"\"") != NULL);

	/* Too long: the longest values are cut, marked, and the line still verifies */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(big2, '"', sizeof(big2) - 1); /* escapes to two bytes each */
	big2[sizeof(big2) - 1] = '\0';
	{
		struct audit_kv kv[] = {
			{ .key = "short", .s = "kept" },
			{ .key = "big", .s = big },
			{ .key = "n", .i = INT64_MIN },
			{ .key = "big2", .s = big2 },
		};

		CHECK(audit_append(&a, T0 + 1, "long", kv, 4) == 0);
	}
	read_lines(copyp, &work);
	CHECK(work.n == 2);
	last = work.l[1];
	CHECK(strlen(last) + 1 <= AUDIT_LINE_MAX);
	CHECK(strlen(last) + 1 > AUDIT_LINE_MAX - 8); /* cut no more than needed */
	CHECK(strstr(last, "\"short\":\"kept\"") != NULL);
	CHECK(strstr(last, "aaa...\"") != NULL);
	CHECK(strstr(last, "\\\"...\"") != NULL); /* cut at a whole escape */
	CHECK(strstr(last, "\"n\":-9223372036854775808") != NULL);
	CHECK(strstr(last, "\"event\":\"long\"") != NULL);

	/* Keys alone longer than a line: refused */
	{
		struct audit_kv kv = { .key = big, .i = 1 };

		errno = 0;
		CHECK(audit_append(&a, T0 + 2, "x", &kv, 1) == -1 && errno == EMSGSIZE);
	}
	CHECK(a.seq == 2);
	audit_close(&a);
	CHECK(audit_verify(copyp, &lines, &bad, err, sizeof(err)) == 0 && lines == 2);
	unlink(copyp);
}

/* tail writes exactly the last n lines, whole. */
static void
test_tail(void)
{
	char out[128], text[65536], want[65536], err[256];
	long len;
	int fd;
	unsigned n, i;
	struct audit a;

	snprintf(out, sizeof(out), "%s/tail.out", dir);
	read_lines(logp, &orig);
	CHECK(orig.n == 7);
	for (n = 0; n <= 9; n++) {
		FILE *f;

		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(fd >= 0);
		CHECK(audit_tail(logp, n, fd) == 0);
		close(fd);
		want[0] = '\0';
		for (i = n >= orig.n ? 0 : orig.n - n; i < orig.n; i++) {
			strcat(want, orig.l[i]);
			strcat(want, "\n");
		}
		f = fopen(out, "r");
		len = f ? (long)fread(text, 1, sizeof(text) - 1, f) : -1;
		if (f)
			fclose(f);
		text[len < 0 ? 0 : len] = '\0';
		CHECK(strcmp(text, want) == 0);
	}

	/* Across read chunks: many lines, the last 100 */
	snprintf(out + strlen(out), sizeof(out) - strlen(out), ".log");
	CHECK(audit_open(&a, out, err, sizeof(err)) == 0);
	for (i = 0; i < 400; i++) {
		struct audit_kv kv = { .key = "i", .i = i };

		CHECK(audit_append(&a, T0 + i, "bulk", &kv, 1) == 0);
	}
	audit_close(&a);
	CHECK(audit_open(&a, out, err, sizeof(err)) == 0 && a.seq == 400);
	audit_close(&a);
	{
		char tp[80];
		FILE *f;
		unsigned count = 0;

		snprintf(tp, sizeof(tp), "%s/tail2.out", dir);
		fd = open(tp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(audit_tail(out, 100, fd) == 0);
		close(fd);
		f = fopen(tp, "r");
		CHECK(f != NULL);
		while (f && fgets(text, sizeof(text), f)) {
			char pre[32];

			snprintf(pre, sizeof(pre), "{\"seq\":%u,", 301 + count);
			CHECK(strncmp(text, pre, strlen(pre)) == 0);
			count++;
		}
		if (f)
			fclose(f);
		CHECK(count == 100);
		unlink(tp);
	}
	unlink(out);
	out[strlen(out) - 4] = '\0';
	unlink(out);
	CHECK(audit_tail("/nonexistent-sluice/audit.jsonl", 1, 1) == -1);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sluice-audit-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(logp, sizeof(logp), "%s/audit.jsonl", dir);
	snprintf(copyp, sizeof(copyp), "%s/copy.jsonl", dir);

	test_append_verify_reopen();
	test_tamper();
	test_escaping_and_length();
	test_tail();

	unlink(logp);
	unlink(copyp);
	CHECK(rmdir(dir) == 0);
	return CHECK_SUMMARY();
}
