package dev.jacobian.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.parallel.DataParallel;
import dev.jacobian.parallel.DataParallelSuite;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Spark's {@code local-cluster[2,1,1024]} mode: a standalone master and worker in this JVM, two executor JVMs of
 * their own. Data-parallel steps across JVMs equal {@link DataParallel} on one machine bit for bit, and killing one
 * executor's JVM (SIGKILL) in the middle of a task makes Spark run the task again elsewhere, with the same result.
 * Needs {@code SPARK_HOME} and {@code SPARK_SCALA_VERSION} in the environment (the module's surefire configuration
 * sets them); the Spark home is made empty here and the executors take the test class path.
 */
class SparkClusterTest {
    private static final int STEPS = 12;
    private static final int BATCH = 48;
    /** The step during which one executor's JVM is killed. */
    private static final long KILLED_STEP = 6;

    private static JavaSparkContext cluster(Path pidFile) throws IOException {
        Path home = Path.of(System.getenv("SPARK_HOME"));
        Files.createDirectories(home.resolve("jars"));
        Files.writeString(home.resolve("RELEASE"), "an empty Spark home for local-cluster tests\n");
        String flags = System.getProperty("jacobian.executor.flags", "");
        return new JavaSparkContext(new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("jacobian-cluster")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1").set("spark.task.maxFailures", "4")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executor.extraJavaOptions", flags + " -Djacobian.test.pidfile=" + pidFile));
    }

    /** A hook that, in step {@link #KILLED_STEP}'s task 1 (first attempt), writes its JVM's pid and waits to be killed. */
    private static TaskHook waitToBeKilled() {
        return (exchange, partition, attempt) -> {
            if (exchange == KILLED_STEP && partition == 1 && attempt == 0) {
                try {
                    Path file = Path.of(System.getProperty("jacobian.test.pidfile"));
                    Files.writeString(file, Long.toString(ProcessHandle.current().pid()));
                    Thread.sleep(120_000); // the driver kills this JVM meanwhile
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    @Test
    @Timeout(300)
    void stepsAcrossExecutorJvmsSurviveAKilledExecutor() throws Exception {
        float[] x = DataParallelSuite.features(4 * BATCH, 21);
        float[] expected;
        try (CpuBackend b = new CpuBackend(1); Optimizer opt = SparkDataParallelTest.sgd(0.9, 0.5);
             DataParallel dp = DataParallel.create(List.of(b), 2, SparkDataParallelTest::mlp, opt)) {
            float[] t = dp.model().encodeTargets(DataParallelSuite.labels(x));
            for (int s = 0; s < STEPS; s++) {
                dp.step(x, t, (s % 4) * BATCH, BATCH);
            }
            expected = dp.model().executor().parameterArena().download();
        }
        Path pidFile = Files.createTempFile("jacobian-executor", ".pid");
        Files.delete(pidFile);
        Thread killer = new Thread(() -> {
            try {
                while (!Files.exists(pidFile) || Files.readString(pidFile).isBlank()) {
                    Thread.sleep(50);
                }
                long pid = Long.parseLong(Files.readString(pidFile).trim());
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL, mid-task
            } catch (IOException | InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "executor-killer");
        killer.setDaemon(true);
        killer.start();
        try (JavaSparkContext sc = cluster(pidFile);
             CpuBackend driver = new CpuBackend(1); Model leader = SparkDataParallelTest.mlp(driver);
             Optimizer opt = SparkDataParallelTest.sgd(0.9, 0.5);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::mlp, waitToBeKilled())) {
            float[] t = leader.encodeTargets(DataParallelSuite.labels(x));
            for (int s = 0; s < STEPS; s++) {
                sdp.step(x, t, (s % 4) * BATCH, BATCH);
            }
            killer.join(TimeUnit.SECONDS.toMillis(5));
            assertTrue(Files.exists(pidFile), "step " + KILLED_STEP + "'s task ran in an executor JVM and was killed");
            long killed = Long.parseLong(Files.readString(pidFile).trim());
            assertNotEquals(ProcessHandle.current().pid(), killed, "the task ran in an executor JVM, not the driver's");
            assertTrue(ProcessHandle.of(killed).map(p -> !p.isAlive()).orElse(true), "that JVM is gone");
            assertEquals(STEPS, sdp.exchanges());
            assertArrayEquals(expected, leader.executor().parameterArena().download(),
                    "two executor JVMs, one killed mid-task: the weights of DataParallel on one machine");
        } finally {
            Files.deleteIfExists(pidFile);
        }
    }
}
