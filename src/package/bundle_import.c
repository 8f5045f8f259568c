/* whiskers bundle import: all or nothing, offline.
 *
 * The bundle is read into a scratch layout under LAYOUT/.whiskers/tmp (same
 * filesystem, invisible to readers, removed by gc after a crash), where its
 * index.json entries are added (that checks every entry is complete), each
 * entry's closure is checked (wh_store_check: layers within the unpacker's
 * rules) and every tagged package's signatures are checked against the trust
 * directory. Only when all of that passed are the blobs renamed into
 * LAYOUT/blobs/sha256 and the entries added to LAYOUT/index.json, with one
 * rewrite. Before that point nothing of the bundle is in blobs/ or
 * index.json; after it, blobs whose index update failed are unreferenced
 * and the next gc collects them. */
#define _GNU_SOURCE
#include "package/bundle.h"
#include "base/dir.h"
#include "package/paths.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_signed(struct wh_store *sc, const struct wh_index_entry *e, size_t n,
                        const struct wh_bundle_import_options *o, struct wh_err *err)
{
        for (size_t i = 0; i < n; i++) {
                if (!e[i].ref_name[0])
                        continue;
                struct wh_sig_report rep;
                if (wh_trust_check(sc, e[i].desc.digest, o->trust, &rep, err) < 0)
                        return -1;
                char why[WH_ERR_MSG_MAX] = "";
                size_t len = 0;
                for (size_t k = 0; k < rep.n && len < sizeof(why); k++)
                        len += (size_t)snprintf(why + len, sizeof(why) - len, "; key %.19s...: %s",
                                                rep.sigs[k].key_id[0] ? rep.sigs[k].key_id : "?",
                                                wh_sig_status_name(rep.sigs[k].status));
                bool trusted = rep.trusted;
                size_t nsigs = rep.n;
                wh_sig_report_clear(&rep);
                if (!trusted)
                        return wh_err_set(err, 0, "bundle",
                                          "%s (%s) has no valid signature by a trusted key%s%s: "
                                          "nothing was imported",
                                          e[i].ref_name, e[i].desc.digest,
                                          nsigs ? "" : " (it is not signed)", why);
        }
        return 0;
}

static int publish_blob(struct wh_store *sc, const char *name, void *ctx, struct wh_err *err)
{
        struct wh_store *s = ctx;
        if (name[0] == '.')
                return 0;
        if (renameat(sc->blobs_fd, name, s->blobs_fd, name) < 0)
                return wh_err_set(err, errno, "bundle", "cannot move blob %s into %s", name,
                                  s->path);
        return 0;
}

/* Rename every blob of the scratch layout into the store. */
static int publish_blobs(struct wh_store *sc, struct wh_store *s, struct wh_err *err)
{
        if (wh_store_each_blob_name(sc, "bundle", publish_blob, s, err) < 0)
                return -1;
        if (fsync(s->blobs_fd) < 0)
                return wh_err_set(err, errno, "bundle", "cannot sync %s/blobs/sha256", s->path);
        return 0;
}

static int import_into(struct wh_store *s, struct wh_store *sc, const char *path,
                       const struct wh_bundle_import_options *o, struct wh_index_entry **e,
                       size_t *n, struct wh_err *err)
{
        char **parts = NULL;
        cleanup_free char *index_doc = NULL;
        uint64_t max = o->max_bytes ? o->max_bytes : WH_IMPORT_DEFAULT_MAX_BYTES;
        int rc = wh_bundle_parts(path, &parts, err);
        if (rc == 0)
                rc = wh_bundle_read(sc, parts, path, max, &index_doc, err);
        wh_bundle_parts_free(parts);
        cleanup_json json_t *index =
            rc == 0 ? json_loads(index_doc, JSON_REJECT_DUPLICATES, NULL) : NULL;
        if (rc == 0)
                rc = index ? wh_index_entries(index, e, n, err)
                           : wh_err_set(err, 0, "bundle", "%s: index.json is not JSON", path);
        for (size_t i = 0; rc == 0 && i < *n; i++)
                wh_index_entry_fill_subject(sc, &(*e)[i]);
        if (rc == 0 && (rc = wh_store_index_add_many(sc, *e, *n, err)) < 0)
                wh_err_prefix(err, "%s is incomplete", path);
        for (size_t i = 0; rc == 0 && i < *n; i++)
                if ((rc = wh_store_check(sc, &(*e)[i].desc, err)) < 0)
                        wh_err_prefix(err, "%s: nothing was imported", path);
        if (rc == 0 && !o->allow_unsigned)
                rc = check_signed(sc, *e, *n, o, err);
        if (rc == 0)
                rc = publish_blobs(sc, s, err);
        if (rc == 0)
                rc = wh_store_index_add_many(s, *e, *n, err);
        return rc;
}

int wh_bundle_import(struct wh_store *s, const char *path, const struct wh_bundle_import_options *o,
                     struct wh_index_entry **added, size_t *nadded, struct wh_err *err)
{
        if (!s->writable)
                return wh_err_set(err, 0, "bundle", "%s is read-only", s->path);
        if (!o || (!o->trust && !o->allow_unsigned))
                return wh_err_set(err, 0, "bundle",
                                  "name a trust directory (--trust DIR) to check the bundle's "
                                  "signatures, or allow unsigned packages (development only)");
        cleanup_free char *scratch = NULL;
        if (asprintf(&scratch, "%s/.whiskers/tmp/bundle.XXXXXX", s->path) < 0)
                return wh_err_set(err, ENOMEM, "bundle", "importing %s", path);
        if (!mkdtemp(scratch))
                return wh_err_set(err, errno, "bundle", "cannot create %s", scratch);
        struct wh_store *sc = NULL;
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        int rc = wh_store_open(scratch, WH_STORE_CREATE, &sc, err);
        if (rc == 0)
                rc = import_into(s, sc, path, o, &e, &n, err);
        wh_store_close(sc);
        wh_rmtree_at(s->tmp_fd, strrchr(scratch, '/') + 1);
        return wh_import_hand_over(rc, e, n, added, nadded);
}
