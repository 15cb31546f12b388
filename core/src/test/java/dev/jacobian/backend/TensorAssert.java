package dev.jacobian.backend;

import static org.junit.jupiter.api.Assertions.fail;

/** Float array comparison with named tolerances and a message that points at the first bad element. */
public final class TensorAssert {
    private TensorAssert() {
    }

    public static void assertClose(String what, float[] expected, float[] actual, double rtol, double atol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        int bad = 0;
        int first = -1;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok;
            if (Double.isNaN(e) || Double.isNaN(a)) {
                ok = Double.isNaN(e) && Double.isNaN(a);
            } else if (Double.isInfinite(e) || Double.isInfinite(a)) {
                ok = e == a;
            } else {
                double err = Math.abs(a - e);
                ok = err <= atol + rtol * Math.abs(e);
                worst = Math.max(worst, err);
            }
            if (!ok) {
                bad++;
                if (first < 0) {
                    first = i;
                }
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + expected.length + " elements differ; first at [" + first + "]: expected "
                    + expected[first] + ", got " + actual[first] + " (rtol " + rtol + ", atol " + atol
                    + ", worst abs error " + worst + ")");
        }
    }
}
