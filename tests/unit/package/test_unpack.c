/* Safe extraction: hostile tarballs, crafted here with libarchive, are
 * refused with a clear error, leave nothing behind and write nothing outside
 * the destination; a well-formed layer extracts exactly. The check every
 * import runs (wh_layer_read without extraction) refuses the same. */
#include "pkgtest.h"
#include "package/digest.h"
#include "package/layer_read.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

struct spec {
        const char *name;
        char type;          /* f file, d dir, s symlink, h hardlink, c char device, p fifo */
        const char *arg;    /* file content, or link target */
        mode_t perm;        /* 0 = 0644 */
        uint64_t zero_fill; /* file of this many zero bytes instead of arg */
};

static void make_tar(const char *path, const struct spec *e, size_t n)
{
        struct archive *a = archive_write_new();
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        static char zeros[1 << 16];
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *ae = archive_entry_new();
                archive_entry_set_pathname(ae, e[i].name);
                archive_entry_set_perm(ae, e[i].perm ? e[i].perm : 0644);
                uint64_t size = 0;
                switch (e[i].type) {
                case 'd':
                        archive_entry_set_filetype(ae, AE_IFDIR);
                        break;
                case 's':
                        archive_entry_set_filetype(ae, AE_IFLNK);
                        archive_entry_set_symlink(ae, e[i].arg);
                        break;
                case 'h':
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_hardlink(ae, e[i].arg);
                        break;
                case 'c':
                        archive_entry_set_filetype(ae, AE_IFCHR);
                        archive_entry_set_rdev(ae, makedev(1, 3));
                        break;
                case 'p':
                        archive_entry_set_filetype(ae, AE_IFIFO);
                        break;
                default:
                        archive_entry_set_filetype(ae, AE_IFREG);
                        size = e[i].zero_fill ? e[i].zero_fill : strlen(e[i].arg);
                }
                archive_entry_set_size(ae, (la_int64_t)size);
                assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
                if (e[i].type == 'f' && !e[i].zero_fill)
                        assert_int_equal(archive_write_data(a, e[i].arg, size), (la_ssize_t)size);
                for (uint64_t left = e[i].type == 'f' ? e[i].zero_fill : 0; left;) {
                        size_t chunk = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
                        assert_int_equal(archive_write_data(a, zeros, chunk), (la_ssize_t)chunk);
                        left -= chunk;
                }
                archive_entry_free(ae);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

static int unpack_file(const char *tar, const char *expect, const char *dest,
                       const struct wh_unpack_limits *lim, struct wh_err *err)
{
        int fd = open(tar, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        int rc = wh_unpack_tar(fd, expect, dest, lim, err);
        close(fd);
        return rc;
}

#define E(...) ((const struct spec[]){__VA_ARGS__})
#define N(arr) (sizeof(arr) / sizeof(struct spec))

static const struct {
        const char *what, *needle;
        const struct spec *entries;
        size_t n;
        struct wh_unpack_limits lim;
} hostile[] = {
#define CASE(what, needle, lim, ...)                                                               \
        {                                                                                          \
                what, needle, (const struct spec[]){__VA_ARGS__},                                  \
                    sizeof((const struct spec[]){__VA_ARGS__}) / sizeof(struct spec), lim          \
        }
    CASE("dot-dot", "refused entry '../evil'", {0}, {"ok.txt", 'f', "x"}, {"../evil", 'f', "x"}),
    CASE("absolute", "refused entry '/tmp/evil-abs'", {0}, {"/tmp/evil-abs", 'f', "x"}),
    CASE("inner dot-dot", "absolute, or contains '..'", {0}, {"a/../../evil", 'f', "x"}),
    CASE("symlink absolute", "symlink leads outside", {0}, {"l", 's', "/etc/passwd"}),
    CASE("symlink up", "symlink leads outside", {0}, {"d/l", 's', "../../evil"}),
    CASE("symlink late dot-dot", "symlink leads outside", {0}, {"d/x", 'd'},
         {"d/l", 's', "x/../../.."}),
    CASE("write through symlink", "a parent is not a directory", {0}, {"sub", 'd'},
         {"l", 's', "sub"}, {"l/evil", 'f', "x"}),
    CASE("hardlink up", "hardlink target is absolute or contains '..'", {0}, {"h", 'h', "../evil"}),
    CASE("hardlink absolute", "hardlink target is absolute", {0}, {"h", 'h', "/etc/passwd"}),
    CASE("hardlink unknown", "not a file unpacked before it", {0}, {"h", 'h', "nope"}),
    CASE("hardlink to dir", "not a file unpacked before it", {0}, {"d", 'd'}, {"h", 'h', "d"}),
    CASE("char device", "device, fifo or socket", {0}, {"null", 'c'}),
    CASE("fifo", "device, fifo or socket", {0}, {"pipe", 'p'}),
    CASE("setuid", "setuid, setgid or sticky", {0}, {"su", 'f', "x", 04755}),
    CASE("setgid dir", "setuid, setgid or sticky", {0}, {"sg", 'd', NULL, 02755}),
    CASE("duplicate file", "duplicate entry", {0}, {"a.txt", 'f', "1"}, {"a.txt", 'f', "2"}),
    CASE("dir then file", "duplicate entry", {0}, {"d", 'd'}, {"./d/", 'f', "2"}),
    CASE("gzip bomb", "decompression bomb", {.max_bytes = 1 << 20},
         {"zeros", 'f', NULL, 0, 8u << 20}),
    CASE("too many entries", "more than 4 entries", {.max_entries = 4}, {"1", 'f', "x"},
         {"2", 'f', "x"}, {"3", 'f', "x"}, {"4", 'f', "x"}, {"5", 'f', "x"}),
    CASE("deep implicit dirs", "more than 4 entries", {.max_entries = 4},
         {"a/b/c/d/e/f.txt", 'f', "x"}),
#undef CASE
};

static void test_hostile_tars(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *tar = pt_path(dir, "layer.tar.gz"), *dest = pt_path(dir, "out");
        char *outside = pt_path(dir, "outside");
        assert_int_equal(mkdir(outside, 0755), 0);
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                make_tar(tar, hostile[i].entries, hostile[i].n);
                struct wh_err err = {0};
                if (unpack_file(tar, NULL, dest, &hostile[i].lim, &err) == 0)
                        fail_msg("%s: unpacked", hostile[i].what);
                if (!strstr(err.msg, hostile[i].needle))
                        fail_msg("%s: error '%s' lacks '%s'", hostile[i].what, err.msg,
                                 hostile[i].needle);
                /* Nothing visible, nothing left over, nothing outside. */
                assert_int_equal(pt_count(dir), 2); /* layer.tar.gz, outside */
                assert_int_equal(pt_count(outside), 0);
                assert_false(pt_exists("/tmp", "evil-abs"));
        }
        free(tar);
        free(dest);
        free(outside);
        pt_rmrf(dir);
        free(dir);
}

/* Imports check layers without extracting them: the same rules, the same
 * refusals, and a good layer passes. */
static void test_check_only_refuses_the_same(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *tar = pt_path(dir, "layer.tar.gz");
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                make_tar(tar, hostile[i].entries, hostile[i].n);
                int fd = open(tar, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                struct wh_err err = {0};
                if (wh_layer_read(fd, NULL, &hostile[i].lim, NULL, NULL, &err) == 0)
                        fail_msg("%s: passed the check", hostile[i].what);
                close(fd);
                if (!strstr(err.msg, hostile[i].needle))
                        fail_msg("%s: error '%s' lacks '%s'", hostile[i].what, err.msg,
                                 hostile[i].needle);
                assert_int_equal(pt_count(dir), 1); /* nothing written */
        }
        make_tar(tar,
                 E({"./bin/", 'd'}, {"bin/run", 'f', "#!"}, {"l", 's', "bin/run"},
                   {"h", 'h', "bin/run"}, {"x/y/z.txt", 'f', "deep"}, {"x/", 'd'}),
                 6);
        int fd = open(tar, O_RDONLY | O_CLOEXEC);
        struct wh_err err = {0};
        if (wh_layer_read(fd, NULL, NULL, NULL, NULL, &err) < 0)
                fail_msg("a good layer: %s", err.msg);
        close(fd);
        free(tar);
        pt_rmrf(dir);
        free(dir);
}

static void test_digest_mismatch_and_existing_dest(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *tar = pt_path(dir, "layer.tar.gz"), *dest = pt_path(dir, "out");
        make_tar(tar, E({"a.txt", 'f', "hello"}), 1);
        struct wh_err err = {0};
        const char *wrong =
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        PT_EXPECT_ERR(unpack_file(tar, wrong, dest, NULL, &err), err, "does not match its digest");
        assert_int_equal(pt_count(dir), 1);

        int fd = open(tar, O_RDONLY | O_CLOEXEC);
        char right[WH_DIGEST_BUF];
        assert_int_equal(wh_digest_fd(fd, right, NULL, &err), 0);
        close(fd);
        assert_int_equal(unpack_file(tar, right, dest, NULL, &err), 0);
        char *text = pt_read(dest, "a.txt");
        assert_string_equal(text, "hello");
        free(text);
        PT_EXPECT_ERR(unpack_file(tar, right, dest, NULL, &err), err, "already exists");
        free(tar);
        free(dest);
        pt_rmrf(dir);
        free(dir);
}

static void test_good_layer(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *tar = pt_path(dir, "layer.tar.gz"), *dest = pt_path(dir, "out");
        /* Hard to compress and larger than one read: input and output
         * buffers must not share memory. */
        enum { BIG = 400000 };
        char *noise = malloc(BIG + 1);
        uint32_t r = 12345;
        for (size_t i = 0; i < BIG; i++) {
                r = r * 1103515245u + 12345u;
                noise[i] = (char)(' ' + (r >> 16) % 95);
        }
        noise[BIG] = '\0';
        make_tar(tar,
                 E({"./", 'd', NULL, 0755}, {"./bin/", 'd', NULL, 0700},
                   {"bin/run", 'f', "#!", 0777}, {"f.txt", 'f', "data", 0666},
                   {"bin/l", 's', "../f.txt"}, {"bin/h", 'h', "f.txt"}, {"x/y/z.txt", 'f', "deep"},
                   {"x/", 'd', NULL, 0750}, {"noise.txt", 'f', noise}),
                 9);
        struct stat tst;
        assert_int_equal(stat(tar, &tst), 0);
        assert_true(tst.st_size > 3 * 65536);
        struct wh_err err = {0};
        if (unpack_file(tar, NULL, dest, NULL, &err) < 0)
                fail_msg("%s", err.msg);
        struct stat st, st2;
        char *p = pt_path(dest, "bin/run");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755); /* group/other write dropped */
        free(p);
        p = pt_path(dest, "f.txt");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        free(p);
        p = pt_path(dest, "bin/h");
        assert_int_equal(stat(p, &st2), 0);
        assert_int_equal(st.st_ino, st2.st_ino);
        free(p);
        char target[64] = {0};
        p = pt_path(dest, "bin/l");
        assert_int_equal(readlink(p, target, sizeof(target) - 1), 8);
        assert_string_equal(target, "../f.txt");
        free(p);
        char *text = pt_read(dest, "x/y/z.txt");
        assert_string_equal(text, "deep");
        free(text);
        assert_int_equal(stat(dest, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        p = pt_path(dest, "x");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0750);
        free(p);
        text = pt_read(dest, "noise.txt");
        assert_string_equal(text, noise);
        free(text);
        free(noise);
        assert_int_equal(pt_count(dir), 2);
        free(tar);
        free(dest);
        pt_rmrf(dir);
        free(dir);
}

static void test_path_rules(void **state)
{
        (void)state;
        assert_true(wh_relpath_valid("a/b.c"));
        assert_false(wh_relpath_valid("a//b"));
        assert_false(wh_relpath_valid("a/./b"));
        assert_false(wh_relpath_valid("/a"));
        assert_false(wh_relpath_valid("a/.."));
        assert_true(wh_symlink_inside("a/b/l", "../../x"));
        assert_true(wh_symlink_inside("l", "./x/y"));
        assert_false(wh_symlink_inside("a/l", "../../x"));
        assert_false(wh_symlink_inside("a/l", "x/../y"));
        assert_false(wh_symlink_inside("l", "/x"));
        assert_false(wh_symlink_inside("l", ""));
        char out[16];
        assert_int_equal(wh_entry_name_normalize("././a/b//", out, sizeof(out)), 0);
        assert_string_equal(out, "a/b");
        assert_int_equal(wh_entry_name_normalize("./", out, sizeof(out)), 0);
        assert_string_equal(out, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_hostile_tars),
            cmocka_unit_test(test_check_only_refuses_the_same),
            cmocka_unit_test(test_digest_mismatch_and_existing_dest),
            cmocka_unit_test(test_good_layer),
            cmocka_unit_test(test_path_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
