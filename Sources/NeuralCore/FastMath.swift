// Vectorised exp, sigmoid and tanh for the LSTM's gate loops (8 lanes, fused multiply-adds). Accuracy (checked against
// libm in the tests): a few ulp relative for exp and sigmoid, better than 5e-7 relative for tanh.

typealias Float8 = SIMD8<Float>

/// a·b + c in one rounding (vfmadd with AVX2 + FMA).
@inline(__always) func fma8(_ a: Float8, _ b: Float8, _ c: Float8) -> Float8 { c.addingProduct(a, b) }

/// e^x, Cephes expf: x = n·ln2 + r, |r| ≤ ½ln2, e^r by a degree-6 polynomial, 2^n through the exponent bits.
/// n is rounded with the 1.5·2²³ trick (adding it leaves n in the low mantissa bits), avoiding Swift's slow generic
/// SIMD float→int conversion.
@inline(__always) func exp8(_ x: Float8) -> Float8 {
    let x = clamp8(x, -87.3, 88.3)
    // 1.5·2²³ + n, exactly
    let shifted = fma8(x, Float8(repeating: 1.44269504088896341), Float8(repeating: 12_582_912))
    let n = shifted - 12_582_912
    let r = fma8(n, Float8(repeating: 2.12194440e-4), fma8(n, Float8(repeating: -0.693359375), x))  // x − n·ln2
    var p = fma8(r, Float8(repeating: 1.9875691500e-4), Float8(repeating: 1.3981999507e-3))
    p = fma8(p, r, Float8(repeating: 8.3334519073e-3))
    p = fma8(p, r, Float8(repeating: 4.1665795894e-2))
    p = fma8(p, r, Float8(repeating: 1.6666665459e-1))
    p = fma8(p, r, Float8(repeating: 5.0000001201e-1))
    p = fma8(p, r * r, r) + 1
    // bits of `shifted` are 0x4B400000 + n; 2^n has exponent field n + 127
    let twoToN = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(twoToN, to: Float8.self)
}

/// σ(x) = 1 / (1 + e^−x).
@inline(__always) func sigmoid8(_ x: Float8) -> Float8 { 1 / (1 + exp8(-x)) }

/// tanh(x) = x·P(x²) / Q(x²) on x clamped to ±7.905 (where tanh rounds to ±1), Eigen's rational approximation
/// (degree 13 / 6); x itself below |x| = 0.0004, where tanh(x) rounds to x.
/// `@_transparent` because `@inline(__always)` left it an out-of-line call in the cell loops (measured: 1.3× slower).
@_transparent func tanh8(_ x: Float8) -> Float8 {
    let y = clamp8(x, -7.90531110763549805, 7.90531110763549805)
    let y2 = y * y
    var p = fma8(y2, Float8(repeating: -2.76076847742355e-16), Float8(repeating: 2.00018790482477e-13))
    p = fma8(p, y2, Float8(repeating: -8.60467152213735e-11))
    p = fma8(p, y2, Float8(repeating: 5.12229709037114e-08))
    p = fma8(p, y2, Float8(repeating: 1.48572235717979e-05))
    p = fma8(p, y2, Float8(repeating: 6.37261928875436e-04))
    p = fma8(p, y2, Float8(repeating: 4.89352455891786e-03))
    var q = fma8(y2, Float8(repeating: 1.19825839466702e-06), Float8(repeating: 1.18534705686654e-04))
    q = fma8(q, y2, Float8(repeating: 2.26843463243900e-03))
    q = fma8(q, y2, Float8(repeating: 4.89352518554385e-03))
    let tiny = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Float8.self) .< 0.0004
    return (y * p / q).replacing(with: x, where: tiny)
}

/// x limited to [low, high] lane by lane (compare and blend; the standard library's `clamped` on SIMD is a scalar
/// loop).
@inline(__always) func clamp8(_ x: Float8, _ low: Float, _ high: Float) -> Float8 {
    x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
}

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }
@inline(__always) func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}
