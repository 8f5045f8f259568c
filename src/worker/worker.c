/* wh_worker_run(): the worker loop with the contract runner. */
#include "worker/core.h"
#include "worker/runner_contract.h"

#include <whiskers/worker.h>

int wh_worker_run(const struct wh_worker_config *cfg, const volatile sig_atomic_t *stop,
                  struct wh_worker_summary *summary, struct wh_err *err)
{
        struct wh_worker_config c = *cfg;
        if (!c.normalisers_dir)
                c.normalisers_dir = wh_normalisers_dir_default();
        struct wh_runner runner;
        if (wh_runner_contract_init(&runner, &c, err) < 0)
                return -1;
        int rc = wh_worker_run_with(&c, &runner, stop, summary, err);
        wh_runner_contract_clear(&runner);
        return rc;
}
