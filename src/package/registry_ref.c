/* Registry references: "HOST[:PORT]/REPO[:TAG|@DIGEST]".
 *
 * The first component is always the registry host (whiskers has no default
 * registry: an air-gapped site names its own), the rest the repository in
 * the distribution spec's grammar: lowercase [a-z0-9] separated by '.', '_',
 * '__', '-'s, components joined by '/'. */
#include "package/registry.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+ joined by ".", "_", "__" or runs of "-". */
static bool component_valid(const char *p, size_t n)
{
        size_t i = 0;
        while (i < n) {
                if (!lower_alnum(p[i]))
                        return false;
                while (i < n && lower_alnum(p[i]))
                        i++;
                if (i == n)
                        break;
                size_t start = i;
                while (i < n && strchr("._-", p[i]))
                        i++;
                size_t len = i - start;
                bool dashes = strspn(p + start, "-") >= len;
                if (i == n ||
                    !(dashes || (len == 1) || (len == 2 && p[start] == '_' && p[start + 1] == '_')))
                        return false;
        }
        return n > 0;
}

static bool repo_valid(const char *repo)
{
        for (;;) {
                size_t n = strcspn(repo, "/");
                if (!component_valid(repo, n))
                        return false;
                if (!repo[n])
                        return true;
                repo += n + 1;
        }
}

static bool tag_valid(const char *tag)
{
        size_t n = strlen(tag);
        if (n == 0 || n > 128 || !(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)tag[i]) && !strchr("_.-", tag[i]))
                        return false;
        return true;
}

bool wh_reg_host_is_loopback(const char *host)
{
        size_t n = strcspn(host, ":");
        if (host[0] == '[')
                return strncmp(host, "[::1]", 5) == 0;
        return (n == 9 && strncmp(host, "localhost", 9) == 0) || strncmp(host, "127.", 4) == 0;
}

int wh_reg_ref_parse(const char *text, struct wh_reg_ref *r, struct wh_err *err)
{
        *r = (struct wh_reg_ref){0};
        const char *slash = strchr(text, '/');
        if (!slash || slash == text || (size_t)(slash - text) >= sizeof(r->host))
                return wh_err_set(err, 0, "registry",
                                  "'%s' is not HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]", text);
        memcpy(r->host, text, (size_t)(slash - text));
        for (const char *h = r->host; *h; h++)
                if (!isalnum((unsigned char)*h) && !strchr(".-:[]", *h))
                        return wh_err_set(err, 0, "registry", "bad registry host '%s'", r->host);
        char rest[512];
        if (snprintf(rest, sizeof(rest), "%s", slash + 1) >= (int)sizeof(rest))
                return wh_err_set(err, 0, "registry", "repository name too long in '%s'", text);
        char *at = strchr(rest, '@');
        if (at) {
                *at = '\0';
                if (!wh_digest_valid(at + 1))
                        return wh_err_set(err, 0, "registry", "bad digest '%s' (want sha256:<hex>)",
                                          at + 1);
                snprintf(r->digest, sizeof(r->digest), "%s", at + 1);
        }
        char *colon = strrchr(rest, ':');
        if (colon && !strchr(colon, '/')) {
                *colon = '\0';
                if (!tag_valid(colon + 1))
                        return wh_err_set(err, 0, "registry", "bad tag '%s'", colon + 1);
                snprintf(r->tag, sizeof(r->tag), "%s", colon + 1);
        }
        if (strlen(rest) >= sizeof(r->repo) || !repo_valid(rest))
                return wh_err_set(err, 0, "registry",
                                  "bad repository name '%s' (lowercase letters and digits, "
                                  "separated by . _ - or /)",
                                  rest);
        memcpy(r->repo, rest, strlen(rest) + 1); /* fits: checked above */
        return 0;
}
