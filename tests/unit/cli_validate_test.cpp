// Validation at the door (include/slimage/cli/validate.h): exact messages for
// each usage error, checked without an image.
#include <doctest/doctest.h>

#include "slimage/cli/validate.h"
#include "slimage/util/file.h"
#include "slimage/util/strings.h"

using namespace slimage;

namespace {

std::string usage_error(const Command& cmd) {
  try {
    validate_command(cmd);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

Command inspect(const std::string& source) {
  Command c;
  c.name = "inspect";
  c.source = source;
  return c;
}

}  // namespace

TEST_CASE("validate: closest_word suggests within two edits, else nothing") {
  std::vector<std::string> commands = {"slim", "batch", "inspect", "plan", "why", "verify"};
  CHECK(closest_word("slimm", commands) == "slim");
  CHECK(closest_word("inpsect", commands) == "inspect");
  CHECK(closest_word("frobnicate", commands) == "");
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(unknown_command_message("slimm", commands) == "unknown command slimm; did you mean slim?");
  CHECK(unknown_command_message("plan", commands) == "");
}

TEST_CASE("validate: skopeo transports slimage cannot read are named") {
  CHECK(unsupported_transport("dir:/tmp/x") == "dir");
  CHECK(unsupported_transport("docker-daemon:app:1") == "docker-daemon");
  CHECK(unsupported_transport("containers-storage:app") == "containers-storage");
  CHECK(unsupported_transport("docker-archive:x.tar") == "");
  CHECK(unsupported_transport("directory/x") == "");
  CHECK(usage_error(inspect("dir:/tmp/x")) ==
        "dir:/tmp/x: unsupported transport dir: (slimage reads and writes oci:, oci-archive:, "
        "docker-archive: and docker://)");
}

TEST_CASE("validate: platform, profile and report path are usage errors") {
  Command c = inspect("oci:/nonexistent-layout:img");
  c.common.platform = "linux";
  CHECK(usage_error(c) == "platform \"linux\": want OS/ARCH[/VARIANT], e.g. linux/arm64/v8");
  c.common.platform = "linux/arm64/v8";
  CHECK(usage_error(c) == "");

  Command p = inspect("oci:/nonexistent-layout:img");
  p.name = "plan";
  p.slim.plan.profile = "cdua";
  CHECK(usage_error(p) == "--profile cdua: no built-in profile or file of that name; did you mean cuda?");
  p.slim.plan.profile = "none";
  CHECK(usage_error(p) == "");

  TempDir dir(scratch_parent(), "validate-");
  Command s;
  s.name = "slim";
  s.slim.source = "oci:" + dir.path() + "/in:img";
  s.slim.destination = "oci:" + dir.path() + "/out:img";
  s.slim.report = dir.path() + "/no/r.json";
  CHECK(usage_error(s) == "--report " + dir.path() + "/no/r.json: directory " + dir.path() + "/no does not exist");
  s.slim.report = dir.path() + "/r.json";
  CHECK(usage_error(s) == "");
}
