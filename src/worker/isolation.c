/* Which isolation level a warm sandbox of (normaliser, tenant) gets
 * (docs/worker.md "Isolation levels"): the first rule of --isolation-for
 * that names the tenant ("TENANT=MODE") or the normaliser
 * ("normaliser:REF=MODE"), else --isolation. Rules are comma-separated. */
#include <string.h>
#include <whiskers/worker.h>

#define NORMALISER_PREFIX "normaliser:"

static bool names(const char *who, size_t len, const char *ref, const char *tenant)
{
        size_t np = strlen(NORMALISER_PREFIX);
        if (len > np && strncmp(who, NORMALISER_PREFIX, np) == 0)
                return ref && strlen(ref) == len - np && !strncmp(who + np, ref, len - np);
        return tenant && strlen(tenant) == len && !strncmp(who, tenant, len);
}

int wh_worker_isolation(const struct wh_worker_config *c, const char *ref, const char *tenant,
                        enum wh_isolation *out)
{
        *out = c->isolation;
        for (const char *p = c->isolation_for; p && *p;) {
                size_t len = strcspn(p, ",");
                const char *eq = memchr(p, '=', len);
                if (!eq || eq == p)
                        return -1;
                char mode[16];
                size_t mlen = len - (size_t)(eq + 1 - p);
                if (mlen >= sizeof(mode))
                        return -1;
                memcpy(mode, eq + 1, mlen);
                mode[mlen] = '\0';
                enum wh_isolation iso;
                if (wh_isolation_parse(mode, &iso) < 0)
                        return -1;
                if (names(p, (size_t)(eq - p), ref, tenant)) {
                        *out = iso;
                        return 0;
                }
                p += len + (p[len] == ',');
        }
        return 0;
}
