/*
 * duration.h - Go-style durations ("87840h0m0s", "720h", "1.5h", "90m").
 *
 * Units: ns, us, µs, ms, s, m, h, and d (24h, an extension to Go's set).
 * The value must be positive and at least one second; the upper bound is
 * Go's (2562047h47m16.854775807s, the largest int64 count of nanoseconds).
 */
#ifndef PKI_DURATION_H
#define PKI_DURATION_H

#include <stdint.h>

#include "err.h"

/* Parses text into whole seconds (fractions of a second are dropped).
 * On failure *seconds is untouched and err says what is wrong. */
PKI_MUST_CHECK int pki_duration_parse(const char *text, int64_t *seconds,
                                      struct pki_err *err);

/* Writes seconds (>= 0) in Go's style into buf: "1h0m0s", "1m30s", "5s". */
void pki_duration_format(int64_t seconds, char *buf, size_t len);

#endif
