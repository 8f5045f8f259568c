/* X.509 certificates from `openssl x509 -noout -text` output, as a whiskers
 * normaliser in C (runtime "exec": any program that follows the contract).
 *
 * Contract (docs/contract.md): the raw file is on stdin (and at /input/raw),
 * the meta document at /input/meta.json; print one JSON object per line;
 * exit 0. For every certificate in the text: an X509Certificate, and a
 * Finding (with its KATFindingType) when the key is weak, or when at the
 * time of the scan (the meta's boefje_meta.ended_at) the certificate had
 * expired or was not yet valid. Build: make (cc -O2 -o normalize normalize.c).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD    4096
#define MAX_SANS 64

struct cert {
        char subject[FIELD], issuer[FIELD], serial[FIELD], algorithm[128];
        char sans[MAX_SANS][256];
        int n_sans;
        time_t not_before, not_after;
        long bits;
        int in_use;
};

/* Prints s as a JSON string: quotes, backslashes and control bytes escaped. */
static void json_string(const char *s)
{
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static void iso_time(time_t t, char out[32])
{
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "Nov 23 14:00:00 2026 GMT" as printed by openssl. */
static time_t openssl_time(const char *s)
{
        struct tm tm = {0};
        while (*s == ' ')
                s++;
        const char *end = strptime(s, "%b %d %H:%M:%S %Y GMT", &tm);
        return end ? timegm(&tm) : (time_t)-1;
}

/* "4660 (0x1234)" or "2f:8a:..." to lowercase colon-separated hex pairs. */
static void normalise_serial(const char *in, char *out, size_t cap)
{
        const char *hex = strstr(in, "(0x");
        char digits[FIELD];
        size_t n = 0;
        for (const char *p = hex ? hex + 3 : in; *p && *p != ')' && n + 1 < sizeof(digits); p++)
                if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                    (*p >= 'A' && *p <= 'F'))
                        digits[n++] = (char)(*p | 0x20);
        digits[n] = '\0';
        size_t o = 0, i = 0;
        if (n % 2 && o + 3 < cap) {
                out[o++] = '0';
                out[o++] = digits[i++];
        }
        for (; i < n && o + 4 < cap; i += 2) {
                if (o)
                        out[o++] = ':';
                out[o++] = digits[i];
                out[o++] = digits[i + 1];
        }
        out[o] = '\0';
}

static void finding(const struct cert *c, const char *type, const char *description)
{
        printf("{\"object_type\":\"KATFindingType\",\"id\":\"%s\"}\n", type);
        printf("{\"object_type\":\"Finding\",\"finding_type\":\"KATFindingType|%s\",\"ooi\":",
               type);
        char ref[2 * FIELD + 32];
        snprintf(ref, sizeof(ref), "X509Certificate|%s|%s", c->issuer, c->serial);
        json_string(ref);
        printf(",\"description\":");
        json_string(description);
        printf("}\n");
}

static void emit(const struct cert *c, time_t observed)
{
        char from[32], until[32], why[256];
        if (!c->in_use)
                return;
        if (!c->issuer[0] || !c->serial[0] || c->not_before < 0 || c->not_after < 0) {
                fprintf(stderr, "skipping a certificate without issuer, serial or validity\n");
                return;
        }
        iso_time(c->not_before, from);
        iso_time(c->not_after, until);
        printf("{\"object_type\":\"X509Certificate\",\"subject\":");
        json_string(c->subject);
        printf(",\"issuer\":");
        json_string(c->issuer);
        printf(",\"serial_number\":\"%s\",\"valid_from\":\"%s\",\"valid_until\":\"%s\"", c->serial,
               from, until);
        if (c->algorithm[0]) {
                printf(",\"public_key_algorithm\":");
                json_string(c->algorithm);
        }
        if (c->bits > 0)
                printf(",\"public_key_bits\":%ld", c->bits);
        printf(",\"subject_alternative_names\":[");
        for (int i = 0; i < c->n_sans; i++) {
                printf(i ? "," : "");
                json_string(c->sans[i]);
        }
        printf("]}\n");
        int rsa = strcmp(c->algorithm, "rsaEncryption") == 0;
        int ec = strcmp(c->algorithm, "id-ecPublicKey") == 0;
        if (c->bits > 0 && ((rsa && c->bits < 2048) || (ec && c->bits < 224))) {
                snprintf(why, sizeof(why), "The certificate's %s key has only %ld bits.",
                         c->algorithm, c->bits);
                finding(c, "KAT-WEAK-KEY", why);
        }
        if (observed >= 0 && observed > c->not_after) {
                snprintf(why, sizeof(why), "The certificate expired at %s, before the scan.",
                         until);
                finding(c, "KAT-CERTIFICATE-EXPIRED", why);
        }
        if (observed >= 0 && observed < c->not_before) {
                snprintf(why, sizeof(why), "The certificate is valid only from %s, after the scan.",
                         from);
                finding(c, "KAT-CERTIFICATE-NOT-YET-VALID", why);
        }
}

static void add_sans(struct cert *c, char *line)
{
        for (char *tok = strtok(line, ","); tok && c->n_sans < MAX_SANS; tok = strtok(NULL, ",")) {
                while (*tok == ' ')
                        tok++;
                if (*tok)
                        snprintf(c->sans[c->n_sans++], sizeof(c->sans[0]), "%s", tok);
        }
}

/* The scan's time: boefje_meta.ended_at of the meta document, if any. */
static time_t observed_at(void)
{
        FILE *f = fopen("/input/meta.json", "r");
        char buf[65536];
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
                fclose(f);
        buf[n] = '\0';
        char *p = strstr(buf, "\"ended_at\"");
        struct tm tm = {0};
        if (!p || !(p = strchr(p + 10, '"')) || !strptime(p + 1, "%Y-%m-%dT%H:%M:%S", &tm))
                return (time_t)-1;
        return timegm(&tm);
}

static char *after(char *line, const char *label)
{
        char *p = strstr(line, label);
        if (!p)
                return NULL;
        p += strlen(label);
        while (*p == ' ')
                p++;
        return p;
}

int main(void)
{
        static struct cert c;
        char line[FIELD];
        int want_serial = 0, want_sans = 0;
        time_t observed = observed_at();
        while (fgets(line, sizeof(line), stdin)) {
                line[strcspn(line, "\r\n")] = '\0';
                char *v;
                if (strcmp(line, "Certificate:") == 0) {
                        emit(&c, observed);
                        memset(&c, 0, sizeof(c));
                        c.in_use = 1;
                        c.not_before = c.not_after = -1;
                } else if (want_serial) {
                        normalise_serial(line, c.serial, sizeof(c.serial));
                        want_serial = 0;
                } else if (want_sans) {
                        add_sans(&c, line);
                        want_sans = 0;
                } else if ((v = after(line, "Serial Number:"))) {
                        if (*v)
                                normalise_serial(v, c.serial, sizeof(c.serial));
                        else
                                want_serial = 1;
                } else if ((v = after(line, "Issuer:"))) {
                        snprintf(c.issuer, sizeof(c.issuer), "%s", v);
                } else if ((v = after(line, "Subject:"))) {
                        snprintf(c.subject, sizeof(c.subject), "%s", v);
                } else if ((v = after(line, "Not Before:"))) {
                        c.not_before = openssl_time(v);
                } else if ((v = after(line, "Not After :"))) {
                        c.not_after = openssl_time(v);
                } else if ((v = after(line, "Public Key Algorithm:"))) {
                        snprintf(c.algorithm, sizeof(c.algorithm), "%s", v);
                } else if ((v = after(line, "Public-Key: ("))) {
                        c.bits = strtol(v, NULL, 10);
                } else if (strstr(line, "X509v3 Subject Alternative Name:")) {
                        want_sans = 1;
                }
        }
        emit(&c, observed);
        return ferror(stdin) ? 1 : 0;
}
