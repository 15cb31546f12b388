package dev.jacobian.spark;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import dev.jacobian.backend.Backends;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.opencl.ClBackendProvider;
import dev.jacobian.opencl.ClInfo;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

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
     * gets as many threads as the task has cores ({@link #cpuPerTask()}). When Spark assigned the task a GPU
     * ({@code spark.task.resource.gpu.amount} with a discovery script on the executors), an {@code auto} or
     * {@code opencl} backend opens that one: address {@code i} is the executor's {@code i}-th OpenCL GPU, so the tasks
     * of an executor with several GPUs each drive their own.
     */
    static BackendFactory forTasks(String name) {
        return () -> {
            TaskContext task = TaskContext.get();
            String gpu = task == null ? null : gpuAddress(task.resourcesJMap());
            boolean openCl = name.equalsIgnoreCase("auto") || name.equalsIgnoreCase("opencl");
            if (gpu != null && openCl) {
                List<ClInfo.Device> gpus = ClInfo.probe().devices().stream()
                        .filter(d -> d.type() == ClInfo.DeviceType.GPU).toList();
                int i = Integer.parseInt(gpu);
                if (i >= gpus.size()) {
                    throw new IllegalStateException("Spark assigned GPU " + gpu + " but OpenCL lists " + gpus.size()
                            + " GPU(s) on this executor");
                }
                return new ClBackendProvider(Integer.toString(gpus.get(i).index())).create();
            }
            BackendProvider p = Backends.resolve(name);
            return p.name().equals("cpu") ? cpuPerTask().create() : p.create();
        };
    }

    /**
     * The first address of the task's {@code gpu} resource when it is a GPU index ({@code "0"}, {@code "1"}, ...),
     * otherwise null.
     */
    static String gpuAddress(Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources == null ? null : resources.get("gpu");
        if (gpu == null || gpu.addresses().length == 0 || !gpu.addresses()[0].matches("[0-9]{1,4}")) {
            return null;
        }
        return gpu.addresses()[0];
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
