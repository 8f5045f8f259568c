/* Warm mode for a loaded normaliser (docs/warm.md): the zygote is the cold
 * run's program itself (the Python shim, or an exec normaliser that
 * declared "warm": "fork" or "persistent") with WHISKERS_WARM=fork (or
 * =persistent: its children serve inputs in a loop) added to the cold
 * environment; it removes that variable before the normaliser's code sees
 * it. Everything else of a run (staging, checks, results, provenance) is
 * run.c's, so a warm result equals a cold one but for the status record's
 * mode and timings. */
#include "contract/internal.h"

#include <errno.h>
#include <string.h>

bool wh_normaliser_can_warm(const struct wh_normaliser *n)
{
        return n->interpreter != NULL || n->manifest.warm != NULL;
}

bool wh_normaliser_can_persist(const struct wh_normaliser *n)
{
        return n->manifest.warm && !strcmp(n->manifest.warm, "persistent");
}

int wh_normaliser_warm(struct wh_normaliser *n, enum wh_isolation iso, struct wh_err *err)
{
        if (n->warm)
                return 0;
        if (iso == WH_ISOLATION_PERSISTENT && !wh_normaliser_can_persist(n))
                return wh_err_set(err, EINVAL, "warm",
                                  "%s cannot run with persistent isolation: one process would "
                                  "serve several inputs and keep state between them, which its "
                                  "normalizer.json must allow with \"warm\": \"persistent\" "
                                  "(it says %s%s%s); run it with --isolation fork (docs/warm.md)",
                                  n->manifest.id, n->manifest.warm ? "\"" : "",
                                  n->manifest.warm ? n->manifest.warm : "nothing",
                                  n->manifest.warm ? "\"" : "");
        if (!wh_normaliser_can_warm(n))
                return wh_err_set(err, EINVAL, "warm",
                                  "%s cannot run warm: an exec normaliser must speak the warm "
                                  "protocol and say so with \"warm\": \"fork\" in normalizer.json "
                                  "(docs/warm.md)",
                                  n->manifest.id);
        _Static_assert(RUN_N_ENV + 2 <= sizeof(n->warm_envp) / sizeof(n->warm_envp[0]),
                       "room for WHISKERS_WARM and the NULL");
        memcpy(n->warm_envp, run_base_env, sizeof(run_base_env));
        bool persist = iso == WH_ISOLATION_PERSISTENT;
        n->warm_envp[RUN_N_ENV] = persist ? "WHISKERS_WARM=persistent" : "WHISKERS_WARM=fork";
        n->warm_envp[RUN_N_ENV + 1] = NULL;
        n->warm_zygote = (struct wh_run_spec){.argv = n->argv,
                                              .envp = n->warm_envp,
                                              .cwd = WH_SANDBOX_NORMALISER_DIR,
                                              .stdin_fd = -1,
                                              .stdout_fd = -1,
                                              .stderr_fd = -1,
                                              .limits = n->limits.run};
        if (wh_warm_new(n->sandbox, &n->warm_zygote, 0, &n->warm, err) < 0)
                return -1;
        wh_warm_persistent(n->warm, persist ? n->manifest.max_inputs : 0);
        return 0;
}

uint64_t wh_normaliser_warm_rss(const struct wh_normaliser *n)
{
        return n->warm ? wh_warm_rss(n->warm) : 0;
}

int run_warm_or_cold(struct wh_normaliser *n, const struct wh_run_spec *spec, bool pinned_clock,
                     struct wh_report *report, struct wh_contract_errors *warnings,
                     struct wh_err *err)
{
        if (!n->warm || pinned_clock)
                return wh_sandbox_run(n->sandbox, spec, report, err);
        if (!wh_warm_given_up(n->warm)) {
                if (wh_warm_run(n->warm, spec, report, err) < 0)
                        return -1;
                /* ordinal 0: no input was handed over, so running it cold is safe. */
                if (report->ordinal > 0)
                        return 0;
        }
        cerr_add(warnings, "warm_unavailable", 0, NULL, 0,
                 "ran cold: the warm sandbox is unavailable: %s", wh_warm_last_error(n->warm));
        return wh_sandbox_run(n->sandbox, spec, report, err);
}
