// CLI11 definitions: every subcommand and flag, filled into the plain
// structs of slimage/cli/options.h. Transport syntax follows skopeo.
#include "slimage/cli/app.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

#include "completion.h"
#include "slimage/cli/options.h"
#include "slimage/cli/validate.h"
#include "slimage/elf/fatbin_prune.h"
#include "slimage/image/image.h"
#include "slimage/layer/compression.h"
#include "slimage/report/gate.h"
#include "slimage/util/error.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

void add_common(CLI::App* app, CommonOptions& c, bool json) {
  app->add_option("--platform", c.platform, "OS/ARCH[/VARIANT] of a multi-platform image");
  app->add_option("--jobs,-j", c.jobs, "worker threads (default: cores)");
  app->add_option("--scratch", c.scratch,
                  "directory for decoded layers and staging (default: $SLIMAGE_TMPDIR, $TMPDIR, /var/tmp)")
      ->check(CLI::ExistingDirectory);
  app->add_flag("--quiet,-q", c.quiet, "no progress on stderr (warnings and errors are still shown)");
  app->add_option("--creds", c.transport.creds, "USER:PASS for docker:// registries");
  app->add_option("--authfile", c.transport.authfile, "docker config.json with registry auths");
  app->add_option("--tls-verify", c.transport.tls_verify,
                  "verify registry TLS (default true); false also allows plain HTTP")
      ->default_str("true");
  app->add_option("--ca-file", c.transport.ca_file, "CA bundle for registries");
  app->add_option("--cert-dir", c.transport.cert_dir, "directory whose *.crt files are trusted CAs");
  if (json) app->add_flag("--json", c.json, "machine-readable output");
}

// skopeo's --src-*/--dest-* flags: each one given overrides the shared flag
// for its side only. Values land in `raw` and are applied after parsing.
struct SideFlagValues {
  std::string creds, authfile, cert_dir;
  bool tls_verify = true;
};

struct SideFlags {
  SideFlagValues source, destination;
  std::vector<std::pair<CLI::Option*, std::function<void(CommonOptions&)>>> given;

  void add(CLI::App* app, const std::string& side, SideFlagValues& v, bool source_side) {
    auto pick = [source_side](CommonOptions& c) -> SideTransportFlags& {
      return source_side ? c.source_flags : c.destination_flags;
    };
    std::string what = source_side ? "the source" : "the destination";
    given.push_back({app->add_option("--" + side + "-creds", v.creds, "USER:PASS for " + what),
                     [&v, pick](CommonOptions& c) { pick(c).creds = v.creds; }});
    given.push_back({app->add_option("--" + side + "-authfile", v.authfile, "auth file for " + what),
                     [&v, pick](CommonOptions& c) { pick(c).authfile = v.authfile; }});
    given.push_back({app->add_option("--" + side + "-cert-dir", v.cert_dir, "CA certificates (*.crt) for " + what),
                     [&v, pick](CommonOptions& c) { pick(c).cert_dir = v.cert_dir; }});
    given.push_back({app->add_option("--" + side + "-tls-verify", v.tls_verify,
                                     "verify TLS of " + what + "; false also allows plain HTTP"),
                     [&v, pick](CommonOptions& c) { pick(c).tls_verify = v.tls_verify; }});
  }
  void add_both(CLI::App* app) {
    add(app, "src", source, true);
    add(app, "dest", destination, false);
  }
  void apply(CommonOptions& c) const {
    for (auto& [option, set] : given)
      if (option->count() > 0) set(c);
  }
};

TransportOptions for_side(const TransportOptions& shared, const SideTransportFlags& f) {
  TransportOptions t = shared;
  if (f.creds) t.creds = *f.creds;
  if (f.authfile) t.authfile = *f.authfile;
  if (f.cert_dir) t.cert_dir = *f.cert_dir;
  if (f.tls_verify) t.tls_verify = *f.tls_verify;
  return t;
}

// CLI11 says "The following argument was not expected: --platfrom"; name
// the subcommand and the nearest option instead.
std::string unexpected_option_message(const CLI::App& app) {
  const CLI::App* sub = &app;
  for (auto* s : app.get_subcommands()) sub = s;
  for (auto* s : sub->get_subcommands()) sub = s;
  std::vector<std::string> names;
  for (const CLI::Option* o : sub->get_options())
    for (auto& l : o->get_lnames()) names.push_back("--" + l);
  for (auto& word : sub->remaining()) {
    std::string flag = word.substr(0, word.find('='));
    if (!flag.starts_with("--")) continue;
    std::string near = closest_word(flag, names);
    return "unknown option " + flag + " for " + sub->get_name() + (near.empty() ? "" : "; did you mean " + near + "?");
  }
  return "";
}

// A CLI11 check from a parser that throws Error: its message is the usage error.
std::function<std::string(const std::string&)> parses_with(std::function<void(const std::string&)> parse) {
  return [parse](const std::string& v) -> std::string {
    try {
      parse(v);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
}

void add_plan_settings(CLI::App* app, PlanSettings& p) {
  app->add_option("--profile,-p", p.profile, "built-in profile name, a profile file, or none")
      ->default_str("default");
  app->add_option("--keep", p.keep, "keep paths matching GLOB (repeatable)");
  app->add_option("--drop", p.drop, "drop paths matching GLOB (repeatable)");
  app->add_option("--entrypoint", p.entrypoints, "extra root PATH (repeatable)");
  app->add_option("--strip", p.strip, "none | debug | unneeded (default: the profile's)")
      ->check(CLI::IsMember({"none", "debug", "unneeded"}));
  // Checked while parsing: a bad GPU is a usage error before anything is read.
  app->add_option("--cuda-arch", p.cuda_arch,
                   "keep only GPU code these GPUs run: sm_90, sm_80,sm_90, 9.0, 90, sm_90a, sm_100f")
      ->check(parses_with([](const std::string& v) { parse_cuda_archs(v); }));
  app->add_option("--cuda-ptx", p.cuda_ptx,
                  "with --cuda-arch: newest (default) | none | all PTX kept")
      ->check(CLI::IsMember({"newest", "none", "all"}));
  app->add_flag("--no-dedupe", p.no_dedupe, "write identical files as they are, not as links");
}

// The gate's rule flags, one per key (--lowest-efficiency …, as dive's
// .dive-ci keys): those given land in GateSettings::flags after parsing,
// over --ci-config's values; any of them turns `slim --check` on.
struct GateFlags {
  std::map<std::string, std::string> value;
  std::vector<std::pair<CLI::Option*, std::string>> given;

  void add(CLI::App* app, GateSettings& g) {
    static const std::map<std::string, std::string> help = {
        {"lowestEfficiency", "fail below this share of the layers' bytes the image shows (0-1 or N%; default 0.9)"},
        {"highestWastedBytes", "fail above these bytes hidden by upper layers (20MB, 1.5GiB; default disabled)"},
        {"highestUserWastedPercent",
         "fail above this ratio of wasted bytes to the bytes above the first layer (0-1 or N%; default 0.1)"},
        {"largestImage", "fail above this compressed image size (2GB; default disabled)"},
        {"leastReduction", "slim --check: fail unless slimming removes at least this share (0.3 or 30%)"}};
    app->add_option("--ci-config", g.config, "gate rules: dive's .dive-ci YAML, or JSON {\"rules\": {...}}");
    for (auto& key : gate_keys())
      given.push_back({app->add_option(gate_flag(key), value[key], help.at(key) + "; 'disabled' turns it off"), key});
  }
  void apply(GateSettings& g) const {
    for (auto& [option, key] : given)
      if (option->count() > 0) g.flags.push_back({key, value.at(key)});
    if (!g.flags.empty() || !g.config.empty()) g.check = true;
  }
};

// --test [CMD]: CMD may be left out (last on the line, or --test '') to run
// the image's own Entrypoint + Cmd.
CLI::Option* add_test_options(CLI::App* app, SlimOptions& s) {
  auto* test = app->add_option("--test", s.test_command,
                               "run CMD ('' or none: the image's Entrypoint + Cmd) in the original and "
                               "the slimmed root as the runtime would (Env, WorkingDir, User); "
                               "refuse if it breaks")
                   ->expected(0, 1);
  app->add_option("--test-timeout", s.test_timeout, "seconds before a --test run is killed (default 300)");
  return test;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"slimage: rewrite a container image to fighting weight"};
  app.set_version_flag("--version", std::string("slimage ") + SLIMAGE_VERSION);
  app.require_subcommand(1);
  Command cmd;

  auto* slim = app.add_subcommand("slim", "slim SRC into DST");
  slim->add_option("SRC", cmd.slim.source, "source image (oci:, oci-archive:, docker-archive:, docker://, path)")
      ->required();
  // Output refs are checked by their transport's grammar before anything is read.
  const CLI::Validator output_ref(
      [](std::string& text) { return output_ref_problem(text); }, "IMAGE", "output image ref");
  slim->add_option("DST", cmd.slim.destination, "destination image")->required()->check(output_ref);
  add_plan_settings(slim, cmd.slim.plan);
  add_common(slim, cmd.common, false);
  SideFlags sides;
  sides.add_both(slim);
  slim->add_option("--layers", cmd.slim.layers, "keep | squash")
      ->check(CLI::IsMember({"keep", "squash"}));
  slim->add_option("--compression", cmd.slim.compression, "gzip | zstd | none")
      ->check(CLI::IsMember({"gzip", "zstd", "none"}));
  slim->add_option("--level", cmd.slim.level, "compression level: gzip 1-12 (default 5), zstd 1-19 (default 3)");
  slim->add_option("--report", cmd.slim.report, "write the full report as JSON to FILE");
  slim->add_option("--html", cmd.slim.html, "write the report as one self-contained HTML page to FILE");
  slim->add_option("--sbom", cmd.slim.sbom,
                   "write an SBOM of the slimmed image to FILE (*.spdx.json: SPDX 2.3, *.cdx.json: CycloneDX 1.5)");
  slim->add_option("--sbom-format", cmd.slim.sbom_format, "spdx | cyclonedx (default: from the --sbom FILE name)")
      ->check(CLI::IsMember({"spdx", "cyclonedx"}));
  slim->add_flag("--sbom-attach", cmd.slim.sbom_attach,
                 "also attach the SBOM to the new image as an OCI 1.1 referrer (oci:, oci-archive:, docker://)");
  slim->add_flag("--diff", cmd.slim_diff,
                 "after writing, print what changed from SRC to DST as `slimage diff SRC DST` does "
                 "(and put it in --report as \"diff\"); reads both images again");
  auto* slim_test = add_test_options(slim, cmd.slim);
  // Checked while parsing: a bad size is a usage error before anything is read.
  slim->add_option_function<std::string>(
          "--scratch-budget", [&cmd](const std::string& v) { cmd.slim.scratch_budget = parse_gate_bytes(v); },
          "low-disk mode: spill only what the analysis reads, refill each rewritten layer's kept content "
          "as it is written; automatic when scratch is short. SIZE (as 20MB, 1.5GiB) is a limit on scratch "
          "bytes in use: refused after the plan if the decoded layers plus the largest layer's refill exceed "
          "it, stopped (nothing written) if a write would; 0 = no limit, as little as possible")
      ->check(parses_with([](const std::string& v) { parse_gate_bytes(v); }))
      ->excludes(slim_test);
  slim->add_flag("--force", cmd.slim.force, "write even if the slimmed closure has missing libraries");
  slim->add_flag("--remove-signatures", cmd.slim.remove_signatures,
                 "slim a signed or attested input: its signatures and attestations are not carried over");
  slim->add_flag("--check", cmd.slim.gate.check,
                 "the CI gate (as `check`) on the output before anything is written: exit 5, nothing written, "
                 "if a rule fails");
  GateFlags gate_flags;
  gate_flags.add(slim, cmd.slim.gate);

  auto* batch = app.add_subcommand(
      "batch",
      "slim many images: LIST holds one `SRC DST` per line ('-': stdin), or every tag of "
      "--from goes to the same tag of --to; shared layers are decoded and rewritten once");
  auto* list = batch->add_option("LIST", cmd.batch.list, "file of `SRC DST` lines, '#' comments; - for stdin");
  auto* from = batch->add_option("--from", cmd.batch.from, "docker://HOST/REPO to take tags from (with --all-tags)");
  auto* to = batch->add_option("--to", cmd.batch.to, "docker://HOST/REPO to write each tag to")
                 ->check(output_ref);
  auto* all_tags = batch->add_flag("--all-tags", cmd.batch.all_tags, "every tag of --from (GET /v2/<repo>/tags/list)");
  all_tags->needs(from)->needs(to)->excludes(list);
  from->needs(all_tags);
  to->needs(all_tags);
  batch->add_option("--shard", cmd.batch.shard,
                    "I/N: only the jobs whose position in the list (from 0) is I mod N; "
                    "N workers with I = 0..N-1 cover the list exactly once");
  batch->add_option("--parallel", cmd.batch.parallel, "images slimmed at once (default 2)");
  batch->add_option("--report", cmd.batch.report, "write every image's outcome and report as JSON to FILE");
  batch->add_option("--cache", cmd.batch.cache_dir,
                    "rewritten-layer cache dir (default $XDG_CACHE_HOME/slimage/layers or ~/.cache/slimage/layers)");
  batch->add_flag("--no-cache", cmd.batch.no_cache, "no rewritten-layer cache on disk");
  batch->add_option("--sbom", cmd.batch.sbom_dir,
                    "write each image's SBOM into DIR, named after its destination (DIR/oci__out_a_1.spdx.json)");
  batch->add_option("--sbom-format", cmd.slim.sbom_format, "spdx (default) | cyclonedx")
      ->check(CLI::IsMember({"spdx", "cyclonedx"}));
  batch->add_flag("--sbom-attach", cmd.slim.sbom_attach, "also attach each SBOM to its image as an OCI 1.1 referrer");
  add_plan_settings(batch, cmd.slim.plan);
  add_common(batch, cmd.common, false);
  sides.add_both(batch);
  batch->add_option("--layers", cmd.slim.layers, "keep | squash")->check(CLI::IsMember({"keep", "squash"}));
  batch->add_option("--compression", cmd.slim.compression, "gzip | zstd | none")
      ->check(CLI::IsMember({"gzip", "zstd", "none"}));
  batch->add_option("--level", cmd.slim.level, "compression level: gzip 1-12 (default 5), zstd 1-19 (default 3)");
  auto* batch_test = add_test_options(batch, cmd.slim);
  batch->add_flag("--force", cmd.slim.force, "write even if the slimmed closure has missing libraries");
  batch->add_flag("--remove-signatures", cmd.slim.remove_signatures,
                  "slim signed or attested inputs: their signatures and attestations are not carried over");
  batch->add_option("--html", cmd.batch.html_dir,
                    "write each image's report as one self-contained HTML page into DIR (named as --sbom's)");
  batch->add_flag("--check", cmd.slim.gate.check,
                  "the CI gate (as `check`) on each output before it is written: a failing image is "
                  "'gate-failed', nothing of it written");
  gate_flags.add(batch, cmd.slim.gate);

  auto* inspect = app.add_subcommand("inspect", "layers, sizes, wasted bytes, largest directories");
  inspect->add_option("SRC", cmd.source)->required();
  add_common(inspect, cmd.common, true);

  auto* check = app.add_subcommand("check", "CI gate: dive's rules (.dive-ci) on an image; exit 5 if one fails");
  check->add_option("SRC", cmd.source)->required();
  gate_flags.add(check, cmd.slim.gate);
  add_common(check, cmd.common, true);

  auto* plan = app.add_subcommand("plan", "dry run: every action with its reason and bytes");
  plan->add_option("SRC", cmd.source)->required();
  add_plan_settings(plan, cmd.slim.plan);
  add_common(plan, cmd.common, true);

  auto* why = app.add_subcommand("why", "why PATH is kept (chains from a root) or dropped");
  why->add_option("SRC", cmd.source)->required();
  why->add_option("PATH", cmd.path)->required();
  add_plan_settings(why, cmd.slim.plan);
  add_common(why, cmd.common, true);

  auto* verify = app.add_subcommand("verify", "check every needed library of every ELF resolves");
  verify->add_option("SRC", cmd.source)->required();
  add_common(verify, cmd.common, true);

  auto* diff = app.add_subcommand("diff", "files added, removed and changed from image A to image B");
  diff->add_option("A", cmd.source, "the image before")->required();
  diff->add_option("B", cmd.other, "the image after")->required();
  add_common(diff, cmd.common, true);

  auto* report = app.add_subcommand("report", "read a --report JSON back: its summary, --json, or --html FILE");
  report->add_option("REPORT", cmd.source, "a report JSON written by slim --report")->required();
  report->add_option("--html", cmd.slim.html, "write the report as one self-contained HTML page to FILE");
  report->add_flag("--json", cmd.common.json, "print the report JSON");

  auto* profiles = app.add_subcommand("profiles", "list built-in profiles; `profiles show NAME`");
  profiles->add_flag("--json", cmd.common.json, "machine-readable output");
  auto* show = profiles->add_subcommand("show", "print a resolved profile (JSON)");
  show->add_option("NAME", cmd.profile_to_show)->required();

  std::string shell;
  auto* completion = app.add_subcommand("completion", "print a shell completion script: bash | zsh | fish");
  completion->add_option("SHELL", shell, "bash | zsh | fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  auto* man = app.add_subcommand("man", "print the man page (roff)")->group("");

  std::vector<std::string> commands;
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) commands.push_back(sub->get_name());
  if (argc > 1 && argv[1][0] != '-') {
    if (std::string unknown = unknown_command_message(argv[1], commands); !unknown.empty()) {
      std::fprintf(stderr, "slimage: error: %s\n", unknown.c_str());
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
    // Each codec has its own level range, so --level is checked once --compression is known.
    const Compression c = cmd.slim.compression.empty() ? Compression::Gzip
                                                       : parse_compression(cmd.slim.compression);
    if (std::string why = check_compression_level(c, cmd.slim.level); !why.empty())
      throw CLI::ValidationError("--level", why);
  } catch (const CLI::ExtrasError& e) {
    std::string message = unexpected_option_message(app);
    if (message.empty()) return app.exit(e) == 0 ? 0 : kExitUsage;
    std::fprintf(stderr, "slimage: error: %s\n", message.c_str());
    return kExitUsage;
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  // scratch_parent() reads it: every stage and subcommand then uses DIR.
  if (!cmd.common.scratch.empty()) ::setenv("SLIMAGE_TMPDIR", cmd.common.scratch.c_str(), 1);
  if (completion->parsed()) return std::fputs(completion_script(app, shell).c_str(), stdout), kExitOk;
  if (man->parsed()) return std::fputs(man_page(app, std::string("slimage ") + SLIMAGE_VERSION).c_str(), stdout), kExitOk;
  sides.apply(cmd.common);
  gate_flags.apply(cmd.slim.gate);
  TransportOptions shared = cmd.common.transport;
  cmd.common.transport = for_side(shared, cmd.common.source_flags);
  cmd.common.destination_transport = for_side(shared, cmd.common.destination_flags);
  cmd.slim.test = slim_test->count() > 0 || batch_test->count() > 0;
  for (auto* sub : {slim, batch, inspect, check, plan, why, verify, diff, report, profiles})
    if (sub->parsed()) cmd.name = sub->get_name();
  return run(cmd);
}

}  // namespace slimage
