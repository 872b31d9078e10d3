#pragma once

#include <cstdio>
#include <cstdlib>

/** An invariant a fuzz target asserts: prints the condition and aborts, which libFuzzer records. */
#define CRMKIT_FUZZ_REQUIRE(condition)                                                   \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__,        \
                   #condition);                                                          \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
