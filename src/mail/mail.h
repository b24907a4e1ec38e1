/*
 * mail.h — Shoal's outgoing email: an outbox table, a message builder, and
 * delivery with retries.
 *
 * A feature never talks to a mail server. It calls mail_queue on the database
 * connection it is already using, so the message exists exactly when the
 * feature's own change commits (an invitation row and its email, together).
 * After committing it calls mail_wake, and the jobs thread (src/jobs/) runs
 * mail_deliver soon after, and at least every few seconds anyway.
 *
 * Delivery claims one due row at a time by pushing its next_attempt_at out by a
 * lease, in the same statement that selects it (FOR UPDATE SKIP LOCKED on
 * PostgreSQL), so several shoal nodes on one database never send a message
 * twice while it is being sent. A failure is recorded on the row and retried
 * with exponential backoff; after MAIL_MAX_ATTEMPTS the row is given up.
 *
 * With smtp_url set, messages go over SMTP (libcurl); without it, each is
 * written as an .eml file into mail_dir (the embedded default, and what
 * development and the tests read).
 */
#ifndef SHOAL_MAIL_MAIL_H
#define SHOAL_MAIL_MAIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/config.h"
#include "db/db.h"

/* Limits on what may be queued: checked by mail_queue, not truncated. */
#define MAIL_ADDRESS_MAX_BYTES 254          /* RFC 5321's path limit, less the <> */
#define MAIL_SUBJECT_MAX_BYTES 500          /* keeps the folded header far below 998 */
#define MAIL_BODY_MAX_BYTES    (512u << 10) /* each of text and html */
#define MAIL_MESSAGE_MAX_BYTES (4u << 20)   /* a built message, bodies encoded */

/* Retry policy. Attempt n (1-based) that fails waits MAIL_RETRY_FIRST_SECONDS
 * * 2^(n-1), at most MAIL_RETRY_MAX_SECONDS; after MAIL_MAX_ATTEMPTS the
 * message is marked failed. The lease is how long a claimed message is left
 * to the node sending it; it must exceed MAIL_SMTP_TIMEOUT_SECONDS by far. */
#define MAIL_RETRY_FIRST_SECONDS  60
#define MAIL_RETRY_MAX_SECONDS    3600
#define MAIL_MAX_ATTEMPTS         8
#define MAIL_LEASE_SECONDS        600
#define MAIL_SMTP_TIMEOUT_SECONDS 30

enum mail_rc {
	MAIL_OK = 0,
	MAIL_ERR_ADDRESS = -1, /* not one plausible address */
	MAIL_ERR_SUBJECT = -2, /* CR, LF or other control characters, bad UTF-8, too long */
	MAIL_ERR_BODY = -3,    /* missing text, bad UTF-8, too long */
	MAIL_ERR_FROM = -4,    /* the mail_from setting holds no usable address */
	MAIL_ERR_DB = -5,      /* the database failed or cannot be reached */
	MAIL_ERR_SEND = -6,    /* delivery of one message failed (the reason is in err) */
};

/* One message, as the builder needs it. Every string is UTF-8. */
struct mail_message {
	const char *from;       /* "Name <address>" or "address" (the mail_from setting) */
	const char *to;         /* one address */
	const char *subject;    /* any text without control characters */
	const char *text;       /* the plain text body */
	const char *html;       /* the HTML body, or NULL for a text-only message */
	time_t date;            /* when the message was queued */
	const char *message_id; /* its unique left-hand part (letters, digits, . - _);
	                           the domain comes from from */
	/* One attached file, or all NULL: its name (letters, digits, . - _), MIME type
	 * ("application/pdf") and content in base64 without line breaks. */
	const char *attachment_name, *attachment_type, *attachment_base64;
};

/**
 * Queues one message in the outbox on connection c, inside whatever
 * transaction c has open, due at once. html may be NULL. Refuses (with a
 * negative enum mail_rc, nothing written) an address that is not one plausible
 * address, a subject with CR, LF or other control characters (header
 * injection), invalid UTF-8, or anything over the MAIL_*_MAX_BYTES limits.
 * Call mail_wake after committing.
 */
int mail_queue(struct db_conn *c, const char *to, const char *subject, const char *text,
               const char *html) __attribute__((warn_unused_result));

/** mail_queue, also giving the new outbox row's id in *id. */
int mail_queue_get_id(struct db_conn *c, const char *to, const char *subject, const char *text,
                      const char *html, int64_t *id) __attribute__((warn_unused_result));

#define MAIL_ATTACHMENT_MAX_BYTES (2u << 20) /* one attached file, before encoding */

/**
 * Attaches a file to the queued message outbox_id (from mail_queue_get_id), in
 * the same transaction: name of letters, digits, '.', '-', '_' (at most 100),
 * type such as "application/pdf", at most MAIL_ATTACHMENT_MAX_BYTES. One file
 * per message. Returns 0 or a negative enum mail_rc (MAIL_ERR_BODY for a bad
 * name, type or size).
 */
int mail_attach(struct db_conn *c, int64_t outbox_id, const char *name, const char *type,
                const unsigned char *data, size_t size) __attribute__((warn_unused_result));

/**
 * Tells the jobs thread that mail is waiting, so it delivers now rather than at
 * its next tick. Harmless when no jobs thread runs (a command-line tool).
 */
void mail_wake(void);

/**
 * Delivers every due message once: claims it, sends it (SMTP or file), and
 * marks it sent, or records the failure and schedules the retry. *sent and
 * *failed count this run's outcomes (failed includes attempts to be retried).
 * Returns 0, or a negative enum mail_rc when the database failed (logged).
 */
int mail_deliver_due(struct db *db, const struct config *cfg, int *sent, int *failed)
    __attribute__((warn_unused_result));

/**
 * mail_deliver_due for the jobs thread and the command line: stops between
 * messages once *stop becomes true (stop may be NULL), and writes a database
 * failure to err (one line) instead of logging it.
 */
int mail_deliver(struct db *db, const struct config *cfg, const atomic_bool *stop, int *sent,
                 int *failed, char *err, size_t errlen) __attribute__((warn_unused_result));

/**
 * Whether address is one plausible email address: printable ASCII without
 * spaces or specials, one @, a non-empty local part of at most 64 bytes, a
 * domain of letters, digits, hyphens and dots, at most MAIL_ADDRESS_MAX_BYTES.
 */
int mail_address_valid(const char *address);

/**
 * Builds the RFC 5322 message for m into out (CRLF line ends, no line over 998
 * bytes): Date, From, To, Subject (RFC 2047 encoded when not plain ASCII),
 * Message-ID, MIME-Version, then a quoted-printable UTF-8 text body, or a
 * multipart/alternative of text and HTML when m->html is set, inside a
 * multipart/mixed with the attachment when there is one. out is
 * initialised here; on success the caller frees it with buf_free. Returns 0,
 * or a negative enum mail_rc (out already freed) when a field is unusable (the
 * same checks as mail_queue) or the message would pass MAIL_MESSAGE_MAX_BYTES.
 */
int mail_build(const struct mail_message *m, struct buf *out) __attribute__((warn_unused_result));

/**
 * Finds the address inside a From value such as "Shoal <shoal@example.org>"
 * (or a bare address) and copies it to out. Returns 0, or MAIL_ERR_FROM.
 */
int mail_from_address(const char *from, char *out, size_t outlen)
    __attribute__((warn_unused_result));

/** `shoal mail test`: queues a test message and delivers due mail (mail_cli.c). */
int cmd_mail_test(struct cli *cli);
/** The options of `shoal mail test`, ending with {0}. */
extern const struct cli_option mail_test_options[];

#endif
