#include <stdio.h>

#include "cli/cli.h"

/* placeholder until its issue lands */
int cmd_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("verify", "not implemented yet");
	return VMS_EXIT_FAIL;
}
