#pragma once

/**
 * crmkit::math: the numerical foundation under the models: special functions and stable
 * log-space arithmetic, Gauss's hypergeometric series, Chebyshev interpolation, the BFGS minimiser, numerical Hessians
 * and normal quantiles.
 */
#include "crmkit/math/bfgs.hpp"
#include "crmkit/math/chebyshev.hpp"
#include "crmkit/math/hessian.hpp"
#include "crmkit/math/hyp2f1.hpp"
#include "crmkit/math/normal.hpp"
#include "crmkit/math/quadrature.hpp"
#include "crmkit/math/special.hpp"
#include "crmkit/math/vector_exp_log.hpp"
