package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.deploy.infra.ChildProcess;
import io.txgw.deploy.infra.TempDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every command the README and the documents under {@code docs/} show for copying runs. A block
 * fenced as {@code ```sh} is meant to be copied into a shell; output, and commands that need other
 * machines (ssh, a cluster of boxes, a stopped gateway), are fenced as {@code ```text} or {@code
 * ```console}. Each {@code sh} block runs with bash, in the repository's root, against a local
 * stack started here as {@code ./deploy/run-demo.sh --serve} starts it, with the variables that
 * command prints, and must exit 0. Blocks run in the order a reader meets them: README.md first,
 * then each document by name, top to bottom, so a block may use data an earlier block of its file
 * made.
 *
 * <p>Inside a block, {@code curl} fails on an HTTP error answer ({@code --fail-with-body}) and the
 * block stops at its first failing command ({@code set -eo pipefail}): an example that answers 409
 * or 422 no longer shows what it says it shows.
 */
class DocsCommandsIT {
  /**
   * The two commands of README.md "Two commands": the demo and the whole suite start and stop their
   * own stack and take minutes, and the suite includes this test. Named here, not inferred, so that
   * no other command is skipped by accident.
   */
  static final List<String> NOT_RUN = List.of("./deploy/run-demo.sh", "mvn -B -ntp verify");

  /** Languages a fenced block may name: one to run, the rest to read. */
  static final Set<String> LANGUAGES = Set.of("sh", "text", "console", "python", "json");

  static final Duration BLOCK_TIMEOUT = Duration.ofMinutes(3);

  /** Commands a runnable block may not use: the docs show them in console blocks. */
  static final Pattern FOREIGN =
      Pattern.compile(
          "(^|[\\s;&|(])(mvn|docker|kubectl|ssh|scp|sudo|\\$EDITOR)\\b", Pattern.MULTILINE);

  static final Pattern FENCE = Pattern.compile("^( *)```([A-Za-z0-9_+-]*)\\s*$");

  static Path repo;
  static Path dir;
  static LocalStack stack;

  /** One fenced block of a document: where it starts and what it holds. */
  record Block(Path file, int line, int index, String language, String text) {
    String name() {
      return repo.relativize(file) + " block " + index + " (line " + line + ")";
    }
  }

  @BeforeAll
  static void start() throws Exception {
    repo = repository();
    dir = Files.createTempDirectory("txgw-docs-");
    // As the demo's --serve runs it: Ethereum payouts of one account go to the multi-send contract.
    stack = LocalStack.start(LocalStack.Options.defaults().withMultiSend());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
    if (dir != null) {
      TempDirs.deleteQuietly(dir);
    }
  }

  /**
   * The repository's root: the deploy module's parent, named by {@code txgw.deploy.dir} (set by the
   * failsafe configuration), else the working directory, which Maven makes the module's.
   */
  static Path repository() {
    String deploy = System.getProperty("txgw.deploy.dir");
    Path module = deploy == null ? Path.of("").toAbsolutePath() : Path.of(deploy).toAbsolutePath();
    return module.getParent();
  }

  /** README.md, then the documents under docs/ by name. */
  static List<Path> documents() throws IOException {
    Path root = repo == null ? repository() : repo;
    List<Path> files = new ArrayList<>(List.of(root.resolve("README.md")));
    try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
      docs.filter(p -> p.getFileName().toString().endsWith(".md")).sorted().forEach(files::add);
    }
    return files;
  }

  /** Every fenced block of {@code file}, indentation of its fence removed. */
  static List<Block> blocks(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Block> blocks = new ArrayList<>();
    int i = 0;
    while (i < lines.size()) {
      Matcher open = FENCE.matcher(lines.get(i));
      if (!open.matches()) {
        i++;
        continue;
      }
      int indent = open.group(1).length();
      String language = open.group(2);
      int start = i + 1;
      StringBuilder text = new StringBuilder();
      i++;
      while (i < lines.size() && !lines.get(i).strip().equals("```")) {
        String line = lines.get(i);
        int cut = Math.min(indent, line.length() - line.stripLeading().length());
        text.append(line.substring(cut)).append('\n');
        i++;
      }
      blocks.add(new Block(file, start, blocks.size() + 1, language, text.toString()));
      i++;
    }
    return blocks;
  }

  /** A line's command without its trailing comment and blanks. */
  static String command(String line) {
    int hash = line.indexOf(" #");
    return (hash < 0 ? line : line.substring(0, hash)).strip();
  }

  /** True for a block made only of {@link #NOT_RUN} commands; a block mixing them is an error. */
  static boolean notRun(Block block) {
    List<String> commands =
        block.text().lines().map(DocsCommandsIT::command).filter(c -> !c.isEmpty()).toList();
    long named = commands.stream().filter(NOT_RUN::contains).count();
    assertThat(named == 0 || named == commands.size())
        .as(
            "%s mixes %s with commands to run: keep those two in a block of their own",
            block.name(), NOT_RUN)
        .isTrue();
    return named > 0;
  }

  /** What a person has after {@code ./deploy/run-demo.sh --serve} and its export lines. */
  static Map<String, String> environment() {
    Map<String, String> env = new HashMap<>();
    env.put("TXGW_URL", stack.gatewayUrl());
    env.put("TXGW_ADMIN_URL", stack.gatewayAdminUrl());
    env.put("TXGW_KEY", stack.apiKey().reveal());
    env.put("TXGW_PAYER_KEY", stack.treasuryPayerKey().reveal());
    env.put("TXGW_APPROVER_KEY", stack.treasuryApproverKey().reveal());
    env.put("TXGW_ZOOKEEPER", stack.zooKeeperConnect());
    env.put("TXGW_ZK_AUTH_FILE", stack.zkAuthFile().toString());
    env.put("TXGW_KAFKA_BOOTSTRAP", stack.kafkaBootstrap());
    env.put("TXGW_CONSUMER_METRICS_URL", stack.consumer("consumer-1").metricsUrl());
    // What a block writes to the temporary directory goes with the test's own directory.
    env.put("TMPDIR", dir.toString());
    return env;
  }

  @Test
  void everyFencedBlockSaysWhetherItIsRunAndTheSkippedCommandsExist() throws IOException {
    Set<String> found = new HashSet<>();
    for (Path file : documents()) {
      for (Block block : blocks(file)) {
        assertThat(LANGUAGES)
            .as(
                "%s is fenced as '%s': name sh (run by this test) or text/console (not run)",
                block.name(), block.language())
            .contains(block.language());
        if (block.language().equals("sh") && notRun(block)) {
          block.text().lines().map(DocsCommandsIT::command).forEach(found::add);
        }
        if (block.language().equals("sh") && !notRun(block)) {
          // Run here, against a stack on loopback: nothing that builds, reaches other machines,
          // starts containers or waits for an editor.
          assertThat(FOREIGN.matcher(block.text()).find())
              .as(
                  "%s runs %s: fence it as console, which is shown and not run",
                  block.name(), FOREIGN.pattern())
              .isFalse();
        }
      }
    }
    // The list names real commands of the README: renamed there, it must be renamed here.
    assertThat(found).containsAll(NOT_RUN);
  }

  @TestFactory
  Stream<DynamicTest> everyShellBlockRunsAgainstTheLocalStack() throws IOException {
    List<Block> runnable = new ArrayList<>();
    for (Path file : documents()) {
      for (Block block : blocks(file)) {
        if (block.language().equals("sh") && !notRun(block)) {
          runnable.add(block);
        }
      }
    }
    assertThat(runnable).as("sh blocks in README.md and docs/").isNotEmpty();
    return runnable.stream().map(b -> DynamicTest.dynamicTest(b.name(), () -> run(b)));
  }

  private static void run(Block block) throws Exception {
    String script =
        "set -eo pipefail\n"
            // An HTTP error answer fails the block: the examples show calls that succeed.
            + "curl() { command curl --fail-with-body \"$@\"; }\n"
            // Nothing a block starts in the background outlives it.
            // (the block's own exit status kept: an empty kill would make it 2).
            + "trap 'rc=$?; kill $(jobs -p) 2>/dev/null || true; exit $rc' EXIT\n"
            + "exec </dev/null\n"
            + block.text();
    Path file = dir.resolve("block-" + block.index() + "-" + block.line() + ".sh");
    Files.writeString(file, script);
    Path log = dir.resolve(file.getFileName() + ".log");
    try (ChildProcess bash =
        ChildProcess.start(
            block.name(), List.of("bash", file.toString()), repo, environment(), log)) {
      boolean ended = bash.awaitExit(BLOCK_TIMEOUT);
      String output = Files.readString(log);
      assertThat(ended)
          .as(
              "%s still runs after %s:%n%s%n--- output ---%n%s",
              block.name(), BLOCK_TIMEOUT, block.text(), output)
          .isTrue();
      assertThat(bash.exitCode())
          .as(
              "%s exited %d:%n%s%n--- output ---%n%s",
              block.name(), bash.exitCode(), block.text(), output)
          .isZero();
    }
  }
}
