// c-ares 1.18 as Swift sees it: the headers, plus wrappers for the function-like macros.
// Nothing else belongs here: the event loop and parsing live in the NetIO Swift module.
#ifndef NETAGENT_CARES_SHIM_H
#define NETAGENT_CARES_SHIM_H

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static inline int cares_getsock_readable(int bits, int i) { return ARES_GETSOCK_READABLE(bits, i); }
static inline int cares_getsock_writable(int bits, int i) { return ARES_GETSOCK_WRITABLE(bits, i); }

#endif
