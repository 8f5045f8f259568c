/* The short human summary of a run that `whiskers run` and `whiskers test`
 * print: objects by type, findings, errors with the offending item and
 * schema path, warnings, the normaliser's stderr. Colour only on request. */
#include "contract/internal.h"
#include "base/cleanup.h"
#include "base/shown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct paint {
        const char *bold, *dim, *red, *green, *yellow, *off;
};

static const char *or_q(const char *s)
{
        return s ? s : "?";
}

static void count_object(json_t *counts, json_t *findings, json_t *obj)
{
        const char *type = json_string_value(json_object_get(obj, "object_type"));
        if (!type)
                return;
        json_t *n = json_object_get(counts, type);
        json_object_set_new(counts, type, json_integer(n ? json_integer_value(n) + 1 : 1));
        if (strcmp(type, "Finding") == 0)
                json_array_append(findings, obj);
}

static void print_findings(FILE *out, json_t *findings, const struct paint *p)
{
        size_t i;
        json_t *f;
        if (!json_array_size(findings))
                return;
        fprintf(out, "  %sfindings (%zu):%s\n", p->bold, json_array_size(findings), p->off);
        json_array_foreach(findings, i, f)
        {
                const char *ft = json_string_value(json_object_get(f, "finding_type"));
                const char *ooi = json_string_value(json_object_get(f, "ooi"));
                const char *desc = json_string_value(json_object_get(f, "description"));
                const char *bar = ft ? strchr(ft, '|') : NULL;
                fputs("    ", out);
                fputs(p->yellow, out);
                wh_fput_shown_line(out, bar ? bar + 1 : ft ? ft : "?");
                fprintf(out, "%s on ", p->off);
                wh_fput_shown_line(out, ooi ? ooi : "?");
                if (desc) {
                        fputs(": ", out);
                        wh_fput_shown_line(out, desc);
                }
                fputc('\n', out);
        }
}

static void print_objects(FILE *out, const json_t *results, const struct paint *p)
{
        cleanup_json json_t *counts = json_object(), *findings = json_array();
        json_t *v;
        size_t i, total = 0;
        json_array_foreach(json_object_get(results, "observations"), i, v)
        {
                size_t j;
                json_t *o;
                json_array_foreach(json_object_get(v, "results"), j, o)
                    count_object(counts, findings, o);
        }
        json_array_foreach(json_object_get(results, "declarations"), i, v)
            count_object(counts, findings, json_object_get(v, "ooi"));
        json_array_foreach(json_object_get(results, "affirmations"), i, v)
            count_object(counts, findings, json_object_get(v, "ooi"));
        const char *type;
        json_object_foreach(counts, type, v) total += (size_t)json_integer_value(v);
        fprintf(out, "  %sobjects (%zu):%s\n", p->bold, total, p->off);
        json_object_foreach(counts, type, v)
        {
                fputs("    ", out);
                wh_fput_shown_line(out, type);
                size_t len = strlen(type);
                fprintf(out, "%*s %lld\n", len < 28 ? (int)(28 - len) : 0, "",
                        (long long)json_integer_value(v));
        }
        print_findings(out, findings, p);
        fprintf(out, "  declarations %zu, affirmations %zu, scan profiles %zu\n",
                json_array_size(json_object_get(results, "declarations")),
                json_array_size(json_object_get(results, "affirmations")),
                json_array_size(json_object_get(results, "scan_profiles")));
}

static void print_list(FILE *out, const char *title, const struct wh_contract_errors *e,
                       const char *colour, const struct paint *p)
{
        if (!e->n && !e->dropped)
                return;
        fprintf(out, "  %s%s (%zu):%s\n", colour, title, e->n + e->dropped, p->off);
        for (size_t i = 0; i < e->n; i++) {
                const struct wh_contract_error *x = &e->items[i];
                char line[32] = "";
                if (x->line)
                        snprintf(line, sizeof(line), "line %llu: ", (unsigned long long)x->line);
                /* Messages, paths, items and details quote the program's output:
                 * shown, not obeyed by the terminal. */
                fprintf(out, "    %s%s%s%s: ", line, colour, x->code, p->off);
                wh_fput_shown_line(out, x->message);
                fputc('\n', out);
                if (x->instance_path || x->schema_path) {
                        fprintf(out, "      %sat \"", p->dim);
                        wh_fput_shown_line(out, x->instance_path);
                        fputs("\", schema ", out);
                        wh_fput_shown_line(out, x->schema_path ? x->schema_path : "?");
                        fprintf(out, "%s\n", p->off);
                }
                if (x->item) {
                        fprintf(out, "      %sitem: ", p->dim);
                        wh_fput_shown_line(out, x->item);
                        fprintf(out, "%s\n", p->off);
                }
                for (const char *d = x->detail; d && *d;) {
                        size_t n = strcspn(d, "\n");
                        fprintf(out, "      %s| ", p->dim);
                        wh_fput_shown(out, d, n);
                        fprintf(out, "%s\n", p->off);
                        d += n + (d[n] == '\n');
                }
        }
        if (e->dropped)
                fprintf(out, "    ... and %zu more\n", e->dropped);
}

static void print_stderr(FILE *out, const struct wh_run_result *res, const struct paint *p)
{
        if (!res->stderr_bytes)
                return;
        fprintf(out, "  %sstderr (%llu bytes%s):%s\n", p->bold,
                (unsigned long long)res->stderr_bytes,
                res->stderr_bytes > res->stderr_len ? ", start shown" : "", p->off);
        char *clean = utf8_excerpt(res->stderr_text, res->stderr_len, res->stderr_len);
        const char *s = clean ? clean : "";
        while (*s) {
                size_t n = strcspn(s, "\n");
                fprintf(out, "    %s|%s ", p->dim, p->off);
                wh_fput_shown(out, s, n); /* the normaliser's text: shown, not obeyed */
                fputc('\n', out);
                s += n + (s[n] == '\n');
        }
        free(clean);
}

void wh_run_summary(FILE *out, const struct wh_normaliser *n, const struct wh_run_result *res,
                    bool color)
{
        static const struct paint none = {"", "", "", "", "", ""};
        static const struct paint ansi = {"\033[1m",  "\033[2m",  "\033[31m",
                                          "\033[32m", "\033[33m", "\033[0m"};
        const struct paint *p = color ? &ansi : &none;
        const struct wh_manifest *m = &n->manifest;
        fprintf(out, "%s%s %s%s: %s%s%s (sandbox: %s, %llu ms)\n", p->bold, m->id,
                m->version ? m->version : "(no version)", p->off, res->ok ? p->green : p->red,
                res->ok ? "ok" : "FAILED", p->off, wh_status_name(res->report.status),
                (unsigned long long)res->report.wall_ms);
        if (res->results)
                print_objects(out, res->results, p);
        print_list(out, "warnings", &res->warnings, p->yellow, p);
        print_list(out, "errors", &res->errors, p->red, p);
        print_stderr(out, res, p);
        json_t *prov = res->provenance;
        json_t *raw = json_object_get(json_object_get(prov, "input"), "raw");
        fprintf(
            out, "  %sprovenance: normaliser %.19s raw %.19s results %.19s%s\n", p->dim,
            or_q(json_string_value(json_object_get(json_object_get(prov, "normaliser"), "digest"))),
            or_q(json_string_value(json_object_get(raw, "digest"))),
            or_q(json_string_value(
                json_object_get(json_object_get(prov, "output"), "results_digest"))),
            p->off);
}
