/*
 * policy.c — every access decision (see policy.h).
 *
 * Kept as plain functions over the viewer so that each rule reads as the
 * sentence in DOMAIN.md it comes from, and so the test matrix can exercise it.
 */
#include "auth/policy.h"

#include <string.h>

static const char *const role_names[] = {"member", "executive", "administrator", "partner"};

int policy_role_from_name(const char *s)
{
	for (int i = 0; i < (int)(sizeof role_names / sizeof role_names[0]); i++)
		if (s && !strcmp(s, role_names[i]))
			return i;
	return -1;
}

const char *policy_role_name(enum role r)
{
	return (unsigned)r < sizeof role_names / sizeof role_names[0] ? role_names[r] : "member";
}

bool policy_allows(const struct viewer *v, enum access a)
{
	if (a == ACCESS_PUBLIC)
		return true;
	if (!v->person_id || v->mfa_pending)
		return false;
	if (a == ACCESS_ENROLLING)
		return true;
	if (policy_requires_mfa(v))
		return false;
	switch (a) {
	case ACCESS_PUBLIC:
	case ACCESS_ENROLLING:
	case ACCESS_SIGNED_IN:
		return true;
	case ACCESS_MEMBER:
		/* Partners see only what is explicitly shared with them. */
		return v->role != ROLE_PARTNER;
	case ACCESS_LEAD:
		return (v->role == ROLE_MEMBER && v->leads) || v->role == ROLE_EXECUTIVE ||
		       v->role == ROLE_ADMINISTRATOR;
	case ACCESS_EXECUTIVE:
		return v->role == ROLE_EXECUTIVE || v->role == ROLE_ADMINISTRATOR;
	case ACCESS_ADMIN:
		return v->role == ROLE_ADMINISTRATOR;
	}
	return false;
}

bool policy_requires_mfa(const struct viewer *v)
{
	return v->person_id && v->via != VIA_TOKEN && !v->mfa_enrolled &&
	       (v->role == ROLE_EXECUTIVE || v->role == ROLE_ADMINISTRATOR);
}

bool policy_may_invite(const struct viewer *v, const char *invited_role, bool lead_of_organisation)
{
	if (!policy_allows(v, ACCESS_LEAD))
		return false;
	if (v->role == ROLE_ADMINISTRATOR)
		return true;
	if (v->role == ROLE_EXECUTIVE) /* everyone but administrators */
		return strcmp(invited_role, "administrator") != 0;
	/* A practice lead brings in staff of their own practice, and may hand on the lead. */
	return lead_of_organisation &&
	       (!strcmp(invited_role, "member") || !strcmp(invited_role, "practice-lead"));
}

bool policy_may_decide_join(const struct viewer *v, bool lead_of_organisation)
{
	return policy_allows(v, ACCESS_LEAD) &&
	       (v->role == ROLE_ADMINISTRATOR || (lead_of_organisation && v->role == ROLE_MEMBER) ||
	        (lead_of_organisation && v->role == ROLE_EXECUTIVE));
}

bool policy_may_see_person(const struct viewer *v, enum role person_role,
                           bool person_visible_to_partners)
{
	if (!policy_allows(v, ACCESS_SIGNED_IN))
		return false;
	if (v->role != ROLE_PARTNER)
		return true;
	/* Partners see the executive, and those who chose to be visible to partners. */
	return person_role == ROLE_EXECUTIVE || person_visible_to_partners;
}
