/* `whiskers new NAME`: a normaliser that works from the first minute, so
 * an author starts from something `whiskers test` passes and changes it.
 * It turns a raw file with one hostname per line into Hostname objects. */
#include "contract/internal.h"
#include "base/io.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char manifest_fmt[] =
    "{\n"
    "  \"id\": \"%s\",\n"
    "  \"name\": \"%s\",\n"
    "  \"description\": \"Turns a list of hostnames, one per line, into Hostname objects.\",\n"
    "  \"version\": \"0.1.0\",\n"
    "  \"consumes\": [\"text/plain\"],\n"
    "  \"produces\": [\"Hostname\"],\n"
    "  \"external_types\": [\"Network\"],\n"
    "  \"runtime\": \"python3\",\n"
    "  \"entrypoint\": \"normalize.py\",\n"
    "  \"limits\": {\"wall_ms\": 10000, \"output_limit\": \"4M\", \"items\": 10000}\n"
    "}\n";

static const char normalize_py[] =
    "\"\"\"Turns a raw file with one hostname per line into Hostname objects.\n"
    "\n"
    "whiskers calls run(input_ooi, raw) and checks every dict it yields against\n"
    "schemas/<object_type>.json (docs/contract.md). Try: whiskers test .\n"
    "\"\"\"\n"
    "\n"
    "\n"
    "def run(input_ooi: dict, raw: bytes):\n"
    "    for line in raw.decode(\"utf-8\", \"replace\").splitlines():\n"
    "        name = line.strip().lower().rstrip(\".\")\n"
    "        if name and not name.startswith(\"#\"):\n"
    "            yield {\"object_type\": \"Hostname\", \"network\": \"Network|internet\", "
    "\"name\": name}\n";

static const char hostname_schema[] =
    "{\n"
    "  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n"
    "  \"title\": \"Hostname\",\n"
    "  \"type\": \"object\",\n"
    "  \"x-natural-key\": [\"network\", \"name\"],\n"
    "  \"properties\": {\n"
    "    \"object_type\": {\"const\": \"Hostname\"},\n"
    "    \"primary_key\": {\"type\": \"string\"},\n"
    "    \"network\": {\"type\": \"string\", \"x-reference\": [\"Network\"]},\n"
    "    \"name\": {\"type\": \"string\", \"format\": \"hostname\", \"maxLength\": 253}\n"
    "  },\n"
    "  \"required\": [\"object_type\", \"network\", \"name\"],\n"
    "  \"additionalProperties\": false\n"
    "}\n";

static const char fixture_raw[] = "example.org\n# a comment\nWWW.Example.org.\n";

static const char fixture_meta[] =
    "{\n"
    "  \"task_id\": \"00000000-0000-4000-8000-000000000001\",\n"
    "  \"input_ooi\": {\"object_type\": \"Hostname\", \"primary_key\": "
    "\"Hostname|internet|example.org\",\n"
    "                \"network\": \"Network|internet\", \"name\": \"example.org\"},\n"
    "  \"boefje_meta\": {\"boefje\": {\"id\": \"hostname-list\"}},\n"
    "  \"mime_types\": [\"text/plain\"]\n"
    "}\n";

static const char fixture_expected[] =
    "{\n"
    "  \"observations\": [\n"
    "    {\n"
    "      \"type\": \"observation\",\n"
    "      \"input_ooi\": \"Hostname|internet|example.org\",\n"
    "      \"results\": [\n"
    "        {\"object_type\": \"Hostname\", \"network\": \"Network|internet\", \"name\": "
    "\"example.org\"},\n"
    "        {\"object_type\": \"Hostname\", \"network\": \"Network|internet\", \"name\": "
    "\"www.example.org\"}\n"
    "      ]\n"
    "    }\n"
    "  ],\n"
    "  \"declarations\": [],\n"
    "  \"affirmations\": [],\n"
    "  \"scan_profiles\": []\n"
    "}\n";

static int put(const char *dir, const char *name, const char *text, struct wh_err *err)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
                return wh_err_set(err, ENAMETOOLONG, "new", "%s", dir);
        return wh_write_file_atomic(path, text, strlen(text), err);
}

static bool id_ok(const char *s)
{
        if (!isalnum((unsigned char)*s) || strlen(s) > 63)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) &&
                    (!strchr("._-", *p) || !isalnum((unsigned char)p[1])))
                        return false;
        return true;
}

int wh_normaliser_scaffold(const char *dir, struct wh_err *err)
{
        const char *slash = strrchr(dir, '/');
        const char *name = slash && slash[1] ? slash + 1 : dir;
        if (!id_ok(name))
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "new",
                                   "\"%s\" cannot be a normaliser id: use letters and digits "
                                   "joined by single '.', '_' or '-', e.g. kat_hostnames",
                                   name);
        char sub[PATH_MAX], manifest[1024];
        if (strlen(dir) > PATH_MAX - 64)
                return wh_err_set(err, ENAMETOOLONG, "new", "%s", dir);
        if (mkdir(dir, 0755) < 0)
                return wh_err_set(err, errno, "new", "cannot create %s%s", dir,
                                  errno == EEXIST ? " (choose a new name)" : "");
        snprintf(manifest, sizeof(manifest), manifest_fmt, name, name);
        snprintf(sub, sizeof(sub), "%s/schemas", dir);
        if (put(dir, "normalizer.json", manifest, err) < 0 ||
            put(dir, "normalize.py", normalize_py, err) < 0)
                return -1;
        if (mkdir(sub, 0755) < 0)
                return wh_err_set(err, errno, "new", "cannot create %s", sub);
        if (put(sub, "Hostname.json", hostname_schema, err) < 0)
                return -1;
        snprintf(sub, sizeof(sub), "%s/fixtures", dir);
        if (mkdir(sub, 0755) < 0)
                return wh_err_set(err, errno, "new", "cannot create %s", sub);
        snprintf(sub, sizeof(sub), "%s/fixtures/basic", dir);
        if (mkdir(sub, 0755) < 0)
                return wh_err_set(err, errno, "new", "cannot create %s", sub);
        if (put(sub, "raw", fixture_raw, err) < 0 || put(sub, "meta.json", fixture_meta, err) < 0 ||
            put(sub, "expected.json", fixture_expected, err) < 0)
                return -1;
        return 0;
}
