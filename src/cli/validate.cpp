// Validation at the door (see include/slimage/cli/validate.h). Each check
// reuses the parser the run would use later (parse_image_ref, Platform::parse,
// load_profile, parse_shard), so the door and the run cannot disagree.
#include "slimage/cli/validate.h"

#include <unistd.h>

#include <filesystem>

#include "slimage/cli/batch.h"
#include "slimage/plan/profile.h"
#include "slimage/report/gate.h"
#include "slimage/report/sbom.h"
#include "slimage/util/file.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

const std::vector<std::string> kUnsupportedTransports = {
    "dir", "docker-daemon", "containers-storage", "ostree", "sif", "tarball"};

// Runs `check`, turning its Error into a UsageError (the message kept).
template <typename F>
auto as_usage(F&& check) {
  try {
    return check();
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

std::string parent_of(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// `dir` exists, is a directory and is writable: where an output file goes.
void check_writable_dir(const std::string& what, const std::string& dir) {
  if (!path_exists(dir)) throw UsageError(what + ": directory " + dir + " does not exist");
  if (!is_directory(dir)) throw UsageError(what + ": " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) throw UsageError(what + ": directory " + dir + " is not writable");
}

// An output file (--report FILE): its directory must take a new file.
void check_output_file(const std::string& flag, const std::string& path) {
  if (path.empty()) return;
  std::string what = flag + " " + path;
  if (is_directory(path)) throw UsageError(what + ": is a directory");
  check_writable_dir(what, parent_of(path));
}

// --sbom FILE: a format, from --sbom-format or the name, and a file to write.
// --sbom-attach: also needs a destination that can hold a referrer.
void check_sbom(const SlimOptions& o) {
  if (o.sbom.empty()) {
    if (!o.sbom_format.empty()) throw UsageError("--sbom-format " + o.sbom_format + ": needs --sbom FILE");
    if (o.sbom_attach) throw UsageError("--sbom-attach: needs --sbom FILE");
    return;
  }
  if (o.sbom_attach && parse_image_ref(o.destination).transport == Transport::DockerArchive)
    throw UsageError("--sbom-attach: " + o.destination +
                     ": a docker archive cannot hold an OCI referrer (write oci:, oci-archive: or docker://)");
  if (o.sbom == "-") throw UsageError("--sbom -: give a file name (the summary goes to stdout)");
  if (o.sbom_format.empty() && !sbom_format_for_path(o.sbom))
    throw UsageError("--sbom " + o.sbom +
                     ": cannot tell the format from the name: use FILE.spdx.json or FILE.cdx.json, or --sbom-format");
  as_usage([&] { return o.sbom_format.empty() ? SbomFormat::Spdx : parse_sbom_format(o.sbom_format); });
  check_output_file("--sbom", o.sbom);
}

void check_image_ref(const std::string& text, bool output) {
  if (std::string t = unsupported_transport(text); !t.empty())
    throw UsageError(text + ": unsupported transport " + t +
                     ": (slimage reads and writes oci:, oci-archive:, docker-archive: and docker://)");
  ImageRef ref = as_usage([&] { return parse_image_ref(text); });
  if (!output || ref.transport == Transport::Docker) return;
  if (ref.transport == Transport::Oci) {
    // The sink creates the layout directory and its parents: the nearest
    // existing ancestor must take them.
    std::string dir = ref.path;
    while (!path_exists(dir) && dir != parent_of(dir)) dir = parent_of(dir);
    if (dir != ref.path || is_directory(dir)) check_writable_dir(text, dir);
    else throw UsageError(text + ": exists and is not a directory");
    return;
  }
  if (is_directory(ref.path)) throw UsageError(text + ": is a directory");
  check_writable_dir(text, parent_of(ref.path));
}

void check_profile(const std::string& name) {
  if (name.empty() || name == "none") return;
  std::vector<std::string> builtin;
  for (auto& [n, description] : builtin_profiles()) builtin.push_back(n);
  if (std::find(builtin.begin(), builtin.end(), name) == builtin.end() && !path_exists(name)) {
    std::string near = closest_word(name, builtin);
    std::string names;
    for (auto& n : builtin) names += (names.empty() ? "" : ", ") + n;
    throw UsageError("--profile " + name + ": no built-in profile or file of that name" +
                     (near.empty() ? " (built-in: " + names + ")" : "; did you mean " + near + "?"));
  }
  as_usage([&] { return load_profile(name); });
}

void check_readable_file(const std::string& flag, const std::string& path) {
  if (path.empty()) return;
  if (!path_exists(path)) throw UsageError(flag + " " + path + ": no such file");
  if (is_directory(path)) throw UsageError(flag + " " + path + ": is a directory");
}

void check_transport(const std::string& side, const TransportOptions& t, const SideTransportFlags& flags) {
  check_readable_file(flags.authfile ? "--" + side + "-authfile" : "--authfile", t.authfile);
  check_readable_file("--ca-file", t.ca_file);
  if (!t.cert_dir.empty() && !is_directory(t.cert_dir))
    throw UsageError((flags.cert_dir ? "--" + side + "-cert-dir " : "--cert-dir ") + t.cert_dir +
                     ": no such directory");
}

}  // namespace

std::string unsupported_transport(std::string_view ref) {
  for (auto& t : kUnsupportedTransports)
    if (ref.size() > t.size() && ref.starts_with(t) && ref[t.size()] == ':') return t;
  return "";
}

std::string unknown_command_message(const std::string& word, const std::vector<std::string>& commands) {
  if (std::find(commands.begin(), commands.end(), word) != commands.end()) return "";
  std::string near = closest_word(word, commands);
  return "unknown command " + word + (near.empty() ? "" : "; did you mean " + near + "?");
}

void validate_command(const Command& cmd) {
  const CommonOptions& c = cmd.common;
  if (!c.platform.empty()) as_usage([&] { return Platform::parse(c.platform); });
  const bool uses_plan = cmd.name == "slim" || cmd.name == "batch" || cmd.name == "plan" || cmd.name == "why";
  if (uses_plan) check_profile(cmd.slim.plan.profile);
  if (cmd.name == "profiles" && !cmd.profile_to_show.empty()) check_profile(cmd.profile_to_show);
  // The gate's rules and --ci-config: a typo'd key or value before any decoding.
  if (cmd.name == "check" || (cmd.name == "slim" && cmd.slim.gate.check))
    as_usage([&] { return gate_rules(cmd.slim.gate.config, cmd.slim.gate.flags); });
  if (cmd.name == "check" || cmd.name == "inspect" || cmd.name == "plan" || cmd.name == "why" || cmd.name == "verify" ||
      cmd.name == "diff")
    check_image_ref(cmd.source, false);
  if (cmd.name == "diff") check_image_ref(cmd.other, false);
  if (cmd.name == "slim") {
    check_image_ref(cmd.slim.source, false);
    check_image_ref(cmd.slim.destination, true);
    check_output_file("--report", cmd.slim.report);
    check_output_file("--html", cmd.slim.html);
    check_sbom(cmd.slim);
    check_transport("dest", c.destination_transport, c.destination_flags);
  }
  if (cmd.name == "batch") {
    if (!cmd.batch.shard.empty()) as_usage([&] { return parse_shard(cmd.batch.shard); });
    if (!cmd.batch.from.empty()) check_image_ref(cmd.batch.from, false);
    if (!cmd.batch.to.empty()) check_image_ref(cmd.batch.to, true);
    if (!cmd.batch.list.empty() && cmd.batch.list != "-" && !path_exists(cmd.batch.list))
      throw UsageError("LIST " + cmd.batch.list + ": no such file");
    check_output_file("--report", cmd.batch.report);
    if (!cmd.batch.sbom_dir.empty()) check_writable_dir("--sbom " + cmd.batch.sbom_dir, cmd.batch.sbom_dir);
    if (!cmd.batch.html_dir.empty()) check_writable_dir("--html " + cmd.batch.html_dir, cmd.batch.html_dir);
    if (cmd.batch.sbom_dir.empty() && !cmd.slim.sbom_format.empty())
      throw UsageError("--sbom-format " + cmd.slim.sbom_format + ": needs --sbom DIR");
    if (cmd.batch.sbom_dir.empty() && cmd.slim.sbom_attach) throw UsageError("--sbom-attach: needs --sbom DIR");
    check_transport("dest", c.destination_transport, c.destination_flags);
  }
  if (cmd.name == "report") {
    check_readable_file("REPORT", cmd.source);
    check_output_file("--html", cmd.slim.html);
  }
  if (cmd.name != "profiles") check_transport("src", c.transport, c.source_flags);
}

}  // namespace slimage
