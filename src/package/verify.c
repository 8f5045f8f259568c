/* `store verify`: every blob re-hashed, every reachable blob present. */
#include "package/digest.h"
#include "package/walk.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int add_problem(struct wh_verify_result *res, const char *digest, const char *what,
                       struct wh_err *err)
{
        struct wh_store_problem *p =
            realloc(res->problems, (res->nproblems + 1) * sizeof(*res->problems));
        if (!p)
                return wh_err_set(err, ENOMEM, "verify", "recording a problem");
        res->problems = p;
        p = &res->problems[res->nproblems++];
        snprintf(p->digest, sizeof(p->digest), "%s", digest);
        /* Cut to fit, on purpose: the digest and the start say what is wrong. */
        snprintf(p->what, sizeof(p->what), "%.*s", (int)sizeof(p->what) - 1, what);
        return 0;
}

static int rehash_one(struct wh_store *s, const char *name, void *ctx, struct wh_err *err)
{
        struct wh_verify_result *res = ctx;
        char digest[WH_DIGEST_BUF] = "sha256:";
        if (strlen(name) != 64 || (memcpy(digest + 7, name, 65), !wh_digest_valid(digest)))
                return add_problem(res, name, "not a sha256 blob name", err);
        cleanup_close int fd = openat(s->blobs_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return add_problem(res, digest, "cannot be opened", err);
        char actual[WH_DIGEST_BUF];
        uint64_t size;
        struct wh_err herr;
        if (wh_digest_fd(fd, actual, &size, &herr) < 0)
                return add_problem(res, digest, herr.msg, err);
        res->blobs++;
        res->bytes += size;
        if (strcmp(actual, digest) != 0) {
                char what[160];
                snprintf(what, sizeof(what), "content hashes to %s", actual);
                return add_problem(res, digest, what, err);
        }
        return 0;
}

static int on_problem(const struct wh_descriptor *d, const char *parent, const char *what,
                      void *ctx, struct wh_err *err)
{
        char msg[192];
        if (parent[0])
                snprintf(msg, sizeof(msg), "%s (named by %.71s)", what, parent);
        else
                snprintf(msg, sizeof(msg), "%s (an index.json entry)", what);
        return add_problem(ctx, d->digest, msg, err);
}

int wh_store_verify(struct wh_store *s, struct wh_verify_result *res, struct wh_err *err)
{
        *res = (struct wh_verify_result){0};
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (wh_store_list(s, &e, &n, err) < 0)
                return -1;
        int rc = wh_store_each_blob_name(s, "verify", rehash_one, res, err);
        struct wh_strset seen = {0};
        const struct wh_walk_ops ops = {.problem = on_problem};
        for (size_t i = 0; rc == 0 && i < n; i++) {
                rc = wh_walk(s, &e[i].desc, &ops, res, &seen, err);
                if (rc == 0 && e[i].subject[0] && !wh_store_blob_exists(s, e[i].subject))
                        rc = add_problem(res, e[i].desc.digest, "referrer whose subject is missing",
                                         err);
        }
        wh_strset_clear(&seen);
        free(e);
        if (rc < 0)
                wh_verify_result_clear(res);
        return rc;
}

void wh_verify_result_clear(struct wh_verify_result *res)
{
        free(res->problems);
        res->problems = NULL;
        res->nproblems = 0;
}
