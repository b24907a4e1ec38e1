/*
 * migrate.h — numbered SQL migrations, compiled into the binary.
 *
 * src/db/migrations/NNNN_name.sql are applied in order, each in its own
 * transaction, and recorded in schema_migrations. Two tokens differ per engine
 * and are replaced when applied: @ID@ (an auto-numbered primary key) and @BLOB@.
 * A server checks the version at start-up: it refuses a database that is newer
 * than itself (an older binary must not write to a newer schema) or one with
 * migrations not yet applied (run `shoal migrate`; nodes never race to migrate).
 */
#ifndef SHOAL_DB_MIGRATE_H
#define SHOAL_DB_MIGRATE_H

#include <stddef.h>

#include "db/db.h"

/** The newest schema version this binary knows. */
int migrate_latest(void);
/** The database's schema version (0 for an empty database). Returns 0 or < 0 (err says why). */
int migrate_version(struct db *db, int *version, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/** Applies every pending migration; *applied counts them. Returns 0 or < 0 (err says why). */
int migrate_apply(struct db *db, int *applied, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/** For start-up: 0 when the database is exactly at migrate_latest(), else < 0 and err says what to
 * do. */
int migrate_check(struct db *db, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
