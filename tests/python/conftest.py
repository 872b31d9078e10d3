"""Hypothesis profiles. `--hypothesis-profile=ci` (scripts/test.sh and .ci/run) draws the same
examples on every run, so that a red CI can be reproduced and a green one means the same thing
each time; a plain `pytest` keeps drawing new examples, which is how new counterexamples are found
(pin each one with @example)."""

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
