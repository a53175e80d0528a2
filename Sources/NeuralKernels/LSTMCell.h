// The LSTM cell's elementwise work for one vector width, included by Kernels.c once per instruction set after it
// defines: CELL_TARGET (the function attribute), CELL_NAME(name) (a helper's name for this width), CELL_FORWARD and
// CELL_BACKWARD (the exported functions), W (lanes), VECTOR (the vector type); LOAD(p, count) (the first `count` lanes,
// all from W on, zero elsewhere) and STORE(p, count, v); SPLAT, ADD, SUB, MUL, DIV, FMA, MIN, MAX, FIRST (lane 0),
// NEGATE, ABS; WHERE_BELOW(magnitude, t, x, y) (x where magnitude < t, else y); SCALE_BY_TWO_TO(p, n, shifted) (p·2ⁿ,
// with shifted = 1.5·2²³ + n as a float), all undefined again at the end. Every operation is lane by lane, so any width
// gives the same bits.

/// x limited to [low, high] (NaN passes through), as `clamp8`: a max and a min, which return their second operand
/// when either is NaN, so x goes second.
static inline __attribute__((always_inline)) CELL_TARGET VECTOR CELL_NAME(clamp)(VECTOR x, float low, float high) {
    return MIN(SPLAT(high), MAX(SPLAT(low), x));
}

/// e^x as `exp8`.
static inline __attribute__((always_inline)) CELL_TARGET VECTOR CELL_NAME(exp)(VECTOR x) {
    x = CELL_NAME(clamp)(x, -87.3f, 88.3f);
    const VECTOR shifted = FMA(x, SPLAT(1.44269504088896341f), SPLAT(12582912.0f));
    const VECTOR n = SUB(shifted, SPLAT(12582912.0f));
    const VECTOR r = FMA(n, SPLAT(2.12194440e-4f), FMA(n, SPLAT(-0.693359375f), x));
    VECTOR p = FMA(r, SPLAT(1.9875691500e-4f), SPLAT(1.3981999507e-3f));
    p = FMA(p, r, SPLAT(8.3334519073e-3f));
    p = FMA(p, r, SPLAT(4.1665795894e-2f));
    p = FMA(p, r, SPLAT(1.6666665459e-1f));
    p = FMA(p, r, SPLAT(5.0000001201e-1f));
    p = ADD(FMA(p, MUL(r, r), r), SPLAT(1.0f));
    return SCALE_BY_TWO_TO(p, n, shifted);
}

/// σ(x) = 1 / (1 + e^−x), as `sigmoid8`.
static inline __attribute__((always_inline)) CELL_TARGET VECTOR CELL_NAME(sigmoid)(VECTOR x) {
    return DIV(SPLAT(1.0f), ADD(SPLAT(1.0f), CELL_NAME(exp)(NEGATE(x))));
}

/// tanh(x) as `tanh8`.
static inline __attribute__((always_inline)) CELL_TARGET VECTOR CELL_NAME(tanh)(VECTOR x) {
    const VECTOR y = CELL_NAME(clamp)(x, -7.90531110763549805f, 7.90531110763549805f), y2 = MUL(y, y);
    VECTOR p = FMA(y2, SPLAT(-2.76076847742355e-16f), SPLAT(2.00018790482477e-13f));
    p = FMA(p, y2, SPLAT(-8.60467152213735e-11f));
    p = FMA(p, y2, SPLAT(5.12229709037114e-08f));
    p = FMA(p, y2, SPLAT(1.48572235717979e-05f));
    p = FMA(p, y2, SPLAT(6.37261928875436e-04f));
    p = FMA(p, y2, SPLAT(4.89352455891786e-03f));
    VECTOR q = FMA(y2, SPLAT(1.19825839466702e-06f), SPLAT(1.18534705686654e-04f));
    q = FMA(q, y2, SPLAT(2.26843463243900e-03f));
    q = FMA(q, y2, SPLAT(4.89352518554385e-03f));
    return WHERE_BELOW(ABS(x), 0.0004f, x, DIV(MUL(y, p), q));
}

/// σ or tanh of gates[j..<j+W] + bias[j..<j+W] (the first `count` lanes), stored back in place.
static inline __attribute__((always_inline)) CELL_TARGET void CELL_NAME(activate)(float *gates, const float *bias,
                                                                                  long j, long count, bool tanh) {
    const VECTOR x = ADD(LOAD(gates + j, count), LOAD(bias + j, count));
    STORE(gates + j, count, tanh ? CELL_NAME(tanh)(x) : CELL_NAME(sigmoid)(x));
}

/// `activate` over gates[from..<to]: whole vectors, whose loads and stores are unmasked (a count known to be W folds
/// the tests away: 223 → 188 ns a row at H = 64 with AVX2), then the tail under a mask.
static inline __attribute__((always_inline)) CELL_TARGET void CELL_NAME(activate_range)(float *gates,
                                                                                        const float *bias, long from,
                                                                                        long to, bool tanh) {
    const long whole = from + (to - from) / W * W;
    // not unrolled: unrolled, clang kept the polynomials' constants in registers and rotated them through 14
    // `vmovaps` an iteration (AVX2: 188 ns a row of H = 64 rather than 174–182)
#pragma clang loop unroll(disable)
    for (long j = from; j < whole; j += W) CELL_NAME(activate)(gates, bias, j, W, tanh);
    if (whole < to) CELL_NAME(activate)(gates, bias, whole, to - whole, tanh);
}

/// The cell of units j..<j+W (the first `count` of them), fused as Swift's 8-lane loop.
static inline __attribute__((always_inline)) CELL_TARGET void CELL_NAME(cell)(const float *i, const float *f,
                                                                              const float *g, const float *o,
                                                                              const float *c_prev, float *cell,
                                                                              float *tanh_cell, float *hidden,
                                                                              long j, long count) {
    const VECTOR ig = MUL(LOAD(i + j, count), LOAD(g + j, count));
    const VECTOR c = FMA(LOAD(f + j, count), LOAD(c_prev + j, count), ig);
    const VECTOR tc = CELL_NAME(tanh)(c);
    STORE(cell + j, count, c);
    STORE(tanh_cell + j, count, tc);
    STORE(hidden + j, count, MUL(LOAD(o + j, count), tc));
}

CELL_TARGET void CELL_FORWARD(float *gates, const float *bias, const float *c_prev, float *cell, float *tanh_cell,
                              float *hidden, long hidden_stride, long H, long rows) {
    // Per row two passes, as Swift's: all 4H activations (stored in place), then the cell. Each pass is a loop of
    // independent iterations whose long chains (exp and a division; tanh) overlap; one pass over 16 units at a time
    // (their four gates, then their cell: one chain of both) ran 6–7% slower with AVX-512, even with two such blocks
    // interleaved. The activations are lane by lane, so any blocking gives Swift's bits; the cell follows Swift's
    // 8-lane loop, which fuses f·cPrev + (i·g), except its scalar tail (the last H mod 8), which does not.
    const long vectorized = H - H % 8;
    for (long r = 0; r < rows; r++) {
        float *gr = gates + r * 4 * H, *cr = cell + r * H, *tr = tanh_cell + r * H, *hr = hidden + r * hidden_stride;
        const float *pr = c_prev + r * H;
        CELL_NAME(activate_range)(gr, bias, 0, 2 * H, false);  // i, f
        CELL_NAME(activate_range)(gr, bias, 2 * H, 3 * H, true);  // g
        CELL_NAME(activate_range)(gr, bias, 3 * H, 4 * H, false);  // o
        const float *i = gr, *f = gr + H, *g = gr + 2 * H, *o = gr + 3 * H;
        long j = 0;
        for (; j + W <= vectorized; j += W) CELL_NAME(cell)(i, f, g, o, pr, cr, tr, hr, j, W);
        if (j < vectorized) CELL_NAME(cell)(i, f, g, o, pr, cr, tr, hr, j, vectorized - j);
        for (long u = vectorized; u < H; u++) {
            const float c = f[u] * pr[u] + i[u] * g[u];
            const float tc = FIRST(CELL_NAME(tanh)(SPLAT(c)));
            cr[u] = c;
            tr[u] = tc;
            hr[u] = o[u] * tc;
        }
    }
}

CELL_TARGET void CELL_BACKWARD(const float *gates, const float *c_prev, const float *tanh_cell, const float *d_hidden,
                               long d_hidden_stride, const float *dh, long dh_stride, float *dc, float *d_gates, long H,
                               long rows) {
    const VECTOR one = SPLAT(1.0f);
    for (long r = 0; r < rows; r++) {
        const float *gr = gates + r * 4 * H, *pr = c_prev + r * H, *tr = tanh_cell + r * H;
        const float *hr = d_hidden + r * d_hidden_stride, *dhr = dh + r * dh_stride;
        float *dcr = dc + r * H, *dgr = d_gates + r * 4 * H;
        // lane by lane, unfused, as Swift's loop and its tail; d_gates may be gates (each block is read before written)
        for (long j = 0; j < H; j += W) {
            const long count = j + W <= H ? W : H - j;  // W: unmasked, as in `activate_range`
            const VECTOR i = LOAD(gr + j, count), f = LOAD(gr + H + j, count), g = LOAD(gr + 2 * H + j, count),
                         o = LOAD(gr + 3 * H + j, count);
            const VECTOR tc = LOAD(tr + j, count);
            const VECTOR dhj = ADD(LOAD(dhr + j, count), LOAD(hr + j, count));
            const VECTOR dcj = ADD(LOAD(dcr + j, count), MUL(MUL(dhj, o), SUB(one, MUL(tc, tc))));
            STORE(dgr + j, count, MUL(MUL(MUL(dcj, g), i), SUB(one, i)));
            STORE(dgr + H + j, count, MUL(MUL(MUL(dcj, LOAD(pr + j, count)), f), SUB(one, f)));
            STORE(dgr + 2 * H + j, count, MUL(MUL(dcj, i), SUB(one, MUL(g, g))));
            STORE(dgr + 3 * H + j, count, MUL(MUL(MUL(dhj, tc), o), SUB(one, o)));
            STORE(dcr + j, count, MUL(dcj, f));
        }
    }
}

#undef CELL_TARGET
#undef CELL_NAME
#undef CELL_FORWARD
#undef CELL_BACKWARD
#undef W
#undef VECTOR
#undef LOAD
#undef STORE
#undef SPLAT
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef FMA
#undef MIN
#undef MAX
#undef FIRST
#undef NEGATE
#undef ABS
#undef WHERE_BELOW
#undef SCALE_BY_TWO_TO
