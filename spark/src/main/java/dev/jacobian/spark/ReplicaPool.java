package dev.jacobian.spark;

import dev.jacobian.backend.Backend;
import dev.jacobian.nn.Model;
import dev.jacobian.parallel.Replica;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas an executor keeps from one step to the next. It travels to the executors once, as a Spark broadcast
 * variable, whose value each executor deserializes once and hands to all its tasks: so this object's (transient) map
 * is the executor's replicas, owned by the broadcast and closed by {@link #closeAll()}. A task takes a replica for its
 * partition (or builds one: a backend from the {@link BackendFactory} and the model from the {@link ModelFactory}),
 * uses it alone, and gives it back; a replica whose task failed is closed instead.
 */
final class ReplicaPool implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaPool.class);

    /** A replica and the backend it owns. */
    record Held(Backend backend, Replica replica) {
        void close() {
            try {
                replica.close();
            } finally {
                backend.close();
            }
        }
    }

    private final BackendFactory backends;
    private final ModelFactory models;
    private transient Map<Integer, Deque<Held>> idle;
    private transient List<Held> all;

    ReplicaPool(BackendFactory backends, ModelFactory models) {
        this.backends = backends;
        this.models = models;
    }

    /** A replica for {@code partition}, used by one task until {@link #give} or {@link #discard}. */
    Held take(int partition) {
        synchronized (this) {
            if (idle == null) {
                idle = new HashMap<>();
                all = new ArrayList<>();
            }
            Deque<Held> free = idle.get(partition);
            if (free != null && !free.isEmpty()) {
                return free.pop();
            }
        }
        Backend b = backends.create();
        try {
            Model m = models.create(b);
            Held h = new Held(b, new Replica(m));
            synchronized (this) {
                all.add(h);
            }
            LOG.debug("replica for partition {} on {}", partition, b.deviceDescription());
            return h;
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    /** Returns a replica for the next task of {@code partition}. */
    synchronized void give(int partition, Held h) {
        idle.computeIfAbsent(partition, k -> new ArrayDeque<>()).push(h);
    }

    /** Closes a replica whose task failed (its backend may be the cause). */
    synchronized void discard(Held h) {
        all.remove(h);
        h.close();
    }

    /** Closes every replica this executor holds. */
    synchronized void closeAll() {
        if (all != null) {
            for (Held h : all) {
                h.close();
            }
            all.clear();
            idle.clear();
        }
    }
}
