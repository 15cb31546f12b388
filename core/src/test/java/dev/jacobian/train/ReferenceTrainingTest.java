package dev.jacobian.train;

import dev.jacobian.backend.Backend;
import dev.jacobian.reference.ReferenceBackend;

class ReferenceTrainingTest extends TrainingSuite {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
