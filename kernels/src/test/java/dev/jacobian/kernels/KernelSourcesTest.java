package dev.jacobian.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class KernelSourcesTest {

    @Test
    void everySourceLoadsAndOpensWithAHeaderComment() {
        for (String name : KernelSources.ALL) {
            String src = KernelSources.load(name);
            assertTrue(src.startsWith("/*"), name + " must open with a header comment");
            assertTrue(src.contains("__kernel"), name + " must define at least one kernel");
        }
    }

    @Test
    void tuningConstantsHaveDefaults() {
        Pattern ifndef = Pattern.compile("#ifndef (\\w+)\\s*\\n#define (\\w+) ");
        for (String name : KernelSources.ALL) {
            Matcher m = ifndef.matcher(KernelSources.load(name));
            while (m.find()) {
                assertTrue(m.group(1).equals(m.group(2)), name + ": #ifndef " + m.group(1) + " defines " + m.group(2));
            }
        }
    }

    @Test
    void elementwiseFamiliesDefineTheirKernelsWithoutContraction() {
        for (String name : List.of(KernelSources.ELEMENTWISE, KernelSources.BROADCAST)) {
            assertTrue(KernelSources.load(name).contains("#pragma OPENCL FP_CONTRACT OFF"), name);
        }
        assertTrue(KernelSources.load(KernelSources.ELEMENTWISE).contains("__kernel void unary_forward("));
        String broadcast = KernelSources.load(KernelSources.BROADCAST);
        for (String kernel : List.of("binary_broadcast", "binary_broadcast_backward", "sum_to")) {
            assertTrue(broadcast.contains("__kernel void " + kernel + "("), "broadcast.cl must define " + kernel);
        }
    }

    @Test
    void randomDefinesPhiloxWithItsConstants() {
        assertTrue(KernelSources.ALL.contains(KernelSources.RANDOM));
        String random = KernelSources.load(KernelSources.RANDOM);
        assertTrue(random.contains("__kernel void random_uniform("), "random.cl must define random_uniform");
        for (String constant : List.of("0xD2511F53u", "0xCD9E8D57u", "0x9E3779B9u", "0xBB67AE85u", "mul_hi(")) {
            assertTrue(random.contains(constant), "random.cl must use " + constant);
        }
    }

    @Test
    void convDefinesTheLayoutConvolutionAndPoolingKernels() {
        assertTrue(KernelSources.ALL.contains(KernelSources.CONV));
        String conv = KernelSources.load(KernelSources.CONV);
        assertTrue(conv.contains("#pragma OPENCL FP_CONTRACT OFF"), "conv.cl must turn contraction off");
        for (String kernel : List.of("permute", "im2col", "col2im", "pool2d", "pool2d_backward")) {
            assertTrue(conv.contains("__kernel void " + kernel + "("), "conv.cl must define " + kernel);
        }
        assertTrue(!conv.contains("atomic_") && !conv.contains("atom_"),
                "col2im and pool2d_backward gather; they need no atomics");
    }

    @Test
    void includedHeadersAreInlinedOnce() {
        for (String source : new String[] {KernelSources.ELEMENTWISE, KernelSources.MATMUL}) {
            String text = KernelSources.load(source);
            assertFalse(text.lines().anyMatch(l -> l.trim().startsWith("#include")), source + " still has an #include");
            assertTrue(text.contains("inline float act_derivative("), source + " lacks the activations header");
            assertEquals(text.indexOf("#define ACT_RELU"), text.lastIndexOf("#define ACT_RELU"), source);
        }
    }

    @Test
    void acceptsTheExtension() {
        assertTrue(KernelSources.load("optimizer.cl").contains("sgd_update"));
    }

    @Test
    void missingSourceNamesTheResource() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelSources.load("nope"));
        assertTrue(e.getMessage().contains("/dev/jacobian/kernels/nope.cl"), e.getMessage());
    }
}
