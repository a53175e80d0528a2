// Vectorised exp, sigmoid and tanh for the LSTM's gate loops (8 lanes). Accuracy: a few ulp relative for exp and
// sigmoid; tanh uses an odd polynomial for |x| < 0.625 (Cephes tanhf) so small values keep their relative accuracy.

typealias Float8 = SIMD8<Float>

/// e^x, Cephes expf: x = n·ln2 + r, |r| ≤ ½ln2, e^r by a degree-6 polynomial, 2^n through the exponent bits.
/// n is rounded with the 1.5·2²³ trick (adding it leaves n in the low mantissa bits), avoiding Swift's slow generic
/// SIMD float→int conversion.
@inline(__always) func exp8(_ x: Float8) -> Float8 {
    let low = Float8(repeating: -87.3), high = Float8(repeating: 88.3)
    let x = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
    let shifted = x * 1.44269504088896341 + 12582912      // 1.5·2²³ + n, exactly
    let n = shifted - 12582912
    var r = x - n * 0.693359375
    r = r - n * -2.12194440e-4
    var p = Float8(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    // bits of `shifted` are 0x4B400000 + n; 2^n has exponent field n + 127
    let twoToN = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(twoToN, to: Float8.self)
}

/// σ(x) = 1 / (1 + e^−x).
@inline(__always) func sigmoid8(_ x: Float8) -> Float8 { 1 / (1 + exp8(-x)) }

/// tanh(x): odd polynomial below |x| = 0.625, 1 − 2 / (e^{2|x|} + 1) with the sign restored above.
@inline(__always) func tanh8(_ x: Float8) -> Float8 {
    let xBits = unsafeBitCast(x, to: SIMD8<UInt32>.self), signBit = SIMD8<UInt32>(repeating: 0x8000_0000)
    let a = unsafeBitCast(xBits & ~signBit, to: Float8.self)
    let big = 1 - 2 / (exp8(2 * a) + 1)
    let z = x * x
    var p = Float8(repeating: -5.70498872745e-3)
    p = p * z + 2.06390887954e-2
    p = p * z - 5.37397155531e-2
    p = p * z + 1.33314422036e-1
    p = p * z - 3.33332819422e-1
    let small = p * z * x + x
    let signed = unsafeBitCast(unsafeBitCast(big, to: SIMD8<UInt32>.self) | (xBits & signBit), to: Float8.self)
    return signed.replacing(with: small, where: a .< 0.625)
}

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }
@inline(__always) func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self) }
