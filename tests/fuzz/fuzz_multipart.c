/* fuzz_multipart.c — multipart/form-data bodies (src/http/multipart.c) and what
 * attachments.c does with their files: the name cleaned (attach_clean_name) and
 * the content sniffed (attach_sniff, including the zip central directory walk).
 * The input's first line is the Content-Type header; the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/discussions/attachments.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	size_t type_len = (size_t)(nl - data);
	char *type = malloc(type_len + 1);
	/* The body in its own allocation, so ASan sees any read past its end. */
	size_t body_len = size - type_len - 1;
	char *body = malloc(body_len ? body_len : 1);
	struct multipart *m = malloc(sizeof *m);
	if (!type || !body || !m)
		abort();
	memcpy(type, data, type_len);
	type[type_len] = '\0';
	memcpy(body, nl + 1, body_len);
	char err[160];
	if (multipart_parse(m, type, body, body_len, err, sizeof err) == 0) {
		if (m->n > MULTIPART_MAX_PARTS)
			abort();
		for (int i = 0; i < m->n; i++) {
			const struct multipart_part *p = &m->parts[i];
			/* Every part lies inside the body, and has a name. */
			if (p->data < body || p->data + p->len > body + body_len || !p->name[0])
				abort();
			if (!p->is_file)
				continue;
			char name[ATTACH_NAME_BYTES + 1], problem[400];
			if (attach_clean_name(p->filename, name, sizeof name, problem,
			                      sizeof problem))
				continue;
			if (strchr(name, '/') || strchr(name, '\\') ||
			    strlen(name) > ATTACH_NAME_BYTES)
				abort();
			enum attach_type t = attach_sniff((const unsigned char *)p->data, p->len,
			                                  name, problem, sizeof problem);
			if (t != ATTACH_NONE && !attach_type_code(t)[0])
				abort();
		}
		struct form f = {0};
		if (multipart_form(m, &f) == 0)
			for (int i = 0; i < f.n; i++)
				if (!utf8_valid(f.values[i], strlen(f.values[i])))
					abort();
		form_free(&f);
	}
	free(m);
	free(body);
	free(type);
	return 0;
}
