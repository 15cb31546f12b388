package dev.jacobian.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import org.junit.jupiter.api.function.Executable;

/**
 * What the misuse tests share: a small model, and assertions on an exception's type and its message (exact, or one
 * line holding given parts).
 */
public final class MisuseAssertions {
    private MisuseAssertions() {
    }

    /** A 4-3(relu)-2 softmax cross-entropy MLP on {@code b}. */
    public static Model mlp(Backend b) {
        return Sequential.builder(4).hidden(3, "relu").output(2, LossKind.SOFTMAX_CROSS_ENTROPY).build(b);
    }

    /** {@code call} throws a {@code type} whose message is exactly {@code message}. */
    public static void assertMessage(Class<? extends Throwable> type, String message, Executable call) {
        Throwable e = assertThrows(type, call);
        assertEquals(message, e.getMessage());
    }

    /** {@code call} throws a {@code type} whose message is one line holding each of {@code parts}; returns it. */
    public static <T extends Throwable> T refused(Class<T> type, Executable call, String... parts) {
        T e = assertThrows(type, call);
        String m = e.getMessage();
        assertTrue(m != null && !m.contains("\n"), "one line expected, got: " + m);
        for (String p : parts) {
            assertTrue(m.contains(p), "message lacks '" + p + "': " + m);
        }
        return e;
    }
}
