/*
 * feed.c — private Atom feeds of spaces (docs/discussions.md, "Feeds").
 *
 * Feed readers send no cookies, so a feed address carries the person's feed
 * key: "feed_" and 43 random characters, of which Shoal keeps only the SHA-256
 * (as for API tokens). One key per person opens the feed of every space that
 * person sees, decided at each fetch by disc_load_space with the person as
 * they are now: a role change, leaving a group or deactivation shows at once.
 * Making a new key or stopping the feeds revokes the old key; both are audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/discussions/api.h"
#include "auth/session.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "templates.h"

/* ------------------------------------------------------------ the key */

/* The person's live key: 1 with when it was made, 0 none, < 0 error. */
static int live_key(struct db_conn *c, int64_t person_id, int64_t *created)
{
	struct db_stmt *st = db_prepare(c, "SELECT created_at FROM feed_tokens WHERE person_id = "
	                                   "$1 AND revoked_at IS NULL ORDER BY id DESC LIMIT 1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*created = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

static int revoke_all(struct db_conn *c, int64_t person_id, int64_t now)
{
	struct db_stmt *st = db_prepare(c, "UPDATE feed_tokens SET revoked_at = $2 WHERE "
	                                   "person_id = $1 AND revoked_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_int(st, 2, now);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : rc < 0 ? rc : DB_ERR;
}

static void show(struct http_request *req, struct http_response *res, struct disc_feeds_view *v)
{
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_discussions_feeds(&main, v);
	page_render(req, res, "Feeds of discussions", main.data);
	buf_free(&main);
}

void discussions_feeds_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_feeds_view v = {0};
	int64_t created = 0;
	int rc = live_key(c, viewer->person_id, &created);
	db_release(c);
	if (rc < 0) {
		res->status = 500;
		return;
	}
	v.has_key = rc == 1;
	if (v.has_key)
		time_format_date_time(created, v.created);
	const char *notice = http_query(req, "notice");
	if (notice && !strcmp(notice, "revoked"))
		v.notice = "Your feeds have stopped: their addresses no longer work";
	show(req, res, &v);
}

void discussions_feeds_create(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_feeds_view v = {.has_key = true};
	v.urls = xcalloc(DISCUSSIONS_MAX_SPACES, sizeof *v.urls);
	char key[FEED_KEY_CHARS + 1], random[AUTH_TOKEN_CHARS + 1], hash[AUTH_HASH_CHARS + 1];
	auth_random_token(random);
	snprintf(key, sizeof key, "%s%s", FEED_KEY_PREFIX, random);
	auth_hash_token(key, hash);
	int64_t now = (int64_t)time(NULL);
	time_format_date_time(now, v.created);
	if (db_begin(c) || revoke_all(c, viewer->person_id, now))
		goto fail;
	struct db_stmt *st = db_prepare(c, "INSERT INTO feed_tokens (person_id, token_hash, "
	                                   "created_at) VALUES ($1, $2, $3)");
	if (!st)
		goto fail;
	db_bind_int(st, 1, viewer->person_id);
	db_bind_text(st, 2, hash);
	db_bind_int(st, 3, now);
	int rc = db_step(st);
	db_reset(st);
	char subject[48];
	snprintf(subject, sizeof subject, "person:%lld", (long long)viewer->person_id);
	if (rc != DB_DONE ||
	    disc_audit(c, req, "discussion-feed-key-created", subject,
	               "the old key, if any, revoked") ||
	    db_commit(c))
		goto fail;
	/* Every space the person sees now, each with its address. */
	st = db_prepare(c, "SELECT s.id, s.name FROM spaces s WHERE " DISCUSSIONS_VISIBLE_SQL
	                   " ORDER BY s.position, s.id LIMIT 100");
	if (!st)
		goto fail;
	db_bind_int(st, 1, viewer->person_id);
	db_bind_text(st, 2, policy_role_name(viewer->role));
	while ((rc = db_step(st)) == DB_ROW && v.n_urls < DISCUSSIONS_MAX_SPACES) {
		struct disc_feed_url *u = &v.urls[v.n_urls++];
		snprintf(u->name, sizeof u->name, "%s", db_col_text(st, 1));
		snprintf(u->url, sizeof u->url, "%s/discussions/spaces/%lld/feed.atom?token=%s",
		         app->config->base_url, (long long)db_col_int(st, 0), key);
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	db_release(c);
	show(req, res, &v);
	free(v.urls);
	return;
fail:
	log_error("request %s: cannot make a feed key: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
	free(v.urls);
}

void discussions_feeds_revoke(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char subject[48];
	snprintf(subject, sizeof subject, "person:%lld", (long long)viewer->person_id);
	if (db_begin(c) || revoke_all(c, viewer->person_id, (int64_t)time(NULL)) ||
	    disc_audit(c, req, "discussion-feed-key-revoked", subject, "") || db_commit(c)) {
		log_error("request %s: cannot stop feeds: %s", req->id, db_errmsg(c));
		res->status = 500;
	} else {
		http_redirect(res, "/discussions/feeds?notice=revoked");
	}
	db_release(c);
}

/* ------------------------------------------------------------ the feed */

/* Text for XML: escaped, and without the control characters XML 1.0 forbids. */
static void xml_text(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&':
			buf_puts(out, "&amp;");
			break;
		case '<':
			buf_puts(out, "&lt;");
			break;
		case '>':
			buf_puts(out, "&gt;");
			break;
		case '"':
			buf_puts(out, "&quot;");
			break;
		case '\'':
			buf_puts(out, "&apos;");
			break;
		default:
			if (*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
				buf_putc(out, (char)*p);
		}
	}
}

static void xml_time(struct buf *out, int64_t t)
{
	char iso[TIME_ISO_BYTES];
	time_format_utc_iso(t, iso);
	buf_puts(out, iso);
}

/* A key as it can be: the prefix and base64url characters, else not worth a query. */
static bool key_shaped(const char *k)
{
	if (!k || strlen(k) != FEED_KEY_CHARS || strncmp(k, FEED_KEY_PREFIX, 5))
		return false;
	for (const char *p = k + 5; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

void discussions_feed(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const char *key = http_query(req, "token");
	/* Every refusal is the same 404: a wrong key, a revoked one, a space not seen. */
	if (!key_shaped(key)) {
		res->status = 404;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char hash[AUTH_HASH_CHARS + 1];
	auth_hash_token(key, hash);
	struct db_stmt *st = db_prepare(
	    c, "SELECT person_id FROM feed_tokens WHERE token_hash = $1 AND revoked_at IS NULL");
	if (!st)
		goto fail;
	db_bind_text(st, 1, hash);
	int rc = db_step(st);
	int64_t person_id = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc < 0)
		goto fail;
	struct viewer viewer = {0};
	struct disc_space s;
	/* The person as they are now: a deactivated person is not found. */
	rc = person_id ? session_load_person(c, person_id, &viewer) : 0;
	if (rc > 0)
		rc = disc_load_space(c, &viewer, http_parse_id(req->params[0]), &s);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		db_release(c);
		res->status = 404;
		return;
	}
	st = db_prepare(
	    c, "SELECT p.id, p.thread_id, t.title, a.name, p.created_at, COALESCE(p.edited_at, "
	       "p.created_at), p.body_html, (SELECT count(*) FROM posts x WHERE x.thread_id = "
	       "p.thread_id AND x.id < p.id) FROM posts p JOIN threads t ON t.id = p.thread_id "
	       "JOIN people a ON a.id = p.author_id WHERE p.space_id = $1 AND p.deleted_at IS NULL "
	       "AND p.hidden_at IS NULL ORDER BY p.id DESC LIMIT $2");
	if (!st)
		goto fail;
	db_bind_int(st, 1, s.id);
	db_bind_int(st, 2, FEED_ENTRIES);
	const char *base = app->config->base_url;
	struct buf *out = &res->body, entries, entry;
	buf_init(&entries, LIMIT_PAGE_BYTES - 65536);
	buf_init(&entry, LIMIT_PAGE_BYTES);
	int64_t updated = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t id = db_col_int(st, 0), thread = db_col_int(st, 1);
		int64_t changed = db_col_int(st, 5);
		long long before = db_col_int(st, 7);
		if (changed > updated)
			updated = changed;
		buf_clear(&entry);
		buf_puts(&entry, "<entry>\n<title>");
		if (before)
			buf_puts(&entry, "Re: ");
		xml_text(&entry, db_col_text(st, 2));
		/* Addresses start with base_url, so they go through the escaper too. */
		char href[LIMIT_CONFIG_VALUE_BYTES + 96];
		snprintf(href, sizeof href, "%s/discussions/posts/%lld", base, (long long)id);
		buf_puts(&entry, "</title>\n<id>");
		xml_text(&entry, href);
		buf_puts(&entry, "</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
		snprintf(href, sizeof href, "%s/discussions/threads/%lld?page=%lld#post-%lld", base,
		         (long long)thread, before / DISCUSSIONS_POSTS_PER_PAGE + 1, (long long)id);
		xml_text(&entry, href);
		buf_puts(&entry, "\"/>\n<published>");
		xml_time(&entry, db_col_int(st, 4));
		buf_puts(&entry, "</published>\n<updated>");
		xml_time(&entry, changed);
		buf_puts(&entry, "</updated>\n<author><name>");
		xml_text(&entry, db_col_text(st, 3));
		buf_puts(&entry, "</name></author>\n<content type=\"html\">");
		xml_text(&entry, db_col_text(st, 6));
		buf_puts(&entry, "</content>\n</entry>\n");
		/* A feed that would pass the page cap ends with the entries that fit. */
		if (entry.overflow || buf_add(&entries, entry.data, entry.len))
			break;
	}
	db_reset(st);
	buf_free(&entry);
	if (rc < 0) {
		buf_free(&entries);
		goto fail;
	}
	db_release(c);
	c = NULL;
	buf_clear(out);
	buf_puts(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed "
	              "xmlns=\"http://www.w3.org/2005/Atom\">\n<title>");
	xml_text(out, s.name);
	buf_puts(out, "</title>\n<subtitle>");
	xml_text(out, s.description);
	buf_puts(out, "</subtitle>\n<id>");
	char self[LIMIT_CONFIG_VALUE_BYTES + 64];
	snprintf(self, sizeof self, "%s/discussions/spaces/%lld", base, (long long)s.id);
	xml_text(out, self);
	buf_puts(out, "</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
	xml_text(out, self);
	buf_puts(out, "\"/>\n<updated>");
	xml_time(out, updated ? updated : (int64_t)time(NULL));
	buf_puts(out, "</updated>\n");
	buf_add(out, entries.data, entries.len);
	buf_puts(out, "</feed>\n");
	buf_free(&entries);
	res->content_type = "application/atom+xml; charset=utf-8";
	/* About people, behind a key: no shared cache may keep it, nor a referrer carry it. */
	http_response_header(res, "Cache-Control", "private, no-store");
	http_response_header(res, "Referrer-Policy", "no-referrer");
	return;
fail:
	log_error("request %s: cannot write a feed: %s", req->id, c ? db_errmsg(c) : "");
	db_release(c);
	res->status = 500;
}
