/*
 * test_pressure_summary.c — the suppression of small groups in pressure
 * aggregates (src/app/pressure/summary.c), attacked: for each suppressed table
 * an exhaustive attacker tries every value of every hidden cell that agrees
 * with what is shown (and with what is public: no group has more practices than
 * it is known to have) and the test fails
 * if any cell of 1 or 2 practices has only one possible value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/pressure/summary.h"

/* ------------------------------------------------------------ the attacker */

#define MAX_CELLS 64
#define PER       5 /* cells per group: returned and the four levels */
struct attack {
	const struct pressure_cell *cells;
	size_t n_cells;
	const struct pressure_equation *eqs;
	size_t n_eqs;
	int64_t value[MAX_CELLS];
	bool known[MAX_CELLS];
	size_t hidden[MAX_CELLS], n_hidden;
	uint64_t seen[MAX_CELLS]; /* bit v: value v is possible */
	int64_t ceiling;
	long solutions;
};

/* A cell that holds 1 or 2 practices: the ones suppression exists to protect. (A 0 hidden
 * as a complement holds nobody; if it is worked out and that gives a small cell away, the
 * small cell fails the check itself.) */
static bool primary(const struct pressure_cell *c)
{
	return c->protected > 0 && c->protected < PRESSURE_MIN_GROUP;
}

static int64_t low(const struct attack *a, size_t c)
{
	return a->known[c] ? a->value[c] : 0;
}
static int64_t high(const struct attack *a, size_t c)
{
	return a->known[c] ? a->value[c] : a->cells[c].most ? a->cells[c].most : a->ceiling;
}

/* Whether every equation can still hold, given the cells known so far. */
static bool consistent(const struct attack *a)
{
	for (size_t e = 0; e < a->n_eqs; e++) {
		const struct pressure_equation *q = &a->eqs[e];
		int64_t lo = 0, hi = 0;
		for (size_t k = 0; k < q->n_parts; k++) {
			lo += low(a, q->parts[k]);
			hi += high(a, q->parts[k]);
		}
		if (hi < low(a, q->total) || lo > high(a, q->total))
			return false;
	}
	return true;
}

/* Whether every hidden cell has been seen with two values already. */
static bool done(const struct attack *a)
{
	for (size_t k = 0; k < a->n_hidden; k++)
		if (primary(&a->cells[a->hidden[k]]) && __builtin_popcountll(a->seen[k]) < 2)
			return false;
	return true;
}

static void search(struct attack *a, size_t i)
{
	if (!consistent(a) || (a->solutions && done(a)))
		return;
	if (i == a->n_hidden) {
		a->solutions++;
		for (size_t k = 0; k < a->n_hidden; k++)
			a->seen[k] |= (uint64_t)1 << a->value[a->hidden[k]];
		return;
	}
	size_t c = a->hidden[i];
	int64_t lo = low(a, c), hi = high(a, c);
	a->known[c] = true;
	for (int64_t v = lo; v <= hi; v++) {
		a->value[c] = v;
		search(a, i + 1);
	}
	a->known[c] = false;
}

/* Fails the test if any hidden cell's protected count can be worked out. */
static void attack(const struct pressure_cell *cells, size_t n, const struct pressure_equation *eqs,
                   size_t n_eqs)
{
	struct attack a = {.cells = cells, .n_cells = n, .eqs = eqs, .n_eqs = n_eqs};
	assert_true(n <= MAX_CELLS);
	for (size_t i = 0; i < n; i++) {
		if (cells[i].hidden) {
			a.hidden[a.n_hidden++] = i;
			if (cells[i].hidden == PRESSURE_FEWER_THAN_3)
				assert_true(primary(&cells[i]));
		} else {
			a.known[i] = true;
			a.value[i] = cells[i].protected;
		}
		if (cells[i].protected > a.ceiling)
			a.ceiling = cells[i].protected;
	}
	/* No hidden cell can exceed the largest count in the table (the collective's). */
	search(&a, 0);
	assert_true(a.solutions >= 1);
	for (size_t k = 0; k < a.n_hidden; k++) {
		if (primary(&cells[a.hidden[k]]) && __builtin_popcountll(a.seen[k]) < 2) {
			for (size_t i = 0; i < n; i++)
				fprintf(stderr, "%s%lld%s%s", i % PER ? " " : "\n",
				        (long long)cells[i].protected,
				        cells[i].hidden == PRESSURE_FEWER_THAN_3 ? "f"
				        : cells[i].hidden                        ? "h"
				                                                 : "",
				        i + 1 == n ? "\n" : "");
			fail_msg("hidden cell %zu (protected %lld) can be worked out", a.hidden[k],
			         (long long)cells[a.hidden[k]].protected);
		}
	}
}

/* ------------------------------------------------------------ tables */

/* A table as the summary builds it: groups of rows (returned, four levels), each group's
 * returned = its levels, and the collective (group 0) = the sum of the others. */
struct table {
	struct pressure_cell cells[MAX_CELLS];
	size_t n_cells;
	struct pressure_equation eqs[32];
	size_t n_eqs;
	size_t parts[256];
	size_t used;
};

static void add_eq(struct table *t, size_t total, const size_t *parts, size_t n)
{
	memcpy(t->parts + t->used, parts, n * sizeof *parts);
	t->eqs[t->n_eqs++] = (struct pressure_equation){total, t->parts + t->used, n};
	t->used += n;
}

/* levels[g][0..3]: protected practices of group g (1-based g) at each level. */
static void build(struct table *t, const int64_t (*levels)[4], size_t n_groups)
{
	memset(t, 0, sizeof *t);
	t->n_cells = (n_groups + 1) * PER;
	for (size_t g = 1; g <= n_groups; g++)
		for (int l = 0; l < 4; l++) {
			int64_t v = levels[g - 1][l];
			size_t idx[3] = {g * PER + 1 + (size_t)l, g * PER, 0};
			t->cells[idx[0]].protected += v;
			t->cells[idx[1]].protected += v;
			t->cells[(size_t)l + 1].protected += v;
			t->cells[0].protected += v;
		}
	/* Every practice returned, and the attacker knows how many practices each group has:
	 * the strongest upper bound a real attacker could have. */
	for (size_t i = 0; i < t->n_cells; i++) {
		t->cells[i].value = t->cells[i].protected;
		t->cells[i].most = t->cells[i - i % PER].protected;
		t->cells[i].keep = (i < PER ? 2 : 0) + (i % PER == 0);
	}
	for (size_t g = 0; g <= n_groups; g++) {
		size_t b = g * PER;
		size_t lv[4] = {b + 1, b + 2, b + 3, b + 4};
		add_eq(t, b, lv, 4);
	}
	for (size_t k = 0; k < PER; k++) {
		size_t parts[16], n = 0;
		for (size_t g = 1; g <= n_groups; g++)
			parts[n++] = g * PER + k;
		add_eq(t, k, parts, n);
	}
}

static void suppress_and_attack(struct table *t)
{
	pressure_suppress(t->cells, t->n_cells, t->eqs, t->n_eqs);
	for (size_t i = 0; i < t->n_cells; i++)
		if (t->cells[i].protected > 0 && t->cells[i].protected < PRESSURE_MIN_GROUP)
			assert_int_equal(t->cells[i].hidden, PRESSURE_FEWER_THAN_3);
	attack(t->cells, t->n_cells, t->eqs, t->n_eqs);
}

/* ------------------------------------------------------------ tests */

static void test_one_row(void **state)
{
	(void)state;
	/* 10 = 5 + 2 + 3: the 2 is hidden, and so must be the 3 (the smallest that can hide
	 * it), or 10 − 5 − 3 gives it away. */
	struct pressure_cell cells[4] = {
	    {10, 10, 0, 0, 0}, {5, 5, 0, 0, 0}, {2, 2, 0, 0, 0}, {3, 3, 0, 0, 0}};
	size_t parts[3] = {1, 2, 3};
	struct pressure_equation eq = {0, parts, 3};
	pressure_suppress(cells, 4, &eq, 1);
	assert_int_equal(cells[2].hidden, PRESSURE_FEWER_THAN_3);
	assert_int_equal(cells[3].hidden, PRESSURE_COMPLEMENT);
	assert_int_equal(cells[0].hidden, PRESSURE_SHOWN);
	assert_int_equal(cells[1].hidden, PRESSURE_SHOWN);
	assert_string_equal(pressure_hidden_text(cells[2].hidden), "suppressed");
	assert_string_equal(pressure_hidden_text(cells[3].hidden), "suppressed");
	assert_null(pressure_hidden_text(cells[0].hidden));
	attack(cells, 4, &eq, 1);
}

static void test_two_small_cells_that_add_up(void **state)
{
	(void)state;
	/* 6 = 4 + 1 + 1: both 1s are suppressed, and 6 − 4 = 2 could be 0 + 2, 1 + 1 or
	 * 2 + 0, so the 4 may stay. 5 = 4 + 1 + 0 with the 0 shown would give the 1 away:
	 * the 0 is the smallest other part, so it is suppressed rather than the 4. */
	struct pressure_cell cells[4] = {
	    {6, 6, 0, 0, 0}, {4, 4, 0, 0, 0}, {1, 1, 0, 0, 0}, {1, 1, 0, 0, 0}};
	size_t parts[3] = {1, 2, 3};
	struct pressure_equation eq = {0, parts, 3};
	pressure_suppress(cells, 4, &eq, 1);
	assert_int_equal(cells[1].hidden, PRESSURE_SHOWN);
	attack(cells, 4, &eq, 1);
	struct pressure_cell more[4] = {
	    {5, 5, 0, 0, 0}, {4, 4, 0, 0, 0}, {1, 1, 0, 0, 0}, {0, 0, 0, 0, 0}};
	pressure_suppress(more, 4, &eq, 1);
	assert_int_equal(more[1].hidden, PRESSURE_SHOWN);
	assert_int_equal(more[3].hidden, PRESSURE_COMPLEMENT);
	memcpy(cells, more, sizeof cells);
	attack(cells, 4, &eq, 1);
}

static void test_named_practices_are_not_protected(void **state)
{
	(void)state;
	/* Two practices, both agreed to be named: nothing to hide. One of three unnamed: hidden. */
	struct pressure_cell cells[3] = {{5, 3, 0, 0, 0}, {2, 0, 0, 0, 0}, {3, 3, 0, 0, 0}};
	size_t parts[2] = {1, 2};
	struct pressure_equation eq = {0, parts, 2};
	pressure_suppress(cells, 3, &eq, 1);
	assert_int_equal(cells[1].hidden, PRESSURE_SHOWN);
	assert_int_equal(cells[2].hidden, PRESSURE_SHOWN);
}

static void test_pcn_table(void **state)
{
	(void)state;
	/* Five PCNs of a demo-sized collective, one with a single Black practice. */
	const int64_t levels[5][4] = {
	    {3, 1, 0, 0}, {2, 2, 1, 0}, {4, 0, 0, 1}, {0, 3, 2, 0}, {5, 0, 0, 0}};
	struct table t;
	build(&t, levels, 5);
	suppress_and_attack(&t);
	/* The Black practice's PCN: its Black count is hidden, and the collective's Black
	 * count (1) too. */
	assert_int_equal(t.cells[3 * PER + 4].hidden, PRESSURE_FEWER_THAN_3);
	assert_int_equal(t.cells[4].hidden, PRESSURE_FEWER_THAN_3);
}

static void test_random_tables(void **state)
{
	(void)state;
	srand(20261130);
	for (int round = 0; round < 300; round++) {
		size_t n_groups = 2 + (size_t)(rand() % 3);
		int64_t levels[4][4];
		for (size_t g = 0; g < n_groups; g++)
			for (int l = 0; l < 4; l++)
				levels[g][l] = rand() % (l == 0 ? 6 : l == 3 ? 3 : 4);
		struct table t;
		build(&t, (const int64_t(*)[4])levels, n_groups);
		suppress_and_attack(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_row),
	    cmocka_unit_test(test_two_small_cells_that_add_up),
	    cmocka_unit_test(test_named_practices_are_not_protected),
	    cmocka_unit_test(test_pcn_table),
	    cmocka_unit_test(test_random_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
