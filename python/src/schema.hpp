#pragma once

#include <crmkit/core/describe.hpp>
#include <crmkit/core/error.hpp>
#include <crmkit/core/warning.hpp>

#include <array>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include "bindings.hpp"

/**
 * The Python side of crmkit/core/describe.hpp: every conversion of a described struct or enum is
 * generated here from its description, so no binding spells a field name, key or enum name.
 *
 * - `to_python(value)`: scalars as Python scalars, an enum as its name, a vector of numbers as a
 *   numpy array, a vector of enum values as their codes, a vector of rows as a dict of columns,
 *   warnings as (code, message) pairs, a described struct as a dict keyed by its field names.
 * - `export_result(result)`: the same dict for a result moved to the heap, whose number columns
 *   become numpy arrays viewing its memory (no copy).
 * - `bind_struct<T>(module, name, doc)`: a Python class with one property per field (enums by
 *   name, optionals as None), keyword construction, equality and repr.
 * - `schema_of<T>()`: the field list as data (name, Python type, doc) for the stub generator.
 */
namespace crmkit::python {

namespace schema_detail {

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};

template <class T>
concept number_vector = is_vector<T>::value && std::is_arithmetic_v<typename T::value_type>;

template <class T>
concept eigen_matrix = requires(const T& m) {
  m.rows();
  m.cols();
  m(0, 0);
  typename T::Scalar;
};

/** Counts (size_t, uint64) travel as int64, pandas' integer type; other numbers as they are. */
template <class T>
using python_number = std::conditional_t<std::is_same_v<T, std::uint64_t>, std::int64_t, T>;

/** A numpy array holding `values` converted to python_number. */
template <class T, class Allocator>
py::array numpy_numbers(const std::vector<T, Allocator>& values) {
  using out_type = python_number<T>;
  auto out = new_array<out_type>(values.size());
  auto* data = out.mutable_data();
  for (std::size_t i = 0; i < values.size(); ++i) data[i] = static_cast<out_type>(values[i]);
  return out;
}

}  // namespace schema_detail

template <class T>
py::object to_python(const T& value);

/** A described struct as a dict keyed by its field names. */
template <describe::described_struct T>
py::dict to_dict(const T& value) {
  py::dict out;
  describe::for_each_field<T>(
      [&](const auto& field) { out[py::str(std::string(field.name))] = to_python(field.get(value)); });
  return out;
}

/** Rows of a described struct as a dict of columns (numpy arrays where the field is a number). */
template <describe::described_struct Row>
py::dict to_columns(const std::vector<Row>& rows) {
  py::dict out;
  describe::for_each_field<Row>([&](const auto& field) {
    using member = typename std::decay_t<decltype(field)>::member_type;
    py::object column;
    if constexpr (std::is_arithmetic_v<member>) {
      column = numpy_column(rows, [&](const Row& row) {
        return static_cast<schema_detail::python_number<member>>(field.get(row));
      });
    } else {
      py::list values;
      for (const auto& row : rows) values.append(to_python(field.get(row)));
      column = values;
    }
    out[py::str(std::string(field.name))] = column;
  });
  return out;
}

/** The codes of a vector of enum values, as a numpy array of the enum's underlying type. */
template <describe::described_enum E>
py::array codes(const std::vector<E>& values) {
  using code = std::underlying_type_t<E>;
  auto out = new_array<code>(values.size());
  auto* data = out.mutable_data();
  for (std::size_t i = 0; i < values.size(); ++i) data[i] = static_cast<code>(values[i]);
  return out;
}

/** The canonical names of an enum, in code order (so codes index them). */
template <describe::described_enum E>
py::tuple enum_names() {
  py::list out;
  for (const auto name : describe::names<E>()) out.append(py::str(std::string(name)));
  return py::tuple(out);
}

template <class T>
py::object to_python(const T& value) {
  using namespace schema_detail;
  if constexpr (describe::described_enum<T>) {
    return py::str(std::string(describe::name_of(value)));
  } else if constexpr (std::is_same_v<T, warning>) {
    return py::make_tuple(std::string(describe::name_of(value.code)), value.message);
  } else if constexpr (std::is_base_of_v<std::vector<warning>, T>) {
    py::list out;
    for (const auto& each : value) out.append(to_python(each));
    return out;
  } else if constexpr (describe::described_struct<T>) {
    return to_dict(value);
  } else if constexpr (is_optional<T>::value) {
    return value ? to_python(*value) : py::none();
  } else if constexpr (is_vector<T>::value) {
    using element = typename T::value_type;
    if constexpr (std::is_arithmetic_v<element>) {
      return schema_detail::numpy_numbers(value);
    } else if constexpr (describe::described_enum<element>) {
      return codes(value);
    } else if constexpr (describe::described_struct<element> && !std::is_same_v<element, warning>) {
      return to_columns(value);
    } else {
      py::list out;
      for (const auto& each : value) out.append(to_python(each));
      return out;
    }
  } else if constexpr (is_std_array<T>::value) {
    using element = typename T::value_type;
    if constexpr (is_std_array<element>::value) {
      constexpr auto rows = std::tuple_size_v<T>;
      constexpr auto cols = std::tuple_size_v<element>;
      py::array_t<typename element::value_type> out({rows, cols});
      auto cells = out.template mutable_unchecked<2>();
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
          cells(static_cast<py::ssize_t>(r), static_cast<py::ssize_t>(c)) = value[r][c];
        }
      }
      return out;
    } else {
      return py::array_t<element>(static_cast<py::ssize_t>(value.size()), value.data());
    }
  } else if constexpr (eigen_matrix<T>) {
    return numpy_copy(value);
  } else {
    return py::cast(value);
  }
}

/** The name of the capsules that hold an exported T (export_result). */
template <class T>
const char* exported_name() {
  static const std::string name = std::string("crmkit.exported.") + typeid(T).name();
  return name.c_str();
}

/** The fields of `value` (owned by `base`) as a dict; number columns view its memory. */
template <describe::described_struct T>
py::dict export_fields(const T& value, const py::capsule& base) {
  py::dict out;
  describe::for_each_field<T>([&](const auto& field) {
    const auto& member = field.get(value);
    using member_type = std::decay_t<decltype(member)>;
    py::object converted;
    if constexpr (describe::is_computed<std::decay_t<decltype(field)>>) {
      converted = to_python(member);
    } else if constexpr (schema_detail::number_vector<member_type>) {
      using element = typename member_type::value_type;
      if (field.optional_column && member.empty()) {
        converted = py::none();
      } else if (!std::is_same_v<schema_detail::python_number<element>, element>) {
        converted = schema_detail::numpy_numbers(member);
      } else {
        converted =
            py::array_t<element>(static_cast<py::ssize_t>(member.size()), member.data(), base);
      }
    } else if constexpr (describe::described_struct<member_type> &&
                         !std::is_same_v<member_type, warning>) {
      converted = export_fields(member, base);
    } else {
      converted = to_python(member);
    }
    out[py::str(std::string(field.name))] = converted;
  });
  return out;
}

/**
 * A result moved to the heap and handed to Python as a dict: number columns are numpy arrays
 * viewing its memory (a capsule keeps it alive), nested described structs are dicts of the same
 * kind, everything else converts as in to_python. A column described `absent_when_empty` is
 * None when it has no rows.
 */
template <describe::described_struct T>
py::dict export_result(T&& result) {
  auto owned = std::make_unique<T>(std::move(result));
  const auto base = py::reinterpret_steal<py::capsule>(
      PyCapsule_New(owned.get(), exported_name<T>(), [](PyObject* capsule) {
        delete static_cast<T*>(PyCapsule_GetPointer(capsule, exported_name<T>()));
      }));
  if (!base) throw py::error_already_set();
  return export_fields(static_cast<const T&>(*owned.release()), base);
}

/**
 * The result an export_result capsule holds, when `owner` (buffer_owner of an array) is one for
 * a T; else nullptr. It lives as long as `owner`.
 */
template <describe::described_struct T>
T* exported_object(const py::object& owner) {
  if (!owner || !PyCapsule_IsValid(owner.ptr(), exported_name<T>())) return nullptr;
  return static_cast<T*>(PyCapsule_GetPointer(owner.ptr(), exported_name<T>()));
}

/** Runs `compute` without the GIL (it must touch no Python object) and exports its result. */
template <class Compute>
py::dict export_without_gil(Compute&& compute) {
  using Result = std::invoke_result_t<Compute&>;
  std::optional<Result> result;
  {
    const py::gil_scoped_release release;
    result.emplace(compute());
  }
  return export_result(std::move(*result));
}

/** The Python annotation of a member type, for the generated stubs. */
template <class T>
std::string python_type() {
  using namespace schema_detail;
  if constexpr (describe::described_enum<T>) {
    std::string out = "typing.Literal[";
    for (const auto name : describe::names<T>()) out += "'" + std::string(name) + "', ";
    out.resize(out.size() - 2);
    return out + "]";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "bool";
  } else if constexpr (std::is_integral_v<T>) {
    return "int";
  } else if constexpr (std::is_floating_point_v<T>) {
    return "float";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "str";
  } else if constexpr (std::is_same_v<T, warning>) {
    return "tuple[str, str]";
  } else if constexpr (std::is_base_of_v<std::vector<warning>, T>) {
    return "list[tuple[str, str]]";
  } else if constexpr (is_optional<T>::value) {
    return python_type<typename T::value_type>() + " | None";
  } else if constexpr (is_vector<T>::value) {
    using element = typename T::value_type;
    if constexpr (std::is_arithmetic_v<element> || describe::described_enum<element>) {
      return "numpy.ndarray";
    } else if constexpr (describe::described_struct<element>) {
      return "dict[str, typing.Any]";
    } else {
      return "list[" + python_type<element>() + "]";
    }
  } else if constexpr (is_std_array<T>::value || eigen_matrix<T>) {
    return "numpy.ndarray";
  } else if constexpr (describe::described_struct<T>) {
    return "dict[str, typing.Any]";
  } else {
    return "typing.Any";
  }
}

/** A described struct's fields as a tuple of (name, python type, doc) for the stub generator. */
template <describe::described_struct T>
py::tuple schema_of() {
  py::list out;
  describe::for_each_field<T>([&](const auto& field) {
    using member = typename std::decay_t<decltype(field)>::member_type;
    out.append(py::make_tuple(std::string(field.name), python_type<member>(),
                              std::string(field.doc)));
  });
  return py::tuple(out);
}

/**
 * Records a described result struct's schema in the module's `__schema__` dict under `name`, and
 * in `__returns__` the functions that return it (the stub generator types them with it).
 */
template <describe::described_struct T>
void record_schema(py::module_& module, const char* name,
                   std::initializer_list<const char*> returned_by = {}) {
  if (!py::hasattr(module, "__schema__")) {
    module.attr("__schema__") = py::dict();
    module.attr("__returns__") = py::dict();
  }
  module.attr("__schema__")[name] = schema_of<T>();
  for (const char* function : returned_by) module.attr("__returns__")[function] = name;
}

/**
 * A Python class over a described options struct: default construction, keyword construction
 * (unknown keywords name the closest field), a property per field with its doc (enums by name,
 * optionals accept None), equality and repr.
 */
template <describe::described_struct T>
py::class_<T> bind_struct(py::module_& module, const char* name, const char* doc) {
  py::class_<T> cls(module, name, doc);
  cls.def(py::init<>());
  cls.def(py::init([name](const py::kwargs& keywords) {
    auto value = std::make_unique<T>();
    py::object self = py::cast(*value, py::return_value_policy::reference);
    const auto names = describe::field_names<T>();
    for (const auto& [key, item] : keywords) {
      const auto wanted = py::cast<std::string>(key);
      if (!py::hasattr(self, key)) {
        std::vector<std::string> spelled(names.begin(), names.end());
        const auto suggestion = closest_name(wanted, spelled);
        throw invalid_input(std::string(name) + ": no option '" + wanted + "'" +
                            (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
      }
      self.attr(key) = item;
    }
    return value;
  }));
  describe::for_each_field<T>([&](const auto& field) {
    using member = typename std::decay_t<decltype(field)>::member_type;
    const std::string field_name(field.name);
    const std::string field_doc(field.doc);
    if constexpr (describe::is_computed<std::decay_t<decltype(field)>>) {
      cls.def_property_readonly(
          field_name.c_str(), [field](const T& self) { return to_python(field.get(self)); },
          field_doc.c_str());
    } else if constexpr (describe::described_enum<member>) {
      cls.def_property(
          field_name.c_str(),
          [field](const T& self) { return std::string(describe::name_of(field.get(self))); },
          [field](T& self, const std::string& text) {
            field.get(self) = describe::parse<member>(text, field.name);
          },
          field_doc.c_str());
    } else {
      cls.def_property(
          field_name.c_str(), [field](const T& self) { return field.get(self); },
          [field](T& self, const member& value) { field.get(self) = value; }, field_doc.c_str());
    }
  });
  cls.def("__eq__", [](const T& a, const T& b) {
    bool same = true;
    describe::for_each_field<T>([&](const auto& field) {
      same = same && (field.get(a) == field.get(b));
    });
    return same;
  });
  cls.def("__repr__", [name](const py::object& self) {
    py::list parts;
    for (const auto field : describe::field_names<T>()) {
      const py::str key(std::string(field).c_str());
      parts.append(py::str("{}={!r}").format(key, self.attr(key)));
    }
    return py::str("{}({})").format(name, py::str(", ").attr("join")(parts));
  });
  cls.def("_asdict", [](const T& self) { return to_dict(self); });
  cls.attr("__fields__") = schema_of<T>();
  return cls;
}

}  // namespace crmkit::python
