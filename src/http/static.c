/*
 * static.c — serves the embedded front-end assets (see static.h).
 *
 * Hashed URLs (/assets/<content hash>/<name>) never change meaning, so they are
 * cached for a year as immutable; a new build changes the hash and thus the URL.
 * nhsuk-frontend's stylesheet names its icons by fixed paths under
 * /assets/images/, so those are served there too, with a day's cache.
 */
#include "http/static.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/embedded.h"
#include "core/xmalloc.h"

extern const struct embedded_file asset_files[];
extern const size_t asset_count;

static char **urls; /* "/assets/<hash>/<name>" for each asset, made once */
static pthread_once_t urls_once = PTHREAD_ONCE_INIT;

static void make_urls(void)
{
	urls = xcalloc(asset_count + 1, sizeof *urls);
	for (size_t i = 0; i < asset_count; i++) {
		size_t n = strlen(asset_files[i].name) + strlen(asset_files[i].hash) + 10;
		urls[i] = xmalloc(n);
		snprintf(urls[i], n, "/assets/%s/%s", asset_files[i].hash, asset_files[i].name);
	}
}

static const struct embedded_file *find(const char *name, size_t *index)
{
	for (size_t i = 0; i < asset_count; i++) {
		if (!strcmp(asset_files[i].name, name)) {
			if (index)
				*index = i;
			return &asset_files[i];
		}
	}
	return NULL;
}

const char *static_url(const char *name)
{
	pthread_once(&urls_once, make_urls);
	size_t i;
	return find(name, &i) ? urls[i] : NULL;
}

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".css", "text/css; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".json", "application/json"},
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

static void serve(struct http_response *res, const struct embedded_file *f, const char *cache)
{
	if (!f) {
		res->status = 404;
		return;
	}
	res->static_body = f->data;
	res->static_size = f->size;
	res->content_type = content_type(f->name);
	http_response_header(res, "Cache-Control", cache);
}

void static_serve_hashed(struct http_request *req, struct http_response *res)
{
	const struct embedded_file *f = find(req->params[1], NULL);
	/* An old hash after an upgrade: answer 404 rather than cache new bytes under it. */
	serve(res, f && !strcmp(f->hash, req->params[0]) ? f : NULL,
	      "public, max-age=31536000, immutable");
}

void static_serve_image(struct http_request *req, struct http_response *res)
{
	const struct embedded_file *f = find(req->params[0], NULL);
	int image = f && !strncmp(content_type(f->name), "image/", 6);
	serve(res, image ? f : NULL, "public, max-age=86400");
}

void static_serve_favicon(struct http_request *req, struct http_response *res)
{
	(void)req;
	serve(res, find("favicon.ico", NULL), "public, max-age=86400");
}
