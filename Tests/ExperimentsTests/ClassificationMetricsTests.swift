import Testing

@testable import Experiments

@Suite struct ClassificationMetricsTests {
    @Test func logLossAndAccuracyByHand() {
        let p = [0.8, 0.2, 0.3, 0.7, 0.6, 0.4]
        // −(ln 0.8 + ln 0.7 + ln 0.4) / 3
        #expect(
            abs(ClassificationMetrics.logLoss(probabilities: p, labels: [0, 1, 1], classes: 2) - 0.49870307570903244)
                < 1e-15)
        // argmax rows: 0, 1, 0 against 0, 1, 1
        #expect(ClassificationMetrics.accuracy(probabilities: p, labels: [0, 1, 1], classes: 2) == 2.0 / 3)
        // Three classes; a zero probability is clipped to 1e-15: −(ln 0.7 + ln 0.2 + ln 1e-15) / 3.
        let q = [0.1, 0.7, 0.2, 0.2, 0.3, 0.5, 1.0, 0.0, 0.0]
        #expect(
            abs(ClassificationMetrics.logLoss(probabilities: q, labels: [1, 0, 2], classes: 3) - 12.168296417094504)
                < 1e-12)
        // Ties go to the first class: row (0.5, 0.5) predicts 0.
        #expect(ClassificationMetrics.accuracy(probabilities: [0.5, 0.5], labels: [0], classes: 2) == 1)
        #expect(ClassificationMetrics.frequencies([0, 1, 1, 2], classes: 3) == [0.25, 0.5, 0.25])
    }

    @Test func rocAUCByHand() {
        // scikit-learn's example: 0.75.
        #expect(
            ClassificationMetrics.rocAUC(scores: [0.1, 0.4, 0.35, 0.8], positive: [false, false, true, true]) == 0.75)
        // A tie between a positive and a negative counts one half: (0.5 + 1 + 1 + 1) / 4.
        #expect(
            ClassificationMetrics.rocAUC(scores: [0.5, 0.5, 0.2, 0.9], positive: [true, false, false, true]) == 0.875)
        #expect(ClassificationMetrics.rocAUC(scores: [0.9, 0.1], positive: [false, true]) == 0)
        #expect(ClassificationMetrics.rocAUC(scores: [0.9, 0.1], positive: [true, true]) == nil)
    }
}
