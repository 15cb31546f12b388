package dev.jacobian.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link Module} is, as data: its type, its options and its children, enough to build it again
 * ({@link Modules#fromSpec}) — the architecture a model file stores beside the weights
 * ({@link dev.jacobian.io.ModelFile}). Option values are JSON's: {@link String}, {@link Boolean}, {@link Long} or
 * {@link Integer}, {@link Double} or {@link Float}, and lists of them; the accessors convert and check them.
 *
 * <p>Types: {@code dense}, {@code activation}, {@code prelu}, {@code maxout}, {@code dropout}, {@code batch_norm},
 * {@code layer_norm}, {@code flatten}, {@code conv2d}, {@code pool2d}, {@code global_avg_pool}, {@code sequential}
 * (children only); a whole model is {@code model} (one child) or {@code mlp} ({@link Sequential#builder}). A module
 * of the user's own is {@value #CUSTOM}: its weights can be saved, but it cannot be built from the file.
 *
 * @param type     the module's type
 * @param options  its options, in a fixed order
 * @param children the modules it chains, in order (empty for a single layer)
 */
public record ModuleSpec(String type, Map<String, Object> options, List<ModuleSpec> children) {
    /** The type of a module that is not one of {@link Modules}' (its {@link Module#spec()} was not overridden). */
    public static final String CUSTOM = "custom";

    /** Copies the options (keeping their order) and the children; nulls are an {@link IllegalArgumentException}. */
    public ModuleSpec {
        if (type == null || options == null || children == null) {
            throw new IllegalArgumentException("a module spec needs a type, options and children");
        }
        options = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(options));
        children = List.copyOf(children);
    }

    /** A spec without children; {@code keyValues} alternate names and values. */
    public static ModuleSpec of(String type, Object... keyValues) {
        Map<String, Object> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            options.put((String) keyValues[i], keyValues[i + 1]);
        }
        return new ModuleSpec(type, options, List.of());
    }

    /** The spec of a module of the user's own: type {@value #CUSTOM}, its class and its description. */
    public static ModuleSpec custom(Module m) {
        return of(CUSTOM, "class", m.getClass().getName(), "description", m.describe());
    }

    /** Whether this spec or any child is {@value #CUSTOM}: such an architecture cannot be built from data. */
    public boolean hasCustom() {
        return type.equals(CUSTOM) || children.stream().anyMatch(ModuleSpec::hasCustom);
    }

    private Object get(String name) {
        Object v = options.get(name);
        if (v == null) {
            throw new IllegalArgumentException(type + ": option '" + name + "' is missing");
        }
        return v;
    }

    /** The option {@code name} as a string. */
    public String text(String name) {
        if (get(name) instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException(type + ": option '" + name + "' is not a string: " + get(name));
    }

    /** The option {@code name} as an int (an integral number within int's range). */
    public int integer(String name) {
        return toInt(name, get(name));
    }

    /** The option {@code name} as a long. */
    public long longInteger(String name) {
        if (get(name) instanceof Long l) {
            return l;
        }
        if (get(name) instanceof Integer i) {
            return i;
        }
        throw new IllegalArgumentException(type + ": option '" + name + "' is not an integer: " + get(name));
    }

    /** The option {@code name} as a finite number. */
    public double number(String name) {
        if (get(name) instanceof Number n && !(n instanceof java.math.BigDecimal) && Double.isFinite(n.doubleValue())) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException(type + ": option '" + name + "' is not a finite number: " + get(name));
    }

    /** The option {@code name} as a boolean. */
    public boolean flag(String name) {
        if (get(name) instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException(type + ": option '" + name + "' is not true or false: " + get(name));
    }

    /** The option {@code name} as a list of ints. */
    public int[] integers(String name) {
        if (!(get(name) instanceof List<?> list)) {
            throw new IllegalArgumentException(type + ": option '" + name + "' is not a list: " + get(name));
        }
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = toInt(name, list.get(i));
        }
        return out;
    }

    /** The option {@code name} as a list of specs' option maps (e.g. the {@code mlp}'s hidden layers). */
    public List<ModuleSpec> list(String name) {
        if (!(get(name) instanceof List<?> list)) {
            throw new IllegalArgumentException(type + ": option '" + name + "' is not a list: " + get(name));
        }
        List<ModuleSpec> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(type + ": option '" + name + "' holds " + o + ", not an object");
            }
            Map<String, Object> options = new LinkedHashMap<>();
            m.forEach((k, v) -> options.put(String.valueOf(k), v));
            out.add(new ModuleSpec(name, options, List.of()));
        }
        return out;
    }

    private int toInt(String name, Object v) {
        long l;
        if (v instanceof Integer i) {
            l = i;
        } else if (v instanceof Long x) {
            l = x;
        } else {
            throw new IllegalArgumentException(type + ": option '" + name + "' is not an integer: " + v);
        }
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(type + ": option '" + name + "' is out of range: " + l);
        }
        return (int) l;
    }
}
