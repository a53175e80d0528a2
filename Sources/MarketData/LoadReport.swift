/// What the loader did to the file's rows on the way to the panel.
public struct LoadReport: Codable, Sendable, Equatable {
    /// The file as named in the config.
    public var file: String = ""
    /// Date layout found (or configured) in the date column.
    public var dateFormat: DateFormat = .auto
    /// True when the file has closes only (`Date,SP500`, wide per-ticker close columns): open = high = low = close,
    /// volume 0.
    public var closeOnly = false
    /// Data rows in the file (lines after the header, blank lines not counted).
    public var rowsRead = 0
    /// Rows skipped, unchecked, because their date lies outside `start`/`end` or their ticker is not selected.
    public var rowsOutsideSelection = 0
    /// Rows whose prices are all "null"/empty (Yahoo-style); skipped, and also counted in `rowsDropped`.
    public var nullRows = 0
    /// Rows dropped: null rows plus rows removed by the `drop`/`clamp` repair policies.
    public var rowsDropped = 0
    /// Rows whose high/low were clamped to the open/close bounds (`clamp` policy).
    public var rowsRepaired = 0
    /// (bar, asset) cells forward-filled across gaps in an asset's dates (`observed == false` in the panel).
    public var filledCells = 0
    /// Assets removed because they start after the first date (`lateAssets: drop`; one that ends before the last
    /// date is an error there).
    public var droppedAssets: [String] = []
    /// Bars cut from the calendar because not every asset covers them (`lateAssets: trim`).
    public var trimmedBars = 0

    /// An empty report.
    public init() {}
}
