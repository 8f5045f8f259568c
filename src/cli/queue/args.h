/* Option parsing shared by the whiskers-queue commands: a table of long
 * options per command, and the store URL every command takes.
 *
 *   --db URL   the job store; default $WHISKERS_DB, else whiskers.db (SQLite
 *              in the current directory) */
#ifndef WH_CLI_QUEUE_ARGS_H
#define WH_CLI_QUEUE_ARGS_H

#include "base/size.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/worker.h>

enum opt_kind { OPT_FLAG, OPT_STR, OPT_U32, OPT_INT };

struct opt {
        const char *name; /* "--db" */
        enum opt_kind kind;
        void *dst;    /* bool *, const char **, uint32_t *, int * */
        uint32_t max; /* OPT_U32: the largest value allowed */
};

static inline const char *db_url_default(void)
{
        const char *url = getenv("WHISKERS_DB");
        return url && *url ? url : "whiskers.db";
}

/* The package options submit and worker share (worker.h, struct
 * wh_package_source); defaults from $WHISKERS_STORE and $WHISKERS_TRUST. */
static inline void package_source_defaults(struct wh_package_source *p)
{
        const char *store = getenv("WHISKERS_STORE"), *trust = getenv("WHISKERS_TRUST");
        p->store = store && *store ? store : NULL;
        p->trust_dir = trust && *trust ? trust : NULL;
}
/* clang-format off */
#define PACKAGE_SOURCE_OPTS(p) \
        {"--store", OPT_STR, &(p).store, 0}, \
        {"--trust", OPT_STR, &(p).trust_dir, 0}, \
        {"--allow-unsigned", OPT_FLAG, &(p).allow_unsigned, 0}, \
        {"--cache", OPT_STR, &(p).cache_dir, 0}
#define PACKAGE_SOURCE_HELP \
        "  --store LAYOUT        an OCI layout of packages: a REF without '/' names a\n" \
        "                        package there first (a tag, an id, a digest); default\n" \
        "                        $WHISKERS_STORE. With a store, --mime routes to its packages\n" \
        "  --trust DIR           trusted public keys (default $WHISKERS_TRUST): a package\n" \
        "                        runs only with a valid signature by one of them\n" \
        "  --allow-unsigned      run unsigned packages (development only)\n" \
        "  --cache DIR           where packages are unpacked (default $WHISKERS_CACHE,\n" \
        "                        /var/cache/whiskers for root, else ~/.cache/whiskers)\n"
/* clang-format on */

static inline int opt_value(const char *cmd, const struct opt *o, const char *v)
{
        struct wh_err err;
        uint64_t n;
        switch (o->kind) {
        case OPT_STR:
                *(const char **)o->dst = v;
                return 0;
        case OPT_U32:
                if (wh_parse_u64(v, &n, &err) < 0 || n > o->max) {
                        fprintf(stderr, "whiskers %s: %s wants a number from 0 to %u, not '%s'\n",
                                cmd, o->name, o->max, v);
                        return -1;
                }
                *(uint32_t *)o->dst = (uint32_t)n;
                return 0;
        case OPT_INT: {
                char *end;
                long x = strtol(v, &end, 10);
                if (!*v || *end || x < -32768 || x > 32767) {
                        fprintf(stderr, "whiskers %s: %s wants a number from -32768 to 32767\n",
                                cmd, o->name);
                        return -1;
                }
                *(int *)o->dst = (int)x;
                return 0;
        }
        case OPT_FLAG:
                break;
        }
        return -1;
}

/* argv[0] is the command. Positional arguments go to pos (at most maxpos).
 * Returns 0, 1 for --help, or -1 after printing what is wrong. */
static inline int parse_opts(int argc, char **argv, const struct opt *opts, const char **pos,
                             size_t maxpos, size_t *npos)
{
        const char *cmd = argv[0];
        *npos = 0;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
                        return 1;
                if (a[0] != '-' || a[1] == '\0') {
                        if (*npos == maxpos) {
                                fprintf(stderr, "whiskers %s: unexpected argument '%s'\n", cmd, a);
                                return -1;
                        }
                        pos[(*npos)++] = a;
                        continue;
                }
                const struct opt *o = opts;
                while (o->name && strcmp(o->name, a) != 0)
                        o++;
                if (!o->name) {
                        fprintf(stderr,
                                "whiskers %s: unknown option '%s'; see 'whiskers %s --help'\n", cmd,
                                a, cmd);
                        return -1;
                }
                if (o->kind == OPT_FLAG) {
                        *(bool *)o->dst = true;
                        continue;
                }
                if (i + 1 == argc) {
                        fprintf(stderr, "whiskers %s: %s needs a value\n", cmd, a);
                        return -1;
                }
                if (opt_value(cmd, o, argv[++i]) < 0)
                        return -1;
        }
        return 0;
}

#endif
