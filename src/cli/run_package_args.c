/* The package options of `whiskers run`, parsed the same in every binary
 * (run_package.h). */
#include "cli/run_package.h"

#include <stdlib.h>
#include <sys/stat.h>

static const char *env(const char *name)
{
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

void run_package_defaults(struct run_package_args *p)
{
        p->store = env("WHISKERS_STORE");
        p->trust = env("WHISKERS_TRUST");
}

int run_package_option(struct run_package_args *p, int opt, const char *arg)
{
        switch (opt) {
        case RUN_PACKAGE_OPT:
                p->store = arg;
                return 0;
        case RUN_PACKAGE_OPT_TRUST:
                p->trust = arg;
                return 0;
        case RUN_PACKAGE_OPT_VARIANT:
                p->variant = arg;
                return 0;
        case RUN_PACKAGE_OPT_CACHE:
                p->cache = arg;
                return 0;
        case RUN_PACKAGE_OPT_UNSIGNED:
                p->allow_unsigned = true;
                return 0;
        }
        return -1;
}

bool run_package_wanted(const struct run_package_args *p, const char *normaliser)
{
        struct stat st;
        return p->store && !(stat(normaliser, &st) == 0 && S_ISDIR(st.st_mode));
}
