package dev.jacobian.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.samples.JacobianCli;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.samples.training.TrainingState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spark-submit entry point: {@code SparkTrain --workers 2} in local mode ends with the weights that
 * {@code jacobian train --workers 2} gives on one machine, bit for bit (same shuffles, same shards, CPU backends).
 */
class SparkTrainTest {
    @TempDir
    Path tmp;

    private static List<String> args(Path out) {
        return new ArrayList<>(List.of("--data", Path.of("..", "samples", "data", "fashion-mnist").toString(),
                "--backend", "cpu", "--workers", "2", "--limit", "1200", "--layers", "32,16",
                "--batch", "50", "--validation", "200", "--epochs", "2", "--momentum", "0.9", "--clip-norm", "1",
                "--dropout", "0.1", "--out", out.toString(), "--no-progress"));
    }

    @Test
    @Timeout(300)
    void sparkSubmitsEntryPointTrainsAsTheLocalCommandDoes() throws Exception {
        Path local = tmp.resolve("local");
        Path spark = tmp.resolve("spark");
        List<String> localArgs = args(local);
        localArgs.add(0, "train");
        assertEquals(0, JacobianCli.commandLine().execute(localArgs.toArray(String[]::new)));
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("jacobian-train")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"))) {
            assertEquals(0, SparkTrain.run(sc, args(spark).toArray(String[]::new)));
        }
        var a = CheckpointStore.load(local, TrainingState.class);
        var b = CheckpointStore.load(spark, TrainingState.class);
        assertEquals(2, b.state().epoch());
        assertEquals(a.state().steps(), b.state().steps());
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        for (String name : a.tensors().keySet()) {
            assertTrue(Arrays.equals(a.tensors().get(name).data(), b.tensors().get(name).data()),
                    name + " differs between the Spark run and the local one");
        }
        // the training accuracy comes from the tasks' predictions: the local run's, well above chance (10 %)
        double trainAccuracy = b.state().history().get(1).trainAccuracy();
        assertEquals(a.state().history().get(1).trainAccuracy(), trainAccuracy);
        assertTrue(trainAccuracy > 0.3, "training accuracy " + trainAccuracy);
    }
}
