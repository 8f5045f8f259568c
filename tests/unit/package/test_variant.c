/* Variants: the ordered choice rule on synthetic hosts, packing several
 * directories into one index, and loading + unpacking the chosen variant. */
#include "pkgtest.h"

static struct wh_variant_option opt(const char *name, bool baseline, const char *runtime,
                                    const char *arch, const char *level)
{
        struct wh_variant_option o = {0};
        snprintf(o.variant.name, WH_NAME_MAX, "%s", name);
        o.variant.baseline = baseline;
        snprintf(o.variant.runtime, WH_NAME_MAX, "%s", runtime);
        if (arch) {
                snprintf(o.variant.os, WH_NAME_MAX, "linux");
                snprintf(o.variant.arch, WH_NAME_MAX, "%s", arch);
        }
        if (level)
                snprintf(o.variant.arch_variant, WH_NAME_MAX, "%s", level);
        return o;
}

static struct wh_host host(int level, const char *const *runtimes)
{
        struct wh_host h = {.os = "linux", .arch = "amd64", .arch_level = level};
        for (; *runtimes; runtimes++)
                assert_int_equal(wh_host_add_runtime(&h, *runtimes, NULL), 0);
        return h;
}

static const char *choose(struct wh_variant_option *opts, size_t n, const struct wh_host *h,
                          const char *force, char *reason, struct wh_err *err)
{
        struct wh_variant_choice c = {.n = n, .options = opts};
        if (wh_variant_choose(&c, h, force, err) < 0)
                return NULL;
        snprintf(reason, WH_ERR_MSG_MAX, "%s", c.reason);
        return opts[c.chosen].variant.name;
}

static void test_choice_rule(void **state)
{
        (void)state;
        struct wh_err err = {0};
        char why[WH_ERR_MSG_MAX];
        struct wh_variant_option v[] = {
            opt("baseline", true, "python3", NULL, NULL),
            opt("py313", false, "python3.13", NULL, NULL),
            opt("py311", false, "python3.11", NULL, NULL),
            opt("native-v3", false, "exec", "amd64", "v3"),
        };
        const char *deb12[] = {"exec", "python3", "python3.11", NULL};
        const char *both[] = {"exec", "python3", "python3.11", "python3.13", NULL};
        const char *none[] = {"exec", NULL};

        /* Rule 2: the v3 native build wins on a v3 host... */
        struct wh_host h = host(3, deb12);
        assert_string_equal(choose(v, 4, &h, NULL, why, &err), "native-v3");
        assert_non_null(strstr(why, "rule 2"));
        assert_false(v[1].runnable);
        assert_string_equal(v[1].why, "needs runtime python3.13, host has exec python3 python3.11");
        /* ...not on a v2 host, where rule 3 picks the newest runnable Python. */
        h = host(2, deb12);
        assert_string_equal(choose(v, 4, &h, NULL, why, &err), "py311");
        assert_non_null(strstr(why, "rule 3"));
        assert_string_equal(v[3].why, "needs amd64 v3, host is v2");
        h = host(2, both);
        assert_string_equal(choose(v, 4, &h, NULL, why, &err), "py313");
        assert_non_null(strstr(why, "python3.13"));
        /* Rule 4: a specific variant before the baseline when nothing else differs. */
        struct wh_variant_option w[] = {opt("baseline", true, "exec", "amd64", NULL),
                                        opt("tuned", false, "exec", "amd64", "v1")};
        assert_string_equal(choose(w, 2, &h, NULL, why, &err), "tuned");
        assert_non_null(strstr(why, "rule 4"));
        /* Rule 5: the name decides a full tie (foreign packages only). */
        struct wh_variant_option t[] = {opt("b", false, "exec", NULL, NULL),
                                        opt("a", false, "exec", NULL, NULL)};
        assert_string_equal(choose(t, 2, &h, NULL, why, &err), "a");
        assert_non_null(strstr(why, "rule 5"));
        /* Rule 0: forcing a name, runnable or not. */
        h = host(3, deb12);
        assert_string_equal(choose(v, 4, &h, "baseline", why, &err), "baseline");
        assert_null(choose(v, 4, &h, "py313", why, &err));
        assert_non_null(strstr(err.msg, "cannot run on this host: needs runtime python3.13"));
        assert_null(choose(v, 4, &h, "nope", why, &err));
        assert_non_null(strstr(err.msg, "no variant \"nope\""));
        /* Another architecture, no Python: nothing runs, every reason is named. */
        h = host(0, none);
        snprintf(h.arch, sizeof(h.arch), "arm64");
        assert_null(choose(v, 4, &h, NULL, why, &err));
        assert_non_null(strstr(err.msg, "native-v3: needs architecture amd64, host is arm64"));
        assert_non_null(strstr(err.msg, "baseline: needs runtime python3"));
        /* A single runnable variant. */
        h = host(1, deb12);
        assert_string_equal(choose(v, 1, &h, NULL, why, &err), "baseline");
        assert_string_equal(why, "the only variant this host can run");
}

/* A variant that carries its runtime image needs no interpreter on the
 * host; the config must name an image that provides its runtime. */
static void test_runtime_image(void **state)
{
        (void)state;
        struct wh_err err = {0};
        char why[WH_ERR_MSG_MAX];
        const char *none[] = {"exec", NULL};
        struct wh_host h = host(1, none);
        struct wh_variant_option v[] = {opt("py", true, "python3.11", NULL, NULL)};
        assert_null(choose(v, 1, &h, NULL, why, &err));
        snprintf(v[0].variant.runtime_image, WH_DIGEST_BUF, "sha256:%064d", 1);
        assert_string_equal(choose(v, 1, &h, NULL, why, &err), "py");

        const char *layer = "{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\", "
                            "\"digest\": \"sha256:2222222222222222222222222222222222222222222222"
                            "222222222222222222\", \"size\": 1}";
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"id\": \"a\", \"version\": \"1\", \"consumes\": [\"x\"], \"produces\": [], "
                 "\"runtime\": \"python3.11\", \"entrypoint\": \"n.py\", \"runtime_image\": "
                 "{\"manifest\": \"sha256:%064d\", \"layer\": %s, \"name\": \"%s\", "
                 "\"interpreter\": \"/usr/bin/python3\"}}",
                 1, layer, "python3.11");
        struct wh_package_meta n;
        json_t *obj = json_loads(text, 0, NULL);
        assert_non_null(obj);
        assert_int_equal(wh_package_meta_parse(obj, "cfg", &n, &err), 0);
        assert_non_null(n.runtime_image);
        assert_string_equal(
            n.variant.runtime_image,
            json_string_value(json_object_get(json_object_get(obj, "runtime_image"), "manifest")));
        wh_package_meta_clear(&n);
        json_object_set_new(json_object_get(obj, "runtime_image"), "name",
                            json_string("python3.13"));
        assert_int_equal(wh_package_meta_parse(obj, "cfg", &n, &err), -1);
        assert_non_null(strstr(err.msg, "cannot run runtime python3.11"));
        json_object_set_new(json_object_get(obj, "runtime_image"), "manifest", json_string("x"));
        assert_int_equal(wh_package_meta_parse(obj, "cfg", &n, &err), -1);
        assert_non_null(strstr(err.msg, "runtime_image"));
        json_decref(obj);
}

static void test_host_detect(void **state)
{
        (void)state;
        struct wh_host h;
        struct wh_err err = {0};
        assert_int_equal(wh_host_detect(&h, &err), 0);
        assert_string_equal(h.os, "linux");
        assert_true(h.nruntimes >= 1);
        bool exec = false;
        for (size_t i = 0; i < h.nruntimes; i++)
                exec |= strcmp(h.runtimes[i], "exec") == 0;
        assert_true(exec);
#if defined(__x86_64__)
        assert_string_equal(h.arch, "amd64");
        assert_in_range(h.arch_level, 1, 4);
#endif
        if (access("/usr/bin/python3", X_OK) == 0) {
                bool py = false;
                for (size_t i = 0; i < h.nruntimes; i++)
                        py |= strcmp(h.runtimes[i], "python3") == 0;
                assert_true(py);
        }
}

static const char native_variant[] =
    "\"variant\": {\"name\": \"native-v3\", \"platform\": {\"os\": \"linux\", "
    "\"architecture\": \"amd64\", \"variant\": \"v3\"}}";
static const char baseline_variant[] = "\"variant\": {\"name\": \"baseline\", \"baseline\": true}";

static void test_pack_variants(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *layout = pt_path(dir, "store"), *py = pt_path(dir, "py"), *nat = pt_path(dir, "nat");
        char *out = pt_path(dir, "unpacked");
        pt_normaliser(py, "python3", baseline_variant);
        pt_normaliser(nat, "exec", native_variant);
        struct wh_store *s = pt_store(layout);
        struct wh_err err = {0};
        struct wh_descriptor root, again;
        const char *fwd[] = {nat, py}, *rev[] = {py, nat};
        pt_pack(s, fwd, 2, NULL, &root);
        pt_pack(s, rev, 2, NULL, &again);
        assert_string_equal(root.media_type, WH_MT_INDEX);
        assert_string_equal(root.digest, again.digest); /* order of directories is irrelevant */

        struct wh_variant_choice c;
        assert_int_equal(wh_variants_read(s, &root, &c, &err), 0);
        assert_int_equal(c.n, 2);
        assert_string_equal(c.options[0].variant.name, "baseline");
        assert_true(c.options[0].variant.baseline);
        assert_string_equal(c.options[0].variant.runtime, "python3");
        assert_string_equal(c.options[1].variant.name, "native-v3");
        assert_string_equal(c.options[1].variant.arch, "amd64");
        assert_string_equal(c.options[1].variant.arch_variant, "v3");
        wh_variant_choice_clear(&c);

        /* Load on a v2 host (baseline) and a v3 host (native), unpack each. */
        const char *rts[] = {"exec", "python3", NULL};
        struct wh_host v2 = host(2, rts), v3 = host(3, rts);
        struct wh_load_options o = {.host = &v2, .allow_unsigned = true};
        struct wh_package p;
        assert_int_equal(wh_package_load(s, "kat_nmap_normalize:1.2.0", &o, &p, &err), 0);
        assert_string_equal(p.meta.entrypoint, "normalize.py");
        assert_string_equal(p.choice.options[p.choice.chosen].variant.name, "baseline");
        assert_int_equal(wh_package_unpack(s, &p, out, NULL, &err), 0);
        assert_true(pt_exists(out, "normalize.py"));
        assert_false(pt_exists(out, "bin/normalize"));
        wh_package_clear(&p);
        pt_rmrf(out);
        o.host = &v3;
        assert_int_equal(wh_package_load(s, NULL, &o, &p, &err), 0);
        assert_string_equal(p.meta.entrypoint, "bin/normalize");
        assert_int_equal(wh_package_unpack(s, &p, out, NULL, &err), 0);
        struct stat st;
        char *bin = pt_path(out, "bin/normalize");
        assert_int_equal(stat(bin, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0755);
        free(bin);
        wh_package_clear(&p);
        /* Without a trust directory and without allow_unsigned: refused. */
        o.allow_unsigned = false;
        PT_EXPECT_ERR(wh_package_load(s, NULL, &o, &p, &err), err, "no trust directory");
        wh_store_close(s);
        free(layout);
        free(py);
        free(nat);
        free(out);
        pt_rmrf(dir);
        free(dir);
}

static void test_variant_packing_errors(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *layout = pt_path(dir, "store"), *a = pt_path(dir, "a"), *b = pt_path(dir, "b");
        struct wh_store *s = pt_store(layout);
        struct wh_err err = {0};
        struct wh_descriptor d;
        const char *dirs[] = {a, b};
        pt_normaliser(a, "python3", "");
        pt_normaliser(b, "python3", "");
        PT_EXPECT_ERR(wh_pack(s, dirs, 2, NULL, &d, &err), err,
                      "both name their variant \"baseline\"");
        pt_normaliser(b, "python3.13", "\"variant\": {\"name\": \"py313\", \"baseline\": true}");
        PT_EXPECT_ERR(wh_pack(s, dirs, 2, NULL, &d, &err), err,
                      "exactly one baseline variant, found 2");
        pt_normaliser(b, "python3", "\"variant\": {\"name\": \"py\"}");
        PT_EXPECT_ERR(wh_pack(s, dirs, 2, NULL, &d, &err), err,
                      "need the same runtime and platform");
        pt_normaliser(a, "exec",
                      "\"variant\": {\"name\": \"v3\", \"baseline\": true, \"platform\": "
                      "{\"architecture\": \"amd64\", \"variant\": \"v3\"}}");
        PT_EXPECT_ERR(wh_pack(s, dirs, 2, NULL, &d, &err), err,
                      "baseline variant must run on every host");
        pt_normaliser(a, "python3", "");
        char *meta = pt_read(b, "normalizer.json");
        char *v = strstr(meta, "1.2.0");
        memcpy(v, "1.2.1", 5);
        pt_write(b, "normalizer.json", meta, 0644);
        free(meta);
        PT_EXPECT_ERR(wh_pack(s, dirs, 2, NULL, &d, &err), err, "not variants of one normaliser");
        struct wh_pack_options bad_tag = {.tag = "no spaces", .source_date_epoch = -1};
        PT_EXPECT_ERR(wh_pack(s, dirs, 1, &bad_tag, &d, &err), err, "not a valid tag");
        /* Every refusal came before any blob was written. */
        struct wh_index_entry *e;
        size_t n;
        assert_int_equal(wh_store_list(s, &e, &n, &err), 0);
        assert_int_equal(n, 0);
        free(e);
        char *blobs = pt_path(layout, "blobs/sha256");
        assert_int_equal(pt_count(blobs), 0);
        free(blobs);
        wh_store_close(s);
        free(layout);
        free(a);
        free(b);
        pt_rmrf(dir);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_choice_rule),
            cmocka_unit_test(test_runtime_image),
            cmocka_unit_test(test_host_detect),
            cmocka_unit_test(test_pack_variants),
            cmocka_unit_test(test_variant_packing_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
