package dev.jacobian.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The strict JSON reader of model headers: what it accepts, and the one-line errors for what it does not. */
class JsonTest {
    @Test
    void readsWhatItWrites() throws Json.Syntax {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a\"b\\c\n\u0001é😀");
        m.put("i", 42L);
        m.put("d", 0.25);
        m.put("f", 0.01f);
        m.put("l", List.of(1L, -2L, List.of(), Map.of()));
        m.put("b", true);
        m.put("n", null);
        Object back = Json.parse(Json.write(m));
        Map<String, Object> want = new LinkedHashMap<>(m);
        want.put("f", 0.01); // a float is written in its shortest form, read back as that double
        assertEquals(want, back);
        assertEquals(0.01f, (float) (double) ((Map<?, ?>) back).get("f"));
        assertEquals(new BigDecimal("123456789012345678901234567890"), Json.parse("123456789012345678901234567890"));
        assertEquals(1e300, Json.parse(" 1E+300 "));
        // beyond a double's range a number stays exact, so that an error message can still quote it (the fuzzer
        // found "-1e309" read as an infinity that Json.write then refused while a message was being built)
        assertEquals(new BigDecimal("-1e309"), Json.parse("-1e309"));
        assertEquals("[-1E+309]", Json.write(Json.parse("[-1e309]")));
        // an exponent beyond BigDecimal's (found by the fuzzer: NumberFormatException "Exponent overflow") and numbers
        // long enough to take quadratic time are syntax errors
        for (String bad : new String[] {"1e9223372036854775807", "-2.5E+99999999999", "1".repeat(Json.MAX_NUMBER + 1),
                "0." + "5".repeat(Json.MAX_NUMBER)}) {
            Json.Syntax e = assertThrows(Json.Syntax.class, () -> Json.parse("[" + bad + "]"), bad);
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        assertEquals(new BigDecimal("9".repeat(Json.MAX_NUMBER)), Json.parse("9".repeat(Json.MAX_NUMBER)));
        assertEquals("\u00e9\ud83d\ude00", Json.parse("\"\\u00e9\\ud83d\\ude00\""));
    }

    @Test
    void rejectsWhatIsNotStrictJson() {
        for (String bad : new String[] {"", "{", "{\"a\":1,}", "[1,]", "{\"a\":1,\"a\":2}", "01", "1.", "-", ".5", "1e",
                "\"\u0001\"", "\"\\x\"", "\"\\ud800\"", "tru", "nul", "{} []", "{a:1}", "'a'", "NaN", "Infinity",
                "[".repeat(Json.MAX_DEPTH + 2) + "]".repeat(Json.MAX_DEPTH + 2)}) {
            Json.Syntax e = assertThrows(Json.Syntax.class, () -> Json.parse(bad), bad);
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
    }
}
