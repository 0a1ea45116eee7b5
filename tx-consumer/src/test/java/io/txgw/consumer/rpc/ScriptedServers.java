package io.txgw.consumer.rpc;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ServerSocketFactory;
import mockwebserver3.MockWebServer;

/**
 * A scripted node for the unit tests, answering without Nagle's delay.
 *
 * <p>MockWebServer writes an answer's headers and its body apart. With Nagle's algorithm on, the
 * body waits for the client to acknowledge the headers, which the client's delayed acknowledgement
 * holds for 40 ms on loopback: every call took some 40 ms, and a test of a few calls half a second,
 * waiting on nothing (a real node writes its answer at once).
 */
public final class ScriptedServers {
  private ScriptedServers() {}

  /** A server not started yet, whose connections send each write at once. */
  public static MockWebServer noDelay() {
    MockWebServer server = new MockWebServer();
    server.setServerSocketFactory(new NoDelayFactory());
    return server;
  }

  private static final class NoDelayFactory extends ServerSocketFactory {
    @Override
    public ServerSocket createServerSocket() throws IOException {
      return new NoDelayServerSocket();
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
      throw new UnsupportedOperationException("bound by MockWebServer");
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
      throw new UnsupportedOperationException("bound by MockWebServer");
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress address)
        throws IOException {
      throw new UnsupportedOperationException("bound by MockWebServer");
    }
  }

  private static final class NoDelayServerSocket extends ServerSocket {
    NoDelayServerSocket() throws IOException {
      super();
    }

    @Override
    public Socket accept() throws IOException {
      Socket socket = super.accept();
      socket.setTcpNoDelay(true);
      return socket;
    }
  }
}
