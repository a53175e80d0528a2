// Weight gradients of a dense map over many rows (an LSTM layer over T·B steps, a Market2Vec over B·T bars) on the
// packed kernels: one product over all the rows, split across threads by output columns.

/// Weight and bias gradients of y (R,N) = x (R,X) · W (X,N) + b, given the inputs x (rows `ldx` apart) and the output
/// gradients dY (R,N), as a matrix `dY` (rows `ld` apart) or, when `dY` is nil, already in `panels`; both results are
/// WRITTEN:
///   dW (X,N) = xᵀ (X,R) · dY (R,N) into `dW` (rows N apart);  dBias (N) = Σ_rows dY into `dBias`.
/// Each worker first packs its panels of dY into `panels` (⌈N/16⌉ panels of (R,16), as `packPanel` lays them out) and
/// transposes its slice of x's columns into `transposed` (X rows of R+16 floats: padded, because at R = 2048 unpadded
/// rows would be 8 KB apart and the 6 a kernel reads together would share one L1 set). Then each multiplies all of xᵀ
/// by its own panels, in chunks of `weightGradientDepth` rows, and passes its columns of dW and dBias to `consume` (e.g.
/// to add them into a PyTorch (N,X) gradient). Workers own whole columns: no partial sums to merge, and the bits do
/// not depend on the thread count.
func weightGradients(x: UnsafePointer<Float>, ldx: Int, width X: Int, dY: (matrix: UnsafePointer<Float>, ld: Int)?,
                     columns N: Int, rows R: Int, transposed: UnsafeMutablePointer<Float>, panels: UnsafeMutablePointer<Float>,
                     dW: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>, consume: (Range<Int>) -> Void) {
    let ldT = R + panelWidth, panelCount = (N + panelWidth - 1) / panelWidth
    forEachIndexedShare(panelCount) { share, js in
        if let dY {
            for j in js {
                packPanel(dY.matrix, rows: R, ldb: dY.ld, columns: (j * panelWidth)..<min(N, (j + 1) * panelWidth),
                          into: panels + j * R * panelWidth)
            }
        }
        let shares = shareCount(panelCount), columns = (share * X / shares)..<((share + 1) * X / shares)
        transpose(x, rows: R, ld: ldx, columns: columns, into: transposed, ldt: ldT)
    }
    forEachShare(panelCount) { js in
        let c0 = js.lowerBound * panelWidth, c1 = min(N, js.upperBound * panelWidth), w = c1 - c0
        let own = panels + js.lowerBound * R * panelWidth
        for k0 in stride(from: 0, to: R, by: weightGradientDepth) {
            packedGemm(m: X, n: w, k: min(weightGradientDepth, R - k0), a: transposed + k0, lda: ldT,
                       packed: own + k0 * panelWidth, panelStride: R * panelWidth, c: dW + c0, ldc: N, accumulate: k0 > 0)
        }
        addPanelColumnSums(own, rows: R, columns: w, into: dBias + c0)
        consume(c0..<c1)
    }
}

/// Rows per packed product in `weightGradients` (measured on the LSTM: 256 beats 32…128 by 2–8% at X = 96, N = 256,
/// R = 2048).
let weightGradientDepth = 256

/// Copies `row` (N floats) into row r of the panels of an (R,N) matrix, laid out as `packPanel` does (zero past N).
@inline(__always)
func packPanelRow(_ row: UnsafePointer<Float>, columns N: Int, row r: Int, rows R: Int, into panels: UnsafeMutablePointer<Float>) {
    var j = 0
    while (j + 1) * panelWidth <= N {
        let target = panels + (j * R + r) * panelWidth, source = row + j * panelWidth
        store8(load8(source), target); store8(load8(source + 8), target + 8)
        j += 1
    }
    guard j * panelWidth < N else { return }
    let target = panels + (j * R + r) * panelWidth
    for i in 0..<panelWidth { target[i] = j * panelWidth + i < N ? row[j * panelWidth + i] : 0 }
}

/// Packs columns `columns` (at most 16) of b (rows,·), rows `ldb` apart, into one panel (rows,16), zero past them.
func packPanel(_ b: UnsafePointer<Float>, rows: Int, ldb: Int, columns: Range<Int>, into panel: UnsafeMutablePointer<Float>) {
    let w = columns.count, source = b + columns.lowerBound
    if w == panelWidth {   // two vector copies per row (a memmove call per row costs more than the copy)
        for r in 0..<rows {
            store8(load8(source + r * ldb), panel + r * panelWidth); store8(load8(source + r * ldb + 8), panel + r * panelWidth + 8)
        }
        return
    }
    for r in 0..<rows {
        for i in 0..<panelWidth { panel[r * panelWidth + i] = i < w ? source[r * ldb + i] : 0 }
    }
}

/// target (C,rows) row c (rows `ldt` apart) = column c of source (rows,·) (rows `ld` apart), for c in `columns`: in
/// 8×8 blocks (eight vector loads, three perfect unshuffles, eight vector stores; 2.6× the scalar loop), eight rows
/// at a time, so each strip of source rows is read once; scalar at the edges.
func transpose(_ source: UnsafePointer<Float>, rows: Int, ld: Int, columns: Range<Int>, into target: UnsafeMutablePointer<Float>,
               ldt: Int) {
    @inline(__always) func scalar(rows: Range<Int>, columns: Range<Int>) {
        for c in columns {
            for r in rows { target[c * ldt + r] = source[r * ld + c] }
        }
    }
    let fullRows = rows / 8 * 8
    for r0 in stride(from: 0, to: fullRows, by: 8) {
        var c = columns.lowerBound
        while c + 8 <= columns.upperBound {
            let s = source + r0 * ld + c, o = target + c * ldt + r0
            var v = (load8(s), load8(s + ld), load8(s + 2 * ld), load8(s + 3 * ld),
                     load8(s + 4 * ld), load8(s + 5 * ld), load8(s + 6 * ld), load8(s + 7 * ld))
            unshuffle(&v); unshuffle(&v); unshuffle(&v)
            store8(v.0, o); store8(v.1, o + ldt); store8(v.2, o + 2 * ldt); store8(v.3, o + 3 * ldt)
            store8(v.4, o + 4 * ldt); store8(v.5, o + 5 * ldt); store8(v.6, o + 6 * ldt); store8(v.7, o + 7 * ldt)
            c += 8
        }
        scalar(rows: r0..<(r0 + 8), columns: c..<columns.upperBound)
    }
    scalar(rows: fullRows..<rows, columns: columns)
}

/// The perfect unshuffle of 64 floats held as eight vectors (evens first, then odds): index bits b5…b0 rotate right by
/// one. Three of them rotate an 8×8 block's (row, column) bits into (column, row): the transpose.
@inline(__always)
private func unshuffle(_ v: inout (Float8, Float8, Float8, Float8, Float8, Float8, Float8, Float8)) {
    let (a0, a1, a2, a3, a4, a5, a6, a7) = v
    v = (Float8(lowHalf: a0.evenHalf, highHalf: a1.evenHalf), Float8(lowHalf: a2.evenHalf, highHalf: a3.evenHalf),
         Float8(lowHalf: a4.evenHalf, highHalf: a5.evenHalf), Float8(lowHalf: a6.evenHalf, highHalf: a7.evenHalf),
         Float8(lowHalf: a0.oddHalf, highHalf: a1.oddHalf), Float8(lowHalf: a2.oddHalf, highHalf: a3.oddHalf),
         Float8(lowHalf: a4.oddHalf, highHalf: a5.oddHalf), Float8(lowHalf: a6.oddHalf, highHalf: a7.oddHalf))
}

/// sums (columns) = Σ over `rows` of consecutive panels (rows,16) as packed by `packPanel`; columns ≤ 16·panels.
func addPanelColumnSums(_ panels: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    for j in 0..<((columns + panelWidth - 1) / panelWidth) {
        var s0 = Float8(), s1 = Float8()
        var p = panels + j * rows * panelWidth
        for _ in 0..<rows { s0 += load8(p); s1 += load8(p + 8); p += panelWidth }
        let w = min(panelWidth, columns - j * panelWidth)
        for i in 0..<w { sums[j * panelWidth + i] = i < 8 ? s0[i] : s1[i - 8] }
    }
}
