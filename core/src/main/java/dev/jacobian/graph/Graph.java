package dev.jacobian.graph;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.graph.ops.Activate;
import dev.jacobian.graph.ops.AddBias;
import dev.jacobian.graph.ops.BatchNorm;
import dev.jacobian.graph.ops.Conv2d;
import dev.jacobian.graph.ops.Dense;
import dev.jacobian.graph.ops.Dropout;
import dev.jacobian.graph.ops.Elementwise;
import dev.jacobian.graph.ops.Gelu;
import dev.jacobian.graph.ops.GlobalAvgPool;
import dev.jacobian.graph.ops.LayerNorm;
import dev.jacobian.graph.ops.Linear;
import dev.jacobian.graph.ops.MatMul;
import dev.jacobian.graph.ops.Maxout;
import dev.jacobian.graph.ops.MeanRowLoss;
import dev.jacobian.graph.ops.PRelu;
import dev.jacobian.graph.ops.Permute;
import dev.jacobian.graph.ops.Pool2d;
import dev.jacobian.graph.ops.Reduce;
import dev.jacobian.graph.ops.Reshape;
import dev.jacobian.graph.ops.RowLoss;
import dev.jacobian.graph.ops.Scale;
import dev.jacobian.graph.ops.Softmax;
import dev.jacobian.graph.ops.Unary;
import dev.jacobian.tensor.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A directed acyclic graph of {@link Node}s, built by the methods below: any DAG, not only a chain (a
 * value may feed several nodes; its gradients then add up). Shapes are checked when an
 * {@link Executor} plans the graph for a batch size; a mismatch names the operation and both shapes.
 *
 * <pre>{@code
 * Graph g = new Graph();
 * Input x = g.input("x", 784);
 * Input y = g.input("y", 1);
 * Parameter w = g.parameter("W", Shape.matrix(784, 10), Initializer.xavierUniform(), true);
 * Parameter b = g.parameter("b", Shape.matrix(1, 10), Initializer.zeros(), false);
 * Node loss = g.mean(g.rowLoss(LossKind.SOFTMAX_CROSS_ENTROPY, g.linear(x, w, b), y));
 * }</pre>
 *
 * Not thread-safe while being built; immutable in practice once handed to an executor.
 */
public final class Graph {
    private final List<Node> nodes = new ArrayList<>();
    private final List<Parameter> parameters = new ArrayList<>();
    private final List<Buffer> buffers = new ArrayList<>();
    /** Every parameter and buffer by name (names are unique among them). */
    private final java.util.Map<String, Node> stateNames = new java.util.HashMap<>();

    /** An empty graph: add inputs, parameters and operations, then hand it to an {@link Executor}. */
    public Graph() {
    }

    /** Every node in creation order (a topological order). */
    public List<Node> nodes() {
        return Collections.unmodifiableList(nodes);
    }

    /** Every parameter in creation order (the order seeds are drawn in). */
    public List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    /** Every buffer (non-trainable state such as running statistics) in creation order. */
    public List<Buffer> buffers() {
        return Collections.unmodifiableList(buffers);
    }

    private <T extends Node> T add(T node) {
        nodes.add(node);
        return node;
    }

    private void own(Node n) {
        if (n == null) {
            throw new IllegalArgumentException("an input node is null");
        }
        if (n.graph() != this) {
            throw new IllegalArgumentException("node " + n + " belongs to another graph");
        }
    }

    /**
     * The shape {@code node} will have for a batch of {@code batch} samples, by the operations' shape rules
     * (nothing is allocated); a mismatch is an {@link IllegalArgumentException} naming the operation and shapes.
     */
    public Shape shapeOf(Node node, int batch) {
        own(node);
        if (batch < 1) {
            throw new IllegalArgumentException("shapeOf " + node + ": the batch size must be at least 1, got " + batch);
        }
        java.util.Map<Node, Shape> shapes = new java.util.IdentityHashMap<>();
        for (Node n : Executor.topologicalOrder(node)) {
            if (n instanceof Input in) {
                shapes.put(n, in.sampleShape().prepend(batch));
            } else if (n instanceof Parameter p) {
                shapes.put(n, p.shape());
            } else if (n instanceof Buffer b) {
                shapes.put(n, b.shape());
            } else {
                OpNode op = (OpNode) n;
                List<Shape> ins = new ArrayList<>();
                for (Node i : op.inputs()) {
                    ins.add(shapes.get(i));
                }
                shapes.put(n, op.operation().outputShape(ins));
            }
        }
        return shapes.get(node);
    }

    /** A host-fed input of {@code columns} values per sample: tensors {@code [batch, columns]}. */
    public Input input(String name, int columns) {
        if (columns <= 0) {
            throw new IllegalArgumentException("input '" + name + "' needs a positive column count, got " + columns);
        }
        return add(new Input(this, nodes.size(), name, Shape.of(columns)));
    }

    /** A host-fed input whose samples have {@code sampleShape} (e.g. {@code [1, 28, 28]}): tensors {@code [batch, ...]}. */
    public Input input(String name, Shape sampleShape) {
        if (sampleShape == null) {
            throw new IllegalArgumentException("input '" + name + "': the sample shape is null");
        }
        return add(new Input(this, nodes.size(), name, sampleShape));
    }

    /**
     * A learnable parameter. {@code regularized}: whether L2 / weight decay apply to it. Its name must be unique among
     * the graph's parameters and buffers.
     */
    public Parameter parameter(String name, Shape shape, Initializer init, boolean regularized) {
        stateNode("parameter", name, shape, init);
        Parameter p = add(new Parameter(this, nodes.size(), name, shape, init, regularized));
        parameters.add(p);
        stateNames.put(name, p);
        return p;
    }

    /**
     * A non-trainable buffer of fixed shape, filled by {@code init} when an executor allocates it (see
     * {@link Buffer}): no gradient, not in the parameter arena; operations may update it in a training forward. Its
     * name must be unique among the graph's parameters and buffers.
     */
    public Buffer buffer(String name, Shape shape, Initializer init) {
        stateNode("buffer", name, shape, init);
        Buffer b = add(new Buffer(this, nodes.size(), name, shape, init));
        buffers.add(b);
        stateNames.put(name, b);
        return b;
    }

    /**
     * The checks of a parameter or buffer: a name no other parameter or buffer of this graph has (optimizer state and
     * model files are keyed by it, so two of one name would share, and overwrite, one entry), a shape and an
     * initializer; an {@link IllegalArgumentException} names what is wrong.
     */
    private void stateNode(String kind, String name, Shape shape, Initializer init) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(kind + ": a name is required, got " + (name == null ? "null" : "'" + name + "'"));
        }
        if (shape == null || init == null) {
            throw new IllegalArgumentException(kind + " '" + name + "': the " + (shape == null ? "shape" : "initializer")
                    + " is null");
        }
        Node taken = stateNames.get(name);
        if (taken != null) {
            throw new IllegalArgumentException(kind + " '" + name + "': the graph already has "
                    + (taken instanceof Parameter ? "a parameter" : "a buffer") + " of that name (" + taken
                    + "); names key optimizer state and model files, so they must be unique");
        }
    }

    /** A node computed by {@code op} from {@code inputs}. */
    public OpNode apply(Operation op, Node... inputs) {
        if (op == null) {
            throw new IllegalArgumentException("apply: the operation is null");
        }
        for (Node n : inputs) {
            own(n);
        }
        return add(new OpNode(this, nodes.size(), op.name(), op, List.of(inputs)));
    }

    /**
     * {@code x W + b} ({@link Linear}): {@code x: [n, in]}, {@code w: [in, out]}, {@code b: [1, out]}; output
     * {@code [n, out]}.
     */
    public OpNode linear(Node x, Parameter w, Parameter b) {
        return apply(new Linear(), x, w, b);
    }

    /** {@code f(x W + b)} as one fused node (see {@link Dense}). */
    public OpNode dense(Node x, Parameter w, Parameter b, Activation f, float param) {
        return apply(new Dense(f, param), x, w, b);
    }

    /** The matrix product {@code a b} ({@link MatMul}): {@code [m, k]} times {@code [k, n]} gives {@code [m, n]}. */
    public OpNode matmul(Node a, Node b) {
        return apply(new MatMul(), a, b);
    }

    /** {@code x + bias} with a {@code [1, n]} bias added to every row of {@code x: [m, n]} ({@link AddBias}). */
    public OpNode addBias(Node x, Node bias) {
        return apply(new AddBias(), x, bias);
    }

    /** {@code a + b} elementwise with NumPy broadcasting ({@link Elementwise}). */
    public OpNode add(Node a, Node b) {
        return apply(new Elementwise(BinaryOp.ADD), a, b);
    }

    /** {@code a - b} elementwise with NumPy broadcasting ({@link Elementwise}). */
    public OpNode sub(Node a, Node b) {
        return apply(new Elementwise(BinaryOp.SUB), a, b);
    }

    /** {@code a * b} elementwise with NumPy broadcasting ({@link Elementwise}). */
    public OpNode mul(Node a, Node b) {
        return apply(new Elementwise(BinaryOp.MUL), a, b);
    }

    /**
     * {@code max(a, b)} elementwise with NumPy broadcasting ({@link Elementwise}); the gradient goes to
     * {@code a} on ties.
     */
    public OpNode max(Node a, Node b) {
        return apply(new Elementwise(BinaryOp.MAX), a, b);
    }

    /** {@code op(x)} elementwise (see {@link UnaryOp}); parameterless operations. */
    public OpNode unary(Node x, UnaryOp op) {
        return apply(new Unary(op, 0f, 0f), x);
    }

    /** {@code op(x; p)} elementwise, e.g. {@code ADD_SCALAR} or {@code MUL_SCALAR} by {@code p}. */
    public OpNode unary(Node x, UnaryOp op, float p) {
        return apply(new Unary(op, p, 0f), x);
    }

    /** {@code min(max(x, lo), hi)} elementwise. */
    public OpNode clamp(Node x, float lo, float hi) {
        if (!(lo <= hi)) {
            throw new IllegalArgumentException("clamp: lower bound " + lo + " is above upper bound " + hi);
        }
        return apply(new Unary(UnaryOp.CLAMP, lo, hi), x);
    }

    /** GELU, tanh approximation, composed from primitives ({@link Gelu}). */
    public Node gelu(Node x) {
        return Gelu.apply(this, x);
    }

    /**
     * Inverted dropout ({@link Dropout}): in a training pass zeroes each element with probability {@code p} (a
     * mask from the executor's random stream) and scales the rest by {@code 1 / (1 - p)}; the identity in
     * evaluation. {@code p} in {@code [0, 1)}.
     */
    public OpNode dropout(Node x, float p) {
        return apply(new Dropout(p), x);
    }

    /**
     * Dropout whose mask comes from {@code noise} (uniform draws in {@code [0, 1)} of {@code x}'s shape, e.g. a
     * fed input) instead of the random stream: element kept where {@code noise >= p}. A fixed mask, for tests.
     */
    public OpNode dropout(Node x, Node noise, float p) {
        return apply(new Dropout(p), x, noise);
    }

    /**
     * Batch normalization over every dimension of {@code x [N, C, ...]} but the channels ({@link BatchNorm}):
     * weight and bias {@code [C]}, running mean and variance {@code [C]} and a {@code num_batches_tracked} scalar,
     * buffers that a training pass updates.
     */
    public OpNode batchNorm(Node x, Parameter weight, Parameter bias, Buffer runningMean, Buffer runningVar,
                            Buffer numBatchesTracked, float eps, float momentum) {
        return apply(new BatchNorm(eps, momentum), x, weight, bias, runningMean, runningVar, numBatchesTracked);
    }

    /**
     * Layer normalization of {@code x} over its trailing dimensions, those of {@code weight} ({@link LayerNorm}),
     * then {@code * weight + bias} elementwise.
     */
    public OpNode layerNorm(Node x, Parameter weight, Parameter bias, float eps) {
        return apply(new LayerNorm(eps), x, weight, bias);
    }

    /** A view of {@code x} with the same elements in shape {@code dims} (one may be {@code -1}); no copy. */
    public OpNode reshape(Node x, int... dims) {
        return apply(Reshape.to(dims), x);
    }

    /** A view merging dimensions {@code startDim..} of {@code x} into one ({@code [n, c, h, w]} from 1 is {@code [n, c*h*w]}). */
    public OpNode flatten(Node x, int startDim) {
        return apply(Reshape.flatten(startDim), x);
    }

    /**
     * The 2-D convolution of {@code x [N, C, H, W]} with {@code weight [OC, C/groups, kH, kW]} plus {@code bias [OC]}
     * (or none when {@code bias} is null), as {@code torch.nn.functional.conv2d} ({@link Conv2d}).
     */
    public OpNode conv2d(Node x, Parameter weight, Parameter bias, Conv2dSpec spec) {
        return bias == null ? apply(new Conv2d(spec), x, weight) : apply(new Conv2d(spec), x, weight, bias);
    }

    /** 2-D max or average pooling of {@code x [N, C, H, W]} ({@link Pool2d}). */
    public OpNode pool2d(Node x, Pool2dSpec spec) {
        return apply(new Pool2d(spec), x);
    }

    /** The mean of each channel's plane: {@code [N, C, H, W] -> [N, C]} ({@link GlobalAvgPool}). */
    public OpNode globalAvgPool(Node x) {
        return apply(new GlobalAvgPool(), x);
    }

    /** {@code x} with its axes reordered, the batch being axis 0 ({@link Permute}); a copy. */
    public OpNode permute(Node x, int... axes) {
        return apply(new Permute(axes), x);
    }

    /** {@code factor * x} elementwise, for a constant {@code factor} ({@link Scale}). */
    public OpNode scale(Node x, float factor) {
        return apply(new Scale(factor), x);
    }

    /**
     * {@code f(x)} elementwise ({@link Activate}); {@code param} is the slope of {@code LEAKY_RELU} or the alpha
     * of {@code ELU}, ignored by the others.
     */
    public OpNode activation(Node x, Activation f, float param) {
        return apply(new Activate(f, param), x);
    }

    /** {@code 1 / (1 + e^-x)} elementwise. */
    public OpNode sigmoid(Node x) {
        return activation(x, Activation.SIGMOID, 0f);
    }

    /** {@code tanh x} elementwise. */
    public OpNode tanh(Node x) {
        return activation(x, Activation.TANH, 0f);
    }

    /** {@code max(0, x)} elementwise. */
    public OpNode relu(Node x) {
        return activation(x, Activation.RELU, 0f);
    }

    /** Leaky ReLU elementwise: {@code x > 0 ? x : slope * x}. */
    public OpNode leakyRelu(Node x, float slope) {
        return activation(x, Activation.LEAKY_RELU, slope);
    }

    /** ELU elementwise: {@code x > 0 ? x : alpha (e^x - 1)}. */
    public OpNode elu(Node x, float alpha) {
        return activation(x, Activation.ELU, alpha);
    }

    /** PReLU ({@link PRelu}) with one learnable slope per column: {@code x: [n, m]}, {@code slopes: [1, m]}. */
    public OpNode prelu(Node x, Parameter slopes) {
        return apply(new PRelu(), x, slopes);
    }

    /**
     * Maxout ({@link Maxout}) over groups of {@code pieces} adjacent columns: {@code [n, m*pieces] -> [n, m]};
     * {@code pieces < 1} is an {@link IllegalArgumentException}.
     */
    public OpNode maxout(Node z, int pieces) {
        return apply(new Maxout(pieces), z);
    }

    /** Row-wise softmax ({@link Softmax}); for training, prefer {@link #rowLoss} with {@code SOFTMAX_CROSS_ENTROPY}. */
    public OpNode softmax(Node x) {
        return apply(new Softmax(), x);
    }

    /**
     * {@code r} along {@code axis} ({@link Reduce}): {@code [1, n]}, {@code [m, 1]} or {@code [1, 1]};
     * {@code ARGMAX} has no backward.
     */
    public OpNode reduce(Node x, Reduction r, Axis axis) {
        return apply(new Reduce(r, axis), x);
    }

    /** The mean of every element: {@code [1, 1]}. */
    public OpNode mean(Node x) {
        return reduce(x, Reduction.MEAN, Axis.ALL);
    }

    /** The sum of every element: {@code [1, 1]}. */
    public OpNode sum(Node x) {
        return reduce(x, Reduction.SUM, Axis.ALL);
    }

    /** The sum of the squares of every element: {@code [1, 1]}. */
    public OpNode sumOfSquares(Node x) {
        return reduce(x, Reduction.SUM_SQUARES, Axis.ALL);
    }

    /** Per-sample losses {@code [n, 1]}. */
    public OpNode rowLoss(LossKind kind, Node predictions, Node targets) {
        return apply(new RowLoss(kind), predictions, targets);
    }

    /**
     * The batch-mean loss, a scalar: the mean of {@link #rowLoss} as one operation ({@link MeanRowLoss}), which a device
     * backend runs in one launch forward and one backward.
     */
    public OpNode loss(LossKind kind, Node predictions, Node targets) {
        return apply(new MeanRowLoss(kind), predictions, targets);
    }

    /**
     * {@code loss + lambda * sum_W sum(W^2)} over the given parameters (L2 regularization; pass the
     * weights, not the biases).
     */
    public Node l2Regularized(Node loss, float lambda, List<Parameter> weights) {
        if (lambda == 0f || weights.isEmpty()) {
            return loss;
        }
        Node penalty = null;
        for (Parameter w : weights) {
            Node s = sumOfSquares(w);
            penalty = penalty == null ? s : add(penalty, s);
        }
        return add(loss, scale(penalty, lambda));
    }
}
