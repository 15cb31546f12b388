package dev.jacobian.graph;

/**
 * An {@link Operation} whose backward rule reads only the output gradient (and shapes): no forward value is
 * kept for it, so the executor recycles its inputs' and output's buffers after their last forward reader.
 * Scaling, bias addition, reshaping, addition and the like.
 */
public interface GradientOnly extends Operation {
    @Override
    default boolean backwardReadsInput(int i) {
        return false;
    }

    @Override
    default boolean backwardReadsOutput() {
        return false;
    }
}
