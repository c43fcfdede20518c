/**
 * Micrometer meters for a timewait client: {@link dev.timewait.micrometer.TimeWaitMetrics}, a
 * {@code MeterBinder} over one {@link dev.timewait.CloseAccounting}. The meters are listed in the
 * README ("Metrics").
 */
package dev.timewait.micrometer;
