/*
 * admin.c — the administration index (see admin.h).
 *
 * Other engineers' administration pages (settings, organisations,
 * invitations) come and go as the project grows, so the index links to a page
 * only when the route table has it: no link ever leads to a 404.
 */
#include "app/admin/admin.h"

#include <string.h>

#include "app/app.h"
#include "templates.h"

/* Every page an administrator may want, in the order they are listed. */
static const struct admin_link candidates[] = {
    {"/admin/people", "People",
     "Find anyone with an account, change their role, organisations and practice lead status, "
     "and deactivate or reactivate their account."},
    {"/admin/organisations", "Organisations",
     "The practices, PCNs and partner organisations of the collective."},
    {"/invitations", "Invitations", "Invite people by email, and see who has accepted."},
    {"/join/requests", "Requests to join", "People who asked to join a practice."},
    {"/admin/audit", "Audit trail",
     "Who signed in, changed what and when: filter it, or download it as a spreadsheet."},
    {"/admin/settings", "Settings", "Settings of this installation of Shoal."},
};
#define N_CANDIDATES (sizeof candidates / sizeof candidates[0])

/* Whether the route table serves GET path (a literal path, not a pattern). */
static bool route_exists(const char *path)
{
	for (int i = 0; i < app_n_routes; i++)
		if (!strcmp(app_routes[i].method, "GET") && !strcmp(app_routes[i].pattern, path))
			return true;
	return false;
}

void admin_index(struct http_request *req, struct http_response *res)
{
	struct admin_link links[N_CANDIDATES];
	struct admin_view v = {.links = links};
	for (size_t i = 0; i < N_CANDIDATES; i++)
		if (route_exists(candidates[i].href))
			links[v.n_links++] = candidates[i];
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_admin(&main, &v);
	page_render(req, res, "Administration", main.data);
	buf_free(&main);
}
