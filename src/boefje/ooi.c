/* The input object and the BoefjeMeta a boefje's run() receives, in the
 * shape OpenKAT's scheduler gives them: arguments.input is the object
 * serialised with its references expanded into their natural-key parts
 * (docs/boefjes.md "What run() receives"). */
#define _GNU_SOURCE
#include "boefje/internal.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Splits "a|b|c" into at most max parts (the last keeps any further '|'). */
static size_t split(char *s, char **parts, size_t max)
{
        size_t n = 0;
        while (n + 1 < max) {
                parts[n++] = s;
                char *bar = strchr(s, '|');
                if (!bar)
                        return n;
                *bar = '\0';
                s = bar + 1;
        }
        parts[n++] = s;
        return n;
}

static json_t *network(const char *name)
{
        return json_pack("{s:s}", "name", name);
}

json_t *wh_boefje_input_ooi(const char *ref, struct wh_err *err)
{
        if (!ref || !pk_valid(ref))
                return wh_err_set(err, EINVAL, "input",
                                  "'%s' is not a primary key (Type|natural key, e.g. "
                                  "Hostname|internet|example.org)",
                                  ref ? ref : ""),
                       NULL;
        cleanup_free char *copy = strdup(ref);
        if (!copy)
                return wh_err_set(err, ENOMEM, "input", "out of memory"), NULL;
        char *p[5];
        size_t n = split(copy, p, 5);
        json_t *o = json_pack("{s:s, s:s}", "object_type", p[0], "primary_key", ref);
        if (!o)
                return wh_err_set(err, ENOMEM, "input", "out of memory"), NULL;
        const char *type = p[0];
        int rc = 0;
        if (strcmp(type, "Network") == 0 && n == 2) {
                rc = json_object_set_new(o, "name", json_string(p[1]));
        } else if (strcmp(type, "Hostname") == 0 && n == 3) {
                rc = json_object_set_new(o, "network", network(p[1])) ||
                     json_object_set_new(o, "name", json_string(p[2]));
        } else if ((strcmp(type, "IPAddressV4") == 0 || strcmp(type, "IPAddressV6") == 0) &&
                   n == 3) {
                rc = json_object_set_new(o, "network", network(p[1])) ||
                     json_object_set_new(o, "address", json_string(p[2]));
        } else if (strcmp(type, "IPPort") == 0 && n == 5) {
                char *end;
                long port = strtol(p[4], &end, 10);
                if (*end || port < 0 || port > 65535) {
                        json_decref(o);
                        return wh_err_set(err, EINVAL, "input", "'%s': the port is not 0..65535",
                                          ref),
                               NULL;
                }
                rc = json_object_set_new(
                         o, "address",
                         json_pack("{s:o, s:s}", "network", network(p[1]), "address", p[2])) ||
                     json_object_set_new(o, "protocol", json_string(p[3])) ||
                     json_object_set_new(o, "port", json_integer(port));
        }
        if (rc) {
                json_decref(o);
                return wh_err_set(err, ENOMEM, "input", "out of memory"), NULL;
        }
        return o;
}

json_t *boefje_meta_build(const struct wh_boefje *b, json_t *input_ooi, const char *task_id,
                          const char *organization, struct wh_err *err)
{
        char uuid[37], now[32];
        if (!task_id && random_uuid(uuid, err) < 0)
                return NULL;
        time_t t = time(NULL);
        struct tm tm;
        strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        const struct wh_boefje_manifest *m = &b->manifest;
        json_t *args = json_pack("{s:O}", "input", input_ooi);
        if (args && m->oci_arguments)
                json_object_set(args, "oci_arguments", m->oci_arguments);
        json_t *pk = json_object_get(input_ooi, "primary_key");
        json_t *meta = json_pack("{s:s, s:{s:s, s:n}, s:O, s:o, s:s, s:s, s:n, s:n, s:{}}", "id",
                                 task_id ? task_id : uuid, "boefje", "id", m->id, "version",
                                 "input_ooi", pk ? pk : json_null(), "arguments", args,
                                 "organization", organization ? organization : "", "started_at",
                                 now, "ended_at", "runnable_hash", "environment");
        if (!meta)
                wh_err_set(err, ENOMEM, "input", "cannot build the boefje meta");
        return meta;
}
