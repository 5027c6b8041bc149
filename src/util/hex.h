/* hex: the value of one hexadecimal digit. Header-only. */
#ifndef FLUXAUDIT_UTIL_HEX_H
#define FLUXAUDIT_UTIL_HEX_H

/* Returns 0-15 for '0'-'9', 'a'-'f', 'A'-'F' (as a char or unsigned byte
 * value), -1 for anything else. */
static inline int hex_digit_value(int c)
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
