/*
 * policy.h — who may do what: every access decision in Shoal is made here.
 *
 * Routes declare the least role they need (enum access, in src/app/routes.c)
 * and the before hook (src/app/access.c) asks policy_allows before the handler
 * runs. Decisions about one object (may this person invite to that practice?)
 * are the policy_may_* functions, which handlers call. A test matrix
 * (tests/http/policy.test.mjs) checks every route against every role.
 */
#ifndef SHOAL_AUTH_POLICY_H
#define SHOAL_AUTH_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"

/* A person's place in the collective (people.role). Leading a practice is a
 * membership flag on top of ROLE_MEMBER (or any role). */
enum role { ROLE_MEMBER, ROLE_EXECUTIVE, ROLE_ADMINISTRATOR, ROLE_PARTNER };

/* The least a route needs. Each level includes those above it in this list,
 * except that partners only ever pass ACCESS_PUBLIC and ACCESS_SIGNED_IN. */
enum access {
	ACCESS_PUBLIC = 0, /* anyone, signed in or not */
	ACCESS_ENROLLING,  /* any signed-in person, even one who must still set up MFA */
	ACCESS_SIGNED_IN,  /* any active person, partners included */
	ACCESS_MEMBER,     /* staff of member practices, the executive, administrators */
	ACCESS_LEAD,       /* practice leads (of some practice), the executive, administrators */
	ACCESS_EXECUTIVE,  /* the executive and administrators */
	ACCESS_ADMIN,      /* administrators */
};

enum via { VIA_NONE, VIA_SESSION, VIA_TOKEN };

/* Who is asking: loaded once per request by src/app/access.c. */
struct viewer {
	int64_t person_id; /* 0 when anonymous */
	enum role role;
	bool leads; /* leads at least one practice */
	bool mfa_enrolled;
	char email[LIMIT_EMAIL_BYTES + 1];
	char name[LIMIT_NAME_BYTES + 1];
	enum via via;
	int64_t session_id;
	bool mfa_pending;   /* signed in with a password, second factor still to come */
	int64_t expires_at; /* when the session ends if idle (for the timeout warning) */
	char csrf[48];      /* the session's CSRF token */
	bool token_write;   /* an API token with write scope */
};

/** The role named s ("member", "executive", "administrator", "partner"); -1 if none. */
int policy_role_from_name(const char *s);
/** The name of a role, as stored. */
const char *policy_role_name(enum role r);
/** Whether v may call a route that needs access a. */
bool policy_allows(const struct viewer *v, enum access a);
/** Whether v must enrol in MFA before doing anything else (executives and administrators
 * signed in through a browser; API tokens are issued to them only by an administrator). */
bool policy_requires_mfa(const struct viewer *v);
/**
 * Whether v may invite someone with invited_role ("member", "practice-lead",
 * "executive", "administrator", "partner") to organisation_id (0 = none).
 * lead_of_organisation says whether v leads that organisation.
 */
bool policy_may_invite(const struct viewer *v, const char *invited_role, bool lead_of_organisation);
/** Whether v may decide a request to join an organisation v does or does not lead. */
bool policy_may_decide_join(const struct viewer *v, bool lead_of_organisation);
/** Whether v may see a person's profile in the directory. */
bool policy_may_see_person(const struct viewer *v, enum role person_role,
                           bool person_visible_to_partners);
/** Whether holder (an active person) may hold an API token that can write, or only read.
 * Partners hold read tokens only. */
bool policy_may_hold_token(const struct viewer *holder, bool write);
/** Whether v may revoke an API token held by token_owner (a person's own tokens only). */
bool policy_may_revoke_token(const struct viewer *v, int64_t token_owner);
/** Whether v's way in lets them change things: a browser session does; an API token
 * only with write scope, held by someone who may hold such a token. */
bool policy_may_write(const struct viewer *v);
/** Whether v may turn off their own two-step sign-in: not executives or administrators,
 * who must keep it. */
bool policy_may_disable_mfa(const struct viewer *v);
/** Whether v may reset another person's two-step sign-in (a lost phone): administrators,
 * for anyone but themselves. */
bool policy_may_reset_mfa(const struct viewer *v, int64_t person_id);
/** Whether v sees every invitation (administrators and the executive), not only those to
 * the practices v leads. */
bool policy_may_see_all_invitations(const struct viewer *v);
/** Whether v may cancel an invitation with invited_role to an organisation v does or does
 * not lead: whoever could have sent it. */
bool policy_may_revoke_invitation(const struct viewer *v, const char *invited_role,
                                  bool lead_of_organisation);
/** Whether v may set the installation's settings, such as the allowed email domains. */
bool policy_may_change_settings(const struct viewer *v);
/** Whether v's directory holds only the executive and people visible to partners (the SQL
 * filters on it; policy_may_see_person checks each row as well). */
bool policy_directory_partner_view(const struct viewer *v);
/** Whether v may change people's roles, memberships and lead flags, and (de)activate them. */
bool policy_may_manage_people(const struct viewer *v);
/** Whether v may add, change and import the collective's organisations. */
bool policy_may_manage_organisations(const struct viewer *v);
/** Whether v may change person_id's role from one to to; other_admins counts the active
 * administrators besides that person (the last one is never removed). */
bool policy_may_change_role(const struct viewer *v, int64_t person_id, enum role from, enum role to,
                            long long other_admins);
/** Whether v may deactivate person_id (role person_role): never oneself, never the last
 * active administrator. */
bool policy_may_deactivate(const struct viewer *v, int64_t person_id, enum role person_role,
                           long long other_admins);
/** Whether v may send or amend a practice's pressure return: its leads, and staff a lead
 * authorised (membership may_report). */
bool policy_may_submit_return(const struct viewer *v, bool member, bool lead, bool may_report);
/** Whether v may see a practice's identifiable pressure returns: its own staff, the executive
 * and administrators (a view from outside the practice is audited). */
bool policy_may_view_return(const struct viewer *v, bool member_of_practice);
/** Whether v may choose which of a practice's staff report its pressure: its leads. */
bool policy_may_authorise_reporters(const struct viewer *v, bool lead_of_practice);
/** Whether v runs pressure reporting: periods, surges, escalation responses, who is missing. */
bool policy_may_manage_pressure(const struct viewer *v);

/* Discussions (src/app/discussions/, docs/discussions.md). */
/** Whether v may see a discussion space of visibility "members" (not partners), "executive"
 * (the executive and administrators), "group" (its members who are not partners, the
 * executive and administrators) or "partners" (everyone signed in); in_group says whether v
 * belongs to the space's group. Lists filter by the same rule in SQL (DISCUSSIONS_VISIBLE_SQL). */
bool policy_may_see_space(const struct viewer *v, const char *visibility, bool in_group);
/** Whether v may create, change and order spaces: the executive and administrators. */
bool policy_may_manage_spaces(const struct viewer *v);
/** Whether v may manage discussion groups and their members: administrators. */
bool policy_may_manage_groups(const struct viewer *v);
/** Whether v may start a thread or reply in a space v sees; nobody replies to a locked thread. */
bool policy_may_post(const struct viewer *v, bool sees_space, bool thread_locked);
/** Whether v may edit a post: its author, while it is neither deleted nor hidden and the
 * thread is not locked. */
bool policy_may_edit_post(const struct viewer *v, int64_t author_id, bool removed, bool locked);
/** Whether v may delete a post: its author, while it is neither deleted nor hidden. */
bool policy_may_delete_post(const struct viewer *v, int64_t author_id, bool removed);
/** Whether v moderates discussions (hides posts, pins, locks and moves threads): the
 * executive and administrators. */
bool policy_may_moderate_discussions(const struct viewer *v);
/** Whether v may mark a new thread as a question for the executive: members (not partners). */
bool policy_may_ask_executive(const struct viewer *v);
/** Whether v may mark a post by someone of author_role as a thread's official response:
 * the executive (and administrators), for a post by one of them. */
bool policy_may_mark_official(const struct viewer *v, enum role author_role);
/** Whether v sees the executive's queue of questions awaiting a response. */
bool policy_may_see_question_queue(const struct viewer *v);

/* Live updates and the teleconference briefing (src/app/pressure/live.c, briefing*.c). */
/** Whether v may follow live updates of pressure figures (events that name a period and
 * nothing else): anyone who may see the dashboard, partners included. */
bool policy_may_follow_pressure(const struct viewer *v);
/** Whether v may read the teleconference briefing (the partners' version: suppressed
 * aggregates only): anyone signed in, partners included. */
bool policy_may_see_briefing(const struct viewer *v);
/** Whether v may see the briefing's executive version, where small groups are not
 * suppressed: those who see every practice's returns (the executive, administrators). */
bool policy_may_see_briefing_detail(const struct viewer *v);
/** Whether v may write the briefing's themes, asks and actions, read returns' comments for
 * themes, keep the distribution list and send the briefing: the executive. */
bool policy_may_edit_briefing(const struct viewer *v);

/** Whether v sees pressure summaries practice by practice (the executive, administrators);
 * everyone else gets the suppressed aggregates of src/app/pressure/summary.h. */
bool policy_pressure_identifiable(const struct viewer *v);
/** Whether v may see the pressure dashboard and the aggregate summary (page, CSV, API):
 * anyone signed in, partners included; what they see depends on the audience. */
bool policy_may_see_pressure_summary(const struct viewer *v);
/** Whether v may download every practice's returns in full (CSV): the executive and
 * administrators; each download is audited. */
bool policy_may_export_returns(const struct viewer *v);

/** Data protection (src/app/privacy/). Whether v may export the personal data held
 * about person_id: the person themselves, and administrators (each export audited). */
bool policy_may_export_person(const struct viewer *v, int64_t person_id);
/** Whether v may remove a deactivated person's personal details: administrators, never
 * their own, and only once the person is deactivated. */
bool policy_may_anonymise(const struct viewer *v, int64_t person_id, bool deactivated);
/** Whether v may change how long audit entries and pressure returns are kept:
 * administrators. */
bool policy_may_set_retention(const struct viewer *v);

/** Attachments of discussion posts (src/app/discussions/attachments.c). Whether v may
 * download a file attached to a post in a space v sees (sees_space, from
 * policy_may_see_space): never while the post is deleted or hidden (post_removed). */
bool policy_may_download_attachment(const struct viewer *v, bool sees_space, bool post_removed);
/** Whether v may attach files to a new thread or a reply: whoever may write the post,
 * fully signed in (asked with sees_space true before an upload's body is read). */
bool policy_may_attach(const struct viewer *v, bool sees_space, bool thread_locked);

#endif
