/// The forward products' packed weights (`packPanels`), kept while the parameters they were packed from stay unchanged,
/// so that a network packs each weight once between two writes of its parameters instead of once per forward pass:
/// acting step after step, a second forward on other rows before an update, a target network between syncs. Owned by
/// one `EncoderNetwork` (which calls `stale()` on every write of its `parameters`) and read by its forward passes only,
/// on any workspace (never by way of the workspace: a workspace may serve two networks); used under the compute lock.
/// Holds one packed copy of each forward weight (about as many floats as the parameters).
final class PackedWeights {
    /// Bumped by every write of the parameters.
    private(set) var generation = 0
    /// Per weight (keyed by its parameter offset and form): the generation it was packed in, and its panels.
    private var entries: [Int: (generation: Int, buffer: ScratchBuffer)] = [:]
    /// Weights packed so far (each call of a `pack`).
    private(set) var packings = 0

    /// Marks every packed weight out of date: the parameters were written.
    func stale() { generation &+= 1 }

    /// The panels (`count` floats) of the weight keyed `key` (its parameter offset), written by `pack` unless they
    /// were packed since the parameters were last written. `stacked`: the LSTM's [weight_ihᵀ; weight_hhᵀ] under
    /// weight_ih's key, kept beside weight_ih's own panels (training batches step on the stacked form, acting at
    /// batch 1 projects x with weight_ih alone).
    func panels(
        _ key: Int, stacked: Bool = false, count: Int, pack: (UnsafeMutablePointer<Float>) -> Void
    ) -> UnsafePointer<Float> {
        let key = 2 * key + (stacked ? 1 : 0)
        if let entry = entries[key], entry.generation == generation { return UnsafePointer(entry.buffer.pointer) }
        let buffer = entries[key]?.buffer ?? ScratchBuffer()
        let panels = buffer.reserve(count)
        pack(panels)
        packings += 1
        entries[key] = (generation, buffer)
        return UnsafePointer(panels)
    }
}
