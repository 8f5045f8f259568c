/* The value of one hexadecimal digit, for the parsers that decode escapes
 * (regular expressions' \x and \u, URIs' percent-encoding). */
#ifndef WH_BASE_HEX_H
#define WH_BASE_HEX_H

/* 0..15, or -1 if c is not a hexadecimal digit. */
static inline int wh_hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

#endif
