package dev.jacobian.nn;

import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import java.util.List;

/**
 * A layer, or a network of layers: it owns its parameters and builds its computation as a graph fragment.
 *
 * <p>{@link #forward(Node)} adds this module's nodes to the input's {@link dev.jacobian.graph.Graph} — on the
 * first call it also creates its parameters there (a module belongs to one graph) — and returns the output
 * node; the executor then runs the fragment forward and backward like any other nodes. Train and eval
 * behaviour is not a module field: operations read the executor's mode
 * ({@link dev.jacobian.graph.OpContext#training()}, set by {@link Model#train()} / {@link Model#eval()}), so
 * dropout or batch norm inside any module follow the model.
 *
 * <p>Modules: {@link Modules#dense}, the activations ({@link Modules#activation}), {@link Modules#prelu},
 * {@link Modules#maxout}, {@link Modules#flatten}, {@link Modules#dropout}, {@link Modules#batchNorm},
 * {@link Modules#layerNorm}, and {@link Sequential#of} over any of them; a model of any
 * module is {@link Model#of}.
 */
public interface Module {
    /** Adds this module's nodes after {@code x} (creating its parameters on first use) and returns the output. */
    Node forward(Node x);

    /** The parameters this module has created so far, in creation order (empty before the first forward). */
    List<Parameter> parameters();

    /**
     * The non-trainable buffers this module has created so far, in creation order (batch norm's
     * {@code <name>.running_mean}, {@code <name>.running_var}, {@code <name>.num_batches_tracked}, PyTorch's
     * names); empty for most modules.
     */
    default List<Buffer> buffers() {
        return List.of();
    }

    /** A short description, e.g. {@code dense(784->256)}. */
    String describe();

    /**
     * What this module is, as data ({@link ModuleSpec}), so that a model file can build it again
     * ({@link Modules#fromSpec}). Every module of {@link Modules} and {@link Sequential} has one; the default, for a
     * module of the user's own, is {@link ModuleSpec#custom}: its weights are saved, but loading needs the module
     * built by the caller ({@link dev.jacobian.io.ModelFile#loadWeights}).
     */
    default ModuleSpec spec() {
        return ModuleSpec.custom(this);
    }
}
