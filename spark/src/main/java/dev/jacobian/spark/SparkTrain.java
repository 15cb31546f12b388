package dev.jacobian.spark;

import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.samples.JacobianCli;
import dev.jacobian.samples.training.ModelSpec;
import dev.jacobian.samples.training.StepEngine;
import dev.jacobian.samples.training.Stepper;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code jacobian train} on a Spark cluster, for {@code spark-submit}: the same options, with {@code --workers N}
 * the number of Spark tasks each step runs (per-step synchronous SGD, {@link SparkDataParallel#step}). The driver
 * loads the data, shuffles and augments as the local command does, sends each task its shard of every batch, and
 * writes the checkpoints and reports; the tasks' replicas run on the executors' backends ({@code --backend}, on each
 * executor: {@code auto} takes its GPU if it has one). On backends of one kind a run gives the weights that
 * {@code bin/jacobian train --workers N} gives on one machine, bit for bit.
 *
 * <pre>
 *   spark-submit --class dev.jacobian.spark.SparkTrain --master spark://host:7077 \
 *       --conf spark.task.maxFailures=4 spark/target/jacobian-spark.jar --workers 4 --epochs 10
 * </pre>
 * Without a master (run directly, not through spark-submit) it runs in local mode, {@code local[*]}.
 */
public final class SparkTrain {
    private SparkTrain() {
    }

    /** Runs {@code train} with {@code args} on a Spark context from spark-submit's configuration; exits with its code. */
    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        SparkConf conf = new SparkConf().setAppName("jacobian train");
        if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        int code;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            code = run(sc, args);
        }
        System.exit(code); // spark-submit reports the driver's exit status
    }

    /** Runs {@code jacobian train} with {@code args} on {@code sc}; returns the exit code (0: success). */
    public static int run(JavaSparkContext sc, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "train";
        System.arraycopy(args, 0, all, 1, args.length);
        return JacobianCli.commandLine(engine(sc)).execute(all);
    }

    /** The engine that runs each step as a Spark job over {@code workers} tasks. */
    static StepEngine engine(JavaSparkContext sc) {
        return (Model leader, Optimizer optimizer, ModelSpec spec, int workers, String backend) -> {
            ModelFactory models = spec::build;
            SparkDataParallel sdp = SparkDataParallel.create(sc, workers, leader, optimizer,
                    BackendFactory.forTasks(backend), models).trackPredictions(true);
            // the executors run every forward; the driver's leader only steps
            return Stepper.counting(sdp::step, sdp.optimizer(), sdp::exchanges, sdp::close, false);
        };
    }
}
