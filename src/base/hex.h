/* The value of one hexadecimal digit, for the parsers that decode escapes
 * (regular expressions' \x and \u, URIs' percent-encoding). */
#ifndef WH_BASE_HEX_H
#define WH_BASE_HEX_H

/* 0..15, or -1 if c is not a hexadecimal digit. */
static inline int wh_hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c |= 0x20; /* 'A'..'F' to 'a'..'f'; nothing else lands there */
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#endif
