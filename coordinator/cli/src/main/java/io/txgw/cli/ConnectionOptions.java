package io.txgw.cli;

import java.util.ArrayList;
import java.util.List;

/** Where the connection's options go on a {@code txgw} command line. */
final class ConnectionOptions {
  private ConnectionOptions() {}

  /** The connection's options that take a value, as {@link Connection} names them. */
  private static final List<String> CONNECTION_OPTIONS =
      List.of("-z", "--zookeeper", "--connect-timeout", "--zk-auth-file");

  /**
   * The connection's options given before the command ({@code txgw -z host:2181 nodes list}) moved
   * after it, where each command that talks to ZooKeeper declares them: both orders work, as an
   * operator would expect. Anything else before the command stays where it is.
   */
  static String[] last(String... args) {
    List<String> moved = new ArrayList<>();
    int i = 0;
    while (i < args.length) {
      String arg = args[i];
      String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
      if (CONNECTION_OPTIONS.contains(name)) {
        moved.add(arg);
        if (name.equals(arg) && i + 1 < args.length) {
          moved.add(args[++i]);
        }
        i++;
      } else if (arg.startsWith("-z") && arg.length() > 2 && !arg.startsWith("--")) {
        // -z127.0.0.1:2181, the short option with its value attached.
        moved.add(arg);
        i++;
      } else {
        break;
      }
    }
    if (moved.isEmpty() || i == args.length || args[i].startsWith("-")) {
      // Nothing moved, or no command follows them: picocli answers as it would.
      return args;
    }
    List<String> rest = new ArrayList<>(List.of(args).subList(i, args.length));
    int end = rest.indexOf("--");
    rest.addAll(end < 0 ? rest.size() : end, moved);
    return rest.toArray(String[]::new);
  }
}
