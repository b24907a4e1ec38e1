/*
 * mfa.h — two-step sign-in: the code asked for after the password, setting it
 * up with an authenticator app, recovery codes, turning it off, and an
 * administrator's reset for a lost phone.
 *
 * Executives and administrators must use it (policy_requires_mfa: the before
 * hook sends them to /account/mfa until they have); for everyone else it is a
 * choice. Every change is audited and announced to the person by email, so
 * that someone who has taken over an account cannot quietly weaken it.
 *
 * Codes come from src/auth/totp.h; recovery codes are stored only as SHA-256
 * hashes (salted with the person's id) and shown once.
 */
#ifndef SHOAL_APP_MFA_H
#define SHOAL_APP_MFA_H

#include "app/page.h"
#include "auth/totp.h"
#include "http/http.h"
#include "render/html.h"

#define MFA_RECOVERY_CODES      10   /* in a set */
#define MFA_RECOVERY_CODE_CHARS 16   /* about 79 bits, shown as four groups of four */
#define MFA_INPUT_MAX_BYTES     64   /* a typed code, spaces and hyphens included */
#define MFA_PENDING_SECONDS     3600 /* how long a set-up secret waits for its first code */
#define MFA_FEW_RECOVERY_CODES  3    /* below this many left, the page suggests new ones */

/* The code page after the password (templates/mfa_sign_in.html). */
struct mfa_sign_in_view {
	struct form_errors errors;
	const char *csrf;
	const char *next;       /* where to go afterwards */
	int recovery;           /* the recovery-code form, not the app-code form */
	const char *other_href; /* the link to the other form */
	const char *error;      /* beside the one field */
};

/* /account/mfa: the state of two-step sign-in, or setting it up (templates/mfa_account.html). */
struct mfa_account_view {
	struct form_errors errors;
	const char *csrf;
	const char *notice;
	int enrolled;
	int required;            /* the person's role must use it */
	int may_disable;         /* policy_may_disable_mfa */
	const char *role_phrase; /* "an executive", "an administrator" */
	long long recovery_left; /* unused recovery codes */
	int few_left;            /* recovery_left < MFA_FEW_RECOVERY_CODES */
	struct safe_html qr;     /* set-up: the QR code (inline SVG) */
	const char *secret;      /* set-up: the key, in groups of four */
	const char *code_error;  /* beside the code field (set-up or turning off) */
};

/* Recovery codes, shown once (templates/mfa_codes.html). */
struct mfa_codes_view {
	int enrolled_now; /* just set up, rather than a new set */
	const char *codes[MFA_RECOVERY_CODES];
	int n_codes;
};

/* An administrator's reset, done (templates/mfa_reset.html). */
struct mfa_reset_view {
	long long id;
	const char *name, *email;
	int was_enrolled;
	int required; /* their role must set it up again */
};

/** GET /sign-in/mfa: the code form (?recovery=1: the recovery-code form). */
void mfa_sign_in_page(struct http_request *req, struct http_response *res);
/** POST /sign-in/mfa: checks an app code or a recovery code and completes the sign-in. */
void mfa_sign_in(struct http_request *req, struct http_response *res);
/** GET /account/mfa: the state of two-step sign-in, or the set-up page. */
void mfa_account_page(struct http_request *req, struct http_response *res);
/** POST /account/mfa/confirm: a first code turns the pending secret on. */
void mfa_confirm(struct http_request *req, struct http_response *res);
/** POST /account/mfa/recovery-codes: replaces the recovery codes. */
void mfa_recovery_codes(struct http_request *req, struct http_response *res);
/** POST /account/mfa/disable: turns it off, with a current code, for those allowed. */
void mfa_disable(struct http_request *req, struct http_response *res);
/** POST /admin/people/{id}/mfa-reset: an administrator clears a person's second factor. */
void mfa_admin_reset(struct http_request *req, struct http_response *res);

/**
 * Writes a new random recovery code, grouped for reading ("abcd-efgh-jkmn-pqrs";
 * MFA_RECOVERY_CODE_CHARS + 3 hyphens + NUL).
 */
void mfa_recovery_code_new(char out[MFA_RECOVERY_CODE_CHARS + 4]);
/**
 * Reduces a typed recovery code to its characters (lower case, no spaces or
 * hyphens). Returns 0, or -1 when it cannot be a recovery code.
 */
int mfa_recovery_code_normalise(const char *typed, char out[MFA_RECOVERY_CODE_CHARS + 1]);

#endif
