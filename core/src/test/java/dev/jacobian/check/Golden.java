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
}
