// The Fortran LAPACK entry points this package calls, declared here so that
// it needs no LAPACKE (Debian's OpenBLAS is built without it). Fortran passes
// every argument by pointer and matrices column-major; integers are 32-bit
// (LP64 builds, which is what Debian ships).
//
// Routines with CHARACTER arguments also take, after all the others, one
// hidden length per such argument (gfortran's ABI since version 8). Leaving
// them out works until a routine tail-calls another with the caller's stack
// slots (the 2019 R/LAPACK crashes), so they are declared and passed as 1.
#ifndef FLOWS_CLAPACK_SHIM_H
#define FLOWS_CLAPACK_SHIM_H

#include <stddef.h>

typedef int lapack_int;

// LU factorisation with partial pivoting, and solve with it.
void sgetrf_(const lapack_int *m, const lapack_int *n, float *a, const lapack_int *lda, lapack_int *ipiv, lapack_int *info);
void dgetrf_(const lapack_int *m, const lapack_int *n, double *a, const lapack_int *lda, lapack_int *ipiv, lapack_int *info);
void sgetrs_(const char *trans, const lapack_int *n, const lapack_int *nrhs, const float *a, const lapack_int *lda, const lapack_int *ipiv, float *b, const lapack_int *ldb, lapack_int *info, size_t trans_length);
void dgetrs_(const char *trans, const lapack_int *n, const lapack_int *nrhs, const double *a, const lapack_int *lda, const lapack_int *ipiv, double *b, const lapack_int *ldb, lapack_int *info, size_t trans_length);
void sgetri_(const lapack_int *n, float *a, const lapack_int *lda, const lapack_int *ipiv, float *work, const lapack_int *lwork, lapack_int *info);
void dgetri_(const lapack_int *n, double *a, const lapack_int *lda, const lapack_int *ipiv, double *work, const lapack_int *lwork, lapack_int *info);

// Cholesky factorisation.
void spotrf_(const char *uplo, const lapack_int *n, float *a, const lapack_int *lda, lapack_int *info, size_t uplo_length);
void dpotrf_(const char *uplo, const lapack_int *n, double *a, const lapack_int *lda, lapack_int *info, size_t uplo_length);

// Triangular solve with several right-hand sides.
void strtrs_(const char *uplo, const char *trans, const char *diag, const lapack_int *n, const lapack_int *nrhs, const float *a, const lapack_int *lda, float *b, const lapack_int *ldb, lapack_int *info, size_t uplo_length, size_t trans_length, size_t diag_length);
void dtrtrs_(const char *uplo, const char *trans, const char *diag, const lapack_int *n, const lapack_int *nrhs, const double *a, const lapack_int *lda, double *b, const lapack_int *ldb, lapack_int *info, size_t uplo_length, size_t trans_length, size_t diag_length);

// QR: Householder factorisation and the explicit Q.
void sgeqrf_(const lapack_int *m, const lapack_int *n, float *a, const lapack_int *lda, float *tau, float *work, const lapack_int *lwork, lapack_int *info);
void dgeqrf_(const lapack_int *m, const lapack_int *n, double *a, const lapack_int *lda, double *tau, double *work, const lapack_int *lwork, lapack_int *info);
void sorgqr_(const lapack_int *m, const lapack_int *n, const lapack_int *k, float *a, const lapack_int *lda, const float *tau, float *work, const lapack_int *lwork, lapack_int *info);
void dorgqr_(const lapack_int *m, const lapack_int *n, const lapack_int *k, double *a, const lapack_int *lda, const double *tau, double *work, const lapack_int *lwork, lapack_int *info);

// LQ: Householder factorisation and the explicit Q. A row-major matrix is
// the column-major transpose, and Aᵀ = L·Q gives A = Qᵀ·Lᵀ, a QR of A, in
// place and without a transposing copy.
void sgelqf_(const lapack_int *m, const lapack_int *n, float *a, const lapack_int *lda, float *tau, float *work, const lapack_int *lwork, lapack_int *info);
void dgelqf_(const lapack_int *m, const lapack_int *n, double *a, const lapack_int *lda, double *tau, double *work, const lapack_int *lwork, lapack_int *info);
void sorglq_(const lapack_int *m, const lapack_int *n, const lapack_int *k, float *a, const lapack_int *lda, const float *tau, float *work, const lapack_int *lwork, lapack_int *info);
void dorglq_(const lapack_int *m, const lapack_int *n, const lapack_int *k, double *a, const lapack_int *lda, const double *tau, double *work, const lapack_int *lwork, lapack_int *info);

#endif
