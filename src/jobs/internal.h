/* Internals of the jobs module, shared between its files. */
#ifndef WH_JOBS_INTERNAL_H
#define WH_JOBS_INTERNAL_H

#include <jansson.h>
#include <whiskers/error.h>

/* normalisers.c: dir/normalizer.json parsed, only as far as routing needs
 * ("id", "consumes"); the contract checks the whole file when it loads
 * one. NULL with err set. */
json_t *jobs_normaliser_json(const char *dir, struct wh_err *err);

#endif
