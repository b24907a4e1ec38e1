/* fuzz_config.c — configuration files (src/core/config.c: INI through inih, then
 * Shoal's own checks of each value). The first line of the input is also tried
 * as a --flag: "name=value". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every text setting stays a NUL-terminated string within its field. */
static void check(const struct config *c)
{
	const char *fields[] = {c->db,        c->listen,   c->base_url,        c->smtp_url,
	                        c->mail_from, c->mail_dir, c->trusted_proxies, c->metrics_from};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (!memchr(fields[i], '\0', LIMIT_CONFIG_VALUE_BYTES))
			abort();
	char host[256];
	unsigned port = 0;
	if (config_listen_parts(c, host, sizeof host, &port) == 0 && port > 65535)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct config c;
	char err[512];
	config_defaults(&c);
	err[0] = '\0';
	if (config_load_string(&c, text, "fuzz.ini", err, sizeof err) && !err[0])
		abort(); /* a refusal always says why */
	check(&c);

	char *eq = strchr(text, '=');
	char *nl = strchr(text, '\n');
	if (eq && (!nl || eq < nl)) {
		*eq = '\0';
		if (nl)
			*nl = '\0';
		config_defaults(&c);
		err[0] = '\0';
		if (config_set(&c, text, eq + 1, "--flag", err, sizeof err) < 0 && !err[0])
			abort();
		check(&c);
	}
	free(text);
	return 0;
}
