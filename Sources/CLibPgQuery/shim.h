#ifndef DRIFTLESS_CLIBPGQUERY_SHIM_H
#define DRIFTLESS_CLIBPGQUERY_SHIM_H
// libpg_query: PostgreSQL 15's own parser as a library (Debian's libpg-query-dev).
#include <pg_query.h>
#endif
