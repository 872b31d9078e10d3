#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "crmkit/core/check.hpp"

/** Product ids of any type (strings, integers, ...) mapped once to dense item codes. */
namespace crmkit::basket {

/**
 * A dictionary from product ids to item codes 0, 1, 2, ... in order of first appearance. The
 * baskets and every result carry codes; `ids()[code]` gives the product id back. Any hashable,
 * equality-comparable `Id` works (`std::string`, `std::int64_t`, ...).
 */
template <class Id, class Hash = std::hash<Id>>
class item_index {
 public:
  /** The code of `id`, adding it when new. */
  std::uint32_t code(const Id& id) {
    const auto [place, added] = codes_.try_emplace(id, static_cast<std::uint32_t>(ids_.size()));
    if (added) {
      if (ids_.size() == std::numeric_limits<std::uint32_t>::max()) {
        check::fail("item_index", "more than 2^32 - 1 distinct product ids");
      }
      ids_.push_back(id);
    }
    return place->second;
  }

  /** The codes of `ids`, adding new ones. */
  std::vector<std::uint32_t> encode(std::span<const Id> ids) {
    std::vector<std::uint32_t> out;
    out.reserve(ids.size());
    for (const auto& id : ids) out.push_back(code(id));
    return out;
  }

  /** The code of `id`, or nothing when it was never seen. */
  [[nodiscard]] std::optional<std::uint32_t> find(const Id& id) const {
    const auto place = codes_.find(id);
    if (place == codes_.end()) return std::nullopt;
    return place->second;
  }

  /** The code of `id`; invalid_input when it was never seen. */
  [[nodiscard]] std::uint32_t at(const Id& id) const {
    const auto code = find(id);
    if (!code) check::fail("item_index", "unknown product id");
    return *code;
  }

  [[nodiscard]] const std::vector<Id>& ids() const noexcept { return ids_; }
  [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }

 private:
  std::unordered_map<Id, std::uint32_t, Hash> codes_;
  std::vector<Id> ids_;
};

}  // namespace crmkit::basket
