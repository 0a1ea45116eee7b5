package io.txgw.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigReaderTest {
  private static final Setting<Integer> PORT = Setting.integer("PORT", 80, 1, 65535, "port");
  private static final Setting<Secret> KEY = Setting.secret("KEY", null, "the key");

  @Test
  void reportsEveryProblemAtOnce() {
    ConfigReader reader = new ConfigReader(Map.of("PORT", "eighty"));
    reader.get(PORT);
    reader.get(KEY);
    assertThatThrownBy(reader::throwIfProblems)
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).problems()).hasSize(2));
  }

  @Test
  void aSecretNeverAppearsInMessagesOrToString() {
    Setting<Secret> strict =
        new Setting<>(
            "KEY",
            "key",
            null,
            s -> {
              throw new IllegalArgumentException("too short");
            },
            true);
    ConfigReader reader = new ConfigReader(Map.of("KEY", "hunter2-secret"));
    reader.get(strict);
    assertThatThrownBy(reader::throwIfProblems).hasMessageNotContaining("hunter2");
    assertThat(new Secret("hunter2-secret").toString()).doesNotContain("hunter2");
  }

  @Test
  void readsASecretFromTheFileNamedByItsFileVariable(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("key"), "from-file\n");
    ConfigReader reader = new ConfigReader(Map.of("KEY_FILE", file.toString()));
    assertThat(reader.get(KEY).reveal()).isEqualTo("from-file");
  }
}
