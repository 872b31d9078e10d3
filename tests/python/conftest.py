"""Hypothesis profiles. With CRMKIT_HYPOTHESIS_PROFILE=ci (scripts/test.sh and .ci/run) every run
draws the same examples, so that a red CI can be reproduced and a green one means the same thing
each time; a plain `pytest` keeps drawing new examples, which is how new counterexamples are found
(pin each one with @example). An environment variable, because this conftest is read after
pytest has parsed --hypothesis-profile."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("CRMKIT_HYPOTHESIS_PROFILE", "default"))
