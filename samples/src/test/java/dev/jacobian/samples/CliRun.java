package dev.jacobian.samples;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * Runs the {@code jacobian} command line in-process (no {@code System.exit}) and captures what the
 * command prints (logs go to the console as usual).
 *
 * @param code exit code
 * @param out  the command's standard output
 * @param err  the command's error output
 */
public record CliRun(int code, String out, String err) {
    /** Runs {@code jacobian args...}. */
    public static CliRun of(String... args) {
        CommandLine cmd = JacobianCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
