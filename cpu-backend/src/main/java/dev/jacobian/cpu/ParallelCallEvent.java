package dev.jacobian.cpu;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * A JDK Flight Recorder event for one call of {@link Parallel#run} or {@link Parallel#runHomed} on two threads or more:
 * how long the caller and the workers worked on its tasks, how long the caller then waited for the last worker, and
 * whether every worker joined. Its duration is the whole call, from publishing it to the last worker leaving.
 *
 * <p>Off unless a recording enables it by name (a step makes a dozen calls, so a profile of an application that
 * trains should not fill with them unasked): {@code -XX:StartFlightRecording:filename=f.jfr,
 * +dev.jacobian.cpu.ParallelCall#enabled=true,+dev.jacobian.cpu.ParallelSite#enabled=true}, or
 * {@link jdk.jfr.Recording#enable(Class)}; otherwise a call reads no clock for it. Which code made the call:
 * {@link #site}, the task body's class, which one {@link ParallelSiteEvent} per site and pool describes with its stack.
 * {@code benchmarks/run-step-threads.sh} with {@code PROFILE=true} records them over the training step and prints
 * them per site.
 */
@Name("dev.jacobian.cpu.ParallelCall")
@Label("Jacobian CPU Parallel Call")
@Category({"Jacobian", "CPU Backend"})
@Description("One parallel call of the CPU backend's thread pool: the caller's and the workers' busy time, the "
        + "caller's wait for the last worker, and the workers that did not join")
@Enabled(false)
@StackTrace(false)
final class ParallelCallEvent extends jdk.jfr.Event {
    /** The task body's class: a lambda's class names the call site (see {@link ParallelSiteEvent}). */
    @Label("Site")
    String site;

    /** Tasks of the call. */
    @Label("Tasks")
    int tasks;

    /** Threads the call could use, the caller included. */
    @Label("Threads")
    int threads;

    /** Threads that ran at least one task, the caller included. */
    @Label("Threads That Worked")
    int worked;

    /** Nanoseconds the caller spent running tasks. */
    @Label("Caller Busy")
    @Timespan(Timespan.NANOSECONDS)
    long callerBusy;

    /** Nanoseconds the busiest worker spent running tasks (0 when none ran one). */
    @Label("Busiest Worker")
    @Timespan(Timespan.NANOSECONDS)
    long workerBusy;

    /** Nanoseconds from publishing the call to the first worker's joining it (0 when none joined). */
    @Label("Join Latency")
    @Timespan(Timespan.NANOSECONDS)
    long joinLatency;

    /** Nanoseconds the caller waited, after its last task, for the workers still running theirs. */
    @Label("Caller Wait")
    @Timespan(Timespan.NANOSECONDS)
    long callerWait;
}
