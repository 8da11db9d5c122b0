#include <stdio.h>

#include "cli/cli.h"

/* placeholder until its issue lands */
int cmd_extract(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("extract", "not implemented yet");
	return VMS_EXIT_FAIL;
}
