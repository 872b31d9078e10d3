"""Builds crmkit's Python package: setuptools drives the CMake build of crmkit._core and of the
C++ `crmkit` tool, shipped as crmkit/bin/crmkit (the Python `crmkit` command hands the tool's
subcommands to it, so an installation has one `crmkit` with one set of subcommands).

Set CRMKIT_CMAKE_BUILD_DIR to reuse an existing CMake build tree (the test script does, so the
extension is compiled once); otherwise a private tree under setuptools' build_temp is used.
Nothing is downloaded: CMake finds pybind11, Eigen, Boost and fmt from the system.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).parent.resolve()


def read_version() -> str:
    header = (ROOT / "include" / "crmkit" / "version.hpp").read_text()
    parts = [re.search(rf"CRMKIT_VERSION_{p} (\d+)", header).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        shared_tree = os.environ.get("CRMKIT_CMAKE_BUILD_DIR")
        build_dir = Path(shared_tree).resolve() if shared_tree else Path(self.build_temp).resolve() / "cmake"
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), f"-DPython_EXECUTABLE={sys.executable}",
                     "-DCRMKIT_BUILD_PYTHON=ON", "-DCRMKIT_BUILD_CLI=ON"]
        if not shared_tree:
            configure += ["-DCMAKE_BUILD_TYPE=Release", "-DCRMKIT_BUILD_TESTS=OFF",
                          "-DCRMKIT_BUILD_EXAMPLES=OFF", "-DCRMKIT_INSTALL=OFF"]
        subprocess.run(configure, check=True)
        jobs = str(os.cpu_count() or 2)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "_core", "crmkit_cli",
                        "--parallel", jobs], check=True)
        built = sorted((build_dir / "python" / "crmkit").glob("_core*.so"))
        if not built:
            raise RuntimeError(f"CMake did not produce crmkit/_core*.so under {build_dir}")
        target = Path(self.get_ext_fullpath(ext.name)).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[-1], target)
        tool = target.parent / "bin" / "crmkit"
        tool.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(build_dir / "tools" / "cli" / "crmkit", tool)


setup(
    version=read_version(),
    ext_modules=[CMakeExtension("crmkit._core")],
    cmdclass={"build_ext": CMakeBuild},
)
