// The Fortran LAPACK entry points this package calls, declared here so that
// it needs no LAPACKE (Debian's OpenBLAS is built without it). Fortran passes
// every argument by pointer and matrices column-major; integers are 32-bit
// (LP64 builds, which is what Debian ships).
#ifndef FLOWS_CLAPACK_SHIM_H
#define FLOWS_CLAPACK_SHIM_H

typedef int lapack_int;

// LU factorisation with partial pivoting, and solve with it.
void sgetrf_(const lapack_int *m, const lapack_int *n, float *a, const lapack_int *lda, lapack_int *ipiv, lapack_int *info);
void dgetrf_(const lapack_int *m, const lapack_int *n, double *a, const lapack_int *lda, lapack_int *ipiv, lapack_int *info);
void sgetrs_(const char *trans, const lapack_int *n, const lapack_int *nrhs, const float *a, const lapack_int *lda, const lapack_int *ipiv, float *b, const lapack_int *ldb, lapack_int *info);
void dgetrs_(const char *trans, const lapack_int *n, const lapack_int *nrhs, const double *a, const lapack_int *lda, const lapack_int *ipiv, double *b, const lapack_int *ldb, lapack_int *info);
void sgetri_(const lapack_int *n, float *a, const lapack_int *lda, const lapack_int *ipiv, float *work, const lapack_int *lwork, lapack_int *info);
void dgetri_(const lapack_int *n, double *a, const lapack_int *lda, const lapack_int *ipiv, double *work, const lapack_int *lwork, lapack_int *info);

// Cholesky factorisation.
void spotrf_(const char *uplo, const lapack_int *n, float *a, const lapack_int *lda, lapack_int *info);
void dpotrf_(const char *uplo, const lapack_int *n, double *a, const lapack_int *lda, lapack_int *info);

// Triangular solve with several right-hand sides.
void strtrs_(const char *uplo, const char *trans, const char *diag, const lapack_int *n, const lapack_int *nrhs, const float *a, const lapack_int *lda, float *b, const lapack_int *ldb, lapack_int *info);
void dtrtrs_(const char *uplo, const char *trans, const char *diag, const lapack_int *n, const lapack_int *nrhs, const double *a, const lapack_int *lda, double *b, const lapack_int *ldb, lapack_int *info);

// QR: Householder factorisation and the explicit Q.
void sgeqrf_(const lapack_int *m, const lapack_int *n, float *a, const lapack_int *lda, float *tau, float *work, const lapack_int *lwork, lapack_int *info);
void dgeqrf_(const lapack_int *m, const lapack_int *n, double *a, const lapack_int *lda, double *tau, double *work, const lapack_int *lwork, lapack_int *info);
void sorgqr_(const lapack_int *m, const lapack_int *n, const lapack_int *k, float *a, const lapack_int *lda, const float *tau, float *work, const lapack_int *lwork, lapack_int *info);
void dorgqr_(const lapack_int *m, const lapack_int *n, const lapack_int *k, double *a, const lapack_int *lda, const double *tau, double *work, const lapack_int *lwork, lapack_int *info);

#endif
