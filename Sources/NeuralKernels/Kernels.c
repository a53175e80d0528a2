// c (+)= a · B on packed panels with AVX-512F: register tiles of R rows × P panels (R·P ≤ 24 accumulators of 16 lanes,
// plus P panel rows and one broadcast: at most 29 of the 32 vector registers), panels outer, row blocks inner.

#include "NeuralKernels.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

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

/// c (R, 16·P) (+)= a (R,K) · P panels (K,16), a's element (i, kk) at a[i·ar + kk·ak]; `masks[p]` selects the columns
/// of panel p that exist in c. Inlined into one function per (R, P, layout), where the loops unroll and the
/// accumulators live in registers.
static inline __attribute__((always_inline)) TARGET void tile(const int R, const int P, long K, const float *a,
                                                              long ar, long ak, const float *panel, long ps,
                                                              float *c, long ldc, const __mmask16 *masks,
                                                              bool accumulate) {
    __m512 s[MAX_TILE][MAX_PANELS];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int p = 0; p < P; p++)
            s[r][p] = accumulate ? _mm512_maskz_loadu_ps(masks[p], c + r * ldc + 16 * p) : _mm512_setzero_ps();
    for (long kk = 0; kk < K; kk++) {
        __m512 b[MAX_PANELS];
        UNROLL for (int p = 0; p < P; p++) b[p] = _mm512_loadu_ps(panel + p * ps + kk * 16);
        UNROLL for (int r = 0; r < R; r++) {
            __m512 x = _mm512_set1_ps(a[r * ar + kk * ak]);
            UNROLL for (int p = 0; p < P; p++) s[r][p] = _mm512_fmadd_ps(x, b[p], s[r][p]);
        }
    }
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int p = 0; p < P; p++) _mm512_mask_storeu_ps(c + r * ldc + 16 * p, masks[p], s[r][p]);
}

typedef void (*TileFunction)(long K, const float *a, long ar, long ak, const float *panel, long ps, float *c,
                             long ldc, const __mmask16 *masks, bool accumulate);

// One function per (R, P) and layout: `_rows` for a stored row-major (ak = 1), `_columns` for a stored transposed
// (ar = 1), so that the constant stride folds into the addressing.
#define TILE(R, P)                                                                                                   \
    static TARGET void tile_rows_##R##_##P(long K, const float *a, long ar, long ak, const float *panel, long ps,   \
                                           float *c, long ldc, const __mmask16 *masks, bool accumulate) {          \
        (void)ak;                                                                                                    \
        tile(R, P, K, a, ar, 1, panel, ps, c, ldc, masks, accumulate);                                              \
    }                                                                                                                \
    static TARGET void tile_columns_##R##_##P(long K, const float *a, long ar, long ak, const float *panel, long ps, \
                                              float *c, long ldc, const __mmask16 *masks, bool accumulate) {       \
        (void)ar;                                                                                                    \
        tile(R, P, K, a, 1, ak, panel, ps, c, ldc, masks, accumulate);                                              \
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
                       long panel_stride, float *c, long ldc, bool accumulate) {
    const int layout = ak == 1 ? 0 : 1;
    const long panels = (N + 15) / 16;
    // Panels per tile: as many as keep R·P ≤ 24 for the rows there are (single rows take 8), at most 2 once a
    // block has 12 rows or more, where 2 panels of K rows stay in L1 while every row block uses them.
    const int widest = M >= 12 ? 2 : M >= 6 ? 4 : 8;
    for (long j0 = 0; j0 < panels;) {
        int P = widest;
        while (P > panels - j0) P /= 2;
        __mmask16 masks[MAX_PANELS];
        for (int p = 0; p < P; p++) {
            const long columns = N - 16 * (j0 + p);
            masks[p] = columns >= 16 ? 0xFFFF : (__mmask16)((1u << columns) - 1);
        }
        // rows in as few blocks of at most 24/P as cover M, of sizes differing by at most one
        const long most = MAX_TILE / P, blocks = (M + most - 1) / most;
        long r = 0;
        for (long block = 0; block < blocks; block++) {
            const long rows = (block + 1) * M / blocks - block * M / blocks;
            tile_function((int)rows, P, layout)(K, a + r * ar, ar, ak, packed + j0 * panel_stride, panel_stride,
                                                c + r * ldc + j0 * 16, ldc, masks, accumulate);
            r += rows;
        }
        j0 += P;
    }
}

#else   // not x86-64: no AVX-512, and NeuralCore never calls the product

bool nk_avx512_available(void) { return false; }

void nk_avx512_product(long m, long n, long k, const float *a, long ar, long ak, const float *packed,
                       long panel_stride, float *c, long ldc, bool accumulate) {
    __builtin_trap();
}

#endif
