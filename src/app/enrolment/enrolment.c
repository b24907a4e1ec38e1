/*
 * enrolment.c — the pieces invitations, requests to join and password resets
 * share (see enrolment.h).
 */
#include "app/enrolment/enrolment.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "auth/audit.h"
#include "auth/crypto.h"
#include "auth/password.h"
#include "core/log.h"
#include "http/form.h"
#include "templates.h"

void enrolment_render_message(struct http_request *req, struct http_response *res, unsigned status,
                              const struct enrolment_message *m)
{
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_invite_message(&main, m);
	res->status = status;
	page_render(req, res, m->title ? m->title : m->heading, main.data);
	buf_free(&main);
}

int enrolment_check_password(const char *password, const char *confirm,
                             struct enrolment_password_fields *pw, struct form_errors *errors)
{
	if (!password || !*password)
		pw->password_error = "Enter a password";
	else
		pw->password_error = password_problem(password);
	if (!confirm || !*confirm)
		pw->confirm_error = "Enter the password again";
	else if (password && *password && strcmp(password, confirm))
		pw->confirm_error = "The passwords do not match: enter the same password twice";
	if (pw->password_error)
		form_error_add(errors, "password", pw->password_error);
	if (pw->confirm_error)
		form_error_add(errors, "confirm-password", pw->confirm_error);
	return !!pw->password_error + !!pw->confirm_error;
}

int enrolment_audit(struct db_conn *c, const struct http_request *req, int64_t actor_id,
                    const char *actor, const char *action, const char *subject_kind,
                    int64_t subject_id, const char *detail)
{
	char subject[64] = "";
	if (subject_kind)
		snprintf(subject, sizeof subject, "%s:%lld", subject_kind, (long long)subject_id);
	struct audit_entry e = {actor_id, actor, action, subject, detail, req->address};
	int rc = audit_record(c, &e);
	if (rc)
		log_error("request %s: cannot write the audit trail: %s", req->id, db_errmsg(c));
	return rc;
}

int enrolment_link(const struct http_request *req, const char *path, const char *token,
                   char out[ENROLMENT_LINK_BYTES])
{
	const struct app *app = req->app;
	const char *base = app->config->base_url;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	int len =
	    snprintf(out, ENROLMENT_LINK_BYTES, "%.*s%s%s", (int)n, base, path, token ? token : "");
	return len < 0 || len >= ENROLMENT_LINK_BYTES ? -1 : 0;
}

bool enrolment_token_plausible(const char *token)
{
	if (!token || strlen(token) != AUTH_TOKEN_CHARS)
		return false;
	for (const char *p = token; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

const char *enrolment_name_problem(const char *name, const char *if_empty)
{
	const char *p = name ? name : "";
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return if_empty;
	if (strlen(name) > LIMIT_NAME_BYTES)
		return "Name must be 200 characters or fewer";
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "Name must not contain tabs, new lines or other control characters";
	return NULL;
}

void enrolment_trim(const char *s, char *out, size_t outlen)
{
	if (!s)
		s = "";
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	snprintf(out, outlen, "%.*s", (int)n, s);
}

int enrolment_leads(struct db_conn *c, int64_t person_id, int64_t organisation_id)
{
	struct db_stmt *st = db_prepare(c, "SELECT 1 FROM memberships WHERE person_id = $1 AND "
	                                   "organisation_id = $2 AND lead = 1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_int(st, 2, organisation_id);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

int enrolment_allowed_domains(struct db_conn *c, char out[ENROLMENT_DOMAINS_BYTES + 1])
{
	out[0] = '\0';
	struct db_stmt *st =
	    db_prepare(c, "SELECT value FROM settings WHERE key = 'allowed_domains'");
	if (!st)
		return DB_ERR;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *v = db_col_text(st, 0);
		snprintf(out, ENROLMENT_DOMAINS_BYTES + 1, "%s", v ? v : "");
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

bool enrolment_domain_allowed(const char *domains, const char *email)
{
	const char *at = strrchr(email, '@');
	if (!at || !domains)
		return false;
	const char *domain = at + 1;
	size_t dlen = strlen(domain);
	for (const char *d = domains; *d;) {
		size_t n = strcspn(d, ",");
		/* Equal, or ends with "." + d. */
		if (n &&
		    ((dlen == n && !memcmp(domain, d, n)) ||
		     (dlen > n && domain[dlen - n - 1] == '.' && !memcmp(domain + dlen - n, d, n))))
			return true;
		d += n;
		if (*d == ',')
			d++;
	}
	return false;
}

/* Whether d (lower-case, length n) is a domain name: dot-separated labels of
 * letters, digits and inner hyphens, at least two, the last not all digits. */
static bool domain_valid(const char *d, size_t n)
{
	if (n == 0 || n > ENROLMENT_DOMAIN_BYTES)
		return false;
	int labels = 0;
	size_t start = 0;
	bool all_digits = true;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			size_t len = i - start;
			if (len == 0 || len > 63 || d[start] == '-' || d[i - 1] == '-')
				return false;
			labels++;
			all_digits = true;
			for (size_t j = start; j < i; j++)
				all_digits = all_digits && isdigit((unsigned char)d[j]);
			start = i + 1;
			continue;
		}
		if (!islower((unsigned char)d[i]) && !isdigit((unsigned char)d[i]) && d[i] != '-')
			return false;
	}
	return labels >= 2 && !all_digits;
}

int enrolment_parse_domains(const char *in, char out[ENROLMENT_DOMAINS_BYTES + 1], char *problem,
                            size_t problemlen)
{
	size_t used = 0;
	int count = 0;
	out[0] = '\0';
	const char *p = in ? in : "";
	for (;;) {
		p += strspn(p, ", \t\r\n");
		if (!*p)
			break;
		size_t n = strcspn(p, ", \t\r\n");
		char d[ENROLMENT_DOMAIN_BYTES + 2];
		const char *word = p;
		p += n;
		if (*word == '@')
			word++, n--;
		if (n > ENROLMENT_DOMAIN_BYTES) {
			snprintf(problem, problemlen,
			         "Each domain must be 253 characters or fewer, like nhs.net");
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			d[i] = (char)tolower((unsigned char)word[i]);
		d[n] = '\0';
		if (!domain_valid(d, n)) {
			/* Name the word only when it is printable ASCII, so the message stays
			 * readable; the form keeps what was typed anyway. */
			bool printable = n <= 60;
			for (size_t i = 0; printable && i < n; i++)
				printable = word[i] > 0x20 && word[i] < 0x7f;
			if (printable)
				snprintf(problem, problemlen,
				         "\"%s\" is not a domain: enter domains like nhs.net, "
				         "separated by commas",
				         d);
			else
				snprintf(problem, problemlen,
				         "Enter domains like nhs.net, separated by commas");
			return -1;
		}
		/* Drop duplicates. */
		bool seen = false;
		for (const char *q = out; *q && !seen;) {
			size_t m = strcspn(q, ",");
			seen = m == n && !memcmp(q, d, n);
			q += m + (q[m] == ',');
		}
		if (seen)
			continue;
		if (++count > ENROLMENT_MAX_DOMAINS) {
			snprintf(problem, problemlen, "Enter %d domains or fewer",
			         ENROLMENT_MAX_DOMAINS);
			return -1;
		}
		used += (size_t)snprintf(out + used, ENROLMENT_DOMAINS_BYTES + 1 - used, "%s%s",
		                         used ? "," : "", d);
	}
	return 0;
}

void enrolment_domains_phrase(const char *domains, char *out, size_t outlen)
{
	size_t used = 0, total = 0;
	out[0] = '\0';
	for (const char *d = domains; *d; d += strcspn(d, ","), d += *d == ',')
		total++;
	size_t i = 0;
	for (const char *d = domains; *d && used < outlen; i++) {
		size_t n = strcspn(d, ",");
		const char *sep = i == 0 ? "" : i + 1 == total ? " or " : ", ";
		int w = snprintf(out + used, outlen - used, "%s@%.*s", sep, (int)n, d);
		if (w < 0 || (size_t)w >= outlen - used) {
			out[used] = '\0';
			break;
		}
		used += (size_t)w;
		d += n;
		if (*d == ',')
			d++;
	}
}
