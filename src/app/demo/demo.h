/*
 * demo.h — the fictional demo collective (`shoal demo`).
 */
#ifndef SHOAL_APP_DEMO_H
#define SHOAL_APP_DEMO_H

#include <stddef.h>
#include <stdio.h>

#include "core/cli.h"

#include "db/db.h"

/* Every demo account's password, and the TOTP secret of those who must use
 * two-step sign-in (the executive and the administrator). Fictional data only. */
#define DEMO_PASSWORD    "wyvern-demo-2026"
#define DEMO_TOTP_SECRET "JBSWY3DPEHPK3PXP"

/**
 * Loads (or refreshes) the demo collective: settings and organisations.
 * Idempotent: running it again updates the same rows. All or nothing.
 * Returns 0 or < 0 with err set; *n_organisations counts what it wrote.
 */
int demo_load(struct db *db, int *n_organisations, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/** Prints how to sign in to each demo account. */
void demo_print_accounts(FILE *out);
/** `shoal demo` options. */
extern const struct cli_option demo_options[];

#endif
