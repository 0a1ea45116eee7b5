package io.txgw.gateway.http;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class HttpPortsTest {
  @Test
  void aPortAnotherProcessListensOnIsRefusedByName() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> HttpPorts.ensureFree("127.0.0.1", port, "the HTTP API"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cannot bind the HTTP API: 127.0.0.1:" + port + " is taken");
    }
  }

  @Test
  void portZeroAsksForAnyFreePortAndPasses() {
    assertThatCode(() -> HttpPorts.ensureFree("127.0.0.1", 0, "the HTTP API"))
        .doesNotThrowAnyException();
  }
}
