package io.txgw.common.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class JdkHttpServersTest {
  @Test
  void theFirstServerMadeTurnsNaglesAlgorithmOffUnlessTheCommandLineSaidOtherwise()
      throws Exception {
    String given = System.getProperty(JdkHttpServers.NO_DELAY);
    var server =
        JdkHttpServers.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
    try {
      assertThat(System.getProperty(JdkHttpServers.NO_DELAY))
          .isEqualTo(given == null ? "true" : given);
    } finally {
      server.stop(0);
    }
  }
}
