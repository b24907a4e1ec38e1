/*
 * test_notifications.c — digest send times: 07:00 London every day and on
 * Mondays, across both clock changes (expected values from Python's zoneinfo).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/notifications/notifications.h"

static void test_daily(void **state)
{
	(void)state;
	/* Monday 30 November 2026, 07:53 GMT: today's 07:00. */
	assert_int_equal(notifications_digest_period_end(1796025180, false), 1796022000);
	/* 06:59 is still yesterday's period. */
	assert_int_equal(notifications_digest_period_end(1796022000 - 60, false), 1795935600);
	assert_int_equal(notifications_digest_period_end(1796022000, false), 1796022000);
	/* Summer time starts on 29 March 2026: 07:00 BST is 06:00 UTC. */
	assert_int_equal(notifications_digest_period_end(1774764000 + 10, false), 1774764000);
	assert_int_equal(notifications_digest_period_end(1774762200, false), 1774681200);
	/* It ends on 25 October 2026: 07:00 GMT again. */
	assert_int_equal(notifications_digest_period_end(1792911600 + 3600, false), 1792911600);
	assert_int_equal(notifications_digest_period_end(1792997940, false), 1792911600);
}

static void test_weekly(void **state)
{
	(void)state;
	assert_int_equal(notifications_digest_period_end(1796025180, true), 1796022000);
	/* Sunday 29 November: the Monday before. */
	assert_int_equal(notifications_digest_period_end(1795935600, true), 1795417200);
	/* Monday 30 November at 06:59: still the week before. */
	assert_int_equal(notifications_digest_period_end(1796022000 - 60, true), 1795417200);
	/* Across the clock changes. */
	assert_int_equal(notifications_digest_period_end(1775041200, true), 1774850400);
	assert_int_equal(notifications_digest_period_end(1774764000, true), 1774249200);
	assert_int_equal(notifications_digest_period_end(1792998000, true), 1792998000);
	assert_int_equal(notifications_digest_period_end(1792997940, true), 1792389600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_daily),
	    cmocka_unit_test(test_weekly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
