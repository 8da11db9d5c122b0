#include <stdio.h>

#include "cli/cli.h"

/* placeholder until its issue lands */
int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("serve", "not implemented yet");
	return VMS_EXIT_FAIL;
}
