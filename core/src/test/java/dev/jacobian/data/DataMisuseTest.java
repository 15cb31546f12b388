package dev.jacobian.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Issue 13: reads outside a data set are {@link IndexOutOfBoundsException}s naming the set and the sample. */
class DataMisuseTest {
    private static final FloatDataset SET = new FloatDataset("set", new float[12], new int[] {0, 1, 0}, 4);

    private static void assertMessage(Class<? extends Throwable> type, String message, Executable call) {
        Throwable e = assertThrows(type, call);
        assertEquals(type, e.getClass());
        assertEquals(message, e.getMessage());
    }

    /** A set of the caller's own, whose views are {@link IndexedDataset}s. */
    private static Dataset custom() {
        return new Dataset() {
            @Override
            public String name() {
                return "custom";
            }

            @Override
            public int size() {
                return SET.size();
            }

            @Override
            public int[] sampleShape() {
                return SET.sampleShape();
            }

            @Override
            public int features() {
                return SET.features();
            }

            @Override
            public int label(int index) {
                return SET.label(index);
            }

            @Override
            public void copyFeatures(int index, float[] dst, int dstOffset) {
                SET.copyFeatures(index, dst, dstOffset);
            }
        };
    }

    /** Before: a view of a custom set threw an ArrayIndexOutOfBoundsException naming neither. */
    @Test
    void aViewOfACustomSetNamesTheSampleOutsideIt() {
        Dataset view = custom().subset(new int[] {0, 2}, "view");
        assertMessage(IndexOutOfBoundsException.class, "view: sample -1 is outside the 2 samples",
                () -> view.label(-1));
        assertMessage(IndexOutOfBoundsException.class, "view: sample 2 is outside the 2 samples",
                () -> view.copyFeatures(2, new float[4], 0));
        assertEquals(0, view.label(1));
    }

    /** Before: "Index 3 out of bounds for length 3", which did not say of what. */
    @Test
    void anArraySetNamesTheSampleOutsideIt() {
        assertMessage(IndexOutOfBoundsException.class, "set: sample 3 is outside the 3 samples", () -> SET.label(3));
        FloatDataset view = SET.subset(new int[] {2}, "one");
        assertMessage(IndexOutOfBoundsException.class, "one: sample 1 is outside the 1 samples",
                () -> view.copyFeatures(1, new float[4], 0));
    }

    /** Before: an ArrayIndexOutOfBoundsException from System.arraycopy ("last destination index 4 ..."). */
    @Test
    void aDestinationTooShortIsNamed() {
        assertMessage(IndexOutOfBoundsException.class,
                "set: a sample of 4 values does not fit at offset 0 of an array of 3",
                () -> SET.copyFeatures(0, new float[3], 0));
        ImageDataset images = new ImageDataset("images", new byte[4], new int[] {0}, 1, 2, 2);
        assertMessage(IndexOutOfBoundsException.class,
                "images: a sample of 4 values does not fit at offset 2 of an array of 5",
                () -> images.copyFeatures(0, new float[5], 2));
    }

    /** Before: the helpful NullPointerException of a dereference inside the split. */
    @Test
    void holdOutOfNullIsNamed() {
        assertMessage(NullPointerException.class, "data", () -> Split.holdOut((FloatDataset) null, 1, 1));
    }

    /**
     * Before: {@code (n + batchSize - 1) / batchSize} overflowed for a batch size near {@link Integer#MAX_VALUE}
     * ("one batch of everything"), so the loader had 0 batches per epoch and an epoch silently delivered nothing.
     */
    @Test
    void aBatchLargerThanAnyIntSumStillHoldsTheWholeSet() {
        try (DataLoader loader = DataLoader.builder(SET).batchSize(Integer.MAX_VALUE).noShuffle().prefetch(0).build()) {
            assertEquals(1, loader.batchesPerEpoch());
            try (DataLoader.Epoch epoch = loader.epoch(1)) {
                Batch b = epoch.next();
                assertEquals(3, b.rows());
                assertEquals(false, epoch.hasNext());
            }
        }
    }
}
