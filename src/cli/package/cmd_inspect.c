/* whiskers inspect: a package's metadata, every variant with whether this
 * host can run it and why, the variant the choice rule picks and the rule
 * that decided, and its signatures. Reads a layout, or a zip/tar layout
 * archive (imported into a scratch layout first). */
#include "cli/package/common.h"
#include "base/dir.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

struct opts {
        const char *path, *ref, *trust, *variant;
        bool json, runtimes_given;
        struct wh_host host;
        struct wh_err err;
};

static int host_arch(void *base, const char *v, const char *cmd)
{
        struct opts *o = base;
        (void)cmd;
        snprintf(o->host.arch, sizeof(o->host.arch), "%s", v);
        return 0;
}

static int host_level(void *base, const char *v, const char *cmd)
{
        struct opts *o = base;
        o->host.arch_level = atoi(v);
        if (o->host.arch_level < 1 || o->host.arch_level > 4)
                return cli_usage_error(cmd, "--host-level wants 1 to 4");
        return 0;
}

/* The first --host-runtime replaces the detected list. */
static int host_runtime(void *base, const char *v, const char *cmd)
{
        struct opts *o = base;
        if (!o->runtimes_given)
                o->host.nruntimes = 0;
        o->runtimes_given = true;
        return wh_host_add_runtime(&o->host, v, &o->err) < 0 ? pk_fail(cmd, &o->err) : 0;
}

#define AT(field) offsetof(struct opts, field)
static const struct cli_option options[] = {
    {CLI_STR, "trust", .metavar = "DIR", .offset = AT(trust), .complete = CLI_DIR,
     .help = "check signatures against the trusted keys in DIR"},
    {CLI_STR, "variant", .metavar = "NAME", .offset = AT(variant),
     .help = "force this variant (as the runner's --variant would)"},
    {CLI_CALL, "host-arch", .metavar = "ARCH", .call = host_arch,
     .help = "pretend the host has this OCI architecture (amd64...)"},
    {CLI_CALL, "host-level", .metavar = "N", .call = host_level,
     .help = "pretend the host's amd64 level is N (1-4)"},
    {CLI_CALL, "host-runtime", .metavar = "RT", .call = host_runtime,
     .help = "pretend the host has runtime RT (repeatable; replaces the detected list: exec, "
             "python3, python3.N)"},
    {CLI_FLAG, "json", .offset = AT(json), .help = "print one JSON object"},
    {0},
};

static json_t *variant_json(const struct wh_variant_choice *c, size_t i)
{
        const struct wh_variant_option *o = &c->options[i];
        json_t *j = json_pack("{s:s, s:b, s:s, s:s, s:I, s:b, s:s?}", "name", o->variant.name,
                              "baseline", o->variant.baseline, "runtime", o->variant.runtime,
                              "digest", o->manifest.digest, "size", (json_int_t)o->manifest.size,
                              "runnable", o->runnable, "why", o->runnable ? NULL : o->why);
        if (j && o->variant.arch[0])
                json_object_set_new(j, "platform",
                                    json_pack("{s:s, s:s, s:s}", "os", o->variant.os,
                                              "architecture", o->variant.arch, "variant",
                                              o->variant.arch_variant));
        return j;
}

static void print_text(const struct opts *o, const struct wh_descriptor *root, json_t *ann,
                       const struct wh_variant_choice *c, const struct wh_sig_report *sigs)
{
        const char *get[] = {WH_ANN_ID, WH_ANN_VERSION, WH_ANN_CONSUMES, WH_ANN_PRODUCES,
                             "org.opencontainers.image.description"};
        const char *label[] = {"id", "version", "consumes", "produces", "description"};
        printf("package    %s\n", o->ref ? o->ref : "(the only one)");
        printf("digest     %s (%s)\n", root->digest,
               strcmp(root->media_type, WH_MT_INDEX) == 0 ? "image index" : "image manifest");
        for (size_t i = 0; i < sizeof(get) / sizeof(get[0]); i++) {
                const char *v = json_string_value(json_object_get(ann, get[i]));
                if (v)
                        printf("%-10s %s\n", label[i], v);
        }
        printf("host       %s/%s level %d; runtimes", o->host.os, o->host.arch, o->host.arch_level);
        for (size_t i = 0; i < o->host.nruntimes; i++)
                printf(" %s", o->host.runtimes[i]);
        printf("\n\nvariants (%zu)\n", c->n);
        for (size_t i = 0; i < c->n; i++) {
                const struct wh_variant_option *v = &c->options[i];
                char platform[200] = "any platform";
                if (v->variant.arch[0])
                        snprintf(platform, sizeof(platform), "%s/%s%s%s", v->variant.os,
                                 v->variant.arch, v->variant.arch_variant[0] ? "/" : "",
                                 v->variant.arch_variant);
                printf("  %c %-14s %-11s %-18s %.19s...  %s%s%s\n",
                       (ssize_t)i == c->chosen ? '*' : ' ', v->variant.name, v->variant.runtime,
                       platform, v->manifest.digest,
                       v->runnable ? "runnable" : "cannot run: ", v->runnable ? "" : v->why,
                       v->variant.baseline ? " (baseline)" : "");
        }
        if (c->chosen >= 0)
                printf("chosen     %s: %s\n", c->options[c->chosen].variant.name, c->reason);
        else
                printf("chosen     none: %s\n", c->reason);
        printf("\nsignatures (%zu)%s\n", sigs->n, o->trust ? "" : ", not checked: no --trust");
        for (size_t i = 0; i < sigs->n; i++)
                printf("  %s by key %s%s%s\n", sigs->sigs[i].signature,
                       sigs->sigs[i].key_id[0] ? sigs->sigs[i].key_id : "(unreadable)",
                       o->trust ? ": " : "",
                       o->trust ? wh_sig_status_name(sigs->sigs[i].status) : "");
}

static void print_json(const struct opts *o, const struct wh_descriptor *root, json_t *ann,
                       const struct wh_variant_choice *c, const struct wh_sig_report *sigs)
{
        json_t *variants = json_array(), *sj = json_array();
        for (size_t i = 0; i < c->n; i++)
                json_array_append_new(variants, variant_json(c, i));
        for (size_t i = 0; i < sigs->n; i++)
                json_array_append_new(
                    sj,
                    json_pack("{s:s, s:s, s:s}", "digest", sigs->sigs[i].signature, "key_id",
                              sigs->sigs[i].key_id, "status",
                              o->trust ? wh_sig_status_name(sigs->sigs[i].status) : "not checked"));
        json_t *j =
            json_pack("{s:s, s:s, s:I, s:O, s:o, s:s?, s:s, s:o, s:b}", "digest", root->digest,
                      "mediaType", root->media_type, "size", (json_int_t)root->size, "annotations",
                      ann ? ann : json_null(), "variants", variants, "chosen",
                      c->chosen >= 0 ? c->options[c->chosen].variant.name : NULL, "reason",
                      c->reason, "signatures", sj, "trusted", sigs->trusted);
        pk_json_done(j, true);
}

static int inspect(struct wh_store *s, const struct opts *o, struct wh_err *err)
{
        struct wh_descriptor root;
        struct wh_variant_choice c;
        struct wh_trust *t = NULL;
        struct wh_sig_report sigs = {0};
        if (wh_store_resolve(s, o->ref, &root, err) < 0 || wh_variants_read(s, &root, &c, err) < 0)
                return -1;
        struct wh_err why = {0};
        if (wh_variant_choose(&c, &o->host, o->variant, &why) < 0)
                snprintf(c.reason, sizeof(c.reason), "%s", why.msg);
        int rc = wh_trust_load(o->trust, &t, err);
        if (rc == 0)
                rc = wh_trust_check(s, root.digest, t, &sigs, err);
        if (rc == 0) {
                json_t *ann = wh_store_annotations(s, root.digest);
                if (o->json)
                        print_json(o, &root, ann, &c, &sigs);
                else
                        print_text(o, &root, ann, &c, &sigs);
                json_decref(ann);
        }
        wh_sig_report_clear(&sigs);
        wh_trust_free(t);
        wh_variant_choice_clear(&c);
        return rc;
}

/* The host's own properties are the defaults the options override. */
static int detect_host(void *args)
{
        struct opts *o = args;
        struct wh_err err = {0};
        return wh_host_detect(&o->host, &err) < 0 ? pk_fail("inspect", &err) : 0;
}

static int cmd_inspect(void *args, int argc, char **argv)
{
        (void)argc;
        struct opts *o = args;
        int rc;
        struct wh_err err = {0};
        o->path = argv[0];
        o->ref = argv[1];
        struct stat st;
        char scratch[] = "/tmp/whiskers-inspect.XXXXXX";
        const char *layout = o->path;
        bool archive = stat(o->path, &st) == 0 && S_ISREG(st.st_mode);
        if (archive && !(layout = mkdtemp(scratch))) {
                perror("whiskers inspect: mkdtemp");
                return WH_EXIT_FAILED;
        }
        struct wh_store *s = NULL;
        rc = wh_store_open(layout, archive ? WH_STORE_CREATE : WH_STORE_READ, &s, &err);
        if (rc == 0 && archive)
                rc = wh_store_import(s, o->path, NULL, NULL, NULL, &err);
        if (rc == 0)
                rc = inspect(s, o, &err);
        wh_store_close(s);
        if (archive)
                wh_rmtree_at(AT_FDCWD, layout);
        return rc < 0 ? pk_fail("inspect", &err) : WH_EXIT_OK;
}

const struct cli_command cmd_inspect_cli = {
    .name = "inspect",
    .head = "Usage: whiskers inspect [OPTIONS] LAYOUT|ARCHIVE [REF]\n"
            "\n"
            "Show a package: metadata, every variant and whether this host can run it (and\n"
            "why not), the variant the choice rule picks and which rule decided, and its\n"
            "signatures. REF is a tag, an id (when one version is tagged) or a digest; it\n"
            "may be left out when the layout holds one package. ARCHIVE is a zip or tar\n"
            "made by 'whiskers pack --zip' or 'whiskers store export'.\n"
            "\n"
            "Options:\n",
    .tail = "\n"
            "Choice rule (docs/packages.md): drop variants the host cannot run; prefer the\n"
            "highest amd64 level, then the newest runtime, then a non-baseline variant,\n"
            "then the smaller name.\n"
            "\n"
            "Exit status: 0 shown (even when no variant can run here), 1 failed, 2 bad usage.\n",
    .options = options,
    .min_args = 1,
    .max_args = 2,
    .args = "a LAYOUT or an ARCHIVE",
    .args_size = sizeof(struct opts),
    .init = detect_host,
    .run = cmd_inspect,
};
