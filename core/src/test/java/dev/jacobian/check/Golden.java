package dev.jacobian.check;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads the golden-value fixtures that the checked-in PyTorch scripts ({@code core/src/test/python}) write to
 * {@code core/src/test/resources/golden}: one record per line, {@code name|shape|values}, values as
 * comma-separated float literals; lines starting with {@code #} are comments.
 */
public final class Golden {
    private Golden() {
    }

    private static final String SHAPE = "#shape";

    /** The records of {@code golden/<file>} on the test class path, by name. */
    public static Map<String, float[]> read(String file) {
        Map<String, float[]> m = new HashMap<>();
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + file)) {
            if (in == null) {
                throw new IllegalStateException("golden/" + file + " is missing from the test resources");
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\\|", -1);
                if (f.length != 3) {
                    throw new IllegalStateException("golden/" + file + ": not name|shape|values: " + line);
                }
                float[] a;
                if (f[2].isEmpty()) {
                    a = new float[0];
                } else {
                    String[] v = f[2].split(",");
                    a = new float[v.length];
                    for (int i = 0; i < v.length; i++) {
                        a[i] = Float.parseFloat(v[i]);
                    }
                }
                m.put(f[0], a);
                String[] dims = f[1].isEmpty() ? new String[0] : f[1].split(",");
                float[] shape = new float[dims.length];
                for (int i = 0; i < dims.length; i++) {
                    shape[i] = Integer.parseInt(dims[i]);
                }
                m.put(f[0] + SHAPE, shape);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    /** The record {@code name} of {@code records}; a missing one fails with its name. */
    public static float[] get(Map<String, float[]> records, String name) {
        float[] v = records.get(name);
        if (v == null) {
            throw new IllegalStateException("no golden record '" + name + "'");
        }
        return v;
    }

    /** The shape recorded with {@code name} (its dimensions, as the script wrote them). */
    public static dev.jacobian.tensor.Shape shape(Map<String, float[]> records, String name) {
        float[] d = get(records, name + SHAPE);
        int[] dims = new int[d.length];
        for (int i = 0; i < d.length; i++) {
            dims[i] = (int) d[i];
        }
        return dev.jacobian.tensor.Shape.of(dims);
    }
}
