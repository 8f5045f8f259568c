/* Persistent isolation (docs/warm.md "Persistent"): the zygote forks a child
 * as for fork isolation, and that child serves up to max_inputs inputs over
 * its channel before it is recycled:
 *
 *   first input      "input N" -> zygote, "hello", "go" + fds   (as fork)
 *   each input       the child serves it, points its stdio at /dev/null,
 *                    says "done CODE" on the channel (CODE: what a cold
 *                    run would have exited with)
 *   next input       "go" + fds on the same channel: no fork, no hello
 *   recycle          after max_inputs: the channel closed, the child killed,
 *                    the zygote's "exit N ..." read; the next input forks anew
 *
 * Everything else of an input (limits, the kill of a stuck child through its
 * pidfd, leftovers killed, /tmp emptied) is warm_input.c's. A child that
 * dies mid-input is reported by the zygote as under fork isolation, and
 * only that input fails; one that died between inputs is retired here
 * before the next input is handed to anyone. One that closes its channel
 * mid-input without exiting is killed at once (warm_persist_hung_up), not
 * at the wall deadline; its input fails at stage warm. */
#define _GNU_SOURCE
#include "sandbox/warm_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REPORT_WAIT_MS 1000
#define MAX_TREE       4096 /* processes summed by warm_persist_cpu_us */

void wh_warm_persistent(struct wh_warm *w, uint32_t max_inputs)
{
        w->p.max_inputs = max_inputs;
        w->p.chan = w->p.pidfd = -1;
}

const char *wh_isolation_name(enum wh_isolation iso)
{
        return iso == WH_ISOLATION_PERSISTENT ? "persistent" : "fork";
}

int wh_isolation_parse(const char *text, enum wh_isolation *out)
{
        if (text && strcmp(text, "fork") == 0)
                *out = WH_ISOLATION_FORK;
        else if (text && strcmp(text, "persistent") == 0)
                *out = WH_ISOLATION_PERSISTENT;
        else
                return -1;
        return 0;
}

void warm_persist_forget(struct wh_warm *w)
{
        if (w->p.chan >= 0)
                close(w->p.chan);
        if (w->p.pidfd >= 0)
                close(w->p.pidfd);
        w->p.chan = w->p.pidfd = -1;
        w->p.pid = 0;
        w->p.served = 0;
}

void warm_persist_keep(struct wh_warm *w, int chan, int pidfd, pid_t pid, uint64_t first)
{
        w->p.chan = chan;
        w->p.pidfd = pidfd;
        w->p.pid = pid;
        w->p.first = first;
        w->p.served = 0;
}

/* The zygote's "exit FIRST ..." for the retired child, within REPORT_WAIT_MS. */
static int read_exit_report(struct wh_warm *w)
{
        struct pollfd p = {.fd = w->zsock, .events = POLLIN};
        if (poll(&p, 1, REPORT_WAIT_MS) != 1)
                return -1;
        char text[WARM_FRAME_MAX];
        int none[1];
        size_t nfd;
        pid_t pid;
        struct warm_exit e;
        if (warm_recv(w->zsock, text, sizeof(text), &pid, none, 0, &nfd) <= 0 || pid != w->zpid ||
            warm_parse_exit(text, &e) < 0 || e.ordinal != w->p.first)
                return -1;
        return 0;
}

/* Kill the child (if it still runs) and read the zygote's report of it. */
static int retire(struct wh_warm *w)
{
        syscall(SYS_pidfd_send_signal, w->p.pidfd, SIGKILL, NULL, 0);
        int rc = read_exit_report(w);
        warm_persist_forget(w);
        return rc;
}

bool warm_persist_alive(struct wh_warm *w)
{
        if (!w->up || w->p.max_inputs == 0 || w->p.chan < 0)
                return false;
        struct pollfd p = {.fd = w->p.pidfd, .events = POLLIN};
        if (poll(&p, 1, 0) == 0)
                return true;
        /* It ended between two inputs (nothing was in flight). */
        if (retire(w) < 0)
                warm_down(w);
        return false;
}

int warm_persist_after(struct wh_warm *w)
{
        if (w->p.chan < 0 || ++w->p.served < w->p.max_inputs)
                return 0;
        return retire(w);
}

/* A process that exits closes its fds before its pidfd says it ended: that
 * EOF is no hang-up, and the kill below then changes nothing of its end (the
 * exit status is fixed once it exits). */
bool warm_persist_hung_up(struct wh_warm *w)
{
        struct pollfd p = {.fd = w->p.pidfd, .events = POLLIN};
        if (w->p.pidfd < 0 || poll(&p, 1, 0) != 0)
                return false;
        syscall(SYS_pidfd_send_signal, w->p.pidfd, SIGKILL, NULL, 0);
        return true;
}

void warm_persist_hung_up_status(struct wh_report *r)
{
        r->status = WH_STATUS_SANDBOX_ERROR;
        snprintf(r->stage, sizeof(r->stage), "warm");
        snprintf(r->message, sizeof(r->message),
                 "input %" PRIu64 "'s persistent process closed its channel without exiting "
                 "(protocol: \"done CODE\" after each input): it was killed, the next input gets "
                 "a fresh process",
                 r->ordinal);
}

uint64_t warm_persist_hwm_kb(pid_t pid)
{
        char path[64], buf[4096];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        uint64_t kb = 0;
        while (f && fgets(buf, sizeof(buf), f))
                if (sscanf(buf, "VmHWM: %" SCNu64, &kb) == 1)
                        break;
        if (f)
                fclose(f);
        return kb;
}

/* utime + stime + cutime + cstime of one process, in clock ticks: its own
 * threads and the children it reaped. 0 if it is gone. */
static uint64_t ticks_of(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
                fclose(f);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')'); /* the name may hold anything */
        unsigned long long ut, st;
        long long cut, cst;
        /* After the name: state ppid pgrp session tty tpgid flags minflt
         * cminflt majflt cmajflt utime stime cutime cstime. */
        if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
                         &ut, &st, &cut, &cst) != 4)
                return 0;
        return ut + st + (uint64_t)(cut > 0 ? cut : 0) + (uint64_t)(cst > 0 ? cst : 0);
}

/* ticks_of pid and of every live descendant, at most *budget processes. */
static uint64_t tree_ticks(pid_t pid, unsigned *budget)
{
        uint64_t sum = ticks_of(pid);
        char path[64], list[4096];
        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        DIR *d = opendir(path);
        for (struct dirent *e; d && *budget > 0 && (e = readdir(d));) {
                if (e->d_name[0] == '.')
                        continue;
                char file[128];
                snprintf(file, sizeof(file), "%s/%.24s/children", path, e->d_name);
                FILE *f = fopen(file, "re");
                size_t n = f ? fread(list, 1, sizeof(list) - 1, f) : 0;
                if (f)
                        fclose(f);
                list[n] = '\0';
                for (char *q = list, *end; *budget > 0; q = end) {
                        long child = strtol(q, &end, 10);
                        if (end == q)
                                break;
                        (*budget)--;
                        sum += tree_ticks((pid_t)child, budget);
                }
        }
        if (d)
                closedir(d);
        return sum;
}

uint64_t warm_persist_cpu_us(pid_t pid)
{
        unsigned budget = MAX_TREE;
        long hz = sysconf(_SC_CLK_TCK);
        return tree_ticks(pid, &budget) * 1000000ull / (uint64_t)(hz > 0 ? hz : 100);
}
