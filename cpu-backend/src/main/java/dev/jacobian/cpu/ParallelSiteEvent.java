package dev.jacobian.cpu;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A JDK Flight Recorder event naming a call site of the CPU backend's thread pool: recorded, with its stack, the first
 * time a pool records a {@link ParallelCallEvent} of a task body's class, so that a profile can say which product or
 * kernel each {@link ParallelCallEvent#site} is without a stack on every call. Once per site and pool: a second
 * recording of the same pool gets none for the sites the first one saw (a profile then names those by their class).
 */
@Name("dev.jacobian.cpu.ParallelSite")
@Label("Jacobian CPU Parallel Call Site")
@Category({"Jacobian", "CPU Backend"})
@Description("The stack of the first parallel call of a task body's class in a CPU backend's thread pool")
@Enabled(false)
@StackTrace(true)
final class ParallelSiteEvent extends jdk.jfr.Event {
    /** The task body's class, as {@link ParallelCallEvent#site} names it. */
    @Label("Site")
    String site;
}
