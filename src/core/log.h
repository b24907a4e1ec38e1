/*
 * log.h — one-line log messages on standard error (systemd's journal takes them from there).
 */
#ifndef SHOAL_CORE_LOG_H
#define SHOAL_CORE_LOG_H

/** Logs an informational line, prefixed with the time and "info". */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Logs an error line. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Turns informational lines off (errors are always written). */
void log_set_quiet(int quiet);

#endif
