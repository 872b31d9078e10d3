#!/usr/bin/env python3
"""Counts how much of the Python boundary is spelled by hand (issue 11, "a schema-first boundary").

  dict entries : hand-built dict entries in python/src/*.cpp, i.e. `out["key"] = ...` subscript
                 assignments plus `"key"_a = ...` keywords inside a `py::dict(...)` call.
  key strings  : the distinct keys of those entries (plus string subscripts `obj["key"]` read in
                 C++) that python/crmkit/*.py spells again as a string literal.
  all literals : every C++ string literal of python/src (excluding #include lines) that also
                 appears as a Python string literal in python/crmkit (an upper bound that also
                 counts argument names and messages).

Usage: tools/schema/count_boundary.py [-v] [repo root]   (one "name: value" line per number;
-v also lists the repeated keys)
"""
import ast
import pathlib
import re
import sys

arguments = [a for a in sys.argv[1:] if a != "-v"]
root = pathlib.Path(arguments[0] if arguments else ".")
cpp_files = sorted((root / "python" / "src").glob("*.cpp"))
py_files = sorted((root / "python" / "crmkit").glob("*.py"))

literal = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
subscript_assign = re.compile(r'\[\s*"([^"\n]+)"\s*\]\s*=(?!=)')
subscript = re.compile(r'\[\s*"([^"\n]+)"\s*\]')
dict_call = re.compile(r'py::dict\s*\(')
keyword = re.compile(r'"([^"\n]+)"_a\s*=(?!=)')


def dict_call_keywords(text):
    """Keywords `"k"_a = v` inside py::dict( ... ) calls (balanced parentheses)."""
    keys = []
    for match in dict_call.finditer(text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        keys += keyword.findall(text[match.end():i])
    return keys


entries, keys, cpp_literals = 0, set(), set()
for path in cpp_files:
    text = "\n".join(l for l in path.read_text().splitlines() if not l.startswith("#include"))
    assigned = subscript_assign.findall(text) + dict_call_keywords(text)
    entries += len(assigned)
    keys |= set(assigned) | set(subscript.findall(text))
    cpp_literals |= set(literal.findall(text))

py_literals = set()
for path in py_files:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            py_literals.add(node.value)

print(f"dict entries: {entries}")
print(f"distinct keys: {len(keys)}")
print(f"key strings repeated in python/crmkit: {len(keys & py_literals)}")
print(f"all literals repeated in python/crmkit: {len(cpp_literals & py_literals)}")
if "-v" in sys.argv:
    print("repeated keys:", sorted(keys & py_literals))
