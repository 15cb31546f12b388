package dev.jacobian.graph;

import dev.jacobian.backend.Backend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs a {@link Graph} on a {@link Backend}: forward to a target node, then reverse-mode backprop.
 *
 * <h2>Life of a step</h2>
 * <ol>
 *   <li>{@link #feed} uploads a host batch into the input tensor kept for that batch size.</li>
 *   <li>{@link #forward(Node, int)} walks a topological order of the target's ancestors, planned once
 *       per (target, batch size): every buffer is allocated with the plan and reused by every later
 *       step, so after the first step a step allocates no device memory. A value's buffer passes to a
 *       later node once its last reader ran, unless a backward rule reads it: a training plan (the target
 *       depends on a parameter) keeps exactly the values its backward rules declare they read
 *       ({@link Operation#backwardReadsInput}, {@link Operation#backwardReadsOutput}); a forward-only plan
 *       (prediction) keeps none but the target and those its caller asks for
 *       ({@link #forward(Node, int, Collection)}). {@link #value(Node)} refuses a value whose buffer was passed
 *       on, and {@link #valueAtLastBackward} reads the kept values of the pass the gradients come from, whatever
 *       ran since. Operations get an {@link OpContext} for workspace, the
 *       train/eval flag and the counter-based random stream. At most {@link #maxPlans(int)} plans stay
 *       allocated (least recently used first out).</li>
 *   <li>{@link #backward()} seeds {@code d target = 1} (once per plan when the target's rule leaves its gradient
 *       alone, {@link Operation#preservesOutputGradient}) and walks the order in reverse, each operation
 *       applying its backward rule; where a value fans out the contributions add (the first writes,
 *       the others accumulate — decided once, in the plan). An intermediate gradient's buffer is
 *       recycled once its node's rule has run; parameter gradients persist.</li>
 *   <li>The parameters' gradients are then in {@link #gradient(Parameter)} for an optimizer.</li>
 * </ol>
 * Parameters and their gradients live in one parameter arena each ({@link ParameterLayout}). Buffers
 * ({@link Buffer}: running statistics and other non-trainable state) are tensors of their own
 * ({@link #buffer(Buffer)}), outside the arenas: no gradient, no optimizer; a plan hands them to operations as
 * inputs, never recycles them, and only a training forward may update them in place.
 * The executor owns every tensor it allocates, the parameters included, and frees them on
 * {@link #close()}. It never reads device memory itself. Not thread-safe.
 */
public final class Executor implements AutoCloseable {
    private final Graph graph;
    private final Backend backend;
    private final Map<Parameter, Tensor> parameterValues = new IdentityHashMap<>();
    private final Map<Parameter, Tensor> parameterGradients = new IdentityHashMap<>();
    private final Map<Buffer, Tensor> bufferValues = new IdentityHashMap<>();
    private final ParameterLayout layout;
    private final Tensor valueArena;
    private final Tensor gradientArena;
    private final Map<Integer, Map<Input, Tensor>> inputsByBatch = new HashMap<>();
    /** The input tensors {@link #feed} has written at least once: a forward pass refuses to read one it has not. */
    private final Set<Tensor> fed = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<PlanKey, Plan> plans = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<PlanKey, Plan> eldest) {
            if (size() > maxPlans) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }
    };
    private int maxPlans = DEFAULT_MAX_PLANS;
    private final long seed;
    private long forwardCount;
    /** Forward passes run, never set back (unlike {@link #forwardCount}): tells one run of a plan from another. */
    private long forwardRuns;
    private boolean training = true;
    private Plan last;
    /** The plan of the last {@link #backward()}, and that plan's run (its {@link Plan#run}) the backward followed. */
    private Plan lastBackward;
    private long lastBackwardRun;
    private boolean closed;

    /** How many plans (target, batch size) are kept by default before the least recently used one is freed. */
    public static final int DEFAULT_MAX_PLANS = 8;

    /** A plan's key: its target, batch size and the ids of the values it keeps besides ({@link #forward(Node, int, Collection)}). */
    private record PlanKey(int target, int batch, List<Integer> keep) {
    }

    /** One operation's call, its tensors bound when the plan was made. */
    private record Call(OpNode op, OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn,
                        boolean[] accumulate) {
    }

    /** One topological order with its tensors, for one target and batch size. */
    /** What an {@link OpContext} reads of its plan. */
    interface PlanView {
        /** Training mode and a plan that computes gradients. */
        boolean training();

        /** Forward passes run by the executor so far (the random stream's step counter). */
        long forwardCount();
    }

    private final class Plan implements PlanView {
        @Override
        public boolean training() {
            return training && Executor.this.training;
        }

        @Override
        public long forwardCount() {
            return forwardCount;
        }

        final Node target;
        final int batch;
        final Set<Node> keep;
        final List<Node> order;
        /**
         * Values whose buffers this plan passes on to later nodes (or to gradients) once their last reader ran: after
         * a forward pass their tensors may hold another node's value, so {@link #value(Node)} refuses them.
         */
        final Set<Node> passedOn = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        /** The executor's {@link #forwardRuns} when this plan last ran forward (0: never). */
        long run;
        boolean closed;
        final Map<Node, Tensor> values = new IdentityHashMap<>();
        final Map<Node, Tensor> grads = new IdentityHashMap<>();
        final Set<Tensor> owned = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        /** Views made for view operations (reshape): freed with the plan; their roots are never recycled. */
        final List<Tensor> views = new ArrayList<>();
        final Set<Tensor> viewedRoots = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        final Map<Node, OpContext> contexts = new IdentityHashMap<>();
        boolean training;
        /** Whether the target's gradient was seeded when the plan was made ({@link Operation#preservesOutputGradient}). */
        boolean seededOnce;
        /** The forward pass: one call per op node, in topological order, its tensors resolved once. */
        final List<Call> forwardCalls = new ArrayList<>();
        /** The backward pass: one call per op node that needs a gradient, in reverse order. */
        final List<Call> backwardCalls = new ArrayList<>();
        final List<Parameter> unreachedParameters = new ArrayList<>();
        /** The inputs this plan reads, and whether each has been fed for its batch size (checked until it has). */
        final List<Input> inputs = new ArrayList<>();
        boolean inputsFed;
        private final Map<Shape, Deque<Tensor>> free = new HashMap<>();

        Plan(Node target, int batch, Set<Node> keep) {
            this.target = target;
            this.batch = batch;
            this.keep = keep;
            this.order = topologicalOrder(target);
            try {
                plan();
            } catch (RuntimeException e) {
                close(); // a shape mismatch: free what was allocated so far
                throw e;
            }
        }

        private void plan() {
            Map<Node, Boolean> needsGrad = new IdentityHashMap<>();
            for (Node n : order) {
                boolean ng = n instanceof Parameter;
                if (n instanceof OpNode op) {
                    for (int i = 0; i < op.inputs().size(); i++) {
                        ng |= needsGrad.get(op.inputs().get(i)) && op.operation().differentiable(i);
                    }
                }
                needsGrad.put(n, ng);
            }
            training = needsGrad.get(target);
            // Forward values. A value's buffer passes to a later node once its last forward reader has run,
            // unless a backward rule reads it (Operation#backwardReadsInput / backwardReadsOutput): a training
            // plan keeps exactly those values (and the target), a forward-only plan none.
            Set<Node> saved = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            saved.add(target);
            Set<Node> inOrder = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            inOrder.addAll(order);
            for (Node n : keep) {
                if (!inOrder.contains(n)) {
                    throw new IllegalArgumentException("node " + n + " is not computed on the way to " + target
                            + ", so a forward pass to it cannot keep it");
                }
                saved.add(n);
            }
            if (training) {
                for (Node n : order) {
                    if (n instanceof OpNode op && needsGrad.get(n)) {
                        for (int i = 0; i < op.inputs().size(); i++) {
                            if (op.operation().backwardReadsInput(i)) {
                                saved.add(op.inputs().get(i));
                            }
                        }
                        if (op.operation().backwardReadsOutput()) {
                            saved.add(n);
                        }
                    }
                }
            }
            Map<Node, Integer> lastUse = new IdentityHashMap<>();
            for (int k = 0; k < order.size(); k++) {
                for (Node in : order.get(k).inputs()) {
                    lastUse.put(in, k);
                }
            }
            for (int k = 0; k < order.size(); k++) {
                Node n = order.get(k);
                if (n instanceof Input in) {
                    values.put(n, inputTensor(in, batch));
                    inputs.add(in);
                } else if (n instanceof Parameter p) {
                    values.put(n, parameterValues.get(p));
                } else if (n instanceof Buffer buf) {
                    values.put(n, bufferValues.get(buf)); // never released: only op outputs are plan-owned
                } else {
                    OpNode op = (OpNode) n;
                    List<Shape> shapes = new ArrayList<>();
                    for (Node in : op.inputs()) {
                        shapes.add(values.get(in).shape());
                    }
                    Shape outShape = op.operation().outputShape(shapes);
                    OpContext ctx = new OpContext(backend, this, randomKey(n.id()));
                    contexts.put(n, ctx);
                    if (op.operation().viewOfInput()) {
                        Tensor base = values.get(op.inputs().get(0));
                        Tensor view = base.reshape(outShape);
                        views.add(view);
                        viewedRoots.add(base.root());
                        values.put(n, view);
                    } else {
                        values.put(n, acquire(outShape));
                        forwardCalls.add(new Call(op, ctx, tensorsOf(op.inputs()), values.get(n), null, null, null));
                    }
                    for (Node in : new java.util.LinkedHashSet<>(op.inputs())) {
                        if (in instanceof OpNode && !saved.contains(in) && lastUse.get(in) == k && release(values.get(in))) {
                            passedOn.add(in);
                        }
                    }
                }
            }
            if (!training) {
                return;
            }
            // Gradients and the accumulate pattern, in backward order. A node's gradient buffer lives from
            // its first contribution to its own backward rule, then serves another node.
            Map<Node, Boolean> written = new IdentityHashMap<>();
            // A target whose rule leaves its gradient alone is seeded once, here, in a buffer of its own: a recycled
            // one would be overwritten by the next forward pass, and the seed is never recycled either.
            seededOnce = target instanceof OpNode t && t.operation().preservesOutputGradient();
            if (seededOnce) {
                Tensor seed = backend.allocate(values.get(target).shape());
                owned.add(seed);
                backend.fill(seed, 1f);
                grads.put(target, seed);
            } else {
                grads.put(target, gradTensor(target));
            }
            written.put(target, true);
            for (int k = order.size() - 1; k >= 0; k--) {
                if (!(order.get(k) instanceof OpNode op) || !grads.containsKey(op)) {
                    continue;
                }
                boolean[] acc = new boolean[op.inputs().size()];
                for (int i = 0; i < acc.length; i++) {
                    Node in = op.inputs().get(i);
                    if (needsGrad.get(in) && op.operation().differentiable(i)) {
                        grads.computeIfAbsent(in, this::gradTensor);
                        acc[i] = written.containsKey(in);
                        written.put(in, true);
                    }
                }
                Tensor[] dIn = new Tensor[acc.length];
                for (int i = 0; i < acc.length; i++) {
                    Node in = op.inputs().get(i);
                    dIn[i] = needsGrad.get(in) && op.operation().differentiable(i) ? grads.get(in) : null;
                }
                backwardCalls.add(new Call(op, contexts.get(op), tensorsOf(op.inputs()), values.get(op), grads.get(op), dIn,
                        acc));
                if (!(seededOnce && op == target)) {
                    release(grads.get(op));
                }
            }
            for (Parameter p : graph.parameters()) {
                if (!written.containsKey(p)) {
                    unreachedParameters.add(p);
                }
            }
        }

        private Tensor[] tensorsOf(List<Node> nodes) {
            Tensor[] t = new Tensor[nodes.size()];
            for (int i = 0; i < t.length; i++) {
                t[i] = values.get(nodes.get(i));
            }
            return t;
        }

        private Tensor gradTensor(Node n) {
            return n instanceof Parameter p ? parameterGradients.get(p) : acquire(values.get(n).shape());
        }

        /** A buffer of this shape: a released one of this plan, or a new one. */
        private Tensor acquire(Shape shape) {
            Deque<Tensor> q = free.get(shape);
            Tensor t = q == null ? null : q.poll();
            if (t == null) {
                t = backend.allocate(shape);
                owned.add(t);
            }
            return t;
        }

        /** Hands a plan-owned buffer to later nodes (parameters and inputs are never released); whether it did. */
        private boolean release(Tensor t) {
            if (owned.contains(t) && !viewedRoots.contains(t)) {
                free.computeIfAbsent(t.shape(), s -> new ArrayDeque<>()).push(t);
                return true;
            }
            return false;
        }

        /** Why {@code node}'s value is not readable after this plan's forward pass, or null when it is. */
        String unreadable(Node node) {
            if (!passedOn.contains(node)) {
                return null;
            }
            return "the value of node " + node + " was not kept by the forward pass to " + target + " (batch " + batch
                    + "): its buffer went to a later node" + (training ? "" : " (a forward-only pass keeps only its target"
                    + " and the nodes asked for with forward(target, batch, keep))");
        }

        void close() {
            closed = true;
            contexts.values().forEach(OpContext::close);
            views.forEach(Tensor::close);
            for (Tensor t : owned) {
                t.close();
            }
        }
    }

    /**
     * Allocates and initializes every parameter of {@code graph} on {@code backend}, in one parameter arena
     * ({@link ParameterLayout}): one buffer of values and one of gradients, each parameter a view into
     * them. Parameters draw their initial values in creation order from one stream seeded by {@code seed};
     * the arena is uploaded in one transfer. Buffers ({@link Graph#buffers()}) are then allocated one tensor
     * each and filled from their initializers (drawing after the parameters, so adding a buffer leaves the
     * parameters' initial values as they were).
     */
    public Executor(Graph graph, Backend backend, long seed) {
        if (graph == null || backend == null) {
            throw new IllegalArgumentException("executor: " + (graph == null ? "graph" : "backend") + " is null");
        }
        this.graph = graph;
        this.backend = backend;
        this.seed = seed;
        this.layout = new ParameterLayout(graph.parameters(), backend.viewAlignment());
        SplittableRandom root = new SplittableRandom(seed);
        float[] host = new float[layout.size()];
        for (Parameter p : graph.parameters()) {
            float[] init = new float[p.shape().size()];
            int fanIn = p.shape().rank() >= 2 ? p.shape().rows() : 1;
            int fanOut = p.shape().cols();
            p.initializer().fill(init, fanIn, fanOut, root.split());
            System.arraycopy(init, 0, host, layout.offset(p), init.length);
        }
        Tensor values = backend.fromHost(Shape.of(layout.size()), host);
        Tensor grads = null;
        try {
            grads = backend.allocate(Shape.of(layout.size()));
            for (Parameter p : graph.parameters()) {
                parameterValues.put(p, view(values, p));
                parameterGradients.put(p, view(grads, p));
            }
        } catch (RuntimeException e) {
            values.close();
            if (grads != null) {
                grads.close();
            }
            throw e;
        }
        this.valueArena = values;
        this.gradientArena = grads;
        try {
            for (Buffer b : graph.buffers()) {
                float[] init = new float[b.shape().size()];
                b.initializer().fill(init, 1, 1, root.split());
                bufferValues.put(b, backend.fromHost(b.shape(), init));
            }
        } catch (RuntimeException e) {
            bufferValues.values().forEach(Tensor::close);
            values.close();
            grads.close();
            throw e;
        }
    }

    /** {@code p}'s view into an arena-shaped tensor ({@link #layout()}): values, gradients or optimizer state. */
    public Tensor view(Tensor arena, Parameter p) {
        if (arena.rank() != 1 || arena.size() != layout.size()) {
            throw new IllegalArgumentException("arena " + arena.shape() + " does not have this executor's layout of "
                    + layout.size() + " floats (a tensor [" + layout.size() + "])");
        }
        int at = layout.offset(p);
        return arena.slice(at, at + p.shape().size()).reshape(p.shape());
    }

    /** Where each parameter lives in the arenas. */
    public ParameterLayout layout() {
        return layout;
    }

    /** Every parameter value in one tensor {@code [layout().size()]} (each {@link #value(Parameter)} is a view). */
    public Tensor parameterArena() {
        ensureOpen();
        return valueArena;
    }

    /** Every parameter gradient in one tensor {@code [layout().size()]}, laid out as {@link #parameterArena()}. */
    public Tensor gradientArena() {
        ensureOpen();
        return gradientArena;
    }

    /** The graph this executor runs. */
    public Graph graph() {
        return graph;
    }

    /** The backend that holds this executor's tensors and runs its kernels. */
    public Backend backend() {
        return backend;
    }

    /** The tensor holding a parameter's current value (owned by this executor). */
    public Tensor value(Parameter p) {
        return check(parameterValues.get(p), p);
    }

    /** The tensor holding a parameter's gradient after {@link #backward()} (owned by this executor). */
    public Tensor gradient(Parameter p) {
        return check(parameterGradients.get(p), p);
    }

    /**
     * The tensor holding a buffer's current value (owned by this executor; e.g. batch norm's running mean). Read
     * it with {@link Tensor#download()}; writing it (a checkpoint restore) is allowed between steps.
     */
    public Tensor buffer(Buffer b) {
        ensureOpen();
        Tensor t = bufferValues.get(b);
        if (t == null) {
            throw new IllegalArgumentException("node " + b + " is not a buffer of this executor's graph");
        }
        return t;
    }

    /** The graph's buffers in creation order ({@link Graph#buffers()}), each held in {@link #buffer(Buffer)}. */
    public List<Buffer> buffers() {
        return graph.buffers();
    }

    private Tensor check(Tensor t, Node n) {
        ensureOpen();
        if (t == null) {
            throw new IllegalArgumentException("node " + n + " is not a parameter of this executor's graph");
        }
        return t;
    }

    /**
     * Uploads {@code rows} samples of {@code input}, starting at sample {@code firstRow} of
     * {@code data} (row-major, {@code input.columns()} values per sample), into the tensor used by
     * plans of batch size {@code rows}.
     *
     * @throws IllegalArgumentException when {@code input} belongs to another graph, or the rows do not fit in
     *                                  {@code data}
     */
    public void feed(Input input, float[] data, int firstRow, int rows) {
        ensureOpen();
        if (input == null || data == null) {
            throw new IllegalArgumentException("feed: " + (input == null ? "input" : "data for '" + input.name() + "'")
                    + " is null");
        }
        if (input.graph() != graph) {
            throw new IllegalArgumentException("feed: input " + input + " belongs to another graph");
        }
        long end = ((long) firstRow + rows) * input.columns();
        if (firstRow < 0 || rows <= 0 || end > data.length) {
            throw new IllegalArgumentException("feed '" + input.name() + "': rows [" + firstRow + ", "
                    + ((long) firstRow + rows) + ") of " + input.columns() + " values each do not fit in an array of "
                    + data.length);
        }
        Tensor t = inputTensor(input, rows);
        backend.upload(data, firstRow * input.columns(), t, 0, rows * input.columns());
        fed.add(t);
    }

    /**
     * Uploads {@code rows} samples of {@code input} given as rows of unsigned bytes, sample {@code r} the
     * {@code input.columns()} bytes of {@code src} from {@code offsets[r]}, each byte {@code b} the value
     * {@code (b & 0xff) / divisor}, into the tensor used by plans of batch size {@code rows}
     * ({@link Backend#uploadByteRows}: gathered and converted in one pass).
     *
     * @throws IllegalArgumentException  when {@code input} belongs to another graph, an array is null, {@code rows}
     *                                   is not positive or {@code offsets} has fewer than {@code rows} entries
     * @throws IndexOutOfBoundsException when a row lies outside {@code src}
     */
    public void feedBytes(Input input, byte[] src, int[] offsets, int rows, float divisor) {
        ensureOpen();
        if (input == null || src == null || offsets == null) {
            throw new IllegalArgumentException("feedBytes: " + (input == null ? "input" : (src == null ? "source bytes"
                    : "row offsets") + " for '" + input.name() + "'") + " is null");
        }
        if (input.graph() != graph) {
            throw new IllegalArgumentException("feedBytes: input " + input + " belongs to another graph");
        }
        if (rows <= 0 || rows > offsets.length) {
            throw new IllegalArgumentException("feedBytes '" + input.name() + "': " + rows + " rows with "
                    + offsets.length + " row offsets");
        }
        Tensor t = inputTensor(input, rows);
        backend.uploadByteRows(src, offsets, rows, input.columns(), divisor, t, 0);
        fed.add(t);
    }

    private Tensor inputTensor(Input in, int batch) {
        return inputsByBatch.computeIfAbsent(batch, b -> new IdentityHashMap<>())
                .computeIfAbsent(in, i -> backend.allocate(i.sampleShape().prepend(batch)));
    }

    /**
     * Computes {@code target} for a batch of {@code batch} samples (already fed); returns its tensor.
     *
     * @throws IllegalArgumentException when {@code batch < 1} or {@code target} belongs to another graph
     * @throws IllegalStateException    when an input the target depends on was never fed a batch of {@code batch}
     *                                  (its tensor would still hold zeros)
     */
    public Tensor forward(Node target, int batch) {
        return forward(target, batch, List.of());
    }

    /**
     * Computes {@code target} as {@link #forward(Node, int)} does, and keeps the values of {@code keep} (nodes
     * computed on the way to it) readable by {@link #value(Node)} afterwards: a forward-only plan otherwise passes
     * every buffer but the target's on to later nodes. Each set of kept nodes is a plan of its own (see
     * {@link #maxPlans}).
     *
     * @throws IllegalArgumentException when a kept node is not an ancestor of {@code target}
     */
    public Tensor forward(Node target, int batch, Collection<? extends Node> keep) {
        ensureOpen();
        if (target == null) {
            throw new IllegalArgumentException("forward: the target is null");
        }
        if (target.graph() != graph) {
            throw new IllegalArgumentException("node " + target + " belongs to another graph");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("forward to " + target + ": the batch size must be at least 1, got " + batch);
        }
        Set<Node> kept = keep.isEmpty() ? Set.of() : java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Node n : keep) {
            if (n.graph() != graph) {
                throw new IllegalArgumentException("node " + n + " belongs to another graph");
            }
            if (n instanceof OpNode) { // inputs, parameters and buffers are never passed on
                kept.add(n);
            }
        }
        // a training step keeps nothing extra: no set or key list is built for it
        List<Integer> keepIds = kept.isEmpty() ? List.of() : kept.stream().map(Node::id).sorted().toList();
        PlanKey key = new PlanKey(target.id(), batch, keepIds);
        Plan plan = plans.get(key);
        if (plan == null) {
            // refuse an unfed input before the new plan pushes the least recently used one (maybe the last pass's) out
            for (Node n : topologicalOrder(target)) {
                if (n instanceof Input in) {
                    Map<Input, Tensor> fedForBatch = inputsByBatch.get(batch);
                    Tensor t = fedForBatch == null ? null : fedForBatch.get(in);
                    if (t == null || !fed.contains(t)) {
                        throw notFed(target, in, batch);
                    }
                }
            }
            plan = new Plan(target, batch, kept);
            plans.put(key, plan);
        }
        if (!plan.inputsFed) {
            for (Input in : plan.inputs) {
                if (!fed.contains(plan.values.get(in))) {
                    throw notFed(target, in, batch);
                }
            }
            plan.inputsFed = true;
        }
        forwardCount++;
        plan.run = ++forwardRuns;
        for (Call c : plan.forwardCalls) {
            c.ctx().beginForward();
            c.op().operation().forward(c.ctx(), c.in(), c.out());
        }
        last = plan;
        return plan.values.get(target);
    }

    private static IllegalStateException notFed(Node target, Input in, int batch) {
        return new IllegalStateException("forward to " + target + ": input '" + in.name() + "' was never fed a batch of "
                + batch + " (feed it before the forward pass)");
    }

    /**
     * The plan of the last forward pass, or an {@link IllegalStateException} naming {@code op} when none ran or its
     * plan was freed since (a later forward pass that failed had made room for its own plan).
     */
    private Plan lastPlan(String op) {
        Plan plan = last;
        if (plan == null) {
            throw new IllegalStateException(op + " needs a forward() first");
        }
        if (plan.closed) {
            throw new IllegalStateException(op + ": the plan of the last forward pass (to " + plan.target + ", batch "
                    + plan.batch + ") was freed to make room for another (maxPlans " + maxPlans + "), whose forward"
                    + " pass failed; run forward again");
        }
        return plan;
    }

    /**
     * Backpropagates from the target of the last {@link #forward}: {@code d target = 1} (a scalar loss,
     * or the sum of a non-scalar target). Parameters the target does not depend on get zero gradients.
     *
     * @throws IllegalStateException when no forward pass ran, or the last one's target depends on no parameter (it
     *                               has no gradients; the previous ones would be left in place)
     */
    public void backward() {
        ensureOpen();
        Plan plan = lastPlan("backward()");
        if (!plan.training) {
            throw new IllegalStateException("backward: the last forward pass (to " + plan.target + ", batch " + plan.batch
                    + ") depends on no parameter, so it has no gradients; run forward to a loss first");
        }
        Tensor seed = plan.grads.get(plan.target);
        if (seed != null && !plan.seededOnce) {
            backend.fill(seed, 1f);
        }
        for (Call c : plan.backwardCalls) {
            c.ctx().beginBackward();
            c.op().operation().backward(c.ctx(), c.in(), c.out(), c.dOut(), c.dIn(), c.accumulate());
        }
        for (Parameter p : plan.unreachedParameters) {
            backend.fill(parameterGradients.get(p), 0f);
        }
        lastBackward = plan;
        lastBackwardRun = plan.run;
    }

    /**
     * The value of {@code node} computed by the last {@link #forward} (which must have included it). After
     * a training plan the target's value and every value a backward rule reads are kept (the others' buffers
     * may have been passed on, see {@link Operation#backwardReadsInput}); after a forward-only plan, only the
     * target's and those asked for with {@link #forward(Node, int, Collection)} are.
     *
     * @throws IllegalStateException when the last forward pass did not compute {@code node}, or passed its buffer on
     *                               to a later node (it may hold another node's value by now)
     */
    public Tensor value(Node node) {
        ensureOpen();
        ownNode("value", node);
        if (node instanceof Parameter p) {
            return value(p);
        }
        if (node instanceof Buffer b) {
            return buffer(b);
        }
        Tensor t = last == null ? null : last.values.get(node);
        if (t == null) {
            throw new IllegalStateException("node " + node + " was not computed by the last forward pass");
        }
        lastPlan("value(" + node + ")");
        String why = last.unreadable(node);
        if (why != null) {
            throw new IllegalStateException(why);
        }
        return t;
    }

    /**
     * The value of {@code node} (an operation's output) as computed by the forward pass that the last
     * {@link #backward()} followed: the activations the current gradients come from, whatever forward passes to other
     * targets or batch sizes (predictions, say) ran since. Only values that plan keeps are readable: the target's and
     * those a backward rule reads ({@link Operation#backwardReadsOutput}), such as the outputs of ReLU, sigmoid and
     * tanh layers.
     *
     * @throws IllegalArgumentException when {@code node} is an input, parameter or buffer (their tensors are not a
     *                                  plan's: read them with {@link #value(Node)})
     * @throws IllegalStateException    when no backward pass ran yet, when that plan has run a forward pass again since
     *                                  (its values are then that pass's) or was freed, or when it did not keep
     *                                  {@code node}'s value
     */
    public Tensor valueAtLastBackward(Node node) {
        ensureOpen();
        ownNode("valueAtLastBackward", node);
        if (!(node instanceof OpNode)) {
            throw new IllegalArgumentException("node " + node + " is not an operation's output; read it with value(node)");
        }
        Plan plan = lastBackward;
        if (plan == null) {
            throw new IllegalStateException("no backward pass has run yet, so there are no values of one to read");
        }
        if (plan.closed) {
            throw new IllegalStateException("the values of the last backward pass are gone: its plan (" + plan.target
                    + ", batch " + plan.batch + ") was freed to make room for others (maxPlans " + maxPlans + ")");
        }
        if (plan.run != lastBackwardRun) {
            throw new IllegalStateException("the values of the last backward pass are gone: a forward pass to "
                    + plan.target + " with batch " + plan.batch + " without a backward ran since");
        }
        Tensor t = plan.values.get(node);
        if (t == null) {
            throw new IllegalStateException("node " + node + " was not computed by the last backward pass's forward"
                    + " pass (to " + plan.target + ")");
        }
        String why = plan.unreadable(node);
        if (why != null) {
            throw new IllegalStateException(why);
        }
        return t;
    }

    /**
     * Training mode (the default) or evaluation mode, as PyTorch's {@code module.train()} / {@code eval()}:
     * operations read it through {@link OpContext#training()}, which is also false in any plan that computes
     * no gradients.
     */
    public Executor train(boolean on) {
        this.training = on;
        return this;
    }

    /**
     * Forward passes run so far: the position of the counter-based random stream (dropout's masks). A checkpoint
     * that records it and gives it back to {@link #setForwardCount} resumes with the masks an uninterrupted run
     * would have drawn.
     */
    public long forwardCount() {
        return forwardCount;
    }

    /** Restores the random stream's position ({@link #forwardCount()}), e.g. when resuming from a checkpoint; &gt;= 0. */
    public void setForwardCount(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("forward count must be >= 0: " + count);
        }
        this.forwardCount = count;
    }

    /** Whether the executor is in training mode ({@link #train(boolean)}). */
    public boolean isTraining() {
        return training;
    }

    /**
     * Bounds the plan cache: at most {@code max} plans (one per target and batch size) stay allocated; using
     * another frees the least recently used one, and lowering the bound frees those beyond it at once. Default
     * {@value #DEFAULT_MAX_PLANS}.
     */
    public Executor maxPlans(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("the plan cache needs room for at least 1 plan, got " + max);
        }
        this.maxPlans = max;
        // free the least recently used plans beyond the new bound now (a new plan pushes out only one)
        var it = plans.values().iterator();
        while (plans.size() > max) {
            Plan p = it.next();
            it.remove();
            p.close();
        }
        return this;
    }

    /** Plans currently allocated (for tests and diagnostics). */
    public int planCount() {
        return plans.size();
    }

    /** Batch size of the last forward pass. */
    public int lastBatch() {
        return last == null ? 0 : last.batch;
    }

    /** The random stream's key of node {@code id}: the seed and the node mixed by SplitMix64's finalizer. */
    private long randomKey(int id) {
        long z = seed + 0x9E3779B97F4A7C15L * (id + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Ancestors of {@code target} (itself included), inputs before users: an iterative post-order DFS. */
    static List<Node> topologicalOrder(Node target) {
        List<Node> order = new ArrayList<>();
        Map<Node, Boolean> state = new IdentityHashMap<>(); // false: on the stack, true: done
        Deque<Node> stack = new ArrayDeque<>();
        Deque<Integer> next = new ArrayDeque<>();
        stack.push(target);
        next.push(0);
        state.put(target, false);
        while (!stack.isEmpty()) {
            Node n = stack.peek();
            int i = next.pop();
            if (i < n.inputs().size()) {
                next.push(i + 1);
                Node child = n.inputs().get(i);
                Boolean s = state.get(child);
                if (s == null) {
                    state.put(child, false);
                    stack.push(child);
                    next.push(0);
                } else if (!s) {
                    throw new IllegalStateException("graph has a cycle through " + child);
                }
            } else {
                stack.pop();
                state.put(n, true);
                order.add(n);
            }
        }
        return order;
    }

    /** {@code node} is not null and belongs to this executor's graph, or an {@link IllegalArgumentException}. */
    private void ownNode(String op, Node node) {
        if (node == null) {
            throw new IllegalArgumentException(op + ": the node is null");
        }
        if (node.graph() != graph) {
            throw new IllegalArgumentException(op + ": node " + node + " belongs to another graph");
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("executor is closed");
        }
    }

    /** Frees every tensor this executor allocated (plans, inputs, parameters, gradients, buffers). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Plan p : plans.values()) {
            p.close();
        }
        plans.clear();
        lastBackward = null;
        for (Map<Input, Tensor> m : inputsByBatch.values()) {
            m.values().forEach(Tensor::close);
        }
        inputsByBatch.clear();
        fed.clear();
        valueArena.close(); // closes every parameter's view
        gradientArena.close();
        bufferValues.values().forEach(Tensor::close);
        bufferValues.clear();
        last = null;
    }
}
