/*
 * test_tplc.h — the view structs of the templates in tests/unit/templates/.
 *
 * tplc makes each template's function take a pointer to its view struct and has the
 * generated C include the header that defines it; this is that header for the test
 * templates, shared by the generated code and tests/unit/test_tplc.c.
 */
#ifndef SHOAL_TEST_TPLC_H
#define SHOAL_TEST_TPLC_H

#include <stdbool.h>

#include "render/html.h"

struct test_item {
	const char *name;
	const char *url;
};

struct test_page {
	const char *title;
	const char *link;
	bool checked;
	int count;
	const struct test_item *items;
	struct safe_html body;
	struct html_slot aside; /* edge.html: content rendered in place */
};

#endif
