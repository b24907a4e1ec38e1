/*
 * people.h — people, their roles and their memberships of organisations.
 *
 * A person is never deleted: deactivation keeps every record they made
 * attributable. Leading a practice is a membership flag, so "practice-lead"
 * is accepted wherever a role is given and stored as role member + lead.
 */
#ifndef SHOAL_APP_PEOPLE_H
#define SHOAL_APP_PEOPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/password.h"
#include "core/cli.h"
#include "core/limits.h"
#include "db/db.h"

/** Trims and lower-cases an email address and checks its form. Returns 0, or -1 if not plausible.
 */
int people_normalise_email(const char *in, char out[LIMIT_EMAIL_BYTES + 1]);
/** Whether s names a role that can be given: member, practice-lead, executive, administrator,
 * partner. */
bool people_role_valid(const char *s);

struct person_new {
	const char *email; /* normalised */
	const char *name;
	const char *role;          /* as people_role_valid */
	const char *password_hash; /* NULL: the person sets one later (invitation, reset) */
	int64_t organisation_id;   /* 0 for none */
};

/**
 * Creates a person (and their membership). Returns 0, DB_ERR_CONSTRAINT when
 * the email is taken, or another negative code.
 */
int people_create(struct db_conn *c, const struct person_new *p, int64_t *id)
    __attribute__((warn_unused_result));
/**
 * Finds an active person for sign-in. Returns 1 and fills id, hash ("" when no
 * password is set) and has_totp; 0 when there is no such active person.
 */
int people_find_for_sign_in(struct db_conn *c, const char *email, int64_t *id,
                            char hash[PASSWORD_HASH_BYTES], bool *has_totp)
    __attribute__((warn_unused_result));
/** Replaces a person's password hash. */
int people_set_password(struct db_conn *c, int64_t id, const char *hash)
    __attribute__((warn_unused_result));
/** The id of the organisation with an ODS code; 1 found, 0 not, < 0 error. */
int people_organisation_id(struct db_conn *c, const char *ods_code, int64_t *id)
    __attribute__((warn_unused_result));

/** `shoal user add --email E --name N --role ROLE [--organisation ODS] [--password-stdin]` */
int cmd_user_add(struct cli *cli);
extern const struct cli_option user_add_options[];

#endif
