// `slimage batch`: the job list (a LIST file of `SRC DST` lines, or every tag
// of a registry repository), the shard a worker takes, and the runner.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "slimage/cli/options.h"

namespace slimage {

struct BatchJob {
  std::string source, destination;
  size_t line = 0;  // in the LIST file (0 for --all-tags)
};

// One `SRC DST` per line; blank lines and lines starting with '#' (after
// spaces) are skipped; a trailing " # …" is a comment too. Fields are
// separated by spaces or tabs. Throws Error("<name>:<line>: …").
std::vector<BatchJob> parse_batch_list(std::string_view text, const std::string& name);

// --shard I/N: 0 <= I < N. Throws Error("--shard …: …").
struct Shard {
  size_t index = 0, count = 1;
};
Shard parse_shard(std::string_view text);
// The jobs whose position in the list (from 0) is I modulo N, in list order:
// the N shards together cover the list exactly once, whatever its length.
std::vector<BatchJob> select_shard(const std::vector<BatchJob>& jobs, Shard shard);

// --from docker://HOST/REPO --to docker://HOST/REPO2 --all-tags: tag T becomes
// HOST/REPO:T -> HOST/REPO2:T. Both must be docker:// repositories without a
// tag or digest. Throws Error on anything else.
// `batch --sbom DIR`, `--html DIR`: the file an image's output goes to,
// DIR/NAME + suffix (".spdx.json", ".cdx.json", ".html"), NAME the destination
// with every character outside [A-Za-z0-9._-] made '_' ("oci:/out/a:1" ->
// "oci__out_a_1"). The check throws if two jobs would write the same file.
std::string batch_output_file(const std::string& dir, const std::string& destination, std::string_view suffix);
void check_batch_output_files(const std::string& dir, const std::vector<BatchJob>& jobs, std::string_view suffix,
                              std::string_view flag);
std::string batch_sbom_file(const std::string& dir, const std::string& destination, bool cyclonedx);
void check_batch_sbom_files(const std::string& dir, const std::vector<BatchJob>& jobs, bool cyclonedx);

std::vector<BatchJob> jobs_for_tags(const std::string& from, const std::string& to,
                                    const std::vector<std::string>& tags);

// Runs the command; returns 0 if every image succeeded, else 1.
int run_batch(const Command& command);

}  // namespace slimage
