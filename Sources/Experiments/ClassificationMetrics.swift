import Foundation

/// Scores of class predictions, with scikit-learn's conventions. Shapes: `probabilities` (n, C) row-major (each row
/// sums to 1), `labels` (n) in 0..<C.
public enum ClassificationMetrics {
    /// Mean −log p(label) (sklearn `log_loss`; probabilities clipped to [1e-15, 1 − 1e-15]).
    public static func logLoss(probabilities: [Double], labels: [Int], classes: Int) -> Double {
        precondition(
            probabilities.count == labels.count * classes && !labels.isEmpty,
            "logLoss needs (n, C) probabilities for n > 0 labels")
        var sum = 0.0
        for (i, y) in labels.enumerated() { sum -= log(min(max(probabilities[i * classes + y], 1e-15), 1 - 1e-15)) }
        return sum / Double(labels.count)
    }

    /// Fraction of rows whose most probable class (the first on ties) is the label.
    public static func accuracy(probabilities: [Double], labels: [Int], classes: Int) -> Double {
        precondition(
            probabilities.count == labels.count * classes && !labels.isEmpty, "accuracy needs (n, C) probabilities")
        var hits = 0
        for (i, y) in labels.enumerated() {
            let row = probabilities[(i * classes)..<((i + 1) * classes)]
            if row.indices.max(by: { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) })! - i * classes == y {
                hits += 1
            }
        }
        return Double(hits) / Double(labels.count)
    }

    /// Area under the ROC curve of `scores` for `positive` (sklearn `roc_auc_score`): the Mann–Whitney U statistic with
    /// tied scores given their average rank, divided by (positives · negatives). nil when one class is absent.
    public static func rocAUC(scores: [Double], positive: [Bool]) -> Double? {
        precondition(scores.count == positive.count, "rocAUC needs one score per label")
        let nPos = positive.filter { $0 }.count, nNeg = positive.count - nPos
        guard nPos > 0, nNeg > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0, k = 0
        while k < order.count {
            var e = k
            while e + 1 < order.count && scores[order[e + 1]] == scores[order[k]] { e += 1 }
            let rank = Double(k + e) / 2 + 1  // average 1-based rank of the tie group k...e
            for j in k...e where positive[order[j]] { rankSum += rank }
            k = e + 1
        }
        return (rankSum - Double(nPos) * Double(nPos + 1) / 2) / (Double(nPos) * Double(nNeg))
    }

    /// Class frequencies (C) of `labels`.
    public static func frequencies(_ labels: [Int], classes: Int) -> [Double] {
        var f = [Double](repeating: 0, count: classes)
        for y in labels { f[y] += 1 }
        return f.map { $0 / Double(max(labels.count, 1)) }
    }
}
