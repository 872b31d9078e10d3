#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace crmkit {

/**
 * Root of every exception crmkit throws, so callers can write `catch (const crmkit::error&)`.
 *
 * It is a mixin: each concrete error also derives from the standard exception that says what
 * kind of failure it is. Bad input derives from `std::invalid_argument` (Python: `ValueError`);
 * a numerical failure derives from `std::runtime_error` (Python: `RuntimeError`).
 */
class error {
 public:
  virtual ~error() = default;
  [[nodiscard]] virtual const char* what() const noexcept = 0;
};

/**
 * Bad input: an argument, array element or parameter outside its domain. The message names the
 * function, the argument, the position (index, row/column) and the offending value.
 */
class invalid_input : public std::invalid_argument, public error {
 public:
  explicit invalid_input(const std::string& message) : std::invalid_argument(message) {}
  [[nodiscard]] const char* what() const noexcept override { return std::invalid_argument::what(); }
};

/**
 * Bad text input: the message reads "file:line:column: column 'name': problem 'text'", and the
 * location is also available as fields. `line` and `column` are 1-based; 0 means unknown.
 */
class parse_error : public invalid_input {
 public:
  parse_error(const std::string& message, std::string file, std::size_t line, std::size_t column)
      : invalid_input(message), file_(std::move(file)), line_(line), column_(column) {}
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

 private:
  std::string file_;
  std::size_t line_;
  std::size_t column_;
};

/** A computation that could not produce a trustworthy number (divergence, overflow, no optimum). */
class numerical_error : public std::runtime_error, public error {
 public:
  explicit numerical_error(const std::string& message) : std::runtime_error(message) {}
  [[nodiscard]] const char* what() const noexcept override { return std::runtime_error::what(); }
};

}  // namespace crmkit
