package io.txgw.deploy.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {
  @Test
  void portsComeFromBelowTheKernelsEphemeralRangeEachOnceAndBindable() throws Exception {
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      int port = Ports.freeLoopbackPort();
      assertThat(port).isBetween(Ports.LOWEST, Ports.BELOW_EPHEMERAL - 1);
      ports.add(port);
    }
    assertThat(ports).hasSize(200);
    int port = Ports.freeLoopbackPort();
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      assertThat(socket.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void forksSideBySideHandOutPortsFromSlicesThatDoNotOverlap() {
    int[] first = Ports.slice(1, 2);
    int[] second = Ports.slice(2, 2);
    assertThat(first[0]).isEqualTo(Ports.LOWEST);
    assertThat(second[0]).isEqualTo(first[1]);
    assertThat(second[1]).isLessThanOrEqualTo(Ports.BELOW_EPHEMERAL);
    assertThat(Ports.slice(1, 1)).containsExactly(Ports.LOWEST, Ports.BELOW_EPHEMERAL);
  }
}
