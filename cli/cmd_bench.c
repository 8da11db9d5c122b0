#include <stdio.h>

#include "cli/cli.h"

/* placeholder until its issue lands */
int cmd_bench(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("bench", "not implemented yet");
	return VMS_EXIT_FAIL;
}
