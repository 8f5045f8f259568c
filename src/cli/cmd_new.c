/* whiskers new: scaffold a working normaliser (docs/contract.md
 * "Writing a normaliser"). */
#include "cli/commands.h"
#include "cli/exit_codes.h"

#include <stdio.h>
#include <string.h>
#include <whiskers/contract.h>

static const char help[] =
    "Usage: whiskers new NAME\n"
    "\n"
    "Create the directory NAME holding a working Python normaliser whose id is NAME's last\n"
    "component: normalizer.json, normalize.py (hostnames, one per line, to Hostname\n"
    "objects), schemas/Hostname.json and a fixture in fixtures/basic/. Then:\n"
    "  whiskers test NAME\n"
    "  whiskers run NAME RAWFILE --input-ooi 'Hostname|internet|example.org'\n"
    "\n"
    "Exit status: 0 created; 2 usage error, NAME exists or is not a valid id.\n";

int cmd_new(int argc, char **argv)
{
        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                fputs(help, stdout);
                return WH_EXIT_OK;
        }
        if (argc != 2 || argv[1][0] == '-') {
                fprintf(stderr, "whiskers new: give the NAME of the new normaliser\n"
                                "Try 'whiskers new --help'.\n");
                return WH_EXIT_USAGE;
        }
        struct wh_err err = {0};
        if (wh_normaliser_scaffold(argv[1], &err) < 0) {
                fprintf(stderr, "whiskers new: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        printf("created %s: normalizer.json, normalize.py, schemas/Hostname.json, "
               "fixtures/basic/\nnext: whiskers test %s\n",
               argv[1], argv[1]);
        return WH_EXIT_OK;
}
