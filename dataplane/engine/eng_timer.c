/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hierarchical timer wheel of the queue engine (layout in eng_pvt.h).
 *
 * Invariant, for a timer with expiry x filed at level l, slot s:
 *   - x and cur agree on every bit group above l, and group l of x is s;
 *   - s >= group 0 of cur at level 0, s > group l of cur at levels l >= 1:
 *     whenever cur reaches the start of a slot at level >= 1, that slot is
 *     re-filed at once (wheel_cascade), before anyone asks for next().
 * So the lowest non-empty level holds the earliest timers, and within a
 * level the lowest set bit of bm[] is the earliest slot: no scan of empty
 * slots, and time may jump any distance in one step.
 *
 * A slot is a FIFO, NULL-terminated through tnext, with the head's tprev
 * pointing at the tail, so timers due in the same ms fire in filing order
 * (jobs failed one after the other retry in that order).
 */
#include <string.h>

#include "eng_pvt.h"

static inline unsigned
wheel_group(uint64_t x, unsigned level)
{
	return (unsigned)(x >> (level * ENG_WHEEL_BITS)) & (ENG_WHEEL_SLOTS - 1);
}

/* cur with bit groups 0..level cleared. */
static inline uint64_t
wheel_base(uint64_t cur, unsigned level)
{
	unsigned shift = (level + 1) * ENG_WHEEL_BITS;

	return shift >= 64 ? 0 : cur & ~((UINT64_C(1) << shift) - 1);
}

void
eng_wheel_init(struct eng_wheel *w)
{
	memset(w, 0, sizeof(*w));
}

static void
wheel_file(struct eng_wheel *w, struct eng_job *j)
{
	uint64_t x = j->deadline_ms < w->cur ? w->cur : j->deadline_ms;
	uint64_t diff = x ^ w->cur;
	unsigned level = diff ? (unsigned)(63 - __builtin_clzll(diff)) / ENG_WHEEL_BITS : 0;
	unsigned s = wheel_group(x, level);
	struct eng_job *head = w->slot[level][s];

	j->tnext = NULL;
	if (!head) {
		j->tprev = j;
		w->slot[level][s] = j;
	} else {
		j->tprev = head->tprev;
		head->tprev->tnext = j;
		head->tprev = j;
	}
	j->wheel_slot = (uint16_t)(level * ENG_WHEEL_SLOTS + s);
	w->bm[level] |= UINT64_C(1) << s;
	w->levels |= 1u << level;
}

void
eng_wheel_add(struct eng_wheel *w, struct eng_job *j)
{
	wheel_file(w, j);
	w->count++;
}

static void
wheel_unlink(struct eng_wheel *w, struct eng_job *j)
{
	unsigned level = j->wheel_slot / ENG_WHEEL_SLOTS;
	unsigned s = j->wheel_slot % ENG_WHEEL_SLOTS;
	struct eng_job *head = w->slot[level][s];

	if (j == head) {
		w->slot[level][s] = j->tnext;
		if (j->tnext)
			j->tnext->tprev = j->tprev; /* the tail */
	} else {
		j->tprev->tnext = j->tnext;
		if (j->tnext)
			j->tnext->tprev = j->tprev;
		else
			head->tprev = j->tprev; /* j was the tail */
	}
	if (!w->slot[level][s]) {
		w->bm[level] &= ~(UINT64_C(1) << s);
		if (!w->bm[level])
			w->levels &= ~(1u << level);
	}
	j->tprev = j->tnext = NULL;
	j->wheel_slot = ENG_WHEEL_NONE;
}

void
eng_wheel_del(struct eng_wheel *w, struct eng_job *j)
{
	if (j->wheel_slot == ENG_WHEEL_NONE)
		return;
	wheel_unlink(w, j);
	w->count--;
}

uint64_t
eng_wheel_next(const struct eng_wheel *w)
{
	unsigned level, s;

	if (!w->levels)
		return ENG_NEVER;
	/* Lower levels are strictly earlier than higher ones (invariant). */
	level = (unsigned)__builtin_ctz(w->levels);
	s = (unsigned)__builtin_ctzll(w->bm[level]);
	return wheel_base(w->cur, level) | ((uint64_t)s << (level * ENG_WHEEL_BITS));
}

/*
 * cur has just reached a slot boundary: move the timers of every level's
 * slot that starts at cur one or more levels down. Top-down, because a timer
 * from level 3 may land in the level-2 slot that starts now as well.
 */
static void
wheel_cascade(struct eng_wheel *w)
{
	unsigned level;

	for (level = ENG_WHEEL_LEVELS - 1; level > 0; level--) {
		unsigned s = wheel_group(w->cur, level);
		struct eng_job *j;

		if (!(w->bm[level] & (UINT64_C(1) << s)))
			continue;
		j = w->slot[level][s];
		w->slot[level][s] = NULL;
		w->bm[level] &= ~(UINT64_C(1) << s);
		if (!w->bm[level])
			w->levels &= ~(1u << level);
		while (j) {
			struct eng_job *next = j->tnext;

			wheel_file(w, j);
			j = next;
		}
	}
}

struct eng_job *
eng_wheel_pop(struct eng_wheel *w, uint64_t now)
{
	/* cur = now + 1 below must not wrap; ENG_NEVER timers are never filed. */
	if (now == UINT64_MAX)
		now--;
	for (;;) {
		unsigned s;
		uint64_t next;

		if (w->cur > now)
			return NULL;
		s = wheel_group(w->cur, 0);
		if (w->bm[0] & (UINT64_C(1) << s)) {
			struct eng_job *j = w->slot[0][s];

			wheel_unlink(w, j);
			w->count--;
			return j;
		}
		next = eng_wheel_next(w);
		if (next > now) {
			/* Nothing due up to now; now + 1 may start a slot to re-file. */
			w->cur = now + 1;
			if (!(w->cur & (ENG_WHEEL_SLOTS - 1)))
				wheel_cascade(w);
			return NULL;
		}
		w->cur = next;
		wheel_cascade(w);
	}
}
