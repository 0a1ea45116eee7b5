package io.txgw.deploy.security;

import io.txgw.deploy.infra.Pem;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for 127.0.0.1 made with the JDK's keytool, written as the PEM files the
 * gateway takes, and an SSL context that trusts exactly it.
 */
final class SelfSignedTls {
  final Path certPem;
  final Path keyPem;
  final SSLContext clientContext;

  private SelfSignedTls(Path certPem, Path keyPem, SSLContext clientContext) {
    this.certPem = certPem;
    this.keyPem = keyPem;
    this.clientContext = clientContext;
  }

  static SelfSignedTls create(Path dir) throws Exception {
    Files.createDirectories(dir);
    Path store = dir.resolve("gateway.p12");
    char[] pass = "changeit".toCharArray();
    Process keytool =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                    "-genkeypair",
                    "-alias",
                    "gateway",
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-dname",
                    "CN=127.0.0.1",
                    "-ext",
                    "SAN=ip:127.0.0.1,dns:localhost",
                    "-validity",
                    "2",
                    "-keystore",
                    store.toString(),
                    "-storetype",
                    "PKCS12",
                    "-storepass",
                    "changeit",
                    "-keypass",
                    "changeit"))
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + output);
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, pass);
    }
    Certificate cert = ks.getCertificate("gateway");
    byte[] key = ks.getKey("gateway", pass).getEncoded(); // PKCS#8
    Path certPem = dir.resolve("cert.pem");
    Path keyPem = dir.resolve("key.pem");
    Files.writeString(certPem, Pem.of("CERTIFICATE", cert.getEncoded()));
    Files.writeString(keyPem, Pem.of("PRIVATE KEY", key));
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("gateway", cert);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return new SelfSignedTls(certPem, keyPem, context);
  }
}
