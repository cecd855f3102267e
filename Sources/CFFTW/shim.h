// FFTW 3, double (fftw_*) and single (fftwf_*) precision. FFTW is
// GPL-2.0-or-later: a binary that links it is covered by the GPL.
#ifndef FLOWS_CFFTW_SHIM_H
#define FLOWS_CFFTW_SHIM_H
#include <fftw3.h>
#endif
