/* Relocation of imported packages into an internal registry (bundle import
 * --relocate). The content is pushed byte for byte, so a relocated package
 * keeps its digest and its signatures; where it went is written beside the
 * store's content in relocations.json instead of being written into any
 * signed document. */
#include "package/store.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/package/bundle.h>

#define MAP_NAME "relocations.json"
#define MAP_MAX  (16u << 20)

/* "kat_nmap:1.2.0+b1" -> repository "kat_nmap", tag "1.2.0_b1". */
static int remote_for(const char *prefix, const char *ref_name, char *out, size_t cap,
                      struct wh_err *err)
{
        char name[WH_REF_MAX], tag[WH_REF_MAX] = "latest";
        snprintf(name, sizeof(name), "%s", ref_name);
        char *colon = strrchr(name, ':');
        if (colon && !strchr(colon, '/')) {
                *colon = '\0';
                snprintf(tag, sizeof(tag), "%s", colon + 1);
        }
        for (char *p = name; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        for (char *p = tag; *p; p++)
                if (*p == '+')
                        *p = '_';
        if (snprintf(out, cap, "%s/%s:%s", prefix, name, tag) >= (int)cap)
                return wh_err_set(err, 0, "bundle", "relocated name too long for %s", ref_name);
        return 0;
}

static int save_map(struct wh_store *s, json_t *added, struct wh_err *err)
{
        cleanup_close int lock = -1;
        if (wh_store_lock_index(s, &lock, err) < 0)
                return -1;
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", s->path, MAP_NAME);
        cleanup_free char *old = NULL;
        size_t len;
        cleanup_json json_t *map = NULL;
        if (wh_read_file(path, MAP_MAX, &old, &len, err) == 0)
                map = json_loads(old, 0, NULL);
        else if (err->kind != WH_ERR_NOT_FOUND)
                return -1;
        if (!map)
                map = json_pack("{s:{}}", "relocations");
        json_t *rel = json_object_get(map, "relocations");
        int rc = json_is_object(rel) && json_object_update(rel, added) == 0
                     ? 0
                     : wh_err_set(err, 0, "bundle", "%s is not a relocation map", path);
        cleanup_free char *doc = rc == 0 ? wh_json_canonical(map) : NULL;
        if (rc == 0 && !doc)
                rc = wh_err_set(err, ENOMEM, "bundle", "writing %s", path);
        if (rc == 0)
                rc = wh_write_file_atomic(path, doc, strlen(doc), err);
        return rc;
}

int wh_bundle_relocate(struct wh_store *s, const struct wh_index_entry *e, size_t n,
                       const char *prefix, const struct wh_registry_options *o, struct wh_err *err)
{
        cleanup_json json_t *added = json_object();
        int rc = added ? 0 : wh_err_set(err, ENOMEM, "bundle", "relocating");
        for (size_t i = 0; rc == 0 && i < n; i++) {
                if (!e[i].ref_name[0])
                        continue;
                char remote[1024], digest[WH_DIGEST_BUF], location[1200];
                rc = remote_for(prefix, e[i].ref_name, remote, sizeof(remote), err);
                if (rc == 0)
                        rc = wh_registry_push(s, e[i].desc.digest, remote, o, NULL, digest, err);
                if (rc < 0) {
                        wh_err_prefix(err,
                                      "relocating %s (imported; push again with 'whiskers "
                                      "push')",
                                      e[i].ref_name);
                        break;
                }
                snprintf(location, sizeof(location), "%s@%s", remote, digest);
                json_object_set_new(added, e[i].ref_name,
                                    json_pack("{s:s,s:s}", "digest", digest, "location", location));
        }
        if (rc == 0)
                rc = save_map(s, added, err);
        return rc;
}
