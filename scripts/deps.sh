#!/usr/bin/env bash
# Installs the Debian packages crmkit builds and tests with, when any is missing.
set -euo pipefail

packages=(
  g++ cmake make git ccache
  clang libclang-rt-14-dev
  libeigen3-dev libboost-dev libfmt-dev pybind11-dev doctest-dev
  python3-dev python3-venv python3-setuptools python3-wheel
  python3-numpy python3-pandas python3-scipy python3-matplotlib python3-sklearn
  python3-pytest python3-pytest-timeout python3-hypothesis python3-mpmath
  python3-nbclient python3-nbformat python3-ipykernel
  chromium chromium-driver python3-selenium fonts-noto-cjk
  python3-dask python3-distributed
  postgresql python3-psycopg2 python3-sqlalchemy
  python3-statsmodels
  libopenblas0-pthread python3-threadpoolctl
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "crmkit: installing missing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
