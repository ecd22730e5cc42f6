#ifndef DRIFTLESS_CLIBPQ_SHIM_H
#define DRIFTLESS_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
