/*
 * organisations.h — the organisations of the collective, and importing them from CSV.
 *
 * Practices, PCNs, localities, the federation, the LMC and partner
 * organisations (ICB, trusts, council, public health, other) live in one table,
 * each under an optional parent: practice → PCN → locality. An administrator
 * keeps them in a spreadsheet and imports it with `shoal import organisations
 * FILE.csv`; the format and every rule are in docs/import.md.
 *
 * An import is all or nothing: the whole file is checked first, against itself
 * and against what the database already holds, and every problem is reported
 * with its line; only a file with none is written, in one transaction.
 * Importing again updates each organisation in place (matched by ODS code), so
 * ids, memberships and history stay attached. Nothing is ever deleted.
 */
#ifndef SHOAL_APP_ORGANISATIONS_H
#define SHOAL_APP_ORGANISATIONS_H

#include <stddef.h>

#include "core/cli.h"
#include "core/csv.h"
#include "db/db.h"

/** The header line an organisations CSV file must start with. */
#define ORGANISATIONS_CSV_HEADER "ods_code,name,kind,parent_ods_code,list_size"

/**
 * Checks the CSV file in data (len bytes) and, only if it has no problems,
 * adds or updates every organisation in it in one transaction. Returns
 * IMPORT_OK with report's added/updated/unchanged counts, IMPORT_INVALID with
 * every problem in report (nothing written), or IMPORT_DB_ERROR with the
 * database's message as a problem on line 0 (nothing written).
 */
int organisations_import(struct db *db, const char *data, size_t len, struct import_report *report)
    __attribute__((warn_unused_result));

/**
 * `shoal import organisations FILE.csv`: reads FILE (cli->args[0]), imports it
 * and prints the outcome. Each problem goes to standard error as FILE:LINE:
 * message. Returns the exit status: 0 imported, 1 nothing imported.
 */
int cmd_import_organisations(struct cli *cli);

#endif
