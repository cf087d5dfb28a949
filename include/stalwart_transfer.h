/* Stalwart C API — part of stalwart.h (include "stalwart.h", not this file directly). */
#ifndef STALWART_TRANSFER_H
#define STALWART_TRANSFER_H

#include "stalwart.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Transfer: few-shot linear evaluation, linear probes, correlations (API version 5).       */
/* ---------------------------------------------------------------------------------------- */

/* Features are float32 row-major [N, D] matrices (caller-owned, read during the call, finite),
 * labels int64 in 0 .. 2^24 − 1 (one per row, as in the metrics API). Every function validates its arguments (NULL
 * pointers, N or D < 1, NaN or infinite features, mismatched sizes, a training set with fewer
 * than two classes, a class with fewer examples than the requested shots) and fails with
 * STALWART_ERROR_INVALID_ARGUMENT and a message naming the problem; output buffers are
 * written only on success.
 *
 * Few-shot linear evaluation is big_vision's `fewshot_lsr`: features whitened with the few-shot
 * training set's mean and population std (+ 1e-5), a bias column of constant 100, targets
 * 2·onehot − 1, ridge regression in closed form through one symmetric eigendecomposition
 * (of XᵀX when N ≥ D + 1, of XXᵀ otherwise; LAPACK ?syevd through OpenBLAS) so every λ of a
 * sweep reuses it, prediction = first argmax of the scores.
 *
 * Thread-safety: every function may be called concurrently from many threads. Linear algebra
 * runs on the caller's thread (Debian's serial OpenBLAS: no thread is started); the BLAS/LAPACK
 * calls themselves are serialized by one process-wide lock. */

/** Solver precision: the algorithm in float64 (recommended: float32 eigendecompositions of XᵀX,
 *  whose norm the bias 100 inflates to ≈ N·10⁴, leave weight errors ≈ 1.2e-7·N·10⁴/λ), or in
 *  float32 as big_vision's JAX code runs it. */
#define STALWART_PRECISION_FLOAT32 0
#define STALWART_PRECISION_FLOAT64 1

/** Correlation coefficients (SciPy's kendalltau (τ-b), spearmanr, pearsonr). */
#define STALWART_CORRELATION_KENDALL 0
#define STALWART_CORRELATION_SPEARMAN 1
#define STALWART_CORRELATION_PEARSON 2

/** Few-shot ridge accuracy for each λ of a sweep. train_x [n_train, dim] with labels train_y
 *  [n_train]; test_x [n_test, dim] with test_y [n_test]; l2_regs [l2_count] (each > 0).
 *  num_classes is the one-hot width (0 = max label over train and test + 1; else ≥ that).
 *  precision is STALWART_PRECISION_*. out_accuracies [l2_count] receives the fraction of test
 *  rows classified correctly per λ. */
stalwart_status stalwart_fewshot_lsr(const float *train_x, const int64_t *train_y, int64_t n_train,
                                     int64_t dim, const float *test_x, const int64_t *test_y,
                                     int64_t n_test, const double *l2_regs, size_t l2_count,
                                     int32_t num_classes, int32_t precision,
                                     double *out_accuracies);

/** Fits one few-shot ridge classifier (as stalwart_fewshot_lsr with a single λ = l2).
 *  num_classes as above (0 = max train label + 1). Outputs (each may be NULL to skip):
 *  out_weights [(dim + 1) × C] row-major float64 weights on whitened features, row `dim`
 *  multiplying the bias constant 100, with weights_capacity its size in doubles
 *  (STALWART_ERROR_BUFFER_TOO_SMALL if smaller); out_mean, out_std [dim] the whitening
 *  statistics (std includes the + 1e-5); out_predictions [n_test] the predicted class of each
 *  test_x row (test_x may be NULL with n_test 0); out_num_classes receives C. */
stalwart_status stalwart_fewshot_lsr_fit(const float *train_x, const int64_t *train_y, int64_t n_train,
                                         int64_t dim, const float *test_x, int64_t n_test, double l2,
                                         int32_t num_classes, int32_t precision, double *out_weights,
                                         size_t weights_capacity, double *out_mean, double *out_std,
                                         int64_t *out_predictions, size_t *out_num_classes);

/** The shots × seeds × λ few-shot protocol. features [n, dim] and labels [n] are the training
 *  pool. With test_x [n_test, dim] and test_y [n_test] given, they are the test set; with
 *  test_x and test_y NULL (n_test 0), each class's rows are shuffled with the split stream of
 *  split_seed and max(1, ⌊n_c · test_fraction⌋) of them held out as the test set (the same for
 *  every shots and seed; 0 < test_fraction < 1), the rest forming the pool. For seed s in
 *  0 .. seeds − 1, each class's pool is shuffled with the stream of s and its first `shots`
 *  rows train. Streams are SplitMix64 with state mix(mix(seed ^ tag) ^ class), tags 0x73706C6974
 *  (split) and 0x73686F7473 (shots), shuffles Fisher–Yates from the last element down with
 *  unbiased rejection draws — exactly as documented in stalwart/transfer.py.
 *  shots [shots_count] (each ≥ 1), l2_regs [l2_count] (each > 0), precision STALWART_PRECISION_*.
 *  out_accuracies (capacity doubles, at least shots_count × seeds × l2_count, else
 *  STALWART_ERROR_BUFFER_TOO_SMALL) receives the accuracies ordered by shots, then seed, then λ. */
stalwart_status stalwart_fewshot_evaluate(const float *features, const int64_t *labels, int64_t n,
                                          int64_t dim, const float *test_x, const int64_t *test_y,
                                          int64_t n_test, const int64_t *shots, size_t shots_count,
                                          int32_t seeds, const double *l2_regs, size_t l2_count,
                                          double test_fraction, uint64_t split_seed,
                                          int32_t precision, double *out_accuracies,
                                          size_t capacity);

/** Full-data linear probe: multinomial logistic regression minimizing
 *  Σᵢ −log softmax(xᵢW + b)[yᵢ] + l2/2 · ‖W‖² (b unpenalized; scikit-learn's
 *  LogisticRegression(C = 1/l2, solver="lbfgs") objective), features used as given, fitted in
 *  float64 by L-BFGS (10 pairs, strong-Wolfe line search, from zero) until the gradient of the
 *  objective divided by n_train has max-norm ≤ tolerance (0 = 1e-6), the relative decrease
 *  stalls, or max_iterations (≥ 1) iterations. The K classes are the distinct train_y values,
 *  ascending. Outputs (each may be NULL): out_predictions [n_test] predicted labels of test_x
 *  (test_x may be NULL with n_test 0); out_classes [K], out_weights [dim × K] row-major and
 *  out_bias [K], all three sized by class_capacity ≥ K (else STALWART_ERROR_BUFFER_TOO_SMALL);
 *  out_class_count K; out_iterations the iterations run; out_converged 1 when a stopping test
 *  other than max_iterations held. Deterministic for a given OpenBLAS build. */
stalwart_status stalwart_linear_probe(const float *train_x, const int64_t *train_y, int64_t n_train,
                                      int64_t dim, const float *test_x, int64_t n_test, double l2,
                                      int32_t max_iterations, double tolerance,
                                      int64_t *out_predictions, int64_t *out_classes,
                                      double *out_weights, double *out_bias, size_t class_capacity,
                                      size_t *out_class_count, size_t *out_iterations,
                                      int64_t *out_converged);

/** Correlation coefficient (kind STALWART_CORRELATION_*) of x [n] and y [n] (n ≥ 2, finite)
 *  into *out_value. A constant x or y (coefficient undefined) is STALWART_ERROR_INVALID_ARGUMENT. */
stalwart_status stalwart_correlation(const double *x, const double *y, size_t n, int32_t kind,
                                     double *out_value);

/** Percentile-bootstrap confidence interval of the coefficient: `resamples` (1 .. 10^7)
 *  resamples of the n pairs with replacement, indices drawn from the SplitMix64 stream
 *  mix(mix(seed ^ 0x626F6F74) ^ 0); resamples with a constant x or y are skipped; *out_low and
 *  *out_high are the (1 − confidence)/2 and (1 + confidence)/2 quantiles (linear
 *  interpolation, NumPy's default) of the rest, 0 < confidence < 1. Deterministic. */
stalwart_status stalwart_correlation_bootstrap(const double *x, const double *y, size_t n, int32_t kind,
                                               int64_t resamples, double confidence, uint64_t seed,
                                               double *out_low, double *out_high);

#ifdef __cplusplus
}
#endif

#endif /* STALWART_TRANSFER_H */
