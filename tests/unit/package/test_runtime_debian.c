/* Runtime images from Debian packages, with a fake mmdebstrap
 * (WHISKERS_MMDEBSTRAP) and a file:// mirror: what the image holds after
 * pruning, the cache (same inputs: mmdebstrap does not run again; a new
 * InRelease: it does), the update-alternatives links the packages' postinst
 * scripts declare, and failures (a missing package, mmdebstrap failing
 * halfway, the archive changing during the build, a postinst declaring a
 * link outside the root) leaving nothing tagged and
 * no staging directory behind. tests/e2e/test_runtime_debian.sh builds from
 * the real archive. */
#include "pkgtest.h"

static const char fake[] =
    "#!/bin/sh\n"
    "suite=$6 root=$7 url=$(echo \"$8\" | cut -d' ' -f2)\n"
    "echo \"$*\" >>\"$FAKE_COUNT\"\n"
    "mkdir -p \"$root\"/usr/bin \"$root\"/usr/sbin \"$root\"/var/lib/apt/lists \\\n"
    "  \"$root\"/var/cache/apt/archives \"$root\"/usr/lib/python3/dist-packages \\\n"
    "  \"$root\"/usr/share/doc/foo \"$root\"/usr/share/man/man1 \"$root\"/etc \"$root\"/dev\n"
    "cd \"$root\"\n"
    "echo r >usr/sbin/rmt; ln -s /usr/sbin/rmt etc/rmt\n"
    "case \"$FAKE_MODE\" in\n"
    "missing) echo 'E: Unable to locate package nosuchpkg' >&2; exit 100;;\n"
    "half) echo 'E: Failed to fetch http://x/a.deb  404' >&2; echo 'I: bye' >&2; exit 1;;\n"
    "esac\n"
    "cp \"${url#file://}/dists/$suite/InRelease\" var/lib/apt/lists/m_dists_${suite}_InRelease\n"
    "[ \"$FAKE_MODE\" != changed ] || echo new >>var/lib/apt/lists/m_dists_${suite}_InRelease\n"
    "py=python3.${FAKE_MINOR:-13}\n"
    "[ \"$FAKE_MODE\" = nopython ] || {\n"
    "  printf 'not elf' >usr/bin/$py; chmod 755 usr/bin/$py; ln -s $py usr/bin/python3; }\n"
    "echo 'V = 1' >usr/lib/python3/dist-packages/fakelib.py\n"
    /* A .deb as dpkg-deb makes it, but only its control.tar (postinst: $2). */
    "mkdeb() {\n"
    "  c=$(mktemp -d); printf '%s\\n' \"$2\" >$c/postinst; tar -C $c -cf $c/control.tar "
    "./postinst\n"
    "  { printf '!<arch>\\n%-16s%-12s%-6s%-6s%-8s%-10s`\\n' control.tar 0 0 0 100644 \\\n"
    "      $(wc -c <$c/control.tar); cat $c/control.tar; } >var/cache/apt/archives/$1.deb\n"
    "  rm -r $c; }\n"
    "mkdeb python3-fakelib_1.0-1_all 'set -e'\n"
    "mkdeb zlib1g_1%3a1.3_amd64 'exit 0'\n"
    "mkdir -p usr/lib/fake usr/lib/better; ln -s usr/bin bin\n"
    "echo fake >usr/lib/fake/libfake.so.3; echo better >usr/lib/better/libfake.so.3\n"
    "echo tool >usr/lib/better/fk; ln -s / usr/lib/up; mkdir wh-alt-dir\n"
    "mkdeb libfake_1_amd64 'update-alternatives --install /usr/lib/libfake.so.3 \\\n"
    "    libfake.so.3 /usr/lib/fake/libfake.so.3 10'\n"
    "mkdeb libbetter_1_amd64 'if [ \"$1\" = configure ]; then\n"
    "  update-alternatives --quiet --install /usr/lib/libfake.so.3 libfake.so.3 \\\n"
    "    \"/usr/lib/better/libfake.so.3\" 20 --slave /bin/fk fk /usr/lib/better/fk \\\n"
    "    --slave /usr/bin/gone gone /usr/lib/better/gone\n"
    "  update-alternatives --install /usr/lib/libfake.so.3 libfake.so.3 /usr/lib/none 99\n"
    "  update-alternatives --install /usr/bin/v v /usr/lib/v-$V 50 || true\n"
    "  update-alternatives --install /usr/lib/up/wh-alt-dir/esc esc /usr/lib/better/fk 5\n"
    "fi'\n"
    "case \"$FAKE_MODE\" in\n"
    "hostile) mkdeb evil_1_all 'update-alternatives --install /usr/bin/x x ../../etc/passwd 1';;\n"
    "outside) mkdeb evil_1_all 'update-alternatives --install /usr/../../etc/passwd x /usr/bin/ls "
    "1';;\n"
    "esac\n"
    "echo c >usr/share/doc/foo/copyright; echo l >usr/share/doc/foo/changelog.gz\n"
    "echo m >usr/share/man/man1/x.1; echo host >etc/hostname; : >dev/null\n";

struct fixture {
        char *dir, *layout, *mirror_url, *count;
        struct wh_store *s;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->dir = pt_tmpdir();
        f->layout = pt_path(f->dir, "layout");
        f->count = pt_path(f->dir, "count");
        pt_write(f->dir, "mmdebstrap", fake, 0755);
        pt_write(f->dir, "mirror/dists/fake/InRelease", "Suite: fake\n", 0644);
        pt_write(f->dir, "mirror/dists/old/InRelease", "Suite: old\n", 0644);
        assert_true(asprintf(&f->mirror_url, "file://%s/mirror", f->dir) > 0);
        char *prog = pt_path(f->dir, "mmdebstrap");
        setenv("WHISKERS_MMDEBSTRAP", prog, 1);
        setenv("FAKE_COUNT", f->count, 1);
        setenv("FAKE_MODE", "ok", 1);
        free(prog);
        struct wh_err err = {0};
        assert_int_equal(wh_store_open(f->layout, WH_STORE_CREATE, &f->s, &err), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        wh_store_close(f->s);
        pt_rmrf(f->dir);
        free(f->dir);
        free(f->layout);
        free(f->mirror_url);
        free(f->count);
        free(f);
        return 0;
}

static size_t runs(const struct fixture *f)
{
        char *text = pt_read(f->dir, "count");
        size_t n = 0;
        for (char *p = text; p && *p; p++)
                n += *p == '\n';
        free(text);
        return n;
}

static int build_suite(struct fixture *f, const char *suite, const char *tag,
                       struct wh_descriptor *root, bool *reused, struct wh_err *err)
{
        static const char *const pkgs[] = {"python3-fakelib", "python3-minimal", "python3-fakelib"};
        struct wh_runtime_build_options o = {.debian_suite = suite,
                                             .debian_packages = pkgs,
                                             .n_debian_packages = 3,
                                             .mirror = f->mirror_url,
                                             .tag = tag,
                                             .reused = reused};
        return wh_runtime_build(f->s, &o, root, err);
}

static int build(struct fixture *f, const char *tag, struct wh_descriptor *root, bool *reused,
                 struct wh_err *err)
{
        return build_suite(f, "fake", tag, root, reused, err);
}

static size_t tags(struct fixture *f)
{
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        struct wh_err err = {0};
        assert_int_equal(wh_store_list(f->s, &e, &n, &err), 0);
        free(e);
        return n;
}

static void test_image_content(void **state)
{
        struct fixture *f = *state;
        struct wh_err err = {0};
        struct wh_descriptor root;
        bool reused = true;
        assert_int_equal(build(f, NULL, &root, &reused, &err), 0);
        assert_false(reused);
        assert_int_equal(runs(f), 1);
        /* The package list reached mmdebstrap sorted and without duplicates. */
        char *args = pt_read(f->dir, "count");
        assert_non_null(
            strstr(args, "--variant=extract --include=python3-fakelib,python3-minimal "));
        free(args);

        struct wh_runtime_ref rt;
        assert_int_equal(wh_runtime_read(f->s, "runtime-python3.13:fake", &rt, &err), 0);
        assert_string_equal(rt.name, "python3.13");
        assert_string_equal(rt.interpreter, "/usr/bin/python3.13");
        json_t *a = wh_store_annotations(f->s, root.digest);
        assert_string_equal(json_string_value(json_object_get(a, WH_ANN_RUNTIME_DEBIAN_SUITE)),
                            "fake");
        assert_string_equal(json_string_value(json_object_get(a, WH_ANN_RUNTIME_DEBIAN_PACKAGES)),
                            "python3-fakelib,python3-minimal");
        json_decref(a);

        char *cache = pt_path(f->dir, "cache"), path[PATH_MAX];
        assert_int_equal(wh_runtime_unpack(f->s, root.digest, cache, path, sizeof(path), &err), 0);
        char *at = pt_path(path, "etc/rmt"), link[256] = "";
        assert_int_equal(readlink(at, link, sizeof(link) - 1), 15);
        assert_string_equal(link, "../usr/sbin/rmt"); /* absolute links made relative */
        free(at);
        char *versions = pt_read(path, "whiskers/debian-packages");
        assert_string_equal(versions, "libbetter_1_amd64\nlibfake_1_amd64\n"
                                      "python3-fakelib_1.0-1_all\nzlib1g_1%3a1.3_amd64\n");
        free(versions);
        /* The alternative of highest priority whose path is in the tree, and
         * its slaves whose path is there; a call with $V is skipped. */
        char *alts = pt_read(path, "whiskers/debian-alternatives");
        assert_non_null(alts);
        assert_string_equal(alts,
                            "esc /usr/lib/up/wh-alt-dir/esc /usr/lib/better/fk\n"
                            "libfake.so.3 /usr/lib/libfake.so.3 /usr/lib/better/libfake.so.3\n"
                            "fk /bin/fk /usr/lib/better/fk\n");
        free(alts);
        char *blas = pt_read(path, "usr/lib/libfake.so.3");
        assert_string_equal(blas, "better\n");
        free(blas);
        char *fk = pt_read(path, "usr/bin/fk");
        assert_string_equal(fk, "tool\n");
        free(fk);
        at = pt_path(path, "usr/lib/libfake.so.3");
        memset(link, 0, sizeof(link));
        assert_true(readlink(at, link, sizeof(link) - 1) > 0);
        assert_string_equal(link, "../../etc/alternatives/libfake.so.3");
        free(at);
        assert_false(pt_exists(path, "usr/bin/v"));
        /* A link's directory resolves inside the root: usr/lib/up -> / is the
         * root itself there, not the host's / (which has no wh-alt-dir). */
        assert_true(pt_exists(path, "wh-alt-dir/esc"));
        assert_false(pt_exists(path, "etc/alternatives/gone"));
        char *lib = pt_read(path, "whiskers/python/debian/fakelib.py");
        assert_string_equal(lib, "V = 1\n");
        free(lib);
        assert_true(pt_exists(path, "usr/share/doc/foo/copyright"));
        static const char *const gone[] = {"usr/share/doc/foo/changelog.gz", "usr/share/man", "var",
                                           "etc/hostname", "dev/null"};
        for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
                assert_false(pt_exists(path, gone[i]));
        static const char *const mounts[] = {
            "proc", "dev", "tmp", "normaliser", "input", "whiskers/python/0", "whiskers/python/7",
            "bin"};
        for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++)
                assert_true(pt_exists(path, mounts[i]));
        assert_int_equal(pt_count(f->layout), 4); /* oci-layout, index.json, blobs, .whiskers */
        char *tmp = pt_path(f->layout, ".whiskers/tmp");
        assert_int_equal(pt_count(tmp), 0);
        free(tmp);
        free(cache);
}

static void test_cached_and_reproducible(void **state)
{
        struct fixture *f = *state;
        struct wh_err err = {0};
        struct wh_descriptor first, again, other;
        bool reused = false;
        assert_int_equal(build(f, NULL, &first, &reused, &err), 0);
        assert_int_equal(build(f, "mine:1", &again, &reused, &err), 0);
        assert_true(reused);
        assert_int_equal(runs(f), 1); /* the second build did not run mmdebstrap */
        assert_string_equal(first.digest, again.digest);
        assert_int_equal(tags(f), 2);

        /* Another store: mmdebstrap runs again and the digest is the same. */
        struct wh_store *s2;
        char *l2 = pt_path(f->dir, "layout2");
        assert_int_equal(wh_store_open(l2, WH_STORE_CREATE, &s2, &err), 0);
        struct wh_store *keep = f->s;
        f->s = s2;
        assert_int_equal(build(f, NULL, &other, &reused, &err), 0);
        f->s = keep;
        wh_store_close(s2);
        free(l2);
        assert_false(reused);
        assert_int_equal(runs(f), 2);
        assert_string_equal(first.digest, other.digest);

        /* A new archive state (InRelease) builds anew. */
        pt_write(f->dir, "mirror/dists/fake/InRelease", "Suite: fake\nDate: later\n", 0644);
        assert_int_equal(build(f, NULL, &other, &reused, &err), 0);
        assert_false(reused);
        assert_int_equal(runs(f), 3);
        assert_string_not_equal(first.digest, other.digest);
}

static void expect_failure(struct fixture *f, const char *mode, const char *message)
{
        struct wh_err err = {0};
        struct wh_descriptor root;
        setenv("FAKE_MODE", mode, 1);
        assert_int_equal(build(f, NULL, &root, NULL, &err), -1);
        if (!strstr(err.msg, message))
                fail_msg("%s: expected \"%s\" in \"%s\"", mode, message, err.msg);
        assert_int_equal(tags(f), 0);
        char *tmp = pt_path(f->layout, ".whiskers/tmp");
        assert_int_equal(pt_count(tmp), 0); /* no half-built tree left */
        free(tmp);
}

static void test_failures(void **state)
{
        struct fixture *f = *state;
        expect_failure(f, "missing", "Debian package 'nosuchpkg' does not exist in fake (file://");
        expect_failure(f, "half",
                       "mmdebstrap failed (exit status 1): E: Failed to fetch http://x/a.deb");
        expect_failure(f, "changed", "the archive's fake changed during the build");
        expect_failure(f, "nopython", "no /usr/bin/python3, the image's interpreter");
        expect_failure(f, "hostile",
                       "evil_1_all: its postinst declares the alternative 'x' with link "
                       "'/usr/bin/x' and path '../../etc/passwd', not absolute paths inside");
        expect_failure(f, "outside", "with link '/usr/../../etc/passwd'");
        setenv("FAKE_MODE", "ok", 1);
        size_t before = runs(f);

        struct wh_err err = {0};
        struct wh_descriptor root;
        static const char *const bad[] = {"-rf"};
        struct wh_runtime_build_options o = {
            .debian_suite = "fake", .debian_packages = bad, .n_debian_packages = 1};
        assert_int_equal(wh_runtime_build(f->s, &o, &root, &err), -1);
        assert_non_null(strstr(err.msg, "'-rf' is not a Debian package name"));
        static const char *const good[] = {"python3"};
        o.debian_packages = good;
        o.mirror = "ftp://x/debian";
        assert_int_equal(wh_runtime_build(f->s, &o, &root, &err), -1);
        assert_non_null(strstr(err.msg, "--mirror wants an http://"));
        o.mirror = f->mirror_url;
        o.debian_suite = "nosuite";
        assert_int_equal(wh_runtime_build(f->s, &o, &root, &err), -1);
        assert_non_null(strstr(err.msg, "is the suite 'nosuite' on this mirror"));
        assert_int_equal(runs(f), before); /* refused before mmdebstrap */
}

/* One OpenKAT-form directory, two images: one variant per image, the first
 * the baseline, and the choice rule takes the newer Python. */
static void test_image_variants(void **state)
{
        struct fixture *f = *state;
        struct wh_err err = {0};
        struct wh_descriptor img, root;
        assert_int_equal(build(f, NULL, &img, NULL, &err), 0);
        setenv("FAKE_MINOR", "11", 1);
        assert_int_equal(build_suite(f, "old", NULL, &img, NULL, &err), 0);
        unsetenv("FAKE_MINOR");
        char *dir = pt_path(f->dir, "kat_x");
        pt_write(f->dir, "kat_x/normalizer.json",
                 "{\"id\": \"kat_x\", \"consumes\": [\"x/y\"], \"produces\": []}\n", 0644);
        pt_write(f->dir, "kat_x/normalize.py", "def run(i, r):\n    return []\n", 0644);
        const char *dirs[] = {dir};
        const char *images[] = {"runtime-python3.11:old", "runtime-python3.13:fake"};
        struct wh_pack_options o = {
            .source_date_epoch = -1, .runtime_images = images, .n_runtime_images = 2};
        if (wh_pack(f->s, dirs, 1, &o, &root, &err) < 0)
                fail_msg("pack: %s", err.msg);
        assert_string_equal(root.media_type, WH_MT_INDEX);
        struct wh_variant_choice c;
        struct wh_host host = {.os = "linux", .arch = "amd64", .arch_level = 1};
        assert_int_equal(wh_variants_read(f->s, &root, &c, &err), 0);
        assert_int_equal(c.n, 2);
        assert_int_equal(wh_variant_choose(&c, &host, NULL, &err), 0);
        assert_string_equal(c.options[c.chosen].variant.name, "python3.13");
        assert_string_equal(c.options[c.chosen].variant.runtime, "python3.13");
        assert_true(c.options[c.chosen ? 0 : 1].variant.baseline); /* python3.11, given first */
        wh_variant_choice_clear(&c);
        struct wh_descriptor d;
        assert_int_equal(wh_store_resolve(f->s, "kat_x:unversioned", &d, &err), 0);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_image_content, setup, teardown),
            cmocka_unit_test_setup_teardown(test_cached_and_reproducible, setup, teardown),
            cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
            cmocka_unit_test_setup_teardown(test_image_variants, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
