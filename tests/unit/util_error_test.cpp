// The one error path (include/slimage/util/error.h): callers put where
// first, once, and never by reading the message.
#include <doctest/doctest.h>

#include "slimage/util/error.h"

using namespace slimage;

namespace {

template <class F>
Error caught(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no Error thrown");
  return Error("");
}

}  // namespace

TEST_CASE("error: with_location puts where first on an error that does not say where") {
  Error e = caught([] { with_location("layer sha256:ab12", [] { fail("unexpected end of archive"); }); });
  CHECK(std::string(e.what()) == "layer sha256:ab12: unexpected end of archive");
  CHECK(e.where() == "layer sha256:ab12");
}

TEST_CASE("error: with_location adds nothing to an error that starts at that place") {
  Error e = caught([] {
    with_location("oci:in:img: blob sha256:ab12", [] { fail_at("oci:in:img: blob sha256:ab12", "truncated"); });
  });
  CHECK(std::string(e.what()) == "oci:in:img: blob sha256:ab12: truncated");
}

TEST_CASE("error: with_location adds nothing to an error about a place that holds it") {
  // The registry's own error (auth) while reading one of its blobs.
  Error e = caught([] {
    with_location("docker://r/x: blob sha256:ab12", [] { fail_at("docker://r/x", "token server: 500"); });
  });
  CHECK(std::string(e.what()) == "docker://r/x: token server: 500");
}

TEST_CASE("error: nested with_location puts each place first, outermost first") {
  Error e = caught([] {
    with_location("layer sha256:ab12", [] { with_location("usr/lib/x.so", [] { fail("bad byte"); }); });
  });
  CHECK(std::string(e.what()) == "layer sha256:ab12: usr/lib/x.so: bad byte");
  CHECK(e.where() == "layer sha256:ab12");
  // A place that merely starts with the same letters is another place.
  Error other = caught([] { with_location("oci:in2", [] { fail_at("oci:in", "bad"); }); });
  CHECK(std::string(other.what()) == "oci:in2: oci:in: bad");
}

TEST_CASE("error: with_location returns the body's value") {
  CHECK(with_location("x", [] { return 42; }) == 42);
  CHECK(Error("plain").where().empty());
}

TEST_CASE("util: diagnostics past the first kKept are counted, not kept; errors are counted either way") {
  Diagnostics d;
  for (size_t i = 0; i < Diagnostics::kKept; ++i) d.warn("w", std::to_string(i));
  CHECK(d.items().size() == Diagnostics::kKept);  // all kept: no summary
  d.error("e", "one");
  d.warn("w", "two");
  d.warn("w", "three");
  auto items = d.items();
  REQUIRE(items.size() == Diagnostics::kKept + 1);
  CHECK(items[Diagnostics::kKept - 1].message == std::to_string(Diagnostics::kKept - 1));
  CHECK(items.back().where == "diagnostics");
  CHECK(items.back().message == "1 more errors and 2 more warnings not kept (the first 10000 are)");
  CHECK(d.error_count() == 1);
}
