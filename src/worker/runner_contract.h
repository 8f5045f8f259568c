/* The runner that runs normalisers through the contract in the sandbox
 * (runner_contract.c). cfg must outlive the runner. */
#ifndef WH_WORKER_RUNNER_CONTRACT_H
#define WH_WORKER_RUNNER_CONTRACT_H

#include "worker/runner.h"

#include <whiskers/worker.h>

int wh_runner_contract_init(struct wh_runner *r, const struct wh_worker_config *cfg,
                            struct wh_err *err);
void wh_runner_contract_clear(struct wh_runner *r);

#endif
