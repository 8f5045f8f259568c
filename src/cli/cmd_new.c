/* whiskers new: scaffold a working normaliser (docs/contract.md
 * "Writing a normaliser"). */
#include "cli/commands.h"
#include "cli/exit_codes.h"

#include <stdio.h>
#include <string.h>
#include <whiskers/contract.h>

static int cmd_new(void *args, int argc, char **argv)
{
        (void)args, (void)argc;
        const char *name = argv[0];
        struct wh_err err = {0};
        if (wh_normaliser_scaffold(name, &err) < 0) {
                fprintf(stderr, "whiskers new: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        printf("created %s: normalizer.json, normalize.py, schemas/Hostname.json, "
               "fixtures/basic/\nnext: whiskers test %s\n",
               name, name);
        return WH_EXIT_OK;
}

const struct cli_command cmd_new_cli = {
    .name = "new",
    .head =
        "Usage: whiskers new NAME\n"
        "\n"
        "Create the directory NAME holding a working Python normaliser whose id is NAME's last\n"
        "component: normalizer.json, normalize.py (hostnames, one per line, to Hostname\n"
        "objects), schemas/Hostname.json and a fixture in fixtures/basic/. Then:\n"
        "  whiskers test NAME\n"
        "  whiskers run NAME RAWFILE --input-ooi 'Hostname|internet|example.org'\n"
        "\n",
    .tail = "\nExit status: 0 created; 2 usage error, NAME exists or is not a valid id.\n",
    .options = (const struct cli_option[]){{0}},
    .min_args = 1,
    .max_args = 1,
    .args = "the NAME of the new normaliser",
    .run = cmd_new,
};
