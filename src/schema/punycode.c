/* Punycode (RFC 3492), with the overflow checks of its section 6.4. */
#include "schema/idn.h"

enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, INITIAL_BIAS = 72, INITIAL_N = 128 };

static uint32_t adapt(uint32_t delta, uint32_t numpoints, bool first)
{
        delta = first ? delta / DAMP : delta / 2;
        delta += delta / numpoints;
        uint32_t k = 0;
        while (delta > ((BASE - TMIN) * TMAX) / 2) {
                delta /= BASE - TMIN;
                k += BASE;
        }
        return k + (((BASE - TMIN + 1) * delta) / (delta + SKEW));
}

static int digit_value(char c)
{
        if (c >= 'a' && c <= 'z')
                return c - 'a';
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= '0' && c <= '9')
                return c - '0' + 26;
        return -1;
}

static uint32_t threshold(uint32_t k, uint32_t bias)
{
        return k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
}

int punycode_decode(const char *in, size_t len, uint32_t *out, size_t *outlen, size_t cap)
{
        size_t b = 0, n_out = 0;
        for (size_t j = 0; j < len; j++)
                if (in[j] == '-')
                        b = j;
        for (size_t j = 0; j < b; j++) {
                if ((unsigned char)in[j] >= 0x80 || n_out >= cap)
                        return -1;
                out[n_out++] = (unsigned char)in[j];
        }
        uint32_t n = INITIAL_N, i = 0, bias = INITIAL_BIAS;
        for (size_t pos = b > 0 ? b + 1 : 0; pos < len;) {
                uint32_t oldi = i, w = 1;
                for (uint32_t k = BASE;; k += BASE) {
                        if (pos >= len)
                                return -1;
                        int digit = digit_value(in[pos++]);
                        if (digit < 0 || (uint32_t)digit > (UINT32_MAX - i) / w)
                                return -1;
                        i += (uint32_t)digit * w;
                        uint32_t t = threshold(k, bias);
                        if ((uint32_t)digit < t)
                                break;
                        if (w > UINT32_MAX / (BASE - t))
                                return -1;
                        w *= BASE - t;
                }
                bias = adapt(i - oldi, (uint32_t)n_out + 1, oldi == 0);
                if (i / (n_out + 1) > UINT32_MAX - n)
                        return -1;
                n += i / (uint32_t)(n_out + 1);
                i %= (uint32_t)(n_out + 1);
                if (n_out >= cap || n > 0x10ffff)
                        return -1;
                for (size_t k = n_out; k > i; k--)
                        out[k] = out[k - 1];
                out[i++] = n;
                n_out++;
        }
        *outlen = n_out;
        return 0;
}

static char digit_char(uint32_t d)
{
        return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

long punycode_encode(const uint32_t *cp, size_t n, char *out, size_t cap)
{
        size_t o = 0, h = 0;
        for (size_t j = 0; j < n; j++)
                if (cp[j] < 0x80) {
                        if (o >= cap)
                                return -1;
                        out[o++] = (char)cp[j];
                        h++;
                }
        size_t b = h;
        if (b > 0) {
                if (o >= cap)
                        return -1;
                out[o++] = '-';
        }
        uint32_t next = INITIAL_N, delta = 0, bias = INITIAL_BIAS;
        while (h < n) {
                uint32_t m = UINT32_MAX;
                for (size_t j = 0; j < n; j++)
                        if (cp[j] >= next && cp[j] < m)
                                m = cp[j];
                if ((m - next) > (UINT32_MAX - delta) / (h + 1))
                        return -1;
                delta += (m - next) * (uint32_t)(h + 1);
                next = m;
                for (size_t j = 0; j < n; j++) {
                        if (cp[j] < next && ++delta == 0)
                                return -1;
                        if (cp[j] != next)
                                continue;
                        uint32_t q = delta;
                        for (uint32_t k = BASE;; k += BASE) {
                                uint32_t t = threshold(k, bias);
                                if (q < t)
                                        break;
                                if (o >= cap)
                                        return -1;
                                out[o++] = digit_char(t + (q - t) % (BASE - t));
                                q = (q - t) / (BASE - t);
                        }
                        if (o >= cap)
                                return -1;
                        out[o++] = digit_char(q);
                        bias = adapt(delta, (uint32_t)h + 1, h == b);
                        delta = 0;
                        h++;
                }
                delta++;
                next++;
        }
        return (long)o;
}
