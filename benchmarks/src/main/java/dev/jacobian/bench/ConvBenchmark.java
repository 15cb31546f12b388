package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Shape;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Conv2d forward and backward for the layer shapes of {@code bin/jacobian train --model cnn} (3x3 convolutions,
 * stride 1, padding 1, no bias, batch 64 by default): {@code conv1} takes {@code [N, 1, 28, 28]} to 32 channels,
 * {@code conv2} takes {@code [N, 32, 14, 14]} to 64, {@code conv3} takes {@code [N, 64, 7, 7]} to 128. One call is {@code y = conv2d(x, w)}, {@code loss = sum(y)},
 * and the backward pass to both {@code x} and {@code w} (as {@code benchmarks/peers/torch_conv.py} does in PyTorch:
 * the same graph with {@code requires_grad} on both), ending with a read of one gradient element, so every kernel
 * is timed. The score is calls/s; {@code benchmarks/run-conv.sh} runs it beside the PyTorch peer and prints the
 * ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ConvBenchmark extends BenchmarkDefaults {
    /** Backend name as {@code Backends.create} takes it. */
    @Param({"cpu"})
    public String backend;

    /** {@code conv1} (1 to 32 channels, 28x28), {@code conv2} (32 to 64 channels, 14x14) or {@code conv3} (64 to 128, 7x7). */
    @Param({"conv1", "conv2", "conv3"})
    public String layer;

    /** Images per call. */
    @Param({"64"})
    public int batch;

    private Backend be;
    private Executor exec;
    private Node loss;
    private Parameter w;

    /** The layer's input shape {@code [batch, C, H, W]} and output channels. */
    static int[] geometry(String layer, int batch) {
        return switch (layer) {
            case "conv1" -> new int[] {batch, 1, 28, 28, 32};
            case "conv2" -> new int[] {batch, 32, 14, 14, 64};
            case "conv3" -> new int[] {batch, 64, 7, 7, 128};
            default -> throw new IllegalArgumentException("layer must be conv1, conv2 or conv3: " + layer);
        };
    }

    @Setup
    public void setUp() {
        int[] d = geometry(layer, batch);
        be = BenchSupport.backend(backend);
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.of(d[0], d[1], d[2], d[3]), Initializer.normal(1), false);
        w = g.parameter("w", Shape.of(d[4], d[1], 3, 3), Initializer.heNormal(), true);
        loss = g.sum(g.conv2d(x, w, null, Conv2dSpec.of(3, 1, 1)));
        exec = new Executor(g, be, 42);
        step(); // plans, workspaces and packing buffers are made here, not measured
    }

    /** Forward and backward once; returns one element of the weight gradient (a blocking read). */
    @Benchmark
    public float step() {
        exec.forward(loss, 1);
        exec.backward();
        return exec.gradient(w).get(0);
    }

    @TearDown
    public void tearDown() {
        exec.close();
        be.close();
    }
}
