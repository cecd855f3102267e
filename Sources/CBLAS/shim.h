// CBLAS through the reference interface. On Debian, libopenblas-dev provides
// libblas.so (and this header) through the alternatives system; libblas-dev
// works too, slower.
#ifndef FLOWS_CBLAS_SHIM_H
#define FLOWS_CBLAS_SHIM_H
#include <cblas.h>
#endif
