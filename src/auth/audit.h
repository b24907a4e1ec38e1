/*
 * audit.h — the append-only, tamper-evident audit trail.
 *
 * Each entry's hash covers its own fields and the previous entry's hash, so
 * editing or deleting any entry breaks the chain from there on; `shoal audit
 * verify` walks it. Entries are written on the caller's connection, inside the
 * caller's transaction when there is one, so an action and its record commit
 * together or not at all.
 */
#ifndef SHOAL_AUTH_AUDIT_H
#define SHOAL_AUTH_AUDIT_H

#include <stdint.h>

#include "db/db.h"

struct audit_entry {
	int64_t actor_id;    /* 0 for none */
	const char *actor;   /* email at the time, or "anonymous" / "system" */
	const char *action;  /* e.g. "sign-in", "sign-in-failed", "invitation-sent" */
	const char *subject; /* what it concerned, e.g. "person:12"; may be NULL */
	const char *detail;  /* free text; may be NULL */
	const char *address; /* the client's IP address; may be NULL */
};

/** Appends an entry. Returns 0 or a negative enum db_rc. */
int audit_record(struct db_conn *c, const struct audit_entry *e)
    __attribute__((warn_unused_result));

/**
 * Computes an entry's hash from its fields and the previous hash (hex, 64 chars + NUL).
 * Shared by audit_record and the verifier.
 */
void audit_hash(const char *prev_hash, int64_t at, int64_t actor_id, const char *actor,
                const char *action, const char *subject, const char *detail, const char *address,
                char out[65]);

/**
 * Walks the whole chain in id order, in pages (audit_verify.c). Returns 0 when
 * every entry matches its hash and follows the one before it (*checked counts
 * them); 1 when one does not: *first_bad_id is the first such entry, *checked
 * the good ones before it, and err says what is wrong with it; or a negative
 * enum db_rc when the trail cannot be read (err says why).
 */
int audit_verify(struct db *db, int64_t *first_bad_id, int64_t *checked, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
