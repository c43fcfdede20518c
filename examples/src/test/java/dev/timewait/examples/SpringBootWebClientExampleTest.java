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
import dev.timewait.junit5.GuardTimeWait;
import dev.timewait.micrometer.TimeWaitMetrics;
import dev.timewait.reactornetty.TimeWaitReactorNetty;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.http.client.autoconfigure.reactive.ReactiveHttpClientAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.netty.http.client.HttpClient;

/**
 * Copy-ready: a Spring Boot application's auto-configured {@code WebClient.Builder} on timewait.
 * {@link TimeWaitClientConfiguration} is what an application adds: a {@code ClientHttpConnector}
 * bean on a Reactor Netty client configured by timewait (Spring Boot's own connector then backs
 * off, and every {@code WebClient.Builder} it hands out uses this one), and a bean that shuts the
 * client down with the context: without it the pool's connections stay open after the context
 * closes, until idle eviction (measured here: 2 of 2 still open). A {@code ClientHttpConnector}
 * bean is Spring Boot's documented way to choose the client's connections, in Boot 3 ({@code
 * ClientHttpConnectorAutoConfiguration}) and 4 ({@code ReactiveHttpClientAutoConfiguration}, run
 * here: 4.0). {@code @GuardTimeWait} fails the test if any new client TIME_WAIT towards WireMock's
 * port is in the kernel's table (Linux; skipped elsewhere).
 */
@WireMockTest
@GuardTimeWait(portSupplier = "wireMockPort")
class SpringBootWebClientExampleTest {
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
      return TimeWaitMetrics.builder("spring-webclient", timeWaitAccounting).kernelGauges().build();
    }

    @Bean
    HttpClient timeWaitHttpClient(CloseAccounting accounting) {
      PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(32).maxPerRoute(32).build();
      return TimeWaitReactorNetty.configure(
          HttpClient.create(TimeWaitReactorNetty.connectionProvider("spring", strategy))
              .responseTimeout(Duration.ofSeconds(10)),
          strategy, accounting);
    }

    @Bean
    ClientHttpConnector timeWaitConnector(HttpClient timeWaitHttpClient) {
      return new ReactorClientHttpConnector(timeWaitHttpClient);
    }

    /** Resets the connections left open and disposes the pool when the context closes. */
    @Bean
    DisposableBean timeWaitShutdown(HttpClient timeWaitHttpClient) {
      return () -> TimeWaitReactorNetty.shutdown(timeWaitHttpClient);
    }
  }

  private final ApplicationContextRunner application = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
          SimpleMetricsExportAutoConfiguration.class, ReactiveHttpClientAutoConfiguration.class,
          WebClientAutoConfiguration.class))
      .withUserConfiguration(TimeWaitClientConfiguration.class);

  @BeforeEach
  void stub() {
    stubFor(get("/hello").willReturn(ok("hello")));
  }

  @Test
  void theAutoConfiguredWebClientBuilderUsesTimewaitAndTheContextsCloseLeavesNoTimeWait(
      WireMockRuntimeInfo wm) {
    CloseAccounting[] accounting = new CloseAccounting[1];
    application.run(context -> {
      assertThat(context).hasNotFailed();
      accounting[0] = context.getBean(CloseAccounting.class);
      assertThat(context.getBean(ClientHttpConnector.class))
          .as("Spring Boot's own connector backs off for the application's")
          .isSameAs(context.getBean("timeWaitConnector"));
      WebClient web = context.getBean(WebClient.Builder.class).baseUrl(wm.getHttpBaseUrl()).build();
      for (int i = 0; i < 50; i++) {
        String body = web.get().uri("/hello").retrieve().bodyToMono(String.class)
            .block(Duration.ofSeconds(10));
        assertThat(body).isEqualTo("hello");
      }
      CloseStats during = accounting[0].snapshot();
      // Sequential requests: one connection, sometimes two (Reactor Netty releases a connection
      // to its pool on the event loop just after the response, which the next request can beat).
      assertThat(during.connectionsOpened()).as("the builder's requests went through timewait: %s", during)
          .isBetween(1L, 4L);
      MeterRegistry registry = context.getBean(MeterRegistry.class);
      assertThat(registry.get(TimeWaitMetrics.OPENED).tag("client", "spring-webclient")
              .functionCounter().count())
          .as("Spring Boot bound the meters").isEqualTo(during.connectionsOpened());
      assertThat(during.open()).as("%s", during).isPositive();
    });
    // The context has closed: the shutdown bean reset the pooled connections.
    CloseStats after = accounting[0].snapshot();
    assertThat(after.open()).as("%s", after).isZero();
    assertThat(after.closedByReset()).as("%s", after).isEqualTo(after.connectionsOpened());
    assertThat(after.closedLocallyFirst()).as("%s", after).isZero();
  }
}
