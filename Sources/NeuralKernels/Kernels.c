// c (+)= a · B on packed panels with AVX-512F: register tiles of R rows × P panels (R·P ≤ 24 accumulators of 16 lanes,
// plus P panel rows and one broadcast: at most 29 of the 32 vector registers), panels outer, row blocks inner. Then
// the LSTM cell's elementwise work (forward: gate activations and the cell; backward: the gates' gradients), 16 lanes
// at a time with AVX-512F and 8 with AVX2 + FMA, from one source (LSTMCell.h).

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

// The LSTM cell's elementwise work, written once (LSTMCell.h) and compiled here for each vector width: the same
// operations in the same order as NeuralCore's Swift `lstmCellForward` and `lstmCellBackward` (8 lanes, FastMath's
// exp8, sigmoid8, tanh8), lane by lane, so every width gives the Swift cell's bits. Nothing may be contracted into a
// fused multiply-add that the Swift code does not fuse.
#pragma clang fp contract(off)

// AVX-512F: 16 lanes, tails under a lane mask.
#define CELL_TARGET TARGET
#define CELL_NAME(name) name##_avx512
#define CELL_FORWARD nk_avx512_lstm_cell_forward
#define CELL_BACKWARD nk_avx512_lstm_cell_backward
#define W 16
#define VECTOR __m512
#define LOAD(p, count) load16((p), lanes(count))
#define STORE(p, count, v) store16((p), lanes(count), (v))
#define SPLAT _mm512_set1_ps
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define DIV _mm512_div_ps
#define FMA _mm512_fmadd_ps
#define MIN _mm512_min_ps
#define MAX _mm512_max_ps
#define FIRST _mm512_cvtss_f32
#define NEGATE(x) _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)))
#define ABS(x) _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)))
/// x where |x| < t, else y.
#define WHERE_BELOW(magnitude, t, x, y) \
    _mm512_mask_blend_ps(_mm512_cmp_ps_mask((magnitude), SPLAT(t), _CMP_LT_OQ), (y), (x))
/// p·2ⁿ in one instruction (vscalefps), where exp8 builds 2ⁿ from the bits of `shifted` and multiplies: the same
/// correctly rounded p·2ⁿ, since −126 ≤ n ≤ 127 on the clamped x (DQN 1.02×: 3 ops of ~20 a σ fewer).
#define SCALE_BY_TWO_TO(p, n, shifted) _mm512_scalef_ps((p), (n))
#include "LSTMCell.h"

// AVX2 + FMA: 8 lanes, tails through `vmaskmovps`.
#define AVX2_TARGET __attribute__((target("avx2,fma")))
/// The first `count` lanes (all from 8), as a `vmaskmovps` mask.
static inline __attribute__((always_inline)) AVX2_TARGET __m256i lanes8(long count) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count < 8 ? count : 8)), iota);
}
/// The first `count` lanes at p, zero elsewhere; a whole vector unmasked (it may read what was just stored).
static inline __attribute__((always_inline)) AVX2_TARGET __m256 load8(const float *p, long count) {
    return count >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes8(count));
}
/// Stores the first `count` lanes of v; a whole vector unmasked (so that a later load can take it from the store).
static inline __attribute__((always_inline)) AVX2_TARGET void store8(float *p, long count, __m256 v) {
    if (count >= 8) {
        _mm256_storeu_ps(p, v);
    } else {
        _mm256_maskstore_ps(p, lanes8(count), v);
    }
}
#define CELL_TARGET AVX2_TARGET
#define CELL_NAME(name) name##_avx2
#define CELL_FORWARD nk_avx2_lstm_cell_forward
#define CELL_BACKWARD nk_avx2_lstm_cell_backward
#define W 8
#define VECTOR __m256
#define LOAD load8
#define STORE store8
#define SPLAT _mm256_set1_ps
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps
#define FMA _mm256_fmadd_ps
#define MIN _mm256_min_ps
#define MAX _mm256_max_ps
#define FIRST _mm256_cvtss_f32
#define NEGATE(x) _mm256_xor_ps((x), _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN)))
#define ABS(x) _mm256_and_ps((x), _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)))
#define WHERE_BELOW(magnitude, t, x, y) \
    _mm256_blendv_ps((y), (x), _mm256_cmp_ps((magnitude), SPLAT(t), _CMP_LT_OQ))
/// p·2ⁿ as exp8: 2ⁿ from the bits of `shifted` (0x4B400000 + n), exponent field n + 127.
#define SCALE_BY_TWO_TO(p, n, shifted)                                                                            \
    MUL((p), _mm256_castsi256_ps(_mm256_slli_epi32(                                                              \
                 _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000)), \
                                  _mm256_set1_epi32(127)),                                                        \
                 23)))
#include "LSTMCell.h"

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
FMA_CHAINS(nk_avx2_fma_chains, AVX2_TARGET, __m256, 12, 8, _mm256_set1_ps, _mm256_fmadd_ps,
           _mm256_add_ps, _mm256_storeu_ps)

#else   // not x86-64: no AVX-512 or AVX2, and NeuralCore never calls these

bool nk_avx512_available(void) { return false; }

void nk_avx512_product(long m, long n, long k, const float *a, long ar, long ak, const float *packed,
                       long panel_stride, long panel_row_stride, float *c, long ldc, bool accumulate) {
    __builtin_trap();
}

/// The cell's two functions for one width, each a trap.
#define TRAPPING_CELL(WIDTH)                                                                                         \
    void nk_##WIDTH##_lstm_cell_forward(float *gates, const float *bias, const float *c_prev, float *cell,          \
                                        float *tanh_cell, float *hidden, long hidden_stride, long H, long rows) {   \
        __builtin_trap();                                                                                            \
    }                                                                                                                \
    void nk_##WIDTH##_lstm_cell_backward(const float *gates, const float *c_prev, const float *tanh_cell,           \
                                         const float *d_hidden, long d_hidden_stride, const float *dh,              \
                                         long dh_stride, float *dc, float *d_gates, long H, long rows) {            \
        __builtin_trap();                                                                                            \
    }
TRAPPING_CELL(avx512)
TRAPPING_CELL(avx2)

long nk_avx512_fma_chains(long rounds) { __builtin_trap(); }

long nk_avx2_fma_chains(long rounds) { __builtin_trap(); }

#endif
