import Foundation

// Losses with mean reduction, as PyTorch's defaults. Each returns the loss and, when `dPrediction`/`dLogits` is given,
// ADDS `scale` · ∂loss/∂input into it, so several losses can share one gradient buffer (e.g. policy + value + entropy).
// Arrays pass as pointers (`loss(prediction: out, target: y, ...)`, `dPrediction: &grad`).

/// loss = mean_N (prediction − target)²  (torch.nn.MSELoss); dPrediction (N) += scale · 2 (prediction − target) / N.
public func mseLoss(
    prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, count n: Int,
    dPrediction: UnsafeMutablePointer<Float>? = nil, scale: Float = 1
) -> Float {
    var sum: Double = 0
    for i in 0..<n {
        let d = prediction[i] - target[i]
        sum += Double(d * d)
        dPrediction?[i] += scale * 2 * d / Float(n)
    }
    return Float(sum / Double(n))
}

/// Huber loss with threshold δ (torch.nn.HuberLoss(delta=δ)): per element, d = prediction − target,
/// ½d² if |d| < δ else δ(|d| − ½δ); mean over N. dPrediction (N) += scale · clamp(d, −δ, δ) / N.
/// (torch.nn.SmoothL1Loss(beta=δ) is this divided by δ.)
public func huberLoss(
    prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, count n: Int, delta: Float = 1,
    dPrediction: UnsafeMutablePointer<Float>? = nil, scale: Float = 1
) -> Float {
    var sum: Double = 0
    for i in 0..<n {
        let d = prediction[i] - target[i]
        sum += Double(abs(d) < delta ? 0.5 * d * d : delta * (abs(d) - 0.5 * delta))
        dPrediction?[i] += scale * min(max(d, -delta), delta) / Float(n)
    }
    return Float(sum / Double(n))
}

/// Softmax cross-entropy with integer class targets (torch.nn.functional.cross_entropy):
/// loss = mean_B w_b · (−log softmax(logits_b)[target_b]), logits (B,A), targets (B), optional weights (B) (1 if nil);
/// dLogits (B,A) += scale · w_b (softmax(logits_b) − onehot(target_b)) / B.
/// With weights = advantages this is the REINFORCE / A2C policy loss.
public func softmaxCrossEntropy(
    logits: UnsafePointer<Float>, targets: UnsafePointer<Int>, batch: Int, classes: Int,
    weights: UnsafePointer<Float>? = nil,
    dLogits: UnsafeMutablePointer<Float>? = nil, scale: Float = 1
) -> Float {
    var sum: Double = 0
    for b in 0..<batch {
        let row = logits + b * classes, target = targets[b], w = weights?[b] ?? 1
        precondition(target >= 0 && target < classes, "class target \(target) out of 0..<\(classes)")
        let (_, logSumExp) = logSumExpRow(row, classes)
        sum += Double(w * (logSumExp - row[target]))
        if let dLogits {
            let dRow = dLogits + b * classes, k = scale * w / Float(batch)
            for a in 0..<classes {
                let p = Foundation.exp(row[a] - logSumExp)
                dRow[a] += k * (p - (a == target ? 1 : 0))
            }
        }
    }
    return Float(sum / Double(batch))
}

/// Categorical entropy of softmax(logits), logits (B,A): loss = mean_B −Σ_a p_a log p_a;
/// dLogits (B,A) += scale · (−p_a (log p_a + entropy_b)) / B. (Agents maximise it: pass a negative scale.)
public func categoricalEntropy(
    logits: UnsafePointer<Float>, batch: Int, classes: Int,
    dLogits: UnsafeMutablePointer<Float>? = nil, scale: Float = 1
) -> Float {
    var sum: Double = 0
    for b in 0..<batch {
        let row = logits + b * classes
        let (_, logSumExp) = logSumExpRow(row, classes)
        var entropy: Float = 0
        for a in 0..<classes {
            let logP = row[a] - logSumExp
            entropy -= Foundation.exp(logP) * logP
        }
        sum += Double(entropy)
        if let dLogits {
            let dRow = dLogits + b * classes, k = scale / Float(batch)
            for a in 0..<classes {
                let logP = row[a] - logSumExp
                dRow[a] += k * (-Foundation.exp(logP) * (logP + entropy))
            }
        }
    }
    return Float(sum / Double(batch))
}

/// Binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss): loss = mean_N max(x,0) − x·y + log(1 + e^−|x|);
/// dLogits (N) += scale · (σ(x) − y) / N.
public func binaryCrossEntropyWithLogits(
    logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count n: Int,
    dLogits: UnsafeMutablePointer<Float>? = nil, scale: Float = 1
) -> Float {
    var sum: Double = 0
    for i in 0..<n {
        let x = logits[i], y = targets[i]
        sum += Double(max(x, 0) - x * y + Foundation.log1p(Foundation.exp(-abs(x))))
        dLogits?[i] += scale * (sigmoidScalar(x) - y) / Float(n)
    }
    return Float(sum / Double(n))
}

/// (max, log Σ exp) of one row of `count` logits, stable for large logits.
func logSumExpRow(_ row: UnsafePointer<Float>, _ count: Int) -> (Float, Float) {
    var m = -Float.infinity
    for a in 0..<count { m = max(m, row[a]) }
    var s: Float = 0
    for a in 0..<count { s += Foundation.exp(row[a] - m) }
    return (m, m + Foundation.log(s))
}
