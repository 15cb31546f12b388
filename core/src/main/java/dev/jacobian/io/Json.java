package dev.jacobian.io;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON reader and writer for the headers of model files (RFC 8259): objects become
 * {@link LinkedHashMap}s in document order, arrays {@link List}s, strings {@link String}s, integers {@link Long}
 * (or {@link BigDecimal} beyond a long), other numbers {@link Double} (or {@link BigDecimal} beyond a double's range),
 * and {@code true}/{@code false}/{@code null}
 * {@link Boolean}s and {@code null}. Duplicate names, trailing content, nesting deeper than {@value #MAX_DEPTH},
 * control characters in strings and lone surrogates are errors; every error is a {@link Syntax} with its character
 * offset. Core takes no JSON library (the framework's core depends on nothing but SLF4J), so this is the one place
 * JSON is parsed.
 */
final class Json {
    /** Deepest nesting accepted (a hostile header cannot exhaust the stack). */
    static final int MAX_DEPTH = 64;
    /** Longest number accepted, in characters (a double needs at most 25). */
    static final int MAX_NUMBER = 1000;

    /** A syntax error, with the offset where it was found. */
    static final class Syntax extends Exception {
        private static final long serialVersionUID = 1L;

        Syntax(String message, int offset) {
            super(message + " at character " + offset);
        }
    }

    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /** Parses one JSON value that must be all of {@code text} (surrounding white space allowed). */
    static Object parse(String text) throws Syntax {
        Json p = new Json(text);
        p.space();
        Object v = p.value(0);
        p.space();
        if (p.pos != text.length()) {
            throw new Syntax("unexpected content after the JSON value", p.pos);
        }
        return v;
    }

    private Object value(int depth) throws Syntax {
        if (depth > MAX_DEPTH) {
            throw new Syntax("nesting deeper than " + MAX_DEPTH, pos);
        }
        if (pos >= text.length()) {
            throw new Syntax("unexpected end of input", pos);
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw new Syntax("unexpected character '" + printable(c) + "'", pos);
            }
        };
    }

    private Map<String, Object> object(int depth) throws Syntax {
        Map<String, Object> map = new LinkedHashMap<>();
        pos++;
        space();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            space();
            if (peek() != '"') {
                throw new Syntax("expected a quoted name", pos);
            }
            int at = pos;
            String name = string();
            space();
            expect(':');
            space();
            Object v = value(depth + 1);
            if (map.containsKey(name)) {
                throw new Syntax("duplicate name \"" + name + "\"", at);
            }
            map.put(name, v);
            space();
            char c = peek();
            pos++;
            if (c == '}') {
                return map;
            }
            if (c != ',') {
                throw new Syntax("expected ',' or '}'", pos - 1);
            }
        }
    }

    private List<Object> array(int depth) throws Syntax {
        List<Object> list = new ArrayList<>();
        pos++;
        space();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            space();
            list.add(value(depth + 1));
            space();
            char c = peek();
            pos++;
            if (c == ']') {
                return list;
            }
            if (c != ',') {
                throw new Syntax("expected ',' or ']'", pos - 1);
            }
        }
    }

    private String string() throws Syntax {
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw new Syntax("unterminated string", pos);
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                break;
            }
            if (c < 0x20) {
                throw new Syntax("control character in a string", pos - 1);
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= text.length()) {
                throw new Syntax("unterminated escape", pos);
            }
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw new Syntax("truncated \\u escape", pos);
                    }
                    int cp = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(text.charAt(pos + i), 16);
                        if (d < 0) {
                            throw new Syntax("bad \\u escape", pos);
                        }
                        cp = cp * 16 + d;
                    }
                    pos += 4;
                    sb.append((char) cp);
                }
                default -> throw new Syntax("bad escape '\\" + printable(e) + "'", pos - 1);
            }
        }
        String s = sb.toString();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1)))
                    || Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)))) {
                throw new Syntax("lone surrogate in a string", pos);
            }
        }
        return s;
    }

    private Object number() throws Syntax {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (Character.isDigit(peek())) {
            digits();
        } else {
            throw new Syntax("bad number", start);
        }
        boolean integral = true;
        if (peek() == '.') {
            pos++;
            integral = false;
            if (!Character.isDigit(peek())) {
                throw new Syntax("bad number", start);
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            integral = false;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!Character.isDigit(peek())) {
                throw new Syntax("bad number", start);
            }
            digits();
        }
        if (pos - start > MAX_NUMBER) { // a BigDecimal of millions of digits takes quadratic time to read
            throw new Syntax("a number of " + (pos - start) + " characters (at most " + MAX_NUMBER + ")", start);
        }
        String s = text.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                return new BigDecimal(s);
            }
        }
        double d = Double.parseDouble(s);
        if (!Double.isInfinite(d)) {
            return d;
        }
        // beyond a double's range (1e309) a number stays exact rather than becoming an infinity JSON cannot hold
        try {
            return new BigDecimal(s);
        } catch (NumberFormatException e) { // an exponent beyond an int: 1e99999999999
            throw new Syntax("number " + s + " is out of range", start);
        }
    }

    private void digits() {
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
    }

    private Object literal(String word, Object v) throws Syntax {
        if (!text.startsWith(word, pos)) {
            throw new Syntax("unexpected character '" + printable(text.charAt(pos)) + "'", pos);
        }
        pos += word.length();
        return v;
    }

    private void expect(char c) throws Syntax {
        if (peek() != c) {
            throw new Syntax("expected '" + c + "'", pos);
        }
        pos++;
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private void space() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private static String printable(char c) {
        return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    /**
     * Writes {@code v} (maps with string keys, lists, strings, numbers, booleans, null) as compact JSON. Floats and
     * doubles are written in their shortest round-trip form; NaN and infinities are an
     * {@link IllegalArgumentException} (JSON has no such numbers).
     */
    static String write(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            quote(sb, s);
        } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof BigDecimal) {
            sb.append(v);
        } else if (v instanceof Float || v instanceof Double) {
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("JSON has no number " + d);
            }
            sb.append(v instanceof Float f ? Float.toString(f) : Double.toString(d));
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(first ? "" : ",");
                first = false;
                quote(sb, (String) e.getKey());
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                sb.append(i == 0 ? "" : ",");
                write(sb, l.get(i));
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("cannot write a " + v.getClass().getSimpleName() + " as JSON");
        }
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
