/*
 * demo.h — the fictional demo collective (`shoal demo`).
 */
#ifndef SHOAL_APP_DEMO_H
#define SHOAL_APP_DEMO_H

#include <stddef.h>

#include "db/db.h"

/**
 * Loads (or refreshes) the demo collective: settings and organisations.
 * Idempotent: running it again updates the same rows. All or nothing.
 * Returns 0 or < 0 with err set; *n_organisations counts what it wrote.
 */
int demo_load(struct db *db, int *n_organisations, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
