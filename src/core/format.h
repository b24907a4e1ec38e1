/*
 * format.h — numbers as people read them in the UK (234,290).
 */
#ifndef SHOAL_CORE_FORMAT_H
#define SHOAL_CORE_FORMAT_H

/** Writes v with commas between thousands into out (at least 32 bytes); returns out. */
char *format_thousands(char out[32], long long v);

#endif
