// The one doctest main shared by every unit-test binary, and the skip
// bookkeeping of test_skip.h: every case skipped for a missing tool or
// fixture is named at the end of the run in one line that scripts/test.sh
// reads ("[skips] N: name; name; …"), so a skip is never a silent pass.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "test_skip.h"

namespace slimage::test {
bool have_tool(const std::string& tool) {
  static std::map<std::string, bool> known;
  auto it = known.find(tool);
  if (it != known.end()) return it->second;
  bool ok = std::system(("command -v '" + tool + "' >/dev/null 2>&1").c_str()) == 0;
  return known[tool] = ok;
}

bool have_path(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool have_static_libc() {
  if (!have_tool("gcc")) return false;
  FILE* p = ::popen("gcc -print-file-name=libc.a 2>/dev/null", "r");
  if (!p) return false;
  char buf[4096] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, p);
  ::pclose(p);
  std::string path(buf, n);
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  return path.starts_with("/") && have_path(path);  // gcc echoes the bare name when it has none
}

namespace {

struct SkipListener : doctest::IReporter {
  std::vector<const doctest::TestCaseData*> skipped;
  explicit SkipListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {
    if (skipped.empty()) return;
    std::string line = "[skips] " + std::to_string(skipped.size()) + ":";
    for (auto* tc : skipped) line += std::string(" ") + tc->m_name + ";";
    std::printf("%s\n", line.c_str());
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData& tc) override {
    if (tc.m_skip) skipped.push_back(&tc);
  }
};

}  // namespace
}  // namespace slimage::test

DOCTEST_REGISTER_LISTENER("skips", 1, slimage::test::SkipListener);
