// Skips decided when a test case is registered. A case whose tool or fixture
// is missing carries doctest's skip decorator, so the run reports it as
// skipped (doctest_main.cpp's listener names each one) and never counts it as
// passed. Usage: TEST_CASE("elf: …" * doctest::skip(!have_tool("readelf"))).
#pragma once
#include <doctest/doctest.h>

#include <string>

namespace slimage::test {

// Whether TOOL is on PATH; asked once per name.
bool have_tool(const std::string& tool);
// Whether PATH exists (file, directory or link target).
bool have_path(const std::string& path);
// Whether gcc can link a -static program (libc.a installed).
bool have_static_libc();

}  // namespace slimage::test
