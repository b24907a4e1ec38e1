/*
 * routes.c — every route of Shoal in one table: method, path, handler, and the
 * least access it needs (enum access in src/auth/policy.h; the before hook in
 * src/app/access.c asks the policy module before any handler runs).
 *
 * Start here to follow a request: find its path, then open the handler's folder.
 * tests/http/policy.test.mjs holds the expected outcome of every route for every
 * role and fails when a route here is missing from it.
 */
#include "app/access.h"
#include "app/account/account.h"
#include "app/admin/admin.h"
#include "app/audit/audit.h"
#include "app/directory/directory.h"
#include "app/discussions/discussions.h"
#include "app/search/search.h"
#include "app/discussions/api.h"
#include "app/api/api.h"
#include "app/api/tokens.h"
#include "app/app.h"
#include "app/enrolment/invitations.h"
#include "app/enrolment/join.h"
#include "app/enrolment/reset.h"
#include "app/health/health.h"
#include "app/home/home.h"
#include "app/mfa/mfa.h"
#include "app/notifications/notifications.h"
#include "app/organisations/organisations_admin.h"
#include "app/pressure/briefing.h"
#include "app/pressure/dashboard.h"
#include "app/pressure/pressure.h"
#include "app/privacy/privacy.h"
#include "auth/policy.h"
#include "http/static.h"

const struct http_route app_routes[] = {
    {"GET", "/", home_page, ACCESS_PUBLIC},
    {"GET", "/healthz", health_check, ACCESS_PUBLIC},
    {"GET", "/metrics", health_metrics, ACCESS_PUBLIC},
    {"GET", "/assets/images/{name}", static_serve_image, ACCESS_PUBLIC},
    {"GET", "/assets/{hash}/{name}", static_serve_hashed, ACCESS_PUBLIC},
    {"GET", "/favicon.ico", static_serve_favicon, ACCESS_PUBLIC},
    {"GET", "/sign-in", account_sign_in_page, ACCESS_PUBLIC},
    {"POST", "/sign-in", account_sign_in, ACCESS_PUBLIC},
    {"POST", "/sign-out", account_sign_out, ACCESS_ENROLLING},
    {"POST", "/sign-out-everywhere", account_sign_out_everywhere, ACCESS_ENROLLING},
    {"POST", "/session/extend", account_extend, ACCESS_ENROLLING},
    {"GET", "/account", account_page, ACCESS_SIGNED_IN},
    /* API tokens (the person's own, on their account) and the JSON API: src/app/api/ */
    {"GET", "/account/tokens", tokens_page, ACCESS_SIGNED_IN},
    {"POST", "/account/tokens", tokens_create_page, ACCESS_SIGNED_IN},
    {"POST", "/account/tokens/{id}/revoke", tokens_revoke_page, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/me", api_me, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/tokens", api_tokens_list, ACCESS_SIGNED_IN},
    {"DELETE", "/api/v1/tokens/{id}", api_token_revoke, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/openapi.json", api_openapi, ACCESS_PUBLIC},
    /* Two-step sign-in: code after the password, set-up, recovery codes: src/app/mfa/ */
    {"GET", "/sign-in/mfa", mfa_sign_in_page, ACCESS_PUBLIC},
    {"POST", "/sign-in/mfa", mfa_sign_in, ACCESS_PUBLIC},
    {"GET", "/account/mfa", mfa_account_page, ACCESS_ENROLLING},
    {"POST", "/account/mfa/confirm", mfa_confirm, ACCESS_ENROLLING},
    {"POST", "/account/mfa/recovery-codes", mfa_recovery_codes, ACCESS_SIGNED_IN},
    {"POST", "/account/mfa/disable", mfa_disable, ACCESS_SIGNED_IN},
    {"POST", "/admin/people/{id}/mfa-reset", mfa_admin_reset, ACCESS_ADMIN},
    /* Invitations, password reset, requests to join, allowed domains: src/app/enrolment/ */
    {"GET", "/invitations", invitations_list, ACCESS_LEAD},
    {"GET", "/invitations/new", invitations_new_page, ACCESS_LEAD},
    {"POST", "/invitations/new", invitations_send, ACCESS_LEAD},
    {"GET", "/invitations/accept/{token}", invitations_accept_page, ACCESS_PUBLIC},
    {"POST", "/invitations/accept/{token}", invitations_accept, ACCESS_PUBLIC},
    {"POST", "/invitations/{id}/revoke", invitations_revoke, ACCESS_LEAD},
    {"GET", "/password-reset", reset_request_page, ACCESS_PUBLIC},
    {"POST", "/password-reset", reset_request, ACCESS_PUBLIC},
    {"GET", "/password-reset/{token}", reset_choose_page, ACCESS_PUBLIC},
    {"POST", "/password-reset/{token}", reset_choose, ACCESS_PUBLIC},
    {"GET", "/join", join_form_page, ACCESS_PUBLIC},
    {"POST", "/join", join_submit, ACCESS_PUBLIC},
    {"GET", "/join/requests", join_requests_page, ACCESS_LEAD},
    {"POST", "/join/requests/{id}/approve", join_approve, ACCESS_LEAD},
    {"POST", "/join/requests/{id}/refuse", join_refuse, ACCESS_LEAD},
    {"GET", "/admin/settings", join_settings_page, ACCESS_ADMIN},
    {"POST", "/admin/settings", join_settings_save, ACCESS_ADMIN},
    /* The directory, one's own profile, administration of people, the audit trail:
     * src/app/directory/, src/app/admin/, src/app/audit/ */
    {"GET", "/people", directory_page, ACCESS_SIGNED_IN},
    {"GET", "/people/{id}", directory_person_page, ACCESS_SIGNED_IN},
    {"GET", "/account/profile", directory_profile_page, ACCESS_SIGNED_IN},
    {"POST", "/account/profile", directory_profile_save, ACCESS_SIGNED_IN},
    {"GET", "/admin", admin_index, ACCESS_ADMIN},
    {"GET", "/admin/people", admin_people, ACCESS_ADMIN},
    {"GET", "/admin/people/{id}", admin_person, ACCESS_ADMIN},
    {"POST", "/admin/people/{id}/role", admin_person_role, ACCESS_ADMIN},
    {"POST", "/admin/people/{id}/memberships", admin_person_membership, ACCESS_ADMIN},
    {"POST", "/admin/people/{id}/memberships/{org}/remove", admin_person_membership_remove,
     ACCESS_ADMIN},
    {"POST", "/admin/people/{id}/deactivate", admin_person_deactivate, ACCESS_ADMIN},
    {"POST", "/admin/people/{id}/reactivate", admin_person_reactivate, ACCESS_ADMIN},
    {"GET", "/admin/audit", audit_page, ACCESS_ADMIN},
    {"GET", "/admin/audit.csv", audit_csv, ACCESS_ADMIN},
    /* Organisations: list, add, import a pasted CSV, view and change one:
     * src/app/organisations/ (the literal paths come before {ods}, which would match them) */
    {"GET", "/admin/organisations", organisations_list, ACCESS_ADMIN},
    {"POST", "/admin/organisations", organisations_add, ACCESS_ADMIN},
    {"GET", "/admin/organisations/new", organisations_new_page, ACCESS_ADMIN},
    {"GET", "/admin/organisations/import", organisations_import_page, ACCESS_ADMIN},
    {"POST", "/admin/organisations/import", organisations_import_submit, ACCESS_ADMIN},
    {"GET", "/admin/organisations/{ods}", organisations_page, ACCESS_ADMIN},
    {"POST", "/admin/organisations/{ods}", organisations_edit, ACCESS_ADMIN},
    /* Pressure returns: the return form, a practice's returns and responses, the
     * executive's escalations, periods and surges: src/app/pressure/. Each handler
     * asks policy_may_* about the particular practice. */
    {"GET", "/pressure", pressure_index, ACCESS_MEMBER},
    {"GET", "/pressure/practices/{ods}", pressure_practice_page, ACCESS_MEMBER},
    {"GET", "/pressure/practices/{ods}/return", pressure_form_page, ACCESS_MEMBER},
    {"POST", "/pressure/practices/{ods}/return", pressure_form_submit, ACCESS_MEMBER},
    {"GET", "/pressure/practices/{ods}/reporters", pressure_reporters_page, ACCESS_LEAD},
    {"POST", "/pressure/practices/{ods}/reporters", pressure_reporters_save, ACCESS_LEAD},
    {"GET", "/pressure/returns/{id}", pressure_return_page, ACCESS_MEMBER},
    {"GET", "/pressure/escalations", pressure_escalations_page, ACCESS_EXECUTIVE},
    {"GET", "/pressure/escalations/{id}", pressure_escalation_page, ACCESS_EXECUTIVE},
    {"POST", "/pressure/escalations/{id}", pressure_escalation_respond, ACCESS_EXECUTIVE},
    {"GET", "/pressure/periods", pressure_periods_page, ACCESS_EXECUTIVE},
    {"POST", "/pressure/surges", pressure_surge_declare, ACCESS_EXECUTIVE},
    {"POST", "/pressure/surges/{id}/end", pressure_surge_end, ACCESS_EXECUTIVE},
    {"POST", "/pressure/settings", pressure_settings_save, ACCESS_EXECUTIVE},
    /* Live updates (Server-Sent Events) and the teleconference briefing: src/app/pressure/
     * live.c, briefing*.c */
    {"GET", "/pressure/live", pressure_live, ACCESS_SIGNED_IN},
    {"GET", "/pressure/briefing", briefing_page, ACCESS_SIGNED_IN},
    {"GET", "/pressure/briefing.pdf", briefing_pdf_download, ACCESS_SIGNED_IN},
    {"POST", "/pressure/briefing/items", briefing_item_add, ACCESS_EXECUTIVE},
    {"POST", "/pressure/briefing/items/{id}", briefing_item_save, ACCESS_EXECUTIVE},
    {"POST", "/pressure/briefing/items/{id}/delete", briefing_item_delete, ACCESS_EXECUTIVE},
    {"GET", "/pressure/briefing/recipients", briefing_recipients_page, ACCESS_EXECUTIVE},
    {"POST", "/pressure/briefing/recipients", briefing_recipient_add, ACCESS_EXECUTIVE},
    {"POST", "/pressure/briefing/recipients/{id}/remove", briefing_recipient_remove,
     ACCESS_EXECUTIVE},
    {"POST", "/pressure/briefing/send", briefing_send, ACCESS_EXECUTIVE},
    /* Pressure aggregates: the dashboard, CSV exports and the JSON API, by audience
     * (src/app/pressure/summary.h): partners and other practices see suppressed
     * aggregates; the executive sees practices. */
    {"GET", "/pressure/dashboard", pressure_dashboard_page, ACCESS_SIGNED_IN},
    {"GET", "/pressure/summary.csv", pressure_summary_csv, ACCESS_SIGNED_IN},
    {"GET", "/pressure/returns.csv", pressure_returns_csv, ACCESS_EXECUTIVE},
    {"GET", "/api/v1/pressure/summary", pressure_api_summary, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/pressure/returns", pressure_api_returns, ACCESS_MEMBER},
    {"POST", "/api/v1/pressure/returns", pressure_api_submit, ACCESS_MEMBER},
    /* Discussions: spaces, threads, posts, the executive's question queue, and the
     * groups a space may be limited to: src/app/discussions/. Each handler asks
     * policy_may_see_space (through disc_load_space/disc_load_thread) about the
     * particular space; what a viewer may not see is a 404. */
    {"GET", "/discussions", discussions_index, ACCESS_SIGNED_IN},
    {"GET", "/discussions/questions", discussions_questions, ACCESS_EXECUTIVE},
    {"GET", "/discussions/spaces/new", discussions_space_new_page, ACCESS_EXECUTIVE},
    {"POST", "/discussions/spaces", discussions_space_create, ACCESS_EXECUTIVE},
    {"GET", "/discussions/spaces/{id}", discussions_space_page, ACCESS_SIGNED_IN},
    {"GET", "/discussions/spaces/{id}/edit", discussions_space_edit_page, ACCESS_EXECUTIVE},
    {"POST", "/discussions/spaces/{id}/edit", discussions_space_edit, ACCESS_EXECUTIVE},
    {"POST", "/discussions/spaces/{id}/position", discussions_space_position, ACCESS_EXECUTIVE},
    {"GET", "/discussions/spaces/{id}/threads/new", discussions_thread_new_page, ACCESS_SIGNED_IN},
    {"POST", "/discussions/spaces/{id}/threads", discussions_thread_create, ACCESS_SIGNED_IN},
    {"GET", "/discussions/threads/{id}", discussions_thread_page, ACCESS_SIGNED_IN},
    {"POST", "/discussions/threads/{id}/posts", discussions_reply, ACCESS_SIGNED_IN},
    {"POST", "/discussions/threads/{id}/pin", discussions_thread_pin, ACCESS_EXECUTIVE},
    {"POST", "/discussions/threads/{id}/lock", discussions_thread_lock, ACCESS_EXECUTIVE},
    {"POST", "/discussions/threads/{id}/move", discussions_thread_move, ACCESS_EXECUTIVE},
    {"GET", "/discussions/posts/{id}/edit", discussions_post_edit_page, ACCESS_SIGNED_IN},
    {"POST", "/discussions/posts/{id}/edit", discussions_post_edit, ACCESS_SIGNED_IN},
    {"GET", "/discussions/posts/{id}/history", discussions_post_history, ACCESS_SIGNED_IN},
    {"POST", "/discussions/posts/{id}/delete", discussions_post_delete, ACCESS_SIGNED_IN},
    {"GET", "/discussions/posts/{id}/hide", discussions_post_hide_page, ACCESS_EXECUTIVE},
    {"POST", "/discussions/posts/{id}/hide", discussions_post_hide, ACCESS_EXECUTIVE},
    {"POST", "/discussions/posts/{id}/react", discussions_post_react, ACCESS_SIGNED_IN},
    {"POST", "/discussions/posts/{id}/official", discussions_post_official, ACCESS_EXECUTIVE},
    {"GET", "/admin/groups", discussions_groups_page, ACCESS_ADMIN},
    {"POST", "/admin/groups", discussions_group_create, ACCESS_ADMIN},
    {"GET", "/admin/groups/{id}", discussions_group_page, ACCESS_ADMIN},
    {"POST", "/admin/groups/{id}/members", discussions_group_add, ACCESS_ADMIN},
    {"POST", "/admin/groups/{id}/members/{person}/remove", discussions_group_remove, ACCESS_ADMIN},
    /* Notifications: the list, marking read, email preferences, a space's level:
     * src/app/notifications/ (literal paths before {id}). Own rows only; a space's
     * level only for a space the viewer may see (404). */
    {"GET", "/notifications", notifications_page, ACCESS_SIGNED_IN},
    {"POST", "/notifications/read", notifications_read_all, ACCESS_SIGNED_IN},
    {"GET", "/notifications/settings", notifications_settings_page, ACCESS_SIGNED_IN},
    {"POST", "/notifications/settings", notifications_settings_save, ACCESS_SIGNED_IN},
    {"GET", "/notifications/spaces/{id}", notifications_space_page, ACCESS_SIGNED_IN},
    {"POST", "/notifications/spaces/{id}", notifications_space_save, ACCESS_SIGNED_IN},
    {"GET", "/notifications/{id}", notifications_open, ACCESS_SIGNED_IN},
    {"POST", "/notifications/{id}/read", notifications_read_one, ACCESS_SIGNED_IN},
    /* Search over the discussions each person may see: src/app/search/ */
    {"GET", "/search", search_page, ACCESS_SIGNED_IN},
    /* Discussions in the JSON API: src/app/discussions/api.c */
    {"GET", "/api/v1/spaces", discussions_api_spaces, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/spaces/{id}/threads", discussions_api_threads, ACCESS_SIGNED_IN},
    {"POST", "/api/v1/spaces/{id}/threads", discussions_api_thread_create, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/threads/{id}", discussions_api_thread, ACCESS_SIGNED_IN},
    {"POST", "/api/v1/threads/{id}/posts", discussions_api_reply, ACCESS_SIGNED_IN},
    {"POST", "/api/v1/posts/{id}/reactions", discussions_api_react, ACCESS_SIGNED_IN},
    {"DELETE", "/api/v1/posts/{id}/reactions/{kind}", discussions_api_unreact, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/search", discussions_api_search, ACCESS_SIGNED_IN},
    /* Private Atom feeds of spaces: src/app/discussions/feed.c. The feed takes its key in
     * the URL (feed readers send no cookies), and checks it itself. */
    {"GET", "/discussions/feeds", discussions_feeds_page, ACCESS_SIGNED_IN},
    {"POST", "/discussions/feeds", discussions_feeds_create, ACCESS_SIGNED_IN},
    {"POST", "/discussions/feeds/revoke", discussions_feeds_revoke, ACCESS_SIGNED_IN},
    {"GET", "/discussions/spaces/{id}/feed.atom", discussions_feed, ACCESS_PUBLIC},
    /* Files attached to posts: src/app/discussions/attachments.c (404 unless the viewer
     * may see the post) */
    {"GET", "/discussions/attachments/{id}/{name}", discussions_attachment, ACCESS_SIGNED_IN},
    /* Data protection: subject access exports, removing a deactivated person's details,
     * retention of audit entries and returns: src/app/privacy/ (literal paths first) */
    {"GET", "/account/export", privacy_export_own_page, ACCESS_SIGNED_IN},
    {"GET", "/account/export.json", privacy_export_own_json, ACCESS_SIGNED_IN},
    {"GET", "/admin/people/{id}/export", privacy_export_person_page, ACCESS_ADMIN},
    {"GET", "/admin/people/{id}/export.json", privacy_export_person_json, ACCESS_ADMIN},
    {"POST", "/admin/people/{id}/anonymise", privacy_anonymise, ACCESS_ADMIN},
    {"GET", "/admin/retention", privacy_retention_page, ACCESS_ADMIN},
    {"POST", "/admin/retention", privacy_retention_save, ACCESS_ADMIN},
};
const int app_n_routes = sizeof app_routes / sizeof app_routes[0];

/* The forms that carry attachments may send 20 MB of files plus the form; every
 * other route keeps LIMIT_BODY_BYTES (src/app/discussions/attachments.h). */
const struct http_body_limit app_body_limits[] = {
    {"POST", "/discussions/spaces/{id}/threads", ATTACH_BODY_BYTES, ATTACH_TOO_LARGE},
    {"POST", "/discussions/threads/{id}/posts", ATTACH_BODY_BYTES, ATTACH_TOO_LARGE},
};
const int app_n_body_limits = sizeof app_body_limits / sizeof app_body_limits[0];
