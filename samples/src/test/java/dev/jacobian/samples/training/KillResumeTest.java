package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.samples.CliRun;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jacobian train} in a child JVM, killed with SIGKILL at random moments (20 times, from a fixed seed) and started again each time ({@code --resume} once a checkpoint exists): after every kill the newest
 * checkpoint loads intact; at the end no temporary file or orphan tensor file is left, at most
 * {@link CheckpointStore#KEEP} checkpoints remain, and the final weights equal an uninterrupted run's bit for bit.
 */
class KillResumeTest {
    /** Kills in CI (the bar: at least 20); {@code -Djacobian.kills=N} for a longer run. */
    private static final int KILLS = Integer.getInteger("jacobian.kills", 20);

    @TempDir
    Path tmp;

    private static List<String> args(Path out) {
        return new ArrayList<>(List.of("train", "--backend", "cpu", "--limit", "1500", "--layers", "32,16", "--batch", "50",
                "--epochs", "12", "--momentum", "0.9", "--dropout", "0.1", "--validation", "200", "--out", out.toString(),
                "--no-progress"));
    }

    /** A child JVM running the command line with {@code args}, its output discarded. */
    private static Process start(List<String> args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-Djava.awt.headless=true",
                "-cp", System.getProperty("java.class.path"), "dev.jacobian.samples.JacobianCli"));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static boolean hasCheckpoint(Path dir) throws Exception {
        return new CheckpointStore(dir).latest().isPresent();
    }

    /** The newest checkpoint's epoch, -1 when there is none. */
    private static int latestEpoch(Path dir) throws Exception {
        return new CheckpointStore(dir).latest().map(p -> Integer.parseInt(p.getFileName().toString()
                .replaceAll("\\D", ""))).orElse(-1);
    }

    @Test
    @Timeout(600)
    void killedAtRandomMomentsAndResumedEndsAsAnUnbrokenRun() throws Exception {
        Path straight = tmp.resolve("straight");
        CliRun reference = CliRun.of(args(straight).toArray(String[]::new));
        assertEquals(0, reference.code(), reference.err());
        var expected = CheckpointStore.load(straight, TrainingState.class);

        SplittableRandom random = new SplittableRandom(2026);
        int kills = 0;
        int cycles = 0;
        int leftovers = 0;
        while (kills < KILLS) {
            Path dir = tmp.resolve("killed-" + cycles++);
            while (true) {
                List<String> a = args(dir);
                if (hasCheckpoint(dir)) {
                    a.add("--resume");
                }
                int before = latestEpoch(dir);
                Process child = start(a);
                if (random.nextInt(5) == 0) {
                    // now and then at any moment of the start: the JVM, the data, the first checkpoint
                    child.waitFor(random.nextLong(2000), TimeUnit.MILLISECONDS);
                } else {
                    // mostly once it trains: after its next checkpoint, within the next epoch (its checkpoint writes,
                    // its reports, the plots and test evaluation after the last epoch included)
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    while (child.isAlive() && latestEpoch(dir) <= before && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                    child.waitFor(random.nextLong(400), TimeUnit.MILLISECONDS);
                }
                if (!child.isAlive()) {
                    assertEquals(0, child.exitValue(), "the run in " + dir + " failed");
                    break; // this cycle's run completed
                }
                child.destroyForcibly(); // SIGKILL
                child.waitFor();
                kills++;
                if (!Files.isDirectory(dir)) {
                    continue; // killed before the run made its directory
                }
                try (Stream<Path> files = Files.list(dir)) {
                    leftovers += (int) files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")
                            || n.endsWith(".safetensors") && !Files.exists(dir.resolve(n.replace(".safetensors", ".json"))))
                            .count(); // what the next start removes
                }
                if (hasCheckpoint(dir)) {
                    CheckpointStore.load(dir, TrainingState.class); // the newest checkpoint is intact
                }
            }
            var done = CheckpointStore.load(dir, TrainingState.class);
            assertEquals(12, done.state().epoch());
            assertEquals(expected.tensors().keySet(), done.tensors().keySet());
            for (String name : expected.tensors().keySet()) {
                assertTrue(Arrays.equals(expected.tensors().get(name).data(), done.tensors().get(name).data()),
                        name + " differs from the unbroken run's after " + kills + " kills");
            }
            try (Stream<Path> files = Files.list(dir)) {
                List<String> names = files.map(p -> p.getFileName().toString()).toList();
                assertTrue(names.stream().noneMatch(n -> n.endsWith(".tmp")), "temporary files left: " + names);
                long json = names.stream().filter(n -> n.matches("checkpoint-epoch-\\d+\\.json")).count();
                long tensors = names.stream().filter(n -> n.matches("checkpoint-epoch-\\d+\\.safetensors")).count();
                assertEquals(json, tensors, "a tensor file without its JSON, or the reverse: " + names);
                assertTrue(json <= CheckpointStore.KEEP, "old checkpoints pruned: " + names);
            }
        }
        assertTrue(kills >= KILLS, kills + " kills");
        System.out.printf("KillResumeTest: %d kills in %d runs to the end; %d leftover files found after the kills,"
                + " removed by the next start%n", kills, cycles, leftovers);
    }
}
