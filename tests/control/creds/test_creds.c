/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of control/creds: token shape, verdicts, revocation, the store
 * file (round trip, hashes only, damaged files refused with path:line) and
 * provisioned tokens. Time is a number the test passes in. Every store
 * lives in a fresh directory under /tmp, removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creds.h"
#include "../../check.h"

#define NOW INT64_C(1795000000)

static char dir[64];
static char store[128];

/* The whole file at path, NUL-terminated, into buf; its length or -1. */
static long
slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (long)n;
}

static void
spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static bool
is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static enum creds_verdict
check_str(const struct creds *s, const char *tok, int64_t now, const struct cred **which)
{
	return creds_check(s, (const uint8_t *)tok, strlen(tok), now, which);
}

static void
test_hex(void)
{
	static const uint8_t bytes[3] = { 0x00, 0xab, 0xff };
	uint8_t out[3], h[32];
	char hex[65];

	creds_hex(bytes, 3, hex);
	CHECK(strcmp(hex, "00abff") == 0);
	CHECK(creds_unhex("00ABff", out, 3) == 0);
	CHECK(memcmp(out, bytes, 3) == 0);
	CHECK(creds_unhex("00abf", out, 3) == -1);   /* too short */
	CHECK(creds_unhex("00abff0", out, 3) == -1); /* too long */
	CHECK(creds_unhex("00abfg", out, 3) == -1);  /* not hex */
	CHECK(creds_unhex(" 0abff", out, 3) == -1);
	CHECK(creds_unhex("", out, 0) == 0);

	creds_sha256("abc", 3, h);
	creds_hex(h, 32, hex);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
}

static void
test_shape_and_verdicts(void)
{
	char tok1[CREDS_TOKEN_LEN + 1], tok2[CREDS_TOKEN_LEN + 1], tok3[CREDS_TOKEN_LEN + 1];
	char bad[CREDS_TOKEN_LEN + 1], err[300];
	const struct cred *which;
	struct cred made1, made2;
	struct creds s;
	uint8_t h[32];
	unsigned i;

	CHECK(creds_open(&s, "", err, sizeof(err)) == 0); /* memory only */
	CHECK(creds_create(&s, "web", NOW, 0, tok1, &made1, err, sizeof(err)) == 0);
	CHECK(strlen(tok1) == CREDS_TOKEN_LEN);
	CHECK(strncmp(tok1, "slk_", 4) == 0);
	for (i = 4; i < 16; i++)
		CHECK((tok1[i] >= '0' && tok1[i] <= '9') || (tok1[i] >= 'a' && tok1[i] <= 'f'));
	CHECK(strncmp(tok1 + 4, made1.id, CREDS_ID_LEN) == 0);
	CHECK(tok1[16] == '_');
	CHECK(strlen(tok1 + 17) == 43);
	for (i = 17; i < CREDS_TOKEN_LEN; i++)
		CHECK(is_b64url(tok1[i]));
	CHECK(strchr(tok1, '=') == NULL);
	CHECK(strcmp(made1.principal, "web") == 0);
	CHECK(made1.created == NOW && made1.expires == 0 && made1.revoked == 0);
	CHECK(!made1.from_config);
	creds_sha256(tok1, strlen(tok1), h);
	CHECK(memcmp(h, made1.sha256, 32) == 0);

	CHECK(creds_create(&s, "web", NOW, 0, tok2, &made2, err, sizeof(err)) == 0);
	CHECK(strcmp(tok1, tok2) != 0);
	CHECK(strcmp(made1.id, made2.id) != 0);
	CHECK(s.n == 2);

	/* OK, with the matching entry */
	CHECK(check_str(&s, tok1, NOW + 1, &which) == CREDS_OK);
	CHECK(which && strcmp(which->id, made1.id) == 0);
	CHECK(check_str(&s, tok2, NOW + 1, &which) == CREDS_OK);
	CHECK(which && strcmp(which->id, made2.id) == 0);
	CHECK(creds_find(&s, made2.id) == which);
	CHECK(creds_find(&s, "000000000000") == NULL);

	/* UNKNOWN: one character off, a prefix, not a token at all, nothing */
	memcpy(bad, tok1, sizeof(bad));
	bad[CREDS_TOKEN_LEN - 1] = bad[CREDS_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
	CHECK(check_str(&s, bad, NOW, &which) == CREDS_UNKNOWN);
	CHECK(which == NULL);
	CHECK(creds_check(&s, (const uint8_t *)tok1, CREDS_TOKEN_LEN - 1, NOW, &which) ==
	      CREDS_UNKNOWN);
	CHECK(check_str(&s, "hello", NOW, &which) == CREDS_UNKNOWN);
	CHECK(creds_check(&s, NULL, 0, NOW, &which) == CREDS_UNKNOWN);
	CHECK(creds_check(&s, (const uint8_t *)tok1, CREDS_TOKEN_LEN, NOW, NULL) == CREDS_OK);

	/* EXPIRED from the expiry second on */
	CHECK(creds_create(&s, "cron", NOW, NOW + 10, tok3, NULL, err, sizeof(err)) == 0);
	CHECK(check_str(&s, tok3, NOW + 9, &which) == CREDS_OK);
	CHECK(check_str(&s, tok3, NOW + 10, &which) == CREDS_EXPIRED);
	CHECK(which && strcmp(which->principal, "cron") == 0);

	/* REVOKED by id (and revoked beats expired) */
	CHECK(creds_revoke(&s, made1.id, NOW + 5, err, sizeof(err)) == 0);
	CHECK(check_str(&s, tok1, NOW + 6, &which) == CREDS_REVOKED);
	CHECK(which && which->revoked == NOW + 5);
	CHECK(creds_revoke(&s, made1.id, NOW + 7, err, sizeof(err)) == 0);
	CHECK(creds_find(&s, made1.id)->revoked == NOW + 5); /* first time kept */
	CHECK(check_str(&s, tok2, NOW + 6, &which) == CREDS_OK);
	CHECK(creds_revoke(&s, "ffffffffffff", NOW, err, sizeof(err)) == -1);
	CHECK(strstr(err, "ffffffffffff") != NULL);

	/* REVOKED by principal: every live one, counted once */
	CHECK(creds_revoke_principal(&s, "web", NOW + 8) == 1); /* tok1 was revoked already */
	CHECK(check_str(&s, tok2, NOW + 9, &which) == CREDS_REVOKED);
	CHECK(creds_revoke_principal(&s, "web", NOW + 9) == 0);
	CHECK(creds_revoke_principal(&s, "nobody", NOW + 9) == 0);
	CHECK(check_str(&s, tok3, NOW + 9, &which) == CREDS_OK);

	/* Refused: bad principal, expiry in the past */
	CHECK(creds_create(&s, "", NOW, 0, tok3, NULL, err, sizeof(err)) == -1);
	CHECK(creds_create(&s, "a b", NOW, 0, tok3, NULL, err, sizeof(err)) == -1);
	CHECK(creds_create(&s, "web", NOW, NOW, tok3, NULL, err, sizeof(err)) == -1);
	CHECK(creds_create(&s, "web", NOW, -1, tok3, NULL, err, sizeof(err)) == -1);
	CHECK(tok3[0] == '\0');
	CHECK(s.n == 3);

	CHECK(strcmp(creds_verdict_name(CREDS_OK), "ok") == 0);
	CHECK(strcmp(creds_verdict_name(CREDS_UNKNOWN), "unknown") == 0);
	CHECK(strcmp(creds_verdict_name(CREDS_EXPIRED), "expired") == 0);
	CHECK(strcmp(creds_verdict_name(CREDS_REVOKED), "revoked") == 0);
	creds_close(&s);
}

static void
test_store_round_trip(void)
{
	char tok[3][CREDS_TOKEN_LEN + 1], err[300], text[8192], hex[65], cfg_id[] = "0123456789ab";
	struct cred made[3];
	const struct cred *which;
	struct creds s, t;
	struct stat st;
	uint8_t cfg_hash[32];
	unsigned i;

	CHECK(creds_open(&s, store, err, sizeof(err)) == 0); /* missing: empty */
	CHECK(s.n == 0);
	CHECK(creds_create(&s, "web", NOW, 0, tok[0], &made[0], err, sizeof(err)) == 0);
	CHECK(creds_create(&s, "batch", NOW + 1, NOW + 3600, tok[1], &made[1], err, sizeof(err)) ==
	      0);
	CHECK(creds_create(&s, "batch", NOW + 2, 0, tok[2], &made[2], err, sizeof(err)) == 0);
	CHECK(creds_revoke(&s, made[2].id, NOW + 3, err, sizeof(err)) == 0);

	/* A provisioned token works but never reaches the file */
	creds_sha256("slk_0123456789ab_provisioned", 28, cfg_hash);
	CHECK(creds_add_config(&s, cfg_id, "ops", cfg_hash, 0, err, sizeof(err)) == 0);
	CHECK(check_str(&s, "slk_0123456789ab_provisioned", NOW, &which) == CREDS_OK);
	CHECK(which && which->from_config && strcmp(which->principal, "ops") == 0);
	CHECK(creds_add_config(&s, cfg_id, "ops", made[0].sha256, 0, err, sizeof(err)) == -1);
	CHECK(creds_add_config(&s, "ba9876543210", "ops", made[0].sha256, 0, err, sizeof(err)) ==
	      -1); /* same hash as a store token */
	CHECK(creds_add_config(&s, "0123456789AB", "ops", cfg_hash, 0, err, sizeof(err)) == -1);
	CHECK(creds_revoke(&s, cfg_id, NOW, err, sizeof(err)) == -1);
	CHECK(strstr(err, "configuration") != NULL);
	CHECK(creds_revoke_principal(&s, "ops", NOW) == 0);
	/* Saving again (a revocation) must still leave it out */
	CHECK(creds_revoke(&s, made[0].id, NOW + 4, err, sizeof(err)) == 0);

	CHECK(stat(store, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(slurp(store, text, sizeof(text)) > 0);
	for (i = 0; i < 3; i++) {
		CHECK(strstr(text, tok[i]) == NULL);
		CHECK(strstr(text, tok[i] + 17) == NULL); /* not even the secret part */
		creds_hex(made[i].sha256, 32, hex);
		CHECK(strstr(text, hex) != NULL);
	}
	CHECK(strstr(text, cfg_id) == NULL);
	CHECK(strstr(text, "\"principal\":\"ops\"") == NULL);
	{
		char tmp[160];

		snprintf(tmp, sizeof(tmp), "%s.tmp", store);
		CHECK(access(tmp, F_OK) == -1); /* renamed away */
	}

	creds_drop_config(&s);
	CHECK(s.n == 3 && creds_find(&s, cfg_id) == NULL);
	CHECK(check_str(&s, "slk_0123456789ab_provisioned", NOW, &which) == CREDS_UNKNOWN);
	creds_close(&s);

	CHECK(creds_open(&t, store, err, sizeof(err)) == 0);
	CHECK(t.n == 3);
	for (i = 0; i < 3 && t.n == 3; i++) {
		const struct cred *c = creds_find(&t, made[i].id);

		CHECK(c != NULL);
		if (!c)
			continue;
		CHECK(strcmp(c->principal, made[i].principal) == 0);
		CHECK(memcmp(c->sha256, made[i].sha256, 32) == 0);
		CHECK(c->created == made[i].created);
		CHECK(c->expires == made[i].expires);
		CHECK(!c->from_config);
	}
	CHECK(check_str(&t, tok[0], NOW + 5, &which) == CREDS_REVOKED);
	CHECK(which && which->revoked == NOW + 4);
	CHECK(check_str(&t, tok[1], NOW + 5, &which) == CREDS_OK);
	CHECK(check_str(&t, tok[1], NOW + 3600, &which) == CREDS_EXPIRED);
	CHECK(check_str(&t, tok[2], NOW + 5, &which) == CREDS_REVOKED);
	CHECK(which && which->revoked == NOW + 3);
	CHECK(creds_revoke_principal(&t, "batch", NOW + 6) == 1);
	creds_close(&t);

	CHECK(creds_open(&t, store, err, sizeof(err)) == 0);
	CHECK(check_str(&t, tok[1], NOW + 7, &which) == CREDS_REVOKED);
	CHECK(which && which->revoked == NOW + 6);
	creds_close(&t);

	/* A store whose directory is missing is refused at open */
	CHECK(creds_open(&t, "/nonexistent-sluice-dir/tokens.jsonl", err, sizeof(err)) == -1);
	CHECK(strstr(err, "/nonexistent-sluice-dir") != NULL);
}

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define L1                                                                                         \
	"{\"id\":\"aaaaaaaaaaaa\",\"principal\":\"web\",\"sha256\":\"" H1                          \
	"\",\"created\":1,\"expires\":0,\"revoked\":0}\n"

/* Damaged store files: each refused, naming the line and what is wrong. */
static void
test_damaged(void)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *says;
	} cases[] = {
		{ "not json\n", 1, "JSON object" },
		{ "\n", 1, "JSON object" },
		{ L1 "{\"id\":\"bbbbbbbbbbbb\",\"principal\":\"web\",\"sha256\":\"" H2
		     "\",\"created\":1,\"expires\":0}\n",
		  2, "\"revoked\" is missing" },
		{ L1 "{\"id\":\"bbbbbbbbbbbb\",\"principal\":\"web\",\"sha256\":\"" H2
		     "\",\"created\":1,\"expires\":0,\"revoked\":0,\"note\":\"x\"}\n",
		  2, "unknown key \"note\"" },
		{ "{\"id\":\"aaaaaaaaaaaa\",\"id\":\"aaaaaaaaaaaa\",\"principal\":\"web\"}\n", 1,
		  "twice" },
		{ "{\"id\":\"AAAAAAAAAAAA\",\"principal\":\"web\",\"sha256\":\"" H1
		  "\",\"created\":1,\"expires\":0,\"revoked\":0}\n",
		  1, "\"id\"" },
		{ "{\"id\":\"aaaaaaaaaaaa\",\"principal\":\"web\",\"sha256\":\"" H1
		  "0\",\"created\":1,\"expires\":0,\"revoked\":0}\n",
		  1, "\"sha256\"" },
		{ "{\"id\":\"aaaaaaaaaaaa\",\"principal\":\"w\\\"b\",\"sha256\":\"" H1
		  "\",\"created\":1,\"expires\":0,\"revoked\":0}\n",
		  1, "escape" },
		{ "{\"id\":\"aaaaaaaaaaaa\",\"principal\":\"web\",\"sha256\":\"" H1
		  "\",\"created\":-1,\"expires\":0,\"revoked\":0}\n",
		  1, "\"created\"" },
		{ "{\"id\":\"aaaaaaaaaaaa\",\"principal\":\"web\",\"sha256\":\"" H1
		  "\",\"created\":01,\"expires\":0,\"revoked\":0}\n",
		  1, "leading zero" },
		{ "{\"id\":\"aaaaaaaaaaaa\",\"principal\":\"web\",\"sha256\":\"" H1
		  "\",\"created\":1,\"expires\":99999999999999999999,\"revoked\":0}\n",
		  1, "too large" },
		{ "{\"id\":\"aaaaaaaaaaaa\",\"principal\":\"web\",\"sha256\":\"" H1
		  "\",\"created\":\"1\",\"expires\":0,\"revoked\":0}\n",
		  1, "\"created\"" },
		{ L1 L1, 2, "earlier line" },
		{ L1 "{\"id\":\"bbbbbbbbbbbb\",\"principal\":\"web\",\"sha256\":\"" H1
		     "\",\"created\":1,\"expires\":0,\"revoked\":0}\n",
		  2, "aaaaaaaaaaaa" },
		{ L1 "{\"id\":\"bbbbbbbbbbbb\",\"principal\":\"web\",\"sha256\":\"" H2
		     "\",\"created\":1,\"expires\":0,\"revoked\":0}",
		  2, "no newline" },
		{ L1 "{\"id\":\"bbbbbbbbbbbb\",\"principal\":\"web\",\"sha256\":\"" H2
		     "\",\"created\":1,\"expires\":0,\"revoked\":0} x\n",
		  2, "after the closing" },
		{ L1 L1 L1, 2, "earlier line" },
	};
	char err[300], want[200];
	struct creds s;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		spit(store, cases[i].text);
		err[0] = '\0';
		rc = creds_open(&s, store, err, sizeof(err));
		CHECK(rc == -1);
		snprintf(want, sizeof(want), "%s:%u: ", store, cases[i].line);
		CHECK(strncmp(err, want, strlen(want)) == 0);
		CHECK(strstr(err, cases[i].says) != NULL);
		if (rc == -1 && (strncmp(err, want, strlen(want)) || !strstr(err, cases[i].says)))
			fprintf(stderr, "  case %u: %s\n", i, err);
		CHECK(s.n == 0 && s.c == NULL);
		if (rc == 0)
			creds_close(&s);
	}

	/* The valid forms: blanks between tokens, keys in any order */
	spit(store, "{ \"revoked\": 0, \"expires\": 0, \"created\": 1, \"sha256\": \"" H1
		    "\", \"principal\": \"web\", \"id\": \"aaaaaaaaaaaa\" }\n" L1);
	CHECK(creds_open(&s, store, err, sizeof(err)) == -1); /* second line repeats the id */
	spit(store, "{ \"revoked\": 0, \"expires\": 0, \"created\": 1, \"sha256\": \"" H2
		    "\", \"principal\": \"web\", \"id\": \"bbbbbbbbbbbb\" }\n" L1);
	CHECK(creds_open(&s, store, err, sizeof(err)) == 0);
	CHECK(s.n == 2 && creds_find(&s, "bbbbbbbbbbbb") != NULL);
	creds_close(&s);
	spit(store, "");
	CHECK(creds_open(&s, store, err, sizeof(err)) == 0 && s.n == 0);
	creds_close(&s);
	unlink(store);
}

int
main(void)
{
	char tmp[160];

	snprintf(dir, sizeof(dir), "/tmp/sluice-creds-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(store, sizeof(store), "%s/tokens.jsonl", dir);

	test_hex();
	test_shape_and_verdicts();
	test_store_round_trip();
	test_damaged();

	unlink(store);
	snprintf(tmp, sizeof(tmp), "%s.tmp", store);
	unlink(tmp);
	CHECK(rmdir(dir) == 0);
	return CHECK_SUMMARY();
}
