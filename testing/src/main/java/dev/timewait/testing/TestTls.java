package dev.timewait.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made once per JVM with the JDK's own
 * {@code keytool}, and the TLS contexts that use it. Test scope only: the client trusts exactly
 * this certificate, with hostname verification left on.
 *
 * <p>Thread-safe: made once, under a lock; its key store is only read after that.
 */
public final class TestTls {
  /** The password of the key store. */
  public static final String PASSWORD = "timewait";

  /** The longest keytool may take to make the certificate: 60 s. */
  private static final long KEYTOOL_BOUND_SECONDS = 60;
  private static TestTls instance;

  private final Path keyStorePath;
  private final KeyStore keyStore;

  private TestTls(Path keyStorePath, KeyStore keyStore) {
    this.keyStorePath = keyStorePath;
    this.keyStore = keyStore;
  }

  /**
   * The one certificate of this JVM, made on first use.
   *
   * @return the test certificate and keys
   */
  public static synchronized TestTls get() {
    if (instance == null) {
      instance = create();
    }
    return instance;
  }

  private static TestTls create() {
    try {
      Path dir = Files.createTempDirectory("timewait-tls");
      Path p12 = dir.resolve("server.p12");
      String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
      BoundedProcess.Result keytoolRun = BoundedProcess.run(List.of(
          keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
          "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
          "-validity", "2", "-storetype", "PKCS12", "-keystore", p12.toString(),
          "-storepass", PASSWORD, "-keypass", PASSWORD), KEYTOOL_BOUND_SECONDS);
      if (keytoolRun == null || keytoolRun.exitValue() != 0) {
        throw new IllegalStateException("keytool failed or outlived " + KEYTOOL_BOUND_SECONDS + " s: "
            + (keytoolRun == null ? "no output" : keytoolRun.output()));
      }
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(p12)) {
        ks.load(in, PASSWORD.toCharArray());
      }
      // The JVM deletes these at exit in the reverse order of registration: the directory first
      // would fail while the key store is still in it, and leave one directory per test JVM.
      dir.toFile().deleteOnExit();
      p12.toFile().deleteOnExit();
      return new TestTls(p12, ks);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the caller's interrupt stays visible to it
      throw new IllegalStateException("interrupted while making the test certificate", e);
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot make the test certificate", e);
    }
  }

  /**
   * The PKCS12 key store with the server's key and certificate; password {@link #PASSWORD}.
   *
   * @return the key store's path
   */
  public Path keyStorePath() {
    return keyStorePath;
  }

  /**
   * The server's TLS context.
   *
   * @return the server's context
   */
  public SSLContext serverContext() {
    try {
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keyStore, PASSWORD.toCharArray());
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), null, null);
      return context;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A trust manager that trusts exactly the test certificate.
   *
   * @return the trust manager
   */
  public X509TrustManager trustManager() {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(keyStore);
      return (X509TrustManager) tmf.getTrustManagers()[0];
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The client's TLS context, trusting the test certificate.
   *
   * @return the client's context
   */
  public SSLContext clientContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new javax.net.ssl.TrustManager[] {trustManager()}, null);
      return context;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
