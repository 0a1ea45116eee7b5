package io.txgw.deploy;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * An integration test class that must have the machine to itself while it runs: it measures node
 * call rates or runs the whole cluster, and a second stack beside it would bend its figures or
 * starve it. {@link MachineShare} keeps every other class away while it runs.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
public @interface RunsAlone {}
