/*
 * cli.c — what a command reads of its own options (see cli.h).
 */
#include "core/cli.h"

#include <string.h>

const char *cli_get(const struct cli *cli, const char *name)
{
	for (int i = 0; i < cli->n_options; i++)
		if (!strcmp(cli->names[i], name))
			return cli->values[i];
	return NULL;
}
