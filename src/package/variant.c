/* Reading a package's variants and choosing one (rule in package.h and
 * docs/packages.md). The rule prefers the most specific build the host can
 * run, and says which step decided so `whiskers inspect` can explain it. */
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/package.h>

static int level_of(const struct wh_variant *v)
{
        if (!v->arch[0])
                return 0;
        if (v->arch_variant[0] == 'v')
                return atoi(v->arch_variant + 1);
        return 1;
}

/* python3.N ranks N + 1; "python3" and "exec" rank 0. */
static int runtime_rank(const char *rt)
{
        return strncmp(rt, "python3.", 8) == 0 ? atoi(rt + 8) + 1 : 0;
}

static bool host_has_runtime(const struct wh_host *h, const char *rt)
{
        for (size_t i = 0; i < h->nruntimes; i++)
                if (strcmp(h->runtimes[i], rt) == 0)
                        return true;
        return false;
}

static void check_runnable(struct wh_variant_option *o, const struct wh_host *h)
{
        const struct wh_variant *v = &o->variant;
        o->runnable = false;
        if (v->os[0] && strcmp(v->os, h->os) != 0)
                snprintf(o->why, sizeof(o->why), "needs os %s, host is %s", v->os, h->os);
        else if (v->arch[0] && strcmp(v->arch, h->arch) != 0)
                snprintf(o->why, sizeof(o->why), "needs architecture %s, host is %s", v->arch,
                         h->arch);
        else if (v->arch[0] && strcmp(v->arch, "amd64") == 0 && level_of(v) > h->arch_level)
                snprintf(o->why, sizeof(o->why), "needs amd64 %s, host is v%d", v->arch_variant,
                         h->arch_level);
        else if (!v->runtime_image[0] && !host_has_runtime(h, v->runtime)) {
                int n = snprintf(o->why, sizeof(o->why), "needs runtime %s, host has", v->runtime);
                for (size_t i = 0; i < h->nruntimes && n > 0 && (size_t)n < sizeof(o->why); i++)
                        n +=
                            snprintf(o->why + n, sizeof(o->why) - (size_t)n, " %s", h->runtimes[i]);
        } else {
                o->runnable = true;
                o->why[0] = '\0';
        }
}

/* < 0 when a is preferred; *rule receives the deciding step (2..5). */
static int compare(const struct wh_variant *a, const struct wh_variant *b, int *rule)
{
        int d[4] = {
            level_of(b) - level_of(a),
            runtime_rank(b->runtime) - runtime_rank(a->runtime),
            (int)a->baseline - (int)b->baseline,
            strcmp(a->name, b->name),
        };
        int i = 0;
        while (i < 3 && d[i] == 0)
                i++;
        *rule = i + 2;
        return d[i];
}

static void explain(struct wh_variant_choice *c, ssize_t best, ssize_t second, int rule)
{
        const struct wh_variant *a = &c->options[best].variant;
        if (second < 0) {
                snprintf(c->reason, sizeof(c->reason), "the only variant this host can run");
                return;
        }
        const struct wh_variant *b = &c->options[second].variant;
        switch (rule) {
        case 2:
                snprintf(c->reason, sizeof(c->reason),
                         "rule 2: higher amd64 level (%d) than %s (%d)", level_of(a), b->name,
                         level_of(b));
                break;
        case 3:
                snprintf(c->reason, sizeof(c->reason), "rule 3: newer runtime %s than %s (%s)",
                         a->runtime, b->name, b->runtime);
                break;
        case 4:
                snprintf(c->reason, sizeof(c->reason),
                         "rule 4: a specific variant before the baseline %s", b->name);
                break;
        default:
                snprintf(c->reason, sizeof(c->reason), "rule 5: name sorts before %s", b->name);
        }
}

static int forced(struct wh_variant_choice *c, const char *force, struct wh_err *err)
{
        for (size_t i = 0; i < c->n; i++) {
                if (strcmp(c->options[i].variant.name, force) != 0)
                        continue;
                if (!c->options[i].runnable)
                        return wh_err_set(err, 0, "variant",
                                          "variant \"%s\" cannot run on this host: %s", force,
                                          c->options[i].why);
                c->chosen = (ssize_t)i;
                snprintf(c->reason, sizeof(c->reason), "rule 0: chosen by name");
                return 0;
        }
        return wh_err_set(err, 0, "variant", "the package has no variant \"%s\"", force);
}

int wh_variant_choose(struct wh_variant_choice *c, const struct wh_host *h, const char *force,
                      struct wh_err *err)
{
        c->chosen = -1;
        c->reason[0] = '\0';
        for (size_t i = 0; i < c->n; i++)
                check_runnable(&c->options[i], h);
        if (force)
                return forced(c, force, err);
        ssize_t best = -1, second = -1;
        int rule = 0;
        for (size_t i = 0; i < c->n; i++) {
                if (!c->options[i].runnable)
                        continue;
                int r = 0;
                if (best < 0 ||
                    compare(&c->options[i].variant, &c->options[best].variant, &r) < 0) {
                        second = best;
                        best = (ssize_t)i;
                } else if (second < 0 ||
                           compare(&c->options[i].variant, &c->options[second].variant, &r) < 0) {
                        second = (ssize_t)i;
                }
        }
        if (best < 0) {
                char all[768];
                size_t n = 0;
                all[0] = '\0';
                for (size_t i = 0; i < c->n && n < sizeof(all); i++) {
                        int w = snprintf(all + n, sizeof(all) - n, "%s%s: %s", i ? "; " : "",
                                         c->options[i].variant.name, c->options[i].why);
                        n += w > 0 ? (size_t)w : 0;
                }
                return wh_err_set(err, 0, "variant",
                                  "no variant of this package can run on this host (%s)", all);
        }
        if (second >= 0)
                compare(&c->options[best].variant, &c->options[second].variant, &rule);
        c->chosen = best;
        explain(c, best, second, rule);
        return 0;
}

void wh_variant_choice_clear(struct wh_variant_choice *c)
{
        free(c->options);
        *c = (struct wh_variant_choice){.chosen = -1};
}
