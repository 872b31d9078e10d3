#include "transaction_fit.hpp"

#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "crmkit/clv/bg_nbd.hpp"
#include "crmkit/clv/mbg_nbd.hpp"
#include "crmkit/clv/pareto_nbd.hpp"

namespace crmkit::pipeline {

namespace {

/** Calls `visit` with std::type_identity of the model traits type of `kind`. */
template <class Visit>
decltype(auto) with_model(transaction_model_kind kind, Visit&& visit) {
  switch (kind) {
    case transaction_model_kind::mbg_nbd:
      return visit(std::type_identity<clv::mbg_nbd>{});
    case transaction_model_kind::pareto_nbd:
      return visit(std::type_identity<clv::pareto_nbd>{});
    case transaction_model_kind::bg_nbd:
      break;
  }
  return visit(std::type_identity<clv::bg_nbd>{});
}

}  // namespace

std::string_view display_name(transaction_model_kind kind) noexcept {
  return with_model(kind, []<class Model>(std::type_identity<Model>) { return Model::name; });
}

std::array<std::string_view, 4> parameter_names(transaction_model_kind kind) noexcept {
  return with_model(kind, []<class Model>(std::type_identity<Model>) { return Model::names; });
}

std::array<double, 4> parameter_values(const clv::transaction_model_params& params) noexcept {
  return std::visit(
      [](const auto& p) {
        return clv::model_for<std::decay_t<decltype(p)>>::type::to_array(p);
      },
      params);
}

namespace detail {

std::string fit_function(transaction_model_kind kind) {
  return fmt::format("fit_{}", describe::name_of(kind));
}

transaction_fit fit_transaction_model(transaction_model_kind kind,
                                      std::vector<clv::pattern> patterns,
                                      const clv::fit_options& settings, std::size_t customers) {
  const std::string function = fit_function(kind);
  return with_model(kind, [&]<class Model>(std::type_identity<Model>) {
    auto fit = clv::fit_model<Model>(function, std::move(patterns), settings, customers);
    return transaction_fit{fit.params,
                           erase_model_type<Model>(fit),
                           std::move(fit.warnings)};
  });
}

}  // namespace detail

}  // namespace crmkit::pipeline
