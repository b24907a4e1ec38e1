/*
 * attachments.h — files attached to discussion posts (docs/discussions.md, "Attachments").
 *
 * The new-thread and reply forms post multipart/form-data with files in the
 * field "attachments". Each file is checked by its content (attach_sniff):
 * PDF, PNG, JPEG, Word, Excel and PowerPoint (OOXML and the older OLE2 files),
 * and its name's extension must agree with what it is; anything else (a
 * renamed program, a script) is refused with a message on the field. Files
 * are stored in the database (table attachments) in the post's transaction,
 * with the type found (never the browser's), size and SHA-256, and served by
 * discussions_attachment only to those who may see the post.
 */
#ifndef SHOAL_APP_DISCUSSIONS_ATTACHMENTS_H
#define SHOAL_APP_DISCUSSIONS_ATTACHMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/page.h"
#include "db/db.h"
#include "http/http.h"

#define ATTACH_MAX_FILES  5            /* files on one post */
#define ATTACH_MAX_BYTES  (20u << 20)  /* 20 MB: one file, and all of one post's files together */
#define ATTACH_FORM_BYTES (512u << 10) /* the rest of the form: title, message, boundaries */
#define ATTACH_BODY_BYTES (ATTACH_MAX_BYTES + ATTACH_FORM_BYTES) /* the routes' body limit */
#define ATTACH_NAME_BYTES 150 /* a file's name once its path is taken off */
#define ATTACH_TOO_LARGE                                                                           \
	"The file is larger than 20 MB. Attach files of up to 20 MB in total to one post; "        \
	"nothing "                                                                                 \
	"was saved."

enum attach_type {
	ATTACH_NONE,
	ATTACH_PDF,
	ATTACH_PNG,
	ATTACH_JPEG,
	ATTACH_DOCX,
	ATTACH_XLSX,
	ATTACH_PPTX,
	ATTACH_DOC,
	ATTACH_XLS,
	ATTACH_PPT,
};

/** What a type is called: in the database ("pdf"), as a MIME type, and to people ("PDF"). */
const char *attach_type_code(enum attach_type t);
const char *attach_type_mime(enum attach_type t);
const char *attach_type_word(enum attach_type t);
/** The type stored as code, or ATTACH_NONE. */
enum attach_type attach_type_from_code(const char *code);

/**
 * What data[0..n) is, judged by its content, given the file's name: its type,
 * or ATTACH_NONE with a sentence for the person in problem (naming the file).
 * The name's extension must be one of the type's (".docx" for a Word document…).
 */
enum attach_type attach_sniff(const unsigned char *data, size_t n, const char *filename,
                              char *problem, size_t len);
/**
 * The name to keep for a file sent as sent: without any path (up to the last '/'
 * or '\'), control characters taken out, spaces trimmed. Returns 0, or -1 (with
 * a sentence in problem) when nothing is left, it is not UTF-8, or it is longer
 * than ATTACH_NAME_BYTES.
 */
int attach_clean_name(const char *sent, char *out, size_t outlen, char *problem, size_t len);
/** Sizes as people read them: "512 bytes", "12 KB", "1.2 MB". */
void attach_format_size(int64_t bytes, char *out, size_t len);

struct attach_file {
	char name[ATTACH_NAME_BYTES + 1];
	enum attach_type type;
	const unsigned char *data; /* into the request body */
	size_t len;
};

struct attach_set {
	int n;
	struct attach_file files[ATTACH_MAX_FILES];
	char problem[ATTACH_NAME_BYTES + 200]; /* the message on the field, when one failed */
	bool too_large;                        /* the problem is the 20 MB limit: status 413 */
};

/**
 * Reads and checks the files of the request's "attachments" field (none for a
 * form sent urlencoded, or with no file chosen). Returns 0, or -1 with the
 * message in set->problem (also added to errors for the field "attachments").
 */
int attach_collect(const struct http_request *req, struct attach_set *set,
                   struct form_errors *errors);
/**
 * Stores set's files on post_id of thread_id, and adds them to the thread's count of
 * files, inside the caller's transaction. 0 or < 0.
 */
int attach_store(struct db_conn *c, int64_t thread_id, int64_t post_id,
                 const struct attach_set *set, int64_t now) __attribute__((warn_unused_result));

/** One file as a post shows it. */
struct attach_row {
	int64_t id, post_id;
	char name[ATTACH_NAME_BYTES + 1];
	char url[3 * ATTACH_NAME_BYTES + 48]; /* /discussions/attachments/{id}/{name, encoded} */
	const char *word;                     /* "PDF", "Word document", … */
	char size[24];
};

/**
 * Loads the attachments of the posts whose ids lie between first_post and
 * last_post in thread_id, in order; *rows (free) and *n receive them. Deleted and
 * hidden posts' files too: the caller has those posts and must leave their files out.
 */
int attach_list(struct db_conn *c, int64_t thread_id, int64_t first_post, int64_t last_post,
                struct attach_row **rows, size_t *n) __attribute__((warn_unused_result));

/** GET /discussions/attachments/{id}/{name}: the file, to those who may see its post. */
void discussions_attachment(struct http_request *req, struct http_response *res);

#endif
