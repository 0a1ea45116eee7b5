package io.txgw.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.txgw.common.config.Setting;
import io.txgw.common.kafka.KafkaAcls;
import io.txgw.common.kafka.KafkaSecurity;
import io.txgw.common.kafka.TopicSettings;
import io.txgw.common.kafka.Topics;
import io.txgw.consumer.TxConsumerConfig;
import io.txgw.gateway.GatewayConfig;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The container images (Jib in the poms), {@code deploy/compose} and {@code deploy/k8s} checked
 * against the code, since no container engine or cluster runs them here: the variables they set are
 * ones the processes read, the images are the ones Jib builds, the ports are the ones the processes
 * listen on, the topics and ACLs are the ones the code creates and grants. Each failure names the
 * file and the item.
 */
class ManifestsTest {
  private static final YAMLMapper yaml = new YAMLMapper();

  private static Path root;
  private static Path compose;
  private static Path k8s;
  private static String version;
  private static Map<Role, JibImage> jib;
  private static List<Doc> manifests;
  private static JsonNode composeFile;
  private static List<Container> containers;

  /** Which txgw process a container runs, told by its image. */
  enum Role {
    GATEWAY,
    CONSUMER
  }

  /** One YAML document and the file it is in. */
  record Doc(Path file, JsonNode node) {
    String kind() {
      return node.path("kind").asText();
    }

    String name() {
      return node.path("metadata").path("name").asText();
    }

    String where() {
      return root.relativize(file) + " " + kind() + " " + name();
    }
  }

  /** What Jib builds for one module: image, exposed ports and the environment it bakes in. */
  record JibImage(String pom, String image, Set<Integer> ports, Map<String, String> env) {}

  /**
   * One txgw container of compose or Kubernetes, with the variables it sets (a variable set from a
   * Secret or the pod's fields has no literal value) and its ports by name.
   */
  record Container(
      String where,
      Role role,
      String image,
      Map<String, String> env,
      Map<String, Integer> ports,
      Map<String, String> labels) {

    /** The value the process sees: set here, else baked into the image, else the code's default. */
    String effective(Setting<?> setting) {
      if (env.containsKey(setting.name())) {
        return env.get(setting.name());
      }
      return jib.get(role).env().getOrDefault(setting.name(), setting.defaultValue());
    }
  }

  @BeforeAll
  static void read() throws Exception {
    Path deploy = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    root = deploy.getParent();
    compose = deploy.resolve("compose");
    k8s = deploy.resolve("k8s");
    version = pomText(root.resolve("pom.xml"), "version");
    jib =
        Map.of(
            Role.GATEWAY, jibImage(root.resolve("gateway-producer/pom.xml")),
            Role.CONSUMER, jibImage(root.resolve("tx-consumer/pom.xml")));
    manifests = new ArrayList<>();
    for (String resource : kustomizeResources()) {
      manifests.addAll(docs(k8s.resolve(resource)));
    }
    composeFile = yaml.readTree(compose.resolve("docker-compose.yml").toFile());
    containers = new ArrayList<>();
    containers.addAll(k8sContainers());
    containers.addAll(composeContainers());
  }

  @Test
  void everyVariableTheManifestsSetIsOneTheCodeReads() {
    List<String> unknown = new ArrayList<>();
    for (Container c : containers) {
      for (String name : c.env().keySet()) {
        if (name.startsWith("TXGW_") && !reads(c.role(), name)) {
          unknown.add(c.where() + ": " + name);
        }
      }
    }
    jib.forEach(
        (role, image) ->
            image.env().keySet().stream()
                .filter(name -> !reads(role, name))
                .forEach(name -> unknown.add(image.pom() + " (Jib environment): " + name)));
    assertThat(unknown)
        .as("variables set that the %s does not read", "gateway or consumer")
        .isEmpty();
  }

  @Test
  void onlyTxgwContainersAreGivenTxgwVariables() {
    List<String> misplaced = new ArrayList<>();
    for (Doc doc : manifests) {
      for (JsonNode c : podContainers(doc)) {
        if (role(c.path("image").asText()) == null) {
          for (JsonNode e : c.path("env")) {
            if (e.path("name").asText().startsWith("TXGW_")) {
              misplaced.add(doc.where() + " container " + c.path("name").asText());
            }
          }
        }
      }
    }
    composeFile
        .path("services")
        .properties()
        .forEach(
            s -> {
              if (role(s.getValue().path("image").asText()) == null
                  && composeEnv(s.getValue()).keySet().stream()
                      .anyMatch(n -> n.startsWith("TXGW_"))) {
                misplaced.add("deploy/compose/docker-compose.yml service " + s.getKey());
              }
            });
    assertThat(misplaced).as("TXGW_ variables on containers that run no txgw process").isEmpty();
  }

  @Test
  void theImagesAreTheOnesJibBuilds() {
    assertThat(jib.get(Role.GATEWAY).image()).isEqualTo("txgw/gateway:" + version);
    assertThat(jib.get(Role.CONSUMER).image()).isEqualTo("txgw/consumer:" + version);
    List<String> wrong = new ArrayList<>();
    for (Container c : containers) {
      if (!c.image().equals(jib.get(c.role()).image())) {
        wrong.add(c.where() + ": " + c.image() + ", Jib builds " + jib.get(c.role()).image());
      }
    }
    assertThat(wrong).as("txgw images other than the ones Jib builds").isEmpty();
    for (String source : List.of("deploy/compose", "deploy/k8s")) {
      for (Role role : Role.values()) {
        assertThat(containers)
            .as("%s runs a %s", source, role)
            .anyMatch(c -> c.where().startsWith(source) && c.role() == role);
      }
    }
  }

  @Test
  void kafkaAndZooKeeperAreTheReleasesTheClientsAreBuiltWith() throws Exception {
    String kafka = pomText(root.resolve("pom.xml"), "properties/kafka.version");
    String zookeeper = pomText(root.resolve("pom.xml"), "properties/zookeeper.version");
    String zkLine = zookeeper.substring(0, zookeeper.indexOf('.', zookeeper.indexOf('.') + 1));
    JsonNode services = composeFile.path("services");
    assertThat(services.path("kafka").path("image").asText())
        .as("deploy/compose/docker-compose.yml service kafka image")
        .isEqualTo("apache/kafka:" + kafka);
    assertThat(services.path("zookeeper").path("image").asText())
        .as("deploy/compose/docker-compose.yml service zookeeper image")
        .startsWith("zookeeper:" + zkLine);
    Doc cluster = only("Kafka");
    assertThat(cluster.node().path("spec").path("kafka").path("version").asText())
        .as(cluster.where() + " spec.kafka.version")
        .isEqualTo(kafka);
    Doc zk = only("StatefulSet", "zookeeper");
    assertThat(podContainers(zk).get(0).path("image").asText())
        .as(zk.where() + " image")
        .startsWith("zookeeper:" + zkLine);
  }

  @Test
  void serversListenOnEveryAddressOfTheirContainer() {
    List<String> loopback = new ArrayList<>();
    for (Container c : containers) {
      for (Setting<?> host : hosts(c.role())) {
        if (!"0.0.0.0".equals(c.effective(host))) {
          loopback.add(c.where() + ": " + host.name() + "=" + c.effective(host));
        }
      }
    }
    assertThat(loopback)
        .as("servers bound to an address other containers cannot reach (127.0.0.1 is the code's)")
        .isEmpty();
  }

  @Test
  void containerPortsAreTheOnesTheProcessesListenOn() {
    List<String> wrong = new ArrayList<>();
    jib.forEach(
        (role, image) -> {
          Set<Integer> listening = new TreeSet<>();
          for (Setting<?> port : ports(role)) {
            listening.add(
                Integer.parseInt(image.env().getOrDefault(port.name(), port.defaultValue())));
          }
          if (!image.ports().equals(listening)) {
            wrong.add(image.pom() + ": Jib exposes " + image.ports() + ", listening " + listening);
          }
        });
    for (Container c : containers) {
      Set<Integer> listening = listening(c);
      if (listening.contains(0)) {
        wrong.add(c.where() + ": a port of 0 is a free one, which nothing can be pointed at");
      }
      if (!new TreeSet<>(c.ports().values()).equals(listening)) {
        wrong.add(c.where() + ": container ports " + c.ports() + ", listening " + listening);
      }
    }
    assertThat(wrong).as("ports that differ from what the processes listen on").isEmpty();
  }

  @Test
  void composePublishesPortsOnLoopbackOnly() {
    List<String> open = new ArrayList<>();
    composeFile
        .path("services")
        .properties()
        .forEach(
            s -> {
              for (JsonNode port : s.getValue().path("ports")) {
                if (!port.asText().startsWith("127.0.0.1:")) {
                  open.add("deploy/compose/docker-compose.yml service " + s.getKey() + ": " + port);
                }
              }
            });
    assertThat(open).as("ports published on every address of the host").isEmpty();
  }

  @Test
  void servicesTargetPortsTheirPodsOpen() {
    List<String> wrong = new ArrayList<>();
    for (Doc service : kind("Service")) {
      Map<String, String> selector = strings(service.node().path("spec").path("selector"));
      List<Map<String, Integer>> selected = selectedPorts(selector);
      if (selected.isEmpty()) {
        wrong.add(service.where() + ": selects no pod of these manifests (" + selector + ")");
        continue;
      }
      for (JsonNode port : service.node().path("spec").path("ports")) {
        String target = port.path("targetPort").asText(port.path("port").asText());
        for (Map<String, Integer> pod : selected) {
          if (!pod.containsKey(target) && !pod.containsValue(parseOr(target, -1))) {
            wrong.add(
                service.where()
                    + " port "
                    + port.path("name").asText()
                    + ": targetPort "
                    + target
                    + " is not a container port of the pods it selects "
                    + pod);
          }
        }
      }
    }
    assertThat(wrong).as("Services whose ports lead nowhere").isEmpty();
  }

  @Test
  void theServiceMonitorScrapesTheMetricsPortOfEveryTxgwProcess() {
    Doc monitor = only("ServiceMonitor");
    assertThat(monitor.node().path("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
    Map<String, String> selector =
        strings(monitor.node().path("spec").path("selector").path("matchLabels"));
    List<String> endpointPorts = new ArrayList<>();
    monitor
        .node()
        .path("spec")
        .path("endpoints")
        .forEach(e -> endpointPorts.add(e.path("port").asText()));
    Set<Role> scraped = new TreeSet<>();
    List<String> wrong = new ArrayList<>();
    for (Doc service : kind("Service")) {
      if (!strings(service.node().path("metadata").path("labels"))
          .entrySet()
          .containsAll(selector.entrySet())) {
        continue;
      }
      Map<String, String> podSelector = strings(service.node().path("spec").path("selector"));
      for (Container c : containers) {
        if (!c.where().startsWith("deploy/k8s")
            || !c.labels().entrySet().containsAll(podSelector.entrySet())) {
          continue;
        }
        int metrics = Integer.parseInt(c.effective(metricsPort(c.role())));
        for (String name : endpointPorts) {
          JsonNode port = portNamed(service.node(), name);
          if (port == null) {
            wrong.add(service.where() + ": no port named " + name + " (" + monitor.where() + ")");
            continue;
          }
          String target = port.path("targetPort").asText(port.path("port").asText());
          int targetPort = c.ports().getOrDefault(target, parseOr(target, -1));
          if (targetPort != metrics) {
            wrong.add(
                service.where()
                    + " port "
                    + name
                    + " leads to "
                    + targetPort
                    + ", but "
                    + c.where()
                    + " serves /metrics on "
                    + metrics);
          } else {
            scraped.add(c.role());
          }
        }
      }
    }
    assertThat(wrong).as("scrapes that miss /metrics").isEmpty();
    assertThat(scraped).as(monitor.where() + " scrapes").containsExactlyInAnyOrder(Role.values());
  }

  @Test
  void composePrometheusScrapesTheMetricsPortOfEveryTxgwService() throws IOException {
    JsonNode config = yaml.readTree(compose.resolve("prometheus.yml").toFile());
    Set<String> targets = new TreeSet<>();
    for (JsonNode job : config.path("scrape_configs")) {
      for (JsonNode s : job.path("static_configs")) {
        s.path("targets").forEach(t -> targets.add(t.asText()));
      }
    }
    Set<String> expected = new TreeSet<>();
    for (Container c : containers) {
      if (c.where().startsWith("deploy/compose")) {
        String service = c.where().substring(c.where().lastIndexOf(' ') + 1);
        expected.add(service + ":" + c.effective(metricsPort(c.role())));
      }
    }
    assertThat(targets)
        .as("deploy/compose/prometheus.yml targets: compose services and their /metrics ports")
        .isEqualTo(expected);
    for (JsonNode rules : config.path("rule_files")) {
      assertThat(composeFile.path("services").path("prometheus").path("volumes").toString())
          .as("deploy/compose/docker-compose.yml mounts the rule file %s", rules.asText())
          .contains("/etc/prometheus/" + rules.asText());
    }
  }

  @Test
  void composeTopicsFitItsOneBroker() {
    for (Container c : containers) {
      if (c.where().startsWith("deploy/compose")) {
        assertThat(c.effective(TopicSettings.REPLICATION)).as(c.where()).isEqualTo("1");
        assertThat(c.effective(TopicSettings.MIN_INSYNC)).as(c.where()).isEqualTo("1");
      }
    }
  }

  @Test
  void theKubernetesProcessesUseTheProductionReplication() {
    for (Container c : containers) {
      if (c.where().startsWith("deploy/k8s")) {
        assertThat(c.effective(TopicSettings.REPLICATION))
            .as(c.where() + " " + TopicSettings.REPLICATION.name())
            .isEqualTo("3")
            .isEqualTo(TopicSettings.REPLICATION.defaultValue());
        assertThat(c.effective(TopicSettings.MIN_INSYNC))
            .as(c.where() + " " + TopicSettings.MIN_INSYNC.name())
            .isEqualTo("2")
            .isEqualTo(TopicSettings.MIN_INSYNC.defaultValue());
      }
    }
  }

  @Test
  void theKafkaClusterKeepsWhatTheTopicsNeed() {
    Doc cluster = only("Kafka");
    JsonNode config = cluster.node().path("spec").path("kafka").path("config");
    assertThat(config.path("default.replication.factor").asText())
        .as(cluster.where() + " default.replication.factor")
        .isEqualTo(TopicSettings.REPLICATION.defaultValue());
    assertThat(config.path("min.insync.replicas").asText())
        .as(cluster.where() + " min.insync.replicas")
        .isEqualTo(TopicSettings.MIN_INSYNC.defaultValue());
    assertThat(config.path("unclean.leader.election.enable").asText())
        .as(cluster.where() + " unclean.leader.election.enable")
        .isEqualTo("false");
    int brokers = 0;
    for (Doc pool : kind("KafkaNodePool")) {
      if (pool.node().path("spec").path("roles").toString().contains("broker")) {
        brokers += pool.node().path("spec").path("replicas").asInt();
      }
    }
    assertThat(brokers)
        .as("brokers of the KafkaNodePools, for %s replicas", TopicSettings.REPLICATION.name())
        .isGreaterThanOrEqualTo(Integer.parseInt(TopicSettings.REPLICATION.defaultValue()));
  }

  @Test
  void theKafkaTopicsAreTheOnesTheCodeCreates() throws Exception {
    Container gateway = k8s(Role.GATEWAY);
    int partitions =
        Integer.parseInt(
            gateway.effective(setting(GatewayConfig.SETTINGS, "TXGW_TOPIC_PARTITIONS")));
    TopicSettings settings =
        new TopicSettings(
            Integer.parseInt(gateway.effective(TopicSettings.REPLICATION)),
            Integer.parseInt(gateway.effective(TopicSettings.MIN_INSYNC)));
    Map<String, NewTopic> wanted = new TreeMap<>();
    for (NewTopic t : whatEnsureCreates(partitions, settings)) {
      wanted.put(t.name(), t);
    }
    assertThat(wanted.keySet()).isEqualTo(new TreeSet<>(Topics.ALL));

    Map<String, Doc> declared = new TreeMap<>();
    for (Doc doc : kind("KafkaTopic")) {
      String name = doc.node().path("spec").path("topicName").asText(doc.name());
      assertThat(declared.put(name, doc)).as(doc.where() + ": topic " + name + " twice").isNull();
    }
    assertThat(declared.keySet())
        .as("the KafkaTopics, against Topics.ALL")
        .isEqualTo(wanted.keySet());

    List<String> wrong = new ArrayList<>();
    for (NewTopic t : wanted.values()) {
      Doc doc = declared.get(t.name());
      JsonNode spec = doc.node().path("spec");
      if (spec.path("partitions").asInt() != t.numPartitions()) {
        wrong.add(
            doc.where()
                + ": partitions "
                + spec.path("partitions")
                + ", the code "
                + t.numPartitions());
      }
      if (spec.path("replicas").asInt() != t.replicationFactor()) {
        wrong.add(
            doc.where()
                + ": replicas "
                + spec.path("replicas")
                + ", the code "
                + t.replicationFactor());
      }
      Map<String, String> config = strings(spec.path("config"));
      if (!config.equals(new TreeMap<>(t.configs()))) {
        wrong.add(doc.where() + ": config " + config + ", the code " + new TreeMap<>(t.configs()));
      }
    }
    assertThat(wrong).as("KafkaTopics that differ from what Topics.ensure creates").isEmpty();

    // Said again on their own, as the start-up check and the layout check refuse them.
    int sendto = declared.get(Topics.SENDTO).node().path("spec").path("partitions").asInt();
    int journal = declared.get(Topics.JOURNAL).node().path("spec").path("partitions").asInt();
    assertThat(sendto).as("partitions of sendto and journal").isEqualTo(journal);
    for (Doc doc : declared.values()) {
      String policy =
          doc.node().path("spec").path("config").path("cleanup.policy").asText("delete");
      String topic = doc.node().path("spec").path("topicName").asText();
      if (compacted().contains(topic)) {
        assertThat(policy).as(doc.where() + " cleanup.policy").isEqualTo("compact");
      } else if (topic.equals(Topics.SENDTO) || topic.equals(Topics.RESULTS)) {
        assertThat(policy).as(doc.where() + " cleanup.policy").doesNotContain("compact");
      }
      assertThat(doc.node().path("spec").path("replicas").asInt())
          .as(doc.where() + " replicas")
          .isEqualTo(3);
      assertThat(doc.node().path("spec").path("config").path("min.insync.replicas").asInt())
          .as(doc.where() + " min.insync.replicas")
          .isEqualTo(2);
    }
  }

  @Test
  void theKafkaUsersHoldExactlyTheAclsTheCodeGrants() {
    KafkaAcls.Principals principals = KafkaAcls.Principals.defaults();
    Map<String, Set<String>> code = new TreeMap<>();
    for (AclBinding b : KafkaAcls.bindings(principals)) {
      code.computeIfAbsent(b.entry().principal(), p -> new TreeSet<>())
          .add(
              acl(
                  b.pattern().resourceType(),
                  b.pattern().name(),
                  b.pattern().patternType(),
                  b.entry().operation()));
    }
    List<Doc> users = kind("KafkaUser");
    assertThat(users.stream().map(u -> "User:" + u.name()))
        .as("KafkaUsers for the gateway and the consumer")
        .contains(principals.gateway(), principals.consumer());
    for (Doc user : users) {
      Set<String> declared = new TreeSet<>();
      for (JsonNode a : user.node().path("spec").path("authorization").path("acls")) {
        JsonNode r = a.path("resource");
        for (JsonNode op : a.path("operations")) {
          declared.add(
              acl(
                  strimziResource(r.path("type").asText()),
                  r.path("name").asText(),
                  "prefix".equals(r.path("patternType").asText())
                      ? PatternType.PREFIXED
                      : PatternType.LITERAL,
                  strimziOperation(op.asText())));
        }
      }
      Set<String> granted = code.getOrDefault("User:" + user.name(), Set.of());
      Set<String> missing = new TreeSet<>(granted);
      missing.removeAll(declared);
      Set<String> extra = new TreeSet<>(declared);
      extra.removeAll(granted);
      assertThat(missing)
          .as(user.where() + ": ACLs KafkaAcls grants (txgw kafka-acls) that it lacks")
          .isEmpty();
      assertThat(extra)
          .as(user.where() + ": ACLs that KafkaAcls does not grant (txgw kafka-acls)")
          .isEmpty();
    }
    // The ids the pods take must fall under the transactional ids granted, and each process must
    // log in as its own user.
    for (Role role : Role.values()) {
      Container c = k8s(role);
      Doc workload = workload(role);
      String prefix =
          role == Role.GATEWAY ? principals.gatewayIdPrefix() : principals.consumerIdPrefix();
      assertThat(workload.name() + "-0")
          .as(workload.where() + ": its pods' ids")
          .startsWith(prefix);
      String user =
          (role == Role.GATEWAY ? principals.gateway() : principals.consumer()).substring(5);
      assertThat(c.env().get(KafkaSecurity.USERNAME.name())).as(c.where()).isEqualTo(user);
    }
  }

  @Test
  void secretsAreReferencedAndNeverCommitted() throws IOException {
    assertThat(kind("Secret")).as("Secrets in deploy/k8s (made by the operator instead)").isEmpty();
    String docs = Files.readString(root.resolve("docs/containers.md"));
    Set<String> strimziMade = new TreeSet<>();
    kind("KafkaUser").forEach(u -> strimziMade.add(u.name()));
    strimziMade.add(only("Kafka").name() + "-cluster-ca-cert");
    List<String> undocumented = new ArrayList<>();
    for (Doc doc : manifests) {
      doc.node().findValues("secretName").stream()
          .map(JsonNode::asText)
          .filter(name -> !strimziMade.contains(name) && !docs.contains(name))
          .forEach(name -> undocumented.add(doc.where() + ": " + name));
    }
    assertThat(undocumented)
        .as("Secrets referenced that docs/containers.md does not say how to make")
        .isEmpty();

    List<String> outside = new ArrayList<>();
    composeFile
        .path("secrets")
        .properties()
        .forEach(
            s -> {
              if (!s.getValue().path("file").asText().startsWith("./secrets/")) {
                outside.add(s.getKey() + ": " + s.getValue().path("file").asText());
              }
            });
    assertThat(outside).as("deploy/compose/docker-compose.yml secrets outside secrets/").isEmpty();
    assertThat(Files.readAllLines(compose.resolve("secrets/.gitignore")))
        .as("deploy/compose/secrets/.gitignore keeps every secret out of git")
        .contains("*");
    for (Container c : containers) {
      for (Map.Entry<String, String> e : c.env().entrySet()) {
        Setting<?> s = setting(settings(c.role()), e.getKey());
        if (s != null && s.secret() && e.getValue() != null) {
          throw new AssertionError(
              c.where()
                  + ": secret "
                  + e.getKey()
                  + " given as a value; use "
                  + e.getKey()
                  + "_FILE");
        }
      }
    }
  }

  @Test
  void eachProcessIsGivenExactlyTheSecretsItsVariablesRead() {
    // A secret mounted on a process that reads no variable naming it is one more place it leaks
    // from (the gateway faces the internet; node passwords and keystores are the consumers' alone).
    Map<String, Container> byWhere = new LinkedHashMap<>();
    containers.forEach(c -> byWhere.put(c.where(), c));
    List<String> wrong = new ArrayList<>();
    composeFile
        .path("services")
        .properties()
        .forEach(
            s -> {
              Container c = byWhere.get("deploy/compose/docker-compose.yml service " + s.getKey());
              if (c == null) {
                return;
              }
              Set<String> mounted = new TreeSet<>();
              for (JsonNode secret : s.getValue().path("secrets")) {
                mounted.add(secret.isTextual() ? secret.asText() : secret.path("source").asText());
              }
              Set<String> read = new TreeSet<>();
              c.env().values().stream()
                  .filter(v -> v != null && v.startsWith("/run/secrets/"))
                  .forEach(v -> read.add(v.substring("/run/secrets/".length())));
              if (!mounted.equals(read)) {
                wrong.add(c.where() + ": mounts " + mounted + ", its variables read " + read);
              }
            });
    for (Doc doc : manifests) {
      Map<String, String> secretVolumes = new TreeMap<>();
      for (JsonNode v : doc.node().path("spec").path("template").path("spec").path("volumes")) {
        if (v.has("secret")) {
          secretVolumes.put(v.path("name").asText(), v.path("secret").path("secretName").asText());
        }
      }
      for (JsonNode node : podContainers(doc)) {
        Container c = byWhere.get(doc.where() + " container " + node.path("name").asText());
        if (c == null) {
          continue;
        }
        for (JsonNode mount : node.path("volumeMounts")) {
          String volume = mount.path("name").asText();
          String path = mount.path("mountPath").asText();
          // The mount is the file's directory (or the directory a variable names): one mounted
          // higher up would bring whatever else that Secret holds.
          if (secretVolumes.containsKey(volume)
              && c.env().values().stream()
                  .noneMatch(
                      v ->
                          v != null
                              && (v.equals(path)
                                  || (v.startsWith("/")
                                      && path.equals(String.valueOf(Path.of(v).getParent())))))) {
            wrong.add(
                c.where() + ": mounts Secret " + secretVolumes.get(volume) + " no variable reads");
          }
        }
      }
    }
    assertThat(wrong)
        .as("secrets mounted where no variable reads them (and in compose, read but not mounted)")
        .isEmpty();
  }

  // ---- what the code reads ----

  /**
   * What each process reads: its configuration's list, and Kafka's security settings, which both
   * read through KafkaSecurity.read and their lists leave out.
   */
  private static List<Setting<?>> settings(Role role) {
    List<Setting<?>> all =
        new ArrayList<>(role == Role.GATEWAY ? GatewayConfig.SETTINGS : TxConsumerConfig.SETTINGS);
    all.addAll(KafkaSecurity.SETTINGS);
    return all;
  }

  /** NAME, or NAME_FILE for a secret setting (ConfigReader reads the file). */
  private static boolean reads(Role role, String name) {
    for (Setting<?> s : settings(role)) {
      if (s.name().equals(name) || (s.secret() && name.equals(s.name() + "_FILE"))) {
        return true;
      }
    }
    return false;
  }

  private static Setting<?> setting(List<Setting<?>> settings, String name) {
    return settings.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
  }

  private static List<Setting<?>> hosts(Role role) {
    return role == Role.GATEWAY
        ? List.of(
            setting(GatewayConfig.SETTINGS, "TXGW_HTTP_HOST"),
            setting(GatewayConfig.SETTINGS, "TXGW_ADMIN_HOST"))
        : List.of(setting(TxConsumerConfig.SETTINGS, "TXGW_METRICS_HOST"));
  }

  private static List<Setting<?>> ports(Role role) {
    return role == Role.GATEWAY
        ? List.of(
            setting(GatewayConfig.SETTINGS, "TXGW_HTTP_PORT"),
            setting(GatewayConfig.SETTINGS, "TXGW_ADMIN_PORT"))
        : List.of(setting(TxConsumerConfig.SETTINGS, "TXGW_METRICS_PORT"));
  }

  /** Where /metrics is: the gateway's admin port, the consumer's metrics port. */
  private static Setting<?> metricsPort(Role role) {
    return role == Role.GATEWAY
        ? setting(GatewayConfig.SETTINGS, "TXGW_ADMIN_PORT")
        : setting(TxConsumerConfig.SETTINGS, "TXGW_METRICS_PORT");
  }

  private static Set<Integer> listening(Container c) {
    Set<Integer> out = new TreeSet<>();
    for (Setting<?> port : ports(c.role())) {
      out.add(Integer.parseInt(c.effective(port)));
    }
    return out;
  }

  /** The topics Topics.ensure creates on an empty cluster, caught at its createTopics call. */
  private static List<NewTopic> whatEnsureCreates(int partitions, TopicSettings settings)
      throws Exception {
    Constructor<ListTopicsResult> listing =
        ListTopicsResult.class.getDeclaredConstructor(KafkaFuture.class);
    listing.setAccessible(true);
    ListTopicsResult none = listing.newInstance(KafkaFuture.completedFuture(Map.of()));
    List<NewTopic> created = new ArrayList<>();
    class Caught extends RuntimeException {
      Caught() {
        super(null, null, false, false);
      }
    }
    Admin admin =
        (Admin)
            Proxy.newProxyInstance(
                Admin.class.getClassLoader(),
                new Class<?>[] {Admin.class},
                (proxy, method, args) -> {
                  switch (method.getName()) {
                    case "listTopics":
                      return none;
                    case "createTopics":
                      for (Object t : (Collection<?>) args[0]) {
                        created.add((NewTopic) t);
                      }
                      throw new Caught();
                    default:
                      throw new UnsupportedOperationException(method.getName());
                  }
                });
    try {
      Topics.ensure(admin, partitions, settings);
    } catch (Caught expected) {
      // What it asked for is all this needs.
    }
    assertThat(created).as("topics Topics.ensure creates").isNotEmpty();
    return created;
  }

  /** Topics.COMPACTED: package-private in common, read here so that the test follows it. */
  @SuppressWarnings("unchecked")
  private static List<String> compacted() throws Exception {
    var field = Topics.class.getDeclaredField("COMPACTED");
    field.setAccessible(true);
    return (List<String>) field.get(null);
  }

  private static String acl(ResourceType type, String name, PatternType pattern, AclOperation op) {
    return type + " " + name + (pattern == PatternType.PREFIXED ? "*" : "") + " " + op;
  }

  private static ResourceType strimziResource(String type) {
    return switch (type) {
      case "topic" -> ResourceType.TOPIC;
      case "group" -> ResourceType.GROUP;
      case "transactionalId" -> ResourceType.TRANSACTIONAL_ID;
      case "cluster" -> ResourceType.CLUSTER;
      default -> throw new AssertionError("KafkaUser resource type " + type);
    };
  }

  private static AclOperation strimziOperation(String op) {
    // Strimzi writes DescribeConfigs, Kafka DESCRIBE_CONFIGS.
    return AclOperation.valueOf(op.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT));
  }

  // ---- reading the manifests ----

  private static List<String> kustomizeResources() throws IOException {
    JsonNode k = yaml.readTree(k8s.resolve("kustomization.yaml").toFile());
    List<String> listed = new ArrayList<>();
    k.path("resources").forEach(r -> listed.add(r.asText()));
    try (Stream<Path> files = Files.list(k8s)) {
      Set<String> present =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
              .collect(Collectors.toCollection(TreeSet::new));
      assertThat(new TreeSet<>(listed))
          .as("deploy/k8s/kustomization.yaml resources, against the files in deploy/k8s")
          .isEqualTo(present);
    }
    return listed;
  }

  private static List<Doc> docs(Path file) throws IOException {
    List<Doc> out = new ArrayList<>();
    try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(file.toFile())) {
      while (it.hasNext()) {
        JsonNode node = it.next();
        if (node != null && node.isObject() && !node.isEmpty()) {
          out.add(new Doc(file, node));
        }
      }
    }
    return out;
  }

  private static List<Doc> kind(String kind) {
    return manifests.stream().filter(d -> d.kind().equals(kind)).toList();
  }

  private static Doc only(String kind) {
    List<Doc> all = kind(kind);
    assertThat(all).as("%s resources in deploy/k8s", kind).hasSize(1);
    return all.get(0);
  }

  private static Doc only(String kind, String name) {
    return kind(kind).stream()
        .filter(d -> d.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in deploy/k8s"));
  }

  private static List<JsonNode> podContainers(Doc doc) {
    List<JsonNode> out = new ArrayList<>();
    if (Set.of("Deployment", "StatefulSet", "DaemonSet", "Job").contains(doc.kind())) {
      doc.node().path("spec").path("template").path("spec").path("containers").forEach(out::add);
    }
    return out;
  }

  private static Doc workload(Role role) {
    return manifests.stream()
        .filter(
            d -> podContainers(d).stream().anyMatch(c -> role(c.path("image").asText()) == role))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no workload in deploy/k8s runs the " + role));
  }

  private static Container k8s(Role role) {
    return containers.stream()
        .filter(c -> c.where().startsWith("deploy/k8s") && c.role() == role)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no container in deploy/k8s runs the " + role));
  }

  private static Role role(String image) {
    for (Role role : Role.values()) {
      String repository = jib.get(role).image().replaceAll(":[^:/]*$", "");
      if (image.equals(repository) || image.startsWith(repository + ":")) {
        return role;
      }
    }
    return null;
  }

  private static List<Container> k8sContainers() {
    Map<String, Map<String, String>> configMaps = new LinkedHashMap<>();
    for (Doc doc : kind("ConfigMap")) {
      configMaps.put(doc.name(), strings(doc.node().path("data")));
    }
    List<Container> out = new ArrayList<>();
    for (Doc doc : manifests) {
      Map<String, String> labels =
          strings(doc.node().path("spec").path("template").path("metadata").path("labels"));
      for (JsonNode c : podContainers(doc)) {
        Role role = role(c.path("image").asText());
        if (role == null) {
          continue;
        }
        String where = doc.where() + " container " + c.path("name").asText();
        Map<String, String> env = new TreeMap<>();
        for (JsonNode from : c.path("envFrom")) {
          String map = from.path("configMapRef").path("name").asText();
          assertThat(configMaps).as(where + ": ConfigMap " + map).containsKey(map);
          env.putAll(configMaps.get(map));
        }
        for (JsonNode e : c.path("env")) {
          env.put(e.path("name").asText(), e.has("value") ? e.path("value").asText() : null);
        }
        Map<String, Integer> ports = new TreeMap<>();
        for (JsonNode p : c.path("ports")) {
          ports.put(p.path("name").asText(), p.path("containerPort").asInt());
        }
        out.add(new Container(where, role, c.path("image").asText(), env, ports, labels));
      }
    }
    return out;
  }

  private static List<Container> composeContainers() {
    List<Container> out = new ArrayList<>();
    composeFile
        .path("services")
        .properties()
        .forEach(
            s -> {
              JsonNode service = s.getValue();
              Role role = role(service.path("image").asText());
              if (role == null) {
                return;
              }
              String where = "deploy/compose/docker-compose.yml service " + s.getKey();
              Map<String, Integer> ports = new TreeMap<>();
              for (JsonNode p : service.path("ports")) {
                String[] parts = p.asText().split(":");
                ports.put(p.asText(), Integer.parseInt(parts[parts.length - 1]));
              }
              // A consumer publishes nothing: Prometheus reaches it on the stack's network.
              if (ports.isEmpty()) {
                Set<Integer> listening = new TreeSet<>();
                Container bare =
                    new Container(
                        where,
                        role,
                        service.path("image").asText(),
                        composeEnv(service),
                        Map.of(),
                        Map.of());
                listening.addAll(listening(bare));
                listening.forEach(port -> ports.put("unpublished " + port, port));
              }
              out.add(
                  new Container(
                      where,
                      role,
                      service.path("image").asText(),
                      composeEnv(service),
                      ports,
                      Map.of()));
            });
    return out;
  }

  private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{[A-Z0-9_]+(?::?-([^}]*))?}");

  /** A service's environment, each ${NAME:-default} taken as its default. */
  private static Map<String, String> composeEnv(JsonNode service) {
    Map<String, String> env = new TreeMap<>();
    JsonNode environment = service.path("environment");
    if (environment.isArray()) {
      for (JsonNode e : environment) {
        String[] kv = e.asText().split("=", 2);
        env.put(kv[0], kv.length > 1 ? interpolated(kv[1]) : null);
      }
    } else {
      environment
          .properties()
          .forEach(e -> env.put(e.getKey(), interpolated(e.getValue().asText())));
    }
    return env;
  }

  private static String interpolated(String value) {
    Matcher m = INTERPOLATION.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) == null ? "" : m.group(1)));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static List<Map<String, Integer>> selectedPorts(Map<String, String> selector) {
    List<Map<String, Integer>> out = new ArrayList<>();
    if (selector.isEmpty()) {
      return out;
    }
    for (Doc doc : manifests) {
      Map<String, String> labels =
          strings(doc.node().path("spec").path("template").path("metadata").path("labels"));
      if (!podContainers(doc).isEmpty() && labels.entrySet().containsAll(selector.entrySet())) {
        Map<String, Integer> ports = new TreeMap<>();
        for (JsonNode c : podContainers(doc)) {
          c.path("ports")
              .forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
        }
        out.add(ports);
      }
    }
    return out;
  }

  private static JsonNode portNamed(JsonNode service, String name) {
    for (JsonNode p : service.path("spec").path("ports")) {
      if (p.path("name").asText().equals(name)) {
        return p;
      }
    }
    return null;
  }

  private static Map<String, String> strings(JsonNode map) {
    Map<String, String> out = new TreeMap<>();
    map.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }

  private static int parseOr(String text, int otherwise) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }

  // ---- the poms ----

  private static JibImage jibImage(Path pom) throws Exception {
    Element project = xml(pom);
    String where = root.relativize(pom).toString();
    for (Element profile : children(child(project, "profiles"), "profile")) {
      if (!"images".equals(text(child(profile, "id")))) {
        continue;
      }
      for (Element plugin : children(child(child(profile, "build"), "plugins"), "plugin")) {
        if (!"jib-maven-plugin".equals(text(child(plugin, "artifactId")))) {
          continue;
        }
        Element config = child(plugin, "configuration");
        Element container = child(config, "container");
        String image =
            text(child(child(config, "to"), "image")).replace("${project.version}", version);
        Set<Integer> ports = new TreeSet<>();
        for (Element p : children(child(container, "ports"), "port")) {
          ports.add(Integer.parseInt(text(p)));
        }
        Map<String, String> env = new TreeMap<>();
        for (Element e : children(child(container, "environment"), null)) {
          env.put(e.getTagName(), text(e));
        }
        return new JibImage(where, image, ports, env);
      }
    }
    throw new AssertionError(where + ": no jib-maven-plugin in its profile images");
  }

  private static String pomText(Path pom, String path) throws Exception {
    Element at = xml(pom);
    for (String step : path.split("/")) {
      at = child(at, step);
    }
    return text(at);
  }

  private static Element xml(Path file) throws Exception {
    return DocumentBuilderFactory.newInstance()
        .newDocumentBuilder()
        .parse(file.toFile())
        .getDocumentElement();
  }

  private static Element child(Element parent, String name) {
    List<Element> found = children(parent, name);
    if (found.isEmpty()) {
      throw new AssertionError(
          "no <" + name + "> in <" + (parent == null ? "?" : parent.getTagName()) + ">");
    }
    return found.get(0);
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> out = new ArrayList<>();
    if (parent == null) {
      return out;
    }
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && (name == null || e.getTagName().equals(name))) {
        out.add(e);
      }
    }
    return out;
  }

  private static String text(Element e) {
    return e.getTextContent().strip();
  }
}
