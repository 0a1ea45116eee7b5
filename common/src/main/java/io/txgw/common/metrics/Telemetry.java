package io.txgw.common.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The metrics registry of one txgw process, rendered in the Prometheus text format. Every meter
 * carries the process kind and instance id as tags, so one Prometheus can scrape all of them.
 */
public final class Telemetry {
  private Telemetry() {}

  /**
   * @param process {@code gateway} or {@code consumer}
   * @param instance the process's stable id
   */
  public static PrometheusMeterRegistry registry(String process, String instance) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("process", process, "instance", instance);
    bindJvm(registry);
    return registry;
  }

  private static void bindJvm(MeterRegistry registry) {
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    // Its listener lives as long as the process; a registry per process makes that fine.
    new JvmGcMetrics().bindTo(registry);
  }
}
