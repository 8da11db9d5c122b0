#include <stdio.h>

#include "cli/cli.h"

/* placeholder until its issue lands */
int cmd_objdiff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("objdiff", "not implemented yet");
	return VMS_EXIT_FAIL;
}
