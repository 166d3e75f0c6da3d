// Libraries a Python program loads by name, read from its source: what
// ctypes (CDLL, PyDLL, LoadLibrary, `cdll.foo`, `cdll["…"]`), cffi
// (`ffi.dlopen("…")`) and ctypes.util.find_library("cudart") are handed,
// and every "lib….so…" string literal. A .pyc without its source is read as
// bytes: its marshalled string constants hold the same literals. The plan
// makes what these names resolve to roots of the dependency walk
// (src/plan/python_loads.cpp). Comments are not told apart from code: a
// name in a comment keeps its library too (the safe side).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slimage {

enum class PythonLoadKind {
  Name,                // a file name, path or basename glob dlopen gets ("libcurand.so.10")
  FindLibrary,         // ctypes.util.find_library("cudart"): `name` is the short name
  FindLibraryUnknown,  // find_library(expr): the name is not a literal
};

struct PythonLoad {
  PythonLoadKind kind = PythonLoadKind::Name;
  // "libcurand.so.10", "/opt/x/libfoo.so", "libcudart.so.*" (a glob, from a
  // format string or concatenation), "cudart" for FindLibrary, "" for Unknown.
  std::string name;
  size_t line = 0;    // 1-based; 0 in a .pyc
  std::string api;    // "ctypes", "cffi" or "string" (a literal anywhere)
  std::string shown;  // as the reason shows it: CDLL("libcurand.so.10"), cdll.foo, "libfoo.so.1"
};

// Whether `text` mentions a loader word or ".so" at all: the cheap test run
// before any line-level work.
bool python_may_load(std::string_view text);

// The loads of one .py file, calls before bare literals, each name once.
std::vector<PythonLoad> scan_python_source(std::string_view text);

// The loads of one .pyc: "lib….so…" string constants, and find_library as a
// name (its argument is not recoverable: FindLibraryUnknown).
std::vector<PythonLoad> scan_python_bytecode(std::span<const uint8_t> bytes);

// The reason a root carries:
//   python ctypes: usr/lib/python3/dist-packages/foo/_load.py:12 CDLL("libcurand.so.10")
std::string python_load_reason(const std::string& file, const PythonLoad& load);

}  // namespace slimage
