// AVX-512 micro-kernels for NeuralCore's packed products and the LSTM cell at both widths, selected at run time
// (`MicroKernels` in NeuralCore). Only the functions below carry target attributes, so this library loads and runs on
// any x86-64 CPU; call the `nk_avx512_` ones only where `nk_avx512_available()` is true.
#ifndef NEURAL_KERNELS_H
#define NEURAL_KERNELS_H

#include <stdbool.h>

/// Whether this CPU runs AVX-512F and the OS saves its registers (cpuid and xgetbv).
bool nk_avx512_available(void);

/// c (M,N) = a (M,K) · B (K,N), or c += … when `accumulate`. Element (i, kk) of a is at a[i·ar + kk·ak] with either
/// ak = 1 (rows `ar` apart) or ar = 1 (a stored transposed, (K,M), rows `ak` apart). B is in 16-column panels, panel j
/// at packed + j·panel_stride, its rows of 16 floats `panel_row_stride` apart: packed by `packPanels` (row stride 16:
/// panel j holds columns 16j..<16j+16, zero past N), or B itself when N is a multiple of 16 (panel stride 16, row
/// stride B's). Rows of c are `ldc` apart and only its first N columns are written. Every element is one
/// left-to-right fused multiply-add chain c₀ + a₀b₀ + a₁b₁ + … (c₀ = 0 unless accumulating), as in the Swift AVX2
/// kernels: both give the same bits.
void nk_avx512_product(long m, long n, long k, const float *a, long ar, long ak, const float *packed,
                       long panel_stride, long panel_row_stride, float *c, long ldc, bool accumulate);

/// One step of `rows` sequences of the LSTM cell, forward (NeuralCore's `lstmCellForward` row by row, the same bits):
/// per row r, gates (4H, rows 4H apart) pre-activations + bias (4H) → i, f, g, o = σ, σ, tanh, σ (in place); cell (H)
/// = f ⊙ c_prev + i ⊙ g; tanh_cell (H) = tanh(cell); hidden (H) = o ⊙ tanh_cell. c_prev, cell and tanh_cell rows are
/// H apart, hidden rows `hidden_stride`. One source (LSTMCell.h) for both widths: AVX-512F (only where
/// `nk_avx512_available()`) and AVX2 + FMA (any x86-64-v3 CPU, which NeuralCore's Swift code needs too).
void nk_avx512_lstm_cell_forward(float *gates, const float *bias, const float *c_prev, float *cell, float *tanh_cell,
                                 float *hidden, long hidden_stride, long H, long rows);
void nk_avx2_lstm_cell_forward(float *gates, const float *bias, const float *c_prev, float *cell, float *tanh_cell,
                               float *hidden, long hidden_stride, long H, long rows);

/// One step of `rows` sequences of the LSTM cell, backward (NeuralCore's `lstmCellBackward` row by row, the same
/// bits): per row, dh (H) + d_hidden (H) in, dc (H) carries dc_t in and dc_{t−1} out, d_gates (4H) written (it may be
/// `gates`). gates and d_gates rows are 4H apart, c_prev, tanh_cell and dc rows H apart, d_hidden rows
/// `d_hidden_stride` (0: one row for all) and dh rows `dh_stride`. AVX-512F and AVX2 + FMA, as the forward.
void nk_avx512_lstm_cell_backward(const float *gates, const float *c_prev, const float *tanh_cell,
                                  const float *d_hidden, long d_hidden_stride, const float *dh, long dh_stride,
                                  float *dc, float *d_gates, long H, long rows);
void nk_avx2_lstm_cell_backward(const float *gates, const float *c_prev, const float *tanh_cell,
                                const float *d_hidden, long d_hidden_stride, const float *dh, long dh_stride,
                                float *dc, float *d_gates, long H, long rows);

/// `rounds` rounds of 16 independent fused multiply-add chains on 16 lanes (AVX-512F, only where
/// `nk_avx512_available()`), or of 12 on 8 lanes (AVX2 + FMA); returns the floating-point operations done (2 per lane
/// and multiply-add). Timed on every thread at once, the machine's ceiling for the products (`tradesim bench nn`).
long nk_avx512_fma_chains(long rounds);
long nk_avx2_fma_chains(long rounds);

/// The spin-wait hint (`pause`) for a thread that polls a flag.
static inline void nk_spin_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

#endif
