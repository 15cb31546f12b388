package dev.jacobian.optim;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The device state an optimizer keeps for the executor it updates: the squared global gradient norm (one
 * scalar) and one arena per named state (momentum buffer, first and second moments), each laid out like
 * the executor's parameter arena and zero-filled, with a cached view per parameter. Shared by the
 * optimizers so binding, checkpoint names and freeing are written once.
 */
final class ArenaStates implements AutoCloseable {
    private final String optimizer;
    private final List<String> names;
    /** The states that must be {@code >= 0} (second moments: their square root is taken). */
    private final java.util.Set<String> nonNegative;
    private Executor bound;
    private boolean closed;
    private Tensor normSq;
    private final Map<String, Tensor> arenas = new LinkedHashMap<>();
    private final Map<String, Map<Parameter, Tensor>> views = new HashMap<>();

    /**
     * @param optimizer the optimizer's name, for messages
     * @param names     the state arenas to keep, as PyTorch names them (e.g. {@code "exp_avg"})
     */
    ArenaStates(String optimizer, List<String> names) {
        this(optimizer, names, java.util.Set.of());
    }

    /**
     * @param optimizer   the optimizer's name, for messages
     * @param names       the state arenas to keep, as PyTorch names them (e.g. {@code "exp_avg"})
     * @param nonNegative those of {@code names} whose values must be {@code >= 0} (e.g. {@code "exp_avg_sq"})
     */
    ArenaStates(String optimizer, List<String> names, java.util.Set<String> nonNegative) {
        this.optimizer = optimizer;
        this.names = List.copyOf(names);
        this.nonNegative = java.util.Set.copyOf(nonNegative);
    }

    /** An {@link IllegalStateException} once {@link #close()} ran. */
    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this " + optimizer + " optimizer is closed");
        }
    }

    /** Binds to {@code exec} on first use, allocating the norm scalar and the arenas; another executor later is an error. */
    void bind(Executor exec) {
        ensureOpen();
        if (bound == exec) {
            return;
        }
        if (bound != null) {
            throw new IllegalArgumentException("this " + optimizer + " optimizer already updates another executor's parameters");
        }
        bound = exec;
        Backend b = exec.backend();
        normSq = b.allocate(Shape.scalar());
        for (String name : names) {
            Tensor arena = b.allocate(Shape.of(exec.layout().size()));
            arenas.put(name, arena);
            Map<Parameter, Tensor> byParam = new IdentityHashMap<>();
            for (Parameter p : exec.layout().order()) {
                byParam.put(p, exec.view(arena, p));
            }
            views.put(name, byParam);
        }
    }

    /** Whether {@link #bind} was called with {@code exec}. */
    boolean boundTo(Executor exec) {
        return bound == exec;
    }

    /** The squared global norm of {@code exec}'s gradient arena, reduced on the device into the state's scalar. */
    Tensor reduceNormSq(Executor exec) {
        exec.backend().reduce(Reduction.SUM_SQUARES, Axis.ALL, exec.gradientArena(), normSq, false);
        return normSq;
    }

    /** The arena of state {@code name} (after {@link #bind}). */
    Tensor arena(String name) {
        return arenas.get(name);
    }

    /** The view of state {@code name} for {@code p}, or null before binding. */
    Tensor view(String name, Parameter p) {
        Map<Parameter, Tensor> byParam = views.get(name);
        return byParam == null ? null : byParam.get(p);
    }

    /** Host copies keyed {@code "<parameter>.<state>"}, parameters in arena order; empty unless bound to {@code exec}. */
    Map<String, float[]> download(Executor exec) {
        ensureOpen();
        if (bound != null && bound != exec) {
            throw new IllegalArgumentException("this " + optimizer + " optimizer updates another executor's parameters;"
                    + " it has no state for this one");
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        if (bound == exec) {
            for (Parameter p : exec.layout().order()) {
                for (String name : names) {
                    out.put(p.name() + "." + name, views.get(name).get(p).download());
                }
            }
        }
        return out;
    }

    /**
     * Uploads the entries of {@code state} that name a parameter's state ({@code "<parameter>.<state>"}),
     * binding to {@code exec}; every entry is checked before anything is written. {@code extra} names further
     * per-parameter keys the caller handles itself (e.g. {@code "step"}): they are accepted if they hold one value.
     *
     * @throws IllegalArgumentException naming an unknown key or a wrong size
     */
    void upload(Executor exec, Map<String, float[]> state, String extra) {
        Map<String, Parameter> byKey = check(exec, state, extra);
        bind(exec);
        for (Map.Entry<String, float[]> e : state.entrySet()) {
            Parameter p = byKey.get(e.getKey());
            if (p != null) {
                String name = e.getKey().substring(p.name().length() + 1);
                views.get(name).get(p).upload(e.getValue());
            }
        }
    }

    /**
     * Checks {@code state} as {@link #upload} does, without binding or writing anything.
     *
     * @return the parameter of each per-parameter state key
     */
    Map<String, Parameter> check(Executor exec, Map<String, float[]> state, String extra) {
        ensureOpen();
        Map<String, Parameter> byKey = new HashMap<>();
        for (Parameter p : exec.graph().parameters()) {
            for (String name : names) {
                byKey.put(p.name() + "." + name, p);
            }
        }
        for (Map.Entry<String, float[]> e : state.entrySet()) {
            String key = e.getKey();
            if (extra != null && key.endsWith("." + extra)) {
                if (e.getValue().length != 1) {
                    throw new IllegalArgumentException(optimizer + " state '" + key + "' needs 1 value, got "
                            + e.getValue().length);
                }
                continue;
            }
            Parameter p = byKey.get(key);
            if (p == null) {
                throw new IllegalArgumentException(optimizer + " has no state '" + key + "' (expected <parameter>."
                        + String.join("|", names) + (extra == null ? "" : "|" + extra) + ")");
            }
            checkValues(key, key.substring(p.name().length() + 1), p, e.getValue());
        }
        return byKey;
    }

    /**
     * Checks the values of state {@code name} of {@code p} (under {@code key}): the parameter's size, every value
     * finite, and {@code >= 0} for a second moment; a NaN or negative second moment would make the next step's
     * weights NaN.
     *
     * @throws IllegalArgumentException naming the key, the index and the value
     */
    void checkValues(String key, String name, Parameter p, float[] values) {
        if (values.length != p.shape().size()) {
            throw new IllegalArgumentException(optimizer + " state '" + key + "' needs " + p.shape().size()
                    + " values, got " + values.length);
        }
        int bad = dev.jacobian.backend.Checks.firstNonFinite(values);
        if (bad >= 0) {
            throw new IllegalArgumentException(optimizer + " state '" + key + "': value " + bad + " is " + values[bad]
                    + "; optimizer state must be finite");
        }
        if (nonNegative.contains(name)) {
            for (int i = 0; i < values.length; i++) {
                if (values[i] < 0f) {
                    throw new IllegalArgumentException(optimizer + " state '" + key + "': value " + i + " is "
                            + values[i] + "; a second moment must be >= 0");
                }
            }
        }
    }

    /** Frees the arenas (and their views) and the norm scalar; later use is an {@link IllegalStateException}. */
    @Override
    public void close() {
        closed = true;
        arenas.values().forEach(Tensor::close); // closes the per-parameter views too
        arenas.clear();
        views.clear();
        if (normSq != null) {
            normSq.close();
            normSq = null;
        }
    }
}
