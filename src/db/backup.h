/*
 * backup.h — `shoal backup` and `shoal restore` for the embedded SQLite database.
 *
 * A backup is a consistent copy taken with SQLite's online backup API while
 * the server runs: it copies a few pages at a time and starts again if a
 * writer changes the database underneath, so the copy is one committed state.
 * PostgreSQL has its own tools for this (pg_dump, base backups): see
 * docs/deployment.md.
 */
#ifndef SHOAL_DB_BACKUP_H
#define SHOAL_DB_BACKUP_H

#include "core/cli.h"

/** `shoal backup FILE`: copies the database named by --db into FILE (which must not exist). */
int cmd_backup(struct cli *cli);
/** `shoal restore FILE`: copies backup FILE into the new database named by --db. */
int cmd_restore(struct cli *cli);

#endif
