package dev.jacobian.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * Reads the OpenCL C sources shipped in this module as classpath resources
 * ({@code dev/jacobian/kernels/<name>.cl}), never from a file path.
 *
 * <p>Each source is valid OpenCL C 1.2 on its own, opens with a header comment (what it computes, the
 * memory layout, the index order) and declares its tuning constants as {@code #ifndef X / #define X}
 * defaults that the host overrides with {@code -D} build options.
 */
public final class KernelSources {
    /** GEMM: tiled, register-blocked, all four transpose variants ({@code TRANS_A}, {@code TRANS_B}). */
    public static final String MATMUL = "matmul";
    /** Fill, copy, axpby, unary math, binary ops, activations, bias add, PReLU, maxout; forward and backward. */
    public static final String ELEMENTWISE = "elementwise";
    /** Binary ops with NumPy broadcasting, forward and backward, and the sum over broadcast dimensions. */
    public static final String BROADCAST = "broadcast";
    /** Sum, mean, max, argmax, sum of squares along rows, columns or everything; and backward. */
    public static final String REDUCE = "reduce";
    /** Softmax and its backward, the four per-sample losses and their backward. */
    public static final String SOFTMAX_LOSS = "softmax_loss";
    /** The fused SGD update (norm clip, value clip, weight decay, momentum/Nesterov, step). */
    public static final String OPTIMIZER = "optimizer";
    /** Uniform floats in {@code [0, 1)} from the counter-based generator Philox4x32-10, one work-item per 4 elements. */
    public static final String RANDOM = "random";
    /**
     * Convolutional networks: permute (axes reordered), im2col and its adjoint col2im, 2-D max and average pooling
     * and its backward.
     */
    public static final String CONV = "conv";

    /** The header of the activation functions and their derivatives, included by the elementwise and GEMM sources. */
    public static final String ACTIVATIONS_HEADER = "activations.h";

    /** Every source this module ships. */
    public static final List<String> ALL = List.of(MATMUL, ELEMENTWISE, BROADCAST, REDUCE, SOFTMAX_LOSS, OPTIMIZER,
            RANDOM, CONV);

    private static final String ROOT = "/dev/jacobian/kernels/";

    private KernelSources() {
    }

    /** The classpath resource path of source {@code name}, e.g. {@code /dev/jacobian/kernels/matmul.cl}. */
    public static String resourcePath(String name) {
        Objects.requireNonNull(name, "name");
        return ROOT + (name.endsWith(".cl") ? name : name + ".cl");
    }

    /**
     * The text of source {@code name} ({@code "matmul"} or {@code "matmul.cl"}), read as UTF-8, with every line
     * {@code #include "<header>.h"} replaced by that header's text (a resource beside the sources, such as
     * {@value #ACTIVATIONS_HEADER}), so that a program is built from one string whatever the driver's include path.
     *
     * @throws IllegalArgumentException naming the resource when it is not on the class path
     * @throws UncheckedIOException     when the resource cannot be read
     */
    public static String load(String name) {
        String text = read(resourcePath(name));
        StringBuilder out = new StringBuilder(text.length());
        for (String line : text.split("\n", -1)) {
            String t = line.trim();
            if (t.startsWith("#include \"") && t.endsWith(".h\"")) {
                out.append(read(ROOT + t.substring("#include \"".length(), t.length() - 1)));
            } else {
                out.append(line);
            }
            out.append('\n');
        }
        return out.substring(0, out.length() - 1);
    }

    private static String read(String path) {
        try (InputStream in = KernelSources.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalArgumentException("OpenCL kernel source not found on the class path: " + path
                        + " (known sources: " + ALL + ")");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read OpenCL kernel source " + path, e);
        }
    }
}
