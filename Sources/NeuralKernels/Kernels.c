// c (+)= a · B on packed panels with AVX-512F: register tiles of R rows × P panels (R·P ≤ 24 accumulators of 16 lanes,
// plus P panel rows and one broadcast: at most 29 of the 32 vector registers), panels outer, row blocks inner. Then
// the LSTM cell's elementwise work (forward: gate activations and the cell; backward: the gates' gradients), 16 lanes
// at a time.

#include "NeuralKernels.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

bool nk_avx512_available(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE)) return false;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(ebx & bit_AVX512F)) return false;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;   // the OS saves SSE, AVX, opmask and both halves of the 512-bit registers
}

#define TARGET __attribute__((target("avx512f")))
/// Accumulators per tile, and the most panels one tile takes.
enum { MAX_TILE = 24, MAX_PANELS = 8 };
/// Unrolls a loop of constant trip count completely, so that the tile's arrays become registers.
#define UNROLL _Pragma("clang loop unroll(full)")

/// The first `count` ≤ 16 lanes.
static inline __mmask16 lanes(long count) { return count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1); }

/// Stores the lanes `m` of v; whole vectors unmasked, since a load can take its data from an earlier store in flight
/// only when that store was not masked (the LSTM's cell reads the gates straight after the product, the next product
/// reads h, the backward's product reads dGates).
static inline __attribute__((always_inline)) TARGET void store16(float *p, __mmask16 m, __m512 v) {
    if (m == 0xFFFF) {
        _mm512_storeu_ps(p, v);
    } else {
        _mm512_mask_storeu_ps(p, m, v);
    }
}

/// The lanes `m` at p, zero elsewhere; whole vectors unmasked (they may read what was just stored).
static inline __attribute__((always_inline)) TARGET __m512 load16(const float *p, __mmask16 m) {
    return m == 0xFFFF ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}

/// c (R, 16·P) (+)= a (R,K) · P panels (K,16), a's element (i, kk) at a[i·ar + kk·ak], panel p's row kk at
/// panel + p·ps + kk·bs; `masks[p]` selects the columns of panel p that exist in c. Inlined into one function per
/// (R, P, layout), where the loops unroll and the accumulators live in registers.
static inline __attribute__((always_inline)) TARGET void tile(const int R, const int P, long K, const float *a,
                                                              long ar, long ak, const float *panel, long ps, long bs,
                                                              float *c, long ldc, const __mmask16 *masks,
                                                              bool accumulate) {
    __m512 s[MAX_TILE][MAX_PANELS];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int p = 0; p < P; p++)
            s[r][p] = accumulate ? load16(c + r * ldc + 16 * p, masks[p]) : _mm512_setzero_ps();
    for (long kk = 0; kk < K; kk++) {
        __m512 b[MAX_PANELS];
        UNROLL for (int p = 0; p < P; p++) b[p] = _mm512_loadu_ps(panel + p * ps + kk * bs);
        UNROLL for (int r = 0; r < R; r++) {
            __m512 x = _mm512_set1_ps(a[r * ar + kk * ak]);
            UNROLL for (int p = 0; p < P; p++) s[r][p] = _mm512_fmadd_ps(x, b[p], s[r][p]);
        }
    }
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int p = 0; p < P; p++) store16(c + r * ldc + 16 * p, masks[p], s[r][p]);
}

typedef void (*TileFunction)(long K, const float *a, long ar, long ak, const float *panel, long ps, long bs, float *c,
                             long ldc, const __mmask16 *masks, bool accumulate);

// One function per (R, P) and layout: `_rows` for a stored row-major (ak = 1), `_columns` for a stored transposed
// (ar = 1), so that the constant stride folds into the addressing.
#define TILE(R, P)                                                                                                   \
    static TARGET void tile_rows_##R##_##P(long K, const float *a, long ar, long ak, const float *panel, long ps,   \
                                           long bs, float *c, long ldc, const __mmask16 *masks, bool accumulate) { \
        (void)ak;                                                                                                    \
        tile(R, P, K, a, ar, 1, panel, ps, bs, c, ldc, masks, accumulate);                                          \
    }                                                                                                                \
    static TARGET void tile_columns_##R##_##P(long K, const float *a, long ar, long ak, const float *panel, long ps, \
                                              long bs, float *c, long ldc, const __mmask16 *masks,                 \
                                              bool accumulate) {                                                     \
        (void)ar;                                                                                                    \
        tile(R, P, K, a, 1, ak, panel, ps, bs, c, ldc, masks, accumulate);                                          \
    }
#define TILES_1(R) TILE(R, 1)
#define TILES_2(R) TILE(R, 2)
#define TILES_4(R) TILE(R, 4)
#define TILES_8(R) TILE(R, 8)
#define UP_TO_3(X) X(1) X(2) X(3)
#define UP_TO_6(X) UP_TO_3(X) X(4) X(5) X(6)
#define UP_TO_12(X) UP_TO_6(X) X(7) X(8) X(9) X(10) X(11) X(12)
#define UP_TO_24(X) UP_TO_12(X) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24)
UP_TO_24(TILES_1)
UP_TO_12(TILES_2)
UP_TO_6(TILES_4)
UP_TO_3(TILES_8)

#define ENTRY_1(R) {tile_rows_##R##_1, tile_columns_##R##_1},
#define ENTRY_2(R) {tile_rows_##R##_2, tile_columns_##R##_2},
#define ENTRY_4(R) {tile_rows_##R##_4, tile_columns_##R##_4},
#define ENTRY_8(R) {tile_rows_##R##_8, tile_columns_##R##_8},
/// tiles_P[R − 1][0 row-major, 1 transposed]: tiles of R rows × P panels, R ≤ 24/P.
static const TileFunction tiles_1[24][2] = {UP_TO_24(ENTRY_1)};
static const TileFunction tiles_2[12][2] = {UP_TO_12(ENTRY_2)};
static const TileFunction tiles_4[6][2] = {UP_TO_6(ENTRY_4)};
static const TileFunction tiles_8[3][2] = {UP_TO_3(ENTRY_8)};

/// The tile of `rows` (≤ 24/P) rows × P panels (P = 1, 2, 4 or 8).
static TileFunction tile_function(int rows, int P, int layout) {
    switch (P) {
    case 8: return tiles_8[rows - 1][layout];
    case 4: return tiles_4[rows - 1][layout];
    case 2: return tiles_2[rows - 1][layout];
    default: return tiles_1[rows - 1][layout];
    }
}

void nk_avx512_product(long M, long N, long K, const float *a, long ar, long ak, const float *packed,
                       long panel_stride, long panel_row_stride, float *c, long ldc, bool accumulate) {
    const int layout = ak == 1 ? 0 : 1;
    const long panels = (N + 15) / 16;
    // Panels per tile: 8 for up to 3 rows, 4 for 4 to 11 (so that 4 or 5 rows, a thread's share of a small acting
    // batch, are one block that reads each panel once, not two), 2 once a block has 12 rows or more, where 2 panels
    // of K rows stay in L1 while every row block uses them. R·P ≤ 24 throughout.
    const int widest = M >= 12 ? 2 : M >= 4 ? 4 : 8;
    for (long j0 = 0; j0 < panels;) {
        int P = widest;
        while (P > panels - j0) P /= 2;
        __mmask16 masks[MAX_PANELS];
        for (int p = 0; p < P; p++) {
            masks[p] = lanes(N - 16 * (j0 + p));
        }
        // rows in as few blocks of at most 24/P as cover M, of sizes differing by at most one
        const long most = MAX_TILE / P, blocks = (M + most - 1) / most;
        long r = 0;
        for (long block = 0; block < blocks; block++) {
            const long rows = (block + 1) * M / blocks - block * M / blocks;
            tile_function((int)rows, P, layout)(K, a + r * ar, ar, ak, packed + j0 * panel_stride, panel_stride,
                                                panel_row_stride, c + r * ldc + j0 * 16, ldc, masks, accumulate);
            r += rows;
        }
        j0 += P;
    }
}

// The LSTM cell's forward elementwise work with AVX-512F: the same operations in the same order as NeuralCore's
// Swift `lstmCellForward` (8 lanes, FastMath's exp8, sigmoid8, tanh8), 16 lanes at a time, so both give the same bits
// (exp16 scales by 2ⁿ in one instruction where exp8 takes four, with the same exact result).
// Nothing here may be contracted into a fused multiply-add that the Swift code does not fuse.
#pragma clang fp contract(off)

/// x limited to [low, high] (NaN passes through), as `clamp8`: one `vmaxps` and one `vminps`, which return their
/// second operand when either is NaN, so x goes second.
static inline __attribute__((always_inline)) TARGET __m512 clamp16(__m512 x, float low, float high) {
    return _mm512_min_ps(_mm512_set1_ps(high), _mm512_max_ps(_mm512_set1_ps(low), x));
}

/// a·b + c in one rounding, as `fma8(a, b, c)`.
#define FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define SPLAT(v) _mm512_set1_ps(v)

/// e^x as `exp8`.
static inline __attribute__((always_inline)) TARGET __m512 exp16(__m512 x) {
    x = clamp16(x, -87.3f, 88.3f);
    const __m512 shifted = FMA(x, SPLAT(1.44269504088896341f), SPLAT(12582912.0f));
    const __m512 n = _mm512_sub_ps(shifted, SPLAT(12582912.0f));
    const __m512 r = FMA(n, SPLAT(2.12194440e-4f), FMA(n, SPLAT(-0.693359375f), x));
    __m512 p = FMA(r, SPLAT(1.9875691500e-4f), SPLAT(1.3981999507e-3f));
    p = FMA(p, r, SPLAT(8.3334519073e-3f));
    p = FMA(p, r, SPLAT(4.1665795894e-2f));
    p = FMA(p, r, SPLAT(1.6666665459e-1f));
    p = FMA(p, r, SPLAT(5.0000001201e-1f));
    p = _mm512_add_ps(FMA(p, _mm512_mul_ps(r, r), r), SPLAT(1.0f));
    // p·2ⁿ in one instruction (vscalefps), where exp8 builds 2ⁿ from its bits and multiplies: the same correctly
    // rounded p·2ⁿ, since −126 ≤ n ≤ 127 on the clamped x (DQN 1.02×: 3 ops of ~20 a σ fewer)
    return _mm512_scalef_ps(p, n);
}

/// σ(x) = 1 / (1 + e^−x), as `sigmoid8`.
static inline __attribute__((always_inline)) TARGET __m512 sigmoid16(__m512 x) {
    const __m512 minus = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)));
    return _mm512_div_ps(SPLAT(1.0f), _mm512_add_ps(SPLAT(1.0f), exp16(minus)));
}

/// tanh(x) as `tanh8`.
static inline __attribute__((always_inline)) TARGET __m512 tanh16(__m512 x) {
    const __m512 y = clamp16(x, -7.90531110763549805f, 7.90531110763549805f), y2 = _mm512_mul_ps(y, y);
    __m512 p = FMA(y2, SPLAT(-2.76076847742355e-16f), SPLAT(2.00018790482477e-13f));
    p = FMA(p, y2, SPLAT(-8.60467152213735e-11f));
    p = FMA(p, y2, SPLAT(5.12229709037114e-08f));
    p = FMA(p, y2, SPLAT(1.48572235717979e-05f));
    p = FMA(p, y2, SPLAT(6.37261928875436e-04f));
    p = FMA(p, y2, SPLAT(4.89352455891786e-03f));
    __m512 q = FMA(y2, SPLAT(1.19825839466702e-06f), SPLAT(1.18534705686654e-04f));
    q = FMA(q, y2, SPLAT(2.26843463243900e-03f));
    q = FMA(q, y2, SPLAT(4.89352518554385e-03f));
    const __m512 magnitude =
        _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)));
    const __mmask16 tiny = _mm512_cmp_ps_mask(magnitude, SPLAT(0.0004f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(tiny, _mm512_div_ps(_mm512_mul_ps(y, p), q), x);
}

/// σ or tanh of gates[j..<j+16] + bias[j..<j+16] (the lanes of `m`), stored back in place.
static inline __attribute__((always_inline)) TARGET void activate(float *gates, const float *bias, long j,
                                                                  __mmask16 m, bool tanh) {
    const __m512 x = _mm512_add_ps(load16(gates + j, m), load16(bias + j, m));
    store16(gates + j, m, tanh ? tanh16(x) : sigmoid16(x));
}

TARGET void nk_avx512_lstm_cell_forward(float *gates, const float *bias, const float *c_prev, float *cell,
                                        float *tanh_cell, float *hidden, long hidden_stride, long H, long rows) {
    // Per row two passes, as Swift's: all 4H activations (stored in place), then the cell. Each pass is a loop of
    // independent iterations whose long chains (exp and a division; tanh) overlap; one pass over 16 units at a time
    // (their four gates, then their cell: one chain of both) ran 6–7% slower, even with two such blocks interleaved.
    // The activations are lane by lane, so any blocking gives Swift's bits; the cell follows Swift's 8-lane loop,
    // which fuses f·cPrev + (i·g), except its scalar tail (the last H mod 8), which does not.
    const long vectorized = H - H % 8;
    for (long r = 0; r < rows; r++) {
        float *gr = gates + r * 4 * H, *cr = cell + r * H, *tr = tanh_cell + r * H, *hr = hidden + r * hidden_stride;
        const float *pr = c_prev + r * H;
        for (long j = 0; j < 2 * H; j += 16) activate(gr, bias, j, lanes(2 * H - j), false);  // i, f
        for (long j = 2 * H; j < 3 * H; j += 16) activate(gr, bias, j, lanes(3 * H - j), true);  // g
        for (long j = 3 * H; j < 4 * H; j += 16) activate(gr, bias, j, lanes(4 * H - j), false);  // o
        const float *i = gr, *f = gr + H, *g = gr + 2 * H, *o = gr + 3 * H;
        for (long j = 0; j < vectorized; j += 16) {
            const __mmask16 m = lanes(vectorized - j);
            const __m512 ig = _mm512_mul_ps(load16(i + j, m), load16(g + j, m));
            const __m512 c = FMA(load16(f + j, m), load16(pr + j, m), ig);
            const __m512 tc = tanh16(c);
            store16(cr + j, m, c);
            store16(tr + j, m, tc);
            store16(hr + j, m, _mm512_mul_ps(load16(o + j, m), tc));
        }
        for (long u = vectorized; u < H; u++) {
            const float c = f[u] * pr[u] + i[u] * g[u];
            const float tc = _mm512_cvtss_f32(tanh16(_mm512_set1_ps(c)));
            cr[u] = c;
            tr[u] = tc;
            hr[u] = o[u] * tc;
        }
    }
}

/// One row of `nk_avx512_lstm_cell_backward`.
static inline __attribute__((always_inline)) TARGET void cell_backward_row(const float *gates, const float *c_prev,
                                                                           const float *tanh_cell,
                                                                           const float *d_hidden, const float *dh,
                                                                           float *dc, float *d_gates, long H) {
    const __m512 one = SPLAT(1.0f);
#define MUL _mm512_mul_ps
#define SUB _mm512_sub_ps
    // lane by lane, unfused, as Swift's loop and its tail; d_gates may be gates (each block is read before written)
    for (long j = 0; j < H; j += 16) {
        const __mmask16 m = lanes(H - j);
        const __m512 i = load16(gates + j, m), f = load16(gates + H + j, m),
                     g = load16(gates + 2 * H + j, m), o = load16(gates + 3 * H + j, m);
        const __m512 tc = load16(tanh_cell + j, m);
        const __m512 dhj = _mm512_add_ps(load16(dh + j, m), load16(d_hidden + j, m));
        const __m512 dcj = _mm512_add_ps(load16(dc + j, m), MUL(MUL(dhj, o), SUB(one, MUL(tc, tc))));
        store16(d_gates + j, m, MUL(MUL(MUL(dcj, g), i), SUB(one, i)));
        store16(d_gates + H + j, m, MUL(MUL(MUL(dcj, load16(c_prev + j, m)), f), SUB(one, f)));
        store16(d_gates + 2 * H + j, m, MUL(MUL(dcj, i), SUB(one, MUL(g, g))));
        store16(d_gates + 3 * H + j, m, MUL(MUL(MUL(dhj, tc), o), SUB(one, o)));
        store16(dc + j, m, MUL(dcj, f));
    }
#undef MUL
#undef SUB
}

TARGET void nk_avx512_lstm_cell_backward(const float *gates, const float *c_prev, const float *tanh_cell,
                                         const float *d_hidden, long d_hidden_stride, const float *dh,
                                         long dh_stride, float *dc, float *d_gates, long H, long rows) {
    for (long r = 0; r < rows; r++)
        cell_backward_row(gates + r * 4 * H, c_prev + r * H, tanh_cell + r * H, d_hidden + r * d_hidden_stride,
                          dh + r * dh_stride, dc + r * H, d_gates + r * 4 * H, H);
}

// The machine's ceiling for the products: independent fused multiply-add chains, more than the FMA latency times the
// FMA ports (16 of the 32 AVX-512 registers, 12 of the 16 AVX2 ones, so that none spills), on one thread; one function
// per instruction set. The benchmarks run it on every thread at once beside their figures.
#define FMA_CHAINS(NAME, ATTRIBUTE, VECTOR, CHAINS, LANES, SET1, FMADD, ADD, STORE)                                \
    ATTRIBUTE long NAME(long rounds) {                                                                               \
        VECTOR s[CHAINS];                                                                                            \
        const VECTOR b = SET1(0.999999f), c = SET1(1e-6f);                                                           \
        UNROLL for (int k = 0; k < CHAINS; k++) s[k] = SET1((float)k);                                               \
        for (long r = 0; r < rounds; r++) UNROLL for (int k = 0; k < CHAINS; k++) s[k] = FMADD(s[k], b, c);         \
        VECTOR sum = s[0];                                                                                           \
        UNROLL for (int k = 1; k < CHAINS; k++) sum = ADD(sum, s[k]);                                                \
        float lanes[LANES];                                                                                          \
        STORE(lanes, sum);                                                                                           \
        volatile float sink = lanes[0]; /* keeps the chains */                                                       \
        (void)sink;                                                                                                  \
        return rounds * CHAINS * LANES * 2;                                                                          \
    }
FMA_CHAINS(nk_avx512_fma_chains, TARGET, __m512, 16, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps,
           _mm512_storeu_ps)
FMA_CHAINS(nk_avx2_fma_chains, __attribute__((target("avx2,fma"))), __m256, 12, 8, _mm256_set1_ps, _mm256_fmadd_ps,
           _mm256_add_ps, _mm256_storeu_ps)

#else   // not x86-64: no AVX-512, and NeuralCore never calls the product

bool nk_avx512_available(void) { return false; }

void nk_avx512_product(long m, long n, long k, const float *a, long ar, long ak, const float *packed,
                       long panel_stride, long panel_row_stride, float *c, long ldc, bool accumulate) {
    __builtin_trap();
}

void nk_avx512_lstm_cell_forward(float *gates, const float *bias, const float *c_prev, float *cell, float *tanh_cell,
                                 float *hidden, long hidden_stride, long H, long rows) {
    __builtin_trap();
}

void nk_avx512_lstm_cell_backward(const float *gates, const float *c_prev, const float *tanh_cell,
                                  const float *d_hidden, long d_hidden_stride, const float *dh, long dh_stride,
                                  float *dc, float *d_gates, long H, long rows) {
    __builtin_trap();
}

long nk_avx512_fma_chains(long rounds) { __builtin_trap(); }

long nk_avx2_fma_chains(long rounds) { __builtin_trap(); }

#endif
