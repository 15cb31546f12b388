package dev.jacobian.docs;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/** Every Java example in the README compiles against the current API, so the front page stays true. */
class ReadmeExampleTest {
    @Test
    void readmeExampleCompiles() throws IOException {
        Path readme = Path.of("..", "README.md");
        assertTrue(Files.isRegularFile(readme), "README.md next to the core module");
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(readme));
        int examples = 0;
        while (m.find()) {
            compile(m.group(1), examples++);
        }
        assertTrue(examples >= 2, "README has its ```java examples (MLP training, composed ops)");
    }

    private static void compile(String example, int index) throws IOException {
        List<String> lines = example.lines().toList();
        String imports = lines.stream().filter(l -> l.startsWith("import ")).collect(Collectors.joining("\n"));
        String body = lines.stream().filter(l -> !l.startsWith("import ")).collect(Collectors.joining("\n"));
        String source = imports + "\nclass ReadmeExample" + index + " {\n"
                + "    static void run(float[] images, int[] labels, int n, float[] testImages, int[] testLabels) {\n"
                + body + "\n    }\n}\n";
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "tests run on a JDK");
        JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///ReadmeExample" + index + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return source;
            }
        };
        Path out = Files.createTempDirectory("readme-example");
        StringWriter errors = new StringWriter();
        boolean ok = javac.getTask(errors, null, null,
                List.of("-classpath", System.getProperty("java.class.path"), "-d", out.toString(), "-proc:none"),
                null, List.of(file)).call();
        assertTrue(ok, "the README example does not compile:\n" + errors + "\n" + source);
    }
}
