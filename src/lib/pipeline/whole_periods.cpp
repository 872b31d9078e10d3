#include "whole_periods.hpp"

#include <algorithm>
#include <bit>

#include "crmkit/core/memory.hpp"
#include "crmkit/core/radix_sort.hpp"


namespace crmkit::pipeline::detail {

whole_period_summaries summaries_at(const data::customer_periods& grouped, std::int64_t end) {
  whole_period_summaries out;
  const std::size_t customers = grouped.customers();
  for (auto* column : {&out.frequency, &out.recency, &out.age, &out.later}) {
    *column = memory::large_vector<std::uint32_t>(customers);
  }
  std::size_t kept = 0;
  for (std::size_t j = 0; j < customers; ++j) {
    const auto periods = grouped.periods(j);
    if (periods.front() > end) continue;
    const auto row = summary_at(periods, static_cast<std::uint32_t>(end));
    out.frequency[kept] = row.frequency;
    out.recency[kept] = row.recency;
    out.age[kept] = row.age;
    out.later[kept] = row.later;
    ++kept;
  }
  for (auto* column : {&out.frequency, &out.recency, &out.age, &out.later}) column->resize(kept);
  return out;
}

std::vector<clv::pattern> fitting_patterns(std::string_view function,
                                           const whole_period_summaries& whole,
                                           double freq_multiplier,
                                           std::span<const double> frequency,
                                           std::span<const double> recency,
                                           std::span<const double> age) {
  const auto width = [](const std::vector<std::uint32_t>& column) {
    return column.empty() ? 0 : std::bit_width(*std::max_element(column.begin(), column.end()));
  };
  const int age_bits = width(whole.age);
  const int recency_bits = width(whole.recency);
  if (width(whole.frequency) + recency_bits + age_bits > 64 || whole.size() != frequency.size() ||
      !clv::detail::merging_pays(frequency, age)) {
    return clv::transaction_patterns(function, frequency, recency, age);
  }
  const int age_shift = age_bits, frequency_shift = recency_bits + age_bits;
  radix_sorter sorter(whole.size());
  sorter.sort_by([&](std::size_t i) {
    return (std::uint64_t{whole.frequency[i]} << frequency_shift) |
           (std::uint64_t{whole.recency[i]} << age_shift) | whole.age[i];
  });
  const auto keys = sorter.sorted_keys();
  const auto field = [](std::uint64_t key, int shift, int bits) {
    return static_cast<std::uint32_t>((key >> shift) & ((std::uint64_t{1} << bits) - 1));
  };
  std::size_t unique = 0;
  for (std::size_t k = 0; k < keys.size(); ++k) unique += k == 0 || keys[k] != keys[k - 1];
  auto merged = memory::large_vector<clv::pattern>(unique);
  std::size_t at = 0;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (k > 0 && keys[k] == keys[k - 1]) {
      merged[at - 1].weight += 1;
      continue;
    }
    merged[at++] = {static_cast<double>(keys[k] >> frequency_shift),
                      static_cast<double>(field(keys[k], age_shift, recency_bits)) / freq_multiplier,
                      static_cast<double>(field(keys[k], 0, age_bits)) / freq_multiplier, 1};
  }
  return merged;
}

}  // namespace crmkit::pipeline::detail
