package dev.jacobian.train;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Calls a user-supplied {@link Saver} every {@code every} epochs (after epochs {@code every}, {@code 2 every},
 * ...) and, optionally, after the last epoch run. The library has no checkpoint format of its own: the saver
 * writes what and where it likes (the sample CLI plugs in its safetensors store). An {@link IOException} of the
 * saver ends training as an {@link UncheckedIOException}.
 */
public final class PeriodicCheckpoint implements TrainingListener {
    /** Writes a checkpoint after an epoch. */
    @FunctionalInterface
    public interface Saver {
        /** Saves the state after epoch {@code metrics.epoch()}; {@code loop} gives the trainer and model. */
        void save(TrainingLoop loop, EpochMetrics metrics) throws IOException;
    }

    private final int every;
    private final boolean atEnd;
    private final Saver saver;
    private EpochMetrics last;
    private int lastSaved;

    /**
     * A listener that saves through {@code saver} after every {@code every}-th epoch.
     *
     * @param every how many epochs between checkpoints, &gt;= 1
     * @param atEnd also save after the last epoch run (when it was not a multiple of {@code every})
     * @param saver what writes a checkpoint
     */
    public PeriodicCheckpoint(int every, boolean atEnd, Saver saver) {
        if (every < 1) {
            throw new IllegalArgumentException("every must be >= 1: " + every);
        }
        this.every = every;
        this.atEnd = atEnd;
        this.saver = java.util.Objects.requireNonNull(saver, "saver");
    }

    @Override
    public void onEpochEnd(TrainingLoop loop, EpochMetrics metrics) {
        last = metrics;
        if (metrics.epoch() % every == 0) {
            save(loop, metrics);
        }
    }

    @Override
    public void onTrainEnd(TrainingLoop loop, FitResult result) {
        if (atEnd && last != null && lastSaved != last.epoch()) {
            save(loop, last);
        }
    }

    private void save(TrainingLoop loop, EpochMetrics metrics) {
        try {
            saver.save(loop, metrics);
            lastSaved = metrics.epoch();
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint after epoch " + metrics.epoch() + " failed", e);
        }
    }
}
