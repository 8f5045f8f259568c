/* The status record: names of statuses and the JSON form of a report. */
#include "base/cleanup.h"

#include <whiskers/sandbox.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
    [WH_STATUS_OK] = "ok",
    [WH_STATUS_EXIT_NONZERO] = "exit_nonzero",
    [WH_STATUS_SIGNAL] = "signal",
    [WH_STATUS_TIMEOUT_WALL] = "timeout_wall",
    [WH_STATUS_TIMEOUT_CPU] = "timeout_cpu",
    [WH_STATUS_OOM] = "oom",
    [WH_STATUS_OUTPUT_LIMIT] = "output_limit",
    [WH_STATUS_SECCOMP_KILL] = "seccomp_kill",
    [WH_STATUS_SANDBOX_ERROR] = "sandbox_error",
};

const char *wh_status_name(enum wh_status status)
{
        if ((unsigned)status < sizeof(status_names) / sizeof(status_names[0]))
                return status_names[status];
        return "unknown";
}

static json_t *string_or_null(const char *s)
{
        return s && *s ? json_string(s) : json_null();
}

static json_t *namespaces_array(const char *csv)
{
        json_t *arr = json_array();
        char buf[sizeof(((struct wh_report *)0)->namespaces)];
        snprintf(buf, sizeof(buf), "%s", csv);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                json_array_append_new(arr, json_string(tok));
        return arr;
}

/* The run's limits as they applied: 0 is "none"; who enforced the cgroup's. */
static json_t *limits_object(const struct wh_report *r)
{
        static const char *const by[] = {[WH_LIMITS_BY_NONE] = "none",
                                         [WH_LIMITS_BY_CGROUP] = "cgroup",
                                         [WH_LIMITS_BY_RLIMIT] = "rlimit",
                                         [WH_LIMITS_BY_UNENFORCED] = "unenforced"};
        const struct wh_limits *l = &r->limits;
        return json_pack(
            "{s:I, s:I, s:f, s:s, s:I, s:I, s:I}", "memory_bytes", (json_int_t)l->memory_bytes,
            "pids", (json_int_t)l->pids, "cpus", l->cpus, "enforced_by",
            (unsigned)r->limits_by < sizeof(by) / sizeof(by[0]) ? by[r->limits_by] : "unknown",
            "wall_ms", (json_int_t)l->wall_ms, "cpu_ms", (json_int_t)l->cpu_ms, "output_bytes",
            (json_int_t)l->output_bytes);
}

static json_t *addr_string(const struct wh_net_addr *a)
{
        char text[INET6_ADDRSTRLEN] = "";
        inet_ntop(a->family, a->bytes, text, sizeof(text));
        return json_string(text);
}

/* network.connections: one object per attempt, allowed or refused. */
static json_t *network_object(const struct wh_net_log *log)
{
        json_t *conns = json_array();
        for (size_t i = 0; i < log->n; i++) {
                const struct wh_net_conn *c = &log->conns[i];
                char other[16];
                snprintf(other, sizeof(other), "ip-proto-%u", c->proto);
                json_t *o = json_pack(
                    "{s:I, s:s, s:s, s:o, s:i, s:o, s:i, s:I, s:I}", "time_ms",
                    (json_int_t)c->time_ms, "verdict", c->allowed ? "allowed" : "refused", "proto",
                    c->proto == IPPROTO_TCP      ? "tcp"
                    : c->proto == IPPROTO_UDP    ? "udp"
                    : c->proto == IPPROTO_ICMP   ? "icmp"
                    : c->proto == IPPROTO_ICMPV6 ? "icmpv6"
                                                 : other,
                    "src", addr_string(&c->src), "sport", c->sport, "dst", addr_string(&c->dst),
                    "dport", c->dport, "bytes_out", (json_int_t)c->bytes_out, "bytes_in",
                    (json_int_t)c->bytes_in);
                /* refused by a limit: which one (docs/sandbox.md) */
                if (o && c->limit[0])
                        json_object_set_new(o, "limit", json_string(c->limit));
                json_array_append_new(conns, o);
        }
        return json_pack("{s:s, s:o, s:I}", "mode", "allow", "connections", conns,
                         "connections_dropped", (json_int_t)log->dropped);
}

/* {"zygote", "ordinal", "isolation"} and, persistent, which process of the
 * zygote served the input and as its how-manieth (docs/warm.md). */
static json_t *warm_object(const struct wh_report *r)
{
        json_t *o =
            json_pack("{s:s, s:I, s:s}", "zygote", r->zygote, "ordinal", (json_int_t)r->ordinal,
                      "isolation", r->persistent ? "persistent" : "fork");
        if (o && r->persistent) {
                json_object_set_new(o, "process", json_integer((json_int_t)r->process));
                json_object_set_new(o, "process_ordinal",
                                    json_integer((json_int_t)r->process_ordinal));
        }
        return o;
}

char *wh_report_to_json(const struct wh_report *r)
{
        json_t *syscall = json_null();
        if (r->status == WH_STATUS_SECCOMP_KILL && r->syscall_nr >= 0)
                syscall = json_pack("{s:i, s:s, s:s}", "nr", r->syscall_nr, "name", r->syscall_name,
                                    "arch", r->syscall_arch);
        json_t *applied =
            json_pack("{s:o, s:s, s:i, s:s, s:o}", "namespaces", namespaces_array(r->namespaces),
                      "cgroup_driver", r->cgroup_driver[0] ? r->cgroup_driver : "none",
                      "landlock_abi", r->landlock_abi, "seccomp_policy_hash",
                      r->seccomp_policy_hash, "limits", limits_object(r));
        bool error = r->status == WH_STATUS_SANDBOX_ERROR;
        cleanup_json json_t *o = json_pack(
            "{s:s, s:i, s:i, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "status",
            wh_status_name(r->status), "exit_code", r->exit_code, "signal", r->signal, "syscall",
            syscall, "wall_ms", (json_int_t)r->wall_ms, "cpu_ms", (json_int_t)r->cpu_ms,
            "mem_peak_bytes", (json_int_t)r->mem_peak_bytes, "stdout_bytes",
            (json_int_t)r->stdout_bytes, "stderr_bytes", (json_int_t)r->stderr_bytes, "stage",
            error ? string_or_null(r->stage) : json_null(), "message",
            error ? string_or_null(r->message) : json_null(), "applied", applied);
        if (!o)
                return NULL;
        json_object_set_new(o, "mode", json_string(r->warm ? "warm" : "cold"));
        if (r->net_allow)
                json_object_set_new(o, "network", network_object(&r->net));
        if (r->warm)
                json_object_set_new(o, "warm", warm_object(r));
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        return text;
}
