#ifndef DRIFTLESS_CLIBGIT2_SHIM_H
#define DRIFTLESS_CLIBGIT2_SHIM_H
#include <git2.h>
#endif
