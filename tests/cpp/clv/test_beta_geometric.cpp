#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

namespace clv = crmkit::clv;

// The BG/NBD family's shared E[Y | alive] (clv/detail/beta_geometric.hpp): series and quadrature.

TEST_CASE("the series and the quadrature representation agree where both apply") {
  // E[Y|alive] = C/(a−1)[1 − (1−z)^{a−1} 2F1(C−ν, a−1; C; z)] = E_p[(1 − (1+pτ)^−ν)/p].
  struct point {
    double nu, a, c, tau;
  };
  const point points[] = {{0.243, 0.793, 2.219, 1.0}, {2.24, 0.793, 4.22, 3.0},
                          {0.5, 1.0, 3.0, 0.2},       {0.5, 1.0 + 1e-9, 3.0, 5.0},
                          {1.2, 2.5, 2.9, 10.0},      {0.3, 0.6, 0.8, 40.0},
                          {50.2, 0.9, 52.0, 0.5},     {0.243, 0.793, 2.219, 1e-6}};
  for (const auto& p : points) {
    CAPTURE(p.a);
    CAPTURE(p.tau);
    CHECK(clv::detail::alive_purchases(p.nu, p.a, p.c, p.tau) ==
          doctest::Approx(clv::detail::alive_purchases_by_quadrature(p.nu, p.a, p.c, p.tau))
              .epsilon(1e-9));
  }
}

TEST_CASE("quadrature stays exact for sharply peaked dropout densities") {
  // Customers with hundreds of purchases under a large a have p ~ Beta(a, C−a+1) concentrated
  // in a narrow peak. The quadrature must then agree with the series to near round-off, or
  // E[Y(t)] stops being monotone in t where the two representations meet (found by hypothesis:
  // a = 59, b = 60, x = 420 and a = 29, b = 1, x = 1771).
  struct point {
    double nu, a, c, tau;
  };
  for (const auto& p : {point{421, 59, 538, 30.0}, point{1772, 29, 1800, 18.0},
                        point{50.2, 12.5, 400, 5.0}, point{0.243, 0.793, 2.219, 3.0}}) {
    CAPTURE(p.a);
    CHECK(clv::detail::alive_purchases_by_quadrature(p.nu, p.a, p.c, p.tau) ==
          doctest::Approx(clv::detail::alive_purchases(p.nu, p.a, p.c, p.tau)).epsilon(1e-12));
  }
}
