package io.txgw.cli;

import io.txgw.common.budget.BudgetSnapshot;
import io.txgw.common.budget.BudgetTable;
import io.txgw.common.budget.MemberReport;
import io.txgw.common.budget.Share;
import io.txgw.common.config.ConfigException;
import io.txgw.common.json.Json;
import io.txgw.common.model.Chain;
import io.txgw.coordinator.control.Controls;
import io.txgw.coordinator.nodes.NodeEndpointRules;
import io.txgw.coordinator.nodes.NodeRegistry;
import io.txgw.coordinator.nodes.NodeSpec;
import io.txgw.coordinator.nodes.NodeUrls;
import io.txgw.coordinator.zk.CuratorZnodes;
import io.txgw.coordinator.zk.ZkAcls;
import io.txgw.coordinator.zk.ZkClients;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryOneTime;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The operator's command line: the node registry, pause and resume, and who holds which share. Exit
 * codes: 0 done, 1 refused or not found, 2 bad arguments, 3 ZooKeeper or Kafka unreachable.
 */
@Command(
    name = "txgw",
    mixinStandardHelpOptions = true,
    version = "txgw 0.1.0",
    description = "Operate a txgw cluster through its ZooKeeper ensemble and Kafka.",
    subcommands = {
      Txgw.Nodes.class,
      Txgw.PauseCommand.class,
      Txgw.ResumeCommand.class,
      Txgw.BudgetsCommand.class,
      Txgw.ZkAclCommand.class,
      LagCommand.class,
      GrowPartitionsCommand.class,
      KafkaAclsCommand.class
    })
public final class Txgw {
  static final int REFUSED = 1;
  static final int UNREACHABLE = 3;

  public static void main(String[] args) {
    // An operator's command prints its answer and its own errors; the ZooKeeper client's
    // connection chatter (stack traces of each refused attempt) is not one.
    String level = System.getenv().getOrDefault("TXGW_CLI_LOG_LEVEL", "off");
    for (String logger :
        new String[] {"defaultLogLevel", "log.org.apache.zookeeper", "log.org.apache.curator"}) {
      System.setProperty("org.slf4j.simpleLogger." + logger, level);
    }
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs one command line; returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new Txgw());
    cli.setOut(out);
    cli.setErr(err);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          if (e instanceof Unreachable) {
            err.println("error: " + e.getMessage());
            return UNREACHABLE;
          }
          if (e instanceof IllegalArgumentException) {
            err.println("error: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
          }
          err.println("error: " + e);
          return REFUSED;
        });
    return cli.execute(ConnectionOptions.last(args));
  }

  /** ZooKeeper did not answer in time. */
  static final class Unreachable extends Exception {
    Unreachable(String message) {
      super(message);
    }
  }

  /** Where ZooKeeper is, shared by every command. */
  static final class Connection {
    @Option(
        names = {"-z", "--zookeeper"},
        description = "ZooKeeper connect string (default: $TXGW_ZOOKEEPER or 127.0.0.1:2181)")
    String zookeeper;

    @Option(
        names = "--connect-timeout",
        defaultValue = "5",
        description = "seconds to wait for ZooKeeper (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(
        names = "--zk-auth-file",
        description =
            "file holding user:password of the ZooKeeper digest identity (default: $TXGW_ZK_AUTH"
                + " or $TXGW_ZK_AUTH_FILE; none: unauthenticated)")
    Path authFile;

    String connectString() {
      if (zookeeper != null) {
        return zookeeper;
      }
      String env = System.getenv("TXGW_ZOOKEEPER");
      return env == null || env.isBlank() ? "127.0.0.1:2181" : env;
    }

    /** The ensemble and identity, from the options and then the environment. */
    ZkClients clients() {
      Map<String, String> env = new HashMap<>(System.getenv());
      if (authFile != null) {
        env.remove(ZkClients.AUTH.name());
        env.put(ZkClients.AUTH.name() + "_FILE", authFile.toString());
      }
      try {
        return ZkClients.fromEnv(connectString(), env);
      } catch (ConfigException e) {
        throw new IllegalArgumentException(String.join("; ", e.problems()), e);
      }
    }

    CuratorFramework connect() throws Unreachable, InterruptedException {
      CuratorFramework client =
          clients()
              .builder()
              .sessionTimeoutMs(10_000)
              .connectionTimeoutMs(timeoutSeconds * 1_000)
              .retryPolicy(new RetryOneTime(200))
              .build();
      client.start();
      if (!client.blockUntilConnected(timeoutSeconds, TimeUnit.SECONDS)) {
        client.close();
        throw new Unreachable(
            "cannot reach ZooKeeper at " + connectString() + " within " + timeoutSeconds + " s");
      }
      return client;
    }
  }

  /** A command that talks to ZooKeeper and prints to the command line's writers. */
  abstract static class ZkCommand implements Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    PrintWriter err() {
      return spec.commandLine().getErr();
    }

    @Override
    public Integer call() throws Exception {
      try (CuratorFramework client = connection.connect()) {
        return run(client);
      }
    }

    abstract int run(CuratorFramework client) throws Exception;
  }

  @Command(
      name = "nodes",
      description = "The node registry: endpoints per chain with their limits.",
      subcommands = {
        Nodes.Add.class,
        Nodes.ListNodes.class,
        Nodes.Remove.class,
        Nodes.Drain.class,
        Nodes.Undrain.class
      })
  static final class Nodes implements Runnable {
    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "name a nodes subcommand");
    }

    @Command(name = "add", description = "Adds a node, or replaces the one with that name.")
    static final class Add extends ZkCommand {
      @Parameters(index = "0", description = "chain: BTC or ETH")
      Chain chain;

      @Parameters(index = "1", description = "node name, unique within the chain")
      String name;

      @Option(names = "--url", required = true, description = "JSON-RPC URL")
      String url;

      @Option(names = "--wallet-url", description = "wallet JSON-RPC URL (bcoin)")
      String walletUrl;

      @Option(names = "--user", description = "Basic-auth user")
      String user;

      @Option(
          names = "--credentials",
          description = "where consumers read the password: env:VARIABLE or file:/path")
      String credentials;

      @Option(names = "--max-rps", required = true, description = "requests/s the node bears")
      double maxRps;

      @Option(names = "--max-in-flight", defaultValue = "8", description = "concurrent calls")
      int maxInFlight;

      @Option(names = "--weight", defaultValue = "100", description = "preference, 1-1000")
      int weight;

      private NodeSpec spec;

      /**
       * A bad node is refused before anything connects, and so is one the consumers would refuse: a
       * credentials reference outside what they set aside for nodes, or plain http off loopback.
       */
      @Override
      public Integer call() throws Exception {
        spec =
            new NodeSpec(
                chain, name, url, walletUrl, user, credentials, maxRps, maxInFlight, weight, false);
        List<String> problems;
        try {
          problems = NodeEndpointRules.fromEnv(System.getenv()).problems(spec);
        } catch (ConfigException e) {
          problems = e.problems();
        }
        if (!problems.isEmpty()) {
          throw new IllegalArgumentException(String.join("; ", problems));
        }
        return super.call();
      }

      @Override
      int run(CuratorFramework client) throws Exception {
        new NodeRegistry(client).put(spec);
        out()
            .printf(
                "added %s/%s %s (%.1f req/s, %d in flight)%n",
                chain, name, NodeUrls.shown(url), maxRps, maxInFlight);
        return 0;
      }
    }

    @Command(name = "list", description = "Lists the registered nodes.")
    static final class ListNodes extends ZkCommand {
      @Option(names = "--json", description = "print JSON")
      boolean json;

      @Override
      int run(CuratorFramework client) throws Exception {
        List<NodeSpec> nodes = new NodeRegistry(client).readAll();
        if (json) {
          // A URL's path can hold a key: even the operator's listing shows scheme://host:port.
          List<NodeSpec> shown = nodes.stream().map(NodeUrls::shown).toList();
          out().println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(shown));
          return 0;
        }
        out()
            .printf(
                "%-5s %-16s %-36s %9s %9s %6s %s%n",
                "CHAIN", "NAME", "URL", "MAX_RPS", "IN_FLIGHT", "WEIGHT", "STATE");
        for (NodeSpec n : nodes) {
          out()
              .printf(
                  "%-5s %-16s %-36s %9.1f %9d %6d %s%n",
                  n.chain(),
                  n.name(),
                  NodeUrls.shown(n.url()),
                  n.maxRequestsPerSecond(),
                  n.maxInFlight(),
                  n.weight(),
                  n.drained() ? "drained" : "active");
        }
        return 0;
      }
    }

    /** A command about one registered node, named by chain and name. */
    abstract static class OneNode extends ZkCommand {
      @Parameters(index = "0", description = "chain: BTC or ETH")
      Chain chain;

      @Parameters(index = "1", description = "node name")
      String name;
    }

    @Command(name = "remove", description = "Removes a node from the registry.")
    static final class Remove extends OneNode {
      @Override
      int run(CuratorFramework client) throws Exception {
        if (!new NodeRegistry(client).remove(chain, name)) {
          err().printf("error: no node %s/%s%n", chain, name);
          return REFUSED;
        }
        out().printf("removed %s/%s%n", chain, name);
        return 0;
      }
    }

    @Command(name = "drain", description = "Takes a node out of rotation; it stays registered.")
    static final class Drain extends OneNode {
      @Override
      int run(CuratorFramework client) throws Exception {
        return setDrained(client, chain, name, true, out(), err());
      }
    }

    @Command(name = "undrain", description = "Puts a drained node back in rotation.")
    static final class Undrain extends OneNode {
      @Override
      int run(CuratorFramework client) throws Exception {
        return setDrained(client, chain, name, false, out(), err());
      }
    }

    static int setDrained(
        CuratorFramework client,
        Chain chain,
        String name,
        boolean drained,
        PrintWriter out,
        PrintWriter err)
        throws Exception {
      NodeRegistry registry = new NodeRegistry(client);
      Optional<NodeSpec> spec = registry.read(chain, name);
      if (spec.isEmpty()) {
        err.printf("error: no node %s/%s%n", chain, name);
        return REFUSED;
      }
      registry.put(spec.get().withDrained(drained));
      out.printf("%s %s/%s%n", drained ? "drained" : "undrained", chain, name);
      return 0;
    }
  }

  @Command(name = "pause", description = "Stops every consumer broadcasting, within a second.")
  static final class PauseCommand extends ZkCommand {
    @Option(names = "--chain", description = "BTC or ETH; all chains when left out")
    Chain chain;

    @Option(names = "--reason", defaultValue = "", description = "kept with the pause")
    String reason;

    @Override
    int run(CuratorFramework client) throws Exception {
      String by = System.getProperty("user.name") + "@" + InetAddress.getLocalHost().getHostName();
      new Controls(client).pause(chain, new Controls.Pause(by, Instant.now(), reason));
      out().printf("paused %s%n", chain == null ? "all chains" : chain);
      return 0;
    }
  }

  @Command(name = "resume", description = "Lets consumers broadcast again.")
  static final class ResumeCommand extends ZkCommand {
    @Option(names = "--chain", description = "BTC or ETH; every pause when left out")
    Chain chain;

    @Override
    int run(CuratorFramework client) throws Exception {
      Controls controls = new Controls(client);
      List<String> lifted = controls.resume(chain);
      out().printf("resumed %s%n", lifted.isEmpty() ? "nothing (was not paused)" : lifted);
      if (chain != null && controls.read().containsKey(Controls.ALL)) {
        err()
            .printf(
                "note: all chains are still paused; %s stays paused until 'txgw resume'%n", chain);
      }
      return 0;
    }
  }

  @Command(
      name = "zk-acl",
      description =
          "Lists the znodes under /txgw whose ACL is not this identity's (made before"
              + " TXGW_ZK_AUTH was set, or by others); --apply sets it on them.")
  static final class ZkAclCommand extends ZkCommand {
    @Option(names = "--apply", description = "set this identity's ACL on every one listed")
    boolean apply;

    @Override
    int run(CuratorFramework client) throws Exception {
      ZkClients clients = connection.clients();
      if (!clients.authenticated()) {
        err()
            .println("error: needs an identity: TXGW_ZK_AUTH, TXGW_ZK_AUTH_FILE or --zk-auth-file");
        return REFUSED;
      }
      List<ZkAcls.Found> found =
          ZkAcls.differing(client, clients.acl(), Set.of(), Integer.MAX_VALUE);
      for (ZkAcls.Found f : found) {
        out().printf("%s %s%n", f.path(), ZkAcls.describe(f.acl()));
      }
      if (!apply) {
        out().printf("%d znode(s) with another ACL%n", found.size());
        return found.isEmpty() ? 0 : REFUSED;
      }
      List<String> refused = ZkAcls.apply(client, clients.acl());
      out().printf("set the ACL of %d znode(s)%n", found.size() - refused.size());
      for (String path : refused) {
        err().printf("error: no permission to set the ACL of %s%n", path);
      }
      return refused.isEmpty() ? 0 : REFUSED;
    }
  }

  @Command(
      name = "budgets",
      description = "Who holds which share of each node, and how it uses it.")
  static final class BudgetsCommand extends ZkCommand {
    @Override
    int run(CuratorFramework client) throws Exception {
      BudgetSnapshot snapshot = BudgetSnapshot.read(new CuratorZnodes(client));
      Map<String, Controls.Pause> pauses = new Controls(client).read();
      if (!pauses.isEmpty()) {
        out().printf("paused: %s%n", pauses.keySet());
      }
      out()
          .printf(
              "%-20s %-16s %10s %10s %9s %9s %8s%n",
              "NODE", "CONSUMER", "SHARE_RPS", "EFFECTIVE", "IN_FLIGHT", "BACKLOG", "HEALTHY");
      for (BudgetTable table : snapshot.tables()) {
        String key = table.chain() + "/" + table.node();
        out()
            .printf(
                "%-20s %-16s %10.1f %10s %9d %9s %8s   (limit, set by %s)%n",
                key,
                "*",
                table.maxRequestsPerSecond(),
                "",
                table.maxInFlight(),
                "",
                "",
                table.leader());
        for (Map.Entry<String, Share> s : new TreeMap<>(table.shares()).entrySet()) {
          MemberReport report = snapshot.reports().get(s.getKey());
          MemberReport.NodeUse use = report == null ? null : report.nodes().get(key);
          out()
              .printf(
                  "%-20s %-16s %10.1f %10s %9d %9s %8s%n",
                  key,
                  s.getKey(),
                  s.getValue().requestsPerSecond(),
                  use == null ? "-" : String.format("%.1f", use.effectiveRequestsPerSecond()),
                  s.getValue().inFlight(),
                  report == null ? "-" : report.backlog(),
                  use == null ? "-" : use.healthy() ? "yes" : "no");
        }
      }
      return 0;
    }
  }
}
