package dev.jacobian.graph;

import dev.jacobian.backend.Checks;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each parameter of a graph lives in the executor's <em>parameter arena</em>: one contiguous buffer
 * for all parameter values, one of the same layout for all gradients (and, in an optimizer, one per kind
 * of state), every parameter a view into it.
 *
 * <p>Regularized parameters (weights) come first, then the others (biases, slopes), each group in creation
 * order; every parameter starts at a multiple of the backend's view alignment
 * ({@link dev.jacobian.backend.Backend#viewAlignment()}), and the gaps are zeros that no kernel writes, so
 * a reduction or an update over the whole arena sees exactly the parameters. So the global gradient norm is
 * one reduction over the gradient arena, an optimizer step one fused update over the arena with weight
 * decay on its prefix {@code [0, regularizedEnd())}, and a data-parallel all-reduce moves one buffer.
 */
public final class ParameterLayout {
    private final List<Parameter> order;
    private final Map<Parameter, Integer> offsets = new IdentityHashMap<>();
    private final int regularizedEnd;
    private final int size;

    ParameterLayout(List<Parameter> parameters, int alignment) {
        if (alignment < 1) {
            throw new IllegalArgumentException("alignment must be at least 1 float, got " + alignment);
        }
        List<Parameter> o = new ArrayList<>();
        for (Parameter p : parameters) {
            if (p.regularized()) {
                o.add(p);
            }
        }
        int firstUnregularized = o.size();
        for (Parameter p : parameters) {
            if (!p.regularized()) {
                o.add(p);
            }
        }
        long at = 0;
        long regEnd = 0;
        for (int i = 0; i < o.size(); i++) {
            if (i == firstUnregularized) {
                regEnd = at;
            }
            offsets.put(o.get(i), (int) at);
            at = align(at + o.get(i).shape().size(), alignment);
            if (at > Checks.MAX_ARRAY_LENGTH) {
                throw new IllegalArgumentException("the parameters need more than 2^31 floats: " + at);
            }
        }
        this.order = Collections.unmodifiableList(o);
        this.size = (int) Math.max(at, 1);
        this.regularizedEnd = (int) (firstUnregularized == o.size() ? at : regEnd);
    }

    private static long align(long x, int a) {
        return (x + a - 1) / a * a;
    }

    /** The parameters in arena order: regularized first. */
    public List<Parameter> order() {
        return order;
    }

    /** Offset in floats of {@code p}'s first element in the arena. */
    public int offset(Parameter p) {
        Integer o = offsets.get(p);
        if (o == null) {
            throw new IllegalArgumentException("parameter " + p + " is not in this layout");
        }
        return o;
    }

    /**
     * End of the regularized prefix: elements {@code [0, regularizedEnd())} belong to regularized parameters
     * (and their alignment gaps), the rest to the others.
     */
    public int regularizedEnd() {
        return regularizedEnd;
    }

    /** Floats in the arena, gaps included (at least 1). */
    public int size() {
        return size;
    }

    @Override
    public String toString() {
        return "ParameterLayout[" + order.size() + " parameters, " + size + " floats, regularized prefix "
                + regularizedEnd + "]";
    }
}
