/* vmslim-tcc-helper: the snapshot process of the fast checker (see helper.c). Started
 * by the library with its socket to the caller as a descriptor number and the caller's
 * pid; not meant to be run by hand. */
#include <stdio.h>
#include <stdlib.h>

#include "tccarena/internal.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "vmslim-tcc-helper: started by vmslim check/serve, not by hand\n");
		return 2;
	}
	return vms_tcc_helper_run(atoi(argv[1]), (pid_t)atoi(argv[2]));
}
