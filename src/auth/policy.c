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
	if (!invited_role || !policy_allows(v, ACCESS_LEAD))
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

bool policy_may_hold_token(const struct viewer *holder, bool write)
{
	/* Partners only see what is shared with them; scripts of theirs change nothing. */
	return holder->person_id && (!write || holder->role != ROLE_PARTNER);
}

bool policy_may_revoke_token(const struct viewer *v, int64_t token_owner)
{
	return policy_allows(v, ACCESS_SIGNED_IN) && token_owner && v->person_id == token_owner;
}

bool policy_may_write(const struct viewer *v)
{
	if (!v->person_id || v->via == VIA_NONE)
		return false;
	/* A partner's write token (from before a change of role) is treated as read-only. */
	return v->via != VIA_TOKEN || (v->token_write && policy_may_hold_token(v, true));
}

bool policy_may_disable_mfa(const struct viewer *v)
{
	/* DOMAIN.md: MFA for privileged access; optional for everyone else. */
	return policy_allows(v, ACCESS_SIGNED_IN) && v->via == VIA_SESSION &&
	       v->role != ROLE_EXECUTIVE && v->role != ROLE_ADMINISTRATOR;
}

bool policy_may_reset_mfa(const struct viewer *v, int64_t person_id)
{
	/* Not one's own: an administrator who could reset their own second factor
	 * would make it worth nothing to someone who had only their password. */
	return policy_allows(v, ACCESS_ADMIN) && v->via == VIA_SESSION && person_id != v->person_id;
}

bool policy_directory_partner_view(const struct viewer *v)
{
	/* DOMAIN.md: partners only see what is explicitly shared with them. */
	return v->role == ROLE_PARTNER;
}

bool policy_may_manage_people(const struct viewer *v)
{
	return policy_allows(v, ACCESS_ADMIN);
}

bool policy_may_manage_organisations(const struct viewer *v)
{
	return policy_allows(v, ACCESS_ADMIN);
}

bool policy_may_change_role(const struct viewer *v, int64_t person_id, enum role from, enum role to,
                            long long other_admins)
{
	(void)person_id; /* an administrator may step down, if another remains */
	return policy_may_manage_people(v) &&
	       !(from == ROLE_ADMINISTRATOR && to != ROLE_ADMINISTRATOR && other_admins < 1);
}

bool policy_may_deactivate(const struct viewer *v, int64_t person_id, enum role person_role,
                           long long other_admins)
{
	/* Not oneself: an installation must never be left with nobody to run it. */
	return policy_may_manage_people(v) && person_id != v->person_id &&
	       !(person_role == ROLE_ADMINISTRATOR && other_admins < 1);
}

bool policy_may_see_all_invitations(const struct viewer *v)
{
	return policy_allows(v, ACCESS_EXECUTIVE);
}

bool policy_may_revoke_invitation(const struct viewer *v, const char *invited_role,
                                  bool lead_of_organisation)
{
	return policy_may_invite(v, invited_role, lead_of_organisation);
}

bool policy_may_change_settings(const struct viewer *v)
{
	return policy_allows(v, ACCESS_ADMIN);
}

bool policy_may_submit_return(const struct viewer *v, bool member, bool lead, bool may_report)
{
	return v->role != ROLE_PARTNER && member && (lead || may_report) && policy_may_write(v);
}

bool policy_may_view_return(const struct viewer *v, bool member_of_practice)
{
	return (v->role != ROLE_PARTNER && member_of_practice) ||
	       policy_allows(v, ACCESS_EXECUTIVE);
}

bool policy_may_authorise_reporters(const struct viewer *v, bool lead_of_practice)
{
	return v->role != ROLE_PARTNER && lead_of_practice;
}

bool policy_may_manage_pressure(const struct viewer *v)
{
	return policy_allows(v, ACCESS_EXECUTIVE);
}

/* ------------------------------------------------------------ discussions */

bool policy_may_see_space(const struct viewer *v, const char *visibility, bool in_group)
{
	if (!policy_allows(v, ACCESS_SIGNED_IN) || !visibility)
		return false;
	/* DOMAIN.md: partners see only what is explicitly shared with them. */
	if (!strcmp(visibility, "partners"))
		return true;
	if (v->role == ROLE_PARTNER)
		return false;
	if (v->role == ROLE_EXECUTIVE || v->role == ROLE_ADMINISTRATOR)
		return true;
	return !strcmp(visibility, "members") || (!strcmp(visibility, "group") && in_group);
}

bool policy_may_manage_spaces(const struct viewer *v)
{
	return policy_allows(v, ACCESS_EXECUTIVE) && policy_may_write(v);
}

bool policy_may_manage_groups(const struct viewer *v)
{
	return policy_allows(v, ACCESS_ADMIN) && policy_may_write(v);
}

bool policy_may_post(const struct viewer *v, bool sees_space, bool thread_locked)
{
	return sees_space && !thread_locked && policy_may_write(v);
}

bool policy_may_edit_post(const struct viewer *v, int64_t author_id, bool removed, bool locked)
{
	return v->person_id && v->person_id == author_id && !removed && !locked &&
	       policy_may_write(v);
}

bool policy_may_delete_post(const struct viewer *v, int64_t author_id, bool removed)
{
	return v->person_id && v->person_id == author_id && !removed && policy_may_write(v);
}

bool policy_may_moderate_discussions(const struct viewer *v)
{
	return policy_allows(v, ACCESS_EXECUTIVE) && policy_may_write(v);
}

bool policy_may_ask_executive(const struct viewer *v)
{
	return policy_allows(v, ACCESS_MEMBER) && policy_may_write(v);
}

bool policy_may_mark_official(const struct viewer *v, enum role author_role)
{
	return policy_allows(v, ACCESS_EXECUTIVE) && policy_may_write(v) &&
	       (author_role == ROLE_EXECUTIVE || author_role == ROLE_ADMINISTRATOR);
}

bool policy_may_see_question_queue(const struct viewer *v)
{
	return policy_allows(v, ACCESS_EXECUTIVE);
}

/* ------------------------------------------------------------ live updates, briefing */

bool policy_may_follow_pressure(const struct viewer *v)
{
	return policy_allows(v, ACCESS_SIGNED_IN);
}

bool policy_may_see_briefing(const struct viewer *v)
{
	return policy_allows(v, ACCESS_SIGNED_IN);
}

bool policy_may_see_briefing_detail(const struct viewer *v)
{
	return policy_may_view_return(v, false);
}

bool policy_may_edit_briefing(const struct viewer *v)
{
	return policy_may_manage_pressure(v);
}

/* ------------------------------------------------------------ pressure aggregates */

bool policy_pressure_identifiable(const struct viewer *v)
{
	return policy_may_view_return(v, false);
}

bool policy_may_see_pressure_summary(const struct viewer *v)
{
	return policy_allows(v, ACCESS_SIGNED_IN);
}

bool policy_may_export_returns(const struct viewer *v)
{
	return policy_may_view_return(v, false);
}

bool policy_may_export_person(const struct viewer *v, int64_t person_id)
{
	return v->person_id && (v->person_id == person_id || v->role == ROLE_ADMINISTRATOR);
}

bool policy_may_anonymise(const struct viewer *v, int64_t person_id, bool deactivated)
{
	return v->role == ROLE_ADMINISTRATOR && v->person_id != person_id && deactivated;
}

bool policy_may_set_retention(const struct viewer *v)
{
	return v->role == ROLE_ADMINISTRATOR;
}

/* Attachments of discussion posts (src/app/discussions/attachments.c). */
bool policy_may_download_attachment(const struct viewer *v, bool sees_space, bool post_removed)
{
	/* A deleted or hidden post's text never reaches a page, for anyone; nor do its files. */
	return policy_allows(v, ACCESS_SIGNED_IN) && sees_space && !post_removed;
}

bool policy_may_attach(const struct viewer *v, bool sees_space, bool thread_locked)
{
	/* Whoever may write the post may attach files to it, once fully signed in (two-step
	 * sign-in done): the server asks this before reading an upload's body. */
	return policy_allows(v, ACCESS_SIGNED_IN) && policy_may_post(v, sees_space, thread_locked);
}
