/* Per-input memory (docs/warm.md "Per-input memory"): with a memory
 * cgroup, each input's child is moved into a leaf beneath the sandbox's
 * (cgroup_sub.c; on v2 beside the leaf init and the zygote were born in,
 * cgroup_sub_v2.c), one per zygote, reused input after input:
 *
 *   ready          the leaf is made; the sandbox's limit becomes what the
 *                  sandbox holds now (init, the loaded zygote) plus the
 *                  input's limit plus a slack (sandbox_slack), so the
 *                  input's own limit is the one it meets
 *   input N        the leaf's tasks file goes with it (write-only): the
 *                  child moves itself by writing "0" to it, before "hello"
 *   hello          the supervisor checks in /proc/PID/cgroup that the child
 *                  is there; one that did not move itself (a zygote of the
 *                  earlier protocol), or whose other threads may not have,
 *                  it moves itself, as before, before "go"
 *   go             the leaf's limit is the input's, its peak and failure
 *                  counters start again, its OOM count is noted
 *   end            the input's peak is the leaf's; an OOM kill in the leaf
 *                  is the input's (`oom`), unless the sandbox's own limit
 *                  was reached (the zygote grew: the child, its first
 *                  victim, died of the sandbox's shortage) or the zygote or
 *                  init was killed: then the input fails at stage warm and
 *                  the zygote is replaced; so does an input whose leaf held
 *                  a thread of init or the zygote (moved there by a zygote
 *                  that kept the tasks file)
 *
 * Without a leaf (no cgroup, no memory controller) an input's OOM is the
 * sandbox's OOM counter moving during the input, as before. */
#define _GNU_SOURCE
#include "sandbox/warm_internal.h"
#include "sandbox/cgroup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLACK_MIN (16ull << 20)

/* Room in the sandbox beyond the zygote's load and the input's limit, so
 * that an input meets its own limit first: the pages its child touched
 * before it was moved (charged to the sandbox), the zygote's few
 * allocations per input, init. */
static uint64_t sandbox_slack(uint64_t limit)
{
        return limit / 4 > SLACK_MIN ? limit / 4 : SLACK_MIN;
}

static void tasks_path(struct wh_cgroup *leaf, char *path, size_t cap)
{
        snprintf(path, cap, "%s/tasks", wh_cgroup_dir(leaf, "memory"));
}

int warm_leaf_start(struct wh_warm *w, struct wh_err *err)
{
        w->leaf = (struct warm_leaf){.cg = NULL, .tasks = -1};
        struct wh_cgroup *leaf;
        if (wh_cgroup_sub(w->l.cgroup, &leaf, err) < 0)
                return err->errnum == ENOTSUP ? 0 : -1; /* the sandbox's counters, as before */
        uint64_t limit = w->zygote->limits.memory_bytes, used = 0;
        if (limit && w->limits_by == WH_LIMITS_BY_CGROUP &&
            (wh_cgroup_memory_usage(w->l.cgroup, &used) < 0 ||
             wh_cgroup_set_memory(w->l.cgroup, used + limit + sandbox_slack(limit), err) < 0))
                return err->stage ? -1
                                  : wh_err_set(err, errno, "cgroup",
                                               "cannot read the sandbox's memory use");
        /* Registered now: the sandbox's count then moves only when its own
         * limit is reached from here on. */
        if (wh_cgroup_oom_events(w->l.cgroup, &w->leaf.sandbox_ooms) < 0 ||
            wh_cgroup_oom_events(leaf, &w->leaf.oom_kills) < 0 ||
            wh_cgroup_own_oom_kills(w->l.cgroup, &w->leaf.zygote_kills) < 0)
                return wh_err_set(err, errno, "cgroup", "cannot watch the OOM events of %s",
                                  wh_cgroup_dir(w->l.cgroup, "memory"));
        /* Opened by us, so the kernel's check of a write is against our
         * credentials (v1 uses the opener's): a child may move itself in,
         * and name no process outside its own pid namespace. v2 has no
         * tasks file: a write to cgroup.procs takes the global lock even
         * for the writer itself, so the supervisor moves the child. */
        if (wh_cgroup_driver(leaf) == WH_CGROUP_V1) {
                char path[PATH_MAX];
                tasks_path(leaf, path, sizeof(path));
                w->leaf.tasks = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (w->leaf.tasks < 0)
                        return wh_err_set(err, errno, "cgroup", "cannot open %s for writing", path);
        }
        w->leaf.cg = leaf;
        w->leaf.limit = UINT64_MAX; /* set by the first input */
        return 0;
}

int warm_leaf_enter(struct wh_warm *w, pid_t pid, bool alone, char *why, size_t cap)
{
        struct wh_err err = {0};
        if (!w->leaf.cg)
                return 0;
        /* It moved itself (docs/warm.md "Per-input memory"), which skips the
         * kernel's global lock a move of another process takes. "0" moves
         * the writing thread only: a child with other threads is moved whole. */
        if (alone && wh_cgroup_holds(w->leaf.cg, pid))
                return 0;
        if (wh_cgroup_attach(w->leaf.cg, pid, &err) < 0) {
                snprintf(why, cap, "%s: %s", err.msg, strerror(err.errnum));
                return -1;
        }
        if (!wh_cgroup_holds(w->leaf.cg, pid)) {
                snprintf(why, cap, "it is not in its memory cgroup %s after the move",
                         wh_cgroup_dir(w->leaf.cg, "memory"));
                return -1;
        }
        return 0;
}

int warm_leaf_begin(struct wh_warm *w, uint64_t memory_bytes, char *why, size_t cap)
{
        struct wh_err err = {0};
        struct wh_cgroup_stats st;
        if (!w->leaf.cg)
                return 0;
        if (memory_bytes != w->leaf.limit) {
                if (wh_cgroup_set_memory(w->leaf.cg, memory_bytes, &err) < 0) {
                        snprintf(why, cap, "%s: %s", err.msg, strerror(err.errnum));
                        return -1;
                }
                w->leaf.limit = memory_bytes;
        }
        if (wh_cgroup_reset_peak(w->leaf.cg) < 0 || wh_cgroup_read_stats(w->leaf.cg, &st) < 0 ||
            wh_cgroup_oom_events(w->l.cgroup, &w->leaf.sandbox_ooms) < 0) {
                snprintf(why, cap, "cannot reset the counters of %s: %s",
                         wh_cgroup_dir(w->leaf.cg, "memory"), strerror(errno));
                return -1;
        }
        w->leaf.oom_kills = st.oom_kills;
        return 0;
}

/* Did the sandbox, not the input, run out of memory? Init or the zygote
 * was OOM-killed, or the sandbox's own limit was reached (then the child,
 * the first victim, died of the sandbox's shortage, not its own). */
static bool sandbox_oom(struct wh_warm *w)
{
        uint64_t kills = 0, ooms = 0;
        return (wh_cgroup_own_oom_kills(w->l.cgroup, &kills) == 0 &&
                kills > w->leaf.zygote_kills) ||
               (wh_cgroup_oom_events(w->l.cgroup, &ooms) == 0 && ooms > w->leaf.sandbox_ooms);
}

void warm_leaf_down(struct wh_warm *w)
{
        if (w->leaf.cg)
                w->leaf.zygote_oom = sandbox_oom(w);
        if (w->leaf.tasks >= 0)
                close(w->leaf.tasks);
        w->leaf.tasks = -1;
        w->leaf.cg = NULL; /* removed with the sandbox's cgroup */
}

/* Is a thread of init or of the zygote in the leaf? A zygote that kept the
 * tasks file sent with "input N" can put one there (a child cannot: it names
 * no process outside its own pid namespace), and its memory would then be
 * counted as the inputs'. Read after the input's processes were reaped, so
 * the list is empty under fork isolation. Fails closed: a list that cannot
 * be read holds them. */
static bool holds_sandbox(struct wh_warm *w)
{
        char path[PATH_MAX], *text = NULL;
        size_t len;
        struct wh_err err = {0};
        if (w->leaf.tasks < 0)
                return false; /* v2: no file was sent, only we move processes */
        tasks_path(w->leaf.cg, path, sizeof(path));
        if (wh_read_file(path, 1u << 20, &text, &len, &err) < 0)
                return true;
        bool found = false;
        const pid_t owners[] = {w->zpid, w->l.pid};
        for (char *p = text, *end; !found; p = end) {
                long tid = strtol(p, &end, 10);
                if (end == p)
                        break;
                for (size_t i = 0; i < 2 && !found; i++) {
                        char task[64];
                        snprintf(task, sizeof(task), "/proc/%d/task/%ld", (int)owners[i], tid);
                        found = access(task, F_OK) == 0;
                }
        }
        free(text);
        return found;
}

static void sandbox_failed(struct wh_report *r, bool held)
{
        r->status = WH_STATUS_SANDBOX_ERROR;
        snprintf(r->stage, sizeof(r->stage), "warm");
        if (held)
                snprintf(r->message, sizeof(r->message),
                         "input %" PRIu64 "'s memory cgroup holds a thread of the zygote or of "
                         "init (a zygote moved it there through the tasks file it was sent): "
                         "their memory cannot be told from the input's; the zygote is replaced",
                         r->ordinal);
        else
                snprintf(r->message, sizeof(r->message),
                         "the warm sandbox ran out of memory during input %" PRIu64
                         ": the zygote's memory and the input's together reached the sandbox's "
                         "limit while the input stayed under its own (%" PRIu64
                         " bytes); the zygote is replaced",
                         r->ordinal, r->limits.memory_bytes);
}

enum warm_oom warm_leaf_end(struct wh_warm *w, const struct wh_cgroup_stats *st, bool broken,
                            bool decided, struct wh_report *r)
{
        struct wh_cgroup_stats leaf = {0};
        /* The sandbox's running out explains a broken zygote better than
         * what broke; a limit the input reached first stays its status. */
        bool say = !decided || r->status == WH_STATUS_SANDBOX_ERROR;
        if (broken) {
                /* The sandbox is gone: warm_leaf_down read its counters. */
                bool zygote = w->leaf.zygote_oom;
                w->leaf.zygote_oom = false;
                if (zygote && say)
                        sandbox_failed(r, false);
                return zygote ? WARM_OOM_SANDBOX : WARM_OOM_NONE;
        }
        if (!w->leaf.cg) {
                bool oom = st->have_oom && st->oom_kills > w->oom_kills;
                w->oom_kills = st->oom_kills;
                return oom ? WARM_OOM_INPUT : WARM_OOM_NONE;
        }
        if (wh_cgroup_read_stats(w->leaf.cg, &leaf) == 0 && leaf.have_mem_peak)
                r->mem_peak_bytes = leaf.mem_peak;
        bool held = holds_sandbox(w);
        if (held || sandbox_oom(w)) {
                if (say)
                        sandbox_failed(r, held);
                warm_down(w);
                w->leaf.zygote_oom = false; /* told here */
                return WARM_OOM_SANDBOX;
        }
        w->oom_kills = st->oom_kills;
        return leaf.oom_kills > w->leaf.oom_kills ? WARM_OOM_INPUT : WARM_OOM_NONE;
}
