package io.txgw.deploy;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * An integration test class that must have the machine to itself while it runs: it measures node
 * call rates, or waits on a node's resync that a second stack beside it has starved. The build runs
 * the classes tagged {@value #TAG} first, one at a time, before the rest run two at a time (see the
 * failsafe executions in {@code deploy/pom.xml}). A Jupiter tag: a jqwik class would need jqwik's
 * own {@code @Tag("runs-alone")}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
@Tag(RunsAlone.TAG)
public @interface RunsAlone {
  String TAG = "runs-alone";
}
