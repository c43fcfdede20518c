package dev.timewait.junit5;

import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ReflectionSupport;

/**
 * Reads a named field or calls a named method of a test class, its superclasses or its enclosing
 * classes: how annotations point at values only known at run time. Stateless and thread-safe.
 */
final class Members {
  private Members() {}

  /**
   * The value of the member {@code name} of the test class in {@code context}. A method's
   * parameters are resolved by the registered parameter resolvers. {@code what} names the
   * annotation attribute in messages.
   *
   * @throws ExtensionConfigurationException if there is no such member, several methods of the
   *     name, or an instance member and no test instance
   */
  static Object read(ExtensionContext context, String name, String what) {
    Class<?> testClass = context.getRequiredTestClass();
    for (Class<?> c = testClass; c != null; c = c.getEnclosingClass()) {
      List<Method> methods = ReflectionSupport.findMethods(
          c, m -> m.getName().equals(name) && !m.isSynthetic(), HierarchyTraversalMode.BOTTOM_UP);
      if (methods.size() > 1) {
        methods = closest(methods);
      }
      if (methods.size() > 1) {
        throw new ExtensionConfigurationException(
            what + " '" + name + "' is ambiguous: " + methods.size() + " methods of that name in " + c.getName());
      }
      if (methods.size() == 1) {
        Method method = methods.get(0);
        Object target = target(context, method, name, what);
        return context.getExecutableInvoker().invoke(method, target);
      }
      List<Field> fields = ReflectionSupport.findFields(
          c, f -> f.getName().equals(name) && !f.isSynthetic(), HierarchyTraversalMode.BOTTOM_UP);
      if (!fields.isEmpty()) {
        Field field = fields.get(0); // the subclass's field hides its superclasses'
        Object target = target(context, field, name, what);
        return ReflectionSupport.tryToReadFieldValue(field, target).getOrThrow(
            e -> new ExtensionConfigurationException(what + " '" + name + "' cannot be read: " + e, e));
      }
    }
    throw new ExtensionConfigurationException(
        what + " '" + name + "' names no field or method of " + testClass.getName()
            + ", its superclasses or its enclosing classes");
  }

  /** The methods declared by the most derived class among {@code methods}. */
  private static List<Method> closest(List<Method> methods) {
    Class<?> first = methods.get(0).getDeclaringClass();
    List<Method> closest = new ArrayList<>();
    for (Method m : methods) {
      if (m.getDeclaringClass() == first) {
        closest.add(m);
      }
    }
    return closest;
  }

  private static Object target(ExtensionContext context, Member member, String name, String what) {
    if (Modifier.isStatic(member.getModifiers())) {
      return null;
    }
    Optional<?> instance = context.getTestInstances()
        .flatMap(instances -> instances.findInstance(member.getDeclaringClass()));
    return instance.orElseThrow(() -> new ExtensionConfigurationException(
        what + " '" + name + "' is an instance member, but there is no test instance here; make it static"));
  }
}
