/*
 * api.h — discussions outside the pages: the JSON API under /api/v1 (api.c)
 * and the private Atom feeds of spaces (feed.c). Both show a person exactly
 * what the pages show them (docs/discussions.md, docs/api.md).
 */
#ifndef SHOAL_APP_DISCUSSIONS_API_H
#define SHOAL_APP_DISCUSSIONS_API_H

#include <stdbool.h>
#include <stddef.h>

#include "app/discussions/discussions.h"
#include "auth/crypto.h"
#include "core/time.h"
#include "http/http.h"

#define FEED_KEY_PREFIX "feed_"
#define FEED_KEY_CHARS  (sizeof FEED_KEY_PREFIX - 1 + AUTH_TOKEN_CHARS)
#define FEED_ENTRIES    30 /* the newest posts in a feed */

/* api.c */
/** GET /api/v1/spaces */
void discussions_api_spaces(struct http_request *req, struct http_response *res);
/** GET /api/v1/spaces/{id}/threads?page=N */
void discussions_api_threads(struct http_request *req, struct http_response *res);
/** POST /api/v1/spaces/{id}/threads {"title", "body", "question"} */
void discussions_api_thread_create(struct http_request *req, struct http_response *res);
/** GET /api/v1/threads/{id}?page=N */
void discussions_api_thread(struct http_request *req, struct http_response *res);
/** POST /api/v1/threads/{id}/posts {"body"} */
void discussions_api_reply(struct http_request *req, struct http_response *res);
/** POST /api/v1/posts/{id}/reactions {"kind"} */
void discussions_api_react(struct http_request *req, struct http_response *res);
/** DELETE /api/v1/posts/{id}/reactions/{kind} */
void discussions_api_unreact(struct http_request *req, struct http_response *res);
/** GET /api/v1/search?q=…&space=&author=&page= */
void discussions_api_search(struct http_request *req, struct http_response *res);

/* feed.c */
/* One space's feed address, shown once when the key is made. */
struct disc_feed_url {
	char name[LIMIT_NAME_BYTES + 1];
	char url[LIMIT_CONFIG_VALUE_BYTES + 128];
};
/* The view of templates/discussions_feeds.html. */
struct disc_feeds_view {
	const char *csrf, *notice;
	bool has_key;
	char created[TIME_DATE_TIME_BYTES];
	struct disc_feed_url *urls; /* DISCUSSIONS_MAX_SPACES, only when just made */
	size_t n_urls;
};
/** GET /discussions/feeds: the person's feed key, made or not. */
void discussions_feeds_page(struct http_request *req, struct http_response *res);
/** POST /discussions/feeds: a new key (the old one revoked) and every space's address, once. */
void discussions_feeds_create(struct http_request *req, struct http_response *res);
/** POST /discussions/feeds/revoke: ends the person's feeds. */
void discussions_feeds_revoke(struct http_request *req, struct http_response *res);
/** GET /discussions/spaces/{id}/feed.atom?token=KEY: Atom, as the key's holder sees it. */
void discussions_feed(struct http_request *req, struct http_response *res);

#endif
