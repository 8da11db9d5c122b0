#include <stdio.h>

#include "cli/cli.h"

/* placeholder until its issue lands */
int cmd_pch(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("pch", "not implemented yet");
	return VMS_EXIT_FAIL;
}
