/* Boefje jobs in the worker (runner_boefje.c): run on a slot like a
 * normaliser job, but loaded per job and never warm (each run has its own
 * network namespace and allowlist), never reused, and completed with the
 * normaliser jobs their raw files make (wh_runner_result.follow_ups). */
#ifndef WH_WORKER_RUNNER_BOEFJE_H
#define WH_WORKER_RUNNER_BOEFJE_H

#include "worker/runner.h"
#include "worker/slot_io.h"

/* As wh_runner.run: < 0 only when not even a result could be made (then
 * retried). The raw files go into the store through the slot's handle. */
int wh_slot_boefje_run(struct slot *s, const struct wh_runner_input *in,
                       struct wh_runner_result *out, struct wh_err *err);

#endif
