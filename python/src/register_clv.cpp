#include <crmkit/clv.hpp>

#include <array>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/functional.h>

#include "bindings.hpp"
#include "schema.hpp"

namespace crmkit::python {

namespace {

using namespace pybind11::literals;

/** Exact sums as (list of limb arrays, non-finite parts): what a partition ships. */
template <std::size_t N>
py::tuple exact_columns_to_python(const clv::detail::exact_columns<N>& sums) {
  py::list limbs;
  for (const auto& sum : sums.sums) limbs.append(limbs_to_numpy(sum));
  return py::make_tuple(limbs, py::array_t<double>(static_cast<py::ssize_t>(N), sums.special.data()));
}

template <std::size_t N>
clv::detail::exact_columns<N> exact_columns_of(const py::handle& shipped) {
  const auto fields = shipped.cast<py::tuple>();
  const auto limbs = fields.size() == 2 ? fields[0].cast<py::list>() : py::list();
  const auto special = fields.size() == 2 ? fields[1].cast<double_array>() : double_array();
  if (limbs.size() != N || static_cast<std::size_t>(special.size()) != N) {
    throw py::value_error("exact sums: expected (" + std::to_string(N) + " limb arrays, " +
                          std::to_string(N) + " non-finite parts)");
  }
  clv::detail::exact_columns<N> out;
  for (std::size_t k = 0; k < N; ++k) {
    out.sums[k] = limbs_of(limbs[k]);
    out.special[k] = special.data()[k];
  }
  return out;
}

/** Runs `compute` (returning std::vector<double>) without the GIL: the arrays it reads were
 * converted before, and it touches no Python object. The result becomes a numpy array. */
template <class Compute>
py::array_t<double> without_gil(Compute&& compute) {
  std::vector<double> out;
  {
    py::gil_scoped_release release;
    out = compute();
  }
  return numpy_copy(out);
}

/**
 * Runs `compute(clv::history_check*)` (returning std::vector<double>) without the GIL and returns
 * (values, histories no customer can have, the first of them): the core counts them in its
 * validity pass, and Python issues one HistoryWarning per call from the count. The numpy array
 * takes over the vector's buffer (no copy of the 8 MB a million customers take).
 */
template <class Compute>
py::tuple with_history_check(Compute&& compute) {
  clv::history_check found;
  std::vector<double> out;
  {
    py::gil_scoped_release release;
    out = compute(&found);
  }
  return py::make_tuple(numpy_adopt(std::move(out)), found.unobservable, found.first_unobservable);
}

/** A model's parameters in the order of its description, as Python passes them. */
template <describe::described_struct Params>
using parameter_values = std::array<double, describe::field_count<Params>>;

/** The parameter struct from its values, in description order. */
template <describe::described_struct Params>
Params params_of(const parameter_values<Params>& values) {
  Params params{};
  std::size_t i = 0;
  describe::for_each_field<Params>([&](const auto& field) { field.get(params) = values[i++]; });
  return params;
}

constexpr const char* fit_doc =
    "Maximum-likelihood fit to per-customer (frequency, recency, T) with optional weights.\n"
    "Returns a dict with the fields of crmkit::clv::fit_result (params a dict by name).";

// BG/NBD and MBG/NBD share every binding; `prefix` names them (bg_nbd_..., mbg_nbd_...).
template <class Params, class Fit>
void register_transaction_model(py::module_& module, const std::string& prefix, Fit fit) {
  using values = parameter_values<Params>;
  module.def(
      ("fit_" + prefix).c_str(),
      [fit](const double_array& frequency, const double_array& recency, const double_array& age,
            const double_array& weights, const clv::fit_options& options) {
        return export_without_gil([&] {
          return fit(as_span(frequency), as_span(recency), as_span(age), as_span(weights), options);
        });
      },
      "frequency"_a, "recency"_a, "T"_a, "weights"_a, "options"_a = clv::fit_options{}, fit_doc);

  module.def((prefix + "_conditional_probability_alive").c_str(),
             [](const values& params, const double_array& frequency, const double_array& recency,
                const double_array& age) {
               // Written straight into a new numpy array: no zeroing or copy of the output.
               auto out = new_array<double>(static_cast<std::size_t>(frequency.size()));
               clv::history_check found;
               {
                 py::gil_scoped_release release;
                 clv::conditional_probability_alive(
                     params_of<Params>(params), as_span(frequency), as_span(recency), as_span(age),
                     std::span<double>(out.mutable_data(), static_cast<std::size_t>(out.size())),
                     &found);
               }
               return py::make_tuple(out, found.unobservable, found.first_unobservable);
             },
             "params"_a, "frequency"_a, "recency"_a, "T"_a,
             "P(alive | frequency, recency, T), the number of histories no customer can have and "
             "the first of them.");

  module.def(
      (prefix + "_conditional_expected_number_of_purchases_up_to_time").c_str(),
      [](const values& params, const double_array& t, const double_array& frequency,
         const double_array& recency, const double_array& age) {
        return with_history_check([&](clv::history_check* found) {
          return clv::conditional_expected_number_of_purchases_up_to_time(
              params_of<Params>(params), as_span(t), as_span(frequency), as_span(recency),
              as_span(age), found);
        });
      },
      "params"_a, "t"_a, "frequency"_a, "recency"_a, "T"_a,
      "Expected purchases in the next t periods given the history (t of length 1 broadcasts),\n"
      "with the count of histories no customer can have and the first of them.");

  module.def((prefix + "_expected_number_of_purchases_up_to_time").c_str(),
             [](const values& params, const double_array& t) {
               return without_gil([&] {
                 return clv::expected_number_of_purchases_up_to_time(params_of<Params>(params),
                                                                     as_span(t));
               });
             },
             "params"_a, "t"_a, "Expected purchases of a new customer by time t.");

  module.def((prefix + "_probability_of_n_purchases_up_to_time").c_str(),
             [](const values& params, const double_array& t, const double_array& n) {
               std::vector<double> out;
               {
                 py::gil_scoped_release release;
                 out = clv::probability_of_n_purchases_up_to_time(params_of<Params>(params),
                                                                  as_span(t), as_span(n));
               }
               return numpy_copy(out);
             },
             "params"_a, "t"_a, "n"_a,
             "P(X(t) = n) for a new customer (t and n of length 1 broadcast).");

  module.def((prefix + "_probability_alive_matrix").c_str(),
             [](const values& params, std::size_t max_frequency, std::size_t max_recency) {
               return numpy_copy(clv::probability_alive_matrix(params_of<Params>(params),
                                                               max_frequency, max_recency));
             },
             "params"_a, "max_frequency"_a, "max_recency"_a,
             "P(alive) on the grid [recency, frequency], T = max_recency.");

  module.def(
      (prefix + "_expected_purchases_matrix").c_str(),
      [](const values& params, double t, std::size_t max_frequency, std::size_t max_recency) {
        Eigen::MatrixXd out;
        {
          py::gil_scoped_release release;
          out = clv::expected_purchases_matrix(params_of<Params>(params), t, max_frequency,
                                               max_recency);
        }
        return numpy_copy(out);
      },
      "params"_a, "t"_a, "max_frequency"_a, "max_recency"_a,
      "Expected purchases in the next t periods on the grid [recency, frequency], T = "
      "max_recency.");

  module.def((prefix + "_customer_lifetime_value").c_str(),
             [](const values& params, const double_array& frequency, const double_array& recency,
                const double_array& age, const double_array& monetary_value, double time,
                double discount_rate, double periods_per_month, bool continuous) {
               return with_history_check([&](clv::history_check* found) {
                 const auto p = params_of<Params>(params);
                 return continuous ? clv::customer_lifetime_value_continuous(
                                         p, as_span(frequency), as_span(recency), as_span(age),
                                         as_span(monetary_value), time, discount_rate,
                                         periods_per_month, found)
                                   : clv::customer_lifetime_value(
                                         p, as_span(frequency), as_span(recency), as_span(age),
                                         as_span(monetary_value), time, discount_rate,
                                         periods_per_month, found);
               });
             },
             "params"_a, "frequency"_a, "recency"_a, "T"_a, "monetary_value"_a, "time"_a,
             "discount_rate"_a, "periods_per_month"_a, "continuous"_a = false,
             "Discounted lifetime value: lifetimes' monthly DCF, or continuous discounting at a\n"
             "continuous monthly rate when continuous=True; with the history count as above.");

  module.def((prefix + "_expected_cumulative_transactions").c_str(),
             [](const values& params, const double_array& birth, const double_array& customers,
                const double_array& times) {
               return without_gil([&] {
                 return clv::expected_cumulative_transactions(
                     params_of<Params>(params), as_span(birth), as_span(customers), as_span(times));
               });
             },
             "params"_a, "birth"_a, "customers"_a, "times"_a,
             "Σ over cohorts born before each time of customers · E[X(time − birth)].");

  module.def((prefix + "_calibration_vs_holdout").c_str(),
             [](const values& params, const double_array& frequency, const double_array& recency,
                const double_array& age, const double_array& frequency_holdout,
                const double_array& duration_holdout, std::size_t max_frequency) {
               std::vector<clv::calibration_holdout_row> rows;
               {
                 py::gil_scoped_release release;
                 rows = clv::calibration_vs_holdout(
                     params_of<Params>(params), as_span(frequency), as_span(recency), as_span(age),
                     as_span(frequency_holdout), as_span(duration_holdout), max_frequency);
               }
               return to_columns(rows);
             },
             "params"_a, "frequency"_a, "recency"_a, "T"_a, "frequency_holdout"_a,
             "duration_holdout"_a, "max_frequency"_a,
             "Mean actual and predicted holdout purchases by calibration frequency.");

  module.def((prefix + "_repeat_frequency_histogram").c_str(),
             [](const values& params, const double_array& frequency, const double_array& age,
                std::size_t max_frequency) {
               std::vector<clv::frequency_bin> bins;
               {
                 py::gil_scoped_release release;
                 bins = clv::repeat_frequency_histogram(
                     params_of<Params>(params), as_span(frequency), as_span(age), max_frequency);
               }
               return to_columns(bins);
             },
             "params"_a, "frequency"_a, "T"_a, "max_frequency"_a,
             "Actual vs expected (Σ_i P(X(T_i) = k)) repeat-purchase counts; the last bin is 'k or "
             "more'.");
}

// The Pareto/NBD predictions beyond the shared set (crmkit/clv/pareto_nbd.hpp).
void register_pareto_nbd_predictions(py::module_& module) {
  using Params = clv::pareto_nbd_params;
  using values = parameter_values<Params>;
  module.def(
      "pareto_nbd_conditional_probability_alive_at",
      [](const values& params, const double_array& t, const double_array& frequency,
         const double_array& recency, const double_array& age) {
        return with_history_check([&](clv::history_check* found) {
          return clv::conditional_probability_alive_at(params_of<Params>(params), as_span(t),
                                                       as_span(frequency), as_span(recency),
                                                       as_span(age), found);
        });
      },
      "params"_a, "t"_a, "frequency"_a, "recency"_a, "T"_a,
      "P(alive at T + t | frequency, recency, T) (t of length 1 broadcasts); with the history\n"
      "count as bg_nbd_conditional_probability_alive.");
  module.def(
      "pareto_nbd_conditional_probability_of_n_purchases_up_to_time",
      [](const values& params, const double_array& n, const double_array& t,
         const double_array& frequency, const double_array& recency, const double_array& age) {
        return with_history_check([&](clv::history_check* found) {
          return clv::conditional_probability_of_n_purchases_up_to_time(
              params_of<Params>(params), as_span(n), as_span(t), as_span(frequency),
              as_span(recency), as_span(age), found);
        });
      },
      "params"_a, "n"_a, "t"_a, "frequency"_a, "recency"_a, "T"_a,
      "P(n purchases in (T, T + t] | history) (n and t of length 1 broadcast); with the history\n"
      "count.");
  module.def(
      "pareto_nbd_discounted_expected_residual_transactions",
      [](const values& params, double discount_rate, const double_array& frequency,
         const double_array& recency, const double_array& age) {
        return with_history_check([&](clv::history_check* found) {
          return clv::discounted_expected_residual_transactions(
              params_of<Params>(params), discount_rate, as_span(frequency), as_span(recency),
              as_span(age), found);
        });
      },
      "params"_a, "discount_rate"_a, "frequency"_a, "recency"_a, "T"_a,
      "DERT at a continuous discount rate per time unit (FHL 2005 JMR, closed form via U); with\n"
      "the history count.");
}

// BG/BB (crmkit/clv/bg_bb.hpp): discrete histories (frequency, recency, n_periods).
void register_bg_bb(py::module_& module) {
  using Params = clv::bg_bb_params;
  using values = parameter_values<Params>;
  module.def(
      "fit_bg_bb",
      [](const double_array& frequency, const double_array& recency, const double_array& n_periods,
         const double_array& weights, const clv::fit_options& options) {
        return export_without_gil([&] {
          return clv::fit_bg_bb(as_span(frequency), as_span(recency), as_span(n_periods),
                                as_span(weights), options);
        });
      },
      "frequency"_a, "recency"_a, "n_periods"_a, "weights"_a, "options"_a = clv::fit_options{},
      "Maximum-likelihood BG/BB fit to per-customer (frequency, recency, n_periods) with optional\n"
      "weights; dict as fit_bg_nbd.");
  // Per-history predictions with one leading argument (a horizon or none).
  const auto history = [&](const char* name, const char* doc, auto compute) {
    module.def(
        name,
        [compute](const values& params, const double_array& leading, const double_array& frequency,
                  const double_array& recency, const double_array& n_periods) {
          return without_gil([&] {
            return compute(params_of<Params>(params), as_span(leading), as_span(frequency),
                           as_span(recency), as_span(n_periods));
          });
        },
        "params"_a, "m_periods_in_future"_a, "frequency"_a, "recency"_a, "n_periods"_a, doc);
  };
  history("bg_bb_conditional_probability_alive",
          "P(alive at n_periods + m_periods_in_future | history) (FHS 2010 eq. A10).",
          [](const Params& p, auto m, auto x, auto t_x, auto n) {
            return clv::conditional_probability_alive_at(p, m, x, t_x, n);
          });
  history("bg_bb_conditional_expected_number_of_purchases_up_to_time",
          "Expected transactions in the next m_periods_in_future opportunities (FHS 2010 eq. 13).",
          [](const Params& p, auto m, auto x, auto t_x, auto n) {
            return clv::conditional_expected_number_of_purchases_up_to_time(p, m, x, t_x, n);
          });
  module.def(
      "bg_bb_discounted_expected_residual_transactions",
      [](const values& params, double discount_rate, const double_array& frequency,
         const double_array& recency, const double_array& n_periods) {
        return without_gil([&] {
          return clv::discounted_expected_residual_transactions(
              params_of<Params>(params), discount_rate, as_span(frequency), as_span(recency),
              as_span(n_periods));
        });
      },
      "params"_a, "discount_rate"_a, "frequency"_a, "recency"_a, "n_periods"_a,
      "DERT at a discount rate per opportunity (FHS 2010 eq. 14).");
  module.def(
      "bg_bb_log_likelihood",
      [](const values& params, const double_array& frequency, const double_array& recency,
         const double_array& n_periods) {
        return without_gil([&] {
          return clv::log_likelihood(params_of<Params>(params), as_span(frequency),
                                     as_span(recency), as_span(n_periods));
        });
      },
      "params"_a, "frequency"_a, "recency"_a, "n_periods"_a,
      "ln L per history (FHS 2010 eq. 5).");
  module.def(
      "bg_bb_expected_number_of_purchases_up_to_time",
      [](const values& params, const double_array& n_periods) {
        return without_gil([&] {
          return clv::expected_number_of_purchases_up_to_time(params_of<Params>(params),
                                                              as_span(n_periods));
        });
      },
      "params"_a, "n_periods"_a, "E[X(n)] for a new customer (FHS 2010 eq. 8).");
  module.def(
      "bg_bb_probability_of_n_purchases_up_to_time",
      [](const values& params, const double_array& n_periods, const double_array& n) {
        return without_gil([&] {
          return clv::probability_of_n_purchases_up_to_time(params_of<Params>(params),
                                                            as_span(n_periods), as_span(n));
        });
      },
      "params"_a, "n_periods"_a, "n"_a,
      "P(X(n_periods) = n) for a new customer (FHS 2010 eq. 7; broadcast when of length 1).");
}

}  // namespace

void register_clv(py::module_& module) {
  bind_struct<clv::fit_options>(module, "FitOptions",
                                "Settings of a maximum-likelihood fit (crmkit::clv::fit_options).");
  bind_struct<clv::bg_nbd_params>(module, "BgNbdParams", "BG/NBD parameters.");
  bind_struct<clv::mbg_nbd_params>(module, "MbgNbdParams", "MBG/NBD parameters.");
  bind_struct<clv::gamma_gamma_params>(module, "GammaGammaParams", "Gamma-Gamma parameters.");
  bind_struct<clv::pareto_nbd_params>(module, "ParetoNbdParams", "Pareto/NBD parameters.");
  bind_struct<clv::bg_bb_params>(module, "BgBbParams", "BG/BB parameters.");
  record_schema<clv::fit_result<clv::bg_nbd_params, 4>>(
      module, "FitResult", {"fit_bg_nbd", "fit_mbg_nbd", "fit_pareto_nbd", "fit_bg_bb", "fit_gamma_gamma"});
  record_schema<clv::calibration_holdout_row>(
      module, "CalibrationHoldoutRow",
      {"bg_nbd_calibration_vs_holdout", "mbg_nbd_calibration_vs_holdout",
       "pareto_nbd_calibration_vs_holdout"});
  record_schema<clv::frequency_bin>(
      module, "FrequencyBin",
      {"bg_nbd_repeat_frequency_histogram", "mbg_nbd_repeat_frequency_histogram",
       "pareto_nbd_repeat_frequency_histogram"});
  register_transaction_model<clv::bg_nbd_params>(
      module, "bg_nbd", [](auto... args) { return clv::fit_bg_nbd(args...); });
  register_transaction_model<clv::mbg_nbd_params>(
      module, "mbg_nbd", [](auto... args) { return clv::fit_mbg_nbd(args...); });
  register_transaction_model<clv::pareto_nbd_params>(
      module, "pareto_nbd", [](auto... args) { return clv::fit_pareto_nbd(args...); });
  register_pareto_nbd_predictions(module);
  register_bg_bb(module);

  module.def(
      "fit_gamma_gamma",
      [](const double_array& frequency, const double_array& monetary_value,
         const double_array& weights, const clv::fit_options& options) {
        return export_without_gil([&] {
          return clv::fit_gamma_gamma(as_span(frequency), as_span(monetary_value), as_span(weights),
                                      options);
        });
      },
      "frequency"_a, "monetary_value"_a, "weights"_a, "options"_a = clv::fit_options{},
      "Gamma-Gamma fit to repeat customers' (frequency >= 1, mean spend > 0); dict as fit_bg_nbd.");

  module.def(
      "gamma_gamma_rows_summary",
      [](const double_array& frequency, const double_array& monetary_value,
         std::size_t sample_target, std::optional<std::size_t> total_rows) {
        clv::check_spend("fit_gamma_gamma", as_span(frequency), as_span(monetary_value), false);
        const clv::detail::spend_rows rows(as_span(frequency), as_span(monetary_value), {});
        py::dict out;
        out["rows"] = rows.size();
        out["levels"] = numpy_copy(rows.levels());
        out["level_weights"] = numpy_copy(rows.level_weights());
        out["fixed"] = exact_columns_to_python(rows.fixed_sums());
        std::vector<double> x, m, w;
        if (sample_target > 0) {
          const auto sample =
              rows.hashed_sample_part(sample_target, total_rows.value_or(rows.size()));
          x.assign(sample.x().begin(), sample.x().end());
          m.assign(sample.m().begin(), sample.m().end());
          w.assign(sample.w().begin(), sample.w().end());
        }
        out["sample_x"] = numpy_copy(x);
        out["sample_m"] = numpy_copy(m);
        out["sample_w"] = numpy_copy(w);
        return out;
      },
      "frequency"_a, "monetary_value"_a, "sample_target"_a, "total_rows"_a = py::none(),
      "What the Gamma-Gamma fit needs once of some of its rows (checked as fit_gamma_gamma\n"
      "checks them): their count, W_x histogram (levels, level_weights), the exact sums of m,\n"
      "ln m and x ln m (fixed: limbs and non-finite parts, for fit_gamma_gamma_elsewhere), and\n"
      "these rows' share of the hashed sample of about sample_target of total_rows rows\n"
      "(default: these rows are all; none for sample_target 0), weights unscaled.");

  module.def(
      "gamma_gamma_row_sums",
      [](const double_array& frequency, const double_array& monetary_value, double v,
         bool with_hessian) {
        clv::detail::exact_spend_row_sums s;
        {
          py::gil_scoped_release release;
          const auto x = as_span(frequency);
          const auto m = as_span(monetary_value);
          s = with_hessian ? clv::detail::sum_spend_rows_exactly<true>(v, x, m, {})
                           : clv::detail::sum_spend_rows_exactly<false>(v, x, m, {});
        }
        return exact_columns_to_python(s);
      },
      "frequency"_a, "monetary_value"_a, "v"_a, "with_hessian"_a,
      "The Gamma-Gamma per-row sums at v over some rows, exactly: (Σ ln(v+xm), Σ x ln(v+xm),\n"
      "Σ 1/(v+xm), Σ x/(v+xm), Σ 1/(v+xm)², Σ x/(v+xm)²) as (list of limb arrays, non-finite\n"
      "parts); the squares are 0 without the Hessian. Parts merge exactly in\n"
      "fit_gamma_gamma_elsewhere.");

  module.def(
      "fit_gamma_gamma_elsewhere",
      [](std::size_t rows, const double_array& levels, const double_array& level_weights,
         const py::list& fixed, const double_array& sample_x, const double_array& sample_m,
         const double_array& sample_w, const std::function<py::list(double, bool)>& sums,
         const clv::fit_options& options) {
        const auto span_vector = [](const double_array& a) {
          const auto s = as_span(a);
          return std::vector<double>(s.begin(), s.end());
        };
        clv::detail::exact_columns<3> fixed_total;
        for (const auto& part : fixed) fixed_total += exact_columns_of<3>(part);
        auto sample = clv::detail::spend_rows::owning(span_vector(sample_x), span_vector(sample_m),
                                                      span_vector(sample_w));
        const auto remote = [sums](double v, bool with_hessian) {
          const py::gil_scoped_acquire acquire;
          clv::detail::exact_spend_row_sums total;
          for (const auto& part : sums(v, with_hessian)) total += exact_columns_of<6>(part);
          return clv::detail::rounded(total);
        };
        auto held = clv::detail::spend_rows::held_elsewhere(
            rows, span_vector(levels), span_vector(level_weights), fixed_total.value(0),
            fixed_total.value(1), fixed_total.value(2), std::move(sample), remote);
        return export_without_gil(
            [&] { return clv::fit_gamma_gamma_elsewhere(std::move(held), options); });
      },
      "rows"_a, "levels"_a, "level_weights"_a, "fixed"_a, "sample_x"_a, "sample_m"_a,
      "sample_w"_a, "sums"_a, "options"_a = clv::fit_options{},
      "fit_gamma_gamma of rows held elsewhere (gamma_gamma_rows_summary's fields: counts and\n"
      "histograms added up, `fixed` the list of the holders' fixed sums, their samples\n"
      "together): every pass over the rows calls sums(v, with_hessian), which returns the list\n"
      "of the holders' gamma_gamma_row_sums. Every sum is exact, merged exactly and rounded\n"
      "once, so any split of the rows gives the single-machine fit bit for bit. Dict as\n"
      "fit_gamma_gamma.");

  module.def(
      "gamma_gamma_conditional_expected_average_profit",
      [](const parameter_values<clv::gamma_gamma_params>& params, const double_array& frequency,
         const double_array& monetary_value) {
        return without_gil([&] {
          return clv::conditional_expected_average_profit(
              params_of<clv::gamma_gamma_params>(params), as_span(frequency),
              as_span(monetary_value));
        });
      },
      "params"_a, "frequency"_a, "monetary_value"_a,
      "E[mean spend | x, m] = (p v + p x m)/(p x + q − 1); x = 0 gives p v/(q − 1); +inf where\n"
      "p x + q <= 1.");

  record_schema<clv::pattern>(module, "Pattern", {"merge_patterns"});
  module.def(
      "merge_patterns",
      [](const double_array& x, const double_array& u, const double_array& v,
         const double_array& weights) {
        std::vector<clv::pattern> rows;
        {
          py::gil_scoped_release release;
          rows = clv::merge_patterns(as_span(x), as_span(u), as_span(v), as_span(weights));
        }
        return to_columns(rows);
      },
      "x"_a, "u"_a, "v"_a, "weights"_a,
      "Rows (x, u, v, weight) of pattern histograms merged into one: sorted by (x, u, v), the\n"
      "weights of identical rows summed (exact for integer weights); empty weights mean all 1.");

  module.def("periods_per_month", &clv::periods_per_month, "freq"_a,
             "Periods per month for lifetimes' freq codes: D 30, W 4.345, M 1, H 720.");
}

}  // namespace crmkit::python
