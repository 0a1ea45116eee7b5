package io.txgw.consumer.signing;

import io.txgw.common.config.ConfigReader;
import io.txgw.common.config.Secret;
import io.txgw.common.config.Setting;
import io.txgw.consumer.rpc.JsonRpcClient;
import io.txgw.consumer.rpc.RetryPolicy;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcEndpoint;
import io.txgw.consumer.rpc.RpcException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * How a consumer signs Ethereum transactions: which chain, and which signers it has, tried per
 * account in this order: the keystore, the remote signer, the node.
 *
 * @param chainId 0 takes the node's (node signing only); checked against the node at start
 * @param keystoreDir a folder of V3 JSON key files, empty for none
 * @param signerUrl a remote signer's JSON-RPC URL, empty for none
 * @param signerAccounts the accounts the remote signer signs for; empty asks it
 * @param signerCaFile a PEM file of the certificates the remote signer's TLS certificate may chain
 *     to, besides the system's; empty for the system's alone
 * @param nodeSigns whether the node signs for accounts neither holds
 */
public record SignerSettings(
    long chainId,
    String keystoreDir,
    Secret keystorePassword,
    String signerUrl,
    String signerUser,
    Secret signerPassword,
    String signerCaFile,
    Set<String> signerAccounts,
    boolean nodeSigns) {

  static final Setting<Long> CHAIN_ID =
      new Setting<>(
          "TXGW_ETH_CHAIN_ID",
          "the chain id every Ethereum transaction is signed for (1 mainnet); the node must serve"
              + " it or the consumer refuses to start. 0 takes the node's, allowed only when the"
              + " node signs",
          "0",
          v -> {
            long id = Long.parseLong(v.trim());
            if (id < 0) {
              throw new IllegalArgumentException("must be a chain id, 0 or more");
            }
            return id;
          },
          false);
  static final Setting<String> KEYSTORE_DIR =
      Setting.string(
          "TXGW_ETH_KEYSTORE_DIR",
          "",
          "a folder of Web3 Secret Storage (V3 JSON) key files this consumer signs with");
  public static final Setting<Secret> KEYSTORE_PASSWORD =
      Setting.secret("TXGW_ETH_KEYSTORE_PASSWORD", "", "the keystore files' password (or _FILE)");
  static final Setting<String> SIGNER_URL =
      Setting.string(
          "TXGW_ETH_SIGNER_URL",
          "",
          "a remote signer's JSON-RPC URL (eth_signTransaction: Web3Signer, EthSigner)");
  static final Setting<String> SIGNER_USER =
      Setting.string("TXGW_ETH_SIGNER_USER", "", "the remote signer's Basic-auth user, if any");
  public static final Setting<Secret> SIGNER_PASSWORD =
      Setting.secret(
          "TXGW_ETH_SIGNER_PASSWORD", "", "the remote signer's Basic-auth password (or _FILE)");
  static final Setting<String> SIGNER_CA =
      Setting.string(
          "TXGW_ETH_SIGNER_CA_FILE",
          "",
          "PEM certificates the remote signer's TLS certificate may chain to, besides the system's");
  static final Setting<String> SIGNER_ACCOUNTS =
      Setting.string(
          "TXGW_ETH_SIGNER_ACCOUNTS",
          "",
          "comma-separated accounts the remote signer signs for; empty asks it (eth_accounts)");
  static final Setting<Boolean> NODE_SIGNS =
      Setting.bool(
          "TXGW_ETH_NODE_SIGNS",
          true,
          "whether the node signs (eth_signTransaction) for accounts neither the keystore nor the"
              + " remote signer holds");

  public static List<Setting<?>> settings() {
    return List.of(
        CHAIN_ID,
        KEYSTORE_DIR,
        KEYSTORE_PASSWORD,
        SIGNER_URL,
        SIGNER_USER,
        SIGNER_PASSWORD,
        SIGNER_CA,
        SIGNER_ACCOUNTS,
        NODE_SIGNS);
  }

  /** Reads them, reporting what does not fit together with the reader's other problems. */
  public static SignerSettings read(ConfigReader r) {
    Set<String> accounts = new LinkedHashSet<>();
    String listed = r.get(SIGNER_ACCOUNTS);
    if (listed != null) {
      Arrays.stream(listed.split(","))
          .map(String::trim)
          .filter(a -> !a.isEmpty())
          .forEach(
              a -> {
                if (!a.matches("0x[0-9a-fA-F]{40}")) {
                  r.problem("TXGW_ETH_SIGNER_ACCOUNTS: " + a + " is not an Ethereum address");
                }
                accounts.add(a);
              });
    }
    Long chainId = r.get(CHAIN_ID);
    SignerSettings s =
        new SignerSettings(
            chainId == null ? 0 : chainId,
            orEmpty(r.get(KEYSTORE_DIR)),
            r.get(KEYSTORE_PASSWORD),
            orEmpty(r.get(SIGNER_URL)),
            orEmpty(r.get(SIGNER_USER)),
            r.get(SIGNER_PASSWORD),
            orEmpty(r.get(SIGNER_CA)),
            Set.copyOf(accounts),
            !Boolean.FALSE.equals(r.get(NODE_SIGNS)));
    if (s.chainId() == 0 && (!s.keystoreDir().isEmpty() || !s.signerUrl().isEmpty())) {
      // Signed locally, a payout's chain is whatever the configuration says: never inferred from
      // the node that happens to answer.
      r.problem("TXGW_ETH_CHAIN_ID must be set when txgw signs (a keystore or a remote signer)");
    }
    if (!s.keystoreDir().isEmpty()
        && (s.keystorePassword() == null || s.keystorePassword().reveal().isEmpty())) {
      r.problem("TXGW_ETH_KEYSTORE_DIR needs TXGW_ETH_KEYSTORE_PASSWORD (or _FILE)");
    }
    if (s.keystoreDir().isEmpty() && s.signerUrl().isEmpty() && !s.nodeSigns()) {
      r.problem("TXGW_ETH_NODE_SIGNS=false needs a keystore or a remote signer");
    }
    if (!s.signerUrl().isEmpty()) {
      String problem = signerUrlProblem(s.signerUrl());
      if (problem != null) {
        r.problem("TXGW_ETH_SIGNER_URL " + problem);
      }
    }
    return s;
  }

  /**
   * Why a remote signer URL is refused; null when it is not. Plain http only to this machine:
   * credentials and what is signed would otherwise cross the network in the clear.
   */
  static String signerUrlProblem(String url) {
    java.net.URI uri;
    try {
      uri = new java.net.URI(url);
    } catch (java.net.URISyntaxException e) {
      return "is not a URL";
    }
    if (uri.getRawUserInfo() != null) {
      return "must not carry credentials (use TXGW_ETH_SIGNER_USER and _PASSWORD)";
    }
    String host = uri.getHost();
    if (host == null) {
      return "names no host";
    }
    if ("https".equals(uri.getScheme())) {
      return null;
    }
    boolean loopback = host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]");
    return "http".equals(uri.getScheme()) && loopback
        ? null
        : "must be https:// unless it is on this machine (localhost, 127.0.0.1, [::1])";
  }

  private static String orEmpty(String value) {
    return value == null ? "" : value;
  }

  /**
   * Opens the keystore and reaches the remote signer; {@code node} signs what neither holds where
   * allowed.
   */
  public AccountSigners build(Rpc node, OkHttpClient http, Duration timeout)
      throws RpcException, InterruptedException {
    List<EthSigner> signers = new ArrayList<>();
    if (!keystoreDir.isEmpty()) {
      signers.add(KeystoreSigner.open(Path.of(keystoreDir), keystorePassword));
    }
    if (!signerUrl.isEmpty()) {
      OkHttpClient client = signerCaFile.isEmpty() ? http : trusting(http, Path.of(signerCaFile));
      JsonRpcClient signer =
          new JsonRpcClient(
              new RpcEndpoint(
                  "signer",
                  signerUrl,
                  signerUser.isEmpty() ? null : signerUser,
                  signerPassword == null || signerPassword.reveal().isEmpty()
                      ? null
                      : signerPassword,
                  true,
                  timeout),
              RetryPolicy.NONE,
              client);
      signers.add(RpcSigner.remote(signer, signerAccounts));
    }
    if (nodeSigns) {
      signers.add(RpcSigner.node(node));
    }
    return new AccountSigners(signers);
  }

  /** {@code base} trusting the certificates in {@code pem} as well as the system's. */
  static OkHttpClient trusting(OkHttpClient base, Path pem) {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      TrustManagerFactory system =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      system.init((KeyStore) null);
      for (var manager : system.getTrustManagers()) {
        if (manager instanceof X509TrustManager x509) {
          for (var ca : x509.getAcceptedIssuers()) {
            store.setCertificateEntry("system-" + store.size(), ca);
          }
        }
      }
      try (InputStream in = Files.newInputStream(pem)) {
        for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          store.setCertificateEntry("signer-ca-" + store.size(), cert);
        }
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      X509TrustManager trust = (X509TrustManager) factory.getTrustManagers()[0];
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(null, new javax.net.ssl.TrustManager[] {trust}, null);
      return base.newBuilder().sslSocketFactory(tls.getSocketFactory(), trust).build();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot read TXGW_ETH_SIGNER_CA_FILE " + pem + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    // The records' passwords print as ****; the rest is no secret.
    return "SignerSettings[chainId="
        + chainId
        + ", keystore="
        + keystoreDir
        + ", signer="
        + (signerUrl.isEmpty() ? "none" : io.txgw.coordinator.nodes.NodeUrls.shown(signerUrl))
        + ", nodeSigns="
        + nodeSigns
        + "]";
  }
}
