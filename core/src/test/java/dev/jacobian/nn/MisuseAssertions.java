package dev.jacobian.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import org.junit.jupiter.api.function.Executable;

/** What the misuse tests of the high-level API share: a small model and an assertion on type and message. */
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
}
