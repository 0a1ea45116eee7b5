package io.txgw.deploy.nodes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The npm packages that ship the dev nodes (anvil, hardhat, bcoin), installed into {@code
 * deploy/nodes} on first use. Install scripts are skipped: bcoin's native leveldown build fails
 * here, and the nodes run with bcoin's JavaScript backends.
 */
public final class NodePackages {
  private static final Logger log = LoggerFactory.getLogger(NodePackages.class);

  private final Path dir;

  private NodePackages(Path dir) {
    this.dir = dir;
  }

  /**
   * Finds {@code deploy/nodes}: the {@code txgw.nodes.dir} property, the {@code TXGW_NODES_DIR}
   * variable, or the nearest enclosing folder that has it.
   */
  public static NodePackages locate() {
    String configured = System.getProperty("txgw.nodes.dir", System.getenv("TXGW_NODES_DIR"));
    if (configured != null && !configured.isBlank()) {
      return new NodePackages(Path.of(configured).toAbsolutePath());
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      for (Path candidate : List.of(p.resolve("deploy/nodes"), p.resolve("nodes"))) {
        if (Files.isRegularFile(candidate.resolve("package.json"))
            && Files.isDirectory(candidate.getParent().resolve("src"))) {
          return new NodePackages(candidate);
        }
      }
    }
    throw new IllegalStateException(
        "cannot find deploy/nodes/package.json; run from the project or set TXGW_NODES_DIR");
  }

  public Path anvil() {
    return dir.resolve("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
  }

  /** hardhat's command-line entry, run with node. */
  public Path hardhat() {
    return dir.resolve("node_modules/hardhat/internal/cli/cli.js");
  }

  public Path bcoin() {
    return dir.resolve("node_modules/bcoin/bin/node");
  }

  /** Installs the packages unless they are there; safe when several JVMs call it at once. */
  public NodePackages ensureInstalled() {
    if (installed()) {
      return this;
    }
    try (FileChannel lockFile =
            FileChannel.open(
                dir.resolve(".install.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lockFile.lock()) {
      if (!installed()) {
        npmInstall();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot install the node packages in " + dir, e);
    }
    return this;
  }

  private boolean installed() {
    return Files.isExecutable(anvil())
        && Files.isRegularFile(bcoin())
        && Files.isRegularFile(hardhat())
        && Files.isRegularFile(playwright().resolve("package.json"));
  }

  /** playwright-core, which drives the system's Chromium (it downloads no browser of its own). */
  public Path playwright() {
    return dir.resolve("node_modules/playwright-core");
  }

  /** The directory the packages are installed in, for scripts that require them. */
  public Path dir() {
    return dir;
  }

  private void npmInstall() throws IOException {
    log.info("installing anvil, hardhat and bcoin with npm into {}", dir);
    Path logFile = dir.resolve("npm-install.log");
    Process npm =
        new ProcessBuilder(
                "npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(logFile.toFile())
            .start();
    try {
      if (!npm.waitFor(10, TimeUnit.MINUTES)) {
        npm.destroyForcibly();
        throw new IllegalStateException("npm install took over 10 minutes; see " + logFile);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      npm.destroyForcibly();
      throw new IllegalStateException("interrupted during npm install", e);
    }
    if (npm.exitValue() != 0 || !installed()) {
      throw new IllegalStateException(
          "npm install failed (exit " + npm.exitValue() + "): " + Files.readString(logFile));
    }
    // npm does not always keep the executable bit of a binary inside a package.
    anvil().toFile().setExecutable(true);
  }
}
