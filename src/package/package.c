/* Loading a package to run it: resolve, enforce the signature policy, choose
 * the variant, read its config; then unpack its layer. The policy fails
 * closed: without a trust directory the caller must say allow_unsigned. */
#include "package/layer_read.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/package.h>

static void describe_sigs(const struct wh_sig_report *r, char *buf, size_t len)
{
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < r->n && used < len; i++) {
                int w = snprintf(buf + used, len - used, "%skey %.20s...: %s", i ? "; " : "",
                                 r->sigs[i].key_id[0] ? r->sigs[i].key_id : "unknown",
                                 wh_sig_status_name(r->sigs[i].status));
                used += w > 0 ? (size_t)w : 0;
        }
}

/* A valid signature on the root (what the tag names) covers every variant
 * through the digests inside it; one on the chosen manifest is accepted too. */
static int enforce_trust(struct wh_store *s, struct wh_package *p, const struct wh_load_options *o,
                         struct wh_err *err)
{
        if (o->allow_unsigned)
                return 0;
        if (!o->trust)
                return wh_err_set(err, 0, "trust",
                                  "no trust directory configured: refusing to run an unverified "
                                  "package (configure trusted keys, or allow unsigned packages "
                                  "for development only)");
        const char *subjects[2] = {p->root.digest, p->manifest.digest};
        size_t nsubjects = strcmp(subjects[0], subjects[1]) == 0 ? 1 : 2;
        char why[2][600];
        for (size_t i = 0; i < nsubjects; i++) {
                struct wh_sig_report rep;
                if (wh_trust_check(s, subjects[i], o->trust, &rep, err) < 0)
                        return -1;
                for (size_t j = 0; j < rep.n && !p->signed_by[0]; j++)
                        if (rep.sigs[j].status == WH_SIG_VALID)
                                memcpy(p->signed_by, rep.sigs[j].key_id, WH_DIGEST_BUF);
                describe_sigs(&rep, why[i], sizeof(why[i]));
                wh_sig_report_clear(&rep);
                if (p->signed_by[0])
                        return 0;
        }
        if (!why[0][0] && (nsubjects == 1 || !why[1][0]))
                return wh_err_set(err, 0, "trust",
                                  "package %s is not signed; sign it with 'whiskers sign' and "
                                  "trust the key",
                                  p->root.digest);
        return wh_err_set(err, 0, "trust",
                          "package %s has no valid signature by a trusted key (%s%s%s)",
                          p->root.digest, why[0], nsubjects == 2 && why[1][0] ? "; variant: " : "",
                          nsubjects == 2 ? why[1] : "");
}

/* Only layers are unpacked: what every import checked against the rules. */
static int not_a_layer(const struct wh_package *p, const struct wh_descriptor *d,
                       struct wh_err *err)
{
        return wh_err_set(err, 0, "package", "%s: %s is a %s, not a tar layer", p->manifest.digest,
                          d->digest, d->media_type);
}

/* The normaliser's files first; then the carried runtime image's layer and
 * the Python layers, each exactly as the config names them, in order. */
static int read_layers(json_t *layers, struct wh_package *p, struct wh_err *err)
{
        json_t *ri = p->meta.runtime_image, *pl = p->meta.python_layers;
        size_t extra = (ri ? 1 : 0), want = 1 + extra + json_array_size(pl);
        if (json_array_size(layers) != want)
                return wh_err_set(err, 0, "package", "%s must have %zu layers (files%s%s), not %zu",
                                  p->manifest.digest, want, ri ? ", runtime image" : "",
                                  pl ? ", Python layers" : "", json_array_size(layers));
        if (wh_descriptor_from_json(json_array_get(layers, 0), "manifest layer", &p->layer, err) <
            0)
                return -1;
        if (!wh_media_type_is_layer(p->layer.media_type))
                return not_a_layer(p, &p->layer, err);
        if (ri && wh_descriptor_from_json(json_array_get(layers, 1), "runtime layer",
                                          &p->runtime_layer, err) < 0)
                return -1;
        if (ri && !wh_media_type_is_layer(p->runtime_layer.media_type))
                return not_a_layer(p, &p->runtime_layer, err);
        const char *named =
            json_string_value(json_object_get(json_object_get(ri, "layer"), "digest"));
        if (ri && (!named || strcmp(named, p->runtime_layer.digest) != 0))
                return wh_err_set(err, 0, "package",
                                  "%s: its second layer is not the runtime image its config names",
                                  p->manifest.digest);
        for (size_t i = 0; i < json_array_size(pl); i++) {
                struct wh_descriptor *d = &p->python_layers[i];
                named = json_string_value(json_object_get(json_array_get(pl, i), "digest"));
                if (wh_descriptor_from_json(json_array_get(layers, 1 + extra + i), "Python layer",
                                            d, err) < 0)
                        return -1;
                if (!wh_media_type_is_layer(d->media_type))
                        return not_a_layer(p, d, err);
                if (!named || strcmp(named, d->digest) != 0)
                        return wh_err_set(err, 0, "package",
                                          "%s: layer %zu is not the Python layer its config names",
                                          p->manifest.digest, 1 + extra + i);
                p->n_python_layers = i + 1;
        }
        return 0;
}

static int read_manifest(struct wh_store *s, struct wh_package *p, struct wh_err *err)
{
        cleanup_json json_t *m = NULL, *cfg = NULL;
        if (wh_store_read_json(s, &p->manifest, "manifest", &m, err) < 0)
                return -1;
        int rc = wh_descriptor_from_json(json_object_get(m, "config"), "manifest config",
                                         &p->config, err);
        if (rc == 0 && strcmp(p->config.media_type, WH_MT_NORMALIZER_CONFIG) != 0)
                rc = wh_err_set(err, 0, "package", "%s is not a whiskers normaliser",
                                p->manifest.digest);
        if (rc == 0)
                rc = wh_store_read_json(s, &p->config, "config", &cfg, err);
        if (rc == 0)
                rc = wh_package_meta_parse(cfg, "package config", &p->meta, err);
        if (rc == 0)
                rc = read_layers(json_object_get(m, "layers"), p, err);
        return rc;
}

int wh_package_load(struct wh_store *s, const char *ref, const struct wh_load_options *o,
                    struct wh_package *out, struct wh_err *err)
{
        static const struct wh_load_options none = {0};
        struct wh_package p = {.choice.chosen = -1};
        struct wh_host detected;
        if (!o)
                o = &none;
        const struct wh_host *host = o->host;
        if (!host && wh_host_detect(&detected, err) < 0)
                return -1;
        if (!host)
                host = &detected;
        int rc = wh_store_resolve(s, ref, &p.root, err);
        if (rc == 0)
                rc = wh_variants_read(s, &p.root, &p.choice, err);
        if (rc == 0)
                rc = wh_variant_choose(&p.choice, host, o->variant, err);
        if (rc == 0) {
                p.manifest = p.choice.options[p.choice.chosen].manifest;
                rc = enforce_trust(s, &p, o, err);
        }
        if (rc == 0)
                rc = read_manifest(s, &p, err);
        if (rc < 0) {
                wh_package_clear(&p);
                return -1;
        }
        *out = p;
        return 0;
}

void wh_package_clear(struct wh_package *p)
{
        wh_package_meta_clear(&p->meta);
        wh_variant_choice_clear(&p->choice);
}

int wh_package_unpack(struct wh_store *s, const struct wh_package *p, const char *dest,
                      const struct wh_unpack_limits *lim, struct wh_err *err)
{
        cleanup_close int fd = -1;
        if (wh_store_blob_open_desc(s, &p->layer, &fd, err) < 0)
                return -1;
        return wh_unpack_tar(fd, p->layer.digest, dest, lim, err);
}
