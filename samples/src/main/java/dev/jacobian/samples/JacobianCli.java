package dev.jacobian.samples;

import ch.qos.logback.classic.Level;
import dev.jacobian.data.IdxFormatException;
import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.training.TrainingStoppedException;
import java.io.PrintWriter;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code jacobian}: train, evaluate and use MLPs on MNIST-format data with the Jacobian framework.
 *
 * <p>Exit codes: 0 success; 1 an unexpected error; 2 bad input (an unusable data, image or checkpoint file,
 * or a bad option value: one line naming the problem, no stack trace unless {@code --verbose});
 * 3 training stopped because the loss became NaN/Inf.
 */
@Command(name = "jacobian", mixinStandardHelpOptions = true, version = "jacobian 0.1.0",
        description = "Deep learning in Java: train and use an MLP on Fashion-MNIST (or any MNIST-format data).",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, InfoCommand.class,
                CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:unexpected error", "2:bad input (data, image or checkpoint file, or option value)",
                "3:training stopped: loss became NaN/Inf, or ReLU units died (--stop-dead)"})
public final class JacobianCli {
    /** Exit code of bad input files and option values. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code when training stopped on a NaN/Inf loss. */
    public static final int EXIT_DIVERGED = 3;

    @Spec
    CommandSpec spec;

    private boolean verbose;

    /** The top-level command (picocli makes it; {@link #commandLine()} sets up its exception handling). */
    public JacobianCli() {
    }

    /** {@code --verbose}: DEBUG logging for Jacobian and stack traces for errors. */
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Debug logging, and stack traces with error messages.")
    void setVerbose(boolean on) {
        this.verbose = on;
        ch.qos.logback.classic.Logger jacobian = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.jacobian");
        jacobian.setLevel(on ? Level.DEBUG : null);
        ch.qos.logback.classic.Logger samples = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.jacobian.samples");
        samples.setLevel(on ? Level.DEBUG : Level.INFO);
    }

    boolean verbose() {
        return verbose;
    }

    /** The command line with this program's exception handling, for {@code main} and tests. */
    public static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command line whose {@code train} computes its steps with {@code engine} (a cluster's, e.g. the {@code spark}
     * module's), with the same options and exception handling; null: this machine's backends.
     */
    public static CommandLine commandLine(dev.jacobian.samples.training.StepEngine engine) {
        JacobianCli cli = new JacobianCli();
        CommandLine cmd = new CommandLine(cli, new CommandLine.IFactory() {
            private final CommandLine.IFactory defaults = CommandLine.defaultFactory();

            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == TrainCommand.class ? type.cast(new TrainCommand(engine)) : defaults.create(type);
            }
        });
        cmd.setExecutionExceptionHandler((ex, line, parseResult) -> handle(ex, line, cli.verbose));
        return cmd;
    }

    /**
     * Checks a {@code --backend} value before the command reads anything: a name no backend has, or a backend that is
     * not available here, is a bad option value (exit 2, the message naming the backends there are). {@code auto} is
     * resolved when the backend starts.
     */
    static void checkBackend(CommandLine line, String name) {
        if (name == null || name.trim().equalsIgnoreCase(dev.jacobian.backend.Backends.AUTO)) {
            return;
        }
        try {
            dev.jacobian.backend.Backends.resolve(name);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CommandLine.ParameterException(line, "--backend: " + e.getMessage(), e);
        }
    }

    private static int handle(Exception ex, CommandLine line, boolean verbose) {
        PrintWriter err = line.getErr();
        int code;
        if (ex instanceof IdxFormatException || ex instanceof dev.jacobian.io.ModelFormatException
                || ex instanceof dev.jacobian.samples.data.ImageFormatException) {
            err.println("jacobian: " + ex.getMessage());
            code = EXIT_BAD_INPUT;
        } else if (ex instanceof TrainingStoppedException) {
            err.println("jacobian: " + ex.getMessage());
            code = EXIT_DIVERGED;
        } else {
            err.println("jacobian: " + ex + (verbose ? "" : " (run with --verbose for the stack trace)"));
            code = 1;
        }
        if (verbose) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /**
     * Runs the command line and exits with its code; running out of Java heap is one line saying how to raise it
     * (exit 1), not a stack trace.
     */
    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        int code;
        try {
            code = commandLine().execute(args);
        } catch (OutOfMemoryError e) {
            System.err.println(outOfMemory(Runtime.getRuntime().maxMemory()));
            code = 1;
        }
        System.exit(code);
    }

    /** The one line for an {@link OutOfMemoryError} when the heap's limit is {@code maxHeap} bytes. */
    static String outOfMemory(long maxHeap) {
        return "jacobian: out of memory: the Java heap's limit is " + (maxHeap >> 20) + " MiB; raise it with "
                + "JACOBIAN_JAVA_OPTS=-Xmx<size> (e.g. -Xmx" + Math.max(2, 2 * ((maxHeap >> 30) + 1)) + "g)";
    }
}
