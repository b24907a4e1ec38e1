/*
 * test_enrolment.c — the rules behind invitations, requests to join and
 * password resets that need no server: allowed email domains (parsing what an administrator types,
 * and matching addresses without being fooled by look-alike domains), link tokens, names, and the
 * policy decisions on who may invite whom and answer whose requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/enrolment/enrolment.h"
#include "auth/policy.h"

static void test_domains_are_parsed_and_checked(void **state)
{
	(void)state;
	char out[ENROLMENT_DOMAINS_BYTES + 1], problem[160];
	assert_int_equal(
	    enrolment_parse_domains(" NHS.net,\n@wyvern.example\r\nnhs.net  gp-x.co.uk ", out,
	                            problem, sizeof problem),
	    0);
	assert_string_equal(out, "nhs.net,wyvern.example,gp-x.co.uk");
	assert_int_equal(enrolment_parse_domains("", out, problem, sizeof problem), 0);
	assert_string_equal(out, "");
	assert_int_equal(enrolment_parse_domains(NULL, out, problem, sizeof problem), 0);
	assert_string_equal(out, "");

	const char *bad[] = {"nhs",     "nhs..net",   "-nhs.net", "nhs-.net",  "nhs.net.",
	                     "1.2.3.4", "nhs_net.uk", "a@b.net",  "xn--é.net", "@"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		problem[0] = '\0';
		assert_int_equal(enrolment_parse_domains(bad[i], out, problem, sizeof problem), -1);
		assert_true(problem[0] != '\0');
	}
	assert_int_equal(enrolment_parse_domains("ok.net nhs", out, problem, sizeof problem), -1);
	assert_string_equal(problem, "\"nhs\" is not a domain: enter domains like nhs.net, "
	                             "separated by commas");

	/* A label over 63 characters, and more domains than allowed. */
	char long_label[80];
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".net");
	assert_int_equal(enrolment_parse_domains(long_label, out, problem, sizeof problem), -1);
	char many[ENROLMENT_MAX_DOMAINS * 12 + 16] = "";
	for (int i = 0; i <= ENROLMENT_MAX_DOMAINS; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "d%d.net,", i);
	assert_int_equal(enrolment_parse_domains(many, out, problem, sizeof problem), -1);
	assert_string_equal(problem, "Enter 50 domains or fewer");
}

static void test_addresses_match_domains_and_their_subdomains_only(void **state)
{
	(void)state;
	const char *domains = "nhs.net,wyvern.example";
	assert_true(enrolment_domain_allowed(domains, "jo@nhs.net"));
	assert_true(enrolment_domain_allowed(domains, "jo@gp.nhs.net"));
	assert_true(enrolment_domain_allowed(domains, "jo@riverside.wyvern.example"));
	assert_false(enrolment_domain_allowed(domains, "jo@evilnhs.net"));
	assert_false(enrolment_domain_allowed(domains, "jo@nhs.net.evil.example"));
	assert_false(enrolment_domain_allowed(domains, "jo@net"));
	assert_false(enrolment_domain_allowed(domains, "nhs.net"));
	assert_false(enrolment_domain_allowed("", "jo@nhs.net"));

	char phrase[200];
	enrolment_domains_phrase("nhs.net", phrase, sizeof phrase);
	assert_string_equal(phrase, "@nhs.net");
	enrolment_domains_phrase("nhs.net,a.example", phrase, sizeof phrase);
	assert_string_equal(phrase, "@nhs.net or @a.example");
	enrolment_domains_phrase("nhs.net,a.example,b.example", phrase, sizeof phrase);
	assert_string_equal(phrase, "@nhs.net, @a.example or @b.example");
}

static void test_tokens_names_and_ids(void **state)
{
	(void)state;
	assert_true(enrolment_token_plausible("aaeOd32KDC_uFoHTxl7rVDdmxKft024ydCu7ywsBNM0"));
	assert_false(enrolment_token_plausible("aaeOd32KDC_uFoHTxl7rVDdmxKft024ydCu7ywsBNM"));
	assert_false(enrolment_token_plausible("aaeOd32KDC_uFoHTxl7rVDdmxKft024ydCu7ywsBNM0x"));
	assert_false(enrolment_token_plausible("aaeOd32KDC_uFoHTxl7rVDdmxKft024ydCu7ywsBN%0"));
	assert_false(enrolment_token_plausible(NULL));

	assert_null(enrolment_name_problem("Dr Priya Shah", "Enter"));
	assert_string_equal(enrolment_name_problem("  \t", "Enter your full name"),
	                    "Enter your full name");
	assert_string_equal(enrolment_name_problem(NULL, "Enter"), "Enter");
	assert_non_null(enrolment_name_problem("Line\nbreak", "Enter"));
	char long_name[LIMIT_NAME_BYTES + 2];
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_non_null(enrolment_name_problem(long_name, "Enter"));

	char trimmed[16];
	enrolment_trim("  Jo Evans \t", trimmed, sizeof trimmed);
	assert_string_equal(trimmed, "Jo Evans");
}

static struct viewer person(enum role role, bool leads)
{
	struct viewer v = {
	    .person_id = 7, .role = role, .leads = leads, .mfa_enrolled = true, .via = VIA_SESSION};
	return v;
}

static void test_who_may_invite_whom(void **state)
{
	(void)state;
	struct viewer admin = person(ROLE_ADMINISTRATOR, false),
	              exec = person(ROLE_EXECUTIVE, false);
	struct viewer lead = person(ROLE_MEMBER, true), member = person(ROLE_MEMBER, false);
	struct viewer partner = person(ROLE_PARTNER, true), nobody = {0};
	const char *roles[] = {"member", "practice-lead", "executive", "administrator", "partner"};
	for (size_t i = 0; i < 5; i++) {
		assert_true(policy_may_invite(&admin, roles[i], false));
		assert_int_equal(policy_may_invite(&exec, roles[i], false), i != 3);
		assert_int_equal(policy_may_invite(&lead, roles[i], true), i < 2);
		assert_false(policy_may_invite(&lead, roles[i], false));
		assert_false(policy_may_invite(&member, roles[i], true));
		assert_false(policy_may_invite(&partner, roles[i], true));
		assert_false(policy_may_invite(&nobody, roles[i], true));
		assert_int_equal(policy_may_revoke_invitation(&lead, roles[i], true), i < 2);
	}
	assert_false(policy_may_invite(&admin, NULL, true));
	/* An executive who has not set up two-step sign-in may do nothing yet. */
	struct viewer new_exec = person(ROLE_EXECUTIVE, false);
	new_exec.mfa_enrolled = false;
	assert_false(policy_may_invite(&new_exec, "member", false));

	assert_true(policy_may_see_all_invitations(&admin));
	assert_true(policy_may_see_all_invitations(&exec));
	assert_false(policy_may_see_all_invitations(&lead));
	assert_true(policy_may_change_settings(&admin));
	assert_false(policy_may_change_settings(&exec));
}

static void test_who_may_answer_requests_to_join(void **state)
{
	(void)state;
	struct viewer admin = person(ROLE_ADMINISTRATOR, false),
	              exec = person(ROLE_EXECUTIVE, true);
	struct viewer lead = person(ROLE_MEMBER, true), member = person(ROLE_MEMBER, false);
	struct viewer partner = person(ROLE_PARTNER, true);
	assert_true(policy_may_decide_join(&admin, false));
	assert_true(policy_may_decide_join(&lead, true));
	assert_false(policy_may_decide_join(&lead, false));
	assert_true(policy_may_decide_join(&exec, true));
	assert_false(policy_may_decide_join(&exec, false));
	assert_false(policy_may_decide_join(&member, true));
	assert_false(policy_may_decide_join(&partner, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_domains_are_parsed_and_checked),
	    cmocka_unit_test(test_addresses_match_domains_and_their_subdomains_only),
	    cmocka_unit_test(test_tokens_names_and_ids),
	    cmocka_unit_test(test_who_may_invite_whom),
	    cmocka_unit_test(test_who_may_answer_requests_to_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
