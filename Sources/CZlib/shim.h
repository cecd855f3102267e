// zlib, for gzipped IDX data files and PNG output.
#ifndef FLOWS_CZLIB_SHIM_H
#define FLOWS_CZLIB_SHIM_H
#include <zlib.h>
#endif
