/* Boefje jobs in the job store (jobs.h): what `whiskers submit --boefje`
 * writes and the worker reads back. The job's kind is boefje, its reference
 * the boefje's id or absolute directory; its raw input is the input
 * object as OpenKAT serialises it (what run() receives); its meta holds
 * the network options and the job's own limits. Settings are never in the
 * job: the worker reads them from its own configuration (docs/boefjes.md
 * "In the worker"). */
#define _GNU_SOURCE
#include "base/cleanup.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/jobs.h>

/* The reference as stored: an id checked and kept (each worker looks it
 * up in its own directory), a path made absolute. */
static char *stored_ref(const struct wh_boefje_job *j, struct wh_err *err)
{
        cleanup_free char *path = NULL;
        struct wh_boefje_manifest m;
        if (wh_boefje_find(j->boefjes_dir, j->boefje, &path, err) < 0 ||
            wh_boefje_manifest_load(path, &m, err) < 0)
                return NULL;
        wh_boefje_manifest_clear(&m);
        char *ref = strchr(j->boefje, '/') ? steal_pointer(&path) : strdup(j->boefje);
        if (!ref)
                return wh_err_set(err, ENOMEM, "submit", "out of memory"), NULL;
        return ref;
}

/* The job's limits as its meta keeps them ("limits": {name: value}, only
 * those given), and the largest value each may have. */
#define LIMIT(field) #field, offsetof(struct wh_boefje_limits, field)
static const struct {
        const char *name;
        size_t offset;
        uint64_t max;
} limit_fields[] = {
    {LIMIT(wall_ms), INT64_MAX},       {LIMIT(memory_bytes), INT64_MAX},
    {LIMIT(output_bytes), INT64_MAX},  {LIMIT(net_max_conns), WH_BOEFJE_MAX_CONNS},
    {LIMIT(net_max_bytes), INT64_MAX}, {LIMIT(net_max_rate), INT64_MAX},
};
#define N_LIMITS (sizeof(limit_fields) / sizeof(limit_fields[0]))

static uint64_t limit_of(const struct wh_boefje_limits *l, size_t i)
{
        return *(const uint64_t *)((const char *)l + limit_fields[i].offset);
}

static int check_limits(const struct wh_boefje_limits *l, struct wh_err *err)
{
        for (size_t i = 0; i < N_LIMITS; i++)
                if (limit_of(l, i) > limit_fields[i].max)
                        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "submit",
                                           "the job's %s %llu: at most %llu", limit_fields[i].name,
                                           (unsigned long long)limit_of(l, i),
                                           (unsigned long long)limit_fields[i].max);
        return 0;
}

static json_t *limits_json(const struct wh_boefje_limits *l)
{
        json_t *o = json_object();
        for (size_t i = 0; o && i < N_LIMITS; i++)
                if (limit_of(l, i))
                        json_object_set_new(o, limit_fields[i].name,
                                            json_integer((json_int_t)limit_of(l, i)));
        return o;
}

static char *job_meta(const struct wh_boefje_job *j)
{
        json_t *allow = json_array();
        for (size_t i = 0; i < j->n_net_allow; i++)
                json_array_append_new(allow, json_string(j->net_allow[i]));
        json_t *meta = json_pack("{s:s, s:o, s:b}", "input_ooi", j->input_ooi, "net_allow", allow,
                                 "net_no_input", j->net_no_input);
        json_t *limits = limits_json(&j->limits);
        if (meta && json_object_size(limits)) /* none given: the meta as before */
                json_object_set(meta, "limits", limits);
        json_decref(limits);
        char *text = meta ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(meta);
        return text;
}

int wh_submit_boefje(struct wh_queue *q, const struct wh_boefje_job *j, int64_t *job_id, char **ref,
                     struct wh_err *err)
{
        *ref = NULL;
        if (!j->tenant || !*j->tenant)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "submit", "a tenant is required");
        if (!j->input_ooi)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "submit",
                                   "a boefje job needs its input object (--input-ooi)");
        if (check_limits(&j->limits, err) < 0)
                return -1;
        json_t *ooi = wh_boefje_input_ooi(j->input_ooi, err);
        cleanup_free char *input = ooi ? json_dumps(ooi, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(ooi);
        if (!input)
                return ooi ? wh_err_set(err, ENOMEM, "submit", "out of memory") : -1;
        cleanup_free char *stored = stored_ref(j, err);
        cleanup_free char *meta = stored ? job_meta(j) : NULL;
        if (!stored)
                return -1;
        if (!meta)
                return wh_err_set(err, ENOMEM, "submit", "out of memory");
        char digest[WH_DIGEST_BUF];
        if (wh_queue_put_raw(q, input, strlen(input), digest, NULL, err) < 0)
                return -1;
        struct wh_job_spec spec = {.kind = WH_JOB_BOEFJE,
                                   .tenant = j->tenant,
                                   .normaliser = stored,
                                   .raw_digest = digest,
                                   .meta_json = meta,
                                   .priority = j->priority,
                                   .max_attempts = j->max_attempts};
        if (wh_queue_submit(q, &spec, 1, job_id, err) < 0)
                return -1;
        *ref = steal_pointer(&stored);
        return 0;
}

void wh_boefje_job_args_clear(struct wh_boefje_job_args *a)
{
        json_decref(a->input_ooi);
        json_decref(a->meta);
        free(a->net_allow);
        *a = (struct wh_boefje_job_args){0};
}

static int bad_job(const char *what, struct wh_err *err)
{
        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "meta",
                           "not a boefje job whiskers submitted: %s", what);
}

/* "limits" of a job's meta: absent, or an object of the names above, each
 * a whole number from 1 to its maximum. */
static int read_limits(const json_t *o, struct wh_boefje_limits *out, struct wh_err *err)
{
        if (!o)
                return 0;
        if (!json_is_object(o))
                return bad_job("its \"limits\" is not an object", err);
        size_t known = 0;
        for (size_t i = 0; i < N_LIMITS; i++) {
                const json_t *v = json_object_get(o, limit_fields[i].name);
                if (!v)
                        continue;
                json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
                if (n < 1 || (uint64_t)n > limit_fields[i].max)
                        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "meta",
                                           "not a boefje job whiskers submitted: its limit %s is "
                                           "not a whole number from 1 to %llu",
                                           limit_fields[i].name,
                                           (unsigned long long)limit_fields[i].max);
                *(uint64_t *)((char *)out + limit_fields[i].offset) = (uint64_t)n;
                known++;
        }
        return known == json_object_size(o) ? 0
                                            : bad_job("its \"limits\" has an unknown name", err);
}

int wh_boefje_job_args(const char *meta_json, const void *raw, size_t len,
                       struct wh_boefje_job_args *out, struct wh_err *err)
{
        *out = (struct wh_boefje_job_args){0};
        out->input_ooi = json_loadb(raw, len, JSON_REJECT_DUPLICATES, NULL);
        out->meta = json_loads(meta_json ? meta_json : "{}", JSON_REJECT_DUPLICATES, NULL);
        json_t *allow = json_object_get(out->meta, "net_allow");
        int rc = 0;
        if (!json_is_object(out->input_ooi) ||
            !json_is_string(json_object_get(out->input_ooi, "primary_key")))
                rc = bad_job("its input is not a serialised input object", err);
        else if (!json_is_object(out->meta) || (allow && !json_is_array(allow)))
                rc = bad_job("its meta is not {\"net_allow\": [...], \"net_no_input\": ...}", err);
        else if (!(out->net_allow = calloc(json_array_size(allow) + 1, sizeof(char *))))
                rc = wh_err_set(err, ENOMEM, "meta", "out of memory");
        for (size_t i = 0; rc == 0 && i < json_array_size(allow); i++) {
                out->net_allow[i] = json_string_value(json_array_get(allow, i));
                if (!out->net_allow[i])
                        rc = bad_job("a net_allow item is not a string", err);
                out->n_net_allow++;
        }
        out->net_no_input = json_is_true(json_object_get(out->meta, "net_no_input"));
        if (rc == 0)
                rc = read_limits(json_object_get(out->meta, "limits"), &out->limits, err);
        if (rc < 0)
                wh_boefje_job_args_clear(out);
        return rc;
}
