/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyed hashing and the two "have we seen this" tables of the queue engine:
 * job-id dedup and unique keys (layouts in eng_pvt.h).
 *
 * Job ids and unique keys come from producers, so bucket choice uses a keyed
 * PRF (SipHash-2-4, key drawn from the engine seed): a producer cannot aim
 * many keys at one chain without knowing the key.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "eng_pvt.h"

/* ---- PRNG and mixing ---- */

uint64_t
eng_mix64(uint64_t x)
{
	/* xor-shift and odd multiply are each invertible: a bijection. */
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

uint64_t
eng_splitmix64(uint64_t *state)
{
	*state += UINT64_C(0x9e3779b97f4a7c15);
	return eng_mix64(*state);
}

/* ---- SipHash-2-4 (Aumasson, Bernstein: "SipHash: a fast short-input PRF") ---- */

static inline uint64_t
rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl64(v1, 13);                                                               \
		v1 ^= v0;                                                                          \
		v0 = rotl64(v0, 32);                                                               \
		v2 += v3;                                                                          \
		v3 = rotl64(v3, 16);                                                               \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl64(v3, 21);                                                               \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl64(v1, 17);                                                               \
		v1 ^= v2;                                                                          \
		v2 = rotl64(v2, 32);                                                               \
	} while (0)

uint64_t
eng_siphash(const struct eng_hkey *k, uint64_t tweak, const void *p, size_t n)
{
	const uint8_t *in = p;
	uint64_t k0 = k->k0 ^ tweak, k1 = k->k1;
	uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575);
	uint64_t v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
	uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261);
	uint64_t v3 = k1 ^ UINT64_C(0x7465646279746573);
	uint64_t m, b = (uint64_t)n << 56;
	size_t i, tail = n & 7;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&m, in + i, 8);
		m = le64toh(m);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (m = 0; tail; tail--)
		m |= (uint64_t)in[i + tail - 1] << (8 * (tail - 1));
	b |= m;
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

#undef SIPROUND

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (UINT32_C(1) << 31))
		p <<= 1;
	return p;
}

/* ---- job-id dedup ---- */

int
eng_dedup_init(struct eng_dedup *d, uint32_t entries)
{
	uint32_t i;

	memset(d, 0, sizeof(*d));
	if (!entries)
		return 0;
	d->cap = entries;
	d->mask = pow2_at_least(entries) - 1;
	d->rec = calloc(entries, sizeof(*d->rec));
	d->bucket = malloc(((size_t)d->mask + 1) * sizeof(*d->bucket));
	if (!d->rec || !d->bucket)
		return -1;
	for (i = 0; i <= d->mask; i++)
		d->bucket[i] = ENG_NIL;
	return 0;
}

void
eng_dedup_fini(struct eng_dedup *d)
{
	free(d->rec);
	free(d->bucket);
	memset(d, 0, sizeof(*d));
}

static uint64_t
dedup_hash(const struct eng_hkey *k, uint16_t queue, struct wire_jobid id)
{
	uint64_t w[2] = { htole64(id.hi), htole64(id.lo) };

	return eng_siphash(k, queue, w, sizeof(w));
}

bool
eng_dedup_seen(const struct eng_dedup *d, const struct eng_hkey *k, uint16_t queue,
	       struct wire_jobid id, uint64_t now)
{
	uint32_t r;

	if (!d->used)
		return false;
	for (r = d->bucket[dedup_hash(k, queue, id) & d->mask]; r != ENG_NIL; r = d->rec[r].chain) {
		const struct eng_dedup_rec *x = &d->rec[r];

		if (x->queue == queue && x->id.hi == id.hi && x->id.lo == id.lo &&
		    now < x->until_ms)
			return true;
	}
	return false;
}

/* Drop the oldest record (the ring's head) from its chain. */
static void
dedup_drop_head(struct eng_dedup *d, const struct eng_hkey *k)
{
	struct eng_dedup_rec *x = &d->rec[d->head];
	uint32_t *link = &d->bucket[dedup_hash(k, x->queue, x->id) & d->mask];

	while (*link != d->head)
		link = &d->rec[*link].chain;
	*link = x->chain;
	d->head = d->head + 1 == d->cap ? 0 : d->head + 1;
	d->used--;
}

void
eng_dedup_insert(struct eng_dedup *d, const struct eng_hkey *k, uint16_t queue,
		 struct wire_jobid id, uint64_t until_ms, uint64_t now)
{
	struct eng_dedup_rec *x;
	uint32_t r, *b;

	if (!d->cap)
		return;
	/* Reclaim expired records at the old end first: not evictions. */
	while (d->used && d->rec[d->head].until_ms <= now)
		dedup_drop_head(d, k);
	if (d->used == d->cap) {
		dedup_drop_head(d, k);
		d->evictions++;
	}
	r = d->head + d->used;
	if (r >= d->cap)
		r -= d->cap;
	x = &d->rec[r];
	x->id = id;
	x->queue = queue;
	x->until_ms = until_ms;
	b = &d->bucket[dedup_hash(k, queue, id) & d->mask];
	x->chain = *b;
	*b = r;
	d->used++;
}

/* ---- unique keys ---- */

int
eng_unique_init(struct eng_unique *u, uint32_t entries)
{
	uint32_t i;

	memset(u, 0, sizeof(*u));
	u->cap = entries;
	u->mask = pow2_at_least(entries) - 1;
	u->rec = calloc(entries, sizeof(*u->rec));
	u->bucket = malloc(((size_t)u->mask + 1) * sizeof(*u->bucket));
	if (!u->rec || !u->bucket)
		return -1;
	for (i = 0; i <= u->mask; i++)
		u->bucket[i] = ENG_NIL;
	for (i = 0; i < entries; i++)
		u->rec[i].fnext = i + 1 < entries ? i + 1 : ENG_NIL;
	u->free_head = entries ? 0 : ENG_NIL;
	u->tomb_head = u->tomb_tail = ENG_NIL;
	return 0;
}

void
eng_unique_fini(struct eng_unique *u)
{
	free(u->rec);
	free(u->bucket);
	memset(u, 0, sizeof(*u));
}

static uint64_t
unique_hash(const struct eng_hkey *k, uint16_t queue, const struct eng_job *job)
{
	struct wire_str key = eng_job_unique_key(job);

	return eng_siphash(k, UINT64_C(0x10000) | queue, key.p, key.len);
}

static void
tomb_unlink(struct eng_unique *u, uint32_t r)
{
	struct eng_urec *x = &u->rec[r];

	if (x->fprev != ENG_NIL)
		u->rec[x->fprev].fnext = x->fnext;
	else
		u->tomb_head = x->fnext;
	if (x->fnext != ENG_NIL)
		u->rec[x->fnext].fprev = x->fprev;
	else
		u->tomb_tail = x->fprev;
}

/* Remove record r from its chain and return it to the free list. */
static void
unique_free_rec(struct eng_unique *u, uint32_t r)
{
	struct eng_urec *x = &u->rec[r];
	uint32_t *link = &u->bucket[x->hash & u->mask];

	while (*link != r)
		link = &u->rec[*link].chain;
	*link = x->chain;
	if (x->state == ENG_UREC_TOMB)
		tomb_unlink(u, r);
	x->state = ENG_UREC_FREE;
	x->job = NULL;
	x->fnext = u->free_head;
	u->free_head = r;
	u->used--;
}

bool
eng_unique_held(struct eng_unique *u, const struct eng_hkey *k, uint16_t queue,
		const struct eng_job *job, uint64_t now)
{
	struct wire_str key = eng_job_unique_key(job);
	uint64_t h = unique_hash(k, queue, job);
	uint32_t r, next;

	for (r = u->bucket[h & u->mask]; r != ENG_NIL; r = next) {
		struct eng_urec *x = &u->rec[r];

		next = x->chain;
		if (x->hash != h || x->queue != queue)
			continue;
		if (x->state == ENG_UREC_LIVE) {
			struct wire_str held = eng_job_unique_key(x->job);

			if (held.len == key.len && memcmp(held.p, key.p, key.len) == 0)
				return true;
		} else if (now < x->until_ms) {
			return true;
		} else {
			unique_free_rec(u, r); /* expired tombstone: reclaim on the way */
		}
	}
	return false;
}

void
eng_unique_acquire(struct eng_unique *u, const struct eng_hkey *k, uint16_t queue,
		   struct eng_job *job, uint64_t now)
{
	struct eng_urec *x;
	uint32_t r, *b;

	/* Expired tombstones at the old end first, then the oldest live one. */
	while (u->tomb_head != ENG_NIL && u->rec[u->tomb_head].until_ms <= now)
		unique_free_rec(u, u->tomb_head);
	if (u->free_head == ENG_NIL) {
		/* Live records never exceed max_jobs, so a tombstone exists. */
		unique_free_rec(u, u->tomb_head);
		u->evictions++;
	}
	r = u->free_head;
	x = &u->rec[r];
	u->free_head = x->fnext;
	x->hash = unique_hash(k, queue, job);
	x->queue = queue;
	x->job = job;
	x->until_ms = job->unique_ttl_ms ? job->enqueued_ms + job->unique_ttl_ms : 0;
	x->state = ENG_UREC_LIVE;
	x->fprev = x->fnext = ENG_NIL;
	b = &u->bucket[x->hash & u->mask];
	x->chain = *b;
	*b = r;
	u->used++;
	job->ukey_rec = r;
}

void
eng_unique_release(struct eng_unique *u, struct eng_job *job, uint64_t now)
{
	uint32_t r = job->ukey_rec;
	struct eng_urec *x;

	if (r == ENG_NIL)
		return;
	job->ukey_rec = ENG_NIL;
	x = &u->rec[r];
	if (now >= x->until_ms) {
		unique_free_rec(u, r);
		return;
	}
	/* unique_ttl outlasts the job: keep the key (by hash) until then. */
	x->state = ENG_UREC_TOMB;
	x->job = NULL;
	x->fnext = ENG_NIL;
	x->fprev = u->tomb_tail;
	if (u->tomb_tail != ENG_NIL)
		u->rec[u->tomb_tail].fnext = r;
	else
		u->tomb_head = r;
	u->tomb_tail = r;
}
