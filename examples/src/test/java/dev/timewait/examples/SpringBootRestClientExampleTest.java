package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.PooledKeepAlive;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import dev.timewait.junit5.GuardTimeWait;
import dev.timewait.micrometer.TimeWaitMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.autoconfigure.imperative.ImperativeHttpClientAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.restclient.RestTemplateBuilder;
import org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.RestTemplateAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;

/**
 * Copy-ready: a Spring Boot application's auto-configured {@code RestClient.Builder} and {@code
 * RestTemplateBuilder} on HttpClient 5 configured by timewait. {@link TimeWaitClientConfiguration}
 * is what an application adds: the client as a bean (Spring calls its {@code close()} with the
 * context, which closes the pool's connections by reset), and a {@code
 * ClientHttpRequestFactoryBuilder} bean that hands out request factories on it (Spring Boot's own
 * builder then backs off, and every builder it injects uses this one). The configuration's code
 * is the same on Spring Boot 3.4, which introduced {@code ClientHttpRequestFactoryBuilder}, and
 * on 4 (its package unchanged); this test runs it on 4.0. {@code @GuardTimeWait} fails the test
 * if any new client TIME_WAIT towards WireMock's port is in the kernel's table (Linux; skipped
 * elsewhere).
 */
@WireMockTest
@GuardTimeWait(portSupplier = "wireMockPort")
class SpringBootRestClientExampleTest {
  static int wireMockPort(WireMockRuntimeInfo wm) {
    return wm.getHttpPort();
  }

  /** The application's configuration: copy this class. */
  @Configuration(proxyBeanMethods = false)
  static class TimeWaitClientConfiguration {
    @Bean
    CloseAccounting timeWaitAccounting() {
      return new CloseAccounting();
    }

    /**
     * A MeterBinder: Spring Boot binds it to its meter registries (with Actuator, under
     * /actuator/metrics). The kernel gauges appear per destination once a connection to it closed.
     */
    @Bean
    TimeWaitMetrics timeWaitMetrics(CloseAccounting timeWaitAccounting) {
      return TimeWaitMetrics.builder("spring-restclient", timeWaitAccounting).kernelGauges().build();
    }

    /** Closed by Spring with the context: its pooled connections close by reset. */
    @Bean
    CloseableHttpClient timeWaitHttpClient(CloseAccounting accounting) {
      PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(32).maxPerRoute(32).build();
      return TimeWaitHttpClient5.configure(HttpClients.custom(), strategy, accounting).build();
    }

    /**
     * Every RestClient.Builder and RestTemplateBuilder Spring Boot injects gets a factory on the
     * one client. The factories are not beans, so none of them closes the client.
     */
    @Bean
    ClientHttpRequestFactoryBuilder<HttpComponentsClientHttpRequestFactory> timeWaitRequestFactory(
        CloseableHttpClient timeWaitHttpClient) {
      return ClientHttpRequestFactoryBuilder.of(
          () -> new HttpComponentsClientHttpRequestFactory(timeWaitHttpClient));
    }
  }

  private final ApplicationContextRunner application = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
          SimpleMetricsExportAutoConfiguration.class, ImperativeHttpClientAutoConfiguration.class,
          RestClientAutoConfiguration.class, RestTemplateAutoConfiguration.class))
      .withUserConfiguration(TimeWaitClientConfiguration.class);

  @BeforeEach
  void stub() {
    stubFor(get("/hello").willReturn(ok("hello")));
  }

  @Test
  void theAutoConfiguredBuildersUseTimewaitAndTheContextsCloseLeavesNoTimeWait(WireMockRuntimeInfo wm) {
    CloseAccounting[] accounting = new CloseAccounting[1];
    application.run(context -> {
      assertThat(context).hasNotFailed();
      accounting[0] = context.getBean(CloseAccounting.class);
      RestClient rest = context.getBean(RestClient.Builder.class).baseUrl(wm.getHttpBaseUrl()).build();
      RestTemplate template = context.getBean(RestTemplateBuilder.class).rootUri(wm.getHttpBaseUrl()).build();
      for (int i = 0; i < 25; i++) {
        assertThat(rest.get().uri("/hello").retrieve().body(String.class)).isEqualTo("hello");
        assertThat(template.getForObject("/hello", String.class)).isEqualTo("hello");
      }
      CloseStats during = accounting[0].snapshot();
      // Sequential requests on one pool: one connection, reused by both builders' clients.
      assertThat(during.connectionsOpened()).as("both builders' requests went through timewait: %s", during)
          .isEqualTo(1);
      MeterRegistry registry = context.getBean(MeterRegistry.class);
      assertThat(registry.get(TimeWaitMetrics.OPENED).tag("client", "spring-restclient")
              .functionCounter().count())
          .as("Spring Boot bound the meters").isEqualTo(during.connectionsOpened());
      assertThat(during.open()).as("%s", during).isEqualTo(1);
    });
    // The context has closed, and with it the client: its pooled connection was reset.
    CloseStats after = accounting[0].snapshot();
    assertThat(after.open()).as("%s", after).isZero();
    assertThat(after.closedByReset()).as("%s", after).isEqualTo(1);
    assertThat(after.closedLocallyFirst()).as("%s", after).isZero();
  }
}
