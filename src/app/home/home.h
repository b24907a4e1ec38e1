/*
 * home.h — the home page.
 */
#ifndef SHOAL_APP_HOME_H
#define SHOAL_APP_HOME_H

#include <stddef.h>

#include "http/http.h"

/* One kind of organisation and how many the collective has (the view of templates/home.html). */
struct home_count {
	const char *label;
	long long count;
};

struct home_view {
	const char *collective;
	const char *person_name; /* NULL for a visitor who has not signed in */
	const struct home_count *counts;
	size_t n_counts;
	const char *patients; /* registered patients across member practices, formatted */
};

/** GET / */
void home_page(struct http_request *req, struct http_response *res);

#endif
