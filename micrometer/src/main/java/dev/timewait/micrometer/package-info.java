/**
 * Micrometer meters for a timewait client: {@link dev.timewait.micrometer.TimeWaitMetrics}, a
 * {@code MeterBinder} over one {@link dev.timewait.CloseAccounting}, with gauges of client
 * TIME_WAIT and port headroom from the kernel's TCP table. The meters are listed in the README
 * ("Observability") and docs/observability.md.
 */
package dev.timewait.micrometer;
