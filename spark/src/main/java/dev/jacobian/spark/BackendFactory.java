package dev.jacobian.spark;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Backends;
import dev.jacobian.cpu.CpuBackend;
import java.io.Serializable;
import org.apache.spark.TaskContext;

/**
 * Opens the backend an executor's replica runs on. Serializable, since Spark ships it to the executors; each
 * executor drives its own devices.
 */
@FunctionalInterface
public interface BackendFactory extends Serializable {
    /** A new backend (the replica pool closes it). */
    Backend create();

    /** A backend by name, as {@link Backends#create(String)} takes it ({@code auto}, {@code cpu}, {@code opencl}). */
    static BackendFactory named(String name) {
        return () -> Backends.create(name);
    }

    /**
     * The backend {@code name} designates on the executor ({@code auto}: its GPU if it has one), where a CPU backend
     * gets as many threads as the task has cores ({@link #cpuPerTask()}).
     */
    static BackendFactory forTasks(String name) {
        return () -> {
            dev.jacobian.backend.BackendProvider p = Backends.resolve(name);
            return p.name().equals("cpu") ? cpuPerTask().create() : p.create();
        };
    }

    /**
     * A CPU backend with as many threads as the task has cores ({@code spark.task.cpus}, 1 by default), so that the
     * tasks of one executor do not oversubscribe its cores.
     */
    static BackendFactory cpuPerTask() {
        return () -> {
            TaskContext task = TaskContext.get();
            return new CpuBackend(task == null ? 1 : Math.max(1, task.cpus()));
        };
    }
}
