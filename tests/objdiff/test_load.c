/* test_load: loads BPF objects into the running kernel with vms_bpf_load_object() and
 * turns the verdict into a ctest result.
 *
 *   test_load OBJ...                      every object must be accepted
 *   test_load --expect-reject MSG OBJ     the verifier must reject it, saying MSG
 *
 * Exit 0 pass, 1 fail, 77 skip: the machine refused to load (no privilege, no BPF, a
 * program type this kernel does not allow here); the reason is printed, so a skip is
 * never silent.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfobj/bpfobj.h"
#include "tests/testutil.h"

static const char *result_name(enum vms_load_result r)
{
	switch (r) {
	case VMS_LOAD_OK: return "accepted";
	case VMS_LOAD_REJECTED: return "rejected";
	case VMS_LOAD_REFUSED: return "refused by this machine";
	default: return "unreadable";
	}
}

/* The last line of the log is the loader's one-line summary. */
static void print_reason(const char *log)
{
	const char *end = log + strlen(log), *start;

	while (end > log && end[-1] == '\n')
		end--;
	for (start = end; start > log && start[-1] != '\n'; start--)
		;
	printf("reason: %.*s\n", (int)(end - start), start);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "expect-reject", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *expect_msg = NULL;
	int c, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0); /* the verdicts in order with the FAILs on stderr */

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			expect_msg = optarg;
			break;
		case 'h':
			printf("usage: test_load [--expect-reject MSG] OBJ...\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: test_load [--expect-reject MSG] OBJ...\n");
		return 2;
	}

	for (int i = optind; i < argc; i++) {
		char *log = NULL;
		enum vms_load_result r = vms_bpf_load_object(argv[i], &log);

		printf("%s: %s\n", argv[i], result_name(r));
		if (r == VMS_LOAD_REFUSED) {
			print_reason(log);
			skipped++;
		} else if (expect_msg) {
			if (r != VMS_LOAD_REJECTED)
				FAIL("%s: expected the verifier to reject it\n%s", argv[i], log);
			else if (!strstr(log, expect_msg))
				FAIL("%s: rejected, but the log does not say '%s'\n%s", argv[i],
				     expect_msg, log);
			else
				printf("rejected as expected ('%s')\n", expect_msg);
		} else if (r != VMS_LOAD_OK) {
			FAIL("%s: %s\n%s", argv[i], result_name(r), log);
		}
		free(log);
	}
	if (skipped && !failures)
		return test_skip("%d of %d objects refused by this machine", skipped, argc - optind);
	return test_exit();
}
