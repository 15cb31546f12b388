package dev.jacobian.samples.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.data.IdxFiles;
import dev.jacobian.data.IdxFormatException;
import dev.jacobian.data.ImageDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Finding an MNIST-format directory's files (read by the library's {@code IdxReader}). */
class DataDirectoryTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void readsTheTrainingAndTestFiles(boolean gzip) throws IOException {
        DataDirectory dir = new DataDirectory(IdxFiles.directory(tmp.resolve("d"), 12, 5, gzip));
        ImageDataset train = dir.train();
        assertEquals(12, train.size());
        assertEquals(4, train.height());
        assertEquals(5, dir.test().size());
        assertEquals("train-images-idx3-ubyte" + (gzip ? ".gz" : ""), dir.imagesFile("train").getFileName().toString());
    }

    @Test
    void theDottedSpellingIsFoundToo() throws IOException {
        Path d = Files.createDirectories(tmp.resolve("dotted"));
        Files.write(d.resolve("t10k-images.idx3-ubyte"), IdxFiles.images(3, 2, 2));
        Files.write(d.resolve("t10k-labels.idx1-ubyte"), IdxFiles.labels(3));
        assertEquals(3, new DataDirectory(d).test().size());
    }

    @Test
    void missingFilesAndDirectoriesAreNamed() {
        IdxFormatException file = assertThrows(IdxFormatException.class, () -> new DataDirectory(tmp).train());
        assertTrue(file.getMessage().contains("train-images-idx3-ubyte") && file.getMessage().contains("not found"),
                file.getMessage());
        Path none = tmp.resolve("none");
        IdxFormatException dir = assertThrows(IdxFormatException.class, () -> new DataDirectory(none).test());
        assertEquals(none + ": data directory not found", dir.getMessage());
    }
}
