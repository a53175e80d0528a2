/// Where a run stands. `running` rows whose process died are reported as `interrupted` by `tradesim runs`.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running, finished, failed, interrupted
}
