package consumer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every timewait jar a consumer's build resolved carries the licence and the notice
 * (META-INF/LICENSE, META-INF/NOTICE), as Apache-2.0 asks of a redistribution: a consumer that
 * shades timewait into its own jar passes them on from there. The jars are found by their
 * manifests (every jar has one), whatever form the class path takes.
 */
class LicenceInEveryJarTest {
  private static final Pattern TIMEWAIT_JAR = Pattern.compile("^jar:(.*/timewait-[^/]*\\.jar)!/");

  @Test
  void everyTimewaitJarCarriesTheLicenceAndTheNotice() throws IOException {
    ClassLoader loader = LicenceInEveryJarTest.class.getClassLoader();
    List<String> jars = new ArrayList<>();
    for (URL manifest : Collections.list(loader.getResources("META-INF/MANIFEST.MF"))) {
      Matcher m = TIMEWAIT_JAR.matcher(manifest.toString());
      if (m.find()) {
        jars.add(m.group(1));
      }
    }
    assertFalse(jars.isEmpty(), "no timewait jar found on the class path");
    List<String> licences = urls(loader, "META-INF/LICENSE");
    List<String> notices = urls(loader, "META-INF/NOTICE");
    for (String jar : jars) {
      assertTrue(licences.contains("jar:" + jar + "!/META-INF/LICENSE"), jar + " has no META-INF/LICENSE");
      assertTrue(notices.contains("jar:" + jar + "!/META-INF/NOTICE"), jar + " has no META-INF/NOTICE");
    }
  }

  private static List<String> urls(ClassLoader loader, String name) throws IOException {
    List<String> found = new ArrayList<>();
    for (URL url : Collections.list(loader.getResources(name))) {
      found.add(url.toString());
    }
    return found;
  }
}
