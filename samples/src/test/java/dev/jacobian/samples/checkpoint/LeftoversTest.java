package dev.jacobian.samples.checkpoint;

import dev.jacobian.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an interrupted run leaves behind is removed at the next start, and nothing that is not the run's. */
class LeftoversTest {
    @TempDir
    Path dir;

    private Set<String> names() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void tempFilesAndTensorsWithoutTheirJsonGoEverythingElseStays() throws Exception {
        CheckpointStore store = new CheckpointStore(dir);
        for (int epoch = 1; epoch <= 3; epoch++) {
            store.save(epoch, Map.of("w", new SafeTensors.Entry(new int[] {2}, new float[] {epoch, 2})), Map.of(),
                    Map.of("a", epoch));
        }
        // a save killed before its prune: checkpoint 1 is back, one more than KEEP
        Files.writeString(dir.resolve("checkpoint-epoch-0001.json"), Files.readString(dir.resolve("checkpoint-epoch-0002.json"))
                .replace("0002", "0001"));
        Files.write(dir.resolve("checkpoint-epoch-0001.safetensors"), Files.readAllBytes(dir.resolve("checkpoint-epoch-0002.safetensors")));
        List<String> leftovers = List.of(
                "checkpoint-epoch-0001.json",                      // beyond the KEEP newest
                "checkpoint-epoch-0001.safetensors",
                "checkpoint-epoch-0004.safetensors",               // a save killed between its two writes
                "checkpoint-epoch-0000.safetensors",               // a prune killed between its two deletes
                ".checkpoint-epoch-0004.json.8349384938.tmp",      // a write killed before its rename
                ".checkpoint-epoch-0003.safetensors.17.tmp",
                ".metrics.json.5521.tmp",
                ".loss.png.99.tmp");
        List<String> others = List.of("notes.tmp", ".mine.123.tmp", "other.safetensors", "checkpoint-epoch-0004.txt",
                ".metrics.json.tmp", "metrics.json");
        for (String name : leftovers) {
            Files.writeString(dir.resolve(name), "x");
        }
        for (String name : others) {
            Files.writeString(dir.resolve(name), "x");
        }
        Files.createDirectory(dir.resolve(".checkpoint-epoch-0009.json.1.tmp")); // not a regular file: not ours
        List<Path> gone = store.removeLeftovers();
        assertEquals(new TreeSet<>(leftovers), gone.stream().map(p -> p.getFileName().toString())
                .collect(Collectors.toCollection(TreeSet::new)));
        Set<String> left = names();
        assertTrue(left.containsAll(others), left.toString());
        for (String kept : List.of("checkpoint-epoch-0002.json", "checkpoint-epoch-0002.safetensors",
                "checkpoint-epoch-0003.json", "checkpoint-epoch-0003.safetensors")) {
            assertTrue(left.contains(kept), "the KEEP newest checkpoints stay: " + left);
        }
        assertEquals(3, ((Number) CheckpointStore.load(dir, Map.class).state().get("a")).intValue());
        assertEquals(List.of(), store.removeLeftovers(), "nothing more the second time");
    }
}
