/**
 * Data-parallel training: one model replicated on several backends, each global batch split into shards whose
 * gradients are summed on the host in a fixed order, and one update applied from that sum.
 *
 * <ul>
 *   <li>{@link dev.jacobian.parallel.DataParallel}: N backends of one machine (OpenCL devices, CPU backends, any
 *       mix), one thread per backend.</li>
 *   <li>{@link dev.jacobian.parallel.Replica}: a model's forward and backward on one shard, its gradient read back
 *       to the host; {@link dev.jacobian.parallel.Leader}: the model and optimizer that apply the summed gradient;
 *       {@link dev.jacobian.parallel.Shards}: how a batch is split and summed. A cluster runner (the {@code spark}
 *       module) builds its steps from the same three.</li>
 * </ul>
 *
 * The result of a step depends on the number of shards, never on how many workers compute them: a run with K
 * shards on 1, 2 or K workers of one backend kind is bit-identical.
 */
package dev.jacobian.parallel;
